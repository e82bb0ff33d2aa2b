"""Tests of radiomics_aln.study_outputs and the report's table views (radiomics_aln._report_tables)
that need no fitted study: odds ratios per k units against R, and the notes of the tables.

Reference values: tests/reference/report_tables.R (odds_ratio_per.csv: exp(k * coef) and
exp(k * confint.default) of glm fits on MASS::birthwt).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from radiomics_aln import _report_tables as views
from radiomics_aln.data_dictionary import DataDictionary
from radiomics_aln.model import CLINICAL_MODEL, COMBINED_MODEL
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.study_outputs import calibration_tables, scale_odds_ratios
from radiomics_aln.univariate import univariate_logistic

REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="module")
def or_ref() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "odds_ratio_per.csv")


@pytest.mark.parametrize("term", ["age", "lwt"])
def test_univariate_odds_ratio_per_k_units_against_R(birthwt, or_ref, term):
    """R: fit <- glm(low ~ <term>, binomial, birthwt); exp(k * coef(fit)),
    exp(k * confint.default(fit)) with k = 10."""
    ref = or_ref[(or_ref.model == f"univariate_{term}") & (or_ref.term == term)].iloc[0]
    uni = univariate_logistic(birthwt, "low", [term])
    got = scale_odds_ratios(uni, {term: ref["per"]}).iloc[0]
    assert got["per"] == 10
    assert_allclose(got["beta"], ref["beta"], rtol=1e-8)  # beta stays per 1 unit
    for col in ("odds_ratio", "or_ci_low", "or_ci_high", "p_value"):
        assert_allclose(got[col], ref[col], rtol=1e-8)


def test_multivariable_odds_ratios_per_k_units_against_R(birthwt, or_ref):
    """R: glm(low ~ age + lwt + smoke, binomial, birthwt); age per 5, lwt per 10, smoke per 1."""
    ref = or_ref[or_ref.model == "multivariable"].set_index("term")
    model = LogisticNomogram(selection=None).fit(birthwt, "low", ["age", "lwt", "smoke"])
    got = scale_odds_ratios(model.summary, ref["per"].to_dict()).set_index("predictor")
    for term, row in ref.iterrows():
        for col in ("odds_ratio", "or_ci_low", "or_ci_high", "p_value"):
            assert_allclose(got.loc[term, col], row[col], rtol=1e-7)
    # the intercept and categorical levels are never rescaled
    assert got.loc["(Intercept)", "per"] == 1.0
    levels = pd.DataFrame({"predictor": ["race"], "level": ["black"], "odds_ratio": [2.0],
                           "or_ci_low": [1.0], "or_ci_high": [4.0]})  # fmt: skip
    assert scale_odds_ratios(levels, {"race": 10})["odds_ratio"].iloc[0] == 2.0


def test_per_k_equals_a_refit_on_the_rescaled_predictor(birthwt):
    """Analytically: the OR per k units is the OR per 1 unit of x / k."""
    direct = univariate_logistic(birthwt.assign(lwt=birthwt["lwt"] / 10), "low", ["lwt"])
    scaled = scale_odds_ratios(univariate_logistic(birthwt, "low", ["lwt"]), {"lwt": 10})
    cols = ["odds_ratio", "or_ci_low", "or_ci_high", "p_value"]
    assert_allclose(scaled[cols].to_numpy(float), direct[cols].to_numpy(float), rtol=1e-9)


def test_hosmer_lemeshow_note_says_how_many_groups_formed_and_why():
    rng = np.random.default_rng(3)
    n = 120
    # 4 distinct predictions: their quantile breaks form 3 groups (R cut(quantile()))
    tied = np.repeat([0.15, 0.3, 0.5, 0.7], n // 4)
    y = (rng.random(n) < tied).astype(int)
    smooth = np.clip(tied + rng.normal(0, 0.05, n), 0.01, 0.99)
    arrays = {"train": {"y": y, "models": {CLINICAL_MODEL: tied, COMBINED_MODEL: smooth}}}
    with pytest.warns(Warning):
        hl, cal, _ = calibration_tables(arrays, {"train": "Training"}, 10)
    df, note = views.hosmer_lemeshow_view(hl, 10)
    rows = df.set_index("Model")
    assert rows.loc[CLINICAL_MODEL, "Groups formed"] == "3 of 10"
    assert rows.loc[COMBINED_MODEL, "Groups formed"] == "10 of 10"
    assert rows.loc[CLINICAL_MODEL, "df"] == "8"
    assert "10 groups requested" in note and "df = requested groups - 2 = 8" in note
    assert "Training, Clinical model: 3 groups" in note and "tie" in note


def test_hosmer_lemeshow_note_names_a_test_that_could_not_be_computed():
    hl = pd.DataFrame({"cohort": ["Test"], "model": [CLINICAL_MODEL], "statistic": [np.nan],
                       "df": [np.nan], "p_value": [np.nan], "groups": [np.nan],
                       "note": ["only 2 group(s) could be formed"]})  # fmt: skip
    df, note = views.hosmer_lemeshow_view(hl, 10)
    assert df.loc[0, "p"] == "" and df.loc[0, "Groups formed"] == "not computed"
    assert "Not computed (at least 3 groups" in note and "Test, Clinical model: only 2 group" in note


def test_calibration_view_explains_what_it_leaves_out():
    cal = pd.DataFrame({"cohort": ["Training", "External"], "model": [COMBINED_MODEL] * 2,
                        "intercept": [8.9e-17, -0.31], "slope": [1.0, 0.54],
                        "brier": [0.149, 0.208], "c_index": [0.858, 0.747],
                        "dxy": [0.716, 0.494], "r2": [0.47, -78.9]})  # fmt: skip
    df, note = views.calibration_view(cal)
    assert list(df.columns) == ["Cohort", "Model", "Calibration intercept", "Calibration slope",
                                "Brier score", "C-index (AUC)"]  # fmt: skip
    assert df.loc[0, "Calibration intercept"] == "0.000"  # not 8.912e-17
    assert "-78.9" not in df.to_string() and "negative" in note and "R²" in note


def test_small_coefficients_print_without_exponents():
    sc = pd.DataFrame({"score": ["ln_score"], "feature": ["ln__original_glcm_Contrast"],
                       "coefficient": [0.12], "coefficient_original": [3.2e-7],
                       "mean": [1.5e6], "sd": [2.0e5]})  # fmt: skip
    df, _ = views.score_coefficient_view(sc, DataDictionary())
    assert df.iloc[0].tolist() == ["LN score", "ln__original_glcm_Contrast", "0.1200",
                                   "0.0000003200", "1500000", "200000"]  # fmt: skip


def test_term_labels():
    dd = DataDictionary({"age": {"label": "Age", "unit": "years", "per": 10},
                         "margin": {"label": "Margin", "levels": {"irregular": "Irregular",
                                                                  "smooth": "Circumscribed"}}})
    assert views.term_label(dd, "age") == "Age, per 10 years"
    assert views.term_label(dd, "margin", "irregular", "smooth") == (
        "Margin: Irregular vs Circumscribed"
    )
    assert views.term_label(dd, "margin", "smooth", "smooth") == "Margin: Circumscribed (reference)"
    assert views.term_label(dd, "(Intercept)") == "Intercept"
    # a 1/2/3 coding is not yes/no: grade 1 must not read "Yes" (it did in the demo report)
    assert views.term_label(dd, "grade", "2", "1", ["1", "2", "3"]) == "Grade: 2 vs 1"
    assert views.term_label(dd, "er", "1", "0", ["0", "1"]) == "ER: Yes vs No"
