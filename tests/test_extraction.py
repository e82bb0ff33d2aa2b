"""Tests for radiomics_aln.extraction: parity with plain PyRadiomics, conventions, batch machinery."""

from __future__ import annotations

import gc
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
import radiomics.base
import SimpleITK as sitk
from radiomics import imageoperations
from radiomics.featureextractor import RadiomicsFeatureExtractor

from radiomics_aln import _pyradiomics_fast
from radiomics_aln import extraction as ex
from radiomics_aln._pyradiomics_fast import fast_paths, get_bin_edges
from radiomics_aln.exceptions import ExtractionError, GeometryError, InputError

SHIPPED = str(ex.params_path("ultrasound_2d"))


def _image(seed=0, shape=(90, 100), spacing=(0.1, 0.1), dtype=np.float64, bright=False):
    rng = np.random.default_rng(seed)
    a = rng.gamma(4.0, 20.0, shape)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    a *= 1 - 0.5 * np.exp(-((yy - shape[0] / 2) ** 2 + (xx - shape[1] / 2) ** 2) / 300)
    a = np.clip(a, 0, 255)
    if bright:
        a[40:44, 45:49] = 255  # saturated calcification inside the ROI
    img = sitk.GetImageFromArray(a.astype(dtype))
    img.SetSpacing(spacing)
    return img


def _mask(like, box=(30, 60, 30, 70)):
    m = np.zeros(sitk.GetArrayViewFromImage(like).shape, np.uint8)
    r0, r1, c0, c1 = box
    m[r0:r1, c0:c1] = 1
    msk = sitk.GetImageFromArray(m)
    msk.CopyInformation(like)
    return msk


def _plain(image, mask, params=SHIPPED):
    out = RadiomicsFeatureExtractor(params).execute(image, mask)
    return {k: float(v) for k, v in out.items() if not k.startswith("diagnostics_")}


def _assert_same(ours: dict, ref: dict, rtol=1e-12):
    assert list(ours) == list(ref)
    a = np.array([ours[k] for k in ref])
    b = np.array([ref[k] for k in ref])
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0)


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize("name", ex.available_params())
def test_every_shipped_settings_file_validates(name):
    data = ex.load_params(name)
    # PyRadiomics' own loader (schema validation through pykwalify) accepts the file as is.
    extractor = RadiomicsFeatureExtractor(str(ex.params_path(name)))
    assert extractor.settings["force2D"] is False
    assert data["setting"]["resampledPixelSpacing"] == [0.1, 0.1]


def test_shipped_settings_give_846_features_with_per_filter_binning():
    feats, diag = ex.extract_roi_features(_image(), _mask(_image()))
    assert len(feats) == 846  # 9 shape2D + 9 images x 93
    types = {k.split("_")[0] for k in feats}
    assert types == {
        "original",
        "wavelet-LL",
        "wavelet-LH",
        "wavelet-HL",
        "wavelet-HH",
        "log-sigma-0-5-mm-3D",
        "log-sigma-1-0-mm-3D",
        "log-sigma-2-0-mm-3D",
        "log-sigma-4-0-mm-3D",
    }
    p = ex.load_params("ultrasound_2d")["imageType"]
    assert p["Original"]["binWidth"] == 5 and p["LoG"]["binWidth"] == 1.0
    assert p["Wavelet"]["binCount"] == 32
    assert all(k.startswith("diagnostics_") for k in diag)


def test_params_accepts_name_path_and_dict(tmp_path):
    by_name = ex.load_params("ultrasound_2d")
    assert ex.load_params(SHIPPED) == by_name
    assert ex.load_params(by_name) == by_name
    by_name["setting"]["binWidth"] = 3
    assert ex.load_params("ultrasound_2d")["setting"]["binWidth"] == 5  # deep copies


@pytest.mark.parametrize(
    "params, match",
    [
        ("no_such_settings", "no shipped settings named 'no_such_settings'"),
        ("/nonexistent/file.yaml", "does not exist"),
        ({"setting": {"binWidth": -1}}, "PyRadiomics rejected.*binWidth"),
        ({"imageType": {"Wavelets": {}}}, "PyRadiomics rejected.*Wavelets"),
        ({"setting": {"force2D": True}}, "force2D is true"),
        ({"setting": {"resampledPixelSpacing": [1, 1, 1]}}, "must have 2 values"),
        (42, "params must be a shipped name"),
    ],
)
def test_bad_params_are_rejected(params, match):
    with pytest.raises(InputError, match=match):
        ex.load_params(params)


# ---------------------------------------------------------------- parity with plain PyRadiomics


def test_values_equal_plain_execute_with_shipped_settings_file():
    img = _image(1, spacing=(0.08, 0.08))  # resampled to 0.1 mm
    msk = _mask(img)
    res = ex.extract_features(
        [{"case_id": "a", "tumor_image": img, "tumor_mask": msk}], rois=("tumor",)
    )
    ours = {c.split("__", 1)[1]: v for c, v in res.features.loc["a"].items()}
    _assert_same(ours, _plain(img, msk))


def test_shared_filtering_of_several_masks_is_bit_identical_to_separate_execute():
    img = _image(2, spacing=(0.09, 0.09))
    masks = [
        _mask(img, (30, 60, 30, 70)),
        _mask(img, (20, 70, 20, 85)),
        _mask(img, (10, 30, 5, 40)),
    ]
    extractor = ex._get_extractor(ex.load_params("ultrasound_2d"))
    with fast_paths():
        shared = ex._execute_masks(extractor, img, list(enumerate(masks)))
    for i, m in enumerate(masks):
        ref = RadiomicsFeatureExtractor(SHIPPED).execute(img, m)
        assert list(shared[i]) == list(ref)
        for k in ref:
            if k.startswith("diagnostics_Versions") or k == "diagnostics_Configuration_Settings":
                continue
            if k.startswith("diagnostics_"):
                assert str(shared[i][k]) == str(ref[k]), k
            else:
                assert float(shared[i][k]) == float(ref[k]), k  # exact


def test_fast_paths_are_bit_identical_over_every_feature():
    img = _image(3, spacing=(0.07, 0.07))
    masks = [(0, _mask(img)), (1, _mask(img, (5, 50, 40, 95)))]
    extractor = ex._get_extractor(ex.load_params("ultrasound_2d"))
    apply_binning = radiomics.base.RadiomicsFeaturesBase._applyBinning
    assert imageoperations.getBinEdges is not get_bin_edges
    slow = ex._execute_masks(extractor, img, masks)
    hits, misses = _pyradiomics_fast.memo_counts()
    with fast_paths():
        assert radiomics.base.RadiomicsFeaturesBase._applyBinning is not apply_binning
        fast = ex._execute_masks(extractor, img, masks)
    # restored
    assert imageoperations.getBinEdges is not get_bin_edges
    assert radiomics.base.RadiomicsFeaturesBase._applyBinning is apply_binning
    # 2 masks x 9 images: one discretisation each, reused by the 5 other classes
    assert _pyradiomics_fast.memo_counts() == (hits + 2 * 9 * 5, misses + 2 * 9)
    for i in (0, 1):
        assert list(fast[i]) == list(slow[i])
        for k, v in slow[i].items():
            if not k.startswith("diagnostics_"):
                assert float(fast[i][k]) == float(v), k


def test_binning_memo_never_reuses_a_different_discretisation():
    # Same values but another dtype, another mask, other settings: each is computed afresh and
    # equals the original; only a content-equal call is served from the memo.
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (20, 30)).astype(np.float64)
    mask = np.zeros(arr.shape, bool)
    mask[3:15, 4:25] = True

    class Probe:
        def __init__(self, matrix, mask, **settings):
            self.maskArray, self.settings, self.coefficients = mask, settings, {}
            self.matrix = matrix

    def run(fn, probe):
        out = fn(probe, probe.matrix)
        return out, probe.coefficients["grayLevels"], probe.coefficients["Ng"]

    original = radiomics.base.RadiomicsFeaturesBase._applyBinning
    other_mask = mask.copy()
    other_mask[3, 4] = False
    calls = [
        (arr, mask, {"binWidth": 5}),
        (arr.copy(), mask.copy(), {"binWidth": 5}),  # equal content: a hit
        (arr.astype(np.float32), mask, {"binWidth": 5}),
        (arr, other_mask, {"binWidth": 5}),
        (arr, mask, {"binWidth": 3}),
        (arr, mask, {"binCount": 16}),
        (arr + 1e-9, mask, {"binCount": 16}),
    ]
    with fast_paths():
        hits0, misses0 = _pyradiomics_fast.memo_counts()
        for matrix, m, settings in calls:
            got = run(_pyradiomics_fast._apply_binning, Probe(matrix, m, **settings))
            want = run(original, Probe(matrix, m, **settings))
            assert got[0].dtype == want[0].dtype and np.array_equal(got[0], want[0])
            assert np.array_equal(got[1], want[1]) and got[2] == want[2]
        assert _pyradiomics_fast.memo_counts() == (hits0 + 1, misses0 + len(calls) - 1)


def test_fast_paths_stay_off_for_unchecked_pyradiomics_versions():
    assert _pyradiomics_fast._version_checked("v3.1.4")
    assert _pyradiomics_fast._version_checked("3.1.0")
    assert not _pyradiomics_fast._version_checked("3.2.0")
    assert not _pyradiomics_fast._version_checked("")


@pytest.mark.parametrize(
    "values",
    [
        np.array([54.0, 80.0, 166.0]),
        np.array([-0.0, 0.0, 3.0]),
        np.array([0.0, -0.0, -7.25, 12.5]),
        np.array([5.0, 5.0]),
        np.array([10, 3, 255], dtype=np.int64),
    ],
)
def test_fast_bin_edges_equal_pyradiomics(values):
    ref = np.asarray(imageoperations.getBinEdges(values, binWidth=5))
    new = np.asarray(get_bin_edges(values, binWidth=5))
    assert ref.dtype == new.dtype and ref.tobytes() == new.tobytes()


def test_uint8_image_gives_the_features_of_its_float_copy():
    # 8-bit ROI reaching 255: with NumPy >= 2, PyRadiomics' getBinEdges computes max + 2 * width in
    # uint8 and wraps around (nearly all pixels in one bin). We must always hand it floats.
    u8 = _image(4, dtype=np.uint8, bright=True)
    f64 = sitk.Cast(u8, sitk.sitkFloat64)
    msk = _mask(u8)
    feats_u8, _ = ex.extract_roi_features(u8, msk)
    feats_f, _ = ex.extract_roi_features(f64, msk)
    assert feats_u8 == feats_f
    # The trap itself, unresampled so PyRadiomics sees the uint8 values directly:
    plain = {"setting": {"binWidth": 5}, "featureClass": {"firstorder": ["Entropy"]}}
    with pytest.warns(RuntimeWarning):
        bad = RadiomicsFeatureExtractor(plain).execute(u8, msk)["original_firstorder_Entropy"]
    good = RadiomicsFeatureExtractor(plain).execute(f64, msk)["original_firstorder_Entropy"]
    assert float(bad) < 0.5 * float(good)


# ---------------------------------------------------------------- conventions


def test_force2d_convention_matches_one_slice_3d_reference():
    """2D image + force2D=False equals a one-slice 3D image + force2D=True (names and values)."""
    img2 = _image(5, spacing=(0.1, 0.1))
    msk2 = _mask(img2)
    params = ex.load_params("ultrasound_2d")
    ours, _ = ex.extract_roi_features(img2, msk2, params)

    img3 = sitk.JoinSeries(img2)
    msk3 = sitk.JoinSeries(msk2)
    p3 = ex.load_params("ultrasound_2d")
    p3["setting"].update(force2D=True, force2Ddimension=0, resampledPixelSpacing=[0.1, 0.1, 0])
    ref3 = RadiomicsFeatureExtractor(p3).execute(img3, msk3)
    ref3 = {k: float(v) for k, v in ref3.items() if not k.startswith("diagnostics_")}
    # Same names and values for shape2D, original and the four 2D wavelet decompositions. The
    # one-slice 3D image gets no LoG at all (PyRadiomics needs >= 4 voxels along every axis),
    # one more reason to extract from true 2D images.
    assert set(ref3) < set(ours)
    assert {k.split("_")[0] for k in set(ours) - set(ref3)} == {
        f"log-sigma-{s}-mm-3D" for s in ("0-5", "1-0", "2-0", "4-0")
    }
    assert {k.split("_")[0] for k in ref3 if k.startswith("wavelet")} == {
        "wavelet-LL",
        "wavelet-LH",
        "wavelet-HL",
        "wavelet-HH",
    }
    _assert_same({k: ours[k] for k in ref3}, ref3, rtol=1e-9)

    # The trap: force2D=True on a true 2D image gives a 1D wavelet (H/L only).
    p_bad = ex.load_params("ultrasound_2d")
    p_bad["setting"]["force2D"] = True
    bad = RadiomicsFeatureExtractor(p_bad).execute(img2, msk2)
    assert {k.split("_")[0] for k in bad if k.startswith("wavelet")} == {"wavelet-H", "wavelet-L"}


_NAME = re.compile(
    r"^(tumor|peritumoral|tumor_peritumoral|ln)__"
    r"(original|wavelet-(LL|LH|HL|HH)|log-sigma-\d+-\d+-mm-3D)_"
    r"(shape2D|firstorder|glcm|glrlm|glszm|gldm|ngtdm)_[A-Za-z0-9]+$"
)


def test_feature_naming_grammar_and_diagnostics_apart():
    img = _image(6)
    cases = [{"case_id": "001", "tumor_image": img, "tumor_mask": _mask(img)}]
    res = ex.extract_features(cases, rois=("tumor",))
    assert res.features.index.name == "case_id" and list(res.features.index) == ["001"]
    assert all(_NAME.match(c) for c in res.features.columns)
    assert "tumor__original_glcm_Contrast" in res.features.columns
    assert (res.features.dtypes == "float64").all()
    assert all(c.startswith("tumor__diagnostics_") for c in res.diagnostics.columns)
    assert not any("diagnostics" in c for c in res.features.columns)


def test_log_features_do_not_change_when_the_image_is_padded_with_background():
    # An ultrasound frame: speckle inside the scanned field, black (0) around it.
    img = _image(7, shape=(120, 130), spacing=(0.08, 0.08))
    arr = sitk.GetArrayFromImage(img)
    frame = np.zeros_like(arr)
    frame[10:-10, 10:-10] = arr[10:-10, 10:-10]
    img = sitk.GetImageFromArray(frame)
    img.SetSpacing((0.08, 0.08))
    msk = _mask(img, (45, 75, 50, 80))
    pad = 25  # 25 x 0.08 mm = 2 mm: the 0.1 mm resampling grid stays aligned with the tissue
    padded = sitk.ConstantPad(img, (pad, pad), (pad, pad), 0.0)
    padded_mask = sitk.ConstantPad(msk, (pad, pad), (pad, pad), 0)
    a, _ = ex.extract_roi_features(img, msk)
    b, _ = ex.extract_roi_features(padded, padded_mask)
    log = [k for k in a if k.startswith("log-sigma")]
    assert len(log) == 4 * 93
    _assert_same({k: a[k] for k in log}, {k: b[k] for k in log}, rtol=1e-9)

    # With PyRadiomics' default padDistance (5 px) the image is cropped to the mask's box plus
    # 5 px before filtering, and the LoG features move far beyond that tolerance: this is the
    # crop noise that would otherwise enter tumour-vs-ring and reader-vs-reader comparisons.
    p5 = ex.load_params("ultrasound_2d")
    p5["setting"]["padDistance"] = 5
    c, _ = ex.extract_roi_features(img, msk, p5)
    # (sigma 4 mm is even skipped there: the 40 x 40 px crop is too small for it)
    assert not any(k.startswith("log-sigma-4-0") for k in c)
    diffs = [abs(c[k] - a[k]) / max(abs(a[k]), 1e-12) for k in log if k in c]
    assert max(diffs) > 1e-2


# ---------------------------------------------------------------- batch behaviour


def _cases(n=4, with_repeat=False):
    out = []
    for i in range(n):
        img = _image(10 + i, shape=(70, 80))
        case = {
            "case_id": f"c{i:02d}",
            "tumor_image": img,
            "tumor_mask": _mask(img, (25, 45, 25, 50 + i)),
        }
        if with_repeat and i % 2 == 0:
            case["repeat_masks"] = {"reader2": {"tumor": _mask(img, (24, 46, 26, 50 + i))}}
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
    p = ex.load_params("ultrasound_2d")
    p["imageType"]["Original"]["binWidth"] = 4
    changed = ex.extract_features(cases, rois=("tumor",), params=p, cache_dir=tmp_path)
    assert (changed.n_computed, changed.n_cached) == (3, 0)
    assert not np.array_equal(changed.features.values, cold.features.values)
    # entries are whole JSON files (no temporaries left behind)
    assert not list(tmp_path.rglob("*.tmp"))


def _write_case_files(folder: Path, n: int) -> list[dict]:
    cases = []
    for i in range(n):
        img = _image(20 + i, shape=(70, 80))
        msk = _mask(img, (25, 45, 25, 50 + i))
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


def test_failures_are_collected_and_the_batch_goes_on(tmp_path):
    good = _cases(2)
    img = _image(30, shape=(70, 80))
    broken = tmp_path / "broken.png"
    broken.write_text("not an image")
    tiny = _mask(img, (30, 33, 30, 33))  # 9 px < minimumROISize: PyRadiomics raises
    cases = [
        good[0],
        {"case_id": "unreadable", "tumor_image": str(broken), "tumor_mask": str(broken)},
        {"case_id": "empty", "tumor_image": img, "tumor_mask": _mask(img, (0, 0, 0, 0))},
        {"case_id": "tiny", "tumor_image": img, "tumor_mask": tiny},
        {"case_id": "no_ln", "tumor_image": img, "tumor_mask": _mask(img)},
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
    img = _image(31, shape=(150, 160))
    msk = _mask(img, (60, 90, 60, 100))
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
    path = ex.write_features(df, tmp_path / f"features{suffix}")
    back = ex.read_features(path)
    pd.testing.assert_frame_equal(back, df, check_exact=True)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rois": ("tumour",)}, "each of rois must be one of"),
        ({"rois": ()}, "rois is empty"),
        ({"errors": "ignore"}, "errors must be one of"),
        ({"repeats": ["reader3"]}, "each of repeats"),
        ({"extra": {"a__b": len}}, "extra: names"),
        ({"ring_mm": 0}, "ring_mm=0 must be a positive"),
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
    img = _image()
    off_grid = _mask(_image(shape=(50, 50)))
    with pytest.raises(GeometryError, match=r"not on the image's grid: mask vs image size"):
        ex.extract_roi_features(img, off_grid)


@pytest.mark.parametrize(
    "attr, change, accepted",
    [
        ("spacing", 5e-5, True),  # relative
        ("spacing", 5e-4, False),
        ("origin", 5e-4, True),  # pixels
        ("origin", 5e-3, False),
        ("direction", 5e-5, True),
        ("direction", 5e-4, False),
    ],
)
def test_mask_grid_tolerances_are_those_of_load_mask(attr, change, accepted):
    # The extraction applies roi's grid test (the one load_mask uses) with its tolerances: just
    # inside them the mask extracts as if on the image's exact grid; just outside, the error
    # gives the same description of the difference.
    from radiomics_aln import roi

    img = _image(spacing=(0.1, 0.1))
    img.SetOrigin((2.0, 3.0))
    msk = _mask(img)
    if attr == "spacing":
        msk.SetSpacing(tuple(s * (1 + change) for s in img.GetSpacing()))
    elif attr == "origin":
        msk.SetOrigin(tuple(o + change * 0.1 for o in img.GetOrigin()))
    else:
        msk.SetDirection((1.0, change, -change, 1.0))
    problem = roi._grid_problem(msk, img)
    assert (problem is None) is accepted
    if accepted:
        feats, _ = ex.extract_roi_features(img, msk)
        assert feats == ex.extract_roi_features(img, _mask(img))[0]
    else:
        assert problem.startswith(attr)
        with pytest.raises(GeometryError, match=re.escape(problem)):
            ex.extract_roi_features(img, msk)


# ---------------------------------------------------------------- real data


@pytest.mark.parametrize("case", ["case010", "case175"])
def test_breast_cases_equal_plain_execute_on_the_loaded_image(test_data_dir, case):
    from radiomics_aln import roi

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
    image, fov = roi.load_image(folder / f"{case}.png", spacing=spacing, return_fov=True)
    mask = roi.load_mask(folder / f"{case}_tumor.png", like=image)
    ring = roi.peritumoral_ring(mask, 5.0, within=fov, min_coverage=None)
    for name, m in (("tumor", mask), ("peritumoral", ring)):
        ours = {
            c.split("__", 1)[1]: v
            for c, v in res.features.loc[case].items()
            if c.startswith(f"{name}__")
        }
        _assert_same(ours, _plain(image, m))


# ---------------------------------------------------------------- manifest, progress, logging


def test_manifest_with_ln_and_repeat_columns(tmp_path):
    from radiomics_aln.cohort import read_manifest

    rows = []
    for i in range(2):
        img = _image(40 + i, shape=(110, 120))
        ln = _image(50 + i, shape=(60, 70))
        sitk.WriteImage(sitk.Cast(img, sitk.sitkFloat32), str(tmp_path / f"t{i}.nrrd"))
        sitk.WriteImage(_mask(img, (40, 70, 40, 80)), str(tmp_path / f"t{i}_m.nrrd"))
        sitk.WriteImage(_mask(img, (41, 71, 40, 79)), str(tmp_path / f"t{i}_m2.nrrd"))
        sitk.WriteImage(sitk.Cast(ln, sitk.sitkFloat32), str(tmp_path / f"n{i}.nrrd"))
        sitk.WriteImage(_mask(ln, (20, 40, 20, 45)), str(tmp_path / f"n{i}_m.nrrd"))
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
    from radiomics_aln import roi

    image = roi.load_image(tmp_path / "n1.nrrd")
    mask = roi.load_mask(tmp_path / "n1_m.nrrd", like=image)
    ours = {c[4:]: v for c, v in res.features.loc["001"].items() if c.startswith("ln__")}
    _assert_same(ours, _plain(image, mask))


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
    assert "GLCM is symmetrical" not in err and "extracting" not in err
    assert radiomics.handler.level == 60
    assert (root.level, list(root.handlers)) == before
    ex.extract_features(cases, rois=("tumor",), progress=True)
    assert "extracting" in capfd.readouterr().err


def test_shipped_settings_filter_each_image_once_for_all_its_masks(monkeypatch):
    calls = []
    original = imageoperations.getLoGImage

    def counting(image, mask, **kwargs):
        calls.append(image.GetSize())
        yield from original(image, mask, **kwargs)

    monkeypatch.setattr(imageoperations, "getLoGImage", counting)
    img = _image(60, spacing=(0.085, 0.085))
    masks = [_mask(img, (30, 60, 30, 70)), _mask(img, (10, 80, 10, 95)), _mask(img, (5, 20, 5, 30))]
    extractor = ex._get_extractor(ex.load_params("ultrasound_2d"))
    out = ex._execute_masks(extractor, img, list(enumerate(masks)))
    assert not any(isinstance(v, Exception) for v in out.values())
    assert len(calls) == 1  # the whole image is resampled whatever the mask's box
    calls.clear()
    p5 = ex.load_params("ultrasound_2d")
    p5["setting"]["padDistance"] = 5  # boxes differ: each mask gets its own filtering
    ex._execute_masks(ex._get_extractor(p5), img, list(enumerate(masks)))
    assert len(calls) == 3


def test_low_ring_coverage_is_warned_once_with_the_cases():
    from radiomics_aln.exceptions import CoverageWarning

    img = _image(61, shape=(70, 80))
    edge = _mask(img, (0, 20, 0, 25))  # in the corner: most of the 5 mm ring is off the image
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
