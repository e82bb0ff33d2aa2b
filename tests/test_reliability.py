"""Tests of radiomics_aln.reliability: ICC pinned to Shrout & Fleiss (1979), psych::ICC and pingouin.

R references come from tests/reference/icc.R (outputs icc_data.csv and icc_psych.csv, written with
17 significant digits; R 4.2.2, psych 2.2.9, lme4 1.1.31). The tests never run R.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal

from radiomics_aln.exceptions import InputError
from radiomics_aln.reliability import (
    ICC_FORMS,
    _parse_feature_name,
    agreement_class,
    icc,
    icc_comparisons,
    icc_table,
    plot_icc,
)

REF = Path(__file__).resolve().parent / "reference"
FORMS = list(ICC_FORMS)

# Shrout & Fleiss (1979), Table 2: 6 targets (rows) x 4 judges (columns).
SF_TABLE2 = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)


def to_long(wide: np.ndarray | pd.DataFrame) -> pd.DataFrame:
    wide = pd.DataFrame(np.asarray(wide, dtype=float))
    wide.columns = [f"rater{j + 1}" for j in range(wide.shape[1])]
    return wide.rename_axis("target").reset_index().melt("target", var_name="rater", value_name="y")


def run_icc(wide, **kw) -> pd.DataFrame:
    return icc(to_long(wide), "target", "rater", "y", **kw).set_index("type")


def random_wide(rng, n, k, bias=0.3, noise=0.7):
    return (
        rng.normal(size=(n, 1))
        + rng.normal(scale=bias, size=k)
        + rng.normal(scale=noise, size=(n, k))
    )


# --------------------------------------------------------------------------------------------
# icc(): references
# --------------------------------------------------------------------------------------------


def test_shrout_fleiss_table2():
    """Shrout & Fleiss (1979), Table 2 and the text: the six ICCs and their F tests.

    Published: BMS 11.24 (df 5), WMS 6.26 (df 18), JMS 32.49 (df 3), EMS 1.02 (df 15);
    ICC(1,1) .17, ICC(2,1) .29, ICC(3,1) .71, ICC(1,4) .44, ICC(2,4) .62, ICC(3,4) .91.
    F = BMS/WMS = 1.79 on (5, 18) for the one-way forms, BMS/EMS = 11.03 on (5, 15) otherwise.
    """
    res = run_icc(SF_TABLE2)
    published = {
        "ICC1": 0.17,
        "ICC2": 0.29,
        "ICC3": 0.71,
        "ICC1k": 0.44,
        "ICC2k": 0.62,
        "ICC3k": 0.91,
    }
    for form, value in published.items():
        assert round(res.loc[form, "estimate"], 2) == value, form
    for form in ("ICC1", "ICC1k"):
        assert round(res.loc[form, "F"], 2) == 1.79
        assert (res.loc[form, "df1"], res.loc[form, "df2"]) == (5, 18)
    for form in ("ICC2", "ICC3", "ICC2k", "ICC3k"):
        assert round(res.loc[form, "F"], 2) == 11.03
        assert (res.loc[form, "df1"], res.loc[form, "df2"]) == (5, 15)
    # The F values equal the published mean-square ratios.
    assert_allclose(res.loc["ICC1", "F"], 11.24 / 6.26, rtol=2e-3)
    assert_allclose(res.loc["ICC3", "F"], 11.24 / 1.02, rtol=2e-3)
    # p values: one-way F(5, 18) = 1.80 is not significant, F(5, 15) = 11.03 is (p < .001).
    assert 0.1 < res.loc["ICC1", "p_value"] < 0.2
    assert res.loc["ICC2", "p_value"] < 1e-3


def test_output_columns_and_labels():
    res = icc(to_long(SF_TABLE2), "target", "rater", "y")
    assert list(res.columns) == [
        "type", "label", "description", "estimate", "F", "df1", "df2", "p_value", "ci_low", "ci_high",
    ]  # fmt: skip
    assert list(res["type"]) == FORMS
    assert list(res["label"]) == [
        "ICC(1,1)",
        "ICC(A,1)",
        "ICC(C,1)",
        "ICC(1,k)",
        "ICC(A,k)",
        "ICC(C,k)",
    ]
    assert res["description"].str.contains("absolute agreement").sum() == 4
    assert res["df1"].dtype.kind == "i" and res["df2"].dtype.kind == "i"
    # Never an array in a cell.
    assert all(
        np.isscalar(v)
        for v in res.drop(columns=["type", "label", "description"]).to_numpy().ravel()
    )


def load_psych():
    data = pd.read_csv(REF / "icc_data.csv", comment="#")
    ref = pd.read_csv(REF / "icc_psych.csv", comment="#")
    return data, ref


PSYCH_DATASETS = sorted(pd.read_csv(REF / "icc_psych.csv", comment="#")["dataset"].unique())


@pytest.mark.parametrize("dataset", PSYCH_DATASETS)
def test_icc_against_R_psych(dataset):
    """R: psych::ICC(x, lmer = FALSE) (tests/reference/icc.R), to 1e-10 relative."""
    data, ref = load_psych()
    d = data[data["dataset"] == dataset]
    ours = icc(d, "target", "rater", "rating").set_index("type")
    r = ref[(ref["dataset"] == dataset) & ~ref["lmer"]].set_index("type").loc[FORMS]
    assert_allclose(ours.loc[FORMS, "estimate"], r["ICC"], rtol=1e-10, atol=1e-13)
    assert_allclose(ours.loc[FORMS, "F"], r["F"], rtol=1e-10)
    assert_array_equal(ours.loc[FORMS, "df1"], r["df1"])
    assert_array_equal(ours.loc[FORMS, "df2"], r["df2"])
    assert_allclose(ours.loc[FORMS, "p_value"], r["p"], rtol=1e-9, atol=1e-300)
    assert_allclose(ours.loc[FORMS, "ci_low"], r["lower"], rtol=1e-9, atol=1e-12)
    assert_allclose(ours.loc[FORMS, "ci_high"], r["upper"], rtol=1e-9, atol=1e-12)


def test_icc_table_against_R_psych():
    """Every dataset of icc_data.csv as a one-feature-per-dataset table vs psych::ICC(lmer = FALSE)."""
    data, ref = load_psych()
    for dataset, d in data.groupby("dataset"):
        wide = d.pivot(index="target", columns="rater", values="rating")
        readings = {r: wide[[r]].rename(columns={r: dataset}) for r in wide.columns}
        r = ref[(ref["dataset"] == dataset) & ~ref["lmer"]].set_index("type")
        for form in FORMS:
            row = icc_table(readings, form=form).loc[dataset]
            assert_allclose(row["estimate"], r.loc[form, "ICC"], rtol=1e-10, atol=1e-13)
            assert_allclose(row["F"], r.loc[form, "F"], rtol=1e-10)
            assert_allclose(row["p_value"], r.loc[form, "p"], rtol=1e-9)
            assert_allclose(row["ci_low"], r.loc[form, "lower"], rtol=1e-9, atol=1e-12)
            assert_allclose(row["ci_high"], r.loc[form, "upper"], rtol=1e-9, atol=1e-12)
            assert (row["df1"], row["df2"]) == (r.loc[form, "df1"], r.loc[form, "df2"])


@pytest.mark.parametrize("dataset", ["k2_n12_msj_below_mse", "k3_n15_msj_below_mse"])
def test_psych_lmer_default_differs_when_msj_below_mse(dataset):
    """psych's default lmer = TRUE truncates the rater variance at 0 when MS_J < MS_E.

    We match lmer = FALSE (the ANOVA estimates); on these datasets lmer = TRUE reports another
    ICC2 (R: psych::ICC(x)$results["Single_random_raters", "ICC"]).
    """
    data, ref = load_psych()
    r_anova = ref[(ref["dataset"] == dataset) & ~ref["lmer"]].set_index("type")
    r_lmer = ref[(ref["dataset"] == dataset) & ref["lmer"]].set_index("type")
    assert r_anova.loc["ICC2", "ms_judges"] < r_anova.loc["ICC2", "ms_residual"]
    ours = icc(data[data["dataset"] == dataset], "target", "rater", "rating").set_index("type")
    assert_allclose(ours.loc["ICC2", "estimate"], r_anova.loc["ICC2", "ICC"], rtol=1e-10)
    assert abs(ours.loc["ICC2", "estimate"] - r_lmer.loc["ICC2", "ICC"]) > 1e-3
    assert abs(ours.loc["ICC2k", "estimate"] - r_lmer.loc["ICC2k", "ICC"]) > 1e-3


def test_icc_equals_psych_default_lmer_when_msj_above_mse():
    """With MS_J > MS_E psych's default (lmer = TRUE) agrees with the ANOVA estimates, so our
    ICCs equal what a user of psych::ICC(x) sees (to lmer's optimizer tolerance)."""
    data, ref = load_psych()
    a = ref[(ref["dataset"] == "k3_n20_bias") & ~ref["lmer"]].set_index("type")
    b = ref[(ref["dataset"] == "k3_n20_bias") & ref["lmer"]].set_index("type")
    assert a.loc["ICC2", "ms_judges"] > a.loc["ICC2", "ms_residual"]  # the premise
    ours = icc(data[data["dataset"] == "k3_n20_bias"], "target", "rater", "rating")
    ours = ours.set_index("type")
    assert_allclose(ours.loc[FORMS, "estimate"], b.loc[FORMS, "ICC"], rtol=1e-4)


def pingouin_by_meaning(pg_table: pd.DataFrame) -> pd.DataFrame:
    """Index pingouin's ICC table by our S&F names, whatever its label version.

    pingouin < 0.7 labels rows ICC1 ... ICC3k; 0.7 uses McGraw & Wong's ICC(1,1), ICC(A,1),
    ICC(C,1), ICC(1,k), ICC(A,k), ICC(C,k). Map each label to its meaning (one-way /
    agreement / consistency, single / mean).
    """
    meaning = {label: form for form, (label, _) in ICC_FORMS.items()}
    meaning.update({form: form for form in ICC_FORMS})
    out = pg_table.copy()
    out.index = [meaning[t] for t in out["Type"]]
    return out.loc[FORMS]


@pytest.mark.parametrize(
    ("n", "k", "seed"), [(30, 2, 0), (50, 2, 1), (8, 2, 2), (20, 3, 3), (12, 5, 4)]
)
def test_icc_against_pingouin(n, k, seed):
    rng = np.random.default_rng(seed)
    long = to_long(random_wide(rng, n, k))
    ours = icc(long, "target", "rater", "y").set_index("type").loc[FORMS]
    theirs = pingouin_by_meaning(pg.intraclass_corr(long, "target", "rater", "y"))
    for col, pg_col in (("estimate", "ICC"), ("F", "F"), ("p_value", "pval")):
        assert_allclose(ours[col], theirs[pg_col].astype(float), rtol=1e-10, atol=1e-14)
    assert_array_equal(ours["df1"], theirs["df1"])
    assert_array_equal(ours["df2"], theirs["df2"])
    # pingouin rounds its CI to 2 decimals; the column is "CI95%" before pingouin 0.6.
    ci_col = "CI95" if "CI95" in theirs.columns else "CI95%"
    ci = np.stack(theirs[ci_col].to_numpy())
    assert np.all(np.abs(ours[["ci_low", "ci_high"]].to_numpy() - ci) <= 0.005 + 1e-12)


def test_two_readers_closed_forms():
    """k = 2: ICC(C,1) = 2 s12 / (s1^2 + s2^2); ICC(A,1) adds the squared mean difference.

    From the ANOVA with k = 2: MS_R - MS_E = 2 s12, MS_R + MS_E = s1^2 + s2^2 and
    2 (MS_C - MS_E) / n = (m1 - m2)^2 - (s1^2 + s2^2 - 2 s12) / n.
    """
    rng = np.random.default_rng(7)
    for n in (3, 10, 50):
        x = random_wide(rng, n, 2, bias=1.0)
        res = run_icc(x)
        s = np.cov(x, rowvar=False)
        d2 = (x[:, 0].mean() - x[:, 1].mean()) ** 2
        icc_c = 2 * s[0, 1] / (s[0, 0] + s[1, 1])
        icc_a = 2 * s[0, 1] / (s[0, 0] + s[1, 1] + d2 - (s[0, 0] + s[1, 1] - 2 * s[0, 1]) / n)
        assert_allclose(res.loc["ICC3", "estimate"], icc_c, rtol=1e-12)
        assert_allclose(res.loc["ICC2", "estimate"], icc_a, rtol=1e-12)
        assert res.loc["ICC1", "df2"] == n and res.loc["ICC2", "df2"] == n - 1


def test_ci_level_and_names():
    res90 = icc(to_long(SF_TABLE2), "target", "rater", "y", conf_level=0.90)
    res95 = icc(to_long(SF_TABLE2), "target", "rater", "y")
    assert "ci_low" in res90.columns and "ci_high" in res90.columns
    assert np.all(res90["ci_low"] >= res95["ci_low"])
    assert np.all(res90["ci_high"] <= res95["ci_high"])
    with pytest.raises(InputError, match="conf_level"):
        icc(to_long(SF_TABLE2), "target", "rater", "y", conf_level=95)


def test_perfect_agreement():
    x = np.repeat(np.arange(10.0)[:, None], 2, axis=1)
    res = run_icc(x)
    assert_allclose(res["estimate"], 1.0)
    assert np.all(np.isposinf(res["F"]))
    assert_allclose(res["p_value"], 0.0)
    assert_allclose(res[["ci_low", "ci_high"]], 1.0)


def test_perfect_consistency_with_bias():
    """Reader 2 = reader 1 + 1: consistency 1, absolute agreement < 1, finite CIs."""
    x = np.column_stack([np.arange(10.0), np.arange(10.0) + 1])
    res = run_icc(x)
    assert_allclose(res.loc[["ICC3", "ICC3k"], "estimate"], 1.0)
    assert 0 < res.loc["ICC2", "estimate"] < 1
    assert np.all(np.isfinite(res.loc[["ICC2", "ICC2k"], ["ci_low", "ci_high"]]))
    assert res.loc["ICC2", "ci_low"] <= res.loc["ICC2", "estimate"] <= res.loc["ICC2", "ci_high"]


# --------------------------------------------------------------------------------------------
# icc(): errors
# --------------------------------------------------------------------------------------------


def test_icc_errors():
    long = to_long(SF_TABLE2)
    with pytest.raises(InputError, match="lacks column"):
        icc(long, "target", "judge", "y")
    with pytest.raises(InputError, match="rated more than once: target 0 by rater rater1"):
        icc(pd.concat([long, long.iloc[:1]]), "target", "rater", "y")
    with pytest.raises(InputError, match=r"missing for 1 target\(s\): target 2 \(rater rater3\)"):
        icc(
            long.drop(index=long.index[(long.target == 2) & (long.rater == "rater3")]),
            "target",
            "rater",
            "y",
        )
    nan = long.copy()
    nan.loc[0, "y"] = np.nan
    with pytest.raises(InputError, match="target 0"):
        icc(nan, "target", "rater", "y")
    omitted = icc(nan, "target", "rater", "y", nan_policy="omit").set_index("type")
    assert_allclose(omitted["estimate"], run_icc(SF_TABLE2[1:])["estimate"], rtol=1e-12)
    text = long.astype({"y": object})
    text.loc[3, "y"] = "n/a"
    with pytest.raises(InputError, match="must be numeric"):
        icc(text, "target", "rater", "y")
    inf = long.copy()
    inf.loc[5, "y"] = np.inf
    with pytest.raises(InputError, match="infinite"):
        icc(inf, "target", "rater", "y")
    with pytest.raises(InputError, match="at least 2 raters"):
        icc(long[long.rater == "rater1"], "target", "rater", "y")
    with pytest.raises(InputError, match="at least 2 complete targets"):
        icc(long[long.target == 0], "target", "rater", "y")
    with pytest.raises(InputError, match="one constant value for every target and rater"):
        icc(long.assign(y=3.0), "target", "rater", "y")
    with pytest.raises(InputError, match="nan_policy"):
        icc(long, "target", "rater", "y", nan_policy="drop")
    with pytest.raises(InputError, match="DataFrame"):
        icc(SF_TABLE2, "target", "rater", "y")


# --------------------------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------------------------

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@st.composite
def rating_matrices(draw):
    n = draw(st.integers(3, 12))
    k = draw(st.integers(2, 4))
    x = draw(arrays(float, (n, k), elements=finite))
    # Skip (near-)degenerate draws: constant readings make the ICC 0/0.
    if np.ptp(x, axis=0).max() < 1e-3 * max(1.0, np.abs(x).max()):
        x = x + np.arange(n)[:, None]
    return x


@settings(max_examples=40, deadline=None, derandomize=True)
@given(x=rating_matrices(), scale=st.floats(0.01, 100), shift=finite)
def test_properties(x, scale, shift):
    res = run_icc(x)
    k = x.shape[1]
    assume(np.isfinite(res["estimate"]).all())  # hypothesis fails if too few examples remain
    # Spearman-Brown: the k-rater forms step up the single-rater ones (ICC1, ICC3).
    for single, mean in (("ICC1", "ICC1k"), ("ICC3", "ICC3k")):
        r = res.loc[single, "estimate"]
        assert_allclose(res.loc[mean, "estimate"], k * r / (1 + (k - 1) * r), rtol=1e-7, atol=1e-9)
    # Affine invariance (a common change of units for every reading).
    moved = run_icc(x * scale + shift)
    assert_allclose(moved["estimate"], res["estimate"], rtol=1e-6, atol=1e-7)
    # Order of targets and raters does not matter.
    perm = run_icc(x[::-1, ::-1])
    assert_allclose(perm["estimate"], res["estimate"], rtol=1e-9, atol=1e-10)
    # F-based CIs contain the estimate; the single-rater ICC is at least -1/(k-1). ICC(A,k) and
    # its bounds are Spearman-Brown step-ups of ICC(A,1)'s, which have a pole at -1/(k-1): when
    # the ICC(A,1) lower bound is below it (noise-only data) the ICC(A,k) lower bound is
    # meaningless, as in psych, so ICC2k is checked only away from the pole.
    # For negative ICC(A,1) the Satterthwaite df can be <= 0 and the lower bound NaN (psych and
    # pingouin give NaN too), so the A forms are checked for ICC(A,1) > 0 only.
    forms = ["ICC1", "ICC3", "ICC1k", "ICC3k"]
    if res.loc["ICC2", "estimate"] > 0:
        forms.append("ICC2")
        if res.loc["ICC2", "ci_low"] > -1 / (k - 1) + 1e-6:
            forms.append("ICC2k")
    for form in forms:
        lo, est, hi = res.loc[form, ["ci_low", "estimate", "ci_high"]]
        assert lo <= est + 1e-9 and est <= hi + 1e-9, form
    assert res.loc["ICC1", "estimate"] >= -1 / (k - 1) - 1e-9
    assert 0 <= res.loc["ICC2", "p_value"] <= 1


# --------------------------------------------------------------------------------------------
# icc_table
# --------------------------------------------------------------------------------------------


def make_readings(rng, n=25, p=12, k=2, noise=None):
    cols = [f"tumor__original_glcm_F{j}" for j in range(p)]
    idx = pd.Index([f"case{i:03d}" for i in range(n)], name="case_id")
    truth = pd.DataFrame(
        rng.normal(size=(n, p)) * rng.uniform(1, 100, size=p), index=idx, columns=cols
    )
    noise = rng.uniform(0.05, 2.0, size=p) * truth.std().to_numpy() if noise is None else noise
    names = ["reader1", "reader2", "repeat", "reader3"][:k]
    return {
        r: truth + rng.normal(scale=noise, size=(n, p)) + rng.normal(scale=noise) for r in names
    }


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("form", FORMS)
def test_icc_table_equals_icc_per_feature(form, k):
    rng = np.random.default_rng(k)
    readings = make_readings(rng, k=k)
    tab = icc_table(readings, form=form)
    assert list(tab.index) == list(readings["reader1"].columns)
    assert tab.index.name == "feature"
    for feat in tab.index:
        long = pd.concat(
            [df[feat].rename("y").reset_index().assign(rater=name) for name, df in readings.items()]
        )
        one = icc(long, "case_id", "rater", "y").set_index("type").loc[form]
        for col in ("estimate", "F", "df1", "df2", "p_value", "ci_low", "ci_high"):
            assert_allclose(
                tab.loc[feat, col], one[col], rtol=1e-12, atol=1e-14, err_msg=f"{feat} {col}"
            )
    assert (tab["type"] == form).all() and (tab["k"] == k).all() and (tab["n"] == 25).all()


def test_icc_table_against_pingouin_two_readers():
    rng = np.random.default_rng(11)
    readings = make_readings(rng, n=50, p=5)
    tab = icc_table(readings, form="ICC2")
    for feat in tab.index:
        long = pd.concat(
            [df[feat].rename("y").reset_index().assign(rater=name) for name, df in readings.items()]
        )
        ref = pingouin_by_meaning(pg.intraclass_corr(long, "case_id", "rater", "y")).loc["ICC2"]
        assert_allclose(
            tab.loc[feat, ["estimate", "F", "p_value"]].astype(float),
            ref[["ICC", "F", "pval"]].astype(float),
            rtol=1e-10,
        )


def test_icc_table_columns_and_form_aliases():
    readings = make_readings(np.random.default_rng(0))
    tab = icc_table(readings)
    assert list(tab.columns) == [
        "type", "estimate", "F", "df1", "df2", "p_value", "ci_low", "ci_high",
        "n", "k", "agreement", "excluded", "reason",
    ]  # fmt: skip
    pd.testing.assert_frame_equal(icc_table(readings, form="ICC(A,1)"), tab)
    pd.testing.assert_frame_equal(icc_table(readings, form="icc2"), tab)
    with pytest.raises(InputError, match="unknown ICC form 'ICC4'"):
        icc_table(readings, form="ICC4")


def test_icc_table_column_order_of_other_readings_is_irrelevant():
    readings = make_readings(np.random.default_rng(5))
    shuffled = dict(readings)
    shuffled["reader2"] = readings["reader2"].iloc[::-1, ::-1]
    pd.testing.assert_frame_equal(icc_table(shuffled), icc_table(readings))


def test_agreement_classes():
    assert list(agreement_class([0.8, 0.7999, 0.6, 0.5999, -0.2])) == [
        "excellent", "good", "good", "poor", "poor",
    ]  # fmt: skip
    tab = icc_table(make_readings(np.random.default_rng(1), p=30))
    expected = np.where(tab["estimate"] >= 0.8, "excellent", np.where(tab["estimate"] >= 0.6, "good", "poor"))
    assert_array_equal(tab["agreement"].astype(str), expected)
    assert tab["agreement"].cat.ordered


def test_zero_variance_feature_is_excluded_not_one():
    readings = make_readings(np.random.default_rng(2), p=3)
    for df in readings.values():
        df["tumor__original_shape2D_Constant"] = 4.0
    readings["reader2"]["tumor__original_shape2D_Offset"] = 2.0
    readings["reader1"]["tumor__original_shape2D_Offset"] = 1.0  # constant in each reading
    tab = icc_table(readings)
    row = tab.loc["tumor__original_shape2D_Constant"]
    assert row["excluded"] and np.isnan(row["estimate"]) and np.isnan(row["p_value"])
    assert "zero variance" in row["reason"]
    assert pd.isna(row["agreement"])
    # constant within each reading but offset between readers: ICC2 = 0 (psych::ICC), F = 0/0
    # (tests/test_parity_r.py); ICC3 is 0/0
    row = tab.loc["tumor__original_shape2D_Offset"]
    assert row["estimate"] == 0 and not row["excluded"] and row["agreement"] == "poor"
    assert np.isnan(row["p_value"])
    row = icc_table(readings, form="ICC3").loc["tumor__original_shape2D_Offset"]
    assert row["excluded"] and np.isnan(row["estimate"]) and "offset" in row["reason"]
    assert not tab["excluded"].iloc[:3].any() and tab["reason"].iloc[:3].isna().all()


def test_float_noise_on_a_constant_feature_counts_as_constant():
    readings = make_readings(np.random.default_rng(2), p=2)
    readings["reader1"]["c"] = 1e5
    readings["reader2"]["c"] = 1e5 * (1 + np.linspace(0, 1e-14, len(readings["reader2"])))
    assert icc_table(readings).loc["c", "excluded"]


def test_identical_readings_give_one():
    r1 = make_readings(np.random.default_rng(3))["reader1"]
    tab = icc_table({"reader1": r1, "reader2": r1.copy()})
    assert_allclose(tab["estimate"], 1.0)
    assert not tab["excluded"].any()
    assert_allclose(tab[["ci_low", "ci_high"]], 1.0)


def test_icc_table_nan_raise_names_feature_case_and_reader():
    readings = make_readings(np.random.default_rng(4))
    readings["reader2"].loc["case007", "tumor__original_glcm_F3"] = np.nan
    with pytest.raises(
        InputError, match=r"feature `tumor__original_glcm_F3` in case case007 \(reader2\)"
    ):
        icc_table(readings)
    readings["reader1"].loc["case001", "tumor__original_glcm_F3"] = np.inf
    with pytest.raises(InputError, match="infinite.*case001 \\(reader1\\)"):
        icc_table(readings, nan_policy="omit")


def test_icc_table_nan_omit_drops_cases_per_feature():
    readings = make_readings(np.random.default_rng(4))
    feat = "tumor__original_glcm_F3"
    readings["reader2"].loc["case007", feat] = np.nan
    readings["reader1"].loc["case010", feat] = np.nan
    tab = icc_table(readings, nan_policy="omit")
    assert tab.loc[feat, "n"] == 23 and (tab["n"].drop(feat) == 25).all()
    clean = {r: df.drop(index=["case007", "case010"]) for r, df in readings.items()}
    assert_allclose(tab.loc[feat, "estimate"], icc_table(clean).loc[feat, "estimate"], rtol=1e-12)
    sparse = {r: df.copy() for r, df in readings.items()}
    sparse["reader1"].iloc[1:, 0] = np.nan
    row = icc_table(sparse, nan_policy="omit").iloc[0]
    assert row["excluded"] and row["n"] == 1 and "fewer than 2 cases" in row["reason"]
    with pytest.raises(InputError, match="at least 2 cases"):
        icc_table({r: df.iloc[:1] for r, df in readings.items()})
    other = "tumor__original_glcm_F4"
    full = icc_table({r: df.drop(columns=feat) for r, df in readings.items()})
    assert_allclose(tab.loc[other, "estimate"], full.loc[other, "estimate"], rtol=1e-12)


def test_icc_table_input_errors():
    readings = make_readings(np.random.default_rng(6))
    with pytest.raises(InputError, match="at least 2 readings"):
        icc_table({"reader1": readings["reader1"]})
    with pytest.raises(InputError, match="must map a reader"):
        icc_table([readings["reader1"], readings["reader2"]])
    bad = dict(readings, reader2=readings["reader2"].drop(columns="tumor__original_glcm_F0"))
    with pytest.raises(InputError, match=r"reading 'reader2' .* lacks tumor__original_glcm_F0"):
        icc_table(bad)
    bad = dict(readings, reader2=readings["reader2"].drop(index="case003"))
    with pytest.raises(InputError, match="cases: lacks case003"):
        icc_table(bad)
    bad = dict(readings, reader2=readings["reader2"].assign(diagnostics_hash="abc"))
    with pytest.raises(InputError, match="has extra diagnostics_hash"):
        icc_table(bad)
    text = {r: df.assign(diagnostics_hash="abc") for r, df in readings.items()}
    with pytest.raises(InputError, match="non-numeric feature column.*diagnostics_hash"):
        icc_table(text)
    dup = dict(readings, reader2=pd.concat([readings["reader2"], readings["reader2"].iloc[:1]]))
    with pytest.raises(InputError, match="duplicated case ids: case000"):
        icc_table(dup)


def test_icc_comparisons_long_table():
    rng = np.random.default_rng(8)
    r = make_readings(rng, k=3)
    tab = icc_comparisons(
        {"inter": {"reader1": r["reader1"], "reader2": r["reader2"]},
         "intra": {"reader1": r["reader1"].iloc[:10], "repeat": r["repeat"].iloc[:10]}}
    )  # fmt: skip
    assert list(tab.columns[:3]) == ["comparison", "readings", "feature"]
    assert (tab["readings"].iloc[0], tab["readings"].iloc[-1]) == (
        "reader1 vs reader2",
        "reader1 vs repeat",
    )
    intra = tab[tab["comparison"] == "intra"].set_index("feature")
    assert (intra["n"] == 10).all()
    with pytest.raises(InputError, match="comparison 'intra'.*lacks case009"):
        icc_comparisons(
            {"intra": {"reader1": r["reader1"].iloc[:10], "repeat": r["repeat"].iloc[:9]}}
        )


# --------------------------------------------------------------------------------------------
# Plot and names
# --------------------------------------------------------------------------------------------


def test_parse_feature_name():
    assert _parse_feature_name("tumor__original_glcm_Contrast") == (
        "tumor",
        "original",
        "glcm",
        "Contrast",
    )
    assert _parse_feature_name("peritumoral__wavelet-LLH_firstorder_10Percentile") == (
        "peritumoral", "wavelet-LLH", "firstorder", "10Percentile",
    )  # fmt: skip
    assert _parse_feature_name("ln__log-sigma-3-0-mm-3D_glszm_SmallAreaEmphasis")[:3] == (
        "ln", "log-sigma-3-0-mm-3D", "glszm",
    )  # fmt: skip
    assert (
        _parse_feature_name("tumor_peritumoral__original_shape2D_Elongation")[0]
        == "tumor_peritumoral"
    )
    assert _parse_feature_name("age") == ("other", "other", "other", "age")




def test_plot_icc_colour_blind_safe_roi_colours_and_labelled_lines():
    # tab10's green and orange (ln vs peritumoral) merge for deuteranopes; the dotted 0.60
    # line had no legend entry
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    rng = np.random.default_rng(0)
    cols = [
        f"{roi}__original_{cls}_F{i}"
        for roi in ("tumor", "peritumoral", "ln")
        for cls in ("glcm", "firstorder")
        for i in range(5)
    ]
    truth = pd.DataFrame(rng.normal(size=(20, len(cols))), columns=cols)
    reads = {r: truth + rng.normal(scale=0.5, size=truth.shape) for r in ("reader1", "reader2")}
    fig, ax = plt.subplots()
    plot_icc(icc_table(reads), ax=ax)
    handles, labels = ax.get_legend_handles_labels()
    colours = {
        lab.split(" ")[0]: to_hex(h.get_color()) for h, lab in zip(handles, labels, strict=True)
    }
    assert colours["tumor"] == "#0072b2"
    assert colours["peritumoral"] == "#e69f00"
    assert colours["ln"] == "#009e73"
    assert "good/poor border 0.6" in labels
    medians = [
        ln for ln in ax.get_lines() if ln.get_color() == "black" and len(ln.get_xdata()) == 2
    ]
    assert len(medians) >= 6  # one per box, visible on every box colour
