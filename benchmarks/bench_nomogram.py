"""Speed of the nomogram fit and of the bootstrap, as ratios against baselines run here.

    python benchmarks/bench_nomogram.py

Baselines: statsmodels' Logit (same Newton-Raphson MLE) for one fit; B bootstrap resamples
with n_jobs=1 for the parallel run. Numbers are noisy on a shared machine.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.validation import bootstrap_validate


def cohort(n: int, k: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k))
    lp = X[:, :3] @ np.array([1.0, -0.8, 0.5]) - 0.5
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(k)])
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return df


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    warnings.simplefilter("ignore")
    df = cohort(1000, 10)
    preds = [c for c in df.columns if c != "y"]
    t_ours = best_of(lambda: LogisticNomogram().fit(df, "y", preds))
    t_sm = best_of(lambda: sm.Logit(df["y"], sm.add_constant(df[preds])).fit(disp=0))
    print(
        f"fit, n=1000, 10 predictors: ours {t_ours * 1e3:.1f} ms, statsmodels Logit "
        f"{t_sm * 1e3:.1f} ms, ratio {t_ours / t_sm:.2f} (ours also builds the nomogram)"
    )
    t_bw = best_of(lambda: LogisticNomogram(selection="backward").fit(df, "y", preds), 3)
    print(f"backward elimination from 10 predictors: {t_bw * 1e3:.1f} ms")
    nomo = LogisticNomogram(selection="backward").fit(df, "y", preds)
    t1 = best_of(lambda: bootstrap_validate(nomo, df, "y", n_boot=40, random_state=0, n_jobs=1), 1)
    cold = best_of(lambda: bootstrap_validate(nomo, df, "y", n_boot=40, random_state=0, n_jobs=2), 1)
    warm = best_of(lambda: bootstrap_validate(nomo, df, "y", n_boot=40, random_state=0, n_jobs=2), 1)
    print(
        f"bootstrap_validate n_boot=40 with selection: n_jobs=1 {t1:.2f} s; n_jobs=2 {cold:.2f} s "
        f"with worker start-up, {warm:.2f} s warm; warm speed-up {t1 / warm:.2f}"
    )


if __name__ == "__main__":
    main()
