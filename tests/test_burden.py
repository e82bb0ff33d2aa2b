"""Burden endpoint, two-step model, decision table and the burden study."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiomics_aln.burden import (
    TwoStepModel,
    burden_levels,
    check_endpoint,
    decision_table,
    split_evaluation,
)
from radiomics_aln.burden_study import BurdenStudy
from radiomics_aln.exceptions import InputError
from radiomics_aln.metrics import roc_auc
from radiomics_aln.nomogram import LogisticNomogram

pytestmark = pytest.mark.filterwarnings(
    "ignore:events per variable:radiomics_aln.exceptions.SmallSampleWarning"
)
NAMES = ["N0", "N1-2", "N>=3"]


# ---------------------------------------------------------------------------- the endpoint
def test_burden_levels_default_and_custom():
    counts = pd.Series([0, 1, 2, 3, 12], index=list("abcde"))
    got = burden_levels(counts)
    assert got.tolist() == [0, 1, 1, 2, 2]
    assert got.attrs["levels"] == NAMES
    assert list(got.index) == list("abcde")
    four = {"N0": [0, 0], "N1": [1, 1], "N2-3": [2, 3], "N>=4": [4, None]}
    assert burden_levels(counts, four).tolist() == [0, 1, 2, 2, 3]


@pytest.mark.parametrize(
    ("levels", "match"),
    [
        ({}, "non-empty"),
        ({"N0": [0, 0], "N+": [1, None]}, "at least 3"),
        ({"N0": [0, 0], "N1-2": [1, 2], "N>=3": [3, 5]}, "open-ended"),
        ({"N0": [0, 0], "N1-2": [2, 2], "N>=3": [3, None]}, "without gaps"),
        ({"N0": [0, 1], "N1-2": [1, 2], "N>=3": [3, None]}, "start at 2"),
        ({"N0": [0, 0], "N1-2": [1, None], "N>=3": [3, None]}, "only the last"),
        ({"N0": [0, 0.5], "N1-2": [1, 2], "N>=3": [3, None]}, "whole numbers"),
        ({"N0": "0", "N1-2": [1, 2], "N>=3": [3, None]}, "whole numbers"),
    ],
)
def test_bad_levels(levels, match):
    with pytest.raises(InputError, match=match):
        burden_levels([0, 1, 3], levels)


@pytest.mark.parametrize(
    ("counts", "match"),
    [
        ([0, 1.5, 3], r"whole number of nodes.*case\(s\) 1"),
        ([0, -1, 3], "whole number"),
        ([0, None, 3], "missing in case"),
        ([0, "two", 3], "not a number"),
    ],
)
def test_bad_counts(counts, match):
    with pytest.raises(InputError, match=match):
        burden_levels(pd.Series(counts, dtype=object), column="n_pos")


def test_check_endpoint():
    assert check_endpoint({"column": "n"})["type"] == "ordinal"
    with pytest.raises(InputError, match="unknown endpoint key"):
        check_endpoint({"column": "n", "level": {}})
    with pytest.raises(InputError, match="type must be"):
        check_endpoint({"type": "survival"})
    with pytest.raises(InputError, match="no endpoint"):
        check_endpoint(None)


# ---------------------------------------------------------------------------- decisions
def test_decision_table_by_hand():
    y = [0, 0, 0, 1, 1, 2, 2, 2]
    pred = [0, 0, 1, 0, 1, 1, 2, 2]
    t = decision_table(y, pred, level_names=NAMES)
    assert t.counts.loc["N0"].tolist() == [2, 1, 0]  # predicted N0: 2 true N0, 1 N1-2
    assert t.counts.loc["N1-2"].tolist() == [1, 1, 1]
    assert t.counts.loc["N>=3"].tolist() == [0, 0, 2]
    s = t.surgery.set_index("n")
    # spared any axillary surgery: 3 patients (3/8), of which 1 had metastases
    assert t.surgery.loc[0, ["n", "n_wrong"]].tolist() == [3, 1]
    assert t.surgery.loc[0, "share"] == pytest.approx(3 / 8)
    # spared ALND: predicted N0 or N1-2 = 6, of which 1 had >= 3 nodes
    assert t.surgery.loc[1, ["n", "n_wrong"]].tolist() == [6, 1]
    assert t.surgery.loc[1, "share_wrong"] == pytest.approx(1 / 6)
    assert len(s) == 2
    assert t.summary["n"].sum() == 8


def test_split_evaluation_matches_binary_auc():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 120)
    ex = np.sort(rng.random((120, 2)), axis=1)[:, ::-1]
    got = split_evaluation(y, ex, level_names=NAMES)
    for j in (1, 2):
        ref = roc_auc((y >= j).astype(int), ex[:, j - 1]).iloc[0]
        row = got.iloc[j - 1]
        assert row["estimate"] == ref["estimate"]
        assert (row["ci_low"], row["ci_high"]) == (ref["ci_low"], ref["ci_high"])
    assert got["split"].tolist() == [">=N1-2", ">=N>=3"]


def _burden_data(seed=0, n=400):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"score": rng.normal(size=n), "ln": rng.normal(size=n),
                      "t": rng.choice(["T1", "T2"], n)})  # fmt: skip
    lat1 = 1.2 * d["score"] + 0.8 * d["ln"] + 0.5 * (d["t"] == "T2") + rng.logistic(size=n)
    y = (lat1 > 0).astype(int)
    lat2 = 1.5 * d["ln"] + rng.logistic(size=n)
    d["burden"] = y + y * (lat2 > 0.5)
    return d


def test_two_step_model_steps_are_fitted_on_the_right_patients():
    d = _burden_data()
    m = TwoStepModel(["score", "ln", "t"]).fit(d, "burden")
    ref1 = LogisticNomogram().fit(d, (d["burden"] >= 1).astype(int), ["score", "ln", "t"])
    pos = d[d["burden"] >= 1]
    ref2 = LogisticNomogram().fit(pos, (pos["burden"] >= 2).astype(int), ["score", "ln", "t"])
    np.testing.assert_allclose(m.step1_.coef_, ref1.coef_)
    np.testing.assert_allclose(m.step2_.coef_, ref2.coef_)
    assert m.n_step2_ == len(pos)
    # hierarchical decision at the training Youden cutoffs
    p = m.probabilities(d)
    codes = m.predict_codes(d)
    assert np.all((codes == 0) == (p["p_step1"] < m.step1_.youden_cutoff_))
    top = (codes == 2)
    assert np.all(p.loc[top, "p_step2"] >= m.step2_.youden_cutoff_)
    # step 2 only uses N+ patients: N0 rows do not move it
    d2 = d.copy()
    d2.loc[d2["burden"] == 0, "ln"] = 99.0
    again = TwoStepModel(["score", "ln", "t"]).fit(d2, "burden", step1=m.step1_)
    np.testing.assert_array_equal(again.step2_.coef_, m.step2_.coef_)
    t = m.decision_table(d, d["burden"])
    assert t.counts.to_numpy().sum() == len(d)


def test_two_step_needs_three_levels():
    d = _burden_data()
    d.loc[d.index[:5], "burden"] = 3
    with pytest.raises(InputError, match="exactly three"):
        TwoStepModel(["score"], level_names=["a", "b", "c"]).fit(d, "burden")


# ---------------------------------------------------------------------------- the study
def _study_data():
    from test_study import CONFIG, _synthetic

    table, features, repeats = _synthetic()
    rng = np.random.default_rng(11)
    ln = features[[c for c in features.columns if c.startswith("ln__")][:3]].mean(axis=1)
    extra = rng.poisson(np.exp(-0.5 + 1.0 * ln.to_numpy()))
    table = table.copy()
    table["n_pos"] = np.where(table["aln"] == 1, 1 + extra, 0)
    cfg = CONFIG | {"endpoint": {"type": "ordinal", "column": "n_pos"}}
    return cfg, table, features, repeats


@pytest.fixture(scope="module")
def burden_study():
    cfg, table, features, repeats = _study_data()
    return BurdenStudy(cfg, table=table, features=features, repeats=repeats).fit().evaluate()


def test_study_tables(burden_study):
    t = burden_study.results_["tables"]
    assert set(t["ordinal_c"]["model"]) == {"Ordinal model", "Two-step model"}
    assert t["ordinal_c"]["cohort"].nunique() == 3
    ev = t["split_evaluation"]
    assert set(ev["split"]) == {">=N1-2", ">=N>=3"}
    assert ev["estimate"].between(0.5, 1).all()
    assert t["brant_test"]["term"].iloc[0] == "omnibus"
    # the two-step model's step 1 is the binary study's nomogram
    assert burden_study.two_step_.step1_ is burden_study.study.model_.combined_model
    per = t["decision_tables"].groupby(["cohort", "model"])["n"].sum()
    sizes = burden_study.study.data_["cohort"].map(
        burden_study.study.config.cohort_labels).value_counts()
    for (cohort, _), n in per.items():
        assert n == sizes[cohort]


def test_study_no_leakage(burden_study):
    cfg, table, features, repeats = _study_data()
    test_ids = table.index[table.cohort != "train"]
    changed = table.copy()
    pos = test_ids[table.loc[test_ids, "aln"] == 1]
    changed.loc[pos, "n_pos"] = np.where(changed.loc[pos, "n_pos"] >= 3, 1, 5)
    a = BurdenStudy(cfg, table=changed, features=features, repeats=repeats).fit()
    assert a.fitted_state() == burden_study.fitted_state()
    # sanity: the check can fail -- changing training counts changes the fit
    train_pos = table.index[(table.cohort == "train") & (table.aln == 1)][:15]
    changed2 = table.copy()
    changed2.loc[train_pos, "n_pos"] = np.where(changed2.loc[train_pos, "n_pos"] >= 3, 1, 5)
    b = BurdenStudy(cfg, table=changed2, features=features, repeats=repeats).fit()
    assert b.fitted_state() != burden_study.fitted_state()


def test_study_bad_input():
    cfg, table, features, repeats = _study_data()
    bad = table.copy()
    bad.loc[bad.index[bad["aln"] == 1][0], "n_pos"] = 0
    with pytest.raises(InputError, match="disagree"):
        BurdenStudy(cfg, table=bad, features=features, repeats=repeats).fit()
    with pytest.raises(InputError, match=r"column\(s\) n_pos of the burden endpoint"):
        BurdenStudy(cfg, table=table.drop(columns="n_pos"), features=features,
                    repeats=repeats).fit()  # fmt: skip
    with pytest.raises(InputError, match="no endpoint"):
        BurdenStudy({k: v for k, v in cfg.items() if k != "endpoint"}, table=table,
                    features=features, repeats=repeats)  # fmt: skip
    # a level without training patients
    none3 = table.copy()
    none3["n_pos"] = np.minimum(none3["n_pos"], 2)
    with pytest.raises(InputError, match=r"no training patients at burden level\(s\) N>=3"):
        BurdenStudy(cfg, table=none3, features=features, repeats=repeats).fit()


def test_study_report(burden_study, tmp_path):
    from radiomics_aln.report import report

    html = report(burden_study, tmp_path / "burden_report.html").read_text()
    for text in ("Ordinal nomogram", "step 2", "Decision table", "Brant", "Ordinal C",
                 "spared"):  # fmt: skip
        assert text in html
    assert html.count("data:image/png;base64,") >= 4
    # the tables a reader sees: readable headers and one number format (no exponents, no
    # raw column names), estimates with their CI, cumulative splits in words
    import re

    import matplotlib.pyplot as plt

    content = burden_study.report_content()
    plt.close("all")
    for section in content["sections"]:
        for title, table in section.get("tables", {}).items():
            assert not [c for c in table.columns if "_" in str(c)], title
            cells = [str(c) for c in table.to_numpy().ravel()]
            assert not [c for c in cells if re.search(r"\de[-+]\d", c)], title
    views = content["sections"][2]["tables"]
    split = views["Per cumulative split: AUC (DeLong 95% CI) and calibration"]
    assert set(split["Split"]) == {"N1-2 or higher", "N>=3"}
    assert "Estimate (95% CI)" in split.columns


@pytest.mark.slow
def test_study_save(burden_study, tmp_path):
    out = burden_study.save(tmp_path, report=False)
    assert (out / "tables" / "burden_split_evaluation.csv").exists()
    assert (out / "binary" / "model.json").exists()
    from radiomics_aln.ordinal import OrdinalNomogram

    back = OrdinalNomogram.from_json(out / "burden_ordinal_model.json")
    data = burden_study.study.data_
    pd.testing.assert_frame_equal(back.exceedance(data), burden_study.ordinal_.exceedance(data))
    step2 = LogisticNomogram.from_json(out / "burden_step2_model.json")
    np.testing.assert_array_equal(step2.coef_, burden_study.two_step_.step2_.coef_)


# ---------------------------------------------------------------------------- the CLI
def test_cli_demo_endpoint_burden_routes_to_the_burden_study(monkeypatch, tmp_path):
    from radiomics_aln import _cli_burden
    from radiomics_aln.cli import main

    seen = []
    monkeypatch.setattr(_cli_burden, "cmd_burden_demo", lambda args, progress: seen.append(
        (args.endpoint, args.out)) or 0)  # fmt: skip
    assert main(["-q", "demo", "--endpoint", "burden", "--out", str(tmp_path)]) == 0
    assert seen == [("burden", str(tmp_path))]
    with pytest.raises(SystemExit):
        main(["-q", "demo", "--endpoint", "survival", "--out", str(tmp_path)])


@pytest.mark.slow
def test_cli_demo_endpoint_burden_end_to_end(tmp_path, capsys):
    """`radiomics-aln demo --endpoint burden` on the default demo cohort: both nomograms, the
    decision table and the per-split evaluation in the report. Takes as long as the demo (about
    5 minutes on 2 idle cores: the feature extraction of 200 patients)."""
    from radiomics_aln.cli import main

    out = tmp_path / "burden"
    assert main(["-q", "demo", "--endpoint", "burden", "--out", str(out), "--n-jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "Ordinal C" in printed and "Report:" in printed
    html = (out / "burden_report.html").read_text()
    for text in ("Ordinal nomogram", "step 1", "step 2", "Decision table", "Brant",
                 "Per cumulative split"):  # fmt: skip
        assert text in html, text
    ev = pd.read_csv(out / "tables" / "burden_split_evaluation.csv")
    assert set(ev["split"]) == {">=N1-2", ">=N>=3"}
    c = pd.read_csv(out / "tables" / "burden_ordinal_c.csv")
    assert c["c_index"].between(0.6, 1).all()
    assert (out / "binary" / "report.html").is_file()


def test_methods_text_names_the_brant_result(burden_study):
    text = " ".join(burden_study.methods_text())
    omni = burden_study.brant_.iloc[0]
    assert f"{int(omni['df'])} df" in text and "Brant" in text
    verdict = "two-step model is the primary" if omni["p_value"] < 0.05 else "not rejected"
    assert verdict in text
    assert "LASSO scores of the binary N+ vs N0 analysis" in text


def _axis_texts(fig) -> set[str]:
    return {t.get_text() for ax in fig.axes for t in ax.texts}


def test_study_nomograms_name_axes_from_the_data_dictionary(burden_study, monkeypatch):
    # the burden study's nomograms name their axes as the binary study's figure does: by the
    # data dictionary's label and unit, and the levels of categorical predictors by their text
    import matplotlib.pyplot as plt

    variables = {"age": {"label": "Age at diagnosis", "unit": "years"},
                 "tumor_score": {"label": "Intratumoral Rad-score"},
                 "ln_score": {"label": "Nodal Rad-score"},
                 "margin": {"label": "Tumour margin", "levels": {"irregular": "Irregular (spiculated)"}},
                 "us_aln": {"label": "Suspicious node on US"}}  # fmt: skip
    monkeypatch.setattr(burden_study.study.config, "variables", variables)
    dd = burden_study.study.config.data_dictionary()
    content = burden_study.report_content()
    figs = next(s for s in content["sections"] if s.get("title") == "Nomograms")["figures"]
    try:
        drawn = [(burden_study.ordinal_, figs[next(k for k in figs if "Ordinal" in k)]),
                 (burden_study.two_step_.step1_, figs[next(k for k in figs if "step 1" in k)]),
                 (burden_study.two_step_.step2_, figs[next(k for k in figs if "step 2" in k)])]
        for model, fig in drawn:
            texts = _axis_texts(fig)
            predictors = list(dict.fromkeys(model.points_table()["predictor"]))
            assert predictors
            for p in predictors:
                assert dd.axis_label(p) in texts and p not in texts
            if "margin" in predictors:  # a categorical predictor: its levels by their text
                assert "Irregular (spiculated)" in texts and "irregular" not in texts
        every = set().union(*(_axis_texts(f) for _, f in drawn))
        assert "Intratumoral Rad-score" in every or "Nodal Rad-score" in every
    finally:
        plt.close("all")
