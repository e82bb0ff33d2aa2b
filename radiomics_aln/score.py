"""LASSO radiomics scores (tumour score, peritumoral score, LN score), equal to R's glmnet.

A score is what a radiomics paper publishes: ``score = b0 + sum_i b_i * z_i`` with
``z_i = (x_i - mean_i) / sd_i`` over the features the LASSO keeps. :class:`RadScore` learns it on
the training cohort only (standardization, optional univariate screen, redundancy removal, L1
logistic regression with cross-validated penalty) and applies it unchanged to any cohort.

The L1 logistic fit and its cross-validation reproduce ``glmnet::cv.glmnet(x, y,
family = "binomial", alpha = 1, standardize = TRUE)`` (glmnet 4.1-6); see ``docs/score.md``.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from radiomics_aln import _lasso
from radiomics_aln._display import SummaryHTML
from radiomics_aln._plotting import get_ax
from radiomics_aln._validation import (
    binary_outcome,
    check_columns,
    check_random_state,
    format_items,
)
from radiomics_aln.exceptions import (
    ConvergenceWarning,
    InputError,
    SmallSampleWarning,
    StatisticalWarning,
)
from radiomics_aln.io import (
    BOOL,
    INT,
    NUM,
    NUM_NULL_INF,
    NUM_OR_NULL,
    SCALAR,
    STR,
    STR_OR_NULL,
    ListOf,
    MapOf,
    Record,
    dump_model,
    load_model,
    number,
    rebuilding,
)
from radiomics_aln.selection import RedundancyFilter, UnivariateFilter

__all__ = ["RadScore"]

logger = logging.getLogger(__name__)

_MIN_PER_CLASS = 10


def _check_finite(X: pd.DataFrame) -> None:
    """NaN/inf error naming the columns and cases (the words NaN/inf are in the message)."""
    values = X.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        cols = X.columns[bad.any(axis=0)]
        parts = [
            f"column `{c}` in cases {format_items(X.index[bad[:, X.columns.get_loc(c)]], 5)}"
            for c in cols[:10]
        ]
        more = f" (and {len(cols) - 10} more columns)" if len(cols) > 10 else ""
        raise InputError("X has NaN or inf values: " + "; ".join(parts) + more)


def _fold_fit(
    X: np.ndarray, y: np.ndarray, held: np.ndarray, lambdas: np.ndarray, nlambda: int, ratio: Any
) -> np.ndarray:
    """Link predictions for the held-out rows at the full-data lambdas (one cv.glmnet fold)."""
    with threadpool_limits(1):
        # CV needs the fold predictions to ~1e-9, not the last bits of the coefficients
        path, mean, sd = _lasso.fit_glmnet(
            X[~held], y[~held], nlambda=nlambda, lambda_min_ratio=ratio, tol=1e-10
        )
        a0, beta = _lasso.to_original_scale(path, mean, sd)
        left, right, frac = _lasso.lambda_interp(path.lambdas, lambdas)
        a0_s = a0[left] * frac + a0[right] * (1 - frac)
        beta_s = beta[:, left] * frac + beta[:, right] * (1 - frac)
        return a0_s + X[held] @ beta_s


class RadScore(SummaryHTML, TransformerMixin, BaseEstimator):
    """LASSO logistic radiomics score fitted on training data, applied to any cohort.

    Steps, all learned from the rows passed to :meth:`fit`:

    1. constant features are dropped (with a warning naming them);
    2. z-score standardization with the population sd (divisor n, glmnet's convention);
    3. optional univariate screen (:class:`~radiomics_aln.selection.UnivariateFilter`);
    4. optional redundancy removal (:class:`~radiomics_aln.selection.RedundancyFilter`);
    5. L1-penalized logistic regression on the remaining z-scores over glmnet's lambda path, the
       penalty chosen by stratified k-fold cross-validation (``rule="min"`` or ``"1se"``) or fixed.

    The score is ``intercept_ + sum(coef_ * z)``, the log-odds of the outcome under the LASSO model.

    Parameters
    ----------
    name : str, default "rad_score"
        Name of the output column (e.g. ``"tumor_score"``).
    prefilter : {None, "mannwhitney", "ttest"}, default None
        Univariate screen before redundancy removal.
    prefilter_alpha : float, default 0.05
        p-value threshold of the screen.
    redundancy_threshold : float or None, default 0.9
        Correlation above which features are redundant; ``None`` skips redundancy removal.
    redundancy_method : {"pearson", "spearman"}, default "pearson"
    redundancy_strategy : {"threshold", "mrmr"}, default "threshold"
        ``"mrmr"`` keeps the top ``mrmr_k`` features by mRMR instead.
    mrmr_k : int or None
    cv : int, default 10
        Number of stratified folds (ignored when ``foldid`` is passed to :meth:`fit`).
    scoring : {"deviance", "auc"}, default "deviance"
        CV criterion (``type.measure`` of cv.glmnet).
    rule : {"min", "1se"}, default "min"
        ``"min"``: the largest lambda with the best CV criterion (``lambda.min``); ``"1se"``: the
        largest lambda within one standard error of it (``lambda.1se``).
    fixed_lambda : float or None
        Use this penalty instead of cross-validation (glmnet's ``s=``; ``lambda_`` is fitted state,
        hence the different name).
    nlambda : int, default 100
    lambda_min_ratio : float or None
        Smallest lambda as a fraction of ``lambda_max``; ``None``: 0.01 if n < p else 1e-4.
    random_state : int, numpy Generator or None
        Seeds the fold assignment and the mutual-information jitter (an int gives the same
        result at every fit; a Generator advances).
    n_jobs : int or None
        Folds fitted in parallel (results do not depend on it).

    Attributes
    ----------
    coef_ : Series
        Coefficient per (non-constant) input feature on the z-score scale, 0 when not selected.
    intercept_ : float
    coef_original_ : Series
        Coefficients per unit of the raw feature (``coef_ / scale_``).
    intercept_original_ : float
        ``intercept_ - sum(coef_ * mean_ / scale_)``.
    mean_, scale_ : Series
        Training mean and population sd of every non-constant input feature.
    lambda_, lambda_min_, lambda_1se_ : float
        Chosen penalty and the two cv.glmnet choices (NaN without CV).
    cv_results_ : DataFrame or None
        One row per lambda: ``lambda``, ``log_lambda``, ``cv_mean``, ``cv_se``, ``cv_low``,
        ``cv_high`` (mean -/+ SE), ``n_nonzero``; ``cv_results_.attrs["measure"]``.
    path_ : DataFrame
        z-scale coefficients (columns: candidate features) along the path (index: lambda).
    selected_features_ : list of str
        Features with a nonzero coefficient.
    candidate_features_ : list of str
        Features given to the LASSO after screening and redundancy removal.
    dropped_constant_ : list of str
    foldid_ : ndarray of int or None
        Fold (1..K) of each training row.
    formula_ : str
        The publishable formula, on z-scores and in original feature units.
    n_train_, n_events_ : int

    Notes
    -----
    glmnet minimizes ``-loglik/n + lambda * sum|b_j|`` on columns standardized with divisor n;
    coefficients here are those standardized coefficients (glmnet's ``beta * sd``), and
    ``coef_original_``/``intercept_original_`` equal ``coef(cv.glmnet(...), s=...)`` for the raw
    features. Cross-validation follows cv.glmnet: each fold is fitted on its own lambda path and
    its predictions are interpolated linearly in lambda to the full-data path; the criterion is the
    mean binomial deviance (probabilities clipped to [1e-5, 1 - 1e-5]) or AUC per fold, averaged
    with fold-size weights, with SE ``sqrt(weighted var / (K - 1))``. Screening and redundancy
    removal run once on the whole training cohort before the CV (not inside each fold), as in the
    usual radiomics workflow; the CV error is therefore slightly optimistic.

    References
    ----------
    Friedman J, Hastie T, Tibshirani R. Regularization paths for generalized linear models via
    coordinate descent. J Stat Softw 2010;33(1):1-22.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(120, 6)), columns=[f"tumor__f{i}" for i in range(6)])
    >>> y = (X["tumor__f0"] - X["tumor__f1"] + rng.normal(size=120) > 0).astype(int)
    >>> rs = RadScore(name="tumor_score", random_state=0).fit(X, y)
    >>> rs.transform(X).columns.tolist()
    ['tumor_score']
    >>> rs.coef_.loc[["tumor__f0", "tumor__f1"]].round(2).tolist()
    [1.37, -1.51]
    """

    def __init__(
        self,
        name: str = "rad_score",
        *,
        prefilter: Literal["mannwhitney", "ttest"] | None = None,
        prefilter_alpha: float = 0.05,
        redundancy_threshold: float | None = 0.9,
        redundancy_method: Literal["pearson", "spearman"] = "pearson",
        redundancy_strategy: Literal["threshold", "mrmr"] = "threshold",
        mrmr_k: int | None = None,
        cv: int = 10,
        scoring: Literal["deviance", "auc"] = "deviance",
        rule: Literal["min", "1se"] = "min",
        fixed_lambda: float | None = None,
        nlambda: int = 100,
        lambda_min_ratio: float | None = None,
        random_state: int | np.random.Generator | None = None,
        n_jobs: int | None = None,
    ):
        self.name = name
        self.prefilter = prefilter
        self.prefilter_alpha = prefilter_alpha
        self.redundancy_threshold = redundancy_threshold
        self.redundancy_method = redundancy_method
        self.redundancy_strategy = redundancy_strategy
        self.mrmr_k = mrmr_k
        self.cv = cv
        self.scoring = scoring
        self.rule = rule
        self.fixed_lambda = fixed_lambda
        self.nlambda = nlambda
        self.lambda_min_ratio = lambda_min_ratio
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        if self.prefilter not in (None, "mannwhitney", "ttest"):
            raise ValueError(
                f"prefilter must be None, 'mannwhitney' or 'ttest', got {self.prefilter!r}"
            )
        if self.scoring not in ("deviance", "auc"):
            raise ValueError(f"scoring must be 'deviance' or 'auc', got {self.scoring!r}")
        if self.rule not in ("min", "1se"):
            raise ValueError(f"rule must be 'min' or '1se', got {self.rule!r}")
        if not isinstance(self.cv, int | np.integer) or isinstance(self.cv, bool) or self.cv < 3:
            raise ValueError(f"cv must be an integer >= 3 (cv.glmnet's minimum), got {self.cv!r}")
        if self.fixed_lambda is not None and not (
            isinstance(self.fixed_lambda, int | float) and self.fixed_lambda > 0
        ):
            raise ValueError(f"fixed_lambda must be a positive number, got {self.fixed_lambda!r}")
        if not isinstance(self.nlambda, int | np.integer) or self.nlambda < 3:
            raise ValueError(f"nlambda must be an integer >= 3, got {self.nlambda!r}")
        if self.lambda_min_ratio is not None and not (0 < self.lambda_min_ratio < 1):
            raise ValueError(f"lambda_min_ratio must be in (0, 1), got {self.lambda_min_ratio!r}")

    def _as_frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """Validated float DataFrame; at transform, the fitted columns in the fitted order."""
        if isinstance(X, pd.DataFrame):
            if X.shape[1] and not all(isinstance(c, str) for c in X.columns):
                X = X.set_axis([str(c) for c in X.columns], axis=1)
            if not reset and hasattr(self, "feature_names_in_"):
                # missing columns are an error listing missing and extra ones; extra columns
                # alone (e.g. other ROIs' features in the same table) are ignored
                X = check_columns(X, self.feature_names_in_, "X")
            non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
            if non_numeric:
                raise InputError(f"X has non-numeric column(s): {format_items(non_numeric)}")
            _check_finite(X)
            validate_data(self, X, reset=reset, dtype=float, ensure_all_finite=True)
            if not reset and not hasattr(self, "feature_names_in_"):
                X = X.set_axis(list(self._names_), axis=1)  # fitted on an array: by position
            return X.astype(float)
        arr = validate_data(self, X, reset=reset, dtype=float, ensure_all_finite=False)
        cols = [f"x{i}" for i in range(arr.shape[1])] if reset else list(self._names_)
        frame = pd.DataFrame(arr, columns=cols)
        _check_finite(frame)
        return frame

    def _check_fit_input(self, X: Any, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
        """Parameters, X as a float frame (sets ``_names_``) and y as 0/1, aligned to X."""
        self._check_params()
        if y is None:
            raise InputError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        Xf = self._as_frame(X, reset=True)
        self._names_ = list(Xf.columns)
        if (
            isinstance(X, pd.DataFrame)
            and isinstance(y, pd.Series)
            and not isinstance(y.index, pd.RangeIndex)
            and not y.index.equals(X.index)
        ):
            # both carry case ids: a different order or set of cases is a misalignment
            diff = [f"{a}!={b}" for a, b in zip(X.index, y.index, strict=False) if a != b]
            raise InputError(
                f"y is indexed by other cases than X (or in another order): "
                f"{format_items(diff, 5) or f'{len(y)} vs {len(X)} rows'}; align y to X first"
            )
        y_arr, self.classes_ = binary_outcome(y, "y")
        if y_arr.size != len(Xf):
            raise InputError(f"X has {len(Xf)} rows but y has {y_arr.size}")
        counts = np.bincount(y_arr, minlength=2)
        if counts.min() < _MIN_PER_CLASS:
            warnings.warn(
                f"only {counts.min()} training case(s) with outcome {int(np.argmin(counts))} "
                f"(< {_MIN_PER_CLASS}); the LASSO score will be unstable",
                SmallSampleWarning,
                stacklevel=3,
            )
        return Xf, y_arr

    def fit(self, X: Any, y: Any, *, foldid: Any = None) -> RadScore:
        """Fit the score on the training cohort.

        Parameters
        ----------
        X : DataFrame of shape (n_cases, n_features)
            Training features (index: case ids). Arrays are accepted (names ``x0, x1, ...``).
        y : array-like of 0/1
            Training outcome.
        foldid : array-like of int, optional
            Fold of each row (values 1..K, as cv.glmnet's ``foldid``); default: stratified K-fold
            with ``cv`` folds seeded by ``random_state``.

        Returns
        -------
        self

        Raises
        ------
        InputError
            One outcome class, non-0/1 outcome, NaN/inf (naming columns and cases), length
            mismatch, bad ``foldid``.
        """
        Xf, y_arr = self._check_fit_input(X, y)
        names = self._names_
        n = y_arr.size
        values = Xf.to_numpy(dtype=float)
        mean, sd = _lasso.population_sd(values)
        const = sd <= 1e-12 * np.maximum(1.0, np.abs(mean))
        self.dropped_constant_ = [names[j] for j in np.flatnonzero(const)]
        if self.dropped_constant_:
            warnings.warn(
                f"dropped {len(self.dropped_constant_)} constant feature(s) in the training data: "
                f"{format_items(self.dropped_constant_)}",
                StatisticalWarning,
                stacklevel=2,
            )
        keep = np.flatnonzero(~const)
        kept_names = [names[j] for j in keep]
        self.mean_ = pd.Series(mean[keep], index=kept_names, name="mean")
        self.scale_ = pd.Series(sd[keep], index=kept_names, name="sd")
        Z = (values[:, keep] - mean[keep]) / sd[keep]
        Zf = pd.DataFrame(Z, columns=kept_names)

        cand = list(kept_names)
        self.prefilter_ = None
        if self.prefilter is not None and cand:
            self.prefilter_ = UnivariateFilter(test=self.prefilter, alpha=self.prefilter_alpha)
            self.prefilter_.fit(Zf[cand], y_arr)
            cand = list(self.prefilter_.get_feature_names_out())
        self.redundancy_ = None
        if (self.redundancy_threshold is not None or self.redundancy_strategy == "mrmr") and len(
            cand
        ) > 1:
            self.redundancy_ = RedundancyFilter(
                threshold=self.redundancy_threshold if self.redundancy_threshold else 1.0,
                method=self.redundancy_method,
                strategy=self.redundancy_strategy,
                k=self.mrmr_k,
                random_state=self.random_state,
            )
            self.redundancy_.fit(Zf[cand], y_arr)
            cand = list(self.redundancy_.get_feature_names_out())
        self.candidate_features_ = cand
        Zc = Zf[cand].to_numpy() if cand else np.zeros((n, 0))

        self.foldid_ = self._folds(y_arr, foldid)
        ratio = self.lambda_min_ratio
        if Zc.shape[1] == 0:
            self._fit_intercept_only(y_arr, cand)
            return self
        with threadpool_limits(1):
            full, m_z, sd_z = _lasso.fit_glmnet(
                Zc, y_arr.astype(float), nlambda=self.nlambda, lambda_min_ratio=ratio
            )
        if not full.converged:
            warnings.warn(
                "the LASSO path did not fully converge at some lambda",
                ConvergenceWarning,
                stacklevel=2,
            )
        a0_path, b_path = _lasso.to_original_scale(full, m_z, sd_z)
        lambdas = full.lambdas
        self.path_ = pd.DataFrame(
            b_path.T, index=pd.Index(lambdas, name="lambda"), columns=list(cand)
        )
        self._path_intercepts_ = a0_path
        self.lambda_min_ = float("nan")
        self.lambda_1se_ = float("nan")
        self.cv_results_ = None
        if self.foldid_ is not None and Zc.shape[1] > 0:
            self.cv_results_ = self._cross_validate(Zc, y_arr.astype(float), full, ratio)
            self.lambda_min_ = float(self.cv_results_.attrs["lambda_min"])
            self.lambda_1se_ = float(self.cv_results_.attrs["lambda_1se"])

        # coefficients at the chosen lambda
        if self.fixed_lambda is not None:
            lam = float(self.fixed_lambda)
            seq = np.concatenate([lambdas[lambdas > lam], [lam]])
            with threadpool_limits(1):
                fx, mz2, sz2 = _lasso.fit_glmnet(Zc, y_arr.astype(float), lambdas=seq)
            a0s, bs = _lasso.to_original_scale(fx, mz2, sz2)
            a0, beta = float(a0s[-1]), bs[:, -1]
        elif self.cv_results_ is not None:
            lam = self.lambda_min_ if self.rule == "min" else self.lambda_1se_
            k = int(np.flatnonzero(lambdas == lam)[0])
            a0, beta = float(a0_path[k]), b_path[:, k]
        else:
            lam = float(lambdas[0])
            a0, beta = float(a0_path[0]), b_path[:, 0]
        self._set_coefficients(float(lam), float(a0), beta, cand, y_arr)
        return self

    def _fit_intercept_only(self, y: np.ndarray, cand: list[str]) -> None:
        """No candidate feature left after screening: the score is the logit of the event rate."""
        ybar = float(y.mean())
        self.path_ = pd.DataFrame(
            np.zeros((0, 0)), index=pd.Index([], name="lambda", dtype=float), columns=[]
        )
        self._path_intercepts_ = np.zeros(0)
        self.lambda_min_ = float("nan")
        self.lambda_1se_ = float("nan")
        self.cv_results_ = None
        lam = float(self.fixed_lambda) if self.fixed_lambda is not None else float("nan")
        self._set_coefficients(lam, float(np.log(ybar / (1 - ybar))), np.zeros(0), cand, y)

    def _set_coefficients(
        self, lam: float, a0: float, beta: np.ndarray, cand: list[str], y: np.ndarray
    ) -> None:
        kept_names = list(self.mean_.index)
        self.lambda_ = lam
        coef = pd.Series(0.0, index=kept_names, name="coef")
        if cand:
            coef.loc[cand] = beta
        self.coef_ = coef
        self.intercept_ = a0
        self.coef_original_ = (coef / self.scale_).rename("coef_original")
        self.intercept_original_ = float(a0 - (coef * self.mean_ / self.scale_).sum())
        self.selected_features_ = [f for f in kept_names if coef[f] != 0.0]
        self.n_train_ = int(y.size)
        self.n_events_ = int(y.sum())
        if not self.selected_features_:
            why = (
                "no candidate feature was left after screening"
                if not cand
                else (f"the LASSO kept no feature at lambda={self.lambda_:.4g}")
            )
            warnings.warn(
                f"{why}: {self.name} is the constant {self.intercept_:.4g} (intercept only) "
                "for every case",
                StatisticalWarning,
                stacklevel=3,
            )
        self.formula_ = self.formula()

    def _folds(self, y: np.ndarray, foldid: Any) -> np.ndarray | None:
        if foldid is not None:
            f = np.asarray(foldid)
            if f.ndim != 1 or f.size != y.size:
                raise InputError(f"foldid must have one value per training row ({y.size})")
            try:
                fi = f.astype(int)
            except (TypeError, ValueError):
                raise InputError("foldid must hold integers 1..K") from None
            if np.any(fi != f) or fi.min() < 1 or set(np.unique(fi)) != set(range(1, fi.max() + 1)):
                raise InputError(f"foldid must hold every integer 1..K, got {np.unique(f)}")
            if fi.max() < 3:
                raise InputError("foldid defines fewer than 3 folds (cv.glmnet needs >= 3)")
            return fi
        if self.fixed_lambda is not None:
            return None
        n_splits = int(self.cv)
        counts = np.bincount(y, minlength=2)
        if counts.min() < n_splits:
            warnings.warn(
                f"{n_splits}-fold CV with only {counts.min()} case(s) of the rarer class: some "
                "folds have none",
                SmallSampleWarning,
                stacklevel=3,
            )
        if n_splits > y.size:
            raise InputError(f"cv={n_splits} folds but only {y.size} training cases")
        if counts.max() < n_splits:  # no stratified split exists (sklearn would raise)
            raise InputError(
                f"cv={n_splits} folds need at least {n_splits} training cases in one outcome "
                f"class; there are {counts[0]} without and {counts[1]} with the outcome: use "
                "more training cases or a smaller cv"
            )
        skf = StratifiedKFold(
            n_splits=n_splits, shuffle=True, random_state=check_random_state(self.random_state)
        )
        fid = np.zeros(y.size, dtype=int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for i, (_, test) in enumerate(skf.split(np.zeros(y.size), y), start=1):
                fid[test] = i
        return fid

    def _cross_validate(
        self, Zc: np.ndarray, y: np.ndarray, full: _lasso.LassoPath, ratio: Any
    ) -> pd.DataFrame:
        fid = self.foldid_
        K = int(fid.max())
        lambdas = full.lambdas
        parts = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_fit)(Zc, y, fid == i, lambdas, self.nlambda, ratio)
            for i in range(1, K + 1)
        )
        link = np.empty((y.size, lambdas.size))
        for i, part in enumerate(parts, start=1):
            link[fid == i] = part
        measure = self.scoring
        if measure == "auc" and y.size / K < 10:
            warnings.warn(
                "Too few (< 10) observations per fold for scoring='auc' (as cv.lognet); "
                "changed to scoring='deviance'",
                StatisticalWarning,
                stacklevel=3,
            )
            measure = "deviance"
        res = _lasso.cv_summary(link, y, fid, lambdas, (full.coefs != 0).sum(axis=0), measure)
        out = pd.DataFrame(
            {
                "lambda": lambdas,
                "log_lambda": np.log(lambdas),
                "cv_mean": res.cvm,
                "cv_se": res.cvsd,
                "cv_low": res.cvm - res.cvsd,
                "cv_high": res.cvm + res.cvsd,
                "n_nonzero": res.nzero.astype(int),
            }
        )
        out.attrs.update(
            measure=res.measure,
            lambda_min=float(lambdas[res.index_min]),
            lambda_1se=float(lambdas[res.index_1se]),
        )
        return out

    # ------------------------------------------------------------------ applying
    def decision_function(self, X: Any) -> np.ndarray:
        """The score (log-odds of the outcome) for each row of ``X``."""
        check_is_fitted(self, "coef_")
        Xf = self._as_frame(X, reset=False)
        cols = [c for c in self.selected_features_]
        if not cols:
            return np.full(len(Xf), self.intercept_)
        z = (Xf[cols].to_numpy(dtype=float) - self.mean_[cols].to_numpy()) / self.scale_[
            cols
        ].to_numpy()
        return self.intercept_ + z @ self.coef_[cols].to_numpy()

    def transform(self, X: Any) -> pd.DataFrame:
        """One-column DataFrame (named ``name``) with the score of each row of ``X``.

        Columns are matched by name (any order); columns not seen in fit are ignored, so the
        score can be applied to a table holding other ROIs' features too.

        Raises
        ------
        InputError
            Columns seen in fit are missing (the message lists missing and extra columns), or
            NaN/inf values (naming columns and cases).
        """
        score = self.decision_function(X)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame({self.name: score}, index=index)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities ``[P(y=0), P(y=1)]`` of the LASSO logistic model."""
        p1 = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p1, p1])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``[name]``."""
        check_is_fitted(self, "coef_")
        return np.array([self.name], dtype=object)

    # ------------------------------------------------------------------ reporting
    @property
    def summary(self) -> pd.DataFrame:
        """Intercept and nonzero coefficients.

        Columns: ``coef`` (per training SD, z-scale), ``coef_original`` (per raw unit), ``mean``
        and ``sd`` (training mean and population sd of the feature). The first row is
        ``(Intercept)`` (``coef_original`` holds the raw-unit intercept); rows then follow
        decreasing ``|coef|``. ``summary.attrs`` holds ``lambda``, ``rule`` and, when no feature
        is kept, ``note``.
        """
        check_is_fitted(self, "coef_")
        sel = self.selected_features_
        body = pd.DataFrame(
            {
                "coef": self.coef_[sel],
                "coef_original": self.coef_original_[sel],
                "mean": self.mean_[sel],
                "sd": self.scale_[sel],
            }
        )
        body = body.reindex(body["coef"].abs().sort_values(ascending=False, kind="stable").index)
        head = pd.DataFrame(
            {
                "coef": [self.intercept_],
                "coef_original": [self.intercept_original_],
                "mean": [np.nan],
                "sd": [np.nan],
            },
            index=["(Intercept)"],
        )
        out = pd.concat([head, body]) if len(body) else head
        out.index.name = "term"
        out.attrs["lambda"] = self.lambda_
        out.attrs["rule"] = "fixed" if self.fixed_lambda is not None else self.rule
        if not sel:
            out.attrs["note"] = "no feature kept: the score is constant (intercept only)"
        return out

    def print_summary(self, decimals: int = 4) -> None:
        """Print the penalty choice, the coefficient table and the formula (for a paper)."""
        check_is_fitted(self, "coef_")
        rule = "fixed" if self.fixed_lambda is not None else self.rule
        lines = [
            f"{self.name}: LASSO logistic score on {self.n_train_} training cases "
            f"({self.n_events_} events)",
            f"features: {len(self.mean_)} non-constant -> {len(self.candidate_features_)} after "
            f"screening/redundancy -> {len(self.selected_features_)} selected",
            f"lambda = {self.lambda_:.6g} (rule: {rule}; lambda.min = {self.lambda_min_:.6g}, "
            f"lambda.1se = {self.lambda_1se_:.6g})",
            "",
            self.summary.round(decimals).to_string(),
            "",
            self.formula(digits=max(decimals + 2, 3)),
        ]
        print("\n".join(lines))  # noqa: T201 - printing is this method's purpose

    def formula(self, digits: int = 6) -> str:
        """The score as text, on z-scores and in original units (``digits`` significant digits)."""
        check_is_fitted(self, "coef_")
        fmt = f"{{:.{digits}g}}"
        sel = sorted(self.selected_features_, key=lambda f: -abs(self.coef_[f]))

        def terms(coefs: pd.Series, label: Any) -> str:
            s = ""
            for f in sel:
                c = float(coefs[f])
                s += f" {'-' if c < 0 else '+'} {fmt.format(abs(c))} * {label(f)}"
            return s

        if not sel:
            return (
                f"{self.name} = {fmt.format(self.intercept_)} (constant: the LASSO kept no feature)"
            )
        z_line = f"{self.name} = {fmt.format(self.intercept_)}" + terms(
            self.coef_, lambda f: f"z({f})"
        )

        def centred(f: str) -> str:
            m = float(self.mean_[f])
            return f"({f} {'+' if m < 0 else '-'} {fmt.format(abs(m))})"

        defs = "; ".join(f"z({f}) = {centred(f)} / {fmt.format(self.scale_[f])}" for f in sel)
        raw_line = f"{self.name} = {fmt.format(self.intercept_original_)}" + terms(
            self.coef_original_, lambda f: f
        )
        return f"{z_line}\n  where {defs}\n{raw_line}"

    def plot(
        self,
        ax: Any = None,
        *,
        kind: Literal["coefficients", "path", "cv"] = "coefficients",
        **kwargs: Any,
    ) -> Any:
        """Draw the fitted score on ``ax`` (default: the current axes); return the axes.

        ``kind="coefficients"``: horizontal bars of the nonzero coefficients (z-scale), largest
        |coef| on top; ``max_features=`` caps the bars (by default as many as the axes can
        label at >= 6 pt; the title says when some are left out). ``kind="path"``: the
        coefficients against log(lambda), dashed line at the chosen lambda. ``kind="cv"``: the
        CV criterion with +/- 1 SE bars against log(lambda), lines at lambda.min and lambda.1se
        (not available with ``fixed_lambda``). ``**kwargs`` go to the matplotlib call that draws
        the data (``barh``, ``plot`` or ``errorbar``).
        """
        check_is_fitted(self, "coef_")
        drawers = {
            "coefficients": self._plot_coefficients,
            "path": self._plot_path,
            "cv": self._plot_cv,
        }
        if kind not in drawers:
            raise InputError(f"`kind` must be one of {list(drawers)}, got {kind!r}")
        return drawers[kind](get_ax(ax), **kwargs)

    def _plot_path(self, ax: Any, **kwargs: Any) -> Any:
        logl = np.log(self.path_.index.to_numpy())
        for f in self.path_.columns:
            vals = self.path_[f].to_numpy()
            if np.any(vals != 0):
                ax.plot(logl, vals, label=f if f in self.selected_features_ else None, **kwargs)
        if np.isfinite(self.lambda_):
            ax.axvline(np.log(self.lambda_), color="k", ls="--", lw=1)
        ax.axhline(0.0, color="grey", lw=0.5)
        ax.set_xlabel("log(\u03bb)")
        ax.set_ylabel("coefficient (per SD)")
        ax.set_title(f"{self.name}: LASSO path")
        return ax

    def _plot_cv(self, ax: Any, **kwargs: Any) -> Any:
        if self.cv_results_ is None:
            raise InputError(f"{self.name} was fitted with fixed_lambda: there is no CV curve")
        cvr = self.cv_results_
        opts = {"fmt": "o", "color": "tab:red", "ecolor": "grey", "ms": 3, "capsize": 2}
        opts.update(kwargs)
        ax.errorbar(cvr["log_lambda"], cvr["cv_mean"], yerr=cvr["cv_se"], **opts)
        ax.axvline(np.log(self.lambda_min_), color="k", ls="--", lw=1, label="lambda.min")
        ax.axvline(np.log(self.lambda_1se_), color="k", ls=":", lw=1, label="lambda.1se")
        ax.set_xlabel("log(\u03bb)")
        measure = cvr.attrs.get("measure", "deviance")
        ax.set_ylabel("AUC" if measure == "auc" else "binomial deviance")
        ax.set_title(f"{self.name}: {self.foldid_.max()}-fold CV")
        ax.legend(loc="best", fontsize="small")
        return ax

    def _plot_coefficients(
        self, ax: Any, *, max_features: int | None = None, **kwargs: Any
    ) -> Any:
        body = self.summary.drop(index="(Intercept)")
        n_all = len(body)
        if n_all:
            # one label per bar: rows must be >= ~1.25 font heights for 6 pt labels
            height_pt = ax.get_window_extent().height * 72 / ax.figure.dpi
            fit = max(int(height_pt / (1.25 * 6.0)), 1)
            limit = fit if max_features is None else int(max_features)
            if limit < 1:
                raise InputError(f"`max_features` must be >= 1, got {max_features!r}")
            body = body.iloc[:limit]
            vals = body["coef"].to_numpy()[::-1]
            colors = np.where(vals > 0, "tab:red", "tab:blue")
            ax.barh(np.arange(len(vals)), vals, color=kwargs.pop("color", colors), **kwargs)
            ax.set_yticks(np.arange(len(vals)), body.index[::-1])
            ax.set_ylim(-0.6, len(vals) - 0.4)
            font = float(np.clip(height_pt / max(len(vals), 1) / 1.25, 6.0, 10.0))
            ax.tick_params(axis="y", labelsize=font)
        else:
            ax.text(0.5, 0.5, "no feature kept", ha="center", va="center", transform=ax.transAxes)
        ax.axvline(0.0, color="grey", lw=0.5)
        ax.set_xlabel("coefficient (per SD)")
        shown = f"largest {len(body)} of {n_all}" if len(body) < n_all else f"{n_all}"
        ax.set_title(f"{self.name}: {shown} feature(s), \u03bb = {self.lambda_:.3g}")
        return ax

    # ------------------------------------------------------------------ persistence
    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """JSON text of the fitted score (written to ``path`` too if given); never pickle."""
        check_is_fitted(self, "coef_")
        params = self.get_params()
        if not isinstance(params["random_state"], int | type(None)):
            params["random_state"] = None
        state = {
            "feature_names_in": list(self._names_),
            "has_feature_names": hasattr(self, "feature_names_in_"),
            "mean": self.mean_,
            "scale": self.scale_,
            "coef": self.coef_,
            "intercept": self.intercept_,
            "lambda": self.lambda_,
            "lambda_min": self.lambda_min_,
            "lambda_1se": self.lambda_1se_,
            "dropped_constant": self.dropped_constant_,
            "candidate_features": self.candidate_features_,
            "selected_features": self.selected_features_,
            "foldid": self.foldid_,
            "n_train": self.n_train_,
            "n_events": self.n_events_,
            "path_lambda": self.path_.index.to_numpy(),
            "path_intercept": self._path_intercepts_,
            "path_coef": self.path_.to_numpy().T,
            "cv_results": None if self.cv_results_ is None else self.cv_results_,
            "cv_measure": None
            if self.cv_results_ is None
            else self.cv_results_.attrs.get("measure"),
        }
        return dump_model("RadScore", params, state, path)

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> RadScore:
        """Rebuild a fitted score from :meth:`to_json` output (path or text).

        Every key and value is checked first: a missing or unknown key, a wrong type, or a null
        or NaN where a finite number is needed raises :class:`InputError` naming the key.
        """
        return cls._from_doc(source)

    @classmethod
    def _from_doc(cls, source: Any, where: str | None = None, prefix: str = "") -> RadScore:
        params = Record({k: SCALAR for k in cls().get_params()})
        doc = load_model(source, "RadScore", params=params, state=_STATE_SCHEMA, where=where,
                         prefix=prefix)  # fmt: skip
        with rebuilding(doc, prefix):
            return cls._rebuild(doc)

    @classmethod
    def _rebuild(cls, doc: dict[str, Any]) -> RadScore:
        st = doc["state"]
        obj = cls(**doc["params"])
        names = list(st["feature_names_in"])
        for key in ("mean", "scale", "coef"):
            if list(st[key]) != names:
                raise ValueError(f"state.{key} is not keyed by exactly state.feature_names_in")
        if any(v <= 0 for v in st["scale"].values()):
            raise ValueError("state.scale holds a value <= 0")
        obj._names_ = names
        if st.get("has_feature_names", True):
            obj.feature_names_in_ = np.asarray(names, dtype=object)
        obj.n_features_in_ = len(names)
        obj.mean_ = pd.Series(st["mean"], name="mean", dtype=float)
        obj.scale_ = pd.Series(st["scale"], name="sd", dtype=float)
        obj.coef_ = pd.Series(st["coef"], name="coef", dtype=float)
        obj.intercept_ = float(st["intercept"])
        obj.coef_original_ = (obj.coef_ / obj.scale_).rename("coef_original")
        obj.intercept_original_ = float(obj.intercept_ - (obj.coef_ * obj.mean_ / obj.scale_).sum())
        obj.lambda_ = number(st["lambda"])
        obj.lambda_min_ = number(st["lambda_min"])
        obj.lambda_1se_ = number(st["lambda_1se"])
        obj.dropped_constant_ = list(st["dropped_constant"])
        obj.candidate_features_ = list(st["candidate_features"])
        obj.selected_features_ = list(st["selected_features"])
        obj.foldid_ = None if st["foldid"] is None else np.asarray(st["foldid"], dtype=int)
        obj.n_train_ = int(st["n_train"])
        obj.n_events_ = int(st["n_events"])
        lam_path = np.asarray(st["path_lambda"], dtype=float)
        coefs = np.asarray(st["path_coef"], dtype=float).reshape(
            len(obj.candidate_features_), lam_path.size
        )
        obj.path_ = pd.DataFrame(
            coefs.T,
            index=pd.Index(lam_path, name="lambda"),
            columns=obj.candidate_features_,
        )
        obj._path_intercepts_ = np.asarray(st["path_intercept"], dtype=float)
        obj.prefilter_ = None
        obj.redundancy_ = None
        cvr = st["cv_results"]
        if cvr is None:
            obj.cv_results_ = None
        else:
            data = [[number(v) for v in row] for row in cvr["data"]]
            frame = pd.DataFrame(data, columns=cvr["columns"]).astype(float)
            frame["n_nonzero"] = frame["n_nonzero"].astype(int)
            frame.attrs.update(
                measure=st["cv_measure"], lambda_min=obj.lambda_min_, lambda_1se=obj.lambda_1se_
            )
            obj.cv_results_ = frame
        obj.formula_ = obj.formula()
        return obj

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # a binary outcome is needed: the common checks then pass two-class targets
        tags.classifier_tags = ClassifierTags(multi_class=False)
        tags.transformer_tags.preserves_dtype = ["float64"]  # the score is always float64
        return tags


# What a RadScore file's ``state`` holds (see radiomics_aln.io): the numbers used to compute the
# score must be finite; the CV table may hold null (NaN) and "inf".
_STATE_SCHEMA = Record(
    {
        "feature_names_in": ListOf(STR),
        "?has_feature_names": BOOL,
        "mean": MapOf(NUM),
        "scale": MapOf(NUM),
        "coef": MapOf(NUM),
        "intercept": NUM,
        "lambda": NUM_OR_NULL,
        "lambda_min": NUM_OR_NULL,
        "lambda_1se": NUM_OR_NULL,
        "dropped_constant": ListOf(STR),
        "candidate_features": ListOf(STR),
        "selected_features": ListOf(STR),
        "foldid": ListOf(INT, nullable=True),
        "n_train": INT,
        "n_events": INT,
        "path_lambda": ListOf(NUM),
        "path_intercept": ListOf(NUM),
        "path_coef": ListOf(ListOf(NUM)),
        "cv_results": Record(
            {"columns": ListOf(STR), "index": ListOf(SCALAR), "data": ListOf(ListOf(NUM_NULL_INF))},
            nullable=True,
        ),
        "?cv_measure": STR_OR_NULL,
    }
)
