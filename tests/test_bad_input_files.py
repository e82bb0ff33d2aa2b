"""Bad model, configuration, manifest and cache files (issue 13, section 3).

Every bad file gives an :class:`InputError` (or :class:`ManifestError`) whose message names the
file and the key, line or column at fault -- never a ``KeyError``, ``TypeError``,
``UnicodeDecodeError`` or ``RecursionError``, and never a silently wrong number. A damaged
feature-cache entry is recomputed and rewritten, never trusted and never a crash.
"""

from __future__ import annotations

import json
import logging
import math
import pickle
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radiomics_aln import cache as cache_module
from radiomics_aln import extraction as ex
from radiomics_aln.config import StudyConfig
from radiomics_aln.exceptions import ExtractionError, InputError, ManifestError
from radiomics_aln.manifest import read_manifest
from radiomics_aln.model import StudyModel
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.score import RadScore

# --------------------------------------------------------------------------- a fitted model


@pytest.fixture(scope="module")
def fitted():
    """A small StudyModel: one LASSO score and two logistic models on synthetic data."""
    rng = np.random.default_rng(0)
    n = 80
    names = [f"tumor__original_firstorder_F{i}" for i in range(6)]
    X = pd.DataFrame(rng.normal(size=(n, 6)), columns=names, index=[f"c{i}" for i in range(n)])
    y = (X.iloc[:, 0] + rng.normal(size=n) > 0).astype(int)
    score = RadScore(name="tumor", random_state=0).fit(X, y)
    data = pd.DataFrame(
        {"age": rng.normal(50, 10, n), "margin": rng.choice(["a", "b"], n), "y": y.to_numpy()},
        index=X.index,
    )
    data["tumor_score"] = np.asarray(score.transform(X), dtype=float).ravel()
    clin = LogisticNomogram(selection=None).fit(data, "y", predictors=["age", "margin"])
    comb = LogisticNomogram(selection=None).fit(
        data, "y", predictors=["age", "margin", "tumor_score"]
    )
    settings = {
        "outcome": "y",
        "params": "ultrasound_2d",
        "width_mm": 5.0,
        "cutoff": comb.youden_cutoff_,
        "points_cutoff": comb.youden_points_cutoff_,
        "clinical_cutoff": clin.youden_cutoff_,
        "train_cohort": "train",
        "categorical": {},
    }
    model = StudyModel(["tumor"], {"tumor": score}, clin, comb, settings)
    frame = X.join(data[["age", "margin"]])
    return SimpleNamespace(model=model, text=model.to_json(), frame=frame, names=names)


def _edit(text: str, path: str, value, *, delete: bool = False) -> str:
    """The model text with the value at a dotted key path replaced (or deleted)."""
    doc = json.loads(text)
    *parents, last = path.split(".")
    node = doc
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if delete:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return json.dumps(doc)


class _Token:
    """A bare JSON token (NaN, Infinity, 1e999) put in place of a value."""

    def __init__(self, token: str) -> None:
        self.token = token


def _with_token(text: str, path: str, token: str) -> str:
    marker = "__TOKEN_MARKER__"
    return _edit(text, path, marker).replace(f'"{marker}"', token)


COMB = "state.combined_model.state"
SCORE = "state.scores.tumor.state"

# (id, edit of the valid model text, pattern the InputError message must contain)
MODEL_EDITS = [
    ("nan_cutoff", lambda t: _with_token(t, "params.cutoff", "NaN"), r"`params\.cutoff` holds nan"),
    (
        "nan_intercept",
        lambda t: _with_token(t, f"{COMB}.intercept", "NaN"),
        rf"`{re.escape(COMB)}\.intercept` holds nan",
    ),
    (
        "infinity_token_in_score_mean",
        lambda t: _with_token(t, f"{SCORE}.mean.tumor__original_firstorder_F0", "Infinity"),
        r"mean\.tumor__original_firstorder_F0` holds inf",
    ),
    (
        "minus_infinity_in_cov",
        lambda t: _with_token(t, f"{COMB}.cov.0.0", "-Infinity"),
        r"cov\[0\]\[0\]` holds -inf",
    ),
    (
        "overflowing_number",
        lambda t: _with_token(t, f"{SCORE}.intercept", "1e999"),
        r"scores\.tumor\.state\.intercept` holds inf",
    ),
    ("null_cutoff", lambda t: _edit(t, "params.cutoff", None), r"`params\.cutoff` must be"),
    (
        "null_intercept",
        lambda t: _edit(t, f"{COMB}.intercept", None),
        r"combined_model\.state\.intercept` must be a finite number, got null",
    ),
    (
        "inf_text_in_coefficient",
        lambda t: _edit(t, f"{COMB}.coef.values.0", "inf"),
        r"coef\.values\[0\]` must be a finite number",
    ),
    (
        "nan_text_cutoff_in_nomogram",
        lambda t: _edit(t, f"{COMB}.youden_cutoff", "nan"),
        r"youden_cutoff` must be a finite number, \"inf\" or \"-inf\"",
    ),
    (
        "missing_key_cov",
        lambda t: _edit(t, f"{COMB}.cov", None, delete=True),
        r"combined_model\.state` lacks the key\(s\) 'cov'",
    ),
    (
        "missing_score_section",
        lambda t: _edit(t, "state.scores", None, delete=True),
        r"`state` lacks the key\(s\) 'scores'",
    ),
    (
        "missing_settings_cutoff",
        lambda t: _edit(t, "params.cutoff", None, delete=True),
        r"`params` lacks the key\(s\) 'cutoff'",
    ),
    (
        "extra_state_key",
        lambda t: _edit(t, f"{SCORE}.surprise", 1),
        r"scores\.tumor\.state` has unknown key\(s\) 'surprise'",
    ),
    (
        "extra_top_level_key",
        lambda t: _edit(t, "comment", "hi"),
        r"`\(top level\)` has unknown key\(s\) 'comment'",
    ),
    (
        "unknown_estimator_parameter",
        lambda t: _edit(t, "state.clinical_model.params.alpha", 1.0),
        r"clinical_model\.params` has unknown key\(s\) 'alpha'",
    ),
    (
        "count_as_text",
        lambda t: _edit(t, f"{COMB}.n", "80"),
        r"combined_model\.state\.n` must be a whole number, got \"80\"",
    ),
    (
        "coefficients_as_text",
        lambda t: _edit(t, f"{COMB}.coef.values", "0.1 0.2"),
        r"coef\.values` must be a list",
    ),
    ("ring_as_text", lambda t: _edit(t, "params.width_mm", "5 mm"), r"`params\.width_mm` must be"),
    (
        "format_version_text",
        lambda t: _edit(t, "format_version", "one"),
        r"`format_version` must be a whole number",
    ),
    (
        "format_version_bool",
        lambda t: _edit(t, "format_version", True),
        r"`format_version` must be a whole number",
    ),
    (
        "format_version_float",
        lambda t: _edit(t, "format_version", 1.5),
        r"`format_version` must be a whole number",
    ),
    ("format_version_newer", lambda t: _edit(t, "format_version", 99), r"newer than this library"),
    (
        "nested_format_version_text",
        lambda t: _edit(t, "state.scores.tumor.format_version", "1"),
        r"`state\.scores\.tumor\.format_version` must be a whole number",
    ),
    (
        "nested_not_a_model",
        lambda t: _edit(t, "state.combined_model", {"coef": [1, 2]}),
        r"state\.combined_model is not a radiomics_aln model file",
    ),
    (
        "nested_wrong_type",
        lambda t: _edit(t, "state.combined_model.type", "RadScore"),
        r"holds a 'RadScore', not a 'LogisticNomogram'",
    ),
    (
        "nesting_too_deep_for_the_schema",
        lambda t: _edit(t, f"{COMB}.axes.age.values", json.loads("[" * 40 + "]" * 40)),
        r"nested deeper than 32 levels",
    ),
    ("nesting_too_deep_for_json", lambda t: t[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000
     + "}", r"nested too deeply"),  # fmt: skip
    (
        "duplicate_key",
        lambda t: t.replace('"format": "radiomics_aln",', '"format": "radiomics_aln", "type": 1,'),
        r"the key 'type' appears twice",
    ),
    (
        "coef_names_and_values_differ",
        lambda t: _edit(t, f"{COMB}.coef.names", ["age"]),
        r"inconsistent .*state\.coef\.names and state\.coef\.values differ in length",
    ),
    (
        "cov_not_square",
        lambda t: _edit(t, f"{COMB}.cov", [[1.0, 0.0], [0.0, 1.0]]),
        r"state\.cov is not a 4 x 4 matrix",
    ),
    (
        "zero_scale",
        lambda t: _edit(t, f"{SCORE}.scale.tumor__original_firstorder_F1", 0.0),
        r"at `state\.scores\.tumor` is inconsistent .*state\.scale holds a value <= 0",
    ),
    (
        "score_keys_differ",
        lambda t: _edit(t, f"{SCORE}.mean", {"other": 0.0}),
        r"state\.mean is not keyed by exactly state\.feature_names_in",
    ),
    (
        "rois_and_scores_differ",
        lambda t: _edit(t, "state.rois", ["tumor", "ln"]),
        r"state\.rois and the keys of state\.scores differ",
    ),
    (
        "axis_lengths_differ",
        lambda t: _edit(t, f"{COMB}.axes.age.points", [0.0]),
        r"state\.axes\.age: values, contrib and points differ in length",
    ),
    ("top_level_list", lambda t: "[" + t + "]", r"not a radiomics_aln model file"),
    ("truncated", lambda t: t[: len(t) // 2], r"is not valid JSON"),
]


@pytest.mark.parametrize(
    ("edit", "pattern"), [m[1:] for m in MODEL_EDITS], ids=[m[0] for m in MODEL_EDITS]
)
def test_bad_model_file_is_refused_naming_the_key(fitted, tmp_path, edit, pattern):
    path = tmp_path / "model.json"
    path.write_text(edit(fitted.text), encoding="utf-8")
    with pytest.raises(InputError, match=pattern) as info:
        StudyModel.from_json(path)
    assert str(path) in str(info.value)


# (id, bytes of the file or a callable making the path, pattern)
MODEL_FILES = [
    ("empty_file", b"", r"model\.json is empty"),
    ("whitespace_only", b" \n\t\n", r"is empty"),
    ("pickle_bytes", pickle.dumps({"coef": [1.0]}), r"looks like a Python pickle"),
    ("utf16_text", "utf-16", r"is UTF-16/UTF-32 text; model files are UTF-8"),
    ("latin1_text", "latin-1", r"is not UTF-8 text \(byte \d+ is 0xe9\)"),
    ("foreign_json", b'{"coef": [1, 2]}', r"not a radiomics_aln model file"),
]


@pytest.mark.parametrize(
    ("content", "pattern"), [m[1:] for m in MODEL_FILES], ids=[m[0] for m in MODEL_FILES]
)
def test_model_file_that_is_not_model_json(fitted, tmp_path, content, pattern):
    path = tmp_path / "model.json"
    if content == "utf-16":
        content = fitted.text.encode("utf-16")
    elif content == "latin-1":  # an accent in the outcome name, saved by a Windows editor
        content = fitted.text.replace('"y"', '"\u00e9"', 1).encode("latin-1")
    path.write_bytes(content)
    with pytest.raises(InputError, match=pattern) as info:
        StudyModel.from_json(path)
    assert str(path) in str(info.value)


def test_model_path_that_is_a_folder(tmp_path):
    with pytest.raises(InputError, match=rf"{re.escape(str(tmp_path))} is a folder"):
        StudyModel.from_json(tmp_path)


def test_standalone_score_and_nomogram_files_name_their_keys(fitted):
    score_text = fitted.model.scores["tumor"].to_json()
    with pytest.raises(InputError, match=r"JSON text: `state\.intercept` holds nan"):
        RadScore.from_json(_with_token(score_text, "state.intercept", "NaN"))
    nomo_text = fitted.model.combined_model.to_json()
    with pytest.raises(InputError, match=r"`state\.points_scale` must be a finite number"):
        LogisticNomogram.from_json(_edit(nomo_text, "state.points_scale", None))


@pytest.fixture(scope="module")
def icc_text():
    from radiomics_aln.icc_filter import ICCFilter

    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(20, 3)), columns=["tumor__a", "tumor__b", "tumor__c"],
                     index=[f"p{i}" for i in range(20)])  # fmt: skip
    noise = pd.DataFrame(rng.normal(0, 0.1, X.shape), index=X.index, columns=X.columns)
    return ICCFilter().fit(X, repeats={"reader2": X + noise, "repeat": X - noise}).to_json()


ICC_EDITS = [
    ("support_text", lambda t: _edit(t, "state.support.0", "yes"),
     r"`state\.support\[0\]` must be true or false"),
    ("support_short", lambda t: _edit(t, "state.support", [True]),
     r"state\.support and state\.feature_names_in differ in length"),
    ("nan_threshold", lambda t: _with_token(t, "params.threshold", "NaN"),
     r"`params\.threshold` holds nan"),
    ("unknown_param", lambda t: _edit(t, "params.alpha", 0.5),
     r"`params` has unknown key\(s\) 'alpha'"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "pattern"), [e[1:] for e in ICC_EDITS], ids=[e[0] for e in ICC_EDITS])
def test_bad_icc_filter_file(icc_text, edit, pattern):
    from radiomics_aln.icc_filter import ICCFilter

    assert ICCFilter.from_json(icc_text).support_.dtype == bool
    with pytest.raises(InputError, match=pattern):
        ICCFilter.from_json(edit(icc_text))


def test_valid_model_round_trips(fitted, tmp_path):
    back = StudyModel.from_json(fitted.text)
    pd.testing.assert_frame_equal(back.predict(fitted.frame), fitted.model.predict(fitted.frame))


def test_model_file_from_before_width_mm_is_read(fitted):
    """Files written before issue 14 call the ring width ``ring_mm``: read, as ``width_mm``."""
    doc = json.loads(fitted.text)
    doc["params"]["ring_mm"] = doc["params"].pop("width_mm")
    back = StudyModel.from_json(json.dumps(doc))
    assert back.settings["width_mm"] == 5.0 and "ring_mm" not in back.settings
    pd.testing.assert_frame_equal(back.predict(fitted.frame), fitted.model.predict(fitted.frame))


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        pytest.param(lambda p: p.pop("width_mm"), r"`params\.width_mm` .* is missing",
                     id="no-ring-width"),
        pytest.param(lambda p: p.update(ring_mm=5.0), r"params holds both width_mm and .*ring_mm",
                     id="both-ring-width-names"),
    ],
)  # fmt: skip
def test_model_file_ring_width_key(fitted, edit, pattern):
    doc = json.loads(fitted.text)
    edit(doc["params"])
    with pytest.raises(InputError, match=pattern):
        StudyModel.from_json(json.dumps(doc))


@pytest.mark.parametrize("cutoff", [math.inf, -math.inf])
def test_an_infinite_youden_cutoff_saves_and_predicts(fitted, tmp_path, cutoff):
    """A model without discrimination has an infinite Youden cutoff: saved as text, read back."""
    model = StudyModel.from_json(fitted.text)
    model.settings["cutoff"] = cutoff
    model.combined_model.youden_cutoff_ = cutoff
    path = tmp_path / "model.json"
    model.to_json(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["params"]["cutoff"] == ("inf" if cutoff > 0 else "-inf")
    back = StudyModel.from_json(path)
    assert back.settings["cutoff"] == cutoff
    assert back.combined_model.youden_cutoff_ == cutoff
    groups = set(back.predict(fitted.frame)["risk_group"])
    assert groups == ({"low"} if cutoff > 0 else {"high"})


# --------------------------------------------------------------------------- configuration

CONFIGS = [
    ("empty_file", b"", r"config\.yaml is empty"),
    ("only_a_comment", b"# nothing here\n", r"config\.yaml is empty"),
    ("utf16", "outcome: aln\n".encode("utf-16"), r"config\.yaml is not UTF-8 text"),
    ("latin1", "title: \u00e9tude\n".encode("latin-1"), r"config\.yaml is not UTF-8 text"),
    ("a_list", b"- outcome\n- aln\n", r"config\.yaml: .*must be a mapping, got list"),
    ("a_scalar", b"just text\n", r"config\.yaml: .*must be a mapping, got str"),
    ("unknown_key", b"outcom: aln\n", r"config\.yaml: unknown configuration key\(s\): outcom"),
    ("bad_yaml", b"outcome: [aln\n", r"config\.yaml is not valid YAML"),
    ("duplicate_key", b"outcome: a\noutcome: b\n", r"config\.yaml: .*key 'outcome' .*twice"),
    ("threshold_text", b"icc:\n  threshold: high\n", r"config\.yaml: icc\.threshold must be"),
    ("dca_scalar", b"nomogram:\n  dca_thresholds: 5\n", r"nomogram\.dca_thresholds must be"),
    ("rois_number", b"rois: 5\n", r"config\.yaml: rois must be"),
    ("random_state_text", b"random_state: x\n", r"config\.yaml: random_state must be"),
    ("title_number", b"title: 5\n", r"config\.yaml: title must be"),
    ("test_cohorts_text", b"test_cohorts: internal\n", r"config\.yaml: test_cohorts must be"),
    ("labels_list", b"cohort_labels: [a, b]\n", r"config\.yaml: cohort_labels must be"),
    ("manifest_number", b"manifest: 5\n", r"config\.yaml: manifest must be"),
    ("hl_groups_text", b"nomogram:\n  hl_groups: ten\n", r"config\.yaml: nomogram\.hl_groups"),
    ("p_remove_text", b"nomogram:\n  p_remove: x\n", r"config\.yaml: nomogram\.p_remove must"),
    ("icc_enabled_text", b"icc:\n  enabled: maybe\n", r"config\.yaml: icc\.enabled must be"),
    ("ring_nan", b"width_mm: .nan\n", r"config\.yaml: width_mm=nan must be"),
    ("nested_unknown", b"icc:\n  treshold: 0.8\n", r"config\.yaml: unknown key\(s\) in `icc`"),
]


@pytest.mark.parametrize(
    ("content", "pattern"), [c[1:] for c in CONFIGS], ids=[c[0] for c in CONFIGS]
)
def test_bad_config_file(tmp_path, content, pattern):
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    with pytest.raises(InputError, match=pattern):
        StudyConfig.from_yaml(path)


def test_config_path_that_is_a_folder(tmp_path):
    with pytest.raises(InputError, match=r"is a folder"):
        StudyConfig.from_yaml(tmp_path)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [("setting:\n  binWidth: 5\n".encode("utf-16"), r"cannot read settings file .*settings\.yaml"),
     (b"", r"settings\.yaml\): expected a mapping")],
    ids=["settings_utf16", "settings_empty"],
)  # fmt: skip
def test_bad_pyradiomics_settings_file(tmp_path, content, pattern):
    path = tmp_path / "settings.yaml"
    path.write_bytes(content)
    with pytest.raises(InputError, match=pattern):
        ex.load_params(path)


# --------------------------------------------------------------------------- manifest

_HEADER = "case_id,cohort,outcome,tumor_image,tumor_mask\n"
MANIFESTS = [
    ("utf16", (_HEADER + "p1,train,1,a.png,b.png\n").encode("utf-16"), r"UTF-16"),
    (
        "latin1",
        (_HEADER.strip() + ",name\np1,train,1,a.png,b.png,J\u00e9r\u00f4me\n").encode("latin-1"),
        r"not UTF-8 text: line 2 ",
    ),
    ("binary", bytes(range(256)) * 4, r"manifest\.csv .*(NUL|not UTF-8)"),
    ("nul_byte", (_HEADER + "p1\x00,train,1,a.png,b.png\n").encode(), r"line 2: .*NUL"),
    ("more_fields_than_header", (_HEADER + "p1,train,1,a.png,b.png,x,y\n").encode(),
     r"line 2 has 7 fields, the header has 5"),  # fmt: skip
    ("empty", b"", r"manifest\.csv .*empty"),
]


@pytest.mark.parametrize(
    ("content", "pattern"), [m[1:] for m in MANIFESTS], ids=[m[0] for m in MANIFESTS]
)
def test_bad_manifest_file(tmp_path, content, pattern):
    path = tmp_path / "manifest.csv"
    path.write_bytes(content)
    with pytest.raises(ManifestError, match=f"(?s){pattern}") as info:
        read_manifest(path, check_files=False)
    assert str(path) in str(info.value)


def test_manifest_path_that_is_a_folder(tmp_path):
    with pytest.raises(ManifestError, match=r"is a folder"):
        read_manifest(tmp_path)


# --------------------------------------------------------------------------- cache entries

_FAST = {
    "setting": {
        "resampledPixelSpacing": [0.1, 0.1],
        "interpolator": "sitkLinear",
        "padDistance": 100000,
        "binWidth": 5,
        "label": 1,
        "minimumROIDimensions": 2,
        "minimumROISize": 20,
        "normalize": False,
        "force2D": False,
        "correctMask": False,
        "geometryTolerance": 0.0001,
        "additionalInfo": True,
    },
    "imageType": {"Original": {}},
    "featureClass": {"firstorder": None, "shape2D": None},
}


def _case(seed: int = 0, box=(25, 45, 25, 55), shape=(70, 80)) -> dict:
    rng = np.random.default_rng(seed)
    img = sitk.GetImageFromArray(rng.gamma(4.0, 20.0, shape))
    img.SetSpacing((0.1, 0.1))
    m = np.zeros(shape, np.uint8)
    r0, r1, c0, c1 = box
    m[r0:r1, c0:c1] = 1
    msk = sitk.GetImageFromArray(m)
    msk.CopyInformation(img)
    return {"case_id": f"c{seed}", "tumor_image": img, "tumor_mask": msk}


def _entry(cache: Path) -> Path:
    (path,) = [p for p in cache.glob("??/*.json")]
    return path


def _doc(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _set_entry(path: Path, doc) -> None:
    path.write_text(json.dumps(doc), encoding="utf-8")


def _first_feature(doc: dict) -> str:
    return next(iter(doc["features"]))


# (id, how the entry file is damaged)
CACHE_DAMAGE = [
    ("empty_list", lambda p: _set_entry(p, [])),
    ("null", lambda p: _set_entry(p, None)),
    ("a_string", lambda p: _set_entry(p, "features")),
    ("features_empty", lambda p: _set_entry(p, {**_doc(p), "features": {}})),
    ("features_a_list", lambda p: _set_entry(p, {**_doc(p), "features": [1.0, 2.0]})),
    ("features_null", lambda p: _set_entry(p, {**_doc(p), "features": None})),
    ("value_a_string", lambda p: _set_entry(
        p, {**_doc(p), "features": {**_doc(p)["features"], _first_feature(_doc(p)): "1.5"}})),
    ("value_edited", lambda p: _set_entry(
        p, {**_doc(p), "features": {**_doc(p)["features"], _first_feature(_doc(p)): 123.0}})),
    ("value_nan", lambda p: _set_entry(
        p, {**_doc(p), "features": {**_doc(p)["features"], _first_feature(_doc(p)): math.nan}})),
    ("feature_removed", lambda p: _set_entry(
        p, {**_doc(p), "features": dict(list(_doc(p)["features"].items())[1:])})),
    ("no_checksum", lambda p: _set_entry(p, {k: v for k, v in _doc(p).items() if k != "checksum"})),
    ("wrong_key", lambda p: _set_entry(p, {**_doc(p), "key": "0" * 64})),
    ("wrong_roi", lambda p: _set_entry(p, {**_doc(p), "roi": "ln"})),
    ("diagnostics_a_list", lambda p: _set_entry(p, {**_doc(p), "diagnostics": []})),
    ("truncated_json", lambda p: p.write_text(p.read_text()[:200])),
    ("empty_file", lambda p: p.write_bytes(b"")),
    ("binary_garbage", lambda p: p.write_bytes(bytes(range(256)))),
    ("deeply_nested", lambda p: p.write_text("[" * 100_000 + "]" * 100_000)),
]  # fmt: skip


@pytest.fixture(scope="module")
def fresh():
    return ex.extract_features([_case()], rois=("tumor",), params=_FAST, n_jobs=1)


@pytest.mark.parametrize("damage", [c[1] for c in CACHE_DAMAGE], ids=[c[0] for c in CACHE_DAMAGE])
def test_damaged_cache_entry_is_recomputed_and_rewritten(tmp_path, caplog, fresh, damage):
    cache = tmp_path / "cache"
    ex.extract_features([_case()], rois=("tumor",), params=_FAST, n_jobs=1, cache_dir=cache)
    path = _entry(cache)
    good = _doc(path)
    damage(path)
    with caplog.at_level(logging.WARNING, logger="radiomics_aln.extraction"):
        res = ex.extract_features(
            [_case()], rois=("tumor",), params=_FAST, n_jobs=1, cache_dir=cache
        )
    assert (res.n_cached, res.n_computed) == (0, 1)
    assert res.failures.empty
    pd.testing.assert_frame_equal(res.features, fresh.features, check_exact=True)
    assert any(str(path) in r.getMessage() for r in caplog.records), "the entry is not named"
    assert _doc(path) == good  # rewritten
    warm = ex.extract_features([_case()], rois=("tumor",), params=_FAST, n_jobs=1, cache_dir=cache)
    assert (warm.n_cached, warm.n_computed) == (1, 0)


def test_cache_temporary_files_never_match_the_entry_pattern(tmp_path, monkeypatch):
    """An interrupted write leaves its temporary file; ``*.json`` must never list it."""
    real_replace = cache_module.os.replace

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(cache_module.os, "replace", crash)
    cache = tmp_path / "cache"
    seen = []
    real_unlink = cache_module.os.unlink
    monkeypatch.setattr(cache_module.os, "unlink", lambda p: seen.append(Path(p)) or real_unlink(p))
    with pytest.raises(OSError, match="disk full"):
        cache_module.write_entry(cache, "ab" * 32, {"features": {"a": 1.0}, "diagnostics": {}})
    monkeypatch.setattr(cache_module.os, "replace", real_replace)
    assert seen and all(not p.match("*.json") for p in seen)


# --------------------------------------------------------------------------- feature columns


def _record(features: dict, roi: str = "tumor") -> dict:
    return {"reader": "reader1", "roi": roi, "file": "f.png", "error": None,
            "features": features, "diagnostics": {}, "cached": False}  # fmt: skip


def _task(case_id: str):
    return SimpleNamespace(group=SimpleNamespace(case_id=case_id))


def test_columns_are_the_union_and_an_incomplete_record_is_a_failure():
    full = {f"original_firstorder_F{i}": float(i) for i in range(5)}
    small = {k: v for k, v in full.items() if k != "original_firstorder_F3"}
    outcomes = [[_record(small)], [_record(full)], [_record(full)]]
    tasks = [_task("a"), _task("b"), _task("c")]
    res = ex._assemble(["a", "b", "c"], ("tumor",), (), tasks, outcomes, [], "collect", {})
    assert list(res.features.columns) == [f"tumor__{k}" for k in full]
    assert list(res.features.dropna().index) == ["b", "c"]
    (fail,) = res.failures.to_dict("records")
    assert fail["case_id"] == "a" and fail["roi"] == "tumor"
    assert "1 of the 5 features" in fail["error"]
    assert "original_firstorder_F3" in fail["error"]
    with pytest.raises(ExtractionError, match=r"case 'a', roi 'tumor'.*1 of the 5 features"):
        ex._assemble(["a", "b", "c"], ("tumor",), (), tasks, outcomes, [], "raise", {})


def test_a_small_first_roi_does_not_drop_the_log_columns_of_every_case():
    """padDistance 5 and a 0.7 mm ROI: PyRadiomics skips LoG sigma 4 for that ROI only."""
    params = json.loads(json.dumps(_FAST))
    params["setting"]["padDistance"] = 5
    params["imageType"] = {"Original": {}, "LoG": {"sigma": [0.5, 4.0], "binWidth": 1.0}}
    params["featureClass"] = {"firstorder": None}
    cases = [_case(1, box=(40, 47, 40, 47), shape=(90, 100)),
             _case(2, box=(10, 80, 10, 90), shape=(90, 100))]  # fmt: skip
    res = ex.extract_features(cases, rois=("tumor",), params=params, n_jobs=1)
    assert any("log-sigma-4-0-mm" in c for c in res.features.columns)
    assert res.features.loc["c2"].notna().all()
    (fail,) = res.failures.to_dict("records")
    assert fail["case_id"] == "c1"
    assert re.search(r"18 of the 54 features .* log-sigma-4-0-mm", fail["error"])
