"""Tests of radiomics_aln.regression, the one logistic solver: lrm.fit's stopping rule and
singularity rule (tests/reference/validate.R), the recalibration (glm), Firth's profile search.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from radiomics_aln.design import design_matrix
from radiomics_aln.exceptions import InputError, SmallSampleWarning
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.regression import LrmStopping, fit_logistic, recalibrate

REF = Path(__file__).parent / "reference"


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


def test_recalibration_of_an_extreme_linear_predictor_equals_glm():
    # R: glm(y ~ lp, binomial) with lp spanning -55..44 logits (tests/reference/validate.R): at
    # the start b = 1 nearly every probability saturates; a bootstrap resample of the demo study
    # stopped Study.evaluate with "logistic recalibration is singular" before.
    d = pd.read_csv(REF / "validate_recal_extreme_input.csv")
    ref = pd.read_csv(REF / "validate_recal_extreme.csv").iloc[0]
    a, b, ll = recalibrate(d["lp"].to_numpy(), d["y"].to_numpy())
    assert_allclose([a, b, ll], ref[["intercept", "slope", "loglik"]], rtol=1e-9)


def test_profile_root_search_trusts_the_bracket_it_was_given():
    # A profile recomputed from another start may differ in the last digits; the root search
    # must not re-evaluate (and re-judge) the bracket ends it was handed.
    from radiomics_aln.regression import _root_in_bracket

    calls = []

    def f(x):
        calls.append(x)
        return -1.0 if x in (0.0, 4.0) else 0.7 - 0.5 * x  # ends would read with a wrong sign

    root = _root_in_bracket(f, 0.0, 0.7, 4.0, -1.3)
    assert root == pytest.approx(1.4, rel=1e-10)
    assert 0.0 not in calls and 4.0 not in calls


def test_lrm_rule_is_for_maximum_likelihood_fits_only():
    X = np.column_stack([np.ones(6), [0.0, 1.0, 2.0, 0.0, 1.0, 2.0]])
    y = np.array([0, 0, 1, 1, 0, 1])
    with pytest.raises(InputError, match="maximum-likelihood fits only"):
        fit_logistic(X, y, ["(Intercept)", "x"], penalty="firth", stopping=LrmStopping())
    # both rules reach the same maximum on well-behaved data (lrm.fit within its eps)
    exact = fit_logistic(X, y, ["(Intercept)", "x"])
    lrm = fit_logistic(X, y, ["(Intercept)", "x"], stopping=LrmStopping())
    assert_allclose(lrm.coef, exact.coef, rtol=1e-4)
    a, b, ll = recalibrate(X[:, 1], y)
    assert_allclose([a, b, ll], [*exact.coef, exact.loglik], rtol=1e-10)
