"""Tests of radiomics_aln.roi_features: one image, parity with plain PyRadiomics, conventions."""

from __future__ import annotations

import re

import numpy as np
import pytest
import SimpleITK as sitk
from extraction_helpers import (
    SHIPPED,
    assert_same,
    make_image,
    make_mask,
)
from radiomics import imageoperations
from radiomics.featureextractor import RadiomicsFeatureExtractor

from radiomics_aln._pyradiomics_fast import fast_paths
from radiomics_aln.exceptions import GeometryError
from radiomics_aln.masks import grid_problem
from radiomics_aln.params import get_extractor, load_params
from radiomics_aln.roi_features import execute_masks, extract_roi_features

# ---------------------------------------------------------------- parity with plain PyRadiomics


def test_shared_filtering_of_several_masks_is_bit_identical_to_separate_execute():
    img = make_image(2, spacing=(0.09, 0.09))
    masks = [
        make_mask(img, (30, 60, 30, 70)),
        make_mask(img, (20, 70, 20, 85)),
        make_mask(img, (10, 30, 5, 40)),
    ]
    extractor = get_extractor(load_params("ultrasound_2d"))
    with fast_paths():
        shared = execute_masks(extractor, img, list(enumerate(masks)))
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


def test_shipped_settings_filter_each_image_once_for_all_its_masks(monkeypatch):
    calls = []
    original = imageoperations.getLoGImage

    def counting(image, mask, **kwargs):
        calls.append(image.GetSize())
        yield from original(image, mask, **kwargs)

    monkeypatch.setattr(imageoperations, "getLoGImage", counting)
    img = make_image(60, spacing=(0.085, 0.085))
    masks = [
        make_mask(img, (30, 60, 30, 70)),
        make_mask(img, (10, 80, 10, 95)),
        make_mask(img, (5, 20, 5, 30)),
    ]
    extractor = get_extractor(load_params("ultrasound_2d"))
    out = execute_masks(extractor, img, list(enumerate(masks)))
    assert not any(isinstance(v, Exception) for v in out.values())
    assert len(calls) == 1  # the whole image is resampled whatever the mask's box
    calls.clear()
    p5 = load_params("ultrasound_2d")
    p5["setting"]["padDistance"] = 5  # boxes differ: each mask gets its own filtering
    execute_masks(get_extractor(p5), img, list(enumerate(masks)))
    assert len(calls) == 3


def test_uint8_image_gives_the_features_of_its_float_copy():
    # 8-bit ROI reaching 255: with NumPy >= 2, PyRadiomics' getBinEdges computes max + 2 * width in
    # uint8 and wraps around (nearly all pixels in one bin). We must always hand it floats.
    u8 = make_image(4, dtype=np.uint8, bright=True)
    f64 = sitk.Cast(u8, sitk.sitkFloat64)
    msk = make_mask(u8)
    feats_u8, _ = extract_roi_features(u8, msk)
    feats_f, _ = extract_roi_features(f64, msk)
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
    img2 = make_image(5, spacing=(0.1, 0.1))
    msk2 = make_mask(img2)
    params = load_params("ultrasound_2d")
    ours, _ = extract_roi_features(img2, msk2, params=params)

    img3 = sitk.JoinSeries(img2)
    msk3 = sitk.JoinSeries(msk2)
    p3 = load_params("ultrasound_2d")
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
    assert_same({k: ours[k] for k in ref3}, ref3, rtol=1e-9)

    # The trap: force2D=True on a true 2D image gives a 1D wavelet (H/L only).
    p_bad = load_params("ultrasound_2d")
    p_bad["setting"]["force2D"] = True
    bad = RadiomicsFeatureExtractor(p_bad).execute(img2, msk2)
    assert {k.split("_")[0] for k in bad if k.startswith("wavelet")} == {"wavelet-H", "wavelet-L"}


def test_log_features_do_not_change_when_the_image_is_padded_with_background():
    # An ultrasound frame: speckle inside the scanned field, black (0) around it.
    img = make_image(7, shape=(120, 130), spacing=(0.08, 0.08))
    arr = sitk.GetArrayFromImage(img)
    frame = np.zeros_like(arr)
    frame[10:-10, 10:-10] = arr[10:-10, 10:-10]
    img = sitk.GetImageFromArray(frame)
    img.SetSpacing((0.08, 0.08))
    msk = make_mask(img, (45, 75, 50, 80))
    pad = 25  # 25 x 0.08 mm = 2 mm: the 0.1 mm resampling grid stays aligned with the tissue
    padded = sitk.ConstantPad(img, (pad, pad), (pad, pad), 0.0)
    padded_mask = sitk.ConstantPad(msk, (pad, pad), (pad, pad), 0)
    a, _ = extract_roi_features(img, msk)
    b, _ = extract_roi_features(padded, padded_mask)
    log = [k for k in a if k.startswith("log-sigma")]
    assert len(log) == 4 * 93
    assert_same({k: a[k] for k in log}, {k: b[k] for k in log}, rtol=1e-9)

    # With PyRadiomics' default padDistance (5 px) the image is cropped to the mask's box plus
    # 5 px before filtering, and the LoG features move far beyond that tolerance: this is the
    # crop noise that would otherwise enter tumour-vs-ring and reader-vs-reader comparisons.
    p5 = load_params("ultrasound_2d")
    p5["setting"]["padDistance"] = 5
    c, _ = extract_roi_features(img, msk, params=p5)
    # (sigma 4 mm is even skipped there: the 40 x 40 px crop is too small for it)
    assert not any(k.startswith("log-sigma-4-0") for k in c)
    diffs = [abs(c[k] - a[k]) / max(abs(a[k]), 1e-12) for k in log if k in c]
    assert max(diffs) > 1e-2


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
    img = make_image(spacing=(0.1, 0.1))
    img.SetOrigin((2.0, 3.0))
    msk = make_mask(img)
    if attr == "spacing":
        msk.SetSpacing(tuple(s * (1 + change) for s in img.GetSpacing()))
    elif attr == "origin":
        msk.SetOrigin(tuple(o + change * 0.1 for o in img.GetOrigin()))
    else:
        msk.SetDirection((1.0, change, -change, 1.0))
    problem = grid_problem(msk, img)
    assert (problem is None) is accepted
    if accepted:
        feats, _ = extract_roi_features(img, msk)
        assert feats == extract_roi_features(img, make_mask(img))[0]
    else:
        assert problem.startswith(attr)
        with pytest.raises(GeometryError, match=re.escape(problem)):
            extract_roi_features(img, msk)
