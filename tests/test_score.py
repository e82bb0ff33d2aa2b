"""Tests of radiomics_aln.score (RadScore) and its glmnet engine radiomics_aln._lasso; glmnet's
cross-validation (cv.glmnet) is tested through RadScore's public API.

Reference values come from R glmnet 4.1-6 via tests/reference/glmnet.R (outputs next to it,
versions in glmnet_meta.json); R is not needed to run these tests.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from radiomics_aln import _lasso
from radiomics_aln.exceptions import InputError, SmallSampleWarning, StatisticalWarning
from radiomics_aln.score import RadScore

REF = Path(__file__).resolve().parent / "reference"


def _ref_data(name: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    # provenance of the reference files: a precondition of every comparison below, not a test
    meta = json.loads((REF / "glmnet_meta.json").read_text())
    assert meta["glmnet_version"] == "4.1.6", meta
    assert meta["r_version"].startswith("R version 4.2.2"), meta
    d = pd.read_csv(REF / f"glmnet_data_{name}.csv")
    X = d.filter(regex=r"^f\d+$")
    X.index = [f"case{i:03d}" for i in range(len(d))]
    return X, d["y"].to_numpy(), d["foldid"].to_numpy()


def _ref_beta(frame: pd.DataFrame) -> np.ndarray:
    return frame[[c for c in frame.columns if c[0] == "f" and c[1:].isdigit()]].to_numpy()


# --------------------------------------------------------------------------- glmnet parity
@pytest.mark.parametrize("name", ["tall", "wide"])
def test_path_against_R_glmnet(name):
    """glmnet(x, y, family="binomial", alpha=1, standardize=TRUE, thresh=1e-24, maxit=1e8).

    ``tall``: n=150 > p=25 (lambda.min.ratio 1e-4, path stops early at 73 lambdas by glmnet's
    deviance rule); ``wide``: n=60 < p=80 (ratio 0.01, 100 lambdas).
    """
    X, y, _ = _ref_data(name)
    ref = pd.read_csv(REF / f"glmnet_path_{name}.csv")
    path, mean, sd = _lasso.fit_glmnet(X.to_numpy(), y.astype(float))
    assert path.lambdas.size == len(ref)  # same early stopping
    np.testing.assert_allclose(path.lambdas, ref["lambda"], rtol=1e-12)
    a0, beta = _lasso.to_original_scale(path, mean, sd)
    rb = _ref_beta(ref).T
    # standardized coefficients (what the penalty sees) to 1e-6 absolute
    np.testing.assert_allclose(path.coefs, rb * sd[:, None], rtol=0, atol=1e-6)
    # original units: relative to each coefficient's size
    np.testing.assert_allclose(beta, rb, rtol=1e-6, atol=1e-6 / sd.min())
    np.testing.assert_allclose(a0, ref["(Intercept)"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(path.dev_ratio, ref["dev_ratio"], rtol=0, atol=1e-8)
    assert np.array_equal(path.coefs != 0, rb != 0)


@pytest.mark.parametrize("name", ["tall", "wide"])
def test_fixed_lambda_against_R_glmnet(name):
    """coef(fit, s = lambda, exact = TRUE) at lambda = 0.02 (tall) and 0.05 (wide)."""
    X, y, _ = _ref_data(name)
    ref = pd.read_csv(REF / f"glmnet_fixed_{name}.csv")
    lam = float(ref["lambda"].iloc[0])
    rs = RadScore(redundancy_threshold=None, fixed_lambda=lam).fit(X, y)
    assert rs.lambda_ == lam
    assert rs.cv_results_ is None
    np.testing.assert_allclose(
        rs.coef_original_.to_numpy(), _ref_beta(ref)[0], rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(
        rs.coef_.to_numpy(), _ref_beta(ref)[0] * rs.scale_.to_numpy(), rtol=0, atol=1e-6
    )
    assert rs.intercept_original_ == pytest.approx(ref["(Intercept)"].iloc[0], abs=1e-6)


@pytest.mark.filterwarnings("ignore:the LASSO kept no feature")  # wide/deviance: 1se = null model
@pytest.mark.parametrize("name", ["tall", "wide"])
@pytest.mark.parametrize("measure", ["deviance", "auc"])
def test_cv_against_R_cv_glmnet(name, measure):
    """cv.glmnet(x, y, family="binomial", foldid=foldid, type.measure=measure): same lambda
    sequence, cvm, cvsd, nzero, lambda.min and lambda.1se for the same fold ids."""
    X, y, foldid = _ref_data(name)
    cv = pd.read_csv(REF / "glmnet_cv.csv")
    cv = cv[(cv["dataset"] == name) & (cv["measure"] == measure)]
    opt = (
        pd.read_csv(REF / "glmnet_cv_opt.csv")
        .set_index(["dataset", "measure"])
        .loc[(name, measure)]
    )
    for rule in ("min", "1se"):
        rs = RadScore(redundancy_threshold=None, scoring=measure, rule=rule)
        rs.fit(X, y, foldid=foldid)
        res = rs.cv_results_
        np.testing.assert_allclose(res["lambda"], cv["lambda"], rtol=1e-12)
        np.testing.assert_allclose(res["cv_mean"], cv["cvm"], rtol=0, atol=1e-7)
        np.testing.assert_allclose(res["cv_se"], cv["cvsd"], rtol=0, atol=1e-7)
        np.testing.assert_array_equal(res["n_nonzero"], cv["nzero"])
        assert rs.lambda_min_ == pytest.approx(opt["lambda_min"], rel=1e-12)
        assert rs.lambda_1se_ == pytest.approx(opt["lambda_1se"], rel=1e-12)
        assert rs.lambda_ == (rs.lambda_min_ if rule == "min" else rs.lambda_1se_)
        assert res.attrs["measure"] == measure


def test_lambda_sequence_matches_glmnet_definition():
    # lambda_max = max_j |x_j'(y - ybar)| / n on population-sd standardized columns
    X, y, _ = _ref_data("tall")
    Xs = (X - X.mean()) / X.std(ddof=0)
    lmax = np.max(np.abs(Xs.T.to_numpy() @ (y - y.mean()))) / len(y)
    lam = _lasso.glmnet_lambdas(lmax, 100, 1e-4)
    assert lam[0] == pytest.approx(lmax, rel=1e-12)
    assert lam[-1] == pytest.approx(lmax * 1e-4, rel=1e-12)
    ratios = lam[1:] / lam[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-12)


def test_lambda_interp_matches_glmnet():
    # glmnet's lambda.interp: linear in lambda, clamped at both ends
    lam = np.array([1.0, 0.5, 0.25])
    left, right, frac = _lasso.lambda_interp(lam, np.array([2.0, 0.75, 0.5, 0.1]))
    assert left.tolist() == [0, 0, 1, 2] and right.tolist() == [0, 1, 1, 2]
    np.testing.assert_allclose(frac, [1.0, 0.5, 1.0, 1.0])


# --------------------------------------------------------------------------- simple path
@pytest.fixture(scope="module")
def cohort():
    """Training and test cohorts with redundant radiomics-like columns."""
    rng = np.random.default_rng(42)
    n = 260
    base = rng.normal(size=(n, 8))
    cols = {}
    for j in range(8):
        cols[f"tumor__f{j}"] = base[:, j] * (10.0 ** (j % 3))
        cols[f"tumor__f{j}_dup"] = base[:, j] + 0.05 * rng.normal(size=n)  # |r| ~ 0.999
    X = pd.DataFrame(cols, index=pd.Index([f"P{i:03d}" for i in range(n)], name="case_id"))
    eta = 1.2 * base[:, 0] - 1.0 * base[:, 1] + 0.6 * base[:, 2]
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int), index=X.index)
    cohort = pd.Series(np.where(np.arange(n) < 180, "train", "external"), index=X.index)
    return X, y, cohort


def test_simple_study_path(cohort):
    X, y, cohort_lab = cohort
    train = cohort_lab == "train"
    rs = RadScore(name="tumor_score", random_state=0).fit(X[train], y[train])
    out = rs.transform(X)
    assert out.columns.tolist() == ["tumor_score"]
    assert out.index.equals(X.index)
    assert rs.get_feature_names_out().tolist() == ["tumor_score"]
    # the score is intercept + sum(coef * z) and equals the original-unit formula
    sel = rs.selected_features_
    z = (X[sel] - rs.mean_[sel]) / rs.scale_[sel]
    np.testing.assert_allclose(out["tumor_score"], rs.intercept_ + z @ rs.coef_[sel], rtol=1e-12)
    raw = rs.intercept_original_ + X[sel] @ rs.coef_original_[sel]
    np.testing.assert_allclose(out["tumor_score"], raw, rtol=1e-9, atol=1e-9)
    # each informative feature survives as exactly one of the pair (it or its near-copy): the
    # other is removed as redundant
    for j in (0, 1, 2):
        pair = {f"tumor__f{j}", f"tumor__f{j}_dup"}
        assert len(pair & set(sel)) == 1, (j, sel)
    assert not any(f in sel and f"{f}_dup" in sel for f in X.columns)
    assert rs.coef_.index.tolist() == X.columns.tolist()
    proba = rs.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-out["tumor_score"])))
    np.testing.assert_allclose(rs.decision_function(X), out["tumor_score"])
    assert "tumor_score =" in rs.formula_ and "z(" in rs.formula_


def test_summary_lists_nonzero_coefficients(cohort):
    X, y, _ = cohort
    rs = RadScore(name="tumor_score", random_state=0).fit(X, y)
    s = rs.summary
    assert s.columns.tolist() == ["coef", "coef_original", "mean", "sd"]
    assert s.index[0] == "(Intercept)"
    assert set(s.index[1:]) == set(rs.selected_features_)
    assert (s["coef"].iloc[1:] != 0).all()
    assert list(s["coef"].iloc[1:].abs()) == sorted(s["coef"].iloc[1:].abs(), reverse=True)
    assert s.attrs["lambda"] == rs.lambda_


def test_print_summary(cohort, capsys):
    X, y, _ = cohort
    rs = RadScore(name="tumor_score", random_state=0).fit(X, y)
    rs.print_summary()
    out = capsys.readouterr().out
    assert out.startswith(f"tumor_score: LASSO logistic score on {len(y)} training cases")
    assert "(Intercept)" in out and rs.selected_features_[0] in out
    assert f"{len(rs.selected_features_)} selected" in out


def test_cv_results_columns_and_choices(cohort):
    X, y, _ = cohort
    rs = RadScore(random_state=1).fit(X, y)
    cvr = rs.cv_results_
    assert cvr.columns.tolist() == [
        "lambda",
        "log_lambda",
        "cv_mean",
        "cv_se",
        "cv_low",
        "cv_high",
        "n_nonzero",
    ]
    i = int(np.argmin(cvr["cv_mean"]))
    assert rs.lambda_min_ == cvr["lambda"].iloc[i]
    within = cvr["cv_mean"] <= cvr["cv_mean"].iloc[i] + cvr["cv_se"].iloc[i]
    assert rs.lambda_1se_ == cvr.loc[within, "lambda"].max()
    assert rs.lambda_1se_ >= rs.lambda_min_
    assert sorted(np.unique(rs.foldid_).tolist()) == list(range(1, 11))
    # stratified folds: every fold holds both classes in near-equal proportion
    per_fold = pd.crosstab(rs.foldid_, y.to_numpy())
    assert (per_fold.max() - per_fold.min()).max() <= 1


def test_prefilter_and_mrmr(cohort):
    X, y, _ = cohort
    rs = RadScore(prefilter="mannwhitney", prefilter_alpha=0.01, random_state=0).fit(X, y)
    assert set(rs.candidate_features_) <= set(rs.prefilter_.get_feature_names_out())
    assert rs.prefilter_.pvalues_[rs.candidate_features_].max() < 0.01
    rs2 = RadScore(redundancy_strategy="mrmr", mrmr_k=4, random_state=0).fit(X, y)
    assert len(rs2.candidate_features_) == 4


# --------------------------------------------------------------------------- determinism, leakage
def _fitted_state(est: Any) -> dict:
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("__")}


def _assert_same(va: Any, vb: Any, key: str) -> None:
    """Exact equality of two fitted values, descending into fitted sub-estimators."""
    if isinstance(va, pd.DataFrame):
        pd.testing.assert_frame_equal(va, vb, check_exact=True, obj=key)
    elif isinstance(va, pd.Series):
        pd.testing.assert_series_equal(va, vb, check_exact=True, obj=key)
    elif isinstance(va, np.ndarray):
        np.testing.assert_array_equal(va, vb, err_msg=key)
    elif va is None:
        assert vb is None, key
    elif hasattr(va, "get_params"):  # a fitted sub-selector (prefilter, redundancy filter)
        assert type(va) is type(vb), key
        assert va.get_params() == vb.get_params(), key
        _assert_same_state(va, vb, prefix=f"{key}.")
    elif isinstance(va, float) and np.isnan(va):
        assert isinstance(vb, float) and np.isnan(vb), key
    else:
        assert va == vb, key


def _assert_same_state(a: Any, b: Any, prefix: str = "") -> None:
    sa, sb = _fitted_state(a), _fitted_state(b)
    assert sa, f"{prefix}: no fitted attribute to compare"
    assert sa.keys() == sb.keys()
    for key in sa:
        _assert_same(sa[key], sb[key], prefix + key)


def test_deterministic_for_seed_and_n_jobs(cohort):
    X, y, _ = cohort
    a = RadScore(random_state=3).fit(X, y)
    b = RadScore(random_state=3, n_jobs=2).fit(X, y)
    _assert_same_state(a, b)
    c = RadScore(random_state=4).fit(X, y)
    assert not np.array_equal(a.foldid_, c.foldid_)


def test_explicit_foldid_overrides_cv(cohort):
    X, y, _ = cohort
    fid = np.tile(np.arange(1, 6), len(y) // 5 + 1)[: len(y)]
    rs = RadScore(cv=10, random_state=0).fit(X, y, foldid=fid)
    np.testing.assert_array_equal(rs.foldid_, fid)
    with pytest.raises(InputError, match="foldid"):
        RadScore().fit(X, y, foldid=fid[:-1])
    with pytest.raises(InputError, match="fewer than 3 folds"):
        RadScore().fit(X, y, foldid=np.where(np.arange(len(y)) % 2, 1, 2))


def test_transform_uses_only_the_training_fit(cohort):
    """Scoring other cohorts neither changes the fit nor uses their rows' statistics.

    (That fit() sees only the training rows is Study's job: see test_study.py's
    test_no_leakage_from_test_cohorts.)
    """
    X, y, cohort_lab = cohort
    train = (cohort_lab == "train").to_numpy()
    rs = RadScore(name="tumor_score", random_state=0, prefilter="ttest").fit(X[train], y[train])
    before = copy.deepcopy(rs)
    # another cohort on a wildly different scale, scored alongside the training rows
    X2 = X.copy()
    X2.loc[~train] = np.random.default_rng(0).normal(size=(int((~train).sum()), X.shape[1])) * 1e3
    both = rs.transform(X2)
    _assert_same_state(before, rs)  # transform changed no fitted attribute
    # training scores do not depend on what else is transformed alongside them
    pd.testing.assert_frame_equal(both[train], rs.transform(X[train]), check_exact=True)
    # the other cohort is standardized with the training mean and sd, not its own
    sel = rs.selected_features_
    assert sel
    pd.testing.assert_series_equal(rs.mean_, X[train].mean()[rs.mean_.index], check_names=False)
    z = (X2.loc[~train, sel] - rs.mean_[sel]) / rs.scale_[sel]
    np.testing.assert_allclose(
        both.loc[~train, "tumor_score"], rs.intercept_ + z @ rs.coef_[sel], rtol=1e-12
    )
    # the state comparison can fail: a fit on other training rows differs
    other = RadScore(name="tumor_score", random_state=0, prefilter="ttest")
    other.fit(X[train].iloc[1:], y[train].iloc[1:])
    with pytest.raises(AssertionError):
        _assert_same_state(rs, other)


def test_pipeline_and_clone(cohort):
    X, y, _ = cohort
    pipe = make_pipeline(RadScore(name="s", random_state=0)).fit(X, y)
    assert pipe.transform(X).shape == (len(X), 1)
    assert clone(RadScore(name="s", cv=5)).get_params()["cv"] == 5


# --------------------------------------------------------------------------- persistence, plots
def test_json_round_trip(cohort, tmp_path):
    X, y, _ = cohort
    rs = RadScore(name="tumor_score", random_state=0).fit(X, y)
    text = rs.to_json(tmp_path / "score.json")
    doc = json.loads(text)
    assert doc["type"] == "RadScore" and "library_version" in doc
    assert doc["state"]["selected_features"] == rs.selected_features_
    back = RadScore.from_json(tmp_path / "score.json")
    pd.testing.assert_frame_equal(back.transform(X), rs.transform(X), check_exact=True)
    pd.testing.assert_series_equal(back.coef_, rs.coef_)
    assert back.formula_ == rs.formula_
    assert back.lambda_ == rs.lambda_ and back.lambda_1se_ == rs.lambda_1se_
    pd.testing.assert_frame_equal(back.cv_results_, rs.cv_results_, check_dtype=False)
    pd.testing.assert_frame_equal(back.path_, rs.path_)
    assert back.get_params() == rs.get_params()
    back2 = RadScore.from_json(text)
    pd.testing.assert_frame_equal(back2.summary, rs.summary)
    with pytest.raises(InputError, match="RadScore"):
        RadScore.from_json(text.replace('"RadScore"', '"Other"', 1))


def test_plots_return_axes(cohort):
    import matplotlib.pyplot as plt

    X, y, _ = cohort
    rs = RadScore(name="tumor_score", random_state=0).fit(X, y)
    axes = {}
    for kind in ("path", "cv", "coefficients"):
        _, ax = plt.subplots()
        assert rs.plot(ax, kind=kind) is ax
        assert ax.get_title().startswith("tumor_score")
        axes[kind] = ax
    # one curve per feature that is ever nonzero, plus the reference lines
    assert len(axes["path"].lines) >= len(rs.selected_features_) + 2
    assert len(axes["coefficients"].patches) == len(rs.selected_features_)
    with pytest.raises(InputError, match="fixed_lambda"):
        RadScore(fixed_lambda=0.1).fit(X, y).plot(kind="cv")
    with pytest.raises(InputError, match="`kind`"):
        rs.plot(kind="roc")


# --------------------------------------------------------------------------- bad input
def test_one_class_is_an_error(cohort):
    X, y, _ = cohort
    with pytest.raises(InputError, match="only one class"):
        RadScore().fit(X, np.zeros(len(y), dtype=int))


def test_few_events_warn(cohort):
    X, y, _ = cohort
    y2 = np.zeros(len(y), dtype=int)
    y2[:8] = 1
    with pytest.warns(SmallSampleWarning, match="only 8 training case"):
        RadScore(random_state=0, cv=5).fit(X, y2)


def test_constant_features_dropped_with_note(cohort):
    X, y, _ = cohort
    X2 = X.assign(tumor__const=3.0)
    with pytest.warns(StatisticalWarning, match="constant feature.*tumor__const"):
        rs = RadScore(random_state=0).fit(X2, y)
    assert rs.dropped_constant_ == ["tumor__const"]
    assert "tumor__const" not in rs.coef_.index
    assert rs.transform(X2).shape == (len(X2), 1)


def test_nan_inf_error_names_columns_and_cases(cohort):
    X, y, _ = cohort
    X2 = X.copy()
    X2.loc["P003", "tumor__f1"] = np.nan
    X2.loc["P007", "tumor__f2"] = np.inf
    with pytest.raises(InputError, match=r"tumor__f1` in cases P003.*tumor__f2` in cases P007"):
        RadScore().fit(X2, y)
    rs = RadScore(random_state=0).fit(X, y)
    with pytest.raises(InputError, match="NaN or inf.*P003"):
        rs.transform(X2)


def test_no_feature_kept_warns_and_says_constant():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(80, 5)), columns=[f"ln__f{i}" for i in range(5)])
    y = np.repeat([0, 1], 40)
    with pytest.warns(StatisticalWarning, match="kept no feature.*constant"):
        rs = RadScore(name="ln_score", fixed_lambda=10.0).fit(X, y)
    assert rs.selected_features_ == []
    out = rs.transform(X)["ln_score"]
    assert out.nunique() == 1 and out.iloc[0] == pytest.approx(0.0, abs=1e-12)
    assert "constant" in rs.formula_ and "no feature" in rs.summary.attrs["note"]


def test_transform_column_mismatch_lists_missing_and_extra(cohort):
    X, y, _ = cohort
    rs = RadScore(random_state=0).fit(X, y)
    bad = X.drop(columns=["tumor__f0"]).assign(ln__new=1.0)
    with pytest.raises(InputError, match=r"lacks 1 column.*tumor__f0.*not seen in fit.*ln__new"):
        rs.transform(bad)
    # reordered columns are fine; extra columns (another ROI, the cohort label) are ignored
    pd.testing.assert_frame_equal(rs.transform(X[X.columns[::-1]]), rs.transform(X))
    wider = X.assign(ln__f0=1.0, cohort="train")
    pd.testing.assert_frame_equal(rs.transform(wider), rs.transform(X))


def test_misaligned_outcome_is_an_error(cohort):
    X, y, _ = cohort
    with pytest.raises(InputError, match="y is indexed by other cases.*P000!=P001"):
        RadScore().fit(X, y.iloc[[1, 0, *range(2, len(y))]])
    # a plain (positional) outcome is accepted
    RadScore(random_state=0, cv=3).fit(X, y.reset_index(drop=True))


def test_bad_parameters(cohort):
    X, y, _ = cohort
    with pytest.raises(ValueError, match="rule"):
        RadScore(rule="best").fit(X, y)
    with pytest.raises(ValueError, match="cv must be"):
        RadScore(cv=2).fit(X, y)
    with pytest.raises(ValueError, match="scoring"):
        RadScore(scoring="mse").fit(X, y)
    with pytest.raises(InputError, match="binary"):
        RadScore().fit(X, np.arange(len(y)) % 3)


def test_auc_with_small_folds_falls_back_to_deviance():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
    y = (X["a"] + rng.normal(size=60) > 0).astype(int)
    with pytest.warns(StatisticalWarning, match="Too few"):
        rs = RadScore(scoring="auc", random_state=0, redundancy_threshold=None).fit(X, y)
    assert rs.cv_results_.attrs["measure"] == "deviance"


# --------------------------------------------------------------------------- sklearn contract
# transform returns a one-column DataFrame named after the score (the documented API), so the
# check that expects transform to return the input's NumPy dtype cannot pass.
_EXPECTED_FAILURES = {
    "check_transformer_preserve_dtypes": "transform returns a named one-column DataFrame",
}


@parametrize_with_checks(
    [RadScore(random_state=0, cv=3)],
    expected_failed_checks=lambda est: _EXPECTED_FAILURES,
)
def test_sklearn_common_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        check(estimator)


@pytest.mark.parametrize("noise", [0.0, 1e-9, 1e-3])
def test_collinear_columns_still_solve_the_lasso(noise):
    """Duplicated columns (no redundancy filter) make the active block singular: the solver
    falls back to coordinate descent and still returns a point meeting the KKT conditions."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 10))
    X = np.column_stack([X, X[:, :5] + noise * rng.normal(size=(60, 5))])
    y = (X[:, 0] + rng.normal(size=60) > 0).astype(float)
    path, mean, sd = _lasso.fit_glmnet(X, y)
    Xs = (X - mean) / sd
    for k in range(1, path.lambdas.size):
        lam = path.lambdas[k]
        p = 1 / (1 + np.exp(-(path.intercepts[k] + Xs @ path.coefs[:, k])))
        g = Xs.T @ (y - p) / len(y)
        assert abs(np.mean(y - p)) < 1e-6
        nz = path.coefs[:, k] != 0
        assert np.all(np.abs(g[~nz]) <= lam * (1 + 1e-5))
        np.testing.assert_allclose(g[nz], lam * np.sign(path.coefs[nz, k]), atol=1e-5 * lam)


_SKLEARN_GE_1_8 = Version(sklearn.__version__) >= Version("1.8")


def test_same_objective_as_sklearn_saga():
    """glmnet's objective is scikit-learn's L1 LogisticRegression with C = 1/(n lambda) and an
    unpenalized intercept (solver saga); both reach the same minimizer on standardized data."""
    from sklearn.linear_model import LogisticRegression

    X, y, _ = _ref_data("tall")
    Z = ((X - X.mean()) / X.std(ddof=0)).to_numpy()
    lam = 0.03
    path, _, _ = _lasso.fit_glmnet(Z, y.astype(float), lambdas=np.array([0.2, 0.1, 0.05, lam]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # scikit-learn < 1.8 ignores l1_ratio unless penalty="elasticnet"; 1.8 deprecates penalty.
        l1 = {"l1_ratio": 1.0} if _SKLEARN_GE_1_8 else {"penalty": "l1"}
        sk = LogisticRegression(
            **l1, C=1 / (len(y) * lam), solver="saga", tol=1e-10, max_iter=100_000
        ).fit(Z, y)
    np.testing.assert_allclose(path.coefs[:, -1], sk.coef_.ravel(), atol=1e-5)
    assert path.intercepts[-1] == pytest.approx(sk.intercept_[0], abs=1e-5)


def test_nothing_left_after_screening_gives_constant_score(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 5)), columns=[f"ln__f{i}" for i in range(5)])
    y = np.r_[np.zeros(50, int), np.ones(30, int)]
    with pytest.warns(StatisticalWarning, match="no candidate feature.*constant"):
        rs = RadScore(name="ln_score", prefilter="ttest", prefilter_alpha=1e-9).fit(X, y)
    assert rs.candidate_features_ == [] and rs.selected_features_ == []
    assert rs.intercept_ == pytest.approx(np.log(30 / 50))
    assert np.allclose(rs.transform(X)["ln_score"], np.log(30 / 50))
    rs.plot(kind="path")
    back = RadScore.from_json(rs.to_json())
    assert back.formula_ == rs.formula_ and back.path_.empty


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(20, 80),
    p=st.integers(1, 60),
    seed=st.integers(0, 10_000),
    signal=st.floats(0.0, 3.0),
)
def test_path_meets_kkt_conditions(n, p, seed, signal):
    """Every solution on the path is the lasso minimizer: |gradient| <= lambda for zero
    coefficients, gradient = lambda * sign(b) for nonzero ones, zero intercept score."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.01, 100, p)
    y = (signal * X[:, 0] / X[:, 0].std() + rng.normal(size=n) > 0).astype(float)
    if y.min() == y.max():
        y[0] = 1 - y[0]
    path, mean, sd = _lasso.fit_glmnet(X, y)
    Xs = (X - mean) / sd
    assert path.lambdas.size >= min(5, 100)
    assert np.all(np.diff(path.lambdas) < 0)
    for k in range(path.lambdas.size):
        lam = path.lambdas[k]
        prob = 1 / (1 + np.exp(-(path.intercepts[k] + Xs @ path.coefs[:, k])))
        g = Xs.T @ (y - prob) / n
        # 1e-6 relative: the solver stops at 1e-9 * lambda, or when Newton stagnates near
        # separation (coefficients in the hundreds at the end of some paths)
        assert abs(np.mean(y - prob)) < 1e-6 * lam
        nz = path.coefs[:, k] != 0
        assert np.all(np.abs(g[~nz]) <= lam * (1 + 1e-6))
        np.testing.assert_allclose(g[nz], lam * np.sign(path.coefs[nz, k]), atol=1e-6 * lam)


def test_plot_coefficients_many_features_stay_legible():
    # 40+ selected features used to print their names on top of each other
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(2)
    X = pd.DataFrame(
        rng.normal(size=(200, 60)),
        columns=[f"peritumoral__wavelet-LHL_glszm_Feature{i:02d}" for i in range(60)],
    )
    lin = X.to_numpy() @ rng.normal(scale=0.6, size=60)
    y = (rng.random(200) < 1 / (1 + np.exp(-lin))).astype(int)
    rs = RadScore(random_state=0, redundancy_threshold=None).fit(X, y)
    n_sel = len(rs.selected_features_)
    assert n_sel > 35
    fig, ax = plt.subplots(figsize=(6, 4.5))
    rs.plot(ax, kind="coefficients")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.get_yticklabels() if t.get_text()]
    assert len(labels) == len(ax.patches) < n_sel
    assert f"of {n_sel}" in ax.get_title()
    assert labels[0].get_fontsize() >= 6
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:], strict=False))
    # the bars shown are the largest |coef|
    shown = {t.get_text() for t in labels}
    assert shown == set(rs.summary.drop(index="(Intercept)").index[: len(shown)])
    _, ax2 = plt.subplots(figsize=(6, 4.5))
    assert len(rs.plot(ax2, kind="coefficients", max_features=5).patches) == 5
    with pytest.raises(InputError, match="max_features"):
        rs.plot(kind="coefficients", max_features=0)


def test_random_state_accepts_a_generator(cohort):
    """random_state is an int, None or a numpy Generator everywhere (estimators too)."""
    X, y, _ = cohort
    a = RadScore(random_state=np.random.default_rng(0)).fit(X, y)
    b = RadScore(random_state=np.random.default_rng(0)).fit(X, y)
    assert a.selected_features_ == b.selected_features_
    np.testing.assert_array_equal(a.foldid_, b.foldid_)
    assert set(np.unique(a.foldid_)) == set(range(1, 11))
    back = RadScore.from_json(a.to_json())  # a Generator is not stored: None in the file
    assert back.get_params()["random_state"] is None
    with pytest.raises(InputError, match="`random_state` must be an int, a numpy Generator"):
        RadScore(random_state="seed").fit(X, y)
