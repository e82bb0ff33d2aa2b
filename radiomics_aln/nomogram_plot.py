"""Drawing a nomogram: R's ``pretty`` (the tick values of ``rms::nomogram``'s axes) and the
layout of the axes and their labels, measured as rendered so that none overlap.

:meth:`radiomics_aln.nomogram.LogisticNomogram.plot_nomogram` decides what the rows are (points,
one axis per predictor, total points, risk); :func:`draw_nomogram` draws them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "RISK_TICKS",
    "RiskRows",
    "compressed_rows",
    "draw_nomogram",
    "r_pretty",
    "risk_rows",
    "term_axes",
]


class RiskRows(NamedTuple):
    """The Total Points and risk rows of a nomogram (see :func:`risk_rows`)."""

    #: (name, positions, values) of the Total Points row and of the risk row
    rows: list[tuple[str, list[float], list[Any]]]
    #: per row, positions of unlabelled ticks
    minor: list[list[float]]
    #: per row, the rank of each label when not all fit (lower stays), or None
    priority: list[list[float] | None]
    #: total points -> position on the drawing
    to_x: Callable[[Any], Any]


def _risk_rank(values: Sequence[float]) -> list[float]:
    order = {p: k for k, p in enumerate(RISK_PRIORITY)}
    return [float(order.get(round(float(v), 10), len(order) + k)) for k, v in enumerate(values)]

#: Labelled ticks of the nomogram's risk axis (only those the model reaches, inside its
#: ``risk_range``, are drawn): every 0.1, and 0.01, 0.02, 0.05 / 0.95, 0.98, 0.99 at the ends,
#: where the logistic scale stretches.
RISK_TICKS: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8,
                                 0.9, 0.95, 0.98, 0.99)  # fmt: skip
#: Which risk labels stay when not all fit: the middle, then the tenths outwards, then the ends.
RISK_PRIORITY: tuple[float, ...] = (0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0.05, 0.95,
                                    0.02, 0.98, 0.01, 0.99)  # fmt: skip
#: Unlabelled ticks between them, so that a risk can be read to +-0.05.
MINOR_RISK_TICKS: tuple[float, ...] = (0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85)


# --------------------------------------------------------------------------------------------
# R's pretty(): the tick values rms::nomogram uses for continuous axes
# --------------------------------------------------------------------------------------------
def term_axes(terms: Any, coef: Any, data: Any, nint: int) -> dict[str, dict[str, Any]]:
    """``rms::nomogram``'s axis of each model term, before scaling to points.

    ``terms`` are :class:`radiomics_aln.design.Term` objects and ``coef`` their coefficients in
    the same order (no intercept). A categorical term shows its levels (the reference
    contributes 0); a numeric one every distinct value when it has at most 10 of them (as
    ``datadist``), else :func:`r_pretty` ticks over its range. Returns ``{name: {"values",
    "contrib" (array: value x coefficient), "discrete"}}``.
    """
    import pandas as pd

    coef = np.asarray(coef, dtype=float)
    axes: dict[str, dict[str, Any]] = {}
    j = 0
    for t in terms:
        k = len(t.columns)
        b = coef[j : j + k]
        if t.kind == "categorical":
            values: list[Any] = list(t.levels)
            contrib = np.concatenate([[0.0], b])
            discrete = True
        else:
            u = np.unique(pd.to_numeric(data[t.name]).to_numpy(dtype=float))
            discrete = u.size <= 10
            vals = u if discrete else r_pretty(u[0], u[-1], int(nint))
            values = [float(v) for v in vals]
            contrib = b[0] * np.asarray(vals, dtype=float)
        axes[t.name] = {"values": values, "contrib": contrib, "discrete": discrete}
        j += k
    return axes


def r_pretty(lo: float, up: float, n: int = 5) -> np.ndarray:
    """Equally spaced "round" values covering ``[lo, up]``, exactly as R's ``pretty(c(lo, up), n)``.

    A port of ``R_pretty`` (R 4.2, ``src/appl/pretty.c``) with R's defaults
    ``min.n = n %/% 3``, ``shrink.sml = 0.75``, ``high.u.bias = 1.5``, ``u5.bias = 2.75``.

    Examples
    --------
    >>> r_pretty(80, 250, 10).tolist()  # R: pretty(c(80, 250), 10)
    [80.0, 100.0, 120.0, 140.0, 160.0, 180.0, 200.0, 220.0, 240.0, 260.0]
    """
    lo, up = float(min(lo, up)), float(max(lo, up))
    h, h5 = 1.5, 0.5 + 1.5 * 1.5
    min_n = n // 3
    eps = 1e-10
    dx = up - lo
    if dx == 0 and up == 0:
        cell, i_small = 1.0, True
    else:
        cell = max(abs(lo), abs(up))
        u = 1 + (1 / (1 + h) if h5 >= 1.5 * h + 0.5 else 1.5 / (1 + h5))
        u *= max(1, n) * np.finfo(float).eps
        i_small = dx < cell * u * 3
    if i_small:
        if cell > 10:
            cell = 9 + cell / 10
        cell *= 0.75
        if min_n > 1:
            cell /= min_n
    else:
        cell = dx
        if n > 1:
            cell /= n
    base = 10.0 ** math.floor(math.log10(cell))
    unit = base
    if 2 * base - cell < h * (cell - unit):
        unit = 2 * base
        if 5 * base - cell < h5 * (cell - unit):
            unit = 5 * base
            if 10 * base - cell < h * (cell - unit):
                unit = 10 * base
    ns = math.floor(lo / unit + eps)
    nu = math.ceil(up / unit - eps)
    while ns * unit > lo + eps * unit:
        ns -= 1
    while nu * unit < up - eps * unit:
        nu += 1
    k = int(0.5 + nu - ns)
    if k < min_n:
        k = min_n - k
        if ns >= 0:
            nu += k // 2
            ns -= k // 2 + k % 2
        else:
            ns -= k // 2
            nu += k // 2 + k % 2
        ndiv = min_n
    else:
        ndiv = k
    out = np.linspace(ns * unit, nu * unit, ndiv + 1)
    if ndiv:
        delta = (nu - ns) * unit / ndiv
        out[np.abs(out) < 1e-14 * delta] = 0.0
    return out


# --------------------------------------------------------------------------------------------
# the total-points and risk rows, scaled to the range of risks worth reading
# --------------------------------------------------------------------------------------------
def risk_rows(
    *,
    points_scale: float,
    points_intercept: float,
    total_max: float,
    maxscale: float,
    nint: int,
    risk_range: tuple[float, float],
    probabilities: Sequence[float] | None = None,
    total_label: str = "Total Points",
    risk_label: str = "Risk",
) -> RiskRows:
    """The Total Points and risk rows of a nomogram, drawn over the total points that matter.

    rms draws the total-points axis from 0 to the largest possible sum, so the probability
    axis of a model whose points rarely reach the extremes fills a small part of the width.
    Here the two rows span only the total points that are reachable (0 to ``total_max``) and
    map to risks within ``risk_range``, widened to R's ``pretty`` values, and are stretched
    over the width of the Points axis (as ``total.min`` / ``total.max`` of QHScrnomo's
    modified ``nomogram``).

    Parameters
    ----------
    points_scale, points_intercept : float
        ``total points = (lp - points_intercept) * points_scale``.
    total_max : float
        Largest reachable total points (every predictor at its axis' maximum).
    maxscale : float
        Width of the Points axis (positions are in its units).
    nint : int
        Intervals of the total-points ``pretty`` axis.
    risk_range : (float, float)
        Risks the rows cover, e.g. (0.02, 0.98).
    probabilities : sequence of float, optional
        Labelled risk ticks; default :data:`RISK_TICKS` within the range.
    total_label, risk_label : str
        Row names.

    Returns
    -------
    RiskRows
        ``rows``: the Total Points row and the risk row (name, positions, values) for
        :func:`draw_nomogram`; ``minor``: unlabelled ticks per row (risk:
        :data:`MINOR_RISK_TICKS`); ``priority``: which risk labels stay when not all fit
        (:data:`RISK_PRIORITY`); ``to_x``: total points -> position on the drawing (for
        further rows, e.g. the linear predictor).

    Examples
    --------
    >>> rows, minor, priority, to_x = risk_rows(points_scale=20, points_intercept=-4,
    ...     total_max=180, maxscale=100, nint=10, risk_range=(0.02, 0.98))
    >>> rows[1][2][:4], rows[0][2][0], rows[0][2][-1]
    ([0.02, 0.05, 0.1, 0.2], 0.0, 160.0)
    """
    lo_p, hi_p = (float(v) for v in risk_range)
    if not 0 < lo_p < hi_p < 1:
        raise ValueError(f"risk_range must satisfy 0 < low < high < 1, got {risk_range!r}")

    def total(p: np.ndarray | float) -> Any:
        return (np.log(np.divide(p, 1 - np.asarray(p))) - points_intercept) * points_scale

    t_lo = max(0.0, float(total(lo_p)))
    t_hi = min(float(total_max), float(total(hi_p)))
    if not t_hi > t_lo:  # the model reaches no risk of the range: show what it reaches
        t_lo, t_hi = 0.0, float(total_max)
    ticks = r_pretty(t_lo, t_hi, nint)
    t0, t1 = float(ticks[0]), float(ticks[-1])

    def to_x(t: Any) -> Any:
        return (np.asarray(t, dtype=float) - t0) * float(maxscale) / (t1 - t0)

    probs = np.asarray(RISK_TICKS if probabilities is None else probabilities, dtype=float)
    probs = probs[(probs > 0) & (probs < 1)]
    reach = (total(probs) >= max(t_lo, 0.0) - 1e-9) & (total(probs) <= t_hi + 1e-9)
    probs = probs[reach & (probs >= lo_p - 1e-12) & (probs <= hi_p + 1e-12)]
    minor = np.asarray(MINOR_RISK_TICKS if probabilities is None else [], dtype=float)
    minor = minor[(total(minor) >= t_lo) & (total(minor) <= t_hi)] if minor.size else minor
    rows = [
        (total_label, [float(v) for v in to_x(ticks)], [float(v) for v in ticks]),
        (risk_label, [float(v) for v in to_x(total(probs))], [float(v) for v in probs]),
    ]
    minor_x = [float(v) for v in to_x(total(minor))]
    return RiskRows(rows, [[], minor_x], [None, _risk_rank(probs)], to_x)


def compressed_rows(
    table: Any, maxscale: float, *, risk_label: str = "Risk"
) -> RiskRows:
    """rms' Total Points and risk rows: total points from 0 to the largest sum, compressed
    onto the width of the Points axis. ``table`` is ``LogisticNomogram.total_points_table()``;
    returns what :func:`risk_rows` returns."""
    tot = table[table["axis"] == "total_points"]
    pr = table[table["axis"] == "probability"]
    shrink = float(maxscale) / float(tot["value"].max())

    def to_x(t: Any) -> Any:
        return np.asarray(t, dtype=float) * shrink

    rows = [
        ("Total Points", list(tot["total_points"] * shrink), list(tot["value"])),
        (risk_label, list(pr["total_points"] * shrink), list(pr["value"])),
    ]
    return RiskRows(rows, [[], []], [None, None], to_x)


# --------------------------------------------------------------------------------------------


def draw_nomogram(
    ax: Any,
    rows: Sequence[tuple[str, Sequence[float], Sequence[Any]]],
    *,
    discrete: Sequence[bool],
    maxscale: float,
    minor: Sequence[Sequence[float]] | None = None,
    priority: Sequence[Sequence[float] | None] | None = None,
    **kwargs: Any,
) -> Any:
    """Draw nomogram rows on ``ax``: one horizontal axis per row, top to bottom.

    Parameters
    ----------
    ax : matplotlib Axes
    rows : sequence of (name, positions, values)
        Each row's name, its ticks' positions on the points scale (0 to ``maxscale``) and the
        values they label (numbers or level names).
    discrete : sequence of bool
        Per row: every label must be shown (factor levels) rather than thinned (numbers).
    maxscale : float
        Width of the points scale.
    minor : sequence of sequences of float, optional
        Per row: positions of short unlabelled ticks (e.g. risks 0.15, 0.25, ...).
    priority : sequence of (sequence of float or None), optional
        Per row: a rank per label; when not all labels of a numeric row fit, labels are kept
        in this order as long as they do not collide (the risk row keeps 0.5, 0.1, 0.9, ...
        rather than every k-th label of an unevenly spaced axis).
    **kwargs
        Passed to the axis lines (``ax.plot``), e.g. ``color``, ``lw``.

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Labels are measured as rendered, and where they would collide a numeric axis labels every
    k-th tick (as R's ``axis()`` drops colliding labels in ``rms::plot.nomogram``), keeping
    round values and the ends; a factor's levels are all named, alternating above/below as rms
    does, or moved aside on leader lines. Font sizes follow the row height (tick labels 6-8 pt).
    """
    line_kw = {"color": "black", "lw": 1.0} | kwargs
    rows = [(name, list(xs), [tick_label(v) for v in values]) for name, xs, values in rows]
    ms = float(maxscale)
    fig = ax.figure
    renderer = _renderer(fig)
    box = ax.get_window_extent(renderer)
    width_px, height_px = max(box.width, 1.0), max(box.height, 1.0)
    # tick labels shrink with the row height (rows closer than ~3 text heights would make the
    # labels of neighbouring rows touch), but never below 6 pt, which stays legible in print
    row_pt = height_px / (len(rows) + 0.3) * 72 / fig.dpi
    tick_fs = float(np.clip(0.3 * row_pt, 6.0, 8.0))
    name_fs = float(np.clip(0.4 * row_pt, 7.0, 10.0))
    # leave room left of the axes for the longest row name instead of letting it spill out
    name_px = max(_text_px(renderer, fig, r[0], name_fs) for r in rows)
    # names end half a tick label (plus a little) left of 0, so a label centred on the
    # first tick never runs into its row's name
    first = [t for _, _, texts in rows for t in texts[:1] + texts[-1:]]
    gap_px = 0.5 * max(_text_px(renderer, fig, t, tick_fs) for t in first) + 0.01 * width_px
    right = 1.05 * ms
    frac = min((name_px + gap_px) / width_px, 0.6)
    left = min(-0.3 * ms, -frac * right / (1 - frac))
    ax.set_xlim(left, right)
    ax.set_ylim(-len(rows) + 0.5, 0.8)
    per_px = (right - left) / width_px  # data units per pixel
    gap = gap_px * per_px
    # minimum gap between neighbouring labels: half a digit
    pad = 0.5 * _text_px(renderer, fig, "0", tick_fs) * per_px
    for i, (label, xs, texts) in enumerate(rows):
        if len(xs) == 0:
            continue
        rank = priority[i] if priority is not None and i < len(priority) else None
        _draw_row(ax, renderer, -i, xs, texts, discrete[i], per_px, pad, tick_fs, line_kw, rank)
        for xv in (minor[i] if minor is not None and i < len(minor) else []):
            if min(abs(xv - x) for x in xs) > 3 * per_px and min(xs) <= xv <= max(xs):
                ax.plot([xv, xv], [-i, -i + 0.07], **line_kw)
        ax.text(-gap, -i, label, ha="right", va="center", fontsize=name_fs)
    ax.axis("off")
    return ax


def _draw_row(
    ax: Any,
    renderer: Any,
    yv: float,
    xs: Sequence[float],
    texts: Sequence[str],
    discrete: bool,
    per_px: float,
    pad: float,
    tick_fs: float,
    line_kw: dict[str, Any],
    rank: Sequence[float] | None = None,
) -> None:
    """One axis of the nomogram at height ``yv``: its line, ticks and labels."""
    fig = ax.figure
    ax.plot([min(xs), max(xs)], [yv, yv], **line_kw)
    widths = [_text_px(renderer, fig, t, tick_fs) * per_px for t in texts]
    xa, wa = np.asarray(xs, dtype=float), np.asarray(widths)
    if rank is not None and not discrete:
        sides, at = _label_by_rank(xa, wa, pad, rank), xa.copy()
    else:
        sides, at = _label_sides(xa, wa, pad, discrete, texts)
    drawn: list[float] = [float(x) for x, sd in zip(xs, sides, strict=True) if sd]
    for xv, lx, txt, side in zip(xs, at, texts, sides, strict=True):
        sgn = -1.0 if side == "below" else 1.0
        if side is None:
            # an unlabelled tick closer than 3 px to another only blackens the axis
            if any(abs(xv - d) < 3 * per_px for d in drawn):
                continue
            drawn.append(float(xv))
        ax.plot([xv, xv], [yv, yv + 0.12 * sgn], **line_kw)
        if side is None:
            continue
        va = "top" if side == "below" else "bottom"
        ty = yv + 0.18 * sgn
        if abs(lx - xv) > 0.5 * per_px:  # label moved aside: a leader line to its tick
            ty = yv + 0.34 * sgn
            leader = line_kw | {"lw": 0.5 * float(line_kw.get("lw", 1.0))}
            ax.plot([xv, lx], [yv + 0.12 * sgn, yv + 0.3 * sgn], **leader)
        ax.text(lx, ty, txt, ha="center", va=va, fontsize=tick_fs)


def _renderer(fig: Any) -> Any:
    """A renderer to measure text with; vector backends (svg, pdf) have no get_renderer."""
    get = getattr(fig.canvas, "get_renderer", None)
    return get() if get is not None else fig._get_renderer()


def _text_px(renderer: Any, fig: Any, text: str, fontsize: float) -> float:
    """Width in pixels of ``text`` at ``fontsize`` as the figure would render it."""
    from matplotlib.text import Text

    t = Text(0, 0, text, fontsize=fontsize, figure=fig)
    return float(t.get_window_extent(renderer).width)


def _collide(xs: np.ndarray, widths: np.ndarray, pad: float) -> bool:
    """Whether any two labels centred at sorted ``xs`` overlap (closer than ``pad``)."""
    if len(xs) < 2:
        return False
    return bool(np.any(np.diff(xs) < (widths[:-1] + widths[1:]) / 2 + pad))


def _label_by_rank(xs: np.ndarray, widths: np.ndarray, pad: float, rank: Sequence[float]) -> list:
    """Labels kept in order of ``rank`` while they collide with none kept before: "above" or
    None per tick."""
    kept: list[int] = []
    for j in sorted(range(len(xs)), key=lambda i: rank[i]):
        if all(abs(xs[j] - xs[i]) >= (widths[i] + widths[j]) / 2 + pad for i in kept):
            kept.append(j)
    return ["above" if i in kept else None for i in range(len(xs))]


def _label_sides(
    xs: np.ndarray, widths: np.ndarray, pad: float, discrete: bool, texts: Sequence[str]
) -> tuple[list, np.ndarray]:
    """Where to draw each tick's label: "above", "below" or None (tick without a label), and
    the label's x position (the tick's own unless moved aside).

    Labels go above the axis. When they would collide, a discrete axis (each level must be
    named) alternates above/below, as rms does for discrete axes; if even that collides, the
    labels go in one row above, pushed apart just enough and joined to their ticks by
    leader lines (rms would drop them instead). A numeric axis keeps every
    k-th label for the smallest k without collisions, as ``label.every`` of rms and R's
    ``axis()``, which skips labels that would overlap; the kept subset is the one with the
    roundest values, so ticks such as 0.1, 0.5, 0.9 survive; the kept labels alternate
    above/below (rms' ``fun.side``) only when that shows over twice as many.
    The tick marks, and so every number of the scale, stay.
    """
    n = len(xs)
    order = np.argsort(xs, kind="stable")
    sx, sw = xs[order], widths[order]
    sides: list = ["above"] * n
    at = np.asarray(xs, dtype=float).copy()
    if not _collide(sx, sw, pad):
        return sides, at
    if discrete:
        lanes = (np.arange(0, n, 2), np.arange(1, n, 2))
        if not any(_collide(sx[q], sw[q], pad) for q in lanes):
            for rank, j in enumerate(order):
                sides[j] = "above" if rank % 2 == 0 else "below"
        else:
            at[order] = _spread(sx, sw, pad)
        return sides, at
    best: dict[bool, tuple] = {}
    for k in range(1, n):
        for stagger in (False, True):
            for off in range(k):
                keep = np.arange(off, n, k)
                lanes = (keep[0::2], keep[1::2]) if stagger else (keep,)
                # two staggered labels: the ends (the fallback below) say more than inner ones
                if len(keep) < 2 + stagger or any(_collide(sx[q], sw[q], pad) for q in lanes):
                    continue
                ends = int(keep[0] == 0) + int(keep[-1] == n - 1)  # both ends bound the range
                rough = sum(_roughness(texts[order[i]]) for i in keep)
                score = (len(keep), ends, -rough, -k, -off)
                if stagger not in best or score > best[stagger][0]:
                    best[stagger] = (score, keep)
    # one row of labels reads more easily than two: stagger only for over twice the labels
    one, two = best.get(False), best.get(True)
    choice = None
    if two is not None and (one is None or len(two[1]) > 2 * len(one[1])):
        choice = (two[1], True)
    elif one is not None:
        choice = (one[1], False)
    if choice is not None:
        keep, stagger = choice
        sides = [None] * n
        for rank, q in enumerate(keep):
            sides[order[q]] = "below" if stagger and rank % 2 else "above"
        return sides, at
    # not even the two end labels fit side by side: name the ends, one above and one below
    sides = [None] * n
    sides[order[0]], sides[order[-1]] = "below", "above"
    return sides, at


def _spread(sx: np.ndarray, sw: np.ndarray, pad: float) -> np.ndarray:
    """Centres for labels of widths ``sw`` wanted at sorted ``sx``, moved as little as possible
    so that none overlap: overlapping runs are merged and each run is centred on its labels'
    mean wanted position (never left of the first tick, where the row name ends)."""
    runs = [[i] for i in range(len(sx))]

    def centres(run: list[int]) -> np.ndarray:
        span = np.concatenate([[0.0], np.cumsum((sw[run][:-1] + sw[run][1:]) / 2 + pad)])
        return span - span.mean() + sx[run].mean()

    merged = True
    while merged:
        merged = False
        for r in range(len(runs) - 1):
            a, b = centres(runs[r]), centres(runs[r + 1])
            if b[0] - a[-1] < (sw[runs[r][-1]] + sw[runs[r + 1][0]]) / 2 + pad:
                runs[r : r + 2] = [runs[r] + runs[r + 1]]
                merged = True
                break
    out = np.concatenate([centres(run) for run in runs])
    shift = sx[0] - out[0]
    if shift > 0:  # keep the run right of the first tick; later runs may need to move too
        out[0] += shift
        for i in range(1, len(out)):
            out[i] = max(out[i], out[i - 1] + (sw[i - 1] + sw[i]) / 2 + pad)
    return out


def _roughness(text: str) -> int:
    """Significant digits of a tick label (0.5 -> 1, 0.25 -> 2); rounder ticks are kept."""
    return len(text.replace(".", "").replace("-", "").strip("0"))


def tick_label(v: Any) -> str:
    """A tick's label: level names as they are, whole numbers without decimals."""
    if isinstance(v, str):
        return v
    v = float(v)
    return f"{v:.0f}" if float(v).is_integer() else f"{v:g}"


# What a LogisticNomogram file's ``state`` holds (see radiomics_aln.io): the numbers used to
