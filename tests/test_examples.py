"""Every script in examples/ runs as a user would run it, and the README's notebook snippet works.

Each example runs in a subprocess (``sys.executable``, cwd = repository root, ``--out`` =
``tmp_path``, ``MPLBACKEND=Agg``) with small sizes; the tests check the exit code, the files the
example promises in its docstring, and one cheap number per example. The two whole-study examples
(demo cohort, real BrEaST-Lesions-USG images) extract features from dozens of images and are
marked slow.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import radiomics_aln as ra
from radiomics_aln.extraction import ExtractionResult

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ALL_EXAMPLES = sorted(p.name for p in EXAMPLES.glob("*.py"))


def run_example(name: str, *args: str, timeout: float = 900) -> str:
    """Run ``examples/<name>`` with ``args``; fail with its output unless it exits with 0."""
    env = os.environ | {"MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, (
        f"{name} exited with {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
        f"\n--- stderr\n{proc.stderr[-4000:]}"
    )
    return proc.stdout


def assert_files(folder: Path, *names: str) -> None:
    missing = [n for n in names if not (folder / n).is_file()]
    assert not missing, f"missing in {folder}: {missing}"


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_examples_use_the_public_api_and_one_cli(name):
    """``import radiomics_aln as ra`` for top-level names; other names from their public module
    (in its ``__all__``, never a top-level name by a second route); --out."""
    source = (EXAMPLES / name).read_text()
    assert "import radiomics_aln as ra" in source
    for match in re.finditer(r"^from radiomics_aln\.(\w+) import (.*)$", source, re.MULTILINE):
        module, names = match.group(1), [n.strip() for n in match.group(2).split(",")]
        assert not module.startswith("_"), f"{name}: private module in {match.group(0)!r}"
        public = importlib.import_module(f"radiomics_aln.{module}").__all__
        assert set(names) <= set(public), f"{name}: not in {module}.__all__: {match.group(0)!r}"
        assert not set(names) & set(ra.__all__), f"{name}: use ra.<name> for {match.group(0)!r}"
    used = set(re.findall(r"\bra\.(\w+)", source))
    assert used <= set(ra.__all__), f"{name}: not public: {sorted(used - set(ra.__all__))}"
    doc = source.split('"""')[1]
    assert f"python examples/{name}" in doc and "--out DIR" in doc and "Time:" in doc
    assert re.search(r'add_argument\(\s*"--out", type=Path, metavar="DIR"', source)


@pytest.mark.slow
def test_evaluate_model(tmp_path):
    out = run_example("evaluate_model.py", "--out", str(tmp_path))
    assert_files(tmp_path, "table3.csv", "roc.png", "decision.png", "risk_groups.png")
    assert str(tmp_path) in out
    perf = pd.read_csv(tmp_path / "table3.csv").set_index(["cohort", "model"])
    assert perf["auc"].between(0.5, 1).all()
    # the nomogram carries extra signal: better on every cohort
    for cohort in ("Training", "Internal validation", "External validation"):
        assert perf.loc[(cohort, "Nomogram"), "auc"] > perf.loc[(cohort, "Clinical model"), "auc"]


@pytest.mark.slow
def test_mrmc_reader_study(tmp_path):
    run_example("mrmc_reader_study.py", "--out", str(tmp_path))
    assert_files(tmp_path, "mrmc_summary.csv", "mrmc_reader_auc.csv", "mrmc.png")
    summary = pd.read_csv(tmp_path / "mrmc_summary.csv").set_index("analysis")
    # the nomogram session is better: a negative "US - US + nomogram" difference
    assert (summary["estimate"] < 0).all()
    assert summary.loc["random readers, random cases", "p_value"] < 0.05
    assert len(pd.read_csv(tmp_path / "mrmc_reader_auc.csv")) == 12


@pytest.mark.slow
def test_tumor_score(tmp_path):
    run_example("tumor_score.py", "--out", str(tmp_path))
    assert_files(tmp_path, "tumor_score.png", "tumor_score.json", "tumor_score_values.csv")
    values = pd.read_csv(tmp_path / "tumor_score_values.csv", index_col="case_id")
    external = values[values["cohort"] == "external"]
    auc = ra.roc_auc(external["outcome"], external["tumor_score"])["estimate"].iloc[0]
    assert 0.5 < auc <= 1
    score = ra.RadScore.from_json(tmp_path / "tumor_score.json")
    assert 0 < len(score.selected_features_) < len(score.feature_names_in_)


@pytest.mark.slow
def test_nomogram(tmp_path):
    run_example("nomogram.py", "--out", str(tmp_path), "--n-boot", "10")
    assert_files(tmp_path, "nomogram.png", "calibration.png", "nomogram.json")
    validation = pd.read_csv(tmp_path / "bootstrap_validation.csv", index_col=0)
    assert 0.5 < validation.loc["auc", "corrected"] <= validation.loc["auc", "apparent"] <= 1
    assert (validation["n"] == 10).all()
    nomo = ra.LogisticNomogram.from_json(tmp_path / "nomogram.json")
    assert "ln_score" in nomo.predictors_


@pytest.mark.slow
def test_roi_demo(tmp_path):
    run_example("roi_demo.py", "--out", str(tmp_path), "--cases", "case175", "case101")
    assert_files(tmp_path, "roi_demo.png", "roi_coverage.csv")
    cov = pd.read_csv(tmp_path / "roi_coverage.csv", index_col="case")
    assert list(cov.index) == ["case175", "case101"]
    assert cov["coverage"].between(0, 1).all()
    assert cov.loc["case101", "coverage"] == 1.0  # lesion far from the edge: the whole ring
    # near the edge of the field of view; 0.606 is the value measured over all of BrEaST
    assert cov.loc["case175", "coverage"] == pytest.approx(0.606, abs=0.002)


@pytest.mark.slow
def test_extract_features(tmp_path):
    out = run_example("extract_features.py", "--out", str(tmp_path), "--n-cases", "2")
    assert_files(tmp_path, "features.parquet", "diagnostics.parquet", "failures.csv",
                 "data/manifest.csv")  # fmt: skip
    features = ra.read_features(tmp_path / "features.parquet")
    assert features.shape[0] == 2 and features.index.name == "case_id"
    rois = set(features.columns.str.split("__").str[0])
    assert rois == {"tumor", "peritumoral", "ln"}
    assert np.isfinite(features.to_numpy()).all()
    assert "failures: 0" in out and "identical tables: True" in out
    assert "same features as the mask without the speck: True" in out
    assert "identical = True" in out


@pytest.mark.slow
def test_icc_filter(tmp_path):
    run_example("icc_filter.py", "--out", str(tmp_path), "--n-cases", "16")
    assert_files(tmp_path, "icc_table.csv", "icc_filter.json", "icc_distribution.png")
    filt = ra.ICCFilter.from_json(tmp_path / "icc_filter.json")
    assert 0 < len(filt.selected_features_) < filt.n_features_in_
    table = pd.read_csv(tmp_path / "icc_table.csv")
    assert set(table["comparison"]) == {"inter", "intra"}
    finite = table["estimate"].dropna()
    assert len(finite) > 0.9 * len(table) and (finite <= 1).all()
    # kept = ICC >= 0.80 in both comparisons
    passed = table.groupby("feature")["passed"].all()
    assert sorted(passed.index[passed]) == sorted(filt.selected_features_)


@pytest.mark.slow
def test_hybrid_features(tmp_path):
    out = run_example("hybrid_features.py", "--out", str(tmp_path))
    assert_files(tmp_path, "deep_tumor.csv", "deep_ln.csv", "model.json", "table3.csv",
                 "score_coefficients.csv", "predictions.csv")  # fmt: skip
    assert "same probabilities: True" in out
    model = ra.StudyModel.from_json(tmp_path / "model.json")
    used = model.settings["external_features"]["tumor"]["columns"]
    assert used and set(used) <= set(model.scores["tumor"].feature_names_in_)
    coefs = pd.read_csv(tmp_path / "score_coefficients.csv")
    assert coefs["feature"].str.startswith("tumor__deep_").any()
def test_perturbation_robustness(tmp_path):
    out = run_example("perturbation_robustness.py", "--out", str(tmp_path), "--fast",
                      "--max-cases", "6", "--perturbations", "4")  # fmt: skip
    assert_files(tmp_path, "comparison.csv")
    table = pd.read_csv(tmp_path / "comparison.csv", index_col=0)
    assert table["kept_perturbation"].any() and table["kept_readers"].any()
    # every feature is in the table once, with both ICCs
    assert table.index.is_unique and table["icc1_perturbation"].notna().mean() > 0.9
    assert "Jaccard index" in out


@pytest.mark.slow
def test_perturbation_study(tmp_path):
    out = run_example("perturbation_study.py", "--out", str(tmp_path), "--n-cases", "40",
                      "--perturbations", "2", "--cases", "4", "--n-jobs", "1")  # fmt: skip
    assert_files(tmp_path / "study", "report.html", "tables/icc.csv")
    icc = pd.read_csv(tmp_path / "study" / "tables" / "icc.csv")
    assert set(icc["comparison"]) == {"perturbation"} and set(icc["type"]) == {"ICC1"}
    assert "perturbed training cases: 4 of" in out and "test-cohort cases perturbed: 0" in out


def test_folder_dataset(tmp_path):
    out = run_example("folder_dataset.py", "--out", str(tmp_path))
    assert_files(tmp_path, "manifest.csv", "manifest_issues.csv", "split_manifest.csv")
    assert "Spacing: NOT GIVEN" in out and "normal: excluded" in out
    split = ra.read_manifest(tmp_path / "split_manifest.csv")
    assert len(split) == 6 and split["benign (2)"].spacing == pytest.approx((0.0591, 0.0591), abs=1e-4)
    cohorts = split.table["cohort"]
    assert cohorts["benign (1)"] == cohorts["benign (9)"]  # identical images, one cohort
    assert cohorts.value_counts().to_dict() == {"train": 4, "test": 2}


@pytest.mark.slow
def test_full_study(tmp_path):
    """The whole demo study on the smallest cohort that fits every step: 50 patients, ~2 min.

    (40 patients, i.e. 20 for training, stop with complete separation in the stepwise model.)
    """
    out = run_example("full_study.py", "--out", str(tmp_path), "--n-cases", "50")
    assert "Report:" in out
    assert_files(tmp_path, "report.html", "model.json", "tables/table3_full.csv",
                 "tables/delong.csv", "figures/nomogram.png")  # fmt: skip
    perf = pd.read_csv(tmp_path / "tables" / "table3_full.csv")
    # test cohorts of 6-12 patients are too small for a sane AUC bound; training is not
    assert perf.loc[perf["cohort"] == "Training", "auc"].between(0.5, 1).all()
    assert set(perf["cohort"]) == {"Training", "Internal test", "External test",
                                   "Prospective test"}  # fmt: skip
    ra.StudyModel.from_json(tmp_path / "model.json")


@pytest.mark.slow
@pytest.mark.needs_shared
def test_breast_lesions_study(breast_dir, tmp_path):
    """The real-data study on a stratified subset of 40 lesions."""
    shared = breast_dir.parents[1]  # <shared>/data/BrEaST-Lesions-USG
    out = run_example("breast_lesions_study.py", "--out", str(tmp_path), "--shared",
                      str(shared), "--max-cases", "40")  # fmt: skip
    assert "40 lesions" in out
    assert_files(tmp_path, "manifest.csv", "report.html", "model.json", "tables/table3_full.csv")
    perf = pd.read_csv(tmp_path / "tables" / "table3_full.csv")
    train = perf[perf["cohort"].str.startswith("Training")]
    assert train["auc"].between(0.5, 1).all()


def test_breast_lesions_study_needs_the_dataset(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "breast_lesions_study.py"), "--shared", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "BrEaST-Lesions-USG not found" in proc.stderr


def readme_notebook_snippet() -> str:
    """The python block of README.md's section "In a notebook"."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## In a notebook", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "expected one python block in README's 'In a notebook'"
    return blocks[0]


def run_readme_snippet(tmp_path: Path) -> dict:
    """Execute README's notebook code with its demo folder in tmp_path and 8 patients, not 200."""
    code = readme_notebook_snippet()
    assert code.count('"demo_data') == 2 and code.count("random_state=0") == 1
    demo = (tmp_path / "demo_data").as_posix()
    code = code.replace('"demo_data', f'"{demo}')
    code = code.replace("random_state=0", "n_cases=8, random_state=0")  # 200 take minutes
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace


@pytest.mark.slow
def test_readme_notebook_snippet(tmp_path):
    namespace = run_readme_snippet(tmp_path)
    cohort, feats = namespace["cohort"], namespace["feats"]
    assert isinstance(cohort, ra.Manifest) and len(cohort) == 8
    assert isinstance(feats, ExtractionResult)
    assert feats.features.shape[0] == 8 and feats.failures.empty
    assert feats.n_computed == 24  # 8 patients x tumour, ring, lymph node
    assert (tmp_path / "demo_data" / ".cache").is_dir()


@pytest.mark.slow
def test_readme_notebook_snippet_runs_twice(tmp_path):
    """A notebook cell is run again: the demo cohort and the cache are reused."""
    run_readme_snippet(tmp_path)
    manifest = tmp_path / "demo_data" / "manifest.csv"
    before = manifest.stat().st_mtime_ns
    feats = run_readme_snippet(tmp_path)["feats"]
    assert feats.n_cached == 24 and feats.n_computed == 0
    assert manifest.stat().st_mtime_ns == before  # not written again


NOTEBOOK = EXAMPLES / "quickstart.ipynb"


def notebook_cells(path: Path = NOTEBOOK) -> list[dict]:
    """The cells of a notebook file (nbformat 4 JSON), read without Jupyter."""
    import json

    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4 and isinstance(nb["cells"], list)
    return nb["cells"]


def test_quickstart_notebook_is_committed_without_outputs():
    cells = notebook_cells()
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code, "no code cell"
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"][:1]
    source = "".join(line for c in code for line in c["source"])
    used = set(re.findall(r"\bra\.(\w+)", source))
    assert used <= set(ra.__all__), f"not public: {sorted(used - set(ra.__all__))}"


@pytest.mark.slow
# the notebook's 60-patient study is small by design: the EPV warning is what a user sees there
@pytest.mark.filterwarnings("ignore:events per variable:radiomics_aln.exceptions.SmallSampleWarning")
def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    """Every code cell of examples/quickstart.ipynb, in order, in one namespace (as a kernel
    runs them), in a temporary working folder; then once more (the cohort and features reused).
    About 40 s on 2 cores (the features of 60 patients), 10 s on the rerun."""
    import matplotlib as mpl

    mpl.use("Agg")
    monkeypatch.chdir(tmp_path)
    code = ["".join(c["source"]) for c in notebook_cells() if c["cell_type"] == "code"]
    for run in (1, 2):
        namespace: dict = {}
        for i, cell in enumerate(code):
            exec(compile(cell, f"quickstart.ipynb, code cell {i + 1}", "exec"), namespace)
        feats = namespace["feats"]
        assert feats.failures.empty and feats.features.shape[0] == 60
        assert (feats.n_computed, feats.n_cached) == ((120 + 60, 0) if run == 1 else (0, 180))
    # the objects the notebook shows display as HTML with their summary
    for name in ("feats", "nomogram", "calibration"):
        html = namespace[name]._repr_html_()
        assert html.startswith('<div class="radiomics-aln"') and "<table" in html, name
    assert "<table" in namespace["scores"]["tumor"]._repr_html_()
    auc = ra.roc_auc(namespace["y"][namespace["test"]], namespace["p_test"])["estimate"].iloc[0]
    assert 0.6 < auc <= 1


@pytest.mark.slow
def test_burden_study(tmp_path):
    out = run_example("burden_study.py", "--out", str(tmp_path))
    assert_files(tmp_path, "ordinal_nomogram.png", "step2_nomogram.png", "decision_table.csv",
                 "split_evaluation.csv", "burden_predictions.csv")  # fmt: skip
    ev = pd.read_csv(tmp_path / "split_evaluation.csv")
    assert ev["estimate"].between(0.7, 1).all()
    assert "Brant test" in out and "Ordinal C" in out
    # the saved study, loaded back, predicted new patients with both models
    assert (tmp_path / "burden_study" / "burden_model.json").is_file()
    pred = pd.read_csv(tmp_path / "burden_predictions.csv", index_col=0)
    assert len(pred) == 60 and set(pred["two_step_predicted"]) <= {"N0", "N1-2", "N>=3"}
    probs = pred[["ordinal_P(N0)", "ordinal_P(N1-2)", "ordinal_P(N>=3)"]].sum(axis=1)
    assert np.allclose(probs, 1)
