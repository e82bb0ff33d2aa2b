"""External (e.g. deep-learning) features of a ROI, joined to the handcrafted ones.

A hybrid radiomics study scores a ROI on its PyRadiomics features *and* on features computed by
another tool (typically a CNN's penultimate layer, one vector per image). Such a table is read
and checked by :func:`read_external_features` (one row per case and reading; a ``reader``
column maps rows to the main reading ``reader1`` and to the repeat readings ``reader2`` /
``repeat`` that the ICC filter compares), and joined to the feature tables by
:func:`join_external_features` under the one naming of the package: column ``name`` of the
``tumor`` table becomes ``tumor__deep_name`` (:func:`radiomics_aln.features.feature_name` of
the ROI and ``"{prefix}_{name}"``). From there the external features are ordinary columns of
their ROI: the same ICC filter, standardisation, redundancy filter and LASSO, fitted on the
training cohort only, and the saved model lists the ones its scores use
(``settings["external_features"]``), so :meth:`radiomics_aln.model.StudyModel.predict` asks for
them by name (:func:`prediction_features`).

In a study, set ``external_features: {tumor: deep_tumor.csv, ln: deep_ln.csv}`` (and optionally
``external_prefix``) in the configuration; see ``docs/hybrid_features.md``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._validation import format_items
from radiomics_aln.cases import READERS, REPEAT_READERS
from radiomics_aln.exceptions import InputError
from radiomics_aln.features import CSV_EXACT_FLOATS, ROI_NAMES, SEP, feature_name

__all__ = [
    "ExternalFeatures",
    "read_external_features",
    "join_external_features",
    "prediction_features",
    "check_external_given",
]

#: The main reading: the rows a model is fitted on and predicts from.
MAIN_READER = READERS[0]


@dataclass
class ExternalFeatures:
    """A checked external feature table of one ROI (from :func:`read_external_features`).

    Attributes
    ----------
    roi : str
        The ROI the features describe.
    prefix : str
        The prefix of their names (``"deep"``: column ``f3`` is ``tumor__deep_f3``).
    features : pandas.DataFrame
        The main reading (``reader1``): index ``case_id`` (text), columns
        ``"{roi}__{prefix}_{name}"``, finite floats.
    repeats : dict of str to pandas.DataFrame
        The repeat readings present in the table (``reader2``, ``repeat``), same columns.
    source : str
        Where the table came from (for messages).
    """

    roi: str
    prefix: str
    features: pd.DataFrame
    repeats: dict[str, pd.DataFrame] = field(default_factory=dict)
    source: str = "the external feature table"

    @property
    def columns(self) -> list[str]:
        """The joined column names, in the table's order."""
        return [str(c) for c in self.features.columns]

    def __repr__(self) -> str:
        reps = ", ".join(f"{k}: {len(v)}" for k, v in self.repeats.items()) or "none"
        return (
            f"ExternalFeatures(roi={self.roi!r}, prefix={self.prefix!r}, "
            f"{len(self.features)} cases x {self.features.shape[1]} features, repeats: {reps})"
        )


def _check_prefix(prefix: Any) -> str:
    if (
        not isinstance(prefix, str)
        or not prefix
        or SEP in prefix
        or prefix != prefix.strip()
        or any(ch.isspace() for ch in prefix)
    ):
        raise InputError(
            f"the external feature prefix must be a non-empty word without spaces or "
            f"{SEP!r} (e.g. 'deep'), got {prefix!r}"
        )
    return prefix


def _read_table(source: Any, case: str) -> tuple[pd.DataFrame, str]:
    """The raw table (case ids as text in column ``case``) and a phrase naming it."""
    if isinstance(source, pd.DataFrame):
        table = source.copy()
        where = "the external feature table"
        if case not in table.columns:
            if table.index.name != case:
                raise InputError(
                    f"{where} has no {case!r} column or index (it has "
                    f"{format_items(table.columns, 10)}); it identifies the case of each row"
                )
            table = table.reset_index()
        table[case] = table[case].astype(str)
        return table, where
    if not isinstance(source, str | os.PathLike):
        raise InputError(
            "an external feature table must be a DataFrame or the path of a .csv or .parquet "
            f"file, got {type(source).__name__}"
        )
    path = Path(source)
    where = f"external feature file {path}"
    if not path.is_file():
        raise InputError(f"{where} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            table = pd.read_parquet(path)
            if case not in table.columns and table.index.name == case:
                table = table.reset_index()
        elif suffix == ".csv":
            table = pd.read_csv(path, dtype={case: str}, **CSV_EXACT_FLOATS)
        else:
            raise InputError(f"{where} must end in .csv or .parquet")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{where} cannot be read: {exc}") from None
    if case not in table.columns:
        raise InputError(
            f"{where} has no {case!r} column (it has {format_items(table.columns, 10)}); it "
            "identifies the case of each row"
        )
    if table[case].isna().any():
        rows = [int(i) + 2 for i in np.flatnonzero(table[case].isna())]
        raise InputError(f"{where} has rows without a {case}: line(s) {format_items(rows)}")
    table[case] = table[case].astype(str)
    return table, where


def _check_values(table: pd.DataFrame, names: list[str], case: str, where: str) -> pd.DataFrame:
    """The feature columns as floats; a non-numeric or non-finite value names case and column."""
    problems = []
    for name in names:
        col = table[name]
        numeric = pd.to_numeric(col, errors="coerce")
        text = col.notna() & numeric.isna()
        if text.any():
            ids = table.loc[text, case]
            problems.append(
                f"column {name!r} is not numeric (e.g. {col[text].iloc[0]!r} in case(s) "
                f"{format_items(ids, 5)})"
            )
            continue
        values = numeric.to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            ids = table.loc[bad, case]
            problems.append(
                f"column {name!r} has missing or non-finite values in case(s) "
                f"{format_items(ids, 5)}"
            )
    if problems:
        more = f" and {len(problems) - 5} more column(s)" if len(problems) > 5 else ""
        raise InputError(
            f"{where}: {'; '.join(problems[:5])}{more}. External features are never imputed: "
            "recompute them for those cases (or remove the cases from the study)"
        )
    return table[names].apply(pd.to_numeric).astype(float)


def read_external_features(
    source: str | os.PathLike | pd.DataFrame,
    *,
    roi: str,
    prefix: str = "deep",
    case: str = "case_id",
    reader: str | None = "reader",
    cases: Iterable[str] | None = None,
) -> ExternalFeatures:
    """Read and check an external feature table of one ROI (e.g. deep features of a CNN).

    Parameters
    ----------
    source : path or DataFrame
        A ``.csv`` or ``.parquet`` file or a DataFrame: one row per case (and reading), a case
        column, optionally a reader column, and one numeric column per feature.
    roi : str
        The ROI the features describe (one of :data:`radiomics_aln.features.ROI_NAMES`).
    prefix : str, default "deep"
        Column ``name`` becomes ``"{roi}__{prefix}_{name}"``.
    case : str, default "case_id"
        The column (or a DataFrame's index name) holding the case ids, read as text.
    reader : str or None, default "reader"
        The column saying which reading a row is: ``reader1`` (the main reading), ``reader2``
        (a second reader's segmentation) or ``repeat`` (the first reader again); the repeat
        readings feed the ICC filter. A table without this column (or ``reader=None``) holds
        the main reading only.
    cases : iterable of str, optional
        The known case ids: a row of another case is an error (ids are matched as text, so
        ``'007'`` and ``'7'`` differ).

    Returns
    -------
    ExternalFeatures
        ``features`` (main reading) and ``repeats`` ({reader: DataFrame}), columns renamed.

    Raises
    ------
    InputError
        Naming the file, case and column: a missing file or case column, an unknown ROI or
        reader, a case listed twice for one reading, a feature name holding ``"__"``, a
        non-numeric, missing or non-finite value, no feature column, no main-reading row, or
        (with ``cases``) unknown case ids.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"case_id": ["001", "002", "001"], "reader": ["reader1", "reader1",
    ...                   "reader2"], "f0": [0.5, 1.5, 0.6], "f1": [2.0, 1.0, 2.1]})
    >>> ext = read_external_features(t, roi="tumor")
    >>> ext.columns, list(ext.features.index), list(ext.repeats)
    (['tumor__deep_f0', 'tumor__deep_f1'], ['001', '002'], ['reader2'])
    """
    if roi not in ROI_NAMES:
        raise InputError(f"unknown ROI {roi!r} for external features; use {list(ROI_NAMES)}")
    prefix = _check_prefix(prefix)
    table, where = _read_table(source, case)
    if reader is not None and reader in table.columns:
        if table[reader].isna().any():
            ids = table.loc[table[reader].isna(), case]
            raise InputError(f"{where}: column {reader!r} is empty for case(s) {format_items(ids)}")
        readings = table[reader].astype(str)
        unknown = sorted(set(readings) - set(READERS))
        if unknown:
            raise InputError(
                f"{where}: column {reader!r} has value(s) {format_items(unknown)}; use "
                f"{format_items(READERS)} ({MAIN_READER} is the main reading)"
            )
        names = [c for c in table.columns if c not in (case, reader)]
    else:
        readings = pd.Series(MAIN_READER, index=table.index)
        names = [c for c in table.columns if c != case]
    if not names:
        raise InputError(f"{where} has no feature column besides {case!r}")
    odd = [c for c in names if not isinstance(c, str) or not c.strip() or SEP in c]
    if odd:
        raise InputError(
            f"{where}: feature column name(s) {format_items(map(repr, odd))} are empty or hold "
            f"{SEP!r}; the study names them '{roi}{SEP}{prefix}_<name>' itself"
        )
    key = table[case] + "\x00" + readings
    if key.duplicated().any():
        dup = key[key.duplicated()].str.replace("\x00", " ", regex=False).unique()
        raise InputError(
            f"{where} has more than one row for (case, reading) {format_items(dup)}; keep one"
        )
    if cases is not None:
        known = {str(c) for c in cases}
        unknown_cases = [c for c in pd.unique(table[case]) if c not in known]
        if unknown_cases:
            raise InputError(
                f"{where} has rows of case(s) {format_items(unknown_cases)} that are not in the "
                f"cohort (its case ids include {format_items(sorted(known), 5)}); case ids are "
                "matched as text, so '007' and '7' differ"
            )
    values = _check_values(table, names, case, where)
    values.columns = [feature_name(roi, f"{prefix}_{n}") for n in names]
    values.index = pd.Index(table[case].to_numpy(), name="case_id")
    parts = {r: values[(readings == r).to_numpy()] for r in READERS}
    if not len(parts[MAIN_READER]):
        raise InputError(f"{where} has no row of the main reading ({MAIN_READER})")
    repeats = {r: parts[r] for r in REPEAT_READERS if len(parts[r])}
    return ExternalFeatures(roi, prefix, parts[MAIN_READER], repeats, where)


def _as_list(external: ExternalFeatures | Sequence[ExternalFeatures]) -> list[ExternalFeatures]:
    items = [external] if isinstance(external, ExternalFeatures) else list(external)
    for item in items:
        if not isinstance(item, ExternalFeatures):
            raise InputError(
                "join_external_features needs tables from read_external_features, got "
                f"{type(item).__name__}"
            )
    return items


def join_external_features(
    features: pd.DataFrame,
    external: ExternalFeatures | Sequence[ExternalFeatures],
    *,
    repeats: Mapping[str, pd.DataFrame] | None = None,
    cases: Iterable[str] | None = None,
    repeat_cases: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Join external feature tables to the handcrafted features and their repeat readings.

    Parameters
    ----------
    features : pandas.DataFrame
        Handcrafted features of the main reading (case id index, ``<roi>__<feature>`` columns).
    external : ExternalFeatures or list of them
        From :func:`read_external_features`.
    repeats : dict of str to DataFrame, optional
        The handcrafted repeat readings (``{"reader2": ..., "repeat": ...}``); each gets the
        external features of the same reading.
    cases : iterable of str, optional
        The cases that need external features (default: every row of ``features``).
    repeat_cases : iterable of str, optional
        The cases whose repeat readings need external features (default: every row of
        ``repeats``; a study passes its training cases, the only ones the ICC filter sees).
        Repeat rows of other cases keep missing values in the external columns.

    Returns
    -------
    features : pandas.DataFrame
        ``features`` with the external columns appended (rows as in ``features``).
    repeats : dict of str to DataFrame
        Each repeat reading with the external columns appended.

    Raises
    ------
    InputError
        An external column named like an existing column (change the prefix); a case of
        ``cases`` without an external row (named); a repeat reading of ``repeat_cases``
        without its external row; an external repeat reading of a case that has no such
        handcrafted reading.

    Examples
    --------
    >>> import pandas as pd
    >>> hand = pd.DataFrame({"tumor__original_firstorder_Mean": [1.0, 2.0]},
    ...                     index=pd.Index(["001", "002"], name="case_id"))
    >>> deep = read_external_features(
    ...     pd.DataFrame({"case_id": ["001", "002"], "f0": [0.1, 0.2]}), roi="tumor")
    >>> joined, _ = join_external_features(hand, deep)
    >>> list(joined.columns)
    ['tumor__original_firstorder_Mean', 'tumor__deep_f0']
    """
    items = _as_list(external)
    features = features.rename(index=str)
    repeats = {k: v.rename(index=str) for k, v in (repeats or {}).items()}
    cases = list(features.index) if cases is None else [str(c) for c in cases]
    seen = list(features.columns)
    for ext in items:
        clash = [c for c in ext.columns if c in seen]
        if clash:
            raise InputError(
                f"{ext.source}: column(s) {format_items(clash, 5)} already exist in the feature "
                f"table; choose another prefix than {ext.prefix!r}"
            )
        seen += ext.columns
        missing = [c for c in cases if c not in ext.features.index]
        if missing:
            raise InputError(
                f"{ext.source} ({ext.roi}) has no {MAIN_READER} row for {len(missing)} case(s) "
                f"of the study: {format_items(missing)} (its case ids include "
                f"{format_items(ext.features.index, 5)}). External features are never "
                "imputed: add the rows, or remove the cases from the study"
            )
    out = features.join([ext.features for ext in items], how="left")
    joined = {}
    for reading, table in repeats.items():
        need = list(table.index) if repeat_cases is None else [
            c for c in table.index if c in {str(r) for r in repeat_cases}
        ]
        parts = []
        for ext in items:
            rep = ext.repeats.get(reading, pd.DataFrame(columns=ext.columns, dtype=float))
            lacking = [c for c in need if c not in rep.index]
            if lacking:
                raise InputError(
                    f"{ext.source} ({ext.roi}) has no {reading} row for case(s) "
                    f"{format_items(lacking)}, which have {reading} segmentations: the ICC "
                    f"filter compares every feature's readings. Add rows with reader "
                    f"{reading}, or turn the filter off (icc: {{enabled: false}})"
                )
            parts.append(rep)
        joined[reading] = table.join(parts, how="left") if parts else table
    for ext in items:
        for reading, rep in ext.repeats.items():
            have = repeats.get(reading)
            extra = [c for c in rep.index if have is None or c not in have.index]
            if extra:
                raise InputError(
                    f"{ext.source} ({ext.roi}) has {reading} rows for case(s) "
                    f"{format_items(extra)} that have no {reading} segmentation in the feature "
                    "tables; check the reader column"
                )
    return out, joined


def study_external_features(
    paths: Mapping[str, Any],
    prefix: str,
    *,
    features: pd.DataFrame,
    repeats: Mapping[str, pd.DataFrame],
    cases: Iterable[str],
    known: Iterable[str],
    repeat_cases: Iterable[str],
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, list[str]]]:
    """The study's step: read each ROI's table, join it; also ``{roi: external columns}``."""
    if not paths:
        return features, dict(repeats), {}
    known = list(known)
    items = [
        read_external_features(path, roi=roi, prefix=prefix, cases=known)
        for roi, path in paths.items()
    ]
    feats, reps = join_external_features(
        features, items, repeats=repeats, cases=cases, repeat_cases=repeat_cases
    )
    return feats, reps, {ext.roi: ext.columns for ext in items}


def methods_sentences(
    external_columns: Mapping[str, Sequence[str]], paths: Mapping[str, Any]
) -> list[str]:
    """The methods text's sentence on the external features (none without them)."""
    if not external_columns:
        return []
    parts = ", ".join(
        f"{roi}: {len(cols)} from {Path(str(paths.get(roi, '?'))).name}"
        for roi, cols in external_columns.items()
    )
    return [
        f"External (e.g. deep) features joined to the ROIs' features ({parts}); the counts "
        "above include them, and they went through the same ICC filter, standardisation, "
        "redundancy filter and LASSO, fitted on the training cohort only."
    ]


def model_settings(
    external_columns: Mapping[str, Sequence[str]], scores: Mapping[str, Any], prefix: str
) -> dict[str, Any]:
    """``{"external_features": {roi: {"prefix", "columns"}}}`` for the saved model's settings:
    the external columns each score reads (empty when none passed the filters); ``{}`` when the
    study had no external features."""
    if not external_columns:
        return {}
    spec = {}
    for roi, cols in external_columns.items():
        used = set(scores[roi].feature_names_in_) if roi in scores else set()
        spec[roi] = {"prefix": prefix, "columns": [c for c in cols if c in used]}
    return {"external_features": spec}


def check_external_given(
    spec: Mapping[str, Mapping[str, Any]] | None, external: Mapping[str, Any] | None
) -> dict[str, list[str]]:
    """The external columns a model needs per ROI, after checking that ``external`` gives them.

    ``spec`` is the model's ``settings["external_features"]``. With ``external=None`` every
    needed ROI is an error (call it only when the data cannot already hold the columns, e.g.
    before extracting a manifest); otherwise ``external`` must be a mapping of the model's
    external ROIs, including every ROI whose score uses external columns.
    """
    spec = dict(spec or {})
    need = {roi: list(s["columns"]) for roi, s in spec.items() if s["columns"]}
    if external is None:
        if need:
            _lacking_error(need)
        return need
    if not isinstance(external, Mapping):
        raise InputError(
            "external must map a ROI to its feature table (a path or a DataFrame), got "
            f"{type(external).__name__}"
        )
    unknown = [r for r in external if r not in spec]
    if unknown:
        raise InputError(
            f"external features given for ROI(s) {format_items(unknown)}, but the model has "
            f"external features of {format_items(spec) or 'no ROI'}"
        )
    absent = {r: cols for r, cols in need.items() if r not in external}
    if absent:
        _lacking_error(absent)
    return need


def _lacking_error(lacking: Mapping[str, Sequence[str]]) -> None:
    which = "; ".join(
        f"{r}: {len(cols)} column(s) such as {format_items(cols, 3)}" for r, cols in lacking.items()
    )
    example = ", ".join(f"{r!r}: 'deep_{r}.csv'" for r in lacking)
    cli = " ".join(f"--external {r}=deep_{r}.csv" for r in lacking)
    raise InputError(
        f"the model's scores use external (e.g. deep) features that the data lack ({which}). "
        "Supply the new patients' tables, computed as for training: "
        f"predict(..., external={{{example}}}) (CLI: {cli}); they are never filled in"
    )


def prediction_features(
    features: pd.DataFrame,
    spec: Mapping[str, Mapping[str, Any]] | None,
    external: Mapping[str, Any] | None,
) -> pd.DataFrame:
    """The features of the patients to predict with the external columns a model needs.

    Parameters
    ----------
    features : pandas.DataFrame
        Handcrafted features (and possibly already the external columns), case id index.
    spec : mapping or None
        The model's ``settings["external_features"]`` (``{roi: {"prefix", "columns"}}``).
    external : mapping of ROI to path or DataFrame, or None
        The external feature tables of the new patients (main reading; repeat rows are
        ignored). None: ``features`` must hold the columns already.

    Returns
    -------
    pandas.DataFrame
        ``features`` with the external columns the model's scores use.

    Raises
    ------
    InputError
        The model needs external features that neither ``features`` nor ``external`` hold
        (naming the ROI, the columns and how to supply them), a case without an external row,
        a table for a ROI the model has no external features of, or columns given twice.
    """
    if external is None:
        need = {roi: list(s["columns"]) for roi, s in dict(spec or {}).items() if s["columns"]}
        lacking = {r: [c for c in cols if c not in features.columns] for r, cols in need.items()}
        lacking = {r: cols for r, cols in lacking.items() if cols}
        if lacking:
            _lacking_error(lacking)
        return features
    need = check_external_given(spec, external)
    out = features.rename(index=str)
    for roi, source in external.items():
        ext = read_external_features(source, roi=roi, prefix=dict(spec or {})[roi]["prefix"])
        cols = need.get(roi, [])
        lacking = [c for c in cols if c not in ext.features.columns]
        if lacking:
            raise InputError(
                f"{ext.source} ({roi}) lacks the feature(s) {format_items(lacking, 5)} that the "
                f"model's {roi} score uses"
            )
        twice = [c for c in cols if c in out.columns]
        if twice:
            raise InputError(
                f"the external column(s) {format_items(twice, 5)} are both in the feature table "
                f"and in {ext.source}; give them once"
            )
        missing = [c for c in out.index if c not in ext.features.index]
        if missing:
            raise InputError(
                f"{ext.source} ({roi}) has no {MAIN_READER} row for case(s) "
                f"{format_items(missing)} to predict (its case ids include "
                f"{format_items(ext.features.index, 5)}); external features are never filled in"
            )
        out = out.join(ext.features[cols])
    return out
