"""The study's use of several ring widths (:mod:`radiomics_aln.ring_widths`): private glue.

Called from :mod:`radiomics_aln.study` (which ROIs to extract, the choice on training rows, the
evaluation tables) and :mod:`radiomics_aln.study_outputs` (the report section, methods text).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._validation import format_items
from radiomics_aln.exceptions import InputError
from radiomics_aln.features import roi_columns, roi_label
from radiomics_aln.ring_widths import inner_cv_ring_choice, ring_comparison


def analysis_rois(config: Any) -> list[str]:
    """The ROIs a study extracts and filters: ``rois`` with ``peritumoral`` replaced by the
    rings and shells of ``config.rings`` (``rois`` itself while they are off)."""
    rois, names = config.roi_list(), config.rings.rois()
    if not names:
        return rois
    i = rois.index("peritumoral")
    return rois[:i] + names + rois[i + 1 :]


def fit_study_rings(
    study: Any, X_train: pd.DataFrame, y_train: Any, *, say: Any = None
) -> list[str]:
    """Choose the ring on the training rows and fit every ring's score for the comparison.

    Sets ``study.ring_choice_`` (a :class:`RingWidthChoice`, None unless ``choose`` is
    ``"inner_cv"``) and ``study.ring_scores_`` (``{roi: RadScore}`` fitted on all training
    rows, empty while rings are off); returns the ROIs with a score in the models: ``rois``
    with ``peritumoral`` replaced by the chosen ROI (or by every ring for ``choose="all"``).
    ``X_train`` holds the training rows' reproducible features only; ``say`` reports progress.
    """
    from radiomics_aln.score import RadScore

    cfg = study.config
    rois, names = cfg.roi_list(), cfg.rings.rois()
    study.ring_choice_, study.ring_scores_ = None, {}
    if not names:
        return rois
    empty = [r for r in names if not roi_columns(X_train.columns, r)]
    if empty:
        raise InputError(
            f"no feature of {format_items(empty)} passed the ICC filter (threshold "
            f"{cfg.icc.threshold}); remove them from rings or lower icc.threshold"
        )
    chosen = names
    if cfg.rings.choose == "inner_cv":
        if say is not None:
            say(f"Choosing the ring width: {cfg.rings.n_splits}-fold inner CV of the scores of "
                f"{', '.join(names)} on the training cohort")  # fmt: skip
        study.ring_choice_ = inner_cv_ring_choice(
            X_train, y_train, rois=names, score_params=cfg.score.params,
            n_splits=cfg.rings.n_splits, random_state=cfg.random_state,
        )  # fmt: skip
        chosen = [study.ring_choice_.chosen]
    for roi in names:
        cols = roi_columns(X_train.columns, roi)
        sc = RadScore(name=f"{roi}_score", random_state=cfg.random_state, **cfg.score.params)
        with warnings.catch_warnings():  # a constant score is shown by its AUC of 0.5
            warnings.filterwarnings("ignore", message="the LASSO kept no feature")
            study.ring_scores_[roi] = sc.fit(X_train[cols], y_train)
    i = rois.index("peritumoral")
    return rois[:i] + chosen + rois[i + 1 :]


def study_tables(study: Any) -> dict[str, pd.DataFrame]:
    """The ring-width tables of an evaluated study (empty while rings are off).

    ``ring_widths_auc`` (each ROI's score AUC per cohort with its DeLong CI),
    ``ring_widths_delong`` (paired DeLong, the chosen ROI vs each other; every pair for
    ``choose="all"``; adjusted within each cohort) and ``ring_widths_cv`` (the inner-CV table
    on the training cohort, with ``choose="inner_cv"``). Applies the fitted scores only.
    """
    if not getattr(study, "ring_scores_", None):
        return {}
    cfg = study.config
    d = study.data_
    cohorts = {}
    for c in study.cohorts_:
        rows = d.index[d["cohort"] == c]
        y = d.loc[rows, cfg.outcome].astype(int).to_numpy()
        models = {
            roi: np.asarray(sc.transform(study.features_.loc[rows, sc.feature_names_in_]),
                            dtype=float).ravel()
            for roi, sc in study.ring_scores_.items()
        }  # fmt: skip
        cohorts[cfg.label(c)] = (y, models)
    choice = study.ring_choice_
    auc, delong = ring_comparison(
        cohorts, reference=None if choice is None else choice.chosen, p_adjust=cfg.rings.p_adjust
    )
    auc.insert(2, "label", [roi_label(r) for r in auc["roi"]])
    out = {"ring_widths_auc": auc, "ring_widths_delong": delong}
    if choice is not None:
        out["ring_widths_cv"] = choice.summary
    return out


#: The report section's title.
REPORT_TITLE = "Peritumoral ring width"


def report_section(study: Any) -> dict[str, Any]:
    """The report section of the ring widths: the inner-CV table, the AUCs, the DeLong tests."""
    from radiomics_aln import _report_tables as views
    from radiomics_aln.formatting import format_estimate_ci, format_number

    t = study.results_["tables"]
    cfg = study.config
    if "ring_widths_auc" not in t:
        return {"title": REPORT_TITLE}
    tables: dict[str, Any] = {}
    choice = getattr(study, "ring_choice_", None)
    if "ring_widths_cv" in t:
        cv = t["ring_widths_cv"]
        view = pd.DataFrame({
            "ROI": cv["label"] + np.where(cv["chosen"], " (chosen)", ""),
            "Inner-CV AUC, mean (SD)": [f"{format_number(m, 3)} ({format_number(s, 3)})"
                                       for m, s in zip(cv["estimate"], cv["sd"], strict=True)],
            "Folds with a constant score": cv["n_constant"].astype(str),
        })  # fmt: skip
        note = (
            f"Training cohort only: stratified {cfg.rings.n_splits}-fold inner cross-validation "
            "(seeded), the whole score fit (standardisation, redundancy removal, LASSO with its "
            "own CV) refitted in each fold, the same folds for every ROI. Chosen: the highest "
            "mean AUC (ties: the first listed)."
        )
        tables["Choice of the width on the training cohort (inner cross-validation)"] = (
            view, note)  # fmt: skip
    auc = t["ring_widths_auc"]
    cells = {
        (r.label, r.cohort): format_estimate_ci(r.estimate, r.ci_low, r.ci_high, decimals=3)
        for r in auc.itertuples()
    }
    order = list(dict.fromkeys(auc["label"]))
    cohorts = list(dict.fromkeys(auc["cohort"]))
    view = pd.DataFrame(
        {c: [cells[(lab, c)] for lab in order] for c in cohorts}, index=pd.Index(order)
    ).rename_axis("ROI score").reset_index()
    tables["AUC (95% CI, DeLong) of each ring's and shell's score"] = (
        view, "Each score fitted on the training cohort (LASSO); AUC with its DeLong 95% CI.")
    dl = t["ring_widths_delong"].copy()
    for col in ("model_1", "model_2"):
        dl[col] = [roi_label(r) for r in dl[col]]
    family = (
        "the chosen ROI against each other ROI" if choice is not None else "every pair of ROIs"
    )
    n = len(dl) // max(len(cohorts), 1)
    tables["Paired DeLong tests between the widths"] = views.delong_view(
        dl, method=cfg.rings.p_adjust, family=f"{family} ({n} tests)"
    )
    text = (
        f"Chosen: {roi_label(choice.chosen)}; its score is the peritumoral score of the models."
        if choice is not None else "Every ring's and shell's score was offered to the models."
    )
    return {"title": REPORT_TITLE, "text": text, "tables": tables}


def methods_text(study: Any) -> list[str]:
    """The methods paragraph of the ring widths (empty while rings are off)."""
    cfg = study.config
    names = cfg.rings.rois()
    if not names:
        return []
    out = [
        "Peritumoral rings and shells of several widths ("
        + ", ".join(roi_label(r) for r in names)
        + ") were each a ROI of their own (a shell from a to b mm: the tissue farther than a mm "
        "and at most b mm from the tumour, by a Euclidean distance map in mm), with their own "
        "ICC filter result and LASSO score fitted on the training cohort."
    ]
    if cfg.rings.choose == "inner_cv":
        out.append(
            f"The width was chosen on the training cohort only, by stratified "
            f"{cfg.rings.n_splits}-fold inner cross-validation of each ROI's whole score fit "
            "(refitted in each fold, the same seeded folds for every ROI): the highest mean "
            "fold AUC. The chosen ROI's score is the peritumoral score offered to the "
            "univariate screen, the models and the nomogram; the saved model builds that ROI."
        )
    else:
        out.append("Every ring's and shell's score was offered to the screen and the models.")
    adj = {"holm": "Holm", "bonferroni": "Bonferroni"}.get(cfg.rings.p_adjust)
    out.append(
        "The widths' scores were compared on every cohort by their AUCs (DeLong 95% CI) and "
        "paired DeLong tests"
        + (f", {adj}-adjusted within each cohort." if adj else " (p-values unadjusted).")
    )
    return out
