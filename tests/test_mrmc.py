"""Obuchowski-Rockette MRMC analysis (radiomics_aln.mrmc) against published outputs.

The data: the VanDyke study (tests/data/vandyke.csv; 5 readers, 114 cases, 2 modalities), the
standard example of OR-DBM MRMC, RJafroc (``dataset02``) and MRMCaov (``VanDyke``); see
tests/data/VANDYKE.md. The reference numbers (tests/reference/mrmc_vandyke.csv) are copied from
three published outputs, each row naming its source:

- OR-DBM MRMC 2.5 (U. Iowa; Hillis' own program), jackknife covariances, 8 decimals;
- MRMCaov's README (commit 81dc275): random readers and cases, jackknife, 7-10 significant digits;
- the MRMCaov paper (docs/jss/MRMCaov.tex, MRMCaov 0.3.0): DeLong and unbiased covariances,
  fixed readers, fixed cases, 7-10 significant digits.

Each number is compared to the digits printed in its source: |ours - printed| <= half a unit of
the last printed decimal (8-10 decimals for AUCs, variance components and CIs, i.e. <= 5e-9 to
5e-11; 5e-7 for F; 5e-6 for Hillis' ddf printed as 15.25967). Methods: Obuchowski & Rockette
(1995), Hillis et al. (2005), Hillis (2007), Hillis (2014), DeLong et al. (1988), Gallas et al.
(2007).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from radiomics_aln.exceptions import InputError
from radiomics_aln.metrics import c_statistic, delong_test
from radiomics_aln.mrmc import (
    ANALYSES,
    MRMCResult,
    _auc_covariance,
    _denominators,
    _global_tests,
    or_mrmc,
)

HERE = Path(__file__).parent
DATA = HERE / "data" / "vandyke.csv"
REFERENCE = HERE / "reference" / "mrmc_vandyke.csv"


@pytest.fixture(scope="module")
def vandyke() -> pd.DataFrame:
    return pd.read_csv(DATA, comment="#")


@pytest.fixture(scope="module")
def results(vandyke) -> dict[str, MRMCResult]:
    return {cov: or_mrmc(vandyke, y="truth", cov=cov) for cov in ("jackknife", "delong", "unbiased")}


def _reference_rows() -> list[dict]:
    ref = pd.read_csv(REFERENCE, comment="#", dtype=str)
    return ref.to_dict("records")


def _select(table: pd.DataFrame, select: str) -> pd.Series:
    table = table.reset_index()
    mask = np.ones(len(table), bool)
    for pair in select.split(";"):
        key, value = pair.split("=", 1)
        mask &= table[key].astype(str).to_numpy() == value
    assert mask.sum() == 1, f"{select!r} selects {mask.sum()} rows"
    return table[mask].iloc[0]


def _half_unit(text: str) -> float:
    exponent = Decimal(text).as_tuple().exponent
    return 0.5 * 10.0 ** int(exponent)


# --------------------------------------------------------------------------- published outputs


@pytest.mark.parametrize(
    "ref",
    _reference_rows(),
    ids=lambda r: f"{r['cov']}-{r['table']}-{r['select']}-{r['column']}-{r['source']}",
)
def test_equals_published_vandyke_outputs(results, ref):
    """OR-DBM MRMC 2.5 / MRMCaov outputs, to the digits they print (see the module docstring)."""
    table = getattr(results[ref["cov"]], ref["table"])
    ours = float(_select(table, ref["select"])[ref["column"]])
    expected = float(ref["value"])
    tol = _half_unit(ref["value"]) * (1 + 1e-9) + 1e-15
    assert abs(ours - expected) <= tol, (ours, expected, tol)


def test_reference_covers_every_analysis():
    ref = pd.DataFrame(_reference_rows())
    assert set(ref["cov"]) == {"jackknife", "delong", "unbiased"}
    for analysis in ANALYSES:
        assert ref["select"].str.contains(analysis).any()
    # the headline numbers are printed to at least 1e-6 in their source
    rrrc = ref[(ref["cov"] == "jackknife") & (ref["table"] == "summary")
               & ref["select"].str.startswith(ANALYSES[0])]
    for _, row in rrrc.iterrows():
        if row["column"] in ("estimate", "ci_low", "ci_high", "p_value", "statistic"):
            assert _half_unit(row["value"]) <= 5e-7, row


def test_vandyke_data_is_the_published_design(vandyke):
    assert len(vandyke) == 1140
    assert vandyke["reader"].nunique() == 5
    assert vandyke["session"].nunique() == 2
    truth = vandyke.groupby("case_id")["truth"].first()
    assert len(truth) == 114 and truth.sum() == 45
    assert set(vandyke["rating"]) == {1, 2, 3, 4, 5}


def test_random_readers_headline(results):
    """The 2-session RRRC result in one place (OR-DBM MRMC: F(1, 15.26) = 4.46, p = .0517)."""
    res = results["jackknife"]
    glob = res.global_test.set_index("analysis").loc[ANALYSES[0]]
    row = res.summary.set_index("analysis").loc[ANALYSES[0]]
    assert glob["test"] == "F" and glob["df1"] == 1
    # with two sessions F is the square of t, and the p-values agree
    assert row["statistic"] ** 2 == pytest.approx(glob["statistic"], rel=1e-12)
    assert row["p_value"] == pytest.approx(glob["p_value"], rel=1e-10)
    assert row["df"] == glob["df2"]
    fixed = res.global_test.set_index("analysis").loc[ANALYSES[1]]
    assert fixed["test"] == "chi2" and np.isinf(fixed["df2"])


# --------------------------------------------------------------------------- the covariances


def test_jackknife_from_placements_equals_leave_one_out(vandyke):
    """The jackknife AUCs computed from DeLong's placements equal c_statistic without the case."""
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1], [9, 7])
    ratings = np.stack([rng.integers(1, 5, size=16), rng.normal(size=16) + y]).astype(float)
    aucs, cov = _auc_covariance(y, ratings[None], "jackknife")
    c = y.size
    loo = np.array([[c_statistic(np.delete(y, i), np.delete(s, i)) for s in ratings]
                    for i in range(c)])
    centred = loo - loo.mean(axis=0)
    np.testing.assert_allclose(cov, (c - 1) / c * centred.T @ centred, rtol=1e-12, atol=0)
    np.testing.assert_allclose(aucs, [c_statistic(y, s) for s in ratings], rtol=0, atol=0)


def test_delong_covariance_equals_metrics_delong_test(vandyke):
    """cov="delong" gives each reader the variance of the session difference of delong_test
    (pROC's roc.test, DeLong 1988)."""
    res = or_mrmc(vandyke, y="truth", cov="delong")
    cov = res.covariance
    for reader in (1, 4):
        one = vandyke[vandyke["reader"] == reader].pivot(
            index="case_id", columns="session", values="rating")
        truth = vandyke.groupby("case_id")["truth"].first().loc[one.index]
        test = delong_test(truth, one[1], one[2])
        var_diff = (cov.loc[(1, reader), (1, reader)] + cov.loc[(2, reader), (2, reader)]
                    - 2 * cov.loc[(1, reader), (2, reader)])
        assert np.sqrt(var_diff) == pytest.approx(float(test["se"].iloc[0]), rel=1e-10)


def test_unbiased_covariance_in_blocks_equals_the_direct_sum():
    """The sum over (diseased, non-diseased) pairs is accumulated in blocks; the result is the
    formula of MRMCaov's unbiased_balanced computed at once."""
    rng = np.random.default_rng(5)
    m, n = 300, 2000  # 2 000 000 // (2000 * 4) = 250 diseased cases per block: two blocks
    y = np.repeat([1, 0], [m, n])
    ratings = rng.integers(1, 6, size=(4, m + n)).astype(float) + y
    aucs, cov = _auc_covariance(y, ratings.reshape(2, 2, -1), "unbiased")
    pos, neg = ratings[:, :m], ratings[:, m:]
    psi = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    flat = psi.reshape(4, -1)
    rows, cols, total = psi.sum(axis=2), psi.sum(axis=1), flat.sum(axis=1)
    d = (m * n) ** 2 / (m * (m - 1) * n * (n - 1))
    direct = ((1 - d) * np.outer(total, total)
              + d * (rows @ rows.T + cols @ cols.T - flat @ flat.T)) / (m * n) ** 2
    np.testing.assert_allclose(cov, direct, rtol=1e-12)
    np.testing.assert_allclose(aucs, total / (m * n), rtol=1e-15)


def test_identical_readers_give_an_unbounded_ddf(vandyke):
    """Two readers with the same ratings: MS(T*R) is 0 up to rounding, Hillis' ddf is huge and
    the test becomes the normal one (as in R); nothing raises."""
    one = vandyke[vandyke["reader"] == 1]
    data = pd.concat([one, one.assign(reader=2)], ignore_index=True)
    res = or_mrmc(data, y="truth")
    glob = res.global_test.set_index("analysis")
    assert glob.loc[ANALYSES[0], "df2"] > 1e12
    f = glob.loc[ANALYSES[0], "statistic"]
    assert glob.loc[ANALYSES[0], "p_value"] == pytest.approx(stats.chi2.sf(f, 1), rel=1e-6)
    assert glob.loc[ANALYSES[2], "p_value"] < 1e-10  # fixed cases: MS(T) / ~0


def test_zero_mean_squares_give_ieee_results_not_errors():
    """MS(T*R) exactly 0: ddf = inf (R: x / 0 = Inf); MS(T) = MS(T*R) = 0: F is NaN."""
    cv = {"var_error": 0.0008, "cov1": 0.0003, "cov2": 0.0003, "cov3": 0.0001}
    an = {"ms": {"T": 0.004, "R": 0.003, "T*R": 0.0}}
    glob = _global_tests(an, _denominators(an, cv, 5), 2, 5).set_index("analysis")
    assert glob.loc[ANALYSES[0], "df2"] == np.inf
    assert glob.loc[ANALYSES[0], "p_value"] == pytest.approx(
        stats.chi2.sf(glob.loc[ANALYSES[0], "statistic"], 1), rel=1e-12)
    assert glob.loc[ANALYSES[2], "statistic"] == np.inf
    assert glob.loc[ANALYSES[2], "p_value"] == 0.0
    an["ms"]["T"] = 0.0
    glob = _global_tests(an, _denominators(an, cv, 5), 2, 5).set_index("analysis")
    assert np.isnan(glob.loc[ANALYSES[2], "statistic"])


# --------------------------------------------------------------------------- invariances


def test_row_order_and_truth_as_mapping_do_not_matter(vandyke, results):
    shuffled = vandyke.sample(frac=1.0, random_state=1).drop(columns="truth")
    truth = vandyke.groupby("case_id")["truth"].first()
    res = or_mrmc(shuffled, y=truth.to_dict())
    pd.testing.assert_frame_equal(res.summary, results["jackknife"].summary)
    pd.testing.assert_frame_equal(res.session_auc, results["jackknife"].session_auc)


def test_column_names_are_options(vandyke, results):
    renamed = vandyke.rename(columns={"case_id": "case", "session": "modality",
                                      "rating": "score", "truth": "aln"})
    res = or_mrmc(renamed, y="aln", case="case", session="modality", rating="score")
    pd.testing.assert_frame_equal(res.summary, results["jackknife"].summary)


def test_three_sessions(vandyke):
    """t = 3: every pair of sessions, one F test on 2 df (OR-DBM MRMC, MRMCaov)."""
    third = vandyke[vandyke["session"] == 2].assign(
        session=3, rating=lambda d: d["rating"].where(d["case_id"] % 3 != 0, 3))
    data = pd.concat([vandyke, third], ignore_index=True)
    res = or_mrmc(data, y="truth")
    assert list(res.global_test["df1"]) == [2, 2, 2]
    assert list(res.summary["comparison"].unique()) == ["1 - 2", "1 - 3", "2 - 3"]
    assert len(res.reader_differences) == 15
    # the pairwise SE of the random-readers analysis is sqrt(2/r * denominator)
    glob = res.global_test.set_index("analysis").loc[ANALYSES[0]]
    se = res.summary[res.summary["analysis"] == ANALYSES[0]]["se"]
    np.testing.assert_allclose(se, np.sqrt(2 / 5 * glob["denominator"]), rtol=1e-12)
    # the two first sessions' AUCs are unchanged by a third
    two = or_mrmc(vandyke, y="truth")
    pd.testing.assert_frame_equal(
        res.reader_auc[res.reader_auc["session"] < 3].reset_index(drop=True)[
            ["session", "reader", "estimate"]],
        two.reader_auc[["session", "reader", "estimate"]])


def test_conf_level(vandyke, results):
    res = or_mrmc(vandyke, y="truth", conf_level=0.90)
    wide = results["jackknife"].summary
    assert ((res.summary["ci_high"] - res.summary["ci_low"])
            < (wide["ci_high"] - wide["ci_low"])).all()
    pd.testing.assert_series_equal(res.summary["p_value"], wide["p_value"])


def test_result_object(results):
    import matplotlib.pyplot as plt

    res = results["jackknife"]
    assert list(res.summary.columns) == [
        "analysis", "comparison", "estimate", "se", "ci_low", "ci_high", "test", "statistic",
        "df", "p_value"]
    assert list(res.summary["test"]) == ["t", "z", "t"]
    assert "random readers, random cases" in repr(res)
    assert "MRMCResult" in res._repr_html_()
    fig, ax = plt.subplots()
    assert res.plot(ax=ax) is ax
    assert len(ax.get_lines()) >= 5
    plt.close(fig)


# --------------------------------------------------------------------------- bad input


def _bad(vandyke: pd.DataFrame, match: str, **kwargs) -> None:
    with pytest.raises(InputError, match=match):
        or_mrmc(vandyke, **({"y": "truth"} | kwargs))


def test_reader_missing_a_session(vandyke):
    data = vandyke[~((vandyke["reader"] == 3) & (vandyke["session"] == 2))]
    _bad(data, r"reader 3 has no readings in session 2")


def test_case_missing_a_reading(vandyke):
    data = vandyke.drop(index=vandyke.index[(vandyke["case_id"] == 17)
                                            & (vandyke["reader"] == 2)
                                            & (vandyke["session"] == 1)])
    _bad(data, r"1 readings are missing: case 17 \(reader 2, session 1\)")


def test_truth_may_be_boolean(vandyke, results):
    res = or_mrmc(vandyke.assign(truth=vandyke["truth"].astype(bool)), y="truth")
    pd.testing.assert_frame_equal(res.summary, results["jackknife"].summary)


def test_non_binary_truth(vandyke):
    data = vandyke.assign(truth=vandyke["truth"].where(vandyke["case_id"] != 5, 2))
    _bad(data, r"must be binary 0/1.*5: 2")


def test_truth_that_differs_between_readings(vandyke):
    data = vandyke.copy()
    data.loc[data.index[(data["case_id"] == 8) & (data["reader"] == 1)], "truth"] = 1
    _bad(data, r"differs between the readings of cases 8")


def test_truth_mapping_without_a_case(vandyke):
    truth = vandyke.groupby("case_id")["truth"].first().drop(index=[3, 4])
    _bad(vandyke, r"gives no truth for cases 3, 4", y=truth)


def test_one_reader_only(vandyke):
    _bad(vandyke[vandyke["reader"] == 1], r"has one reader \(1\)")


def test_one_session_only(vandyke):
    _bad(vandyke[vandyke["session"] == 1], r"has one level \(1\)")


def test_repeated_reading(vandyke):
    data = pd.concat([vandyke, vandyke.iloc[[0]]], ignore_index=True)
    _bad(data, r"2 rows repeat a \(session, reader, case\)")


def test_non_finite_rating(vandyke):
    data = vandyke.copy()
    data.loc[10, "rating"] = np.nan
    _bad(data, r"column 'rating' \(rating=\) must hold finite numbers; rows 10")


def test_missing_column(vandyke):
    _bad(vandyke, r"no column 'reader_id' \(reader=\)", reader="reader_id")
    _bad(vandyke, r"no truth column 'y'", y="y")


def test_truth_series_aligned_with_the_rows(vandyke):
    _bad(vandyke, r"Series aligned with the rows of `data`.*y='truth'", y=vandyke["truth"])


def test_too_few_diseased(vandyke):
    keep = vandyke["truth"].eq(0) | vandyke["case_id"].eq(
        vandyke.loc[vandyke["truth"].eq(1), "case_id"].min())
    _bad(vandyke[keep], r"at least 2 diseased .* got 1 and 69")


def test_error_terms_truncate_cov2_minus_cov3_at_zero():
    """Hillis (2007) / OR-DBM MRMC: max(Cov2 - Cov3, 0) in both random-case error terms."""
    an = {"ms": {"T": 0.01, "R": 0.004, "T*R": 0.0005}}
    cv = {"var_error": 0.0008, "cov1": 0.0003, "cov2": 0.0002, "cov3": 0.00025}
    den = _denominators(an, cv, 5)
    assert den[ANALYSES[0]] == 0.0005
    assert den[ANALYSES[1]] == pytest.approx(0.0008 - 0.0003)
    cv["cov3"] = 0.0001
    den = _denominators(an, cv, 5)
    assert den[ANALYSES[0]] == pytest.approx(0.0005 + 5 * 0.0001)
    assert den[ANALYSES[1]] == pytest.approx(0.0008 - 0.0003 + 4 * 0.0001)


def test_bad_options(vandyke):
    _bad(vandyke, r"`cov` must be one of \('jackknife', 'delong', 'unbiased'\)", cov="boot")
    _bad(vandyke, r"`conf_level`", conf_level=95)
    with pytest.raises(InputError, match="must be a pandas DataFrame"):
        or_mrmc(vandyke.to_numpy(), y="truth")
