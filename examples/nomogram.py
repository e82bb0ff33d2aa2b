"""Clinical-radiomics nomogram for ALN metastasis, end to end.

Synthetic cohort (deterministic): a tumour score and an LN score (as ``ra.RadScore`` would
give), age, tumour size, margin and BI-RADS category. Shows the univariate screen, a backward
stepwise ``ra.LogisticNomogram`` with its points table and nomogram figure, the Nomo-score and
risk groups at the training cutoff, calibration (Hosmer-Lemeshow, le Cessie-van Houwelingen,
val.prob), Harrell's bootstrap validation, and Firth's penalised likelihood for a small cohort
whose score separates the outcome. The model is fitted on the training cohort only and applied
unchanged to an external cohort.

Run:   python examples/nomogram.py [--out DIR] [--n-boot N]
Time:  about 20 s with the default 50 bootstrap resamples. Writes nomogram.png,
       calibration.png, nomogram.json and bootstrap_validation.csv to --out (default: a new
       temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import radiomics_aln as ra
from radiomics_aln.calibration import le_cessie_van_houwelingen

# exception classes are not re-exported at the top level
from radiomics_aln.exceptions import SeparationError


def make_cohort(n: int, seed: int) -> pd.DataFrame:
    """``n`` synthetic patients: clinical variables, two radiomics scores and the outcome."""
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


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    parser.add_argument(
        "--n-boot", type=int, metavar="N", default=50, help="bootstrap resamples (default 50)"
    )
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="aln_nomogram_"))
    out.mkdir(parents=True, exist_ok=True)

    train, external = make_cohort(400, seed=1), make_cohort(200, seed=2)
    candidates = ["age", "size_mm", "margin", "birads", "tumor_score", "ln_score"]
    reference = {"margin": "circumscribed", "birads": "4a"}

    # 1. univariate screen (Table 2 of a nomogram paper)
    uni = ra.univariate_logistic(train, "aln_metastasis", candidates, reference_levels=reference)
    print(uni[["predictor", "level", "odds_ratio", "or_ci_low", "or_ci_high", "p_value"]].round(3))
    screened = uni.loc[uni.p_overall < 0.10, "predictor"].unique().tolist()
    print("screened (p < 0.10):", screened)

    # 2. multivariable model, backward elimination, nomogram
    nomo = ra.LogisticNomogram(selection="backward", reference_levels=reference).fit(
        train, "aln_metastasis", screened
    )
    nomo.print_summary()
    print(nomo.points_table().round(1).to_string(index=False))
    # risk axis: ticks 0.02, 0.05, 0.1 ... 0.9, 0.95, 0.98 over the total points that reach them
    fig, ax = plt.subplots(figsize=(10, 5.5))
    nomo.plot_nomogram(ax=ax, risk_label="Risk of ALN metastasis")
    fig.savefig(out / "nomogram.png", dpi=120, bbox_inches="tight")

    # 3. Nomo-score and risk groups in the external cohort (training cutoff)
    ext = external.assign(
        nomo_score=nomo.points(external),
        risk_group=nomo.risk_group(external),
        prob=nomo.predict_proba(external)[:, 1],
    )
    print(pd.crosstab(ext.risk_group, ext.aln_metastasis, margins=True))

    # 4. calibration: training (apparent) and external
    p_train = nomo.predict_proba(train)[:, 1]
    print(ra.hosmer_lemeshow(train.aln_metastasis, p_train))
    print(le_cessie_van_houwelingen(ext.aln_metastasis, ext.prob))
    print(ra.val_prob(ext.aln_metastasis, ext.prob).round(3))

    # 5. Harrell's bootstrap, repeating the backward elimination in every resample
    n_boot = args.n_boot
    validation = ra.bootstrap_validate(nomo, train, "aln_metastasis", n_boot=n_boot, random_state=0)
    print(validation.round(3))
    validation.to_csv(out / "bootstrap_validation.csv")
    cal = ra.bootstrap_calibrate(nomo, train, "aln_metastasis", n_boot=n_boot, random_state=0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    ra.plot_calibration(train.aln_metastasis, p_train, ax=axes[0], label="Training",
                     bias_corrected=cal)  # fmt: skip
    ra.plot_calibration(ext.aln_metastasis, ext.prob, ax=axes[1], label="External")
    fig.savefig(out / "calibration.png", dpi=120, bbox_inches="tight")
    plt.close("all")

    # 6. save as JSON (no pickle) and reload: identical predictions
    path = out / "nomogram.json"
    nomo.to_json(path)
    again = ra.LogisticNomogram.from_json(path)
    same = np.array_equal(again.predict_proba(external), nomo.predict_proba(external))
    print(f"reloaded from JSON: identical predictions = {same}")

    # 7. a small cohort whose score separates the outcome: maximum likelihood has no finite
    #    estimate (SeparationError); Firth's penalised likelihood (R logistf) does
    small = train.head(40).copy()
    small["tumor_score"] = np.where(small.aln_metastasis == 1, 1.0, -1.0) + small.age / 1000
    try:
        ra.LogisticNomogram().fit(small, "aln_metastasis", ["tumor_score", "size_mm"])
    except SeparationError as exc:
        print("maximum likelihood: separation by", ", ".join(exc.predictors))
    firth = ra.LogisticNomogram(penalty="firth").fit(
        small, "aln_metastasis", ["tumor_score", "size_mm"]
    )
    print("Firth:", firth.summary[["term", "odds_ratio", "or_ci_low", "or_ci_high"]].round(3))
    print(f"\nOutputs written to {out}")
    return out


if __name__ == "__main__":
    main()
