"""Tests of radiomics_aln.calibration, pinned to R (tests/reference/nomogram.R).

ResourceSelection is not installable here; nomogram.R re-implements hoslem.test (0.3-6) in plain
R, line for line, and stores its output.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose

from radiomics_aln.calibration import (
    calibration_curve,
    hosmer_lemeshow,
    le_cessie_van_houwelingen,
    plot_calibration,
    val_prob,
)
from radiomics_aln.design import design_matrix
from radiomics_aln.exceptions import InputError, SmallSampleWarning, StatisticalWarning
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.validation import (
    bootstrap_calibrate,
)

REF = Path(__file__).parent / "reference"


FULL = ["age", "lwt", "race", "smoke", "ptl", "ht", "ui"]


@pytest.fixture(scope="module")
def full_model(birthwt) -> LogisticNomogram:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return LogisticNomogram(reference_levels={"race": "white"}).fit(birthwt, "low", FULL)


def test_hosmer_lemeshow_against_R(birthwt, full_model):
    """R (hoslem.test algorithm in plain R): HL = 10.398, df = 8, p = 0.238 for
    glm(low ~ age + lwt + race + smoke + ptl + ht + ui, binomial, birthwt)."""
    ref = pd.read_csv(REF / "calibration_hoslem.csv").iloc[0]
    p = full_model.predict_proba(birthwt)[:, 1]
    hl = hosmer_lemeshow(birthwt["low"], p, n_groups=10)
    assert hl.statistic == pytest.approx(ref["statistic"], rel=1e-8)
    assert hl.df == ref["df"] == 8
    assert hl.p_value == pytest.approx(ref["p_value"], rel=1e-7)
    assert round(hl.statistic, 3) == 10.398 and round(hl.p_value, 3) == 0.238
    tab = pd.read_csv(REF / "calibration_hoslem_table.csv")
    assert hl.table["group"].tolist() == tab["group"].tolist()
    for col in ("observed_0", "observed_1", "expected_0", "expected_1"):
        assert_allclose(hl.table[col], tab[col], rtol=1e-7)
    assert hl.summary.loc["hosmer_lemeshow", "n_groups"] == 10


def test_hosmer_lemeshow_five_groups_against_R(birthwt, full_model):
    ref = pd.read_csv(REF / "calibration_hoslem_g5.csv").iloc[0]
    hl = hosmer_lemeshow(birthwt["low"], full_model.predict_proba(birthwt)[:, 1], n_groups=5)
    assert hl.statistic == pytest.approx(ref["statistic"], rel=1e-8)
    assert hl.df == 3 and hl.p_value == pytest.approx(ref["p_value"], rel=1e-7)


def test_hosmer_lemeshow_groups_equal_pandas_qcut():
    rng = np.random.default_rng(5)
    p = np.round(rng.beta(2, 5, 400), 2)  # many ties
    y = (rng.random(400) < p).astype(int)
    p = np.clip(p, 0.01, 0.99)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        hl = hosmer_lemeshow(y, p)
    codes = pd.qcut(p, 10, duplicates="drop").codes
    assert hl.table["n"].tolist() == np.bincount(codes).tolist()
    # tied predictions never straddle two groups
    for lo, hi in zip(hl.table["p_low"], hl.table["p_high"], strict=True):
        assert not ((p > lo) & (p < hi) & np.isin(p, [lo, hi])).any()


def test_hosmer_lemeshow_fewer_distinct_predictions_than_groups():
    rng = np.random.default_rng(0)
    p = np.repeat([0.1, 0.2, 0.3, 0.5, 0.7], 40)
    y = (rng.random(p.size) < p).astype(int)
    # df = g - 2 with the requested g, as ResourceSelection::hoslem.test (tests/test_parity_r.py)
    with pytest.warns(StatisticalWarning, match=r"5 groups were formed instead of 10.*df = 8"):
        hl = hosmer_lemeshow(y, p, n_groups=10)
    assert hl.n_groups == 5 and hl.df == 8 and hl.n_groups_requested == 10
    assert hl.note == "5 of 10 groups formed (tied predictions); df = 8 (requested groups - 2)"
    with pytest.warns(StatisticalWarning, match=r"df = 3 \(formed groups - 2\)"):
        formed = hosmer_lemeshow(y, p, n_groups=10, df="formed")
    assert formed.df == 3 and formed.statistic == hl.statistic
    from scipy.stats import chi2

    assert formed.p_value == pytest.approx(chi2.sf(hl.statistic, 3), rel=1e-12)
    with pytest.raises(InputError, match="only 2 group"):
        hosmer_lemeshow(y[:80], p[:80])
    # one distinct prediction (an intercept-only model): a clear error, not a numpy one
    with pytest.raises(InputError, match=r"only 1 group\(s\) could be formed from 1 distinct"):
        hosmer_lemeshow(y[:40], p[:40])


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.2, -0.1, np.nan])
def test_hosmer_lemeshow_rejects_probabilities_outside_open_interval(bad):
    p = np.linspace(0.1, 0.9, 50)
    p[7] = bad
    y = np.tile([0, 1], 25)
    with pytest.raises(InputError, match=r"rows 7"):
        hosmer_lemeshow(y, p)


def test_hosmer_lemeshow_bad_outcome_and_lengths():
    p = np.linspace(0.1, 0.9, 50)
    with pytest.raises(InputError, match="only 0 and 1"):
        hosmer_lemeshow(np.full(50, 2), p)
    with pytest.raises(InputError, match="length mismatch"):
        hosmer_lemeshow(np.tile([0, 1], 20), p)


def test_hosmer_lemeshow_drops_group_left_empty_by_interpolated_quantiles():
    # type-7 quantiles put breaks 0.34 < 0.5 < 0.66: (0.5, 0.66] holds no prediction, so
    # hoslem.test would divide 0 by 0; we drop the empty group and say how many were formed
    p = np.repeat([0.1, 0.5, 0.9], [40, 20, 40])
    y = np.concatenate([np.r_[1, 1, 1, 1, np.zeros(36)], np.r_[np.ones(10), np.zeros(10)],
                        np.r_[np.ones(36), 0, 0, 0, 0]])  # fmt: skip
    with pytest.warns(StatisticalWarning, match="3 groups were formed instead of 10"):
        hl = hosmer_lemeshow(y, p)
    assert hl.table["n"].tolist() == [40, 20, 40]
    assert np.isfinite(hl.statistic) and hl.df == 8 and hl.n_groups == 3


def test_le_cessie_van_houwelingen_against_rms(birthwt, full_model):
    """R: residuals(lrm(low ~ age + lwt + race + smoke + ptl + ht + ui, x = TRUE, y = TRUE),
    type = "gof")."""
    ref = pd.read_csv(REF / "calibration_lecessie.csv").iloc[0]
    p = full_model.predict_proba(birthwt)[:, 1]
    X = design_matrix(birthwt, full_model._terms)[:, 1:]
    res = le_cessie_van_houwelingen(birthwt["low"], p, X)
    # lrm converges to its own tolerance; agreement to ~1e-5 relative
    assert res.sse == pytest.approx(ref["sse"], rel=1e-6)
    assert res.expected == pytest.approx(ref["expected"], rel=1e-6)
    assert res.sd == pytest.approx(ref["sd"], rel=1e-5)
    assert res.z == pytest.approx(ref["z"], rel=1e-4)
    assert res.p_value == pytest.approx(ref["p_value"], rel=1e-4)


def test_le_cessie_without_design_uses_fixed_predictions():
    p = np.array([0.2, 0.4, 0.6, 0.8])
    y = np.array([0, 1, 0, 1])
    res = le_cessie_van_houwelingen(y, p)
    w, d = p * (1 - p), 1 - 2 * p
    assert res.sd == pytest.approx(np.sqrt(np.sum(w * d**2)))
    assert res.sse == pytest.approx(np.sum((y - p) ** 2))


def test_val_prob_against_rms():
    """R: val.prob(p, y, pl = FALSE) for a model fitted on odd rows of birthwt, applied to even."""
    data = pd.read_csv(REF / "calibration_valprob_input.csv")
    ref = pd.read_csv(REF / "calibration_valprob.csv").set_index("stat")["value"]
    ours = val_prob(data["y"], data["p"])
    pairs = {
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
    for r_name, name in pairs.items():
        assert ours[name] == pytest.approx(ref[r_name], rel=1e-6), name
    # val.prob's C/Dxy come from lrm.fit's binned computation; ours are exact = Hmisc::somers2
    s2 = pd.read_csv(REF / "calibration_somers2.csv").iloc[0]
    assert ours["c_index"] == pytest.approx(s2["c_index"], rel=1e-12)
    assert ours["dxy"] == pytest.approx(s2["dxy"], rel=1e-12)
    assert ours["c_index"] == pytest.approx(ref["C (ROC)"], abs=5e-4)


def test_calibration_in_the_large_is_offset_intercept():
    data = pd.read_csv(REF / "calibration_valprob_input.csv")
    off = np.log(data.p / (1 - data.p))
    glm = sm.GLM(data.y, np.ones((len(data), 1)), family=sm.families.Binomial(), offset=off).fit()
    assert val_prob(data.y, data.p)["calibration_in_the_large"] == pytest.approx(
        glm.params.iloc[0], rel=1e-8
    )


def test_calibration_curve_structure():
    data = pd.read_csv(REF / "calibration_valprob_input.csv")
    cc = calibration_curve(data.y, data.p, n_groups=5)
    g = cc.grouped
    assert list(g.columns) == [
        "group", "n", "mean_predicted", "observed_rate", "ci_low", "ci_high",
    ]  # fmt: skip
    assert g["n"].sum() == len(data)
    assert (g.ci_low <= g.observed_rate).all() and (g.observed_rate <= g.ci_high).all()
    assert len(cc.smooth) == len(data)
    assert cc.hosmer_lemeshow.n_groups == 5
    assert cc.stats["slope"] == pytest.approx(val_prob(data.y, data.p)["slope"])


def test_calibration_curve_with_too_few_groups_falls_back_to_distinct_values():
    p = np.repeat([0.2, 0.6], 50)
    y = np.r_[np.ones(10), np.zeros(40), np.ones(30), np.zeros(20)]
    cc = calibration_curve(y, p)
    assert cc.hosmer_lemeshow is None
    assert_allclose(cc.grouped["observed_rate"], [0.2, 0.6])
    assert cc.grouped["n"].tolist() == [50, 50]


def test_plot_calibration_legend_has_hl_p(birthwt, full_model):
    import matplotlib.pyplot as plt

    p = full_model.predict_proba(birthwt)[:, 1]
    fig, ax = plt.subplots()
    out = plot_calibration(birthwt["low"], p, ax=ax, label="Nomogram")
    assert out is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Ideal" in labels
    assert any("Nomogram (HL p = 0.238)" == s for s in labels)
    ax2 = calibration_curve(birthwt["low"], p).plot(ax=plt.subplots()[1])
    assert ax2.get_legend() is not None


def test_plot_calibration_with_bias_corrected_curve(birthwt, full_model):
    import matplotlib.pyplot as plt

    cal = bootstrap_calibrate(
        full_model, birthwt, "low", n_boot=2, random_state=0, repeat_selection=False
    )
    p = full_model.predict_proba(birthwt)[:, 1]
    ax = plot_calibration(birthwt["low"], p, ax=plt.subplots()[1], bias_corrected=cal)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Bias-corrected" in labels


def test_calibration_plot_shows_the_distribution_of_predicted_risks():
    # rms::val.prob's spike histogram: a strip under the curve, events up, non-events down
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    rng = np.random.default_rng(2)
    p = rng.beta(2, 5, 300)
    y = (rng.random(300) < p).astype(int)
    cc = calibration_curve(y, p)
    dist = cc.risk_distribution
    assert len(dist) == 100 and dist["bin_low"].iloc[1] == pytest.approx(0.01)
    assert dist["n_events"].sum() == y.sum() and dist["n_nonevents"].sum() == (1 - y).sum()
    i = int(np.floor(p[0] * 100))
    assert dist.loc[i, "n_events"] + dist.loc[i, "n_nonevents"] >= 1
    fig, ax = plt.subplots(figsize=(5, 5))
    cc.plot(ax=ax)
    spikes = [c for c in ax.collections if isinstance(c, LineCollection)]
    segs = [s for c in spikes for s in c.get_segments() if s[:, 1].max() < 0]  # not CI bars
    ups = [s for s in segs if s[1, 1] > s[0, 1]]
    downs = [s for s in segs if s[1, 1] < s[0, 1]]
    assert len(ups) == (dist["n_events"] > 0).sum()
    assert len(downs) == (dist["n_nonevents"] > 0).sum()
    # the strip lies under 0, clear of the probability scale; ticks stay 0 ... 1
    assert ax.get_ylim()[0] < -0.1
    assert ax.get_yticks().min() == 0
    fig.tight_layout()
    fig.canvas.draw()
    assert not ax.get_legend().get_window_extent().overlaps(ax.get_window_extent())
    plt.close(fig)


def test_plot_calibration_shows_groups_at_zero_and_one_whole():
    # groups observed at 0 % or 100 % sat on the axes' edge, their markers cut in half
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    p = np.clip(rng.beta(0.5, 0.5, 400), 1e-4, 1 - 1e-4)
    y = (rng.random(400) < p).astype(int)
    fig, ax = plt.subplots()
    assert plot_calibration(y, p, ax=ax) is ax
    lo, hi = ax.get_xlim()
    assert lo < 0 and hi > 1
    lo, hi = ax.get_ylim()
    assert lo < 0 and hi > 1


def test_calibration_legend_prints_small_hl_p_as_below_0001():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, 400)
    y = (rng.uniform(size=400) < p**3).astype(int)  # badly miscalibrated: HL p ~ 1e-30
    ax = plot_calibration(y, p, label="model")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("HL p < 0.001" in t for t in labels), labels


def test_result_objects_have_summary_and_plot(birthwt, full_model):
    import matplotlib.pyplot as plt

    y, p = birthwt["low"], full_model.predict_proba(birthwt)[:, 1]
    hl = hosmer_lemeshow(y, p)
    ax = hl.plot(ax=plt.subplots()[1])
    # one point per group, observed against expected events
    points = [line for line in ax.lines if line.get_label() == "Groups"][0]
    assert_allclose(points.get_xdata(), hl.table["expected_1"])
    assert_allclose(points.get_ydata(), hl.table["observed_1"])
    lc = le_cessie_van_houwelingen(y, p)
    assert list(lc.summary.columns) == ["sse", "expected", "sd", "z", "p_value"]
    assert lc.summary.at["le_cessie_van_houwelingen", "z"] == lc.z
    ax = lc.plot(ax=plt.subplots()[1])
    assert_allclose(ax.lines[0].get_ydata(), (y - p) ** 2)
    cc = calibration_curve(y, p)
    row = cc.summary.loc["calibration"]
    assert row["slope"] == cc.stats["slope"] and row["hl_p_value"] == hl.p_value
    assert cc.plot(ax=plt.subplots()[1]).get_legend() is not None
    plt.close("all")
