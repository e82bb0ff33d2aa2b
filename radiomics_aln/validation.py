"""Bootstrap internal validation of a :class:`~radiomics_aln.nomogram.LogisticNomogram`:
Harrell's optimism correction as ``rms::validate`` and ``rms::calibrate``.

Every resample refits the model the way rms refits it (``lrm.fit``'s stopping rule,
:class:`~radiomics_aln.regression.LrmStopping`), so given the same resamples every cell equals
rms's; the R script behind the reference values is ``tests/reference/validate.R``.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from scipy import special
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from radiomics_aln._progress import progress_mode, progress_reporter
from radiomics_aln._validation import check_probabilities, format_items
from radiomics_aln.design import outcome_values
from radiomics_aln.exceptions import (
    ConvergenceError,
    EliminationError,
    InputError,
    LevelError,
    SeparationError,
    StatisticalWarning,
)
from radiomics_aln.lowess import approx, lowess
from radiomics_aln.regression import LrmStopping, log_likelihood, null_loglik, recalibrate

__all__ = [
    "bootstrap_calibrate",
    "bootstrap_validate",
    "failure_reason",
    "gini_mean_difference",
    "refit_nomogram",
    "validation_indexes",
]

logger = logging.getLogger(__name__)


_INDEXES = ["dxy", "auc", "r2", "intercept", "slope", "emax", "d", "u", "q", "brier", "g", "gp"]
_RESAMPLED = [i for i in _INDEXES if i != "emax"]


def gini_mean_difference(x: Any) -> float:
    """Gini's mean difference: the mean absolute difference over all pairs, as ``Hmisc::GiniMd``.

    :math:`GMD = \\frac{2}{n(n-1)} \\sum_{i<j} |x_i - x_j|`, computed in O(n log n) from the sorted
    values as :math:`\\frac{2}{n(n-1)} \\sum_k (2k - n - 1) x_{(k)}`. It is the scale of
    rms's g-index (``g`` on the log-odds scale, ``gp`` on the probability scale).

    Examples
    --------
    >>> gini_mean_difference([1.0, 2.0, 4.0])  # (1 + 3 + 2) / 3
    2.0
    """
    v = np.sort(np.asarray(x, dtype=float).ravel())
    n = v.size
    if n < 2:
        return np.nan
    k = np.arange(1, n + 1)
    return float(2.0 * np.sum((2 * k - n - 1) * v) / (n * (n - 1)))


def _indexes(lp: np.ndarray, y: np.ndarray, *, evalfit: bool) -> np.ndarray:
    """rms ``validate.lrm`` measures (:data:`_RESAMPLED`) for a linear predictor ``lp`` on ``y``.

    As rms's ``discrim``: ``evalfit`` (the model evaluated on its own fitting data) fixes
    intercept 0 and slope 1 and U = -2/n; otherwise intercept and slope are the recalibration
    ``logit P(y) = a + b lp`` and U = (L01 - deviance of that recalibration - 2) / n, with L01
    the deviance of ``lp`` as it is. R2 is Nagelkerke's and D = (LR - 1) / n from the
    recalibration's likelihood ratio (the model's own when ``evalfit``); Q = D - U; Brier uses
    ``lp`` as it is; g and gp are Gini's mean differences of ``b lp`` and ``expit(a + b lp)``.
    """
    if np.unique(y).size < 2:
        return np.full(len(_RESAMPLED), np.nan)
    auc = roc_auc_score(y, lp)
    n = y.size
    if evalfit:
        # the model's own likelihood (rms: the fit's stats), not that of a recalibration: a
        # resample fit stopped by lrm.fit's rule is not the exact maximum
        a, b = 0.0, 1.0
        ll = log_likelihood(lp, y, clip=True)
    else:
        a, b, ll = _lrm_recal(lp, y)
    ll0 = null_loglik(y)
    lr = 2 * (ll - ll0)
    r2 = (1 - np.exp(-lr / n)) / (1 - np.exp(2 * ll0 / n))
    d = (lr - 1) / n
    if evalfit:
        u = -2 / n
    else:
        l01 = -2 * float(np.sum(y * lp - np.logaddexp(0, lp)))
        u = (l01 - (-2 * ll) - 2) / n
    brier = float(np.mean((y - special.expit(lp)) ** 2))
    g = gini_mean_difference(b * lp)
    gp = gini_mean_difference(special.expit(a + b * lp))
    return np.array([2 * auc - 1, auc, r2, a, b, d, u, d - u, brier, g, gp])


def _lrm_recal(lp: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Recalibration ``logit P(y) = a + b lp`` as validate.lrm fits it: ``lrm.fit(lp, y,
    tol = 1e-13)``, stopped by lrm.fit's rule (a, b and log-likelihood where it stops).

    rms uses those coefficients even when lrm.fit has not converged; we then take the exact
    maximum, which exists or raises ``ConvergenceError``.
    """
    try:
        return recalibrate(lp, y, stopping=LrmStopping(tol=1e-13))
    except ConvergenceError:
        return recalibrate(lp, y)


def _emax(intercept: float, slope: float) -> float:
    """rms ``validate.lrm``'s Emax: max |p - expit(a + b logit p)| over p = 0, 0.0005, ..., 1."""
    p = np.arange(2001) * 5e-4
    with np.errstate(divide="ignore", invalid="ignore"):
        calibrated = special.expit(intercept + slope * special.logit(p))
    diff = np.abs(p - calibrated)
    return float(np.nanmax(diff)) if np.isfinite(diff).any() else np.nan


def _check_model(model: Any) -> None:
    for attr in ("predictors_", "candidate_predictors_", "outcome_"):
        if not hasattr(model, attr):
            raise InputError(
                "bootstrap validation needs a fitted LogisticNomogram (fit it on the training "
                "data first)"
            )


# rms's resample fits: validate.lrm's get predab.resample's singularity tolerance 1e-12,
# calibrate.default's call lrm.fit(..., tol = 1e-13).
_VALIDATE_FIT = LrmStopping(tol=1e-12)
_CALIBRATE_FIT = LrmStopping(tol=1e-13)


def _refit(
    model: Any, data: pd.DataFrame, y: np.ndarray, repeat_selection: bool, stopping: LrmStopping
) -> Any:
    """``model`` refitted on a resample the way rms refits it (``lrm.fit``'s stopping rule)."""
    est = clone(model)
    if repeat_selection:
        predictors = model.candidate_predictors_
    else:
        est.set_params(selection=None)
        predictors = model.predictors_
        refs = est.get_params().get("reference_levels")
        if refs:
            # reference levels of predictors the selection removed do not apply to the refit
            est.set_params(reference_levels={k: v for k, v in refs.items() if k in predictors})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(
            data, pd.Series(y, index=data.index, name="y"), predictors, stopping=stopping
        )


_FAILURES = (InputError, ConvergenceError, np.linalg.LinAlgError)


def validation_indexes(lp: Any, y: Any, *, evalfit: bool = False) -> pd.Series:
    """The measures of ``rms::validate`` for ``lrm`` of one linear predictor on one outcome.

    The per-resample step of :func:`bootstrap_validate`, public so that other validations
    (:mod:`radiomics_aln.pipeline_validation`) compute the same numbers.

    Parameters
    ----------
    lp : array-like
        Linear predictor (log-odds).
    y : array-like of 0/1
    evalfit : bool, default False
        True when ``lp`` is evaluated on the data its model was fitted on (intercept 0, slope
        1 and U = -2/n by definition, the model's own likelihood), as rms's ``discrim``.

    Returns
    -------
    Series
        Indexed by ``dxy``, ``auc``, ``r2``, ``intercept``, ``slope``, ``d``, ``u``, ``q``,
        ``brier``, ``g``, ``gp`` (see :func:`bootstrap_validate`; no ``emax``, which is
        computed from corrected values). All NaN when ``y`` has one class.

    Raises
    ------
    ConvergenceError
        The recalibration ``logit P(y) = a + b lp`` has no finite estimate (``lp`` separates
        ``y``).

    Examples
    --------
    >>> m = validation_indexes([-1.0, 0.5, 0.0, 2.0], [0, 0, 1, 1], evalfit=True)
    >>> float(m["auc"]), float(m["slope"])
    (0.75, 1.0)
    """
    lp = np.asarray(lp, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    return pd.Series(_indexes(lp, y, evalfit=evalfit), index=pd.Index(_RESAMPLED, name="index"))


def refit_nomogram(model: Any, data: pd.DataFrame, y: Any, *, repeat_selection: bool = True) -> Any:
    """``model`` (a fitted :class:`~radiomics_aln.nomogram.LogisticNomogram`) refitted on
    ``data`` as :func:`bootstrap_validate` refits it on a resample (rms's ``lrm.fit`` stopping
    rule, tolerance 1e-12; warnings silenced).

    ``repeat_selection`` repeats the backward elimination from the model's candidate
    predictors; False refits its final predictors. Raises what the fit raises
    (:class:`~radiomics_aln.exceptions.ConvergenceError`, ``InputError``, ...).
    """
    return _refit(model, data, np.asarray(y), repeat_selection, _VALIDATE_FIT)


@dataclass(frozen=True)
class _Failed:
    """A skipped bootstrap resample and why (a short reason, counted in the warning)."""

    reason: str


def failure_reason(exc: BaseException) -> str:
    """The reason a resample failed, from its exception (the rows of a failure table)."""
    if isinstance(exc, SeparationError):
        return "separation"
    if isinstance(exc, ConvergenceError):
        return "no convergence"
    if isinstance(exc, np.linalg.LinAlgError):
        return "singular fit"
    if isinstance(exc, EliminationError):
        return "every predictor removed"
    if isinstance(exc, LevelError):  # a single level, an absent reference or an unseen level
        return "a level missing from the resample"
    return "invalid resample"


def _validate_one(
    model: Any,
    data: pd.DataFrame,
    y: np.ndarray,
    idx: np.ndarray,
    repeat_selection: bool,
) -> tuple[np.ndarray, np.ndarray] | _Failed:
    lps = _refit_on_resample(model, data, y, idx, repeat_selection, _VALIDATE_FIT)
    if isinstance(lps, _Failed):
        return lps
    lp_train, lp_test = lps
    try:
        return _indexes(lp_train, y[idx], evalfit=True), _indexes(lp_test, y, evalfit=False)
    except _FAILURES as exc:
        # e.g. a resample model whose linear predictor separates the outcome, so that the
        # recalibration logit P(y) = a + b lp has no finite estimate: skipped like a failed fit
        logger.debug("bootstrap resample not evaluable: %s", exc)
        return _Failed(f"measures not computable ({failure_reason(exc)})")


def _refit_on_resample(
    model: Any,
    data: pd.DataFrame,
    y: np.ndarray,
    idx: np.ndarray,
    repeat_selection: bool,
    stopping: LrmStopping,
) -> tuple[np.ndarray, np.ndarray] | _Failed:
    """Linear predictors of the model refitted on resample ``idx``: on the resample and on the
    original data; a :class:`_Failed` when the refit fails (the resample is then skipped)."""
    boot = data.iloc[idx]
    try:
        fit = _refit(model, boot, y[idx], repeat_selection, stopping)
        return fit.decision_function(boot), fit.decision_function(data)
    except _FAILURES as exc:
        logger.debug("bootstrap resample failed: %s", exc)
        return _Failed(failure_reason(exc))


def _chunk(func: Any, indices: np.ndarray, *args: Any) -> list[Any]:
    return [func(*args[:3], idx, *args[3:]) for idx in indices]


def _run_resamples(
    func: Any, indices: np.ndarray, n_jobs: int | None, *args: Any, progress: Any = None
) -> list[Any]:
    """``[func(model, data, y, idx, *rest) for idx in indices]``, in order, possibly parallel.

    Resamples are sent to workers in a few contiguous chunks (fewer pickles of model and data);
    the order of results, hence every number, does not depend on ``n_jobs`` (nor on
    ``progress``, which reports resamples done and failed as chunks finish).
    """
    what = "bootstrap validation" if func is _validate_one else "bootstrap calibration"
    report = progress_reporter(len(indices), what, "resamples", progress=progress)
    try:
        workers = effective_n_jobs(n_jobs)
        if workers == 1 or len(indices) == 1:
            out = []
            for idx in indices:
                out.append(func(*args[:3], idx, *args[3:]))
                report.update(1, failed=int(isinstance(out[-1], _Failed)))
            return out
        chunks = np.array_split(indices, min(len(indices), 4 * workers))
        parallel = Parallel(n_jobs=workers, return_as="generator")
        out = []
        for part in parallel(delayed(_chunk)(func, c, *args) for c in chunks):
            out.extend(part)
            report.update(len(part), failed=sum(isinstance(r, _Failed) for r in part))
        return out
    finally:
        report.close()


def _check_boot_args(
    n_boot: Any, random_state: Any, n_jobs: Any
) -> tuple[int, np.random.Generator]:
    """n_boot as an int, the generator, after checking ``n_jobs``; each bad value named."""
    # a fractional or boolean n_boot would silently become another number of resamples
    whole = isinstance(n_boot, (int, np.integer)) or (
        isinstance(n_boot, (float, np.floating))
        and math.isfinite(n_boot)
        and float(n_boot).is_integer()
    )
    if isinstance(n_boot, (bool, np.bool_)) or not whole or int(n_boot) < 1:
        raise InputError(
            "n_boot must be a positive whole number of bootstrap resamples (e.g. 200), "
            f"got {n_boot!r}"
        )
    if n_jobs is not None and (
        isinstance(n_jobs, (bool, np.bool_))
        or not isinstance(n_jobs, (int, np.integer))
        or n_jobs == 0
    ):
        raise InputError(
            f"n_jobs must be None, a positive number of workers or negative (-1: all cores), "
            f"got {n_jobs!r}"
        )
    try:
        rng = np.random.default_rng(random_state)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"random_state must be None, a non-negative integer or a numpy Generator, got "
            f"{random_state!r} ({exc})"
        ) from None
    return int(n_boot), rng


def _prepare_boot(
    model: Any,
    data: pd.DataFrame,
    y: Any,
    n_boot: int,
    random_state: Any,
    n_jobs: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    _check_model(model)
    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a DataFrame with the model's predictor columns")
    values, _ = outcome_values(data, y)
    n_boot, rng = _check_boot_args(n_boot, random_state, n_jobs)
    # every resample's indices are drawn here, in order, so results do not depend on n_jobs
    indices = rng.integers(0, len(data), size=(n_boot, len(data)))
    return values, indices


def bootstrap_validate(
    model: Any,
    data: pd.DataFrame,
    y: Any,
    *,
    n_boot: int = 200,
    repeat_selection: bool = True,
    random_state: Any = None,
    n_jobs: int | None = None,
    progress: bool | str | None = None,
) -> pd.DataFrame:
    """Bootstrap optimism-corrected performance, as ``rms::validate(fit, B = n_boot)``.

    Parameters
    ----------
    model : LogisticNomogram
        Fitted on ``data``; its parameters (selection, criterion, p_remove, reference levels)
        are reused in every resample.
    data : DataFrame
        The training data the model was fitted on.
    y : str or array-like
        Outcome column or values.
    n_boot : int, default 200
        Bootstrap resamples (papers often use 1000).
    repeat_selection : bool, default True
        Repeat the backward elimination in every resample from all candidate predictors
        (``validate(..., bw = TRUE)``), which is the honest choice when the model was selected
        on these data. False refits the final predictors only.
    random_state : int, Generator or None
    n_jobs : int, optional
        joblib workers; results are identical for any value.
    progress : bool, {"auto", "bar", "lines", "off"} or None
        Progress over resamples (done, failed, ETA), as for
        :func:`~radiomics_aln.extraction.extract_features`: a bar in a terminal or notebook,
        plain lines on stderr otherwise. Results do not depend on it.

    Returns
    -------
    DataFrame
        Indexed by the rows of ``rms::validate`` for ``lrm`` -- ``dxy`` (Somers' D), ``auc``
        (= (Dxy + 1) / 2, added), ``r2`` (Nagelkerke), ``intercept``, ``slope``, ``emax``
        (maximal calibration error implied by the corrected intercept and slope), ``d``
        (discrimination index), ``u`` (unreliability index), ``q`` (quality index, d - u),
        ``brier`` (rms ``B``), ``g`` (g-index: Gini's mean difference of the linear predictor)
        and ``gp`` (of the predicted probabilities); columns ``apparent`` (model on its
        training data), ``training`` (mean over resamples of the resample model on its
        resample), ``test`` (mean of the resample model on the original data), ``optimism``
        (= training - test), ``corrected`` (= apparent - optimism), ``n`` (successful
        resamples).

    Notes
    -----
    Harrell's bootstrap (Efron's optimism estimate), as ``rms::predab.resample`` with
    ``validate.lrm``'s measures: intercept and slope are those of ``logit P(y) = a + b lp``
    (0 and 1 on the fitting data), Brier is ``mean((y - expit(lp))^2)``, D = (LR - 1) / n,
    U = -2 / n on the fitting data and (deviance of ``lp`` - deviance of the recalibration - 2)
    / n on the original data, Q = D - U, g and gp are Gini's mean differences
    (:func:`gini_mean_difference`) of ``b lp`` and ``expit(a + b lp)``, and Emax is the largest
    ``|p - expit(a + b logit p)|`` over p = 0, 0.0005, ..., 1 with the corrected a and b.
    Every cell equals ``rms::validate(fit, B)`` given the same resamples (tested with the
    resamples R drew: to 7e-8 relative on birthwt, to 2e-11 on a case with a sparse factor
    level). Each resample is refitted as rms refits it, with ``lrm.fit``'s stopping rule
    (:class:`~radiomics_aln.regression.LrmStopping`): a resample with quasi-separation (a
    level without events) gives a large finite coefficient and is kept, as rms keeps it.
    Resamples whose fit fails (no convergence in 11 iterations, a singular information matrix
    such as a level absent, every predictor removed) are skipped and counted, as rms does. The
    resampling indices come
    from ``numpy.random.default_rng(random_state)`` (so not the rows R's ``set.seed`` would
    draw) and are drawn before any work is distributed.

    References
    ----------
    Harrell FE, Lee KL, Mark DB. Multivariable prognostic models. Stat Med 1996;15:361-87.
    Efron B, Tibshirani R. An Introduction to the Bootstrap. Chapman & Hall, 1993 (ch. 17).
    """
    progress_mode(progress)  # an invalid value is refused before any work
    y, indices = _prepare_boot(model, data, y, n_boot, random_state, n_jobs)
    return _validate_with(model, data, y, indices, repeat_selection, n_jobs, progress=progress)


def _validate_with(
    model: Any,
    data: pd.DataFrame,
    y: np.ndarray,
    indices: np.ndarray,
    repeat_selection: bool,
    n_jobs: int | None,
    *,
    progress: Any = None,
) -> pd.DataFrame:
    """:func:`bootstrap_validate` on given resamples (rows ``indices[i]``, 0-based)."""
    apparent = _indexes(model.decision_function(data), y, evalfit=True)
    results = _run_resamples(
        _validate_one, indices, n_jobs, model, data, y, repeat_selection, progress=progress
    )
    train_m, test_m, n_ok = _mean_over_resamples(results)
    opt = train_m - test_m
    table = pd.DataFrame(
        {
            "apparent": apparent,
            "training": train_m,
            "test": test_m,
            "optimism": opt,
            "corrected": apparent - opt,
            "n": n_ok,
        },
        index=pd.Index(_RESAMPLED, name="index"),
    )
    # Emax as rms: from the corrected calibration intercept and slope, in the test, optimism
    # and corrected columns (0 where the model is evaluated on its own data).
    emax = _emax(table.at["intercept", "corrected"], table.at["slope", "corrected"])
    table.loc["emax"] = [0.0, 0.0, emax, emax, emax, table.at["dxy", "n"]]
    table = table.reindex(pd.Index(_INDEXES, name="index"))
    table["n"] = table["n"].astype(n_ok.dtype)
    return table


def _mean_over_resamples(
    results: list[tuple[np.ndarray, np.ndarray] | _Failed],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean training and test values over the resamples that fitted, per index or grid point.

    Resamples that failed (:class:`_Failed`) are skipped with a warning that counts the
    reasons; a NaN value (an index that cannot be computed on one resample) is left out of
    that element's mean only.
    """
    ok = [r for r in results if not isinstance(r, _Failed)]
    n_fail = len(results) - len(ok)
    if n_fail:
        reasons = pd.Series([r.reason for r in results if isinstance(r, _Failed)]).value_counts()
        detail = ", ".join(f"{k}: {v}" for k, v in reasons.items())
        hint = (
            "; skipped resamples are the most optimistic ones, so the optimism is "
            "underestimated -- Firth's penalty (penalty='firth') keeps them"
            # resamples refitted by lrm.fit's rule fail to converge when they separate
            if {"separation", "no convergence"} & set(reasons.index)
            else ""
        )
        warnings.warn(
            f"{n_fail} of {len(results)} bootstrap resamples failed to fit and were skipped "
            f"({detail}){hint}",
            StatisticalWarning,
            stacklevel=3,
        )
    if not ok:
        raise ConvergenceError("every bootstrap resample failed to fit")
    train = np.array([r[0] for r in ok])
    test = np.array([r[1] for r in ok])
    valid = ~np.isnan(train + test)
    n_ok = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        train_m = np.where(valid, train, 0).sum(axis=0) / n_ok
        test_m = np.where(valid, test, 0).sum(axis=0) / n_ok
    return train_m, test_m, n_ok


def _cal_error(lp: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``rms::calibrate``'s ``cal.error``: lowess(iter = 0) of y on p, read at ``grid``."""
    p = special.expit(lp)
    sx, sy = lowess(p, y, it=0)
    return approx(sx, sy, grid, ties="first") - grid


def _calibrate_one(
    model: Any,
    data: pd.DataFrame,
    y: np.ndarray,
    idx: np.ndarray,
    repeat_selection: bool,
    grid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | _Failed:
    lps = _refit_on_resample(model, data, y, idx, repeat_selection, _CALIBRATE_FIT)
    if isinstance(lps, _Failed):
        return lps
    lp_train, lp_test = lps
    return _cal_error(lp_train, y[idx], grid), _cal_error(lp_test, y, grid)


def bootstrap_calibrate(
    model: Any,
    data: pd.DataFrame,
    y: Any,
    *,
    n_boot: int = 200,
    predicted: Sequence[float] | None = None,
    repeat_selection: bool = True,
    random_state: Any = None,
    n_jobs: int | None = None,
    progress: bool | str | None = None,
) -> pd.DataFrame:
    """Bias-corrected calibration curve, as ``rms::calibrate(fit, B = n_boot)``.

    Parameters
    ----------
    model, data, y, n_boot, repeat_selection, random_state, n_jobs, progress
        As :func:`bootstrap_validate`.
    predicted : sequence of float, optional
        Predicted probabilities at which to evaluate the curve. Default as rms: 50 equally
        spaced values from the 5th smallest to the 5th largest apparent prediction.

    Returns
    -------
    DataFrame
        ``predicted``, ``calibrated_apparent`` (lowess of y on the apparent predictions),
        ``calibrated_corrected`` (= apparent - optimism), ``mean_training``, ``mean_test``
        (mean calibration errors ``smooth - predicted`` of the resample models on their
        resample and on the original data), ``optimism``, ``n`` (resamples contributing at
        that point; a point outside a resample's prediction range contributes nothing).

    Notes
    -----
    Follows ``rms::calibrate.default`` (``smoother = "lowess"``, ``iter = 0``, values read by
    ``approx`` with the first of tied predictions; resamples refitted and skipped as in
    :func:`bootstrap_validate`, with calibrate's singularity tolerance 1e-13); equal to it
    given the same resamples (tested to 1e-12 on a case with a sparse factor level). The mean absolute error of the corrected
    curve is ``mean(|calibrated_corrected - predicted|)``.

    References
    ----------
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015, section 10.11.
    """
    progress_mode(progress)  # an invalid value is refused before any work
    y, indices = _prepare_boot(model, data, y, n_boot, random_state, n_jobs)
    return _calibrate_with(
        model, data, y, indices, repeat_selection, n_jobs, predicted, progress=progress
    )


def _calibrate_with(
    model: Any,
    data: pd.DataFrame,
    y: np.ndarray,
    indices: np.ndarray,
    repeat_selection: bool,
    n_jobs: int | None,
    predicted: Sequence[float] | None,
    *,
    progress: Any = None,
) -> pd.DataFrame:
    """:func:`bootstrap_calibrate` on given resamples (rows ``indices[i]``, 0-based)."""
    lp = model.decision_function(data)
    p_app = np.sort(special.expit(lp))
    n = p_app.size
    if predicted is None:
        if n < 11:
            raise InputError("need more than 10 cases for the default `predicted` grid")
        grid = np.linspace(p_app[4], p_app[n - 5], 50)
    else:
        grid = check_probabilities(np.asarray(predicted, dtype=float), "predicted")
    orig_err = _cal_error(lp, y, grid)
    results = _run_resamples(
        _calibrate_one, indices, n_jobs, model, data, y, repeat_selection, grid, progress=progress
    )
    train_m, test_m, n_ok = _mean_over_resamples(results)
    opt = train_m - test_m
    cal = orig_err + grid
    if np.isnan(cal).any():
        logger.info(
            "apparent calibration undefined at %s", format_items(np.round(grid[np.isnan(cal)], 3))
        )
    return pd.DataFrame(
        {
            "predicted": grid,
            "calibrated_apparent": cal,
            "calibrated_corrected": cal - opt,
            "mean_training": train_m,
            "mean_test": test_m,
            "optimism": opt,
            "n": n_ok,
        }
    )
