"""Private speed-ups for PyRadiomics that return bit-identical results.

Two steps of PyRadiomics 3.1 cost far more than they need to in a 2D extraction of 846 features:

* **Bin edges.** The fixed-bin-width discretisation (:func:`radiomics.imageoperations.getBinEdges`)
  finds the ROI's minimum and maximum with Python's builtin ``min()``/``max()``, which iterate
  over a NumPy array one element at a time. :func:`get_bin_edges` finds the same two elements
  with ``argmin``/``argmax`` and keeps every later statement of the original. The builtin ``min``
  keeps the first element that nothing after it is strictly smaller than -- the *first
  occurrence* of the minimum -- as a NumPy scalar of the array's dtype; ``values[values.argmin()]``
  is the same element with the same dtype (this matters only for ``-0.0`` versus ``0.0``). Arrays
  containing NaN, empty arrays, non-numeric arrays and fixed bin counts go to the original.

* **Binning once per image, not once per feature class.** Every texture class (and first order)
  discretises the same cropped image and mask again in its constructor
  (``RadiomicsFeaturesBase._applyBinning``): six identical discretisations per filtered image.
  :func:`_apply_binning` remembers the last one (per thread) and hands the next class a copy of it
  when the image values, the mask and the settings are equal to the remembered ones -- compared
  element by element, with dtype and shape -- so a class gets exactly what the original would
  have computed; anything else is computed by the original and remembered.

:func:`fast_paths` switches both on for the duration of a ``with`` block, and only for PyRadiomics
versions whose code these replacements were checked against (:data:`CHECKED_VERSIONS`); with any
other version PyRadiomics runs unchanged. ``tests/test_pyradiomics_fast.py`` compares every
feature of full extractions with and without them for exact equality.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator

import numpy as np
import radiomics
from radiomics import base, imageoperations

__all__ = ["CHECKED_VERSIONS", "fast_paths", "get_bin_edges"]

#: PyRadiomics version prefixes whose ``getBinEdges`` and ``_applyBinning`` were read and tested.
CHECKED_VERSIONS = ("3.1.",)

_ORIGINAL_BIN_EDGES = imageoperations.getBinEdges
_ORIGINAL_APPLY_BINNING = base.RadiomicsFeaturesBase._applyBinning
_lock = threading.Lock()
_depth = 0


def _version_checked(version: str = getattr(radiomics, "__version__", "")) -> bool:
    return version.lstrip("v").startswith(CHECKED_VERSIONS)


def get_bin_edges(parameterValues, **kwargs):
    """Drop-in replacement for ``radiomics.imageoperations.getBinEdges`` (same result, faster).

    Examples
    --------
    >>> import numpy as np
    >>> from radiomics import imageoperations
    >>> x = np.array([54.0, 80.0, 166.0])
    >>> get_bin_edges(x, binWidth=25).tolist() == list(imageoperations.getBinEdges(x, binWidth=25))
    True
    """
    if kwargs.get("binCount") is not None:
        return _ORIGINAL_BIN_EDGES(parameterValues, **kwargs)
    values = parameterValues
    if (
        not isinstance(values, np.ndarray)
        or values.ndim != 1
        or values.size == 0
        or values.dtype.kind not in "fiu"
    ):
        return _ORIGINAL_BIN_EDGES(parameterValues, **kwargs)
    minimum = values[values.argmin()]
    maximum = values[values.argmax()]
    if minimum != minimum or maximum != maximum:  # NaN present: keep PyRadiomics' own behaviour
        return _ORIGINAL_BIN_EDGES(parameterValues, **kwargs)

    # From here on, the statements of PyRadiomics 3.1 getBinEdges (fixed bin width branch).
    binWidth = kwargs.get("binWidth", 25)
    lowBound = minimum - (minimum % binWidth)
    highBound = maximum + 2 * binWidth
    binEdges = np.arange(lowBound, highBound, binWidth)
    if len(binEdges) == 1:
        binEdges = [binEdges[0] - 0.5, binEdges[0] + 0.5]
    return binEdges


class _Memo(threading.local):
    # (image values, mask, settings, binned image, grey levels, Ng) of the last discretisation
    entry: tuple | None = None
    hits = 0
    misses = 0


_memo = _Memo()


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def _same_settings(a: dict, b: dict) -> bool:
    try:
        return bool(a == b)
    except Exception:  # e.g. an array-valued setting: treat as different, compute afresh
        return False


def _apply_binning(self, matrix):
    """``RadiomicsFeaturesBase._applyBinning``, reusing the previous class's identical result."""
    mask = self.maskArray
    entry = _memo.entry
    if (
        entry is not None
        and isinstance(matrix, np.ndarray)
        and isinstance(mask, np.ndarray)
        and _same_array(matrix, entry[0])
        and _same_array(mask, entry[1])
        and _same_settings(self.settings, entry[2])
    ):
        _memo.hits += 1
        self.coefficients["grayLevels"] = entry[4].copy()
        self.coefficients["Ng"] = entry[5]
        return entry[3].copy()
    _memo.misses += 1
    key = (matrix.copy(), mask.copy(), copy.deepcopy(self.settings))
    binned = _ORIGINAL_APPLY_BINNING(self, matrix)
    levels = self.coefficients["grayLevels"]
    _memo.entry = (*key, binned.copy(), levels.copy(), self.coefficients["Ng"])
    return binned


def memo_counts() -> tuple[int, int]:
    """(hits, misses) of the binning memo in this thread, for tests and benchmarks."""
    return _memo.hits, _memo.misses


@contextlib.contextmanager
def fast_paths(enabled: bool = True) -> Iterator[None]:
    """Use the bit-identical speed-ups inside PyRadiomics for the duration of the ``with`` block.

    Re-entrant and thread-safe: the original functions are restored when the outermost block
    exits, and the memo of the last discretisation is dropped then. Does nothing when
    ``enabled`` is false or the installed PyRadiomics is not one of :data:`CHECKED_VERSIONS`.

    Examples
    --------
    >>> from radiomics import imageoperations
    >>> with fast_paths():
    ...     imageoperations.getBinEdges is get_bin_edges
    True
    >>> imageoperations.getBinEdges is get_bin_edges
    False
    """
    global _depth
    if not enabled or not _version_checked():
        yield
        return
    with _lock:
        _depth += 1
        imageoperations.getBinEdges = get_bin_edges
        base.RadiomicsFeaturesBase._applyBinning = _apply_binning
    try:
        yield
    finally:
        _memo.entry = None
        with _lock:
            _depth -= 1
            if _depth == 0:
                imageoperations.getBinEdges = _ORIGINAL_BIN_EDGES
                base.RadiomicsFeaturesBase._applyBinning = _ORIGINAL_APPLY_BINNING
