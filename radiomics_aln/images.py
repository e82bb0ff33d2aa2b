"""Images with physical pixel spacing: reading files, the spacing they carry, the field of view.

:func:`load_image` turns a file into a float32 SimpleITK image whose pixel spacing is in
millimetres; :func:`load_image_with_fov` also returns the scanned field of view (the alpha
channel). Masks (:mod:`radiomics_aln.masks`) and the peritumoral ring
(:mod:`radiomics_aln.ring`) are built on these images.

Conventions
-----------
Spacing is in mm per pixel and always in SimpleITK order: ``(x, y)`` = ``(columns, rows)``
(``(x, y, z)`` in 3D). NumPy arrays from :func:`SimpleITK.GetArrayFromImage` are indexed the
other way round, ``[row, column]`` = ``[y, x]``.

Images whose file carries no physical spacing (PNG, JPEG, BMP, TIFF; a PNG's or TIFF's dpi tag
is a printing resolution, not the scanner's pixel size) are *spacing-unknown* unless
``spacing=`` is given. A mm-based operation on them raises :class:`SpacingError`; pass
``spacing="pixel"`` to :func:`load_image` to work in pixel units on purpose. The origin of
an image's spacing is recorded in the image's metadata; see :func:`spacing_source`. Every
spacing given by a user (argument, manifest cell, case field) is read by one parser,
:func:`parse_spacing`.

Plausibility: a 2D ultrasound image has between :data:`SPACING_RANGE_MM` = 0.005 and 2 mm per
pixel (ultra-high-frequency probes reach ~0.01 mm, abdominal sector scans ~0.5 mm). A spacing
outside that range is almost always a unit error (cm or µm for mm, a dpi value); it is refused
by :func:`radiomics_aln.cases.load_case_rois` and
:func:`radiomics_aln.extraction.extract_features`, whose ``spacing_range=`` argument widens or
disables the check (:func:`check_spacing_range`).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import SimpleITK as sitk

from radiomics_aln._validation import SPACING_RANGE_MM, check_spacing_limits
from radiomics_aln.exceptions import InputError, SpacingError

__all__ = [
    "SPACING_RANGE_MM",
    "LoadedImage",
    "check_spacing_range",
    "load_image",
    "load_image_with_fov",
    "parse_spacing",
    "spacing_source",
]

logger = logging.getLogger(__name__)

#: Metadata key holding where an image's spacing came from (see :func:`spacing_source`).
SPACING_SOURCE_KEY = "radiomics_aln_spacing_source"
#: Metadata key holding the file (or description) an image or mask came from, for messages.
FILE_KEY = "radiomics_aln_source_file"

RASTER_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
ITK_SUFFIXES = {".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd", ".hdr", ".img"}
DICOM_SUFFIXES = {".dcm", ".dicom"}
SUPPORTED_FORMATS = "NRRD, NIfTI, MHA/MHD, single-frame DICOM, PNG, JPEG, BMP or TIFF"

# ITU-R BT.601 luma weights, the ones PIL's convert("L") uses: Y = 0.299 R + 0.587 G + 0.114 B.
_LUMA = (299, 587, 114)

# Spacing sources after which mm operations are allowed.
_KNOWN = {"header", "argument", "dicom_us_region", "dicom_pixel_spacing", "pixel", "image"}
_PIXEL_WORDS = {"pixel", "pixels", "px"}


# --------------------------------------------------------------------------------------------
# small helpers shared with masks, ring, cases and extraction
# --------------------------------------------------------------------------------------------


def file_suffix(path: Path) -> str:
    """The lower-case file extension, ``.nii.gz`` counted as one."""
    name = path.name.lower()
    if name.endswith(".nii.gz"):
        return ".nii.gz"
    return path.suffix.lower()


def looks_like_dicom(path: Path) -> bool:
    """Whether a file starts with the DICOM preamble (``DICM`` at byte 128)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def format_tuple(values: Sequence[float]) -> str:
    """``(0.1, 0.2)`` with 6 significant digits, for messages."""
    return "(" + ", ".join(f"{v:.6g}" for v in values) + ")"


def image_name(image: sitk.Image) -> str:
    """Name the file an image came from, for messages."""
    if image.HasMetaDataKey(FILE_KEY):
        return image.GetMetaData(FILE_KEY)
    return "<in-memory image>"


def copy_spacing_source(src: sitk.Image, dst: sitk.Image) -> None:
    """Carry ``src``'s spacing source over to ``dst`` (``CopyInformation`` copies the grid only),
    so that an unknown spacing stays unknown on a mask or a cast copy."""
    if src.HasMetaDataKey(SPACING_SOURCE_KEY):
        dst.SetMetaData(SPACING_SOURCE_KEY, src.GetMetaData(SPACING_SOURCE_KEY))


def mask_like(arr: np.ndarray, like: sitk.Image, name: str) -> sitk.Image:
    """uint8 SimpleITK mask from a boolean array on ``like``'s grid, carrying its metadata."""
    mask = sitk.GetImageFromArray(np.ascontiguousarray(arr, dtype=np.uint8))
    mask.CopyInformation(like)
    mask.SetMetaData(SPACING_SOURCE_KEY, spacing_source(like))
    mask.SetMetaData(FILE_KEY, name)
    return mask


# --------------------------------------------------------------------------------------------
# spacing
# --------------------------------------------------------------------------------------------


def spacing_source(image: sitk.Image) -> str:
    """Where an image's pixel spacing came from.

    Parameters
    ----------
    image : SimpleITK.Image
        An image or mask, typically from :func:`load_image` or
        :func:`radiomics_aln.masks.load_mask`.

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
    if image.HasMetaDataKey(SPACING_SOURCE_KEY):
        return image.GetMetaData(SPACING_SOURCE_KEY)
    return "image"


def parse_spacing(
    value: Any, *, ndim: int | None = None, where: str = "", pixel: bool = True
) -> tuple[float, ...] | Literal["pixel"] | None:
    """Read a pixel spacing given by a user: the one parser for arguments, cases and manifests.

    Parameters
    ----------
    value : None, number, sequence of numbers or text
        mm per pixel: one number (isotropic), one number per axis in ``(x, y)`` =
        ``(columns, rows)`` order, or text such as ``"0.1"``, ``"0.1,0.2"``, ``"0.1 0.2"`` or
        ``"0.1x0.2"``; ``"pixel"`` (``"pixels"``, ``"px"``) declares pixel units.
    ndim : int, optional
        Axes of the image. One number is repeated ``ndim`` times and any other count must
        equal ``ndim``. Without it (a case's spacing, before its image is read) one number
        means a 2D image and two or three numbers are kept.
    where : str, optional
        What the spacing belongs to (a file), put in front of the message.
    pixel : bool, default True
        Accept ``"pixel"``; False for mm-only inputs (manifest cells, cases).

    Returns
    -------
    tuple of float, "pixel" or None
        None for None (no spacing given).

    Raises
    ------
    InputError
        Text that is not numbers, a wrong number of values, a value that is not a positive
        finite number (NaN, 0, negative, infinity, True/False).

    Examples
    --------
    >>> parse_spacing(0.1), parse_spacing("0.1,0.2"), parse_spacing(0.1, ndim=3)
    ((0.1, 0.1), (0.1, 0.2), (0.1, 0.1, 0.1))
    >>> parse_spacing(-1)
    Traceback (most recent call last):
    ...
    radiomics_aln.exceptions.InputError: spacing=-1 must be positive finite mm per pixel (e.g. 0.078)
    """
    if value is None:
        return None
    prefix = f"{where}: " if where else ""
    axes = f"(x, y{', z' if ndim == 3 else ''})"
    not_understood = InputError(
        f"{prefix}spacing={value!r} is not understood; give mm per pixel as a number "
        f"(e.g. 0.078), one number per axis in (x, y) = (columns, rows) order (e.g. (0.1, 0.2))"
        + (', or "pixel" to work in pixel units' if pixel else "")
    )
    if isinstance(value, str):
        text = value.strip().lower()
        if pixel and text in _PIXEL_WORDS:
            return "pixel"
        parts = [p for p in re.split(r"[,\s;x×]+", text) if p]
        try:
            values = np.array([float(p) for p in parts], dtype=float)
        except ValueError:
            raise not_understood from None
    else:
        flat = np.atleast_1d(np.asarray(value, dtype=object)).ravel()
        if any(isinstance(v, bool | np.bool_) for v in flat):
            raise not_understood
        try:
            values = flat.astype(float)
        except (TypeError, ValueError):
            raise not_understood from None
    if values.size == 0:
        raise not_understood
    if values.size == 1:
        values = np.repeat(values, ndim or 2)
    if (ndim is not None and values.size != ndim) or not 2 <= values.size <= 3:
        want = f"{ndim} numbers in {axes} order" if ndim else "one number per axis"
        raise InputError(
            f"{prefix}spacing={value!r} has {values.size} values"
            + (f" but the image has {ndim} axes" if ndim else "")
            + f"; give one number or {want}"
        )
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise InputError(
            f"{prefix}spacing={value!r} must be positive finite mm per pixel (e.g. 0.078)"
        )
    return tuple(float(v) for v in values)


def check_spacing_range(
    image: sitk.Image,
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM,
    *,
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
    >>> check_spacing_range(image, (1e-7, 2.0))  # a deliberate override
    """
    limits = check_spacing_limits(spacing_range)
    if limits is None or spacing_source(image) in {"pixel", "unknown"}:
        return
    spacing = image.GetSpacing()
    lo, hi = limits
    if all(lo <= v <= hi for v in spacing):
        return
    what = what or image_name(image)
    raise SpacingError(
        f"{what} has a pixel spacing of {format_tuple(spacing)} mm, outside the plausible range "
        f"{lo:g}-{hi:g} mm per pixel for 2D ultrasound ({spacing_source(image)} spacing). This "
        "is usually a unit error (cm or µm instead of mm, or a dpi value); correct the spacing, "
        "or, if it is real, widen the check with spacing_range=(low, high) (the `spacing_range` "
        "setting of the study configuration, --spacing-range on the command line)"
    )


def require_spacing(image: sitk.Image, what: str) -> str:
    """Raise SpacingError when the image's spacing is unknown; return the length unit.

    ``what`` names the physical size that needs the spacing (e.g. ``"the 5 mm ring width"``).
    Returns ``"mm"``, or ``"pixel"`` for images in pixel units.
    """
    source = spacing_source(image)
    if source not in _KNOWN:
        raise SpacingError(
            f"{what} is a physical size, but the pixel spacing of {image_name(image)} is unknown "
            "(PNG/JPEG/BMP/TIFF files carry none; their dpi tag is not the scanner's pixel "
            "size). Give the mm per pixel: load_image(path, spacing=0.078) or "
            "spacing=(x, y) = (columns, rows), or the manifest's `spacing` column; or pass "
            "spacing='pixel' to load_image to measure in pixels on purpose"
        )
    if source == "image" and all(v == 1.0 for v in image.GetSpacing()):
        # In-memory images (and results of SimpleITK filters, which drop our metadata) have
        # spacing 1 unless someone set it: probably not a real 1 mm pixel.
        warnings.warn(
            f"{what}: {image_name(image)} has spacing 1 mm per pixel, SimpleITK's default for "
            "images built in memory; if that is not the real pixel size, set it with "
            "image.SetSpacing((x_mm, y_mm)) or load the files with load_image(..., spacing=)",
            UserWarning,
            stacklevel=4,
        )
    return "pixel" if source == "pixel" else "mm"


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of an (..., 3) array, as float64; exact for grey pixels (R = G = B)."""
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b) / 1000.0


# --------------------------------------------------------------------------------------------
# readers: each returns (array in numpy order, alpha or None, spacing or None, geometry or None)
# --------------------------------------------------------------------------------------------


def open_raster(path: Path) -> Any:
    """Open a PNG/JPEG/BMP/TIFF file with PIL; refuse damaged and multi-frame files."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(path)
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(
            f"cannot read image file {path}: it is not a valid {file_suffix(path)[1:].upper()} file "
            f"(corrupt, truncated or misnamed?): {exc}"
        ) from None
    if getattr(img, "n_frames", 1) > 1:
        raise InputError(
            f"{path} holds {img.n_frames} frames; save the frame that was segmented as a "
            "single-frame image"
        )
    return img


def raster_channels(img: Any, path: Path) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """(values, alpha, is_colour) of a PIL image; values are (rows, cols) or (rows, cols, 3)."""
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


def read_itk(path: Path) -> sitk.Image:
    """Read a NRRD/NIfTI/MetaImage file with SimpleITK; a damaged file is an InputError."""
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = first[-1] if first else ""
        raise InputError(
            f"cannot read image file {path} (corrupt, truncated or not a {SUPPORTED_FORMATS} file?): "
            f"{detail}"
        ) from None


def squeeze_itk(image: sitk.Image, path: Path) -> sitk.Image:
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


class LoadedImage(NamedTuple):
    """An image and its field of view, from :func:`load_image_with_fov`.

    Attributes
    ----------
    image : SimpleITK.Image
        The image, as :func:`load_image` returns it.
    fov : SimpleITK.Image or None
        uint8 mask on the image's grid, 1 where alpha > 0 (the scanned field of view) and 0
        where the image is transparent; None when the file has no transparent pixel.
    """

    image: sitk.Image
    fov: sitk.Image | None


def load_image(
    path: str | Path,
    *,
    spacing: float | Sequence[float] | str | None = None,
) -> sitk.Image:
    """Read an image file as a float SimpleITK image with pixel spacing in mm.

    Parameters
    ----------
    path : str or Path
        NRRD (``.nrrd``/``.nhdr``), NIfTI (``.nii``/``.nii.gz``), MetaImage (``.mha``/``.mhd``),
        single-frame DICOM (``.dcm`` or any file with the DICOM preamble; needs pydicom), PNG,
        JPEG, BMP or TIFF.
    spacing : float, sequence of float, str or None, default None
        Pixel spacing in mm (read by :func:`parse_spacing`): one number (isotropic) or one per
        axis in SimpleITK order ``(x, y)`` = ``(columns, rows)``. Needed for
        PNG/JPEG/BMP/TIFF, which carry no physical spacing. When given for a file that has its
        own spacing, it overrides the file's and a warning is issued if the two differ.
        ``"pixel"`` declares pixel units on purpose (spacing 1, and mm operations then measure
        in pixels). With None and no spacing in the file, the image is spacing-unknown:
        loading works, mm operations raise :class:`SpacingError`.

    Returns
    -------
    SimpleITK.Image
        2D (or 3D) image of pixel type float32. Colour images (RGB, RGBA, palette) are converted
        to grey by ITU-R BT.601 luma, ``Y = 0.299 R + 0.587 G + 0.114 B`` (the weights of
        PIL's ``convert("L")``) without rounding, so grey pixels keep their exact values. A 3D
        file with a single slice becomes 2D. The field of view (alpha channel) is returned by
        :func:`load_image_with_fov`.

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
    that, or be loaded with ``check_geometry="size"``. A PNG's or TIFF's dpi tag is ignored:
    it is not the scanner's pixel size.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from PIL import Image
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.fromarray(np.full((40, 60), 100, np.uint8)).save(folder / "scan.png")
    >>> image = load_image(folder / "scan.png", spacing=0.1)
    >>> image.GetSize(), image.GetSpacing(), image.GetPixelIDTypeAsString()
    ((60, 40), (0.1, 0.1), '32-bit float')
    >>> spacing_source(load_image(folder / "scan.png"))
    'unknown'
    """
    return _read_image(path, spacing)[0]


def load_image_with_fov(
    path: str | Path,
    *,
    spacing: float | Sequence[float] | str | None = None,
) -> LoadedImage:
    """Read an image file (as :func:`load_image`) and its field of view from the alpha channel.

    Parameters
    ----------
    path, spacing
        As in :func:`load_image`.

    Returns
    -------
    LoadedImage
        ``(image, fov)``: the image as :func:`load_image` returns it and the field-of-view mask
        (1 where alpha > 0), or None when the file has no transparent pixel. A fully
        transparent alpha channel is ignored with a warning.

    Raises
    ------
    InputError
        As :func:`load_image`.

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
    >>> image, fov = load_image_with_fov(folder / "scan.png", spacing=0.1)
    >>> image.GetSize(), int(sitk.GetArrayViewFromImage(fov).sum())  # 30 rows x 60 columns
    ((60, 40), 1800)
    """
    image, alpha, path = _read_image(path, spacing)
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
            fov = mask_like(inside, image, f"{path} (alpha > 0)")
    return LoadedImage(image, fov)


def _decode(path: Path) -> tuple[sitk.Image, np.ndarray | None, tuple[float, ...] | None, str]:
    """(image, alpha, the file's own spacing or None, spacing source) of an image file."""
    suffix = file_suffix(path)
    alpha: np.ndarray | None = None
    file_spacing: tuple[float, ...] | None = None
    source = "unknown"
    if suffix in RASTER_SUFFIXES:
        values, alpha, colour = raster_channels(open_raster(path), path)
        arr = _luminance(values) if colour else values.astype(np.float64)
        image = sitk.GetImageFromArray(arr)
    elif suffix in DICOM_SUFFIXES or (suffix not in ITK_SUFFIXES and looks_like_dicom(path)):
        arr, file_spacing, source = _read_dicom(path)
        image = sitk.GetImageFromArray(arr)
        if file_spacing is not None:
            image.SetSpacing(file_spacing)
    elif suffix in ITK_SUFFIXES:
        image = squeeze_itk(read_itk(path), path)
        image, alpha = _itk_to_scalar(image, path)
        file_spacing, source = tuple(image.GetSpacing()), "header"
    else:
        raise InputError(
            f"{path}: unknown image format {suffix or '(no extension)'}; supported: "
            f"{SUPPORTED_FORMATS}"
        )
    return image, alpha, file_spacing, source


def _read_image(path: Any, spacing: Any) -> tuple[sitk.Image, np.ndarray | None, Path]:
    """The float32 image with its spacing and metadata, its alpha channel and its path."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"image file not found: {path}")
    if path.is_dir():
        raise InputError(
            f"{path} is a folder; give the image file (a DICOM series folder is not supported: "
            "export the segmented frame as a single file)"
        )
    image, alpha, file_spacing, source = _decode(path)
    parsed = parse_spacing(spacing, ndim=image.GetDimension(), where=str(path))
    if parsed == "pixel":
        image.SetSpacing((1.0,) * image.GetDimension())
        source = "pixel"
    elif parsed is not None:
        if file_spacing is not None and not np.allclose(parsed, file_spacing, rtol=1e-3, atol=0.0):
            warnings.warn(
                f"{path}: spacing={format_tuple(parsed)} mm overrides the file's own spacing "
                f"{format_tuple(file_spacing)} mm ({source}); remove spacing= to use the file's",
                UserWarning,
                stacklevel=3,
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
    image.SetMetaData(SPACING_SOURCE_KEY, source)
    image.SetMetaData(FILE_KEY, str(path))
    logger.debug(
        "loaded %s: size %s, spacing %s (%s)", path, image.GetSize(), image.GetSpacing(), source
    )
    return image, alpha, path
