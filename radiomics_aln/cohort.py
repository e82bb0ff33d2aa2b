"""Cohort manifests: one CSV row per patient naming its images, masks, outcome and cohort.

A manifest is the single table a study starts from. :func:`read_manifest` reads and checks it
(without decoding any image) and returns a :class:`Manifest`: a list of :class:`Case` objects
plus a tidy table of outcome, cohort and clinical variables indexed by ``case_id``.

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
naming the case and image). A spacing outside ``spacing_range`` (default 0.005-2 mm per pixel,
:data:`radiomics_aln.roi.SPACING_RANGE_MM`) is a manifest problem: usually a unit error.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._validation import SPACING_RANGE_MM, check_spacing_limits, format_items
from radiomics_aln.exceptions import InputError, ManifestError

__all__ = ["READERS", "REPEAT_READERS", "Case", "Manifest", "read_manifest"]

logger = logging.getLogger(__name__)

#: Names of the repeat segmentations: a second reader and the first reader again.
REPEAT_READERS = ("reader2", "repeat")
#: Every reader name: the main segmentation (``reader1``) and the repeat segmentations.
READERS = ("reader1", *REPEAT_READERS)
_ROIS = ("tumor", "ln")
_REQUIRED = ("case_id", "tumor_image", "tumor_mask")
_PATH_COLUMNS = (
    "tumor_image",
    "tumor_mask",
    "ln_image",
    "ln_mask",
    *(f"{roi}_mask_{reader}" for roi in _ROIS for reader in REPEAT_READERS),
)
_MASK_OPTIONS = ("mask_combine", "min_area_mm2")
_RESERVED = ("case_id", "cohort", "spacing", "ln_spacing", *_MASK_OPTIONS, *_PATH_COLUMNS)


def _as_paths(value: Any) -> tuple[Path, ...]:
    """None, a path, a ';'-joined string or an iterable of those -> tuple of Path."""
    if value is None:
        return ()
    if isinstance(value, Path):
        return (value,)
    if isinstance(value, str):
        return tuple(Path(p.strip()) for p in value.split(";") if p.strip())
    out: list[Path] = []
    for item in value:
        out.extend(_as_paths(item))
    return tuple(out)


# Cell texts that mean "missing": pandas' default NA markers, which read_manifest applies too.
_MISSING_TEXT = {"", "nan", "-nan", "na", "n/a", "#n/a", "null", "none", "<na>"}


def _as_spacing(value: Any) -> tuple[float, ...] | None:
    """Case(spacing=...): None/NaN/missing text -> None (unknown), else positive finite mm.

    Raises ValueError for anything else (the caller names the case).
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, str):
        if value.strip().lower() in _MISSING_TEXT:
            return None
        return _parse_spacing_text(value)
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None  # as in a manifest: NaN is a missing spacing, never a number
    values = tuple(float(v) for v in np.atleast_1d(value))
    if not 1 <= len(values) <= 3 or not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(value)
    return values * 2 if len(values) == 1 else values


def _parse_spacing_text(text: str) -> tuple[float, ...]:
    """'0.1' -> (0.1, 0.1); '0.1,0.2' / '0.1 0.2' / '0.1x0.2' -> (0.1, 0.2). ValueError if bad."""
    parts = [p for p in re.split(r"[,\s;x×]+", text.strip().lower()) if p]
    if not 1 <= len(parts) <= 3:
        raise ValueError(text)
    values = tuple(float(p) for p in parts)
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(text)
    return values * 2 if len(values) == 1 else values


@dataclass(frozen=True)
class Case:
    """One patient: tumour image and mask(s), optional lymph node, repeats and clinical data.

    Parameters
    ----------
    case_id : str
        Unique identifier.
    tumor_image : Path
        Tumour image file.
    tumor_mask : tuple of Path
        Tumour mask file(s) of the main reader (several files are combined by
        :func:`radiomics_aln.roi.load_mask`). A single path or a ``;``-joined string is
        accepted and converted.
    ln_image : Path or None
        Axillary lymph-node image (a separate image), if any.
    ln_mask : tuple of Path
        Lymph-node mask file(s); empty without LN image.
    repeat_masks : dict
        Repeat segmentations, ``{reader: {"tumor" | "ln": tuple of Path}}`` with reader
        ``"reader2"`` (second reader, inter-observer) or ``"repeat"`` (the first reader again,
        intra-observer). Only the segmentations that exist are present.
    spacing : tuple of float or None
        mm per pixel of the tumour image, ``(x, y)`` = ``(columns, rows)``, for files without
        spacing (PNG/JPEG); None uses the file's own. A number, a sequence or text such as
        ``"0.1,0.2"``; None, NaN and missing-value text (``"nan"``, ``"N/A"``, ``""``) mean no
        spacing (mm operations on a PNG/JPEG then raise SpacingError); anything else that is not
        positive and finite raises :class:`~radiomics_aln.exceptions.InputError`.
    ln_spacing : tuple of float or None
        The same for the LN image.
    outcome : int or None
        0/1 endpoint (e.g. ALN metastasis), None when the manifest has no outcome column.
    cohort : str or None
        Cohort name, e.g. ``"train"``, ``"internal"``, ``"external"``, ``"prospective"``.
    clinical : dict
        Clinical variables by column name (missing values are NaN).
    mask_combine : {"union", "largest"} or None
        How this case's masks with several connected components are combined (see
        :func:`radiomics_aln.roi.load_mask`); None: the batch setting.
    min_area_mm2 : float or None
        Mask components smaller than this (mm²) are dropped; None: the batch setting.

    Examples
    --------
    >>> case = Case("001", "img/001.png", "img/001_mask.png;img/001_mask2.png", outcome=1)
    >>> case.tumor_mask
    (PosixPath('img/001_mask.png'), PosixPath('img/001_mask2.png'))
    >>> case.masks("tumor"), case.has_ln
    ((PosixPath('img/001_mask.png'), PosixPath('img/001_mask2.png')), False)
    """

    case_id: str
    tumor_image: Path
    tumor_mask: tuple[Path, ...]
    ln_image: Path | None = None
    ln_mask: tuple[Path, ...] = ()
    repeat_masks: dict[str, dict[str, tuple[Path, ...]]] = field(default_factory=dict, hash=False)
    spacing: tuple[float, ...] | None = None
    ln_spacing: tuple[float, ...] | None = None
    outcome: int | None = None
    cohort: str | None = None
    clinical: dict[str, Any] = field(default_factory=dict, hash=False)
    mask_combine: str | None = None
    min_area_mm2: float | None = None

    def __post_init__(self) -> None:
        # Normalise convenient inputs (str paths, ';'-joined masks, scalar spacing).
        set_ = object.__setattr__
        set_(self, "case_id", str(self.case_id))
        set_(self, "tumor_image", Path(self.tumor_image))
        set_(self, "tumor_mask", _as_paths(self.tumor_mask))
        set_(self, "ln_image", None if self.ln_image is None else Path(self.ln_image))
        set_(self, "ln_mask", _as_paths(self.ln_mask))
        repeats = {}
        for reader, rois in (self.repeat_masks or {}).items():
            if reader not in REPEAT_READERS:
                raise InputError(
                    f"case {self.case_id}: unknown reader {reader!r} in repeat_masks; "
                    f"use {format_items(REPEAT_READERS)}"
                )
            entry = {roi: _as_paths(p) for roi, p in rois.items() if _as_paths(p)}
            bad = set(entry) - set(_ROIS)
            if bad:
                raise InputError(
                    f"case {self.case_id}: unknown ROI {format_items(sorted(bad))} in "
                    f"repeat_masks[{reader!r}]; use 'tumor' or 'ln'"
                )
            if entry:
                repeats[reader] = entry
        set_(self, "repeat_masks", repeats)
        for name in ("spacing", "ln_spacing"):
            value = getattr(self, name)
            try:
                set_(self, name, _as_spacing(value))
            except (TypeError, ValueError):
                raise InputError(
                    f"case {self.case_id}: {name}={value!r} is not mm per pixel; give one "
                    "positive number such as 0.078, or (x, y) = (columns, rows) such as "
                    "(0.1, 0.2), or None when the image file has its own spacing"
                ) from None
        set_(self, "clinical", dict(self.clinical or {}))
        if not self.tumor_mask:
            raise InputError(f"case {self.case_id}: no tumour mask given")
        if (self.ln_image is None) != (not self.ln_mask):
            raise InputError(
                f"case {self.case_id}: a lymph-node image needs a lymph-node mask and vice versa"
            )
        if self.mask_combine is not None or self.min_area_mm2 is not None:
            from radiomics_aln.roi import _check_mask_options

            _check_mask_options(
                "union" if self.mask_combine is None else self.mask_combine,
                self.min_area_mm2,
                where=f"case {self.case_id}: ",
            )

    @property
    def has_ln(self) -> bool:
        """Whether the case has a lymph-node image and mask."""
        return self.ln_image is not None

    def masks(self, roi: str = "tumor", reader: str = "reader1") -> tuple[Path, ...]:
        """Mask files of ``roi`` (``"tumor"`` or ``"ln"``) by ``reader``.

        ``reader`` is ``"reader1"`` (the main segmentation), ``"reader2"`` or ``"repeat"``;
        returns an empty tuple when that segmentation does not exist.
        """
        if roi not in _ROIS:
            raise InputError(f"roi={roi!r}; use 'tumor' or 'ln'")
        if reader == "reader1":
            return self.tumor_mask if roi == "tumor" else self.ln_mask
        if reader not in REPEAT_READERS:
            raise InputError(f"reader={reader!r}; use 'reader1', 'reader2' or 'repeat'")
        return self.repeat_masks.get(reader, {}).get(roi, ())

    def image(self, roi: str = "tumor") -> Path | None:
        """Image file of ``roi``: the tumour image for ``"tumor"``, the LN image for ``"ln"``."""
        if roi not in _ROIS:
            raise InputError(f"roi={roi!r}; use 'tumor' or 'ln'")
        return self.tumor_image if roi == "tumor" else self.ln_image

    def image_spacing(self, roi: str = "tumor") -> tuple[float, ...] | None:
        """Manifest spacing for the image of ``roi`` (the LN one falls back to ``spacing``)."""
        if roi == "ln":
            return self.ln_spacing if self.ln_spacing is not None else self.spacing
        return self.spacing


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
    outcome: str | None = "outcome",
    *,
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
    spacing_range : (float, float) or None, default :data:`radiomics_aln.roi.SPACING_RANGE_MM`
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
        if re.match(r"^(tumou?r|ln|node)_?(mask|image|seg)", c) and c not in _PATH_COLUMNS
    ]
    if mask_like:
        problems.append(
            f"unknown image/mask column(s) {format_items(mask_like)}; the known ones are "
            f"{format_items(_PATH_COLUMNS)}"
        )
    if cohorts is not None:
        cohorts = [str(c) for c in ([cohorts] if isinstance(cohorts, str) else cohorts)]
        if "cohort" not in raw.columns:
            problems.append("cohorts= was given but the manifest has no `cohort` column")
    if len(raw) == 0:
        problems.append("no cases (the manifest has a header but no rows)")
    if missing_cols or len(raw) == 0:
        raise ManifestError(problems, path)

    lines = np.arange(len(raw)) + 2  # CSV line numbers (header is line 1)
    ids = raw["case_id"]
    for line in lines[ids.isna().to_numpy()]:
        problems.append(f"line {line}: empty case_id")
    counts = ids.dropna().value_counts()
    for case_id in counts.index[counts.to_numpy() > 1]:
        where = lines[(ids == case_id).to_numpy()]
        problems.append(f"duplicate case_id {case_id!r} on lines {format_items(where)}")

    # Plain Python lists: per-row pandas indexing is slow on large manifests.
    id_list = ids.tolist()
    cells = {c: [None if pd.isna(v) else v for v in raw[c].tolist()] for c in raw.columns}

    def who(i: int) -> str:
        cid = id_list[i]
        return f"case {cid} (line {lines[i]})" if isinstance(cid, str) else f"line {lines[i]}"

    outcome_values: list[int | None] = [None] * len(raw)
    if outcome is not None:
        num = pd.to_numeric(raw[outcome], errors="coerce")
        for i, (text, value) in enumerate(zip(raw[outcome], num, strict=True)):
            if value in (0.0, 1.0):
                outcome_values[i] = int(value)
            elif pd.isna(text):
                problems.append(f"{who(i)}: outcome `{outcome}` is missing")
            else:
                problems.append(f"{who(i)}: outcome `{outcome}` is {text!r}, not 0 or 1")

    cohort_values: list[str | None] = [None] * len(raw)
    if "cohort" in raw.columns:
        for i, value in enumerate(raw["cohort"]):
            if pd.isna(value):
                problems.append(f"{who(i)}: cohort is empty")
            elif cohorts is not None and value not in cohorts:
                problems.append(
                    f"{who(i)}: unknown cohort {value!r} (allowed: {format_items(cohorts)})"
                )
            else:
                cohort_values[i] = value

    def spacing_of(i: int, column: str) -> tuple[float, ...] | None:
        text = cells[column][i] if column in cells else None
        if text is None:
            return None
        try:
            values = _parse_spacing_text(text)
        except ValueError:
            problems.append(
                f"{who(i)}: `{column}` {text!r} is not mm per pixel; write one positive number "
                'such as 0.078, or "0.1,0.2" for (x, y) = (columns, rows) (quoted in the CSV)'
            )
            return None
        if limits is not None and not all(limits[0] <= v <= limits[1] for v in values):
            problems.append(
                f"{who(i)}: `{column}` {text!r} mm per pixel is outside the plausible range "
                f"{limits[0]:g}-{limits[1]:g} mm for 2D ultrasound (a unit error: cm, µm or "
                "dpi?); correct it, or widen the check with spacing_range=(low, high)"
            )
        return values

    def mask_options_of(i: int) -> tuple[str | None, float | None]:
        combine = cells["mask_combine"][i] if "mask_combine" in cells else None
        if combine is not None:
            if combine.lower() in ("union", "largest"):
                combine = combine.lower()
            else:
                problems.append(f"{who(i)}: `mask_combine` {combine!r} is not 'union' or 'largest'")
                combine = None
        text = cells["min_area_mm2"][i] if "min_area_mm2" in cells else None
        area = None
        if text is not None:
            try:
                area = float(text)
            except ValueError:
                area = math.nan
            if not (math.isfinite(area) and area >= 0):
                problems.append(
                    f"{who(i)}: `min_area_mm2` {text!r} is not a non-negative number of mm² "
                    "(leave it empty for no minimum)"
                )
                area = None
        return combine, area

    def paths_of(i: int, column: str) -> tuple[Path, ...]:
        text = cells[column][i] if column in cells else None
        if text is None:
            return ()
        out = []
        for part in text.split(";"):
            part = part.strip()
            if not part:
                continue
            p = Path(part).expanduser()
            p = p if p.is_absolute() else base / p
            if check_files and not p.is_file():
                status = "is a folder, not a file" if p.is_dir() else "not found"
                problems.append(f"{who(i)}: `{column}` file {part} {status} (looked at {p})")
            out.append(p)
        return tuple(out)

    clinical_cols = [c for c in raw.columns if c not in _RESERVED and c != outcome]
    table = raw[[c for c in ("cohort",) if c in raw.columns]].copy()
    if outcome is not None:
        table[outcome] = pd.array(outcome_values, dtype="Int64")
    for c in clinical_cols:
        table[c] = _parse_clinical(raw[c])
    table.index = pd.Index(ids, name="case_id")
    # Case.clinical holds the parsed values (numbers as numbers, missing as NaN).
    # pandas < 3 returns [] (not n empty dicts) for a frame without columns.
    records = table[clinical_cols].to_dict("records") if clinical_cols else [{}] * len(table)

    cases: list[Case] = []
    for i in range(len(raw)):
        files = {c: paths_of(i, c) for c in _PATH_COLUMNS}
        for column in _REQUIRED[1:]:
            if not files[column] and column in cells and cells[column][i] is None:
                problems.append(f"{who(i)}: `{column}` is empty")
        if files["ln_image"] and not files["ln_mask"]:
            problems.append(f"{who(i)}: `ln_image` is given but `ln_mask` is empty")
        if files["ln_mask"] and not files["ln_image"]:
            problems.append(f"{who(i)}: `ln_mask` is given but `ln_image` is empty")
        if len(files["tumor_image"]) > 1 or len(files["ln_image"]) > 1:
            problems.append(f"{who(i)}: one image per case and ROI; found several joined by ';'")
        repeats: dict[str, dict[str, tuple[Path, ...]]] = {}
        for reader in REPEAT_READERS:
            for roi in _ROIS:
                found = files[f"{roi}_mask_{reader}"]
                if found:
                    if roi == "ln" and not files["ln_image"]:
                        problems.append(
                            f"{who(i)}: `ln_mask_{reader}` is given but the case has no LN image"
                        )
                    repeats.setdefault(reader, {})[roi] = found
        spacing = spacing_of(i, "spacing")
        ln_spacing = spacing_of(i, "ln_spacing")
        combine, min_area = mask_options_of(i)
        if problems or not isinstance(id_list[i], str):
            continue  # keep collecting problems; cases are only built for a clean manifest
        cases.append(
            Case(
                case_id=id_list[i],
                tumor_image=files["tumor_image"][0],
                tumor_mask=files["tumor_mask"],
                ln_image=files["ln_image"][0] if files["ln_image"] else None,
                ln_mask=files["ln_mask"],
                repeat_masks=repeats,
                spacing=spacing,
                ln_spacing=ln_spacing,
                outcome=outcome_values[i],
                cohort=cohort_values[i],
                clinical={k: _scalar(v) for k, v in records[i].items()},
                mask_combine=combine,
                min_area_mm2=min_area,
            )
        )
    if problems:
        raise ManifestError(problems, path)
    if outcome is not None:
        table[outcome] = table[outcome].astype(np.int64)
    logger.info("read manifest %s: %d cases", path, len(cases))
    return Manifest(cases, table, path, outcome)


def _scalar(value: Any) -> Any:
    """NumPy scalars -> Python scalars; missing -> NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return float("nan")
    return value.item() if isinstance(value, np.generic) else value
