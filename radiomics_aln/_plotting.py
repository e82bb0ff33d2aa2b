"""The one palette and the axes helpers every figure of the package uses.

Matplotlib is imported only when a figure is drawn, so importing a statistics module stays cheap.

Models (curves of ROC, calibration and decision figures) take their colour and line style from
:data:`MODEL_COLOURS` and :data:`MODEL_LINESTYLES` by position: :func:`model_styles` gives each
model name one style, and a figure that receives that mapping draws a model the same way as
every other figure that received it (the study builds one mapping for all its figures).
Reference lines (chance diagonal, ideal calibration, treat all / treat none) are grey
(:data:`REFERENCE_STYLE`, :data:`TREAT_ALL_STYLE`), never a model colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "MODEL_COLOURS",
    "MODEL_LINESTYLES",
    "OKABE_ITO",
    "REFERENCE_STYLE",
    "RISK_COLOURS",
    "ROI_COLOURS",
    "TREAT_ALL_STYLE",
    "get_ax",
    "get_renderer",
    "legend_below",
    "line_style",
    "model_styles",
    "resolve_styles",
    "series_colour",
]

#: Okabe & Ito's palette (Okabe & Ito 2008, "Color Universal Design"): blue, vermillion, bluish
#: green, reddish purple, orange, sky blue, black.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
)

#: Model colours in the order they are handed out: Okabe-Ito's black, vermillion, blue, sky
#: blue, bluish green, reddish purple, orange. The order maximises the smallest CIEDE2000
#: difference among the first k colours in normal vision and simulated protanopia and
#: deuteranopia (Machado et al. 2009): the first four differ by >= 20 in all three, all seven by
#: >= 22 in normal vision (tests/test_plotting.py). Okabe-Ito's yellow is left out: a thin
#: yellow line on white is barely visible (contrast 1.3:1). Orange comes last: it is the
#: vermillion's near twin (Delta E 12 under deuteranopia). Beyond the fourth model the line
#: style (:data:`MODEL_LINESTYLES`) tells models apart under colour-vision deficiency and in
#: greyscale print.
MODEL_COLOURS: tuple[str, ...] = (
    "#000000",
    "#D55E00",
    "#0072B2",
    "#56B4E9",
    "#009E73",
    "#CC79A7",
    "#E69F00",
)

#: One line style per model slot (solid, long dashes, dash-dot, dots, ...), all different, so
#: that curves stay apart in greyscale print; the reference lines' short grey dashes are not
#: among them.
MODEL_LINESTYLES: tuple[Any, ...] = (
    "-",
    (0, (6, 2)),
    "-.",
    (0, (1, 1.5)),
    (0, (6, 1.5, 1, 1.5, 1, 1.5)),
    (0, (3, 1, 3, 4)),
    (0, (10, 3)),
)

#: Line width of the model curves: the first model (in a study the clinical-radiomics model)
#: is drawn thicker.
_MODEL_WIDTHS: tuple[float, ...] = (2.0, 1.6)

#: Reference lines: the ROC chance diagonal, ideal calibration, "Treat none".
REFERENCE_STYLE: dict[str, Any] = {"color": "#8C8C8C", "linewidth": 1.0, "linestyle": (0, (2, 2))}

#: "Treat all" of a decision curve: grey, solid, thin.
TREAT_ALL_STYLE: dict[str, Any] = {"color": "#8C8C8C", "linewidth": 1.0, "linestyle": "-"}

#: Low- and high-risk colours (risk-group bars; the two clinical impact curves): Okabe-Ito's
#: blue and vermillion (Delta E >= 49 also under simulated protanopia and deuteranopia).
RISK_COLOURS: dict[str, str] = {"low": "#0072B2", "high": "#D55E00"}

#: One Okabe-Ito colour per ROI of the project, so an ROI has the same colour in every figure;
#: other ROIs take the matplotlib colour cycle.
ROI_COLOURS: dict[str, str] = {
    "tumor": "#0072B2",
    "peritumoral": "#E69F00",
    "tumor_peritumoral": "#CC79A7",
    "ln": "#009E73",
}


def get_ax(ax: Any = None) -> Any:
    """``ax`` itself, or the current matplotlib axes when ``ax`` is None."""
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def series_colour(k: int, *, black: bool = True) -> str:
    """Colour of the ``k``-th series (model, curve): the Okabe-Ito palette, cycled.

    ``black=False`` leaves black out of the cycle for figures whose reference line is black.

    Examples
    --------
    >>> series_colour(0), series_colour(6), series_colour(6, black=False)
    ('#0072B2', '#000000', '#0072B2')
    """
    palette = OKABE_ITO if black else OKABE_ITO[:-1]
    return palette[k % len(palette)]


def _slot_style(k: int) -> dict[str, Any]:
    n = len(MODEL_COLOURS)
    return {
        "color": MODEL_COLOURS[k % n],
        "linestyle": MODEL_LINESTYLES[k % n],
        "linewidth": _MODEL_WIDTHS[k] if k < len(_MODEL_WIDTHS) else 1.4,
    }


def model_styles(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """One line style per model: colour, line style and width, by position in ``names``.

    Pass the result as ``styles=`` to the plotting functions (:func:`~radiomics_aln.metrics.
    plot_roc`, :func:`~radiomics_aln.decision.plot_decision_curve`, ...) so that a model is
    drawn the same in every figure, whichever subset of models a figure shows.

    Examples
    --------
    >>> s = model_styles(["Clinical-radiomics model", "Clinical model"])
    >>> s["Clinical-radiomics model"]["color"], s["Clinical model"]["color"]
    ('#000000', '#D55E00')
    """
    return {str(name): _slot_style(k) for k, name in enumerate(dict.fromkeys(names))}


def resolve_styles(
    names: Sequence[str], styles: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, dict[str, Any]]:
    """The style of each of ``names``: its entry of ``styles``, else the next unused slot.

    Examples
    --------
    >>> s = resolve_styles(["a", "b"], {"b": {"color": "#000000"}})
    >>> s["b"]["color"], s["a"]["color"]
    ('#000000', '#D55E00')
    """
    styles = dict(styles or {})
    used = {str(s.get("color")) for s in styles.values()}
    out: dict[str, dict[str, Any]] = {}
    k = 0
    for name in names:
        if name in styles:
            out[name] = dict(styles[name])
            continue
        while _slot_style(k)["color"] in used and k < len(MODEL_COLOURS):
            k += 1
        out[name] = _slot_style(k)
        used.add(out[name]["color"])
        k += 1
    return out


def line_style(style: Mapping[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``style`` updated with the caller's ``kwargs`` (which win), aliases such as ``lw`` and
    ``linewidth`` resolved first so that they never clash."""
    from matplotlib.cbook import normalize_kwargs
    from matplotlib.lines import Line2D

    return normalize_kwargs(dict(style), Line2D) | normalize_kwargs(dict(kwargs), Line2D)


def get_renderer(fig: Any) -> Any:
    """A renderer to measure text with; vector backends (svg, pdf) have no get_renderer."""
    get = getattr(fig.canvas, "get_renderer", None)
    return get() if get is not None else fig._get_renderer()


def legend_below(ax: Any, *, ncol: int = 1, fontsize: Any = "small", **kwargs: Any) -> Any:
    """A legend under the axes, below the x tick labels and the x-axis label: outside the
    plotting area, so it never covers a curve. Returns the legend.

    The gap is measured (in points) from the rendered x axis, so it holds whatever size the
    axes gets later (``tight_layout``, constrained layout, another dpi).
    """
    from matplotlib.transforms import offset_copy

    fig = ax.figure
    renderer = get_renderer(fig)
    xaxis = ax.xaxis.get_tightbbox(renderer)
    below_px = max(ax.bbox.y0 - xaxis.y0, 0.0) if xaxis is not None else 0.0
    below_pt = below_px * 72.0 / fig.dpi + 4.0
    kw = {
        "loc": "upper center",
        "bbox_to_anchor": (0.5, 0.0),
        "bbox_transform": offset_copy(ax.transAxes, fig=fig, y=-below_pt, units="points"),
        "ncol": ncol,
        "fontsize": fontsize,
        "frameon": False,
        "borderaxespad": 0.0,
    } | kwargs
    return ax.legend(**kw)
