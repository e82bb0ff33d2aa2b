"""Tests of radiomics_aln.ring: the peritumoral ring as a distance map in mm, coverage."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import SimpleITK as sitk
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from roi_helpers import (
    arr,
    brute_force_distance,
    disk_mask,
)

from radiomics_aln.exceptions import (
    CoverageWarning,
    GeometryError,
    InputError,
    SpacingError,
)
from radiomics_aln.images import load_image, spacing_source
from radiomics_aln.masks import load_mask
from radiomics_aln.ring import (
    peritumoral_ring,
    ring_coverage,
    ring_rois,
    tumor_peritumoral_region,
)

# ------------------------------------------------------------------------------------------
# ring geometry
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spacing", [(0.1, 0.1), (0.1, 0.2), (0.2, 0.1), (0.3, 0.3)])
@pytest.mark.parametrize("r_mm", [2.0, 8.0, 15.0])
def test_ring_area_matches_analytic_annulus(r_mm, spacing):
    cov = ring_coverage(disk_mask(r_mm, spacing), width_mm=5.0)
    analytic = np.pi * ((r_mm + 5) ** 2 - r_mm**2)
    # Pixel-scale tolerance: one (largest) pixel width times the mean of the two perimeters.
    tol = np.pi * (2 * r_mm + 5) * max(spacing)
    assert abs(cov.area - analytic) <= tol
    assert cov.unit == "mm"
    assert cov.coverage == 1.0 and cov.n_pixels == cov.n_pixels_unclipped


def test_ring_is_disjoint_from_tumour_and_exact_under_anisotropy():
    spacing = (0.25, 0.6)  # strongly anisotropic: a pixel-rounded dilation would get this wrong
    tumor = np.zeros((40, 70), dtype=np.uint8)
    tumor[18:23, 25:33] = 1
    tumor[15:18, 28:30] = 1
    mask = sitk.GetImageFromArray(tumor)
    mask.SetSpacing(spacing)
    ring = arr(peritumoral_ring(mask, width_mm=3.0))
    assert not np.any(ring & tumor)
    d = brute_force_distance(tumor, spacing)
    expected = (d > 0) & (d <= 3.0)
    np.testing.assert_array_equal(ring.astype(bool), expected)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    sx=st.floats(0.05, 1.0),
    sy=st.floats(0.05, 1.0),
    width=st.floats(0.3, 4.0),
    edge=st.booleans(),
)
def test_ring_equals_brute_force_definition(seed, sx, sy, width, edge):
    """Any blob, any anisotropic spacing, with or without touching the edge: exact definition."""
    rng = np.random.default_rng(seed)
    tumor = np.zeros((24, 30), dtype=np.uint8)
    r0, c0 = (0, 0) if edge else (8, 10)
    tumor[r0 : r0 + 6, c0 : c0 + 7] = rng.random((6, 7)) < 0.6
    tumor[r0 + 2, c0 + 3] = 1
    mask = sitk.GetImageFromArray(tumor)
    mask.SetSpacing((sx, sy))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # narrow-ring and coverage warnings are not tested here
        try:
            rois = ring_rois(mask, width_mm=width, min_coverage=None)
            ring, cov = rois.ring, rois.coverage
        except InputError as exc:  # a ring narrower than every pixel has no pixel
            assert "has no pixel" in str(exc)
            assert width < min(sx, sy)
            return
    d = brute_force_distance(tumor, (sx, sy))
    # (0, w] with w closed up to rounding: 6 x 0.05 mm is 0.30000000000000004 in floating point
    # and belongs to a 0.3 mm ring.
    expected = (d > 0) & (d <= width * (1 + 1e-9))
    np.testing.assert_array_equal(arr(ring).astype(bool), expected)
    assert cov.n_pixels == expected.sum() and cov.n_pixels <= cov.n_pixels_unclipped
    assert cov.area == pytest.approx(expected.sum() * sx * sy)


def test_ring_output_geometry_and_values():
    mask = disk_mask(3.0, (0.1, 0.2))
    mask.SetOrigin((5.0, -2.0))
    ring = peritumoral_ring(mask)
    assert ring.GetPixelID() == sitk.sitkUInt8
    assert ring.GetSize() == mask.GetSize()
    assert ring.GetSpacing() == mask.GetSpacing()
    assert ring.GetOrigin() == mask.GetOrigin()
    assert set(np.unique(arr(ring))) == {0, 1}


def test_ring_clipped_at_image_edge_reports_coverage():
    spacing = (0.2, 0.2)
    full = arr(disk_mask(4.0, spacing))
    ny, nx = full.shape
    centre_row = ny // 2
    # Cut the grid 1 mm (5 px) above the disk's top: most of the upper ring is lost.
    top = centre_row - int(round(5.0 / 0.2))
    cut = sitk.GetImageFromArray(full[top:].copy())
    cut.SetSpacing(spacing)
    with pytest.warns(CoverageWarning, match=r"keeps only \d+% .*min_coverage=0.9"):
        cut_rois = ring_rois(cut, width_mm=5.0, min_coverage=0.9)
    ring_cut, cov = cut_rois.ring, cut_rois.coverage
    full_img = sitk.GetImageFromArray(full)
    full_img.SetSpacing(spacing)
    full_rois = ring_rois(full_img, width_mm=5.0)
    ring_full, cov_full = full_rois.ring, full_rois.coverage
    assert cov_full.coverage == 1.0
    # The clipped ring is the full ring cropped, and the unclipped ring computed on the padded
    # grid is exactly the ring of the uncut image.
    np.testing.assert_array_equal(arr(ring_cut), arr(ring_full)[top:])
    assert cov.n_pixels_unclipped == cov_full.n_pixels
    assert cov.n_pixels == cov.n_pixels_in_image == int(arr(ring_full)[top:].sum())
    assert cov.coverage == pytest.approx(cov.n_pixels / cov_full.n_pixels)
    assert cov.coverage == cov.coverage_image < 0.9
    assert cov.area == pytest.approx(cov.n_pixels * 0.04)


def test_ring_clipped_by_within_mask():
    mask = disk_mask(4.0, (0.2, 0.2))
    ny, nx = arr(mask).shape
    fov = np.ones((ny, nx), dtype=np.uint8)
    fov[:, nx // 2 + 10 :] = 0  # right part outside the field of view
    within = sitk.GetImageFromArray(fov)
    within.CopyInformation(mask)
    with pytest.warns(CoverageWarning):
        rois = ring_rois(mask, width_mm=5.0, within=within, min_coverage=0.99)
    ring, cov = rois.ring, rois.coverage
    r = arr(ring)
    unclipped = arr(peritumoral_ring(mask))
    assert not np.any(r & (fov == 0))
    np.testing.assert_array_equal(r, unclipped & fov)
    assert cov.coverage_image == 1.0
    assert cov.coverage == pytest.approx(r.sum() / unclipped.sum())
    assert 0.3 < cov.coverage < 0.99
    # No warning when disabled, and none at the default threshold for this mild clipping.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        peritumoral_ring(mask, within=within, min_coverage=None)
        peritumoral_ring(mask, within=within)


def test_tumor_peritumoral_region_is_union_and_tumour_not_clipped():
    mask = disk_mask(3.0, (0.2, 0.2))
    tumor = arr(mask)
    within = sitk.GetImageFromArray(np.zeros_like(tumor))  # empty FOV: the ring vanishes
    within.CopyInformation(mask)
    rois = ring_rois(mask, within=within, min_coverage=None)
    region, cov = rois.region, rois.coverage
    np.testing.assert_array_equal(arr(region), tumor)
    assert cov.n_pixels == 0 and cov.coverage == 0.0
    region = arr(tumor_peritumoral_region(mask))
    np.testing.assert_array_equal(region, tumor | arr(peritumoral_ring(mask)))


def test_ring_in_3d_matches_spherical_shell():
    spacing = (0.5, 0.5, 1.0)
    n = (60, 60, 30)
    zz, yy, xx = np.mgrid[: n[2], : n[1], : n[0]]
    x, y, z = (xx - 30) * 0.5, (yy - 30) * 0.5, (zz - 15) * 1.0
    mask = sitk.GetImageFromArray((x**2 + y**2 + z**2 <= 16).astype(np.uint8))  # r = 4 mm
    mask.SetSpacing(spacing)
    cov = ring_coverage(mask, width_mm=5.0)
    shell = 4 / 3 * np.pi * (9**3 - 4**3)
    assert cov.coverage == 1.0  # the 9 mm shell fits in the 30 mm cube
    # Voxel-scale tolerance: the largest voxel side times the mean of the two sphere surfaces.
    assert abs(cov.area - shell) <= 4 * np.pi * (9**2 + 4**2) / 2 * 1.0


def test_ring_requires_known_spacing(tmp_path):
    png = tmp_path / "lesion.png"
    pixels = np.zeros((50, 50), dtype=np.uint8)
    pixels[20:30, 20:30] = 255
    Image.fromarray(pixels).save(png)
    image = load_image(png)
    assert spacing_source(image) == "unknown"
    mask = load_mask(png, like=image)
    with pytest.raises(SpacingError, match=r"5 mm ring width.*lesion\.png.*spacing="):
        peritumoral_ring(mask)
    with pytest.raises(SpacingError, match="lesion.png"):
        load_mask(png, like=image, min_area_mm2=1.0)
    # Opting into pixel units explicitly.
    image_px = load_image(png, spacing="pixel")
    rois = ring_rois(load_mask(png, like=image_px), width_mm=2)
    ring, cov = rois.ring, rois.coverage
    assert cov.unit == "pixel" and spacing_source(ring) == "pixel"
    assert cov.n_pixels == 4 * 2 * 10 + 4  # sides plus one diagonal pixel per corner


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width_mm": 0}, "width_mm=0 must be a positive"),
        ({"width_mm": float("nan")}, "width_mm=nan"),
        ({"min_coverage": 1.5}, r"min_coverage=1.5 must be in \[0, 1\]"),
    ],
)
def test_ring_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        peritumoral_ring(disk_mask(2.0, (0.2, 0.2)), **kwargs)


def test_ring_bad_masks():
    empty = sitk.GetImageFromArray(np.zeros((20, 20), dtype=np.uint8))
    empty.SetSpacing((0.1, 0.1))
    with pytest.raises(InputError, match="is empty: no tumour"):
        peritumoral_ring(empty)
    labels = sitk.GetImageFromArray(np.array([[0, 1], [2, 0]], dtype=np.uint8))
    with pytest.raises(InputError, match=r"must be binary \(0/1\) but has values 0, 1, 2"):
        peritumoral_ring(labels)
    with pytest.raises(InputError, match="must be a SimpleITK mask image"):
        peritumoral_ring(np.ones((3, 3)))
    mask = disk_mask(2.0, (0.2, 0.2))
    other = sitk.GetImageFromArray(np.ones((10, 10), dtype=np.uint8))
    with pytest.raises(GeometryError, match=r"within mask .* different grids: size"):
        peritumoral_ring(mask, within=other)
    shifted = sitk.GetImageFromArray(np.ones(arr(mask).shape, dtype=np.uint8))
    shifted.CopyInformation(mask)
    shifted.SetOrigin((1.0, 0.0))
    with pytest.raises(GeometryError, match="origin"):
        peritumoral_ring(mask, within=shifted)


def test_default_spacing_of_in_memory_image_warns():
    tumor = np.zeros((40, 40), dtype=np.uint8)
    tumor[15:25, 15:25] = 1
    with pytest.warns(UserWarning, match="has spacing 1 mm per pixel, SimpleITK's default"):
        peritumoral_ring(sitk.GetImageFromArray(tumor), width_mm=3.0)


def test_narrow_ring_warns_and_empty_ring_raises():
    with pytest.warns(UserWarning, match="narrower than one pixel"):
        cov = ring_coverage(disk_mask(2.0, (0.5, 1.0)), width_mm=0.8)
    assert cov.n_pixels > 0
    with (
        pytest.warns(UserWarning, match="narrower than one pixel"),
        pytest.raises(InputError, match=r"0\.3 mm ring .* has no pixel"),
    ):
        peritumoral_ring(disk_mask(2.0, (0.5, 0.5)), width_mm=0.3)
