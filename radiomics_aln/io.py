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

Numbers: NaN is stored as ``null`` and +/-infinity as the strings ``"inf"`` and ``"-inf"`` (JSON has
no such numbers; Python's ``json`` would write the non-standard tokens ``NaN``/``Infinity``). Each
class declares, field by field, which of these its file may hold (:func:`check_schema`): a cutoff
may be ``"inf"``, a coefficient must be a finite number. :func:`load_model` refuses anything else
-- a ``NaN`` token, a missing or unknown key, a wrong type, a damaged or non-UTF-8 file, a pickle
-- with an :class:`~radiomics_aln.exceptions.InputError` naming the file and the key path.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._version import __version__
from radiomics_aln.exceptions import InputError

__all__ = ["dump_model", "load_model", "to_jsonable", "check_schema", "number", "rebuilding"]


FORMAT = "radiomics_aln"
FORMAT_VERSION = 1
_MAX_DEPTH = 32  # the deepest model written (StudyModel) nests 8 levels

def _describe(value: Any) -> str:
    text = json.dumps(value, allow_nan=True) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Spec:
    """One rule of a model-file schema: ``check(value)`` returns None or what was expected."""

    def __init__(self, expected: str, test: Callable[[Any], bool]) -> None:
        self.expected, self.test = expected, test

    def __repr__(self) -> str:  # stable (no address), for docs and error messages
        return f"<{self.expected}>"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


# The value kinds a model file holds. NaN is written as null and +/-inf as the strings "inf" and
# "-inf"; each field says which of these it may hold, so a hand-edited null or "inf" in a
# coefficient is refused instead of turning every prediction into NaN.
NUM = _Spec("a finite number", _is_number)
NUM_OR_NULL = _Spec("a finite number or null", lambda v: v is None or _is_number(v))
NUM_OR_INF = _Spec(
    'a finite number, "inf" or "-inf"', lambda v: _is_number(v) or v in ("inf", "-inf")
)
NUM_NULL_INF = _Spec(
    'a finite number, null, "inf" or "-inf"',
    lambda v: v is None or _is_number(v) or v in ("inf", "-inf"),
)


def _numeric_text(v: Any) -> bool:
    try:
        return isinstance(v, str) and math.isfinite(float(v))
    except ValueError:
        return False


# A cutoff: as NUM_OR_INF, or a number as text (files of 0.1 stored the nomogram's cutoffs as
# repr() text).
CUTOFF = _Spec(
    'a finite number, "inf" or "-inf"', lambda v: NUM_OR_INF.test(v) or _numeric_text(v)
)
INT = _Spec("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool))
INT_OR_NULL = _Spec("a whole number or null", lambda v: v is None or INT.test(v))
STR = _Spec("a text", lambda v: isinstance(v, str))
STR_OR_NULL = _Spec("a text or null", lambda v: v is None or isinstance(v, str))
BOOL = _Spec("true or false", lambda v: isinstance(v, bool))
SCALAR = _Spec(
    "a number, text, true/false or null", lambda v: v is None or isinstance(v, str | int | float)
)
ANY = _Spec("any value", lambda v: True)


@dataclass(frozen=True)
class ListOf:
    """A list whose items all follow ``item`` (of exactly ``length`` items if given)."""

    item: Any
    length: int | None = None
    nullable: bool = False


@dataclass(frozen=True)
class MapOf:
    """A mapping from text keys to values that all follow ``value``."""

    value: Any
    nullable: bool = False


@dataclass(frozen=True)
class Record:
    """A mapping with exactly these keys (names starting with ``?`` may be absent)."""

    fields: Mapping[str, Any]
    nullable: bool = False


class Union:
    """A value that follows any one of ``options``."""

    def __init__(self, *options: Any) -> None:
        self.options = options
        self.nullable = False


def _expected(spec: Any) -> str:
    if isinstance(spec, _Spec):
        return spec.expected
    if isinstance(spec, ListOf):
        return "a list"
    if isinstance(spec, Union):
        return " or ".join(_expected(o) for o in spec.options)
    return "a mapping"


def check_schema(value: Any, spec: Any, where: str, path: str) -> None:
    """Raise :class:`InputError` naming ``path`` when ``value`` does not follow ``spec``."""

    def fail(expected: str) -> None:
        raise InputError(
            f"{where}: `{path}` must be {expected}, got {_describe(value)}; the file is damaged "
            "or was edited by hand -- save the model again from the fitted object"
        )

    if isinstance(spec, _Spec):
        if not spec.test(value):
            fail(spec.expected)
        return
    if value is None and spec.nullable:
        return
    if isinstance(spec, Union):
        for option in spec.options:
            try:
                check_schema(value, option, where, path)
                return
            except InputError:
                continue
        fail(_expected(spec))
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            fail("a list")
        if spec.length is not None and len(value) != spec.length:
            fail(f"a list of {spec.length} items")
        for i, v in enumerate(value):
            check_schema(v, spec.item, where, f"{path}[{i}]")
    elif isinstance(spec, MapOf):
        if not isinstance(value, dict):
            fail("a mapping")
        for k, v in value.items():
            check_schema(v, spec.value, where, f"{path}.{k}")
    elif isinstance(spec, Record):
        if not isinstance(value, dict):
            fail("a mapping")
        names = {k.lstrip("?"): k.startswith("?") for k in spec.fields}
        missing = [k for k, optional in names.items() if not optional and k not in value]
        extra = sorted(set(value) - set(names))
        if missing:
            raise InputError(
                f"{where}: `{path}` lacks the key(s) {', '.join(map(repr, missing))}; the file is "
                "incomplete -- save the model again from the fitted object"
            )
        if extra:
            raise InputError(
                f"{where}: `{path}` has unknown key(s) {', '.join(map(repr, extra))}; a model "
                "file holds only the keys this library writes"
            )
        for key, sub in spec.fields.items():
            name = key.lstrip("?")
            if name in value:
                check_schema(value[name], sub, where, f"{path}.{name}")
    else:  # pragma: no cover - a programming error in a schema
        raise TypeError(f"unknown schema rule {spec!r}")


def number(value: Any) -> float:
    """A stored number as float: null is NaN, ``"inf"``/``"-inf"`` are infinite."""
    if value is None:
        return math.nan
    return float(value)  # float("inf") and float("-inf") parse the stored strings


def _walk_finite(value: Any, where: str, path: str, depth: int = 0) -> None:
    """Refuse NaN/Infinity tokens and overflowing numbers anywhere, and absurd nesting."""
    if depth > _MAX_DEPTH:
        raise InputError(
            f"{where}: `{path}` is nested deeper than {_MAX_DEPTH} levels; not a model file "
            "this library wrote"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(
            f"{where}: `{path}` holds {value!r}; model files never hold NaN or infinite numbers "
            '(missing values are null, infinite cutoffs the text "inf"), so the file is '
            "damaged or was edited by hand -- save the model again from the fitted object"
        )
    if isinstance(value, dict):
        for k, v in value.items():
            _walk_finite(v, where, f"{path}.{k}" if path else str(k), depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _walk_finite(v, where, f"{path}[{i}]", depth + 1)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


class _DuplicateKey(ValueError):
    pass


def to_jsonable(obj: Any) -> Any:
    """Convert NumPy/pandas objects to JSON types; NaN becomes ``None``, +/-inf ``"inf"``/``"-inf"``.

    Examples
    --------
    >>> to_jsonable([np.float64(0.5), np.nan, -np.inf, np.int64(3)])
    [0.5, None, '-inf', 3]
    """
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
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")
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


def _read_model_text(path: Path) -> str:
    """The text of a model file, or an InputError saying what the file is instead."""
    if path.is_dir():
        raise InputError(f"model file {path} is a folder, not a file")
    if not path.is_file():
        raise InputError(f"model file {path} does not exist")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read model file {path}: {exc.strerror or exc}") from None
    if not data.strip():
        raise InputError(f"model file {path} is empty")
    if data[:1] == b"\x80":
        raise InputError(
            f"model file {path} looks like a Python pickle; radiomics_aln never opens pickles "
            "(they can run code) -- save the model with to_json"
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:64]:
        raise InputError(
            f"model file {path} is UTF-16/UTF-32 text; model files are UTF-8 -- re-save it as "
            "UTF-8 (or save the model again with to_json)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"model file {path} is not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x}); "
            "save the model again with to_json"
        ) from None


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


_ENVELOPE = Record(
    {
        "format": STR,
        "format_version": INT,
        "type": STR,
        "library_version": STR,
        "created": STR,
        "params": MapOf(ANY),
        "state": MapOf(ANY),
    }
)


def load_model(
    source: str | os.PathLike[str] | Mapping[str, Any],
    expected_type: str | None = None,
    *,
    params: Any = None,
    state: Any = None,
    where: str | None = None,
    prefix: str = "",
) -> dict[str, Any]:
    """Read a model document from a path or JSON text and check it.

    Parameters
    ----------
    source : path, str or dict
        A model file, its JSON text, or an already parsed document (a model nested in another).
    expected_type : str, optional
        The ``type`` the file must hold.
    params, state : schema, optional
        Rules (:class:`Record`, :class:`ListOf`, :class:`MapOf`, :data:`NUM`, ...) the
        ``params`` and ``state`` sections must follow.
    where, prefix : str, optional
        For a nested document: the file it came from and its key path there (for messages).

    Returns
    -------
    dict
        The whole document (``params``, ``state``, ``library_version``, ...).

    Raises
    ------
    InputError
        Naming the file and key path: not a file, empty, a pickle, not UTF-8, not JSON, a
        duplicated key, ``NaN``/``Infinity`` anywhere, nesting deeper than 32 levels, missing or
        unknown keys, a wrong type, a ``format_version`` this library cannot read, another
        ``type``.

    Examples
    --------
    >>> text = dump_model("Dummy", {}, {"cutoff": float("inf")})
    >>> load_model(text, "Dummy", state=Record({"cutoff": NUM_OR_INF}))["state"]
    {'cutoff': 'inf'}
    >>> load_model(text.replace('"inf"', "NaN"), "Dummy")
    Traceback (most recent call last):
    ...
    radiomics_aln.exceptions.InputError: JSON text: `state.cutoff` holds nan; ...
    """
    if isinstance(source, Mapping):
        doc: Any = dict(source)
        origin = where or "model"
    else:
        if isinstance(source, os.PathLike) or (
            isinstance(source, str) and not source.lstrip("\ufeff \t\r\n").startswith("{")
        ):
            path = Path(source)
            text, origin = _read_model_text(path), str(path)
        else:
            text, origin = str(source), "JSON text"
        try:
            doc = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as exc:
            raise InputError(f"{origin} is not valid JSON: {exc}") from None
        except _DuplicateKey as exc:
            raise InputError(
                f"{origin}: the key {exc.args[0]!r} appears twice in one mapping; a model file "
                "this library wrote never repeats a key"
            ) from None
        except RecursionError:
            raise InputError(
                f"{origin} is nested too deeply to be a model file this library wrote"
            ) from None
    at = prefix or "the document"
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(
            f"{origin}: {at} is not a radiomics_aln model file (no 'format': '{FORMAT}')"
            if prefix
            else f"{origin} is not a radiomics_aln model file (no 'format': '{FORMAT}')"
        )
    _walk_finite(doc, origin, prefix)
    version = doc.get("format_version")
    if not INT.test(version) or version < 1:
        raise InputError(
            f"{origin}: `{_join(prefix, 'format_version')}` must be a whole number >= 1, got "
            f"{_describe(version)}"
        )
    if version > FORMAT_VERSION:
        raise InputError(
            f"{origin} has format_version {version}, newer than this library "
            f"reads ({FORMAT_VERSION}); upgrade radiomics_aln"
        )
    check_schema(doc, _ENVELOPE, origin, prefix or "(top level)")
    if expected_type is not None and doc["type"] != expected_type:
        raise InputError(f"{origin} holds a {doc['type']!r}, not a {expected_type!r}")
    if params is not None:
        check_schema(doc["params"], params, origin, _join(prefix, "params"))
    if state is not None:
        check_schema(doc["state"], state, origin, _join(prefix, "state"))
    doc["origin"] = origin
    return doc


@contextmanager
def rebuilding(doc: Mapping[str, Any], prefix: str = "") -> Iterator[None]:
    """Turn an error while rebuilding an object from a checked document into an InputError.

    The schema checks every key and type; what remains (lists of different lengths, a matrix
    that is not square, ...) is a file that was edited inconsistently.
    """
    try:
        yield
    except InputError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError) as exc:
        where = f" at `{prefix}`" if prefix else ""
        raise InputError(
            f"{doc.get('origin', 'model')}: the {doc.get('type')} model{where} is inconsistent "
            f"({type(exc).__name__}: {exc}); the file was edited by hand or is damaged -- save "
            "the model again from the fitted object"
        ) from None
