"""Classification at a cutoff and the multi-cohort performance table (a paper's Table 3).

- :func:`binomial_ci` -- Wilson and Clopper-Pearson intervals of proportions;
- :func:`diagnostic_metrics` -- accuracy, sensitivity, specificity, PPV and NPV at a cutoff,
  each with its binomial interval (pROC's ``coords``);
- :func:`performance_table` / :class:`PerformanceTable` -- per cohort and model the AUC with
  its CI (:func:`radiomics_aln.metrics.roc_auc`), the threshold metrics at cutoffs derived on
  the training cohort (Youden) and the DeLong comparisons between models;
- :func:`delong_comparisons` -- DeLong tests between the models of each cohort, with p-values
  adjusted for multiplicity within each cohort by :func:`p_adjust` (Holm, Bonferroni: R's
  ``p.adjust``).

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

from radiomics_aln._display import html_block
from radiomics_aln._plotting import get_ax, series_colour
from radiomics_aln._report_tables import delong_view
from radiomics_aln._validation import check_conf_level, check_outcome_scores, check_threshold
from radiomics_aln.exceptions import InputError
from radiomics_aln.formatting import format_estimate_ci, format_number
from radiomics_aln.metrics import (
    DELONG_COLUMNS,
    YoudenThreshold,
    delong_test,
    roc_auc,
    youden_threshold,
)

__all__ = [
    "binomial_ci",
    "diagnostic_metrics",
    "performance_table",
    "PerformanceTable",
    "delong_comparisons",
    "p_adjust",
    "P_ADJUST_METHODS",
]


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


# --------------------------------------------------------------------------- multiplicity

#: the methods of :func:`p_adjust` (R ``p.adjust`` names)
P_ADJUST_METHODS = ("holm", "bonferroni", "none")


def p_adjust(p: Any, method: str = "holm") -> np.ndarray:
    """P-values adjusted for multiple comparisons, as R's ``p.adjust(p, method)``.

    Parameters
    ----------
    p : array-like of float
        P-values of one family of tests, in [0, 1]; NaN marks a missing p-value.
    method : {"holm", "bonferroni", "none"}
        Holm's step-down method (controls the family-wise error rate, uniformly more powerful
        than Bonferroni), Bonferroni's, or no adjustment.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the order of ``p``. As in R, a missing p-value stays missing and
        the family size ``n`` counts the non-missing p-values only.

    Raises
    ------
    InputError
        Unknown ``method``, p-values outside [0, 1], or not one-dimensional.

    Notes
    -----
    With the ``n`` non-missing p-values sorted increasingly, :math:`p_{(1)} \\le \\dots \\le
    p_{(n)}`, Holm's adjusted values are
    :math:`\\tilde p_{(i)} = \\min\\{1, \\max_{j \\le i} (n - j + 1)\\, p_{(j)}\\}` and
    Bonferroni's :math:`\\min(1, n p_i)`. Tied p-values get equal adjusted values.

    References
    ----------
    Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J Stat
    6:65-70.

    Examples
    --------
    >>> p_adjust([0.01, 0.04, 0.03, 0.005])  # R: p.adjust(c(.01, .04, .03, .005), "holm")
    array([0.03, 0.06, 0.06, 0.02])
    >>> p_adjust([0.01, float("nan"), 0.4], "bonferroni")
    array([0.02,  nan, 0.8 ])
    """
    if method not in P_ADJUST_METHODS:
        raise InputError(f"`method` must be one of {list(P_ADJUST_METHODS)}, got {method!r}")
    values = np.asarray(p, dtype=float)
    if values.ndim != 1:
        raise InputError(f"`p` must be one-dimensional, got shape {values.shape}")
    ok = ~np.isnan(values)
    if np.any((values[ok] < 0) | (values[ok] > 1)):
        bad = values[ok & ((values < 0) | (values > 1))]
        raise InputError(f"`p` must lie in [0, 1]; got {bad.tolist()}")
    out = values.copy()
    q = values[ok]
    n = q.size
    if method == "bonferroni":
        out[ok] = np.minimum(1.0, n * q)
    elif method == "holm" and n:
        order = np.argsort(q, kind="stable")
        steps = (n - np.arange(n)) * q[order]
        adjusted = np.empty(n)
        adjusted[order] = np.minimum(1.0, np.maximum.accumulate(steps))
        out[ok] = adjusted
    return out


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
_FORMATTED_METRICS = {
    "accuracy": "ACC",
    "sensitivity": "SEN",
    "specificity": "SPE",
    "ppv": "PPV",
    "npv": "NPV",
}
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
    conf_level, ci_method, auc_ci
        Confidence level, interval of the proportions (``"wilson"`` or
        ``"clopper-pearson"``) and of the AUC (``"delong"`` or ``"bootstrap"``).

    ``summary`` is the tidy long table, ``formatted()`` the publication table and ``plot()``
    the AUCs with their intervals. In a notebook the object shows the publication table, the
    DeLong comparisons (p-values as journals print them) and :meth:`note`.
    """

    performance: pd.DataFrame
    comparisons: pd.DataFrame
    thresholds: dict[str, float] = field(default_factory=dict)
    training: str | None = None
    conf_level: float = 0.95
    ci_method: str = "wilson"
    auc_ci: str = "delong"

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
        """Publication table: one row per cohort x model, every estimate with its interval.

        Columns ``Cohort``, ``Model``, ``n (events)``, ``AUC (95% CI)``, ``Cutoff`` (the rule
        ``>= threshold`` applied, derived on the training cohort), then ``ACC``, ``SEN``,
        ``SPE``, ``PPV`` and ``NPV``, each ``"(95% CI)"``: strings such as
        ``"0.812 (0.751–0.873)"`` (the level follows ``conf_level``). :meth:`note` says which
        intervals these are.
        """
        perf = self.performance
        level = f"{100 * self.conf_level:g}% CI"
        out = pd.DataFrame({"Cohort": perf["cohort"], "Model": perf["model"]})
        out["n (events)"] = [f"{n} ({e})" for n, e in zip(perf["n"], perf["n_events"], strict=True)]
        out[f"AUC ({level})"] = [
            format_estimate_ci(e, a, b, decimals, missing="NA")
            for e, a, b in zip(perf["auc"], perf["auc_ci_low"], perf["auc_ci_high"], strict=True)
        ]
        out["Cutoff"] = ["\u2265 " + format_number(t, decimals) for t in perf["threshold"]]
        for col, label in _FORMATTED_METRICS.items():
            out[f"{label} ({level})"] = [
                format_estimate_ci(e, a, b, decimals, missing="NA")
                for e, a, b in zip(
                    perf[col], perf[f"{col}_ci_low"], perf[f"{col}_ci_high"], strict=True
                )
            ]
        return out

    def note(self) -> str:
        """What the columns of :meth:`formatted` are: abbreviations, intervals and cutoffs."""
        level = f"{100 * self.conf_level:g}%"
        auc_ci = {
            "delong": "DeLong",
            "bootstrap": "stratified bootstrap percentile",
        }.get(self.auc_ci, self.auc_ci)
        prop_ci = {
            "wilson": "Wilson score intervals (no continuity correction)",
            "clopper-pearson": "exact Clopper-Pearson intervals",
        }.get(self.ci_method, self.ci_method)
        where = (
            f"derived on the {self.training} cohort (Youden index) and applied unchanged to every "
            "cohort"
            if self.training is not None
            else "given by the user"
        )
        return (
            "ACC accuracy, SEN sensitivity, SPE specificity, PPV positive and NPV negative "
            f"predictive value, each with {level} {prop_ci}; AUC with its {level} {auc_ci} "
            f"interval. A case is called positive when its score is at or above the cutoff, "
            f"{where}."
        )

    def _repr_html_(self) -> str:
        """Notebook view: the cutoffs and intervals used, :meth:`formatted`, the DeLong tests."""
        perf = self.performance
        level = f"{100 * self.conf_level:g}%"
        facts = {
            "cohorts": ", ".join(map(str, dict.fromkeys(perf["cohort"]))),
            "models": ", ".join(map(str, dict.fromkeys(perf["model"]))),
            "cutoffs": (
                f"Youden index on the {self.training} cohort"
                if self.training is not None
                else "given by the user"
            ),
            "intervals": f"{level}; AUC: {self.auc_ci}; proportions: {self.ci_method}",
        }
        tables = [(f"Performance ({level} CI)", self.formatted())]
        notes = [self.note()]
        comp = self.comparisons
        if len(comp):
            method = comp["p_adjust_method"].iloc[0] if "p_adjust_method" in comp else None
            sizes = sorted(set(comp.groupby("cohort", sort=False).size()))
            family = f"{'/'.join(map(str, sizes))} comparisons per cohort"
            view, delong_note = delong_view(comp, method=method, family=family)
            if level != "95%":  # the view is written for the usual level
                view.columns = [c.replace("95% CI", f"{level} CI") for c in view.columns]
                delong_note = delong_note.replace("95% CI", f"{level} CI")
            tables.append(("DeLong comparisons", view))
            notes.append(delong_note)
        return html_block("PerformanceTable", facts=facts, tables=tables, note=" ".join(notes))

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


def _adjust_within_cohorts(comp: pd.DataFrame, method: str | None) -> pd.DataFrame:
    method = "none" if method is None else method
    if method not in P_ADJUST_METHODS:
        raise InputError(
            f"`p_adjust` must be None, 'holm' or 'bonferroni', got {method!r}"
        )
    adjusted = np.full(len(comp), np.nan)
    for _, idx in comp.groupby("cohort", sort=False).indices.items():
        adjusted[idx] = p_adjust(comp["p_value"].to_numpy(dtype=float)[idx], method)
    return comp.assign(p_adjusted=adjusted, p_adjust_method=method)


def _comparisons(
    data: Mapping[str, tuple[np.ndarray, dict]],
    models: list[str],
    reference: str | None,
    conf_level: float,
    method: str | None,
) -> pd.DataFrame:
    if reference is not None and reference not in models:
        raise InputError(f"`reference` model {reference!r} is not among {models}")
    rows = []
    for name, (yy, sc) in data.items():
        present = [m for m in models if m in sc]
        if reference is None:
            pairs = list(itertools.combinations(present, 2))
        else:
            pairs = [(reference, m) for m in present if m != reference and reference in sc]
        for m1, m2 in pairs:
            t = delong_test(yy, sc[m1], sc[m2], conf_level=conf_level).iloc[0].to_dict()
            rows.append({"cohort": name, "model_1": m1, "model_2": m2, **t})
    comp = pd.DataFrame(rows, columns=["cohort", "model_1", "model_2", *DELONG_COLUMNS])
    return _adjust_within_cohorts(comp, method)


def delong_comparisons(
    cohorts: Mapping[str, CohortInput],
    *,
    reference: str | None = None,
    conf_level: float = 0.95,
    p_adjust: str | None = None,
) -> pd.DataFrame:
    """Paired DeLong tests between the models of each cohort, optionally adjusted (Holm).

    Parameters
    ----------
    cohorts : mapping
        ``{"Training": (y, {"Clinical model": p, "Nomogram": p2}), ...}`` as for
        :func:`performance_table`.
    reference : str, optional
        Compare this model with each other model (``model_1`` is the reference, so
        ``estimate = AUC(reference) - AUC(other)``); default every pair, in the given order.
    conf_level : float
        Confidence level of the interval of each AUC difference.
    p_adjust : {None, "holm", "bonferroni"}
        Adjust the p-values for the number of comparisons *within each cohort* (one family per
        cohort), as R's ``p.adjust`` (:func:`p_adjust`); None leaves them as they are.

    Returns
    -------
    pandas.DataFrame
        One row per cohort and pair: ``cohort``, ``model_1``, ``model_2``, the columns of
        :func:`radiomics_aln.metrics.delong_test` (``auc_1``, ``auc_2``, ``estimate`` =
        ``auc_1 - auc_2``, ``ci_low``, ``ci_high``, ``z``, ``p_value``, ...), ``p_adjusted``
        (equal to ``p_value`` without adjustment) and ``p_adjust_method`` (``"none"``,
        ``"holm"`` or ``"bonferroni"``).

    Raises
    ------
    InputError
        Malformed ``cohorts``, an unknown ``reference`` or ``p_adjust``.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> models = {"A": [0.2, 0.1, 0.4, 0.3, 0.5, 0.6, 0.4, 0.8],
    ...           "B": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
    ...           "C": [0.3, 0.1, 0.2, 0.5, 0.4, 0.7, 0.6, 0.9]}
    >>> tab = delong_comparisons({"Training": (y, models)}, reference="B", p_adjust="holm")
    >>> tab[["model_1", "model_2", "estimate", "p_value", "p_adjusted"]].round(3)
      model_1 model_2  estimate  p_value  p_adjusted
    0       B       A     0.156    0.239       0.477
    1       B       C    -0.062    0.480       0.480
    """
    conf_level = check_conf_level(conf_level)
    data = _check_cohorts(cohorts)
    models = list(dict.fromkeys(m for _, sc in data.values() for m in sc))
    return _comparisons(data, models, reference, conf_level, p_adjust)


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
    p_adjust: str | None = None,
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
    p_adjust : {None, "holm", "bonferroni"}
        Multiplicity adjustment of the DeLong p-values within each cohort (see
        :func:`delong_comparisons`).

    Returns
    -------
    PerformanceTable
        ``performance`` columns: ``cohort``, ``model``, ``n``, ``n_events``, ``auc``, ``auc_se``,
        ``auc_ci_low``, ``auc_ci_high``, ``threshold``, and for each of ``accuracy``,
        ``sensitivity``, ``specificity``, ``ppv``, ``npv`` the estimate and
        ``<metric>_ci_low`` / ``<metric>_ci_high``, plus ``tp``, ``fp``, ``tn``, ``fn``.
        ``comparisons``: the table of :func:`delong_comparisons`. ``thresholds``: the cutoffs
        used. ``summary`` is the tidy long table (cohort x model x metric with ``estimate``,
        ``ci_low``, ``ci_high``),
        ``formatted()`` the publication table (``"0.812 (0.751–0.873)"`` strings for the AUC and
        every threshold metric, and the cutoff), ``note()`` its footnote and ``plot()`` the AUCs
        with their intervals.

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
    >>> tab.formatted()[["Model", "AUC (95% CI)", "Cutoff", "SEN (95% CI)"]]
          Model         AUC (95% CI)   Cutoff         SEN (95% CI)
    0  Clinical  0.781 (0.424–1.000)  ≥ 0.250  1.000 (0.510–1.000)
    1  Nomogram  0.938 (0.764–1.000)  ≥ 0.350  1.000 (0.510–1.000)
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
    if p_adjust not in (None, *P_ADJUST_METHODS):
        raise InputError(f"`p_adjust` must be None, 'holm' or 'bonferroni', got {p_adjust!r}")

    perf_rows = []
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
    comparisons = _comparisons(data, models, reference, conf_level, p_adjust)
    return PerformanceTable(
        performance=pd.DataFrame(perf_rows),
        comparisons=comparisons,
        thresholds=cut,
        training=train,
        conf_level=conf_level,
        ci_method=ci_method,
        auc_ci=ci,
    )
