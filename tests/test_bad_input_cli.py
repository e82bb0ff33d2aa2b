"""Bad input at the command line: unwritable outputs, bad arguments, missing files, signals.

Every case asserts the documented exit status (docs/cli.md: 1 bad input, 2 usage, 3 an output
cannot be written, 130/143 interrupted), a one-line message on stderr that names the path or
option at fault, and that no traceback is printed. Outputs are checked before any work: the
tests make the expensive step fail loudly if it is reached.

The tests run as root, so file permissions do not stop a write; unwritable places are made
with a path below a regular file, ``/proc`` (no new files for anyone), ``/dev/full`` (every
write fails with ENOSPC) or a mocked ``OSError``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from radiomics_aln.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_manifest(tmp_path_factory) -> Path:
    """A tiny demo cohort (8 patients, the smallest make_demo_cohort makes)."""
    from radiomics_aln.datasets import make_demo_cohort

    folder = tmp_path_factory.mktemp("cli_bad") / "data"
    return Path(make_demo_cohort(folder, n_cases=8, random_state=1).path)


@pytest.fixture
def no_work(monkeypatch):
    """Make every expensive step fail loudly: a refusal must come before any of them."""
    from radiomics_aln import datasets, extraction, study

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the output path was checked")

    monkeypatch.setattr(extraction, "extract_features", forbidden)
    monkeypatch.setattr(study.Study, "fit", forbidden)
    monkeypatch.setattr(datasets, "make_demo_cohort", forbidden)


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1, err
    return errors[0]


def _a_file(tmp_path: Path) -> Path:
    f = tmp_path / "notes.txt"
    f.write_text("a regular file\n")
    return f


def _config(tmp_path: Path, manifest: Path) -> Path:
    cfg = tmp_path / "study.yaml"
    cfg.write_text(f"manifest: {manifest}\noutcome: aln_metastasis\nclinical: [age]\n")
    return cfg


# ------------------------------------------------------------------ unwritable outputs (3)

# (id, command builder, the text the message must contain); every builder gets tmp_path,
# a regular file in it, the manifest and a config, and returns (argv, named path).
OUTPUTS = {
    "extract_out_below_a_file": lambda t, f, m, c: (
        ["extract", str(m), "--out", str(f / "features.csv")], str(f)),
    "extract_out_is_a_folder": lambda t, f, m, c: (
        ["extract", str(m), "--out", str(t)], str(t)),
    "extract_out_in_proc": lambda t, f, m, c: (
        ["extract", str(m), "--out", "/proc/radiomics_aln/features.csv"], "/proc/radiomics_aln"),
    "extract_cache_dir_below_a_file": lambda t, f, m, c: (
        ["extract", str(m), "--out", str(t / "f.csv"), "--cache-dir", str(f / "cache")], str(f)),
    "extract_cache_dir_is_a_file": lambda t, f, m, c: (
        ["extract", str(m), "--out", str(t / "f.csv"), "--cache-dir", str(f)], str(f)),
    "fit_out_is_a_file": lambda t, f, m, c: (["fit", str(c), "--out", str(f)], str(f)),
    "fit_out_below_a_file": lambda t, f, m, c: (
        ["fit", str(c), "--out", str(f / "results")], str(f)),
    "evaluate_out_in_proc": lambda t, f, m, c: (
        ["evaluate", str(c), "--out", "/proc/radiomics_aln_out"], "/proc/radiomics_aln_out"),
    "evaluate_tables_is_a_file": lambda t, f, m, c: (
        ["evaluate", str(c), "--out", str(f.parent)], str(f.parent / "tables")),
    "report_out_is_a_folder": lambda t, f, m, c: (["report", str(c), "--out", str(t)], str(t)),
    "icc_out_below_a_file": lambda t, f, m, c: (
        ["icc", str(f), "--repeat", str(f), "--out", str(f / "icc.csv")], str(f)),
    "init_out_below_a_file": lambda t, f, m, c: (["init", "--out", str(f / "s.yaml")], str(f)),
    "demo_out_is_a_file": lambda t, f, m, c: (["demo", "--out", str(f)], str(f)),
    "predict_out_is_a_folder": lambda t, f, m, c: (
        ["predict", str(f), str(m), "--out", str(t)], str(t)),
    "predict_cache_dir_below_a_file": lambda t, f, m, c: (
        ["predict", str(f), str(m), "--out", str(t / "p.csv"), "--cache-dir", str(f / "c")],
        str(f)),
}  # fmt: skip


@pytest.mark.parametrize("case", list(OUTPUTS), ids=list(OUTPUTS))
def test_unwritable_output_is_refused_before_any_work(case, tmp_path, demo_manifest, no_work,
                                                      capsys):  # fmt: skip
    f = _a_file(tmp_path)
    if case == "evaluate_tables_is_a_file":
        (tmp_path / "tables").write_text("not a folder")
    argv, named = OUTPUTS[case](tmp_path, f, demo_manifest, _config(tmp_path, demo_manifest))
    assert main(["-q", *argv]) == 3
    line = _error_line(capsys)
    assert line.startswith(f"radiomics-aln {argv[0]}: error: "), line
    assert named in line, line


@pytest.mark.slow
def test_disk_full_while_writing_features_keeps_the_cache(tmp_path, demo_manifest, monkeypatch,
                                                          capsys):  # fmt: skip
    """ENOSPC while the table is written: exit 3 naming the file; a rerun computes nothing."""
    out, cache = tmp_path / "features.csv", tmp_path / "cache"
    real_to_csv = pd.DataFrame.to_csv

    def full(self, path=None, *args, **kwargs):
        if path is not None and Path(path).parent == out.parent:  # the table or its temp file
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_to_csv(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    argv = ["-q", "extract", str(demo_manifest), "--rois", "tumor", "--outcome",
            "aln_metastasis", "--out", str(out), "--cache-dir", str(cache)]  # fmt: skip
    assert main(argv) == 3
    line = _error_line(capsys)
    assert f"cannot write {out}: No space left on device" in line
    assert str(cache) in line  # says where the finished ROIs are
    assert [p.name for p in tmp_path.iterdir()] == ["cache"]  # no partial table left
    monkeypatch.setattr(pd.DataFrame, "to_csv", real_to_csv)
    assert main(argv) == 0
    assert "(0 ROIs computed, 8 cached)" in capsys.readouterr().out


@pytest.mark.slow
def test_interrupted_write_never_leaves_a_truncated_table(tmp_path, demo_manifest, monkeypatch,
                                                          capsys):  # fmt: skip
    """Ctrl-C while features.csv is written: the complete table of the last run stays."""
    out, cache = tmp_path / "features.csv", tmp_path / "cache"
    argv = ["-q", "extract", str(demo_manifest), "--rois", "tumor", "--outcome",
            "aln_metastasis", "--out", str(out), "--cache-dir", str(cache)]  # fmt: skip
    assert main(argv) == 0
    complete = out.read_bytes()

    def half_then_interrupt(self, path=None, *args, **kwargs):
        Path(path).write_bytes(complete[: len(complete) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_interrupt)
    assert main(argv) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "radiomics-aln extract: interrupted"
    assert out.read_bytes() == complete
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "features.csv"]


@pytest.fixture
def stub_model(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A model file and a feature table for `predict`, with StudyModel stubbed (one row)."""
    from radiomics_aln import model as model_module

    table = tmp_path / "features.csv"
    pd.DataFrame({"x": [1.0]}, index=pd.Index(["a"], name="case_id")).to_csv(table)
    model = tmp_path / "model.json"
    model.write_text("{}")

    class Model:
        @staticmethod
        def from_json(path):
            return Model()

        def predict(self, data, **kwargs):
            return pd.DataFrame({"probability": [0.5], "risk_group": ["low"]}, index=["a"])

    monkeypatch.setattr(model_module, "StudyModel", Model)
    return model, table


def test_dev_full_predictions(stub_model, capsys):
    """`predict --out /dev/full`: every write fails (ENOSPC); one line naming /dev/full."""
    model, table = stub_model
    assert main(["-q", "predict", str(model), str(table), "--out", "/dev/full"]) == 3
    assert "cannot write /dev/full: No space left on device" in _error_line(capsys)


def test_output_through_a_link_keeps_the_link(stub_model, tmp_path, capsys):
    """`--out` a symbolic link (as /dev/stdout is): written through it, never renamed over it."""
    model, table = stub_model
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old\n")
    link.symlink_to(real)
    assert main(["-q", "predict", str(model), str(table), "--out", str(link)]) == 0
    assert link.is_symlink() and "a,0.5,low" in real.read_text()


# ------------------------------------------------------------------ bad arguments (2)

ARGUMENTS = {
    "extract_n_jobs_zero": (["extract", "{m}", "--n-jobs", "0"], "--n-jobs"),
    "extract_unknown_roi": (["extract", "{m}", "--rois", "tumour"], "tumour"),
    "extract_empty_rois": (["extract", "{m}", "--rois", ","], "--rois"),
    "extract_negative_ring": (["extract", "{m}", "--width-mm", "-5"], "--width-mm"),
    "extract_nan_ring": (["extract", "{m}", "--width-mm", "nan"], "--width-mm"),
    "extract_out_not_csv_or_parquet": (["extract", "{m}", "--out", "{t}/f.xlsx"], "f.xlsx"),
    "icc_threshold_above_1": (["icc", "{m}", "--repeat", "{m}", "--threshold", "1.5"],
                              "--threshold"),
    "icc_without_repeats": (["icc", "{m}"], "--reader2"),
    "demo_too_few_cases": (["demo", "--out", "{t}/d", "--n-cases", "3"], "--n-cases"),
    "demo_n_jobs_zero": (["demo", "--out", "{t}/d", "--n-jobs", "0"], "--n-jobs"),
    "fit_n_jobs_zero": (["fit", "{c}", "--n-jobs", "0"], "--n-jobs"),
    "predict_n_jobs_zero": (["predict", "{m}", "{m}", "--n-jobs", "0"], "--n-jobs"),
    "init_existing_without_force": (["init", "--out", "{c}"], "--force"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ARGUMENTS), ids=list(ARGUMENTS))
def test_bad_argument_is_a_usage_error(case, tmp_path, demo_manifest, no_work, capsys):
    argv, named = ARGUMENTS[case]
    cfg = _config(tmp_path, demo_manifest)
    subs = {"{m}": str(demo_manifest), "{t}": str(tmp_path), "{c}": str(cfg)}
    for key, value in subs.items():
        argv = [a.replace(key, value) for a in argv]
    assert main(["-q", *argv]) == 2
    line = _error_line(capsys)
    assert line.startswith(f"radiomics-aln {argv[0]}: error: "), line
    assert named in line, line


# ------------------------------------------------------------------ missing or wrong files (1)

FILES = {
    "extract_manifest_missing": (["extract", "{t}/nope.csv", "--out", "{t}/f.csv"], "nope.csv"),
    "extract_manifest_is_a_folder": (["extract", "{t}", "--out", "{t}/f.csv"], "{t}"),
    "extract_params_missing": (["extract", "{m}", "--out", "{t}/f.csv", "--params",
                                "{t}/nope.yaml"], "nope.yaml"),
    "fit_config_is_a_folder": (["fit", "{t}", "--out", "{t}/o"], "{t}"),
    "predict_model_missing": (["predict", "{t}/model.json", "{m}", "--out", "{t}/p.csv"],
                              "model.json"),
    "predict_data_missing": (["predict", "{c}", "{t}/new.csv", "--out", "{t}/p.csv"],
                             "new.csv"),
    "icc_reader2_missing": (["icc", "{m}", "--reader2", "{t}/r2.csv"], "r2.csv"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(FILES), ids=list(FILES))
def test_missing_or_wrong_input_file(case, tmp_path, demo_manifest, monkeypatch, capsys):
    argv, named = FILES[case]
    cfg = _config(tmp_path, demo_manifest)
    subs = {"{m}": str(demo_manifest), "{t}": str(tmp_path), "{c}": str(cfg)}
    for key, value in subs.items():
        argv = [a.replace(key, value) for a in argv]
        named = named.replace(key, value)
    monkeypatch.chdir(tmp_path)
    assert main(["-q", *argv]) == 1
    line = _error_line(capsys)
    assert line.startswith(f"radiomics-aln {argv[0]}: error: "), line
    assert named in line, line


# ------------------------------------------------------------------ reruns


@pytest.mark.slow
def test_rerun_without_failures_removes_the_stale_failures_file(tmp_path, demo_manifest, capsys):
    out = tmp_path / "features.csv"
    stale = tmp_path / "features_failures.csv"
    stale.write_text("case_id,roi,reader,file,error\ncase0001,tumor,reader1,x.png,old\n")
    argv = ["-q", "extract", str(demo_manifest), "--rois", "tumor", "--out", str(out),
            "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    assert main(argv) == 0
    assert not stale.exists()
    assert "features_failures" not in capsys.readouterr().out


# ------------------------------------------------------------------ processes and logs


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process, from /proc (psutil may be absent)."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        table[int(name)] = (int(fields[1]), fields[0])
    return table


def _descendants(pid: int) -> set[int]:
    table = _proc_table()
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, _) in table.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    table = _proc_table()
    return {p for p in pids if p in table and table[p][1] not in "ZX"}


def _cli(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path, Path]:
    """Start the CLI; stdout/stderr go to files (a leftover worker would hold a pipe open)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as fo, err.open("w") as fe:
        proc = subprocess.Popen([sys.executable, "-m", "radiomics_aln", *args], env=env,
                                stdout=fo, stderr=fe, text=True)  # fmt: skip
    return proc, out, err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "status", "command"),
    [(signal.SIGINT, 130, "extract"), (signal.SIGTERM, 143, "extract"),
     (signal.SIGTERM, 143, "predict")],  # fmt: skip
    ids=["extract_sigint", "extract_sigterm", "predict_sigterm"],
)
@pytest.mark.slow
def test_signal_leaves_no_worker_behind(sig, status, command, tmp_path, demo_manifest):
    if command == "extract":
        argv = ["extract", str(demo_manifest), "--out", str(tmp_path / "f.csv"), "--n-jobs", "2",
                "--outcome", "aln_metastasis"]  # fmt: skip
    else:  # predict extracts the manifest's features before it needs the model's numbers
        model = tmp_path / "model.json"
        model.write_text(_tiny_model_json())
        argv = ["predict", str(model), str(demo_manifest), "--out", str(tmp_path / "p.csv"),
                "--n-jobs", "2"]  # fmt: skip
    proc, _, err_file = _cli(tmp_path, "-q", *argv)
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            seen |= _descendants(proc.pid)
            if len(seen) >= 2:  # the loky workers are up (and busy importing or extracting)
                break
            time.sleep(0.1)
        assert proc.poll() is None and len(seen) >= 2, "the workers never started"
        time.sleep(1.5)
        seen |= _descendants(proc.pid)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        err = err_file.read_text()
        assert proc.returncode == status, err
        assert "Traceback" not in err, err
        lines = _own_lines(err)
        assert lines[-1] == f"radiomics-aln {command}: interrupted", err
        deadline = time.monotonic() + 10
        while _alive(seen) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(seen), f"worker processes left behind: {sorted(_alive(seen))}"
    finally:  # never leave this test's own processes running, whatever failed
        for pid in _alive(seen | {proc.pid}):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _own_lines(err: str) -> list[str]:
    """The non-empty stderr lines, without loky's resource-tracker warnings: that separate
    process may report, after the CLI has exited, a semaphore it cleaned up for a worker the
    signal stopped; Python echoes the warning's source line under it."""
    out, echo = [], False
    for line in err.splitlines():
        if not line.strip():
            continue
        if "resource_tracker" in line and "UserWarning" in line:
            echo = True
            continue
        if echo and line.startswith(" "):
            echo = False
            continue
        echo = False
        out.append(line)
    return out


def _tiny_model_json() -> str:
    """A real StudyModel file (one tumour score, two logistic models) fitted on toy numbers."""
    import numpy as np

    from radiomics_aln.model import StudyModel
    from radiomics_aln.nomogram import LogisticNomogram
    from radiomics_aln.score import RadScore

    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame({"tumor__original_firstorder_Mean": rng.normal(size=n),
                      "tumor__original_firstorder_Median": rng.normal(size=n)})  # fmt: skip
    y = (X.iloc[:, 0] + rng.normal(size=n) > 0).astype(int).to_numpy()
    score = RadScore(name="tumor_score", fixed_lambda=0.01).fit(X, y)
    clin = pd.DataFrame({"age": rng.normal(50, 10, n)})
    clinical = LogisticNomogram().fit(clin, y)
    combined = LogisticNomogram().fit(clin.assign(tumor_score=score.transform(X)), y)
    settings = {"outcome": "aln_metastasis", "params": "ultrasound_2d", "width_mm": 5.0,
                "cutoff": 0.5, "points_cutoff": 50.0, "clinical_cutoff": 0.5}  # fmt: skip
    return StudyModel(["tumor"], {"tumor": score}, clinical, combined, settings).to_json()


@pytest.mark.slow
@pytest.mark.parametrize("n_jobs", ["1", "2"])
@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "verbose"])
def test_no_pyradiomics_log_on_the_terminal(n_jobs, quiet, tmp_path, demo_manifest):
    argv = ["extract", str(demo_manifest), "--rois", "tumor", "--out", str(tmp_path / "f.csv"),
            "--n-jobs", n_jobs, "--outcome", "aln_metastasis"]  # fmt: skip
    proc, out_file, err_file = _cli(tmp_path, *(["-q"] if quiet else []), *argv)
    proc.wait(timeout=300)
    err = err_file.read_text()
    assert proc.returncode == 0, err
    assert "radiomics." not in err and "GLCM is symmetrical" not in err, err[:2000]
    assert "8 cases x" in out_file.read_text()


def test_failed_command_leaves_no_empty_output_folder(tmp_path, capsys):
    bad = tmp_path / "m.csv"
    bad.write_text("case_id,cohort,tumor_image,tumor_mask\na,train,nope.png,nope_mask.png\n")
    out = tmp_path / "new" / "sub" / "features.csv"
    assert main(["-q", "extract", str(bad), "--out", str(out)]) == 1
    assert "nope.png" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


@pytest.mark.filterwarnings("ignore::radiomics_aln.exceptions.SmallSampleWarning")  # 5 cases
def test_score_cv_with_too_few_cases_per_class():
    """`demo --n-cases 20`: 10-fold CV on 6 + 5 training cases; InputError, not sklearn's."""
    import numpy as np

    from radiomics_aln.exceptions import InputError
    from radiomics_aln.score import RadScore

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"tumor__a": rng.normal(size=11), "tumor__b": rng.normal(size=11)})
    y = np.array([0] * 6 + [1] * 5)
    with pytest.raises(InputError, match=r"cv=10 folds .* 6 without and 5 with the outcome"):
        RadScore(cv=10, random_state=0).fit(X, y)
