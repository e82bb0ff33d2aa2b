"""Axillary tumour burden (N0 / N1-2 / N>=3): ordinal and two-step nomograms.

Synthetic cohort (deterministic): a tumour score and an LN score (as ``ra.RadScore`` would
give), tumour size and the number of metastatic nodes. Shows the burden levels from the node
count, the proportional-odds model (equal to ``rms::lrm``) with Brant's test, its nomogram with
P(N>=N1-2) and P(N>=3) axes, the two-step model (N+ vs N0, then N>=3 vs N1-2 among N+), the
decision table with the share of patients who could be spared each surgery, and per-split
AUC/calibration and the ordinal C on a test cohort. Everything is fitted on the training
cohort only. The whole study from images is ``radiomics-aln demo --endpoint burden``.

Last, the whole burden study (``BurdenStudy``: ICC filter, LASSO scores, both burden models)
on a synthetic feature table, saved to a folder, loaded back with ``BurdenModel.from_dir`` and
applied to new patients (``radiomics-aln predict <folder> <data>`` does the same).

Run:   python examples/burden_study.py [--out DIR]
Time:  about 30 s. Writes ordinal_nomogram.png, step2_nomogram.png, decision_table.csv,
       split_evaluation.csv, the saved study (burden_study/) and burden_predictions.csv to
       --out (default: a new temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import radiomics_aln as ra  # noqa: F401 - the package; the burden names live in their modules
from radiomics_aln.burden import TwoStepModel, burden_levels, split_evaluation
from radiomics_aln.burden_model import BurdenModel
from radiomics_aln.burden_study import BurdenStudy
from radiomics_aln.ordinal import OrdinalNomogram, ordinal_c

LEVELS = {"N0": [0, 0], "N1-2": [1, 2], "N>=3": [3, None]}


def make_cohort(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({
        "tumor_score": rng.normal(size=n),
        "ln_score": rng.normal(size=n),
        "size_mm": np.round(rng.lognormal(np.log(18), 0.35, n), 1),
    })  # fmt: skip
    lp = -0.6 + 1.2 * d["tumor_score"] + 1.6 * d["ln_score"] + 0.03 * (d["size_mm"] - 18)
    n_plus = rng.random(n) < 1 / (1 + np.exp(-lp))
    extra = rng.poisson(np.exp(-0.6 + 0.9 * d["ln_score"]))
    d["n_positive_nodes"] = np.where(n_plus, 1 + extra, 0)
    return d


def study_cohort(n: int, seed: int, cohorts: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cohort table and a feature table (12 features per ROI, 3 carrying its trait) of
    ``n`` patients, split in equal parts between ``cohorts``."""
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"S{seed}_{i:04d}" for i in range(n)], name="case_id")
    trait = {roi: rng.normal(size=n) for roi in ("tumor", "peritumoral", "ln")}
    size = np.round(rng.lognormal(np.log(18), 0.35, n), 1)
    lp = -0.6 + 1.2 * trait["tumor"] + 1.2 * trait["peritumoral"] + 1.4 * trait["ln"]
    n_plus = rng.random(n) < 1 / (1 + np.exp(-lp))
    nodes = np.where(n_plus, 1 + rng.poisson(np.exp(-0.6 + 0.9 * trait["ln"])), 0)
    table = pd.DataFrame({"cohort": np.repeat(cohorts, -(-n // len(cohorts)))[:n],
                          "aln": n_plus.astype(int), "n_positive_nodes": nodes,
                          "size_mm": size}, index=ids)  # fmt: skip
    features = pd.DataFrame({
        f"{roi}__original_glcm_F{j:02d}": (h if j < 3 else 0) + rng.normal(size=n)
        for roi, h in trait.items() for j in range(12)}, index=ids)  # fmt: skip
    return table, features


def saved_study_predicts_new_patients(out: Path) -> None:
    """Fit and save the whole burden study, load the folder, predict new patients."""
    table, features = study_cohort(400, 3, ["train", "test"])
    rng = np.random.default_rng(4)
    reread = features.iloc[:40]  # a second reading of 40 training cases (the ICC filter)
    repeats = {r: reread + rng.normal(scale=0.1, size=reread.shape) for r in ("reader2", "repeat")}
    config = {"outcome": "aln", "train_cohort": "train", "clinical": ["size_mm"],
              "score": {"params": {"cv": 5}},
              "endpoint": {"type": "ordinal", "column": "n_positive_nodes", "levels": LEVELS}}
    study = BurdenStudy(config, table=table, features=features, repeats=repeats, progress=False)
    folder = study.fit().evaluate().save(out / "burden_study", report=False)

    model = BurdenModel.from_dir(folder)  # JSON files only: binary/model.json and burden_*.json
    new_table, new_features = study_cohort(60, 5, ["new"])
    pred = model.predict(new_features, clinical=new_table[["size_mm"]])
    pred.to_csv(out / "burden_predictions.csv")
    print(f"\n{model!r}\nNew patients, first rows:")
    cols = ["ordinal_P(N0)", "ordinal_P(N1-2)", "ordinal_P(N>=3)", "ordinal_predicted",
            "two_step_P(N>=3)", "two_step_predicted"]  # fmt: skip
    print(pred[cols].head().round(3).to_string())
    truth = burden_levels(new_table["n_positive_nodes"], LEVELS).map(dict(enumerate(LEVELS)))
    agree = (pred["ordinal_predicted"] == truth).mean()
    print(f"Ordinal model's predicted level = true level in {agree:.0%} of the new patients")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, metavar="DIR", default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="burden_"))
    out.mkdir(parents=True, exist_ok=True)

    train, test = make_cohort(400, 1), make_cohort(200, 2)
    for d in (train, test):
        d["burden"] = burden_levels(d["n_positive_nodes"], LEVELS)
    names = list(LEVELS)
    predictors = ["tumor_score", "ln_score", "size_mm"]

    # proportional odds: logit P(Y >= j) = alpha_j + x'beta (rms::lrm; polr's zeta = -alpha)
    ordinal = OrdinalNomogram(predictors, level_names=names).fit(train, "burden")
    print(ordinal.summary.round(3).to_string(index=False))
    print("\nBrant test of proportional odds:")
    print(ordinal.brant_test().round(3).to_string(index=False))
    fig, ax = plt.subplots(figsize=(9, 5))
    ordinal.plot(ax)
    fig.savefig(out / "ordinal_nomogram.png", dpi=110, bbox_inches="tight")

    # the two-step model: step 1 N+ vs N0 (all), step 2 N>=3 vs N1-2 (N+ training patients)
    two_step = TwoStepModel(predictors, level_names=names).fit(train, "burden")
    fig, ax = plt.subplots(figsize=(9, 5))
    two_step.plot(ax)
    fig.savefig(out / "step2_nomogram.png", dpi=110, bbox_inches="tight")
    table = two_step.decision_table(test, test["burden"])
    print("\nTwo-step model on the test cohort, predicted (rows) vs true burden:")
    print(table.counts.to_string())
    print(table.surgery.round(3).to_string(index=False))
    table.summary.to_csv(out / "decision_table.csv", index=False)

    # per cumulative split, on the test cohort
    ev = split_evaluation(test["burden"], ordinal.exceedance(test), level_names=names)
    ev.to_csv(out / "split_evaluation.csv", index=False)
    print("\nOrdinal model, test cohort:")
    print(ev[["split", "n_events", "estimate", "ci_low", "ci_high", "calibration_slope"]]
          .round(3).to_string(index=False))  # fmt: skip
    c = ordinal_c(test["burden"], ordinal.linear_predictor(test))
    print(f"Ordinal C {c['c_index']:.3f} (Somers' Dxy {c['dxy']:.3f})")

    saved_study_predicts_new_patients(out)
    print(f"\nOutputs in {out}")


if __name__ == "__main__":
    main()
