"""Logistic regression: the one solver every logistic model of the package is fitted with.

:func:`fit_logistic` maximises the likelihood by Newton-Raphson with step halving (the nomogram,
the univariate table, the recalibration ``logit P(y) = a + b lp`` of the calibration
statistics), optionally Firth's penalised likelihood (``penalty="firth"``), or stops where
``rms::lrm.fit`` stops (``stopping=LrmStopping(...)``: the refits of rms's bootstrap
``validate``/``calibrate``). One iteration (:func:`_newton`) serves all of them; the options
change only the start, the stopping rule and how a singular information matrix is judged.
Separation is detected with Konis' (2007) linear program and raised as
:class:`~radiomics_aln.exceptions.SeparationError` naming the columns.

The R scripts behind the reference values are ``tests/reference/nomogram.R`` (``glm``),
``firth.R`` (``brglm2``, ``logistf``'s inference) and ``validate.R`` (``lrm.fit``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import linalg, optimize, special, stats

from radiomics_aln._validation import format_items
from radiomics_aln.exceptions import ConvergenceError, InputError, SeparationError

__all__ = [
    "LogitFit",
    "LrmStopping",
    "fit_logistic",
    "firth_plr",
    "firth_profile_ci",
    "null_loglik",
    "recalibrate",
]

#: the 97.5 % normal quantile of the 95 % Wald intervals
Z975 = float(stats.norm.ppf(0.975))
_CHI2_95 = float(stats.chi2.ppf(0.95, 1))


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


@dataclass(frozen=True)
class LrmStopping:
    """``rms::lrm.fit``'s (rms 6.5) iteration and stopping rule, as an option of
    :func:`fit_logistic` and :func:`recalibrate`.

    lrm.fit starts at the intercept-only estimate and takes Newton steps on probabilities from
    the linear predictor clipped to [-30, 30]; it stops (converged) when -2 log-likelihood
    changed by at most ``eps`` since the previous step -- after taking one more step -- or when
    the score is below 1e-9 and -2LL changed by less than ``eps / 10``. A step that raises -2LL
    is halved (counted as an iteration). After ``maxit - 1`` iterations without convergence
    the fit has failed. The information matrix is singular when R's ``qr(info, tol)`` rank
    (LINPACK) is deficient. Under quasi-separation (a factor level without events) the -2LL
    changes shrink geometrically as the coefficient grows, so lrm.fit converges with a large
    finite coefficient (about -7 for a level of a few patients) instead of failing.

    Attributes
    ----------
    tol : float
        Singularity tolerance (``predab.resample`` uses 1e-12, ``calibrate.default`` 1e-13).
    maxit, eps : as ``lrm.fit``.
    """

    tol: float = 1e-12
    maxit: int = 12
    eps: float = 0.025


def _loglik(eta: np.ndarray, y: np.ndarray) -> float:
    # log(1 + exp(eta)) computed stably
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def _state(
    X: np.ndarray, y: np.ndarray, beta: np.ndarray, clip: bool
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, score and information at ``beta``; ``clip``: as lrm.fit's Fortran
    computes them, from the linear predictor clipped to [-30, 30]."""
    if clip:
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ beta, -30.0, 30.0)))
        ll = float(np.sum(np.where(y == 1, np.log(p), np.log1p(-p))))
    else:
        eta = X @ beta
        p = special.expit(eta)
        ll = _loglik(eta, y)
    w = p * (1.0 - p)
    return ll, X.T @ (y - p), X.T @ (X * w[:, None])


def log_likelihood(eta: Any, y: Any, *, clip: bool = False) -> float:
    """Bernoulli log-likelihood of the linear predictor ``eta``; ``clip=True``: as ``lrm.fit``
    reports it (``eta`` clipped to [-30, 30])."""
    eta = np.asarray(eta, dtype=float)
    y = np.asarray(y, dtype=float)
    if not clip:
        return _loglik(eta, y)
    p = special.expit(np.clip(eta, -30.0, 30.0))
    return float(np.sum(np.where(y == 1, np.log(p), np.log1p(-p))))


def null_loglik(y: Any) -> float:
    """Log-likelihood of the intercept-only model (0 when ``y`` holds one class)."""
    y = np.asarray(y, dtype=float)
    m = y.mean()
    if m in (0.0, 1.0):
        return 0.0
    return float(np.sum(y * np.log(m) + (1 - y) * np.log(1 - m)))


@dataclass
class _Path:
    """Where :func:`_newton` stopped."""

    beta: np.ndarray
    loglik: float
    info: np.ndarray
    n_iter: int
    converged: bool
    singular: bool


def _newton(
    X: np.ndarray,
    y: np.ndarray,
    start: np.ndarray,
    *,
    lrm: LrmStopping | None = None,
    max_iter: int = 100,
    tol: float = 1e-12,
    loglik_tol: float = 0.0,
) -> _Path:
    """Newton-Raphson with step halving: the iteration behind every maximum-likelihood fit.

    Each pass evaluates the likelihood at ``beta``. A Newton step ``delta`` from ``base`` is
    tried at ``base + t delta``, t = 1, 1/2, ...: a point worse than ``base`` is not accepted
    and t is halved. Two stopping rules:

    - exact (``lrm=None``): a point is worse when its log-likelihood is below ``base``'s by
      more than 1e-12 relative, at most 29 halvings per step (the last point is then taken);
      converged when the accepted move is below ``tol`` (absolute or relative to the
      coefficients) or, if ``loglik_tol`` > 0, the log-likelihood changed by less than it;
      ``max_iter`` Newton steps; a singular information matrix (no finite step) stops.
    - ``lrm``: :class:`LrmStopping` (every pass, halvings included, counts as an iteration).
    """
    k = X.shape[1]
    clip = lrm is not None
    beta = base = np.asarray(start, dtype=float).copy()
    delta = np.zeros(k)
    ll_base = -math.inf  # lrm.fit's "old" -2LL starts at 1e30
    t, halvings, n_iter = 1.0, 0, 0
    converged = singular = False
    evaluated = None
    while True:
        if lrm is not None:
            if n_iter >= lrm.maxit - 1:
                converged = lrm.maxit <= 2  # lrm.fit only flags non-convergence when maxit > 2
                break
            n_iter += 1
        ll, score, info = _state(X, y, beta, clip)
        evaluated = beta
        if lrm is not None:
            m2ll, old = -2.0 * ll, -2.0 * ll_base
            if np.max(np.abs(score)) < 1e-9 and abs(m2ll - old) < 0.1 * lrm.eps:
                converged = True
                break
            if m2ll > old:  # back off half of the remaining step; the Newton step is kept
                t /= 2
                beta = base + t * delta
                continue
        elif evaluated is not base:
            if ll < ll_base - 1e-12 * abs(ll_base) and halvings < 29:
                t, halvings = t / 2, halvings + 1
                beta = base + t * delta
                continue
            move = np.abs(t * delta)
            if (
                np.max(move / (np.abs(beta) + 1e-3)) < tol
                or np.max(move) < tol
                or abs(ll - ll_base) < loglik_tol
            ):
                converged = True
                break
            if n_iter == max_iter:
                break
        if lrm is not None and _linpack_rank(info, lrm.tol) < k:
            singular = True
            break
        try:
            delta = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            delta = np.full(k, np.nan)
        if not np.all(np.isfinite(delta)):
            singular = True
            break
        old_ll, base, ll_base, t, halvings = ll_base, beta, ll, 1.0, 0
        beta = base + delta
        if lrm is None:
            n_iter += 1
        elif abs(-2.0 * old_ll - (-2.0 * ll)) <= lrm.eps:
            converged = True
            break
    if beta is not evaluated:  # lrm.fit reports the point it moved to last
        ll, _, info = _state(X, y, beta, clip)
    return _Path(beta, ll, info, n_iter, converged, singular)


def _check_rank(X: np.ndarray, columns: list[str]) -> None:
    """InputError naming the aliased columns if the model matrix is rank deficient."""
    n, k = X.shape
    # cheap screen on the column-scaled Gram matrix; the SVD decides only in doubtful cases
    g = X.T @ X
    d = np.sqrt(np.diag(g))
    d[d == 0] = 1.0
    ev = np.linalg.eigvalsh(g / np.outer(d, d))
    if ev[0] > 1e-10 * ev[-1]:
        return
    rank = np.linalg.matrix_rank(X)
    if rank < k:
        _, _, piv = linalg.qr(X, mode="economic", pivoting=True)
        aliased = [columns[j] for j in piv[rank:]]
        raise InputError(
            f"the model matrix is rank deficient: {format_items(aliased)} "
            "is a linear combination of the other predictors (collinear or too few cases)"
        )


def _intercept_start(y: np.ndarray, k: int) -> np.ndarray:
    ybar = float(np.mean(y))
    beta = np.zeros(k)
    beta[0] = math.log(ybar / (1 - ybar))
    return beta


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    columns: Sequence[str],
    *,
    penalty: str | None = None,
    stopping: LrmStopping | None = None,
    max_iter: int = 100,
    tol: float = 1e-12,
    check_rank: bool = True,
) -> LogitFit:
    """Logistic regression by Newton-Raphson with step halving (or Firth's penalised likelihood).

    Parameters
    ----------
    X : ndarray of shape (n, k)
        Model matrix including the intercept column (first).
    y : ndarray of 0/1
    columns : sequence of str
        Names of the columns of ``X`` (``"(Intercept)"`` first).
    penalty : {None, "firth"}
        ``"firth"`` maximises Firth's penalised likelihood ``l(b) + log|I(b)| / 2`` (see
        :func:`_fit_firth`): finite estimates even under separation, no SeparationError.
    stopping : LrmStopping, optional
        None: iterate to the maximum (converged when the largest Newton step is below ``tol``
        relative to the coefficients), so estimates agree with R's ``glm`` to its own
        tolerance; the covariance is the inverse information at the estimate. An
        :class:`LrmStopping`: stop where ``rms::lrm.fit`` stops (bootstrap refits of
        ``rms::validate``), no collinearity check and no separation check.
    max_iter, tol : Newton steps and step tolerance of the exact fit.
    check_rank : bool, default True
        False skips the collinearity check (for column subsets of a matrix already checked).

    Raises
    ------
    InputError
        If columns are collinear (the model matrix is rank deficient).
    SeparationError
        If the data are (quasi-)completely separated; ``columns`` names the column(s).
    ConvergenceError
        If the iterations do not converge for another reason (with ``stopping``: not in
        ``maxit - 1`` iterations, lrm.fit's ``fail = TRUE``).
    numpy.linalg.LinAlgError
        With ``stopping``: the information matrix is singular by R's ``qr(tol = tol)`` rank
        rule, at a Newton step or at the estimate (lrm.fit's "singular information matrix";
        ``solvet``'s "apparently singular matrix").

    Examples
    --------
    >>> X = np.column_stack([np.ones(6), [0, 0, 1, 1, 1, 1]])
    >>> y = np.array([0, 0, 1, 0, 1, 1])  # level 0 has no events: the MLE is infinite
    >>> fit = fit_logistic(X, y, ["(Intercept)", "b"], stopping=LrmStopping())
    >>> fit.coef.round(3)  # R: lrm.fit: -7.202, 8.300
    array([-7.202,  8.3  ])
    """
    columns = list(columns)
    if penalty not in (None, "firth"):
        raise InputError(f"penalty must be None or 'firth', got {penalty!r}")
    if stopping is not None:
        if penalty is not None:
            raise InputError("stopping=LrmStopping applies to maximum-likelihood fits only")
        return _fit_lrm(X, y, columns, stopping)
    if check_rank:
        _check_rank(X, columns)
    if penalty == "firth":
        return _fit_firth(X, y, columns, max_iter=max_iter, tol=tol)
    path = _newton(X, y, _intercept_start(y, X.shape[1]), max_iter=max_iter, tol=tol)
    beta = path.beta
    p = special.expit(X @ beta)
    extreme = np.any((p < 1e-8) | (p > 1 - 1e-8))
    if extreme or not path.converged:
        sep = _separating_columns(X, y)
        if sep is not None:
            names = [c for c, s in zip(columns, sep, strict=True) if s and c != "(Intercept)"]
            raise SeparationError(
                "complete or quasi-complete separation: the outcome is perfectly predicted by "
                f"{format_items(names) if names else 'a combination of the predictors'}; the "
                "maximum-likelihood estimate is infinite. Remove or merge the predictor/level, "
                "or use Firth's penalized likelihood (penalty='firth')",
                columns=names,
            )
    if not path.converged:
        big = [c for c, b in zip(columns, beta, strict=True) if abs(b) > 10 and c != "(Intercept)"]
        raise ConvergenceError(
            f"logistic regression did not converge in {max_iter} iterations"
            + (" (the information matrix became singular)" if path.singular else "")
            + (f"; diverging coefficient(s): {format_items(big)}" if big else "")
        )
    cov = np.linalg.inv(path.info)
    cov = (cov + cov.T) / 2
    return LogitFit(beta, cov, path.loglik, path.n_iter, columns)


def _fit_lrm(X: np.ndarray, y: np.ndarray, columns: list[str], rule: LrmStopping) -> LogitFit:
    """:func:`fit_logistic` with ``stopping=rule``: where lrm.fit stops, or its failures."""
    path = _newton(X, y, _intercept_start(y, X.shape[1]), lrm=rule)
    if path.singular:
        raise np.linalg.LinAlgError("singular information matrix in the Newton step")
    if not path.converged:
        raise ConvergenceError(
            f"logistic regression did not converge in {rule.maxit - 1} iterations"
        )
    if _linpack_rank(path.info, rule.tol) < X.shape[1]:
        raise np.linalg.LinAlgError("information matrix at the estimate is singular")
    cov = np.linalg.inv(path.info)
    return LogitFit(path.beta, (cov + cov.T) / 2, path.loglik, path.n_iter, columns)


def recalibrate(
    lp: Any, y: Any, *, stopping: LrmStopping | None = None
) -> tuple[float, float, float]:
    """Logistic recalibration ``logit P(y) = a + b lp``: (a, b, log-likelihood).

    With ``stopping=None`` the maximum-likelihood estimate by :func:`_newton` from ``(0, 1)``
    (the model as it is), also stopping when the log-likelihood changes by less than 1e-14, and
    returning where it stands after 50 steps (a linear predictor that separates the outcome
    has no finite maximum). When the information becomes singular there -- a linear predictor
    spanning tens of logits saturates almost every probability -- it starts again from
    ``(logit(mean y), 0)``, where every case carries weight. With an :class:`LrmStopping`:
    lrm.fit's iterations from the intercept-only start, as ``rms::validate.lrm`` fits the
    recalibration.

    Raises
    ------
    ConvergenceError
        The information matrix is singular from both starts; with ``stopping``: lrm.fit does
        not converge or meets a singular information matrix.

    Examples
    --------
    >>> lp = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, -0.5, 0.5, 1.5])
    >>> y = np.array([0, 0, 1, 0, 1, 1, 0, 1])
    >>> [round(v, 4) for v in recalibrate(lp, y)]  # R: glm(y ~ lp, binomial)
    [-0.1771, 0.8482, -4.6679]
    """
    lp = np.asarray(lp, dtype=float)
    y = np.asarray(y, dtype=float)
    X = np.column_stack([np.ones_like(lp), lp])
    if stopping is not None:
        path = _newton(X, y, _intercept_start(y, 2), lrm=stopping)
        if path.singular or not path.converged:
            raise ConvergenceError("lrm.fit's recalibration did not converge")
    else:
        path = _newton(X, y, np.array([0.0, 1.0]), max_iter=50, loglik_tol=1e-14)
        if path.singular:
            m = float(np.clip(y.mean(), 1e-12, 1 - 1e-12))
            start = np.array([math.log(m / (1 - m)), 0.0])
            path = _newton(X, y, start, max_iter=50, loglik_tol=1e-14)
        if path.singular:
            raise ConvergenceError("logistic recalibration is singular")
    return float(path.beta[0]), float(path.beta[1]), float(path.loglik)


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


def firth_plr(fit: LogitFit, fixed: Sequence[int]) -> tuple[float, float]:
    """Penalised likelihood-ratio test of ``coef[fixed] = 0`` (logistf's test): (chi2, p)."""
    X, y = fit.design
    _, pll = _firth_restricted(X, y, fit.coef, fixed, 0.0)
    chi2 = max(2 * (fit.penalized_loglik - pll), 0.0)
    return chi2, float(stats.chi2.sf(chi2, len(fixed)))


def firth_profile_ci(fit: LogitFit, j: int, level_chi2: float = _CHI2_95) -> tuple[float, float]:
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
