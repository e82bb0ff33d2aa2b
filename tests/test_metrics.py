"""Tests for radiomics_aln.metrics (AUC, DeLong, ROC table, Youden), pinned to pROC 1.18.0.

Reference values come from tests/reference/metrics.R (outputs: metrics_reference.json,
aSAH.csv, metrics_sim_data.csv); the R call is next to each comparison.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from radiomics_aln.exceptions import InputError, StatisticalWarning
from radiomics_aln.metrics import (
    delong_test,
    delong_test_unpaired,
    plot_roc,
    roc_auc,
    roc_curve_table,
    youden_threshold,
)


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
    assert_allclose(row["estimate"], r["auc_1"] - r["auc_2"], rtol=1e-12)
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
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
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
    """The vectorized counts give exactly the AUC of each resample drawn the same way: the
    bootstrap SE and percentile interval equal those of a loop over the engine's resamples."""
    from sklearn.metrics import roc_auc_score

    from radiomics_aln._bootstrap import resample_indices

    rng0 = np.random.default_rng(11)
    y = (rng0.random(80) < 0.4).astype(int)
    s = np.round(rng0.random(80) + 0.3 * y, 1)  # ties
    res = roc_auc(y, s, ci="bootstrap", n_boot=50, random_state=5).loc["auc"]
    cases, ctrls = s[y == 1], s[y == 0]
    # cases then controls, from one Generator, as numpy draws them: the engine's order
    rng = np.random.default_rng(5)
    ic = rng.integers(0, cases.size, size=(50, cases.size))
    jc = rng.integers(0, ctrls.size, size=(50, ctrls.size))
    (ic2, jc2), = resample_indices(50, [cases.size, ctrls.size], random_state=5)
    assert (ic == ic2).all() and (jc == jc2).all()
    naive = np.array(
        [
            roc_auc_score(
                np.r_[np.ones(cases.size), np.zeros(ctrls.size)],
                np.r_[cases[ic[b]], ctrls[jc[b]]],
            )
            for b in range(50)
        ]
    )
    assert_allclose(res["se"], naive.std(ddof=1), rtol=1e-12)
    assert_allclose([res["ci_low"], res["ci_high"]], np.quantile(naive, [0.025, 0.975]), rtol=1e-12)


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
    assert res.summary.loc["youden", "n_tied"] == 2


def test_midpoint_between_adjacent_floats_moves_up():
    """pROC moves a midpoint that rounds onto the lower score to the upper score."""
    a = 1.0
    b = np.nextafter(a, 2.0)
    tab = roc_curve_table([0, 1], [a, b])
    assert tab["threshold"].iloc[1] == b
    assert tab["sensitivity"].iloc[1] == 1.0 and tab["specificity"].iloc[1] == 1.0


# ------------------------------------------------------------------ threshold metrics










# ------------------------------------------------------------------ NRI / IDI vs Hmisc












# ------------------------------------------------------------------ bad input










def test_misaligned_pandas_indexes_are_an_error():
    y = pd.Series([0, 1, 0, 1], index=["a", "b", "c", "d"])
    p = pd.Series([0.1, 0.9, 0.2, 0.8], index=["d", "c", "b", "a"])
    with pytest.raises(InputError, match="different indexes.*reindex"):
        roc_auc(y, p)
    assert roc_auc(y, p.reindex(y.index)).loc["auc", "estimate"] == 0.0
    assert roc_auc(y, p.to_numpy()).loc["auc", "estimate"] == 1.0  # positional




def test_scores_outside_unit_interval_are_fine_for_auc():
    """AUC and DeLong accept any continuous marker (pROC does too)."""
    assert roc_auc([0, 1, 0, 1], [-3.0, 7.0, 1.0, 20.0]).loc["auc", "estimate"] == 1.0




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
    with pytest.raises(InputError, match="must contain only 0 and 1"):
        roc_auc([0, 2, 0, 1], p)


def test_small_groups_warn_and_give_nan_se():
    with pytest.warns(StatisticalWarning, match="at least 2 events"):
        row = roc_auc([0, 0, 1], [0.1, 0.2, 0.9]).loc["auc"]
    assert row["estimate"] == 1.0 and np.isnan(row["se"])


# ------------------------------------------------------------------ Table 3












# ------------------------------------------------------------------ risk groups and plots




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
    # below the axes and its x label, never over a curve (it used to sit in the lower right)
    assert leg.y1 <= box.y0 and leg.y1 <= ax.xaxis.label.get_window_extent().y0


@pytest.mark.parametrize("n_models", [1, 3, 6])
def test_plot_roc_legend_is_outside_the_plotting_area(n_models):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 150)
    scores = {f"Model {k}": y * (k + 1) / 3 + rng.normal(size=150) for k in range(n_models)}
    fig, ax = plt.subplots(figsize=(5, 5))
    plot_roc(y, scores, ax=ax)
    fig.tight_layout()
    fig.canvas.draw()
    leg = ax.get_legend().get_window_extent()
    assert not leg.overlaps(ax.get_window_extent())
    assert len(ax.get_legend().get_texts()) == n_models
    plt.close(fig)






def test_plot_roc_colour_blind_safe_defaults_and_color_override():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    scores = {m: y * k + rng.normal(size=100) for k, m in enumerate(("a", "b", "c"), 1)}
    fig, ax = plt.subplots()
    plot_roc(y, scores, ax=ax, ci=None)
    # Okabe-Ito black, vermillion, blue (never orange beside vermillion), each with its own
    # line style; the chance line is grey
    assert [to_hex(ln.get_color()) for ln in ax.get_lines()[:3]] == [
        "#000000",
        "#d55e00",
        "#0072b2",
    ]
    assert len({str(ln.get_linestyle()) for ln in ax.get_lines()[:3]}) == 3
    assert to_hex(ax.get_lines()[3].get_color()) == "#8c8c8c"
    _, ax2 = plt.subplots()
    plot_roc(y, scores, ax=ax2, ci=None, color="k", lw=2)
    assert all(ln.get_color() == "k" and ln.get_linewidth() == 2 for ln in ax2.get_lines()[:3])
    # given styles: a model keeps its style whichever other models the figure shows
    from radiomics_aln._plotting import model_styles

    styles = model_styles(["c", "b", "a"])
    _, ax3 = plt.subplots()
    plot_roc(y, {"a": scores["a"]}, ax=ax3, ci=None, styles=styles)
    assert to_hex(ax3.get_lines()[0].get_color()) == styles["a"]["color"].lower() == "#0072b2"



@pytest.mark.parametrize(
    "func",
    [
        lambda y, p: roc_auc(y, p),
        lambda y, p: delong_test(y, p, p),
        lambda y, p: roc_curve_table(y, p),
        lambda y, p: youden_threshold(y, p),
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
    ],
)
def test_length_mismatch_is_an_error(func):
    with pytest.raises(InputError, match="length mismatch"):
        func()


def test_c_statistic_is_the_auc_of_roc_auc_and_glmnet_cv(asah):
    """One AUC: roc_auc's estimate is c_statistic's; a single class gives NaN (as
    survival::concordance in cv.glmnet) and bad input is refused."""
    from radiomics_aln.metrics import c_statistic

    for marker in ("s100b", "wfns", "ndka"):
        auc = roc_auc(asah["outcome"], asah[marker]).loc["auc", "estimate"]
        assert c_statistic(asah["outcome"], asah[marker]) == auc
    assert c_statistic([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert np.isnan(c_statistic([1, 1], [0.2, 0.3]))
    with pytest.raises(InputError, match="length mismatch"):
        c_statistic([0, 1, 1], [0.2, 0.3])


def test_delong_columns_constant_matches_the_tables(asah):
    from radiomics_aln.metrics import DELONG_COLUMNS

    y = asah["outcome"]
    assert tuple(delong_test(y, asah["s100b"], asah["wfns"]).columns) == DELONG_COLUMNS
    unpaired = delong_test_unpaired(y, asah["s100b"], y, asah["wfns"])
    assert tuple(unpaired.columns) == DELONG_COLUMNS
