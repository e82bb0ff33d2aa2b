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
from radiomics_aln._validation import check_generator, format_items
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
    for text, w in other.items():
        if not (constant.any() and "kept no feature" in text):
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


# --------------------------------------------------------------------------------------------
# The study's use (called from radiomics_aln.study and radiomics_aln.study_outputs)
# --------------------------------------------------------------------------------------------


def analysis_rois(config: Any) -> list[str]:
    """The ROIs a study extracts and filters: ``rois`` with ``peritumoral`` replaced by the
    rings and shells of ``config.rings`` (``rois`` itself while they are off)."""
    rois, names = config.roi_list(), config.rings.rois()
    if not names:
        return rois
    i = rois.index("peritumoral")
    return rois[:i] + names + rois[i + 1 :]


def fit_study_rings(study: Any, X_train: pd.DataFrame, y_train: Any) -> list[str]:
    """Choose the ring on the training rows and fit every ring's score for the comparison.

    Sets ``study.ring_choice_`` (a :class:`RingWidthChoice`, None unless ``choose`` is
    ``"inner_cv"``) and ``study.ring_scores_`` (``{roi: RadScore}`` fitted on all training
    rows, empty while rings are off); returns the ROIs with a score in the models: ``rois``
    with ``peritumoral`` replaced by the chosen ROI (or by every ring for ``choose="all"``).
    ``X_train`` holds the training rows' reproducible features only.
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
