"""Tests of radiomics_aln.roi: image/mask loading, spacing, geometry checks and the ring."""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from radiomics_aln.exceptions import (
    CoverageWarning,
    GeometryError,
    InputError,
    SpacingError,
)
from radiomics_aln.roi import (
    RingCoverage,
    load_image,
    load_mask,
    peritumoral_ring,
    ring_coverage,
    spacing_source,
    tumor_peritumoral_region,
)

pydicom = pytest.importorskip("pydicom")


def arr(image: sitk.Image) -> np.ndarray:
    return sitk.GetArrayFromImage(image)


def luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma, Y = 0.299 R + 0.587 G + 0.114 B."""
    rgb = rgb.astype(float)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def disk_mask(r_mm: float, spacing: tuple[float, float], *, extra_mm: float = 8.0) -> sitk.Image:
    """A disk of radius r_mm centred on a grid reaching extra_mm beyond the 5 mm ring."""
    sx, sy = spacing
    half = r_mm + 5 + extra_mm
    nx, ny = int(round(2 * half / sx)), int(round(2 * half / sy))
    yy, xx = np.mgrid[:ny, :nx]
    x, y = (xx - nx / 2) * sx, (yy - ny / 2) * sy
    mask = sitk.GetImageFromArray((x**2 + y**2 <= r_mm**2).astype(np.uint8))
    mask.SetSpacing(spacing)
    return mask


def brute_force_distance(tumor: np.ndarray, spacing_xy: tuple[float, float]) -> np.ndarray:
    """Distance (mm) of every pixel centre to the nearest tumour pixel centre, by brute force."""
    sx, sy = spacing_xy
    ty, tx = np.nonzero(tumor)
    yy, xx = np.mgrid[: tumor.shape[0], : tumor.shape[1]]
    d2 = ((xx.ravel()[:, None] - tx[None, :]) * sx) ** 2 + (
        (yy.ravel()[:, None] - ty[None, :]) * sy
    ) ** 2
    return np.sqrt(d2.min(axis=1)).reshape(tumor.shape)


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
            ring, cov = peritumoral_ring(mask, width, min_coverage=None, return_coverage=True)
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
        ring_cut, cov = peritumoral_ring(cut, width_mm=5.0, min_coverage=0.9, return_coverage=True)
    full_img = sitk.GetImageFromArray(full)
    full_img.SetSpacing(spacing)
    ring_full, cov_full = peritumoral_ring(full_img, width_mm=5.0, return_coverage=True)
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
        ring, cov = peritumoral_ring(
            mask, width_mm=5.0, within=within, min_coverage=0.99, return_coverage=True
        )
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
    region, cov = tumor_peritumoral_region(
        mask, within=within, min_coverage=None, return_coverage=True
    )
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
    ring, cov = peritumoral_ring(load_mask(png, like=image_px), width_mm=2, return_coverage=True)
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


# ------------------------------------------------------------------------------------------
# load_image round trips
# ------------------------------------------------------------------------------------------


def _rng_image(shape=(30, 40), seed=0, dtype=np.uint8, channels=None):
    rng = np.random.default_rng(seed)
    size = shape + ((channels,) if channels else ())
    return rng.integers(0, 256, size=size).astype(dtype)


def test_png_gray_round_trip(tmp_path):
    pixels = _rng_image()
    Image.fromarray(pixels).save(tmp_path / "g.png")
    image = load_image(tmp_path / "g.png", spacing=(0.1, 0.2))
    assert image.GetPixelID() == sitk.sitkFloat32
    assert image.GetSize() == (40, 30) and image.GetSpacing() == (0.1, 0.2)
    np.testing.assert_array_equal(arr(image), pixels)
    assert spacing_source(image) == "argument"


def test_png_rgb_becomes_bt601_luminance(tmp_path):
    rgb = _rng_image(channels=3)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    image = load_image(tmp_path / "c.png", spacing=0.1)
    expected = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    np.testing.assert_allclose(arr(image), expected, atol=1e-4)
    # Matches PIL's convert("L") up to its rounding to integers.
    pil = np.asarray(Image.fromarray(rgb).convert("L"), dtype=float)
    assert np.abs(arr(image) - pil).max() <= 0.5 + 1e-4
    # Grey stays exact.
    grey = np.repeat(_rng_image()[..., None], 3, axis=2)
    Image.fromarray(grey).save(tmp_path / "grey_rgb.png")
    np.testing.assert_array_equal(arr(load_image(tmp_path / "grey_rgb.png")), grey[..., 0])


def test_png_rgba_alpha_is_field_of_view(tmp_path):
    rgba = _rng_image(channels=4)
    rgba[..., 3] = 255
    rgba[:5, :, 3] = 0
    rgba[5, :3, 3] = 3  # faint but inside: alpha > 0 counts as field of view
    Image.fromarray(rgba).save(tmp_path / "a.png")
    image, fov = load_image(tmp_path / "a.png", spacing=0.1, return_fov=True)
    assert fov.GetPixelID() == sitk.sitkUInt8 and fov.GetSpacing() == (0.1, 0.1)
    np.testing.assert_array_equal(arr(fov), (rgba[..., 3] > 0).astype(np.uint8))
    expected = luma(rgba)
    np.testing.assert_allclose(arr(image), expected, atol=1e-4)
    # Opaque alpha or no alpha: no FOV mask.
    rgba[..., 3] = 255
    Image.fromarray(rgba).save(tmp_path / "opaque.png")
    assert load_image(tmp_path / "opaque.png", return_fov=True)[1] is None
    assert load_image(tmp_path / "a.png", return_fov=False).GetSize() == (40, 30)


def test_png_palette_and_16_bit(tmp_path):
    pal = Image.fromarray(_rng_image(channels=3)).convert("P", palette=Image.Palette.ADAPTIVE)
    pal.save(tmp_path / "p.png")
    expected = luma(np.asarray(pal.convert("RGB")))
    np.testing.assert_allclose(arr(load_image(tmp_path / "p.png")), expected, atol=1e-4)
    deep = (np.arange(30 * 40).reshape(30, 40) * 50).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "d16.png")
    np.testing.assert_array_equal(arr(load_image(tmp_path / "d16.png")), deep)


def test_png_dpi_is_not_spacing(tmp_path):
    Image.fromarray(_rng_image()).save(tmp_path / "dpi.png", dpi=(300, 300))
    image = load_image(tmp_path / "dpi.png")
    assert image.GetSpacing() == (1.0, 1.0)
    assert spacing_source(image) == "unknown"


def test_jpeg_bmp_tiff_load(tmp_path):
    pixels = _rng_image()
    for name in ("x.jpg", "x.bmp", "x.tif"):
        Image.fromarray(pixels).save(tmp_path / name)
        image = load_image(tmp_path / name, spacing=0.05)
        assert image.GetSize() == (40, 30) and image.GetSpacing() == (0.05, 0.05)
        if not name.endswith(".jpg"):  # JPEG is lossy
            np.testing.assert_array_equal(arr(image), pixels)


@pytest.mark.parametrize("suffix", [".nrrd", ".nii.gz", ".mha"])
def test_itk_formats_round_trip_with_header_spacing(tmp_path, suffix):
    pixels = np.random.default_rng(1).normal(size=(30, 40)).astype(np.float64)
    src = sitk.GetImageFromArray(pixels)
    src.SetSpacing((0.1, 0.2))
    src.SetOrigin((3.0, 4.0))
    path = tmp_path / f"img{suffix}"
    sitk.WriteImage(src, str(path))
    image = load_image(path)
    assert image.GetPixelID() == sitk.sitkFloat32
    np.testing.assert_allclose(image.GetSpacing(), (0.1, 0.2), rtol=1e-6)
    np.testing.assert_allclose(image.GetOrigin(), (3.0, 4.0), rtol=1e-6)
    np.testing.assert_allclose(arr(image), pixels, rtol=1e-6)
    assert spacing_source(image) == "header"


def test_itk_single_slice_volume_becomes_2d(tmp_path):
    vol = sitk.GetImageFromArray(_rng_image()[None].astype(np.int16))
    vol.SetSpacing((0.1, 0.2, 1.0))
    sitk.WriteImage(vol, str(tmp_path / "snap.nii.gz"))
    image = load_image(tmp_path / "snap.nii.gz")
    assert image.GetDimension() == 2 and image.GetSize() == (40, 30)
    np.testing.assert_allclose(image.GetSpacing(), (0.1, 0.2), rtol=1e-6)


def test_spacing_argument_overrides_header_with_warning(tmp_path):
    src = sitk.GetImageFromArray(np.zeros((5, 5), dtype=np.float32))
    src.SetSpacing((0.3, 0.3))
    sitk.WriteImage(src, str(tmp_path / "s.nrrd"))
    with pytest.warns(UserWarning, match=r"overrides the file's own spacing \(0.3, 0.3\)"):
        image = load_image(tmp_path / "s.nrrd", spacing=0.1)
    assert image.GetSpacing() == (0.1, 0.1) and spacing_source(image) == "argument"


def write_dicom(path: Path, pixels: np.ndarray, **attrs) -> Path:
    """A minimal single-frame ultrasound DICOM written with pydicom."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"  # US Image Storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.Rows, ds.Columns = pixels.shape[:2]
    rgb = pixels.ndim == 3
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = "RGB" if rgb else "MONOCHROME2"
    if rgb:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = pixels.dtype.itemsize * 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def us_region(dx_cm: float, dy_cm: float, box=(0, 0, 39, 29), units=3) -> object:
    from pydicom.dataset import Dataset

    region = Dataset()
    region.RegionSpatialFormat = 1
    region.RegionDataType = 1
    region.PhysicalUnitsXDirection = units
    region.PhysicalUnitsYDirection = units
    region.PhysicalDeltaX = dx_cm
    region.PhysicalDeltaY = dy_cm
    (
        region.RegionLocationMinX0,
        region.RegionLocationMinY0,
        region.RegionLocationMaxX1,
        region.RegionLocationMaxY1,
    ) = box
    return region


def test_dicom_with_us_region_calibration(tmp_path):
    from pydicom.sequence import Sequence

    pixels = _rng_image()
    path = write_dicom(
        tmp_path / "us.dcm",
        pixels,
        SequenceOfUltrasoundRegions=Sequence([us_region(0.01, 0.02)]),
        PixelSpacing=[0.5, 0.5],  # ignored: the region calibration wins
    )
    image = load_image(path)
    np.testing.assert_allclose(image.GetSpacing(), (0.1, 0.2))  # cm -> mm, (x, y)
    np.testing.assert_array_equal(arr(image), pixels)
    assert spacing_source(image) == "dicom_us_region"
    # Non-length units (e.g. Doppler seconds, code 4) are not spatial calibration.
    path2 = write_dicom(
        tmp_path / "doppler.dcm",
        pixels,
        SequenceOfUltrasoundRegions=Sequence([us_region(0.01, 0.02, units=4)]),
    )
    assert spacing_source(load_image(path2)) == "unknown"


def test_dicom_regions_with_different_calibrations_warn(tmp_path):
    from pydicom.sequence import Sequence

    regions = Sequence(
        [us_region(0.01, 0.01, (0, 0, 19, 29)), us_region(0.02, 0.02, (20, 0, 39, 9))]
    )
    path = write_dicom(tmp_path / "dual.dcm", _rng_image(), SequenceOfUltrasoundRegions=regions)
    with pytest.warns(UserWarning, match="largest region's"):
        image = load_image(path)
    np.testing.assert_allclose(image.GetSpacing(), (0.1, 0.1))


def test_dicom_without_us_region_uses_pixel_spacing(tmp_path):
    pixels = _rng_image()
    # DICOM PixelSpacing is (row spacing, column spacing) = (y, x).
    image = load_image(write_dicom(tmp_path / "ps.dcm", pixels, PixelSpacing=[0.2, 0.1]))
    np.testing.assert_allclose(image.GetSpacing(), (0.1, 0.2))
    assert spacing_source(image) == "dicom_pixel_spacing"
    bare = load_image(write_dicom(tmp_path / "bare", pixels))  # no extension, DICM preamble
    assert spacing_source(bare) == "unknown"
    assert load_image(tmp_path / "bare", spacing=0.3).GetSpacing() == (0.3, 0.3)


def test_dicom_rgb_and_monochrome1(tmp_path):
    rgb = _rng_image(channels=3)
    image = load_image(write_dicom(tmp_path / "rgb.dcm", rgb))
    np.testing.assert_allclose(arr(image), luma(rgb), atol=1e-4)
    pixels = _rng_image()
    inv = write_dicom(tmp_path / "m1.dcm", pixels, PhotometricInterpretation="MONOCHROME1")
    np.testing.assert_array_equal(arr(load_image(inv)), 255 - pixels.astype(float))


def test_dicom_multiframe_and_missing_pydicom(tmp_path, monkeypatch):
    frames = np.stack([_rng_image(), _rng_image(seed=2)])
    path = write_dicom(tmp_path / "cine.dcm", frames.reshape(2, 30, 40), NumberOfFrames=2)
    with pytest.raises(InputError, match=r"cine\.dcm is a multi-frame DICOM \(2 frames"):
        load_image(path)
    single = write_dicom(tmp_path / "one.dcm", _rng_image())
    monkeypatch.setitem(sys.modules, "pydicom", None)
    with pytest.raises(InputError, match=r"one\.dcm needs pydicom.*pip install"):
        load_image(single)


# ------------------------------------------------------------------------------------------
# bad images
# ------------------------------------------------------------------------------------------


def test_missing_and_corrupt_images(tmp_path):
    with pytest.raises(InputError, match=r"image file not found: .*nope\.png"):
        load_image(tmp_path / "nope.png")
    (tmp_path / "junk.png").write_bytes(b"this is not a png at all")
    with pytest.raises(InputError, match=r"cannot read image file .*junk\.png.*not a valid PNG"):
        load_image(tmp_path / "junk.png")
    Image.fromarray(_rng_image((200, 200))).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"trunc\.png"):
        load_image(tmp_path / "trunc.png")
    (tmp_path / "bad.nrrd").write_bytes(b"NRRD0004\ntype: garbage\n\n")
    with pytest.raises(InputError, match=r"cannot read image file .*bad\.nrrd"):
        load_image(tmp_path / "bad.nrrd")
    (tmp_path / "bad.dcm").write_bytes(b"\0" * 10)
    with pytest.raises(InputError, match=r"cannot read .*bad\.dcm as DICOM"):
        load_image(tmp_path / "bad.dcm")
    (tmp_path / "x.xyz").write_bytes(b"123")
    with pytest.raises(InputError, match=r"x\.xyz: unknown image format \.xyz"):
        load_image(tmp_path / "x.xyz")
    with pytest.raises(InputError, match="is a folder"):
        load_image(tmp_path)


def test_non_finite_pixels(tmp_path):
    pixels = np.ones((10, 12), dtype=np.float32)
    pixels[2, 3] = np.nan
    pixels[4, 5] = np.inf
    sitk.WriteImage(sitk.GetImageFromArray(pixels), str(tmp_path / "nan.nrrd"))
    with pytest.raises(InputError, match=r"nan\.nrrd has 2 non-finite pixel value"):
        load_image(tmp_path / "nan.nrrd")


@pytest.mark.parametrize(
    ("spacing", "match"),
    [
        (-0.1, "must be positive finite"),
        ((0.1, 0.2, 0.3), "has 3 values but the image has 2 axes"),
        ("mm", "is not understood"),
        (float("nan"), "must be positive finite"),
    ],
)
def test_bad_spacing_argument(tmp_path, spacing, match):
    Image.fromarray(_rng_image()).save(tmp_path / "s.png")
    with pytest.raises(InputError, match=match):
        load_image(tmp_path / "s.png", spacing=spacing)


# ------------------------------------------------------------------------------------------
# masks
# ------------------------------------------------------------------------------------------


@pytest.fixture
def image_png(tmp_path):
    Image.fromarray(_rng_image()).save(tmp_path / "img.png")
    return load_image(tmp_path / "img.png", spacing=0.2)


def _save(tmp_path, name, values):
    Image.fromarray(values).save(tmp_path / name)
    return tmp_path / name


def _blob(value=1, shape=(30, 40)):
    m = np.zeros(shape, dtype=np.uint8)
    m[10:20, 5:15] = value
    return m


@pytest.mark.parametrize("value", [1, 255, 7])
def test_binary_masks_any_single_value(tmp_path, image_png, value):
    mask = load_mask(_save(tmp_path, "m.png", _blob(value)), like=image_png)
    assert mask.GetPixelID() == sitk.sitkUInt8
    np.testing.assert_array_equal(arr(mask), _blob(1))
    assert mask.GetSpacing() == (0.2, 0.2) and spacing_source(mask) == "argument"


def test_rgba_mask_like_breast(tmp_path, image_png):
    m = _blob(255)
    rgba = np.stack([m, m, m, m], axis=-1)
    rgba[0, 0, 3] = 75  # stray alpha, RGB still 0 (as in BrEaST case010)
    mask = load_mask(_save(tmp_path, "m.png", rgba), like=image_png)
    np.testing.assert_array_equal(arr(mask), _blob(1))


def test_colour_masks(tmp_path, image_png):
    red = np.zeros((30, 40, 3), dtype=np.uint8)
    red[10:20, 5:15] = (255, 0, 0)
    np.testing.assert_array_equal(
        arr(load_mask(_save(tmp_path, "red.png", red), like=image_png)), _blob(1)
    )
    red[0:5, 30:35] = (0, 255, 0)
    path = _save(tmp_path, "two.png", red)
    with pytest.raises(InputError, match=r"two\.png is a colour image with 2 colours"):
        load_mask(path, like=image_png)
    green = arr(load_mask(path, like=image_png, label=(0, 255, 0)))
    assert green.sum() == 25 and green[0:5, 30:35].all()
    alpha_only = np.zeros((30, 40, 4), dtype=np.uint8)
    alpha_only[..., 3] = _blob(255)
    got = arr(load_mask(_save(tmp_path, "alpha.png", alpha_only), like=image_png))
    np.testing.assert_array_equal(got, _blob(1))


def test_label_maps(tmp_path, image_png):
    labels = _blob(1)
    labels[22:28, 20:30] = 2
    labels[0:3, 0:3] = 3
    path = _save(tmp_path, "labels.png", labels)
    with pytest.raises(InputError, match=r"labels\.png has 3 labels \(1, 2, 3\).*label="):
        load_mask(path, like=image_png)
    np.testing.assert_array_equal(arr(load_mask(path, like=image_png, label=2)), labels == 2)
    both = arr(load_mask(path, like=image_png, label=[1, 2]))
    np.testing.assert_array_equal(both, np.isin(labels, [1, 2]))
    # On a grey label map a 3-tuple is a list of labels, not a colour.
    three = arr(load_mask(path, like=image_png, label=(1, 2, 3)))
    np.testing.assert_array_equal(three, labels > 0)
    boolean = arr(load_mask(labels == 2, like=image_png))  # boolean arrays are foregrounds
    np.testing.assert_array_equal(boolean, labels == 2)
    with pytest.raises(
        InputError, match=r"labels\.png has no pixels with label 5; its labels are 1, 2, 3"
    ):
        load_mask(path, like=image_png, label=5)
    with pytest.raises(InputError, match=r"has no pixels with label 1; its labels are 255"):
        load_mask(_save(tmp_path, "m255.png", _blob(255)), like=image_png, label=1)


def test_itksnap_style_nifti_label_map(tmp_path):
    """ITK-SNAP saves a 2D segmentation as a 3D one-slice NIfTI label map."""
    src = sitk.GetImageFromArray(_rng_image().astype(np.int16)[None])
    src.SetSpacing((0.1, 0.2, 1.0))
    sitk.WriteImage(src, str(tmp_path / "img.nii.gz"))
    labels = np.zeros((1, 30, 40), dtype=np.uint16)
    labels[0, 5:10, 5:10] = 1
    labels[0, 20:25, 20:30] = 2
    seg = sitk.GetImageFromArray(labels)
    seg.SetSpacing((0.1, 0.2, 1.0))
    sitk.WriteImage(seg, str(tmp_path / "seg.nii.gz"))
    image = load_image(tmp_path / "img.nii.gz")
    mask = load_mask(tmp_path / "seg.nii.gz", like=image, label=2)
    assert mask.GetDimension() == 2
    np.testing.assert_array_equal(arr(mask), labels[0] == 2)


def test_several_mask_files_union_largest_and_min_area(tmp_path, image_png):
    a = _blob(255)
    b = np.zeros_like(a)
    b[22:28, 20:36] = 255  # 96 px
    c = np.zeros_like(a)
    c[0, 39] = 255  # a speck of 1 px = 0.04 mm2
    pa, pb, pc = (_save(tmp_path, n, v) for n, v in (("a.png", a), ("b.png", b), ("c.png", c)))
    union = arr(load_mask([pa, pb, pc], like=image_png))
    np.testing.assert_array_equal(union, ((a | b | c) > 0).astype(np.uint8))
    joined = arr(load_mask(f"{pa}; {pb};{pc}", like=image_png))  # manifest style
    np.testing.assert_array_equal(joined, union)
    largest = arr(load_mask([pa, pb, pc], like=image_png, combine="largest"))
    np.testing.assert_array_equal(largest, a > 0)  # 100 px beats 96 px
    no_speck = arr(load_mask([pa, pb, pc], like=image_png, min_area_mm2=0.1))
    np.testing.assert_array_equal(no_speck, ((a | b) > 0).astype(np.uint8))
    with pytest.raises(InputError, match=r"every connected component is smaller"):
        load_mask(pc, like=image_png, min_area_mm2=1.0)
    with pytest.raises(InputError, match="combine='both'"):
        load_mask(pa, like=image_png, combine="both")


def test_mask_errors_name_files(tmp_path, image_png):
    with pytest.raises(InputError, match=r"mask file not found: .*gone\.png"):
        load_mask(tmp_path / "gone.png", like=image_png)
    with pytest.raises(InputError, match=r"empty\.png is empty \(no foreground pixels\)"):
        load_mask(_save(tmp_path, "empty.png", np.zeros((30, 40), np.uint8)), like=image_png)
    small = _save(tmp_path, "small.png", np.ones((20, 40), np.uint8))
    with pytest.raises(
        GeometryError, match=r"small\.png is 40x20 pixels \(x, y\) but image .*img\.png is 40x30"
    ):
        load_mask(small, like=image_png)
    transposed = _save(tmp_path, "t.png", np.ones((40, 30), np.uint8))
    with pytest.raises(GeometryError, match="looks transposed"):
        load_mask(transposed, like=image_png)
    (tmp_path / "junk.png").write_bytes(b"garbage")
    with pytest.raises(InputError, match=r"junk\.png"):
        load_mask(tmp_path / "junk.png", like=image_png)
    with pytest.raises(InputError, match="like= must be the SimpleITK image"):
        load_mask(small, like=np.zeros((30, 40)))


def test_mask_non_finite_and_non_integer_values(tmp_path):
    ref = sitk.GetImageFromArray(np.zeros((10, 10), dtype=np.float32))
    sitk.WriteImage(ref, str(tmp_path / "img.nrrd"))
    image = load_image(tmp_path / "img.nrrd")
    soft = np.zeros((10, 10), dtype=np.float32)
    soft[2:5, 2:5] = 0.7
    sitk.WriteImage(sitk.GetImageFromArray(soft), str(tmp_path / "soft.nrrd"))
    with pytest.raises(InputError, match=r"soft\.nrrd has non-integer values \(e\.g\. 0\.7\)"):
        load_mask(tmp_path / "soft.nrrd", like=image)
    soft[0, 0] = np.nan
    sitk.WriteImage(sitk.GetImageFromArray(soft), str(tmp_path / "nan.nrrd"))
    with pytest.raises(InputError, match=r"nan\.nrrd has 1 non-finite value"):
        load_mask(tmp_path / "nan.nrrd", like=image)


def test_mask_spacing_and_origin_checked_against_image(tmp_path):
    pixels = np.zeros((10, 12), dtype=np.float32)
    src = sitk.GetImageFromArray(pixels)
    src.SetSpacing((0.1, 0.2))
    sitk.WriteImage(src, str(tmp_path / "img.nrrd"))
    image = load_image(tmp_path / "img.nrrd")
    m = np.zeros((10, 12), dtype=np.uint8)
    m[3:6, 3:6] = 1
    bad = sitk.GetImageFromArray(m)
    bad.SetSpacing((0.2, 0.1))
    sitk.WriteImage(bad, str(tmp_path / "spacing.nrrd"))
    with pytest.raises(
        GeometryError,
        match=r"spacing\.nrrd and image .*img\.nrrd are on different grids: mask vs image "
        r"spacing \(0\.2, 0\.1\) vs \(0\.1, 0\.2\).*check_geometry='size'",
    ):
        load_mask(tmp_path / "spacing.nrrd", like=image)
    moved = sitk.GetImageFromArray(m)
    moved.SetSpacing((0.1, 0.2))
    moved.SetOrigin((5.0, 0.0))
    sitk.WriteImage(moved, str(tmp_path / "origin.nrrd"))
    with pytest.raises(GeometryError, match=r"origin\.nrrd .* origin \(5, 0\) vs \(0, 0\)"):
        load_mask(tmp_path / "origin.nrrd", like=image)
    # Overridden on purpose: the mask takes the image's grid.
    mask = load_mask(tmp_path / "origin.nrrd", like=image, check_geometry="size")
    assert mask.GetOrigin() == image.GetOrigin()
    # A PNG mask carries no geometry: only its size is checked.
    Image.fromarray(m * 255).save(tmp_path / "m.png")
    assert load_mask(tmp_path / "m.png", like=image).GetSpacing() == (0.1, 0.2)


# ------------------------------------------------------------------------------------------
# committed BrEaST cases (run everywhere)
# ------------------------------------------------------------------------------------------

BREAST_CASES = ["case001", "case010", "case092", "case101", "case175"]


@pytest.fixture(scope="module")
def breast_table(test_data_dir):
    return pd.read_csv(test_data_dir / "breast" / "clinical-data.csv", dtype=str).set_index(
        "Image_filename"
    )


def _breast_spacing(table, case):
    return float(table.loc[f"{case}.png", "Pixel_size"]) * 10.0  # cm -> mm


@pytest.mark.parametrize("case", BREAST_CASES)
def test_committed_breast_cases(test_data_dir, breast_table, case):
    folder = test_data_dir / "breast"
    spacing = _breast_spacing(breast_table, case)
    image, fov = load_image(folder / f"{case}.png", spacing=spacing, return_fov=True)
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
    ring, cov = peritumoral_ring(mask, 5.0, within=fov, return_coverage=True, min_coverage=None)
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
    _, fov = load_image(folder / "case101.png", spacing=0.078125, return_fov=True)
    assert int(arr(fov).sum()) == int((alpha > 0).sum())
    # case010: two alpha pixels of 75 in the mask do not change it.
    raw = np.asarray(Image.open(folder / "case010_tumor.png"))
    assert (raw[..., 3] == 75).sum() == 2
    image = load_image(folder / "case010.png", spacing=_breast_spacing(breast_table, "case010"))
    np.testing.assert_array_equal(
        arr(load_mask(folder / "case010_tumor.png", like=image)), raw[..., 0] > 0
    )
    # case092: a second lesion in its own file; union of both masks = both lesions.
    image = load_image(folder / "case092.png", spacing=_breast_spacing(breast_table, "case092"))
    tumor = arr(load_mask(folder / "case092_tumor.png", like=image))
    other = arr(load_mask(folder / "case092_other1.png", like=image))
    assert not np.any(tumor & other)
    both = arr(load_mask([folder / "case092_tumor.png", folder / "case092_other1.png"], like=image))
    np.testing.assert_array_equal(both, tumor | other)
    # case175: the ring is cut by the top edge and again by the transparent field of view.
    image, fov = load_image(
        folder / "case175.png", spacing=_breast_spacing(breast_table, "case175"), return_fov=True
    )
    mask = load_mask(folder / "case175_tumor.png", like=image)
    with pytest.warns(CoverageWarning, match=r"case175_tumor\.png keeps only 61%"):
        _, cov = peritumoral_ring(mask, within=fov, min_coverage=0.7, return_coverage=True)
    assert cov.coverage < cov.coverage_image < 1.0
    assert cov.coverage == pytest.approx(0.606, abs=0.002)
    # case001: opaque, bluish tint, lesion 0.3 mm below the top edge.
    rgb = np.asarray(Image.open(folder / "case001.png"))[..., :3].astype(int)
    assert (rgb[..., 2] != rgb[..., 0]).any()
    image = load_image(folder / "case001.png", spacing=_breast_spacing(breast_table, "case001"))
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
        image, fov = load_image(folder / row["Image_filename"], spacing=spacing, return_fov=True)
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
                ring, cov = peritumoral_ring(
                    mask, 5.0, within=fov, min_coverage=None, return_coverage=True
                )
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
    from radiomics_aln.cohort import Case
    from radiomics_aln.roi import CaseROIs, load_case_rois

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
        spacing=_breast_spacing(breast_table, "case175"),
        ln_spacing=_breast_spacing(breast_table, "case010"),
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
    from radiomics_aln.cohort import Case
    from radiomics_aln.roi import load_case_rois

    Image.fromarray(_rng_image()).save(tmp_path / "i.png")
    Image.fromarray(_blob(255)).save(tmp_path / "m.png")
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


def test_plot_rois_draws_on_given_axes(test_data_dir, breast_table):
    import matplotlib.pyplot as plt

    from radiomics_aln.roi import plot_rois

    folder = test_data_dir / "breast"
    image, fov = load_image(
        folder / "case175.png", spacing=_breast_spacing(breast_table, "case175"), return_fov=True
    )
    tumor = load_mask(folder / "case175_tumor.png", like=image)
    ring = peritumoral_ring(tumor, within=fov, min_coverage=None)
    fig, ax = plt.subplots()
    out = plot_rois(image, {"fov": fov, "tumor": tumor, "peritumoral": ring}, ax=ax, title="x")
    assert out is ax and ax.get_title() == "x"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["fov", "tumor", "peritumoral"]
    x0, x1 = ax.get_xlim()
    assert x1 - x0 == pytest.approx(image.GetSize()[0] * image.GetSpacing()[0], rel=1e-6)


def test_plot_rois_colour_blind_safe_and_tumour_outline_on_top():
    # the ring's inner edge is the tumour's outline: drawn later, it used to hide the tumour;
    # red/green (tumour vs tumour+ring) is not readable with deuteranopia
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from radiomics_aln.roi import plot_rois

    img = sitk.GetImageFromArray(np.random.default_rng(0).random((80, 100)))
    img.SetSpacing((0.2, 0.2))
    arr = np.zeros((80, 100), np.uint8)
    arr[30:50, 40:60] = 1
    tumor = sitk.GetImageFromArray(arr)
    tumor.CopyInformation(img)
    ring = peritumoral_ring(tumor, 2.0)
    rois = {"tumor": tumor, "peritumoral": ring, "tumor_peritumoral": tumor | ring}
    fig, ax = plt.subplots()
    plot_rois(img, rois, ax=ax)
    legend = {
        t.get_text(): to_hex(h.get_color())
        for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)
    }
    assert legend == {
        "tumor": "#d55e00",
        "peritumoral": "#f0e442",
        "tumor_peritumoral": "#56b4e9",
    }
    # the last artist drawn is the tumour's outline, the thinnest line
    last = ax.collections[-1]
    assert to_hex(last.get_edgecolor()[0]) == "#d55e00"
    widths = [float(c.get_linewidth()[0]) for c in ax.collections[-3:]]
    assert widths == sorted(widths, reverse=True)
