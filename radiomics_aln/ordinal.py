"""Ordinal logistic regression (proportional odds) and its nomogram.

An ordinal endpoint with ``K`` ordered levels ``0 < 1 < ... < K-1`` (e.g. axillary tumour
burden N0 / N1-2 / N>=3) is modelled, as ``rms::lrm`` does, by

    P(Y >= j | x) = expit(alpha_j + x'beta),   j = 1, ..., K-1,

one intercept per cumulative split and one slope per predictor shared by all splits (the
proportional-odds assumption). :func:`fit_ordinal` maximises the full likelihood by
Newton-Raphson with step halving, with the analytical score and observed information; the
standard errors come from the inverse information at the estimate. ``MASS::polr`` and
``ordinal::clm`` write the same model as ``logit P(Y <= j-1) = zeta_j - x'beta``: the slopes
are the same and ``zeta = -alpha`` (:attr:`OrdinalFit.zeta`).

:func:`brant_test` tests the proportional-odds assumption (Brant 1990); :func:`ordinal_c` is
Harrell's generalized C over all pairs of patients with different outcome levels.
:class:`OrdinalNomogram` fits the model on a DataFrame (categorical predictors dummy-coded as
the binary nomogram does) and builds one points scale with an exceedance-probability axis per
split, as ``rms::nomogram(fit, fun = list(...))``.

Reference values: ``tests/reference/ordinal.R`` (rms 6.5 ``lrm``, MASS ``polr``,
ordinal ``clm``, a hand-built Brant test, ``Hmisc::rcorr.cens``, ``rms::nomogram``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, special
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from radiomics_aln._display import SummaryHTML
from radiomics_aln._validation import format_items
from radiomics_aln.design import TERM_RECORD, Term, as_frame, design_matrix, make_terms
from radiomics_aln.exceptions import ConvergenceError, InputError
from radiomics_aln.io import (
    ANY,
    BOOL,
    INT,
    NUM,
    SCALAR,
    STR,
    ListOf,
    MapOf,
    Record,
    dump_model,
    load_model,
    rebuilding,
)
from radiomics_aln.metrics import c_statistic
from radiomics_aln.nomogram_plot import draw_nomogram, r_pretty, term_axes
from radiomics_aln.regression import Z975, fit_logistic

__all__ = [
    "OrdinalFit",
    "OrdinalNomogram",
    "brant_test",
    "check_ordinal",
    "fit_ordinal",
    "ordinal_c",
]


# --------------------------------------------------------------------------------------------
# the outcome
# --------------------------------------------------------------------------------------------
def check_ordinal(y: Any, name: str = "y", *, n_levels: int | None = None) -> np.ndarray:
    """Ordinal outcome codes ``0, 1, ..., K-1`` as an int array, every level present.

    Raises
    ------
    InputError
        Missing or non-integer values, negative codes, fewer than 3 levels, or a level between
        0 and the largest code without patients (named).

    Examples
    --------
    >>> check_ordinal([0, 2, 1, 1]).tolist()
    [0, 2, 1, 1]
    """
    arr = np.asarray(y, dtype=object).ravel()
    try:
        num = np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"ordinal outcome `{name}` must be integer codes 0, 1, ...") from None
    bad = ~np.isfinite(num)
    if bad.any():
        raise InputError(
            f"ordinal outcome `{name}` has missing values (rows "
            f"{format_items(np.flatnonzero(bad), 5)}); drop those patients or fill them"
        )
    if np.any(num != np.round(num)) or np.any(num < 0):
        rows = np.flatnonzero((num != np.round(num)) | (num < 0))
        raise InputError(
            f"ordinal outcome `{name}` must be integer codes 0, 1, ..., K-1; rows "
            f"{format_items(rows, 5)} are not"
        )
    codes = num.astype(int)
    k = int(codes.max()) + 1 if n_levels is None else int(n_levels)
    if k < 3:
        raise InputError(
            f"ordinal outcome `{name}` has {k} level(s); an ordinal model needs at least 3 "
            "(use the binary nomogram for two)"
        )
    if codes.max() >= k:
        raise InputError(f"ordinal outcome `{name}` has codes above {k - 1} ({k} levels named)")
    empty = [j for j in range(k) if not np.any(codes == j)]
    if empty:
        raise InputError(
            f"ordinal outcome `{name}` has no patients at level(s) {format_items(empty)} of "
            f"0..{k - 1}; merge that level with a neighbour"
        )
    return codes


# --------------------------------------------------------------------------------------------
# the fit
# --------------------------------------------------------------------------------------------
@dataclass
class OrdinalFit:
    """Result of :func:`fit_ordinal`, in ``rms::lrm``'s parametrisation.

    Attributes
    ----------
    alpha : ndarray, shape (K-1,)
        Intercepts of ``logit P(Y >= j)``, j = 1..K-1 (decreasing).
    beta : ndarray, shape (p,)
        Slopes, shared by the splits.
    cov : ndarray
        Inverse observed information of ``(alpha, beta)``.
    loglik, loglik_null : float
        Log-likelihood at the estimate and of the intercepts-only model.
    n_iter : int
        Newton iterations.
    columns : list of str
        Names of the slopes.
    """

    alpha: np.ndarray
    beta: np.ndarray
    cov: np.ndarray
    loglik: float
    loglik_null: float
    n_iter: int
    columns: list[str]
    design: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def coef(self) -> np.ndarray:
        """``(alpha_1, ..., alpha_{K-1}, beta)``, the order of ``coef(lrm)``."""
        return np.concatenate([self.alpha, self.beta])

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    @property
    def zeta(self) -> np.ndarray:
        """The cut-points of ``MASS::polr`` / ``ordinal::clm``: ``zeta = -alpha``."""
        return -self.alpha

    @property
    def lr_chi2(self) -> float:
        """Model likelihood-ratio chi-square (``lrm``'s "Model L.R.")."""
        return 2.0 * (self.loglik - self.loglik_null)

    @property
    def names(self) -> list[str]:
        return [f"y>={j}" for j in range(1, self.alpha.size + 1)] + list(self.columns)

    @property
    def summary(self) -> pd.DataFrame:
        """``term``, ``estimate``, ``se``, ``z``, ``p_value``, ``ci_low``, ``ci_high`` (Wald,
        log-odds) and ``odds_ratio`` (slopes; NaN for the intercepts)."""
        b, se = self.coef, self.se
        z = b / se
        k = self.alpha.size
        return pd.DataFrame(
            {
                "term": self.names,
                "estimate": b,
                "se": se,
                "z": z,
                "p_value": 2 * special.ndtr(-np.abs(z)),
                "ci_low": b - Z975 * se,
                "ci_high": b + Z975 * se,
                "odds_ratio": np.concatenate([np.full(k, np.nan), np.exp(self.beta)]),
            }
        )

    def linear_predictor(self, X: Any) -> np.ndarray:
        """``x'beta`` (without intercept) for the rows of the design ``X``."""
        return np.asarray(X, dtype=float).reshape(-1, self.beta.size) @ self.beta

    def exceedance(self, X: Any) -> np.ndarray:
        """``P(Y >= j)``, shape (n, K-1), column j-1 for split j."""
        return special.expit(self.alpha[None, :] + self.linear_predictor(X)[:, None])

    def class_probabilities(self, X: Any) -> np.ndarray:
        """``P(Y = k)``, shape (n, K)."""
        ex = self.exceedance(X)
        n = ex.shape[0]
        cum = np.column_stack([np.ones(n), ex, np.zeros(n)])
        return cum[:, :-1] - cum[:, 1:]


def _pieces(theta: np.ndarray, X: np.ndarray, y: np.ndarray, k: int):
    """Log-likelihood, score and observed information of the proportional-odds model."""
    n, p = X.shape
    alpha, beta = theta[: k - 1], theta[k - 1 :]
    eta = X @ beta
    ext = np.concatenate([[np.inf], alpha, [-np.inf]])
    l1 = ext[y] + eta  # logit P(Y >= y): +inf for y = 0
    l2 = ext[y + 1] + eta  # logit P(Y >= y + 1): -inf for y = K-1
    f1_, f2_ = special.expit(l1), special.expit(l2)
    # P(Y = y) = F(l1) - F(l2) = F(l1) (1 - F(l2)) (1 - exp(l2 - l1)), accurate in the tails
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.where(np.isfinite(l1) & np.isfinite(l2), l2 - l1, -np.inf)
    prob = f1_ * (1.0 - f2_) * -np.expm1(d)
    ll = float(np.sum(np.log(prob)))
    g1 = f1_ * (1 - f1_)  # density at l1 (0 at +-inf)
    g2 = f2_ * (1 - f2_)
    d1 = g1 * (1 - 2 * f1_)  # derivative of the density
    d2 = g2 * (1 - 2 * f2_)
    s1, s2 = g1 / prob, -g2 / prob  # d log P / d l1, d l2
    h11 = d1 / prob - s1**2
    h22 = -d2 / prob - s2**2
    h12 = g1 * g2 / prob**2
    q = k - 1 + p
    J1 = np.zeros((n, q))
    J2 = np.zeros((n, q))
    rows = np.arange(n)
    has1, has2 = y > 0, y < k - 1
    J1[rows[has1], y[has1] - 1] = 1.0
    J2[rows[has2], y[has2]] = 1.0
    J1[:, k - 1 :] = X
    J2[:, k - 1 :] = X
    score = J1.T @ s1 + J2.T @ s2
    hess = (J1.T * h11) @ J1 + (J2.T * h22) @ J2 + (J1.T * h12) @ J2 + (J2.T * h12) @ J1
    return ll, score, -hess


def fit_ordinal(
    X: Any,
    y: Any,
    *,
    columns: Sequence[str] | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> OrdinalFit:
    """Proportional-odds logistic regression by maximum likelihood, as ``rms::lrm``.

    Parameters
    ----------
    X : array-like, shape (n, p)
        Design without an intercept column (dummy-coded factors, numeric predictors).
    y : array-like of int
        Outcome codes 0..K-1, K >= 3, every level present (:func:`check_ordinal`).
    columns : sequence of str, optional
        Names of the columns of ``X`` (default x0, x1, ...).
    max_iter : int
        Newton iterations before :class:`~radiomics_aln.exceptions.ConvergenceError`.
    tol : float
        Convergence: the largest Newton step (in units of each parameter's standard error)
        below ``tol``, or no change of the log-likelihood.

    Returns
    -------
    OrdinalFit

    Raises
    ------
    InputError
        Bad outcome, non-finite or rank-deficient design, lengths that differ.
    ConvergenceError
        No convergence (complete or quasi-complete separation makes a slope infinite).

    Notes
    -----
    Starts, as ``lrm``, at ``beta = 0`` and the intercepts of the marginal cumulative
    proportions (the intercepts-only maximum, whose log-likelihood is ``loglik_null``). Each
    step solves the observed information; a step that lowers the log-likelihood is halved.
    The estimate, SEs and log-likelihood equal ``lrm(..., eps = 1e-12)`` and
    ``ordinal::clm`` to ~1e-12 on the committed cases; ``MASS::polr`` (BFGS with a numerical
    Hessian) agrees to ~1e-8 on estimates and ~5e-4 on SEs.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200)
    >>> y = (x + rng.logistic(size=200) > -0.5).astype(int) + (x + rng.logistic(size=200) > 1)
    >>> fit = fit_ordinal(x[:, None], y, columns=["x"])
    >>> fit.summary[["term", "estimate"]].round(3)  # R: lrm(y ~ x)
       term  estimate
    0  y>=1     1.084
    1  y>=2    -1.888
    2     x     1.563
    """
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    yc = check_ordinal(y)
    if Xa.shape[0] != yc.size:
        raise InputError(f"X has {Xa.shape[0]} rows but y has {yc.size} values")
    if not np.all(np.isfinite(Xa)):
        raise InputError("X has missing or non-finite values")
    cols = [f"x{j}" for j in range(Xa.shape[1])] if columns is None else list(columns)
    if len(cols) != Xa.shape[1]:
        raise InputError(f"{len(cols)} column names for {Xa.shape[1]} columns of X")
    full = np.column_stack([np.ones(len(yc)), Xa])
    if np.linalg.matrix_rank(full) < full.shape[1]:
        raise InputError(
            f"the design of {format_items(cols)} is rank deficient (a constant or collinear "
            "column); drop one of the collinear predictors"
        )
    k = int(yc.max()) + 1
    cum = np.array([np.mean(yc >= j) for j in range(1, k)])
    theta = np.concatenate([special.logit(cum), np.zeros(Xa.shape[1])])
    ll, score, info = _pieces(theta, Xa, yc, k)
    ll_null = ll
    for it in range(1, max_iter + 1):  # noqa: B007 - it is the iteration count after the loop
        try:
            step = linalg.solve(info, score, assume_a="pos")
        except (linalg.LinAlgError, ValueError):
            raise ConvergenceError(
                "the information matrix of the ordinal model is singular; a predictor may "
                "separate the outcome levels"
            ) from None
        for _ in range(30):
            new = theta + step
            ll_new, score_new, info_new = _pieces(new, Xa, yc, k)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12:
                break
            step = step / 2
        else:
            raise ConvergenceError("step halving failed in the ordinal model")
        theta, change = new, ll_new - ll
        ll, score, info = ll_new, score_new, info_new
        se = np.sqrt(np.abs(np.diag(linalg.inv(info))))
        if np.max(np.abs(step) / se) < tol or abs(change) < 1e-13:
            break
    else:
        raise ConvergenceError(
            f"the ordinal model did not converge in {max_iter} iterations; a predictor may "
            f"separate the outcome levels (largest |beta| {np.max(np.abs(theta[k - 1:])):.3g})"
        )
    per_sd = np.abs(theta[k - 1 :]) * Xa.std(axis=0)
    if np.max(per_sd, initial=0.0) > 20:
        raise ConvergenceError(
            f"the slope of `{cols[int(np.argmax(per_sd))]}` exceeds 20 log-odds per SD: the "
            "predictor separates the outcome levels (complete or quasi-complete separation)"
        )
    return OrdinalFit(
        alpha=theta[: k - 1].copy(),
        beta=theta[k - 1 :].copy(),
        cov=linalg.inv(info),
        loglik=ll,
        loglik_null=ll_null,
        n_iter=it,
        columns=cols,
        design=(Xa, yc),
    )


# --------------------------------------------------------------------------------------------
# the proportional-odds test and the ordinal C
# --------------------------------------------------------------------------------------------
def brant_test(X: Any, y: Any, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Brant's (1990) Wald test of the proportional-odds assumption, omnibus and per column.

    Parameters
    ----------
    X : array-like, shape (n, p)
        Design without intercept, as :func:`fit_ordinal`.
    y : array-like of int
        Outcome codes 0..K-1.
    columns : sequence of str, optional
        Names of the columns of ``X``.

    Returns
    -------
    DataFrame
        ``term`` ("omnibus", then each column), ``chi2``, ``df``, ``p_value``. A small
        ``p_value`` says the slope of that column differs between the cumulative splits:
        the proportional-odds model then misrepresents it, and the two-step model
        (:mod:`radiomics_aln.burden`) is the fallback.

    Notes
    -----
    The K-1 binary logits ``Y >= j`` are fitted separately (:func:`fit_logistic`); with
    ``p_j`` their fitted probabilities the slopes' joint covariance has blocks
    ``Var(b_j)`` (each fit's inverse information) and, for j < l,
    ``Cov(b_j, b_l) = (X'W_j X)^-1 X'W_jl X (X'W_l X)^-1`` with
    ``W_jl = diag(p_l (1 - p_j))`` (intercept rows dropped; Brant 1990, eq. 2.3-2.5). With
    ``D`` the differences ``b_1 - b_j`` (j = 2..K-1), ``X2 = (Db)'(D V D')^-1 (Db)`` on
    ``p (K-2)`` degrees of freedom; per column the same on its coefficients only, ``K-2``
    degrees of freedom. This is what the R package ``brant`` computes; the reference is a
    line-by-line R computation with ``glm`` (``tests/reference/ordinal.R``).

    References
    ----------
    Brant R. Assessing proportionality in the proportional odds model for ordinal logistic
    regression. Biometrics 1990;46:1171-1178.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=300)
    >>> y = (x + rng.logistic(size=300) > -0.5).astype(int) + (x + rng.logistic(size=300) > 1)
    >>> brant_test(x[:, None], y, columns=["x"])[["term", "df"]]
          term  df
    0  omnibus   1
    1        x   1
    """
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    yc = check_ordinal(y)
    cols = [f"x{j}" for j in range(Xa.shape[1])] if columns is None else list(columns)
    n, p = Xa.shape
    k = int(yc.max()) + 1
    full = np.column_stack([np.ones(n), Xa])
    fits = [fit_logistic(full, (yc >= j).astype(float), columns=["(Intercept)", *cols])
            for j in range(1, k)]  # fmt: skip
    b = np.concatenate([f.coef[1:] for f in fits])
    prob = [special.expit(full @ f.coef) for f in fits]
    V = np.zeros((p * (k - 1), p * (k - 1)))

    def blk(j: int) -> slice:
        return slice(j * p, (j + 1) * p)

    for j, f in enumerate(fits):
        V[blk(j), blk(j)] = f.cov[1:, 1:]
    for j in range(k - 2):
        for m in range(j + 1, k - 1):
            inv_j = linalg.inv(full.T @ (full * (prob[j] * (1 - prob[j]))[:, None]))
            inv_m = linalg.inv(full.T @ (full * (prob[m] * (1 - prob[m]))[:, None]))
            mid = full.T @ (full * (prob[m] * (1 - prob[j]))[:, None])
            c = (inv_j @ mid @ inv_m)[1:, 1:]
            V[blk(j), blk(m)] = c
            V[blk(m), blk(j)] = c.T
    D = np.zeros((p * (k - 2), p * (k - 1)))
    for j in range(1, k - 1):
        D[(j - 1) * p : j * p, blk(0)] = np.eye(p)
        D[(j - 1) * p : j * p, blk(j)] = -np.eye(p)

    def stat(rows: Sequence[int]) -> float:
        Dr = D[list(rows)]
        d = Dr @ b
        return float(d @ linalg.solve(Dr @ V @ Dr.T, d))

    out = [("omnibus", stat(range(D.shape[0])), p * (k - 2))]
    for c, name in enumerate(cols):
        out.append((name, stat([c + p * m for m in range(k - 2)]), k - 2))
    table = pd.DataFrame(out, columns=["term", "chi2", "df"])
    table["p_value"] = special.chdtrc(table["df"], table["chi2"])
    return table


def ordinal_c(y: Any, lp: Any) -> pd.Series:
    """Harrell's generalized C and Somers' Dxy of a score against an ordinal outcome.

    Parameters
    ----------
    y : array-like of int
        Ordinal outcome (any ordered integer codes, at least two levels).
    lp : array-like of float
        Scores, higher meaning a higher level (e.g. the linear predictor ``x'beta``).

    Returns
    -------
    Series
        ``c_index`` and ``dxy`` (= 2 C - 1).

    Notes
    -----
    Over all pairs of patients with different ``y``, the share in which the patient with the
    higher level has the higher score, ties in ``lp`` counting 1/2: the weighted mean of the
    pairwise AUCs (:func:`~radiomics_aln.metrics.c_statistic`) of every pair of levels,
    weighted by ``n_a n_b``. Equals ``Hmisc::rcorr.cens(lp, y)`` and, up to the binning of
    ``lrm.fit``'s Fortran, ``rms::lrm``'s C (``Dxy / 2 + 0.5``).

    Examples
    --------
    >>> ordinal_c([0, 0, 1, 2, 2], [0.1, 0.4, 0.3, 0.8, 0.2]).round(4).to_dict()
    {'c_index': 0.625, 'dxy': 0.25}
    """
    yv = np.asarray(y, dtype=float).ravel()
    s = np.asarray(lp, dtype=float).ravel()
    if yv.size != s.size:
        raise InputError(f"y has {yv.size} values but lp has {s.size}")
    if not (np.all(np.isfinite(yv)) and np.all(np.isfinite(s))):
        raise InputError("y and lp must be finite (no missing values)")
    levels = np.unique(yv)
    if levels.size < 2:
        raise InputError("the ordinal C needs at least two outcome levels")
    num = den = 0.0
    for i, a in enumerate(levels):
        for b in levels[i + 1 :]:
            sel = (yv == a) | (yv == b)
            w = float(np.sum(yv == a)) * float(np.sum(yv == b))
            num += w * c_statistic((yv[sel] == b).astype(int), s[sel])
            den += w
    c = num / den
    return pd.Series({"c_index": c, "dxy": 2 * c - 1})


# --------------------------------------------------------------------------------------------
# the model on a DataFrame, and its nomogram
# --------------------------------------------------------------------------------------------
class OrdinalNomogram(SummaryHTML, BaseEstimator):
    """Proportional-odds model of an ordinal endpoint on a DataFrame, with its nomogram.

    One points scale as ``rms::nomogram`` (each predictor's axis spans its contribution
    ``x'beta`` over its values, the widest spanning ``maxscale`` points) and one
    exceedance-probability axis per cumulative split: total points ``t`` give
    ``P(Y >= j) = expit(alpha_j + points_intercept_ - alpha_1 + t / points_scale_)``,
    as ``nomogram(fit, fun = list(plogis, function(x) plogis(x - alpha_1 + alpha_j)))``.

    Parameters
    ----------
    predictors : sequence of str, optional
        Columns of ``data`` (default: every column except the outcome).
    reference_levels : mapping, optional
        ``{predictor: level}``: reference level of a categorical predictor.
    level_names : sequence of str, optional
        Names of the outcome levels 0..K-1 for tables and axes (e.g. "N0", "N1-2", "N>=3").
    maxscale : float
        Width of the points scale (rms: 100).
    nint : int
        Intervals of a continuous predictor's axis (``pretty(range, nint)``; rms: 10).

    Attributes
    ----------
    fit_ : OrdinalFit
    terms_ : list of Term
    points_scale_, points_intercept_ : float
        ``total points = (alpha_1 + x'beta - points_intercept_) * points_scale_``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"score": rng.normal(size=200), "t": rng.choice(["T1", "T2"], 200)})
    >>> lat = d["score"] + 0.8 * (d["t"] == "T2") + rng.logistic(size=200)
    >>> d["burden"] = (lat > 0).astype(int) + (lat > 2).astype(int)
    >>> m = OrdinalNomogram(level_names=["N0", "N1-2", "N>=3"]).fit(d, "burden")
    >>> m.predict_proba(d.head(2)).round(3).shape
    (2, 3)
    """

    def __init__(
        self,
        predictors: Sequence[str] | None = None,
        *,
        reference_levels: Mapping[str, Any] | None = None,
        level_names: Sequence[str] | None = None,
        maxscale: float = 100.0,
        nint: int = 10,
    ) -> None:
        self.predictors = predictors
        self.reference_levels = reference_levels
        self.level_names = level_names
        self.maxscale = maxscale
        self.nint = nint

    def fit(self, data: Any, y: Any) -> OrdinalNomogram:
        """Fit on ``data``; ``y`` is a column name of ``data`` or the outcome codes."""
        data = as_frame(data)
        if isinstance(y, str):
            if y not in data.columns:
                raise InputError(f"outcome column `{y}` is not in data")
            yv, yname = data[y].to_numpy(), y
        else:
            yv, yname = np.asarray(y), "y"
        if len(yv) != len(data):
            raise InputError(f"outcome has {len(yv)} values but data has {len(data)} rows")
        n_levels = None if self.level_names is None else len(self.level_names)
        codes = check_ordinal(yv, yname, n_levels=n_levels)
        k = int(codes.max()) + 1 if n_levels is None else n_levels
        names = [str(v) for v in (self.level_names or range(k))]
        if len(names) != k:
            raise InputError(f"level_names has {len(names)} names for {k} outcome levels")
        preds = list(self.predictors) if self.predictors is not None else [
            c for c in data.columns if c != yname]  # fmt: skip
        missing = [c for c in preds if c not in data.columns]
        if missing:
            raise InputError(f"data lacks predictor column(s): {format_items(missing)}")
        self.terms_: list[Term] = make_terms(data, preds, self.reference_levels)
        X = design_matrix(data, self.terms_)[:, 1:]
        columns = [c for t in self.terms_ for c in t.columns]
        self.fit_ = fit_ordinal(X, codes, columns=columns)
        self.level_names_ = names
        self.outcome_ = yname
        self._setup_points(data)
        return self

    # ------------------------------------------------------------------ prediction
    def _design(self, data: Any) -> np.ndarray:
        check_is_fitted(self, "fit_")
        return design_matrix(as_frame(data), self.terms_)[:, 1:]

    def linear_predictor(self, data: Any) -> np.ndarray:
        """``x'beta`` per row (without intercept; the score of :func:`ordinal_c`)."""
        return self.fit_.linear_predictor(self._design(data))

    def exceedance(self, data: Any) -> pd.DataFrame:
        """``P(Y >= j)`` per row, one column per split: ``P(<level j> or higher)``, the
        last ``P(<top level>)``."""
        data = as_frame(data)
        ex = self.fit_.exceedance(self._design(data))
        cols = [self._split_label(j) for j in range(1, len(self.level_names_))]
        return pd.DataFrame(ex, index=data.index, columns=cols)

    def _split_label(self, j: int) -> str:
        name = self.level_names_[j]
        return f"P({name})" if j == len(self.level_names_) - 1 else f"P({name} or higher)"

    def predict_proba(self, data: Any) -> np.ndarray:
        """``P(Y = k)``, shape (n, K)."""
        return self.fit_.class_probabilities(self._design(data))

    def brant_test(self) -> pd.DataFrame:
        """:func:`brant_test` on the training data of the fit."""
        check_is_fitted(self, "fit_")
        if self.fit_.design is None:
            raise InputError("a model loaded from JSON has no training data: run brant_test() "
                             "on the fitted model, or brant_test(X, y) on the data")  # fmt: skip
        X, y = self.fit_.design
        return brant_test(X, y, columns=self.fit_.columns)

    @property
    def summary(self) -> pd.DataFrame:
        """:attr:`OrdinalFit.summary`, the intercepts named by the outcome levels."""
        check_is_fitted(self, "fit_")
        table = self.fit_.summary
        k = self.fit_.alpha.size
        table.loc[: k - 1, "term"] = [f"y>={n}" for n in self.level_names_[1:]]
        return table

    # ------------------------------------------------------------------ points (rms::nomogram)
    def _setup_points(self, data: pd.DataFrame) -> None:
        axes = term_axes(self.terms_, self.fit_.beta, data, int(self.nint))
        width = max(float(np.ptp(a["contrib"])) for a in axes.values())
        if not width > 1e-10:
            raise InputError("every slope of the ordinal model is 0: a nomogram has no scale")
        sc = float(self.maxscale) / width
        for a in axes.values():
            a["min"] = float(np.min(a["contrib"]))
            a["points"] = [float(v) for v in (a["contrib"] - a["min"]) * sc]
        self.points_scale_ = sc
        self.points_intercept_ = float(self.fit_.alpha[0] + sum(a["min"] for a in axes.values()))
        self._axes = axes

    def points_table(self) -> pd.DataFrame:
        """``predictor``, ``value``, ``points``, ``discrete``: the predictor axes."""
        check_is_fitted(self, "fit_")
        rows = [
            {"predictor": name, "value": v, "points": pts, "discrete": a["discrete"]}
            for name, a in self._axes.items()
            for v, pts in zip(a["values"], a["points"], strict=True)
        ]
        return pd.DataFrame(rows)

    def points(self, data: Any) -> pd.Series:
        """Total points per row: ``(alpha_1 + x'beta - points_intercept_) * points_scale_``."""
        data = as_frame(data)
        lp = self.fit_.alpha[0] + self.linear_predictor(data)
        return pd.Series((lp - self.points_intercept_) * self.points_scale_, index=data.index,
                         name="total_points")  # fmt: skip

    def probability_axes(self, probabilities: Sequence[float] | None = None) -> pd.DataFrame:
        """Positions on the total-points scale of each split's exceedance probabilities.

        Returns
        -------
        DataFrame
            ``split`` (as the columns of :meth:`exceedance`), ``probability``,
            ``total_points``: exact positions
            (rms interpolates on a 1000-point grid and agrees to ~1e-7 points). Default
            ticks: 0.05, 0.1, 0.2, ..., 0.9, 0.95 within the reachable total points.
        """
        check_is_fitted(self, "fit_")
        probs = np.asarray(
            probabilities if probabilities is not None
            else [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95], dtype=float,
        )  # fmt: skip
        probs = probs[(probs > 0) & (probs < 1)]
        t_max = sum(max(a["points"]) for a in self._axes.values())
        rows = []
        for j in range(len(self.level_names_) - 1):
            shift = self.fit_.alpha[j] - self.fit_.alpha[0]
            t = (special.logit(probs) - shift - self.points_intercept_) * self.points_scale_
            keep = (t >= -1e-9) & (t <= t_max + 1e-9) if probabilities is None else t == t
            rows += [{"split": self._split_label(j + 1), "probability": float(pv),
                      "total_points": float(tv)}
                     for pv, tv in zip(probs[keep], t[keep], strict=True)]  # fmt: skip
        return pd.DataFrame(rows, columns=["split", "probability", "total_points"])

    def plot(
        self,
        ax: Any = None,
        *,
        labels: Mapping[str, str] | None = None,
        level_labels: Mapping[str, Mapping[Any, str]] | None = None,
        **kwargs: Any,
    ):
        """Draw the nomogram: Points, predictors, Total Points, one row per split (rms
        layout: total points 0 to the largest sum, compressed onto the Points width).

        ``labels`` names the predictor axes and ``level_labels`` (``{predictor: {level:
        text}}``) the levels of categorical ones, e.g. from
        :meth:`radiomics_aln.data_dictionary.DataDictionary.nomogram_labels`; a predictor not
        named keeps its column name. ``**kwargs`` go to
        :func:`radiomics_aln.nomogram_plot.draw_nomogram`. Returns the axes."""
        import matplotlib.pyplot as plt

        check_is_fitted(self, "fit_")
        ax = plt.gca() if ax is None else ax
        labels, levels = dict(labels or {}), dict(level_labels or {})
        ms = float(self.maxscale)
        ticks = r_pretty(0, ms, int(self.nint))
        rows: list[tuple[str, list[float], list[Any]]] = [("Points", list(ticks), list(ticks))]
        for name, a in self._axes.items():
            names = levels.get(name, {})
            values = [names.get(v, v) for v in a["values"]] if a["discrete"] else a["values"]
            rows.append((labels.get(name, name), a["points"], values))
        t_max = sum(max(a["points"]) for a in self._axes.values())
        total = r_pretty(0, t_max, int(self.nint))
        shrink = ms / float(total[-1])
        rows.append(("Total Points", [float(v) * shrink for v in total], list(total)))
        axes = self.probability_axes()
        for split, grp in axes.groupby("split", sort=False):
            rows.append((str(split), list(grp["total_points"] * shrink),
                         list(grp["probability"])))  # fmt: skip
        discrete = [False] + [bool(a["discrete"]) for a in self._axes.values()]
        discrete += [False] * (len(rows) - len(discrete))
        return draw_nomogram(ax, rows, discrete=discrete, maxscale=ms, **kwargs)

    # ------------------------------------------------------------------ persistence
    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """Serialize the fitted model (terms, coefficients, covariance, points axes) as JSON;
        the training data is not stored (:meth:`brant_test` needs the fitted object)."""
        check_is_fitted(self, "fit_")
        f = self.fit_
        state = {
            "outcome": self.outcome_,
            "level_names": self.level_names_,
            "terms": [t.to_dict() for t in self.terms_],
            "alpha": [float(v) for v in f.alpha],
            "beta": [float(v) for v in f.beta],
            "cov": [[float(v) for v in row] for row in f.cov],
            "loglik": float(f.loglik),
            "loglik_null": float(f.loglik_null),
            "n_iter": int(f.n_iter),
            "columns": list(f.columns),
            "axes": {n: {"values": a["values"], "contrib": [float(v) for v in a["contrib"]],
                         "discrete": bool(a["discrete"]), "min": float(a["min"]),
                         "points": [float(v) for v in a["points"]]}
                     for n, a in self._axes.items()},
            "points_scale": float(self.points_scale_),
            "points_intercept": float(self.points_intercept_),
        }  # fmt: skip
        params = self.get_params()
        params["predictors"] = None if self.predictors is None else list(self.predictors)
        params["level_names"] = None if self.level_names is None else list(self.level_names)
        params["reference_levels"] = (
            {k: str(v) for k, v in self.reference_levels.items()} if self.reference_levels
            else None
        )  # fmt: skip
        return dump_model("OrdinalNomogram", params, state, path)

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> OrdinalNomogram:
        """Rebuild a model written by :meth:`to_json` (a path or the JSON text); every key and
        value is checked first and a bad one is named."""
        params = Record({k: ANY if k in ("predictors", "reference_levels", "level_names")
                         else SCALAR for k in cls().get_params()})  # fmt: skip
        doc = load_model(source, "OrdinalNomogram", params=params, state=_STATE_SCHEMA)
        with rebuilding(doc):
            st = doc["state"]
            obj = cls(**doc["params"])
            k, p = len(st["alpha"]), len(st["beta"])
            if len(st["cov"]) != k + p or any(len(row) != k + p for row in st["cov"]):
                raise ValueError(f"state.cov is not a {k + p} x {k + p} matrix")
            if len(st["columns"]) != p or len(st["level_names"]) != k + 1:
                raise ValueError("state.columns / level_names do not match alpha and beta")
            obj.fit_ = OrdinalFit(
                alpha=np.asarray(st["alpha"], dtype=float),
                beta=np.asarray(st["beta"], dtype=float),
                cov=np.asarray(st["cov"], dtype=float),
                loglik=float(st["loglik"]), loglik_null=float(st["loglik_null"]),
                n_iter=int(st["n_iter"]), columns=list(st["columns"]),
            )  # fmt: skip
            obj.terms_ = [Term.from_dict(d) for d in st["terms"]]
            if [c for t in obj.terms_ for c in t.columns] != obj.fit_.columns:
                raise ValueError("state.terms do not give state.columns")
            obj.level_names_ = list(st["level_names"])
            obj.outcome_ = st["outcome"]
            obj._axes = {n: dict(a, contrib=np.asarray(a["contrib"], dtype=float))
                         for n, a in st["axes"].items()}  # fmt: skip
            obj.points_scale_ = float(st["points_scale"])
            obj.points_intercept_ = float(st["points_intercept"])
        return obj


_STATE_SCHEMA = Record(
    {
        "outcome": STR,
        "level_names": ListOf(STR),
        "terms": ListOf(TERM_RECORD),
        "alpha": ListOf(NUM),
        "beta": ListOf(NUM),
        "cov": ListOf(ListOf(NUM)),
        "loglik": NUM,
        "loglik_null": NUM,
        "n_iter": INT,
        "columns": ListOf(STR),
        "axes": MapOf(Record({"values": ListOf(SCALAR), "contrib": ListOf(NUM),
                              "discrete": BOOL, "min": NUM, "points": ListOf(NUM)})),
        "points_scale": NUM,
        "points_intercept": NUM,
    }
)  # fmt: skip
