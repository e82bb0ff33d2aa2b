"""The study with ComBat harmonization (``harmonize:``): fit on training, apply per cohort,
no leakage, outputs, the saved model and predict given the batch column."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_study import CONFIG, _synthetic

from radiomics_aln.config import StudyConfig
from radiomics_aln.exceptions import InputError
from radiomics_aln.model import StudyModel
from radiomics_aln.study import Study

pytestmark = pytest.mark.filterwarnings(
    "ignore:events per variable:radiomics_aln.exceptions.SmallSampleWarning"
)

HARMONIZE = {"enabled": True, "batch": "scanner"}


def scanner_data():
    """test_study's synthetic cohort; training and internal from scanners A and B, external
    from scanner C, whose features are shifted and scaled per feature (a new hospital)."""
    table, features, repeats = _synthetic()
    rng = np.random.default_rng(11)
    table = table.copy()
    table["scanner"] = np.where(rng.random(len(table)) < 0.5, "A", "B")
    external = table.index[table["cohort"] == "external"]
    table.loc[external, "scanner"] = "C"
    features = features.copy()
    shift_b = rng.normal(0, 0.5, features.shape[1])
    b = table.index[table["scanner"] == "B"]
    features.loc[b] = features.loc[b] + shift_b
    shift_c = rng.normal(1.5, 0.5, features.shape[1])
    scale_c = np.exp(rng.normal(0, 0.5, features.shape[1]))
    features.loc[external] = features.loc[external] * scale_c + shift_c
    return table, features, repeats


@pytest.fixture(scope="module")
def data():
    return scanner_data()


@pytest.fixture(scope="module")
def harmonized(data):
    table, features, repeats = data
    cfg = CONFIG | {"harmonize": HARMONIZE}
    return Study(cfg, table=table, features=features, repeats=repeats).fit().evaluate()


def test_config_section():
    cfg = StudyConfig.from_dict(CONFIG | {"harmonize": HARMONIZE})
    assert cfg.harmonize.batch == "scanner" and cfg.harmonize.min_batch_size == 10
    assert StudyConfig.from_dict(CONFIG).harmonize.enabled is False
    for bad, match in (
        ({"enabled": True}, "harmonize.batch must name"),
        (HARMONIZE | {"batch": "aln"}, "must not be 'aln'"),
        (HARMONIZE | {"covariates": ["aln"]}, "must not include the outcome"),
        (HARMONIZE | {"small_batch": "drop"}, "harmonize.small_batch"),
        (HARMONIZE | {"min_batch_size": 1}, "harmonize.min_batch_size"),
        ({"enable": True}, "unknown key"),
    ):
        with pytest.raises(InputError, match=match):
            StudyConfig.from_dict(CONFIG | {"harmonize": bad})


def test_fit_harmonizes_kept_features_of_every_cohort(harmonized, data):
    table, features, _ = data
    s = harmonized
    combat = s.harmonizer_
    assert combat.batches_ == ["A", "B"] and combat.reference_ is None
    kept = list(combat.feature_names_in_)
    assert kept == [str(c) for c in s.icc_filter_.selected_features_]
    assert s.model_.harmonizer is combat
    assert s.model_.settings["harmonize_batch"] == "scanner"
    # the external (new) scanner's features now look like the training ones
    ext = table.index[table.cohort == "external"]
    train = table.index[table.cohort == "train"]
    gap_before = (features.loc[ext, kept].mean() - features.loc[train, kept].mean()).abs().mean()
    gap_after = (s.features_.loc[ext, kept].mean() - s.features_.loc[train, kept].mean()).abs().mean()
    assert gap_after < 0.2 * gap_before
    # features not kept by the ICC filter are unchanged
    other = [c for c in features.columns if c not in kept]
    pd.testing.assert_frame_equal(s.features_[other], features.loc[s.features_.index, other])


def test_outputs(harmonized, tmp_path):
    t = harmonized.results_["tables"]
    assert {"harmonization", "batch_effect"} <= set(t)
    diag = t["batch_effect"]
    assert set(diag["cohort"]) == {"all", "Training", "Internal"}  # external has one scanner
    med = diag[diag.cohort == "all"].groupby("stage")["eta_squared"].median()
    assert med["after"] < 0.5 * med["before"]
    assert "harmonization" in harmonized.results_["figures"]
    methods = harmonized.methods_text()
    text = " ".join(methods["Harmonization (ComBat)"])
    assert "fitted on the Training cohort only" in text and "(C)" in text
    html = harmonized.report(tmp_path / "report.html").read_text()
    assert "Batch effect before and after harmonization" in html
    saved = harmonized.save(tmp_path / "out", report=False)
    assert (saved / "tables" / "batch_effect.csv").is_file()
    assert (saved / "figures" / "harmonization.png").is_file()
    sections = [s["title"] for s in harmonized.report_content()["sections"]]
    assert "Harmonization (ComBat)" in sections
    assert sections.index("Harmonization (ComBat)") < sections.index(
        "Appendix. DeLong comparisons of every pair of models"
    )


def test_harmonization_restores_external_calibration(harmonized, data):
    """The new scanner shifts every score: without harmonization the external probabilities
    are far off (measured: mean 0.82 for 42% events, Brier 0.37); with it they are not (0.37,
    Brier 0.16). The AUC barely moves here because each LASSO score kept one feature, which an
    affine change cannot reorder (the demo's multi-feature scores do move: docs/harmonization.md)."""
    table, features, repeats = data
    plain = Study(CONFIG, table=table, features=features, repeats=repeats).fit()
    out = {}
    for name, s in (("plain", plain), ("harmonized", harmonized)):
        d = s.data_[s.data_["cohort"] == "external"]
        out[name] = (abs(d["probability"].mean() - d["aln"].mean()),
                     float(((d["probability"] - d["aln"]) ** 2).mean()))
    assert out["harmonized"][0] < 0.1 < 0.3 < out["plain"][0]
    assert out["harmonized"][1] < 0.6 * out["plain"][1]


def test_no_leakage(harmonized, data):
    """Shuffling the external outcomes changes none of its harmonized features and nothing
    fitted; removing the external cohort from the run changes nothing in training."""
    table, features, repeats = data
    cfg = CONFIG | {"harmonize": HARMONIZE}
    ext = table.index[table.cohort == "external"]
    shuffled = table.copy()
    shuffled.loc[ext, "aln"] = np.random.default_rng(0).permutation(table.loc[ext, "aln"])
    a = Study(cfg, table=shuffled, features=features, repeats=repeats).fit()
    pd.testing.assert_frame_equal(a.features_.loc[ext], harmonized.features_.loc[ext])
    assert a.fitted_state() == harmonized.fitted_state()
    without = Study(cfg | {"test_cohorts": ["internal"]}, table=table[table.cohort != "external"],
                    features=features, repeats=repeats).fit()
    assert without.fitted_state() == harmonized.fitted_state()
    train = table.index[table.cohort == "train"]
    pd.testing.assert_frame_equal(without.features_.loc[train], harmonized.features_.loc[train])
    # sanity: the comparison can fail -- other training scanners change the fit
    moved = table.copy()
    moved.loc[train[:30], "scanner"] = "A"
    c = Study(cfg, table=moved, features=features, repeats=repeats).fit()
    assert c.fitted_state()["harmonizer"] != harmonized.fitted_state()["harmonizer"]


def test_saved_model_predicts_new_patients_given_their_batch(harmonized, data, tmp_path):
    table, features, _ = data
    path = tmp_path / "model.json"
    harmonized.model_.to_json(path)
    doc = json.loads(path.read_text())
    assert doc["state"]["harmonizer"]["type"] == "ComBat"
    model = StudyModel.from_json(path)
    ext = table[table.cohort == "external"]
    pred = model.predict(features.loc[ext.index], clinical=ext)
    np.testing.assert_allclose(pred["probability"], harmonized.data_.loc[ext.index, "probability"])
    # a seen scanner: patient by patient gives the same as the cohort
    internal = table[table.cohort == "internal"].iloc[:3]
    one = model.predict(features.loc[internal.index[:1]], clinical=internal.iloc[:1])
    three = model.predict(features.loc[internal.index], clinical=internal)
    np.testing.assert_allclose(one["probability"], three["probability"].iloc[:1])
    with pytest.raises(InputError, match="no batch column 'scanner'"):
        model.predict(features.loc[ext.index], clinical=ext.drop(columns="scanner"))
    with pytest.raises(InputError, match="batch 'C' was not in the training data and has 2"):
        model.predict(features.loc[ext.index[:2]], clinical=ext.iloc[:2])
    doc["state"]["harmonizer"]["state"]["delta_star"][0][0] = -1.0
    with pytest.raises(InputError, match="harmonizer"):
        StudyModel.from_json(json.dumps(doc))


def test_small_new_batch_in_a_test_cohort(data):
    table, features, repeats = data
    small = table.copy()
    internal = small.index[small.cohort == "internal"]
    small.loc[internal[:3], "scanner"] = "D"
    cfg = CONFIG | {"harmonize": HARMONIZE}
    with pytest.raises(InputError, match=r"harmonizing the 'internal' cohort: batch 'D' was not "
                                         r"in the training data and has 3 case"):
        Study(cfg, table=small, features=features, repeats=repeats).fit()
    missing = table.drop(columns="scanner")
    with pytest.raises(InputError, match="no batch column 'scanner'"):
        Study(cfg, table=missing, features=features, repeats=repeats).fit()


def test_cli_predict_with_the_batch_column(harmonized, data, tmp_path, capsys):
    """`radiomics-aln predict model.json features.csv --clinical clinical.csv`: the batch column
    comes with the clinical columns."""
    from radiomics_aln.cli import main

    table, features, _ = data
    harmonized.model_.to_json(tmp_path / "model.json")
    ext = table.index[table.cohort == "external"]
    features.loc[ext].to_csv(tmp_path / "features.csv")
    table.loc[ext].to_csv(tmp_path / "clinical.csv")
    out = tmp_path / "pred.csv"
    assert main(["-q", "predict", str(tmp_path / "model.json"), str(tmp_path / "features.csv"),
                 "--clinical", str(tmp_path / "clinical.csv"), "--out", str(out)]) == 0  # fmt: skip
    pred = pd.read_csv(out, index_col=0)
    np.testing.assert_allclose(pred["probability"], harmonized.data_.loc[ext, "probability"])
    table.loc[ext].drop(columns="scanner").to_csv(tmp_path / "no_batch.csv")
    assert main(["predict", str(tmp_path / "model.json"), str(tmp_path / "features.csv"),
                 "--clinical", str(tmp_path / "no_batch.csv")]) == 1  # fmt: skip
    assert "no batch column 'scanner'" in capsys.readouterr().err


def test_whole_pipeline_validation_refits_and_applies_the_harmonization(harmonized, monkeypatch):
    # each resample refits ComBat on its own rows (Study.fit) and its scores of the training
    # cases go through that harmonizer, as predict's do
    from radiomics_aln import pipeline_validation as pv

    seen = []
    real = pv.harmonize_for_prediction

    def spy(model, features, table):
        seen.append(model.harmonizer)
        return real(model, features, table)

    monkeypatch.setattr(pv, "harmonize_for_prediction", spy)
    res = pv.validate_pipeline(harmonized, n_boot=2, random_state=1, progress=False)
    assert len(seen) >= 2
    assert all(h is not None for h in seen)
    assert all(h is not harmonized.model_.harmonizer for h in seen)
    assert res.summary.loc["auc", "n"] >= 1
