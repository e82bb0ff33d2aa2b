"""Hybrid radiomics: handcrafted (PyRadiomics) and external "deep" features scored together.

Published hybrid studies add a CNN's penultimate-layer features of the tumour and lymph-node
images to the PyRadiomics features. Any tool may compute them; the study only needs one table
per ROI with ``case_id``, a ``reader`` column (``reader1``, and ``reader2`` / ``repeat`` for the
re-segmented cases, which the ICC filter compares) and one numeric column per feature.

STAND-IN, NOT A NETWORK: to stay self-contained (no PyTorch, no download, no pretrained
weights), this example computes its "deep" features as a FIXED RANDOM PROJECTION of each ROI's
pixels (a window around the ROI, smoothed, resampled to 8 x 8, z-scored, projected on 24 random
directions drawn from a fixed seed, then tanh). Replace ``stand_in_deep_features`` by your
network's output; the rest stays the same.

The tables join the handcrafted features as ``tumor__deep_f00``, ``ln__deep_f00``, ...; the
study sends them through the same ICC filter, standardisation, redundancy filter and LASSO, on
the training cohort only, and the saved model lists the external columns its scores use, so
prediction on new patients asks for their tables (``predict(..., external=...)``, CLI
``radiomics-aln predict model.json manifest.csv --external tumor=deep_tumor.csv ...``).

To keep the run short this example extracts only the "Original" image type (about 100
handcrafted features per ROI) of the tumour and LN ROIs.

Run:   python examples/hybrid_features.py [--out DIR] [--n-cases N]
Time:  1-2 minutes on 2 cores for the default 60 patients (most of it feature extraction).
       Writes the demo cohort (data/), deep_tumor.csv, deep_ln.csv, model.json,
       score_coefficients.csv, table3.csv and predictions.csv to --out (default: a new
       temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
from scipy.ndimage import gaussian_filter, zoom

import radiomics_aln as ra
from radiomics_aln.exceptions import SmallSampleWarning

GRID = 8  # the ROI's window is resampled to GRID x GRID pixels
N_DEEP = 24  # stand-in "deep" features per ROI
PROJECTION = np.random.default_rng(2024).normal(size=(GRID * GRID, N_DEEP)) / GRID


def stand_in_deep_features(image: sitk.Image, mask: sitk.Image) -> np.ndarray:
    """STAND-IN for a CNN: a fixed random projection of the ROI's resampled pixels.

    The window is centred on the mask, of side twice the square root of its area (the mask
    sets where and how large, as a network's input crop would), smoothed, resampled to
    GRID x GRID, z-scored, projected on N_DEEP fixed random directions and squashed by tanh.
    """
    pixels = np.squeeze(sitk.GetArrayFromImage(image)).astype(float)
    if pixels.ndim == 3:  # a colour image: its mean channel
        pixels = pixels.mean(axis=-1)
    rows, cols = np.nonzero(np.squeeze(sitk.GetArrayFromImage(mask)))
    half = max(8.0, float(np.sqrt(len(rows))))
    pad = int(half) + 2
    padded = np.pad(pixels, pad, mode="reflect")
    y0, x0 = round(rows.mean() - half) + pad, round(cols.mean() - half) + pad
    window = padded[y0 : y0 + round(2 * half), x0 : x0 + round(2 * half)]
    window = gaussian_filter(window, sigma=window.shape[0] / (2 * GRID))
    small = zoom(window, (GRID / window.shape[0], GRID / window.shape[1]), order=1)
    small = small[:GRID, :GRID]
    small = (small - small.mean()) / (small.std() + 1e-9)
    return np.tanh(small.ravel() @ PROJECTION)


def deep_tables(manifest, rois=("tumor", "ln")) -> dict[str, pd.DataFrame]:
    """One table per ROI: case_id, reader, f00..f23, for every reading of every case."""
    rows: dict[str, list[dict]] = {roi: [] for roi in rois}
    for case in manifest.cases:
        loaded = ra.load_case_rois(case, min_coverage=None)
        readings = {"reader1": loaded.masks, **loaded.repeats}
        for reader, masks in readings.items():
            for roi in rois:
                if roi in masks:
                    values = stand_in_deep_features(loaded.image_for(roi), masks[roi])
                    rows[roi].append({"case_id": loaded.case_id, "reader": reader}
                                     | {f"f{j:02d}": v for j, v in enumerate(values)})  # fmt: skip
    return {roi: pd.DataFrame(r) for roi, r in rows.items()}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    parser.add_argument(
        "--n-cases", type=int, metavar="N", default=60, help="patients (default 60, min 8)"
    )
    parser.add_argument(
        "--n-jobs", type=int, metavar="N", default=2, help="worker processes (default 2)"
    )
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="aln_hybrid_"))
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    manifest = ra.make_demo_cohort(
        out / "data",
        n_cases=args.n_cases,
        random_state=0,
        cohort_fractions={"train": 0.6, "test": 0.4},
        repeat_fraction=0.6,  # 60 % of the training patients were segmented three times
        overwrite=True,
    )
    paths = {}
    for roi, table in deep_tables(manifest).items():
        paths[roi] = out / f"deep_{roi}.csv"
        table.to_csv(paths[roi], index=False)
        n_rep = int((table["reader"] != "reader1").sum())
        print(f"stand-in deep features of {roi}: {table.shape[1] - 2} per image, "
              f"{len(table) - n_rep} cases + {n_rep} repeat readings -> {paths[roi].name}")

    params = ra.load_params("ultrasound_2d")
    params["imageType"] = {"Original": params["imageType"]["Original"]}  # short run: no filters
    config = ra.demo_config(
        manifest.path,
        rois=["tumor", "ln"],
        params=params,
        test_cohorts=["test"],
        cohort_labels={"train": "Training", "test": "Test"},
        clinical=["us_aln_status", "size_mm"],
        n_jobs=args.n_jobs,
        cache_dir=str(out / "cache"),
        score={"rule": "min"},
        nomogram={"penalty": "firth"},  # a small training cohort: Firth's finite estimates
        external_features={roi: str(p) for roi, p in paths.items()},  # joined as <roi>__deep_*
    )
    with warnings.catch_warnings():  # a small demo: few events per variable, by design
        warnings.simplefilter("ignore", SmallSampleWarning)
        study = ra.Study(config, progress=False).fit().evaluate()
    print(f"fitted and evaluated in {time.perf_counter() - t0:.0f} s")

    kept = study.icc_filter_.selected_features_
    for roi in ("tumor", "ln"):
        deep = [c for c in study.icc_filter_.feature_names_in_ if c.startswith(f"{roi}__deep_")]
        n_kept = sum(c in kept for c in deep)
        print(f"{roi}: {n_kept} of {len(deep)} deep features pass the ICC filter (>= 0.80)")
    coefs = study.results_["tables"]["score_coefficients"]
    coefs.to_csv(out / "score_coefficients.csv", index=False)
    print("\nLASSO coefficients of the scores (handcrafted and deep together):")
    print(coefs.round(3).to_string(index=False))
    table3 = study.results_["tables"]["table3_full"]
    table3.to_csv(out / "table3.csv", index=False)
    print("\n" + table3[["cohort", "model", "auc", "auc_ci_low", "auc_ci_high"]]
          .round(3).to_string(index=False))  # fmt: skip

    # The saved model knows its external columns: a new cohort needs its deep tables too.
    study.model_.to_json(out / "model.json")
    model = ra.StudyModel.from_json(out / "model.json")
    spec = model.settings["external_features"]
    print("\nexternal features the model uses:", {r: len(s["columns"]) for r, s in spec.items()})
    test = manifest.subset(["test"])  # as if it were a new cohort (features from the cache)
    pred = model.predict(test, external=paths, cache_dir=config.cache_dir)
    pred.to_csv(out / "predictions.csv")
    same = np.allclose(pred["probability"], study.data_.loc[pred.index, "probability"])
    print(f"predicted {len(pred)} patients of the test cohort again: same probabilities: {same}")
    print(f"\nOutputs written to {out}")
    return out


if __name__ == "__main__":
    main()
