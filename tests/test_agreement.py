"""Cohen's and Fleiss' kappa against R (tests/reference/readers.R) and the defining papers.

- unweighted Cohen's kappa, its variance and interval: ``psych::cohen.kappa`` (psych 2.2.9);
- weighted kappa (quadratic = psych's default weights, linear = ``w`` matrix): the estimate
  from psych; the variance from Fleiss, Cohen & Everitt (1969), written out in readers.R and
  equal to statsmodels' ``cohens_kappa`` (psych's ``var.weighted`` is a different formula);
- Fleiss' kappa on Fleiss (1971)'s psychiatric diagnoses: 0.430 in the paper; its null
  standard error from Fleiss, Nee & Landis (1979) (readers.R; irr's ``kappam.fleiss`` agrees).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radiomics_aln.agreement import cohen_kappa, fleiss_kappa
from radiomics_aln.exceptions import InputError

REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "readers_data.csv", dtype={"case_id": str})


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "readers_R.csv", keep_default_na=False, dtype=str)


def _get(data: pd.DataFrame, reader: str, session: str) -> pd.DataFrame:
    part = data[(data["reader"] == reader) & (data["session"] == session)]
    return part.sort_values("case_id")


def _rows(ref: pd.DataFrame, what: str) -> pd.DataFrame:
    return ref[ref["what"] == what]


def test_cohen_kappa_unweighted_against_R(data, ref):
    """R: psych::cohen.kappa(cbind(a, b))$kappa, $confid[1, ] (calls of two readers and of
    ratings 1-5 unweighted)."""
    rows = pd.concat([_rows(ref, "kappa_call"), _rows(ref, "kappa_rating_unweighted")])
    assert len(rows) == 12
    for _, r in rows.iterrows():
        r1, r2 = r["reader"].split("|")
        a, b = _get(data, r1, r["session"]), _get(data, r2, r["session"])
        col = r["source"]
        res = cohen_kappa(a[col].to_numpy(), b[col].to_numpy()).loc["kappa"]
        np.testing.assert_allclose(
            [res["estimate"], res["ci_low"], res["ci_high"]],
            [float(r["value"]), float(r["low"]), float(r["high"])],
            rtol=1e-10,
        )


def test_cohen_kappa_against_truth_and_variance_against_R(data, ref):
    """R: psych::cohen.kappa(cbind(call, y))$var.kappa and $confid (each reader vs truth)."""
    est, var = _rows(ref, "kappa_truth"), _rows(ref, "kappa_truth_var")
    for (_, r), (_, v) in zip(est.iterrows(), var.iterrows(), strict=True):
        x = _get(data, r["reader"], r["session"])
        res = cohen_kappa(x["call"], x["y"]).iloc[0]
        np.testing.assert_allclose(res["estimate"], float(r["value"]), rtol=1e-10)
        np.testing.assert_allclose(res["se"] ** 2, float(v["value"]), rtol=1e-10)
        np.testing.assert_allclose([res["ci_low"], res["ci_high"]],
                                   [float(r["low"]), float(r["high"])], rtol=1e-10)  # fmt: skip


@pytest.mark.parametrize("weights", ["quadratic", "linear"])
def test_weighted_kappa_against_R(data, ref, weights):
    """R: psych::cohen.kappa(cbind(a, b), levels = 1:5)$weighted.kappa (quadratic; linear with
    w = 1 - |i - j| / 4); variance of Fleiss, Cohen & Everitt (1969) (fce_var in readers.R)."""
    est = _rows(ref, "kappa_rating")
    var = _rows(ref, "kappa_rating_var")
    est, var = est[est["key"] == weights], var[var["key"] == weights]
    assert len(est) == 6
    for (_, r), (_, v) in zip(est.iterrows(), var.iterrows(), strict=True):
        r1, r2 = r["reader"].split("|")
        a, b = _get(data, r1, r["session"]), _get(data, r2, r["session"])
        res = cohen_kappa(a["rating"], b["rating"], weights=weights, levels=[1, 2, 3, 4, 5])
        row = res.loc["weighted_kappa"]
        np.testing.assert_allclose(row["estimate"], float(r["value"]), rtol=1e-10)
        np.testing.assert_allclose(row["se"] ** 2, float(v["value"]), rtol=1e-10)
        np.testing.assert_allclose([row["ci_low"], row["ci_high"]],
                                   [float(r["low"]), float(r["high"])], rtol=1e-10)  # fmt: skip
        # psych 2.2.9's var.weighted differs (documented): the test would notice if it did not
        assert not np.isclose(row["se"] ** 2, float(v["low"]), rtol=1e-3)


def test_weighted_variance_equals_statsmodels():
    """statsmodels.stats.inter_rater.cohens_kappa implements Fleiss, Cohen & Everitt too."""
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(3)
    a = rng.integers(1, 5, 70)
    b = np.clip(a + rng.integers(-1, 2, 70), 1, 4)
    table = pd.crosstab(a, b).reindex(index=range(1, 5), columns=range(1, 5), fill_value=0)
    for weights in ("linear", "quadratic"):
        sm = inter_rater.cohens_kappa(table.to_numpy(), wt=weights)
        ours = cohen_kappa(a, b, weights=weights, levels=[1, 2, 3, 4]).iloc[0]
        np.testing.assert_allclose([ours["estimate"], ours["se"] ** 2],
                                   [sm.kappa, sm.var_kappa], rtol=1e-10)  # fmt: skip


def test_custom_weights_equal_named_ones():
    a, b = [1, 2, 3, 3, 2, 1, 3], [1, 3, 3, 2, 2, 1, 1]
    w = 1 - np.abs(np.subtract.outer(np.arange(3), np.arange(3))) / 2
    named = cohen_kappa(a, b, weights="linear")
    custom = cohen_kappa(a, b, weights=w)
    np.testing.assert_allclose(named["estimate"], custom["estimate"])
    assert custom["weights"].iloc[0] == "custom"


def test_cohen_kappa_perfect_and_degenerate():
    res = cohen_kappa([0, 1, 1, 0], [0, 1, 1, 0]).iloc[0]
    assert res["estimate"] == 1.0 and res["ci_high"] == 1.0
    one = cohen_kappa([1, 1, 1], [1, 1, 1]).iloc[0]  # psych: NA
    assert np.isnan(one["estimate"])


def test_fleiss_kappa_against_paper_and_R():
    """Fleiss (1971), Table 1 data: kappa = 0.430; FNL (1979) se, z, p from readers.R."""
    dg = pd.read_csv(REFERENCE / "fleiss_diagnoses.csv").drop(columns="patient")
    ref = pd.read_csv(REFERENCE / "fleiss_R.csv").iloc[0]
    res = fleiss_kappa(dg, random_state=0, n_boot=500).iloc[0]
    assert round(res["estimate"], 3) == 0.430  # the paper's value
    np.testing.assert_allclose([res["estimate"], res["se"], res["z"]],
                               [ref["kappa"], ref["se"], ref["z"]], rtol=1e-10)  # fmt: skip
    np.testing.assert_allclose(res["p_value"], ref["p"], rtol=1e-6)
    assert res["ci_low"] < res["estimate"] < res["ci_high"]
    again = fleiss_kappa(dg, random_state=0, n_boot=500).iloc[0]
    assert (again["ci_low"], again["ci_high"]) == (res["ci_low"], res["ci_high"])


def test_fleiss_kappa_equals_statsmodels():
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(5)
    ratings = rng.integers(0, 3, size=(25, 4))
    counts, _ = inter_rater.aggregate_raters(ratings)
    ours = fleiss_kappa(ratings, n_boot=0)
    np.testing.assert_allclose(ours["estimate"].iloc[0], inter_rater.fleiss_kappa(counts))
    assert np.isnan(ours["ci_low"].iloc[0])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: cohen_kappa([1, 2], [1]), "same length"),
        (lambda: cohen_kappa([1, None], [1, 2]), "missing ratings at positions 1"),
        (lambda: cohen_kappa([1, 2], [1, 3], levels=[1, 2]), "not among `levels`"),
        (lambda: cohen_kappa([1, 2], [1, 2], weights="cubic"), "`weights`"),
        (lambda: cohen_kappa([1, 2], [1, 2], weights=np.ones((3, 3))), "2 x 2"),
        (lambda: cohen_kappa([], []), "empty"),
        (lambda: fleiss_kappa([[1, 2, 3]]), "at least 2"),
        (lambda: fleiss_kappa(pd.DataFrame({"r1": [1, None], "r2": [1, 2]})), "subjects 1"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(InputError, match=match):
        call()
