"""Bad statistical inputs: each gives an InputError whose message names the argument, column,
model or rows at fault (issue 13). One test id per distinct bad input."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from radiomics_aln import calibration, decision, metrics, reclassification, reliability
from radiomics_aln.exceptions import InputError, StatisticalWarning

Y = np.array([0, 1, 0, 1, 1, 0, 1, 0, 0, 1])
P = np.linspace(0.1, 0.9, 10)


def _with(values: np.ndarray, last: float) -> np.ndarray:
    out = np.asarray(values, dtype=float).copy()
    out[-1] = last
    return out


def _long(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"case": [1, 1, 2, 2, 3, 3], "reader": [1, 2] * 3, "area": values})


def _readings(**frames: dict[str, list[float]]) -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(cols, index=["c1", "c2", "c3"]) for name, cols in frames.items()}


BAD = {
    # metrics
    "auc_nan_prediction": (lambda: metrics.roc_auc(Y, _with(P, np.nan)), r"`p`.*rows 9"),
    "auc_one_class_outcome": (lambda: metrics.roc_auc(np.zeros(10), P), r"`y` has only one class"),
    "delong_mismatched_lengths": (
        lambda: metrics.delong_test(Y, P, P[:-1]),
        r"length mismatch.*`p2` has 9",
    ),
    "nri_nan_new_model": (lambda: reclassification.nri(Y, P, _with(P, np.nan)), r"`p_new`.*rows 9"),
    "idi_probability_above_one": (
        lambda: reclassification.idi(Y, P, _with(P, 1.5)),
        r"`p_new` must be probabilities in \[0, 1\]; rows 9.*1\.5\)",
    ),
    # calibration
    "hoslem_probability_of_one": (
        lambda: calibration.hosmer_lemeshow(Y, _with(P, 1.0)),
        r"`p` must be probabilities in \(0, 1\); rows 9 .*e\.g\. 1\.0\)",
    ),
    "hoslem_fractional_groups": (
        lambda: calibration.hosmer_lemeshow(Y, P, n_groups=2.5),
        r"`n_groups` must be an integer >= 3.*2\.5",
    ),
    "hoslem_unknown_df_rule": (
        lambda: calibration.hosmer_lemeshow(Y, P, df="g-1"),
        r"`df` must be 'requested' or 'formed'.*'g-1'",
    ),
    "calibration_curve_zero_groups": (
        lambda: calibration.calibration_curve(Y, P, n_groups=0),
        r"`n_groups` must be an integer >= 3",
    ),
    "val_prob_mismatched_lengths": (
        lambda: calibration.val_prob(Y, P[:-1]),
        r"length mismatch: `y` has 10, `p` has 9",
    ),
    "val_prob_text_outcome": (
        lambda: calibration.val_prob(np.append(Y[:-1].astype(str), "yes"), P),
        r"`y` must contain only 0 and 1; rows 9 hold yes",
    ),
    "val_prob_only_0_or_1_predictions": (
        lambda: calibration.val_prob(Y, Y.astype(float)),
        r"`p`: the cases with predicted probabilities strictly between 0 and 1",
    ),
    "le_cessie_nan_prediction": (
        lambda: calibration.le_cessie_van_houwelingen(Y, _with(P, np.nan)),
        r"`p` has 1 missing or non-finite value\(s\) at rows 9",
    ),
    # decision curves
    "dca_non_binary_outcome": (
        lambda: decision.decision_curve(_with(Y, 2), P),
        r"`y` must contain only 0 and 1; rows 9 hold 2",
    ),
    "dca_negative_risk_names_model": (
        lambda: decision.decision_curve(Y, {"nomogram": _with(P, -0.1)}),
        r"`nomogram` must be probabilities in \[0, 1\]; rows 9",
    ),
    "dca_threshold_just_above_one": (
        lambda: decision.decision_curve(Y, P, thresholds=[0.5, 1 + 1e-13]),
        re.escape("`thresholds` must lie in [0, 1)") + r".*" + re.escape(repr(1 + 1e-13)),
    ),
    "dca_threshold_nan": (
        lambda: decision.decision_curve(Y, P, thresholds=[0.1, np.nan]),
        r"`thresholds` has 1 missing or non-finite value\(s\) at rows 1",
    ),
    "dca_duplicate_thresholds": (
        lambda: decision.decision_curve(Y, P, thresholds=[0.1, 0.2, 0.2]),
        r"`thresholds` has duplicate values: \[0\.2\]",
    ),
    "dca_series_indexes_disagree": (
        lambda: decision.decision_curve(
            pd.Series(Y), {"nomogram": pd.Series(P, index=range(1, 11))}
        ),
        r"`y` and model 'nomogram' are pandas Series with different indexes",
    ),
    "clinical_impact_zero_population": (
        lambda: decision.clinical_impact(Y, P, population=0),
        r"`population` must be a positive integer",
    ),
    # reliability
    "icc_missing_rating": (
        lambda: reliability.icc(_long([1, np.nan, 2, 3, 4, 5]), "case", "reader", "area"),
        r"`area` is missing for 1 target\(s\): target 1 \(rater 2\)",
    ),
    "icc_text_rating": (
        lambda: reliability.icc(_long([1, "big", 2, 3, 4, 5]), "case", "reader", "area"),
        r"column `area` must be numeric; targets 1 hold big",
    ),
    "icc_unknown_column": (
        lambda: reliability.icc(_long([1, 2, 2, 3, 4, 5]), "case", "reader", "volume"),
        r"`data` lacks column\(s\) volume",
    ),
    "icc_one_constant_value": (
        lambda: reliability.icc(_long([4.0] * 6), "case", "reader", "area"),
        r"`area` is one constant value for every target and rater",
    ),
    "icc_table_readings_with_other_features": (
        lambda: reliability.icc_table(_readings(a={"glcm": [1.0, 2, 3]}, b={"glrlm": [1.0, 2, 3]})),
        r"reading 'b' differs from 'a' in features: lacks glcm; has extra glrlm",
    ),
    "icc_table_infinite_value": (
        lambda: reliability.icc_table(
            _readings(a={"glcm": [1.0, 2, 3]}, b={"glcm": [1.0, np.inf, 3]})
        ),
        r"infinite.*glcm",
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_statistical_input(name):
    call, message = BAD[name]
    with warnings.catch_warnings():
        # val_prob first warns that it deletes the predictions at 0 or 1, then refuses
        warnings.simplefilter("ignore", StatisticalWarning)
        with pytest.raises(InputError, match=message):
            call()
