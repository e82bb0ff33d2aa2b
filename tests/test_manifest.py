"""Tests of radiomics_aln.manifest: the cohort manifest reader (Case is tested in test_cases)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radiomics_aln.exceptions import InputError, ManifestError
from radiomics_aln.manifest import Manifest, read_manifest

FILES = [
    "img/007.png",
    "img/007_t.png",
    "img/007_t2.png",
    "img/007_ln.png",
    "img/007_ln_m.png",
    "img/007_t_r2.png",
    "img/007_t_rep.png",
    "img/007_ln_r2.png",
    "img/008.nrrd",
    "img/008_t.nrrd",
    "img/009.png",
    "img/009_t.png",
]


@pytest.fixture
def folder(tmp_path):
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")  # never decoded by read_manifest
    return tmp_path


def write(folder: Path, text: str, name: str = "manifest.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (
    "case_id,cohort,outcome,tumor_image,tumor_mask,ln_image,ln_mask,tumor_mask_reader2,"
    "tumor_mask_repeat,ln_mask_reader2,spacing,ln_spacing,age,margin,ki67\n"
    "007,train,1,img/007.png,img/007_t.png; img/007_t2.png,img/007_ln.png,img/007_ln_m.png,"
    'img/007_t_r2.png,img/007_t_rep.png,img/007_ln_r2.png,"0.1,0.2",0.05,54,irregular,30.5\n'
    "008,external,0,img/008.nrrd,img/008_t.nrrd,,,,,,,,61,regular,\n"
    "009,train,0,{abs009},img/009_t.png,,,,,,0.08,,47,irregular,12\n"
)


def good_manifest(folder: Path) -> Path:
    return write(folder, GOOD.format(abs009=folder / "img" / "009.png"))


def test_read_full_manifest(folder):
    m = read_manifest(good_manifest(folder))
    assert isinstance(m, Manifest) and len(m) == 3 and m.path == folder / "manifest.csv"
    assert m.case_ids == ["007", "008", "009"]  # leading zeros kept
    c = m["007"]
    assert c.tumor_image == folder / "img/007.png"
    assert c.tumor_mask == (folder / "img/007_t.png", folder / "img/007_t2.png")
    assert c.ln_image == folder / "img/007_ln.png" and c.ln_mask == (folder / "img/007_ln_m.png",)
    assert c.repeat_masks == {
        "reader2": {"tumor": (folder / "img/007_t_r2.png",), "ln": (folder / "img/007_ln_r2.png",)},
        "repeat": {"tumor": (folder / "img/007_t_rep.png",)},
    }
    assert c.masks("ln", "reader2") == (folder / "img/007_ln_r2.png",)
    assert c.masks("ln", "repeat") == ()
    assert c.spacing == (0.1, 0.2) and c.ln_spacing == (0.05, 0.05)
    assert c.image_spacing("ln") == (0.05, 0.05) and c.image_spacing("tumor") == (0.1, 0.2)
    assert c.outcome == 1 and c.cohort == "train" and c.has_ln
    assert c.clinical == {"age": 54, "margin": "irregular", "ki67": 30.5}
    c8 = m["008"]
    assert not c8.has_ln and c8.repeat_masks == {} and c8.spacing is None
    assert math.isnan(c8.clinical["ki67"])
    c9 = m["009"]
    assert c9.tumor_image == folder / "img" / "009.png"  # absolute path kept
    assert c9.spacing == (0.08, 0.08) and c9.image_spacing("ln") == (0.08, 0.08)


def test_table_outcomes_and_clinical(folder):
    m = read_manifest(good_manifest(folder))
    t = m.table
    assert t.index.name == "case_id" and list(t.index) == ["007", "008", "009"]
    assert list(t.columns) == ["cohort", "outcome", "age", "margin", "ki67"]
    assert t["outcome"].dtype == np.int64 and t["age"].dtype == np.int64
    assert t["ki67"].dtype == float and np.isnan(t.loc["008", "ki67"])
    assert list(t["margin"]) == ["irregular", "regular", "irregular"]
    pd.testing.assert_series_equal(m.outcomes, t["outcome"])
    assert list(m.clinical.columns) == ["age", "margin", "ki67"]
    assert m.cohorts == ["train", "external"]
    assert repr(m).endswith("3 cases: train 2, external 1)")


def test_subset_and_container_protocol(folder):
    m = read_manifest(good_manifest(folder))
    train = m.subset("train")
    assert [c.case_id for c in train] == ["007", "009"]
    assert list(train.table.index) == ["007", "009"]
    assert m.subset(["external"]).case_ids == ["008"]
    assert m.subset(case_ids=["009"]).case_ids == ["009"]
    assert "007" in m and "999" not in m
    with pytest.raises(
        InputError, match=r"cohort prospective not in manifest .*; it has train, external"
    ):
        m.subset("prospective")
    with pytest.raises(InputError, match="case ids not in manifest .*: 999"):
        m.subset(case_ids=["999"])
    with pytest.raises(KeyError, match="no case '999'"):
        m["999"]


def test_custom_outcome_and_no_outcome(folder):
    text = "case_id,aln,tumor_image,tumor_mask\n1,1,img/009.png,img/009_t.png\n"
    m = read_manifest(write(folder, text), outcome="aln")
    assert m.outcome_column == "aln" and m["1"].outcome == 1 and m["1"].cohort is None
    assert list(m.table.columns) == ["aln"]
    m = read_manifest(write(folder, text), outcome=None)
    assert m["1"].outcome is None and m["1"].clinical == {"aln": 1}
    with pytest.raises(InputError, match="outcome=None"):
        _ = m.outcomes


def test_cohorts_allowed_list(folder):
    m = read_manifest(good_manifest(folder), cohorts=["train", "external", "internal"])
    assert len(m) == 3
    with pytest.raises(ManifestError, match=r"case 008 \(line 3\): unknown cohort 'external'"):
        read_manifest(good_manifest(folder), cohorts=("train",))


def test_every_problem_reported_at_once(folder):
    text = (
        "case_id,cohort,outcome,tumor_image,tumor_mask,ln_image,ln_mask,spacing\n"
        "a,train,1,img/009.png,img/009_t.png,,,0.1\n"
        "a,train,0,img/009.png,img/009_t.png,,,\n"  # duplicate id
        "b,training,2,img/009.png,img/nothere.png,,,abc\n"  # cohort, outcome, file, spacing
        "c,train,yes,img/009.png,,img/007_ln.png,,-1\n"  # outcome, empty mask, ln, spacing
        ",train,,img/missing.png,img/009_t.png,,,\n"  # empty id, empty outcome, missing image
    )
    with pytest.raises(ManifestError) as info:
        read_manifest(write(folder, text), cohorts=["train", "internal"])
    err = info.value
    problems = err.problems
    expected = [
        "duplicate case_id 'a' on lines 2, 3",
        "line 6: empty case_id",
        "case b (line 4): outcome `outcome` is '2', not 0 or 1",
        "case c (line 5): outcome `outcome` is 'yes', not 0 or 1",
        "line 6: outcome `outcome` is missing",
        "case b (line 4): unknown cohort 'training' (allowed: train, internal)",
        "case b (line 4): `tumor_mask` file img/nothere.png not found",
        "line 6: `tumor_image` file img/missing.png not found",
        "case c (line 5): `tumor_mask` is empty",
        "case c (line 5): `ln_image` is given but `ln_mask` is empty",
        "case b (line 4): `spacing` 'abc' is not mm per pixel",
        "case c (line 5): `spacing` '-1' is not mm per pixel",
    ]
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)
    assert len(problems) == len(expected)
    assert err.path == folder / "manifest.csv"
    assert f"manifest {folder / 'manifest.csv'} has {len(expected)} problem(s)" in str(err)
    assert isinstance(err, InputError) and isinstance(err, ValueError)


def test_missing_columns_and_structure_problems(folder):
    with pytest.raises(
        ManifestError,
        match=r"missing column\(s\) tumor_mask, outcome \(found: case_id, tumor_image\)",
    ):
        read_manifest(write(folder, "case_id,tumor_image\n1,img/009.png\n"))
    with pytest.raises(ManifestError, match=r"duplicated column name\(s\): age"):
        read_manifest(
            write(
                folder,
                "case_id,outcome,tumor_image,tumor_mask,age,age\n1,0,img/009.png,img/009_t.png,1,2\n",
            )
        )
    with pytest.raises(ManifestError, match=r"unknown image/mask column\(s\) tumour_mask_reader3"):
        read_manifest(
            write(
                folder,
                "case_id,outcome,tumor_image,tumor_mask,tumour_mask_reader3\n"
                "1,0,img/009.png,img/009_t.png,img/009_t.png\n",
            )
        )
    with pytest.raises(ManifestError, match="no cases"):
        read_manifest(write(folder, "case_id,outcome,tumor_image,tumor_mask\n"))
    with pytest.raises(ManifestError, match=r"manifest file not found: .*nope\.csv"):
        read_manifest(folder / "nope.csv")
    with pytest.raises(ManifestError, match="cohorts= was given but the manifest has no `cohort`"):
        read_manifest(
            write(
                folder, "case_id,outcome,tumor_image,tumor_mask\n1,0,img/009.png,img/009_t.png\n"
            ),
            cohorts=["train"],
        )


def test_ln_repeat_without_ln_image(folder):
    text = (
        "case_id,outcome,tumor_image,tumor_mask,ln_mask_repeat\n"
        "1,0,img/009.png,img/009_t.png,img/007_ln_m.png\n"
    )
    with pytest.raises(
        ManifestError, match="`ln_mask_repeat` is given but the case has no LN image"
    ):
        read_manifest(write(folder, text))


def test_check_files_false_and_base_dir(folder, tmp_path_factory):
    text = "case_id,outcome,tumor_image,tumor_mask\n1,0,a/x.png,a/x_m.png\n"
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    path = write(elsewhere, text)
    with pytest.raises(ManifestError, match="not found"):
        read_manifest(path)
    m = read_manifest(path, check_files=False)
    assert m["1"].tumor_image == elsewhere / "a/x.png"
    text = "case_id,outcome,tumor_image,tumor_mask\n1,0,img/009.png,img/009_t.png\n"
    m = read_manifest(write(elsewhere, text, "m2.csv"), base_dir=folder)
    assert m["1"].tumor_image == folder / "img/009.png"


def test_tab_separated_and_bom(folder):
    text = "\ufeffcase_id\toutcome\ttumor_image\ttumor_mask\tspacing\n1\t1\timg/009.png\timg/009_t.png\t0.1 0.2\n"
    m = read_manifest(write(folder, text, "m.tsv"), sep="\t")
    assert m["1"].spacing == (0.1, 0.2)


def test_read_manifest_of_2000_cases_opens_no_image(folder, monkeypatch):
    """Reading a manifest checks that files exist; it never decodes an image or mask."""
    import PIL.Image
    import SimpleITK as sitk

    def refuse(*args, **kwargs):
        raise AssertionError(f"read_manifest decoded an image: {args!r}")

    for module, name in [(sitk, "ReadImage"), (sitk, "ImageFileReader"), (PIL.Image, "open")]:
        monkeypatch.setattr(module, name, refuse)
    # the image files are empty too: a reader that decoded them some other way would fail
    assert (folder / "img/009.png").stat().st_size == 0
    rows = "".join(f"{i},{i % 2},img/009.png,img/009_t.png\n" for i in range(2000))
    m = read_manifest(write(folder, "case_id,outcome,tumor_image,tumor_mask\n" + rows))
    assert len(m) == 2000 and m.outcomes.sum() == 1000


def test_manifest_of_committed_breast_cases_loads_with_roi(test_data_dir, tmp_path):
    """A manifest over the committed BrEaST cases feeds load_image/load_mask directly."""
    from radiomics_aln.images import load_image, spacing_source
    from radiomics_aln.masks import load_mask
    from radiomics_aln.ring import peritumoral_ring

    folder = test_data_dir / "breast"
    clinical = pd.read_csv(folder / "clinical-data.csv", dtype=str)
    rows = pd.DataFrame(
        {
            "case_id": clinical["Image_filename"].str.removesuffix(".png"),
            "cohort": "train",
            "outcome": (clinical["Classification"] == "malignant").astype(int),
            "tumor_image": [str(folder / f) for f in clinical["Image_filename"]],
            "tumor_mask": [str(folder / f) for f in clinical["Mask_tumor_filename"]],
            "spacing": clinical["Pixel_size"].astype(float) * 10,
            "birads": clinical["BIRADS"],
        }
    )
    rows.to_csv(tmp_path / "breast.csv", index=False)
    m = read_manifest(tmp_path / "breast.csv")
    assert len(m) == 5 and m.table["birads"].dtype != np.int64  # "4a" etc. stay text
    for case in m:
        image = load_image(case.tumor_image, spacing=case.spacing)
        assert spacing_source(image) == "argument"
        mask = load_mask(case.tumor_mask, like=image)
        assert peritumoral_ring(mask, min_coverage=None).GetSize() == image.GetSize()


# --------------------------------------------------------------------------------------------
# write_manifest (issue 15)
# --------------------------------------------------------------------------------------------


def test_write_manifest_round_trip(folder, tmp_path):
    from radiomics_aln.manifest import write_manifest

    original = read_manifest(good_manifest(folder))
    raw = pd.read_csv(folder / "manifest.csv", dtype=str, keep_default_na=False)
    out = write_manifest(raw, tmp_path / "copy" / "m.csv", base_dir=folder)
    text = out.read_text()
    assert "../img/007_t.png;../img/007_t2.png" in text and '"0.1,0.2"' in text
    assert "\n007," in text  # ids stay text
    copy = read_manifest(out)
    assert copy.case_ids == original.case_ids
    for a, b in zip(copy, original, strict=True):  # read_manifest keeps "copy/../img"
        assert a.tumor_image.resolve() == b.tumor_image.resolve()
        assert [m.resolve() for m in a.tumor_mask] == [m.resolve() for m in b.tumor_mask]
        assert (a.ln_image is None) == (b.ln_image is None)
        assert {r: {k: [m.resolve() for m in v] for k, v in d.items()}
                for r, d in a.repeat_masks.items()} == {
               r: {k: [m.resolve() for m in v] for k, v in d.items()}
               for r, d in b.repeat_masks.items()}  # fmt: skip
        assert (a.spacing, a.ln_spacing, a.outcome, a.cohort) == (
            b.spacing, b.ln_spacing, b.outcome, b.cohort)  # fmt: skip
    assert copy.table.equals(original.table)


def test_write_manifest_cells(tmp_path):
    from radiomics_aln.manifest import write_manifest

    table = pd.DataFrame(
        {"outcome": [1, 0], "tumor_image": [Path("a.png"), "/data/b.png"],
         "tumor_mask": [["a_m.png", Path("a_m2.png")], "b_m.png ; b_m2.png"],
         "ln_image": [None, np.nan], "spacing": [np.float64(0.08), math.nan]},
        index=pd.Index(["a", "b"], name="case_id"),
    )  # fmt: skip
    out = write_manifest(table, tmp_path / "sub" / "m.csv", base_dir=tmp_path, relative=False)
    lines = out.read_text().splitlines()
    assert lines[0] == "case_id,outcome,tumor_image,tumor_mask,ln_image,spacing"
    assert lines[1] == (f"a,1,{tmp_path}/a.png,{tmp_path}/a_m.png;{tmp_path}/a_m2.png,,0.08")
    assert lines[2] == f"b,0,/data/b.png,{tmp_path}/b_m.png;{tmp_path}/b_m2.png,,"


@pytest.mark.parametrize("cell, match", [
    (Path("a;b.png"), "';' separates masks"),
    (Path(" a.png"), "leading or trailing spaces"),
    (["ok.png", "bad.png "], "leading or trailing spaces"),
])  # fmt: skip
def test_write_manifest_refuses_names_a_cell_cannot_hold(tmp_path, cell, match):
    from radiomics_aln.manifest import write_manifest

    table = pd.DataFrame({"case_id": ["x"], "tumor_image": ["x.png"], "tumor_mask": [cell]})
    with pytest.raises(InputError, match=f"case x: `tumor_mask`: the file name .*{match}"):
        write_manifest(table, tmp_path / "m.csv")


def test_write_manifest_needs_case_ids(tmp_path):
    from radiomics_aln.manifest import write_manifest

    with pytest.raises(InputError, match="no `case_id` column"):
        write_manifest(pd.DataFrame({"outcome": [1]}), tmp_path / "m.csv")
    with pytest.raises(InputError, match="must be a pandas DataFrame"):
        write_manifest([{"case_id": "a"}], tmp_path / "m.csv")
