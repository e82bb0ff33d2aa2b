"""Bad inputs to the bootstrap validation (``bootstrap_validate``, ``bootstrap_calibrate``).

Each case asserts the exception class and that the message names the argument, column, level
or rows at fault. Before issue 13 the n_boot-text, n_boot-nan, random_state and n_jobs cases gave a raw
``ValueError``/``TypeError``, and n_boot-fraction and n_boot-bool ran with a silently changed number of
resamples (2.5 ran 2, True ran 1).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radiomics_aln.exceptions import InputError, SmallSampleWarning
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.validation import bootstrap_calibrate, bootstrap_validate

REF = Path(__file__).parent / "reference"
PREDICTORS = ["score", "size", "grade"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "validate_sparse_data.csv")


@pytest.fixture(scope="module")
def model(data) -> LogisticNomogram:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return LogisticNomogram().fit(data, "y", PREDICTORS)


def _validate(**kw):
    def run(model, data):
        args = {"model": model, "data": data, "y": "y", "n_boot": 2, "random_state": 0}
        args.update({k: (v(model, data) if callable(v) else v) for k, v in kw.items()})
        return bootstrap_validate(args.pop("model"), args.pop("data"), args.pop("y"), **args)

    return run


def _calibrate(**kw):
    def run(model, data):
        args = {"model": model, "data": data, "y": "y", "n_boot": 2, "random_state": 0}
        args.update({k: (v(model, data) if callable(v) else v) for k, v in kw.items()})
        return bootstrap_calibrate(args.pop("model"), args.pop("data"), args.pop("y"), **args)

    return run


def _set(col, row, value):
    return lambda m, d: d.assign(**{col: d[col].astype(object).where(d.index != row, value)})


# (id, call, message pattern naming what is wrong)
CASES = [
    ("n_boot-zero", _validate(n_boot=0), r"n_boot must be .* got 0"),
    ("n_boot-negative", _validate(n_boot=-3), r"n_boot must be .* got -3"),
    ("n_boot-text", _validate(n_boot="many"), r"n_boot must be .* got 'many'"),
    ("n_boot-fraction", _validate(n_boot=2.5), r"n_boot must be .* got 2\.5"),
    ("n_boot-nan", _validate(n_boot=float("nan")), r"n_boot must be .* got nan"),
    ("n_boot-bool", _validate(n_boot=True), r"n_boot must be .* got True"),
    ("random_state-text", _validate(random_state="x"), r"random_state must be .* 'x'"),
    ("random_state-negative", _validate(random_state=-1), r"random_state must be .* -1"),
    ("n_jobs-zero", _validate(n_jobs=0), r"n_jobs must be .* got 0"),
    ("n_jobs-fraction", _validate(n_jobs=1.5), r"n_jobs must be .* got 1\.5"),
    ("model-unfitted", _validate(model=LogisticNomogram()), r"needs a fitted LogisticNomogram"),
    ("data-array", _validate(data=lambda m, d: d.to_numpy()), r"data must be a DataFrame"),
    ("outcome-absent", _validate(y="aln"), r"outcome column `aln` is not in data"),
    ("outcome-not-binary", _validate(data=lambda m, d: d.assign(y=d.y * 2)), r"`y` .* 0 and 1"),
    ("outcome-nan", _validate(data=_set("y", 3, np.nan)), r"`y` .*rows 3 hold nan"),
    (
        "outcome-length",
        _validate(y=lambda m, d: d.y.to_numpy()[:-1]),
        r"outcome has 59 values but data has 60 rows",
    ),
    (
        "predictor-absent",
        _validate(data=lambda m, d: d.drop(columns="size")),
        r"lacks predictor column\(s\): size",
    ),
    ("predictor-nan", _validate(data=_set("size", 5, np.nan)), r"`size` in rows 5"),
    (
        "level-unseen",
        _validate(data=_set("grade", 5, "huge")),
        r"`grade` .* level\(s\) huge not seen in fit \(rows 5\)",
    ),
    ("predicted-above-1", _calibrate(predicted=[0.2, 1.5]), r"`predicted` .* \[0, 1\]"),
    ("predicted-nan", _calibrate(predicted=[0.2, np.nan]), r"`predicted` .* non-finite"),
    (
        "predicted-default-too-few-cases",
        _calibrate(data=lambda m, d: d.iloc[:10]),
        r"more than 10 cases for the default `predicted` grid",
    ),
]


@pytest.mark.parametrize("call, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bootstrap_bad_input(model, data, call, pattern):
    with pytest.raises(InputError, match=pattern):
        call(model, data)


def test_whole_number_n_boot_given_as_float_runs(model, data):
    # 2.0 is a whole number of resamples: accepted, same result as 2
    a = bootstrap_validate(model, data, "y", n_boot=2.0, random_state=0, repeat_selection=False)
    b = bootstrap_validate(model, data, "y", n_boot=2, random_state=0, repeat_selection=False)
    pd.testing.assert_frame_equal(a, b)
