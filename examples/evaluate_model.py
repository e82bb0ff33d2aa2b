"""Evaluate two risk models on several cohorts, as in a radiomics nomogram paper's Results.

Simulates a training, an internal and an external cohort with a "Clinical model" and a
"Nomogram" risk (the nomogram carries extra radiomics signal), then produces Table 3 (AUC with
95% CI, ACC/SEN/SPE/PPV/NPV at the training Youden cutoff), DeLong tests between the models per
cohort and between cohorts, NRI/IDI, decision curves, a clinical impact curve, ROC curves and
the risk-group bar chart. No images are needed: the risks could come from any model.

Run:   python examples/evaluate_model.py [--out DIR]
Time:  about 10 s. Writes table3.csv, roc.png, decision.png and risk_groups.png to --out
       (default: a new temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import radiomics_aln as ra
from radiomics_aln.decision import plot_clinical_impact
from radiomics_aln.metrics import delong_test_unpaired
from radiomics_aln.reclassification import plot_risk_groups


def simulate(n: int, rng: np.random.Generator, shift: float = 0.0) -> tuple[np.ndarray, dict]:
    """Outcome and two predicted risks; the nomogram adds a radiomics score."""
    clinical = rng.normal(size=n)
    radiomics = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-0.6 + 0.9 * clinical + 1.2 * radiomics)))).astype(int)
    p_clin = 1 / (1 + np.exp(-(-0.5 + 0.8 * clinical + shift)))
    p_nomo = 1 / (1 + np.exp(-(-0.6 + 0.9 * clinical + 1.1 * radiomics + shift)))
    return y, {"Clinical model": p_clin, "Nomogram": p_nomo}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="aln_evaluate_"))
    out.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 140)

    rng = np.random.default_rng(2026)
    cohorts = {  # cohort name -> (outcome, {model name: predicted risk})
        "Training": simulate(400, rng),
        "Internal validation": simulate(170, rng),
        "External validation": simulate(200, rng, shift=0.2),
    }

    # Table 3: the cutoffs are derived on the training cohort only and reused elsewhere.
    tab = ra.performance_table(cohorts, training="Training")
    print("Cutoffs (training Youden, p >= cutoff is high risk):", tab.thresholds)
    print(tab.formatted().to_string(index=False))
    tab.performance.to_csv(out / "table3.csv", index=False)
    print("\nDeLong tests between models:")
    print(
        tab.comparisons[["cohort", "model_1", "model_2", "auc_1", "auc_2", "z", "p_value"]]
        .round(4)
        .to_string(index=False)
    )

    # The same model on two independent cohorts: the unpaired DeLong test.
    y_tr, m_tr = cohorts["Training"]
    y_ex, m_ex = cohorts["External validation"]
    test = delong_test_unpaired(y_tr, m_tr["Nomogram"], y_ex, m_ex["Nomogram"]).iloc[0]
    print(
        f"\nNomogram, training vs external (unpaired DeLong): D = {test['z']:.3f}, "
        f"df = {test['df']:.1f}, p = {test['p_value']:.3f}"
    )

    # Reclassification: what the nomogram adds over the clinical model.
    reclass = pd.concat(
        [
            ra.nri(y_ex, m_ex["Clinical model"], m_ex["Nomogram"], cutoffs=[0.2, 0.5]),
            ra.idi(y_ex, m_ex["Clinical model"], m_ex["Nomogram"]),
        ],
        ignore_index=True,
    )
    print("\nNRI / IDI of the nomogram over the clinical model (external cohort):")
    print(
        reclass[["type", "component", "estimate", "ci_low", "ci_high", "p_value"]]
        .round(4)
        .to_string(index=False)
    )

    dca = ra.decision_curve(y_ex, m_ex, n_boot=200, random_state=0)
    print("\nNet benefit at 30%, 40%, 50% threshold (external cohort):")
    print(
        dca[dca["threshold"].isin([0.3, 0.4, 0.5])][
            ["model", "threshold", "net_benefit", "treat_all", "net_interventions_avoided"]
        ]
        .round(4)
        .to_string(index=False)
    )

    # Figures: every plot_* function draws on the axes it is given and returns them.
    fig, axes = plt.subplots(1, 3, figsize=(16, 6.5))
    for ax, (name, (y, models)) in zip(axes, cohorts.items(), strict=True):
        ra.plot_roc(y, models, ax=ax)
        ax.set_title(name)
    fig.tight_layout()
    fig.savefig(out / "roc.png", dpi=110)

    # Same model order as the ROC figure: each model keeps its colour and line style. Only the
    # clinically relevant thresholds are drawn; the table keeps every threshold.
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    ra.plot_decision_curve(dca, ax=axes[0], cost_benefit_axis=True, threshold_range=(0.05, 0.6))
    axes[0].set_title("Decision curves (external)", pad=28)
    plot_clinical_impact(ra.clinical_impact(y_ex, m_ex["Nomogram"]), ax=axes[1],
                         threshold_range=(0.05, 0.6))
    axes[1].set_title("Clinical impact of the nomogram (external)", pad=28)
    fig.tight_layout()
    fig.savefig(out / "decision.png", dpi=110)

    fig, ax = plt.subplots(figsize=(6, 4.5))
    risks = {name: (y, models["Nomogram"]) for name, (y, models) in cohorts.items()}
    plot_risk_groups(risks, threshold=tab.thresholds["Nomogram"], ax=ax)
    ax.set_title("ALN metastasis rate by nomogram risk group")
    fig.tight_layout()
    fig.savefig(out / "risk_groups.png", dpi=110)
    plt.close("all")
    print(f"\nOutputs written to {out}")
    return out


if __name__ == "__main__":
    main()
