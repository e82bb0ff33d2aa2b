"""Discrimination and classification statistics: AUC with CIs, DeLong tests, ROC tables,
Youden cutoffs, threshold metrics with binomial CIs, NRI/IDI and the multi-cohort Table 3.

Every function takes outcomes ``y`` (0/1, 1 = event, e.g. ALN metastasis) and scores ``p``
(predicted probabilities or any continuous marker) and returns a tidy :class:`pandas.DataFrame`
with unrounded numbers and confidence limits in two columns (``ci_low``, ``ci_high``).

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

import itertools
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from radiomics_aln._validation import (
    check_1d,
    check_binary,
    check_probabilities,
    check_same_length,
)
from radiomics_aln.exceptions import InputError, StatisticalWarning

__all__ = [
    "roc_auc",
    "delong_test",
    "delong_test_unpaired",
    "roc_curve_table",
    "youden_threshold",
    "YoudenThreshold",
    "diagnostic_metrics",
    "binomial_ci",
    "nri",
    "idi",
    "performance_table",
    "PerformanceTable",
    "risk_group_table",
    "plot_roc",
    "plot_risk_groups",
]

logger = logging.getLogger(__name__)

Direction = Literal["<", ">", "auto"]
_DIRECTIONS = ("<", ">", "auto")
# Bootstrap work arrays are processed in chunks of at most this many elements (memory bound).
_BOOT_CHUNK_ELEMENTS = 4_000_000


# --------------------------------------------------------------------------- input handling


def _check_conf_level(conf_level: float) -> float:
    if not (isinstance(conf_level, int | float) and 0.0 < float(conf_level) < 1.0):
        raise InputError(f"`conf_level` must be a number in (0, 1), got {conf_level!r}")
    return float(conf_level)


def _check_scores(p: Any, name: str, probabilities: bool) -> np.ndarray:
    return check_probabilities(p, name) if probabilities else check_1d(p, name)


def _check_aligned(y: Any, scores: Mapping[str, Any]) -> None:
    """Values are matched by position; refuse pandas inputs whose indexes disagree."""
    if not isinstance(y, pd.Series | pd.DataFrame):
        return
    for name, v in scores.items():
        if isinstance(v, pd.Series | pd.DataFrame) and not y.index.equals(v.index):
            raise InputError(
                f"`y` and `{name}` are pandas objects with different indexes; values are matched "
                f"by position, so align them first (e.g. `{name}.reindex(y.index)`) or pass arrays"
            )


def _check_y_scores(
    y: Any,
    scores: Mapping[str, Any],
    *,
    probabilities: bool = False,
    require_both: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Validate ``y`` and each score array (finite, same length, optionally in [0, 1])."""
    _check_aligned(y, scores)
    yy = check_binary(y, "y", require_both=require_both)
    out = {name: _check_scores(v, name, probabilities) for name, v in scores.items()}
    check_same_length(y=yy, **out)
    return yy, out


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


# --------------------------------------------------------------------------- DeLong core


def _delong_placements(y: np.ndarray, s: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong placement values by midranks (Sun & Xu 2014), O(n log n).

    Returns ``(auc, v10, v01)``: ``v10[i]`` is the fraction of controls below case ``i`` (ties
    count 1/2), ``v01[j]`` the fraction of cases above control ``j``; ``auc = mean(v10)``.
    """
    cases = s[y == 1]
    controls = s[y == 0]
    m, n = cases.size, controls.size
    tz = stats.rankdata(np.concatenate([cases, controls]))
    tx = stats.rankdata(cases)
    ty = stats.rankdata(controls)
    v10 = (tz[:m] - tx) / n
    v01 = 1.0 - (tz[m:] - ty) / m
    return float(v10.mean()), v10, v01


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


# --------------------------------------------------------------------------- bootstrap core


def _bootstrap_aucs(
    y: np.ndarray, s: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Stratified bootstrap AUCs (cases and controls resampled separately), vectorized.

    Scores are replaced by their rank among the unique values; per replicate, the counts of
    resampled controls and cases at each rank give the Mann-Whitney statistic in O(K) with a
    cumulative sum, for all replicates of a chunk at once.
    """
    uniq, inv = np.unique(s, return_inverse=True)
    k = uniq.size
    case_r = inv[y == 1]
    ctrl_r = inv[y == 0]
    m, n = case_r.size, ctrl_r.size
    chunk = max(1, _BOOT_CHUNK_ELEMENTS // max(m + n, k))
    out = np.empty(n_boot)
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        offs = (np.arange(b) * k)[:, None]
        rc = case_r[rng.integers(0, m, size=(b, m))] + offs
        rn = ctrl_r[rng.integers(0, n, size=(b, n))] + offs
        a_cnt = np.bincount(rc.ravel(), minlength=b * k).reshape(b, k)
        c_cnt = np.bincount(rn.ravel(), minlength=b * k).reshape(b, k)
        below = np.cumsum(c_cnt, axis=1) - c_cnt
        out[done : done + b] = (a_cnt * (below + 0.5 * c_cnt)).sum(axis=1) / (m * n)
        done += b
    return out


def _check_n_boot(n_boot: Any, allow_zero: bool = False) -> int:
    lo = 0 if allow_zero else 1
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < lo:
        raise InputError(f"`n_boot` must be an integer >= {lo}, got {n_boot!r}")
    return int(n_boot)


# --------------------------------------------------------------------------- public: AUC


def roc_auc(
    y: Any,
    p: Any,
    ci: Literal["delong", "bootstrap"] = "delong",
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = None,
    *,
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
    conf_level = _check_conf_level(conf_level)
    if ci not in ("delong", "bootstrap"):
        raise InputError(f"`ci` must be 'delong' or 'bootstrap', got {ci!r}")
    yy, sc = _check_y_scores(y, {"p": p})
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
        n_boot = _check_n_boot(n_boot)
        rng = np.random.default_rng(random_state)
        auc = _delong_placements(yy, s)[0]
        boots = _bootstrap_aucs(yy, s, n_boot, rng)
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
            "difference": [auc1 - auc2],
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
        One row indexed ``"delong"``: ``auc_1``, ``auc_2``, ``difference`` (``auc_1 - auc_2``),
        ``se`` (of the difference), ``ci_low``, ``ci_high``, ``z``, ``df`` (``inf``: normal
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
    conf_level = _check_conf_level(conf_level)
    _p_value(0.0, alternative)
    yy, sc = _check_y_scores(y, {"p1": p1, "p2": p2})
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
    conf_level = _check_conf_level(conf_level)
    _p_value(0.0, alternative)
    ya, sa = _check_y_scores(y1, {"p1": p1})
    yb, sb = _check_y_scores(y2, {"p2": p2})
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
    yy, sc = _check_y_scores(y, {"p": p})
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
class YoudenThreshold:
    """The cutoff maximising Youden's J = sensitivity + specificity - 1.

    ``float(result)`` gives the threshold. A case is positive when ``p >= threshold``
    (``p <= threshold`` for ``direction=">"``).
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

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame."""
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
    yy, sc = _check_y_scores(y, {"p": p})
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


# --------------------------------------------------------------------------- binomial CIs


def binomial_ci(
    successes: Any,
    n: Any,
    *,
    method: Literal["wilson", "clopper-pearson"] = "wilson",
    conf_level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits for binomial proportions ``successes / n``.

    Parameters
    ----------
    successes, n : array-like of int
        Counts; ``n = 0`` gives NaN limits.
    method : {"wilson", "clopper-pearson"}
        Wilson score interval without continuity correction
        (``prop.test(x, n, correct = FALSE)$conf.int``) or the exact Clopper-Pearson interval
        (``binom.test(x, n)$conf.int``).
    conf_level : float
        Confidence level.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper limits.

    Raises
    ------
    InputError
        Unknown ``method``, counts out of range.

    References
    ----------
    Wilson EB (1927). J Am Stat Assoc 22:209-212. Clopper CJ, Pearson ES (1934). Biometrika
    26:404-413.

    Examples
    --------
    >>> lo, hi = binomial_ci([26], [41])  # R: prop.test(26, 41, correct = FALSE)$conf.int
    >>> float(lo[0]), float(hi[0])
    (0.4812..., 0.7641...)
    """
    conf_level = _check_conf_level(conf_level)
    x = np.atleast_1d(np.asarray(successes, dtype=float))
    nn = np.atleast_1d(np.asarray(n, dtype=float))
    if np.any(x < 0) or np.any(x > nn):
        raise InputError("binomial_ci: successes must lie between 0 and n")
    alpha = 1 - conf_level
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "wilson":
            z = stats.norm.ppf(1 - alpha / 2)
            phat = x / nn
            denom = 1 + z**2 / nn
            centre = (phat + z**2 / (2 * nn)) / denom
            half = z * np.sqrt(phat * (1 - phat) / nn + z**2 / (4 * nn**2)) / denom
            lo, hi = centre - half, centre + half
        elif method == "clopper-pearson":
            lo = np.where(x > 0, stats.beta.ppf(alpha / 2, x, nn - x + 1), 0.0)
            hi = np.where(x < nn, stats.beta.ppf(1 - alpha / 2, x + 1, nn - x), 1.0)
        else:
            raise InputError(f"`method` must be 'wilson' or 'clopper-pearson', got {method!r}")
    empty = nn == 0
    lo = np.where(empty, np.nan, np.clip(lo, 0, 1))
    hi = np.where(empty, np.nan, np.clip(hi, 0, 1))
    return lo, hi


# --------------------------------------------------------------------------- threshold metrics


def _check_threshold(threshold: Any) -> float:
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise InputError(f"`threshold` must be a number, got {threshold!r}") from None
    if math.isnan(t):
        raise InputError("`threshold` is NaN")
    return t


def _confusion(y: np.ndarray, s: np.ndarray, t: float, direction: str) -> tuple[int, ...]:
    pos = s >= t if direction != ">" else s <= t
    tp = int(np.sum(pos & (y == 1)))
    fp = int(np.sum(pos & (y == 0)))
    tn = int(np.sum(~pos & (y == 0)))
    fn = int(np.sum(~pos & (y == 1)))
    return tp, fp, tn, fn


def diagnostic_metrics(
    y: Any,
    p: Any,
    threshold: float | YoudenThreshold,
    *,
    ci_method: Literal["wilson", "clopper-pearson"] = "wilson",
    conf_level: float = 0.95,
    direction: Literal["<", ">"] | None = None,
) -> pd.DataFrame:
    """Accuracy, sensitivity, specificity, PPV and NPV at a cutoff, with binomial CIs.

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    p : array-like of float
        Scores or probabilities.
    threshold : float or YoudenThreshold
        Cutoff; positive (high risk) means ``p >= threshold`` (``p <= threshold`` for
        ``direction=">"``). Derive it on training data and pass it unchanged to other cohorts.
    ci_method : {"wilson", "clopper-pearson"}
        Interval for each proportion (default Wilson score, no continuity correction). See
        :func:`binomial_ci`.
    conf_level : float
        Confidence level.
    direction : {"<", ">"}, optional
        Orientation of the rule; default the direction of a :class:`YoudenThreshold`, else
        ``"<"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``metric`` (accuracy, sensitivity, specificity, ppv, npv) with columns
        ``estimate``, ``ci_low``, ``ci_high``, ``count`` (numerator), ``n`` (denominator), and
        the same confusion counts on every row: ``tp``, ``fp``, ``tn``, ``fn``, ``threshold``,
        ``rule`` (``"p >= threshold"`` or ``"p <= threshold"``), ``ci_method``. An undefined
        proportion (e.g. PPV with no positive call) is NaN.

    Raises
    ------
    InputError
        Bad ``y``, ``p``, ``threshold`` or ``ci_method``.

    Notes
    -----
    Sensitivity = TP/(TP+FN), specificity = TN/(TN+FP), PPV = TP/(TP+FP),
    NPV = TN/(TN+FN), accuracy = (TP+TN)/N. Single-class ``y`` is accepted (e.g. a
    sensitivity-only audit); the undefined proportions are then NaN. Equal to pROC's
    ``coords(roc, threshold, ret = c("accuracy", "sensitivity", "specificity", "ppv", "npv"))``
    with ``prop.test(correct = FALSE)`` / ``binom.test`` intervals.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> diagnostic_metrics(y, p, 0.35)[["estimate", "count", "n"]]
                 estimate  count  n
    metric
    accuracy         0.875      7  8
    sensitivity      1.000      4  4
    specificity      0.750      3  4
    ppv              0.800      4  5
    npv              1.000      3  3
    """
    if direction is None:
        direction = threshold.direction if isinstance(threshold, YoudenThreshold) else "<"
    if direction not in ("<", ">"):
        raise InputError(f"`direction` must be '<' or '>' for a fixed cutoff, got {direction!r}")
    t = _check_threshold(threshold)
    yy, sc = _check_y_scores(y, {"p": p}, require_both=False)
    tp, fp, tn, fn = _confusion(yy, sc["p"], t, direction)
    counts = {
        "accuracy": (tp + tn, tp + tn + fp + fn),
        "sensitivity": (tp, tp + fn),
        "specificity": (tn, tn + fp),
        "ppv": (tp, tp + fp),
        "npv": (tn, tn + fn),
    }
    x = np.array([c[0] for c in counts.values()])
    n = np.array([c[1] for c in counts.values()])
    lo, hi = binomial_ci(x, n, method=ci_method, conf_level=conf_level)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.where(n > 0, x / np.maximum(n, 1), np.nan)
    out = pd.DataFrame(
        {
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "count": x,
            "n": n,
            "tp": tp,
            "fp": fp,
            "tn": tn,
            "fn": fn,
            "threshold": t,
            "rule": "p >= threshold" if direction == "<" else "p <= threshold",
            "ci_method": ci_method,
        },
        index=pd.Index(list(counts), name="metric"),
    )
    return out


# --------------------------------------------------------------------------- NRI / IDI


def _check_cutoffs(cutoffs: Any) -> np.ndarray:
    c = check_1d(cutoffs, "cutoffs")
    if c.size >= 2 and c[0] == 0 and c[-1] == 1:
        c = c[1:-1]  # PredictABEL style c(0, ..., 1): keep the interior cutoffs
    if c.size == 0:
        raise InputError("`cutoffs` needs at least one interior cutoff in (0, 1)")
    if np.any(np.diff(c) <= 0):
        raise InputError(
            f"`cutoffs` must be strictly increasing without duplicates, got {c.tolist()}"
        )
    if c[0] <= 0 or c[-1] >= 1:
        raise InputError(f"`cutoffs` must lie strictly between 0 and 1, got {c.tolist()}")
    return c


def _nri_rows(kind: str, y: np.ndarray, d: np.ndarray, z: float) -> list[dict[str, Any]]:
    """Hmisc::improveProb's NRI and its components from the reclassification signs ``d``."""
    ev, ne = y == 1, y == 0
    na, nb = int(ev.sum()), int(ne.sum())
    up_ev, down_ev = int(np.sum(d[ev] > 0)), int(np.sum(d[ev] < 0))
    up_ne, down_ne = int(np.sum(d[ne] > 0)), int(np.sum(d[ne] < 0))
    nri_ev = (up_ev - down_ev) / na
    nri_ne = (down_ne - up_ne) / nb
    # Hmisc >= 4.x variance (multinomial, not Pencina's null variance):
    v_ev = (up_ev + down_ev) / na**2 - (up_ev - down_ev) ** 2 / na**3
    v_ne = (down_ne + up_ne) / nb**2 - (down_ne - up_ne) ** 2 / nb**3
    rows = []
    for comp, est, var, n, up, down in (
        ("overall", nri_ev + nri_ne, v_ev + v_ne, na + nb, up_ev + up_ne, down_ev + down_ne),
        ("events", nri_ev, v_ev, na, up_ev, down_ev),
        ("non_events", nri_ne, v_ne, nb, up_ne, down_ne),
    ):
        se = math.sqrt(var)
        zz = est / se if se > 0 else (0.0 if est == 0 else math.copysign(math.inf, est))
        rows.append(
            {
                "type": kind,
                "component": comp,
                "estimate": est,
                "se": se,
                "ci_low": est - z * se,
                "ci_high": est + z * se,
                "z": zz,
                "p_value": float(2 * stats.norm.sf(abs(zz))),
                "n": n,
                "n_up": up,
                "n_down": down,
            }
        )
    return rows


def nri(
    y: Any,
    p_old: Any,
    p_new: Any,
    cutoffs: Sequence[float] | np.ndarray | None = None,
    *,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Net reclassification improvement of ``p_new`` over ``p_old`` (Pencina et al. 2008).

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    p_old, p_new : array-like of float in [0, 1]
        Predicted risks of the reference and the new model for the same patients.
    cutoffs : sequence of float, optional
        Risk category boundaries for the categorical NRI, e.g. ``[0.1, 0.3]`` (PredictABEL's
        ``c(0, 0.1, 0.3, 1)`` is accepted too). Categories are ``[a, b)``: a risk equal to a
        cutoff belongs to the higher category (PredictABEL: ``cut(right = FALSE)``).
        Without cutoffs only the continuous NRI is returned.
    conf_level : float
        Confidence level of the normal interval.

    Returns
    -------
    pandas.DataFrame
        Rows per ``type`` (``"continuous"``, then ``"categorical"`` if cutoffs are given) and
        ``component`` (``"overall"``, ``"events"``, ``"non_events"``), columns ``type``,
        ``component``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``z``, ``p_value``
        (two-sided), ``n``, ``n_up`` and ``n_down`` (patients moved up/down).

    Raises
    ------
    InputError
        Bad ``y``, risks outside [0, 1] or NaN, length mismatch, bad cutoffs.

    Notes
    -----
    ``NRI = [P(up | event) - P(down | event)] + [P(down | non-event) - P(up | non-event)]``,
    where "up" is ``p_new > p_old`` (continuous) or a move to a higher category. The SE is
    ``Hmisc::improveProb``'s (Hmisc >= 4): for events,
    ``var = (n_up + n_down)/n^2 - (n_up - n_down)^2/n^3``, likewise for non-events, summed.
    The continuous NRI equals ``improveProb(p_old, p_new, y)``; the categorical NRI equals
    PredictABEL's ``reclassification()``, which applies ``improveProb`` to the category
    numbers.

    References
    ----------
    Pencina MJ, D'Agostino RB Sr, D'Agostino RB Jr, Vasan RS (2008). Evaluating the added
    predictive ability of a new marker: from area under the ROC curve to reclassification and
    beyond. Stat Med 27:157-172.
    Pencina MJ, D'Agostino RB Sr, Steyerberg EW (2011). Extensions of net reclassification
    improvement calculations to measure usefulness of new biomarkers. Stat Med 30:11-21.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> old = [0.1, 0.3, 0.3, 0.4, 0.5, 0.4, 0.6, 0.5]
    >>> new = [0.05, 0.3, 0.2, 0.6, 0.4, 0.5, 0.7, 0.4]
    >>> nri(y, old, new)[["type", "component", "estimate", "n_up", "n_down"]]  # Hmisc::improveProb
             type   component  estimate  n_up  n_down
    0  continuous     overall      1.25     3       4
    1  continuous      events      0.50     3       1
    2  continuous  non_events      0.75     0       3
    """
    conf_level = _check_conf_level(conf_level)
    yy, sc = _check_y_scores(y, {"p_old": p_old, "p_new": p_new}, probabilities=True)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    rows = _nri_rows("continuous", yy, sc["p_new"] - sc["p_old"], z)
    if cutoffs is not None:
        c = _check_cutoffs(cutoffs)
        cat_old = np.searchsorted(c, sc["p_old"], side="right")
        cat_new = np.searchsorted(c, sc["p_new"], side="right")
        rows += _nri_rows("categorical", yy, (cat_new - cat_old).astype(float), z)
    return pd.DataFrame(rows)


def idi(y: Any, p_old: Any, p_new: Any, *, conf_level: float = 0.95) -> pd.DataFrame:
    """Integrated discrimination improvement of ``p_new`` over ``p_old``.

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    p_old, p_new : array-like of float in [0, 1]
        Predicted risks of the reference and the new model.
    conf_level : float
        Confidence level of the normal interval.

    Returns
    -------
    pandas.DataFrame
        Three rows, the same schema as :func:`nri` (so the two tables stack): ``type``
        (``"idi"``), ``component`` (``"overall"``: the IDI; ``"events"``: mean risk increase in
        events, Hmisc's ``improveSens``; ``"non_events"``: mean risk decrease in non-events,
        ``improveSpec``), ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``z``, ``p_value``,
        ``n``.

    Raises
    ------
    InputError
        Bad ``y``, risks outside [0, 1] or NaN, length mismatch.

    Notes
    -----
    With ``d = p_new - p_old``: ``IDI = mean(d | event) - mean(d | non-event)`` and
    ``se = sqrt(var(d | event)/n_e + var(d | non-event)/n_ne)`` (sample variances), exactly
    ``Hmisc::improveProb``'s ``idi``, ``se.idi`` and ``z.idi``. The components' SEs
    (``sd/sqrt(n)`` within each group) are our addition; Hmisc reports none.

    References
    ----------
    Pencina MJ, D'Agostino RB Sr, D'Agostino RB Jr, Vasan RS (2008). Stat Med 27:157-172.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> old = [0.1, 0.3, 0.3, 0.4, 0.5, 0.4, 0.6, 0.5]
    >>> new = [0.05, 0.3, 0.2, 0.6, 0.4, 0.5, 0.7, 0.4]
    >>> idi(y, old, new)[["component", "estimate", "se"]].round(4)  # Hmisc::improveProb
        component  estimate      se
    0     overall    0.1375  0.0673
    1      events    0.0750  0.0629
    2  non_events    0.0625  0.0239
    """
    conf_level = _check_conf_level(conf_level)
    yy, sc = _check_y_scores(y, {"p_old": p_old, "p_new": p_new}, probabilities=True)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    d = sc["p_new"] - sc["p_old"]
    de, dn = d[yy == 1], d[yy == 0]
    var_e = de.var(ddof=1) / de.size if de.size > 1 else math.nan
    var_n = dn.var(ddof=1) / dn.size if dn.size > 1 else math.nan
    rows = {
        "overall": (de.mean() - dn.mean(), math.sqrt(var_e + var_n), yy.size),
        "events": (de.mean(), math.sqrt(var_e), de.size),
        "non_events": (-dn.mean(), math.sqrt(var_n), dn.size),
    }
    recs = []
    for comp, (est, se, n) in rows.items():
        zz = est / se if se > 0 else (0.0 if est == 0 else math.copysign(math.inf, est))
        recs.append(
            {
                "type": "idi",
                "component": comp,
                "estimate": float(est),
                "se": se,
                "ci_low": est - z * se,
                "ci_high": est + z * se,
                "z": zz,
                "p_value": float(2 * stats.norm.sf(abs(zz))),
                "n": n,
            }
        )
    return pd.DataFrame(recs)


# --------------------------------------------------------------------------- Table 3


CohortInput = tuple[Any, Mapping[str, Any]]


@dataclass
class PerformanceTable:
    """Result of :func:`performance_table`.

    Attributes
    ----------
    performance : pandas.DataFrame
        One row per cohort x model (see :func:`performance_table`).
    comparisons : pandas.DataFrame
        DeLong tests between models within each cohort.
    thresholds : dict
        Cutoff applied to each model (derived on the training cohort unless given).
    training : str or None
        Name of the cohort the cutoffs were derived on (None when given by the user).
    """

    performance: pd.DataFrame
    comparisons: pd.DataFrame
    thresholds: dict[str, float] = field(default_factory=dict)
    training: str | None = None

    def formatted(self, decimals: int = 3) -> pd.DataFrame:
        """Publication table: ``"0.812 (0.751-0.873)"`` strings, one row per cohort x model."""
        perf = self.performance
        f = f"{{:.{decimals}f}}"

        def fmt(est: pd.Series, lo: pd.Series, hi: pd.Series) -> list[str]:
            return [
                "NA" if pd.isna(e) else f"{f.format(e)} ({f.format(a)}\u2013{f.format(b)})"
                for e, a, b in zip(est, lo, hi, strict=True)
            ]

        out = pd.DataFrame({"cohort": perf["cohort"], "model": perf["model"]})
        out["AUC (95% CI)"] = fmt(perf["auc"], perf["auc_ci_low"], perf["auc_ci_high"])
        for col, label in (
            ("accuracy", "ACC"),
            ("sensitivity", "SEN"),
            ("specificity", "SPE"),
            ("ppv", "PPV"),
            ("npv", "NPV"),
        ):
            out[label] = [("NA" if pd.isna(v) else f.format(v)) for v in perf[col]]
        return out

    def __repr__(self) -> str:
        return (
            f"PerformanceTable({self.performance['cohort'].nunique()} cohorts, "
            f"{self.performance['model'].nunique()} models, cutoffs from "
            f"{self.training or 'user'})"
        )


def _check_cohorts(cohorts: Mapping[str, CohortInput]) -> dict[str, tuple[np.ndarray, dict]]:
    if not isinstance(cohorts, Mapping) or not cohorts:
        raise InputError("`cohorts` must be a non-empty mapping {cohort: (y, {model: p})}")
    out = {}
    for name, value in cohorts.items():
        if not (isinstance(value, tuple | list) and len(value) == 2):
            raise InputError(f"cohort {name!r}: expected a pair (y, {{model: p}})")
        y, models = value
        if not isinstance(models, Mapping) or not models:
            raise InputError(f"cohort {name!r}: the second item must be a mapping {{model: p}}")
        try:
            yy, sc = _check_y_scores(y, dict(models))
        except InputError as exc:
            raise InputError(f"cohort {name!r}: {exc}") from None
        out[str(name)] = (yy, sc)
    return out


def performance_table(
    cohorts: Mapping[str, CohortInput],
    thresholds: Mapping[str, float] | float | None = None,
    *,
    training: str | None = None,
    ci: Literal["delong", "bootstrap"] = "delong",
    n_boot: int = 2000,
    random_state: int | None = None,
    ci_method: Literal["wilson", "clopper-pearson"] = "wilson",
    conf_level: float = 0.95,
    reference: str | None = None,
) -> PerformanceTable:
    """Per cohort x model: AUC (95% CI), ACC, SEN, SPE, PPV, NPV, and DeLong comparisons.

    Parameters
    ----------
    cohorts : mapping
        ``{"Training": (y, {"Clinical model": p, "Nomogram": p2}), "Internal test": ...}``;
        every cohort may hold any subset of the models.
    thresholds : mapping, float or None
        Cutoff per model (``p >= cutoff`` is positive), one cutoff for all, or None to derive
        each model's Youden cutoff (pROC midpoint convention) on the ``training`` cohort and
        apply it unchanged to every cohort.
    training : str, optional
        Cohort used to derive cutoffs; default the first cohort.
    ci : {"delong", "bootstrap"}
        AUC interval, see :func:`roc_auc`.
    n_boot, random_state : int
        Bootstrap settings (``ci="bootstrap"``).
    ci_method : {"wilson", "clopper-pearson"}
        Interval of the threshold metrics.
    conf_level : float
        Confidence level of every interval.
    reference : str, optional
        Compare every model with this one only; default all pairs, in the given order.

    Returns
    -------
    PerformanceTable
        ``performance`` columns: ``cohort``, ``model``, ``n``, ``n_events``, ``auc``, ``auc_se``,
        ``auc_ci_low``, ``auc_ci_high``, ``threshold``, and for each of ``accuracy``,
        ``sensitivity``, ``specificity``, ``ppv``, ``npv`` the estimate and
        ``<metric>_ci_low`` / ``<metric>_ci_high``, plus ``tp``, ``fp``, ``tn``, ``fn``.
        ``comparisons`` columns: ``cohort``, ``model_1``, ``model_2`` and the columns of
        :func:`delong_test`. ``thresholds``: the cutoffs used. ``formatted()`` gives the
        publication table with ``"AUC (95% CI)"`` strings.

    Raises
    ------
    InputError
        Malformed ``cohorts``, bad data in any cohort (the message names it), unknown
        ``training``/``reference`` or a model without a cutoff.

    Notes
    -----
    Scores are taken with higher = event (``direction="<"``). The DeLong comparisons are
    paired tests within a cohort (:func:`delong_test`).

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> clin = [0.2, 0.1, 0.4, 0.3, 0.5, 0.6, 0.4, 0.8]
    >>> nomo = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> tab = performance_table({"Training": (y, {"Clinical": clin, "Nomogram": nomo})})
    >>> tab.formatted()[["model", "AUC (95% CI)", "SEN", "SPE"]]
          model         AUC (95% CI)    SEN    SPE
    0  Clinical  0.781 (0.424–1.000)  1.000  0.500
    1  Nomogram  0.938 (0.764–1.000)  1.000  0.750
    """
    conf_level = _check_conf_level(conf_level)
    data = _check_cohorts(cohorts)
    names = list(data)
    models = list(dict.fromkeys(m for _, sc in data.values() for m in sc))
    train = None
    if thresholds is None:
        train = names[0] if training is None else str(training)
        if train not in data:
            raise InputError(f"`training` cohort {training!r} is not among {names}")
        ty, tsc = data[train]
        missing = [m for m in models if m not in tsc]
        if missing:
            raise InputError(
                f"model(s) {missing} are not in the training cohort {train!r}, so no cutoff "
                "can be derived; pass `thresholds`"
            )
        cut = {m: float(youden_threshold(ty, tsc[m]).threshold) for m in models}
    elif isinstance(thresholds, Mapping):
        missing = [m for m in models if m not in thresholds]
        if missing:
            raise InputError(f"`thresholds` has no cutoff for model(s) {missing}")
        cut = {m: _check_threshold(thresholds[m]) for m in models}
    else:
        t = _check_threshold(thresholds)
        cut = dict.fromkeys(models, t)
    if reference is not None and reference not in models:
        raise InputError(f"`reference` model {reference!r} is not among {models}")

    perf_rows = []
    comp_rows = []
    for ci_name, (yy, sc) in data.items():
        for model, s in sc.items():
            a = roc_auc(
                yy, s, ci=ci, n_boot=n_boot, random_state=random_state, conf_level=conf_level
            ).iloc[0]
            dm = diagnostic_metrics(yy, s, cut[model], ci_method=ci_method, conf_level=conf_level)
            row = {
                "cohort": ci_name,
                "model": model,
                "n": int(yy.size),
                "n_events": int(yy.sum()),
                "auc": a["estimate"],
                "auc_se": a["se"],
                "auc_ci_low": a["ci_low"],
                "auc_ci_high": a["ci_high"],
                "threshold": cut[model],
            }
            for metric in dm.index:
                row[metric] = dm.at[metric, "estimate"]
                row[f"{metric}_ci_low"] = dm.at[metric, "ci_low"]
                row[f"{metric}_ci_high"] = dm.at[metric, "ci_high"]
            for c in ("tp", "fp", "tn", "fn"):
                row[c] = int(dm[c].iloc[0])
            perf_rows.append(row)
        present = [m for m in models if m in sc]
        if reference is None:
            pairs = list(itertools.combinations(present, 2))
        else:
            pairs = [(reference, m) for m in present if m != reference and reference in sc]
        for m1, m2 in pairs:
            t = delong_test(yy, sc[m1], sc[m2], conf_level=conf_level).iloc[0].to_dict()
            comp_rows.append({"cohort": ci_name, "model_1": m1, "model_2": m2, **t})
    comp_cols = ["cohort", "model_1", "model_2"] + list(
        _test_frame(0, 0, 0, 0, 0, 0, 0, 0, "", 0, 0, ("<", "<"), conf_level).columns
    )
    return PerformanceTable(
        performance=pd.DataFrame(perf_rows),
        comparisons=pd.DataFrame(comp_rows, columns=comp_cols),
        thresholds=cut,
        training=train,
    )


# --------------------------------------------------------------------------- risk groups


def risk_group_table(
    cohorts: Mapping[str, tuple[Any, Any]],
    threshold: float | YoudenThreshold,
    *,
    ci_method: Literal["wilson", "clopper-pearson"] = "wilson",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Outcome proportion in the low- and high-risk groups of each cohort.

    Parameters
    ----------
    cohorts : mapping
        ``{"Training": (y, p), "External": (y, p)}``.
    threshold : float
        Cutoff; ``p >= threshold`` is high risk.
    ci_method : {"wilson", "clopper-pearson"}
        Interval of each proportion.
    conf_level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Columns ``cohort``, ``group`` (``"low"``/``"high"``), ``n``, ``n_events``,
        ``proportion``, ``ci_low``, ``ci_high``, ``threshold``.

    Raises
    ------
    InputError
        Malformed ``cohorts`` or bad data (the message names the cohort).

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> risk_group_table({"Training": (y, p)}, 0.45)[["group", "n", "n_events", "proportion"]]
      group  n  n_events  proportion
    0   low  4         1        0.25
    1  high  4         3        0.75
    """
    t = _check_threshold(threshold)
    if not isinstance(cohorts, Mapping) or not cohorts:
        raise InputError("`cohorts` must be a non-empty mapping {cohort: (y, p)}")
    rows = []
    for name, value in cohorts.items():
        if not (isinstance(value, tuple | list) and len(value) == 2):
            raise InputError(f"cohort {name!r}: expected a pair (y, p)")
        try:
            yy, sc = _check_y_scores(value[0], {"p": value[1]}, require_both=False)
        except InputError as exc:
            raise InputError(f"cohort {name!r}: {exc}") from None
        high = sc["p"] >= t
        for group, mask in (("low", ~high), ("high", high)):
            n = int(mask.sum())
            k = int(yy[mask].sum())
            lo, hi = binomial_ci([k], [n], method=ci_method, conf_level=conf_level)
            rows.append(
                {
                    "cohort": str(name),
                    "group": group,
                    "n": n,
                    "n_events": k,
                    "proportion": k / n if n else math.nan,
                    "ci_low": float(lo[0]),
                    "ci_high": float(hi[0]),
                    "threshold": t,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- plots


def _get_ax(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


# Okabe & Ito's palette: model curves stay distinguishable with colour-vision deficiency
# and in greyscale print (tab10's orange/green pair does not)
_OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def plot_roc(
    y: Any,
    scores: Mapping[str, Any] | Any,
    ax: Any = None,
    *,
    ci: Literal["delong", "bootstrap"] | None = "delong",
    n_boot: int = 2000,
    random_state: int | None = None,
    conf_level: float = 0.95,
    decimals: int = 3,
    diagonal: bool = True,
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
        Draw the chance line.
    **kwargs
        Passed to every ``ax.plot`` call of the curves (e.g. ``linewidth``).

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
    ax = _get_ax(ax)
    if not isinstance(scores, Mapping):
        scores = {"model": scores}
    f = f"{{:.{decimals}f}}"
    for k, (name, s) in enumerate(scores.items()):
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
        style = {"color": _OKABE_ITO[k % len(_OKABE_ITO)]} | kwargs
        ax.plot(table["fpr"], table["sensitivity"], label=label, drawstyle="default", **style)
    if diagonal:
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel("1 \u2212 Specificity")
    ax.set_ylabel("Sensitivity")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_risk_groups(
    cohorts: Mapping[str, tuple[Any, Any]] | pd.DataFrame,
    threshold: float | None = None,
    ax: Any = None,
    *,
    ci: bool = True,
    colors: tuple[str, str] = ("#4C72B0", "#C44E52"),
    **kwargs: Any,
) -> Any:
    """Bar chart of the outcome proportion in low- vs high-risk patients per cohort.

    Parameters
    ----------
    cohorts : mapping or DataFrame
        ``{"Training": (y, p), ...}`` (then ``threshold`` is required) or the output of
        :func:`risk_group_table`.
    threshold : float, optional
        Cutoff, ``p >= threshold`` is high risk.
    ax : matplotlib Axes, optional
        Axes to draw on.
    ci : bool
        Draw the confidence intervals as error bars.
    colors : (str, str)
        Colours of the low- and high-risk bars.
    **kwargs
        Passed to ``ax.bar``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = plot_risk_groups({"Training": (y, p)}, 0.45, ax=ax)
    >>> len(ax.patches)
    2
    """
    ax = _get_ax(ax)
    if isinstance(cohorts, pd.DataFrame):
        table = cohorts
    else:
        if threshold is None:
            raise InputError("`threshold` is required when `cohorts` holds (y, p) pairs")
        table = risk_group_table(cohorts, threshold)
    names = list(dict.fromkeys(table["cohort"]))
    x = np.arange(len(names))
    width = 0.38
    for i, (group, color) in enumerate(zip(("low", "high"), colors, strict=True)):
        sub = table[table["group"] == group].set_index("cohort").reindex(names)
        pos = x + (i - 0.5) * width
        err = None
        if ci:
            # A Wilson bound for 0/n or n/n can miss the proportion by ~1e-17; matplotlib
            # refuses negative error-bar lengths.
            err = np.clip(
                np.vstack(
                    [
                        (sub["proportion"] - sub["ci_low"]).to_numpy(),
                        (sub["ci_high"] - sub["proportion"]).to_numpy(),
                    ]
                ),
                0.0,
                None,
            )
        bar_kw = {"capsize": 3, "color": color, "label": f"{group.capitalize()} risk"} | kwargs
        ax.bar(pos, sub["proportion"].to_numpy(), width, yerr=err, **bar_kw)
        # Label each bar "events/n" above its error bar so the two never overlap.
        tops = sub["ci_high"] if ci else sub["proportion"]
        for xi, (k, n, prop, top) in zip(
            pos,
            np.column_stack([sub[["n_events", "n", "proportion"]].to_numpy(), tops]),
            strict=True,
        ):
            if n and not np.isnan(prop):
                ax.annotate(
                    f"{int(k)}/{int(n)}",
                    (xi, top),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize="small",
                )
    ax.set_xticks(x, names)
    # headroom above the "events/n" labels for a one-row legend, which used to cover them
    ax.set_ylim(0, 1.25)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("Proportion with the outcome")
    ax.legend(fontsize="small", loc="upper center", ncol=2, frameon=False)
    return ax
