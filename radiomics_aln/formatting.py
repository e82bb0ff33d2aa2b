"""Number formats of every table a reader sees: p-values, estimates with intervals, counts.

The statistics functions return unrounded numbers; the publication views (``formatted()``
methods, :func:`radiomics_aln.tables.format_baseline_table` and the study report) turn them into
text with the functions below, so the whole package prints numbers one way:

- **p-values** (:func:`format_p_value`): ``"< 0.001"`` below 0.001, ``"> 0.999"`` when three
  significant digits would round to 1, otherwise three significant digits (``0.0421``,
  ``0.312``, ``0.00123``). Never scientific notation, never ``0`` or ``1``.
- **other numbers** (:func:`format_number`): a fixed number of decimals chosen per kind of
  quantity (AUC and proportions 3, odds ratios and test statistics 2), never exponent notation;
  ``-0.000`` prints as ``0.000``.
- **a number of unknown kind** (:func:`format_general`, the report's generic table cells): four
  significant digits as ``%g`` prints them, but in positional notation (``12346``, ``0.000012``)
  and never rounding the whole part.
- **an estimate with its interval** (:func:`format_estimate_ci`): ``"0.850 (0.780–0.900)"``,
  or ``"-0.026 (-0.157 to 0.105)"`` when a limit is negative (a dash between negative numbers
  misreads).

A missing value (NaN, None) prints as an empty string (or the ``missing`` text given).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln.exceptions import InputError

__all__ = [
    "format_p_value",
    "format_number",
    "format_estimate_ci",
    "format_significant",
    "format_general",
]

#: the smallest p-value printed as a number; smaller ones print as "< 0.001"
P_FLOOR = 0.001


def _missing(x: Any) -> bool:
    return x is None or (pd.api.types.is_scalar(x) and bool(pd.isna(x)))


def _no_negative_zero(text: str) -> str:
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        return text[1:]
    return text


def format_p_value(p: Any, *, digits: int = 3, prefix: bool = False, missing: str = "") -> str:
    """A p-value as journals print it.

    Parameters
    ----------
    p : float
        The p-value, in [0, 1].
    digits : int, default 3
        Significant digits.
    prefix : bool, default False
        Prepend ``"p = "`` (or ``"p "`` before ``<`` and ``>``), for running text.
    missing : str, default ""
        Text of a missing p-value (NaN or None).

    Returns
    -------
    str
        ``"< 0.001"`` when ``p < 0.001`` (also for ``p = 0``); ``"> 0.999"`` when ``p`` rounded
        to ``digits`` significant digits would read 1; otherwise ``p`` with ``digits`` significant
        digits in positional notation (never ``4.7e-16``).

    Raises
    ------
    InputError
        ``p`` outside [0, 1] (a tolerance of 1e-9 absorbs rounding), or ``digits`` < 1.

    Examples
    --------
    >>> [format_p_value(p) for p in (4.694e-16, 0.00123, 0.0421, 0.05, 0.312, 0.99996)]
    ['< 0.001', '0.00123', '0.0421', '0.0500', '0.312', '> 0.999']
    >>> format_p_value(0.0421, prefix=True), format_p_value(0.0, prefix=True)
    ('p = 0.0421', 'p < 0.001')
    >>> format_p_value(float("nan"), missing="NA")
    'NA'
    """
    if not isinstance(digits, int) or isinstance(digits, bool) or digits < 1:
        raise InputError(f"`digits` must be a whole number >= 1, got {digits!r}")
    if _missing(p):
        return missing
    p = float(p)
    if not (-1e-9 <= p <= 1 + 1e-9):
        raise InputError(f"a p-value must lie in [0, 1], got {p!r}")
    if p < P_FLOOR:
        text = f"< {P_FLOOR:g}"
    else:
        body = format_significant(p, digits=digits)
        text = f"> {1 - P_FLOOR:g}" if float(body) >= 1 else body
    if not prefix:
        return text
    return f"p {text}" if text[0] in "<>" else f"p = {text}"


def format_significant(x: Any, *, digits: int = 4, missing: str = "") -> str:
    """``x`` with ``digits`` significant digits in positional notation (never an exponent).

    For numbers whose scale varies (coefficients in original feature units, feature means).

    Examples
    --------
    >>> format_significant(3.21e-07), format_significant(1234567.0)
    ('0.0000003210', '1235000')
    >>> format_significant(0.05, digits=3)
    '0.0500'
    """
    if _missing(x):
        return missing
    x = float(x)
    if not math.isfinite(x):
        return "-inf" if x < 0 else "inf"
    if x == 0:
        return "0"
    exponent = math.floor(math.log10(abs(x)))
    rounded = round(x, digits - 1 - exponent)
    if rounded != 0:  # 0.0999999 rounds up to 0.100: one decimal fewer
        exponent = math.floor(math.log10(abs(rounded)))
    decimals = max(digits - 1 - exponent, 0)
    return _no_negative_zero(f"{rounded:.{decimals}f}")


def format_general(x: Any, *, digits: int = 4, missing: str = "") -> str:
    """``x`` with ``digits`` significant digits, trailing zeros dropped, never an exponent.

    The format of a number whose kind is unknown (a generic table cell): as ``f"{x:.4g}"``
    for ordinary magnitudes, but ``12345.678`` prints ``12346`` (the whole part is never
    rounded off) and ``0.0000123`` prints ``0.0000123`` (not ``1.23e-05``). Integers print
    as they are; ``-0`` prints as ``0``.

    Examples
    --------
    >>> [format_general(v) for v in (12345.678, 0.00012, 1.23e-05, 0.812345, 2.5, 3.0, -1e-9)]
    ['12346', '0.00012', '0.0000123', '0.8123', '2.5', '3', '-0.000000001']
    >>> format_general(float("nan")), format_general(12, digits=1)
    ('', '12')
    """
    if not isinstance(digits, int) or isinstance(digits, bool) or digits < 1:
        raise InputError(f"`digits` must be a whole number >= 1, got {digits!r}")
    if _missing(x):
        return missing
    if isinstance(x, int | np.integer) and not isinstance(x, bool):
        return str(int(x))
    x = float(x)
    if abs(x) >= 10 ** (digits - 1):  # as many digits as the whole part has: no rounding off
        return _no_negative_zero(f"{x:.0f}")
    text = format_significant(x, digits=digits)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return _no_negative_zero(text)


def format_number(x: Any, decimals: int = 3, *, missing: str = "") -> str:
    """``x`` with a fixed number of decimals, never in exponent notation.

    Integers (and floats that are whole numbers with ``decimals=0``) print without decimals;
    ``-0.000`` prints as ``0.000``; infinities as ``inf`` / ``-inf``.

    Examples
    --------
    >>> format_number(8.9e-17), format_number(-1e-9), format_number(2624.6883, 2)
    ('0.000', '0.000', '2624.69')
    >>> format_number(float("nan")), format_number(12, 2)
    ('', '12')
    """
    if _missing(x):
        return missing
    if isinstance(x, int | np.integer) and not isinstance(x, bool):
        return str(int(x))
    x = float(x)
    if not math.isfinite(x):
        return "-inf" if x < 0 else "inf"
    return _no_negative_zero(f"{x:.{decimals}f}")


def format_estimate_ci(
    estimate: Any, ci_low: Any, ci_high: Any, decimals: int = 3, *, missing: str = ""
) -> str:
    """``"estimate (low–high)"``; ``"estimate (low to high)"`` when a limit is negative.

    A missing interval prints the estimate alone; a missing estimate prints ``missing``.

    Examples
    --------
    >>> format_estimate_ci(0.8512, 0.7801, 0.9003)
    '0.851 (0.780–0.900)'
    >>> format_estimate_ci(-0.0257, -0.1567, 0.1053)
    '-0.026 (-0.157 to 0.105)'
    >>> format_estimate_ci(2.1852, 1.0363, 4.6079, 2), format_estimate_ci(1.0, None, None, 2)
    ('2.19 (1.04–4.61)', '1.00')
    """
    if _missing(estimate):
        return missing
    est = format_number(estimate, decimals)
    if _missing(ci_low) or _missing(ci_high):
        return est
    lo, hi = format_number(ci_low, decimals), format_number(ci_high, decimals)
    sep = " to " if (lo.startswith("-") or hi.startswith("-")) else "\u2013"
    return f"{est} ({lo}{sep}{hi})"
