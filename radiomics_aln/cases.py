"""Cases and the one route from a case to its ROIs.

A :class:`Case` names one patient's images and masks (a manifest row, see
:mod:`radiomics_aln.manifest`). :func:`load_case_rois` turns it into images and ROI masks
(:class:`CaseROIs`): tumour, peritumoral ring, tumour + ring and lymph node, for the main reader
and the repeat segmentations. Feature extraction (:func:`radiomics_aln.extraction.extract_features`)
builds its ROIs through the same three steps, so a ROI seen here is the ROI measured there:

1. :func:`case_images` -- the images of a case (a :class:`Case` or a mapping with the same
   fields; paths or in-memory images) with the masks drawn on each, by reader, and the case's
   mask options;
2. :func:`open_image` -- read one image with its spacing and field of view, spacing checked;
3. :func:`image_rois` -- every requested ROI on that image, for every reader: masks
   (:func:`radiomics_aln.masks.load_mask_with_components`) and rings
   (:func:`radiomics_aln.ring.ring_rois`). A ROI that cannot be built holds its exception, so
   a batch can report it and go on; :func:`load_case_rois` raises the first one, naming the
   case.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import SimpleITK as sitk

from radiomics_aln._validation import (
    SPACING_RANGE_MM,
    check_ring_width,
    check_spacing_limits,
    format_items,
)
from radiomics_aln.exceptions import CoverageWarning, InputError
from radiomics_aln.features import (
    IMAGES,
    RING_ROIS,
    ROI_NAMES,
    TUMOR_IMAGE_ROIS,
    image_of,
    ring_geometry,
)
from radiomics_aln.images import (
    LoadedImage,
    check_spacing_range,
    load_image_with_fov,
    parse_spacing,
    require_spacing,
)
from radiomics_aln.masks import check_mask_options, load_mask_with_components
from radiomics_aln.ring import RingCoverage, peritumoral_shell, ring_rois

__all__ = [
    "READERS",
    "REPEAT_READERS",
    "Case",
    "CaseImage",
    "CaseROIs",
    "ImageROIs",
    "case_images",
    "image_rois",
    "load_case_rois",
    "open_image",
]

#: Names of the repeat segmentations: a second reader and the first reader again.
REPEAT_READERS = ("reader2", "repeat")
#: Every reader name: the main segmentation (``reader1``) and the repeat segmentations.
READERS = ("reader1", *REPEAT_READERS)

# Cell texts that mean "missing": pandas' default NA markers, which read_manifest applies too.
_MISSING_TEXT = {"", "nan", "-nan", "na", "n/a", "#n/a", "null", "none", "<na>"}


def _as_paths(value: Any) -> tuple[Path, ...]:
    """None, a path, a ';'-joined string or an iterable of those -> tuple of Path."""
    if value is None:
        return ()
    if isinstance(value, Path):
        return (value,)
    if isinstance(value, str):
        return tuple(Path(p.strip()) for p in value.split(";") if p.strip())
    out: list[Path] = []
    for item in value:
        out.extend(_as_paths(item))
    return tuple(out)


def is_missing(value: Any) -> bool:
    """A field not given: None, NaN, ``pd.NA``, blank text or an empty sequence."""
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float | np.floating) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return isinstance(value, tuple | list) and len(value) == 0


def _missing_spacing(value: Any) -> bool:
    """A spacing not given: as :func:`is_missing`, or a missing-value text such as "N/A"."""
    return is_missing(value) or (isinstance(value, str) and value.strip().lower() in _MISSING_TEXT)


@dataclass(frozen=True)
class Case:
    """One patient: tumour image and mask(s), optional lymph node, repeats and clinical data.

    Parameters
    ----------
    case_id : str
        Unique identifier.
    tumor_image : Path
        Tumour image file.
    tumor_mask : tuple of Path
        Tumour mask file(s) of the main reader (several files are combined by
        :func:`radiomics_aln.masks.load_mask`). A single path or a ``;``-joined string is
        accepted and converted.
    ln_image : Path or None
        Axillary lymph-node image (a separate image), if any.
    ln_mask : tuple of Path
        Lymph-node mask file(s); empty without LN image.
    repeat_masks : dict
        Repeat segmentations, ``{reader: {"tumor" | "ln": tuple of Path}}`` with reader
        ``"reader2"`` (second reader, inter-observer) or ``"repeat"`` (the first reader again,
        intra-observer). Only the segmentations that exist are present.
    spacing : tuple of float or None
        mm per pixel of the tumour image, ``(x, y)`` = ``(columns, rows)``, for files without
        spacing (PNG/JPEG); None uses the file's own. A number, a sequence or text such as
        ``"0.1,0.2"``; None, NaN and missing-value text (``"nan"``, ``"N/A"``, ``""``) mean no
        spacing (mm operations on a PNG/JPEG then raise SpacingError); anything else that is not
        positive and finite raises :class:`~radiomics_aln.exceptions.InputError`.
    ln_spacing : tuple of float or None
        The same for the LN image.
    outcome : int or None
        0/1 endpoint (e.g. ALN metastasis), None when the manifest has no outcome column.
    cohort : str or None
        Cohort name, e.g. ``"train"``, ``"internal"``, ``"external"``, ``"prospective"``.
    clinical : dict
        Clinical variables by column name (missing values are NaN).
    mask_combine : {"union", "largest"} or None
        How this case's masks with several connected components are combined (see
        :func:`radiomics_aln.masks.load_mask`); None: the batch setting.
    min_area_mm2 : float or None
        Mask components smaller than this (mm²) are dropped; None: the batch setting.

    Examples
    --------
    >>> case = Case("001", "img/001.png", "img/001_mask.png;img/001_mask2.png", outcome=1)
    >>> case.tumor_mask
    (PosixPath('img/001_mask.png'), PosixPath('img/001_mask2.png'))
    >>> case.masks("tumor"), case.has_ln
    ((PosixPath('img/001_mask.png'), PosixPath('img/001_mask2.png')), False)
    """

    case_id: str
    tumor_image: Path
    tumor_mask: tuple[Path, ...]
    ln_image: Path | None = None
    ln_mask: tuple[Path, ...] = ()
    repeat_masks: dict[str, dict[str, tuple[Path, ...]]] = field(default_factory=dict, hash=False)
    spacing: tuple[float, ...] | None = None
    ln_spacing: tuple[float, ...] | None = None
    outcome: int | None = None
    cohort: str | None = None
    clinical: dict[str, Any] = field(default_factory=dict, hash=False)
    mask_combine: str | None = None
    min_area_mm2: float | None = None

    def __post_init__(self) -> None:
        # Normalise convenient inputs (str paths, ';'-joined masks, scalar spacing).
        set_ = object.__setattr__
        set_(self, "case_id", str(self.case_id))
        set_(self, "tumor_image", Path(self.tumor_image))
        set_(self, "tumor_mask", _as_paths(self.tumor_mask))
        set_(self, "ln_image", None if self.ln_image is None else Path(self.ln_image))
        set_(self, "ln_mask", _as_paths(self.ln_mask))
        repeats = {}
        for reader, rois in (self.repeat_masks or {}).items():
            if reader not in REPEAT_READERS:
                raise InputError(
                    f"case {self.case_id}: unknown reader {reader!r} in repeat_masks; "
                    f"use {format_items(REPEAT_READERS)}"
                )
            entry = {roi: _as_paths(p) for roi, p in rois.items() if _as_paths(p)}
            bad = set(entry) - set(IMAGES)
            if bad:
                raise InputError(
                    f"case {self.case_id}: unknown ROI {format_items(sorted(bad))} in "
                    f"repeat_masks[{reader!r}]; use 'tumor' or 'ln'"
                )
            if entry:
                repeats[reader] = entry
        set_(self, "repeat_masks", repeats)
        for name in ("spacing", "ln_spacing"):
            value = getattr(self, name)
            try:
                set_(
                    self,
                    name,
                    None if _missing_spacing(value) else parse_spacing(value, pixel=False),
                )
            except InputError:
                raise InputError(
                    f"case {self.case_id}: {name}={value!r} is not mm per pixel; give one "
                    "positive number such as 0.078, or (x, y) = (columns, rows) such as "
                    "(0.1, 0.2), or None when the image file has its own spacing"
                ) from None
        set_(self, "clinical", dict(self.clinical or {}))
        if not self.tumor_mask:
            raise InputError(f"case {self.case_id}: no tumour mask given")
        if (self.ln_image is None) != (not self.ln_mask):
            raise InputError(
                f"case {self.case_id}: a lymph-node image needs a lymph-node mask and vice versa"
            )
        if self.mask_combine is not None or self.min_area_mm2 is not None:
            check_mask_options(
                "union" if self.mask_combine is None else self.mask_combine,
                self.min_area_mm2,
                where=f"case {self.case_id}: ",
            )

    @property
    def has_ln(self) -> bool:
        """Whether the case has a lymph-node image and mask."""
        return self.ln_image is not None

    def masks(self, roi: str = "tumor", reader: str = "reader1") -> tuple[Path, ...]:
        """Mask files of ``roi`` (``"tumor"`` or ``"ln"``) by ``reader``.

        ``reader`` is ``"reader1"`` (the main segmentation), ``"reader2"`` or ``"repeat"``;
        returns an empty tuple when that segmentation does not exist.
        """
        if roi not in IMAGES:
            raise InputError(f"roi={roi!r}; use 'tumor' or 'ln'")
        if reader == "reader1":
            return self.tumor_mask if roi == "tumor" else self.ln_mask
        if reader not in REPEAT_READERS:
            raise InputError(f"reader={reader!r}; use 'reader1', 'reader2' or 'repeat'")
        return self.repeat_masks.get(reader, {}).get(roi, ())

    def image(self, roi: str = "tumor") -> Path | None:
        """Image file of ``roi``: the tumour image for ``"tumor"``, the LN image for ``"ln"``."""
        if roi not in IMAGES:
            raise InputError(f"roi={roi!r}; use 'tumor' or 'ln'")
        return self.tumor_image if roi == "tumor" else self.ln_image

    def image_spacing(self, roi: str = "tumor") -> tuple[float, ...] | None:
        """Manifest spacing for the image of ``roi`` (the LN one falls back to ``spacing``)."""
        if roi == "ln":
            return self.ln_spacing if self.ln_spacing is not None else self.spacing
        return self.spacing


# --------------------------------------------------------------------------------------------
# the route: case -> images -> ROIs
# --------------------------------------------------------------------------------------------


def _field(case: Any, name: str, default: Any = None) -> Any:
    if isinstance(case, Mapping):
        return case.get(name, default)
    return getattr(case, name, default)


def case_id_of(case: Any) -> str | None:
    """The ``case_id`` of a :class:`Case` or mapping as text, None when it is missing."""
    value = _field(case, "case_id")
    return None if is_missing(value) else str(value)


@dataclass
class CaseImage:
    """One image of a case with the masks drawn on it, as given (paths or in-memory images).

    Attributes
    ----------
    case_id : str
        The case.
    kind : str
        ``"tumor"`` or ``"ln"`` (see :data:`radiomics_aln.features.IMAGES`).
    image : Path, SimpleITK.Image or None
        The image (an absolute path); None when the case has none.
    spacing : tuple of float, "pixel" or None
        The spacing given for it (the LN image falls back to the tumour image's).
    masks : dict
        ``{reader: tuple of Path | SimpleITK.Image}`` for the readers that drew a mask.
    rois : tuple of str
        The requested ROIs that lie on this image.
    mask_combine, min_area_mm2
        The case's mask options (its own values win over the batch setting).
    outcome : object
        The case's outcome if it has one (used to flag duplicated images with conflicting
        outcomes), else None.
    """

    case_id: str
    kind: str
    image: Any
    spacing: Any
    masks: dict[str, Any]
    rois: tuple[str, ...]
    mask_combine: str = "union"
    min_area_mm2: float | None = None
    outcome: Any = None


def _file(value: Any) -> Path:
    """An absolute path: extraction workers may run in another working directory (a reused
    worker process keeps the folder it was started in), where a relative path names another
    file -- or, worse, the same name of another cohort."""
    return Path(value).expanduser().absolute()


def _mask_source(value: Any) -> Any:
    if isinstance(value, sitk.Image):
        return value
    if isinstance(value, str | os.PathLike):
        return tuple(_file(p.strip()) for p in os.fspath(value).split(";") if p.strip())
    return tuple(_file(p) for p in value)


def _case_masks(case: Any, kind: str, readers: Sequence[str]) -> dict[str, Any]:
    masks: dict[str, Any] = {}
    main = _field(case, f"{kind}_mask")
    if not is_missing(main):
        masks["reader1"] = _mask_source(main)
    repeat = _field(case, "repeat_masks") or {}
    for reader in readers:
        if reader != "reader1":
            value = (repeat.get(reader) or {}).get(kind)
            if not is_missing(value):
                masks[reader] = _mask_source(value)
    return masks


def case_images(
    case: Any,
    *,
    rois: Sequence[str] = ROI_NAMES,
    readers: Sequence[str] = READERS,
    mask_combine: Literal["union", "largest"] = "union",
    min_area_mm2: float | None = None,
) -> list[CaseImage]:
    """The images of a case that carry a requested ROI, each with its masks by reader.

    Parameters
    ----------
    case : Case or mapping
        A :class:`Case` or a mapping with its fields (``case_id``, ``tumor_image``,
        ``tumor_mask``, optional ``ln_image``, ``ln_mask``, ``spacing``, ``ln_spacing``,
        ``repeat_masks``, ``mask_combine``, ``min_area_mm2``, ``outcome``). Images and masks
        are paths (masks: one path, a ``;``-joined string or a sequence of paths) or
        in-memory ``SimpleITK.Image`` objects.
    rois : sequence of str
        Requested ROIs (:data:`radiomics_aln.features.ROI_NAMES`).
    readers : sequence of str
        Readers whose masks are wanted (:data:`READERS`).
    mask_combine, min_area_mm2
        Batch mask options; a case's own ``mask_combine`` / ``min_area_mm2`` win.

    Returns
    -------
    list of CaseImage
        The tumour image (when a tumour-image ROI is requested), then the LN image (when
        ``"ln"`` is); an image or mask that is not given is None / absent.

    Raises
    ------
    InputError
        A missing ``case_id`` or a bad mask option of the case (naming it).

    Examples
    --------
    >>> [
    ...     (c.kind, c.rois, list(c.masks))
    ...     for c in case_images(
    ...         Case("7", "t.png", "t_mask.png", ln_image="n.png", ln_mask="n_mask.png"),
    ...         rois=("tumor", "ln"),
    ...     )
    ... ]
    [('tumor', ('tumor',), ['reader1']), ('ln', ('ln',), ['reader1'])]
    """
    case_id = case_id_of(case)
    if case_id is None:
        raise InputError("a case has no case_id")
    own_combine, own_area = _field(case, "mask_combine"), _field(case, "min_area_mm2")
    combine = mask_combine if is_missing(own_combine) else own_combine
    min_area_mm2 = min_area_mm2 if is_missing(own_area) else own_area
    check_mask_options(combine, min_area_mm2, where=f"case {case_id!r}: ")
    outcome = _field(case, "outcome")
    out = []
    for kind in IMAGES:
        on_image = tuple(r for r in rois if image_of(r) == kind)
        if not on_image:
            continue
        image = _field(case, f"{kind}_image")
        spacing = _field(case, "spacing" if kind == "tumor" else "ln_spacing")
        if kind == "ln" and _missing_spacing(spacing):
            spacing = _field(case, "spacing")
        if not is_missing(image) and not isinstance(image, sitk.Image):
            image = _file(image)
        out.append(
            CaseImage(
                case_id,
                kind,
                None if is_missing(image) else image,
                None if _missing_spacing(spacing) else spacing,
                _case_masks(case, kind, readers),
                on_image,
                combine,
                None if min_area_mm2 is None else float(min_area_mm2),
                None if is_missing(outcome) else outcome,
            )
        )
    return out


def open_image(
    source: str | os.PathLike | sitk.Image,
    *,
    spacing: Any = None,
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM,
    what: str | None = None,
) -> LoadedImage:
    """Read one image of a case with its field of view and check its spacing's plausibility.

    Parameters
    ----------
    source : path or SimpleITK.Image
        A file (read by :func:`radiomics_aln.images.load_image_with_fov`) or an in-memory
        image (used as it is, without field of view).
    spacing : optional
        The spacing given for the image (:func:`radiomics_aln.images.parse_spacing`).
    spacing_range : (float, float) or None
        See :func:`radiomics_aln.images.check_spacing_range`.
    what : str, optional
        How to name the image in a spacing message (default: its file).

    Returns
    -------
    LoadedImage
        ``(image, fov)``.
    """
    if isinstance(source, sitk.Image):
        loaded = LoadedImage(source, None)
    else:
        loaded = load_image_with_fov(source, spacing=spacing)
    check_spacing_range(loaded.image, spacing_range, what=what)
    return loaded


@dataclass
class ImageROIs:
    """The ROIs on one image, reader by reader, from :func:`image_rois`.

    Attributes
    ----------
    image : SimpleITK.Image
        The image.
    fov : SimpleITK.Image or None
        Its field of view.
    masks : dict
        ``{reader: {roi: mask or exception}}``: uint8 masks, or the exception that prevented
        the ROI (a mask that cannot be read fails every ROI of its reader; a ring that cannot
        be built fails the ring ROIs only).
    components : dict
        ``{reader: (components drawn, components used)}`` of each mask that was read.
    coverage : dict
        ``{reader: RingCoverage}`` of each ring of ``width_mm`` that was built.
    named_coverage : dict
        ``{reader: {roi: RingCoverage}}`` of each ring or shell named with its width
        (``peritumoral_2mm``, ``shell_2_5mm``) that was built.
    """

    image: sitk.Image
    fov: sitk.Image | None
    masks: dict[str, dict[str, Any]] = field(default_factory=dict)
    components: dict[str, tuple[int, int]] = field(default_factory=dict)
    coverage: dict[str, RingCoverage] = field(default_factory=dict)
    named_coverage: dict[str, dict[str, RingCoverage]] = field(default_factory=dict)

    def coverage_of(self, reader: str, roi: str) -> RingCoverage | None:
        """The coverage of ``roi``'s ring or shell for ``reader``; None for other ROIs."""
        if roi in RING_ROIS:
            return self.coverage.get(reader)
        return self.named_coverage.get(reader, {}).get(roi)


def image_rois(
    image: LoadedImage,
    masks: Mapping[str, Any],
    *,
    rois: Sequence[str],
    width_mm: float = 5.0,
    ring_within: Literal["fov"] | None = "fov",
    label: int | Sequence[int] | None = None,
    combine: Literal["union", "largest"] = "union",
    min_area_mm2: float | None = None,
    check_geometry: Literal["strict", "size"] = "strict",
    case_id: str = "",
) -> ImageROIs:
    """Every requested ROI on one image for every reader; failures are kept, not raised.

    Parameters
    ----------
    image : LoadedImage
        From :func:`open_image`.
    masks : mapping
        ``{reader: mask source}`` (paths or an in-memory image) drawn on this image.
    rois : sequence of str
        ROIs wanted on this image: ``"ln"``, or some of ``"tumor"``, ``"peritumoral"``,
        ``"tumor_peritumoral"`` and rings or shells named with their width
        (``"peritumoral_2mm"``, ``"shell_2_5mm"``; the ring ROIs are built around the tumour
        mask).
    width_mm, ring_within
        Ring width and whether the ring is clipped to the field of view (``"fov"``) or not.
    label, combine, min_area_mm2, check_geometry
        As in :func:`radiomics_aln.masks.load_mask`.
    case_id : str
        Put in front of re-issued warnings (a ring narrower than a pixel).

    Returns
    -------
    ImageROIs
        Ring coverage warnings are left to the caller (``coverage`` holds every ring's); a
        ring with no pixel left after clipping is a failure of the ring ROIs.
    """
    out = ImageROIs(image.image, image.fov)
    within = image.fov if ring_within == "fov" else None
    ring_problem = None
    named = {r: g for r in rois if (g := ring_geometry(r)) is not None}
    if named or any(r in RING_ROIS for r in rois):
        try:  # the ring is in mm: name the image whose spacing is missing, not its mask
            require_spacing(image.image, f"the {width_mm:g} mm ring width")
        except InputError as exc:
            ring_problem = exc
    for reader, source in masks.items():
        got = out.masks.setdefault(reader, {})
        try:
            loaded = load_mask_with_components(
                source, image.image, label=label, combine=combine, min_area_mm2=min_area_mm2,
                check_geometry=check_geometry,
            )  # fmt: skip
        except Exception as exc:  # every ROI of this reader fails with it
            got.update(dict.fromkeys(rois, exc))
            continue
        out.components[reader] = (loaded.n_components, loaded.n_components_used)
        got.update({r: loaded.mask for r in rois if r not in RING_ROIS and r not in named})
        for roi, (inner, outer) in named.items():
            shell = ring_problem or _shell(loaded.mask, inner, outer, within, case_id)
            if not isinstance(shell, Exception):
                out.named_coverage.setdefault(reader, {})[roi] = shell.coverage
            got[roi] = shell if isinstance(shell, Exception) else shell.mask
        if any(r in RING_ROIS for r in rois):
            ring = ring_problem or _ring_rois(loaded.mask, width_mm, within, case_id)
            if isinstance(ring, Exception):
                got.update({r: ring for r in rois if r in RING_ROIS})
                continue
            out.coverage[reader] = ring.coverage
            made = {"peritumoral": ring.ring, "tumor_peritumoral": ring.region}
            got.update({r: made[r] for r in rois if r in made})
    return out


def _shell(mask: sitk.Image, inner: float, outer: float, within: Any, case_id: str) -> Any:
    """A ring or shell named with its width around one tumour mask, or why it cannot be."""
    return _ring_rois(mask, outer, within, case_id, inner)


def _ring_rois(
    mask: sitk.Image, width_mm: float, within: Any, case_id: str, inner: float | None = None
) -> Any:
    """The ring ROIs of one tumour mask (a shell beyond ``inner`` when given), or the
    exception that prevents them."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if inner is None:
                ring = ring_rois(mask, width_mm=width_mm, within=within, min_coverage=None)
            else:
                ring = peritumoral_shell(
                    mask, inner_mm=inner, outer_mm=width_mm, within=within, min_coverage=None
                )
        for w in caught:  # re-issue (a ring narrower than a pixel) with the case id
            prefix = f"case {case_id}: " if case_id else ""
            warnings.warn(f"{prefix}{w.message}", w.category, stacklevel=4)
    except Exception as exc:
        return exc
    if ring.coverage.n_pixels == 0:
        what = "ring" if not inner else f"shell from {inner:g}"
        return InputError(
            f"the {width_mm:g} mm peritumoral {what} has zero pixels (clipped by the image "
            "edge or field of view)"
        )
    return ring


# --------------------------------------------------------------------------------------------
# one case: every ROI of a manifest row
# --------------------------------------------------------------------------------------------


@dataclass
class CaseROIs:
    """Images and ROI masks of one case, ready for feature extraction.

    Attributes
    ----------
    case_id : str
        The case.
    images : dict
        ``{"tumor": image}`` plus ``"ln"`` when the case has a lymph-node image.
    masks : dict
        uint8 masks by ROI name: ``"tumor"``, ``"peritumoral"``, ``"tumor_peritumoral"`` on the
        tumour image and ``"ln"`` on the LN image.
    fov : dict
        Field-of-view mask (or None) of each image, by ``"tumor"`` / ``"ln"``.
    coverage : RingCoverage
        Coverage of the main reader's peritumoral ring.
    repeats : dict
        ``{reader: {roi: mask}}`` for the repeat segmentations (``"reader2"``, ``"repeat"``),
        with rings built from the repeated tumour masks.
    """

    case_id: str
    images: dict[str, sitk.Image]
    masks: dict[str, sitk.Image]
    fov: dict[str, sitk.Image | None]
    coverage: RingCoverage
    repeats: dict[str, dict[str, sitk.Image]]

    def image_for(self, roi: str) -> sitk.Image:
        """The image a ROI lies on: the LN image for ``"ln"``, else the tumour image."""
        kind = image_of(roi)
        if kind not in self.images:
            raise InputError(f"case {self.case_id} has no lymph-node image")
        return self.images[kind]


def _with_case(case_id: str, what: str, exc: Exception) -> Exception:
    """The same error type with the case and ROI in front of the message."""
    if not isinstance(exc, InputError):
        return exc
    return type(exc)(f"case {case_id}, {what}: {exc}")


def load_case_rois(
    case: Any,
    *,
    width_mm: float = 5.0,
    ring_within: Literal["fov"] | None = "fov",
    min_coverage: float | None = 0.5,
    label: int | Sequence[int] | None = None,
    mask_combine: Literal["union", "largest"] = "union",
    min_area_mm2: float | None = None,
    check_geometry: Literal["strict", "size"] = "strict",
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM,
) -> CaseROIs:
    """Load every ROI of one :class:`Case`.

    The same route as feature extraction: :func:`case_images`, :func:`open_image`,
    :func:`image_rois`; here the first problem is raised.

    Parameters
    ----------
    case : Case or mapping
        A manifest row (from :func:`radiomics_aln.manifest.read_manifest`), or a mapping with
        its fields. Its ``spacing`` and ``ln_spacing`` are passed to
        :func:`radiomics_aln.images.load_image`.
    width_mm : float, default 5.0
        Peritumoral ring width, in (0, :data:`radiomics_aln.ring.MAX_RING_MM`].
    ring_within : {"fov"} or None, default "fov"
        Clip the ring to the image's field of view (alpha channel) when it has one; None never
        clips to it (the image edge always clips).
    min_coverage : float or None, default 0.5
        Warn (:class:`CoverageWarning`) when a ring keeps less than this share of its
        unclipped area; None never warns.
    label, check_geometry
        As in :func:`radiomics_aln.masks.load_mask`, for every mask of the case.
    mask_combine, min_area_mm2 : optional
        ``combine`` and ``min_area_mm2`` of :func:`radiomics_aln.masks.load_mask`, for cases
        without their own ``mask_combine`` / ``min_area_mm2`` (manifest columns); a case's
        own value wins.
    spacing_range : (float, float) or None, default :data:`SPACING_RANGE_MM`
        Plausible mm per pixel of every image of the case (see
        :func:`radiomics_aln.images.check_spacing_range`); None disables the check.

    Returns
    -------
    CaseROIs

    Raises
    ------
    InputError, GeometryError, SpacingError
        As the functions above, with ``case <id>, <roi>:`` in front of the message; a
        :class:`SpacingError` naming the tumour image when its spacing is unknown (the ring is
        in mm) or any image's spacing is outside ``spacing_range``; an :class:`InputError`
        for a ``width_mm`` outside (0, :data:`radiomics_aln.ring.MAX_RING_MM`] or a ring left
        with no pixel after clipping.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from PIL import Image
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.fromarray(np.full((200, 200), 90, np.uint8)).save(folder / "t.png")
    >>> lesion = np.zeros((200, 200), np.uint8)
    >>> lesion[80:120, 70:130] = 255
    >>> Image.fromarray(lesion).save(folder / "t_mask.png")
    >>> rois = load_case_rois(Case("p1", folder / "t.png", folder / "t_mask.png", spacing=0.1))
    >>> sorted(rois.masks), round(rois.coverage.coverage, 2)
    (['peritumoral', 'tumor', 'tumor_peritumoral'], 1.0)
    """
    if ring_within not in ("fov", None):
        raise InputError(f"ring_within={ring_within!r}; use 'fov' or None")
    cid = case_id_of(case)
    try:
        width_mm = check_ring_width(width_mm)
        check_spacing_limits(spacing_range)
    except InputError as exc:
        raise _with_case(cid, "peritumoral ring", exc) from exc
    images = case_images(case, mask_combine=mask_combine, min_area_mm2=min_area_mm2)
    built: dict[str, ImageROIs] = {}
    for img in images:
        if img.image is None:
            continue
        what = f"{img.kind} image/mask"
        try:
            loaded = open_image(img.image, spacing=img.spacing, spacing_range=spacing_range)
        except InputError as exc:
            raise _with_case(cid, what, exc) from exc
        built[img.kind] = image_rois(
            loaded, img.masks, rois=img.rois, width_mm=width_mm, ring_within=ring_within,
            label=label, combine=img.mask_combine, min_area_mm2=img.min_area_mm2,
            check_geometry=check_geometry, case_id=cid,
        )  # fmt: skip
        _raise_failure(cid, what, built[img.kind].masks.get("reader1", {}).get(img.kind))
    return _collect_case_rois(cid, built, min_coverage)


def _raise_failure(case_id: str, what: str, mask: Any) -> None:
    if isinstance(mask, Exception):
        raise _with_case(case_id, what, mask) from mask


def _collect_case_rois(
    cid: str, built: Mapping[str, ImageROIs], min_coverage: float | None
) -> CaseROIs:
    """CaseROIs from the built images, raising the first failure in the order of the ROIs."""
    tumor = built["tumor"]
    main = tumor.masks["reader1"]
    _raise_failure(cid, "peritumoral ring", main["peritumoral"])
    masks = {roi: main[roi] for roi in TUMOR_IMAGE_ROIS}
    if "ln" in built:
        masks["ln"] = built["ln"].masks["reader1"]["ln"]
    repeats: dict[str, dict[str, sitk.Image]] = {}
    for reader in REPEAT_READERS:
        for kind, rois in (("tumor", TUMOR_IMAGE_ROIS), ("ln", ("ln",))):
            got = built[kind].masks.get(reader) if kind in built else None
            if got is None:
                continue
            _raise_failure(cid, f"{kind} mask of {reader}", got[kind])
            if kind == "tumor":
                _raise_failure(cid, f"peritumoral ring of {reader}", got["peritumoral"])
            repeats.setdefault(reader, {}).update({r: got[r] for r in rois})
    for reader, cov in tumor.coverage.items():
        what = "peritumoral ring" + ("" if reader == "reader1" else f" of {reader}")
        if min_coverage is not None and cov.coverage < min_coverage:
            warnings.warn(
                f"case {cid}, {what}: the {cov.width_mm:g} {cov.unit} ring keeps only "
                f"{cov.coverage:.0%} of its unclipped area (image edge leaves "
                f"{cov.coverage_image:.0%}), below min_coverage={min_coverage:g}",
                CoverageWarning,
                stacklevel=3,
            )
    fovs = {kind: b.fov for kind, b in built.items()}
    images = {kind: b.image for kind, b in built.items()}
    return CaseROIs(cid, images, masks, fovs, tumor.coverage["reader1"], repeats)
