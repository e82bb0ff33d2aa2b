"""Tests of radiomics_aln.params: shipped settings, validation."""

from __future__ import annotations

import pytest
from extraction_helpers import (
    SHIPPED,
    make_image,
    make_mask,
)
from radiomics.featureextractor import RadiomicsFeatureExtractor

from radiomics_aln.exceptions import InputError
from radiomics_aln.params import available_params, load_params, params_path
from radiomics_aln.roi_features import extract_roi_features

# ---------------------------------------------------------------- settings


@pytest.mark.parametrize("name", available_params())
def test_every_shipped_settings_file_validates(name):
    data = load_params(name)
    # PyRadiomics' own loader (schema validation through pykwalify) accepts the file as is.
    extractor = RadiomicsFeatureExtractor(str(params_path(name)))
    assert extractor.settings["force2D"] is False
    assert data["setting"]["resampledPixelSpacing"] == [0.1, 0.1]


def test_shipped_settings_give_846_features_with_per_filter_binning():
    feats, diag = extract_roi_features(make_image(), make_mask(make_image()))
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
    p = load_params("ultrasound_2d")["imageType"]
    assert p["Original"]["binWidth"] == 5 and p["LoG"]["binWidth"] == 1.0
    assert p["Wavelet"]["binCount"] == 32
    assert all(k.startswith("diagnostics_") for k in diag)


def test_params_accepts_name_path_and_dict(tmp_path):
    by_name = load_params("ultrasound_2d")
    assert load_params(SHIPPED) == by_name
    assert load_params(by_name) == by_name
    by_name["setting"]["binWidth"] = 3
    assert load_params("ultrasound_2d")["setting"]["binWidth"] == 5  # deep copies


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
        load_params(params)
