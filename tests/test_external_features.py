"""Tests of radiomics_aln.external_features: external (deep) feature tables in a hybrid study.

Checks: the validation of a table (named errors), the join (names, clashes, missing cases and
readings), that the study filters and scores the external features with the handcrafted ones
on the training cohort only (leakage test), that the ICC filter sees their repeat readings, and
that prediction on a new cohort uses the same columns and refuses when they are missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radiomics_aln.config import StudyConfig
from radiomics_aln.exceptions import InputError
from radiomics_aln.external_features import (
    join_external_features,
    prediction_features,
    read_external_features,
)
from radiomics_aln.model import StudyModel
from radiomics_aln.study import Study

pytestmark = pytest.mark.filterwarnings(
    "ignore:events per variable:radiomics_aln.exceptions.SmallSampleWarning"
)

N_TRAIN, N_TEST, N_REP = 80, 60, 24
CLASSES = ["firstorder", "glcm", "glrlm", "glszm"]


def _cohort(seed: int = 3):
    """Cohort table, handcrafted features and repeats, and the tumour's deep feature table.

    Outcome: logit = 1.4 h_tumor + 1.2 h_deep + 1.2 h_ln + 0.02 (age - 55). The handcrafted
    tumour and LN features carry h_tumor / h_ln; the deep features deep_0..deep_1 carry h_deep
    (reproducible), deep_2 carries it too but is NOT reproducible (large repeat noise), deep_3..5
    are reproducible noise.
    """
    rng = np.random.default_rng(seed)
    n = N_TRAIN + N_TEST
    ids = pd.Index([f"C{i:03d}" for i in range(n)], name="case_id")
    h = {k: rng.normal(size=n) for k in ("tumor", "deep", "ln")}
    age = rng.normal(55, 10, n).round(0)
    lp = 1.4 * h["tumor"] + 1.2 * h["deep"] + 1.2 * h["ln"] + 0.02 * (age - 55)
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    cohort = np.array(["train"] * N_TRAIN + ["test"] * N_TEST)
    table = pd.DataFrame({"cohort": cohort, "aln": y, "age": age}, index=ids)
    cols, blocks = [], []
    for roi in ("tumor", "ln"):
        for j in range(8):
            cols.append(f"{roi}__original_{CLASSES[j % 4]}_F{j}")
            blocks.append((h[roi] if j < 2 else 0.0) + rng.normal(scale=0.7, size=n))
    features = pd.DataFrame(np.column_stack(blocks), index=ids, columns=cols)
    rep_ids = ids[:N_REP]
    repeats = {
        r: features.loc[rep_ids] + rng.normal(scale=0.1, size=(N_REP, len(cols)))
        for r in ("reader2", "repeat")
    }
    deep = np.column_stack(
        [h["deep"] + rng.normal(scale=0.6, size=n) if j < 3 else rng.normal(size=n)
         for j in range(6)]
    )  # fmt: skip
    names = [f"{j}" for j in range(6)]
    main = pd.DataFrame(deep, columns=names).assign(case_id=list(ids), reader="reader1")
    reps = []
    for r in ("reader2", "repeat"):
        noise = rng.normal(size=(N_REP, 6)) * np.array([0.1, 0.1, 3.0, 0.1, 0.1, 0.1])
        reps.append(
            pd.DataFrame(deep[:N_REP] + noise, columns=names).assign(case_id=list(rep_ids),
                                                                    reader=r)  # fmt: skip
        )
    deep_table = pd.concat([main, *reps], ignore_index=True)[["case_id", "reader", *names]]
    return table, features, repeats, deep_table


CONFIG = {
    "outcome": "aln",
    "train_cohort": "train",
    "rois": ["tumor", "ln"],
    "clinical": ["age"],
    "score": {"params": {"cv": 5}},
}


@pytest.fixture(scope="module")
def cohort():
    return _cohort()


@pytest.fixture(scope="module")
def deep_csv(cohort, tmp_path_factory):
    path = tmp_path_factory.mktemp("deep") / "deep_tumor.csv"
    cohort[3].to_csv(path, index=False)
    return path


def _study(cohort, deep_path, *, table=None, features=None, **extra) -> Study:
    t, f, r, _ = cohort
    cfg = CONFIG | {"external_features": {"tumor": str(deep_path)}} | extra
    return Study(cfg, table=t if table is None else table,
                 features=f if features is None else features, repeats=r)  # fmt: skip


@pytest.fixture(scope="module")
def fitted(cohort, deep_csv):
    return _study(cohort, deep_csv).fit()


# --------------------------------------------------------------------------- reading


def test_read_names_columns_and_splits_readings(cohort):
    deep = cohort[3]
    ext = read_external_features(deep, roi="tumor", prefix="cnn")
    assert ext.columns == [f"tumor__cnn_{j}" for j in range(6)]
    assert len(ext.features) == N_TRAIN + N_TEST
    assert {k: len(v) for k, v in ext.repeats.items()} == {"reader2": N_REP, "repeat": N_REP}
    assert ext.features.index.name == "case_id"
    first = deep[deep.reader == "reader1"].iloc[0]
    assert ext.features.iloc[0, 0] == first["0"]
    # without a reader column every row is the main reading
    only = read_external_features(deep[deep.reader == "reader1"].drop(columns="reader"), roi="ln")
    assert only.repeats == {} and only.columns[0] == "ln__deep_0"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="case_id"), "has no 'case_id' column"),
        (lambda d: d.assign(reader=d.reader.replace("repeat", "reader3")),
         "has value.*reader3.*use reader1, reader2, repeat"),
        (lambda d: pd.concat([d, d.iloc[[5]]]), r"more than one row for \(case, reading\) C005"),
        (lambda d: d.assign(**{"2": d["2"].astype(object).where(d.index != 7, "n/a")}),
         r"column '2' is not numeric \(e.g. 'n/a' in case\(s\) C007\)"),
        (lambda d: d.assign(**{"4": d["4"].where(d.index != 9, np.inf)}),
         "column '4' has missing or non-finite values in case.*C009.*never imputed"),
        (lambda d: d.assign(**{"1": d["1"].where(d.index != 3)}),
         "column '1' has missing or non-finite values in case.*C003"),
        (lambda d: d.rename(columns={"0": "tumor__x"}), "hold '__'"),
        (lambda d: d[["case_id", "reader"]], "no feature column"),
        (lambda d: d[d.reader != "reader1"], r"no row of the main reading \(reader1\)"),
    ],
)  # fmt: skip
def test_read_refuses_bad_tables_naming_case_and_column(cohort, change, message):
    with pytest.raises(InputError, match=message):
        read_external_features(change(cohort[3].copy()), roi="tumor")


def test_read_refuses_bad_arguments_and_files(cohort, tmp_path):
    deep = cohort[3]
    with pytest.raises(InputError, match="unknown ROI 'lesion'"):
        read_external_features(deep, roi="lesion")
    for prefix in ("", "a__b", "deep net", 3):
        with pytest.raises(InputError, match="prefix must be"):
            read_external_features(deep, roi="tumor", prefix=prefix)
    with pytest.raises(InputError, match="deep.csv does not exist"):
        read_external_features(tmp_path / "deep.csv", roi="tumor")
    with pytest.raises(InputError, match="must end in .csv or .parquet"):
        (tmp_path / "deep.txt").write_text("case_id,a\n1,2\n")
        read_external_features(tmp_path / "deep.txt", roi="tumor")
    with pytest.raises(InputError, match=r"case\(s\) C000, C001.*not in the cohort.*'007'"):
        read_external_features(deep, roi="tumor", cases=[f"C{i:03d}" for i in range(2, 200)])
    # case ids are read as text from a file: leading zeros kept
    path = tmp_path / "zeros.csv"
    pd.DataFrame({"case_id": ["007", "010"], "f": [1.0, 2.0]}).to_csv(path, index=False)
    assert list(read_external_features(path, roi="ln").features.index) == ["007", "010"]


def test_join_checks_clashes_missing_cases_and_readings(cohort):
    table, features, repeats, deep = cohort
    ext = read_external_features(deep, roi="tumor")
    joined, reps = join_external_features(features, ext, repeats=repeats)
    assert list(joined.columns) == list(features.columns) + ext.columns
    assert set(reps) == {"reader2", "repeat"}
    assert np.isfinite(reps["reader2"].to_numpy()).all()
    with pytest.raises(InputError, match="already exist in the feature table; choose another"):
        join_external_features(joined, ext)
    short = read_external_features(deep[deep.case_id != "C100"], roi="tumor")
    with pytest.raises(InputError, match=r"no reader1 row for 1 case\(s\) of the study: C100"):
        join_external_features(features, short, repeats=repeats)
    no_rep = read_external_features(deep[~((deep.case_id == "C004") & (deep.reader == "repeat"))],
                                    roi="tumor")  # fmt: skip
    with pytest.raises(InputError, match=r"no repeat row for case\(s\) C004.*icc: \{enabled"):
        join_external_features(features, no_rep, repeats=repeats)
    # only the repeat cases that matter (the training cases of a study) need their rows
    _, reps = join_external_features(features, no_rep, repeats=repeats,
                                     repeat_cases=["C000", "C001"])  # fmt: skip
    assert reps["repeat"].loc["C004", ext.columns].isna().all()
    fewer = {k: v.drop(index="C002") for k, v in repeats.items()}
    with pytest.raises(InputError, match=r"reader2 rows for case\(s\) C002 that have no reader2"):
        join_external_features(features, ext, repeats=fewer)


# --------------------------------------------------------------------------- the study


def test_icc_filter_sees_the_external_repeat_readings(fitted):
    icc = fitted.icc_filter_.icc_
    deep_rows = icc[icc["feature"].str.startswith("tumor__deep_")]
    assert set(deep_rows["feature"]) == {f"tumor__deep_{j}" for j in range(6)}
    kept = set(fitted.icc_filter_.selected_features_)
    # deep_2 carries the signal but readers do not reproduce it: the filter removes it
    assert "tumor__deep_2" not in kept
    assert {"tumor__deep_0", "tumor__deep_1"} <= kept
    assert fitted.icc_repeat_cases_ == {"reader2": N_REP, "repeat": N_REP}


def test_external_features_are_scored_and_listed_in_the_model(fitted, tmp_path):
    score = fitted.model_.scores["tumor"]
    names = list(score.feature_names_in_)
    assert "tumor__deep_0" in names and "tumor__deep_2" not in names
    assert any(c.startswith("tumor__original_") for c in names)
    assert set(score.selected_features_) & {"tumor__deep_0", "tumor__deep_1"}
    spec = fitted.model_.settings["external_features"]
    deep = [c for c in names if c.startswith("tumor__deep_")]
    assert spec == {"tumor": {"prefix": "deep", "columns": deep}}
    assert not any("deep" in c for c in fitted.model_.scores["ln"].feature_names_in_)
    back = StudyModel.from_json(fitted.model_.to_json(tmp_path / "model.json"))
    assert back.settings["external_features"] == spec


def test_external_features_are_fitted_on_training_data_only(cohort, deep_csv, fitted, tmp_path):
    """Flipping test-cohort outcomes and scrambling their external (and handcrafted) features,
    main and repeat readings, leaves everything fit() learned unchanged."""
    table, features, repeats, deep = cohort
    test_ids = set(table.index[table.cohort == "test"])
    rng = np.random.default_rng(11)
    scrambled = deep.copy()
    rows = scrambled.case_id.isin(test_ids).to_numpy()
    names = [c for c in deep.columns if c not in ("case_id", "reader")]
    scrambled.loc[rows, names] = rng.normal(size=(rows.sum(), len(names))) * 50
    path = tmp_path / "scrambled.csv"
    scrambled.to_csv(path, index=False)
    flipped = table.copy()
    flipped.loc[list(test_ids), "aln"] = 1 - flipped.loc[list(test_ids), "aln"]
    a = _study(cohort, path, table=flipped).fit()
    assert a.fitted_state() == fitted.fitted_state()
    assert a.fitted_state()["settings"]["external_features"]["tumor"]["columns"]
    # the check can fail: changing training cases' external features changes the fit
    changed = deep.copy()
    train_rows = (~deep.case_id.isin(test_ids) & (deep.reader == "reader1")).to_numpy()
    changed.loc[train_rows, "0"] = rng.normal(size=train_rows.sum())
    path2 = tmp_path / "changed.csv"
    changed.to_csv(path2, index=False)
    b = _study(cohort, path2).fit()
    assert b.fitted_state() != fitted.fitted_state()


def test_prediction_on_a_new_cohort_uses_the_same_columns(cohort, fitted, tmp_path):
    table, features, _, deep = cohort
    test_ids = table.index[table.cohort == "test"]
    new = features.loc[test_ids].join(table.loc[test_ids, ["age"]])
    new_deep = deep[deep.case_id.isin(test_ids) & (deep.reader == "reader1")]
    path = tmp_path / "new_deep.csv"
    new_deep.drop(columns="reader").to_csv(path, index=False)
    model = StudyModel.from_json(fitted.model_.to_json())
    pred = model.predict(new, external={"tumor": path})
    expect = fitted.data_.loc[test_ids]
    np.testing.assert_array_equal(pred["tumor_score"], expect["tumor_score"])
    np.testing.assert_array_equal(pred["probability"], expect["probability"])
    # also through the Study, with a DataFrame, and with the columns already joined
    via_study = fitted.predict(new, external={"tumor": new_deep})
    np.testing.assert_array_equal(via_study["probability"], expect["probability"])
    joined = prediction_features(new, model.settings["external_features"], {"tumor": path})
    np.testing.assert_array_equal(model.predict(joined)["probability"], expect["probability"])
    # the scores read exactly the training columns: shuffling the order of the table's
    # columns changes nothing
    shuffled = new_deep[["case_id", "5", "3", "1", "0", "4", "2"]]
    np.testing.assert_array_equal(
        model.predict(new, external={"tumor": shuffled})["probability"], expect["probability"]
    )


def test_prediction_refuses_missing_external_features(cohort, fitted):
    table, features, _, deep = cohort
    test_ids = table.index[table.cohort == "test"]
    new = features.loc[test_ids].join(table.loc[test_ids, ["age"]])
    model = fitted.model_
    with pytest.raises(InputError, match=r"external \(e.g. deep\) features that the data lack "
                       r"\(tumor: .* --external tumor=deep_tumor.csv"):  # fmt: skip
        model.predict(new)
    main = deep[deep.reader == "reader1"]
    with pytest.raises(InputError, match=r"no reader1 row for case\(s\) C100 to predict"):
        model.predict(new, external={"tumor": main[main.case_id != "C100"]})
    with pytest.raises(InputError, match=r"lacks the feature\(s\) tumor__deep_0"):
        model.predict(new, external={"tumor": main.drop(columns="0")})
    with pytest.raises(InputError, match=r"given for ROI\(s\) ln, but the model has external"):
        model.predict(new, external={"tumor": main, "ln": main})
    with pytest.raises(InputError, match="features that the data lack"):
        model.predict(new, external={})
    # before any extraction: a manifest without the external tables is refused at once
    with pytest.raises(InputError, match="features that the data lack"):
        model.predict("no_such_manifest.csv")


def test_study_refuses_incomplete_external_tables(cohort, tmp_path):
    deep = cohort[3]
    path = tmp_path / "short.csv"
    deep[deep.case_id != "C120"].to_csv(path, index=False)  # a test-cohort case
    with pytest.raises(InputError, match=r"no reader1 row for 1 case\(s\) of the study: C120"):
        _study(cohort, path).fit()
    # without the ICC filter the repeat readings are not needed
    path = tmp_path / "main_only.csv"
    deep[deep.reader == "reader1"].to_csv(path, index=False)
    with pytest.raises(InputError, match=r"no reader2 row for case\(s\) C000"):
        _study(cohort, path).fit()
    st = _study(cohort, path, icc={"enabled": False}).fit()
    assert "tumor__deep_2" in st.model_.scores["tumor"].feature_names_in_


def test_config_external_features(tmp_path):
    with pytest.raises(InputError, match=r"external_features: ROI\(s\) peritumoral are not"):
        StudyConfig.from_dict({"rois": ["tumor", "ln"], "external_features": {"peritumoral": "a"}})
    with pytest.raises(InputError, match="external_features must be a mapping of ROI to a path"):
        StudyConfig.from_dict({"external_features": ["deep.csv"]})
    with pytest.raises(InputError, match="external_prefix must be a word"):
        StudyConfig.from_dict({"external_prefix": "deep net"})
    # a relative path in a YAML file is relative to its folder, and written back relative
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "study.yaml").write_text("external_features:\n  ln: ../data/deep_ln.csv\n")
    cfg = StudyConfig.from_yaml(tmp_path / "cfg" / "study.yaml")
    target = (tmp_path / "data" / "deep_ln.csv").resolve()
    assert Path(cfg.external_features["ln"]).resolve() == target
    (tmp_path / "out").mkdir()
    text = cfg.to_yaml(tmp_path / "out" / "config.yaml")
    assert "ln: ../data/deep_ln.csv" in text
    back = StudyConfig.from_yaml(tmp_path / "out" / "config.yaml")
    assert Path(back.external_features["ln"]).resolve() == target


def test_cli_predict_takes_external_tables(cohort, fitted, tmp_path, capsys):
    from radiomics_aln.cli import main

    table, features, _, deep = cohort
    test_ids = table.index[table.cohort == "test"]
    model = tmp_path / "model.json"
    fitted.model_.to_json(model)
    data = tmp_path / "new.csv"
    features.loc[test_ids].join(table.loc[test_ids, ["age"]]).to_csv(data)
    ext = tmp_path / "deep_new.csv"
    deep[deep.case_id.isin(test_ids) & (deep.reader == "reader1")].to_csv(ext, index=False)
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(data), "--external", f"tumor={ext}",
                 "--out", str(out)]) == 0  # fmt: skip
    pred = pd.read_csv(out, index_col=0)
    np.testing.assert_allclose(pred["probability"], fitted.data_.loc[test_ids, "probability"],
                               rtol=1e-12)  # fmt: skip
    assert main(["predict", str(model), str(data), "--out", str(out)]) == 1
    assert "--external tumor=deep_tumor.csv" in capsys.readouterr().err
    assert main(["predict", str(model), str(data), "--external", "tumor", "--out", str(out)]) == 2


def test_methods_text_names_the_external_features(fitted):
    text = " ".join(fitted.methods_text()["Regions of interest and features (TRIPOD 7a)"])
    assert "External (e.g. deep) features joined to the ROIs' features (tumor: 6 from " \
           "deep_tumor.csv)" in text
