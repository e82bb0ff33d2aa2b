"""The one bootstrap resampling engine: seeded draws, in memory-bounded chunks, run in order.

Every bootstrap of the package draws its resamples here, so that the same data, ``n_boot`` and
``random_state`` always give the same resamples, whatever the number of workers:

- :func:`resample_indices` draws row indices with replacement, per stratum (cases and controls
  resampled separately for a stratified bootstrap), chunk by chunk from one numpy Generator.
  A chunk of ``b`` resamples is ``rng.integers(0, size, (b, size))`` for each stratum in
  turn. An unstratified bootstrap's chunks, stacked, are the single draw
  ``rng.integers(0, n, (n_boot, n))``, so its numbers do not depend on the chunk size; a
  stratified one's strata interleave chunk by chunk, so its numbers depend on the chunk size
  too, which is a fixed function of the data's size (:data:`CHUNK_ELEMENTS`), never of the
  machine.
- :func:`resample_weights` gives each resample as multiplicities (how often each row was
  drawn), which turns a statistic that is a weighted sum into one matrix product per chunk.
- :func:`map_resamples` applies a function to resamples, in order, optionally in parallel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from radiomics_aln._validation import check_generator

__all__ = [
    "CHUNK_ELEMENTS",
    "chunk_sizes",
    "map_resamples",
    "multiplicities",
    "resample_indices",
    "resample_weights",
]

#: Work arrays of one chunk hold at most about this many elements (memory bound).
CHUNK_ELEMENTS = 4_000_000


def chunk_sizes(n_boot: int, elements_per_resample: int) -> Iterator[int]:
    """Sizes of the chunks ``n_boot`` resamples are split into (each at most CHUNK_ELEMENTS)."""
    chunk = max(1, CHUNK_ELEMENTS // max(int(elements_per_resample), 1))
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        yield b
        done += b


def resample_indices(
    n_boot: int,
    sizes: Sequence[int],
    *,
    random_state: int | np.random.Generator | None,
    elements_per_resample: int | None = None,
) -> Iterator[tuple[np.ndarray, ...]]:
    """Bootstrap row indices, chunk by chunk: one ``(b, size)`` array per stratum.

    Parameters
    ----------
    n_boot : int
        Number of resamples.
    sizes : sequence of int
        Size of each stratum (one size: an ordinary bootstrap of ``sizes[0]`` rows).
    random_state : int, numpy Generator or None
        Seed; a Generator is used as it is.
    elements_per_resample : int, optional
        Size of the caller's work arrays per resample, which sets the chunk size (default
        ``sum(sizes)``).

    Yields
    ------
    tuple of numpy.ndarray
        For each stratum, the indices (into that stratum) of ``b`` resamples.

    Examples
    --------
    >>> chunks = list(resample_indices(4, [3], random_state=0))
    >>> [c[0].shape for c in chunks]
    [(4, 3)]
    """
    rng = check_generator(random_state)
    per = sum(sizes) if elements_per_resample is None else elements_per_resample
    for b in chunk_sizes(n_boot, per):
        yield tuple(rng.integers(0, s, size=(b, s)) for s in sizes)


def multiplicities(indices: np.ndarray, n: int) -> np.ndarray:
    """How often each of ``n`` rows occurs in each resample: ``(b, n)`` floats from ``(b, n)``
    indices.

    Examples
    --------
    >>> multiplicities(np.array([[0, 0, 2], [1, 2, 2]]), 3)
    array([[2., 0., 1.],
           [0., 1., 2.]])
    """
    b = indices.shape[0]
    offs = (np.arange(b) * n)[:, None]
    return np.bincount((indices + offs).ravel(), minlength=b * n).reshape(b, n).astype(float)


def resample_weights(
    n: int, n_boot: int, *, random_state: int | np.random.Generator | None
) -> Iterator[np.ndarray]:
    """Ordinary (unstratified) bootstrap of ``n`` rows as multiplicity matrices, chunk by chunk."""
    for (idx,) in resample_indices(n_boot, [n], random_state=random_state):
        yield multiplicities(idx, n)


def map_resamples(
    func: Callable[..., Any], indices: np.ndarray, *args: Any, n_jobs: int | None = None
) -> list[Any]:
    """``[func(idx, *args) for idx in indices]`` in order, on ``n_jobs`` workers (joblib).

    Resamples go to the workers in a few contiguous chunks (fewer copies of ``args``); the
    results come back in the order of ``indices``, so every number is the same for any
    ``n_jobs``.
    """
    from joblib import Parallel, delayed, effective_n_jobs

    workers = effective_n_jobs(n_jobs)
    if workers == 1 or len(indices) <= 1:
        return _apply(func, indices, args)
    chunks = np.array_split(indices, min(len(indices), 4 * workers))
    parts = Parallel(n_jobs=workers)(delayed(_apply)(func, c, args) for c in chunks)
    return [r for part in parts for r in part]


def _apply(func: Callable[..., Any], indices: np.ndarray, args: tuple[Any, ...]) -> list[Any]:
    return [func(idx, *args) for idx in indices]
