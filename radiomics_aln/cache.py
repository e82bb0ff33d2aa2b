"""The extraction cache: one JSON entry per ROI result, keyed by what its features depend on.

An entry's key (:func:`entry_key`) is the SHA-256 of the image and mask contents (never their
names or dates), the spacing given, the settings, the ROI, the ring width (a ring or shell named
with its width, ``peritumoral_2mm``, has it in its name: adding a width computes only the new
ROI's entries and reuses the others), the mask options,
the spacing range and the radiomics_aln and PyRadiomics versions. Entries are written
atomically (:func:`write_entry`) and checked when read (:func:`read_entry`: key, ROI, value
types and a checksum of the values); a damaged entry is recomputed, never served.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from radiomics_aln._validation import SPACING_RANGE_MM
from radiomics_aln._version import __version__
from radiomics_aln.features import RING_ROIS
from radiomics_aln.params import canonical_json

__all__ = ["CACHE_FORMAT", "entry_key", "read_entry", "source_token", "write_entry"]

logger = logging.getLogger(__name__)

#: Version of the entry layout. Bump when it changes, or when entries may hold values the
#: current checks refuse (2: entries carry a checksum and their mask options; entries from
#: before the spacing and bin checks may hold features at 1 mm per pixel).
CACHE_FORMAT = 2


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
    h.update(canonical_json([image.GetSize(), image.GetSpacing(), image.GetOrigin()]).encode())
    h.update(canonical_json(image.GetDirection()).encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def source_token(source: Any) -> Any:
    """Content hash of an image or mask source: a file, several files or an in-memory image."""
    if isinstance(source, sitk.Image):
        return ["image", _image_digest(source)]
    if isinstance(source, Path):
        return ["file", _file_digest(source)]
    return ["files", [_file_digest(p) for p in source]]


def versions() -> dict[str, str]:
    """Versions of radiomics_aln and PyRadiomics, part of every key."""
    import radiomics

    return {"radiomics_aln": __version__, "pyradiomics": str(radiomics.__version__)}


def entry_key(
    params_json: str,
    image_token: Any,
    spacing: Any,
    mask_token: Any,
    roi: str,
    *,
    width_mm: float,
    mask_options: tuple[str, float | None] = ("union", None),
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM,
) -> str:
    """The key of one ROI's entry: SHA-256 of everything its features depend on."""
    payload = {
        "format": CACHE_FORMAT,
        "versions": versions(),
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
        "width_mm": width_mm if roi in RING_ROIS else None,
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def entry_path(cache_dir: Path, key: str) -> Path:
    """The file of an entry: ``<cache_dir>/<first two hex digits>/<key>.json``."""
    return cache_dir / key[:2] / f"{key}.json"


def _values_checksum(values: Mapping[str, Any]) -> str:
    """SHA-256 of an entry's values as JSON stores them (so a hand-edited value is detected)."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def entry_problem(entry: Any, key: str, roi: str | None) -> str | None:
    """Why a cache entry cannot be used (None: it can).

    An entry is trusted only when it is exactly what :func:`write_entry` stores: its key and
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


def read_entry(cache_dir: Path | None, key: str, roi: str | None = None) -> dict | None:
    """A validated cache entry, or None (absent, or damaged: then it is recomputed and rewritten)."""
    if cache_dir is None:
        return None
    path = entry_path(cache_dir, key)
    try:
        with open(path, encoding="utf-8") as fh:
            entry = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:  # unreadable entry: recompute it
        logger.warning(
            "recomputing unreadable cache entry %s: %s", path, " ".join(str(exc).split())
        )
        return None
    problem = entry_problem(entry, key, roi)
    if problem is not None:
        logger.warning("recomputing damaged cache entry %s: %s", path, problem)
        return None
    return entry


def write_entry(cache_dir: Path | None, key: str, entry: dict) -> None:
    """Write atomically: a temporary file in the same folder, then os.replace.

    The temporary file ends in ``.tmp``, never ``.json``, so nothing that lists entries
    (``*.json``) sees a half-written one.
    """
    if cache_dir is None:
        return
    path = entry_path(cache_dir, key)
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
