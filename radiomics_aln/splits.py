"""Train/test splits of a manifest: stratified, seeded, grouped by patient and by identical image.

:func:`split_cohort` sets a manifest's ``cohort`` column to ``train`` / ``test``. Cases that
must not be separated form one group: the cases of one patient (the ``patient_id`` column) and
the cases whose image files are byte-identical (the content hash the extraction's duplicate
check uses, :func:`radiomics_aln.cache.source_token`), even under different patient ids. Groups
linked through a shared case are merged (union-find), and a merged group goes to one cohort, so
a duplicate never straddles the split. Within each stratum (outcome value), groups are shuffled
with the seed and the test cohort takes the subset whose case count is closest to ``test_size``
of the stratum.

``keep=("external",)`` leaves the cases of named cohorts (another hospital's external test
cohort) where they are and splits only the others; a patient or an identical image shared by a
kept and a split case is refused, as it would straddle the cohorts.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._plotting import get_ax, series_colour
from radiomics_aln._validation import check_generator, format_items
from radiomics_aln.cache import source_token
from radiomics_aln.exceptions import DataWarning, InputError
from radiomics_aln.manifest import write_manifest
from radiomics_aln.params import canonical_json

__all__ = ["SPLIT_SUMMARY_COLUMNS", "CohortSplit", "split_cohort"]

logger = logging.getLogger(__name__)

#: Columns of :attr:`CohortSplit.summary`: one row per cohort and stratum.
SPLIT_SUMMARY_COLUMNS = ("cohort", "stratum", "n_cases", "n_groups", "share")

#: The manifest columns whose files are compared for identical content.
_IMAGE_COLUMNS = ("tumor_image", "ln_image")


@dataclass
class CohortSplit:
    """A manifest split into a training and a test cohort, from :func:`split_cohort`.

    Attributes
    ----------
    manifest : pandas.DataFrame
        A copy of the input table with its ``cohort`` column set (paths as given).
    cohorts : pandas.Series
        The cohort of each case, indexed by ``case_id``.
    groups : pandas.DataFrame
        One row per case: ``case_id``, ``group`` (number of its merged group), ``patient`` (its
        ``groups`` value, or None), ``stratum`` (its group's stratum) and ``cohort``.
    summary : pandas.DataFrame
        One row per cohort and stratum, columns :data:`SPLIT_SUMMARY_COLUMNS`: cases with that
        stratum value, groups whose stratum it is, and ``share`` = ``n_cases`` / cases of the
        cohort (the outcome rate in the row of stratum 1 when stratifying by a 0/1 outcome).
    merged : pandas.DataFrame
        Groups that hold several patients because their images are identical: ``group``,
        ``patients``, ``case_ids`` (text joined by ``;``).
    mixed : pandas.DataFrame
        Groups whose cases have different stratum values: ``group``, ``case_ids``,
        ``values`` (joined by ``;``) and ``stratum``, the majority value the group was
        stratified by.
    stratify : str or None
        The stratification column.
    test_size : float
        The fraction asked for.
    base_dir : Path or None
        Folder that relative paths of ``manifest`` start from (for :meth:`to_csv`).
    kept : pandas.Series
        The cohort of each case left as it was (``keep=``), indexed by ``case_id``; empty
        without ``keep``. ``groups``, ``summary``, ``merged`` and ``mixed`` describe the split
        cases only; ``manifest`` and ``cohorts`` hold every case.
    """

    manifest: pd.DataFrame
    cohorts: pd.Series
    groups: pd.DataFrame
    summary: pd.DataFrame
    merged: pd.DataFrame
    mixed: pd.DataFrame
    stratify: str | None
    test_size: float
    base_dir: Path | None = None
    kept: pd.Series = field(default_factory=lambda: _no_kept())

    def to_csv(self, path: str | Path, *, relative: bool = True) -> Path:
        """Write the split manifest (paths relative to the CSV's folder); returns the file.

        Uses :func:`radiomics_aln.manifest.write_manifest`, so relative paths stay valid when the
        CSV is written to another folder than the input manifest.
        """
        return write_manifest(self.manifest, path, base_dir=self.base_dir, relative=relative)

    def __repr__(self) -> str:
        parts = []
        for cohort, rows in self.summary.groupby("cohort", sort=False):
            n = int(rows["n_cases"].sum())
            strata = ", ".join(f"{s}: {k}" for s, k in zip(rows["stratum"], rows["n_cases"],
                                                            strict=True))  # fmt: skip
            by = f" ({self.stratify} {strata})" if self.stratify is not None else ""
            parts.append(f"{cohort} {n} cases{by}")
        for cohort, n in self.kept.value_counts(sort=False).items():
            parts.append(f"{cohort} {n} cases kept")
        return (
            f"CohortSplit({'; '.join(parts)}; {len(self.merged)} group(s) merged by identical "
            f"images, {len(self.mixed)} with mixed {self.stratify or 'strata'})"
        )

    def plot(self, ax: Any = None) -> Any:
        """Stacked bars: cases per cohort, by stratum. Returns the Axes."""
        ax = get_ax(ax)
        table = self.summary.pivot(index="cohort", columns="stratum", values="n_cases")
        table = table.reindex(list(dict.fromkeys(self.summary["cohort"]))).fillna(0)
        left = np.zeros(len(table))
        for k, stratum in enumerate(table.columns):
            values = table[stratum].to_numpy()
            label = f"{self.stratify} = {stratum}" if self.stratify else "cases"
            ax.barh(table.index.astype(str), values, left=left, color=series_colour(k),
                    label=label)  # fmt: skip
            left += values
        ax.set_xlabel("cases")
        ax.legend(frameon=False)
        return ax


def split_cohort(
    manifest: str | os.PathLike | pd.DataFrame,
    *,
    test_size: float = 0.3,
    stratify: str | None = "outcome",
    groups: str | None = "patient_id",
    group_identical_images: bool = True,
    random_state: int | np.random.Generator | None = 0,
    train_name: str = "train",
    test_name: str = "test",
    base_dir: str | os.PathLike | None = None,
    keep: str | Sequence[str] | None = None,
) -> CohortSplit:
    """Stratified, seeded train/test split that keeps patients and duplicate images together.

    Parameters
    ----------
    manifest : str, Path or pandas.DataFrame
        A manifest CSV file (read as text, every cell kept as written) or a manifest table
        (e.g. :attr:`radiomics_aln.folder_dataset.FolderManifest.manifest`), with ``case_id``
        as a column or as the index. Its ``cohort`` column, if any, must be empty except for
        the cohorts named in ``keep``: every other case is assigned.
    test_size : float, default 0.3
        Fraction of the cases in the test cohort, in (0, 1); matched per stratum as closely as
        the groups allow.
    stratify : str or None, default "outcome"
        Column whose values are the strata (usually the outcome); None: no stratification.
    groups : str or None, default "patient_id"
        Column naming the patient of each case; a patient's cases stay in one cohort. None:
        each case is its own patient.
    group_identical_images : bool, default True
        Also keep together the cases whose image files (``tumor_image``, ``ln_image``) are
        byte-identical, whatever their patient ids.
    random_state : int, numpy Generator or None, default 0
        Seed of the shuffle; the same seed gives the same split.
    train_name, test_name : str, default "train", "test"
        The cohort names written.
    base_dir : str or Path, optional
        Folder that relative image paths start from; default the manifest file's folder (a
        table: the working directory).
    keep : str or sequence of str, optional
        Cohorts to leave untouched, e.g. ``("external",)``: cases whose ``cohort`` is one of
        them keep it (their outcome, patient id and images need not be filled), and only the
        cases with an empty ``cohort`` are split, exactly as a table of those rows alone would
        be. Every name must occur in the ``cohort`` column and differ from ``train_name`` and
        ``test_name``.

    Returns
    -------
    CohortSplit
        ``.manifest`` (the table with ``cohort`` set), ``.cohorts``, ``.groups``,
        ``.summary`` (cases per cohort and stratum), ``.merged``, ``.mixed``,
        ``.to_csv(path)``.

    Raises
    ------
    InputError
        A missing column (``case_id``, ``stratify``, ``groups``, ``tumor_image``), duplicate
        or empty case ids, an empty stratum or group value, ``test_size`` outside (0, 1), equal
        or empty cohort names, a ``cohort`` column that already holds cohorts, an image file
        that cannot be read, or a stratum with fewer than two groups (it cannot be in both
        cohorts). With ``keep``: no ``cohort`` column, a name not among its cohorts or equal to
        ``train_name`` / ``test_name``, a case in a cohort not kept, no case left to split, or
        a patient id or an identical image file shared by a kept and a split case.

    Warns
    -----
    DataWarning
        Groups whose cases have different stratum values (a patient with a benign and a
        malignant lesion; the same image under two ids with different outcomes): each is
        stratified by its majority value (ties: the value that sorts first) and listed in
        ``.mixed``.

    Notes
    -----
    Groups are the connected components of "same patient" and "identical image file" links
    (union-find). Each stratum's target is ``test_size`` times its number of cases, rounded so
    that the targets add up to ``round(test_size * n)`` (largest remainders) and kept between
    1 and the stratum's size minus 1, so every stratum is in both cohorts. The stratum's groups
    are shuffled with ``random_state``; the test cohort takes groups in that order whenever the
    rest can still reach the case count closest to the target (ties: the smaller count). With
    one case per group the test cohort has the target exactly: within 1 of ``test_size`` times
    the stratum's size.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "case_id": [f"c{i}" for i in range(10)],
    ...     "patient_id": ["p0", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"],
    ...     "outcome": [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
    ...     "tumor_image": [f"c{i}.png" for i in range(10)],
    ... })
    >>> split = split_cohort(table, test_size=0.3, group_identical_images=False, random_state=0)
    >>> split.summary
      cohort  stratum  n_cases  n_groups     share
    0  train        0        4         4  0.571429
    1  train        1        3         2  0.428571
    2   test        0        2         2  0.666667
    3   test        1        1         1  0.333333
    >>> int(split.groups.groupby("patient")["cohort"].nunique().max())  # a patient: one cohort
    1

    Keep another hospital's cohort and split the rest:

    >>> table["cohort"] = ["external"] * 2 + [""] * 8
    >>> split = split_cohort(table, keep="external", group_identical_images=False)
    >>> split.cohorts.value_counts().sort_index().to_dict()
    {'external': 2, 'test': 3, 'train': 5}
    """
    everything, base = _read_input(manifest, base_dir)
    test_size = _check_test_size(test_size)
    _check_names(train_name, test_name)
    all_ids = _case_ids(everything)
    keep = _check_keep(everything, keep, all_ids, (train_name, test_name))
    frame, kept = _without_kept(everything, keep)
    ids = _case_ids(frame)
    strata = _column_values(frame, stratify, ids, "stratify", "the strata")
    patients = _column_values(frame, groups, ids, "groups", "the patients")
    if kept.empty:
        _check_no_cohorts(frame)
    rng = check_generator(random_state)
    uf = _UnionFind(len(ids))
    if patients is not None:
        _link(uf, patients)
    merged_by_image: set[int] = set()
    if group_identical_images:
        tokens = _image_tokens(frame, ids, base)
        for i, j in _link(uf, tokens):
            merged_by_image.update((i, j))
    members = uf.components()
    values = strata if strata is not None else ["all"] * len(ids)
    group_stratum, mixed = _group_strata(members, values, ids)
    in_test = _allocate(members, group_stratum, test_size, rng, stratify)
    cohort = [test_name if in_test[uf.find(i)] else train_name for i in range(len(ids))]
    result = _result(frame, ids, cohort, members, uf, patients, values, group_stratum, mixed,
                     merged_by_image, stratify, test_size, base, (train_name, test_name))  # fmt: skip
    if not kept.empty:
        _check_kept_apart(everything, kept, ids, patients, groups, group_identical_images, base)
        result = _with_kept(result, everything, kept, all_ids)
    logger.info("split %d cases: %r", len(ids), result)
    return result


# --------------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------------


def _read_input(manifest: Any, base_dir: Any) -> tuple[pd.DataFrame, Path]:
    """The manifest as a DataFrame (a copy) and the folder its relative paths start from."""
    if isinstance(manifest, pd.DataFrame):
        frame = manifest.copy()
        if "case_id" not in frame.columns and frame.index.name == "case_id":
            frame = frame.reset_index()
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        return frame, Path(os.path.abspath(base.expanduser()))
    if isinstance(manifest, str | os.PathLike):
        path = Path(manifest).expanduser()
        if not path.is_file():
            raise InputError(f"manifest file not found: {path}")
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"{path}: cannot read as a UTF-8 CSV manifest: {exc}") from None
        frame.columns = [str(c).strip() for c in frame.columns]
        frame = frame.apply(lambda col: col.str.strip())
        base = Path(base_dir) if base_dir is not None else path.parent
        return frame, Path(os.path.abspath(base.expanduser()))
    raise InputError(
        "manifest must be a manifest CSV file or a pandas DataFrame of its rows, got "
        f"{type(manifest).__name__} (a Manifest from read_manifest: split its file, "
        "manifest.path, instead)"
    )


def _check_test_size(test_size: Any) -> float:
    ok = isinstance(test_size, numbers.Real) and not isinstance(test_size, bool)
    if not ok or not (0 < float(test_size) < 1):
        raise InputError(
            f"test_size={test_size!r} must be a fraction of the cases strictly between 0 and 1 "
            "(e.g. 0.3)"
        )
    return float(test_size)


def _check_names(train_name: Any, test_name: Any) -> None:
    for key, value in (("train_name", train_name), ("test_name", test_name)):
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise InputError(f"{key}={value!r} must be a non-empty cohort name without spaces "
                             "around it")  # fmt: skip
    if train_name == test_name:
        raise InputError(f"train_name and test_name are both {train_name!r}; give two names")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _case_ids(frame: pd.DataFrame) -> list[str]:
    if "case_id" not in frame.columns:
        raise InputError(
            f"the manifest has no `case_id` column; its columns are {format_items(frame.columns)}"
        )
    ids = ["" if _missing(v) else str(v) for v in frame["case_id"].tolist()]
    empty = [i for i, v in enumerate(ids) if not v]
    if empty:
        raise InputError(f"empty case_id in row(s) {format_items(empty)} (counting from 0)")
    dup = sorted({v for v, n in Counter(ids).items() if n > 1})
    if dup:
        raise InputError(f"duplicate case_id(s): {format_items(dup)}")
    return ids


def _column_values(
    frame: pd.DataFrame, column: Any, ids: list[str], key: str, what: str
) -> list[Any] | None:
    """The values of ``column`` (None when ``column`` is None), refusing missing cells."""
    if column is None:
        return None
    if not isinstance(column, str) or column not in frame.columns:
        hint = " (None: each case is its own patient)" if key == "groups" else ""
        raise InputError(
            f"{key}={column!r} is not a column of the manifest; its columns are "
            f"{format_items(frame.columns)}{hint}"
        )
    values = frame[column].tolist()
    missing = [ids[i] for i, v in enumerate(values) if _missing(v)]
    if missing:
        raise InputError(
            f"column `{column}` ({what}) is empty for case(s) {format_items(missing)}; fill it "
            "(a missing value is never guessed)"
        )
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _check_no_cohorts(frame: pd.DataFrame) -> None:
    if "cohort" not in frame.columns:
        return
    filled = [v for v in frame["cohort"].tolist() if not _missing(v)]
    if filled:
        counts = ", ".join(f"{k} {n}" for k, n in Counter(map(str, filled)).items())
        raise InputError(
            f"the manifest already assigns cohorts ({counts}); split_cohort assigns every case: "
            "drop or empty the `cohort` column first (to split one cohort only, split a table "
            "of its rows and join the result with the others)"
        )


def _no_kept() -> pd.Series:
    return pd.Series([], index=pd.Index([], name="case_id"), name="cohort", dtype=object)


def _check_keep(
    frame: pd.DataFrame, keep: Any, ids: list[str], names: tuple[str, str]
) -> tuple[str, ...]:
    """The cohorts to keep, each checked against the manifest and the names written."""
    if keep is None:
        return ()
    names_kept = (keep,) if isinstance(keep, str) else keep
    if not isinstance(names_kept, Sequence) or not all(isinstance(k, str) for k in names_kept):
        raise InputError(f"keep={keep!r} must be a cohort name or a list of cohort names")
    names_kept = tuple(dict.fromkeys(k.strip() for k in names_kept))
    if not names_kept or "" in names_kept:
        raise InputError(f"keep={keep!r} must name at least one cohort and no empty one")
    if "cohort" not in frame.columns:
        raise InputError(
            f"keep={list(names_kept)} needs a `cohort` column naming the cohorts to keep; the "
            f"manifest's columns are {format_items(frame.columns)}"
        )
    clash = [k for k in names_kept if k in names]
    if clash:
        raise InputError(
            f"keep={list(names_kept)}: {format_items(clash)} is also the name of a cohort the "
            f"split writes ({names[0]!r}, {names[1]!r}); rename the kept cohort in the manifest "
            "or pass other train_name / test_name"
        )
    present = Counter(str(v).strip() for v in frame["cohort"].tolist() if not _missing(v))
    unknown = [k for k in names_kept if k not in present]
    if unknown:
        found = ", ".join(f"{k} ({n} cases)" for k, n in present.items()) or "none"
        raise InputError(
            f"keep={list(names_kept)}: no case is in cohort {format_items(unknown)}; the "
            f"manifest's `cohort` column has {found} (names are case-sensitive)"
        )
    others = {k: n for k, n in present.items() if k not in names_kept}
    if others:
        cases = [i for i, v in zip(ids, frame["cohort"].tolist(), strict=True)
                 if not _missing(v) and str(v).strip() in others]  # fmt: skip
        raise InputError(
            "the manifest assigns cohorts that are not kept ("
            + ", ".join(f"{k} {n}" for k, n in others.items())
            + f"; cases {format_items(cases)}): add them to keep, or empty their `cohort` cells "
            "to split those cases"
        )
    return names_kept


def _without_kept(frame: pd.DataFrame, keep: tuple[str, ...]) -> tuple[pd.DataFrame, pd.Series]:
    """The rows to split, and the kept cohort of every other case (by case_id)."""
    if not keep:
        return frame, _no_kept()
    cohort = ["" if _missing(v) else str(v).strip() for v in frame["cohort"].tolist()]
    is_kept = np.array([c in keep for c in cohort])
    if is_kept.all():
        raise InputError(
            f"every case is in a kept cohort ({format_items(keep)}): no case is left to split; "
            "leave the `cohort` cells of the cases to split empty"
        )
    ids = [str(i) for i, k in zip(frame["case_id"].tolist(), is_kept, strict=True) if k]
    kept = pd.Series([c for c, k in zip(cohort, is_kept, strict=True) if k],
                     index=pd.Index(ids, name="case_id"), name="cohort")  # fmt: skip
    return frame[~is_kept].reset_index(drop=True), kept


def _check_kept_apart(
    everything: pd.DataFrame,
    kept: pd.Series,
    ids: list[str],
    patients: list[Any] | None,
    groups: str | None,
    identical_images: bool,
    base: Path,
) -> None:
    """Refuse a patient or an identical image file shared by a kept and a split case."""
    is_kept = everything["case_id"].astype(str).isin(kept.index).to_numpy()
    rows = everything[is_kept].reset_index(drop=True)
    kept_ids = rows["case_id"].astype(str).tolist()
    shared: list[str] = []
    if patients is not None:
        split_patient = {str(p): i for p, i in zip(patients, ids, strict=True)}
        for case, p in zip(kept_ids, rows[groups].tolist(), strict=True):
            if not _missing(p) and str(p) in split_patient:
                shared.append(f"{split_patient[str(p)]} and {case} ({kept[case]}): "
                              f"patient {p}")  # fmt: skip
    if identical_images:
        split_tokens = _image_tokens(everything[~is_kept].reset_index(drop=True), ids, base)
        first = {t: ids[i] for i in range(len(ids)) for t in split_tokens[i]}
        for case, tokens in zip(kept_ids, _image_tokens(rows, kept_ids, base), strict=True):
            hits = sorted({first[t] for t in tokens if t in first})
            shared += [f"{h} and {case} ({kept[case]}): identical image file" for h in hits]
    if shared:
        raise InputError(
            f"{len(shared)} case(s) to split share a patient or an image file with a kept case, "
            "so a patient would be in two cohorts: " + "; ".join(shared[:10])
            + "; put these cases in the kept cohort (or fix the patient id / the duplicate file)"
        )


def _with_kept(
    result: CohortSplit, everything: pd.DataFrame, kept: pd.Series, all_ids: list[str]
) -> CohortSplit:
    """The split of the remaining cases with the kept cases back in their rows."""
    by_case = dict(zip(result.cohorts.index, result.cohorts, strict=True)) | dict(kept.items())
    cohort = [by_case[i] for i in all_ids]
    manifest = everything.copy()
    manifest["cohort"] = cohort
    result.manifest = manifest
    result.cohorts = pd.Series(cohort, index=pd.Index(all_ids, name="case_id"), name="cohort")
    result.kept = kept
    return result


def _image_tokens(frame: pd.DataFrame, ids: list[str], base: Path) -> list[list[str]]:
    """Per case, the content hashes of its image files (as extraction's duplicate check)."""
    if "tumor_image" not in frame.columns:
        raise InputError(
            "group_identical_images=True needs the `tumor_image` column to compare image files; "
            "pass group_identical_images=False for a table without images"
        )
    out: list[list[str]] = [[] for _ in ids]
    for column in [c for c in _IMAGE_COLUMNS if c in frame.columns]:
        for i, cell in enumerate(frame[column].tolist()):
            if _missing(cell):
                continue
            path = Path(os.fspath(cell) if isinstance(cell, os.PathLike) else str(cell).strip())
            path = path.expanduser()
            path = path if path.is_absolute() else base / path
            try:
                token = source_token(path)
            except OSError as exc:
                raise InputError(
                    f"case {ids[i]}: `{column}` {cell} cannot be read to compare image contents "
                    f"({exc.strerror or exc}; looked at {path}); fix the path, or pass "
                    "group_identical_images=False"
                ) from None
            out[i].append(canonical_json(token))
    return out


# --------------------------------------------------------------------------------------------
# groups and allocation
# --------------------------------------------------------------------------------------------


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, i: int, j: int) -> bool:
        a, b = self.find(i), self.find(j)
        if a == b:
            return False
        self.parent[max(a, b)] = min(a, b)  # the root is the group's first case
        return True

    def components(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for i in range(len(self.parent)):
            out.setdefault(self.find(i), []).append(i)
        return out


def _link(uf: _UnionFind, keys: list[Any]) -> list[tuple[int, int]]:
    """Union the cases sharing a key (a value, or any of a list of values); the new links."""
    first: dict[Any, int] = {}
    links = []
    for i, value in enumerate(keys):
        for key in value if isinstance(value, list) else [str(value)]:
            j = first.setdefault(key, i)
            if j != i and uf.union(i, j):
                links.append((j, i))
    return links


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before text, each in natural order (0 before 1, 2 before 10)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


def _group_strata(
    members: dict[int, list[int]], values: list[Any], ids: list[str]
) -> tuple[dict[int, Any], list[dict]]:
    """The stratum of each group (its majority value) and the groups of mixed values."""
    stratum, mixed = {}, []
    for root, rows in members.items():
        counts = Counter(values[i] for i in rows)
        top = max(counts.values())
        stratum[root] = min((v for v, n in counts.items() if n == top), key=_sort_key)
        if len(counts) > 1:
            mixed.append({
                "group": root,
                "case_ids": ";".join(ids[i] for i in rows),
                "values": ";".join(str(values[i]) for i in rows),
                "stratum": stratum[root],
            })  # fmt: skip
    return stratum, mixed


def _targets(sizes: dict[Any, int], test_size: float) -> dict[Any, int]:
    """Test cases per stratum: largest remainders of test_size * size, in [1, size - 1]."""
    exact = {s: test_size * n for s, n in sizes.items()}
    target = {s: math.floor(x) for s, x in exact.items()}
    total = math.floor(test_size * sum(sizes.values()) + 0.5)
    by_remainder = sorted(exact, key=lambda s: (-(exact[s] - target[s]), _sort_key(s)))
    for s in by_remainder[: max(0, total - sum(target.values()))]:
        target[s] += 1
    return {s: min(max(t, 1), sizes[s] - 1) for s, t in target.items()}


def _allocate(
    members: dict[int, list[int]],
    group_stratum: dict[int, Any],
    test_size: float,
    rng: np.random.Generator,
    stratify: str | None,
) -> dict[int, bool]:
    """Whether each group (by its root) goes to the test cohort."""
    by_stratum: dict[Any, list[int]] = {}
    for root in sorted(members):
        by_stratum.setdefault(group_stratum[root], []).append(root)
    strata = sorted(by_stratum, key=_sort_key)
    sizes = {s: sum(len(members[r]) for r in by_stratum[s]) for s in strata}
    small = [s for s in strata if len(by_stratum[s]) < 2]
    if small:
        what = f"{stratify} = " if stratify else ""
        detail = ", ".join(
            f"{what}{s}: {len(by_stratum[s])} group(s) of {sizes[s]} case(s)" for s in small
        )
        raise InputError(
            f"stratum too small to split ({detail}): a stratum needs at least two groups "
            "(patients, or cases with identical images) to be in both cohorts; add cases, "
            "merge the stratum with another, or split without stratify="
        )
    targets = _targets(sizes, test_size)
    in_test: dict[int, bool] = {}
    for s in strata:
        roots = [by_stratum[s][k] for k in rng.permutation(len(by_stratum[s]))]
        chosen = _closest_subset([len(members[r]) for r in roots], targets[s], sizes[s])
        for k, root in enumerate(roots):
            in_test[root] = k in chosen
    return in_test


def _closest_subset(sizes: list[int], target: int, total: int) -> set[int]:
    """Indices of a subset of ``sizes`` whose sum is closest to ``target`` (in (0, total)),
    taking items in order whenever the rest can still complete that sum."""
    reach = [0] * (len(sizes) + 1)  # reach[i]: bit s set if items i.. can sum to s
    reach[-1] = 1
    for i in range(len(sizes) - 1, -1, -1):
        reach[i] = reach[i + 1] | (reach[i + 1] << sizes[i])
    best = min(
        (s for s in range(1, total) if reach[0] >> s & 1),
        key=lambda s: (abs(s - target), s),
    )
    chosen, left = set(), best
    for i, size in enumerate(sizes):
        if left >= size and reach[i + 1] >> (left - size) & 1:
            chosen.add(i)
            left -= size
    return chosen


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------


def _result(frame, ids, cohort, members, uf, patients, values, group_stratum, mixed,
            merged_by_image, stratify, test_size, base, names) -> CohortSplit:  # fmt: skip
    out = frame.copy()
    if "cohort" in out.columns:
        out["cohort"] = cohort
    else:
        out.insert(list(out.columns).index("case_id") + 1, "cohort", cohort)
    roots = [uf.find(i) for i in range(len(ids))]
    number = {root: k for k, root in enumerate(sorted(members))}
    groups = pd.DataFrame({
        "case_id": ids,
        "group": [number[r] for r in roots],
        "patient": [None if patients is None else str(p) for p in (patients or ids)],
        "stratum": [group_stratum[r] for r in roots],
        "cohort": cohort,
    })  # fmt: skip
    rows = []
    for name in names:
        in_cohort = [i for i in range(len(ids)) if cohort[i] == name]
        n = len(in_cohort)
        for s in sorted({values[i] for i in range(len(ids))}, key=_sort_key):
            n_cases = sum(1 for i in in_cohort if values[i] == s)
            n_groups = len({roots[i] for i in in_cohort if group_stratum[roots[i]] == s})
            rows.append({"cohort": name, "stratum": s, "n_cases": n_cases,
                         "n_groups": n_groups, "share": n_cases / n if n else math.nan})  # fmt: skip
    merged = []
    for root, rows_ in sorted(members.items()):
        who = {str(patients[i]) if patients is not None else ids[i] for i in rows_}
        if len(who) > 1 and any(i in merged_by_image for i in rows_):
            merged.append({"group": number[root], "patients": ";".join(sorted(who)),
                           "case_ids": ";".join(ids[i] for i in rows_)})  # fmt: skip
    mixed_frame = pd.DataFrame(mixed, columns=["group", "case_ids", "values", "stratum"])
    mixed_frame["group"] = [number[g] for g in mixed_frame["group"]]
    if len(mixed_frame):
        warnings.warn(
            f"{len(mixed_frame)} group(s) hold cases with different `{stratify}` values and "
            "were stratified by their majority value: "
            + "; ".join(f"{r.case_ids} ({r.values})" for r in mixed_frame.head(10).itertuples())
            + "; listed in .mixed (identical images with different outcomes are a data error "
            "to fix)",
            DataWarning,
            stacklevel=3,
        )
    return CohortSplit(
        manifest=out,
        cohorts=pd.Series(cohort, index=pd.Index(ids, name="case_id"), name="cohort"),
        groups=groups,
        summary=pd.DataFrame(rows, columns=list(SPLIT_SUMMARY_COLUMNS)),
        merged=pd.DataFrame(merged, columns=["group", "patients", "case_ids"]),
        mixed=mixed_frame,
        stratify=stratify,
        test_size=test_size,
        base_dir=base,
    )
