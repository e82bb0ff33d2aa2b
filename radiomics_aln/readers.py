"""Reader studies: radiologists' reads without and with the model, compared and agreed.

A reader study has every reader read every case in each session (e.g. ``unaided``, then two
weeks later ``aided`` by the model's prediction). This module

- reads and checks the reader table (:func:`read_reader_table` -> :class:`ReaderTable`;
  every problem of a file at once, as :class:`~radiomics_aln.exceptions.ReaderTableError`
  naming case, reader, session and column);
- computes per reader and session the AUC with its DeLong interval (from the ratings, or from
  the binary calls: the single operating point) and accuracy, sensitivity, specificity, PPV
  and NPV with Wilson intervals (:mod:`radiomics_aln.performance`);
- compares each later session with the first (paired DeLong for the AUC, exact McNemar for
  accuracy, sensitivity and specificity: :func:`mcnemar_test`) and each reader with the model
  (paired DeLong);
- measures agreement between readers and with the truth (Cohen's kappa, weighted on ordinal
  ratings, and Fleiss' kappa for more than two readers: :mod:`radiomics_aln.agreement`);
- draws the model's ROC curve with the readers' operating points (arrows from unaided to
  aided) and the bars of accuracy, sensitivity and specificity.

:func:`reader_study` returns a :class:`ReaderStudy` with tidy tables (``summary``,
``comparisons``, ``model_comparisons``, ``agreement``), ``formatted()`` for a paper and
``plot(ax=None, kind="roc"|"metrics")``. The multi-reader multi-case (Obuchowski-Rockette)
analysis, which generalises the conclusions to other readers, is a separate module.

The reader table (CSV or Parquet, one row per case, reader and session):

========== ================================================================================
column     meaning
========== ================================================================================
case_id    the case (as in the manifest)
reader     the reader's name or code
session    the reading session (``unaided`` / ``aided`` or any labels; order via ``sessions``)
call       the binary decision: 1 = positive (e.g. metastasis), 0 = negative
rating     a confidence rating (ordinal such as BI-RADS-like 1-5, or a probability);
           higher = more likely positive
experience optional: the reader's experience (years or a label), one value per reader
========== ================================================================================

``call`` or ``rating`` (or both) must be present. Without ``call``, calls are ``rating >=
rating_threshold``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from radiomics_aln._display import SummaryHTML
from radiomics_aln._plotting import REFERENCE_STYLE, get_ax, legend_below, series_colour
from radiomics_aln._validation import check_conf_level, format_items
from radiomics_aln.agreement import cohen_kappa, fleiss_kappa
from radiomics_aln.exceptions import InputError, ReaderTableError
from radiomics_aln.formatting import format_estimate_ci, format_p_value
from radiomics_aln.metrics import delong_test, roc_auc, roc_curve_table
from radiomics_aln.mrmc import or_mrmc
from radiomics_aln.performance import diagnostic_metrics

__all__ = [
    "READER_COLUMNS",
    "ReaderTable",
    "read_reader_table",
    "mcnemar_test",
    "reader_study",
    "ReaderStudy",
    "plot_reader_roc",
    "plot_reader_metrics",
]

#: the columns of a reader table (``experience`` optional; ``call`` and/or ``rating``)
READER_COLUMNS = ("case_id", "reader", "session", "call", "rating", "experience")
_KEY = ("case_id", "reader", "session")
_DEFAULT_SESSIONS = ("unaided", "aided")
_THRESHOLD_METRICS = ("accuracy", "sensitivity", "specificity", "ppv", "npv")
_PLOT_METRICS = ("accuracy", "sensitivity", "specificity")


# --------------------------------------------------------------------------- the table


@dataclass
class ReaderTable:
    """A checked reader table (from :func:`read_reader_table`).

    Attributes
    ----------
    data : pandas.DataFrame
        One row per case, reader and session: ``case_id``, ``reader``, ``session`` (text),
        ``call`` (0/1), ``rating`` (float) when given, ``experience`` when given.
    readers : list of str
        The readers, in order of first appearance.
    sessions : list of str
        The sessions in reading order (the first is the reference of the comparisons).
    cases : list of str
        The cases, in order of first appearance.
    calls_from_rating : float or None
        The rating threshold that made the calls when the table has no ``call`` column.
    path : str or None
        The file read.
    """

    data: pd.DataFrame
    readers: list[str]
    sessions: list[str]
    cases: list[str]
    calls_from_rating: float | None = None
    path: str | None = None

    @property
    def has_rating(self) -> bool:
        """Whether the table has ratings (else the AUC is that of the calls)."""
        return "rating" in self.data.columns

    @property
    def experience(self) -> dict[str, Any]:
        """Each reader's experience (empty without an ``experience`` column)."""
        if "experience" not in self.data.columns:
            return {}
        first = self.data.drop_duplicates("reader").set_index("reader")["experience"]
        return {str(k): v for k, v in first.items()}

    def wide(self, column: str, session: str) -> pd.DataFrame:
        """Cases x readers table of ``column`` (``"call"`` or ``"rating"``) in one session."""
        part = self.data[self.data["session"] == session]
        return part.pivot(index="case_id", columns="reader", values=column).loc[
            self.cases, self.readers
        ]


def _load_frame(source: Any) -> tuple[pd.DataFrame, str | None]:
    if isinstance(source, pd.DataFrame):
        return source.copy(), None
    path = Path(source)
    if not path.is_file():
        raise InputError(f"reader table {path} does not exist (or is a folder)")
    text_cols = {"case_id": str, "reader": str, "session": str}
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
            for col in text_cols:
                if col in frame.columns:
                    frame[col] = frame[col].map(lambda v: v if pd.isna(v) else str(v))
        else:
            frame = pd.read_csv(path, dtype=text_cols, keep_default_na=True)
    except (OSError, ValueError, ImportError) as exc:
        raise InputError(f"cannot read reader table {path}: {exc}") from None
    return frame, str(path)


def _rows(frame: pd.DataFrame, mask: Any) -> str:
    return format_items([int(i) + 2 for i in np.flatnonzero(np.asarray(mask))])  # file lines


def _check_values(frame: pd.DataFrame, problems: list[str]) -> None:
    """Missing keys, calls that are not 0/1, ratings that are not numbers."""
    for col in _KEY:
        bad = frame[col].isna() | (frame[col].astype(str).str.strip() == "")
        if bad.any():
            problems.append(f"column `{col}` is empty on line(s) {_rows(frame, bad)}")
    if "call" in frame.columns:
        call = pd.to_numeric(frame["call"], errors="coerce")
        bad = ~call.isin([0, 1])
        if bad.any():
            shown = format_items(frame.loc[bad, "call"].tolist())
            problems.append(
                f"column `call` must be 0 (negative) or 1 (positive); line(s) "
                f"{_rows(frame, bad)} have {shown}"
            )
        frame["call"] = call
    if "rating" in frame.columns:
        rating = pd.to_numeric(frame["rating"], errors="coerce")
        bad = ~np.isfinite(rating.to_numpy(dtype=float))
        if bad.any():
            shown = format_items(frame.loc[bad, "rating"].tolist())
            problems.append(
                f"column `rating` must be a number on every row; line(s) {_rows(frame, bad)} "
                f"have {shown}"
            )
        frame["rating"] = rating


def _check_design(
    frame: pd.DataFrame, sessions: list[str], problems: list[str], cases: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """Duplicates, unknown cases, readers missing a session, cases a reader did not read."""
    dup = frame.duplicated(list(_KEY), keep=False)
    if dup.any():
        keys = frame.loc[dup, list(_KEY)].drop_duplicates().astype(str).agg("/".join, axis=1)
        problems.append(
            f"{int(dup.sum())} rows repeat a case/reader/session ({format_items(list(keys))}); "
            "keep one reading per case, reader and session"
        )
    seen_cases = list(dict.fromkeys(frame["case_id"]))
    readers = list(dict.fromkeys(frame["reader"]))
    if cases is not None:
        order = list(dict.fromkeys(str(c) for c in cases))
        known = set(order)
        unknown = [c for c in seen_cases if c not in known]
        if unknown:
            problems.append(
                f"case(s) {format_items(unknown)} are not in the cohort; check `case_id` "
                "against the manifest"
            )
        read = set(seen_cases)
        seen_cases = [c for c in order if c in read] + unknown
    all_cases = set(seen_cases)
    for reader in readers:
        mine = frame[frame["reader"] == reader]
        for session in sessions:
            read = set(mine.loc[mine["session"] == session, "case_id"])
            if not read:
                problems.append(
                    f"reader {reader!r} has no reading in session {session!r}; every reader "
                    "reads every case in every session"
                )
            elif read != all_cases:
                missing = [c for c in seen_cases if c not in read]
                problems.append(
                    f"reader {reader!r}, session {session!r}: no reading of case(s) "
                    f"{format_items(missing)}"
                )
    if "experience" in frame.columns:
        counts = frame.groupby("reader")["experience"].nunique(dropna=False)
        many = [str(r) for r in counts.index[counts > 1]]
        if many:
            problems.append(
                f"column `experience` must hold one value per reader; reader(s) "
                f"{format_items(many)} have several"
            )
    return seen_cases, readers


def _resolve_sessions(frame: pd.DataFrame, sessions: Sequence[str] | None) -> list[str]:
    seen = [str(s) for s in dict.fromkeys(frame["session"].dropna())]
    if sessions is None:
        if set(seen) == set(_DEFAULT_SESSIONS):
            return list(_DEFAULT_SESSIONS)
        if len(seen) == 1:
            return seen
        raise ReaderTableError(
            [
                f"sessions {format_items(seen)} are not 'unaided'/'aided'; pass `sessions=` "
                "(the reference session first, e.g. ['without AI', 'with AI'])"
            ]
        )
    sessions = [str(s) for s in sessions]
    unknown = [s for s in seen if s not in sessions]
    if unknown or len(set(sessions)) != len(sessions):
        raise ReaderTableError(
            [f"sessions in the table {format_items(seen)} do not match `sessions` {sessions}"]
        )
    return sessions


def read_reader_table(
    source: str | os.PathLike | pd.DataFrame,
    *,
    cases: Sequence[str] | None = None,
    sessions: Sequence[str] | None = None,
    rating_threshold: float | None = None,
) -> ReaderTable:
    """Read and check a reader-study table (CSV, Parquet or a DataFrame).

    Parameters
    ----------
    source : path or DataFrame
        The table: columns ``case_id``, ``reader``, ``session``, and ``call`` (0/1) and/or
        ``rating`` (a number; higher = more likely positive); optional ``experience``.
        Other columns are kept but not used.
    cases : sequence of str, optional
        The cohort's case ids; a case of the table not among them is an error.
    sessions : sequence of str, optional
        The sessions in reading order, the reference first. Default ``["unaided", "aided"]``
        when those are the labels (or the one label of a single session).
    rating_threshold : float, optional
        Without a ``call`` column, a case is called positive when ``rating >=
        rating_threshold`` (e.g. 4 on a BI-RADS-like scale). Not allowed with a ``call``
        column.

    Returns
    -------
    ReaderTable

    Raises
    ------
    ReaderTableError
        Listing every problem: a missing column, empty keys, a call not 0/1, a rating not a
        number, a repeated case/reader/session, an unknown case, a reader missing a session
        or some cases of a session, several experiences of one reader, unknown sessions.
    InputError
        The file does not exist or cannot be read.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "case_id": ["a", "b"] * 2, "reader": ["R1"] * 4,
    ...     "session": ["unaided"] * 2 + ["aided"] * 2, "call": [0, 1, 1, 1]})
    >>> table = read_reader_table(frame)
    >>> table.readers, table.sessions, table.cases
    (['R1'], ['unaided', 'aided'], ['a', 'b'])
    >>> bad = frame.drop(index=3)
    >>> read_reader_table(bad)
    Traceback (most recent call last):
    ...
    radiomics_aln.exceptions.ReaderTableError: reader table has 1 problem(s):
      - reader 'R1', session 'aided': no reading of case(s) b
    """
    frame, path = _load_frame(source)
    frame.columns = [str(c).strip() for c in frame.columns]
    problems: list[str] = []
    missing = [c for c in _KEY if c not in frame.columns]
    if missing:
        problems.append(f"missing column(s) {format_items(missing)}")
    if "call" not in frame.columns and "rating" not in frame.columns:
        problems.append("the table needs a `call` (0/1) or a `rating` column, or both")
    if problems:
        raise ReaderTableError(problems + [f"columns found: {format_items(list(frame.columns))}"], path)
    for col in _KEY:
        frame[col] = frame[col].map(lambda v: v if pd.isna(v) else str(v).strip())
    _check_values(frame, problems)
    if problems:
        raise ReaderTableError(problems, path)
    try:
        ordered = _resolve_sessions(frame, sessions)
    except ReaderTableError as exc:
        raise ReaderTableError(exc.problems, path) from None
    seen_cases, readers = _check_design(frame, ordered, problems, cases)
    if problems:
        raise ReaderTableError(problems, path)
    threshold = None
    if "call" not in frame.columns:
        if rating_threshold is None:
            raise ReaderTableError(
                ["the table has ratings but no `call` column; pass `rating_threshold` "
                 "(calls are rating >= threshold)"], path)  # fmt: skip
        threshold = float(rating_threshold)
        frame["call"] = (frame["rating"] >= threshold).astype(int)
    elif rating_threshold is not None:
        raise InputError("`rating_threshold` is only for a table without a `call` column")
    frame["call"] = frame["call"].astype(int)
    frame["session"] = pd.Categorical(frame["session"], categories=ordered, ordered=True)
    frame = frame.sort_values(["session", "reader", "case_id"], kind="stable")
    frame["session"] = frame["session"].astype(str)
    return ReaderTable(frame.reset_index(drop=True), readers, ordered, seen_cases, threshold, path)


# --------------------------------------------------------------------------- McNemar


def mcnemar_test(x1: Any, x2: Any, *, exact: bool = True, correct: bool = True) -> pd.DataFrame:
    """McNemar's test of two paired proportions (e.g. correct reads unaided vs aided).

    Parameters
    ----------
    x1, x2 : array-like of 0/1
        The paired binary results (same subjects, same order), e.g. 1 = correct read.
    exact : bool
        Exact test (default): two-sided binomial test of ``c`` successes in the ``b + c``
        discordant pairs with probability 1/2 (R ``binom.test(c, b + c)``). False: the
        chi-square test (R ``mcnemar.test``).
    correct : bool
        Continuity correction of the chi-square test (R's default); ignored when exact.

    Returns
    -------
    pandas.DataFrame
        One row indexed ``"mcnemar"``: ``proportion_1``, ``proportion_2``, ``estimate``
        (``proportion_2 - proportion_1``), ``b`` (1 then 0), ``c`` (0 then 1), ``n``,
        ``statistic`` (chi-square; NaN for the exact test), ``p_value``, ``method``.

    Raises
    ------
    InputError
        Values other than 0/1 or missing, lengths that differ.

    Notes
    -----
    Only the discordant pairs carry information. With none (``b + c = 0``) the p-value is
    1 (R's ``binom.test`` refuses ``n = 0``; ``mcnemar.test`` returns NaN). The exact test is
    the one recommended for small discordant counts (Fagerland, Lydersen & Laake 2013).

    References
    ----------
    McNemar Q (1947). Note on the sampling error of the difference between correlated
    proportions or percentages. Psychometrika 12:153-157.
    Fagerland MW, Lydersen S, Laake P (2013). The McNemar test for binary matched-pairs data:
    mid-p and asymptotic are better than exact conditional. BMC Med Res Methodol 13:91.

    Examples
    --------
    >>> x1 = [1, 1, 0, 0, 1, 0, 1, 0, 0, 1]
    >>> x2 = [1, 1, 1, 1, 1, 1, 1, 0, 1, 1]
    >>> mcnemar_test(x1, x2)[["b", "c", "estimate", "p_value"]]  # R: binom.test(4, 4)
             b  c  estimate  p_value
    mcnemar  0  4       0.4    0.125
    """
    a = pd.to_numeric(pd.Series(np.asarray(x1, dtype=object)), errors="coerce").to_numpy(float)
    b_ = pd.to_numeric(pd.Series(np.asarray(x2, dtype=object)), errors="coerce").to_numpy(float)
    if a.ndim != 1 or a.size != b_.size or a.size == 0:
        raise InputError(f"`x1` and `x2` must be non-empty and of equal length ({a.size}, {b_.size})")
    for name, v in (("x1", a), ("x2", b_)):
        bad = ~np.isin(v, (0.0, 1.0))
        if bad.any():
            raise InputError(f"`{name}` must be 0/1; positions {format_items(np.flatnonzero(bad).tolist())}")
    b = int(np.sum((a == 1) & (b_ == 0)))
    c = int(np.sum((a == 0) & (b_ == 1)))
    stat = float("nan")
    if b + c == 0:
        pval = 1.0
    elif exact:
        pval = float(stats.binomtest(c, b + c, 0.5).pvalue)
    else:
        stat = (abs(b - c) - (1 if correct else 0)) ** 2 / (b + c)
        pval = float(stats.chi2.sf(stat, 1))
    method = "McNemar exact" if exact else "McNemar chi-square" + (" (corrected)" if correct else "")
    return pd.DataFrame(
        {
            "proportion_1": [a.mean()],
            "proportion_2": [b_.mean()],
            "estimate": [b_.mean() - a.mean()],
            "b": [b],
            "c": [c],
            "n": [a.size],
            "statistic": [stat],
            "p_value": [pval],
            "method": [method],
        },
        index=pd.Index(["mcnemar"]),
    )


# --------------------------------------------------------------------------- the study


@dataclass
class ReaderStudy(SummaryHTML):
    """Result of :func:`reader_study`.

    Attributes
    ----------
    performance : pandas.DataFrame
        One row per reader, session and metric (``auc``, ``accuracy``, ``sensitivity``,
        ``specificity``, ``ppv``, ``npv``): ``reader``, ``session``, ``metric``,
        ``estimate``, ``ci_low``, ``ci_high``, ``count``, ``n`` (NaN for the AUC), ``source``
        (``rating`` or ``call``), ``experience`` when known. The model's rows have reader
        ``model_name`` and session ``"model"``.
    comparisons : pandas.DataFrame
        Each later session against the first, per reader and metric: ``reader``,
        ``session_1``, ``session_2``, ``metric``, ``estimate_1``, ``estimate_2``,
        ``estimate`` (``estimate_2 - estimate_1``), ``ci_low``, ``ci_high`` (DeLong interval
        of the AUC difference; NaN for McNemar), ``b``, ``c`` (discordant pairs), ``n``,
        ``statistic`` (DeLong z), ``p_value``, ``test``.
    model_comparisons : pandas.DataFrame
        The model against each reader and session (paired DeLong): ``reader``, ``session``,
        ``auc_model``, ``auc_reader``, ``estimate`` (model - reader), ``ci_low``, ``ci_high``,
        ``statistic``, ``p_value``, ``test``. Empty without model predictions.
    agreement : pandas.DataFrame
        ``session``, ``rater_1``, ``rater_2`` (``"truth"`` for the outcome; ``"all readers"``
        for Fleiss), ``scale`` (``call`` or ``rating``), ``statistic`` (``cohen_kappa``,
        ``weighted_kappa``, ``fleiss_kappa``), ``weights``, ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, ``p_value`` (Fleiss' z test; NaN otherwise), ``n``.
    roc : pandas.DataFrame or None
        The model's ROC curve (:func:`radiomics_aln.metrics.roc_curve_table`).
    mrmc : radiomics_aln.mrmc.MRMCResult or None
        The multi-reader multi-case analysis of the sessions' reader-averaged AUCs
        (Obuchowski-Rockette with Hillis' df, jackknife covariances; on the ratings, else on
        the calls); None with a single reader or session.
    readers, sessions : list of str
    model_name : str
    conf_level : float
    """

    performance: pd.DataFrame
    comparisons: pd.DataFrame
    model_comparisons: pd.DataFrame
    agreement: pd.DataFrame
    roc: pd.DataFrame | None
    readers: list[str]
    sessions: list[str]
    model_name: str = "Model"
    conf_level: float = 0.95
    kappa_weights: str | None = "quadratic"
    notes: list[str] = field(default_factory=list)
    mrmc: Any = None

    @property
    def summary(self) -> pd.DataFrame:
        """The tidy per-reader, per-session performance (:attr:`performance`)."""
        return self.performance

    def formatted(self, decimals: int = 3) -> pd.DataFrame:
        """Publication view: one row per reader and session, each metric ``est (low-high)``,
        with the p-values of the comparisons with the first session (and of the model vs the
        reader) in their own columns."""
        perf = self.performance
        rows = []
        for (reader, session), part in perf.groupby(["reader", "session"], sort=False):
            row: dict[str, Any] = {"Reader": reader, "Session": session}
            for _, r in part.iterrows():
                label = "AUC" if r["metric"] == "auc" else str(r["metric"]).upper()
                label = label if len(label) <= 3 else label.capitalize()
                row[label] = format_estimate_ci(r["estimate"], r["ci_low"], r["ci_high"], decimals)
            comp = self.comparisons
            if not comp.empty:
                mine = comp[(comp["reader"] == reader) & (comp["session_2"] == session)]
                for _, c in mine.iterrows():
                    name = "AUC" if c["metric"] == "auc" else str(c["metric"]).capitalize()
                    row[f"P ({name} vs {c['session_1']})"] = format_p_value(c["p_value"])
            mc = self.model_comparisons
            if not mc.empty:
                hit = mc[(mc["reader"] == reader) & (mc["session"] == session)]
                if len(hit):
                    row["P (AUC vs model)"] = format_p_value(hit["p_value"].iloc[0])
            rows.append(row)
        table = pd.DataFrame(rows).fillna("")
        last = [c for c in table.columns if c == "P (AUC vs model)"]
        return table[[c for c in table.columns if c not in last] + last]

    def methods_text(self) -> str:
        """A methods paragraph naming the statistics and tests."""
        level = f"{100 * self.conf_level:g}%"
        text = (
            f"Each reader's AUC is given with its {level} DeLong confidence interval (from the "
            "ratings; from binary calls it is the single operating point, (sensitivity + "
            f"specificity) / 2), and accuracy, sensitivity, specificity, PPV and NPV with "
            f"{level} Wilson intervals. Each later session was compared with the "
            f"'{self.sessions[0]}' session by the paired DeLong test (AUC) and the exact "
            "McNemar test (two-sided binomial test on the discordant pairs) for accuracy, "
            "sensitivity and specificity; each reader's AUC was compared with the model's by the "
            "paired DeLong test. Agreement between readers and with the reference standard is "
            "Cohen's kappa (unweighted on the calls"
        )
        if self.kappa_weights:
            text += f", {self.kappa_weights}-weighted on ordinal ratings"
        text += ") with the large-sample variance of Fleiss, Cohen and Everitt (1969)"
        if len(self.readers) > 2:
            text += (
                "; for all readers together Fleiss' kappa, tested with the standard error of "
                "Fleiss, Nee and Landis (1979), with a percentile bootstrap interval"
            )
        if self.mrmc is not None:
            text += (
                ". The difference in reader-averaged AUC between sessions was analysed as a "
                "multi-reader multi-case study by the Obuchowski-Rockette method with Hillis' "
                "denominator degrees of freedom (random readers and random cases; jackknife "
                "covariances), which generalises to other readers and cases; fixed-reader and "
                "fixed-case variants are in the table"
            )
        return text + ". P-values are not adjusted for multiplicity."

    def plot(self, ax: Any = None, *, kind: Literal["roc", "metrics"] = "roc", **kwargs: Any) -> Any:
        """Draw the ROC figure (``kind="roc"``, :func:`plot_reader_roc`) or the bars of
        accuracy, sensitivity and specificity (``kind="metrics"``,
        :func:`plot_reader_metrics`); returns the axes."""
        if kind == "roc":
            return plot_reader_roc(self, ax=ax, **kwargs)
        if kind == "metrics":
            return plot_reader_metrics(self, ax=ax, **kwargs)
        raise InputError(f"`kind` must be 'roc' or 'metrics', got {kind!r}")

    def __repr__(self) -> str:
        return (
            f"ReaderStudy(readers={self.readers}, sessions={self.sessions}, "
            f"model={'yes' if self.roc is not None else 'no'})"
        )


def _outcome_for(table: ReaderTable, y: Any, what: str) -> np.ndarray:
    """The values of a case-indexed Series (or a mapping) in the table's case order."""
    series = pd.Series(y) if isinstance(y, Mapping) else y
    if not isinstance(series, pd.Series):
        raise InputError(f"`{what}` must be a pandas Series (or a mapping) indexed by case_id")
    series = series.copy()
    series.index = series.index.map(str)
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()].unique()
        raise InputError(f"`{what}` has several values for case(s) {format_items(list(dup))}")
    missing = [c for c in table.cases if c not in series.index]
    if missing:
        raise InputError(f"`{what}` has no value for reader-table case(s) {format_items(missing)}")
    values = series.loc[table.cases]
    if values.isna().any():
        raise InputError(
            f"`{what}` is missing for case(s) {format_items(list(values.index[values.isna()]))}"
        )
    return values.to_numpy(dtype=float)


def _reader_performance(
    table: ReaderTable, y: np.ndarray, conf_level: float
) -> tuple[pd.DataFrame, dict[tuple[str, str], dict[str, np.ndarray]]]:
    rows, scores = [], {}
    source = "rating" if table.has_rating else "call"
    exp = table.experience
    for session in table.sessions:
        calls = table.wide("call", session)
        ratings = table.wide("rating", session) if table.has_rating else calls
        for reader in table.readers:
            call = calls[reader].to_numpy(dtype=float)
            score = ratings[reader].to_numpy(dtype=float)
            scores[(reader, session)] = {"call": call, "score": score}
            auc = roc_auc(y, score, conf_level=conf_level).iloc[0]
            base = {"reader": reader, "session": session}
            rows.append({**base, "metric": "auc", "estimate": auc["estimate"],
                         "ci_low": auc["ci_low"], "ci_high": auc["ci_high"],
                         "count": np.nan, "n": auc["n"], "source": source})  # fmt: skip
            dm = diagnostic_metrics(y, call, 0.5, conf_level=conf_level)
            for metric in _THRESHOLD_METRICS:
                r = dm.loc[metric]
                rows.append({**base, "metric": metric, "estimate": r["estimate"],
                             "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                             "count": r["count"], "n": r["n"], "source": "call"})  # fmt: skip
    perf = pd.DataFrame(rows)
    if exp:
        perf.insert(1, "experience", perf["reader"].map(exp))
    return perf, scores


def _session_comparisons(
    table: ReaderTable, y: np.ndarray, scores: Mapping, conf_level: float
) -> pd.DataFrame:
    rows = []
    pos, neg = y == 1, y == 0
    for reader, later in itertools.product(table.readers, table.sessions[1:]):
        first = table.sessions[0]
        s1, s2 = scores[(reader, first)], scores[(reader, later)]
        base = {"reader": reader, "session_1": first, "session_2": later}
        d = delong_test(y, s2["score"], s1["score"], conf_level=conf_level).iloc[0]
        rows.append({**base, "metric": "auc", "estimate_1": d["auc_2"], "estimate_2": d["auc_1"],
                     "estimate": d["estimate"], "ci_low": d["ci_low"], "ci_high": d["ci_high"],
                     "b": np.nan, "c": np.nan, "n": d["n_1"], "statistic": d["z"],
                     "p_value": d["p_value"], "test": "DeLong paired"})  # fmt: skip
        correct1 = (s1["call"] == y).astype(int)
        correct2 = (s2["call"] == y).astype(int)
        parts = {
            "accuracy": (correct1, correct2),
            "sensitivity": (s1["call"][pos], s2["call"][pos]),
            "specificity": (1 - s1["call"][neg], 1 - s2["call"][neg]),
        }
        for metric, (x1, x2) in parts.items():
            m = mcnemar_test(x1, x2).iloc[0]
            rows.append({**base, "metric": metric, "estimate_1": m["proportion_1"],
                         "estimate_2": m["proportion_2"], "estimate": m["estimate"],
                         "ci_low": np.nan, "ci_high": np.nan, "b": m["b"], "c": m["c"],
                         "n": m["n"], "statistic": np.nan, "p_value": m["p_value"],
                         "test": m["method"]})  # fmt: skip
    return pd.DataFrame(rows, columns=_COMPARISON_COLUMNS)


_COMPARISON_COLUMNS = [
    "reader", "session_1", "session_2", "metric", "estimate_1", "estimate_2", "estimate",
    "ci_low", "ci_high", "b", "c", "n", "statistic", "p_value", "test",
]  # fmt: skip
_MODEL_COLUMNS = [
    "reader", "session", "auc_model", "auc_reader", "estimate", "ci_low", "ci_high",
    "statistic", "p_value", "test",
]  # fmt: skip
_AGREEMENT_COLUMNS = [
    "session", "rater_1", "rater_2", "scale", "statistic", "weights", "estimate", "se",
    "ci_low", "ci_high", "p_value", "n",
]  # fmt: skip


def _model_comparisons(
    table: ReaderTable, y: np.ndarray, p: np.ndarray, scores: Mapping, conf_level: float
) -> pd.DataFrame:
    rows = []
    for session, reader in itertools.product(table.sessions, table.readers):
        d = delong_test(y, p, scores[(reader, session)]["score"], conf_level=conf_level).iloc[0]
        rows.append({"reader": reader, "session": session, "auc_model": d["auc_1"],
                     "auc_reader": d["auc_2"], "estimate": d["estimate"], "ci_low": d["ci_low"],
                     "ci_high": d["ci_high"], "statistic": d["z"], "p_value": d["p_value"],
                     "test": "DeLong paired"})  # fmt: skip
    return pd.DataFrame(rows, columns=_MODEL_COLUMNS)


def _kappa_row(session: str, r1: str, r2: str, scale: str, res: pd.DataFrame) -> dict[str, Any]:
    r = res.iloc[0]
    return {
        "session": session, "rater_1": r1, "rater_2": r2, "scale": scale,
        "statistic": res.index[0] if res.index[0] != "kappa" else "cohen_kappa",
        "weights": r.get("weights", "none"), "estimate": r["estimate"], "se": r["se"],
        "ci_low": r["ci_low"], "ci_high": r["ci_high"], "p_value": r.get("p_value", np.nan),
        "n": r["n"],
    }  # fmt: skip


def _rating_levels(table: ReaderTable) -> list[float] | None:
    """The ordinal scale of whole-number ratings (min..max over the table), else None."""
    if not table.has_rating:
        return None
    r = table.data["rating"].to_numpy(dtype=float)
    if not np.all(r == np.round(r)) or np.unique(r).size > 20:
        return None  # probabilities or a fine scale: no ordinal kappa
    return [float(v) for v in np.arange(r.min(), r.max() + 1)]


def _agreement(
    table: ReaderTable,
    y: np.ndarray,
    *,
    kappa_weights: str | None,
    conf_level: float,
    n_boot: int,
    random_state: Any,
) -> pd.DataFrame:
    rows = []
    levels = _rating_levels(table)
    for session in table.sessions:
        calls = table.wide("call", session)
        for r1, r2 in itertools.combinations(table.readers, 2):
            res = cohen_kappa(calls[r1], calls[r2], levels=[0, 1], conf_level=conf_level)
            rows.append(_kappa_row(session, r1, r2, "call", res))
            if levels is not None and kappa_weights is not None:
                ratings = table.wide("rating", session)
                res = cohen_kappa(ratings[r1].to_numpy(float), ratings[r2].to_numpy(float),
                                  weights=kappa_weights, levels=levels, conf_level=conf_level)  # fmt: skip
                rows.append(_kappa_row(session, r1, r2, "rating", res))
        for reader in table.readers:
            res = cohen_kappa(calls[reader].to_numpy(float), y, levels=[0.0, 1.0],
                              conf_level=conf_level)  # fmt: skip
            rows.append(_kappa_row(session, reader, "truth", "call", res))
        if len(table.readers) > 2:
            res = fleiss_kappa(calls.to_numpy(), levels=[0, 1], conf_level=conf_level,
                               n_boot=n_boot, random_state=random_state)  # fmt: skip
            row = _kappa_row(session, "all readers", "", "call", res)
            row["weights"] = "none"
            rows.append(row)
    return pd.DataFrame(rows, columns=_AGREEMENT_COLUMNS)


def reader_study(
    table: ReaderTable,
    y: Any,
    p: Any = None,
    *,
    model_name: str = "Model",
    kappa_weights: Literal["linear", "quadratic"] | None = "quadratic",
    conf_level: float = 0.95,
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = 0,
) -> ReaderStudy:
    """Per-reader performance unaided vs aided, against the model, and agreement.

    Parameters
    ----------
    table : ReaderTable
        From :func:`read_reader_table`.
    y : pandas.Series or mapping
        The reference standard (0/1) indexed by ``case_id``; every case of the table needs one.
    p : pandas.Series or mapping, optional
        The model's predicted probabilities indexed by ``case_id`` (for the paired DeLong tests
        of the model against each reader and the ROC figure).
    model_name : str
        The model's name in tables and figures.
    kappa_weights : {"quadratic", "linear"} or None
        Weights of the kappa between readers' whole-number ratings (None: calls only).
    conf_level : float
        Confidence level of every interval.
    n_boot : int
        Bootstrap resamples of Fleiss' kappa interval (more than two readers).
    random_state : int, numpy Generator or None
        Seed of that bootstrap.

    Returns
    -------
    ReaderStudy

    Raises
    ------
    InputError
        A case without outcome or prediction, outcomes not 0/1, a bad option.

    Notes
    -----
    The AUC of a reader uses the ratings when the table has them, else the calls (a binary
    score: the AUC of the single operating point, ``(sensitivity + specificity) / 2``, as
    papers report it). Calls are positive at 1. The comparisons of sessions are paired over
    the same cases: DeLong's test for the AUC (:func:`radiomics_aln.metrics.delong_test`,
    equal to ``pROC::roc.test(paired = TRUE, method = "delong")``), and the exact McNemar
    test (:func:`mcnemar_test`, ``binom.test`` on the discordant pairs) for accuracy (correct
    vs incorrect reads over all cases), sensitivity (calls among positives) and specificity
    (calls among negatives). These tests treat the readers as fixed; the multi-reader
    multi-case analysis generalises to other readers. P-values are not adjusted.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> cases = [f"c{i:02d}" for i in range(40)]
    >>> y = pd.Series(rng.integers(0, 2, 40), index=cases)
    >>> rows = []
    >>> for reader, noise in (("junior", 1.2), ("senior", 0.8)):
    ...     for session, shift in (("unaided", 0.0), ("aided", 0.5)):
    ...         z = y.to_numpy() * (1 + shift) + rng.normal(0, noise, 40)
    ...         rows += [{"case_id": c, "reader": reader, "session": session,
    ...                   "call": int(v > 0.6)} for c, v in zip(cases, z)]
    >>> table = read_reader_table(pd.DataFrame(rows))
    >>> res = reader_study(table, y)
    >>> res.summary.query("metric == 'accuracy'")[["reader", "session", "estimate"]]
        reader  session  estimate
    1   junior  unaided     0.825
    7   senior  unaided     0.700
    13  junior    aided     0.775
    19  senior    aided     0.850
    """
    conf_level = check_conf_level(conf_level)
    if not isinstance(table, ReaderTable):
        raise InputError("`table` must be a ReaderTable (use read_reader_table)")
    if kappa_weights not in (None, "linear", "quadratic"):
        raise InputError(f"`kappa_weights` must be 'linear', 'quadratic' or None, got {kappa_weights!r}")
    yy = _outcome_for(table, y, "y")
    if not np.all(np.isin(yy, (0.0, 1.0))):
        raise InputError("`y` must be 0/1 for every case of the reader table")
    perf, scores = _reader_performance(table, yy, conf_level)
    comparisons = _session_comparisons(table, yy, scores, conf_level)
    roc, model_comp = None, pd.DataFrame(columns=_MODEL_COLUMNS)
    if p is not None:
        pp = _outcome_for(table, p, "p")
        model_comp = _model_comparisons(table, yy, pp, scores, conf_level)
        auc = roc_auc(yy, pp, conf_level=conf_level).iloc[0]
        model_row = {"reader": model_name, "session": "model", "metric": "auc",
                     "estimate": auc["estimate"], "ci_low": auc["ci_low"],
                     "ci_high": auc["ci_high"], "count": np.nan, "n": auc["n"],
                     "source": "probability"}  # fmt: skip
        perf = pd.concat([perf, pd.DataFrame([model_row])], ignore_index=True)
        roc = roc_curve_table(yy, pp)
    agreement = _agreement(table, yy, kappa_weights=kappa_weights, conf_level=conf_level,
                           n_boot=n_boot, random_state=random_state)  # fmt: skip
    mrmc = None
    if len(table.readers) >= 2 and len(table.sessions) >= 2:
        truth = dict(zip(table.cases, yy, strict=True))
        mrmc = or_mrmc(table.data, y=truth, rating="rating" if table.has_rating else "call",
                       conf_level=conf_level)  # fmt: skip
    return ReaderStudy(
        performance=perf,
        comparisons=comparisons,
        model_comparisons=model_comp,
        agreement=agreement,
        roc=roc,
        readers=list(table.readers),
        sessions=list(table.sessions),
        model_name=model_name,
        conf_level=conf_level,
        kappa_weights=kappa_weights if _rating_levels(table) is not None else None,
        mrmc=mrmc,
    )


# --------------------------------------------------------------------------- figures

_SESSION_MARKERS = ("o", "s", "D", "^")


def _operating_points(result: ReaderStudy) -> pd.DataFrame:
    perf = result.performance
    wide = perf[perf["metric"].isin(["sensitivity", "specificity"])].pivot_table(
        index=["reader", "session"], columns="metric", values="estimate", sort=False
    )
    return wide.reset_index()


def plot_reader_roc(result: ReaderStudy, ax: Any = None, **kwargs: Any) -> Any:
    """The model's ROC curve with each reader's operating point per session.

    Each reader has one colour; the first session is an open marker, later sessions filled
    markers, joined by an arrow from the first session to each later one. Keyword arguments
    go to the model's curve (``ax.plot``). Returns the axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> table = read_reader_table(pd.DataFrame({
    ...     "case_id": list("abcd") * 2, "reader": ["R1"] * 8,
    ...     "session": ["unaided"] * 4 + ["aided"] * 4, "call": [0, 1, 1, 0, 0, 0, 1, 1]}))
    >>> y = pd.Series([0, 0, 1, 1], index=list("abcd"))
    >>> res = reader_study(table, y, pd.Series([0.1, 0.3, 0.6, 0.8], index=list("abcd")))
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = plot_reader_roc(res, ax=ax)
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:2]
    ['Model (AUC 1.000)', 'R1 unaided']
    """
    ax = get_ax(ax)
    ax.plot([0, 1], [0, 1], **REFERENCE_STYLE)
    if result.roc is not None:
        auc = result.performance.query("session == 'model'")["estimate"].iloc[0]
        style = {"color": "#000000", "linewidth": 1.8, **kwargs}
        ax.plot(result.roc["fpr"], result.roc["sensitivity"], drawstyle="default",
                label=f"{result.model_name} (AUC {auc:.3f})", **style)  # fmt: skip
    points = _operating_points(result)
    for k, reader in enumerate(result.readers):
        colour = series_colour(k, black=False)
        mine = points[points["reader"] == reader].set_index("session")
        xy = {s: (1 - mine.loc[s, "specificity"], mine.loc[s, "sensitivity"]) for s in mine.index}
        for j, session in enumerate(result.sessions):
            x, yv = xy[session]
            ax.plot([x], [yv], linestyle="none", marker=_SESSION_MARKERS[j % 4], markersize=7,
                    markeredgecolor=colour, markerfacecolor="white" if j == 0 else colour,
                    label=f"{reader} {session}")  # fmt: skip
        start = xy[result.sessions[0]]
        for session in result.sessions[1:]:
            ax.annotate("", xy=xy[session], xytext=start,
                        arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.2})  # fmt: skip
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("1 - Specificity")
    ax.set_ylabel("Sensitivity")
    legend_below(ax, ncol=2)
    return ax


def plot_reader_metrics(result: ReaderStudy, ax: Any = None, **kwargs: Any) -> Any:
    """Bars of accuracy, sensitivity and specificity per reader and session, with CIs.

    Groups are reader x metric, one bar per session (the first session hatched). Keyword
    arguments go to ``ax.bar``. Returns the axes.
    """
    ax = get_ax(ax)
    perf = result.performance.set_index(["reader", "session", "metric"])
    n_s = len(result.sessions)
    width = 0.8 / n_s
    ticks, labels = [], []
    x = 0.0
    for k, reader in enumerate(result.readers):
        colour = series_colour(k, black=False)
        for metric in _PLOT_METRICS:
            for j, session in enumerate(result.sessions):
                r = perf.loc[(reader, session, metric)]
                pos = x + (j - (n_s - 1) / 2) * width
                err = [[r["estimate"] - r["ci_low"]], [r["ci_high"] - r["estimate"]]]
                ax.bar(pos, r["estimate"], width * 0.95, yerr=err, capsize=2,
                       color="white" if j == 0 else colour, edgecolor=colour,
                       hatch="//" if j == 0 else None, ecolor="#444444",
                       label=f"{reader} {session}" if metric == _PLOT_METRICS[0] else None,
                       **kwargs)  # fmt: skip
            ticks.append(x)
            labels.append(f"{metric.capitalize()}\n{reader}")
            x += 1.0
        x += 0.4
    ax.set_xticks(ticks)
    ax.set_xticklabels(labels, fontsize="small")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("Proportion (95% CI)" if result.conf_level == 0.95 else "Proportion")
    legend_below(ax, ncol=max(2, n_s))
    return ax
