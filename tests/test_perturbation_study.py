"""Tests of the study's ICC filter without a second reader (``icc.source``, issue 18 part 2).

The workflow tests use synthetic feature tables with given perturbation readings
(``Study(table=, features=, perturbation_readings=)``) so they run in seconds; one test runs the
whole chain on a small generated demo cohort (images -> perturbations -> cached readings).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiomics_aln import _perturbation_study as ps
from radiomics_aln import perturbation as pt
from radiomics_aln.config import StudyConfig
from radiomics_aln.exceptions import InputError
from radiomics_aln.study import Study

pytestmark = pytest.mark.filterwarnings(
    "ignore::radiomics_aln.exceptions.SmallSampleWarning",
    "ignore::radiomics_aln.exceptions.StatisticalWarning",
)

FEATURE_CLASSES = ["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]
ROIS = ("tumor", "peritumoral", "ln")
READER_ROBUST = set(range(18))  # small re-segmentation noise
PERTURBATION_ROBUST = set(range(12)) | {18, 19, 20}  # small perturbation noise


def _synthetic(seed=11, n=220):
    """Cohort, features, reader repeats of 40 training cases, 4 perturbation readings of ALL
    cases (test cases too: the study must ignore them). Feature j of each ROI is robust to the
    readers when j < 18 and to the perturbations when j < 12 or 18 <= j <= 20; features 0-2
    carry the ROI's signal."""
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"P{i:04d}" for i in range(n)], name="case_id")
    cohort = np.array(["train"] * 130 + ["internal"] * 50 + ["external"] * (n - 180))
    latent = {roi: rng.normal(size=n) for roi in ROIS}
    age = rng.normal(55, 10, n).round(0)
    lp = -0.3 + sum(1.4 * h for h in latent.values()) + 0.03 * (age - 55)
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    table = pd.DataFrame({"cohort": cohort, "aln": y, "age": age}, index=ids)
    cols, blocks = [], []
    for roi, h in latent.items():
        for j in range(24):
            cols.append(f"{roi}__original_{FEATURE_CLASSES[j % 6]}_F{j:02d}")
            blocks.append((h if j < 3 else 0.0) + rng.normal(scale=0.8 if j < 3 else 1.0, size=n))
    features = pd.DataFrame(np.column_stack(blocks), index=ids, columns=cols)
    j_of = np.array([int(c[-2:]) for c in cols])
    reader_noise = np.where(np.isin(j_of, list(READER_ROBUST)), 0.1, 1.5)
    repeats = {r: features.iloc[:40] + rng.normal(size=(40, len(cols))) * reader_noise
               for r in ("reader2", "repeat")}  # fmt: skip
    pert_noise = np.where(np.isin(j_of, list(PERTURBATION_ROBUST)), 0.1, 1.5)
    readings = {f"perturbation{i:02d}": features + rng.normal(size=features.shape) * pert_noise
                for i in range(1, 5)}  # fmt: skip
    return table, features, repeats, readings


CONFIG = {"outcome": "aln", "train_cohort": "train", "clinical": ["age"],
          "score": {"params": {"cv": 5}}}  # fmt: skip


def kept_j(study, roi="tumor"):
    return {int(c[-2:]) for c in study.model_.scores[roi].feature_names_in_}


@pytest.fixture(scope="module")
def data():
    return _synthetic()


def fit(data, source, **kw):
    table, features, repeats, readings = data
    cfg = CONFIG | {"icc": {"source": source}}
    return Study(cfg, table=table, features=features, repeats=repeats,
                 perturbation_readings=kw.pop("readings", readings), progress=False, **kw).fit()  # fmt: skip


# --------------------------------------------------------------------------- configuration


def test_config_defaults_and_yaml_round_trip(tmp_path):
    icc = StudyConfig().icc
    assert (icc.source, icc.perturbations, icc.perturbation_cases) == ("readers", 20, 30)
    assert (icc.perturbation_form, icc.perturbation_threshold, icc.perturbation_compare) == (
        "ICC1", 0.90, "estimate")
    assert icc.perturbation_chain == {}
    cfg = StudyConfig.from_dict({"icc": {"source": "both", "perturbations": 10,
                                         "perturbation_cases": "all",
                                         "perturbation_chain": {"rotation_deg": 5}}})  # fmt: skip
    cfg.to_yaml(tmp_path / "c.yaml")
    back = StudyConfig.from_yaml(tmp_path / "c.yaml")
    assert back.icc == cfg.icc
    assert ps.chain_of(back.icc) == pt.PerturbationChain(rotation_deg=5.0)
    assert ps.icc_fact(back.icc) == ("ICC2 >= 0.8 (readers) and ICC1 >= 0.9 across 10 "
                                     "perturbations")  # fmt: skip
    assert ps.icc_fact(StudyConfig().icc) == "ICC2 >= 0.8"


@pytest.mark.parametrize(
    ("icc", "match"),
    [
        ({"source": "second_reader"}, "icc.source must be one of"),
        ({"perturbations": 1}, "icc.perturbations must be a whole number >= 2"),
        ({"perturbations": 4}, "image_variants=5 is larger than n_perturbations=4"),
        ({"perturbation_cases": 1}, "icc.perturbation_cases must be"),
        ({"perturbation_cases": "some"}, "icc.perturbation_cases must be"),
        ({"perturbation_chain": {"rotation": 5}}, r"unknown key\(s\) \['rotation'\]"),
        ({"perturbation_chain": {"volume_mm": -1}}, "perturbation_chain: .*volume_mm"),
        ({"perturbation_chain": [1]}, "perturbation_chain must be a mapping"),
        ({"perturbation_threshold": 1.5}, r"perturbation_threshold must be in \(0, 1\]"),
        ({"perturbation_threshold": "high"}, "perturbation_threshold must be a number in"),
        ({"perturbation_compare": "mean"}, "perturbation_compare must be"),
        ({"threshold": 0}, r"icc.threshold must be in \(0, 1\]"),
    ],
)
def test_bad_icc_settings_are_refused(icc, match):
    with pytest.raises(InputError, match=match):
        StudyConfig.from_dict({"icc": icc})


def test_perturbed_cases_are_a_seeded_draw_of_training_cases():
    icc = StudyConfig().icc
    train = [f"T{i:03d}" for i in range(80)]
    a = ps.perturbation_case_ids(icc, train, 0)
    assert len(a) == 30 and set(a) <= set(train) and a == sorted(a)
    assert a == ps.perturbation_case_ids(icc, train[::-1], 0)  # not the order
    assert a != ps.perturbation_case_ids(icc, train, 1)  # the seed
    assert ps.perturbation_case_ids(icc, train[:20], 0) == train[:20]  # fewer: all
    icc.perturbation_cases = "all"
    assert ps.perturbation_case_ids(icc, train, 0) == train


# --------------------------------------------------------------------------- the filter


def test_source_readers_is_unchanged(data):
    table, features, repeats, _ = data
    plain = Study(CONFIG, table=table, features=features, repeats=repeats, progress=False).fit()
    st = fit(data, "readers")
    assert st.fitted_state() == plain.fitted_state()
    assert st.perturbation_filter_ is None
    assert kept_j(st) == READER_ROBUST


def test_source_perturbation_is_icc1_090_across_perturbations_of_training_cases(data):
    st = fit(data, "perturbation")
    filt = st.icc_filter_
    assert filt is st.perturbation_filter_
    assert (filt.form, filt.threshold, filt.comparisons_) == ("ICC1", 0.90, ["perturbation"])
    for roi in ROIS:
        assert kept_j(st, roi) == PERTURBATION_ROBUST  # the readers are not asked
    # training cases only, although the readings hold every cohort
    train = set(data[0].index[data[0].cohort == "train"])
    assert set(st.perturbation_cases_) == train
    assert all(set(v.index) == train for v in st.perturbation_readings_.values())
    # ICC(1,1) of Shrout & Fleiss (1979) from the one-way ANOVA of the training rows:
    # (MSB - MSW) / (MSB + (k - 1) MSW), k = 4 perturbations
    for col in ("tumor__original_gldm_F16", "ln__original_firstorder_F00"):
        x = np.column_stack([v.loc[sorted(train), col] for v in data[3].values()])
        n, k = x.shape
        msb = k * ((x.mean(axis=1) - x.mean()) ** 2).sum() / (n - 1)
        msw = ((x - x.mean(axis=1, keepdims=True)) ** 2).sum() / (n * (k - 1))
        got = filt.icc_.loc[filt.icc_["feature"] == col, "estimate"].iloc[0]
        assert got == pytest.approx((msb - msw) / (msb + (k - 1) * msw), rel=1e-10)
    tables = st.evaluate().results_["tables"]
    assert "icc" in tables and "icc_perturbation" not in tables
    text = " ".join(st.methods_text()["Reproducibility (ICC)"])
    for words in ("icc.source 'perturbation'", "all 130 training cases", "perturbed 4 times",
                  "ICC1 (one-way random effects", ">= 0.9", "chain: rotation_deg 15.0",
                  "No test-cohort case was perturbed"):  # fmt: skip
        assert words in text


def test_source_both_keeps_the_features_passing_both(data):
    st = fit(data, "both")
    assert st.icc_filter_.form == "ICC2" and st.perturbation_filter_.form == "ICC1"
    assert kept_j(st) == READER_ROBUST & PERTURBATION_ROBUST
    tables = st.evaluate().results_["tables"]
    assert set(tables["icc"]["comparison"]) == {"inter", "intra"}
    assert set(tables["icc_perturbation"]["comparison"]) == {"perturbation"}
    text = st.methods_text()["Reproducibility (ICC)"]
    assert "icc.source 'both'" in text[0] and any("ICC2" in t for t in text)
    # the fitted state records both filters' selections (the leakage tests compare it)
    state = st.fitted_state()
    assert state["perturbation_selected"] == list(st.perturbation_filter_.selected_features_)
    assert state["icc_selected"] == list(st.icc_filter_.selected_features_)
    assert state["perturbation_selected"] != state["icc_selected"]
    assert fit(data, "readers").fitted_state()["perturbation_selected"] is None


def test_test_cohorts_change_nothing(data):
    """Test-cohort readings scrambled, or the test cohorts removed: the same fit."""
    table, features, repeats, readings = data
    ref = fit(data, "perturbation")
    test_ids = table.index[table.cohort != "train"]
    rng = np.random.default_rng(1)
    scrambled = {k: v.copy() for k, v in readings.items()}
    for v in scrambled.values():
        v.loc[test_ids] = rng.normal(size=(len(test_ids), v.shape[1])) * 100
    assert fit(data, "perturbation", readings=scrambled).fitted_state() == ref.fitted_state()
    train = table.index[table.cohort == "train"]
    alone = Study(CONFIG | {"icc": {"source": "perturbation"}}, table=table.loc[train],
                  features=features.loc[train], repeats=repeats,
                  perturbation_readings={k: v.loc[train] for k, v in readings.items()},
                  progress=False).fit()  # fmt: skip
    assert alone.fitted_state() == ref.fitted_state()
    # sanity: the check can fail -- other TRAINING readings change the fit
    noisy = {k: v.copy() for k, v in readings.items()}
    cols = [c for c in features.columns if int(c[-2:]) in (3, 4, 5)]
    for v in noisy.values():
        v.loc[train, cols] += rng.normal(size=(len(train), len(cols))) * 1.5
    assert fit(data, "perturbation", readings=noisy).fitted_state() != ref.fitted_state()


def test_without_images_or_readings_it_says_how_to_proceed(data):
    table, features, repeats, _ = data
    st = Study(CONFIG | {"icc": {"source": "perturbation"}}, table=table, features=features,
               progress=False)  # fmt: skip
    with pytest.raises(InputError, match="give it a manifest .* or perturbation_readings="):
        st.fit()


def test_no_feature_of_a_roi_passing_names_the_perturbation_threshold(data):
    table, features, repeats, readings = data
    cfg = CONFIG | {"icc": {"source": "perturbation", "perturbation_threshold": 0.9999}}
    with pytest.raises(InputError, match="lower icc.perturbation_threshold"):
        Study(cfg, table=table, features=features, perturbation_readings=readings,
              progress=False).fit()  # fmt: skip


def test_disabled_filter_ignores_the_source(data):
    table, features, repeats, readings = data
    cfg = CONFIG | {"icc": {"source": "perturbation", "enabled": False}}
    st = Study(cfg, table=table, features=features, perturbation_readings=readings,
               progress=False).fit()  # fmt: skip
    assert st.icc_filter_ is None and st.perturbation_filter_ is None
    assert kept_j(st) == set(range(24))


# --------------------------------------------------------------------------- validation


def test_whole_pipeline_validation_refits_on_each_resamples_training_readings(data, monkeypatch):
    import radiomics_aln.study as study_module
    from radiomics_aln.pipeline_validation import validate_pipeline

    st = fit(data, "perturbation")
    seen = []
    real = study_module.filter_perturbation

    def spy(study, X_train, kept):
        out = real(study, X_train, kept)
        seen.append((list(X_train.index), list(study.perturbation_cases_), study.icc_filter_))
        return out

    monkeypatch.setattr(study_module, "filter_perturbation", spy)
    res = validate_pipeline(st, method="cv", n_splits=3, n_repeats=1, random_state=0)
    assert len(seen) == 3
    train = set(data[0].index[data[0].cohort == "train"])
    for rows, cases, filt in seen:
        # a fold's training rows are its perturbed cases: never a held-out or test case
        assert cases == sorted(rows) and len(rows) < len(train)
        assert {c.split("#")[0] for c in cases} <= train
        assert filt.comparisons_ == ["perturbation"]
    assert res.settings["refit_icc"]
    # refit_icc=False keeps the study's kept features: no filter is refitted
    seen.clear()
    validate_pipeline(st, method="cv", n_splits=3, n_repeats=1, random_state=0, refit_icc=False)
    assert all(filt is None for _, _, filt in seen)


# --------------------------------------------------------------------------- from images

PARAMS = {"setting": {"binWidth": 8, "label": 1}, "imageType": {"Original": {}},
          "featureClass": {"firstorder": ["Mean", "Variance", "Skewness"],
                           "shape2D": ["PixelSurface"]}}  # fmt: skip


@pytest.mark.slow
def test_demo_cohort_perturbs_training_cases_only_through_the_cache(tmp_path, monkeypatch):
    from radiomics_aln.config import demo_config
    from radiomics_aln.datasets import make_demo_cohort

    make_demo_cohort(tmp_path / "demo", n_cases=40, random_state=0)
    icc = {"source": "perturbation", "perturbations": 2, "perturbation_cases": 4,
           "perturbation_chain": {"image_variants": 1}, "perturbation_threshold": 0.3}
    cfg = demo_config(tmp_path / "demo" / "manifest.csv", params=PARAMS, readers=None,
                      cache_dir=str(tmp_path / "cache"), icc=icc)  # fmt: skip
    asked = []
    real = pt.perturbation_readings

    def spy(cases, **kw):
        asked.append(([c.case_id for c in cases], kw["rois"]))
        return real(cases, **kw)

    monkeypatch.setattr(pt, "perturbation_readings", spy)
    st = Study(cfg, progress=False).fit()
    cohort = st.data_["cohort"]
    train = set(cohort.index[cohort == "train"])
    (ids, rois), = asked
    assert len(ids) == 4 and set(ids) <= train and ids == st.perturbation_cases_
    assert rois == ("tumor", "peritumoral", "ln")  # every ROI of the study, the LN too
    assert any(c.startswith("ln__") for c in st.icc_filter_.feature_names_in_)
    # the test cohorts removed: the same cases perturbed, the same readings and fit
    monkeypatch.setattr(pt, "execute_masks", lambda *a, **k: pytest.fail("not from the cache"))
    alone = Study(cfg, test_cohorts=[], progress=False).fit()
    assert alone.perturbation_cases_ == st.perturbation_cases_
    for k, v in st.perturbation_readings_.items():
        pd.testing.assert_frame_equal(alone.perturbation_readings_[k], v)
    assert alone.fitted_state()["icc_selected"] == st.fitted_state()["icc_selected"]
