"""Which peritumoral width? Rings and shells of several widths, each with its own score.

Recent ALN studies compare peritumoral rings of 1-5 mm (and shells such as 0-2 / 2-5 mm). Here
each ring or shell is a ROI of its own (``peritumoral_2mm``, ``shell_2_5mm``; names from
:func:`radiomics_aln.features.ring_roi_name` / :func:`~radiomics_aln.features.shell_roi_name`),
extracted in one run and cached per ROI, so adding a width computes only the new ROI. Then:

1. :func:`inner_cv_ring_choice` -- on the **training** cohort only: stratified K-fold inner
   cross-validation of each ROI's whole score fit (:class:`radiomics_aln.score.RadScore`:
   standardisation, redundancy removal, LASSO with its own CV, refitted in every inner fold),
   the same folds for every ROI (seeded, deterministic); the ROI with the highest mean fold
   AUC is chosen (ties: the first ROI in the given order, narrowest ring first). The result
   (:class:`RingWidthChoice`) has ``summary`` (the inner-CV table) and ``plot``.
2. :func:`ring_comparison` -- on **every** cohort: each ROI's score AUC with its DeLong CI and
   paired DeLong tests of the chosen ROI against each other ROI (every pair when nothing was
   chosen), p-values adjusted for multiplicity within each cohort (Holm by default), as
   :func:`radiomics_aln.performance.delong_comparisons`.

In a :class:`radiomics_aln.study.Study` the ``rings`` setting
(:class:`radiomics_aln.config.RingSettings`) runs both: the chosen ring's score takes the place
of the ``peritumoral`` score in the screen, the models and the nomogram, under its own name
(``peritumoral_3mm_score``), and the saved model builds that ring only when it predicts.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._display import SummaryHTML
from radiomics_aln._plotting import get_ax
from radiomics_aln._validation import check_generator
from radiomics_aln.exceptions import InputError
from radiomics_aln.features import (
    check_roi_name,
    ring_geometry,
    ring_roi_name,
    roi_columns,
    roi_label,
    shell_roi_name,
)
from radiomics_aln.metrics import c_statistic, roc_auc
from radiomics_aln.performance import delong_comparisons

__all__ = [
    "RingWidthChoice",
    "inner_cv_ring_choice",
    "ring_candidates",
    "ring_comparison",
]


def ring_candidates(
    widths_mm: Sequence[float] = (), shells_mm: Sequence[Sequence[float]] = ()
) -> list[str]:
    """The ROI names of rings of ``widths_mm`` and shells ``[[a, b], ...]``, in that order.

    Raises
    ------
    InputError
        A width outside (0, 50] mm, a shell that is not ``[a, b]`` with ``0 <= a < b``, or the
        same ROI twice.

    Examples
    --------
    >>> ring_candidates([1, 2, 2.5], [[0, 2], [2, 5]])
    ['peritumoral_1mm', 'peritumoral_2mm', 'peritumoral_2p5mm', 'shell_0_2mm', 'shell_2_5mm']
    """
    names = [ring_roi_name(w) for w in widths_mm]
    for shell in shells_mm:
        if not isinstance(shell, Sequence) or isinstance(shell, str) or len(shell) != 2:
            raise InputError(f"a shell is [inner_mm, outer_mm], got {shell!r}")
        names.append(shell_roi_name(*shell))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"the ROI(s) {twice} are listed twice")
    return names


@dataclass(frozen=True, eq=False)
class RingWidthChoice(SummaryHTML):
    """The width chosen by inner cross-validation on training data, from
    :func:`inner_cv_ring_choice`.

    Attributes
    ----------
    chosen : str
        The chosen ROI (``"peritumoral_3mm"``).
    fold_auc : pandas.DataFrame
        AUC of each ROI's score (columns) in each inner fold (rows ``1..K``).
    foldid : numpy.ndarray
        Fold of each training row (1..K), the same for every ROI.
    n_constant : pandas.Series
        Folds in which each ROI's LASSO kept no feature (a constant score, AUC 0.5 there).
    """

    chosen: str
    fold_auc: pd.DataFrame
    foldid: np.ndarray
    n_constant: pd.Series

    def __repr__(self) -> str:
        means = ", ".join(f"{r}: {v:.3f}" for r, v in self.fold_auc.mean(axis=0).items())
        return f"RingWidthChoice(chosen={self.chosen!r}; mean inner-CV AUC {means})"

    @property
    def summary(self) -> pd.DataFrame:
        """One row per ROI: ``roi``, ``label``, ``inner_mm``, ``outer_mm``, ``estimate`` (mean
        fold AUC), ``sd`` (its SD over folds), ``n_folds``, ``n_constant`` (folds with a
        constant score), ``chosen``."""
        rows = []
        for roi in self.fold_auc.columns:
            auc = self.fold_auc[roi].to_numpy(dtype=float)
            inner, outer = ring_geometry(roi) or (np.nan, np.nan)
            rows.append({
                "roi": roi, "label": roi_label(roi), "inner_mm": inner, "outer_mm": outer,
                "estimate": float(auc.mean()), "sd": float(auc.std(ddof=1)) if auc.size > 1
                else np.nan, "n_folds": int(auc.size), "n_constant": int(self.n_constant[roi]),
                "chosen": roi == self.chosen,
            })  # fmt: skip
        return pd.DataFrame(rows)

    def plot(self, ax: Any = None) -> Any:
        """Mean inner-CV AUC of each ROI with +-1 SD over folds; the chosen ROI filled."""
        ax = get_ax(ax)
        s = self.summary
        x = np.arange(len(s))
        ax.errorbar(x, s["estimate"], yerr=s["sd"], fmt="none", ecolor="0.4", capsize=3)
        chosen = s["chosen"].to_numpy()
        ax.plot(x[~chosen], s["estimate"][~chosen], "o", mfc="white", mec="C0", label="ROI")
        ax.plot(x[chosen], s["estimate"][chosen], "o", color="C0", label="chosen")
        ax.set_xticks(x, s["label"], rotation=30, ha="right")
        ax.set_ylabel("Inner-CV AUC (mean +- SD over folds)")
        return ax


def inner_cv_ring_choice(
    X: pd.DataFrame,
    y: Any,
    *,
    rois: Sequence[str],
    score_params: Mapping[str, Any] | None = None,
    n_splits: int = 5,
    random_state: int | np.random.Generator | None = 0,
) -> RingWidthChoice:
    """Choose a ring width by inner stratified K-fold CV of each ROI's whole score fit.

    Parameters
    ----------
    X : pandas.DataFrame
        Training features only, columns ``<roi>__<feature>`` (other ROIs' columns are ignored).
    y : array-like of 0/1
        Training outcome.
    rois : sequence of str
        The candidate ROIs, in the order ties are broken (narrowest first).
    score_params : mapping, optional
        Keyword arguments of :class:`radiomics_aln.score.RadScore` (as the study's
        ``score.params``); ``name`` and ``random_state`` are set here.
    n_splits : int, default 5
        Inner folds (at least 2, at most the smaller class count).
    random_state : int, Generator or None
        Seeds the folds and every RadScore's own CV folds.

    Returns
    -------
    RingWidthChoice

    Raises
    ------
    InputError
        No candidate, a candidate without columns, bad ``n_splits`` or ``y``.

    Notes
    -----
    Each ROI's :class:`~radiomics_aln.score.RadScore` is refitted on the K-1 training folds
    (its standardisation, redundancy filter and LASSO with its own inner CV see those rows
    only) and scores the held-out fold; a fold's AUC is :func:`radiomics_aln.metrics.c_statistic`
    of those scores (a constant score, the LASSO keeping no feature, gives 0.5). The folds are
    the same for every ROI, so the comparison is paired. Nothing outside ``X`` and ``y`` is
    seen: pass the training cohort only.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> y = np.r_[np.zeros(40, int), np.ones(40, int)]
    >>> X = pd.DataFrame({
    ...     "peritumoral_1mm__a": rng.normal(size=80), "peritumoral_1mm__b": rng.normal(size=80),
    ...     "peritumoral_2mm__a": y + rng.normal(size=80), "peritumoral_2mm__b": rng.normal(size=80),
    ... })
    >>> choice = inner_cv_ring_choice(X, y, rois=["peritumoral_1mm", "peritumoral_2mm"],
    ...                               score_params={"cv": 3, "nlambda": 20}, n_splits=3)
    >>> choice.chosen
    'peritumoral_2mm'
    """
    from sklearn.model_selection import StratifiedKFold

    from radiomics_aln.score import RadScore

    rois = [check_roi_name(r) for r in rois]
    if not rois:
        raise InputError("inner_cv_ring_choice: no candidate ROI")
    y_arr = np.asarray(y)
    if y_arr.ndim != 1 or len(y_arr) != len(X) or not set(np.unique(y_arr)) <= {0, 1}:
        raise InputError("inner_cv_ring_choice: y must be 0/1 with one value per row of X")
    y_arr = y_arr.astype(int)
    counts = np.bincount(y_arr, minlength=2)
    if isinstance(n_splits, bool) or not isinstance(n_splits, int) or n_splits < 2:
        raise InputError(f"n_splits={n_splits!r} must be a whole number >= 2")
    if counts.min() < n_splits:
        raise InputError(
            f"{n_splits} inner folds need at least {n_splits} training cases of each outcome; "
            f"the training cohort has {counts[0]} and {counts[1]}: lower rings.n_splits"
        )
    cols = {r: roi_columns(X.columns, r) for r in rois}
    empty = [r for r, c in cols.items() if not c]
    if empty:
        raise InputError(f"inner_cv_ring_choice: no feature columns for ROI(s) {empty}")
    rng = check_generator(random_state)
    fold_seed, score_seed = (int(v) for v in rng.integers(0, 2**31 - 1, size=2))
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=fold_seed)
    foldid = np.zeros(len(y_arr), dtype=int)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(y_arr)), y_arr), start=1):
        foldid[test] = k
    params = dict(score_params or {})
    params.pop("name", None)
    params.pop("random_state", None)
    auc = pd.DataFrame(index=pd.RangeIndex(1, n_splits + 1, name="fold"), columns=rois,
                       dtype=float)  # fmt: skip
    constant = pd.Series(0, index=rois, name="n_constant")
    other: dict[str, Warning] = {}
    for roi in rois:
        Xr = X[cols[roi]]
        for k in range(1, n_splits + 1):
            fit_rows, test_rows = foldid != k, foldid == k
            sc = RadScore(name=f"{roi}_score", random_state=score_seed, **params)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                sc.fit(Xr[fit_rows], y_arr[fit_rows])
            other.update({str(w.message): w for w in caught})
            if len(sc.selected_features_) == 0:  # counted in the summary, not warned per fold
                constant[roi] += 1
            s = np.asarray(sc.transform(Xr[test_rows]), dtype=float).ravel()
            auc.loc[k, roi] = c_statistic(y_arr[test_rows], s)
    for text, w in other.items():  # the package's own warnings (numpy's overflow at tiny
        # lambdas is the LASSO path's, as in any RadScore fit)
        if w.category.__module__.startswith("radiomics_aln") and "kept no feature" not in text:
            warnings.warn(f"inner CV of the ring widths: {text}", w.category, stacklevel=2)
    means = auc.mean(axis=0).to_numpy()
    chosen = rois[int(np.flatnonzero(means == means.max())[0])]
    return RingWidthChoice(chosen, auc, foldid, constant)


def ring_comparison(
    cohorts: Mapping[str, tuple[Any, Mapping[str, Any]]],
    *,
    reference: str | None = None,
    p_adjust: str | None = "holm",
    conf_level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each ROI's score AUC per cohort and paired DeLong tests between the ROIs.

    Parameters
    ----------
    cohorts : mapping
        ``{cohort: (y, {roi_or_label: score})}`` (as
        :func:`radiomics_aln.performance.delong_comparisons`).
    reference : str, optional
        Compare this ROI's score with each other one (the chosen width); None: every pair.
    p_adjust : {"holm", "bonferroni", None}
        Multiplicity adjustment within each cohort (R's ``p.adjust``).
    conf_level : float
        Confidence level of the AUCs and of the AUC differences.

    Returns
    -------
    (auc, delong) : tuple of pandas.DataFrame
        ``auc``: ``cohort``, ``roi``, ``n``, ``estimate``, ``ci_low``, ``ci_high`` (DeLong CI,
        pROC ``ci.auc``); ``delong``: the table of
        :func:`~radiomics_aln.performance.delong_comparisons` (``estimate`` =
        AUC(``model_1``) - AUC(``model_2``), ``p_value``, ``p_adjusted``).

    Examples
    --------
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1]
    >>> scores = {"peritumoral_1mm": [0.2, 0.1, 0.4, 0.3, 0.5, 0.6, 0.4, 0.8],
    ...           "peritumoral_2mm": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]}
    >>> auc, dl = ring_comparison({"Training": (y, scores)}, reference="peritumoral_2mm")
    >>> auc["estimate"].round(3).tolist(), dl["model_2"].tolist()
    ([0.781, 0.938], ['peritumoral_1mm'])
    """
    rows = []
    for cohort, (yc, models) in cohorts.items():
        for roi, p in models.items():
            r = roc_auc(yc, p, conf_level=conf_level).iloc[0]
            rows.append({"cohort": cohort, "roi": roi, "n": len(np.asarray(yc)),
                         "estimate": float(r["estimate"]), "ci_low": float(r["ci_low"]),
                         "ci_high": float(r["ci_high"])})  # fmt: skip
    dl = delong_comparisons(cohorts, reference=reference, conf_level=conf_level, p_adjust=p_adjust)
    return pd.DataFrame(rows), dl

