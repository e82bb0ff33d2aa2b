"""Shared test configuration: headless plotting, the optional ../shared data folder and the R
reference data sets that several test modules compare against."""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(os.environ.get("RADIOMICS_ALN_SHARED", ROOT.parent / "shared"))
BREAST_DIR = SHARED / "data" / "BrEaST-Lesions-USG"
REFERENCE = Path(__file__).resolve().parent / "reference"


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


# R reference data (tests/reference/*.R). Module scope, as each test module had them before.
@pytest.fixture(scope="module")
def birthwt() -> pd.DataFrame:
    """MASS::birthwt as written by tests/reference/nomogram.R."""
    return pd.read_csv(REFERENCE / "birthwt.csv")


@pytest.fixture(scope="module")
def asah() -> pd.DataFrame:
    """pROC::aSAH."""
    return pd.read_csv(REFERENCE / "aSAH.csv")


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    """The simulated two-model cohort of tests/reference/metrics.R."""
    return pd.read_csv(REFERENCE / "metrics_sim_data.csv")


@pytest.fixture(scope="module")
def ref() -> dict:
    """pROC/Hmisc reference values of tests/reference/metrics.R."""
    out = json.loads((REFERENCE / "metrics_reference.json").read_text())
    # provenance of the reference: a precondition of the comparisons, not a test of its own
    assert (out["pROC_version"], out["Hmisc_version"]) == ("1.18.0", "4.8.0")
    return out
