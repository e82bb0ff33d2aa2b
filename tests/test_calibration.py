"""Tests of radiomics_aln.calibration, pinned to R (tests/reference/nomogram.R, validate.R).

ResourceSelection is not installable here; nomogram.R re-implements hoslem.test (0.3-6) in plain
R, line for line, and stores its output.
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

from radiomics_aln.calibration import (
    calibration_curve,
    hosmer_lemeshow,
    le_cessie_van_houwelingen,
    plot_calibration,
    val_prob,
)
from radiomics_aln.design import design_matrix
from radiomics_aln.exceptions import InputError, SmallSampleWarning, StatisticalWarning
from radiomics_aln.lowess import lowess
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.regression import LrmStopping, fit_logistic, recalibrate
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
def birthwt() -> pd.DataFrame:
    return pd.read_csv(REF / "birthwt.csv")


@pytest.fixture(scope="module")
def full_model(birthwt) -> LogisticNomogram:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return LogisticNomogram(reference_levels={"race": "white"}).fit(birthwt, "low", FULL)


# ------------------------------------------------------------------------------ Hosmer-Lemeshow
def test_hosmer_lemeshow_against_R(birthwt, full_model):
    """R (hoslem.test algorithm in plain R): HL = 10.398, df = 8, p = 0.238 for
    glm(low ~ age + lwt + race + smoke + ptl + ht + ui, binomial, birthwt)."""
    ref = pd.read_csv(REF / "calibration_hoslem.csv").iloc[0]
    p = full_model.predict_proba(birthwt)[:, 1]
    hl = hosmer_lemeshow(birthwt["low"], p, n_groups=10)
    assert hl.statistic == pytest.approx(ref["statistic"], rel=1e-8)
    assert hl.df == ref["df"] == 8
    assert hl.p_value == pytest.approx(ref["p_value"], rel=1e-7)
    assert round(hl.statistic, 3) == 10.398 and round(hl.p_value, 3) == 0.238
    tab = pd.read_csv(REF / "calibration_hoslem_table.csv")
    assert hl.table["group"].tolist() == tab["group"].tolist()
    for col in ("observed_0", "observed_1", "expected_0", "expected_1"):
        assert_allclose(hl.table[col], tab[col], rtol=1e-7)
    assert hl.summary.loc["hosmer_lemeshow", "n_groups"] == 10


def test_hosmer_lemeshow_five_groups_against_R(birthwt, full_model):
    ref = pd.read_csv(REF / "calibration_hoslem_g5.csv").iloc[0]
    hl = hosmer_lemeshow(birthwt["low"], full_model.predict_proba(birthwt)[:, 1], n_groups=5)
    assert hl.statistic == pytest.approx(ref["statistic"], rel=1e-8)
    assert hl.df == 3 and hl.p_value == pytest.approx(ref["p_value"], rel=1e-7)


def test_hosmer_lemeshow_groups_equal_pandas_qcut():
    rng = np.random.default_rng(5)
    p = np.round(rng.beta(2, 5, 400), 2)  # many ties
    y = (rng.random(400) < p).astype(int)
    p = np.clip(p, 0.01, 0.99)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        hl = hosmer_lemeshow(y, p)
    codes = pd.qcut(p, 10, duplicates="drop").codes
    assert hl.table["n"].tolist() == np.bincount(codes).tolist()
    # tied predictions never straddle two groups
    for lo, hi in zip(hl.table["p_low"], hl.table["p_high"], strict=True):
        assert not ((p > lo) & (p < hi) & np.isin(p, [lo, hi])).any()


def test_hosmer_lemeshow_fewer_distinct_predictions_than_groups():
    rng = np.random.default_rng(0)
    p = np.repeat([0.1, 0.2, 0.3, 0.5, 0.7], 40)
    y = (rng.random(p.size) < p).astype(int)
    # df = g - 2 with the requested g, as ResourceSelection::hoslem.test (tests/test_parity_r.py)
    with pytest.warns(StatisticalWarning, match=r"5 groups were formed instead of 10.*df = 8"):
        hl = hosmer_lemeshow(y, p, n_groups=10)
    assert hl.n_groups == 5 and hl.df == 8 and hl.n_groups_requested == 10
    assert hl.note == "5 of 10 groups formed (tied predictions); df = 8 (requested groups - 2)"
    with pytest.warns(StatisticalWarning, match=r"df = 3 \(formed groups - 2\)"):
        formed = hosmer_lemeshow(y, p, n_groups=10, df="formed")
    assert formed.df == 3 and formed.statistic == hl.statistic
    from scipy.stats import chi2

    assert formed.p_value == pytest.approx(chi2.sf(hl.statistic, 3), rel=1e-12)
    with pytest.raises(InputError, match="only 2 group"):
        hosmer_lemeshow(y[:80], p[:80])
    # one distinct prediction (an intercept-only model): a clear error, not a numpy one
    with pytest.raises(InputError, match=r"only 1 group\(s\) could be formed from 1 distinct"):
        hosmer_lemeshow(y[:40], p[:40])


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.2, -0.1, np.nan])
def test_hosmer_lemeshow_rejects_probabilities_outside_open_interval(bad):
    p = np.linspace(0.1, 0.9, 50)
    p[7] = bad
    y = np.tile([0, 1], 25)
    with pytest.raises(InputError, match=r"rows 7"):
        hosmer_lemeshow(y, p)


def test_hosmer_lemeshow_bad_outcome_and_lengths():
    p = np.linspace(0.1, 0.9, 50)
    with pytest.raises(InputError, match="only 0 and 1"):
        hosmer_lemeshow(np.full(50, 2), p)
    with pytest.raises(InputError, match="length mismatch"):
        hosmer_lemeshow(np.tile([0, 1], 20), p)


# ------------------------------------------------------------------------------ le Cessie
def test_le_cessie_van_houwelingen_against_rms(birthwt, full_model):
    """R: residuals(lrm(low ~ age + lwt + race + smoke + ptl + ht + ui, x = TRUE, y = TRUE),
    type = "gof")."""
    ref = pd.read_csv(REF / "calibration_lecessie.csv").iloc[0]
    p = full_model.predict_proba(birthwt)[:, 1]
    X = design_matrix(birthwt, full_model._terms)[:, 1:]
    res = le_cessie_van_houwelingen(birthwt["low"], p, X)
    # lrm converges to its own tolerance; agreement to ~1e-5 relative
    assert res.sse == pytest.approx(ref["sse"], rel=1e-6)
    assert res.expected == pytest.approx(ref["expected"], rel=1e-6)
    assert res.sd == pytest.approx(ref["sd"], rel=1e-5)
    assert res.z == pytest.approx(ref["z"], rel=1e-4)
    assert res.p_value == pytest.approx(ref["p_value"], rel=1e-4)


def test_le_cessie_without_design_uses_fixed_predictions():
    p = np.array([0.2, 0.4, 0.6, 0.8])
    y = np.array([0, 1, 0, 1])
    res = le_cessie_van_houwelingen(y, p)
    w, d = p * (1 - p), 1 - 2 * p
    assert res.sd == pytest.approx(np.sqrt(np.sum(w * d**2)))
    assert res.sse == pytest.approx(np.sum((y - p) ** 2))


# ------------------------------------------------------------------------------ val.prob
def test_val_prob_against_rms():
    """R: val.prob(p, y, pl = FALSE) for a model fitted on odd rows of birthwt, applied to even."""
    data = pd.read_csv(REF / "calibration_valprob_input.csv")
    ref = pd.read_csv(REF / "calibration_valprob.csv").set_index("stat")["value"]
    ours = val_prob(data["y"], data["p"])
    pairs = {
        "R2": "r2",
        "D": "d",
        "D:Chi-sq": "d_chisq",
        "U": "u",
        "U:Chi-sq": "u_chisq",
        "U:p": "u_p",
        "Q": "q",
        "Brier": "brier",
        "Intercept": "intercept",
        "Slope": "slope",
        "Emax": "emax",
        "E90": "e90",
        "Eavg": "eavg",
        "S:z": "s_z",
        "S:p": "s_p",
    }
    for r_name, name in pairs.items():
        assert ours[name] == pytest.approx(ref[r_name], rel=1e-6), name
    # val.prob's C/Dxy come from lrm.fit's binned computation; ours are exact = Hmisc::somers2
    s2 = pd.read_csv(REF / "calibration_somers2.csv").iloc[0]
    assert ours["c_index"] == pytest.approx(s2["c_index"], rel=1e-12)
    assert ours["dxy"] == pytest.approx(s2["dxy"], rel=1e-12)
    assert ours["c_index"] == pytest.approx(ref["C (ROC)"], abs=5e-4)


def test_calibration_in_the_large_is_offset_intercept():
    data = pd.read_csv(REF / "calibration_valprob_input.csv")
    off = np.log(data.p / (1 - data.p))
    glm = sm.GLM(data.y, np.ones((len(data), 1)), family=sm.families.Binomial(), offset=off).fit()
    assert val_prob(data.y, data.p)["calibration_in_the_large"] == pytest.approx(
        glm.params.iloc[0], rel=1e-8
    )


def test_lowess_against_R():
    """R: lowess(p, y, iter = 0)."""
    data = pd.read_csv(REF / "calibration_valprob_input.csv")
    ref = pd.read_csv(REF / "calibration_lowess.csv")
    x, y = lowess(data.p, data.y, it=0)
    assert_allclose(x, ref.x, rtol=1e-12)
    assert_allclose(y, ref.y, atol=1e-9)


# ------------------------------------------------------------------------------ curve and plot
def test_calibration_curve_structure():
    data = pd.read_csv(REF / "calibration_valprob_input.csv")
    cc = calibration_curve(data.y, data.p, n_groups=5)
    g = cc.grouped
    assert list(g.columns) == [
        "group", "n", "mean_predicted", "observed_rate", "ci_low", "ci_high",
    ]  # fmt: skip
    assert g["n"].sum() == len(data)
    assert (g.ci_low <= g.observed_rate).all() and (g.observed_rate <= g.ci_high).all()
    assert len(cc.smooth) == len(data)
    assert cc.hosmer_lemeshow.n_groups == 5
    assert cc.stats["slope"] == pytest.approx(val_prob(data.y, data.p)["slope"])


def test_plot_calibration_legend_has_hl_p(birthwt, full_model):
    import matplotlib.pyplot as plt

    p = full_model.predict_proba(birthwt)[:, 1]
    fig, ax = plt.subplots()
    out = plot_calibration(birthwt["low"], p, ax=ax, label="Nomogram")
    assert out is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Ideal" in labels
    assert any("Nomogram (HL p = 0.238)" == s for s in labels)
    ax2 = calibration_curve(birthwt["low"], p).plot(ax=plt.subplots()[1])
    assert ax2.get_legend() is not None


# ------------------------------------------------------------------------------ bootstrap
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
    beta = fit_logistic(X_b, yb, ["(Intercept)", *refit.coef_.index], stopping=LrmStopping(tol=1e-12)).coef
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


@pytest.mark.parametrize("tol", [1e-12, 1e-13])
def test_resample_fit_equals_lrm_fit_on_every_resample(sparse, sparse_model, tol):
    # rms lrm.fit(x[s, ], y[s], maxit = 12, tol = tol) on each of R's resamples: the same
    # coefficients where it stops (converged or not), the same failures
    ref = pd.read_csv(REF / "validate_sparse_fits.csv")
    ref = ref[np.isclose(ref["tol"], tol, rtol=1e-6, atol=0)].set_index("resample")
    X = design_matrix(sparse, sparse_model._terms)
    y = sparse["y"].to_numpy()
    cols = ["(Intercept)", *sparse_model.coef_.index]
    quasi = 0
    for i, idx in enumerate(_sparse_indices(), start=1):
        r = ref.loc[i]
        if r["fail"]:
            with pytest.raises(np.linalg.LinAlgError):
                fit_logistic(X[idx], y[idx], cols, stopping=LrmStopping(tol=tol))
            continue
        fit = fit_logistic(X[idx], y[idx], cols, stopping=LrmStopping(tol=tol))
        expected = r[["intercept", "score", "size", "grade_mid", "grade_rare"]].to_numpy(float)
        assert_allclose(fit.coef, expected, rtol=1e-9, atol=1e-12, err_msg=f"resample {i}")
        assert -2 * fit.loglik == pytest.approx(r["deviance"], rel=1e-12)
        quasi += r["events_rare"] == 0
    assert quasi == 22 and ref["fail"].sum() == 2


def test_lrm_iterations_on_separation_and_step_halving_equal_lrm_fit():
    # lrm.fit(x, y, maxit = 12, tol = 1e-12) on completely separated data (fails: not converged
    # in 11 iterations) and on two data sets where a step is halved (tests/reference/validate.R)
    from radiomics_aln.exceptions import ConvergenceError
    from radiomics_aln.regression import _intercept_start, _newton

    ref = pd.read_csv(REF / "validate_lrm_iterations.csv")
    for case, g in ref.groupby("case", sort=False):
        cols = ["x1"] if g["x2"].isna().all() else ["x1", "x2"]
        X = np.column_stack([np.ones(len(g)), g[cols].to_numpy()])
        y = g["y"].to_numpy()
        expected = g[["b0", "b1", "b2"][: X.shape[1]]].iloc[0].to_numpy(float)
        # where lrm.fit stops, converged or not
        path = _newton(X, y, _intercept_start(y, X.shape[1]), lrm=LrmStopping(tol=1e-12))
        beta, converged = path.beta, path.converged
        assert_allclose(beta, expected, rtol=1e-9, err_msg=case)
        assert converged != g["fail"].iloc[0], case
        if g["fail"].iloc[0]:
            with pytest.raises(ConvergenceError, match="did not converge in 11 iterations"):
                fit_logistic(X, y, ["(Intercept)", *cols], stopping=LrmStopping())
        else:
            fit = fit_logistic(X, y, ["(Intercept)", *cols], stopping=LrmStopping())
            assert -2 * fit.loglik == pytest.approx(g["deviance"].iloc[0], rel=1e-9)
    assert set(ref.loc[ref["halvings"] > 0, "case"]) == {"halving_1315", "halving_2028"}


def test_singularity_rule_equals_r_qr_rank():
    # R's qr(A, tol)$rank (LINPACK dqrdc2) on 60 information matrices, 21 of them singular at
    # 1e-12 (tests/reference/validate.R): lrm.fit and solvet call a matrix singular by it
    from radiomics_aln.regression import _linpack_rank

    ref = pd.read_csv(REF / "validate_qr_rank.csv")
    deficient = 0
    for m, g in ref.groupby("matrix"):
        k = int(g["k"].iloc[0])
        A = np.zeros((k, k))
        A[g["i"] - 1, g["j"] - 1] = g["value"]
        for tol, col in [(1e-12, "rank_1e12"), (1e-13, "rank_1e13"), (1e-7, "rank_1e7")]:
            assert _linpack_rank(A, tol) == g[col].iloc[0], (m, tol)
        deficient += g["rank_1e12"].iloc[0] < k
    assert deficient == 21


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


def test_recalibration_of_an_extreme_linear_predictor_equals_glm():
    # R: glm(y ~ lp, binomial) with lp spanning -55..44 logits (tests/reference/validate.R): at
    # the start b = 1 nearly every probability saturates; a bootstrap resample of the demo study
    # stopped Study.evaluate with "logistic recalibration is singular" before.
    d = pd.read_csv(REF / "validate_recal_extreme_input.csv")
    ref = pd.read_csv(REF / "validate_recal_extreme.csv").iloc[0]
    a, b, ll = recalibrate(d["lp"].to_numpy(), d["y"].to_numpy())
    assert_allclose([a, b, ll], ref[["intercept", "slope", "loglik"]], rtol=1e-9)


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
    a = bootstrap_calibrate(full_model, birthwt, "low", n_boot=5, random_state=1, repeat_selection=False)
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


def test_hosmer_lemeshow_drops_group_left_empty_by_interpolated_quantiles():
    # type-7 quantiles put breaks 0.34 < 0.5 < 0.66: (0.5, 0.66] holds no prediction, so
    # hoslem.test would divide 0 by 0; we drop the empty group and say how many were formed
    p = np.repeat([0.1, 0.5, 0.9], [40, 20, 40])
    y = np.concatenate([np.r_[1, 1, 1, 1, np.zeros(36)], np.r_[np.ones(10), np.zeros(10)],
                        np.r_[np.ones(36), 0, 0, 0, 0]])  # fmt: skip
    with pytest.warns(StatisticalWarning, match="3 groups were formed instead of 10"):
        hl = hosmer_lemeshow(y, p)
    assert hl.table["n"].tolist() == [40, 20, 40]
    assert np.isfinite(hl.statistic) and hl.df == 8 and hl.n_groups == 3


def test_calibration_curve_with_too_few_groups_falls_back_to_distinct_values():
    p = np.repeat([0.2, 0.6], 50)
    y = np.r_[np.ones(10), np.zeros(40), np.ones(30), np.zeros(20)]
    cc = calibration_curve(y, p)
    assert cc.hosmer_lemeshow is None
    assert_allclose(cc.grouped["observed_rate"], [0.2, 0.6])
    assert cc.grouped["n"].tolist() == [50, 50]


def test_plot_calibration_with_bias_corrected_curve(birthwt, full_model):
    import matplotlib.pyplot as plt

    cal = bootstrap_calibrate(
        full_model, birthwt, "low", n_boot=2, random_state=0, repeat_selection=False
    )
    p = full_model.predict_proba(birthwt)[:, 1]
    ax = plot_calibration(birthwt["low"], p, ax=plt.subplots()[1], bias_corrected=cal)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Bias-corrected" in labels


def test_plot_calibration_shows_groups_at_zero_and_one_whole():
    # groups observed at 0 % or 100 % sat on the axes' edge, their markers cut in half
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    p = np.clip(rng.beta(0.5, 0.5, 400), 1e-4, 1 - 1e-4)
    y = (rng.random(400) < p).astype(int)
    fig, ax = plt.subplots()
    assert plot_calibration(y, p, ax=ax) is ax
    lo, hi = ax.get_xlim()
    assert lo < 0 and hi > 1
    lo, hi = ax.get_ylim()
    assert lo < 0 and hi > 1


def test_bootstrap_mean_skips_failed_resamples_and_nan_indexes():
    from radiomics_aln.validation import _Failed, _mean_over_resamples
    from radiomics_aln.exceptions import ConvergenceError, StatisticalWarning

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


def test_calibration_legend_prints_small_hl_p_as_below_0001():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, 400)
    y = (rng.uniform(size=400) < p**3).astype(int)  # badly miscalibrated: HL p ~ 1e-30
    ax = plot_calibration(y, p, label="model")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("HL p < 0.001" in t for t in labels), labels
