"""The reader study inside a study and on the command line: tables, figures, report section.

Shared by :meth:`radiomics_aln.study.Study.evaluate` (the config's ``readers:`` section) and
``radiomics-aln readers``. Nothing here is fitted: the model's predictions of the reader cases
come from the fitted study (or a predictions file) and the readers' table is only read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._validation import format_items
from radiomics_aln.exceptions import InputError
from radiomics_aln.formatting import format_estimate_ci, format_p_value
from radiomics_aln.readers import (
    ReaderStudy,
    plot_reader_metrics,
    plot_reader_roc,
    read_reader_table,
    reader_study,
)

#: the report's section title
SECTION = "Reader study"
#: table names (``tables/<name>.csv``) and figure keys
TABLES = ("readers_performance", "readers_comparisons", "readers_model", "readers_agreement")
#: the multi-reader multi-case table (two or more readers and sessions)
MRMC_TABLE = "readers_mrmc"
FIGURES = ("readers_roc", "readers_metrics")


def reader_cohort(settings: Any, cohorts: list[str], train: str) -> str:
    """The cohort the readers read: the configured one, else ``prospective`` when present."""
    cohort = settings.cohort
    if cohort is None:
        if "prospective" not in cohorts:
            raise InputError(
                "readers.cohort is not set and there is no 'prospective' cohort; set "
                f"readers.cohort to one of {format_items(cohorts)}"
            )
        cohort = "prospective"
    if cohort not in cohorts:
        raise InputError(f"readers.cohort {cohort!r} is not a cohort of the study ({format_items(cohorts)})")
    if cohort == train:
        raise InputError("readers.cohort must be a test cohort, not the training cohort")
    return cohort


def run(
    settings: Any, frame: pd.DataFrame, outcome: str, model_name: str, random_state: int
) -> ReaderStudy:
    """Read the reader table of ``settings`` and compare it with the model on the cohort
    ``frame`` (indexed by case_id, with ``outcome`` and ``probability``); the table's cases
    must be the cohort's cases."""
    table = read_reader_table(settings.path, cases=list(frame.index), sessions=settings.sessions,
                              rating_threshold=settings.rating_threshold)  # fmt: skip
    unread = [c for c in frame.index if c not in set(table.cases)]
    if unread:
        raise InputError(
            f"reader table {settings.path}: the readers did not read case(s) "
            f"{format_items(unread)} of the cohort; the reader study needs every case of "
            "the cohort read (or set readers.cohort to the cohort they read)"
        )
    return reader_study(table, frame[outcome].astype(int), frame["probability"],
                        model_name=model_name, kappa_weights=settings.kappa_weights,
                        random_state=random_state)  # fmt: skip


def tables(result: ReaderStudy) -> dict[str, pd.DataFrame]:
    """The tidy tables written as CSV."""
    out = dict(zip(TABLES, (result.performance, result.comparisons, result.model_comparisons,
                            result.agreement), strict=True))  # fmt: skip
    if result.mrmc is not None:
        out[MRMC_TABLE] = result.mrmc.summary
    return out


def figures(result: ReaderStudy, cohort_label: str) -> dict[str, Any]:
    """The two figures, captioned (the caption is the figure's label)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.4, 6.2), layout="constrained")
    plot_reader_roc(result, ax=ax)
    first, later = result.sessions[0], ", ".join(result.sessions[1:]) or "-"
    where = f", {cohort_label} cohort" if cohort_label else ""
    model = (f"Black line: the {result.model_name}'s ROC curve; " if result.roc is not None
             else "")  # fmt: skip
    fig.set_label(
        f"Readers and model{where}. {model}markers: each reader's operating "
        f"point (sensitivity against 1 - specificity of the calls), open for the {first} "
        f"session and filled for {later}, with an arrow from {first} to each later session. "
        "Grey dashed diagonal: chance."
    )
    fig2, ax2 = plt.subplots(figsize=(max(6.0, 2.2 * len(result.readers) + 2), 4.6),
                             layout="constrained")  # fmt: skip
    plot_reader_metrics(result, ax=ax2)
    level = f"{100 * result.conf_level:g}%"
    fig2.set_label(
        f"Accuracy, sensitivity and specificity of each reader{where}: hatched "
        f"bars {first}, filled bars {later}; whiskers: {level} Wilson confidence intervals."
    )
    return dict(zip(FIGURES, (fig, fig2), strict=True))


def _comparison_view(result: ReaderStudy) -> pd.DataFrame:
    rows = []
    for _, r in result.comparisons.iterrows():
        metric = "AUC" if r["metric"] == "auc" else str(r["metric"]).capitalize()
        rows.append({
            "Reader": r["reader"], "Comparison": f"{r['session_2']} vs {r['session_1']}",
            "Metric": metric, str(r["session_1"]).capitalize(): f"{r['estimate_1']:.3f}",
            str(r["session_2"]).capitalize(): f"{r['estimate_2']:.3f}",
            "Difference (95% CI)": format_estimate_ci(r["estimate"], r["ci_low"], r["ci_high"]),
            "Discordant (b/c)": "" if pd.isna(r["b"]) else f"{int(r['b'])}/{int(r['c'])}",
            "Test": r["test"], "P": format_p_value(r["p_value"]),
        })  # fmt: skip
    for _, r in result.model_comparisons.iterrows():
        rows.append({
            "Reader": r["reader"], "Comparison": f"{result.model_name} vs {r['session']}",
            "Metric": "AUC", "Difference (95% CI)": format_estimate_ci(
                r["estimate"], r["ci_low"], r["ci_high"]),
            "Test": r["test"], "P": format_p_value(r["p_value"]),
        })  # fmt: skip
    return pd.DataFrame(rows).fillna("")


def _mrmc_view(result: ReaderStudy) -> pd.DataFrame:
    """Obuchowski-Rockette rows: the session difference per analysis, with its test."""
    names = {"random readers, random cases": "Random readers and cases (Hillis df)",
             "fixed readers, random cases": "Fixed readers, random cases",
             "random readers, fixed cases": "Random readers, fixed cases"}  # fmt: skip
    rows = []
    for _, r in result.mrmc.summary.iterrows():
        df = "" if not np.isfinite(r["df"]) else f"{r['df']:.2f}"
        rows.append({
            "Analysis": names.get(r["analysis"], r["analysis"]),
            "Difference in mean AUC": str(r["comparison"]),
            "Estimate (95% CI)": format_estimate_ci(r["estimate"], r["ci_low"], r["ci_high"]),
            "Test": f"{r['test']} = {r['statistic']:.2f}" + (f", df {df}" if df else ""),
            "P": format_p_value(r["p_value"]),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _agreement_view(result: ReaderStudy) -> pd.DataFrame:
    names = {"cohen_kappa": "Cohen's kappa", "weighted_kappa": "Weighted kappa",
             "fleiss_kappa": "Fleiss' kappa"}  # fmt: skip
    ag = result.agreement
    return pd.DataFrame({
        "Session": ag["session"],
        "Raters": [f"{a} vs {b}" if b else a for a, b in zip(ag["rater_1"], ag["rater_2"], strict=True)],
        "On": ag["scale"].map({"call": "calls", "rating": "ratings"}),
        "Statistic": [names[s] + (f" ({w})" if w not in ("none", "") else "")
                      for s, w in zip(ag["statistic"], ag["weights"], strict=True)],
        "Kappa (95% CI)": [format_estimate_ci(e, lo, hi) for e, lo, hi
                           in zip(ag["estimate"], ag["ci_low"], ag["ci_high"], strict=True)],
        "P": [format_p_value(p) if p == p else "" for p in ag["p_value"]],
    })  # fmt: skip


def report_section(result: ReaderStudy, figure_items: Mapping[str, Any], cohort_label: str):
    """The report's reader-study section (tables as text views, the two figures)."""
    n_cases = int(result.performance["n"].iloc[0])
    return {
        "title": SECTION,
        "text": f"{len(result.readers)} readers read the {n_cases} cases"
        + (f" of the {cohort_label} cohort" if cohort_label else "")
        + f" in the sessions {', '.join(result.sessions)} (the tests are named in the "
        "methods).",
        "tables": {
            "Per reader and session (95% CIs)": result.formatted(),
            "Comparisons between sessions and with the model": _comparison_view(result),
            "Agreement (kappa)": _agreement_view(result),
            **({"Multi-reader multi-case analysis (Obuchowski-Rockette)": _mrmc_view(result)}
               if result.mrmc is not None else {}),
        },
        "figures": dict(figure_items),
    }


def add_to_study(study: Any, arrays: Mapping[str, Any], labels: Mapping[str, str],
                 tables_out: dict[str, Any], figures_out: dict[str, Any],
                 summary: dict[str, Any]) -> None:  # fmt: skip
    """Run the configured reader study of a fitted ``study`` and add its tables, figures and
    result (``summary["reader_study"]``, ``summary["reader_cohort"]``)."""
    cfg = study.config
    cohort = reader_cohort(cfg.readers, list(study.cohorts_), cfg.train_cohort)
    result = run(cfg.readers, arrays[cohort]["frame"], cfg.outcome, study.model_.combined_name,
                 cfg.random_state)  # fmt: skip
    tables_out.update(tables(result))
    figures_out.update(figures(result, labels[cohort]))
    summary["reader_study"] = result
    summary["reader_cohort"] = labels[cohort]


def methods(study: Any) -> dict[str, list[str]]:
    """The methods paragraph of an evaluated study's reader study (empty without one)."""
    summary = (getattr(study, "results_", None) or {}).get("summary", {})
    result = summary.get("reader_study")
    if result is None:
        return {}
    return {SECTION: [f"Readers: {', '.join(result.readers)} ({summary['reader_cohort']} "
                      f"cohort; sessions {', '.join(result.sessions)}). "
                      + result.methods_text()]}  # fmt: skip


def study_section(study: Any) -> dict[str, Any] | None:
    """The report section of an evaluated study's reader study (None without one)."""
    summary = study.results_.get("summary", {})
    result = summary.get("reader_study")
    if result is None:
        return None
    return report_section(result, {}, summary["reader_cohort"])
