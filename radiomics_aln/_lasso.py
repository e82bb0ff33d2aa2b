"""glmnet-equivalent L1-penalized logistic regression (private engine of :mod:`radiomics_aln.score`).

The problem solved at each penalty ``lam`` is glmnet's ``family="binomial", alpha=1``::

    minimize  -(1/n) sum_i [y_i eta_i - log(1 + exp(eta_i))] + lam * sum_j |b_j|,
    eta_i = b0 + x_i' b,

on columns standardized with the population standard deviation (``standardize=TRUE``). The
algorithm follows Friedman, Hastie & Tibshirani (2010): an outer IRLS (Newton) loop builds the
weighted least-squares approximation, the path is warm-started from the previous penalty (plus a
linear predictor in log lambda), and the sequential strong rule (Tibshirani et al. 2012)
restricts the work to a candidate set whose KKT conditions are then checked on all features.
Where glmnet solves each weighted lasso by cyclic coordinate descent to a tolerance, we solve it
exactly by feature-sign search (Lee et al. 2007: guess active set and signs, solve the linear
system, line-search across sign changes) so that the path is the exact minimizer, not one within
``thresh``; coordinate descent remains the fall-back when an active block is singular (duplicated
columns). Newton steps are halved whenever they would increase the penalized objective.

The lambda sequence, the early stopping of the path and the cross-validation bookkeeping
(:func:`cv_summary`: fold-wise deviance or AUC, fold-size-weighted mean and standard error,
``lambda.min``/``lambda.1se``) mirror glmnet 4.1-6 line by line; the folds themselves are fitted by
:class:`radiomics_aln.score.RadScore` (each fold on its own path, predictions interpolated linearly
in lambda, as ``cv.glmnet``); see ``docs/score.md``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.special import expit
from threadpoolctl import threadpool_limits

from radiomics_aln.metrics import c_statistic

__all__: list[str] = []

logger = logging.getLogger(__name__)

# glmnet.control() factory defaults (glmnet 4.1-6).
_FDEV = 1e-5
_DEVMAX = 0.999
_MNLAM = 5
_PROB_MIN_CV = 1e-5  # cv.lognet clips predicted probabilities to [1e-5, 1 - 1e-5]

_IRLS_MAX = 200
_CD_MAX_SWEEPS = 1_000


@dataclass
class LassoPath:
    """Solutions along a lambda path, on the scale of the columns given to the solver."""

    lambdas: np.ndarray  # (k,) decreasing
    intercepts: np.ndarray  # (k,)
    coefs: np.ndarray  # (p, k)
    dev_ratio: np.ndarray  # (k,) fraction of null deviance explained
    null_deviance: float
    converged: bool


def population_sd(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations with divisor n (glmnet's ``standardize=TRUE``)."""
    mean = X.mean(axis=0)
    sd = np.sqrt(((X - mean) ** 2).mean(axis=0))
    return mean, sd


def glmnet_lambdas(lambda_max: float, nlambda: int, ratio: float) -> np.ndarray:
    """glmnet's default sequence: ``lambda_max * ratio**(k/(nlambda-1))``, built as glmnet does.

    glmnet multiplies by ``alf = ratio**(1/(nlambda-1))`` step by step from ``alf*lambda_max`` and
    reports the first value as ``exp(2*log(l2) - log(l3))`` (``fix.lam``); we repeat both so the
    sequences agree to the last bits.
    """
    if nlambda == 1:
        return np.array([lambda_max])
    alf = ratio ** (1.0 / (nlambda - 1))
    lam = np.empty(nlambda)
    lam[0] = np.inf
    cur = alf * lambda_max
    for k in range(1, nlambda):
        if k > 1:
            cur = cur * alf
        lam[k] = cur
    if nlambda > 2:
        lam[0] = np.exp(2 * np.log(lam[1]) - np.log(lam[2]))
    else:
        lam[0] = lambda_max
    return lam


def null_gradient(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gradient ``X'(y - ybar)/n`` of the log-likelihood at the intercept-only model."""
    return X.T @ (y - y.mean()) / y.size


def _deviance(eta: np.ndarray, y: np.ndarray) -> float:
    return float(2.0 * np.sum(np.logaddexp(0.0, eta) - y * eta))


def _objective(eta: np.ndarray, y: np.ndarray, b: np.ndarray, lam: float) -> float:
    return float(np.mean(np.logaddexp(0.0, eta) - y * eta) + lam * np.abs(b).sum())


class _Quad:
    """The weighted, centred Gram matrix ``H = Xc' diag(w) Xc`` of an IRLS step, never formed whole.

    Products ``H @ v`` cost two passes over ``X`` and blocks ``H[A, A]`` are built for the small
    active set only, so a step costs O(n * (s + a^2)) rather than O(n * s^2).
    """

    def __init__(self, XS: np.ndarray, w: np.ndarray, W: float, xm: np.ndarray) -> None:
        self.XS, self.w, self.W, self.xm = XS, w, W, xm
        self.sw = np.sqrt(w)
        self._idx: np.ndarray | None = None
        self._H = np.empty((0, 0))

    def matvec(self, v: np.ndarray) -> np.ndarray:
        nz = np.flatnonzero(v)
        if nz.size == 0:
            return np.zeros(self.xm.size)
        u = self.XS[:, nz] @ v[nz] - self.xm[nz] @ v[nz]
        return self.XS.T @ (self.w * u)

    def _cross(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        Br = self.XS[:, rows] * self.sw[:, None]
        if rows is cols:
            G = Br.T @ Br  # runs as syrk
        else:
            G = Br.T @ (self.XS[:, cols] * self.sw[:, None])
        return G - self.W * np.outer(self.xm[rows], self.xm[cols])

    def block(self, act: np.ndarray) -> np.ndarray:
        # feature-sign search changes the active set by one feature at a time: keep the last
        # block and compute only the rows/columns of features new to it
        if self._idx is None:
            self._idx, self._H = act.copy(), self._cross(act, act)
            return self._H
        new = act[~np.isin(act, self._idx)]
        if new.size:
            union = np.concatenate([self._idx, new])
            H = np.empty((union.size, union.size))
            m = self._idx.size
            H[:m, :m] = self._H
            side = self._cross(union, new)
            H[:, m:] = side
            H[m:, :m] = side[:m].T
            self._idx, self._H = union, H
        pos = np.searchsorted(self._idx, act, sorter=np.argsort(self._idx))
        pos = np.argsort(self._idx)[pos]
        return self._H[np.ix_(pos, pos)]

    def full(self) -> np.ndarray:
        return self.block(np.arange(self.xm.size))


def _feature_sign(Q: _Quad, c: np.ndarray, lam: float, x: np.ndarray) -> np.ndarray | None:
    """Exact solution of ``x'Hx/2 - c'x + lam*|x|_1`` by feature-sign search.

    Lee, Battle, Raina & Ng (2007): guess the active set and signs, solve the linear system on it,
    move to the best point of the segment where a coefficient changes sign, add the worst KKT
    violator; each step lowers the objective, so it ends at the minimizer. Returns ``None`` when an
    active block is singular (more active features than the data can identify) or when it cycles,
    and the caller falls back to coordinate descent.
    """
    s = c.size
    lam_hi = lam * (1.0 + 1e-10) + 1e-15
    x = x.copy()
    batch = True  # add all KKT violators at once while that works
    check_active = True  # after an exact full step the active set is optimal by construction
    for _ in range(4 * s + 50):
        grad = Q.matvec(x) - c
        act = np.flatnonzero(x)
        if (
            check_active
            and act.size
            and np.max(np.abs(grad[act] + lam * np.sign(x[act]))) > 1e-11 * (1.0 + lam)
        ):
            theta = np.sign(x[act])
        else:
            zero = np.flatnonzero(x == 0.0)
            if zero.size == 0:
                return x
            viol = zero[np.abs(grad[zero]) > lam_hi]
            if viol.size == 0:
                return x
            if not batch or viol.size == 1:
                viol = viol[[np.argmax(np.abs(grad[viol]))]]
            act = np.sort(np.concatenate([act, viol]))
            theta = np.sign(x[act])
            entering = np.isin(act, viol)
            theta[entering] = -np.sign(grad[act[entering]])
        H = Q.block(act)
        try:
            with warnings.catch_warnings():
                # a numerically singular block (e.g. duplicated columns): coordinate descent
                warnings.simplefilter("error", linalg.LinAlgWarning)
                target = linalg.solve(H, c[act] - lam * theta, assume_a="pos")
        except (linalg.LinAlgError, linalg.LinAlgWarning, ValueError):
            return None
        if not np.all(np.isfinite(target)):
            return None
        cA = c[act]

        def fval(v: np.ndarray, H: np.ndarray = H, cA: np.ndarray = cA) -> float:
            return float(0.5 * v @ H @ v - cA @ v + lam * np.abs(v).sum())

        cur = x[act]
        if batch and act.size > np.count_nonzero(cur) + 1:
            # several features entered together: keep the batch only if each entered with the
            # sign its gradient asked for, else redo the step adding the worst violator alone
            new = cur == 0.0
            if np.any(np.sign(target[new]) != theta[new]):
                batch = False
                continue
        d = target - cur
        flip = (cur != 0.0) & (np.sign(target) != np.sign(cur))
        ts = [1.0]
        if flip.any():
            ts.extend(float(t) for t in (-cur[flip] / d[flip]) if 0.0 < t < 1.0)
        best_t, best_f, best_v = 1.0, np.inf, None
        for t in ts:
            v = cur + t * d
            if t < 1.0:
                # the coefficient that reaches zero at t is set to exactly zero
                hit = flip & np.isclose(-cur / np.where(d == 0, 1.0, d), t, rtol=1e-12, atol=0.0)
                v[hit] = 0.0
            fv = fval(v)
            if fv < best_f:
                best_t, best_f, best_v = t, fv, v
        if best_v is None or best_f > fval(cur) + 1e-14 * (1.0 + abs(best_f)):
            return None
        x[act] = best_v
        check_active = best_t != 1.0
    return None


def _lasso_qp(Q: _Quad, c: np.ndarray, lam: float, b: np.ndarray) -> tuple[np.ndarray, bool]:
    """Minimize ``b'Hb/2 - c'b + lam*|b|_1`` (H positive semidefinite), warm-started at ``b``.

    Returns the solution and whether it is exact (feature-sign) or from coordinate descent.
    """
    s = c.size
    if s == 0:
        return b, True
    exact = _feature_sign(Q, c, lam, b)
    if exact is not None:
        return exact, True
    # singular active block: cyclic coordinate descent on the explicit Gram matrix
    H = Q.full()
    diag = np.diag(H).copy()
    rows = [H[j] for j in range(s)]
    usable = [j for j in range(s) if diag[j] > 1e-14]
    r = c - H @ b  # r_j = c_j - sum_k H_jk b_k
    cd_tol = 1e-16 * max(float(diag.max()), 1e-300)

    def sweep(order: list[int]) -> float:
        dmax = 0.0
        for j in order:
            hj = diag[j]
            bj = b[j]
            u = r[j] + hj * bj
            if u > lam:
                nb = (u - lam) / hj
            elif u < -lam:
                nb = (u + lam) / hj
            else:
                nb = 0.0
            if nb != bj:
                d = nb - bj
                r[:] -= d * rows[j]
                b[j] = nb
                dmax = max(dmax, hj * d * d)
        return dmax

    # glmnet's loop: a full pass, then passes over the active set until it settles; stop when a
    # full pass changes nothing by more than cd_tol (weighted squared change, as glmnet's thresh)
    sweeps = 0
    while sweeps < _CD_MAX_SWEEPS:
        dmax = sweep(usable)
        sweeps += 1
        if dmax <= cd_tol:
            break
        active = [j for j in usable if b[j] != 0.0]
        while sweeps < _CD_MAX_SWEEPS:
            sweeps += 1
            if sweep(active) <= cd_tol:
                break
    else:
        logger.debug("coordinate descent stopped at %d sweeps", sweeps)
    return b, False


def _kkt_residual(
    XS: np.ndarray, y: np.ndarray, eta: np.ndarray, b: np.ndarray, lam: float
) -> float:
    """Largest violation of the lasso optimality conditions on the columns ``XS``.

    Zero score for the intercept, gradient ``= lam * sign(b_j)`` where ``b_j != 0`` and
    ``|gradient| <= lam`` where ``b_j == 0``. Stopping on it (rather than on the step size) keeps
    the answer exact also near separation, where Newton steps stay small but slow.
    """
    r = (y - expit(eta)) / y.size
    g = XS.T @ r
    nz = b != 0.0
    res = abs(float(r.sum()))
    if nz.any():
        res = max(res, float(np.max(np.abs(g[nz] - lam * np.sign(b[nz])))))
    if (~nz).any():
        res = max(res, float(np.max(np.abs(g[~nz]))) - lam)
    return res


def _fit_restricted(
    X: np.ndarray, y: np.ndarray, lam: float, b0: float, b: np.ndarray, idx: np.ndarray, tol: float
) -> tuple[float, np.ndarray, bool]:
    """Proximal-Newton (IRLS) iterations on the columns ``idx``; other coefficients stay zero."""
    n = y.size
    XS = X[:, idx]
    bS = b[idx].copy()
    eta = b0 + XS @ bS
    f_old = _objective(eta, y, bS, lam)
    kkt_rel = 1e3 * tol
    for _ in range(_IRLS_MAX):
        pr = expit(eta)
        v = np.clip(pr * (1.0 - pr), 1e-10, None)
        w = v / n
        W = w.sum()
        wz = w * eta + (y - pr) / n
        zm = wz.sum() / W
        if idx.size:
            xm = XS.T @ w / W
            c = XS.T @ wz - W * xm * zm
            b_new, exact = _lasso_qp(_Quad(XS, w, W, xm), c, lam, bS.copy())
            if not exact:
                # singular problem (collinear columns): settle for glmnet-like accuracy
                kkt_rel = max(kkt_rel, 1e-6)
            b0_new = zm - xm @ b_new
        else:
            b_new = bS
            b0_new = zm
        # step halving keeps the penalized objective decreasing (glmnet has none; rarely needed)
        step = 1.0
        while True:
            cb0 = b0 + step * (b0_new - b0)
            cb = bS + step * (b_new - bS)
            ceta = cb0 + XS @ cb
            f_new = _objective(ceta, y, cb, lam)
            if f_new <= f_old + 1e-13 * abs(f_old) or step < 1e-6:
                break
            step *= 0.5
        delta = max(abs(cb0 - b0), float(np.max(np.abs(cb - bS), initial=0.0)))
        b0, bS, eta, f_old = cb0, cb, ceta, f_new
        size = 1.0 + max(abs(b0), float(np.max(np.abs(bS), initial=0.0)))
        # stop on the optimality conditions themselves (a small step alone is not enough near
        # separation, where Newton steps stay small but slow); 1e-9 * lam for tol = 1e-12
        if _kkt_residual(XS, y, eta, bS, lam) <= kkt_rel * lam or delta <= 1e-15 * size:
            out = np.zeros_like(b)
            out[idx] = bS
            return b0, out, True
    out = np.zeros_like(b)
    out[idx] = bS
    return b0, out, False


def lognet_path(
    X: np.ndarray,
    y: np.ndarray,
    lambdas: np.ndarray | None = None,
    *,
    nlambda: int = 100,
    lambda_min_ratio: float | None = None,
    tol: float = 1e-12,
) -> LassoPath:
    """L1 logistic regression path on standardized columns ``X`` (mean 0, population sd 1).

    With ``lambdas=None`` the glmnet default sequence is used and the path stops early by glmnet's
    rules (from the 5th lambda on: more than 99.9% deviance explained, or an increase of the
    explained fraction below 1e-5). With user lambdas every value is fitted, as in glmnet.
    """
    X = np.asfortranarray(X, dtype=float)  # column gathers of active sets stay contiguous
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    ybar = y.mean()
    null_b0 = float(np.log(ybar / (1.0 - ybar)))
    null_dev = float(-2.0 * n * (ybar * np.log(ybar) + (1.0 - ybar) * np.log(1.0 - ybar)))
    g = null_gradient(X, y)
    lmax = float(np.max(np.abs(g), initial=0.0))
    user = lambdas is not None
    if user:
        lam_seq = np.asarray(lambdas, dtype=float)
    else:
        ratio = lambda_min_ratio if lambda_min_ratio is not None else (0.01 if n < p else 1e-4)
        lam_seq = glmnet_lambdas(lmax, nlambda, ratio)
    k_all = lam_seq.size
    a0 = np.empty(k_all)
    coefs = np.zeros((p, k_all))
    dev_ratio = np.empty(k_all)
    b0, b = null_b0, np.zeros(p)
    ever = np.zeros(p, dtype=bool)
    lam_prev = max(lmax, float(lam_seq[0]))
    converged = True
    kept = k_all
    for k in range(k_all):
        lam = float(lam_seq[k])
        if (not user and k == 0) or lam >= lmax:
            b0, b = null_b0, np.zeros(p)
            g = null_gradient(X, y)
        else:
            strong = ever | (np.abs(g) >= 2.0 * lam - lam_prev)
            if k >= 2 and lam_seq[k - 2] < lmax:
                # predictor step: extrapolate the last two solutions linearly in log(lambda); the
                # Newton iterations then start closer (the result does not depend on the start)
                t = np.log(lam / lam_prev) / np.log(lam_prev / float(lam_seq[k - 2]))
                b_prev2 = coefs[:, k - 2]
                pred = b + t * (b - b_prev2)
                stable = (b != 0.0) & (b_prev2 != 0.0) & (np.sign(pred) == np.sign(b))
                b = np.where(stable, pred, b)
                b0 = b0 + t * (b0 - a0[k - 2])
            while True:
                idx = np.flatnonzero(strong)
                b0, b, ok = _fit_restricted(X, y, lam, b0, b, idx, tol)
                converged &= ok
                pr = expit(b0 + X @ b)
                g = X.T @ (y - pr) / n
                viol = ~strong & (np.abs(g) > lam * (1.0 + 1e-10))
                if not viol.any():
                    break
                strong |= viol
            ever |= b != 0.0
        a0[k] = b0
        coefs[:, k] = b
        dev_ratio[k] = 1.0 - _deviance(b0 + X @ b, y) / null_dev
        lam_prev = lam
        if not user and k + 1 >= min(_MNLAM, k_all):
            if dev_ratio[k] > _DEVMAX or (k > 0 and dev_ratio[k] - dev_ratio[k - 1] < _FDEV):
                kept = k + 1
                break
    return LassoPath(
        lambdas=lam_seq[:kept].copy(),
        intercepts=a0[:kept],
        coefs=coefs[:, :kept],
        dev_ratio=dev_ratio[:kept],
        null_deviance=null_dev,
        converged=converged,
    )


def fit_glmnet(
    X: np.ndarray,
    y: np.ndarray,
    lambdas: np.ndarray | None = None,
    *,
    nlambda: int = 100,
    lambda_min_ratio: float | None = None,
    tol: float = 1e-12,
) -> tuple[LassoPath, np.ndarray, np.ndarray]:
    """``glmnet(X, y, family="binomial", standardize=TRUE)`` on raw columns.

    Returns the path on the standardized scale plus the column means and sds; constant columns
    (sd 0) are excluded as glmnet does and keep coefficient zero.
    """
    mean, sd = population_sd(X)
    ok = sd > 0
    Xs = np.zeros_like(X, dtype=float)
    Xs[:, ok] = (X[:, ok] - mean[ok]) / sd[ok]
    # small dense blocks: multithreaded BLAS only adds contention (40x slower on a loaded machine)
    with threadpool_limits(1):
        path = lognet_path(
            Xs[:, ok], y, lambdas, nlambda=nlambda, lambda_min_ratio=lambda_min_ratio, tol=tol
        )
    if not ok.all():
        full = np.zeros((X.shape[1], path.lambdas.size))
        full[ok] = path.coefs
        path.coefs = full
    return path, mean, np.where(ok, sd, 1.0)


def to_original_scale(
    path: LassoPath, mean: np.ndarray, sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Intercepts and coefficients in the units of the raw columns (glmnet's ``coef()``)."""
    beta = path.coefs / sd[:, None]
    a0 = path.intercepts - mean @ beta
    return a0, beta


def lambda_interp(lambdas: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """glmnet's ``lambda.interp``: left/right indices and weights for penalties ``s``."""
    lambdas = np.asarray(lambdas, dtype=float)
    s = np.asarray(s, dtype=float)
    if lambdas.size == 1:
        zeros = np.zeros(s.size, dtype=int)
        return zeros, zeros, np.ones(s.size)
    span = lambdas[0] - lambdas[-1]
    sfrac = (lambdas[0] - s) / span
    lam_n = (lambdas[0] - lambdas) / span
    sfrac = np.clip(sfrac, lam_n.min(), lam_n.max())
    coord = np.interp(sfrac, lam_n, np.arange(lambdas.size, dtype=float))
    left = np.floor(coord).astype(int)
    right = np.ceil(coord).astype(int)
    denom = lam_n[left] - lam_n[right]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (sfrac - lam_n[right]) / denom
    frac[left == right] = 1.0
    frac[np.abs(denom) < np.finfo(float).eps] = 1.0
    return left, right, frac


@dataclass
class CVResult:
    lambdas: np.ndarray
    cvm: np.ndarray
    cvsd: np.ndarray
    nzero: np.ndarray
    index_min: int
    index_1se: int
    measure: str
    fold_values: np.ndarray  # (nfolds, k): per-fold mean deviance or AUC


def cv_summary(
    link: np.ndarray,
    y: np.ndarray,
    foldid: np.ndarray,
    lambdas: np.ndarray,
    nzero: np.ndarray,
    measure: str,
) -> CVResult:
    """cv.lognet + cvstats + getOptcv.glmnet on out-of-fold link predictions (n x k)."""
    nfolds = int(foldid.max())
    fold_n = np.array([np.sum(foldid == i) for i in range(1, nfolds + 1)], dtype=float)
    prob = 1.0 / (1.0 + np.exp(-link))
    if measure == "auc":
        vals = np.array(
            [
                [c_statistic(y[foldid == i], prob[foldid == i, j]) for j in range(lambdas.size)]
                for i in range(1, nfolds + 1)
            ]
        )
    else:
        pc = np.clip(prob, _PROB_MIN_CV, 1 - _PROB_MIN_CV)
        raw = -2.0 * (y[:, None] * np.log(pc) + (1 - y[:, None]) * np.log(1 - pc))
        vals = np.array([raw[foldid == i].mean(axis=0) for i in range(1, nfolds + 1)])
    good = ~np.isnan(vals)
    wts = np.where(good, fold_n[:, None], 0.0)
    cvm = (np.where(good, vals, 0.0) * wts).sum(axis=0) / wts.sum(axis=0)
    N = good.sum(axis=0)
    dev2 = np.where(good, vals - cvm, 0.0) ** 2
    cvsd = np.sqrt((dev2 * wts).sum(axis=0) / wts.sum(axis=0) / (N - 1))
    crit = -cvm if measure == "auc" else cvm
    i_min, i_1se = _optimal_indices(lambdas, crit, cvsd)
    return CVResult(
        lambdas=lambdas,
        cvm=cvm,
        cvsd=cvsd,
        nzero=nzero,
        index_min=i_min,
        index_1se=i_1se,
        measure=measure,
        fold_values=vals,
    )


def _optimal_indices(lam: np.ndarray, crit: np.ndarray, cvsd: np.ndarray) -> tuple[int, int]:
    """glmnet's ``getOptcv.glmnet`` on a criterion to minimize: largest lambda at the minimum,
    and largest lambda whose criterion is within one SE of it."""
    ok = ~np.isnan(crit)
    cmin = np.min(crit[ok])
    lam_min = np.max(lam[ok & (crit <= cmin)])
    i_min = int(np.flatnonzero(lam == lam_min)[0])
    semin = crit[i_min] + cvsd[i_min]
    lam_1se = np.max(lam[ok & (crit <= semin)])
    i_1se = int(np.flatnonzero(lam == lam_1se)[0])
    return i_min, i_1se
