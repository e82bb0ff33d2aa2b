"""Tests of radiomics_aln.folder_dataset: manifests from <class>/<name>.png folders (issue 15)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import radiomics_aln as ra
from radiomics_aln.cli import main
from radiomics_aln.exceptions import DataWarning, InputError, MaskComponentsWarning
from radiomics_aln.folder_dataset import ISSUE_COLUMNS, SUMMARY_COLUMNS, manifest_from_folder
from radiomics_aln.manifest import read_manifest
from radiomics_aln.params import load_params

SHAPE = (20, 30)  # rows, columns


def _image(path: Path, value: int, shape=SHAPE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(shape, value, np.uint8)).save(path)


def _mask(path: Path, box=(5, 15, 5, 20), shape=SHAPE, value=255) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.zeros(shape, np.uint8)
    r0, r1, c0, c1 = box
    arr[r0:r1, c0:c1] = value
    Image.fromarray(arr).save(path)


@pytest.fixture
def busi(tmp_path) -> Path:
    """A BUSI-like folder: names with spaces and parentheses, and one of every problem."""
    root = tmp_path / "Dataset_BUSI_with_GT"
    value = iter(range(10, 250))
    for i in (1, 2, 3, 10):  # natural order: 10 after 3
        _image(root / "benign" / f"benign ({i}).png", next(value))
        _mask(root / "benign" / f"benign ({i})_mask.png")
    _image(root / "benign" / "benign (4).png", next(value))  # no mask
    _mask(root / "benign" / "benign (99)_mask.png")  # orphan mask
    (root / "benign" / "Thumbs.db").write_bytes(b"\0")  # not an image
    (root / "benign" / "extra").mkdir()  # a folder inside a class folder
    for i in (1, 2, 3, 4):
        _image(root / "malignant" / f"malignant ({i}).png", next(value))
        _mask(root / "malignant" / f"malignant ({i})_mask.png")
    _mask(root / "malignant" / "malignant (1)_mask_1.png", box=(0, 3, 25, 30))  # second lesion
    _mask(root / "malignant" / "malignant (1)_mask_2.png", box=(16, 19, 0, 4))  # third
    _mask(root / "malignant" / "malignant (2)_mask_1.png", box=(0, 0, 0, 0))  # empty, dropped
    _mask(root / "malignant" / "malignant (3)_mask_1.png", shape=(10, 10))  # other size
    _image(root / "malignant" / "malignant (5).png", next(value))
    _mask(root / "malignant" / "malignant (5)_mask.png", box=(0, 0, 0, 0))  # all masks empty
    for i in (1, 2):
        _image(root / "normal" / f"normal ({i}).png", next(value))
        _mask(root / "normal" / f"normal ({i})_mask.png", box=(0, 0, 0, 0))
    (root / "README.txt").write_text("BUSI")
    (root / ".DS_Store").write_bytes(b"\0")  # hidden: skipped
    return root


def _busi(root: Path, **kwargs):
    with pytest.warns(DataWarning, match=r"3 image\(s\) of the included classes were excluded"):
        return manifest_from_folder(
            root, classes={"benign": 0, "malignant": 1}, exclude=["normal"], **kwargs
        )


def test_busi_layout_manifest(busi):
    found = _busi(busi)
    m = found.manifest
    assert list(m.columns) == ["case_id", "patient_id", "class", "outcome", "tumor_image",
                               "tumor_mask", "spacing"]  # fmt: skip
    assert m["case_id"].tolist() == ["benign (1)", "benign (2)", "benign (3)", "benign (10)",
                                     "malignant (1)", "malignant (2)", "malignant (4)"]  # fmt: skip
    assert m["outcome"].tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert (m["patient_id"] == m["case_id"]).all()
    row = m.set_index("case_id").loc["malignant (1)"]
    masks = row["tumor_mask"].split(";")
    assert [Path(p).name for p in masks] == [
        "malignant (1)_mask.png", "malignant (1)_mask_1.png", "malignant (1)_mask_2.png"
    ]  # fmt: skip
    assert all(Path(p).is_absolute() for p in [row["tumor_image"], *masks])
    # the empty second mask of malignant (2) is left out of its ROI
    assert Path(m.set_index("case_id").loc["malignant (2)", "tumor_mask"]).name == (
        "malignant (2)_mask.png"
    )
    assert m["spacing"].isna().all() and found.needs_spacing


def test_busi_layout_summary(busi):
    s = _busi(busi).summary.set_index("class")
    assert list(s.reset_index().columns) == list(SUMMARY_COLUMNS)
    assert s.loc["benign"].to_dict() == {
        "outcome": 0, "status": "included", "n_images": 5, "n_cases": 4, "n_several_masks": 0,
        "n_no_mask": 1, "n_empty_mask": 0, "n_size_mismatch": 0, "n_bad_file": 0,
        "n_orphan_masks": 1, "n_ignored": 2,
    }  # fmt: skip
    assert s.loc["malignant"].to_dict() == {
        "outcome": 1, "status": "included", "n_images": 5, "n_cases": 3, "n_several_masks": 1,
        "n_no_mask": 0, "n_empty_mask": 2, "n_size_mismatch": 1, "n_bad_file": 0,
        "n_orphan_masks": 0, "n_ignored": 0,
    }  # fmt: skip
    assert s.loc["normal", "status"] == "excluded" and s.loc["normal", "n_images"] == 2
    assert pd.isna(s.loc["normal", "outcome"]) and s.loc["normal", "n_cases"] == 0


def test_busi_layout_issues(busi):
    issues = _busi(busi).issues
    assert list(issues.columns) == list(ISSUE_COLUMNS)
    got = {(Path(r.file).name, r.issue, r.action) for r in issues.itertuples()}
    assert got == {
        ("README.txt", "ignored_file", "ignored"),
        ("Thumbs.db", "ignored_file", "ignored"),
        ("extra", "ignored_file", "ignored"),
        ("benign (99)_mask.png", "orphan_mask", "ignored"),
        ("benign (4).png", "no_mask", "image excluded"),
        ("malignant (2)_mask_1.png", "empty_mask", "left out of the ROI"),
        ("malignant (3)_mask_1.png", "size_mismatch", "image excluded"),
        ("malignant (5)_mask.png", "empty_mask", "image excluded"),
        ("normal", "excluded_class", "ignored"),
    }
    detail = issues.set_index("issue").loc["size_mismatch", "detail"]
    assert "10x10" in detail and "30x20" in detail


def test_report_says_what_was_found_and_that_spacing_is_missing(busi):
    found = _busi(busi)
    text = str(found)
    assert "benign -> outcome = 0: 5 images, 4 cases" in text
    assert "1 with several mask files, each joined as one ROI" in text
    assert "normal: excluded" in text
    assert "size_mismatch: " in text and "malignant (3)_mask_1.png" in text
    assert "Spacing: NOT GIVEN" in text and "extraction refuses" in text
    assert "7 cases: benign 4, malignant 3" in repr(found) and "spacing missing" in repr(found)
    assert "<table" in found._repr_html_()
    ax = found.plot()
    assert len(ax.patches) == 6  # two bars for each of three classes


@pytest.mark.parametrize("spacing, cell, text", [
    (0.08, 0.08, "0.08 mm per pixel written for every image, as asserted"),
    ("0.1,0.2", "0.1,0.2", "0.1, 0.2 mm per pixel"),
    ((0.1, 0.2), "0.1,0.2", "0.1, 0.2 mm per pixel"),
])  # fmt: skip
def test_spacing_is_written_for_every_row(busi, spacing, cell, text):
    found = _busi(busi, spacing=spacing)
    assert (found.manifest["spacing"] == cell).all()
    assert not found.needs_spacing and text in str(found)


@pytest.mark.parametrize("spacing, match", [
    (50, "outside the plausible range"),
    ("0.08 mm", "not understood"),
    (-1, "positive"),
])  # fmt: skip
def test_bad_spacing_is_refused(busi, spacing, match):
    with pytest.raises(InputError, match=match):
        manifest_from_folder(busi, classes={"benign": 0, "malignant": 1}, exclude=["normal"],
                             spacing=spacing)  # fmt: skip


def test_csv_round_trip_and_missing_spacing_is_refused_by_extraction(busi, tmp_path):
    """The manifest without spacing is valid; extraction then refuses its cases, naming them
    (radiomics_aln/extraction.py, _open: "the pixel spacing of ... is unknown")."""
    found = _busi(busi)
    path = found.to_csv(tmp_path / "out" / "manifest.csv")
    text = path.read_text()
    assert "../Dataset_BUSI_with_GT/malignant/malignant (1)_mask.png;" in text  # relative
    manifest = read_manifest(path)
    assert manifest.case_ids == found.manifest["case_id"].tolist()
    assert manifest["malignant (1)"].spacing is None
    assert len(manifest["malignant (1)"].tumor_mask) == 3
    res = ra.extract_features(manifest.subset(case_ids=["benign (1)"]), rois=("tumor",),
                              progress=False)  # fmt: skip
    assert res.features.empty
    assert "spacing" in res.failures["error"].iloc[0] and "benign (1).png" in (
        res.failures["error"].iloc[0] + res.failures["file"].iloc[0]
    )


def test_absolute_paths_on_request(busi, tmp_path):
    found = _busi(busi, spacing=0.1)
    path = found.to_csv(tmp_path / "m.csv", relative=False)
    assert read_manifest(path, base_dir="/nonexistent")["benign (2)"].tumor_image.is_file()


def test_folders_named_0_and_1_need_no_mapping(tmp_path):
    for cls, value in (("0", 10), ("1", 20)):
        for i in range(2):
            _image(tmp_path / cls / f"img{cls}{i}.png", value + i)
            _mask(tmp_path / cls / f"img{cls}{i}_mask.png")
    found = manifest_from_folder(tmp_path)
    assert found.manifest["outcome"].tolist() == [0, 0, 1, 1]
    assert found.classes == {"0": 0, "1": 1}


@pytest.mark.parametrize("kwargs, match", [
    ({}, r"classes= is required: the class folders of .* are benign, malignant, normal"),
    ({"classes": {"benign": 0, "malignant": 1}}, r"normal \(4 files\) .* neither in classes nor "
                                                  r"in exclude"),
    ({"classes": {"benign": 0, "malignnt": 1}, "exclude": ["normal"]},
     r"classes names folder\(s\) malignnt not in .*; its class folders are benign, malignant"),
    ({"classes": {"benign": 0, "malignant": 1}, "exclude": ["nomal"]}, "exclude names .* nomal"),
    ({"classes": {"benign": 0, "malignant": 1, "normal": 0}, "exclude": ["normal"]},
     "both in classes and in exclude"),
    ({"classes": {"benign": 0, "malignant": 2}, "exclude": ["normal"]}, "is 0 or 1"),
    ({"classes": {"benign": False, "malignant": True}, "exclude": ["normal"]}, "is 0 or 1"),
    ({"classes": {"benign": "0", "malignant": "1"}, "exclude": ["normal"]}, "is 0 or 1"),
    ({"classes": ["benign", "malignant"], "exclude": ["normal"]}, "must be a mapping"),
    ({"classes": {"benign": 0, "malignant": 1}, "exclude": ["normal"], "mask_pattern": "_mask$"},
     r"needs a group \(\?P<name>"),
    ({"classes": {"benign": 0, "malignant": 1}, "exclude": ["normal"], "mask_pattern": "(("},
     "not a regular expression"),
    ({"classes": {"benign": 0, "malignant": 1}, "exclude": ["normal"], "outcome": "class"},
     "outcome='class' must name the outcome column"),
])  # fmt: skip
def test_class_outcomes_are_never_guessed(busi, kwargs, match):
    with pytest.raises(InputError, match=match):
        manifest_from_folder(busi, **kwargs)


def test_root_problems(tmp_path):
    with pytest.raises(InputError, match="is not a folder"):
        manifest_from_folder(tmp_path / "missing", classes={"a": 0})
    _image(tmp_path / "flat" / "a.png", 1)
    with pytest.raises(InputError, match=r"holds no class folder \(1 files directly in it\)"):
        manifest_from_folder(tmp_path / "flat", classes={"a": 0})
    _image(tmp_path / "nomask" / "a" / "x.png", 1)
    _image(tmp_path / "nomask" / "b" / "y.png", 1)
    with pytest.raises(InputError, match="no usable image"):
        manifest_from_folder(tmp_path / "nomask", classes={"a": 0, "b": 1})


def test_same_name_in_two_classes_is_refused(tmp_path):
    for cls, value in (("benign", 1), ("malignant", 2)):
        _image(tmp_path / cls / "001.png", value)
        _mask(tmp_path / cls / "001_mask.png")
    with pytest.raises(InputError, match=r"'001' in benign, malignant.*must be unique"):
        manifest_from_folder(tmp_path, classes={"benign": 0, "malignant": 1})


def test_two_images_with_one_name_are_excluded(tmp_path):
    _image(tmp_path / "a" / "x.png", 1)
    Image.fromarray(np.full(SHAPE, 2, np.uint8)).save(tmp_path / "a" / "x.jpg")
    _mask(tmp_path / "a" / "x_mask.png")
    _image(tmp_path / "a" / "y.png", 3)
    _mask(tmp_path / "a" / "y_mask.png")
    with pytest.warns(DataWarning, match="1 bad_name"):
        found = manifest_from_folder(tmp_path, classes={"a": 1})
    assert found.manifest["case_id"].tolist() == ["y"]
    assert "which one is meant" in found.issues.set_index("issue").loc["bad_name", "detail"]


def test_unusable_masks_and_images_are_excluded_with_the_reason(tmp_path):
    _image(tmp_path / "a" / "labels.png", 1)
    _mask(tmp_path / "a" / "labels_mask.png")
    _mask(tmp_path / "a" / "labels_mask_1.png", value=2)  # a second label value: not binary
    arr = np.zeros(SHAPE, np.uint8)
    arr[2:5, 2:5], arr[8:12, 8:12] = 1, 2
    _image(tmp_path / "a" / "multi.png", 2)
    Image.fromarray(arr).save(tmp_path / "a" / "multi_mask.png")  # two labels in one file
    (tmp_path / "a" / "broken.png").write_bytes(b"not a png")
    _mask(tmp_path / "a" / "broken_mask.png")
    _image(tmp_path / "a" / "good.png", 3)
    _mask(tmp_path / "a" / "good_mask.png")
    with pytest.warns(DataWarning, match=r"2 image\(s\)"):
        found = manifest_from_folder(tmp_path, classes={"a": 1})
    assert found.manifest["case_id"].tolist() == ["good", "labels"]  # two 1-label files: union
    issues = found.issues.set_index("case_id")
    assert issues.loc["multi", "issue"] == "bad_mask" and "2 labels" in issues.loc["multi", "detail"]
    assert issues.loc["broken", "issue"] == "bad_image"
    assert found.summary.loc[0, "n_bad_file"] == 2


def test_check_masks_false_only_pairs_names(busi):
    with pytest.warns(DataWarning, match=r"1 image\(s\)"):  # only benign (4): no mask
        found = manifest_from_folder(busi, classes={"benign": 0, "malignant": 1},
                                     exclude=["normal"], check_masks=False)  # fmt: skip
    assert len(found.manifest) == 9 and "malignant (5)" in set(found.manifest["case_id"])


def test_custom_mask_pattern(tmp_path):
    _image(tmp_path / "a" / "case1.png", 1)
    _mask(tmp_path / "a" / "case1_tumor.png")
    _mask(tmp_path / "a" / "case1_other1.png", box=(0, 3, 0, 3))
    found = manifest_from_folder(tmp_path, classes={"a": 1},
                                 mask_pattern=r"^(?P<name>.+)_(tumor|other(?P<k>\d+))$")  # fmt: skip
    masks = found.manifest.loc[0, "tumor_mask"].split(";")
    assert [Path(p).name for p in masks] == ["case1_tumor.png", "case1_other1.png"]


def test_patient_id_from_a_regex_or_a_function(tmp_path):
    for name in ("P01_a", "P01_b", "P02_a"):
        _image(tmp_path / "x" / f"{name}.png", len(name))
        _mask(tmp_path / "x" / f"{name}_mask.png")
    regex = manifest_from_folder(tmp_path, classes={"x": 1}, patient_id=r"^(?P<patient>P\d+)_")
    assert regex.manifest["patient_id"].tolist() == ["P01", "P01", "P02"]
    first_group = manifest_from_folder(tmp_path, classes={"x": 1}, patient_id=r"(P\d+)")
    assert first_group.manifest["patient_id"].tolist() == ["P01", "P01", "P02"]
    func = manifest_from_folder(tmp_path, classes={"x": 1}, patient_id=lambda n: n[:3])
    assert func.manifest["patient_id"].tolist() == ["P01", "P01", "P02"]
    with pytest.raises(InputError, match=r"no patient id for 3 image name\(s\): P01_a"):
        manifest_from_folder(tmp_path, classes={"x": 1}, patient_id=r"^Q\d+")
    with pytest.raises(InputError, match="must be a regular expression, a function"):
        manifest_from_folder(tmp_path, classes={"x": 1}, patient_id=5)


def _breast_folder(root: Path, data: Path) -> pd.DataFrame:
    """The committed BrEaST-Lesions-USG cases as <class>/<case>.png with <case>_mask*.png."""
    clinical = pd.read_csv(data / "clinical-data.csv", dtype=str)
    for row in clinical.itertuples():
        case = row.Image_filename.removesuffix(".png")
        folder = root / row.Classification
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(data / row.Image_filename, folder / f"{case}.png")
        shutil.copy(data / row.Mask_tumor_filename, folder / f"{case}_mask.png")
        if isinstance(row.Mask_other_filename, str):
            shutil.copy(data / row.Mask_other_filename, folder / f"{case}_mask_1.png")
    return clinical


def test_real_images_end_to_end(test_data_dir, tmp_path):
    """Real RGBA ultrasound (BrEaST-Lesions-USG, CC BY 4.0): folder -> manifest -> features."""
    clinical = _breast_folder(tmp_path / "breast", test_data_dir / "breast")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is excluded
        found = manifest_from_folder(tmp_path / "breast", classes={"benign": 0, "malignant": 1},
                                     spacing=0.078)  # fmt: skip
    assert len(found.manifest) == 5 and found.issues.empty
    truth = clinical.set_index(clinical["Image_filename"].str.removesuffix(".png"))
    outcome = found.manifest.set_index("case_id")["outcome"]
    assert outcome.to_dict() == (truth["Classification"] == "malignant").astype(int).to_dict()
    assert found.summary.set_index("class").loc["benign", "n_several_masks"] == 1  # case092
    manifest = read_manifest(found.to_csv(tmp_path / "manifest.csv"))
    assert manifest["case092"].spacing == (0.078, 0.078)
    params = load_params("ultrasound_2d")
    params["imageType"] = {"Original": {"binWidth": 5}}
    params["featureClass"] = {"firstorder": ["Mean"], "shape2D": ["MeshSurface"]}
    with pytest.warns(MaskComponentsWarning, match="case092"):  # two mask files: one ROI
        res = ra.extract_features(manifest.subset(case_ids=["case092", "case101"]),
                                  rois=("tumor",), params=params, progress=False)  # fmt: skip
    assert res.failures.empty and res.features.shape == (2, 2)
    assert np.isfinite(res.features.to_numpy()).all()
    # case092's ROI is the union of its two mask files: larger than the tumour mask alone
    area = res.features.loc["case092", "tumor__original_shape2D_MeshSurface"]
    tumor = np.asarray(Image.open(test_data_dir / "breast" / "case092_tumor.png"))
    one_mask_mm2 = (tumor[..., 0] > 0).sum() * 0.078**2
    assert area > one_mask_mm2 * 1.05


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------


def test_cli_help():
    with pytest.raises(SystemExit) as exc:
        main(["manifest-from-folder", "--help"])
    assert exc.value.code == 0


def test_cli_manifest_from_folder(busi, tmp_path, capsys):
    out = tmp_path / "res" / "manifest.csv"
    args = ["manifest-from-folder", str(busi), "--class", "benign=0", "--class", "malignant=1",
            "--exclude", "normal", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "malignant -> outcome = 1: 5 images, 3 cases" in captured.out
    assert "Spacing: NOT GIVEN" in captured.out
    assert "DataWarning: 3 image(s)" in captured.err
    assert read_manifest(out).case_ids[:2] == ["benign (1)", "benign (2)"]
    issues = pd.read_csv(tmp_path / "res" / "manifest_issues.csv")
    assert set(issues["issue"]) >= {"no_mask", "orphan_mask", "size_mismatch", "empty_mask"}
    assert main([*args, "--spacing", "0.1,0.2"]) == 0
    assert read_manifest(out)["benign (1)"].spacing == (0.1, 0.2)


def test_cli_manifest_from_folder_errors(busi, tmp_path, capsys):
    out = str(tmp_path / "m.csv")
    assert main(["manifest-from-folder", str(busi), "--out", out]) == 1
    assert "classes= is required" in capsys.readouterr().err
    assert main(["manifest-from-folder", str(busi), "--class", "benign", "--out", out]) == 2
    assert "--class 'benign': give NAME=0 or NAME=1" in capsys.readouterr().err
    assert main(["manifest-from-folder", str(busi / "nope"), "--class", "a=1", "--out", out]) == 1
    assert "is not a folder" in capsys.readouterr().err
    args = ["manifest-from-folder", str(busi), "--class", "benign=0", "--class", "malignant=1",
            "--exclude", "normal", "--spacing", "8", "--out", out]  # fmt: skip
    assert main(args) == 1
    assert "outside the plausible range" in capsys.readouterr().err
    assert not Path(out).exists()


def test_cli_without_issues_removes_a_stale_issues_file(tmp_path, capsys):
    for cls in ("0", "1"):
        _image(tmp_path / "d" / cls / "a.png", int(cls) + 1)
        _mask(tmp_path / "d" / cls / "a_mask.png")
    (tmp_path / "d" / "1" / "a.png").rename(tmp_path / "d" / "1" / "b.png")
    (tmp_path / "d" / "1" / "a_mask.png").rename(tmp_path / "d" / "1" / "b_mask.png")
    stale = tmp_path / "m_issues.csv"
    stale.write_text("old")
    assert main(["manifest-from-folder", str(tmp_path / "d"), "--out",
                 str(tmp_path / "m.csv")]) == 0  # fmt: skip
    assert not stale.exists() and len(read_manifest(tmp_path / "m.csv")) == 2
