"""Minimum sample size (Riley et al. 2020) against pmsampsize's published checks and R."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest

from radiomics_aln.exceptions import InputError, SmallSampleWarning
from radiomics_aln.sample_size import (
    c_statistic_to_r2_cs,
    max_r2_cs,
    riley_sample_size,
    warn_if_small,
)

mpl.use("Agg")
REF = Path(__file__).parent / "reference"

# pmsampsize 1.1.3, tests/testthat/test_bin.R ("Test 4.1" to "4.4"): sample size per criterion
# (1, 2, 3, final) and events per predictor parameter, rounded to 2 decimals as printed there.
# Test 4.1 is the worked example of Riley et al., BMJ 2020;368:m441 (662 patients).
PMSAMPSIZE = [
    (0.288, 24, 0.174, [623, 662, 221, 662], [4.52, 4.8, 1.6, 4.8]),
    (0.55, 24, 0.174, [255, 532, 221, 532], [1.85, 3.86, 1.6, 3.86]),
    (0.288, 36, 0.174, [934, 992, 221, 992], [4.51, 4.79, 1.07, 4.79]),
    (0.288, 24, 0.25, [623, 590, 289, 623], [6.49, 6.15, 3.01, 6.49]),
]


@pytest.mark.parametrize(("r2", "parameters", "prevalence", "n", "epp"), PMSAMPSIZE)
def test_equals_pmsampsize_published_checks(r2, parameters, prevalence, n, epp):
    res = riley_sample_size(parameters=parameters, prevalence=prevalence, r2_cs=r2)
    assert res.summary["n"].tolist() == n
    assert res.summary["epp"].round(2).tolist() == epp
    assert res.n_required == n[-1]


def test_equals_the_papers_formulas_in_r():
    ref = pd.read_csv(REF / "sample_size_criteria.csv")
    assert len(ref) == 100
    for row in ref.itertuples():
        kwargs = {row.input: row.value}
        res = riley_sample_size(
            parameters=int(row.parameters), prevalence=row.prevalence,
            shrinkage=row.shrinkage, **kwargs,
        )
        assert res.summary["n"].tolist() == [row.n1, row.n2, row.n3, row.final], row
        assert res.r2_cs == pytest.approx(row.r2_cs, abs=1e-12)
        assert res.summary.loc["optimism", "shrinkage"] == pytest.approx(row.s2, rel=1e-12)
        assert max_r2_cs(row.prevalence) == pytest.approx(row.max_r2_cs, rel=1e-12)


def test_c_statistic_conversion_is_the_limit_of_the_simulation():
    # R: glm on 10^6 simulated patients (pmsampsize's cstat2rsq); the simulation's own
    # standard error is about 5e-4, so the quadrature must agree within 2e-3.
    ref = pd.read_csv(REF / "sample_size_cstat.csv")
    for row in ref.itertuples():
        got = c_statistic_to_r2_cs(row.c_statistic, row.prevalence)
        assert got == pytest.approx(row.r2_cs_simulated, abs=2e-3), row


def test_c_statistic_conversion_checks_itself_by_monte_carlo():
    # Independent of R: draw the two normals, fit nothing (the true log-odds is known).
    rng = np.random.default_rng(1)
    c, phi, n = 0.8, 0.3, 400_000
    mu = math.sqrt(2) * 0.8416212335729143  # qnorm(0.8)
    y = rng.random(n) < phi
    x = rng.normal(size=n) + mu * y
    logit = math.log(phi / (1 - phi)) - mu**2 / 2 + mu * x
    ll = np.where(y, -np.logaddexp(0, -logit), -np.logaddexp(0, logit)).mean()
    ll0 = phi * math.log(phi) + (1 - phi) * math.log(1 - phi)
    assert c_statistic_to_r2_cs(c, phi) == pytest.approx(1 - math.exp(-2 * (ll - ll0)), abs=2e-3)


def test_max_r2_is_symmetric_and_largest_at_half():
    assert max_r2_cs(0.2) == pytest.approx(max_r2_cs(0.8), rel=1e-14)
    assert max_r2_cs(0.5) == pytest.approx(0.75, rel=1e-14)
    assert max_r2_cs(0.5) > max_r2_cs(0.3)


def test_nagelkerke_input_is_rounded_like_pmsampsize():
    res = riley_sample_size(parameters=20, prevalence=0.174, r2_nagelkerke=0.15)
    assert res.r2_cs == round(0.15 * max_r2_cs(0.174), 3)
    assert "Nagelkerke" in res.r2_source


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({}, "exactly one"),
        ({"r2_cs": 0.2, "c_statistic": 0.8}, "exactly one"),
        ({"r2_cs": 0.7}, "exceeds its maximum"),
        ({"r2_cs": 0.0}, "`r2_cs`"),
        ({"c_statistic": 0.4}, "below 0.5"),
        ({"r2_cs": 0.2, "shrinkage": 1.0}, "`shrinkage`"),
        ({"r2_cs": 0.2, "shrinkage": 0.1}, "no solution"),
        ({"r2_cs": float("nan")}, "`r2_cs`"),
    ],
)
def test_bad_input_is_named(kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        riley_sample_size(parameters=10, prevalence=0.174, **kwargs)


@pytest.mark.parametrize(("parameters", "prevalence"), [(0, 0.2), (2.5, 0.2), (True, 0.2),
                                                        (5, 0.0), (5, 1.0), (5, "0.2")])
def test_bad_parameters_or_prevalence(parameters, prevalence):
    with pytest.raises(InputError, match="parameters|prevalence"):
        riley_sample_size(parameters=parameters, prevalence=prevalence, r2_cs=0.1)


def test_warns_below_the_minimum_and_says_why():
    res = riley_sample_size(parameters=24, prevalence=0.174, r2_cs=0.288)
    with pytest.warns(SmallSampleWarning, match="is below the minimum of 662 patients"):
        text = warn_if_small(res, 300)
    assert "24 candidate parameter(s)" in text and "Riley et al. (2020)" in text
    assert "meets" in warn_if_small(res, 662)


def test_plot_marks_the_required_size():
    res = riley_sample_size(parameters=5, prevalence=0.4, r2_cs=0.2)
    ax = res.plot()
    assert len(ax.patches) == 3
    assert ax.lines[0].get_xdata()[0] == res.n_required
