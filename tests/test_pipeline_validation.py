"""Tests of radiomics_aln.pipeline_validation: validation of the whole pipeline of a Study.

The held-fixed mode is pinned to rms::validate (tests/reference/validate.R, the resamples R
drew) and to bootstrap_validate; the whole-pipeline mode is tested for what makes it honest:
a resample's fit sees only its own rows, results do not depend on n_jobs, a run resumes from
its cache, and failures are counted.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from radiomics_aln import pipeline_validation as pv
from radiomics_aln.config import StudyConfig
from radiomics_aln.exceptions import (
    ConvergenceError,
    InputError,
    SmallSampleWarning,
    StatisticalWarning,
)
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.pipeline_validation import PipelineValidation, validate_pipeline
from radiomics_aln.study import Study
from radiomics_aln.validation import bootstrap_validate

REF = Path(__file__).parent / "reference"

pytestmark = pytest.mark.filterwarnings(
    "ignore:events per variable:radiomics_aln.exceptions.SmallSampleWarning"
)

ROWS = ["auc", "slope", "intercept", "brier"]


def _tiny(seed: int = 11, n_train: int = 90, n_test: int = 30):
    """A small study: two ROIs of 8 features (2 informative, 6 reproducible), two clinical
    factors, repeat readings of 24 training cases."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    ids = pd.Index([f"C{i:03d}" for i in range(n)], name="case_id")
    h = {roi: rng.normal(size=n) for roi in ("tumor", "ln")}
    age = rng.normal(55, 10, n).round(0)
    margin = np.where(rng.random(n) < 0.4, "irregular", "smooth")
    lp = -0.3 + 1.6 * h["tumor"] + 1.8 * h["ln"] + 0.7 * (margin == "irregular")
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    table = pd.DataFrame(
        {"cohort": ["train"] * n_train + ["test"] * n_test, "aln": y, "age": age,
         "margin": margin},
        index=ids,
    )  # fmt: skip
    cols, blocks = [], []
    for roi in ("tumor", "ln"):
        for j in range(8):
            cols.append(f"{roi}__original_glcm_F{j}")
            blocks.append((h[roi] if j < 2 else 0.0) + rng.normal(scale=0.5, size=n))
    features = pd.DataFrame(np.column_stack(blocks), index=ids, columns=cols)
    noise = np.array([0.1 if int(c[-1]) < 6 else 1.5 for c in cols])
    rep = ids[:24]
    repeats = {r: features.loc[rep] + rng.normal(size=(24, len(cols))) * noise
               for r in ("reader2", "repeat")}  # fmt: skip
    return table, features, repeats


CONFIG = {
    "outcome": "aln",
    "rois": ["tumor", "ln"],
    "clinical": ["age", "margin"],
    "categorical": {"margin": ["smooth", "irregular"]},
    "score": {"params": {"cv": 3, "nlambda": 30}},
}


@pytest.fixture(scope="module")
def tiny():
    return _tiny()


@pytest.fixture(scope="module")
def study(tiny):
    table, features, repeats = tiny
    return Study(CONFIG, table=table, features=features, repeats=repeats, progress=False).fit()


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return func(*args, **kwargs)


# --------------------------------------------------------------------------- held fixed = rms


def test_held_fixed_equals_rms_validate_on_the_resamples_r_drew(birthwt):
    """rms::validate(lrm(low ~ age + lwt + race + smoke + ptl + ht + ui), B = 40) with R's
    resamples (tests/reference/validate.R): the held-fixed engine refits the nomogram as rms."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        model = LogisticNomogram(reference_levels={"race": "white"}).fit(
            birthwt, "low", ["age", "lwt", "race", "smoke", "ptl", "ht", "ui"]
        )
    rows = pd.read_csv(REF / "validate_indices.csv")
    idx = np.stack([g["row"].to_numpy() - 1 for _, g in rows.groupby("resample", sort=True)])
    y = birthwt["low"].to_numpy()
    spec = pv._Spec(None, None, birthwt, birthwt, {}, y, False, False, model, birthwt)
    everyone = np.arange(len(y))
    plan = [(i, everyone) for i in idx]
    results = [pv._run_unit(u, spec, plan, None) for u in range(len(plan))]
    apparent = pv.validation_indexes(model.decision_function(birthwt), y, evalfit=True)
    ours, failures = pv._summarise(results, apparent, "bootstrap")
    assert failures.empty
    rms = pd.read_csv(REF / "validate_rms.csv").set_index("index")
    rms = rms.rename(index={"Dxy": "dxy", "Slope": "slope", "Intercept": "intercept", "B": "brier"})
    cols = {"index.orig": "apparent", "training": "training", "test": "test",
            "optimism": "optimism", "index.corrected": "corrected"}  # fmt: skip
    for index in ["dxy", "slope", "intercept", "brier"]:
        for theirs, mine in cols.items():
            assert ours.at[index, mine] == pytest.approx(rms.at[index, theirs], rel=5e-7,
                                                         abs=1e-9), (index, mine)  # fmt: skip
    assert (ours["n"] == 40).all()


def test_held_fixed_equals_bootstrap_validate(study):
    train = study.data_[study.data_["cohort"] == "train"]
    res = _quiet(validate_pipeline, study, whole_pipeline=False, n_boot=12, random_state=5,
                 progress=False)  # fmt: skip
    ref = _quiet(bootstrap_validate, study.model_.combined_model, train, "aln", n_boot=12,
                 random_state=5, progress=False)  # fmt: skip
    pd.testing.assert_frame_equal(res.summary, ref.loc[res.summary.index, res.summary.columns],
                                  check_dtype=False)  # fmt: skip
    assert set(res.selection["step"]) == {"combined_model"}


# --------------------------------------------------------------------------- whole pipeline


def test_whole_pipeline_result_and_determinism_across_n_jobs(study):
    a = _quiet(validate_pipeline, study, n_boot=3, random_state=1, n_jobs=1, progress=False)
    b = _quiet(validate_pipeline, study, n_boot=3, random_state=1, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.selection, b.selection)
    assert isinstance(a, PipelineValidation) and a.n_units == 3
    assert list(a.summary.columns) == ["apparent", "training", "test", "optimism", "corrected",
                                       "n"]  # fmt: skip
    s = a.summary
    assert_allclose(s["optimism"], s["training"] - s["test"])
    assert_allclose(s["corrected"], s["apparent"] - s["optimism"])
    # the apparent values are the study's own model on its training cohort
    train = study.data_[study.data_["cohort"] == "train"]
    p = study.model_.combined_model.predict_proba(train)[:, 1]
    from sklearn.metrics import roc_auc_score

    assert s.at["auc", "apparent"] == pytest.approx(roc_auc_score(train["aln"], p))
    assert s.at["slope", "apparent"] == 1.0 and s.at["slope", "training"] == 1.0
    sel = a.selection
    assert list(sel.columns) == ["step", "roi", "variable", "n_selected", "n_fits", "frequency",
                                 "in_final_model"]  # fmt: skip
    assert {"combined_model", "clinical_model", "lasso"} <= set(sel["step"])
    assert sel["frequency"].between(0, 1).all()
    assert (sel["n_fits"] == 3 - a.n_failed).all()
    # what the study's own fit selected is in the table
    final = sel[sel["in_final_model"] & (sel["step"] == "combined_model")]["variable"]
    assert set(final) == set(map(str, study.model_.combined_model.predictors_))
    ax = a.plot()
    assert len(ax.patches) == len(sel)
    c = _quiet(validate_pipeline, study, n_boot=3, random_state=2, progress=False)
    assert not c.summary.equals(a.summary)


def test_a_resample_fit_sees_only_its_own_rows(study, tiny):
    """Poison every out-of-bag case (features, outcome, repeat readings): the resample's fit
    and its predictions for the in-bag cases do not change; poisoning an in-bag case does."""
    spec = pv._spec(study, True, True)
    rows = pv._plan("bootstrap", spec.y, 1, 5, 1, np.random.default_rng(4))[0][0]
    out = np.setdiff1d(np.arange(spec.y.size), rows)
    assert out.size > 20
    seen = []

    class Recording(Study):
        def fit(self):
            seen.append(set(self._table.index) | set(self._features.index)
                        | {i for r in self._repeats.values() for i in r.index})  # fmt: skip
            return super().fit()

    spec.study_class = Recording
    lp, sel = pv.refit_whole(spec, rows)
    ids = {str(i).split("#")[0] for i in seen[0]}
    assert ids == set(spec.table.index[np.unique(rows)])

    def poisoned(where, everything=True):
        bad = pv._spec(study, True, True)
        bad.study_class = Recording
        cases = bad.table.index[where]
        rng = np.random.default_rng(0)
        bad.table = bad.table.copy()
        bad.table.loc[cases, "aln"] = 1 - bad.table.loc[cases, "aln"]
        bad.y = bad.table["aln"].to_numpy()
        if not everything:
            return bad
        bad.features = bad.features.copy()
        bad.features.loc[cases] = rng.normal(size=(len(cases), bad.features.shape[1])) * 50
        bad.table.loc[cases, "age"] = 99.0
        bad.repeats = {k: v.copy() for k, v in bad.repeats.items()}
        for v in bad.repeats.values():
            hit = v.index.intersection(cases)
            v.loc[hit] = rng.normal(size=(len(hit), v.shape[1])) * 50
        return bad

    lp_bad, sel_bad = pv.refit_whole(poisoned(out), rows)
    assert sel_bad == sel
    assert_allclose(lp_bad(rows), lp(rows), rtol=0, atol=0)
    # the control: flipping the outcome of a few in-bag cases changes the fit
    try:
        lp_in, sel_in = pv.refit_whole(poisoned(rows[:6], everything=False), rows)
        changed = sel_in != sel or not np.allclose(lp_in(rows), lp(rows))
    except (pv._Failure, ConvergenceError):  # the refit failed: that is a change too
        changed = True
    assert changed


def test_lasso_folds_keep_the_copies_of_a_case_together(study, tiny):
    spec = pv._spec(study, True, True)
    rows = pv._plan("bootstrap", spec.y, 1, 5, 1, np.random.default_rng(0))[0][0]
    table, _, _ = pv._subset(spec, rows)
    groups = pd.Series(spec.table.index[rows], index=table.index)
    holder = type("S", (), {"config": study.config, "case_groups": groups})()
    folds = pv.lasso_folds(holder, table["aln"])
    assert set(folds) == {1, 2, 3}
    per_case = pd.Series(folds).groupby(groups.to_numpy()).nunique()
    assert (per_case == 1).all()
    holder.case_groups = None
    assert pv.lasso_folds(holder, table["aln"]) is None


def test_resume_from_the_cache(study, tmp_path, monkeypatch):
    calls = []
    real = pv.refit_whole

    def counting(spec, rows):
        calls.append(1)
        return real(spec, rows)

    monkeypatch.setattr(pv, "refit_whole", counting)
    first = _quiet(validate_pipeline, study, n_boot=2, random_state=7, cache_dir=tmp_path,
                   progress=False)  # fmt: skip
    assert len(calls) == 2 and len(list(tmp_path.glob("*.json"))) == 2
    # an interrupted run of 3 resamples: the first 2 are read back, only the third is fitted
    more = _quiet(validate_pipeline, study, n_boot=3, random_state=7, cache_dir=tmp_path,
                  progress=False)  # fmt: skip
    assert len(calls) == 3
    fresh = _quiet(validate_pipeline, study, n_boot=3, random_state=7, progress=False)
    pd.testing.assert_frame_equal(more.summary, fresh.summary)
    pd.testing.assert_frame_equal(more.selection, fresh.selection)
    assert len(calls) == 6
    # another seed draws other resamples: its files are not reused
    _quiet(validate_pipeline, study, n_boot=1, random_state=1, cache_dir=tmp_path,
           progress=False)  # fmt: skip
    assert len(calls) == 7
    # a damaged file is refitted, not trusted
    path = sorted(tmp_path.glob("*-000000.json"))[0]
    entry = json.loads(path.read_text())
    path.write_text("{not json")
    again = _quiet(validate_pipeline, study, n_boot=2, random_state=7, cache_dir=tmp_path,
                   progress=False)  # fmt: skip
    assert len(calls) in (8, 9)
    pd.testing.assert_frame_equal(again.summary, first.summary)
    assert entry["format"] == pv.CACHE_FORMAT


def test_failed_resamples_are_counted_and_reported(study, monkeypatch):
    real = pv.refit_whole

    def failing(spec, rows):
        if rows[0] % 2 == 0:
            raise ConvergenceError("separation in this resample")
        return real(spec, rows)

    monkeypatch.setattr(pv, "refit_whole", failing)
    plan = pv._plan("bootstrap", np.zeros(90), 6, 5, 1, np.random.default_rng(3))
    n_bad = sum(p[0][0] % 2 == 0 for p in plan)
    assert 0 < n_bad < 6
    with pytest.warns(StatisticalWarning, match=rf"{n_bad} of 6 resamples failed"):
        res = validate_pipeline(study, n_boot=6, random_state=3, progress=False)
    assert res.n_failed == n_bad
    assert res.failures.to_dict("records") == [{"reason": "no convergence", "n": n_bad}]
    assert (res.summary.loc[ROWS, "n"] == 6 - n_bad).all()
    assert (res.selection["n_fits"] == 6 - n_bad).all()

    def never(spec, rows):
        raise ConvergenceError("no")

    monkeypatch.setattr(pv, "refit_whole", never)
    with pytest.warns(StatisticalWarning), pytest.raises(ConvergenceError, match="every"):
        validate_pipeline(study, n_boot=2, random_state=0, progress=False)


def test_repeated_cross_validation(study):
    spec = pv._spec(study, True, True)
    plan = pv._plan("cv", spec.y, None, 3, 2, np.random.default_rng(0))
    assert len(plan) == 6
    for r in range(2):
        tests = np.concatenate([plan[3 * r + k][1] for k in range(3)])
        assert np.array_equal(np.sort(tests), np.arange(spec.y.size))  # each case once
        for k in range(3):
            train, test = plan[3 * r + k]
            assert np.intersect1d(train, test).size == 0
            events = spec.y[test].sum()
            assert abs(events - spec.y.sum() / 3) <= 1  # stratified
    res = _quiet(validate_pipeline, study, method="cv", n_splits=3, n_repeats=1, random_state=0,
                 progress=False)  # fmt: skip
    s = res.summary
    assert_allclose(s["corrected"], s["test"])
    assert_allclose(s["optimism"], s["apparent"] - s["test"])
    assert res.n_units == 3 and res.settings["n_splits"] == 3
    assert list(s.columns) == ["apparent", "training", "test", "optimism", "corrected", "pooled",
                               "n"]  # fmt: skip
    # pooled: the out-of-fold predictions of the repeat, each case predicted once, measured once
    plan = pv._plan("cv", spec.y, None, 3, 1, np.random.default_rng(0))
    lp = np.empty(spec.y.size)
    for train, test in plan:
        fit, _ = pv.refit_whole(spec, train)
        lp[test] = fit(test)
    expected = pv.validation_indexes(lp, spec.y)
    assert_allclose(s["pooled"], expected, rtol=1e-10)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"method": "jackknife"}, "method"), ({"n_boot": 0}, "n_boot"),
     ({"method": "cv", "n_splits": 1}, "n_splits"), ({"whole_pipeline": "yes"}, "whole_pipeline"),
     ({"n_jobs": 0}, "n_jobs"), ({"method": "cv", "n_splits": 80}, "80 cases of each outcome")],
)  # fmt: skip
def test_bad_options_are_refused(study, kwargs, match):
    with pytest.raises(InputError, match=match):
        validate_pipeline(study, progress=False, **kwargs)


def test_an_unfitted_study_is_refused(tiny):
    table, features, repeats = tiny
    with pytest.raises(InputError, match="fitted Study"):
        validate_pipeline(Study(CONFIG, table=table, features=features), progress=False)


# --------------------------------------------------------------------------- the study


@pytest.mark.parametrize(
    "section, match",
    [({"method": "boot"}, "validation.method"), ({"n_boot": 0}, "validation.n_boot"),
     ({"n_splits": 1}, "validation.n_splits"), ({"whole_pipeline": 1}, "whole_pipeline"),
     ({"nboot": 5}, "unknown key")],
)  # fmt: skip
def test_validation_section_is_checked(section, match):
    with pytest.raises(InputError, match=match):
        StudyConfig.from_dict(CONFIG | {"validation": section})


def test_study_runs_the_validation_section(tiny, tmp_path):
    table, features, repeats = tiny
    cfg = CONFIG | {"validation": {"method": "bootstrap", "n_boot": 2},
                    "nomogram": {"n_boot": 5}, "cache_dir": str(tmp_path / "cache")}  # fmt: skip
    st = Study(cfg, table=table, features=features, repeats=repeats, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        st.fit().evaluate()
    t = st.results_["tables"]
    assert {"pipeline_validation", "selection_frequency"} <= set(t)
    assert t["pipeline_validation"]["method"].eq("bootstrap").all()
    assert "selection_frequency" in st.results_["figures"]
    assert len(list((tmp_path / "cache" / "pipeline_validation").glob("*.json"))) == 2
    text = " ".join(st.methods_text()["Statistics"])
    assert "whole modelling pipeline" in text and "2 resamples" in text
    content = st.report_content()
    sec = [s for s in content["sections"] if s["title"].startswith("Internal validation")]
    assert sec and sec[0]["tables"] and sec[0]["figures"]
    view, note = next(iter(sec[0]["tables"].values()))
    assert "Optimism (scores held fixed)" in view.columns and "C-index (AUC)" in set(view["Measure"])
    import matplotlib.pyplot as plt

    plt.close("all")
    off = Study(CONFIG, table=table, features=features, repeats=repeats, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        off.fit().evaluate()
    assert "pipeline_validation" not in off.results_["tables"]


@pytest.mark.slow
def test_the_example_runs(tmp_path):
    import runpy

    main = runpy.run_path(str(Path(__file__).parents[1] / "examples"
                              / "whole_pipeline_validation.py"))["main"]  # fmt: skip
    out = main(["--out", str(tmp_path), "--n-boot", "3", "--n-jobs", "1"])
    table = pd.read_csv(out / "pipeline_validation.csv", index_col=0)
    assert table.loc["auc", "n"] + 0 <= 3 and (out / "selection_frequency.png").is_file()
    assert len(list((out / "cache").glob("*.json"))) == 3


def test_a_resample_whose_lasso_keeps_nothing_fails_with_that_reason(study):
    """The reason comes from the resample study's state, not from an error message."""
    spec = pv._spec(study, True, True)
    rng = np.random.default_rng(3)  # a permuted outcome whose LASSOs keep nothing
    spec.table = spec.table.assign(aln=rng.permutation(spec.table["aln"].to_numpy()))
    spec.y = spec.table["aln"].to_numpy()
    plan = [(np.arange(spec.y.size), np.arange(spec.y.size))]
    out = pv._run_unit(0, spec, plan, None)
    assert out["failed"] == "every LASSO score constant" and out["selected"] is None
