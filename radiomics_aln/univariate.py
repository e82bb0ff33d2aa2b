"""Univariate logistic screen: one logistic regression per predictor, the first table of a
nomogram paper (R: ``summary(glm(y ~ x, binomial))`` per predictor; ``logistf`` with Firth's
penalty). Reference values: ``tests/reference/nomogram.R`` and ``firth.R``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from radiomics_aln._validation import check_binary, format_items
from radiomics_aln.design import (
    coef_table,
    design_matrix,
    firth_table,
    make_terms,
    term_plr,
    term_wald,
)
from radiomics_aln.exceptions import InputError, SeparationError, StatisticalWarning
from radiomics_aln.regression import fit_logistic

__all__ = ["univariate_logistic"]


def univariate_logistic(
    data: pd.DataFrame,
    y: str,
    predictors: Sequence[str],
    *,
    reference_levels: Mapping[str, Any] | None = None,
    separation: Literal["raise", "report"] = "raise",
    penalty: str | None = None,
) -> pd.DataFrame:
    """One logistic regression per predictor: the univariate table of a nomogram paper.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    y : str
        Column holding the 0/1 endpoint.
    predictors : sequence of str
        Columns to test one at a time. Numeric columns enter linearly (one coefficient); string,
        categorical or object columns are dummy-coded against a reference level.
    reference_levels : mapping, optional
        ``{predictor: level}``. Default: the first category of a pandas ``Categorical``, else the
        first level in sorted order (R's ``factor`` default).
    separation : {"raise", "report"}, default "raise"
        What to do when a predictor (level) perfectly predicts the outcome, so that its odds
        ratio has no finite estimate: raise :class:`~radiomics_aln.exceptions.SeparationError`,
        or keep its rows with NaN estimates, the reason in ``note`` and a
        :class:`~radiomics_aln.exceptions.StatisticalWarning`, and go on with the others. (R's
        ``glm`` reports huge coefficients and standard errors with a warning instead; neither is
        a usable estimate.)
    penalty : {None, "firth"}
        ``"firth"``: Firth's penalised likelihood for every predictor (see
        :class:`~radiomics_aln.nomogram.LogisticNomogram`), finite under separation; ``p_value``/``p_overall`` are
        penalised likelihood-ratio tests and the odds-ratio interval is the profile
        penalised-likelihood one, as ``logistf`` reports them (``se``, ``z``: Wald).

    Returns
    -------
    DataFrame
        One row per predictor level, in the order given, the reference level of a categorical
        predictor listed first with ``is_reference`` True, ``odds_ratio`` 1 and NaN elsewhere:

        - ``predictor``, ``level`` (missing for numeric predictors), ``reference`` (the reference
          level of a categorical predictor), ``is_reference``
        - ``n`` (cases at this level; all cases for numeric), ``n_events``
        - ``beta``, ``se``, ``z``, ``p_value`` (Wald), ``odds_ratio``, ``or_ci_low``,
          ``or_ci_high`` (95 % Wald interval, ``exp(beta -/+ 1.96 se)``)
        - ``p_overall``: Wald chi-square p-value of the predictor as a whole (equals
          ``p_value`` for one-coefficient predictors).
        - ``note``: empty, or why the predictor could not be estimated (``separation="report"``).

    Raises
    ------
    InputError
        Outcome not 0/1, missing values (rows named), a predictor with a single level.
    SeparationError
        A predictor (level) perfectly predicts the outcome (with ``separation="raise"``).

    Notes
    -----
    Each row equals ``summary(glm(y ~ predictor, binomial))`` and
    ``exp(confint.default(fit))`` in R; standard errors are computed at the final estimate.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"age": rng.normal(50, 10, 120).round()})
    >>> df["margin"] = rng.choice(["smooth", "angular", "spiculated"], 120)
    >>> lp = -4 + 0.06 * df.age + 1.2 * (df.margin == "spiculated")
    >>> df["y"] = (rng.random(120) < 1 / (1 + np.exp(-lp))).astype(int)
    >>> t = univariate_logistic(df, "y", ["age", "margin"], reference_levels={"margin": "smooth"})
    >>> t[["predictor", "level", "n", "odds_ratio", "p_value"]].round(3)
      predictor       level    n  odds_ratio  p_value
    0       age         NaN  120       1.038    0.103
    1    margin      smooth   34       1.000      NaN
    2    margin     angular   38       0.452    0.116
    3    margin  spiculated   48       2.111    0.101
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError("univariate_logistic needs a DataFrame and column names")
    predictors = list(predictors)
    missing = [c for c in [y, *predictors] if c not in data.columns]
    if missing:
        raise InputError(f"data lacks column(s): {format_items(missing)}")
    if separation not in ("raise", "report"):
        raise InputError(f"separation must be 'raise' or 'report', got {separation!r}")
    y = check_binary(data[y], y)  # the column's 0/1 values from here on
    rows = []
    not_estimable = []
    for name in predictors:
        ref = (
            {name: reference_levels[name]} if reference_levels and name in reference_levels else {}
        )
        terms = make_terms(data, [name], ref)
        X = design_matrix(data, terms)
        t = terms[0]
        try:
            fit = fit_logistic(X, y, ["(Intercept)", *t.columns], penalty=penalty)
        except SeparationError as exc:
            if separation == "raise":
                raise
            note = str(exc)  # the message, shown as it is
            not_estimable.append(name)
            untested = _NO_ESTIMATE | {"p_overall": np.nan, "note": note}
            for i, counts in enumerate(_count_rows(name, t, data, y)):
                reference = t.kind != "continuous" and i == 0
                rows.append(counts | untested | ({"odds_ratio": 1.0} if reference else {}))
            continue
        if penalty == "firth":  # logistf's inference: profile intervals, PLR tests
            tab = firth_table(fit).iloc[1:]
            wald = term_plr(fit, terms)
        else:
            tab = coef_table(fit).iloc[1:]
            wald = term_wald(fit, terms)
        estimates = [
            {c: float(r[c]) for c in tab.columns if c != "term"} for _, r in tab.iterrows()
        ]
        if t.kind != "continuous":  # the reference level comes first, with odds ratio 1
            estimates.insert(0, _NO_ESTIMATE | {"odds_ratio": 1.0})
        tests = {"p_overall": float(wald["p_value"].iloc[0]), "note": ""}
        counts = _count_rows(name, t, data, y)
        rows.extend(c | e | tests for c, e in zip(counts, estimates, strict=True))
    if not_estimable:
        warnings.warn(
            f"not estimable (separation), reported with NaN: {format_items(not_estimable)}",
            StatisticalWarning,
            stacklevel=2,
        )
    return pd.DataFrame(rows)


# the estimate columns of a row without an estimate (a reference level, a separated predictor)
_NO_ESTIMATE = {
    "beta": np.nan,
    "se": np.nan,
    "z": np.nan,
    "p_value": np.nan,
    "odds_ratio": np.nan,
    "or_ci_low": np.nan,
    "or_ci_high": np.nan,
}


def _count_rows(name: str, term: Any, data: pd.DataFrame, y: np.ndarray) -> list[dict[str, Any]]:
    """What each row of a predictor describes, with its counts: one row for a numeric
    predictor, one per level (the reference first) for a categorical one."""
    if term.kind == "continuous":
        return [
            {"predictor": name, "level": np.nan, "reference": np.nan, "is_reference": False,
             "n": len(y), "n_events": int(y.sum())}
        ]  # fmt: skip
    values = data[name].astype(str).to_numpy()
    rows = []
    for i, lev in enumerate(term.levels):
        at = values == lev
        rows.append(
            {"predictor": name, "level": lev, "reference": term.reference, "is_reference": i == 0,
             "n": int(at.sum()), "n_events": int(y[at].sum())}
        )  # fmt: skip
    return rows
