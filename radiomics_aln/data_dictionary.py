"""What a reader sees instead of column names: labels, units, level labels and the OR's unit.

A study's columns are named for code (``size_mm``, ``aln_metastasis``, ``ln_score``); tables,
figure axes and the nomogram show what a clinician reads ("Tumour size (mm)", "ALN metastasis:
Yes", "LN radiomics score"). A :class:`DataDictionary` holds one :class:`Variable` per column;
columns without an entry get a label generated from their name (a unit suffix such as ``_mm``
or ``_years`` becomes the unit, known abbreviations are capitalised), so nothing needs to be
declared for a first report and everything can be overridden for the paper.

In a study config (YAML)::

    variables:
      size_mm: {label: Tumour size, unit: mm}
      age: {label: Age, unit: years, per: 10}        # odds ratio per 10 years
      aln_metastasis: {label: ALN metastasis, levels: {0: "No", 1: "Yes"}}
      birads: {label: BI-RADS category, levels: {"4a": "4A", "4b": "4B"}}
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from radiomics_aln.exceptions import InputError

__all__ = ["Variable", "DataDictionary", "default_label"]

# name suffix -> unit; the longest suffix wins (``_mm2`` before ``_mm``)
_UNIT_SUFFIXES = {
    "mm2": "mm²",
    "mm": "mm",
    "cm": "cm",
    "years": "years",
    "yrs": "years",
    "yr": "years",
    "months": "months",
    "days": "days",
    "kg": "kg",
    "ml": "mL",
    "pct": "%",
    "percent": "%",
}
# words written in capitals (or another fixed spelling) in a label
_WORDS = {
    "aln": "ALN",
    "ln": "LN",
    "us": "US",
    "birads": "BI-RADS",
    "bi-rads": "BI-RADS",
    "er": "ER",
    "pr": "PR",
    "her2": "HER2",
    "ki67": "Ki-67",
    "cdfi": "CDFI",
    "bmi": "BMI",
    "auc": "AUC",
    "roi": "ROI",
    "id": "ID",
    "t": "T",
    "n": "N",
}
_YES_NO = {"0": "No", "1": "Yes", "False": "No", "True": "Yes"}


def default_label(column: str) -> tuple[str, str | None]:
    """The label and unit generated from a column name when the dictionary has no entry.

    A trailing unit word (``_mm``, ``_cm``, ``_years``, ``_kg``, ``_pct`` ...) becomes the
    unit; underscores become spaces; known abbreviations (ALN, LN, BI-RADS, ER, PR, HER2,
    Ki-67 ...) are capitalised; the first letter is upper case.

    Examples
    --------
    >>> default_label("size_mm")
    ('Size', 'mm')
    >>> default_label("aln_metastasis")
    ('ALN metastasis', None)
    >>> default_label("her2_status")
    ('HER2 status', None)
    """
    words = [w for w in re.split(r"[_\s]+", str(column).strip()) if w]
    unit = None
    if len(words) > 1 and words[-1].lower() in _UNIT_SUFFIXES:
        unit = _UNIT_SUFFIXES[words.pop().lower()]
    if not words:
        return str(column), unit
    out = [_WORDS.get(w.lower(), w) for w in words]
    first = out[0]
    if first == words[0] and first[:1].islower():
        out[0] = first[:1].upper() + first[1:]
    return " ".join(out), unit


def _level_key(value: Any) -> str:
    """One text key for a level: ``1``, ``1.0``, ``"1"`` and ``True`` map to the same key."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return _level_key(value.item())
    return str(value)


@dataclass(frozen=True)
class Variable:
    """How one column is shown.

    Attributes
    ----------
    label : str
        Name shown to readers ("Tumour size").
    unit : str or None
        Unit of a continuous variable ("mm"); shown in axis labels and in what an odds ratio
        is per.
    levels : dict
        Display text of each level of a categorical variable, keyed by the value as text
        (``{"0": "No", "1": "Yes"}``).
    per : float
        Odds ratios of a continuous variable are reported per this many units (default 1;
        e.g. 10 for age in years).
    """

    label: str
    unit: str | None = None
    levels: dict[str, str] = field(default_factory=dict)
    per: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise InputError(f"a variable label must be non-empty text, got {self.label!r}")
        if self.unit is not None and not isinstance(self.unit, str):
            raise InputError(f"the unit of {self.label!r} must be text, got {self.unit!r}")
        per = self.per
        if isinstance(per, bool) or not isinstance(per, int | float) or not (
            math.isfinite(per) and per > 0
        ):
            raise InputError(
                f"'per' of {self.label!r} must be a positive number (odds ratio per that many "
                f"units), got {per!r}"
            )
        if not isinstance(self.levels, Mapping):
            raise InputError(f"levels of {self.label!r} must be a mapping value -> text")
        object.__setattr__(
            self, "levels", {_level_key(k): str(v) for k, v in self.levels.items()}
        )
        object.__setattr__(self, "per", float(per))


class DataDictionary:
    """Labels, units, level labels and odds-ratio units of a study's columns.

    Parameters
    ----------
    variables : mapping, optional
        ``{column: Variable or {"label":, "unit":, "levels":, "per":}}``. Missing keys of an
        entry (and columns without an entry) take the defaults of :func:`default_label`.

    Examples
    --------
    >>> dd = DataDictionary({"age": {"label": "Age", "unit": "years", "per": 10}})
    >>> dd.axis_label("age"), dd.per_text("age"), dd.axis_label("size_mm")
    ('Age (years)', 'per 10 years', 'Size (mm)')
    >>> dd.level("aln_metastasis", 1)
    'Yes'
    """

    def __init__(self, variables: Mapping[str, Any] | None = None) -> None:
        if variables is None:
            variables = {}
        if not isinstance(variables, Mapping):
            raise InputError(
                "the data dictionary ('variables') must be a mapping column -> {label, unit, "
                f"levels, per}}, got {type(variables).__name__}"
            )
        self._entries: dict[str, Variable] = {}
        for column, entry in variables.items():
            self._entries[str(column)] = self._variable(str(column), entry)

    @staticmethod
    def _variable(column: str, entry: Any) -> Variable:
        if isinstance(entry, Variable):
            return entry
        if isinstance(entry, str):  # shorthand: just the label
            entry = {"label": entry}
        if not isinstance(entry, Mapping):
            raise InputError(
                f"data dictionary entry of column {column!r} must be a mapping with label, "
                f"unit, levels, per (or a label text), got {type(entry).__name__}"
            )
        unknown = set(entry) - {"label", "unit", "levels", "per"}
        if unknown:
            raise InputError(
                f"data dictionary entry of column {column!r} has unknown key(s) "
                f"{sorted(unknown)}; allowed: label, unit, levels, per"
            )
        label, unit = default_label(column)
        try:
            return Variable(
                label=entry.get("label", label),
                unit=entry.get("unit", unit),
                levels=entry.get("levels") or {},
                per=entry.get("per", 1.0),
            )
        except InputError as exc:
            raise InputError(f"data dictionary entry of column {column!r}: {exc}") from None

    def __contains__(self, column: object) -> bool:
        return column in self._entries

    def __repr__(self) -> str:
        return f"DataDictionary({len(self._entries)} declared variables)"

    def variable(self, column: str) -> Variable:
        """The entry of ``column``, or the generated default."""
        if column in self._entries:
            return self._entries[column]
        label, unit = default_label(column)
        return Variable(label=label, unit=unit)

    def with_defaults(self, defaults: Mapping[str, Any]) -> DataDictionary:
        """A copy where ``defaults`` fill the columns this dictionary does not declare."""
        out = DataDictionary()
        out._entries = {str(k): self._variable(str(k), v) for k, v in defaults.items()}
        out._entries.update(self._entries)
        return out

    def label(self, column: str) -> str:
        """The label of ``column`` ("Tumour size")."""
        return self.variable(column).label

    def unit(self, column: str) -> str | None:
        """The unit of ``column``, or None."""
        return self.variable(column).unit

    def axis_label(self, column: str) -> str:
        """Label with its unit, as on a figure axis: ``"Tumour size (mm)"``."""
        v = self.variable(column)
        return f"{v.label} ({v.unit})" if v.unit else v.label

    def level(self, column: str, value: Any, *, levels: Iterable[Any] | None = None) -> str:
        """Display text of one level; 0/1 and False/True read "No"/"Yes" unless declared.

        ``levels`` (all levels of the column), when given, limits the "No"/"Yes" default to a
        column whose levels are 0 and 1 (or False and True): level 1 of a grade 1/2/3 stays "1".

        Examples
        --------
        >>> dd = DataDictionary()
        >>> dd.level("er", 1), dd.level("grade", 1, levels=[1, 2, 3])
        ('Yes', '1')
        """
        key = _level_key(value)
        declared = self.variable(column).levels
        if key in declared:
            return declared[key]
        if levels is not None and not {_level_key(v) for v in levels} <= set(_YES_NO):
            return key
        return _YES_NO.get(key, key)

    def nomogram_labels(
        self, points: pd.DataFrame
    ) -> tuple[dict[str, str], dict[str, dict[Any, str]]]:
        """Axis names and level texts of a nomogram, from its ``points_table()``.

        Parameters
        ----------
        points : pandas.DataFrame
            Columns ``predictor``, ``value`` and ``discrete``, as
            :meth:`radiomics_aln.nomogram.LogisticNomogram.points_table` and
            :meth:`radiomics_aln.ordinal.OrdinalNomogram.points_table` return.

        Returns
        -------
        (dict, dict)
            ``labels`` (predictor -> :meth:`axis_label`) and ``level_labels`` (categorical
            predictor -> {level: :meth:`level`}), the ``labels`` and ``level_labels`` arguments
            of the nomograms' plot methods.

        Examples
        --------
        >>> dd = DataDictionary({"age": {"label": "Age", "unit": "years"},
        ...                      "margin": {"label": "Margin", "levels": {"irr": "Irregular"}}})
        >>> pts = pd.DataFrame({"predictor": ["age", "age", "margin", "margin"],
        ...                     "value": [30, 80, "smooth", "irr"],
        ...                     "discrete": [False, False, True, True]})
        >>> dd.nomogram_labels(pts)
        ({'age': 'Age (years)', 'margin': 'Margin'}, {'margin': {'smooth': 'smooth', 'irr': 'Irregular'}})
        """
        predictors = list(dict.fromkeys(points["predictor"]))
        discrete = points[points["discrete"].astype(bool)]
        levels = {
            p: {v: self.level(p, v) for v in sub["value"]}
            for p, sub in discrete.groupby("predictor", sort=False)
        }
        return {p: self.axis_label(p) for p in predictors}, levels

    def per(self, column: str) -> float:
        """Odds ratios of ``column`` are per this many units."""
        return self.variable(column).per

    def per_text(self, column: str) -> str:
        """What an odds ratio of a continuous ``column`` is per: ``"per 10 years"``.

        Examples
        --------
        >>> DataDictionary().per_text("tumor_score"), DataDictionary().per_text("size_mm")
        ('per 1 unit', 'per 1 mm')
        """
        v = self.variable(column)
        unit = v.unit or ("unit" if v.per == 1 else "units")
        return f"per {v.per:g} {unit}"

    def labels(self, columns: Iterable[str]) -> dict[str, str]:
        """``{column: label}`` of several columns (for functions taking a ``labels`` mapping)."""
        return {c: self.label(c) for c in columns}

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The declared entries as plain data (YAML/JSON)."""
        out = {}
        for column, v in self._entries.items():
            entry: dict[str, Any] = {"label": v.label}
            if v.unit is not None:
                entry["unit"] = v.unit
            if v.levels:
                entry["levels"] = dict(v.levels)
            if v.per != 1.0:
                entry["per"] = v.per
            out[column] = entry
        return out

    def table(self, columns: Iterable[str]) -> pd.DataFrame:
        """The dictionary of ``columns`` as a table (for a report's appendix).

        Columns ``column``, ``label``, ``unit``, ``levels``, ``per`` and ``declared``
        (False where the entry was generated from the column name).
        """
        rows = []
        for c in columns:
            v = self.variable(c)
            rows.append(
                {
                    "column": c,
                    "label": v.label,
                    "unit": v.unit or "",
                    "levels": "; ".join(f"{k} = {t}" for k, t in v.levels.items()),
                    "per": v.per,
                    "declared": c in self._entries,
                }
            )
        return pd.DataFrame(rows, columns=["column", "label", "unit", "levels", "per", "declared"])
