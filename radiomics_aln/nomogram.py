"""Logistic nomogram: univariate screen, backward stepwise model, rms-style points.

The clinical-radiomics model of a nomogram paper is a multivariable logistic regression of the
endpoint on a few scores and clinical factors. This module fits it the way a statistician does in
R with ``glm``/``rms::lrm``, draws the nomogram the way ``rms::nomogram`` does, and keeps what a
paper reports: the univariate table (:func:`univariate_logistic`), the final model with its
elimination steps, the points scale, and the Youden cutoff on probability and on Nomo-score.

Calibration statistics (Hosmer-Lemeshow, ``val.prob``, bootstrap ``validate``/``calibrate``)
live in :mod:`radiomics_aln.calibration`.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special, stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from radiomics_aln._collation import r_sorted
from radiomics_aln._validation import check_binary, check_probabilities, format_items
from radiomics_aln.exceptions import (
    ConvergenceError,
    InputError,
    SeparationError,
    SmallSampleWarning,
    StatisticalWarning,
)
from radiomics_aln.io import (
    ANY,
    BOOL,
    CUTOFF,
    INT,
    NUM,
    NUM_OR_NULL,
    SCALAR,
    STR,
    ListOf,
    MapOf,
    Record,
    dump_model,
    load_model,
    number,
    rebuilding,
)
from radiomics_aln.metrics import youden_threshold

__all__ = [
    "LogisticNomogram",
    "LogitFit",
    "fit_logistic",
    "fit_logistic_lrm",
    "r_pretty",
    "univariate_logistic",
]

logger = logging.getLogger(__name__)

_Z975 = stats.norm.ppf(0.975)


# --------------------------------------------------------------------------------------------
# R's pretty(): the tick values rms::nomogram uses for continuous axes
# --------------------------------------------------------------------------------------------
def r_pretty(lo: float, up: float, n: int = 5) -> np.ndarray:
    """Equally spaced "round" values covering ``[lo, up]``, exactly as R's ``pretty(c(lo, up), n)``.

    A port of ``R_pretty`` (R 4.2, ``src/appl/pretty.c``) with R's defaults
    ``min.n = n %/% 3``, ``shrink.sml = 0.75``, ``high.u.bias = 1.5``, ``u5.bias = 2.75``.

    Examples
    --------
    >>> r_pretty(80, 250, 10).tolist()  # R: pretty(c(80, 250), 10)
    [80.0, 100.0, 120.0, 140.0, 160.0, 180.0, 200.0, 220.0, 240.0, 260.0]
    """
    lo, up = float(min(lo, up)), float(max(lo, up))
    h, h5 = 1.5, 0.5 + 1.5 * 1.5
    min_n = n // 3
    eps = 1e-10
    dx = up - lo
    if dx == 0 and up == 0:
        cell, i_small = 1.0, True
    else:
        cell = max(abs(lo), abs(up))
        u = 1 + (1 / (1 + h) if h5 >= 1.5 * h + 0.5 else 1.5 / (1 + h5))
        u *= max(1, n) * np.finfo(float).eps
        i_small = dx < cell * u * 3
    if i_small:
        if cell > 10:
            cell = 9 + cell / 10
        cell *= 0.75
        if min_n > 1:
            cell /= min_n
    else:
        cell = dx
        if n > 1:
            cell /= n
    base = 10.0 ** math.floor(math.log10(cell))
    unit = base
    if 2 * base - cell < h * (cell - unit):
        unit = 2 * base
        if 5 * base - cell < h5 * (cell - unit):
            unit = 5 * base
            if 10 * base - cell < h * (cell - unit):
                unit = 10 * base
    ns = math.floor(lo / unit + eps)
    nu = math.ceil(up / unit - eps)
    while ns * unit > lo + eps * unit:
        ns -= 1
    while nu * unit < up - eps * unit:
        nu += 1
    k = int(0.5 + nu - ns)
    if k < min_n:
        k = min_n - k
        if ns >= 0:
            nu += k // 2
            ns -= k // 2 + k % 2
        else:
            ns -= k // 2
            nu += k // 2 + k % 2
        ndiv = min_n
    else:
        ndiv = k
    out = np.linspace(ns * unit, nu * unit, ndiv + 1)
    if ndiv:
        delta = (nu - ns) * unit / ndiv
        out[np.abs(out) < 1e-14 * delta] = 0.0
    return out


# --------------------------------------------------------------------------------------------
# Design: one term per predictor, categorical ones dummy-coded against a reference level
# --------------------------------------------------------------------------------------------
@dataclass
class _Term:
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
    def from_dict(cls, d: Mapping[str, Any]) -> _Term:
        return cls(d["name"], d["kind"], list(d["levels"]), d["reference"])


def _is_categorical(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def _check_missing(data: pd.DataFrame, predictors: Sequence[str], what: str) -> None:
    parts = []
    for name in predictors:
        col = data[name]
        bad = col.isna().to_numpy().copy()
        if not _is_categorical(col):
            bad |= ~np.isfinite(pd.to_numeric(col, errors="coerce").to_numpy(dtype=float))
        if bad.any():
            parts.append(f"`{name}` in rows {format_items(data.index[bad], 5)}")
    if parts:
        raise InputError(f"{what} has missing or non-finite predictor values: " + "; ".join(parts))


def _make_terms(
    data: pd.DataFrame, predictors: Sequence[str], reference_levels: Mapping[str, Any] | None
) -> list[_Term]:
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
        if _is_categorical(col):
            if isinstance(col.dtype, pd.CategoricalDtype):
                present = set(col.astype(str))
                levels = [str(c) for c in col.cat.categories if str(c) in present]
            else:
                # R's factor() order (locale collation), not code points: see _collation
                levels = r_sorted(pd.unique(col.astype(str)))
            if len(levels) < 2:
                raise InputError(
                    f"predictor `{name}` has a single level ({format_items(levels)}); "
                    "it cannot be estimated"
                )
            ref = reference_levels.get(name, levels[0])
            ref = str(ref)
            if ref not in levels:
                raise InputError(
                    f"reference level {ref!r} of `{name}` is not among its levels "
                    f"({format_items(levels)})"
                )
            levels = [ref] + [lev for lev in levels if lev != ref]
            terms.append(_Term(name, "categorical", levels, ref))
        else:
            if name in reference_levels:
                raise InputError(
                    f"reference_levels given for numeric predictor `{name}`; convert it to "
                    "a string or categorical column to dummy-code it"
                )
            values = pd.to_numeric(col).to_numpy(dtype=float)
            if np.unique(values).size < 2:
                raise InputError(
                    f"predictor `{name}` has a single level ({values[0]!r} in every row); "
                    "it cannot be estimated"
                )
            terms.append(_Term(name, "continuous"))
    return terms


def _design(data: pd.DataFrame, terms: Sequence[_Term], what: str = "data") -> np.ndarray:
    """Model matrix with a leading intercept column."""
    missing = [t.name for t in terms if t.name not in data.columns]
    if missing:
        raise InputError(f"{what} lacks predictor column(s): {format_items(missing)}")
    _check_missing(data, [t.name for t in terms], what)
    cols = [np.ones(len(data))]
    for t in terms:
        col = data[t.name]
        if t.kind == "continuous":
            if _is_categorical(col):
                raise InputError(f"predictor `{t.name}` was numeric in fit but is not in {what}")
            cols.append(pd.to_numeric(col).to_numpy(dtype=float))
        else:
            values = col.astype(str).to_numpy()
            unseen = ~np.isin(values, t.levels)
            if unseen.any():
                raise InputError(
                    f"predictor `{t.name}` in {what} has level(s) "
                    f"{format_items(sorted(set(values[unseen])))} not seen in fit "
                    f"(rows {format_items(data.index[unseen], 5)}); known levels: "
                    f"{format_items(t.levels)}"
                )
            for lev in t.levels[1:]:
                cols.append((values == lev).astype(float))
    return np.column_stack(cols)


# --------------------------------------------------------------------------------------------
# Maximum-likelihood logistic regression (Newton-Raphson) with separation diagnostics
# --------------------------------------------------------------------------------------------
@dataclass
class LogitFit:
    """Result of :func:`fit_logistic` (coefficients with the intercept first)."""

    coef: np.ndarray
    cov: np.ndarray
    loglik: float
    n_iter: int
    columns: list[str]
    penalized_loglik: float | None = None  # Firth fits: loglik + log|I(b)| / 2
    design: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.coef.size


def _loglik(eta: np.ndarray, y: np.ndarray) -> float:
    # log(1 + exp(eta)) computed stably
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def _separating_columns(X: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Konis' (2007) linear program: a direction b with (2y-1) X b >= 0 for all rows.

    Returns a boolean mask of the columns with infinite maximum-likelihood estimates, or None when
    the data are not separated. This is the check of ``detectseparation::detect_separation``.
    """
    s = (2 * y - 1)[:, None] * X
    scale = np.maximum(np.abs(X).max(axis=0), 1e-12)
    a = s / scale
    res = optimize.linprog(
        -a.sum(axis=0),
        A_ub=-a,
        b_ub=np.zeros(a.shape[0]),
        bounds=[(-1, 1)] * a.shape[1],
        method="highs",
    )
    if res.status != 0 or -res.fun <= 1e-7 * a.shape[0]:
        return None
    b = res.x
    return np.abs(b) > 1e-7


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    columns: Sequence[str],
    *,
    max_iter: int = 100,
    tol: float = 1e-12,
    check_rank: bool = True,
    penalty: str | None = None,
) -> LogitFit:
    """Maximum-likelihood logistic regression by Newton-Raphson with step halving.

    ``X`` includes the intercept column; ``check_rank=False`` skips the collinearity check
    (for column subsets of a matrix already checked). Converged when the largest Newton step is below ``tol``
    relative to the coefficients, so estimates agree with R's ``glm`` to its own tolerance and the
    covariance is the inverse information at the final estimate.

    ``penalty="firth"`` maximises Firth's penalised likelihood ``l(b) + log|I(b)| / 2`` instead
    (see :func:`_fit_firth`): finite estimates even under separation, no SeparationError.

    Raises
    ------
    InputError
        If columns are collinear (the model matrix is rank deficient).
    SeparationError
        If the data are (quasi-)completely separated; names the predictor(s).
    ConvergenceError
        If the iterations do not converge for another reason.
    """
    columns = list(columns)
    n, k = X.shape
    rank = k
    if check_rank:
        # cheap screen on the column-scaled Gram matrix; the SVD decides only in doubtful cases
        g = X.T @ X
        d = np.sqrt(np.diag(g))
        d[d == 0] = 1.0
        ev = np.linalg.eigvalsh(g / np.outer(d, d))
        if not ev[0] > 1e-10 * ev[-1]:
            rank = np.linalg.matrix_rank(X)
    if rank < k:
        _, _, piv = linalg.qr(X, mode="economic", pivoting=True)
        aliased = [columns[j] for j in piv[rank:]]
        raise InputError(
            f"the model matrix is rank deficient: {format_items(aliased)} "
            "is a linear combination of the other predictors (collinear or too few cases)"
        )
    if penalty == "firth":
        return _fit_firth(X, y, columns, max_iter=max_iter, tol=tol)
    if penalty is not None:
        raise InputError(f"penalty must be None or 'firth', got {penalty!r}")
    ybar = y.mean()
    beta = np.zeros(k)
    beta[0] = math.log(ybar / (1 - ybar))
    eta = X @ beta
    ll = _loglik(eta, y)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is reported after the loop
        p = special.expit(eta)
        w = p * (1 - p)
        info = X.T @ (X * w[:, None])
        grad = X.T @ (y - p)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, grad, rcond=None)[0]
        t = 1.0
        for _ in range(30):
            new = beta + t * step
            new_eta = X @ new
            new_ll = _loglik(new_eta, y)
            if new_ll >= ll - 1e-12 * abs(ll):
                break
            t /= 2
        beta, eta, ll = new, new_eta, new_ll
        if np.max(np.abs(t * step) / (np.abs(beta) + 1e-3)) < tol or (
            np.max(np.abs(t * step)) < tol
        ):
            converged = True
            break
    p = special.expit(eta)
    extreme = np.any((p < 1e-8) | (p > 1 - 1e-8))
    if extreme or not converged:
        sep = _separating_columns(X, y)
        if sep is not None:
            names = [c for c, s in zip(columns, sep, strict=True) if s and c != "(Intercept)"]
            raise SeparationError(
                "complete or quasi-complete separation: the outcome is perfectly predicted by "
                f"{format_items(names) if names else 'a combination of the predictors'}; the "
                "maximum-likelihood estimate is infinite. Remove or merge the predictor/level, "
                "or use Firth's penalized likelihood (penalty='firth')"
            )
    if not converged:
        big = [c for c, b in zip(columns, beta, strict=True) if abs(b) > 10 and c != "(Intercept)"]
        raise ConvergenceError(
            f"logistic regression did not converge in {max_iter} iterations"
            + (f"; diverging coefficient(s): {format_items(big)}" if big else "")
        )
    w = p * (1 - p)
    info = X.T @ (X * w[:, None])
    cov = np.linalg.inv(info)
    cov = (cov + cov.T) / 2
    return LogitFit(beta, cov, _loglik(eta, y), it, columns)


# --------------------------------------------------------------------------------------------
# rms lrm.fit's Newton-Raphson, for bootstrap resample refits (rms::validate / calibrate)
# --------------------------------------------------------------------------------------------
def _linpack_rank(a: np.ndarray, tol: float) -> int:
    """Rank of ``a`` as R's ``qr(a, tol)`` decides it (LINPACK ``dqrdc2``, limited pivoting).

    Householder QR in which a column whose remaining norm has fallen below ``tol`` times its
    original norm is moved to the end and not counted; rms declares an information matrix
    singular by this rule (``solvet``, and the Newton step of ``lrm.fit``).
    """
    x = np.array(a, dtype=float)
    n, p = x.shape
    norm = np.linalg.norm(x, axis=0)  # running norm of each column's unreduced part
    orig = np.where(norm == 0, 1.0, norm)
    k = p  # columns not (yet) found negligible
    for j in range(min(n, p)):
        while j < k and norm[j] < orig[j] * tol:
            # negligible: rotate column j to the end and count one column fewer
            order = [*range(j), *range(j + 1, p), j]
            x, norm, orig = x[:, order], norm[order], orig[order]
            k -= 1
        if j == n - 1:
            break
        v = x[j:, j].copy()
        nrm = float(np.linalg.norm(v))
        if nrm == 0:
            continue
        if v[0] != 0:
            nrm = math.copysign(nrm, v[0])
        v /= nrm
        v[0] += 1.0
        for c in range(j + 1, p):
            x[j:, c] -= (v @ x[j:, c]) / v[0] * v
            if norm[c] != 0:
                shrink = max(1.0 - (abs(x[j, c]) / norm[c]) ** 2, 0.0)
                # a large reduction is recomputed, not updated (R's 1999 fix of dqrdc)
                if shrink >= 1e-6:
                    norm[c] *= math.sqrt(shrink)
                else:
                    norm[c] = float(np.linalg.norm(x[j + 1 :, c]))
        x[j, j] = -nrm
    return min(k, n)


def _lrm_state(
    X: np.ndarray, y: np.ndarray, beta: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """-2 log-likelihood, score and information at ``beta`` as lrm.fit's Fortran computes them:
    probabilities from the linear predictor clipped to [-30, 30]."""
    p = 1.0 / (1.0 + np.exp(-np.clip(X @ beta, -30.0, 30.0)))
    m2ll = -2.0 * float(np.sum(np.where(y == 1, np.log(p), np.log1p(-p))))
    w = p * (1.0 - p)
    return m2ll, X.T @ (y - p), X.T @ (X * w[:, None])


def fit_logistic_lrm(
    X: np.ndarray,
    y: np.ndarray,
    columns: Sequence[str],
    *,
    maxit: int = 12,
    eps: float = 0.025,
    tol: float = 1e-12,
) -> LogitFit:
    """Logistic regression that stops where ``rms::lrm.fit`` (rms 6.5) stops.

    Used for bootstrap resample refits so that :func:`~radiomics_aln.calibration.bootstrap_validate`
    keeps exactly the resamples ``rms::validate`` keeps. lrm.fit starts at the intercept-only
    estimate and takes Newton steps; it stops (converged) when the -2 log-likelihood changed by
    at most ``eps`` since the previous step -- after taking one more step -- or when the score is
    below 1e-9 and -2LL changed by less than ``eps / 10``. A step that raises -2LL is halved
    (counted as an iteration). After ``maxit - 1`` iterations without convergence the fit has
    failed. Probabilities use the linear predictor clipped to [-30, 30]. Under quasi-separation
    (e.g. a factor level without events) the -2LL changes shrink geometrically as the
    coefficient grows, so lrm.fit converges with a large finite coefficient (about -7 for a
    level of a few patients) instead of failing.

    Raises
    ------
    ConvergenceError
        Not converged in ``maxit - 1`` iterations (lrm.fit's ``fail = TRUE``).
    numpy.linalg.LinAlgError
        The information matrix is singular by R's ``qr(tol = tol)`` rank rule, at a Newton step
        or at the estimate (lrm.fit's "singular information matrix"; ``solvet``'s "apparently
        singular matrix").

    Examples
    --------
    >>> X = np.column_stack([np.ones(6), [0, 0, 1, 1, 1, 1]])
    >>> y = np.array([0, 0, 1, 0, 1, 1])  # level 0 has no events: the MLE is infinite
    >>> fit_logistic_lrm(X, y, ["(Intercept)", "b"]).coef.round(3)  # R: -7.202, 8.300
    array([-7.202,  8.3  ])
    """
    beta, m2ll, info, converged, it = _lrm_newton(X, y, maxit=maxit, eps=eps, tol=tol)
    if not converged:
        raise ConvergenceError(f"logistic regression did not converge in {maxit - 1} iterations")
    if _linpack_rank(info, tol) < X.shape[1]:
        raise np.linalg.LinAlgError("information matrix at the estimate is singular")
    cov = np.linalg.inv(info)
    return LogitFit(beta, (cov + cov.T) / 2, -m2ll / 2, it, list(columns))


def _lrm_newton(
    X: np.ndarray, y: np.ndarray, *, maxit: int = 12, eps: float = 0.025, tol: float = 1e-12
) -> tuple[np.ndarray, float, np.ndarray, bool, int]:
    """lrm.fit's iterations (see :func:`fit_logistic_lrm`): the coefficients where it stops,
    -2LL and information there, whether it converged, the iterations used. Raises
    ``LinAlgError`` when a Newton step meets a singular information matrix."""
    k = X.shape[1]
    ybar = float(np.mean(y))
    beta = np.zeros(k)
    beta[0] = math.log(ybar / (1 - ybar))
    delta = np.zeros(k)
    old = 1e30
    step = 1.0
    converged = maxit <= 2  # lrm.fit only flags non-convergence when maxit > 2
    it = 0
    for it in range(1, maxit):  # noqa: B007 - `it` is reported after the loop
        m2ll, score, info = _lrm_state(X, y, beta)
        if np.max(np.abs(score)) < 1e-9 and abs(m2ll - old) < 0.1 * eps:
            converged = True
            break
        if m2ll > old:
            step /= 2  # back off half of the remaining step; the Newton step is kept
            beta = beta - step * delta
            continue
        step = 1.0
        if _linpack_rank(info, tol) < k:
            raise np.linalg.LinAlgError("singular information matrix in the Newton step")
        delta = np.linalg.solve(info, score)
        beta = beta + delta
        if abs(old - m2ll) <= eps:
            converged = True
            break
        old = m2ll
    m2ll, _, info = _lrm_state(X, y, beta)
    return beta, m2ll, info, converged, it


def _firth_state(X: np.ndarray, y: np.ndarray, beta: np.ndarray):
    """Penalised log-likelihood, modified score, inverse information and information at
    ``beta`` (score and matrices None where the information is singular)."""
    eta = X @ beta
    p = special.expit(eta)
    w = p * (1 - p)
    info = X.T @ (X * w[:, None])
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0:
        return -np.inf, None, None, None
    inv = np.linalg.inv(info)
    h = w * np.einsum("ij,jk,ik->i", X, inv, X)  # leverages of the weighted hat matrix
    score = X.T @ (y - p + h * (0.5 - p))
    return _loglik(eta, y) + 0.5 * logdet, score, inv, info


def _firth_halving(X: np.ndarray, y: np.ndarray, beta: np.ndarray, step: np.ndarray, pll: float):
    """``beta + t step`` with t halved until the penalised likelihood does not decrease;
    (beta, pll, score, inv, info, t), or None when 30 halvings do not get there."""
    t = 1.0
    for _ in range(30):
        new = beta + t * step
        new_pll, new_score, new_inv, new_info = _firth_state(X, y, new)
        if new_score is not None and new_pll >= pll - 1e-12 * abs(pll):
            return new, new_pll, new_score, new_inv, new_info, t
        t /= 2
    return None


def _firth_newton(
    X: np.ndarray, y: np.ndarray, beta: np.ndarray, free: np.ndarray, max_iter: int = 100
):
    """Newton's method on the modified score of the ``free`` coefficients, with its exact
    Jacobian taken by central differences; converges quadratically where Fisher scoring crawls.
    Returns (beta, pll, score, inv, converged)."""
    pll, score, inv, _ = _firth_state(X, y, beta)
    idx = np.flatnonzero(free)
    for _ in range(max_iter):
        hess = np.empty((idx.size, idx.size))
        for col, j in enumerate(idx):
            h = 1e-6 * max(1.0, abs(beta[j]))
            e = np.zeros(beta.size)
            e[j] = h
            up = _firth_state(X, y, beta + e)[1]
            down = _firth_state(X, y, beta - e)[1]
            if up is None or down is None:
                return beta, pll, score, inv, False
            hess[:, col] = (up[idx] - down[idx]) / (2 * h)
        hess = (hess + hess.T) / 2  # the Hessian of the penalised log-likelihood is symmetric
        try:
            step = np.zeros(beta.size)
            step[idx] = -np.linalg.solve(hess, score[idx])
        except np.linalg.LinAlgError:
            return beta, pll, score, inv, False
        moved = _firth_halving(X, y, beta, step, pll)
        if moved is None:
            return beta, pll, score, inv, False
        beta, pll, score, inv, _, t = moved
        if np.max(np.abs(t * step) / (np.abs(beta) + 1e-3)) < 1e-12:
            return beta, pll, score, inv, True
    return beta, pll, score, inv, False


def _firth_maximize(
    X: np.ndarray,
    y: np.ndarray,
    beta: np.ndarray,
    free: np.ndarray,
    *,
    max_iter: int = 100,
    tol: float = 1e-12,
):
    """Maximise the penalised likelihood over the ``free`` coefficients, the others held at
    their values in ``beta`` (all free: the Firth fit; some fixed: a profile or a penalised
    likelihood-ratio test, with the penalty of the full model as ``logistf`` uses).

    Fisher-scoring steps ``I_ff^-1 U*_f`` (each coefficient's step capped at 5, as logistf),
    halved until the penalised likelihood does not decrease; Newton with the exact Jacobian
    finishes if they crawl. Returns (beta, pll, score, inv, n_iter, converged)."""
    beta = np.asarray(beta, dtype=float).copy()
    idx = np.flatnonzero(free)
    pll, score, inv, info = _firth_state(X, y, beta)
    if inv is None:
        return beta, pll, score, inv, 0, False
    converged, it = False, 0
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is reported after the loop
        step = np.zeros(beta.size)
        if idx.size == beta.size:
            step = inv @ score
        else:
            step[idx] = np.linalg.solve(info[np.ix_(idx, idx)], score[idx])
        big = np.max(np.abs(step))
        if big > 5:
            step *= 5 / big
        moved = _firth_halving(X, y, beta, step, pll)
        if moved is None:
            break
        beta, pll, score, inv, info, t = moved
        if np.max(np.abs(t * step)) < tol or np.max(np.abs(score[idx])) < tol:
            converged = True
            break
    if not converged and inv is not None:
        beta, pll, score, inv, converged = _firth_newton(X, y, beta, free)
    return beta, pll, score, inv, it, converged


def _fit_firth(
    X: np.ndarray, y: np.ndarray, columns: list[str], *, max_iter: int, tol: float
) -> LogitFit:
    """Firth's (1993) penalised maximum likelihood for logistic regression.

    Maximises ``l(b) + log|I(b)| / 2`` (Jeffreys prior) by Fisher-scoring steps on Firth's
    modified score ``X'(y - p + h (1/2 - p))``, ``h`` the leverages of
    ``W^(1/2) X (X'WX)^-1 X' W^(1/2)``, as ``logistf`` and ``brglm2`` do (see
    :func:`_firth_maximize`). Those steps ignore the penalty's own curvature, so on (nearly)
    separated data -- the case Firth is used for -- they can converge only linearly; Newton's
    method with the score's exact Jacobian (by central differences) then finishes. Estimates
    exist and are finite under (quasi-)complete separation. The covariance is ``I(b)^-1`` at the
    estimate, as in ``logistf`` and ``brglm2``.
    """
    free = np.ones(X.shape[1], dtype=bool)
    beta, pll, _, inv, it, converged = _firth_maximize(
        X, y, np.zeros(X.shape[1]), free, max_iter=max_iter, tol=tol
    )
    if not converged or inv is None:
        raise ConvergenceError(
            f"Firth's penalized logistic regression did not converge in {max_iter} iterations"
        )
    cov = (inv + inv.T) / 2
    return LogitFit(beta, cov, _loglik(X @ beta, y), it, list(columns), pll, design=(X, y))


_CHI2_95 = float(stats.chi2.ppf(0.95, 1))


def _firth_restricted(
    X: np.ndarray,
    y: np.ndarray,
    start: np.ndarray,
    fixed: Sequence[int],
    values: Any,
    depth: int = 0,
) -> tuple[np.ndarray, float]:
    """Maximum of the penalised likelihood with ``coef[fixed] = values``, from ``start`` (a
    maximum with other values of the same coefficients). When the scoring steps cannot get
    there in one go, walk the fixed coefficients there in smaller steps, each starting from
    the previous maximum (continuation). Returns (beta, pll)."""
    fixed = list(fixed)
    free = np.ones(X.shape[1], dtype=bool)
    free[fixed] = False
    begin = start.copy()
    begin[fixed] = values
    beta, pll, *_, converged = _firth_maximize(X, y, begin, free)
    if converged:
        return beta, pll
    if depth == 3:
        raise ConvergenceError("a restricted penalised-likelihood fit did not converge")
    here = start[fixed].copy()
    for w in (0.25, 0.5, 0.75, 1.0):
        start, pll = _firth_restricted(
            X, y, start, fixed, here + w * (np.asarray(values) - here), depth + 1
        )
    return start, pll


def _firth_plr(fit: LogitFit, fixed: Sequence[int]) -> tuple[float, float]:
    """Penalised likelihood-ratio test of ``coef[fixed] = 0`` (logistf's test): (chi2, p)."""
    X, y = fit.design
    _, pll = _firth_restricted(X, y, fit.coef, fixed, 0.0)
    chi2 = max(2 * (fit.penalized_loglik - pll), 0.0)
    return chi2, float(stats.chi2.sf(chi2, len(fixed)))


def _firth_profile_ci(fit: LogitFit, j: int, level_chi2: float = _CHI2_95) -> tuple[float, float]:
    """Profile penalised-likelihood interval of ``coef[j]`` (logistf's default interval):
    the values b with 2 (pll_max - max pll given coef[j] = b) <= chi2_1(0.95)."""
    X, y = fit.design
    target = fit.penalized_loglik - level_chi2 / 2
    se = float(np.sqrt(fit.cov[j, j]))
    warm = {"beta": fit.coef.copy()}  # the last profile maximum: the next one's start

    def excess(b: float) -> float:
        beta, pll = _firth_restricted(X, y, warm["beta"], [j], b)
        warm["beta"] = beta
        return pll - target

    limits = []
    for sign in (-1.0, 1.0):
        warm["beta"] = fit.coef.copy()
        inner, f_inner, step = float(fit.coef[j]), level_chi2 / 2, se
        outer = inner + sign * step
        for _ in range(60):
            f_outer = excess(outer)
            if f_outer < 0:
                break
            inner, f_inner, step = outer, f_outer, step * 1.5
            outer = inner + sign * step
        else:
            limits.append(sign * np.inf)  # the profile never falls that low: an open interval
            continue
        limits.append(_root_in_bracket(excess, inner, f_inner, outer, f_outer))
    return limits[0], limits[1]


def _root_in_bracket(f: Any, a: float, fa: float, b: float, fb: float) -> float:
    """Root of ``f`` between ``a`` (``fa > 0``) and ``b`` (``fb < 0``) by the Illinois variant of
    regula falsi, keeping the bracket from the values already known (a profile evaluated again
    from another start can differ in the last digits, which would upset a fresh sign check)."""
    for _ in range(200):
        c = b - fb * (b - a) / (fb - fa)
        if not min(a, b) < c < max(a, b):
            c = (a + b) / 2
        fc = f(c)
        if abs(b - a) < 1e-11 * max(1.0, abs(c)) or fc == 0:
            return float(c)
        if (fc > 0) == (fa > 0):
            a, fa = c, fc
            fb /= 2  # Illinois: halve the stale end's value so the bracket shrinks from both sides
        else:
            b, fb = c, fc
            fa /= 2
    return float((a + b) / 2)


def _prepare_outcome(
    data: pd.DataFrame, outcome_or_y: Any, what: str = "data"
) -> tuple[np.ndarray, str]:
    if isinstance(outcome_or_y, str):
        if outcome_or_y not in data.columns:
            raise InputError(f"outcome column `{outcome_or_y}` is not in {what}")
        return check_binary(data[outcome_or_y], outcome_or_y), outcome_or_y
    if outcome_or_y is None:
        raise InputError("an outcome is required: a column name of `data` or the 0/1 values")
    y = outcome_or_y if isinstance(outcome_or_y, pd.Series) else np.asarray(outcome_or_y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if len(y) != len(data):
        raise InputError(f"outcome has {len(y)} values but {what} has {len(data)} rows")
    name = getattr(y, "name", None) or "y"
    if isinstance(y, pd.Series):
        y = y.to_numpy()
    return check_binary(pd.Series(np.asarray(y), index=data.index), str(name)), str(name)


def _as_frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    arr = np.asarray(data)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"data must be a DataFrame or a 2-D array, got shape {arr.shape}")
    return pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])


def _coef_table(fit: LogitFit, terms: Sequence[_Term] | None = None) -> pd.DataFrame:
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
        "or_ci_low": np.exp(fit.coef - _Z975 * se),
        "or_ci_high": np.exp(fit.coef + _Z975 * se),
    }
    return pd.DataFrame(cols)


def _term_wald(fit: LogitFit, terms: Sequence[_Term]) -> pd.DataFrame:
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


def _term_plr(fit: LogitFit, terms: Sequence[_Term]) -> pd.DataFrame:
    """Penalised likelihood-ratio test per predictor (all its columns jointly) of a Firth fit,
    as ``logistf``'s ``drop1``; same columns as :func:`_term_wald`."""
    rows = []
    j = 1
    for t in terms:
        k = len(t.columns)
        chi2, p = _firth_plr(fit, list(range(j, j + k)))
        rows.append({"predictor": t.name, "chi2": chi2, "df": k, "p_value": p})
        j += k
    return pd.DataFrame(rows)


def _firth_table(fit: LogitFit, terms: Sequence[_Term] | None = None) -> pd.DataFrame:
    """:func:`_coef_table` of a Firth fit with ``logistf``'s default inference: ``p_value``
    from the penalised likelihood-ratio test of each coefficient and the odds-ratio interval
    from the profile penalised likelihood (``se`` and ``z`` stay Wald's)."""
    table = _coef_table(fit, terms)
    low, high, pval = [], [], []
    for j in range(fit.coef.size):
        lo, hi = _firth_profile_ci(fit, j)
        low.append(lo)
        high.append(hi)
        pval.append(_firth_plr(fit, [j])[1])
    table["p_value"] = pval
    table["or_ci_low"] = np.exp(low)
    table["or_ci_high"] = np.exp(high)
    return table


# --------------------------------------------------------------------------------------------
# Univariate screen
# --------------------------------------------------------------------------------------------
def univariate_logistic(
    data: pd.DataFrame,
    outcome: str,
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
    outcome : str
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
        :class:`LogisticNomogram`), finite under separation; ``p_value``/``p_overall`` are
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
    Each row equals ``summary(glm(outcome ~ predictor, binomial))`` and
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
    missing = [c for c in [outcome, *predictors] if c not in data.columns]
    if missing:
        raise InputError(f"data lacks column(s): {format_items(missing)}")
    if separation not in ("raise", "report"):
        raise InputError(f"separation must be 'raise' or 'report', got {separation!r}")
    y = check_binary(data[outcome], outcome)
    rows = []
    not_estimable = []
    for name in predictors:
        ref = (
            {name: reference_levels[name]} if reference_levels and name in reference_levels else {}
        )
        terms = _make_terms(data, [name], ref)
        X = _design(data, terms)
        t = terms[0]
        try:
            fit = fit_logistic(X, y, ["(Intercept)", *t.columns], penalty=penalty)
        except SeparationError as exc:
            if separation == "raise":
                raise
            note = str(exc).splitlines()[0]
            not_estimable.append(name)
            untested = _NO_ESTIMATE | {"p_overall": np.nan, "note": note}
            for i, counts in enumerate(_count_rows(name, t, data, y)):
                reference = t.kind != "continuous" and i == 0
                rows.append(counts | untested | ({"odds_ratio": 1.0} if reference else {}))
            continue
        if penalty == "firth":  # logistf's inference: profile intervals, PLR tests
            tab = _firth_table(fit).iloc[1:]
            wald = _term_plr(fit, terms)
        else:
            tab = _coef_table(fit).iloc[1:]
            wald = _term_wald(fit, terms)
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


# --------------------------------------------------------------------------------------------
# The nomogram estimator
# --------------------------------------------------------------------------------------------
class LogisticNomogram(ClassifierMixin, BaseEstimator):
    """Multivariable logistic model with optional backward elimination and an rms nomogram.

    Parameters
    ----------
    selection : {None, "backward"}
        None keeps every predictor; "backward" removes predictors one at a time, refitting the
        model after each removal (see Notes).
    p_remove : float, default 0.05
        With ``criterion="p"``: a predictor is removed while its Wald p-value (all its dummy
        columns jointly) is above ``p_remove``.
    criterion : {"p", "aic"}
        Removal rule of backward elimination.
    penalty : {None, "firth"}
        None: maximum likelihood (R ``glm``). ``"firth"``: Firth's penalised likelihood
        ``l(b) + log|I(b)| / 2`` (R ``logistf``; equal to ``brglm2``'s ``brglmFit`` with
        ``type = "AS_mean"``), which gives finite, less biased estimates in small samples and
        under (quasi-)complete separation, where maximum likelihood has none. Inference is
        ``logistf``'s default: ``summary``'s ``p_value`` is the penalised likelihood-ratio test
        of each coefficient and ``or_ci_low``/``or_ci_high`` the profile penalised-likelihood
        interval (Heinze & Schemper 2002); ``se`` and ``z`` are Wald's (``I(b)^-1`` at the
        estimate, as ``brglm2`` reports). Backward elimination (``criterion="p"``) removes
        predictors by penalised likelihood-ratio tests.
    reference_levels : mapping, optional
        ``{predictor: level}`` for categorical predictors (default: first category / first in
        sorted order, as R's ``factor``). Entries for columns that are not predictors are
        ignored, so one mapping can serve several models.
    maxscale : float, default 100
        Points of the predictor with the widest range (``rms::nomogram(maxscale=)``).
    nint : int, default 10
        Number of intervals of the ``pretty`` axes (``rms::nomogram(nint=)``).

    Attributes
    ----------
    coef_ : Series
        Coefficients by model column (``age``, ``race[black]``, ...), without the intercept.
    intercept_ : float
    cov_ : DataFrame
        Covariance of all coefficients (intercept first), inverse information at the estimate.
    predictors_ : list of str
        Predictors in the final model; ``candidate_predictors_`` those offered to ``fit``.
    summary : DataFrame
        Final model: ``term``, ``predictor``, ``level``, ``beta``, ``se``, ``z``, ``p_value``,
        ``odds_ratio``, ``or_ci_low``, ``or_ci_high``.
    elimination_steps_ : DataFrame
        One row per fitted model of the backward elimination: ``step``, ``predictors`` (model at
        that step), ``removed`` (None for the final model), ``chi2``, ``df``, ``p_value`` (Wald
        test of the removed predictor), ``aic`` (of the model at that step), ``aic_after``.
    step_coefficients_ : DataFrame
        The coefficient table (columns of ``summary``) of every model fitted along the
        elimination, with a leading ``step`` column matching ``elimination_steps_``.
    youden_cutoff_, youden_points_cutoff_ : float
        Youden-optimal cutoff on training probability (``metrics.youden_threshold``: pROC's
        midpoint convention, ties towards higher sensitivity) and the same cutoff in total
        points.
    youden_sensitivity_, youden_specificity_ : float
    loglik_, aic_, n_, n_events_, c_index_ : fit statistics on the training data (``c_index_``
        is the apparent AUC; see ``calibration.bootstrap_validate`` for its optimism). With
        ``penalty="firth"``, ``loglik_`` and ``aic_`` are the ordinary log-likelihood and AIC
        at the penalised estimates (as ``brglm2`` reports them).
    predictor_ranges_ : dict
        Training ``(min, max)`` of each continuous predictor in the model; values outside it
        are extrapolations of the linear effect.
    lp_range_ : tuple
        Training range of the linear predictor.

    Notes
    -----
    *Backward elimination.* Starting from all candidates, the model is refitted by maximum
    likelihood after every removal. With ``criterion="p"`` the predictor with the largest Wald
    p-value is removed if that p exceeds ``p_remove`` (SPSS "Backward: Wald"; R: ``drop1``-style
    loop with Wald tests). With ``criterion="aic"`` the predictor whose removal lowers AIC the most
    is removed while AIC decreases (R ``step(fit, direction = "backward")``, which also refits).
    ``rms::fastbw`` differs: it fits the full model once and approximates each reduced model from
    the full estimate and covariance (Lawless & Singhal 1978), so it never refits; results agree
    when the predictors are nearly uncorrelated and can differ otherwise.

    *Points* follow ``rms::nomogram`` (rms 6.5): each continuous predictor's axis runs over
    ``pretty(range(x), nint)`` of the training data (all distinct values if it has at most 10,
    as ``datadist``), a categorical one over its levels; the contribution ``beta * x`` is shifted
    so its minimum on the axis is 0 and every contribution is multiplied by
    ``sc = maxscale / max(range of beta * x)``. Total points ``T`` and linear predictor ``lp``
    are related by ``lp = T / sc + b0 + sum(min contributions)``. Values outside an axis'
    range extrapolate linearly (points can be negative or above ``maxscale``).

    References
    ----------
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015 (ch. 4.3, 10).
    Hosmer DW, Lemeshow S, Sturdivant RX. Applied Logistic Regression, 3rd ed. Wiley, 2013.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"score": rng.normal(size=200), "size_mm": rng.uniform(5, 40, 200)})
    >>> df["margin"] = np.where(rng.random(200) < 0.4, "spiculated", "smooth")
    >>> lp = -2 + 1.5 * df.score + 0.05 * df.size_mm + 0.8 * (df.margin == "spiculated")
    >>> df["aln"] = (rng.random(200) < 1 / (1 + np.exp(-lp))).astype(int)
    >>> nomo = LogisticNomogram(selection="backward").fit(df, "aln", ["score", "size_mm", "margin"])
    >>> nomo.predictors_  # margin removed: Wald p > 0.05
    ['score', 'size_mm']
    >>> nomo.predict_proba(df.head(2))[:, 1].round(3)
    array([0.357, 0.387])
    >>> round(nomo.youden_cutoff_, 3), round(nomo.youden_points_cutoff_, 1)
    (0.47, 62.2)
    """

    def __init__(
        self,
        selection: str | None = None,
        p_remove: float = 0.05,
        criterion: str = "p",
        reference_levels: Mapping[str, Any] | None = None,
        maxscale: float = 100.0,
        nint: int = 10,
        penalty: str | None = None,
    ) -> None:
        self.selection = selection
        self.p_remove = p_remove
        self.criterion = criterion
        self.reference_levels = reference_levels
        self.maxscale = maxscale
        self.nint = nint
        self.penalty = penalty

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # a binary endpoint only: sklearn's common checks then use 0/1-like targets
        tags.classifier_tags.multi_class = False
        return tags

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        if self.selection not in (None, "backward"):
            raise InputError(f"selection must be None or 'backward', got {self.selection!r}")
        if self.criterion not in ("p", "aic"):
            raise InputError(f"criterion must be 'p' or 'aic', got {self.criterion!r}")
        if self.penalty not in (None, "firth"):
            raise InputError(f"penalty must be None or 'firth', got {self.penalty!r}")
        if self.penalty == "firth" and self.selection == "backward" and self.criterion == "aic":
            raise InputError(
                "criterion='aic' compares ordinary likelihoods, which Firth's penalised fits do "
                "not maximise; use criterion='p' (penalised likelihood-ratio tests) with "
                "penalty='firth'"
            )
        if not 0 < float(self.p_remove) < 1:
            raise InputError(f"p_remove must be in (0, 1), got {self.p_remove!r}")
        if not float(self.maxscale) > 0:
            raise InputError(f"maxscale must be positive, got {self.maxscale!r}")
        if int(self.nint) < 1:
            raise InputError(f"nint must be a positive integer, got {self.nint!r}")

    def fit(
        self,
        data: Any,
        outcome_or_y: Any,
        predictors: Sequence[str] | None = None,
    ) -> LogisticNomogram:
        """Fit on the training cohort.

        Parameters
        ----------
        data : DataFrame (or 2-D array)
            Training cases; may contain other columns.
        outcome_or_y : str or array-like
            Name of the 0/1 outcome column in ``data``, or the outcome values.
        predictors : sequence of str, optional
            Candidate predictors; default every column except the outcome.

        Raises
        ------
        InputError
            Outcome not 0/1, missing values (rows named), single-level predictors, collinearity,
            backward elimination removing every predictor.
        SeparationError, ConvergenceError
            The maximum-likelihood fit does not exist or does not converge (predictors named);
            ``penalty="firth"`` has finite estimates under separation.

        Warns
        -----
        SmallSampleWarning
            Fewer than 10 events (of the rarer outcome) per candidate coefficient.
        """
        return self._fit(data, outcome_or_y, predictors)

    def _fit(
        self,
        data: Any,
        outcome_or_y: Any,
        predictors: Sequence[str] | None,
        *,
        resample_tol: float | None = None,
    ) -> LogisticNomogram:
        """:meth:`fit`; ``resample_tol`` given (a bootstrap resample refit): maximum-likelihood
        models are fitted by :func:`fit_logistic_lrm` with that singularity tolerance, so a
        resample is kept or dropped exactly as rms's ``predab.resample`` does."""
        self._check_params()
        data = _as_frame(data)
        y, outcome = _prepare_outcome(data, outcome_or_y)
        if predictors is None:
            predictors = [c for c in data.columns if c != outcome]
        predictors = [str(p) for p in predictors]
        if not predictors:
            raise InputError("no predictors given")
        dup = sorted({p for p in predictors if predictors.count(p) > 1})
        if dup:
            raise InputError(f"predictors listed twice: {format_items(dup)}")
        missing = [c for c in predictors if c not in data.columns]
        if missing:
            raise InputError(f"data lacks predictor column(s): {format_items(missing)}")
        if outcome in predictors:
            raise InputError(f"the outcome `{outcome}` is also listed as a predictor")
        _check_missing(data, predictors, "training data")
        all_terms = _make_terms(data, predictors, self.reference_levels)
        n_coef = sum(len(t.columns) for t in all_terms)
        events = int(min(y.sum(), len(y) - y.sum()))
        epv = events / n_coef
        if epv < 10:
            warnings.warn(
                f"events per variable (EPV) = {epv:.1f} < 10: {events} events of the rarer "
                f"outcome for {n_coef} candidate coefficient(s); estimates may be unstable and "
                "optimistic (Peduzzi et al. 1996)",
                SmallSampleWarning,
                stacklevel=3,  # the caller of fit()
            )
        terms, final_fit, steps = self._select(data, y, all_terms, resample_tol)
        self.outcome_ = outcome
        self.candidate_predictors_ = predictors
        self.predictors_ = [t.name for t in terms]
        self._terms = terms
        self.terms_ = {t.name: t.to_dict() for t in terms}
        self.intercept_ = float(final_fit.coef[0])
        self.coef_ = pd.Series(final_fit.coef[1:], index=final_fit.columns[1:], name="beta")
        self.cov_ = pd.DataFrame(final_fit.cov, index=final_fit.columns, columns=final_fit.columns)
        self.loglik_ = final_fit.loglik
        self.aic_ = final_fit.aic
        self.n_ = len(y)
        self.n_events_ = int(y.sum())
        self.classes_ = np.array([0, 1])
        self.elimination_steps_ = steps
        coefs = self._step_coefficients
        self.step_coefficients_ = coefs[["step", *[c for c in coefs.columns if c != "step"]]]
        self.n_features_in_ = len(predictors)
        # Firth: logistf's profile intervals and PLR tests, computed when first asked for
        # (bootstrap refits never need them)
        self._summary = None if self.penalty == "firth" else _coef_table(final_fit, terms)
        self._final_fit = final_fit
        X_final = _design(data, terms)
        self._setup_points(data, X=X_final, coef=final_fit.coef)
        lp = self._lp_from_design(X_final)
        prob = special.expit(lp)
        # pROC's convention (midpoint between observed probabilities, p >= cutoff is positive,
        # ties towards higher sensitivity), shared with radiomics_aln.metrics
        self.c_index_ = float(roc_auc_score(y, prob))
        yc = youden_threshold(y, prob, convention="midpoint", direction="<")
        self.youden_cutoff_ = float(yc.threshold)
        self.youden_sensitivity_ = float(yc.sensitivity)
        self.youden_specificity_ = float(yc.specificity)
        if 0 < self.youden_cutoff_ < 1:
            self.youden_points_cutoff_ = float(self.probability_to_points(self.youden_cutoff_))
        else:  # no discrimination at all: every or no patient is high risk
            self.youden_points_cutoff_ = math.copysign(math.inf, self.youden_cutoff_ - 0.5)
        logger.info(
            "nomogram fitted on %d cases (%d events): %s", self.n_, self.n_events_, self.predictors_
        )
        return self

    def _select(
        self,
        data: pd.DataFrame,
        y: np.ndarray,
        all_terms: list[_Term],
        resample_tol: float | None = None,
    ) -> tuple[list[_Term], LogitFit, pd.DataFrame]:
        # one model matrix for all candidates; every model of the elimination uses a subset of
        # its columns, so the collinearity check is done once, on the full matrix
        X_full = _design(data, all_terms)
        positions: dict[str, list[int]] = {}
        j = 1
        for t in all_terms:
            positions[t.name] = list(range(j, j + len(t.columns)))
            j += len(t.columns)
        full_cols = ["(Intercept)"] + [c for t in all_terms for c in t.columns]
        first = True

        def fit_terms(terms: list[_Term]) -> LogitFit:
            nonlocal first
            idx = [0] + [i for t in terms for i in positions[t.name]]
            if resample_tol is not None and self.penalty is None:
                # as lrm.fit: large finite coefficients under quasi-separation, singularity
                # judged on the information matrix (no separate collinearity check)
                return fit_logistic_lrm(
                    X_full[:, idx], y, [full_cols[i] for i in idx], tol=resample_tol
                )
            out = fit_logistic(
                X_full[:, idx],
                y,
                [full_cols[i] for i in idx],
                check_rank=first,
                penalty=self.penalty,
            )
            first = False
            return out

        terms = list(all_terms)
        fit = fit_terms(terms)
        rows: list[dict[str, Any]] = []
        tables: list[pd.DataFrame] = []
        step = 0
        while self.selection == "backward":
            # Firth fits are tested as logistf does, by penalised likelihood ratios
            wald = _term_plr(fit, terms) if self.penalty == "firth" else _term_wald(fit, terms)
            if self.criterion == "p":
                i = int(np.argmax(wald["p_value"].to_numpy()))
                if wald["p_value"].iloc[i] <= self.p_remove:
                    break
                reduced_terms = [t for j, t in enumerate(terms) if j != i]
                reduced = fit_terms(reduced_terms) if reduced_terms else None
            else:
                best_aic, i, reduced, reduced_terms = np.inf, -1, None, []
                for j in range(len(terms)):
                    cand_terms = [t for k, t in enumerate(terms) if k != j]
                    if cand_terms:
                        cand = fit_terms(cand_terms)
                        cand_aic = cand.aic
                    else:
                        ll0 = _loglik(np.full(len(y), math.log(y.mean() / (1 - y.mean()))), y)
                        cand, cand_aic = None, -2 * ll0 + 2
                    if cand_aic < best_aic - 1e-10:
                        best_aic, i, reduced, reduced_terms = cand_aic, j, cand, cand_terms
                if not best_aic < fit.aic - 1e-10:
                    break
            step += 1
            w = wald.iloc[i]
            rows.append(
                {
                    "step": step,
                    "predictors": ", ".join(t.name for t in terms),
                    "removed": terms[i].name,
                    "chi2": float(w["chi2"]),
                    "df": int(w["df"]),
                    "p_value": float(w["p_value"]),
                    "aic": fit.aic,
                    "aic_after": (reduced.aic if reduced is not None else np.nan),
                }
            )
            if not reduced_terms:
                raise InputError(
                    "backward elimination removed every predictor (none has "
                    + (f"p <= {self.p_remove}" if self.criterion == "p" else "an AIC benefit")
                    + "); there is no model to draw as a nomogram. Candidates: "
                    + format_items(t.name for t in all_terms)
                )
            tables.append(_coef_table(fit, terms).assign(step=step))
            terms, fit = reduced_terms, reduced
        tables.append(_coef_table(fit, terms).assign(step=step + 1))
        self._step_coefficients = pd.concat(tables, ignore_index=True)
        rows.append(
            {
                "step": step + 1,
                "predictors": ", ".join(t.name for t in terms),
                "removed": None,
                "chi2": np.nan,
                "df": np.nan,
                "p_value": np.nan,
                "aic": fit.aic,
                "aic_after": np.nan,
            }
        )
        return terms, fit, pd.DataFrame(rows)

    # ------------------------------------------------------------------ points (rms::nomogram)
    def _setup_points(self, data: pd.DataFrame, X: np.ndarray, coef: np.ndarray) -> None:
        axes: dict[str, dict[str, Any]] = {}
        j = 1
        nint = int(self.nint)
        for t in self._terms:
            k = len(t.columns)
            b = coef[j : j + k]
            if t.kind == "categorical":
                values: list[Any] = list(t.levels)
                contrib = np.concatenate([[0.0], b])
                discrete = True
            else:
                x = pd.to_numeric(data[t.name]).to_numpy(dtype=float)
                u = np.unique(x)
                # datadist keeps every distinct value of a variable with <= 10 of them (n.unique)
                if u.size <= 10:
                    vals, discrete = u, True
                else:
                    vals, discrete = r_pretty(u[0], u[-1], nint), False
                values = [float(v) for v in vals]
                contrib = b[0] * np.asarray(vals)
            axes[t.name] = {
                "values": values,
                "contrib": [float(c) for c in contrib],
                "discrete": discrete,
                "kind": t.kind,
            }
            j += k
        widths = {n: max(a["contrib"]) - min(a["contrib"]) for n, a in axes.items()}
        if not max(widths.values()) > 1e-10:  # log-odds units: no effect at all
            raise InputError(
                "every coefficient of the model is 0 (predictors "
                f"{format_items(axes)} carry no information about the outcome); a nomogram "
                "has no points scale"
            )
        sc = float(self.maxscale) / max(widths.values())
        mins = {n: min(a["contrib"]) for n, a in axes.items()}
        for n, a in axes.items():
            a["points"] = [(c - mins[n]) * sc for c in a["contrib"]]
            a["min_contrib"] = mins[n]
        self.points_scale_ = sc
        self.points_intercept_ = float(coef[0] + sum(mins.values()))
        self._axes = axes
        lp_train = X @ coef
        lp_at = r_pretty(lp_train.min(), lp_train.max(), nint)
        entities = len(axes)
        sum_max = (
            float(self.maxscale)
            if entities == 1
            else max(float(self.maxscale), sc * float(np.max(lp_at - self.points_intercept_)))
        )
        self.lp_range_ = (float(lp_train.min()), float(lp_train.max()))
        self.predictor_ranges_ = {
            t.name: (float(data[t.name].min()), float(data[t.name].max()))
            for t in self._terms
            if t.kind == "continuous"
        }
        self._lp_at = lp_at
        self._total_ticks = r_pretty(0, sum_max, nint)

    def _lp_from_design(self, X: np.ndarray) -> np.ndarray:
        return self.intercept_ + X[:, 1:] @ self.coef_.to_numpy()

    def _frame(self, data: Any) -> pd.DataFrame:
        check_is_fitted(self, "coef_")
        return _as_frame(data)

    def decision_function(self, data: Any) -> np.ndarray:
        """Linear predictor ``b0 + x'b`` (log-odds) for each row of ``data``."""
        data = self._frame(data)
        return self._lp_from_design(_design(data, self._terms))

    def predict_proba(self, data: Any) -> np.ndarray:
        """Predicted probabilities, shape (n, 2): columns P(y = 0), P(y = 1)."""
        p = special.expit(self.decision_function(data))
        return np.column_stack([1 - p, p])

    def predict(self, data: Any) -> np.ndarray:
        """0/1 prediction at the training Youden cutoff on probability."""
        return (self.predict_proba(data)[:, 1] >= self.youden_cutoff_).astype(int)

    def risk_group(self, data: Any) -> pd.Series:
        """``"high"`` / ``"low"`` risk by the training Youden cutoff, for any cohort."""
        data = self._frame(data)
        p = self.predict_proba(data)[:, 1]
        grp = np.where(p >= self.youden_cutoff_, "high", "low")
        return pd.Series(
            pd.Categorical(grp, categories=["low", "high"]), index=data.index, name="risk_group"
        )

    def points(self, data: Any, *, by_predictor: bool = False) -> pd.Series | pd.DataFrame:
        """Nomogram total points (Nomo-score) per row, or the points of each predictor.

        ``sum(points) = (lp - points_intercept_) * points_scale_``, so the Nomo-score is a
        monotone transform of the predicted probability.
        """
        data = self._frame(data)
        X = _design(data, self._terms)
        cols = {}
        j = 1
        coef = self.coef_.to_numpy()
        for t in self._terms:
            k = len(t.columns)
            contrib = X[:, j : j + k] @ coef[j - 1 : j - 1 + k]
            cols[t.name] = (contrib - self._axes[t.name]["min_contrib"]) * self.points_scale_
            j += k
        out = pd.DataFrame(cols, index=data.index)
        if by_predictor:
            out["total_points"] = out.sum(axis=1)
            return out
        return out.sum(axis=1).rename("nomo_score")

    def points_to_probability(self, points: Any) -> np.ndarray:
        """Probability for total points: ``expit(points / sc + intercept)``."""
        check_is_fitted(self, "coef_")
        lp = np.asarray(points, dtype=float) / self.points_scale_ + self.points_intercept_
        return special.expit(lp)

    def probability_to_points(self, p: Any) -> np.ndarray:
        """Total points giving probability ``p`` (inverse of :meth:`points_to_probability`)."""
        check_is_fitted(self, "coef_")
        p = check_probabilities(np.atleast_1d(p), "p", open_interval=True)
        out = (np.log(p / (1 - p)) - self.points_intercept_) * self.points_scale_
        return out if out.size > 1 else out[0]

    def points_table(self) -> pd.DataFrame:
        """Predictor values and their points, as printed on the nomogram's axes.

        Returns
        -------
        DataFrame
            ``predictor``, ``value`` (level label or number), ``points``, ``discrete``.
        """
        check_is_fitted(self, "coef_")
        rows = []
        for name, a in self._axes.items():
            for v, pts in zip(a["values"], a["points"], strict=True):
                rows.append(
                    {"predictor": name, "value": v, "points": pts, "discrete": a["discrete"]}
                )
        return pd.DataFrame(rows)

    def total_points_table(self, probabilities: Sequence[float] | None = None) -> pd.DataFrame:
        """Total-points axis and probability axis of the nomogram.

        Parameters
        ----------
        probabilities : sequence of float, optional
            Probability ticks (``rms::nomogram(fun.at=)``). Default as rms:
            ``pretty(plogis(range(lp.at)), nint)`` where ``lp.at = pretty(range(training lp))``,
            keeping ticks inside ``lp.at``.

        Returns
        -------
        DataFrame
            ``axis`` ("total_points" or "probability"), ``value`` (points or probability),
            ``total_points`` (position on the total-points scale), ``linear_predictor``.

        Notes
        -----
        rms places probability ticks by linear interpolation of ``plogis`` on a 1000-point grid
        of the linear predictor; we invert ``plogis`` exactly. Positions agree to ~1e-7 points.
        """
        check_is_fitted(self, "coef_")
        lo, hi = float(np.min(self._lp_at)), float(np.max(self._lp_at))
        if probabilities is None:
            probs = r_pretty(1 / (1 + math.exp(-lo)), 1 / (1 + math.exp(-hi)), int(self.nint))
        else:
            probs = np.asarray(probabilities, dtype=float)
        probs = probs[(probs > 0) & (probs < 1)]
        lp = np.log(probs / (1 - probs))
        keep = (lp >= lo - 1e-12) & (lp <= hi + 1e-12)
        probs, lp = probs[keep], lp[keep]
        tp = self._total_ticks
        return pd.concat(
            [
                pd.DataFrame(
                    {
                        "axis": "total_points",
                        "value": tp,
                        "total_points": tp,
                        "linear_predictor": tp / self.points_scale_ + self.points_intercept_,
                    }
                ),
                pd.DataFrame(
                    {
                        "axis": "probability",
                        "value": probs,
                        "total_points": (lp - self.points_intercept_) * self.points_scale_,
                        "linear_predictor": lp,
                    }
                ),
            ],
            ignore_index=True,
        )

    # ------------------------------------------------------------------ reporting
    @property
    def summary(self) -> pd.DataFrame:
        """Final model coefficients (see class docstring); unrounded."""
        check_is_fitted(self, "coef_")
        if self._summary is None:
            self._summary = _firth_table(self._final_fit, self._terms)
        return self._summary.copy()

    def print_summary(self, decimals: int = 3) -> None:
        """Print the model, fit statistics, elimination steps and nomogram cutoffs."""
        check_is_fitted(self, "coef_")
        lines = [
            "<radiomics_aln.LogisticNomogram>",
            f"outcome = {self.outcome_}   n = {self.n_}   events = {self.n_events_}",
            f"selection = {self.selection}"
            + (
                f" (criterion = {self.criterion}, p_remove = {self.p_remove})"
                if self.selection
                else ""
            ),
            f"log-likelihood = {self.loglik_:.{decimals}f}   AIC = {self.aic_:.{decimals}f}   "
            f"C (apparent AUC) = {self.c_index_:.{decimals}f}",
            "",
            self.summary.to_string(index=False, float_format=lambda v: f"{v:.{decimals}f}"),
        ]
        if self.selection:
            lines += [
                "",
                "Elimination steps:",
                self.elimination_steps_.to_string(
                    index=False, float_format=lambda v: f"{v:.{decimals}f}"
                ),
            ]
        lines += [
            "",
            f"Youden cutoff: probability {self.youden_cutoff_:.{decimals}f} = "
            f"{self.youden_points_cutoff_:.1f} points "
            f"(sensitivity {self.youden_sensitivity_:.{decimals}f}, "
            f"specificity {self.youden_specificity_:.{decimals}f})",
        ]
        print("\n".join(lines))  # noqa: T201 - printing is this method's purpose

    # ------------------------------------------------------------------ plotting
    def plot_nomogram(
        self,
        ax: Any = None,
        *,
        probabilities: Sequence[float] | None = None,
        show_lp: bool = False,
        labels: Mapping[str, str] | None = None,
        risk_label: str = "Risk",
        **kwargs: Any,
    ) -> Any:
        """Draw the classic nomogram: Points, one axis per predictor, Total Points, Risk.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        probabilities : sequence of float, optional
            Probability ticks (see :meth:`total_points_table`).
        show_lp : bool
            Also draw the linear-predictor axis.
        labels : mapping, optional
            Display names of predictors.
        risk_label : str
            Name of the probability axis, e.g. "Risk of ALN metastasis".
        **kwargs
            Passed to the axis lines (``ax.plot``), e.g. ``color``, ``lw``.

        Returns
        -------
        matplotlib Axes

        Notes
        -----
        Tick positions are exactly those of :meth:`points_table` and :meth:`total_points_table`;
        only the labels are laid out for the axes' size. Labels are measured as rendered, and
        where they would collide a numeric axis labels every k-th tick (as R's ``axis()``
        drops colliding labels in ``rms::plot.nomogram``), keeping round values and the ends;
        a factor's levels are all named, alternating above/below as rms does, or moved aside
        on leader lines. Draw on a larger axes (or pass fewer ``probabilities``) to label more
        ticks. Font sizes follow the row height (tick labels 6-8 pt).
        """
        import matplotlib.pyplot as plt

        check_is_fitted(self, "coef_")
        if ax is None:
            ax = plt.gca()
        labels = dict(labels or {})
        line_kw = {"color": "black", "lw": 1.0} | kwargs
        rows: list[tuple[str, list[float], list[str]]] = []
        pts_ticks = r_pretty(0, float(self.maxscale), int(self.nint))
        rows.append(("Points", list(pts_ticks), [_fmt(v) for v in pts_ticks]))
        for name, a in self._axes.items():
            rows.append((labels.get(name, name), a["points"], [_fmt(v) for v in a["values"]]))
        tab = self.total_points_table(probabilities)
        tot = tab[tab.axis == "total_points"]
        new_max = float(tot["value"].max())
        # the total-points axis is drawn compressed onto the width of the points axis, as rms
        shrink = float(self.maxscale) / new_max
        rows.append(
            ("Total Points", list(tot["total_points"] * shrink), [_fmt(v) for v in tot["value"]])
        )
        if show_lp:
            lp_ticks = [v for v in self._lp_at]
            rows.append(
                (
                    "Linear Predictor",
                    [(v - self.points_intercept_) * self.points_scale_ * shrink for v in lp_ticks],
                    [_fmt(v) for v in lp_ticks],
                )
            )
        pr = tab[tab.axis == "probability"]
        rows.append((risk_label, list(pr["total_points"] * shrink), [_fmt(v) for v in pr["value"]]))
        discrete = [False] + [bool(a["discrete"]) for a in self._axes.values()]
        discrete += [False] * (len(rows) - len(discrete))
        ms = float(self.maxscale)
        fig = ax.figure
        renderer = _renderer(fig)
        box = ax.get_window_extent(renderer)
        width_px, height_px = max(box.width, 1.0), max(box.height, 1.0)
        # tick labels shrink with the row height (rows closer than ~3 text heights would make the
        # labels of neighbouring rows touch), but never below 6 pt, which stays legible in print
        row_pt = height_px / (len(rows) + 0.3) * 72 / fig.dpi
        tick_fs = float(np.clip(0.3 * row_pt, 6.0, 8.0))
        name_fs = float(np.clip(0.4 * row_pt, 7.0, 10.0))
        # leave room left of the axes for the longest row name instead of letting it spill out
        name_px = max(_text_px(renderer, fig, r[0], name_fs) for r in rows)
        # names end half a tick label (plus a little) left of 0, so a label centred on the
        # first tick never runs into its row's name
        first = [t for _, _, texts in rows for t in texts[:1] + texts[-1:]]
        gap_px = 0.5 * max(_text_px(renderer, fig, t, tick_fs) for t in first) + 0.01 * width_px
        right = 1.05 * ms
        frac = min((name_px + gap_px) / width_px, 0.6)
        left = min(-0.3 * ms, -frac * right / (1 - frac))
        ax.set_xlim(left, right)
        ax.set_ylim(-len(rows) + 0.5, 0.8)
        per_px = (right - left) / width_px  # data units per pixel
        gap = gap_px * per_px
        # minimum gap between neighbouring labels: half a digit
        pad = 0.5 * _text_px(renderer, fig, "0", tick_fs) * per_px
        for i, (label, xs, texts) in enumerate(rows):
            yv = -i
            if len(xs) == 0:
                continue
            ax.plot([min(xs), max(xs)], [yv, yv], **line_kw)
            widths = [_text_px(renderer, fig, t, tick_fs) * per_px for t in texts]
            sides, at = _label_sides(
                np.asarray(xs, dtype=float), np.asarray(widths), pad, discrete[i], texts
            )
            drawn: list[float] = [float(x) for x, sd in zip(xs, sides, strict=True) if sd]
            for xv, lx, txt, side in zip(xs, at, texts, sides, strict=True):
                sgn = -1.0 if side == "below" else 1.0
                if side is None:
                    # an unlabelled tick closer than 3 px to another only blackens the axis
                    if any(abs(xv - d) < 3 * per_px for d in drawn):
                        continue
                    drawn.append(float(xv))
                ax.plot([xv, xv], [yv, yv + 0.12 * sgn], **line_kw)
                if side is None:
                    continue
                va = "top" if side == "below" else "bottom"
                ty = yv + 0.18 * sgn
                if abs(lx - xv) > 0.5 * per_px:  # label moved aside: a leader line to its tick
                    ty = yv + 0.34 * sgn
                    leader = line_kw | {"lw": 0.5 * float(line_kw.get("lw", 1.0))}
                    ax.plot([xv, lx], [yv + 0.12 * sgn, yv + 0.3 * sgn], **leader)
                ax.text(lx, ty, txt, ha="center", va=va, fontsize=tick_fs)
            ax.text(-gap, yv, label, ha="right", va="center", fontsize=name_fs)
        ax.axis("off")
        return ax

    def plot_calibration(
        self, data: Any, outcome_or_y: Any, ax: Any = None, n_groups: int = 10, **kwargs: Any
    ) -> Any:
        """Calibration plot of this model on ``data`` (see :func:`calibration.plot_calibration`)."""
        from radiomics_aln.calibration import plot_calibration

        data = self._frame(data)
        y, _ = _prepare_outcome(data, outcome_or_y)
        return plot_calibration(
            y, self.predict_proba(data)[:, 1], ax=ax, n_groups=n_groups, **kwargs
        )

    # ------------------------------------------------------------------ persistence
    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """Serialize the fitted nomogram (coefficients, levels, axes, scale, cutoff) as JSON."""
        check_is_fitted(self, "coef_")
        state = {
            "outcome": self.outcome_,
            "candidate_predictors": self.candidate_predictors_,
            "terms": [t.to_dict() for t in self._terms],
            "intercept": self.intercept_,
            "coef": {"names": list(self.coef_.index), "values": self.coef_.to_numpy()},
            "cov": self.cov_.to_numpy(),
            "loglik": self.loglik_,
            "aic": self.aic_,
            "c_index": self.c_index_,
            "n": self.n_,
            "n_events": self.n_events_,
            "axes": self._axes,
            "points_scale": self.points_scale_,
            "points_intercept": self.points_intercept_,
            "lp_range": list(self.lp_range_),
            "predictor_ranges": {k: list(v) for k, v in self.predictor_ranges_.items()},
            "lp_at": self._lp_at,
            "total_ticks": self._total_ticks,
            # a cutoff of a model without discrimination can be +/-inf: stored as "inf"/"-inf"
            "youden_cutoff": self.youden_cutoff_,
            "youden_points_cutoff": self.youden_points_cutoff_,
            "youden_sensitivity": self.youden_sensitivity_,
            "youden_specificity": self.youden_specificity_,
            "elimination_steps": self.elimination_steps_.to_dict(orient="list"),
            "step_coefficients": self.step_coefficients_.to_dict(orient="list"),
            # Firth's profile intervals need the training data: stored as computed
            "summary": self.summary.to_dict(orient="list") if self.penalty == "firth" else None,
        }
        params = self.get_params()
        params["reference_levels"] = (
            {k: str(v) for k, v in params["reference_levels"].items()}
            if params["reference_levels"]
            else None
        )
        return dump_model("LogisticNomogram", params, state, path)

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> LogisticNomogram:
        """Rebuild a fitted nomogram written by :meth:`to_json` (a path or the JSON text).

        Every key and value is checked first: a missing or unknown key, a wrong type, or a null
        or NaN where a finite number is needed raises :class:`InputError` naming the key. Only
        the Youden cutoffs may be infinite (stored as ``"inf"``/``"-inf"``).
        """
        return cls._from_doc(source)

    @classmethod
    def _from_doc(cls, source: Any, where: str | None = None, prefix: str = "") -> LogisticNomogram:
        params = Record({k: ANY if k == "reference_levels" else SCALAR for k in cls().get_params()})
        doc = load_model(source, "LogisticNomogram", params=params, state=_STATE_SCHEMA,
                         where=where, prefix=prefix)  # fmt: skip
        with rebuilding(doc, prefix):
            return cls._rebuild(doc)

    @classmethod
    def _rebuild(cls, doc: dict[str, Any]) -> LogisticNomogram:
        st = doc["state"]
        obj = cls(**doc["params"])
        f = number
        k = len(st["coef"]["names"])
        if len(st["coef"]["values"]) != k:
            raise ValueError("state.coef.names and state.coef.values differ in length")
        if len(st["cov"]) != k + 1 or any(len(row) != k + 1 for row in st["cov"]):
            raise ValueError(f"state.cov is not a {k + 1} x {k + 1} matrix")
        terms = {t["name"] for t in st["terms"]}
        if set(st["axes"]) != terms:
            raise ValueError("state.axes is not keyed by exactly the names of state.terms")
        for name, axis in st["axes"].items():
            if len(axis["values"]) != len(axis["points"]) or len(axis["contrib"]) != len(
                axis["points"]
            ):
                raise ValueError(f"state.axes.{name}: values, contrib and points differ in length")

        obj.outcome_ = st["outcome"]
        obj.candidate_predictors_ = list(st["candidate_predictors"])
        obj._terms = [_Term.from_dict(d) for d in st["terms"]]
        obj.terms_ = {t.name: t.to_dict() for t in obj._terms}
        obj.predictors_ = [t.name for t in obj._terms]
        obj.intercept_ = float(st["intercept"])
        obj.coef_ = pd.Series(
            np.asarray(st["coef"]["values"], dtype=float), index=st["coef"]["names"], name="beta"
        )
        cols = ["(Intercept)", *st["coef"]["names"]]
        obj.cov_ = pd.DataFrame(np.asarray(st["cov"], dtype=float), index=cols, columns=cols)
        obj.loglik_ = float(st["loglik"])
        obj.aic_ = float(st["aic"])
        obj.c_index_ = float(st["c_index"])
        obj.n_ = int(st["n"])
        obj.n_events_ = int(st["n_events"])
        obj.classes_ = np.array([0, 1])
        obj.n_features_in_ = len(obj.candidate_predictors_)
        obj._axes = st["axes"]
        obj.points_scale_ = float(st["points_scale"])
        obj.points_intercept_ = float(st["points_intercept"])
        obj.lp_range_ = tuple(float(v) for v in st["lp_range"])
        obj.predictor_ranges_ = {
            k: (float(v[0]), float(v[1])) for k, v in st["predictor_ranges"].items()
        }
        obj._lp_at = np.asarray(st["lp_at"], dtype=float)
        obj._total_ticks = np.asarray(st["total_ticks"], dtype=float)
        obj.youden_cutoff_ = float(st["youden_cutoff"])  # float() parses "inf" and "-inf"
        obj.youden_points_cutoff_ = float(st["youden_points_cutoff"])
        obj.youden_sensitivity_ = float(st["youden_sensitivity"])
        obj.youden_specificity_ = float(st["youden_specificity"])
        steps = pd.DataFrame(st["elimination_steps"])
        for c in ("chi2", "df", "p_value", "aic", "aic_after"):
            steps[c] = [f(v) for v in steps[c]]
        obj.elimination_steps_ = steps
        sc = pd.DataFrame(st["step_coefficients"])
        for c in sc.columns:
            if c not in ("term", "predictor", "level"):
                sc[c] = [f(v) for v in sc[c]]
        sc["step"] = sc["step"].astype(int)
        if "level" in sc:  # JSON null -> NaN, as in the fitted table
            sc["level"] = [np.nan if v is None else v for v in sc["level"]]
        obj.step_coefficients_ = sc
        fit = LogitFit(
            np.concatenate([[obj.intercept_], obj.coef_.to_numpy()]),
            obj.cov_.to_numpy(),
            obj.loglik_,
            0,
            cols,
        )
        obj._final_fit = fit
        if st.get("summary") is not None:
            summary = pd.DataFrame(st["summary"])
            if "level" in summary:
                summary["level"] = [np.nan if v is None else v for v in summary["level"]]
            obj._summary = summary
        else:
            obj._summary = _coef_table(fit, obj._terms)
        return obj


def _renderer(fig: Any) -> Any:
    """A renderer to measure text with; vector backends (svg, pdf) have no get_renderer."""
    get = getattr(fig.canvas, "get_renderer", None)
    return get() if get is not None else fig._get_renderer()


def _text_px(renderer: Any, fig: Any, text: str, fontsize: float) -> float:
    """Width in pixels of ``text`` at ``fontsize`` as the figure would render it."""
    from matplotlib.text import Text

    t = Text(0, 0, text, fontsize=fontsize, figure=fig)
    return float(t.get_window_extent(renderer).width)


def _collide(xs: np.ndarray, widths: np.ndarray, pad: float) -> bool:
    """Whether any two labels centred at sorted ``xs`` overlap (closer than ``pad``)."""
    if len(xs) < 2:
        return False
    return bool(np.any(np.diff(xs) < (widths[:-1] + widths[1:]) / 2 + pad))


def _label_sides(
    xs: np.ndarray, widths: np.ndarray, pad: float, discrete: bool, texts: Sequence[str]
) -> tuple[list, np.ndarray]:
    """Where to draw each tick's label: "above", "below" or None (tick without a label), and
    the label's x position (the tick's own unless moved aside).

    Labels go above the axis. When they would collide, a discrete axis (each level must be
    named) alternates above/below, as rms does for discrete axes; if even that collides, the
    labels go in one row above, pushed apart just enough and joined to their ticks by
    leader lines (rms would drop them instead). A numeric axis keeps every
    k-th label for the smallest k without collisions, as ``label.every`` of rms and R's
    ``axis()``, which skips labels that would overlap; the kept subset is the one with the
    roundest values, so ticks such as 0.1, 0.5, 0.9 survive; the kept labels alternate
    above/below (rms' ``fun.side``) only when that shows over twice as many.
    The tick marks, and so every number of the scale, stay.
    """
    n = len(xs)
    order = np.argsort(xs, kind="stable")
    sx, sw = xs[order], widths[order]
    sides: list = ["above"] * n
    at = np.asarray(xs, dtype=float).copy()
    if not _collide(sx, sw, pad):
        return sides, at
    if discrete:
        lanes = (np.arange(0, n, 2), np.arange(1, n, 2))
        if not any(_collide(sx[q], sw[q], pad) for q in lanes):
            for rank, j in enumerate(order):
                sides[j] = "above" if rank % 2 == 0 else "below"
        else:
            at[order] = _spread(sx, sw, pad)
        return sides, at
    best: dict[bool, tuple] = {}
    for k in range(1, n):
        for stagger in (False, True):
            for off in range(k):
                keep = np.arange(off, n, k)
                lanes = (keep[0::2], keep[1::2]) if stagger else (keep,)
                # two staggered labels: the ends (the fallback below) say more than inner ones
                if len(keep) < 2 + stagger or any(_collide(sx[q], sw[q], pad) for q in lanes):
                    continue
                ends = int(keep[0] == 0) + int(keep[-1] == n - 1)  # both ends bound the range
                rough = sum(_roughness(texts[order[i]]) for i in keep)
                score = (len(keep), ends, -rough, -k, -off)
                if stagger not in best or score > best[stagger][0]:
                    best[stagger] = (score, keep)
    # one row of labels reads more easily than two: stagger only for over twice the labels
    one, two = best.get(False), best.get(True)
    choice = None
    if two is not None and (one is None or len(two[1]) > 2 * len(one[1])):
        choice = (two[1], True)
    elif one is not None:
        choice = (one[1], False)
    if choice is not None:
        keep, stagger = choice
        sides = [None] * n
        for rank, q in enumerate(keep):
            sides[order[q]] = "below" if stagger and rank % 2 else "above"
        return sides, at
    # not even the two end labels fit side by side: name the ends, one above and one below
    sides = [None] * n
    sides[order[0]], sides[order[-1]] = "below", "above"
    return sides, at


def _spread(sx: np.ndarray, sw: np.ndarray, pad: float) -> np.ndarray:
    """Centres for labels of widths ``sw`` wanted at sorted ``sx``, moved as little as possible
    so that none overlap: overlapping runs are merged and each run is centred on its labels'
    mean wanted position (never left of the first tick, where the row name ends)."""
    runs = [[i] for i in range(len(sx))]

    def centres(run: list[int]) -> np.ndarray:
        span = np.concatenate([[0.0], np.cumsum((sw[run][:-1] + sw[run][1:]) / 2 + pad)])
        return span - span.mean() + sx[run].mean()

    merged = True
    while merged:
        merged = False
        for r in range(len(runs) - 1):
            a, b = centres(runs[r]), centres(runs[r + 1])
            if b[0] - a[-1] < (sw[runs[r][-1]] + sw[runs[r + 1][0]]) / 2 + pad:
                runs[r : r + 2] = [runs[r] + runs[r + 1]]
                merged = True
                break
    out = np.concatenate([centres(run) for run in runs])
    shift = sx[0] - out[0]
    if shift > 0:  # keep the run right of the first tick; later runs may need to move too
        out[0] += shift
        for i in range(1, len(out)):
            out[i] = max(out[i], out[i - 1] + (sw[i - 1] + sw[i]) / 2 + pad)
    return out


def _roughness(text: str) -> int:
    """Significant digits of a tick label (0.5 -> 1, 0.25 -> 2); rounder ticks are kept."""
    return len(text.replace(".", "").replace("-", "").strip("0"))


def _fmt(v: Any) -> str:
    if isinstance(v, str):
        return v
    v = float(v)
    return f"{v:.0f}" if float(v).is_integer() else f"{v:g}"


# What a LogisticNomogram file's ``state`` holds (see radiomics_aln.io): the numbers used to
# predict and to draw must be finite; only the Youden cutoffs may be "inf"/"-inf".
_STATE_SCHEMA = Record(
    {
        "outcome": STR,
        "candidate_predictors": ListOf(STR),
        "terms": ListOf(
            Record({"name": STR, "kind": STR, "levels": ListOf(SCALAR), "reference": SCALAR})
        ),
        "intercept": NUM,
        "coef": Record({"names": ListOf(STR), "values": ListOf(NUM)}),
        "cov": ListOf(ListOf(NUM)),
        "loglik": NUM_OR_NULL,
        "aic": NUM_OR_NULL,
        "c_index": NUM_OR_NULL,
        "n": INT,
        "n_events": INT,
        "axes": MapOf(
            Record(
                {
                    "values": ListOf(SCALAR),
                    "contrib": ListOf(NUM),
                    "discrete": BOOL,
                    "kind": STR,
                    "points": ListOf(NUM),
                    "min_contrib": NUM,
                }
            )
        ),
        "points_scale": NUM,
        "points_intercept": NUM,
        "lp_range": ListOf(NUM, length=2),
        "predictor_ranges": MapOf(ListOf(NUM, length=2)),
        "lp_at": ListOf(NUM),
        "total_ticks": ListOf(NUM),
        "youden_cutoff": CUTOFF,
        "youden_points_cutoff": CUTOFF,
        "youden_sensitivity": NUM_OR_NULL,
        "youden_specificity": NUM_OR_NULL,
        # informational tables: columns of numbers (null: NaN, "inf") or text
        "elimination_steps": MapOf(ListOf(SCALAR)),
        "step_coefficients": MapOf(ListOf(SCALAR)),
        "summary": MapOf(ListOf(SCALAR), nullable=True),
    }
)
