"""What the study report shows of each tidy table: readable headers, text cells and a note.

The tidy tables of ``Study.results_["tables"]`` keep their column names (they are the API and
the CSV files); the report shows these views instead: every number already formatted as text
(:mod:`radiomics_aln.formatting`: p-values ``< 0.001`` / three significant digits, fixed decimals
per kind of number, never an exponent), headers a reader understands ("95% CI", not
``ci_low``) and predictors by their label from the data dictionary. Each view returns
``(DataFrame, note)``; the note says what the intervals are, what the abbreviations stand for
and anything a reader could misread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln.data_dictionary import DataDictionary
from radiomics_aln.design import Term
from radiomics_aln.formatting import (
    format_estimate_ci,
    format_number,
    format_p_value,
    format_significant,
)

View = tuple[pd.DataFrame, str]

P_ADJUST_NAMES = {"holm": "Holm", "bonferroni": "Bonferroni"}


# --------------------------------------------------------------------------- labels


def term_label(
    dd: DataDictionary,
    predictor: str,
    level: Any = None,
    reference: Any = None,
    levels: Sequence[Any] | None = None,
) -> str:
    """A predictor (or one level of it) as a reader sees it.

    Continuous: "Age, per 10 years"; a level: "Margin: irregular vs smooth"; the reference
    level: "Margin: smooth (reference)"; the intercept: "Intercept". ``levels`` (all levels of
    the predictor) keeps a 1/2/3 coding from reading "Yes" (see ``DataDictionary.level``).
    """
    if predictor == "(Intercept)":
        return "Intercept"
    if level is None or (not isinstance(level, str) and pd.isna(level)) or level == "":
        return f"{dd.label(predictor)}, {dd.per_text(predictor)}"
    shown = dd.level(predictor, level, levels=levels)
    if reference is None or (not isinstance(reference, str) and pd.isna(reference)):
        return f"{dd.label(predictor)}: {shown}"
    if str(level) == str(reference):
        return f"{dd.label(predictor)}: {shown} (reference)"
    return f"{dd.label(predictor)}: {shown} vs {dd.level(predictor, reference, levels=levels)}"


def column_labels(model: Any, dd: DataDictionary) -> dict[str, str]:
    """Design column of a fitted model -> text: "Age (years)", "[Margin = irregular]"."""
    out = {}
    for spec in getattr(model, "terms_", {}).values():
        term = Term.from_dict(spec)
        if term.kind == "continuous":
            out[term.name] = dd.axis_label(term.name)
        else:
            for col, lev in zip(term.columns, term.levels[1:], strict=True):
                shown = dd.level(term.name, lev, levels=term.levels)
                out[col] = f"[{dd.label(term.name)} = {shown}]"
    return out


def _p(values: Sequence[Any]) -> list[str]:
    return [format_p_value(p) for p in values]


def _num(values: Sequence[Any], decimals: int) -> list[str]:
    return [format_number(v, decimals) for v in values]


def _ci(frame: pd.DataFrame, est: str, lo: str, hi: str, decimals: int) -> list[str]:
    return [
        format_estimate_ci(e, a, b, decimals)
        for e, a, b in zip(frame[est], frame[lo], frame[hi], strict=True)
    ]


def adjust_text(method: str | None, family: str) -> str:
    if method in P_ADJUST_NAMES:
        return (
            f"p (adj.): {P_ADJUST_NAMES[method]}-adjusted p-values (R p.adjust), one family per "
            f"cohort: {family}."
        )
    return "p-values are not adjusted for multiple comparisons."


# --------------------------------------------------------------------------- tables


def baseline_note() -> str:
    return (
        "Continuous variables: mean (SD), or median [IQR] for those declared non-normal; "
        "categorical variables: n (%) of patients with a value. p: the test named in the last "
        "column (Student t-test / one-way ANOVA, Mann-Whitney U / Kruskal-Wallis, Pearson "
        "chi-square or Fisher's exact test), two-sided."
    )


def odds_ratio_view(table2: pd.DataFrame, penalty: str | None) -> View:
    """Table 2 without its tidy columns; one row per predictor (level)."""
    keep = table2[~table2["is_reference"].astype(bool)]  # the level rows say "x vs ref"
    names = {"Univariate": "Univariate", "Clinical model": "Clinical model",
             "Multivariable": "Clinical-radiomics model"}  # fmt: skip
    out = pd.DataFrame({"Predictor": keep["label"].to_numpy()})
    for old, new in names.items():
        out[f"{new}: OR (95% CI)"] = keep[f"{old} OR (95% CI)"].to_numpy()
        out[f"{new}: p"] = keep[f"{old} p"].to_numpy()
    ci = (
        "profile penalised-likelihood 95% CI and penalised likelihood-ratio p (Firth)"
        if penalty == "firth"
        else "Wald 95% CI and Wald p"
    )
    note = (
        "OR, odds ratio, with its "
        + ci
        + ", from logistic regression on the training cohort. A categorical predictor's OR "
        "compares the level named with its reference level ('irregular vs smooth'); a "
        "continuous predictor's OR is per the number of units named in its row (e.g. per 10 "
        "years: the OR for a 10-year difference, exp(10 x coefficient)). Univariate: each "
        "candidate alone; the clinical and clinical-radiomics columns are the final models after "
        "backward elimination (empty: not in that model)."
    )
    return out, note


def model_summary_view(model: Any, dd: DataDictionary, penalty: str | None) -> View:
    """Coefficients of a fitted logistic model: beta, SE, z, p and the OR per its unit."""
    s = model.summary
    specs = getattr(model, "terms_", {})
    refs = {name: spec.get("reference") for name, spec in specs.items()}
    continuous = s["level"].isna().to_numpy() & (s["predictor"] != "(Intercept)").to_numpy()
    per = np.array([dd.per(p) if c else 1.0 for p, c in zip(s["predictor"], continuous,
                                                             strict=True)])  # fmt: skip
    intercept = (s["predictor"] == "(Intercept)").to_numpy()
    terms = []
    for p, lev, c in zip(s["predictor"], s["level"], continuous, strict=True):
        levels = specs.get(p, {}).get("levels")
        terms.append(dd.axis_label(p) if c else term_label(dd, p, lev, refs.get(p), levels))
    out = pd.DataFrame(
        {
            "Term": terms,
            "Coefficient (β)": _num(s["beta"], 3),
            "SE": _num(s["se"], 3),
            "z": _num(s["z"], 2),
            "p": _p(s["p_value"]),
            "OR (95% CI)": [
                "" if icpt else format_estimate_ci(o**k, lo**k, hi**k, 2)
                for o, lo, hi, k, icpt in zip(
                    s["odds_ratio"], s["or_ci_low"], s["or_ci_high"], per, intercept, strict=True
                )
            ],
            "OR per": [dd.per_text(p)[len("per "):] if c else ""
                       for p, c in zip(s["predictor"], continuous, strict=True)],  # fmt: skip
        }
    )
    inference = (
        "p: penalised likelihood-ratio test; CI: profile penalised likelihood (Firth, as "
        "logistf); SE and z are Wald's."
        if penalty == "firth"
        else "SE, z, p and the 95% CI are Wald's (as R's summary.glm and confint.default)."
    )
    note = (
        "β: coefficient on the log-odds scale per 1 unit of the predictor (as in the formula in "
        "the methods). OR: odds ratio of a continuous predictor per the units in 'OR per' "
        "(exp(10β) for 10 years), of a level against the reference level. "
        + inference
        + f" Fitted on {model.n_} training cases ({model.n_events_} events)."
    )
    return out, note


def performance_view(table3: pd.DataFrame, note: str, combined: str, points: str) -> View:
    """Table 3 as built by the study (already text) and its note."""
    note += (
        " The cutoff is a predicted probability for the clinical and clinical-radiomics models "
        "and a score value for a radiomics score."
    )
    if points:
        note += f" For the {combined.lower()} it is also given in nomogram points ({points})."
    return table3, note


def delong_view(delong: pd.DataFrame, *, method: str | None, family: str) -> View:
    """DeLong comparisons: AUCs, their difference with its 95% CI, z and p (adjusted)."""
    out = pd.DataFrame(
        {
            "Cohort": delong["cohort"].to_numpy(),
            "Comparison": [f"{a} vs {b}" for a, b in zip(delong["model_1"], delong["model_2"],
                                                          strict=True)],  # fmt: skip
            "AUCs": [f"{format_number(a, 3)} vs {format_number(b, 3)}"
                     for a, b in zip(delong["auc_1"], delong["auc_2"], strict=True)],  # fmt: skip
            "AUC difference (95% CI)": _ci(delong, "estimate", "ci_low", "ci_high", 3),
            "z": _num(delong["z"], 2),
            "p": _p(delong["p_value"]),
        }
    )
    if method in P_ADJUST_NAMES:
        out[f"p (adj., {P_ADJUST_NAMES[method]})"] = _p(delong["p_adjusted"])
    note = (
        "Paired DeLong tests of two AUCs on the same cases (pROC roc.test). "
        "AUC difference = first model minus second, with its 95% CI. "
        + adjust_text(method, family)
    )
    return out, note


def hosmer_lemeshow_view(hl: pd.DataFrame, requested: int) -> View:
    """Hosmer-Lemeshow tests: statistic, df, p and the groups formed of those requested."""
    formed = ["not computed" if pd.isna(g) else f"{int(g)} of {requested}" for g in hl["groups"]]
    out = pd.DataFrame(
        {
            "Cohort": hl["cohort"].to_numpy(),
            "Model": hl["model"].to_numpy(),
            "χ²": _num(hl["statistic"], 2),
            "df": _num(hl["df"], 0),
            "p": _p(hl["p_value"]),
            "Groups formed": formed,
        }
    )
    short = [r for r in hl.itertuples() if not pd.isna(r.groups) and int(r.groups) < requested]
    failed = [r for r in hl.itertuples() if pd.isna(r.groups)]
    parts = [
        f"Hosmer-Lemeshow goodness-of-fit test: the cases of each cohort are grouped by "
        f"{requested} quantiles of predicted probability (ResourceSelection::hoslem.test "
        f"grouping, {requested} groups requested) and observed and expected events are "
        f"compared; df = requested groups - 2 = {requested - 2}, as hoslem.test. A small p "
        "suggests miscalibration."
    ]
    if short:
        parts.append(
            "Fewer groups formed where predicted probabilities tie (equal quantiles merge "
            "groups): "
            + "; ".join(f"{r.cohort}, {r.model}: {int(r.groups)} groups" for r in short)
            + "; df still counts the requested groups."
        )
    else:
        parts.append(f"All {requested} groups formed in every cohort.")
    if failed:
        # the first clause of each reason ("only 2 group(s) could be formed from 2 distinct
        # predicted probabilities"); the rule it breaks is said once
        parts.append(
            "Not computed (at least 3 groups are needed, df = groups - 2): "
            + "; ".join(f"{r.cohort}, {r.model}: {str(r.note).split(';')[0]}" for r in failed)
            + "."
        )
    return out, " ".join(parts)


_CALIBRATION_SHOWN = {
    "intercept": ("Calibration intercept", 3),
    "slope": ("Calibration slope", 3),
    "brier": ("Brier score", 3),
    "c_index": ("C-index (AUC)", 3),
}


def calibration_view(cal: pd.DataFrame) -> View:
    """val.prob statistics a reader can interpret; R² and Dxy stay in the CSV (see note)."""
    out = pd.DataFrame({"Cohort": cal["cohort"].to_numpy(), "Model": cal["model"].to_numpy()})
    for col, (label, decimals) in _CALIBRATION_SHOWN.items():
        if col in cal.columns:
            out[label] = _num(cal[col], decimals)
    if "note" in cal.columns and cal["note"].notna().any():
        out["Not computed because"] = cal["note"].fillna("").to_numpy()
    note = (
        "Logistic recalibration logit P(event) = a + b logit(p) in each cohort (rms val.prob): "
        "calibration intercept a (ideal 0; > 0: risks underestimated) and slope b (ideal 1; < 1: "
        "predictions too extreme). On the training cohort a = 0 and b = 1 by construction. "
        "Brier score: mean squared difference between predicted probability and outcome (lower "
        "is better). The CSV (calibration.csv) also holds Somers' Dxy (= 2 x (C - 0.5)) and "
        "val.prob's Nagelkerke R² of the predictions as they are; that R² is not shown here "
        "because on a validation cohort it is negative whenever the predictions fit worse than "
        "the cohort's own event rate (large negative values mean miscalibration, not an error)."
    )
    return out, note


_BOOTSTRAP_NAMES = {
    "dxy": "Somers' Dxy",
    "auc": "C-index (AUC)",
    "r2": "Nagelkerke R²",
    "intercept": "Calibration intercept",
    "slope": "Calibration slope",
    "emax": "Emax (maximal calibration error)",
    "d": "Discrimination index D",
    "u": "Unreliability index U",
    "q": "Quality index Q",
    "brier": "Brier score",
    "g": "g-index (log-odds)",
    "gp": "gp-index (probability)",
}


def bootstrap_view(val: pd.DataFrame) -> View:
    """rms validate: apparent, bootstrap training/test, optimism and corrected value per index."""
    idx = val["index"] if "index" in val.columns else val.index.to_series()
    out = pd.DataFrame(
        {
            "Index": [_BOOTSTRAP_NAMES.get(str(i), str(i)) for i in idx],
            "Apparent": _num(val["apparent"], 3),
            "Bootstrap: resample": _num(val["training"], 3),
            "Bootstrap: original": _num(val["test"], 3),
            "Optimism": _num(val["optimism"], 3),
            "Optimism-corrected": _num(val["corrected"], 3),
            "Resamples": _num(val["n"].astype(int), 0),
        }
    )
    note = (
        "Harrell's bootstrap (rms validate): apparent = the model on its own training data; "
        "'resample' = each refitted model on its bootstrap sample and 'original' = the same "
        "model on the training cohort (means over resamples); optimism = resample - original; "
        "optimism-corrected = apparent - optimism. C-index = (Dxy + 1) / 2; intercept and slope "
        "of the recalibration of the linear predictor; Emax: largest difference between "
        "predicted and calibrated probability; D, U, Q: discrimination, unreliability and "
        "quality (D - U) indexes; g and gp: Gini's mean difference of the linear predictor and "
        "of the probabilities."
    )
    return out, note


_NRI_NAMES = {
    ("continuous", "overall"): "Continuous NRI",
    ("continuous", "events"): "NRI, events",
    ("continuous", "non_events"): "NRI, non-events",
    ("categorical", "overall"): "Categorical NRI",
    ("categorical", "events"): "Categorical NRI, events",
    ("categorical", "non_events"): "Categorical NRI, non-events",
    ("idi", "overall"): "IDI",
    ("idi", "events"): "IDI, events (mean risk increase)",
    ("idi", "non_events"): "IDI, non-events (mean risk decrease)",
}


def nri_idi_view(tab: pd.DataFrame, new: str, old: str) -> View:
    moved = [
        "" if pd.isna(u) else f"{int(u)} / {int(d)}"
        for u, d in zip(tab.get("n_up", np.nan), tab.get("n_down", np.nan), strict=False)
    ] if "n_up" in tab.columns else [""] * len(tab)  # fmt: skip
    out = pd.DataFrame(
        {
            "Cohort": tab["cohort"].to_numpy(),
            "Measure": [_NRI_NAMES.get((t, c), f"{t} {c}")
                        for t, c in zip(tab["type"], tab["component"], strict=True)],  # fmt: skip
            "Estimate (95% CI)": _ci(tab, "estimate", "ci_low", "ci_high", 3),
            "z": _num(tab["z"], 2),
            "p": _p(tab["p_value"]),
            "n": _num(tab["n"].astype(int), 0),
            "Moved up / down": moved,
        }
    )
    note = (
        f"Reclassification of the {new.lower()} over the {old.lower()} (Pencina 2008; "
        "Hmisc::improveProb). Continuous (category-free) NRI: proportion of events whose "
        "predicted risk rose minus the proportion whose risk fell, plus the same for non-events "
        "with the signs reversed (range -2 to 2). IDI: difference in discrimination slopes "
        "(mean risk of events minus mean risk of non-events). 95% CI: estimate +/- 1.96 SE; "
        "'moved up / down': patients whose predicted risk rose / fell."
    )
    return out, note


def risk_group_view(rg: pd.DataFrame, points: str) -> View:
    out = pd.DataFrame(
        {
            "Cohort": rg["cohort"].to_numpy(),
            "Risk group": [
                f"{'High' if g == 'high' else 'Low'} (p {'≥' if g == 'high' else '<'} "
                f"{format_number(t, 3)})"
                for g, t in zip(rg["group"], rg["threshold"], strict=True)
            ],
            "n": _num(rg["n"].astype(int), 0),
            "Events": _num(rg["n_events"].astype(int), 0),
            "Event rate (95% CI)": _ci(rg, "estimate", "ci_low", "ci_high", 3),
        }
    )
    note = (
        "Patients grouped by the clinical-radiomics model's Youden cutoff derived on the training "
        f"cohort{f' ({points})' if points else ''}; event rate: proportion with the outcome, with "
        "its Wilson 95% CI."
    )
    return out, note


def elimination_view(steps: pd.DataFrame, dd: DataDictionary, penalty: str | None) -> View:
    if steps.empty:
        return steps, ""

    def names(value: Any) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return ""
        return ", ".join(dd.label(v.strip()) for v in str(value).split(","))

    out = pd.DataFrame(
        {
            "Model": steps["model"].to_numpy(),
            "Step": _num(steps["step"].astype(int), 0),
            "Predictors in the model": [names(v) for v in steps["predictors"]],
            "Removed": [names(v) for v in steps["removed"]],
            "χ² (removed)": _num(steps["chi2"], 2),
            "df": _num(steps["df"], 0),
            "p": _p(steps["p_value"]),
            "AIC": _num(steps["aic"], 1),
            "AIC after": _num(steps["aic_after"], 1),
        }
    )
    test = "penalised likelihood-ratio" if penalty == "firth" else "Wald"
    note = (
        f"Backward elimination: at each step the predictor with the largest {test} p-value above "
        "the removal threshold is removed and the model refitted; the last row of each model "
        "is the final model. χ², df, p: the test of the removed predictor. AIC: Akaike's "
        "information criterion before and after the removal."
    )
    return out, note


def score_coefficient_view(sc: pd.DataFrame, dd: DataDictionary) -> View:
    out = pd.DataFrame(
        {
            "Score": [dd.label(s) for s in sc["score"]],
            "Feature": sc["feature"].to_numpy(),
            "Coefficient (z-scored feature)": [format_significant(v) for v in sc["coefficient"]],
            "Coefficient (original units)": [
                format_significant(v) for v in sc["coefficient_original"]
            ],
            "Training mean": [format_significant(v) for v in sc["mean"]],
            "Training SD": [format_significant(v) for v in sc["sd"]],
        }
    )
    note = (
        "Non-zero LASSO coefficients of each radiomics score (4 significant digits). Score = "
        "intercept + sum of coefficient x z, with z = (feature - training mean) / training SD; "
        "the original-unit coefficients give the same score from the raw feature values."
    )
    return out, note


def excluded_view(ex: pd.DataFrame, labels: Mapping[str, str]) -> View:
    out = pd.DataFrame(
        {
            "Case": ex["case_id"].astype(str).to_numpy(),
            "Cohort": [labels.get(c, c) for c in ex["cohort"]],
            "Reason": ex["reason"].to_numpy(),
        }
    )
    return out, "Excluded before any analysis: in no table, figure or fitted step."
