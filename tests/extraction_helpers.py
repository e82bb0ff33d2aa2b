"""Helpers shared by the tests of params, roi_features, _pyradiomics_fast and extraction."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk
from radiomics.featureextractor import RadiomicsFeatureExtractor

from radiomics_aln.params import params_path

SHIPPED = str(params_path("ultrasound_2d"))


def make_image(seed=0, shape=(90, 100), spacing=(0.1, 0.1), dtype=np.float64, bright=False):
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


def make_mask(like, box=(30, 60, 30, 70)):
    m = np.zeros(sitk.GetArrayViewFromImage(like).shape, np.uint8)
    r0, r1, c0, c1 = box
    m[r0:r1, c0:c1] = 1
    msk = sitk.GetImageFromArray(m)
    msk.CopyInformation(like)
    return msk


def plain_features(image, mask, params=SHIPPED):
    out = RadiomicsFeatureExtractor(params).execute(image, mask)
    return {k: float(v) for k, v in out.items() if not k.startswith("diagnostics_")}


def assert_same(ours: dict, ref: dict, rtol=1e-12):
    assert list(ours) == list(ref)
    a = np.array([ours[k] for k in ref])
    b = np.array([ref[k] for k in ref])
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0)
