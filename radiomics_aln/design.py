"""Model terms and design matrices: one term per predictor, categorical ones dummy-coded
against a reference level with the levels in R's ``factor`` order, and the per-term tables of
a fitted logistic model (coefficients, Wald and penalised likelihood-ratio tests).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from radiomics_aln._collation import r_sorted
from radiomics_aln._validation import check_binary, format_items
from radiomics_aln.exceptions import InputError, LevelError, SingleLevelError, UnseenLevelError
from radiomics_aln.io import SCALAR, STR, ListOf, Record
from radiomics_aln.regression import Z975, LogitFit, firth_plr, firth_profile_ci

__all__ = [
    "TERM_RECORD",
    "Term",
    "as_frame",
    "check_missing",
    "coef_table",
    "design_matrix",
    "firth_table",
    "make_terms",
    "outcome_values",
    "predictors_of",
    "term_plr",
    "term_wald",
]


@dataclass
class Term:
    """One predictor of a model: ``kind`` "continuous" (one column) or "categorical" (one
    dummy column per level after the reference, ``levels[0]``)."""

    name: str
    kind: str  # "continuous" | "categorical"
    levels: list[str] = field(default_factory=list)  # categorical: all levels, reference first
    reference: str | None = None

    @property
    def columns(self) -> list[str]:
        if self.kind == "continuous":
            return [self.name]
        return [f"{self.name}[{lev}]" for lev in self.levels[1:]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "levels": self.levels,
            "reference": self.reference,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Term:
        return cls(d["name"], d["kind"], list(d["levels"]), d["reference"])


#: How a model file stores one :class:`Term` (``Term.to_dict``); every model with terms uses it.
TERM_RECORD = Record({"name": STR, "kind": STR, "levels": ListOf(SCALAR), "reference": SCALAR})


def is_categorical(s: pd.Series) -> bool:
    """Whether a column is dummy-coded (not numeric or boolean)."""
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def check_missing(data: pd.DataFrame, predictors: Sequence[str], what: str) -> None:
    """InputError naming every predictor with missing or non-finite values and its rows."""
    parts = []
    for name in predictors:
        col = data[name]
        bad = col.isna().to_numpy().copy()
        if not is_categorical(col):
            bad |= ~np.isfinite(pd.to_numeric(col, errors="coerce").to_numpy(dtype=float))
        if bad.any():
            parts.append(f"`{name}` in rows {format_items(data.index[bad], 5)}")
    if parts:
        raise InputError(f"{what} has missing or non-finite predictor values: " + "; ".join(parts))


def make_terms(
    data: pd.DataFrame, predictors: Sequence[str], reference_levels: Mapping[str, Any] | None
) -> list[Term]:
    """The terms of ``predictors`` in ``data``.

    Raises
    ------
    SingleLevelError
        A predictor takes one value only.
    LevelError
        A reference level that is not among the predictor's levels.
    InputError
        ``reference_levels`` names a column not in ``data`` or a numeric predictor.
    """
    reference_levels = dict(reference_levels or {})
    # levels for columns that are not (or no longer) predictors are ignored, typos are not
    unknown = set(reference_levels) - set(data.columns)
    if unknown:
        raise InputError(
            f"reference_levels names column(s) not in the data: {format_items(sorted(unknown))}"
        )
    terms = []
    for name in predictors:
        col = data[name]
        if is_categorical(col):
            terms.append(_categorical_term(name, col, reference_levels))
            continue
        if name in reference_levels:
            raise InputError(
                f"reference_levels given for numeric predictor `{name}`; convert it to "
                "a string or categorical column to dummy-code it"
            )
        values = pd.to_numeric(col).to_numpy(dtype=float)
        if np.unique(values).size < 2:
            raise SingleLevelError(
                f"predictor `{name}` has a single level ({values[0]!r} in every row); "
                "it cannot be estimated",
                predictor=name,
                levels=np.unique(values).tolist(),
            )
        terms.append(Term(name, "continuous"))
    return terms


def _categorical_term(name: str, col: pd.Series, reference_levels: Mapping[str, Any]) -> Term:
    if isinstance(col.dtype, pd.CategoricalDtype):
        present = set(col.astype(str))
        levels = [str(c) for c in col.cat.categories if str(c) in present]
    else:
        # R's factor() order (locale collation), not code points: see _collation
        levels = r_sorted(pd.unique(col.astype(str)))
    if len(levels) < 2:
        raise SingleLevelError(
            f"predictor `{name}` has a single level ({format_items(levels)}); "
            "it cannot be estimated",
            predictor=name,
            levels=levels,
        )
    ref = str(reference_levels.get(name, levels[0]))
    if ref not in levels:
        raise LevelError(
            f"reference level {ref!r} of `{name}` is not among its levels ({format_items(levels)})",
            predictor=name,
            levels=[ref],
        )
    levels = [ref] + [lev for lev in levels if lev != ref]
    return Term(name, "categorical", levels, ref)


def design_matrix(data: pd.DataFrame, terms: Sequence[Term], what: str = "data") -> np.ndarray:
    """Model matrix of ``terms`` with a leading intercept column.

    Raises
    ------
    UnseenLevelError
        A level of a categorical predictor that the terms do not know (rows named).
    InputError
        A missing column, missing values, a numeric predictor that is not numeric.
    """
    missing = [t.name for t in terms if t.name not in data.columns]
    if missing:
        raise InputError(f"{what} lacks predictor column(s): {format_items(missing)}")
    check_missing(data, [t.name for t in terms], what)
    cols = [np.ones(len(data))]
    for t in terms:
        col = data[t.name]
        if t.kind == "continuous":
            if is_categorical(col):
                raise InputError(f"predictor `{t.name}` was numeric in fit but is not in {what}")
            cols.append(pd.to_numeric(col).to_numpy(dtype=float))
        else:
            values = col.astype(str).to_numpy()
            unseen = ~np.isin(values, t.levels)
            if unseen.any():
                levels = sorted(set(values[unseen]))
                raise UnseenLevelError(
                    f"predictor `{t.name}` in {what} has level(s) "
                    f"{format_items(levels)} not seen in fit "
                    f"(rows {format_items(data.index[unseen], 5)}); known levels: "
                    f"{format_items(t.levels)}",
                    predictor=t.name,
                    levels=levels,
                )
            for lev in t.levels[1:]:
                cols.append((values == lev).astype(float))
    return np.column_stack(cols)


def predictors_of(terms: Sequence[Term], columns: Sequence[str]) -> list[str]:
    """The predictors (term names) that the model ``columns`` belong to, in term order."""
    wanted = set(columns)
    return [t.name for t in terms if wanted & set(t.columns)]


def outcome_values(data: pd.DataFrame, y: Any, what: str = "data") -> tuple[np.ndarray, str]:
    """The 0/1 outcome of ``data`` and its name: ``y`` is a column of ``data`` or the values.

    Raises
    ------
    InputError
        A column not in ``data``, no outcome, a length other than ``data``'s, values not 0/1.
    """
    if isinstance(y, str):
        if y not in data.columns:
            raise InputError(f"outcome column `{y}` is not in {what}")
        return check_binary(data[y], y), y
    if y is None:
        raise InputError("an outcome is required: a column name of `data` or the 0/1 values")
    values = y if isinstance(y, pd.Series) else np.asarray(y)
    if values.ndim == 2 and 1 in values.shape:
        values = values.ravel()
    if len(values) != len(data):
        raise InputError(f"outcome has {len(values)} values but {what} has {len(data)} rows")
    name = getattr(values, "name", None) or "y"
    if isinstance(values, pd.Series):
        values = values.to_numpy()
    return check_binary(pd.Series(np.asarray(values), index=data.index), str(name)), str(name)


def as_frame(data: Any) -> pd.DataFrame:
    """``data`` as a DataFrame (a 2-D array gets columns x0, x1, ...)."""
    if isinstance(data, pd.DataFrame):
        return data
    arr = np.asarray(data)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"data must be a DataFrame or a 2-D array, got shape {arr.shape}")
    return pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])


def coef_table(fit: LogitFit, terms: Sequence[Term] | None = None) -> pd.DataFrame:
    """Coefficients with Wald z, p-value and 95 % odds-ratio interval; with ``terms`` also the
    predictor and level of each column."""
    se = fit.se
    z = fit.coef / se
    cols: dict[str, Any] = {"term": fit.columns}
    if terms is not None:
        # NaN (not None) marks "no level", so tables print alike under pandas 2 and 3.
        pred, lev = ["(Intercept)"], [np.nan]
        for t in terms:
            if t.kind == "continuous":
                pred.append(t.name)
                lev.append(np.nan)
            else:
                pred.extend([t.name] * (len(t.levels) - 1))
                lev.extend(t.levels[1:])
        cols |= {"predictor": pred, "level": lev}
    cols |= {
        "beta": fit.coef,
        "se": se,
        "z": z,
        "p_value": 2 * special.ndtr(-np.abs(z)),
        "odds_ratio": np.exp(fit.coef),
        "or_ci_low": np.exp(fit.coef - Z975 * se),
        "or_ci_high": np.exp(fit.coef + Z975 * se),
    }
    return pd.DataFrame(cols)


def term_wald(fit: LogitFit, terms: Sequence[Term]) -> pd.DataFrame:
    """Wald chi-square per predictor (all its dummy columns jointly), as ``rms::anova``."""
    rows = []
    j = 1
    for t in terms:
        k = len(t.columns)
        idx = np.arange(j, j + k)
        b = fit.coef[idx]
        V = fit.cov[np.ix_(idx, idx)]
        chi2 = float(b @ np.linalg.solve(V, b))
        rows.append(
            {"predictor": t.name, "chi2": chi2, "df": k, "p_value": float(special.chdtrc(k, chi2))}
        )
        j += k
    return pd.DataFrame(rows)


def term_plr(fit: LogitFit, terms: Sequence[Term]) -> pd.DataFrame:
    """Penalised likelihood-ratio test per predictor (all its columns jointly) of a Firth fit,
    as ``logistf``'s ``drop1``; same columns as :func:`term_wald`."""
    rows = []
    j = 1
    for t in terms:
        k = len(t.columns)
        chi2, p = firth_plr(fit, list(range(j, j + k)))
        rows.append({"predictor": t.name, "chi2": chi2, "df": k, "p_value": p})
        j += k
    return pd.DataFrame(rows)


def firth_table(fit: LogitFit, terms: Sequence[Term] | None = None) -> pd.DataFrame:
    """:func:`coef_table` of a Firth fit with ``logistf``'s default inference: ``p_value``
    from the penalised likelihood-ratio test of each coefficient and the odds-ratio interval
    from the profile penalised likelihood (``se`` and ``z`` stay Wald's)."""
    table = coef_table(fit, terms)
    low, high, pval = [], [], []
    for j in range(fit.coef.size):
        lo, hi = firth_profile_ci(fit, j)
        low.append(lo)
        high.append(hi)
        pval.append(firth_plr(fit, [j])[1])
    table["p_value"] = pval
    table["or_ci_low"] = np.exp(low)
    table["or_ci_high"] = np.exp(high)
    return table
