"""PyRadiomics feature extraction at cohort scale: parallel, cached, resumable.

:func:`extract_features` turns a manifest (or a list of cases) into one tidy feature table with
one row per case and one column per ROI x PyRadiomics feature, named ``"{roi}__{pyradiomics
name}"`` (e.g. ``tumor__original_glcm_Contrast``, see :mod:`radiomics_aln.features`).
PyRadiomics' diagnostics are returned in a separate table, failures in a third; repeat
segmentations (second reader, repeat by the first reader) are extracted on request into tables
of the same shape for the ICC step.

The ROIs are built by the route of :mod:`radiomics_aln.cases` (the one :func:`load_case_rois`
uses), with the settings of :mod:`radiomics_aln.params`, the cache of :mod:`radiomics_aln.cache`
and the per-image execution of :mod:`radiomics_aln.roi_features`. Every value equals what a
plain ``RadiomicsFeatureExtractor(<settings file>).execute(image, mask)`` returns for the loaded
(floating-point) image and mask: the speed-ups used here (one decode per image, one filtering
per image for all of its masks, NumPy min/max in the binning step, one discretisation per
filtered image for all feature classes) are applied only where they are bit-identical, and
tests check it. See ``docs/extraction.md`` for the settings reference, the naming grammar and
the benchmark.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import SimpleITK as sitk

from radiomics_aln._display import SummaryHTML
from radiomics_aln._progress import GroupProgress, progress_mode
from radiomics_aln._validation import (
    SPACING_RANGE_MM,
    check_ring_width,
    check_spacing_limits,
    format_items,
)
from radiomics_aln.cache import entry_key, read_entry, source_token, versions, write_entry
from radiomics_aln.cases import (
    REPEAT_READERS,
    CaseImage,
    ImageROIs,
    case_id_of,
    case_images,
    image_rois,
    open_image,
)
from radiomics_aln.exceptions import (
    DuplicateImageWarning,
    ExtractionError,
    InputError,
    IntensityError,
    MaskComponentsWarning,
    SpacingError,
)
from radiomics_aln.features import (
    SEP,
    TUMOR_IMAGE_ROIS,
    check_roi_name,
    feature_name,
    roi_columns,
    split_feature_name,
)
from radiomics_aln.images import copy_spacing_source, parse_spacing, spacing_source
from radiomics_aln.masks import check_mask_options
from radiomics_aln.params import (
    canonical_json,
    get_extractor,
    load_params,
    own_settings,
    quiet_pyradiomics,
    rescale_image,
)
from radiomics_aln.roi_features import as_float_image, execute_masks, split_vector

__all__ = ["DUPLICATE_COLUMNS", "ExtractionResult", "extract_features"]

logger = logging.getLogger(__name__)

#: Columns of ``ExtractionResult.duplicates``: one row per pair of case ids whose images are
#: byte-identical; ``conflict`` is True/False when both outcomes are known, else missing.
DUPLICATE_COLUMNS = (
    "case_id_1", "case_id_2", "image", "file_1", "file_2", "outcome_1", "outcome_2", "conflict",
)  # fmt: skip

_IN_MEMORY = "<SimpleITK image>"


# --------------------------------------------------------------------------------------------
# Work unit: one image of one case, all of its requested masks
# --------------------------------------------------------------------------------------------


@dataclass
class _Task:
    group: CaseImage
    params: dict
    params_json: str
    width_mm: float
    cache_dir: Path | None
    extra: dict[str, Callable]
    # (reader, roi) -> cache key, or None when a key could not be computed (unreadable file)
    keys: dict[tuple[str, str], str | None]
    cached: dict[tuple[str, str], dict]
    key_errors: dict[str, tuple[str, str]]  # reader -> (file, error) found while hashing
    verbose: bool
    parent_pid: int
    fast: bool = True
    image_token: Any = None  # content hash of the image, also used to find duplicated images
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM


def _describe(source: Any) -> str:
    if source is None:
        return ""
    if isinstance(source, sitk.Image):
        return _IN_MEMORY
    if isinstance(source, Path):
        return str(source)
    return ";".join(str(p) for p in source)


def _open(task: _Task) -> tuple[sitk.Image, ImageROIs]:
    """Decode the image once for all its masks: the float image PyRadiomics gets and the ROIs.

    Every route to PyRadiomics passes here, so this is where an image without a known pixel
    spacing is refused: PyRadiomics would otherwise take SimpleITK's default of 1 mm per pixel
    (shape in mm, the resampling to the settings' spacing and the ring all depend on it).
    """
    g = task.group
    name = _describe(g.image)  # the failure record adds the case and ROI
    loaded = open_image(g.image, spacing=g.spacing, spacing_range=task.spacing_range, what=name)
    if spacing_source(loaded.image) == "unknown":
        raise SpacingError(
            f"the pixel spacing of {name} is unknown (PNG/JPEG/BMP/TIFF files carry none; their "
            "dpi tag is not the scanner's pixel size) and features are in mm (shape, the "
            "resampling to the settings' spacing, the ring): it is never assumed to be 1 mm. "
            "Give the mm per pixel in the manifest's `spacing` (or `ln_spacing`) column or the "
            "case's spacing=, or use a file format with spacing (NRRD, NIfTI, DICOM)"
        )
    image = as_float_image(loaded.image, f"case {g.case_id!r}, {g.kind} image")
    copy_spacing_source(loaded.image, image)  # a cast drops metadata
    image = rescale_image(image, own_settings(task.params)["rescale"], name)
    pending = {reader for reader, roi in task.keys if _pending(task, (reader, roi))}
    masks = {reader: source for reader, source in g.masks.items() if reader in pending}
    rois = image_rois(
        loaded, masks, rois=g.rois, width_mm=task.width_mm, combine=g.mask_combine,
        min_area_mm2=g.min_area_mm2, case_id=g.case_id,
    )  # fmt: skip
    return image, rois


def _pending(task: _Task, rk: tuple[str, str]) -> bool:
    """Whether a (reader, roi) needs its mask: not cached, or extra features are asked for."""
    return rk not in task.cached or bool(task.extra)


def _diagnostics(rois: ImageROIs, reader: str, roi: str, width_mm: float) -> dict[str, Any]:
    """radiomics_aln's own diagnostics of a ROI: mask components and ring coverage."""
    out: dict[str, Any] = {}
    if reader in rois.components:
        drawn, used = rois.components[reader]
        out["diagnostics_radiomics_aln_MaskComponents"] = int(drawn)
        out["diagnostics_radiomics_aln_MaskComponentsUsed"] = int(used)
    cov = rois.coverage_of(reader, roi)  # a ring or shell (its width is the outer radius)
    if cov is not None:
        out["diagnostics_radiomics_aln_RingWidthMm"] = float(cov.width_mm)
        out["diagnostics_radiomics_aln_RingCoverage"] = float(cov.coverage)
        out["diagnostics_radiomics_aln_RingCoverageImage"] = float(cov.coverage_image)
    return out


def _record(reader: str, roi: str, *, file: str = "", error: str | None = None,
            features: Any = None, diag: Any = None, cached: bool = False,
            exc: BaseException | None = None) -> dict:  # fmt: skip
    return {
        "reader": reader,
        "roi": roi,
        "file": file,
        "error": error,
        "features": features,
        "diagnostics": diag,
        "cached": cached,
        "raise_as": _raise_as(exc),
    }


def _run_task(task: _Task) -> list[dict]:
    """Extract every requested (reader, roi) of one image; never raises, reports per ROI."""
    from radiomics_aln._pyradiomics_fast import fast_paths

    if os.getpid() != task.parent_pid:
        # A separate worker process: ITK's own threads would compete with the other workers.
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    quiet_pyradiomics(task.verbose)
    image = rois = image_exc = None
    if any(_pending(task, rk) for rk in task.keys):
        try:
            image, rois = _open(task)
        except Exception as exc:
            image_exc = exc
    masks = {
        (reader, roi): mask
        for reader, got in (rois.masks.items() if rois is not None else ())
        for roi, mask in got.items()
    }
    to_compute = [
        (rk, m) for rk, m in masks.items() if rk not in task.cached and not isinstance(m, Exception)
    ]
    computed: dict = {}
    if to_compute:
        with fast_paths(task.fast):
            computed = execute_masks(
                get_extractor(task.params), image, to_compute,
                own_settings(task.params)["bin_limits"],
            )  # fmt: skip
    return [
        _result(task, rk, image, rois, masks.get(rk), computed.get(rk), image_exc)
        for rk in task.keys
    ]


def _result(
    task: _Task, rk: tuple[str, str], image: Any, rois: ImageROIs | None, mask: Any,
    res: Any, image_exc: BaseException | None,
) -> dict:  # fmt: skip
    """The record of one (reader, roi): its features, or why there are none."""
    g = task.group
    reader, roi = rk
    file = _describe(g.masks.get(reader)) if reader in g.masks else ""
    if rk in task.cached and not task.extra:
        entry = task.cached[rk]
        return _record(reader, roi, file=file, features=entry["features"],
                       diag=entry["diagnostics"], cached=True)  # fmt: skip
    if reader in task.key_errors and rk not in task.cached:
        kfile, kerr = task.key_errors[reader]
        return _record(reader, roi, file=kfile, error=kerr)
    if image_exc is not None:
        error = f"cannot load the {g.kind} image: {image_exc}"
        return _record(reader, roi, file=_describe(g.image), error=error, exc=image_exc)
    if isinstance(mask, Exception):
        error = _message(mask)
        if reader not in rois.components:  # the mask itself, not the ring built around it
            error = f"case {g.case_id!r}, {reader} {g.kind} mask: {error}"
        return _record(reader, roi, file=file, error=error, exc=mask)
    if rk in task.cached:
        entry = task.cached[rk]
        feats, diag, was_cached = dict(entry["features"]), entry["diagnostics"], True
    else:
        if isinstance(res, IntensityError):  # our check, before PyRadiomics computed
            error = f"image {_describe(g.image)}: {_message(res)}"
            return _record(reader, roi, file=file, error=error, exc=res)
        if isinstance(res, Exception):
            return _record(reader, roi, file=file, error=f"PyRadiomics: {_message(res)}")
        feats, diag = split_vector(res)
        diag.update(_diagnostics(rois, reader, roi, task.width_mm))
        was_cached = False
        key = task.keys[rk]
        if key is not None:
            write_entry(
                task.cache_dir,
                key,
                {"case_id": g.case_id, "reader": reader, "roi": roi, "versions": versions(),
                 "features": feats, "diagnostics": diag},
            )  # fmt: skip
    try:
        for name, fn in task.extra.items():
            feats.update(_call_extra(name, fn, image, mask))
    except Exception as exc:
        return _record(reader, roi, file=file, error=_message(exc))
    return _record(reader, roi, file=file, features=feats, diag=diag, cached=was_cached)


def _call_extra(name: str, fn: Callable, image: sitk.Image, mask: sitk.Image) -> dict:
    try:
        values = fn(image, mask)
    except Exception as exc:
        raise ExtractionError(f"extra feature function {name!r} failed: {_message(exc)}") from exc
    if not isinstance(values, Mapping):
        raise ExtractionError(
            f"extra feature function {name!r} returned {type(values).__name__}, expected a dict"
        )
    out = {}
    for k, v in values.items():
        if SEP in f"{k}":
            raise ExtractionError(f"extra feature {name!r}: key {k!r} contains {SEP!r}")
        try:
            out[f"{name}_{k}"] = float(v)
        except (TypeError, ValueError) as exc:
            raise ExtractionError(
                f"extra feature {name!r}: value of {k!r} is not a number ({v!r})"
            ) from exc
    return out


def _raise_as(exc: BaseException | None) -> type[InputError] | None:
    """The class ``errors="raise"`` uses for this failure: spacing and grey-level problems keep
    their InputError subclass (SpacingError, IntensityError), the rest is ExtractionError."""
    for cls in (SpacingError, IntensityError):
        if isinstance(exc, cls):
            return cls
    return None


def _raise_failure(case_id: str, rec: Mapping[str, Any]) -> None:
    cls = rec.get("raise_as") or ExtractionError
    raise cls(_failure_message(case_id, rec))


def _message(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


# --------------------------------------------------------------------------------------------
# Result and public entry point
# --------------------------------------------------------------------------------------------


@dataclass
class ExtractionResult(SummaryHTML):
    """Tables returned by :func:`extract_features`.

    Attributes
    ----------
    features : pandas.DataFrame
        One row per case (input order, index ``case_id``), one float64 column per ROI x feature,
        named ``"{roi}__{pyradiomics name}"``. ROIs that failed are NaN and listed in
        ``failures``.
    diagnostics : pandas.DataFrame
        PyRadiomics' ``diagnostics_*`` values, same index, columns ``"{roi}__diagnostics_..."``.
    failures : pandas.DataFrame
        One row per failed ROI: ``case_id``, ``roi``, ``reader``, ``file``, ``error``.
    repeats : dict of str to pandas.DataFrame
        For each requested repeat reader (``reader2``, ``repeat``): the cases that have that
        reader's masks, with exactly the columns of ``features``.
    repeat_diagnostics : dict of str to pandas.DataFrame
        Diagnostics of the repeat extractions.
    nonfinite : pandas.DataFrame
        Features that came out NaN or infinite: ``case_id``, ``roi``, ``reader``, ``feature``,
        ``value``. They are kept in the tables as computed and reported here (and warned about).
    duplicates : pandas.DataFrame
        Pairs of case ids whose images have identical bytes (or, in memory, identical pixels
        and geometry), columns :data:`DUPLICATE_COLUMNS`: ``case_id_1``, ``case_id_2``,
        ``image`` (``tumor`` / ``ln``), ``file_1``, ``file_2``, ``outcome_1``, ``outcome_2``
        and ``conflict`` (outcomes differ; missing when an outcome is unknown).
    n_computed, n_cached : int
        ROIs extracted in this run and ROIs read from the cache.
    params : dict
        The validated settings used.
    """

    features: pd.DataFrame
    diagnostics: pd.DataFrame
    failures: pd.DataFrame
    repeats: dict[str, pd.DataFrame] = field(default_factory=dict)
    repeat_diagnostics: dict[str, pd.DataFrame] = field(default_factory=dict)
    nonfinite: pd.DataFrame = field(default_factory=pd.DataFrame)
    duplicates: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(DUPLICATE_COLUMNS))
    )
    n_computed: int = 0
    n_cached: int = 0
    params: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        n, p = self.features.shape
        reps = ", ".join(f"{k}: {len(v)}" for k, v in self.repeats.items()) or "none"
        return (
            f"ExtractionResult({n} cases x {p} features, {len(self.failures)} failures, "
            f"repeats: {reps}, computed {self.n_computed} ROIs, cached {self.n_cached})"
        )

    @property
    def summary(self) -> pd.DataFrame:
        """One row per reader and ROI: ``n_cases`` (with features), ``n_features``,
        ``n_failed`` (ROIs in ``failures``) and ``n_nonfinite`` (values in ``nonfinite``)."""

        rows = []
        for reader, table in {"reader1": self.features, **self.repeats}.items():
            for roi in dict.fromkeys(split_feature_name(c)[0] for c in table.columns):
                cols = roi_columns(table.columns, roi)
                n = int(table[cols].notna().any(axis=1).sum())
                rows.append({"reader": reader, "roi": roi, "n_cases": n, "n_features": len(cols)})
        out = pd.DataFrame(rows, columns=["reader", "roi", "n_cases", "n_features"])
        out = out.set_index(["reader", "roi"])
        for name, table in (("n_failed", self.failures), ("n_nonfinite", self.nonfinite)):
            counts = table.groupby(["reader", "roi"]).size() if len(table) else pd.Series()
            out[name] = counts.reindex(out.index, fill_value=0).astype(int)
        return out


def _check_choice(value: Any, allowed: Sequence[str], name: str) -> None:
    if value not in allowed:
        raise InputError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _prepare_task_keys(task: _Task) -> None:
    """Cache keys from file contents (no decoding); look up cached entries."""
    g = task.group
    try:
        image_token = None if g.image is None else source_token(g.image)
        task.image_token = image_token
    except OSError as exc:
        image_token = None
        for reader in g.masks:
            task.key_errors[reader] = (_describe(g.image), f"cannot read the {g.kind} image: {exc}")
    for reader, source in g.masks.items():
        try:
            mask_token = source_token(source)
        except OSError as exc:
            task.key_errors.setdefault(
                reader, (_describe(source), f"cannot read the {reader} {g.kind} mask: {exc}")
            )
            mask_token = None
        for r in g.rois:
            key = None
            if image_token is not None and mask_token is not None:
                key = entry_key(
                    task.params_json, image_token, g.spacing, mask_token, r,
                    width_mm=task.width_mm, mask_options=(g.mask_combine, g.min_area_mm2),
                    spacing_range=task.spacing_range,
                )  # fmt: skip
            task.keys[(reader, r)] = key
            entry = read_entry(task.cache_dir, key, r) if key is not None else None
            if entry is not None:
                task.cached[(reader, r)] = entry


def extract_features(
    cases_or_manifest: Any,
    *,
    rois: Sequence[str] = ("tumor", "peritumoral", "ln"),
    params: str | os.PathLike | Mapping[str, Any] = "ultrasound_2d",
    n_jobs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    errors: Literal["collect", "raise"] = "collect",
    repeats: bool | Sequence[str] = False,
    extra: Mapping[str, Callable[[sitk.Image, sitk.Image], Mapping[str, float]]] | None = None,
    width_mm: float = 5.0,
    mask_combine: Literal["union", "largest"] = "union",
    min_area_mm2: float | None = None,
    progress: bool | str | None = None,
    verbose: bool = False,
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM,
) -> ExtractionResult:
    """Extract PyRadiomics features for every case and ROI of a cohort.

    Parameters
    ----------
    cases_or_manifest : Manifest or sequence of cases
        A :class:`radiomics_aln.manifest.Manifest`, a list of :class:`radiomics_aln.cases.Case`,
        or a list of mappings with the same fields (``case_id``, ``tumor_image``, ``tumor_mask``,
        optional ``ln_image``, ``ln_mask``, ``spacing``, ``ln_spacing``, ``repeat_masks``). Images
        and masks are paths (masks: one path, a ``;``-joined string or a tuple of paths, joined
        into one ROI) or in-memory 2D ``SimpleITK.Image`` objects with spacing in mm. Their ROIs
        are built as :func:`radiomics_aln.cases.load_case_rois` builds them.
    rois : sequence of str
        Any of ``"tumor"``, ``"peritumoral"`` (ring of ``width_mm`` around the tumour, clipped to
        the field of view), ``"tumor_peritumoral"`` (their union), ``"ln"``, and rings and shells
        named with their width (``"peritumoral_2mm"``, ``"shell_2_5mm"``; several at once).
    params : str, path or dict
        Settings: a shipped name (default ``"ultrasound_2d"``), a PyRadiomics YAML path or a dict;
        validated by :func:`radiomics_aln.params.load_params`.
    n_jobs : int or None
        joblib workers over images (``None``: joblib's default, 1 unless set by
        ``joblib.parallel_config``; -1: all cores). Results are identical for any value and any
        joblib backend (e.g. ``parallel_config(backend="dask")``).
    cache_dir : path or None
        Folder for one JSON file per ROI result, keyed by the SHA-256 of the image content, the
        mask content, the settings, the ring width and the radiomics_aln and PyRadiomics
        versions. Entries are written atomically as each image finishes, so a rerun after a
        crash, a kill or with new cases computes only what is missing.
    errors : {"collect", "raise"}
        ``"collect"``: a failing ROI (unreadable file, empty mask, empty ring, PyRadiomics error)
        is listed in ``failures`` and the batch goes on. ``"raise"``: raise
        :class:`~radiomics_aln.exceptions.ExtractionError` with the same message at the first
        failure (in case order).
    repeats : bool or sequence of str
        Also extract the repeat segmentations: ``True`` for ``("reader2", "repeat")``, or a subset.
    extra : dict of str to callable, optional
        User features: ``fn(image, mask) -> {key: number}`` with the loaded float image and the
        ROI's uint8 mask (original grid). Columns ``"{roi}__{name}_{key}"``. Not cached.
    width_mm : float
        Width of the peritumoral ring in mm, in (0, 50].
    mask_combine : {"union", "largest"}
        A mask with several connected components (8-connected) becomes one ROI: their union
        (default), or only the largest. Cases are listed in one
        :class:`~radiomics_aln.exceptions.MaskComponentsWarning` per batch when several
        components were unioned; the counts are in ``diagnostics``
        (``diagnostics_radiomics_aln_MaskComponents``: drawn,
        ``..._MaskComponentsUsed``: kept). The ring is built around the components kept.
    min_area_mm2 : float or None
        Drop mask components smaller than this many mm² before ``mask_combine``; a mask with
        no component this large is a failure naming the case, the file, its area and the
        minimum. None: keep every component. A case's own ``mask_combine`` /
        ``min_area_mm2`` (manifest columns, :class:`~radiomics_aln.cases.Case` fields or
        mapping keys) wins over these two arguments. Both enter the cache key.
    progress : bool, {"auto", "bar", "lines", "off"} or None
        ``"auto"``: a tqdm bar over cases when interactive (a terminal, Jupyter), else plain
        lines on stderr (``features: 120/400 cases done, 1 failed, elapsed 2m10s, ETA 4m30s``)
        every tenth of the cases or 30 s; ``True``/``"bar"``, ``"lines"``, ``False``/``"off"``.
        ``None``: ``$RADIOMICS_ALN_PROGRESS`` or ``"auto"`` (``docs/extraction.md``).
    verbose : bool
        Keep PyRadiomics' warnings on stderr (default: silenced with ``radiomics.setVerbosity``).
    spacing_range : (float, float) or None, default (0.005, 2.0)
        Plausible mm per pixel (:data:`radiomics_aln.images.SPACING_RANGE_MM`). An image whose
        spacing (given or from its file) lies outside is a failure naming the case, image and
        spacing -- a spacing given in the manifest or a case is refused before any work. None
        disables the check (for a spacing that really is that small or large).

    Returns
    -------
    ExtractionResult
        ``features``, ``diagnostics``, ``failures`` (``case_id``, ``roi``, ``reader``, ``file``,
        ``error``), ``repeats``, ``repeat_diagnostics``, ``nonfinite`` (``case_id``, ``roi``,
        ``reader``, ``feature``, ``value``), ``duplicates`` (pairs of cases with the same
        image), ``n_computed``, ``n_cached``, ``params``.

    Raises
    ------
    InputError
        Bad arguments (unknown ROI or reader, invalid settings, duplicate case ids, a
        ``width_mm`` that is not a number in (0, 50], a bad ``spacing_range``).
    SpacingError
        With ``errors="raise"``: an image without known pixel spacing (a PNG/JPEG case
        without ``spacing``; never extracted at 1 mm per pixel) or with a spacing outside
        ``spacing_range``. With ``errors="collect"`` these are rows of ``failures``.
    IntensityError
        With ``errors="raise"``: a ROI whose grey levels give fewer or more bins on the
        original image than the settings' ``bin_limits`` (default 8 and 1000), or pixels
        outside the settings' ``rescale.from`` range; see ``docs/extraction.md``,
        "Intensity scale". With ``errors="collect"`` a row of ``failures``.
    ExtractionError
        With ``errors="raise"``, the first other failing ROI.

    Warns
    -----
    RuntimeWarning
        When features are NaN/infinite (listed in ``nonfinite``).
    CoverageWarning
        When peritumoral rings keep less than half of their area after clipping to the image and
        field of view (the coverage of every ring is in ``diagnostics``).
    MaskComponentsWarning
        Once, listing the cases whose masks had several connected components that were unioned.
    DuplicateImageWarning
        Once, listing the pairs of case ids with byte-identical images and whether their
        outcomes (when the cases carry one) conflict.

    Notes
    -----
    Values equal ``RadiomicsFeatureExtractor(<settings>).execute(image, mask)`` on the loaded
    float image and mask to the last bit; each image is decoded once and filtered once for all
    of its masks when PyRadiomics' preprocessing gives them the same image (always with the
    shipped settings, whose ``padDistance`` makes the resampled region the whole image).

    Examples
    --------
    >>> import numpy as np, SimpleITK as sitk
    >>> rng = np.random.default_rng(1)
    >>> def case(i):
    ...     img = sitk.GetImageFromArray(rng.normal(100, 20, (80, 80)))
    ...     img.SetSpacing((0.1, 0.1))
    ...     m = np.zeros((80, 80), np.uint8)
    ...     m[30:50, 25 : 55 - i] = 1
    ...     msk = sitk.GetImageFromArray(m)
    ...     msk.CopyInformation(img)
    ...     return {"case_id": f"c{i}", "tumor_image": img, "tumor_mask": msk}
    >>> res = extract_features([case(0), case(5)], rois=("tumor",), n_jobs=1)
    >>> res.features.shape
    (2, 846)
    >>> res.features.columns[0]
    'tumor__original_shape2D_Elongation'
    >>> res.failures.empty
    True
    """
    rois, repeat_readers, extra = _check_arguments(rois, errors, repeats, extra)
    width_mm = check_ring_width(width_mm)
    limits = check_spacing_limits(spacing_range)
    check_mask_options(mask_combine, min_area_mm2)
    progress_mode(progress)  # an invalid value is refused before any work
    if n_jobs is not None and (not isinstance(n_jobs, numbers.Integral) or n_jobs == 0):
        raise InputError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}")

    data = load_params(params)
    # absolute here: reused worker processes keep the working directory they were started in
    cache = None if cache_dir is None else Path(cache_dir).expanduser().absolute()
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    readers = ("reader1", *repeat_readers)
    case_ids, groups = _case_images(cases_or_manifest, rois, readers, mask_combine, min_area_mm2)
    tasks, missing = _make_tasks(groups, data, width_mm, cache, extra, verbose, limits)
    if errors == "raise" and missing:  # inputs absent from the manifest: fail before any work
        _raise_failure(missing[0]["case_id"], missing[0])
    outcomes = _run_all(tasks, n_jobs, progress, errors)
    result = _assemble(case_ids, rois, repeat_readers, tasks, outcomes, missing, errors, data)
    result.duplicates = _duplicate_images(tasks)
    _warn_duplicates(result.duplicates)
    _warn_mask_components(result)
    return result


def _check_arguments(
    rois: Sequence[str], errors: str, repeats: Any, extra: Mapping[str, Callable] | None
) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, Callable]]:
    """The checked ROIs, repeat readers and extra feature functions of extract_features."""
    rois = tuple(rois)
    if not rois:
        raise InputError("rois is empty")
    for r in rois:
        check_roi_name(r)
    if len(set(rois)) != len(rois):
        raise InputError(f"rois has duplicates: {list(rois)}")
    _check_choice(errors, ("collect", "raise"), "errors")
    if repeats is True:
        repeat_readers: tuple[str, ...] = REPEAT_READERS
    elif repeats is False or repeats is None:
        repeat_readers = ()
    else:
        repeat_readers = tuple(repeats)
        for r in repeat_readers:
            _check_choice(r, REPEAT_READERS, "each of repeats")
    extra = dict(extra or {})
    for name, fn in extra.items():
        if not isinstance(name, str) or not name or SEP in name:
            raise InputError(f"extra: names must be non-empty strings without {SEP!r}: {name!r}")
        if not callable(fn):
            raise InputError(f"extra[{name!r}] is not callable")
    return rois, repeat_readers, extra


def _case_images(
    cases_or_manifest: Any,
    rois: tuple[str, ...],
    readers: tuple[str, ...],
    mask_combine: str,
    min_area_mm2: float | None,
) -> tuple[list[str], list[CaseImage]]:
    """Case ids in input order and every image of every case (cases.case_images)."""
    cases = getattr(cases_or_manifest, "cases", cases_or_manifest)
    if isinstance(cases, Mapping | str | os.PathLike) or not isinstance(cases, Iterable):
        raise InputError(
            "cases_or_manifest must be a Manifest (radiomics_aln.manifest.read_manifest) or a "
            f"sequence of cases, not {type(cases_or_manifest).__name__}"
        )
    case_ids: list[str] = []
    seen: set[str] = set()
    groups: list[CaseImage] = []
    for i, case in enumerate(cases):
        case_id = case_id_of(case)
        if case_id is None:
            raise InputError(f"case number {i} has no case_id")
        if case_id in seen:
            raise InputError(f"case_id {case_id!r} appears more than once")
        seen.add(case_id)
        case_ids.append(case_id)
        groups.extend(
            case_images(case, rois=rois, readers=readers, mask_combine=mask_combine,
                        min_area_mm2=min_area_mm2)
        )  # fmt: skip
    return case_ids, groups


def _make_tasks(groups, data, width_mm, cache, extra, verbose, limits):
    """One task per image with a mask to extract, and the failure rows of absent inputs."""
    params_json = canonical_json(data)
    tasks: list[_Task] = []
    missing: list[dict] = []
    for g in groups:
        lacking = list(g.masks) if g.image is None else []
        if "reader1" not in g.masks:
            lacking.insert(0, "reader1")
        for reader in lacking:
            what = "image" if g.image is None else "mask"
            for r in g.rois:
                missing.append(
                    {"case_id": g.case_id, "roi": r, "reader": reader, "file": "",
                     "error": f"no {g.kind} {what} given for this case"}
                )  # fmt: skip
        g.masks = {} if g.image is None else g.masks
        if not g.masks:
            continue
        problem = _given_spacing_problem(g, limits)
        if problem is not None:  # a unit error in the manifest: refused before any work
            for reader in g.masks:
                for r in g.rois:
                    missing.append({"case_id": g.case_id, "roi": r, "reader": reader,
                                    "file": _describe(g.image), "error": problem,
                                    "raise_as": SpacingError})  # fmt: skip
            continue
        task = _Task(g, data, params_json, width_mm, cache, extra, {}, {}, {},
                     verbose, os.getpid(), spacing_range=limits)  # fmt: skip
        _prepare_task_keys(task)
        tasks.append(task)
    return tasks, missing


def _duplicate_images(tasks: list[_Task]) -> pd.DataFrame:
    """Pairs of different case ids whose images hash the same (the cache's content hash)."""
    by_hash: dict[str, list[CaseImage]] = {}
    for t in tasks:
        if t.image_token is not None:
            by_hash.setdefault(canonical_json(t.image_token), []).append(t.group)
    rows = []
    for groups in by_hash.values():
        for i, a in enumerate(groups):
            for b in groups[i + 1 :]:
                if a.case_id == b.case_id:  # a case's tumour and LN image: not a duplicate
                    continue
                known = a.outcome is not None and b.outcome is not None
                rows.append(
                    {"case_id_1": a.case_id, "case_id_2": b.case_id,
                     "image": a.kind if a.kind == b.kind else f"{a.kind}/{b.kind}",
                     "file_1": _describe(a.image), "file_2": _describe(b.image),
                     "outcome_1": a.outcome, "outcome_2": b.outcome,
                     "conflict": bool(str(a.outcome) != str(b.outcome)) if known else None}
                )  # fmt: skip
    return pd.DataFrame(rows, columns=list(DUPLICATE_COLUMNS))


def _warn_duplicates(dups: pd.DataFrame, limit: int = 10) -> None:
    if dups.empty:
        return
    items = []
    for r in dups.head(limit).itertuples(index=False):
        if r.conflict is None:
            state = "outcome unknown"
        elif r.conflict:
            state = f"outcomes {r.outcome_1} vs {r.outcome_2}: conflict"
        else:
            state = f"outcome {r.outcome_1} both"
        items.append(f"{r.case_id_1} and {r.case_id_2} ({r.image} image; {state})")
    more = f" and {len(dups) - limit} more" if len(dups) > limit else ""
    n_conflict = int((dups["conflict"] == True).sum())  # noqa: E712 (None is not a conflict)
    warnings.warn(
        f"{len(dups)} pair(s) of case ids have the same image (identical bytes), "
        f"{n_conflict} with conflicting outcomes: {'; '.join(items)}{more}. One patient counted "
        "twice (or in training and test) biases every statistic: remove the duplicate rows "
        "from the manifest (a Study excludes pairs with conflicting outcomes); the pairs are "
        "in result.duplicates",
        DuplicateImageWarning,
        stacklevel=3,
    )


def _warn_mask_components(result: ExtractionResult, limit: int = 20) -> None:
    """One warning for the masks whose several connected components were unioned."""
    tables = {"reader1": result.diagnostics, **result.repeat_diagnostics}
    found: dict[str, list[str]] = {}
    for reader, diag in tables.items():
        for kind, rois in (("tumor", TUMOR_IMAGE_ROIS), ("ln", ("ln",))):
            cols = [feature_name(r, "diagnostics_radiomics_aln_MaskComponentsUsed") for r in rois]
            cols = [c for c in cols if c in diag.columns]
            if not cols:
                continue
            used = diag[cols].apply(pd.to_numeric, errors="coerce").max(axis=1)
            for cid, n in used[used > 1].items():
                label = " ".join(x for x in (str(cid), "LN" if kind == "ln" else "",
                                             "" if reader == "reader1" else reader) if x)  # fmt: skip
                found.setdefault(str(cid), []).append(f"{label} ({int(n)})")
    if not found:
        return
    items = [item for cid in result.features.index if cid in found for item in found[cid]]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    warnings.warn(
        f"{len(found)} case(s) have masks with several connected components, unioned into one "
        f"ROI (mask_combine='union'): {', '.join(items[:limit])}{more} (components). If the "
        "extra components are specks or a second lesion, use mask_combine='largest' or "
        "min_area_mm2 (arguments, Study config, CLI --mask-combine/--min-area-mm2 or manifest "
        "columns); the counts are in diagnostics (radiomics_aln_MaskComponents)",
        MaskComponentsWarning,
        stacklevel=3,
    )


def _given_spacing_problem(group: CaseImage, limits: tuple[float, float] | None) -> str | None:
    """A spacing given for a case (manifest, Case, mapping) outside the plausible range."""
    if limits is None or group.spacing is None:
        return None
    try:
        values = parse_spacing(group.spacing)
    except InputError:
        return None  # not mm per pixel: load_image names the problem
    if values == "pixel" or all(limits[0] <= v <= limits[1] for v in values):
        return None
    shown = ", ".join(f"{v:.6g}" for v in values)
    return (
        f"the given spacing ({shown}) mm per pixel of the {group.kind} image is outside the "
        f"plausible range {limits[0]:g}-{limits[1]:g} mm for 2D ultrasound: usually a unit "
        "error (cm or µm instead of mm, a dpi value). Correct the manifest's `spacing` column "
        "(or the case's spacing=), or, if it is real, widen the check with "
        "spacing_range=(low, high)"
    )


def _run_all(tasks: list[_Task], n_jobs, progress, errors) -> list[list[dict]]:
    from joblib import Parallel, delayed

    todo = [i for i, t in enumerate(tasks) if t.extra or len(t.cached) < len(t.keys)]
    results: list[list[dict] | None] = [None] * len(tasks)
    for i in set(range(len(tasks))) - set(todo):
        results[i] = _cached_only(tasks[i])
    if todo:
        weight = {i: max(len(tasks[i].keys) - len(tasks[i].cached), 1) for i in todo}  # ROIs
        report = GroupProgress({i: tasks[i].group.case_id for i in todo}, weight, "features",
                               "cases", all_groups={t.group.case_id for t in tasks},
                               parts="images", n_jobs=n_jobs, progress=progress)  # fmt: skip
        # When collecting, largest tasks go first (most ROIs still to compute) so no worker is
        # left with one long task at the end; results come back as they finish and are placed
        # by index, so the output is identical for any order and any n_jobs. When raising, case
        # order is kept so that the reported failure is the first in case order.
        return_as = "generator"
        if errors != "raise":
            todo.sort(key=weight.__getitem__, reverse=True)
            return_as = "generator_unordered"
        try:
            parallel = Parallel(n_jobs=n_jobs, return_as=return_as)
            gen = parallel(delayed(_run_indexed_task)(i, tasks[i]) for i in todo)
            for i, res in gen:
                results[i] = res
                report.finished(i, failed=any(r["error"] for r in res))
                if errors == "raise" and any(r["error"] for r in res):
                    first = next(r for r in res if r["error"])
                    with warnings.catch_warnings():
                        # Cancelling the rest is the point of errors="raise": joblib's warning
                        # that finished or running tasks go unused would only be noise.
                        warnings.filterwarnings("ignore", r".*tasks .*(executed|cancelled)")
                        gen.close()
                    _raise_failure(tasks[i].group.case_id, first)
        finally:
            report.close()
    return [r if r is not None else [] for r in results]


def _run_indexed_task(index: int, task: _Task) -> tuple[int, list[dict]]:
    return index, _run_task(task)


def _cached_only(task: _Task) -> list[dict]:
    out = []
    for (reader, roi_name), entry in task.cached.items():
        out.append(
            {"reader": reader, "roi": roi_name, "file": _describe(task.group.masks.get(reader)),
             "error": None, "features": entry["features"], "diagnostics": entry["diagnostics"],
             "cached": True}
        )  # fmt: skip
    order = list(task.keys)
    out.sort(key=lambda r: order.index((r["reader"], r["roi"])))
    return out


def _failure_message(case_id: str, rec: Mapping[str, Any]) -> str:
    where = f" ({rec['file']})" if rec.get("file") else ""
    return f"case {case_id!r}, roi {rec['roi']!r}, {rec['reader']}{where}: {rec['error']}"


def _union_columns(rois: Sequence[str], outcomes: list[list[dict]]) -> dict[str, list[str]]:
    """Feature names of each ROI: the union over every record, never one record's names.

    Order: the names of the (first) record with the most features, then any other name in the
    order first seen -- the same for any case order of equal content and any n_jobs.
    """
    recs: dict[str, list[dict]] = {r: [] for r in rois}
    for res in outcomes:
        for rec in res:
            if not rec["error"]:
                recs[rec["roi"]].append(rec["features"])
    order: dict[str, list[str]] = {}
    for roi, feats in recs.items():
        names = dict.fromkeys(max(feats, key=len)) if feats else {}
        for f in feats:
            names.update(dict.fromkeys(f))
        order[roi] = list(names)
    return order


def _check_complete(rec: dict, columns: list[str]) -> dict:
    """A record lacking features that other records of its ROI have becomes a failure."""
    lacking = [c for c in columns if c not in rec["features"]]
    if not lacking:
        return rec
    error = (
        f"{len(lacking)} of the {len(columns)} features of this ROI are missing from its "
        f"result, e.g. {format_items(lacking, 3)}; PyRadiomics leaves out a filtered image "
        "(LoG sigma, wavelet level) too large for a small ROI's cropped image -- raise "
        "padDistance in the settings or drop that sigma/level"
    )
    return {**rec, "features": {}, "error": error}


def _assemble(case_ids, rois, repeat_readers, tasks, outcomes, missing, errors, data):
    failures = list(missing)
    if errors == "raise" and failures:
        f = failures[0]
        _raise_failure(f["case_id"], f)
    per_reader: dict[str, dict[str, dict[str, float]]] = {
        r: {} for r in ("reader1", *repeat_readers)
    }
    diag_reader: dict[str, dict[str, dict[str, Any]]] = {r: {} for r in per_reader}
    column_order = _union_columns(rois, outcomes)
    nonfinite = []
    n_cached = n_computed = 0
    for task, res in zip(tasks, outcomes, strict=True):
        cid = task.group.case_id
        for rec in res:
            if not rec["error"]:
                n_cached += rec["cached"]
                n_computed += not rec["cached"]
                rec = _check_complete(rec, column_order[rec["roi"]])
            if rec["error"]:
                failures.append({"case_id": cid, "roi": rec["roi"], "reader": rec["reader"],
                                 "file": rec["file"], "error": rec["error"]})  # fmt: skip
                if errors == "raise":
                    _raise_failure(cid, {**failures[-1], "raise_as": rec.get("raise_as")})
                continue
            roi_name = rec["roi"]
            row = per_reader[rec["reader"]].setdefault(cid, {})
            drow = diag_reader[rec["reader"]].setdefault(cid, {})
            for name, value in rec["features"].items():
                row[feature_name(roi_name, name)] = value
                if not math.isfinite(value):
                    nonfinite.append({"case_id": cid, "roi": roi_name, "reader": rec["reader"],
                                      "feature": feature_name(roi_name, name), "value": value})  # fmt: skip
            for name, value in rec["diagnostics"].items():
                drow[feature_name(roi_name, name)] = value

    columns = [feature_name(r, n) for r in rois for n in column_order[r]]

    def frame(rows: Mapping[str, Mapping[str, float]], index: list[str]) -> pd.DataFrame:
        df = pd.DataFrame.from_dict({c: dict(rows.get(c, {})) for c in index}, orient="index")
        df = df.reindex(index=pd.Index(index, name="case_id"), columns=columns)
        return df.astype("float64")

    def dframe(rows: Mapping[str, Mapping[str, Any]], index: list[str]) -> pd.DataFrame:
        df = pd.DataFrame.from_dict({c: dict(rows.get(c, {})) for c in index}, orient="index")
        cols = [c for r in rois for c in roi_columns(df.columns, r)]
        return df.reindex(index=pd.Index(index, name="case_id"), columns=cols)

    features = frame(per_reader["reader1"], case_ids)
    diagnostics = dframe(diag_reader["reader1"], case_ids)
    reps, rep_diag = {}, {}
    for reader in repeat_readers:
        idx = [c for c in case_ids if c in per_reader[reader]]
        reps[reader] = frame(per_reader[reader], idx)
        rep_diag[reader] = dframe(diag_reader[reader], idx)

    fail_cols = ["case_id", "roi", "reader", "file", "error"]
    failures_df = pd.DataFrame(failures, columns=fail_cols).astype("str")
    nonfinite_df = pd.DataFrame(nonfinite, columns=["case_id", "roi", "reader", "feature", "value"])
    nonfinite_df = nonfinite_df.astype({"value": "float64"})
    if len(nonfinite_df):
        warnings.warn(
            f"{len(nonfinite_df)} feature value(s) are NaN or infinite, e.g. "
            f"{nonfinite_df.feature.iloc[0]} of case {nonfinite_df.case_id.iloc[0]!r}; "
            "see result.nonfinite",
            RuntimeWarning,
            stacklevel=3,
        )
    _warn_low_ring_coverage(diagnostics)
    if len(failures_df):
        logger.warning("%d ROI(s) failed; see result.failures", len(failures_df))
    return ExtractionResult(
        features=features,
        diagnostics=diagnostics,
        failures=failures_df,
        repeats=reps,
        repeat_diagnostics=rep_diag,
        nonfinite=nonfinite_df,
        n_computed=int(n_computed),
        n_cached=int(n_cached),
        params=data,
    )


def _warn_low_ring_coverage(diagnostics: pd.DataFrame, threshold: float = 0.5) -> None:
    """One CoverageWarning for rings that kept less than half their area after clipping."""
    col = feature_name("peritumoral", "diagnostics_radiomics_aln_RingCoverage")
    if col not in diagnostics.columns:
        col = feature_name("tumor_peritumoral", "diagnostics_radiomics_aln_RingCoverage")
    if col not in diagnostics.columns:
        return
    cov = pd.to_numeric(diagnostics[col], errors="coerce")
    low = cov[cov < threshold]
    if len(low):
        from radiomics_aln.exceptions import CoverageWarning

        items = ", ".join(f"{cid} ({v:.0%})" for cid, v in low.head(10).items())
        more = f" and {len(low) - 10} more" if len(low) > 10 else ""
        warnings.warn(
            f"the peritumoral ring keeps less than {threshold:.0%} of its area (image edge or "
            f"field of view) in {len(low)} case(s): {items}{more}",
            CoverageWarning,
            stacklevel=3,
        )
