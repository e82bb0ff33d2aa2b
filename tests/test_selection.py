"""Tests of radiomics_aln.selection: mutual information, univariate and redundancy filters."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import mutual_info_classif
from sklearn.utils.estimator_checks import parametrize_with_checks

from radiomics_aln.exceptions import InputError
from radiomics_aln.selection import RedundancyFilter, UnivariateFilter, mutual_information

REF = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="module")
def correlated():
    rng = np.random.default_rng(7)
    n = 150
    y = rng.integers(0, 2, n)
    a = y + rng.normal(size=n)
    b = rng.normal(size=n)
    c = rng.normal(size=n)
    X = pd.DataFrame(
        {
            "tumor__a": a,
            "tumor__a_noisy": a + 0.2 * rng.normal(size=n),  # r ~ 0.98 with a
            "tumor__a_neg": -2 * a + 0.1 * rng.normal(size=n),  # r ~ -0.99 with a
            "tumor__b": b,
            "tumor__b_exp": np.exp(b),  # monotone in b: Spearman 1, Pearson < 0.9
            "tumor__c": c,
        }
    )
    return X, y


@pytest.mark.parametrize("seed", [0, 11])
@pytest.mark.parametrize("rounded", [False, True])
def test_mutual_information_equals_sklearn(seed, rounded):
    # sklearn.feature_selection.mutual_info_classif(X, y, random_state=seed) (Ross 2014)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(120, 15)) * rng.uniform(0.1, 100, 15)
    y = rng.integers(0, 2, 120)
    X[:, 0] += 3 * y
    if rounded:  # ties are broken by the same seeded jitter
        X = np.round(X, 0)
    ours = mutual_information(X, y, random_state=seed).to_numpy()
    np.testing.assert_allclose(ours, mutual_info_classif(X, y, random_state=seed), atol=1e-12)


def test_mutual_information_names_and_errors(correlated):
    X, y = correlated
    mi = mutual_information(X, y, random_state=0)
    assert mi.index.tolist() == X.columns.tolist()
    assert mi.idxmax() in {"tumor__a", "tumor__a_noisy", "tumor__a_neg"}
    with pytest.raises(InputError, match="rows"):
        mutual_information(X, y[:-1])
    with pytest.raises(InputError, match="non-finite"):
        mutual_information(X.assign(tumor__c=np.nan), y)


@pytest.mark.parametrize("name", ["tall", "wide"])
@pytest.mark.parametrize("test", ["ttest", "mannwhitney"])
def test_univariate_against_R(name, test):
    """t.test(x1, x0)$p.value (Welch) and wilcox.test(x1, x0)$p.value (exact for the wide data,
    whose groups have < 50 cases, normal approximation with continuity correction for tall)."""
    ref = pd.read_csv(REF / "glmnet_univariate.csv")
    ref = ref[ref["dataset"] == name].set_index("feature")
    d = pd.read_csv(REF / f"glmnet_data_{name}.csv")
    X = d[ref.index.tolist()]
    col = "t" if test == "ttest" else "w"
    uf = UnivariateFilter(test=test, alpha=0.05).fit(X, d["y"])
    np.testing.assert_allclose(uf.pvalues_, ref[f"{col}_p"], rtol=1e-10)
    np.testing.assert_allclose(uf.statistics_, ref[f"{col}_stat"], rtol=1e-10)
    assert uf.get_feature_names_out().tolist() == ref.index[ref[f"{col}_p"] < 0.05].tolist()


def test_univariate_filter_transform_keeps_names(correlated):
    X, y = correlated
    uf = UnivariateFilter(test="mannwhitney", alpha=0.01).set_output(transform="pandas")
    out = uf.fit_transform(X, y)
    assert "tumor__a" in out.columns and "tumor__c" not in out.columns
    with pytest.raises(ValueError, match="test must be"):
        UnivariateFilter(test="anova").fit(X, y)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_redundancy_guarantees(correlated, method):
    X, y = correlated
    rf = RedundancyFilter(threshold=0.9, method=method, random_state=0).fit(X, y)
    kept = rf.get_feature_names_out().tolist()
    corr = X.corr(method=method).abs()
    # no two kept features correlated above the threshold
    sub = corr.loc[kept, kept].to_numpy()
    assert (sub[~np.eye(len(kept), dtype=bool)] <= 0.9).all()
    # each dropped feature is redundant with a kept one at least as relevant
    assert len(rf.dropped_) == X.shape[1] - len(kept) > 0
    for row in rf.dropped_.itertuples():
        assert row.kept in kept
        assert abs(row.correlation) > 0.9
        assert abs(row.correlation) == pytest.approx(corr.loc[row.feature, row.kept], abs=1e-12)
        assert row.kept_relevance >= row.relevance
    # exactly one of the three copies of `a` survives
    assert sum(f.startswith("tumor__a") for f in kept) == 1
    # exp(b) is redundant with b by rank only
    assert (("tumor__b_exp" in kept) and ("tumor__b" in kept)) == (method == "pearson")


def test_redundancy_deterministic_and_transform(correlated):
    X, y = correlated
    a = RedundancyFilter(random_state=3).fit(X, y)
    b = RedundancyFilter(random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.support_, b.support_)
    pd.testing.assert_series_equal(a.relevance_, b.relevance_)
    out = a.set_output(transform="pandas").transform(X)
    assert out.columns.tolist() == a.get_feature_names_out().tolist()


def test_mrmr_top_k(correlated):
    X, y = correlated
    rf = RedundancyFilter(strategy="mrmr", k=3, random_state=0).fit(X, y)
    assert rf.support_.sum() == 3
    assert rf.order_[0] == rf.relevance_.idxmax()
    # the second pick is not a near-copy of the first
    assert not (rf.order_[0].startswith("tumor__a") and rf.order_[1].startswith("tumor__a"))
    with pytest.raises(ValueError, match="positive integer k"):
        RedundancyFilter(strategy="mrmr").fit(X, y)


def test_constant_feature_is_never_redundant(correlated):
    X, y = correlated
    rf = RedundancyFilter(random_state=0).fit(X.assign(tumor__const=1.0), y)
    assert "tumor__const" in rf.get_feature_names_out()


def test_selectors_bad_input(correlated):
    X, y = correlated
    with pytest.raises(InputError, match="only one class"):
        RedundancyFilter().fit(X, np.zeros(len(y), dtype=int))
    X2 = X.copy()
    X2.iloc[4, 1] = np.nan
    with pytest.raises(InputError, match="tumor__a_noisy` in cases 4"):
        UnivariateFilter().fit(X2, y)


@parametrize_with_checks([RedundancyFilter(random_state=0), UnivariateFilter()])
def test_sklearn_common_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


def test_random_state_accepts_a_generator():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 40)
    X = pd.DataFrame({"a": y + rng.normal(size=80), "b": rng.normal(size=80)})
    mi_int = mutual_information(X, y, random_state=3)
    mi_gen = mutual_information(X, y, random_state=np.random.default_rng(3))
    assert mi_int.index.tolist() == mi_gen.index.tolist()
    np.testing.assert_allclose(mi_int, mi_gen, atol=1e-6)  # jitter of 1e-10 differs
    sel = RedundancyFilter(random_state=np.random.default_rng(1)).fit(X, y)
    assert sorted(sel.get_feature_names_out()) == ["a", "b"]
