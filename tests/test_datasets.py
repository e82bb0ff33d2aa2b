"""Tests of the synthetic demo cohort (radiomics_aln.datasets)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from PIL import Image
from scipy import ndimage
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from radiomics_aln import _demo_images, datasets
from radiomics_aln.datasets import DEMO_OUTCOME, demo_generating_model, make_demo_cohort
from radiomics_aln.exceptions import InputError
from radiomics_aln.manifest import Manifest, read_manifest

N_SMALL = 16
MASK_COLUMNS = ["tumor_mask", "ln_mask"]
REPEAT_COLUMNS = ["tumor_mask_reader2", "tumor_mask_repeat", "ln_mask_reader2", "ln_mask_repeat"]
CLINICAL = [
    "age",
    "size_mm",
    "margin",
    "calcification",
    "us_aln_status",
    "er",
    "pr",
    "her2",
    "ki67",
    "grade",
]


def _load(path: Path) -> np.ndarray:
    if path.suffix == ".png":
        return np.asarray(Image.open(path))
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def _eroded(mask: np.ndarray) -> np.ndarray:
    """4-neighbour erosion without scipy, for an independent boundary."""
    p = np.pad(mask, 1)
    return p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Manifest, pd.DataFrame]:
    out = tmp_path_factory.mktemp("demo") / "cohort"
    manifest = make_demo_cohort(out, n_cases=N_SMALL, random_state=3)
    table = pd.read_csv(out / "manifest.csv", keep_default_na=False, dtype=str)
    return out, manifest, table


@pytest.fixture(scope="module")
def patients() -> pd.DataFrame:
    """Many patients drawn from the generating model (no images: fast)."""
    rows = []
    for i in range(6000):
        rng = np.random.default_rng(np.random.SeedSequence(99, spawn_key=(i,)))
        rows.append(datasets._draw_patient(rng))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# manifest and files
# ---------------------------------------------------------------------------------------------


def test_returns_manifest_read_by_cohort_module(demo):
    out, manifest, table = demo
    assert isinstance(manifest, Manifest)
    assert len(manifest) == N_SMALL
    again = read_manifest(out / "manifest.csv", outcome=DEMO_OUTCOME)
    assert list(again.table.index) == list(manifest.table.index)
    assert set(manifest.table[DEMO_OUTCOME].unique()) <= {0, 1}
    for col in CLINICAL:
        assert col in manifest.table.columns


def test_manifest_columns_and_values(demo):
    out, _, table = demo
    expected = [
        "case_id", "cohort", DEMO_OUTCOME, "tumor_image", "tumor_mask", "ln_image", "ln_mask",
        *REPEAT_COLUMNS, "spacing", "ln_spacing", *CLINICAL, "n_positive_nodes", "scanner",
    ]  # fmt: skip
    assert list(table.columns) == expected
    # the node count (burden endpoint) agrees with the metastasis status
    nodes = table["n_positive_nodes"].astype(int)
    assert ((nodes == 0) == (table[DEMO_OUTCOME] == "0")).all()
    assert table["case_id"].is_unique
    counts = table["cohort"].value_counts().to_dict()
    assert counts == {"train": 8, "internal": 3, "external": 3, "prospective": 2}
    assert set(table[DEMO_OUTCOME]) <= {"0", "1"}
    clin = table[CLINICAL]
    assert clin["margin"].isin(["circumscribed", "not_circumscribed"]).all()
    assert clin["calcification"].isin(["yes", "no"]).all()
    assert clin["us_aln_status"].isin(["suspicious", "not_suspicious"]).all()
    for col in ("er", "pr", "her2"):
        assert clin[col].isin(["positive", "negative"]).all()
    assert clin["grade"].isin(["1", "2", "3"]).all()
    assert clin["ki67"].astype(int).between(1, 90).all()
    assert clin["age"].astype(int).between(25, 88).all()
    assert clin["size_mm"].astype(float).between(5, 40).all()
    # truth is kept out of the manifest
    truth = pd.read_csv(out / "truth.csv")
    assert not {"heterogeneity", "infiltration", "node_cortex", "linear_predictor"} & set(
        table.columns
    )
    assert list(truth["case_id"]) == list(table["case_id"])
    assert (truth[DEMO_OUTCOME].astype(str).to_numpy() == table[DEMO_OUTCOME].to_numpy()).all()


def test_png_and_nrrd_paths_with_spacing(demo):
    out, _, table = demo
    for _, row in table.iterrows():
        external = row["cohort"] == "external"
        for col in ("tumor_image", "ln_image", *MASK_COLUMNS):
            path = out / row[col]
            assert path.is_file()
            assert path.suffix == (".nrrd" if external else ".png")
        if external:
            assert row["spacing"] == "" and row["ln_spacing"] == ""
            img = sitk.ReadImage(str(out / row["tumor_image"]))
            sx, sy = img.GetSpacing()
            assert sx == sy and 0.13 < sx < 0.16
            assert img.GetPixelID() == sitk.sitkUInt8
        else:
            assert 0.10 < float(row["spacing"]) < 0.14 and 0.10 < float(row["ln_spacing"]) < 0.14
            with Image.open(out / row["tumor_image"]) as im:
                assert im.mode == "L" and im.size == (320, 256)
            with Image.open(out / row["ln_image"]) as im:
                assert im.mode == "L" and im.size == (256, 256)


def test_masks_nonempty_binary_and_inside_image(demo):
    out, _, table = demo
    for _, row in table.iterrows():
        for roi in ("tumor", "ln"):
            image = _load(out / row[f"{roi}_image"])
            for col in [f"{roi}_mask", f"{roi}_mask_reader2", f"{roi}_mask_repeat"]:
                if not row[col]:
                    continue
                mask = _load(out / row[col])
                assert mask.shape == image.shape
                assert set(np.unique(mask)) <= {0, 1, 255}
                fg = mask > 0
                assert fg.sum() > 200, (row["case_id"], col)
                # the whole lesion/node is in the field of view, not cut by the border
                assert not (fg[0].any() or fg[-1].any() or fg[:, 0].any() or fg[:, -1].any())
                # hypoechoic lesion: darker inside than in a band around it
                if col == f"{roi}_mask" and roi == "tumor":
                    assert image[fg].mean() < image[~fg].mean() - 20


def test_size_mm_is_the_caliper_diameter_of_the_mask(demo):
    out, manifest, table = demo
    truth = pd.read_csv(out / "truth.csv")
    for (_, row), true_size in zip(table.iterrows(), truth["true_size_mm"], strict=True):
        mask = _load(out / row["tumor_mask"]) > 0
        spacing = (
            float(row["spacing"])
            if row["spacing"]
            else sitk.ReadImage(str(out / row["tumor_mask"])).GetSpacing()[0]
        )
        edge = mask & ~np.pad(mask, 1)[1:-1, 1:-1] | mask & ~_eroded(mask)
        pts = np.argwhere(edge) * spacing
        # brute-force max distance between boundary pixel centres is within a pixel of ours
        d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)).max()
        assert float(row["size_mm"]) == pytest.approx(d, abs=2.5 * spacing)
        assert float(row["size_mm"]) == pytest.approx(true_size, rel=0.35)


def test_repeat_masks_for_training_subset_with_realistic_dice(demo):
    out, _, table = demo
    has = table["tumor_mask_reader2"] != ""
    train = table["cohort"] == "train"
    assert (has <= train).all()
    assert has.sum() == max(3, round(0.25 * train.sum()))
    for col in REPEAT_COLUMNS:
        assert ((table[col] != "") == has).all()
    dice = {"reader2": [], "repeat": []}
    for _, row in table[has].iterrows():
        for roi in ("tumor", "ln"):
            ref = _load(out / row[f"{roi}_mask"]) > 0
            r2 = _load(out / row[f"{roi}_mask_reader2"]) > 0
            rep = _load(out / row[f"{roi}_mask_repeat"]) > 0
            assert not np.array_equal(r2, rep)
            for reader, m in (("reader2", r2), ("repeat", rep)):
                d = _dice(ref, m)
                assert 0.80 < d < 0.995, (row["case_id"], roi, reader, d)
                dice[reader].append(d)
    # the first reader repeats herself better than a second reader agrees with her
    assert np.median(dice["repeat"]) > np.median(dice["reader2"])


def test_default_size_has_at_least_20_repeat_cases():
    counts = datasets._cohort_counts(200, datasets._DEFAULT_FRACTIONS)
    assert counts == {"train": 100, "internal": 40, "external": 40, "prospective": 20}
    assert max(3, round(0.25 * counts["train"])) >= 20


# ---------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_same_seed_gives_byte_identical_files(tmp_path):
    make_demo_cohort(tmp_path / "a", n_cases=8, random_state=11)
    make_demo_cohort(tmp_path / "b", n_cases=8, random_state=11)
    make_demo_cohort(tmp_path / "c", n_cases=9, random_state=12)
    a, b, c = (_tree_digest(tmp_path / k) for k in "abc")
    assert a == b
    assert len(a) > 8 * 4
    common = [k for k in a if k in c and k.endswith("_image.png")]
    assert common and all(a[k] != c[k] for k in common)
    assert a["manifest.csv"] != c["manifest.csv"]
    # overwriting an earlier demo leaves exactly what a fresh run writes
    make_demo_cohort(tmp_path / "c", n_cases=8, random_state=11, overwrite=True)
    assert _tree_digest(tmp_path / "c") == a


@pytest.mark.slow
def test_generator_random_state_is_deterministic(tmp_path):
    """random_state may be a numpy Generator (the vocabulary of every estimator): the same
    generator state writes byte-identical files, another state other files."""
    make_demo_cohort(tmp_path / "a", n_cases=8, random_state=np.random.default_rng(7))
    make_demo_cohort(tmp_path / "b", n_cases=8, random_state=np.random.default_rng(7))
    make_demo_cohort(tmp_path / "c", n_cases=8, random_state=np.random.default_rng(8))
    a, b, c = (_tree_digest(tmp_path / k) for k in "abc")
    assert a == b
    assert a["manifest.csv"] != c["manifest.csv"]


@pytest.mark.slow
def test_patient_does_not_depend_on_n_cases(tmp_path):
    make_demo_cohort(tmp_path / "small", n_cases=8, random_state=5)
    make_demo_cohort(tmp_path / "large", n_cases=12, random_state=5)
    small = pd.read_csv(tmp_path / "small" / "truth.csv")
    large = pd.read_csv(tmp_path / "large" / "truth.csv").iloc[:8]
    cols = ["heterogeneity", "infiltration", "node_cortex", "linear_predictor", DEMO_OUTCOME]
    pd.testing.assert_frame_equal(small[cols], large[cols])


# ---------------------------------------------------------------------------------------------
# generating model and signal
# ---------------------------------------------------------------------------------------------


def test_generating_model_table_matches_docs():
    table = demo_generating_model()
    assert list(table.columns) == ["estimate", "odds_ratio", "description"]
    assert table.index.name == "term"
    np.testing.assert_allclose(table["odds_ratio"], np.exp(table["estimate"]))
    assert table.loc["node_cortex", "estimate"] == 2.2


def test_outcome_follows_the_documented_model(patients):
    pt = patients
    coef = demo_generating_model()["estimate"]
    lp = (
        coef["intercept"]
        + coef["heterogeneity"] * pt["heterogeneity"]
        + coef["infiltration"] * pt["infiltration"]
        + coef["node_cortex"] * pt["node_cortex"]
        + coef["log2_size_18mm"] * np.log2(pt["true_size_mm"] / 18)
        + coef["ki67_20pct"] * (pt["ki67"] - 20) / 20
        + coef["age_10y"] * (pt["age"] - 53) / 10
    )
    np.testing.assert_allclose(lp, pt["linear_predictor"], rtol=1e-12)
    # prevalence near 40 % (binomial SE ~0.6 % at n = 6000)
    assert 0.36 < pt["y"].mean() < 0.44
    # refitting the logistic model on the true terms recovers the coefficients
    X = np.column_stack(
        [
            pt["heterogeneity"],
            pt["infiltration"],
            pt["node_cortex"],
            np.log2(pt["true_size_mm"] / 18),
            (pt["ki67"] - 20) / 20,
            (pt["age"] - 53) / 10,
        ]
    )
    fit = LogisticRegression(C=1e6, max_iter=5000).fit(X, pt["y"])
    np.testing.assert_allclose(
        fit.coef_[0][:3], coef[["heterogeneity", "infiltration", "node_cortex"]], atol=0.25
    )
    assert 0.91 < roc_auc_score(pt["y"], pt["linear_predictor"]) < 0.95


def test_clinical_variables_alone_give_moderate_auc(patients):
    pt = patients
    X = pd.DataFrame(
        {
            "age": pt["age"],
            "size": np.log(pt["true_size_mm"]),
            "margin": pt["margin"] == "not_circumscribed",
            "calc": pt["calcification"] == "yes",
            "us": pt["us_aln_status"] == "suspicious",
            "er": pt["er"] == "positive",
            "pr": pt["pr"] == "positive",
            "her2": pt["her2"] == "positive",
            "ki67": pt["ki67"],
            "grade": pt["grade"],
        }
    ).astype(float)
    half = len(X) // 2
    fit = LogisticRegression(max_iter=5000).fit(X[:half], pt["y"][:half])
    auc = roc_auc_score(pt["y"][half:], fit.decision_function(X[half:]))
    assert 0.70 < auc < 0.80
    # realistic marginal distributions
    assert 0.65 < (pt["er"] == "positive").mean() < 0.85
    assert 0.10 < (pt["her2"] == "positive").mean() < 0.25
    assert 0.20 < (pt["us_aln_status"] == "suspicious").mean() < 0.35
    assert 14 < pt["ki67"].median() < 22
    assert 15 < pt["true_size_mm"].median() < 21


def _render_stats(n: int, seed: int) -> pd.DataFrame:
    scanner = _demo_images.SCANNERS["A"]
    rows = []
    for i in range(n):
        streams = [
            np.random.default_rng(s) for s in np.random.SeedSequence(seed, spawn_key=(i,)).spawn(3)
        ]
        pt = datasets._draw_patient(streams[0])
        tum = _demo_images.render_tumor(streams[1], pt, scanner, spacing=0.12)
        ln = _demo_images.render_ln(streams[2], pt, 0.12, scanner)
        tmask = _demo_images.mask_from_radius(tum["rho"], tum["theta"], tum["outline"])
        lmask = _demo_images.mask_from_radius(ln["rho"], ln["theta"], ln["outline"])
        # echo variation at the scale of the heterogeneity (speckle smoothed out)
        smooth = ndimage.gaussian_filter(tum["image"].astype(float), 4)
        inner = smooth[tmask & (tum["rho"] < 0.7 * tum["outline"].min())]
        rows.append(
            {
                "y": pt["y"],
                "h": pt["heterogeneity"],
                "c": pt["node_cortex"],
                "tumor_sd": inner.std(),
                "ln_mean": ln["image"][lmask].mean(),
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_images_carry_the_outcome_signal():
    stats = _render_stats(32, seed=7)
    # each simple image statistic tracks its latent trait ...
    assert stats["ln_mean"].corr(stats["c"], method="spearman") < -0.6
    assert stats["tumor_sd"].corr(stats["h"], method="spearman") > 0.4
    # ... and separates the outcomes
    assert roc_auc_score(stats["y"], -stats["ln_mean"]) > 0.6
    assert roc_auc_score(stats["y"], stats["tumor_sd"]) > 0.6


def _speckle_width_mm(image: np.ndarray, spacing: float) -> float:
    """Lateral lag (mm) at which the high-passed image's autocorrelation falls to 0.3."""
    hp = image - ndimage.gaussian_filter(image, 6)
    hp = hp[40:200]
    lags = np.arange(1, 9)
    corr = np.array([np.corrcoef(hp[:, :-k].ravel(), hp[:, k:].ravel())[0, 1] for k in lags])
    return float(np.interp(0.3, corr[::-1], lags[::-1]) * spacing)


def test_external_scanner_appearance_is_shifted(tmp_path):
    fractions = {"train": 0.5, "external": 0.5}
    out = tmp_path / "demo"
    make_demo_cohort(out, n_cases=12, random_state=2, cohort_fractions=fractions)
    table = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    stats = []
    for _, row in table.iterrows():
        path = out / row["tumor_image"]
        image = _load(path).astype(float)
        mask = _load(out / row["tumor_mask"]) > 0
        if row["spacing"]:
            spacing = float(row["spacing"])
        else:
            spacing = sitk.ReadImage(str(path)).GetSpacing()[0]
        width = _speckle_width_mm(image, spacing)
        stats.append((row["cohort"], image[~mask].mean(), image[mask].mean(), width))
    df = pd.DataFrame(stats, columns=["cohort", "bg", "tumor", "speckle"]).groupby("cohort").mean()
    # darker (gain, residual attenuation), less lesion contrast, coarser speckle in mm
    assert df.loc["train", "bg"] - df.loc["external", "bg"] > 5
    contrast = df["bg"] - df["tumor"]
    assert contrast["train"] - contrast["external"] > 8
    assert df.loc["external", "speckle"] > 1.2 * df.loc["train", "speckle"]


# ---------------------------------------------------------------------------------------------
# bad arguments
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_cases": 7}, r"n_cases`=7 is too small .* n_cases >= 8"),
        ({"n_cases": 1, "cohort_fractions": {"train": 1.0}}, r"n_cases`=1 .* >= 2"),
        ({"n_cases": 10.0}, "must be an integer"),
        ({"n_cases": True}, "must be an integer"),
        ({"random_state": -1}, "random_state"),
        ({"random_state": "a"}, "random_state"),
        ({"cohort_fractions": {"internal": 0.5, "external": 0.5}}, "must include a 'train'"),
        ({"cohort_fractions": {"train": 0.5, "external": 0.4}}, "must sum to 1"),
        (
            {"cohort_fractions": {"train": 1.2, "external": -0.2}},
            r"cohort_fractions\['external'\]` must be > 0",
        ),
        ({"cohort_fractions": {"train": 0.5, "a,b": 0.5}}, "invalid cohort name"),
        ({"cohort_fractions": {}}, "non-empty mapping"),
        ({"repeat_fraction": 1.5}, r"repeat_fraction` must be in \[0, 1\]"),
        ({"repeat_fraction": "x"}, "repeat_fraction"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    args = {"n_cases": 8, **kwargs}
    with pytest.raises(InputError, match=match):
        make_demo_cohort(tmp_path / "out", **args)
    assert not (tmp_path / "out").exists()


def test_refuses_non_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty; pass overwrite=True"):
        make_demo_cohort(tmp_path, n_cases=8)
    with pytest.raises(FileExistsError, match="not written by make_demo_cohort"):
        make_demo_cohort(tmp_path, n_cases=8, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_out_dir_is_a_file(tmp_path):
    target = tmp_path / "file.csv"
    target.write_text("x")
    with pytest.raises(InputError, match="is not a directory"):
        make_demo_cohort(target, n_cases=8)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_out_dir_not_writable(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="locked"):
            make_demo_cohort(locked / "demo", n_cases=8)
    finally:
        locked.chmod(0o700)


def test_minimum_cases_per_cohort():
    for n in (8, 9, 12, 16, 33):
        counts = datasets._cohort_counts(n, datasets._DEFAULT_FRACTIONS)
        assert sum(counts.values()) == n and min(counts.values()) >= 2
    assert math.isclose(sum(datasets._DEFAULT_FRACTIONS.values()), 1.0)


# ---------------------------------------------------------------------------------------------
# reuse of an identical cohort (issue 15): the stamp's version, arguments and checksums
# ---------------------------------------------------------------------------------------------


@pytest.fixture()
def small(tmp_path) -> tuple[Path, dict[str, str]]:
    out = tmp_path / "cohort"
    make_demo_cohort(out, n_cases=8, random_state=5)
    return out, _tree_digest(out)


def _mtimes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


def test_stamp_records_version_arguments_and_checksums(small):
    out, digest = small
    stamp = json.loads((out / datasets._MARKER).read_text())
    assert stamp["generator_version"] == datasets.GENERATOR_VERSION
    assert stamp["complete"] is True
    assert stamp["arguments"] == {
        "n_cases": 8, "random_state": 5, "repeat_fraction": 0.25,
        "cohort_fractions": datasets._DEFAULT_FRACTIONS,
    }  # fmt: skip
    files = {k: v for k, v in digest.items() if k != datasets._MARKER}
    assert stamp["files"] == files
    assert "manifest.csv" in files and "truth.csv" in files and len(files) > 2 * 8


def test_reuse_returns_the_identical_cohort_without_writing(small):
    out, digest = small
    assert datasets.check_demo_cohort(out, n_cases=8, random_state=5) is None
    before = _mtimes(out)
    manifest = make_demo_cohort(out, n_cases=8, random_state=5, reuse=True)
    assert _mtimes(out) == before  # nothing rewritten
    assert len(manifest) == 8 and Path(manifest.path) == out / "manifest.csv"
    # overwrite=True alongside reuse still reuses an intact cohort
    make_demo_cohort(out, n_cases=8, random_state=5, reuse=True, overwrite=True)
    assert _mtimes(out) == before


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda out: next((out / "cases" / "case0003").glob("ln_image.*")).unlink(),
         r"cases/case0003/ln_image\.(png|nrrd) missing"),
        (lambda out: (out / "manifest.csv").write_text(
            (out / "manifest.csv").read_text().replace("case0002,", "case0002x,")),
         r"manifest.csv was modified"),
        (lambda out: (out / "cases" / "case0001" / "extra.png").write_bytes(b"x"),
         r"cases/case0001/extra.png not part of the cohort"),
        (lambda out: (out / "truth.csv").unlink(), r"truth.csv missing"),
    ],
    ids=["deleted", "modified", "extra", "truth-deleted"],
)  # fmt: skip
def test_a_damaged_cohort_is_regenerated(small, damage, reason):
    out, digest = small
    damage(out)
    assert re.search(reason, datasets.check_demo_cohort(out, n_cases=8, random_state=5))
    # without overwrite=True it is not replaced, and the error says why it cannot be reused
    with pytest.raises(FileExistsError, match="cannot be reused .*" + reason):
        make_demo_cohort(out, n_cases=8, random_state=5, reuse=True)
    make_demo_cohort(out, n_cases=8, random_state=5, reuse=True, overwrite=True)
    assert _tree_digest(out) == digest  # regenerated: byte-identical to the first


def test_other_arguments_or_a_random_seed_are_not_reused(small):
    out, _ = small
    check = datasets.check_demo_cohort
    assert check(out, n_cases=9, random_state=5) == "written with n_cases=8, asked for n_cases=9"
    assert "random_state=5, asked for random_state=6" in check(out, n_cases=8, random_state=6)
    assert "repeat_fraction" in check(out, n_cases=8, random_state=5, repeat_fraction=0.5)
    assert "not an integer seed" in check(out, n_cases=8, random_state=np.random.default_rng(5))
    assert "not an integer seed" in check(out, n_cases=8, random_state=None)
    assert check(out.parent / "nowhere", n_cases=8, random_state=5).startswith("no demo cohort")
    make_demo_cohort(out, n_cases=9, random_state=5, reuse=True, overwrite=True)
    assert len(read_manifest(out / "manifest.csv", outcome=DEMO_OUTCOME)) == 9
    assert check(out, n_cases=9, random_state=5) is None


def test_interrupted_old_or_other_version_stamps_are_regenerated(small):
    out, digest = small
    stamp_path = out / datasets._MARKER
    stamp = json.loads(stamp_path.read_text())
    stamp_path.write_text(json.dumps(stamp | {"complete": False}))
    assert "did not finish" in datasets.check_demo_cohort(out, n_cases=8, random_state=5)
    stamp_path.write_text(json.dumps(stamp | {"generator_version": 0}))
    assert "generator version 0" in datasets.check_demo_cohort(out, n_cases=8, random_state=5)
    # the text marker of earlier releases: a demo folder (overwritable), never reused
    stamp_path.write_text("written by radiomics_aln.datasets.make_demo_cohort(n_cases=8)\n")
    assert "earlier version" in datasets.check_demo_cohort(out, n_cases=8, random_state=5)
    make_demo_cohort(out, n_cases=8, random_state=5, reuse=True, overwrite=True)
    assert _tree_digest(out) == digest


def test_an_interrupted_run_leaves_an_overwritable_folder(tmp_path, monkeypatch):
    out = tmp_path / "cohort"

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(datasets, "_write_case", crash)
    with pytest.raises(KeyboardInterrupt):
        make_demo_cohort(out, n_cases=8, random_state=5)
    monkeypatch.undo()
    assert "did not finish" in datasets.check_demo_cohort(out, n_cases=8, random_state=5)
    make_demo_cohort(out, n_cases=8, random_state=5, reuse=True, overwrite=True)
    assert datasets.check_demo_cohort(out, n_cases=8, random_state=5) is None


def test_reuse_never_overwrites_a_folder_that_is_not_a_demo_cohort(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "manifest.csv").write_text("case_id\nmine\n")
    assert "no .radiomics_aln_demo stamp" in datasets.check_demo_cohort(tmp_path, n_cases=8)
    for overwrite in (False, True):
        with pytest.raises(FileExistsError):
            make_demo_cohort(tmp_path, n_cases=8, reuse=True, overwrite=overwrite)
    with pytest.raises(FileExistsError, match="not written by make_demo_cohort"):
        make_demo_cohort(tmp_path, n_cases=8, reuse=True, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "manifest.csv").read_text() == "case_id\nmine\n"


def test_generator_output_is_pinned_to_its_version():
    """What the generator writes for fixed arguments (pixels and tables, not file encodings).

    If this fails, the demo cohort changed: bump ``datasets.GENERATOR_VERSION`` (so that folders
    stamped by the earlier version are regenerated, never reused) and update the digest here.
    """
    import tempfile

    h = hashlib.sha256()
    with tempfile.TemporaryDirectory() as tmp:
        make_demo_cohort(tmp, n_cases=8, random_state=0)
        root = Path(tmp)
        h.update((root / "manifest.csv").read_bytes())
        h.update((root / "truth.csv").read_bytes())
        for p in sorted(q for q in (root / "cases").rglob("*") if q.is_file()):
            h.update(p.relative_to(root).as_posix().encode())
            h.update(np.ascontiguousarray(_load(p)).tobytes())
    assert datasets.GENERATOR_VERSION == 4  # 4 added readers.csv; the files pinned here are unchanged
    assert h.hexdigest() == PINNED_DIGEST


PINNED_DIGEST = "d72bbf8e4b9d8a40fa4f089b6ec9faa12e852558d53895d95280459c2c02d687"  # v3: + n_positive_nodes (v2), scanner
