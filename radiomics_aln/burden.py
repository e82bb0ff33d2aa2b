"""Axillary tumour burden: the ordinal endpoint, the two-step model and their evaluation.

Since the Z0011 and AMAROS trials the axillary decision hinges on the number of metastatic
nodes: 1-2 positive nodes can spare an axillary dissection (ALND), >= 3 usually cannot. This
module turns a node count into the ordinal endpoint (:func:`burden_levels`, levels from the
configuration), fits the **two-step model** (:class:`TwoStepModel`: step 1 N+ vs N0 on every
patient, step 2 N>=3 vs N1-2 on N+ patients only), tabulates predicted against true burden with
the share of patients who could be spared each surgery (:func:`decision_table`), and evaluates
exceedance probabilities per cumulative split (:func:`split_evaluation`).

The proportional-odds model and its nomogram are :mod:`radiomics_aln.ordinal`; the study that
chains both routes on a cohort is :class:`radiomics_aln.burden_study.BurdenStudy`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from radiomics_aln._display import SummaryHTML
from radiomics_aln._validation import format_items
from radiomics_aln.calibration import val_prob
from radiomics_aln.design import as_frame
from radiomics_aln.exceptions import InputError
from radiomics_aln.metrics import roc_auc
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.ordinal import check_ordinal

__all__ = [
    "DEFAULT_LEVELS",
    "DecisionTable",
    "TwoStepModel",
    "burden_levels",
    "check_endpoint",
    "cutoff_levels",
    "decision_table",
    "split_evaluation",
]

#: The default burden levels: N0, 1-2 and >= 3 metastatic nodes (inclusive count ranges, None
#: for no upper bound).
DEFAULT_LEVELS: dict[str, tuple[int, int | None]] = {"N0": (0, 0), "N1-2": (1, 2), "N>=3": (3, None)}


def _check_levels(levels: Mapping[str, Any] | None) -> dict[str, tuple[int, int | None]]:
    if levels is None:
        return dict(DEFAULT_LEVELS)
    if not isinstance(levels, Mapping) or len(levels) == 0:
        raise InputError(
            "endpoint levels must be a non-empty mapping {name: [low, high]}, e.g. "
            '{N0: [0, 0], "N1-2": [1, 2], "N>=3": [3, null]}'
        )
    out: dict[str, tuple[int, int | None]] = {}
    expect = 0
    items = list(levels.items())
    for i, (name, rng) in enumerate(items):
        ok = isinstance(rng, Sequence) and not isinstance(rng, str) and len(rng) == 2
        lo, hi = (rng[0], rng[1]) if ok else (None, None)
        ints = ok and isinstance(lo, int) and not isinstance(lo, bool) and (
            hi is None or (isinstance(hi, int) and not isinstance(hi, bool)))  # fmt: skip
        if not ints:
            raise InputError(
                f"endpoint level {name!r} must be [low, high] node counts (whole numbers; high "
                f"null for no bound), got {rng!r}"
            )
        if lo != expect or (hi is not None and hi < lo):
            raise InputError(
                f"endpoint level {name!r} = {list(rng)!r}: the levels must cover the counts "
                f"0, 1, 2, ... in order without gaps or overlaps (this level should start at "
                f"{expect})"
            )
        if hi is None and i != len(items) - 1:
            raise InputError(f"only the last endpoint level may be open-ended (not {name!r})")
        out[str(name)] = (lo, hi)
        expect = -1 if hi is None else hi + 1
    if list(out.values())[-1][1] is not None:
        raise InputError(
            f"the last endpoint level {list(out)[-1]!r} must be open-ended ([low, null]) so "
            "that every count has a level"
        )
    if len(out) < 3:
        raise InputError(f"an ordinal endpoint needs at least 3 levels, got {format_items(out)}")
    return out


def check_endpoint(endpoint: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``endpoint`` setting of a study, checked and completed.

    Parameters
    ----------
    endpoint : mapping or None
        ``{type: ordinal, column: <count column>, levels: {name: [low, high], ...}}``; levels
        default to :data:`DEFAULT_LEVELS`, ``column`` to ``n_positive_nodes``.

    Returns
    -------
    dict
        ``type``, ``column``, ``levels`` (``{name: (low, high)}``).

    Raises
    ------
    InputError
        Unknown keys or type, levels that are empty, overlap, leave gaps or are not closed.

    Examples
    --------
    >>> check_endpoint({"type": "ordinal", "column": "n_pos"})["levels"]
    {'N0': (0, 0), 'N1-2': (1, 2), 'N>=3': (3, None)}
    """
    if endpoint is None:
        raise InputError("no endpoint: set `endpoint: {type: ordinal, column: ..., levels: ...}`")
    if not isinstance(endpoint, Mapping):
        raise InputError(f"endpoint must be a mapping {{type, column, levels}}, got {endpoint!r}")
    unknown = set(endpoint) - {"type", "column", "levels"}
    if unknown:
        raise InputError(f"unknown endpoint key(s) {format_items(sorted(unknown))}; "
                         "allowed: type, column, levels")  # fmt: skip
    kind = endpoint.get("type", "ordinal")
    if kind != "ordinal":
        raise InputError(f"endpoint type must be 'ordinal', got {kind!r}")
    column = endpoint.get("column", "n_positive_nodes")
    if not isinstance(column, str):
        raise InputError(f"endpoint column must be a column name, got {column!r}")
    return {"type": "ordinal", "column": column, "levels": _check_levels(endpoint.get("levels"))}


def burden_levels(
    counts: Any, levels: Mapping[str, Any] | None = None, *, column: str = "n_positive_nodes"
) -> pd.Series:
    """Ordinal burden codes (0, 1, 2, ...) from metastatic node counts.

    Parameters
    ----------
    counts : array-like or Series
        Number of metastatic nodes per patient (whole numbers >= 0). A Series keeps its index
        (case ids) for the error messages and the result.
    levels : mapping, optional
        ``{name: [low, high]}`` inclusive count ranges in order, the last open (``high``
        None); default :data:`DEFAULT_LEVELS`.
    column : str
        Name of the counts, for messages.

    Returns
    -------
    Series
        Integer codes, ``attrs["levels"]`` the level names in order.

    Raises
    ------
    InputError
        Missing, negative or non-integer counts (cases named); bad levels.

    Examples
    --------
    >>> burden_levels([0, 1, 2, 3, 7]).tolist()
    [0, 1, 1, 2, 2]
    """
    lv = _check_levels(levels)
    s = counts if isinstance(counts, pd.Series) else pd.Series(np.asarray(counts, dtype=object))
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.any():
        raise InputError(f"`{column}` is not a number in case(s) {format_items(s.index[bad], 5)}")
    if num.isna().any():
        raise InputError(
            f"`{column}` is missing in case(s) {format_items(s.index[num.isna()], 5)}; a node "
            "count is never guessed: fill it or drop those cases"
        )
    v = num.to_numpy(dtype=float)
    wrong = (v != np.round(v)) | (v < 0)
    if wrong.any():
        raise InputError(
            f"`{column}` must be a whole number of nodes >= 0; case(s) "
            f"{format_items(s.index[wrong], 5)} have {format_items(np.unique(v[wrong]), 5)}"
        )
    codes = np.zeros(v.size, dtype=int)
    for k, (_, (lo, _hi)) in enumerate(lv.items()):
        codes[v >= lo] = k
    out = pd.Series(codes, index=s.index, name=column)
    out.attrs["levels"] = list(lv)
    return out


# --------------------------------------------------------------------------------------------
# evaluation per cumulative split
# --------------------------------------------------------------------------------------------
def split_evaluation(
    y: Any, exceedance: Any, *, level_names: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:  # fmt: skip
    """Discrimination and calibration of exceedance probabilities, one row per cumulative split.

    Parameters
    ----------
    y : array-like of int
        Ordinal outcome codes 0..K-1.
    exceedance : array-like, shape (n, K-1)
        ``P(Y >= j)``, column j-1 for split j (e.g. ``OrdinalNomogram.exceedance``).
    level_names : sequence of str, optional
        Names of the levels (the split "N>=3" is ``Y >= 2`` with the default levels).
    conf_level : float
        Level of the DeLong interval.

    Returns
    -------
    DataFrame
        ``split`` (``">=<level>"``), ``n``, ``n_events``, ``estimate`` (AUC), ``se``,
        ``ci_low``, ``ci_high`` (DeLong), ``calibration_intercept``, ``calibration_slope``
        (``logit P(y) = a + b logit(p)``), ``calibration_in_the_large``, ``brier``, ``eavg``
        (``rms::val.prob``). A split with one class only in ``y`` has NaN statistics.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 2, 1, 0, 2, 1, 2, 0])
    >>> ex = np.column_stack([[.2, .3, .6, .9, .5, .4, .8, .7, .9, .1],
    ...                       [.05, .1, .2, .6, .3, .1, .5, .2, .7, .05]])
    >>> split_evaluation(y, ex, level_names=["N0", "N1-2", "N>=3"])[["split", "n_events"]]
        split  n_events
    0  >=N1-2         6
    1   >=N>=3        3
    """
    codes = np.asarray(y).astype(int)
    ex = np.asarray(exceedance, dtype=float)
    k = ex.shape[1] + 1
    names = [str(n) for n in (level_names or range(k))]
    if ex.shape[0] != codes.size:
        raise InputError(f"y has {codes.size} values but exceedance has {ex.shape[0]} rows")
    rows = []
    for j in range(1, k):
        yj = (codes >= j).astype(int)
        if not 0 < yj.sum() < yj.size:  # one class only (a small cohort): nothing to estimate
            rows.append({"split": f">={names[j]}", "n": int(codes.size),
                         "n_events": int(yj.sum())})  # fmt: skip
            continue
        auc = roc_auc(yj, ex[:, j - 1], conf_level=conf_level).iloc[0]
        vp = val_prob(yj, ex[:, j - 1])
        rows.append({
            "split": f">={names[j]}", "n": int(codes.size), "n_events": int(yj.sum()),
            "estimate": float(auc["estimate"]), "se": float(auc["se"]),
            "ci_low": float(auc["ci_low"]), "ci_high": float(auc["ci_high"]),
            "calibration_intercept": float(vp["intercept"]),
            "calibration_slope": float(vp["slope"]),
            "calibration_in_the_large": float(vp["calibration_in_the_large"]),
            "brier": float(vp["brier"]), "eavg": float(vp["eavg"]),
        })  # fmt: skip
    cols = ["split", "n", "n_events", "estimate", "se", "ci_low", "ci_high",
            "calibration_intercept", "calibration_slope", "calibration_in_the_large", "brier",
            "eavg"]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=cols)


def cutoff_levels(exceedance: Any, cutoffs: Sequence[float]) -> np.ndarray:
    """Predicted level codes from exceedance probabilities, split by split at given cutoffs.

    A patient moves up from level ``j`` to ``j + 1`` when ``P(Y >= j + 1)`` reaches the cutoff
    of that split (the burden study's rule, with the training Youden cutoffs); a patient who
    stays at a level is not moved further up.

    Parameters
    ----------
    exceedance : array-like, shape (n, K-1)
        ``P(Y >= j)``, column j-1 for split j.
    cutoffs : sequence of float
        One cutoff per split.

    Returns
    -------
    ndarray of int
        Codes 0..K-1.

    Examples
    --------
    >>> cutoff_levels([[0.2, 0.1], [0.7, 0.2], [0.9, 0.6], [0.3, 0.9]], [0.5, 0.5]).tolist()
    [0, 1, 2, 0]
    """
    ex = np.asarray(exceedance, dtype=float)
    cut = [float(c) for c in cutoffs]
    if ex.ndim != 2 or ex.shape[1] != len(cut):
        raise InputError(f"exceedance has shape {ex.shape} but there are {len(cut)} cutoffs "
                         "(one per column)")  # fmt: skip
    out = np.zeros(ex.shape[0], dtype=int)
    for j in range(ex.shape[1]):
        out = np.where((out == j) & (ex[:, j] >= cut[j]), j + 1, out)
    return out


# --------------------------------------------------------------------------------------------
# the decision table
# --------------------------------------------------------------------------------------------
class DecisionTable(SummaryHTML):
    """Predicted against true burden level, and the surgery each prediction could spare.

    Attributes
    ----------
    counts : DataFrame
        Rows: predicted level; columns: true level; cells: patients.
    surgery : DataFrame
        ``decision``, ``n`` (patients it applies to), ``share`` (of all patients), ``n_wrong``
        (of those, patients whose true burden needed the surgery), ``share_wrong`` (of those
        spared). Decisions: "no axillary surgery" (predicted N0: SLNB and ALND spared) and
        "no ALND" (predicted below the top level: dissection spared).
    """

    def __init__(self, counts: pd.DataFrame, level_names: Sequence[str]) -> None:
        self.counts = counts
        self.level_names = list(level_names)
        total = int(counts.to_numpy().sum())
        low = self.level_names[0]
        top = self.level_names[-1]
        n0 = int(counts.loc[low].sum())
        n0_wrong = n0 - int(counts.loc[low, low])
        below = self.level_names[:-1]
        nb = int(counts.loc[below].to_numpy().sum())
        nb_wrong = int(counts.loc[below, top].sum())
        self.surgery = pd.DataFrame(
            {
                "decision": ["no axillary surgery (predicted " + low + ")",
                             "no ALND (predicted below " + top + ")"],
                "n": [n0, nb],
                "share": [n0 / total if total else np.nan, nb / total if total else np.nan],
                "n_wrong": [n0_wrong, nb_wrong],
                "share_wrong": [n0_wrong / n0 if n0 else np.nan, nb_wrong / nb if nb else np.nan],
            }
        )  # fmt: skip

    @property
    def summary(self) -> pd.DataFrame:
        """Tidy counts: ``predicted``, ``truth``, ``n``."""
        t = self.counts.stack().rename("n").reset_index()
        t.columns = ["predicted", "truth", "n"]
        return t

    def plot(self, ax: Any = None) -> Any:
        """Heat map of the counts (rows predicted, columns truth)."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        c = self.counts.to_numpy()
        ax.imshow(c, cmap="Blues")
        for i in range(c.shape[0]):
            for j in range(c.shape[1]):
                ax.text(j, i, str(c[i, j]), ha="center", va="center",
                        color="white" if c[i, j] > c.max() / 2 else "black")  # fmt: skip
        ax.set_xticks(range(c.shape[1]), [str(v) for v in self.counts.columns])
        ax.set_yticks(range(c.shape[0]), [str(v) for v in self.counts.index])
        ax.set_xlabel("True burden")
        ax.set_ylabel("Predicted burden")
        return ax


def decision_table(y: Any, predicted: Any, *, level_names: Sequence[str]) -> DecisionTable:
    """:class:`DecisionTable` of true codes ``y`` and predicted codes (both 0..K-1).

    Examples
    --------
    >>> t = decision_table([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], level_names=["N0", "N1-2", "N>=3"])
    >>> t.surgery[["n", "n_wrong"]].values.tolist()
    [[2, 1], [4, 1]]
    """
    names = [str(n) for n in level_names]
    yt = np.asarray(y).astype(int)
    yp = np.asarray(predicted).astype(int)
    if yt.size != yp.size:
        raise InputError(f"y has {yt.size} values but predicted has {yp.size}")
    k = len(names)
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (yp, yt), 1)
    frame = pd.DataFrame(counts, index=pd.Index(names, name="predicted"),
                         columns=pd.Index(names, name="truth"))  # fmt: skip
    return DecisionTable(frame, names)


# --------------------------------------------------------------------------------------------
# the two-step model
# --------------------------------------------------------------------------------------------
class TwoStepModel(SummaryHTML, BaseEstimator):
    """Two binary nomograms for a three-level burden: N+ vs N0, then N>=3 vs N1-2 among N+.

    Step 1 is a :class:`~radiomics_aln.nomogram.LogisticNomogram` of ``Y >= 1`` on every
    training patient (or a step-1 model already fitted, e.g. the binary study's nomogram);
    step 2 one of ``Y >= 2`` on the training patients with ``Y >= 1`` only. A patient is
    predicted N0 when step 1's probability is below its training Youden cutoff, else the top
    level when step 2's probability reaches its training Youden cutoff, else the middle level.
    This is the fallback when the proportional-odds assumption fails (:func:`brant_test`):
    the two steps have slopes of their own.

    Parameters
    ----------
    predictors : sequence of str, optional
        Predictors of both steps (default: every column except the outcome).
    step2_predictors : sequence of str, optional
        Predictors of step 2 if different.
    level_names : sequence of str
        The three level names.
    selection : {None, "backward"}
        Passed to both nomograms.
    reference_levels : mapping, optional
        Reference levels of categorical predictors.

    Attributes
    ----------
    step1_, step2_ : LogisticNomogram

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"score": rng.normal(size=300)})
    >>> lat = 1.5 * d["score"] + rng.logistic(size=300)
    >>> d["burden"] = (lat > 0).astype(int) + (lat > 2).astype(int)
    >>> m = TwoStepModel(["score"]).fit(d, "burden")
    >>> m.predict(d.head(3)).tolist()
    ['N>=3', 'N1-2', 'N>=3']
    """

    def __init__(
        self,
        predictors: Sequence[str] | None = None,
        *,
        step2_predictors: Sequence[str] | None = None,
        level_names: Sequence[str] = ("N0", "N1-2", "N>=3"),
        selection: str | None = None,
        reference_levels: Mapping[str, Any] | None = None,
    ) -> None:
        self.predictors = predictors
        self.step2_predictors = step2_predictors
        self.level_names = level_names
        self.selection = selection
        self.reference_levels = reference_levels

    def fit(self, data: Any, y: Any, *, step1: LogisticNomogram | None = None) -> TwoStepModel:
        """Fit step 2 (and step 1 unless a fitted ``step1`` is given) on ``data``."""
        data = as_frame(data)
        yv = data[y].to_numpy() if isinstance(y, str) else np.asarray(y)
        yname = y if isinstance(y, str) else None
        if len(yv) != len(data):
            raise InputError(f"outcome has {len(yv)} values but data has {len(data)} rows")
        codes = check_ordinal(yv, yname or "y")
        if int(codes.max()) != 2 or len(self.level_names) != 3:
            raise InputError("the two-step model needs exactly three burden levels")
        preds = list(self.predictors) if self.predictors is not None else [
            c for c in data.columns if c != yname]  # fmt: skip
        preds2 = list(self.step2_predictors) if self.step2_predictors is not None else preds
        X = data.drop(columns=[yname]) if yname else data
        if step1 is None:
            step1 = LogisticNomogram(selection=self.selection,
                                     reference_levels=self.reference_levels)  # fmt: skip
            step1.fit(X, (codes >= 1).astype(int), preds)
        else:
            check_is_fitted(step1, "coef_")
        pos = codes >= 1
        self.step1_ = step1
        self.step2_ = LogisticNomogram(selection=self.selection,
                                       reference_levels=self.reference_levels)  # fmt: skip
        self.step2_.fit(X[pos], (codes[pos] >= 2).astype(int), preds2)
        self.n_step2_ = int(pos.sum())
        return self

    def probabilities(self, data: Any) -> pd.DataFrame:
        """``p_step1`` = P(N+), ``p_step2`` = P(top level | N+) and their product
        ``p_top`` = P(top level), per row."""
        check_is_fitted(self, "step2_")
        data = as_frame(data)
        p1 = self.step1_.predict_proba(data)[:, 1]
        p2 = self.step2_.predict_proba(data)[:, 1]
        return pd.DataFrame({"p_step1": p1, "p_step2": p2, "p_top": p1 * p2}, index=data.index)

    def predict_codes(self, data: Any) -> np.ndarray:
        """Predicted level codes 0, 1, 2 at the training Youden cutoffs."""
        p = self.probabilities(data)
        pos = p["p_step1"].to_numpy() >= self.step1_.youden_cutoff_
        top = p["p_step2"].to_numpy() >= self.step2_.youden_cutoff_
        return np.where(pos, np.where(top, 2, 1), 0)

    def predict(self, data: Any) -> pd.Series:
        """Predicted level names."""
        codes = self.predict_codes(data)
        names = np.asarray([str(n) for n in self.level_names], dtype=object)
        return pd.Series(names[codes], index=as_frame(data).index, name="predicted_burden")

    def decision_table(self, data: Any, y: Any) -> DecisionTable:
        """:func:`decision_table` of this model's predictions on ``data`` against ``y``."""
        return decision_table(y, self.predict_codes(data), level_names=self.level_names)

    @property
    def summary(self) -> pd.DataFrame:
        """Both steps' coefficient tables, with a ``step`` column."""
        check_is_fitted(self, "step2_")
        a = self.step1_.summary.assign(step="1: N+ vs N0")
        b = self.step2_.summary.assign(step=f"2: {self.level_names[2]} vs {self.level_names[1]}")
        return pd.concat([a, b], ignore_index=True)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the step-2 nomogram (step 1 is the binary nomogram); ``**kwargs`` (e.g.
        ``labels``, ``level_labels``) go to
        :meth:`radiomics_aln.nomogram.LogisticNomogram.plot_nomogram`."""
        check_is_fitted(self, "step2_")
        kwargs = {"risk_label": f"P({self.level_names[2]} | N+)"} | kwargs
        return self.step2_.plot_nomogram(ax, **kwargs)
