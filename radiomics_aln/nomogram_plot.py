"""Drawing a nomogram: R's ``pretty`` (the tick values of ``rms::nomogram``'s axes) and the
layout of the axes and their labels, measured as rendered so that none overlap.

:meth:`radiomics_aln.nomogram.LogisticNomogram.plot_nomogram` decides what the rows are (points,
one axis per predictor, total points, risk); :func:`draw_nomogram` draws them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["draw_nomogram", "r_pretty"]


# --------------------------------------------------------------------------------------------
# R's pretty(): the tick values rms::nomogram uses for continuous axes
# --------------------------------------------------------------------------------------------
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


def draw_nomogram(
    ax: Any,
    rows: Sequence[tuple[str, Sequence[float], Sequence[Any]]],
    *,
    discrete: Sequence[bool],
    maxscale: float,
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
        _draw_row(ax, renderer, -i, xs, texts, discrete[i], per_px, pad, tick_fs, line_kw)
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
) -> None:
    """One axis of the nomogram at height ``yv``: its line, ticks and labels."""
    fig = ax.figure
    ax.plot([min(xs), max(xs)], [yv, yv], **line_kw)
    widths = [_text_px(renderer, fig, t, tick_fs) * per_px for t in texts]
    sides, at = _label_sides(np.asarray(xs, dtype=float), np.asarray(widths), pad, discrete, texts)
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
