"""Decision curve analysis and clinical impact curves.

Net benefit weighs true positives against false positives at the odds of a threshold
probability ``pt`` (Vickers & Elkin 2006); a patient is treated (called high risk) when the
predicted risk is ``>= pt``, as in ``dcurves::dca``. Functions return long tidy tables; the plot
functions take those tables and an ``ax``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._bootstrap import resample_weights
from radiomics_aln._plotting import (
    REFERENCE_STYLE,
    RISK_COLOURS,
    TREAT_ALL_STYLE,
    get_ax,
    legend_below,
    line_style,
    resolve_styles,
)
from radiomics_aln._validation import (
    check_1d,
    check_binary,
    check_conf_level,
    check_n_boot,
    check_probabilities,
)
from radiomics_aln.exceptions import InputError

__all__ = [
    "decision_curve",
    "clinical_impact",
    "plot_decision_curve",
    "plot_clinical_impact",
    "DEFAULT_THRESHOLDS",
]

logger = logging.getLogger(__name__)

#: 0.01, 0.02, ..., 0.99 as the doubles nearest to k/100, so a risk of exactly 0.35 reaches
#: the 0.35 threshold. ``np.arange(0.01, 1, 0.01)`` holds 0.060000000000000005 and dcurves'
#: ``seq(0, 0.99, by = 0.01)`` holds 0.35000000000000003 (k * 0.01 for k = 35, 41, 47, 57, 69,
#: 70, 82, 83, 94, 95): pass ``np.arange(100) * 0.01`` for dcurves' grid double for double.
DEFAULT_THRESHOLDS = np.arange(1, 100) / 100


def _show(values: np.ndarray) -> str:
    # repr of each double, so 1 - 1e-13 is shown as 0.9999999999999, never rounded to 1.0
    more = "" if values.size <= 5 else ", ..."
    return "[" + ", ".join(repr(float(v)) for v in values[:5]) + more + "]"


def _check_thresholds(thresholds: Any) -> np.ndarray:
    # Used exactly as given, as dcurves compares `risk >= threshold`: no rounding.
    t = check_1d(thresholds, "thresholds")
    bad = (t < 0) | (t >= 1)
    if np.any(bad):
        raise InputError(
            f"`thresholds` must lie in [0, 1) (net benefit needs pt/(1-pt)); got {_show(t[bad])}"
        )
    diffs = np.diff(t)
    if np.any(diffs == 0):
        dup = np.unique(t[1:][diffs == 0])
        raise InputError(f"`thresholds` has duplicate values: {_show(dup)}")
    if np.any(diffs < 0):
        i = int(np.flatnonzero(diffs < 0)[0])
        raise InputError(
            f"`thresholds` must be sorted in increasing order; {float(t[i])!r} is followed by "
            f"{float(t[i + 1])!r}"
        )
    return t


def _check_inputs(y: Any, models: Mapping[str, Any] | Any) -> tuple[np.ndarray, dict]:
    yy = check_binary(y, "y", require_both=False)
    if not isinstance(models, Mapping):
        models = {"model": models}
    if not models:
        raise InputError("`models` is empty: pass {'model name': predicted risks, ...}")
    if isinstance(y, pd.Series):
        for name, p in models.items():
            if isinstance(p, pd.Series) and not y.index.equals(p.index):
                raise InputError(
                    f"`y` and model {name!r} are pandas Series with different indexes; values "
                    "are matched by position, so align them first or pass arrays"
                )
    out = {}
    for name, p in models.items():
        pp = check_probabilities(p, f"{name}")
        if pp.size != yy.size:
            raise InputError(
                f"length mismatch: `y` has {yy.size} values, model {name!r} has {pp.size}"
            )
        out[str(name)] = pp
    return yy, out


def _counts_at(
    p: np.ndarray, y: np.ndarray, w: np.ndarray | None, t: np.ndarray, inclusive: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted counts of (event, non-event) patients with risk >= t (or > t) per threshold.

    ``w`` is a (B, n) matrix of bootstrap multiplicities or None for the data itself.
    Sorting once makes each threshold a searchsorted position: O((n + K) log n).
    """
    order = np.argsort(p, kind="stable")
    ps = p[order]
    side = "left" if inclusive else "right"
    start = np.searchsorted(ps, t, side=side)  # first sorted index counted positive
    if inclusive:
        # dcurves::dca moves risks of exactly 0 to -eps: never test positive, even at pt = 0
        start = np.maximum(start, np.searchsorted(ps, 0.0, side="right"))
    ev = y[order].astype(float)
    if w is None:
        ev_tail = np.concatenate([np.cumsum(ev[::-1])[::-1], [0.0]])
        all_tail = np.arange(p.size, -1, -1, dtype=float)
        return ev_tail[start], all_tail[start] - ev_tail[start]
    ws = w[:, order]
    all_tail = np.concatenate(
        [np.cumsum(ws[:, ::-1], axis=1)[:, ::-1], np.zeros((w.shape[0], 1))], axis=1
    )
    ev_tail = np.concatenate(
        [np.cumsum((ws * ev)[:, ::-1], axis=1)[:, ::-1], np.zeros((w.shape[0], 1))], axis=1
    )
    return ev_tail[:, start], all_tail[:, start] - ev_tail[:, start]


def _check_boot_args(n_boot: Any, conf_level: Any) -> None:
    check_n_boot(n_boot, allow_zero=True)
    check_conf_level(conf_level)


def decision_curve(
    y: Any,
    models: Mapping[str, Any] | Any,
    *,
    thresholds: Any = DEFAULT_THRESHOLDS,
    n_boot: int = 0,
    conf_level: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    inclusive: bool = True,
    per: int = 100,
) -> pd.DataFrame:
    """Net benefit of one or more risk models across threshold probabilities.

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    models : mapping or array-like
        ``{"Nomogram": p1, "Clinical model": p2}`` (predicted risks in [0, 1]) or one array.
    thresholds : array-like
        Threshold probabilities in [0, 1), strictly increasing, no duplicates, used exactly as
        given (as dcurves). Default :data:`DEFAULT_THRESHOLDS`: the doubles nearest to
        0.01, 0.02, ..., 0.99. ``np.arange(0.01, 1, 0.01)`` holds 0.060000000000000005, which a
        risk of exactly 0.06 does not reach.
    n_boot : int
        Bootstrap replicates for percentile CIs of the net benefit (0 = none). Patients are
        resampled as a whole (not stratified), like ``rmda::decision_curve(bootstraps=)``.
    conf_level : float
        Confidence level of the bootstrap interval.
    random_state : int, numpy Generator or None
        Seed of the bootstrap.
    inclusive : bool
        True (default): high risk means ``p >= pt``, as ``dcurves::dca``. False: ``p > pt``,
        as ``rmda``.
    per : int
        Net interventions avoided are expressed per this many patients (dcurves' ``nper``).

    Returns
    -------
    pandas.DataFrame
        One row per model x threshold: ``model``, ``threshold``, ``n``, ``prevalence``,
        ``tp``, ``fp`` (counts), ``test_pos_rate``, ``net_benefit``, ``treat_all``,
        ``treat_none`` (0), ``net_interventions_avoided`` (per ``per`` patients; NaN at
        ``pt = 0``), ``standardized_net_benefit`` (net benefit / prevalence), and with
        ``n_boot > 0`` also ``net_benefit_ci_low``, ``net_benefit_ci_high``.

    Raises
    ------
    InputError
        ``y`` not 0/1, risks outside [0, 1] or NaN, length mismatch, thresholds outside [0, 1),
        unsorted or duplicated, bad ``n_boot``/``per``/``conf_level``.

    Notes
    -----
    ``NB = TP/n - FP/n * pt/(1 - pt)``; treat all: ``prev - (1 - prev) * pt/(1 - pt)``;
    net interventions avoided per 100 = ``(NB - NB_all) / (pt/(1 - pt)) * 100``. These are
    the formulas of Vickers & Elkin (2006) and of ``dcurves::dca`` / ``net_intervention_avoided``
    (dcurves counts ``risk >= threshold`` as test positive, with risks of exactly 0 moved to
    ``-eps`` so that they are never positive, and so do we).

    References
    ----------
    Vickers AJ, Elkin EB (2006). Decision curve analysis: a novel method for evaluating
    prediction models. Med Decis Making 26:565-574.
    Vickers AJ, van Calster B, Steyerberg EW (2016). Net benefit approaches to the evaluation
    of prediction models, molecular markers, and diagnostic tests. BMJ 352:i6.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> dc = decision_curve(y, {"nomogram": p}, thresholds=[0.2, 0.5])
    >>> dc[["threshold", "tp", "fp", "net_benefit", "treat_all"]]
       threshold  tp  fp  net_benefit  treat_all
    0        0.2   4   3     0.406250   0.375000
    1        0.5   3   1     0.250000   0.000000
    """
    yy, ps = _check_inputs(y, models)
    t = _check_thresholds(thresholds)
    _check_boot_args(n_boot, conf_level)
    if isinstance(per, bool) or not (isinstance(per, int | np.integer) and per > 0):
        raise InputError(f"`per` must be a positive integer, got {per!r}")
    n = yy.size
    prev = yy.mean()
    odds = t / (1 - t)
    nb_all = prev - (1 - prev) * odds
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_odds = np.where(odds > 0, 1 / odds, np.nan)
    # The same resamples serve every model, so model differences are paired.
    weights = list(resample_weights(n, n_boot, random_state=random_state)) if n_boot else None
    frames = []
    for name, p in ps.items():
        tp, fp = _counts_at(p, yy, None, t, inclusive)
        nb = tp / n - fp / n * odds
        frame = pd.DataFrame(
            {
                "model": name,
                "threshold": t,
                "n": n,
                "prevalence": prev,
                "tp": tp.astype(int),
                "fp": fp.astype(int),
                "test_pos_rate": (tp + fp) / n,
                "net_benefit": nb,
                "treat_all": nb_all,
                "treat_none": 0.0,
                "net_interventions_avoided": (nb - nb_all) * inv_odds * per,
                "standardized_net_benefit": nb / prev if prev > 0 else np.nan,
            }
        )
        if weights is not None:
            boots = []
            for w in weights:
                btp, bfp = _counts_at(p, yy, w, t, inclusive)
                boots.append(btp / n - bfp / n * odds)
            boot = np.vstack(boots)
            alpha = 1 - conf_level
            frame["net_benefit_ci_low"] = np.quantile(boot, alpha / 2, axis=0)
            frame["net_benefit_ci_high"] = np.quantile(boot, 1 - alpha / 2, axis=0)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def clinical_impact(
    y: Any,
    p: Any,
    *,
    thresholds: Any = DEFAULT_THRESHOLDS,
    population: int = 1000,
    inclusive: bool = True,
    n_boot: int = 0,
    conf_level: float = 0.95,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Clinical impact curve: how many of ``population`` patients are called high risk, and how
    many of those have the event, at each threshold.

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    p : array-like of float in [0, 1]
        Predicted risks.
    thresholds : array-like
        Threshold probabilities in [0, 1), strictly increasing (see :func:`decision_curve`).
    population : int
        Size of the population the counts are scaled to.
    inclusive : bool
        True (default): high risk means ``p >= pt`` (as :func:`decision_curve` and dcurves).
        False: ``p > pt``, which is what ``rmda`` computes.
    n_boot : int
        Bootstrap replicates (patients resampled as a whole, as rmda) for percentile CIs of
        both counts; 0 = none.
    conf_level : float
        Confidence level of the bootstrap interval.
    random_state : int, numpy Generator or None
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        ``threshold``, ``cost_benefit_ratio`` (``pt/(1 - pt)``), ``n_high_risk``,
        ``n_high_risk_events`` (both per ``population``), ``population``; with ``n_boot > 0``
        also ``n_high_risk_ci_low``, ``n_high_risk_ci_high``, ``n_high_risk_events_ci_low``,
        ``n_high_risk_events_ci_high``.

    Raises
    ------
    InputError
        Bad ``y``/``p``/``thresholds``/``population``.

    Notes
    -----
    ``n_high_risk = population * P(p >= pt)`` and
    ``n_high_risk_events = population * P(p >= pt, y = 1)``, the two curves of
    ``rmda::plot_clinical_impact(population.size = 1000)`` (Kerr et al. 2016), estimated from
    the same cohort (no case-control prevalence adjustment).

    References
    ----------
    Kerr KF, Brown MD, Zhu K, Janes H (2016). Assessing the clinical impact of risk prediction
    models with decision curves: guidance for correct interpretation and appropriate use.
    J Clin Oncol 34:2534-2540.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> clinical_impact(y, p, thresholds=[0.2, 0.5], population=100)
       threshold  cost_benefit_ratio  n_high_risk  n_high_risk_events  population
    0        0.2                0.25         87.5                50.0         100
    1        0.5                1.00         50.0                37.5         100
    """
    yy, ps = _check_inputs(y, {"p": p})
    t = _check_thresholds(thresholds)
    if isinstance(population, bool) or not (
        isinstance(population, int | np.integer) and population > 0
    ):
        raise InputError(f"`population` must be a positive integer, got {population!r}")
    _check_boot_args(n_boot, conf_level)
    tp, fp = _counts_at(ps["p"], yy, None, t, inclusive)
    n = yy.size
    out = pd.DataFrame(
        {
            "threshold": t,
            "cost_benefit_ratio": t / (1 - t),
            "n_high_risk": population * (tp + fp) / n,
            "n_high_risk_events": population * tp / n,
            "population": int(population),
        }
    )
    if n_boot:
        high, events = [], []
        for w in resample_weights(n, n_boot, random_state=random_state):
            btp, bfp = _counts_at(ps["p"], yy, w, t, inclusive)
            high.append(population * (btp + bfp) / n)
            events.append(population * btp / n)
        alpha = 1 - conf_level
        for name, boot in (
            ("n_high_risk", np.vstack(high)),
            ("n_high_risk_events", np.vstack(events)),
        ):
            out[f"{name}_ci_low"] = np.quantile(boot, alpha / 2, axis=0)
            out[f"{name}_ci_high"] = np.quantile(boot, 1 - alpha / 2, axis=0)
    return out


# --------------------------------------------------------------------------- plots


def _cost_benefit_label(t: float) -> str:
    if t <= 0 or t >= 1:
        return ""
    fr = Fraction(t / (1 - t)).limit_denominator(100)
    return f"{fr.numerator}:{fr.denominator}"


def _add_cost_benefit_axis(ax: Any) -> None:
    top = ax.secondary_xaxis("top")
    ticks = [x for x in ax.get_xticks() if 0 < x < 1]
    top.set_xticks(ticks, [_cost_benefit_label(x) for x in ticks])
    top.set_xlabel("Cost:benefit ratio")


def _check_range(threshold_range: Any) -> tuple[float, float] | None:
    if threshold_range is None:
        return None
    try:
        lo, hi = (float(v) for v in threshold_range)
    except (TypeError, ValueError):
        raise InputError(
            f"`threshold_range` must be (low, high) threshold probabilities, got {threshold_range!r}"
        ) from None
    if not 0 <= lo < hi <= 1:
        raise InputError(
            f"`threshold_range` must satisfy 0 <= low < high <= 1, got {threshold_range!r}"
        )
    return lo, hi


def _in_range(table: pd.DataFrame, rng: tuple[float, float] | None) -> pd.DataFrame:
    """The rows of thresholds inside ``rng`` (all rows when None)."""
    if rng is None:
        return table
    t = table["threshold"]
    sub = table[(t >= rng[0] - 1e-12) & (t <= rng[1] + 1e-12)]
    if sub.empty:
        raise InputError(
            f"no threshold of the table lies in threshold_range {rng}; the table covers "
            f"{float(t.min()):g} to {float(t.max()):g}"
        )
    return sub


def plot_decision_curve(
    table: pd.DataFrame,
    *,
    ax: Any = None,
    quantity: str = "net_benefit",
    show_ci: bool = True,
    ylim: tuple[float, float] | None = None,
    cost_benefit_axis: bool = False,
    threshold_range: tuple[float, float] | None = None,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
    **kwargs: Any,
) -> Any:
    """Draw decision curves (one line per model) with treat-all and treat-none.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`decision_curve`.
    ax : matplotlib Axes, optional
        Axes to draw on (default: current axes).
    quantity : {"net_benefit", "standardized_net_benefit", "net_interventions_avoided"}
        Quantity on the y axis.
    show_ci : bool
        Shade the bootstrap CI when the table has one (net benefit only).
    ylim : (float, float), optional
        y limits; default from -5% of the prevalence to just above it (net benefit).
    cost_benefit_axis : bool
        Add a top axis labelled with the cost:benefit ratio ``pt:(1 - pt)``.
    threshold_range : (float, float), optional
        Draw only the thresholds in ``[low, high]``, e.g. the clinically relevant range
        (0.05, 0.60); default: every threshold of the table. The table itself is not changed.
    styles : mapping, optional
        ``{model name: line properties}`` (e.g. :func:`radiomics_aln._plotting.model_styles`),
        so that a model looks the same in every figure.
    **kwargs
        Passed to the ``ax.plot`` call of each model.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InputError
        ``table`` lacks the needed columns, ``quantity`` is unknown or ``threshold_range``
        is not an interval of the table's thresholds.

    Notes
    -----
    "Treat all" is a thin grey line, "Treat none" grey short dashes; the legend is below the
    axes, outside the plotting area, so it never covers a curve.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = plot_decision_curve(decision_curve(y, {"nomogram": p}), ax=ax)
    >>> [line.get_label() for line in ax.get_lines()]
    ['nomogram', 'Treat all', 'Treat none']
    """
    allowed = ("net_benefit", "standardized_net_benefit", "net_interventions_avoided")
    if quantity not in allowed:
        raise InputError(f"`quantity` must be one of {allowed}, got {quantity!r}")
    y = quantity
    needed = {"model", "threshold", y, "treat_all", "prevalence"}
    if not needed <= set(table.columns):
        raise InputError(
            f"`table` lacks column(s) {sorted(needed - set(table.columns))}; pass the output of "
            "decision_curve()"
        )
    table = _in_range(table, _check_range(threshold_range))
    ax = get_ax(ax)
    names = [str(m) for m in dict.fromkeys(table["model"])]
    styles = resolve_styles(names, styles)
    for name, sub in table.groupby("model", sort=False):
        style = line_style(styles[str(name)], kwargs)
        (line,) = ax.plot(sub["threshold"], sub[y], label=str(name), **style)
        if show_ci and y == "net_benefit" and "net_benefit_ci_low" in sub:
            ax.fill_between(
                sub["threshold"],
                sub["net_benefit_ci_low"],
                sub["net_benefit_ci_high"],
                color=line.get_color(),
                alpha=0.15,
                linewidth=0,
            )
    first = table[table["model"] == table["model"].iloc[0]]
    prev = float(first["prevalence"].iloc[0])
    zero = np.zeros(len(first))
    if y == "net_benefit":
        ax.plot(first["threshold"], first["treat_all"], label="Treat all", **TREAT_ALL_STYLE)
        ax.plot(first["threshold"], zero, label="Treat none", **REFERENCE_STYLE)
        if ylim is None:
            top = prev * 1.05 + 0.01
            if show_ci and "net_benefit_ci_high" in table:
                # bootstrap samples' prevalence varies: the band can rise above the prevalence
                top = max(top, float(np.nanmax(table["net_benefit_ci_high"])) + 0.01)
            ylim = (-0.05 * max(prev, 0.1), top)
        ax.set_ylabel("Net benefit")
    elif y == "standardized_net_benefit":
        all_std = first["treat_all"] / prev if prev > 0 else first["treat_all"] * np.nan
        ax.plot(first["threshold"], all_std, label="Treat all", **TREAT_ALL_STYLE)
        ax.plot(first["threshold"], zero, label="Treat none", **REFERENCE_STYLE)
        if ylim is None:
            ylim = (-0.05, 1.05)
        ax.set_ylabel("Standardized net benefit")
    else:
        ax.axhline(0, **REFERENCE_STYLE)
        ax.set_ylabel("Net interventions avoided per 100 patients")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlim(float(table["threshold"].min()), float(table["threshold"].max()))
    ax.set_xlabel("Threshold probability")
    legend_below(ax, ncol=2)
    if cost_benefit_axis:
        _add_cost_benefit_axis(ax)
    return ax


def plot_clinical_impact(
    table: pd.DataFrame,
    *,
    ax: Any = None,
    cost_benefit_axis: bool = True,
    threshold_range: tuple[float, float] | None = None,
    **kwargs: Any,
) -> Any:
    """Draw a clinical impact curve (as ``rmda::plot_clinical_impact``).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clinical_impact`.
    ax : matplotlib Axes, optional
        Axes to draw on.
    cost_benefit_axis : bool
        Add the top axis with the cost:benefit ratio.
    threshold_range : (float, float), optional
        Draw only the thresholds in ``[low, high]`` (see :func:`plot_decision_curve`).
    **kwargs
        Passed to both ``ax.plot`` calls.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InputError
        ``table`` lacks the needed columns.

    Notes
    -----
    "Number high risk": vermillion, solid; "with event": blue, dashed (Okabe-Ito; apart also
    for colour-blind readers and in greyscale). The legend is below the axes.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = plot_clinical_impact(clinical_impact(y, p), ax=ax)
    >>> [line.get_label() for line in ax.get_lines()]
    ['Number high risk', 'Number high risk with event']
    """
    needed = {"threshold", "n_high_risk", "n_high_risk_events", "population"}
    if not needed <= set(table.columns):
        raise InputError(
            f"`table` lacks column(s) {sorted(needed - set(table.columns))}; pass the output of "
            "clinical_impact()"
        )
    table = _in_range(table, _check_range(threshold_range))
    ax = get_ax(ax)
    pop = int(table["population"].iloc[0])
    curves = (
        ("n_high_risk", {"color": RISK_COLOURS["high"], "linestyle": "-",
                         "label": "Number high risk"}),
        ("n_high_risk_events", {"color": RISK_COLOURS["low"], "linestyle": (0, (6, 2)),
                                "label": "Number high risk with event"}),
    )  # fmt: skip
    for col, default in curves:
        # caller's kwargs win over the defaults (color= used to raise "multiple values")
        ax.plot(table["threshold"], table[col], **line_style(default | {"linewidth": 1.6}, kwargs))
        if f"{col}_ci_low" in table:
            ax.fill_between(
                table["threshold"],
                table[f"{col}_ci_low"],
                table[f"{col}_ci_high"],
                color=default["color"],
                alpha=0.15,
                linewidth=0,
            )
    ax.set_ylim(0, pop * 1.02)
    ax.set_xlim(float(table["threshold"].min()), float(table["threshold"].max()))
    ax.set_xlabel("Threshold probability")
    ax.set_ylabel(f"Number high risk (of {pop:,})")
    legend_below(ax, ncol=2)
    if cost_benefit_axis:
        _add_cost_benefit_axis(ax)
    return ax
