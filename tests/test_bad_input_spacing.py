"""Bad input: pixel spacing, ring width and intensity scale (issue 13, sections 1 and 2).

Each test asserts the exception class (or the failure row) and that the message names the case,
the file, the column or the setting at fault. No bad input may give features at a guessed value:
a PNG case without spacing used to be extracted at SimpleITK's default of 1 mm per pixel.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from PIL import Image

from radiomics_aln.cases import Case, load_case_rois
from radiomics_aln.exceptions import (
    InputError,
    IntensityError,
    ManifestError,
    SpacingError,
)
from radiomics_aln.extraction import extract_features
from radiomics_aln.images import SPACING_RANGE_MM, load_image, spacing_source
from radiomics_aln.manifest import read_manifest
from radiomics_aln.masks import load_mask
from radiomics_aln.params import bin_problem, load_params
from radiomics_aln.ring import peritumoral_ring, ring_coverage
from radiomics_aln.roi_features import as_binary_mask, extract_roi_features

# The fixture's cases reuse one image for several ids; the duplicate warning is tested in
# test_extraction and test_bad_input_masks.
pytestmark = [
    pytest.mark.filterwarnings("ignore::radiomics_aln.exceptions.DuplicateImageWarning"),
    pytest.mark.filterwarnings(
        "ignore:events per variable:radiomics_aln.exceptions.SmallSampleWarning"
    ),
]

# Fast settings: the shipped ones (resampling to 0.1 mm, binWidth 5) on the original image only.
FAST = load_params("ultrasound_2d")
FAST["imageType"] = {"Original": {"binWidth": 5}}
FAST["featureClass"] = {"firstorder": ["Entropy", "Mean"], "glcm": ["Contrast"]}


def with_own(**section):
    params = {k: (dict(v) if isinstance(v, dict) else v) for k, v in FAST.items()}
    params["radiomics_aln"] = section
    return params


SIZE = 160


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """An 8-bit PNG case, the same image as 16-bit PNG and as a [0, 1] float NRRD, a mask."""
    d = tmp_path_factory.mktemp("bad_spacing")
    rng = np.random.default_rng(13)
    u8 = np.clip(rng.normal(110, 30, (SIZE, SIZE)), 0, 255).astype(np.uint8)
    Image.fromarray(u8).save(d / "img8.png")
    Image.fromarray(u8.astype(np.uint16) * 257).save(d / "img16.png")  # 0..65535 scale
    f01 = sitk.GetImageFromArray(u8.astype(np.float32) / 255.0)
    f01.SetSpacing((0.1, 0.1))
    sitk.WriteImage(f01, str(d / "img01.nrrd"))
    m = np.zeros((SIZE, SIZE), np.uint8)
    m[60:100, 55:105] = 255
    Image.fromarray(m).save(d / "mask.png")
    for name, sp in (("tiny", 1e-6), ("huge", 1e6)):
        img = sitk.GetImageFromArray(u8.astype(np.float32))
        img.SetSpacing((sp, sp))
        sitk.WriteImage(img, str(d / f"{name}.nrrd"))
    Image.fromarray(np.full((SIZE, SIZE), 90, np.uint8)).save(d / "flat.png")
    return d


def case(files, image="img8.png", **kw):
    return Case(kw.pop("case_id", "p1"), files / image, files / "mask.png", **kw)


def write_manifest(files, name, spacing_cell, extra=""):
    path = files / f"{name}.csv"
    path.write_text(
        "case_id,cohort,outcome,tumor_image,tumor_mask,spacing\n"
        f"ok1,train,1,img8.png,mask.png,0.1\n"
        f"bad7,train,0,img8.png,mask.png,{spacing_cell}\n{extra}"
    )
    return path


def only_failure(res, case_id="bad7"):
    rows = res.failures[res.failures.case_id == case_id]
    assert len(rows), res.failures
    # never features: the failed ROIs' columns are NaN
    feats = res.features
    for r in rows.roi:
        cols = [c for c in feats.columns if c.split("__", 1)[0] == r]
        if cols:
            assert case_id not in feats.index or feats.loc[case_id, cols].isna().all()
        else:
            # no column for this ROI (an empty selection's .all() would pass vacuously): then
            # no case of the batch produced it, i.e. every case has a failure row for it
            failed = set(res.failures.loc[res.failures.roi == r, "case_id"])
            assert failed >= set(feats.index), (r, sorted(set(feats.index) - failed))
    return rows


# --------------------------------------------------------------------------------------------
# 1. Missing spacing: every route refuses, never 1 mm per pixel
# --------------------------------------------------------------------------------------------

MISSING_CELLS = ["", "nan", "NaN", "N/A", "NULL", "None"]


@pytest.mark.parametrize(
    "cell", MISSING_CELLS, ids=[f"manifest-{c or 'empty'}" for c in MISSING_CELLS]
)
def test_manifest_missing_spacing_is_a_spacing_failure(files, cell):
    manifest = read_manifest(write_manifest(files, f"m_{cell.replace('/', '')}", cell))
    assert manifest["bad7"].spacing is None  # missing, never a number
    res = extract_features(manifest, rois=("tumor", "peritumoral"), params=FAST, n_jobs=1)
    rows = only_failure(res)
    assert set(rows.roi) == {"tumor", "peritumoral"}
    for err, file in zip(rows.error, rows.file, strict=True):
        assert "pixel spacing of" in err and "img8.png" in err and "unknown" in err
        assert file.endswith("img8.png")
    assert res.features.loc["ok1"].notna().all()  # the good case is untouched
    with pytest.raises(SpacingError, match=r"case 'bad7', roi 'tumor'.*img8\.png.*spacing"):
        extract_features(manifest, rois=("tumor",), params=FAST, n_jobs=1, errors="raise")


@pytest.mark.parametrize(
    "spacing", [None, float("nan"), np.float32("nan"), "nan", "N/A", ""],
    ids=["Case-None", "Case-nan", "Case-np-nan", "Case-text-nan", "Case-text-NA", "Case-empty"],
)  # fmt: skip
def test_api_case_without_spacing_raises_spacing_error(files, spacing):
    c = case(files, spacing=spacing)
    assert c.spacing is None
    # the tumour ROI alone (no ring) used to be extracted at 1 mm/px without any warning
    with pytest.raises(SpacingError, match=r"case 'p1', roi 'tumor', reader1 \(.*img8\.png\)"):
        extract_features([c], rois=("tumor",), params=FAST, n_jobs=1, errors="raise")
    with pytest.raises(SpacingError, match=r"case p1, peritumoral ring: .*img8\.png.*unknown"):
        load_case_rois(c)


@pytest.mark.parametrize("spacing", [None, float("nan")], ids=["dict-None", "dict-nan"])
def test_mapping_case_without_spacing_is_a_failure_row(files, spacing):
    cases = [{"case_id": "bad7", "tumor_image": files / "img8.png",
              "tumor_mask": files / "mask.png", "spacing": spacing}]  # fmt: skip
    res = extract_features(cases, rois=("tumor", "tumor_peritumoral"), params=FAST, n_jobs=1)
    rows = only_failure(res)
    assert len(rows) == 2 and rows.error.str.contains("img8.png").all()
    assert res.features.shape[1] == 0


def test_ln_image_without_spacing_is_refused(files):
    c = Case("p1", files / "img8.png", files / "mask.png",
             ln_image=files / "flat.png", ln_mask=files / "mask.png")  # fmt: skip
    res = extract_features([c], rois=("ln",), params=FAST, n_jobs=1)
    rows = only_failure(res, "p1")
    assert rows.roi.tolist() == ["ln"] and "spacing of " in rows.error.iloc[0]
    assert "flat.png" in rows.error.iloc[0] and rows.file.iloc[0].endswith("flat.png")


def test_in_memory_image_with_unknown_spacing_is_refused(files):
    image = load_image(files / "img8.png")  # PNG without spacing=: tagged "unknown"
    mask = load_mask(files / "mask.png", like=image)
    cases = [{"case_id": "mem", "tumor_image": image, "tumor_mask": mask}]
    with pytest.raises(SpacingError, match=r"case 'mem'.*spacing of <SimpleITK image> is unknown"):
        extract_features(cases, rois=("tumor",), params=FAST, n_jobs=1, errors="raise")


def test_mask_keeps_the_spacing_tag_of_its_image(files):
    """The root of the bug: extraction's mask lost the image's 'unknown' spacing tag."""
    image = load_image(files / "img8.png")
    mask = sitk.GetImageFromArray((np.asarray(Image.open(files / "mask.png")) > 0).astype(np.uint8))
    out = as_binary_mask(mask, image, "mask")
    assert spacing_source(out) == "unknown"
    with pytest.raises(SpacingError):
        peritumoral_ring(out, width_mm=5.0)


def test_cli_extract_records_the_missing_spacing(files, tmp_path, capsys):
    from radiomics_aln.cli import main

    manifest = write_manifest(files, "cli", "")
    out = tmp_path / "f.csv"
    code = main(["--quiet", "extract", str(manifest), "--out", str(out), "--rois", "tumor",
                 "--params", str(_params_file(tmp_path))])  # fmt: skip
    assert code == 0
    failures = pd.read_csv(tmp_path / "f_failures.csv", dtype=str)
    assert failures.case_id.tolist() == ["bad7"]
    assert "img8.png" in failures.error.iloc[0] and "spacing" in failures.error.iloc[0]
    feats = pd.read_csv(out, dtype={"case_id": str}).set_index("case_id")
    assert feats.loc["bad7"].isna().all() and feats.loc["ok1"].notna().all()


def _params_file(folder):
    import yaml

    path = folder / "fast.yaml"
    path.write_text(yaml.safe_dump(FAST))
    return path


def test_study_records_the_missing_spacing(files):
    from radiomics_aln.study import Study

    study = Study({"manifest": str(write_manifest(files, "study", "NaN")), "rois": ["tumor"],
                   "params": FAST, "n_jobs": 1}, progress=False)  # fmt: skip
    study._load_table()
    feats, _ = study._load_features()
    rows = only_failure(study.extraction_)
    assert "img8.png" in rows.error.iloc[0] and feats.loc["bad7"].isna().all()


# --------------------------------------------------------------------------------------------
# 1b. Implausible spacing and ring width: refused up front
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["1e-6", "1000000", "0.001", "2.5", '"0.1,50"'],
                         ids=["manifest-1e-6", "manifest-1e6", "manifest-0.001", "manifest-2.5",
                              "manifest-anisotropic-50"])  # fmt: skip
def test_manifest_implausible_spacing_is_a_manifest_problem(files, cell):
    path = write_manifest(files, "implausible", cell)
    with pytest.raises(
        ManifestError, match=r"case bad7 \(line 3\): `spacing`.*outside the plausible"
    ):
        read_manifest(path)
    assert read_manifest(path, spacing_range=None)["bad7"].spacing is not None  # the override


@pytest.mark.parametrize(
    "spacing", [1e-6, 1e6, (0.1, 3.0)], ids=["Case-1e-6", "Case-1e6", "Case-x0.1-y3"]
)
def test_implausible_given_spacing_refused_before_any_work(files, spacing):
    c = case(files, case_id="u7", spacing=spacing)
    with pytest.raises(SpacingError, match=r"case 'u7'.*img8\.png.*outside the plausible range"):
        extract_features([c], rois=("tumor", "peritumoral"), params=FAST, errors="raise")
    res = extract_features([c], rois=("tumor", "peritumoral"), params=FAST)
    rows = only_failure(res, "u7")
    assert len(rows) == 2 and res.n_computed == 0
    with pytest.raises(SpacingError, match=r"case u7, tumor image/mask: .*img8\.png.*spacing"):
        load_case_rois(c)


@pytest.mark.parametrize("name", ["tiny", "huge"], ids=["header-1e-6", "header-1e6"])
def test_implausible_header_spacing_fails_fast(files, name):
    """Today 1e6 mm/px ran for minutes and died in 'Unable to allocate 215 TiB'."""
    c = Case("h1", files / f"{name}.nrrd", files / "mask.png")
    with pytest.raises(SpacingError, match=rf"case 'h1'.*{name}\.nrrd has a pixel spacing of"):
        extract_features([c], rois=("tumor",), params=FAST, errors="raise")
    with pytest.raises(SpacingError, match=rf"case h1, tumor image/mask: .*{name}\.nrrd"):
        load_case_rois(c)


def test_spacing_range_override_is_honoured(files):
    c = case(files, spacing=0.004)  # outside the default range, deliberately allowed
    params = with_own()
    params["setting"] = {k: v for k, v in FAST["setting"].items() if k != "resampledPixelSpacing"}
    for allowed in [(0.001, 2), None]:
        res = extract_features([c], rois=("tumor",), params=params, spacing_range=allowed)
        assert res.failures.empty
    res = extract_features([c], rois=("tumor",), params=params)
    assert "0.004" in only_failure(res, "p1").error.iloc[0]


@pytest.mark.parametrize(
    "value", [(2.0, 1.0), "0.005,2", (0, 1), (float("nan"), 1), (0.1,), (True, 2)],
    ids=["range-reversed", "range-text", "range-zero", "range-nan", "range-one-value", "range-bool"],
)  # fmt: skip
def test_bad_spacing_range_argument(files, value):
    with pytest.raises(InputError, match="spacing_range="):
        extract_features([case(files, spacing=0.1)], rois=("tumor",), params=FAST,
                         spacing_range=value)  # fmt: skip


BAD_RINGS = [0, -1.0, float("nan"), float("inf"), 50.5, True, "5"]
RING_IDS = [
    "ring-0",
    "ring-negative",
    "ring-nan",
    "ring-inf",
    "ring-50.5",
    "ring-bool",
    "ring-text",
]


@pytest.mark.parametrize("width", BAD_RINGS, ids=RING_IDS)
def test_bad_ring_width_rejected_everywhere(files, width):
    with pytest.raises(
        InputError, match=r"width_mm=.* must be a positive ring width in mm.*\(0, 50\]"
    ):
        extract_features([case(files, spacing=0.1)], rois=("peritumoral",), params=FAST,
                         width_mm=width)  # fmt: skip
    with pytest.raises(InputError, match=r"case p1, peritumoral ring: width_mm="):
        load_case_rois(case(files, spacing=0.1), width_mm=width)
    from radiomics_aln.config import StudyConfig

    with pytest.raises(InputError, match=r"width_mm="):
        StudyConfig(width_mm=width).validate()


def test_widest_allowed_ring_is_50_mm():
    mask = sitk.GetImageFromArray(np.pad(np.ones((3, 3), np.uint8), 3))
    mask.SetSpacing((20.0, 20.0))
    cov = ring_coverage(mask, width_mm=50.0)
    assert cov.n_pixels_unclipped > 0


@pytest.mark.parametrize(
    "spacing", ["abc", -0.1, 0, float("inf"), True, (0.1, float("nan")), "0.1 mm"],
    ids=["Case-text", "Case-negative", "Case-zero", "Case-inf", "Case-bool", "Case-half-nan",
         "Case-unit-text"],
)  # fmt: skip
def test_case_rejects_a_spacing_that_is_not_mm(files, spacing):
    with pytest.raises(InputError, match=r"case p1: spacing=.* is not mm per pixel"):
        case(files, spacing=spacing)


def test_cli_rejects_bad_ring_and_spacing_range(files, tmp_path, capsys):
    from radiomics_aln.cli import main

    manifest = write_manifest(files, "cli2", "0.1")
    # an option's value out of range is a usage error (exit 2, docs/cli.md)
    assert main(["extract", str(manifest), "--width-mm", "0", "--out", str(tmp_path / "x.csv")]) == 2
    assert "--width-mm" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["extract", str(manifest), "--spacing-range", "2,1"])
    assert info.value.code == 2 and "--spacing-range" in capsys.readouterr().err
    assert main(["extract", str(write_manifest(files, "cli3", "5")), "--out",
                 str(tmp_path / "y.csv")]) == 1  # fmt: skip
    assert "`spacing` '5'" in capsys.readouterr().err


def test_study_config_spacing_range(files):
    from radiomics_aln.config import StudyConfig

    with pytest.raises(InputError, match="spacing_range="):
        StudyConfig(spacing_range=[1, 0]).validate()
    assert StudyConfig().spacing_range == list(SPACING_RANGE_MM)


# --------------------------------------------------------------------------------------------
# 2. Intensity scale: bins counted before extraction, a rescale setting as the remedy
# --------------------------------------------------------------------------------------------


def test_png_16_bit_keeps_16_bit_values(files):
    image = load_image(files / "img16.png", spacing=0.1)
    assert sitk.GetArrayFromImage(image).max() > 255 * 100


def test_float_image_in_0_1_is_a_bin_failure(files):
    """Shipped binWidth 5 on [0, 1]: one bin, Entropy 0 and GLCM Contrast 0 with no warning."""
    c = Case("f01", files / "img01.nrrd", files / "mask.png")
    res = extract_features([c], rois=("tumor",), params=FAST)
    err = only_failure(res, "f01").error.iloc[0]
    assert "grey levels on the original image span 0." in err
    assert (
        "binWidth 5 gives 1 bin(s), fewer than 8" in err and "rescale" in err and "binCount" in err
    )
    with pytest.raises(IntensityError, match=r"case 'f01', roi 'tumor'.*img01\.nrrd.*1 bin"):
        extract_features([c], rois=("tumor",), params=FAST, errors="raise")


def test_16_bit_png_is_a_bin_failure_quickly(files):
    """A 16-bit PNG ran > 600 s and 1.8 GB on one ROI; now a named failure in well under that."""
    import time

    t0 = time.perf_counter()
    res = extract_features([case(files, "img16.png", case_id="u16", spacing=0.1)],
                           rois=("tumor", "peritumoral"), params=FAST)  # fmt: skip
    rows = only_failure(res, "u16")
    assert time.perf_counter() - t0 < 60
    assert set(rows.roi) == {"tumor", "peritumoral"}
    assert rows.error.str.contains(r"more than 1000").all()
    assert rows.error.str.contains(r"rescale: \{from: \[0, 65535\]\}").all()


def test_normalize_without_scale_is_a_bin_failure(files):
    params = with_own()
    params["setting"] = {**FAST["setting"], "normalize": True}
    res = extract_features([case(files, spacing=0.1)], rois=("tumor",), params=params)
    assert "normalised and resampled" in only_failure(res, "p1").error.iloc[0]


def test_rescale_16_bit_equals_the_8_bit_image(files):
    ref = extract_features([case(files, spacing=0.1)], rois=("tumor",), params=FAST)
    params = with_own(rescale={"from": [0, 65535]})
    res = extract_features([case(files, "img16.png", spacing=0.1)], rois=("tumor",), params=params)
    assert res.failures.empty
    pd.testing.assert_frame_equal(res.features, ref.features)  # bit for bit


def test_rescale_float_0_1_gives_texture(files):
    ref = extract_features([case(files, spacing=0.1)], rois=("tumor",), params=FAST).features
    res = extract_features([Case("p1", files / "img01.nrrd", files / "mask.png")],
                           rois=("tumor",), params=with_own(rescale={"from": [0, 1]}))  # fmt: skip
    assert res.failures.empty
    feats = res.features
    assert feats["tumor__original_firstorder_Entropy"].iloc[0] > 3
    assert feats["tumor__original_glcm_Contrast"].iloc[0] > 0
    assert math.isclose(feats["tumor__original_firstorder_Mean"].iloc[0],
                        ref["tumor__original_firstorder_Mean"].iloc[0], rel_tol=1e-6)  # fmt: skip


def test_rescale_from_image_min_max(files):
    params = with_own(rescale={"from": "image", "to": [0, 255]})
    res = extract_features([Case("p1", files / "img01.nrrd", files / "mask.png")],
                           rois=("tumor",), params=params)  # fmt: skip
    assert res.failures.empty


def test_pixels_outside_the_stated_rescale_range(files):
    params = with_own(rescale={"from": [0, 1]})
    with pytest.raises(
        IntensityError, match=r"case 'p1'.*img16\.png.*outside rescale from \[0, 1\]"
    ):
        extract_features([case(files, "img16.png", spacing=0.1)], rois=("tumor",), params=params,
                         errors="raise")  # fmt: skip


def test_rescale_from_image_on_a_flat_image(files):
    params = with_own(rescale={"from": "image"})
    res = extract_features([case(files, "flat.png", case_id="flat", spacing=0.1)],
                           rois=("tumor",), params=params)  # fmt: skip
    assert "every pixel is 90" in only_failure(res, "flat").error.iloc[0]


def test_bin_limits_setting_widens_the_check(files):
    c = Case("f01", files / "img01.nrrd", files / "mask.png")
    res = extract_features([c], rois=("tumor",), params=with_own(bin_limits=None))
    assert res.failures.empty  # the user's explicit choice: one bin, as PyRadiomics computes
    assert abs(res.features["tumor__original_firstorder_Entropy"].iloc[0]) < 1e-12


def test_extract_roi_features_checks_bins_too(files):
    image = load_image(files / "img01.nrrd")
    mask = load_mask(files / "mask.png", like=image)
    with pytest.raises(IntensityError, match="1 bin"):
        extract_roi_features(image, mask, params=FAST)


@pytest.mark.parametrize(
    "section, key",
    [({"rescale": "yes"}, "rescale"), ({"rescale": {"from": [1, 0]}}, "rescale.from"),
     ({"rescale": {"from": [0, 1], "to": [0]}}, "rescale.to"),
     ({"rescale": {"from": [0, 1], "gain": 2}}, "gain"), ({"bin_limits": [0, 10]}, "bin_limits"),
     ({"bin_limits": [8.5, 10]}, "bin_limits"), ({"binlimits": [8, 10]}, "binlimits"),
     ("rescale", "radiomics_aln")],
    ids=["rescale-text", "rescale-reversed", "rescale-to-short", "rescale-unknown-key",
         "bin-limits-zero", "bin-limits-fraction", "section-typo", "section-not-mapping"],
)  # fmt: skip
def test_bad_intensity_settings(section, key):
    params = dict(FAST)
    params["radiomics_aln"] = section
    with pytest.raises(InputError, match=rf"params \(dict\):.*{key}"):
        load_params(params)


def test_bin_count_equals_pyradiomics_bin_edges():
    """The count checked before extraction is the one getBinEdges gives (binWidth and binCount)."""
    from radiomics import imageoperations

    rng = np.random.default_rng(0)

    class Ext:  # the two attributes bin_problem reads
        def __init__(self, **kw):
            self.settings = {"label": 1, **kw}
            self.enabledImagetypes = {"Original": {}}

    for _ in range(200):
        lo = rng.uniform(-50, 200)
        vals = lo + rng.uniform(0, 300) * rng.random(50)
        width = float(rng.choice([0.5, 1, 5, 25]))
        # grey levels after PyRadiomics' binning (binImage digitizes with these edges)
        n = int(np.digitize(vals, imageoperations.getBinEdges(vals, binWidth=width)).max())
        img = sitk.GetImageFromArray(vals.reshape(5, 10))
        msk = sitk.GetImageFromArray(np.ones((5, 10), np.uint8))
        assert bin_problem(Ext(binWidth=width), img, msk, (n, n)) is None
        problem = bin_problem(Ext(binWidth=width), img, msk, (n + 1, n + 1))
        assert f"gives {n} bin" in problem


def _no_resampling():
    params = with_own()
    params["setting"] = {k: v for k, v in FAST["setting"].items() if k != "resampledPixelSpacing"}
    return params


def test_spacing_range_override_in_study_config(files):
    from radiomics_aln.study import Study

    manifest = str(write_manifest(files, "study_small", "0.004"))
    config = {"manifest": manifest, "rois": ["tumor"], "params": _no_resampling(), "n_jobs": 1}
    with pytest.raises(ManifestError, match=r"case bad7 \(line 3\): `spacing` '0.004'"):
        Study(config, progress=False)._load_table()
    study = Study({**config, "spacing_range": [0.001, 2.0]}, progress=False)
    study._load_table()
    feats, _ = study._load_features()
    assert study.extraction_.failures.empty and feats.notna().all(axis=None)


def test_spacing_range_override_on_the_command_line(files, tmp_path, capsys):
    import yaml

    from radiomics_aln.cli import main

    params = tmp_path / "nores.yaml"
    params.write_text(yaml.safe_dump(_no_resampling()))
    manifest = str(write_manifest(files, "cli_small", "0.004"))
    args = ["--quiet", "extract", manifest, "--rois", "tumor", "--params", str(params)]
    assert main([*args, "--out", str(tmp_path / "a.csv")]) == 1
    assert "case bad7 (line 3): `spacing` '0.004'" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "b.csv"), "--spacing-range", "0.001,2"]) == 0
    assert not (tmp_path / "b_failures.csv").exists()


def test_cached_entry_under_a_wider_range_is_not_served_under_the_default(files, tmp_path):
    """A header spacing is checked when the image is read; the range is part of the cache key,
    so features computed under a widened range are not returned later under the default."""
    img = sitk.ReadImage(str(files / "img01.nrrd")) * 255.0
    img.SetSpacing((0.004, 0.004))
    sitk.WriteImage(img, str(tmp_path / "fine.nrrd"))
    c = Case("w1", tmp_path / "fine.nrrd", files / "mask.png")
    params = with_own()
    params["setting"] = {k: v for k, v in FAST["setting"].items() if k != "resampledPixelSpacing"}
    cache = tmp_path / "cache"
    wide = extract_features([c], rois=("tumor",), params=params, cache_dir=cache,
                            spacing_range=(0.001, 2))  # fmt: skip
    assert wide.failures.empty and wide.n_computed == 1
    res = extract_features([c], rois=("tumor",), params=params, cache_dir=cache)
    assert res.n_cached == 0
    assert "0.004" in only_failure(res, "w1").error.iloc[0]
