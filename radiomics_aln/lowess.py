"""R's ``lowess`` (the C routine ``clowess``, ties included) and ``approx``: the smoother of the
calibration curves of ``rms::val.prob`` and ``rms::calibrate`` and how they read it.

Reference values: ``tests/reference/lowess.R`` (R 4.2.2, 130 fits) and
``tests/reference/nomogram.R`` (``lowess(p, y, iter = 0)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from radiomics_aln._validation import check_1d, check_same_length
from radiomics_aln.exceptions import InputError

__all__ = ["approx", "lowess"]


def lowess(x: Any, y: Any, *, frac: float = 2 / 3, it: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Locally weighted scatterplot smoothing, equal to R's ``lowess``.

    Computes R's ``lowess(x, y, f = frac, iter = it)`` with R's default
    ``delta = 0.01 * diff(range(x))``: Cleveland's (1979, 1981) LOWESS as coded in R's C routine
    ``clowess``, including its handling of tied ``x``.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Finite numbers, ``n >= 2``; any order (the points are sorted by ``x`` with a stable sort,
        as R's ``order``).
    frac : float, default 2/3
        The span ``f``: each local fit uses the ``floor(frac * n)`` nearest points (at least 2,
        at most ``n``). Any finite number > 0.
    it : int, default 0
        Number of robustifying iterations ``iter`` (R's own default is 3; the calibration
        functions of :mod:`radiomics_aln.calibration` use 0 as ``rms``).

    Returns
    -------
    x : ndarray of shape (n,)
        The sorted ``x`` (R's ``lowess(...)$x``).
    fitted : ndarray of shape (n,)
        The smoothed value at each sorted ``x`` (R's ``lowess(...)$y``), one per observation.

    Raises
    ------
    InputError
        If ``x`` or ``y`` is not one-dimensional or holds NaN/inf, if their lengths differ, if
        there are fewer than 2 points (R returns ``y`` for a single point), if the range of ``x`` overflows, if ``frac`` is not a
        finite number > 0 or ``it`` is not an integer >= 0.

    Notes
    -----
    With the points sorted by ``x`` and ``ns = max(2, min(n, floor(frac * n + 1e-7)))``, the
    fitted value at ``x[i]`` is a weighted least-squares line evaluated at ``x[i]``:

    * Neighbourhood: the ``ns`` consecutive points ``x[l], ..., x[l + ns - 1]``, where ``l``
      slides right while ``x[i] - x[l] > x[l + ns] - x[i]``; radius
      ``h = max(x[i] - x[l], x[l + ns - 1] - x[i])``. Points tied with ``x[i]`` to the right of
      the neighbourhood join it when ``h = 0``.
    * Weights: ``r = |x[j] - x[i]|`` gives 1 if ``r <= 0.001 h``, ``(1 - (r/h)^3)^3`` if
      ``r <= 0.999 h`` and 0 otherwise, so when every neighbour is tied (``h = 0``) the tied
      points get weight 1 and the fit is their (robustness-weighted) mean. In iterations after
      the first, weights are multiplied by the robustness weights.
    * Local line: with weights normalised to sum 1, weighted mean ``a`` and
      ``c = sum w (x - a)^2``, the slope is used only if ``h > 0`` and
      ``sqrt(c) > 0.001 (x[n] - x[1])``; otherwise the fit is the weighted mean of ``y``. If all
      weights are 0 the fitted value is ``y[i]``.
    * ``delta``: after a fit at ``x[i]``, points tied with it take the same value, points up to
      ``x[i] + delta`` are skipped except the last of them, which is fitted next, and skipped
      points are linearly interpolated between the fits on either side.
    * Robustness (``it > 0``): with residuals ``e`` and ``cmad = 6 median|e|``, stop if
      ``cmad < 1e-7 mean|e|``; otherwise bisquare weights: 1 if ``|e| <= 0.001 cmad``,
      ``(1 - (e/cmad)^2)^2`` if ``|e| <= 0.999 cmad``, else 0; then refit.

    Sums are accumulated in R's order, so the results are those of R 4.2.2 to the last bit
    (identical in all 130 reference fits of ``tests/reference/lowess.R``; the tests require
    1e-12 relative).
    statsmodels' ``lowess`` differs from R when a neighbourhood has zero width (many tied
    ``x``, e.g. a calibration curve of a model with few distinct predicted risks).

    References
    ----------
    Cleveland, W. S. (1979). Robust locally weighted regression and smoothing scatterplots.
    *Journal of the American Statistical Association*, 74, 829-836.

    Cleveland, W. S. (1981). LOWESS: a program for smoothing scatterplots by robust locally
    weighted regression. *The American Statistician*, 35, 54.

    Examples
    --------
    Eight tied predictions: R's ``lowess(rep(0.4, 8), c(0,1,0,1,1,0,0,0), iter = 0)`` gives the
    observed rate 3/8 at every point.

    >>> from radiomics_aln.lowess import lowess
    >>> sx, fitted = lowess([0.4] * 8, [0, 1, 0, 1, 1, 0, 0, 0])
    >>> fitted
    array([0.375, 0.375, 0.375, 0.375, 0.375, 0.375, 0.375, 0.375])

    Points on a line are reproduced exactly; the input need not be sorted:

    >>> sx, fitted = lowess([3.0, 1.0, 2.0, 4.0, 5.0], [7.0, 3.0, 5.0, 9.0, 11.0], it=3)
    >>> sx
    array([1., 2., 3., 4., 5.])
    >>> fitted
    array([ 3.,  5.,  7.,  9., 11.])
    """
    x = check_1d(x, "x")
    y = check_1d(y, "y")
    n = check_same_length(x=x, y=y)
    if n < 2:
        raise InputError(f"lowess needs at least 2 points, got {n}")
    if (
        isinstance(frac, bool)
        or not isinstance(frac, int | float | np.integer | np.floating)
        or not np.isfinite(frac)
        or frac <= 0
    ):
        raise InputError(f"`frac` must be a finite number > 0, got {frac!r}")
    if isinstance(it, bool) or not isinstance(it, int | np.integer) or it < 0:
        raise InputError(f"`it` must be an integer >= 0, got {it!r}")
    order = np.argsort(x, kind="stable")
    xs = x[order]
    x_range = float(xs[-1]) - float(xs[0])
    if not np.isfinite(x_range):  # R: "'delta' must be finite and > 0"
        raise InputError(f"the range of `x` ({xs[0]!r} to {xs[-1]!r}) overflows float64")
    delta = 0.01 * x_range
    return xs, _clowess(xs, y[order], float(frac), int(it), delta)


def _seqsum(a: np.ndarray) -> np.ndarray:
    """Column sums of a C-ordered 2-D ``a``, adding the rows in order as clowess' loops do.

    Reducing over the outer axis of a C-ordered array with several columns adds whole rows one
    after another; NumPy's pairwise summation applies only along the contiguous axis, which is
    what a single column becomes, so that case goes through ``cumsum`` (always sequential).
    """
    if a.shape[1] > 1:
        return np.add.reduce(a, axis=0)
    return np.cumsum(a, axis=0)[-1]


def _lowess_fit_points(x: np.ndarray, ns: int, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """The points clowess fits and the left ends of their neighbourhoods (0-based, sorted x).

    They depend on ``x`` only, so every robustness iteration reuses them.
    """
    n = x.size
    xl = x.tolist()
    # after a fit at i, its ties are copied and the next fit is the last point <= x[i] + delta
    tie_end = (np.searchsorted(x, x, side="right") - 1).tolist()
    with np.errstate(over="ignore"):  # x near the float64 maximum: the cut is inf, as in R
        beyond = np.searchsorted(x, x + delta, side="right").tolist()
    fits, lefts = [], []
    i = left = 0
    while True:
        # slide the neighbourhood right while that shrinks its radius
        while left + ns < n and xl[i] - xl[left] > xl[left + ns] - xl[i]:
            left += 1
        fits.append(i)
        lefts.append(left)
        last = tie_end[i]
        if last >= n - 1:
            break
        i = max(last + 1, beyond[i] - 1)
    return np.asarray(fits), np.asarray(lefts)


def _clowess(x: np.ndarray, y: np.ndarray, f: float, nsteps: int, delta: float) -> np.ndarray:
    """R's ``clowess`` on sorted ``x``: the fitted values (all local fits at once per iteration)."""
    n = x.size
    ns = n if f * n + 1e-7 >= n else max(2, int(f * n + 1e-7))
    fits, lefts = _lowess_fit_points(x, ns, delta)
    x_range = x[-1] - x[0]

    # Each local fit is a column of an (L, m) window of consecutive points, padded with
    # zero weights, so that column sums taken row by row add in clowess' order.
    rights = lefts + ns - 1
    tie_end = np.searchsorted(x, x[fits], side="right") - 1
    upper = np.maximum(rights, tie_end)  # ties on the right join a zero-width neighbourhood
    width = int((upper - lefts).max()) + 1
    idx = lefts[None, :] + np.arange(width)[:, None]
    padded = bool((upper - lefts < width - 1).any())
    if padded:
        # padding repeats the fitted point itself: finite, and dropped by a zero weight
        outside = idx > upper[None, :]
        idx = np.where(outside, fits[None, :], idx)
    xw = x[idx]
    yw = y[idx]
    xi = x[fits]
    h = np.maximum(xi - x[lefts], x[rights] - xi)
    # tricube weights, computed in place (this is most of the work)
    r = np.subtract(xw, xi)
    np.abs(r, out=r)
    zero = r > 0.999 * h
    if padded:
        zero |= outside
    one = r <= 0.001 * h
    # r / h may overflow only where the weight is set to 0 below (r > 0.999 h or padding)
    with np.errstate(over="ignore"):
        base = np.divide(r, np.where(h > 0, h, 1.0), out=r)  # h == 0 keeps r == 0, weight 1
        cube = base * base
        cube *= base
        np.subtract(1.0, cube, out=cube)
        np.multiply(cube, cube, out=base)
        base *= cube
    base[one] = 1.0
    base[zero] = 0.0
    # which points take which fitted value: ties copy, the rest interpolate
    seg = np.searchsorted(fits, np.arange(n), side="right") - 1
    copied = np.arange(n) <= tie_end[seg]
    between = np.flatnonzero(~copied)
    lo = seg[between]
    x_lo = xi[lo]
    alpha = (x[between] - x_lo) / (xi[lo + 1] - x_lo)

    rw = None
    for step in range(nsteps + 1):
        w = base if rw is None else base * rw[idx]
        total = _seqsum(w)
        ok = total > 0
        w = np.divide(w, np.where(ok, total, 1.0), out=None if w is base and nsteps else w)
        slope = h > 0
        if slope.any():
            # Near the limits of floating point (x spanning 1e300) a squared deviation can
            # overflow and meet a zero weight: NaN, which then fails the slope test, as in R.
            with np.errstate(over="ignore", invalid="ignore"):
                tmp = w * xw
                mean_x = _seqsum(tmp)
                dev = np.subtract(xw, mean_x)
                np.multiply(dev, dev, out=tmp)
                tmp *= w
                c = _seqsum(tmp)
                slope &= np.sqrt(c) > 0.001 * x_range
                b = (xi - mean_x) / np.where(slope, c, 1.0)
                # w * (b (x - mean) + 1) where the slope is used; other columns stay as they are
                dev *= b
                dev += 1.0
                np.multiply(w, dev, out=w, where=slope[None, :])
        fitted = np.where(ok, _seqsum(np.multiply(w, yw, out=w)), y[fits])
        ys = fitted[seg]
        ys[between] = alpha * fitted[lo + 1] + (1.0 - alpha) * fitted[lo]
        if step == nsteps:
            break
        res = np.abs(y - ys)
        scale = np.cumsum(res)[-1] / n
        m1 = n // 2
        if n % 2:
            cmad = 6.0 * np.partition(res, m1)[m1]
        else:
            part = np.partition(res, (m1 - 1, m1))
            cmad = 3.0 * (part[m1] + part[m1 - 1])
        if cmad < 1e-7 * scale:  # residuals effectively zero: further iterations are unstable
            break
        u = res / (cmad if cmad > 0 else 1.0)  # cmad == 0: only zero residuals keep weight
        bisq = 1.0 - u * u
        rw = np.where(res <= 0.001 * cmad, 1.0, np.where(res <= 0.999 * cmad, bisq * bisq, 0.0))
    return ys


def approx(
    x: np.ndarray, y: np.ndarray, xout: np.ndarray, *, ties: str = "mean", outside: float = np.nan
) -> np.ndarray:
    """R's ``approx(x, y, xout, ties=)`` (rule 1: NaN outside the range); ``ties`` "mean" or
    "first" (``function(x) x[1]`` on ``x`` sorted by approx).

    Examples
    --------
    >>> approx(np.array([0.0, 1.0, 1.0, 2.0]), np.array([0.0, 1.0, 3.0, 2.0]), np.array([0.5, 3]))
    array([ 1., nan])
    """
    ux, inv = np.unique(x, return_inverse=True)
    if ties == "mean":
        uy = np.bincount(inv, weights=y) / np.bincount(inv)
    else:  # "first" as function(x) x[1] on x sorted by approx
        order = np.argsort(x, kind="stable")
        first = {}
        for i in order:
            first.setdefault(inv[i], y[i])
        uy = np.array([first[k] for k in range(ux.size)])
    if ux.size == 1:
        return np.where(xout == ux[0], uy[0], outside)
    return np.interp(xout, ux, uy, left=outside, right=outside)
