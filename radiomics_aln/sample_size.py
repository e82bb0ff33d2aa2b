"""Minimum sample size for developing a prediction model with a binary outcome.

:func:`riley_sample_size` applies the three criteria of Riley et al. (BMJ 2020;368:m441; Stat
Med 2019;38:1276-96) that a development cohort must meet for a logistic model with ``parameters``
candidate coefficients, given an anticipated Cox-Snell R-squared and the outcome prevalence:

1. expected uniform shrinkage of the coefficients >= ``shrinkage`` (default 0.9)::

       n1 = p / ((S - 1) * ln(1 - R2_cs / S))

2. a small optimism in the apparent Nagelkerke R-squared (<= ``delta``, default 0.05): the same
   formula with ``S = R2_cs / (R2_cs + delta * max(R2_cs))``, where
   ``max(R2_cs) = 1 - exp(2 lnL_null / n) = 1 - (phi^phi (1 - phi)^(1 - phi))^2``;
3. a precise overall risk (intercept): ``n3 = (1.96 / margin)^2 phi (1 - phi)``.

The required size is the largest of the three. The numbers equal the R package ``pmsampsize``
(version 1.1.3, ``type = "b"``), including where it rounds: an anticipated R-squared given as
Nagelkerke's is converted to Cox-Snell's and rounded to 3 decimals, one derived from a
C-statistic is rounded to 4 decimals. The C-statistic is converted as in Riley, Van Calster and
Collins (Stat Med 2021;40:859-64): the linear predictor is normal with variance 1 in both
outcome groups, its means differ by ``sqrt(2) * qnorm(C)``, and the R-squared is that of the
logistic model fitted to it. ``pmsampsize`` simulates a million patients for this; here the same
quantity is integrated numerically, so it is the simulation's limit (the two agree to about
1e-3; see ``tests/reference/sample_size.R``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from radiomics_aln._display import SummaryHTML
from radiomics_aln.exceptions import InputError, SmallSampleWarning

__all__ = [
    "DEFAULT_R2_NAGELKERKE",
    "SampleSizeResult",
    "c_statistic_to_r2_cs",
    "max_r2_cs",
    "candidate_parameters",
    "riley_sample_size",
    "warn_if_small",
]

#: Nagelkerke R-squared assumed when nothing better is known (Riley et al. 2020, BMJ, section
#: "What if no information is available?": a conservative 15 % of the maximum).
DEFAULT_R2_NAGELKERKE = 0.15


def _check_fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(f"`{name}` must be a number strictly between 0 and 1, got {value!r}")
    value = float(value)
    if not (0.0 < value < 1.0):
        raise InputError(f"`{name}` must lie strictly between 0 and 1, got {value!r}")
    return value


def max_r2_cs(prevalence: float) -> float:
    """The largest Cox-Snell R-squared a logistic model can reach at this outcome prevalence.

    ``1 - exp(2 lnL_null / n)`` with ``lnL_null / n = phi ln(phi) + (1 - phi) ln(1 - phi)``
    (Riley et al. 2020, equation 23 of the 2019 Stat Med paper).

    Examples
    --------
    >>> round(max_r2_cs(0.174), 4)
    0.6032
    >>> round(max_r2_cs(0.5), 4)
    0.75
    """
    phi = _check_fraction(prevalence, "prevalence")
    ln_null = phi * math.log(phi) + (1.0 - phi) * math.log(1.0 - phi)
    return 1.0 - math.exp(2.0 * ln_null)


def c_statistic_to_r2_cs(c_statistic: float, prevalence: float) -> float:
    """Cox-Snell R-squared that corresponds to a C-statistic (Riley et al., Stat Med 2021).

    Non-events have a linear predictor ``N(0, 1)``, events ``N(mu, 1)`` with
    ``mu = sqrt(2) * qnorm(C)``; the log-odds of the event are then exactly linear in it, so the
    large-sample R-squared is ``1 - exp(-2 (E[loglik] - loglik_null))`` per patient. The
    expectation is integrated numerically (``pmsampsize`` simulates 10^6 patients instead, so
    its value differs from this one in about the 3rd-4th decimal).

    Examples
    --------
    >>> round(c_statistic_to_r2_cs(0.89, 0.174), 3)
    0.291
    >>> c_statistic_to_r2_cs(0.5, 0.3)
    0.0
    """
    c = _check_fraction(c_statistic, "c_statistic")
    phi = _check_fraction(prevalence, "prevalence")
    if c < 0.5:
        raise InputError(
            f"`c_statistic` = {c} is below 0.5: a model worse than chance cannot anticipate an "
            "R-squared; give the C-statistic of the model that predicts the event (>= 0.5)"
        )
    mu = math.sqrt(2.0) * stats.norm.ppf(c)
    if mu == 0.0:
        return 0.0
    base = math.log(phi / (1.0 - phi)) - mu * mu / 2.0
    # Gauss-Hermite (probabilists') nodes integrate E[f(x)] for x ~ N(m, 1) to machine precision
    # for these smooth, slowly growing integrands.
    nodes, weights = np.polynomial.hermite_e.hermegauss(160)
    weights = weights / weights.sum()
    x_event, x_none = nodes + mu, nodes
    log_p_event = -np.logaddexp(0.0, -(base + mu * x_event))  # log P(Y=1 | x), events
    log_q_none = -np.logaddexp(0.0, base + mu * x_none)  # log P(Y=0 | x), non-events
    loglik = phi * float(weights @ log_p_event) + (1.0 - phi) * float(weights @ log_q_none)
    ln_null = phi * math.log(phi) + (1.0 - phi) * math.log(1.0 - phi)
    return float(-special.expm1(-2.0 * (loglik - ln_null)))


def _n_for_shrinkage(parameters: int, r2: float, s: float) -> int:
    return math.ceil(parameters / ((s - 1.0) * math.log(1.0 - r2 / s)))


@dataclass(frozen=True)
class SampleSizeResult(SummaryHTML):
    """The three criteria of Riley et al. (2020) and the sample size they require.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per criterion (``shrinkage``, ``optimism``, ``intercept``) and ``final``: the
        required ``n``, the ``events`` it implies, events per candidate parameter (``epp``), the
        ``shrinkage`` that criterion achieves, and the R-squared inputs.
    n_required, events_required : int, float
        The largest of the three criteria, and ``n_required * prevalence``.
    parameters, prevalence, r2_cs, r2_source
        The inputs; ``r2_source`` says where the anticipated R-squared came from.
    """

    summary: pd.DataFrame
    n_required: int
    events_required: float
    parameters: int
    prevalence: float
    r2_cs: float
    r2_source: str

    def check(self, n: int, *, events: int | None = None, what: str = "the cohort") -> str:
        """One sentence comparing ``n`` patients (and ``events``) with what is required."""
        need = f"{self.n_required} patients ({math.ceil(self.events_required)} events)"
        have = f"{n} patients" + (f" ({events} events)" if events is not None else "")
        verdict = "meets" if n >= self.n_required else "is below"
        return (
            f"{what[:1].upper()}{what[1:]} ({have}) {verdict} the minimum of {need} for "
            f"{self.parameters} candidate parameter(s) at an outcome prevalence of "
            f"{self.prevalence:.3f} and an anticipated Cox-Snell R-squared of {self.r2_cs:.3g} "
            f"({self.r2_source}), by the criteria of Riley et al. (2020)."
        )

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of the sample size each criterion requires; returns the axes."""
        from radiomics_aln._plotting import get_ax

        ax = get_ax(ax)
        rows = self.summary.loc[["shrinkage", "optimism", "intercept"]]
        ax.barh(rows.index, rows["n"], color="0.6")
        ax.axvline(self.n_required, color="black", lw=1, ls="--")
        ax.set_xlabel("Patients required")
        ax.invert_yaxis()
        return ax


def riley_sample_size(
    *,
    parameters: int,
    prevalence: float,
    r2_cs: float | None = None,
    r2_nagelkerke: float | None = None,
    c_statistic: float | None = None,
    shrinkage: float = 0.9,
    delta: float = 0.05,
    margin: float = 0.05,
) -> SampleSizeResult:
    """Minimum development sample size for a logistic prediction model (Riley et al. 2020).

    Give the anticipated model performance in exactly one of three ways: ``r2_cs`` (Cox-Snell
    R-squared, e.g. from an existing model's likelihood ratio), ``r2_nagelkerke`` or
    ``c_statistic`` (an existing model's AUC). Equal to ``pmsampsize(type = "b", ...)`` of the
    R package pmsampsize 1.1.3 (C-statistics: see :func:`c_statistic_to_r2_cs`).

    Parameters
    ----------
    parameters : int
        Candidate predictor parameters: every coefficient considered before any selection
        (a categorical predictor with k levels counts k - 1).
    prevalence : float
        Anticipated outcome proportion.
    r2_cs, r2_nagelkerke, c_statistic : float, optional
        The anticipated performance (exactly one).
    shrinkage : float, default 0.9
        Target expected shrinkage (criterion 1).
    delta : float, default 0.05
        Largest acceptable optimism in Nagelkerke's R-squared (criterion 2).
    margin : float, default 0.05
        Margin of error of the overall risk (criterion 3).

    Returns
    -------
    SampleSizeResult

    Raises
    ------
    InputError
        Not exactly one performance measure, or a value out of range (each named).

    Examples
    --------
    The first worked example of the pmsampsize documentation (Riley et al. 2020, BMJ):

    >>> res = riley_sample_size(parameters=24, prevalence=0.174, r2_cs=0.288)
    >>> res.summary["n"].tolist()
    [623, 662, 221, 662]
    >>> res.n_required, round(res.events_required, 1)
    (662, 115.2)
    """
    if isinstance(parameters, bool) or not isinstance(parameters, int | np.integer):
        raise InputError(f"`parameters` must be a positive integer, got {parameters!r}")
    parameters = int(parameters)
    if parameters < 1:
        raise InputError(f"`parameters` must be a positive integer, got {parameters}")
    phi = _check_fraction(prevalence, "prevalence")
    shrinkage = _check_fraction(shrinkage, "shrinkage")
    delta = _check_fraction(delta, "delta")
    margin = _check_fraction(margin, "margin")
    given = {
        k: v
        for k, v in {"r2_cs": r2_cs, "r2_nagelkerke": r2_nagelkerke, "c_statistic": c_statistic}
        .items()
        if v is not None
    }
    if len(given) != 1:
        raise InputError(
            "give the anticipated performance in exactly one of `r2_cs`, `r2_nagelkerke` or "
            f"`c_statistic`; got {sorted(given) or 'none'}"
        )
    r2_max = max_r2_cs(phi)
    if r2_cs is not None:
        r2 = _check_fraction(r2_cs, "r2_cs")
        source = f"Cox-Snell R-squared given as {r2:g}"
    elif r2_nagelkerke is not None:
        nag = _check_fraction(r2_nagelkerke, "r2_nagelkerke")
        r2 = round(nag * r2_max, 3)  # as pmsampsize
        source = f"Nagelkerke R-squared {nag:g} x maximum {r2_max:.3f}"
    else:
        c = _check_fraction(c_statistic, "c_statistic")
        r2 = round(c_statistic_to_r2_cs(c, phi), 4)  # as pmsampsize
        source = f"from a C-statistic of {c:g}"
    if r2 <= 0:
        raise InputError(f"the anticipated Cox-Snell R-squared is {r2}: it must be positive")
    if r2 > r2_max:
        raise InputError(
            f"the anticipated Cox-Snell R-squared {r2:g} exceeds its maximum {r2_max:.4f} at a "
            f"prevalence of {phi:g}; check `r2_cs` (a Nagelkerke R-squared goes in "
            "`r2_nagelkerke`)"
        )
    if shrinkage < r2:
        raise InputError(
            f"`shrinkage` = {shrinkage:g} is below the anticipated R-squared {r2:g}: the "
            "shrinkage formula has no solution"
        )
    s2 = r2 / (r2 + delta * r2_max)
    n1 = _n_for_shrinkage(parameters, r2, shrinkage)
    n2 = _n_for_shrinkage(parameters, r2, s2)
    n3 = math.ceil((1.96 / margin) ** 2 * phi * (1 - phi))  # 1.96, as the paper and pmsampsize
    n_final = max(n1, n2, n3)
    s_final = max(s2, shrinkage)
    rows = [("shrinkage", n1, shrinkage), ("optimism", n2, s2), ("intercept", n3, s_final),
            ("final", n_final, s_final)]
    table = pd.DataFrame(
        [
            {
                "criterion": name,
                "n": n,
                "events": n * phi,
                "epp": n * phi / parameters,
                "shrinkage": s,
                "parameters": parameters,
                "r2_cs": r2,
                "max_r2_cs": r2_max,
                "r2_nagelkerke": r2 / r2_max,
            }
            for name, n, s in rows
        ]
    ).set_index("criterion")
    return SampleSizeResult(
        summary=table,
        n_required=n_final,
        events_required=n_final * phi,
        parameters=parameters,
        prevalence=phi,
        r2_cs=r2,
        r2_source=source,
    )


def candidate_parameters(
    data: pd.DataFrame, predictors: list[str], reference_levels: dict[str, Any] | None = None
) -> int:
    """Number of coefficients of ``predictors`` in ``data``: 1 per continuous predictor, k - 1 per
    categorical one with k levels (R's treatment coding), as the design matrix would have.

    A predictor with a single level adds nothing (it cannot be estimated).

    Examples
    --------
    >>> df = pd.DataFrame({"age": [50, 61, 44], "shape": ["oval", "irregular", "round"]})
    >>> candidate_parameters(df, ["age", "shape"])
    3
    """
    from radiomics_aln.design import make_terms
    from radiomics_aln.exceptions import SingleLevelError

    n = 0
    for name in predictors:
        refs = {k: v for k, v in (reference_levels or {}).items() if k == name}
        try:
            n += sum(len(t.columns) for t in make_terms(data, [name], refs or None))
        except SingleLevelError:
            continue
    return n


def warn_if_small(result: SampleSizeResult, n: int, *, what: str = "the training cohort") -> str:
    """The sentence of :meth:`SampleSizeResult.check`; warns when ``n`` is below the minimum."""
    text = result.check(n, what=what)
    if n < result.n_required:
        warnings.warn(text, SmallSampleWarning, stacklevel=2)
    return text
