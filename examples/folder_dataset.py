"""Your own folder of images: a manifest from <class>/<name>.png + masks, then a train/test split.

Many public ultrasound datasets (BUSI, ...) are folders of ``<class>/<name>.png`` with
``<name>_mask.png`` (and ``<name>_mask_1.png``, ...) beside each image and no manifest. This
example lays out the five BrEaST-Lesions-USG cases committed under tests/data/breast (CC BY 4.0,
Pawłowska et al., Scientific Data 2024; see tests/data/breast/ATTRIBUTION.md) exactly as BUSI
names its files -- ``benign/benign (1).png``, ``benign/benign (1)_mask.png``,
``benign/benign (2)_mask_1.png`` -- adds a ``normal`` class whose mask is empty (as BUSI's) and
one image saved twice under two names (as BUSI has), then

1. builds the manifest with :func:`radiomics_aln.manifest_from_folder` and prints its report
   (no spacing given: the report says the column must be filled);
2. fills the ``spacing`` column per image from the dataset's clinical table (cm -> mm) and
   writes ``manifest.csv``, which :func:`radiomics_aln.read_manifest` accepts;
3. splits it 70/30 with :func:`radiomics_aln.split_cohort`, stratified by outcome, seeded, with
   the two identical images kept in one cohort, and writes ``split_manifest.csv``.

The same from the command line::

    radiomics-aln manifest-from-folder DIR/images --class benign=0 --class malignant=1 \\
        --exclude normal --out DIR/manifest.csv
    radiomics-aln split DIR/manifest.csv --test-size 0.3 --seed 0 --out DIR/split_manifest.csv

Run:   python examples/folder_dataset.py [--out DIR]
Time:  about 2 seconds. Writes images/, manifest.csv, manifest_issues.csv and
       split_manifest.csv to --out (default: a new temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

import radiomics_aln as ra
from radiomics_aln.exceptions import DataWarning

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "breast"


def busi_like_folder(root: Path) -> dict[str, float]:
    """Copy the committed cases into a BUSI-style layout; return name -> spacing in mm."""
    clinical = pd.read_csv(DATA / "clinical-data.csv", dtype=str)
    spacing_mm = {}
    counter = {"benign": 0, "malignant": 0}
    for row in clinical.itertuples():
        cls = row.Classification
        counter[cls] += 1
        name = f"{cls} ({counter[cls]})"
        (root / cls).mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / row.Image_filename, root / cls / f"{name}.png")
        shutil.copy(DATA / row.Mask_tumor_filename, root / cls / f"{name}_mask.png")
        if isinstance(row.Mask_other_filename, str):  # a second lesion: a second mask file
            shutil.copy(DATA / row.Mask_other_filename, root / cls / f"{name}_mask_1.png")
        spacing_mm[name] = round(float(row.Pixel_size) * 10, 9)  # the table gives cm per pixel
    # the first benign image again under another name (identical bytes), as BUSI has
    shutil.copy(root / "benign" / "benign (1).png", root / "benign" / "benign (9).png")
    shutil.copy(root / "benign" / "benign (1)_mask.png", root / "benign" / "benign (9)_mask.png")
    spacing_mm["benign (9)"] = spacing_mm["benign (1)"]
    # a "normal" image: its mask is empty, it has no lesion to measure
    (root / "normal").mkdir()
    shutil.copy(root / "benign" / "benign (2).png", root / "normal" / "normal (1).png")
    size = Image.open(root / "normal" / "normal (1).png").size
    Image.fromarray(np.zeros(size[::-1], np.uint8)).save(root / "normal" / "normal (1)_mask.png")
    return spacing_mm


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="aln_folder_dataset_"))
    out.mkdir(parents=True, exist_ok=True)
    images = out / "images"
    if images.exists():
        shutil.rmtree(images)
    spacing_mm = busi_like_folder(images)

    # 1. The manifest and the report of what was found. Which class is the outcome 1 is never
    #    guessed, and the normal class is left out explicitly.
    found = ra.manifest_from_folder(
        images, classes={"benign": 0, "malignant": 1}, exclude=["normal"]
    )
    print(found)
    found.issues.to_csv(out / "manifest_issues.csv", index=False)

    # 2. PNG files carry no pixel spacing. The dataset's table gives it per image: fill it in
    #    (spacing=0.078 would write one value for every image, as your assertion).
    found.manifest["spacing"] = found.manifest["case_id"].map(spacing_mm)
    path = found.to_csv(out / "manifest.csv")
    manifest = ra.read_manifest(path)
    print(f"\n{manifest!r}; spacing of benign (2): {manifest['benign (2)'].spacing} mm")

    # 3. A 70/30 split, stratified by outcome, with identical images in one cohort.
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # no patient has mixed outcomes here
        split = ra.split_cohort(path, test_size=0.3, random_state=0)
    print(f"\n{split!r}")
    print(split.summary.to_string(index=False))
    print(f"identical images merged into one group: {split.merged['case_ids'].tolist()}")
    split.to_csv(out / "split_manifest.csv")
    print(f"\nOutputs written to {out}")
    return out


if __name__ == "__main__":
    main()
