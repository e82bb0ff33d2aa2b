"""Clinical-radiomics nomogram for ALN metastasis, end to end (runs in ~20 s).

Synthetic cohort (deterministic): a tumour score and an LN score (as the LASSO scores of
radiomics_aln.score would give), age, tumour size, margin and BI-RADS category. The model is
fitted on the training cohort only and applied unchanged to an external cohort.

    python examples/nomogram.py [output_dir]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from radiomics_aln.calibration import (
    bootstrap_calibrate,
    bootstrap_validate,
    hosmer_lemeshow,
    le_cessie_van_houwelingen,
    plot_calibration,
    val_prob,
)
from radiomics_aln.nomogram import LogisticNomogram, univariate_logistic


def make_cohort(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "age": rng.normal(52, 11, n).round(),
            "size_mm": rng.gamma(4, 5, n).round(1),
            "margin": rng.choice(["circumscribed", "angular", "spiculated"], n, p=[0.4, 0.3, 0.3]),
            "birads": rng.choice(["4a", "4b", "4c", "5"], n),
            "tumor_score": rng.normal(0, 1, n),
            "ln_score": rng.normal(0, 1, n),
        }
    )
    lp = (
        -1.2
        + 0.9 * df.tumor_score
        + 1.3 * df.ln_score
        + 0.03 * (df.size_mm - 20)
        + 0.7 * (df.margin == "spiculated")
    )
    df["aln_metastasis"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return df


def main(out_dir: Path) -> None:
    train, external = make_cohort(400, seed=1), make_cohort(200, seed=2)
    candidates = ["age", "size_mm", "margin", "birads", "tumor_score", "ln_score"]
    reference = {"margin": "circumscribed", "birads": "4a"}

    # 1. univariate screen (Table 2 of a nomogram paper)
    uni = univariate_logistic(train, "aln_metastasis", candidates, reference_levels=reference)
    print(uni[["predictor", "level", "odds_ratio", "or_ci_low", "or_ci_high", "p_value"]].round(3))
    screened = uni.loc[uni.p_overall < 0.10, "predictor"].unique().tolist()
    print("screened (p < 0.10):", screened)

    # 2. multivariable model, backward elimination, nomogram
    nomo = LogisticNomogram(selection="backward", reference_levels=reference).fit(
        train, "aln_metastasis", screened
    )
    nomo.print_summary()
    print(nomo.points_table().round(1).to_string(index=False))
    fig, ax = plt.subplots(figsize=(9, 5))
    nomo.plot_nomogram(ax=ax, probabilities=[0.1, 0.3, 0.5, 0.7, 0.9])
    fig.savefig(out_dir / "nomogram.png", dpi=120, bbox_inches="tight")

    # 3. Nomo-score and risk groups in the external cohort (training cutoff)
    ext = external.assign(
        nomo_score=nomo.points(external),
        risk_group=nomo.risk_group(external),
        prob=nomo.predict_proba(external)[:, 1],
    )
    print(pd.crosstab(ext.risk_group, ext.aln_metastasis, margins=True))

    # 4. calibration: training (apparent) and external
    p_train = nomo.predict_proba(train)[:, 1]
    print(hosmer_lemeshow(train.aln_metastasis, p_train))
    print(le_cessie_van_houwelingen(ext.aln_metastasis, ext.prob))
    print(val_prob(ext.aln_metastasis, ext.prob).round(3))

    # 5. Harrell's bootstrap, repeating the backward elimination in every resample
    print(bootstrap_validate(nomo, train, "aln_metastasis", B=50, random_state=0).round(3))
    cal = bootstrap_calibrate(nomo, train, "aln_metastasis", B=50, random_state=0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    plot_calibration(train.aln_metastasis, p_train, ax=axes[0], label="Training",
                     bias_corrected=cal)  # fmt: skip
    plot_calibration(ext.aln_metastasis, ext.prob, ax=axes[1], label="External")
    fig.savefig(out_dir / "calibration.png", dpi=120, bbox_inches="tight")

    # 6. save and reload: identical predictions
    path = out_dir / "nomogram.json"
    nomo.to_json(path)
    again = LogisticNomogram.from_json(path)
    assert np.array_equal(again.predict_proba(external), nomo.predict_proba(external))
    print(f"wrote {path}, nomogram.png and calibration.png to {out_dir}")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    target.mkdir(parents=True, exist_ok=True)
    main(target)
