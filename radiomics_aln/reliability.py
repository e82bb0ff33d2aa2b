"""Feature reproducibility: the intraclass correlation (ICC) of repeated readings.

* :func:`icc` -- the six Shrout & Fleiss (1979) / McGraw & Wong (1996) ICC forms for one variable
  given in long format;
* :func:`icc_table` -- one ICC form for every feature of a radiomics table at once, vectorized
  over features, and :func:`icc_comparisons` for several reading comparisons (inter-observer,
  intra-observer) in one long table;
* :func:`agreement_class` and :func:`plot_icc` -- agreement classes and the ICC distribution.

Tables are tidy: the ICC is ``estimate``, its F test's p-value ``p_value`` and its interval
``ci_low``/``ci_high`` (pingouin's ``ICC``, ``pval``, ``CI95%``). The filter that keeps the
reproducible features, :class:`~radiomics_aln.icc_filter.ICCFilter`, is built on these.

All functions share one vectorized two-way ANOVA (:func:`_mean_squares`), so ``icc`` and
``icc_table`` give identical numbers by construction; the tests pin them to Shrout & Fleiss'
Table 2, to ``psych::ICC(x, lmer = FALSE)`` in R and to ``pingouin.intraclass_corr``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from radiomics_aln._plotting import ROI_COLOURS, get_ax
from radiomics_aln._validation import check_conf_level, format_items
from radiomics_aln.exceptions import InputError
from radiomics_aln.features import ROI_NAMES, SEP

__all__ = [
    "ICC_FORMS",
    "AGREEMENT_LEVELS",
    "icc",
    "icc_table",
    "icc_comparisons",
    "agreement_class",
    "plot_icc",
]

logger = logging.getLogger(__name__)

#: The six ICC forms, in Shrout & Fleiss' names, with McGraw & Wong's notation and a description.
ICC_FORMS: dict[str, tuple[str, str]] = {
    "ICC1": ("ICC(1,1)", "Single rater, absolute agreement, one-way random effects"),
    "ICC2": ("ICC(A,1)", "Single rater, absolute agreement, two-way random effects"),
    "ICC3": ("ICC(C,1)", "Single rater, consistency, two-way mixed effects"),
    "ICC1k": ("ICC(1,k)", "Mean of k raters, absolute agreement, one-way random effects"),
    "ICC2k": ("ICC(A,k)", "Mean of k raters, absolute agreement, two-way random effects"),
    "ICC3k": ("ICC(C,k)", "Mean of k raters, consistency, two-way mixed effects"),
}

#: Agreement classes of the ICC point estimate (lower bounds), worst to best.
AGREEMENT_LEVELS: dict[str, float] = {"poor": -np.inf, "good": 0.60, "excellent": 0.80}

# Map every accepted spelling of a form (S&F name, McGraw & Wong notation) to the S&F name.
_FORM_ALIASES: dict[str, str] = {
    spelling.lower(): name for name, (label, _) in ICC_FORMS.items() for spelling in (name, label)
}

# A reading whose spread across cases is below this fraction of the feature's magnitude is
# treated as constant (exactly constant features often differ by float rounding only).
_CONSTANT_RTOL = 1e-12


def icc_form(form: str) -> str:
    """Shrout & Fleiss name (``"ICC2"``) of a form given in either notation (``"ICC(A,1)"``)."""
    key = str(form).strip().lower().replace(" ", "")
    if key not in _FORM_ALIASES:
        allowed = ", ".join(f"{k} ({v[0]})" for k, v in ICC_FORMS.items())
        raise InputError(f"unknown ICC form {form!r}; choose one of {allowed}")
    return _FORM_ALIASES[key]


def check_nan_policy(nan_policy: str) -> str:
    """``nan_policy`` is ``'raise'`` or ``'omit'``."""
    if nan_policy not in ("raise", "omit"):
        raise InputError(f"`nan_policy` must be 'raise' or 'omit', got {nan_policy!r}")
    return nan_policy


# --------------------------------------------------------------------------------------------
# Vectorized core
# --------------------------------------------------------------------------------------------


def _mean_squares(x: np.ndarray, valid: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Two-way ANOVA mean squares of ``x`` (cases x raters x features), feature by feature.

    ``valid`` (cases x features, bool) marks the cases used for each feature (listwise
    deletion per feature); ``None`` uses every case. Returns arrays over features: ``n`` and the
    mean squares ``msb`` (between targets), ``msw`` (within targets), ``msj`` (between raters,
    "judges") and ``mse`` (residual), plus ``flat`` (every rater's readings are constant across
    cases, so between-target and residual variation are both exactly zero; the raters may still
    differ by an offset) and ``constant`` (flat and every rater at the same value: every ICC is
    0/0).
    """
    n_all, k, p = x.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        if valid is None:  # fast path: every case used for every feature
            n = np.full(p, float(n_all))
            col_mean = x.mean(axis=0)  # (k, p): each rater's mean
            row_mean = x.mean(axis=1)  # (n, p): each case's mean over raters
            grand = col_mean.mean(axis=0)  # (p,)
            ss_rows = k * ((row_mean - grand) ** 2).sum(axis=0)
            resid = x - row_mean[:, None, :] - col_mean[None, :, :] + grand
            ss_err = (resid**2).sum(axis=(0, 1))
            lo, hi, scale = x.min(axis=0), x.max(axis=0), np.abs(x).max(axis=(0, 1))
        else:
            w = valid.astype(float)
            x = np.where(valid[:, None, :], x, 0.0)
            n = w.sum(axis=0)
            col_mean = (w[:, None, :] * x).sum(axis=0) / n
            row_mean = x.mean(axis=1)
            grand = col_mean.mean(axis=0)
            ss_rows = k * (w * (row_mean - grand) ** 2).sum(axis=0)
            resid = x - row_mean[:, None, :] - col_mean[None, :, :] + grand
            ss_err = (w[:, None, :] * resid**2).sum(axis=(0, 1))
            big = np.finfo(float).max
            lo = np.where(valid[:, None, :], x, big).min(axis=0)
            hi = np.where(valid[:, None, :], x, -big).max(axis=0)
            scale = np.abs(x).max(axis=(0, 1))  # left-out cells were set to 0
        ss_cols = n * ((col_mean - grand) ** 2).sum(axis=0)
        msb = ss_rows / (n - 1)
        msj = ss_cols / (k - 1)
        mse = ss_err / ((n - 1) * (k - 1))
        msw = (ss_cols + ss_err) / (n * (k - 1))
    # Flat readings: each rater's spread across cases is negligible against the magnitude. Then
    # MS_R and MS_E are exactly 0 and MS_W = SS_C / (n(k-1)); set them so, because the rounding
    # noise of the sums (~1e-31, what psych::ICC divides) would otherwise decide ICC3 or F.
    flat = ((hi - lo) <= _CONSTANT_RTOL * scale).all(axis=0)
    col_spread = col_mean.max(axis=0) - col_mean.min(axis=0)
    constant = flat & (col_spread <= _CONSTANT_RTOL * scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        msb = np.where(flat, 0.0, msb)
        mse = np.where(flat, 0.0, mse)
        msj = np.where(constant, 0.0, msj)
        msw = np.where(flat, np.where(constant, 0.0, ss_cols / (n * (k - 1))), msw)
    return {
        "n": n.astype(int),
        "msb": msb,
        "msw": msw,
        "msj": msj,
        "mse": mse,
        "flat": flat,
        "constant": constant,
    }


def _form_statistics(
    form: str, ms: Mapping[str, np.ndarray], k: int, conf_level: float
) -> dict[str, np.ndarray]:
    """ICC, F test of H0: ICC = 0 and the F-based CI of one form, for arrays of mean squares."""
    n = ms["n"].astype(float)
    msb, msw, msj, mse = ms["msb"], ms["msw"], ms["msj"], ms["mse"]
    q = 1.0 - (1.0 - conf_level) / 2.0
    df1 = ms["n"] - 1
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if form in ("ICC1", "ICC1k", "ICC3", "ICC3k"):
            one_way = form.startswith("ICC1")
            denom_ms = msw if one_way else mse
            df2 = ms["n"] * (k - 1) if one_way else (ms["n"] - 1) * (k - 1)
            f_stat = msb / denom_ms
            f_low = f_stat / stats.f.ppf(q, df1, df2)
            f_up = f_stat * stats.f.ppf(q, df2, df1)
            if form.endswith("k"):
                estimate = (msb - denom_ms) / msb
                denominator = msb
                low, high = 1.0 - 1.0 / f_low, 1.0 - 1.0 / f_up
            else:
                denominator = msb + (k - 1) * denom_ms
                estimate = (msb - denom_ms) / denominator
                low = (f_low - 1.0) / (f_low + k - 1.0)
                high = (f_up - 1.0) / (f_up + k - 1.0)
                # F = +inf (no within-target error): the bounds' limit is 1, not inf/inf.
                low = np.where(np.isposinf(f_low), 1.0, low)
                high = np.where(np.isposinf(f_up), 1.0, high)
        else:
            df2 = (ms["n"] - 1) * (k - 1)
            f_stat = msb / mse
            denominator = msb + (k - 1) * mse + k * (msj - mse) / n
            icc_a1 = (msb - mse) / denominator
            # Satterthwaite df of McGraw & Wong (1996, Table 7), written with MSJ and MSE instead
            # of Fj = MSJ / MSE so that MSE = 0 (perfect consistency) stays finite.
            c = n * (1.0 + (k - 1) * icc_a1) - k * icc_a1
            v_num = (k - 1) * (n - 1) * (k * icc_a1 * msj + c * mse) ** 2
            v_den = (n - 1) * k**2 * icc_a1**2 * msj**2 + c**2 * mse**2
            # 0/0 only when MSJ = MSE = 0: the bounds are then 1 whatever v, so any finite v does.
            v = np.where(v_den > 0, v_num / v_den, (n - 1) * (k - 1))
            f_up = stats.f.ppf(q, df1, v)
            f_low = stats.f.ppf(q, v, df1)
            mix = k * msj + (k * n - k - n) * mse
            low = n * (msb - f_up * mse) / (f_up * mix + n * msb)
            high = n * (f_low * msb - mse) / (mix + n * f_low * msb)
            if form == "ICC2":
                estimate = icc_a1
            else:
                denominator = msb + (msj - mse) / n
                estimate = (msb - mse) / denominator
                # Spearman-Brown step-up of the ICC(A,1) bounds: algebraically McGraw & Wong's
                # ICC(A,k) bounds n(MSR - F*MSE) / (F*(MSC - MSE) + n*MSR) with the same v.
                low = low * k / (1.0 + low * (k - 1))
                high = high * k / (1.0 + high * (k - 1))
        pval = stats.f.sf(f_stat, df1, df2)
    # A denominator that is zero up to rounding makes the estimate 0/0 or +-1/0 (e.g. ICC2k when
    # MS_R = (MS_E - MS_C) / n): report it as undefined rather than as a huge number.
    scale = msb + msw + msj + mse
    undefined = (
        ms["constant"]
        | ~np.isfinite(estimate)
        | (np.abs(denominator) <= _CONSTANT_RTOL * np.where(np.isfinite(scale), scale, 0.0))
    )
    nan = np.nan
    # The F test of H0: ICC = 0 stands on its own (psych reports it for ICC1k when ICC1k is
    # -inf); it is undefined only as 0/0 (MS_R = MS_E = 0) or for a constant feature.
    f_undefined = ms["constant"] | np.isnan(f_stat)
    return {
        "estimate": np.where(undefined, nan, estimate),
        "F": np.where(f_undefined, nan, f_stat),
        "df1": np.asarray(df1, dtype=int),
        "df2": np.asarray(df2, dtype=int),
        "p_value": np.where(f_undefined, nan, pval),
        "ci_low": np.where(undefined, nan, low),
        "ci_high": np.where(undefined, nan, high),
        "undefined": undefined,
    }


# --------------------------------------------------------------------------------------------
# icc: one variable, long format
# --------------------------------------------------------------------------------------------


def icc(
    data: pd.DataFrame,
    targets: str,
    raters: str,
    ratings: str,
    *,
    nan_policy: str = "raise",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Six intraclass correlation coefficients of one variable, with F tests and CIs.

    Parameters
    ----------
    data : pandas.DataFrame
        Long format: one row per target (case) and rater (reader, session).
    targets, raters, ratings : str
        Columns holding the target id, the rater id and the numeric rating.
    nan_policy : {"raise", "omit"}
        ``"raise"`` (default): a missing rating (NaN, or a target not rated by every rater)
        raises :class:`~radiomics_aln.exceptions.InputError` naming the targets and raters.
        ``"omit"``: targets with any missing rating are dropped (listwise deletion, as
        ``psych::ICC(na.omit(x), lmer = FALSE)``).
    conf_level : float
        Confidence level of the interval (columns ``ci_low``, ``ci_high``).

    Returns
    -------
    pandas.DataFrame
        One row per form, in the order ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k, with columns

        - ``type``: Shrout & Fleiss name (``ICC1`` ... ``ICC3k``, as ``psych::ICC``);
        - ``label``: McGraw & Wong notation (``ICC(1,1)``, ``ICC(A,1)``, ``ICC(C,1)``,
          ``ICC(1,k)``, ``ICC(A,k)``, ``ICC(C,k)``; pingouin >= 0.7 uses these as ``Type``);
        - ``description``: raters (single / mean of k), definition, ANOVA model;
        - ``estimate``: the coefficient (unrounded);
        - ``F``, ``df1``, ``df2``, ``p_value``: F test of H0: ICC = 0;
        - ``ci_low``, ``ci_high``: F-based confidence interval.

        (pingouin names these columns ``ICC``, ``pval`` and ``CI95%``; ``psych::ICC`` ``ICC``,
        ``p``, ``lower bound`` and ``upper bound``.)

    Raises
    ------
    InputError
        Missing columns, non-numeric or non-finite ratings, a target rated twice by one rater,
        missing ratings (with ``nan_policy="raise"``), fewer than 2 targets or raters, or
        one constant rating for every target and rater (every ICC is 0/0). Ratings constant
        across targets within each rater but offset between raters are not an error: ICC1 is
        -1/(k-1), ICC2 and ICC2k are 0 (as ``psych::ICC``), and ICC3, ICC3k, ICC1k are 0/0
        (NaN), as are the two-way F tests.

    See Also
    --------
    icc_table : one form for every feature of a wide feature table, vectorized.

    Notes
    -----
    With :math:`n` targets and :math:`k` raters, the two-way ANOVA gives the mean squares
    between targets :math:`MS_R` (df :math:`n-1`), between raters :math:`MS_C` (df
    :math:`k-1`), residual :math:`MS_E` (df :math:`(n-1)(k-1)`) and within targets
    :math:`MS_W = (SS_C + SS_E) / (n(k-1))`. Then

    .. math::

        ICC1 &= \\frac{MS_R - MS_W}{MS_R + (k-1) MS_W}, \\qquad
        ICC1k = \\frac{MS_R - MS_W}{MS_R} \\\\
        ICC2 &= \\frac{MS_R - MS_E}{MS_R + (k-1) MS_E + k (MS_C - MS_E) / n}, \\qquad
        ICC2k = \\frac{MS_R - MS_E}{MS_R + (MS_C - MS_E) / n} \\\\
        ICC3 &= \\frac{MS_R - MS_E}{MS_R + (k-1) MS_E}, \\qquad
        ICC3k = \\frac{MS_R - MS_E}{MS_R}

    F tests (H0: ICC = 0): :math:`F = MS_R / MS_W` on :math:`(n-1, n(k-1))` df for ICC1 and
    ICC1k, :math:`F = MS_R / MS_E` on :math:`(n-1, (n-1)(k-1))` df for the two-way forms
    (as ``psych::ICC`` and pingouin; irr's ``icc`` uses Satterthwaite df for ICC(A,.) tests).

    Confidence intervals, McGraw & Wong (1996), Tables 7 and 8, with
    :math:`F_{1-\\alpha/2}(a, b)` the F quantile:

    - ICC1, ICC3: :math:`F_L = F / F_{1-\\alpha/2}(df_1, df_2)`,
      :math:`F_U = F \\cdot F_{1-\\alpha/2}(df_2, df_1)`, bounds
      :math:`(F_L - 1) / (F_L + k - 1)` and :math:`(F_U - 1) / (F_U + k - 1)`;
      ICC1k, ICC3k: :math:`1 - 1/F_L` and :math:`1 - 1/F_U`.
    - ICC2 (absolute agreement): with :math:`\\hat\\rho` = ICC2, :math:`F_j = MS_C / MS_E`,
      :math:`a = k \\hat\\rho / (n (1 - \\hat\\rho))`,
      :math:`b = 1 + k \\hat\\rho (n - 1) / (n (1 - \\hat\\rho))` and the Satterthwaite df
      :math:`v = (a MS_C + b MS_E)^2 / ((a MS_C)^2 / (k-1) + (b MS_E)^2 / ((n-1)(k-1)))`,
      :math:`F^* = F_{1-\\alpha/2}(n-1, v)`, :math:`F_* = F_{1-\\alpha/2}(v, n-1)`:

      .. math::

          L = \\frac{n (MS_R - F^* MS_E)}{F^* (k MS_C + (kn - k - n) MS_E) + n MS_R}, \\quad
          U = \\frac{n (F_* MS_R - MS_E)}{k MS_C + (kn - k - n) MS_E + n F_* MS_R}

    - ICC2k: :math:`L_k = k L / (1 + (k-1) L)` (likewise :math:`U_k`), which equals McGraw &
      Wong's :math:`n (MS_R - F^* MS_E) / (F^* (MS_C - MS_E) + n MS_R)` with the same
      :math:`v`. This is what ``psych::ICC`` and pingouin report; ``irr::icc(unit = "average")``
      recomputes :math:`v` with ICC2k in place of ICC2 and so gives different ICC(A,k) bounds.

    The numbers equal ``psych::ICC(x, lmer = FALSE)`` (ANOVA mean squares) and
    ``pingouin.intraclass_corr``. psych's default ``lmer = TRUE`` replaces the mean squares by
    REML variance components, which are truncated at zero: when :math:`MS_C < MS_E` its ICC2,
    ICC3, ICC2k, ICC3k and the two-way p values differ from the ANOVA ones
    (``tests/reference/icc.R`` shows such a dataset). Perfect agreement (:math:`MS_E = 0`)
    gives ICC 1, F = inf, p = 0 and CI bounds at their limit 1.

    References
    ----------
    Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
    reliability. Psychological Bulletin, 86(2), 420-428.

    McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass correlation
    coefficients. Psychological Methods, 1(1), 30-46 (and correction, 1(4), 390).

    Examples
    --------
    Shrout & Fleiss (1979), Table 2: six targets rated by four judges.

    >>> import pandas as pd
    >>> from radiomics_aln.reliability import icc
    >>> wide = pd.DataFrame(
    ...     [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    ...     columns=["j1", "j2", "j3", "j4"],
    ... )
    >>> long = wide.rename_axis("target").reset_index().melt("target", var_name="judge")
    >>> res = icc(long, targets="target", raters="judge", ratings="value")
    >>> res[["type", "label", "estimate", "F", "df1", "df2"]].round(2)  # R: psych::ICC(sf, lmer = FALSE)
        type     label  estimate      F  df1  df2
    0   ICC1  ICC(1,1)      0.17   1.79    5   18
    1   ICC2  ICC(A,1)      0.29  11.03    5   15
    2   ICC3  ICC(C,1)      0.71  11.03    5   15
    3  ICC1k  ICC(1,k)      0.44   1.79    5   18
    4  ICC2k  ICC(A,k)      0.62  11.03    5   15
    5  ICC3k  ICC(C,k)      0.91  11.03    5   15
    """
    nan_policy = check_nan_policy(nan_policy)
    conf_level = check_conf_level(conf_level)
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"`data` must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in (targets, raters, ratings) if c not in data.columns]
    if missing:
        raise InputError(
            f"`data` lacks column(s) {format_items(missing)}; it has {format_items(data.columns)}"
        )
    values = pd.to_numeric(data[ratings], errors="coerce")
    bad = values.isna() & data[ratings].notna()
    if bad.any():
        rows = data.loc[bad, targets]
        raise InputError(
            f"column `{ratings}` must be numeric; targets {format_items(rows)} hold "
            f"{format_items(data.loc[bad, ratings].astype(str).unique())}"
        )
    if np.isinf(values.to_numpy(dtype=float)).any():
        rows = data.loc[np.isinf(values.to_numpy(dtype=float)), targets]
        raise InputError(f"column `{ratings}` has infinite values for targets {format_items(rows)}")
    frame = pd.DataFrame({"t": data[targets], "r": data[raters], "y": values.astype(float)})
    if frame["t"].isna().any() or frame["r"].isna().any():
        raise InputError(f"columns `{targets}` and `{raters}` must not contain missing ids")
    dup = frame.duplicated(["t", "r"], keep=False)
    if dup.any():
        pairs = frame.loc[dup, ["t", "r"]].drop_duplicates()
        raise InputError(
            "each target must be rated once per rater; rated more than once: "
            + format_items(f"target {t} by rater {r}" for t, r in pairs.itertuples(index=False))
        )
    wide = frame.pivot(index="t", columns="r", values="y")
    incomplete = wide.isna().any(axis=1)
    if incomplete.any():
        if nan_policy == "raise":
            parts = [
                f"target {t} (rater {format_items(wide.columns[wide.loc[t].isna()], 3)})"
                for t in wide.index[incomplete][:10]
            ]
            more = f" and {int(incomplete.sum()) - 10} more" if incomplete.sum() > 10 else ""
            raise InputError(
                f"`{ratings}` is missing for {int(incomplete.sum())} target(s): "
                + ", ".join(parts)
                + more
                + "; drop them or pass nan_policy='omit'"
            )
        logger.info(
            "icc: dropping %d target(s) with missing ratings: %s",
            int(incomplete.sum()),
            format_items(wide.index[incomplete]),
        )
        wide = wide.loc[~incomplete]
    n, k = wide.shape
    if k < 2:
        raise InputError(f"ICC needs at least 2 raters in `{raters}`, got {k}")
    if n < 2:
        raise InputError(f"ICC needs at least 2 complete targets in `{targets}`, got {n}")
    ms = _mean_squares(wide.to_numpy(dtype=float)[:, :, None])
    if ms["constant"][0]:
        raise InputError(
            f"`{ratings}` is one constant value for every target and rater: the ICC is "
            "undefined (0/0)"
        )
    rows = []
    for form, (label, description) in ICC_FORMS.items():
        st = _form_statistics(form, ms, k, conf_level)
        rows.append(
            {
                "type": form,
                "label": label,
                "description": description,
                "estimate": float(st["estimate"][0]),
                "F": float(st["F"][0]),
                "df1": int(st["df1"][0]),
                "df2": int(st["df2"][0]),
                "p_value": float(st["p_value"][0]),
                "ci_low": float(st["ci_low"][0]),
                "ci_high": float(st["ci_high"][0]),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# icc_table: every feature at once
# --------------------------------------------------------------------------------------------


def agreement_class(values: Any) -> pd.Categorical:
    """Agreement class of ICC values: ``excellent`` >= 0.80, ``good`` 0.60-0.80, ``poor`` < 0.60.

    Undefined (NaN) values get a missing class. Returns an ordered categorical
    (poor < good < excellent).

    Examples
    --------
    >>> from radiomics_aln.reliability import agreement_class
    >>> list(agreement_class([0.95, 0.8, 0.79, 0.6, 0.2, float("nan")]))
    ['excellent', 'excellent', 'good', 'good', 'poor', nan]
    """
    arr = np.asarray(values, dtype=float)
    labels = np.full(arr.shape, None, dtype=object)
    for name, bound in AGREEMENT_LEVELS.items():  # ascending bounds: the last match wins
        labels[arr >= bound] = name
    return pd.Categorical(labels, categories=list(AGREEMENT_LEVELS), ordered=True)


def check_readings(readings: Any, what: str = "readings") -> dict[str, pd.DataFrame]:
    """At least two readings, each a DataFrame without duplicated case ids or feature columns."""
    if not isinstance(readings, Mapping):
        raise InputError(
            f"`{what}` must map a reader/session name to a cases x features DataFrame, "
            f"got {type(readings).__name__}"
        )
    if len(readings) < 2:
        raise InputError(f"`{what}` needs at least 2 readings to compare, got {len(readings)}")
    out = {}
    for name, df in readings.items():
        if not isinstance(df, pd.DataFrame):
            raise InputError(
                f"reading {name!r} in `{what}` must be a DataFrame, got {type(df).__name__}"
            )
        if df.index.has_duplicates:
            dups = df.index[df.index.duplicated()].unique()
            raise InputError(f"reading {name!r} has duplicated case ids: {format_items(dups)}")
        if df.columns.has_duplicates:
            dups = df.columns[df.columns.duplicated()].unique()
            raise InputError(
                f"reading {name!r} has duplicated feature columns: {format_items(dups)}"
            )
        out[str(name)] = df
    return out


def _stack_readings(readings: Mapping[str, pd.DataFrame]) -> tuple[np.ndarray, pd.Index, pd.Index]:
    """Check that every reading has the same cases and features; stack to cases x raters x features."""
    names = list(readings)
    first = readings[names[0]]
    cases, features = first.index, first.columns
    if len(features) == 0:
        raise InputError(f"reading {names[0]!r} has no feature columns")
    problems = []
    for name in names[1:]:
        df = readings[name]
        miss_c = features.difference(df.columns, sort=False)
        extra_c = df.columns.difference(features, sort=False)
        if len(miss_c) or len(extra_c):
            problems.append(
                f"reading {name!r} differs from {names[0]!r} in features: lacks "
                f"{format_items(miss_c) or 'none'}; has extra {format_items(extra_c) or 'none'}"
            )
        miss_r = cases.difference(df.index, sort=False)
        extra_r = df.index.difference(cases, sort=False)
        if len(miss_r) or len(extra_r):
            problems.append(
                f"reading {name!r} differs from {names[0]!r} in cases: lacks "
                f"{format_items(miss_r) or 'none'}; has extra {format_items(extra_r) or 'none'}"
            )
    if problems:
        raise InputError("readings must have the same cases and features: " + "; ".join(problems))
    blocks = []
    for name in names:
        df = readings[name].loc[cases, features]
        # Check each distinct dtype once: per-column checks dominate the run time otherwise.
        dtypes = df.dtypes
        bad = {
            dt
            for dt in set(dtypes)
            if not (pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt))
        }
        non_numeric = [c for c, dt in dtypes.items() if dt in bad] if bad else []
        if non_numeric:
            raise InputError(
                f"reading {name!r} has non-numeric feature column(s) {format_items(non_numeric)}; "
                "pass only the feature columns (no diagnostics or ids)"
            )
        blocks.append(df.to_numpy(dtype=float, na_value=np.nan))
    return np.stack(blocks, axis=1), cases, features


def _missing_message(
    x: np.ndarray, cases: pd.Index, features: pd.Index, names: Sequence[str], kind: str
) -> str:
    bad = np.isinf(x) if kind == "inf" else np.isnan(x)
    feat_idx = np.flatnonzero(bad.any(axis=(0, 1)))
    parts = []
    for j in feat_idx[:10]:
        cells = np.argwhere(bad[:, :, j])
        where = format_items((f"{cases[i]} ({names[r]})" for i, r in cells), 5)
        parts.append(f"feature `{features[j]}` in case {where}")
    more = f" (and {len(feat_idx) - 10} more features)" if len(feat_idx) > 10 else ""
    return "; ".join(parts) + more


def icc_table(
    readings: Mapping[str, pd.DataFrame],
    *,
    form: str = "ICC2",
    nan_policy: str = "raise",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """One ICC form for every feature of repeated feature tables, vectorized over features.

    Parameters
    ----------
    readings : mapping of str to pandas.DataFrame
        Reader or session name (e.g. ``"reader1"``, ``"reader2"``) to a cases x features table.
        All tables must have the same case ids (index) and feature columns (any order; the
        first table's order is used). At least two readings.
    form : str
        ``"ICC1"``, ``"ICC2"`` (default; absolute agreement, two-way random: the usual choice
        for inter- and intra-observer reproducibility), ``"ICC3"``, ``"ICC1k"``, ``"ICC2k"``,
        ``"ICC3k"``, or McGraw & Wong's notation (``"ICC(A,1)"`` ...).
    nan_policy : {"raise", "omit"}
        ``"raise"``: NaN raises an error naming each feature, case and reading. ``"omit"``:
        for each feature, cases with a NaN in any reading are left out of that feature's ICC
        (column ``n`` gives the cases used). Infinite values always raise.
    conf_level : float
        Confidence level of the CI columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``feature`` (the column names, in order), with columns ``type`` (the form),
        ``estimate`` (the ICC), ``F``, ``df1``, ``df2``, ``p_value``, ``ci_low``, ``ci_high``
        (as in :func:`icc`), ``n`` (cases used), ``k`` (readings), ``agreement`` (ordered
        categorical: poor < 0.60 <= good < 0.80 <= excellent, see :func:`agreement_class`),
        ``excluded`` (bool: ICC undefined) and ``reason`` (why, else missing). A feature that is
        constant across cases in every reading has no between-case variance: its ICC is 0/0,
        reported as NaN with ``excluded=True`` and the reason -- never as 1.

    Raises
    ------
    InputError
        Fewer than two readings; readings with different cases or features (both listed);
        duplicated case ids; non-numeric columns; NaN (with ``nan_policy="raise"``) or infinite
        values, naming feature, case and reading.

    Notes
    -----
    The formulas, F tests and McGraw & Wong (1996) confidence intervals are those of
    :func:`icc`; for every feature the row equals the ``form`` row of
    ``icc(long_format_of_that_feature)``, i.e. ``psych::ICC(x, lmer = FALSE)``.
    The two-way ANOVA is computed on a cases x readings x features array at once.

    References
    ----------
    McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass correlation
    coefficients. Psychological Methods, 1(1), 30-46.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from radiomics_aln.reliability import icc_table
    >>> rng = np.random.default_rng(0)
    >>> truth = pd.DataFrame(
    ...     rng.normal(size=(20, 3)),
    ...     columns=["tumor__original_firstorder_Mean", "tumor__original_glcm_Contrast", "c"],
    ... )
    >>> reader1 = truth + rng.normal(scale=[0.1, 1.0, 0.0], size=(20, 3))
    >>> reader2 = truth + rng.normal(scale=[0.1, 1.0, 0.0], size=(20, 3))
    >>> reader1["c"] = reader2["c"] = 7.0  # constant feature
    >>> tab = icc_table({"reader1": reader1, "reader2": reader2}, form="ICC2")
    >>> tab[["estimate", "ci_low", "agreement", "excluded"]].round(3)
                                     estimate  ci_low  agreement  excluded
    feature
    tumor__original_firstorder_Mean     0.991   0.977  excellent     False
    tumor__original_glcm_Contrast       0.523   0.107       poor     False
    c                                     NaN     NaN        NaN      True
    >>> tab.loc["c", "reason"]
    'zero variance across cases: ICC undefined (0/0)'
    """
    form = icc_form(form)
    nan_policy = check_nan_policy(nan_policy)
    conf_level = check_conf_level(conf_level)
    readings = check_readings(readings)
    names = list(readings)
    x, cases, features = _stack_readings(readings)
    if len(cases) < 2:
        raise InputError(f"ICC needs at least 2 cases in every reading, got {len(cases)}")
    if np.isinf(x).any():
        raise InputError(
            "readings have infinite values: " + _missing_message(x, cases, features, names, "inf")
        )
    valid = None
    if np.isnan(x).any():
        if nan_policy == "raise":
            raise InputError(
                "readings have missing values (NaN): "
                + _missing_message(x, cases, features, names, "nan")
                + "; fix them or pass nan_policy='omit' to drop those cases per feature"
            )
        valid = ~np.isnan(x).any(axis=1)
    k = x.shape[1]
    ms = _mean_squares(x, valid)
    st = _form_statistics(form, ms, k, conf_level)
    n = ms["n"]
    reason = np.full(len(features), None, dtype=object)
    reason[st["undefined"]] = f"{form} undefined: its denominator is zero"
    reason[st["undefined"] & ms["flat"]] = (
        f"constant across cases within each reading (readings differ by an offset): {form} "
        "undefined (0/0)"
    )
    reason[ms["constant"]] = "zero variance across cases: ICC undefined (0/0)"
    reason[n < 2] = "fewer than 2 cases with values in every reading"
    out = pd.DataFrame(
        {
            "type": form,
            "estimate": st["estimate"],
            "F": st["F"],
            "df1": st["df1"],
            "df2": st["df2"],
            "p_value": st["p_value"],
            "ci_low": st["ci_low"],
            "ci_high": st["ci_high"],
            "n": n,
            "k": k,
            "agreement": agreement_class(st["estimate"]),
            "excluded": st["undefined"] | (n < 2),
            "reason": pd.array(reason, dtype="string"),
        },
        index=pd.Index(features, name="feature"),
    )
    excluded = int(out["excluded"].sum())
    if excluded:
        logger.info("icc_table: %d of %d features have an undefined ICC", excluded, len(out))
    return out


def icc_comparisons(
    readings: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    form: str = "ICC2",
    nan_policy: str = "raise",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """ICC tables of several comparisons (e.g. inter- and intra-observer) in one long table.

    Parameters
    ----------
    readings : mapping of str to mapping of str to pandas.DataFrame
        Comparison name to the readings compared, e.g.
        ``{"inter": {"reader1": r1, "reader2": r2}, "intra": {"reader1": r1, "repeat": r3}}``.
        Each comparison may have its own cases; within a comparison the tables must match.
    form, nan_policy, conf_level
        As in :func:`icc_table`.

    Returns
    -------
    pandas.DataFrame
        One row per comparison x feature with columns ``comparison``, ``readings`` (e.g.
        ``"reader1 vs reader2"``), ``feature`` and the columns of :func:`icc_table`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from radiomics_aln.reliability import icc_comparisons
    >>> rng = np.random.default_rng(1)
    >>> truth = pd.DataFrame(rng.normal(size=(15, 2)), columns=["f1", "f2"])
    >>> r1, r2, r3 = (truth + rng.normal(scale=0.3, size=(15, 2)) for _ in range(3))
    >>> tab = icc_comparisons(
    ...     {"inter": {"reader1": r1, "reader2": r2}, "intra": {"reader1": r1, "repeat": r3}}
    ... )
    >>> tab[["comparison", "feature", "estimate"]].round(3)
      comparison feature  estimate
    0      inter      f1     0.898
    1      inter      f2     0.855
    2      intra      f1     0.951
    3      intra      f2     0.861
    """
    if not isinstance(readings, Mapping) or not readings:
        raise InputError(
            "`readings` must map a comparison name to {reader name: DataFrame}, e.g. "
            "{'inter': {'reader1': r1, 'reader2': r2}, 'intra': {'reader1': r1, 'repeat': r3}}"
        )
    tables = []
    for comparison, group in readings.items():
        group = check_readings(group, what=f"readings[{comparison!r}]")
        try:
            tab = icc_table(group, form=form, nan_policy=nan_policy, conf_level=conf_level)
        except InputError as exc:
            raise InputError(f"comparison {comparison!r}: {exc}") from None
        tab = tab.reset_index()
        tab.insert(0, "readings", " vs ".join(group))
        tab.insert(0, "comparison", str(comparison))
        tables.append(tab)
    return pd.concat(tables, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------------------------

_ROI_ORDER = list(ROI_NAMES)
_VALUE_LABELS = {"estimate": "ICC", "ci_low": "ICC, lower CI bound", "ci_high": "ICC, upper CI bound"}


def _parse_feature_name(name: str) -> tuple[str, str, str, str]:
    """Split ``{roi}__{imagetype}_{class}_{feature}`` into its four parts.

    PyRadiomics image types use hyphens (``wavelet-LLH``, ``log-sigma-3-0-mm-3D``) and
    feature classes have no underscore, so the part after ``__`` splits on its first two
    underscores. Names that do not follow the grammar get ``"other"`` for the missing parts.
    """
    roi, sep, rest = str(name).partition(SEP)
    if not sep:
        roi, rest = "other", str(name)
    parts = rest.split("_", 2)
    if len(parts) < 3:
        return roi, "other", "other", rest
    return roi, parts[0], parts[1], parts[2]


def plot_icc(
    table: pd.DataFrame,
    *,
    value: str = "estimate",
    comparison: str | None = None,
    threshold: float | None = 0.80,
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Box plots of ICCs by feature class (x axis) and ROI (colour), with threshold lines.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`icc_table` (features in the index or a ``feature`` column), of
        :func:`icc_comparisons` or ``ICCFilter.icc_``. Feature names are parsed as
        ``{roi}__{imagetype}_{class}_{feature}``.
    value : str
        Column to plot: ``"estimate"`` (the ICC) or a CI bound (``"ci_low"``, ``"ci_high"``).
    comparison : str, optional
        With several comparisons in ``table``, plot only this one; by default each feature's
        minimum over comparisons is plotted (the value the inter + intra filter acts on).
    threshold : float or None
        Draws a dashed line at the threshold (and a dotted one at 0.60, the good/poor border).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; the current axes by default.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.boxplot`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from radiomics_aln.reliability import icc_table, plot_icc
    >>> rng = np.random.default_rng(0)
    >>> cols = [
    ...     f"{roi}__original_{cls}_F{i}"
    ...     for roi in ("tumor", "ln")
    ...     for cls in ("glcm", "shape2D")
    ...     for i in range(4)
    ... ]
    >>> truth = pd.DataFrame(rng.normal(size=(20, len(cols))), columns=cols)
    >>> reads = {r: truth + rng.normal(scale=0.5, size=truth.shape) for r in ("reader1", "reader2")}
    >>> ax = plot_icc(icc_table(reads))
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['glcm', 'shape2D']
    """
    import matplotlib.pyplot as plt

    if not isinstance(table, pd.DataFrame):
        raise InputError(f"`table` must be an ICC table (DataFrame), got {type(table).__name__}")
    tab = table.reset_index() if "feature" not in table.columns else table.copy()
    if "feature" not in tab.columns:
        raise InputError("`table` needs a `feature` column or index")
    if value not in tab.columns:
        raise InputError(f"`table` has no column `{value}`; it has {format_items(tab.columns)}")
    label = _VALUE_LABELS.get(value, value)
    title = label
    if "comparison" in tab.columns:
        comps = list(pd.unique(tab["comparison"]))
        if comparison is not None:
            if comparison not in comps:
                raise InputError(
                    f"comparison {comparison!r} is not in the table ({format_items(comps)})"
                )
            tab = tab[tab["comparison"] == comparison]
            title = f"{label}, {comparison}"
        elif len(comps) > 1:
            title = f"minimum {label} over {' and '.join(map(str, comps))}"
    vals = (
        tab.assign(_v=pd.to_numeric(tab[value], errors="coerce"))
        .groupby("feature", sort=False)["_v"]
        .min()
    )
    n_undefined = int(vals.isna().sum())
    vals = vals.dropna()
    parsed = pd.DataFrame(
        [_parse_feature_name(f) for f in vals.index],
        columns=["roi", "image_type", "feature_class", "name"],
        index=vals.index,
    )
    parsed["value"] = vals
    rois = [r for r in _ROI_ORDER if r in set(parsed["roi"])] + sorted(
        set(parsed["roi"]) - set(_ROI_ORDER)
    )
    classes = sorted(set(parsed["feature_class"]))
    ax = get_ax(ax)
    colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2", "C3"])
    width = 0.8 / max(len(rois), 1)
    box_kwargs = {
        "widths": width * 0.9,
        "patch_artist": True,
        "showfliers": False,
        # matplotlib's orange median vanished inside the orange (peritumoral) boxes
        "medianprops": {"color": "black", "lw": 1.2},
    }
    box_kwargs.update(kwargs)
    rng = np.random.default_rng(0)  # fixed jitter: the same table always draws the same figure
    for j, roi in enumerate(rois):
        color = ROI_COLOURS.get(roi, colors[j % len(colors)])
        data, positions = [], []
        for i, cls in enumerate(classes):
            sel = parsed.loc[(parsed["roi"] == roi) & (parsed["feature_class"] == cls), "value"]
            if len(sel):
                data.append(sel.to_numpy())
                positions.append(i - 0.4 + width * (j + 0.5))
        if not data:
            continue
        parts = ax.boxplot(data, positions=positions, **box_kwargs)
        for patch in parts.get("boxes", []):
            if hasattr(patch, "set_facecolor"):
                patch.set_facecolor(color)
                patch.set_alpha(0.5)
        for pos, d in zip(positions, data, strict=True):
            jitter = rng.uniform(-width * 0.3, width * 0.3, size=len(d))
            ax.plot(pos + jitter, d, "o", ms=2.5, color=color, alpha=0.6)
        ax.plot([], [], "s", color=color, alpha=0.6, label=f"{roi} (n={int(sum(map(len, data)))})")
    if threshold is not None:
        ax.axhline(threshold, color="0.2", ls="--", lw=1, label=f"threshold {threshold:g}")
        good = AGREEMENT_LEVELS["good"]
        ax.axhline(good, color="0.5", ls=":", lw=1, label=f"good/poor border {good:g}")
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels(classes)
    ax.set_xlim(-0.6, len(classes) - 0.4)
    ax.set_xlabel("feature class")
    ax.set_ylabel(label)
    if n_undefined:
        title += f" ({n_undefined} undefined not shown)"
    ax.set_title(title)
    if rois:
        # Outside the axes: with hundreds of features any inside corner hides points.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax
