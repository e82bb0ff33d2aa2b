"""The demo generator's scanner designs (make_demo_cohort(scanners=...), issue 17).

The default design ("single") is pinned byte for byte by tests/test_datasets.py; these tests
check the "mixed" design: exact scanner shares per cohort, the same patients, outcomes and
cohorts as the single design, determinism, the stamp, and the CLI option.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from PIL import Image
from scipy import ndimage

from radiomics_aln import _demo_images, datasets
from radiomics_aln.cli import build_parser
from radiomics_aln.datasets import check_demo_cohort, make_demo_cohort
from radiomics_aln.exceptions import InputError

N = 40


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }  # fmt: skip


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mixed")
    make_demo_cohort(out, n_cases=N, random_state=3, scanners="mixed")
    return out


def _load(path: Path) -> np.ndarray:
    if path.suffix == ".png":
        return np.asarray(Image.open(path))
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def _speckle_width_mm(image: np.ndarray, spacing: float) -> float:
    """Lateral lag (mm) where the high-passed image's autocorrelation falls to 0.3 (as
    tests/test_datasets.py measures it)."""
    hp = (image - ndimage.gaussian_filter(image, 6))[40:200]
    lags = np.arange(1, 9)
    corr = [np.corrcoef(hp[:, :-k].ravel(), hp[:, k:].ravel())[0, 1] for k in lags]
    return float(np.interp(0.3, corr[::-1], lags[::-1]) * spacing)


def _largest_remainder(n: int, shares: dict[str, float]) -> dict[str, int]:
    """Written out independently of datasets._assign_scanners."""
    raw = {k: v * n for k, v in shares.items()}
    counts = {k: int(np.floor(v)) for k, v in raw.items()}
    left = n - sum(counts.values())
    for k in sorted(raw, key=lambda k: -(raw[k] - counts[k]))[:left]:
        counts[k] += 1
    return {k: v for k, v in counts.items() if v}


def test_mixed_design_has_the_documented_shares_in_every_cohort(mixed):
    table = pd.read_csv(mixed / "manifest.csv")
    shares = {"external": {"B": 0.3, "C": 0.7}, "other": {"A": 0.6, "B": 0.4}}
    for cohort, group in table.groupby("cohort"):
        mix = shares["external" if cohort == "external" else "other"]
        want = _largest_remainder(len(group), mix)
        assert group["scanner"].value_counts().to_dict() == want, cohort
    # training (20 patients) has both of the first hospital's scanners, C only the external one
    assert table.loc[table["cohort"] == "train", "scanner"].value_counts().to_dict() == {
        "A": 12, "B": 8}  # fmt: skip
    assert set(table.loc[table["scanner"] == "C", "cohort"]) == {"external"}
    truth = pd.read_csv(mixed / "truth.csv")
    assert (truth["scanner"] == table["scanner"]).all()


def test_each_scanner_writes_its_own_format_and_spacing(mixed):
    table = pd.read_csv(mixed / "manifest.csv", keep_default_na=False)
    truth = pd.read_csv(mixed / "truth.csv")
    for name, scanner in _demo_images.SCANNERS.items():
        rows = table[table["scanner"] == name]
        assert len(rows), name
        assert rows["tumor_image"].str.endswith("." + scanner.file_format).all()
        spacings = truth.loc[truth["scanner"] == name, "ln_spacing_mm"]
        assert np.isin(spacings.round(4), np.round(scanner.spacings, 4)).all(), name
        # PNG rows carry the spacing in the manifest, NRRD rows in the file header
        assert (rows["spacing"] != "").all() == (scanner.file_format == "png")


def test_mixed_design_keeps_patients_outcomes_and_cohorts(mixed, tmp_path):
    make_demo_cohort(tmp_path, n_cases=N, random_state=3)
    single = pd.read_csv(tmp_path / "manifest.csv")
    mix = pd.read_csv(mixed / "manifest.csv")
    same = ["case_id", "cohort", datasets.DEMO_OUTCOME, "age", "er", "ki67", "grade",
            "us_aln_status", datasets.DEMO_NODE_COUNT]  # fmt: skip
    pd.testing.assert_frame_equal(single[same], mix[same])
    assert set(single["scanner"]) == {"A", "B"}
    assert (single["scanner"] == np.where(single["cohort"] == "external", "B", "A")).all()
    # a patient on the same scanner in both designs is still rendered from its own streams,
    # so the designs differ only where the scanner does
    assert (single["scanner"] != mix["scanner"]).any()


def test_mixed_design_is_deterministic(mixed, tmp_path):
    make_demo_cohort(tmp_path / "again", n_cases=N, random_state=3, scanners="mixed")
    assert _tree(tmp_path / "again") == _tree(mixed)
    make_demo_cohort(tmp_path / "other", n_cases=N, random_state=4, scanners="mixed")
    other = pd.read_csv(tmp_path / "other" / "manifest.csv")
    assert not other["scanner"].equals(pd.read_csv(mixed / "manifest.csv")["scanner"])


def test_stamp_records_the_design_and_another_design_is_never_reused(mixed, tmp_path):
    stamp = json.loads((mixed / datasets._MARKER).read_text())
    assert stamp["arguments"]["scanners"] == "mixed"
    assert check_demo_cohort(mixed, n_cases=N, random_state=3, scanners="mixed") is None
    why = check_demo_cohort(mixed, n_cases=N, random_state=3)
    assert why == "written with scanners='mixed', asked for scanners='single'"
    # a single-design folder (whose stamp, as before the option existed, has no such key)
    single = tmp_path / "single"
    make_demo_cohort(single, n_cases=8, random_state=3)
    assert "scanners" not in json.loads((single / datasets._MARKER).read_text())["arguments"]
    assert check_demo_cohort(single, n_cases=8, random_state=3) is None
    assert check_demo_cohort(single, n_cases=8, random_state=3, scanners="mixed") == (
        "written with scanners='single', asked for scanners='mixed'"
    )
    before = _tree(single)
    make_demo_cohort(single, n_cases=8, random_state=3, scanners="mixed", reuse=True,
                     overwrite=True)  # fmt: skip
    assert set(pd.read_csv(single / "manifest.csv")["scanner"]) >= {"A", "B"}
    assert _tree(single) != before


@pytest.mark.parametrize("bad", ["Mixed", "", None, 2])
def test_bad_design_is_refused(tmp_path, bad):
    with pytest.raises(InputError, match="`scanners` must be one of"):
        make_demo_cohort(tmp_path / "out", n_cases=8, scanners=bad)
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="`scanners` must be one of"):
        check_demo_cohort(tmp_path, n_cases=8, scanners=bad)


def test_cli_demo_option():
    parser = build_parser()
    assert parser.parse_args(["demo"]).scanners == "single"
    assert parser.parse_args(["demo", "--scanners", "mixed"]).scanners == "mixed"
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--scanners", "three"])


def test_scanner_c_appearance(mixed):
    """Scanner C (docs/demo_cohort.md): about A's grey level, coarser displayed speckle than A
    (its smoothing outweighs its finer point-spread function), and B darker than both."""
    table = pd.read_csv(mixed / "manifest.csv", keep_default_na=False)
    stats = []
    for _, row in table.iterrows():
        path = mixed / row["tumor_image"]
        image = _load(path).astype(float)
        mask = _load(mixed / row["tumor_mask"]) > 0
        spacing = (float(row["spacing"]) if row["spacing"]
                   else sitk.ReadImage(str(path)).GetSpacing()[0])  # fmt: skip
        stats.append((row["scanner"], image[~mask].mean(), _speckle_width_mm(image, spacing)))
    df = pd.DataFrame(stats, columns=["scanner", "bg", "speckle"]).groupby("scanner").mean()
    assert abs(df.loc["C", "bg"] - df.loc["A", "bg"]) < 8
    assert df.loc["A", "bg"] - df.loc["B", "bg"] > 5
    assert df.loc["C", "speckle"] > 1.2 * df.loc["A", "speckle"]


def test_uniform_design_is_the_single_design_with_the_external_cohort_on_scanner_a(tmp_path):
    """The counterfactual of the harmonization benchmark: the same patients, every image on A.
    Only the external cohort's files differ from the single design's; its patients keep their
    latent traits, outcomes and clinical data, while what an examination draws anew (speckle,
    outline details, the measured size) may differ, as at a second examination."""
    make_demo_cohort(tmp_path / "single", n_cases=N, random_state=3)
    make_demo_cohort(tmp_path / "uniform", n_cases=N, random_state=3, scanners="uniform")
    single = pd.read_csv(tmp_path / "single" / "manifest.csv", dtype=str, keep_default_na=False)
    uniform = pd.read_csv(tmp_path / "uniform" / "manifest.csv", dtype=str, keep_default_na=False)
    same = ["case_id", "cohort", datasets.DEMO_OUTCOME, "age", "er", "pr", "her2", "ki67",
            "grade", "us_aln_status", datasets.DEMO_NODE_COUNT]  # fmt: skip
    pd.testing.assert_frame_equal(single[same], uniform[same])
    assert set(uniform["scanner"]) == {"A"}
    assert uniform["tumor_image"].str.endswith(".png").all()
    external = single["cohort"] == "external"
    pd.testing.assert_frame_equal(single[~external], uniform[~external].assign(
        scanner=single.loc[~external, "scanner"]))  # fmt: skip
    a, b = _tree(tmp_path / "single"), _tree(tmp_path / "uniform")
    ext_ids = set(single.loc[external, "case_id"])
    for rel in a.keys() & b.keys():
        if rel.startswith("cases/"):
            assert (a[rel] == b[rel]) == (rel.split("/")[1] not in ext_ids), rel
    t_single = pd.read_csv(tmp_path / "single" / "truth.csv")
    t_uniform = pd.read_csv(tmp_path / "uniform" / "truth.csv")
    traits = ["case_id", "heterogeneity", "infiltration", "node_cortex", "linear_predictor",
              "true_size_mm", "halo_mm", "n_positive_nodes"]  # fmt: skip
    pd.testing.assert_frame_equal(t_single[traits], t_uniform[traits])
    assert build_parser().parse_args(["demo", "--scanners", "uniform"]).scanners == "uniform"
