"""PyRadiomics settings: the shipped files, validation, and the radiomics_aln section.

:func:`load_params` resolves settings given as a shipped name (:func:`available_params`), a
YAML/JSON file or a dict and validates them with PyRadiomics' own schema. A settings file may
carry a ``radiomics_aln`` section that PyRadiomics never sees (:func:`own_settings`): ``rescale``
(map grey levels to the scale the settings expect, :func:`rescale_image`) and ``bin_limits``
(the fewest and most grey-level bins a ROI may get on the original image, checked before any
feature is computed by :func:`bin_problem`). See ``docs/extraction.md`` for the reference.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import warnings
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk
import yaml

from radiomics_aln.exceptions import InputError, IntensityError

__all__ = [
    "BIN_LIMITS",
    "OWN_SECTION",
    "available_params",
    "load_params",
    "own_settings",
    "params_path",
]

# Folder of the shipped settings files, inside the package.
_SHIPPED = "shipped_params"
#: Top-level section of a settings file read by radiomics_aln (PyRadiomics never sees it).
OWN_SECTION = "radiomics_aln"
#: Default fewest and most grey-level bins a ROI may get on the original image.
BIN_LIMITS: tuple[int, int] = (8, 1000)


def available_params() -> list[str]:
    """Names of the settings files shipped in ``radiomics_aln/shipped_params``.

    Returns
    -------
    list of str
        Names usable as ``params=`` (file names without ``.yaml``), sorted.

    Examples
    --------
    >>> "ultrasound_2d" in available_params()
    True
    """
    folder = resources.files("radiomics_aln").joinpath(_SHIPPED)
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
    return Path(str(resources.files("radiomics_aln").joinpath(_SHIPPED, f"{name}.yaml")))


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
    own_settings(data, source)
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
            f"params ({source}): {OWN_SECTION}.{key} must be [low, high], got {value!r}"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InputError(
            f"params ({source}): {OWN_SECTION}.{key} must be [low, high] with finite "
            f"low < high, got {value!r}"
        )
    return lo, hi


def own_settings(data: Mapping[str, Any], source: str = "settings") -> dict[str, Any]:
    """The ``radiomics_aln`` section of a settings file, checked, with its defaults.

    ``rescale``: None, or ``{"from": [low, high] | "image", "to": [low, high]}`` (``to``
    defaults to [0, 255]). ``bin_limits``: [fewest, most] bins of a ROI on the original image,
    or None to skip that check.
    """
    section = data.get(OWN_SECTION)
    if section is None:
        section = {}
    if not isinstance(section, Mapping):
        raise InputError(
            f"params ({source}): `{OWN_SECTION}` must be a mapping with `rescale` and/or "
            f"`bin_limits`, got {section!r}"
        )
    unknown = sorted(set(section) - {"rescale", "bin_limits"})
    if unknown:
        raise InputError(
            f"params ({source}): unknown key(s) {unknown} in `{OWN_SECTION}`; known: "
            "rescale, bin_limits"
        )
    out: dict[str, Any] = {"rescale": None, "bin_limits": BIN_LIMITS}
    limits = section.get("bin_limits", list(BIN_LIMITS))
    if limits is not None:
        lo, hi = _pair(limits, "bin_limits", source)
        if not (lo >= 1 and lo == int(lo) and hi == int(hi)):
            raise InputError(
                f"params ({source}): {OWN_SECTION}.bin_limits must be two whole numbers "
                f"[fewest, most] >= 1, got {limits!r}"
            )
        out["bin_limits"] = (int(lo), int(hi))
    else:
        out["bin_limits"] = None
    rescale = section.get("rescale")
    if rescale is not None:
        if not isinstance(rescale, Mapping) or "from" not in rescale:
            raise InputError(
                f"params ({source}): {OWN_SECTION}.rescale must be a mapping such as "
                "{from: [0, 65535], to: [0, 255]} or {from: image}, got " + repr(rescale)
            )
        bad = sorted(set(rescale) - {"from", "to"})
        if bad:
            raise InputError(
                f"params ({source}): unknown key(s) {bad} in {OWN_SECTION}.rescale; known: from, to"
            )
        src = rescale["from"]
        src = "image" if src == "image" else _pair(src, "rescale.from", source)
        dst = _pair(rescale.get("to", [0, 255]), "rescale.to", source)
        out["rescale"] = {"from": src, "to": dst}
    return out


def _validate_with_pyradiomics(data: dict, source: str) -> None:
    quiet_pyradiomics()
    try:
        new_extractor(data)
    except Exception as exc:  # pykwalify raises its own SchemaError with the offending path
        msg = " ".join(str(exc).split())
        raise InputError(f"params: PyRadiomics rejected the settings ({source}): {msg}") from exc


def new_extractor(data: dict) -> Any:
    """A ``RadiomicsFeatureExtractor`` for a copy of ``data`` (construction validates it)."""
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    data = {k: v for k, v in data.items() if k != OWN_SECTION}  # ours, not PyRadiomics'
    with warnings.catch_warnings():
        # PyRadiomics validates settings with pykwalify, which loads its schema extension with the
        # deprecated importlib load_module(); under -W error that warning would read as a
        # rejection of valid settings.
        warnings.filterwarnings(
            "ignore", r"the load_module\(\) method is deprecated", DeprecationWarning
        )
        return RadiomicsFeatureExtractor(copy.deepcopy(data))


def canonical_json(obj: Any) -> str:
    """Settings (or any JSON value) as one canonical text: the key of caches."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def quiet_pyradiomics(verbose: bool = False) -> None:
    """Silence PyRadiomics' log: its own stderr handler and what it passes up to the handlers a
    user configured (``logging.basicConfig``), without touching the root logger."""
    import radiomics

    radiomics.setVerbosity(logging.WARNING if verbose else 60)
    # records still propagate to the root's handlers: ~12 000 "GLCM is symmetrical" lines on a
    # 650-image run; their failures reach the user as exceptions and failure rows instead
    logging.getLogger("radiomics").setLevel(logging.WARNING if verbose else logging.ERROR)


# --------------------------------------------------------------------------------------------
# The extractor and the radiomics_aln section at work
# --------------------------------------------------------------------------------------------

_EXTRACTORS: dict[str, Any] = {}


def get_extractor(params: dict) -> Any:
    """One validated extractor per settings per process (construction runs the schema check)."""
    key = canonical_json(params)
    ext = _EXTRACTORS.get(key)
    if ext is None:
        ext = new_extractor(params)
        _EXTRACTORS[key] = ext
    return ext


def rescale_image(image: sitk.Image, rescale: Mapping[str, Any] | None, what: str) -> sitk.Image:
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


def bin_problem(extractor: Any, img: sitk.Image, msk: sitk.Image, limits: Any) -> str | None:
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
        f"rescale the image in the settings' {OWN_SECTION} section ({hint}), set binCount, or "
        f"use settings made for this intensity scale (bin_limits [{fewest}, {most}] in that "
        "section widens the check; see docs/extraction.md, 'Intensity scale')"
    )
