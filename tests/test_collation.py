"""The order of text levels equals R's (ICU collation, en_US / CLDR root).

Reference: tests/reference/collation.R writes R's sort() of 121 tricky strings and of 295 random
short strings (case, accents, digits, punctuation), its factor() levels for the issue's example,
and the order of printable ASCII; tests/reference/collation_versions.txt names R and ICU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radiomics_aln._collation import collation_key, r_sorted
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.tables import baseline_table
from radiomics_aln.univariate import univariate_logistic

REF = Path(__file__).parent / "reference"


def _r_order(kind: str) -> list[str]:
    table = pd.read_csv(REF / "collation_R.csv", keep_default_na=False, dtype=str)
    rows = table[table["kind"] == kind].sort_values("position", key=lambda s: s.astype(int))
    return ["".join(chr(int(c)) for c in cp.split()) for cp in rows["codepoints"]]


@pytest.mark.parametrize("kind", ["en_US", "en_US_random", "ascii", "factor_levels"])
def test_order_equals_r(kind):
    expected = _r_order(kind)
    assert len(expected) > 2
    shuffled = list(np.random.default_rng(0).permutation(expected))
    assert sorted(shuffled, key=collation_key) == expected


def test_c_locale_order_is_code_points():
    # R's LC_COLLATE=C order is Python's sorted(): the difference documented in the docs
    expected = _r_order("C")
    assert sorted(expected) == expected
    assert sorted(expected) != sorted(expected, key=collation_key)


def test_r_sorted_numbers_and_mixed():
    assert r_sorted([10, 2, 9.5]) == [2, 9.5, 10]
    assert r_sorted(["b", 1, "A"]) == [1, "A", "b"]


def _histology() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    hist = rng.choice(["ductal", "Lobular", "mixed"], 120)
    y = (rng.random(120) < np.where(hist == "ductal", 0.3, 0.6)).astype(int)
    return pd.DataFrame({"y": y, "histology": hist, "cohort": rng.choice(["b", "A"], 120)})


def test_reference_level_is_r_first_level():
    # R: levels(factor(c("ductal", "Lobular", "mixed"))) is "ductal" "Lobular" "mixed"
    df = _histology()
    uni = univariate_logistic(df, "y", ["histology"])
    assert uni.loc[uni["is_reference"], "level"].tolist() == ["ductal"]
    assert uni["level"].tolist() == ["ductal", "Lobular", "mixed"]
    model = LogisticNomogram().fit(df[["histology"]], df["y"])
    assert list(model.summary["term"]) == ["(Intercept)", "histology[Lobular]", "histology[mixed]"]


def test_baseline_table_orders_levels_and_groups_as_r():
    df = _histology()
    table = baseline_table(df, "cohort", ["histology"], categorical=["histology"])
    assert list(pd.unique(table["level"])) == ["ductal", "Lobular", "mixed"]
    assert list(pd.unique(table["group"])) == ["A", "b"]  # R: levels(factor(c("b", "A")))
