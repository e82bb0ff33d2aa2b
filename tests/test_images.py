"""Tests of radiomics_aln.images: reading images with their spacing, field of view."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from PIL import Image
from roi_helpers import (
    arr,
    blob,
    luma,
    rng_image,
)

from radiomics_aln.exceptions import (
    InputError,
)
from radiomics_aln.images import load_image, load_image_with_fov, spacing_source

pydicom = pytest.importorskip("pydicom")

# ------------------------------------------------------------------------------------------
# load_image round trips
# ------------------------------------------------------------------------------------------


def test_png_gray_round_trip(tmp_path):
    pixels = rng_image()
    Image.fromarray(pixels).save(tmp_path / "g.png")
    image = load_image(tmp_path / "g.png", spacing=(0.1, 0.2))
    assert image.GetPixelID() == sitk.sitkFloat32
    assert image.GetSize() == (40, 30) and image.GetSpacing() == (0.1, 0.2)
    np.testing.assert_array_equal(arr(image), pixels)
    assert spacing_source(image) == "argument"


def test_png_rgb_becomes_bt601_luminance(tmp_path):
    rgb = rng_image(channels=3)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    image = load_image(tmp_path / "c.png", spacing=0.1)
    expected = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    np.testing.assert_allclose(arr(image), expected, atol=1e-4)
    # Matches PIL's convert("L") up to its rounding to integers.
    pil = np.asarray(Image.fromarray(rgb).convert("L"), dtype=float)
    assert np.abs(arr(image) - pil).max() <= 0.5 + 1e-4
    # Grey stays exact.
    grey = np.repeat(rng_image()[..., None], 3, axis=2)
    Image.fromarray(grey).save(tmp_path / "grey_rgb.png")
    np.testing.assert_array_equal(arr(load_image(tmp_path / "grey_rgb.png")), grey[..., 0])


def test_png_rgba_alpha_is_field_of_view(tmp_path):
    rgba = rng_image(channels=4)
    rgba[..., 3] = 255
    rgba[:5, :, 3] = 0
    rgba[5, :3, 3] = 3  # faint but inside: alpha > 0 counts as field of view
    Image.fromarray(rgba).save(tmp_path / "a.png")
    image, fov = load_image_with_fov(tmp_path / "a.png", spacing=0.1)
    assert fov.GetPixelID() == sitk.sitkUInt8 and fov.GetSpacing() == (0.1, 0.1)
    np.testing.assert_array_equal(arr(fov), (rgba[..., 3] > 0).astype(np.uint8))
    expected = luma(rgba)
    np.testing.assert_allclose(arr(image), expected, atol=1e-4)
    # Opaque alpha or no alpha: no FOV mask.
    rgba[..., 3] = 255
    Image.fromarray(rgba).save(tmp_path / "opaque.png")
    assert load_image_with_fov(tmp_path / "opaque.png").fov is None
    assert load_image(tmp_path / "a.png").GetSize() == (40, 30)


def test_png_palette_and_16_bit(tmp_path):
    pal = Image.fromarray(rng_image(channels=3)).convert("P", palette=Image.Palette.ADAPTIVE)
    pal.save(tmp_path / "p.png")
    expected = luma(np.asarray(pal.convert("RGB")))
    np.testing.assert_allclose(arr(load_image(tmp_path / "p.png")), expected, atol=1e-4)
    deep = (np.arange(30 * 40).reshape(30, 40) * 50).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "d16.png")
    np.testing.assert_array_equal(arr(load_image(tmp_path / "d16.png")), deep)


def test_png_dpi_is_not_spacing(tmp_path):
    Image.fromarray(rng_image()).save(tmp_path / "dpi.png", dpi=(300, 300))
    image = load_image(tmp_path / "dpi.png")
    assert image.GetSpacing() == (1.0, 1.0)
    assert spacing_source(image) == "unknown"


def test_jpeg_bmp_tiff_load(tmp_path):
    pixels = rng_image()
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
    vol = sitk.GetImageFromArray(rng_image()[None].astype(np.int16))
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

    pixels = rng_image()
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
    path = write_dicom(tmp_path / "dual.dcm", rng_image(), SequenceOfUltrasoundRegions=regions)
    with pytest.warns(UserWarning, match="largest region's"):
        image = load_image(path)
    np.testing.assert_allclose(image.GetSpacing(), (0.1, 0.1))


def test_dicom_without_us_region_uses_pixel_spacing(tmp_path):
    pixels = rng_image()
    # DICOM PixelSpacing is (row spacing, column spacing) = (y, x).
    image = load_image(write_dicom(tmp_path / "ps.dcm", pixels, PixelSpacing=[0.2, 0.1]))
    np.testing.assert_allclose(image.GetSpacing(), (0.1, 0.2))
    assert spacing_source(image) == "dicom_pixel_spacing"
    bare = load_image(write_dicom(tmp_path / "bare", pixels))  # no extension, DICM preamble
    assert spacing_source(bare) == "unknown"
    assert load_image(tmp_path / "bare", spacing=0.3).GetSpacing() == (0.3, 0.3)


def test_dicom_rgb_and_monochrome1(tmp_path):
    rgb = rng_image(channels=3)
    image = load_image(write_dicom(tmp_path / "rgb.dcm", rgb))
    np.testing.assert_allclose(arr(image), luma(rgb), atol=1e-4)
    pixels = rng_image()
    inv = write_dicom(tmp_path / "m1.dcm", pixels, PhotometricInterpretation="MONOCHROME1")
    np.testing.assert_array_equal(arr(load_image(inv)), 255 - pixels.astype(float))


def test_dicom_multiframe_and_missing_pydicom(tmp_path, monkeypatch):
    frames = np.stack([rng_image(), rng_image(seed=2)])
    path = write_dicom(tmp_path / "cine.dcm", frames.reshape(2, 30, 40), NumberOfFrames=2)
    with pytest.raises(InputError, match=r"cine\.dcm is a multi-frame DICOM \(2 frames"):
        load_image(path)
    single = write_dicom(tmp_path / "one.dcm", rng_image())
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
    Image.fromarray(rng_image((200, 200))).save(tmp_path / "full.png")
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
    Image.fromarray(rng_image()).save(tmp_path / "s.png")
    with pytest.raises(InputError, match=match):
        load_image(tmp_path / "s.png", spacing=spacing)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("0.1", (0.1, 0.1)), ("0.1,0.2", (0.1, 0.2)), ("0.1 0.2", (0.1, 0.2)),
     ("0.1x0.2", (0.1, 0.2)), (0.1, (0.1, 0.1)), ((0.1, 0.2), (0.1, 0.2))],
)  # fmt: skip
def test_one_spacing_parser_for_argument_case_and_manifest(tmp_path, given, expected):
    """load_image(spacing=), Case(spacing=) and a manifest cell read a spacing alike."""
    from radiomics_aln.cases import Case
    from radiomics_aln.images import parse_spacing
    from radiomics_aln.manifest import read_manifest

    Image.fromarray(rng_image()).save(tmp_path / "i.png")
    Image.fromarray(blob(255)).save(tmp_path / "m.png")
    assert parse_spacing(given) == expected
    assert load_image(tmp_path / "i.png", spacing=given).GetSpacing() == expected
    assert Case("1", tmp_path / "i.png", tmp_path / "m.png", spacing=given).spacing == expected
    cell = given if isinstance(given, str) else ",".join(map(str, np.atleast_1d(given)))
    (tmp_path / "m.csv").write_text(
        f'case_id,outcome,tumor_image,tumor_mask,spacing\n1,1,i.png,m.png,"{cell}"\n'
    )
    assert read_manifest(tmp_path / "m.csv")["1"].spacing == expected
