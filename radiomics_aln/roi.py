"""Regions of interest on ultrasound images: loading, masks and the peritumoral ring.

The functions here turn files into SimpleITK images whose pixel spacing is in millimetres and
build the ROIs that the rest of the pipeline measures:

- ``tumor``: the tumour mask (:func:`load_mask`);
- ``peritumoral``: the ring of tissue within ``width_mm`` (default 5 mm) of the tumour,
  outside it (:func:`peritumoral_ring`);
- ``tumor_peritumoral``: tumour and ring together (:func:`tumor_peritumoral_region`);
- ``ln``: the lymph-node mask on its own image (:func:`load_mask` with the LN image).

Conventions
-----------
Spacing is in mm per pixel and always in SimpleITK order: ``(x, y)`` = ``(columns, rows)``
(``(x, y, z)`` in 3D). NumPy arrays from :func:`SimpleITK.GetArrayFromImage` are indexed the
other way round, ``[row, column]`` = ``[y, x]``.

Images whose file carries no physical spacing (PNG, JPEG, BMP, TIFF; a PNG's or TIFF's dpi tag
is a printing resolution, not the scanner's pixel size) are *spacing-unknown* unless
``spacing=`` is given. A mm-based operation on them raises :class:`SpacingError`; pass
``spacing="pixel"`` to :func:`load_image` to work in pixel units on purpose. The origin of
an image's spacing is recorded in the image's metadata; see :func:`spacing_source`.

Plausibility: a 2D ultrasound image has between :data:`SPACING_RANGE_MM` = 0.005 and 2 mm per
pixel (ultra-high-frequency probes reach ~0.01 mm, abdominal sector scans ~0.5 mm). A spacing
outside that range is almost always a unit error (cm or µm for mm, a dpi value); it is refused
by :func:`load_case_rois` and :func:`radiomics_aln.extraction.extract_features`, whose
``spacing_range=`` argument widens or disables the check. Ring widths must lie in
(0, :data:`MAX_RING_MM`] mm.
"""

from __future__ import annotations

import logging
import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from radiomics_aln._validation import (
    MAX_RING_MM,
    SPACING_RANGE_MM,
    check_ring_width,
    check_spacing_limits,
)
from radiomics_aln.exceptions import CoverageWarning, GeometryError, InputError, SpacingError

__all__ = [
    "MAX_RING_MM",
    "SPACING_RANGE_MM",
    "CaseROIs",
    "RingCoverage",
    "load_case_rois",
    "load_image",
    "load_mask",
    "peritumoral_ring",
    "plot_rois",
    "check_spacing_range",
    "ring_coverage",
    "spacing_source",
    "tumor_peritumoral_region",
]

logger = logging.getLogger(__name__)

# Metadata keys written on the images this module returns.
_KEY_SPACING = "radiomics_aln_spacing_source"
_KEY_FILE = "radiomics_aln_source_file"

_RASTER_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
_ITK_SUFFIXES = {".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd", ".hdr", ".img"}
_DICOM_SUFFIXES = {".dcm", ".dicom"}
_SUPPORTED = "NRRD, NIfTI, MHA/MHD, single-frame DICOM, PNG, JPEG, BMP or TIFF"

# ITU-R BT.601 luma weights, the ones PIL's convert("L") uses: Y = 0.299 R + 0.587 G + 0.114 B.
_LUMA = (299, 587, 114)

# Spacing sources after which mm operations are allowed.
_KNOWN = {"header", "argument", "dicom_us_region", "dicom_pixel_spacing", "pixel", "image"}

# Tolerances for comparing grids (see _check_same_grid).
_SPACING_RTOL = 1e-4
_ORIGIN_TOL_PX = 1e-3
_DIRECTION_ATOL = 1e-4


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".nii.gz"):
        return ".nii.gz"
    return path.suffix.lower()


def _looks_like_dicom(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def _fmt_tuple(values: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in values) + ")"


def _describe(image: sitk.Image) -> str:
    """Name the file an image came from, for messages."""
    if image.HasMetaDataKey(_KEY_FILE):
        return image.GetMetaData(_KEY_FILE)
    return "<in-memory image>"


def spacing_source(image: sitk.Image) -> str:
    """Where an image's pixel spacing came from.

    Parameters
    ----------
    image : SimpleITK.Image
        An image or mask, typically from :func:`load_image` or :func:`load_mask`.

    Returns
    -------
    str
        One of ``"header"`` (NRRD/NIfTI/MHA header), ``"dicom_us_region"`` (DICOM ultrasound
        region calibration), ``"dicom_pixel_spacing"`` (DICOM PixelSpacing or
        ImagerPixelSpacing), ``"argument"`` (the ``spacing=`` argument), ``"pixel"`` (pixel
        units chosen explicitly), ``"unknown"`` (no spacing: mm operations raise
        :class:`SpacingError`) or ``"image"`` (an image built in memory or returned by a
        SimpleITK filter, which drops this metadata: its spacing is trusted as set, with a
        warning from mm operations when it is SimpleITK's default of 1).

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> spacing_source(sitk.GetImageFromArray(np.zeros((4, 4))))
    'image'
    """
    if image.HasMetaDataKey(_KEY_SPACING):
        return image.GetMetaData(_KEY_SPACING)
    return "image"


def check_spacing_range(
    image: sitk.Image,
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM,
    what: str | None = None,
) -> None:
    """Refuse an implausible pixel spacing (a unit error) before any mm-based work.

    Parameters
    ----------
    image : SimpleITK.Image
        An image from :func:`load_image` (or built in memory).
    spacing_range : (float, float) or None, default :data:`SPACING_RANGE_MM`
        Smallest and largest plausible mm per pixel, both allowed; None skips the check.
    what : str, optional
        How to name the image in the message (default: its file).

    Raises
    ------
    SpacingError
        A spacing outside the range. Images in pixel units (``spacing="pixel"``) and images
        whose spacing is unknown are not checked here (mm operations refuse the latter).

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> image = sitk.GetImageFromArray(np.zeros((4, 4)))
    >>> image.SetSpacing((1e-6, 1e-6))
    >>> check_spacing_range(image)
    Traceback (most recent call last):
    ...
    radiomics_aln.exceptions.SpacingError: <in-memory image> has a pixel spacing of (1e-06, 1e-06) mm, outside the plausible range 0.005-2 mm per pixel ...
    >>> check_spacing_range(image, spacing_range=(1e-7, 2.0))  # a deliberate override
    """
    limits = check_spacing_limits(spacing_range)
    if limits is None or spacing_source(image) in {"pixel", "unknown"}:
        return
    spacing = image.GetSpacing()
    lo, hi = limits
    if all(lo <= v <= hi for v in spacing):
        return
    what = what or _describe(image)
    raise SpacingError(
        f"{what} has a pixel spacing of {_fmt_tuple(spacing)} mm, outside the plausible range "
        f"{lo:g}-{hi:g} mm per pixel for 2D ultrasound ({spacing_source(image)} spacing). This "
        "is usually a unit error (cm or µm instead of mm, or a dpi value); correct the spacing, "
        "or, if it is real, widen the check with spacing_range=(low, high) (the `spacing_range` "
        "setting of the study configuration, --spacing-range on the command line)"
    )


def _parse_spacing(spacing: Any, ndim: int, where: str) -> tuple[float, ...] | str | None:
    """Validate ``spacing=``: None, "pixel", a positive number or one number per axis."""
    if spacing is None:
        return None
    if isinstance(spacing, str):
        if spacing.strip().lower() in {"pixel", "pixels", "px"}:
            return "pixel"
        raise InputError(
            f"{where}: spacing={spacing!r} is not understood; give mm per pixel as a number "
            f"(e.g. 0.078), one number per axis in (x, y) = (columns, rows) order (e.g. (0.1, 0.2)), "
            f'or "pixel" to work in pixel units'
        )
    values = np.atleast_1d(np.asarray(spacing, dtype=float)).ravel()
    if values.size == 1:
        values = np.repeat(values, ndim)
    if values.size != ndim:
        raise InputError(
            f"{where}: spacing={spacing!r} has {values.size} values but the image has {ndim} "
            f"axes; give one number or {ndim} numbers in (x, y{', z' if ndim == 3 else ''}) order"
        )
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise InputError(
            f"{where}: spacing={spacing!r} must be positive finite mm per pixel (e.g. 0.078)"
        )
    return tuple(float(v) for v in values)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of an (..., 3) array, as float64; exact for grey pixels (R = G = B)."""
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b) / 1000.0


# --------------------------------------------------------------------------------------------
# readers: each returns (array in numpy order, alpha or None, spacing or None, geometry or None)
# --------------------------------------------------------------------------------------------


def _open_raster(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(path)
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(
            f"cannot read image file {path}: it is not a valid {_suffix(path)[1:].upper()} file "
            f"(corrupt, truncated or misnamed?): {exc}"
        ) from None
    if getattr(img, "n_frames", 1) > 1:
        raise InputError(
            f"{path} holds {img.n_frames} frames; save the frame that was segmented as a "
            "single-frame image"
        )
    return img


def _raster_channels(img: Any, path: Path) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Return (values, alpha, is_colour). values is (rows, cols) or (rows, cols, 3)."""
    mode = img.mode
    if mode in {"P", "PA"} or ("transparency" in img.info and mode in {"L", "RGB"}):
        img = img.convert("RGBA" if ("transparency" in img.info or mode == "PA") else "RGB")
        mode = img.mode
    elif mode == "1":
        img = img.convert("L")
        mode = "L"
    elif mode in {"CMYK", "YCbCr", "LAB", "HSV", "RGBX", "RGBa", "La"}:
        img = img.convert("RGBA" if mode in {"RGBa", "La"} else "RGB")
        mode = img.mode
    arr = np.asarray(img)
    if mode == "RGBA":
        return arr[..., :3], arr[..., 3], True
    if mode == "RGB":
        return arr, None, True
    if mode == "LA":
        return arr[..., 0], arr[..., 1], False
    if arr.ndim != 2:
        raise InputError(f"{path}: unsupported pixel layout (PIL mode {mode}, shape {arr.shape})")
    return arr, None, False


def _read_dicom(path: Path) -> tuple[np.ndarray, tuple[float, ...] | None, str]:
    """Pixel values (rows, cols) as float64, spacing (x, y) in mm or None, spacing source."""
    try:
        import pydicom
    except ImportError:
        raise InputError(
            f"reading the DICOM file {path} needs pydicom, which is not installed: run "
            "`pip install 'radiomics_aln[dicom]'` (or `pip install pydicom`), or convert the "
            "image to NRRD/NIfTI with its spacing"
        ) from None
    try:
        ds = pydicom.dcmread(path)
    except Exception as exc:  # pydicom raises several unrelated types for bad files
        raise InputError(f"cannot read {path} as DICOM (corrupt or not DICOM?): {exc}") from None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise InputError(
            f"{path} is a multi-frame DICOM ({frames} frames, e.g. a cine loop); export the "
            "frame that was segmented as a single-frame image"
        )
    if "PixelData" not in ds:
        raise InputError(f"{path} is DICOM without pixel data (a report or structure set?)")
    try:
        arr = ds.pixel_array
    except Exception as exc:
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "unknown")
        raise InputError(
            f"cannot decode the pixels of {path} (transfer syntax {syntax}): {exc}. Compressed "
            "DICOM needs a pydicom decoder plugin (e.g. `pip install pylibjpeg pylibjpeg-libjpeg`)"
        ) from None
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        arr = apply_color_lut(arr, ds)
        if arr.dtype == np.uint16:  # palette LUTs are 16 bit; keep the 8-bit scale
            arr = arr >> 8
    if arr.ndim == 3 and arr.shape[-1] == 3:
        values = _luminance(arr)
    elif arr.ndim == 2:
        values = arr.astype(np.float64)
        if photometric == "MONOCHROME1":  # displayed inverted: high values are dark
            bits = int(ds.get("BitsStored", 8))
            values = (2.0**bits - 1.0) - values
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
        values = values * slope + intercept
    else:
        raise InputError(f"{path}: unsupported DICOM pixel layout (shape {arr.shape})")

    spacing, source = _dicom_spacing(ds, path)
    return values, spacing, source


def _dicom_spacing(ds: Any, path: Path) -> tuple[tuple[float, float] | None, str]:
    """Spacing (x, y) in mm: US region calibration first, then (Imager)PixelSpacing."""
    regions = []
    for item in ds.get("SequenceOfUltrasoundRegions", []) or []:
        units = (item.get("PhysicalUnitsXDirection"), item.get("PhysicalUnitsYDirection"))
        dx, dy = item.get("PhysicalDeltaX"), item.get("PhysicalDeltaY")
        fmt = item.get("RegionSpatialFormat", 1)
        # Units code 3 = cm (DICOM PS3.3 C.8.5.5.1.15); spatial format 1 = 2D tissue image.
        if units == (3, 3) and dx and dy and float(dx) > 0 and float(dy) > 0 and fmt in (1, None):
            x0, y0 = item.get("RegionLocationMinX0", 0), item.get("RegionLocationMinY0", 0)
            x1, y1 = item.get("RegionLocationMaxX1", 0), item.get("RegionLocationMaxY1", 0)
            area = max(int(x1) - int(x0) + 1, 1) * max(int(y1) - int(y0) + 1, 1)
            regions.append((area, 10.0 * float(dx), 10.0 * float(dy)))
    if regions:
        regions.sort(key=lambda r: -r[0])
        _, sx, sy = regions[0]
        others = {(round(r[1], 9), round(r[2], 9)) for r in regions}
        if len(others) > 1:
            warnings.warn(
                f"{path} has {len(regions)} ultrasound regions with different calibrations "
                f"{sorted(others)} mm; using the largest region's ({sx:.6g}, {sy:.6g}) mm. Pass "
                "spacing= if the segmented lesion lies in another region.",
                UserWarning,
                stacklevel=4,
            )
        return (sx, sy), "dicom_us_region"
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(keyword)
        if value is not None and len(value) == 2:
            row_mm, col_mm = float(value[0]), float(value[1])  # DICOM order: row, column
            if row_mm > 0 and col_mm > 0:
                return (col_mm, row_mm), "dicom_pixel_spacing"
    return None, "unknown"


def _read_itk(path: Path) -> sitk.Image:
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = first[-1] if first else ""
        raise InputError(
            f"cannot read image file {path} (corrupt, truncated or not a {_SUPPORTED} file?): "
            f"{detail}"
        ) from None


def _squeeze_itk(image: sitk.Image, path: Path) -> sitk.Image:
    """Drop a singleton third axis (ITK-SNAP saves 2D images as 3D with one slice)."""
    if image.GetDimension() == 3 and image.GetSize()[2] == 1:
        return image[:, :, 0]
    if image.GetDimension() not in (2, 3):
        raise InputError(
            f"{path} is {image.GetDimension()}-dimensional (size {image.GetSize()}); only 2D "
            "images (or 3D volumes) are supported"
        )
    return image


def _itk_to_scalar(image: sitk.Image, path: Path) -> tuple[sitk.Image, np.ndarray | None]:
    """Vector (RGB/RGBA) ITK images become luminance; the alpha channel is returned apart."""
    n = image.GetNumberOfComponentsPerPixel()
    if n == 1:
        return image, None
    arr = sitk.GetArrayFromImage(image)
    if n in (3, 4):
        gray = _luminance(arr[..., :3])
        alpha = arr[..., 3] if n == 4 else None
    elif n == 2:
        gray, alpha = arr[..., 0].astype(np.float64), arr[..., 1]
    else:
        raise InputError(f"{path} has {n} values per pixel; expected grey, RGB or RGBA")
    out = sitk.GetImageFromArray(gray)
    out.CopyInformation(image)
    return out, alpha


# --------------------------------------------------------------------------------------------
# load_image
# --------------------------------------------------------------------------------------------


def load_image(
    path: str | Path,
    spacing: float | Sequence[float] | Literal["pixel"] | None = None,
    *,
    return_fov: bool = False,
) -> sitk.Image | tuple[sitk.Image, sitk.Image | None]:
    """Read an image file as a float SimpleITK image with pixel spacing in mm.

    Parameters
    ----------
    path : str or Path
        NRRD (``.nrrd``/``.nhdr``), NIfTI (``.nii``/``.nii.gz``), MetaImage (``.mha``/``.mhd``),
        single-frame DICOM (``.dcm`` or any file with the DICOM preamble; needs pydicom), PNG,
        JPEG, BMP or TIFF.
    spacing : float, sequence of float, "pixel" or None, default None
        Pixel spacing in mm: one number (isotropic) or one per axis in SimpleITK order
        ``(x, y)`` = ``(columns, rows)``. Needed for PNG/JPEG/BMP/TIFF, which carry no physical
        spacing. When given for a file that has its own spacing, it overrides the file's and a
        warning is issued if the two differ. ``"pixel"`` declares pixel units on purpose
        (spacing 1, and mm operations then measure in pixels). With None and no spacing in the
        file, the image is spacing-unknown: loading works, mm operations raise
        :class:`SpacingError`.
    return_fov : bool, default False
        Also return the field-of-view mask from the alpha channel (see Returns).

    Returns
    -------
    image : SimpleITK.Image
        2D (or 3D) image of pixel type float32. Colour images (RGB, RGBA, palette) are converted
        to grey by ITU-R BT.601 luma, ``Y = 0.299 R + 0.587 G + 0.114 B`` (the weights of
        PIL's ``convert("L")``) without rounding, so grey pixels keep their exact values. A 3D
        file with a single slice becomes 2D.
    fov : SimpleITK.Image or None
        Only with ``return_fov=True``: uint8 mask on the image's grid, 1 where alpha > 0 (the
        scanned field of view) and 0 where the image is transparent; None when the file has no
        transparent pixel.

    Raises
    ------
    InputError
        Missing, unreadable or corrupt file; unsupported format or pixel layout; multi-frame
        files; non-finite pixel values; a bad ``spacing``; DICOM without pydicom installed.

    Notes
    -----
    DICOM spacing comes from the ultrasound region calibration (``SequenceOfUltrasoundRegions``,
    ``PhysicalDeltaX``/``PhysicalDeltaY`` in cm, converted to mm) when present, else from
    ``PixelSpacing`` or ``ImagerPixelSpacing`` (stored there as row, column spacing and
    reordered to ``(x, y)``). ``MONOCHROME1`` pixels are inverted and the modality rescale
    (slope, intercept) is applied. A DICOM image gets origin 0 and identity direction (a 2D
    ultrasound frame has no patient position); masks saved from it as NRRD/NIfTI must match
    that, or be loaded with ``check_geometry="size"``. A PNG's or TIFF's dpi tag is ignored: it is not the
    scanner's pixel size.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from PIL import Image
    >>> rgba = np.zeros((40, 60, 4), dtype=np.uint8)
    >>> rgba[..., :3] = 100
    >>> rgba[10:, :, 3] = 255  # top 10 rows transparent: outside the scan
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.fromarray(rgba).save(folder / "scan.png")
    >>> image, fov = load_image(folder / "scan.png", spacing=0.1, return_fov=True)
    >>> image.GetSize(), image.GetSpacing(), image.GetPixelIDTypeAsString()
    ((60, 40), (0.1, 0.1), '32-bit float')
    >>> int(sitk.GetArrayViewFromImage(fov).sum())  # 30 rows x 60 columns in the scan
    1800
    >>> spacing_source(load_image(folder / "scan.png"))
    'unknown'
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"image file not found: {path}")
    if path.is_dir():
        raise InputError(
            f"{path} is a folder; give the image file (a DICOM series folder is not supported: "
            "export the segmented frame as a single file)"
        )
    suffix = _suffix(path)
    alpha: np.ndarray | None = None
    file_spacing: tuple[float, ...] | None = None
    source = "unknown"

    if suffix in _RASTER_SUFFIXES:
        values, alpha, colour = _raster_channels(_open_raster(path), path)
        arr = _luminance(values) if colour else values.astype(np.float64)
        image = sitk.GetImageFromArray(arr)
    elif suffix in _DICOM_SUFFIXES or (suffix not in _ITK_SUFFIXES and _looks_like_dicom(path)):
        arr, file_spacing, source = _read_dicom(path)
        image = sitk.GetImageFromArray(arr)
        if file_spacing is not None:
            image.SetSpacing(file_spacing)
    elif suffix in _ITK_SUFFIXES:
        image = _squeeze_itk(_read_itk(path), path)
        image, alpha = _itk_to_scalar(image, path)
        file_spacing, source = tuple(image.GetSpacing()), "header"
    else:
        raise InputError(
            f"{path}: unknown image format {suffix or '(no extension)'}; supported: {_SUPPORTED}"
        )

    parsed = _parse_spacing(spacing, image.GetDimension(), str(path))
    if parsed == "pixel":
        image.SetSpacing((1.0,) * image.GetDimension())
        source = "pixel"
    elif parsed is not None:
        if file_spacing is not None and not np.allclose(parsed, file_spacing, rtol=1e-3, atol=0.0):
            warnings.warn(
                f"{path}: spacing={_fmt_tuple(parsed)} mm overrides the file's own spacing "
                f"{_fmt_tuple(file_spacing)} mm ({source}); remove spacing= to use the file's",
                UserWarning,
                stacklevel=2,
            )
        image.SetSpacing(parsed)
        source = "argument"

    image = sitk.Cast(image, sitk.sitkFloat32)
    view = sitk.GetArrayViewFromImage(image)
    finite = np.isfinite(view)
    if not finite.all():
        n_bad = int((~finite).sum())
        raise InputError(
            f"{path} has {n_bad} non-finite pixel value(s) (NaN or infinity) of {view.size}; "
            "replace them (e.g. with 0 outside the scan) before radiomics"
        )
    image.SetMetaData(_KEY_SPACING, source)
    image.SetMetaData(_KEY_FILE, str(path))
    logger.debug(
        "loaded %s: size %s, spacing %s (%s)", path, image.GetSize(), image.GetSpacing(), source
    )
    if not return_fov:
        return image
    fov = None
    if alpha is not None:
        inside = np.asarray(alpha) > 0
        if not inside.any():
            warnings.warn(
                f"{path}: the alpha channel is fully transparent; it is ignored and the whole "
                "image is treated as field of view",
                UserWarning,
                stacklevel=2,
            )
        elif not inside.all():
            fov = _mask_like(inside, image, f"{path} (alpha > 0)")
    return image, fov


# --------------------------------------------------------------------------------------------
# masks
# --------------------------------------------------------------------------------------------


def _mask_like(arr: np.ndarray, like: sitk.Image, name: str) -> sitk.Image:
    """uint8 SimpleITK mask from a boolean array on ``like``'s grid, carrying its metadata."""
    mask = sitk.GetImageFromArray(np.ascontiguousarray(arr, dtype=np.uint8))
    mask.CopyInformation(like)
    mask.SetMetaData(_KEY_SPACING, spacing_source(like))
    mask.SetMetaData(_KEY_FILE, name)
    return mask


def _format_labels(values: np.ndarray, limit: int = 8) -> str:
    vals = [int(v) if float(v).is_integer() else float(v) for v in values[:limit]]
    text = ", ".join(str(v) for v in vals)
    return text + (f", ... ({len(values) - limit} more)" if len(values) > limit else "")


def _read_mask_values(
    item: Any, like: sitk.Image, label: Any
) -> tuple[np.ndarray, sitk.Image | None, str]:
    """Mask values in numpy order, its own geometry (None for raster files) and its name."""
    if isinstance(item, sitk.Image):
        img = _squeeze_itk(item, Path("<in-memory mask>")) if item.GetDimension() == 3 else item
        name = item.GetMetaData(_KEY_FILE) if item.HasMetaDataKey(_KEY_FILE) else "<in-memory mask>"
        return sitk.GetArrayFromImage(img), img, name
    if isinstance(item, np.ndarray):
        return item, None, "<array mask>"
    path = Path(item).expanduser()
    name = str(path)
    if not path.exists():
        raise InputError(f"mask file not found: {path}")
    suffix = _suffix(path)
    if suffix in _RASTER_SUFFIXES:
        values, alpha, colour = _raster_channels(_open_raster(path), path)
        if colour:
            values = _colour_mask_values(values, alpha, label, name)
        elif alpha is not None and not np.any(values) and np.any(alpha):
            values = alpha  # a mask drawn only in the alpha channel
        return values, None, name
    if suffix in _ITK_SUFFIXES:
        img = _squeeze_itk(_read_itk(path), path)
        arr = sitk.GetArrayFromImage(img)
        if img.GetNumberOfComponentsPerPixel() > 1:
            rgb = arr[..., :3] if arr.shape[-1] >= 3 else arr[..., :1].repeat(3, axis=-1)
            alpha = arr[..., 3] if arr.shape[-1] == 4 else None
            arr = _colour_mask_values(rgb, alpha, label, name)
        return arr, img, name
    if suffix in _DICOM_SUFFIXES or _looks_like_dicom(path):
        raise InputError(
            f"{path}: DICOM masks (DICOM-SEG) are not supported; export the segmentation as "
            "NRRD, NIfTI or PNG (ITK-SNAP, 3D Slicer: Save Segmentation/Export as labelmap)"
        )
    raise InputError(f"{path}: unknown mask format {suffix or '(no extension)'}")


def _is_colour(label: Any) -> bool:
    return (
        isinstance(label, tuple)
        and len(label) == 3
        and all(isinstance(v, int | np.integer) for v in label)
    )


def _colour_mask_values(
    rgb: np.ndarray, alpha: np.ndarray | None, label: Any, name: str
) -> np.ndarray:
    """Reduce an RGB(A) mask to one value per pixel.

    Grey masks (R = G = B) keep that value; a mask drawn in one colour on black becomes 0/1;
    with ``label=(r, g, b)`` the pixels of that colour become 1.
    """
    if _is_colour(label):
        return np.all(rgb == np.asarray(label, dtype=rgb.dtype), axis=-1)  # bool: resolved
    r = rgb[..., 0]
    if np.array_equal(r, rgb[..., 1]) and np.array_equal(r, rgb[..., 2]):
        if alpha is not None and not np.any(r) and np.any(alpha):
            return np.asarray(alpha)
        return r
    painted = np.any(rgb != 0, axis=-1)
    colours = np.unique(rgb[painted].reshape(-1, 3), axis=0)
    if len(colours) == 1:
        return painted.astype(np.uint8)
    shown = ", ".join(str(tuple(int(c) for c in col)) for col in colours[:5])
    raise InputError(
        f"mask {name} is a colour image with {len(colours)} colours ({shown}{', ...' if len(colours) > 5 else ''}); "
        "save it as a grey or label-map mask, or choose a colour with label=(r, g, b)"
    )


def _select_labels(values: np.ndarray, label: Any, name: str) -> np.ndarray:
    """Boolean foreground of one mask file, checking its values."""
    values = np.asarray(values)
    if values.dtype == bool:  # already a foreground (a colour picked with label=(r, g, b))
        return values
    if np.issubdtype(values.dtype, np.floating):
        finite = np.isfinite(values)
        if not finite.all():
            raise InputError(
                f"mask {name} has {int((~finite).sum())} non-finite value(s) (NaN or infinity)"
            )
        if not np.all(values == np.round(values)):
            example = values[values != np.round(values)][0]
            raise InputError(
                f"mask {name} has non-integer values (e.g. {example:.4g}): it is not a label "
                "map. Threshold probability or anti-aliased masks first (e.g. mask > 0.5)"
            )
    present = np.unique(values)
    present = present[present != 0]
    if label is None:
        if present.size > 1:
            raise InputError(
                f"mask {name} has {present.size} labels ({_format_labels(present)}) but no "
                "label= was given; pass label=<value> to choose one (e.g. label=1) or "
                "label=[1, 2] for their union. A binary mask has one value besides 0 "
                "(1 or 255). Lossy JPEG masks are not binary: save masks as PNG or NRRD"
            )
        return values != 0
    wanted = np.atleast_1d(np.asarray(label))
    if wanted.dtype.kind not in "iuf" or wanted.size == 0:
        raise InputError(f"label={label!r} must be an integer, a list of integers or (r, g, b)")
    missing = [w for w in wanted if w not in present]
    if missing:
        raise InputError(
            f"mask {name} has no pixels with label {_format_labels(np.asarray(missing))}; "
            f"its labels are {_format_labels(present) if present.size else 'none (it is empty)'}. "
            "Choose one of them with label="
        )
    return np.isin(values, wanted)


def _grid_problem(a: sitk.Image, b: sitk.Image) -> str | None:
    """Describe how two grids differ (size, spacing, origin, direction), or None."""
    if a.GetSize() != b.GetSize():
        return f"size {a.GetSize()} vs {b.GetSize()} pixels (x, y)"
    sa, sb = np.asarray(a.GetSpacing()), np.asarray(b.GetSpacing())
    if not np.allclose(sa, sb, rtol=_SPACING_RTOL, atol=0.0):
        return f"spacing {_fmt_tuple(sa)} vs {_fmt_tuple(sb)} mm (x, y)"
    oa, ob = np.asarray(a.GetOrigin()), np.asarray(b.GetOrigin())
    if np.any(np.abs(oa - ob) > _ORIGIN_TOL_PX * sa.min()):
        return f"origin {_fmt_tuple(oa)} vs {_fmt_tuple(ob)} mm"
    da, db = np.asarray(a.GetDirection()), np.asarray(b.GetDirection())
    if da.shape != db.shape or not np.allclose(da, db, atol=_DIRECTION_ATOL):
        return f"direction {_fmt_tuple(da)} vs {_fmt_tuple(db)}"
    return None


def _check_mask_grid(
    values: np.ndarray,
    geometry: sitk.Image | None,
    like: sitk.Image,
    name: str,
    check_geometry: str,
) -> None:
    shape = tuple(int(s) for s in like.GetSize()[::-1])
    if values.shape != shape:
        size = tuple(values.shape[::-1])
        hint = (
            " The mask looks transposed (rows and columns swapped)."
            if size == shape
            else " Masks must be drawn on this very image (same crop and size, no resizing); "
            "check that the manifest pairs the right image and mask files."
        )
        raise GeometryError(
            f"mask {name} is {'x'.join(map(str, size))} pixels (x, y) but image "
            f"{_describe(like)} is {'x'.join(map(str, like.GetSize()))}.{hint}"
        )
    # Compare spacing/origin/direction only when both files carry physical geometry.
    if check_geometry == "size" or geometry is None:
        return
    if spacing_source(like) not in {"header", "dicom_us_region", "dicom_pixel_spacing", "image"}:
        return
    problem = _grid_problem(geometry, like)
    if problem is not None:
        raise GeometryError(
            f"mask {name} and image {_describe(like)} are on different grids: mask vs image "
            f"{problem}. Resample the mask onto the image (e.g. with SimpleITK.Resample and "
            "nearest-neighbour interpolation), or, if you know the mask was drawn on this image "
            "and only its header differs, pass check_geometry='size'"
        )


def load_mask(
    paths: str | Path | sitk.Image | np.ndarray | Sequence[str | Path | sitk.Image | np.ndarray],
    like: sitk.Image,
    label: int | Sequence[int] | tuple[int, int, int] | None = None,
    *,
    combine: Literal["union", "largest"] = "union",
    min_area_mm2: float | None = None,
    check_geometry: Literal["strict", "size"] = "strict",
) -> sitk.Image:
    """Read one or more mask files as a binary uint8 mask on an image's grid.

    Parameters
    ----------
    paths : path, SimpleITK.Image, ndarray or a sequence of them
        Mask file(s) in any format :func:`load_image` reads except DICOM; a string with
        several paths joined by ``;`` (as in a manifest) is split. Arrays are in NumPy order
        ``[row, column]``.
    like : SimpleITK.Image
        The image the mask belongs to (from :func:`load_image`); the mask gets its grid.
    label : int, sequence of int, (r, g, b) or None, default None
        None accepts binary masks: 0 is background and the single other value (1, 255, any
        label) is foreground; a mask with several labels raises. An int selects that label of a
        label map (e.g. an ITK-SNAP segmentation), a sequence the union of labels, and an
        ``(r, g, b)`` tuple the pixels of that colour in an RGB mask (for a grey mask a
        tuple is a sequence of labels).
    combine : {"union", "largest"}, default "union"
        How several files (or several blobs) are merged: their union, or only the largest
        connected component of the union (8-connectivity in 2D, 26 in 3D).
    min_area_mm2 : float, optional
        Drop connected components smaller than this area (mm², or mm³ in 3D; pixels if the
        image is in pixel units) before ``combine``, e.g. to remove specks. A mask with no
        component this large raises, naming its area and the minimum.
    check_geometry : {"strict", "size"}, default "strict"
        "strict" checks the size and, when both the image and the mask file have physical
        geometry (NRRD, NIfTI, MHA, DICOM), their spacing, origin and direction. "size" only
        checks the size and gives the mask the image's geometry.

    Returns
    -------
    SimpleITK.Image
        uint8 mask with values {0, 1} on ``like``'s grid (size, spacing, origin, direction).

    Raises
    ------
    InputError
        Missing or unreadable file, non-integer or non-finite values, several labels without
        ``label=``, a requested label absent, an empty result.
    GeometryError
        The mask's size (or, with "strict", spacing/origin/direction) differs from the image's.
    SpacingError
        ``min_area_mm2`` on an image without known spacing.

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> image = sitk.GetImageFromArray(np.zeros((50, 60), dtype=np.float32))
    >>> image.SetSpacing((0.2, 0.2))
    >>> labels = np.zeros((50, 60), dtype=np.uint8)
    >>> labels[10:20, 10:30] = 1  # tumour
    >>> labels[30:40, 40:50] = 2  # another structure
    >>> tumor = load_mask(labels, like=image, label=1)
    >>> int(sitk.GetArrayViewFromImage(tumor).sum()), tumor.GetSpacing()
    (200, (0.2, 0.2))
    >>> load_mask(labels, like=image)
    Traceback (most recent call last):
    ...
    radiomics_aln.exceptions.InputError: mask <array mask> has 2 labels (1, 2) but no label= ...
    """
    if not isinstance(like, sitk.Image):
        raise InputError(
            f"like= must be the SimpleITK image the mask belongs to (from load_image), got "
            f"{type(like).__name__}"
        )
    _check_mask_options(combine, min_area_mm2, combine_key="combine")
    if check_geometry not in {"strict", "size"}:
        raise InputError(f"check_geometry={check_geometry!r}; use 'strict' or 'size'")
    items = _as_mask_items(paths)
    if not items:
        raise InputError("no mask file given")

    union = np.zeros(like.GetSize()[::-1], dtype=bool)
    names = []
    for item in items:
        values, geometry, name = _read_mask_values(item, like, label)
        _check_mask_grid(np.asarray(values), geometry, like, name, check_geometry)
        fg = _select_labels(values, label, name)
        if not fg.any():
            raise InputError(
                f"mask {name} is empty (no foreground pixels)"
                + (f" for label={label!r}" if label is not None else "")
                + "; check that the right file was saved, or drop it from the list"
            )
        union |= fg
        names.append(name)
    name = ";".join(names)

    union, _, _ = _select_components(union, like, f"mask {name}", combine, min_area_mm2)
    return _mask_like(union, like, name)


def _check_mask_options(
    combine: Any, min_area_mm2: Any, *, where: str = "", combine_key: str = "mask_combine"
) -> None:
    """Validate the component options; ``where`` (e.g. ``"case 7: "``) prefixes the message."""
    if not isinstance(combine, str) or combine not in {"union", "largest"}:
        raise InputError(f"{where}{combine_key}={combine!r}; use 'union' or 'largest'")
    if min_area_mm2 is None:
        return
    ok = isinstance(min_area_mm2, numbers.Real) and not isinstance(min_area_mm2, bool)
    if not (ok and math.isfinite(min_area_mm2) and min_area_mm2 >= 0):
        raise InputError(
            f"{where}min_area_mm2={min_area_mm2!r} must be a non-negative number of mm² "
            "(or None: keep every connected component)"
        )


def _select_components(
    fg: np.ndarray, like: sitk.Image, name: str, combine: str, min_area_mm2: float | None
) -> tuple[np.ndarray, int, int]:
    """Connected components to keep: (foreground, components drawn, components kept).

    Components below ``min_area_mm2`` are dropped first (none left is an error naming the
    mask, its area and the minimum), then ``combine="largest"`` keeps the largest one.
    ``name`` starts the error message (e.g. ``"mask a.png"``).
    """
    structure = ndimage.generate_binary_structure(fg.ndim, fg.ndim)
    labels, n = ndimage.label(fg, structure=structure)
    if n == 0 or (n == 1 and min_area_mm2 is None):
        return fg, n, n
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    sizes[0] = 0
    keep = np.ones(n + 1, dtype=bool)
    keep[0] = False
    if min_area_mm2 is not None:
        unit = _require_spacing(like, f"min_area_mm2={min_area_mm2:g}")
        unit2 = "mm²" if unit == "mm" else "pixel(s)"
        areas = sizes * float(np.prod(like.GetSpacing()))
        keep &= areas >= min_area_mm2
        if not keep.any():
            raise InputError(
                f"{name}: every connected component is smaller than "
                f"min_area_mm2={min_area_mm2:g} {unit2}: the mask's area is "
                f"{areas.sum():.4g} {unit2} ({int(sizes.sum())} pixel(s) in {n} component(s), "
                f"the largest {areas.max():.4g} {unit2}). A speck is not a lesion: check that "
                "the right mask file was saved, or lower min_area_mm2"
            )
    if combine == "largest" and keep.sum() > 1:
        best = int(np.argmax(np.where(keep, sizes, -1)))
        keep[:] = False
        keep[best] = True
        logger.info("mask %s: kept the largest of %d connected components", name, n)
    return keep[labels], n, int(keep.sum())


def _as_mask_items(paths: Any) -> list[Any]:
    if isinstance(paths, sitk.Image | np.ndarray | Path):
        return [paths]
    if isinstance(paths, str):
        return [p.strip() for p in paths.split(";") if p.strip()]
    if isinstance(paths, Sequence):
        out: list[Any] = []
        for p in paths:
            out.extend(_as_mask_items(p))
        return out
    raise InputError(f"mask must be a path, a list of paths, an image or an array, got {paths!r}")


# --------------------------------------------------------------------------------------------
# ring
# --------------------------------------------------------------------------------------------


def _require_spacing(image: sitk.Image, what: str) -> str:
    """Raise SpacingError when the image's spacing is unknown; return the length unit."""
    source = spacing_source(image)
    if source not in _KNOWN:
        raise SpacingError(
            f"{what} is a physical size, but the pixel spacing of {_describe(image)} is unknown "
            "(PNG/JPEG/BMP/TIFF files carry none; their dpi tag is not the scanner's pixel "
            "size). Give the mm per pixel: load_image(path, spacing=0.078) or "
            "spacing=(x, y) = (columns, rows), or the manifest's `spacing` column; or pass "
            "spacing='pixel' to load_image to measure in pixels on purpose"
        )
    if source == "image" and all(v == 1.0 for v in image.GetSpacing()):
        # In-memory images (and results of SimpleITK filters, which drop our metadata) have
        # spacing 1 unless someone set it: probably not a real 1 mm pixel.
        warnings.warn(
            f"{what}: {_describe(image)} has spacing 1 mm per pixel, SimpleITK's default for "
            "images built in memory; if that is not the real pixel size, set it with "
            "image.SetSpacing((x_mm, y_mm)) or load the files with load_image(..., spacing=)",
            UserWarning,
            stacklevel=4,
        )
    return "pixel" if source == "pixel" else "mm"


def _binary_array(mask: sitk.Image, what: str) -> np.ndarray:
    if not isinstance(mask, sitk.Image):
        raise InputError(
            f"{what} must be a SimpleITK mask image (from load_mask), got {type(mask).__name__}"
        )
    if mask.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(f"{what} {_describe(mask)} is a vector image; give a binary mask")
    arr = sitk.GetArrayFromImage(mask)
    values = np.unique(arr)
    if not np.all(np.isin(values, (0, 1))):
        raise InputError(
            f"{what} {_describe(mask)} must be binary (0/1) but has values "
            f"{_format_labels(values)}; build it with load_mask"
        )
    return arr.astype(bool)


@dataclass(frozen=True)
class RingCoverage:
    """How much of a peritumoral ring survived clipping.

    Attributes
    ----------
    width_mm : float
        Ring width asked for (in pixels when ``unit == "pixel"``).
    unit : str
        ``"mm"``, or ``"pixel"`` for images loaded with ``spacing="pixel"``.
    n_pixels : int
        Pixels in the returned ring (clipped to the image and to ``within``).
    n_pixels_in_image : int
        Pixels of the ring inside the image, before ``within`` clipping.
    n_pixels_unclipped : int
        Pixels of the ring computed on a grid padded beyond the image edge.
    area, area_unclipped : float
        The same ring in physical units: mm² for 2D images (mm³ in 3D; pixels in pixel units).
    coverage : float
        ``n_pixels / n_pixels_unclipped``: 1 for a ring wholly inside image and ``within``.
    coverage_image : float
        ``n_pixels_in_image / n_pixels_unclipped``: the part lost at the image edge only.
    """

    width_mm: float
    unit: str
    n_pixels: int
    n_pixels_in_image: int
    n_pixels_unclipped: int
    area: float
    area_unclipped: float
    coverage: float
    coverage_image: float


def _ring(
    mask: sitk.Image, width_mm: float, within: sitk.Image | None
) -> tuple[np.ndarray, RingCoverage]:
    width_mm = check_ring_width(width_mm)
    tumor = _binary_array(mask, "mask")
    unit = _require_spacing(mask, f"the {width_mm:g} mm ring width")
    if not tumor.any():
        raise InputError(f"mask {_describe(mask)} is empty: no tumour to build a ring around")
    spacing = np.asarray(mask.GetSpacing()[::-1], dtype=float)  # numpy order
    if width_mm < spacing.max():
        warnings.warn(
            f"a {width_mm:g} {unit} ring is narrower than one pixel ({spacing.max():.4g} {unit}) "
            f"of {_describe(mask)}; it will be patchy",
            UserWarning,
            stacklevel=3,
        )
    # Work on the tumour's bounding box grown by the ring width (plus one pixel), which may
    # reach beyond the image: that padded grid gives the unclipped ring.
    margin = np.ceil(width_mm / spacing).astype(int) + 1
    idx = np.nonzero(tumor)
    lo = np.array([i.min() for i in idx]) - margin
    hi = np.array([i.max() for i in idx]) + margin + 1
    shape = np.asarray(tumor.shape)
    src = tuple(slice(max(a, 0), min(b, n)) for a, b, n in zip(lo, hi, shape, strict=True))
    dst = tuple(
        slice(s.start - a, s.stop - a) for s, a in zip(src, lo, strict=True)
    )  # the image part inside the box
    box_tumor = np.zeros(hi - lo, dtype=bool)
    box_tumor[dst] = tumor[src]
    # Distance (mm) from each pixel centre to the nearest tumour pixel centre.
    dist = ndimage.distance_transform_edt(~box_tumor, sampling=spacing)
    box_ring = (dist > 0) & (dist <= width_mm * (1 + 1e-9))
    n_unclipped = int(box_ring.sum())
    if n_unclipped == 0:
        raise InputError(
            f"the {width_mm:g} {unit} ring around {_describe(mask)} has no pixel: every pixel "
            f"centre outside the tumour is farther than {width_mm:g} {unit}. Use a width of at "
            f"least one pixel ({spacing.min():.4g} {unit})"
        )
    ring = np.zeros(tumor.shape, dtype=bool)
    ring[src] = box_ring[dst]
    n_in_image = int(ring.sum())
    if within is not None:
        inside = _binary_array(within, "within")
        problem = _grid_problem(within, mask)
        if problem is not None:
            raise GeometryError(
                f"within mask {_describe(within)} and tumour mask {_describe(mask)} are on "
                f"different grids: {problem}; build both on the same image (load_mask(..., "
                "like=image) or load_image(..., return_fov=True))"
            )
        ring &= inside
    n = int(ring.sum())
    pixel = float(np.prod(spacing))
    cov = RingCoverage(
        width_mm=float(width_mm),
        unit=unit,
        n_pixels=n,
        n_pixels_in_image=n_in_image,
        n_pixels_unclipped=n_unclipped,
        area=n * pixel,
        area_unclipped=n_unclipped * pixel,
        coverage=n / n_unclipped,
        coverage_image=n_in_image / n_unclipped,
    )
    return ring, cov


def _warn_coverage(cov: RingCoverage, mask: sitk.Image, min_coverage: float | None) -> None:
    if min_coverage is not None and cov.coverage < min_coverage:
        warnings.warn(
            f"the {cov.width_mm:g} {cov.unit} peritumoral ring of {_describe(mask)} keeps only "
            f"{cov.coverage:.0%} of its unclipped area (image edge leaves {cov.coverage_image:.0%}"
            f"), below min_coverage={min_coverage:g}: the lesion is near the image edge or "
            "the field-of-view border, and ring features describe a partial ring. Flag or "
            "exclude the case (coverage from return_coverage=True or ring_coverage)",
            CoverageWarning,
            stacklevel=3,
        )


def _check_min_coverage(min_coverage: float | None) -> None:
    if min_coverage is not None and not (0 <= min_coverage <= 1):
        raise InputError(f"min_coverage={min_coverage!r} must be in [0, 1] or None")


def peritumoral_ring(
    mask: sitk.Image,
    width_mm: float = 5.0,
    within: sitk.Image | None = None,
    *,
    min_coverage: float | None = 0.5,
    return_coverage: bool = False,
) -> sitk.Image | tuple[sitk.Image, RingCoverage]:
    """The peritumoral ring: pixels outside the tumour within ``width_mm`` of it.

    Parameters
    ----------
    mask : SimpleITK.Image
        Binary tumour mask (from :func:`load_mask`) with spacing in mm.
    width_mm : float, default 5.0
        Ring width in mm (in pixels for images loaded with ``spacing="pixel"``).
    within : SimpleITK.Image, optional
        Binary mask on the same grid that the ring is clipped to: the field of view from
        ``load_image(..., return_fov=True)``, a breast-tissue mask, etc.
    min_coverage : float or None, default 0.5
        Issue a :class:`CoverageWarning` when the ring keeps less than this fraction of its
        unclipped area. None disables the warning.
    return_coverage : bool, default False
        Also return a :class:`RingCoverage`.

    Returns
    -------
    ring : SimpleITK.Image
        uint8 {0, 1} mask on the tumour mask's grid, disjoint from the tumour.
    coverage : RingCoverage
        Only with ``return_coverage=True``.

    Raises
    ------
    SpacingError
        The mask's image has no known pixel spacing.
    InputError
        Empty or non-binary mask, bad ``width_mm`` or ``min_coverage``.
    GeometryError
        ``within`` is on a different grid.

    Warns
    -----
    CoverageWarning
        Coverage below ``min_coverage``.

    Notes
    -----
    The ring is :math:`\\{p \\notin T : 0 < d(p, T) \\le w\\}`, with :math:`d` the Euclidean
    distance in mm between pixel centres (a distance map with the pixel spacing as sampling,
    :func:`scipy.ndimage.distance_transform_edt`), so it is exact for anisotropic pixels and
    not a dilation with a pixel-rounded kernel. It is computed on a grid padded beyond the
    image edge; its size there is the unclipped area, and
    ``coverage = area after clipping to the image and within / unclipped area``. For a disk of
    radius :math:`r` the area approaches :math:`\\pi((r + w)^2 - r^2)`. A tumour that touches
    the image edge is assumed to end there.

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> yy, xx = np.mgrid[:300, :300] * 0.1  # mm
    >>> disk = ((xx - 15) ** 2 + (yy - 15) ** 2 <= 5**2).astype(np.uint8)  # r = 5 mm
    >>> mask = sitk.GetImageFromArray(disk)
    >>> mask.SetSpacing((0.1, 0.1))
    >>> ring, cov = peritumoral_ring(mask, width_mm=5.0, return_coverage=True)
    >>> round(cov.area, 1), round(np.pi * (10**2 - 5**2), 1)  # mm2: computed vs analytic
    (234.2, 235.6)
    >>> cov.coverage
    1.0
    >>> int((sitk.GetArrayViewFromImage(ring) & disk).sum())  # disjoint from the tumour
    0
    """
    _check_min_coverage(min_coverage)
    ring, cov = _ring(mask, width_mm, within)
    _warn_coverage(cov, mask, min_coverage)
    out = _mask_like(ring, mask, f"peritumoral ring ({width_mm:g} mm) of {_describe(mask)}")
    return (out, cov) if return_coverage else out


def ring_coverage(
    mask: sitk.Image, width_mm: float = 5.0, within: sitk.Image | None = None
) -> RingCoverage:
    """Coverage of the peritumoral ring without building the ring image.

    Same parameters as :func:`peritumoral_ring`; never warns.

    Returns
    -------
    RingCoverage
        Pixel counts, areas and coverage fractions of the ring.

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> arr = np.zeros((100, 100), dtype=np.uint8)
    >>> arr[0:10, 40:60] = 1  # lesion touching the top edge
    >>> mask = sitk.GetImageFromArray(arr)
    >>> mask.SetSpacing((0.5, 0.5))
    >>> cov = ring_coverage(mask, width_mm=5.0)
    >>> round(cov.coverage, 2)
    0.61
    """
    return _ring(mask, width_mm, within)[1]


def tumor_peritumoral_region(
    mask: sitk.Image,
    width_mm: float = 5.0,
    within: sitk.Image | None = None,
    *,
    min_coverage: float | None = 0.5,
    return_coverage: bool = False,
) -> sitk.Image | tuple[sitk.Image, RingCoverage]:
    """The tumour together with its peritumoral ring (the ``tumor_peritumoral`` ROI).

    Parameters and warnings as in :func:`peritumoral_ring`; the tumour itself is never
    clipped by ``within``.

    Returns
    -------
    region : SimpleITK.Image
        uint8 {0, 1} mask: tumour ∪ ring.
    coverage : RingCoverage
        Only with ``return_coverage=True``: coverage of the ring part.

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> arr = np.zeros((60, 60), dtype=np.uint8)
    >>> arr[25:35, 25:35] = 1
    >>> mask = sitk.GetImageFromArray(arr)
    >>> mask.SetSpacing((0.5, 0.5))
    >>> region = tumor_peritumoral_region(mask, width_mm=1.0)
    >>> int(sitk.GetArrayViewFromImage(region).sum())  # 10x10 + 4 sides 2x10 + 4 corners
    184
    """
    _check_min_coverage(min_coverage)
    ring, cov = _ring(mask, width_mm, within)
    _warn_coverage(cov, mask, min_coverage)
    region = ring | (sitk.GetArrayViewFromImage(mask) != 0)
    out = _mask_like(region, mask, f"tumour + {width_mm:g} mm ring of {_describe(mask)}")
    return (out, cov) if return_coverage else out


# --------------------------------------------------------------------------------------------
# one case: every ROI of a manifest row
# --------------------------------------------------------------------------------------------

_TUMOR_ROIS = ("tumor", "peritumoral", "tumor_peritumoral")


@dataclass
class CaseROIs:
    """Images and ROI masks of one case, ready for feature extraction.

    Attributes
    ----------
    case_id : str
        The case.
    images : dict
        ``{"tumor": image}`` plus ``"ln"`` when the case has a lymph-node image.
    masks : dict
        uint8 masks by ROI name: ``"tumor"``, ``"peritumoral"``, ``"tumor_peritumoral"`` on the
        tumour image and ``"ln"`` on the LN image.
    fov : dict
        Field-of-view mask (or None) of each image, by ``"tumor"`` / ``"ln"``.
    coverage : RingCoverage
        Coverage of the main reader's peritumoral ring.
    repeats : dict
        ``{reader: {roi: mask}}`` for the repeat segmentations (``"reader2"``, ``"repeat"``),
        with rings built from the repeated tumour masks.
    """

    case_id: str
    images: dict[str, sitk.Image]
    masks: dict[str, sitk.Image]
    fov: dict[str, sitk.Image | None]
    coverage: RingCoverage
    repeats: dict[str, dict[str, sitk.Image]]

    def image_for(self, roi: str) -> sitk.Image:
        """The image a ROI lies on: the LN image for ``"ln"``, else the tumour image."""
        if roi == "ln":
            if "ln" not in self.images:
                raise InputError(f"case {self.case_id} has no lymph-node image")
            return self.images["ln"]
        if roi not in _TUMOR_ROIS:
            raise InputError(f"unknown ROI {roi!r}; use {', '.join((*_TUMOR_ROIS, 'ln'))}")
        return self.images["tumor"]


def _with_case(case_id: str, what: str, exc: InputError) -> InputError:
    """The same error type with the case and ROI in front of the message."""
    return type(exc)(f"case {case_id}, {what}: {exc}")


def load_case_rois(
    case: Any,
    *,
    width_mm: float = 5.0,
    ring_within: Literal["fov"] | None = "fov",
    min_coverage: float | None = 0.5,
    label: int | Sequence[int] | None = None,
    combine: Literal["union", "largest"] = "union",
    min_area_mm2: float | None = None,
    check_geometry: Literal["strict", "size"] = "strict",
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM,
) -> CaseROIs:
    """Load every ROI of one :class:`~radiomics_aln.cohort.Case`.

    Parameters
    ----------
    case : Case
        A manifest row (from :func:`radiomics_aln.cohort.read_manifest`). Its ``spacing`` and
        ``ln_spacing`` are passed to :func:`load_image`.
    width_mm : float, default 5.0
        Peritumoral ring width.
    ring_within : {"fov"} or None, default "fov"
        Clip the ring to the image's field of view (alpha channel) when it has one; None never
        clips to it (the image edge always clips).
    min_coverage, label, check_geometry
        As in :func:`peritumoral_ring` and :func:`load_mask`, for every mask of the case.
    combine, min_area_mm2 : optional
        As in :func:`load_mask`, for cases without their own ``mask_combine`` /
        ``min_area_mm2`` (manifest columns); a case's own value wins.
    spacing_range : (float, float) or None, default :data:`SPACING_RANGE_MM`
        Plausible mm per pixel of every image of the case (see :func:`check_spacing_range`);
        None disables the check.

    Returns
    -------
    CaseROIs

    Raises
    ------
    InputError, GeometryError, SpacingError
        As the functions above, with ``case <id>, <roi>:`` in front of the message; a
        :class:`SpacingError` naming the tumour image when its spacing is unknown (the ring is
        in mm) or any image's spacing is outside ``spacing_range``; an :class:`InputError`
        for a ``width_mm`` outside (0, :data:`MAX_RING_MM`].

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from PIL import Image
    >>> from radiomics_aln.cohort import Case
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.fromarray(np.full((200, 200), 90, np.uint8)).save(folder / "t.png")
    >>> lesion = np.zeros((200, 200), np.uint8)
    >>> lesion[80:120, 70:130] = 255
    >>> Image.fromarray(lesion).save(folder / "t_mask.png")
    >>> rois = load_case_rois(Case("p1", folder / "t.png", folder / "t_mask.png", spacing=0.1))
    >>> sorted(rois.masks), round(rois.coverage.coverage, 2)
    (['peritumoral', 'tumor', 'tumor_peritumoral'], 1.0)
    """
    if ring_within not in ("fov", None):
        raise InputError(f"ring_within={ring_within!r}; use 'fov' or None")
    cid = case.case_id
    try:
        width_mm = check_ring_width(width_mm)
        check_spacing_limits(spacing_range)
    except InputError as exc:
        raise _with_case(cid, "peritumoral ring", exc) from exc
    images: dict[str, sitk.Image] = {}
    fovs: dict[str, sitk.Image | None] = {}
    masks: dict[str, sitk.Image] = {}
    # the case's own values (manifest columns) win over the arguments, as in extract_features
    if getattr(case, "mask_combine", None) is not None:
        combine = case.mask_combine
    if getattr(case, "min_area_mm2", None) is not None:
        min_area_mm2 = case.min_area_mm2
    _check_mask_options(combine, min_area_mm2, where=f"case {cid}: ", combine_key="combine")
    mask_kw = {
        "label": label,
        "combine": combine,
        "min_area_mm2": min_area_mm2,
        "check_geometry": check_geometry,
    }

    def ring_pair(tumor: sitk.Image, what: str) -> tuple[sitk.Image, sitk.Image, RingCoverage]:
        within = fovs["tumor"] if ring_within == "fov" else None
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ring, cov = peritumoral_ring(
                    tumor, width_mm, within, min_coverage=None, return_coverage=True
                )
            for w in caught:  # re-issue other warnings (narrow ring) with the case id
                warnings.warn(f"case {cid}: {w.message}", w.category, stacklevel=3)
        except InputError as exc:
            raise _with_case(cid, what, exc) from exc
        if min_coverage is not None and cov.coverage < min_coverage:
            warnings.warn(
                f"case {cid}, {what}: the {width_mm:g} {cov.unit} ring keeps only "
                f"{cov.coverage:.0%} of its unclipped area (image edge leaves "
                f"{cov.coverage_image:.0%}), below min_coverage={min_coverage:g}",
                CoverageWarning,
                stacklevel=3,
            )
        region = _mask_like(
            (sitk.GetArrayViewFromImage(ring) != 0) | (sitk.GetArrayViewFromImage(tumor) != 0),
            tumor,
            f"tumour + ring of {_describe(tumor)}",
        )
        return ring, region, cov

    for roi in ("tumor", "ln"):
        path = case.image(roi)
        if path is None:
            continue
        try:
            images[roi], fovs[roi] = load_image(
                path, spacing=case.image_spacing(roi), return_fov=True
            )
            check_spacing_range(images[roi], spacing_range)
            masks[roi] = load_mask(case.masks(roi), like=images[roi], **mask_kw)
        except InputError as exc:
            raise _with_case(cid, f"{roi} image/mask", exc) from exc
    try:  # the ring is in mm: name the image whose spacing is missing, not its mask
        _require_spacing(images["tumor"], f"the {width_mm:g} mm ring width")
    except InputError as exc:
        raise _with_case(cid, "peritumoral ring", exc) from exc
    masks["peritumoral"], masks["tumor_peritumoral"], coverage = ring_pair(
        masks["tumor"], "peritumoral ring"
    )

    repeats: dict[str, dict[str, sitk.Image]] = {}
    for reader, rois in case.repeat_masks.items():
        for roi, paths in rois.items():
            try:
                m = load_mask(paths, like=images[roi], **mask_kw)
            except InputError as exc:
                raise _with_case(cid, f"{roi} mask of {reader}", exc) from exc
            entry = repeats.setdefault(reader, {})
            entry[roi] = m
            if roi == "tumor":
                entry["peritumoral"], entry["tumor_peritumoral"], _ = ring_pair(
                    m, f"peritumoral ring of {reader}"
                )
    order = {"tumor": 0, "peritumoral": 1, "tumor_peritumoral": 2, "ln": 3}
    masks = dict(sorted(masks.items(), key=lambda kv: order[kv[0]]))
    return CaseROIs(cid, images, masks, fovs, coverage, repeats)


# --------------------------------------------------------------------------------------------
# quality-control figure
# --------------------------------------------------------------------------------------------

# Okabe-Ito colours: distinguishable with red-green colour blindness and on a grey image
_ROI_COLOURS = {
    "tumor": "#D55E00",  # vermillion
    "peritumoral": "#F0E442",  # yellow
    "tumor_peritumoral": "#56B4E9",  # sky blue
    "ln": "#009E73",  # bluish green
    "fov": "#BBBBBB",
}


def plot_rois(
    image: sitk.Image,
    rois: dict[str, sitk.Image],
    ax: Any = None,
    *,
    title: str | None = None,
    fill_alpha: float = 0.25,
    **kwargs: Any,
) -> Any:
    """Draw a 2D image in grey with its ROIs (outline and translucent fill), in mm.

    Parameters
    ----------
    image : SimpleITK.Image
        A 2D image.
    rois : dict
        ROI name -> binary mask on the image's grid, drawn in this order. Known names get fixed
        colours (tumour red, ring amber, tumour + ring green, LN blue, field of view grey,
        outline only).
    ax : matplotlib Axes, optional
        Axes to draw on (default: current axes).
    title : str, optional
        Axes title.
    fill_alpha : float, default 0.25
        Opacity of the ROI fill (0 draws outlines only).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow` (e.g. ``vmin``, ``vmax``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> img = sitk.GetImageFromArray(np.random.default_rng(0).random((80, 100)))
    >>> img.SetSpacing((0.2, 0.2))
    >>> arr = np.zeros((80, 100), np.uint8)
    >>> arr[30:50, 40:60] = 1
    >>> tumor = sitk.GetImageFromArray(arr)
    >>> tumor.CopyInformation(img)
    >>> fig, ax = plt.subplots()
    >>> ax = plot_rois(img, {"tumor": tumor, "peritumoral": peritumoral_ring(tumor, 2.0)}, ax=ax)
    >>> ax.get_xlabel()
    'x (mm)'
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if image.GetDimension() != 2:
        raise InputError("plot_rois draws 2D images; take a slice of 3D images first")
    ax = plt.gca() if ax is None else ax
    sx, sy = image.GetSpacing()
    ox, oy = image.GetOrigin()
    ny, nx = image.GetSize()[::-1]
    extent = (ox - sx / 2, ox + (nx - 0.5) * sx, oy + (ny - 0.5) * sy, oy - sy / 2)
    kwargs.setdefault("cmap", "gray")
    kwargs.setdefault("interpolation", "nearest")
    ax.imshow(sitk.GetArrayViewFromImage(image), extent=extent, **kwargs)
    xs = ox + np.arange(nx) * sx
    ys = oy + np.arange(ny) * sy
    handles, outlines = [], []
    for k, (name, mask) in enumerate(rois.items()):
        if mask is None:
            continue
        colour = _ROI_COLOURS.get(name, f"C{k}")
        values = sitk.GetArrayViewFromImage(mask).astype(float)
        if name != "fov" and fill_alpha > 0:  # translucent fill, so outlines stay readable
            ax.contourf(xs, ys, values, levels=[0.5, 1.5], colors=[colour], alpha=fill_alpha)
        outlines.append((values, colour))
        handles.append(Line2D([], [], color=colour, label=name))
    # outlines above every fill, the first-listed ROI on top and thinnest: ROIs share edges
    # (the ring's inner edge is the tumour's outline, its outer edge the union's), and a
    # wider line underneath stays visible as a border of the one on top
    for rank, (values, colour) in reversed(list(enumerate(outlines))):
        ax.contour(xs, ys, values, levels=[0.5], colors=[colour], linewidths=1.2 + 1.5 * rank)
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize="small", framealpha=0.7)
    unit = "pixel" if spacing_source(image) in {"pixel", "unknown"} else "mm"
    ax.set_xlabel(f"x ({unit})")
    ax.set_ylabel(f"y ({unit})")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax
