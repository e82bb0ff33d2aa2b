"""Tests of radiomics_aln.nomogram_plot: R's pretty (values printed by R 4.2.2) and the layout
of the nomogram's labels.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from radiomics_aln.exceptions import (
    SmallSampleWarning,
)
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.nomogram_plot import r_pretty

FULL = ["age", "lwt", "race", "smoke", "ptl", "ht", "ui"]


WHITE = {"race": "white"}


def _fit(data, predictors, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return LogisticNomogram(reference_levels=WHITE, **kw).fit(data, "low", predictors)


def test_r_pretty_against_R():
    """Values printed by R 4.2.2: pretty(c(lo, hi), n)."""
    assert r_pretty(80, 250, 10).tolist() == list(range(80, 261, 20))
    assert r_pretty(14, 45, 10).tolist() == list(range(10, 46, 5))
    assert r_pretty(0, 146.1, 10).tolist() == list(range(0, 161, 20))
    assert_allclose(r_pretty(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert_allclose(r_pretty(-3.1, 0.43, 10), np.arange(-3.5, 0.51, 0.5))


def test_plot_nomogram(birthwt):
    import matplotlib.pyplot as plt

    nomo = _fit(birthwt, ["lwt", "race", "smoke"])
    fig, ax = plt.subplots()
    out = nomo.plot_nomogram(ax=ax, probabilities=[0.1, 0.3, 0.5], show_lp=True)
    assert out is ax
    texts = {t.get_text() for t in ax.texts}
    assert {"Points", "lwt", "race", "smoke", "Total Points", "Risk", "white", "black"} <= texts
    assert {"0.1", "0.3", "0.5"} <= texts


def _label_boxes(ax):
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts if t.get_text()]


@pytest.mark.parametrize("figsize", [(8, 5), (5, 3.5)])
def test_plot_nomogram_labels_do_not_overlap_on_compressed_risk_axis(figsize):
    # a wide linear-predictor range compresses the risk axis into a few millimetres; rms (via
    # R's axis()) drops labels that would collide; so must we, keeping every tick position
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(1)
    n = 300
    df = pd.DataFrame(
        {
            "score": rng.normal(0, 1.6, n),
            "ln": rng.normal(0, 1.4, n),
            "age": rng.uniform(28, 80, n).round(),
            "status": rng.choice(["negative", "suspicious"], n),
        }
    )
    lp = -0.5 + 1.6 * df.score + 1.5 * df.ln + 1.2 * (df.status == "suspicious")
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    nomo = LogisticNomogram().fit(df, "y", ["score", "ln", "age", "status"])
    tab = nomo.total_points_table()
    probs = tab[tab.axis == "probability"]
    assert len(probs) >= 9  # the crowded case: 0.1 ... 0.9 within a short axis
    fig, ax = plt.subplots(figsize=figsize)
    # rms' layout (risk_range=None): the risk axis compressed under the 0 .. max total points
    assert nomo.plot_nomogram(ax=ax, risk_label="Risk of ALN metastasis", risk_range=None) is ax
    boxes = _label_boxes(ax)
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1 :]:
            assert not a.overlaps(b), f"labels {ta!r} and {tb!r} overlap"
    texts = {t for t, _ in boxes}
    assert {"negative", "suspicious"} <= texts  # levels are never dropped
    shown = [float(t) for t in texts & {f"{v:g}" for v in probs["value"]}]
    assert len(shown) >= 2  # the risk axis stays readable
    # the numbers are unchanged: each shown probability sits at its tick's exact position
    shrink = float(nomo.maxscale) / float(tab.loc[tab.axis == "total_points", "value"].max())
    labels = [f"{v:g}" for v in probs["value"]]
    where = dict(zip(labels, probs["total_points"] * shrink, strict=True))
    risk_y = min(t.get_position()[1] for t in ax.texts if t.get_text() in where) // 1
    for t in ax.texts:
        x, yv = t.get_position()
        if t.get_text() in where and yv // 1 == risk_y:
            assert x == pytest.approx(where[t.get_text()], abs=1e-9)
    ticks = {round(float(line.get_xdata()[0]), 9) for line in ax.lines}
    assert {round(float(where[t]), 9) for t in map(str, shown)} <= ticks
    # nothing is drawn outside the axes (row names used to spill left of it)
    ax_box = ax.get_window_extent(fig.canvas.get_renderer())
    assert min(b.x0 for _, b in boxes) >= ax_box.x0 - 1


def _demo_like_nomogram():
    """A model like the study's clinical-radiomics nomogram: margin and three scores."""
    rng = np.random.default_rng(7)
    n = 130
    df = pd.DataFrame(
        {
            "margin": rng.choice(["smooth", "irregular"], n, p=[0.6, 0.4]),
            "tumor_score": rng.normal(-0.4, 0.6, n),
            "peritumoral_score": rng.normal(-0.5, 0.3, n),
            "ln_score": rng.normal(-0.8, 0.6, n),
        }
    )
    lp = (-0.4 + 0.6 * (df.margin == "irregular") + 1.2 * df.tumor_score
          + 2.0 * df.peritumoral_score + 1.5 * df.ln_score + 1.3)  # fmt: skip
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return LogisticNomogram(reference_levels={"margin": "smooth"}).fit(
            df, "y", list(df.columns[:4])
        )


def _risk_row(ax):
    """Labelled risk ticks {text: x} of the bottom row and the row's x extent."""
    row_y = min(t.get_position()[1] for t in ax.texts)  # the row names sit at the row's height
    name = next(t for t in ax.texts if t.get_position()[1] == row_y and t.get_ha() == "right")
    labels = {t.get_text(): t.get_position()[0] for t in ax.texts
              if t is not name and abs(t.get_position()[1] - row_y) < 0.5}  # fmt: skip
    line = [ln for ln in ax.lines if np.allclose(ln.get_ydata(), row_y) and len(ln.get_xdata()) == 2
            and ln.get_xdata()[0] != ln.get_xdata()[1]]  # fmt: skip
    return name.get_text(), labels, line


@pytest.mark.parametrize("figsize", [(10, 6), (7, 5)])
def test_nomogram_risk_axis_is_readable(figsize):
    # issue 15: the risk axis spanned 0.1-0.9 over ~19 of 160 points with 3 labels; now the
    # Total Points and risk rows cover the total points of risks 0.02-0.98, stretched to
    # the full width, with ticks every 0.1 (+0.05 / 0.95 at the ends) and minor ticks between
    import matplotlib.pyplot as plt

    nomo = _demo_like_nomogram()
    fig, ax = plt.subplots(figsize=figsize)
    nomo.plot_nomogram(ax=ax, risk_label="Risk of ALN metastasis")
    name, labels, _ = _risk_row(ax)
    assert name == "Risk of ALN metastasis"
    assert len(labels) >= 7, labels
    # 0.1 to 0.9 spans at least half of the Points axis' width (0-100)
    pos = {float(k): v for k, v in labels.items()}
    assert {0.1, 0.5, 0.9} <= set(pos)
    assert pos[0.9] - pos[0.1] >= 0.5 * nomo.maxscale
    assert 0 <= min(pos.values()) and max(pos.values()) <= nomo.maxscale + 1e-9
    boxes = _label_boxes(ax)
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1 :]:
            assert not a.overlaps(b), f"labels {ta!r} and {tb!r} overlap"
    # the rms layout of the same model: the old, compressed axis
    fig2, ax2 = plt.subplots(figsize=figsize)
    nomo.plot_nomogram(ax=ax2, risk_range=None)
    _, old, _ = _risk_row(ax2)
    old_pos = {float(k): v for k, v in old.items()}
    assert max(old_pos.values()) - min(old_pos.values()) < 0.5 * nomo.maxscale
    plt.close("all")


def test_nomogram_risk_ticks_sit_at_their_exact_total_points():
    # the rescaled rows change the drawing, not the numbers: a probability's tick is where its
    # total points are on the Total Points row drawn above it
    import matplotlib.pyplot as plt

    from radiomics_aln.nomogram_plot import risk_rows

    nomo = _demo_like_nomogram()
    total_max = sum(max(a["points"]) for a in nomo._axes.values())
    rows, minor, _, to_x = risk_rows(points_scale=nomo.points_scale_,
                                  points_intercept=nomo.points_intercept_, total_max=total_max,
                                  maxscale=100, nint=10, risk_range=(0.02, 0.98))  # fmt: skip
    (_, tx, tv), (_, rx, rv) = rows
    # total points of each risk, by the model's own inverse (probability -> points)
    expected = to_x(nomo.probability_to_points(np.asarray(rv)))
    assert_allclose(rx, expected, atol=1e-9)
    assert_allclose(tx, to_x(np.asarray(tv)), atol=1e-12)
    assert tx[0] == pytest.approx(0) and tx[-1] == pytest.approx(100)
    assert rv[0] >= 0.02 and rv[-1] <= 0.98 and {0.1, 0.5, 0.9} <= set(rv)
    # minor ticks every 0.05 between 0.1 and 0.9, for reading a risk to +-0.05
    assert len(minor[1]) >= 6
    fig, ax = plt.subplots(figsize=(10, 6))
    nomo.plot_nomogram(ax=ax)
    plt.close(fig)


def test_nomogram_level_labels_replace_level_names(birthwt):
    import matplotlib.pyplot as plt

    nomo = _fit(birthwt, ["lwt", "race", "smoke"])
    fig, ax = plt.subplots(figsize=(8, 5))
    nomo.plot_nomogram(ax=ax, labels={"lwt": "Mother's weight (lb)"},
                       level_labels={"race": {"white": "White", "black": "Black"}})  # fmt: skip
    texts = {t.get_text() for t in ax.texts}
    assert {"Mother's weight (lb)", "White", "Black", "other"} <= texts
    assert "white" not in texts and "lwt" not in texts
    plt.close(fig)


def test_plot_nomogram_on_a_vector_backend_canvas(birthwt, tmp_path):
    # label widths are measured with the figure's renderer; svg/pdf canvases have none of
    # their own (get_renderer is Agg's)
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    nomo = _fit(birthwt, ["lwt", "race", "smoke"])
    fig = Figure(figsize=(7, 4))
    FigureCanvasSVG(fig)
    ax = fig.add_subplot()
    assert nomo.plot_nomogram(ax=ax) is ax
    fig.savefig(tmp_path / "nomogram.svg")
    assert (tmp_path / "nomogram.svg").stat().st_size > 1000


def test_plot_nomogram_crowded_levels_are_all_named_without_overlap():
    # four BI-RADS levels within ~4 points: alternating sides is not enough; every level must
    # still be named (rms' axis() would drop some), so labels move aside on leader lines
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(5)
    n = 400
    df = pd.DataFrame(
        {
            "birads": rng.choice(["4a", "4b", "4c", "5"], n),
            "lnscore": rng.normal(0, 1, n),
            "age": rng.uniform(25, 85, n).round(),
        }
    )
    lp = (
        -1
        + 0.15 * (df.birads == "4b")
        + 0.3 * (df.birads == "4c")
        + 0.35 * (df.birads == "5")
        + 2.5 * df.lnscore
        - 0.02 * (df.age - 55)
    )
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    nomo = LogisticNomogram(reference_levels={"birads": "4a"}).fit(
        df, "y", ["birads", "lnscore", "age"]
    )
    fig, ax = plt.subplots(figsize=(4, 3))
    nomo.plot_nomogram(ax=ax)
    boxes = _label_boxes(ax)
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1 :]:
            assert not a.overlaps(b), f"labels {ta!r} and {tb!r} overlap"
    assert {"4a", "4b", "4c", "5"} <= {t for t, _ in boxes}
    # each moved label is joined to its own tick: the leader starts at the level's points
    pts = dict(zip(nomo._axes["birads"]["values"], nomo._axes["birads"]["points"], strict=True))
    y_row = next(t.get_position()[1] for t in ax.texts if t.get_text() == "birads")
    for t in ax.texts:
        if t.get_text() in pts and t.get_position()[0] != pytest.approx(pts[t.get_text()]):
            starts = [
                ln.get_xdata()[0]
                for ln in ax.lines
                if len(ln.get_xdata()) == 2
                and ln.get_xdata()[1] == pytest.approx(t.get_position()[0])
                and ln.get_ydata()[0] > y_row
            ]
            assert any(s == pytest.approx(pts[t.get_text()]) for s in starts), t.get_text()


def test_label_thinning_prefers_one_row_of_round_labels():
    from radiomics_aln.nomogram_plot import _label_sides

    probs = np.arange(1, 10) / 10
    xs = np.log(probs / (1 - probs)) * 2.0  # a compressed logit-spaced risk axis
    texts = [f"{p:g}" for p in probs]
    widths = np.full(9, 2.0)
    sides, at = _label_sides(xs, widths, 0.3, False, texts)
    shown = [t for t, s in zip(texts, sides, strict=True) if s]
    assert shown == ["0.1", "0.5", "0.9"] and {s for s in sides if s} == {"above"}
    assert np.array_equal(at, xs)  # numeric labels are never moved off their ticks
    # an evenly spaced axis with room for every other label: one row, every other label
    xs = np.arange(11) * 2.0
    sides, _ = _label_sides(xs, np.full(11, 2.5), 0.3, False, [str(v) for v in range(0, 110, 10)])
    assert sides == ["above", None] * 5 + ["above"]
    # nothing collides: all labels above
    sides, _ = _label_sides(xs, np.full(11, 1.0), 0.3, False, [str(v) for v in range(11)])
    assert sides == ["above"] * 11
