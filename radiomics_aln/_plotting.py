"""The one palette and the axes helpers every figure of the package uses.

Matplotlib is imported only when a figure is drawn, so importing a statistics module stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OKABE_ITO", "RISK_COLOURS", "ROI_COLOURS", "get_ax", "series_colour"]

#: Okabe & Ito's palette: model curves stay distinguishable with colour-vision deficiency and
#: in greyscale print (tab10's orange/green pair does not). Black is last, so a figure that
#: draws its own black reference line (decision curves: "Treat none") uses the first six.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
)

#: Low- and high-risk colours (risk-group bars; the two clinical impact curves).
RISK_COLOURS: dict[str, str] = {"low": "#4C72B0", "high": "#C44E52"}

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
