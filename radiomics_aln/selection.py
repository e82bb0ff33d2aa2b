"""Feature selection before a LASSO score: univariate screen and redundancy removal.

Both selectors are scikit-learn transformers (``SelectorMixin``): they learn a support mask on the
training cohort in ``fit`` and apply it unchanged to any cohort in ``transform``; they keep pandas
column names (``get_feature_names_out``, ``set_output(transform="pandas")``).

- :class:`UnivariateFilter` keeps features whose two-sample test (Mann-Whitney U or Welch t)
  between outcome groups has ``p < alpha``.
- :class:`RedundancyFilter` removes redundancy among correlated features: features are ranked by
  their mutual information with the outcome and, greedily from the most relevant, a feature is kept
  only if its absolute Pearson or Spearman correlation with every feature kept so far is at most
  ``threshold``; or it selects the top ``k`` by mRMR.
- :func:`mutual_information` is the k-nearest-neighbour estimator of Ross (2014) for a continuous
  feature and a binary outcome, vectorized over features (scikit-learn's ``mutual_info_classif``
  computes the same estimate one feature at a time).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import digamma
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from radiomics_aln._validation import (
    binary_outcome,
    check_binary,
    check_finite_frame,
    check_random_state,
)
from radiomics_aln.exceptions import InputError

__all__ = ["mutual_information", "UnivariateFilter", "RedundancyFilter"]

logger = logging.getLogger(__name__)


def _feature_names(X: Any, n_features: int) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        return np.asarray(X.columns, dtype=object).astype(str)
    return np.array([f"x{i}" for i in range(n_features)], dtype=object)


def mutual_information(
    X: Any,
    y: Any,
    *,
    n_neighbors: int = 3,
    random_state: int | np.random.Generator | np.random.RandomState | None = None,
) -> pd.Series:
    """Mutual information (nats) between each continuous feature and a binary outcome.

    Parameters
    ----------
    X : DataFrame or array of shape (n_samples, n_features)
        Continuous features without missing values.
    y : array-like of 0/1
        Outcome.
    n_neighbors : int, default 3
        ``k`` of the nearest-neighbour estimator.
    random_state : int, numpy Generator or None
        Seeds the 1e-10 jitter that breaks ties (as Kraskov et al. advise); the estimate is
        deterministic for a fixed int seed (a ``RandomState`` is accepted too, as in
        scikit-learn).

    Returns
    -------
    Series
        Mutual information per feature (index: feature names), clipped at 0.

    Notes
    -----
    Ross (2014), eq. 2: for case ``i`` of class ``c`` with ``N_c`` cases, ``d_i`` is the distance
    to its ``k``-th nearest neighbour within the class and ``m_i`` the number of cases of any class
    closer than ``d_i`` (itself included); then
    ``I = psi(N) + <psi(k)> - <psi(N_c)> - <psi(m_i)>``. Features are first divided by their
    (population) standard deviation and jittered by ``1e-10 * max(1, mean|x|)`` Gaussian noise,
    exactly as scikit-learn's ``mutual_info_classif(X, y, random_state=...)``, which gives the same
    numbers for the same seed; here the neighbour search is done for all features at once on sorted
    columns (in one dimension the ``k`` nearest neighbours lie within ``k`` sorted positions).

    References
    ----------
    Ross BC. Mutual information between discrete and continuous data sets. PLoS ONE
    2014;9(2):e87357.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> X = np.column_stack([y + rng.normal(size=100), rng.normal(size=100)])
    >>> mi = mutual_information(X, y, random_state=0)
    >>> bool(mi["x0"] > mi["x1"])
    True
    """
    names = _feature_names(X, np.asarray(X).shape[1] if np.ndim(X) == 2 else 0)
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim != 2:
        raise InputError(f"`X` must be two-dimensional, got shape {Xa.shape}")
    yb = check_binary(y, "y")
    if Xa.shape[0] != yb.size:
        raise InputError(f"`X` has {Xa.shape[0]} rows but `y` has {yb.size}")
    if not np.all(np.isfinite(Xa)):
        raise InputError("`X` has missing or non-finite values")
    rng = check_random_state(random_state)
    n, p = Xa.shape
    sd = Xa.std(axis=0)
    sd = np.where(sd < 10 * np.finfo(float).eps, 1.0, sd)
    Xa = Xa / sd
    Xa = Xa + 1e-10 * np.maximum(1.0, np.mean(np.abs(Xa), axis=0)) * rng.standard_normal((n, p))

    counts = np.zeros(n)
    k_all = np.zeros(n)
    radius = np.zeros((n, p))
    for cls in (0, 1):
        m = yb == cls
        cnt = int(m.sum())
        counts[m] = cnt
        if cnt < 2:
            continue
        k = min(n_neighbors, cnt - 1)
        Xc = Xa[m]
        order = np.argsort(Xc, axis=0, kind="stable")
        S = np.take_along_axis(Xc, order, axis=0)
        cand = []
        for off in range(1, k + 1):
            up = np.full_like(S, np.inf)
            up[:-off] = S[off:] - S[:-off]
            down = np.full_like(S, np.inf)
            down[off:] = S[off:] - S[:-off]
            cand.extend((up, down))
        kth = np.partition(np.stack(cand), k - 1, axis=0)[k - 1]
        r = np.empty_like(kth)
        np.put_along_axis(r, order, kth, axis=0)
        radius[m] = np.nextafter(r, 0)
        k_all[m] = k
    keep = counts > 1
    Xk, rk = Xa[keep], radius[keep]
    nk = int(keep.sum())
    if nk == 0:
        return pd.Series(np.zeros(p), index=names, name="mutual_information")
    base = digamma(nk) + np.mean(digamma(k_all[keep])) - np.mean(digamma(counts[keep]))
    mi = np.empty(p)
    for j in range(p):
        x, r = Xk[:, j], rk[:, j]
        s = np.sort(x)
        lo = np.searchsorted(s, x - r, side="left")
        hi = np.searchsorted(s, x + r, side="right")
        # searchsorted bounds can be off by rounding of x +/- r: settle them on |s - x| <= r
        for _ in range(n):
            changed = False
            out_hi = (hi > 0) & (np.abs(s[np.maximum(hi - 1, 0)] - x) > r)
            in_hi = (hi < nk) & (np.abs(s[np.minimum(hi, nk - 1)] - x) <= r)
            out_lo = (lo < nk) & (np.abs(s[np.minimum(lo, nk - 1)] - x) > r) & (lo < hi)
            in_lo = (lo > 0) & (np.abs(s[np.maximum(lo - 1, 0)] - x) <= r)
            if out_hi.any() or in_hi.any() or out_lo.any() or in_lo.any():
                changed = True
                hi = hi - out_hi + in_hi
                lo = lo + out_lo - in_lo
            if not changed:
                break
        mi[j] = base - np.mean(digamma(hi - lo))
    return pd.Series(np.maximum(mi, 0.0), index=names, name="mutual_information")


class _SupervisedSelector(SelectorMixin, BaseEstimator):
    """Shared input handling of the two selectors (pandas names, binary outcome)."""

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # a binary outcome is needed: the common checks then pass two-class targets
        tags.classifier_tags = ClassifierTags(multi_class=False)
        return tags

    def _validate_fit(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(X, pd.DataFrame):
            check_finite_frame(X, "X")
        Xa, ya = validate_data(self, X, y, dtype=float, ensure_min_samples=2)
        yb, self.classes_ = binary_outcome(ya, "y")
        return Xa, yb

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self, "support_")
        return self.support_


class UnivariateFilter(_SupervisedSelector):
    """Keep features that differ between outcome groups (Mann-Whitney U or Welch t-test).

    Parameters
    ----------
    test : {"mannwhitney", "ttest"}, default "mannwhitney"
        ``"mannwhitney"``: two-sided Mann-Whitney U test with R's ``wilcox.test`` defaults: the
        exact p-value when both groups have fewer than 50 cases and the feature has no ties, else
        the normal approximation with tie and continuity correction. ``"ttest"``: two-sided Welch
        t-test (R's ``t.test`` default).
    alpha : float, default 0.05
        Features with ``p_value < alpha`` are kept.

    Attributes
    ----------
    pvalues_ : Series
        p-value per input feature.
    statistics_ : Series
        U (for the outcome-1 group) or t per input feature.
    support_ : ndarray of bool
        Kept features.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> y = np.repeat([0, 1], 30)
    >>> X = pd.DataFrame({"signal": y + rng.normal(size=60), "noise": rng.normal(size=60)})
    >>> UnivariateFilter(alpha=0.05).fit(X, y).get_feature_names_out().tolist()
    ['signal']
    """

    def __init__(
        self, *, test: Literal["mannwhitney", "ttest"] = "mannwhitney", alpha: float = 0.05
    ):
        self.test = test
        self.alpha = alpha

    def fit(self, X: Any, y: Any) -> UnivariateFilter:
        """Compute the p-values on the training rows and the support mask."""
        if self.test not in ("mannwhitney", "ttest"):
            raise ValueError(f"test must be 'mannwhitney' or 'ttest', got {self.test!r}")
        if not (isinstance(self.alpha, int | float) and 0 < self.alpha <= 1):
            raise ValueError(f"alpha must be in (0, 1], got {self.alpha!r}")
        Xa, yb = self._validate_fit(X, y)
        names = _feature_names(X, Xa.shape[1])
        a, b = Xa[yb == 1], Xa[yb == 0]
        with np.errstate(all="ignore"):
            if self.test == "ttest":
                res = stats.ttest_ind(a, b, axis=0, equal_var=False)
            else:
                res = _wilcox_like_r(a, b)
        pv = np.asarray(res.pvalue, dtype=float)
        pv = np.where(np.isnan(pv), 1.0, pv)  # constant features carry no evidence
        self.pvalues_ = pd.Series(pv, index=names, name="p_value")
        self.statistics_ = pd.Series(np.asarray(res.statistic, dtype=float), index=names)
        self.support_ = pv < self.alpha
        if not self.support_.any():
            logger.warning("UnivariateFilter kept no feature at alpha=%s", self.alpha)
        return self


class RedundancyFilter(_SupervisedSelector):
    """Remove redundant features: keep the more relevant of each highly correlated group.

    Parameters
    ----------
    threshold : float, default 0.9
        Two features with ``|r| > threshold`` are redundant (``strategy="threshold"``).
    method : {"pearson", "spearman"}, default "pearson"
        Correlation coefficient.
    strategy : {"threshold", "mrmr"}, default "threshold"
        ``"threshold"``: rank features by mutual information with the outcome (ties: column
        order) and keep a feature only if its ``|r|`` with every already kept feature is at most
        ``threshold``. ``"mrmr"``: select ``k`` features by minimum-redundancy-maximum-relevance.
    k : int or None
        Number of features for ``strategy="mrmr"`` (required there).
    n_neighbors : int, default 3
        ``k`` of the mutual-information estimator (:func:`mutual_information`).
    random_state : int, numpy Generator or None
        Seed of the estimator's tie-breaking jitter; the selection is deterministic for an int
        seed.

    Attributes
    ----------
    relevance_ : Series
        Mutual information of each input feature with the outcome (nats).
    support_ : ndarray of bool
        Kept features.
    dropped_ : DataFrame
        One row per removed feature (``strategy="threshold"``): ``feature``, ``kept`` (the kept
        feature it is most correlated with), ``correlation`` (signed ``r``), ``relevance`` and
        ``kept_relevance``.
    order_ : list of str
        Selected features in order of selection (mRMR) or of relevance (threshold).

    Notes
    -----
    Greedy removal in order of relevance guarantees that no two kept features have
    ``|r| > threshold`` and that each removed feature is correlated above the threshold with a kept
    feature at least as relevant. mRMR (Peng, Long & Ding 2005) starts from the most relevant
    feature and adds the feature maximizing relevance / mean ``|r|`` with those already selected
    (the quotient form, which is free of the scale difference between nats and ``|r|``).
    Constant features have no correlation and zero relevance; they are never "redundant".

    References
    ----------
    Peng H, Long F, Ding C. Feature selection based on mutual information: criteria of
    max-dependency, max-relevance, and min-redundancy. IEEE TPAMI 2005;27(8):1226-1238.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> a = y + rng.normal(size=100)
    >>> X = pd.DataFrame(
    ...     {"a": a, "a_copy": a + 0.01 * rng.normal(size=100), "b": rng.normal(size=100)}
    ... )
    >>> sel = RedundancyFilter(threshold=0.9, random_state=0).fit(X, y)
    >>> sorted(sel.get_feature_names_out().tolist())  # one of a / a_copy, and b
    ['a', 'b']
    """

    def __init__(
        self,
        *,
        threshold: float = 0.9,
        method: Literal["pearson", "spearman"] = "pearson",
        strategy: Literal["threshold", "mrmr"] = "threshold",
        k: int | None = None,
        n_neighbors: int = 3,
        random_state: int | np.random.Generator | None = None,
    ):
        self.threshold = threshold
        self.method = method
        self.strategy = strategy
        self.k = k
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> RedundancyFilter:
        """Learn relevance, correlations and the support mask on the training rows."""
        if self.method not in ("pearson", "spearman"):
            raise ValueError(f"method must be 'pearson' or 'spearman', got {self.method!r}")
        if self.strategy not in ("threshold", "mrmr"):
            raise ValueError(f"strategy must be 'threshold' or 'mrmr', got {self.strategy!r}")
        if not (isinstance(self.threshold, int | float) and 0 < self.threshold <= 1):
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold!r}")
        if self.strategy == "mrmr" and (
            not isinstance(self.k, int | np.integer) or isinstance(self.k, bool) or self.k < 1
        ):
            raise ValueError(f"strategy='mrmr' needs a positive integer k, got {self.k!r}")
        Xa, yb = self._validate_fit(X, y)
        names = _feature_names(X, Xa.shape[1])
        p = Xa.shape[1]
        rel = mutual_information(
            Xa, yb, n_neighbors=self.n_neighbors, random_state=self.random_state
        ).to_numpy()
        self.relevance_ = pd.Series(rel, index=names, name="mutual_information")
        corr = _abs_corr_matrix(Xa, self.method)
        signed = corr[1]
        corr = corr[0]
        support = np.zeros(p, dtype=bool)
        dropped: list[dict[str, Any]] = []
        if self.strategy == "threshold":
            order = np.lexsort((np.arange(p), -rel))
            kept: list[int] = []
            for j in order:
                if kept:
                    cj = corr[j, kept]
                    worst = int(np.argmax(cj))
                    if cj[worst] > self.threshold:
                        other = kept[worst]
                        dropped.append(
                            {
                                "feature": names[j],
                                "kept": names[other],
                                "correlation": float(signed[j, other]),
                                "relevance": float(rel[j]),
                                "kept_relevance": float(rel[other]),
                            }
                        )
                        continue
                kept.append(int(j))
            support[kept] = True
            self.order_ = [names[j] for j in kept]
        else:
            k = min(int(self.k), p)
            chosen = [int(np.lexsort((np.arange(p), -rel))[0])]
            red_sum = corr[:, chosen[0]].copy()
            avail = np.ones(p, dtype=bool)
            avail[chosen[0]] = False
            while len(chosen) < k:
                mean_red = red_sum / len(chosen)
                score = rel / np.maximum(mean_red, 1e-12)
                score[~avail] = -np.inf
                j = int(np.argmax(score))
                chosen.append(j)
                avail[j] = False
                red_sum += corr[:, j]
            support[chosen] = True
            self.order_ = [names[j] for j in chosen]
        self.support_ = support
        self.dropped_ = pd.DataFrame(
            dropped, columns=["feature", "kept", "correlation", "relevance", "kept_relevance"]
        )
        logger.info(
            "RedundancyFilter kept %d of %d features (%s |r| > %s)",
            int(support.sum()),
            p,
            self.method,
            self.threshold,
        )
        return self


class _Result:
    def __init__(self, statistic: np.ndarray, pvalue: np.ndarray) -> None:
        self.statistic, self.pvalue = statistic, pvalue


def _wilcox_like_r(a: np.ndarray, b: np.ndarray) -> _Result:
    """Column-wise two-sided Mann-Whitney U (U of ``a``) with ``wilcox.test``'s exact rule."""
    exact_ok = max(a.shape[0], b.shape[0]) < 50
    stat = np.empty(a.shape[1])
    pv = np.empty(a.shape[1])
    for j in range(a.shape[1]):
        pooled = np.concatenate([a[:, j], b[:, j]])
        ties = np.unique(pooled).size < pooled.size
        method = "exact" if exact_ok and not ties else "asymptotic"
        r = stats.mannwhitneyu(
            a[:, j], b[:, j], alternative="two-sided", method=method, use_continuity=True
        )
        stat[j], pv[j] = r.statistic, r.pvalue
    return _Result(stat, pv)


def _abs_corr_matrix(X: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """(|r|, r) between columns; constant columns get r = 0 with every other column."""
    if method == "spearman":
        X = stats.rankdata(X, axis=0)
    Xc = X - X.mean(axis=0)
    norm = np.sqrt((Xc**2).sum(axis=0))
    const = norm <= 1e-12 * np.maximum(1.0, np.abs(X).max(axis=0))
    Z = np.divide(Xc, norm, out=np.zeros_like(Xc), where=~const)
    r = np.clip(Z.T @ Z, -1.0, 1.0)
    np.fill_diagonal(r, 1.0)
    return np.abs(r), r
