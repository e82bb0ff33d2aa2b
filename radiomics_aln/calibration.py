"""Calibration of predicted risks: Hosmer-Lemeshow, le Cessie-van Houwelingen, ``val.prob``,
calibration curves and Harrell's bootstrap optimism correction (``validate`` / ``calibrate``).

Every statistic matches an R function, named in its docstring; the R scripts that produced the
reference values are ``tests/reference/nomogram.R`` (Hosmer-Lemeshow, ``val.prob``,
``calibrate``), ``validate.R`` (``rms::validate`` on R's own resamples, ``Hmisc::GiniMd``) and
``lowess.R`` (R's ``lowess``, ties included).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from scipy import special, stats
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from radiomics_aln._validation import (
    check_1d,
    check_binary,
    check_probabilities,
    check_same_length,
    format_items,
)
from radiomics_aln.exceptions import (
    ConvergenceError,
    InputError,
    SeparationError,
    StatisticalWarning,
)

__all__ = [
    "CalibrationCurve",
    "HosmerLemeshowResult",
    "LeCessieResult",
    "bootstrap_calibrate",
    "bootstrap_validate",
    "calibration_curve",
    "gini_mean_difference",
    "hosmer_lemeshow",
    "le_cessie_van_houwelingen",
    "lowess",
    "plot_calibration",
    "val_prob",
]

logger = logging.getLogger(__name__)


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
class HosmerLemeshowResult:
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
    y: Any, p: Any, n_groups: int = 10, *, df: str = "requested"
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
class LeCessieResult:
    """Result of :func:`le_cessie_van_houwelingen`: ``sse``, ``expected``, ``sd``, ``z``,
    ``p_value`` (two-sided)."""

    sse: float
    expected: float
    sd: float
    z: float
    p_value: float

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([self.__dict__], index=["le_cessie_van_houwelingen"])


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
    return LeCessieResult(sse, ev, sd, z, float(2 * stats.norm.sf(abs(z))))


# --------------------------------------------------------------------------------------------
# lowess (R's clowess) and val.prob
# --------------------------------------------------------------------------------------------
def lowess(x: Any, y: Any, frac: float = 2 / 3, it: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Locally weighted scatterplot smoothing, equal to R's ``lowess``.

    Computes R's ``lowess(x, y, f = frac, iter = it)`` with R's default
    ``delta = 0.01 * diff(range(x))``: Cleveland's (1979, 1981) LOWESS as coded in R's C routine
    ``clowess``, including its handling of tied ``x``.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Finite numbers, ``n >= 2``; any order (the points are sorted by ``x`` with a stable sort,
        as R's ``order``).
    frac : float, default 2/3
        The span ``f``: each local fit uses the ``floor(frac * n)`` nearest points (at least 2,
        at most ``n``). Any finite number > 0.
    it : int, default 0
        Number of robustifying iterations ``iter`` (R's own default is 3; the calibration
        functions of this module use 0 as ``rms``).

    Returns
    -------
    x : ndarray of shape (n,)
        The sorted ``x`` (R's ``lowess(...)$x``).
    fitted : ndarray of shape (n,)
        The smoothed value at each sorted ``x`` (R's ``lowess(...)$y``), one per observation.

    Raises
    ------
    InputError
        If ``x`` or ``y`` is not one-dimensional or holds NaN/inf, if their lengths differ, if
        there are fewer than 2 points (R returns ``y`` for a single point), if the range of ``x`` overflows, if ``frac`` is not a
        finite number > 0 or ``it`` is not an integer >= 0.

    Notes
    -----
    With the points sorted by ``x`` and ``ns = max(2, min(n, floor(frac * n + 1e-7)))``, the
    fitted value at ``x[i]`` is a weighted least-squares line evaluated at ``x[i]``:

    * Neighbourhood: the ``ns`` consecutive points ``x[l], ..., x[l + ns - 1]``, where ``l``
      slides right while ``x[i] - x[l] > x[l + ns] - x[i]``; radius
      ``h = max(x[i] - x[l], x[l + ns - 1] - x[i])``. Points tied with ``x[i]`` to the right of
      the neighbourhood join it when ``h = 0``.
    * Weights: ``r = |x[j] - x[i]|`` gives 1 if ``r <= 0.001 h``, ``(1 - (r/h)^3)^3`` if
      ``r <= 0.999 h`` and 0 otherwise, so when every neighbour is tied (``h = 0``) the tied
      points get weight 1 and the fit is their (robustness-weighted) mean. In iterations after
      the first, weights are multiplied by the robustness weights.
    * Local line: with weights normalised to sum 1, weighted mean ``a`` and
      ``c = sum w (x - a)^2``, the slope is used only if ``h > 0`` and
      ``sqrt(c) > 0.001 (x[n] - x[1])``; otherwise the fit is the weighted mean of ``y``. If all
      weights are 0 the fitted value is ``y[i]``.
    * ``delta``: after a fit at ``x[i]``, points tied with it take the same value, points up to
      ``x[i] + delta`` are skipped except the last of them, which is fitted next, and skipped
      points are linearly interpolated between the fits on either side.
    * Robustness (``it > 0``): with residuals ``e`` and ``cmad = 6 median|e|``, stop if
      ``cmad < 1e-7 mean|e|``; otherwise bisquare weights: 1 if ``|e| <= 0.001 cmad``,
      ``(1 - (e/cmad)^2)^2`` if ``|e| <= 0.999 cmad``, else 0; then refit.

    Sums are accumulated in R's order, so the results are those of R 4.2.2 to the last bit
    (identical in all 130 reference fits of ``tests/reference/lowess.R``; the tests require
    1e-12 relative).
    statsmodels' ``lowess`` differs from R when a neighbourhood has zero width (many tied
    ``x``, e.g. a calibration curve of a model with few distinct predicted risks).

    References
    ----------
    Cleveland, W. S. (1979). Robust locally weighted regression and smoothing scatterplots.
    *Journal of the American Statistical Association*, 74, 829-836.

    Cleveland, W. S. (1981). LOWESS: a program for smoothing scatterplots by robust locally
    weighted regression. *The American Statistician*, 35, 54.

    Examples
    --------
    Eight tied predictions: R's ``lowess(rep(0.4, 8), c(0,1,0,1,1,0,0,0), iter = 0)`` gives the
    observed rate 3/8 at every point.

    >>> from radiomics_aln.calibration import lowess
    >>> sx, fitted = lowess([0.4] * 8, [0, 1, 0, 1, 1, 0, 0, 0])
    >>> fitted
    array([0.375, 0.375, 0.375, 0.375, 0.375, 0.375, 0.375, 0.375])

    Points on a line are reproduced exactly; the input need not be sorted:

    >>> sx, fitted = lowess([3.0, 1.0, 2.0, 4.0, 5.0], [7.0, 3.0, 5.0, 9.0, 11.0], it=3)
    >>> sx
    array([1., 2., 3., 4., 5.])
    >>> fitted
    array([ 3.,  5.,  7.,  9., 11.])
    """
    x = check_1d(x, "x")
    y = check_1d(y, "y")
    n = check_same_length(x=x, y=y)
    if n < 2:
        raise InputError(f"lowess needs at least 2 points, got {n}")
    if (
        isinstance(frac, bool)
        or not isinstance(frac, int | float | np.integer | np.floating)
        or not np.isfinite(frac)
        or frac <= 0
    ):
        raise InputError(f"`frac` must be a finite number > 0, got {frac!r}")
    if isinstance(it, bool) or not isinstance(it, int | np.integer) or it < 0:
        raise InputError(f"`it` must be an integer >= 0, got {it!r}")
    order = np.argsort(x, kind="stable")
    xs = x[order]
    x_range = float(xs[-1]) - float(xs[0])
    if not np.isfinite(x_range):  # R: "'delta' must be finite and > 0"
        raise InputError(f"the range of `x` ({xs[0]!r} to {xs[-1]!r}) overflows float64")
    delta = 0.01 * x_range
    return xs, _clowess(xs, y[order], float(frac), int(it), delta)


def _seqsum(a: np.ndarray) -> np.ndarray:
    """Column sums of a C-ordered 2-D ``a``, adding the rows in order as clowess' loops do.

    Reducing over the outer axis of a C-ordered array with several columns adds whole rows one
    after another; NumPy's pairwise summation applies only along the contiguous axis, which is
    what a single column becomes, so that case goes through ``cumsum`` (always sequential).
    """
    if a.shape[1] > 1:
        return np.add.reduce(a, axis=0)
    return np.cumsum(a, axis=0)[-1]


def _lowess_fit_points(x: np.ndarray, ns: int, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """The points clowess fits and the left ends of their neighbourhoods (0-based, sorted x).

    They depend on ``x`` only, so every robustness iteration reuses them.
    """
    n = x.size
    xl = x.tolist()
    # after a fit at i, its ties are copied and the next fit is the last point <= x[i] + delta
    tie_end = (np.searchsorted(x, x, side="right") - 1).tolist()
    with np.errstate(over="ignore"):  # x near the float64 maximum: the cut is inf, as in R
        beyond = np.searchsorted(x, x + delta, side="right").tolist()
    fits, lefts = [], []
    i = left = 0
    while True:
        # slide the neighbourhood right while that shrinks its radius
        while left + ns < n and xl[i] - xl[left] > xl[left + ns] - xl[i]:
            left += 1
        fits.append(i)
        lefts.append(left)
        last = tie_end[i]
        if last >= n - 1:
            break
        i = max(last + 1, beyond[i] - 1)
    return np.asarray(fits), np.asarray(lefts)


def _clowess(x: np.ndarray, y: np.ndarray, f: float, nsteps: int, delta: float) -> np.ndarray:
    """R's ``clowess`` on sorted ``x``: the fitted values (all local fits at once per iteration)."""
    n = x.size
    ns = n if f * n + 1e-7 >= n else max(2, int(f * n + 1e-7))
    fits, lefts = _lowess_fit_points(x, ns, delta)
    x_range = x[-1] - x[0]

    # Each local fit is a column of an (L, m) window of consecutive points, padded with
    # zero weights, so that column sums taken row by row add in clowess' order.
    rights = lefts + ns - 1
    tie_end = np.searchsorted(x, x[fits], side="right") - 1
    upper = np.maximum(rights, tie_end)  # ties on the right join a zero-width neighbourhood
    width = int((upper - lefts).max()) + 1
    idx = lefts[None, :] + np.arange(width)[:, None]
    padded = bool((upper - lefts < width - 1).any())
    if padded:
        # padding repeats the fitted point itself: finite, and dropped by a zero weight
        outside = idx > upper[None, :]
        idx = np.where(outside, fits[None, :], idx)
    xw = x[idx]
    yw = y[idx]
    xi = x[fits]
    h = np.maximum(xi - x[lefts], x[rights] - xi)
    # tricube weights, computed in place (this is most of the work)
    r = np.subtract(xw, xi)
    np.abs(r, out=r)
    zero = r > 0.999 * h
    if padded:
        zero |= outside
    one = r <= 0.001 * h
    # r / h may overflow only where the weight is set to 0 below (r > 0.999 h or padding)
    with np.errstate(over="ignore"):
        base = np.divide(r, np.where(h > 0, h, 1.0), out=r)  # h == 0 keeps r == 0, weight 1
        cube = base * base
        cube *= base
        np.subtract(1.0, cube, out=cube)
        np.multiply(cube, cube, out=base)
        base *= cube
    base[one] = 1.0
    base[zero] = 0.0
    # which points take which fitted value: ties copy, the rest interpolate
    seg = np.searchsorted(fits, np.arange(n), side="right") - 1
    copied = np.arange(n) <= tie_end[seg]
    between = np.flatnonzero(~copied)
    lo = seg[between]
    x_lo = xi[lo]
    alpha = (x[between] - x_lo) / (xi[lo + 1] - x_lo)

    rw = None
    for step in range(nsteps + 1):
        w = base if rw is None else base * rw[idx]
        total = _seqsum(w)
        ok = total > 0
        w = np.divide(w, np.where(ok, total, 1.0), out=None if w is base and nsteps else w)
        slope = h > 0
        if slope.any():
            # Near the limits of floating point (x spanning 1e300) a squared deviation can
            # overflow and meet a zero weight: NaN, which then fails the slope test, as in R.
            with np.errstate(over="ignore", invalid="ignore"):
                tmp = w * xw
                mean_x = _seqsum(tmp)
                dev = np.subtract(xw, mean_x)
                np.multiply(dev, dev, out=tmp)
                tmp *= w
                c = _seqsum(tmp)
                slope &= np.sqrt(c) > 0.001 * x_range
                b = (xi - mean_x) / np.where(slope, c, 1.0)
                # w * (b (x - mean) + 1) where the slope is used; other columns stay as they are
                dev *= b
                dev += 1.0
                np.multiply(w, dev, out=w, where=slope[None, :])
        fitted = np.where(ok, _seqsum(np.multiply(w, yw, out=w)), y[fits])
        ys = fitted[seg]
        ys[between] = alpha * fitted[lo + 1] + (1.0 - alpha) * fitted[lo]
        if step == nsteps:
            break
        res = np.abs(y - ys)
        scale = np.cumsum(res)[-1] / n
        m1 = n // 2
        if n % 2:
            cmad = 6.0 * np.partition(res, m1)[m1]
        else:
            part = np.partition(res, (m1 - 1, m1))
            cmad = 3.0 * (part[m1] + part[m1 - 1])
        if cmad < 1e-7 * scale:  # residuals effectively zero: further iterations are unstable
            break
        u = res / (cmad if cmad > 0 else 1.0)  # cmad == 0: only zero residuals keep weight
        bisq = 1.0 - u * u
        rw = np.where(res <= 0.001 * cmad, 1.0, np.where(res <= 0.999 * cmad, bisq * bisq, 0.0))
    return ys


def _approx(
    x: np.ndarray, y: np.ndarray, xout: np.ndarray, ties: str = "mean", outside: float = np.nan
) -> np.ndarray:
    """R's ``approx(x, y, xout, ties=)`` (rule 1: NaN outside the range)."""
    ux, inv = np.unique(x, return_inverse=True)
    if ties == "mean":
        uy = np.bincount(inv, weights=y) / np.bincount(inv)
    else:  # "first" as function(x) x[1] on x sorted by approx
        order = np.argsort(x, kind="stable")
        first = {}
        for i in order:
            first.setdefault(inv[i], y[i])
        uy = np.array([first[k] for k in range(ux.size)])
    if ux.size == 1:
        return np.where(xout == ux[0], uy[0], outside)
    return np.interp(xout, ux, uy, left=outside, right=outside)


def _logistic_recal(
    lp: np.ndarray, y: np.ndarray, *, max_iter: int = 50
) -> tuple[float, float, float]:
    """MLE of ``logit P(y) = a + b lp``; returns (a, b, log-likelihood).

    Newton-Raphson with step halving from ``(0, 1)`` (the model as it is). When the information
    becomes singular there -- a linear predictor spanning tens of logits saturates almost every
    probability -- it starts again from ``(logit(mean y), 0)``, where every case carries weight.
    """
    X = np.column_stack([np.ones_like(lp), lp])
    try:
        return _recal_newton(X, y, np.array([0.0, 1.0]), max_iter)
    except ConvergenceError:
        m = float(np.clip(y.mean(), 1e-12, 1 - 1e-12))
        return _recal_newton(X, y, np.array([math.log(m / (1 - m)), 0.0]), max_iter)


def _recal_newton(
    X: np.ndarray, y: np.ndarray, beta: np.ndarray, max_iter: int
) -> tuple[float, float, float]:
    eta = X @ beta
    ll_old = float(np.sum(y * eta - np.logaddexp(0, eta)))
    for _ in range(max_iter):
        eta = X @ beta
        pr = _expit(eta)
        w = pr * (1 - pr)
        info = X.T @ (X * w[:, None])
        try:
            step = np.linalg.solve(info, X.T @ (y - pr))
        except np.linalg.LinAlgError as exc:
            raise ConvergenceError("logistic recalibration is singular") from exc
        if not np.all(np.isfinite(step)):
            raise ConvergenceError("logistic recalibration is singular")
        t = 1.0
        for _ in range(30):
            new = beta + t * step
            eta_new = X @ new
            ll = float(np.sum(y * eta_new - np.logaddexp(0, eta_new)))
            if ll >= ll_old - 1e-12 * abs(ll):
                break
            t /= 2
        beta = new
        if np.max(np.abs(t * step)) < 1e-12 or abs(ll - ll_old) < 1e-14:
            ll_old = ll
            break
        ll_old = ll
    return float(beta[0]), float(beta[1]), float(ll_old)


def _null_loglik(y: np.ndarray) -> float:
    m = y.mean()
    if m in (0.0, 1.0):
        return 0.0
    return float(np.sum(y * np.log(m) + (1 - y) * np.log(1 - m)))


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
    ll0 = _null_loglik(y)
    ll_fixed = float(np.sum(y * lg - np.logaddexp(0, lg)))
    lr = 2 * (ll_fixed - ll0)
    a, b, ll_recal = _logistic_recal(lg, y)
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
    cal = _approx(sx, sy, p, ties="mean")
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
class CalibrationCurve:
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
    """

    grouped: pd.DataFrame
    smooth: pd.DataFrame
    stats: pd.Series
    hosmer_lemeshow: HosmerLemeshowResult | None

    def plot(self, ax: Any = None, *, label: str | None = None, **kwargs: Any) -> Any:
        """Draw the curve (see :func:`plot_calibration`); returns the axes."""
        return _draw_calibration(self, ax=ax, label=label, **kwargs)


def calibration_curve(y: Any, p: Any, n_groups: int = 10) -> CalibrationCurve:
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
            hl = hosmer_lemeshow(y, p, n_groups)
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
    return CalibrationCurve(grouped, smooth, st, hl)


def _draw_calibration(
    cc: CalibrationCurve,
    ax: Any = None,
    *,
    label: str | None = None,
    bias_corrected: pd.DataFrame | None = None,
    **kwargs: Any,
) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.gca()
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="Ideal")
    name = label or "Apparent"
    if cc.hosmer_lemeshow is not None:
        p_hl = cc.hosmer_lemeshow.p_value
        name += " (HL p < 0.001)" if p_hl < 0.001 else f" (HL p = {p_hl:.3f})"
    line = ax.plot(cc.smooth["predicted"], cc.smooth["observed"], label=name, **kwargs)[0]
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
    )
    if bias_corrected is not None:
        ax.plot(
            bias_corrected["predicted"],
            bias_corrected["calibrated_corrected"],
            ls=":",
            color=line.get_color(),
            label="Bias-corrected",
        )
    # a small margin: groups observed at 0 % or 100 % and their CIs used to be cut in half
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("Predicted probability")
    ax.set_ylabel("Observed probability")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_calibration(
    y: Any,
    p: Any,
    ax: Any = None,
    *,
    n_groups: int = 10,
    label: str | None = None,
    bias_corrected: pd.DataFrame | None = None,
    **kwargs: Any,
) -> Any:
    """Calibration plot: ideal line, lowess curve, grouped observed rates with 95 % CIs.

    The legend gives the Hosmer-Lemeshow p-value. ``bias_corrected`` (the table of
    :func:`bootstrap_calibrate`) adds Harrell's bias-corrected curve. ``**kwargs`` go to the
    curve's ``ax.plot``. Returns the axes.
    """
    cc = calibration_curve(y, p, n_groups)
    return _draw_calibration(cc, ax=ax, label=label, bias_corrected=bias_corrected, **kwargs)


# --------------------------------------------------------------------------------------------
# Bootstrap optimism correction (rms::validate, rms::calibrate)
# --------------------------------------------------------------------------------------------
# rms validate.lrm's rows (B is ``brier`` here; ``auc`` = (Dxy + 1) / 2 is added). ``emax`` is not a
# per-resample measure: it is computed from the corrected intercept and slope.
_INDEXES = ["dxy", "auc", "r2", "intercept", "slope", "emax", "d", "u", "q", "brier", "g", "gp"]
_RESAMPLED = [i for i in _INDEXES if i != "emax"]


def gini_mean_difference(x: Any) -> float:
    """Gini's mean difference: the mean absolute difference over all pairs, as ``Hmisc::GiniMd``.

    :math:`GMD = \\frac{2}{n(n-1)} \\sum_{i<j} |x_i - x_j|`, computed in O(n log n) from the sorted
    values as :math:`\\frac{2}{n(n-1)} \\sum_k (2k - n - 1) x_{(k)}`. It is the scale of
    rms's g-index (``g`` on the log-odds scale, ``gp`` on the probability scale).

    Examples
    --------
    >>> gini_mean_difference([1.0, 2.0, 4.0])  # (1 + 3 + 2) / 3
    2.0
    """
    v = np.sort(np.asarray(x, dtype=float).ravel())
    n = v.size
    if n < 2:
        return np.nan
    k = np.arange(1, n + 1)
    return float(2.0 * np.sum((2 * k - n - 1) * v) / (n * (n - 1)))


def _indexes(lp: np.ndarray, y: np.ndarray, *, evalfit: bool) -> np.ndarray:
    """rms ``validate.lrm`` measures (:data:`_RESAMPLED`) for a linear predictor ``lp`` on ``y``.

    As rms's ``discrim``: ``evalfit`` (the model evaluated on its own fitting data) fixes
    intercept 0 and slope 1 and U = -2/n; otherwise intercept and slope are the recalibration
    ``logit P(y) = a + b lp`` and U = (L01 - deviance of that recalibration - 2) / n, with L01
    the deviance of ``lp`` as it is. R2 is Nagelkerke's and D = (LR - 1) / n from the
    recalibration's likelihood ratio (the model's own when ``evalfit``); Q = D - U; Brier uses
    ``lp`` as it is; g and gp are Gini's mean differences of ``b lp`` and ``expit(a + b lp)``.
    """
    if np.unique(y).size < 2:
        return np.full(len(_RESAMPLED), np.nan)
    auc = roc_auc_score(y, lp)
    n = y.size
    if evalfit:
        # the model's own likelihood (rms: the fit's stats), not that of a recalibration: a
        # resample fit stopped by lrm.fit's rule is not the exact maximum
        a, b = 0.0, 1.0
        ll = _lrm_loglik(lp, y)
    else:
        a, b, ll = _lrm_recal(lp, y)
    ll0 = _null_loglik(y)
    lr = 2 * (ll - ll0)
    r2 = (1 - np.exp(-lr / n)) / (1 - np.exp(2 * ll0 / n))
    d = (lr - 1) / n
    if evalfit:
        u = -2 / n
    else:
        l01 = -2 * float(np.sum(y * lp - np.logaddexp(0, lp)))
        u = (l01 - (-2 * ll) - 2) / n
    brier = float(np.mean((y - _expit(lp)) ** 2))
    g = gini_mean_difference(b * lp)
    gp = gini_mean_difference(_expit(a + b * lp))
    return np.array([2 * auc - 1, auc, r2, a, b, d, u, d - u, brier, g, gp])


def _lrm_recal(lp: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Recalibration ``logit P(y) = a + b lp`` as validate.lrm fits it: ``lrm.fit(lp, y,
    tol = 1e-13)``, stopped by lrm.fit's rule (a, b and log-likelihood where it stops).

    rms uses those coefficients even when lrm.fit has not converged; we then take the exact
    maximum (:func:`_logistic_recal`), which exists or raises ``ConvergenceError``.
    """
    from radiomics_aln.nomogram import _lrm_newton

    X = np.column_stack([np.ones_like(lp), lp])
    try:
        beta, m2ll, _, converged, _ = _lrm_newton(X, y, tol=1e-13)
    except np.linalg.LinAlgError:
        converged = False
    if not converged:
        return _logistic_recal(lp, y)
    return float(beta[0]), float(beta[1]), -m2ll / 2


def _lrm_loglik(lp: np.ndarray, y: np.ndarray) -> float:
    """Log-likelihood of ``lp`` as lrm.fit reports it (linear predictor clipped to [-30, 30])."""
    p = _expit(np.clip(lp, -30.0, 30.0))
    return float(np.sum(np.where(y == 1, np.log(p), np.log1p(-p))))


def _emax(intercept: float, slope: float) -> float:
    """rms ``validate.lrm``'s Emax: max |p - expit(a + b logit p)| over p = 0, 0.0005, ..., 1."""
    p = np.arange(2001) * 5e-4
    with np.errstate(divide="ignore", invalid="ignore"):
        calibrated = _expit(intercept + slope * special.logit(p))
    diff = np.abs(p - calibrated)
    return float(np.nanmax(diff)) if np.isfinite(diff).any() else np.nan


def _check_model(model: Any) -> None:
    for attr in ("predictors_", "candidate_predictors_", "outcome_"):
        if not hasattr(model, attr):
            raise InputError(
                "bootstrap validation needs a fitted LogisticNomogram (fit it on the training "
                "data first)"
            )


# Singularity tolerances of rms's resample fits: validate.lrm's fits get predab.resample's
# tol = 1e-12, calibrate.default's call lrm.fit(..., tol = 1e-13).
_VALIDATE_TOL = 1e-12
_CALIBRATE_TOL = 1e-13


def _refit(
    model: Any, data: pd.DataFrame, y: np.ndarray, repeat_selection: bool, tol: float
) -> Any:
    """``model`` refitted on a resample the way rms refits it (``lrm.fit``'s stopping rule)."""
    est = clone(model)
    if repeat_selection:
        predictors = model.candidate_predictors_
    else:
        est.set_params(selection=None)
        predictors = model.predictors_
        refs = est.get_params().get("reference_levels")
        if refs:
            # reference levels of predictors the selection removed do not apply to the refit
            est.set_params(reference_levels={k: v for k, v in refs.items() if k in predictors})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est._fit(
            data, pd.Series(y, index=data.index, name="y"), predictors, resample_tol=tol
        )


_FAILURES = (InputError, ConvergenceError, np.linalg.LinAlgError)


@dataclass(frozen=True)
class _Failed:
    """A skipped bootstrap resample and why (a short reason, counted in the warning)."""

    reason: str


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, SeparationError):
        return "separation"
    if isinstance(exc, ConvergenceError):
        return "no convergence"
    if isinstance(exc, np.linalg.LinAlgError):
        return "singular fit"
    text = str(exc)
    if "removed every predictor" in text:
        return "every predictor removed"
    if "level" in text:  # single-level predictor, or a level unseen in the resample
        return "a level missing from the resample"
    return "invalid resample"


def _validate_one(
    model: Any,
    data: pd.DataFrame,
    y: np.ndarray,
    idx: np.ndarray,
    repeat_selection: bool,
) -> tuple[np.ndarray, np.ndarray] | _Failed:
    lps = _refit_on_resample(model, data, y, idx, repeat_selection, _VALIDATE_TOL)
    if isinstance(lps, _Failed):
        return lps
    lp_train, lp_test = lps
    try:
        return _indexes(lp_train, y[idx], evalfit=True), _indexes(lp_test, y, evalfit=False)
    except _FAILURES as exc:
        # e.g. a resample model whose linear predictor separates the outcome, so that the
        # recalibration logit P(y) = a + b lp has no finite estimate: skipped like a failed fit
        logger.debug("bootstrap resample not evaluable: %s", exc)
        return _Failed(f"measures not computable ({_failure_reason(exc)})")


def _refit_on_resample(
    model: Any,
    data: pd.DataFrame,
    y: np.ndarray,
    idx: np.ndarray,
    repeat_selection: bool,
    tol: float,
) -> tuple[np.ndarray, np.ndarray] | _Failed:
    """Linear predictors of the model refitted on resample ``idx``: on the resample and on the
    original data; a :class:`_Failed` when the refit fails (the resample is then skipped)."""
    boot = data.iloc[idx]
    try:
        fit = _refit(model, boot, y[idx], repeat_selection, tol)
        return fit.decision_function(boot), fit.decision_function(data)
    except _FAILURES as exc:
        logger.debug("bootstrap resample failed: %s", exc)
        return _Failed(_failure_reason(exc))


def _chunk(func: Any, indices: np.ndarray, *args: Any) -> list[Any]:
    return [func(*args[:3], idx, *args[3:]) for idx in indices]


def _run_resamples(func: Any, indices: np.ndarray, n_jobs: int | None, *args: Any) -> list[Any]:
    """``[func(model, data, y, idx, *rest) for idx in indices]``, in order, possibly parallel.

    Resamples are sent to workers in a few contiguous chunks (fewer pickles of model and data);
    the order of results, hence every number, does not depend on ``n_jobs``.
    """
    workers = effective_n_jobs(n_jobs)
    if workers == 1 or len(indices) == 1:
        return _chunk(func, indices, *args)
    chunks = np.array_split(indices, min(len(indices), 4 * workers))
    parts = Parallel(n_jobs=workers)(delayed(_chunk)(func, c, *args) for c in chunks)
    return [r for part in parts for r in part]


def _check_boot_args(B: Any, random_state: Any, n_jobs: Any) -> tuple[int, np.random.Generator]:
    """B as an int, the generator, after checking ``n_jobs``; each bad value named."""
    # a fractional or boolean B would silently become another number of resamples
    whole = isinstance(B, (int, np.integer)) or (
        isinstance(B, (float, np.floating)) and math.isfinite(B) and float(B).is_integer()
    )
    if isinstance(B, (bool, np.bool_)) or not whole or int(B) < 1:
        raise InputError(
            f"B must be a positive whole number of bootstrap resamples (e.g. 200), got {B!r}"
        )
    if n_jobs is not None and (
        isinstance(n_jobs, (bool, np.bool_))
        or not isinstance(n_jobs, (int, np.integer))
        or n_jobs == 0
    ):
        raise InputError(
            f"n_jobs must be None, a positive number of workers or negative (-1: all cores), "
            f"got {n_jobs!r}"
        )
    try:
        rng = np.random.default_rng(random_state)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"random_state must be None, a non-negative integer or a numpy Generator, got "
            f"{random_state!r} ({exc})"
        ) from None
    return int(B), rng


def _prepare_boot(
    model: Any,
    data: pd.DataFrame,
    outcome_or_y: Any,
    B: int,
    random_state: Any,
    n_jobs: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    _check_model(model)
    from radiomics_aln.nomogram import _prepare_outcome

    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a DataFrame with the model's predictor columns")
    y, _ = _prepare_outcome(data, outcome_or_y)
    B, rng = _check_boot_args(B, random_state, n_jobs)
    # every resample's indices are drawn here, in order, so results do not depend on n_jobs
    indices = rng.integers(0, len(data), size=(B, len(data)))
    return y, indices


def bootstrap_validate(
    model: Any,
    data: pd.DataFrame,
    outcome_or_y: Any,
    B: int = 200,
    *,
    repeat_selection: bool = True,
    random_state: Any = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Bootstrap optimism-corrected performance, as ``rms::validate(fit, B = B)``.

    Parameters
    ----------
    model : LogisticNomogram
        Fitted on ``data``; its parameters (selection, criterion, p_remove, reference levels)
        are reused in every resample.
    data : DataFrame
        The training data the model was fitted on.
    outcome_or_y : str or array-like
        Outcome column or values.
    B : int, default 200
        Bootstrap resamples (papers often use 1000).
    repeat_selection : bool, default True
        Repeat the backward elimination in every resample from all candidate predictors
        (``validate(..., bw = TRUE)``), which is the honest choice when the model was selected
        on these data. False refits the final predictors only.
    random_state : int or Generator, optional
    n_jobs : int, optional
        joblib workers; results are identical for any value.

    Returns
    -------
    DataFrame
        Indexed by the rows of ``rms::validate`` for ``lrm`` -- ``dxy`` (Somers' D), ``auc``
        (= (Dxy + 1) / 2, added), ``r2`` (Nagelkerke), ``intercept``, ``slope``, ``emax``
        (maximal calibration error implied by the corrected intercept and slope), ``d``
        (discrimination index), ``u`` (unreliability index), ``q`` (quality index, d - u),
        ``brier`` (rms ``B``), ``g`` (g-index: Gini's mean difference of the linear predictor)
        and ``gp`` (of the predicted probabilities); columns ``apparent`` (model on its
        training data), ``training`` (mean over resamples of the resample model on its
        resample), ``test`` (mean of the resample model on the original data), ``optimism``
        (= training - test), ``corrected`` (= apparent - optimism), ``n`` (successful
        resamples).

    Notes
    -----
    Harrell's bootstrap (Efron's optimism estimate), as ``rms::predab.resample`` with
    ``validate.lrm``'s measures: intercept and slope are those of ``logit P(y) = a + b lp``
    (0 and 1 on the fitting data), Brier is ``mean((y - expit(lp))^2)``, D = (LR - 1) / n,
    U = -2 / n on the fitting data and (deviance of ``lp`` - deviance of the recalibration - 2)
    / n on the original data, Q = D - U, g and gp are Gini's mean differences
    (:func:`gini_mean_difference`) of ``b lp`` and ``expit(a + b lp)``, and Emax is the largest
    ``|p - expit(a + b logit p)|`` over p = 0, 0.0005, ..., 1 with the corrected a and b.
    Every cell equals ``rms::validate(fit, B)`` given the same resamples (tested with the
    resamples R drew: to 7e-8 relative on birthwt, to 2e-11 on a case with a sparse factor
    level). Each resample is refitted as rms refits it, with ``lrm.fit``'s stopping rule
    (:func:`~radiomics_aln.nomogram.fit_logistic_lrm`): a resample with quasi-separation (a
    level without events) gives a large finite coefficient and is kept, as rms keeps it.
    Resamples whose fit fails (no convergence in 11 iterations, a singular information matrix
    such as a level absent, every predictor removed) are skipped and counted, as rms does. The
    resampling indices come
    from ``numpy.random.default_rng(random_state)`` (so not the rows R's ``set.seed`` would
    draw) and are drawn before any work is distributed.

    References
    ----------
    Harrell FE, Lee KL, Mark DB. Multivariable prognostic models. Stat Med 1996;15:361-87.
    Efron B, Tibshirani R. An Introduction to the Bootstrap. Chapman & Hall, 1993 (ch. 17).
    """
    y, indices = _prepare_boot(model, data, outcome_or_y, B, random_state, n_jobs)
    return _validate_with(model, data, y, indices, repeat_selection, n_jobs)


def _validate_with(
    model: Any,
    data: pd.DataFrame,
    y: np.ndarray,
    indices: np.ndarray,
    repeat_selection: bool,
    n_jobs: int | None,
) -> pd.DataFrame:
    """:func:`bootstrap_validate` on given resamples (rows ``indices[i]``, 0-based)."""
    apparent = _indexes(model.decision_function(data), y, evalfit=True)
    results = _run_resamples(_validate_one, indices, n_jobs, model, data, y, repeat_selection)
    train_m, test_m, n_ok = _mean_over_resamples(results)
    opt = train_m - test_m
    table = pd.DataFrame(
        {
            "apparent": apparent,
            "training": train_m,
            "test": test_m,
            "optimism": opt,
            "corrected": apparent - opt,
            "n": n_ok,
        },
        index=pd.Index(_RESAMPLED, name="index"),
    )
    # Emax as rms: from the corrected calibration intercept and slope, in the test, optimism
    # and corrected columns (0 where the model is evaluated on its own data).
    emax = _emax(table.at["intercept", "corrected"], table.at["slope", "corrected"])
    table.loc["emax"] = [0.0, 0.0, emax, emax, emax, table.at["dxy", "n"]]
    table = table.reindex(pd.Index(_INDEXES, name="index"))
    table["n"] = table["n"].astype(n_ok.dtype)
    return table


def _mean_over_resamples(
    results: list[tuple[np.ndarray, np.ndarray] | _Failed],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean training and test values over the resamples that fitted, per index or grid point.

    Resamples that failed (:class:`_Failed`) are skipped with a warning that counts the
    reasons; a NaN value (an index that cannot be computed on one resample) is left out of
    that element's mean only.
    """
    ok = [r for r in results if not isinstance(r, _Failed)]
    n_fail = len(results) - len(ok)
    if n_fail:
        reasons = pd.Series([r.reason for r in results if isinstance(r, _Failed)]).value_counts()
        detail = ", ".join(f"{k}: {v}" for k, v in reasons.items())
        hint = (
            "; skipped resamples are the most optimistic ones, so the optimism is "
            "underestimated -- Firth's penalty (penalty='firth') keeps them"
            # resamples refitted by lrm.fit's rule fail to converge when they separate
            if {"separation", "no convergence"} & set(reasons.index)
            else ""
        )
        warnings.warn(
            f"{n_fail} of {len(results)} bootstrap resamples failed to fit and were skipped "
            f"({detail}){hint}",
            StatisticalWarning,
            stacklevel=3,
        )
    if not ok:
        raise ConvergenceError("every bootstrap resample failed to fit")
    train = np.array([r[0] for r in ok])
    test = np.array([r[1] for r in ok])
    valid = ~np.isnan(train + test)
    n_ok = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        train_m = np.where(valid, train, 0).sum(axis=0) / n_ok
        test_m = np.where(valid, test, 0).sum(axis=0) / n_ok
    return train_m, test_m, n_ok


def _cal_error(lp: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``rms::calibrate``'s ``cal.error``: lowess(iter = 0) of y on p, read at ``grid``."""
    p = _expit(lp)
    sx, sy = lowess(p, y, it=0)
    return _approx(sx, sy, grid, ties="first") - grid


def _calibrate_one(
    model: Any,
    data: pd.DataFrame,
    y: np.ndarray,
    idx: np.ndarray,
    repeat_selection: bool,
    grid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | _Failed:
    lps = _refit_on_resample(model, data, y, idx, repeat_selection, _CALIBRATE_TOL)
    if isinstance(lps, _Failed):
        return lps
    lp_train, lp_test = lps
    return _cal_error(lp_train, y[idx], grid), _cal_error(lp_test, y, grid)


def bootstrap_calibrate(
    model: Any,
    data: pd.DataFrame,
    outcome_or_y: Any,
    B: int = 200,
    *,
    predicted: Sequence[float] | None = None,
    repeat_selection: bool = True,
    random_state: Any = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Bias-corrected calibration curve, as ``rms::calibrate(fit, B = B)``.

    Parameters
    ----------
    model, data, outcome_or_y, B, repeat_selection, random_state, n_jobs
        As :func:`bootstrap_validate`.
    predicted : sequence of float, optional
        Predicted probabilities at which to evaluate the curve. Default as rms: 50 equally
        spaced values from the 5th smallest to the 5th largest apparent prediction.

    Returns
    -------
    DataFrame
        ``predicted``, ``calibrated_apparent`` (lowess of y on the apparent predictions),
        ``calibrated_corrected`` (= apparent - optimism), ``mean_training``, ``mean_test``
        (mean calibration errors ``smooth - predicted`` of the resample models on their
        resample and on the original data), ``optimism``, ``n`` (resamples contributing at
        that point; a point outside a resample's prediction range contributes nothing).

    Notes
    -----
    Follows ``rms::calibrate.default`` (``smoother = "lowess"``, ``iter = 0``, values read by
    ``approx`` with the first of tied predictions; resamples refitted and skipped as in
    :func:`bootstrap_validate`, with calibrate's singularity tolerance 1e-13); equal to it
    given the same resamples (tested to 1e-12 on a case with a sparse factor level). The mean absolute error of the corrected
    curve is ``mean(|calibrated_corrected - predicted|)``.

    References
    ----------
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015, section 10.11.
    """
    y, indices = _prepare_boot(model, data, outcome_or_y, B, random_state, n_jobs)
    return _calibrate_with(model, data, y, indices, repeat_selection, n_jobs, predicted)


def _calibrate_with(
    model: Any,
    data: pd.DataFrame,
    y: np.ndarray,
    indices: np.ndarray,
    repeat_selection: bool,
    n_jobs: int | None,
    predicted: Sequence[float] | None,
) -> pd.DataFrame:
    """:func:`bootstrap_calibrate` on given resamples (rows ``indices[i]``, 0-based)."""
    lp = model.decision_function(data)
    p_app = np.sort(_expit(lp))
    n = p_app.size
    if predicted is None:
        if n < 11:
            raise InputError("need more than 10 cases for the default `predicted` grid")
        grid = np.linspace(p_app[4], p_app[n - 5], 50)
    else:
        grid = check_probabilities(np.asarray(predicted, dtype=float), "predicted")
    orig_err = _cal_error(lp, y, grid)
    results = _run_resamples(
        _calibrate_one, indices, n_jobs, model, data, y, repeat_selection, grid
    )
    train_m, test_m, n_ok = _mean_over_resamples(results)
    opt = train_m - test_m
    cal = orig_err + grid
    if np.isnan(cal).any():
        logger.info(
            "apparent calibration undefined at %s", format_items(np.round(grid[np.isnan(cal)], 3))
        )
    return pd.DataFrame(
        {
            "predicted": grid,
            "calibrated_apparent": cal,
            "calibrated_corrected": cal - opt,
            "mean_training": train_m,
            "mean_test": test_m,
            "optimism": opt,
            "n": n_ok,
        }
    )
