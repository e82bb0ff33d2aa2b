"""Tests of radiomics_aln.harmonization (ComBat): parity with R's sva::ComBat, new batches,
leakage, JSON, bad input and the diagnostics.

The reference values come from ``tests/reference/combat.R`` (R 4.2.2, Bioconductor sva 3.46.0:
``sva::ComBat`` on the data of ``combat_data.csv``; see ``combat_versions.txt``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from radiomics_aln.exceptions import DataWarning, InputError, StatisticalWarning
from radiomics_aln.harmonization import (
    ComBat,
    batch_effect_table,
    harmonization_diagnostics,
    plot_batch_distributions,
)

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def reference():
    data = pd.read_csv(REF / "combat_data.csv", dtype={"case": str}).set_index("case")
    r = pd.read_csv(REF / "combat_R.csv", dtype={"case": str})
    features = [c for c in data.columns if c.startswith("f")]
    return data, r, features


def r_values(r, variant, index, features):
    wide = r[r["variant"] == variant].pivot(index="case", columns="feature", values="value")
    return wide.loc[index, features]


def assert_close_to_r(out, ref):
    # 1e-8 relative to each value (features range over 5 orders of magnitude)
    assert_allclose(out.to_numpy(), ref.to_numpy(), rtol=1e-8, atol=0)


VARIANTS = {
    # sva::ComBat(t(x), batch, ...) call in combat.R  ->  ComBat options
    "parametric": ({}, False),
    "nonparametric": ({"parametric": False}, False),
    "mean_only": ({"mean_only": True}, False),
    "mean_only_nonparametric": ({"mean_only": True, "parametric": False}, False),
    "parametric_covariates": ({}, True),  # mod = model.matrix(~ age + sex)
    "nonparametric_covariates": ({"parametric": False}, True),
    "ref_A": ({"ref_batch": "A"}, False),
    "ref_A_nonparametric": ({"ref_batch": "A", "parametric": False}, False),
    "ref_A_mean_only": ({"ref_batch": "A", "mean_only": True}, False),
    "ref_A_covariates": ({"ref_batch": "A"}, True),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_training_output_equals_sva_combat(reference, variant):
    data, r, features = reference
    options, with_covariates = VARIANTS[variant]
    covariates = data[["age", "sex"]] if with_covariates else None
    out = ComBat(**options).fit_transform(data[features], data["batch"], covariates)
    assert_close_to_r(out, r_values(r, variant, data.index, features))
    if options.get("ref_batch"):
        ref_rows = data["batch"] == "A"
        assert_array_equal(out[ref_rows].to_numpy(), data.loc[ref_rows, features].to_numpy())


def test_single_case_batch_forces_mean_only_as_sva(reference):
    data, r, features = reference
    keep = (data["batch"] != "C") | (data.index == data.index[data["batch"] == "C"][0])
    with pytest.warns(StatisticalWarning, match="single case"):
        combat = ComBat().fit(data.loc[keep, features], data.loc[keep, "batch"])
    assert combat.mean_only_
    out = combat.transform(data.loc[keep, features], data.loc[keep, "batch"])
    assert_close_to_r(out, r_values(r, "single_sample_batch", data.index[keep], features))


@pytest.mark.parametrize(
    "variant", ["ref_A", "ref_A_nonparametric", "ref_A_mean_only"]
)
def test_new_batch_equals_sva_reference_batch(reference, variant):
    """A batch not in the fit is mapped as sva::ComBat(ref.batch = the training reference)."""
    data, r, features = reference
    options = VARIANTS[variant][0]
    ref = r_values(r, variant, data.index, features)
    X, b = data[features], data["batch"]
    # fitted on A and B with A as reference, C is new
    ab = ComBat(**options).fit(X[b != "C"], b[b != "C"])
    new = ab.transform(X[b == "C"], b[b == "C"])
    assert_close_to_r(new, ref[b == "C"])
    # fitted on A alone (the reference by construction), B and C are new: one call, two batches
    only_a = {k: v for k, v in options.items() if k != "ref_batch"}
    a = ComBat(**only_a).fit(X[b == "A"], b[b == "A"])
    assert a.reference_ == "A"
    both = a.transform(X[b != "A"], b[b != "A"])
    assert_close_to_r(both, ref[b != "A"])
    assert_array_equal(a.transform(X[b == "A"], b[b == "A"]).to_numpy(), X[b == "A"].to_numpy())


def test_seen_batch_uses_stored_parameters(reference):
    data, _, features = reference
    X, b = data[features], data["batch"]
    combat = ComBat().fit(X, b)
    full = combat.transform(X, b)
    # a subset of a training batch gets exactly the rows it got in the full transform
    part = combat.transform(X[b == "B"].iloc[:3], b[b == "B"].iloc[:3])
    assert_allclose(part.to_numpy(), full[b == "B"].iloc[:3].to_numpy(), rtol=1e-13)


def test_transform_never_changes_the_fit(reference):
    data, _, features = reference
    X, b = data[features], data["batch"]
    combat = ComBat(ref_batch="A").fit(X[b != "C"], b[b != "C"])
    before = combat.to_json()
    combat.transform(X, b)
    combat.transform(X[b == "C"] * 3 + 1, b[b == "C"])
    assert combat.to_json().split('"params"')[1] == before.split('"params"')[1]


def test_no_leakage_from_new_cohort(reference):
    """Outcomes never enter; a new cohort's rows change nothing fitted; the new batch's
    harmonized values depend on that batch's own features only."""
    data, _, features = reference
    X, b = data[features], data["batch"]
    rng = np.random.default_rng(1)
    y = pd.Series(rng.integers(0, 2, len(X)), index=X.index)
    train, test = b != "C", b == "C"
    combat = ComBat().fit(X[train], b[train])
    out = combat.transform(X[test], b[test])
    # shuffling the outcome of the new cohort: transform does not take it, nothing changes
    y_shuffled = y.copy()
    y_shuffled[test] = rng.permutation(y[test].to_numpy())
    again = ComBat().fit(X[train], b[train]).transform(X[test], b[test])
    assert_array_equal(out.to_numpy(), again.to_numpy())
    # the fit depends on the training rows only (same fitted state with the test rows scrambled)
    state = json.loads(combat.to_json())["state"]
    X2 = X.copy()
    X2.loc[test] = rng.normal(size=(test.sum(), len(features)))
    state2 = json.loads(ComBat().fit(X2[train], b[train]).to_json())["state"]
    assert state == state2
    # and the fit does depend on its training rows (the test above can fail)
    X3 = X.copy()
    X3.loc[b == "B", features[0]] += 5.0
    state3 = json.loads(ComBat().fit(X3[train], b[train]).to_json())["state"]
    assert state3 != state


def test_json_round_trip(tmp_path, reference):
    data, _, features = reference
    X, b, cov = data[features], data["batch"], data[["age", "sex"]]
    combat = ComBat(parametric=False, min_batch_size=5).fit(X[b != "C"], b[b != "C"], cov[b != "C"])
    path = tmp_path / "combat.json"
    text = combat.to_json(path)
    for source in (path, text):
        back = ComBat.from_json(source)
        assert back.get_params() == combat.get_params()
        assert_array_equal(back.transform(X, b, cov).to_numpy(), combat.transform(X, b, cov).to_numpy())
    doc = json.loads(text)
    doc["state"]["var_pooled"][0] = "inf"
    with pytest.raises(InputError, match="var_pooled"):
        ComBat.from_json(json.dumps(doc))
    doc = json.loads(text)
    doc["state"]["grand_mean"] = doc["state"]["grand_mean"][:-1]
    with pytest.raises(InputError, match="inconsistent"):
        ComBat.from_json(json.dumps(doc))


def test_small_new_batch_error_or_identity(reference):
    data, _, features = reference
    X, b = data[features], data["batch"]
    combat = ComBat().fit(X[b != "C"], b[b != "C"])
    one = X[b == "C"].iloc[:1]
    with pytest.raises(InputError, match=r"batch 'C' was not in the training data and has 1"):
        combat.transform(one, ["C"])
    lenient = ComBat(small_batch="identity").fit(X[b != "C"], b[b != "C"])
    with pytest.warns(DataWarning, match="left unharmonized"):
        out = lenient.transform(one, ["C"])
    assert_array_equal(out.to_numpy(), one.to_numpy())


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"small_batch": "drop"}, "small_batch"),
        ({"min_batch_size": 1}, "min_batch_size"),
        ({"parametric": "yes"}, "parametric"),
        ({"conv": 0}, "conv"),
        ({"ref_batch": "Z"}, "ref_batch 'Z' is not a training batch"),
    ],
)
def test_bad_options(reference, options, match):
    data, _, features = reference
    with pytest.raises(InputError, match=match):
        ComBat(**options).fit(data[features], data["batch"])


def test_bad_input(reference):
    data, _, features = reference
    X, b = data[features].copy(), data["batch"].copy()
    X.iloc[3, 2] = np.nan
    with pytest.raises(InputError, match=r"missing or infinite.*'c004', f03"):
        ComBat().fit(X, b)
    b2 = b.copy()
    b2.iloc[5] = None
    with pytest.raises(InputError, match="`batch` is missing for case.*c006"):
        ComBat().fit(data[features], b2)
    with pytest.raises(InputError, match="at least 2 features"):
        ComBat().fit(data[features[:1]], b)
    cov = data[["age"]].assign(site=(b == "B").astype(float))
    with pytest.raises(InputError, match="confounded with batch"):
        ComBat().fit(data[features], b, cov[b != "C"].reindex(data.index).fillna(0)
                     .assign(site=(b == "B").astype(float)))
    combat = ComBat().fit(data[features], b, data[["age"]])
    with pytest.raises(InputError, match="pass them to transform"):
        combat.transform(data[features], b)
    with pytest.raises(InputError, match="lacks feature"):
        combat.transform(data[features[1:]], b, data[["age"]])
    plain = ComBat().fit(data[features].to_numpy(), b.to_numpy(), data["age"].to_numpy())
    assert plain.covariate_names_ == ["z0"]
    assert_allclose(plain.transform(data[features].to_numpy(), b.to_numpy(),
                                    data["age"].to_numpy()).to_numpy(),
                    combat.transform(data[features], b, data[["age"]]).to_numpy(), rtol=1e-12)
    with pytest.raises(InputError, match="not numeric"):
        ComBat().fit(data[features], b, data[["batch"]].rename(columns={"batch": "site"}))


def test_constant_feature_within_batch_is_left_unadjusted(reference):
    data, _, features = reference
    X, b = data[features].copy(), data["batch"]
    X.loc[b == "B", "f02"] = 1.0
    with pytest.warns(DataWarning, match="constant within a training batch"):
        combat = ComBat().fit(X, b)
    out = combat.transform(X, b)
    assert_array_equal(out["f02"].to_numpy(), X["f02"].to_numpy())
    assert not combat.adjusted_[1] and combat.adjusted_[[0, 2]].all()


def test_diagnostics(reference):
    data, _, features = reference
    X, b = data[features], data["batch"]
    after = ComBat().fit_transform(X, b)
    table = batch_effect_table(X, b)
    assert list(table.columns) == ["feature", "n", "n_batches", "eta_squared", "statistic",
                                   "p_value"]
    # R: summary(lm(f01 ~ batch))$r.squared and kruskal.test(f01 ~ batch)
    v = X["f01"].to_numpy()
    groups = [v[(b == g).to_numpy()] for g in "ABC"]
    between = sum(len(g) * (g.mean() - v.mean()) ** 2 for g in groups)
    assert table.loc[0, "eta_squared"] == pytest.approx(between / ((v - v.mean()) ** 2).sum())
    diag = harmonization_diagnostics(X, after, b, cohort=np.where(b == "A", "train", "test"))
    assert set(diag["cohort"]) == {"all", "test"}  # train has one batch: no rows
    means = diag.groupby("stage")["eta_squared"].mean()
    assert means["after"] < 0.05 < means["before"]
    fig = plot_batch_distributions(X, after, b, max_features=3)
    assert len(fig.axes) == 6
    ax = ComBat().fit(X, b).plot()
    assert ax.get_xlabel().startswith("location")
    summary = ComBat().fit(X, b).summary
    assert list(summary.columns[:3]) == ["batch", "n", "feature"]


@pytest.mark.slow
def test_example_runs(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, str(root / "examples" / "harmonization.py"), "--out",
                          str(tmp_path)], capture_output=True, text=True, check=True).stdout
    assert "model file reproduces the transform: True" in out
    for name in ("batch_effect.csv", "harmonization.png", "combat.json"):
        assert (tmp_path / name).is_file()
