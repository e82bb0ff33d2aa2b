"""PyRadiomics on one image: the features of one ROI, or of several ROIs of one image at once.

:func:`extract_roi_features` returns the features of one in-memory image and mask, exactly as
``RadiomicsFeatureExtractor(<settings>).execute(image, mask)`` would, after the checks of the
``radiomics_aln`` settings section (:mod:`radiomics_aln.params`). :func:`execute_masks` does the
same for several masks of one image, running PyRadiomics' image filters (LoG, wavelet, ...)
once when its preprocessing gives every mask the same image: every value still equals a
separate ``execute`` call. Cohort-scale extraction (:mod:`radiomics_aln.extraction`) runs each
image through it.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import SimpleITK as sitk

from radiomics_aln.exceptions import ExtractionError, GeometryError, InputError, IntensityError
from radiomics_aln.images import copy_spacing_source
from radiomics_aln.masks import grid_problem
from radiomics_aln.params import (
    bin_problem,
    get_extractor,
    load_params,
    own_settings,
    quiet_pyradiomics,
    rescale_image,
)

__all__ = [
    "as_binary_mask",
    "as_float_image",
    "execute_masks",
    "extract_roi_features",
    "split_vector",
]


def as_float_image(image: sitk.Image, what: str) -> sitk.Image:
    """PyRadiomics must get floating-point pixels (integer images overflow in getBinEdges)."""
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(
            f"{what}: image has {image.GetNumberOfComponentsPerPixel()} components per pixel; "
            "pass a scalar (grey-level) image"
        )
    if image.GetDimension() != 2:
        raise InputError(f"{what}: expected a 2D image, got {image.GetDimension()}D")
    if image.GetPixelID() in (sitk.sitkFloat32, sitk.sitkFloat64):
        return image
    return sitk.Cast(image, sitk.sitkFloat64)


def as_binary_mask(mask: sitk.Image, image: sitk.Image, what: str) -> sitk.Image:
    """A uint8 0/1 mask on the image's grid (one non-zero label allowed, mapped to 1)."""
    if mask.GetNumberOfComponentsPerPixel() != 1 or mask.GetDimension() != 2:
        raise InputError(f"{what}: the mask must be a scalar 2D image")
    # The same grid test and tolerances as load_mask, so a mask that loads also extracts.
    problem = grid_problem(mask, image)
    if problem is not None:
        raise GeometryError(
            f"{what}: the mask is not on the image's grid: mask vs image {problem}. Resample "
            "the mask onto the image (nearest neighbour) or copy the image's geometry if it was "
            "drawn on this very image"
        )
    arr = sitk.GetArrayViewFromImage(mask)
    labels = np.unique(arr)
    labels = labels[labels != 0]
    if labels.size > 1:
        raise InputError(
            f"{what}: the mask has several labels {labels.tolist()}; pass one binary mask per ROI"
        )
    if mask.GetPixelID() == sitk.sitkUInt8 and (labels.size == 0 or labels[0] == 1):
        out = sitk.Image(mask)
    else:
        out = sitk.GetImageFromArray((arr != 0).astype(np.uint8))
    out.CopyInformation(image)
    # CopyInformation copies the grid only: carry the image's spacing source so that mm
    # operations on the mask (the ring) still see an unknown spacing as unknown.
    copy_spacing_source(image, out)
    return out


def split_vector(vector: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
    """PyRadiomics' ordered output -> (features as float, diagnostics as plain JSON values)."""
    feats: dict[str, float] = {}
    diags: dict[str, Any] = {}
    for name, value in vector.items():
        if name.startswith("diagnostics_"):
            diags[name] = _plain(value)
        else:
            feats[name] = float(np.asarray(value))
    return feats, diags


def _plain(value: Any) -> Any:
    """Diagnostics as str/int/float/bool so cached and fresh tables are identical."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def extract_roi_features(
    image: sitk.Image,
    mask: sitk.Image,
    *,
    params: str | os.PathLike | Mapping[str, Any] = "ultrasound_2d",
    verbose: bool = False,
) -> tuple[dict[str, float], dict[str, Any]]:
    """PyRadiomics features of one ROI on one in-memory 2D image.

    Parameters
    ----------
    image : SimpleITK.Image
        2D scalar image with its spacing in mm. Integer pixel types are converted to float64
        first (PyRadiomics' binning overflows on uint8 images that reach 255 with NumPy >= 2).
    mask : SimpleITK.Image
        Binary mask on the image's grid (non-zero = ROI).
    params : str, path or dict
        Settings, see :func:`radiomics_aln.params.load_params`.
    verbose : bool
        Keep PyRadiomics' warnings on stderr (default: silenced).

    Returns
    -------
    features : dict
        ``{pyradiomics name: float}`` in PyRadiomics' order (without ROI prefix).
    diagnostics : dict
        PyRadiomics' ``diagnostics_*`` entries.

    Raises
    ------
    InputError, GeometryError
        Non-scalar or non-2D image, several labels in the mask, mask off the image grid.
    IntensityError
        The ROI gets fewer or more grey-level bins on the original image than the settings'
        ``bin_limits`` allow (see :func:`extract_features`), or pixels outside ``rescale``.
    ExtractionError
        PyRadiomics failed (e.g. empty mask); the message is PyRadiomics'.

    Examples
    --------
    >>> import numpy as np, SimpleITK as sitk
    >>> rng = np.random.default_rng(0)
    >>> img = sitk.GetImageFromArray(rng.integers(0, 256, (64, 64)).astype(np.uint8))
    >>> img.SetSpacing((0.1, 0.1))
    >>> m = np.zeros((64, 64), np.uint8)
    >>> m[20:40, 22:44] = 1
    >>> msk = sitk.GetImageFromArray(m)
    >>> msk.CopyInformation(img)
    >>> feats, diag = extract_roi_features(img, msk)
    >>> len(feats), round(feats["original_shape2D_PixelSurface"], 2)
    (846, 4.4)
    """
    from radiomics_aln._pyradiomics_fast import fast_paths

    data = load_params(params)
    own = own_settings(data)
    quiet_pyradiomics(verbose)
    img = rescale_image(as_float_image(image, "image"), own["rescale"], "image")
    msk = as_binary_mask(mask, img, "mask")
    with fast_paths():
        res = execute_masks(get_extractor(data), img, [(0, msk)], own["bin_limits"])[0]
    if isinstance(res, IntensityError):
        raise res
    if isinstance(res, Exception):
        raise ExtractionError(f"PyRadiomics failed: {res}") from res
    return split_vector(res)


def execute_masks(
    extractor: Any,
    image: sitk.Image,
    masks: Sequence[tuple[Any, sitk.Image]],
    bin_limits: tuple[int, int] | None = None,
) -> dict:
    """``extractor.execute(image, mask)`` for several masks of one image, filtering it once.

    Returns ``{key: OrderedDict | Exception}``. The filtered images of one mask are reused for the
    next only when PyRadiomics' preprocessing (resampling/cropping) produced a bit-identical image
    on an identical grid, so every value equals a separate ``execute`` call; otherwise the filters
    are simply run again. Settings this path does not reproduce fall back to ``execute``.
    A ROI whose original-image bin count is outside ``bin_limits`` gets an
    :class:`IntensityError` before any feature is computed.
    """
    from radiomics import generalinfo, imageoperations

    settings = extractor.settings
    shareable = (
        settings.get("resegmentRange") is None
        and "LBP3D" not in extractor.enabledImagetypes  # the only filter that reads the mask
    )
    extractor._setTolerance()  # as execute() does when the global tolerance was changed
    out: dict = {}
    shared = None
    for key, mask in masks:
        try:
            if not shareable:
                out[key] = _execute_alone(extractor, image, mask, bin_limits)
                continue
            _settings = settings.copy()
            label = _settings.get("label", 1)
            info = None
            if _settings.get("additionalInfo", False):
                info = generalinfo.GeneralInfo()
                info.addGeneralSettings(_settings)
                info.addEnabledImageTypes(extractor.enabledImagetypes)
            vector: collections.OrderedDict = collections.OrderedDict()
            img, msk = extractor.loadImage(image, mask, info, **_settings)
            bbox, corrected = imageoperations.checkMask(img, msk, **_settings)
            if corrected is not None:
                if info is not None:
                    info.addMaskElements(img, corrected, label, "corrected")
                msk = corrected
            problem = bin_problem(extractor, img, msk, bin_limits)
            if problem is not None:
                raise IntensityError(problem)
            if info is not None:
                vector.update(info.getGeneralInfo())
            vector.update(extractor.computeShape(img, msk, bbox, **_settings))

            arr = sitk.GetArrayViewFromImage(img)
            grid = (img.GetPixelID(), img.GetSize(), img.GetOrigin(), img.GetSpacing())
            grid += (img.GetDirection(),)
            if shared is not None and shared[0] == grid and np.array_equal(shared[1], arr):
                filtered = shared[2]
            else:
                filtered = []
                for image_type, custom in extractor.enabledImagetypes.items():
                    args = _settings.copy()
                    args.update(custom)
                    gen = getattr(imageoperations, f"get{image_type}Image")(img, msk, **args)
                    filtered.extend(gen)
                shared = (grid, np.array(arr, copy=True), filtered)
            for filtered_image, type_name, kwargs in filtered:
                cropped, cropped_mask = imageoperations.cropToTumorMask(
                    filtered_image, msk, bbox, padDistance=0
                )
                vector.update(extractor.computeFeatures(cropped, cropped_mask, type_name, **kwargs))
            out[key] = vector
        except Exception as exc:  # reported per mask by the caller
            out[key] = exc
    return out


def _execute_alone(
    extractor: Any, image: sitk.Image, mask: sitk.Image, bin_limits: tuple[int, int] | None
) -> Any:
    """``extractor.execute(image, mask)``, after the bin check on PyRadiomics' own inputs."""
    from radiomics import imageoperations

    settings = extractor.settings
    if bin_limits is not None:
        img, msk = extractor.loadImage(image, mask, None, **settings)
        corrected = imageoperations.checkMask(img, msk, **settings)[1]
        msk = corrected if corrected is not None else msk
        if settings.get("resegmentRange") is not None:
            msk = imageoperations.resegmentMask(img, msk, **settings)
        problem = bin_problem(extractor, img, msk, bin_limits)
        if problem is not None:
            raise IntensityError(problem)
    return extractor.execute(image, mask)
