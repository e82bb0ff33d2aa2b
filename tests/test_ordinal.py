"""Proportional-odds model, Brant test, ordinal C and the ordinal nomogram against R.

Reference values: tests/reference/ordinal.R (rms 6.5 lrm with eps = 1e-12, MASS polr,
ordinal clm, a hand-built Brant 1990 test with glm, Hmisc rcorr.cens, rms nomogram).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from radiomics_aln.exceptions import ConvergenceError, InputError
from radiomics_aln.ordinal import (
    OrdinalNomogram,
    brant_test,
    check_ordinal,
    fit_ordinal,
    ordinal_c,
)

REF = Path(__file__).parent / "reference"
SIM = pd.read_csv(REF / "ordinal_sim.csv")
WB = pd.read_csv(REF / "ordinal_warpbreaks.csv")
COEF = pd.read_csv(REF / "ordinal_coef.csv")
STATS = pd.read_csv(REF / "ordinal_stats.csv").set_index("model")
BRANT = pd.read_csv(REF / "ordinal_brant.csv")

CASES = {
    # model name in the R output: (data, outcome, predictors)
    "sim": (SIM, "y", ["x1", "x2", "grp"]),
    "sim_npo": (SIM, "y_npo", ["x1", "x2"]),
    "warpbreaks": (WB, "tension", ["breaks", "wool"]),
}


def _fit(model: str) -> OrdinalNomogram:
    data, y, preds = CASES[model]
    return OrdinalNomogram(preds).fit(data, y)


@pytest.mark.parametrize("model", list(CASES))
def test_fit_against_R_lrm_and_clm(model):
    """R: lrm(y ~ ..., eps = 1e-12); clm(ordered(y) ~ ..., gradTol = 1e-12)."""
    m = _fit(model)
    ref = COEF[COEF["model"] == model]
    np.testing.assert_allclose(m.fit_.coef, ref["estimate"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(m.fit_.se, ref["se"], rtol=1e-8)
    np.testing.assert_allclose(m.fit_.coef, ref["clm_estimate"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(m.fit_.se, ref["clm_se"], rtol=1e-8)
    np.testing.assert_allclose(m.fit_.loglik, STATS.loc[model, "loglik"], rtol=1e-10)
    np.testing.assert_allclose(m.fit_.lr_chi2, STATS.loc[model, "lr_chi2"], rtol=1e-8)
    np.testing.assert_allclose(-2 * m.fit_.loglik_null, STATS.loc[model, "deviance_null"],
                               rtol=1e-10)  # fmt: skip


@pytest.mark.parametrize("model", list(CASES))
def test_polr_convention(model):
    """MASS::polr writes zeta = -alpha with the same slopes; its BFGS fit and numerical
    Hessian agree with lrm to ~1e-8 (estimates) and ~5e-4 (SEs) only."""
    m = _fit(model)
    ref = COEF[COEF["model"] == model]
    k = m.fit_.alpha.size
    polr_zeta = -ref["polr_estimate"].to_numpy()[:k]
    np.testing.assert_allclose(m.fit_.zeta, polr_zeta, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(m.fit_.beta, ref["polr_estimate"].to_numpy()[k:], rtol=2e-7)
    np.testing.assert_allclose(m.fit_.se, ref["polr_se"], rtol=5e-4)
    np.testing.assert_allclose(m.fit_.loglik, STATS.loc[model, "polr_loglik"], rtol=1e-12)


def test_vcov_against_R():
    m = _fit("sim")
    vc = pd.read_csv(REF / "ordinal_vcov_sim.csv")
    k = int(np.sqrt(len(vc)))
    np.testing.assert_allclose(m.fit_.cov, vc["value"].to_numpy().reshape(k, k).T, rtol=1e-7,
                               atol=1e-12)  # fmt: skip


@pytest.mark.parametrize("model", list(CASES))
def test_brant_against_hand_built_R(model):
    m = _fit(model)
    got = m.brant_test()
    ref = BRANT[BRANT["model"] == model]
    np.testing.assert_allclose(got["chi2"], ref["chi2"], rtol=1e-7)
    np.testing.assert_array_equal(got["df"], ref["df"])
    np.testing.assert_allclose(got["p_value"], ref["p_value"], rtol=1e-6)
    assert got["term"].iloc[0] == "omnibus"


def test_brant_detects_non_proportional_odds():
    got = _fit("sim_npo").brant_test().set_index("term")
    assert got.loc["x1", "p_value"] < 1e-10
    assert got.loc["x2", "p_value"] > 0.5


@pytest.mark.parametrize("model", list(CASES))
def test_ordinal_c_against_R(model):
    """Hmisc::rcorr.cens(lp, y) exactly; rms lrm's C (binned) to 1e-4."""
    m = _fit(model)
    data, y, _ = CASES[model]
    got = ordinal_c(data[y], m.linear_predictor(data))
    np.testing.assert_allclose(got["c_index"], STATS.loc[model, "c_exact"], rtol=1e-12)
    np.testing.assert_allclose(got["dxy"], STATS.loc[model, "dxy_exact"], rtol=1e-12)
    assert abs(got["c_index"] - STATS.loc[model, "c_lrm"]) < 1e-4


def test_ordinal_c_by_hand():
    # pairs with different y: (0,1): .1<.3 yes, .4>.3 no; (0,2): .1<.8, .4<.8 yes; .1<.2 yes,
    # .4>.2 no; (1,2): .3<.8 yes, .3>.2 no -> 5 of 8
    got = ordinal_c([0, 0, 1, 2, 2], [0.1, 0.4, 0.3, 0.8, 0.2])
    assert got["c_index"] == pytest.approx(5 / 8)


def test_nomogram_points_against_rms():
    """R: nomogram(lrm, fun = list(plogis, function(x) plogis(x - a1 + a2)), fun.at = ...)."""
    m = _fit("sim")
    ref = pd.read_csv(REF / "ordinal_nomogram.csv")
    assert m.points_scale_ == pytest.approx(ref["sc"].iloc[0], rel=1e-10)
    assert m.points_intercept_ == pytest.approx(ref["intercept"].iloc[0], rel=1e-10)
    pts = m.points_table()
    for name in ["x1", "x2", "grp"]:
        r = ref[ref["axis"] == name]
        g = pts[pts["predictor"] == name]
        assert [str(v) for v in g["value"]] == [
            v if name == "grp" else str(float(v)) for v in r["value"].astype(str)
        ]
        np.testing.assert_allclose(g["points"], r["points"], rtol=1e-10, atol=1e-10)
    # total points of a patient = sum of the axis points
    tp = m.points(SIM.head(3))
    lp = m.fit_.alpha[0] + m.linear_predictor(SIM.head(3))
    np.testing.assert_allclose(tp, (lp - ref["intercept"].iloc[0]) * ref["sc"].iloc[0])
    # exceedance axes: rms interpolates plogis on a grid; exact positions agree to 1e-3 points
    axes = m.probability_axes([0.1, 0.3, 0.5, 0.7, 0.9])
    r1 = ref[ref["axis"] == "P(Y>=1)"]
    np.testing.assert_allclose(axes[axes["split"] == "P(1 or higher)"]["total_points"], r1["points"],
                               atol=1e-3)  # fmt: skip
    axes2 = m.probability_axes([0.05, 0.1, 0.3, 0.5, 0.7])
    r2 = ref[ref["axis"] == "P(Y>=2)"]
    np.testing.assert_allclose(axes2[axes2["split"] == "P(2)"]["total_points"],
                               r2["points"], atol=1e-3)  # fmt: skip


def test_exceedance_and_class_probabilities_consistent():
    m = _fit("sim")
    ex = m.exceedance(SIM).to_numpy()
    pr = m.predict_proba(SIM)
    np.testing.assert_allclose(pr.sum(axis=1), 1.0)
    np.testing.assert_allclose(ex[:, 0], pr[:, 1] + pr[:, 2])
    np.testing.assert_allclose(ex[:, 1], pr[:, 2])
    assert np.all(ex[:, 0] >= ex[:, 1])


def test_plot_draws_both_split_axes():
    m = OrdinalNomogram(["x1", "x2", "grp"], level_names=["N0", "N1-2", "N>=3"]).fit(SIM, "y")
    fig, ax = plt.subplots(figsize=(8, 5))
    m.plot(ax)
    texts = {t.get_text() for t in ax.texts}
    assert {"P(N1-2 or higher)", "P(N>=3)", "Total Points", "Points"} <= texts
    plt.close(fig)
    assert list(m.summary["term"][:2]) == ["y>=N1-2", "y>=N>=3"]


@pytest.mark.parametrize(
    ("y", "match"),
    [
        ([0, 1, 1, 0, 1, 0], "at least 3"),
        ([0, 2, 2, 0, 2, 0], r"no patients at level\(s\) 1"),
        ([0, 1.5, 2, 0, 1, 2], "integer codes"),
        ([0, 1, 2, np.nan, 1, 2], "missing"),
        ([0, -1, 2, 0, 1, 2], "integer codes"),
    ],
)
def test_bad_outcome(y, match):
    with pytest.raises(InputError, match=match):
        check_ordinal(y)


def test_bad_design_and_separation():
    y = np.array([0, 0, 1, 1, 2, 2, 0, 1, 2])
    with pytest.raises(InputError, match="rank deficient"):
        fit_ordinal(np.ones((9, 1)), y)
    with pytest.raises(InputError, match="rows"):
        fit_ordinal(np.ones((8, 1)), y)
    with pytest.raises(ConvergenceError):
        fit_ordinal(y[:, None].astype(float) * 10, y)
    with pytest.raises(InputError, match="not in data"):
        OrdinalNomogram().fit(SIM, "nope")


def test_brant_by_hand_small_matches_separate_fits():
    """With K = 3 the omnibus statistic compares the two split slopes of a single predictor."""
    got = brant_test(SIM[["x1"]].to_numpy(), SIM["y_npo"], columns=["x1"])
    assert got.loc[0, "chi2"] == pytest.approx(got.loc[1, "chi2"])


def test_json_round_trip(tmp_path):
    m = OrdinalNomogram(["x1", "x2", "grp"], level_names=["N0", "N1-2", "N>=3"]).fit(SIM, "y")
    path = tmp_path / "ordinal.json"
    m.to_json(path)
    back = OrdinalNomogram.from_json(path)
    pd.testing.assert_frame_equal(back.exceedance(SIM), m.exceedance(SIM))
    pd.testing.assert_frame_equal(back.points_table(), m.points_table())
    pd.testing.assert_frame_equal(back.summary, m.summary)
    np.testing.assert_array_equal(back.points(SIM), m.points(SIM))
    with pytest.raises(InputError, match="no training data"):
        back.brant_test()
    doc = path.read_text().replace('"points_scale"', '"points_scal"')
    with pytest.raises(InputError, match="points_scal"):
        OrdinalNomogram.from_json(doc)
