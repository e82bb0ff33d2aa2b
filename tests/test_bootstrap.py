"""The one bootstrap engine (radiomics_aln._bootstrap): seeded, chunked, the same resamples
whatever the chunk size, shared by the AUC's stratified bootstrap and the decision curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiomics_aln import _bootstrap
from radiomics_aln.decision import clinical_impact, decision_curve
from radiomics_aln.metrics import roc_auc


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    p = np.clip(np.round(0.3 + 0.3 * y + rng.normal(0, 0.2, n), 2), 0, 1)
    return y, p


def test_chunks_stack_to_one_draw():
    """Chunked draws are the single (n_boot, n) draw of the same Generator."""
    chunks = [c[0] for c in _bootstrap.resample_indices(10, [37], random_state=3,
                                                        elements_per_resample=10**6)]
    assert len(chunks) == 3  # 4_000_000 // 10**6 = 4 resamples per chunk: 4 + 4 + 2
    whole = np.random.default_rng(3).integers(0, 37, size=(10, 37))
    assert (np.vstack(chunks) == whole).all()


def test_unstratified_results_do_not_depend_on_the_chunk_size(monkeypatch):
    """Decision curves resample patients as a whole: any chunking gives the same numbers. (The
    AUC's stratified draws interleave cases and controls per chunk, so there the chunk size,
    a fixed function of the data's size, is part of what a seed means.)"""
    y, p = _data()
    dca = decision_curve(y, {"m": p}, thresholds=[0.2, 0.4], n_boot=300, random_state=1)
    cic = clinical_impact(y, p, thresholds=[0.2, 0.4], n_boot=300, random_state=1)
    monkeypatch.setattr(_bootstrap, "CHUNK_ELEMENTS", 1000)  # 8 resamples per chunk
    pd.testing.assert_frame_equal(
        dca, decision_curve(y, {"m": p}, thresholds=[0.2, 0.4], n_boot=300, random_state=1)
    )
    pd.testing.assert_frame_equal(
        cic, clinical_impact(y, p, thresholds=[0.2, 0.4], n_boot=300, random_state=1)
    )


def test_generator_and_int_seed_give_the_same_resamples():
    y, p = _data()
    a = roc_auc(y, p, ci="bootstrap", n_boot=200, random_state=5)
    b = roc_auc(y, p, ci="bootstrap", n_boot=200, random_state=np.random.default_rng(5))
    pd.testing.assert_frame_equal(a, b)


def test_multiplicities_count_each_row():
    idx = np.array([[0, 0, 2], [1, 2, 2]])
    w = _bootstrap.multiplicities(idx, 3)
    assert w.tolist() == [[2.0, 0.0, 1.0], [0.0, 1.0, 2.0]]
    assert (w.sum(axis=1) == 3).all()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_map_resamples_keeps_the_order(n_jobs):
    idx = np.arange(12).reshape(6, 2)
    out = _bootstrap.map_resamples(lambda i, k: int(i.sum()) * k, idx, 10, n_jobs=n_jobs)
    assert out == [int(r.sum()) * 10 for r in idx]


def test_stratified_bootstrap_is_reproducible_and_seed_dependent():
    y, p = _data()
    a = roc_auc(y, p, ci="bootstrap", n_boot=300, random_state=1)
    pd.testing.assert_frame_equal(a, roc_auc(y, p, ci="bootstrap", n_boot=300, random_state=1))
    assert a.loc["auc", "ci_low"] != roc_auc(
        y, p, ci="bootstrap", n_boot=300, random_state=2
    ).loc["auc", "ci_low"]
