"""Tests of radiomics_aln.formatting: the one number format of every table a reader sees."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiomics_aln.exceptions import InputError
from radiomics_aln.formatting import (
    format_estimate_ci,
    format_general,
    format_number,
    format_p_value,
    format_significant,
)


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (4.694e-16, "< 0.001"),  # was printed "4.694e-16" by the report's generic formatter
        (0.0, "< 0.001"),  # never "p = 0"
        (0.000999, "< 0.001"),
        (0.001, "0.00100"),
        (0.00123, "0.00123"),
        (0.0421, "0.0421"),
        (0.04216, "0.0422"),
        (0.05, "0.0500"),
        (0.0999999, "0.100"),
        (0.312, "0.312"),
        (0.9994, "0.999"),
        (0.99951, "> 0.999"),  # never "1.00"
        (1.0, "> 0.999"),
        (float("nan"), ""),
        (None, ""),
        (pd.NA, ""),
        (np.float32(0.25), "0.250"),
    ],
)
def test_p_value_format(p, text):
    assert format_p_value(p) == text


def test_p_value_options_and_errors():
    assert format_p_value(0.0421, prefix=True) == "p = 0.0421"
    assert format_p_value(1e-9, prefix=True) == "p < 0.001"
    assert format_p_value(0.0421, digits=2) == "0.042"
    assert format_p_value(np.nan, missing="NA") == "NA"
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        format_p_value(1.5)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        format_p_value(-0.1)
    with pytest.raises(InputError, match="digits"):
        format_p_value(0.5, digits=0)


def test_numbers_never_use_exponents():
    for x in (8.9e-17, -3.2e-12, 1e-300, 123456789.123, 2624.6883):
        for text in (format_number(x, 3), format_significant(x), format_estimate_ci(x, x, x)):
            assert "e" not in text and "E" not in text, text
    assert format_number(-1e-9) == "0.000"  # no "-0.000"
    assert format_number(np.inf) == "inf" and format_number(-np.inf, 2) == "-inf"
    assert format_number(np.int64(7), 2) == "7"
    assert format_significant(3.21e-07) == "0.0000003210"
    assert format_significant(-0.0) == "0"


@pytest.mark.parametrize(("x", "text"), [
    (12345.678, "12346"),  # .4g: 1.235e+04
    (1234.5678, "1235"),
    (-98765.4, "-98765"),
    (0.812345, "0.8123"),
    (0.00012, "0.00012"),
    (1.2e-05, "0.000012"),  # .4g: 1.2e-05
    (-3.21e-07, "-0.000000321"),
    (2.5, "2.5"),
    (3.0, "3"),
    (np.int64(123456), "123456"),
    (-1e-20, "-0.00000000000000000001"),
    (0.0, "0"),
    (-0.0, "0"),
    (np.inf, "inf"),
    (np.nan, ""),
])  # fmt: skip
def test_general_format_is_4g_without_exponents(x, text):
    assert format_general(x) == text
    if isinstance(x, float) and np.isfinite(x) and x != 0 and 1e-4 <= abs(x) < 1e4:
        assert float(text) == float(f"{x:.4g}")  # ordinary magnitudes: the value .4g shows


def test_general_format_options():
    assert format_general(0.123456, digits=2) == "0.12" and format_general(None, missing="NA") == "NA"
    with pytest.raises(InputError, match="digits"):
        format_general(1.0, digits=0)


def test_estimate_with_interval():
    assert format_estimate_ci(0.8512, 0.7801, 0.9003) == "0.851 (0.780\u20130.900)"
    assert format_estimate_ci(-0.0257, -0.1567, 0.1053) == "-0.026 (-0.157 to 0.105)"
    assert format_estimate_ci(np.nan, 0.1, 0.2, missing="NA") == "NA"
    assert format_estimate_ci(1.0, np.nan, np.nan, 2) == "1.00"
