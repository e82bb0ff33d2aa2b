"""Progress of the long loops (issue 15): a tqdm bar in a terminal, plain lines in a log file.

When stderr is not a terminal (a log file, a pipe), extraction and the bootstrap write lines
with the units done / total, the failures, the elapsed time and an ETA, at every tenth of the
work or every ``seconds``; progress never changes a result.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radiomics_aln._progress import (
    ProgressLines,
    format_duration,
    progress_mode,
    progress_reporter,
    progress_settings,
)
from radiomics_aln.exceptions import InputError
from radiomics_aln.extraction import extract_features

LINE = re.compile(
    r"features: (\d+)/(\d+) cases done(?: \(\d+% of the work\))?, (\d+) failed, "
    r"elapsed \d+s, ETA (\d+s|unknown)"
)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_lines_at_every_tenth_and_every_interval():
    clock, lines = Clock(), []
    rep = ProgressLines(100, "features", "cases", seconds=30, sink=lines.append, clock=clock)
    assert lines == ["features: 100 cases to do"]
    for i in range(1, 100):
        clock.t = i * 0.5  # 0.5 s per case: the tenths come first
        rep.update(1, failed=int(i == 7))
    # a line at 10, 20, ..., 90 cases; none in between
    assert [int(LINE.search(x).group(1)) for x in lines[1:]] == list(range(10, 100, 10))
    assert lines[1] == "features: 10/100 cases done, 1 failed, elapsed 5s, ETA 45s"
    clock.t = 50
    rep.update(1)
    rep.close()
    rep.close()  # closing twice writes one last line
    assert lines[-1] == "features: 100/100 cases done, 1 failed, in 50s"
    assert len(lines) == 11


def test_a_line_every_interval_when_the_work_is_slow():
    clock, lines = Clock(), []
    rep = ProgressLines(1000, "features", "cases", seconds=30, sink=lines.append, clock=clock)
    for i in range(1, 11):
        clock.t = i * 10.0  # 10 s per case: a line every 30 s, long before a tenth
        rep.update(1)
    assert [x.split(",")[0] for x in lines[1:]] == [
        "features: 3/1000 cases done",
        "features: 6/1000 cases done",
        "features: 9/1000 cases done",
    ]
    assert lines[-1].endswith("elapsed 1m30s, ETA 2h45m")  # 991 cases left at 10 s
    rep.close()
    assert lines[-1] == "features: 10/1000 cases done when stopped, 0 failed, in 1m40s"


def test_format_duration():
    assert [format_duration(s) for s in (0, 59.4, 60, 3599, 3600, 86399)] == [
        "0s", "59s", "1m00s", "59m59s", "1h00m", "23h59m",
    ]  # fmt: skip


def test_mode_follows_the_argument_then_the_setting_then_the_terminal(monkeypatch):
    monkeypatch.delenv("RADIOMICS_ALN_PROGRESS", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert progress_mode(None) == "lines"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert progress_mode(None) == "bar"
    assert (progress_mode(True), progress_mode(False)) == ("bar", "off")
    assert progress_mode("lines") == "lines"
    monkeypatch.setenv("RADIOMICS_ALN_PROGRESS", "off")
    assert progress_mode(None) == "off"
    with progress_settings(mode="lines"):
        assert progress_mode(None) == "lines"
    assert progress_mode(None) == "off"
    monkeypatch.setenv("RADIOMICS_ALN_PROGRESS", "loud")  # a misspelt variable: auto
    assert progress_mode(None) == "bar"
    with pytest.raises(InputError, match="progress must be"):
        progress_mode("verbose")


def test_interval_from_settings_and_environment(monkeypatch):
    monkeypatch.setenv("RADIOMICS_ALN_PROGRESS_SECONDS", "5")
    assert progress_reporter(10, "x", "cases", progress="lines").seconds == 5
    with progress_settings(seconds=2):
        assert progress_reporter(10, "x", "cases", progress="lines").seconds == 2
    monkeypatch.setenv("RADIOMICS_ALN_PROGRESS_SECONDS", "-1")
    assert progress_reporter(10, "x", "cases", progress="lines").seconds == 30
    with pytest.raises(ValueError):
        with progress_settings(seconds=0):
            pass


# --------------------------------------------------------------------------- extraction


def _case(i: int, empty: bool = False) -> dict:
    rng = np.random.default_rng(i)
    img = sitk.GetImageFromArray(rng.normal(100, 20, (60, 60)))
    img.SetSpacing((0.1, 0.1))
    m = np.zeros((60, 60), np.uint8)
    if not empty:
        m[20:40, 15 : 45 - i] = 1
    msk = sitk.GetImageFromArray(m)
    msk.CopyInformation(img)
    return {"case_id": f"c{i}", "tumor_image": img, "tumor_mask": msk}


@pytest.fixture(scope="module")
def cases():
    return [_case(0), _case(1), _case(2, empty=True), _case(3)]


def test_extraction_writes_lines_when_stderr_is_not_a_terminal(cases, capsys, monkeypatch):
    monkeypatch.delenv("RADIOMICS_ALN_PROGRESS", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    res = extract_features(cases, rois=("tumor",), n_jobs=1)  # progress=None: auto
    err = capsys.readouterr().err
    assert "features: 4 cases to do (4 images, 1 worker)" in err
    found = [LINE.search(x) for x in err.splitlines() if LINE.search(x)]
    # a line at each tenth: each of the first three cases is 25 %
    assert [(m.group(1), m.group(2)) for m in found] == [("1", "4"), ("2", "4"), ("3", "4")]
    assert all(m.group(4) != "unknown" for m in found)
    assert re.search(r"features: 4/4 cases done, 1 failed, in \d+s", err)
    assert len(res.failures) == 1
    assert "\r" not in err  # no bar


def test_extraction_shows_a_bar_in_a_terminal(cases, capsys, monkeypatch):
    monkeypatch.delenv("RADIOMICS_ALN_PROGRESS", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    from radiomics_aln import _progress

    made = []
    real = _progress._Bar

    class Bar(real):
        def __init__(self, *args):
            made.append(args)
            super().__init__(*args)

    monkeypatch.setattr(_progress, "_Bar", Bar)
    extract_features(cases[:2], rois=("tumor",), n_jobs=1)
    err = capsys.readouterr().err
    assert made == [(2, "features", "cases")]
    assert "cases done" not in err


def test_progress_does_not_change_results(cases, capsys, tmp_path):
    a = extract_features(cases, rois=("tumor",), n_jobs=1, progress="lines")
    b = extract_features(cases, rois=("tumor",), n_jobs=2, progress="off")
    pd.testing.assert_frame_equal(a.features, b.features)
    pd.testing.assert_frame_equal(a.failures, b.failures)
    assert "cases done" in capsys.readouterr().err
    # from the cache: nothing left to extract, no lines
    extract_features(cases[:2], rois=("tumor",), cache_dir=tmp_path, progress="off")
    extract_features(cases[:2], rois=("tumor",), cache_dir=tmp_path, progress="lines")
    assert capsys.readouterr().err == ""
    # one case new: the first line says how many come from the cache
    extract_features(cases[:3], rois=("tumor",), cache_dir=tmp_path, progress="lines")
    assert "1 cases to do (1 images, 1 worker; 2 other cases from the cache)" in (
        capsys.readouterr().err
    )


def test_bad_progress_value_is_refused_before_any_work(cases):
    with pytest.raises(InputError, match="progress must be True, False, None or one of"):
        extract_features(cases, rois=("tumor",), progress="verbose")


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_validation_lines(capsys):
    from radiomics_aln.nomogram import LogisticNomogram
    from radiomics_aln.validation import bootstrap_validate

    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    data = pd.DataFrame({"x": x, "y": (x + rng.normal(size=60) > 0).astype(int)})
    model = LogisticNomogram(selection=None).fit(data, "y", ["x"])
    a = bootstrap_validate(model, data, "y", n_boot=20, random_state=1, progress="lines")
    err = capsys.readouterr().err
    assert "bootstrap validation: 20 resamples to do" in err
    assert re.search(r"bootstrap validation: 10/20 resamples done, 0 failed, elapsed \d+s, ETA", err)
    assert re.search(r"bootstrap validation: 20/20 resamples done, 0 failed, in \d+s", err)
    b = bootstrap_validate(model, data, "y", n_boot=20, random_state=1, n_jobs=2, progress="off")
    pd.testing.assert_frame_equal(a, b)
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- CLI


@pytest.mark.slow
def test_cli_writes_progress_lines_to_a_log_file(tmp_path):
    """`radiomics-aln extract` with stderr redirected to a file: timed lines, no bar."""
    from radiomics_aln.datasets import make_demo_cohort

    manifest = make_demo_cohort(tmp_path / "data", n_cases=8, random_state=2)
    log = tmp_path / "log.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADIOMICS_ALN_PROGRESS")}
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    with log.open("w") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "radiomics_aln", "--progress-seconds", "600", "extract",
             str(manifest.path), "--rois", "tumor", "--out", str(tmp_path / "f.csv")],
            stdout=subprocess.PIPE, stderr=fh, text=True, env=env, cwd=tmp_path,
        )  # fmt: skip
    text = log.read_text()
    assert proc.returncode == 0, text
    assert re.search(r"^\[ *[\d.]+s\] features: 8 cases to do \(8 images, 1 worker\)$", text, re.M)
    done = r"^\[ *[\d.]+s\] features: \d/8 cases done \(\d+% of the work\), 0 failed, elapsed"
    assert len(re.findall(done, text, re.M)) == 7
    assert re.search(r"^\[ *[\d.]+s\] features: 8/8 cases done, 0 failed, in \d+s$", text, re.M)
    assert "\r" not in text


def test_cli_progress_options(tmp_path, capsys):
    from radiomics_aln.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--progress-seconds", "0", "init", "--out", str(tmp_path / "s.yaml")])
    assert exc.value.code == 2
    assert "--progress-seconds must be a positive number" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--progress", "loud", "init"])


def test_the_eta_follows_the_work_when_cases_finish_late():
    """Extraction runs the largest images first, so a case (tumour + LN image) is often done only
    near the end: the tenths and the ETA follow the ROIs computed, not the cases counted."""
    from radiomics_aln._progress import GroupProgress

    clock, lines = Clock(), []
    # 10 cases: a tumour image (3 ROIs) and an LN image (1 ROI); tumour images run first
    group_of = {(c, k): f"c{c}" for c in range(10) for k in ("tumor", "ln")}
    weights = {(c, k): 3 if k == "tumor" else 1 for c, k in group_of}
    with progress_settings(sink=lines.append):
        rep = GroupProgress(group_of, weights, "features", "cases", parts="images",
                            all_groups={f"c{c}" for c in range(12)}, progress="lines")  # fmt: skip
    rep.reporter.clock, rep.reporter.start, rep.reporter.last = clock, 0.0, 0.0
    assert lines == ["features: 10 cases to do (20 images, 1 worker; 2 other cases from the cache)"]
    order = [(c, "tumor") for c in range(10)] + [(c, "ln") for c in range(10)]
    for t, task in enumerate(order, start=1):
        clock.t = float(sum(weights[x] for x in order[:t]))  # 1 s per ROI
        rep.finished(task, failed=task == (4, "ln"))
    rep.close()
    # a line at every tenth of the 40 ROIs; half-way no case is done, yet the ETA is right
    assert lines[5] == "features: 0/10 cases done (52% of the work), 0 failed, elapsed 21s, ETA 19s"
    assert lines[-1] == "features: 10/10 cases done, 1 failed, in 40s"
