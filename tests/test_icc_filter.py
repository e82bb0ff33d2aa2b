"""Tests of radiomics_aln.icc_filter (ICCFilter): fit modes, leakage, errors, JSON, sklearn."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from radiomics_aln.exceptions import InputError
from radiomics_aln.icc_filter import ICCFilter
from radiomics_aln.reliability import icc_comparisons, icc_table, plot_icc


def study_data(seed=0, n_train=60, n_repeat=30):
    """Reader-1 training table plus repeat readings with known reproducibility per feature.

    good: reproducible in both comparisons; bad_inter: only the second reader is noisy;
    bad_intra: only the repeat is noisy; const: zero variance.
    """
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"P{i:03d}" for i in range(n_train)], name="case_id")
    cols = [
        "tumor__original_firstorder_Good",
        "tumor__wavelet-LLH_glcm_BadInter",
        "ln__original_glrlm_BadIntra",
        "tumor__original_shape2D_Const",
    ]
    truth = pd.DataFrame(rng.normal(size=(n_train, 4)), index=idx, columns=cols)
    truth[cols[3]] = 1.0
    small = np.array([0.05, 0.05, 0.05, 0.0])
    X = truth + rng.normal(scale=small, size=truth.shape)
    rep = truth.iloc[:n_repeat]
    reader2 = rep + rng.normal(scale=[0.05, 2.0, 0.05, 0.0], size=rep.shape)
    repeat = rep + rng.normal(scale=[0.05, 0.05, 2.0, 0.0], size=rep.shape)
    return X, {"reader2": reader2, "repeat": repeat}


def test_filter_requires_both_comparisons():
    X, repeats = study_data()
    filt = ICCFilter().fit(X, repeats=repeats)
    assert filt.selected_features_.tolist() == ["tumor__original_firstorder_Good"]
    assert filt.comparisons_ == ["inter", "intra"]
    assert len(filt.icc_) == 8
    icc_ = filt.icc_.set_index(["comparison", "feature"])
    assert icc_.loc[("inter", "ln__original_glrlm_BadIntra"), "passed"]
    assert not icc_.loc[("intra", "ln__original_glrlm_BadIntra"), "passed"]
    assert icc_.loc[("inter", "tumor__original_shape2D_Const"), "excluded"]
    assert (filt.icc_["n"] == 30).all()
    summ = filt.summary
    assert list(summ.columns) == ["ICC_inter", "ICC_intra", "selected", "reason"]
    assert "zero variance" in summ.loc["tumor__original_shape2D_Const", "reason"]


def test_filter_fit_modes_agree():
    X, repeats = study_data()
    a = ICCFilter().fit(X, repeats=repeats)
    cases = repeats["reader2"].index
    readings = {
        "inter": {"reader1": X.loc[cases], "reader2": repeats["reader2"]},
        "intra": {"reader1": X.loc[cases], "repeat": repeats["repeat"]},
    }
    b = ICCFilter().fit(X, readings=readings)
    c = ICCFilter().fit(X, icc=icc_comparisons(readings))
    d = ICCFilter().fit(X, icc={k: icc_table(v) for k, v in readings.items()})
    for other in (b, c, d):
        assert_array_equal(other.support_, a.support_)
        assert_allclose(other.icc_["estimate"], a.icc_["estimate"], rtol=1e-12)
    single = ICCFilter().fit(X, icc=icc_table(readings["inter"]))
    assert single.comparisons_ == ["icc"]
    assert "ln__original_glrlm_BadIntra" in single.selected_features_


def test_filter_on_ci_low_is_stricter_and_threshold_inclusive():
    X, repeats = study_data(n_repeat=8)
    est = ICCFilter(threshold=0.8).fit(X, repeats=repeats)
    low = ICCFilter(threshold=0.8, on="ci_low").fit(X, repeats=repeats)
    assert set(low.selected_features_) <= set(est.selected_features_)
    assert_array_equal(low.icc_["value"], low.icc_["ci_low"])
    good = est.icc_.loc[est.icc_["feature"] == "tumor__original_firstorder_Good", "value"].min()
    at = ICCFilter(threshold=good).fit(X, repeats=repeats)
    assert "tumor__original_firstorder_Good" in at.selected_features_
    above = ICCFilter(threshold=np.nextafter(good, 2)).fit(X, repeats=repeats)
    assert "tumor__original_firstorder_Good" not in above.selected_features_


def test_filter_transform_any_cohort_and_pandas_output():
    X, repeats = study_data()
    filt = ICCFilter().fit(X, repeats=repeats)
    other = study_data(seed=9, n_train=17)[0]
    other.iloc[0, 1] = np.nan  # NaN elsewhere does not matter to a selector
    out = filt.transform(other)
    assert isinstance(out, np.ndarray) and out.shape == (17, 1)
    assert_array_equal(filt.get_feature_names_out(), ["tumor__original_firstorder_Good"])
    pdf = clone(filt).set_output(transform="pandas").fit(X, repeats=repeats).transform(other)
    assert isinstance(pdf, pd.DataFrame)
    assert list(pdf.columns) == ["tumor__original_firstorder_Good"]
    pd.testing.assert_index_equal(pdf.index, other.index)
    with pytest.raises(ValueError, match="feature names"):
        filt.transform(other[other.columns[::-1]])


def test_filter_leakage():
    """Fitted state depends only on the repeat readings (and X's rows of the repeat cases)."""
    X, repeats = study_data()
    filt = ICCFilter().fit(X, repeats=repeats)
    before = (filt.icc_.copy(), filt.support_.copy(), json.loads(filt.to_json())["state"])
    validation = study_data(seed=3, n_train=40)[0] * 10 + 5
    filt.transform(validation)
    after_state = json.loads(filt.to_json())["state"]
    pd.testing.assert_frame_equal(filt.icc_, before[0])
    assert_array_equal(filt.support_, before[1])
    assert after_state == before[2]
    # Rows of X that are not repeat cases are not used.
    X2 = X.copy()
    X2.iloc[30:] = np.random.default_rng(1).normal(size=X2.iloc[30:].shape) * 100
    refit = ICCFilter().fit(X2, repeats=repeats)
    pd.testing.assert_frame_equal(refit.icc_, filt.icc_)


def test_filter_in_pipeline_with_fit_params():
    X, repeats = study_data()
    y = (X.iloc[:, 0] > 0).astype(int)
    pipe = Pipeline([("icc", ICCFilter()), ("lr", LogisticRegression())])
    pipe.fit(X, y, icc__repeats=repeats)
    assert pipe.named_steps["lr"].n_features_in_ == 1
    assert pipe.predict_proba(X).shape == (60, 2)


def test_filter_fit_idempotent_clone_and_params_untouched():
    X, repeats = study_data()
    filt = ICCFilter(threshold=0.7, form="ICC(A,1)", on="ci_low")
    params = filt.get_params()
    a = filt.fit(X, repeats=repeats)
    assert a is filt and filt.get_params() == params
    first = filt.icc_.copy()
    filt.fit(X, repeats=repeats)
    pd.testing.assert_frame_equal(filt.icc_, first)
    c = clone(filt)
    assert not hasattr(c, "icc_") and c.get_params() == params


def test_filter_errors():
    X, repeats = study_data()
    with pytest.raises(InputError, match="exactly one of readings=, repeats= or icc="):
        ICCFilter().fit(X)
    with pytest.raises(InputError, match="exactly one"):
        ICCFilter().fit(X, repeats=repeats, icc=pd.DataFrame())
    with pytest.raises(InputError, match=r"column names must be feature names \(str\); got 0, 1"):
        ICCFilter().fit(pd.DataFrame(X.to_numpy()), repeats=repeats)
    with pytest.raises(
        InputError, match="duplicated feature columns: tumor__original_firstorder_Good"
    ):
        ICCFilter().fit(X.iloc[:, [0, 0, 1]], repeats=repeats)
    with pytest.raises(InputError, match="X as a pandas DataFrame"):
        ICCFilter().fit(X.to_numpy(), repeats=repeats)
    missing = {k: v.drop(columns="ln__original_glrlm_BadIntra") for k, v in repeats.items()}
    with pytest.raises(InputError, match="lacks 1 feature.*ln__original_glrlm_BadIntra"):
        ICCFilter().fit(X, repeats=missing)
    extra = {k: v.assign(tumor__original_firstorder_Extra=1.0) for k, v in repeats.items()}
    assert (
        "tumor__original_firstorder_Extra"
        not in ICCFilter().fit(X, repeats=extra).icc_["feature"].values
    )
    outside = dict(repeats, reader2=repeats["reader2"].rename(index={"P000": "Q999"}))
    with pytest.raises(InputError, match="not rows of X: Q999"):
        ICCFilter().fit(X, repeats=outside)
    tab = icc_table({"reader1": X.iloc[:30], "reader2": repeats["reader2"]}).drop(
        index="tumor__original_shape2D_Const"
    )
    with pytest.raises(InputError, match="does not cover every feature.*shape2D_Const"):
        ICCFilter().fit(X, icc=tab)
    with pytest.raises(InputError, match="unknown ICC form"):
        ICCFilter(form="ICC9").fit(X, repeats=repeats)
    with pytest.raises(ValueError, match="'on' parameter"):
        ICCFilter(on="upper").fit(X, repeats=repeats)
    nan = dict(repeats)
    nan["repeat"] = repeats["repeat"].copy()
    nan["repeat"].iloc[2, 0] = np.nan
    with pytest.raises(
        InputError, match="comparison 'intra'.*tumor__original_firstorder_Good.*P002"
    ):
        ICCFilter().fit(X, repeats=nan)
    assert ICCFilter(nan_policy="omit").fit(X, repeats=nan).icc_["n"].min() == 29


def test_filter_json_roundtrip(tmp_path):
    X, repeats = study_data()
    filt = ICCFilter(on="ci_low", threshold=0.75).fit(X, repeats=repeats)
    path = tmp_path / "icc_filter.json"
    text = filt.to_json(path)
    for source in (path, text):
        back = ICCFilter.from_json(source)
        assert back.get_params() == filt.get_params()
        assert_array_equal(back.selected_features_, filt.selected_features_)
        assert_array_equal(back.transform(X), filt.transform(X))
        pd.testing.assert_frame_equal(back.icc_, filt.icc_, check_dtype=False)
    with pytest.raises(InputError, match="not a 'ICCFilter'|holds a"):
        ICCFilter.from_json(text.replace('"ICCFilter"', '"RadScore"'))


# sklearn's common checks fit without the repeat readings, which ICCFilter cannot do without;
# those checks are declared as expected failures. Our own tests above cover fit/clone/transform.
_NEEDS_READINGS = (
    "fit needs the repeat readings (readings=, repeats= or icc=), which the check cannot pass"
)
_XFAIL = {
    name: _NEEDS_READINGS
    for name in [
        "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self", "check_readonly_memmap_input",
        "check_n_features_in_after_fitting", "check_positive_only_tag_during_fit",
        "check_estimators_dtypes", "check_dtype_object", "check_pipeline_consistency",
        "check_estimators_pickle", "check_f_contiguous_array_estimator",
        "check_transformer_data_not_an_array", "check_transformer_general",
        "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance",
        "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature",
        "check_dict_unchanged", "check_fit_idempotent", "check_fit_check_is_fitted",
        "check_n_features_in", "check_fit2d_predict1d",
    ]
}  # fmt: skip


@parametrize_with_checks([ICCFilter()], expected_failed_checks=lambda est: _XFAIL)
def test_sklearn_common_checks(estimator, check):
    check(estimator)




def test_plot_icc_returns_axes_and_groups():
    import matplotlib.pyplot as plt

    X, repeats = study_data()
    filt = ICCFilter().fit(X, repeats=repeats)
    fig, ax = plt.subplots()
    out = filt.plot(ax=ax)
    assert out is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "firstorder",
        "glcm",
        "glrlm",
    ]  # shape2D: undefined
    labels = ax.get_legend_handles_labels()[1]
    assert labels[:2] == ["tumor (n=2)", "ln (n=1)"] and "threshold 0.8" in labels
    assert "1 undefined not shown" in ax.get_title() and "minimum ICC" in ax.get_title()
    ax2 = plot_icc(filt.icc_, comparison="intra", value="ci_low", threshold=None)
    assert ax2.get_ylabel() == "ICC, lower CI bound" and "intra" in ax2.get_title()
    with pytest.raises(InputError, match="comparison 'both'"):
        plot_icc(filt.icc_, comparison="both")
    with pytest.raises(InputError, match="no column `kappa`"):
        plot_icc(filt.icc_, value="kappa")
