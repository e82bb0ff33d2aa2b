"""The saved prediction model of a study: :class:`StudyModel` (JSON file, predict new patients).

A :class:`StudyModel` holds the extraction settings, one RadScore per ROI, the clinical and the
clinical-radiomics (nomogram) logistic models and their training cutoffs. It predicts new
patients from images (a manifest; features are extracted with the stored settings) or from
already-extracted features.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._validation import SPACING_RANGE_MM, format_items
from radiomics_aln.exceptions import InputError
from radiomics_aln.external_features import check_external_given, prediction_features
from radiomics_aln.io import (
    ANY,
    NUM,
    NUM_NULL_INF,
    NUM_OR_INF,
    NUM_OR_NULL,
    SCALAR,
    STR,
    ListOf,
    MapOf,
    Record,
    Union,
    dump_model,
    load_model,
    number,
    rebuilding,
)

__all__ = [
    "StudyModel",
    "CLINICAL_MODEL",
    "COMBINED_MODEL",
    "RADIOMICS_MODEL",
    "SCORE_LABELS",
    "score_column",
    "apply_levels",
    "extract_cohort",
]

#: Display names of the two logistic models (table rows, figure legends).
CLINICAL_MODEL = "Clinical model"
COMBINED_MODEL = "Clinical-radiomics model"
#: Display name of the nomogram of a radiomics-only study (no clinical candidates).
RADIOMICS_MODEL = "Radiomics model"
#: Display name of each ROI's radiomics score.
SCORE_LABELS = {
    "tumor": "Tumor score",
    "peritumoral": "Peritumoral score",
    "tumor_peritumoral": "Tumor+peritumoral score",
    "ln": "LN score",
}


def score_column(roi: str) -> str:
    """Name of the column holding the radiomics score of ``roi`` (``"tumor"`` -> ``"tumor_score"``).

    Examples
    --------
    >>> score_column("ln")
    'ln_score'
    """
    return f"{roi}_score"




class StudyModel:
    """The fitted prediction model of a study: scores, clinical model and nomogram.

    Persisted as one JSON file (:meth:`to_json` / :meth:`from_json`) holding the extraction
    settings, each RadScore, both logistic models and the cutoffs, so new patients are
    predicted from images (:meth:`predict` with a manifest) or from already-extracted features.

    Attributes
    ----------
    rois : list of str
        ROIs with a score.
    scores : dict
        ``{roi: RadScore}``.
    clinical_model : LogisticNomogram or None
        The clinical model; None in a radiomics-only study (no clinical candidates).
    combined_model : LogisticNomogram
        The nomogram: the clinical-radiomics model, or in a radiomics-only study the model of
        the scores alone (:attr:`combined_name` says which).
    settings : dict
        ``outcome``, ``params`` (PyRadiomics settings as used), ``width_mm``, ``cutoff``
        (Youden cutoff on the training probability), ``points_cutoff`` (same in Nomo-score),
        ``clinical_cutoff`` (None without a clinical model); ``harmonize_batch`` (the batch
        column) with a harmonizer.
    harmonizer : ComBat or None
        The ComBat harmonization fitted on the training features (``harmonize:`` in the study
        configuration); ``predict`` applies it to new patients given their batch column.
    """

    def __init__(
        self,
        rois: Sequence[str],
        scores: Mapping[str, Any],
        clinical_model: Any,
        combined_model: Any,
        settings: Mapping[str, Any],
        *,
        harmonizer: Any = None,
    ) -> None:
        self.harmonizer = harmonizer  # a fitted harmonization.ComBat, or None
        self.rois = list(rois)
        self.scores = dict(scores)
        self.clinical_model = clinical_model
        self.combined_model = combined_model
        self.settings = dict(settings)

    def __repr__(self) -> str:
        preds = ", ".join(self.combined_model.predictors_)
        return f"StudyModel(rois={self.rois}, nomogram predictors: {preds})"

    @property
    def radiomics_only(self) -> bool:
        """True when the study had no clinical candidates (no clinical model)."""
        return self.clinical_model is None

    @property
    def combined_name(self) -> str:
        """Display name of the nomogram's model: :data:`COMBINED_MODEL` or
        :data:`RADIOMICS_MODEL` (radiomics-only)."""
        return RADIOMICS_MODEL if self.radiomics_only else COMBINED_MODEL

    def _repr_html_(self) -> str:
        """The model in a notebook: settings, predictors, cutoffs and both coefficient tables."""
        from radiomics_aln._display import html_block

        s = self.settings
        facts = {
            "outcome": s.get("outcome", ""),
            "ROIs": ", ".join(self.rois),
            "training cohort": s.get("train_cohort", ""),
            "clinical model": (
                "none (radiomics-only)"
                if self.clinical_model is None
                else ", ".join(map(str, self.clinical_model.predictors_))
            ),
            f"{self.combined_name.lower()} (nomogram)": ", ".join(
                map(str, self.combined_model.predictors_)
            ),
            "risk cutoff (probability, Youden on training)": s.get("cutoff"),
            "risk cutoff (nomogram points)": s.get("points_cutoff"),
        }
        tables = [(f"{self.combined_name} coefficients", self.combined_model.summary)]
        if self.clinical_model is not None:
            tables.append((f"{CLINICAL_MODEL} coefficients", self.clinical_model.summary))
        return html_block("StudyModel", facts=facts, tables=tables)

    # ------------------------------------------------------------------ prediction
    def score_frame(self, features: pd.DataFrame) -> pd.DataFrame:
        """Radiomics scores of each case (columns ``tumor_score``, ...)."""
        cols = {}
        for roi, sc in self.scores.items():
            names = list(sc.feature_names_in_)
            missing = [c for c in names if c not in features.columns]
            if missing:
                raise InputError(
                    f"features lack {len(missing)} column(s) used by the {roi} score: "
                    f"{format_items(missing)}"
                )
            out = sc.transform(features[names])
            cols[score_column(roi)] = np.asarray(out, dtype=float).ravel()
        return pd.DataFrame(cols, index=features.index)

    def predict(
        self,
        data: Any,
        clinical: Any = None,
        *,
        external: Mapping[str, Any] | None = None,
        n_jobs: int = 1,
        cache_dir: str | os.PathLike | None = None,
    ) -> pd.DataFrame:
        """Predict new patients.

        Parameters
        ----------
        data : Manifest, path or DataFrame
            A cohort manifest (path or :class:`~radiomics_aln.manifest.Manifest`): features are
            extracted with the stored settings and the clinical columns read from it. Or a
            DataFrame indexed by case id with the feature columns the scores use (and the
            clinical columns unless ``clinical`` is given).
        clinical : DataFrame, Manifest or path, optional
            Where the clinical columns come from when ``data`` holds features only (or to
            replace a manifest's): a DataFrame indexed by case id, a
            :class:`~radiomics_aln.manifest.Manifest`, or a CSV file with a ``case_id`` column
            (the cohort manifest itself will do). Rows are matched to ``data`` by case id (as
            text); rows of other patients are ignored.
        external : mapping of ROI to path or DataFrame, optional
            The new patients' external (e.g. deep) feature tables, when the model's scores use
            external features (``settings["external_features"]``) and ``data`` lacks them; see
            :func:`radiomics_aln.external_features.prediction_features`. Never filled in.
        n_jobs, cache_dir
            Extraction settings when ``data`` is a manifest.

        Returns
        -------
        DataFrame
            Indexed by case id: one column per score, ``clinical_probability`` (absent in a
            radiomics-only model), ``probability`` (the nomogram's model), ``nomo_score`` (total points),
            ``risk_group`` (``"high"`` when ``probability >= cutoff``, else ``"low"``).

        Raises
        ------
        InputError
            Missing feature or clinical columns (listed, with how to add them), cases of
            ``data`` without a row in ``clinical`` (listed), or cases whose extraction failed.

        Notes
        -----
        A feature table without the clinical columns, with ``clinical`` from the manifest::

            model = StudyModel.from_json("results/model.json")
            features = read_features("new_features.csv")
            model.predict(features, clinical="new_patients_manifest.csv")
        """
        frame = self.predictor_frame(data, clinical, external=external, n_jobs=n_jobs,
                                     cache_dir=cache_dir)  # fmt: skip
        out = frame[[score_column(roi) for roi in self.scores]].copy()
        if self.clinical_model is not None:
            out["clinical_probability"] = self.clinical_model.predict_proba(frame)[:, 1]
        out["probability"] = self.combined_model.predict_proba(frame)[:, 1]
        out["nomo_score"] = np.asarray(self.combined_model.points(frame), dtype=float)
        cut = float(self.settings["cutoff"])
        out["risk_group"] = np.where(out["probability"] >= cut, "high", "low")
        return out

    def predictor_frame(
        self,
        data: Any,
        clinical: Any = None,
        *,
        columns: Sequence[str] | None = None,
        external: Mapping[str, Any] | None = None,
        n_jobs: int = 1,
        cache_dir: str | os.PathLike | None = None,
    ) -> pd.DataFrame:
        """The clinical columns and the radiomics scores of each case: what the models read.

        The first half of :meth:`predict` (same arguments and errors): features extracted (or
        taken from ``data``), harmonized with the stored harmonizer if any, scored with the
        stored scores, joined to the clinical table with the stored categorical levels. Other
        models fitted on the same predictors (e.g. the burden models of
        :class:`~radiomics_aln.burden_model.BurdenModel`) predict from this frame.

        ``columns`` are the predictor columns the caller's models need (default
        :meth:`predictor_columns`, those of this model's two models); only their clinical
        columns are required.

        Returns
        -------
        DataFrame
            Indexed by case id: the clinical table's columns and one column per score.
        """
        need = self.predictor_columns() if columns is None else [str(c) for c in columns]
        clinical_table, source = (None, "") if clinical is None else _clinical_table(clinical)
        self._check_clinical_columns(data, clinical_table, source, need)
        if external is not None or not isinstance(data, pd.DataFrame):  # before extraction
            check_external_given(self.settings.get("external_features"), external)
        features, table = self._inputs(data, clinical_table, n_jobs=n_jobs, cache_dir=cache_dir)
        features = prediction_features(features, self.settings.get("external_features"), external)
        table = _match_cases(features.index, table, source)
        levels = {
            k: v for k, v in self.settings.get("categorical", {}).items() if k in table.columns
        }
        table = apply_levels(table, levels)
        if self.harmonizer is not None:
            from radiomics_aln._harmonize_study import harmonize_for_prediction

            features = harmonize_for_prediction(self, features, table)
        scores = self.score_frame(features)
        frame = table.join(scores)
        missing = sorted(c for c in need if c not in frame.columns)
        if missing:
            raise InputError(f"prediction data lack predictor column(s): {format_items(missing)}")
        return frame

    def predictor_columns(self) -> list[str]:
        """Columns the two models use: clinical columns and score columns, in model order."""
        models = [m for m in (self.clinical_model, self.combined_model) if m is not None]
        both = [p for m in models for p in m.predictors_]
        return list(dict.fromkeys(str(c) for c in both))

    def clinical_columns(self) -> list[str]:
        """The clinical columns the two models use (not the radiomics scores): what a feature
        table needs beside the features, or ``predict(..., clinical=...)`` supplies (e.g.
        ``['us_aln_status', 'size_mm']``)."""
        scores = {score_column(r) for r in self.rois}
        return [c for c in self.predictor_columns() if c not in scores]

    def _check_clinical_columns(
        self, data: Any, clinical: pd.DataFrame | None, source: str, columns: Sequence[str]
    ) -> None:
        """Fail before extraction or scoring when the clinical columns are not all there."""
        scores = {score_column(r) for r in self.rois}
        need = [c for c in columns if c not in scores]
        if clinical is not None:
            lacking = [c for c in need if c not in clinical.columns]
            if lacking:
                raise InputError(
                    f"clinical{source} lacks the column(s) {format_items(lacking)} that the "
                    f"models use (they need {format_items(need)}); it has "
                    f"{format_items(clinical.columns, 20)}"
                )
            return
        if not isinstance(data, pd.DataFrame):
            return  # a manifest: read_manifest and the join below name what is missing
        lacking = [c for c in need if c not in data.columns]
        if lacking:
            raise InputError(
                f"the feature table lacks the clinical column(s) {format_items(lacking)} that "
                f"the models use (they need {format_items(need)}). Add them: give the cohort "
                "manifest or a table of them by case id as clinical= (a CSV path, a Manifest "
                "or a DataFrame indexed by case id; CLI: --clinical manifest.csv), or join "
                f"them to the table first (features.join(manifest.table[{lacking!r}]))"
            )

    def _inputs(self, data, clinical, *, n_jobs, cache_dir):
        if isinstance(data, pd.DataFrame):
            features = data.rename(index=str)
            return features, clinical if clinical is not None else features
        # models saved before spacing_range existed apply the default range
        spacing_range = self.settings.get("spacing_range", list(SPACING_RANGE_MM))
        manifest = _as_manifest(
            data,
            self.settings.get("outcome", "outcome"),
            require_outcome=False,
            spacing_range=spacing_range,
        )
        result = extract_cohort(
            manifest,
            self.rois,
            self.settings["params"],
            width_mm=float(self.settings["width_mm"]),
            n_jobs=n_jobs,
            cache_dir=cache_dir,
            repeats=False,
            # models saved before these settings existed were fitted on unioned masks
            mask_combine=self.settings.get("mask_combine", "union"),
            min_area_mm2=self.settings.get("min_area_mm2"),
            spacing_range=spacing_range,
        )
        failed = result.failures
        if len(failed):
            ids = list(dict.fromkeys(failed["case_id"]))
            raise InputError(
                f"feature extraction failed for case(s) {format_items(ids)}: "
                f"{failed['error'].iloc[0]}"
            )
        return result.features, clinical if clinical is not None else manifest.table

    # ------------------------------------------------------------------ persistence
    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """JSON text of the model (also written to ``path``); never a pickle."""
        state = {
            "rois": self.rois,
            "scores": {roi: json.loads(sc.to_json()) for roi, sc in self.scores.items()},
            "clinical_model": (
                None if self.clinical_model is None else json.loads(self.clinical_model.to_json())
            ),
            "combined_model": json.loads(self.combined_model.to_json()),
        }
        if self.harmonizer is not None:
            state["harmonizer"] = json.loads(self.harmonizer.to_json())
        return dump_model("StudyModel", self.settings, state, path)

    @classmethod
    def from_json(cls, source: str | os.PathLike) -> StudyModel:
        """Load a model written by :meth:`to_json` (path or JSON text).

        Every key and value of the file and of the models inside it is checked first; a
        missing or unknown key, a wrong type, or NaN/null where a number is needed raises
        :class:`InputError` naming the file and the key path (``state.scores.tumor.state.coef``).
        The cutoffs may be infinite (stored as ``"inf"``/``"-inf"``): a model without
        discrimination puts every patient in one risk group.
        """
        from radiomics_aln.nomogram import LogisticNomogram
        from radiomics_aln.score import RadScore

        doc = load_model(source, "StudyModel", params=_SETTINGS_SCHEMA, state=_STATE_SCHEMA)
        state, where = doc["state"], doc["origin"]
        with rebuilding(doc):
            rois = list(state["rois"])
            if sorted(rois) != sorted(state["scores"]):
                raise ValueError("state.rois and the keys of state.scores differ")
            scores = {
                roi: RadScore._from_doc(d, where, f"state.scores.{roi}")
                for roi, d in state["scores"].items()
            }
            clin = (
                None
                if state["clinical_model"] is None  # a radiomics-only study
                else LogisticNomogram._from_doc(
                    state["clinical_model"], where, "state.clinical_model"
                )
            )
            comb = LogisticNomogram._from_doc(
                state["combined_model"], where, "state.combined_model"
            )
            settings = dict(doc["params"])
            # files written before the ring width was called width_mm (issue 14) hold ring_mm
            if "ring_mm" in settings:
                if "width_mm" in settings:
                    raise ValueError("params holds both width_mm and its old name ring_mm")
                settings["width_mm"] = settings.pop("ring_mm")
            if "width_mm" not in settings:
                raise InputError(f"{where}: `params.width_mm` (the ring width in mm) is missing")
            for key in ("cutoff", "points_cutoff", "clinical_cutoff"):
                if settings[key] is not None or key != "clinical_cutoff":
                    settings[key] = number(settings[key])
            if (clin is None) != (settings["clinical_cutoff"] is None):
                raise ValueError(
                    "state.clinical_model and params.clinical_cutoff must both be null "
                    "(a radiomics-only model) or both be given"
                )
            harmonizer = None
            if "harmonizer" in state:
                from radiomics_aln.harmonization import ComBat

                harmonizer = ComBat._from_doc(state["harmonizer"], where, "state.harmonizer")
                if "harmonize_batch" not in settings:
                    raise ValueError("state.harmonizer needs params.harmonize_batch")
            return cls(rois, scores, clin, comb, settings, harmonizer=harmonizer)


# What a StudyModel file holds (see radiomics_aln.io): the cutoffs may be "inf"/"-inf" (a model
# without discrimination), never null; the models inside are checked by their own classes.
_SETTINGS_SCHEMA = Record(
    {
        "outcome": STR,
        "params": Union(STR, MapOf(ANY)),
        "?width_mm": NUM,
        "?ring_mm": NUM,  # the name of width_mm in files written before issue 14
        "cutoff": NUM_OR_INF,
        "points_cutoff": NUM_OR_INF,
        "clinical_cutoff": NUM_NULL_INF,
        "?train_cohort": STR,
        "?categorical": MapOf(ListOf(SCALAR)),
        "?mask_combine": STR,
        "?min_area_mm2": NUM_OR_NULL,
        "?spacing_range": ListOf(NUM, length=2, nullable=True),
        "?external_features": MapOf(Record({"prefix": STR, "columns": ListOf(STR)})),
        "?harmonize_batch": STR,
        "?ring_choice": STR,  # the ring or shell chosen among several widths (rings setting)
    }
)
_STATE_SCHEMA = Record(
    {
        "rois": ListOf(STR),
        "scores": MapOf(MapOf(ANY)),
        "clinical_model": MapOf(ANY, nullable=True),
        "combined_model": MapOf(ANY),
        "?harmonizer": MapOf(ANY),
    }
)




# --------------------------------------------------------------------------- helpers


def _as_manifest(
    source: Any, outcome: str, *, require_outcome: bool = True, spacing_range=SPACING_RANGE_MM
):
    """``source`` itself when it is a Manifest, else the manifest CSV it names, read and checked."""
    from radiomics_aln.manifest import read_manifest

    if hasattr(source, "cases") and hasattr(source, "table"):
        return source
    return read_manifest(
        source, outcome=outcome if require_outcome else None, spacing_range=spacing_range
    )


def _clinical_table(source: Any) -> tuple[pd.DataFrame, str]:
    """The clinical table of ``predict(clinical=...)`` (index: case ids as text) and a phrase
    naming where it came from, for error messages."""
    if isinstance(source, pd.DataFrame):
        return source.rename(index=str), ""
    if hasattr(source, "cases") and hasattr(source, "table"):  # a Manifest
        where = f" ({source.path})" if getattr(source, "path", None) else ""
        return source.table.rename(index=str), where
    if not isinstance(source, str | os.PathLike):
        raise InputError(
            "clinical must be a DataFrame indexed by case id, a Manifest or the path of a CSV "
            f"file with a case_id column, got {type(source).__name__}"
        )
    path = os.fspath(source)
    try:
        table = pd.read_csv(path, dtype={"case_id": str}, keep_default_na=True)
    except FileNotFoundError:
        raise InputError(f"clinical file {path} does not exist") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"clinical file {path} cannot be read as CSV: {exc}") from None
    if "case_id" not in table.columns:
        raise InputError(
            f"clinical file {path} has no case_id column (it has "
            f"{format_items(table.columns, 10)}); its rows are matched to the features by case id"
        )
    dup = table["case_id"][table["case_id"].duplicated()].unique()
    if len(dup):
        raise InputError(f"clinical file {path} lists case id(s) {format_items(dup)} twice")
    return table.set_index("case_id"), f" (file {path})"


def _match_cases(ids: pd.Index, table: pd.DataFrame, source: str) -> pd.DataFrame:
    """The rows of ``table`` for case ``ids``, in that order; every id must have one row."""
    table = table.rename(index=str)
    dup = table.index[table.index.duplicated()].unique()
    if len(dup):
        raise InputError(f"clinical{source} has more than one row for case(s) {format_items(dup)}")
    unmatched = [c for c in ids if c not in table.index]
    if unmatched:
        raise InputError(
            f"{len(unmatched)} of the {len(ids)} case(s) to predict have no row in the clinical "
            f"table{source}: {format_items(unmatched)} (its case ids include "
            f"{format_items(table.index, 5)}); case ids are matched as text, so '007' and '7' "
            "differ"
        )
    return table.loc[list(ids)]


def extract_cohort(
    manifest: Any,
    rois: Sequence[str],
    params: Any,
    *,
    width_mm: float,
    n_jobs: int,
    cache_dir: str | os.PathLike | None,
    repeats: bool,
    progress: Any = None,
    mask_combine: str = "union",
    min_area_mm2: float | None = None,
    spacing_range: Any = SPACING_RANGE_MM,
) -> Any:
    """Extract the features of every case of ``manifest`` as a study does (failures collected).

    :func:`radiomics_aln.extraction.extract_features` with ``errors="collect"``: a failed ROI
    becomes a row of the result's ``failures``; the study decides what to do with it.
    """
    from radiomics_aln.extraction import extract_features

    return extract_features(
        manifest,
        rois=tuple(rois),
        params=params,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
        errors="collect",
        repeats=repeats,
        width_mm=width_mm,
        mask_combine=mask_combine,
        min_area_mm2=min_area_mm2,
        progress=progress,
        spacing_range=spacing_range,
    )


def apply_levels(table: pd.DataFrame, categorical: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Make the configured categorical columns pandas Categoricals with the configured levels.

    Levels are compared as text (YAML may give ``2`` where the CSV holds ``"2"`` or ``2.0``); a
    value outside the levels raises :class:`InputError` naming the column and the cases.

    Examples
    --------
    >>> import pandas as pd
    >>> t = apply_levels(pd.DataFrame({"grade": [1.0, 3.0]}), {"grade": ["1", "2", "3"]})
    >>> list(t["grade"].cat.categories), list(t["grade"])
    (['1', '2', '3'], ['1', '3'])
    """
    table = table.copy()
    for col, levels in categorical.items():
        if col not in table.columns:
            raise InputError(f"categorical column {col!r} is not in the cohort table")
        values = table[col].dropna()
        # YAML may give levels as numbers while the CSV holds text (or vice versa); "2.0" and
        # "2" are the same level
        as_text = values.map(_level_text)
        wanted = [_level_text(v) for v in levels]
        unknown = sorted(set(as_text) - set(wanted))
        if unknown:
            rows = values.index[as_text.isin(unknown)]
            raise InputError(
                f"column {col!r} has value(s) {format_items(unknown)} not among its configured "
                f"levels {list(levels)} (cases {format_items(rows, 5)})"
            )
        table[col] = pd.Categorical(
            table[col].map(lambda v: v if pd.isna(v) else _level_text(v)), categories=wanted
        )
    return table


def _level_text(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)
