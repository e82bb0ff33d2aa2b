"""Benchmark of ComBat harmonization on the demo cohort: external vs internal AUC, with and without.

Run: ``nice -n 10 python benchmarks/bench_harmonization.py [--n-cases 200 600]
[--scanners single|mixed] [--ceiling] [--out DIR] [--n-jobs 1] [--cache-dir CACHE]``.

For each cohort size the demo cohort (``make_demo_cohort``, seed 0, with the given scanner
design; reused from ``DIR/n<N>`` (single) or ``DIR/mixed_n<N>`` when it is there) is extracted
once (cached in that folder's ``.cache``), then the demo study is fitted twice on the same
features: without harmonization and with ``harmonize: {enabled: true, batch: scanner}``.
Single design: ComBat is fitted on the training cohort -- scanner A only, so scanner A is the
reference; the external cohort's scanner B is a batch not seen in training, mapped onto A from
its own features. Mixed design: training has scanners A and B (the pooled training data is the
reference), every cohort of the first hospital has both, and the external cohort's scanner C is
a batch not seen in training. Printed per size: the clinical-radiomics model's AUC with its
DeLong 95% CI on every cohort (training included), both ways, the mean predicted probability
against the event rate, the share of the variance of the model's linear predictor explained by
the scanner (one-way eta squared), the paired DeLong test of the two on each cohort, the AUC and
mean risk within each scanner of each cohort, and the times; the tables are also written as CSV
next to the cohort folders. With ``--ceiling`` (single design) the external patients are also
imaged on the training scanner (the demo's ``uniform`` design: same patients, traits, outcomes
and clinical data): the model's external AUC there is the most any harmonization of scanner B
could recover, printed beside scanner B as acquired, after ComBat, and after an oracle
location/scale map (each feature given the mean and SD of the same patients on scanner A).
The numbers are recorded in docs/harmonization.md.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from radiomics_aln.config import demo_config
from radiomics_aln.datasets import make_demo_cohort
from radiomics_aln.metrics import delong_test, roc_auc
from radiomics_aln.model import extract_cohort
from radiomics_aln.study import Study


def run(n_cases: int, out: Path, n_jobs: int, cache_dir: Path | None = None,
        scanners: str = "single", ceiling: bool = False) -> pd.DataFrame:  # fmt: skip
    folder = out / (f"n{n_cases}" if scanners == "single" else f"{scanners}_n{n_cases}")
    t0 = time.perf_counter()
    manifest = make_demo_cohort(folder, n_cases=n_cases, random_state=0, reuse=True,
                                overwrite=True, scanners=scanners)  # fmt: skip
    cache = cache_dir if cache_dir is not None else folder / ".cache"
    cfg = demo_config(folder / "manifest.csv", n_jobs=n_jobs, cache_dir=str(cache))
    result = extract_cohort(
        manifest, cfg.roi_list(), cfg.params, width_mm=cfg.width_mm, n_jobs=n_jobs,
        cache_dir=cfg.cache_dir, repeats=True, progress="lines", mask_combine=cfg.mask_combine,
        min_area_mm2=cfg.min_area_mm2, spacing_range=cfg.spacing_range,
    )  # fmt: skip
    t_extract = time.perf_counter() - t0
    studies, times = {}, {}
    for name, harmonize in (("plain", {}), ("ComBat", {"enabled": True, "batch": "scanner"})):
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            studies[name] = Study(
                cfg, table=manifest.table, features=result.features, repeats=result.repeats,
                harmonize=harmonize or {"enabled": False}, progress=False,
            ).fit()  # fmt: skip
        times[name] = time.perf_counter() - t
    rows = []
    by_scanner = {c: "/".join(f"{k}{v}" for k, v in g.value_counts().sort_index().items())
                  for c, g in manifest.table.groupby("cohort")["scanner"]}  # fmt: skip
    for cohort in (cfg.train_cohort, *cfg.test_cohorts):
        d = {k: s.data_[s.data_["cohort"] == cohort] for k, s in studies.items()}
        y = d["plain"][cfg.outcome].astype(int).to_numpy()
        row = {"scanners": scanners, "n_cases": n_cases, "cohort": cohort, "n": len(y),
               "event_rate": y.mean(), "by_scanner": by_scanner[cohort]}
        for name in studies:
            auc = roc_auc(y, d[name]["probability"].to_numpy()).iloc[0]
            row[f"auc_{name}"] = auc["estimate"]
            row[f"ci_{name}"] = f"{auc['ci_low']:.3f}-{auc['ci_high']:.3f}"
            row[f"mean_p_{name}"] = d[name]["probability"].mean()
            row[f"eta2_{name}"] = _eta_squared(d[name])
        test = delong_test(y, d["ComBat"]["probability"].to_numpy(),
                           d["plain"]["probability"].to_numpy()).iloc[0]  # fmt: skip
        row["difference"] = test["estimate"]
        row["p_value"] = test["p_value"]
        rows.append(row)
    table = pd.DataFrame(rows)
    print(f"\n{scanners} scanners, n_cases = {n_cases}: extraction {t_extract:.0f} s, fit "
          f"without harmonization {times['plain']:.0f} s, with {times['ComBat']:.0f} s; "
          f"{len(studies['ComBat'].harmonizer_.feature_names_in_)} features "
          "harmonized")  # fmt: skip
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.round(3).to_string(index=False))
        within = _within_scanner(studies, cfg)
        print("\nwithin each scanner of each cohort (AUC; mean predicted risk):")
        print(within.round(3).to_string(index=False))
    table.to_csv(folder.parent / f"{folder.name}_results.csv", index=False)
    within.to_csv(folder.parent / f"{folder.name}_by_scanner.csv", index=False)
    if ceiling:
        limits = _ceiling(n_cases, out, n_jobs, cache, studies, cfg, manifest, result.features)
        limits.to_csv(folder.parent / f"{folder.name}_ceiling.csv", index=False)
    return table


def _ceiling(n_cases, out, n_jobs, cache, studies, cfg, manifest, features) -> pd.DataFrame:
    """What harmonization could recover at most: the external patients on the training scanner.

    The ``uniform`` design has the same patients (traits, outcomes, clinical data, cohorts)
    with every image on scanner A; its training, internal and prospective files are those of
    ``single``, so the models fitted above apply unchanged. Rows, for the external cohort: the
    model on scanner B as acquired, after ComBat, after an oracle location/scale map (each
    feature given the mean and SD it has for the same patients on scanner A -- the best any
    location/scale harmonization could do, knowing the truth), and on scanner A itself.
    """
    folder = out / f"uniform_n{n_cases}"
    twin = make_demo_cohort(folder, n_cases=n_cases, random_state=0, reuse=True,
                            overwrite=True, scanners="uniform")  # fmt: skip
    twin_cfg = demo_config(folder / "manifest.csv", n_jobs=n_jobs, cache_dir=str(cache))
    ext = manifest.table.index[manifest.table["cohort"] == "external"]
    on_a = extract_cohort(
        twin.subset("external"), cfg.roi_list(),
        twin_cfg.params, width_mm=cfg.width_mm, n_jobs=n_jobs, cache_dir=twin_cfg.cache_dir,
        repeats=False, progress="lines", mask_combine=cfg.mask_combine,
        min_area_mm2=cfg.min_area_mm2, spacing_range=cfg.spacing_range,
    ).features.loc[ext]  # fmt: skip
    on_b = features.loc[ext, on_a.columns].astype(float)
    on_a = on_a.astype(float)
    sd_b = on_b.std(ddof=1).replace(0, np.nan)
    oracle = ((on_b - on_b.mean()) / sd_b * on_a.std(ddof=1) + on_a.mean()).fillna(on_a)
    y = manifest.table.loc[ext, cfg.outcome].astype(int).to_numpy()
    model = studies["plain"].model_
    probs = {
        "scanner B, as acquired": studies["plain"].data_.loc[ext, "probability"],
        "scanner B, ComBat": studies["ComBat"].data_.loc[ext, "probability"],
        "scanner B, oracle location/scale": model.predict(oracle, clinical=twin.table.loc[ext])[
            "probability"],
        "same patients on scanner A": model.predict(on_a, clinical=twin.table.loc[ext])[
            "probability"],
    }  # fmt: skip
    base = probs["scanner B, as acquired"].to_numpy()
    rows = []
    for name, p in probs.items():
        auc = roc_auc(y, p.to_numpy()).iloc[0]
        test = delong_test(y, p.to_numpy(), base).iloc[0]
        rows.append({"n_cases": n_cases, "external": name, "auc": auc["estimate"],
                     "ci": f"{auc['ci_low']:.3f}-{auc['ci_high']:.3f}",
                     "vs_as_acquired": test["estimate"], "p_value": test["p_value"],
                     "mean_p": float(p.mean()), "event_rate": y.mean()})  # fmt: skip
    table = pd.DataFrame(rows)
    print("\nexternal cohort: what harmonization could recover (same patients on scanner A):")
    print(table.round(3).to_string(index=False))
    return table


def _eta_squared(d: pd.DataFrame) -> float:
    """Share of the variance of the model's linear predictor explained by the scanner."""
    lp = np.log(d["probability"] / (1 - d["probability"]))
    means = lp.groupby(d["scanner"]).transform("mean")
    total = ((lp - lp.mean()) ** 2).sum()
    return float(((means - lp.mean()) ** 2).sum() / total) if total > 0 else float("nan")


def _within_scanner(studies: dict, cfg) -> pd.DataFrame:
    """AUC (no CI) and mean predicted risk within each scanner of each cohort, both ways."""
    rows = []
    plain = studies["plain"].data_
    for (cohort, scanner), g in plain.groupby(["cohort", "scanner"], sort=True):
        y = g[cfg.outcome].astype(int).to_numpy()
        row = {"cohort": cohort, "scanner": scanner, "n": len(y), "event_rate": y.mean()}
        for name, study in studies.items():
            p = study.data_.loc[g.index, "probability"].to_numpy()
            both = 0 < y.sum() < len(y)
            row[f"auc_{name}"] = roc_auc(y, p).iloc[0]["estimate"] if both else float("nan")
            row[f"mean_p_{name}"] = p.mean()
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-cases", type=int, nargs="+", default=[200, 600])
    parser.add_argument("--scanners", choices=("single", "mixed"), default="single",
                        help="the demo's scanner design (make_demo_cohort(scanners=))")
    parser.add_argument("--out", type=Path, default=Path("bench_harmonization_data"))
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path, help="feature cache (default DIR/n<N>/.cache)")
    parser.add_argument("--ceiling", action="store_true", help="single design: also the same "
                        "external patients on the training scanner (the 'uniform' design)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    t = time.perf_counter()
    for n in args.n_cases:
        run(n, args.out, args.n_jobs, args.cache_dir, args.scanners,
            args.ceiling and args.scanners == "single")
    print(f"\ntotal {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
