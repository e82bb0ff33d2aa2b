"""Reclassification: what a new model changes for patients compared with a reference model,
and how the outcome differs between the risk groups a cutoff makes.

- :func:`nri` -- net reclassification improvement (continuous and categorical), as
  ``Hmisc::improveProb`` and PredictABEL's ``reclassification``;
- :func:`idi` -- integrated discrimination improvement, as ``Hmisc::improveProb``;
- :func:`risk_group_table` / :func:`plot_risk_groups` -- the outcome proportion (with a binomial
  CI) in the low- and high-risk groups of each cohort.

Predicted risks of the two models are ``p_old`` (reference) and ``p_new``; outcomes are ``y``
(0/1, 1 = event). A patient is high risk when ``p >= threshold``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from radiomics_aln._plotting import RISK_COLOURS, get_ax, legend_below
from radiomics_aln._validation import (
    check_1d,
    check_conf_level,
    check_outcome_scores,
    check_threshold,
)
from radiomics_aln.exceptions import InputError
from radiomics_aln.metrics import YoudenThreshold
from radiomics_aln.performance import binomial_ci

__all__ = ["nri", "idi", "risk_group_table", "plot_risk_groups"]


# --------------------------------------------------------------------------- NRI / IDI


def _check_cutoffs(cutoffs: Any) -> np.ndarray:
    c = check_1d(cutoffs, "cutoffs")
    if c.size >= 2 and c[0] == 0 and c[-1] == 1:
        c = c[1:-1]  # PredictABEL style c(0, ..., 1): keep the interior cutoffs
    if c.size == 0:
        raise InputError("`cutoffs` needs at least one interior cutoff in (0, 1)")
    if np.any(np.diff(c) <= 0):
        raise InputError(
            f"`cutoffs` must be strictly increasing without duplicates, got {c.tolist()}"
        )
    if c[0] <= 0 or c[-1] >= 1:
        raise InputError(f"`cutoffs` must lie strictly between 0 and 1, got {c.tolist()}")
    return c


def _nri_rows(kind: str, y: np.ndarray, d: np.ndarray, z: float) -> list[dict[str, Any]]:
    """Hmisc::improveProb's NRI and its components from the reclassification signs ``d``."""
    ev, ne = y == 1, y == 0
    na, nb = int(ev.sum()), int(ne.sum())
    up_ev, down_ev = int(np.sum(d[ev] > 0)), int(np.sum(d[ev] < 0))
    up_ne, down_ne = int(np.sum(d[ne] > 0)), int(np.sum(d[ne] < 0))
    nri_ev = (up_ev - down_ev) / na
    nri_ne = (down_ne - up_ne) / nb
    # Hmisc >= 4.x variance (multinomial, not Pencina's null variance):
    v_ev = (up_ev + down_ev) / na**2 - (up_ev - down_ev) ** 2 / na**3
    v_ne = (down_ne + up_ne) / nb**2 - (down_ne - up_ne) ** 2 / nb**3
    rows = []
    for comp, est, var, n, up, down in (
        ("overall", nri_ev + nri_ne, v_ev + v_ne, na + nb, up_ev + up_ne, down_ev + down_ne),
        ("events", nri_ev, v_ev, na, up_ev, down_ev),
        ("non_events", nri_ne, v_ne, nb, up_ne, down_ne),
    ):
        se = math.sqrt(var)
        zz = est / se if se > 0 else (0.0 if est == 0 else math.copysign(math.inf, est))
        rows.append(
            {
                "type": kind,
                "component": comp,
                "estimate": est,
                "se": se,
                "ci_low": est - z * se,
                "ci_high": est + z * se,
                "z": zz,
                "p_value": float(2 * stats.norm.sf(abs(zz))),
                "n": n,
                "n_up": up,
                "n_down": down,
            }
        )
    return rows


def nri(
    y: Any,
    p_old: Any,
    p_new: Any,
    *,
    cutoffs: Sequence[float] | np.ndarray | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Net reclassification improvement of ``p_new`` over ``p_old`` (Pencina et al. 2008).

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    p_old, p_new : array-like of float in [0, 1]
        Predicted risks of the reference and the new model for the same patients.
    cutoffs : sequence of float, optional
        Risk category boundaries for the categorical NRI, e.g. ``[0.1, 0.3]`` (PredictABEL's
        ``c(0, 0.1, 0.3, 1)`` is accepted too). Categories are ``[a, b)``: a risk equal to a
        cutoff belongs to the higher category (PredictABEL: ``cut(right = FALSE)``).
        Without cutoffs only the continuous NRI is returned.
    conf_level : float
        Confidence level of the normal interval.

    Returns
    -------
    pandas.DataFrame
        Rows per ``type`` (``"continuous"``, then ``"categorical"`` if cutoffs are given) and
        ``component`` (``"overall"``, ``"events"``, ``"non_events"``), columns ``type``,
        ``component``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``z``, ``p_value``
        (two-sided), ``n``, ``n_up`` and ``n_down`` (patients moved up/down).

    Raises
    ------
    InputError
        Bad ``y``, risks outside [0, 1] or NaN, length mismatch, bad cutoffs.

    Notes
    -----
    ``NRI = [P(up | event) - P(down | event)] + [P(down | non-event) - P(up | non-event)]``,
    where "up" is ``p_new > p_old`` (continuous) or a move to a higher category. The SE is
    ``Hmisc::improveProb``'s (Hmisc >= 4): for events,
    ``var = (n_up + n_down)/n^2 - (n_up - n_down)^2/n^3``, likewise for non-events, summed.
    The continuous NRI equals ``improveProb(p_old, p_new, y)``; the categorical NRI equals
    PredictABEL's ``reclassification()``, which applies ``improveProb`` to the category
    numbers.

    References
    ----------
    Pencina MJ, D'Agostino RB Sr, D'Agostino RB Jr, Vasan RS (2008). Evaluating the added
    predictive ability of a new marker: from area under the ROC curve to reclassification and
    beyond. Stat Med 27:157-172.
    Pencina MJ, D'Agostino RB Sr, Steyerberg EW (2011). Extensions of net reclassification
    improvement calculations to measure usefulness of new biomarkers. Stat Med 30:11-21.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> old = [0.1, 0.3, 0.3, 0.4, 0.5, 0.4, 0.6, 0.5]
    >>> new = [0.05, 0.3, 0.2, 0.6, 0.4, 0.5, 0.7, 0.4]
    >>> nri(y, old, new)[["type", "component", "estimate", "n_up", "n_down"]]  # Hmisc::improveProb
             type   component  estimate  n_up  n_down
    0  continuous     overall      1.25     3       4
    1  continuous      events      0.50     3       1
    2  continuous  non_events      0.75     0       3
    """
    conf_level = check_conf_level(conf_level)
    yy, sc = check_outcome_scores(y, {"p_old": p_old, "p_new": p_new}, probabilities=True)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    rows = _nri_rows("continuous", yy, sc["p_new"] - sc["p_old"], z)
    if cutoffs is not None:
        c = _check_cutoffs(cutoffs)
        cat_old = np.searchsorted(c, sc["p_old"], side="right")
        cat_new = np.searchsorted(c, sc["p_new"], side="right")
        rows += _nri_rows("categorical", yy, (cat_new - cat_old).astype(float), z)
    return pd.DataFrame(rows)


def idi(y: Any, p_old: Any, p_new: Any, *, conf_level: float = 0.95) -> pd.DataFrame:
    """Integrated discrimination improvement of ``p_new`` over ``p_old``.

    Parameters
    ----------
    y : array-like of 0/1
        Outcome, 1 = event.
    p_old, p_new : array-like of float in [0, 1]
        Predicted risks of the reference and the new model.
    conf_level : float
        Confidence level of the normal interval.

    Returns
    -------
    pandas.DataFrame
        Three rows, the same schema as :func:`nri` (so the two tables stack): ``type``
        (``"idi"``), ``component`` (``"overall"``: the IDI; ``"events"``: mean risk increase in
        events, Hmisc's ``improveSens``; ``"non_events"``: mean risk decrease in non-events,
        ``improveSpec``), ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``z``, ``p_value``,
        ``n``.

    Raises
    ------
    InputError
        Bad ``y``, risks outside [0, 1] or NaN, length mismatch.

    Notes
    -----
    With ``d = p_new - p_old``: ``IDI = mean(d | event) - mean(d | non-event)`` and
    ``se = sqrt(var(d | event)/n_e + var(d | non-event)/n_ne)`` (sample variances), exactly
    ``Hmisc::improveProb``'s ``idi``, ``se.idi`` and ``z.idi``. The components' SEs
    (``sd/sqrt(n)`` within each group) are our addition; Hmisc reports none.

    References
    ----------
    Pencina MJ, D'Agostino RB Sr, D'Agostino RB Jr, Vasan RS (2008). Stat Med 27:157-172.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> old = [0.1, 0.3, 0.3, 0.4, 0.5, 0.4, 0.6, 0.5]
    >>> new = [0.05, 0.3, 0.2, 0.6, 0.4, 0.5, 0.7, 0.4]
    >>> idi(y, old, new)[["component", "estimate", "se"]].round(4)  # Hmisc::improveProb
        component  estimate      se
    0     overall    0.1375  0.0673
    1      events    0.0750  0.0629
    2  non_events    0.0625  0.0239
    """
    conf_level = check_conf_level(conf_level)
    yy, sc = check_outcome_scores(y, {"p_old": p_old, "p_new": p_new}, probabilities=True)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    d = sc["p_new"] - sc["p_old"]
    de, dn = d[yy == 1], d[yy == 0]
    var_e = de.var(ddof=1) / de.size if de.size > 1 else math.nan
    var_n = dn.var(ddof=1) / dn.size if dn.size > 1 else math.nan
    rows = {
        "overall": (de.mean() - dn.mean(), math.sqrt(var_e + var_n), yy.size),
        "events": (de.mean(), math.sqrt(var_e), de.size),
        "non_events": (-dn.mean(), math.sqrt(var_n), dn.size),
    }
    recs = []
    for comp, (est, se, n) in rows.items():
        zz = est / se if se > 0 else (0.0 if est == 0 else math.copysign(math.inf, est))
        recs.append(
            {
                "type": "idi",
                "component": comp,
                "estimate": float(est),
                "se": se,
                "ci_low": est - z * se,
                "ci_high": est + z * se,
                "z": zz,
                "p_value": float(2 * stats.norm.sf(abs(zz))),
                "n": n,
            }
        )
    return pd.DataFrame(recs)


# --------------------------------------------------------------------------- risk groups


def risk_group_table(
    cohorts: Mapping[str, tuple[Any, Any]],
    threshold: float | YoudenThreshold,
    *,
    ci_method: Literal["wilson", "clopper-pearson"] = "wilson",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Outcome proportion in the low- and high-risk groups of each cohort.

    Parameters
    ----------
    cohorts : mapping
        ``{"Training": (y, p), "External": (y, p)}``.
    threshold : float
        Cutoff; ``p >= threshold`` is high risk.
    ci_method : {"wilson", "clopper-pearson"}
        Interval of each proportion.
    conf_level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Columns ``cohort``, ``group`` (``"low"``/``"high"``), ``n``, ``n_events``,
        ``estimate`` (the proportion with the outcome), ``ci_low``, ``ci_high``, ``threshold``.

    Raises
    ------
    InputError
        Malformed ``cohorts`` or bad data (the message names the cohort).

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> risk_group_table({"Training": (y, p)}, 0.45)[["group", "n", "n_events", "estimate"]]
      group  n  n_events  estimate
    0   low  4         1      0.25
    1  high  4         3      0.75
    """
    t = check_threshold(threshold)
    if not isinstance(cohorts, Mapping) or not cohorts:
        raise InputError("`cohorts` must be a non-empty mapping {cohort: (y, p)}")
    rows = []
    for name, value in cohorts.items():
        if not (isinstance(value, tuple | list) and len(value) == 2):
            raise InputError(f"cohort {name!r}: expected a pair (y, p)")
        try:
            yy, sc = check_outcome_scores(value[0], {"p": value[1]}, require_both=False)
        except InputError as exc:
            raise InputError(f"cohort {name!r}: {exc}") from None
        high = sc["p"] >= t
        for group, mask in (("low", ~high), ("high", high)):
            n = int(mask.sum())
            k = int(yy[mask].sum())
            lo, hi = binomial_ci([k], [n], method=ci_method, conf_level=conf_level)
            rows.append(
                {
                    "cohort": str(name),
                    "group": group,
                    "n": n,
                    "n_events": k,
                    "estimate": k / n if n else math.nan,
                    "ci_low": float(lo[0]),
                    "ci_high": float(hi[0]),
                    "threshold": t,
                }
            )
    return pd.DataFrame(rows)


def plot_risk_groups(
    cohorts: Mapping[str, tuple[Any, Any]] | pd.DataFrame,
    *,
    threshold: float | None = None,
    ax: Any = None,
    ci: bool = True,
    colors: tuple[str, str] = (RISK_COLOURS["low"], RISK_COLOURS["high"]),
    **kwargs: Any,
) -> Any:
    """Bar chart of the outcome proportion in low- vs high-risk patients per cohort.

    Parameters
    ----------
    cohorts : mapping or DataFrame
        ``{"Training": (y, p), ...}`` (then ``threshold`` is required) or the output of
        :func:`risk_group_table`.
    threshold : float, optional
        Cutoff, ``p >= threshold`` is high risk.
    ax : matplotlib Axes, optional
        Axes to draw on.
    ci : bool
        Draw the confidence intervals as error bars.
    colors : (str, str)
        Colours of the low- and high-risk bars.
    **kwargs
        Passed to ``ax.bar``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = plot_risk_groups({"Training": (y, p)}, threshold=0.45, ax=ax)
    >>> len(ax.patches)
    2
    """
    ax = get_ax(ax)
    if isinstance(cohorts, pd.DataFrame):
        table = cohorts
    else:
        if threshold is None:
            raise InputError("`threshold` is required when `cohorts` holds (y, p) pairs")
        table = risk_group_table(cohorts, threshold)
    names = list(dict.fromkeys(table["cohort"]))
    x = np.arange(len(names))
    width = 0.38
    for i, (group, color) in enumerate(zip(("low", "high"), colors, strict=True)):
        sub = table[table["group"] == group].set_index("cohort").reindex(names)
        pos = x + (i - 0.5) * width
        err = None
        if ci:
            # A Wilson bound for 0/n or n/n can miss the proportion by ~1e-17; matplotlib
            # refuses negative error-bar lengths.
            err = np.clip(
                np.vstack(
                    [
                        (sub["estimate"] - sub["ci_low"]).to_numpy(),
                        (sub["ci_high"] - sub["estimate"]).to_numpy(),
                    ]
                ),
                0.0,
                None,
            )
        bar_kw = {"capsize": 3, "color": color, "label": f"{group.capitalize()} risk"} | kwargs
        ax.bar(pos, sub["estimate"].to_numpy(), width, yerr=err, **bar_kw)
        # Label each bar "events/n" above its error bar so the two never overlap.
        tops = sub["ci_high"] if ci else sub["estimate"]
        for xi, (k, n, prop, top) in zip(
            pos,
            np.column_stack([sub[["n_events", "n", "estimate"]].to_numpy(), tops]),
            strict=True,
        ):
            if n and not np.isnan(prop):
                ax.annotate(
                    f"{int(k)}/{int(n)}",
                    (xi, top),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize="small",
                )
    ax.set_xticks(x, names)
    # headroom above 100 % for the "events/n" labels; the legend goes below the axes
    ax.set_ylim(0, 1.12)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("Proportion with the outcome")
    legend_below(ax, ncol=2)
    return ax

