"""Benchmark: perturbation readings versus the naive way, on the demo cohort.

Times, for the tumour and the 5 mm ring of N training cases x P perturbations:

(a) the naive way: every (case, perturbation) an independent extraction -- perturb the image
    and tumour mask in memory, then :func:`radiomics_aln.extraction.extract_features` on that
    one case (decode, ring, filters, features), spread over ``--n-jobs`` joblib workers;
(b) :func:`radiomics_aln.perturbation.perturbation_readings` with ``--n-jobs`` workers over
    cases, cold (empty cache) and warm (its cache),

with the ratio of each to (a), measured in the same process, a check that the tumour features
of (a) and (b) are equal, and where the time of (b) goes (a profile of one case, serial).

Timings are wall-clock and depend on what else runs on the machine: compare the ratios.

Usage::

    python benchmarks/bench_perturbation.py [--cases 4] [--perturbations 8] [--variants 4]
    python benchmarks/bench_perturbation.py --full          # 50 cases x 20 perturbations
    python benchmarks/bench_perturbation.py --demo DIR ...  # reuse a demo cohort folder
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import SimpleITK as sitk
from joblib import Parallel, delayed

from radiomics_aln import perturbation as pt
from radiomics_aln.datasets import make_demo_cohort
from radiomics_aln.extraction import extract_features
from radiomics_aln.images import load_image_with_fov
from radiomics_aln.masks import load_mask
from radiomics_aln.params import quiet_pyradiomics

ROIS = ("tumor", "peritumoral")


def naive_one(case, p: pt.Perturbation) -> dict[str, float]:
    """One (case, perturbation) as an independent extraction of an in-memory case."""
    loaded = load_image_with_fov(case.tumor_image, spacing=case.spacing)
    image = sitk.Cast(loaded.image, sitk.sitkFloat64)
    image.CopyInformation(loaded.image)
    for key in loaded.image.GetMetaDataKeys():
        image.SetMetaData(key, loaded.image.GetMetaData(key))
    tumor = load_mask(case.tumor_mask, like=loaded.image)
    img, _, msk = pt.perturbed_image(image, loaded.fov, tumor, p)
    mask = sitk.GetImageFromArray(pt.perturbed_mask(msk, p).astype(np.uint8))
    mask.CopyInformation(img)
    res = extract_features([{"case_id": case.case_id, "tumor_image": img, "tumor_mask": mask}],
                           rois=ROIS, n_jobs=1, progress=False, errors="raise")  # fmt: skip
    return res.features.iloc[0].to_dict()


def _cpu_seconds() -> dict[int, float]:
    """CPU seconds (user + system) used so far by this process and each of its descendants
    (the joblib workers), by process id."""
    procs = [psutil.Process()]
    procs += procs[0].children(recursive=True)
    out = {}
    for proc in procs:
        try:
            t = proc.cpu_times()
            out[proc.pid] = t.user + t.system
        except psutil.Error:  # a process that ended meanwhile
            pass
    return out


def timed(label: str, n_rois: int, fn, base: tuple[float, float] | None = None):
    """Run ``fn``; print its wall time and the CPU time of this process and its workers.

    The CPU time does not depend on what else runs on the machine, so its ratio is the one
    to compare when the load changed between (a) and (b); a worker that ended during the run
    takes its CPU time with it (counted and printed)."""
    before, t0 = _cpu_seconds(), time.perf_counter()
    value = fn()
    dt = time.perf_counter() - t0
    after = _cpu_seconds()
    cpu = sum(v - before.get(pid, 0.0) for pid, v in after.items())
    lost = len(set(before) - set(after))
    ratio = "" if base is None else (f"  {base[0] / dt:6.2f}x faster than (a) in wall time, "
                                     f"{base[1] / cpu:6.2f}x in CPU time")  # fmt: skip
    print(f"{label:<46s} {dt:8.1f} s wall {cpu:8.1f} s CPU  {n_rois / dt:6.2f} ROIs/s{ratio}"
          f"  (load average {os.getloadavg()[0]:.1f}"
          + (f"; {lost} worker(s) ended during the run, their CPU time is missing)" if lost
             else ")"), flush=True)  # fmt: skip
    return value, (dt, cpu)


def where_time_goes(case, n: int, chain: pt.PerturbationChain) -> None:
    """Profile one case (serial, no cache) and print the share of the main steps."""
    prof = cProfile.Profile()
    prof.enable()
    pt.perturbation_readings([case], n_perturbations=n, chain=chain, rois=ROIS, n_jobs=1)
    prof.disable()
    stats = pstats.Stats(prof)
    total = max(v[3] for v in stats.stats.values())
    steps = {
        "perturb image (rotate/shift/noise)": ("perturbation.py", "perturbed_image"),
        "perturb masks + rebuild ring": ("perturbation.py", "_variant_rois"),
        "PyRadiomics: resample (loadImage)": ("featureextractor.py", "loadImage"),
        "PyRadiomics: wavelet filter": ("imageoperations.py", "getWaveletImage"),
        "PyRadiomics: LoG filter": ("imageoperations.py", "getLoGImage"),
        "PyRadiomics: shape features": ("featureextractor.py", "computeShape"),
        "PyRadiomics: other features": ("featureextractor.py", "computeFeatures"),
        "PyRadiomics: crop per filtered image": ("imageoperations.py", "cropToTumorMask"),
    }
    print(f"where the time of (b) goes (one case, {n} perturbations, serial: {total:.1f} s):")
    for label, (file, func) in steps.items():
        cum = sum(v[3] for k, v in stats.stats.items() if k[0].endswith(file) and k[2] == func)
        print(f"  {label:<40s} {cum:7.2f} s  {100 * cum / total:5.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=4)
    parser.add_argument("--perturbations", type=int, default=8)
    parser.add_argument("--variants", type=int, default=4, help="image variants per case")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--full", action="store_true", help="50 cases x 20 perturbations")
    parser.add_argument("--demo", type=Path, help="an existing demo cohort folder to reuse")
    parser.add_argument("--cache", type=Path, help="cache folder for (b) (default: temporary)")
    args = parser.parse_args()
    if args.full:
        args.cases, args.perturbations, args.variants = 50, 20, 5
    quiet_pyradiomics()
    chain = pt.PerturbationChain(image_variants=args.variants)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = args.demo or tmp / "demo"
        manifest = make_demo_cohort(root, n_cases=max(200, 4 * args.cases), random_state=0,
                                    reuse=True, overwrite=args.demo is None)  # fmt: skip
        train = manifest.table.index[manifest.table["cohort"] == "train"]
        by_id = {c.case_id: c for c in manifest.cases}
        # the cases with repeat segmentations first (the demo comparison uses them)
        with_repeats = [c for c in train if by_id[c].repeat_masks]
        ids = (with_repeats + [c for c in train if c not in with_repeats])[: args.cases]
        cases = [by_id[c] for c in ids]
        n_rois = len(cases) * args.perturbations * len(ROIS)
        print(f"{len(cases)} cases x {args.perturbations} perturbations ({args.variants} image "
              f"variants) x {len(ROIS)} ROIs = {n_rois} ROIs; n_jobs={args.n_jobs}; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")  # fmt: skip

        specs = {c.case_id: pt.perturbations(c.case_id, n_perturbations=args.perturbations,
                                             chain=chain) for c in cases}  # fmt: skip

        def naive():
            pairs = [(c, p) for c in cases for p in specs[c.case_id]]
            rows = Parallel(n_jobs=args.n_jobs)(delayed(naive_one)(c, p) for c, p in pairs)
            return {(c.case_id, p.index): r for (c, p), r in zip(pairs, rows, strict=True)}

        ref, base = timed("(a) naive: one extraction per perturbation", n_rois, naive)
        cache = args.cache or tmp / "cache"

        def ours():
            return pt.perturbation_readings(
                cases, n_perturbations=args.perturbations, chain=chain, rois=ROIS,
                n_jobs=args.n_jobs, cache_dir=cache,
            )  # fmt: skip

        cold, _ = timed("(b) perturbation_readings, cold cache", n_rois, ours, base)
        warm, _ = timed("(b) perturbation_readings, warm cache", n_rois, ours, base)
        worst = 0.0
        for (cid, i), row in ref.items():
            mine = cold[f"perturbation{i + 1:02d}"].loc[cid]
            cols = [k for k in row if k.startswith("tumor__") and "diagnostics" not in k]
            a = np.array([row[k] for k in cols])
            b = mine[cols].to_numpy(float)
            worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-300))))
        same = all(warm[k].equals(cold[k]) for k in cold)
        print(f"tumour features, max relative difference (a) vs (b): {worst:.3g}; "
              f"warm equals cold: {same}")
        where_time_goes(cases[0], args.perturbations, chain)


if __name__ == "__main__":
    main()
