"""Tests of radiomics_aln.univariate, pinned to R (tests/reference/nomogram.R: one glm per
predictor on MASS::birthwt).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from radiomics_aln.exceptions import (
    InputError,
    SeparationError,
    StatisticalWarning,
)
from radiomics_aln.univariate import univariate_logistic

REF = Path(__file__).parent / "reference"


FULL = ["age", "lwt", "race", "smoke", "ptl", "ht", "ui"]


WHITE = {"race": "white"}


def test_univariate_against_R(birthwt):
    """R: for each v, summary(glm(low ~ v, binomial)) and exp(confint.default(fit))."""
    ref = pd.read_csv(REF / "nomogram_univariate.csv")
    t = univariate_logistic(birthwt, "low", FULL, reference_levels=WHITE)
    est = t[~t["is_reference"]].reset_index(drop=True)
    assert len(est) == len(ref)
    assert_allclose(est["beta"], ref["estimate"], rtol=1e-6)
    assert_allclose(est["p_value"], ref["p_value"], rtol=1e-5)
    assert_allclose(est["or_ci_low"], ref["or_ci_low"], rtol=1e-6)
    assert_allclose(est["or_ci_high"], ref["or_ci_high"], rtol=1e-6)


def test_univariate_lists_reference_level_first(birthwt):
    t = univariate_logistic(birthwt, "low", ["race", "age"], reference_levels=WHITE)
    race = t[t.predictor == "race"]
    assert race["level"].tolist() == ["white", "black", "other"]
    assert race["is_reference"].tolist() == [True, False, False]
    assert (race["reference"] == "white").all()
    assert race["odds_ratio"].iloc[0] == 1.0 and np.isnan(race["beta"].iloc[0])
    assert race["n"].sum() == len(birthwt)
    assert race["n_events"].sum() == birthwt["low"].sum()
    # one joint Wald p-value for the predictor as a whole
    assert race["p_overall"].nunique() == 1
    # default reference: first level in sorted order (R factor default) -> "black"
    t2 = univariate_logistic(birthwt, "low", ["race"])
    assert t2["level"].iloc[0] == "black"


def test_univariate_categorical_order_from_pandas_categorical(birthwt):
    df = birthwt.assign(race=pd.Categorical(birthwt.race, ["other", "white", "black"]))
    t = univariate_logistic(df, "low", ["race"])
    assert t["level"].tolist() == ["other", "white", "black"]


def test_univariate_separated_predictor_raises_or_is_reported(birthwt):
    df = birthwt.assign(
        marker=np.where(birthwt["low"] == 1, "pos", "neg"),  # perfectly predicts the outcome
        perfect=birthwt["low"] * 10.0 + np.arange(len(birthwt)) % 3,
    )
    with pytest.raises(SeparationError, match=r"marker\[pos\]"):
        univariate_logistic(df, "low", ["age", "marker"])
    with pytest.warns(StatisticalWarning, match="not estimable.*marker.*perfect"):
        t = univariate_logistic(
            df, "low", ["age", "marker", "perfect", "race"], reference_levels=WHITE,
            separation="report",
        )  # fmt: skip
    fine = univariate_logistic(birthwt, "low", ["age", "race"], reference_levels=WHITE)
    # the estimable predictors are untouched, with an empty note
    ok = t[t.predictor.isin(["age", "race"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(ok, fine)
    assert (ok["note"] == "").all()
    marker = t[t.predictor == "marker"]
    assert marker["level"].tolist() == ["neg", "pos"]
    assert marker["n"].tolist() == [(df.marker == "neg").sum(), (df.marker == "pos").sum()]
    assert marker["odds_ratio"].iloc[0] == 1.0 and np.isnan(marker["odds_ratio"].iloc[1])
    assert marker["p_overall"].isna().all()
    assert marker["note"].str.contains("separation").all()
    perfect = t[t.predictor == "perfect"].iloc[0]
    assert np.isnan(perfect["beta"]) and "perfect" in perfect["note"]
    assert t["predictor"].drop_duplicates().tolist() == ["age", "marker", "perfect", "race"]
    with pytest.raises(InputError, match="separation must be 'raise' or 'report'"):
        univariate_logistic(df, "low", ["age"], separation="ignore")
