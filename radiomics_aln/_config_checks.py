"""Value checks of the study configuration's sections (kept out of config.py for its size)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from radiomics_aln.exceptions import InputError

__all__ = ["check_nomogram", "check_sample_size"]

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
