"""Cohort manifests: one CSV row per patient naming its images, masks, outcome and cohort.

A manifest is the single table a study starts from. :func:`read_manifest` reads and checks it
(without decoding any image) and returns a :class:`Manifest`: a list of
:class:`~radiomics_aln.cases.Case` objects plus a tidy table of outcome, cohort and clinical
variables indexed by ``case_id``.

Manifest columns (paths are relative to the manifest's folder unless absolute):

========================================  =================================================
column                                    meaning
========================================  =================================================
``case_id``                               unique id, kept as text (``007`` stays ``007``)
``cohort``                                optional: train, internal, external, prospective...
``outcome``                               0/1 endpoint; another name via ``outcome=``
``tumor_image``, ``tumor_mask``           tumour image and mask(s); several masks joined by ``;``
``ln_image``, ``ln_mask``                 optional: lymph-node image and mask(s)
``tumor_mask_reader2``, ``ln_mask_reader2``  optional: second reader's masks (inter-observer)
``tumor_mask_repeat``, ``ln_mask_repeat``    optional: first reader again (intra-observer)
``spacing``                               optional: mm per pixel of the tumour image when
                                          its file has none (PNG/JPEG): ``0.1`` or ``"0.1,0.2"``
                                          in (x, y) = (columns, rows) order
``ln_spacing``                            optional: same for the LN image (defaults to spacing)
``mask_combine``                          optional: ``union`` or ``largest`` connected
                                          component of this case's masks (empty: the batch
                                          setting, default union)
``min_area_mm2``                          optional: drop this case's mask components smaller
                                          than this many mm² (empty: the batch setting)
any other column                          a clinical variable (age, size_mm, margin, ...)
========================================  =================================================

An empty spacing cell, or one of pandas' missing-value markers (``nan``, ``NaN``, ``N/A``,
``NA``, ``NULL``, ``None``, ...), means *no spacing given*, never a default: a PNG/JPEG case
without spacing is refused by extraction (:class:`~radiomics_aln.exceptions.SpacingError`
naming the case and image). A spacing cell is read by
:func:`radiomics_aln.images.parse_spacing`, the parser of every spacing; one outside
``spacing_range`` (default 0.005-2 mm per pixel, :data:`radiomics_aln.images.SPACING_RANGE_MM`)
is a manifest problem: usually a unit error.

:func:`write_manifest` writes a manifest table (e.g. built in Python, by
:func:`radiomics_aln.folder_dataset.manifest_from_folder` or
:func:`radiomics_aln.splits.split_cohort`) as a CSV that :func:`read_manifest` reads back: image
and mask paths relative to the CSV's folder, several masks joined by ``;``.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import numbers
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._validation import SPACING_RANGE_MM, check_spacing_limits, format_items
from radiomics_aln.cases import REPEAT_READERS, Case
from radiomics_aln.exceptions import InputError, ManifestError
from radiomics_aln.features import IMAGES
from radiomics_aln.images import parse_spacing

__all__ = ["PATH_COLUMNS", "Manifest", "read_manifest", "write_manifest"]

logger = logging.getLogger(__name__)

_REQUIRED = ("case_id", "tumor_image", "tumor_mask")
#: The manifest columns that hold image or mask paths (masks: several joined by ``;``).
PATH_COLUMNS = (
    "tumor_image",
    "tumor_mask",
    "ln_image",
    "ln_mask",
    *(f"{kind}_mask_{reader}" for kind in IMAGES for reader in REPEAT_READERS),
)
_MASK_OPTIONS = ("mask_combine", "min_area_mm2")
_RESERVED = ("case_id", "cohort", "spacing", "ln_spacing", *_MASK_OPTIONS, *PATH_COLUMNS)


class Manifest:
    """A checked cohort: cases plus a table of their outcome, cohort and clinical variables.

    Built by :func:`read_manifest`. Iterating yields :class:`Case` objects; ``len()`` counts
    them; ``manifest["001"]`` returns one case by id.

    Attributes
    ----------
    cases : list of Case
        In manifest order.
    table : pandas.DataFrame
        Indexed by ``case_id``: ``cohort`` (if the manifest has it), the outcome column (under
        its own name) and every clinical column, with numbers parsed as numbers.
    path : Path or None
        The manifest file.
    outcome_column : str or None
        Name of the outcome column.
    """

    def __init__(
        self,
        cases: Iterable[Case],
        table: pd.DataFrame,
        path: str | Path | None = None,
        outcome_column: str | None = "outcome",
    ) -> None:
        self.cases = list(cases)
        self.table = table
        self.path = None if path is None else Path(path)
        self.outcome_column = outcome_column
        self._by_id = {c.case_id: c for c in self.cases}

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases)

    def __contains__(self, case_id: object) -> bool:
        return str(case_id) in self._by_id

    def __getitem__(self, case_id: str) -> Case:
        try:
            return self._by_id[str(case_id)]
        except KeyError:
            raise KeyError(f"no case {case_id!r} in manifest {self.path}") from None

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self._cohort_counts().items())
        where = f"{self.path}, " if self.path else ""
        return f"Manifest({where}{len(self)} cases{': ' + counts if counts else ''})"

    def _cohort_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.cases:
            if c.cohort is not None:
                out[c.cohort] = out.get(c.cohort, 0) + 1
        return out

    @property
    def case_ids(self) -> list[str]:
        """Case ids in manifest order."""
        return [c.case_id for c in self.cases]

    @property
    def cohorts(self) -> list[str]:
        """Cohort names in order of first appearance."""
        return list(self._cohort_counts())

    @property
    def outcomes(self) -> pd.Series:
        """The outcome as an integer Series indexed by ``case_id``."""
        if self.outcome_column is None:
            raise InputError(f"manifest {self.path} was read with outcome=None: no outcome")
        return self.table[self.outcome_column].astype(int)

    @property
    def clinical(self) -> pd.DataFrame:
        """The clinical columns only (no cohort, no outcome), indexed by ``case_id``."""
        drop = [c for c in ("cohort", self.outcome_column) if c in self.table.columns]
        return self.table.drop(columns=drop)

    def subset(
        self, cohort: str | Iterable[str] | None = None, *, case_ids: Iterable[str] | None = None
    ) -> Manifest:
        """The cases of one or more cohorts (and/or given ids), as a new Manifest.

        Examples
        --------
        >>> m = Manifest(
        ...     [
        ...         Case("a", "a.png", "a_m.png", cohort="train"),
        ...         Case("b", "b.png", "b_m.png", cohort="external"),
        ...     ],
        ...     pd.DataFrame(
        ...         {"cohort": ["train", "external"]}, index=pd.Index(["a", "b"], name="case_id")
        ...     ),
        ... )
        >>> len(m.subset("train")), m.subset(["train", "external"]).case_ids
        (1, ['a', 'b'])
        """
        keep = self.cases
        if cohort is not None:
            wanted = [cohort] if isinstance(cohort, str) else list(cohort)
            unknown = [w for w in wanted if w not in self.cohorts]
            if unknown:
                raise InputError(
                    f"cohort {format_items(unknown)} not in manifest {self.path}; it has "
                    f"{format_items(self.cohorts) or 'no cohorts'}"
                )
            keep = [c for c in keep if c.cohort in wanted]
        if case_ids is not None:
            ids = [str(i) for i in case_ids]
            missing = [i for i in ids if i not in self._by_id]
            if missing:
                raise InputError(f"case ids not in manifest {self.path}: {format_items(missing)}")
            wanted_ids = set(ids)
            keep = [c for c in keep if c.case_id in wanted_ids]
        ids = [c.case_id for c in keep]
        return Manifest(keep, self.table.loc[ids], self.path, self.outcome_column)


def _check_text(path: Path, sep: str) -> list[str]:
    """Refuse a file that is not UTF-8 CSV text; list rows with more fields than the header.

    pandas would read a UTF-16 file as an error deep in its parser, and a row with extra fields
    by shifting it onto the index (the case id becomes the first extra value): both are
    reported here, naming the line.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError([f"cannot read the file: {exc.strerror or exc}"], path) from None
    if not raw.strip():
        raise ManifestError(["the file is empty (no header, no rows)"], path)
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ManifestError(
            ["the file is UTF-16 text; save it as UTF-8 (Excel: 'CSV UTF-8 (comma delimited)')"],
            path,
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ManifestError(
            [f"the file is not UTF-8 text: line {line} has the byte {raw[exc.start]:#04x}; save "
             "it as UTF-8 (Excel: 'CSV UTF-8 (comma delimited)')"],
            path,
        ) from None  # fmt: skip
    problems = []
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        problems.append(f"line {line}: the text holds a NUL byte (a binary or damaged file?)")
        return problems
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        header = next(reader, [])
        bad = [(reader.line_num, len(row)) for row in reader if len(row) > len(header)]
    except csv.Error:
        return problems  # pandas reports the parse error with its own message
    for line, n in bad[:20]:
        problems.append(
            f"line {line} has {n} fields, the header has {len(header)} (an unquoted "
            f"{sep!r} inside a value?)"
        )
    if len(bad) > 20:
        problems.append(f"... and {len(bad) - 20} more line(s) with more fields than the header")
    if bad:  # pandas would shift these rows: nothing else can be checked reliably
        raise ManifestError(problems, path)
    return problems


def _header(path: Path, sep: str) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh, delimiter=sep), [])


def _parse_clinical(column: pd.Series) -> pd.Series:
    """Numbers become float/int columns; anything else stays text."""
    numeric = pd.to_numeric(column, errors="coerce")
    if numeric.notna().sum() == column.notna().sum():
        if numeric.notna().all() and np.all(numeric == np.round(numeric)):
            return numeric.astype("int64")
        return numeric.astype(float)
    return column


def read_manifest(
    path: str | Path,
    *,
    outcome: str | None = "outcome",
    cohorts: Iterable[str] | None = None,
    base_dir: str | Path | None = None,
    check_files: bool = True,
    sep: str = ",",
    spacing_range: tuple[float, float] | None = SPACING_RANGE_MM,
) -> Manifest:
    """Read and check a cohort manifest CSV.

    Every problem is collected before anything is raised, so one run lists all of them.

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8; a byte-order mark is fine).
    outcome : str or None, default "outcome"
        Name of the 0/1 outcome column; None for a manifest without outcome.
    cohorts : iterable of str, optional
        Allowed cohort names; a case in any other cohort is a problem. Needs a ``cohort`` column.
    base_dir : str or Path, optional
        Folder that relative paths start from; default the manifest's folder.
    check_files : bool, default True
        Check that every image and mask file exists (no file is opened).
    sep : str, default ","
        Field separator (``"\\t"`` for TSV, ``";"`` for some European spreadsheet exports;
        multiple masks in one cell are then still joined by ``;`` only if quoted).
    spacing_range : (float, float) or None, default :data:`radiomics_aln.images.SPACING_RANGE_MM`
        Plausible mm per pixel, (0.005, 2.0); a ``spacing`` or
        ``ln_spacing`` outside it is a problem (usually a unit error: cm, µm or dpi). None
        disables the check; pass the same value to
        :func:`~radiomics_aln.extraction.extract_features`.

    Returns
    -------
    Manifest
        ``.cases`` (list of :class:`Case`), ``.table`` (DataFrame indexed by ``case_id``
        with ``cohort``, the outcome column and the clinical columns), ``.path``.

    Raises
    ------
    ManifestError
        Listing every problem: missing file or columns, duplicated column names, empty or
        duplicate ``case_id``, empty or unknown cohorts, outcomes other than 0/1, missing
        image/mask paths or files, LN image without LN mask (or the reverse), repeat masks
        without the main ones, unreadable or implausible spacing, a ``mask_combine`` other
        than union/largest, a ``min_area_mm2`` that is not a non-negative number, unknown
        ``*_mask_*`` columns.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ["p1.png", "p1_mask.png", "p2.png", "p2_mask.png"]:
    ...     _ = (folder / name).write_bytes(b"")
    >>> _ = (folder / "manifest.csv").write_text(
    ...     "case_id,cohort,outcome,tumor_image,tumor_mask,spacing,age\\n"
    ...     "p1,train,1,p1.png,p1_mask.png,0.08,54\\n"
    ...     'p2,external,0,p2.png,p2_mask.png,"0.1,0.2",61\\n'
    ... )
    >>> manifest = read_manifest(folder / "manifest.csv")
    >>> manifest
    Manifest(.../manifest.csv, 2 cases: train 1, external 1)
    >>> manifest.table
            cohort  outcome  age
    case_id
    p1       train        1   54
    p2    external        0   61
    >>> manifest["p2"].spacing, manifest["p2"].tumor_image.name
    ((0.1, 0.2), 'p2.png')
    """
    limits = check_spacing_limits(spacing_range)
    path = Path(path).expanduser()
    if path.is_dir():
        raise ManifestError([f"{path} is a folder, not a manifest file"], path)
    if not path.is_file():
        raise ManifestError([f"manifest file not found: {path}"], path)
    base = Path(base_dir).expanduser() if base_dir is not None else path.parent
    raw, problems, cohorts = _read_table(path, sep, outcome, cohorts)
    rows = _Rows(raw, problems, base, check_files, limits)
    outcomes = rows.outcomes(outcome)
    cohort_values = rows.cohorts(cohorts)
    clinical_cols = [c for c in raw.columns if c not in _RESERVED and c != outcome]
    table = raw[[c for c in ("cohort",) if c in raw.columns]].copy()
    if outcome is not None:
        table[outcome] = pd.array(outcomes, dtype="Int64")
    for c in clinical_cols:
        table[c] = _parse_clinical(raw[c])
    table.index = pd.Index(raw["case_id"], name="case_id")
    # Case.clinical holds the parsed values (numbers as numbers, missing as NaN).
    # pandas < 3 returns [] (not n empty dicts) for a frame without columns.
    records = table[clinical_cols].to_dict("records") if clinical_cols else [{}] * len(table)
    cases = []
    for i in range(len(raw)):
        fields = rows.case_fields(i)
        if problems or not isinstance(rows.ids[i], str):
            continue  # keep collecting problems; cases are only built for a clean manifest
        clinical = {k: _scalar(v) for k, v in records[i].items()}
        cases.append(
            Case(rows.ids[i], **fields, outcome=outcomes[i], cohort=cohort_values[i],
                 clinical=clinical)
        )  # fmt: skip
    if problems:
        raise ManifestError(problems, path)
    if outcome is not None:
        table[outcome] = table[outcome].astype(np.int64)
    logger.info("read manifest %s: %d cases", path, len(cases))
    return Manifest(cases, table, path, outcome)


def write_manifest(
    table: pd.DataFrame,
    path: str | Path,
    *,
    base_dir: str | Path | None = None,
    relative: bool = True,
) -> Path:
    """Write a manifest table as a CSV file that :func:`read_manifest` reads back.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per case with the manifest's columns, ``case_id`` a column (or the index, named
        ``case_id``). Image and mask cells (:data:`PATH_COLUMNS`) are text or
        :class:`~pathlib.Path`; several masks of one ROI are joined by ``;`` or given as a list
        or tuple. Spacing cells are numbers, text such as ``"0.1,0.2"`` or ``(x, y)`` tuples.
        Missing cells (None, NaN) are written empty; every other column is written as it is.
    path : str or Path
        The CSV file to write (UTF-8); its folder is created.
    base_dir : str or Path, optional
        Folder that relative paths in ``table`` start from; default the working directory.
    relative : bool, default True
        Write image and mask paths relative to the CSV's folder, so that the data and the
        manifest can move together; False writes absolute paths.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        No ``case_id``; a file name that a manifest cell cannot hold (one containing ``;``,
        which separates masks, or starting or ending with a space, which :func:`read_manifest`
        strips).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> table = pd.DataFrame({
    ...     "case_id": ["007"],
    ...     "outcome": [1],
    ...     "tumor_image": [folder / "img" / "a b.png"],
    ...     "tumor_mask": [(folder / "img" / "a b_mask.png", folder / "img" / "a b_mask_1.png")],
    ...     "spacing": [(0.1, 0.2)],
    ... })
    >>> print(write_manifest(table, folder / "manifest.csv").read_text(), end="")
    case_id,outcome,tumor_image,tumor_mask,spacing
    007,1,img/a b.png,img/a b_mask.png;img/a b_mask_1.png,"0.1,0.2"
    """
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    out = table.copy()
    if "case_id" not in out.columns:
        if out.index.name != "case_id":
            raise InputError(
                "the manifest table has no `case_id` column (nor an index named case_id); "
                f"its columns are {format_items(out.columns)}"
            )
        out = out.reset_index()
    path = Path(path).expanduser()
    base = Path(os.path.abspath(base_dir if base_dir is not None else Path.cwd()))
    folder = Path(os.path.abspath(path.parent))
    ids = out["case_id"].astype(str).tolist()
    for column in [c for c in PATH_COLUMNS if c in out.columns]:
        out[column] = [
            _path_cell(value, f"case {cid}: `{column}`", base, folder, relative)
            for cid, value in zip(ids, out[column].tolist(), strict=True)
        ]
    for column in [c for c in ("spacing", "ln_spacing") if c in out.columns]:
        out[column] = [_spacing_cell(v) for v in out[column].tolist()]
    folder.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    logger.info("wrote manifest %s: %d cases", path, len(out))
    return path


def _cell_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _path_cell(value: Any, who: str, base: Path, folder: Path, relative: bool) -> str:
    """One image/mask cell as manifest text: paths (relative to ``folder``) joined by ``;``."""
    if _cell_missing(value):
        return ""
    if isinstance(value, str):
        parts: list[Any] = [p.strip() for p in value.split(";") if p.strip()]
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        parts = [value]
    texts = []
    for part in parts:
        name = os.fspath(part)
        if ";" in name or name != name.strip():
            raise InputError(
                f"{who}: the file name {name!r} cannot be written in a manifest cell ("
                + ("';' separates masks" if ";" in name else "leading or trailing spaces are "
                   "stripped when the manifest is read")
                + "); rename the file"
            )  # fmt: skip
        p = Path(name).expanduser()
        p = Path(os.path.abspath(p if p.is_absolute() else base / p))
        texts.append(Path(os.path.relpath(p, folder)).as_posix() if relative else p.as_posix())
    return ";".join(texts)


def _spacing_cell(value: Any) -> Any:
    """A spacing cell as manifest text: ``0.08``, ``"0.1,0.2"``, or empty."""
    if isinstance(value, list | tuple | np.ndarray):
        return ",".join(repr(float(v)) for v in value)
    if _cell_missing(value):
        return ""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return repr(float(value))
    return value


def _read_table(
    path: Path, sep: str, outcome: str | None, cohorts: Iterable[str] | None
) -> tuple[pd.DataFrame, list[str], list[str] | None]:
    """The manifest as text cells (stripped, empty as missing), the problems found in its
    layout so far, and the allowed cohorts as a list; raises when no row can be checked."""
    problems: list[str] = _check_text(path, sep)
    header = [h.strip() for h in _header(path, sep)]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(f"duplicated column name(s): {format_items(dupes)}")
    try:
        raw = pd.read_csv(path, dtype=str, sep=sep, encoding="utf-8-sig", skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ManifestError([f"cannot parse as CSV: {exc}"], path) from None
    raw.columns = [str(c).strip() for c in raw.columns]
    raw = raw.apply(lambda col: col.str.strip())
    raw = raw.mask(raw == "")

    required = [*_REQUIRED, *([outcome] if outcome is not None else [])]
    missing_cols = [c for c in required if c not in raw.columns]
    if missing_cols:
        problems.append(
            f"missing column(s) {format_items(missing_cols)} (found: {format_items(raw.columns)})"
        )
    if outcome in _RESERVED:
        problems.append(f"outcome={outcome!r} names a reserved column; choose the outcome column")
    mask_like = [
        c
        for c in raw.columns
        if re.match(r"^(tumou?r|ln|node)_?(mask|image|seg)", c) and c not in PATH_COLUMNS
    ]
    if mask_like:
        problems.append(
            f"unknown image/mask column(s) {format_items(mask_like)}; the known ones are "
            f"{format_items(PATH_COLUMNS)}"
        )
    if cohorts is not None:
        cohorts = [str(c) for c in ([cohorts] if isinstance(cohorts, str) else cohorts)]
        if "cohort" not in raw.columns:
            problems.append("cohorts= was given but the manifest has no `cohort` column")
    if len(raw) == 0:
        problems.append("no cases (the manifest has a header but no rows)")
    if missing_cols or len(raw) == 0:
        raise ManifestError(problems, path)
    return raw, problems, cohorts


class _Rows:
    """The rows of a manifest, read cell by cell; every problem is appended to ``problems``."""

    def __init__(self, raw: pd.DataFrame, problems: list[str], base: Path, check_files: bool,
                 limits: tuple[float, float] | None) -> None:  # fmt: skip
        self.raw, self.problems, self.base = raw, problems, base
        self.check_files, self.limits = check_files, limits
        self.lines = np.arange(len(raw)) + 2  # CSV line numbers (header is line 1)
        ids = raw["case_id"]
        for line in self.lines[ids.isna().to_numpy()]:
            problems.append(f"line {line}: empty case_id")
        counts = ids.dropna().value_counts()
        for case_id in counts.index[counts.to_numpy() > 1]:
            where = self.lines[(ids == case_id).to_numpy()]
            problems.append(f"duplicate case_id {case_id!r} on lines {format_items(where)}")
        # Plain Python lists: per-row pandas indexing is slow on large manifests.
        self.ids = ids.tolist()
        self.cells = {c: [None if pd.isna(v) else v for v in raw[c].tolist()] for c in raw.columns}

    def who(self, i: int) -> str:
        cid = self.ids[i]
        line = self.lines[i]
        return f"case {cid} (line {line})" if isinstance(cid, str) else f"line {line}"

    def cell(self, i: int, column: str) -> str | None:
        return self.cells[column][i] if column in self.cells else None

    def outcomes(self, outcome: str | None) -> list[int | None]:
        values: list[int | None] = [None] * len(self.raw)
        if outcome is None:
            return values
        num = pd.to_numeric(self.raw[outcome], errors="coerce")
        for i, (text, value) in enumerate(zip(self.raw[outcome], num, strict=True)):
            if value in (0.0, 1.0):
                values[i] = int(value)
            elif pd.isna(text):
                self.problems.append(f"{self.who(i)}: outcome `{outcome}` is missing")
            else:
                self.problems.append(f"{self.who(i)}: outcome `{outcome}` is {text!r}, not 0 or 1")
        return values

    def cohorts(self, allowed: list[str] | None) -> list[str | None]:
        values: list[str | None] = [None] * len(self.raw)
        if "cohort" not in self.raw.columns:
            return values
        for i, value in enumerate(self.raw["cohort"]):
            if pd.isna(value):
                self.problems.append(f"{self.who(i)}: cohort is empty")
            elif allowed is not None and value not in allowed:
                self.problems.append(
                    f"{self.who(i)}: unknown cohort {value!r} (allowed: {format_items(allowed)})"
                )
            else:
                values[i] = value
        return values

    def spacing(self, i: int, column: str) -> tuple[float, ...] | None:
        text = self.cell(i, column)
        if text is None:
            return None
        try:
            values = parse_spacing(text, pixel=False)
        except InputError:
            self.problems.append(
                f"{self.who(i)}: `{column}` {text!r} is not mm per pixel; write one positive "
                'number such as 0.078, or "0.1,0.2" for (x, y) = (columns, rows) (quoted in the '
                "CSV)"
            )
            return None
        limits = self.limits
        if limits is not None and not all(limits[0] <= v <= limits[1] for v in values):
            self.problems.append(
                f"{self.who(i)}: `{column}` {text!r} mm per pixel is outside the plausible range "
                f"{limits[0]:g}-{limits[1]:g} mm for 2D ultrasound (a unit error: cm, µm or "
                "dpi?); correct it, or widen the check with spacing_range=(low, high)"
            )
        return values

    def mask_options(self, i: int) -> tuple[str | None, float | None]:
        combine = self.cell(i, "mask_combine")
        if combine is not None:
            if combine.lower() in ("union", "largest"):
                combine = combine.lower()
            else:
                self.problems.append(
                    f"{self.who(i)}: `mask_combine` {combine!r} is not 'union' or 'largest'"
                )
                combine = None
        text = self.cell(i, "min_area_mm2")
        area = None
        if text is not None:
            try:
                area = float(text)
            except ValueError:
                area = math.nan
            if not (math.isfinite(area) and area >= 0):
                self.problems.append(
                    f"{self.who(i)}: `min_area_mm2` {text!r} is not a non-negative number of mm² "
                    "(leave it empty for no minimum)"
                )
                area = None
        return combine, area

    def paths(self, i: int, column: str) -> tuple[Path, ...]:
        text = self.cell(i, column)
        if text is None:
            return ()
        out = []
        for part in text.split(";"):
            part = part.strip()
            if not part:
                continue
            p = Path(part).expanduser()
            p = p if p.is_absolute() else self.base / p
            if self.check_files and not p.is_file():
                status = "is a folder, not a file" if p.is_dir() else "not found"
                self.problems.append(
                    f"{self.who(i)}: `{column}` file {part} {status} (looked at {p})"
                )
            out.append(p)
        return tuple(out)

    def case_fields(self, i: int) -> dict[str, Any]:
        """The image, mask, spacing and mask-option fields of row ``i``'s Case, checked."""
        who, problems = self.who(i), self.problems
        files = {c: self.paths(i, c) for c in PATH_COLUMNS}
        for column in _REQUIRED[1:]:
            if not files[column] and column in self.cells and self.cells[column][i] is None:
                problems.append(f"{who}: `{column}` is empty")
        if files["ln_image"] and not files["ln_mask"]:
            problems.append(f"{who}: `ln_image` is given but `ln_mask` is empty")
        if files["ln_mask"] and not files["ln_image"]:
            problems.append(f"{who}: `ln_mask` is given but `ln_image` is empty")
        if len(files["tumor_image"]) > 1 or len(files["ln_image"]) > 1:
            problems.append(f"{who}: one image per case and ROI; found several joined by ';'")
        repeats: dict[str, dict[str, tuple[Path, ...]]] = {}
        for reader in REPEAT_READERS:
            for kind in IMAGES:
                found = files[f"{kind}_mask_{reader}"]
                if found:
                    if kind == "ln" and not files["ln_image"]:
                        problems.append(
                            f"{who}: `ln_mask_{reader}` is given but the case has no LN image"
                        )
                    repeats.setdefault(reader, {})[kind] = found
        spacing = self.spacing(i, "spacing")
        ln_spacing = self.spacing(i, "ln_spacing")
        combine, min_area = self.mask_options(i)
        return {
            "tumor_image": files["tumor_image"][0] if files["tumor_image"] else None,
            "tumor_mask": files["tumor_mask"],
            "ln_image": files["ln_image"][0] if files["ln_image"] else None,
            "ln_mask": files["ln_mask"],
            "repeat_masks": repeats,
            "spacing": spacing,
            "ln_spacing": ln_spacing,
            "mask_combine": combine,
            "min_area_mm2": min_area,
        }


def _scalar(value: Any) -> Any:
    """NumPy scalars -> Python scalars; missing -> NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return float("nan")
    return value.item() if isinstance(value, np.generic) else value
