"""Tables, figures, captions and methods text of an evaluated :class:`radiomics_aln.study.Study`.

Each function takes the fitted study (or the per-cohort arrays ``evaluate`` builds) and returns
plain DataFrames, matplotlib figures or text; nothing here fits anything.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln import _report_tables as views
from radiomics_aln import (
    _ring_study,
    _study_readers,
    calibration,
    decision,
    pipeline_validation,
    reclassification,
    study_figures,
)
from radiomics_aln._harmonize_study import harmonization_methods, harmonization_report_section
from radiomics_aln._perturbation_study import perturbation_icc_text
from radiomics_aln._version import __version__

__all__ = [
    "table1",
    "table2",
    "score_coefficients",
    "figures",
    "methods_text",
    "report_content",
    "report_tables",
    "scale_odds_ratios",
    "calibration_row",
    "calibration_tables",
    "decision_tables",
]
from radiomics_aln.config import StudyConfig
from radiomics_aln.exceptions import InputError, StatisticalWarning
from radiomics_aln.external_features import methods_sentences
from radiomics_aln.features import roi_columns, roi_label
from radiomics_aln.formatting import (
    format_estimate_ci,
    format_number,
    format_p_value,
    format_significant,
)
from radiomics_aln.model import (
    CLINICAL_MODEL,
    COMBINED_MODEL,
    RADIOMICS_MODEL,
    score_column,
)

# --------------------------------------------------------------------------- tables and figures


def table1(study) -> dict[str, pd.DataFrame]:
    """Table 1: baseline characteristics by cohort, and by outcome within each cohort.

    Rows are labelled from the data dictionary (``StudyConfig.variables``): "Age (years),
    mean (SD)", the outcome's levels "No" / "Yes", ...; the tidy numbers are ``table1_tidy``.
    """
    from radiomics_aln.tables import baseline_table, format_baseline_table

    cfg = study.config
    dd = cfg.data_dictionary()
    d = study.data_.copy()
    d["cohort"] = pd.Categorical(d["cohort"].map(cfg.label),
                                 categories=[cfg.label(c) for c in study.cohorts_])  # fmt: skip
    variables = [cfg.outcome, *cfg.clinical]
    categorical = [cfg.outcome] + [
        c for c in cfg.clinical if c in cfg.categorical or not pd.api.types.is_numeric_dtype(d[c])
    ]
    nonnormal = [c for c in cfg.nonnormal if c not in categorical]
    labels = {v: dd.axis_label(v) for v in variables}
    outcome_levels = [dd.level(cfg.outcome, v) for v in (0, 1)]

    def shown(tidy: pd.DataFrame) -> pd.DataFrame:
        levels = {}
        for v in categorical:
            present = list(tidy.loc[tidy["variable"] == v, "level"].dropna().unique())
            levels[v] = {lev: dd.level(v, lev, levels=present) for lev in present}
        return format_baseline_table(tidy, labels=labels, level_labels=levels)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        t1 = baseline_table(d, "cohort", variables, categorical=categorical, nonnormal=nonnormal)
        parts = []
        for c in study.cohorts_ if cfg.clinical else ():  # radiomics-only: no clinical rows
            sub = d[d["cohort"] == cfg.label(c)]
            if sub[cfg.outcome].nunique() < 2:
                continue
            # the groups are the outcome's level labels ("No" / "Yes")
            shown_y = sub[cfg.outcome].map(lambda v: dd.level(cfg.outcome, v))
            sub = sub.assign(**{cfg.outcome: shown_y})
            tb = baseline_table(
                sub,
                cfg.outcome,
                list(cfg.clinical),
                categorical=categorical[1:],
                nonnormal=nonnormal,
                order=outcome_levels,
            )
            f = shown(tb)
            f.columns = [f"{cfg.label(c)}: {col}" for col in f.columns]
            parts.append(f)
    by_outcome = pd.concat(parts, axis=1) if parts else pd.DataFrame()
    return {
        "table1": shown(t1),
        "table1_tidy": t1,
        "table1_by_outcome": by_outcome,
    }


def scale_odds_ratios(table: pd.DataFrame, per: Mapping[str, float]) -> pd.DataFrame:
    """Odds ratios of continuous predictors per ``per[predictor]`` units instead of per 1.

    Parameters
    ----------
    table : DataFrame
        A coefficient table with ``predictor``, ``level`` (missing for a continuous predictor),
        ``odds_ratio``, ``or_ci_low`` and ``or_ci_high`` (per 1 unit), e.g.
        :func:`radiomics_aln.univariate.univariate_logistic` or ``LogisticNomogram.summary``.
    per : mapping
        ``{predictor: k}``; predictors not listed (and categorical levels, and the intercept)
        keep ``k = 1``. The data dictionary's ``per`` gives them
        (:meth:`radiomics_aln.data_dictionary.DataDictionary.per`).

    Returns
    -------
    DataFrame
        A copy with ``odds_ratio``, ``or_ci_low`` and ``or_ci_high`` raised to the power ``k``
        (``exp(k beta)`` and ``exp(k x limit)``: the OR for a ``k``-unit difference, equal to
        refitting with the predictor divided by ``k``; the p-value does not change) and a
        column ``per`` (``k``). ``beta`` and ``se`` stay per 1 unit.

    Examples
    --------
    >>> t = pd.DataFrame({"predictor": ["age"], "level": [None], "odds_ratio": [1.05],
    ...                   "or_ci_low": [1.0], "or_ci_high": [1.1]})
    >>> scale_odds_ratios(t, {"age": 10})[["odds_ratio", "or_ci_high", "per"]].round(3)
       odds_ratio  or_ci_high  per
    0       1.629       2.594 10.0
    """
    out = table.copy()
    level = out["level"]
    continuous = (level.isna() | (level.astype(str) == "")) & (out["predictor"] != "(Intercept)")
    k = out["predictor"].map(lambda p: float(per.get(p, 1.0))).where(continuous, 1.0)
    for col in ("odds_ratio", "or_ci_low", "or_ci_high"):
        out[col] = out[col].astype(float) ** k.to_numpy(dtype=float)
    out["per"] = k.to_numpy(dtype=float)
    return out


def table2(study) -> pd.DataFrame:
    """Univariate ORs of every candidate and the ORs of both multivariable models.

    Tidy columns ``predictor``, ``level``, ``is_reference``, ``label`` (the row as a reader
    sees it: "Age, per 10 years", "Margin: irregular vs smooth"), ``per`` (the ORs of a
    continuous predictor are per this many units, the data dictionary's ``per``), then
    ``univariate_*``, ``clinical_*`` and ``multivariable_*`` (the clinical-radiomics model):
    ``or``, ``ci_low``, ``ci_high``, ``p``; and formatted columns for the paper. The reference
    level of a categorical predictor in a model reads "1.00 (ref)".
    """
    dd = study.config.data_dictionary()
    cols = ["predictor", "level", "odds_ratio", "or_ci_low", "or_ci_high", "p_value"]
    uni = study.univariate_
    per = {p: dd.per(p) for p in uni["predictor"].unique()}

    def renamed(df, prefix):
        df = scale_odds_ratios(df, per)[cols].rename(
            columns={
                "odds_ratio": f"{prefix}_or",
                "or_ci_low": f"{prefix}_ci_low",
                "or_ci_high": f"{prefix}_ci_high",
                "p_value": f"{prefix}_p",
            }
        )
        return df.assign(level=df["level"].astype(object).where(df["level"].notna(), ""))

    out = renamed(uni, "univariate")
    is_ref = uni["is_reference"].astype(bool).to_numpy()
    out.insert(2, "is_reference", is_ref)
    levels = {p: list(g.dropna()) for p, g in uni.groupby("predictor", sort=False)["level"]}
    out.insert(3, "label", [
        views.term_label(dd, p, lev if lev != "" else None, ref, levels[p] or None)
        for p, lev, ref in zip(out["predictor"], out["level"], uni["reference"], strict=True)
    ])  # fmt: skip
    out.insert(4, "per", scale_odds_ratios(uni, per)["per"].to_numpy())
    for prefix, model in (
        ("clinical", study.model_.clinical_model),
        ("multivariable", study.model_.combined_model),
    ):
        if model is None:  # radiomics-only: no clinical model, its columns stay empty
            out[[f"{prefix}_or", f"{prefix}_ci_low", f"{prefix}_ci_high", f"{prefix}_p"]] = np.nan
            continue
        out = out.merge(renamed(model.summary, prefix), on=["predictor", "level"], how="left")
        in_model = out["predictor"].isin(model.predictors_).to_numpy()
        out.loc[is_ref & in_model, f"{prefix}_or"] = 1.0

    def ci(o, lo, hi):
        return [
            "" if pd.isna(a)
            else (f"{a:.2f} (ref)" if pd.isna(b) else format_estimate_ci(a, b, c, 2))
            for a, b, c in zip(o, lo, hi, strict=True)
        ]

    for prefix, label in (
        ("univariate", "Univariate"),
        ("clinical", "Clinical model"),
        ("multivariable", "Multivariable"),
    ):
        out[f"{label} OR (95% CI)"] = ci(
            out[f"{prefix}_or"], out[f"{prefix}_ci_low"], out[f"{prefix}_ci_high"]
        )
        out[f"{label} p"] = [format_p_value(p) for p in out[f"{prefix}_p"]]
    return out


def score_coefficients(study) -> pd.DataFrame:
    """Non-zero coefficients of each score: z-scale, original units, training mean and sd."""
    rows = []
    for roi, sc in study.model_.scores.items():
        name = score_column(roi)
        rows.append(
            {
                "score": name,
                "feature": "(Intercept)",
                "coefficient": sc.intercept_,
                "coefficient_original": getattr(sc, "intercept_original_", np.nan),
                "mean": np.nan,
                "sd": np.nan,
            }
        )
        orig = getattr(sc, "coef_original_", None)
        for feat, value in sc.coef_[sc.coef_ != 0].items():
            rows.append(
                {
                    "score": name,
                    "feature": feat,
                    "coefficient": value,
                    "coefficient_original": np.nan if orig is None else orig[feat],
                    "mean": sc.mean_[feat] if hasattr(sc, "mean_") else np.nan,
                    "sd": sc.scale_[feat] if hasattr(sc, "scale_") else np.nan,
                }
            )
    return pd.DataFrame(rows)


def figures(
    study,
    arrays: Mapping[str, Any],
    labels: Mapping[str, str],
    tables: Mapping[str, Any],
    curves: Mapping[str, Any],
) -> dict[str, Any]:
    """Every figure of the report, captioned by its label: see
    :func:`radiomics_aln.study_figures.figures`.

    A panel that cannot be drawn shows why (and warns) instead of stopping the report.
    """
    return study_figures.figures(study, arrays, labels, tables, curves)


def methods_text(study) -> dict[str, list[str]]:
    """Methods summary of a fitted study, generated from its settings and results (TRIPOD items).

    Returns ``{section title: [paragraph, ...]}``; lines starting ``formula:`` are equations.
    """
    return {
        "Participants and outcome (TRIPOD 4-6, 13)": _participants_text(study),
        "Regions of interest and features (TRIPOD 7a)": _features_text(study),
        "Reproducibility (ICC)": perturbation_icc_text(study, _icc_text(study)),
        "Radiomics scores (TRIPOD 10a-b)": _scores_text(study),
        "Clinical and clinical-radiomics models (TRIPOD 10b, 15a)": _models_text(study),
        "Statistics": _statistics_text(study),
    } | ({_ring_study.REPORT_TITLE: _ring_study.methods_text(study)} if study.config.rings.rois()
         else {}) | harmonization_methods(study) | _study_readers.methods(study)  # fmt: skip


def _participants_text(study) -> list[str]:
    cfg = study.config
    d = study.data_
    sizes = []
    for c in study.cohorts_:
        sub = d[d["cohort"] == c]
        ev = int(sub[cfg.outcome].sum())
        sizes.append(
            f"{cfg.label(c)}: n = {len(sub)}, {ev} with the outcome ({100 * ev / len(sub):.1f}%)"
        )
    out = [
        f"Endpoint: {cfg.data_dictionary().label(cfg.outcome)} (binary). Model development on the "
        f"{cfg.label(cfg.train_cohort)} cohort only; every other cohort is used for "
        "validation without refitting anything.",
        "; ".join(sizes) + ".",
    ]
    excluded = getattr(study, "excluded_", None)
    if excluded is not None and len(excluded):
        counts = excluded["cohort"].map(cfg.label).value_counts(sort=False)
        out.append(
            f"{len(excluded)} case(s) were excluded before any analysis ("
            + ", ".join(f"{k}: {v}" for k, v in counts.items())
            + "); the excluded-cases table gives each reason."
        )
    return out


def _roi_feature_counts(study) -> dict[str, int]:
    rois = _ring_study.analysis_rois(study.config)
    return {r: len(roi_columns(study.features_.columns, r)) for r in rois}


def _features_text(study) -> list[str]:
    cfg = study.config
    rois = _ring_study.analysis_rois(cfg)
    roi_desc = {
        "tumor": "the tumour mask (intratumoral)",
        "peritumoral": f"a {cfg.width_mm:g} mm peritumoral ring (distance map in mm, clipped "
        "to the image/field of view)",
        "tumor_peritumoral": f"tumour plus its {cfg.width_mm:g} mm ring",
        "ln": "the axillary lymph node on its own image",
    }
    n_feats = len(study.features_.columns)
    per_roi = _roi_feature_counts(study)
    params_name = cfg.params if isinstance(cfg.params, str) else "a custom settings dict"
    return [
        "ROIs: " + "; ".join(roi_desc.get(r) or roi_label(r).lower() for r in rois) + ".",
        f"PyRadiomics features with the `{params_name}` settings: {n_feats} features in total ("
        + ", ".join(f"{r}: {n}" for r, n in per_roi.items())
        + ").",
        *methods_sentences(getattr(study, "external_columns_", {}), cfg.external_features),
    ]


def _icc_text(study) -> list[str]:
    cfg = study.config
    if study.icc_filter_ is None:
        return ["No ICC filter was applied (no repeat segmentations)."]
    per_roi = _roi_feature_counts(study)
    icc = study.icc_filter_.icc_
    n_total = len(study.icc_filter_.feature_names_in_)
    n_kept = len(study.icc_filter_.selected_features_)
    reps = ", ".join(f"{k}: {v} cases" for k, v in study.icc_repeat_cases_.items())
    per = []
    for r in _ring_study.analysis_rois(cfg):
        kept_r = len(roi_columns(study.icc_filter_.selected_features_, r))
        per.append(f"{r}: {kept_r}/{per_roi[r]}")
    return [
        f"{cfg.icc.form} (two-way random, absolute agreement, single rater) on the "
        f"re-segmented training cases ({reps}); a feature was kept when its "
        f"{'ICC' if cfg.icc.compare == 'estimate' else 'lower 95% bound of the ICC'} was >= "
        f"{cfg.icc.threshold:g} in every comparison "
        f"({', '.join(study.icc_filter_.comparisons_)}).",
        f"Kept {n_kept} of {n_total} features, dropped {n_total - n_kept} ("
        + ", ".join(per)
        + f"). {int(icc['passed'].sum())} of {len(icc)} feature x comparison ICCs passed.",
    ]


def _scores_text(study) -> list[str]:
    cfg = study.config
    dd = cfg.data_dictionary()
    formulas = []
    for roi, sc in study.model_.scores.items():
        formula = getattr(sc, "formula_", None)
        nz = int((sc.coef_ != 0).sum())
        lam = getattr(sc, "lambda_", float("nan"))
        label = dd.label(score_column(roi))
        formulas.append(
            f"{label}: {nz} feature{'s' if nz != 1 else ''} with non-zero LASSO coefficients "
            f"(lambda = {format_significant(lam)})."
        )
        if formula:
            # the z-score form; means, sds and original-unit coefficients are in the
            # score coefficient table
            first = formula.splitlines()[0]
            lhs, sep, rhs = first.partition(" = ")
            formulas.append(f"formula: {label if sep else ''}{sep}{rhs if sep else first}")
    return [
        "One LASSO logistic score per ROI fitted on the training cohort: z-scores with "
        "training means and SDs, redundancy removal, L1-penalised logistic regression with "
        "lambda chosen by cross-validation (settings: "
        + (json.dumps(cfg.score.params) if cfg.score.params else "RadScore defaults")
        + f", seed {cfg.random_state}).",
        *formulas,
        "z(x) = (x - training mean) / training SD; the means, SDs and the coefficients in "
        "original feature units are listed in the score coefficient table.",
    ]


def _models_text(study) -> list[str]:
    cfg = study.config
    dd = cfg.data_dictionary()
    comb = study.model_.combined_model
    clin = study.model_.clinical_model
    if clin is None:
        return _radiomics_model_text(study)

    def names(columns):
        return ", ".join(dd.label(c) for c in columns) or "none"

    return [
        f"Univariate logistic screen of {len(cfg.clinical)} clinical-ultrasound candidates "
        f"({names(cfg.clinical)}) and the scores; predictors with p < "
        f"{cfg.nomogram.screen_p:g} entered the multivariable models "
        f"(clinical: {names(study.screened_['clinical'])}; scores: "
        f"{names(study.screened_['scores'])}).",
        (
            "Logistic models were fitted by Firth's penalised likelihood (Firth 1993; "
            "Heinze & Schemper 2002), with penalised likelihood-ratio tests and profile "
            "penalised-likelihood intervals, as logistf reports them."
            if cfg.nomogram.penalty == "firth"
            else "Logistic models were fitted by maximum likelihood (Wald tests and intervals)."
        ),
        "Both models were reduced by backward stepwise elimination "
        + (
            f"(Wald p > {cfg.nomogram.p_remove:g} removed, refitting after each removal)."
            if cfg.nomogram.criterion == "p"
            else "(AIC)."
        ),
        f"formula: clinical model logit(p) = {_equation(clin, dd)}",
        f"formula: clinical-radiomics model logit(p) = {_equation(comb, dd)}",
        "In these formulas a continuous predictor enters per 1 unit and [X = level] is 1 for "
        "that level and 0 otherwise.",
        f"Youden cutoff of the clinical-radiomics model on the training cohort: "
        f"p \u2265 {format_number(comb.youden_cutoff_, 3)} (Nomo-score \u2265 "
        f"{format_number(comb.youden_points_cutoff_, 1)} points; sensitivity "
        f"{format_number(comb.youden_sensitivity_, 3)}, specificity "
        f"{format_number(comb.youden_specificity_, 3)}). The same cutoff (and the Youden cutoff "
        "of every other model, also derived on the training cohort) is applied to every "
        "cohort.",
        *study.notes_,
    ]


def _statistics_text(study) -> list[str]:
    cfg = study.config
    nomo = cfg.nomogram
    adjust = (
        f"p-values of the DeLong tests are adjusted by {views.P_ADJUST_NAMES[nomo.p_adjust]}'s "
        "method (R p.adjust) within each cohort, the family being the comparisons of the "
        "clinical-radiomics model with each other model (Table 3) or every pair (appendix)."
        if nomo.p_adjust in views.P_ADJUST_NAMES
        else "DeLong p-values are not adjusted for multiple comparisons."
    )
    return [
        "Table 1: t-test/ANOVA, Mann-Whitney/Kruskal-Wallis, chi-square or Fisher's exact "
        "test (as R t.test(var.equal=TRUE), oneway.test, wilcox.test, kruskal.test, "
        "chisq.test(correct=FALSE), fisher.test).",
        "Table 2: odds ratios with 95% CIs; a continuous predictor's odds ratio is per the "
        "number of units named in its row (the data dictionary's 'per', e.g. per 10 years: "
        "exp(10 x coefficient)); a categorical predictor's compares each level with the "
        "reference level.",
        "Table 3: AUC with "
        + ("DeLong" if nomo.ci == "delong" else "stratified bootstrap percentile")
        + " 95% CI (pROC); accuracy, sensitivity, specificity, PPV and NPV with Wilson score "
        "95% CIs (no continuity correction) at each model's Youden cutoff derived on the "
        "training cohort and applied unchanged to every cohort. Paired DeLong tests compare "
        "the clinical-radiomics model with each other model in each cohort (pROC roc.test); "
        "every pair is in the appendix. " + adjust,
        f"Hosmer-Lemeshow test with {nomo.hl_groups} requested groups "
        f"(ResourceSelection::hoslem.test grouping; df = groups requested - 2 = "
        f"{nomo.hl_groups - 2}); fewer groups form when predictions tie, as the table's note "
        "says. Calibration intercept and slope and the Brier score as rms val.prob.",
        "Decision curves (Vickers & Elkin 2006) and clinical impact curves; NRI and IDI "
        "(Pencina 2008; Hmisc::improveProb).",
        "p-values are given to three significant digits, '< 0.001' below 0.001; all tests are "
        "two-sided.",
        *_bootstrap_text(study),
        *pipeline_validation.methods_paragraphs(study),
        f"radiomics_aln {__version__}.",
    ]


def _bootstrap_text(study) -> list[str]:
    n_boot = int(study.config.nomogram.n_boot)
    if n_boot <= 0:
        return []
    text = (
        f"Internal validation of the clinical-radiomics model: Harrell's bootstrap with {n_boot} "
        "resamples of the training cohort (rms validate/calibrate), repeating the backward "
        "elimination in every resample; the radiomics scores were held fixed, so the "
        "optimism of the LASSO step is not included."
    )
    summary = (study.results_ or {}).get("summary", {})
    if "optimism_corrected_auc" in summary:
        text += (
            f" Optimism-corrected C-index {summary['optimism_corrected_auc']:.3f}, "
            f"calibration slope {summary['optimism_corrected_slope']:.3f}."
        )
    return [text]


def _points_text(study) -> str:
    comb = study.model_.combined_model
    pts = getattr(comb, "youden_points_cutoff_", None)
    return "" if pts is None else f"Nomo-score \u2265 {format_number(pts, 1)} points"


def report_tables(study) -> list[dict[str, Any]]:
    """The table sections of the report: each table as text with readable headers and a note.

    Returns report sections (``title``, ``text``, ``tables``) whose tables are
    ``{caption: (DataFrame of strings, note)}``; figures are added by :func:`report_content`.
    """
    cfg = study.config
    dd = cfg.data_dictionary()
    nomo = cfg.nomogram
    t = study.results_["tables"]
    summary = study.results_.get("summary", {})
    comb, clin = study.model_.combined_model, study.model_.clinical_model
    outcome = dd.label(cfg.outcome)
    labels = {c: cfg.label(c) for c in study.cohorts_}
    primary = f"the {study.model_.combined_name.lower()} against each other model"
    note1 = views.baseline_note()
    sections: list[dict[str, Any]] = [
        {"title": "Table 1. Baseline characteristics",
         "tables": {"By cohort": (t["table1"], note1),
                    f"By {outcome} within each cohort": (t["table1_by_outcome"], note1)}},
        {"title": "Excluded cases",
         "text": "Cases left out of every analysis (failed feature extraction of a test "
                 "case, or the same image as another case with a different outcome).",
         "tables": {"Excluded cases and why": views.excluded_view(t["excluded_cases"], labels)}
         if len(t.get("excluded_cases", ())) else {}},
        {"title": "Table 2. Univariate and multivariable logistic regression (training)",
         "tables": {"Odds ratios": _odds_ratio_view(t["table2"], nomo.penalty, clin)}},
        {"title": "Table 3. Performance (cutoffs from the training cohort)",
         "tables": {
             "AUC, ACC, SEN, SPE, PPV, NPV with 95% CIs at the training cutoff":
                 views.performance_view(t["table3"], summary.get("performance_note", ""),
                                        study.model_.combined_name, _points_text(study)),
             f"DeLong comparisons: {study.model_.combined_name.lower()} vs each other model":
                 views.delong_view(t["delong"], method=nomo.p_adjust,
                                   family=f"{primary} ({_family_size(t['delong'])})")}},
        {"title": "Calibration",
         "tables": {"Hosmer-Lemeshow": views.hosmer_lemeshow_view(t["hosmer_lemeshow"],
                                                                   nomo.hl_groups),
                    "Calibration intercept, slope, Brier score":
                        views.calibration_view(t["calibration"])}
         | ({"Bootstrap internal validation (training cohort)":
             views.bootstrap_view(t["bootstrap_validation"])}
            if "bootstrap_validation" in t else {})},
        {"title": "Internal validation of the whole pipeline",
         "tables": {"Optimism of the whole pipeline (training cohort)":
                        pipeline_validation.report_view(study)}
         if getattr(study, "pipeline_validation_", None) is not None else {}},
        {"title": "Nomogram",
         "tables": {f"{study.model_.combined_name} (nomogram)":
                        views.model_summary_view(comb, dd, nomo.penalty),
                    **({"Clinical model": views.model_summary_view(clin, dd, nomo.penalty)}
                       if clin is not None else {}),
                    "Backward elimination steps":
                        views.elimination_view(t["elimination_steps"], dd, nomo.penalty)}},
        {"title": "NRI and IDI (clinical-radiomics vs clinical model)",
         "tables": {"Reclassification": views.nri_idi_view(t["nri_idi"], COMBINED_MODEL,
                                                           CLINICAL_MODEL)}
         if clin is not None else {}},
        {"title": "Risk groups",
         "tables": {"Outcome by risk group": views.risk_group_view(t["risk_groups"],
                                                                    _points_text(study))}},
        {"title": "Radiomics scores: LASSO path and cross-validation",
         "tables": {"Non-zero coefficients":
                        views.score_coefficient_view(t["score_coefficients"], dd)}},
        {"title": "Appendix. DeLong comparisons of every pair of models",
         "tables": {"Every pair of models, within each cohort":
                        views.delong_view(t["delong_all"], method=nomo.p_adjust,
                                          family=f"every pair of models "
                                                 f"({_family_size(t['delong_all'])})")}},
        _ring_study.report_section(study),
    ]  # fmt: skip
    return sections


def _odds_ratio_view(table2: pd.DataFrame, penalty: Any, clinical_model: Any) -> Any:
    """Table 2's view; a radiomics-only study has no clinical-model columns."""
    view = views.odds_ratio_view(table2, penalty)
    if clinical_model is not None:
        return view
    frame, note = view if isinstance(view, tuple) else (view, None)
    frame = frame[[c for c in frame.columns if not str(c).startswith("Clinical model")]]
    return (frame, note) if isinstance(view, tuple) else frame


def _family_size(tab: pd.DataFrame) -> str:
    sizes = sorted(set(tab.groupby("cohort", sort=False).size()))
    return f"{'/'.join(str(n) for n in sizes)} comparisons per cohort"


def report_content(study) -> dict[str, Any]:
    """Content for :func:`radiomics_aln.report.report` (title, methods, sections).

    Tables arrive as text with readable headers, each with its note: ``{caption:
    (DataFrame, note)}`` (see :func:`report_tables`); the tidy tables stay in
    ``study.results_["tables"]`` and the CSV files.
    """
    if not study.results_:
        raise InputError("the study is not evaluated yet; call fit() and evaluate() first")
    cfg = study.config
    f = study.results_["figures"]
    labels = [cfg.label(c) for c in study.cohorts_]

    keys = sorted((k for k in f if _figure_place(k) is not None), key=_figure_place)
    captions = study_figures.numbered((k, _caption(k, f[k], cfg)) for k in keys)

    def fig_items(*places):
        return {captions[k]: f[k] for k in keys if _FIGURE_ORDER[_figure_place(k)] in places}

    tables = {s["title"]: s for s in report_tables(study)}
    if (readers := _study_readers.study_section(study)) is not None:
        tables[_study_readers.SECTION] = readers
    figures = {
        "ROC curves": fig_items("roc_"),
        "Calibration": fig_items("calibration"),
        "Nomogram": fig_items("nomogram"),
        "Decision and clinical impact curves": fig_items("decision", "clinical_impact"),
        "Risk groups": fig_items("risk_groups"),
        "Feature reproducibility (ICC)": fig_items("icc"),
        "Radiomics scores: LASSO path and cross-validation": fig_items("lasso_"),
        _study_readers.SECTION: fig_items("readers_"),
        "Internal validation of the whole pipeline": fig_items("selection_frequency"),
        "Appendix. Decision and clinical impact curves at every threshold":
            fig_items("decision_full", "clinical_impact_full"),
    }
    order = [
        "Table 1. Baseline characteristics", "Excluded cases",
        "Table 2. Univariate and multivariable logistic regression (training)",
        "Table 3. Performance (cutoffs from the training cohort)", "ROC curves", "Calibration",
        "Nomogram", "Decision and clinical impact curves",
        "NRI and IDI (clinical-radiomics vs clinical model)", "Risk groups",
        "Feature reproducibility (ICC)", "Radiomics scores: LASSO path and cross-validation",
        "Internal validation of the whole pipeline", _ring_study.REPORT_TITLE,
        _study_readers.SECTION,
        "Appendix. DeLong comparisons of every pair of models",
        "Appendix. Decision and clinical impact curves at every threshold",
    ]  # fmt: skip
    sections = []
    for title in order:
        sec = dict(tables.get(title, {"title": title}))
        if figures.get(title):
            sec["figures"] = figures[title]
        if sec.get("figures") or sec.get("tables"):
            sections.append(sec)
    harmonization = harmonization_report_section(study)  # before the appendices
    if harmonization is not None:
        at = next((i for i, s in enumerate(sections) if s["title"].startswith("Appendix")),
                  len(sections))
        sections.insert(at, harmonization)
    outcome = cfg.data_dictionary().label(cfg.outcome)
    return {
        "title": cfg.title,
        "subtitle": f"Cohorts: {', '.join(labels)}; endpoint: {outcome}",
        "methods": study.methods_text(),
        "sections": sections,
    }


# figure keys in the report's order (a key ending "_" stands for every key it starts)
_FIGURE_ORDER = ("roc_", "calibration", "nomogram", "decision", "clinical_impact",
                 "risk_groups", "icc", "lasso_", "selection_frequency", "readers_",
                 "decision_full",
                 "clinical_impact_full")  # fmt: skip


def _figure_place(key: str) -> int | None:
    """Position of a figure key in :data:`_FIGURE_ORDER` (None: not in the report)."""
    if key in _FIGURE_ORDER:
        return _FIGURE_ORDER.index(key)
    for i, k in enumerate(_FIGURE_ORDER):
        if k.endswith("_") and key.startswith(k):
            return i
    return None


def _caption(key: str, fig: Any, cfg: StudyConfig) -> str:
    """The caption of a report figure: its label (written where it was drawn), else a title
    made from its key."""
    label = fig.get_label() if hasattr(fig, "get_label") else ""
    if label:
        return label
    for prefix, what in (("roc_", "ROC curves"), ("lasso_", "LASSO")):
        if key.startswith(prefix):
            return f"{what} - {cfg.label(key[len(prefix) :])}"
    return key.replace("_", " ").capitalize() + "."


def _equation(model: Any, dd: Any = None) -> str:
    names = views.column_labels(model, dd) if dd is not None else {}
    terms = [format_number(model.intercept_, 4)]
    for name, b in model.coef_.items():
        sign = "+" if b >= 0 else "-"
        terms.append(f"{sign} {format_number(abs(b), 4)} x {names.get(name, name)}")
    return " ".join(terms)


def _nomogram_key(models: Mapping[str, Any]) -> str:
    """The nomogram's model among a cohort's models: clinical-radiomics, or radiomics-only."""
    return COMBINED_MODEL if COMBINED_MODEL in models else RADIOMICS_MODEL


def _radiomics_model_text(study) -> list[str]:
    """Models paragraph of a radiomics-only study (no clinical candidates)."""
    cfg = study.config
    comb = study.model_.combined_model
    return [
        "Radiomics-only study: no clinical candidates were configured, so there is no clinical "
        "model and no reclassification (NRI/IDI) against one.",
        f"Univariate logistic screen of the scores; scores with p < {cfg.nomogram.screen_p:g} "
        f"entered the radiomics model ({', '.join(study.screened_['scores'])}).",
        "Logistic models were fitted by Firth's penalised likelihood (Firth 1993; Heinze & "
        "Schemper 2002)."
        if cfg.nomogram.penalty == "firth"
        else "Logistic models were fitted by maximum likelihood.",
        f"formula: radiomics model logit(p) = {_equation(comb)}",
        f"Youden cutoff of the radiomics model on the training cohort: p >= "
        f"{comb.youden_cutoff_:.4f} (Nomo-score >= {comb.youden_points_cutoff_:.1f} points). "
        "The same cutoff is applied to every cohort.",
        *study.notes_,
    ]


def _clip(p: Any) -> np.ndarray:
    """Probabilities of exactly 0 or 1 (separated models) kept inside the open interval."""
    eps = 1e-12
    return np.clip(np.asarray(p, dtype=float), eps, 1 - eps)


def _hl_fields(res: Any) -> dict[str, Any]:
    return {
        "statistic": float(res.statistic),
        "df": float(res.df),
        "p_value": float(res.p_value),
        "groups": int(res.n_groups),
        "note": res.note,
    }


def _hl_row(y, p, groups) -> dict[str, Any]:
    try:
        res = calibration.hosmer_lemeshow(y, _clip(p), n_groups=groups)
    except InputError as exc:  # e.g. a model with two distinct predictions in a small cohort
        return {
            "statistic": np.nan,
            "df": np.nan,
            "p_value": np.nan,
            "groups": np.nan,
            "note": str(exc),
        }
    return _hl_fields(res)


def _calibration_fields(stats: pd.Series) -> dict[str, Any]:
    keep = ("intercept", "slope", "brier", "c_index", "dxy", "r2")
    return {k: float(stats[k]) for k in keep if k in stats.index}


def calibration_row(y, p) -> dict[str, Any]:
    try:
        res = calibration.val_prob(y, p)
    except InputError as exc:
        return {"note": str(exc)}
    return _calibration_fields(res)


def _nri_idi_rows(cohort, y, probs) -> list[dict[str, Any]]:
    rows = []
    old, new = probs[CLINICAL_MODEL], probs[_nomogram_key(probs)]
    n = reclassification.nri(y, old, new)
    for _, r in n.iterrows():
        rows.append({"cohort": cohort} | {k: r[k] for k in n.columns})
    i = reclassification.idi(y, old, new)
    for _, r in i.iterrows():
        rows.append({"cohort": cohort} | {k: r[k] for k in i.columns})
    return rows


# --------------------------------------------------------------------------- evaluation tables


def calibration_tables(
    arrays: Mapping[str, Any], labels: Mapping[str, str], n_groups: int
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Hosmer-Lemeshow and calibration (val.prob) tables of every cohort, and their curves.

    One calibration curve per cohort for the combined model: its Hosmer-Lemeshow test and
    val.prob statistics fill the tables and the same object draws the figure, so nothing is
    computed (or warned about) twice. A curve that cannot be computed is kept as its exception
    (the figure panel then says why).
    """
    curves: dict[str, Any] = {}
    hl_rows, cal_rows = [], []
    for c, a in arrays.items():
        nomo = _nomogram_key(a["models"])
        p = _clip(a["models"][nomo])
        try:
            curves[c] = calibration.calibration_curve(a["y"], p, n_groups=n_groups)
        except InputError as exc:
            curves[c] = exc
        cc = curves[c]
        if CLINICAL_MODEL in a["models"]:
            hl_rows.append(
                {"cohort": labels[c], "model": CLINICAL_MODEL}
                | _hl_row(a["y"], a["models"][CLINICAL_MODEL], n_groups)
            )
        if isinstance(cc, calibration.CalibrationCurve) and cc.hosmer_lemeshow is not None:
            hl = _hl_fields(cc.hosmer_lemeshow)
        else:  # the test's own message says why it cannot be computed
            hl = _hl_row(a["y"], p, n_groups)
        hl_rows.append({"cohort": labels[c], "model": nomo} | hl)
        raw = np.asarray(a["models"][nomo], dtype=float)
        exact = bool(np.any((raw == 0) | (raw == 1)))
        if isinstance(cc, calibration.CalibrationCurve) and not cc.stats.empty and not exact:
            cal = _calibration_fields(cc.stats)
        else:  # val.prob drops predictions of exactly 0 or 1 (with a warning); never clip
            cal = calibration_row(a["y"], raw)
        cal_rows.append({"cohort": labels[c], "model": nomo} | cal)
    return pd.DataFrame(hl_rows), pd.DataFrame(cal_rows), curves


def decision_tables(
    arrays: Mapping[str, Any], labels: Mapping[str, str], thresholds: np.ndarray, cutoff: float
) -> dict[str, pd.DataFrame]:
    """Decision curves, clinical impact, NRI/IDI and risk groups of every cohort."""
    dca_parts, cic_parts, nri_rows = [], [], []
    for c, a in arrays.items():
        nomo = _nomogram_key(a["models"])
        probs = {m: a["models"][m] for m in (CLINICAL_MODEL, nomo) if m in a["models"]}
        d = decision.decision_curve(a["y"], probs, thresholds=thresholds)
        dca_parts.append(d.assign(cohort=labels[c]))
        ci_tab = decision.clinical_impact(a["y"], probs[nomo], thresholds=thresholds)
        cic_parts.append(ci_tab.assign(cohort=labels[c]))
        if CLINICAL_MODEL in probs:  # radiomics-only: no model to reclassify against
            nri_rows.extend(_nri_idi_rows(labels[c], a["y"], probs))
    return {
        "decision_curves": pd.concat(dca_parts, ignore_index=True),
        "clinical_impact": pd.concat(cic_parts, ignore_index=True),
        "nri_idi": pd.DataFrame(nri_rows),
        "risk_groups": reclassification.risk_group_table(
            {labels[c]: (a["y"], a["models"][_nomogram_key(a["models"])])
             for c, a in arrays.items()},  # fmt: skip
            cutoff,
        ),
    }
