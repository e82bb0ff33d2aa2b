"""Tests of radiomics_aln.validation (bootstrap validate / calibrate), pinned to rms
(tests/reference/validate.R: rms::validate and rms::calibrate on the resamples R drew).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import roc_auc_score

from radiomics_aln.design import design_matrix
from radiomics_aln.exceptions import InputError, SmallSampleWarning, StatisticalWarning
from radiomics_aln.lowess import lowess
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.regression import LrmStopping, fit_logistic
from radiomics_aln.validation import (
    _INDEXES,
    _RESAMPLED,
    _validate_one,
    _validate_with,
    bootstrap_calibrate,
    bootstrap_validate,
    gini_mean_difference,
)

REF = Path(__file__).parent / "reference"


FULL = ["age", "lwt", "race", "smoke", "ptl", "ht", "ui"]


@pytest.fixture(scope="module")
def full_model(birthwt) -> LogisticNomogram:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return LogisticNomogram(reference_levels={"race": "white"}).fit(birthwt, "low", FULL)


def _recal(lp, y):
    glm = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit()
    return glm.params[0], glm.params[1]


def test_validate_single_resample_by_hand(birthwt, full_model):
    """One resample with fixed indices, every index recomputed independently."""
    y = birthwt["low"].to_numpy()
    idx = np.random.default_rng(42).integers(0, len(y), len(y))
    train, test = _validate_one(full_model, birthwt, y, idx, False)
    boot = birthwt.iloc[idx]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        refit = LogisticNomogram(reference_levels={"race": "white"}).fit(boot, "low", FULL)
    yb = y[idx]
    # rms refits a resample with lrm.fit, which stops within ~1e-7 of the maximum likelihood
    X_b, X_o = design_matrix(boot, refit._terms), design_matrix(birthwt, refit._terms)
    beta = fit_logistic(
        X_b, yb, ["(Intercept)", *refit.coef_.index], stopping=LrmStopping(tol=1e-12)
    ).coef
    assert_allclose(beta, [refit.intercept_, *refit.coef_], rtol=1e-6)
    lp_b, lp_o = X_b @ beta, X_o @ beta
    auc_b, auc_o = roc_auc_score(yb, lp_b), roc_auc_score(y, lp_o)
    a, b = _recal(lp_o, y)
    brier_b = np.mean((yb - 1 / (1 + np.exp(-lp_b))) ** 2)
    brier_o = np.mean((y - 1 / (1 + np.exp(-lp_o))) ** 2)
    # Nagelkerke R2 of the resample model on its resample: its own likelihood ratio
    ll = lambda lp, yy: np.sum(yy * lp - np.logaddexp(0, lp))  # noqa: E731
    ll0 = lambda yy: np.sum(yy * np.log(yy.mean()) + (1 - yy) * np.log(1 - yy.mean()))  # noqa: E731
    n = len(y)
    r2_b = (1 - np.exp(-2 * (ll(lp_b, yb) - ll0(yb)) / n)) / (1 - np.exp(2 * ll0(yb) / n))
    train_s = pd.Series(train, index=_RESAMPLED)
    test_s = pd.Series(test, index=_RESAMPLED)
    assert_allclose(
        train_s[["dxy", "auc", "r2", "intercept", "slope", "brier"]],
        [2 * auc_b - 1, auc_b, r2_b, 0, 1, brier_b],
        rtol=1e-8,
    )
    assert_allclose(
        test_s[["dxy", "auc", "intercept", "slope", "brier"]],
        [2 * auc_o - 1, auc_o, a, b, brier_o],
        rtol=1e-7,
    )
    # rms discrim: D = (LR - 1)/n, U = -2/n on the fitting data, g = GiniMd(lp)
    lr_b = 2 * (ll(lp_b, yb) - ll0(yb))
    assert train_s["d"] == pytest.approx((lr_b - 1) / n, rel=1e-8)
    assert train_s["u"] == pytest.approx(-2 / n) and train_s["q"] == pytest.approx(
        train_s["d"] + 2 / n
    )
    pairs = np.abs(lp_b[:, None] - lp_b[None, :])
    assert train_s["g"] == pytest.approx(pairs.sum() / (n * (n - 1)), rel=1e-10)
    # B = 1 with the same generator gives optimism = training - test of that resample
    res = bootstrap_validate(
        full_model, birthwt, "low", n_boot=1, random_state=42, repeat_selection=False
    )
    res = res.loc[_RESAMPLED]
    assert_allclose(res["optimism"], train - test, rtol=1e-12)
    assert_allclose(res["corrected"], res["apparent"] - (train - test), rtol=1e-12)


def test_validate_structure_determinism_and_n_jobs(birthwt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        nomo = LogisticNomogram(selection="backward", reference_levels={"race": "white"}).fit(
            birthwt, "low", FULL
        )
    a = bootstrap_validate(nomo, birthwt, "low", n_boot=6, random_state=3, n_jobs=1)
    b = bootstrap_validate(nomo, birthwt, "low", n_boot=6, random_state=3, n_jobs=2)
    c = bootstrap_validate(nomo, birthwt, "low", n_boot=6, random_state=4, n_jobs=1)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert a.index.tolist() == [
        "dxy", "auc", "r2", "intercept", "slope", "emax", "d", "u", "q", "brier", "g", "gp"
    ]  # fmt: skip
    assert list(a.columns) == ["apparent", "training", "test", "optimism", "corrected", "n"]
    assert (a["n"] == 6).all()
    assert a.loc["slope", "apparent"] == 1 and a.loc["intercept", "training"] == 0
    resampled = a.loc[_RESAMPLED]
    assert_allclose(resampled["optimism"], resampled["training"] - resampled["test"])
    # Emax as rms: 0 on the fitting data; test = optimism = corrected = the error implied by the
    # corrected intercept and slope
    emax = a.loc["emax"]
    assert emax["apparent"] == emax["training"] == 0
    assert emax["test"] == emax["optimism"] == emax["corrected"] > 0
    # the apparent AUC is the model's own
    p = nomo.predict_proba(birthwt)[:, 1]
    assert a.loc["auc", "apparent"] == pytest.approx(roc_auc_score(birthwt.low, p))
    # selection repeated in every resample is at least as optimistic on average here
    assert a.loc["auc", "optimism"] > 0


# rms::validate(fit, B = 40) with the resamples R drew (tests/reference/validate.R: the script
# re-derives validate's first resample from the exported rows before writing them).
_RMS_ROWS = {"Dxy": "dxy", "R2": "r2", "Intercept": "intercept", "Slope": "slope",
             "Emax": "emax", "D": "d", "U": "u", "Q": "q", "B": "brier", "g": "g", "gp": "gp"}  # fmt: skip


_RMS_COLS = {"index.orig": "apparent", "training": "training", "test": "test",
             "optimism": "optimism", "index.corrected": "corrected", "n": "n"}  # fmt: skip


@pytest.mark.parametrize("B, table", [(40, "validate_rms.csv"), (1, "validate_rms_B1.csv")])
def test_validate_equals_rms_validate_on_the_same_resamples(birthwt, full_model, B, table):
    rows = pd.read_csv(REF / "validate_indices.csv")
    indices = np.stack([g["row"].to_numpy() - 1 for _, g in rows.groupby("resample", sort=True)])[
        :B
    ]
    y = birthwt["low"].to_numpy()
    ours = _validate_with(full_model, birthwt, y, indices, False, None)
    rms = pd.read_csv(REF / table).set_index("index").rename(index=_RMS_ROWS, columns=_RMS_COLS)
    for index in rms.index:
        # rms computes Dxy with Hmisc::somers2 (AUC to ~1e-12) and fits with tolerance 1e-7/1e-13
        assert_allclose(ours.loc[index, rms.columns], rms.loc[index], rtol=5e-7, atol=1e-9,
                        err_msg=index)  # fmt: skip
    assert ours.loc["auc", "apparent"] == pytest.approx((rms.loc["dxy", "apparent"] + 1) / 2)


# A 60-patient case whose factor level "rare" has 4 patients and 1 event (tests/reference/
# validate.R): 22 of R's 60 resamples have no event in "rare" (quasi-separation; lrm.fit stops
# with a coefficient near -7 and rms keeps them), 2 have no "rare" patient (singular; skipped).
SPARSE = ["score", "size", "grade"]


@pytest.fixture(scope="module")
def sparse() -> pd.DataFrame:
    return pd.read_csv(REF / "validate_sparse_data.csv")


@pytest.fixture(scope="module")
def sparse_model(sparse) -> LogisticNomogram:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return LogisticNomogram().fit(sparse, "y", SPARSE)


def _sparse_indices() -> np.ndarray:
    rows = pd.read_csv(REF / "validate_sparse_indices.csv")
    return np.stack([g["row"].to_numpy() - 1 for _, g in rows.groupby("resample", sort=True)])


def test_validate_keeps_quasi_separated_resamples_as_rms(sparse, sparse_model):
    y = sparse["y"].to_numpy()
    # the two resamples without a "rare" patient are skipped, as rms does (singular)
    with pytest.warns(
        StatisticalWarning, match=r"2 of 60 .*\(a level missing from the resample: 2\)"
    ):
        ours = _validate_with(sparse_model, sparse, y, _sparse_indices(), False, None)
    rms = pd.read_csv(REF / "validate_sparse_rms.csv").set_index("index")
    rms = rms.rename(index=_RMS_ROWS, columns=_RMS_COLS)
    assert (rms["n"] == 58).all()
    for index in rms.index:
        assert_allclose(ours.loc[index, rms.columns], rms.loc[index], rtol=5e-7, atol=1e-9,
                        err_msg=index)  # fmt: skip


def test_calibrate_keeps_quasi_separated_resamples_as_rms(sparse, sparse_model):
    from radiomics_aln.validation import _calibrate_with

    y = sparse["y"].to_numpy()
    with pytest.warns(StatisticalWarning, match="2 of 60 bootstrap resamples failed"):
        ours = _calibrate_with(sparse_model, sparse, y, _sparse_indices(), False, None, None)
    rms = pd.read_csv(REF / "validate_sparse_calibrate.csv")
    names = {"predy": "predicted", "calibrated.orig": "calibrated_apparent",
             "calibrated.corrected": "calibrated_corrected", "training": "mean_training",
             "test": "mean_test", "optimism": "optimism", "n": "n"}  # fmt: skip
    rms = rms.rename(columns=names)
    assert_array_equal(ours["n"], rms["n"])
    assert_allclose(ours[rms.columns], rms, rtol=5e-7, atol=1e-9)


def test_user_fit_on_quasi_separated_data_still_raises(sparse):
    # only bootstrap refits follow lrm.fit; a user's own fit of data without an event in a
    # level gets the SeparationError naming the level, as before
    from radiomics_aln.exceptions import SeparationError

    idx = _sparse_indices()[1]  # resample 2: "rare" present, no event in it
    boot = sparse.iloc[idx]
    assert boot.loc[boot.grade == "rare", "y"].sum() == 0 < (boot.grade == "rare").sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        with pytest.raises(SeparationError, match=r"grade\[rare\]"):
            LogisticNomogram().fit(boot, "y", SPARSE)


def test_validate_with_selection_keeps_quasi_separated_resamples(sparse):
    # backward elimination repeated in every resample: resamples without an event in "rare"
    # are refitted as lrm.fit does, so none is lost to separation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        nomo = LogisticNomogram(selection="backward", p_remove=0.5).fit(sparse, "y", SPARSE)
    assert "grade" in nomo.predictors_
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = _validate_with(nomo, sparse, sparse["y"].to_numpy(), _sparse_indices(), True, None)
    messages = " ".join(str(w.message) for w in caught)
    assert "separation" not in messages
    assert res["n"].min() >= 58


def test_validate_skips_a_resample_whose_indexes_cannot_be_computed(
    birthwt, full_model, monkeypatch
):
    from radiomics_aln import validation
    from radiomics_aln.exceptions import ConvergenceError

    original = validation._indexes
    calls = []

    def failing_once(lp, y, *, evalfit):
        calls.append(evalfit)
        if len(calls) == 2:  # call 1 is the apparent model, call 2 the first resample
            raise ConvergenceError("logistic recalibration is singular")
        return original(lp, y, evalfit=evalfit)

    monkeypatch.setattr(validation, "_indexes", failing_once)
    with pytest.warns(StatisticalWarning, match="1 of 3 bootstrap resamples failed"):
        res = bootstrap_validate(
            full_model, birthwt, "low", n_boot=3, random_state=0, repeat_selection=False
        )
    assert (res["n"] == 2).all()


def test_gini_mean_difference_equals_hmisc_ginimd(full_model, birthwt):
    ref = pd.read_csv(REF / "validate_gini.csv").set_index("case")["gini"]
    assert gini_mean_difference([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]) == pytest.approx(
        ref["ties"], rel=1e-14
    )
    # on lrm's linear predictor: lrm stops at a looser convergence tolerance than our fit
    # (coefficients agree to ~1e-7 relative), hence the tolerance
    lp = full_model.decision_function(birthwt)
    assert gini_mean_difference(lp) == pytest.approx(ref["lp_birthwt"], rel=1e-6)
    assert gini_mean_difference(1 / (1 + np.exp(-lp))) == pytest.approx(ref["p_birthwt"], rel=1e-6)
    assert np.isnan(gini_mean_difference([1.0]))
    assert _INDEXES[-2:] == ["g", "gp"]


def test_validate_refit_of_selected_model_keeps_reference_levels(birthwt):
    # race's reference level is given, the selection keeps other predictors only
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        nomo = LogisticNomogram(selection="backward", reference_levels={"race": "white"}).fit(
            birthwt, "low", ["lwt", "ht", "race", "age", "ftv"]
        )
    assert "race" not in nomo.predictors_
    res = bootstrap_validate(nomo, birthwt, "low", n_boot=3, random_state=0, repeat_selection=False)
    assert (res["n"] == 3).all()


def test_calibrate_structure_and_determinism(birthwt, full_model):
    a = bootstrap_calibrate(
        full_model, birthwt, "low", n_boot=5, random_state=1, repeat_selection=False
    )
    b = bootstrap_calibrate(
        full_model, birthwt, "low", n_boot=5, random_state=1, repeat_selection=False, n_jobs=2
    )
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 50
    p = np.sort(full_model.predict_proba(birthwt)[:, 1])
    assert a["predicted"].iloc[0] == pytest.approx(p[4])
    assert a["predicted"].iloc[-1] == pytest.approx(p[-5])
    assert_allclose(a["calibrated_corrected"], a["calibrated_apparent"] - a["optimism"])
    assert_allclose(a["optimism"], a["mean_training"] - a["mean_test"])
    # apparent curve = lowess of y on the model's predictions, read at the grid
    x, s = lowess(full_model.predict_proba(birthwt)[:, 1], birthwt["low"], it=0)
    assert_allclose(a["calibrated_apparent"], np.interp(a["predicted"], x, s), rtol=1e-10)


def test_bootstrap_needs_fitted_model(birthwt):
    with pytest.raises(InputError, match="fitted LogisticNomogram"):
        bootstrap_validate(LogisticNomogram(), birthwt, "low", n_boot=2)
    with pytest.raises(InputError, match="n_boot must be"):
        bootstrap_validate(
            LogisticNomogram().fit(birthwt, "low", ["lwt", "smoke"]), birthwt, "low", n_boot=0
        )


def test_bootstrap_mean_skips_failed_resamples_and_nan_indexes():
    from radiomics_aln.exceptions import ConvergenceError, StatisticalWarning
    from radiomics_aln.validation import _Failed, _mean_over_resamples

    results = [
        _Failed("no convergence"),
        (np.array([1.0, 2.0]), np.array([0.5, 1.0])),
        (np.array([3.0, np.nan]), np.array([1.5, 9.0])),
    ]
    with pytest.warns(StatisticalWarning, match="1 of 3 bootstrap resamples failed"):
        train, test, n = _mean_over_resamples(results)
    np.testing.assert_allclose(train, [2.0, 2.0])
    np.testing.assert_allclose(test, [1.0, 1.0])
    np.testing.assert_array_equal(n, [2, 1])
    with pytest.raises(ConvergenceError, match="every bootstrap resample failed"):
        with pytest.warns(StatisticalWarning):
            _mean_over_resamples([_Failed("separation"), _Failed("separation")])
    # the warning counts the reasons, and points to Firth when resamples separate
    ok = (np.array([1.0]), np.array([0.5]))
    with pytest.warns(
        StatisticalWarning,
        match=r"3 of 4 .*\(separation: 2, no convergence: 1\); skipped resamples are the most "
        r"optimistic.*penalty='firth'",
    ):
        _mean_over_resamples([_Failed("separation"), ok, _Failed("no convergence"),
                              _Failed("separation")])  # fmt: skip


def test_random_state_may_be_a_generator(birthwt, full_model):
    # int, None or numpy Generator, as everywhere in the package: a Generator seeded like the int
    # draws the same resamples
    args = {"n_boot": 3, "repeat_selection": False}
    a = bootstrap_validate(full_model, birthwt, "low", random_state=7, **args)
    b = bootstrap_validate(
        full_model, birthwt, "low", random_state=np.random.default_rng(7), **args
    )
    pd.testing.assert_frame_equal(a, b)
