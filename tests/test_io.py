"""JSON model envelope: round trip, atomic write, and refusal of foreign or newer files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from radiomics_aln import __version__
from radiomics_aln.exceptions import InputError
from radiomics_aln.io import dump_model, load_model, to_jsonable


def test_round_trip_through_file(tmp_path):
    params = {"alpha": 1.0, "names": ("a", "b")}
    state = {
        "coef": np.array([0.5, -1.25]),
        "intercept": np.float64(0.1),
        "n": np.int64(3),
        "flags": np.array([True, False]),
        "series": pd.Series([1.0, 2.0], index=["x", "y"]),
    }
    path = tmp_path / "model.json"
    text = dump_model("Dummy", params, state, path)
    assert path.read_text(encoding="utf-8") == text
    assert not (tmp_path / "model.json.tmp").exists()
    doc = load_model(path, expected_type="Dummy")
    assert doc["library_version"] == __version__
    assert doc["params"] == {"alpha": 1.0, "names": ["a", "b"]}
    assert doc["state"]["coef"] == [0.5, -1.25]
    assert doc["state"]["series"] == {"x": 1.0, "y": 2.0}
    assert doc["state"]["flags"] == [True, False]
    # Text input works as well as a path.
    assert load_model(text)["type"] == "Dummy"


def test_nan_becomes_null_and_infinity_text():
    assert to_jsonable([np.nan, np.inf, -np.inf, 1.0]) == [None, "inf", "-inf", 1.0]
    text = dump_model("Dummy", {}, {"x": float("nan")})
    assert json.loads(text)["state"]["x"] is None


def test_dataframe_is_stored_by_columns_and_index():
    df = pd.DataFrame({"a": [1.0, 2.0]}, index=["c1", "c2"])
    assert to_jsonable(df) == {"columns": ["a"], "index": ["c1", "c2"], "data": [[1.0], [2.0]]}


def test_objects_that_are_not_data_are_refused():
    with pytest.raises(TypeError, match="cannot store an object of type"):
        to_jsonable(object())


def test_wrong_type_foreign_file_and_newer_version(tmp_path):
    text = dump_model("RadScore", {}, {})
    with pytest.raises(InputError, match="holds a 'RadScore', not a 'LogisticNomogram'"):
        load_model(text, expected_type="LogisticNomogram")
    foreign = tmp_path / "other.json"
    foreign.write_text('{"coef": [1, 2]}')
    with pytest.raises(InputError, match="not a radiomics_aln model file"):
        load_model(foreign)
    newer = json.loads(text)
    newer["format_version"] = 99
    with pytest.raises(InputError, match="newer than this library reads"):
        load_model(json.dumps(newer))
    with pytest.raises(InputError, match="does not exist"):
        load_model(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(InputError, match="broken.json is not valid JSON"):
        load_model(broken)
