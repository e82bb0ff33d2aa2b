"""The full study on the synthetic demo cohort, in Python (what `radiomics-aln demo` runs).

Generates a demo cohort (tumour and lymph-node ultrasound images, masks, repeat segmentations,
clinical variables and an ALN outcome from a known model), then:

extraction -> ICC filter (training repeats) -> tumour / peritumoral / LN LASSO scores ->
univariate screen -> backward stepwise clinical and clinical-radiomics models -> nomogram ->
evaluation on the internal, external and prospective cohorts -> tables, figures, model, report.

Run:  python examples/full_study.py [OUT_DIR] [N_CASES]
(default 120 patients: 3-5 minutes on 2 cores, mostly feature extraction; a rerun reuses the
feature cache. `radiomics-aln demo` uses 200 patients.)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from radiomics_aln.datasets import make_demo_cohort
from radiomics_aln.metrics import roc_auc
from radiomics_aln.study import CLINICAL_MODEL, COMBINED_MODEL, Study, demo_config


def main(out_dir: str = "full_study_output", n_cases: int = 120) -> Study:
    start = time.monotonic()
    out = Path(out_dir)
    manifest = make_demo_cohort(out / "data", n_cases=n_cases, random_state=0, overwrite=True)
    print(manifest)

    config = demo_config(manifest.path, cache_dir=str(out / "cache"), n_jobs=2)
    study = Study(config, progress=lambda msg: print("  ..", msg)).fit()

    model = study.model_
    print("\nICC filter kept", len(study.icc_filter_.selected_features_), "of",
          len(study.icc_filter_.feature_names_in_), "features")  # fmt: skip
    for roi, score in model.scores.items():
        print(f"{roi} score: {int((score.coef_ != 0).sum())} features")
    print("Screened clinical factors:", study.screened_["clinical"])
    print("Clinical model:", model.clinical_model.predictors_)
    print("Clinical-radiomics model (nomogram):", model.combined_model.predictors_)
    print(f"Youden cutoff (training): p >= {model.settings['cutoff']:.3f}")

    study.evaluate()
    tables = study.results_["tables"]
    print("\nTable 3")
    print(tables["table3"].to_string(index=False))
    dl = tables["delong"]
    pair = dl["model_1"].isin([CLINICAL_MODEL, COMBINED_MODEL]) & dl["model_2"].isin(
        [CLINICAL_MODEL, COMBINED_MODEL]
    )
    print("\nDeLong, clinical-radiomics vs clinical model")
    print(
        dl.loc[pair, ["cohort", "auc_1", "auc_2", "difference", "p_value"]].to_string(index=False)
    )

    # The demo outcome was drawn from a known model (datasets.demo_generating_model): the AUC of
    # its true linear predictor is the ceiling any model can reach on each cohort.
    truth = pd.read_csv(out / "data" / "truth.csv", index_col="case_id")
    perf = tables["table3_full"].set_index(["cohort", "model"])
    print("\nAUC: clinical | clinical-radiomics | generating model (oracle)")
    for cohort in study.cohorts_:
        label = config.label(cohort)
        t = truth[truth["cohort"] == cohort]
        oracle = roc_auc(t["aln_metastasis"], t["linear_predictor"])["estimate"].iloc[0]
        print(
            f"  {label:<17} {perf.loc[(label, CLINICAL_MODEL), 'auc']:.3f} | "
            f"{perf.loc[(label, COMBINED_MODEL), 'auc']:.3f} | {oracle:.3f}"
        )

    study.save(out)
    print(f"\nReport: {(out / 'report.html').resolve()}  ({time.monotonic() - start:.0f} s)")
    return study


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0] if args else "full_study_output", int(args[1]) if len(args) > 1 else 120)
