"""Tests of radiomics_aln.tables (Table 1), pinned to base R by tests/reference/tables.R."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radiomics_aln.exceptions import InputError, StatisticalWarning
from radiomics_aln.formatting import format_p_value
from radiomics_aln.tables import baseline_table, format_baseline_table

REF = Path(__file__).resolve().parent / "reference"
RTOL = 1e-10


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "tables_data.csv")


@pytest.fixture(scope="module")
def r_tests() -> pd.DataFrame:
    return _read_r(REF / "tables_R.csv")


def _read_r(path: Path) -> pd.DataFrame:
    """R's format(digits = 17) pads numbers inside quotes; read them back as floats."""
    df = pd.read_csv(path, comment="#", dtype=str)
    for c in df.columns:
        values = df[c].str.strip()
        numeric = pd.to_numeric(values.replace("NA", None), errors="coerce")
        df[c] = numeric if numeric.notna().any() else values
    return df


def _ref(r_tests, analysis, variable, test):
    row = r_tests[
        (r_tests.analysis == analysis) & (r_tests.variable == variable) & (r_tests.test == test)
    ]
    assert len(row) == 1
    return row.iloc[0]


def _ours(table, variable):
    return table[table.variable == variable].iloc[0]


COHORTS = ["train", "internal", "external"]


def test_anova_against_R(data, r_tests):
    """R: oneway.test(age ~ cohort, var.equal = TRUE); summary(aov(age ~ cohort))."""
    t = baseline_table(data, "cohort", ["age"], order=COHORTS)
    ours = _ours(t, "age")
    for test in ("anova", "aov"):
        ref = _ref(r_tests, "cohort", "age", test)
        assert ours.test == "one-way ANOVA"
        np.testing.assert_allclose(ours.statistic, ref.statistic, rtol=1e-9)
        np.testing.assert_allclose(ours.p_value, ref.p_value, rtol=1e-9)
        assert (ours.df, ours.df2) == (ref.df, ref.df2)


def test_welch_anova_against_R(data, r_tests):
    """R: oneway.test(age ~ cohort, var.equal = FALSE) -> F 1.79429, df 2, 47.2353."""
    t = baseline_table(data, "cohort", ["age"], order=COHORTS, equal_var=False)
    ours, ref = _ours(t, "age"), _ref(r_tests, "cohort", "age", "welch_anova")
    assert ours.test == "Welch ANOVA"
    np.testing.assert_allclose(
        [ours.statistic, ours.df, ours.df2, ours.p_value],
        [ref.statistic, ref.df, ref.df2, ref.p_value],
        rtol=RTOL,
    )


@pytest.mark.parametrize("variable", ["size_mm", "ki67"])
def test_kruskal_against_R(data, r_tests, variable):
    """R: kruskal.test(size_mm ~ cohort); kruskal.test(ki67 ~ cohort) (many ties)."""
    t = baseline_table(data, "cohort", [variable], nonnormal=[variable], order=COHORTS)
    ours, ref = _ours(t, variable), _ref(r_tests, "cohort", variable, "kruskal")
    assert ours.test == "Kruskal-Wallis test"
    np.testing.assert_allclose([ours.statistic, ours.p_value], [ref.statistic, ref.p_value], RTOL)
    assert ours.df == ref.df


@pytest.mark.parametrize("variable", ["margin", "us_aln"])
def test_chisq_rxc_against_R(data, r_tests, variable):
    """R: chisq.test(table(margin, cohort)) -- NA margin dropped, as table() does."""
    with pytest.warns(StatisticalWarning) if variable == "margin" else _nullcontext():
        t = baseline_table(data, "cohort", [variable], order=COHORTS)
    ours, ref = _ours(t, variable), _ref(r_tests, "cohort", variable, "chisq")
    assert ours.test == "Pearson chi-square test"
    np.testing.assert_allclose([ours.statistic, ours.p_value], [ref.statistic, ref.p_value], RTOL)
    assert ours.df == ref.df


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture(scope="module")
def train(data) -> pd.DataFrame:
    return data[data.cohort == "train"]


@pytest.mark.parametrize(
    ("equal_var", "name", "rname"),
    [(True, "Student t-test", "student_t"), (False, "Welch t-test", "welch_t")],
)
def test_t_test_against_R(train, r_tests, equal_var, name, rname):
    """R: t.test(age ~ outcome, var.equal = TRUE / FALSE) in the training cohort."""
    t = baseline_table(train, "outcome", ["age"], equal_var=equal_var)
    ours, ref = _ours(t, "age"), _ref(r_tests, "train_outcome", "age", rname)
    assert ours.test == name
    np.testing.assert_allclose(
        [ours.statistic, ours.df, ours.p_value], [ref.statistic, ref.df, ref.p_value], rtol=1e-9
    )


@pytest.mark.parametrize(
    ("frame", "analysis", "variable"),
    [
        ("train", "train_outcome", "size_mm"),  # ties -> normal approximation
        ("train", "train_outcome", "ki67"),  # many ties
        ("train", "train_outcome", "nodes"),  # no ties, n < 50 -> exact p as R
        ("all", "all_outcome", "nodes"),  # no ties, n >= 50 -> normal approximation
    ],
)
def test_wilcox_against_R(data, train, r_tests, frame, analysis, variable):
    """R: wilcox.test(x ~ outcome, correct = TRUE), R's default exact/approximate rule."""
    df = train if frame == "train" else data
    t = baseline_table(df, "outcome", [variable], nonnormal=[variable])
    ours, ref = _ours(t, variable), _ref(r_tests, analysis, variable, "wilcox")
    assert ours.test == "Mann-Whitney U test"
    assert ours.statistic == ref.statistic  # R's W
    np.testing.assert_allclose(ours.p_value, ref.p_value, rtol=1e-9)


@pytest.mark.parametrize(("yates", "rname"), [(False, "chisq"), (True, "chisq_yates")])
def test_chisq_2x2_against_R(train, r_tests, yates, rname):
    """R: chisq.test(table(us_aln, outcome), correct = FALSE / TRUE)."""
    with pytest.warns(StatisticalWarning):
        t = baseline_table(train, "outcome", ["us_aln"], yates=yates, fisher="never")
    ours, ref = _ours(t, "us_aln"), _ref(r_tests, "train_outcome", "us_aln", rname)
    np.testing.assert_allclose([ours.statistic, ours.p_value], [ref.statistic, ref.p_value], RTOL)


def test_fisher_against_R(train, r_tests):
    """R: fisher.test(table(calc, outcome)) -- chosen automatically for a sparse 2x2 table."""
    t = baseline_table(train, "outcome", ["calc"])
    ours, ref = _ours(t, "calc"), _ref(r_tests, "train_outcome", "calc", "fisher")
    assert ours.test == "Fisher exact test"
    np.testing.assert_allclose(ours.p_value, ref.p_value, rtol=1e-9)
    # the sparse 2x2 us_aln table also switches to Fisher under "auto"
    assert _ours(baseline_table(train, "outcome", ["us_aln"]), "us_aln").test == "Fisher exact test"


def test_descriptives_against_R(data):
    """R: mean, sd, median, quantile(type = 7) per cohort, NA removed."""
    ref = _read_r(REF / "tables_R_describe.csv")
    t = baseline_table(data, "cohort", ["age", "size_mm", "ki67", "nodes"], order=COHORTS)
    merged = t.merge(ref, on=["variable", "group"], suffixes=("", "_r"))
    assert len(merged) == 12
    for c in ("mean", "sd", "median", "q1", "q3"):
        np.testing.assert_allclose(merged[c], merged[f"{c}_r"], rtol=1e-12)
    np.testing.assert_array_equal(merged["n"], merged["n_r"])
    age_train = t[(t.variable == "age") & (t.group == "train")].iloc[0]
    assert age_train.missing == 2


def test_tidy_columns_and_counts(data):
    with pytest.warns(StatisticalWarning, match="'margin': 2 of 9 cells"):
        t = baseline_table(data, "cohort", ["age", "margin"], order=COHORTS, overall=True)
    assert list(t.columns) == [
        "variable", "level", "kind", "group", "n", "missing", "mean", "sd", "median", "q1",
        "q3", "count", "percent", "test", "statistic", "df", "df2", "p_value",
    ]  # fmt: skip
    margin = t[(t.variable == "margin") & (t.group != "Overall")]
    assert set(margin["group"]) == set(COHORTS)
    for _g, sub in margin.groupby("group"):
        assert sub["count"].sum() == sub["n"].iloc[0]
        np.testing.assert_allclose(sub["percent"].sum(), 100.0)
    overall = t[(t.variable == "margin") & (t.group == "Overall")]
    assert overall["count"].sum() == data.margin.notna().sum()
    assert overall["test"].isna().all()
    assert t.attrs["group_sizes"] == {"train": 40, "internal": 30, "external": 20, "Overall": 90}


def test_levels_order_and_absent_level():
    df = pd.DataFrame({"g": [0, 0, 1, 1, 1, 0], "x": ["b", "a", "a", "b", "b", "a"]})
    with pytest.warns(StatisticalWarning):
        t = baseline_table(df, "g", ["x"], levels={"x": ["b", "a", "c"]}, fisher="never")
    assert t["level"].unique().tolist() == ["b", "a", "c"]
    assert t[t.level == "c"]["count"].tolist() == [0.0, 0.0]


def test_format_view(data):
    t = baseline_table(data, "cohort", ["age", "size_mm", "us_aln"], nonnormal=["size_mm"],
                       order=COHORTS)  # fmt: skip
    f = format_baseline_table(t, labels={"age": "Age (years)"})
    assert list(f.columns) == ["train (n=40)", "internal (n=30)", "external (n=20)", "p", "test"]
    assert f.index.tolist() == [
        "Age (years), mean (SD)", "size_mm, median [IQR]", "us_aln, n (%)", "    no", "    yes",
    ]  # fmt: skip
    row = t[(t.variable == "age") & (t.group == "train")].iloc[0]
    assert f.loc["Age (years), mean (SD)", "train (n=40)"] == f"{row['mean']:.1f} ({row['sd']:.1f})"
    assert f.loc["    no", "p"] == ""
    # p-values: the package's one format (3 significant digits, "< 0.001")
    assert f.loc["Age (years), mean (SD)", "p"] == format_p_value(row["p_value"])
    labelled = format_baseline_table(
        t,
        labels={"us_aln": "Suspicious ALN on US"},
        level_labels={"us_aln": {"no": "No", "yes": "Yes"}},
    )
    assert labelled.index.tolist()[-3:] == ["Suspicious ALN on US, n (%)", "    No", "    Yes"]


def test_bad_input():
    df = pd.DataFrame({"g": ["a", "a", "b", "b"], "x": [1.0, 2, 3, 4], "s": list("pqpq")})
    with pytest.raises(InputError, match="column\\(s\\) not in the data: nope"):
        baseline_table(df, "g", ["x", "nope"])
    with pytest.raises(InputError, match="group column 'zz' is not in the data"):
        baseline_table(df, "zz")
    with pytest.raises(InputError, match="has 1 group"):
        baseline_table(df.assign(g="a"), "g")
    with pytest.raises(InputError, match="'s' is listed as continuous"):
        baseline_table(df, "g", ["s"], nonnormal=["s"])
    with pytest.raises(InputError, match="missing for every patient"):
        baseline_table(df.assign(x=np.nan), "g", ["x"])
    with pytest.raises(InputError, match="group column 'g' is missing for rows 1"):
        baseline_table(df.assign(g=["a", None, "b", "b"]), "g", ["x"])
    with pytest.raises(InputError, match="values q not listed"):
        baseline_table(df, "g", ["s"], levels={"s": ["p"]})
    with pytest.raises(InputError, match="`fisher` must be"):
        baseline_table(df, "g", ["s"], fisher="sometimes")
    with pytest.raises(InputError, match="expects the output of baseline_table"):
        format_baseline_table(df)


def test_degenerate_groups_give_no_test():
    df = pd.DataFrame({"g": ["a", "b", "b"], "x": [1.0, 2.0, 3.0]})
    t = baseline_table(df, "g", ["x"])
    assert t["p_value"].isna().all() and t["test"].isna().all()
    assert t[t.group == "a"]["sd"].isna().all()


def test_formatted_table_keeps_levels_that_share_a_name_across_variables():
    # Regression: rows were keyed by level name, so "positive" of PR overwrote ER's row and
    # the outcome's level 1 was replaced by grade 1's counts.
    df = pd.DataFrame(
        {
            "cohort": ["a"] * 6 + ["b"] * 6,
            "er": ["positive"] * 5 + ["negative"] + ["positive"] * 3 + ["negative"] * 3,
            "pr": ["positive"] * 2 + ["negative"] * 4 + ["positive"] * 4 + ["negative"] * 2,
            "y": [1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0],
            "grade": [1, 1, 2, 2, 3, 3, 1, 2, 2, 3, 3, 3],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # sparse grade table
        out = format_baseline_table(
            baseline_table(df, "cohort", categorical=["er", "pr", "y", "grade"])
        )
    index = list(out.index)

    def cell(variable: str, level: str) -> str:
        start = index.index(f"{variable}, n (%)") + 1
        block = index[start:]
        stop = next((i for i, lab in enumerate(block) if not lab.startswith("    ")), len(block))
        return out.iloc[start + block[:stop].index(f"    {level}"), 0]

    assert [lab.strip() for lab in index].count("positive") == 2
    assert cell("er", "positive") == "5 (83.3)"
    assert cell("pr", "positive") == "2 (33.3)"
    assert cell("y", "1") == "3 (50.0)"  # not grade 1's 2 (33.3)
    assert cell("grade", "1") == "2 (33.3)"
