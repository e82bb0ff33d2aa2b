"""Logistic nomogram: the multivariable model of a nomogram paper and its rms-style points.

The clinical-radiomics model of a nomogram paper is a multivariable logistic regression of the
endpoint on a few scores and clinical factors. :class:`LogisticNomogram` fits it the way a
statistician does in R with ``glm``/``rms::lrm`` (optionally by backward elimination), keeps
the elimination steps, the points scale of ``rms::nomogram`` and the Youden cutoff on
probability and on Nomo-score, and draws the nomogram (:mod:`radiomics_aln.nomogram_plot`).

The fits are :func:`radiomics_aln.regression.fit_logistic`'s; the univariate table is
:func:`radiomics_aln.univariate.univariate_logistic`; calibration statistics live in
:mod:`radiomics_aln.calibration` and bootstrap validation in :mod:`radiomics_aln.validation`.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from radiomics_aln._display import SummaryHTML
from radiomics_aln._validation import check_probabilities, format_items
from radiomics_aln.design import (
    TERM_RECORD,
    Term,
    as_frame,
    check_missing,
    coef_table,
    design_matrix,
    firth_table,
    make_terms,
    outcome_values,
    predictors_of,
    term_plr,
    term_wald,
)
from radiomics_aln.exceptions import (
    EliminationError,
    InputError,
    SeparationError,
    SmallSampleWarning,
)
from radiomics_aln.io import (
    ANY,
    BOOL,
    CUTOFF,
    INT,
    NUM,
    NUM_OR_NULL,
    SCALAR,
    STR,
    ListOf,
    MapOf,
    Record,
    dump_model,
    load_model,
    number,
    rebuilding,
)
from radiomics_aln.metrics import youden_threshold
from radiomics_aln.nomogram_plot import (
    compressed_rows,
    draw_nomogram,
    r_pretty,
    risk_rows,
    term_axes,
)
from radiomics_aln.regression import LogitFit, LrmStopping, fit_logistic, log_likelihood

__all__ = ["LogisticNomogram"]

logger = logging.getLogger(__name__)


class LogisticNomogram(SummaryHTML, ClassifierMixin, BaseEstimator):
    """Multivariable logistic model with optional backward elimination and an rms nomogram.

    Parameters
    ----------
    selection : {None, "backward"}
        None keeps every predictor; "backward" removes predictors one at a time, refitting the
        model after each removal (see Notes).
    p_remove : float, default 0.05
        With ``criterion="p"``: a predictor is removed while its Wald p-value (all its dummy
        columns jointly) is above ``p_remove``.
    criterion : {"p", "aic"}
        Removal rule of backward elimination.
    penalty : {None, "firth"}
        None: maximum likelihood (R ``glm``). ``"firth"``: Firth's penalised likelihood
        ``l(b) + log|I(b)| / 2`` (R ``logistf``; equal to ``brglm2``'s ``brglmFit`` with
        ``type = "AS_mean"``), which gives finite, less biased estimates in small samples and
        under (quasi-)complete separation, where maximum likelihood has none. Inference is
        ``logistf``'s default: ``summary``'s ``p_value`` is the penalised likelihood-ratio test
        of each coefficient and ``or_ci_low``/``or_ci_high`` the profile penalised-likelihood
        interval (Heinze & Schemper 2002); ``se`` and ``z`` are Wald's (``I(b)^-1`` at the
        estimate, as ``brglm2`` reports). Backward elimination (``criterion="p"``) removes
        predictors by penalised likelihood-ratio tests.
    reference_levels : mapping, optional
        ``{predictor: level}`` for categorical predictors (default: first category / first in
        sorted order, as R's ``factor``). Entries for columns that are not predictors are
        ignored, so one mapping can serve several models.
    maxscale : float, default 100
        Points of the predictor with the widest range (``rms::nomogram(maxscale=)``).
    nint : int, default 10
        Number of intervals of the ``pretty`` axes (``rms::nomogram(nint=)``).

    Attributes
    ----------
    coef_ : Series
        Coefficients by model column (``age``, ``race[black]``, ...), without the intercept.
    intercept_ : float
    cov_ : DataFrame
        Covariance of all coefficients (intercept first), inverse information at the estimate.
    predictors_ : list of str
        Predictors in the final model; ``candidate_predictors_`` those offered to ``fit``.
    summary : DataFrame
        Final model: ``term``, ``predictor``, ``level``, ``beta``, ``se``, ``z``, ``p_value``,
        ``odds_ratio``, ``or_ci_low``, ``or_ci_high``.
    elimination_steps_ : DataFrame
        One row per fitted model of the backward elimination: ``step``, ``predictors`` (model at
        that step), ``removed`` (None for the final model), ``chi2``, ``df``, ``p_value`` (Wald
        test of the removed predictor), ``aic`` (of the model at that step), ``aic_after``.
    step_coefficients_ : DataFrame
        The coefficient table (columns of ``summary``) of every model fitted along the
        elimination, with a leading ``step`` column matching ``elimination_steps_``.
    youden_cutoff_, youden_points_cutoff_ : float
        Youden-optimal cutoff on training probability (``metrics.youden_threshold``: pROC's
        midpoint convention, ties towards higher sensitivity) and the same cutoff in total
        points.
    youden_sensitivity_, youden_specificity_ : float
    loglik_, aic_, n_, n_events_, c_index_ : fit statistics on the training data (``c_index_``
        is the apparent AUC; see ``validation.bootstrap_validate`` for its optimism). With
        ``penalty="firth"``, ``loglik_`` and ``aic_`` are the ordinary log-likelihood and AIC
        at the penalised estimates (as ``brglm2`` reports them).
    predictor_ranges_ : dict
        Training ``(min, max)`` of each continuous predictor in the model; values outside it
        are extrapolations of the linear effect.
    lp_range_ : tuple
        Training range of the linear predictor.

    Notes
    -----
    *Backward elimination.* Starting from all candidates, the model is refitted by maximum
    likelihood after every removal. With ``criterion="p"`` the predictor with the largest Wald
    p-value is removed if that p exceeds ``p_remove`` (SPSS "Backward: Wald"; R: ``drop1``-style
    loop with Wald tests). With ``criterion="aic"`` the predictor whose removal lowers AIC the most
    is removed while AIC decreases (R ``step(fit, direction = "backward")``, which also refits).
    ``rms::fastbw`` differs: it fits the full model once and approximates each reduced model from
    the full estimate and covariance (Lawless & Singhal 1978), so it never refits; results agree
    when the predictors are nearly uncorrelated and can differ otherwise.

    *Points* follow ``rms::nomogram`` (rms 6.5): each continuous predictor's axis runs over
    ``pretty(range(x), nint)`` of the training data (all distinct values if it has at most 10,
    as ``datadist``), a categorical one over its levels; the contribution ``beta * x`` is shifted
    so its minimum on the axis is 0 and every contribution is multiplied by
    ``sc = maxscale / max(range of beta * x)``. Total points ``T`` and linear predictor ``lp``
    are related by ``lp = T / sc + b0 + sum(min contributions)``. Values outside an axis'
    range extrapolate linearly (points can be negative or above ``maxscale``).

    References
    ----------
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015 (ch. 4.3, 10).
    Hosmer DW, Lemeshow S, Sturdivant RX. Applied Logistic Regression, 3rd ed. Wiley, 2013.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"score": rng.normal(size=200), "size_mm": rng.uniform(5, 40, 200)})
    >>> df["margin"] = np.where(rng.random(200) < 0.4, "spiculated", "smooth")
    >>> lp = -2 + 1.5 * df.score + 0.05 * df.size_mm + 0.8 * (df.margin == "spiculated")
    >>> df["aln"] = (rng.random(200) < 1 / (1 + np.exp(-lp))).astype(int)
    >>> nomo = LogisticNomogram(selection="backward").fit(df, "aln", ["score", "size_mm", "margin"])
    >>> nomo.predictors_  # margin removed: Wald p > 0.05
    ['score', 'size_mm']
    >>> nomo.predict_proba(df.head(2))[:, 1].round(3)
    array([0.357, 0.387])
    >>> round(nomo.youden_cutoff_, 3), round(nomo.youden_points_cutoff_, 1)
    (0.47, 62.2)
    """

    def __init__(
        self,
        *,
        selection: str | None = None,
        p_remove: float = 0.05,
        criterion: str = "p",
        reference_levels: Mapping[str, Any] | None = None,
        maxscale: float = 100.0,
        nint: int = 10,
        penalty: str | None = None,
    ) -> None:
        self.selection = selection
        self.p_remove = p_remove
        self.criterion = criterion
        self.reference_levels = reference_levels
        self.maxscale = maxscale
        self.nint = nint
        self.penalty = penalty

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # a binary endpoint only: sklearn's common checks then use 0/1-like targets
        tags.classifier_tags.multi_class = False
        return tags

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        if self.selection not in (None, "backward"):
            raise InputError(f"selection must be None or 'backward', got {self.selection!r}")
        if self.criterion not in ("p", "aic"):
            raise InputError(f"criterion must be 'p' or 'aic', got {self.criterion!r}")
        if self.penalty not in (None, "firth"):
            raise InputError(f"penalty must be None or 'firth', got {self.penalty!r}")
        if self.penalty == "firth" and self.selection == "backward" and self.criterion == "aic":
            raise InputError(
                "criterion='aic' compares ordinary likelihoods, which Firth's penalised fits do "
                "not maximise; use criterion='p' (penalised likelihood-ratio tests) with "
                "penalty='firth'"
            )
        if not 0 < float(self.p_remove) < 1:
            raise InputError(f"p_remove must be in (0, 1), got {self.p_remove!r}")
        if not float(self.maxscale) > 0:
            raise InputError(f"maxscale must be positive, got {self.maxscale!r}")
        if int(self.nint) < 1:
            raise InputError(f"nint must be a positive integer, got {self.nint!r}")

    def fit(
        self,
        data: Any,
        y: Any,
        predictors: Sequence[str] | None = None,
        *,
        stopping: LrmStopping | None = None,
    ) -> LogisticNomogram:
        """Fit on the training cohort.

        Parameters
        ----------
        data : DataFrame (or 2-D array)
            Training cases; may contain other columns.
        y : str or array-like
            Name of the 0/1 outcome column in ``data``, or the outcome values.
        predictors : sequence of str, optional
            Candidate predictors; default every column except the outcome.
        stopping : LrmStopping, optional
            Fit the maximum-likelihood models with ``rms::lrm.fit``'s stopping rule
            (:class:`~radiomics_aln.regression.LrmStopping`: large finite coefficients under
            quasi-separation, singularity judged on the information matrix, no separate
            collinearity check), as rms refits a bootstrap resample; Firth fits ignore it.

        Raises
        ------
        InputError
            Outcome not 0/1, missing values (rows named), collinearity.
        SingleLevelError, LevelError
            A predictor with a single level; a reference level that is absent.
        EliminationError
            Backward elimination removed every predictor (``candidates`` lists them).
        SeparationError, ConvergenceError
            The maximum-likelihood fit does not exist or does not converge (``predictors``
            names the predictors); ``penalty="firth"`` has finite estimates under separation.

        Warns
        -----
        SmallSampleWarning
            Fewer than 10 events (of the rarer outcome) per candidate coefficient.
        """
        self._check_params()
        data = as_frame(data)
        y, outcome = outcome_values(data, y)
        if predictors is None:
            predictors = [c for c in data.columns if c != outcome]
        predictors = [str(p) for p in predictors]
        if not predictors:
            raise InputError("no predictors given")
        dup = sorted({p for p in predictors if predictors.count(p) > 1})
        if dup:
            raise InputError(f"predictors listed twice: {format_items(dup)}")
        missing = [c for c in predictors if c not in data.columns]
        if missing:
            raise InputError(f"data lacks predictor column(s): {format_items(missing)}")
        if outcome in predictors:
            raise InputError(f"the outcome `{outcome}` is also listed as a predictor")
        check_missing(data, predictors, "training data")
        all_terms = make_terms(data, predictors, self.reference_levels)
        n_coef = sum(len(t.columns) for t in all_terms)
        events = int(min(y.sum(), len(y) - y.sum()))
        epv = events / n_coef
        if epv < 10:
            warnings.warn(
                f"events per variable (EPV) = {epv:.1f} < 10: {events} events of the rarer "
                f"outcome for {n_coef} candidate coefficient(s); estimates may be unstable and "
                "optimistic (Peduzzi et al. 1996)",
                SmallSampleWarning,
                stacklevel=2,  # the caller of fit()
            )
        terms, final_fit, steps = self._select(data, y, all_terms, stopping)
        self.outcome_ = outcome
        self.candidate_predictors_ = predictors
        self.predictors_ = [t.name for t in terms]
        self._terms = terms
        self.terms_ = {t.name: t.to_dict() for t in terms}
        self.intercept_ = float(final_fit.coef[0])
        self.coef_ = pd.Series(final_fit.coef[1:], index=final_fit.columns[1:], name="beta")
        self.cov_ = pd.DataFrame(final_fit.cov, index=final_fit.columns, columns=final_fit.columns)
        self.loglik_ = final_fit.loglik
        self.aic_ = final_fit.aic
        self.n_ = len(y)
        self.n_events_ = int(y.sum())
        self.classes_ = np.array([0, 1])
        self.elimination_steps_ = steps
        coefs = self._step_coefficients
        self.step_coefficients_ = coefs[["step", *[c for c in coefs.columns if c != "step"]]]
        self.n_features_in_ = len(predictors)
        # Firth: logistf's profile intervals and PLR tests, computed when first asked for
        # (bootstrap refits never need them)
        self._summary = None if self.penalty == "firth" else coef_table(final_fit, terms)
        self._final_fit = final_fit
        X_final = design_matrix(data, terms)
        self._setup_points(data, X=X_final, coef=final_fit.coef)
        lp = self._lp_from_design(X_final)
        prob = special.expit(lp)
        # pROC's convention (midpoint between observed probabilities, p >= cutoff is positive,
        # ties towards higher sensitivity), shared with radiomics_aln.metrics
        self.c_index_ = float(roc_auc_score(y, prob))
        yc = youden_threshold(y, prob, convention="midpoint", direction="<")
        self.youden_cutoff_ = float(yc.threshold)
        self.youden_sensitivity_ = float(yc.sensitivity)
        self.youden_specificity_ = float(yc.specificity)
        if 0 < self.youden_cutoff_ < 1:
            self.youden_points_cutoff_ = float(self.probability_to_points(self.youden_cutoff_))
        else:  # no discrimination at all: every or no patient is high risk
            self.youden_points_cutoff_ = math.copysign(math.inf, self.youden_cutoff_ - 0.5)
        logger.info(
            "nomogram fitted on %d cases (%d events): %s", self.n_, self.n_events_, self.predictors_
        )
        return self

    def _term_fitter(
        self,
        data: pd.DataFrame,
        y: np.ndarray,
        all_terms: list[Term],
        stopping: LrmStopping | None,
    ) -> Callable[[list[Term]], LogitFit]:
        """A function fitting the model of a subset of ``all_terms``.

        One model matrix for all candidates; every model of the elimination uses a subset of its
        columns, so the collinearity check is done once, on the full matrix. A SeparationError
        names the predictors (``predictors``) of the separated columns.
        """
        X_full = design_matrix(data, all_terms)
        positions: dict[str, list[int]] = {}
        j = 1
        for t in all_terms:
            positions[t.name] = list(range(j, j + len(t.columns)))
            j += len(t.columns)
        full_cols = ["(Intercept)"] + [c for t in all_terms for c in t.columns]
        first = [True]

        def fit_terms(terms: list[Term]) -> LogitFit:
            idx = [0] + [i for t in terms for i in positions[t.name]]
            cols = [full_cols[i] for i in idx]
            try:
                if stopping is not None and self.penalty is None:
                    return fit_logistic(X_full[:, idx], y, cols, stopping=stopping)
                out = fit_logistic(
                    X_full[:, idx], y, cols, check_rank=first[0], penalty=self.penalty
                )
            except SeparationError as exc:
                exc.predictors = predictors_of(all_terms, exc.columns)
                raise
            first[0] = False
            return out

        return fit_terms

    def _removal(
        self,
        fit: LogitFit,
        terms: list[Term],
        fit_terms: Callable[[list[Term]], LogitFit],
        y: np.ndarray,
    ) -> tuple[int, list[Term], LogitFit | None, pd.Series] | None:
        """The next removal of backward elimination: (position of the removed term, the terms
        left, their fit or None when none is left, the removed term's test), or None to stop."""
        # Firth fits are tested as logistf does, by penalised likelihood ratios
        wald = term_plr(fit, terms) if self.penalty == "firth" else term_wald(fit, terms)
        if self.criterion == "p":
            i = int(np.argmax(wald["p_value"].to_numpy()))
            if wald["p_value"].iloc[i] <= self.p_remove:
                return None
            reduced_terms = [t for j, t in enumerate(terms) if j != i]
            reduced = fit_terms(reduced_terms) if reduced_terms else None
            return i, reduced_terms, reduced, wald.iloc[i]
        best_aic, i, reduced, reduced_terms = np.inf, -1, None, []
        for j in range(len(terms)):
            cand_terms = [t for k, t in enumerate(terms) if k != j]
            if cand_terms:
                cand = fit_terms(cand_terms)
                cand_aic = cand.aic
            else:
                ll0 = log_likelihood(np.full(len(y), math.log(y.mean() / (1 - y.mean()))), y)
                cand, cand_aic = None, -2 * ll0 + 2
            if cand_aic < best_aic - 1e-10:
                best_aic, i, reduced, reduced_terms = cand_aic, j, cand, cand_terms
        if not best_aic < fit.aic - 1e-10:
            return None
        return i, reduced_terms, reduced, wald.iloc[i]

    def _select(
        self,
        data: pd.DataFrame,
        y: np.ndarray,
        all_terms: list[Term],
        stopping: LrmStopping | None = None,
    ) -> tuple[list[Term], LogitFit, pd.DataFrame]:
        fit_terms = self._term_fitter(data, y, all_terms, stopping)
        terms = list(all_terms)
        fit = fit_terms(terms)
        rows: list[dict[str, Any]] = []
        tables: list[pd.DataFrame] = []
        step = 0
        while self.selection == "backward":
            removal = self._removal(fit, terms, fit_terms, y)
            if removal is None:
                break
            i, reduced_terms, reduced, w = removal
            step += 1
            rows.append(
                {
                    "step": step,
                    "predictors": ", ".join(t.name for t in terms),
                    "removed": terms[i].name,
                    "chi2": float(w["chi2"]),
                    "df": int(w["df"]),
                    "p_value": float(w["p_value"]),
                    "aic": fit.aic,
                    "aic_after": (reduced.aic if reduced is not None else np.nan),
                }
            )
            if not reduced_terms:
                candidates = [t.name for t in all_terms]
                raise EliminationError(
                    "backward elimination removed every predictor (none has "
                    + (f"p <= {self.p_remove}" if self.criterion == "p" else "an AIC benefit")
                    + "); there is no model to draw as a nomogram. Candidates: "
                    + format_items(candidates),
                    candidates=candidates,
                    criterion=self.criterion,
                )
            tables.append(coef_table(fit, terms).assign(step=step))
            terms, fit = reduced_terms, reduced
        tables.append(coef_table(fit, terms).assign(step=step + 1))
        self._step_coefficients = pd.concat(tables, ignore_index=True)
        rows.append(
            {
                "step": step + 1,
                "predictors": ", ".join(t.name for t in terms),
                "removed": None,
                "chi2": np.nan,
                "df": np.nan,
                "p_value": np.nan,
                "aic": fit.aic,
                "aic_after": np.nan,
            }
        )
        return terms, fit, pd.DataFrame(rows)

    # ------------------------------------------------------------------ points (rms::nomogram)
    def _setup_points(self, data: pd.DataFrame, X: np.ndarray, coef: np.ndarray) -> None:
        nint = int(self.nint)
        axes = term_axes(self._terms, coef[1:], data, nint)
        kinds = {t.name: t.kind for t in self._terms}
        for name, a in axes.items():
            a["contrib"] = [float(c) for c in a["contrib"]]
            a["kind"] = kinds[name]
        widths = {n: max(a["contrib"]) - min(a["contrib"]) for n, a in axes.items()}
        if not max(widths.values()) > 1e-10:  # log-odds units: no effect at all
            raise InputError(
                "every coefficient of the model is 0 (predictors "
                f"{format_items(axes)} carry no information about the outcome); a nomogram "
                "has no points scale"
            )
        sc = float(self.maxscale) / max(widths.values())
        mins = {n: min(a["contrib"]) for n, a in axes.items()}
        for n, a in axes.items():
            a["points"] = [(c - mins[n]) * sc for c in a["contrib"]]
            a["min_contrib"] = mins[n]
        self.points_scale_ = sc
        self.points_intercept_ = float(coef[0] + sum(mins.values()))
        self._axes = axes
        lp_train = X @ coef
        lp_at = r_pretty(lp_train.min(), lp_train.max(), nint)
        entities = len(axes)
        sum_max = (
            float(self.maxscale)
            if entities == 1
            else max(float(self.maxscale), sc * float(np.max(lp_at - self.points_intercept_)))
        )
        self.lp_range_ = (float(lp_train.min()), float(lp_train.max()))
        self.predictor_ranges_ = {
            t.name: (float(data[t.name].min()), float(data[t.name].max()))
            for t in self._terms
            if t.kind == "continuous"
        }
        self._lp_at = lp_at
        self._total_ticks = r_pretty(0, sum_max, nint)

    def _lp_from_design(self, X: np.ndarray) -> np.ndarray:
        return self.intercept_ + X[:, 1:] @ self.coef_.to_numpy()

    def _frame(self, data: Any) -> pd.DataFrame:
        check_is_fitted(self, "coef_")
        return as_frame(data)

    def decision_function(self, data: Any) -> np.ndarray:
        """Linear predictor ``b0 + x'b`` (log-odds) for each row of ``data``."""
        data = self._frame(data)
        return self._lp_from_design(design_matrix(data, self._terms))

    def predict_proba(self, data: Any) -> np.ndarray:
        """Predicted probabilities, shape (n, 2): columns P(y = 0), P(y = 1)."""
        p = special.expit(self.decision_function(data))
        return np.column_stack([1 - p, p])

    def predict(self, data: Any) -> np.ndarray:
        """0/1 prediction at the training Youden cutoff on probability."""
        return (self.predict_proba(data)[:, 1] >= self.youden_cutoff_).astype(int)

    def risk_group(self, data: Any) -> pd.Series:
        """``"high"`` / ``"low"`` risk by the training Youden cutoff, for any cohort."""
        data = self._frame(data)
        p = self.predict_proba(data)[:, 1]
        grp = np.where(p >= self.youden_cutoff_, "high", "low")
        return pd.Series(
            pd.Categorical(grp, categories=["low", "high"]), index=data.index, name="risk_group"
        )

    def points(self, data: Any, *, by_predictor: bool = False) -> pd.Series | pd.DataFrame:
        """Nomogram total points (Nomo-score) per row, or the points of each predictor.

        ``sum(points) = (lp - points_intercept_) * points_scale_``, so the Nomo-score is a
        monotone transform of the predicted probability.
        """
        data = self._frame(data)
        X = design_matrix(data, self._terms)
        cols = {}
        j = 1
        coef = self.coef_.to_numpy()
        for t in self._terms:
            k = len(t.columns)
            contrib = X[:, j : j + k] @ coef[j - 1 : j - 1 + k]
            cols[t.name] = (contrib - self._axes[t.name]["min_contrib"]) * self.points_scale_
            j += k
        out = pd.DataFrame(cols, index=data.index)
        if by_predictor:
            out["total_points"] = out.sum(axis=1)
            return out
        return out.sum(axis=1).rename("nomo_score")

    def points_to_probability(self, points: Any) -> np.ndarray:
        """Probability for total points: ``expit(points / sc + intercept)``."""
        check_is_fitted(self, "coef_")
        lp = np.asarray(points, dtype=float) / self.points_scale_ + self.points_intercept_
        return special.expit(lp)

    def probability_to_points(self, p: Any) -> np.ndarray:
        """Total points giving probability ``p`` (inverse of :meth:`points_to_probability`)."""
        check_is_fitted(self, "coef_")
        p = check_probabilities(np.atleast_1d(p), "p", open_interval=True)
        out = (np.log(p / (1 - p)) - self.points_intercept_) * self.points_scale_
        return out if out.size > 1 else out[0]

    def points_table(self) -> pd.DataFrame:
        """Predictor values and their points, as printed on the nomogram's axes.

        Returns
        -------
        DataFrame
            ``predictor``, ``value`` (level label or number), ``points``, ``discrete``.
        """
        check_is_fitted(self, "coef_")
        rows = []
        for name, a in self._axes.items():
            for v, pts in zip(a["values"], a["points"], strict=True):
                rows.append(
                    {"predictor": name, "value": v, "points": pts, "discrete": a["discrete"]}
                )
        return pd.DataFrame(rows)

    def total_points_table(self, probabilities: Sequence[float] | None = None) -> pd.DataFrame:
        """Total-points axis and probability axis of the nomogram.

        Parameters
        ----------
        probabilities : sequence of float, optional
            Probability ticks (``rms::nomogram(fun.at=)``). Default as rms:
            ``pretty(plogis(range(lp.at)), nint)`` where ``lp.at = pretty(range(training lp))``,
            keeping ticks inside ``lp.at``.

        Returns
        -------
        DataFrame
            ``axis`` ("total_points" or "probability"), ``value`` (points or probability),
            ``total_points`` (position on the total-points scale), ``linear_predictor``.

        Notes
        -----
        rms places probability ticks by linear interpolation of ``plogis`` on a 1000-point grid
        of the linear predictor; we invert ``plogis`` exactly. Positions agree to ~1e-7 points.
        """
        check_is_fitted(self, "coef_")
        lo, hi = float(np.min(self._lp_at)), float(np.max(self._lp_at))
        if probabilities is None:
            probs = r_pretty(1 / (1 + math.exp(-lo)), 1 / (1 + math.exp(-hi)), int(self.nint))
        else:
            probs = np.asarray(probabilities, dtype=float)
        probs = probs[(probs > 0) & (probs < 1)]
        lp = np.log(probs / (1 - probs))
        keep = (lp >= lo - 1e-12) & (lp <= hi + 1e-12)
        probs, lp = probs[keep], lp[keep]
        tp = self._total_ticks
        return pd.concat(
            [
                pd.DataFrame(
                    {
                        "axis": "total_points",
                        "value": tp,
                        "total_points": tp,
                        "linear_predictor": tp / self.points_scale_ + self.points_intercept_,
                    }
                ),
                pd.DataFrame(
                    {
                        "axis": "probability",
                        "value": probs,
                        "total_points": (lp - self.points_intercept_) * self.points_scale_,
                        "linear_predictor": lp,
                    }
                ),
            ],
            ignore_index=True,
        )

    # ------------------------------------------------------------------ reporting
    @property
    def summary(self) -> pd.DataFrame:
        """Final model coefficients (see class docstring); unrounded."""
        check_is_fitted(self, "coef_")
        if self._summary is None:
            self._summary = firth_table(self._final_fit, self._terms)
        return self._summary.copy()

    def print_summary(self, decimals: int = 3) -> None:
        """Print the model, fit statistics, elimination steps and nomogram cutoffs."""
        check_is_fitted(self, "coef_")
        lines = [
            "<radiomics_aln.LogisticNomogram>",
            f"outcome = {self.outcome_}   n = {self.n_}   events = {self.n_events_}",
            f"selection = {self.selection}"
            + (
                f" (criterion = {self.criterion}, p_remove = {self.p_remove})"
                if self.selection
                else ""
            ),
            f"log-likelihood = {self.loglik_:.{decimals}f}   AIC = {self.aic_:.{decimals}f}   "
            f"C (apparent AUC) = {self.c_index_:.{decimals}f}",
            "",
            self.summary.to_string(index=False, float_format=lambda v: f"{v:.{decimals}f}"),
        ]
        if self.selection:
            lines += [
                "",
                "Elimination steps:",
                self.elimination_steps_.to_string(
                    index=False, float_format=lambda v: f"{v:.{decimals}f}"
                ),
            ]
        lines += [
            "",
            f"Youden cutoff: probability {self.youden_cutoff_:.{decimals}f} = "
            f"{self.youden_points_cutoff_:.1f} points "
            f"(sensitivity {self.youden_sensitivity_:.{decimals}f}, "
            f"specificity {self.youden_specificity_:.{decimals}f})",
        ]
        print("\n".join(lines))  # noqa: T201 - printing is this method's purpose

    # ------------------------------------------------------------------ plotting
    def plot_nomogram(
        self,
        ax: Any = None,
        *,
        probabilities: Sequence[float] | None = None,
        show_lp: bool = False,
        labels: Mapping[str, str] | None = None,
        level_labels: Mapping[str, Mapping[Any, str]] | None = None,
        risk_label: str = "Risk",
        risk_range: tuple[float, float] | None = (0.02, 0.98),
        **kwargs: Any,
    ) -> Any:
        """Draw the classic nomogram: Points, one axis per predictor, Total Points, Risk.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        probabilities : sequence of float, optional
            Probability ticks; default 0.02, 0.05, 0.1, 0.2, ..., 0.9, 0.95, 0.98 within reach
            (:data:`~radiomics_aln.nomogram_plot.RISK_TICKS`), or rms' default (see
            :meth:`total_points_table`) when ``risk_range`` is None.
        show_lp : bool
            Also draw the linear-predictor axis.
        labels : mapping, optional
            Display names of predictors (e.g. ``DataDictionary.axis_label``).
        level_labels : mapping, optional
            ``{predictor: {level: text}}``: tick labels of a categorical predictor's levels.
        risk_label : str
            Name of the probability axis, e.g. "Risk of ALN metastasis".
        risk_range : (float, float) or None
            The Total Points and risk rows span the reachable total points whose risk lies in
            this range, stretched to the full width, with unlabelled ticks every 0.05 between
            0.1 and 0.9 (:func:`~radiomics_aln.nomogram_plot.risk_rows`); None: rms' layout,
            total points from 0 to the largest sum, compressed onto the Points width.
        **kwargs
            Passed to the axis lines (``ax.plot``), e.g. ``color``, ``lw``.

        Returns
        -------
        matplotlib Axes

        Notes
        -----
        Tick positions of the predictor rows are exactly those of :meth:`points_table`; the
        risk rows place each probability at its exact total points (those of
        :meth:`total_points_table`), on a scale of their own when ``risk_range`` is set.
        Only the labels are laid out for the axes' size. Labels are measured as rendered, and
        where they would collide a numeric axis labels every k-th tick (as R's ``axis()``
        drops colliding labels in ``rms::plot.nomogram``), keeping round values and the ends;
        a factor's levels are all named, alternating above/below as rms does, or moved aside
        on leader lines. Draw on a larger axes (or pass fewer ``probabilities``) to label more
        ticks. Font sizes follow the row height (tick labels 6-8 pt).
        """
        import matplotlib.pyplot as plt

        check_is_fitted(self, "coef_")
        if ax is None:
            ax = plt.gca()
        labels, levels = dict(labels or {}), dict(level_labels or {})
        ms = float(self.maxscale)
        pts_ticks = r_pretty(0, ms, int(self.nint))
        rows: list[tuple[str, list[float], list[Any]]] = [("Points", list(pts_ticks),
                                                            list(pts_ticks))]  # fmt: skip
        for name, a in self._axes.items():
            names = levels.get(name, {})
            values = [names.get(v, v) for v in a["values"]] if a["discrete"] else a["values"]
            rows.append((labels.get(name, name), a["points"], values))
        if risk_range is None:  # rms: total points 0 .. max, compressed onto the Points width
            bottom = compressed_rows(self.total_points_table(probabilities), ms,
                                     risk_label=risk_label)  # fmt: skip
        else:
            bottom = risk_rows(
                points_scale=self.points_scale_, points_intercept=self.points_intercept_,
                total_max=sum(max(a["points"]) for a in self._axes.values()), maxscale=ms,
                nint=int(self.nint), risk_range=risk_range, probabilities=probabilities,
                risk_label=risk_label,
            )  # fmt: skip
        rows.append(bottom.rows[0])
        if show_lp:
            lp = [float(v) for v in self._lp_at]
            pos = bottom.to_x([(v - self.points_intercept_) * self.points_scale_ for v in lp])
            rows.append(("Linear Predictor", [float(x) for x in pos], lp))
        rows.append(bottom.rows[1])
        minor = [[] for _ in rows[:-1]] + [bottom.minor[1]]
        priority = [None for _ in rows[:-1]] + [bottom.priority[1]]
        discrete = [False] + [bool(a["discrete"]) for a in self._axes.values()]
        discrete += [False] * (len(rows) - len(discrete))
        return draw_nomogram(ax, rows, discrete=discrete, maxscale=ms, minor=minor,
                             priority=priority, **kwargs)  # fmt: skip

    # ------------------------------------------------------------------ persistence
    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """Serialize the fitted nomogram (coefficients, levels, axes, scale, cutoff) as JSON."""
        check_is_fitted(self, "coef_")
        state = {
            "outcome": self.outcome_,
            "candidate_predictors": self.candidate_predictors_,
            "terms": [t.to_dict() for t in self._terms],
            "intercept": self.intercept_,
            "coef": {"names": list(self.coef_.index), "values": self.coef_.to_numpy()},
            "cov": self.cov_.to_numpy(),
            "loglik": self.loglik_,
            "aic": self.aic_,
            "c_index": self.c_index_,
            "n": self.n_,
            "n_events": self.n_events_,
            "axes": self._axes,
            "points_scale": self.points_scale_,
            "points_intercept": self.points_intercept_,
            "lp_range": list(self.lp_range_),
            "predictor_ranges": {k: list(v) for k, v in self.predictor_ranges_.items()},
            "lp_at": self._lp_at,
            "total_ticks": self._total_ticks,
            # a cutoff of a model without discrimination can be +/-inf: stored as "inf"/"-inf"
            "youden_cutoff": self.youden_cutoff_,
            "youden_points_cutoff": self.youden_points_cutoff_,
            "youden_sensitivity": self.youden_sensitivity_,
            "youden_specificity": self.youden_specificity_,
            "elimination_steps": self.elimination_steps_.to_dict(orient="list"),
            "step_coefficients": self.step_coefficients_.to_dict(orient="list"),
            # Firth's profile intervals need the training data: stored as computed
            "summary": self.summary.to_dict(orient="list") if self.penalty == "firth" else None,
        }
        params = self.get_params()
        params["reference_levels"] = (
            {k: str(v) for k, v in params["reference_levels"].items()}
            if params["reference_levels"]
            else None
        )
        return dump_model("LogisticNomogram", params, state, path)

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> LogisticNomogram:
        """Rebuild a fitted nomogram written by :meth:`to_json` (a path or the JSON text).

        Every key and value is checked first: a missing or unknown key, a wrong type, or a null
        or NaN where a finite number is needed raises :class:`InputError` naming the key. Only
        the Youden cutoffs may be infinite (stored as ``"inf"``/``"-inf"``).
        """
        return cls._from_doc(source)

    @classmethod
    def _from_doc(cls, source: Any, where: str | None = None, prefix: str = "") -> LogisticNomogram:
        params = Record({k: ANY if k == "reference_levels" else SCALAR for k in cls().get_params()})
        doc = load_model(source, "LogisticNomogram", params=params, state=_STATE_SCHEMA,
                         where=where, prefix=prefix)  # fmt: skip
        with rebuilding(doc, prefix):
            return cls._rebuild(doc)

    @classmethod
    def _rebuild(cls, doc: dict[str, Any]) -> LogisticNomogram:
        st = doc["state"]
        obj = cls(**doc["params"])
        f = number
        k = len(st["coef"]["names"])
        if len(st["coef"]["values"]) != k:
            raise ValueError("state.coef.names and state.coef.values differ in length")
        if len(st["cov"]) != k + 1 or any(len(row) != k + 1 for row in st["cov"]):
            raise ValueError(f"state.cov is not a {k + 1} x {k + 1} matrix")
        terms = {t["name"] for t in st["terms"]}
        if set(st["axes"]) != terms:
            raise ValueError("state.axes is not keyed by exactly the names of state.terms")
        for name, axis in st["axes"].items():
            if len(axis["values"]) != len(axis["points"]) or len(axis["contrib"]) != len(
                axis["points"]
            ):
                raise ValueError(f"state.axes.{name}: values, contrib and points differ in length")

        obj.outcome_ = st["outcome"]
        obj.candidate_predictors_ = list(st["candidate_predictors"])
        obj._terms = [Term.from_dict(d) for d in st["terms"]]
        obj.terms_ = {t.name: t.to_dict() for t in obj._terms}
        obj.predictors_ = [t.name for t in obj._terms]
        obj.intercept_ = float(st["intercept"])
        obj.coef_ = pd.Series(
            np.asarray(st["coef"]["values"], dtype=float), index=st["coef"]["names"], name="beta"
        )
        cols = ["(Intercept)", *st["coef"]["names"]]
        obj.cov_ = pd.DataFrame(np.asarray(st["cov"], dtype=float), index=cols, columns=cols)
        obj.loglik_ = float(st["loglik"])
        obj.aic_ = float(st["aic"])
        obj.c_index_ = float(st["c_index"])
        obj.n_ = int(st["n"])
        obj.n_events_ = int(st["n_events"])
        obj.classes_ = np.array([0, 1])
        obj.n_features_in_ = len(obj.candidate_predictors_)
        obj._axes = st["axes"]
        obj.points_scale_ = float(st["points_scale"])
        obj.points_intercept_ = float(st["points_intercept"])
        obj.lp_range_ = tuple(float(v) for v in st["lp_range"])
        obj.predictor_ranges_ = {
            k: (float(v[0]), float(v[1])) for k, v in st["predictor_ranges"].items()
        }
        obj._lp_at = np.asarray(st["lp_at"], dtype=float)
        obj._total_ticks = np.asarray(st["total_ticks"], dtype=float)
        obj.youden_cutoff_ = float(st["youden_cutoff"])  # float() parses "inf" and "-inf"
        obj.youden_points_cutoff_ = float(st["youden_points_cutoff"])
        obj.youden_sensitivity_ = float(st["youden_sensitivity"])
        obj.youden_specificity_ = float(st["youden_specificity"])
        steps = pd.DataFrame(st["elimination_steps"])
        for c in ("chi2", "df", "p_value", "aic", "aic_after"):
            steps[c] = [f(v) for v in steps[c]]
        obj.elimination_steps_ = steps
        sc = pd.DataFrame(st["step_coefficients"])
        for c in sc.columns:
            if c not in ("term", "predictor", "level"):
                sc[c] = [f(v) for v in sc[c]]
        sc["step"] = sc["step"].astype(int)
        if "level" in sc:  # JSON null -> NaN, as in the fitted table
            sc["level"] = [np.nan if v is None else v for v in sc["level"]]
        obj.step_coefficients_ = sc
        fit = LogitFit(
            np.concatenate([[obj.intercept_], obj.coef_.to_numpy()]),
            obj.cov_.to_numpy(),
            obj.loglik_,
            0,
            cols,
        )
        obj._final_fit = fit
        if st.get("summary") is not None:
            summary = pd.DataFrame(st["summary"])
            if "level" in summary:
                summary["level"] = [np.nan if v is None else v for v in summary["level"]]
            obj._summary = summary
        else:
            obj._summary = coef_table(fit, obj._terms)
        return obj


# What a LogisticNomogram file's ``state`` holds (see radiomics_aln.io): the numbers used to
# predict and to draw must be finite; only the Youden cutoffs may be "inf"/"-inf".
_STATE_SCHEMA = Record(
    {
        "outcome": STR,
        "candidate_predictors": ListOf(STR),
        "terms": ListOf(TERM_RECORD),
        "intercept": NUM,
        "coef": Record({"names": ListOf(STR), "values": ListOf(NUM)}),
        "cov": ListOf(ListOf(NUM)),
        "loglik": NUM_OR_NULL,
        "aic": NUM_OR_NULL,
        "c_index": NUM_OR_NULL,
        "n": INT,
        "n_events": INT,
        "axes": MapOf(
            Record(
                {
                    "values": ListOf(SCALAR),
                    "contrib": ListOf(NUM),
                    "discrete": BOOL,
                    "kind": STR,
                    "points": ListOf(NUM),
                    "min_contrib": NUM,
                }
            )
        ),
        "points_scale": NUM,
        "points_intercept": NUM,
        "lp_range": ListOf(NUM, length=2),
        "predictor_ranges": MapOf(ListOf(NUM, length=2)),
        "lp_at": ListOf(NUM),
        "total_ticks": ListOf(NUM),
        "youden_cutoff": CUTOFF,
        "youden_points_cutoff": CUTOFF,
        "youden_sensitivity": NUM_OR_NULL,
        "youden_specificity": NUM_OR_NULL,
        # informational tables: columns of numbers (null: NaN, "inf") or text
        "elimination_steps": MapOf(ListOf(SCALAR)),
        "step_coefficients": MapOf(ListOf(SCALAR)),
        "summary": MapOf(ListOf(SCALAR), nullable=True),
    }
)
