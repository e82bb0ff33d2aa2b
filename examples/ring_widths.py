"""Which peritumoral width? Five rings and two shells in one study on the demo cohort.

Recent ALN studies compare peritumoral rings of 1-5 mm. Here every ring (1, 2, 3, 4, 5 mm) and
shell (0-2 mm, 2-5 mm) is a ROI of its own (``peritumoral_3mm``, ``shell_2_5mm``) with its own
ICC-filtered features and LASSO score. The width is chosen on the training cohort only, by
inner stratified cross-validation of each ROI's whole score fit; the chosen ring's score is the
peritumoral score of the nomogram, and the report compares the widths' scores on every cohort
(AUC with DeLong CI, paired DeLong tests of the chosen width against each other, Holm-adjusted
within each cohort). The feature cache holds one entry per case and ROI: a rerun with another
width added extracts only that ROI.

Run:   python examples/ring_widths.py [--out DIR] [--n-cases N] [--n-jobs N] [--widths 1,2,3,4,5]
                                          [--original-only]
Time:  nine ROIs per case (tumour, LN, five rings, two shells) make extraction the long part;
       --original-only (features of the original image only, ~100 per ROI instead of ~850)
       cuts it about ninefold. Measured with --n-cases 200 --original-only on 2 cores shared
       with other jobs (load 12-20): 16.5 min wall, 4.2 min CPU (extraction of 2250 ROI
       entries 10.5 min; the 5-fold inner CV of seven ROIs and the rest 6 min). With fewer than
       ~150 patients the LASSO scores are often constant (80 patients: every ring's), and at 60
       the nomogram's predictors separate the outcome (an error naming them); --n-cases 120
       --widths 1,3 --original-only takes about 2 min on 2 idle cores. Writes
       data/, cache/, tables/ (ring_widths_cv.csv, ring_widths_auc.csv,
       ring_widths_delong.csv), figures/, model.json and report.html to --out (default: a new
       temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import radiomics_aln as ra


def main(argv: list[str] | None = None) -> ra.Study:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    parser.add_argument("--n-cases", type=int, metavar="N", default=120, help="patients (120)")
    parser.add_argument("--n-jobs", type=int, metavar="N", default=2, help="workers (2)")
    parser.add_argument("--widths", default="1,2,3,4,5", help="ring widths in mm (1,2,3,4,5)")
    parser.add_argument("--original-only", action="store_true",
                        help="features of the original image only (no wavelet, no LoG)")  # fmt: skip
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="aln_ring_widths_"))
    start = time.monotonic()

    manifest = ra.make_demo_cohort(out / "data", n_cases=args.n_cases, random_state=0,
                                   reuse=True)  # fmt: skip
    widths = [float(w) for w in args.widths.split(",")]
    params = ra.load_params("ultrasound_2d")
    if args.original_only:
        params["imageType"] = {"Original": params["imageType"]["Original"]}
    # `rings` replaces the single `peritumoral` ring of `width_mm` by several ROIs; the chosen
    # one takes its place in the models (choose: "all" would offer every ring's score instead).
    config = ra.demo_config(
        manifest.path, cache_dir=str(out / "cache"), n_jobs=args.n_jobs, params=params,
        rings={"widths_mm": widths, "shells_mm": [[0, 2], [2, 5]], "choose": "inner_cv",
               "n_splits": 5, "p_adjust": "holm"},
    )  # fmt: skip
    study = ra.Study(config, progress=lambda msg: print("  ..", msg)).fit()
    print("\nInner cross-validation on the training cohort:")
    print(study.ring_choice_.summary.drop(columns=["inner_mm", "outer_mm"]).to_string(index=False))
    print(f"Chosen: {study.ring_choice_.chosen}; the model's ROIs: {study.model_.rois}")

    study.evaluate()
    tables = study.results_["tables"]
    auc = tables["ring_widths_auc"].pivot(index="roi", columns="cohort", values="estimate")
    print("\nAUC of each width's score by cohort")
    print(auc.loc[list(study.ring_scores_)].round(3).to_string())
    dl = tables["ring_widths_delong"]
    print(f"\nPaired DeLong, {study.ring_choice_.chosen} vs each other (Holm within cohort)")
    print(dl[["cohort", "model_2", "estimate", "p_value", "p_adjusted"]].to_string(index=False))

    study.save(out)
    if study.extraction_ is not None:
        print(f"\nExtraction: computed {study.extraction_.n_computed} ROIs, "
              f"cached {study.extraction_.n_cached}")  # fmt: skip
    print(f"Report: {(out / 'report.html').resolve()}  ({time.monotonic() - start:.0f} s)")
    print(f"Outputs written to {out}")
    return study


if __name__ == "__main__":
    main()
