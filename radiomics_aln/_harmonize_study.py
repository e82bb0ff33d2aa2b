"""The study's harmonization step (private): fit ComBat on training, apply per cohort, outputs.

:class:`~radiomics_aln.study.Study` calls these in a few lines; the estimator itself is
:class:`radiomics_aln.harmonization.ComBat`. The step sits after the ICC filter (only
reproducible features are harmonized, and the ICC is computed on the features as measured)
and before each score's standardisation and LASSO (so the scores are fitted on harmonized
training features and every cohort is scored on the same scale); see ``docs/harmonization.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._validation import format_items
from radiomics_aln.exceptions import InputError
from radiomics_aln.harmonization import ComBat, harmonization_diagnostics, plot_batch_distributions

__all__ = [
    "harmonize_features",
    "store_harmonizer",
    "harmonization_tables",
    "harmonization_figures",
    "harmonization_methods",
    "harmonization_report_section",
    "harmonize_for_prediction",
]


def _batch_column(table: pd.DataFrame, column: str, where: str) -> pd.Series:
    if column not in table.columns:
        raise InputError(
            f"{where} has no batch column {column!r} (harmonize.batch): add the scanner or "
            f"centre of every case as a column; it has {format_items(table.columns, 20)}"
        )
    batch = table[column]
    missing = batch.index[batch.isna() | (batch.astype(str).str.strip() == "")]
    if len(missing):
        raise InputError(
            f"{where}: the batch column {column!r} is empty for case(s) {format_items(missing)}; "
            "every case needs its scanner or centre"
        )
    return batch.astype(str)


def _covariates(table: pd.DataFrame, names: list[str], where: str) -> pd.DataFrame | None:
    if not names:
        return None
    missing = [c for c in names if c not in table.columns]
    if missing:
        raise InputError(f"{where} lacks the harmonize.covariates column(s) {format_items(missing)}")
    return table[names]


def harmonize_features(study: Any, table, features, X_train, kept):
    """Fit ComBat on the training rows of the ``kept`` features; harmonize every cohort.

    Returns ``(features, X_train)`` with the kept columns harmonized (unchanged when
    ``harmonize.enabled`` is false). Sets ``study.harmonizer_`` and
    ``study.features_unharmonized_``. Each test cohort is transformed on its own, so a new
    batch's location and scale come from that cohort's cases only.
    """
    cfg = study.config
    h = cfg.harmonize
    study.harmonizer_ = None
    study.features_unharmonized_ = None
    if not h.enabled:
        return features, X_train
    batch = _batch_column(table, h.batch, "the cohort table")
    cov = _covariates(table, list(h.covariates), "the cohort table")
    train_ids = X_train.index
    combat = ComBat(
        parametric=h.parametric, mean_only=h.mean_only, ref_batch=h.ref_batch,
        min_batch_size=h.min_batch_size, small_batch=h.small_batch,
    )  # fmt: skip
    counts = batch[train_ids].value_counts().sort_index()
    study._say(
        f"ComBat harmonization of {len(kept)} features by {h.batch} (training: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + ")"
    )
    combat.fit(X_train[kept], batch[train_ids], None if cov is None else cov.loc[train_ids])
    out = features.copy()
    for cohort in study.cohorts_:
        ids = table.index[table["cohort"] == cohort]
        try:
            out.loc[ids, kept] = combat.transform(
                features.loc[ids, kept], batch[ids], None if cov is None else cov.loc[ids]
            ).to_numpy()
        except InputError as exc:
            raise InputError(f"harmonizing the {cohort!r} cohort: {exc}") from None
    study.harmonizer_ = combat
    study.features_unharmonized_ = features
    return out, out.loc[train_ids, list(X_train.columns)]


def store_harmonizer(study: Any) -> None:
    """Put the fitted harmonizer and its batch column into the saved model."""
    if getattr(study, "harmonizer_", None) is None:
        return
    study.model_.harmonizer = study.harmonizer_
    study.model_.settings["harmonize_batch"] = study.config.harmonize.batch


def _diagnostics(study: Any) -> pd.DataFrame | None:
    combat = getattr(study, "harmonizer_", None)
    if combat is None:
        return None
    cols = list(combat.feature_names_in_)
    ids = study.data_.index
    batch = study.data_[study.config.harmonize.batch].astype(str)
    if batch.nunique() < 2:
        return None
    return harmonization_diagnostics(
        study.features_unharmonized_.loc[ids, cols], study.features_.loc[ids, cols],
        batch, cohort=study.data_["cohort"],
    )


def harmonization_tables(study: Any) -> dict[str, pd.DataFrame]:
    """``harmonization`` (the fitted batch parameters) and ``batch_effect`` (per feature and
    cohort, before and after); empty without harmonization."""
    combat = getattr(study, "harmonizer_", None)
    if combat is None:
        return {}
    tables = {"harmonization": combat.summary}
    diag = _diagnostics(study)
    if diag is not None:
        diag = diag.assign(cohort=diag["cohort"].map(lambda c: c if c == "all" else
                                                      study.config.label(c)))
        tables["batch_effect"] = diag
    return tables


def harmonization_figures(study: Any) -> dict[str, Any]:
    """The distributions of the features with the largest batch effect, before and after."""
    combat = getattr(study, "harmonizer_", None)
    if combat is None or study.data_[study.config.harmonize.batch].nunique() < 2:
        return {}
    cols = list(combat.feature_names_in_)
    ids = study.data_.index
    fig = plot_batch_distributions(
        study.features_unharmonized_.loc[ids, cols], study.features_.loc[ids, cols],
        study.data_[study.config.harmonize.batch].astype(str), max_features=4,
    )
    fig.set_label(
        f"Distributions by {study.config.harmonize.batch} of the four features with the "
        "largest batch effect (all analysed cases), before (top) and after (bottom) ComBat "
        "harmonization fitted on the training cohort."
    )
    return {"harmonization": fig}


def harmonization_methods(study: Any) -> dict[str, list[str]]:
    """The methods paragraph (empty without harmonization)."""
    combat = getattr(study, "harmonizer_", None)
    if combat is None:
        return {}
    h = study.config.harmonize
    train = study.data_[study.data_["cohort"] == study.config.train_cohort]
    batches = train[h.batch].astype(str).value_counts().sort_index()
    variant = ("parametric" if h.parametric else "non-parametric") + (
        " location-only" if combat.mean_only_ else "")
    if combat.reference_ is None:
        ref = "the pooled training data (grand mean and pooled variance of each feature)"
    else:
        ref = f"the training batch {combat.reference_!r}, left unchanged"
    new = sorted(set(study.data_[h.batch].astype(str)) - set(combat.batches_))
    text = [
        f"The {len(combat.feature_names_in_)} reproducible features were harmonized across "
        f"{h.batch} with ComBat ({variant} empirical Bayes; Johnson et al. 2007; Fortin et al. "
        f"2017, 2018), fitted on the {study.config.label(study.config.train_cohort)} cohort "
        "only (batches: " + ", ".join(f"{k}, n = {v}" for k, v in batches.items())
        + f") and mapped onto {ref}; outcomes are never used"
        + (f", and {', '.join(h.covariates)} were preserved as covariates" if h.covariates
           else "") + ".",
        "Cases of a training batch were adjusted with that batch's stored parameters; "
        + (f"the cases of each batch not seen in training ({', '.join(new)}) were "
           "standardized with the training reference, their batch location and scale "
           "estimated from that batch's own features within each cohort with the same "
           "empirical Bayes shrinkage, and mapped onto the training reference "
           "(the reference-batch formulation of sva::ComBat)." if new else
           "no cohort contained a batch not seen in training."),
        "The harmonization precedes the standardization and LASSO of each radiomics score; "
        "the ICC filter was computed on the features as measured.",
    ]
    return {"Harmonization (ComBat)": text}


def harmonization_report_section(study: Any) -> dict[str, Any] | None:
    """The report section: batch effect before/after (a summary table) and the figure."""
    t = study.results_["tables"]
    if "batch_effect" not in t:
        return None
    d = t["batch_effect"]
    rows = []
    for (cohort, stage), g in d.groupby(["cohort", "stage"], sort=False):
        rows.append({
            "Cohort": cohort, "Stage": stage, "Features": len(g),
            "Median share of variance explained by batch": f"{np.nanmedian(g['eta_squared']):.3f}",
            "Features with Kruskal-Wallis p < 0.05": int((g["p_value"] < 0.05).sum()),
        })
    view = pd.DataFrame(rows)
    note = ("Share of variance explained by batch: the one-way ANOVA eta squared of each "
            "feature on the batch; Kruskal-Wallis test per feature (tables/batch_effect.csv "
            "gives every feature).")
    section: dict[str, Any] = {
        "title": "Harmonization (ComBat)",
        "tables": {"Batch effect before and after harmonization": (view, note)},
    }
    fig = study.results_["figures"].get("harmonization")
    if fig is not None:
        section["figures"] = {fig.get_label(): fig}
    return section


def harmonize_for_prediction(model: Any, features: pd.DataFrame, table: pd.DataFrame):
    """The features of new patients harmonized by a saved model (``predict``)."""
    combat = getattr(model, "harmonizer", None)
    if combat is None:
        return features
    column = model.settings["harmonize_batch"]
    batch = _batch_column(table, column, "the prediction data (clinical table or manifest)")
    cov = _covariates(table, list(combat.covariate_names_), "the prediction data")
    cols = list(combat.feature_names_in_)
    missing = [c for c in cols if c not in features.columns]
    if missing:
        raise InputError(
            f"features lack {len(missing)} column(s) the harmonization uses: {format_items(missing)}"
        )
    out = features.copy()
    out[cols] = combat.transform(features[cols], batch.loc[features.index],
                                 None if cov is None else cov.loc[features.index]).to_numpy()
    return out
