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

Run where ../shared exists:  python examples/breast_lesions_study.py [OUT_DIR]
Extraction of 504 ROIs takes several minutes on 2 cores the first time (cached afterwards).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from radiomics_aln.study import CLINICAL_MODEL, COMBINED_MODEL, Study, StudyConfig

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "BrEaST-Lesions-USG"
IMAGES = DATA / "BrEaST-Lesions_USG-images_and_masks"
EXCLUDED = ["BIRADS", "Interpretation", "Verification", "Diagnosis"]  # encode the outcome


def _collapse(values: pd.Series, keep: list[str], other: str = "other") -> pd.Series:
    return values.where(values.isin(keep), other)


def build_manifest(out_dir: Path, seed: int = 0) -> Path:
    """Write manifest.csv for the 252 lesions with a stratified 70/30 split; return its path."""
    clin = pd.read_csv(DATA / "clinical-data.derived.csv", dtype=str)
    clin = clin[clin["Classification"].isin(["benign", "malignant"])].copy()
    y = (clin["Classification"] == "malignant").astype(int)
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
            "tumor_image": [str(IMAGES / f) for f in clin["Image_filename"]],
            "tumor_mask": [str(IMAGES / f) for f in clin["Mask_tumor_filename"]],
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


def config(manifest: Path, cache_dir: Path) -> StudyConfig:
    return StudyConfig.from_dict(
        {
            "manifest": str(manifest),
            "outcome": "malignant",
            "train_cohort": "train",
            "test_cohorts": ["test"],
            "cohort_labels": {"train": "Training (70%)", "test": "Test (30%)"},
            "rois": "intratumoral+peritumoral",
            "ring_mm": 5.0,
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
            "n_jobs": 2,
            "cache_dir": str(cache_dir),
            "title": "BrEaST-Lesions-USG: benign vs malignant (not ALN) - pipeline on real ultrasound",
        }
    )


def main(out_dir: str = "breast_lesions_output") -> Study | None:
    if not DATA.is_dir():
        print(f"{DATA} not found: this example needs the ../shared dataset; skipping.")
        return None
    start = time.monotonic()
    out = Path(out_dir)
    manifest = build_manifest(out)
    study = Study(config(manifest, out / "cache"), progress=lambda m: print("  ..", m))
    study.fit().evaluate()
    t = study.results_["tables"]
    print(t["table3"].to_string(index=False))
    dl = t["delong"]
    pair = dl["model_1"].isin([CLINICAL_MODEL, COMBINED_MODEL]) & dl["model_2"].isin(
        [CLINICAL_MODEL, COMBINED_MODEL]
    )
    print(dl.loc[pair, ["cohort", "auc_1", "auc_2", "p_value"]].to_string(index=False))
    n_fail = 0 if study.extraction_ is None else len(study.extraction_.failures)
    print(f"{len(study.data_)} lesions, {n_fail} failed ROI extractions")
    print("Nomogram predictors:", study.model_.combined_model.predictors_)
    study.save(out)
    print(f"Report: {(out / 'report.html').resolve()}  ({time.monotonic() - start:.0f} s)")
    return study


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "breast_lesions_output")
