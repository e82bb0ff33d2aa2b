"""Masks: reading segmentations onto their image's grid, labels, connected components.

:func:`load_mask` reads one or more mask files (any format :mod:`radiomics_aln.images` reads
except DICOM; label maps, grey or colour masks, masks drawn in the alpha channel) as a binary
uint8 mask on an image's grid; :func:`load_mask_with_components` also counts the connected
components drawn and kept. :func:`plot_rois` draws an image with its ROIs for quality control.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from radiomics_aln.exceptions import GeometryError, InputError
from radiomics_aln.images import (
    DICOM_SUFFIXES,
    FILE_KEY,
    ITK_SUFFIXES,
    RASTER_SUFFIXES,
    file_suffix,
    format_tuple,
    image_name,
    looks_like_dicom,
    mask_like,
    open_raster,
    raster_channels,
    read_itk,
    require_spacing,
    spacing_source,
    squeeze_itk,
)

__all__ = [
    "LoadedMask",
    "check_mask_options",
    "load_mask",
    "load_mask_with_components",
    "plot_rois",
]

logger = logging.getLogger(__name__)

# Tolerances for comparing grids (see grid_problem).
_SPACING_RTOL = 1e-4
_ORIGIN_TOL_PX = 1e-3
_DIRECTION_ATOL = 1e-4


class LoadedMask(NamedTuple):
    """A mask and its connected components, from :func:`load_mask_with_components`.

    Attributes
    ----------
    mask : SimpleITK.Image
        uint8 {0, 1} mask on the image's grid.
    n_components : int
        Connected components drawn (8-connectivity in 2D, 26 in 3D).
    n_components_used : int
        Components kept (after ``min_area_mm2`` and ``combine``).
    """

    mask: sitk.Image
    n_components: int
    n_components_used: int


def format_labels(values: np.ndarray, limit: int = 8) -> str:
    """The first ``limit`` label values, as text for messages."""
    vals = [int(v) if float(v).is_integer() else float(v) for v in values[:limit]]
    text = ", ".join(str(v) for v in vals)
    return text + (f", ... ({len(values) - limit} more)" if len(values) > limit else "")


def _read_mask_values(
    item: Any, like: sitk.Image, label: Any
) -> tuple[np.ndarray, sitk.Image | None, str]:
    """Mask values in numpy order, its own geometry (None for raster files) and its name."""
    if isinstance(item, sitk.Image):
        img = squeeze_itk(item, Path("<in-memory mask>")) if item.GetDimension() == 3 else item
        name = item.GetMetaData(FILE_KEY) if item.HasMetaDataKey(FILE_KEY) else "<in-memory mask>"
        return sitk.GetArrayFromImage(img), img, name
    if isinstance(item, np.ndarray):
        return item, None, "<array mask>"
    path = Path(item).expanduser()
    name = str(path)
    if not path.exists():
        raise InputError(f"mask file not found: {path}")
    suffix = file_suffix(path)
    if suffix in RASTER_SUFFIXES:
        values, alpha, colour = raster_channels(open_raster(path), path)
        if colour:
            values = _colour_mask_values(values, alpha, label, name)
        elif alpha is not None and not np.any(values) and np.any(alpha):
            values = alpha  # a mask drawn only in the alpha channel
        return values, None, name
    if suffix in ITK_SUFFIXES:
        img = squeeze_itk(read_itk(path), path)
        arr = sitk.GetArrayFromImage(img)
        if img.GetNumberOfComponentsPerPixel() > 1:
            rgb = arr[..., :3] if arr.shape[-1] >= 3 else arr[..., :1].repeat(3, axis=-1)
            alpha = arr[..., 3] if arr.shape[-1] == 4 else None
            arr = _colour_mask_values(rgb, alpha, label, name)
        return arr, img, name
    if suffix in DICOM_SUFFIXES or looks_like_dicom(path):
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
                f"mask {name} has {present.size} labels ({format_labels(present)}) but no "
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
            f"mask {name} has no pixels with label {format_labels(np.asarray(missing))}; "
            f"its labels are {format_labels(present) if present.size else 'none (it is empty)'}. "
            "Choose one of them with label="
        )
    return np.isin(values, wanted)


def grid_problem(a: sitk.Image, b: sitk.Image) -> str | None:
    """Describe how two grids differ (size, spacing, origin, direction), or None.

    The one grid test of the package (masks on their image, the ring's ``within``, masks given
    in memory to extraction), with tolerances relative to the pixel size.
    """
    if a.GetSize() != b.GetSize():
        return f"size {a.GetSize()} vs {b.GetSize()} pixels (x, y)"
    sa, sb = np.asarray(a.GetSpacing()), np.asarray(b.GetSpacing())
    if not np.allclose(sa, sb, rtol=_SPACING_RTOL, atol=0.0):
        return f"spacing {format_tuple(sa)} vs {format_tuple(sb)} mm (x, y)"
    oa, ob = np.asarray(a.GetOrigin()), np.asarray(b.GetOrigin())
    if np.any(np.abs(oa - ob) > _ORIGIN_TOL_PX * sa.min()):
        return f"origin {format_tuple(oa)} vs {format_tuple(ob)} mm"
    da, db = np.asarray(a.GetDirection()), np.asarray(b.GetDirection())
    if da.shape != db.shape or not np.allclose(da, db, atol=_DIRECTION_ATOL):
        return f"direction {format_tuple(da)} vs {format_tuple(db)}"
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
            f"{image_name(like)} is {'x'.join(map(str, like.GetSize()))}.{hint}"
        )
    # Compare spacing/origin/direction only when both files carry physical geometry.
    if check_geometry == "size" or geometry is None:
        return
    if spacing_source(like) not in {"header", "dicom_us_region", "dicom_pixel_spacing", "image"}:
        return
    problem = grid_problem(geometry, like)
    if problem is not None:
        raise GeometryError(
            f"mask {name} and image {image_name(like)} are on different grids: mask vs image "
            f"{problem}. Resample the mask onto the image (e.g. with SimpleITK.Resample and "
            "nearest-neighbour interpolation), or, if you know the mask was drawn on this image "
            "and only its header differs, pass check_geometry='size'"
        )


def load_mask(
    paths: str | Path | sitk.Image | np.ndarray | Sequence[str | Path | sitk.Image | np.ndarray],
    like: sitk.Image,
    *,
    label: int | Sequence[int] | tuple[int, int, int] | None = None,
    combine: Literal["union", "largest"] = "union",
    min_area_mm2: float | None = None,
    check_geometry: Literal["strict", "size"] = "strict",
) -> sitk.Image:
    """Read one or more mask files as a binary uint8 mask on an image's grid.

    Parameters
    ----------
    paths : path, SimpleITK.Image, ndarray or a sequence of them
        Mask file(s) in any format :func:`radiomics_aln.images.load_image` reads except DICOM; a
        string with several paths joined by ``;`` (as in a manifest) is split. Arrays are in
        NumPy order ``[row, column]``.
    like : SimpleITK.Image
        The image the mask belongs to (from :func:`radiomics_aln.images.load_image`); the mask
        gets its grid.
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
    return load_mask_with_components(
        paths,
        like,
        label=label,
        combine=combine,
        min_area_mm2=min_area_mm2,
        check_geometry=check_geometry,
    ).mask


def load_mask_with_components(
    paths: str | Path | sitk.Image | np.ndarray | Sequence[str | Path | sitk.Image | np.ndarray],
    like: sitk.Image,
    *,
    label: int | Sequence[int] | tuple[int, int, int] | None = None,
    combine: Literal["union", "largest"] = "union",
    min_area_mm2: float | None = None,
    check_geometry: Literal["strict", "size"] = "strict",
) -> LoadedMask:
    """Read a mask as :func:`load_mask` does, with its connected components counted.

    Parameters
    ----------
    paths, like, label, combine, min_area_mm2, check_geometry
        As in :func:`load_mask`.

    Returns
    -------
    LoadedMask
        ``mask`` (as :func:`load_mask` returns it), ``n_components`` (connected components
        drawn) and ``n_components_used`` (components kept by ``min_area_mm2`` and
        ``combine``).

    Raises
    ------
    InputError, GeometryError, SpacingError
        As :func:`load_mask`.

    Examples
    --------
    >>> import numpy as np
    >>> import SimpleITK as sitk
    >>> image = sitk.GetImageFromArray(np.zeros((50, 60), dtype=np.float32))
    >>> image.SetSpacing((0.2, 0.2))
    >>> blobs = np.zeros((50, 60), dtype=np.uint8)
    >>> blobs[10:20, 10:30] = 1
    >>> blobs[30:32, 40:42] = 1  # a speck
    >>> loaded = load_mask_with_components(blobs, like=image, combine="largest")
    >>> loaded.n_components, loaded.n_components_used
    (2, 1)
    """
    if not isinstance(like, sitk.Image):
        raise InputError(
            f"like= must be the SimpleITK image the mask belongs to (from load_image), got "
            f"{type(like).__name__}"
        )
    check_mask_options(combine, min_area_mm2, combine_key="combine")
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

    kept = select_components(union, like, f"mask {name}", combine, min_area_mm2)
    return LoadedMask(mask_like(kept.foreground, like, name), kept.n_components, kept.n_used)


def check_mask_options(
    combine: Any, min_area_mm2: Any, *, where: str = "", combine_key: str = "mask_combine"
) -> None:
    """Validate the component options (``mask_combine`` / ``combine`` and ``min_area_mm2``).

    ``where`` (e.g. ``"case 7: "``) prefixes the message; ``combine_key`` is the name the
    caller's user knows the first option by.
    """
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


class Components(NamedTuple):
    """Connected components kept by :func:`select_components`."""

    foreground: np.ndarray
    n_components: int
    n_used: int


def select_components(
    fg: np.ndarray, like: sitk.Image, name: str, combine: str, min_area_mm2: float | None
) -> Components:
    """Connected components to keep: (foreground, components drawn, components kept).

    Components below ``min_area_mm2`` are dropped first (none left is an error naming the
    mask, its area and the minimum), then ``combine="largest"`` keeps the largest one.
    ``name`` starts the error message (e.g. ``"mask a.png"``).
    """
    structure = ndimage.generate_binary_structure(fg.ndim, fg.ndim)
    labels, n = ndimage.label(fg, structure=structure)
    if n == 0 or (n == 1 and min_area_mm2 is None):
        return Components(fg, n, n)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    sizes[0] = 0
    keep = np.ones(n + 1, dtype=bool)
    keep[0] = False
    if min_area_mm2 is not None:
        unit = require_spacing(like, f"min_area_mm2={min_area_mm2:g}")
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
    return Components(keep[labels], n, int(keep.sum()))


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


def binary_array(mask: sitk.Image, what: str) -> np.ndarray:
    """A 0/1 mask image as a boolean array; anything else is an InputError naming ``what``."""
    if not isinstance(mask, sitk.Image):
        raise InputError(
            f"{what} must be a SimpleITK mask image (from load_mask), got {type(mask).__name__}"
        )
    if mask.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(f"{what} {image_name(mask)} is a vector image; give a binary mask")
    arr = sitk.GetArrayFromImage(mask)
    values = np.unique(arr)
    if not np.all(np.isin(values, (0, 1))):
        raise InputError(
            f"{what} {image_name(mask)} must be binary (0/1) but has values "
            f"{format_labels(values)}; build it with load_mask"
        )
    return arr.astype(bool)


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
    >>> from radiomics_aln.ring import peritumoral_ring
    >>> ring = peritumoral_ring(tumor, width_mm=2.0)
    >>> ax = plot_rois(img, {"tumor": tumor, "peritumoral": ring}, ax=ax)
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
