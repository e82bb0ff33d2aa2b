"""Input checks shared by the modules (the module is private; its names are for the package).

Each check returns a clean value (NumPy array, DataFrame, float, Generator) and raises
:class:`InputError` with a message that names the argument and, where rows are at fault, the
first offending cases. A check used by two modules lives here, never copied.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln.exceptions import InputError

_MAX_LISTED = 10

#: Plausible pixel spacing of 2D ultrasound, mm per pixel (both ends allowed). Outside it a
#: spacing is taken for a unit error; ``spacing_range=`` overrides it. Re-exported by
#: :mod:`radiomics_aln.images`.
SPACING_RANGE_MM: tuple[float, float] = (0.005, 2.0)
#: Widest peritumoral ring accepted, mm (published rings are 2-10 mm).
MAX_RING_MM: float = 50.0


def format_items(items: Iterable[Any], limit: int = _MAX_LISTED) -> str:
    """Comma-joined list of at most ``limit`` items, with a count of the rest."""
    items = [str(i) for i in items]
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f", ... ({len(items) - limit} more)"
    return shown


def _labels(values: Any, n: int) -> np.ndarray:
    """Row labels for messages: the index of a pandas object, else positions."""
    if isinstance(values, pd.Series | pd.DataFrame):
        return np.asarray(values.index)
    return np.arange(n)


def check_1d(values: Any, name: str, *, dtype: Any = float) -> np.ndarray:
    """Return ``values`` as a 1-D array of ``dtype``; NaN/inf raise an error naming the rows."""
    arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise InputError(f"`{name}` must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"`{name}` is empty")
    try:
        out = arr.astype(dtype)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`{name}` must be numeric: {exc}") from None
    if np.issubdtype(out.dtype, np.floating):
        bad = ~np.isfinite(out)
        if bad.any():
            rows = _labels(values, arr.size)[bad]
            raise InputError(
                f"`{name}` has {bad.sum()} missing or non-finite value(s) at rows {format_items(rows)}"
            )
    return out


def check_binary(y: Any, name: str = "y", *, require_both: bool = True) -> np.ndarray:
    """Return a 0/1 integer array. Booleans and {0, 1} floats are accepted."""
    arr = np.asarray(y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(
            f"`{name}` must be a non-empty 1-D array of 0/1 outcomes, got shape {arr.shape}"
        )
    if arr.dtype == bool:
        out = arr.astype(int)
    else:
        try:
            num = pd.to_numeric(pd.Series(arr), errors="coerce").to_numpy(dtype=float)
        except (TypeError, ValueError):
            num = np.full(arr.size, np.nan)
        bad = ~np.isin(num, (0.0, 1.0))
        if bad.any():
            rows = _labels(y, arr.size)[bad]
            seen = format_items(pd.unique(pd.Series(arr[bad]).astype(str)))
            raise InputError(
                f"`{name}` must contain only 0 and 1; rows {format_items(rows)} hold {seen}"
            )
        out = num.astype(int)
    if require_both and np.unique(out).size < 2:
        raise InputError(
            f"`{name}` has only one class ({int(out[0])}); both outcomes (0 and 1) are needed"
        )
    return out


def check_probabilities(p: Any, name: str = "p", *, open_interval: bool = False) -> np.ndarray:
    """Return ``p`` as floats in [0, 1] (or (0, 1) with ``open_interval``)."""
    out = check_1d(p, name)
    bad = (out <= 0) | (out >= 1) if open_interval else (out < 0) | (out > 1)
    if bad.any():
        rows = _labels(p, out.size)[bad]
        rng = "(0, 1)" if open_interval else "[0, 1]"
        raise InputError(
            f"`{name}` must be probabilities in {rng}; rows {format_items(rows)} are outside "
            f"(e.g. {float(out[bad][0])!r})"
        )
    return out


def check_same_length(**arrays: Sequence[Any] | np.ndarray) -> int:
    """Raise unless every argument has the same length; return that length."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"`{k}` has {n}" for k, n in lengths.items())
        raise InputError(f"length mismatch: {desc}")
    return next(iter(lengths.values()))


def check_finite_frame(df: pd.DataFrame, what: str = "X") -> pd.DataFrame:
    """Raise if a numeric DataFrame holds NaN/inf, naming the columns and cases."""
    values = df.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        cols = df.columns[bad.any(axis=0)]
        parts = []
        for col in cols[:_MAX_LISTED]:
            rows = df.index[~np.isfinite(df[col].to_numpy(dtype=float))]
            parts.append(f"column `{col}` in cases {format_items(rows, 5)}")
        more = f" (and {len(cols) - _MAX_LISTED} more columns)" if len(cols) > _MAX_LISTED else ""
        raise InputError(f"{what} has missing or non-finite values: " + "; ".join(parts) + more)
    return df


def check_columns(df: pd.DataFrame, expected: Sequence[str], what: str = "X") -> pd.DataFrame:
    """Return ``df[expected]``; raise listing the missing (and unexpected) columns."""
    expected = list(expected)
    missing = [c for c in expected if c not in df.columns]
    if missing:
        extra = [c for c in df.columns if c not in set(expected)]
        msg = f"{what} lacks {len(missing)} column(s) seen in fit: {format_items(missing)}"
        if extra:
            msg += f"; it has {len(extra)} column(s) not seen in fit: {format_items(extra)}"
        raise InputError(msg)
    return df[expected]


def check_spacing_limits(spacing_range: Any) -> tuple[float, float] | None:
    """Validate a ``spacing_range=`` argument: None or (low, high) with 0 < low < high."""
    if spacing_range is None:
        return None
    try:
        if isinstance(spacing_range, str | bytes) or any(
            isinstance(v, bool) for v in spacing_range
        ):
            raise TypeError
        lo, hi = (float(v) for v in spacing_range)
    except (TypeError, ValueError):
        raise InputError(
            f"spacing_range={spacing_range!r} must be (low, high) in mm per pixel, e.g. "
            "(0.005, 2.0), or None to disable the plausibility check"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise InputError(
            f"spacing_range={spacing_range!r} must be (low, high) with 0 < low < high, finite"
        )
    return lo, hi


def check_ring_width(width: Any, name: str = "width_mm") -> float:
    """A ring width must be a finite number in (0, MAX_RING_MM]; return it as float."""
    ok = isinstance(width, int | float | np.integer | np.floating) and not isinstance(width, bool)
    if not ok or not (math.isfinite(width) and 0 < width <= MAX_RING_MM):
        raise InputError(
            f"{name}={width!r} must be a positive ring width in mm, a number in "
            f"(0, {MAX_RING_MM:g}] (published peritumoral rings are 2-10 mm)"
        )
    return float(width)


def check_conf_level(conf_level: Any, name: str = "conf_level") -> float:
    """A confidence level: a real number strictly between 0 and 1; return it as float."""
    if isinstance(conf_level, bool) or not isinstance(conf_level, Real):
        raise InputError(f"`{name}` must be a number in (0, 1), got {conf_level!r}")
    if not 0.0 < float(conf_level) < 1.0:
        raise InputError(f"`{name}` must be a number in (0, 1), got {conf_level!r}")
    return float(conf_level)


def check_n_boot(n_boot: Any, *, allow_zero: bool = False) -> int:
    """A number of bootstrap resamples: an integer >= 1 (>= 0 with ``allow_zero``)."""
    lo = 0 if allow_zero else 1
    if isinstance(n_boot, bool) or not isinstance(n_boot, Integral) or n_boot < lo:
        raise InputError(f"`n_boot` must be an integer >= {lo}, got {n_boot!r}")
    return int(n_boot)


def _check_seed_type(random_state: Any, legacy: bool) -> None:
    allowed = (Integral, np.random.Generator) + ((np.random.RandomState,) if legacy else ())
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, allowed)
    ):
        raise InputError(
            "`random_state` must be an int, a numpy Generator or None, got "
            f"{type(random_state).__name__} {random_state!r}"
        )


def check_generator(random_state: Any) -> np.random.Generator:
    """A numpy Generator from ``random_state`` (int, None or Generator), as ``default_rng``.

    A Generator is used as it is (its state advances); the same int always gives the same draws.
    """
    _check_seed_type(random_state, legacy=False)
    return np.random.default_rng(random_state)


def check_random_state(random_state: Any) -> np.random.RandomState:
    """A ``RandomState`` for scikit-learn code from an int, None or numpy Generator.

    An int or None behaves as :func:`sklearn.utils.check_random_state` (so an int seed gives
    the same numbers as before Generators were accepted); a Generator seeds a new RandomState
    from its next draw (its state advances). A RandomState is used as it is.
    """
    from sklearn.utils import check_random_state as sklearn_check_random_state

    _check_seed_type(random_state, legacy=True)
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(int(random_state.integers(0, 2**32)))
    return sklearn_check_random_state(random_state)


def binary_outcome(y: Any, name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """0/1 outcome and the two original labels (``classes_``; the larger one is coded 1).

    0/1 and boolean outcomes are checked by :func:`check_binary` (its messages name the rows);
    any other pair of labels is accepted as scikit-learn classifiers do.
    """
    arr = np.asarray(y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim == 1 and arr.size and arr.dtype != bool:
        labels = pd.unique(pd.Series(arr))
        if len(labels) == 2 and not set(labels.tolist()) <= {0, 1}:
            classes = np.sort(np.asarray(labels))
            return (arr == classes[1]).astype(int), classes
        if len(labels) > 2:
            raise InputError(
                f"`{name}` must be a binary outcome; it has {len(labels)} distinct values "
                f"({', '.join(map(str, labels[:5]))}{', ...' if len(labels) > 5 else ''})"
            )
    yb = check_binary(y, name)
    return yb, np.array([0, 1])


def check_outcome_scores(
    y: Any,
    scores: Mapping[str, Any],
    *,
    probabilities: bool = False,
    require_both: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Outcome ``y`` (0/1) and named score arrays: finite, same length, optionally in [0, 1].

    Values are matched by position: pandas inputs whose indexes disagree are refused.
    """
    if isinstance(y, pd.Series | pd.DataFrame):
        for name, v in scores.items():
            if isinstance(v, pd.Series | pd.DataFrame) and not y.index.equals(v.index):
                raise InputError(
                    f"`y` and `{name}` are pandas objects with different indexes; values are "
                    f"matched by position, so align them first (e.g. `{name}.reindex(y.index)`) "
                    "or pass arrays"
                )
    yy = check_binary(y, "y", require_both=require_both)
    out = {
        name: check_probabilities(v, name) if probabilities else check_1d(v, name)
        for name, v in scores.items()
    }
    check_same_length(y=yy, **out)
    return yy, out


def check_threshold(threshold: Any) -> float:
    """A cutoff: any number but NaN (a :class:`~radiomics_aln.metrics.YoudenThreshold` too)."""
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise InputError(f"`threshold` must be a number, got {threshold!r}") from None
    if math.isnan(t):
        raise InputError("`threshold` is NaN")
    return t
