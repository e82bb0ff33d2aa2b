"""How optimistic is the whole pipeline? Bootstrap validation with every fitted step refitted.

A study is fitted on a small synthetic feature table (two ROIs of 12 features, two clinical
factors, repeat readings of a quarter of the training cases). Its clinical-radiomics model is
then validated twice with Harrell's optimism bootstrap on the same resamples: holding the
radiomics scores fixed (``rms::validate`` of the nomogram, what ``nomogram.n_boot`` does) and
refitting the whole pipeline in every resample (ICC filter, standardisation, redundancy
removal, LASSO with its inner cross-validation, univariate screen, backward elimination). The
difference is the optimism of building the scores, which the held-fixed bootstrap leaves out.

Run:   python examples/whole_pipeline_validation.py [--out DIR] [--n-boot N] [--n-jobs N]
Time:  about 1 minute on 2 cores with the default 20 resamples (each refits the whole study).
       Writes pipeline_validation.csv, selection_frequency.csv, selection_frequency.png and the
       cache of finished resamples (cache/: a rerun reads them back) to --out (default: a new
       temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import radiomics_aln as ra


def synthetic_study_data(n: int = 150, seed: int = 3):
    """Cohort table, features and repeat readings with a known signal (train: 100, test: 50)."""
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"P{i:03d}" for i in range(n)], name="case_id")
    latent = {roi: rng.normal(size=n) for roi in ("tumor", "ln")}
    size = rng.lognormal(3, 0.3, n).round(1)
    us_aln = np.where(rng.random(n) < 0.3, "suspicious", "not_suspicious")
    lp = -0.4 + 1.0 * latent["tumor"] + 1.3 * latent["ln"] + 0.8 * (us_aln == "suspicious")
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    table = pd.DataFrame({"cohort": ["train"] * 100 + ["test"] * (n - 100), "aln": y,
                          "size_mm": size, "us_aln_status": us_aln}, index=ids)  # fmt: skip
    columns, blocks = [], []
    for roi, h in latent.items():
        for j in range(12):  # 3 informative features per ROI, 9 noise
            columns.append(f"{roi}__original_glcm_Feature{j:02d}")
            blocks.append((h if j < 3 else 0.0) + rng.normal(scale=0.7, size=n))
    features = pd.DataFrame(np.column_stack(blocks), index=ids, columns=columns)
    again = ids[:25]  # re-segmented training cases; features 10-11 are not reproducible
    noise = np.array([1.5 if int(c[-2:]) >= 10 else 0.1 for c in columns])
    repeats = {r: features.loc[again] + rng.normal(size=(25, len(columns))) * noise
               for r in ("reader2", "repeat")}  # fmt: skip
    return table, features, repeats


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    parser.add_argument("--n-boot", type=int, metavar="N", default=20,
                        help="bootstrap resamples (default 20; use 200 or more in a paper)")  # fmt: skip
    parser.add_argument(
        "--n-jobs", type=int, metavar="N", default=2, help="worker processes (default 2)"
    )
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="aln_pipeline_validation_"))
    out.mkdir(parents=True, exist_ok=True)

    table, features, repeats = synthetic_study_data()
    config = {
        "outcome": "aln",
        "rois": ["tumor", "ln"],
        "clinical": ["size_mm", "us_aln_status"],
        "categorical": {"us_aln_status": ["not_suspicious", "suspicious"]},
        "score": {"cv": 5},
    }
    study = ra.Study(config, table=table, features=features, repeats=repeats, progress=False)
    study.fit()
    print("nomogram predictors:", ", ".join(study.model_.combined_model.predictors_))

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # resamples that failed are counted below
        held = ra.validate_pipeline(study, n_boot=args.n_boot, whole_pipeline=False,
                                    random_state=0, progress=False)  # fmt: skip
        whole = ra.validate_pipeline(study, n_boot=args.n_boot, random_state=0,
                                     n_jobs=args.n_jobs, cache_dir=out / "cache",
                                     progress=False)  # fmt: skip
    print(f"{args.n_boot} resamples in {time.perf_counter() - t0:.0f} s")
    rows = ["auc", "slope", "intercept", "brier"]
    both = pd.concat(
        {"scores held fixed": held.summary.loc[rows, ["apparent", "optimism", "corrected"]],
         "whole pipeline": whole.summary.loc[rows, ["optimism", "corrected"]]}, axis=1
    )  # fmt: skip
    print(both.round(3).to_string())
    print(f"failed resamples: held fixed {held.n_failed}, whole pipeline {whole.n_failed}")
    lasso = whole.selection[whole.selection["step"] == "lasso"]
    print("LASSO features selected in at least half of the refits:")
    print(lasso[lasso["frequency"] >= 0.5][["roi", "variable", "frequency"]].to_string(index=False))

    whole.summary.to_csv(out / "pipeline_validation.csv")
    whole.selection.to_csv(out / "selection_frequency.csv", index=False)
    fig, ax = plt.subplots(figsize=(8, 7), layout="constrained")
    whole.plot(ax=ax, top=25)
    fig.savefig(out / "selection_frequency.png", dpi=120)
    print(f"written to {out}")
    return out


if __name__ == "__main__":
    main()
