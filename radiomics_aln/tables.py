"""Baseline characteristics (Table 1) with group-comparison tests, and its formatted view.

A radiomics paper's Table 1 describes the patients of each cohort (and, within the training
cohort, of each outcome group) and tests whether they differ. :func:`baseline_table` returns the
numbers as a tidy DataFrame (unrounded, one row per variable x level x group, the test repeated on
the rows of its variable); :func:`format_baseline_table` turns it into the table printed in a paper.

Tests, each equal to the R function named (pinned by ``tests/reference/tables.R``):

=====================  =================================  =========================================
variable kind          summary                            test (2 groups / 3+ groups)
=====================  =================================  =========================================
continuous (normal)    mean (SD)                          ``t.test(var.equal=TRUE)`` /
                                                          ``oneway.test(var.equal=TRUE)`` (= ``aov``);
                                                          Welch with ``equal_var=False``
continuous (nonnormal) median [Q1, Q3] (R ``quantile``    ``wilcox.test(correct=TRUE)`` /
                       type 7)                            ``kruskal.test``
categorical            n (%) of non-missing               ``chisq.test(correct=FALSE)`` (Pearson),
                                                          or ``correct=TRUE`` with ``yates=True``;
                                                          ``fisher.test`` for a sparse 2x2 table
=====================  =================================  =========================================
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from radiomics_aln._collation import r_sorted
from radiomics_aln._validation import format_items
from radiomics_aln.exceptions import InputError, StatisticalWarning
from radiomics_aln.formatting import format_number, format_p_value

__all__ = ["baseline_table", "format_baseline_table"]

logger = logging.getLogger(__name__)

_COLUMNS = [
    "variable",
    "level",
    "kind",
    "group",
    "n",
    "missing",
    "mean",
    "sd",
    "median",
    "q1",
    "q3",
    "count",
    "percent",
    "test",
    "statistic",
    "df",
    "p_value",
]
_OVERALL = "Overall"


def baseline_table(
    data: pd.DataFrame,
    group: str,
    variables: Sequence[str] | None = None,
    *,
    categorical: Sequence[str] | None = None,
    nonnormal: Sequence[str] | None = None,
    levels: Mapping[str, Sequence[Any]] | None = None,
    order: Sequence[Any] | None = None,
    equal_var: bool = True,
    yates: bool = False,
    fisher: Literal["auto", "never", "always"] = "auto",
    overall: bool = False,
) -> pd.DataFrame:
    """Baseline characteristics by group with a test p-value per variable (a paper's Table 1).

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    group : str
        Column defining the groups compared (cohort, or the outcome within one cohort).
    variables : sequence of str, optional
        Columns to describe, in this order. Default: every column except ``group``.
    categorical : sequence of str, optional
        Variables summarised as n (%). Default: every non-numeric (string, boolean or
        categorical) variable. Listing a numeric 0/1 column here treats it as categorical.
    nonnormal : sequence of str, optional
        Continuous variables summarised as median [Q1, Q3] and tested with rank tests.
    levels : mapping, optional
        Level order per categorical variable (default: the categories of a pandas Categorical,
        else the sorted distinct values). A level absent from the data is listed with count 0.
    order : sequence, optional
        Order of the groups (default: categories of a Categorical ``group``, else sorted).
    equal_var : bool, default True
        Student's t-test / classical one-way ANOVA (pooled variance). ``False``: Welch's t-test /
        Welch's ANOVA (R ``t.test`` and ``oneway.test`` defaults).
    yates : bool, default False
        Yates' continuity correction for 2x2 chi-square tests (R ``chisq.test(correct=TRUE)``).
        Off by default: the Pearson chi-square is the one SPSS reports first and most papers cite.
    fisher : {"auto", "never", "always"}, default "auto"
        Fisher's exact test for 2x2 tables: ``"auto"`` when an expected count is below 5,
        ``"always"`` for every 2x2 table. Larger sparse tables keep the chi-square test and a
        :class:`~radiomics_aln.exceptions.StatisticalWarning` is issued.
    overall : bool, default False
        Add summary rows for all patients together (group ``"Overall"``, no test).

    Returns
    -------
    DataFrame
        One row per variable x level x group (continuous variables have one level, ``<NA>``):

        - ``variable``, ``level``, ``group``: what the row describes;
        - ``kind``: ``"continuous"``, ``"nonnormal"`` or ``"categorical"``;
        - ``n``: non-missing values in the group; ``missing``: missing values in the group;
        - ``mean``, ``sd`` (n - 1 denominator), ``median``, ``q1``, ``q3`` (continuous);
        - ``count``, ``percent`` (categorical; percent of the group's non-missing values);
        - ``test``, ``statistic``, ``df``, ``df2``, ``p_value``: the comparison across groups,
          repeated on every row of the variable. ``statistic`` is t, F, W (Mann-Whitney), H
          (Kruskal-Wallis), chi-square, or the sample odds ratio (Fisher); ``df`` its degrees of
          freedom (numerator df for F), ``df2`` the denominator df of an ANOVA F.

        ``attrs["group_sizes"]`` holds the number of patients per group.

    Raises
    ------
    InputError
        Missing columns, fewer than two groups, a variable that is entirely missing, or a
        "continuous" variable that is not numeric.

    Notes
    -----
    - t-test (2 groups): :math:`t = (\\bar x_1 - \\bar x_2) / (s_p \\sqrt{1/n_1 + 1/n_2})`,
      df = n1 + n2 - 2; equals R ``t.test(x ~ g, var.equal = TRUE)``. With 2 groups the
      classical ANOVA F equals t^2 and has the same p-value.
    - One-way ANOVA (3+ groups): R ``oneway.test(x ~ g, var.equal = TRUE)``, identical to
      ``summary(aov(x ~ g))``.
    - Mann-Whitney U (2 groups) as R ``wilcox.test(x ~ g, correct = TRUE)``: the statistic is R's
      W (rank sum of the first group minus n1(n1+1)/2); the p-value is exact when both groups
      have fewer than 50 values and there are no ties (R's default), otherwise from the normal
      approximation with tie correction and continuity correction.
    - Kruskal-Wallis (3+ groups): R ``kruskal.test`` (tie-corrected H, chi-square df k - 1).
    - Chi-square: R ``chisq.test(table(x, g), correct = FALSE)``; with ``yates=True`` a 2x2 table
      uses R's correction ``sum((|O - E| - min(0.5, |O - E|))^2 / E)``.
    - Fisher's exact test (2x2): R ``fisher.test`` (two-sided p sums the probabilities of all
      tables no more likely than the observed one); the statistic is the sample odds ratio.

    References
    ----------
    .. [1] Collins GS, Reitsma JB, Altman DG, Moons KGM. Transparent reporting of a multivariable
       prediction model for individual prognosis or diagnosis (TRIPOD). BMJ 2015;350:g7594
       (item 13b: characteristics of the participants).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame(
    ...     {
    ...         "cohort": ["train"] * 6 + ["test"] * 4,
    ...         "age": [50, 61, 45, 58, 66, 49, 52, 70, 63, 57],
    ...         "margin": ["irregular", "smooth"] * 5,
    ...     }
    ... )
    >>> t1 = baseline_table(df, "cohort", order=["train", "test"])
    >>> t1[["variable", "level", "group", "mean", "count", "test", "p_value"]].round(3)
      variable      level  group    mean  count                test  p_value
    0      age       <NA>  train  54.833    NaN      Student t-test    0.303
    1      age       <NA>   test  60.500    NaN      Student t-test    0.303
    2   margin  irregular  train     NaN    3.0  Fisher exact test    1.000
    3   margin  irregular   test     NaN    2.0  Fisher exact test    1.000
    4   margin     smooth  train     NaN    3.0  Fisher exact test    1.000
    5   margin     smooth   test     NaN    2.0  Fisher exact test    1.000
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"`data` must be a pandas DataFrame, got {type(data).__name__}")
    if group not in data.columns:
        raise InputError(f"group column {group!r} is not in the data")
    if variables is None:
        variables = [c for c in data.columns if c != group]
    variables = list(variables)
    missing_cols = [v for v in variables if v not in data.columns]
    categorical = list(categorical or [])
    nonnormal = list(nonnormal or [])
    missing_cols += [v for v in categorical + nonnormal if v not in data.columns]
    if missing_cols:
        raise InputError(
            f"baseline_table: column(s) not in the data: {format_items(dict.fromkeys(missing_cols))}"
        )
    if fisher not in ("auto", "never", "always"):
        raise InputError(f"`fisher` must be 'auto', 'never' or 'always', got {fisher!r}")
    both = set(categorical) & set(nonnormal)
    if both:
        raise InputError(f"variables listed as both categorical and nonnormal: {sorted(both)}")
    levels = dict(levels or {})

    g = data[group]
    if g.isna().any():
        rows = data.index[g.isna()]
        raise InputError(f"group column {group!r} is missing for rows {format_items(rows)}")
    groups = _group_order(g, order)
    if len(groups) < 2:
        raise InputError(
            f"group column {group!r} has {len(groups)} group(s); at least two are needed to compare"
        )
    labels = g.map(lambda v: str(v))
    group_names = [str(v) for v in groups]

    rows: list[dict[str, Any]] = []
    for var in variables:
        col = data[var]
        if col.notna().sum() == 0:
            raise InputError(f"variable {var!r} is missing for every patient")
        is_cat = var in categorical or (
            var not in nonnormal
            and (
                not pd.api.types.is_numeric_dtype(col)
                or pd.api.types.is_bool_dtype(col)
                or isinstance(col.dtype, pd.CategoricalDtype)
            )
        )
        if is_cat:
            rows.extend(
                _categorical_rows(var, col, labels, group_names, levels.get(var), yates, fisher)
            )
        else:
            if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
                raise InputError(
                    f"variable {var!r} is listed as continuous but has non-numeric values "
                    f"(dtype {col.dtype}); list it in `categorical`"
                )
            rows.extend(
                _continuous_rows(var, col, labels, group_names, var in nonnormal, equal_var)
            )
        if overall:
            rows.extend(_overall_rows(var, col, is_cat, var in nonnormal, levels.get(var)))

    out = pd.DataFrame(rows)
    for c in _COLUMNS + ["df2"]:
        if c not in out.columns:
            out[c] = np.nan
    out = out[_COLUMNS[:-2] + ["df", "df2", "p_value"]]
    for c in ("n", "missing"):
        out[c] = out[c].astype(int)
    for c in ("level", "test"):
        out[c] = out[c].astype("string")
    out.attrs["group_sizes"] = {str(k): int(v) for k, v in labels.value_counts().items()}
    if overall:
        out.attrs["group_sizes"][_OVERALL] = len(data)
    out.attrs["group"] = group
    return out


def _group_order(g: pd.Series, order: Sequence[Any] | None) -> list[Any]:
    present = list(pd.unique(g))
    if order is not None:
        order = list(order)
        unknown = [o for o in present if o not in order and str(o) not in map(str, order)]
        if unknown:
            raise InputError(f"groups {format_items(unknown)} are not listed in `order`")
        return [o for o in order if o in present or str(o) in map(str, present)]
    if isinstance(g.dtype, pd.CategoricalDtype):
        return [c for c in g.cat.categories if c in present]
    return r_sorted(present)


def _continuous_rows(
    var: str,
    col: pd.Series,
    labels: pd.Series,
    groups: list[str],
    nonnormal: bool,
    equal_var: bool,
) -> list[dict[str, Any]]:
    samples = [col[labels == name].to_numpy(dtype=float) for name in groups]
    rows = []
    for name, x in zip(groups, samples, strict=True):
        rows.append(
            {"variable": var, "level": pd.NA, "group": name}
            | _describe(x, "nonnormal" if nonnormal else "continuous")
        )
    clean = [x[~np.isnan(x)] for x in samples]
    test = _test_continuous(var, clean, nonnormal, equal_var)
    for r in rows:
        r.update(test)
    return rows


def _describe(x: np.ndarray, kind: str) -> dict[str, Any]:
    ok = x[~np.isnan(x)]
    n = ok.size
    return {
        "kind": kind,
        "n": n,
        "missing": int(np.isnan(x).sum()),
        "mean": float(ok.mean()) if n else np.nan,
        "sd": float(ok.std(ddof=1)) if n > 1 else np.nan,
        "median": float(np.median(ok)) if n else np.nan,
        # numpy's default "linear" quantile is R's quantile(type = 7)
        "q1": float(np.quantile(ok, 0.25)) if n else np.nan,
        "q3": float(np.quantile(ok, 0.75)) if n else np.nan,
    }


def _no_test(reason: str, var: str) -> dict[str, Any]:
    logger.info("no test for %s: %s", var, reason)
    return {"test": pd.NA, "statistic": np.nan, "df": np.nan, "df2": np.nan, "p_value": np.nan}


def _test_continuous(
    var: str, samples: list[np.ndarray], nonnormal: bool, equal_var: bool
) -> dict[str, Any]:
    samples = [x for x in samples if x.size > 0]
    if len(samples) < 2:
        return _no_test("fewer than two groups with values", var)
    if nonnormal:
        if len(samples) == 2:
            x, y = samples
            pooled = np.concatenate([x, y])
            ties = np.unique(pooled).size < pooled.size
            # R's default: exact when both samples have < 50 values and there are no ties
            method = "exact" if (x.size < 50 and y.size < 50 and not ties) else "asymptotic"
            res = stats.mannwhitneyu(
                x, y, alternative="two-sided", use_continuity=True, method=method
            )
            return {
                "test": "Mann-Whitney U test",
                "statistic": float(res.statistic),
                "df": np.nan,
                "df2": np.nan,
                "p_value": float(res.pvalue),
            }
        if np.unique(np.concatenate(samples)).size < 2:
            return _no_test("all values identical", var)
        res = stats.kruskal(*samples)
        return {
            "test": "Kruskal-Wallis test",
            "statistic": float(res.statistic),
            "df": float(len(samples) - 1),
            "df2": np.nan,
            "p_value": float(res.pvalue),
        }
    if any(x.size < 2 for x in samples):
        return _no_test("a group has fewer than two values", var)
    if len(samples) == 2:
        x, y = samples
        res = stats.ttest_ind(x, y, equal_var=equal_var)
        return {
            "test": "Student t-test" if equal_var else "Welch t-test",
            "statistic": float(res.statistic),
            "df": float(res.df),
            "df2": np.nan,
            "p_value": float(res.pvalue),
        }
    if equal_var:
        res = stats.f_oneway(*samples)
        n = sum(x.size for x in samples)
        df1, df2 = len(samples) - 1, n - len(samples)
        return {
            "test": "one-way ANOVA",
            "statistic": float(res.statistic),
            "df": float(df1),
            "df2": float(df2),
            "p_value": float(res.pvalue),
        }
    return {"test": "Welch ANOVA"} | _welch_anova(samples)


def _welch_anova(samples: list[np.ndarray]) -> dict[str, Any]:
    """Welch's heteroscedastic one-way ANOVA, as R ``oneway.test(var.equal = FALSE)``."""
    k = len(samples)
    n = np.array([x.size for x in samples], dtype=float)
    m = np.array([x.mean() for x in samples])
    v = np.array([x.var(ddof=1) for x in samples])
    w = n / v
    sw = w.sum()
    mw = (w * m).sum() / sw
    tmp = ((1 - w / sw) ** 2 / (n - 1)).sum() / (k**2 - 1)
    stat = ((w * (m - mw) ** 2).sum() / (k - 1)) / (1 + 2 * (k - 2) * tmp)
    df2 = 1 / (3 * tmp)
    return {
        "statistic": float(stat),
        "df": float(k - 1),
        "df2": float(df2),
        "p_value": float(stats.f.sf(stat, k - 1, df2)),
    }


def _level_order(col: pd.Series, given: Sequence[Any] | None) -> list[Any]:
    present = list(pd.unique(col.dropna()))
    if given is not None:
        given = list(given)
        extra = [v for v in present if v not in given]
        if extra:
            raise InputError(
                f"variable {col.name!r} has values {format_items(extra)} not listed in its levels"
            )
        return given
    if isinstance(col.dtype, pd.CategoricalDtype):
        return list(col.cat.categories)
    return r_sorted(present)


def _categorical_rows(
    var: str,
    col: pd.Series,
    labels: pd.Series,
    groups: list[str],
    given_levels: Sequence[Any] | None,
    yates: bool,
    fisher: str,
) -> list[dict[str, Any]]:
    lv = _level_order(col, given_levels)
    counts = np.zeros((len(lv), len(groups)), dtype=int)
    n_ok = np.zeros(len(groups), dtype=int)
    n_missing = np.zeros(len(groups), dtype=int)
    for j, name in enumerate(groups):
        x = col[labels == name]
        n_missing[j] = int(x.isna().sum())
        x = x.dropna()
        n_ok[j] = x.size
        for i, level in enumerate(lv):
            counts[i, j] = int((x == level).sum())
    test = _test_categorical(var, counts, yates, fisher)
    rows = []
    for i, level in enumerate(lv):
        for j, name in enumerate(groups):
            rows.append(
                {
                    "variable": var,
                    "level": str(level),
                    "kind": "categorical",
                    "group": name,
                    "n": int(n_ok[j]),
                    "missing": int(n_missing[j]),
                    "count": float(counts[i, j]),
                    "percent": 100.0 * counts[i, j] / n_ok[j] if n_ok[j] else np.nan,
                }
                | test
            )
    return rows


def _test_categorical(var: str, counts: np.ndarray, yates: bool, fisher: str) -> dict[str, Any]:
    # drop empty rows/columns, as R's table() of the observed data would not have them
    table = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return _no_test("fewer than two observed levels or groups", var)
    total = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    sparse = bool((expected < 5).any())
    if table.shape == (2, 2) and (fisher == "always" or (fisher == "auto" and sparse)):
        res = stats.fisher_exact(table, alternative="two-sided")
        return {
            "test": "Fisher exact test",
            "statistic": float(res.statistic),
            "df": np.nan,
            "df2": np.nan,
            "p_value": float(res.pvalue),
        }
    if sparse:
        import warnings

        warnings.warn(
            f"{var!r}: {int((expected < 5).sum())} of {expected.size} cells have an expected "
            "count below 5; the chi-square p-value may be inaccurate",
            StatisticalWarning,
            stacklevel=4,
        )
    diff = np.abs(table - expected)
    name = "Pearson chi-square test"
    if yates and table.shape == (2, 2):
        diff = diff - min(0.5, float(diff.min()))
        name = "chi-square test (Yates)"
    stat = float((diff**2 / expected).sum())
    dof = (table.shape[0] - 1) * (table.shape[1] - 1)
    return {
        "test": name,
        "statistic": stat,
        "df": float(dof),
        "df2": np.nan,
        "p_value": float(stats.chi2.sf(stat, dof)),
    }


def _overall_rows(
    var: str, col: pd.Series, is_cat: bool, nonnormal: bool, given_levels: Sequence[Any] | None
) -> list[dict[str, Any]]:
    if not is_cat:
        return [
            {"variable": var, "level": pd.NA, "group": _OVERALL}
            | _describe(col.to_numpy(dtype=float), "nonnormal" if nonnormal else "continuous")
        ]
    ok = col.dropna()
    rows = []
    for level in _level_order(col, given_levels):
        c = int((ok == level).sum())
        rows.append(
            {
                "variable": var,
                "level": str(level),
                "kind": "categorical",
                "group": _OVERALL,
                "n": ok.size,
                "missing": int(col.isna().sum()),
                "count": float(c),
                "percent": 100.0 * c / ok.size if ok.size else np.nan,
            }
        )
    return rows


def format_baseline_table(
    table: pd.DataFrame,
    *,
    digits: int = 1,
    p_digits: int = 3,
    labels: Mapping[str, str] | None = None,
    level_labels: Mapping[str, Mapping[Any, str]] | None = None,
    show_test: bool = True,
) -> pd.DataFrame:
    """Formatted view of :func:`baseline_table` as printed in a paper.

    Parameters
    ----------
    table : DataFrame
        The output of :func:`baseline_table`.
    digits : int, default 1
        Decimals of means, SDs, medians, quartiles and percentages.
    p_digits : int, default 3
        Significant digits of p-values (see
        :func:`radiomics_aln.formatting.format_p_value`: ``< 0.001`` below 0.001).
    labels : mapping, optional
        Display names of variables (default: the column names), e.g. "Tumour size (mm)";
        :meth:`radiomics_aln.data_dictionary.DataDictionary.axis_label` gives them.
    level_labels : mapping, optional
        ``{variable: {level: text}}``: display text of the levels of categorical variables
        (default: the levels as they are); keys are compared as text (``1`` and ``"1"`` match).
    show_test : bool, default True
        Add a ``test`` column naming the test of each variable.

    Returns
    -------
    DataFrame
        Indexed by row label (``"age, mean (SD)"``; categorical levels indented under their
        variable), one string column per group headed ``"<group> (n=<size>)"``, then ``p`` and
        ``test``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"g": list("aabbb"), "size": [10.0, 12, 15, 14, 20]})
    >>> format_baseline_table(baseline_table(df, "g"))
                    a (n=2)     b (n=3)      p            test
    size, mean (SD)  11.0 (1.4)  16.3 (3.2)  0.124  Student t-test
    """
    required = {"variable", "level", "kind", "group", "p_value"}
    if not required <= set(table.columns):
        raise InputError(
            "format_baseline_table expects the output of baseline_table; missing columns "
            f"{sorted(required - set(table.columns))}"
        )
    labels = dict(labels or {})
    level_text = {
        var: {str(k): str(v) for k, v in m.items()} for var, m in (level_labels or {}).items()
    }
    sizes = dict(table.attrs.get("group_sizes", {}))
    groups = list(dict.fromkeys(table["group"].tolist()))
    header = {g: f"{g} (n={sizes[g]})" if g in sizes else str(g) for g in groups}

    def num(x: Any) -> str:
        return format_number(float(x), digits, missing="NA")

    # A list, not a dict keyed by label: level names repeat across variables (ER, PR and HER2
    # are all "positive"/"negative"), and each variable keeps its own rows.
    out_rows: list[tuple[str, dict[str, str]]] = []
    for var, sub in table.groupby("variable", sort=False):
        name = labels.get(var, var)
        kind = sub["kind"].iloc[0]
        first = sub.iloc[0]
        p = format_p_value(first["p_value"], digits=p_digits)
        shown = level_text.get(var, {})
        test = "" if pd.isna(first["test"]) else str(first["test"])
        if kind == "categorical":
            row = {header[g]: "" for g in groups} | {"p": p, "test": test}
            out_rows.append((f"{name}, n (%)", row))
            for level, lsub in sub.groupby("level", sort=False):
                cells = {
                    header[r.group]: f"{int(r.count)} ({num(r.percent)})"
                    if not pd.isna(r.percent)
                    else f"{int(r.count)}"
                    for r in lsub.itertuples()
                }
                out_rows.append(
                    (
                        f"    {shown.get(str(level), level)}",
                        {header[g]: "" for g in groups} | cells | {"p": "", "test": ""},
                    )
                )
        else:
            if kind == "nonnormal":
                label = f"{name}, median [IQR]"
                cells = {
                    header[r.group]: f"{num(r.median)} [{num(r.q1)}, {num(r.q3)}]"
                    for r in sub.itertuples()
                }
            else:
                label = f"{name}, mean (SD)"
                cells = {
                    header[r.group]: f"{num(r.mean)} ({num(r.sd)})"
                    for r in sub.itertuples()
                }
            out_rows.append(
                (label, {header[g]: "" for g in groups} | cells | {"p": p, "test": test})
            )
    out = pd.DataFrame([row for _, row in out_rows], index=[label for label, _ in out_rows])
    out = out[[header[g] for g in groups] + ["p", "test"]]
    if not show_test:
        out = out.drop(columns="test")
    return out
