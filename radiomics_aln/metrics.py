"""Discrimination: the AUC with CIs, DeLong tests, ROC tables and Youden cutoffs.

Every function takes outcomes ``y`` (0/1, 1 = event, e.g. ALN metastasis) and scores ``p``
(predicted probabilities or any continuous marker) and returns a tidy :class:`pandas.DataFrame`
with unrounded numbers and confidence limits in two columns (``ci_low``, ``ci_high``).
:func:`c_statistic` is the package's one AUC (C-statistic) point estimate: every other
AUC (cross-validation of :class:`~radiomics_aln.score.RadScore`, :func:`roc_auc`, DeLong) is
computed by it. Threshold metrics and the multi-cohort Table 3 are in
:mod:`radiomics_aln.performance`, reclassification (NRI, IDI, risk groups) in
:mod:`radiomics_aln.reclassification`.

Direction
---------
Scores are taken **as given: a higher score means the event is more likely** (pROC's
``direction = "<"``: controls < cases). pROC's default ``direction = "auto"`` instead flips the
score when the median of the controls exceeds the median of the cases, which silently turns an
AUC of 0.3 into 0.7; pass ``direction="auto"`` to reproduce it, or ``direction=">"`` for markers
that are lower in events.

Threshold rule
--------------
A case is test-positive (high risk) when ``p >= threshold`` (for ``direction=">"``:
``p <= threshold``), as pROC's ``coords`` and dcurves do.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from radiomics_aln._bootstrap import resample_indices
from radiomics_aln._display import SummaryHTML
from radiomics_aln._plotting import (
    REFERENCE_STYLE,
    get_ax,
    legend_below,
    line_style,
    resolve_styles,
)
from radiomics_aln._validation import (
    check_conf_level,
    check_n_boot,
    check_outcome_scores,
)
from radiomics_aln.exceptions import InputError, StatisticalWarning

__all__ = [
    "c_statistic",
    "roc_auc",
    "delong_test",
    "delong_test_unpaired",
    "roc_curve_table",
    "youden_threshold",
    "YoudenThreshold",
    "plot_roc",
]

logger = logging.getLogger(__name__)

Direction = Literal["<", ">", "auto"]
_DIRECTIONS = ("<", ">", "auto")


# --------------------------------------------------------------------------- input handling


def _resolve_direction(y: np.ndarray, s: np.ndarray, direction: str) -> str:
    if direction not in _DIRECTIONS:
        raise InputError(f"`direction` must be one of {_DIRECTIONS}, got {direction!r}")
    if direction != "auto":
        return direction
    # pROC (roc.default): "<" when median(controls) <= median(cases), else ">".
    return "<" if np.median(s[y == 0]) <= np.median(s[y == 1]) else ">"


def _oriented(s: np.ndarray, direction: str) -> np.ndarray:
    """Scores on the scale where higher means event (negated for ``direction='>'``)."""
    return -s if direction == ">" else s


# --------------------------------------------------------------------------- the AUC


def _rank_sum_auc(case_ranks: np.ndarray, m: int, n: int) -> float:
    """Mann-Whitney AUC from the midranks of the ``m`` cases among all ``m + n`` scores.

    The rank sum is exact (integers and halves), so a single rounding gives the AUC: equal
    AUCs (e.g. of two penalties in cross-validation) compare equal.
    """
    return float((case_ranks.sum() - m * (m + 1) / 2) / (m * n))


def c_statistic(y: Any, p: Any) -> float:
    """The AUC (C-statistic, concordance) of scores ``p``: ``P(p_case > p_control) + P(=)/2``.

    The package's one AUC point estimate (used by :func:`roc_auc`, DeLong's tests and the
    cross-validation of :class:`~radiomics_aln.score.RadScore`); higher ``p`` means event.

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    p : array-like of float
        Scores (probabilities, linear predictors or any marker); finite values.

    Returns
    -------
    float
        The AUC; NaN when ``y`` holds a single class (as ``survival::concordance``).

    Raises
    ------
    InputError
        ``y`` not 0/1, non-finite ``p``, lengths that differ.

    Notes
    -----
    ``AUC = (R_cases - m (m + 1) / 2) / (m n)`` with ``R_cases`` the sum of the cases' midranks
    among all scores (Mann-Whitney U / (m n)); equals ``pROC::auc(direction = "<")``, Harrell's
    C (``Hmisc::somers2``) and the AUC that ``cv.glmnet(type.measure = "auc")`` computes.

    Examples
    --------
    >>> c_statistic([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    yy, sc = check_outcome_scores(y, {"p": p}, require_both=False)
    s = sc["p"]
    cases, controls = s[yy == 1], s[yy == 0]
    if cases.size == 0 or controls.size == 0:
        return math.nan
    ranks = stats.rankdata(np.concatenate([cases, controls]))
    return _rank_sum_auc(ranks[: cases.size], cases.size, controls.size)


# --------------------------------------------------------------------------- DeLong core


def _delong_placements(y: np.ndarray, s: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong placement values by midranks (Sun & Xu 2014), O(n log n).

    Returns ``(auc, v10, v01)``: ``v10[i]`` is the fraction of controls below case ``i`` (ties
    count 1/2), ``v01[j]`` the fraction of cases above control ``j``; ``auc`` (their mean) is
    computed from the same midranks as :func:`c_statistic`.
    """
    cases = s[y == 1]
    controls = s[y == 0]
    m, n = cases.size, controls.size
    tz = stats.rankdata(np.concatenate([cases, controls]))
    tx = stats.rankdata(cases)
    ty = stats.rankdata(controls)
    v10 = (tz[:m] - tx) / n
    v01 = 1.0 - (tz[m:] - ty) / m
    return _rank_sum_auc(tz[:m], m, n), v10, v01


def _delong_cov(y: np.ndarray, scores: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """AUCs and their DeLong covariance matrix for k scores on the same cases."""
    m = int(y.sum())
    n = y.size - m
    aucs, v10s, v01s = [], [], []
    for s in scores:
        a, v10, v01 = _delong_placements(y, s)
        aucs.append(a)
        v10s.append(v10)
        v01s.append(v01)
    aucs = np.asarray(aucs)
    if m < 2 or n < 2:
        return aucs, np.full((len(aucs), len(aucs)), np.nan)
    s10 = np.atleast_2d(np.cov(np.vstack(v10s), ddof=1))
    s01 = np.atleast_2d(np.cov(np.vstack(v01s), ddof=1))
    return aucs, s10 / m + s01 / n


def _warn_small(y: np.ndarray, what: str) -> None:
    m = int(y.sum())
    n = y.size - m
    if m < 2 or n < 2:
        warnings.warn(
            f"{what}: the DeLong variance needs at least 2 events and 2 non-events "
            f"(got {m} and {n}); SE and CI are NaN",
            StatisticalWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------- bootstrap AUCs


def _bootstrap_aucs(
    y: np.ndarray, s: np.ndarray, n_boot: int, random_state: int | np.random.Generator | None
) -> np.ndarray:
    """Stratified bootstrap AUCs (cases and controls resampled separately), vectorized.

    Scores are replaced by their rank among the unique values; per resample, the counts of
    resampled controls and cases at each rank give the Mann-Whitney statistic in O(K) with a
    cumulative sum, for all resamples of a chunk at once.
    """
    uniq, inv = np.unique(s, return_inverse=True)
    k = uniq.size
    case_r = inv[y == 1]
    ctrl_r = inv[y == 0]
    m, n = case_r.size, ctrl_r.size
    out = np.empty(n_boot)
    done = 0
    for ic, jc in resample_indices(
        n_boot, [m, n], random_state=random_state, elements_per_resample=max(m + n, k)
    ):
        b = ic.shape[0]
        offs = (np.arange(b) * k)[:, None]
        a_cnt = np.bincount((case_r[ic] + offs).ravel(), minlength=b * k).reshape(b, k)
        c_cnt = np.bincount((ctrl_r[jc] + offs).ravel(), minlength=b * k).reshape(b, k)
        below = np.cumsum(c_cnt, axis=1) - c_cnt
        out[done : done + b] = (a_cnt * (below + 0.5 * c_cnt)).sum(axis=1) / (m * n)
        done += b
    return out


# --------------------------------------------------------------------------- public: AUC


def roc_auc(
    y: Any,
    p: Any,
    *,
    ci: Literal["delong", "bootstrap"] = "delong",
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = None,
    conf_level: float = 0.95,
    direction: Direction = "<",
) -> pd.DataFrame:
    """Area under the ROC curve with its standard error and confidence interval.

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event (case).
    p : array-like of float
        Predicted probability or any score; finite values.
    ci : {"delong", "bootstrap"}
        ``"delong"``: DeLong et al. (1988) variance and a normal interval, clipped to [0, 1]
        (``pROC::ci.auc(method = "delong")``). ``"bootstrap"``: percentile interval of
        ``n_boot`` stratified bootstrap AUCs (``pROC::ci.auc(method = "bootstrap",
        boot.stratified = TRUE)``).
    n_boot : int
        Bootstrap replicates (``ci="bootstrap"`` only).
    random_state : int, numpy Generator or None
        Seed for the bootstrap; results are identical for a given seed.
    conf_level : float
        Confidence level of the interval.
    direction : {"<", ">", "auto"}
        ``"<"`` (default): higher ``p`` means event. ``">"``: lower means event. ``"auto"``:
        pROC's rule (``">"`` when the controls' median exceeds the cases' median).

    Returns
    -------
    pandas.DataFrame
        One row indexed ``"auc"`` with columns ``estimate`` (AUC), ``se`` (DeLong SE, or SD of
        the bootstrap AUCs), ``ci_low``, ``ci_high``, ``n``, ``n_events``, ``n_controls``,
        ``direction`` (the one used), ``ci_method``, ``conf_level``.

    Raises
    ------
    InputError
        ``y`` not 0/1 or with a single class, non-finite ``p``, lengths that differ, bad
        ``ci``/``direction``/``n_boot``/``conf_level``.

    Notes
    -----
    The AUC is the Mann-Whitney probability ``P(p_case > p_control) + P(=)/2``. DeLong's
    variance is ``S10/m + S01/n`` with ``S10``, ``S01`` the sample variances (divisor ``m-1``,
    ``n-1``) of the case and control placement values, computed from midranks in
    O(n log n) (Sun & Xu 2014), exactly as ``pROC:::ci.auc.delong``. The bootstrap resamples
    cases and controls separately with the direction kept fixed, and takes R's default
    (type 7) quantiles, as pROC; it does not reproduce R's random numbers, so it agrees with
    pROC in distribution, not bitwise.

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
    correlated receiver operating characteristic curves: a nonparametric approach.
    Biometrics 44:837-845.
    Sun X, Xu W (2014). Fast implementation of DeLong's algorithm for comparing the areas under
    correlated receiver operating characteristic curves. IEEE Signal Process Lett 21:1389-1393.
    Robin X et al. (2011). pROC: an open-source package for R and S+ to analyze and compare ROC
    curves. BMC Bioinformatics 12:77.

    Examples
    --------
    >>> y = [0, 0, 0, 0, 1, 0, 1, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    >>> res = roc_auc(y, p)  # R: pROC::ci.auc(roc(y, p, direction = "<"))
    >>> res[["estimate", "se", "ci_low", "ci_high"]].round(4)
         estimate      se  ci_low  ci_high
    auc      0.96  0.0566  0.8491      1.0
    """
    conf_level = check_conf_level(conf_level)
    if ci not in ("delong", "bootstrap"):
        raise InputError(f"`ci` must be 'delong' or 'bootstrap', got {ci!r}")
    yy, sc = check_outcome_scores(y, {"p": p})
    s = sc["p"]
    used = _resolve_direction(yy, s, direction)
    s = _oriented(s, used)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    if ci == "delong":
        _warn_small(yy, "roc_auc")
        aucs, cov = _delong_cov(yy, [s])
        auc = float(aucs[0])
        se = float(np.sqrt(cov[0, 0]))
        lo, hi = float(np.clip(auc - z * se, 0, 1)), float(np.clip(auc + z * se, 0, 1))
    else:
        n_boot = check_n_boot(n_boot)
        auc = _delong_placements(yy, s)[0]
        boots = _bootstrap_aucs(yy, s, n_boot, random_state)
        se = float(boots.std(ddof=1)) if n_boot > 1 else math.nan
        lo, hi = (
            float(q) for q in np.quantile(boots, [0.5 - conf_level / 2, 0.5 + conf_level / 2])
        )
    n_events = int(yy.sum())
    return pd.DataFrame(
        {
            "estimate": [auc],
            "se": [se],
            "ci_low": [lo],
            "ci_high": [hi],
            "n": [yy.size],
            "n_events": [n_events],
            "n_controls": [yy.size - n_events],
            "direction": [used],
            "ci_method": [ci],
            "conf_level": [conf_level],
        },
        index=pd.Index(["auc"]),
    )


# --------------------------------------------------------------------------- public: DeLong


def _test_frame(
    auc1: float,
    auc2: float,
    se: float,
    stat: float,
    df: float,
    pval: float,
    lo: float,
    hi: float,
    method: str,
    n1: int,
    n2: int,
    directions: tuple[str, str],
    conf_level: float,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "auc_1": [auc1],
            "auc_2": [auc2],
            "estimate": [auc1 - auc2],
            "se": [se],
            "ci_low": [lo],
            "ci_high": [hi],
            "z": [stat],
            "df": [df],
            "p_value": [pval],
            "n_1": [n1],
            "n_2": [n2],
            "direction_1": [directions[0]],
            "direction_2": [directions[1]],
            "method": [method],
            "conf_level": [conf_level],
        },
        index=pd.Index(["delong"]),
    )


_ALTERNATIVES = ("two-sided", "greater", "less")
#: Columns of :func:`delong_test` and :func:`delong_test_unpaired`, in order.
DELONG_COLUMNS = (
    "auc_1",
    "auc_2",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "z",
    "df",
    "p_value",
    "n_1",
    "n_2",
    "direction_1",
    "direction_2",
    "method",
    "conf_level",
)


def _p_value(stat: float, alternative: str, df: float = math.inf) -> float:
    """p-value of a z (df = inf) or t statistic; "greater" means AUC1 > AUC2."""
    alternative = "two-sided" if alternative == "two.sided" else alternative  # R's spelling
    if alternative not in _ALTERNATIVES:
        raise InputError(f"`alternative` must be one of {_ALTERNATIVES}, got {alternative!r}")
    if not np.isfinite(df) and df != math.inf:
        return math.nan
    dist = stats.norm if df == math.inf else stats.t(df)
    if alternative == "two-sided":
        return float(2 * dist.sf(abs(stat)))
    if alternative == "greater":
        return float(dist.sf(stat))
    return float(dist.cdf(stat))


def _directions_pair(
    y1: np.ndarray, s1: np.ndarray, y2: np.ndarray, s2: np.ndarray, direction: str
) -> tuple[str, str]:
    d1 = _resolve_direction(y1, s1, direction)
    d2 = _resolve_direction(y2, s2, direction)
    if d1 != d2:
        warnings.warn(
            f"the two ROC curves have different directions ({d1!r} and {d2!r}); DeLong's test "
            "should not be applied to curves with different directions (pROC warns too)",
            StatisticalWarning,
            stacklevel=3,
        )
    return d1, d2


def delong_test(
    y: Any,
    p1: Any,
    p2: Any,
    *,
    conf_level: float = 0.95,
    direction: Direction = "<",
    alternative: Literal["two-sided", "greater", "less"] = "two-sided",
) -> pd.DataFrame:
    """DeLong's test for two correlated ROC curves (two scores on the same patients).

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    p1, p2 : array-like of float
        The two scores (e.g. nomogram and clinical model) for the same patients, same order.
    conf_level : float
        Confidence level for the interval of the AUC difference.
    direction : {"<", ">", "auto"}
        See :func:`roc_auc`; with ``"auto"`` each score gets its own direction (as pROC), and a
        :class:`StatisticalWarning` is issued when they differ.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis; ``"greater"``: AUC1 > AUC2 (pROC's ``alternative``). The
        interval is always two-sided, as pROC's ``conf.int``.

    Returns
    -------
    pandas.DataFrame
        One row indexed ``"delong"``: ``auc_1``, ``auc_2``, ``estimate`` (the difference
        ``auc_1 - auc_2``), ``se`` (of the difference), ``ci_low``, ``ci_high``, ``z``, ``df`` (``inf``: normal
        reference), ``p_value``, ``n_1``, ``n_2`` (patients), ``direction_1``,
        ``direction_2``, ``method``, ``conf_level``.

    Raises
    ------
    InputError
        Bad ``y``, non-finite scores, length mismatch, bad ``direction``.

    Notes
    -----
    With ``V10``/``V01`` the case/control placement matrices of the two scores,
    ``S = cov(V10)/m + cov(V01)/n`` and ``z = (AUC1 - AUC2) / sqrt(S11 + S22 - 2 S12)``;
    ``p = 2 Phi(-|z|)`` and the CI is ``difference -/+ z_{1-alpha/2} se``. Equal to
    ``pROC::roc.test(roc1, roc2, method = "delong", paired = TRUE)`` (statistic, p-value and
    ``conf.int``).

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Biometrics 44:837-845.
    Sun X, Xu W (2014). IEEE Signal Process Lett 21:1389-1393.

    Examples
    --------
    >>> y = [0, 0, 0, 0, 1, 0, 1, 1, 1, 1]
    >>> p1 = [0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    >>> p2 = [0.3, 0.1, 0.5, 0.2, 0.4, 0.6, 0.3, 0.9, 0.7, 0.8]
    >>> res = delong_test(y, p1, p2)  # R: roc.test(roc(y, p1), roc(y, p2), method = "delong")
    >>> res[["auc_1", "auc_2", "z", "p_value"]].round(4)
            auc_1  auc_2       z  p_value
    delong   0.96   0.82  1.1355   0.2561
    """
    conf_level = check_conf_level(conf_level)
    _p_value(0.0, alternative)
    yy, sc = check_outcome_scores(y, {"p1": p1, "p2": p2})
    d1, d2 = _directions_pair(yy, sc["p1"], yy, sc["p2"], direction)
    _warn_small(yy, "delong_test")
    aucs, cov = _delong_cov(yy, [_oriented(sc["p1"], d1), _oriented(sc["p2"], d2)])
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = math.sqrt(var) if var >= 0 else math.nan
    if se == 0.0 and diff == 0.0:
        zstat = 0.0  # identical curves: pROC sets Z = 0 rather than 0/0
    elif se == 0.0:
        zstat = math.copysign(math.inf, diff)
    else:
        zstat = diff / se
    pval = _p_value(zstat, alternative) if not math.isnan(zstat) else math.nan
    zc = stats.norm.ppf(0.5 + conf_level / 2)
    return _test_frame(
        float(aucs[0]),
        float(aucs[1]),
        se,
        zstat,
        math.inf,
        pval,
        diff - zc * se,
        diff + zc * se,
        "DeLong paired",
        yy.size,
        yy.size,
        (d1, d2),
        conf_level,
    )


def delong_test_unpaired(
    y1: Any,
    p1: Any,
    y2: Any,
    p2: Any,
    *,
    conf_level: float = 0.95,
    direction: Direction = "<",
    alternative: Literal["two-sided", "greater", "less"] = "two-sided",
) -> pd.DataFrame:
    """DeLong's test for two ROC curves from independent cohorts (e.g. training vs external).

    Parameters
    ----------
    y1, p1 : array-like
        Outcome and score of the first cohort.
    y2, p2 : array-like
        Outcome and score of the second cohort.
    conf_level : float
        Confidence level for the interval of the AUC difference.
    direction : {"<", ">", "auto"}
        See :func:`roc_auc`.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis (``"greater"``: AUC1 > AUC2).

    Returns
    -------
    pandas.DataFrame
        Same columns as :func:`delong_test`; ``z`` holds pROC's statistic ``D`` and ``df`` its
        Welch-Satterthwaite degrees of freedom; ``n_1``, ``n_2`` are the cohort sizes.

    Raises
    ------
    InputError
        Bad outcomes or scores in either cohort, length mismatch within a cohort.

    Notes
    -----
    Equal to ``pROC::roc.test(roc1, roc2, method = "delong", paired = FALSE)`` (pROC >= 1.18):
    ``D = (AUC1 - AUC2) / sqrt(V1 + V2)`` with ``V`` each curve's DeLong variance, compared
    with a t distribution on ``df = (V1 + V2)^2 / (V1^2/(N1 - 1) + V2^2/(N2 - 1))`` degrees of
    freedom (``N`` = cohort size). pROC reports no interval here; ours is
    ``difference -/+ t_{df, 1-alpha/2} sqrt(V1 + V2)``, consistent with the p-value.

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Biometrics 44:837-845.
    Robin X et al. (2011). BMC Bioinformatics 12:77.

    Examples
    --------
    >>> y1 = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p1 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> y2 = [0, 1, 0, 0, 1, 0, 1, 1, 0]
    >>> p2 = [0.2, 0.3, 0.1, 0.4, 0.5, 0.6, 0.8, 0.9, 0.3]
    >>> res = delong_test_unpaired(y1, p1, y2, p2)  # R: roc.test(r1, r2, paired = FALSE)
    >>> res[["auc_1", "auc_2", "z", "df", "p_value"]].round(4)
             auc_1  auc_2       z       df  p_value
    delong  0.9375  0.825  0.644  12.7296    0.531
    """
    conf_level = check_conf_level(conf_level)
    _p_value(0.0, alternative)
    ya, sa = check_outcome_scores(y1, {"p1": p1})
    yb, sb = check_outcome_scores(y2, {"p2": p2})
    d1, d2 = _directions_pair(ya, sa["p1"], yb, sb["p2"], direction)
    _warn_small(ya, "delong_test_unpaired (cohort 1)")
    _warn_small(yb, "delong_test_unpaired (cohort 2)")
    a1, c1 = _delong_cov(ya, [_oriented(sa["p1"], d1)])
    a2, c2 = _delong_cov(yb, [_oriented(sb["p2"], d2)])
    v1, v2 = float(c1[0, 0]), float(c2[0, 0])
    diff = float(a1[0] - a2[0])
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (ya.size - 1) + v2**2 / (yb.size - 1))
    stat = diff / se if se > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
    pval = _p_value(stat, alternative, df) if np.isfinite(df) else math.nan
    tc = stats.t.ppf(0.5 + conf_level / 2, df) if np.isfinite(df) else math.nan
    return _test_frame(
        float(a1[0]),
        float(a2[0]),
        se,
        stat,
        df,
        pval,
        diff - tc * se,
        diff + tc * se,
        "DeLong unpaired",
        ya.size,
        yb.size,
        (d1, d2),
        conf_level,
    )


# --------------------------------------------------------------------------- ROC table, Youden


def _midpoint_thresholds(u: np.ndarray) -> np.ndarray:
    """pROC's thresholds: -inf, midpoints between sorted unique scores, +inf."""
    lo = np.concatenate([[-np.inf], u])
    hi = np.concatenate([u, [np.inf]])
    with np.errstate(over="ignore", invalid="ignore"):
        mid = (lo + hi) / 2
        mid = np.where(np.abs(mid) > 1e100, lo / 2 + hi / 2, mid)
    # A midpoint that rounds onto the lower score would classify that score as positive; pROC
    # then moves it onto the upper score (roc.utils.thresholds, direction "<").
    inner = mid[1:-1]
    mid[1:-1] = np.where(inner == u[:-1], u[1:], inner)
    mid[0], mid[-1] = -np.inf, np.inf
    return mid


def _roc_counts(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, ...]:
    """Unique sorted scores and, per pROC threshold, TP, FP (rule ``s >= t``)."""
    u, inv = np.unique(s, return_inverse=True)
    cases = np.bincount(inv[y == 1], minlength=u.size)
    ctrls = np.bincount(inv[y == 0], minlength=u.size)
    # Threshold j (0..K) sits below unique value j: positives are values j..K-1.
    tp = np.concatenate([np.cumsum(cases[::-1])[::-1], [0]])
    fp = np.concatenate([np.cumsum(ctrls[::-1])[::-1], [0]])
    return u, tp, fp


def roc_curve_table(y: Any, p: Any, *, direction: Direction = "<") -> pd.DataFrame:
    """Every point of the empirical ROC curve, at pROC's thresholds.

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    p : array-like of float
        Scores.
    direction : {"<", ">", "auto"}
        See :func:`roc_auc`.

    Returns
    -------
    pandas.DataFrame
        One row per threshold, in increasing threshold order for ``"<"`` (decreasing for
        ``">"``), with ``threshold``, ``sensitivity``, ``specificity``,
        ``fpr`` (1 - specificity), ``youden`` (sensitivity + specificity - 1), ``tp``, ``fp``,
        ``tn``, ``fn``, ``direction``.

    Raises
    ------
    InputError
        Bad ``y`` or ``p``.

    Notes
    -----
    The thresholds are pROC's (``roc(...)$thresholds``): ``-Inf``, the midpoints between
    consecutive distinct scores and ``+Inf``. Positive means ``p >= threshold`` for ``"<"`` and
    ``p <= threshold`` for ``">"``.

    Examples
    --------
    >>> roc_curve_table([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])[
    ...     ["threshold", "sensitivity", "specificity"]
    ... ]
       threshold  sensitivity  specificity
    0       -inf          1.0          0.0
    1      0.225          1.0          0.5
    2      0.375          0.5          0.5
    3      0.600          0.5          1.0
    4        inf          0.0          1.0
    """
    yy, sc = check_outcome_scores(y, {"p": p})
    used = _resolve_direction(yy, sc["p"], direction)
    s = _oriented(sc["p"], used)
    u, tp, fp = _roc_counts(yy, s)
    thr = _midpoint_thresholds(u)
    m = int(yy.sum())
    n = yy.size - m
    sens = tp / m
    spec = 1 - fp / n
    if used == ">":
        thr = -thr
    return pd.DataFrame(
        {
            "threshold": thr,
            "sensitivity": sens,
            "specificity": spec,
            "fpr": 1 - spec,
            "youden": sens + spec - 1,
            "tp": tp,
            "fp": fp,
            "tn": n - fp,
            "fn": m - tp,
            "direction": used,
        }
    )


@dataclass(frozen=True)
class YoudenThreshold(SummaryHTML):
    """The cutoff maximising Youden's J = sensitivity + specificity - 1.

    ``float(result)`` gives the threshold, ``result.summary`` a one-row table. A case is
    positive when ``p >= threshold`` (``p <= threshold`` for ``direction=">"``).
    """

    threshold: float
    sensitivity: float
    specificity: float
    youden_index: float
    convention: str
    direction: str
    n_tied: int

    def __float__(self) -> float:
        return float(self.threshold)

    @property
    def summary(self) -> pd.DataFrame:
        """The result as a one-row DataFrame indexed ``"youden"``."""
        return pd.DataFrame([self.__dict__], index=pd.Index(["youden"]))


def youden_threshold(
    y: Any,
    p: Any,
    *,
    convention: Literal["midpoint", "observed"] = "midpoint",
    direction: Direction = "<",
) -> YoudenThreshold:
    """Cutoff that maximises Youden's index (sensitivity + specificity - 1).

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    p : array-like of float
        Scores.
    convention : {"midpoint", "observed"}
        ``"midpoint"`` (default, as pROC's ``coords(roc, "best", best.method = "youden")``):
        the midpoint between the two consecutive observed scores that separate the groups.
        ``"observed"``: the lowest observed score classified positive (highest for ``">"``),
        which gives the same classification of the data used.
    direction : {"<", ">", "auto"}
        See :func:`roc_auc`.

    Returns
    -------
    YoudenThreshold
        ``threshold``, ``sensitivity``, ``specificity``, ``youden_index``, ``convention``,
        ``direction``, ``n_tied`` (thresholds sharing the maximum; the one with the highest
        sensitivity is returned). ``float(result)`` is the threshold.

    Raises
    ------
    InputError
        Bad ``y``, ``p`` or ``convention``.

    Notes
    -----
    The two conventions differ only for new data: a score between the two observed values is
    positive under ``"observed"`` only if it reaches the higher one. When a cutoff derived on
    training data is applied to other cohorts, the midpoint is the usual (pROC) choice.

    References
    ----------
    Youden WJ (1950). Index for rating diagnostic tests. Cancer 3:32-35.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> youden_threshold(y, p).threshold  # R: coords(roc(y, p), "best")
    0.35
    >>> youden_threshold(y, p, convention="observed").threshold
    0.4
    """
    if convention not in ("midpoint", "observed"):
        raise InputError(f"`convention` must be 'midpoint' or 'observed', got {convention!r}")
    yy, sc = check_outcome_scores(y, {"p": p})
    used = _resolve_direction(yy, sc["p"], direction)
    s = _oriented(sc["p"], used)
    u, tp, fp = _roc_counts(yy, s)
    m = int(yy.sum())
    n = yy.size - m
    sens = tp / m
    spec = 1 - fp / n
    j = sens + spec - 1
    best = np.flatnonzero(np.isclose(j, j.max(), rtol=0, atol=1e-12))
    k = int(best[0])  # lowest threshold among ties = highest sensitivity
    if convention == "midpoint":
        thr = float(_midpoint_thresholds(u)[k])
    else:
        thr = float(u[k]) if k < u.size else math.inf
    if used == ">":
        thr = -thr
    return YoudenThreshold(
        threshold=thr,
        sensitivity=float(sens[k]),
        specificity=float(spec[k]),
        youden_index=float(j[k]),
        convention=convention,
        direction=used,
        n_tied=int(best.size),
    )


# --------------------------------------------------------------------------- plots


def plot_roc(
    y: Any,
    scores: Mapping[str, Any] | Any,
    *,
    ax: Any = None,
    ci: Literal["delong", "bootstrap"] | None = "delong",
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = None,
    conf_level: float = 0.95,
    decimals: int = 3,
    diagonal: bool = True,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
    **kwargs: Any,
) -> Any:
    """ROC curves of several models on one cohort, with "AUC (CI)" in the legend.

    Parameters
    ----------
    y : array-like of 0/1
        Outcome.
    scores : mapping or array-like
        ``{"model name": p, ...}`` or one score array.
    ax : matplotlib Axes, optional
        Axes to draw on (default: current axes).
    ci : {"delong", "bootstrap"} or None
        Interval shown in the legend; None shows the AUC only.
    n_boot, random_state, conf_level : optional
        Passed to :func:`roc_auc`.
    decimals : int
        Digits in the legend.
    diagonal : bool
        Draw the chance line (grey, short dashes).
    styles : mapping, optional
        ``{model name: line properties}`` (colour, line style, width), e.g. from
        :func:`radiomics_aln._plotting.model_styles`, so that a model looks the same in every
        figure; models not in it take the next unused colour and line style of the palette.
    **kwargs
        Passed to every ``ax.plot`` call of the curves (e.g. ``linewidth``).

    Notes
    -----
    The legend is drawn below the axes, outside the plotting area, so it never covers a curve.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = plot_roc([0, 0, 1, 1, 0, 1], {"model": [0.1, 0.3, 0.35, 0.8, 0.4, 0.6]}, ax=ax)
    >>> ax.get_legend().get_texts()[0].get_text()
    'model: AUC 0.889 (0.581–1.000)'
    """
    ax = get_ax(ax)
    if not isinstance(scores, Mapping):
        scores = {"model": scores}
    f = f"{{:.{decimals}f}}"
    styles = resolve_styles(list(scores), styles)
    for name, s in scores.items():
        table = roc_curve_table(y, s)
        res = roc_auc(
            y,
            s,
            ci=ci or "delong",
            n_boot=n_boot,
            random_state=random_state,
            conf_level=conf_level,
        ).iloc[0]
        label = f"{name}: AUC {f.format(res['estimate'])}"
        if ci is not None:
            label += f" ({f.format(res['ci_low'])}\u2013{f.format(res['ci_high'])})"
        if len(label) > 32:  # long model names: AUC on its own line keeps the legend narrow
            label = label.replace(": AUC", "\nAUC", 1)
        # Increasing thresholds walk the curve from (1, 1) to (0, 0).
        style = line_style(styles[name], kwargs)
        ax.plot(table["fpr"], table["sensitivity"], label=label, drawstyle="default", **style)
    if diagonal:
        ax.plot([0, 1], [0, 1], **REFERENCE_STYLE)
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel("1 \u2212 Specificity")
    ax.set_ylabel("Sensitivity")
    ax.set_aspect("equal")
    legend_below(ax, ncol=2 if len(scores) > 3 else 1)
    return ax
