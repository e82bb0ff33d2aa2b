"""Benchmark: vectorized icc_table against a per-feature loop of pingouin.intraclass_corr.

50 cases x 2 readers x 1000 features (the usual inter-observer design of a radiomics study).
Both are timed in the same process; the ratio is what matters (machines are shared and noisy).
Also checks that both give the same ICC(A,1) values.

    python benchmarks/bench_icc.py [--cases 50] [--features 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import pingouin as pg

from radiomics_aln.reliability import icc_table


def make_readings(n_cases: int, n_features: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"case{i:03d}" for i in range(n_cases)], name="case_id")
    cols = [f"tumor__original_glcm_Feature{j:04d}" for j in range(n_features)]
    truth = rng.normal(size=(n_cases, n_features)) * rng.uniform(1, 1000, size=n_features)
    noise = rng.uniform(0.05, 1.0, size=n_features) * truth.std(axis=0)
    return {
        r: pd.DataFrame(truth + rng.normal(scale=noise, size=truth.shape), index=idx, columns=cols)
        for r in ("reader1", "reader2")
    }


def pingouin_loop(readings: dict[str, pd.DataFrame]) -> np.ndarray:
    out = []
    long = pd.concat(
        [
            df.reset_index().melt("case_id", var_name="feature").assign(rater=r)
            for r, df in readings.items()
        ]
    )
    for _, sub in long.groupby("feature", sort=False):
        res = pg.intraclass_corr(sub, targets="case_id", raters="rater", ratings="value")
        # pingouin >= 0.7 labels ICC2 "ICC(A,1)"; older versions "ICC2": select by meaning.
        row = res[res["Type"].isin(["ICC(A,1)", "ICC2"])]
        out.append(float(row["ICC"].iloc[0]))
    return np.asarray(out)


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, result = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5, help="best of N for icc_table")
    args = parser.parse_args()
    readings = make_readings(args.cases, args.features)
    icc_table(readings)  # warm-up (imports, first scipy calls)
    t_vec, tab = best_of(lambda: icc_table(readings, form="ICC2"), args.repeats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pingouin's pandas deprecation warnings
        t_loop, loop_icc = best_of(lambda: pingouin_loop(readings), 1)
    max_diff = float(np.max(np.abs(tab["estimate"].to_numpy() - loop_icc)))
    print(f"{args.cases} cases x 2 readers x {args.features} features, ICC(A,1)")
    print(f"icc_table (vectorized, best of {args.repeats}): {t_vec * 1e3:9.1f} ms")
    print(f"pingouin.intraclass_corr loop over features:  {t_loop * 1e3:9.1f} ms")
    print(f"speed-up: {t_loop / t_vec:.0f}x   (target >= 200x; icc_table target < 100 ms)")
    print(f"max |ICC difference| vs pingouin: {max_diff:.2e}")


if __name__ == "__main__":
    main()
