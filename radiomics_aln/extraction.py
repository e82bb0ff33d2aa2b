"""PyRadiomics feature extraction at cohort scale: shipped settings, parallel, cached, resumable.

:func:`extract_features` turns a manifest (or a list of cases) into one tidy feature table with
one row per case and one column per ROI x PyRadiomics feature, named ``"{roi}__{pyradiomics
name}"`` (e.g. ``tumor__original_glcm_Contrast``). PyRadiomics' diagnostics are returned in a
separate table, failures in a third; repeat segmentations (second reader, repeat by the first
reader) are extracted on request into tables of the same shape for the ICC step.

Every value equals what a plain ``RadiomicsFeatureExtractor(<settings file>).execute(image,
mask)`` returns for the loaded (floating-point) image and mask: the speed-ups used here (one
decode per image, one filtering per image for all of its masks, NumPy min/max in the binning
step, one discretisation per filtered image for all feature classes) are applied only where
they are bit-identical, and tests check it. See ``docs/extraction.md`` for the settings
reference, the naming grammar and the benchmark.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import hashlib
import json
import logging
import math
import numbers
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import SimpleITK as sitk
import yaml

from radiomics_aln._validation import format_items
from radiomics_aln._version import __version__
from radiomics_aln.cohort import READERS
from radiomics_aln.exceptions import (
    DuplicateImageWarning,
    ExtractionError,
    GeometryError,
    InputError,
    IntensityError,
    MaskComponentsWarning,
    SpacingError,
)
from radiomics_aln.roi import SPACING_RANGE_MM, _check_mask_options, _grid_problem

__all__ = [
    "ROI_NAMES",
    "READERS",
    "ExtractionResult",
    "available_params",
    "load_params",
    "params_path",
    "extract_features",
    "extract_roi_features",
    "write_features",
    "read_features",
]

logger = logging.getLogger(__name__)

#: ROI names, in the order their columns appear in feature tables.
ROI_NAMES: tuple[str, ...] = ("tumor", "peritumoral", "tumor_peritumoral", "ln")

_TUMOR_GROUP_ROIS = ("tumor", "peritumoral", "tumor_peritumoral")
_SEP = "__"  # between ROI and PyRadiomics name; PyRadiomics names never contain it
_PARAMS_PACKAGE = "radiomics_aln.params"
# Bump when the cache entry layout changes, or when entries may hold values the current checks
# refuse (2: entries carry a checksum and their mask options; entries from before the spacing and
# bin checks may hold features at 1 mm per pixel).
_CACHE_FORMAT = 2
#: Top-level section of a settings file read by radiomics_aln (PyRadiomics never sees it).
_OWN_SECTION = "radiomics_aln"
#: Default fewest and most grey-level bins a ROI may get on the original image.
BIN_LIMITS: tuple[int, int] = (8, 1000)

#: Columns of ``ExtractionResult.duplicates``: one row per pair of case ids whose images are
#: byte-identical; ``conflict`` is True/False when both outcomes are known, else missing.
DUPLICATE_COLUMNS = (
    "case_id_1", "case_id_2", "image", "file_1", "file_2", "outcome_1", "outcome_2", "conflict",
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


def available_params() -> list[str]:
    """Names of the settings files shipped in ``radiomics_aln/params``.

    Returns
    -------
    list of str
        Names usable as ``params=`` (file names without ``.yaml``), sorted.

    Examples
    --------
    >>> "ultrasound_2d" in available_params()
    True
    """
    folder = resources.files(_PARAMS_PACKAGE)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def params_path(name: str = "ultrasound_2d") -> Path:
    """Path of a shipped settings file, e.g. to cite it or pass it to PyRadiomics directly.

    Parameters
    ----------
    name : str
        A name from :func:`available_params`.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        If no shipped file has that name.

    Examples
    --------
    >>> params_path("ultrasound_2d").name
    'ultrasound_2d.yaml'
    """
    names = available_params()
    if name not in names:
        raise InputError(f"params: no shipped settings named {name!r}; available: {names}")
    return Path(str(resources.files(_PARAMS_PACKAGE).joinpath(f"{name}.yaml")))


def load_params(params: str | os.PathLike | Mapping[str, Any] = "ultrasound_2d") -> dict:
    """Resolve and validate PyRadiomics settings.

    Parameters
    ----------
    params : str, path or dict
        The name of a shipped settings file (see :func:`available_params`), a path to a PyRadiomics
        YAML/JSON parameter file, or a dict with PyRadiomics' ``setting`` / ``imageType`` /
        ``featureClass`` sections.

    Returns
    -------
    dict
        A deep copy of the settings, validated with PyRadiomics' own schema
        (``radiomics/schemas/paramSchema.yaml``, through ``RadiomicsFeatureExtractor``).

    Raises
    ------
    InputError
        Unknown name, missing or unreadable file, a schema violation (PyRadiomics' message is
        included), or ``force2D: true`` (degenerate on the 2D images this library extracts from:
        see ``docs/extraction.md``).

    Examples
    --------
    >>> p = load_params("ultrasound_2d")
    >>> p["setting"]["resampledPixelSpacing"], p["imageType"]["LoG"]["sigma"]
    ([0.1, 0.1], [0.5, 1.0, 2.0, 4.0])
    >>> load_params({"setting": {"binWidth": -1}})
    Traceback (most recent call last):
    ...
    radiomics_aln.exceptions.InputError: params: PyRadiomics rejected the settings (dict): ...Path: '/setting/binWidth'...
    """
    if isinstance(params, Mapping):
        data = copy.deepcopy(dict(params))
        source = "dict"
    elif isinstance(params, str | os.PathLike):
        text = os.fspath(params)
        looks_like_path = text.endswith((".yaml", ".yml", ".json")) or os.sep in text
        path = Path(text) if looks_like_path else params_path(text)
        if not path.is_file():
            raise InputError(f"params: settings file {path} does not exist")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:  # not UTF-8: say so
            raise InputError(f"params: cannot read settings file {path}: {exc}") from exc
        source = str(path)
    else:
        raise InputError(
            f"params must be a shipped name, a path or a dict, not {type(params).__name__}"
        )
    if not isinstance(data, dict):
        raise InputError(f"params ({source}): expected a mapping at the top level")
    _own_settings(data, source)
    _validate_with_pyradiomics(data, source)
    settings = data.get("setting") or {}
    if settings.get("force2D", False):
        raise InputError(
            f"params ({source}): force2D is true; radiomics_aln extracts from true 2D images, "
            "where force2D makes PyRadiomics' wavelet one-dimensional and changes GLCM/GLRLM "
            "values. Use force2D: false (see docs/extraction.md, 'The force2D convention')."
        )
    spacing = settings.get("resampledPixelSpacing")
    if spacing is not None and len(spacing) != 2:
        raise InputError(
            f"params ({source}): resampledPixelSpacing must have 2 values (x, y in mm) for 2D "
            f"images, got {spacing}"
        )
    return data


def _pair(value: Any, key: str, source: str) -> tuple[float, float]:
    """A [low, high] list of finite numbers with low < high, for the radiomics_aln section."""
    try:
        if isinstance(value, str | bytes | Mapping) or len(value) != 2:
            raise TypeError
        lo, hi = (float(v) for v in value)
        if any(isinstance(v, bool) for v in value):
            raise TypeError
    except (TypeError, ValueError):
        raise InputError(
            f"params ({source}): {_OWN_SECTION}.{key} must be [low, high], got {value!r}"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InputError(
            f"params ({source}): {_OWN_SECTION}.{key} must be [low, high] with finite "
            f"low < high, got {value!r}"
        )
    return lo, hi


def _own_settings(data: Mapping[str, Any], source: str = "settings") -> dict[str, Any]:
    """The ``radiomics_aln`` section of a settings file, checked, with its defaults.

    ``rescale``: None, or ``{"from": [low, high] | "image", "to": [low, high]}`` (``to``
    defaults to [0, 255]). ``bin_limits``: [fewest, most] bins of a ROI on the original image,
    or None to skip that check.
    """
    section = data.get(_OWN_SECTION)
    if section is None:
        section = {}
    if not isinstance(section, Mapping):
        raise InputError(
            f"params ({source}): `{_OWN_SECTION}` must be a mapping with `rescale` and/or "
            f"`bin_limits`, got {section!r}"
        )
    unknown = sorted(set(section) - {"rescale", "bin_limits"})
    if unknown:
        raise InputError(
            f"params ({source}): unknown key(s) {unknown} in `{_OWN_SECTION}`; known: "
            "rescale, bin_limits"
        )
    out: dict[str, Any] = {"rescale": None, "bin_limits": BIN_LIMITS}
    limits = section.get("bin_limits", list(BIN_LIMITS))
    if limits is not None:
        lo, hi = _pair(limits, "bin_limits", source)
        if not (lo >= 1 and lo == int(lo) and hi == int(hi)):
            raise InputError(
                f"params ({source}): {_OWN_SECTION}.bin_limits must be two whole numbers "
                f"[fewest, most] >= 1, got {limits!r}"
            )
        out["bin_limits"] = (int(lo), int(hi))
    else:
        out["bin_limits"] = None
    rescale = section.get("rescale")
    if rescale is not None:
        if not isinstance(rescale, Mapping) or "from" not in rescale:
            raise InputError(
                f"params ({source}): {_OWN_SECTION}.rescale must be a mapping such as "
                "{from: [0, 65535], to: [0, 255]} or {from: image}, got " + repr(rescale)
            )
        bad = sorted(set(rescale) - {"from", "to"})
        if bad:
            raise InputError(
                f"params ({source}): unknown key(s) {bad} in {_OWN_SECTION}.rescale; known: "
                "from, to"
            )
        src = rescale["from"]
        src = "image" if src == "image" else _pair(src, "rescale.from", source)
        dst = _pair(rescale.get("to", [0, 255]), "rescale.to", source)
        out["rescale"] = {"from": src, "to": dst}
    return out


def _validate_with_pyradiomics(data: dict, source: str) -> None:
    _quiet_pyradiomics()
    try:
        _new_extractor(data)
    except Exception as exc:  # pykwalify raises its own SchemaError with the offending path
        msg = " ".join(str(exc).split())
        raise InputError(f"params: PyRadiomics rejected the settings ({source}): {msg}") from exc


def _new_extractor(data: dict):
    """A ``RadiomicsFeatureExtractor`` for a copy of ``data`` (construction validates it)."""
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    data = {k: v for k, v in data.items() if k != _OWN_SECTION}  # ours, not PyRadiomics'
    with warnings.catch_warnings():
        # PyRadiomics validates settings with pykwalify, which loads its schema extension with the
        # deprecated importlib load_module(); under -W error that warning would read as a
        # rejection of valid settings.
        warnings.filterwarnings(
            "ignore", r"the load_module\(\) method is deprecated", DeprecationWarning
        )
        return RadiomicsFeatureExtractor(copy.deepcopy(data))


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _quiet_pyradiomics(verbose: bool = False) -> None:
    """Silence PyRadiomics' log: its own stderr handler and what it passes up to the handlers a
    user configured (``logging.basicConfig``), without touching the root logger."""
    import radiomics

    radiomics.setVerbosity(logging.WARNING if verbose else 60)
    # records still propagate to the root's handlers: ~12 000 "GLCM is symmetrical" lines on a
    # 650-image run; their failures reach the user as exceptions and failure rows instead
    logging.getLogger("radiomics").setLevel(logging.WARNING if verbose else logging.ERROR)


# --------------------------------------------------------------------------------------------
# Per-image extraction core
# --------------------------------------------------------------------------------------------

_EXTRACTORS: dict[str, Any] = {}


def _get_extractor(params: dict):
    """One validated extractor per settings per process (construction runs the schema check)."""
    key = _canonical_json(params)
    ext = _EXTRACTORS.get(key)
    if ext is None:
        ext = _new_extractor(params)
        _EXTRACTORS[key] = ext
    return ext


def _as_float_image(image: sitk.Image, what: str) -> sitk.Image:
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


def _as_binary_mask(mask: sitk.Image, image: sitk.Image, what: str) -> sitk.Image:
    """A uint8 0/1 mask on the image's grid (one non-zero label allowed, mapped to 1)."""
    if mask.GetNumberOfComponentsPerPixel() != 1 or mask.GetDimension() != 2:
        raise InputError(f"{what}: the mask must be a scalar 2D image")
    # The same grid test and tolerances as roi.load_mask, so a mask that loads also extracts.
    problem = _grid_problem(mask, image)
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
    # CopyInformation copies the grid only: carry the image's spacing source (roi's metadata)
    # so that mm operations on the mask (the ring) still see an unknown spacing as unknown.
    _copy_spacing_tag(image, out)
    return out


def _copy_spacing_tag(src: sitk.Image, dst: sitk.Image) -> None:
    from radiomics_aln.roi import _KEY_SPACING

    if src.HasMetaDataKey(_KEY_SPACING):
        dst.SetMetaData(_KEY_SPACING, src.GetMetaData(_KEY_SPACING))


def _rescale(image: sitk.Image, rescale: Mapping[str, Any] | None, what: str) -> sitk.Image:
    """Map grey levels linearly from ``rescale["from"]`` (or the image's min-max) to ``"to"``."""
    if rescale is None:
        return image
    arr = sitk.GetArrayViewFromImage(image).astype(np.float64)
    lo_img, hi_img = float(arr.min()), float(arr.max())
    if rescale["from"] == "image":
        lo, hi = lo_img, hi_img
        if hi == lo:
            raise IntensityError(
                f"{what}: every pixel is {lo:g}, so rescale from: image (its own minimum and "
                "maximum) is undefined; the image carries no texture"
            )
    else:
        lo, hi = rescale["from"]
        if lo_img < lo or hi_img > hi:
            raise IntensityError(
                f"{what}: grey levels {lo_img:.6g} to {hi_img:.6g} fall outside rescale "
                f"from [{lo:g}, {hi:g}] of the settings; state the range the scanner writes "
                "(e.g. [0, 65535] for 16 bit, [0, 4095] for 12 bit, [0, 1] for scaled floats)"
            )
    t_lo, t_hi = rescale["to"]
    # Multiply before dividing: a 16-bit value 257*k maps to exactly k (bin edges unmoved).
    out = sitk.GetImageFromArray((arr - lo) * (t_hi - t_lo) / (hi - lo) + t_lo)
    out.CopyInformation(image)
    for key in image.GetMetaDataKeys():
        out.SetMetaData(key, image.GetMetaData(key))
    return out


def _bin_problem(extractor, img: sitk.Image, msk: sitk.Image, limits) -> str | None:
    """Why the ROI's grey levels give too few or too many bins on the original image, or None.

    ``img``/``msk`` are what PyRadiomics extracts from (after its normalisation and
    resampling). The count is PyRadiomics' own: ``binCount``, or for a bin width ``W``
    ``floor(max / W) - floor(min / W) + 1``: the highest grey level after
    ``radiomics.imageoperations.binImage`` (the matrices of the texture classes are that size).
    """
    if limits is None or "Original" not in extractor.enabledImagetypes:
        return None
    kw = {**extractor.settings, **(extractor.enabledImagetypes["Original"] or {})}
    label = kw.get("label", 1)
    values = sitk.GetArrayViewFromImage(img)[sitk.GetArrayViewFromImage(msk) == label]
    if values.size == 0:
        return None  # PyRadiomics reports the empty ROI itself
    lo, hi = float(values.min()), float(values.max())
    if kw.get("binCount") is not None:
        n, how = int(kw["binCount"]), f"binCount {kw['binCount']}"
    else:
        width = float(kw.get("binWidth", 25))
        n, how = int(math.floor(hi / width) - math.floor(lo / width) + 1), f"binWidth {width:g}"
    fewest, most = limits
    if fewest <= n <= most:
        return None
    steps = [k for k, on in (("normalised", kw.get("normalize")),
                             ("resampled", kw.get("resampledPixelSpacing"))) if on]  # fmt: skip
    after = f" ({' and '.join(steps)} as the settings ask)" if steps else ""
    if n < fewest:
        what = f"{n} bin(s), fewer than {fewest}: texture features would be degenerate"
        hint = "for grey levels scaled to 0-1, rescale: {from: [0, 1]}"
    else:
        what = f"{n} bins, more than {most}: the texture matrices would take minutes and GBs"
        hint = "for a 16-bit image, rescale: {from: [0, 65535]}"
    return (
        f"the ROI's grey levels on the original image span {lo:.6g} to {hi:.6g}{after}; "
        f"{how} gives {what}. The shipped settings expect 8-bit grey levels (0-255). Remedy: "
        f"rescale the image in the settings' {_OWN_SECTION} section ({hint}), set binCount, or "
        f"use settings made for this intensity scale (bin_limits [{fewest}, {most}] in that "
        "section widens the check; see docs/extraction.md, 'Intensity scale')"
    )


def _execute_masks(
    extractor,
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
                if bin_limits is not None:
                    img, msk = extractor.loadImage(image, mask, None, **settings)
                    corrected = imageoperations.checkMask(img, msk, **settings)[1]
                    msk = corrected if corrected is not None else msk
                    if settings.get("resegmentRange") is not None:
                        msk = imageoperations.resegmentMask(img, msk, **settings)
                    problem = _bin_problem(extractor, img, msk, bin_limits)
                    if problem is not None:
                        raise IntensityError(problem)
                out[key] = extractor.execute(image, mask)
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
            problem = _bin_problem(extractor, img, msk, bin_limits)
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


def _split_vector(vector: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
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
    params: str | os.PathLike | Mapping[str, Any] = "ultrasound_2d",
    *,
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
        Settings, see :func:`load_params`.
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
    own = _own_settings(data)
    _quiet_pyradiomics(verbose)
    img = _rescale(_as_float_image(image, "image"), own["rescale"], "image")
    msk = _as_binary_mask(mask, img, "mask")
    with fast_paths():
        res = _execute_masks(_get_extractor(data), img, [(0, msk)], own["bin_limits"])[0]
    if isinstance(res, IntensityError):
        raise res
    if isinstance(res, Exception):
        raise ExtractionError(f"PyRadiomics failed: {res}") from res
    return _split_vector(res)


# --------------------------------------------------------------------------------------------
# Cases: normalisation of the inputs
# --------------------------------------------------------------------------------------------

_IN_MEMORY = "<SimpleITK image>"


@dataclass
class _Group:
    """One image of a case with the masks (per reader) drawn on it."""

    case_id: str
    kind: str  # "tumor" or "ln"
    image: Any  # Path or sitk.Image
    spacing: Any
    masks: dict[str, Any]  # reader -> tuple[Path, ...] | sitk.Image
    rois: tuple[str, ...]
    combine: str = "union"  # connected components of the masks: "union" or "largest"
    min_area_mm2: float | None = None
    outcome: Any = None  # only to say whether duplicated images have conflicting outcomes


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return isinstance(value, tuple | list) and len(value) == 0


def _mask_source(value: Any) -> Any:
    if isinstance(value, sitk.Image):
        return value
    if isinstance(value, str | os.PathLike):
        return tuple(Path(p.strip()) for p in os.fspath(value).split(";") if p.strip())
    return tuple(Path(p) for p in value)


def _image_source(value: Any) -> Any:
    return value if isinstance(value, sitk.Image) else Path(value)


def _normalise_cases(
    cases_or_manifest: Any,
    rois: tuple[str, ...],
    readers: tuple[str, ...],
    combine: str = "union",
    min_area_mm2: float | None = None,
) -> tuple[list[str], list[_Group]]:
    cases = getattr(cases_or_manifest, "cases", cases_or_manifest)
    if isinstance(cases, Mapping | str | os.PathLike) or not isinstance(cases, Iterable):
        raise InputError(
            "cases_or_manifest must be a Manifest (radiomics_aln.cohort.read_manifest) or a "
            f"sequence of cases, not {type(cases_or_manifest).__name__}"
        )
    case_ids: list[str] = []
    groups: list[_Group] = []
    seen: set[str] = set()
    tumor_rois = tuple(r for r in rois if r in _TUMOR_GROUP_ROIS)
    for i, case in enumerate(cases):
        case_id = _get(case, "case_id")
        if _is_missing(case_id):
            raise InputError(f"case number {i} has no case_id")
        case_id = str(case_id)
        if case_id in seen:
            raise InputError(f"case_id {case_id!r} appears more than once")
        seen.add(case_id)
        case_ids.append(case_id)
        repeat = _get(case, "repeat_masks") or {}
        # a case's own mask options (manifest columns) win over the batch setting
        case_combine = _get(case, "mask_combine")
        case_combine = combine if _is_missing(case_combine) else case_combine
        case_area = _get(case, "min_area_mm2")
        case_area = min_area_mm2 if _is_missing(case_area) else case_area
        _check_mask_options(case_combine, case_area, where=f"case {case_id!r}: ")
        outcome = _get(case, "outcome")
        for kind, group_rois in (("tumor", tumor_rois), ("ln", ("ln",) if "ln" in rois else ())):
            if not group_rois:
                continue
            image = _get(case, f"{kind}_image")
            mask = _get(case, f"{kind}_mask")
            spacing = _get(case, "spacing") if kind == "tumor" else _get(case, "ln_spacing")
            if kind == "ln" and _is_missing(spacing):
                spacing = _get(case, "spacing")
            masks: dict[str, Any] = {}
            if not _is_missing(mask):
                masks["reader1"] = _mask_source(mask)
            for reader in readers:
                if reader == "reader1":
                    continue
                rmask = (repeat.get(reader) or {}).get(kind)
                if not _is_missing(rmask):
                    masks[reader] = _mask_source(rmask)
            if _is_missing(image):
                image = None
            else:
                image = _image_source(image)
            groups.append(
                _Group(
                    case_id,
                    kind,
                    image,
                    None if _is_missing(spacing) else spacing,
                    masks,
                    group_rois,
                    case_combine,
                    None if case_area is None else float(case_area),
                    None if _is_missing(outcome) else outcome,
                )
            )
    return case_ids, groups


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _image_digest(image: sitk.Image) -> str:
    h = hashlib.sha256()
    arr = sitk.GetArrayViewFromImage(image)
    h.update(str(arr.dtype).encode())
    h.update(_canonical_json([image.GetSize(), image.GetSpacing(), image.GetOrigin()]).encode())
    h.update(_canonical_json(image.GetDirection()).encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def _source_token(source: Any) -> Any:
    if isinstance(source, sitk.Image):
        return ["image", _image_digest(source)]
    if isinstance(source, Path):
        return ["file", _file_digest(source)]
    return ["files", [_file_digest(p) for p in source]]


def _versions() -> dict[str, str]:
    import radiomics

    return {"radiomics_aln": __version__, "pyradiomics": str(radiomics.__version__)}


def _roi_key(
    params_json: str,
    image_token: Any,
    spacing: Any,
    mask_token: Any,
    roi: str,
    ring_mm: float,
    mask_options: tuple[str, float | None] = ("union", None),
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM,
) -> str:
    payload = {
        "format": _CACHE_FORMAT,
        "versions": _versions(),
        "settings": params_json,
        "image": image_token,
        "spacing": None if spacing is None else str(spacing),
        "mask": mask_token,
        # which connected components of the mask make the ROI (combine, min_area_mm2)
        "mask_options": list(mask_options),
        # a header spacing is checked against the range only when the image is read: an entry
        # computed under a wider range must not be served under a narrower one
        "spacing_range": None if spacing_range is None else [float(v) for v in spacing_range],
        "roi": roi,
        "ring_mm": ring_mm if roi in ("peritumoral", "tumor_peritumoral") else None,
    }
    return hashlib.sha256(_canonical_json(payload).encode()).hexdigest()


def _cache_file(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.json"


def _values_checksum(values: Mapping[str, Any]) -> str:
    """SHA-256 of an entry's values as JSON stores them (so a hand-edited value is detected)."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _cache_problem(entry: Any, key: str, roi: str | None) -> str | None:
    """Why a cache entry cannot be used (None: it can).

    An entry is trusted only when it is exactly what :func:`_cache_write` stores: its key and
    ROI, a non-empty mapping of float features, a diagnostics mapping, and the checksum of those
    values.
    """
    if not isinstance(entry, dict):
        return f"it holds {type(entry).__name__ if entry is not None else 'null'}, not an entry"
    missing = [k for k in _CACHE_KEYS if k not in entry]
    if missing:
        return f"it lacks {', '.join(missing)}"
    if entry["key"] != key:
        return "its key does not match its file name"
    if roi is not None and entry["roi"] != roi:
        return f"it holds ROI {entry['roi']!r}, not {roi!r}"
    feats = entry["features"]
    if not isinstance(feats, dict) or not feats:
        return "its features are not a non-empty mapping"
    bad = [k for k, v in feats.items() if not isinstance(v, float)]
    if bad:
        return f"feature {bad[0]!r} is {feats[bad[0]]!r}, not a float"
    if not isinstance(entry["diagnostics"], dict):
        return "its diagnostics are not a mapping"
    values = {"features": feats, "diagnostics": entry["diagnostics"]}
    if entry["checksum"] != _values_checksum(values):
        return "its values do not match their checksum (edited or damaged)"
    return None


_CACHE_KEYS = ("key", "roi", "features", "diagnostics", "checksum")


def _cache_read(cache_dir: Path | None, key: str, roi: str | None = None) -> dict | None:
    """A validated cache entry, or None (absent, or damaged: then it is recomputed and rewritten)."""
    if cache_dir is None:
        return None
    path = _cache_file(cache_dir, key)
    try:
        with open(path, encoding="utf-8") as fh:
            entry = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:  # unreadable entry: recompute it
        logger.warning("recomputing unreadable cache entry %s: %s", path, _message(exc))
        return None
    problem = _cache_problem(entry, key, roi)
    if problem is not None:
        logger.warning("recomputing damaged cache entry %s: %s", path, problem)
        return None
    return entry


def _cache_write(cache_dir: Path | None, key: str, entry: dict) -> None:
    """Write atomically: a temporary file in the same folder, then os.replace.

    The temporary file ends in ``.tmp``, never ``.json``, so nothing that lists entries
    (``*.json``) sees a half-written one.
    """
    if cache_dir is None:
        return
    path = _cache_file(cache_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the checksum is of the values as they read back from JSON (tuples become lists)
    values = json.loads(
        json.dumps({"features": entry["features"], "diagnostics": entry["diagnostics"]},
                   allow_nan=True)
    )  # fmt: skip
    doc = {"key": key, **entry, "checksum": _values_checksum(values)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:16]}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, allow_nan=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------------------------
# Work unit: one image of one case, all of its requested masks
# --------------------------------------------------------------------------------------------


@dataclass
class _Task:
    group: _Group
    params: dict
    params_json: str
    ring_mm: float
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


def _load_image(group: _Group, params: Mapping[str, Any], spacing_range=SPACING_RANGE_MM):
    """Decode the image once for all its masks; returns (float image, field-of-view or None).

    Every route to PyRadiomics passes here, so this is where an image without a known pixel
    spacing is refused: PyRadiomics would otherwise take SimpleITK's default of 1 mm per pixel
    (shape in mm, the resampling to the settings' spacing and the ring all depend on it).
    """
    from radiomics_aln import roi

    name = _describe(group.image)  # the failure record adds the case and ROI
    if isinstance(group.image, sitk.Image):
        image, fov = group.image, None
    else:
        image, fov = roi.load_image(group.image, spacing=group.spacing, return_fov=True)
    if roi.spacing_source(image) == "unknown":
        raise SpacingError(
            f"the pixel spacing of {name} is unknown (PNG/JPEG/BMP/TIFF files carry none; their "
            "dpi tag is not the scanner's pixel size) and features are in mm (shape, the "
            "resampling to the settings' spacing, the ring): it is never assumed to be 1 mm. "
            "Give the mm per pixel in the manifest's `spacing` (or `ln_spacing`) column or the "
            "case's spacing=, or use a file format with spacing (NRRD, NIfTI, DICOM)"
        )
    roi.check_spacing_range(image, spacing_range, name)
    out = _as_float_image(image, f"case {group.case_id!r}, {group.kind} image")
    _copy_spacing_tag(image, out)  # a cast drops metadata
    return _rescale(out, _own_settings(params)["rescale"], name), fov


def _load_mask(
    source: Any, image: sitk.Image, what: str, combine: str = "union", min_area: Any = None
) -> tuple[sitk.Image, dict[str, int]]:
    """The binary mask with its chosen connected components, and their counts (diagnostics)."""
    from radiomics_aln import roi

    if isinstance(source, sitk.Image):
        mask = _as_binary_mask(source, image, what)
    else:
        mask = roi.load_mask(list(source), like=image)
        mask = _as_binary_mask(mask, image, what)
    fg = sitk.GetArrayViewFromImage(mask) != 0
    if not fg.any():
        raise InputError(f"{what}: the mask is empty")
    kept, n_drawn, n_kept = roi._select_components(fg, image, what, combine, min_area)
    if n_kept < n_drawn:  # keeps the mask's spacing-source tag (roi._mask_like copies it)
        mask = roi._mask_like(kept, mask, roi._describe(mask))
    counts = {
        "diagnostics_radiomics_aln_MaskComponents": int(n_drawn),
        "diagnostics_radiomics_aln_MaskComponentsUsed": int(n_kept),
    }
    return mask, counts


def _derive_rois(base: sitk.Image, fov: Any, wanted: tuple[str, ...], ring_mm: float):
    """tumor mask -> ({"tumor", "peritumoral", "tumor_peritumoral"} masks, ring diagnostics)."""
    out: dict[str, Any] = {}
    diag: dict[str, Any] = {}
    if "tumor" in wanted:
        out["tumor"] = base
    if "peritumoral" in wanted or "tumor_peritumoral" in wanted:
        from radiomics_aln import roi

        try:
            ring, cov = roi.peritumoral_ring(
                base, width_mm=ring_mm, within=fov, min_coverage=None, return_coverage=True
            )
            if cov.n_pixels == 0:
                raise InputError(
                    f"the {ring_mm:g} mm peritumoral ring has zero pixels (clipped by the image "
                    "edge or field of view)"
                )
            diag = {
                "diagnostics_radiomics_aln_RingWidthMm": float(ring_mm),
                "diagnostics_radiomics_aln_RingCoverage": float(cov.coverage),
                "diagnostics_radiomics_aln_RingCoverageImage": float(cov.coverage_image),
            }
        except Exception as exc:
            ring = exc
        if "peritumoral" in wanted:
            out["peritumoral"] = ring
        if "tumor_peritumoral" in wanted:
            if isinstance(ring, Exception):
                out["tumor_peritumoral"] = ring
            else:
                union = sitk.Cast((base != 0) | (ring != 0), sitk.sitkUInt8)
                union.CopyInformation(base)
                out["tumor_peritumoral"] = union
    return out, diag


def _run_task(task: _Task) -> list[dict]:
    """Extract every requested (reader, roi) of one image; never raises, reports per ROI."""
    from radiomics_aln._pyradiomics_fast import fast_paths

    if os.getpid() != task.parent_pid:
        # A separate worker process: ITK's own threads would compete with the other workers.
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    _quiet_pyradiomics(task.verbose)
    g = task.group
    results: list[dict] = []

    def record(reader, roi_name, *, file="", error=None, features=None, diag=None, cached=False,
               exc=None):  # fmt: skip
        results.append(
            {
                "reader": reader,
                "roi": roi_name,
                "file": file,
                "error": error,
                "features": features,
                "diagnostics": diag,
                "cached": cached,
                "raise_as": _raise_as(exc),
            }
        )

    pending = [rk for rk in task.keys if rk not in task.cached or task.extra]
    image = fov = None
    image_error = image_exc = None
    if pending:
        try:
            image, fov = _load_image(g, task.params, task.spacing_range)
        except Exception as exc:
            image_error, image_exc = f"cannot load the {g.kind} image: {exc}", exc

    # Resolve masks per reader, then per ROI.
    roi_masks: dict[tuple[str, str], Any] = {}
    mask_files: dict[str, str] = {}
    ring_diag: dict[str, dict] = {}
    mask_diag: dict[str, dict] = {}
    for reader, source in g.masks.items():
        mask_files[reader] = _describe(source)
        wanted = tuple(r for (rd, r) in task.keys if rd == reader)
        if not any((reader, r) in pending for r in wanted):
            continue
        if image_error is not None:
            continue
        what = f"case {g.case_id!r}, {reader} {g.kind} mask {mask_files[reader]}"
        try:
            base, mask_diag[reader] = _load_mask(source, image, what, g.combine, g.min_area_mm2)
        except Exception as exc:
            for r in wanted:
                roi_masks[(reader, r)] = exc
            continue
        if g.kind == "tumor":
            derived, ring_diag[reader] = _derive_rois(base, fov, wanted, task.ring_mm)
            for r, m in derived.items():
                roi_masks[(reader, r)] = m
        else:
            roi_masks[(reader, "ln")] = base

    to_compute = [
        (rk, m)
        for rk, m in roi_masks.items()
        if rk not in task.cached and not isinstance(m, Exception)
    ]
    computed: dict = {}
    if to_compute:
        with fast_paths(task.fast):
            computed = _execute_masks(
                _get_extractor(task.params), image, to_compute,
                _own_settings(task.params)["bin_limits"],
            )  # fmt: skip

    for rk in task.keys:
        reader, roi_name = rk
        file = mask_files.get(reader, "")
        if rk in task.cached and not task.extra:
            entry = task.cached[rk]
            record(reader, roi_name, file=file, features=entry["features"],
                   diag=entry["diagnostics"], cached=True)  # fmt: skip
            continue
        if reader in task.key_errors and rk not in task.cached:
            kfile, kerr = task.key_errors[reader]
            record(reader, roi_name, file=kfile, error=kerr)
            continue
        if image_error is not None:
            record(reader, roi_name, file=_describe(g.image), error=image_error, exc=image_exc)
            continue
        mask = roi_masks.get(rk)
        if isinstance(mask, Exception):
            record(reader, roi_name, file=file, error=_message(mask), exc=mask)
            continue
        if rk in task.cached:
            entry = task.cached[rk]
            feats, diag, was_cached = dict(entry["features"]), entry["diagnostics"], True
        else:
            res = computed[rk]
            if isinstance(res, IntensityError):  # our check, before PyRadiomics computed
                error = f"image {_describe(g.image)}: {_message(res)}"
                record(reader, roi_name, file=file, error=error, exc=res)
                continue
            if isinstance(res, Exception):
                record(reader, roi_name, file=file, error=f"PyRadiomics: {_message(res)}")
                continue
            feats, diag = _split_vector(res)
            diag.update(mask_diag.get(reader, {}))
            if roi_name != "tumor":
                diag.update(ring_diag.get(reader, {}))
            was_cached = False
            key = task.keys[rk]
            if key is not None:
                _cache_write(
                    task.cache_dir,
                    key,
                    {"case_id": g.case_id, "reader": reader, "roi": roi_name,
                     "versions": _versions(), "features": feats, "diagnostics": diag},
                )  # fmt: skip
        try:
            for name, fn in task.extra.items():
                feats.update(_call_extra(name, fn, image, mask))
        except Exception as exc:
            record(reader, roi_name, file=file, error=_message(exc))
            continue
        record(reader, roi_name, file=file, features=feats, diag=diag, cached=was_cached)
    return results


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
        if _SEP in f"{k}":
            raise ExtractionError(f"extra feature {name!r}: key {k!r} contains {_SEP!r}")
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
class ExtractionResult:
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


def _check_choice(value: Any, allowed: Sequence[str], name: str) -> None:
    if value not in allowed:
        raise InputError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _prepare_task_keys(task: _Task) -> None:
    """Cache keys from file contents (no decoding); look up cached entries."""
    g = task.group
    try:
        image_token = None if g.image is None else _source_token(g.image)
        task.image_token = image_token
    except OSError as exc:
        image_token = None
        for reader in g.masks:
            task.key_errors[reader] = (_describe(g.image), f"cannot read the {g.kind} image: {exc}")
    for reader, source in g.masks.items():
        try:
            mask_token = _source_token(source)
        except OSError as exc:
            task.key_errors.setdefault(
                reader, (_describe(source), f"cannot read the {reader} {g.kind} mask: {exc}")
            )
            mask_token = None
        for r in g.rois:
            key = None
            if image_token is not None and mask_token is not None:
                key = _roi_key(
                    task.params_json, image_token, g.spacing, mask_token, r, task.ring_mm,
                    (g.combine, g.min_area_mm2), task.spacing_range,
                )  # fmt: skip
            task.keys[(reader, r)] = key
            entry = _cache_read(task.cache_dir, key, r) if key is not None else None
            if entry is not None:
                task.cached[(reader, r)] = entry


def extract_features(
    cases_or_manifest: Any,
    rois: Sequence[str] = ("tumor", "peritumoral", "ln"),
    params: str | os.PathLike | Mapping[str, Any] = "ultrasound_2d",
    n_jobs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    errors: Literal["collect", "raise"] = "collect",
    *,
    repeats: bool | Sequence[str] = False,
    extra: Mapping[str, Callable[[sitk.Image, sitk.Image], Mapping[str, float]]] | None = None,
    ring_mm: float = 5.0,
    mask_combine: Literal["union", "largest"] = "union",
    min_area_mm2: float | None = None,
    progress: bool | None = None,
    verbose: bool = False,
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM,
) -> ExtractionResult:
    """Extract PyRadiomics features for every case and ROI of a cohort.

    Parameters
    ----------
    cases_or_manifest : Manifest or sequence of cases
        A :class:`radiomics_aln.cohort.Manifest`, a list of :class:`radiomics_aln.cohort.Case`,
        or a list of mappings with the same fields (``case_id``, ``tumor_image``, ``tumor_mask``,
        optional ``ln_image``, ``ln_mask``, ``spacing``, ``ln_spacing``, ``repeat_masks``). Images
        and masks are paths (masks: one path, a ``;``-joined string or a tuple of paths, joined
        into one ROI) or in-memory 2D ``SimpleITK.Image`` objects with spacing in mm.
    rois : sequence of str
        Any of ``"tumor"``, ``"peritumoral"`` (ring of ``ring_mm`` around the tumour, clipped to
        the field of view), ``"tumor_peritumoral"`` (their union) and ``"ln"``.
    params : str, path or dict
        Settings: a shipped name (default ``"ultrasound_2d"``), a PyRadiomics YAML path or a dict;
        validated by :func:`load_params`.
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
    ring_mm : float
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
        ``min_area_mm2`` (manifest columns, :class:`~radiomics_aln.cohort.Case` fields or
        mapping keys) wins over these two arguments. Both enter the cache key.
    progress : bool or None
        tqdm progress bar over images; ``None``: only when interactive (stderr is a terminal, or
        a Jupyter kernel).
    verbose : bool
        Keep PyRadiomics' warnings on stderr (default: silenced with ``radiomics.setVerbosity``).
    spacing_range : (float, float) or None, default (0.005, 2.0)
        Plausible mm per pixel (:data:`radiomics_aln.roi.SPACING_RANGE_MM`). An image whose
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
        ``ring_mm`` that is not a number in (0, 50], a bad ``spacing_range``).
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
    rois = tuple(rois)
    if not rois:
        raise InputError("rois is empty")
    for r in rois:
        _check_choice(r, ROI_NAMES, "each of rois")
    if len(set(rois)) != len(rois):
        raise InputError(f"rois has duplicates: {list(rois)}")
    _check_choice(errors, ("collect", "raise"), "errors")
    if repeats is True:
        repeat_readers: tuple[str, ...] = ("reader2", "repeat")
    elif repeats is False or repeats is None:
        repeat_readers = ()
    else:
        repeat_readers = tuple(repeats)
        for r in repeat_readers:
            _check_choice(r, ("reader2", "repeat"), "each of repeats")
    extra = dict(extra or {})
    for name, fn in extra.items():
        if not isinstance(name, str) or not name or _SEP in name:
            raise InputError(f"extra: names must be non-empty strings without {_SEP!r}: {name!r}")
        if not callable(fn):
            raise InputError(f"extra[{name!r}] is not callable")
    from radiomics_aln._validation import check_ring_width, check_spacing_limits

    ring_mm = check_ring_width(ring_mm, "ring_mm")
    limits = check_spacing_limits(spacing_range)
    _check_mask_options(mask_combine, min_area_mm2)
    if n_jobs is not None and (not isinstance(n_jobs, numbers.Integral) or n_jobs == 0):
        raise InputError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}")

    data = load_params(params)
    params_json = _canonical_json(data)
    cache = None if cache_dir is None else Path(cache_dir)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    readers = ("reader1", *repeat_readers)
    case_ids, groups = _normalise_cases(
        cases_or_manifest, rois, readers, mask_combine, min_area_mm2
    )

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
        task = _Task(g, data, params_json, float(ring_mm), cache, extra, {}, {}, {},
                     verbose, os.getpid(), spacing_range=limits)  # fmt: skip
        _prepare_task_keys(task)
        tasks.append(task)

    if errors == "raise" and missing:  # inputs absent from the manifest: fail before any work
        _raise_failure(missing[0]["case_id"], missing[0])
    outcomes = _run_all(tasks, n_jobs, progress, errors)
    result = _assemble(case_ids, rois, repeat_readers, tasks, outcomes, missing, errors, data)
    result.duplicates = _duplicate_images(tasks)
    _warn_duplicates(result.duplicates)
    _warn_mask_components(result)
    return result


def _duplicate_images(tasks: list[_Task]) -> pd.DataFrame:
    """Pairs of different case ids whose images hash the same (the cache's content hash)."""
    by_hash: dict[str, list[_Group]] = {}
    for t in tasks:
        if t.image_token is not None:
            by_hash.setdefault(_canonical_json(t.image_token), []).append(t.group)
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
        for kind, rois in (("tumor", _TUMOR_GROUP_ROIS), ("ln", ("ln",))):
            cols = [f"{r}{_SEP}diagnostics_radiomics_aln_MaskComponentsUsed" for r in rois]
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


def _given_spacing_problem(group: _Group, limits: tuple[float, float] | None) -> str | None:
    """A spacing given for a case (manifest, Case, mapping) outside the plausible range."""
    if limits is None or group.spacing is None or isinstance(group.spacing, str):
        return None
    try:
        values = np.atleast_1d(np.asarray(group.spacing, dtype=float)).ravel()
    except (TypeError, ValueError):
        return None  # not a number: load_image names the problem
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        return None
    if np.all((values >= limits[0]) & (values <= limits[1])):
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
    from tqdm.auto import tqdm

    todo = [i for i, t in enumerate(tasks) if t.extra or len(t.cached) < len(t.keys)]
    results: list[list[dict] | None] = [None] * len(tasks)
    for i in set(range(len(tasks))) - set(todo):
        results[i] = _cached_only(tasks[i])
    if todo:
        if progress is None:  # interactive: a terminal or a Jupyter kernel
            progress = sys.stderr.isatty() or "ipykernel" in sys.modules
        disable = not progress
        bar = tqdm(total=len(todo), desc="extracting", unit="image", disable=disable)
        # When collecting, largest tasks go first (most ROIs still to compute) so no worker is
        # left with one long task at the end; results come back as they finish and are placed
        # by index, so the output is identical for any order and any n_jobs. When raising, case
        # order is kept so that the reported failure is the first in case order.
        return_as = "generator"
        if errors != "raise":
            todo.sort(key=lambda i: len(tasks[i].keys) - len(tasks[i].cached), reverse=True)
            return_as = "generator_unordered"
        try:
            parallel = Parallel(n_jobs=n_jobs, return_as=return_as)
            gen = parallel(delayed(_run_indexed_task)(i, tasks[i]) for i in todo)
            for i, res in gen:
                results[i] = res
                bar.update(1)
                if errors == "raise" and any(r["error"] for r in res):
                    first = next(r for r in res if r["error"])
                    with warnings.catch_warnings():
                        # Cancelling the rest is the point of errors="raise": joblib's warning
                        # that finished or running tasks go unused would only be noise.
                        warnings.filterwarnings("ignore", r".*tasks .*(executed|cancelled)")
                        gen.close()
                    _raise_failure(tasks[i].group.case_id, first)
        finally:
            bar.close()
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
                row[f"{roi_name}{_SEP}{name}"] = value
                if not math.isfinite(value):
                    nonfinite.append({"case_id": cid, "roi": roi_name, "reader": rec["reader"],
                                      "feature": f"{roi_name}{_SEP}{name}", "value": value})  # fmt: skip
            for name, value in rec["diagnostics"].items():
                drow[f"{roi_name}{_SEP}{name}"] = value

    columns = [f"{r}{_SEP}{n}" for r in rois for n in column_order[r]]

    def frame(rows: Mapping[str, Mapping[str, float]], index: list[str]) -> pd.DataFrame:
        df = pd.DataFrame.from_dict({c: dict(rows.get(c, {})) for c in index}, orient="index")
        df = df.reindex(index=pd.Index(index, name="case_id"), columns=columns)
        return df.astype("float64")

    def dframe(rows: Mapping[str, Mapping[str, Any]], index: list[str]) -> pd.DataFrame:
        df = pd.DataFrame.from_dict({c: dict(rows.get(c, {})) for c in index}, orient="index")
        cols = [c for r in rois for c in df.columns if c.startswith(f"{r}{_SEP}")]
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
    col = f"peritumoral{_SEP}diagnostics_radiomics_aln_RingCoverage"
    if col not in diagnostics.columns:
        col = f"tumor_peritumoral{_SEP}diagnostics_radiomics_aln_RingCoverage"
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


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def write_features(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a feature (or diagnostics) table to Parquet (``.parquet``) or CSV (``.csv``).

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by ``case_id``.
    path : path
        Target file; the format follows the extension.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        Unknown extension, or the index is not named ``case_id``.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> df = pd.DataFrame(
    ...     {"tumor__original_firstorder_Mean": [0.1, 1 / 3]},
    ...     index=pd.Index(["001", "002"], name="case_id"),
    ... )
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_features(df, os.path.join(d, "f.csv"))
    ...     back = read_features(p)
    >>> back.equals(df)
    True
    """
    path = Path(path)
    if table.index.name != "case_id":
        raise InputError(
            f"write_features: the index must be named 'case_id', not {table.index.name!r}"
        )
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table.to_parquet(path)
    elif suffix == ".csv":
        table.to_csv(path)
    else:
        raise InputError(f"write_features: {path} must end in .parquet or .csv")
    return path


# ``pd.read_csv`` options that parse every float back to the exact double written: pandas 3
# does so by default (and deprecates the option); pandas 2's default C parser may differ in the
# last bit.
_CSV_EXACT_FLOATS: dict[str, str] = (
    {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
)


def read_features(path: str | os.PathLike) -> pd.DataFrame:
    """Read a table written by :func:`write_features`, with its dtypes intact.

    CSV: ``case_id`` is read as text (leading zeros kept), floats with round-trip precision so
    every value is bit-identical to what was written.

    Parameters
    ----------
    path : path
        A ``.parquet`` or ``.csv`` file.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``case_id``.

    Raises
    ------
    InputError
        Missing file, unknown extension or no ``case_id`` column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"read_features: {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        df = pd.read_parquet(path)
        if df.index.name != "case_id":
            raise InputError(f"read_features: {path} has no case_id index")
        return df
    if suffix != ".csv":
        raise InputError(f"read_features: {path} must end in .parquet or .csv")
    header = pd.read_csv(path, nrows=0)
    if "case_id" not in header.columns:
        raise InputError(f"read_features: {path} has no case_id column")
    df = pd.read_csv(path, dtype={"case_id": "str"}, **_CSV_EXACT_FLOATS)
    return df.set_index("case_id")
