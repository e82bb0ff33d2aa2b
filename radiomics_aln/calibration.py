"""Calibration of predicted risks: Hosmer-Lemeshow, le Cessie-van Houwelingen, ``val.prob`` and
calibration curves with their plot.

Every statistic matches an R function, named in its docstring; the R scripts that produced the
reference values are ``tests/reference/nomogram.R`` (Hosmer-Lemeshow, ``val.prob``),
``parity.R`` and ``lowess.R`` (R's ``lowess``, ties included). Bootstrap validation
(``rms::validate``/``calibrate``) is :mod:`radiomics_aln.validation`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats
from sklearn.metrics import roc_auc_score

from radiomics_aln._display import SummaryHTML
from radiomics_aln._plotting import REFERENCE_STYLE, get_ax, legend_below, line_style
from radiomics_aln._validation import (
    check_binary,
    check_probabilities,
    check_same_length,
    format_items,
)
from radiomics_aln.exceptions import InputError, StatisticalWarning
from radiomics_aln.lowess import approx, lowess
from radiomics_aln.regression import null_loglik, recalibrate

__all__ = [
    "CalibrationCurve",
    "HosmerLemeshowResult",
    "LeCessieResult",
    "calibration_curve",
    "hosmer_lemeshow",
    "le_cessie_van_houwelingen",
    "plot_calibration",
    "val_prob",
]


def _check_yp(y: Any, p: Any, *, open_interval: bool = True) -> tuple[np.ndarray, np.ndarray]:
    y = check_binary(y, "y", require_both=False)
    p = check_probabilities(p, "p", open_interval=open_interval)
    check_same_length(y=y, p=p)
    return y, p


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    # scipy's logistic saturates to 0/1 without overflow warnings for large |x|.
    return special.expit(x)


# --------------------------------------------------------------------------------------------
# Hosmer-Lemeshow
# --------------------------------------------------------------------------------------------
@dataclass
class HosmerLemeshowResult(SummaryHTML):
    """Result of :func:`hosmer_lemeshow`.

    Attributes
    ----------
    statistic, df, p_value : float
        Chi-square statistic, degrees of freedom (requested groups - 2 by default, as
        ``hoslem.test``; formed groups - 2 with ``df="formed"``) and upper-tail p-value.
    n_groups : int
        Groups actually formed (fewer than requested when predictions are tied).
    n_groups_requested : int
    df_rule : str
        ``"requested"`` or ``"formed"``: how ``df`` was counted.
    table : DataFrame
        One row per group: ``group`` (interval label as R's ``cut``), ``p_low``, ``p_high``,
        ``n``, ``observed_1``, ``expected_1``, ``observed_0``, ``expected_0``,
        ``mean_predicted``, ``observed_rate``.
    """

    statistic: float
    df: int
    p_value: float
    n_groups: int
    n_groups_requested: int
    table: pd.DataFrame
    df_rule: str = "requested"

    @property
    def note(self) -> str:
        """How many groups formed and which df was used, for a table's note column."""
        if self.n_groups == self.n_groups_requested:
            return f"{self.n_groups} groups"
        return (
            f"{self.n_groups} of {self.n_groups_requested} groups formed (tied predictions); "
            f"df = {self.df} ({self.df_rule} groups - 2)"
        )

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table: ``statistic``, ``df``, ``p_value``, ``n_groups``."""
        return pd.DataFrame(
            {
                "statistic": [self.statistic],
                "df": [self.df],
                "p_value": [self.p_value],
                "n_groups": [self.n_groups],
            },
            index=["hosmer_lemeshow"],
        )

    def plot(self, ax: Any = None) -> Any:
        """Observed against expected events per group, with the ideal line; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            ax = plt.gca()
        t = self.table
        top = float(max(t["observed_1"].max(), t["expected_1"].max(), 1.0)) * 1.05
        ax.plot([0, top], [0, top], ls="--", color="grey", lw=1, label="Ideal")
        ax.plot(t["expected_1"], t["observed_1"], "o", label="Groups")
        p = "p < 0.001" if self.p_value < 0.001 else f"p = {self.p_value:.3f}"
        ax.set_title(f"Hosmer-Lemeshow {self.statistic:.2f} on {self.df} df, {p}", fontsize=9)
        ax.set_xlabel("Expected events")
        ax.set_ylabel("Observed events")
        ax.legend(loc="upper left", fontsize=8)
        return ax

    def __repr__(self) -> str:
        return (
            f"HosmerLemeshowResult(statistic={self.statistic:.4f}, df={self.df}, "
            f"p_value={self.p_value:.4g}, n_groups={self.n_groups})"
        )


def _hl_groups(p: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
    """Group index per case and the unique breaks, as ``cut(p, unique(quantile(p, ...)))``."""
    # numpy's "linear" quantile is R's default type 7
    breaks = np.unique(np.quantile(p, np.linspace(0, 1, g + 1), method="linear"))
    if breaks.size < 2:  # one distinct prediction (e.g. an intercept-only model): one group
        return np.zeros(p.size, dtype=np.intp), np.repeat(breaks, 2)
    # right-closed intervals, the lowest one closed on the left (include.lowest = TRUE)
    idx = np.searchsorted(breaks, p, side="left") - 1
    idx = np.clip(idx, 0, breaks.size - 2)
    return idx, breaks


def _check_groups(n_groups: Any) -> int:
    ok = isinstance(n_groups, int | float | np.integer | np.floating) and not isinstance(
        n_groups, bool
    )
    if not ok or not math.isfinite(n_groups) or n_groups != int(n_groups) or n_groups < 3:
        raise InputError(f"`n_groups` must be an integer >= 3 (df = g - 2), got {n_groups!r}")
    return int(n_groups)


def hosmer_lemeshow(
    y: Any, p: Any, *, n_groups: int = 10, df: str = "requested"
) -> HosmerLemeshowResult:
    """Hosmer-Lemeshow goodness-of-fit test with deciles of predicted risk.

    Parameters
    ----------
    y : array-like of 0/1
    p : array-like
        Predicted probabilities, strictly inside (0, 1).
    n_groups : int, default 10
        Requested number of groups ``g``.
    df : {"requested", "formed"}
        Degrees of freedom when tied predictions form fewer groups than requested:
        ``"requested"`` (default) keeps ``g - 2`` as ``ResourceSelection::hoslem.test`` does;
        ``"formed"`` uses the number of groups actually formed minus 2.

    Returns
    -------
    HosmerLemeshowResult
        ``statistic``, ``df``, ``p_value``, ``n_groups``, ``table`` (observed/expected by group).

    Raises
    ------
    InputError
        ``y`` not 0/1, ``p`` outside (0, 1), lengths differ, fewer than 3 groups formed, bad
        ``n_groups`` or ``df``.

    Warns
    -----
    StatisticalWarning
        When fewer groups than requested are formed (tied predictions), naming how many.

    Notes
    -----
    Grouping follows ``ResourceSelection::hoslem.test`` (0.3-6)::

        qq <- unique(quantile(p, probs = seq(0, 1, 1/g)))      # type-7 quantiles
        cut(p, breaks = qq, include.lowest = TRUE)              # (a, b] intervals

    pandas' ``qcut(p, g, duplicates="drop")`` forms the same groups. The statistic is
    ``sum((O - E)^2 / E)`` over both outcome columns (events and non-events), i.e.
    ``sum((O1 - E1)^2 / (n pbar (1 - pbar)))`` per group.

    *Ties.* Equal predictions always fall into the same group: when a quantile coincides for
    several probabilities, the duplicated break is dropped and the groups are fewer and unequal
    in size. ``hoslem.test`` then still uses ``df = g - 2`` with the *requested* g, and so do we
    by default (equal to R; :attr:`HosmerLemeshowResult.note` says how many groups formed, and a
    warning is issued). ``df="formed"`` uses the groups actually formed minus 2, the test as
    Hosmer and Lemeshow describe it for g groups. With ``n_groups`` groups formed the two agree.
    Two documented differences from ``hoslem.test``, both in degenerate cases: a group left
    empty by interpolated quantiles (possible only with heavy ties) is dropped, where
    ``hoslem.test`` returns NaN (0/0); and fewer than 3 groups formed is an error, where
    ``hoslem.test`` reports a statistic from 1 or 2 groups on ``g - 2`` df.

    References
    ----------
    Hosmer DW, Lemeshow S. Goodness of fit tests for the multiple logistic regression model.
    Commun Stat Theory Methods 1980;9:1043-69.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.95, 300)
    >>> y = (rng.random(300) < p).astype(int)
    >>> hl = hosmer_lemeshow(y, p)
    >>> hl.df, hl.n_groups, round(hl.statistic, 3)
    (8, 10, 11.566)
    """
    y, p = _check_yp(y, p, open_interval=True)
    g = _check_groups(n_groups)
    if df not in ("requested", "formed"):
        raise InputError(f"`df` must be 'requested' or 'formed', got {df!r}")
    idx, breaks = _hl_groups(p, g)
    k = breaks.size - 1
    counts = np.bincount(idx, minlength=k)
    nonempty = counts > 0
    formed = int(nonempty.sum())
    n_distinct = np.unique(p).size
    if formed < 3:
        raise InputError(
            f"only {formed} group(s) could be formed from {n_distinct} distinct predicted "
            f"probabilities; the Hosmer-Lemeshow test needs at least 3 (df = groups - 2)"
        )
    dof = g - 2 if df == "requested" else formed - 2
    if formed < g:
        warnings.warn(
            f"Hosmer-Lemeshow: {formed} groups were formed instead of {g} ({n_distinct} distinct "
            f"predicted probabilities, tied quantiles); df = {dof} ({df} groups - 2)",
            StatisticalWarning,
            stacklevel=2,
        )
    o1 = np.bincount(idx, weights=y, minlength=k)
    e1 = np.bincount(idx, weights=p, minlength=k)
    o0 = counts - o1
    e0 = counts - e1
    labels = [f"{'[' if i == 0 else '('}{breaks[i]:.3g},{breaks[i + 1]:.3g}]" for i in range(k)]
    table = pd.DataFrame(
        {
            "group": labels,
            "p_low": breaks[:-1],
            "p_high": breaks[1:],
            "n": counts,
            "observed_1": o1,
            "expected_1": e1,
            "observed_0": o0,
            "expected_0": e0,
        }
    )[nonempty].reset_index(drop=True)
    table["mean_predicted"] = table["expected_1"] / table["n"]
    table["observed_rate"] = table["observed_1"] / table["n"]
    chi2 = float(
        (
            (table.observed_1 - table.expected_1) ** 2 / table.expected_1
            + (table.observed_0 - table.expected_0) ** 2 / table.expected_0
        ).sum()
    )
    p_value = float(stats.chi2.sf(chi2, dof))
    return HosmerLemeshowResult(chi2, dof, p_value, formed, g, table, df)


# --------------------------------------------------------------------------------------------
# le Cessie - van Houwelingen unweighted sum of squares
# --------------------------------------------------------------------------------------------
@dataclass
class LeCessieResult(SummaryHTML):
    """Result of :func:`le_cessie_van_houwelingen`: ``sse``, ``expected``, ``sd``, ``z``,
    ``p_value`` (two-sided); ``y`` and ``p`` are the data tested."""

    sse: float
    expected: float
    sd: float
    z: float
    p_value: float
    y: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    p: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table: ``sse``, ``expected``, ``sd``, ``z``, ``p_value``."""
        cols = ("sse", "expected", "sd", "z", "p_value")
        return pd.DataFrame(
            [{c: getattr(self, c) for c in cols}], index=["le_cessie_van_houwelingen"]
        )

    def plot(self, ax: Any = None) -> Any:
        """Squared residuals ``(y - p)^2`` against ``p`` with their expectation ``p (1 - p)``
        under the null: the sum of squares the test compares. Returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            ax = plt.gca()
        grid = np.linspace(0, 1, 201)
        ax.plot(self.p, (self.y - self.p) ** 2, "o", ms=3, alpha=0.5, label="(y - p)²")
        ax.plot(grid, grid * (1 - grid), color="grey", label="expected p (1 - p)")
        ax.set_title(
            f"le Cessie-van Houwelingen z = {self.z:.2f}, p = {self.p_value:.3f}", fontsize=9
        )
        ax.set_xlabel("Predicted probability")
        ax.set_ylabel("Squared residual")
        ax.legend(loc="upper right", fontsize=8)
        return ax


def le_cessie_van_houwelingen(y: Any, p: Any, X: Any = None) -> LeCessieResult:
    """le Cessie-van Houwelingen-Copas-Hosmer unweighted sum-of-squares goodness-of-fit test.

    Parameters
    ----------
    y : array-like of 0/1
    p : array-like
        Fitted probabilities in (0, 1).
    X : array-like of shape (n, k), optional
        The model's design matrix without the intercept column (the intercept is added). Give
        it when ``p`` comes from a model fitted on these same cases; omit it for predictions
        fixed in advance (external validation), where no variance is lost to estimation.

    Returns
    -------
    LeCessieResult

    Notes
    -----
    ``SSE = sum((y - p)^2)``, ``E = sum(p (1 - p))`` under the null. With ``w = p (1 - p)`` and
    ``d = 1 - 2p``, the standard deviation is ``sqrt(sum(w r^2))`` where ``r`` are the residuals
    of the weighted least-squares regression of ``d`` on ``[1, X]`` with weights ``w`` (``r = d``
    without ``X``); ``z = (SSE - E) / sd``, two-sided normal p-value. This is
    ``rms::residuals.lrm(fit, type = "gof")`` (Hosmer et al. 1997), which Harrell recommends
    over the grouped Hosmer-Lemeshow test because it needs no arbitrary grouping.

    References
    ----------
    le Cessie S, van Houwelingen JC. A goodness-of-fit test for binary regression models,
    based on smoothing methods. Biometrics 1991;47:1267-82.
    Hosmer DW, Hosmer T, le Cessie S, Lemeshow S. A comparison of goodness-of-fit tests for the
    logistic regression model. Stat Med 1997;16:965-80.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.95, 300)
    >>> y = (rng.random(300) < p).astype(int)
    >>> res = le_cessie_van_houwelingen(y, p)
    >>> round(res.z, 3), round(res.p_value, 3)
    (-0.784, 0.433)
    """
    y, p = _check_yp(y, p, open_interval=True)
    w = p * (1 - p)
    d = 1 - 2 * p
    if X is None:
        r = d
    else:
        Xm = np.asarray(X, dtype=float)
        if Xm.ndim == 1:
            Xm = Xm[:, None]
        if Xm.shape[0] != y.size:
            raise InputError(f"X has {Xm.shape[0]} rows but y has {y.size}")
        Xm = np.column_stack([np.ones(y.size), Xm])
        sw = np.sqrt(w)
        gamma = np.linalg.lstsq(Xm * sw[:, None], d * sw, rcond=None)[0]
        r = d - Xm @ gamma
    sse = float(np.sum((y - p) ** 2))
    ev = float(np.sum(w))
    sd = float(np.sqrt(np.sum(w * r**2)))
    z = (sse - ev) / sd
    return LeCessieResult(sse, ev, sd, z, float(2 * stats.norm.sf(abs(z))), y, p)


# --------------------------------------------------------------------------------------------
# lowess (R's clowess) and val.prob


def val_prob(y: Any, p: Any) -> pd.Series:
    """Validation statistics of predicted probabilities, as ``rms::val.prob(p, y)``.

    Parameters
    ----------
    y : array-like of 0/1
    p : array-like
        Predicted probabilities in [0, 1]. Values of exactly 0 or 1 (infinite logit) are left
        out of the logistic calibration with a warning, as ``val.prob`` does (see Notes).

    Returns
    -------
    Series
        ``dxy`` (Somers' D), ``c_index`` (AUC), ``r2`` (Nagelkerke, of the predictions as they
        are), ``d`` (discrimination index), ``d_chisq``, ``u`` (unreliability), ``u_chisq``,
        ``u_p``, ``q`` (= d - u), ``brier``, ``intercept`` and ``slope`` (of
        ``logit P(y) = a + b logit(p)``, fitted jointly), ``calibration_in_the_large``
        (intercept with the slope fixed at 1, ``glm(y ~ offset(logit(p)))``), ``emax``,
        ``e90``, ``eavg`` (max, 90th percentile and mean of ``|p - lowess(p, y)|``), ``s_z``,
        ``s_p`` (Spiegelhalter's z-test).

    Notes
    -----
    Matches rms 6.5 ``val.prob``: the lowess smoother uses ``iter = 0`` and values are read at
    each ``p`` by linear interpolation with tied ``p`` averaged; Brier is ``mean((p - y)^2)``.
    ``val.prob`` reports ``D:p`` as NA; it is omitted here. ``calibration_in_the_large`` is
    not in ``val.prob``; it is the intercept Steyerberg (2019) calls calibration-in-the-large.

    *Predictions of exactly 0 or 1.* As ``val.prob``, they are deleted from the logistic
    calibration (a :class:`StatisticalWarning` names how many and which rows): ``dxy``,
    ``c_index``, ``r2``, ``d``, ``d_chisq``, ``intercept``, ``slope``,
    ``calibration_in_the_large`` and the ``n`` of ``d`` and ``u`` use the other cases only;
    ``brier``, ``emax``/``e90``/``eavg`` (lowess) and ``s_z``/``s_p`` use every case. The
    unreliability chi-square compares the recalibrated fit with the log-likelihood of the
    predictions summed as R's ``sum(..., na.rm = TRUE)`` does: a case at 1 (or a non-event at
    0) contributes NaN there and is skipped, while an event predicted at 0 contributes
    ``-Inf``, so ``u_chisq`` and ``u`` are ``inf``, ``u_p`` is 0 and ``q`` is ``-inf``, as in R.

    References
    ----------
    Harrell FE, Lee KL, Mark DB. Multivariable prognostic models. Stat Med 1996;15:361-87.
    Spiegelhalter DJ. Probabilistic prediction in patient management and clinical trials.
    Stat Med 1986;5:421-33.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.95, 300)
    >>> y = (rng.random(300) < p).astype(int)
    >>> val_prob(y, p)[["c_index", "intercept", "slope", "brier"]].round(3)
    c_index      0.834
    intercept   -0.154
    slope        1.127
    brier        0.168
    dtype: float64
    """
    y_all, p_all = _check_yp(y, p, open_interval=False)
    if np.unique(y_all).size < 2:
        raise InputError("`y` has only one class; val_prob needs both outcomes (0 and 1)")
    inner = (p_all > 0) & (p_all < 1)
    if not inner.all():
        rows = (p.index if isinstance(p, pd.Series) else np.arange(p_all.size))[~inner]
        warnings.warn(
            f"val_prob: {int((~inner).sum())} observation(s) with predicted probability 0 or 1 "
            f"(rows {format_items(rows)}) deleted from the logistic calibration, as "
            "rms::val.prob",
            StatisticalWarning,
            stacklevel=2,
        )
    y, p = y_all[inner], p_all[inner]
    if np.unique(y).size < 2:
        raise InputError(
            "`p`: the cases with predicted probabilities strictly between 0 and 1 have only one "
            "outcome class; the logistic calibration needs both"
        )
    n = y.size
    lg = _logit(p)
    ll0 = null_loglik(y)
    ll_fixed = float(np.sum(y * lg - np.logaddexp(0, lg)))
    lr = 2 * (ll_fixed - ll0)
    a, b, ll_recal = recalibrate(lg, y)
    # intercept with slope fixed at 1: one-parameter Newton on the offset model
    c = 0.0
    for _ in range(100):
        pr = _expit(lg + c)
        step = np.sum(y - pr) / np.sum(pr * (1 - pr))
        c += step
        if abs(step) < 1e-13:
            break
    r2 = (1 - np.exp(-lr / n)) / (1 - np.exp(2 * ll0 / n))
    d = (lr - 1) / n
    # R sums the predictions' log-likelihood over every case with na.rm = TRUE: only an event
    # at p = 0 (-Inf) survives of the infinite logits; the others are NaN and dropped.
    ll_all = -math.inf if np.any((p_all == 0) & (y_all == 1)) else ll_fixed
    u_chisq = -2 * ll_all - (-2 * ll_recal)
    u = (u_chisq - 2) / n
    auc = roc_auc_score(y, p)
    y, p = y_all, p_all  # the smooth, Brier and Spiegelhalter's z use every case
    sx, sy = lowess(p, y, it=0)
    cal = approx(sx, sy, p, ties="mean")
    er = np.abs(p - cal)
    spi_z = np.sum((y - p) * (1 - 2 * p)) / np.sqrt(np.sum((1 - 2 * p) ** 2 * p * (1 - p)))
    return pd.Series(
        {
            "dxy": 2 * auc - 1,
            "c_index": auc,
            "r2": r2,
            "d": d,
            "d_chisq": lr,
            "u": u,
            "u_chisq": u_chisq,
            "u_p": stats.chi2.sf(u_chisq, 2),
            "q": d - u,
            "brier": float(np.mean((p - y) ** 2)),
            "intercept": a,
            "slope": b,
            "calibration_in_the_large": c,
            "emax": float(er.max()),
            "e90": float(np.quantile(er, 0.9)),
            "eavg": float(er.mean()),
            "s_z": spi_z,
            "s_p": 2 * stats.norm.sf(abs(spi_z)),
        }
    )


# --------------------------------------------------------------------------------------------
# Calibration curve and plot
# --------------------------------------------------------------------------------------------
@dataclass
class CalibrationCurve(SummaryHTML):
    """Grouped and smoothed calibration of predicted risks (see :func:`calibration_curve`).

    Attributes
    ----------
    grouped : DataFrame
        ``group``, ``n``, ``mean_predicted``, ``observed_rate``, ``ci_low``, ``ci_high``
        (Clopper-Pearson 95 %).
    smooth : DataFrame
        ``predicted`` (sorted), ``observed`` (lowess with ``iter = 0``, as rms).
    stats : Series
        :func:`val_prob` statistics.
    hosmer_lemeshow : HosmerLemeshowResult or None
    risk_distribution : DataFrame or None
        The predicted risks in 100 bins of width 0.01 (``rms::histSpike``'s default):
        ``bin_low``, ``bin_high``, ``n_events``, ``n_nonevents``; drawn as the spike
        histogram under the curve.
    """

    grouped: pd.DataFrame
    smooth: pd.DataFrame
    stats: pd.Series
    hosmer_lemeshow: HosmerLemeshowResult | None
    risk_distribution: pd.DataFrame | None = None

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table: the :func:`val_prob` statistics (``stats``) and the Hosmer-Lemeshow
        ``hl_statistic``, ``hl_df``, ``hl_p_value`` (NaN when fewer than 3 groups form)."""
        hl = self.hosmer_lemeshow
        row = dict(self.stats) | {
            "hl_statistic": hl.statistic if hl is not None else np.nan,
            "hl_df": hl.df if hl is not None else np.nan,
            "hl_p_value": hl.p_value if hl is not None else np.nan,
        }
        return pd.DataFrame([row], index=["calibration"])

    def plot(
        self,
        ax: Any = None,
        *,
        label: str | None = None,
        bias_corrected: pd.DataFrame | None = None,
        **kwargs: Any,
    ) -> Any:
        """Draw the curve (see :func:`plot_calibration`); returns the axes."""
        return _draw_calibration(self, ax=ax, label=label, bias_corrected=bias_corrected, **kwargs)


def calibration_curve(y: Any, p: Any, *, n_groups: int = 10) -> CalibrationCurve:
    """Calibration curve: observed event rate by risk group and a lowess smooth.

    Parameters
    ----------
    y : array-like of 0/1
    p : array-like
        Predicted probabilities in (0, 1).
    n_groups : int, default 10
        Groups of the grouped curve, formed as in :func:`hosmer_lemeshow`.

    Returns
    -------
    CalibrationCurve

    Notes
    -----
    The smooth is ``lowess(p, y, iter = 0)``, the nonparametric curve of ``rms::val.prob`` and
    ``rms::calibrate``. The grouped points use the Hosmer-Lemeshow deciles so that the plot and
    the test describe the same groups.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.95, 300)
    >>> y = (rng.random(300) < p).astype(int)
    >>> cc = calibration_curve(y, p)
    >>> cc.grouped.shape[0], round(float(cc.stats["slope"]), 3)
    (10, 1.127)
    """
    y, p = _check_yp(y, p, open_interval=True)
    _check_groups(n_groups)  # a bad argument is an error, not "no Hosmer-Lemeshow groups"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            hl = hosmer_lemeshow(y, p, n_groups=n_groups)
        except InputError:
            hl = None
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    if hl is not None:
        tab = hl.table
        grouped = tab[["group", "n", "mean_predicted", "observed_rate"]].copy()
        k = tab["observed_1"].to_numpy()
        m = tab["n"].to_numpy()
    else:
        u = np.unique(p)
        idx = np.searchsorted(u, p)
        m = np.bincount(idx)
        k = np.bincount(idx, weights=y)
        grouped = pd.DataFrame(
            {"group": [f"{v:.3g}" for v in u], "n": m, "mean_predicted": u, "observed_rate": k / m}
        )
    grouped["ci_low"] = np.where(k > 0, stats.beta.ppf(0.025, k, m - k + 1), 0.0)
    grouped["ci_high"] = np.where(k < m, stats.beta.ppf(0.975, k + 1, m - k), 1.0)
    sx, sy = lowess(p, y, it=0)
    smooth = pd.DataFrame({"predicted": sx, "observed": sy})
    st = val_prob(y, p) if np.unique(y).size == 2 else pd.Series(dtype=float)
    return CalibrationCurve(grouped, smooth, st, hl, _risk_distribution(y, p))


def _risk_distribution(y: np.ndarray, p: np.ndarray, bins: int = 100) -> pd.DataFrame:
    """Counts of predicted risks with and without the outcome in ``bins`` equal bins of [0, 1]."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    events = np.bincount(idx, weights=(y == 1), minlength=bins).astype(int)
    total = np.bincount(idx, minlength=bins)
    edges = np.arange(bins + 1) / bins
    return pd.DataFrame(
        {"bin_low": edges[:-1], "bin_high": edges[1:], "n_events": events,
         "n_nonevents": total - events}
    )  # fmt: skip


#: The strip under a calibration plot that holds the spike histogram of predicted risks
#: (y from -0.17 to -0.03; the spikes of patients with the outcome point up from its middle).
_STRIP = (-0.17, -0.03)


def _draw_risk_distribution(ax: Any, dist: pd.DataFrame, colour: Any) -> None:
    """rms-style spike histogram in the strip under the curve: patients with the outcome up,
    without it down, the longest spike filling half the strip."""
    lo, hi = _STRIP
    mid, half = (lo + hi) / 2, (hi - lo) / 2 * 0.95
    top = max(int(dist["n_events"].max()), int(dist["n_nonevents"].max()), 1)
    x = ((dist["bin_low"] + dist["bin_high"]) / 2).to_numpy()
    for col, sign in (("n_events", 1.0), ("n_nonevents", -1.0)):
        n = dist[col].to_numpy()
        keep = n > 0
        ax.vlines(x[keep], mid, mid + sign * half * n[keep] / top, color=colour, lw=0.9)
    ax.axhline(mid, color="#8C8C8C", lw=0.5)
    ax.axhline(hi + 0.012, color="#D9D9D9", lw=0.5)


def _draw_calibration(
    cc: CalibrationCurve,
    ax: Any = None,
    *,
    label: str | None = None,
    bias_corrected: pd.DataFrame | None = None,
    **kwargs: Any,
) -> Any:
    ax = get_ax(ax)
    ax.plot([0, 1], [0, 1], label="Ideal", **REFERENCE_STYLE)
    name = label or "Apparent"
    if cc.hosmer_lemeshow is not None:
        p_hl = cc.hosmer_lemeshow.p_value
        name += " (HL p < 0.001)" if p_hl < 0.001 else f" (HL p = {p_hl:.3f})"
    style = line_style({"color": "#000000", "linewidth": 1.6}, kwargs)
    line = ax.plot(cc.smooth["predicted"], cc.smooth["observed"], label=name, **style)[0]
    g = cc.grouped
    ax.errorbar(
        g["mean_predicted"],
        g["observed_rate"],
        yerr=[g["observed_rate"] - g["ci_low"], g["ci_high"] - g["observed_rate"]],
        fmt="o",
        color=line.get_color(),
        ms=4,
        capsize=2,
        lw=0.8,
        label="Grouped: observed (95% CI)",
    )
    if bias_corrected is not None:
        ax.plot(
            bias_corrected["predicted"],
            bias_corrected["calibrated_corrected"],
            ls="-.",
            lw=1.4,
            color=line.get_color(),
            label="Bias-corrected",
        )
    if cc.risk_distribution is not None:
        _draw_risk_distribution(ax, cc.risk_distribution, line.get_color())
        ax.set_ylim(_STRIP[0] - 0.01, 1.02)
    else:
        ax.set_ylim(-0.02, 1.02)
    # a small margin: groups observed at 0 % or 100 % and their CIs used to be cut in half
    ax.set_xlim(-0.02, 1.02)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_aspect("equal")
    ax.set_xlabel("Predicted probability")
    ax.set_ylabel("Observed probability")
    legend_below(ax, ncol=2, fontsize=8)
    return ax


def plot_calibration(
    y: Any,
    p: Any,
    *,
    ax: Any = None,
    n_groups: int = 10,
    label: str | None = None,
    bias_corrected: pd.DataFrame | None = None,
    **kwargs: Any,
) -> Any:
    """Calibration plot: ideal line, lowess curve, grouped observed rates with 95 % CIs, and
    the distribution of the predicted risks.

    Under the curve a strip holds the spike histogram of the predicted risks (bins of 0.01, as
    ``rms::val.prob``'s ``histSpike``): spikes up for patients with the outcome, down for those
    without. The legend (below the axes) gives the Hosmer-Lemeshow p-value. ``bias_corrected`` (the table of
    :func:`~radiomics_aln.validation.bootstrap_calibrate`) adds Harrell's bias-corrected curve. ``**kwargs`` go to the
    curve's ``ax.plot``. Returns the axes.
    """
    cc = calibration_curve(y, p, n_groups=n_groups)
    return _draw_calibration(cc, ax=ax, label=label, bias_corrected=bias_corrected, **kwargs)


# --------------------------------------------------------------------------------------------
# Bootstrap optimism correction (rms::validate, rms::calibrate)
# --------------------------------------------------------------------------------------------
# rms validate.lrm's rows (B is ``brier`` here; ``auc`` = (Dxy + 1) / 2 is added). ``emax`` is not a
# per-resample measure: it is computed from the corrected intercept and slope.
