"""Tests for radiomics_aln.reclassification (NRI, IDI, risk groups), pinned to Hmisc 4.8.0
and PredictABEL's formulas.

Reference values come from tests/reference/metrics.R (outputs: metrics_reference.json,
metrics_sim_data.csv); the R call is next to each comparison.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from radiomics_aln.exceptions import InputError
from radiomics_aln.reclassification import idi, nri, plot_risk_groups, risk_group_table


def _three_cohorts(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for name, n in (("Training", 200), ("Internal test", 90), ("External test", 120)):
        y = (rng.random(n) < 0.4).astype(int)
        clin = 1 / (1 + np.exp(-(-0.5 + 1.0 * y + rng.normal(0, 1, n))))
        nomo = 1 / (1 + np.exp(-(-0.8 + 2.0 * y + rng.normal(0, 1, n))))
        out[name] = (y, {"Clinical model": clin, "Nomogram": nomo})
    return out


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


def test_risk_group_table():
    y = [0, 0, 0, 1, 0, 1, 1, 1]
    p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    tab = risk_group_table({"A": (y, p), "B": ([1, 1], [0.9, 0.1])}, 0.5)
    a = tab[tab["cohort"] == "A"].set_index("group")
    assert a.loc["high", "n"] == 4 and a.loc["high", "n_events"] == 3  # 0.5 counts as high
    b = tab[tab["cohort"] == "B"].set_index("group")
    assert b.loc["low", "estimate"] == 1.0


def test_plot_risk_groups_returns_ax():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    cohorts = {k: (v[0], v[1]["Nomogram"]) for k, v in _three_cohorts().items()}
    out = plot_risk_groups(cohorts, threshold=0.5, ax=ax)
    assert out is ax and len(ax.patches) == 6
    with pytest.raises(InputError, match="`threshold` is required"):
        plot_risk_groups(cohorts, ax=ax)


def test_plot_risk_groups_tolerates_bounds_rounded_past_the_proportion():
    # A Wilson bound for 0/n computed in floating point can sit ~1e-17 above 0.
    y = np.r_[np.zeros(10), np.ones(10)]
    p = np.r_[np.full(10, 0.9), np.full(10, 0.1)]
    table = risk_group_table({"a": (y, p)}, threshold=0.5)
    high = table["group"] == "high"
    table.loc[high, "ci_low"] = table.loc[high, "estimate"] + 1e-17
    ax = plot_risk_groups(table)
    assert len(ax.patches) == 2


def test_plot_risk_groups_legend_clear_of_bar_labels():
    # the legend used to sit on the "events/n" label of the last high-risk bar
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(3)
    cohorts = {}
    for name in ("Training", "Internal validation", "External validation"):
        p = rng.random(150)
        cohorts[name] = ((rng.random(150) < p**3 * 3).astype(int), p)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    plot_risk_groups(cohorts, threshold=0.5, ax=ax)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    leg = ax.get_legend().get_window_extent(renderer)
    labels = [t for t in ax.texts if "/" in t.get_text()]
    assert len(labels) == 6
    for t in labels:
        assert not leg.overlaps(t.get_window_extent(renderer)), t.get_text()
    assert max(ax.get_yticks()) == 1.0  # no proportion ticks above 100 %
    assert not leg.overlaps(ax.get_window_extent(renderer))  # outside the plotting area
    for t in ax.get_xticklabels():  # below the cohort names
        assert not leg.overlaps(t.get_window_extent(renderer)), t.get_text()


def test_plot_risk_groups_kwargs_override_defaults():
    import matplotlib.pyplot as plt

    y = np.array([0, 1, 0, 1, 1, 0, 1, 0])
    p = np.array([0.1, 0.9, 0.2, 0.8, 0.7, 0.6, 0.3, 0.4])
    fig, ax = plt.subplots()
    assert plot_risk_groups({"A": (y, p)}, threshold=0.5, ax=ax, color="grey", edgecolor="k") is ax
    assert all(b.get_facecolor()[:3] == (0.5019607843137255,) * 3 for b in ax.patches)


@pytest.mark.parametrize(
    "func",
    [
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
        lambda y, p: nri(y, p, [0.1, 0.2, 0.3, 0.4]),
    ],
)
def test_nan_is_an_error_naming_the_row(func):
    with pytest.raises(InputError, match=r"non-finite value\(s\) at rows 2"):
        func([0, 1, 0, 1], [0.1, 0.5, np.nan, 0.7])


@pytest.mark.parametrize(
    "func",
    [
        lambda: idi([0, 1, 0], [0.1, 0.2, 0.3], [0.1, 0.2]),
    ],
)
def test_length_mismatch_is_an_error(func):
    with pytest.raises(InputError, match="length mismatch"):
        func()
