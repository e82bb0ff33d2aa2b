"""Benchmark: cohort feature extraction versus a naive PyRadiomics loop, on the demo cohort.

Prints ROIs per second for

(a) a naive serial loop -- per ROI: load the image and mask with :mod:`radiomics_aln.roi`, build
    the ring, ``RadiomicsFeatureExtractor(<shipped settings file>).execute(image, mask)``;
(b) :func:`radiomics_aln.extraction.extract_features` with ``n_jobs=1`` and ``n_jobs=2``, each
    cold (empty cache) and warm (the cache of the cold run),

with the ratio of each to (a) measured in the same process, and checks that every feature value
of every run equals (a)'s (relative difference <= 1e-12; in practice 0).

Timings are wall-clock and depend on what else runs on the machine: compare the ratios, and run
it on an idle machine for numbers worth quoting.

Usage::

    python benchmarks/bench_extraction.py [--cases 16] [--ablation]

``--ablation`` adds n_jobs=1 runs without the NumPy binning step and without ITK's
single-threading in workers, to show what each speed-up contributes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from radiomics.featureextractor import RadiomicsFeatureExtractor

from radiomics_aln import extraction
from radiomics_aln._pyradiomics_fast import fast_paths
from radiomics_aln.datasets import make_demo_cohort
from radiomics_aln.features import feature_name
from radiomics_aln.images import load_image, load_image_with_fov
from radiomics_aln.masks import load_mask
from radiomics_aln.params import get_extractor, load_params, params_path, quiet_pyradiomics
from radiomics_aln.ring import peritumoral_ring

ROIS = ("tumor", "peritumoral", "ln")


def naive_loop(cases, settings_file: str) -> dict[tuple[str, str], dict[str, float]]:
    """What a user would write first: one PyRadiomics call per ROI, serial."""
    extractor = RadiomicsFeatureExtractor(settings_file)
    out = {}
    for case in cases:
        for name in ROIS:
            if name == "ln":
                image, fov = load_image_with_fov(case.ln_image, spacing=case.ln_spacing)
                mask = load_mask(case.ln_mask, like=image)
            else:
                image, fov = load_image_with_fov(case.tumor_image, spacing=case.spacing)
                mask = load_mask(case.tumor_mask, like=image)
                if name == "peritumoral":
                    mask = peritumoral_ring(mask, width_mm=5.0, within=fov, min_coverage=None)
            res = extractor.execute(image, mask)
            out[(case.case_id, name)] = {
                k: float(v) for k, v in res.items() if not k.startswith("diagnostics_")
            }
    return out


def max_rel_diff(result, reference) -> float:
    worst = 0.0
    for (case_id, name), ref in reference.items():
        row = result.features.loc[case_id]
        ours = np.array([row[feature_name(name, k)] for k in ref])
        theirs = np.array(list(ref.values()))
        scale = np.maximum(np.abs(theirs), np.finfo(float).tiny)
        worst = max(worst, float(np.max(np.abs(ours - theirs) / scale)))
    return worst


def timed(label, n_rois, fn, baseline=None):
    t0 = time.perf_counter()
    value = fn()
    dt = time.perf_counter() - t0
    rate = n_rois / dt
    ratio = "" if baseline is None else f"  {rate / baseline:6.2f}x naive"
    print(f"{label:<44s} {dt:8.2f} s  {rate:8.2f} ROIs/s{ratio}", flush=True)
    return value, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=16, help="demo cases (>= 16)")
    parser.add_argument("--ablation", action="store_true", help="also time without speed-ups")
    args = parser.parse_args()

    quiet_pyradiomics()
    settings_file = str(params_path("ultrasound_2d"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        manifest = make_demo_cohort(tmp / "demo", n_cases=args.cases, random_state=0)
        cases = list(manifest.cases)
        n_rois = len(cases) * len(ROIS)
        print(f"demo cohort: {len(cases)} cases, {n_rois} ROIs ({', '.join(ROIS)}); "
              f"settings {settings_file}; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}")  # fmt: skip

        reference, base = timed("(a) naive loop, RadiomicsFeatureExtractor", n_rois,
                                lambda: naive_loop(cases, settings_file))  # fmt: skip

        def run(n_jobs, cache):
            return extraction.extract_features(
                manifest, rois=ROIS, n_jobs=n_jobs, cache_dir=cache, progress=False
            )

        checks = {}
        for n_jobs in (1, 2):
            cache = tmp / f"cache{n_jobs}"
            cold, _ = timed(f"(b) extract_features n_jobs={n_jobs}, cold cache", n_rois,
                            lambda n=n_jobs, c=cache: run(n, c), base)  # fmt: skip
            warm, _ = timed(f"(b) extract_features n_jobs={n_jobs}, warm cache", n_rois,
                            lambda n=n_jobs, c=cache: run(n, c), base)  # fmt: skip
            assert warm.n_computed == 0, "warm run recomputed ROIs"
            checks[f"n_jobs={n_jobs} cold"] = max_rel_diff(cold, reference)
            checks[f"n_jobs={n_jobs} warm"] = max_rel_diff(warm, reference)

        if args.ablation:
            import radiomics_aln._pyradiomics_fast as fast

            original = fast.fast_paths
            fast.fast_paths = lambda enabled=True: original(False)
            try:
                res, _ = timed("    n_jobs=1, cold, PyRadiomics' own binning", n_rois,
                               lambda: run(1, None), base)  # fmt: skip
            finally:
                fast.fast_paths = original
            checks["no fast binning"] = max_rel_diff(res, reference)

            def no_sharing():
                ext = get_extractor(load_params("ultrasound_2d"))
                out = {}
                with fast_paths():
                    for case in cases:
                        image, fov = load_image_with_fov(case.tumor_image, spacing=case.spacing)
                        mask = load_mask(case.tumor_mask, like=image)
                        ring = peritumoral_ring(mask, width_mm=5.0, within=fov, min_coverage=None)
                        for name, m in (("tumor", mask), ("peritumoral", ring)):
                            out[(case.case_id, name)] = ext.execute(image, m)
                        image = load_image(case.ln_image, spacing=case.ln_spacing)
                        out[(case.case_id, "ln")] = ext.execute(
                            image, load_mask(case.ln_mask, like=image)
                        )
                return out

            timed("    n_jobs=1, decode once, no shared filtering", n_rois, no_sharing, base)
            threads = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
            print(f"    (ITK default threads in this process: {threads})")

        print("max relative difference to (a), every feature of every ROI:")
        for k, v in checks.items():
            print(f"  {k:<22s} {v:.3g}")
        if max(checks.values()) > 1e-12:
            raise SystemExit("values differ from the naive loop")


if __name__ == "__main__":
    main()
