"""JSON persistence of fitted objects.

Fitted models are stored as plain JSON (coefficients, scaler statistics, feature names, settings
and the library version), never as pickle, so a model file received from a colleague cannot run
code when it is opened. Every file has the same envelope::

    {
        "format": "radiomics_aln",
        "format_version": 1,
        "type": "RadScore",
        "library_version": "0.1.0",
        "created": "2026-11-21T10:00:00+00:00",
        "params": {...},
        "state": {...},
    }

Classes implement ``to_json(path=None)`` and ``from_json(path_or_text)`` with :func:`dump_model`
and :func:`load_model`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._version import __version__
from radiomics_aln.exceptions import InputError

__all__ = ["dump_model", "load_model", "to_jsonable"]

FORMAT = "radiomics_aln"
FORMAT_VERSION = 1


def to_jsonable(obj: Any) -> Any:
    """Convert NumPy/pandas objects to JSON types; NaN/inf become ``None``."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, pd.Series):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        return {
            "columns": [str(c) for c in obj.columns],
            "index": to_jsonable(list(obj.index)),
            "data": to_jsonable(obj.to_numpy().tolist()),
        }
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str | int):
        return obj
    raise TypeError(f"cannot store an object of type {type(obj).__name__} in a model file")


def dump_model(
    type_name: str,
    params: dict[str, Any],
    state: dict[str, Any],
    path: str | os.PathLike[str] | None = None,
) -> str:
    """Serialize a fitted object to JSON text; also write it to ``path`` if given.

    The file is written atomically (temporary file, then rename), so an interrupted save never
    leaves a truncated model behind.
    """
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "type": type_name,
        "library_version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "params": to_jsonable(params),
        "state": to_jsonable(state),
    }
    text = json.dumps(doc, indent=2, allow_nan=False)
    if path is not None:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return text


def load_model(source: str | os.PathLike[str], expected_type: str | None = None) -> dict[str, Any]:
    """Read a model document from a path or JSON text and check its envelope.

    Returns the whole document (``params``, ``state``, ``library_version``, ...).
    """
    text: str
    origin: str
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and not source.lstrip().startswith("{")
    ):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"model file {path} does not exist")
        text, origin = path.read_text(encoding="utf-8"), str(path)
    else:
        text, origin = str(source), "JSON text"
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{origin} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(f"{origin} is not a radiomics_aln model file (no 'format': '{FORMAT}')")
    if int(doc.get("format_version", 0)) > FORMAT_VERSION:
        raise InputError(
            f"{origin} has format_version {doc.get('format_version')}, newer than this library "
            f"reads ({FORMAT_VERSION}); upgrade radiomics_aln"
        )
    if expected_type is not None and doc.get("type") != expected_type:
        raise InputError(f"{origin} holds a {doc.get('type')!r}, not a {expected_type!r}")
    for key in ("params", "state"):
        if not isinstance(doc.get(key), dict):
            raise InputError(f"{origin} lacks its '{key}' section")
    return doc
