"""Numbers that used to differ from R on unseen cases (issue 13, section 6), pinned to R.

Reference: tests/reference/parity.R (versions in parity_versions.txt). ResourceSelection and
dcurves are not installable here; the script writes hoslem.test (0.3-6) and dcurves' (0.5.1)
test-positive rule in plain R, line by line, as tests/reference/nomogram.R and metrics.R do.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from radiomics_aln.calibration import hosmer_lemeshow, val_prob
from radiomics_aln.decision import clinical_impact, decision_curve
from radiomics_aln.exceptions import InputError, StatisticalWarning
from radiomics_aln.reliability import icc, icc_table

REF = Path(__file__).parent / "reference"


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name)


# ------------------------------------------------------------------ Hosmer-Lemeshow with ties
@pytest.mark.parametrize("case", ["birthwt_round1", "birthwt_round1_g8"])
def test_hosmer_lemeshow_fewer_groups_keeps_requested_df_as_hoslem_test(case):
    data = _read("parity_hoslem_data.csv").query("case == @case")
    ref = _read("parity_hoslem.csv").set_index("case").loc[case]
    with pytest.warns(StatisticalWarning, match=f"{int(ref.groups_formed)} groups were formed"):
        hl = hosmer_lemeshow(data["y"], data["p"], n_groups=int(ref.g))
    assert hl.n_groups == ref.groups_formed < ref.g
    assert hl.df == ref.df == ref.g - 2
    assert hl.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert hl.p_value == pytest.approx(ref.p_value, rel=1e-10)
    assert f"{int(ref.groups_formed)} of {int(ref.g)} groups formed" in hl.note


def test_hosmer_lemeshow_empty_group_is_dropped_where_r_gives_nan():
    data = _read("parity_hoslem_data.csv").query("case == 'ties5'")
    ref = _read("parity_hoslem.csv").set_index("case").loc["ties5"]
    assert np.isnan(ref.statistic)  # hoslem.test: an empty interval gives 0/0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        hl = hosmer_lemeshow(data["y"], data["p"])
    # R's cut() made 8 intervals, 3 of them empty; the 5 tied values are 5 groups
    assert ref.groups_formed == 8 and hl.n_groups == 5 and hl.df == 8
    assert np.isfinite(hl.statistic)


# ------------------------------------------------------------------ val.prob with p = 0 or 1
_VALPROB = {
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


@pytest.mark.parametrize("case", ["zeros_ones", "event_at_zero"])
def test_val_prob_with_predictions_at_0_or_1_equals_rms(case):
    data = _read("parity_valprob_data.csv").query("case == @case").reset_index(drop=True)
    ref = _read("parity_valprob.csv").query("case == @case").set_index("stat")["value"]
    n_out = int(len(data) - ref["n_used"])
    with pytest.warns(StatisticalWarning, match=f"{n_out} observation.*deleted from the logistic"):
        ours = val_prob(data["y"], data["p"])
    for r_name, name in _VALPROB.items():
        if np.isinf(ref[r_name]):
            assert ours[name] == ref[r_name], name
        else:
            assert ours[name] == pytest.approx(ref[r_name], rel=1e-6, abs=1e-12), name
    # C / Dxy: exact (Hmisc::somers2 on the cases kept), as for every val_prob
    assert ours["c_index"] == pytest.approx(ref["somers2_C"], rel=1e-12)
    assert ours["dxy"] == pytest.approx(ref["somers2_Dxy"], rel=1e-12)
    assert ours["c_index"] == pytest.approx(ref["C (ROC)"], abs=1e-3)
    assert ours.notna().all()


def test_val_prob_warning_names_rows():
    data = _read("parity_valprob_data.csv").query("case == 'zeros_ones'").reset_index(drop=True)
    p = data["p"].set_axis([f"case{i}" for i in range(len(data))])
    at_edge = p.index[(p == 0) | (p == 1)]
    with pytest.warns(StatisticalWarning, match=at_edge[0]):
        val_prob(data["y"].to_numpy(), p)


# ------------------------------------------------------------------ decision curves
def test_decision_curve_thresholds_compared_exactly_as_dcurves():
    data = _read("parity_dca_data.csv")
    ref = _read("parity_dca.csv")
    # 1e-13, 1 - 1e-13 and 0.01 + 5 * 0.01 (= 0.060000000000000005) are used as they are
    assert ref["threshold"].iloc[3] == 0.01 + 5 * 0.01 != 0.06 == ref["threshold"].iloc[2]
    dc = decision_curve(data["y"], data["risk"], thresholds=ref["threshold"].to_numpy())
    assert dc["threshold"].tolist() == ref["threshold"].tolist()
    assert dc["tp"].tolist() == ref["tp"].tolist()
    assert dc["fp"].tolist() == ref["fp"].tolist()
    assert_allclose(dc["net_benefit"], ref["net_benefit"], rtol=1e-12)
    assert_allclose(dc["treat_all"], ref["treat_all"], rtol=1e-12)
    ci = clinical_impact(data["y"], data["risk"], thresholds=ref["threshold"].to_numpy())
    assert_allclose(ci["n_high_risk"], 1000 * (ref["tp"] + ref["fp"]) / len(data), rtol=1e-12)


@pytest.mark.parametrize("bad", [1.0, 1 + 1e-13, -1e-300])
def test_decision_curve_threshold_message_shows_the_exact_value(bad):
    with pytest.raises(InputError, match=re.escape(repr(bad))):
        decision_curve([0, 1, 1], [0.2, 0.4, 0.9], thresholds=[bad])
    # 1 - 1e-13 is a valid threshold now (it used to be rounded to 1.0 and refused)
    assert len(decision_curve([0, 1, 1], [0.2, 0.4, 0.9], thresholds=[1 - 1e-13])) == 1


# ------------------------------------------------------------------ ICC of offset readings
_ICC_COLS = {"ICC": "estimate", "F": "F", "p": "p_value", "lower": "ci_low", "upper": "ci_high"}


@pytest.mark.parametrize("case", ["offset_k2", "offset_k3", "offset_large"])
def test_icc_of_readings_offset_between_readers_equals_psych(case):
    data = _read("parity_icc_data.csv").query("case == @case")
    ref = _read("parity_icc.csv").query("case == @case").set_index("type")
    ours = icc(data, "target", "rater", "rating").set_index("type")
    k = data["rater"].nunique()
    # psych's mean squares between targets and residual are rounding noise (~1e-31 against
    # MS_judges ~ 10): exactly 0 in exact arithmetic, which is what we use
    assert (ref["ms_subjects"] < 1e-20 * ref["ms_judges"]).all()
    assert (ref["ms_residual"] < 1e-20 * ref["ms_judges"]).all()
    # well defined, equal to psych: ICC1 = -1/(k-1) with its F test and CI; ICC2, ICC2k = 0
    assert ours.loc["ICC1", "estimate"] == pytest.approx(-1 / (k - 1), rel=1e-12)
    for form in ("ICC1", "ICC2", "ICC2k"):
        for r_col, col in _ICC_COLS.items():
            if form != "ICC1" and r_col in ("F", "p"):
                continue
            assert ours.loc[form, col] == pytest.approx(ref.loc[form, r_col], rel=1e-9, abs=1e-20)
    assert ours.loc["ICC1k", "F"] == pytest.approx(ref.loc["ICC1k", "F"], abs=1e-20)
    assert ours.loc["ICC1k", "p_value"] == ref.loc["ICC1k", "p"] == 1
    assert (ours[["df1", "df2"]].to_numpy() == ref[["df1", "df2"]].to_numpy()).all()
    # 0/0 in exact arithmetic, where psych prints noise (ICC3 = noise / noise, ICC1k ~ -1e31):
    # NaN here, never a number
    for form in ("ICC3", "ICC3k", "ICC1k"):
        assert np.isnan(ours.loc[form, "estimate"]), form
    assert ours.loc[["ICC2", "ICC3", "ICC2k", "ICC3k"], "F"].isna().all()


def test_icc_of_a_truly_constant_feature_is_undefined():
    data = _read("parity_icc_data.csv").query("case == 'constant'")
    ref = _read("parity_icc.csv").query("case == 'constant'")
    # psych's mean squares are all rounding noise of the same size: its ICCs (~1e-15) mean 0/0
    assert (ref[["ms_subjects", "ms_judges", "ms_residual"]] < 1e-25).all().all()
    with pytest.raises(InputError, match="one constant value for every target and rater"):
        icc(data, "target", "rater", "rating")


def test_icc_table_offset_feature_and_reasons():
    cases = [f"c{i}" for i in range(6)]
    r1 = pd.DataFrame({"offset": 5.0, "constant": 3.0, "ok": np.arange(6.0)}, index=cases)
    r2 = pd.DataFrame({"offset": 7.0, "constant": 3.0, "ok": np.arange(6.0) + 0.1}, index=cases)
    t2 = icc_table({"r1": r1, "r2": r2}, form="ICC2")
    assert t2.loc["offset", "estimate"] == 0 and not t2.loc["offset", "excluded"]
    assert t2.loc["offset", "agreement"] == "poor"
    t3 = icc_table({"r1": r1, "r2": r2}, form="ICC3")
    assert t3.loc["offset", "excluded"] and "offset" in t3.loc["offset", "reason"]
    assert t3.loc["constant", "excluded"] and "zero variance" in t3.loc["constant", "reason"]
    assert t2.loc["constant", "excluded"] and np.isnan(t2.loc["constant", "estimate"])
