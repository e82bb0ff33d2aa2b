"""Feature robustness without a second reader: the perturbation filter against the two-reader one.

On the training patients of the demo cohort that were segmented again (by a second reader and
by the first reader later), this example fits two ICC filters on the tumour and the 5 mm ring:

- the two-reader filter of the study: ICC(A,1) >= 0.80 for reader1 vs reader2 *and* reader1 vs
  the repeat segmentation;
- the perturbation filter: each case's image and tumour contour perturbed N times (rotation,
  sub-pixel shift, noise, contour growth/shrinkage, contour randomisation; the ring rebuilt
  around each perturbed tumour), ICC(1,1) >= 0.90 across the perturbations (Zwanenburg et al.
  2019); also with the two-reader rule, ICC(A,1) >= 0.80, to separate the source from the rule;

and compares the kept sets (size, overlap, Jaccard index, by ROI and image type). The numbers
of one run are in docs/perturbation.md.

Run:   python examples/perturbation_robustness.py [--out DIR] [--perturbations N]
       [--max-cases N] [--demo DIR] [--contour-only]
Time:  with --perturbations 5 (the run in docs/perturbation.md) 10 minutes on 2 cores that
       other jobs kept busy (load average ~15); the default 20 perturbations about four times
       that; seconds when rerun into the same --out (everything is cached). Writes
       comparison.csv (one row per feature: both ICCs, kept or not) and the demo cohort
       (data/, unless --demo) to --out.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

import radiomics_aln as ra
from radiomics_aln import perturbation

ROIS = ("tumor", "peritumoral")


def kept_by_group(kept: dict[str, set], features: pd.Index) -> pd.DataFrame:
    """Kept counts and Jaccard index of the two filters by ROI and image type."""
    roi = features.str.split("__").str[0]
    image = features.str.split("__").str[1].str.split("_").str[0]
    image = image.where(~image.str.startswith("wavelet"), "wavelet")
    rows = []
    for (r, i), names in pd.Series(features, index=features).groupby([roi, image]):
        names = set(names)
        a, b = kept["readers"] & names, kept["perturbation"] & names
        union = a | b
        rows.append({"roi": r, "image": i, "features": len(names), "readers": len(a),
                     "perturbation": len(b), "both": len(a & b),
                     "jaccard": len(a & b) / len(union) if union else float("nan")})  # fmt: skip
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    parser.add_argument("--demo", type=Path, metavar="DIR", help="reuse this demo cohort folder")
    parser.add_argument("--perturbations", type=int, metavar="N", default=20)
    parser.add_argument("--max-cases", type=int, metavar="N", help="first N re-segmented cases")
    parser.add_argument("--n-jobs", type=int, metavar="N", default=2)
    parser.add_argument("--fast", action="store_true", help="original image type only (short)")
    parser.add_argument("--contour-only", action="store_true",
                        help="perturb the contour only (no rotation, translation or noise)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="aln_perturb_"))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    manifest = ra.make_demo_cohort(args.demo or out / "data", random_state=0, reuse=True,
                                   overwrite=True)  # fmt: skip
    params = ra.load_params("ultrasound_2d")
    if args.fast:
        params["imageType"] = {"Original": params["imageType"]["Original"]}
    train = manifest.table.index[manifest.table["cohort"] == "train"]
    cases = [c for c in manifest.cases if c.case_id in set(train) and c.repeat_masks]
    cases = cases[: args.max_cases]
    cache = out / "cache"

    res = ra.extract_features(cases, rois=ROIS, params=params, repeats=True, n_jobs=args.n_jobs,
                              cache_dir=cache, progress=False)  # fmt: skip
    X = res.features
    readers = ra.ICCFilter(threshold=0.80, form="ICC2").fit(X, repeats=res.repeats)
    chain = perturbation.PerturbationChain(image_variants=min(5, args.perturbations))
    if args.contour_only:  # what a second reader changes: the contour, not the image
        chain = perturbation.PerturbationChain(rotation_deg=0, translation_mm=0, noise=False,
                                               image_variants=1)
    readings = perturbation.perturbation_readings(
        cases, n_perturbations=args.perturbations, chain=chain, rois=ROIS, params=params,
        random_state=0, n_jobs=args.n_jobs, cache_dir=cache,
    )  # fmt: skip
    perturb = perturbation.perturbation_icc_filter(readings, X)
    perturb_rule = perturbation.perturbation_icc_filter(readings, X, threshold=0.80, form="ICC2")
    print(f"{len(cases)} re-segmented training cases, {args.perturbations} perturbations, "
          f"{X.shape[1]} features; {time.perf_counter() - t0:.0f} s")  # fmt: skip

    def passed(filt: ra.ICCFilter) -> set:
        return set(filt.selected_features_)

    kept = {"readers": passed(readers), "perturbation": passed(perturb)}
    both = kept["readers"] & kept["perturbation"]
    union = kept["readers"] | kept["perturbation"]
    print(f"kept by the two-reader filter (ICC(A,1) >= 0.80, inter and intra): "
          f"{len(kept['readers'])}")
    print(f"kept by the perturbation filter (ICC(1,1) >= 0.90): {len(kept['perturbation'])}")
    print(f"kept by both: {len(both)}; Jaccard index {len(both) / max(len(union), 1):.3f}")
    rule = passed(perturb_rule)
    print(f"perturbations with the two-reader rule (ICC(A,1) >= 0.80): {len(rule)} kept, "
          f"{len(rule & kept['readers'])} of them also by the readers, Jaccard "
          f"{len(rule & kept['readers']) / max(len(rule | kept['readers']), 1):.3f}")
    table = kept_by_group(kept, X.columns)
    print(table.round(3).to_string(index=False))

    icc = {name: f.icc_.pivot(index="feature", columns="comparison", values="estimate")
           for name, f in (("readers", readers), ("perturbation", perturb))}  # fmt: skip
    comparison = pd.concat(
        [icc["readers"].add_prefix("readers_icc_"),
         icc["perturbation"].add_prefix("icc1_")],
        axis=1,
    )  # fmt: skip
    comparison["kept_readers"] = comparison.index.isin(list(kept["readers"]))
    comparison["kept_perturbation"] = comparison.index.isin(list(kept["perturbation"]))
    comparison.to_csv(out / "comparison.csv")
    print(f"wrote {out / 'comparison.csv'}")
    return out


if __name__ == "__main__":
    main()
