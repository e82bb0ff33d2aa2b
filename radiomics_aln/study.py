"""The end-to-end study: one manifest (or feature table) to the whole published workflow.

:class:`~radiomics_aln.config.StudyConfig` holds every setting (a dataclass, loadable from YAML
or a dict); :class:`Study` runs the workflow with no information from a test cohort reaching any fitted step:

``fit()`` -- on the training cohort only, in this order:

1. feature extraction of every case (PyRadiomics, cached; it never looks at outcomes);
2. ICC reproducibility filter fitted on the re-segmented **training** cases (inter-observer:
   ``reader2``; intra-observer: ``repeat``): a feature is kept when ICC >= threshold in both;
3. one LASSO radiomics score per ROI (tumor score, peritumoral score, LN score) on the kept
   features of that ROI (:class:`radiomics_aln.score.RadScore`);
4. univariate logistic screen (Wald p < 0.05 per predictor) of the clinical-ultrasound
   candidates and of the scores;
5. a clinical model (screened clinical factors) and a clinical-radiomics model (screened clinical
   factors + screened scores), each by backward stepwise elimination
   (:class:`radiomics_aln.nomogram.LogisticNomogram`);
6. the nomogram of the clinical-radiomics model, its Nomo-score (total points) and the Youden
   cutoff on the training cohort.

``evaluate()`` -- on every cohort: Table 1 (baseline characteristics), Table 2 (univariate and
multivariable odds ratios), Table 3 (AUC with CI, ACC/SEN/SPE/PPV/NPV at the training cutoffs),
DeLong comparisons, Hosmer-Lemeshow per cohort, calibration, decision and clinical impact curves,
NRI/IDI of the clinical-radiomics vs the clinical model, and risk groups.

Without clinical candidates (``clinical: []``) the study is radiomics-only: there is no clinical
model, the nomogram is the "Radiomics model" of the screened scores, and the report leaves out
the parts that compare with a clinical model (NRI/IDI, the clinical columns of Table 2).

The steps are methods named for what they do (``_load_data``, ``_filter_reproducible``,
``_fit_scores``, ``_screen_candidates``, ``_fit_models``, ``_store_model``; ``_performance``,
``_validate_internally``, ...); tables, figures and the methods text are built by
:mod:`radiomics_aln.study_outputs`.

``save(dir)`` writes every table as CSV, every figure as PNG and SVG, the fitted model as JSON
(:class:`~radiomics_aln.model.StudyModel`, which predicts new patients) and the HTML report.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln import _study_readers, pipeline_validation, study_outputs
from radiomics_aln._display import html_block
from radiomics_aln._harmonize_study import (
    harmonization_figures,
    harmonization_tables,
    harmonize_features,
    store_harmonizer,
)
from radiomics_aln._perturbation_study import filter_perturbation, icc_fact, perturbation_tables
from radiomics_aln._progress import progress_mode
from radiomics_aln._ring_study import analysis_rois, fit_study_rings
from radiomics_aln._ring_study import study_tables as ring_study_tables
from radiomics_aln._validation import format_items
from radiomics_aln.config import StudyConfig
from radiomics_aln.exceptions import (
    ConvergenceError,
    DataWarning,
    EliminationError,
    InputError,
    SeparationError,
    SingleLevelError,
    StatisticalWarning,
)
from radiomics_aln.external_features import model_settings as external_settings
from radiomics_aln.external_features import study_external_features
from radiomics_aln.features import roi_columns
from radiomics_aln.formatting import format_number, format_p_value
from radiomics_aln.icc_filter import ICCFilter
from radiomics_aln.io import to_jsonable
from radiomics_aln.manifest import read_manifest
from radiomics_aln.model import (
    CLINICAL_MODEL,
    StudyModel,
    apply_levels,
    extract_cohort,
    score_column,
)
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.performance import delong_comparisons, performance_table
from radiomics_aln.sample_size import (
    DEFAULT_R2_NAGELKERKE,
    candidate_parameters,
    riley_sample_size,
    warn_if_small,
)
from radiomics_aln.score import RadScore
from radiomics_aln.univariate import univariate_logistic
from radiomics_aln.validation import bootstrap_calibrate, bootstrap_validate

__all__ = ["Study"]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- the study


class Study:
    """Run the whole workflow from a configuration.

    Parameters
    ----------
    config : StudyConfig, mapping, path or Manifest
        A configuration object, a mapping (see :class:`StudyConfig`), a YAML file, or a manifest
        (path to its CSV, or a :class:`~radiomics_aln.manifest.Manifest`) with default settings.
    table : DataFrame, optional
        Instead of a manifest: one row per patient indexed by case id with ``cohort``, the
        outcome and the clinical columns. Use with ``features``.
    features : DataFrame, optional
        Precomputed features (case id index, ``"{roi}__{feature}"`` columns): extraction is
        skipped.
    repeats : dict, optional
        With ``features``: ``{"reader2": DataFrame, "repeat": DataFrame}`` of re-segmented cases.
    progress : callable, bool, str or None, optional
        ``progress(message)`` is called at the start of each step (the CLI prints it). The long
        loops (feature extraction, bootstrap validation) show a progress bar in a terminal or
        notebook and write progress lines to stderr otherwise (cases or resamples done, failed,
        elapsed, ETA; see :func:`~radiomics_aln.extraction.extract_features`);
        ``progress="lines"`` / ``"bar"`` forces one of them, ``progress=False`` silences them.
    perturbation_readings : dict, optional
        With ``icc.source`` "perturbation" or "both": readings of
        :func:`~radiomics_aln.perturbation.perturbation_readings` (only training cases are used);
        default: made from the manifest's training images (``docs/perturbation.md``).
    **overrides
        Fields of :class:`StudyConfig` replacing those of ``config``.

    Attributes
    ----------
    data_ : DataFrame
        Patients (case id index): cohort, outcome, clinical columns and, after ``fit``, scores.
    features_, repeats_ : feature tables used (after ``fit``).
    icc_filter_ : ICCFilter or None
    model_ : StudyModel
        The fitted model.
    univariate_ : DataFrame
        Univariate logistic screen on the training cohort.
    excluded_ : DataFrame
        Cases left out (after ``fit``): ``case_id``, ``cohort``, ``reason`` (a failed
        test-cohort ROI, or an image shared with a case of a different outcome); also
        ``results_["tables"]["excluded_cases"]``, ``tables/excluded_cases.csv`` and the report.
    results_ : dict
        After ``evaluate``: ``tables`` (name -> DataFrame) and ``figures`` (name -> Figure).

    Examples
    --------
    See ``examples/full_study.py``: ``Study("study.yaml").fit().evaluate().save("out")``.
    """

    def __init__(
        self,
        config: Any = None,
        *,
        table: pd.DataFrame | None = None,
        features: pd.DataFrame | None = None,
        repeats: Mapping[str, pd.DataFrame] | None = None,
        progress: Callable[[str], None] | bool | None = None,
        perturbation_readings: Mapping[str, pd.DataFrame] | None = None,
        **overrides: Any,
    ) -> None:
        manifest = None
        if config is None:
            cfg = StudyConfig()
        elif isinstance(config, StudyConfig):
            cfg = copy.deepcopy(config)
        elif isinstance(config, Mapping):
            cfg = StudyConfig.from_dict(config)
        elif hasattr(config, "cases") and hasattr(config, "table"):
            manifest, cfg = config, StudyConfig()
        elif isinstance(config, str | os.PathLike):
            path = Path(config)
            if path.suffix.lower() in (".yaml", ".yml"):
                cfg = StudyConfig.from_yaml(path)
            elif path.suffix.lower() == ".csv":
                cfg = StudyConfig(manifest=str(path))
            else:
                raise InputError(f"{path}: expected a .yaml/.yml configuration or a .csv manifest")
        else:
            raise InputError(
                f"Study needs a StudyConfig, a mapping, a YAML path or a manifest, got "
                f"{type(config).__name__}"
            )
        if overrides:
            cfg = StudyConfig.from_dict(
                {**dataclasses.asdict(cfg), **overrides}
                | {
                    "icc": overrides.get("icc", cfg.icc),
                    "score": overrides.get("score", cfg.score),
                    "nomogram": overrides.get("nomogram", cfg.nomogram),
                }
            )
        self.config = cfg.validate()
        self._manifest = manifest
        self._table = table
        self._features = features
        self._repeats = dict(repeats) if repeats is not None else None
        self._perturbation_readings = perturbation_readings
        if progress is not None and not callable(progress):
            progress_mode(progress)  # True, False or one of "auto", "bar", "lines", "off"
        self._progress = progress
        self.results_: dict[str, Any] = {}
        if features is None and table is not None:
            raise InputError("`table` needs `features` too (a table alone has no images)")

    def __repr__(self) -> str:
        state = (
            "evaluated"
            if self.results_
            else ("fitted" if hasattr(self, "model_") else "not fitted")
        )
        return f"Study(rois={self.config.roi_list()}, outcome={self.config.outcome!r}, {state})"

    def _repr_html_(self) -> str:
        """The study in a notebook: settings, cohorts (n, events), state and headline AUCs."""
        cfg = self.config
        fitted = hasattr(self, "model_")
        state = "evaluated" if self.results_ else "fitted" if fitted else "not fitted"
        facts = {
            "state": state,
            "outcome": cfg.outcome,
            "ROIs": ", ".join(cfg.roi_list()),
            "training cohort": cfg.train_cohort,
            "test cohorts": ", ".join(cfg.test_cohorts) if cfg.test_cohorts else "every other",
            "clinical candidates": ", ".join(cfg.clinical),
            "ICC filter": icc_fact(cfg.icc),
            "random_state": cfg.random_state,
        }
        tables = []
        if hasattr(self, "data_"):
            d = self.data_
            counts = pd.DataFrame(
                {
                    "n": d.groupby("cohort", sort=False).size(),
                    "events": d.groupby("cohort", sort=False)[cfg.outcome].sum().astype(int),
                }
            ).reindex(self.cohorts_)
            counts.index = [cfg.label(c) for c in counts.index]
            counts.index.name = "cohort"
            tables.append(("Patients analysed", counts))
        if fitted:
            predictors = self.model_.combined_model.predictors_
            facts["nomogram predictors"] = ", ".join(map(str, predictors))
        if self.results_:
            perf = self.results_["tables"]["table3_full"]
            text = perf.apply(
                lambda r: f"{r.auc:.3f} ({r.auc_ci_low:.3f}-{r.auc_ci_high:.3f})", axis=1
            )
            aucs = perf.assign(auc_ci=text).pivot(index="cohort", columns="model", values="auc_ci")
            aucs = aucs.reindex(index=pd.unique(perf["cohort"]), columns=pd.unique(perf["model"]))
            tables.append(("AUC (95% CI) per cohort", aucs))
            corrected = self.results_.get("summary", {}).get("optimism_corrected_auc")
            if corrected is not None:
                facts["optimism-corrected training AUC (bootstrap)"] = corrected
        return html_block("Study", facts=facts, tables=tables)

    def _say(self, message: str) -> None:
        logger.info(message)
        if callable(self._progress):
            self._progress(message)

    def _loop_progress(self) -> bool | str | None:
        """``progress`` of the long loops (extraction, bootstrap): off with ``progress=False``,
        else the process-wide choice (a bar in a terminal or notebook, lines otherwise)."""
        if self._progress is False or isinstance(self._progress, str):
            return self._progress
        return None

    # ------------------------------------------------------------------ data
    def _load_table(self) -> pd.DataFrame:
        cfg = self.config
        if self._table is not None:
            table = self._table.copy()
        else:
            if self._manifest is None:
                if cfg.manifest is None:
                    raise InputError(
                        "no data: set `manifest` in the configuration, or pass table= and features="
                    )
                self._manifest = read_manifest(
                    cfg.manifest, outcome=cfg.outcome, spacing_range=cfg.spacing_range
                )
            table = self._manifest.table.copy()
        table.index = table.index.astype(str)
        table.index.name = "case_id"
        need = ["cohort", cfg.outcome, *cfg.clinical, *cfg.nonnormal]
        missing = [c for c in dict.fromkeys(need) if c not in table.columns]
        if missing:
            raise InputError(
                f"the cohort table lacks column(s) {format_items(missing)} named in the "
                f"configuration; it has {format_items(table.columns, 30)}"
            )
        table["cohort"] = table["cohort"].astype(str)
        cohorts = list(pd.unique(table["cohort"]))
        if cfg.train_cohort not in cohorts:
            raise InputError(
                f"training cohort {cfg.train_cohort!r} is not in the data; cohorts found: "
                f"{format_items(cohorts)}"
            )
        tests = cfg.test_cohorts
        if tests is None:
            tests = [c for c in cohorts if c != cfg.train_cohort]
        absent = [c for c in tests if c not in cohorts]
        if absent:
            raise InputError(f"test cohort(s) {format_items(absent)} are not in the data")
        if cfg.train_cohort in tests:
            raise InputError(f"the training cohort {cfg.train_cohort!r} is also a test cohort")
        self.cohorts_ = [cfg.train_cohort, *tests]
        table = table[table["cohort"].isin(self.cohorts_)]
        table = apply_levels(table, cfg.categorical)
        return table

    def _load_features(self) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        cfg = self.config
        if self._features is not None:
            feats = self._features.copy()
            feats.index = feats.index.astype(str)
            reps = {k: v.rename(index=str) for k, v in (self._repeats or {}).items()}
            self.extraction_ = None
            return feats, reps
        manifest = self._manifest
        if len(set(manifest.table["cohort"].astype(str)) - set(self.cohorts_)) and hasattr(
            manifest, "subset"
        ):
            manifest = manifest.subset(self.cohorts_)  # cohorts not studied are not extracted
        self._say(
            f"Extracting features ({', '.join(analysis_rois(cfg))}) for {len(manifest.cases)} "
            "cases (and their repeat segmentations, if any)"
        )
        result = extract_cohort(
            manifest,
            analysis_rois(cfg),
            cfg.params,
            width_mm=cfg.width_mm,
            n_jobs=cfg.n_jobs,
            cache_dir=cfg.cache_dir,
            repeats=True,
            progress=self._loop_progress(),
            mask_combine=cfg.mask_combine,
            min_area_mm2=cfg.min_area_mm2,
            spacing_range=cfg.spacing_range,
        )
        self.extraction_ = result
        if len(result.failures):
            logger.warning("%d ROI extraction(s) failed", len(result.failures))
        return result.features, dict(result.repeats)

    # ------------------------------------------------------------------ fit
    def fit(self) -> Study:
        """Fit every step on the training cohort (see the module docstring for the order).

        Returns
        -------
        Study
            ``self``, with ``model_``, ``icc_filter_``, ``univariate_``, ``screened_`` and
            ``data_`` set.

        Raises
        ------
        InputError
            Configuration/data problems (missing columns, unknown cohorts, failed extraction of
            a training case, no predictor passing the screen).
        """
        table, features, repeats, used = self._load_data()
        X_train, y_train = self._training_data(table, features, used)
        readers = self.config.icc.source != "perturbation"  # else no second reader is read
        kept = self._filter_reproducible(X_train, repeats) if readers else list(X_train.columns)
        kept = filter_perturbation(self, X_train, kept)
        features, X_train = harmonize_features(self, table, features, X_train, kept)
        self.notes_: list[str] = []
        self.score_rois_ = fit_study_rings(self, X_train[kept], y_train, say=self._say)
        scores = self._fit_scores(table, features, X_train[kept], y_train)
        self.features_ = features
        self.repeats_ = repeats
        train = self.data_[self.data_["cohort"] == self.config.train_cohort]
        p_by = self._screen_candidates(train)
        self.sample_size_ = self._check_sample_size(train, list(p_by.index))
        clinical_model, combined_model = self._fit_models(train, p_by)
        self._store_model(scores, clinical_model, combined_model)
        store_harmonizer(self)
        self.results_ = {}
        return self

    def _load_data(self) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame], list[str]]:
        """Cohort table, features and repeats of the analysed cases, and the feature columns used.

        Cases left out (``excluded_``) are dropped from the table here.
        """
        cfg = self.config
        table = self._load_table()
        features, repeats = self._load_features()
        known = (self._table if self._table is not None else self._manifest.table).index
        train_ids = table.index[table["cohort"] == cfg.train_cohort]
        features, repeats, self.external_columns_ = study_external_features(
            cfg.external_features, cfg.external_prefix, features=features, repeats=repeats,
            cases=table.index, known=known.astype(str),
            repeat_cases=train_ids if cfg.icc.enabled else [],
        )  # fmt: skip
        features = features.reindex(table.index)
        rois = analysis_rois(cfg)
        roi_cols = {r: roi_columns(features.columns, r) for r in rois}
        empty = [r for r, cols in roi_cols.items() if not cols]
        if empty:
            raise InputError(f"no feature columns for ROI(s) {empty} (expected '<roi>__<name>')")
        used = [c for r in rois for c in roi_cols[r]]
        self.excluded_ = self._exclusions(table, features, used)
        if len(self.excluded_):
            table = table.drop(index=self.excluded_["case_id"])
            emptied = [c for c in self.cohorts_ if not (table["cohort"] == c).any()]
            if emptied:
                raise InputError(
                    f"every case of cohort(s) {format_items(emptied)} is excluded (see "
                    "excluded_): " + "; ".join(self.excluded_["reason"].head(3))
                )
        return table, features, repeats, used

    def _training_data(
        self, table: pd.DataFrame, features: pd.DataFrame, used: list[str]
    ) -> tuple[pd.DataFrame, pd.Series]:
        """Features and outcome of the training cohort; every training feature must be finite."""
        cfg = self.config
        train_ids = table.index[table["cohort"] == cfg.train_cohort]
        X_train = features.loc[train_ids, used]
        bad_rows = X_train.index[~np.isfinite(X_train.to_numpy(dtype=float)).all(axis=1)]
        if len(bad_rows):
            raise InputError(
                f"training case(s) {format_items(bad_rows)} have missing or non-finite features "
                "(failed extraction?); fix or remove them from the manifest"
            )
        return X_train, table.loc[train_ids, cfg.outcome].astype(int)

    def _filter_reproducible(
        self, X_train: pd.DataFrame, repeats: Mapping[str, pd.DataFrame]
    ) -> list[str]:
        """ICC filter on the repeat segmentations of TRAINING cases only; the kept columns."""
        cfg = self.config
        used = list(X_train.columns)
        train_repeats = {
            k: v.loc[v.index.intersection(X_train.index), used]
            for k, v in repeats.items()
            if len(v.index.intersection(X_train.index)) > 0
        }
        self.icc_filter_ = None
        self.icc_repeat_cases_ = {k: len(v) for k, v in train_repeats.items()}
        if cfg.icc.enabled and train_repeats:
            self._say(
                "ICC reproducibility filter on the re-segmented training cases ("
                + ", ".join(f"{k}: {len(v)}" for k, v in train_repeats.items())
                + ")"
            )
            filt = ICCFilter(threshold=cfg.icc.threshold, form=cfg.icc.form, on=cfg.icc.compare)
            filt.fit(X_train, repeats=train_repeats)
            self.icc_filter_ = filt
            return [str(c) for c in filt.selected_features_]
        if cfg.icc.enabled:
            warnings.warn(
                "no training case has repeat segmentations: the ICC filter is skipped",
                StatisticalWarning,
                stacklevel=3,
            )
        return used

    def _fit_scores(
        self, table: pd.DataFrame, features: pd.DataFrame, X_train: pd.DataFrame, y_train
    ) -> dict[str, Any]:
        """One LASSO score per ROI on its kept training features; sets ``data_`` (with scores)."""
        cfg = self.config
        rois = self.score_rois_
        scores = {}
        data = table.copy()
        for roi in rois:
            cols = roi_columns(X_train.columns, roi)
            if not cols:
                raise InputError(
                    f"no {roi} feature passed the ICC filter (threshold {cfg.icc.threshold}); "
                    "lower icc.threshold or check the repeat segmentations"
                )
            kind = "reproducible features" if self.icc_filter_ is not None else "features"
            self._say(f"LASSO score for {roi} ({len(cols)} {kind})")
            sc = RadScore(name=score_column(roi), random_state=cfg.random_state, **cfg.score.params)
            sc.fit(X_train[cols], y_train, foldid=pipeline_validation.lasso_folds(self, y_train))
            scores[roi] = sc
            data[score_column(roi)] = np.asarray(
                sc.transform(features[cols].loc[table.index]), dtype=float
            ).ravel()
        self.data_ = data
        # a score whose LASSO kept no feature is a constant: it cannot enter a model
        constant = [r for r, sc in scores.items() if len(sc.selected_features_) == 0]
        dd = cfg.data_dictionary()
        self.notes_.extend(
            f"The {dd.label(score_column(r))} is constant (the LASSO kept no feature at the chosen "
            "lambda); it is reported but not offered to the models."
            for r in constant
        )
        self.constant_scores_ = constant
        if len(constant) == len(rois):
            raise InputError(
                "every radiomics score is constant (the LASSO kept no feature for any ROI); "
                "try score rule '1se' -> 'min', more training cases, or check the outcome"
            )
        return scores

    def _reference_levels(self, predictors: Sequence[str] | None = None) -> dict[str, str]:
        refs = {c: str(levels[0]) for c, levels in self.config.categorical.items()}
        return refs if predictors is None else {k: v for k, v in refs.items() if k in predictors}

    def _screen_candidates(self, train: pd.DataFrame) -> pd.Series:
        """Univariate screen of the clinical candidates and scores; their overall p-values.

        Sets ``univariate_`` and ``screened_`` (at least one clinical factor and one score: the
        strongest when none passes, with a note saying so).
        """
        cfg = self.config
        self._say("Univariate screen and backward stepwise logistic models")
        score_names = [score_column(r) for r in self.score_rois_ if r not in self.constant_scores_]
        candidates = list(cfg.clinical) + score_names
        parts = []
        for c in candidates:
            try:
                parts.append(
                    univariate_logistic(
                        train,
                        cfg.outcome,
                        [c],
                        reference_levels=self._reference_levels(),
                        penalty=cfg.nomogram.penalty,
                    )
                )
            except (SeparationError, ConvergenceError, SingleLevelError) as exc:
                self.notes_.append(f"{cfg.data_dictionary().label(c)} was not screened: {exc}")
        uni = pd.concat(parts, ignore_index=True)
        self.univariate_ = uni
        p_by = uni.groupby("predictor", sort=False)["p_overall"].first().reindex(candidates)
        p_by = p_by.fillna(np.inf)  # not estimable: never passes the screen
        screened = [c for c in candidates if p_by[c] < cfg.nomogram.screen_p]
        clin_screened = [c for c in cfg.clinical if c in screened]
        score_screened = [c for c in score_names if c in screened]
        if not clin_screened and cfg.clinical:
            best = min(cfg.clinical, key=lambda c: p_by[c])
            clin_screened = [best]
            label = cfg.data_dictionary().label(best)
            p_text = format_p_value(p_by[best], prefix=True)
            self.notes_.append(
                f"No clinical factor had univariate p < {cfg.nomogram.screen_p}; the clinical "
                f"model uses the strongest one ({label}, {p_text})."
            )
        if not score_screened:
            best = min(score_names, key=lambda c: p_by[c])
            score_screened = [best]
            self.notes_.append(
                f"No radiomics score had univariate p < {cfg.nomogram.screen_p}; the "
                f"clinical-radiomics model offers the strongest one "
                f"({cfg.data_dictionary().label(best)})."
            )
        self.screened_ = {"clinical": clin_screened, "scores": score_screened}
        return p_by

    def _check_sample_size(self, train: pd.DataFrame, candidates: list[str]) -> Any:
        """Riley et al. (2020) minimum size for the candidates (a warning and a note if below)."""
        settings = dict(self.config.nomogram.sample_size)
        if not {"r2_cs", "r2_nagelkerke", "c_statistic"} & set(settings):
            settings["r2_nagelkerke"] = DEFAULT_R2_NAGELKERKE
        y = train[self.config.outcome].to_numpy(dtype=float)
        n_par = candidate_parameters(train, candidates, self._reference_levels())
        result = riley_sample_size(parameters=max(n_par, 1), prevalence=y.mean(), **settings)
        self.notes_.append(warn_if_small(result, len(y), what="the training cohort"))
        return result

    def _fit_models(self, train: pd.DataFrame, p_by: pd.Series) -> tuple[Any, Any]:
        """The clinical and the clinical-radiomics model, each by backward elimination.

        Without clinical candidates (a radiomics-only study) there is no clinical model (None)
        and the nomogram is the model of the screened scores.
        """
        clin = self.screened_["clinical"]
        return (
            self._fit_stepwise(train, clin, p_by) if clin else None,
            self._fit_stepwise(train, clin + self.screened_["scores"], p_by),
        )

    def _fit_backward(self, train: pd.DataFrame, predictors: list[str]) -> Any:
        cfg = self.config
        model = LogisticNomogram(
            selection=cfg.nomogram.selection,
            p_remove=cfg.nomogram.p_remove,
            criterion=cfg.nomogram.criterion,
            reference_levels=self._reference_levels(predictors) or None,
            penalty=cfg.nomogram.penalty,
        )
        return model.fit(train, cfg.outcome, predictors)

    def _fit_stepwise(self, train: pd.DataFrame, predictors: list[str], p_by: pd.Series) -> Any:
        """Backward elimination; separated predictors are dropped, and an empty model keeps the
        strongest candidate (each with a note)."""
        predictors = list(predictors)
        while True:
            try:
                return self._fit_backward(train, predictors)
            except SeparationError as exc:
                # drop the predictor(s) the error names and refit; a model with separation
                # has no finite maximum-likelihood estimate
                culprits = [p for p in predictors if p in exc.predictors]
                if not culprits or len(culprits) == len(predictors):
                    raise
                shown = ", ".join(self.config.data_dictionary().label(c) for c in culprits)
                self.notes_.append(f"{shown} removed from the multivariable model: {exc}")
                predictors = [p for p in predictors if p not in culprits]
            except EliminationError:
                break
        # backward elimination removed everything: keep the strongest candidate
        best = min(predictors, key=lambda c: p_by[c])
        dd = self.config.data_dictionary()
        self.notes_.append(
            f"Backward elimination removed every candidate of "
            f"{', '.join(dd.label(p) for p in predictors)}; the model keeps {dd.label(best)}."
        )
        refs = self._reference_levels([best])
        return LogisticNomogram(selection=None, reference_levels=refs or None).fit(
            train, self.config.outcome, [best]
        )

    def _store_model(self, scores: dict[str, Any], clinical_model: Any, combined_model: Any):
        """``model_`` (the saved model with the training cutoffs) and its training predictions."""
        cfg = self.config
        params = self.extraction_.params if getattr(self, "extraction_", None) else cfg.params
        self.model_ = StudyModel(
            self.score_rois_,
            scores,
            clinical_model,
            combined_model,
            {
                "outcome": cfg.outcome,
                "params": params,
                "width_mm": cfg.width_mm,
                "mask_combine": cfg.mask_combine,
                "min_area_mm2": cfg.min_area_mm2,
                "spacing_range": cfg.spacing_range,
                "cutoff": combined_model.youden_cutoff_,
                "points_cutoff": combined_model.youden_points_cutoff_,
                "clinical_cutoff": (
                    None if clinical_model is None else clinical_model.youden_cutoff_
                ),
                "train_cohort": cfg.train_cohort,
                "categorical": {k: [str(v) for v in lv] for k, lv in cfg.categorical.items()},
                **external_settings(self.external_columns_, scores, cfg.external_prefix),
                **({"ring_choice": self.ring_choice_.chosen} if self.ring_choice_ else {}),
            },
        )
        data = self.data_
        if clinical_model is not None:
            data["clinical_probability"] = clinical_model.predict_proba(data)[:, 1]
        data["probability"] = combined_model.predict_proba(data)[:, 1]
        data["nomo_score"] = np.asarray(combined_model.points(data), dtype=float)

    def _exclusions(
        self, table: pd.DataFrame, features: pd.DataFrame, used: list[str]
    ) -> pd.DataFrame:
        """Cases left out of the analysis, with their reason (``excluded_cases`` table).

        Both cases of a pair with byte-identical images and different outcomes (unless
        ``exclude_conflicting_duplicates`` is false), and test-cohort cases whose features are
        missing or non-finite (a failed ROI; ``errors="raise"`` stops instead).
        """
        cfg = self.config
        reasons: dict[str, list[str]] = {}
        result = getattr(self, "extraction_", None)
        dups = getattr(result, "duplicates", None)
        if dups is not None and len(dups):
            y = table[cfg.outcome]
            conflicting = [
                (str(r.case_id_1), str(r.case_id_2), r.image)
                for r in dups.itertuples(index=False)
                if str(r.case_id_1) in y.index
                and str(r.case_id_2) in y.index
                and y[str(r.case_id_1)] != y[str(r.case_id_2)]
            ]
            if conflicting and cfg.exclude_conflicting_duplicates:
                for a, b, kind in conflicting:
                    for me, other in ((a, b), (b, a)):
                        reasons.setdefault(me, []).append(
                            f"same {kind} image (identical bytes) as case {other}, with a "
                            f"different outcome ({cfg.outcome} {y[me]} vs {y[other]})"
                        )
            elif conflicting:
                pairs = ", ".join(f"{a} and {b}" for a, b, _ in conflicting[:10])
                warnings.warn(
                    f"{len(conflicting)} pair(s) of cases with the same image and different "
                    f"outcomes are kept (exclude_conflicting_duplicates: false): {pairs}",
                    DataWarning,
                    stacklevel=3,
                )
        tests = table.index[(table["cohort"] != cfg.train_cohort)]
        X = features.reindex(index=tests, columns=used).to_numpy(dtype=float)
        bad = [c for c, ok in zip(tests, np.isfinite(X).all(axis=1), strict=True) if not ok]
        failures = getattr(result, "failures", None)
        failed: dict[str, list[str]] = {}
        if failures is not None and len(failures):
            for r in failures.itertuples(index=False):
                if r.reader == "reader1":
                    failed.setdefault(str(r.case_id), []).append(f"roi {r.roi}: {r.error}")
        cols = pd.Index(used)
        for c in bad:
            why = failed.get(c)
            if why is None:  # a feature table given by the user: name the columns
                row = features.loc[c, used] if c in features.index else pd.Series(dtype=float)
                missing = cols[~np.isfinite(row.reindex(used).to_numpy(dtype=float))]
                why = [f"missing or non-finite feature(s) {format_items(missing, 5)}"]
            if cfg.errors == "raise":
                raise InputError(
                    f"test-cohort case {c} ({table.at[c, 'cohort']}) has no usable features: "
                    f"{'; '.join(why)}. Fix the case, or set errors: collect to exclude it "
                    "(it is then listed in the excluded_cases table)"
                )
            reasons.setdefault(c, []).append("failed extraction: " + "; ".join(why))
        rows = [
            {"case_id": c, "cohort": table.at[c, "cohort"], "reason": "; ".join(why)}
            for c, why in ((c, reasons[c]) for c in table.index if c in reasons)
        ]
        out = pd.DataFrame(rows, columns=["case_id", "cohort", "reason"])
        if len(out):
            items = "; ".join(
                f"{r.case_id} ({r.cohort}): {r.reason}" for r in out.head(5).itertuples()
            )
            more = f" and {len(out) - 5} more" if len(out) > 5 else ""
            warnings.warn(
                f"{len(out)} case(s) are excluded from the analysis: {items}{more}; see the "
                "excluded_cases table",
                DataWarning,
                stacklevel=3,
            )
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this Study is not fitted yet; call fit() first")

    def fitted_state(self) -> dict[str, Any]:
        """Everything ``fit`` learned, as plain values (used by the leakage test)."""
        self._check_fitted()
        m = self.model_
        state = {
            "icc_selected": (
                None if self.icc_filter_ is None else list(self.icc_filter_.selected_features_)
            ),
            "perturbation_selected": (
                None if getattr(self, "perturbation_filter_", None) is None
                else list(self.perturbation_filter_.selected_features_)
            ),  # fmt: skip
            "scores": {roi: json.loads(sc.to_json())["state"] for roi, sc in m.scores.items()},
            "clinical": (
                None
                if m.clinical_model is None
                else json.loads(m.clinical_model.to_json())["state"]
            ),
            "combined": json.loads(m.combined_model.to_json())["state"],
            "screened": self.screened_,
            "univariate": self.univariate_.to_dict("list"),
            "settings": {k: v for k, v in m.settings.items() if k != "params"},
            "harmonizer": None if self.harmonizer_ is None else self.harmonizer_.to_state(),
        }
        # plain JSON values (NaN -> None) so two states compare with ==
        return json.loads(json.dumps(to_jsonable(state)))

    def predict(
        self, data: Any, clinical: pd.DataFrame | None = None, *, external: Any = None
    ) -> pd.DataFrame:
        """Predict new patients with the fitted model (see :meth:`StudyModel.predict`)."""
        self._check_fitted()
        return self.model_.predict(
            data, clinical, external=external, n_jobs=self.config.n_jobs,
            cache_dir=self.config.cache_dir,
        )  # fmt: skip

    # ------------------------------------------------------------------ evaluate
    def _cohort_arrays(self) -> dict[str, dict[str, Any]]:
        """Outcome and predictions of each cohort; the models keyed by the names readers see
        (a score by its data-dictionary label, "LN radiomics score")."""
        cfg = self.config
        dd = cfg.data_dictionary()
        out = {}
        for c in self.cohorts_:
            d = self.data_[self.data_["cohort"] == c]
            y = d[cfg.outcome].astype(int).to_numpy()
            models = {}
            if self.model_.clinical_model is not None:
                models[CLINICAL_MODEL] = d["clinical_probability"].to_numpy()
            for roi in self.model_.rois:
                if roi not in self.constant_scores_:
                    models[dd.label(score_column(roi))] = d[score_column(roi)].to_numpy()
            models[self.model_.combined_name] = d["probability"].to_numpy()
            out[c] = {"y": y, "models": models, "frame": d}
        return out

    def evaluate(self) -> Study:
        """Evaluate the fitted models on every cohort; fills ``results_``.

        Returns
        -------
        Study
            ``self``; ``results_["tables"]`` holds ``table1``, ``table1_by_outcome``,
            ``table2``, ``table3``, ``table3_full``, ``delong`` (the clinical-radiomics model
            vs each other model), ``delong_all`` (every pair), ``hosmer_lemeshow``,
            ``calibration``, ``decision_curves``, ``clinical_impact``, ``nri_idi``,
            ``risk_groups``, ``icc``, ``score_coefficients``, ``elimination_steps``, and
            ``results_["figures"]`` the matplotlib figures.
        """
        self._check_fitted()
        cfg = self.config
        arrays = self._cohort_arrays()
        labels = {c: cfg.label(c) for c in self.cohorts_}
        tables: dict[str, pd.DataFrame] = {}
        summary: dict[str, Any] = {}

        self._say("Evaluation: Table 1")
        tables.update(study_outputs.table1(self))
        tables["table2"] = study_outputs.table2(self)

        self._say("Evaluation: Table 3, DeLong, Hosmer-Lemeshow, calibration")
        tables.update(self._performance(arrays, labels, summary))
        hl, cal, curves = study_outputs.calibration_tables(arrays, labels, cfg.nomogram.hl_groups)
        tables["hosmer_lemeshow"], tables["calibration"] = hl, cal
        tables.update(self._validate_internally(summary))
        progress = self._loop_progress()
        tables.update(pipeline_validation.study_tables(self, summary, progress=progress))

        self._say("Evaluation: decision curves, clinical impact, NRI/IDI, risk groups")
        cutoff = self.model_.settings["cutoff"]
        tables.update(study_outputs.decision_tables(arrays, labels, cfg.dca_grid(), cutoff))
        tables.update(self._model_tables())
        tables.update(harmonization_tables(self))
        tables.update(ring_study_tables(self))

        self._say("Evaluation: figures")
        figures = study_outputs.figures(self, arrays, labels, tables, curves)
        figures.update(harmonization_figures(self))
        if cfg.readers is not None:
            self._say("Evaluation: reader study")
            _study_readers.add_to_study(self, arrays, labels, tables, figures, summary)
        self.results_ = {"tables": tables, "figures": figures, "summary": summary}
        return self

    def _performance(
        self, arrays: Mapping[str, Any], labels: Mapping[str, str], summary: dict[str, Any]
    ) -> dict[str, pd.DataFrame]:
        """Table 3 (AUC, threshold metrics at the training cutoffs) and the DeLong tests.

        ``table3``: the publication view (every estimate with its 95% CI, the cutoff; the
        clinical-radiomics model's cutoff also in nomogram points); ``table3_full``: the
        unrounded numbers; ``delong``: the clinical-radiomics model against each other model
        (``model_1`` is the clinical-radiomics model); ``delong_all``: every pair. The DeLong
        p-values are adjusted within each cohort when ``nomogram.p_adjust`` is set.
        """
        cfg = self.config
        cohorts = {labels[c]: (a["y"], a["models"]) for c, a in arrays.items()}
        perf = performance_table(
            cohorts,
            training=labels[cfg.train_cohort],
            ci=cfg.nomogram.ci,
            random_state=cfg.random_state,
            p_adjust=cfg.nomogram.p_adjust,
        )
        primary = delong_comparisons(
            cohorts, reference=self.model_.combined_name, p_adjust=cfg.nomogram.p_adjust
        )
        summary["thresholds"] = perf.thresholds
        summary["performance_note"] = perf.note()
        table3 = perf.formatted()
        comb = self.model_.combined_model
        cut = perf.thresholds[self.model_.combined_name]
        points = float(np.asarray(comb.probability_to_points(cut), dtype=float).ravel()[0])
        table3.loc[table3["Model"] == self.model_.combined_name, "Cutoff"] = (
            f"\u2265 {format_number(cut, 3)} (\u2265 {format_number(points, 1)} points)"
        )
        return {
            "table3": table3,
            "table3_full": perf.performance,
            "delong": primary,
            "delong_all": perf.comparisons,
        }

    def _validate_internally(self, summary: dict[str, Any]) -> dict[str, pd.DataFrame]:
        """Harrell's bootstrap validation and calibration of the combined model (``n_boot > 0``)."""
        cfg = self.config
        n_boot = int(cfg.nomogram.n_boot)
        if n_boot <= 0:
            return {}
        self._say(
            f"Bootstrap internal validation of the clinical-radiomics model ({n_boot} resamples "
            "of the training cohort)"
        )
        train = self.data_[self.data_["cohort"] == cfg.train_cohort]
        comb = self.model_.combined_model
        boot = {"n_boot": n_boot, "random_state": cfg.random_state, "n_jobs": cfg.n_jobs,
                "progress": self._loop_progress()}  # fmt: skip
        validation = bootstrap_validate(comb, train, cfg.outcome, **boot)
        summary["optimism_corrected_auc"] = float(validation.at["auc", "corrected"])
        summary["optimism_corrected_slope"] = float(validation.at["slope", "corrected"])
        return {
            "bootstrap_validation": validation.reset_index(),
            "bootstrap_calibration": bootstrap_calibrate(comb, train, cfg.outcome, **boot),
        }

    def _model_tables(self) -> dict[str, pd.DataFrame]:
        """ICC, score coefficients, excluded cases, elimination steps and predictions."""
        cfg = self.config
        tables: dict[str, pd.DataFrame] = {}
        if self.icc_filter_ is not None:
            tables["icc"] = self.icc_filter_.icc_
        tables.update(perturbation_tables(self))
        tables["score_coefficients"] = study_outputs.score_coefficients(self)
        tables["excluded_cases"] = self.excluded_.copy()
        steps = []
        for name, m in ((CLINICAL_MODEL, self.model_.clinical_model),
                        (self.model_.combined_name, self.model_.combined_model)):  # fmt: skip
            if m is not None and len(m.elimination_steps_):
                steps.append(m.elimination_steps_.assign(model=name))
        tables["elimination_steps"] = (
            pd.concat(steps, ignore_index=True) if steps else pd.DataFrame()
        )
        tables["predictions"] = self.data_[
            ["cohort", cfg.outcome]
            + [score_column(r) for r in self.model_.rois]
            + ["clinical_probability"] * (self.model_.clinical_model is not None)
            + ["probability", "nomo_score"]
        ].assign(
            risk_group=lambda d: np.where(
                d["probability"] >= self.model_.settings["cutoff"], "high", "low"
            )
        )
        return tables

    # ------------------------------------------------------------------ output
    def methods_text(self) -> dict[str, list[str]]:
        """Methods summary generated from the actual settings and results (TRIPOD items)."""
        self._check_fitted()
        return study_outputs.methods_text(self)

    def report_content(self) -> dict[str, Any]:
        """Content for :func:`radiomics_aln.report.report` (title, methods, sections)."""
        return study_outputs.report_content(self)

    def report(self, path: str | os.PathLike) -> Path:
        """Write the self-contained HTML report (see :mod:`radiomics_aln.report`)."""
        from radiomics_aln.report import report

        return report(self, path)

    def save(self, directory: str | os.PathLike, *, report: bool = True) -> Path:
        """Write tables (CSV), figures (PNG + SVG), the model (JSON), config and report.

        Layout: ``tables/<name>.csv``, ``figures/<name>.png|.svg``, ``model.json``,
        ``config.yaml``, ``report.html``. Returns the directory.
        """
        self._check_fitted()
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.model_.to_json(out / "model.json")
        self.config.to_yaml(out / "config.yaml")
        if self.results_:
            (out / "tables").mkdir(exist_ok=True)
            (out / "figures").mkdir(exist_ok=True)
            for name, table in self.results_["tables"].items():
                if isinstance(table, pd.DataFrame) and len(table.columns):
                    keep_index = not isinstance(table.index, pd.RangeIndex)
                    table.to_csv(out / "tables" / f"{name}.csv", index=keep_index)
            for name, fig in self.results_["figures"].items():
                fig.savefig(out / "figures" / f"{name}.png", dpi=150, bbox_inches="tight")
                fig.savefig(out / "figures" / f"{name}.svg", bbox_inches="tight")
            if report:
                self.report(out / "report.html")
        return out
