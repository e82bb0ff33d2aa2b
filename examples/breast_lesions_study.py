"""Real ultrasound: the full study on BrEaST-Lesions-USG -- benign vs malignant, NOT ALN.

BrEaST-Lesions-USG (Pawlowska et al., Scientific Data 2024, doi:10.1038/s41597-024-02984-z;
CC BY 4.0) holds 256 breast B-mode scans with tumour masks and BI-RADS descriptors. It has no
lymph-node images and no nodal outcome, so this example's endpoint is the lesion's
classification, **benign (0) vs malignant (1)**: it exercises the whole pipeline on real images
(PNG with an alpha field of view, pixel size from the clinical table), it is *not* an ALN model.

Design:
- the 252 benign or malignant lesions (4 "normal" scans have no lesion and are left out);
- a random 70/30 train/test split stratified by class (seed 0);
- ROIs: tumour and 5 mm peritumoral ring (spacing = Pixel_size cm x 10 mm, ring clipped to the
  scan's field of view); one segmentation per lesion, so no ICC filter;
- clinical-ultrasound candidates: age (missing ages imputed with the TRAINING median), shape,
  margin (circumscribed vs not), echogenicity, posterior features, halo, calcifications, skin
  thickening. Excluded because they encode the outcome: BI-RADS category, the free-text
  interpretation, verification method and histological diagnosis.

Run:   python examples/breast_lesions_study.py [--out DIR] [--shared DIR] [--max-cases N]
       [--n-jobs N]   (--shared is the folder holding data/BrEaST-Lesions-USG; default
       ../shared next to the repository)
Time:  extraction of the 504 ROIs takes a few minutes on 2 cores the first time (up to half an
       hour on a busy machine; cached in --out/cache, so a rerun with the same --out takes
       seconds); ``--max-cases 40`` (a stratified subset) runs in under a minute. Writes
       manifest.csv, cache/, tables/, figures/, model.json and report.html to --out (default: a
       new temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import radiomics_aln as ra

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATASET = Path("data") / "BrEaST-Lesions-USG"  # inside the --shared folder
DATA = SHARED / DATASET
EXCLUDED = ["BIRADS", "Interpretation", "Verification", "Diagnosis"]  # encode the outcome
# Labels of the two logistic models in the study's tables (column "model").
CLINICAL = "Clinical model"
COMBINED = "Clinical-radiomics model"


def _collapse(values: pd.Series, keep: list[str], other: str = "other") -> pd.Series:
    return values.where(values.isin(keep), other)


def build_manifest(
    out_dir: Path, seed: int = 0, *, data_dir: Path = DATA, max_cases: int | None = None
) -> Path:
    """Write manifest.csv for the 252 lesions with a stratified 70/30 split; return its path.

    ``max_cases`` keeps a random subset of that many lesions, stratified by class, before the
    split (for a quick run); the full split does not depend on it.
    """
    images = data_dir / "BrEaST-Lesions_USG-images_and_masks"
    clin = pd.read_csv(data_dir / "clinical-data.derived.csv", dtype=str)
    clin = clin[clin["Classification"].isin(["benign", "malignant"])].copy()
    y = (clin["Classification"] == "malignant").astype(int)
    if max_cases is not None and max_cases < len(clin):
        sub_rng = np.random.default_rng([seed, 1])  # its own stream: the split's is unchanged
        keep = np.concatenate(
            [
                sub_rng.choice(idx, size=round(max_cases * len(idx) / len(clin)), replace=False)
                for idx in (clin.index[y == 0].to_numpy(), clin.index[y == 1].to_numpy())
            ]
        )
        clin = clin.loc[np.sort(keep)]
        y = y.loc[clin.index]
    rng = np.random.default_rng(seed)
    cohort = pd.Series("train", index=clin.index)
    for cls in (0, 1):  # stratified split: 30 % of each class to the test cohort
        idx = clin.index[y == cls].to_numpy()
        test = rng.choice(idx, size=round(0.3 * len(idx)), replace=False)
        cohort[test] = "test"
    age = pd.to_numeric(clin["Age"], errors="coerce")
    age = age.fillna(age[cohort == "train"].median())  # imputed from training patients only
    man = pd.DataFrame(
        {
            "case_id": [f"case{int(c):03d}" for c in clin["CaseID"]],
            "cohort": cohort.to_numpy(),
            "malignant": y.to_numpy(),
            "tumor_image": [str(images / f) for f in clin["Image_filename"]],
            "tumor_mask": [str(images / f) for f in clin["Mask_tumor_filename"]],
            "spacing": (clin["Pixel_size"].astype(float) * 10.0).to_numpy(),  # cm -> mm
            "age": age.to_numpy(),
            "shape": _collapse(clin["Shape"], ["oval", "round"], "irregular").to_numpy(),
            "margin": np.where(
                clin["Margin"] == "circumscribed", "circumscribed", "not_circumscribed"
            ),
            "echogenicity": _collapse(
                clin["Echogenicity"], ["hypoechoic", "heterogeneous"]
            ).to_numpy(),
            "posterior": _collapse(clin["Posterior_features"], ["no", "shadowing"]).to_numpy(),
            "halo": np.where(clin["Halo"] == "yes", "yes", "no"),
            "calcifications": np.where(clin["Calcifications"] == "no", "no", "yes"),
            "skin_thickening": np.where(clin["Skin_thickening"] == "yes", "yes", "no"),
        }
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "manifest.csv"
    man.to_csv(path, index=False)
    return path


def config(manifest: Path, cache_dir: Path, n_jobs: int = 2) -> ra.StudyConfig:
    """Study settings: endpoint, cohorts, ROIs and the clinical-ultrasound candidates."""
    return ra.StudyConfig.from_dict(
        {
            "manifest": str(manifest),
            "outcome": "malignant",
            "train_cohort": "train",
            "test_cohorts": ["test"],
            "cohort_labels": {"train": "Training (70%)", "test": "Test (30%)"},
            "rois": "intratumoral+peritumoral",
            "width_mm": 5.0,
            "clinical": [
                "age",
                "shape",
                "margin",
                "echogenicity",
                "posterior",
                "halo",
                "calcifications",
                "skin_thickening",
            ],  # fmt: skip
            "categorical": {
                "shape": ["oval", "round", "irregular"],
                "margin": ["circumscribed", "not_circumscribed"],
                "echogenicity": ["hypoechoic", "heterogeneous", "other"],
                "posterior": ["no", "shadowing", "other"],
                "halo": ["no", "yes"],
                "calcifications": ["no", "yes"],
                "skin_thickening": ["no", "yes"],
            },
            "icc": {"enabled": False},
            "n_jobs": n_jobs,
            "cache_dir": str(cache_dir),
            "title": "BrEaST-Lesions-USG: benign vs malignant (not ALN) - pipeline on real ultrasound",
        }
    )


def main(argv: list[str] | None = None) -> ra.Study:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    parser.add_argument("--shared", type=Path, metavar="DIR", default=SHARED,
                        help=f"folder holding {DATASET} (default {SHARED})")  # fmt: skip
    parser.add_argument("--max-cases", type=int, metavar="N", help="stratified subset of N lesions")
    parser.add_argument(
        "--n-jobs", type=int, metavar="N", default=2, help="worker processes (default 2)"
    )
    args = parser.parse_args(argv)
    data_dir = args.shared / DATASET
    if not data_dir.is_dir():
        parser.error(f"{data_dir} not found: this example needs the BrEaST-Lesions-USG dataset")
    out = args.out or Path(tempfile.mkdtemp(prefix="aln_breast_"))
    start = time.monotonic()

    manifest = build_manifest(out, data_dir=data_dir, max_cases=args.max_cases)
    cfg = config(manifest, out / "cache", n_jobs=args.n_jobs)
    study = ra.Study(cfg, progress=lambda m: print("  ..", m))
    study.fit().evaluate()  # fit on the training split only, then apply to the test split
    t = study.results_["tables"]
    print(t["table3"].to_string(index=False))
    dl = t["delong"]
    pair = dl["model_1"].isin([CLINICAL, COMBINED]) & dl["model_2"].isin([CLINICAL, COMBINED])
    print(dl.loc[pair, ["cohort", "auc_1", "auc_2", "p_value"]].to_string(index=False))
    n_fail = 0 if study.extraction_ is None else len(study.extraction_.failures)
    print(f"{len(study.data_)} lesions, {n_fail} failed ROI extractions")
    print("Nomogram predictors:", study.model_.combined_model.predictors_)
    study.save(out)  # tables/, figures/, model.json, config.yaml and report.html
    print(f"Report: {(out / 'report.html').resolve()}  ({time.monotonic() - start:.0f} s)")
    print(f"Outputs written to {out}")
    return study


if __name__ == "__main__":
    main()
