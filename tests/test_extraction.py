"""Tests for radiomics_aln.extraction: parity with plain PyRadiomics, conventions, batch machinery."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from extraction_helpers import (
    assert_same,
    make_image,
    make_mask,
    plain_features,
)

from radiomics_aln import extraction as ex
from radiomics_aln.exceptions import ExtractionError, GeometryError, InputError
from radiomics_aln.features import read_features, write_features
from radiomics_aln.images import load_image, load_image_with_fov
from radiomics_aln.masks import load_mask
from radiomics_aln.params import load_params
from radiomics_aln.ring import peritumoral_ring
from radiomics_aln.roi_features import extract_roi_features

_NAME = re.compile(
    r"^(tumor|peritumoral|tumor_peritumoral|ln)__"
    r"(original|wavelet-(LL|LH|HL|HH)|log-sigma-\d+-\d+-mm-3D)_"
    r"(shape2D|firstorder|glcm|glrlm|glszm|gldm|ngtdm)_[A-Za-z0-9]+$"
)


def test_feature_naming_grammar_and_diagnostics_apart():
    img = make_image(6)
    cases = [{"case_id": "001", "tumor_image": img, "tumor_mask": make_mask(img)}]
    res = ex.extract_features(cases, rois=("tumor",))
    assert res.features.index.name == "case_id" and list(res.features.index) == ["001"]
    assert all(_NAME.match(c) for c in res.features.columns)
    assert "tumor__original_glcm_Contrast" in res.features.columns
    assert (res.features.dtypes == "float64").all()
    assert all(c.startswith("tumor__diagnostics_") for c in res.diagnostics.columns)
    assert not any("diagnostics" in c for c in res.features.columns)


# ---------------------------------------------------------------- parity with plain PyRadiomics


def test_values_equal_plain_execute_with_shipped_settings_file():
    img = make_image(1, spacing=(0.08, 0.08))  # resampled to 0.1 mm
    msk = make_mask(img)
    res = ex.extract_features(
        [{"case_id": "a", "tumor_image": img, "tumor_mask": msk}], rois=("tumor",)
    )
    ours = {c.split("__", 1)[1]: v for c, v in res.features.loc["a"].items()}
    assert_same(ours, plain_features(img, msk))


# ---------------------------------------------------------------- batch behaviour


def _cases(n=4, with_repeat=False):
    out = []
    for i in range(n):
        img = make_image(10 + i, shape=(70, 80))
        case = {
            "case_id": f"c{i:02d}",
            "tumor_image": img,
            "tumor_mask": make_mask(img, (25, 45, 25, 50 + i)),
        }
        if with_repeat and i % 2 == 0:
            case["repeat_masks"] = {"reader2": {"tumor": make_mask(img, (24, 46, 26, 50 + i))}}
        out.append(case)
    return out


def test_repeat_segmentations_share_the_feature_table_shape():
    res = ex.extract_features(_cases(3, with_repeat=True), rois=("tumor",), repeats=["reader2"])
    rep = res.repeats["reader2"]
    assert list(rep.index) == ["c00", "c02"]
    assert list(rep.columns) == list(res.features.columns)
    assert not rep.equals(res.features.loc[["c00", "c02"]])
    assert list(res.repeat_diagnostics["reader2"].index) == ["c00", "c02"]


def test_cache_warm_rerun_and_settings_change(tmp_path):
    cases = _cases(3)
    cold = ex.extract_features(cases, rois=("tumor",), cache_dir=tmp_path)
    assert (cold.n_computed, cold.n_cached) == (3, 0)
    warm = ex.extract_features(cases, rois=("tumor",), cache_dir=tmp_path)
    assert (warm.n_computed, warm.n_cached) == (0, 3)
    pd.testing.assert_frame_equal(cold.features, warm.features, check_exact=True)
    pd.testing.assert_frame_equal(cold.diagnostics, warm.diagnostics, check_exact=True)
    # one more case: only it is computed
    more = ex.extract_features(_cases(4), rois=("tumor",), cache_dir=tmp_path)
    assert (more.n_computed, more.n_cached) == (1, 3)
    # changed settings invalidate
    p = load_params("ultrasound_2d")
    p["imageType"]["Original"]["binWidth"] = 4
    changed = ex.extract_features(cases, rois=("tumor",), params=p, cache_dir=tmp_path)
    assert (changed.n_computed, changed.n_cached) == (3, 0)
    assert not np.array_equal(changed.features.values, cold.features.values)
    # entries are whole JSON files (no temporaries left behind)
    assert not list(tmp_path.rglob("*.tmp"))


def _write_case_files(folder: Path, n: int) -> list[dict]:
    cases = []
    for i in range(n):
        img = make_image(20 + i, shape=(70, 80))
        msk = make_mask(img, (25, 45, 25, 50 + i))
        sitk.WriteImage(sitk.Cast(img, sitk.sitkFloat32), str(folder / f"c{i}.nrrd"))
        sitk.WriteImage(msk, str(folder / f"c{i}_mask.nrrd"))
        cases.append(
            {
                "case_id": f"c{i}",
                "tumor_image": str(folder / f"c{i}.nrrd"),
                "tumor_mask": str(folder / f"c{i}_mask.nrrd"),
            }
        )
    return cases


def _cache_entries(cache: Path) -> list[Path]:
    """Finished cache entries only: ``<2 hex>/<64 hex>.json`` (the writer's temporary files are
    ``.<hex>-<random>.tmp``; counting them too made this test race with the writer)."""
    return [p for p in cache.glob("??/*.json") if re.fullmatch(r"[0-9a-f]{64}\.json", p.name)]


@pytest.mark.slow
def test_resume_after_killing_a_run_part_way(tmp_path):
    cases = _write_case_files(tmp_path, 6)
    cache = tmp_path / "cache"
    script = textwrap.dedent(
        f"""
        from radiomics_aln.extraction import extract_features
        extract_features({cases!r}, rois=("tumor",), n_jobs=1, cache_dir={str(cache)!r})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if len(_cache_entries(cache)) >= 2 or proc.poll() is not None:
                break
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    done = len(_cache_entries(cache))
    assert 1 <= done < 6, "the run should have been killed part-way"
    resumed = ex.extract_features(cases, rois=("tumor",), cache_dir=cache)
    assert (resumed.n_cached, resumed.n_computed) == (done, 6 - done)
    fresh = ex.extract_features(cases, rois=("tumor",))
    pd.testing.assert_frame_equal(resumed.features, fresh.features, check_exact=True)


@pytest.mark.slow
def test_identical_results_for_any_n_jobs_and_the_dask_backend():
    from dask.distributed import Client, LocalCluster
    from joblib import parallel_config

    cases = _cases(4)
    one = ex.extract_features(cases, rois=("tumor",), n_jobs=1)
    two = ex.extract_features(cases, rois=("tumor",), n_jobs=2)
    pd.testing.assert_frame_equal(one.features, two.features, check_exact=True)
    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=False) as cluster,
        Client(cluster),
        parallel_config(backend="dask"),
    ):
        on_dask = ex.extract_features(cases, rois=("tumor",), n_jobs=2)
    pd.testing.assert_frame_equal(one.features, on_dask.features, check_exact=True)
    assert list(on_dask.features.index) == ["c00", "c01", "c02", "c03"]


@pytest.mark.filterwarnings("ignore::radiomics_aln.exceptions.DuplicateImageWarning")  # one image
def test_failures_are_collected_and_the_batch_goes_on(tmp_path):
    good = _cases(2)
    img = make_image(30, shape=(70, 80))
    broken = tmp_path / "broken.png"
    broken.write_text("not an image")
    tiny = make_mask(img, (30, 33, 30, 33))  # 9 px < minimumROISize: PyRadiomics raises
    cases = [
        good[0],
        {"case_id": "unreadable", "tumor_image": str(broken), "tumor_mask": str(broken)},
        {"case_id": "empty", "tumor_image": img, "tumor_mask": make_mask(img, (0, 0, 0, 0))},
        {"case_id": "tiny", "tumor_image": img, "tumor_mask": tiny},
        {"case_id": "no_ln", "tumor_image": img, "tumor_mask": make_mask(img)},
        good[1],
    ]
    res = ex.extract_features(cases, rois=("tumor", "ln"))
    f = res.failures
    assert list(f.columns) == ["case_id", "roi", "reader", "file", "error"]
    by = {(r.case_id, r.roi): r for r in f.itertuples()}
    assert "broken.png" in by[("unreadable", "tumor")].file
    assert "empty" in by[("empty", "tumor")].error
    assert "PyRadiomics" in by[("tiny", "tumor")].error
    assert "no ln image" in by[("no_ln", "ln")].error
    assert list(res.features.index) == [c["case_id"] for c in cases]
    assert (
        res.features.loc[["c00", "c01", "no_ln"], "tumor__original_firstorder_Mean"].notna().all()
    )
    assert res.features.loc[["unreadable", "empty", "tiny"]].isna().all().all()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ExtractionError, match=r"case 'unreadable', roi 'tumor'.*broken.png"):
            ex.extract_features(cases, rois=("tumor",), errors="raise")
        # with workers too, the failure reported is the first in case order
        with pytest.raises(ExtractionError, match=r"case 'unreadable', roi 'tumor'") as info:
            ex.extract_features(cases, rois=("tumor",), errors="raise", n_jobs=2)
        del info  # the traceback holds joblib's generator; collect it inside this block
        gc.collect()
    # stopping early is the point of errors="raise": no joblib note about unused tasks
    assert not [w for w in caught if "tasks" in str(w.message)], [str(w.message) for w in caught]


def test_peritumoral_ring_and_union_from_the_roi_module():
    img = make_image(31, shape=(150, 160))
    msk = make_mask(img, (60, 90, 60, 100))
    res = ex.extract_features(
        [{"case_id": "x", "tumor_image": img, "tumor_mask": msk}],
        rois=("tumor", "peritumoral", "tumor_peritumoral"),
    )
    area = res.features.loc["x"]
    t = area["tumor__original_shape2D_PixelSurface"]
    p = area["peritumoral__original_shape2D_PixelSurface"]
    u = area["tumor_peritumoral__original_shape2D_PixelSurface"]
    assert u == pytest.approx(t + p, rel=1e-12)
    assert res.diagnostics.loc["x", "peritumoral__diagnostics_radiomics_aln_RingCoverage"] == 1.0


def test_extra_user_features_and_nonfinite_reporting():
    def area_px(image, mask):
        return {"n": float(sitk.GetArrayViewFromImage(mask).sum()), "bad": float("nan")}

    cases = _cases(2)
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):
        res = ex.extract_features(cases, rois=("tumor",), extra={"custom": area_px})
    assert res.features.loc["c00", "tumor__custom_n"] == 20 * 25
    nf = res.nonfinite
    assert list(nf.feature.unique()) == ["tumor__custom_bad"]
    assert list(nf.case_id) == ["c00", "c01"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_write_and_read_features_round_trip(tmp_path, suffix):
    res = ex.extract_features(_cases(2), rois=("tumor",))
    df = res.features.copy()
    df.iloc[0, 5] = np.nan
    path = write_features(df, tmp_path / f"features{suffix}")
    back = read_features(path)
    pd.testing.assert_frame_equal(back, df, check_exact=True)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rois": ("tumour",)}, "unknown ROI .tumour."),
        ({"rois": ()}, "rois is empty"),
        ({"errors": "ignore"}, "errors must be one of"),
        ({"repeats": ["reader3"]}, "each of repeats"),
        ({"extra": {"a__b": len}}, "extra: names"),
        ({"width_mm": 0}, "width_mm=0 must be a positive"),
        ({"n_jobs": 0}, "n_jobs must be"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        ex.extract_features(_cases(1), **kwargs)


def test_bad_cases():
    c = _cases(1)
    with pytest.raises(InputError, match="case_id 'c00' appears more than once"):
        ex.extract_features(c + c, rois=("tumor",))
    with pytest.raises(InputError, match="must be a Manifest"):
        ex.extract_features("manifest.csv")
    img = make_image()
    off_grid = make_mask(make_image(shape=(50, 50)))
    with pytest.raises(GeometryError, match=r"not on the image's grid: mask vs image size"):
        extract_roi_features(img, off_grid)


# ---------------------------------------------------------------- real data


@pytest.mark.parametrize("case", ["case010", "case175"])
def test_breast_cases_equal_plain_execute_on_the_loaded_image(test_data_dir, case):
    folder = test_data_dir / "breast"
    clinical = pd.read_csv(folder / "clinical-data.csv", dtype=str).set_index("Image_filename")
    spacing = float(clinical.loc[f"{case}.png", "Pixel_size"]) * 10  # cm -> mm
    spec = {
        "case_id": case,
        "tumor_image": folder / f"{case}.png",
        "tumor_mask": folder / f"{case}_tumor.png",
        "spacing": spacing,
    }
    res = ex.extract_features([spec], rois=("tumor", "peritumoral"))
    assert res.failures.empty
    image, fov = load_image_with_fov(folder / f"{case}.png", spacing=spacing)
    mask = load_mask(folder / f"{case}_tumor.png", like=image)
    ring = peritumoral_ring(mask, width_mm=5.0, within=fov, min_coverage=None)
    for name, m in (("tumor", mask), ("peritumoral", ring)):
        ours = {
            c.split("__", 1)[1]: v
            for c, v in res.features.loc[case].items()
            if c.startswith(f"{name}__")
        }
        assert_same(ours, plain_features(image, m))


# ---------------------------------------------------------------- manifest, progress, logging


def test_manifest_with_ln_and_repeat_columns(tmp_path):
    from radiomics_aln.manifest import read_manifest

    rows = []
    for i in range(2):
        img = make_image(40 + i, shape=(110, 120))
        ln = make_image(50 + i, shape=(60, 70))
        sitk.WriteImage(sitk.Cast(img, sitk.sitkFloat32), str(tmp_path / f"t{i}.nrrd"))
        sitk.WriteImage(make_mask(img, (40, 70, 40, 80)), str(tmp_path / f"t{i}_m.nrrd"))
        sitk.WriteImage(make_mask(img, (41, 71, 40, 79)), str(tmp_path / f"t{i}_m2.nrrd"))
        sitk.WriteImage(sitk.Cast(ln, sitk.sitkFloat32), str(tmp_path / f"n{i}.nrrd"))
        sitk.WriteImage(make_mask(ln, (20, 40, 20, 45)), str(tmp_path / f"n{i}_m.nrrd"))
        rows.append(
            f"00{i},train,{i},t{i}.nrrd,t{i}_m.nrrd,n{i}.nrrd,n{i}_m.nrrd,"
            + (f"t{i}_m2.nrrd" if i == 0 else "")
        )
    header = "case_id,cohort,outcome,tumor_image,tumor_mask,ln_image,ln_mask,tumor_mask_reader2"
    (tmp_path / "manifest.csv").write_text("\n".join([header, *rows]) + "\n")
    manifest = read_manifest(tmp_path / "manifest.csv")
    res = ex.extract_features(manifest, repeats=True)
    assert res.failures.empty
    assert list(res.features.index) == ["000", "001"]
    prefixes = res.features.columns.str.split("__").str[0].unique().tolist()
    assert prefixes == ["tumor", "peritumoral", "ln"]
    assert res.features.shape == (2, 3 * 846)
    rep = res.repeats["reader2"]
    assert list(rep.index) == ["000"] and list(rep.columns) == list(res.features.columns)
    assert rep.filter(like="ln__").isna().all().all()  # no reader2 LN mask
    assert rep.filter(like="peritumoral__").notna().all().all()  # ring of reader2's tumour
    assert res.repeats["repeat"].empty
    # same values as the in-memory path on the loaded image
    image = load_image(tmp_path / "n1.nrrd")
    mask = load_mask(tmp_path / "n1_m.nrrd", like=image)
    ours = {c[4:]: v for c, v in res.features.loc["001"].items() if c.startswith("ln__")}
    assert_same(ours, plain_features(image, mask))


def test_progress_bar_and_pyradiomics_log_are_controlled(capfd):
    import logging

    import radiomics

    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    cases = _cases(2)
    capfd.readouterr()
    ex.extract_features(cases, rois=("tumor",), progress=False)
    err = capfd.readouterr().err
    # PyRadiomics warns about the symmetrical GLCM on every run unless silenced.
    assert "GLCM is symmetrical" not in err and "features" not in err
    assert radiomics.handler.level == 60
    assert (root.level, list(root.handlers)) == before
    ex.extract_features(cases, rois=("tumor",), progress=True)  # a bar, even in a log file
    err = capfd.readouterr().err
    assert "features:" in err and "\r" in err and "cases done" not in err
    ex.extract_features(cases, rois=("tumor",), progress="lines")
    assert "features: 2/2 cases done, 0 failed" in capfd.readouterr().err


def test_low_ring_coverage_is_warned_once_with_the_cases():
    from radiomics_aln.exceptions import CoverageWarning

    img = make_image(61, shape=(70, 80))
    edge = make_mask(img, (0, 20, 0, 25))  # in the corner: most of the 5 mm ring is off the image
    cases = [{"case_id": "corner", "tumor_image": img, "tumor_mask": edge}]
    with pytest.warns(CoverageWarning, match=r"1 case\(s\): corner \("):
        res = ex.extract_features(cases, rois=("tumor", "peritumoral"))
    cov = res.diagnostics.loc["corner", "peritumoral__diagnostics_radiomics_aln_RingCoverage"]
    assert 0 < cov < 0.5


def test_pyradiomics_log_does_not_reach_a_users_logging_handlers():
    """A notebook or pipeline that calls logging.basicConfig(level=INFO) must not receive
    PyRadiomics' per-image warnings ('GLCM is symmetrical') through propagation."""
    import io
    import logging

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        ex.extract_features(_cases(2), rois=("tumor",), progress=False)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert "GLCM is symmetrical" not in stream.getvalue()
    assert "radiomics." not in stream.getvalue()


def test_relative_paths_are_read_from_the_callers_folder_by_every_worker(tmp_path, monkeypatch):
    """joblib reuses its worker processes, which keep the folder they were started in: a relative
    path must not be opened there (it named the same file name of another cohort: wrong numbers
    without any failure)."""
    params = load_params("ultrasound_2d")
    params["imageType"] = {"Original": {"binWidth": 5}}
    params["featureClass"] = {"firstorder": ["Mean"]}
    cases = [{"case_id": f"c{i}", "tumor_image": f"i{i}.nrrd", "tumor_mask": f"m{i}.nrrd"}
             for i in range(3)]  # fmt: skip
    for seed, name in ((1, "a"), (2, "b")):
        (tmp_path / name).mkdir()
        for i in range(3):
            img = make_image(seed * 10 + i, shape=(70, 80))
            sitk.WriteImage(sitk.Cast(img, sitk.sitkFloat32), str(tmp_path / name / f"i{i}.nrrd"))
            sitk.WriteImage(make_mask(img, (25, 45, 25, 50)), str(tmp_path / name / f"m{i}.nrrd"))
    monkeypatch.chdir(tmp_path / "a")
    ex.extract_features(cases, rois=("tumor",), params=params, n_jobs=2)  # workers start in a/
    monkeypatch.chdir(tmp_path / "b")
    got = ex.extract_features(cases, rois=("tumor",), params=params, n_jobs=2)
    want = ex.extract_features(cases, rois=("tumor",), params=params, n_jobs=1)
    assert got.failures.empty
    pd.testing.assert_frame_equal(got.features, want.features, check_exact=True)


@pytest.mark.slow
def test_relative_paths_with_reused_workers_started_elsewhere(tmp_path, monkeypatch):
    """joblib reuses worker processes, which keep the working directory they started in: a
    relative image path or cache folder must be resolved before the work is sent to them (a
    demo run after other tests found no image and wrote its cache into another folder)."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    ex.extract_features(_write_case_files(first, 2), rois=("tumor",), n_jobs=2)  # starts workers
    cases = _write_case_files(second, 4)
    for c in cases:  # relative to the new working directory
        for key in ("tumor_image", "tumor_mask"):
            c[key] = os.path.relpath(c[key], second)
    monkeypatch.chdir(second)
    res = ex.extract_features(cases, rois=("tumor",), n_jobs=2, cache_dir="cache")
    assert res.failures.empty and res.n_computed == 4
    assert len(_cache_entries(second / "cache")) == 4
    assert not (first / "cache").exists()
