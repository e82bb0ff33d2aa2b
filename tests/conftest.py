"""Shared test configuration: headless plotting and the optional ../shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(os.environ.get("RADIOMICS_ALN_SHARED", ROOT.parent / "shared"))
BREAST_DIR = SHARED / "data" / "BrEaST-Lesions-USG"


@pytest.fixture(scope="session")
def test_data_dir() -> Path:
    return TEST_DATA


@pytest.fixture(scope="session")
def breast_dir() -> Path:
    """The full BrEaST-Lesions-USG dataset in ../shared; skips cleanly when absent."""
    if not BREAST_DIR.is_dir():
        pytest.skip(f"../shared dataset not present at {BREAST_DIR}")
    return BREAST_DIR


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
