"""Shared input checks: each error names the argument and the offending rows or columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiomics_aln._validation import (
    check_1d,
    check_binary,
    check_columns,
    check_finite_frame,
    check_probabilities,
    check_same_length,
    format_items,
)
from radiomics_aln.exceptions import InputError


def test_format_items_truncates_long_lists():
    assert format_items(range(3)) == "0, 1, 2"
    assert format_items(range(12), limit=2) == "0, 1, ... (10 more)"


def test_check_binary_accepts_bool_float_and_reports_bad_rows():
    assert check_binary([True, False]).tolist() == [1, 0]
    assert check_binary(np.array([0.0, 1.0, 1.0])).tolist() == [0, 1, 1]
    y = pd.Series([0, 1, 2, 1], index=["c1", "c2", "c3", "c4"])
    with pytest.raises(InputError, match=r"`y` must contain only 0 and 1; rows c3 hold 2"):
        check_binary(y)
    with pytest.raises(InputError, match="only one class"):
        check_binary([1, 1, 1])
    assert check_binary([1, 1], require_both=False).tolist() == [1, 1]
    with pytest.raises(InputError, match="only 0 and 1"):
        check_binary(["yes", "no"])


def test_check_probabilities_bounds():
    assert check_probabilities([0.0, 1.0]).tolist() == [0.0, 1.0]
    with pytest.raises(InputError, match=r"in \(0, 1\); rows 0 are outside"):
        check_probabilities([0.0, 0.5], open_interval=True)
    with pytest.raises(InputError, match=r"`p` must be probabilities in \[0, 1\]"):
        check_probabilities([1.5, 0.5])


def test_check_1d_names_non_finite_rows():
    s = pd.Series([1.0, np.nan, np.inf], index=["a", "b", "c"])
    with pytest.raises(
        InputError, match=r"`score` has 2 missing or non-finite value\(s\) at rows b, c"
    ):
        check_1d(s, "score")
    with pytest.raises(InputError, match="one-dimensional"):
        check_1d(np.zeros((2, 2)), "score")
    with pytest.raises(InputError, match="is empty"):
        check_1d([], "score")


def test_check_same_length():
    assert check_same_length(y=[1, 2], p=[0.1, 0.2]) == 2
    with pytest.raises(InputError, match="`y` has 2, `p` has 3"):
        check_same_length(y=[1, 2], p=[0.1, 0.2, 0.3])


def test_check_finite_frame_names_columns_and_cases():
    df = pd.DataFrame({"f1": [1.0, np.nan], "f2": [np.inf, 2.0]}, index=["012", "044"])
    with pytest.raises(InputError, match=r"column `f1` in cases 044; column `f2` in cases 012"):
        check_finite_frame(df, "training features")


def test_check_columns_lists_missing_and_extra():
    df = pd.DataFrame({"a": [1], "c": [2]})
    with pytest.raises(
        InputError,
        match=r"lacks 1 column\(s\) seen in fit: b; it has 1 column\(s\) not seen in fit: c",
    ):
        check_columns(df, ["a", "b"])
    assert list(check_columns(df, ["c", "a"]).columns) == ["c", "a"]


# ------------------------------------------------------------------ shared option checks
# One check per option, used by every module (conf_level was checked three ways before).


@pytest.mark.parametrize("bad", [95, 0, 1, -0.5, float("nan"), True, "0.95", None])
def test_check_conf_level_refuses_and_names_the_option(bad):
    from radiomics_aln._validation import check_conf_level

    with pytest.raises(InputError, match=r"`conf_level` must be a number in \(0, 1\)"):
        check_conf_level(bad)


def test_check_conf_level_accepts_numpy_floats():
    from radiomics_aln._validation import check_conf_level

    assert check_conf_level(np.float32(0.9)) == pytest.approx(0.9)
    assert check_conf_level(0.95) == 0.95


@pytest.mark.parametrize(
    ("bad", "allow_zero"), [(0, False), (-1, True), (2.0, False), (True, False), ("10", True)]
)
def test_check_n_boot_refuses(bad, allow_zero):
    from radiomics_aln._validation import check_n_boot

    with pytest.raises(InputError, match=r"`n_boot` must be an integer >= [01]"):
        check_n_boot(bad, allow_zero=allow_zero)


def test_check_n_boot_accepts():
    from radiomics_aln._validation import check_n_boot

    assert check_n_boot(np.int64(5)) == 5 and check_n_boot(0, allow_zero=True) == 0


@pytest.mark.parametrize("bad", [1.5, "0", True, [1]])
def test_random_state_must_be_int_none_or_generator(bad):
    from radiomics_aln._validation import check_generator, check_random_state

    for check in (check_generator, check_random_state):
        with pytest.raises(InputError, match="`random_state` must be an int, a numpy Generator"):
            check(bad)


def test_random_state_int_generator_and_none():
    from radiomics_aln._validation import check_generator, check_random_state

    # an int gives the draws numpy (default_rng) and scikit-learn (RandomState) give it
    assert check_generator(3).integers(0, 100, 5).tolist() == (
        np.random.default_rng(3).integers(0, 100, 5).tolist()
    )
    assert check_random_state(3).randint(0, 100, 5).tolist() == (
        np.random.RandomState(3).randint(0, 100, 5).tolist()
    )
    gen = np.random.default_rng(0)
    assert check_generator(gen) is gen
    # a Generator seeds a RandomState from its next draw: reproducible from the same seed
    a = check_random_state(np.random.default_rng(7)).randint(0, 10**6, 3)
    b = check_random_state(np.random.default_rng(7)).randint(0, 10**6, 3)
    assert a.tolist() == b.tolist()
    assert isinstance(check_random_state(None), np.random.RandomState)


def test_binary_outcome_maps_two_labels_and_refuses_three():
    from radiomics_aln._validation import binary_outcome

    y, classes = binary_outcome(["yes", "no", "yes"])
    assert y.tolist() == [1, 0, 1] and classes.tolist() == ["no", "yes"]
    y, classes = binary_outcome([0, 1, 1])
    assert y.tolist() == [0, 1, 1] and classes.tolist() == [0, 1]
    with pytest.raises(InputError, match="`y` must be a binary outcome; it has 3 distinct"):
        binary_outcome([1, 2, 3])
