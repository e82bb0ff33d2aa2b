"""Tests of radiomics_aln._pyradiomics_fast: the speed-ups inside PyRadiomics are bit-identical."""

from __future__ import annotations

import numpy as np
import pytest
import radiomics.base
from extraction_helpers import (
    make_image,
    make_mask,
)
from radiomics import imageoperations

from radiomics_aln import _pyradiomics_fast
from radiomics_aln._pyradiomics_fast import fast_paths, get_bin_edges
from radiomics_aln.params import get_extractor, load_params
from radiomics_aln.roi_features import execute_masks


def test_fast_paths_are_bit_identical_over_every_feature():
    img = make_image(3, spacing=(0.07, 0.07))
    masks = [(0, make_mask(img)), (1, make_mask(img, (5, 50, 40, 95)))]
    extractor = get_extractor(load_params("ultrasound_2d"))
    apply_binning = radiomics.base.RadiomicsFeaturesBase._applyBinning
    assert imageoperations.getBinEdges is not get_bin_edges
    slow = execute_masks(extractor, img, masks)
    hits, misses = _pyradiomics_fast.memo_counts()
    with fast_paths():
        assert radiomics.base.RadiomicsFeaturesBase._applyBinning is not apply_binning
        fast = execute_masks(extractor, img, masks)
    # restored
    assert imageoperations.getBinEdges is not get_bin_edges
    assert radiomics.base.RadiomicsFeaturesBase._applyBinning is apply_binning
    # 2 masks x 9 images: one discretisation each, reused by the 5 other classes
    assert _pyradiomics_fast.memo_counts() == (hits + 2 * 9 * 5, misses + 2 * 9)
    for i in (0, 1):
        assert list(fast[i]) == list(slow[i])
        for k, v in slow[i].items():
            if not k.startswith("diagnostics_"):
                assert float(fast[i][k]) == float(v), k


def test_binning_memo_never_reuses_a_different_discretisation():
    # Same values but another dtype, another mask, other settings: each is computed afresh and
    # equals the original; only a content-equal call is served from the memo.
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (20, 30)).astype(np.float64)
    mask = np.zeros(arr.shape, bool)
    mask[3:15, 4:25] = True

    class Probe:
        def __init__(self, matrix, mask, **settings):
            self.maskArray, self.settings, self.coefficients = mask, settings, {}
            self.matrix = matrix

    def run(fn, probe):
        out = fn(probe, probe.matrix)
        return out, probe.coefficients["grayLevels"], probe.coefficients["Ng"]

    original = radiomics.base.RadiomicsFeaturesBase._applyBinning
    other_mask = mask.copy()
    other_mask[3, 4] = False
    calls = [
        (arr, mask, {"binWidth": 5}),
        (arr.copy(), mask.copy(), {"binWidth": 5}),  # equal content: a hit
        (arr.astype(np.float32), mask, {"binWidth": 5}),
        (arr, other_mask, {"binWidth": 5}),
        (arr, mask, {"binWidth": 3}),
        (arr, mask, {"binCount": 16}),
        (arr + 1e-9, mask, {"binCount": 16}),
    ]
    with fast_paths():
        hits0, misses0 = _pyradiomics_fast.memo_counts()
        for matrix, m, settings in calls:
            got = run(_pyradiomics_fast._apply_binning, Probe(matrix, m, **settings))
            want = run(original, Probe(matrix, m, **settings))
            assert got[0].dtype == want[0].dtype and np.array_equal(got[0], want[0])
            assert np.array_equal(got[1], want[1]) and got[2] == want[2]
        assert _pyradiomics_fast.memo_counts() == (hits0 + 1, misses0 + len(calls) - 1)


def test_fast_paths_stay_off_for_unchecked_pyradiomics_versions():
    assert _pyradiomics_fast._version_checked("v3.1.4")
    assert _pyradiomics_fast._version_checked("3.1.0")
    assert not _pyradiomics_fast._version_checked("3.2.0")
    assert not _pyradiomics_fast._version_checked("")


@pytest.mark.parametrize(
    "values",
    [
        np.array([54.0, 80.0, 166.0]),
        np.array([-0.0, 0.0, 3.0]),
        np.array([0.0, -0.0, -7.25, 12.5]),
        np.array([5.0, 5.0]),
        np.array([10, 3, 255], dtype=np.int64),
    ],
)
def test_fast_bin_edges_equal_pyradiomics(values):
    ref = np.asarray(imageoperations.getBinEdges(values, binWidth=5))
    new = np.asarray(get_bin_edges(values, binWidth=5))
    assert ref.dtype == new.dtype and ref.tobytes() == new.tobytes()
