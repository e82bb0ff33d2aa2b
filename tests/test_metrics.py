"""Tests for radiomics_aln.metrics, pinned to pROC 1.18.0 and Hmisc 4.8.0.

Reference values come from tests/reference/metrics.R (outputs: metrics_reference.json,
aSAH.csv, metrics_sim_data.csv); the R call is next to each comparison.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from radiomics_aln.exceptions import InputError, StatisticalWarning
from radiomics_aln.metrics import (
    PerformanceTable,
    binomial_ci,
    delong_test,
    delong_test_unpaired,
    diagnostic_metrics,
    idi,
    nri,
    performance_table,
    plot_risk_groups,
    plot_roc,
    risk_group_table,
    roc_auc,
    roc_curve_table,
    youden_threshold,
)

REF_DIR = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="module")
def ref() -> dict:
    out = json.loads((REF_DIR / "metrics_reference.json").read_text())
    # provenance of the reference: a precondition of the comparisons, not a test of its own
    assert (out["pROC_version"], out["Hmisc_version"]) == ("1.18.0", "4.8.0")
    return out


@pytest.fixture(scope="module")
def asah() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "aSAH.csv")


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "metrics_sim_data.csv")


def _r_float(x: object) -> float:
    return {"Inf": np.inf, "-Inf": -np.inf}.get(x, x) if isinstance(x, str) else float(x)


# ------------------------------------------------------------------ AUC and DeLong vs pROC


@pytest.mark.parametrize("marker", ["s100b", "wfns", "ndka"])
def test_roc_auc_delong_against_R(asah, ref, marker):
    """R: r <- roc(aSAH$outcome, aSAH$<marker>); auc(r); var(r); ci.auc(r, method = "delong")."""
    r = ref[f"auc_{marker}"]
    res = roc_auc(asah["outcome"], asah[marker])
    row = res.loc["auc"]
    assert r["direction"] == "<" and row["direction"] == "<"
    assert_allclose(row["estimate"], r["auc"], rtol=1e-12)
    assert_allclose(row["se"] ** 2, r["var_delong"], rtol=1e-10)
    assert_allclose([row["ci_low"], row["ci_high"]], [r["ci_low"], r["ci_high"]], rtol=1e-10)
    assert row["n"] == 113 and row["n_events"] == 41 and row["n_controls"] == 72


def test_roc_auc_s100b_published_values(asah):
    """pROC's own tests: s100b AUC 0.7314, DeLong 95% CI 0.6301-0.8326."""
    row = roc_auc(asah["outcome"], asah["s100b"]).loc["auc"]
    assert round(row["estimate"], 4) == 0.7314
    assert (round(row["ci_low"], 4), round(row["ci_high"], 4)) == (0.6301, 0.8326)


@pytest.mark.parametrize(("m1", "m2"), [("wfns", "s100b"), ("ndka", "s100b")])
def test_delong_paired_against_R(asah, ref, m1, m2):
    """R: roc.test(roc(outcome, m1), roc(outcome, m2), method = "delong", paired = TRUE)."""
    r = ref[f"delong_{m1}_{m2}"]
    row = delong_test(asah["outcome"], asah[m1], asah[m2]).loc["delong"]
    assert_allclose([row["auc_1"], row["auc_2"]], [r["auc_1"], r["auc_2"]], rtol=1e-12)
    assert_allclose(row["z"], r["z"], rtol=1e-10)
    assert_allclose(row["p_value"], r["p_value"], rtol=1e-9)
    assert_allclose([row["ci_low"], row["ci_high"]], [r["ci_low"], r["ci_high"]], rtol=1e-9)
    assert_allclose(row["difference"], r["auc_1"] - r["auc_2"], rtol=1e-12)
    assert row["df"] == np.inf


def test_delong_published_values(asah):
    """pROC's tests: wfns vs s100b Z = 2.20898, p = 0.02718; ndka vs s100b Z = -1.3908,
    p = 0.1643. All three markers have pROC's auto direction "<" (controls < cases), so taking
    the scores as given (our default) reproduces them."""
    a = delong_test(asah["outcome"], asah["wfns"], asah["s100b"]).loc["delong"]
    b = delong_test(asah["outcome"], asah["ndka"], asah["s100b"]).loc["delong"]
    assert round(a["z"], 5) == 2.20898 and round(a["p_value"], 5) == 0.02718
    assert round(b["z"], 4) == -1.3908 and round(b["p_value"], 4) == 0.1643
    auto = delong_test(asah["outcome"], asah["ndka"], asah["s100b"], direction="auto")
    assert_allclose(auto.loc["delong", "z"], b["z"])


def test_delong_one_sided_against_R(asah, ref):
    """R: roc.test(r_wfns, r_s100b, method = "delong", alternative = "greater" / "less")."""
    r = ref["delong_wfns_s100b_one_sided"]
    y, a, b = asah["outcome"], asah["wfns"], asah["s100b"]
    g = delong_test(y, a, b, alternative="greater").loc["delong"]
    ls = delong_test(y, a, b, alternative="two.sided").loc["delong"]
    assert_allclose(g["p_value"], r["p_greater"], rtol=1e-9)
    assert_allclose(
        delong_test(y, a, b, alternative="less").loc["delong", "p_value"], r["p_less"], rtol=1e-9
    )
    assert_allclose(ls["p_value"], 2 * r["p_greater"], rtol=1e-9)
    # the interval stays two-sided
    assert g["ci_low"] == ls["ci_low"]
    with pytest.raises(InputError, match="`alternative` must be one of"):
        delong_test(y, a, b, alternative="bigger")
    f = asah["gender"] == "Female"
    two = delong_test_unpaired(y[f], b[f], y[~f], b[~f]).loc["delong", "p_value"]
    less = delong_test_unpaired(y[f], b[f], y[~f], b[~f], alternative="less").loc[
        "delong", "p_value"
    ]
    assert_allclose(less, two / 2, rtol=1e-9)  # D < 0 here


def test_delong_unpaired_against_R(asah, ref):
    """R: roc.test(roc(female), roc(male), method = "delong", paired = FALSE): D, df, p."""
    r = ref["delong_unpaired_s100b_female_male"]
    f = asah["gender"] == "Female"
    row = delong_test_unpaired(
        asah.loc[f, "outcome"], asah.loc[f, "s100b"], asah.loc[~f, "outcome"], asah.loc[~f, "s100b"]
    ).loc["delong"]
    assert_allclose([row["auc_1"], row["auc_2"]], [r["auc_1"], r["auc_2"]], rtol=1e-12)
    assert_allclose(row["z"], r["statistic"], rtol=1e-10)
    assert_allclose(row["df"], r["df"], rtol=1e-10)
    assert_allclose(row["p_value"], r["p_value"], rtol=1e-9)
    assert row["ci_low"] < row["difference"] < row["ci_high"]
    assert (row["n_1"], row["n_2"]) == (f.sum(), (~f).sum())


def test_direction_handling_against_R(asah, ref):
    """R: roc(outcome, -s100b) picks direction ">" (AUC 0.731); direction = "<" gives 0.269."""
    r = ref["auto_direction_neg_s100b"]
    neg = -asah["s100b"]
    auto = roc_auc(asah["outcome"], neg, direction="auto").loc["auc"]
    assert auto["direction"] == r["direction"] == ">"
    assert_allclose(auto["estimate"], r["auc"], rtol=1e-12)
    as_given = roc_auc(asah["outcome"], neg).loc["auc"]
    assert_allclose(as_given["estimate"], r["auc_direction_lt"], rtol=1e-12)
    explicit = roc_auc(asah["outcome"], neg, direction=">").loc["auc"]
    assert_allclose(explicit["estimate"], r["auc"], rtol=1e-12)
    # the SE does not depend on the orientation
    assert_allclose(explicit["se"], as_given["se"], rtol=1e-12)


def test_delong_warns_on_different_auto_directions(asah):
    with pytest.warns(StatisticalWarning, match="different directions"):
        res = delong_test(asah["outcome"], asah["s100b"], -asah["ndka"], direction="auto")
    assert tuple(res.loc["delong", ["direction_1", "direction_2"]]) == ("<", ">")


def test_delong_identical_scores_gives_zero(asah):
    row = delong_test(asah["outcome"], asah["s100b"], asah["s100b"]).loc["delong"]
    assert row["z"] == 0.0 and row["p_value"] == 1.0


def test_auc_invariant_to_monotone_transform(asah):
    a = roc_auc(asah["outcome"], asah["s100b"]).loc["auc"]
    b = roc_auc(asah["outcome"], np.log(asah["s100b"])).loc["auc"]
    assert_allclose(a[["estimate", "se"]].astype(float), b[["estimate", "se"]].astype(float))


# ------------------------------------------------------------------ DeLong vs naive O(n^2)


def _naive_delong(y: np.ndarray, scores: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Textbook DeLong: psi(x, y) = 1, 1/2, 0 over all case-control pairs."""
    v10s, v01s, aucs = [], [], []
    for s in scores:
        x, c = s[y == 1], s[y == 0]
        psi = (x[:, None] > c[None, :]) + 0.5 * (x[:, None] == c[None, :])
        aucs.append(psi.mean())
        v10s.append(psi.mean(axis=1))
        v01s.append(psi.mean(axis=0))
    m, n = int(y.sum()), int((1 - y).sum())
    cov = np.atleast_2d(np.cov(np.vstack(v10s))) / m + np.atleast_2d(np.cov(np.vstack(v01s))) / n
    return np.array(aucs), cov


@st.composite
def _tied_data(draw):
    n = draw(st.integers(min_value=4, max_value=60))
    levels = draw(st.integers(min_value=2, max_value=8))  # few levels -> many ties
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    if y.sum() < 2 or (1 - y).sum() < 2:
        y[:2], y[2:4] = 1, 0
    s1 = np.array(draw(st.lists(st.integers(0, levels), min_size=n, max_size=n))) / levels
    s2 = np.array(draw(st.lists(st.integers(0, levels), min_size=n, max_size=n))) / levels
    return y, s1, s2


@settings(max_examples=60, deadline=None)
@given(_tied_data())
def test_delong_variance_matches_naive_with_ties(data):
    y, s1, s2 = data
    aucs, cov = _naive_delong(y, [s1, s2])
    row = roc_auc(y, s1).loc["auc"]
    assert_allclose(row["estimate"], aucs[0], rtol=1e-12, atol=1e-14)
    assert_allclose(row["se"] ** 2, cov[0, 0], rtol=1e-9, atol=1e-15)
    d = delong_test(y, s1, s2).loc["delong"]
    var_diff = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    assert_allclose(d["se"] ** 2, var_diff, rtol=1e-9, atol=1e-15)


# ------------------------------------------------------------------ bootstrap


def test_bootstrap_deterministic_and_seed_dependent(asah):
    a = roc_auc(asah["outcome"], asah["s100b"], ci="bootstrap", n_boot=500, random_state=3)
    b = roc_auc(asah["outcome"], asah["s100b"], ci="bootstrap", n_boot=500, random_state=3)
    c = roc_auc(asah["outcome"], asah["s100b"], ci="bootstrap", n_boot=500, random_state=4)
    pd.testing.assert_frame_equal(a, b)
    assert a.loc["auc", "ci_low"] != c.loc["auc", "ci_low"]
    assert a.loc["auc", "ci_method"] == "bootstrap"


def test_bootstrap_close_to_pROC(asah, ref):
    """R: set.seed(20260101); ci.auc(roc_s100b, method = "bootstrap", boot.n = 2000):
    0.6270-0.8261. Different random numbers, so agreement is in distribution (Monte Carlo
    error of a 2.5% quantile with 2000 replicates is about 0.005)."""
    r = ref["bootstrap_s100b"]
    row = roc_auc(asah["outcome"], asah["s100b"], ci="bootstrap", random_state=0).loc["auc"]
    assert abs(row["ci_low"] - r["ci_low"]) < 0.015
    assert abs(row["ci_high"] - r["ci_high"]) < 0.015
    # R: var(roc_s100b, method = "bootstrap", boot.n = 2000); the SD of a variance estimate
    # from 2000 replicates is about 3%, so allow 12%
    assert_allclose(row["se"] ** 2, r["var"], rtol=0.12)
    se_delong = roc_auc(asah["outcome"], asah["s100b"]).loc["auc", "se"]
    assert abs(row["se"] - se_delong) < 0.005


def test_bootstrap_equals_naive_resampling_loop():
    """The vectorized counts give exactly the AUC of each resample drawn the same way."""
    from sklearn.metrics import roc_auc_score

    from radiomics_aln.metrics import _bootstrap_aucs

    rng0 = np.random.default_rng(11)
    y = (rng0.random(80) < 0.4).astype(int)
    s = np.round(rng0.random(80) + 0.3 * y, 1)  # ties
    fast = _bootstrap_aucs(y, s, 50, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    cases, ctrls = s[y == 1], s[y == 0]
    ic = rng.integers(0, cases.size, size=(50, cases.size))
    jc = rng.integers(0, ctrls.size, size=(50, ctrls.size))
    naive = [
        roc_auc_score(
            np.r_[np.ones(cases.size), np.zeros(ctrls.size)], np.r_[cases[ic[b]], ctrls[jc[b]]]
        )
        for b in range(50)
    ]
    assert_allclose(fast, naive, rtol=1e-12)


# ------------------------------------------------------------------ ROC table and Youden


def test_roc_curve_table_against_R(asah, ref):
    """R: r <- roc(outcome, s100b); r$thresholds, r$sensitivities, r$specificities."""
    r = ref["roc_s100b"]
    tab = roc_curve_table(asah["outcome"], asah["s100b"])
    assert_allclose(tab["threshold"], [_r_float(x) for x in r["thresholds"]], rtol=1e-12)
    assert_allclose(tab["sensitivity"], r["sensitivities"], rtol=1e-12)
    assert_allclose(tab["specificity"], r["specificities"], rtol=1e-12)
    assert (tab["tp"] + tab["fn"] == 41).all() and (tab["tn"] + tab["fp"] == 72).all()


def test_roc_curve_table_reversed_direction(asah):
    tab = roc_curve_table(asah["outcome"], -asah["s100b"], direction=">")
    ref_tab = roc_curve_table(asah["outcome"], asah["s100b"])
    assert_allclose(tab["threshold"], -ref_tab["threshold"])
    assert_allclose(tab["sensitivity"], ref_tab["sensitivity"])


@pytest.mark.parametrize("marker", ["s100b", "wfns", "ndka"])
def test_youden_against_R(asah, ref, marker):
    """R: coords(roc(outcome, marker), "best", best.method = "youden")."""
    r = ref[f"auc_{marker}"]
    res = youden_threshold(asah["outcome"], asah[marker])
    assert_allclose(res.threshold, r["youden_threshold"], rtol=1e-12)
    assert_allclose(res.sensitivity, r["youden_sensitivity"], rtol=1e-12)
    assert_allclose(res.specificity, r["youden_specificity"], rtol=1e-12)
    assert res.n_tied == r["youden_n_best"] == 1
    assert float(res) == res.threshold
    assert res.convention == "midpoint"


@settings(max_examples=60, deadline=None)
@given(_tied_data())
def test_youden_matches_brute_force(data):
    y, s, _ = data
    # every distinct classification is "s >= an observed score" (or nobody positive)
    best = max(np.mean(s[y == 1] >= t) + np.mean(s[y == 0] < t) - 1 for t in np.r_[s, np.inf])
    res = youden_threshold(y, s)
    assert_allclose(res.youden_index, best, atol=1e-12)
    obs = youden_threshold(y, s, convention="observed")
    pos_mid, pos_obs = s >= res.threshold, s >= obs.threshold
    assert np.array_equal(pos_mid, pos_obs)
    assert_allclose(np.mean(pos_mid[y == 1]), res.sensitivity)


def test_youden_observed_convention_classifies_identically(asah):
    y, s = asah["outcome"], asah["s100b"]
    mid = youden_threshold(y, s)
    obs = youden_threshold(y, s, convention="observed")
    assert obs.threshold in set(s)
    assert np.array_equal(s >= mid.threshold, s >= obs.threshold)
    assert obs.sensitivity == mid.sensitivity and obs.specificity == mid.specificity


def test_youden_ties_pick_highest_sensitivity():
    """R: coords(roc(y, p), "best") lists 0.35 and 0.55 (both J = 0.75)."""
    y = [0, 0, 0, 1, 0, 1, 1, 1]
    p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    res = youden_threshold(y, p)
    assert res.n_tied == 2
    assert_allclose(res.threshold, 0.35)
    assert res.to_frame().loc["youden", "n_tied"] == 2


def test_midpoint_between_adjacent_floats_moves_up():
    """pROC moves a midpoint that rounds onto the lower score to the upper score."""
    a = 1.0
    b = np.nextafter(a, 2.0)
    tab = roc_curve_table([0, 1], [a, b])
    assert tab["threshold"].iloc[1] == b
    assert tab["sensitivity"].iloc[1] == 1.0 and tab["specificity"].iloc[1] == 1.0


# ------------------------------------------------------------------ threshold metrics


@pytest.mark.parametrize(
    ("method", "lo", "hi"),
    [("wilson", "wilson_low", "wilson_high"), ("clopper-pearson", "cp_low", "cp_high")],
)
def test_diagnostic_metrics_against_R(asah, ref, method, lo, hi):
    """R: prop.test(x, n, correct = FALSE)$conf.int and binom.test(x, n)$conf.int at the
    s100b Youden cutoff 0.205 (positive = s100b >= 0.205)."""
    r = ref["diagnostic_s100b"]
    res = diagnostic_metrics(asah["outcome"], asah["s100b"], r["threshold"], ci_method=method)
    assert tuple(res.loc["accuracy", ["tp", "fp", "tn", "fn"]]) == (
        r["tp"],
        r["fp"],
        r["tn"],
        r["fn"],
    )
    for metric in ("accuracy", "sensitivity", "specificity", "ppv", "npv"):
        assert_allclose(res.loc[metric, "estimate"], r[metric]["estimate"], rtol=1e-12)
        assert_allclose(res.loc[metric, "ci_low"], r[metric][lo], rtol=1e-8)
        assert_allclose(res.loc[metric, "ci_high"], r[metric][hi], rtol=1e-8)
    assert (res["rule"] == "p >= threshold").all()


def test_diagnostic_metrics_rule_is_inclusive():
    res = diagnostic_metrics([0, 1], [0.5, 0.5], 0.5)
    assert res.loc["sensitivity", "estimate"] == 1.0 and res.loc["specificity", "estimate"] == 0.0


def test_diagnostic_metrics_undefined_ppv_is_nan():
    res = diagnostic_metrics([0, 1, 1], [0.1, 0.2, 0.3], 0.9)
    assert np.isnan(res.loc["ppv", "estimate"]) and np.isnan(res.loc["ppv", "ci_low"])
    assert res.loc["npv", "n"] == 3


def test_binomial_ci_edges():
    lo, hi = binomial_ci([0, 10], [10, 10], method="clopper-pearson")
    assert lo[0] == 0.0 and hi[1] == 1.0
    with pytest.raises(InputError, match="'wilson' or 'clopper-pearson'"):
        binomial_ci([1], [2], method="exact")
    with pytest.raises(InputError, match="between 0 and n"):
        binomial_ci([3], [2])


# ------------------------------------------------------------------ NRI / IDI vs Hmisc


def test_nri_continuous_against_R(sim, ref):
    """R: Hmisc::improveProb(x1 = p_old, x2 = p_new, y = y)."""
    r = ref["improveProb"]
    res = nri(sim["y"], sim["p_old"], sim["p_new"]).set_index("component")
    assert (res["type"] == "continuous").all()
    assert_allclose(
        res.loc["overall", ["estimate", "se", "z"]].astype(float),
        [r["nri"], r["se.nri"], r["z.nri"]],
        rtol=1e-10,
    )
    assert_allclose(
        res.loc["events", ["estimate", "se", "z"]].astype(float),
        [r["nri.ev"], r["se.nri.ev"], r["z.nri.ev"]],
        rtol=1e-10,
    )
    assert_allclose(
        res.loc["non_events", ["estimate", "se", "z"]].astype(float),
        [r["nri.ne"], r["se.nri.ne"], r["z.nri.ne"]],
        rtol=1e-10,
    )
    assert_allclose(res.loc["events", "n_up"] / r["na"], r["pup.ev"], rtol=1e-12)
    assert_allclose(res.loc["non_events", "n_down"] / r["nb"], r["pdown.ne"], rtol=1e-12)


def test_nri_categorical_against_predictabel_formula(sim, ref):
    """PredictABEL::reclassification(cutoff = c(0, .2, .4, 1)), written in plain R in
    metrics.R (improveProb on the category numbers, cut(right = FALSE))."""
    r = ref["nri_categorical"]
    for cut in ([0.2, 0.4], [0, 0.2, 0.4, 1]):
        res = nri(sim["y"], sim["p_old"], sim["p_new"], cutoffs=cut)
        cat = res[res["type"] == "categorical"].set_index("component")
        assert_allclose(cat.loc["overall", "estimate"], r["nri"], rtol=1e-10)
        assert_allclose(cat.loc["overall", "se"], r["se.nri"], rtol=1e-10)
        assert_allclose(cat.loc["overall", "p_value"], r["p_value"], rtol=1e-6)
        assert_allclose(
            cat.loc["events", ["estimate", "se"]].astype(float),
            [r["nri.ev"], r["se.nri.ev"]],
            rtol=1e-10,
        )
        assert_allclose(
            cat.loc["non_events", ["estimate", "se"]].astype(float),
            [r["nri.ne"], r["se.nri.ne"]],
            rtol=1e-10,
        )
        # PredictABEL prints nri -/+ 1.96 se
        assert_allclose(cat.loc["overall", "ci_low"], r["ci_low"], rtol=1e-4)


def test_nri_and_idi_tables_stack():
    y, old, new = [0, 1, 0, 1, 1], [0.1, 0.4, 0.3, 0.5, 0.2], [0.2, 0.6, 0.1, 0.4, 0.3]
    both = pd.concat([nri(y, old, new, cutoffs=[0.25]), idi(y, old, new)], ignore_index=True)
    assert list(both["type"].unique()) == ["continuous", "categorical", "idi"]
    assert both[["estimate", "se", "z", "p_value"]].notna().all().all()


def test_nri_categorical_cutoff_tie_goes_up():
    """A risk equal to a cutoff is in the higher category ([a, b) as PredictABEL)."""
    res = nri([1, 0], [0.1, 0.3], [0.2, 0.2], cutoffs=[0.2])
    cat = res[res["type"] == "categorical"].set_index("component")
    assert cat.loc["events", "n_up"] == 1 and cat.loc["non_events", "n_up"] == 0


def test_idi_against_R(sim, ref):
    """R: Hmisc::improveProb(p_old, p_new, y): idi, se.idi, z.idi, improveSens/Spec."""
    r = ref["improveProb"]
    res = idi(sim["y"], sim["p_old"], sim["p_new"]).set_index("component")
    assert (res["type"] == "idi").all()
    assert_allclose(
        res.loc["overall", ["estimate", "se", "z"]].astype(float),
        [r["idi"], r["se.idi"], r["z.idi"]],
        rtol=1e-10,
    )
    assert_allclose(res.loc["events", "estimate"], r["improveSens"], rtol=1e-10)
    assert_allclose(res.loc["non_events", "estimate"], r["improveSpec"], rtol=1e-10)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "func",
    [
        lambda y, p: roc_auc(y, p),
        lambda y, p: delong_test(y, p, p),
        lambda y, p: roc_curve_table(y, p),
        lambda y, p: youden_threshold(y, p),
        lambda y, p: nri(y, p, p),
        lambda y, p: idi(y, p, p),
    ],
)
def test_single_class_is_an_error(func):
    with pytest.raises(InputError, match="only one class"):
        func([1, 1, 1], [0.2, 0.3, 0.4])


@pytest.mark.parametrize(
    "func",
    [
        lambda y, p: roc_auc(y, p),
        lambda y, p: delong_test(y, p, [0.1, 0.2, 0.3, 0.4]),
        lambda y, p: diagnostic_metrics(y, p, 0.5),
        lambda y, p: nri(y, p, [0.1, 0.2, 0.3, 0.4]),
    ],
)
def test_nan_is_an_error_naming_the_row(func):
    with pytest.raises(InputError, match=r"non-finite value\(s\) at rows 2"):
        func([0, 1, 0, 1], [0.1, 0.5, np.nan, 0.7])


@pytest.mark.parametrize(
    "func",
    [
        lambda: roc_auc([0, 1, 0], [0.1, 0.2]),
        lambda: delong_test([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3]),
        lambda: diagnostic_metrics([0, 1, 0], [0.1, 0.2], 0.5),
        lambda: idi([0, 1, 0], [0.1, 0.2, 0.3], [0.1, 0.2]),
    ],
)
def test_length_mismatch_is_an_error(func):
    with pytest.raises(InputError, match="length mismatch"):
        func()


@pytest.mark.parametrize(
    "func",
    [
        lambda: nri([0, 1, 0, 1], [0.1, 1.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]),
        lambda: idi([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], [-0.1, 0.2, 0.3, 0.4]),
    ],
)
def test_probabilities_outside_unit_interval_are_an_error(func):
    with pytest.raises(InputError, match=r"probabilities in \[0, 1\]"):
        func()


def test_misaligned_pandas_indexes_are_an_error():
    y = pd.Series([0, 1, 0, 1], index=["a", "b", "c", "d"])
    p = pd.Series([0.1, 0.9, 0.2, 0.8], index=["d", "c", "b", "a"])
    with pytest.raises(InputError, match="different indexes.*reindex"):
        roc_auc(y, p)
    assert roc_auc(y, p.reindex(y.index)).loc["auc", "estimate"] == 0.0
    assert roc_auc(y, p.to_numpy()).loc["auc", "estimate"] == 1.0  # positional


def test_diagnostic_metrics_takes_direction_from_youden_result(asah):
    neg = -asah["s100b"]
    cut = youden_threshold(asah["outcome"], neg, direction="auto")
    assert cut.direction == ">"
    res = diagnostic_metrics(asah["outcome"], neg, cut)
    assert (res["rule"] == "p <= threshold").all()
    assert_allclose(res.loc["sensitivity", "estimate"], cut.sensitivity)
    assert_allclose(res.loc["specificity", "estimate"], cut.specificity)


def test_scores_outside_unit_interval_are_fine_for_auc():
    """AUC and DeLong accept any continuous marker (pROC does too)."""
    assert roc_auc([0, 1, 0, 1], [-3.0, 7.0, 1.0, 20.0]).loc["auc", "estimate"] == 1.0


@pytest.mark.parametrize(
    ("cutoffs", "match"),
    [
        ([0.4, 0.2], "strictly increasing"),
        ([0.2, 0.2], "without duplicates"),
        ([0.2, 1.5], "strictly between 0 and 1"),
        ([0, 1], "at least one interior cutoff"),
        ([0.2, np.nan], "non-finite"),
    ],
)
def test_bad_cutoffs(cutoffs, match):
    with pytest.raises(InputError, match=match):
        nri([0, 1, 0, 1], [0.1, 0.5, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4], cutoffs=cutoffs)


def test_bad_options():
    y, p = [0, 1, 0, 1], [0.1, 0.5, 0.3, 0.4]
    with pytest.raises(InputError, match="`ci` must be"):
        roc_auc(y, p, ci="hanley")
    with pytest.raises(InputError, match="`direction` must be"):
        roc_auc(y, p, direction="up")
    with pytest.raises(InputError, match="`n_boot` must be"):
        roc_auc(y, p, ci="bootstrap", n_boot=0)
    with pytest.raises(InputError, match="`conf_level`"):
        roc_auc(y, p, conf_level=95)
    with pytest.raises(InputError, match="`convention`"):
        youden_threshold(y, p, convention="closest")
    with pytest.raises(InputError, match="`threshold` is NaN"):
        diagnostic_metrics(y, p, np.nan)
    with pytest.raises(InputError, match="must contain only 0 and 1"):
        roc_auc([0, 2, 0, 1], p)


def test_small_groups_warn_and_give_nan_se():
    with pytest.warns(StatisticalWarning, match="at least 2 events"):
        row = roc_auc([0, 0, 1], [0.1, 0.2, 0.9]).loc["auc"]
    assert row["estimate"] == 1.0 and np.isnan(row["se"])


# ------------------------------------------------------------------ Table 3


def _three_cohorts(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for name, n in (("Training", 200), ("Internal test", 90), ("External test", 120)):
        y = (rng.random(n) < 0.4).astype(int)
        clin = 1 / (1 + np.exp(-(-0.5 + 1.0 * y + rng.normal(0, 1, n))))
        nomo = 1 / (1 + np.exp(-(-0.8 + 2.0 * y + rng.normal(0, 1, n))))
        out[name] = (y, {"Clinical model": clin, "Nomogram": nomo})
    return out


def test_performance_table_matches_single_functions():
    cohorts = _three_cohorts()
    tab = performance_table(cohorts)
    assert isinstance(tab, PerformanceTable) and tab.training == "Training"
    assert len(tab.performance) == 6 and len(tab.comparisons) == 3
    ytr, mtr = cohorts["Training"]
    for model in ("Clinical model", "Nomogram"):
        assert tab.thresholds[model] == youden_threshold(ytr, mtr[model]).threshold
    y, models = cohorts["External test"]
    row = tab.performance.set_index(["cohort", "model"]).loc[("External test", "Nomogram")]
    auc = roc_auc(y, models["Nomogram"]).loc["auc"]
    assert_allclose(
        row[["auc", "auc_ci_low", "auc_ci_high"]].astype(float),
        auc[["estimate", "ci_low", "ci_high"]].astype(float),
    )
    dm = diagnostic_metrics(y, models["Nomogram"], tab.thresholds["Nomogram"])
    assert_allclose(row["sensitivity"], dm.loc["sensitivity", "estimate"])
    assert_allclose(row["npv_ci_high"], dm.loc["npv", "ci_high"])
    comp = tab.comparisons.set_index("cohort").loc["External test"]
    ref = delong_test(y, models["Clinical model"], models["Nomogram"]).loc["delong"]
    assert_allclose(comp["z"], ref["z"]) and comp["model_1"] == "Clinical model"
    text = tab.formatted()
    assert list(text.columns) == [
        "cohort",
        "model",
        "AUC (95% CI)",
        "ACC",
        "SEN",
        "SPE",
        "PPV",
        "NPV",
    ]
    assert text["AUC (95% CI)"].str.match(r"^0\.\d{3} \(0\.\d{3}\u2013[01]\.\d{3}\)$").all()


def test_performance_table_cutoffs_do_not_leak_from_test_cohorts():
    a = _three_cohorts(0)
    b = dict(a)
    y, models = b["External test"]
    b["External test"] = (1 - y, {k: 1 - v for k, v in models.items()})
    ta, tb = performance_table(a), performance_table(b)
    assert ta.thresholds == tb.thresholds
    pd.testing.assert_frame_equal(
        ta.performance[ta.performance["cohort"] == "Training"],
        tb.performance[tb.performance["cohort"] == "Training"],
    )


def test_performance_table_bootstrap_is_deterministic():
    cohorts = _three_cohorts()
    a = performance_table(cohorts, ci="bootstrap", n_boot=300, random_state=5)
    b = performance_table(cohorts, ci="bootstrap", n_boot=300, random_state=5)
    pd.testing.assert_frame_equal(a.performance, b.performance)
    assert (a.performance["auc_ci_low"] < a.performance["auc"]).all()


def test_performance_table_options_and_errors():
    cohorts = _three_cohorts()
    tab = performance_table(
        cohorts,
        thresholds={"Clinical model": 0.5, "Nomogram": 0.4},
        reference="Nomogram",
        ci_method="clopper-pearson",
    )
    assert tab.training is None and len(tab.comparisons) == 3
    assert (tab.comparisons["model_1"] == "Nomogram").all()
    assert (tab.performance.query("model == 'Nomogram'")["threshold"] == 0.4).all()
    with pytest.raises(InputError, match="no cutoff for model"):
        performance_table(cohorts, thresholds={"Nomogram": 0.4})
    with pytest.raises(InputError, match="`training` cohort"):
        performance_table(cohorts, training="Validation")
    bad = dict(cohorts)
    bad["External test"] = ([1, 1, 1], {"Nomogram": [0.1, 0.2, 0.3]})
    with pytest.raises(InputError, match="cohort 'External test'.*only one class"):
        performance_table(bad)
    with pytest.raises(InputError, match="non-empty mapping"):
        performance_table({})


# ------------------------------------------------------------------ risk groups and plots


def test_risk_group_table():
    y = [0, 0, 0, 1, 0, 1, 1, 1]
    p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    tab = risk_group_table({"A": (y, p), "B": ([1, 1], [0.9, 0.1])}, 0.5)
    a = tab[tab["cohort"] == "A"].set_index("group")
    assert a.loc["high", "n"] == 4 and a.loc["high", "n_events"] == 3  # 0.5 counts as high
    b = tab[tab["cohort"] == "B"].set_index("group")
    assert b.loc["low", "proportion"] == 1.0


def test_plot_roc_returns_ax_with_auc_ci_legend(asah):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = plot_roc(asah["outcome"], {"s100b": asah["s100b"], "wfns": asah["wfns"]}, ax=ax)
    assert out is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "s100b: AUC 0.731 (0.630\u20130.833)"
    assert len(ax.get_lines()) == 3  # two curves and the chance line
    line = ax.get_lines()[0]
    assert line.get_xdata()[0] == 1.0 and line.get_ydata()[-1] == 0.0


def test_plot_risk_groups_returns_ax():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    cohorts = {k: (v[0], v[1]["Nomogram"]) for k, v in _three_cohorts().items()}
    out = plot_risk_groups(cohorts, 0.5, ax=ax)
    assert out is ax and len(ax.patches) == 6
    with pytest.raises(InputError, match="`threshold` is required"):
        plot_risk_groups(cohorts, ax=ax)


def test_plot_risk_groups_tolerates_bounds_rounded_past_the_proportion():
    # A Wilson bound for 0/n computed in floating point can sit ~1e-17 above 0.
    y = np.r_[np.zeros(10), np.ones(10)]
    p = np.r_[np.full(10, 0.9), np.full(10, 0.1)]
    table = risk_group_table({"a": (y, p)}, threshold=0.5)
    high = table["group"] == "high"
    table.loc[high, "ci_low"] = table.loc[high, "proportion"] + 1e-17
    ax = plot_risk_groups(table)
    assert len(ax.patches) == 2


def test_plot_roc_long_names_keep_legend_off_the_curves():
    # a one-line "long name: AUC x (lo-hi)" legend spans the axes and hides the curves' start
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = y + rng.normal(size=200)
    fig, ax = plt.subplots(figsize=(5, 4))
    plot_roc(y, {"Clinical model (US LN status + size)": s}, ax=ax)
    text = ax.get_legend().get_texts()[0].get_text()
    assert text.startswith("Clinical model (US LN status + size)\nAUC ")
    fig.canvas.draw()
    leg = ax.get_legend().get_window_extent()
    box = ax.get_window_extent()
    assert leg.x0 - box.x0 > 0.1 * box.width  # clear of the steep start of the curves


def test_plot_risk_groups_legend_clear_of_bar_labels():
    # the legend used to sit on the "events/n" label of the last high-risk bar
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(3)
    cohorts = {}
    for name in ("Training", "Internal validation", "External validation"):
        p = rng.random(150)
        cohorts[name] = ((rng.random(150) < p**3 * 3).astype(int), p)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    plot_risk_groups(cohorts, 0.5, ax=ax)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    leg = ax.get_legend().get_window_extent(renderer)
    labels = [t for t in ax.texts if "/" in t.get_text()]
    assert len(labels) == 6
    for t in labels:
        assert not leg.overlaps(t.get_window_extent(renderer)), t.get_text()
    assert max(ax.get_yticks()) == 1.0  # no proportion ticks above 100 %


def test_plot_risk_groups_kwargs_override_defaults():
    import matplotlib.pyplot as plt

    y = np.array([0, 1, 0, 1, 1, 0, 1, 0])
    p = np.array([0.1, 0.9, 0.2, 0.8, 0.7, 0.6, 0.3, 0.4])
    fig, ax = plt.subplots()
    assert plot_risk_groups({"A": (y, p)}, 0.5, ax=ax, color="grey", edgecolor="k") is ax
    assert all(b.get_facecolor()[:3] == (0.5019607843137255,) * 3 for b in ax.patches)


def test_plot_roc_colour_blind_safe_defaults_and_color_override():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    scores = {m: y * k + rng.normal(size=100) for k, m in enumerate(("a", "b", "c"), 1)}
    fig, ax = plt.subplots()
    plot_roc(y, scores, ax=ax, ci=None)
    assert [to_hex(ln.get_color()) for ln in ax.get_lines()[:3]] == [
        "#0072b2",
        "#d55e00",
        "#009e73",
    ]
    _, ax2 = plt.subplots()
    plot_roc(y, scores, ax=ax2, ci=None, color="k", lw=2)
    assert all(ln.get_color() == "k" and ln.get_linewidth() == 2 for ln in ax2.get_lines()[:3])
