"""Feature robustness without a second reader: image and mask perturbations, then an ICC.

Zwanenburg et al. (2019) showed that a chain of small perturbations of the image and of the
tumour contour -- rotation, sub-pixel translation, noise, growth/shrinkage of the contour and
contour randomisation -- finds the features that are not robust about as well as test-retest
imaging, with an ICC(1,1) across the perturbations. This module does it for 2D ultrasound:

- :class:`PerturbationChain` holds the settings, every distance in mm (see its table of
  defaults); :func:`perturbations` draws the parameters of each perturbation of a case from a
  seed (:class:`Perturbation`: the same seed and case always give the same perturbations);
- :func:`perturb_rois` applies one perturbation to an image and its tumour mask and rebuilds
  the peritumoral ring around the perturbed tumour through the one route from a mask to its
  ROIs (:func:`radiomics_aln.cases.image_rois`);
- :func:`perturbation_readings` extracts the features of every perturbation of every case --
  one reading per perturbation, shaped like the repeat readings of
  :func:`radiomics_aln.extraction.extract_features` -- parallel over cases, with every ROI
  result cached under a key that holds the perturbation's parameters and seed; the lymph node
  (``"ln"``) gets the same perturbations on its own image, about its own centroid;
- :func:`perturbation_icc_filter` fits :class:`radiomics_aln.icc_filter.ICCFilter` on those
  readings (ICC(1,1) >= 0.90 by default, as in the paper).

The perturbations of one case form a small factorial design: ``image_variants`` perturbed images
(rotation + translation + noise), each combined with ``n_perturbations / image_variants`` mask
perturbations (growth/shrinkage + contour randomisation). PyRadiomics' image filters (wavelet,
LoG) depend on the image only, so they run once per image variant and are shared by its mask
perturbations and by the tumour and ring ROIs (:func:`radiomics_aln.roi_features.execute_masks`).
See ``docs/perturbation.md``.
"""

from __future__ import annotations

import logging
import math
import os
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import SimpleITK as sitk
from scipy import ndimage

from radiomics_aln.cache import entry_key, read_entry, source_token, versions, write_entry
from radiomics_aln.cases import case_id_of, case_images, image_rois, open_image
from radiomics_aln.exceptions import ExtractionError, InputError, SpacingError
from radiomics_aln.features import TUMOR_IMAGE_ROIS, feature_name, image_of, ring_geometry
from radiomics_aln.icc_filter import ICCFilter
from radiomics_aln.images import LoadedImage, copy_spacing_source, mask_like, spacing_source
from radiomics_aln.masks import binary_array, load_mask
from radiomics_aln.params import (
    canonical_json,
    get_extractor,
    load_params,
    own_settings,
    quiet_pyradiomics,
    rescale_image,
)
from radiomics_aln.roi_features import as_float_image, execute_masks, split_vector

__all__ = [
    "PERTURBATION_FORMAT",
    "Perturbation",
    "PerturbationChain",
    "noise_sd_estimate",
    "perturb_rois",
    "perturbation_icc_filter",
    "perturbation_readings",
    "perturbations",
    "perturbed_image",
    "perturbed_mask",
]

logger = logging.getLogger(__name__)

#: Version of how a :class:`Perturbation` turns into an image and masks; part of every cache
#: key, bumped whenever the same parameters would give other pixels.
PERTURBATION_FORMAT = 1


def _roi_groups(rois: Any, what: str) -> tuple[str, ...]:
    """The ROIs checked: those of the tumour image (rings too) and the lymph node ``"ln"``."""
    rois = (rois,) if isinstance(rois, str) else tuple(rois)
    ok = (*TUMOR_IMAGE_ROIS, "ln")
    bad = [r for r in rois if not isinstance(r, str)
           or (r not in ok and ring_geometry(r) is None)]  # fmt: skip
    if bad or not rois or len(set(rois)) != len(rois):
        raise InputError(
            f"{what} must be some of {list(ok)} or rings named with their width "
            f"(peritumoral_2mm), each once; got {list(rois)!r}"
        )
    return rois


def _number(value: Any, name: str, *, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"PerturbationChain: `{name}` must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise InputError(f"PerturbationChain: `{name}` must be in [{low:g}, {high:g}], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class PerturbationChain:
    """The perturbations applied to each case, every distance in mm.

    =====================  ========  ===========================================================
    setting                default   what it does (perturbation drawn uniformly in the range)
    =====================  ========  ===========================================================
    ``rotation_deg``       15.0      image and mask rotated together about the tumour centroid
                                     by an angle in [-15, 15] degrees (in-plane)
    ``translation_mm``     0.1       image and mask shifted together by [0, 0.1) mm along each
                                     axis: a sub-pixel shift of the 0.1 mm grid PyRadiomics
                                     resamples to (the paper's "fractions of a voxel")
    ``noise``              True      add Gaussian noise with the image's own noise SD
                                     (Immerkaer 1996), clipped to the image's grey-level range
    ``noise_sd``           None      noise SD in grey levels; None: estimated from each image
    ``volume_mm``          0.5       tumour contour grown (+) or shrunk (-) by a distance in
                                     [-0.5, 0.5] mm, from a Euclidean distance map in mm
    ``contour_sd_mm``      0.25      contour randomisation: the boundary moves by a smooth
                                     random displacement field of this SD (mm)
    ``contour_scale_mm``   2.0       correlation length (Gaussian sigma, mm) of that field
    ``image_variants``     5         perturbed images per case; each is combined with
                                     ``n_perturbations / image_variants`` mask perturbations
    =====================  ========  ===========================================================

    A setting of 0 (or ``noise=False``) switches that perturbation off. The peritumoral ring is
    always rebuilt around each perturbed tumour.

    Notes
    -----
    Zwanenburg et al. (2019) rotate by a grid of angles, translate by fractions of a voxel, add
    noise at the image's estimated level, adapt the volume by a fraction of it (or a distance)
    and randomise the contour with supervoxels. Here the angles, shifts and distances are drawn
    from a seed rather than taken from a grid, the volume adaptation is a signed distance in mm
    (contours of ultrasound lesions are drawn to a fraction of a millimetre, whatever the
    lesion's size) and the contour is randomised by a smooth random displacement of the
    boundary (no supervoxel library is needed; the displacement is in mm, so it means the same
    at any pixel spacing).

    Examples
    --------
    >>> PerturbationChain().volume_mm
    0.5
    >>> PerturbationChain(rotation_deg=0, noise=False).check().rotation_deg
    0.0
    """

    rotation_deg: float = 15.0
    translation_mm: float = 0.1
    noise: bool = True
    noise_sd: float | None = None
    volume_mm: float = 0.5
    contour_sd_mm: float = 0.25
    contour_scale_mm: float = 2.0
    image_variants: int = 5

    def check(self) -> PerturbationChain:
        """The chain with every setting checked (an :class:`InputError` names the setting)."""
        if not isinstance(self.noise, bool):
            raise InputError(f"PerturbationChain: `noise` must be True or False, got {self.noise!r}")
        iv = self.image_variants
        if isinstance(iv, bool) or not isinstance(iv, int) or iv < 1:
            raise InputError(
                f"PerturbationChain: `image_variants` must be an integer >= 1, got {iv!r}"
            )
        return PerturbationChain(
            rotation_deg=_number(self.rotation_deg, "rotation_deg", high=45.0),
            translation_mm=_number(self.translation_mm, "translation_mm", high=5.0),
            noise=self.noise,
            noise_sd=None if self.noise_sd is None else _number(self.noise_sd, "noise_sd"),
            volume_mm=_number(self.volume_mm, "volume_mm", high=5.0),
            contour_sd_mm=_number(self.contour_sd_mm, "contour_sd_mm", high=5.0),
            contour_scale_mm=_number(self.contour_scale_mm, "contour_scale_mm", low=1e-3,
                                     high=50.0),
            image_variants=iv,
        )  # fmt: skip


@dataclass(frozen=True)
class Perturbation:
    """The drawn parameters of one perturbation of one case (from :func:`perturbations`).

    Attributes
    ----------
    case_id : str
    index : int
        Perturbation number, 0 to ``n_perturbations - 1``.
    variant : int
        Image variant (perturbations of one variant share the perturbed image).
    angle_deg : float
        Rotation about the tumour centroid, degrees (counter-clockwise on the displayed image).
    shift_mm : tuple of float
        Translation (x, y) in mm.
    noise_sd : float or None
        Noise SD in grey levels; None: estimated from the image; 0: no noise.
    noise_seed : int
        Seed of the noise field.
    grow_mm : float
        Signed distance the tumour contour moves (+ grows, - shrinks), mm.
    contour_sd_mm, contour_scale_mm : float
        SD and correlation length of the contour displacement field, mm.
    contour_seed : int
        Seed of the contour displacement field.
    """

    case_id: str
    index: int
    variant: int
    angle_deg: float
    shift_mm: tuple[float, float]
    noise_sd: float | None
    noise_seed: int
    grow_mm: float
    contour_sd_mm: float
    contour_scale_mm: float
    contour_seed: int

    def image_part(self) -> dict[str, Any]:
        """The parameters that change the image (equal for every perturbation of a variant)."""
        return {
            "case_id": self.case_id,
            "variant": self.variant,
            "angle_deg": self.angle_deg,
            "shift_mm": list(self.shift_mm),
            "noise_sd": self.noise_sd,
            "noise_seed": self.noise_seed,
        }


def _seed_of(random_state: Any) -> int:
    """An int seed: perturbations must be reproducible (and their cache keys fixed)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63))
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise InputError(
            f"random_state must be an int seed (or a numpy Generator) so that perturbations are "
            f"reproducible and cached, got {random_state!r}"
        )
    if random_state < 0:
        raise InputError(f"random_state must be a non-negative int, got {random_state!r}")
    return int(random_state)


def _check_n(n_perturbations: Any, chain: PerturbationChain) -> int:
    n = n_perturbations
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise InputError(f"n_perturbations must be an integer >= 2, got {n!r}")
    if chain.image_variants > n:
        raise InputError(
            f"PerturbationChain.image_variants={chain.image_variants} is larger than "
            f"n_perturbations={n}; use at most {n} image variants"
        )
    return int(n)


def perturbations(
    case_id: str,
    *,
    n_perturbations: int = 20,
    chain: PerturbationChain | None = None,
    random_state: int | np.random.Generator = 0,
) -> list[Perturbation]:
    """The perturbations of one case, drawn from a seed and the case id.

    Perturbation ``i`` uses image variant ``i % chain.image_variants``. The draws depend on
    ``random_state`` and ``case_id`` only (not on the other cases or their order), so a case
    gets the same perturbations in any cohort and with any number of workers.

    Parameters
    ----------
    case_id : str
    n_perturbations : int, default 20
        At least 2 (and at least ``chain.image_variants``).
    chain : PerturbationChain, optional
        Default: ``PerturbationChain()``.
    random_state : int or numpy.random.Generator, default 0
        An int seed (a Generator gives one by its next draw).

    Returns
    -------
    list of Perturbation

    Examples
    --------
    >>> p = perturbations("case007", n_perturbations=4, chain=PerturbationChain(image_variants=2))
    >>> [(q.index, q.variant) for q in p]
    [(0, 0), (1, 1), (2, 0), (3, 1)]
    >>> p == perturbations("case007", n_perturbations=4, chain=PerturbationChain(image_variants=2))
    True
    >>> -15 <= p[0].angle_deg <= 15 and -0.5 <= p[0].grow_mm <= 0.5
    True
    """
    chain = (PerturbationChain() if chain is None else chain).check()
    n = _check_n(n_perturbations, chain)
    seed = _seed_of(random_state)
    case_hash = zlib.crc32(str(case_id).encode())
    variants = []
    for v in range(chain.image_variants):
        rng = np.random.default_rng([seed, case_hash, 0, v])
        angle = float(rng.uniform(-1.0, 1.0)) * chain.rotation_deg
        shift = tuple(float(s) for s in rng.uniform(0.0, 1.0, 2) * chain.translation_mm)
        noise_sd = (chain.noise_sd if chain.noise else 0.0)
        variants.append((angle, shift, noise_sd, int(rng.integers(0, 2**31))))
    out = []
    for i in range(n):
        v = i % chain.image_variants
        rng = np.random.default_rng([seed, case_hash, 1, i])
        angle, shift, noise_sd, noise_seed = variants[v]
        out.append(
            Perturbation(
                case_id=str(case_id), index=i, variant=v, angle_deg=angle, shift_mm=shift,
                noise_sd=noise_sd, noise_seed=noise_seed,
                grow_mm=float(rng.uniform(-1.0, 1.0)) * chain.volume_mm,
                contour_sd_mm=chain.contour_sd_mm, contour_scale_mm=chain.contour_scale_mm,
                contour_seed=int(rng.integers(0, 2**31)),
            )
        )  # fmt: skip
    return out


# --------------------------------------------------------------------------------------------
# one perturbation of one image
# --------------------------------------------------------------------------------------------


def noise_sd_estimate(image: np.ndarray) -> float:
    """Immerkaer's (1996) fast estimate of the SD of additive white noise in a 2D image.

    ``sqrt(pi / 2) / (6 (W - 2) (H - 2)) * sum |I * N|`` with the mask
    ``N = [[1, -2, 1], [-2, 4, -2], [1, -2, 1]]`` (the difference of two Laplacians, which
    cancels image structure up to second order).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(noise_sd_estimate(100 + rng.normal(0, 5, (256, 256))), 1)
    5.0
    """
    a = np.asarray(image, dtype=float)
    if a.ndim != 2 or min(a.shape) < 3:
        raise InputError(f"noise estimate needs a 2D image of at least 3 x 3 pixels, got {a.shape}")
    k = np.array([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]])
    conv = ndimage.correlate(a, k, mode="constant")[1:-1, 1:-1]
    h, w = a.shape
    return float(math.sqrt(math.pi / 2) * np.abs(conv).sum() / (6.0 * (w - 2) * (h - 2)))


def _centroid(mask: sitk.Image) -> tuple[float, float]:
    arr = sitk.GetArrayViewFromImage(mask)
    rows, cols = np.nonzero(arr)
    return mask.TransformContinuousIndexToPhysicalPoint((float(cols.mean()), float(rows.mean())))


def _resample(src: sitk.Image, transform: sitk.Transform, interpolator: int) -> sitk.Image:
    return sitk.Resample(src, src, transform, interpolator, 0.0, src.GetPixelID())


def _mirrored(image: sitk.Image, transform: sitk.Transform) -> np.ndarray:
    """The image resampled through ``transform`` (linear), mirrored beyond its edges.

    Filling what is rotated in from outside the image with a constant would put a sharp edge
    next to the ROI that moves with every perturbation; wavelet and LoG responses near it
    (sigma 4 mm reaches ~16 mm) would then vary for a reason no scan has.
    """
    pts = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]
    idx = [
        np.asarray(image.TransformPhysicalPointToContinuousIndex(
            transform.TransformPoint(image.TransformContinuousIndexToPhysicalPoint(o))
        ))
        for o in pts
    ]  # fmt: skip
    a = np.column_stack([idx[1] - idx[0], idx[2] - idx[0]])  # (x, y) index -> (x, y) index
    swap = np.array([[0, 1], [1, 0]])
    matrix, offset = swap @ a @ swap, swap @ idx[0]  # numpy (row, column) order
    arr = sitk.GetArrayViewFromImage(image).astype(np.float64)
    return ndimage.affine_transform(arr, matrix, offset, order=1, mode="mirror")


def perturbed_image(
    image: sitk.Image, fov: sitk.Image | None, tumor: sitk.Image, p: Perturbation
) -> tuple[sitk.Image, sitk.Image, sitk.Image]:
    """(image, field of view, tumour mask) after the image part of ``p`` (rotation, shift, noise).

    Rotation and translation resample the image linearly (mirrored beyond its edges), and the
    field of view and the mask (as floats, kept where >= 0.5) onto the same grid; pixels
    rotated in from outside the image lie outside the returned field of view, so the ring is
    clipped there.

    Examples
    --------
    >>> img = sitk.GetImageFromArray(np.arange(64.0 * 64).reshape(64, 64))
    >>> img.SetSpacing((0.1, 0.1))
    >>> m = np.zeros((64, 64), np.uint8)
    >>> m[20:40, 20:40] = 1
    >>> tum = sitk.GetImageFromArray(m)
    >>> tum.CopyInformation(img)
    >>> p = Perturbation("c", 0, 0, 90.0, (0.0, 0.0), 0.0, 0, 0.0, 0.0, 2.0, 0)
    >>> out, fov, t = perturbed_image(img, None, tum, p)
    >>> int(sitk.GetArrayViewFromImage(t).sum()), int(sitk.GetArrayViewFromImage(fov).min())
    (400, 0)
    """
    within = fov if fov is not None else mask_like(
        np.ones(sitk.GetArrayViewFromImage(image).shape, bool), image, "field of view"
    )
    msk = sitk.Cast(tumor, sitk.sitkFloat64)
    win = sitk.Cast(within, sitk.sitkFloat64)
    if p.angle_deg != 0.0 or any(s != 0.0 for s in p.shift_mm):
        t = sitk.Euler2DTransform()
        t.SetCenter(_centroid(tumor))
        t.SetAngle(math.radians(p.angle_deg))
        t.SetTranslation(tuple(float(s) for s in p.shift_mm))
        arr = _mirrored(image, t)
        msk = _resample(msk, t, sitk.sitkLinear)
        win = _resample(win, t, sitk.sitkLinear)
    else:
        arr = sitk.GetArrayViewFromImage(image).astype(np.float64)
    win_arr = sitk.GetArrayViewFromImage(win) >= 0.5
    sd = p.noise_sd
    if sd is None:
        sd = noise_sd_estimate(sitk.GetArrayViewFromImage(image))
    if sd > 0:
        src = sitk.GetArrayViewFromImage(image)
        lo, hi = float(src.min()), float(src.max())
        noise = np.random.default_rng(p.noise_seed).normal(0.0, sd, arr.shape)
        arr = np.where(win_arr, np.clip(arr + noise, lo, hi), arr)
    out = sitk.GetImageFromArray(arr)
    out.CopyInformation(image)
    copy_spacing_source(image, out)
    return out, mask_like(win_arr, image, "field of view"), mask_like(
        sitk.GetArrayViewFromImage(msk) >= 0.5, image, "tumour mask"
    )


def perturbed_mask(tumor: sitk.Image, p: Perturbation) -> np.ndarray:
    """The tumour mask after the mask part of ``p``: growth/shrinkage and contour randomisation.

    A signed distance map in mm (negative inside, zero half a pixel from the boundary pixels'
    centres) is compared with the displacement ``grow_mm + field``, where ``field`` is white
    noise smoothed by a Gaussian of ``contour_scale_mm`` and scaled to SD ``contour_sd_mm``.

    Examples
    --------
    >>> m = np.zeros((40, 40), np.uint8)
    >>> m[10:30, 10:30] = 1
    >>> tum = sitk.GetImageFromArray(m)
    >>> tum.SetSpacing((0.25, 0.25))
    >>> p = Perturbation("c", 0, 0, 0.0, (0.0, 0.0), 0.0, 0, 0.5, 0.0, 2.0, 0)
    >>> int(perturbed_mask(tum, p).sum())  # 0.5 mm = 2 pixels each side; Euclidean corners
    572
    """
    m = binary_array(tumor, "tumour mask")
    spacing = np.asarray(tumor.GetSpacing()[::-1], dtype=float)
    half = 0.5 * float(spacing.min())
    inside = ndimage.distance_transform_edt(m, sampling=spacing)
    outside = ndimage.distance_transform_edt(~m, sampling=spacing)
    phi = np.where(m, half - inside, outside - half)
    shift = np.full(m.shape, p.grow_mm)
    if p.contour_sd_mm > 0:
        rng = np.random.default_rng(p.contour_seed)
        field = ndimage.gaussian_filter(
            rng.standard_normal(m.shape), sigma=p.contour_scale_mm / spacing, mode="reflect"
        )
        sd = float(field.std())
        if sd > 0:
            shift = shift + field * (p.contour_sd_mm / sd)
    return phi < shift


def perturb_rois(
    image: LoadedImage | sitk.Image,
    tumor: sitk.Image,
    p: Perturbation,
    *,
    rois: Sequence[str] = ("tumor", "peritumoral"),
    width_mm: float = 5.0,
) -> tuple[sitk.Image, dict[str, sitk.Image]]:
    """Apply one perturbation to an image and its mask; rebuild the ring around the tumour.

    Parameters
    ----------
    image : LoadedImage or SimpleITK.Image
        The image (with its field of view, if any), spacing in mm.
    tumor : SimpleITK.Image
        Binary mask on the image's grid: the tumour mask, or the lymph-node mask with
        ``rois=("ln",)`` (the same perturbation about the node's centroid; no ring).
    p : Perturbation
    rois : sequence of str
        Some of ``"tumor"``, ``"peritumoral"``, ``"tumor_peritumoral"`` (or rings named with
        their width), or ``("ln",)`` alone.
    width_mm : float, default 5.0
        Ring width.

    Returns
    -------
    image : SimpleITK.Image
        The perturbed image (float64).
    masks : dict
        ``{roi: uint8 mask}``; the ring ROIs are built around the perturbed tumour by
        :func:`radiomics_aln.cases.image_rois`, clipped to the (rotated) field of view.

    Raises
    ------
    InputError
        Unknown ROI, an empty tumour mask (also after shrinking), a ring that cannot be built.
    SpacingError
        The image's spacing is unknown (every perturbation is in mm).

    Examples
    --------
    >>> img = sitk.GetImageFromArray(np.full((120, 120), 80.0))
    >>> img.SetSpacing((0.1, 0.1))
    >>> t = np.zeros((120, 120), np.uint8)
    >>> t[40:80, 40:80] = 1
    >>> tum = sitk.GetImageFromArray(t)
    >>> tum.CopyInformation(img)
    >>> chain = PerturbationChain(noise=False, image_variants=1)
    >>> p = perturbations("c1", n_perturbations=2, chain=chain)[0]
    >>> out, masks = perturb_rois(img, tum, p, rois=("tumor", "peritumoral"), width_mm=1.0)
    >>> sorted(masks)
    ['peritumoral', 'tumor']
    """
    loaded = image if isinstance(image, LoadedImage) else LoadedImage(image, None)
    rois = _roi_groups(rois, "perturbation ROIs")
    if "ln" in rois and len(rois) > 1:
        raise InputError(
            "perturb_rois: the lymph node lies on its own image; perturb ('ln',) alone, with "
            f"the LN image and mask, got {list(rois)!r}"
        )
    if spacing_source(loaded.image) in ("unknown", "pixel"):
        raise SpacingError(
            f"case {p.case_id}: perturbations are in mm but the image's pixel spacing is "
            f"{spacing_source(loaded.image)}; give the spacing in mm"
        )
    tumor = load_mask(tumor, loaded.image)
    img, fov, msk = perturbed_image(loaded.image, loaded.fov, tumor, p)
    return img, _variant_rois(LoadedImage(img, fov), msk, [p], rois, width_mm)[p.index]


def _variant_rois(
    loaded: LoadedImage, tumor: sitk.Image, specs: Sequence[Perturbation], rois: Sequence[str],
    width_mm: float,
) -> dict[int, dict[str, sitk.Image]]:  # fmt: skip
    """The ROIs of every mask perturbation of one image variant (the ring via image_rois)."""
    sources = {}
    for p in specs:
        arr = perturbed_mask(tumor, p)
        if not arr.any():
            what = "lymph-node" if tuple(rois) == ("ln",) else "tumour"
            raise InputError(
                f"case {p.case_id}, perturbation {p.index}: the {what} mask is empty after "
                f"moving its contour by {p.grow_mm:+.3g} mm (+ contour randomisation); use a "
                "smaller PerturbationChain.volume_mm / contour_sd_mm"
            )
        sources[p.index] = mask_like(arr, loaded.image, f"perturbation {p.index}")
    built = image_rois(
        loaded, sources, rois=tuple(rois), width_mm=width_mm, ring_within="fov",
        case_id=specs[0].case_id,
    )  # fmt: skip
    out = {}
    for index, got in built.masks.items():
        for roi, mask in got.items():
            if isinstance(mask, Exception):
                raise InputError(f"case {specs[0].case_id}, perturbation {index}, {roi}: {mask}")
        out[index] = dict(got)
    return out


# --------------------------------------------------------------------------------------------
# a cohort
# --------------------------------------------------------------------------------------------


@dataclass
class _CaseTask:
    case: Any
    specs: list[Perturbation]
    chain: dict[str, Any]
    params: dict
    params_json: str
    rois: tuple[str, ...]
    width_mm: float
    cache_dir: Any
    parent_pid: int
    mask_options: tuple[str, float | None] = ("union", None)


def _case_keys(task: _CaseTask) -> list[tuple[Any, dict]]:
    """Each image of a case to perturb (tumour, LN) with the cache key of each (perturbation, roi)."""
    cid = case_id_of(task.case)
    combine, min_area = task.mask_options
    groups = case_images(task.case, rois=task.rois, readers=("reader1",), mask_combine=combine,
                         min_area_mm2=min_area)  # fmt: skip
    out = []
    for kind in ("tumor", "ln"):
        rois = [r for r in task.rois if image_of(r) == kind]
        if not rois:
            continue
        g = next((g for g in groups if g.kind == kind), None)
        if g is None or g.image is None or "reader1" not in g.masks:
            what = "tumour" if kind == "tumor" else "lymph-node"
            raise InputError(f"case {cid}: no {what} image and mask to perturb")
        image_token = source_token(g.image)
        mask_token = source_token(g.masks["reader1"])
        keys = {}
        for p in task.specs:
            token = {
                "perturbation_format": PERTURBATION_FORMAT,
                "source": image_token,
                "chain": task.chain,
                "perturbation": {k: v for k, v in asdict(p).items() if k != "index"} | {
                    "shift_mm": list(p.shift_mm)
                },
            }
            for roi in rois:
                keys[(p.index, roi)] = entry_key(
                    task.params_json, token, g.spacing, mask_token, roi, width_mm=task.width_mm,
                    mask_options=(g.mask_combine, g.min_area_mm2),
                )  # fmt: skip
        out.append((g, keys))
    return out


def _run_case(task: _CaseTask) -> dict[tuple[int, str], tuple[dict, bool]]:
    """Features of every (perturbation, roi) of one case: ``{(index, roi): (features, cached)}``."""
    if os.getpid() != task.parent_pid:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    quiet_pyradiomics(False)
    out: dict[tuple[int, str], tuple[dict, bool]] = {}
    for g, keys in _case_keys(task):
        for rk, key in keys.items():
            entry = read_entry(task.cache_dir, key, rk[1])
            if entry is not None:
                out[rk] = (entry["features"], True)
        rois = sorted({r for _, r in keys}, key=task.rois.index)
        pending = [p for p in task.specs if any((p.index, r) not in out for r in rois)]
        if pending:
            _run_image(task, g, keys, rois, pending, out)
    return out


def _run_image(task: _CaseTask, g: Any, keys: dict, rois: list[str],
               pending: list[Perturbation], out: dict) -> None:  # fmt: skip
    """Perturb one image of a case (tumour or LN) and extract its pending ROIs into ``out``."""
    from radiomics_aln._pyradiomics_fast import fast_paths

    what = "tumour" if g.kind == "tumor" else "lymph-node"
    loaded = open_image(g.image, spacing=g.spacing)
    own = own_settings(task.params)
    image = as_float_image(loaded.image, f"case {g.case_id!r}, {what} image")
    copy_spacing_source(loaded.image, image)
    image = rescale_image(image, own["rescale"], f"case {g.case_id!r}, {what} image")
    mask = load_mask(g.masks["reader1"], loaded.image, combine=g.mask_combine,
                     min_area_mm2=g.min_area_mm2)  # fmt: skip
    if spacing_source(image) in ("unknown", "pixel"):
        column = "spacing" if g.kind == "tumor" else "ln_spacing"
        raise SpacingError(
            f"case {g.case_id}: perturbations are in mm but the {what} image's pixel spacing "
            f"is {spacing_source(image)}; give the spacing in mm (manifest column `{column}`)"
        )
    extractor = get_extractor(task.params)
    for v in sorted({p.variant for p in pending}):
        specs = [p for p in pending if p.variant == v]
        img, fov, msk = perturbed_image(image, loaded.fov, mask, specs[0])
        masks = _variant_rois(LoadedImage(img, fov), msk, specs, rois, task.width_mm)
        todo = [((p.index, r), masks[p.index][r]) for p in specs for r in rois
                if (p.index, r) not in out]  # fmt: skip
        with fast_paths():
            res = execute_masks(extractor, img, todo, own["bin_limits"])
        for rk, value in res.items():
            if isinstance(value, InputError):  # e.g. the bin check: the settings' limits
                raise type(value)(f"case {g.case_id}, perturbation {rk[0]}, {rk[1]}: {value}")
            if isinstance(value, Exception):
                raise ExtractionError(
                    f"case {g.case_id}, perturbation {rk[0]}, {rk[1]}: {value}"
                ) from value
            feats, diag = split_vector(value)
            write_entry(task.cache_dir, keys[rk], {
                "case_id": g.case_id, "perturbation": rk[0], "roi": rk[1], "versions": versions(),
                "features": feats, "diagnostics": diag,
            })  # fmt: skip
            out[rk] = (feats, False)


def _check_rois(rois: Any) -> tuple[str, ...]:
    return _roi_groups(rois, "rois")


def perturbation_readings(
    cases: Any,
    *,
    n_perturbations: int = 20,
    chain: PerturbationChain | None = None,
    rois: Sequence[str] = ("tumor", "peritumoral"),
    params: str | os.PathLike | Mapping[str, Any] = "ultrasound_2d",
    width_mm: float = 5.0,
    random_state: int | np.random.Generator = 0,
    n_jobs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    mask_combine: str = "union",
    min_area_mm2: float | None = None,
) -> dict[str, pd.DataFrame]:
    """Features of every perturbation of every case: one reading per perturbation.

    Parameters
    ----------
    cases : Manifest or sequence of Case / mapping
        The cases (their ``tumor_image``, ``tumor_mask``, ``spacing``, and for ``"ln"`` their
        ``ln_image``, ``ln_mask``; the first reader's mask is perturbed). A :class:`radiomics_aln.manifest.Manifest` gives its ``cases``.
    n_perturbations : int, default 20
        Perturbations per case (Zwanenburg et al. used 20-60 per chain).
    chain : PerturbationChain, optional
        The perturbations and their sizes (default: ``PerturbationChain()``).
    rois : sequence of str, default ("tumor", "peritumoral")
        ROIs of the tumour image (ring ROIs are rebuilt around each perturbed tumour) and
        ``"ln"``: the lymph-node image and mask get the same perturbations, about the node's
        centroid (the case's ``ln_image``, ``ln_mask``, ``ln_spacing``).
    params : str, path or dict, default "ultrasound_2d"
        Extraction settings (:func:`radiomics_aln.params.load_params`).
    width_mm : float, default 5.0
        Ring width.
    random_state : int or numpy.random.Generator, default 0
        Seed of every perturbation (per case: see :func:`perturbations`).
    n_jobs : int, optional
        joblib workers over cases; results are identical for any value.
    cache_dir : path, optional
        Extraction cache folder (it can be the one of :func:`extract_features`). Each ROI
        result is stored under a key holding the image and mask contents, the settings, the
        chain, the perturbation's parameters and seeds; a rerun is read from it.
    mask_combine, min_area_mm2
        How a mask of several components is read (as in :func:`extract_features`; a case's
        own values win), so that the perturbed ROIs start from the ROIs the study extracts.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``{"perturbation01": table, ...}``: cases x ``<roi>__<feature>`` tables (index
        ``case_id``), one per perturbation, the ``readings`` of one comparison for
        :class:`radiomics_aln.icc_filter.ICCFilter` (see :func:`perturbation_icc_filter`).

    Raises
    ------
    InputError, SpacingError, ExtractionError
        A case without tumour image or mask, unknown spacing, a perturbed ROI that PyRadiomics
        cannot use; the message names the case and the perturbation.

    Examples
    --------
    >>> import numpy as np, SimpleITK as sitk
    >>> rng = np.random.default_rng(0)
    >>> def case(i):
    ...     img = sitk.GetImageFromArray(rng.integers(0, 256, (96, 96)).astype(np.float64))
    ...     img.SetSpacing((0.1, 0.1))
    ...     m = np.zeros((96, 96), np.uint8)
    ...     m[30:60, 28:62] = 1
    ...     msk = sitk.GetImageFromArray(m)
    ...     msk.CopyInformation(img)
    ...     return {"case_id": f"c{i}", "tumor_image": img, "tumor_mask": msk}
    >>> params = {"setting": {"binWidth": 8}, "imageType": {"Original": {}},
    ...           "featureClass": {"firstorder": ["Mean"]}}
    >>> readings = perturbation_readings(
    ...     [case(i) for i in range(3)], n_perturbations=4, rois=("tumor",), params=params,
    ...     chain=PerturbationChain(image_variants=2),
    ... )
    >>> list(readings), readings["perturbation01"].shape
    (['perturbation01', 'perturbation02', 'perturbation03', 'perturbation04'], (3, 1))
    """
    from joblib import Parallel, delayed

    chain = (PerturbationChain() if chain is None else chain).check()
    _check_n(n_perturbations, chain)
    rois = _check_rois(rois)
    seed = _seed_of(random_state)
    case_list = list(getattr(cases, "cases", cases))
    if not case_list:
        raise InputError("perturbation_readings: no cases given")
    ids = [case_id_of(c) for c in case_list]
    if None in ids:
        raise InputError("perturbation_readings: a case has no case_id")
    dups = sorted({i for i in ids if ids.count(i) > 1})
    if dups:
        raise InputError(f"perturbation_readings: duplicated case ids {dups}")
    data = load_params(params)
    params_json = canonical_json(data)
    cache = None if cache_dir is None else Path(cache_dir)
    tasks = [
        _CaseTask(c, perturbations(cid, n_perturbations=n_perturbations, chain=chain,
                                   random_state=seed),
                  asdict(chain), data, params_json, rois, float(width_mm),
                  cache, os.getpid(), (mask_combine, min_area_mm2))
        for c, cid in zip(case_list, ids, strict=True)
    ]  # fmt: skip
    results = Parallel(n_jobs=n_jobs)(delayed(_run_case)(t) for t in tasks)
    n_cached = sum(c for res in results for _, c in res.values())
    logger.info(
        "perturbation_readings: %d ROI results, %d from the cache",
        sum(len(r) for r in results), n_cached,
    )
    readings = {}
    for i in range(n_perturbations):
        rows = {}
        for cid, res in zip(ids, results, strict=True):
            row: dict[str, float] = {}
            for roi in rois:
                row.update({feature_name(roi, k): v for k, v in res[(i, roi)][0].items()})
            rows[cid] = row
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = "case_id"
        readings[f"perturbation{i + 1:02d}"] = table
    return readings


def perturbation_icc_filter(
    readings: Mapping[str, pd.DataFrame],
    X: pd.DataFrame | None = None,
    *,
    threshold: float = 0.90,
    form: str = "ICC1",
    on: str = "estimate",
) -> ICCFilter:
    """An :class:`ICCFilter` fitted on the perturbation readings (ICC(1,1) >= 0.90 by default).

    Parameters
    ----------
    readings : mapping
        From :func:`perturbation_readings` (training cases only).
    X : pandas.DataFrame, optional
        A feature table whose columns define the feature set (e.g. the training features of
        :func:`extract_features`); default: the columns of the first reading.
    threshold : float, default 0.90
    form : str, default "ICC1"
        ICC(1,1), one-way random effects, single measurement: the perturbations are not the
        same "raters" across cases, as Zwanenburg et al. (2019) argue.
    on : {"estimate", "ci_low"}, default "estimate"

    Returns
    -------
    ICCFilter
        Fitted; its ``icc_`` has one comparison, ``"perturbation"``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> truth = pd.DataFrame(rng.normal(size=(30, 2)), columns=["tumor__a", "tumor__b"])
    >>> readings = {f"p{i}": truth + rng.normal(scale=[0.05, 1.0], size=(30, 2)) for i in range(5)}
    >>> perturbation_icc_filter(readings).selected_features_.tolist()
    ['tumor__a']

    References
    ----------
    Zwanenburg, A., Leger, S., Agolli, L., et al. (2019). Assessing robustness of radiomic
    features by image perturbation. Scientific Reports, 9, 614.
    """
    if not isinstance(readings, Mapping) or not readings:
        raise InputError("readings must be the non-empty dict of perturbation_readings()")
    if X is None:
        X = next(iter(readings.values()))
    filt = ICCFilter(threshold=threshold, form=form, on=on)
    return filt.fit(X, readings={"perturbation": dict(readings)})
