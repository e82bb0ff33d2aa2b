"""Several peritumoral ring widths and shells in one run (issue 18, part 3).

Names that round-trip, shells in mm on several spacings, the cache reusing every entry when a
width is added, the width chosen on training data only (leakage, determinism), and the study's
tables, report section and saved model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from extraction_helpers import make_image, make_mask

from radiomics_aln import extraction as ex
from radiomics_aln.config import StudyConfig
from radiomics_aln.exceptions import InputError
from radiomics_aln.features import (
    check_roi_name,
    feature_name,
    image_of,
    ring_geometry,
    ring_roi_name,
    roi_label,
    shell_roi_name,
    split_feature_name,
)
from radiomics_aln.model import StudyModel
from radiomics_aln.ring import peritumoral_ring, peritumoral_shell
from radiomics_aln.ring_widths import inner_cv_ring_choice, ring_candidates, ring_comparison
from radiomics_aln.study import Study

pytestmark = pytest.mark.filterwarnings(
    "ignore:events per variable:radiomics_aln.exceptions.SmallSampleWarning",
    "ignore:the LASSO kept no feature:radiomics_aln.exceptions.StatisticalWarning",
)

# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("roi", "geometry"),
    [("peritumoral_1mm", (0.0, 1.0)), ("peritumoral_2p5mm", (0.0, 2.5)),
     ("peritumoral_50mm", (0.0, 50.0)), ("shell_0_2mm", (0.0, 2.0)),
     ("shell_2_5mm", (2.0, 5.0)), ("shell_0p5_1p25mm", (0.5, 1.25))],
)  # fmt: skip
def test_ring_names_round_trip(roi, geometry):
    assert ring_geometry(roi) == geometry
    inner, outer = geometry
    assert (shell_roi_name(inner, outer) if roi.startswith("shell_") else ring_roi_name(outer)) == roi
    col = feature_name(roi, "original_glcm_Contrast")
    assert split_feature_name(col) == (roi, "original_glcm_Contrast")
    assert check_roi_name(roi) == roi and image_of(roi) == "tumor"


@pytest.mark.parametrize(
    "roi",
    ["peritumoral_02mm", "peritumoral_2.5mm", "peritumoral_0mm", "peritumoral_51mm",
     "shell_5_2mm", "shell_2_2mm", "peritumoral_2", "shell_0_2", "ring_2mm", "tumour", ""],
)  # fmt: skip
def test_names_that_are_not_rois(roi):
    assert ring_geometry(roi) is None
    with pytest.raises(InputError, match="unknown ROI"):
        check_roi_name(roi)


def test_name_builders_refuse_bad_widths():
    for bad in (0, -1, 51, float("nan"), True, "2"):
        with pytest.raises(InputError, match="ring width"):
            ring_roi_name(bad)
    with pytest.raises(InputError, match="digits"):
        ring_roi_name(1.0000001)
    with pytest.raises(InputError, match="inner_mm < outer_mm"):
        shell_roi_name(3, 2)
    assert roi_label("shell_2_5mm") == "Peritumoral shell 2-5 mm"
    assert ring_candidates([1, 2], [[0, 2]]) == ["peritumoral_1mm", "peritumoral_2mm", "shell_0_2mm"]
    with pytest.raises(InputError, match="listed twice"):
        ring_candidates([2, 2.0])
    with pytest.raises(InputError, match=r"\[inner_mm, outer_mm\]"):
        ring_candidates([], [[1, 2, 3]])


# --------------------------------------------------------------------------- geometry


def _disk(spacing, r_mm=5.0, size_mm=40.0):
    ny, nx = (int(round(size_mm / s)) for s in spacing[::-1])
    yy, xx = np.mgrid[:ny, :nx]
    y_mm, x_mm = (yy + 0.5) * spacing[1], (xx + 0.5) * spacing[0]
    disk = ((x_mm - size_mm / 2) ** 2 + (y_mm - size_mm / 2) ** 2 <= r_mm**2).astype(np.uint8)
    mask = sitk.GetImageFromArray(disk)
    mask.SetSpacing(spacing)
    return mask, disk.astype(bool), (x_mm, y_mm)


@pytest.mark.parametrize("spacing", [(0.1, 0.1), (0.2, 0.2), (0.1, 0.25)])
def test_shell_is_dilation_b_minus_dilation_a_in_mm(spacing):
    mask, disk, (x_mm, y_mm) = _disk(spacing)
    a, b, r = 2.0, 5.0, 5.0
    shell = peritumoral_shell(mask, inner_mm=a, outer_mm=b)
    s = sitk.GetArrayFromImage(shell.mask).astype(bool)
    ring_a = sitk.GetArrayFromImage(peritumoral_ring(mask, width_mm=a)).astype(bool)
    ring_b = sitk.GetArrayFromImage(peritumoral_ring(mask, width_mm=b)).astype(bool)
    assert not (s & disk).any() and not (s & ring_a).any()  # outside tumour and inner ring
    np.testing.assert_array_equal(s | ring_a, ring_b)  # together: the ring of b
    # every shell pixel centre lies in (a, b] mm of the nearest tumour pixel centre
    tx, ty = x_mm[disk], y_mm[disk]
    for x, y in zip(x_mm[s][::37], y_mm[s][::37], strict=True):
        d = np.sqrt((tx - x) ** 2 + (ty - y) ** 2).min()
        assert a < d <= b + 1e-9
    # the area in mm2 approaches the annulus pi((r + b)^2 - (r + a)^2), whatever the spacing
    analytic = np.pi * ((r + b) ** 2 - (r + a) ** 2)
    assert shell.coverage.area == pytest.approx(analytic, rel=0.03)
    assert (shell.coverage.inner_mm, shell.coverage.width_mm, shell.coverage.coverage) == (a, b, 1)
    # a shell from 0 is the ring
    zero = peritumoral_shell(mask, inner_mm=0, outer_mm=b)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(zero.mask).astype(bool), ring_b)


def test_shell_coverage_and_bad_radii():
    mask, _, _ = _disk((0.2, 0.2), r_mm=5.0, size_mm=40.0)
    arr = sitk.GetArrayFromImage(mask)
    edge = sitk.GetImageFromArray(np.roll(arr, 85, axis=1))  # the disk at the right edge
    edge.CopyInformation(mask)
    cov = peritumoral_shell(edge, inner_mm=2, outer_mm=5, min_coverage=None).coverage
    assert 0.3 < cov.coverage < 0.9 and cov.n_pixels < cov.n_pixels_unclipped
    for inner, outer in ((5, 5), (6, 5), (-1, 5), (1, 0), (1, 60)):
        with pytest.raises(InputError):
            peritumoral_shell(mask, inner_mm=inner, outer_mm=outer)


# --------------------------------------------------------------------------- extraction, cache


def _cases(n=3):
    out = []
    for i in range(n):
        img = make_image(20 + i, shape=(80, 90), spacing=(0.1, 0.1))
        out.append({"case_id": f"c{i}", "tumor_image": img,
                    "tumor_mask": make_mask(img, (30, 50, 30, 55 + i))})  # fmt: skip
    return out


def test_adding_a_width_computes_only_the_new_ring(tmp_path):
    cases = _cases()
    first = ("tumor", "peritumoral_1mm", "shell_0_2mm")
    cold = ex.extract_features(cases, rois=first, cache_dir=tmp_path)
    assert (cold.n_computed, cold.n_cached) == (9, 0)
    more = ex.extract_features(cases, rois=(*first, "peritumoral_2mm"), cache_dir=tmp_path)
    assert (more.n_computed, more.n_cached) == (3, 9)  # the new ring of each case only
    pd.testing.assert_frame_equal(more.features[cold.features.columns], cold.features)
    # the 0-2 mm shell is the 2 mm ring under another name: the same features
    f = more.features
    shell = f[[c for c in f.columns if c.startswith("shell_0_2mm__")]]
    ring = f[[c for c in f.columns if c.startswith("peritumoral_2mm__")]]
    np.testing.assert_array_equal(shell.to_numpy(), ring.to_numpy())
    # the configured width of the plain ring does not touch the entries of named rings
    other = ex.extract_features(
        cases, rois=(*first, "peritumoral"), width_mm=3.0, cache_dir=tmp_path
    )
    assert (other.n_computed, other.n_cached) == (3, 9)
    diag = more.diagnostics
    assert (diag["shell_0_2mm__diagnostics_radiomics_aln_RingWidthMm"] == 2.0).all()
    assert (diag["peritumoral_1mm__diagnostics_radiomics_aln_RingCoverage"] == 1.0).all()


def test_extraction_refuses_an_unknown_ring_name():
    with pytest.raises(InputError, match="peritumoral_2p5mm"):
        ex.extract_features(_cases(1), rois=("tumor", "peritumoral_2.5mm"))


# --------------------------------------------------------------------------- inner CV


def _cv_data(seed=0, n=90):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.45).astype(int)
    X = pd.DataFrame({
        "peritumoral_1mm__a": rng.normal(size=n), "peritumoral_1mm__b": rng.normal(size=n),
        "peritumoral_2mm__a": 1.5 * y + rng.normal(size=n),
        "peritumoral_2mm__b": rng.normal(size=n),
        "shell_2_5mm__a": 0.5 * y + rng.normal(size=n), "shell_2_5mm__b": rng.normal(size=n),
    })  # fmt: skip
    return X, y


ROIS = ["peritumoral_1mm", "peritumoral_2mm", "shell_2_5mm"]
FAST = {"cv": 3, "nlambda": 20}


def test_inner_cv_choice_is_seeded_and_paired():
    X, y = _cv_data()
    a = inner_cv_ring_choice(X, y, rois=ROIS, score_params=FAST, n_splits=3, random_state=4)
    b = inner_cv_ring_choice(X, y, rois=ROIS, score_params=FAST, n_splits=3, random_state=4)
    assert a.chosen == "peritumoral_2mm"
    pd.testing.assert_frame_equal(a.fold_auc, b.fold_auc)
    np.testing.assert_array_equal(a.foldid, b.foldid)
    c = inner_cv_ring_choice(X, y, rois=ROIS, score_params=FAST, n_splits=3, random_state=5)
    assert not np.array_equal(a.foldid, c.foldid)  # the seed matters
    # stratified: each fold holds a third of the events
    events = np.bincount(a.foldid[y == 1])[1:]
    assert events.max() - events.min() <= 1 and events.sum() == y.sum()
    s = a.summary
    assert list(s.columns) == ["roi", "label", "inner_mm", "outer_mm", "estimate", "sd",
                               "n_folds", "n_constant", "chosen"]  # fmt: skip
    assert s.loc[s.chosen, "roi"].tolist() == ["peritumoral_2mm"]
    assert s["estimate"].tolist() == pytest.approx(a.fold_auc.mean().tolist())
    assert a.plot() is not None and "peritumoral_2mm" in repr(a)


def test_inner_cv_choice_sees_only_its_rows_and_ties_go_to_the_first():
    X, y = _cv_data()
    a = inner_cv_ring_choice(X, y, rois=ROIS, score_params=FAST, n_splits=3, random_state=1)
    # the choice is a function of X and y: other columns (another ROI) change nothing
    wider = X.assign(**{"tumor__a": np.arange(len(X))})
    b = inner_cv_ring_choice(wider, y, rois=ROIS, score_params=FAST, n_splits=3, random_state=1)
    pd.testing.assert_frame_equal(a.fold_auc, b.fold_auc)
    # two identical candidates: the first listed wins
    same = X.assign(**{"peritumoral_3mm__a": X["peritumoral_2mm__a"],
                       "peritumoral_3mm__b": X["peritumoral_2mm__b"]})  # fmt: skip
    tie = inner_cv_ring_choice(same, y, rois=["peritumoral_3mm", "peritumoral_2mm"],
                               score_params=FAST, n_splits=3, random_state=1)  # fmt: skip
    assert tie.chosen == "peritumoral_3mm"


def test_inner_cv_choice_errors():
    X, y = _cv_data()
    with pytest.raises(InputError, match="no feature columns"):
        inner_cv_ring_choice(X, y, rois=["peritumoral_4mm"])
    with pytest.raises(InputError, match="n_splits"):
        inner_cv_ring_choice(X, y, rois=ROIS, n_splits=1)
    with pytest.raises(InputError, match="lower rings.n_splits"):
        inner_cv_ring_choice(X.iloc[:12], y[:12], rois=ROIS, n_splits=10)
    with pytest.raises(InputError, match="0/1"):
        inner_cv_ring_choice(X, y * 2, rois=ROIS)


def test_ring_comparison_uses_delong_with_holm():
    """AUC CIs are pROC's DeLong intervals (tested against R in test_metrics); the tests are
    performance.delong_comparisons with Holm within each cohort."""
    X, y = _cv_data()
    scores = {r: X[f"{r}__a"].to_numpy() for r in ROIS}
    auc, dl = ring_comparison({"Training": (y, scores)}, reference="peritumoral_2mm")
    assert list(auc.columns) == ["cohort", "roi", "n", "estimate", "ci_low", "ci_high"]
    assert (auc["ci_low"] < auc["estimate"]).all() and (auc["estimate"] < auc["ci_high"]).all()
    assert dl["model_1"].unique().tolist() == ["peritumoral_2mm"] and len(dl) == 2
    p = np.sort(dl["p_value"].to_numpy())
    np.testing.assert_allclose(np.sort(dl["p_adjusted"]), np.maximum.accumulate(
        np.minimum(1, p * [2, 1])))  # fmt: skip
    _, every = ring_comparison({"Training": (y, scores)}, p_adjust=None)
    assert len(every) == 3 and (every["p_adjusted"] == every["p_value"]).all()


def test_ring_comparison_against_R():
    """tests/reference/ring_widths.R: pROC 1.18.0 ci.auc (DeLong) and roc.test (paired DeLong)
    of the chosen width against each other, p.adjust(method = "holm")."""
    ref_dir = Path(__file__).parent / "reference"
    d = pd.read_csv(ref_dir / "ring_widths_scores.csv")
    rois = ["peritumoral_1mm", "peritumoral_2mm", "peritumoral_3mm", "shell_2_5mm"]
    auc, dl = ring_comparison({"Training": (d["y"], {r: d[r] for r in rois})},
                              reference="peritumoral_2mm", p_adjust="holm")  # fmt: skip
    r_auc = pd.read_csv(ref_dir / "ring_widths_auc_R.csv")
    for col in ("estimate", "ci_low", "ci_high"):
        np.testing.assert_allclose(auc[col], r_auc[col], rtol=1e-10)
    r_dl = pd.read_csv(ref_dir / "ring_widths_delong_R.csv")
    assert dl["model_2"].tolist() == r_dl["model_2"].tolist()
    for col in ("estimate", "z", "p_value", "p_adjusted"):
        np.testing.assert_allclose(dl[col], r_dl[col], rtol=1e-9)


# --------------------------------------------------------------------------- the study

FEATURE_CLASSES = ["firstorder", "glcm", "glrlm", "glszm"]
RINGS = ("peritumoral_1mm", "peritumoral_2mm", "shell_2_5mm")


def _synthetic(seed=3, n=200, signal="peritumoral_2mm", nf=6):
    """Features of tumour, LN and three rings; only the ``signal`` ring carries the outcome."""
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"P{i:04d}" for i in range(n)], name="case_id")
    cohort = np.array(["train"] * (n // 2) + ["internal"] * (n // 4)
                      + ["external"] * (n - n // 2 - n // 4))  # fmt: skip
    latent = {roi: rng.normal(size=n) for roi in ("tumor", *RINGS, "ln")}
    age = rng.normal(55, 10, n).round(0)
    lp = -0.3 + 1.0 * latent["tumor"] + 2.0 * latent[signal] + 1.0 * latent["ln"]
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    table = pd.DataFrame({"cohort": cohort, "aln": y, "age": age}, index=ids)
    cols, blocks = [], []
    for roi, h in latent.items():
        for j in range(nf):
            cols.append(f"{roi}__original_{FEATURE_CLASSES[j % 4]}_F{j:02d}")
            blocks.append((h if j < 2 else 0.0) + rng.normal(scale=0.4 if j < 2 else 1.0, size=n))
    features = pd.DataFrame(np.column_stack(blocks), index=ids, columns=cols)
    rep = ids[:30]
    repeats = {r: features.loc[rep] + rng.normal(size=(30, len(cols))) * 0.1
               for r in ("reader2", "repeat")}  # fmt: skip
    return table, features, repeats


CONFIG = {
    "outcome": "aln",
    "rois": ["tumor", "peritumoral", "ln"],
    "clinical": ["age"],
    "score": {"params": {"cv": 3, "nlambda": 30}},
    "rings": {"widths_mm": [1, 2], "shells_mm": [[2, 5]], "n_splits": 3},
}


@pytest.fixture(scope="module")
def data():
    return _synthetic()


@pytest.fixture(scope="module")
def fitted(data):
    table, features, repeats = data
    return Study(CONFIG, table=table, features=features, repeats=repeats).fit()


def test_study_chooses_the_informative_ring_and_uses_it_as_the_peritumoral_score(fitted):
    assert fitted.ring_choice_.chosen == "peritumoral_2mm"
    assert fitted.score_rois_ == ["tumor", "peritumoral_2mm", "ln"]
    assert fitted.model_.rois == ["tumor", "peritumoral_2mm", "ln"]
    assert fitted.model_.settings["ring_choice"] == "peritumoral_2mm"
    assert "peritumoral_2mm_score" in fitted.data_.columns
    assert set(fitted.ring_scores_) == set(RINGS)
    assert fitted.config.data_dictionary().label("peritumoral_2mm_score") == (
        "Peritumoral 2 mm radiomics score"
    )


def test_study_tables_report_and_saved_model(fitted, data, tmp_path):
    table, features, _ = data
    fitted.evaluate()
    t = fitted.results_["tables"]
    auc, dl, cv = t["ring_widths_auc"], t["ring_widths_delong"], t["ring_widths_cv"]
    assert len(auc) == 3 * 3 and set(auc["cohort"]) == {"train", "internal", "external"}
    assert (dl["model_1"] == "peritumoral_2mm").all() and len(dl) == 2 * 3
    assert (dl["p_adjust_method"] == "holm").all()
    assert cv.loc[cv.chosen, "roi"].tolist() == ["peritumoral_2mm"]
    # the chosen ring's AUC in the table is the model's score AUC
    train = fitted.data_[fitted.data_.cohort == "train"]
    from radiomics_aln.metrics import c_statistic

    row = auc[(auc.cohort == "train") & (auc.roi == "peritumoral_2mm")]
    assert row["estimate"].item() == pytest.approx(
        c_statistic(train["aln"], train["peritumoral_2mm_score"])
    )
    content = fitted.report_content()
    titles = [s["title"] for s in content["sections"]]
    assert "Peritumoral ring width" in titles
    sec = content["sections"][titles.index("Peritumoral ring width")]
    assert len(sec["tables"]) == 3 and "Peritumoral 2 mm" in sec["text"]
    assert "Peritumoral ring width" in content["methods"]
    out = fitted.save(tmp_path / "study")
    assert (out / "tables" / "ring_widths_delong.csv").is_file()
    model = StudyModel.from_json(out / "model.json")
    assert model.settings["ring_choice"] == "peritumoral_2mm"
    assert json.loads((out / "model.json").read_text())["state"]["rois"][1] == "peritumoral_2mm"
    new = table[table.cohort == "external"]
    pred = model.predict(features.loc[new.index], clinical=new)
    np.testing.assert_allclose(pred["probability"], fitted.data_.loc[new.index, "probability"])


def test_the_width_is_chosen_on_training_data_only(data, fitted):
    table, features, repeats = data
    test_ids = table.index[table.cohort != "train"]
    flipped = table.copy()
    flipped.loc[test_ids, "aln"] = 1 - flipped.loc[test_ids, "aln"]
    scrambled = features.copy()
    rng = np.random.default_rng(0)
    scrambled.loc[test_ids] = rng.normal(size=(len(test_ids), features.shape[1])) * 100
    for tab, feats in ((flipped, features), (table, scrambled)):
        other = Study(CONFIG, table=tab, features=feats, repeats=repeats).fit()
        pd.testing.assert_frame_equal(other.ring_choice_.fold_auc, fitted.ring_choice_.fold_auc)
        assert other.fitted_state() == fitted.fitted_state()
    # the check can fail: the training outcomes do move the inner CV
    changed = table.copy()
    changed.loc[table.index[:15], "aln"] = 1 - changed.loc[table.index[:15], "aln"]
    moved = Study(CONFIG, table=changed, features=features, repeats=repeats).fit()
    assert not moved.ring_choice_.fold_auc.equals(fitted.ring_choice_.fold_auc)


def test_study_choice_is_deterministic(data, fitted):
    table, features, repeats = data
    again = Study(CONFIG, table=table, features=features, repeats=repeats).fit()
    pd.testing.assert_frame_equal(again.ring_choice_.fold_auc, fitted.ring_choice_.fold_auc)
    assert again.fitted_state() == fitted.fitted_state()


def test_choose_all_offers_every_ring_and_compares_every_pair(data):
    table, features, repeats = data
    cfg = CONFIG | {"rings": {"widths_mm": [1, 2], "shells_mm": [[2, 5]], "choose": "all"}}
    s = Study(cfg, table=table, features=features, repeats=repeats).fit()
    assert s.ring_choice_ is None and s.score_rois_ == ["tumor", *RINGS, "ln"]
    assert "ring_choice" not in s.model_.settings
    assert "peritumoral_2mm_score" in s.screened_["scores"]
    tables = s.evaluate().results_["tables"]
    assert len(tables["ring_widths_delong"]) == 3 * 3 and "ring_widths_cv" not in tables


@pytest.mark.parametrize(
    ("rings", "rois", "message"),
    [({"widths_mm": [0]}, None, "ring width"),
     ({"widths_mm": [2, 2]}, None, "listed twice"),
     ({"shells_mm": [[5, 2]]}, None, "inner_mm < outer_mm"),
     ({"shells_mm": [2, 5]}, None, r"\[inner_mm, outer_mm\]"),
     ({"widths_mm": 2}, None, "must be a list"),
     ({"widths_mm": [2], "choose": "best"}, None, "rings.choose"),
     ({"widths_mm": [2], "n_splits": 1}, None, "rings.n_splits"),
     ({"widths_mm": [2], "p_adjust": "fdr"}, None, "rings.p_adjust"),
     ({"widths_mm": [2]}, ["tumor", "ln"], "add peritumoral to rois"),
     ({"widths_mm": [2]}, ["tumor", "peritumoral", "peritumoral_2mm"], "list them once"),
     ({"unknown": 1}, None, "unknown key")],
)  # fmt: skip
def test_ring_settings_errors(rings, rois, message):
    cfg = {"rings": rings} | ({"rois": rois} if rois else {})
    with pytest.raises(InputError, match=message):
        StudyConfig.from_dict(cfg)


def test_named_rings_are_rois_of_a_config_too():
    cfg = StudyConfig.from_dict({"rois": ["tumor", "shell_2_5mm"]})
    assert cfg.roi_list() == ["tumor", "shell_2_5mm"]
    with pytest.raises(InputError, match="unknown ROI"):
        StudyConfig.from_dict({"rois": ["tumor", "peritumoral_2.5mm"]})


@pytest.mark.slow
def test_example_runs_with_two_widths(tmp_path):
    """examples/ring_widths.py end to end on images (small: 120 patients, two rings, two shells,
    original-image features only)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, str(root / "examples" / "ring_widths.py"), "--out", str(tmp_path),
         "--n-cases", "120", "--widths", "1,3", "--original-only"],
        cwd=root, env=os.environ | {"MPLBACKEND": "Agg"}, capture_output=True, text=True,
        timeout=1800,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("ring_widths_cv.csv", "ring_widths_auc.csv", "ring_widths_delong.csv"):
        assert (tmp_path / "tables" / name).is_file()
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Peritumoral ring width" in html and "Paired DeLong tests between the widths" in html
    model = StudyModel.from_json(tmp_path / "model.json")
    assert model.settings["ring_choice"] in model.rois
