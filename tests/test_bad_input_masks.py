"""Bad inputs of issue 13, section 5: masks with several components, specks, duplicated images,
and test-cohort cases whose extraction failed.

Each test asserts the exception class (or the failure row / warning) and that the message names
the case, file, column or key at fault.
"""

from __future__ import annotations

import re
import shutil
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radiomics_aln import extraction as ex
from radiomics_aln.cases import Case, load_case_rois
from radiomics_aln.cli import main
from radiomics_aln.config import StudyConfig
from radiomics_aln.exceptions import (
    DataWarning,
    DuplicateImageWarning,
    ExtractionError,
    InputError,
    ManifestError,
    MaskComponentsWarning,
)
from radiomics_aln.manifest import read_manifest
from radiomics_aln.masks import load_mask
from radiomics_aln.study import Study

# The synthetic study's training cohort has 9.8 events per candidate coefficient by design.
pytestmark = pytest.mark.filterwarnings(
    "ignore:events per variable:radiomics_aln.exceptions.SmallSampleWarning"
)

# A small settings dict: first-order and shape features of the original image only, so every
# extraction here takes milliseconds.
FAST = {
    "setting": {"binWidth": 5, "label": 1, "minimumROISize": 20, "force2D": False},
    "imageType": {"Original": {}},
    "featureClass": {"firstorder": [], "shape2D": []},
}
SPACING = 0.1  # mm per pixel: one pixel is 0.01 mm²


def _image(seed: int = 0, shape: tuple[int, int] = (70, 80)) -> sitk.Image:
    rng = np.random.default_rng(seed)
    img = sitk.GetImageFromArray(np.clip(rng.normal(100, 20, shape), 0, 255))
    img.SetSpacing((SPACING, SPACING))
    return img


def _mask(like: sitk.Image, *boxes: tuple[int, int, int, int]) -> sitk.Image:
    m = np.zeros(sitk.GetArrayViewFromImage(like).shape, np.uint8)
    for r0, r1, c0, c1 in boxes:
        m[r0:r1, c0:c1] = 1
    msk = sitk.GetImageFromArray(m)
    msk.CopyInformation(like)
    return msk


BIG = (20, 45, 20, 50)  # 25 x 30 px = 7.5 mm²
SPECK = (64, 66, 5, 7)  # 2 x 2 px = 0.04 mm², far from BIG and OTHER
OTHER = (50, 60, 55, 75)  # 10 x 20 px = 2 mm², a second lesion


def _case(cid: str, *boxes, seed: int = 0, **extra) -> dict:
    img = _image(seed)
    return {"case_id": cid, "tumor_image": img, "tumor_mask": _mask(img, *boxes), **extra}


def _write_cases(folder: Path, specs: dict[str, tuple]) -> dict[str, tuple[Path, Path]]:
    """NRRD image and mask per case (spacing in the header); returns their paths."""
    out = {}
    for i, (cid, boxes) in enumerate(specs.items()):
        img = _image(i)
        ip, mp = folder / f"{cid}.nrrd", folder / f"{cid}_mask.nrrd"
        sitk.WriteImage(sitk.Cast(img, sitk.sitkFloat32), str(ip))
        sitk.WriteImage(_mask(img, *boxes), str(mp))
        out[cid] = (ip, mp)
    return out


def _manifest(folder: Path, rows: list[str], extra_cols: str = "") -> Path:
    header = "case_id,cohort,outcome,tumor_image,tumor_mask" + extra_cols
    path = folder / "manifest.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# 1. bad mask options, on every route (extract_features, case, Case, StudyConfig, load_case_rois)
# --------------------------------------------------------------------------------------------

BAD_OPTIONS = [
    pytest.param({"mask_combine": "both"}, "mask_combine", id="combine-unknown-word"),
    pytest.param({"mask_combine": None}, "mask_combine", id="combine-none"),
    pytest.param({"min_area_mm2": -1.0}, "min_area_mm2", id="min-area-negative"),
    pytest.param({"min_area_mm2": float("nan")}, "min_area_mm2", id="min-area-nan"),
    pytest.param({"min_area_mm2": float("inf")}, "min_area_mm2", id="min-area-inf"),
    pytest.param({"min_area_mm2": "big"}, "min_area_mm2", id="min-area-text"),
    pytest.param({"min_area_mm2": True}, "min_area_mm2", id="min-area-bool"),
]


@pytest.mark.parametrize("kwargs, key", BAD_OPTIONS)
def test_bad_mask_option_of_extract_features(kwargs, key):
    with pytest.raises(InputError, match=key):
        ex.extract_features([_case("c1", BIG)], rois=("tumor",), params=FAST, **kwargs)


# a NaN of one case is a missing value there (an empty manifest cell): the batch setting applies
CASE_OPTIONS = [p for p in BAD_OPTIONS if p.id not in ("combine-none", "min-area-nan")]


@pytest.mark.parametrize("kwargs, key", CASE_OPTIONS)
def test_bad_mask_option_of_one_case_names_the_case(kwargs, key):
    with pytest.raises(InputError, match=rf"case 'odd'.*{key}"):
        ex.extract_features(
            [_case("ok", BIG), _case("odd", BIG, seed=1, **kwargs)], rois=("tumor",), params=FAST
        )


@pytest.mark.parametrize("kwargs, key", BAD_OPTIONS)
def test_bad_mask_option_of_the_study_config(kwargs, key):
    # a known key with a bad value (not "unknown configuration key")
    with pytest.raises(InputError, match=rf"^{key}=.*(use 'union' or 'largest'|non-negative)"):
        StudyConfig.from_dict({"outcome": "aln", **kwargs})


@pytest.mark.parametrize("kwargs, key", CASE_OPTIONS)
def test_bad_mask_option_of_a_case(kwargs, key):
    with pytest.raises(InputError, match=rf"case 007.*{key}"):
        Case("007", "t.png", "t_mask.png", **kwargs)


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param(
            {"errors": "ignore"}, "^errors must be 'collect' or 'raise'", id="study-errors-unknown"
        ),
        pytest.param(
            {"exclude_conflicting_duplicates": "yes"},
            "^exclude_conflicting_duplicates must be true or false, got 'yes'",
            id="study-exclude-duplicates-not-bool",
        ),
    ],
)
def test_bad_study_switches(change, message):
    with pytest.raises(InputError, match=message):
        StudyConfig.from_dict({"outcome": "aln", **change})


@pytest.mark.parametrize(
    "column, value, fragment",
    [
        pytest.param("mask_combine", "biggest", "`mask_combine` 'biggest'", id="manifest-combine"),
        pytest.param("min_area_mm2", "-2", "`min_area_mm2` '-2'", id="manifest-min-area-neg"),
        pytest.param("min_area_mm2", "abc", "`min_area_mm2` 'abc'", id="manifest-min-area-text"),
        pytest.param("min_area_mm2", "inf", "`min_area_mm2` 'inf'", id="manifest-min-area-inf"),
    ],
)
def test_bad_mask_option_in_the_manifest(tmp_path, column, value, fragment):
    files = _write_cases(tmp_path, {"p1": (BIG,), "p2": (BIG,)})
    rows = [
        f"{cid},train,{i % 2},{ip.name},{mp.name},{value if cid == 'p2' else ''}"
        for i, (cid, (ip, mp)) in enumerate(files.items())
    ]
    with pytest.raises(ManifestError) as info:
        read_manifest(_manifest(tmp_path, rows, f",{column}"))
    text = str(info.value)
    assert "case p2 (line 3)" in text and fragment in text, text
    assert "case p1" not in text


# --------------------------------------------------------------------------------------------
# 1. several components and specks
# --------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::radiomics_aln.exceptions.CoverageWarning")  # edge masks
def test_several_components_are_warned_once_per_batch_with_cases_and_counts():
    cases = [
        _case("one", BIG, seed=1),
        _case("two", BIG, OTHER, seed=2),
        _case("three", BIG, OTHER, SPECK, seed=3),
    ]
    with pytest.warns(MaskComponentsWarning) as caught:
        res = ex.extract_features(cases, rois=("tumor", "peritumoral"), params=FAST)
    mine = [w for w in caught if issubclass(w.category, MaskComponentsWarning)]
    assert len(mine) == 1, [str(w.message) for w in mine]
    text = str(mine[0].message)
    assert "2 case(s)" in text and "two (2)" in text and "three (3)" in text, text
    assert "one (" not in text
    assert "\n" not in text  # the CLI shows the first line only
    diag = res.diagnostics
    col = "tumor__diagnostics_radiomics_aln_MaskComponents"
    assert diag[col].tolist() == [1, 2, 3]
    assert res.failures.empty


def test_largest_and_min_area_choose_the_components_and_stay_quiet():
    cases = [_case("two", BIG, OTHER, seed=1), _case("speck", BIG, SPECK, seed=2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", MaskComponentsWarning)
        largest = ex.extract_features(cases, rois=("tumor",), params=FAST, mask_combine="largest")
        cleaned = ex.extract_features(cases[1:], rois=("tumor",), params=FAST, min_area_mm2=0.1)
    single = ex.extract_features([_case("big", BIG, seed=1)], rois=("tumor",), params=FAST)
    area = "tumor__original_shape2D_PixelSurface"
    assert largest.features[area].tolist() == pytest.approx([7.5, 7.5])
    assert cleaned.features[area].tolist() == pytest.approx([7.5])
    np.testing.assert_array_equal(
        largest.features.loc["two"].to_numpy(), single.features.loc["big"].to_numpy()
    )
    used = "tumor__diagnostics_radiomics_aln_MaskComponentsUsed"
    assert largest.diagnostics[used].tolist() == [1, 1]


def test_per_case_manifest_values_override_the_batch_default(tmp_path):
    files = _write_cases(tmp_path, {"p1": (BIG, OTHER), "p2": (BIG, OTHER)})
    rows = [
        f"p1,train,0,{files['p1'][0].name},{files['p1'][1].name},largest",
        f"p2,train,1,{files['p2'][0].name},{files['p2'][1].name},",
    ]
    manifest = read_manifest(_manifest(tmp_path, rows, ",mask_combine"))
    assert manifest["p1"].mask_combine == "largest" and manifest["p2"].mask_combine is None
    assert "mask_combine" not in manifest.table.columns  # not a clinical variable
    with pytest.warns(MaskComponentsWarning, match=r"1 case\(s\).*p2 \(2\)"):
        res = ex.extract_features(manifest, rois=("tumor",), params=FAST)
    area = res.features["tumor__original_shape2D_PixelSurface"]
    assert area.tolist() == pytest.approx([7.5, 9.5])


@pytest.mark.filterwarnings("ignore::radiomics_aln.exceptions.CoverageWarning")  # edge masks
def test_a_speck_below_min_area_is_a_named_failure(tmp_path):
    files = _write_cases(tmp_path, {"good": (BIG,), "speck": (SPECK,)})
    cases = [
        {"case_id": cid, "tumor_image": str(ip), "tumor_mask": str(mp)}
        for cid, (ip, mp) in files.items()
    ]
    res = ex.extract_features(cases, rois=("tumor", "peritumoral"), params=FAST, min_area_mm2=0.5)
    f = res.failures.set_index("roi")
    assert list(f.index) == ["tumor", "peritumoral"] and set(f.case_id) == {"speck"}
    err = f.loc["tumor", "error"]
    assert "speck_mask.nrrd" in f.loc["tumor", "file"]
    for part in ("case 'speck'", "speck_mask.nrrd", "0.04 mm²", "min_area_mm2=0.5 mm²"):
        assert part in err, err
    assert "PyRadiomics" not in err
    assert res.features.loc["good"].notna().all()
    with pytest.raises(ExtractionError, match=r"case 'speck', roi 'tumor'.*0\.04 mm²"):
        ex.extract_features(cases, rois=("tumor",), params=FAST, min_area_mm2=0.5, errors="raise")


def test_speck_message_of_load_mask_and_load_case_rois(tmp_path):
    files = _write_cases(tmp_path, {"speck": (SPECK,)})
    ip, mp = files["speck"]
    from radiomics_aln.images import load_image

    image = load_image(ip)
    with pytest.raises(InputError, match=r"speck_mask\.nrrd.*min_area_mm2=0\.5 mm².*0\.04 mm²"):
        load_mask(mp, like=image, min_area_mm2=0.5)
    with pytest.raises(InputError, match=r"case speck, tumor image/mask.*0\.04 mm²"):
        load_case_rois(Case("speck", ip, mp), min_area_mm2=0.5)


def test_changed_mask_options_do_not_reuse_the_cache(tmp_path):
    cases = [_case("two", BIG, OTHER)]
    with pytest.warns(MaskComponentsWarning):
        union = ex.extract_features(cases, rois=("tumor",), params=FAST, cache_dir=tmp_path)
    largest = ex.extract_features(
        cases, rois=("tumor",), params=FAST, cache_dir=tmp_path, mask_combine="largest"
    )
    assert (largest.n_cached, largest.n_computed) == (0, 1)
    area = "tumor__original_shape2D_PixelSurface"
    assert union.features[area].iloc[0] == pytest.approx(9.5)
    assert largest.features[area].iloc[0] == pytest.approx(7.5)
    speckless = ex.extract_features(
        cases, rois=("tumor",), params=FAST, cache_dir=tmp_path, mask_combine="largest",
        min_area_mm2=0.01,
    )  # fmt: skip
    assert (speckless.n_cached, speckless.n_computed) == (0, 1)
    with pytest.warns(MaskComponentsWarning):  # the warning comes from cached entries too
        again = ex.extract_features(cases, rois=("tumor",), params=FAST, cache_dir=tmp_path)
    assert (again.n_cached, again.n_computed) == (1, 0)


def test_cli_extract_mask_options(tmp_path, capsys):
    files = _write_cases(tmp_path, {"p1": (BIG, OTHER), "p2": (BIG,)})
    rows = [
        f"{cid},train,{i},{ip.name},{mp.name}" for i, (cid, (ip, mp)) in enumerate(files.items())
    ]
    manifest = _manifest(tmp_path, rows)
    params = tmp_path / "fast.yaml"
    import yaml

    params.write_text(yaml.safe_dump(FAST))
    base = ["extract", str(manifest), "--rois", "tumor", "--params", str(params)]
    out = tmp_path / "f.csv"
    assert main([*base, "--out", str(out), "--mask-combine", "largest"]) == 0
    area = pd.read_csv(out, index_col="case_id")["tumor__original_shape2D_PixelSurface"]
    assert area.tolist() == pytest.approx([7.5, 7.5])
    capsys.readouterr()
    assert main([*base, "--out", str(out), "--min-area-mm2", "-1"]) == 1
    err = capsys.readouterr().err
    # names the option (either spelling) with the refused value, and what is allowed
    assert re.search(r"(--min-area-mm2|min_area_mm2)[ =]+-1\b", err), err
    assert "non-negative" in err, err
    with pytest.raises(SystemExit) as info:
        main([*base, "--out", str(out), "--mask-combine", "both"])
    assert info.value.code == 2
    assert "--mask-combine" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# 2. the same image under two case ids
# --------------------------------------------------------------------------------------------


def test_duplicated_image_bytes_are_warned_with_conflicting_outcomes(tmp_path):
    files = _write_cases(tmp_path, {"a": (BIG,), "b": (BIG,), "c": (BIG,), "d": (BIG,)})
    # b is a copy of a (other file name, other mask) with the opposite outcome; d a copy of c
    # with the same outcome
    shutil.copy(files["a"][0], tmp_path / "b.nrrd")
    shutil.copy(files["c"][0], tmp_path / "d.nrrd")
    rows = [
        "a,train,0,a.nrrd,a_mask.nrrd",
        "b,train,1,b.nrrd,b_mask.nrrd",
        "c,test,1,c.nrrd,c_mask.nrrd",
        "d,test,1,d.nrrd,d_mask.nrrd",
    ]
    manifest = read_manifest(_manifest(tmp_path, rows))
    with pytest.warns(DuplicateImageWarning) as caught:
        res = ex.extract_features(manifest, rois=("tumor",), params=FAST)
    mine = [str(w.message) for w in caught if issubclass(w.category, DuplicateImageWarning)]
    assert len(mine) == 1, mine
    text = mine[0]
    assert "2 pair(s)" in text and "a and b" in text and "c and d" in text, text
    assert "conflict" in text and "\n" not in text
    dup = res.duplicates
    assert list(dup[["case_id_1", "case_id_2"]].itertuples(index=False, name=None)) == [
        ("a", "b"),
        ("c", "d"),
    ]
    assert dup["conflict"].tolist() == [True, False]
    assert dup["image"].tolist() == ["tumor", "tumor"]
    assert dup["file_1"].iloc[0].endswith("a.nrrd") and dup["file_2"].iloc[0].endswith("b.nrrd")


def test_in_memory_duplicates_without_outcomes():
    cases = [_case("x", BIG, seed=3), _case("y", BIG, seed=3), _case("z", BIG, seed=4)]
    with pytest.warns(DuplicateImageWarning, match=r"1 pair\(s\).*x and y.*outcome unknown"):
        res = ex.extract_features(cases, rois=("tumor",), params=FAST)
    assert res.duplicates["conflict"].isna().all()


def test_no_duplicates_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DuplicateImageWarning)
        res = ex.extract_features(
            [_case("x", BIG, seed=1), _case("y", BIG, seed=2)], rois=("tumor",), params=FAST
        )
    assert res.duplicates.empty
    assert list(res.duplicates.columns) == [
        "case_id_1", "case_id_2", "image", "file_1", "file_2", "outcome_1", "outcome_2",
        "conflict",
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# 2 + 3. Study: excluded cases (conflicting duplicates, failed test-cohort ROIs)
# --------------------------------------------------------------------------------------------


def _study_inputs():
    from test_study import CONFIG, _synthetic  # tests/ is on sys.path (no package)

    table, features, repeats = _synthetic()
    return CONFIG, table, features, repeats


def _fake_extraction(monkeypatch, features, repeats, failures, duplicates):
    """Study._load_features through a manifest, with extraction replaced by known tables."""
    from radiomics_aln import study as study_module

    def fake(manifest, rois, params, **kwargs):
        fake.kwargs = kwargs
        return ex.ExtractionResult(
            features=features,
            diagnostics=pd.DataFrame(index=features.index),
            failures=pd.DataFrame(failures, columns=["case_id", "roi", "reader", "file", "error"]),
            repeats=repeats,
            duplicates=pd.DataFrame(duplicates, columns=ex.DUPLICATE_COLUMNS),
        )

    monkeypatch.setattr(study_module, "extract_cohort", fake)
    return fake


@pytest.fixture(scope="module")
def excluded_study(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    config, table, features, repeats = _study_inputs()
    features = features.copy()
    # P0150 (internal test cohort): its tumour ring failed; P0200 (external): tumour failed
    features.loc["P0150", features.columns.str.startswith("peritumoral__")] = np.nan
    features.loc["P0200", features.columns.str.startswith("tumor__")] = np.nan
    failures = [
        ["P0150", "peritumoral", "reader1", "P0150_mask.png",
         "the 5 mm peritumoral ring has zero pixels"],
        ["P0200", "tumor", "reader1", "P0200_mask.png", "PyRadiomics: ROI too small"],
    ]  # fmt: skip
    # P0001 (train) shares an image with a training case of the same outcome; P0003 (train)
    # with an internal-cohort case of the other outcome
    y = table["aln"]
    same = next(c for c in table.index[4:130] if y[c] == y["P0001"])
    other = next(c for c in table.index[130:150] if y[c] != y["P0003"])
    pairs = [("P0001", same), ("P0003", other)]
    duplicates = [
        [a, b, "tumor", f"{a}.png", f"{b}.png", int(y[a]), int(y[b]), bool(y[a] != y[b])]
        for a, b in pairs
    ]
    manifest = types.SimpleNamespace(cases=[], table=table)
    _fake_extraction(mp, features, repeats, failures, duplicates)
    try:
        with pytest.warns(DataWarning, match="excluded from the analysis"):
            study = Study(manifest, **config).fit().evaluate()
    finally:
        mp.undo()
    return study, table, pairs


def test_failed_test_cohort_cases_are_excluded_with_their_reason(excluded_study):
    study, table, _ = excluded_study
    ex_tab = study.results_["tables"]["excluded_cases"].set_index("case_id")
    assert {"P0150", "P0200"} <= set(ex_tab.index)
    assert ex_tab.loc["P0150", "cohort"] == "internal"
    assert "peritumoral" in ex_tab.loc["P0150", "reason"]
    assert "ring has zero pixels" in ex_tab.loc["P0150", "reason"]
    assert "ROI too small" in ex_tab.loc["P0200", "reason"]
    assert "P0150" not in study.data_.index and "P0200" not in study.data_.index
    preds = study.results_["tables"]["predictions"]
    assert "P0200" not in preds.index
    assert len(preds) == len(table) - len(ex_tab)


def test_conflicting_duplicates_are_excluded_and_consistent_ones_kept(excluded_study):
    study, table, pairs = excluded_study
    ex_tab = study.results_["tables"]["excluded_cases"].set_index("case_id")
    (a, same), (c, other) = pairs
    assert a not in ex_tab.index and same not in ex_tab.index
    assert a in study.data_.index and same in study.data_.index
    assert c in ex_tab.index and other in ex_tab.index
    assert other in ex_tab.loc[c, "reason"] and "different outcome" in ex_tab.loc[c, "reason"]
    assert ex_tab.loc[other, "cohort"] == "internal"


@pytest.mark.slow
def test_excluded_cases_reach_the_saved_tables_and_the_report(excluded_study, tmp_path):
    study, _, _ = excluded_study
    out = study.save(tmp_path / "out")
    saved = pd.read_csv(out / "tables" / "excluded_cases.csv", dtype=str)
    assert {"P0150", "P0200"} <= set(saved["case_id"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Excluded cases" in html and "P0200" in html and "ROI too small" in html


def test_errors_raise_stops_at_a_failed_test_case(monkeypatch):
    config, table, features, repeats = _study_inputs()
    features = features.copy()
    features.loc["P0200", features.columns.str.startswith("tumor__")] = np.nan
    failures = [["P0200", "tumor", "reader1", "P0200_mask.png", "PyRadiomics: ROI too small"]]
    _fake_extraction(monkeypatch, features, repeats, failures, [])
    manifest = types.SimpleNamespace(cases=[], table=table)
    study = Study(manifest, **config, errors="raise")
    with pytest.raises(InputError, match=r"P0200.*ROI too small"):
        study.fit()


def test_conflicting_duplicates_kept_on_request(monkeypatch):
    config, table, features, repeats = _study_inputs()
    y = table["aln"]
    a = "P0001"
    b = next(c for c in table.index[1:130] if y[c] != y[a])
    dup = [[a, b, "tumor", "a.png", "b.png", int(y[a]), int(y[b]), True]]
    fake = _fake_extraction(monkeypatch, features, repeats, [], dup)
    manifest = types.SimpleNamespace(cases=[], table=table)
    with pytest.warns(UserWarning):
        study = Study(
            manifest, **config, exclude_conflicting_duplicates=False, mask_combine="largest",
            min_area_mm2=0.5,
        ).fit()  # fmt: skip
    assert study.excluded_.empty
    assert a in study.data_.index and b in study.data_.index
    # the study's mask options reach the extraction
    assert fake.kwargs["mask_combine"] == "largest" and fake.kwargs["min_area_mm2"] == 0.5
    assert study.model_.settings["mask_combine"] == "largest"
    assert study.model_.settings["min_area_mm2"] == 0.5


def test_failed_test_case_with_a_feature_table_is_excluded_too():
    config, table, features, repeats = _study_inputs()
    features = features.copy()
    features.loc["P0250", "ln__original_glcm_F01"] = np.inf
    with pytest.warns(UserWarning, match=r"P0250"):
        study = Study(config, table=table, features=features, repeats=repeats).fit()
    row = study.excluded_.set_index("case_id").loc["P0250"]
    assert row["cohort"] == "external"
    assert "ln__original_glcm_F01" in row["reason"]
