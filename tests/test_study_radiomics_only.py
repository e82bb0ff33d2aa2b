"""A radiomics-only study: no clinical candidates, the nomogram is the model of the scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_study import CONFIG, _synthetic

from radiomics_aln.model import CLINICAL_MODEL, RADIOMICS_MODEL, StudyModel
from radiomics_aln.study import Study

pytestmark = pytest.mark.filterwarnings(
    "ignore:events per variable:radiomics_aln.exceptions.SmallSampleWarning"
)

RADIOMICS_ONLY = {k: v for k, v in CONFIG.items() if k not in ("categorical", "nonnormal")} | {
    "clinical": []
}


@pytest.fixture(scope="module")
def study():
    table, features, repeats = _synthetic()
    return Study(RADIOMICS_ONLY, table=table, features=features, repeats=repeats).fit().evaluate()


def test_fit_without_clinical_candidates(study):
    m = study.model_
    assert m.clinical_model is None and m.radiomics_only
    assert m.combined_name == RADIOMICS_MODEL
    assert set(m.combined_model.predictors_) <= {"tumor_score", "peritumoral_score", "ln_score"}
    assert study.screened_["clinical"] == []
    assert "clinical_probability" not in study.data_.columns
    assert m.settings["clinical_cutoff"] is None


def test_tables_leave_out_the_clinical_model(study):
    t = study.results_["tables"]
    assert set(t["table3_full"]["model"]) >= {RADIOMICS_MODEL}
    assert CLINICAL_MODEL not in set(t["table3_full"]["model"])
    assert CLINICAL_MODEL not in set(t["hosmer_lemeshow"]["model"])
    assert t["nri_idi"].empty
    assert set(t["risk_groups"].columns) >= {"cohort"}
    assert "clinical_probability" not in t["predictions"].columns


def test_report_drops_the_clinical_parts(study, tmp_path):
    content = study.report_content()
    titles = [s["title"] for s in content["sections"]]
    assert not any("NRI" in t for t in titles)
    table2 = next(s for s in content["sections"] if s["title"].startswith("Table 2"))
    ((odds, _note),) = table2["tables"].values()
    assert odds.columns.size and not any("Clinical model" in str(c) for c in odds.columns)
    methods = " ".join(p for ps in content["methods"].values() for p in ps)
    assert "Radiomics-only study" in methods
    path = study.report(tmp_path / "report.html")
    assert "Radiomics model" in path.read_text(encoding="utf-8")


def test_model_file_round_trip_and_predict(study, tmp_path):
    path = tmp_path / "model.json"
    study.model_.to_json(path)
    doc = json.loads(path.read_text())
    assert doc["state"]["clinical_model"] is None
    back = StudyModel.from_json(path)
    assert back.clinical_model is None
    d = study.data_
    features = study.features_.loc[d.index]
    pred = back.predict(features)
    assert "clinical_probability" not in pred.columns
    np.testing.assert_allclose(pred["probability"], d["probability"], rtol=1e-12)


def test_model_file_with_half_a_clinical_model_is_refused(study, tmp_path):
    from radiomics_aln.exceptions import InputError

    doc = json.loads(study.model_.to_json())
    doc["params"]["clinical_cutoff"] = 0.4
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="clinical_cutoff"):
        StudyModel.from_json(path)


def test_cli_run_without_clinical(tmp_path, study, capsys):
    from radiomics_aln.cli import _headline

    text = _headline(study)
    assert RADIOMICS_MODEL.lower() in text.lower() and "nan" not in text


def test_figures_put_the_radiomics_model_first(study):
    fig = study.results_["figures"]["roc_train"]
    legend = fig.axes[0].get_legend() or fig.legends[0]
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts and texts[0].startswith(RADIOMICS_MODEL), texts
    assert not any(t.startswith(CLINICAL_MODEL) for t in texts)
