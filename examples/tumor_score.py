"""Tumour LASSO score: fit on the training cohort, apply unchanged to the other cohorts.

Run: ``python examples/tumor_score.py [out_dir]`` (a few seconds). The feature table is synthetic
(radiomics-like: blocks of strongly correlated features on very different scales) so the example
runs without images; with real data, pass the tumour columns of the feature table from
``radiomics_aln.extraction.extract_features`` (after the ICC filter) instead.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from radiomics_aln.metrics import roc_auc
from radiomics_aln.score import RadScore


def synthetic_features(n: int = 300, n_latent: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, n_latent))
    cols = {}
    for j in range(6 * n_latent):  # 6 correlated features per latent texture property
        x = latent[:, j % n_latent] + rng.uniform(0.05, 0.6) * rng.normal(size=n)
        cols[f"tumor__original_f{j:03d}"] = 10.0 ** rng.uniform(-2, 3) * x
    X = pd.DataFrame(cols, index=pd.Index([f"P{i:03d}" for i in range(n)], name="case_id"))
    eta = 1.1 * latent[:, 0] - 0.9 * latent[:, 1] + 0.5 * latent[:, 2] - 0.4
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int), index=X.index)
    cohort = pd.Series(
        rng.choice(["train", "internal", "external"], n, p=[0.6, 0.2, 0.2]), index=X.index
    )
    return X, y, cohort


def main(out_dir: Path) -> None:
    X, y, cohort = synthetic_features()
    train = cohort == "train"

    # 1. fit on the training cohort only (standardize -> redundancy |r| > 0.9 -> LASSO, 10-fold CV)
    score = RadScore(name="tumor_score", rule="min", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning expected on clean data
        score.fit(X[train], y[train])
    print(
        f"{len(score.candidate_features_)} of {X.shape[1]} features after redundancy removal; "
        f"{len(score.selected_features_)} kept by the LASSO"
    )
    print(
        f"lambda.min = {score.lambda_min_:.4g}, lambda.1se = {score.lambda_1se_:.4g}, "
        f"chosen = {score.lambda_:.4g}"
    )
    print(score.summary.round(4).to_string())
    print(score.formula_)

    # 2. apply the same formula to every cohort
    values = score.transform(X)
    for name in ["train", "internal", "external"]:
        rows = cohort == name
        auc = roc_auc(y[rows], values.loc[rows, "tumor_score"])
        print(
            f"{name:9s} n={int(rows.sum()):3d} AUC {auc['estimate'].iloc[0]:.3f} "
            f"({auc['ci_low'].iloc[0]:.3f}-{auc['ci_high'].iloc[0]:.3f})"
        )

    # 3. figures for the paper
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    score.plot_cv(ax=axes[0])
    score.plot_path(ax=axes[1])
    score.plot_coefficients(ax=axes[2])
    fig.tight_layout()
    fig.savefig(out_dir / "tumor_score.png", dpi=100)

    # 4. JSON model file (no pickle), reloaded and applied
    score.to_json(out_dir / "tumor_score.json")
    again = RadScore.from_json(out_dir / "tumor_score.json")
    assert np.allclose(again.transform(X), values)
    print(f"wrote {out_dir / 'tumor_score.png'} and {out_dir / 'tumor_score.json'}")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    target.mkdir(parents=True, exist_ok=True)
    main(target)
