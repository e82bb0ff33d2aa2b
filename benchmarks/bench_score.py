"""Benchmark of RadScore: 400 x 2500 training matrix -> fitted score, 10-fold CV over 100 lambdas.

Run: ``python benchmarks/bench_score.py [--n 400] [--p 2500] [--n-jobs 2]``.

The data imitate radiomics feature tables: 2500 columns built from 400 latent factors, each
repeated in blocks of correlated features on very different scales (as PyRadiomics' many
filtered versions of one texture do), and an outcome driven by a few factors. Printed: the time of
each stage, the total against the 10 s target, the ratio to a same-process baseline (scikit-learn
``LogisticRegression`` with the L1 ``saga`` solver, the configuration whose objective matches
glmnet's, warm-started along every 4th lambda of the same path), and a glmnet-parity check of the LASSO path
against the stored R reference (tests/reference/glmnet_path_tall.csv). On a shared machine the
wall time depends on the load, which is printed too.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from radiomics_aln import _lasso
from radiomics_aln.score import RadScore
from radiomics_aln.selection import RedundancyFilter

REF = Path(__file__).resolve().parents[1] / "tests" / "reference"


def make_radiomics_like(n: int, p: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_latent = max(p // 6, 1)
    latent = rng.normal(size=(n, n_latent))
    latent[:, 1:] += 0.4 * latent[:, :1]  # a shared "lesion size" factor correlates everything
    cols = {}
    for j in range(p):
        k = j % n_latent
        noise = rng.uniform(0.05, 0.8)
        scale = 10.0 ** rng.uniform(-3, 4)
        x = latent[:, k] + noise * rng.normal(size=n)
        if j % 5 == 0:
            x = np.exp(x / 2)  # skewed features
        cols[f"tumor__f{j:04d}"] = scale * x
    X = pd.DataFrame(cols, index=pd.Index([f"P{i:04d}" for i in range(n)], name="case_id"))
    eta = 1.0 * latent[:, 1] - 0.8 * latent[:, 2] + 0.6 * latent[:, 3] - 0.3
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return X, y


def parity_check() -> float:
    d = pd.read_csv(REF / "glmnet_data_tall.csv")
    ref = pd.read_csv(REF / "glmnet_path_tall.csv")
    X = d.filter(regex=r"^f\d+$").to_numpy()
    path, mean, sd = _lasso.fit_glmnet(X, d["y"].to_numpy(float))
    beta = ref[[c for c in ref.columns if c[0] == "f" and c[1:].isdigit()]].to_numpy().T
    return float(np.max(np.abs(path.coefs - beta * sd[:, None])))


def baseline_ratio(Z: np.ndarray, y: np.ndarray, lambdas: np.ndarray, k: int = 10) -> None:
    """Our solver vs scikit-learn's saga (same objective), both warm-started along the k largest
    lambdas of the path (saga takes minutes per lambda further down the path)."""
    from sklearn.linear_model import LogisticRegression

    sub = lambdas[:k]
    t0 = time.perf_counter()
    path, _, _ = _lasso.fit_glmnet(Z, y.astype(float), lambdas=sub)
    t_ours = time.perf_counter() - t0
    n = len(y)
    t0 = time.perf_counter()
    # scikit-learn < 1.8 ignores l1_ratio unless penalty="elasticnet"; 1.8 deprecates penalty.
    new_api = tuple(int(v) for v in sklearn.__version__.split(".")[:2]) >= (1, 8)
    l1 = {"l1_ratio": 1.0} if new_api else {"penalty": "l1"}
    model = LogisticRegression(**l1, solver="saga", warm_start=True, max_iter=2000, tol=1e-6)
    coefs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lam in sub:
            model.set_params(C=1.0 / (n * lam)).fit(Z, y)
            coefs.append(model.coef_.ravel().copy())
    t_saga = time.perf_counter() - t0
    diff = np.max(np.abs(np.array(coefs).T - path.coefs))
    print(
        f"baseline (same {k} lambdas, warm starts): ours {t_ours:.3f} s, scikit-learn saga "
        f"(tol 1e-6) {t_saga:.2f} s; ratio ours/saga = {t_ours / t_saga:.4f} "
        f"(max |coef diff| {diff:.1e}, within saga's tolerance)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--p", type=int, default=2500)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--no-baseline", action="store_true", help="skip the scikit-learn baseline")
    args = ap.parse_args()
    X, y = make_radiomics_like(args.n, args.p)
    print(f"data: {X.shape[0]} x {X.shape[1]}, events {int(y.sum())}")

    t0 = time.perf_counter()
    rf = RedundancyFilter(threshold=0.9, random_state=0).fit((X - X.mean()) / X.std(ddof=0), y)
    t_red = time.perf_counter() - t0
    print(f"redundancy removal alone: {t_red:.2f} s -> {int(rf.support_.sum())} features")

    print(f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    c0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        RadScore(name="tumor_score", random_state=0, n_jobs=1).fit(X, y)
    cpu_one = time.process_time() - c0
    print(f"RadScore fit, n_jobs=1: {cpu_one:.2f} s CPU (independent of the machine's load)")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rs = RadScore(name="tumor_score", random_state=0, n_jobs=args.n_jobs).fit(X, y)
    t_total = time.perf_counter() - t0
    print(
        f"RadScore fit (redundancy + 10-fold CV x {len(rs.cv_results_)} lambdas): {t_total:.2f} s "
        f"wall with n_jobs={args.n_jobs} (target < 10 s: {'met' if t_total < 10 else 'NOT met'}); "
        f"{len(rs.candidate_features_)} candidates, {len(rs.selected_features_)} selected"
    )
    if not args.no_baseline:
        Z = ((X - X.mean()) / X.std(ddof=0))[rs.candidate_features_].to_numpy()
        baseline_ratio(Z, y, rs.cv_results_["lambda"].to_numpy())
    print(f"glmnet parity (tall reference, max |standardized coef diff|): {parity_check():.2e}")


if __name__ == "__main__":
    main()
