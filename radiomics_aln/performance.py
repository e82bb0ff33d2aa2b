"""Classification at a cutoff and the multi-cohort performance table (a paper's Table 3).

- :func:`binomial_ci` -- Wilson and Clopper-Pearson intervals of proportions;
- :func:`diagnostic_metrics` -- accuracy, sensitivity, specificity, PPV and NPV at a cutoff,
  each with its binomial interval (pROC's ``coords``);
- :func:`performance_table` / :class:`PerformanceTable` -- per cohort and model the AUC with
  its CI (:func:`radiomics_aln.metrics.roc_auc`), the threshold metrics at cutoffs derived on
  the training cohort (Youden) and the DeLong comparisons between models.

A case is test-positive (high risk) when ``p >= threshold`` (``p <= threshold`` for
``direction=">"``), as pROC's ``coords`` and dcurves do.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from radiomics_aln._plotting import get_ax, series_colour
from radiomics_aln._validation import check_conf_level, check_outcome_scores, check_threshold
from radiomics_aln.exceptions import InputError
from radiomics_aln.metrics import (
    DELONG_COLUMNS,
    YoudenThreshold,
    delong_test,
    roc_auc,
    youden_threshold,
)

__all__ = ["binomial_ci", "diagnostic_metrics", "performance_table", "PerformanceTable"]


# --------------------------------------------------------------------------- binomial CIs


def binomial_ci(
    successes: Any,
    n: Any,
    *,
    method: Literal["wilson", "clopper-pearson"] = "wilson",
    conf_level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits for binomial proportions ``successes / n``.

    Parameters
    ----------
    successes, n : array-like of int
        Counts; ``n = 0`` gives NaN limits.
    method : {"wilson", "clopper-pearson"}
        Wilson score interval without continuity correction
        (``prop.test(x, n, correct = FALSE)$conf.int``) or the exact Clopper-Pearson interval
        (``binom.test(x, n)$conf.int``).
    conf_level : float
        Confidence level.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper limits.

    Raises
    ------
    InputError
        Unknown ``method``, counts out of range.

    References
    ----------
    Wilson EB (1927). J Am Stat Assoc 22:209-212. Clopper CJ, Pearson ES (1934). Biometrika
    26:404-413.

    Examples
    --------
    >>> lo, hi = binomial_ci([26], [41])  # R: prop.test(26, 41, correct = FALSE)$conf.int
    >>> float(lo[0]), float(hi[0])
    (0.4812..., 0.7641...)
    """
    conf_level = check_conf_level(conf_level)
    x = np.atleast_1d(np.asarray(successes, dtype=float))
    nn = np.atleast_1d(np.asarray(n, dtype=float))
    if np.any(x < 0) or np.any(x > nn):
        raise InputError("binomial_ci: successes must lie between 0 and n")
    alpha = 1 - conf_level
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "wilson":
            z = stats.norm.ppf(1 - alpha / 2)
            phat = x / nn
            denom = 1 + z**2 / nn
            centre = (phat + z**2 / (2 * nn)) / denom
            half = z * np.sqrt(phat * (1 - phat) / nn + z**2 / (4 * nn**2)) / denom
            lo, hi = centre - half, centre + half
        elif method == "clopper-pearson":
            lo = np.where(x > 0, stats.beta.ppf(alpha / 2, x, nn - x + 1), 0.0)
            hi = np.where(x < nn, stats.beta.ppf(1 - alpha / 2, x + 1, nn - x), 1.0)
        else:
            raise InputError(f"`method` must be 'wilson' or 'clopper-pearson', got {method!r}")
    empty = nn == 0
    lo = np.where(empty, np.nan, np.clip(lo, 0, 1))
    hi = np.where(empty, np.nan, np.clip(hi, 0, 1))
    return lo, hi


# --------------------------------------------------------------------------- threshold metrics


def _confusion(y: np.ndarray, s: np.ndarray, t: float, direction: str) -> tuple[int, ...]:
    pos = s >= t if direction != ">" else s <= t
    tp = int(np.sum(pos & (y == 1)))
    fp = int(np.sum(pos & (y == 0)))
    tn = int(np.sum(~pos & (y == 0)))
    fn = int(np.sum(~pos & (y == 1)))
    return tp, fp, tn, fn


def diagnostic_metrics(
    y: Any,
    p: Any,
    threshold: float | YoudenThreshold,
    *,
    ci_method: Literal["wilson", "clopper-pearson"] = "wilson",
    conf_level: float = 0.95,
    direction: Literal["<", ">"] | None = None,
) -> pd.DataFrame:
    """Accuracy, sensitivity, specificity, PPV and NPV at a cutoff, with binomial CIs.

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    p : array-like of float
        Scores or probabilities.
    threshold : float or YoudenThreshold
        Cutoff; positive (high risk) means ``p >= threshold`` (``p <= threshold`` for
        ``direction=">"``). Derive it on training data and pass it unchanged to other cohorts.
    ci_method : {"wilson", "clopper-pearson"}
        Interval for each proportion (default Wilson score, no continuity correction). See
        :func:`binomial_ci`.
    conf_level : float
        Confidence level.
    direction : {"<", ">"}, optional
        Orientation of the rule; default the direction of a :class:`YoudenThreshold`, else
        ``"<"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``metric`` (accuracy, sensitivity, specificity, ppv, npv) with columns
        ``estimate``, ``ci_low``, ``ci_high``, ``count`` (numerator), ``n`` (denominator), and
        the same confusion counts on every row: ``tp``, ``fp``, ``tn``, ``fn``, ``threshold``,
        ``rule`` (``"p >= threshold"`` or ``"p <= threshold"``), ``ci_method``. An undefined
        proportion (e.g. PPV with no positive call) is NaN.

    Raises
    ------
    InputError
        Bad ``y``, ``p``, ``threshold`` or ``ci_method``.

    Notes
    -----
    Sensitivity = TP/(TP+FN), specificity = TN/(TN+FP), PPV = TP/(TP+FP),
    NPV = TN/(TN+FN), accuracy = (TP+TN)/N. Single-class ``y`` is accepted (e.g. a
    sensitivity-only audit); the undefined proportions are then NaN. Equal to pROC's
    ``coords(roc, threshold, ret = c("accuracy", "sensitivity", "specificity", "ppv", "npv"))``
    with ``prop.test(correct = FALSE)`` / ``binom.test`` intervals.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> diagnostic_metrics(y, p, 0.35)[["estimate", "count", "n"]]
                 estimate  count  n
    metric
    accuracy         0.875      7  8
    sensitivity      1.000      4  4
    specificity      0.750      3  4
    ppv              0.800      4  5
    npv              1.000      3  3
    """
    if direction is None:
        direction = threshold.direction if isinstance(threshold, YoudenThreshold) else "<"
    if direction not in ("<", ">"):
        raise InputError(f"`direction` must be '<' or '>' for a fixed cutoff, got {direction!r}")
    t = check_threshold(threshold)
    yy, sc = check_outcome_scores(y, {"p": p}, require_both=False)
    tp, fp, tn, fn = _confusion(yy, sc["p"], t, direction)
    counts = {
        "accuracy": (tp + tn, tp + tn + fp + fn),
        "sensitivity": (tp, tp + fn),
        "specificity": (tn, tn + fp),
        "ppv": (tp, tp + fp),
        "npv": (tn, tn + fn),
    }
    x = np.array([c[0] for c in counts.values()])
    n = np.array([c[1] for c in counts.values()])
    lo, hi = binomial_ci(x, n, method=ci_method, conf_level=conf_level)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.where(n > 0, x / np.maximum(n, 1), np.nan)
    out = pd.DataFrame(
        {
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "count": x,
            "n": n,
            "tp": tp,
            "fp": fp,
            "tn": tn,
            "fn": fn,
            "threshold": t,
            "rule": "p >= threshold" if direction == "<" else "p <= threshold",
            "ci_method": ci_method,
        },
        index=pd.Index(list(counts), name="metric"),
    )
    return out


# --------------------------------------------------------------------------- Table 3


CohortInput = tuple[Any, Mapping[str, Any]]
_TABLE3_METRICS = ("auc", "accuracy", "sensitivity", "specificity", "ppv", "npv")
_TABLE3_LABELS = {
    "auc": "AUC",
    "accuracy": "Accuracy",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "ppv": "PPV",
    "npv": "NPV",
}


@dataclass
class PerformanceTable:
    """Result of :func:`performance_table`.

    Attributes
    ----------
    performance : pandas.DataFrame
        One row per cohort x model (see :func:`performance_table`).
    comparisons : pandas.DataFrame
        DeLong tests between models within each cohort.
    thresholds : dict
        Cutoff applied to each model (derived on the training cohort unless given).
    training : str or None
        Name of the cohort the cutoffs were derived on (None when given by the user).

    ``summary`` is the tidy long table, ``formatted()`` the publication table and ``plot()``
    the AUCs with their intervals.
    """

    performance: pd.DataFrame
    comparisons: pd.DataFrame
    thresholds: dict[str, float] = field(default_factory=dict)
    training: str | None = None

    @property
    def summary(self) -> pd.DataFrame:
        """Tidy table: one row per cohort x model x metric (``auc``, ``accuracy``,
        ``sensitivity``, ``specificity``, ``ppv``, ``npv``) with ``estimate``, ``ci_low``,
        ``ci_high``, ``n``, ``n_events`` and ``threshold``."""
        perf = self.performance
        keys = ["cohort", "model", "n", "n_events", "threshold"]
        parts = []
        for metric in _TABLE3_METRICS:
            part = perf[keys].copy()
            part.insert(2, "metric", metric)
            part.insert(3, "estimate", perf[metric])
            part.insert(4, "ci_low", perf[f"{metric}_ci_low"])
            part.insert(5, "ci_high", perf[f"{metric}_ci_high"])
            parts.append(part)
        out = pd.concat(parts, ignore_index=True)
        order = {m: i for i, m in enumerate(_TABLE3_METRICS)}
        # cohort by cohort, model by model, as the rows of ``performance``
        rank = np.tile(np.arange(len(perf)), len(_TABLE3_METRICS))
        out = out.iloc[np.lexsort((out["metric"].map(order).to_numpy(), rank))]
        return out.reset_index(drop=True)

    def plot(self, ax: Any = None, *, metric: str = "auc", **kwargs: Any) -> Any:
        """Estimate and interval of one metric (default the AUC) per cohort and model.

        One row per cohort (top to bottom in table order), one colour per model; ``**kwargs``
        go to each ``ax.errorbar`` call. Returns the axes.
        """
        if metric not in _TABLE3_METRICS:
            raise InputError(f"`metric` must be one of {_TABLE3_METRICS}, got {metric!r}")
        ax = get_ax(ax)
        tab = self.summary[self.summary["metric"] == metric]
        cohorts = list(dict.fromkeys(tab["cohort"]))
        models = list(dict.fromkeys(tab["model"]))
        step = 0.7 / max(len(models), 1)
        for k, model in enumerate(models):
            sub = tab[tab["model"] == model].set_index("cohort").reindex(cohorts)
            pos = np.arange(len(cohorts)) + (k - (len(models) - 1) / 2) * step
            est = sub["estimate"].to_numpy(dtype=float)
            err = np.clip(
                np.vstack([est - sub["ci_low"].to_numpy(float), sub["ci_high"] - est]), 0, None
            )
            style = {"fmt": "o", "capsize": 3, "color": series_colour(k)} | kwargs
            ax.errorbar(est, pos, xerr=err, label=str(model), **style)
        ax.set_yticks(np.arange(len(cohorts)), cohorts)
        ax.invert_yaxis()
        ax.set_xlabel(_TABLE3_LABELS[metric])
        ax.legend(fontsize="small", loc="best")
        return ax

    def formatted(self, *, decimals: int = 3) -> pd.DataFrame:
        """Publication table: ``"0.812 (0.751-0.873)"`` strings, one row per cohort x model."""
        perf = self.performance
        f = f"{{:.{decimals}f}}"

        def fmt(est: pd.Series, lo: pd.Series, hi: pd.Series) -> list[str]:
            return [
                "NA" if pd.isna(e) else f"{f.format(e)} ({f.format(a)}\u2013{f.format(b)})"
                for e, a, b in zip(est, lo, hi, strict=True)
            ]

        out = pd.DataFrame({"cohort": perf["cohort"], "model": perf["model"]})
        out["AUC (95% CI)"] = fmt(perf["auc"], perf["auc_ci_low"], perf["auc_ci_high"])
        for col, label in (
            ("accuracy", "ACC"),
            ("sensitivity", "SEN"),
            ("specificity", "SPE"),
            ("ppv", "PPV"),
            ("npv", "NPV"),
        ):
            out[label] = [("NA" if pd.isna(v) else f.format(v)) for v in perf[col]]
        return out

    def __repr__(self) -> str:
        return (
            f"PerformanceTable({self.performance['cohort'].nunique()} cohorts, "
            f"{self.performance['model'].nunique()} models, cutoffs from "
            f"{self.training or 'user'})"
        )


def _check_cohorts(cohorts: Mapping[str, CohortInput]) -> dict[str, tuple[np.ndarray, dict]]:
    if not isinstance(cohorts, Mapping) or not cohorts:
        raise InputError("`cohorts` must be a non-empty mapping {cohort: (y, {model: p})}")
    out = {}
    for name, value in cohorts.items():
        if not (isinstance(value, tuple | list) and len(value) == 2):
            raise InputError(f"cohort {name!r}: expected a pair (y, {{model: p}})")
        y, models = value
        if not isinstance(models, Mapping) or not models:
            raise InputError(f"cohort {name!r}: the second item must be a mapping {{model: p}}")
        try:
            yy, sc = check_outcome_scores(y, dict(models))
        except InputError as exc:
            raise InputError(f"cohort {name!r}: {exc}") from None
        out[str(name)] = (yy, sc)
    return out


def performance_table(
    cohorts: Mapping[str, CohortInput],
    *,
    thresholds: Mapping[str, float] | float | None = None,
    training: str | None = None,
    ci: Literal["delong", "bootstrap"] = "delong",
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = None,
    ci_method: Literal["wilson", "clopper-pearson"] = "wilson",
    conf_level: float = 0.95,
    reference: str | None = None,
) -> PerformanceTable:
    """Per cohort x model: AUC (95% CI), ACC, SEN, SPE, PPV, NPV, and DeLong comparisons.

    Parameters
    ----------
    cohorts : mapping
        ``{"Training": (y, {"Clinical model": p, "Nomogram": p2}), "Internal test": ...}``;
        every cohort may hold any subset of the models.
    thresholds : mapping, float or None
        Cutoff per model (``p >= cutoff`` is positive), one cutoff for all, or None to derive
        each model's Youden cutoff (pROC midpoint convention) on the ``training`` cohort and
        apply it unchanged to every cohort.
    training : str, optional
        Cohort used to derive cutoffs; default the first cohort.
    ci : {"delong", "bootstrap"}
        AUC interval, see :func:`roc_auc`.
    n_boot : int
        Bootstrap resamples (``ci="bootstrap"``).
    random_state : int, numpy Generator or None
        Seed of the bootstrap (``ci="bootstrap"``); an int seeds every AUC the same way.
    ci_method : {"wilson", "clopper-pearson"}
        Interval of the threshold metrics.
    conf_level : float
        Confidence level of every interval.
    reference : str, optional
        Compare every model with this one only; default all pairs, in the given order.

    Returns
    -------
    PerformanceTable
        ``performance`` columns: ``cohort``, ``model``, ``n``, ``n_events``, ``auc``, ``auc_se``,
        ``auc_ci_low``, ``auc_ci_high``, ``threshold``, and for each of ``accuracy``,
        ``sensitivity``, ``specificity``, ``ppv``, ``npv`` the estimate and
        ``<metric>_ci_low`` / ``<metric>_ci_high``, plus ``tp``, ``fp``, ``tn``, ``fn``.
        ``comparisons`` columns: ``cohort``, ``model_1``, ``model_2`` and the columns of
        :func:`delong_test`. ``thresholds``: the cutoffs used. ``summary`` is the tidy long
        table (cohort x model x metric with ``estimate``, ``ci_low``, ``ci_high``),
        ``formatted()`` the publication table with ``"AUC (95% CI)"`` strings and ``plot()``
        the AUCs with their intervals.

    Raises
    ------
    InputError
        Malformed ``cohorts``, bad data in any cohort (the message names it), unknown
        ``training``/``reference`` or a model without a cutoff.

    Notes
    -----
    Scores are taken with higher = event (``direction="<"``). The DeLong comparisons are
    paired tests within a cohort (:func:`delong_test`).

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> clin = [0.2, 0.1, 0.4, 0.3, 0.5, 0.6, 0.4, 0.8]
    >>> nomo = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> tab = performance_table({"Training": (y, {"Clinical": clin, "Nomogram": nomo})})
    >>> tab.formatted()[["model", "AUC (95% CI)", "SEN", "SPE"]]
          model         AUC (95% CI)    SEN    SPE
    0  Clinical  0.781 (0.424–1.000)  1.000  0.500
    1  Nomogram  0.938 (0.764–1.000)  1.000  0.750
    """
    conf_level = check_conf_level(conf_level)
    data = _check_cohorts(cohorts)
    names = list(data)
    models = list(dict.fromkeys(m for _, sc in data.values() for m in sc))
    train = None
    if thresholds is None:
        train = names[0] if training is None else str(training)
        if train not in data:
            raise InputError(f"`training` cohort {training!r} is not among {names}")
        ty, tsc = data[train]
        missing = [m for m in models if m not in tsc]
        if missing:
            raise InputError(
                f"model(s) {missing} are not in the training cohort {train!r}, so no cutoff "
                "can be derived; pass `thresholds`"
            )
        cut = {m: float(youden_threshold(ty, tsc[m]).threshold) for m in models}
    elif isinstance(thresholds, Mapping):
        missing = [m for m in models if m not in thresholds]
        if missing:
            raise InputError(f"`thresholds` has no cutoff for model(s) {missing}")
        cut = {m: check_threshold(thresholds[m]) for m in models}
    else:
        t = check_threshold(thresholds)
        cut = dict.fromkeys(models, t)
    if reference is not None and reference not in models:
        raise InputError(f"`reference` model {reference!r} is not among {models}")

    perf_rows = []
    comp_rows = []
    for ci_name, (yy, sc) in data.items():
        for model, s in sc.items():
            a = roc_auc(
                yy, s, ci=ci, n_boot=n_boot, random_state=random_state, conf_level=conf_level
            ).iloc[0]
            dm = diagnostic_metrics(yy, s, cut[model], ci_method=ci_method, conf_level=conf_level)
            row = {
                "cohort": ci_name,
                "model": model,
                "n": int(yy.size),
                "n_events": int(yy.sum()),
                "auc": a["estimate"],
                "auc_se": a["se"],
                "auc_ci_low": a["ci_low"],
                "auc_ci_high": a["ci_high"],
                "threshold": cut[model],
            }
            for metric in dm.index:
                row[metric] = dm.at[metric, "estimate"]
                row[f"{metric}_ci_low"] = dm.at[metric, "ci_low"]
                row[f"{metric}_ci_high"] = dm.at[metric, "ci_high"]
            for c in ("tp", "fp", "tn", "fn"):
                row[c] = int(dm[c].iloc[0])
            perf_rows.append(row)
        present = [m for m in models if m in sc]
        if reference is None:
            pairs = list(itertools.combinations(present, 2))
        else:
            pairs = [(reference, m) for m in present if m != reference and reference in sc]
        for m1, m2 in pairs:
            t = delong_test(yy, sc[m1], sc[m2], conf_level=conf_level).iloc[0].to_dict()
            comp_rows.append({"cohort": ci_name, "model_1": m1, "model_2": m2, **t})
    comp_cols = ["cohort", "model_1", "model_2", *DELONG_COLUMNS]
    return PerformanceTable(
        performance=pd.DataFrame(perf_rows),
        comparisons=pd.DataFrame(comp_rows, columns=comp_cols),
        thresholds=cut,
        training=train,
    )
