"""Internal validation of the whole modelling pipeline, not only of the final nomogram.

:func:`~radiomics_aln.validation.bootstrap_validate` repeats the backward elimination of the
nomogram in every bootstrap resample but holds the radiomics scores fixed, so the optimism of
the steps that built the scores -- the ICC filter, standardisation, redundancy removal and the
LASSO with its own cross-validation -- and of the univariate screen is left out, although it is
usually the largest part (Steyerberg 2019, ch. 5 and 17). :func:`validate_pipeline` refits
**every** fitted step of a :class:`~radiomics_aln.study.Study` on each resample (or on each
training part of a repeated, stratified, K-fold cross-validation) by running the study's own
``fit`` on that subset, and evaluates the refitted pipeline on the original training cohort
(bootstrap) or on the left-out fold (cross-validation).

One resample is one call of ``Study.fit`` on a table of the resample's rows only: whatever step
the study fits (today: the ICC filter, the three ``RadScore`` s, the univariate screen, the
stepwise clinical and clinical-radiomics models; tomorrow, e.g., a harmonisation) is refitted
with it, by the same code. With ``whole_pipeline=False`` only the nomogram is refitted
(:func:`~radiomics_aln.validation.refit_nomogram`, the scores held fixed), which reproduces
:func:`~radiomics_aln.validation.bootstrap_validate` and so ``rms::validate``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._bootstrap import map_resamples, resample_indices
from radiomics_aln._display import html_block
from radiomics_aln._harmonize_study import harmonize_for_prediction
from radiomics_aln._perturbation_study import resample_readings
from radiomics_aln._plotting import ROI_COLOURS, get_ax, series_colour
from radiomics_aln._progress import progress_mode, progress_reporter
from radiomics_aln._validation import check_generator
from radiomics_aln.design import outcome_values
from radiomics_aln.exceptions import (
    ConvergenceError,
    InputError,
    StatisticalWarning,
)
from radiomics_aln.features import roi_columns
from radiomics_aln.model import score_column
from radiomics_aln.validation import failure_reason, refit_nomogram, validation_indexes

__all__ = ["PipelineValidation", "validate_pipeline"]

logger = logging.getLogger(__name__)

#: Version of the cache files' content; a change makes old files unused.
CACHE_FORMAT = 2

_METHODS = ("bootstrap", "cv")
_FAILURES: tuple[type[BaseException], ...] = (InputError, ConvergenceError,
                                              np.linalg.LinAlgError)  # fmt: skip
_COLUMNS = ["apparent", "training", "test", "optimism", "corrected", "n"]


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class PipelineValidation:
    """The result of :func:`validate_pipeline`.

    Attributes
    ----------
    summary : DataFrame
        Indexed by the measures of ``rms::validate`` (``dxy``, ``auc`` -- the C-index --,
        ``r2``, ``intercept``, ``slope``, ``d``, ``u``, ``q``, ``brier``, ``g``, ``gp``), with
        columns ``apparent`` (the study's fitted model on its training cohort), ``training``
        (mean of each refitted pipeline on the rows it was fitted on), ``test`` (mean on the
        original training cohort for the bootstrap, on the left-out fold for cross-validation),
        ``optimism``, ``corrected`` and ``n`` (resamples or folds that gave the value).
        Bootstrap: optimism = training - test, corrected = apparent - optimism (Harrell).
        Cross-validation: corrected = test (the outer-fold mean), optimism = apparent - test,
        and a column ``pooled``: the measures of the pooled out-of-fold predictions of each
        repeat, averaged over repeats (read calibration there: the slope of a fold of a few
        events is unstable).
    selection : DataFrame
        How often each variable was selected: ``step`` (``"lasso"``: a feature kept by the
        LASSO score of ``roi``; ``"clinical_model"`` / ``"combined_model"``: a clinical factor
        or score kept in the final model), ``roi`` (LASSO rows), ``variable``, ``n_selected``,
        ``n_fits`` (refits in which that step was fitted), ``frequency`` (= n_selected /
        n_fits), ``in_final_model`` (selected by that step of the study's own fit).
    failures : DataFrame
        ``reason``, ``n``: resamples or folds that failed (to fit, or to give the measures),
        which are left out of the means and counted here and in ``n``.
    method : str
        ``"bootstrap"`` or ``"cv"``.
    n_units : int
        Resamples (bootstrap) or folds (cross-validation: n_splits x n_repeats) run.
    whole_pipeline : bool
    settings : dict
        The options of the run (``n_boot`` or ``n_splits`` / ``n_repeats``, ``refit_icc``,
        ``random_state``).
    """

    summary: pd.DataFrame
    selection: pd.DataFrame
    failures: pd.DataFrame
    method: str
    n_units: int
    whole_pipeline: bool
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n_failed(self) -> int:
        """Resamples or folds that failed."""
        return int(self.failures["n"].sum()) if len(self.failures) else 0

    def __repr__(self) -> str:
        what = "whole pipeline" if self.whole_pipeline else "nomogram only (scores held fixed)"
        auc = self.summary.loc["auc"]
        return (
            f"PipelineValidation({self.method}, {what}, {self.n_units} units, "
            f"{self.n_failed} failed; C apparent {auc['apparent']:.3f}, optimism "
            f"{auc['optimism']:.3f}, corrected {auc['corrected']:.3f})"
        )

    def _repr_html_(self) -> str:
        facts = {"method": self.method, "whole pipeline": self.whole_pipeline,
                 "units": self.n_units, "failed": self.n_failed} | self.settings  # fmt: skip
        rows = ["auc", "slope", "intercept", "brier"]
        return html_block(
            "PipelineValidation",
            facts=facts,
            tables=[("Optimism", self.summary.loc[rows]),
                    ("Selection frequency", self.selection.head(20))],  # fmt: skip
        )

    def plot(
        self,
        ax: Any = None,
        *,
        top: int = 25,
        min_frequency: float = 0.0,
        label: Callable[[str], str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Selection frequency as horizontal bars, the most often selected first.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        top : int, default 25
            Bars shown at most (model predictors first, then LASSO features by frequency).
        min_frequency : float, default 0
            Leave out variables selected less often than this.
        label : callable, optional
            Display name of a model predictor (e.g. ``StudyConfig.data_dictionary().label``);
            features keep their column names.
        **kwargs
            Passed to ``Axes.barh``.

        Returns
        -------
        matplotlib Axes
        """
        ax = get_ax(ax)
        sel = self.selection[self.selection["frequency"] >= min_frequency]
        order = {"combined_model": 0, "clinical_model": 1, "lasso": 2}
        sel = sel.assign(_o=sel["step"].map(order)).sort_values(
            ["_o", "frequency"], ascending=[True, False], kind="stable"
        )
        sel = sel.head(int(top)).iloc[::-1]
        step_colour = {"combined_model": series_colour(0), "clinical_model": series_colour(5)}
        colours = [
            ROI_COLOURS.get(r, series_colour(1)) if s == "lasso" else step_colour[s]
            for s, r in zip(sel["step"], sel["roi"], strict=True)
        ]
        name = label or str
        labels = [
            (f"{v} (LASSO {r})" if s == "lasso" else f"{name(v)} ({s.replace('_', ' ')})")
            + (" *" if final else "")  # * selected by the study's own fit
            for s, r, v, final in zip(sel["step"], sel["roi"], sel["variable"],
                                      sel["in_final_model"], strict=True)  # fmt: skip
        ]
        ax.barh(np.arange(len(sel)), sel["frequency"], color=colours, **kwargs)
        ax.set_yticks(np.arange(len(sel)), labels, fontsize="small")
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"Selection frequency ({self.n_units - self.n_failed} refits)")
        return ax


# --------------------------------------------------------------------------- the plan


@dataclass
class _Spec:
    """Everything a resample fit needs (sent once to each worker)."""

    study_class: Any
    config: Any
    table: pd.DataFrame  # training rows: cohort, outcome, clinical columns (no scores)
    features: pd.DataFrame
    repeats: dict[str, pd.DataFrame]
    y: np.ndarray
    whole: bool
    refit_icc: bool
    model: Any  # the study's clinical-radiomics model (held-fixed refits)
    data: pd.DataFrame  # training rows with the study's scores (held-fixed refits)
    perturbation: dict[str, pd.DataFrame] | None = None  # perturbed training cases' readings


def _spec(study: Any, whole: bool, refit_icc: bool) -> _Spec:
    """The training cohort of a fitted study and the configuration of its resample fits."""
    if not hasattr(study, "model_"):
        raise InputError("validate_pipeline needs a fitted Study (call fit() first)")
    cfg = study.config
    model = study.model_
    train = study.data_[study.data_["cohort"] == cfg.train_cohort]
    derived = {"clinical_probability", "probability", "nomo_score"}
    derived |= {score_column(r) for r in model.rois}
    table = train[[c for c in train.columns if c not in derived]]
    perturbed = getattr(study, "perturbation_filter_", None) is not None
    rfit = refit_icc and (study.icc_filter_ is not None or perturbed)
    if rfit:
        used = [c for r in model.rois for c in roi_columns(study.features_.columns, r)]
    else:
        # the ICC filter reads no outcome: the features it kept on every training case stay
        used = list(dict.fromkeys(str(c) for sc in model.scores.values()
                                  for c in sc.feature_names_in_))  # fmt: skip
    features = study.features_.loc[train.index, used]
    repeats = {}
    if rfit:
        repeats = {k: v.loc[v.index.intersection(train.index), used]
                   for k, v in study.repeats_.items()}  # fmt: skip
    y, _ = outcome_values(train, cfg.outcome)
    cfg_b = copy.deepcopy(cfg)  # the study's settings; no test cohort, nothing written
    cfg_b.test_cohorts, cfg_b.cache_dir, cfg_b.n_jobs = [], None, 1
    cfg_b.nomogram.n_boot = 0
    if hasattr(cfg_b, "validation"):
        cfg_b.validation.method = None
    if not rfit:
        cfg_b.icc.enabled = False
    # icc.source perturbation/both: each resample refits on its perturbed training cases,
    # from the readings made once per case (never a test-cohort case)
    readings = study.perturbation_readings_ if rfit and perturbed else None
    return _Spec(type(study), cfg_b, table, features, repeats, np.asarray(y), whole, rfit,
                 model.combined_model, train, readings)  # fmt: skip


def _plan(method: str, y: np.ndarray, n_boot: int, n_splits: int, n_repeats: int, rng: Any):
    """(training rows, evaluation rows) of every unit, all drawn here, before any work."""
    n = y.size
    if method == "bootstrap":
        idx = np.vstack([c[0] for c in resample_indices(n_boot, [n], random_state=rng)])
        everyone = np.arange(n)
        return [(i, everyone) for i in idx]
    counts = np.bincount(y.astype(int), minlength=2)
    if counts.min() < n_splits:
        raise InputError(
            f"n_splits={n_splits} needs at least {n_splits} cases of each outcome in the "
            f"training cohort; it has {counts[1]} events and {counts[0]} non-events"
        )
    plan = []
    for _ in range(n_repeats):
        fold = np.empty(n, dtype=int)
        for cls in (0, 1):
            members = np.flatnonzero(y == cls)
            perm = rng.permutation(members)
            # stratified: each class dealt round-robin over the folds from a random start
            fold[perm] = (np.arange(perm.size) + rng.integers(n_splits)) % n_splits
        for k in range(n_splits):
            plan.append((np.flatnonzero(fold != k), np.flatnonzero(fold == k)))
    return plan


# --------------------------------------------------------------------------- one unit


def lasso_folds(study: Any, y_train: pd.Series) -> np.ndarray | None:
    """Inner cross-validation folds of the LASSO scores that keep the copies of a case together.

    In a bootstrap resample a case drawn twice is two rows; if its copies fell in different
    inner folds the LASSO's cross-validation would predict a case it was fitted on and choose
    too small a penalty. :func:`validate_pipeline` sets ``study.case_groups`` (resample row ->
    original case) before refitting; the folds are then stratified by outcome over cases, the
    copies of a case in one fold. Without ``case_groups`` (every ordinary fit): None, the
    score's own folds.
    """
    groups = getattr(study, "case_groups", None)
    params = study.config.score.params
    if groups is None or params.get("fixed_lambda") is not None:
        return None
    k = int(params.get("cv", 10))
    g = groups.reindex(y_train.index).to_numpy()
    first = pd.Series(y_train.to_numpy()).groupby(g, sort=True).first()
    rng = np.random.default_rng(study.config.random_state)
    fold_of: dict[Any, int] = {}
    for cls in (0, 1):
        cases = first.index[first.to_numpy() == cls].to_numpy()
        for j, case in enumerate(rng.permutation(cases)):
            fold_of[case] = j % k + 1
    folds = np.array([fold_of[c] for c in g])
    return folds if len(np.unique(folds)) == k else None


def _subset(spec: _Spec, rows: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The rows of one resample as a cohort of their own: unique ids ``<case>#<position>``
    (a case drawn twice is two patients), its repeat readings alongside."""
    ids = spec.table.index[rows]
    new = pd.Index([f"{c}#{j}" for j, c in enumerate(ids)], name=spec.table.index.name)
    table = spec.table.iloc[rows].set_axis(new)
    features = spec.features.iloc[rows].set_axis(new)
    repeats = {}
    for k, rep in spec.repeats.items():
        has = np.asarray(ids.isin(rep.index))
        if has.any():
            repeats[k] = rep.loc[ids[has]].set_axis(new[has])
    return table, features, repeats


def refit_whole(spec: _Spec, rows: np.ndarray) -> tuple[Callable, dict[str, Any]]:
    """The study's ``fit`` on the rows ``rows`` only; its linear predictor and selections."""
    table, features, repeats = _subset(spec, rows)
    readings = resample_readings(spec.perturbation, spec.table.index[rows], table.index)
    extra = {} if readings is None else {"perturbation_readings": readings}
    st = spec.study_class(spec.config, table=table, features=features, repeats=repeats,
                          progress=False, **extra)  # fmt: skip
    st.case_groups = pd.Series(spec.table.index[rows], index=table.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            st.fit()
        except InputError as exc:
            raise _Failure(_study_failure(st) or _failure_reason(exc)) from exc
    model = st.model_
    # a harmonization fitted in this resample is applied to the cases it scores, as predict does
    feats = harmonize_for_prediction(model, spec.features, spec.table)

    def lp(r: np.ndarray) -> np.ndarray:
        frame = spec.table.iloc[r].copy()
        scores = model.score_frame(feats.iloc[r])
        for c in scores.columns:
            frame[c] = scores[c].to_numpy()
        return model.combined_model.decision_function(frame)

    selected = {
        "lasso": {roi: [str(f) for f in sc.selected_features_] for roi, sc in model.scores.items()},
        "combined_model": [str(p) for p in model.combined_model.predictors_],
        "clinical_model": (None if model.clinical_model is None
                           else [str(p) for p in model.clinical_model.predictors_]),
    }  # fmt: skip
    return lp, selected


def refit_held_fixed(spec: _Spec, rows: np.ndarray) -> tuple[Callable, dict[str, Any]]:
    """The nomogram alone refitted on ``rows`` (backward elimination repeated from its
    candidates), the radiomics scores held at the study's values: ``bootstrap_validate``."""
    fit = refit_nomogram(spec.model, spec.data.iloc[rows], spec.y[rows], repeat_selection=True)
    return (lambda r: fit.decision_function(spec.data.iloc[r])), {
        "combined_model": [str(p) for p in fit.predictors_]
    }


class _Failure(Exception):
    """A resample's study fit failed for ``reason`` (read from the study's state)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _study_failure(st: Any) -> str | None:
    """Why a resample's ``Study.fit`` stopped, from what it had fitted (not from a message)."""
    rois = st.config.roi_list()
    if len(getattr(st, "constant_scores_", ())) == len(rois):
        return "every LASSO score constant"
    filt = getattr(st, "icc_filter_", None)
    if filt is not None and any(not roi_columns(filt.selected_features_, r) for r in rois):
        return "no feature of a ROI passed the ICC filter"
    return None


def _failure_reason(exc: BaseException) -> str:
    return exc.reason if isinstance(exc, _Failure) else failure_reason(exc)


def _run_unit(u: int, spec: _Spec, plan: list, cache: _Cache | None) -> dict[str, Any]:
    """Fit on unit ``u``'s training rows, measure on them and on its evaluation rows."""
    train_rows, test_rows = plan[u]
    if cache is not None:
        hit = cache.read(u, train_rows, test_rows)
        if hit is not None:
            return hit
    out: dict[str, Any] = {"failed": None, "train": None, "test": None, "selected": None}
    refit = refit_whole if spec.whole else refit_held_fixed
    try:
        lp, out["selected"] = refit(spec, train_rows)
        lp_train, lp_test = lp(train_rows), lp(test_rows)
    except (*_FAILURES, _Failure) as exc:
        logger.debug("resample %d failed: %s", u, exc)
        out["failed"] = _failure_reason(exc)
    else:
        if len(test_rows) < spec.y.size:  # a fold: its predictions are pooled per repeat
            out["lp"] = [float(v) for v in lp_test]
        try:
            out["train"] = validation_indexes(lp_train, spec.y[train_rows], evalfit=True).tolist()
            out["test"] = validation_indexes(lp_test, spec.y[test_rows]).tolist()
        except _FAILURES as exc:
            out["failed"] = f"measures not computable ({_failure_reason(exc)})"
    if cache is not None:
        cache.write(u, train_rows, test_rows, out)
    return out


# --------------------------------------------------------------------------- cache


class _Cache:
    """One JSON file per finished unit, ``<key>-<unit>.json``; a rerun with the same data,
    settings and seed reads them instead of refitting (a file whose rows differ is ignored)."""

    def __init__(self, directory: str | os.PathLike, key: str) -> None:
        self.dir = Path(directory)
        self.key = key
        self.dir.mkdir(parents=True, exist_ok=True)

    def _path(self, u: int) -> Path:
        return self.dir / f"{self.key[:24]}-{u:06d}.json"

    @staticmethod
    def _rows_hash(train: np.ndarray, test: np.ndarray) -> str:
        h = hashlib.sha256(np.ascontiguousarray(train, dtype=np.int64).tobytes())
        h.update(b"|" + np.ascontiguousarray(test, dtype=np.int64).tobytes())
        return h.hexdigest()

    def read(self, u: int, train: np.ndarray, test: np.ndarray) -> dict[str, Any] | None:
        path = self._path(u)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (entry.get("key"), entry.get("rows")) != (self.key, self._rows_hash(train, test)):
            return None
        out = entry["result"]
        for k in ("train", "test"):
            if out.get(k) is not None:
                out[k] = [np.nan if v is None else float(v) for v in out[k]]
        return out

    def write(self, u: int, train: np.ndarray, test: np.ndarray, out: Mapping[str, Any]) -> None:
        result = dict(out)
        for k in ("train", "test"):
            if result.get(k) is not None:
                result[k] = [None if not np.isfinite(v) else float(v) for v in result[k]]
        entry = {"format": CACHE_FORMAT, "key": self.key, "unit": int(u),
                 "rows": self._rows_hash(train, test), "result": result}  # fmt: skip
        path = self._path(u)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(tmp, path)  # atomic: a killed run leaves no half-written entry


def _frame_hash(h: Any, frame: pd.DataFrame) -> None:
    h.update(json.dumps([str(c) for c in frame.columns]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())


def _cache_key(spec: _Spec, method: str) -> str:
    """Hash of the data, the settings and the kind of refit (the seed enters per unit: the
    rows of each unit are checked when its file is read)."""
    from radiomics_aln import __version__

    h = hashlib.sha256()
    cfg = dataclasses.asdict(spec.config)
    h.update(json.dumps([CACHE_FORMAT, __version__, method, spec.whole, spec.refit_icc, cfg],
                        sort_keys=True, default=str).encode())  # fmt: skip
    for frame in (spec.table, spec.features, *(spec.repeats[k] for k in sorted(spec.repeats))):
        _frame_hash(h, frame)
    return h.hexdigest()


# --------------------------------------------------------------------------- the function


def validate_pipeline(
    study: Any,
    *,
    method: str = "bootstrap",
    n_boot: int = 200,
    n_splits: int = 5,
    n_repeats: int = 10,
    whole_pipeline: bool = True,
    refit_icc: bool = True,
    random_state: Any = None,
    n_jobs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool | str | None = None,
) -> PipelineValidation:
    """Optimism of the whole pipeline: every fitted step refitted in every resample or fold.

    Parameters
    ----------
    study : Study
        A fitted :class:`~radiomics_aln.study.Study`; its configuration is the pipeline and
        its training cohort (features, repeat readings, clinical table) the data.
    method : {"bootstrap", "cv"}, default "bootstrap"
        Harrell's optimism bootstrap (``n_boot`` resamples of the training cohort, each model
        evaluated on the original training cohort), or repeated stratified K-fold
        cross-validation (``n_splits`` folds, ``n_repeats`` times; each model evaluated on its
        left-out fold, the fold values averaged).
    n_boot : int, default 200
    n_splits, n_repeats : int, default 5 and 10
    whole_pipeline : bool, default True
        True: refit everything (ICC filter, standardisation, redundancy filter, LASSO with its
        inner CV, univariate screen, both stepwise models) by running the study's ``fit`` on
        the resample. False: refit the clinical-radiomics model only, with the scores held
        fixed (equal to :func:`~radiomics_aln.validation.bootstrap_validate`).
    refit_icc : bool, default True
        Refit the ICC filter on the repeat readings of the resampled training cases (a case
        drawn twice brings its repeat readings twice). False keeps the features the study's
        filter kept; the filter reads no outcome, so this adds no optimism, but the filter
        then also saw the repeat readings of a fold's left-out cases.
    random_state : int, Generator or None
        Draws the resamples or folds, all before any work; results are identical for any
        ``n_jobs``.
    n_jobs : int, optional
        joblib workers.
    cache_dir : path, optional
        Folder of finished resamples (one JSON file each, keyed by a hash of the data, the
        settings and the resample's rows): an interrupted run resumes where it stopped, and a
        run with more resamples reuses the first ones.
    progress : bool, {"auto", "bar", "lines", "off"} or None
        Progress over resamples (see :func:`~radiomics_aln.extraction.extract_features`).

    Returns
    -------
    PipelineValidation
        ``summary`` (apparent, optimism, corrected C-index, calibration slope and intercept,
        Brier score, ...), ``selection`` (selection frequency of every feature and predictor),
        ``failures``, ``plot()``.

    Raises
    ------
    InputError
        An unfitted study, a bad option, or fewer cases of an outcome class than folds.
    ConvergenceError
        Every resample failed.

    Warns
    -----
    StatisticalWarning
        When resamples failed (counted by reason): they are left out of the means, and the
        most optimistic ones tend to be those that fail (separation), so say so in a paper.

    Notes
    -----
    Bootstrap (Harrell, Lee & Mark 1996; Efron & Tibshirani 1993, ch. 17): for resample b the
    whole pipeline is fitted on the resample; its C-index, calibration intercept and slope,
    Brier score, ... on the resample (``training``) minus those on the original training
    cohort (``test``) estimate the optimism, and corrected = apparent - mean optimism. The
    measures are those of ``rms::validate`` (:func:`~radiomics_aln.validation.validation_indexes`).
    Cross-validation (Steyerberg 2019, ch. 17): the pipeline fitted on K-1 folds is evaluated on
    the K-th; the mean over folds and repeats is the corrected value. A resample that fails
    (the LASSO keeps no feature for any ROI, separation, a level absent, ...) is counted in
    ``failures`` and left out of ``n``, as rms does. In each resample the LASSO's inner CV uses
    the study's ``random_state`` on the resample's rows.

    With ``whole_pipeline=False`` and the bootstrap the numbers equal
    :func:`~radiomics_aln.validation.bootstrap_validate` (hence ``rms::validate``, tested) for
    the same resamples. The ``selection`` frequencies show how stable the selected features and
    predictors are (Sauerbrei & Schumacher 1992).

    References
    ----------
    Harrell FE, Lee KL, Mark DB. Multivariable prognostic models. Stat Med 1996;15:361-87.
    Steyerberg EW. Clinical Prediction Models, 2nd ed. Springer, 2019, ch. 5 and 17.
    Sauerbrei W, Schumacher M. A bootstrap resampling procedure for model building:
    application to the Cox regression model. Stat Med 1992;11:2093-109.

    Examples
    --------
    See ``examples/whole_pipeline_validation.py``::

        study = Study(config, table=table, features=features, repeats=repeats).fit()
        res = validate_pipeline(study, n_boot=50, random_state=0, n_jobs=2)
        res.summary.loc[["auc", "slope", "brier"], ["apparent", "optimism", "corrected"]]
        res.plot()
    """
    progress_mode(progress)
    opts = _check_options(method, n_boot, n_splits, n_repeats, whole_pipeline, refit_icc, n_jobs)
    rng = check_generator(random_state)
    spec = _spec(study, whole_pipeline, refit_icc)
    plan = _plan(method, spec.y, opts["n_boot"], opts["n_splits"], opts["n_repeats"], rng)
    cache = None if cache_dir is None else _Cache(cache_dir, _cache_key(spec, method))
    what = "whole-pipeline validation" if whole_pipeline else "nomogram validation"
    results = _run_all(spec, plan, cache, n_jobs, what, progress)
    apparent = validation_indexes(spec.model.decision_function(spec.data), spec.y, evalfit=True)
    summary, failures = _summarise(results, apparent, method)
    if method == "cv":
        summary.insert(5, "pooled", _pooled(results, plan, spec.y, opts["n_splits"], len(apparent)))
    selection = _selection(results, study, whole_pipeline)
    settings = {k: v for k, v in opts.items() if v is not None} | {
        "refit_icc": spec.refit_icc, "random_state": random_state
        if isinstance(random_state, int | None) else "Generator"}  # fmt: skip
    return PipelineValidation(summary, selection, failures, method, len(plan),
                              bool(whole_pipeline), settings)  # fmt: skip


def _check_options(method, n_boot, n_splits, n_repeats, whole, refit_icc, n_jobs) -> dict:
    if method not in _METHODS:
        raise InputError(f"method must be 'bootstrap' or 'cv', got {method!r}")

    def whole_number(v: Any, name: str, low: int) -> int:
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
            raise InputError(f"{name} must be a whole number >= {low}, got {v!r}")
        return int(v)

    for name, v in (("whole_pipeline", whole), ("refit_icc", refit_icc)):
        if not isinstance(v, bool):
            raise InputError(f"{name} must be True or False, got {v!r}")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int)
                               or n_jobs == 0):  # fmt: skip
        raise InputError(f"n_jobs must be None or a non-zero whole number, got {n_jobs!r}")
    if method == "bootstrap":
        return {"n_boot": whole_number(n_boot, "n_boot", 1), "n_splits": None, "n_repeats": None}
    return {"n_boot": None, "n_splits": whole_number(n_splits, "n_splits", 2),
            "n_repeats": whole_number(n_repeats, "n_repeats", 1)}  # fmt: skip


def _run_all(spec, plan, cache, n_jobs, what, progress) -> list[dict[str, Any]]:
    """Every unit, in order; a block of units at a time so that progress is reported."""
    from joblib import effective_n_jobs

    workers = effective_n_jobs(n_jobs)
    units = np.arange(len(plan))
    block = max(1, 8 * workers)
    report = progress_reporter(len(plan), what, "resamples", progress=progress)
    out: list[dict[str, Any]] = []
    try:
        for start in range(0, len(units), block):
            part = map_resamples(_run_unit, units[start : start + block], spec, plan, cache,
                                 n_jobs=n_jobs)  # fmt: skip
            out.extend(part)
            report.update(len(part), failed=sum(r["failed"] is not None for r in part))
    finally:
        report.close()
    return out


def _pooled(results: list, plan: list, y: np.ndarray, n_splits: int, n_measures: int):
    """Cross-validation: the measures of each repeat's pooled out-of-fold linear predictors
    (every case predicted once, by the model that did not see it), averaged over the repeats
    whose folds all fitted. Calibration on a whole cohort rather than on folds of a few events,
    whose slopes are unstable."""
    values = []
    for start in range(0, len(results), n_splits):
        units = range(start, start + n_splits)
        if any(results[u].get("lp") is None for u in units):
            continue
        lp = np.empty(y.size)
        for u in units:
            lp[plan[u][1]] = results[u]["lp"]
        try:
            values.append(validation_indexes(lp, y).to_numpy())
        except _FAILURES:
            continue
    if not values:
        return np.full(n_measures, np.nan)
    return np.nanmean(np.array(values), axis=0)


def _summarise(results: list, apparent: pd.Series, method: str):
    """The summary table (and failures) from the units' measures; warns about failures."""
    failed = [r["failed"] for r in results if r["failed"] is not None]
    failures = (pd.Series(failed, dtype=object).value_counts().rename_axis("reason")
                .reset_index(name="n"))  # fmt: skip
    if failed:
        detail = ", ".join(f"{r.reason}: {r.n}" for r in failures.itertuples())
        warnings.warn(
            f"{len(failed)} of {len(results)} {'resamples' if method == 'bootstrap' else 'folds'}"
            f" failed and were left out ({detail}); the most optimistic resamples are the "
            "likeliest to fail, so the optimism may be underestimated",
            StatisticalWarning,
            stacklevel=3,
        )
    ok = [r for r in results if r["failed"] is None]
    if not ok:
        raise ConvergenceError("every resample failed: " + ", ".join(sorted(set(failed))))
    train = np.array([r["train"] for r in ok], dtype=float)
    test = np.array([r["test"] for r in ok], dtype=float)
    valid = ~np.isnan(train + test)
    n_ok = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        train_m = np.where(valid, train, 0).sum(axis=0) / n_ok
        test_m = np.where(valid, test, 0).sum(axis=0) / n_ok
    app = apparent.to_numpy()
    if method == "bootstrap":
        opt = train_m - test_m
        corrected = app - opt
    else:
        opt, corrected = app - test_m, test_m
    summary = pd.DataFrame(
        {"apparent": app, "training": train_m, "test": test_m, "optimism": opt,
         "corrected": corrected, "n": n_ok},
        index=apparent.index,
    )  # fmt: skip
    return summary, failures


def _selection(results: list, study: Any, whole: bool) -> pd.DataFrame:
    """Selection frequency of every LASSO feature and model predictor over the refits."""
    counts: dict[tuple[str, str, str], int] = {}
    fits: dict[tuple[str, str], int] = {}
    for r in results:
        sel = r["selected"]
        if sel is None:
            continue
        for step in ("combined_model", "clinical_model"):
            if sel.get(step) is not None:
                fits[(step, "")] = fits.get((step, ""), 0) + 1
                for v in sel[step]:
                    counts[(step, "", v)] = counts.get((step, "", v), 0) + 1
        for roi, feats in (sel.get("lasso") or {}).items():
            fits[("lasso", roi)] = fits.get(("lasso", roi), 0) + 1
            for v in feats:
                counts[("lasso", roi, v)] = counts.get(("lasso", roi, v), 0) + 1
    m = study.model_
    final = {("combined_model", "", str(p)) for p in m.combined_model.predictors_}
    if m.clinical_model is not None:
        final |= {("clinical_model", "", str(p)) for p in m.clinical_model.predictors_}
    if whole:
        final |= {("lasso", roi, str(f)) for roi, sc in m.scores.items()
                  for f in sc.selected_features_}  # fmt: skip
    rows = [
        {"step": s, "roi": roi or None, "variable": v, "n_selected": counts.get((s, roi, v), 0),
         "n_fits": fits.get((s, roi), 0), "in_final_model": (s, roi, v) in final}
        for (s, roi, v) in sorted(set(counts) | {k for k in final if (k[0], k[1]) in fits})
    ]  # fmt: skip
    out = pd.DataFrame(rows, columns=["step", "roi", "variable", "n_selected", "n_fits",
                                      "in_final_model"])  # fmt: skip
    out.insert(5, "frequency", out["n_selected"] / out["n_fits"].where(out["n_fits"] > 0))
    order = {"combined_model": 0, "clinical_model": 1, "lasso": 2}
    out = out.assign(_o=out["step"].map(order)).sort_values(
        ["_o", "roi", "frequency", "variable"], ascending=[True, True, False, True],
        na_position="first", kind="stable").drop(columns="_o")  # fmt: skip
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- the study's step

_SHOWN = {"auc": "C-index (AUC)", "slope": "Calibration slope",
          "intercept": "Calibration intercept", "brier": "Brier score"}  # fmt: skip


def study_tables(study: Any, summary: dict[str, Any], *, progress: Any = None) -> dict:
    """The study's ``validation:`` step (``Study.evaluate``): runs :func:`validate_pipeline`
    with the configured settings and returns its tables (none when ``validation.method`` is
    null); the result is kept as ``study.pipeline_validation_`` for the figure and report."""
    study.pipeline_validation_ = None
    val = getattr(study.config, "validation", None)
    if val is None or val.method is None:
        return {}
    cfg = study.config
    cache = None if cfg.cache_dir is None else Path(cfg.cache_dir) / "pipeline_validation"
    res = validate_pipeline(
        study, method=val.method, n_boot=val.n_boot, n_splits=val.n_splits,
        n_repeats=val.n_repeats, whole_pipeline=val.whole_pipeline, refit_icc=val.refit_icc,
        random_state=cfg.random_state, n_jobs=cfg.n_jobs, cache_dir=cache, progress=progress,
    )  # fmt: skip
    study.pipeline_validation_ = res
    summary["pipeline_corrected_auc"] = float(res.summary.at["auc", "corrected"])
    summary["pipeline_auc_optimism"] = float(res.summary.at["auc", "optimism"])
    tables = {
        "pipeline_validation": res.summary.reset_index().assign(method=res.method),
        "selection_frequency": res.selection,
    }
    if len(res.failures):
        tables["pipeline_validation_failures"] = res.failures
    return tables


def _unit_text(res: PipelineValidation) -> str:
    s = res.settings
    if res.method == "bootstrap":
        return f"Harrell's optimism bootstrap with {s['n_boot']} resamples of the training cohort"
    return (f"{s['n_repeats']} times repeated stratified {s['n_splits']}-fold cross-validation "
            "of the training cohort")  # fmt: skip


def methods_paragraphs(study: Any) -> list[str]:
    """The methods text of the whole-pipeline validation (empty when it was not run)."""
    res = getattr(study, "pipeline_validation_", None)
    if res is None:
        return []
    if res.whole_pipeline:
        source = {"readers": "the repeat segmentations",
                  "perturbation": "the perturbation readings"}.get(
            study.config.icc.source, "the repeat segmentations and the perturbation readings")
        icc = (f"the ICC filter (on {source} of the resampled training cases), "
               if res.settings.get("refit_icc") else "")  # fmt: skip
        what = (f"every fitted step was repeated in each resample -- {icc}standardisation, "
                "redundancy removal, the LASSO with its own cross-validation (copies of a case "
                "kept in one inner fold), the univariate screen and the backward elimination "
                "of both models")  # fmt: skip
    else:
        what = ("the clinical-radiomics model was refitted in each resample with the radiomics "
                "scores held fixed")
    evaluated = ("evaluated on the original training cohort; optimism = mean(resample - "
                 "original), corrected = apparent - optimism (Harrell 1996)"
                 if res.method == "bootstrap" else
                 "evaluated on the left-out fold; the mean over folds is the corrected value "
                 "(Steyerberg 2019, ch. 17)")  # fmt: skip
    auc = res.summary.loc["auc"]
    slope = res.summary.loc["slope"]
    text = (
        f"Internal validation of the whole modelling pipeline: {_unit_text(res)}; {what}; each "
        f"refitted pipeline was {evaluated}. Apparent C-index {auc['apparent']:.3f}, optimism "
        f"{auc['optimism']:.3f}, corrected {auc['corrected']:.3f}; corrected calibration slope "
        f"{slope['corrected']:.3f}."
    )
    if res.n_failed:
        text += (f" {res.n_failed} of {res.n_units} refits failed and were left out "
                 "(see the failures table).")  # fmt: skip
    return [text + " Selection frequencies of features and predictors are reported."]


def report_view(study: Any) -> tuple[pd.DataFrame, str] | None:
    """The report's table: apparent, optimism and corrected value of the C-index, calibration
    slope and intercept and Brier score; beside them the optimism with the scores held fixed
    when ``nomogram.n_boot`` ran."""
    res = getattr(study, "pipeline_validation_", None)
    if res is None:
        return None
    tab = res.summary.loc[list(_SHOWN)]
    out = pd.DataFrame({
        "Measure": [_SHOWN[i] for i in tab.index],
        "Apparent": [f"{v:.3f}" for v in tab["apparent"]],
        "Optimism (whole pipeline)": [f"{v:.3f}" for v in tab["optimism"]],
        "Corrected (whole pipeline)": [f"{v:.3f}" for v in tab["corrected"]],
        "Refits": [str(int(v)) for v in tab["n"]],
    })  # fmt: skip
    held = (study.results_ or {}).get("tables", {}).get("bootstrap_validation")
    fixed = ""
    if held is not None and res.whole_pipeline:
        h = held.set_index("index").reindex(tab.index)
        out.insert(3, "Optimism (scores held fixed)", [f"{v:.3f}" for v in h["optimism"]])
        fixed = (" 'Scores held fixed': the bootstrap of the nomogram alone (rms validate), "
                 "which leaves out the optimism of building the scores.")  # fmt: skip
    note = (f"{_unit_text(res)}; "
            + ("every fitted step refitted in each resample." if res.whole_pipeline
               else "the nomogram refitted, the scores held fixed.")
            + f"{fixed} {res.n_failed} of {res.n_units} refits failed.")  # fmt: skip
    return out, note


def selection_figure(
    res: PipelineValidation, *, top: int = 30, label: Callable[[str], str] | None = None
) -> Any:
    """The selection-frequency figure of the report (captioned by its label)."""
    import matplotlib.pyplot as plt

    sel = res.selection
    shown = min(int(top), len(sel))
    fig, ax = plt.subplots(figsize=(8.0, 0.9 + 0.24 * max(shown, 4)), layout="constrained")
    res.plot(ax=ax, top=top, label=label)
    refits = res.n_units - res.n_failed
    what = "resamples" if res.method == "bootstrap" else "cross-validation training folds"
    fig.set_label(
        f"Selection frequency over {refits} refits of the "
        f"{'whole pipeline' if res.whole_pipeline else 'nomogram'} on {what}: the share of "
        "refits in which each predictor entered the final clinical-radiomics or clinical model, "
        "and each radiomics feature was kept by its ROI's LASSO (model predictors first, then "
        f"features by frequency; {shown} of {len(sel)} shown; * selected by the study's own "
        "fit)."
    )
    return fig
