"""Tests of radiomics_aln.nomogram, pinned to R (tests/reference/nomogram.R, firth.R).

Data: MASS::birthwt (Hosmer & Lemeshow 1989, via MASS, GPL-2 | GPL-3), exported by the R script
to tests/reference/birthwt.csv with `race` written as white/black/other.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from numpy.testing import assert_allclose
from packaging.version import Version
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from radiomics_aln.exceptions import (
    EliminationError,
    InputError,
    SeparationError,
    SingleLevelError,
    SmallSampleWarning,
    UnseenLevelError,
)
from radiomics_aln.metrics import youden_threshold
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.univariate import univariate_logistic

REF = Path(__file__).parent / "reference"
FULL = ["age", "lwt", "race", "smoke", "ptl", "ht", "ui"]


WHITE = {"race": "white"}


def _fit(data, predictors, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return LogisticNomogram(reference_levels=WHITE, **kw).fit(data, "low", predictors)


def _r_terms(terms):
    return [
        t.replace("race", "race[").replace("[black", "[black]").replace("[other", "[other]")
        if t.startswith("race")
        else t
        for t in terms
    ]


@pytest.mark.parametrize(
    ("model", "predictors"),
    [("full", FULL), ("hl2000_table2_2", ["age", "lwt", "race", "ftv"])],
)
def test_coefficients_and_se_against_R_glm(birthwt, model, predictors):
    """R: glm(low ~ ..., binomial, birthwt); SE = sqrt(diag(solve(X'WX))) at the final estimate."""
    ref = pd.read_csv(REF / "nomogram_glm.csv").query("model == @model")
    nomo = _fit(birthwt, predictors)
    s = nomo.summary
    assert s["term"].tolist() == ["(Intercept)", *_r_terms(ref["term"].tolist()[1:])]
    # glm stops at |dev change| < 1e-8 relative; we iterate to 1e-12, hence rtol 1e-6
    assert_allclose(s["beta"], ref["estimate"], rtol=1e-6, atol=1e-8)
    assert_allclose(s["se"], ref["se"], rtol=1e-6)
    # summary.glm's SEs use the previous iteration's weights: ~1e-5 relative apart here
    assert_allclose(s["se"], ref["se_summary_glm"], rtol=1e-4)
    assert nomo.loglik_ == pytest.approx(ref["loglik"].iloc[0], abs=1e-7)
    assert nomo.aic_ == pytest.approx(ref["aic"].iloc[0], abs=1e-6)


def test_hosmer_lemeshow_2000_table_2_2_loglik(birthwt):
    """Hosmer & Lemeshow (2000), Table 2.2: AGE, LWT, RACE (2 dummies), FTV; L = -111.286."""
    nomo = _fit(birthwt, ["age", "lwt", "race", "ftv"])
    assert round(nomo.loglik_, 3) == -111.286
    b = nomo.coef_
    # published coefficients (3 decimals): -0.024, -0.014, 1.004, 0.433, -0.049
    assert_allclose(
        b[["age", "lwt", "race[black]", "race[other]", "ftv"]].round(3),
        [-0.024, -0.014, 1.004, 0.433, -0.049],
    )


def test_summary_odds_ratios_and_wald_ci(birthwt):
    nomo = _fit(birthwt, FULL)
    s = nomo.summary
    assert_allclose(s["odds_ratio"], np.exp(s["beta"]))
    assert_allclose(s["or_ci_low"], np.exp(s["beta"] - 1.959963984540054 * s["se"]))
    assert_allclose(s["z"], s["beta"] / s["se"])
    assert list(s.columns) == [
        "term", "predictor", "level", "beta", "se", "z", "p_value",
        "odds_ratio", "or_ci_low", "or_ci_high",
    ]  # fmt: skip


def test_backward_p_matches_R_wald_loop(birthwt):
    """R: refit glm, drop the term with the largest Wald p (> 0.05), repeat (nomogram.R)."""
    kept = pd.read_csv(REF / "nomogram_backward_p.csv")["kept"].tolist()
    removed = pd.read_csv(REF / "nomogram_backward_p_removed.csv")["removed"].tolist()
    nomo = _fit(birthwt, FULL, selection="backward")
    assert nomo.predictors_ == kept
    steps = nomo.elimination_steps_
    assert steps["removed"].dropna().tolist() == removed
    assert pd.isna(steps["removed"].iloc[-1])
    # every removal had p > 0.05 (one p per removed predictor)
    assert steps["p_value"].notna().sum() == len(removed) > 0
    assert (steps["p_value"].dropna() > 0.05).all()
    assert steps["predictors"].iloc[-1] == ", ".join(kept)
    # the final model is an ordinary refit of the kept predictors
    direct = _fit(birthwt, kept)
    assert_allclose(nomo.coef_, direct.coef_)
    # coefficient tables of every step: first = full model, last = summary
    sc = nomo.step_coefficients_
    assert sorted(sc["step"].unique()) == steps["step"].tolist()
    first = sc[sc.step == 1].drop(columns="step").reset_index(drop=True)
    pd.testing.assert_frame_equal(first, _fit(birthwt, FULL).summary)
    last = sc[sc.step == sc.step.max()].drop(columns="step").reset_index(drop=True)
    pd.testing.assert_frame_equal(last, nomo.summary)


def test_backward_aic_matches_R_step(birthwt):
    """R: step(glm(low ~ age + lwt + race + smoke + ptl + ht + ui), direction = "backward")."""
    ref = pd.read_csv(REF / "nomogram_step_aic.csv")
    nomo = _fit(birthwt, FULL, selection="backward", criterion="aic")
    assert nomo.predictors_ == ref["kept"].tolist()
    assert nomo.aic_ == pytest.approx(ref["aic"].iloc[0], abs=1e-6)
    steps = nomo.elimination_steps_
    assert steps["aic_after"].notna().sum() == len(steps) - 1 > 0
    assert (steps["aic_after"].dropna() < steps["aic"].iloc[:-1]).all()


def test_backward_removing_everything_raises():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    df["y"] = rng.integers(0, 2, 300)
    with pytest.raises(InputError, match="removed every predictor") as info:
        LogisticNomogram(selection="backward", p_remove=0.01).fit(df, "y", ["a", "b"])
    # the error carries what a caller needs (the study keeps the strongest candidate then)
    assert isinstance(info.value, EliminationError)
    assert info.value.candidates == ["a", "b"] and info.value.criterion == "p"


@pytest.mark.parametrize(
    ("model", "predictors", "fun_at"),
    [
        ("lwt_smoke", ["lwt", "smoke"], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
        ("age_race_ptl_ht", ["age", "race", "ptl", "ht"], None),
    ],
)
def test_points_against_rms_nomogram(birthwt, model, predictors, fun_at):
    """R: dd <- datadist(birthwt); nomogram(lrm(low ~ ...), fun = plogis, fun.at = ...)."""
    ref = pd.read_csv(REF / "nomogram_points.csv").query("model == @model")
    data = birthwt.assign(race=pd.Categorical(birthwt.race, ["white", "black", "other"]))
    nomo = LogisticNomogram().fit(data, "low", predictors)
    assert nomo.points_scale_ == pytest.approx(ref["sc"].iloc[0], rel=1e-7)
    assert nomo.points_intercept_ == pytest.approx(ref["intercept"].iloc[0], rel=1e-7)
    table = nomo.points_table()
    for name in predictors:
        r = ref[ref.axis == name]
        ours = table[table.predictor == name]
        assert [str(v).removesuffix(".0") for v in ours["value"]] == r["value"].astype(str).tolist()
        assert_allclose(ours["points"], r["points"], atol=1e-6)
    tot = nomo.total_points_table(fun_at)
    r_tot = ref[ref.axis == "total.points"]
    ours_tot = tot[tot.axis == "total_points"]
    assert_allclose(ours_tot["value"], r_tot["points"])
    r_prob = ref[ref.axis == "probability"]
    ours_prob = tot[tot.axis == "probability"]
    assert_allclose(ours_prob["value"], r_prob["value"].astype(float))
    # rms inverts plogis by linear interpolation on a 1000-point grid; we invert exactly
    assert_allclose(ours_prob["total_points"], r_prob["points"], atol=1e-4)
    # the widest predictor spans exactly 0..maxscale
    widths = table.groupby("predictor")["points"].agg(lambda s: s.max() - s.min())
    assert widths.max() == pytest.approx(100.0)


def test_points_and_probability_are_consistent(birthwt):
    nomo = _fit(birthwt, FULL)
    pts = nomo.points(birthwt)
    assert pts.name == "nomo_score" and pts.index.equals(birthwt.index)
    assert_allclose(nomo.points_to_probability(pts), nomo.predict_proba(birthwt)[:, 1])
    assert_allclose(nomo.probability_to_points(nomo.points_to_probability(pts)), pts)
    by = nomo.points(birthwt, by_predictor=True)
    assert_allclose(by.drop(columns="total_points").sum(axis=1), pts)
    assert (by.drop(columns="total_points") >= -1e-9).all().all()


def test_youden_cutoff_on_training(birthwt):
    nomo = _fit(birthwt, FULL, selection="backward")
    p = nomo.predict_proba(birthwt)[:, 1]
    y = birthwt["low"].to_numpy()
    # brute force over every observed probability as threshold
    best = max(((p[y == 1] >= t).mean() + (p[y == 0] < t).mean() - 1) for t in np.unique(p))
    assert nomo.youden_sensitivity_ + nomo.youden_specificity_ - 1 == pytest.approx(best)
    pred = p >= nomo.youden_cutoff_
    assert (pred[y == 1]).mean() == pytest.approx(nomo.youden_sensitivity_)
    assert (~pred[y == 0]).mean() == pytest.approx(nomo.youden_specificity_)
    # the same patients are high risk by probability and by Nomo-score
    by_points = nomo.points(birthwt).to_numpy() >= nomo.youden_points_cutoff_
    assert (by_points == pred).all()
    groups = nomo.risk_group(birthwt)
    assert list(groups.cat.categories) == ["low", "high"]
    assert ((groups == "high").to_numpy() == pred).all()
    assert (nomo.predict(birthwt) == pred.astype(int)).all()
    # the same cutoff as the evaluation module's (pROC convention)
    assert nomo.youden_cutoff_ == youden_threshold(y, p).threshold


def test_json_round_trip_gives_identical_predictions(birthwt, tmp_path):
    nomo = _fit(birthwt, FULL, selection="backward")
    path = tmp_path / "nomo.json"
    text = nomo.to_json(path)
    doc = json.loads(text)
    assert doc["type"] == "LogisticNomogram" and "library_version" in doc
    back = LogisticNomogram.from_json(path)
    np.testing.assert_array_equal(back.predict_proba(birthwt), nomo.predict_proba(birthwt))
    np.testing.assert_array_equal(back.points(birthwt), nomo.points(birthwt))
    assert back.youden_cutoff_ == nomo.youden_cutoff_
    assert back.c_index_ == nomo.c_index_
    assert back.youden_points_cutoff_ == nomo.youden_points_cutoff_
    assert (
        back.predictor_ranges_
        == nomo.predictor_ranges_
        == {
            "lwt": (80.0, 250.0),
            "smoke": (0.0, 1.0),
            "ht": (0.0, 1.0),
            "ui": (0.0, 1.0),
        }
    )
    pd.testing.assert_frame_equal(back.points_table(), nomo.points_table())
    pd.testing.assert_frame_equal(back.summary, nomo.summary)
    pd.testing.assert_frame_equal(back.step_coefficients_, nomo.step_coefficients_)
    pd.testing.assert_frame_equal(back.total_points_table(), nomo.total_points_table())
    assert (
        back.elimination_steps_["removed"].tolist() == nomo.elimination_steps_["removed"].tolist()
    )
    assert back.get_params() == nomo.get_params()
    # JSON text works as well as a path
    np.testing.assert_array_equal(
        LogisticNomogram.from_json(text).decision_function(birthwt),
        nomo.decision_function(birthwt),
    )


def test_outcome_not_binary(birthwt):
    df = birthwt.assign(low=birthwt["low"].replace({1: 2}))
    with pytest.raises(InputError, match="`low` must contain only 0 and 1"):
        LogisticNomogram().fit(df, "low", ["age", "lwt"])


def test_missing_predictor_values_name_rows(birthwt):
    df = birthwt.copy()
    df.loc[[3, 17], "lwt"] = np.nan
    df.loc[5, "race"] = None
    with pytest.raises(InputError, match=r"`lwt` in rows 3, 17.*`race` in rows 5"):
        _fit(df, FULL)
    nomo = _fit(birthwt, FULL)
    with pytest.raises(InputError, match="`lwt` in rows 3, 17"):
        nomo.predict_proba(df)


def test_single_level_predictor(birthwt):
    with pytest.raises(InputError, match="`const` has a single level"):
        LogisticNomogram().fit(birthwt.assign(const=1.0), "low", ["age", "const"])
    with pytest.raises(InputError, match="`site` has a single level") as info:
        LogisticNomogram().fit(birthwt.assign(site="A"), "low", ["age", "site"])
    assert isinstance(info.value, SingleLevelError)
    assert info.value.predictor == "site" and info.value.levels == ["A"]
    with pytest.raises(SingleLevelError) as info:
        LogisticNomogram().fit(birthwt.assign(const=1.0), "low", ["age", "const"])
    assert info.value.predictor == "const" and info.value.levels == [1.0]


def test_events_per_variable_warning(birthwt):
    with pytest.warns(SmallSampleWarning, match=r"events per variable \(EPV\) = 7.4 < 10"):
        LogisticNomogram(reference_levels=WHITE).fit(birthwt, "low", FULL)


def test_separation_names_the_predictor(birthwt):
    df = birthwt.assign(marker=np.where(birthwt["low"] == 1, "pos", "neg"))
    with pytest.raises(SeparationError, match=r"marker\[pos\]") as info:
        LogisticNomogram().fit(df, "low", ["age", "marker"])
    # the columns and the predictors they belong to travel with the error
    assert info.value.columns == ["marker[pos]"] and info.value.predictors == ["marker"]
    # quasi-complete: one level with no events
    df = birthwt.assign(site=np.where(birthwt.index < 30, "x", "y"))  # rows 0-29: low == 0
    assert df.loc[df.site == "x", "low"].sum() == 0
    with pytest.raises(SeparationError, match=r"site\[y\]") as info:
        LogisticNomogram().fit(df, "low", ["lwt", "site"])
    assert info.value.predictors == ["site"]
    # continuous predictor that separates
    df = birthwt.assign(score=birthwt["low"] * 10 + birthwt["age"] / 100)
    with pytest.raises(SeparationError, match="score") as info:
        LogisticNomogram().fit(df, "low", ["score", "lwt"])
    # numeric predictors are their own columns; the linear program flags every column whose
    # estimate is infinite (lwt too here), as the message lists them
    assert "score" in info.value.predictors and info.value.predictors == info.value.columns


def test_collinear_predictors(birthwt):
    df = birthwt.assign(lwt_kg=birthwt["lwt"] * 0.4536)
    with pytest.raises(InputError, match="rank deficient.*lwt"):
        LogisticNomogram().fit(df, "low", ["lwt", "lwt_kg"])


def test_unseen_level_and_missing_column_at_predict(birthwt):
    nomo = _fit(birthwt, ["lwt", "race"])
    with pytest.raises(InputError, match="level.*asian.*not seen in fit") as info:
        nomo.predict_proba(birthwt.assign(race="asian"))
    assert isinstance(info.value, UnseenLevelError)
    assert info.value.predictor == "race" and info.value.levels == ["asian"]
    with pytest.raises(InputError, match="lacks predictor column.*race"):
        nomo.predict_proba(birthwt.drop(columns="race"))


def test_bad_parameters(birthwt):
    with pytest.raises(InputError, match="selection"):
        LogisticNomogram(selection="forward").fit(birthwt, "low", ["lwt"])
    with pytest.raises(InputError, match="criterion"):
        LogisticNomogram(criterion="bic").fit(birthwt, "low", ["lwt"])
    with pytest.raises(InputError, match="reference level 'asian'"):
        LogisticNomogram(reference_levels={"race": "asian"}).fit(birthwt, "low", ["race"])
    with pytest.raises(InputError, match="reference_levels names column.*racee"):
        LogisticNomogram(reference_levels={"racee": "white"}).fit(birthwt, "low", ["race"])
    with pytest.raises(InputError, match="reference_levels given for numeric predictor `lwt`"):
        LogisticNomogram(reference_levels={"lwt": 100}).fit(birthwt, "low", ["lwt"])
    # a reference level of a column that is not a predictor is ignored
    LogisticNomogram(reference_levels={"race": "white"}).fit(birthwt, "low", ["lwt"])
    with pytest.raises(InputError, match="outcome column `nope`"):
        LogisticNomogram().fit(birthwt, "nope", ["lwt"])


def test_array_outcome_and_training_only(birthwt):
    train, test = birthwt.iloc[::2], birthwt.iloc[1::2]
    a = _fit(train, ["lwt", "smoke", "race"])
    with pytest.warns(SmallSampleWarning):
        b = LogisticNomogram(reference_levels=WHITE).fit(
            train.drop(columns="low"), train["low"].to_numpy(), ["lwt", "smoke", "race"]
        )
    assert_allclose(a.coef_, b.coef_)
    # predicting another cohort changes nothing that was learned
    before = a.to_json()
    a.predict_proba(test.assign(lwt=test.lwt * 3))
    a.points(test)
    assert json.loads(a.to_json())["state"] == json.loads(before)["state"]


def test_model_without_information_has_no_points_scale():
    df = pd.DataFrame({"g": ["a", "b"] * 50, "y": [0, 0, 1, 1] * 25})
    with pytest.raises(InputError, match="every coefficient of the model is 0"):
        LogisticNomogram().fit(df, "y", ["g"])


def test_clone_and_unfitted():
    from sklearn.exceptions import NotFittedError

    est = LogisticNomogram(selection="backward", p_remove=0.1)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        est.predict_proba(pd.DataFrame({"a": [1.0]}))


def test_print_summary(birthwt, capsys):
    _fit(birthwt, FULL, selection="backward").print_summary()
    out = capsys.readouterr().out
    assert "Elimination steps" in out and "Youden cutoff" in out and "race[black]" in out
    assert "C (apparent AUC) = " in out


# The nomogram is a DataFrame-first, unpenalized maximum-likelihood model of a 0/1 endpoint.
# sklearn's common checks feed it labels such as 2 or "one"/"two", perfectly separable blobs
# (where the MLE does not exist and we raise SeparationError), sparse/complex/object arrays, and
# extra columns at predict time (ignored by design: cohorts carry other columns). Those checks
# are declared as expected failures; the contract checks (clone, params, init) must pass.
_NOT_BINARY = "labels other than 0/1 are rejected (binary endpoint only)"
_SEPARABLE = "sklearn's toy data are separable; the unpenalized MLE raises SeparationError"


_EXPECTED_FAILURES = {
    "check_classifier_data_not_an_array": _NOT_BINARY,
    "check_classifier_not_supporting_multiclass": _NOT_BINARY,
    "check_classifiers_classes": _NOT_BINARY,
    "check_classifiers_regression_target": _NOT_BINARY,
    "check_classifiers_train": "extra columns at predict are ignored (DataFrame cohorts)",
    "check_complex_data": "complex input is not detected",
    "check_dict_unchanged": _SEPARABLE,
    "check_dont_overwrite_parameters": _NOT_BINARY,
    "check_dtype_object": "object columns are categorical predictors by design",
    "check_estimator_sparse_array": "sparse input is not supported",
    "check_estimator_sparse_matrix": "sparse input is not supported",
    "check_estimator_sparse_tag": "sparse input is not supported",
    "check_estimators_dtypes": _NOT_BINARY,
    "check_estimators_empty_data_messages": "message says 'no predictors given'",
    "check_estimators_fit_returns_self": _NOT_BINARY,
    "check_estimators_nan_inf": "NaN raises InputError naming the rows, not sklearn's message",
    "check_estimators_overwrite_params": _NOT_BINARY,
    "check_estimators_pickle": _SEPARABLE,
    "check_f_contiguous_array_estimator": _SEPARABLE,
    "check_fit2d_1feature": _NOT_BINARY,
    "check_fit2d_predict1d": _SEPARABLE,
    "check_methods_sample_order_invariance": _SEPARABLE,
    "check_methods_subset_invariance": _SEPARABLE,
    "check_n_features_in_after_fitting": _NOT_BINARY,
    "check_pipeline_consistency": _SEPARABLE,
    "check_positive_only_tag_during_fit": _SEPARABLE,
    "check_readonly_memmap_input": _NOT_BINARY,
    "check_requires_y_none": "message says 'an outcome is required'",
    "check_supervised_y_2d": "a 2-D column outcome is accepted without a warning",
}


if Version(sklearn.__version__) < Version("1.7"):
    # scikit-learn 1.6 runs this check on a three-class outcome.
    _EXPECTED_FAILURES["check_fit_check_is_fitted"] = _NOT_BINARY


# With Firth's penalty the toy data fit (finite estimates under separation), so the checks that
# failed only for separation must pass; 1-D X is then accepted as one predictor column.
_FIRTH_EXPECTED_FAILURES = {
    k: v
    for k, v in _EXPECTED_FAILURES.items()
    if v != _SEPARABLE
    and k
    not in {
        "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self",
        "check_estimators_overwrite_params",
        "check_readonly_memmap_input",
        "check_fit_check_is_fitted",
    }
} | {
    "check_fit2d_predict1d": "message says the predictor columns are missing",
    "check_fit1d": "a 1-D X is taken as one predictor column",
}


if Version(sklearn.__version__) < Version("1.7"):
    # scikit-learn 1.6 ignores the binary-only tag and feeds these checks a three-class outcome,
    # which both estimators reject before any fitting
    _FIRTH_EXPECTED_FAILURES = {
        k: v for k, v in _EXPECTED_FAILURES.items() if k != "check_positive_only_tag_during_fit"
    } | {"check_fit2d_predict1d": "message says the predictor columns are missing"}


@parametrize_with_checks(
    [LogisticNomogram(), LogisticNomogram(penalty="firth")],
    expected_failed_checks=lambda est: (
        _EXPECTED_FAILURES if est.penalty is None else _FIRTH_EXPECTED_FAILURES
    ),
)
def test_sklearn_common_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


# R: brglm2::brglmFit(type = "AS_mean") = Firth's penalised likelihood (logistf's estimates);
# tests/reference/firth.R. Firth D. Bias reduction of maximum likelihood estimates. Biometrika
# 1993;80:27-38. Heinze G, Schemper M. A solution to the problem of separation in logistic
# regression. Stat Med 2002;21:2409-19.
_FIRTH_CASES = {
    "birthwt_full": (None, FULL),
    "separated_marker": ("firth_separated.csv", ["age", "marker"]),
    "quasi_separated_ht": ("firth_quasi.csv", ["lwt", "smoke", "ht"]),
    "small_n20": ("small", ["lwt", "smoke"]),
}


def _firth_fit(data, predictors, **kw):
    refs = WHITE if "race" in predictors else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return LogisticNomogram(reference_levels=refs, penalty="firth", **kw).fit(
            data, "low", predictors
        )


@pytest.mark.parametrize("model", list(_FIRTH_CASES))
def test_firth_equals_brglm2(birthwt, model):
    source, predictors = _FIRTH_CASES[model]
    if source is None:
        data = birthwt
    elif source == "small":  # R: bw[c(1:12, 131:138), ]
        data = birthwt.iloc[list(range(12)) + list(range(130, 138))].reset_index(drop=True)
    else:
        data = pd.read_csv(REF / source)
    ref = pd.read_csv(REF / "firth_coef.csv")
    ref = ref[ref.model == model]
    nomo = _firth_fit(data, predictors)
    table = nomo.summary
    assert_allclose(
        [nomo.intercept_, *nomo.coef_.to_numpy()], ref["estimate"], rtol=1e-10, atol=1e-12
    )
    assert_allclose(np.sqrt(np.diag(nomo.cov_)), ref["se"], rtol=1e-10)
    assert_allclose(table["se"], ref["se"], rtol=1e-10)  # summary lists the intercept first
    assert nomo.loglik_ == pytest.approx(ref["loglik"].iloc[0], rel=1e-10)
    # logistf's default inference: profile penalised-likelihood intervals and penalised
    # likelihood-ratio tests (firth.R computes them in plain R: optim + uniroot)
    prof = pd.read_csv(REF / "firth_profile.csv").query("model == @model")
    if len(prof):
        assert_allclose(np.log(table["or_ci_low"]), prof["ci_low"], rtol=1e-9)
        assert_allclose(np.log(table["or_ci_high"]), prof["ci_high"], rtol=1e-9)
        assert_allclose(table["p_value"], prof["p_value"], rtol=1e-9)
    # se and z stay Wald's
    assert_allclose(table["z"], table["beta"] / table["se"])


def test_firth_converges_where_fisher_scoring_crawls():
    # A near-separated bootstrap resample of the demo study (tests/reference/firth.R case 5):
    # Fisher scoring on the modified score is still moving after 100 steps; the Newton finish
    # reaches brglm2's estimate.
    data = pd.read_csv(REF / "firth_slow.csv")
    ref = pd.read_csv(REF / "firth_coef.csv").query("model == 'slow_near_separated'")
    predictors = [c for c in data.columns if c != "y"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        nomo = LogisticNomogram(penalty="firth").fit(data, "y", predictors)
    assert_allclose([nomo.intercept_, *nomo.coef_], ref["estimate"], rtol=1e-9)
    assert_allclose(np.sqrt(np.diag(nomo.cov_)), ref["se"], rtol=1e-9)


def test_firth_fits_where_maximum_likelihood_separates(birthwt):
    data = pd.read_csv(REF / "firth_separated.csv")
    with pytest.raises(SeparationError, match=r"marker.*penalty='firth'"):
        LogisticNomogram().fit(data, "low", ["age", "marker"])
    nomo = _firth_fit(data, ["age", "marker"], selection="backward")
    assert "marker" in nomo.predictors_ and np.isfinite(nomo.coef_["marker"])
    # univariate: the same, and no separation note
    uni = univariate_logistic(data, "low", ["age", "marker"], penalty="firth")
    assert (uni["note"] == "").all() and np.isfinite(uni["odds_ratio"]).all()
    # each univariate row is the one-predictor Firth model
    one = univariate_logistic(birthwt, "low", ["age", "lwt"], penalty="firth")
    for name in ("age", "lwt"):
        single = _firth_fit(birthwt, [name])
        assert one.set_index("predictor").at[name, "beta"] == pytest.approx(single.coef_[name])


def test_firth_parameters_persistence_and_refits(birthwt, tmp_path):
    with pytest.raises(InputError, match="penalty must be None or 'firth'"):
        _fit(birthwt, FULL, penalty="ridge")
    with pytest.raises(InputError, match="criterion='aic'.*use criterion='p'"):
        _fit(birthwt, FULL, penalty="firth", selection="backward", criterion="aic")
    nomo = _fit(birthwt, FULL, penalty="firth", selection="backward")
    back = LogisticNomogram.from_json(nomo.to_json())
    assert back.penalty == "firth"
    assert_allclose(back.predict_proba(birthwt), nomo.predict_proba(birthwt), rtol=1e-14)
    # the profile intervals need the training data: they travel in the JSON file
    pd.testing.assert_frame_equal(back.summary, nomo.summary)
    # backward elimination tests by penalised likelihood ratio, as logistf: the first removal
    # is age, with the p-value of age in the full model's table
    first = nomo.elimination_steps_.iloc[0]
    prof = pd.read_csv(REF / "firth_profile.csv").query("model == 'birthwt_full'")
    assert first["removed"] == "age"
    assert first["p_value"] == pytest.approx(prof.set_index("term").at["age", "p_value"], rel=1e-9)
    assert clone(nomo).penalty == "firth"
    # penalised estimates are shrunk towards zero relative to maximum likelihood
    ml = _fit(birthwt, FULL)
    assert (np.abs(_fit(birthwt, FULL, penalty="firth").coef_) < np.abs(ml.coef_)).all()


def test_exceptions_with_data_survive_pickling():
    # joblib workers send exceptions back pickled: the data attributes must come along
    import pickle

    from radiomics_aln.exceptions import LevelError

    for exc in (
        SeparationError("sep", columns=["g[b]"], predictors=["g"]),
        SingleLevelError("one", predictor="site", levels=["A"]),
        LevelError("ref", predictor="race", levels=["asian"]),
        EliminationError("all", candidates=["a", "b"], criterion="aic"),
    ):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and str(back) == str(exc)
        assert back.__dict__ == exc.__dict__
