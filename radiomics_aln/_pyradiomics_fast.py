"""Private speed-ups for PyRadiomics that return bit-identical results.

PyRadiomics' fixed-bin-width discretisation (:func:`radiomics.imageoperations.getBinEdges`) finds
the ROI's minimum and maximum with Python's builtin ``min()``/``max()``, which iterate over a NumPy
array one element at a time; profiling an 846-feature 2D extraction put about a quarter of the
time there. :func:`fast_binning` swaps in a version that finds the same two elements with
``argmin``/``argmax`` and keeps every later step of the original function unchanged.

Why the result is bit-identical: the builtin ``min`` keeps the first element that nothing after it
is strictly smaller than, i.e. the *first occurrence* of the minimum, and returns that element as a
NumPy scalar of the array's dtype; ``values[values.argmin()]`` is also the first occurrence (this
matters only for ``-0.0`` versus ``0.0``) with the same dtype. Arrays containing NaN, empty
arrays, non-numeric arrays and fixed bin counts are handed to the original function untouched.
``tests/test_extraction.py`` checks every feature of full extractions with and without the patch
for exact equality.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np
from radiomics import imageoperations

__all__ = ["fast_binning", "get_bin_edges"]

_ORIGINAL = imageoperations.getBinEdges
_lock = threading.Lock()
_depth = 0


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
        return _ORIGINAL(parameterValues, **kwargs)
    values = parameterValues
    if (
        not isinstance(values, np.ndarray)
        or values.ndim != 1
        or values.size == 0
        or values.dtype.kind not in "fiu"
    ):
        return _ORIGINAL(parameterValues, **kwargs)
    minimum = values[values.argmin()]
    maximum = values[values.argmax()]
    if minimum != minimum or maximum != maximum:  # NaN present: keep PyRadiomics' own behaviour
        return _ORIGINAL(parameterValues, **kwargs)

    # From here on, the statements of PyRadiomics 3.1 getBinEdges (fixed bin width branch).
    binWidth = kwargs.get("binWidth", 25)
    lowBound = minimum - (minimum % binWidth)
    highBound = maximum + 2 * binWidth
    binEdges = np.arange(lowBound, highBound, binWidth)
    if len(binEdges) == 1:
        binEdges = [binEdges[0] - 0.5, binEdges[0] + 0.5]
    return binEdges


@contextlib.contextmanager
def fast_binning(enabled: bool = True) -> Iterator[None]:
    """Use :func:`get_bin_edges` inside PyRadiomics for the duration of the ``with`` block.

    Re-entrant and thread-safe: the original function is restored when the outermost block exits.

    Examples
    --------
    >>> from radiomics import imageoperations
    >>> with fast_binning():
    ...     imageoperations.getBinEdges is get_bin_edges
    True
    >>> imageoperations.getBinEdges is get_bin_edges
    False
    """
    global _depth
    if not enabled:
        yield
        return
    with _lock:
        _depth += 1
        imageoperations.getBinEdges = get_bin_edges
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                imageoperations.getBinEdges = _ORIGINAL
