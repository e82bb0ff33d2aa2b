"""Tests of radiomics_aln.cases: Case and the one route from a case to its ROIs."""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from roi_helpers import (
    arr,
    blob,
    breast_spacing,
    read_breast_table,
    rng_image,
)

from radiomics_aln.cases import READERS, REPEAT_READERS, Case, CaseROIs, load_case_rois
from radiomics_aln.exceptions import (
    CoverageWarning,
    GeometryError,
    InputError,
    SpacingError,
)
from radiomics_aln.images import load_image, load_image_with_fov
from radiomics_aln.masks import load_mask
from radiomics_aln.ring import (
    RingCoverage,
    ring_coverage,
    ring_rois,
)


@pytest.fixture(scope="module")
def breast_table(test_data_dir):
    return read_breast_table(test_data_dir)


# ------------------------------------------------------------------------------------------
# committed BrEaST cases (run everywhere)
# ------------------------------------------------------------------------------------------

BREAST_CASES = ["case001", "case010", "case092", "case101", "case175"]


@pytest.mark.parametrize("case", BREAST_CASES)
def test_committed_breast_cases(test_data_dir, breast_table, case):
    folder = test_data_dir / "breast"
    spacing = breast_spacing(breast_table, case)
    image, fov = load_image_with_fov(folder / f"{case}.png", spacing=spacing)
    raw = np.asarray(Image.open(folder / f"{case}.png"))
    assert image.GetSize() == (raw.shape[1], raw.shape[0])
    assert image.GetSpacing() == (spacing, spacing)
    # Grey = BT.601 luma: equals PIL's convert("L") up to its integer rounding.
    pil = np.asarray(Image.open(folder / f"{case}.png").convert("L"), dtype=float)
    assert np.abs(arr(image) - pil).max() <= 0.5 + 1e-3
    alpha = raw[..., 3]
    if (alpha == 255).all():
        assert fov is None
    else:
        np.testing.assert_array_equal(arr(fov), (alpha > 0).astype(np.uint8))
    mask = load_mask(folder / f"{case}_tumor.png", like=image)
    np.testing.assert_array_equal(
        arr(mask), (raw_mask := np.asarray(Image.open(folder / f"{case}_tumor.png"))[..., 0] > 0)
    )
    assert raw_mask.any()
    rois = ring_rois(mask, width_mm=5.0, within=fov, min_coverage=None)
    ring, cov = rois.ring, rois.coverage
    r = arr(ring)
    assert not np.any(r & arr(mask))
    if fov is not None:
        assert not np.any(r & (arr(fov) == 0))
    assert isinstance(cov, RingCoverage) and 0 < cov.coverage <= 1


def test_breast_traps(test_data_dir, breast_table):
    folder = test_data_dir / "breast"
    # case101: alpha takes a few low values (2, 3, 4, 6) besides 0/255; they count as inside.
    alpha = np.asarray(Image.open(folder / "case101.png"))[..., 3]
    assert set(np.unique(alpha)) > {0, 255}
    _, fov = load_image_with_fov(folder / "case101.png", spacing=0.078125)
    assert int(arr(fov).sum()) == int((alpha > 0).sum())
    # case010: two alpha pixels of 75 in the mask do not change it.
    raw = np.asarray(Image.open(folder / "case010_tumor.png"))
    assert (raw[..., 3] == 75).sum() == 2
    image = load_image(folder / "case010.png", spacing=breast_spacing(breast_table, "case010"))
    np.testing.assert_array_equal(
        arr(load_mask(folder / "case010_tumor.png", like=image)), raw[..., 0] > 0
    )
    # case092: a second lesion in its own file; union of both masks = both lesions.
    image = load_image(folder / "case092.png", spacing=breast_spacing(breast_table, "case092"))
    tumor = arr(load_mask(folder / "case092_tumor.png", like=image))
    other = arr(load_mask(folder / "case092_other1.png", like=image))
    assert not np.any(tumor & other)
    both = arr(load_mask([folder / "case092_tumor.png", folder / "case092_other1.png"], like=image))
    np.testing.assert_array_equal(both, tumor | other)
    # case175: the ring is cut by the top edge and again by the transparent field of view.
    image, fov = load_image_with_fov(
        folder / "case175.png", spacing=breast_spacing(breast_table, "case175")
    )
    mask = load_mask(folder / "case175_tumor.png", like=image)
    with pytest.warns(CoverageWarning, match=r"case175_tumor\.png keeps only 61%"):
        cov = ring_rois(mask, within=fov, min_coverage=0.7).coverage
    assert cov.coverage < cov.coverage_image < 1.0
    assert cov.coverage == pytest.approx(0.606, abs=0.002)
    # case001: opaque, bluish tint, lesion 0.3 mm below the top edge.
    rgb = np.asarray(Image.open(folder / "case001.png"))[..., :3].astype(int)
    assert (rgb[..., 2] != rgb[..., 0]).any()
    image = load_image(folder / "case001.png", spacing=breast_spacing(breast_table, "case001"))
    cov = ring_coverage(load_mask(folder / "case001_tumor.png", like=image))
    assert cov.coverage == cov.coverage_image < 1.0


@pytest.mark.slow
@pytest.mark.needs_shared
def test_every_breast_image_and_mask_loads(breast_dir):
    """All 256 images and 266 masks of BrEaST-Lesions-USG load; rings clipped to the FOV."""
    table = pd.read_csv(breast_dir / "clinical-data.derived.csv", dtype=str)
    folder = breast_dir / "BrEaST-Lesions_USG-images_and_masks"
    n_images = n_masks = n_fov = 0
    coverages = []
    for _, row in table.iterrows():
        spacing = float(row["Pixel_size"]) * 10.0
        image, fov = load_image_with_fov(folder / row["Image_filename"], spacing=spacing)
        n_images += 1
        n_fov += fov is not None
        assert image.GetSpacing() == (spacing, spacing)
        names = []
        for column in ("Mask_tumor_filename", "Mask_other_filename"):
            if isinstance(row[column], str) and row[column].strip():
                names += row[column].split("&")
        for name in names:
            mask = load_mask(folder / name, like=image)
            n_masks += 1
            if "_tumor" in name:
                rois = ring_rois(mask, width_mm=5.0, within=fov, min_coverage=None)
                ring, cov = rois.ring, rois.coverage
                r = arr(ring)
                assert not np.any(r & arr(mask))
                if fov is not None:
                    assert not np.any(r & (arr(fov) == 0))
                coverages.append(cov.coverage)
    assert (n_images, n_masks, n_fov) == (256, 266, 31)
    coverages = np.asarray(coverages)
    assert len(coverages) == 252
    # PROVENANCE.md: 92 tumours lie within 5 mm of an image edge.
    assert (coverages < 1).sum() >= 92
    assert coverages.min() > 0.5


# ------------------------------------------------------------------------------------------
# load_case_rois and plot_rois
# ------------------------------------------------------------------------------------------


def test_load_case_rois_on_breast_case(test_data_dir, breast_table, tmp_path):
    folder = test_data_dir / "breast"
    raw = np.asarray(Image.open(folder / "case175_tumor.png"))[..., 0] > 0
    from scipy import ndimage

    eroded = ndimage.binary_erosion(raw, iterations=3)
    Image.fromarray((eroded * 255).astype(np.uint8)).save(tmp_path / "case175_r2.png")
    case = Case(
        "175",
        folder / "case175.png",
        folder / "case175_tumor.png",
        ln_image=folder / "case010.png",  # stands in for a lymph-node image
        ln_mask=folder / "case010_tumor.png",
        repeat_masks={"reader2": {"tumor": tmp_path / "case175_r2.png"}},
        spacing=breast_spacing(breast_table, "case175"),
        ln_spacing=breast_spacing(breast_table, "case010"),
    )
    with pytest.warns(CoverageWarning) as record:
        rois = load_case_rois(case, min_coverage=0.7)
    messages = [str(w.message) for w in record]
    assert any(re.match(r"case 175, peritumoral ring: .* keeps only 61%", m) for m in messages)
    assert any(re.match(r"case 175, peritumoral ring of reader2: .* only 63%", m) for m in messages)
    assert isinstance(rois, CaseROIs)
    assert list(rois.masks) == ["tumor", "peritumoral", "tumor_peritumoral", "ln"]
    image = rois.image_for("peritumoral")
    assert image.GetSpacing()[0] == pytest.approx(0.08680556)
    assert rois.image_for("ln").GetSize() == load_image(folder / "case010.png").GetSize()
    fov = arr(rois.fov["tumor"])
    ring = arr(rois.masks["peritumoral"])
    assert not np.any(ring & (fov == 0))
    direct = ring_coverage(rois.masks["tumor"], within=rois.fov["tumor"])
    assert rois.coverage == direct
    np.testing.assert_array_equal(
        arr(rois.masks["tumor_peritumoral"]), ring | arr(rois.masks["tumor"])
    )
    r2 = rois.repeats["reader2"]
    assert set(r2) == {"tumor", "peritumoral", "tumor_peritumoral"}
    np.testing.assert_array_equal(arr(r2["tumor"]), eroded)
    assert not np.any(arr(r2["peritumoral"]) & (fov == 0))
    # No FOV clipping on request: only the image edge clips.
    rois = load_case_rois(case, ring_within=None, min_coverage=None)
    assert rois.coverage.coverage == rois.coverage.coverage_image


def test_load_case_rois_errors_name_the_case(tmp_path):
    Image.fromarray(rng_image()).save(tmp_path / "i.png")
    Image.fromarray(blob(255)).save(tmp_path / "m.png")
    with pytest.raises(SpacingError, match=r"case c1, peritumoral ring: .*spacing"):
        load_case_rois(Case("c1", tmp_path / "i.png", tmp_path / "m.png"))
    with pytest.raises(InputError, match=r"case c2, tumor image/mask: mask file not found"):
        load_case_rois(Case("c2", tmp_path / "i.png", tmp_path / "gone.png", spacing=0.1))
    Image.fromarray(np.ones((5, 5), np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(GeometryError, match=r"case c3, tumor mask of repeat: mask .*small\.png"):
        load_case_rois(
            Case(
                "c3",
                tmp_path / "i.png",
                tmp_path / "m.png",
                repeat_masks={"repeat": {"tumor": tmp_path / "small.png"}},
                spacing=0.1,
            ),
            min_coverage=None,
        )


# ------------------------------------------------------------------------------------------
# Case
# ------------------------------------------------------------------------------------------


def test_case_normalises_and_validates():
    c = Case(
        "1", "x.png", "m1.png;m2.png", spacing=0.1, repeat_masks={"reader2": {"tumor": "r.png"}}
    )
    assert c.tumor_image == Path("x.png") and c.tumor_mask == (Path("m1.png"), Path("m2.png"))
    assert c.spacing == (0.1, 0.1)
    assert c.repeat_masks == {"reader2": {"tumor": (Path("r.png"),)}}
    assert c.image("tumor") == Path("x.png") and c.image("ln") is None
    hash(c)  # frozen and hashable even with dict fields
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.outcome = 1
    with pytest.raises(InputError, match="case 1: no tumour mask"):
        Case("1", "x.png", ())
    with pytest.raises(InputError, match="case 2: a lymph-node image needs a lymph-node mask"):
        Case("2", "x.png", "m.png", ln_image="ln.png")
    with pytest.raises(InputError, match=r"case 3: unknown reader 'reader3'"):
        Case("3", "x.png", "m.png", repeat_masks={"reader3": {"tumor": "r.png"}})
    with pytest.raises(InputError, match="roi='node'"):
        c.masks("node")
    assert REPEAT_READERS == ("reader2", "repeat")
    assert READERS == ("reader1", "reader2", "repeat")


# ------------------------------------------------------------------------------------------
# one route: extraction measures the ROIs load_case_rois returns
# ------------------------------------------------------------------------------------------


def test_extraction_measures_exactly_the_rois_of_load_case_rois(test_data_dir, breast_table,
                                                                 tmp_path):  # fmt: skip
    """The masks PyRadiomics gets (seen by an `extra` feature function) are the masks of
    load_case_rois, pixel for pixel and on the same grid, for every ROI and reader."""
    import hashlib

    from scipy import ndimage

    from radiomics_aln.extraction import extract_features
    from radiomics_aln.params import load_params

    folder = test_data_dir / "breast"
    raw = np.asarray(Image.open(folder / "case175_tumor.png"))[..., 0] > 0
    eroded = ndimage.binary_erosion(raw, iterations=3)
    Image.fromarray((eroded * 255).astype(np.uint8)).save(tmp_path / "r2.png")
    case = Case(
        "175", folder / "case175.png", folder / "case175_tumor.png",
        ln_image=folder / "case010.png", ln_mask=folder / "case010_tumor.png",
        repeat_masks={"reader2": {"tumor": tmp_path / "r2.png"}},
        spacing=breast_spacing(breast_table, "case175"),
        ln_spacing=breast_spacing(breast_table, "case010"),
    )  # fmt: skip

    def digest(mask):
        geometry = (mask.GetSize(), mask.GetSpacing(), mask.GetOrigin(), mask.GetDirection())
        h = hashlib.sha256(arr(mask).astype(np.uint8).tobytes() + repr(geometry).encode())
        return float(int(h.hexdigest()[:12], 16))

    params = load_params("ultrasound_2d")
    params["imageType"] = {"Original": {"binWidth": 5}}
    params["featureClass"] = {"firstorder": ["Mean"]}
    rois = ("tumor", "peritumoral", "tumor_peritumoral", "ln")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        res = extract_features(
            [case],
            rois=rois,
            params=params,
            repeats=["reader2"],
            extra={"mask": lambda image, mask: {"digest": digest(mask)}},
        )
        built = load_case_rois(case, min_coverage=None)  # fmt: skip
    assert res.failures.empty
    for roi in rois:
        assert res.features.loc["175", f"{roi}__mask_digest"] == digest(built.masks[roi]), roi
    rep = res.repeats["reader2"].loc["175"]
    for roi, mask in built.repeats["reader2"].items():
        assert rep[f"{roi}__mask_digest"] == digest(mask), roi
