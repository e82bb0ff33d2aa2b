"""The full study on the synthetic demo cohort, in Python (what `radiomics-aln demo` runs).

Generates a demo cohort (tumour and lymph-node ultrasound images, masks, repeat segmentations,
clinical variables and an ALN outcome from a known model), then runs the whole workflow with
``ra.Study``:

extraction -> ICC filter (training repeats) -> tumour / peritumoral / LN LASSO scores ->
univariate screen -> backward stepwise clinical and clinical-radiomics models -> nomogram ->
evaluation on the internal, external and prospective cohorts -> tables, figures, model, report.

Run:   python examples/full_study.py [--out DIR] [--n-cases N] [--n-jobs N]
Time:  default 120 patients: 3-5 minutes on 2 cores, mostly feature extraction (a rerun with the
       same --out reuses the feature cache); --n-cases 50 takes about 2 minutes. `radiomics-aln
       demo` uses 200 patients. With fewer than 50 the training cohort is too small for the
       stepwise logistic models (40 patients stop with a complete-separation error). Writes
       data/, cache/, tables/, figures/, model.json and report.html to --out (default: a new
       temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

import radiomics_aln as ra
from radiomics_aln.datasets import DEMO_OUTCOME

# Labels of the two logistic models in the study's tables (column "model").
CLINICAL = "Clinical model"
COMBINED = "Clinical-radiomics model"


def main(argv: list[str] | None = None) -> ra.Study:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    parser.add_argument(
        "--n-cases", type=int, metavar="N", default=120, help="patients (default 120)"
    )
    parser.add_argument(
        "--n-jobs", type=int, metavar="N", default=2, help="worker processes (default 2)"
    )
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="aln_full_study_"))
    start = time.monotonic()

    manifest = ra.make_demo_cohort(out / "data", n_cases=args.n_cases, random_state=0,
                                   overwrite=True)  # fmt: skip
    print(manifest)

    # The demo's study settings (outcome, cohorts, ROIs, clinical candidates); any StudyConfig
    # field can be overridden here.
    config = ra.demo_config(manifest.path, cache_dir=str(out / "cache"), n_jobs=args.n_jobs)
    study = ra.Study(config, progress=lambda msg: print("  ..", msg)).fit()

    model = study.model_
    print("\nICC filter kept", len(study.icc_filter_.selected_features_), "of",
          len(study.icc_filter_.feature_names_in_), "features")  # fmt: skip
    for roi, score in model.scores.items():
        print(f"{roi} score: {int((score.coef_ != 0).sum())} features")
    print("Screened clinical factors:", study.screened_["clinical"])
    print("Clinical model:", model.clinical_model.predictors_)
    print("Clinical-radiomics model (nomogram):", model.combined_model.predictors_)
    print(f"Youden cutoff (training): p >= {model.settings['cutoff']:.3f}")

    # Apply the fitted model, unchanged, to every test cohort.
    study.evaluate()
    tables = study.results_["tables"]
    print("\nTable 3")
    print(tables["table3"].to_string(index=False))
    dl = tables["delong"]
    pair = dl["model_1"].isin([CLINICAL, COMBINED]) & dl["model_2"].isin([CLINICAL, COMBINED])
    print("\nDeLong, clinical-radiomics vs clinical model")
    print(
        dl.loc[pair, ["cohort", "auc_1", "auc_2", "estimate", "p_value"]]
        .rename(columns={"estimate": "difference"})
        .to_string(index=False)
    )

    # The demo outcome was drawn from a known model (datasets.demo_generating_model): the AUC of
    # its true linear predictor is the ceiling any model can reach on each cohort.
    truth = pd.read_csv(out / "data" / "truth.csv", index_col="case_id")
    perf = tables["table3_full"].set_index(["cohort", "model"])
    print("\nAUC: clinical | clinical-radiomics | generating model (oracle)")
    for cohort in study.cohorts_:
        label = config.label(cohort)
        t = truth[truth["cohort"] == cohort]
        oracle = ra.roc_auc(t[DEMO_OUTCOME], t["linear_predictor"])["estimate"].iloc[0]
        print(
            f"  {label:<17} {perf.loc[(label, CLINICAL), 'auc']:.3f} | "
            f"{perf.loc[(label, COMBINED), 'auc']:.3f} | {oracle:.3f}"
        )

    study.save(out)  # tables/, figures/, model.json, config.yaml and report.html
    print(f"\nReport: {(out / 'report.html').resolve()}  ({time.monotonic() - start:.0f} s)")
    print(f"Outputs written to {out}")
    return study


if __name__ == "__main__":
    main()
