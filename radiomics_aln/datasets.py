"""Deterministic synthetic ultrasound cohort for demos, examples and tests.

:func:`make_demo_cohort` simulates a multi-centre breast-ultrasound ALN study: per patient a
B-mode image of the primary tumour and one of an axillary lymph node, segmentations (with repeat
segmentations by a second reader and by the first reader again for part of the training cohort),
clinical-ultrasound variables and a binary outcome drawn from a *known* logistic model whose
latent traits are what the rendered images show. See ``docs/demo_cohort.md``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from radiomics_aln._demo_images import (
    SCANNERS,
    mask_from_radius,
    perturbed_radius,
    render_ln,
    render_tumor,
    sigmoid,
)
from radiomics_aln._demo_readers import READERS_FILE, write_readers
from radiomics_aln.exceptions import InputError
from radiomics_aln.manifest import Manifest, read_manifest

__all__ = [
    "make_demo_cohort", "check_demo_cohort", "demo_generating_model", "DEMO_OUTCOME",
    "DEMO_NODE_COUNT",
]

logger = logging.getLogger(__name__)

#: Name of the outcome column of the demo manifest (pass it as ``outcome=`` to the study).
DEMO_OUTCOME = "aln_metastasis"

_DEFAULT_FRACTIONS = {"train": 0.5, "internal": 0.2, "external": 0.2, "prospective": 0.1}
_MARKER = ".radiomics_aln_demo"
# The version of what make_demo_cohort writes for given arguments. Bump it whenever a change to
# this module or _demo_images changes the files (tests/test_datasets.py pins their content):
# a folder stamped with another version is regenerated rather than reused.
# 2: the node count n_positive_nodes; 3: the scanner column (issue 17); 4: readers.csv (the
# prospective cohort's reader study, issue 16)
GENERATOR_VERSION = 4
_MIN_PER_COHORT = 2
# Scanner designs: per cohort (the external cohort, and every other cohort), each scanner's
# share of the patients. "single": one scanner per cohort (the default, and the design of
# every earlier version: its files are unchanged). "mixed": the study hospital runs two
# systems (A and B) in every one of its cohorts; the external hospital runs B and a system of
# its own, C, which no training patient had. Shares are exact (largest remainder) within each cohort, assignment at random.
SCANNER_DESIGNS: dict[str, dict[str, dict[str, float]]] = {
    "single": {"external": {"B": 1.0}, "other": {"A": 1.0}},
    "mixed": {"external": {"B": 0.3, "C": 0.7}, "other": {"A": 0.6, "B": 0.4}},
    # every patient on scanner A: the counterfactual of "single" (the same external patients on
    # the training scanner), which bounds what any harmonization of scanner B could recover
    "uniform": {"external": {"A": 1.0}, "other": {"A": 1.0}},
}

# Generating model of the outcome: logit P(ALN+) = intercept + sum(coef * term).
# Terms: the three latent imaging traits are standard normal; the clinical terms are
# log2(true diameter / 18 mm), (Ki-67 - 20) / 20 and (age - 53) / 10.
_COEF = {
    "intercept": -0.95,
    "heterogeneity": 1.8,
    "infiltration": 1.6,
    "node_cortex": 2.2,
    "log2_size_18mm": 0.35,
    "ki67_20pct": 0.25,
    "age_10y": -0.15,
}
# Generating model of the node count of N+ patients (N0 patients have 0):
# n_positive_nodes = 1 + Poisson(exp(intercept + node_cortex * c + infiltration * p)).
_NODES = {"intercept": -0.7, "node_cortex": 0.9, "infiltration": 0.6}
#: Name of the metastatic node count column of the demo manifest (the burden endpoint).
DEMO_NODE_COUNT = "n_positive_nodes"
_TERM_DESCRIPTION = {
    "intercept": "baseline log-odds",
    "heterogeneity": "intratumoral echo heterogeneity (latent, N(0, 1)); drives tumour texture",
    "infiltration": "peritumoral infiltration (latent, N(0, 1)); drives halo, distortion, spicules, margin",
    "node_cortex": "nodal cortex abnormality (latent, N(0, 1)); drives cortex thickness, roundness, hilum",
    "log2_size_18mm": "log2(true tumour diameter / 18 mm)",
    "ki67_20pct": "(Ki-67 % - 20) / 20",
    "age_10y": "(age - 53) / 10 years",
}


def demo_generating_model() -> pd.DataFrame:
    """Coefficients of the logistic model that generates the demo outcome.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``term``; columns ``estimate`` (log-odds coefficient), ``odds_ratio``
        (``exp(estimate)`` per unit of the term) and ``description`` (what the term is and
        how it is scaled).

    Examples
    --------
    >>> from radiomics_aln.datasets import demo_generating_model
    >>> demo_generating_model()["estimate"].round(2).to_dict()
    {'intercept': -0.95, 'heterogeneity': 1.8, 'infiltration': 1.6, 'node_cortex': 2.2, 'log2_size_18mm': 0.35, 'ki67_20pct': 0.25, 'age_10y': -0.15}
    """
    est = pd.Series(_COEF, dtype=float)
    out = pd.DataFrame(
        {
            "estimate": est,
            "odds_ratio": np.exp(est),
            "description": pd.Series(_TERM_DESCRIPTION),
        }
    )
    out.index.name = "term"
    return out


# --------------------------------------------------------------------------------------------
# patient-level latent traits and clinical variables
# --------------------------------------------------------------------------------------------


def _draw_patient(rng: np.random.Generator) -> dict[str, Any]:
    """Latent traits, clinical variables, linear predictor and outcome of one patient."""
    h, p, c = rng.standard_normal(3)
    age = int(np.clip(round(53 + 11 * rng.standard_normal()), 25, 88))
    er = rng.random() < sigmoid(1.3 - 0.6 * h)
    pr = rng.random() < (0.8 if er else 0.05)
    her2 = rng.random() < sigmoid(-1.6 + 0.3 * h)
    log_ki = math.log(15) + 0.5 * (0.6 * h + 0.8 * rng.standard_normal()) + 0.4 * (not er)
    ki67 = int(np.clip(round(math.exp(log_ki)), 1, 90))
    g = 0.6 * h + 0.8 * rng.standard_normal()
    grade = 1 if g < -1.0 else (3 if g > 0.25 else 2)
    # logit-normal diameter between 6 and 34 mm, median 18 mm (no pile-up at a clipping bound)
    size = 6 + 28 * float(
        sigmoid(math.log(12 / 16) + 0.75 * (0.35 * p + 0.94 * rng.standard_normal()))
    )
    margin_latent = p + 0.9 * rng.standard_normal()
    n_calc = int(rng.poisson(math.exp(-0.6 + 0.5 * h + 0.4 * her2)))
    us_latent = c + 0.9 * rng.standard_normal()
    lp = (
        _COEF["intercept"]
        + _COEF["heterogeneity"] * h
        + _COEF["infiltration"] * p
        + _COEF["node_cortex"] * c
        + _COEF["log2_size_18mm"] * math.log2(size / 18)
        + _COEF["ki67_20pct"] * (ki67 - 20) / 20
        + _COEF["age_10y"] * (age - 53) / 10
    )
    prob = float(sigmoid(lp))
    y = int(rng.random() < prob)
    # node count, drawn after everything above so that the binary demo is unchanged:
    # 0 for N0; for N+ 1 + Poisson(exp(-0.7 + 0.9 c + 0.6 p)) (about a third have >= 3)
    n_nodes = 1 + int(rng.poisson(math.exp(_NODES["intercept"] + _NODES["node_cortex"] * c
                                           + _NODES["infiltration"] * p))) if y else 0
    return {
        "heterogeneity": float(h),
        "infiltration": float(p),
        "node_cortex": float(c),
        "age": age,
        "er": "positive" if er else "negative",
        "pr": "positive" if pr else "negative",
        "her2": "positive" if her2 else "negative",
        "ki67": ki67,
        "grade": grade,
        "true_size_mm": size,
        "margin_latent": float(margin_latent),
        "margin": "not_circumscribed" if margin_latent > -0.45 else "circumscribed",
        "n_calcifications": n_calc,
        "calcification": "yes" if n_calc > 0 else "no",
        "us_aln_status": "suspicious" if us_latent > 0.8 else "not_suspicious",
        "linear_predictor": float(lp),
        "probability": prob,
        "y": y,
        "n_positive_nodes": n_nodes,
    }


# --------------------------------------------------------------------------------------------
# cohort assembly and writing
# --------------------------------------------------------------------------------------------


def _cohort_counts(n_cases: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """Largest-remainder allocation of n_cases to cohorts, topping small cohorts up to 2."""
    names = list(fractions)
    raw = np.array([fractions[k] for k in names], dtype=float) * n_cases
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    for i in order[: n_cases - counts.sum()]:
        counts[i] += 1
    for i in range(len(counts)):
        while counts[i] < _MIN_PER_COHORT and counts.max() > _MIN_PER_COHORT:
            counts[int(np.argmax(counts))] -= 1
            counts[i] += 1
    return dict(zip(names, counts.tolist(), strict=True))


def min_cases(fractions: Mapping[str, float]) -> int:
    """Fewest patients that give every cohort its minimum of patients."""
    return _MIN_PER_COHORT * len(fractions)


def check_fractions(cohort_fractions: Mapping[str, float] | None) -> dict[str, float]:
    """Checked cohort fractions (``None``: the default four cohorts)."""
    if cohort_fractions is None:
        return dict(_DEFAULT_FRACTIONS)
    if not isinstance(cohort_fractions, Mapping) or not cohort_fractions:
        raise InputError(
            "`cohort_fractions` must be a non-empty mapping of cohort name -> fraction"
        )
    out: dict[str, float] = {}
    for name, frac in cohort_fractions.items():
        if not isinstance(name, str) or not name or name != name.strip() or "," in name:
            raise InputError(f"`cohort_fractions` has an invalid cohort name {name!r}")
        try:
            value = float(frac)
        except (TypeError, ValueError):
            raise InputError(
                f"`cohort_fractions[{name!r}]` must be a number, got {frac!r}"
            ) from None
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"`cohort_fractions[{name!r}]` must be > 0, got {frac!r}")
        out[name] = value
    if "train" not in out:
        raise InputError(f"`cohort_fractions` must include a 'train' cohort, got {sorted(out)}")
    total = sum(out.values())
    if abs(total - 1) > 1e-6:
        raise InputError(f"`cohort_fractions` must sum to 1, got {total:.6g}")
    return out


def _assign_cohorts(
    rng: np.random.Generator, outcomes: np.ndarray, counts: Mapping[str, int]
) -> np.ndarray:
    """Random cohort labels with the given counts, stratified by outcome (systematic sampling)."""
    n = outcomes.size
    # cases sorted by outcome in random order within each class ...
    order = np.lexsort((rng.permutation(n), outcomes))
    # ... receive an evenly interleaved sequence of labels, so every cohort gets each class
    # in (close to) the overall proportion
    positions, labels = [], []
    for name, k in counts.items():
        offset = rng.random()
        positions.extend(((np.arange(k) + offset) * n / k).tolist())
        labels.extend([name] * k)
    seq = np.asarray(labels, dtype=object)[np.argsort(positions, kind="stable")]
    out = np.empty(n, dtype=object)
    out[order] = seq
    return out


def _prepare_out_dir(out_dir: Any, overwrite: bool) -> Path:
    try:
        path = Path(out_dir)
    except TypeError:
        raise InputError(f"`out_dir` must be a path, got {type(out_dir).__name__}") from None
    if path.exists() and not path.is_dir():
        raise InputError(f"`out_dir` {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"`out_dir` {path} is not empty; pass overwrite=True to replace an existing demo "
                "cohort or choose an empty folder"
            )
        if not (path / _MARKER).is_file():
            raise FileExistsError(
                f"`out_dir` {path} is not empty and was not written by make_demo_cohort "
                f"(no {_MARKER} file); refusing to overwrite it"
            )
        for name in ("cases", "manifest.csv", "truth.csv", READERS_FILE, f"{_MARKER}.partial",
                     _MARKER):  # fmt: skip
            target = path / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PermissionError(f"cannot create `out_dir` {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise PermissionError(f"`out_dir` {path} is not writable")
    return path


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cohort_files(root: Path) -> list[str]:
    """The files of a demo cohort in ``root`` (relative POSIX paths, sorted)."""
    names = [n for n in ("manifest.csv", "truth.csv", READERS_FILE) if (root / n).is_file()]
    cases = root / "cases"
    if cases.is_dir():
        names += [p.relative_to(root).as_posix() for p in cases.rglob("*") if p.is_file()]
    return sorted(names)


def _seed_of(random_state: Any) -> int | None:
    """The seed a stamp records: an integer seed, or None (a Generator or fresh entropy, which
    cannot be asked for again)."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return None
    return int(random_state)


def _arguments(n_cases: int, seed: int | None, fractions: Mapping[str, float],
               repeat_fraction: float, scanners: str = "single") -> dict[str, Any]:  # fmt: skip
    out = {
        "n_cases": n_cases,
        "random_state": seed,
        "cohort_fractions": dict(fractions),
        "repeat_fraction": repeat_fraction,
    }
    if scanners != "single":  # a stamp without the key is "single" (written before it existed)
        out["scanners"] = scanners
    return out


def _check_scanners(scanners: Any) -> str:
    if not isinstance(scanners, str) or scanners not in SCANNER_DESIGNS:
        raise InputError(
            f"`scanners` must be one of {sorted(SCANNER_DESIGNS)}, got {scanners!r}"
        )
    return scanners


def _assign_scanners(entropy: int, cohorts: np.ndarray, design: str) -> np.ndarray:
    """Each patient's scanner: exact shares per cohort (largest remainder), at random."""
    mix = SCANNER_DESIGNS[design]
    out = np.empty(cohorts.size, dtype=object)
    rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(2**32 + 1,)))
    for name in dict.fromkeys(cohorts.tolist()):  # cohorts in order of first appearance
        idx = np.flatnonzero(cohorts == name)
        shares = mix["external" if name == "external" else "other"]
        raw = np.array(list(shares.values())) * idx.size
        counts = np.floor(raw).astype(int)
        for i in np.argsort(-(raw - counts), kind="stable")[: idx.size - counts.sum()]:
            counts[i] += 1
        labels = np.repeat(list(shares), counts)
        out[idx] = labels if len(shares) == 1 else rng.permutation(labels)
    return out


def _write_stamp(root: Path, arguments: Mapping[str, Any], files: list[str] | None) -> None:
    """The stamp: generator version, arguments and (when complete) every file's SHA-256."""
    from radiomics_aln._version import __version__

    stamp = {
        "written_by": "radiomics_aln.datasets.make_demo_cohort",
        "generator_version": GENERATOR_VERSION,
        "radiomics_aln_version": __version__,
        "arguments": dict(arguments),
        "complete": files is not None,
        "files": {name: _file_digest(root / name) for name in files or []},
    }
    tmp = root / f"{_MARKER}.partial"
    tmp.write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, root / _MARKER)


def check_demo_cohort(
    out_dir: str | os.PathLike[str],
    *,
    n_cases: int = 200,
    random_state: int | np.random.Generator | None = 0,
    cohort_fractions: Mapping[str, float] | None = None,
    repeat_fraction: float = 0.25,
    scanners: str = "single",
) -> str | None:
    """Why ``out_dir`` does not hold the demo cohort these arguments write; None if it does.

    The folder holds it when its stamp (``.radiomics_aln_demo``, written last by
    :func:`make_demo_cohort`) names this generator version and these arguments, and every file
    of the cohort is there, unchanged (SHA-256), with no other file among them.

    Parameters
    ----------
    out_dir : str or path-like
        The folder.
    n_cases, random_state, cohort_fractions, repeat_fraction, scanners
        As :func:`make_demo_cohort`. A ``random_state`` that is None or a Generator never
        matches (it cannot ask for the same cohort again).

    Returns
    -------
    str or None
        None when the cohort can be reused as it is; otherwise the first reason it cannot
        (no stamp, other arguments, a missing, extra or modified file).

    Examples
    --------
    >>> import tempfile
    >>> from radiomics_aln.datasets import check_demo_cohort, make_demo_cohort
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = make_demo_cohort(tmp, n_cases=8, random_state=0)
    ...     print(check_demo_cohort(tmp, n_cases=8, random_state=0))
    ...     print(check_demo_cohort(tmp, n_cases=9, random_state=0))
    None
    written with n_cases=8, asked for n_cases=9
    """
    n_cases, fractions, repeat_fraction = _check_arguments(
        n_cases, cohort_fractions, random_state, repeat_fraction
    )
    scanners = _check_scanners(scanners)
    root = Path(out_dir)
    seed = _seed_of(random_state)
    if seed is None:
        return "random_state is not an integer seed, so the cohort cannot be asked for again"
    if not root.is_dir() or not any(root.iterdir()):
        return f"no demo cohort in {root}"
    try:
        stamp = json.loads((root / _MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{root} has no {_MARKER} stamp (not written by make_demo_cohort)"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return f"its {_MARKER} stamp is unreadable or from an earlier version of radiomics_aln"
    if not isinstance(stamp, dict) or stamp.get("generator_version") != GENERATOR_VERSION:
        version = stamp.get("generator_version") if isinstance(stamp, dict) else None
        return f"written by demo generator version {version}; this is version {GENERATOR_VERSION}"
    if not stamp.get("complete"):
        return "its writing did not finish (interrupted)"
    wanted = {"scanners": "single",
              **_arguments(n_cases, seed, fractions, repeat_fraction, scanners)}  # fmt: skip
    had = {"scanners": "single", **stamp.get("arguments", {})}
    differ = [k for k in wanted if had.get(k) != wanted[k]]
    if differ:
        return (
            "written with " + ", ".join(f"{k}={had.get(k)!r}" for k in differ)
            + ", asked for " + ", ".join(f"{k}={wanted[k]!r}" for k in differ)
        )  # fmt: skip
    return _files_problem(root, stamp.get("files", {}))


def _files_problem(root: Path, digests: Mapping[str, str]) -> str | None:
    """The first missing, extra or modified file of the cohort in ``root`` (None: all intact)."""
    on_disk = _cohort_files(root)
    missing = sorted(set(digests) - set(on_disk))
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        return f"{missing[0]}{more} missing"
    extra = sorted(set(on_disk) - set(digests))
    if extra:
        more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
        return f"{extra[0]}{more} not part of the cohort"
    for name in on_disk:
        if _file_digest(root / name) != digests[name]:
            return f"{name} was modified (its SHA-256 differs from the stamp's)"
    return None


def _write_png(array: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(array).save(path, format="PNG")


def _write_nrrd(array: np.ndarray, spacing: float, path: Path) -> None:
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(array)
    img.SetSpacing((spacing, spacing))
    sitk.WriteImage(img, str(path), True)


def _feret_mm(mask: np.ndarray, s: float) -> float:
    """Maximum caliper diameter of a mask, mm (from the pixel corners of its boundary)."""
    edge = mask & ~ndimage.binary_erosion(mask)
    pts = np.argwhere(edge).astype(float)
    corners = np.concatenate([pts + [dr, dc] for dr in (0, 1) for dc in (0, 1)])
    if len(corners) > 4:
        from scipy.spatial import ConvexHull

        corners = corners[ConvexHull(corners).vertices]
    diff = corners[:, None, :] - corners[None, :, :]
    return float(np.sqrt((diff**2).sum(-1)).max() * s)


def _fmt_spacing(value: float) -> str:
    return f"{value:.4g}"


def _check_arguments(
    n_cases: Any, cohort_fractions: Any, random_state: Any, repeat_fraction: Any
) -> tuple[int, dict[str, float], float]:
    """make_demo_cohort's checked number of cases, cohort fractions and repeat fraction."""
    if isinstance(n_cases, bool) or not isinstance(n_cases, int | np.integer):
        raise InputError(f"`n_cases` must be an integer, got {n_cases!r}")
    n_cases = int(n_cases)
    fractions = check_fractions(cohort_fractions)
    need = min_cases(fractions)
    if n_cases < need:
        raise InputError(
            f"`n_cases`={n_cases} is too small to give each of the cohorts {list(fractions)} "
            f"at least {_MIN_PER_COHORT} patients; use n_cases >= {need}"
        )
    if (
        random_state is not None
        and not isinstance(random_state, np.random.Generator)
        and (
            isinstance(random_state, bool)
            or not isinstance(random_state, int | np.integer)
            or random_state < 0
        )
    ):
        raise InputError(
            "`random_state` must be a non-negative integer, a numpy Generator or None, got "
            f"{random_state!r}"
        )
    try:
        repeat_fraction = float(repeat_fraction)
    except (TypeError, ValueError):
        raise InputError(
            f"`repeat_fraction` must be a number in [0, 1], got {repeat_fraction!r}"
        ) from None
    if not 0 <= repeat_fraction <= 1:
        raise InputError(f"`repeat_fraction` must be in [0, 1], got {repeat_fraction!r}")
    return n_cases, fractions, repeat_fraction


def _write_case(
    root: Path,
    case_id: str,
    cohort: str,
    pt: dict[str, Any],
    st: list[np.random.Generator],
    repeat: bool,
    scanner_name: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Render and write one patient's images and masks: (manifest row, truth row)."""
    scanner = SCANNERS[scanner_name]
    tum = render_tumor(st[1], pt, scanner)
    s_t = tum["spacing"]
    s_n = float(st[2].choice(scanner.spacings))
    ln = render_ln(st[2], pt, s_n, scanner)
    masks = {
        ("tumor", "reader1"): mask_from_radius(tum["rho"], tum["theta"], tum["outline"]),
        ("ln", "reader1"): mask_from_radius(ln["rho"], ln["theta"], ln["outline"]),
    }
    if repeat:
        for roi, geo in (("tumor", tum), ("ln", ln)):
            for reader, rms, sys_sd in (
                ("reader2", (0.25, 0.6), 0.25),
                ("repeat", (0.1, 0.25), 0.1),
            ):
                radius = perturbed_radius(
                    st[3], geo["outline"], st[3].uniform(*rms), st[3].normal(0, sys_sd)
                )
                masks[(roi, reader)] = mask_from_radius(geo["rho"], geo["theta"], radius)
    case_dir = root / "cases" / case_id
    case_dir.mkdir()
    ext = scanner.file_format
    files: dict[str, str] = {}
    for roi, img, s in (("tumor", tum["image"], s_t), ("ln", ln["image"], s_n)):
        name = f"{roi}_image.{ext}"
        if ext == "png":
            _write_png(img, case_dir / name)
        else:
            _write_nrrd(img, s, case_dir / name)
        files[f"{roi}_image"] = f"cases/{case_id}/{name}"
    for (roi, reader), mask in masks.items():
        name = f"{roi}_mask_{reader}.{ext}"
        s = s_t if roi == "tumor" else s_n
        if ext == "png":
            _write_png(mask.astype(np.uint8) * 255, case_dir / name)
        else:
            _write_nrrd(mask.astype(np.uint8), s, case_dir / name)
        col = f"{roi}_mask" if reader == "reader1" else f"{roi}_mask_{reader}"
        files[col] = f"cases/{case_id}/{name}"
    size_mm = round(_feret_mm(masks[("tumor", "reader1")], s_t), 1)
    row = {
        "case_id": case_id,
        "cohort": cohort,
        DEMO_OUTCOME: pt["y"],
        "tumor_image": files["tumor_image"],
        "tumor_mask": files["tumor_mask"],
        "ln_image": files["ln_image"],
        "ln_mask": files["ln_mask"],
        "tumor_mask_reader2": files.get("tumor_mask_reader2", ""),
        "tumor_mask_repeat": files.get("tumor_mask_repeat", ""),
        "ln_mask_reader2": files.get("ln_mask_reader2", ""),
        "ln_mask_repeat": files.get("ln_mask_repeat", ""),
        "spacing": _fmt_spacing(s_t) if ext == "png" else "",
        "ln_spacing": _fmt_spacing(s_n) if ext == "png" else "",
        "age": pt["age"],
        "size_mm": size_mm,
        "margin": pt["margin"],
        "calcification": pt["calcification"],
        "us_aln_status": pt["us_aln_status"],
        "er": pt["er"],
        "pr": pt["pr"],
        "her2": pt["her2"],
        "ki67": pt["ki67"],
        "grade": pt["grade"],
        DEMO_NODE_COUNT: pt["n_positive_nodes"],
        "scanner": scanner.name,
    }
    true = {
        "case_id": case_id,
        "cohort": cohort,
        DEMO_OUTCOME: pt["y"],
        "heterogeneity": pt["heterogeneity"],
        "infiltration": pt["infiltration"],
        "node_cortex": pt["node_cortex"],
        "linear_predictor": pt["linear_predictor"],
        "probability": pt["probability"],
        "true_size_mm": pt["true_size_mm"],
        "margin_subtype": tum["subtype"],
        "posterior_features": tum["posterior"],
        "halo_mm": tum["halo_mm"],
        "n_calcifications": pt["n_calcifications"],
        "ln_short_long_ratio": ln["short_long_ratio"],
        "ln_cortex_max_mm": ln["cortex_max_mm"],
        "ln_hilum_effaced": int(ln["hilum_effaced"]),
        "scanner": scanner.name,
        "tumor_spacing_mm": s_t,
        "ln_spacing_mm": s_n,
        "has_repeat_masks": int(repeat),
        DEMO_NODE_COUNT: pt["n_positive_nodes"],
    }
    return row, true


def make_demo_cohort(
    out_dir: str | os.PathLike[str],
    *,
    n_cases: int = 200,
    random_state: int | np.random.Generator | None = 0,
    cohort_fractions: Mapping[str, float] | None = None,
    repeat_fraction: float = 0.25,
    scanners: str = "single",
    overwrite: bool = False,
    reuse: bool = False,
) -> Manifest:
    """Write a synthetic multi-centre breast-ultrasound ALN cohort and return its manifest.

    Every patient has a B-mode image of the primary tumour and a separate image of an axillary
    lymph node (LN), a tumour mask and an LN mask (``reader1``), clinical-ultrasound variables,
    and the outcome ``aln_metastasis`` drawn from a known logistic model (see Notes). For a
    subset of the training cohort a second reader (``reader2``) and the first reader again
    (``repeat``) re-segmented tumour and node, for ICC reproducibility analysis.

    Parameters
    ----------
    out_dir : str or path-like
        Folder to write into; created if missing. It must be empty, unless ``overwrite=True``
        and it holds an earlier demo cohort (then the earlier files are replaced).
    n_cases : int, default 200
        Number of patients. Each cohort needs at least 2 patients (8 with the default
        fractions). Patient ``i`` has the same traits, clinical data and outcome for any
        ``n_cases > i``.
    random_state : int, numpy Generator or None, default 0
        Seed. The same seed writes byte-identical files; a Generator gives the seed (one draw
        from it); ``None`` draws fresh entropy.
    cohort_fractions : mapping of str to float, optional
        Cohort name -> share of patients, summing to 1 and including ``"train"``. Default
        ``{"train": 0.5, "internal": 0.2, "external": 0.2, "prospective": 0.1}``. Patients are
        allocated at random, stratified by outcome. With ``scanners="single"`` a cohort named
        ``"external"`` is acquired on the second centre's scanner (shifted appearance, NRRD
        files); all others on the first centre's scanner (8-bit PNG, spacing in the manifest).
    repeat_fraction : float, default 0.25
        Share of training patients with ``reader2`` and ``repeat`` segmentations (at least 3,
        at most all training patients).
    scanners : {"single", "mixed", "uniform"}, default "single"
        Which scanner acquires each patient. ``"single"``: scanner A for every cohort but
        ``"external"``, scanner B for that one. ``"mixed"`` (a multi-centre study with several
        systems per hospital): in every cohort but ``"external"`` 60 % of the patients on
        scanner A and 40 % on scanner B; in ``"external"`` 30 % on B and 70 % on a third system
        C that no other cohort has. Shares are exact within each cohort (largest remainder),
        which patients at random, independent of the outcome. The ``scanner`` manifest column
        records it; docs/demo_cohort.md describes the scanners. ``"uniform"``: scanner A for
        every cohort -- the ``"single"`` cohort's patients with the external cohort acquired on
        the training scanner, a counterfactual for harmonization benchmarks.
    overwrite : bool, default False
        Replace an earlier demo cohort in ``out_dir``.
    reuse : bool, default False
        When ``out_dir`` already holds the cohort these arguments write, complete and unchanged
        (:func:`check_demo_cohort`: the stamp's generator version, arguments and SHA-256 of
        every file), return its manifest without writing anything. Otherwise the cohort is
        written as without ``reuse`` (an earlier demo cohort is replaced only with
        ``overwrite=True``).

    Returns
    -------
    Manifest
        ``radiomics_aln.manifest.read_manifest(out_dir / "manifest.csv", outcome="aln_metastasis")``.
        The manifest CSV has the columns ``case_id``, ``cohort``, ``aln_metastasis`` (0/1),
        ``tumor_image``, ``tumor_mask``, ``ln_image``, ``ln_mask``, ``tumor_mask_reader2``,
        ``tumor_mask_repeat``, ``ln_mask_reader2``, ``ln_mask_repeat`` (empty where absent),
        ``spacing`` and ``ln_spacing`` (mm/pixel for PNG files; empty for NRRD, whose header
        holds it), and the clinical variables ``age`` (years), ``size_mm`` (maximum caliper
        diameter of the tumour mask, mm), ``margin`` (``circumscribed`` /
        ``not_circumscribed``), ``calcification`` (``yes`` / ``no``), ``us_aln_status``
        (``suspicious`` / ``not_suspicious``: the radiologist's reading of the axilla), ``er``,
        ``pr``, ``her2`` (``positive`` / ``negative``), ``ki67`` (%), ``grade`` (1-3),
        ``n_positive_nodes`` (metastatic nodes: 0 for N0, >= 1 for N+; the burden endpoint), and
        ``scanner`` (``A`` / ``B`` / ``C``: the batch for harmonization,
        ``harmonize: {batch: scanner}``).
        ``truth.csv`` (not part of the manifest) holds per patient the latent traits, the true
        linear predictor and probability, and rendering details, for checking recovery.

    Raises
    ------
    InputError
        ``n_cases`` too small to give every cohort 2 patients, or an invalid argument.
    FileExistsError
        ``out_dir`` is not empty and ``overwrite`` is False (and, with ``reuse``, it does not
        hold this cohort), or it holds files that were not written by this function.
    PermissionError
        ``out_dir`` cannot be created or written.

    Notes
    -----
    The outcome is Bernoulli with

    .. math::

        \\operatorname{logit} P(\\text{ALN}+) = -0.95 + 1.8\\,h + 1.6\\,p + 2.2\\,c
        + 0.35 \\log_2(D / 18) + 0.25\\,(\\text{Ki67} - 20)/20 - 0.15\\,(\\text{age} - 53)/10

    where :math:`h` (intratumoral heterogeneity), :math:`p` (peritumoral infiltration) and
    :math:`c` (nodal cortex abnormality) are independent standard-normal latent traits and
    :math:`D` is the true tumour diameter in mm (:func:`demo_generating_model`). Prevalence is
    about 40 %; the true linear predictor has an AUC of about 0.93, clinical variables alone
    about 0.72-0.77. On the default cohort the study's clinical-radiomics model reached 0.96
    (internal) and 0.88 (prospective) on the training scanner, 0.71 on the external scanner,
    against 0.64, 0.75 and 0.41 for the clinical model (``docs/demo_cohort.md``).

    The traits drive what is rendered: :math:`h` sets the amplitude and grain of the
    log-normal echo modulation inside the tumour, necrosis and (with grade, ER and Ki-67, which
    correlate with it) calcifications; :math:`p` sets the echogenic halo, radial architectural
    distortion, spicules, margin irregularity and posterior shadowing; :math:`c` sets the LN
    cortex thickness and eccentricity, roundness (short/long axis), heterogeneity and hilum
    effacement. ``margin`` and ``us_aln_status`` are noisy readings of :math:`p` and :math:`c`.

    The node count of an N+ patient is :math:`1 + \\text{Poisson}(\\lambda)` with
    :math:`\\log \\lambda = -0.7 + 0.9\\,c + 0.6\\,p` (about a third of N+ patients have
    >= 3 nodes, more of those with an abnormal node cortex and peritumoral infiltration); N0
    patients have 0. It is drawn after every other draw of the patient, so the binary demo's
    files are unchanged but for this column.

    Images: complex Gaussian scatterers scaled by a tissue backscatter map (skin, subcutaneous
    fat with Cooper's ligaments, fibroglandular tissue with fat lobules, pectoral muscle),
    convolved with an anisotropic Gaussian point-spread function whose lateral width grows away
    from the focus; the envelope (Rayleigh speckle) gets residual attenuation after imperfect
    time-gain compensation and is log-compressed to 8 bits. Repeat segmentations displace the
    reader-1 outline radially by a smooth random curve (RMS 0.25-0.6 mm for ``reader2``,
    0.1-0.25 mm for ``repeat``) plus a systematic offset (SD 0.25 and 0.1 mm).

    Examples
    --------
    >>> import tempfile
    >>> from radiomics_aln.datasets import make_demo_cohort
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     demo = make_demo_cohort(tmp, n_cases=12, random_state=0)
    ...     print(len(demo), demo.table["cohort"].value_counts().sort_index().to_dict())
    12 {'external': 2, 'internal': 3, 'prospective': 2, 'train': 5}
    """
    n_cases, fractions, repeat_fraction = _check_arguments(
        n_cases, cohort_fractions, random_state, repeat_fraction
    )
    scanners = _check_scanners(scanners)
    if reuse:
        why = check_demo_cohort(
            out_dir, n_cases=n_cases, random_state=random_state,
            cohort_fractions=fractions, repeat_fraction=repeat_fraction, scanners=scanners,
        )  # fmt: skip
        if why is None:
            logger.info("reusing the demo cohort of %d patients in %s", n_cases, out_dir)
            return read_manifest(Path(out_dir) / "manifest.csv", outcome=DEMO_OUTCOME)
        path = Path(out_dir)
        if not overwrite and path.is_dir() and any(path.iterdir()):
            raise FileExistsError(
                f"`out_dir` {path} is not empty and its demo cohort cannot be reused ({why}); "
                "pass overwrite=True to replace it, or choose an empty folder"
            )
        logger.info("writing the demo cohort in %s (the folder's cannot be reused: %s)", path, why)
    root = _prepare_out_dir(out_dir, overwrite)
    arguments = _arguments(n_cases, _seed_of(random_state), fractions, repeat_fraction, scanners)
    # the stamp first (so that an interrupted run can be overwritten), complete at the end
    _write_stamp(root, arguments, None)
    if isinstance(random_state, np.random.Generator):
        entropy = int(random_state.integers(0, 2**63))
    elif random_state is None:
        entropy = np.random.SeedSequence().entropy
    else:
        entropy = int(random_state)
    width = max(4, len(str(n_cases)))
    # per-patient streams: the trait/outcome, tumour, node and re-segmentation draws of patient
    # i do not depend on n_cases or on each other
    streams = [
        [
            np.random.default_rng(ss)
            for ss in np.random.SeedSequence(entropy, spawn_key=(i,)).spawn(4)
        ]
        for i in range(n_cases)
    ]
    patients = [_draw_patient(st[0]) for st in streams]
    outcomes = np.array([pt["y"] for pt in patients])
    cohort_rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(2**32,)))
    counts = _cohort_counts(n_cases, fractions)
    cohorts = _assign_cohorts(cohort_rng, outcomes, counts)
    train_idx = np.flatnonzero(cohorts == "train")
    n_rep = (
        int(min(train_idx.size, max(3, round(repeat_fraction * train_idx.size))))
        if repeat_fraction > 0
        else 0
    )
    repeat_set = (
        set(cohort_rng.choice(train_idx, n_rep, replace=False).tolist()) if n_rep else set()
    )

    scanner_of = _assign_scanners(entropy, cohorts, scanners)
    (root / "cases").mkdir()
    rows, truth = [], []
    for i, (pt, st) in enumerate(zip(patients, streams, strict=True)):
        row, true = _write_case(
            root, f"case{i + 1:0{width}d}", str(cohorts[i]), pt, st, i in repeat_set,
            str(scanner_of[i]),
        )
        rows.append(row)
        truth.append(true)
    manifest_path = root / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest_path, index=False, lineterminator="\n")
    pd.DataFrame(truth).to_csv(
        root / "truth.csv", index=False, lineterminator="\n", float_format="%.6g"
    )
    write_readers(root, [r["case_id"] for r in truth], cohorts, outcomes,
                  [pt["linear_predictor"] for pt in patients], entropy)  # fmt: skip
    _write_stamp(root, arguments, _cohort_files(root))
    logger.info("wrote demo cohort of %d patients to %s", n_cases, root)
    return read_manifest(manifest_path, outcome=DEMO_OUTCOME)
