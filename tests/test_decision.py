"""Tests for radiomics_aln.decision.

References: tests/reference/metrics.R computes net benefit, treat-all, net interventions avoided
and the clinical impact counts in plain R with dcurves' rule (risk >= threshold positive) and
rmda's rule (risk > threshold); dcurves and rmda are not installable here. The data
(metrics_sim_data.csv) are rounded to 2 decimals, so every risk ties a 0.01-grid threshold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from radiomics_aln.decision import (
    DEFAULT_THRESHOLDS,
    clinical_impact,
    decision_curve,
    plot_clinical_impact,
    plot_decision_curve,
)
from radiomics_aln.exceptions import InputError

REF_DIR = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="module")
def ref_dca() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "metrics_dca_reference.csv")


def _models(sim: pd.DataFrame) -> dict:
    return {"p_old": sim["p_old"], "p_new": sim["p_new"]}


def test_net_benefit_against_R(sim, ref_dca):
    """R (metrics.R, dcurves' formulas): NB = TP/n - FP/n * pt/(1-pt), risk >= pt positive."""
    # the default grid is R's round(seq(0.01, 0.99, by = 0.01), 2): the doubles nearest k/100
    dc = decision_curve(sim["y"], _models(sim))
    m = dc.merge(ref_dca, on=["model", "threshold"], suffixes=("", "_r"), validate="1:1")
    assert len(m) == 198
    assert (m["tp"] == m["tp_r"]).all() and (m["fp"] == m["fp_r"]).all()
    assert_allclose(m["net_benefit"], m["net_benefit_r"], rtol=1e-10, atol=1e-14)
    assert_allclose(m["treat_all"], m["treat_all_r"], rtol=1e-10, atol=1e-14)
    assert_allclose(
        m["net_interventions_avoided"], m["net_interventions_avoided_r"], rtol=1e-10, atol=1e-12
    )
    assert (dc["treat_none"] == 0).all()


def test_net_benefit_strict_rule_against_R(sim, ref_dca):
    """R (metrics.R, rmda's rule): risk > pt positive."""
    dc = decision_curve(sim["y"], _models(sim), inclusive=False)
    m = dc.merge(ref_dca, on=["model", "threshold"], suffixes=("", "_r"))
    assert_allclose(m["net_benefit"], m["net_benefit_strict"], rtol=1e-10, atol=1e-14)


def test_net_benefit_formula_with_ties():
    """Hand computation: risks equal to the threshold are treated (dcurves: risk >= pt)."""
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0, 1, 0])
    p = np.array([0.3, 0.3, 0.2, 0.2, 0.1, 0.5, 0.5, 0.05, 0.3, 0.6])
    t = np.array([0.1, 0.2, 0.3, 0.5])
    dc = decision_curve(y, p, thresholds=t)
    n, prev = y.size, y.mean()
    for k, pt in enumerate(t):
        treat = p >= pt
        tp, fp = np.sum(treat & (y == 1)), np.sum(treat & (y == 0))
        nb = tp / n - fp / n * pt / (1 - pt)
        nb_all = prev - (1 - prev) * pt / (1 - pt)
        row = dc.iloc[k]
        assert row["tp"] == tp and row["fp"] == fp
        assert_allclose(row["net_benefit"], nb, rtol=1e-12)
        assert_allclose(row["treat_all"], nb_all, rtol=1e-12)
        assert_allclose(row["net_interventions_avoided"], (nb - nb_all) / (pt / (1 - pt)) * 100)
        assert_allclose(row["test_pos_rate"], treat.mean())
        assert_allclose(row["standardized_net_benefit"], nb / prev)
    # at pt = 0.3: three 0.3 risks are included (2 events, 1 non-event) plus 0.5, 0.5, 0.6
    assert dc.iloc[2]["tp"] == 3 and dc.iloc[2]["fp"] == 3


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 20)), min_size=2, max_size=40),
    st.sets(st.integers(0, 19), min_size=1, max_size=10),
)
def test_net_benefit_matches_formula_on_tied_grids(rows, grid):
    """Risks on a 0.05 grid, thresholds a subset of the same grid: every tie is exercised."""
    y = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows]) / 20
    t = np.array(sorted(grid)) / 20
    dc = decision_curve(y, p, thresholds=t)
    for k, pt in enumerate(t):
        treat = (p >= pt) & (p > 0)  # dcurves::dca moves risks of 0 to -eps
        tp, fp = np.sum(treat & (y == 1)), np.sum(treat & (y == 0))
        assert dc.loc[k, "tp"] == tp and dc.loc[k, "fp"] == fp
        assert_allclose(
            dc.loc[k, "net_benefit"],
            tp / y.size - fp / y.size * pt / (1 - pt),
            rtol=1e-12,
            atol=1e-15,
        )
    strict = decision_curve(y, p, thresholds=t, inclusive=False)
    assert (strict["tp"].to_numpy() == [np.sum((p > pt) & (y == 1)) for pt in t]).all()


def test_threshold_zero_gives_prevalence():
    y = [0, 1, 1, 0, 1]
    dc = decision_curve(y, [0.0, 0.2, 0.9, 0.4, 0.6], thresholds=[0.0, 0.5])
    assert_allclose(dc.loc[0, "net_benefit"], 0.6)
    assert_allclose(dc.loc[0, "treat_all"], 0.6)
    assert np.isnan(dc.loc[0, "net_interventions_avoided"])


def test_default_thresholds_are_exact():
    assert DEFAULT_THRESHOLDS[5] == 0.06 and DEFAULT_THRESHOLDS.size == 99
    assert DEFAULT_THRESHOLDS[0] == 0.01 and DEFAULT_THRESHOLDS[-1] == 0.99


def test_clinical_impact_against_R(sim, ref_dca):
    """R (metrics.R): 1000 * mean(p >= pt), 1000 * mean(p >= pt & y == 1); strict (rmda)."""
    r = ref_dca[ref_dca["model"] == "p_new"].reset_index(drop=True)
    ci = clinical_impact(sim["y"], sim["p_new"])
    assert_allclose(ci["threshold"], r["threshold"])
    assert_allclose(ci["n_high_risk"], r["n_high_risk"], rtol=1e-12)
    assert_allclose(ci["n_high_risk_events"], r["n_high_risk_events"], rtol=1e-12)
    strict = clinical_impact(sim["y"], sim["p_new"], inclusive=False)
    assert_allclose(strict["n_high_risk"], r["n_high_risk_strict"], rtol=1e-12)
    assert_allclose(strict["n_high_risk_events"], r["n_high_risk_events_strict"], rtol=1e-12)
    assert (ci["population"] == 1000).all()
    assert_allclose(ci["cost_benefit_ratio"], ci["threshold"] / (1 - ci["threshold"]))


def test_clinical_impact_population_scaling(sim):
    a = clinical_impact(sim["y"], sim["p_new"], population=1000)
    b = clinical_impact(sim["y"], sim["p_new"], population=100)
    assert_allclose(a["n_high_risk"], 10 * b["n_high_risk"])


def test_bootstrap_ci_deterministic_and_covers(sim):
    kw = {"thresholds": [0.1, 0.3, 0.5], "n_boot": 300, "random_state": 1}
    a = decision_curve(sim["y"], _models(sim), **kw)
    b = decision_curve(sim["y"], _models(sim), **kw)
    pd.testing.assert_frame_equal(a, b)
    assert (a["net_benefit_ci_low"] <= a["net_benefit"]).all()
    assert (a["net_benefit"] <= a["net_benefit_ci_high"]).all()
    c = decision_curve(sim["y"], _models(sim), **{**kw, "random_state": 2})
    assert not np.allclose(a["net_benefit_ci_low"], c["net_benefit_ci_low"])


def test_clinical_impact_bootstrap(sim):
    import matplotlib.pyplot as plt

    kw = {"thresholds": [0.2, 0.5], "n_boot": 200, "random_state": 3}
    a = clinical_impact(sim["y"], sim["p_new"], **kw)
    pd.testing.assert_frame_equal(a, clinical_impact(sim["y"], sim["p_new"], **kw))
    for col in ("n_high_risk", "n_high_risk_events"):
        assert (a[f"{col}_ci_low"] <= a[col]).all() and (a[col] <= a[f"{col}_ci_high"]).all()
    fig, ax = plt.subplots()
    plot_clinical_impact(a, ax=ax)
    assert len(ax.collections) == 2


def test_bootstrap_ci_equals_explicit_resampling(sim):
    """The bootstrap CI is the percentile interval of the net benefit recomputed on resampled
    rows, drawn as numpy's Generator(seed).integers(0, n, size=(n_boot, n))."""
    y = sim["y"].to_numpy()
    p = sim["p_new"].to_numpy()
    t = np.array([0.2, 0.4])
    n_boot, conf_level = 40, 0.9
    dc = decision_curve(y, p, thresholds=t, n_boot=n_boot, conf_level=conf_level, random_state=9)
    idx = np.random.default_rng(9).integers(0, y.size, size=(n_boot, y.size))
    boot = np.array(
        [decision_curve(y[i], p[i], thresholds=t)["net_benefit"].to_numpy() for i in idx]
    )
    assert_allclose(dc["net_benefit_ci_low"], np.quantile(boot, 0.05, axis=0), rtol=1e-12)
    assert_allclose(dc["net_benefit_ci_high"], np.quantile(boot, 0.95, axis=0), rtol=1e-12)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("thresholds", "match"),
    [
        ([0.3, 0.2, 0.4], "sorted in increasing order; 0.3 is followed by 0.2"),
        ([0.1, 0.2, 0.2], r"duplicate values: \[0.2\]"),
        ([0.1, 1.0], r"must lie in \[0, 1\)"),
        ([-0.1, 0.5], r"must lie in \[0, 1\)"),
        ([0.1, np.nan], "non-finite"),
        ([], "empty"),
    ],
)
def test_bad_thresholds(thresholds, match):
    with pytest.raises(InputError, match=match):
        decision_curve([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], thresholds=thresholds)
    with pytest.raises(InputError, match=match):
        clinical_impact([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], thresholds=thresholds)


def test_bad_risks_and_outcomes():
    with pytest.raises(InputError, match=r"probabilities in \[0, 1\]; rows 1"):
        decision_curve([0, 1, 0], {"m": [0.1, 1.5, 0.2]})
    with pytest.raises(InputError, match=r"non-finite value\(s\) at rows 2"):
        decision_curve([0, 1, 0], {"m": [0.1, 0.5, np.nan]})
    with pytest.raises(InputError, match="length mismatch.*'m' has 2"):
        decision_curve([0, 1, 0], {"m": [0.1, 0.5]})
    with pytest.raises(InputError, match="must contain only 0 and 1"):
        clinical_impact([0, 3, 0], [0.1, 0.5, 0.3])
    with pytest.raises(InputError, match="different indexes"):
        decision_curve(pd.Series([0, 1], index=[1, 2]), {"m": pd.Series([0.1, 0.2], index=[2, 1])})
    with pytest.raises(InputError, match="`models` is empty"):
        decision_curve([0, 1], {})
    with pytest.raises(InputError, match="`n_boot`"):
        decision_curve([0, 1], [0.1, 0.2], n_boot=-1)
    with pytest.raises(InputError, match="`population`"):
        clinical_impact([0, 1], [0.1, 0.2], population=0)


# ------------------------------------------------------------------ plots


def test_plot_decision_curve(sim):
    import matplotlib.pyplot as plt

    dc = decision_curve(sim["y"], _models(sim), n_boot=50, random_state=0)
    fig, ax = plt.subplots()
    out = plot_decision_curve(dc, ax=ax, cost_benefit_axis=True)
    assert out is ax
    assert [ln.get_label() for ln in ax.get_lines()] == [
        "p_old",
        "p_new",
        "Treat all",
        "Treat none",
    ]
    assert len(ax.collections) == 2  # the two CI bands
    fig, ax2 = plt.subplots()
    plot_decision_curve(dc, ax=ax2, quantity="net_interventions_avoided")
    assert "interventions avoided" in ax2.get_ylabel()
    with pytest.raises(InputError, match="lacks column"):
        plot_decision_curve(dc.drop(columns="treat_all"), ax=ax2)


def test_plot_clinical_impact(sim):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = plot_clinical_impact(clinical_impact(sim["y"], sim["p_new"]), ax=ax)
    assert out is ax and len(ax.get_lines()) == 2
    assert ax.get_ylim()[1] >= 1000


def test_plot_decision_curve_legend_outside_the_curves():
    # the curves span the whole axes; a legend inside always hid part of one of them
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(size=200))))
    fig, ax = plt.subplots()
    plot_decision_curve(decision_curve(y, {"a": p, "b": p**2}), ax=ax)
    fig.tight_layout()
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert not legend.overlaps(ax.get_window_extent())  # below the axes, outside
    assert legend.y1 <= ax.xaxis.label.get_window_extent().y0


def test_plot_clinical_impact_forwards_kwargs_over_defaults():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    p = np.clip(0.3 * y + rng.random(100) * 0.7, 0.01, 0.99)
    fig, ax = plt.subplots()
    out = plot_clinical_impact(clinical_impact(y, p), ax=ax, color="k", lw=2)
    assert out is ax
    lines = ax.get_lines()[:2]
    assert [ln.get_color() for ln in lines] == ["k", "k"]
    assert [ln.get_linewidth() for ln in lines] == [2, 2]


def test_plot_decision_curve_colour_blind_safe_defaults():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(size=200))))
    fig, ax = plt.subplots()
    plot_decision_curve(decision_curve(y, {"a": p, "b": p**2, "c": np.sqrt(p)}), ax=ax)
    colours = {ln.get_label(): to_hex(ln.get_color()) for ln in ax.get_lines()}
    assert [colours[m] for m in "abc"] == ["#000000", "#d55e00", "#0072b2"]
    # treat all / treat none are grey (solid / short dashes), unlike any model
    assert colours["Treat all"] == colours["Treat none"] == "#8c8c8c"
    assert len({colours[m] for m in "abc"} | {colours["Treat all"]}) == 4
    styles = {ln.get_label(): str(ln.get_linestyle()) for ln in ax.get_lines()}
    assert styles["Treat all"] != styles["Treat none"]


def test_same_model_same_style_in_roc_and_decision_figures():
    # the ROC figure shows five models, the decision curves two: with one style mapping the
    # clinical-radiomics model is the same colour in both (it used to be orange in one and
    # vermillion in the other)
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from radiomics_aln._plotting import model_styles
    from radiomics_aln.metrics import plot_roc

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 150)
    models = {m: 1 / (1 + np.exp(-(k * y + rng.normal(size=150))))
              for k, m in enumerate(["Clinical model", "Tumor score", "Peritumoral score",
                                     "LN score", "Clinical-radiomics model"])}  # fmt: skip
    styles = model_styles(["Clinical-radiomics model", "Clinical model", "Tumor score",
                           "Peritumoral score", "LN score"])  # fmt: skip
    _, ax1 = plt.subplots()
    plot_roc(y, models, ax=ax1, ci=None, styles=styles)
    _, ax2 = plt.subplots()
    two = {m: models[m] for m in ("Clinical model", "Clinical-radiomics model")}
    plot_decision_curve(decision_curve(y, two), ax=ax2, styles=styles)

    def look(ax, name):
        line = next(ln for ln in ax.get_lines()
                    if ln.get_label().replace("\n", ":").split(":")[0] == name)  # fmt: skip
        return to_hex(line.get_color()), str(line.get_linestyle())

    for name in two:
        assert look(ax1, name) == look(ax2, name)
    plt.close("all")


def test_plot_decision_curve_threshold_range():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(size=200))))
    tab = decision_curve(y, {"a": p})
    fig, ax = plt.subplots()
    plot_decision_curve(tab, ax=ax, threshold_range=(0.05, 0.6))
    x = ax.get_lines()[0].get_xdata()
    assert x.min() == pytest.approx(0.05) and x.max() == pytest.approx(0.6)
    assert ax.get_xlim() == pytest.approx((0.05, 0.6))
    _, ax2 = plt.subplots()
    plot_clinical_impact(clinical_impact(y, p), ax=ax2, threshold_range=(0.05, 0.6))
    assert ax2.get_lines()[0].get_xdata().max() == pytest.approx(0.6)
    with pytest.raises(InputError, match="threshold_range"):
        plot_decision_curve(tab, ax=ax, threshold_range=(0.6, 0.05))
    with pytest.raises(InputError, match="no threshold"):
        plot_decision_curve(tab.query("threshold < 0.3"), ax=ax, threshold_range=(0.5, 0.9))
    plt.close("all")


def test_plot_decision_curve_default_ylim_holds_the_ci_band():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 120)
    p = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(size=120))))
    tab = decision_curve(y, {"a": p}, n_boot=30, random_state=0)
    fig, ax = plt.subplots()
    plot_decision_curve(tab, ax=ax)
    assert ax.get_ylim()[1] >= np.nanmax(tab["net_benefit_ci_high"])
