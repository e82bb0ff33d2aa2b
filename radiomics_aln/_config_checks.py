"""Value checks of the study configuration's sections (kept out of config.py for its size)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from radiomics_aln.exceptions import InputError

__all__ = ["check_icc", "check_nomogram", "check_rings", "check_sample_size"]

_SAMPLE_SIZE_KEYS = ("r2_cs", "r2_nagelkerke", "c_statistic", "shrinkage", "delta", "margin")


def check_sample_size(settings: Any) -> None:
    """``nomogram.sample_size``: known keys, numbers, and a valid combination (a dry run)."""
    if not isinstance(settings, Mapping):
        raise InputError(
            f"nomogram.sample_size must be a mapping such as {{c_statistic: 0.85}}, got "
            f"{settings!r}"
        )
    unknown = sorted(set(settings) - set(_SAMPLE_SIZE_KEYS))
    if unknown:
        raise InputError(
            f"nomogram.sample_size has unknown key(s) {unknown}; use {list(_SAMPLE_SIZE_KEYS)}"
        )
    from radiomics_aln.sample_size import DEFAULT_R2_NAGELKERKE, riley_sample_size

    kwargs = dict(settings)
    if not {"r2_cs", "r2_nagelkerke", "c_statistic"} & set(kwargs):
        kwargs["r2_nagelkerke"] = DEFAULT_R2_NAGELKERKE
    try:
        riley_sample_size(parameters=1, prevalence=0.5, **kwargs)
    except InputError as exc:
        raise InputError(f"nomogram.sample_size: {exc}") from None


def check_nomogram(nomo: Any) -> None:
    """The values of the ``nomogram`` section (types are checked by ``_check_types``)."""
    if not 0 < float(nomo.screen_p) <= 1:
        raise InputError(f"nomogram.screen_p must be in (0, 1], got {nomo.screen_p!r}")
    if nomo.selection not in ("backward", None):
        raise InputError(
            f"nomogram.selection must be 'backward' or null, not {nomo.selection!r}"
        )
    if nomo.criterion not in ("p", "aic"):
        raise InputError(f"nomogram.criterion must be 'p' or 'aic', not {nomo.criterion!r}")
    if nomo.penalty not in (None, "firth"):
        raise InputError(f"nomogram.penalty must be null or 'firth', not {nomo.penalty!r}")
    if nomo.penalty == "firth" and nomo.selection == "backward" and nomo.criterion == "aic":
        raise InputError(
            "nomogram.penalty 'firth' needs nomogram.criterion 'p' (penalised "
            "likelihood-ratio tests)"
        )
    if not (isinstance(nomo.n_boot, int) and not isinstance(nomo.n_boot, bool)) or (
        nomo.n_boot < 0
    ):
        raise InputError(
            f"nomogram.n_boot must be a whole number of resamples >= 0 (0: off), "
            f"got {nomo.n_boot!r}"
        )
    if nomo.ci not in ("delong", "bootstrap"):
        raise InputError(f"nomogram.ci must be 'delong' or 'bootstrap', not {nomo.ci!r}")
    if nomo.p_adjust not in (None, "holm", "bonferroni"):
        raise InputError(
            f"nomogram.p_adjust must be null, 'holm' or 'bonferroni', not {nomo.p_adjust!r}"
        )
    t = list(nomo.dca_thresholds)
    if len(t) != 3 or not (0 < t[0] < t[1] < 1 and t[2] > 0):
        raise InputError(
            "nomogram.dca_thresholds must be [start, stop, step] with 0 < start < stop < 1"
        )
    lo, hi = (float(v) for v in nomo.dca_display_range)
    if not (0 <= lo < hi <= 1 and lo < t[1] and hi > t[0]):
        raise InputError(
            f"nomogram.dca_display_range must be [low, high] with 0 <= low < high <= 1 "
            f"overlapping the dca_thresholds ({t[0]:g} to {t[1]:g}), got "
            f"{list(nomo.dca_display_range)}"
        )
    check_sample_size(nomo.sample_size)


_ICC_SOURCES = ("readers", "perturbation", "both")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_icc(icc: Any) -> None:
    """The ``icc`` section: the reader filter's and the perturbation filter's settings."""
    if not isinstance(icc.enabled, bool):
        raise InputError(f"icc.enabled must be true or false, got {icc.enabled!r}")
    for name in ("threshold", "perturbation_threshold"):
        value = getattr(icc, name)
        if not _is_number(value):
            raise InputError(f"icc.{name} must be a number in (0, 1], got {value!r}")
        if not 0 < value <= 1:
            raise InputError(f"icc.{name} must be in (0, 1], got {value!r}")
    for name in ("form", "perturbation_form"):
        if not isinstance(getattr(icc, name), str):
            raise InputError(
                f"icc.{name} must be an ICC form such as ICC2 or ICC1, got {getattr(icc, name)!r}"
            )
    for name in ("compare", "perturbation_compare"):
        if getattr(icc, name) not in ("estimate", "ci_low"):
            raise InputError(
                f"icc.{name} must be 'estimate' or 'ci_low', got {getattr(icc, name)!r}"
            )
    if icc.source not in _ICC_SOURCES:
        raise InputError(
            f"icc.source must be one of {list(_ICC_SOURCES)} (whose readings the ICC filter "
            f"uses), got {icc.source!r}"
        )
    n = icc.perturbations
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise InputError(f"icc.perturbations must be a whole number >= 2, got {n!r}")
    k = icc.perturbation_cases
    if k != "all" and (isinstance(k, bool) or not isinstance(k, int) or k < 2):
        raise InputError(
            f"icc.perturbation_cases must be a whole number >= 2 or 'all', got {k!r}"
        )
    if not isinstance(icc.perturbation_chain, Mapping):
        raise InputError(
            "icc.perturbation_chain must be a mapping of PerturbationChain settings such as "
            f"{{rotation_deg: 10}}, got {icc.perturbation_chain!r}"
        )
    from radiomics_aln.perturbation import PerturbationChain, perturbations

    try:
        chain = PerturbationChain(**dict(icc.perturbation_chain)).check()
    except TypeError:
        import dataclasses

        known = [f.name for f in dataclasses.fields(PerturbationChain)]
        unknown = sorted(set(icc.perturbation_chain) - set(known))
        raise InputError(
            f"icc.perturbation_chain has unknown key(s) {unknown}; known: {known}"
        ) from None
    except InputError as exc:
        raise InputError(f"icc.perturbation_chain: {exc}") from None
    try:
        perturbations("check", n_perturbations=n, chain=chain)
    except InputError as exc:
        raise InputError(f"icc: {exc}") from None


def check_rings(cfg: Any) -> None:
    """The ``rings`` section against the study's ``rois``."""
    rings = cfg.rings
    for name in ("widths_mm", "shells_mm"):
        if not isinstance(getattr(rings, name), list | tuple):
            raise InputError(f"rings.{name} must be a list, got {getattr(rings, name)!r}")
    try:
        names = rings.rois()
    except InputError as exc:
        raise InputError(f"rings: {exc}") from None
    if rings.choose not in ("inner_cv", "all"):
        raise InputError(f"rings.choose must be 'inner_cv' or 'all', not {rings.choose!r}")
    n = rings.n_splits
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise InputError(f"rings.n_splits must be a whole number >= 2, got {n!r}")
    if rings.p_adjust not in (None, "holm", "bonferroni"):
        raise InputError(
            f"rings.p_adjust must be null, 'holm' or 'bonferroni', not {rings.p_adjust!r}"
        )
    if names and "peritumoral" not in cfg.roi_list():
        raise InputError(
            "rings: the rings and shells take the place of `peritumoral` in rois, which "
            f"does not list it ({cfg.roi_list()}); add peritumoral to rois"
        )
    both = sorted(set(names) & set(cfg.roi_list()))
    if both:
        raise InputError(f"{both} are listed in rois and in rings; list them once")
