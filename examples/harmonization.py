"""ComBat harmonization fitted on a training cohort and applied to a new scanner, with diagnostics.

A simulated feature table: 150 training patients from scanners A and B, 60 test patients from
scanner C, never seen in training. Each scanner shifts and rescales every feature by its own
amount. ComBat is fitted on the training rows only; the test rows of scanner C are mapped onto
the training reference from their own features (never their outcomes). Printed: the share of
variance explained by scanner before and after, and the test performance of a logistic model
fitted on the training features, without and with harmonization: the new scanner's shifts move
every prediction (the mean predicted risk drifts from the event rate, the Brier score worsens)
and harmonization brings them back. A shift shared by all patients of a scanner does not change
an AUC; how much discrimination returns depends on how differently the scanner rescales the
features a model relies on (docs/harmonization.md). In a study the same step is one section
of the configuration (``harmonize: {enabled: true, batch: scanner}``; docs/harmonization.md).

Run:   python examples/harmonization.py [--out DIR]
Time:  a few seconds. Writes batch_effect.csv, harmonization.png and combat.json to --out
       (default: a new temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import radiomics_aln as ra
from radiomics_aln.harmonization import ComBat, harmonization_diagnostics, plot_batch_distributions


def simulate(seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """Features, scanner, outcome and cohort of 210 simulated patients."""
    rng = np.random.default_rng(seed)
    n, p = 210, 30
    scanner = np.array(["A"] * 75 + ["B"] * 75 + ["C"] * 60)
    cohort = np.where(scanner == "C", "external", "train")
    trait = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * trait))).astype(int)
    signal = np.outer(trait, rng.normal(0, 0.6, p)) + rng.normal(size=(n, p))
    shift = {s: rng.normal(0, 1, p) for s in "ABC"}
    scale = {s: np.exp(rng.normal(0, 0.3, p)) for s in "ABC"}
    x = np.vstack([signal[i] * scale[s] + shift[s] for i, s in enumerate(scanner)])
    ids = pd.Index([f"P{i:03d}" for i in range(n)], name="case_id")
    features = pd.DataFrame(x, index=ids, columns=[f"tumor__original_firstorder_F{j:02d}"
                                                    for j in range(p)])  # fmt: skip
    return (features, pd.Series(scanner, index=ids), pd.Series(y, index=ids),
            pd.Series(cohort, index=ids))  # fmt: skip


def test_performance(X: pd.DataFrame, y: pd.Series, train: pd.Series) -> str:
    """AUC, mean predicted risk (vs the event rate) and Brier score on the test rows."""
    model = LogisticRegression(C=0.1, max_iter=1000).fit(X[train], y[train])
    p = model.predict_proba(X[~train])[:, 1]
    auc = float(ra.roc_auc(y[~train], p)["estimate"].iloc[0])
    brier = float(np.mean((p - y[~train]) ** 2))
    return f"AUC {auc:.3f}, mean predicted risk {p.mean():.2f}, Brier {brier:.3f}"


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="radiomics_aln_harmonization_"))
    out.mkdir(parents=True, exist_ok=True)

    X, scanner, y, cohort = simulate()
    train = cohort == "train"
    combat = ComBat().fit(X[train], scanner[train])  # training rows only, no outcome
    harmonized = pd.concat([
        combat.transform(X[train], scanner[train]),       # stored parameters of A and B
        combat.transform(X[~train], scanner[~train]),     # C: a new batch, from its own rows
    ]).loc[X.index]  # fmt: skip

    diag = harmonization_diagnostics(X, harmonized, scanner, cohort=cohort)
    diag.to_csv(out / "batch_effect.csv", index=False)
    share = diag[diag["cohort"] == "all"].groupby("stage")["eta_squared"].median()
    print(f"median share of variance explained by scanner: before {share['before']:.2f}, "
          f"after {share['after']:.2f}")  # fmt: skip
    print(f"scanner C, event rate {y[~train].mean():.2f}:")
    print(f"  without harmonization: {test_performance(X, y, train)}")
    print(f"  with harmonization:    {test_performance(harmonized, y, train)}")

    fig = plot_batch_distributions(X, harmonized, scanner, max_features=4)
    fig.savefig(out / "harmonization.png", dpi=120)
    combat.to_json(out / "combat.json")
    again = ComBat.from_json(out / "combat.json").transform(X[~train], scanner[~train])
    print("model file reproduces the transform:", bool(np.allclose(again, harmonized[~train])))
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    main()
