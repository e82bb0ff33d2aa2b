"""Names of ROIs and of feature columns: the one definition every module uses.

A feature table has one column per ROI x feature, named ``<roi>__<feature>``: the ROI name, the
separator :data:`SEP` (two underscores) and the PyRadiomics name, e.g.
``tumor__original_glcm_Contrast``. PyRadiomics names never contain two underscores in a row, so
the first :data:`SEP` splits a column name unambiguously.

ROIs (:data:`ROI_NAMES`, in the order their columns appear in feature tables):

- ``tumor``: the tumour mask;
- ``peritumoral``: the ring of tissue within ``width_mm`` of the tumour, outside it;
- ``tumor_peritumoral``: tumour and ring together;
- ``ln``: the axillary lymph-node mask, on its own image.

The first three lie on the tumour image (:data:`TUMOR_IMAGE_ROIS`), the last on the lymph-node
image; :func:`image_of` says which.

Besides these, rings and shells of a stated width are ROIs of their own (several in one run, to
compare widths): ``peritumoral_<w>mm``, the ring of tissue within ``w`` mm of the tumour
(:func:`ring_roi_name`), and ``shell_<a>_<b>mm``, the tissue farther than ``a`` mm and at most
``b`` mm from it (:func:`shell_roi_name`); a decimal point is written ``p``
(``peritumoral_2p5mm``). :func:`ring_geometry` reads ``(a, b)`` back from the name, so the
name alone says which mask a column was measured on; :func:`check_roi_name` accepts every ROI
name. ``peritumoral`` without a width stays the ring of the configured ``width_mm``.

A feature table (one row per case, index ``case_id``) is written and read back bit for bit by
:func:`write_features` and :func:`read_features` (Parquet or CSV).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from radiomics_aln._validation import check_ring_width
from radiomics_aln.exceptions import InputError

__all__ = [
    "CSV_EXACT_FLOATS",
    "IMAGES",
    "RING_ROIS",
    "ROI_NAMES",
    "SEP",
    "TUMOR_IMAGE_ROIS",
    "check_roi_name",
    "feature_name",
    "image_of",
    "ring_geometry",
    "ring_roi_name",
    "roi_label",
    "read_features",
    "roi_columns",
    "shell_roi_name",
    "split_feature_name",
    "write_features",
]

#: ROI names, in the order their columns appear in feature tables.
ROI_NAMES: tuple[str, ...] = ("tumor", "peritumoral", "tumor_peritumoral", "ln")
#: The ROIs drawn on (or built around the mask of) the tumour image.
TUMOR_IMAGE_ROIS: tuple[str, ...] = ("tumor", "peritumoral", "tumor_peritumoral")
#: The ROIs built from the peritumoral ring.
RING_ROIS: tuple[str, ...] = ("peritumoral", "tumor_peritumoral")
#: The images of a case: the tumour image and the lymph-node image (each with its own masks).
IMAGES: tuple[str, ...] = ("tumor", "ln")
#: Separator between ROI and feature name in a column name.
SEP = "__"


def feature_name(roi: str, name: str) -> str:
    """The column name of feature ``name`` of ``roi``.

    Examples
    --------
    >>> feature_name("tumor", "original_glcm_Contrast")
    'tumor__original_glcm_Contrast'
    """
    return f"{roi}{SEP}{name}"


def split_feature_name(column: str) -> tuple[str, str]:
    """``(roi, feature)`` of a column name; ``("", column)`` when it has no :data:`SEP`.

    Examples
    --------
    >>> split_feature_name("peritumoral__original_firstorder_Mean")
    ('peritumoral', 'original_firstorder_Mean')
    >>> split_feature_name("age")
    ('', 'age')
    """
    roi, sep, rest = str(column).partition(SEP)
    return (roi, rest) if sep else ("", str(column))


def roi_columns(columns: Iterable[str], roi: str) -> list[str]:
    """The columns of one ROI, in their order.

    Examples
    --------
    >>> roi_columns(["tumor__a", "ln__a", "tumor__b", "tumor_peritumoral__a"], "tumor")
    ['tumor__a', 'tumor__b']
    """
    prefix = f"{roi}{SEP}"
    return [c for c in columns if str(c).startswith(prefix)]


def image_of(roi: str) -> str:
    """The image a ROI lies on: ``"ln"`` for the lymph node, ``"tumor"`` for the others.

    Examples
    --------
    >>> image_of("peritumoral"), image_of("ln")
    ('tumor', 'ln')
    """
    if roi == "ln":
        return "ln"
    check_roi_name(roi)
    return "tumor"


# --------------------------------------------------------------------------------------------
# Rings and shells of a stated width
# --------------------------------------------------------------------------------------------

_NUMBER = r"(\d+(?:p\d+)?)"
_RING_RE = re.compile(rf"peritumoral_{_NUMBER}mm")
_SHELL_RE = re.compile(rf"shell_{_NUMBER}_{_NUMBER}mm")


def _mm_text(value: Any, name: str, *, allow_zero: bool = False) -> str:
    """A width in mm as it appears in a ROI name: ``2`` -> ``"2"``, ``2.5`` -> ``"2p5"``."""
    if allow_zero and isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return "0"
    width = check_ring_width(value, name)
    text = format(width, "g")
    if "e" in text or float(text) != width:
        raise InputError(
            f"{name}={value!r} has more digits than a ROI name keeps; round it (e.g. to 0.1 mm)"
        )
    return text.replace(".", "p")


def ring_roi_name(width_mm: float) -> str:
    """The name of the peritumoral ring ROI of ``width_mm`` mm.

    Examples
    --------
    >>> ring_roi_name(2), ring_roi_name(2.5)
    ('peritumoral_2mm', 'peritumoral_2p5mm')
    """
    return f"peritumoral_{_mm_text(width_mm, 'width_mm')}mm"


def shell_roi_name(inner_mm: float, outer_mm: float) -> str:
    """The name of the shell ROI from ``inner_mm`` to ``outer_mm`` mm around the tumour.

    ``inner_mm`` may be 0 (the shell is then the ring of ``outer_mm``, under another name).

    Examples
    --------
    >>> shell_roi_name(0, 2), shell_roi_name(2, 5)
    ('shell_0_2mm', 'shell_2_5mm')
    """
    inner = _mm_text(inner_mm, "inner_mm", allow_zero=True)
    outer = _mm_text(outer_mm, "outer_mm")
    if not float(inner_mm) < float(outer_mm):
        raise InputError(
            f"a shell needs inner_mm < outer_mm, got {inner_mm!r} and {outer_mm!r} ([a, b] in mm)"
        )
    return f"shell_{inner}_{outer}mm"


def ring_geometry(roi: str) -> tuple[float, float] | None:
    """``(inner_mm, outer_mm)`` of a ring or shell ROI named with its width; else None.

    The ring ``peritumoral_<w>mm`` is ``(0, w)``. ``"peritumoral"`` (the configured width)
    gives None: its width is not part of its name.

    Examples
    --------
    >>> ring_geometry("peritumoral_2p5mm"), ring_geometry("shell_2_5mm"), ring_geometry("tumor")
    ((0.0, 2.5), (2.0, 5.0), None)
    """
    roi = str(roi)
    m = _RING_RE.fullmatch(roi)
    if m:
        geometry = (0.0, float(m.group(1).replace("p", ".")))
    else:
        m = _SHELL_RE.fullmatch(roi)
        if not m:
            return None
        geometry = (float(m.group(1).replace("p", ".")), float(m.group(2).replace("p", ".")))
    try:  # only the canonical spelling names a ROI ("peritumoral_02mm" does not)
        canonical = (
            ring_roi_name(geometry[1]) if m.re is _RING_RE else shell_roi_name(*geometry)
        )
    except InputError:
        return None
    return geometry if canonical == roi else None


def check_roi_name(roi: Any) -> str:
    """``roi`` if it names a ROI (:data:`ROI_NAMES` or a ring/shell with its width), else raise.

    Examples
    --------
    >>> check_roi_name("shell_0_2mm")
    'shell_0_2mm'
    """
    if isinstance(roi, str) and (roi in ROI_NAMES or ring_geometry(roi) is not None):
        return roi
    raise InputError(
        f"unknown ROI {roi!r}; use {', '.join(ROI_NAMES)}, a ring of a stated width such as "
        "peritumoral_2mm (2.5 mm: peritumoral_2p5mm) or a shell such as shell_2_5mm"
    )


def roi_label(roi: str) -> str:
    """What readers see for a ROI: ``"peritumoral_2mm"`` -> ``"Peritumoral 2 mm"``.

    Examples
    --------
    >>> roi_label("peritumoral_2p5mm"), roi_label("shell_0_2mm"), roi_label("ln")
    ('Peritumoral 2.5 mm', 'Peritumoral shell 0-2 mm', 'LN')
    """
    fixed = {"tumor": "Tumor", "peritumoral": "Peritumoral",
             "tumor_peritumoral": "Tumor+peritumoral", "ln": "LN"}  # fmt: skip
    if roi in fixed:
        return fixed[roi]
    geometry = ring_geometry(check_roi_name(roi))
    assert geometry is not None
    inner, outer = geometry
    if roi.startswith("shell_"):
        return f"Peritumoral shell {inner:g}-{outer:g} mm"
    return f"Peritumoral {outer:g} mm"


# --------------------------------------------------------------------------------------------
# Feature tables on disk
# --------------------------------------------------------------------------------------------


def write_features(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a feature (or diagnostics) table to Parquet (``.parquet``) or CSV (``.csv``).

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by ``case_id``.
    path : path
        Target file; the format follows the extension.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        Unknown extension, or the index is not named ``case_id``.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> df = pd.DataFrame(
    ...     {"tumor__original_firstorder_Mean": [0.1, 1 / 3]},
    ...     index=pd.Index(["001", "002"], name="case_id"),
    ... )
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_features(df, os.path.join(d, "f.csv"))
    ...     back = read_features(p)
    >>> back.equals(df)
    True
    """
    path = Path(path)
    if table.index.name != "case_id":
        raise InputError(
            f"write_features: the index must be named 'case_id', not {table.index.name!r}"
        )
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table.to_parquet(path)
    elif suffix == ".csv":
        table.to_csv(path)
    else:
        raise InputError(f"write_features: {path} must end in .parquet or .csv")
    return path


#: ``pd.read_csv`` options that parse every float back to the exact double written: pandas 3
#: does so by default (and deprecates the option); pandas 2's default C parser may differ in
#: the last bit.
CSV_EXACT_FLOATS: dict[str, str] = (
    {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
)


def read_features(path: str | os.PathLike) -> pd.DataFrame:
    """Read a table written by :func:`write_features`, with its dtypes intact.

    CSV: ``case_id`` is read as text (leading zeros kept), floats with round-trip precision so
    every value is bit-identical to what was written.

    Parameters
    ----------
    path : path
        A ``.parquet`` or ``.csv`` file.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``case_id``.

    Raises
    ------
    InputError
        Missing file, unknown extension or no ``case_id`` column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"read_features: {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        df = pd.read_parquet(path)
        if df.index.name != "case_id":
            raise InputError(f"read_features: {path} has no case_id index")
        return df
    if suffix != ".csv":
        raise InputError(f"read_features: {path} must end in .parquet or .csv")
    header = pd.read_csv(path, nrows=0)
    if "case_id" not in header.columns:
        raise InputError(f"read_features: {path} has no case_id column")
    df = pd.read_csv(path, dtype={"case_id": "str"}, **CSV_EXACT_FLOATS)
    return df.set_index("case_id")
