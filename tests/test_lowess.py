"""Tests of radiomics_aln.calibration.lowess against R's stats::lowess (C routine clowess).

Reference: tests/reference/lowess.R (R 4.2.2) calls ``lowess(x, y, f = f, iter = iter)`` with
R's default ``delta = 0.01 * diff(range(x))`` for every case below and stores the input
(lowess_R_input.csv) and R's fitted values (lowess_R.csv, 17 significant digits).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from radiomics_aln.exceptions import InputError
from radiomics_aln.lowess import lowess

REF = Path(__file__).parent / "reference"


def _read_exact(path: Path) -> pd.DataFrame:
    """Read a reference CSV with Python's correctly rounded float parsing.

    pandas' fast C parser is not always correctly rounded, and its ``float_precision`` option
    is deprecated; R wrote these values with 17 significant digits, so parse them exactly.
    """
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in table.columns:
        try:
            table[col] = table[col].map(float)
        except ValueError:
            pass  # a text column (case names)
    return table


INPUT = _read_exact(REF / "lowess_R_input.csv")
FITS = _read_exact(REF / "lowess_R.csv")
KEYS = list(FITS.groupby(["case", "f", "iter"], sort=False).groups)


def _check_reference() -> None:
    """The reference holds the cases of the issue (a truncated file fails loudly at import)."""
    cases = set(INPUT["case"])
    wanted = {"continuous", "ties_4x50", "all_equal", "n2", "n3", "unsorted_outlier",
              "clustered_n1000", "binary_calibration", "negative_large_x", "large_x",
              "extreme_range"}  # fmt: skip
    if not (wanted <= cases and {2 / 3, 0.3, 0.1} <= set(FITS["f"])
            and {0, 3} <= set(FITS["iter"]) and len(KEYS) == 130):  # fmt: skip
        raise RuntimeError(f"{REF / 'lowess_R.csv'} lacks cases: {sorted(wanted - cases)}")


_check_reference()


def _case(name: str) -> tuple[np.ndarray, np.ndarray]:
    rows = INPUT[INPUT["case"] == name].sort_values("pos")
    return rows["x"].to_numpy(), rows["y"].to_numpy()


@pytest.mark.parametrize(("case", "f", "it"), KEYS, ids=[f"{c}-f{f:.3g}-it{i}" for c, f, i in KEYS])
def test_lowess_against_R(case, f, it):
    """R: lowess(x, y, f = f, iter = it)$y, every fitted value to 1e-12 relative."""
    x, y = _case(case)
    ref = FITS[(FITS["case"] == case) & (FITS["f"] == f) & (FITS["iter"] == it)]
    ref = ref.sort_values("pos")["y"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero or invalid-value warnings
        sx, fitted = lowess(x, y, frac=f, it=int(it))
    assert_array_equal(sx, np.sort(x))  # R: lowess(x, y)$x is sort(x)
    assert fitted.shape == x.shape
    assert_allclose(fitted, ref, rtol=1e-12, atol=0)


def test_all_tied_is_the_mean_as_in_R():
    """R: lowess(rep(0.4, 8), c(0,1,0,1,1,0,0,0), iter = 0)$y is 0.375 everywhere."""
    sx, fitted = lowess(np.full(8, 0.4), [0, 1, 0, 1, 1, 0, 0, 0], it=0)
    assert_array_equal(sx, np.full(8, 0.4))
    assert_array_equal(fitted, np.full(8, 0.375))


def test_tied_x_share_one_fitted_value():
    x, y = _case("two_binary_predictors")
    sx, fitted = lowess(x, y)
    for value in np.unique(sx):
        assert np.unique(fitted[sx == value]).size == 1


def test_order_of_the_input_does_not_matter_beyond_rounding():
    """Sorting is stable as R's order(x); a neighbourhood never cuts a block of ties with a
    positive weight, so shuffling the points only changes the order of the sums."""
    x, y = _case("two_binary_predictors")
    _, a = lowess(x, y, frac=0.3, it=3)
    perm = np.random.default_rng(0).permutation(x.size)
    _, b = lowess(x[perm], y[perm], frac=0.3, it=3)
    assert_allclose(b, a, rtol=1e-12)


def test_accepts_pandas_and_lists_and_does_not_modify_input():
    x, y = _case("unsorted_outlier")
    xs, ys = pd.Series(x.copy(), index=[f"c{i}" for i in range(x.size)]), list(y)
    sx, fitted = lowess(xs, ys, frac=0.3, it=3)
    sx2, fitted2 = lowess(x, y, frac=0.3, it=3)
    assert_array_equal(sx, sx2)
    assert_array_equal(fitted, fitted2)
    assert_array_equal(xs.to_numpy(), x)


def test_invariant_to_shifting_x_by_exact_amounts():
    x, y = _case("continuous")
    _, a = lowess(x, y, frac=0.3)
    _, b = lowess(x + 1024.0, y, frac=0.3)
    assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("which", ["x", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_are_named(which, bad):
    x = np.arange(5.0)
    y = np.arange(5.0)
    (x if which == "x" else y)[3] = bad
    with pytest.raises(
        InputError, match=rf"`{which}` has 1 missing or non-finite value\(s\) at rows 3"
    ):
        lowess(x, y)


def test_non_finite_value_is_named_by_its_pandas_label():
    x = pd.Series([0.1, 0.2, np.nan], index=["p1", "p2", "p3"])
    with pytest.raises(InputError, match=r"`x` .* at rows p3"):
        lowess(x, [0, 1, 1])


def test_length_mismatch():
    with pytest.raises(InputError, match=r"length mismatch: `x` has 3, `y` has 4"):
        lowess([1.0, 2.0, 3.0], [0.0, 1.0, 0.0, 1.0])


def test_fewer_than_two_points():
    """R returns y for a single point; a smoother of one point is an error here."""
    with pytest.raises(InputError, match=r"lowess needs at least 2 points, got 1"):
        lowess([0.3], [1.0])


def test_range_of_x_that_overflows():
    """R: lowess(c(-1e308, 1e308), 1:2) stops with "'delta' must be finite and > 0"."""
    with pytest.raises(InputError, match=r"the range of `x` .* overflows float64"):
        lowess([-1e308, 0.0, 1e308], [1.0, 2.0, 3.0])


def test_empty_and_two_dimensional_input():
    with pytest.raises(InputError, match=r"`x` is empty"):
        lowess([], [])
    with pytest.raises(InputError, match=r"`y` must be one-dimensional"):
        lowess(np.arange(4.0), np.ones((2, 2)))


def test_non_numeric_input():
    with pytest.raises(InputError, match=r"`x` must be numeric"):
        lowess(["a", "b", "c"], [0, 1, 0])


@pytest.mark.parametrize("frac", [0, -0.5, np.nan, np.inf, "0.5", None, True])
def test_bad_frac(frac):
    with pytest.raises(InputError, match=r"`frac` must be a finite number > 0"):
        lowess(np.arange(5.0), np.arange(5.0), frac=frac)


@pytest.mark.parametrize("it", [-1, 1.5, 2.0, "3", None, True])
def test_bad_it(it):
    with pytest.raises(InputError, match=r"`it` must be an integer >= 0"):
        lowess(np.arange(5.0), np.arange(5.0), it=it)


def test_numpy_scalars_are_accepted():
    x, y = _case("continuous")
    _, a = lowess(x, y, frac=np.float64(0.3), it=np.int64(3))
    _, b = lowess(x, y, frac=0.3, it=3)
    assert_array_equal(a, b)


# ------------------------------------------------------------------------------ loop reference
def _clowess_loops(x: np.ndarray, y: np.ndarray, f: float, nsteps: int) -> np.ndarray:
    """clowess written as plain loops over sorted x (0-based), to check the vectorised code on
    inputs R did not see. Same steps and the same order of floating-point operations as R's
    lowess.c, one point at a time (with x near 3e9 the local line is ill-conditioned, and
    ``(r / h) ** 3`` instead of ``q * q * q`` already moves the fit by 1e-8 relative)."""
    n = len(x)
    delta = 0.01 * (x[-1] - x[0])
    ns = max(2, min(n, int(f * n + 1e-7)))
    ys = np.zeros(n)
    rw = np.ones(n)
    for step in range(nsteps + 1):
        left, right, last, i = 0, ns - 1, -1, 0
        while True:
            if right < n - 1 and x[i] - x[left] > x[right + 1] - x[i]:
                left += 1
                right += 1
                continue
            h = max(x[i] - x[left], x[right] - x[i])
            w = np.zeros(n)
            total, j = 0.0, left
            while j < n:
                r = abs(x[j] - x[i])
                if r <= 0.999 * h:
                    if r <= 0.001 * h:
                        w[j] = 1.0
                    else:
                        q = r / h
                        w[j] = (1.0 - q * q * q) * (1.0 - q * q * q) * (1.0 - q * q * q)
                    w[j] *= rw[j] if step > 0 else 1.0
                    total += w[j]
                elif x[j] > x[i]:
                    break
                j += 1
            rt = j - 1
            if total <= 0:
                ys[i] = y[i]
            else:
                w[left : rt + 1] /= total
                if h > 0:
                    mean = sum(w[k] * x[k] for k in range(left, rt + 1))
                    c = sum(w[k] * ((x[k] - mean) * (x[k] - mean)) for k in range(left, rt + 1))
                    if np.sqrt(c) > 0.001 * (x[-1] - x[0]):
                        b = (x[i] - mean) / c
                        for k in range(left, rt + 1):
                            w[k] *= b * (x[k] - mean) + 1.0
                ys[i] = sum(w[k] * y[k] for k in range(left, rt + 1))
            for k in range(last + 1, i):  # skipped points
                alpha = (x[k] - x[last]) / (x[i] - x[last])
                ys[k] = alpha * ys[i] + (1.0 - alpha) * ys[last]
            last = i
            cut = x[last] + delta
            i = last + 1
            while i < n and x[i] <= cut:
                if x[i] == x[last]:
                    ys[i] = ys[last]
                    last = i
                i += 1
            i = max(last + 1, i - 1)
            if last >= n - 1:
                break
        res = np.abs(y - ys)
        if step == nsteps:
            break
        srt, m1 = np.sort(res), n // 2
        cmad = 6.0 * srt[m1] if n % 2 else 3.0 * (srt[m1] + srt[m1 - 1])
        if cmad < 1e-7 * (sum(res.tolist()) / n):
            break
        for k in range(n):
            if res[k] <= 0.001 * cmad:
                rw[k] = 1.0
            elif res[k] <= 0.999 * cmad:
                u = res[k] / cmad
                rw[k] = (1.0 - u * u) * (1.0 - u * u)
            else:
                rw[k] = 0.0
    return ys


@pytest.mark.parametrize("seed", range(12))
def test_vectorised_code_equals_plain_loops(seed):
    """Random inputs with ties, clusters and outliers, several spans and iterations."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 120))
    kind = seed % 4
    if kind == 0:  # few distinct values (calibration of a model with few predicted risks)
        x = rng.choice(rng.uniform(0, 1, int(rng.integers(1, 6))), n)
    elif kind == 1:  # clusters plus spread, so delta skips and ties both occur
        x = np.round(rng.normal(rng.choice([0.2, 0.5], n), 0.01), 3)
    elif kind == 2:
        x = rng.normal(-50, 20, n)
    else:
        x = rng.integers(0, 8, n).astype(float) * 0.25
    y = rng.binomial(1, 0.4, n).astype(float) if seed % 2 else rng.normal(x, 1.0)
    y[rng.random(n) < 0.05] += 30.0  # outliers for the robustness weights
    order = np.argsort(x, kind="stable")
    for f in (2 / 3, 0.3, 0.1):
        for it in (0, 2):
            sx, fitted = lowess(x, y, frac=f, it=it)
            expected = _clowess_loops(x[order], y[order], f, it)
            assert_allclose(fitted, expected, rtol=1e-12, atol=1e-14 * np.abs(y).max())


def test_lowess_of_calibration_data_against_R():
    """R: lowess(p, y, iter = 0)."""
    data = pd.read_csv(REF / "calibration_valprob_input.csv")
    ref = pd.read_csv(REF / "calibration_lowess.csv")
    x, y = lowess(data.p, data.y, it=0)
    assert_allclose(x, ref.x, rtol=1e-12)
    assert_allclose(y, ref.y, atol=1e-9)
