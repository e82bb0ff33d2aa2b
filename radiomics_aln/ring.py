"""The peritumoral ring: a distance map in mm around the tumour, its coverage, tumour + ring.

:func:`peritumoral_ring` builds the ``peritumoral`` ROI, the tissue within ``width_mm`` of the
tumour and outside it; :func:`tumor_peritumoral_region` the ``tumor_peritumoral`` ROI (tumour
and ring); :func:`ring_rois` both with the ring's :class:`RingCoverage`, the share of the ring
left after clipping to the image edge and the field of view. :func:`peritumoral_shell` builds
a shell, the tissue farther than ``inner_mm`` and at most ``outer_mm`` from the tumour (the
``shell_<a>_<b>mm`` ROIs). Ring widths must lie in (0, :data:`MAX_RING_MM`] mm.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from radiomics_aln._validation import MAX_RING_MM, check_ring_width
from radiomics_aln.exceptions import CoverageWarning, GeometryError, InputError
from radiomics_aln.images import image_name, mask_like, require_spacing
from radiomics_aln.masks import binary_array, grid_problem

__all__ = [
    "MAX_RING_MM",
    "RingCoverage",
    "RingROIs",
    "RingShell",
    "peritumoral_ring",
    "peritumoral_shell",
    "ring_coverage",
    "ring_rois",
    "tumor_peritumoral_region",
]


@dataclass(frozen=True)
class RingCoverage:
    """How much of a peritumoral ring survived clipping.

    Attributes
    ----------
    width_mm : float
        Ring width asked for (in pixels when ``unit == "pixel"``).
    unit : str
        ``"mm"``, or ``"pixel"`` for images loaded with ``spacing="pixel"``.
    n_pixels : int
        Pixels in the returned ring (clipped to the image and to ``within``).
    n_pixels_in_image : int
        Pixels of the ring inside the image, before ``within`` clipping.
    n_pixels_unclipped : int
        Pixels of the ring computed on a grid padded beyond the image edge.
    area, area_unclipped : float
        The same ring in physical units: mm² for 2D images (mm³ in 3D; pixels in pixel units).
    coverage : float
        ``n_pixels / n_pixels_unclipped``: 1 for a ring wholly inside image and ``within``.
    coverage_image : float
        ``n_pixels_in_image / n_pixels_unclipped``: the part lost at the image edge only.
    inner_mm : float
        Inner radius of a shell (:func:`peritumoral_shell`); 0 for a ring.
    """

    width_mm: float
    unit: str
    n_pixels: int
    n_pixels_in_image: int
    n_pixels_unclipped: int
    area: float
    area_unclipped: float
    coverage: float
    coverage_image: float
    inner_mm: float = 0.0


def _ring(
    mask: sitk.Image, width_mm: float, within: sitk.Image | None, inner_mm: float = 0.0
) -> tuple[np.ndarray, RingCoverage]:
    """The ring (or the shell beyond ``inner_mm``) as a boolean array and its coverage (warns
    when narrower than a pixel)."""
    width_mm = check_ring_width(width_mm)
    inner_mm = float(inner_mm)
    tumor = binary_array(mask, "mask")
    unit = require_spacing(mask, f"the {width_mm:g} mm ring width")
    if not tumor.any():
        raise InputError(f"mask {image_name(mask)} is empty: no tumour to build a ring around")
    spacing = np.asarray(mask.GetSpacing()[::-1], dtype=float)  # numpy order
    if width_mm - inner_mm < spacing.max():
        warnings.warn(
            f"a {width_mm - inner_mm:g} {unit} ring is narrower than one pixel ({spacing.max():.4g} {unit}) "
            f"of {image_name(mask)}; it will be patchy",
            UserWarning,
            stacklevel=3,
        )
    # Work on the tumour's bounding box grown by the ring width (plus one pixel), which may
    # reach beyond the image: that padded grid gives the unclipped ring.
    margin = np.ceil(width_mm / spacing).astype(int) + 1
    idx = np.nonzero(tumor)
    lo = np.array([i.min() for i in idx]) - margin
    hi = np.array([i.max() for i in idx]) + margin + 1
    shape = np.asarray(tumor.shape)
    src = tuple(slice(max(a, 0), min(b, n)) for a, b, n in zip(lo, hi, shape, strict=True))
    dst = tuple(
        slice(s.start - a, s.stop - a) for s, a in zip(src, lo, strict=True)
    )  # the image part inside the box
    box_tumor = np.zeros(hi - lo, dtype=bool)
    box_tumor[dst] = tumor[src]
    # Distance (mm) from each pixel centre to the nearest tumour pixel centre.
    dist = ndimage.distance_transform_edt(~box_tumor, sampling=spacing)
    box_ring = (dist > inner_mm * (1 + 1e-9)) & (dist <= width_mm * (1 + 1e-9))
    n_unclipped = int(box_ring.sum())
    if n_unclipped == 0:
        raise InputError(
            f"the {width_mm:g} {unit} ring around {image_name(mask)} has no pixel: every pixel "
            f"centre outside the tumour is farther than {width_mm:g} {unit}. Use a width of at "
            f"least one pixel ({spacing.min():.4g} {unit})"
        )
    ring = np.zeros(tumor.shape, dtype=bool)
    ring[src] = box_ring[dst]
    n_in_image = int(ring.sum())
    if within is not None:
        inside = binary_array(within, "within")
        problem = grid_problem(within, mask)
        if problem is not None:
            raise GeometryError(
                f"within mask {image_name(within)} and tumour mask {image_name(mask)} are on "
                f"different grids: {problem}; build both on the same image (load_mask(..., "
                "like=image) or load_image_with_fov)"
            )
        ring &= inside
    n = int(ring.sum())
    pixel = float(np.prod(spacing))
    cov = RingCoverage(
        width_mm=float(width_mm),
        unit=unit,
        n_pixels=n,
        n_pixels_in_image=n_in_image,
        n_pixels_unclipped=n_unclipped,
        area=n * pixel,
        area_unclipped=n_unclipped * pixel,
        coverage=n / n_unclipped,
        coverage_image=n_in_image / n_unclipped,
        inner_mm=inner_mm,
    )
    return ring, cov


def _warn_coverage(cov: RingCoverage, mask: sitk.Image, min_coverage: float | None) -> None:
    if min_coverage is not None and cov.coverage < min_coverage:
        warnings.warn(
            f"the {cov.width_mm:g} {cov.unit} peritumoral ring of {image_name(mask)} keeps only "
            f"{cov.coverage:.0%} of its unclipped area (image edge leaves {cov.coverage_image:.0%}"
            f"), below min_coverage={min_coverage:g}: the lesion is near the image edge or "
            "the field-of-view border, and ring features describe a partial ring. Flag or "
            "exclude the case (coverage from ring_rois(...).coverage or ring_coverage)",
            CoverageWarning,
            stacklevel=3,
        )


def _check_min_coverage(min_coverage: float | None) -> None:
    if min_coverage is not None and not (0 <= min_coverage <= 1):
        raise InputError(f"min_coverage={min_coverage!r} must be in [0, 1] or None")


@dataclass(frozen=True)
class RingROIs:
    """The two ring ROIs around a tumour mask, from :func:`ring_rois`.

    Attributes
    ----------
    ring : SimpleITK.Image
        The peritumoral ring (the ``peritumoral`` ROI), as :func:`peritumoral_ring`.
    region : SimpleITK.Image
        Tumour and ring together (the ``tumor_peritumoral`` ROI), as
        :func:`tumor_peritumoral_region`.
    coverage : RingCoverage
        How much of the ring survived clipping to the image and ``within``.
    """

    ring: sitk.Image
    region: sitk.Image
    coverage: RingCoverage


def ring_rois(
    mask: sitk.Image,
    *,
    width_mm: float = 5.0,
    within: sitk.Image | None = None,
    min_coverage: float | None = 0.5,
) -> RingROIs:
    """The peritumoral ring, the tumour with its ring, and the ring's coverage, at once.

    Parameters, warnings and errors as in :func:`peritumoral_ring`.

    Returns
    -------
    RingROIs
        ``ring``, ``region`` (tumour ∪ ring) and ``coverage``.

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> yy, xx = np.mgrid[:300, :300] * 0.1  # mm
    >>> disk = ((xx - 15) ** 2 + (yy - 15) ** 2 <= 5**2).astype(np.uint8)  # r = 5 mm
    >>> mask = sitk.GetImageFromArray(disk)
    >>> mask.SetSpacing((0.1, 0.1))
    >>> rois = ring_rois(mask, width_mm=5.0)
    >>> round(rois.coverage.area, 1), round(np.pi * (10**2 - 5**2), 1)  # mm2: computed, analytic
    (234.2, 235.6)
    >>> rois.coverage.coverage
    1.0
    >>> int((sitk.GetArrayViewFromImage(rois.ring) & disk).sum())  # disjoint from the tumour
    0
    """
    _check_min_coverage(min_coverage)
    ring, cov = _ring(mask, width_mm, within)
    _warn_coverage(cov, mask, min_coverage)
    name = image_name(mask)
    region = ring | (sitk.GetArrayViewFromImage(mask) != 0)
    return RingROIs(
        mask_like(ring, mask, f"peritumoral ring ({cov.width_mm:g} mm) of {name}"),
        mask_like(region, mask, f"tumour + {cov.width_mm:g} mm ring of {name}"),
        cov,
    )


def peritumoral_ring(
    mask: sitk.Image,
    *,
    width_mm: float = 5.0,
    within: sitk.Image | None = None,
    min_coverage: float | None = 0.5,
) -> sitk.Image:
    """The peritumoral ring: pixels outside the tumour within ``width_mm`` of it.

    Parameters
    ----------
    mask : SimpleITK.Image
        Binary tumour mask (from :func:`radiomics_aln.masks.load_mask`) with spacing in mm.
    width_mm : float, default 5.0
        Ring width in mm (in pixels for images loaded with ``spacing="pixel"``), in
        (0, :data:`MAX_RING_MM`].
    within : SimpleITK.Image, optional
        Binary mask on the same grid that the ring is clipped to: the field of view from
        :func:`radiomics_aln.images.load_image_with_fov`, a breast-tissue mask, etc.
    min_coverage : float or None, default 0.5
        Issue a :class:`CoverageWarning` when the ring keeps less than this fraction of its
        unclipped area. None disables the warning.

    Returns
    -------
    SimpleITK.Image
        uint8 {0, 1} mask on the tumour mask's grid, disjoint from the tumour. Its coverage is
        given by :func:`ring_coverage`, or with the ring by :func:`ring_rois`.

    Raises
    ------
    SpacingError
        The mask's image has no known pixel spacing.
    InputError
        Empty or non-binary mask, bad ``width_mm`` or ``min_coverage``.
    GeometryError
        ``within`` is on a different grid.

    Warns
    -----
    CoverageWarning
        Coverage below ``min_coverage``.

    Notes
    -----
    The ring is :math:`\\{p \\notin T : 0 < d(p, T) \\le w\\}`, with :math:`d` the Euclidean
    distance in mm between pixel centres (a distance map with the pixel spacing as sampling,
    :func:`scipy.ndimage.distance_transform_edt`), so it is exact for anisotropic pixels and
    not a dilation with a pixel-rounded kernel. It is computed on a grid padded beyond the
    image edge; its size there is the unclipped area, and
    ``coverage = area after clipping to the image and within / unclipped area``. For a disk of
    radius :math:`r` the area approaches :math:`\\pi((r + w)^2 - r^2)`. A tumour that touches
    the image edge is assumed to end there.

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> arr = np.zeros((60, 60), dtype=np.uint8)
    >>> arr[25:35, 25:35] = 1
    >>> mask = sitk.GetImageFromArray(arr)
    >>> mask.SetSpacing((0.5, 0.5))
    >>> ring = peritumoral_ring(mask, width_mm=1.0)
    >>> int(sitk.GetArrayViewFromImage(ring).sum())  # 4 sides 2x10 + 4 corners
    84
    """
    _check_min_coverage(min_coverage)
    ring, cov = _ring(mask, width_mm, within)
    _warn_coverage(cov, mask, min_coverage)
    return mask_like(ring, mask, f"peritumoral ring ({cov.width_mm:g} mm) of {image_name(mask)}")


def ring_coverage(
    mask: sitk.Image, *, width_mm: float = 5.0, within: sitk.Image | None = None
) -> RingCoverage:
    """Coverage of the peritumoral ring without building the ring image.

    Same parameters as :func:`peritumoral_ring`; never warns.

    Returns
    -------
    RingCoverage
        Pixel counts, areas and coverage fractions of the ring.

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> arr = np.zeros((100, 100), dtype=np.uint8)
    >>> arr[0:10, 40:60] = 1  # lesion touching the top edge
    >>> mask = sitk.GetImageFromArray(arr)
    >>> mask.SetSpacing((0.5, 0.5))
    >>> cov = ring_coverage(mask, width_mm=5.0)
    >>> round(cov.coverage, 2)
    0.61
    """
    return _ring(mask, width_mm, within)[1]


def tumor_peritumoral_region(
    mask: sitk.Image,
    *,
    width_mm: float = 5.0,
    within: sitk.Image | None = None,
    min_coverage: float | None = 0.5,
) -> sitk.Image:
    """The tumour together with its peritumoral ring (the ``tumor_peritumoral`` ROI).

    Parameters and warnings as in :func:`peritumoral_ring`; the tumour itself is never
    clipped by ``within``.

    Returns
    -------
    SimpleITK.Image
        uint8 {0, 1} mask: tumour ∪ ring.

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> arr = np.zeros((60, 60), dtype=np.uint8)
    >>> arr[25:35, 25:35] = 1
    >>> mask = sitk.GetImageFromArray(arr)
    >>> mask.SetSpacing((0.5, 0.5))
    >>> region = tumor_peritumoral_region(mask, width_mm=1.0)
    >>> int(sitk.GetArrayViewFromImage(region).sum())  # 10x10 + 4 sides 2x10 + 4 corners
    184
    """
    _check_min_coverage(min_coverage)
    ring, cov = _ring(mask, width_mm, within)
    _warn_coverage(cov, mask, min_coverage)
    region = ring | (sitk.GetArrayViewFromImage(mask) != 0)
    return mask_like(region, mask, f"tumour + {cov.width_mm:g} mm ring of {image_name(mask)}")


@dataclass(frozen=True)
class RingShell:
    """A peritumoral shell and its coverage, from :func:`peritumoral_shell`.

    Attributes
    ----------
    mask : SimpleITK.Image
        uint8 {0, 1} mask of the shell on the tumour mask's grid.
    coverage : RingCoverage
        Its pixel counts and coverage (``inner_mm`` and ``width_mm`` = the outer radius).
    """

    mask: sitk.Image
    coverage: RingCoverage


def peritumoral_shell(
    mask: sitk.Image,
    *,
    inner_mm: float,
    outer_mm: float,
    within: sitk.Image | None = None,
    min_coverage: float | None = 0.5,
) -> RingShell:
    """The shell of tissue farther than ``inner_mm`` and at most ``outer_mm`` from the tumour.

    The shell is the dilation by ``outer_mm`` minus the dilation by ``inner_mm``, outside the
    tumour: :math:`\\{p \\notin T : a < d(p, T) \\le b\\}` with the distance map of
    :func:`peritumoral_ring` (Euclidean, in mm between pixel centres). ``inner_mm = 0`` gives the
    ring of ``outer_mm``; the ring of ``a`` and the shell ``a``-``b`` are disjoint and together
    are the ring of ``b``. Clipping and coverage as for the ring.

    Parameters
    ----------
    mask : SimpleITK.Image
        Binary tumour mask with spacing in mm.
    inner_mm, outer_mm : float
        Radii in mm, ``0 <= inner_mm < outer_mm <= MAX_RING_MM``.
    within, min_coverage
        As in :func:`peritumoral_ring`.

    Returns
    -------
    RingShell
        ``mask`` and ``coverage``.

    Raises
    ------
    InputError
        Bad radii, an empty mask, or no pixel in the shell.

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> yy, xx = np.mgrid[:300, :300] * 0.1  # mm
    >>> disk = ((xx - 15) ** 2 + (yy - 15) ** 2 <= 5**2).astype(np.uint8)  # r = 5 mm
    >>> mask = sitk.GetImageFromArray(disk)
    >>> mask.SetSpacing((0.1, 0.1))
    >>> shell = peritumoral_shell(mask, inner_mm=2.0, outer_mm=5.0)
    >>> round(shell.coverage.area, 1), round(np.pi * (10**2 - 7**2), 1)  # mm2: computed, analytic
    (159.6, 160.2)
    """
    _check_min_coverage(min_coverage)
    inner = float(inner_mm) if isinstance(inner_mm, int | float) else inner_mm
    if not isinstance(inner, float) or not (0 <= inner < check_ring_width(outer_mm, "outer_mm")):
        raise InputError(
            f"inner_mm={inner_mm!r} must be a number in [0, outer_mm={outer_mm!r}) (mm)"
        )
    shell, cov = _ring(mask, outer_mm, within, inner)
    _warn_coverage(cov, mask, min_coverage)
    what = f"peritumoral shell ({inner:g}-{cov.width_mm:g} mm) of {image_name(mask)}"
    return RingShell(mask_like(shell, mask, what), cov)
