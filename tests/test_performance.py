"""Tests for radiomics_aln.performance (threshold metrics, binomial CIs, Table 3), pinned to
pROC 1.18.0 and R's prop.test / binom.test / p.adjust.

Reference values come from tests/reference/metrics.R (outputs: metrics_reference.json,
aSAH.csv) and tests/reference/report_tables.R (p_adjust.csv); the R call is next to each
comparison.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from radiomics_aln.exceptions import InputError
from radiomics_aln.formatting import format_p_value
from radiomics_aln.metrics import delong_test, roc_auc, youden_threshold
from radiomics_aln.performance import (
    PerformanceTable,
    binomial_ci,
    delong_comparisons,
    diagnostic_metrics,
    p_adjust,
    performance_table,
)

REFERENCE = Path(__file__).resolve().parent / "reference"


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


def test_diagnostic_metrics_takes_direction_from_youden_result(asah):
    neg = -asah["s100b"]
    cut = youden_threshold(asah["outcome"], neg, direction="auto")
    assert cut.direction == ">"
    res = diagnostic_metrics(asah["outcome"], neg, cut)
    assert (res["rule"] == "p <= threshold").all()
    assert_allclose(res.loc["sensitivity", "estimate"], cut.sensitivity)
    assert_allclose(res.loc["specificity", "estimate"], cut.specificity)


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
        "Cohort",
        "Model",
        "n (events)",
        "AUC (95% CI)",
        "Cutoff",
        "ACC (95% CI)",
        "SEN (95% CI)",
        "SPE (95% CI)",
        "PPV (95% CI)",
        "NPV (95% CI)",
    ]
    assert text["AUC (95% CI)"].str.match(r"^0\.\d{3} \(0\.\d{3}\u2013[01]\.\d{3}\)$").all()


def test_formatted_table_shows_every_interval_and_the_cutoff():
    # issue 15: the threshold metrics were printed without their Wilson CIs and the cutoff
    tab = performance_table(_three_cohorts())
    text = tab.formatted().set_index(["Cohort", "Model"])
    perf = tab.performance.set_index(["cohort", "model"])
    row, cell = perf.loc[("External test", "Nomogram")], text.loc[("External test", "Nomogram")]
    for metric, label in (("sensitivity", "SEN"), ("npv", "NPV"), ("accuracy", "ACC")):
        lo, hi = row[f"{metric}_ci_low"], row[f"{metric}_ci_high"]
        assert cell[f"{label} (95% CI)"] == f"{row[metric]:.3f} ({lo:.3f}\u2013{hi:.3f})"
    assert cell["Cutoff"] == f"\u2265 {tab.thresholds['Nomogram']:.3f}"
    assert cell["n (events)"] == f"{int(row['n'])} ({int(row['n_events'])})"
    note = tab.note()
    assert "Wilson" in note and "DeLong" in note and "Training cohort" in note
    clopper = performance_table(_three_cohorts(), ci_method="clopper-pearson", conf_level=0.9)
    assert "Clopper-Pearson" in clopper.note() and "90%" in clopper.note()
    assert "SEN (90% CI)" in clopper.formatted().columns


def test_p_adjust_against_R():
    """R: p.adjust(p, method) for holm, bonferroni and none (tests/reference/report_tables.R):
    ties, NA (stays NA; n counts the non-NA p-values), p-values reaching 1, zeros."""
    ref = pd.read_csv(REFERENCE / "p_adjust.csv")
    assert len(ref.groupby(["case", "method"])) == 27
    for (_, method), sub in ref.groupby(["case", "method"], sort=False):
        got = p_adjust(sub["p"].to_numpy(), method)
        assert_allclose(got, sub["adjusted"].to_numpy(), rtol=1e-15, atol=0)
        assert np.array_equal(np.isnan(got), sub["adjusted"].isna().to_numpy())
    assert p_adjust([], "holm").size == 0


def test_p_adjust_errors():
    with pytest.raises(InputError, match="holm"):
        p_adjust([0.1], "fdr")
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        p_adjust([0.1, 1.2])
    with pytest.raises(InputError, match="one-dimensional"):
        p_adjust([[0.1, 0.2]])
    with pytest.raises(InputError, match="p_adjust"):
        performance_table(_three_cohorts(), p_adjust="BH")


def test_delong_comparisons_adjust_within_each_cohort():
    cohorts = _three_cohorts()
    for _, models in cohorts.values():
        models["Third"] = (models["Clinical model"] + models["Nomogram"]) / 2
    raw = delong_comparisons(cohorts)
    holm = delong_comparisons(cohorts, p_adjust="holm")
    assert (raw["p_adjusted"] == raw["p_value"]).all() and (raw["p_adjust_method"] == "none").all()
    assert (holm["p_adjust_method"] == "holm").all()
    for _, sub in holm.groupby("cohort"):
        assert len(sub) == 3  # one family of 3 pairs per cohort
        assert_allclose(sub["p_adjusted"], p_adjust(sub["p_value"].to_numpy(), "holm"))
    ref = delong_comparisons(cohorts, reference="Nomogram", p_adjust="bonferroni")
    assert (ref["model_1"] == "Nomogram").all() and len(ref) == 6
    row = ref.iloc[0]
    y, models = cohorts[row["cohort"]]
    direct = delong_test(y, models["Nomogram"], models[row["model_2"]]).loc["delong"]
    assert_allclose(row["estimate"], direct["estimate"])
    assert_allclose(row["p_adjusted"], min(1.0, 2 * direct["p_value"]))
    tab = performance_table(cohorts, p_adjust="holm")
    pd.testing.assert_frame_equal(tab.comparisons, holm)


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


@pytest.mark.parametrize(
    "func",
    [
        lambda y, p: diagnostic_metrics(y, p, 0.5),
    ],
)
def test_nan_is_an_error_naming_the_row(func):
    with pytest.raises(InputError, match=r"non-finite value\(s\) at rows 2"):
        func([0, 1, 0, 1], [0.1, 0.5, np.nan, 0.7])


@pytest.mark.parametrize(
    "func",
    [
        lambda: diagnostic_metrics([0, 1, 0], [0.1, 0.2], 0.5),
    ],
)
def test_length_mismatch_is_an_error(func):
    with pytest.raises(InputError, match="length mismatch"):
        func()


def test_nan_threshold_is_an_error():
    y, p = [0, 1, 0, 1], [0.1, 0.5, 0.3, 0.4]
    with pytest.raises(InputError, match="`threshold` is NaN"):
        diagnostic_metrics(y, p, np.nan)


def test_summary_is_tidy_and_plot_draws_every_interval():
    import matplotlib.pyplot as plt

    tab = performance_table(_three_cohorts())
    s = tab.summary
    assert list(s.columns[:6]) == ["cohort", "model", "metric", "estimate", "ci_low", "ci_high"]
    assert len(s) == 6 * len(tab.performance)
    row = tab.performance.iloc[3]
    sub = s[(s["cohort"] == row["cohort"]) & (s["model"] == row["model"])].set_index("metric")
    assert list(sub.index) == ["auc", "accuracy", "sensitivity", "specificity", "ppv", "npv"]
    assert sub.loc["auc", "estimate"] == row["auc"]
    assert sub.loc["npv", "ci_high"] == row["npv_ci_high"]
    fig, ax = plt.subplots()
    assert tab.plot(ax=ax) is ax
    assert len(ax.containers) == 2  # one errorbar set per model
    assert [t.get_text() for t in ax.get_yticklabels()] == list(dict.fromkeys(s["cohort"]))
    with pytest.raises(InputError, match="`metric`"):
        tab.plot(metric="f1")
    plt.close(fig)


def test_notebook_view_shows_formatted_estimates_intervals_and_delong():
    # the notebook view of Table 3: readable headers, "estimate (low–high)" cells in the
    # package's number format, the cutoffs' origin and the DeLong tests with journal p-values
    tab = performance_table(_three_cohorts(), p_adjust="holm")
    html = tab._repr_html_()
    assert html.startswith('<div class="radiomics-aln"') and "<script" not in html
    assert "<th>AUC (95% CI)</th>" in html and "<th>SEN (95% CI)</th>" in html
    assert "auc_ci_low" not in html  # tidy column names stay out of the view
    row = tab.performance.set_index(["cohort", "model"]).loc[("External test", "Nomogram")]
    cell = f"{row['auc']:.3f} ({row['auc_ci_low']:.3f}\u2013{row['auc_ci_high']:.3f})"
    assert f"<td>{cell}</td>" in html
    assert f"<td>\u2265 {tab.thresholds['Nomogram']:.3f}</td>" in html
    assert "Youden index on the Training cohort" in html
    assert "<th>p (adj., Holm)</th>" in html and "DeLong" in html
    p = tab.comparisons.set_index("cohort").at["External test", "p_value"]
    assert f"<td>{format_p_value(p)}</td>" in html
    assert "e-0" not in html and "e+0" not in html  # never an exponent
    assert "Wilson" in html  # the note says which intervals these are


def test_notebook_view_names_a_non_default_level():
    tab = performance_table(_three_cohorts(), conf_level=0.9)
    html = tab._repr_html_()
    assert "AUC (90% CI)" in html and "AUC difference (90% CI)" in html
    assert "95%" not in html
