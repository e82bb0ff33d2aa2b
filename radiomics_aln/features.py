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

A feature table (one row per case, index ``case_id``) is written and read back bit for bit by
:func:`write_features` and :func:`read_features` (Parquet or CSV).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from radiomics_aln.exceptions import InputError

__all__ = [
    "CSV_EXACT_FLOATS",
    "IMAGES",
    "RING_ROIS",
    "ROI_NAMES",
    "SEP",
    "TUMOR_IMAGE_ROIS",
    "feature_name",
    "image_of",
    "read_features",
    "roi_columns",
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
    if roi not in TUMOR_IMAGE_ROIS:
        raise InputError(f"unknown ROI {roi!r}; use {', '.join(ROI_NAMES)}")
    return "tumor"


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
