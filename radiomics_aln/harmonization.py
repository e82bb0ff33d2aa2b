"""ComBat harmonization of features across batches (scanners, centres), fitted on training only.

:class:`ComBat` is the empirical Bayes location/scale adjustment of Johnson, Li & Rabinovic
(2007), as Fortin et al. (2017, 2018) applied it to imaging features, written as a
scikit-learn transformer that fits on the training cohort and applies to any cohort without
learning from it:

* on the training data its output equals R's ``sva::ComBat`` (parametric, non-parametric and
  mean-only variants, with or without covariates, with or without ``ref.batch``) to 1e-8
  (``tests/reference/combat.R``);
* a batch seen in training is adjusted with the stored batch parameters, as is;
* a batch **not** seen in training (a new hospital or scanner) is standardised with the stored
  reference (grand mean, pooled variance, covariate effects), its location and scale are
  estimated from that batch's own features (never its outcomes) with the same empirical Bayes
  shrinkage ComBat uses for every batch, and it is mapped onto the training reference -- exactly
  what ``sva::ComBat(..., ref.batch=)`` computes for a non-reference batch;
* the fitted object never changes when it transforms.

The diagnostics (:func:`batch_effect_table`, :func:`harmonization_diagnostics`) give per
feature the share of variance explained by batch (one-way ANOVA eta squared) and a
Kruskal-Wallis test, before and after; :func:`plot_batch_distributions` draws a few features
by batch. See ``docs/harmonization.md``.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from radiomics_aln._display import SummaryHTML
from radiomics_aln._plotting import get_ax, series_colour
from radiomics_aln._validation import format_items
from radiomics_aln.exceptions import DataWarning, InputError, StatisticalWarning
from radiomics_aln.io import (
    BOOL,
    INT,
    NUM,
    STR,
    STR_OR_NULL,
    ListOf,
    Record,
    dump_model,
    load_model,
    rebuilding,
)

__all__ = [
    "ComBat",
    "batch_effect_table",
    "harmonization_diagnostics",
    "plot_batch_distributions",
    "SMALL_BATCH_OPTIONS",
]

#: What :meth:`ComBat.transform` does with a new batch smaller than ``min_batch_size``.
SMALL_BATCH_OPTIONS = ("error", "identity")
_MAX_ITER = 10_000  # it.sol has no cap in sva; this one is never reached on sane data


# --------------------------------------------------------------------------- input checks


def _features(X: Any, name: str = "X") -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        df = X.copy()
        df.columns = [str(c) for c in df.columns]
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise InputError(f"`{name}` must be a 2-D table (cases x features), got shape {arr.shape}")
        df = pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise InputError(f"`{name}` is empty (shape {df.shape})")
    try:
        df = df.astype(float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`{name}` must hold numbers only: {exc}") from None
    bad = ~np.isfinite(df.to_numpy())
    if bad.any():
        rows, cols = np.nonzero(bad)
        cells = [f"({df.index[r]!r}, {df.columns[c]})" for r, c in zip(rows, cols, strict=True)]
        raise InputError(
            f"`{name}` has {bad.sum()} missing or infinite value(s) at (case, feature) "
            f"{format_items(cells)}; ComBat needs every value -- drop or impute those features "
            "or cases first (a missing value is never guessed)"
        )
    return df


def _batches(batch: Any, X: pd.DataFrame) -> np.ndarray:
    if isinstance(batch, pd.Series) and not isinstance(X.index, pd.RangeIndex):
        if not batch.index.equals(X.index):
            if set(batch.index) >= set(X.index):
                batch = batch.reindex(X.index)
            else:
                missing = X.index.difference(batch.index)
                raise InputError(
                    f"`batch` has no value for case(s) {format_items(missing)} of X; give one "
                    "batch per row of X"
                )
    arr = np.asarray(batch, dtype=object).ravel()
    if arr.size != X.shape[0]:
        raise InputError(f"`batch` has {arr.size} values but X has {X.shape[0]} rows")
    missing = pd.isna(arr)
    if missing.any():
        raise InputError(
            f"`batch` is missing for case(s) {format_items(X.index[missing])}; every case needs "
            "its batch (scanner or centre)"
        )
    return np.array([str(b) for b in arr], dtype=object)


def _covariates(covariates: Any, X: pd.DataFrame, names: Sequence[str] | None) -> np.ndarray:
    """The covariate matrix (n x k, numeric) in the order of ``names`` (fit: any order)."""
    if covariates is None:
        if names:
            raise InputError(
                f"this ComBat was fitted with covariates {format_items(names)}; pass them to "
                "transform (`covariates=`)"
            )
        return np.zeros((X.shape[0], 0))
    if isinstance(covariates, pd.DataFrame):
        cov = covariates.copy()
        cov.columns = [str(c) for c in cov.columns]
    else:
        arr = np.asarray(covariates)
        arr = arr.reshape(-1, 1) if arr.ndim == 1 else arr
        cov = pd.DataFrame(arr, columns=[f"z{j}" for j in range(arr.shape[1])])
    if isinstance(covariates, pd.DataFrame) and not cov.index.equals(X.index):
        if set(cov.index) >= set(X.index):
            cov = cov.reindex(X.index)
        elif len(cov) == len(X) and isinstance(cov.index, pd.RangeIndex):
            cov.index = X.index
        else:
            raise InputError(
                f"`covariates` has no row for case(s) {format_items(X.index.difference(cov.index))}"
            )
    if len(cov) != len(X):
        raise InputError(f"`covariates` has {len(cov)} rows but X has {len(X)}")
    if names is not None:
        missing = [c for c in names if c not in cov.columns]
        if missing:
            raise InputError(f"`covariates` lacks column(s) {format_items(missing)} used in fit")
        cov = cov[list(names)]
    for col in cov.columns:
        if not (pd.api.types.is_numeric_dtype(cov[col]) or pd.api.types.is_bool_dtype(cov[col])):
            raise InputError(
                f"covariate {col!r} is not numeric; code it as numbers (for a categorical "
                "covariate: 0/1 columns for all levels but one)"
            )
    arr = cov.to_numpy(dtype=float)
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise InputError(
            f"`covariates` has missing or infinite values for case(s) {format_items(X.index[rows])}"
        )
    return arr


# --------------------------------------------------------------------------- the estimates


def _row_var(a: np.ndarray) -> np.ndarray:
    """Sample variance (n - 1) of each column of ``a`` (cases x features)."""
    return np.var(a, axis=0, ddof=1)


def _priors(gamma_hat: np.ndarray, delta_hat: np.ndarray) -> tuple[float, float, float, float]:
    """gamma.bar, t2, a.prior, b.prior of one batch, across features (sva's aprior/bprior)."""
    m, s2 = np.mean(delta_hat), np.var(delta_hat, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (2 * s2 + m**2) / s2
        b = (m * s2 + m**3) / s2
    return float(np.mean(gamma_hat)), float(np.var(gamma_hat, ddof=1)), a, b


def _postmean(g_hat: Any, g_bar: float, n: Any, d_star: Any, t2: float) -> np.ndarray:
    return (t2 * n * g_hat + d_star * g_bar) / (t2 * n + d_star)


def _it_sol(s: np.ndarray, g_hat: np.ndarray, d_hat: np.ndarray, priors: tuple, conv: float):
    """sva's it.sol: the parametric EB estimates, iterated to a relative change <= conv."""
    g_bar, t2, a, b = priors
    n = s.shape[0]
    g_old, d_old = g_hat, d_hat
    for _ in range(_MAX_ITER):
        g_new = _postmean(g_hat, g_bar, n, d_old, t2)
        sum2 = np.sum((s - g_new) ** 2, axis=0)
        d_new = (0.5 * sum2 + b) / (n / 2 + a - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.max(np.concatenate([np.abs(g_new - g_old) / g_old,
                                            np.abs(d_new - d_old) / d_old]))
        g_old, d_old = g_new, d_new
        if not change > conv:  # NaN stops too (R would fail with an error there)
            break
    return g_new, d_new


def _int_eprior(s: np.ndarray, g_hat: np.ndarray, d_hat: np.ndarray):
    """sva's int.eprior: non-parametric EB, each feature weighted by the others' likelihood.

    The likelihood is computed on the log scale and rescaled before the weighted means (the
    ratio is the same; R's product underflows to 0/0 for batches of some hundreds of cases).
    """
    n, p = s.shape
    g_star, d_star = np.empty(p), np.empty(p)
    for i in range(p):
        keep = np.arange(p) != i
        g, d = g_hat[keep], d_hat[keep]
        sum2 = np.sum((s[:, i][None, :] - g[:, None]) ** 2, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_lh = -(n / 2) * np.log(2 * np.pi * d) - sum2 / (2 * d)
        log_lh[np.isnan(log_lh)] = -np.inf
        w = np.exp(log_lh - np.max(log_lh)) if np.isfinite(np.max(log_lh)) else np.zeros_like(g)
        g_star[i] = np.sum(g * w) / np.sum(w)
        d_star[i] = np.sum(d * w) / np.sum(w)
    return g_star, d_star


def _batch_estimates(
    s: np.ndarray, g_hat: np.ndarray, *, mean_only: bool, parametric: bool, conv: float
) -> tuple[np.ndarray, np.ndarray]:
    """gamma*, delta* of one batch from its standardised data ``s`` (cases x features)."""
    d_hat = np.ones(s.shape[1]) if mean_only else _row_var(s)
    if parametric:
        if mean_only:
            g_bar, t2, _, _ = _priors(g_hat, d_hat)
            return _postmean(g_hat, g_bar, 1, 1, t2), np.ones(s.shape[1])
        return _it_sol(s, g_hat, d_hat, _priors(g_hat, d_hat), conv)
    return _int_eprior(s, g_hat, d_hat)


# --------------------------------------------------------------------------- the estimator


class ComBat(SummaryHTML, TransformerMixin, BaseEstimator):
    """ComBat harmonization (empirical Bayes location/scale per batch), fitted on training data.

    Parameters
    ----------
    parametric : bool, default True
        Parametric priors (``sva::ComBat(par.prior=TRUE)``); False: non-parametric
        (``par.prior=FALSE``, slower: quadratic in the number of features).
    mean_only : bool, default False
        Adjust the location only (``mean.only=TRUE``). Forced (with a warning) when a training
        batch has a single case, as in sva.
    ref_batch : str, optional
        A training batch left unchanged, onto which the others are mapped (``ref.batch=``).
        Without it the reference is the pooled training data (grand mean, pooled variance);
        with a single training batch, that batch is the reference.
    min_batch_size : int, default 10
        A batch not seen in training needs at least this many cases in one ``transform`` call
        to estimate its location and scale.
    small_batch : {"error", "identity"}, default "error"
        A smaller new batch raises :class:`InputError` ("error") or is returned unchanged
        with a :class:`DataWarning` ("identity").
    conv : float, default 1e-4
        Convergence criterion of the parametric iteration (sva's ``it.sol``).

    Attributes
    ----------
    feature_names_in_ : ndarray of str
    batches_ : list of str
        Training batches (sorted), with ``batch_sizes_``.
    reference_ : str or None
        The reference batch (``ref_batch``, or the only training batch), None for the pooled
        reference.
    grand_mean_, var_pooled_ : ndarray
        The reference location and (biased, as sva) pooled variance of each feature.
    covariate_names_ : list of str
        With ``covariate_coef_`` (covariates x features): the preserved covariate effects.
    gamma_star_, delta_star_ : ndarray (batches x features)
        The EB location and scale of each training batch.
    adjusted_ : ndarray of bool
        False for features constant within a training batch (left unadjusted, as sva).
    mean_only_ : bool
        The variant used (``mean_only`` or forced by a one-case batch).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from radiomics_aln.harmonization import ComBat
    >>> rng = np.random.default_rng(0)
    >>> batch = np.repeat(["A", "B"], 20)
    >>> X = pd.DataFrame(rng.normal(size=(40, 5)), columns=list("abcde"))
    >>> X[batch == "B"] = X[batch == "B"] * 2 + 3          # scanner B: shifted and wider
    >>> combat = ComBat().fit(X, batch)
    >>> Xh = combat.transform(X, batch)
    >>> bool(abs(Xh[batch == "A"].mean().mean() - Xh[batch == "B"].mean().mean()) < 0.3)
    True
    >>> new = pd.DataFrame(rng.normal(size=(15, 5)) - 4, columns=list("abcde"))
    >>> combat.transform(new, ["C"] * 15).shape                # a new scanner, its own batch
    (15, 5)
    """

    def __init__(
        self,
        *,
        parametric: bool = True,
        mean_only: bool = False,
        ref_batch: str | None = None,
        min_batch_size: int = 10,
        small_batch: str = "error",
        conv: float = 1e-4,
    ) -> None:
        self.parametric = parametric
        self.mean_only = mean_only
        self.ref_batch = ref_batch
        self.min_batch_size = min_batch_size
        self.small_batch = small_batch
        self.conv = conv

    def _check_params(self) -> None:
        for name in ("parametric", "mean_only"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise InputError(f"`{name}` must be True or False, got {getattr(self, name)!r}")
        if self.small_batch not in SMALL_BATCH_OPTIONS:
            raise InputError(
                f"`small_batch` must be one of {', '.join(SMALL_BATCH_OPTIONS)}, got "
                f"{self.small_batch!r}"
            )
        m = self.min_batch_size
        if isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 2:
            raise InputError(f"`min_batch_size` must be a whole number >= 2, got {m!r}")
        if not (isinstance(self.conv, int | float) and 0 < self.conv < 1):
            raise InputError(f"`conv` must be a number in (0, 1), got {self.conv!r}")

    # -- fit -------------------------------------------------------------------------------

    def fit(self, X: Any, batch: Any, covariates: Any = None) -> ComBat:
        """Fit on the training cohort: ``X`` (cases x features), one ``batch`` per case.

        ``covariates`` (cases x k, numeric) are biological variables whose effect is preserved
        (sva's ``mod``); never the outcome.
        """
        self._check_params()
        df = _features(X)
        b = _batches(batch, df)
        cov = _covariates(covariates, df, None)
        names = (
            [str(c) for c in covariates.columns] if isinstance(covariates, pd.DataFrame)
            else [f"z{j}" for j in range(cov.shape[1])]
        )
        if df.shape[1] < 2:
            raise InputError(
                "ComBat needs at least 2 features (its priors are estimated across features)"
            )
        levels = sorted(set(b))
        if self.ref_batch is not None and str(self.ref_batch) not in levels:
            raise InputError(
                f"ref_batch {self.ref_batch!r} is not a training batch ({format_items(levels)})"
            )
        ref = str(self.ref_batch) if self.ref_batch is not None else None
        if len(levels) == 1:
            ref = levels[0]
        self._fit_arrays(df.to_numpy(), b, levels, ref, cov)
        self.feature_names_in_ = np.asarray(df.columns, dtype=object)
        self.n_features_in_ = df.shape[1]
        self.covariate_names_ = names
        return self

    def _fit_arrays(self, x, b, levels, ref, cov) -> None:
        n = len(b)
        idx = [np.flatnonzero(b == lv) for lv in levels]
        sizes = np.array([len(i) for i in idx])
        adjusted = np.ones(x.shape[1], dtype=bool)
        for i in idx:
            if len(i) > 1:
                adjusted &= np.var(x[i], axis=0) > 0
        if not adjusted.all():
            warnings.warn(
                f"{(~adjusted).sum()} feature(s) are constant within a training batch and are "
                "not adjusted (as sva::ComBat)", DataWarning, stacklevel=3,
            )
        mean_only = bool(self.mean_only)
        if (sizes == 1).any():
            if not mean_only:
                warnings.warn(
                    "a training batch has a single case: the mean-only ComBat is used (as "
                    "sva::ComBat)", StatisticalWarning, stacklevel=3,
                )
            mean_only = True
        batchmod = (b[:, None] == np.array(levels)[None, :]).astype(float)
        r = levels.index(ref) if ref is not None else None
        if r is not None:
            batchmod[:, r] = 1.0
        keep = [j for j in range(cov.shape[1]) if not np.all(cov[:, j] == 1)]
        cov = cov[:, keep]
        self.covariate_keep_ = keep
        design = np.hstack([batchmod, cov])
        if np.linalg.matrix_rank(design) < design.shape[1]:
            raise InputError(
                "the covariates are confounded with batch (or with each other): remove the "
                "confounded covariate(s); ComBat cannot separate their effect from the batch's"
            )
        xa = x[:, adjusted]
        beta = np.linalg.solve(design.T @ design, design.T @ xa)
        nb = len(levels)
        if r is not None:
            grand = beta[r]
            resid = xa[idx[r]] - design[idx[r]] @ beta
            var_pooled = np.mean(resid**2, axis=0)
        else:
            grand = (sizes / n) @ beta[:nb]
            var_pooled = np.mean((xa - design @ beta) ** 2, axis=0)
        cov_coef = beta[nb:]
        stand = grand[None, :] + cov @ cov_coef
        s = (xa - stand) / np.sqrt(var_pooled)
        bd = design[:, :nb]
        gamma_hat = np.linalg.solve(bd.T @ bd, bd.T @ s)
        gamma_star = np.zeros((nb, xa.shape[1]))
        delta_star = np.ones((nb, xa.shape[1]))
        for k, i in enumerate(idx):
            if k == r:
                continue
            gamma_star[k], delta_star[k] = _batch_estimates(
                s[i], gamma_hat[k], mean_only=mean_only, parametric=bool(self.parametric),
                conv=float(self.conv),
            )
        self.batches_ = list(levels)
        self.batch_sizes_ = [int(v) for v in sizes]
        self.reference_ = ref
        self.mean_only_ = mean_only
        self.adjusted_ = adjusted
        p = x.shape[1]
        self.grand_mean_ = _expand(grand, adjusted, p, 0.0)
        self.var_pooled_ = _expand(var_pooled, adjusted, p, 1.0)
        self.covariate_coef_ = np.vstack([_expand(c, adjusted, p, 0.0) for c in cov_coef]) \
            if len(cov_coef) else np.zeros((0, p))
        self.gamma_star_ = np.vstack([_expand(g, adjusted, p, 0.0) for g in gamma_star])
        self.delta_star_ = np.vstack([_expand(d, adjusted, p, 1.0) for d in delta_star])

    # -- transform -------------------------------------------------------------------------

    def transform(self, X: Any, batch: Any, covariates: Any = None) -> pd.DataFrame:
        """Harmonize ``X`` (any cohort); the fitted object is not changed.

        Rows of a training batch get that batch's stored parameters; rows of the reference
        batch are returned unchanged; the rows of each batch not seen in training are treated
        together as one new batch (see the module docstring and ``docs/harmonization.md``).
        Returns a DataFrame with the index of ``X`` (if any) and the training feature names.
        """
        check_is_fitted(self, "gamma_star_")
        df = _features(X)
        missing = [c for c in self.feature_names_in_ if c not in df.columns]
        if missing and isinstance(X, pd.DataFrame):
            raise InputError(f"X lacks feature(s) {format_items(missing)} that ComBat was fitted on")
        if isinstance(X, pd.DataFrame):
            df = df[list(self.feature_names_in_)]
        elif df.shape[1] != self.n_features_in_:
            raise InputError(f"X has {df.shape[1]} features, ComBat was fitted on {self.n_features_in_}")
        else:
            df.columns = list(self.feature_names_in_)
        b = _batches(batch, df)
        names = self.covariate_names_
        cov = _covariates(covariates, df, names if names else None)
        if not names:
            cov = np.zeros((len(df), 0))
        cov = cov[:, self.covariate_keep_] if cov.shape[1] else cov
        x = df.to_numpy()
        stand = self.grand_mean_[None, :] + cov @ self.covariate_coef_
        sd = np.sqrt(self.var_pooled_)
        out = x.copy()
        adj = self.adjusted_
        for lv in sorted(set(b)):
            rows = np.flatnonzero(b == lv)
            if lv == self.reference_:
                continue
            if lv in self.batches_:
                k = self.batches_.index(lv)
                g, d = self.gamma_star_[k], self.delta_star_[k]
                s = (x[rows] - stand[rows]) / sd
                z = (s - g) / np.sqrt(d) * sd + stand[rows]
                out[np.ix_(rows, np.flatnonzero(adj))] = z[:, adj]
            else:
                out[rows] = self._new_batch(x[rows], stand[rows], sd, lv)
        return pd.DataFrame(out, index=df.index, columns=df.columns)

    def _new_batch(self, x: np.ndarray, stand: np.ndarray, sd: np.ndarray, name: str) -> np.ndarray:
        """Map a batch not seen in training onto the training reference (ref.batch formulation)."""
        n = x.shape[0]
        if n < self.min_batch_size:
            msg = (
                f"batch {name!r} was not in the training data and has {n} case(s) here; its "
                f"location and scale need at least min_batch_size={self.min_batch_size} cases "
                "of that batch in one call"
            )
            if self.small_batch == "error":
                raise InputError(
                    msg + " -- transform that batch's cases together, or set "
                    "small_batch='identity' to leave such batches unharmonized"
                )
            warnings.warn(msg + "; its features are left unharmonized", DataWarning, stacklevel=3)
            return x
        adj = self.adjusted_ & (np.var(x, axis=0) > 0)
        if (self.adjusted_ & ~adj).any():
            warnings.warn(
                f"{(self.adjusted_ & ~adj).sum()} feature(s) are constant within new batch "
                f"{name!r} and are not adjusted", DataWarning, stacklevel=3,
            )
        s = (x[:, adj] - stand[:, adj]) / sd[adj]
        g, d = _batch_estimates(
            s, s.mean(axis=0), mean_only=self.mean_only_, parametric=bool(self.parametric),
            conv=float(self.conv),
        )
        out = x.copy()
        out[:, adj] = (s - g) / np.sqrt(d) * sd[adj] + stand[:, adj]
        return out

    def fit_transform(self, X: Any, batch: Any = None, covariates: Any = None, **_: Any) -> pd.DataFrame:
        """``fit(X, batch, covariates).transform(X, batch, covariates)``."""
        if batch is None:
            raise InputError("ComBat needs `batch`: one batch (scanner or centre) per case")
        return self.fit(X, batch, covariates).transform(X, batch, covariates)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "gamma_star_")
        return np.asarray(self.feature_names_in_, dtype=object)

    # -- results ---------------------------------------------------------------------------

    @property
    def summary(self) -> pd.DataFrame:
        """One row per (batch, feature): ``gamma_star``, ``delta_star`` (standardised scale)."""
        check_is_fitted(self, "gamma_star_")
        rows = []
        for k, lv in enumerate(self.batches_):
            rows.append(pd.DataFrame({
                "batch": lv, "n": self.batch_sizes_[k], "feature": self.feature_names_in_,
                "gamma_star": self.gamma_star_[k], "delta_star": self.delta_star_[k],
                "reference": lv == self.reference_, "adjusted": self.adjusted_,
            }))
        return pd.concat(rows, ignore_index=True)

    def plot(self, ax: Any = None) -> Any:
        """gamma* against delta* of every training batch and feature."""
        check_is_fitted(self, "gamma_star_")
        ax = get_ax(ax)
        for k, lv in enumerate(self.batches_):
            ax.scatter(self.gamma_star_[k], self.delta_star_[k], s=12, label=str(lv),
                       color=series_colour(k))
        ax.axvline(0, color="grey", lw=0.8)
        ax.axhline(1, color="grey", lw=0.8)
        ax.set_xlabel("location gamma* (standardised)")
        ax.set_ylabel("scale delta*")
        ax.legend(title="batch", fontsize="small")
        return ax

    # -- persistence -----------------------------------------------------------------------

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """Save the fitted harmonizer as JSON (no pickle); return the text."""
        return dump_model("ComBat", self.get_params(), self.to_state(), path)

    def to_state(self) -> dict[str, Any]:
        """The fitted state as plain data (used by :meth:`to_json` and the study model)."""
        check_is_fitted(self, "gamma_star_")
        return {
            "feature_names_in": [str(f) for f in self.feature_names_in_],
            "batches": list(self.batches_),
            "batch_sizes": list(self.batch_sizes_),
            "reference": self.reference_,
            "mean_only": bool(self.mean_only_),
            "adjusted": [bool(a) for a in self.adjusted_],
            "grand_mean": self.grand_mean_.tolist(),
            "var_pooled": self.var_pooled_.tolist(),
            "covariate_names": list(self.covariate_names_),
            "covariate_keep": list(self.covariate_keep_),
            "covariate_coef": self.covariate_coef_.tolist(),
            "gamma_star": self.gamma_star_.tolist(),
            "delta_star": self.delta_star_.tolist(),
        }

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> ComBat:
        """Load a harmonizer saved by :meth:`to_json` (a path or the JSON text)."""
        return cls._from_doc(source)

    @classmethod
    def _from_doc(cls, source: Any, where: str | None = None, prefix: str = "") -> ComBat:
        doc = load_model(source, "ComBat", params=PARAMS_SCHEMA, state=STATE_SCHEMA, where=where,
                         prefix=prefix)  # fmt: skip
        with rebuilding(doc, prefix):
            return cls.from_state(doc["params"], doc["state"])

    @classmethod
    def from_state(cls, params: dict[str, Any], state: dict[str, Any]) -> ComBat:
        """Rebuild from :meth:`get_params` and :meth:`to_state` data (checked by the caller)."""
        obj = cls(**params)
        obj._check_params()
        p = len(state["feature_names_in"])
        nb = len(state["batches"])
        obj.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
        obj.n_features_in_ = p
        obj.batches_ = list(state["batches"])
        obj.batch_sizes_ = list(state["batch_sizes"])
        obj.reference_ = state["reference"]
        obj.mean_only_ = bool(state["mean_only"])
        obj.adjusted_ = np.asarray(state["adjusted"], dtype=bool)
        obj.grand_mean_ = np.asarray(state["grand_mean"], dtype=float)
        obj.var_pooled_ = np.asarray(state["var_pooled"], dtype=float)
        obj.covariate_names_ = list(state["covariate_names"])
        obj.covariate_keep_ = [int(k) for k in state["covariate_keep"]]
        obj.covariate_coef_ = np.asarray(state["covariate_coef"], dtype=float).reshape(-1, p)
        obj.gamma_star_ = np.asarray(state["gamma_star"], dtype=float).reshape(nb, p)
        obj.delta_star_ = np.asarray(state["delta_star"], dtype=float).reshape(nb, p)
        for name in ("adjusted_", "grand_mean_", "var_pooled_"):
            if len(getattr(obj, name)) != p:
                raise ValueError(f"state.{name[:-1]} does not have one value per feature")
        if len(obj.batch_sizes_) != nb or len(obj.covariate_coef_) != len(obj.covariate_keep_):
            raise ValueError("state.batch_sizes / covariate_coef do not match the batches")
        if obj.reference_ is not None and obj.reference_ not in obj.batches_:
            raise ValueError("state.reference is not one of state.batches")
        if (obj.var_pooled_ <= 0).any() or (obj.delta_star_ <= 0).any():
            raise ValueError("variances must be positive")
        return obj


def _expand(values: np.ndarray, mask: np.ndarray, p: int, fill: float) -> np.ndarray:
    out = np.full(p, fill, dtype=float)
    out[mask] = values
    return out


PARAMS_SCHEMA = Record(
    {
        "parametric": BOOL,
        "mean_only": BOOL,
        "ref_batch": STR_OR_NULL,
        "min_batch_size": INT,
        "small_batch": STR,
        "conv": NUM,
    }
)
STATE_SCHEMA = Record(
    {
        "feature_names_in": ListOf(STR),
        "batches": ListOf(STR),
        "batch_sizes": ListOf(INT),
        "reference": STR_OR_NULL,
        "mean_only": BOOL,
        "adjusted": ListOf(BOOL),
        "grand_mean": ListOf(NUM),
        "var_pooled": ListOf(NUM),
        "covariate_names": ListOf(STR),
        "covariate_keep": ListOf(INT),
        "covariate_coef": ListOf(ListOf(NUM)),
        "gamma_star": ListOf(ListOf(NUM)),
        "delta_star": ListOf(ListOf(NUM)),
    }
)


# --------------------------------------------------------------------------- diagnostics


def batch_effect_table(X: Any, batch: Any) -> pd.DataFrame:
    """Per feature: share of variance explained by batch, and a Kruskal-Wallis test.

    Parameters
    ----------
    X : DataFrame
        Cases x features.
    batch : array-like
        One batch per case; at least two batches are needed.

    Returns
    -------
    DataFrame
        ``feature``, ``n``, ``n_batches``, ``eta_squared`` (between-batch sum of squares over
        the total: the one-way ANOVA R squared), ``statistic`` (Kruskal-Wallis H, ties
        corrected, as R's ``kruskal.test``) and ``p_value``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"f": [1.0, 2.0, 3.0, 11.0, 12.0, 13.0]})
    >>> t = batch_effect_table(X, ["A", "A", "A", "B", "B", "B"])
    >>> round(float(t.loc[0, "eta_squared"]), 4)
    0.974
    """
    df = _features(X)
    b = _batches(batch, df)
    levels = sorted(set(b))
    if len(levels) < 2:
        raise InputError("a batch effect needs at least two batches")
    groups = [np.flatnonzero(b == lv) for lv in levels]
    rows = []
    for col in df.columns:
        v = df[col].to_numpy()
        total = float(np.sum((v - v.mean()) ** 2))
        between = float(sum(len(g) * (v[g].mean() - v.mean()) ** 2 for g in groups))
        if np.ptp(v) > 0:
            h, p = stats.kruskal(*[v[g] for g in groups])
        else:
            h, p = math.nan, math.nan
        rows.append({
            "feature": col, "n": len(v), "n_batches": len(levels),
            "eta_squared": between / total if total > 0 else math.nan,
            "statistic": float(h), "p_value": float(p),
        })
    return pd.DataFrame(rows)


def harmonization_diagnostics(
    before: pd.DataFrame, after: pd.DataFrame, batch: Any, *, cohort: Any = None
) -> pd.DataFrame:
    """:func:`batch_effect_table` before and after harmonization, for all cases and per cohort.

    Parameters
    ----------
    before, after : DataFrame
        The same cases and features, unharmonized and harmonized.
    batch : array-like
        One batch per case.
    cohort : array-like, optional
        One cohort per case: each cohort with at least two batches gets its own rows.

    Returns
    -------
    DataFrame
        ``cohort`` ("all" for every case), ``stage`` ("before"/"after") and the columns of
        :func:`batch_effect_table`.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"f": [1.0, 2.0, 3.0, 11.0, 12.0, 13.0], "g": [1.0, 3, 2, 5, 4, 6]})
    >>> b = ["A"] * 3 + ["B"] * 3
    >>> d = harmonization_diagnostics(X, ComBat(min_batch_size=2).fit_transform(X, b), b)
    >>> d.groupby("stage")["eta_squared"].max().round(3).to_dict()
    {'after': 0.012, 'before': 0.974}
    """
    before, after = _features(before, "before"), _features(after, "after")
    if not before.index.equals(after.index) or list(before.columns) != list(after.columns):
        raise InputError("`before` and `after` must have the same cases and features")
    b = _batches(batch, before)
    parts: list[tuple[str, np.ndarray]] = [("all", np.ones(len(b), dtype=bool))]
    if cohort is not None:
        c = np.asarray(cohort, dtype=object)
        for name in pd.unique(c):
            parts.append((str(name), c == name))
    out = []
    for name, rows in parts:
        if len(set(b[rows])) < 2:
            continue
        for stage, df in (("before", before), ("after", after)):
            t = batch_effect_table(df[rows], b[rows])
            t.insert(0, "stage", stage)
            t.insert(0, "cohort", name)
            out.append(t)
    if not out:
        raise InputError("no cohort has two batches: there is no batch effect to measure")
    return pd.concat(out, ignore_index=True)


def plot_batch_distributions(
    before: pd.DataFrame,
    after: pd.DataFrame,
    batch: Any,
    *,
    features: Sequence[str] | None = None,
    max_features: int = 4,
) -> Any:
    """A figure of a few features' distributions by batch, before (top) and after (bottom).

    ``features`` default: the ``max_features`` features with the largest batch effect before.
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    before, after = _features(before, "before"), _features(after, "after")
    b = _batches(batch, before)
    if features is None:
        t = batch_effect_table(before, b).sort_values("eta_squared", ascending=False)
        features = list(t["feature"].head(max_features))
    features = list(features)
    levels = sorted(set(b))
    fig, axes = plt.subplots(2, len(features), figsize=(2.6 * len(features) + 1, 5.2),
                             squeeze=False)
    for j, f in enumerate(features):
        for r, (stage, df) in enumerate((("before", before), ("after", after))):
            ax = axes[r, j]
            data = [df.loc[b == lv, f].to_numpy() for lv in levels]
            parts = ax.boxplot(data, patch_artist=True, widths=0.6)
            for k, box in enumerate(parts["boxes"]):
                box.set_facecolor(series_colour(k))
                box.set_alpha(0.6)
            ax.set_xticks(range(1, len(levels) + 1), levels, fontsize="small")
            ax.set_title(f"{f}\n{stage}" if r == 0 else stage, fontsize="small")
            ax.tick_params(axis="y", labelsize="x-small")
    fig.tight_layout()
    return fig
