"""Tests of radiomics_aln._plotting: the model palette is colour-blind safe, a model keeps its
colour across figures, legends stay outside the plotting area.

The colour science is written out here (sRGB -> CIELAB, CIEDE2000, Machado's simulation of
colour-vision deficiency), each piece pinned to its defining publication:

- CIEDE2000: Sharma G, Wu W, Dalal EN. The CIEDE2000 color-difference formula: implementation
  notes, supplementary test data, and mathematical observations. Color Res Appl 2005;30:21-30
  (Table 1 test pairs).
- sRGB: IEC 61966-2-1:1999 (transfer function, D65 matrix); CIELAB: CIE 15:2004.
- Dichromacy: Machado GM, Oliveira MM, Fernandes LAF. A physiologically-based model for
  simulation of color vision deficiency. IEEE Trans Vis Comput Graph 2009;15:1291-8 (the
  severity-1.0 protanomaly and deuteranomaly matrices, applied to linear RGB).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from radiomics_aln._plotting import (
    MODEL_COLOURS,
    MODEL_LINESTYLES,
    REFERENCE_STYLE,
    RISK_COLOURS,
    TREAT_ALL_STYLE,
    legend_below,
    model_styles,
    resolve_styles,
)

# --------------------------------------------------------------------------- colour science

_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375],
     [0.2126729, 0.7151522, 0.0721750],
     [0.0193339, 0.1191920, 0.9503041]]
)  # fmt: skip
# Machado et al. 2009, severity 1.0
PROTAN = np.array(
    [[0.152286, 1.052583, -0.204868],
     [0.114503, 0.786281, 0.099216],
     [-0.003882, -0.048116, 1.051998]]
)  # fmt: skip
DEUTAN = np.array(
    [[0.367322, 0.860646, -0.227968],
     [0.280085, 0.672501, 0.047413],
     [-0.011820, 0.042940, 0.968881]]
)  # fmt: skip


def _hex(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def _linear(c):
    c = np.asarray(c, dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _gamma(c):
    c = np.clip(c, 0, 1)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def _lab(srgb) -> np.ndarray:
    xyz = _RGB_TO_XYZ @ _linear(srgb) / (_RGB_TO_XYZ @ np.ones(3))  # D65 white
    d = 6 / 29
    f = np.where(xyz > d**3, np.cbrt(xyz), xyz / (3 * d**2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _simulate(srgb, matrix) -> np.ndarray:
    return _gamma(matrix @ _linear(srgb))


def delta_e2000(lab1, lab2) -> float:
    """CIEDE2000 (kL = kC = kH = 1), following Sharma et al. 2005, eq. 1-15."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360 if c2p else 0.0
    dl, dc = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        dh = 0.0
    else:
        dh = h2p - h1p
        dh = dh - 360 if dh > 180 else dh + 360 if dh < -180 else dh
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_bar, cp_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + (360 if h1p + h2p < 360 else -360)) / 2
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))  # fmt: skip
    d_theta = 30 * np.exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * cp_bar, 1 + 0.015 * cp_bar * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    return float(np.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (dhh / s_h) ** 2
                         + r_t * (dc / s_c) * (dhh / s_h)))  # fmt: skip


def colour_difference(c1: str, c2: str, vision: str = "normal") -> float:
    """CIEDE2000 between two sRGB colours as seen with ``vision``."""
    a, b = _hex(c1), _hex(c2)
    if vision != "normal":
        m = {"protanopia": PROTAN, "deuteranopia": DEUTAN}[vision]
        a, b = _simulate(a, m), _simulate(b, m)
    return delta_e2000(_lab(a), _lab(b))


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [  # Sharma, Wu & Dalal 2005, Table 1 (pairs 1, 4, 7, 13, 17, 18, 19, 20, 25, 34)
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.4900, -0.0010), (50.0, -2.4900, 0.0009), 7.1792),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
        ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
        ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
    ],
)
def test_ciede2000_against_sharma_2005(lab1, lab2, expected):
    assert delta_e2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert delta_e2000(lab2, lab1) == pytest.approx(expected, abs=1e-4)


def test_lab_of_srgb_primaries():
    # CIE 15:2004 with the sRGB D65 matrix: the values every colour calculator prints
    np.testing.assert_allclose(_lab(_hex("#FF0000")), [53.24, 80.09, 67.20], atol=0.01)
    np.testing.assert_allclose(_lab(_hex("#0000FF")), [32.30, 79.19, -107.86], atol=0.01)
    np.testing.assert_allclose(_lab(_hex("#FFFFFF")), [100, 0, 0], atol=1e-6)


def test_machado_simulation_makes_red_and_green_alike():
    # the point of the simulation: ColorBrewer's red and green, far apart in normal vision,
    # come close for a deuteranope (and lose most of their difference for a protanope, who
    # still sees red darker); blue and orange (the classic safe pair) stay apart
    red, green = "#E41A1C", "#4DAF4A"
    assert colour_difference(red, green) > 70
    assert colour_difference(red, green, "deuteranopia") < 12
    assert colour_difference(red, green, "protanopia") < 0.45 * colour_difference(red, green)
    for vision in ("protanopia", "deuteranopia"):
        assert colour_difference("#0072B2", "#E69F00", vision) > 50


# --------------------------------------------------------------------------- the palette


@pytest.mark.parametrize("vision", ["normal", "protanopia", "deuteranopia"])
def test_first_four_model_colours_differ_by_20_in_every_vision(vision):
    # a study draws up to 4 models on most figures (clinical, combined and two scores); these
    # stay >= 20 CIEDE2000 apart also for a protanope or deuteranope
    for a, b in itertools.combinations(MODEL_COLOURS[:4], 2):
        assert colour_difference(a, b, vision) >= 20, (a, b, vision)


def test_all_model_colours_differ_by_20_in_normal_vision():
    for a, b in itertools.combinations(MODEL_COLOURS, 2):
        assert colour_difference(a, b) >= 20, (a, b)
    # the old palette put orange (#E69F00) and vermillion (#D55E00) side by side
    assert colour_difference("#E69F00", "#D55E00", "deuteranopia") < 13


def test_models_close_in_colour_differ_in_line_style():
    # beyond four models colour alone is not enough for a dichromat (or in greyscale print):
    # every model slot has its own line style, and none is the reference lines' dash
    styles = [str(s) for s in MODEL_LINESTYLES]
    assert len(set(styles)) == len(MODEL_COLOURS) == len(MODEL_LINESTYLES)
    assert str(REFERENCE_STYLE["linestyle"]) not in styles[1:]


def test_reference_lines_are_grey_and_risk_colours_are_safe():
    for style in (REFERENCE_STYLE, TREAT_ALL_STYLE):
        r, g, b = _hex(style["color"])
        assert r == g == b  # neutral grey
        for colour in MODEL_COLOURS[1:4]:  # chromatic model colours
            assert colour_difference(style["color"], colour) >= 20
    for vision in ("normal", "protanopia", "deuteranopia"):
        assert colour_difference(RISK_COLOURS["low"], RISK_COLOURS["high"], vision) >= 40


def test_model_styles_by_name_and_resolution():
    styles = model_styles(["Clinical-radiomics model", "Clinical model", "LN score"])
    assert [s["color"] for s in styles.values()] == list(MODEL_COLOURS[:3])
    # a figure showing a subset of models gets their own styles, not the subset's positions
    sub = resolve_styles(["Clinical model"], styles)
    assert sub["Clinical model"] == styles["Clinical model"]
    # models missing from the mapping take unused slots
    more = resolve_styles(["Clinical model", "New model"], {"Clinical model": styles["Clinical model"]})
    assert more["New model"]["color"] not in {styles["Clinical model"]["color"]}


# --------------------------------------------------------------------------- legends


@pytest.mark.parametrize("figsize", [(4, 3), (8, 6)])
def test_legend_below_is_outside_the_axes_and_its_labels(figsize):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    for k in range(5):
        ax.plot([0, 1], [0, k / 4], label=f"model {k}")
    ax.set_xlabel("Threshold probability")
    leg = legend_below(ax, ncol=2)
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = leg.get_window_extent(renderer)
    assert box.y1 <= ax.bbox.y0  # below the plotting area
    assert box.y1 <= ax.xaxis.label.get_window_extent(renderer).y0  # and its axis label
    plt.close(fig)
