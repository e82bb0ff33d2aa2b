"""Tests of radiomics_aln.study: configuration, the fitted workflow, leakage, persistence.

The workflow tests use precomputed synthetic feature tables (``Study(table=, features=,
repeats=)``) so they run in seconds; the demo-cohort acceptance test (images -> report) is marked
slow.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radiomics_aln.config import StudyConfig, demo_config
from radiomics_aln.exceptions import InputError, SmallSampleWarning
from radiomics_aln.model import CLINICAL_MODEL, COMBINED_MODEL, StudyModel
from radiomics_aln.study import Study

# The synthetic study's training cohort has 9.8 events per candidate coefficient by design
# (the EPV warning itself is tested in test_univariate/test_nomogram).
pytestmark = pytest.mark.filterwarnings(
    "ignore:events per variable:radiomics_aln.exceptions.SmallSampleWarning"
)

FEATURE_CLASSES = ["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]


def _synthetic(seed: int = 7, n: int = 260):
    """Cohort table, features and repeat readings with a known signal.

    Outcome: logit = -0.4 + 1.3 h_tumor + 1.3 h_ring + 1.5 h_ln + 0.6 (margin irregular)
    + 0.03 (age - 55), peritumoral 1.3. Each ROI has 24 features: 3 carry its latent trait, the rest are noise;
    features 0-17 are reproducible (small re-segmentation noise), 18-23 are not.
    """
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"P{i:04d}" for i in range(n)], name="case_id")
    cohort = np.array(["train"] * 130 + ["internal"] * 65 + ["external"] * (n - 195))
    latent = {roi: rng.normal(size=n) for roi in ("tumor", "peritumoral", "ln")}
    age = rng.normal(55, 10, n).round(0)
    margin = np.where(rng.random(n) < 0.4, "irregular", "smooth")
    us_aln = np.where(rng.random(n) < 0.3, "yes", "no")
    size = rng.lognormal(3, 0.3, n).round(1)
    lp = (
        -0.4
        + 1.3 * latent["tumor"]
        + 1.3 * latent["peritumoral"]
        + 1.5 * latent["ln"]
        + 0.6 * (margin == "irregular")
        + 0.03 * (age - 55)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    table = pd.DataFrame(
        {"cohort": cohort, "aln": y, "age": age, "margin": margin, "us_aln": us_aln,
         "size_mm": size},
        index=ids,
    )  # fmt: skip
    cols, blocks = [], []
    for roi, h in latent.items():
        for j in range(24):
            name = f"{roi}__original_{FEATURE_CLASSES[j % 6]}_F{j:02d}"
            signal = h if j < 3 else 0.0
            blocks.append(signal + rng.normal(scale=0.8 if j < 3 else 1.0, size=n))
            cols.append(name)
    features = pd.DataFrame(np.column_stack(blocks), index=ids, columns=cols)
    rep_ids = ids[:40]  # re-segmented training cases
    noise = np.array([0.1 if int(c[-2:]) < 18 else 1.5 for c in cols])
    repeats = {
        r: features.loc[rep_ids] + rng.normal(size=(40, len(cols))) * noise
        for r in ("reader2", "repeat")
    }
    return table, features, repeats


CONFIG = {
    "outcome": "aln",
    "train_cohort": "train",
    "cohort_labels": {"train": "Training", "internal": "Internal", "external": "External"},
    "clinical": ["age", "margin", "us_aln", "size_mm"],
    "categorical": {"margin": ["smooth", "irregular"], "us_aln": ["no", "yes"]},
    "nonnormal": ["size_mm"],
    "score": {"params": {"cv": 5}},
}


@pytest.fixture(scope="module")
def data():
    return _synthetic()


@pytest.fixture(scope="module")
def fitted(data):
    table, features, repeats = data
    return Study(CONFIG, table=table, features=features, repeats=repeats).fit().evaluate()


# --------------------------------------------------------------------------- configuration


def test_config_yaml_round_trip(tmp_path):
    cfg = StudyConfig.from_dict(CONFIG | {"manifest": "m.csv", "rois": "intratumoral+ln"})
    path = tmp_path / "study.yaml"
    cfg.to_yaml(path)
    back = StudyConfig.from_yaml(path)
    assert back.roi_list() == ["tumor", "ln"]
    # written relative to the YAML file, so it still names the same file (m.csv in the cwd)
    assert Path(back.manifest).resolve() == Path("m.csv").resolve()
    assert back.score.params == {"cv": 5}
    assert back.categorical == CONFIG["categorical"]


def test_flat_score_section_is_radscore_kwargs():
    cfg = StudyConfig.from_dict({"score": {"cv": 3, "rule": "min"}})
    assert cfg.score.params == {"cv": 3, "rule": "min"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rois": ["tumour"]}, "unknown ROI"),
        ({"rois": ["tumor", "tumor"]}, "lists a ROI twice"),
        ({"ringmm": 5}, "unknown configuration key"),
        ({"icc": {"treshold": 0.8}}, "unknown key\\(s\\) in `icc`: treshold"),
        ({"icc": {"threshold": 1.5}}, "icc.threshold must be in"),
        ({"icc": {"compare": "median"}}, "icc.compare must be"),
        ({"nomogram": {"selection": "forward"}}, "nomogram.selection"),
        ({"nomogram": {"dca_thresholds": [0.5, 0.1, 0.01]}}, "dca_thresholds"),
        ({"nomogram": {"dca_display_range": [0.6, 0.05]}}, "dca_display_range"),
        ({"nomogram": {"dca_display_range": 0.5}}, "dca_display_range"),
        ({"nomogram": {"dca_thresholds": [0.01, 0.3, 0.01], "dca_display_range": [0.4, 0.6]}},
         "overlapping"),
        ({"nomogram": {"penalty": "ridge"}}, "nomogram.penalty must be null or 'firth'"),
        ({"nomogram": {"penalty": "firth", "criterion": "aic"}}, "needs nomogram.criterion 'p'"),
        ({"nomogram": {"p_adjust": "BH"}}, "nomogram.p_adjust must be null, 'holm' or"),
        ({"nomogram": {"sample_size": {"auc": 0.8}}}, r"sample_size has unknown key\(s\) \['auc'\]"),
        ({"nomogram": {"sample_size": {"c_statistic": 1.2}}}, "sample_size: `c_statistic`"),
        ({"nomogram": {"sample_size": {"r2_cs": 0.2, "c_statistic": 0.8}}}, "exactly one"),
        ({"categorical": {"margin": ["only"]}}, "at least two levels"),
        ({"clinical": ["aln"], "outcome": "aln"}, "also a clinical candidate"),
        ({"score": {"params": {"random_state": 3}}}, "must not set"),
        ({"width_mm": -1}, "width_mm=-1 must be a positive"),
        ({"n_jobs": 0}, "n_jobs must be a non-zero"),
    ],
)
def test_config_errors(change, message):
    with pytest.raises(InputError, match=message):
        StudyConfig.from_dict(change)


def test_demo_config_matches_demo_manifest_columns():
    cfg = demo_config()
    assert cfg.outcome == "aln_metastasis"
    assert cfg.test_cohorts == ["internal", "external", "prospective"]
    assert "us_aln_status" in cfg.clinical


def test_study_input_errors(data):
    table, features, repeats = data
    with pytest.raises(InputError, match="training cohort 'training' is not in the data"):
        Study(CONFIG | {"train_cohort": "training"}, table=table, features=features).fit()
    with pytest.raises(InputError, match="lacks column\\(s\\) tumour_size"):
        Study(CONFIG | {"clinical": ["tumour_size"]}, table=table, features=features).fit()
    with pytest.raises(InputError, match="test cohort\\(s\\) prospective are not in the data"):
        Study(CONFIG | {"test_cohorts": ["prospective"]}, table=table, features=features).fit()
    with pytest.raises(InputError, match="'margin' has value\\(s\\) irregular not among"):
        cfg = CONFIG | {"categorical": {"margin": ["smooth", "lobulated"]}}
        Study(cfg, table=table, features=features).fit()
    bad = features.copy()
    bad.iloc[3, 5] = np.nan
    with pytest.raises(InputError, match="training case\\(s\\) P0003 have missing"):
        Study(CONFIG, table=table, features=bad).fit()
    with pytest.raises(InputError, match="no feature columns for ROI\\(s\\) \\['ln'\\]"):
        no_ln = features[[c for c in features.columns if not c.startswith("ln__")]]
        Study(CONFIG, table=table, features=no_ln).fit()
    with pytest.raises(InputError, match="`table` needs `features`"):
        Study(CONFIG, table=table)
    with pytest.raises(InputError, match="no data"):
        Study(CONFIG).fit()


# --------------------------------------------------------------------------- workflow


def test_fit_steps(fitted, data):
    table, features, _ = data
    s = fitted
    # ICC: every unreproducible feature (index >= 18) is dropped, the reproducible kept
    kept = set(s.icc_filter_.selected_features_)
    assert all(int(c[-2:]) < 18 for c in kept)
    assert len(kept) == 3 * 18
    assert s.icc_repeat_cases_ == {"reader2": 40, "repeat": 40}
    # one score per ROI, each using only its own ROI's features
    assert set(s.model_.scores) == {"tumor", "peritumoral", "ln"}
    for roi, sc in s.model_.scores.items():
        assert all(f.startswith(f"{roi}__") for f in sc.feature_names_in_)
        nz = sc.coef_[sc.coef_ != 0].index
        assert any(int(f[-2:]) < 3 for f in nz)  # the signal features are found
    comb = s.model_.combined_model
    assert set(comb.predictors_) >= {"tumor_score", "ln_score"}
    assert set(s.model_.clinical_model.predictors_) <= set(CONFIG["clinical"])
    assert 0 < s.model_.settings["cutoff"] < 1
    assert s.data_["nomo_score"].notna().all()


def test_evaluate_tables(fitted):
    t = fitted.results_["tables"]
    perf = t["table3_full"]
    assert set(perf["cohort"]) == {"Training", "Internal", "External"}
    models = set(perf["model"])
    assert {CLINICAL_MODEL, COMBINED_MODEL, "Tumor radiomics score", "LN radiomics score"} <= models
    # thresholds are the training cutoffs, identical in every cohort
    assert perf.groupby("model")["threshold"].nunique().max() == 1
    for cohort in ("Internal", "External"):
        rows = perf[perf.cohort == cohort].set_index("model")
        assert rows.loc[COMBINED_MODEL, "auc"] > rows.loc[CLINICAL_MODEL, "auc"]
    dl = t["delong"]
    assert {"cohort", "model_1", "model_2", "p_value"} <= set(dl.columns)
    assert len(t["hosmer_lemeshow"]) == 3 * 2
    assert t["hosmer_lemeshow"]["p_value"].between(0, 1).all()
    # the note says how many groups formed (df = requested groups - 2, as hoslem.test)
    hl = t["hosmer_lemeshow"]
    assert (hl["df"] == 8).all() and hl["groups"].between(3, 10).all()
    assert hl["note"].str.contains("groups").all()
    assert {"intercept", "slope", "brier"} <= set(t["calibration"].columns)
    assert set(t["nri_idi"]["cohort"]) == {"Training", "Internal", "External"}
    assert set(t["risk_groups"]["group"]) == {"low", "high"}
    assert t["table1"].columns[-2:].tolist() == ["p", "test"]
    assert "Training (n=130)" in t["table1"].columns
    assert "ALN, n (%)" in t["table1"].index
    t2 = t["table2"]
    assert {"Univariate OR (95% CI)", "Multivariable OR (95% CI)"} <= set(t2.columns)
    assert (t2["predictor"] == "tumor_score").any()
    dca = t["decision_curves"]
    assert set(dca["cohort"]) == {"Training", "Internal", "External"}


# --------------------------------------------------------------------------- the report's tables
# issue 15: what a reader sees is text with readable headers and a note; the tidy tables stay

_TIDY_HEADERS = {"ci_low", "ci_high", "or_ci_low", "or_ci_high", "p_value", "estimate",
                 "odds_ratio", "statistic", "groups", "n_events", "model_1", "auc_1", "r2"}
_RAW_NAMES = ("size_mm", "us_aln", "tumor_score", "peritumoral_score", "ln_score", "or_ci_low",
              "aln_metastasis", "`aln`")  # fmt: skip


def _report_tables(study):
    for sec in study.report_content()["sections"]:
        for caption, item in (sec.get("tables") or {}).items():
            yield sec["title"], caption, item


@pytest.fixture(scope="module")
def labelled(data):
    """The study with a data dictionary (age per 10 years) and Holm-adjusted DeLong p-values."""
    table, features, repeats = data
    cfg = CONFIG | {
        "variables": {"age": {"label": "Age", "unit": "years", "per": 10},
                      "us_aln": {"label": "Suspicious ALN on US", "levels": {"no": "No",
                                                                             "yes": "Yes"}},
                      "aln": {"label": "ALN metastasis"}},
        "nomogram": {"p_adjust": "holm"},
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Study(cfg, table=table, features=features, repeats=repeats).fit().evaluate()


def test_report_tables_are_text_with_readable_headers_and_a_note(fitted):
    import re

    from radiomics_aln.report import render_html

    seen = 0
    for title, caption, item in _report_tables(fitted):
        assert isinstance(item, tuple) and len(item) == 2, (title, caption)
        df, note = item
        assert note, (title, caption)  # every table says what its numbers are
        assert not _TIDY_HEADERS & set(map(str, df.columns)), (caption, list(df.columns))
        cells = [v for col in df.columns for v in df[col]]
        assert all(isinstance(v, str) for v in cells), caption  # already formatted
        for v in cells:
            assert not re.search(r"\d[eE][-+]?\d", v), (caption, v)  # no 4.694e-16
            assert v not in ("nan", "1.00e+00") and not v.startswith("p = 0"), (caption, v)
        seen += 1
    assert seen >= 12
    html = render_html(fitted.report_content())
    body = re.sub(r'src="data:[^"]*"', "", html)  # figures are not text
    for raw in _RAW_NAMES:
        assert raw not in body, raw
    for td in re.findall(r"<td[^>]*>([^<]*)</td>", body):
        assert not re.search(r"\d[eE][-+]?\d", td), td
    assert "endpoint: ALN" in body and 'class="tablenote"' in body
    # the appendix (every pair of models) is the last section
    assert body.rfind("Appendix. DeLong comparisons of every pair") > body.rfind("Risk groups")


def test_table3_shows_every_wilson_interval_and_the_training_cutoff(fitted):
    from radiomics_aln.formatting import format_estimate_ci

    t = fitted.results_["tables"]
    full = t["table3_full"].set_index(["cohort", "model"])
    text = t["table3"].set_index(["Cohort", "Model"])
    for col, metric in (("SEN (95% CI)", "sensitivity"), ("SPE (95% CI)", "specificity"),
                        ("PPV (95% CI)", "ppv"), ("NPV (95% CI)", "npv"),
                        ("ACC (95% CI)", "accuracy")):  # fmt: skip
        for key, row in full.iterrows():
            want = format_estimate_ci(row[metric], row[f"{metric}_ci_low"],
                                      row[f"{metric}_ci_high"], 3)  # fmt: skip
            assert text.loc[key, col] == want
    comb = fitted.model_.combined_model
    cut = text.xs(COMBINED_MODEL, level="Model")["Cutoff"]
    assert (cut == f"\u2265 {comb.youden_cutoff_:.3f} (\u2265 "
                   f"{comb.youden_points_cutoff_:.1f} points)").all()  # fmt: skip
    caption = "AUC, ACC, SEN, SPE, PPV, NPV with 95% CIs at the training cutoff"
    (_, _, (_, note)), = [x for x in _report_tables(fitted) if x[1] == caption]
    assert "Wilson" in note and "DeLong" in note and "Training cohort" in note
    assert "points" in note


def test_delong_primary_comparisons_and_the_appendix(fitted):
    t = fitted.results_["tables"]
    dl, every = t["delong"], t["delong_all"]
    assert (dl["model_1"] == COMBINED_MODEL).all()  # the comparisons the user guide names
    assert dl.groupby("cohort").size().tolist() == [4, 4, 4]
    assert every.groupby("cohort").size().tolist() == [10, 10, 10]
    np.testing.assert_allclose(dl["estimate"], dl["auc_1"] - dl["auc_2"])
    assert (dl["p_adjust_method"] == "none").all() and (dl["p_adjusted"] == dl["p_value"]).all()
    # each primary comparison is the appendix's test of the same pair, sign reversed
    pair = every[(every.model_1 == CLINICAL_MODEL) & (every.model_2 == COMBINED_MODEL)]
    prim = dl[dl.model_2 == CLINICAL_MODEL]
    np.testing.assert_allclose(prim["estimate"], -pair["estimate"].to_numpy())
    np.testing.assert_allclose(prim["p_value"], pair["p_value"].to_numpy())
    views = {c: item for _, c, item in _report_tables(fitted)}
    df, note = views["DeLong comparisons: clinical-radiomics model vs each other model"]
    assert "not adjusted" in note and not any("adj." in c for c in df.columns)


def test_holm_adjusted_delong_and_odds_ratios_per_10_years(labelled):
    from radiomics_aln.performance import p_adjust
    from radiomics_aln.univariate import univariate_logistic

    t = labelled.results_["tables"]
    for name, size in (("delong", 4), ("delong_all", 10)):
        tab = t[name]
        assert (tab["p_adjust_method"] == "holm").all()
        for _, sub in tab.groupby("cohort"):  # one family per cohort
            assert len(sub) == size
            np.testing.assert_allclose(sub["p_adjusted"], p_adjust(sub["p_value"], "holm"))
    views = {c: item for _, c, item in _report_tables(labelled)}
    df, note = views["DeLong comparisons: clinical-radiomics model vs each other model"]
    assert "p (adj., Holm)" in df.columns and "Holm-adjusted" in note and "4 comparisons" in note
    methods = json.dumps(labelled.methods_text())
    assert "Holm's method" in methods and "Wilson" in methods
    # per 10 years: exp(10 beta), the OR of a refit with age / 10 (p unchanged)
    t2 = t["table2"].set_index("predictor")
    uni = labelled.univariate_.set_index("predictor")
    beta = uni.loc["age", "beta"]
    assert t2.loc["age", "per"] == 10 and t2.loc["age", "label"] == "Age, per 10 years"
    np.testing.assert_allclose(t2.loc["age", "univariate_or"], np.exp(10 * beta), rtol=1e-12)
    train = labelled.data_[labelled.data_["cohort"] == "train"]
    refit = univariate_logistic(train.assign(age=train["age"] / 10), "aln", ["age"]).iloc[0]
    np.testing.assert_allclose(
        t2.loc["age", ["univariate_or", "univariate_ci_low", "univariate_ci_high", "univariate_p"]]
        .to_numpy(dtype=float),
        [refit["odds_ratio"], refit["or_ci_low"], refit["or_ci_high"], refit["p_value"]],
        rtol=1e-8,
    )
    clin = labelled.model_.clinical_model.summary.set_index("predictor")
    np.testing.assert_allclose(t2.loc["age", "clinical_or"],
                               clin.loc["age", "odds_ratio"] ** 10, rtol=1e-12)  # fmt: skip
    df, note = views["Odds ratios"]
    assert "Age, per 10 years" in df["Predictor"].tolist()
    assert "Suspicious ALN on US: Yes vs No" in df["Predictor"].tolist()
    assert "per 10 years" in note
    model_view, _ = views["Clinical model"]
    row = model_view.set_index("Term").loc["Age (years)"]
    assert row["OR per"] == "10 years"
    assert row["OR (95% CI)"].startswith(f"{clin.loc['age', 'odds_ratio'] ** 10:.2f} (")
    assert "ALN metastasis, n (%)" in t["table1"].index
    assert labelled.report_content()["subtitle"].endswith("endpoint: ALN metastasis")


def test_evaluate_tests_calibration_once_per_model_and_cohort(fitted, monkeypatch):
    # The table and the calibration figure share one Hosmer-Lemeshow test per cohort and model,
    # so a warning it raises appears once, not twice.
    from radiomics_aln import calibration

    calls = []
    original = calibration.hosmer_lemeshow

    def counting(y, p, *, n_groups=10, **kwargs):
        calls.append(len(y))
        return original(y, p, n_groups=n_groups, **kwargs)

    monkeypatch.setattr(calibration, "hosmer_lemeshow", counting)
    before = fitted.results_["tables"]["hosmer_lemeshow"]
    fitted.evaluate()
    after = fitted.results_["tables"]["hosmer_lemeshow"]
    assert len(calls) == 3 * 2  # 3 cohorts x (clinical, clinical-radiomics)
    pd.testing.assert_frame_equal(before, after)
    assert "calibration" in fitted.results_["figures"]


def test_methods_text_reflects_settings(fitted):
    m = fitted.methods_text()
    text = json.dumps(m)
    assert "n = 130" in text and "Training" in text
    assert "Kept 54 of 72 features, dropped 18" in text
    assert "5 mm peritumoral ring" in text
    assert "Youden cutoff" in text
    assert "logit(p) =" in text
    assert "Hosmer-Lemeshow test with 10 requested groups" in text and "note says" in text


def test_minimum_sample_size_is_checked_for_every_candidate_parameter(fitted, data):
    # 4 clinical candidates (age, size: 1 each; margin, us_aln: 2 levels -> 1 each) and 3
    # scores = 7 candidate parameters, whatever the screen kept (Riley et al. 2020).
    res = fitted.sample_size_
    assert res.parameters == 7
    train = fitted.data_[fitted.data_["cohort"] == "train"]
    assert res.prevalence == pytest.approx(train["aln"].mean())
    assert "Nagelkerke R-squared 0.15" in res.r2_source
    sentence = res.check(130, what="the training cohort")
    assert sentence in fitted.notes_
    assert "The training cohort (130 patients) is below the minimum" in json.dumps(
        fitted.methods_text()
    )
    table, features, repeats = data
    cfg = {**CONFIG, "nomogram": {"sample_size": {"c_statistic": 0.9}}}
    with pytest.warns(SmallSampleWarning, match="The training cohort .* is below the minimum"):
        study = Study(cfg, table=table, features=features, repeats=repeats).fit()
    assert "C-statistic of 0.9" in study.sample_size_.r2_source


@pytest.mark.slow
def test_save_and_predict_from_json(fitted, tmp_path, data):
    table, features, _ = data
    out = fitted.save(tmp_path / "study")
    assert (out / "model.json").is_file() and (out / "report.html").is_file()
    assert (out / "tables" / "table3.csv").is_file()
    assert (out / "figures" / "nomogram.png").is_file()
    assert (out / "figures" / "nomogram.svg").is_file()
    html = (out / "report.html").read_text()
    assert "<script" not in html and html.count("data:image/png;base64,") >= 10
    model = StudyModel.from_json(out / "model.json")
    new = table[table.cohort == "external"]
    pred = model.predict(features.loc[new.index], clinical=new)
    np.testing.assert_allclose(pred["probability"], fitted.data_.loc[new.index, "probability"])
    np.testing.assert_allclose(pred["nomo_score"], fitted.data_.loc[new.index, "nomo_score"])
    assert set(pred["risk_group"]) <= {"low", "high"}
    same = fitted.predict(features.loc[new.index], clinical=new)
    pd.testing.assert_frame_equal(pred, same)
    with pytest.raises(InputError, match="lack .* column"):
        model.predict(features.loc[new.index].iloc[:, :5], clinical=new)


@pytest.mark.filterwarnings("ignore:the LASSO kept no feature:radiomics_aln.exceptions.StatisticalWarning")
def test_no_leakage_from_test_cohorts(data, fitted):
    """Replacing every test-cohort outcome (and feature) changes nothing that fit() produced."""
    table, features, repeats = data
    test_ids = table.index[table.cohort != "train"]
    flipped = table.copy()
    flipped.loc[test_ids, "aln"] = 1 - flipped.loc[test_ids, "aln"]
    a = Study(CONFIG, table=flipped, features=features, repeats=repeats).fit()
    assert a.fitted_state() == fitted.fitted_state()
    scrambled = features.copy()
    rng = np.random.default_rng(0)
    scrambled.loc[test_ids] = rng.normal(size=(len(test_ids), features.shape[1])) * 100
    b = Study(CONFIG, table=table, features=scrambled, repeats=repeats).fit()
    assert b.fitted_state() == fitted.fitted_state()
    # sanity: the check can fail -- changing a training outcome changes the fit
    changed = table.copy()
    changed.loc[table.index[:10], "aln"] = 1 - changed.loc[table.index[:10], "aln"]
    c = Study(CONFIG, table=changed, features=features, repeats=repeats).fit()
    assert c.fitted_state() != fitted.fitted_state()


def test_repeats_of_test_cases_are_ignored(data, fitted):
    table, features, repeats = data
    ext = table.index[table.cohort == "external"][:10]
    extra = {k: pd.concat([v, features.loc[ext] * 5]) for k, v in repeats.items()}
    s = Study(CONFIG, table=table, features=features, repeats=extra).fit()
    assert s.fitted_state() == fitted.fitted_state()
    assert s.icc_repeat_cases_ == {"reader2": 40, "repeat": 40}


def test_deterministic(data, fitted):
    table, features, repeats = data
    again = Study(CONFIG, table=table, features=features, repeats=repeats).fit()
    assert again.fitted_state() == fitted.fitted_state()


def test_firth_penalty_reaches_the_screen_and_both_models(data, fitted):
    table, features, repeats = data
    cfg = CONFIG | {"nomogram": {"penalty": "firth"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = Study(cfg, table=table, features=features, repeats=repeats).fit()
    for model in (st.model_.clinical_model, st.model_.combined_model):
        assert model.penalty == "firth"
    # the univariate rows are Firth's: same rows, estimates shrunk towards zero
    key = ["predictor", "level"]
    ml = fitted.univariate_.set_index(key)["beta"].dropna()
    pen = st.univariate_.set_index(key)["beta"].dropna()
    assert pen.index.equals(ml.index)
    assert (np.abs(pen) < np.abs(ml)).all()
    methods = " ".join(" ".join(v) for v in st.methods_text().values())
    assert "Firth's penalised likelihood" in methods
    assert "fitted by maximum likelihood" in " ".join(
        " ".join(v) for v in fitted.methods_text().values()
    )


def test_bootstrap_internal_validation_of_the_nomogram(data, fitted):
    table, features, repeats = data
    cfg = CONFIG | {"nomogram": {"n_boot": 8}}
    with pytest.raises(InputError, match="nomogram.n_boot must be a whole number"):
        StudyConfig.from_dict({"nomogram": {"n_boot": -1}})
    assert "bootstrap_validation" not in fitted.results_["tables"]  # off by default
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = Study(cfg, table=table, features=features, repeats=repeats).fit().evaluate()
    t = st.results_["tables"]
    val = t["bootstrap_validation"].set_index("index")
    assert {"auc", "slope", "emax", "brier"} <= set(val.index)
    assert (val["n"] > 0).all()
    # the apparent C-index is the combined model's own training AUC
    perf = fitted.results_["tables"]["table3_full"].set_index(["cohort", "model"])
    assert val.at["auc", "apparent"] == pytest.approx(perf.at[("Training", COMBINED_MODEL), "auc"])
    # the same resamples as a direct call (fit on training only, same seed)
    from radiomics_aln.validation import bootstrap_validate

    train = st.data_[st.data_["cohort"] == "train"]
    direct = bootstrap_validate(st.model_.combined_model, train, "aln", n_boot=8, random_state=0)
    pd.testing.assert_frame_equal(val, direct)
    assert len(t["bootstrap_calibration"]) == 50
    summary = st.results_["summary"]
    assert summary["optimism_corrected_auc"] == val.at["auc", "corrected"]
    methods = " ".join(" ".join(v) for v in st.methods_text().values())
    assert "Harrell's bootstrap with 8 resamples" in methods
    assert f"C-index {val.at['auc', 'corrected']:.3f}" in methods
    content = st.report_content()
    titles = [t for s in content["sections"] for t in s.get("tables", {})]
    assert "Bootstrap internal validation (training cohort)" in titles


def test_unfitted_study_errors():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Study(CONFIG).predict(pd.DataFrame())
    with pytest.raises(NotFittedError):
        Study(CONFIG).save("x")


def test_separating_clinical_factor_is_not_screened(data):
    """A factor that perfectly predicts the training outcome has no finite OR: noted, skipped."""
    table, features, repeats = data
    t = table.copy()
    t["marker"] = np.where(t["aln"] == 1, "pos", "neg")
    cfg = CONFIG | {"clinical": [*CONFIG["clinical"], "marker"]}
    s = Study(cfg, table=t, features=features, repeats=repeats).fit()
    assert "marker" not in s.screened_["clinical"]
    assert any(note.startswith("Marker was not screened: complete or quasi-complete separation")
               for note in s.notes_)  # fmt: skip
    assert "marker" not in s.model_.combined_model.predictors_


def test_cli_predict_from_feature_table(fitted, data, tmp_path, capsys):
    """`radiomics-aln predict model.json features.csv` with the clinical columns in the table."""
    from radiomics_aln.cli import main

    table, features, _ = data
    fitted.model_.to_json(tmp_path / "model.json")
    ext = table.index[table.cohort == "external"]
    frame = features.loc[ext].join(table.loc[ext, ["age", "margin", "us_aln", "size_mm"]])
    frame.to_csv(tmp_path / "new.csv")
    out = tmp_path / "pred.csv"
    assert main(["-q", "predict", str(tmp_path / "model.json"), str(tmp_path / "new.csv"),
                 "--out", str(out)]) == 0  # fmt: skip
    pred = pd.read_csv(out, index_col=0)
    np.testing.assert_allclose(pred["probability"], fitted.data_.loc[ext, "probability"])
    assert f"{len(ext)} patients predicted" in capsys.readouterr().out
    frame.drop(columns="margin").to_csv(tmp_path / "bad.csv")
    assert main(["predict", str(tmp_path / "model.json"), str(tmp_path / "bad.csv")]) == 1
    err = capsys.readouterr().err
    assert "the feature table lacks the clinical column(s) margin" in err
    assert "--clinical manifest.csv" in err


def test_predict_without_clinical_columns_says_how_to_add_them(fitted, data):
    table, features, _ = data
    model = fitted.model_
    need = model.clinical_columns()
    assert need and set(need) <= {"age", "margin", "us_aln", "size_mm"}
    ext = table.index[table.cohort == "external"]
    with pytest.raises(InputError) as exc:
        model.predict(features.loc[ext])
    text = str(exc.value)
    assert f"the feature table lacks the clinical column(s) {', '.join(need)}" in text
    for how in ("clinical=", "--clinical manifest.csv", "features.join(manifest.table["):
        assert how in text


def test_predict_takes_the_clinical_columns_from_a_manifest_alongside(fitted, data, tmp_path):
    """clinical= a CSV with case_id (e.g. the whole cohort's manifest: other rows ignored), a
    Manifest or a DataFrame; matched by case id; unmatched, duplicated or lacking -> errors."""
    from radiomics_aln.manifest import Manifest

    table, features, _ = data
    model = fitted.model_
    ext = table.index[table.cohort == "external"]
    expected = fitted.data_.loc[ext, "probability"].to_numpy()
    csv = tmp_path / "manifest.csv"
    table.sample(frac=1, random_state=0).to_csv(csv)  # every cohort, shuffled rows
    by_path = model.predict(features.loc[ext], clinical=csv)
    np.testing.assert_allclose(by_path["probability"], expected)
    assert list(by_path.index) == list(ext)
    by_manifest = model.predict(features.loc[ext], Manifest([], table, path=csv))
    pd.testing.assert_frame_equal(by_manifest, by_path)
    pd.testing.assert_frame_equal(fitted.predict(features.loc[ext], clinical=str(csv)), by_path)
    # a case without a clinical row
    table.drop(index=ext[:2]).to_csv(csv)
    with pytest.raises(InputError, match=rf"2 of the {len(ext)} case\(s\) to predict have no row "
                       rf"in the clinical table \(file {re.escape(str(csv))}\): {ext[0]}, {ext[1]}"):
        model.predict(features.loc[ext], clinical=csv)
    with pytest.raises(InputError, match=f"no row in the clinical table: {ext[0]}"):
        model.predict(features.loc[ext], clinical=table.drop(index=ext[:1]))
    # a column the models use is missing, a case listed twice, no case_id column
    lacking = model.clinical_columns()[0]
    table.drop(columns=lacking).to_csv(csv)
    with pytest.raises(InputError, match=rf"clinical \(file .*\) lacks the column\(s\) {lacking}"):
        model.predict(features.loc[ext], clinical=csv)
    pd.concat([table, table.iloc[:1]]).to_csv(csv)
    with pytest.raises(InputError, match=f"lists case id\\(s\\) {table.index[0]} twice"):
        model.predict(features.loc[ext], clinical=csv)
    table.reset_index(drop=True).to_csv(csv, index=False)
    with pytest.raises(InputError, match="has no case_id column"):
        model.predict(features.loc[ext], clinical=csv)
    with pytest.raises(InputError, match="does not exist"):
        model.predict(features.loc[ext], clinical=tmp_path / "nope.csv")


def test_cli_predict_with_clinical_from_the_manifest(fitted, data, tmp_path, capsys):
    from radiomics_aln.cli import main

    table, features, _ = data
    fitted.model_.to_json(tmp_path / "model.json")
    ext = table.index[table.cohort == "external"]
    features.loc[ext].to_csv(tmp_path / "features.csv")
    table.to_csv(tmp_path / "manifest.csv")
    for option in ("--clinical", "--manifest"):
        out = tmp_path / f"pred{option}.csv"
        assert main(["-q", "predict", str(tmp_path / "model.json"), str(tmp_path / "features.csv"),
                     option, str(tmp_path / "manifest.csv"), "--out", str(out)]) == 0  # fmt: skip
        pred = pd.read_csv(out, index_col=0)
        np.testing.assert_allclose(pred["probability"], fitted.data_.loc[ext, "probability"])
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "model.json"), str(tmp_path / "features.csv"),
                 "--clinical", str(tmp_path / "nope.csv")]) == 1  # fmt: skip
    assert "nope.csv does not exist" in capsys.readouterr().err


def _load_example(name: str):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.needs_shared
def test_breast_example_manifest(breast_dir, tmp_path):
    """The BrEaST-Lesions-USG example: 252 lesions, stratified 70/30, BI-RADS never a predictor."""
    ex = _load_example("breast_lesions_study")
    path = ex.build_manifest(tmp_path)
    from radiomics_aln.manifest import read_manifest

    m = read_manifest(path, outcome="malignant")
    t = m.table
    assert len(t) == 252
    counts = t.groupby("cohort")["malignant"].agg(["size", "sum"])
    assert counts.loc["test", "size"] == 75 and counts.loc["train", "size"] == 177
    rate = counts["sum"] / counts["size"]
    assert abs(rate["test"] - rate["train"]) < 0.02  # stratified by class
    cfg = ex.config(path, tmp_path / "cache")
    banned = {c.lower() for c in ex.EXCLUDED}
    assert not banned & {c.lower() for c in cfg.clinical}
    assert not banned & {c.lower() for c in t.columns}
    assert cfg.roi_list() == ["tumor", "peritumoral"] and not cfg.icc.enabled
    assert t["age"].notna().all()


# --------------------------------------------------------------------------- report figures


def test_report_figures_are_numbered_with_captions_in_report_order(fitted):
    from radiomics_aln.study_outputs import report_content

    content = report_content(fitted)
    captions = [cap for sec in content["sections"] for cap in (sec.get("figures") or {})]
    assert len(captions) == len(fitted.results_["figures"]) == 14
    for k, cap in enumerate(captions, 1):
        assert cap.startswith(f"Figure {k}. "), cap
        title, _, explanation = cap.partition(". ")[2].partition(". ")
        assert title and len(explanation) > 40, cap  # a title and what the marks are
    text = dict(zip(fitted.results_["figures"], captions, strict=False))
    cal = next(c for c in captions if "Calibration of" in c)
    assert "decile of predicted risk" in cal and "lowess smoother" in cal
    assert "bias-corrected" not in cal  # no bootstrap in this study: none drawn, none named
    assert "distribution of the predicted risks" in cal
    dca = next(c for c in captions if c.split(". ")[1].startswith("Decision curves in each"))
    appendix = next(c for c in captions if "every threshold probability computed" in c
                    and "Decision" in c)  # fmt: skip
    assert f"{appendix.split('.')[0]} shows every threshold" in dca  # resolved reference
    assert "0.05 to 0.6" in dca
    assert text["roc_train"].startswith("Figure 1. ROC curves, Training cohort")
    nomo = next(c for c in captions if "Nomogram of" in c)
    assert "Total Points" in nomo and "0.02" in nomo and "0.98" in nomo


def test_report_figures_same_model_same_colour_and_legends_outside(fitted):
    from matplotlib.colors import to_hex

    figs = fitted.results_["figures"]

    def colours(fig):
        out = {}
        for ax in fig.axes:
            for line in ax.get_lines():
                name = line.get_label().split("\n")[0].split(":")[0]
                if not name.startswith("_"):
                    out.setdefault(name, to_hex(line.get_color()))
        return out

    roc, dca = colours(figs["roc_internal"]), colours(figs["decision"])
    for model in (CLINICAL_MODEL, COMBINED_MODEL):
        assert roc[model] == dca[model], model
    assert roc[COMBINED_MODEL] != roc[CLINICAL_MODEL]
    assert len({roc[m] for m in roc if m not in ("Treat all", "Treat none")}) == len(roc)
    for key in ("roc_train", "calibration", "decision", "clinical_impact", "risk_groups"):
        fig = figs[key]
        fig.canvas.draw()
        legends = [a.get_legend() for a in fig.axes if a.get_legend()] + fig.legends
        assert legends, key
        panels = [a for a in fig.axes if a.axison]
        for leg in legends:
            box = leg.get_window_extent()
            for ax in panels:
                assert not box.overlaps(ax.get_window_extent()), key


def test_report_calibration_and_decision_grids(fitted):
    from matplotlib.collections import LineCollection

    figs = fitted.results_["figures"]
    cal = figs["calibration"]
    panels = [a for a in cal.axes if a.axison]
    assert len(panels) == 3 and cal.get_size_inches()[0] == pytest.approx(10)
    for ax in panels:  # the spike histogram of predicted risks under each curve
        spikes = [s for c in ax.collections if isinstance(c, LineCollection)
                  for s in c.get_segments() if s[:, 1].max() < 0]  # fmt: skip
        assert len(spikes) >= 10
    lows = {round(a.get_position().x0, 2) for a in panels}
    assert len(lows) == 2  # two columns
    dca, full = figs["decision"], figs["decision_full"]
    assert [a.get_xlim() for a in dca.axes if a.axison][0] == pytest.approx((0.05, 0.6))
    assert [a.get_xlim() for a in full.axes if a.axison][0] == pytest.approx((0.01, 0.99))
    assert sum(a.axison for a in figs["clinical_impact"].axes if a.get_xlabel()) == 3


def test_report_nomogram_uses_the_data_dictionary(data):
    table, features, repeats = data
    variables = {"margin": {"label": "Tumour margin", "levels": {"smooth": "Smooth",
                                                                "irregular": "Irregular"}},
                 "aln": {"label": "ALN metastasis"}}  # fmt: skip
    s = Study(CONFIG | {"variables": variables}, table=table, features=features,
              repeats=repeats).fit()  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s.evaluate()
    fig = s.results_["figures"]["nomogram"]
    texts = {t.get_text() for t in fig.axes[0].texts}
    predictors = set(s.model_.combined_model.points_table()["predictor"])
    assert "ln_score" in predictors and "LN radiomics score" in texts
    assert "ln_score" not in texts and "Risk of ALN metastasis" in texts
    if "margin" in predictors:
        assert {"Tumour margin", "Smooth", "Irregular"} <= texts
    assert "risk of ALN metastasis" in fig.get_label()


@pytest.mark.slow
def test_study_report_renders_in_chromium(fitted, tmp_path):
    """The full study report: every figure decodes, no console error (headless Chromium)."""
    from browser import need_chromium, render_in_chromium

    need_chromium()
    path = fitted.report(tmp_path / "report.html")
    result = render_in_chromium(path)
    assert len(result["images"]) >= 14  # ROC x3, calibration, nomogram, DCA x3, CIC x3, ...
    assert all(img["complete"] and img["w"] > 0 for img in result["images"])
    assert result["errors"] == []
    html = path.read_text()
    for heading in ("Table 1. Baseline characteristics", "Table 2.", "Table 3. Performance",
                    "Calibration", "Nomogram", "NRI and IDI", "Feature reproducibility (ICC)",
                    "LASSO path and cross-validation", "TRIPOD"):  # fmt: skip
        assert heading in html, heading


def test_overrides_and_config_sources(data, tmp_path):
    table, features, repeats = data
    s = Study(CONFIG, table=table, features=features, n_jobs=2, icc={"threshold": 0.9})
    assert s.config.n_jobs == 2 and s.config.icc.threshold == 0.9
    assert s.config.score.params == {"cv": 5}  # untouched nested settings survive
    path = tmp_path / "study.yaml"
    StudyConfig.from_dict(CONFIG).to_yaml(path)
    assert Study(path).config.outcome == "aln"
    with pytest.raises(InputError, match="expected a .yaml/.yml configuration or a .csv"):
        Study(tmp_path / "study.txt")
    with pytest.raises(InputError, match="does not exist"):
        Study(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("progress", "expected"),
    [(None, None), (print, None), (False, False), ("lines", "lines")],
    ids=["default", "callback", "quiet", "lines"],
)
def test_extraction_progress_bar_follows_the_terminal_unless_quiet(
    tmp_path, monkeypatch, progress, expected
):
    # None lets extraction choose: a bar in a terminal or notebook, progress lines otherwise
    # (a log file); progress=False (the CLI's --quiet) silences it; "lines" forces lines.
    import radiomics_aln.study as study_module
    from radiomics_aln.datasets import make_demo_cohort

    make_demo_cohort(tmp_path / "demo", n_cases=12, random_state=0)
    seen = {}

    class Stop(Exception):
        pass

    def fake_extract(*args, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(study_module, "extract_cohort", fake_extract)
    with pytest.raises(Stop):
        Study(demo_config(tmp_path / "demo" / "manifest.csv"), progress=progress).fit()
    assert seen["progress"] is expected


def test_calibration_row_drops_exact_zero_one_like_val_prob():
    """A separated model's prediction of exactly 1 is dropped from the recalibration, as
    rms::val.prob does (tests/reference/parity.R), never clipped to 1 - 1e-12 first."""
    from radiomics_aln import calibration
    from radiomics_aln.exceptions import StatisticalWarning
    from radiomics_aln.study_outputs import calibration_row

    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, 80)
    y = (rng.random(80) < p).astype(int)
    p[:3] = 1.0
    y[:3] = 0  # confidently wrong: clipping would pull the slope towards 0
    with pytest.warns(StatisticalWarning, match="probability 0 or 1"):
        row = calibration_row(y, p)
        expected = calibration.val_prob(y, p)
    assert row["slope"] == pytest.approx(float(expected["slope"]), rel=1e-12)
    clipped = calibration.val_prob(y, np.clip(p, 1e-12, 1 - 1e-12))
    assert abs(row["slope"] - float(clipped["slope"])) > 1e-3


def test_config_params_yaml_path_is_relative_to_the_config_file(tmp_path, monkeypatch):
    """A settings YAML named in a config is found from any working directory, like the
    manifest; a shipped settings name is left alone."""

    folder = tmp_path / "study"
    (folder / "settings").mkdir(parents=True)
    (folder / "settings" / "mine.yaml").write_text("setting:\n  binWidth: 5\n", encoding="utf-8")
    cfg = StudyConfig(manifest=str(folder / "m.csv"), params=str(folder / "settings" / "mine.yaml"))
    text = cfg.to_yaml(folder / "config.yaml")
    assert "params: settings/mine.yaml" in text
    monkeypatch.chdir(tmp_path)
    back = StudyConfig.from_yaml(folder / "config.yaml")
    assert Path(back.params).resolve() == (folder / "settings" / "mine.yaml").resolve()
    shipped = StudyConfig(params="ultrasound_2d")
    shipped.to_yaml(folder / "c2.yaml")
    assert StudyConfig.from_yaml(folder / "c2.yaml").params == "ultrasound_2d"


def test_study_and_model_display_as_html(fitted, data):
    """Jupyter shows a Study as its settings, cohorts, state and AUCs (issue 15)."""
    from radiomics_aln.model import CLINICAL_MODEL, COMBINED_MODEL

    table, features, repeats = data
    fresh = Study(CONFIG, table=table, features=features, repeats=repeats)._repr_html_()
    assert ">Study</h4>" in fresh and "not fitted" in fresh and "AUC" not in fresh
    text = fitted._repr_html_()
    assert "<b>state</b>: evaluated" in text and "<script" not in text
    assert "Patients analysed" in text and "AUC (95% CI) per cohort" in text
    n_train = int((fitted.data_["cohort"] == "train").sum())
    assert f"<th>Training</th>\n      <td>{n_train}</td>" in text
    perf = fitted.results_["tables"]["table3_full"].set_index(["cohort", "model"])
    for cohort in ("Training", "Internal", "External"):
        row = perf.loc[(cohort, COMBINED_MODEL)]
        assert f"{row.auc:.3f} ({row.auc_ci_low:.3f}-{row.auc_ci_high:.3f})" in text
    model_html = fitted.model_._repr_html_()
    assert ">StudyModel</h4>" in model_html
    assert f"{COMBINED_MODEL} coefficients" in model_html
    assert f"{CLINICAL_MODEL} coefficients" in model_html
    for predictor in fitted.model_.combined_model.predictors_:
        assert predictor in model_html
