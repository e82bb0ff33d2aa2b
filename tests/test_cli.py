"""Tests of the radiomics-aln command line (radiomics_aln.cli)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radiomics_aln.cli import build_parser, main

SUBCOMMANDS = ["demo", "init", "extract", "icc", "fit", "evaluate", "predict", "report"]


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"    {name}" in out
    assert "Typical session" in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_has_help(capsys, name):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: radiomics-aln {name}" in out
    assert len(out.splitlines()) > 4


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_missing_config_one_line_error(capsys):
    assert main(["fit", "does_not_exist.yaml"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["radiomics-aln fit: error: does_not_exist.yaml does not exist"]


def test_bad_config_key_one_line_error_and_debug_traceback(tmp_path, capsys):
    cfg = tmp_path / "study.yaml"
    cfg.write_text("outcom: aln\n")
    assert main(["evaluate", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "study.yaml: unknown configuration key(s): outcom" in err  # names the file
    assert "Traceback" not in err
    assert "--debug" in err
    from radiomics_aln.exceptions import InputError

    with pytest.raises(InputError, match="outcom"):
        main(["--debug", "evaluate", str(cfg)])


def test_bad_manifest_lists_problems(tmp_path, capsys):
    manifest = tmp_path / "m.csv"
    manifest.write_text("case_id,cohort,outcome,tumor_image,tumor_mask\na,train,2,x.png,y.png\n")
    cfg = tmp_path / "study.yaml"
    cfg.write_text("manifest: m.csv\nclinical: [age]\n")
    assert main(["--quiet", "fit", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "radiomics-aln fit: error: manifest" in err
    assert "x.png" in err and "Traceback" not in err


def test_init_writes_loadable_config(tmp_path, capsys):
    from radiomics_aln.config import StudyConfig

    out = tmp_path / "study.yaml"
    assert main(["init", "--out", str(out)]) == 0
    cfg = StudyConfig.from_yaml(out)
    assert cfg.manifest == str(tmp_path / "manifest.csv")
    assert cfg.roi_list() == ["tumor", "peritumoral", "ln"]
    assert cfg.categorical["us_aln"] == ["no", "yes"]
    assert main(["init", "--out", str(out)]) == 2  # no silent overwrite (a usage error)
    assert "already exists" in capsys.readouterr().err
    assert main(["init", "--out", str(out), "--force"]) == 0


def _readings(tmp_path):
    rng = np.random.default_rng(3)
    idx = pd.Index([f"c{i:02d}" for i in range(25)], name="case_id")
    cols = ["tumor__original_firstorder_Mean", "tumor__original_glcm_Contrast"]
    truth = pd.DataFrame(rng.normal(size=(25, 2)), index=idx, columns=cols)
    noise = [0.05, 1.5]
    paths = {}
    for name in ("reader1", "reader2", "repeat"):
        df = truth + rng.normal(scale=noise, size=(25, 2))
        paths[name] = tmp_path / f"{name}.csv"
        df.to_csv(paths[name])
    return paths


def test_icc_command(tmp_path, capsys):
    p = _readings(tmp_path)
    out = tmp_path / "icc.csv"
    rc = main(["-q", "icc", str(p["reader1"]), "--reader2", str(p["reader2"]),
               "--repeat", str(p["repeat"]), "--out", str(out)])  # fmt: skip
    assert rc == 0
    assert "1 of 2 features have ICC >= 0.8 in inter and intra" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert set(table["comparison"]) == {"inter", "intra"}
    # the reproducible feature passes in both comparisons, the noisy one in neither
    passed = table.set_index(["feature", "comparison"])["passed"]
    assert passed.loc["tumor__original_firstorder_Mean"].tolist() == [True, True]
    assert not passed.loc["tumor__original_glcm_Contrast"].any()


def test_icc_command_needs_a_repeat(tmp_path, capsys):
    p = _readings(tmp_path)
    assert main(["icc", str(p["reader1"])]) == 2
    assert "give --reader2 and/or --repeat" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    res = subprocess.run(
        [sys.executable, "-m", "radiomics_aln", "--version"], capture_output=True, text=True
    )
    assert res.returncode == 0 and res.stdout.startswith("radiomics_aln ")


def test_parser_is_exposed():
    parser = build_parser()
    args = parser.parse_args(["predict", "m.json", "d.csv"])
    assert (args.command, args.out) == ("predict", "predictions.csv")


@pytest.mark.slow
def test_demo_end_to_end_acceptance_then_predict(tmp_path, capsys, monkeypatch):
    """The README's main command on the default demo cohort (images -> report), then `predict`.

    Acceptance (issue 8): the clinical-radiomics model has a higher AUC than the clinical model
    on every test cohort (the DeLong p-values are printed and written to tables/delong.csv).
    Takes about 5-6 minutes on 2 cores (feature extraction of 200 patients).
    """
    out = tmp_path / "demo"
    monkeypatch.chdir(tmp_path)  # a relative --out: config.yaml must not depend on the cwd
    assert main(["-q", "demo", "--out", "demo", "--n-jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "Report:" in printed and "DeLong p" in printed
    for name in ("report.html", "model.json", "config.yaml", "tables/table3.csv",
                 "tables/table1.csv", "tables/delong.csv", "figures/nomogram.png",
                 "figures/nomogram.svg"):  # fmt: skip
        assert (out / name).is_file(), name
    html = (out / "report.html").read_text()
    assert "<script" not in html and "Table 3. Performance" in html
    perf = pd.read_csv(out / "tables" / "table3_full.csv").set_index(["cohort", "model"])
    for cohort in ("Internal test", "External test", "Prospective test"):
        combined = perf.loc[(cohort, "Clinical-radiomics model"), "auc"]
        clinical = perf.loc[(cohort, "Clinical model"), "auc"]
        assert combined > clinical, (cohort, combined, clinical)
    # predict the external cohort from its images with the saved model: same probabilities
    manifest = pd.read_csv(out / "data" / "manifest.csv")
    manifest[manifest["cohort"] == "external"].to_csv(out / "data" / "new.csv", index=False)
    pred_path = tmp_path / "pred.csv"
    rc = main(["-q", "predict", str(out / "model.json"), str(out / "data" / "new.csv"),
               "--out", str(pred_path), "--cache-dir", str(out / "cache")])  # fmt: skip
    assert rc == 0
    pred = pd.read_csv(pred_path, index_col=0)
    fitted = pd.read_csv(out / "tables" / "predictions.csv", index_col=0)
    assert len(pred) == (manifest["cohort"] == "external").sum()
    np.testing.assert_allclose(
        pred["probability"], fitted.loc[pred.index, "probability"], rtol=1e-10
    )
    assert set(pred["risk_group"]) <= {"low", "high"}
    # the written config.yaml refits from another working directory (features from the cache)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["-q", "fit", str(out / "config.yaml"), "--out", "refit"]) == 0

    def fitted(path):  # the model without its creation times
        text = (path / "model.json").read_text()
        return json.loads(text, object_hook=lambda d: {k: v for k, v in d.items() if k != "created"})

    assert fitted(elsewhere / "refit") == fitted(out)


def test_demo_too_small_for_the_nomogram_says_how_to_fix_it(tmp_path, capsys, monkeypatch):
    # With few demo patients the scores separate the training half; the error says to use more.
    from radiomics_aln import study as study_module
    from radiomics_aln.config import DEMO_N_CASES
    from radiomics_aln.exceptions import SeparationError

    penalties = []

    def separated(self):
        penalties.append(self.config.nomogram.penalty)
        raise SeparationError("complete or quasi-complete separation: tumor_score")

    monkeypatch.setattr(study_module.Study, "fit", separated)
    assert main(["--quiet", "demo", "--out", str(tmp_path / "d"), "--n-cases", "8"]) == 1
    err = capsys.readouterr().err
    n_train = (pd.read_csv(tmp_path / "d" / "data" / "manifest.csv")["cohort"] == "train").sum()
    assert f"With 8 demo patients the training cohort has only {n_train}" in err
    assert f"--n-cases {DEMO_N_CASES} (the default) or more, or with --firth" in err
    # --firth sets the study's penalty
    assert main(["--quiet", "demo", "--out", str(tmp_path / "f"), "--n-cases", "8", "--firth"]) == 1
    assert penalties == [None, "firth"]
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert f"the demo size, {DEMO_N_CASES};" in capsys.readouterr().out


@pytest.mark.slow
def test_extract_then_icc_commands(tmp_path, capsys):
    """`extract` on a small demo manifest (tumour ROI, with repeats), then `icc` on its output."""
    from radiomics_aln.datasets import make_demo_cohort

    manifest = make_demo_cohort(tmp_path / "data", n_cases=8, random_state=1, repeat_fraction=1.0)
    out = tmp_path / "feat" / "features.csv"
    rc = main(["-q", "extract", str(manifest.path), "--rois", "tumor", "--repeats",
               "--outcome", "aln_metastasis", "--out", str(out), "--cache-dir",
               str(tmp_path / "cache")])  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    assert "8 cases x" in printed and "Wrote" in printed
    feats = pd.read_csv(out, index_col="case_id")
    assert len(feats) == 8 and all(c.startswith("tumor__") for c in feats.columns)
    r2 = out.with_name("features_reader2.csv")
    rep = out.with_name("features_repeat.csv")
    assert r2.is_file() and rep.is_file()
    icc_out = tmp_path / "icc.csv"
    rc = main(["-q", "icc", str(out), "--reader2", str(r2), "--repeat", str(rep),
               "--out", str(icc_out)])  # fmt: skip
    assert rc == 0
    assert "features have ICC >= 0.8 in inter and intra" in capsys.readouterr().out
    assert set(pd.read_csv(icc_out)["comparison"]) == {"inter", "intra"}


def test_extract_bad_manifest(tmp_path, capsys):
    bad = tmp_path / "m.csv"
    bad.write_text("case_id,cohort,tumor_image,tumor_mask\na,train,nope.png,nope_mask.png\n")
    assert main(["extract", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("radiomics-aln extract: error: manifest") and "nope.png" in err


def test_demo_config_works_from_any_working_directory(tmp_path, monkeypatch, capsys):
    """`demo --out X` (relative), then `fit X/config.yaml` from another folder (issue 13).

    config.yaml holds the manifest and cache paths relative to itself, as the loader reads them.
    The study steps are stubbed (the slow end-to-end test runs them for real).
    """
    from radiomics_aln import cli
    from radiomics_aln import study as study_module
    from radiomics_aln.exceptions import InputError

    monkeypatch.setattr(study_module.Study, "fit", lambda self: self)
    monkeypatch.setattr(study_module.Study, "evaluate", lambda self: self)
    monkeypatch.setattr(
        study_module.Study,
        "save",
        lambda self, out, report=True: self.config.to_yaml(Path(out) / "config.yaml"),
    )
    monkeypatch.setattr(cli, "_headline", lambda study: "")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["-q", "demo", "--out", "demo", "--n-cases", "8"]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    seen = {}

    def fit(self):
        seen.update(manifest=self.config.manifest, cache=self.config.cache_dir)
        raise InputError("stop")

    monkeypatch.setattr(study_module.Study, "fit", fit)
    assert main(["-q", "fit", str(work / "demo" / "config.yaml"), "--out", "o"]) == 1
    demo = work / "demo"
    assert Path(seen["manifest"]).resolve() == (demo / "data" / "manifest.csv").resolve()
    assert Path(seen["cache"]).resolve() == (demo / "cache").resolve()
    text = (demo / "config.yaml").read_text()
    assert "manifest: data/manifest.csv" in text and "cache_dir: cache" in text


@pytest.mark.slow
def test_demo_rerun_reuses_the_cohort_and_regenerates_a_damaged_one(tmp_path, monkeypatch, capsys):
    """A rerun into the same folder reuses the identical cohort (issue 15) and says so; a
    deleted file makes it regenerate, saying why. The study steps are stubbed."""
    from radiomics_aln import cli
    from radiomics_aln import study as study_module

    monkeypatch.setattr(study_module.Study, "fit", lambda self: self)
    monkeypatch.setattr(study_module.Study, "evaluate", lambda self: self)
    monkeypatch.setattr(study_module.Study, "save", lambda self, out, report=True: out)
    monkeypatch.setattr(cli, "_headline", lambda study: "")
    out = tmp_path / "demo"
    args = ["--progress", "off", "demo", "--out", str(out), "--n-cases", "8"]
    assert main(args) == 0
    assert "Generating the synthetic demo cohort (8 patients)" in capsys.readouterr().err
    manifest = out / "data" / "manifest.csv"
    before = manifest.stat().st_mtime_ns
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "Reusing the synthetic demo cohort (8 patients)" in err and "Generating" not in err
    assert manifest.stat().st_mtime_ns == before
    victim = sorted((out / "data" / "cases").rglob("tumor_mask*"))[0]
    victim.unlink()
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "Generating the synthetic demo cohort (8 patients)" in err
    assert f"(not reusable: {victim.relative_to(out / 'data').as_posix()} missing)" in err
    assert victim.is_file()
    # another seed: regenerated too
    assert main([*args, "--seed", "1"]) == 0
    assert "written with random_state=0, asked for random_state=1" in capsys.readouterr().err


def test_every_out_option_says_whether_it_is_a_folder_or_a_file():
    """Every subcommand's --out help names what it is: a folder or a file (issue 15)."""
    import argparse

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    seen = []
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if "--out" not in action.option_strings:
                continue
            seen.append(name)
            text = action.help.lower().split("(")[0]  # before "(default: ...)" and asides
            assert ("folder" in text) != ("file" in text), f"{name} --out: {action.help!r}"
    assert set(SUBCOMMANDS) <= set(seen)


def test_demo_never_overwrites_a_data_folder_it_did_not_write(tmp_path, capsys):
    data = tmp_path / "demo" / "data"
    data.mkdir(parents=True)
    (data / "notes.txt").write_text("mine")
    assert main(["demo", "--out", str(tmp_path / "demo"), "--n-cases", "8"]) == 3
    assert "not written by make_demo_cohort" in capsys.readouterr().err
    assert [p.name for p in data.iterdir()] == ["notes.txt"]
