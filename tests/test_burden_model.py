"""BurdenModel: the saved burden study (JSON files) predicts new patients."""

from __future__ import annotations

import html
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from radiomics_aln.burden_model import (
    BINARY_FILE,
    BURDEN_FILE,
    ORDINAL_FILE,
    STEP2_FILE,
    BurdenModel,
)
from radiomics_aln.burden_study import BurdenStudy
from radiomics_aln.exceptions import InputError

pytestmark = pytest.mark.filterwarnings(
    "ignore:events per variable:radiomics_aln.exceptions.SmallSampleWarning"
)
NAMES = ["N0", "N1-2", "N>=3"]


@pytest.fixture(scope="module")
def data():
    from test_burden import _study_data

    return _study_data()


@pytest.fixture(scope="module")
def fitted(data, tmp_path_factory):
    """The burden study of test_burden (synthetic features) and the folder it saved."""
    cfg, table, features, repeats = data
    study = BurdenStudy(cfg, table=table, features=features, repeats=repeats).fit().evaluate()
    folder = study.save(tmp_path_factory.mktemp("burden"), report=False)
    return study, folder


def test_round_trip_equals_the_study_predictions(fitted, data):
    """Every cohort (training, internal, external): the loaded model's probabilities and
    predicted levels are the study's own, for both models."""
    study, folder = fitted
    _, table, features, _ = data
    model = BurdenModel.from_dir(folder)
    assert model.level_names == NAMES
    got = model.predict(features, clinical=table)
    want = study.predictions()
    shared = [c for c in want.columns if c not in ("cohort", "burden")]
    assert {"ordinal_P(N1-2 or higher)", "ordinal_P(N>=3)", "ordinal_predicted",
            "two_step_P(N1-2 or higher)", "two_step_P(N>=3)",
            "two_step_predicted"} <= set(shared)  # fmt: skip
    assert got.index.equals(want.index)
    for col in shared:
        if want[col].dtype.kind == "f":
            np.testing.assert_allclose(got[col], want[col], rtol=0, atol=1e-10, err_msg=col)
        else:
            assert got[col].astype(str).tolist() == want[col].astype(str).tolist(), col
    # the in-memory model predicts the same numbers as the loaded one
    pd.testing.assert_frame_equal(BurdenModel.from_study(study).predict(features, table), got,
                                  rtol=0, atol=1e-12)  # fmt: skip
    # level probabilities: each model's sum to 1, the exceedances are their tails
    for route in ("ordinal", "two_step"):
        p = got[[f"{route}_P({n})" for n in NAMES]].to_numpy()
        np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-12)
        np.testing.assert_allclose(got[f"{route}_P(N1-2 or higher)"], p[:, 1] + p[:, 2],
                                   atol=1e-12)  # fmt: skip
        assert (got[f"{route}_most_likely"] == np.asarray(NAMES)[p.argmax(axis=1)]).all()
    # two-step: step 1 is the binary nomogram, the product of the steps is P(N>=3)
    binary = study.study.model_.predict(features, clinical=table)
    np.testing.assert_allclose(got["two_step_P(N1-2 or higher)"], binary["probability"],
                               rtol=0, atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(got["two_step_P(N>=3)"], got["two_step_P(N1-2 or higher)"]
                               * got["two_step_P(N>=3 | N1-2 or higher)"], atol=1e-12)  # fmt: skip
    # total points of the ordinal nomogram
    np.testing.assert_allclose(got["ordinal_total_points"],
                               study.ordinal_.points(study.study.data_), atol=1e-9)  # fmt: skip
    assert got["ordinal_predicted"].nunique() > 1 and got["two_step_predicted"].nunique() > 1


def test_notebook_view_shows_levels_predictors_and_every_model(fitted):
    model = BurdenModel.from_dir(fitted[1])
    text = model._repr_html_()
    assert text.startswith("<div") and "BurdenModel" in text
    assert html.escape(" < ".join(model.level_names)) in text  # the levels, in order, escaped
    for title in ("Ordinal model", "Two-step model, step 1", "Two-step model, step 2"):
        assert title in text
    for name in model.predictors:
        assert name in text
    assert f"{model.ordinal_cutoffs[0]:.3g}" in text


def test_only_the_burden_models_columns_are_needed(fitted, data):
    """`age` is used by the binary study's clinical-only model alone: the burden models predict
    without it, the binary model's own predict still asks for it."""
    study, folder = fitted
    _, table, features, _ = data
    model = BurdenModel.from_dir(folder)
    assert "age" in model.binary.clinical_columns() and "age" not in model.predictor_columns()
    clinical = table.drop(columns=["age"])
    full = model.predict(features, clinical=table)
    pd.testing.assert_frame_equal(model.predict(features, clinical=clinical), full)
    with pytest.raises(InputError, match="age"):
        model.binary.predict(features, clinical=clinical)
    with pytest.raises(InputError, match="margin"):
        model.predict(features, clinical=table.drop(columns=["margin"]))


def test_clinical_inside_the_feature_table(fitted, data):
    _, folder = fitted
    _, table, features, _ = data
    model = BurdenModel.from_dir(folder)
    joined = features.join(table[["age", "margin", "us_aln", "size_mm"]])
    pd.testing.assert_frame_equal(model.predict(joined.iloc[:20]),
                                  model.predict(features.iloc[:20], clinical=table))  # fmt: skip


def test_missing_columns_and_cases_are_named(fitted, data):
    _, folder = fitted
    _, table, features, _ = data
    model = BurdenModel.from_dir(folder)
    used = list(model.binary.scores["ln"].feature_names_in_)[0]
    with pytest.raises(InputError, match=rf"used by the ln score: {used}"):
        model.predict(features.drop(columns=used), clinical=table)
    with pytest.raises(InputError, match=r"lacks the column\(s\) margin"):
        model.predict(features, clinical=table.drop(columns="margin"))
    with pytest.raises(InputError, match=r"lacks the clinical column\(s\) margin that"):
        model.predict(features)
    with pytest.raises(InputError, match=r"have no row in the clinical table.*P0003"):
        model.predict(features, clinical=table.drop(index="P0003"))
    with pytest.raises(InputError, match=r"not among its configured levels"):
        model.predict(features, clinical=table.assign(margin="spiculated"))


def _copy(folder, tmp_path):
    import shutil

    return shutil.copytree(folder, tmp_path / "copy")


def test_tampered_files_are_refused(fitted, tmp_path):
    _, folder = fitted
    # a score name the binary model does not give (consistently renamed in the ordinal file)
    bad = _copy(folder, tmp_path)
    path = bad / ORDINAL_FILE
    path.write_text(path.read_text().replace("ln_score", "lymph_score"))
    with pytest.raises(InputError, match=r"ordinal model uses predictor\(s\) lymph_score that "
                       r"the binary model \(step 1\) does not give"):  # fmt: skip
        BurdenModel.from_dir(bad)
    # ... or in step 2
    path.write_text((folder / ORDINAL_FILE).read_text())
    path = bad / STEP2_FILE
    path.write_text(path.read_text().replace("tumor_score", "tumour_score"))
    with pytest.raises(InputError, match=r"step 2 uses predictor\(s\) tumour_score"):
        BurdenModel.from_dir(bad)
    path.write_text((folder / STEP2_FILE).read_text())
    BurdenModel.from_dir(bad)  # restored: loads
    # level names or cutoffs of the descriptor that do not match the ordinal model
    doc = json.loads((folder / BURDEN_FILE).read_text())
    for key, value, match in [
        ("level_names", ["N0", "N1-3", "N>=4"], "names the levels"),
        ("ordinal_cutoffs", [0.5], r"1 ordinal cutoff\(s\) for 3 levels"),
        ("levels", {"N0": [0, 0], "N+": [1, None]}, "at least 3 levels"),
        ("ordinal_cutoffs", [0.5, None], r"ordinal_cutoffs"),
    ]:
        (bad / BURDEN_FILE).write_text(json.dumps(doc | {"params": doc["params"] | {key: value}}))
        with pytest.raises(InputError, match=match):
            BurdenModel.from_dir(bad)
    # a missing file is named; a folder that is not a burden study says what it is
    (bad / BURDEN_FILE).write_text(json.dumps(doc))
    (bad / STEP2_FILE).unlink()
    with pytest.raises(InputError, match=r"burden_step2_model.json \(step 2"):
        BurdenModel.from_dir(bad)
    with pytest.raises(InputError, match=r"no burden_model.json.*binary study's model"):
        BurdenModel.from_dir(bad / "binary")
    with pytest.raises(InputError, match="not a folder"):
        BurdenModel.from_dir(bad / BURDEN_FILE)


def test_json_only_never_a_pickle(fitted, tmp_path, monkeypatch):
    _, folder = fitted
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json"))
    assert {BINARY_FILE, ORDINAL_FILE, STEP2_FILE, BURDEN_FILE} <= set(files)
    assert not [p for p in folder.rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib")]

    def refuse(*args, **kwargs):
        raise AssertionError("a pickle was opened")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pd, "read_pickle", refuse)
    assert BurdenModel.from_dir(folder).level_names == NAMES
    # a pickle in place of the descriptor is refused, not opened
    bad = _copy(folder, tmp_path)
    (bad / BURDEN_FILE).write_bytes(b"\x80\x04" + b"\x00" * 20)
    with pytest.raises(InputError, match="looks like a Python pickle"):
        BurdenModel.from_dir(bad)


def test_cli_predict_with_a_burden_folder(fitted, data, tmp_path, capsys):
    from radiomics_aln.cli import main
    from radiomics_aln.features import read_features, write_features

    _, folder = fitted
    _, table, features, _ = data
    write_features(features.iloc[:30], tmp_path / "features.csv")
    table.rename_axis("case_id").reset_index().to_csv(tmp_path / "clinical.csv", index=False)
    out = tmp_path / "burden_predictions.csv"
    argv = ["predict", str(folder), str(tmp_path / "features.csv"), "--clinical",
            str(tmp_path / "clinical.csv"), "--out", str(out)]  # fmt: skip
    assert main(["-q", *argv]) == 0
    assert "30 patients predicted (ordinal model:" in capsys.readouterr().out
    got = pd.read_csv(out, index_col=0)
    want = BurdenModel.from_dir(folder).predict(read_features(tmp_path / "features.csv"),
                                                clinical=table)  # fmt: skip
    assert list(got.columns) == list(want.columns)
    np.testing.assert_allclose(got["ordinal_P(N>=3)"], want["ordinal_P(N>=3)"], atol=1e-12)
    assert got["two_step_predicted"].tolist() == want["two_step_predicted"].tolist()
    # a folder that is not a burden study: a bad-input error naming it
    argv[1] = str(folder / "binary")
    assert main(["-q", *argv]) == 1
    assert "no burden_model.json" in capsys.readouterr().err


def test_from_a_manifest_equals_from_features(data, tmp_path):
    """A model whose scores use real PyRadiomics feature names (the synthetic features
    renamed), applied to demo images: extracting through the manifest gives the numbers of
    extracting first and predicting from the feature table."""
    from radiomics_aln.datasets import make_demo_cohort
    from radiomics_aln.manifest import read_manifest
    from radiomics_aln.model import extract_cohort

    cfg, table, features, repeats = data
    demo = make_demo_cohort(tmp_path / "demo", n_cases=8, random_state=1)
    rows = pd.read_csv(demo.path, dtype=str).iloc[:3]
    rows.to_csv(tmp_path / "demo" / "three.csv", index=False)
    manifest = read_manifest(tmp_path / "demo" / "three.csv", outcome=None)
    extracted = extract_cohort(manifest, ["tumor", "peritumoral", "ln"], "ultrasound_2d",
                               width_mm=5.0, n_jobs=1, cache_dir=None, repeats=False).features
    # rename each ROI's 24 synthetic columns to real names of moderate values
    rename = {}
    for roi in ("tumor", "peritumoral", "ln"):
        mine = [c for c in features.columns if c.startswith(f"{roi}__")]
        real = [c for c in extracted.columns if c.startswith(f"{roi}__")
                and extracted[c].abs().max() < 5 and extracted[c].std() > 0.05]  # fmt: skip
        rename |= dict(zip(mine, real[: len(mine)], strict=True))
    study = BurdenStudy(cfg, table=table, features=features.rename(columns=rename),
                        repeats={k: v.rename(columns=rename) for k, v in repeats.items()})
    model = BurdenModel.from_study(study.fit())  # the route of a loaded model (tested above)
    assert model.binary.settings["params"] == "ultrasound_2d"
    clinical = table.iloc[:3][["age", "margin", "us_aln", "size_mm"]].set_axis(
        extracted.index)  # fmt: skip
    from_images = model.predict(tmp_path / "demo" / "three.csv", clinical=clinical)
    from_features = model.predict(extracted, clinical=clinical)
    pd.testing.assert_frame_equal(from_images, from_features, rtol=0, atol=1e-12)
    assert from_images[["tumor_score", "ln_score"]].abs().max().max() > 0.01
    assert list(from_images.index) == list(manifest.table.index)
