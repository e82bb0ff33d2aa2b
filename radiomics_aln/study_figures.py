"""The figures of an evaluated study's report, each with a caption written from what it draws.

:func:`figures` draws every figure of :meth:`radiomics_aln.study.Study.evaluate` and gives each
its caption as the figure's label (``fig.get_label()``): "<title>. <what the marks are>",
generated from what was drawn (the cohorts, the models, the number of calibration groups,
whether the bootstrap bias-corrected curve is there, the thresholds shown). :func:`numbered`
prefixes "Figure N." in the order of the report and resolves references between captions.

Every model keeps one colour and line style in every figure
(:func:`radiomics_aln._plotting.model_styles`, the clinical-radiomics model first); legends
sit outside the plotting area; panels of several cohorts form one figure, two columns wide, at
the report's page width (10 in, 1100 px at its 110 dpi).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from radiomics_aln import decision, metrics, reclassification
from radiomics_aln._plotting import model_styles
from radiomics_aln.exceptions import InputError, StatisticalWarning
from radiomics_aln.model import CLINICAL_MODEL, COMBINED_MODEL, RADIOMICS_MODEL, SCORE_LABELS
from radiomics_aln.pipeline_validation import selection_figure

__all__ = ["PAGE_WIDTH_IN", "figures", "numbered"]

#: Width of a full-width report figure in inches (1100 px at the report's 110 dpi).
PAGE_WIDTH_IN = 10.0


def figures(
    study: Any,
    arrays: Mapping[str, Any],
    labels: Mapping[str, str],
    tables: Mapping[str, Any],
    curves: Mapping[str, Any],
) -> dict[str, Any]:
    """Every figure of the report, in the report's order, each captioned by its label.

    Parameters
    ----------
    study : Study
        The fitted study (its config, models, ICC filter).
    arrays : mapping
        Per cohort ``{"y": outcomes, "models": {model name: predicted risks}}``.
    labels : mapping
        Cohort -> display name.
    tables : mapping
        The evaluation tables (``hosmer_lemeshow``, ``decision_curves``, ``clinical_impact``,
        ``risk_groups`` and, when computed, ``bootstrap_calibration``).
    curves : mapping
        Cohort -> :class:`~radiomics_aln.calibration.CalibrationCurve` of the
        clinical-radiomics model (or the exception that prevented it).

    Returns
    -------
    dict
        ``roc_<cohort>``, ``calibration``, ``nomogram``, ``decision``, ``clinical_impact``,
        ``risk_groups``, ``icc`` (with an ICC filter), ``lasso_<roi>``, and the appendix
        figures ``decision_full`` and ``clinical_impact_full`` (every threshold). A panel that
        cannot be drawn says why (and warns) instead of stopping the report.
    """
    cfg = study.config
    styles = model_styles(_model_order(next(iter(arrays.values()))["models"]) if arrays else [])
    figs: dict[str, Any] = {}
    for c, a in arrays.items():
        figs[f"roc_{c}"] = _roc_figure(a, labels[c], styles, cfg.nomogram.ci)
    figs["calibration"] = _calibration_figure(study, arrays, labels, tables, curves, styles)
    figs["nomogram"] = _nomogram_figure(study)
    shown = tuple(float(v) for v in cfg.nomogram.dca_display_range)
    full = (float(cfg.nomogram.dca_thresholds[0]), float(cfg.nomogram.dca_thresholds[1]))
    for suffix, rng in (("", shown), ("_full", None)):
        figs[f"decision{suffix}"] = _decision_figure(tables, labels, styles, rng, full)
        figs[f"clinical_impact{suffix}"] = _impact_figure(tables, labels, rng, full)
    figs["risk_groups"] = _risk_group_figure(study, tables)
    if study.icc_filter_ is not None:
        figs["icc"] = _icc_figure(study)
    for roi, sc in study.model_.scores.items():
        figs[f"lasso_{roi}"] = _lasso_figure(roi, sc)
    if getattr(study, "pipeline_validation_", None) is not None:
        label = cfg.data_dictionary().label
        figs["selection_frequency"] = selection_figure(study.pipeline_validation_, label=label)
    order = [k for k in figs if not k.endswith("_full")] + [k for k in figs if k.endswith("_full")]
    return {k: figs[k] for k in order}


def numbered(captions: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{key: "Figure N. caption"}`` in the given (report) order; ``{fig:key}`` in a caption
    becomes that figure's number (or "the appendix" when it is not in the report).

    Examples
    --------
    >>> numbered([("a", "ROC. See {fig:b}."), ("b", "Decision curves.")])
    {'a': 'Figure 1. ROC. See Figure 2.', 'b': 'Figure 2. Decision curves.'}
    """
    captions = list(captions)
    number = {key: k for k, (key, _) in enumerate(captions, 1)}

    def ref(m: re.Match) -> str:
        return f"Figure {number[m.group(1)]}" if m.group(1) in number else "the appendix"

    return {key: f"Figure {number[key]}. " + re.sub(r"\{fig:(\w+)\}", ref, text)
            for key, text in captions}  # fmt: skip


# --------------------------------------------------------------------------------------------
# layout helpers
# --------------------------------------------------------------------------------------------
def _model_order(models: Iterable[str]) -> list[str]:
    """The nomogram's model first (clinical-radiomics, or radiomics-only), the clinical model
    second, then the scores."""
    names = list(models)
    first = [m for m in (COMBINED_MODEL, RADIOMICS_MODEL, CLINICAL_MODEL) if m in names]
    return first + [m for m in names if m not in first]


def _grid(n: int, *, row_height: float) -> tuple[Any, list[Any], Any]:
    """A figure of ``n`` panels in two columns at page width; the spare cell (odd ``n``), if
    any, is returned blank for the legend."""
    import matplotlib.pyplot as plt

    ncols = 1 if n == 1 else 2
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH_IN, row_height * nrows),
                             squeeze=False, layout="constrained")  # fmt: skip
    flat = list(axes.ravel())
    spare = flat[n] if len(flat) > n else None
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n], spare


def _shared_legend(fig: Any, panels: list[Any], spare: Any, *, rename: Callable | None = None):
    """One legend for the figure, from the panel with the most entries: in the spare cell when
    there is one, else under the panels; the panels' own legends are removed."""
    best: tuple[list, list] = ([], [])
    for ax in panels:
        h, lab = ax.get_legend_handles_labels()
        if len(h) > len(best[0]):
            best = (h, lab)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    handles, texts = best
    if rename is not None:
        texts = [rename(t) for t in texts]
    if not handles:
        return
    if spare is not None:
        spare.legend(handles, texts, loc="center", frameon=False, fontsize="medium")
    else:
        fig.legend(handles, texts, loc="outside lower center", ncol=min(len(handles), 4),
                   frameon=False)  # fmt: skip


def _draw(fn: Callable[[], Any], ax: Any, what: str) -> bool:
    """Draw one panel; a panel that cannot be drawn says why instead of stopping the report."""
    try:
        fn()
    except (InputError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        warnings.warn(f"{what} plot not drawn: {message}", StatisticalWarning, stacklevel=3)
        ax.text(0.5, 0.5, f"{what}: not drawn\n{message}", ha="center", va="center",
                wrap=True, fontsize=8, transform=ax.transAxes)  # fmt: skip
        return False
    return True


def _cohort_title(label: str, y: Any) -> str:
    y = np.asarray(y)
    return f"{label} (n = {y.size}, {int(y.sum())} with the outcome)"


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


# --------------------------------------------------------------------------------------------
# the figures
# --------------------------------------------------------------------------------------------
def _roc_figure(a: Mapping[str, Any], label: str, styles: Mapping, ci: str) -> Any:
    import matplotlib.pyplot as plt

    models = {m: a["models"][m] for m in _model_order(a["models"])}
    rows = -(-len(models) // 2) if len(models) > 3 else len(models)
    # 5 in: two ROC figures fit side by side on the report page (10 in)
    fig, ax = plt.subplots(figsize=(5.0, 4.9 + 0.4 * rows), layout="constrained")
    _draw(lambda: metrics.plot_roc(a["y"], models, ax=ax, styles=styles, ci=ci), ax, "ROC")
    ax.set_title(_cohort_title(label, a["y"]), fontsize="medium")
    interval = "DeLong" if ci == "delong" else "stratified bootstrap"
    fig.set_label(
        f"ROC curves, {label} cohort. One curve per model ({_list(list(models))}); the "
        f"legend gives each model's AUC with its 95% CI ({interval}). Grey dashed diagonal: "
        "chance (AUC 0.5). Each model has the same colour and line style in every figure."
    )
    return fig


def _calibration_figure(study, arrays, labels, tables, curves, styles) -> Any:
    cfg = study.config
    colour = styles.get(COMBINED_MODEL, {}).get("color", "#000000")
    bias = {cfg.train_cohort: tables.get("bootstrap_calibration")}
    fig, panels, spare = _grid(len(arrays), row_height=5.6)
    groups: dict[str, int] = {}
    drawn_bias = False
    for ax, c in zip(panels, arrays, strict=True):
        cc = curves[c]

        def draw(ax=ax, cc=cc, c=c) -> None:
            if isinstance(cc, Exception):  # computed in evaluate(); the panel says why
                raise cc
            cc.plot(ax=ax, label="Lowess smoother", bias_corrected=bias.get(c), color=colour)

        title = _cohort_title(labels[c], arrays[c]["y"])
        if _draw(draw, ax, f"calibration ({labels[c]})"):
            groups[labels[c]] = len(cc.grouped)
            drawn_bias |= bias.get(c) is not None
            if cc.hosmer_lemeshow is not None:
                title += f"\nHosmer-Lemeshow {_fmt_p(cc.hosmer_lemeshow.p_value)}"
        ax.set_title(title, fontsize="medium")

    def rename(text: str) -> str:
        text = re.sub(r" \(HL p.*\)$", "", text)
        return {"Grouped: observed (95% CI)": "Observed proportion (95% CI)",
                "Bias-corrected": "Bootstrap bias-corrected"}.get(text, text)  # fmt: skip

    _shared_legend(fig, panels, spare, rename=rename)
    fig.set_label(_calibration_caption(cfg, groups, drawn_bias))
    return fig


def _calibration_caption(cfg: Any, groups: Mapping[str, int], bias: bool) -> str:
    counts = set(groups.values())
    if counts == {cfg.nomogram.hl_groups} and cfg.nomogram.hl_groups == 10:
        grouping = "each decile of predicted risk"
    elif len(counts) == 1:
        grouping = f"each of {counts.pop()} groups of predicted risk"
    else:
        grouping = "each group of predicted risk (Hosmer-Lemeshow groups; fewer form where " \
            "predictions tie: " + ", ".join(f"{k} {v}" for k, v in groups.items()) + ")"
    text = (
        "Calibration of the clinical-radiomics model in each cohort. Points: observed "
        f"proportion with the outcome in {grouping} against its mean predicted risk (bars: "
        "exact 95% CI); solid line: lowess smoother; grey dashed: ideal calibration"
    )
    if bias:
        text += (
            f"; dash-dot ({cfg.label(cfg.train_cohort)} panel): Harrell's bootstrap "
            f"bias-corrected curve ({cfg.nomogram.n_boot} resamples)"
        )
    return text + (
        ". Bottom strip: distribution of the predicted risks (spikes up: patients with the "
        "outcome; down: without). Panel titles give the Hosmer-Lemeshow test "
        f"({cfg.nomogram.hl_groups} groups requested)."
    )


def _nomogram_figure(study: Any) -> Any:
    import matplotlib.pyplot as plt

    from radiomics_aln.nomogram_plot import risk_rows

    cfg, model = study.config, study.model_.combined_model
    dd = cfg.data_dictionary()
    pts = model.points_table()
    predictors = list(dict.fromkeys(pts["predictor"]))
    n_rows = len(predictors) + 3
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.62 * n_rows + 0.6), layout="constrained")
    axis_labels, levels = dd.nomogram_labels(pts)
    outcome = _lower_first(dd.label(cfg.outcome))
    risk_range = (0.02, 0.98)
    _draw(lambda: model.plot_nomogram(
        ax=ax, labels=axis_labels, level_labels=levels,
        risk_label=f"Risk of {outcome}", risk_range=risk_range), ax, "nomogram")  # fmt: skip
    total_max = float(pts.groupby("predictor")["points"].max().sum())
    rows = risk_rows(points_scale=model.points_scale_, points_intercept=model.points_intercept_,
                     total_max=total_max, maxscale=float(model.maxscale), nint=int(model.nint),
                     risk_range=risk_range).rows  # fmt: skip
    t_lo, t_hi = rows[0][2][0], rows[0][2][-1]
    probs = rows[1][2]
    fig.set_label(
        f"Nomogram of the clinical-radiomics model for the risk of {outcome}. Read each "
        "predictor's points on the top Points axis, add them up, find the sum on the Total "
        "Points axis and read the risk under it. The Total Points and risk axes show "
        f"{t_lo:g} to {t_hi:g} total points, the sums that give risks between "
        f"{probs[0]:g} and {probs[-1]:g} (labelled ticks; unlabelled ticks every 0.05 "
        "between 0.1 and 0.9); a smaller or larger sum means a risk beyond that end. "
        f"High risk (Youden cutoff on the training cohort): total points >= "
        f"{model.youden_points_cutoff_:.0f} (risk >= {model.youden_cutoff_:.2f})."
    )
    return fig


def _lower_first(text: str) -> str:
    """"ALN metastasis" stays, "Malignant lesion" -> "malignant lesion"."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() or len(first) < 2 else text[0].lower() + text[1:]


def _range_text(rng: tuple[float, float] | None, full: tuple[float, float]) -> str:
    lo, hi = rng if rng is not None else full
    return f"{lo:g} to {hi:g}"


def _decision_figure(tables, labels, styles, rng, full) -> Any:
    dca = tables["decision_curves"]
    order = _model_order(dict.fromkeys(dca["model"]))  # legend: the main model first
    dca = dca.sort_values("model", key=lambda m: m.map(order.index), kind="stable")
    cohorts = list(labels.values())
    fig, panels, spare = _grid(len(cohorts), row_height=4.2)
    for ax, name in zip(panels, cohorts, strict=True):
        sub = dca[dca.cohort == name]
        _draw(lambda ax=ax, sub=sub: decision.plot_decision_curve(
            sub, ax=ax, styles=styles, threshold_range=rng), ax, "DCA")  # fmt: skip
        ax.set_title(name, fontsize="medium")
    _shared_legend(fig, panels, spare)
    models = _list([f"the {_lower_first(m)}" for m in order])
    where = (
        f"over threshold probabilities {_range_text(rng, full)}, the clinically relevant "
        "range (config nomogram.dca_display_range; {fig:decision_full} shows every threshold)"
        if rng is not None
        else f"over every threshold probability computed ({_range_text(rng, full)})"
    )
    fig.set_label(
        f"Decision curves in each cohort {where}. Net benefit of {models}; grey solid "
        "line: treat all; grey dashed: treat none. A model is worth using at a threshold "
        "where its curve lies above both; shading (if any): bootstrap 95% CI."
    )
    return fig


def _impact_figure(tables, labels, rng, full) -> Any:
    cic = tables["clinical_impact"]
    cohorts = list(labels.values())
    fig, panels, spare = _grid(len(cohorts), row_height=4.4)
    for ax, name in zip(panels, cohorts, strict=True):
        sub = cic[cic.cohort == name]
        _draw(lambda ax=ax, sub=sub: decision.plot_clinical_impact(
            sub, ax=ax, threshold_range=rng), ax, "CIC")  # fmt: skip
        ax.set_title(name, fontsize="medium")
    _shared_legend(fig, panels, spare)
    pop = int(cic["population"].iloc[0]) if len(cic) else 1000
    where = (
        f"over threshold probabilities {_range_text(rng, full)} ({{fig:clinical_impact_full}} "
        "shows every threshold)" if rng is not None else
        f"over every threshold probability computed ({_range_text(rng, full)})"
    )  # fmt: skip
    fig.set_label(
        f"Clinical impact of the clinical-radiomics model in each cohort {where}, per {pop:,} "
        "patients. Solid: number classified high risk at each threshold; dashed: number of "
        "those with the outcome; top axis: the cost:benefit ratio of each threshold."
    )
    return fig


def _risk_group_figure(study: Any, tables: Mapping[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.8), layout="constrained")
    rg = tables["risk_groups"]
    _draw(lambda: reclassification.plot_risk_groups(rg, ax=ax), ax, "risk groups")
    outcome = _lower_first(study.config.data_dictionary().label(study.config.outcome))
    ax.set_ylabel(f"Proportion with {outcome}")
    cutoff = float(study.model_.settings["cutoff"])
    fig.set_label(
        f"{outcome[0].upper() + outcome[1:]} by risk group. Bars: proportion with {outcome} "
        "among patients the "
        f"clinical-radiomics model puts at low (risk < {cutoff:.3f}) and high risk (the "
        "Youden cutoff of the training cohort, applied unchanged to every cohort); error "
        "bars: Wilson 95% CI; labels: patients with the outcome / patients in the group."
    )
    return fig


def _icc_figure(study: Any) -> Any:
    import matplotlib.pyplot as plt

    icc = study.icc_filter_
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN * 0.75, 4.8), layout="constrained")
    _draw(lambda: icc.plot(ax=ax), ax, "ICC distribution")
    fig.set_label(
        "Reproducibility of the features. Boxes: ICCs of the features of each feature class "
        "(x axis) and ROI (colour) (median, quartiles; whiskers: 1.5 IQR); dashed line: the "
        f"threshold {icc.threshold:g} a feature had to reach in every "
        "comparison to be kept."
    )
    return fig


def _lasso_figure(roi: str, sc: Any) -> Any:
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 4.2), layout="constrained")
    _draw(lambda: sc.plot(ax1, kind="path"), ax1, "LASSO path")
    _draw(lambda: sc.plot(ax2, kind="cv"), ax2, "LASSO CV")
    name = SCORE_LABELS.get(roi, roi)
    fig.suptitle(f"LASSO - {name}")
    fig.set_label(
        f"LASSO of the {name}. Left: coefficient of each feature (per SD) against log(lambda), "
        "the chosen lambda dashed. Right: cross-validated criterion (points: mean, bars: "
        "+-1 SE) against log(lambda); dashed: lambda.min, dotted: lambda.1se."
    )
    return fig
