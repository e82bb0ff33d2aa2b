"""The study's ICC filter from image perturbations (``icc.source``), kept out of study.py.

``icc.source: perturbation`` replaces the second reader by perturbations of the training cases
(:mod:`radiomics_aln.perturbation`, Zwanenburg et al. 2019); ``both`` asks a feature to pass the
readers' filter and the perturbation filter. Only TRAINING cases are perturbed: a seeded draw
of ``icc.perturbation_cases`` of them, which depends on the training case ids and
``random_state`` alone (a test cohort added or removed changes nothing). The readings go
through the extraction cache like any reading, so the whole-pipeline validation refits the
filter on each resample's perturbed training cases from the readings already made.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._ring_study import analysis_rois
from radiomics_aln._validation import format_items
from radiomics_aln.exceptions import InputError
from radiomics_aln.features import roi_columns

__all__ = [
    "chain_of",
    "filter_perturbation",
    "icc_fact",
    "perturbation_case_ids",
    "perturbation_icc_text",
    "perturbation_tables",
    "resample_readings",
]

logger = logging.getLogger(__name__)

# ICC forms in words, for the methods text
_FORM_WORDS = {
    "ICC1": "one-way random effects, single measurement",
    "ICC2": "two-way random, absolute agreement, single rater",
    "ICC3": "two-way mixed, consistency, single rater",
}


def chain_of(icc: Any) -> Any:
    """The :class:`PerturbationChain` of the ``icc`` settings (defaults overridden)."""
    from radiomics_aln.perturbation import PerturbationChain

    return PerturbationChain(**dict(icc.perturbation_chain)).check()


def icc_fact(icc: Any) -> str:
    """The ICC filter in a few words (the study's notebook view)."""
    if not icc.enabled:
        return "off"
    readers = f"{icc.form} >= {icc.threshold:g} (readers)"
    perturbed = (f"{icc.perturbation_form} >= {icc.perturbation_threshold:g} across "
                 f"{icc.perturbations} perturbations")  # fmt: skip
    return {"readers": f"{icc.form} >= {icc.threshold:g}", "perturbation": perturbed}.get(
        icc.source, f"{readers} and {perturbed}")


def perturbation_case_ids(icc: Any, train_ids: Any, random_state: int) -> list[str]:
    """The training cases to perturb: ``icc.perturbation_cases`` of them drawn with the seed.

    The draw depends on the sorted training ids and the seed only (not on their order, nor on
    any other cohort); with ``"all"`` or fewer training cases than asked, every one.
    """
    ids = sorted({str(i) for i in train_ids})
    k = icc.perturbation_cases
    if k == "all" or k >= len(ids):
        return ids
    rng = np.random.default_rng([abs(int(random_state)), 614])
    return sorted(str(i) for i in rng.choice(np.array(ids, dtype=object), size=k, replace=False))


def resample_readings(
    readings: Mapping[str, pd.DataFrame] | None, ids: pd.Index, new_ids: pd.Index
) -> dict[str, pd.DataFrame] | None:
    """The readings of a resample's rows (a case drawn twice is two cases, as its repeats)."""
    if readings is None:
        return None
    out = {}
    for name, df in readings.items():
        has = np.asarray(ids.isin(df.index))
        out[name] = df.loc[ids[has]].set_axis(new_ids[has])
    return out


def _readings(study: Any, X_train: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Perturbation readings of training cases: given to the Study, or made from its images."""
    cfg = study.config
    icc = cfg.icc
    given = getattr(study, "_perturbation_readings", None)
    if given is not None:
        if not isinstance(given, Mapping) or len(given) < 2:
            raise InputError(
                "perturbation_readings must be the dict of at least two readings of "
                "radiomics_aln.perturbation.perturbation_readings()"
            )
        out = {str(k): v.rename(index=str) for k, v in given.items()}
        # training cases only, whatever was given
        return {k: v.loc[v.index.intersection(X_train.index)] for k, v in out.items()}
    manifest = getattr(study, "_manifest", None)
    if manifest is None:
        raise InputError(
            f"icc.source {icc.source!r} perturbs the training images, but this Study was given "
            "feature tables without images; give it a manifest (config `manifest`) or "
            "perturbation_readings= (radiomics_aln.perturbation.perturbation_readings on the "
            "training cases)"
        )
    from radiomics_aln.cases import case_id_of
    from radiomics_aln.perturbation import perturbation_readings

    chosen = set(perturbation_case_ids(icc, X_train.index, cfg.random_state))
    cases = [c for c in manifest.cases if str(case_id_of(c)) in chosen]
    study._say(
        f"Perturbation readings: {len(cases)} training cases x {icc.perturbations} "
        "perturbations (cached)"
    )
    return perturbation_readings(
        cases, n_perturbations=icc.perturbations, chain=chain_of(icc),
        rois=tuple(analysis_rois(cfg)), params=cfg.params, width_mm=cfg.width_mm,
        random_state=cfg.random_state, n_jobs=cfg.n_jobs, cache_dir=cfg.cache_dir,
        mask_combine=cfg.mask_combine, min_area_mm2=cfg.min_area_mm2,
    )  # fmt: skip


def filter_perturbation(study: Any, X_train: pd.DataFrame, kept: list[str]) -> list[str]:
    """The perturbation ICC filter of ``icc.source`` "perturbation" or "both"; the kept columns.

    Sets ``perturbation_filter_`` (None when not used), ``perturbation_readings_`` and
    ``perturbation_cases_``; with source "perturbation" it is also ``icc_filter_``.
    """
    cfg = study.config
    icc = cfg.icc
    study.perturbation_filter_ = None
    study.perturbation_readings_ = None
    study.perturbation_cases_ = []
    if icc.source == "perturbation":
        study.icc_filter_ = None
        study.icc_repeat_cases_ = {}
    if not icc.enabled or icc.source == "readers":
        return kept
    from radiomics_aln.perturbation import perturbation_icc_filter

    readings = _readings(study, X_train)
    cases = sorted(set().union(*(set(v.index) for v in readings.values())))
    if len(cases) < 2:
        raise InputError(
            f"the perturbation ICC filter needs at least 2 perturbed training cases, got "
            f"{len(cases)} ({format_items(cases)})"
        )
    columns = list(X_train.columns)
    missing = [c for c in columns if c not in next(iter(readings.values())).columns]
    if missing:
        raise InputError(
            f"the perturbation readings lack {len(missing)} feature(s) of the study: "
            f"{format_items(missing)} (external features cannot be perturbed; use icc.source "
            "'readers' with external features, or give readings with every feature)"
        )
    study._say(
        f"Perturbation ICC filter ({icc.perturbation_form} >= {icc.perturbation_threshold:g}) "
        f"on {len(cases)} training cases x {len(readings)} perturbations"
    )
    filt = perturbation_icc_filter(
        readings, X_train[columns], threshold=icc.perturbation_threshold,
        form=icc.perturbation_form, on=icc.perturbation_compare,
    )  # fmt: skip
    study.perturbation_filter_ = filt
    study.perturbation_readings_ = readings
    study.perturbation_cases_ = cases
    if icc.source == "perturbation":
        study.icc_filter_ = filt
    passed = {str(c) for c in filt.selected_features_}
    out = [c for c in kept if c in passed]
    empty = [r for r in analysis_rois(cfg) if not roi_columns(out, r)]
    if empty:
        raise InputError(
            f"no {format_items(empty)} feature passed the ICC filter (icc.source "
            f"{icc.source!r}: {icc.perturbation_form} >= {icc.perturbation_threshold:g} across "
            "perturbations); lower icc.perturbation_threshold or use a milder "
            "icc.perturbation_chain"
        )
    return out


def perturbation_tables(study: Any) -> dict[str, pd.DataFrame]:
    """``icc_perturbation`` (source "both"; with "perturbation" it is the ``icc`` table)."""
    filt = getattr(study, "perturbation_filter_", None)
    if filt is None or study.config.icc.source != "both":
        return {}
    return {"icc_perturbation": filt.icc_}


def _chain_text(icc: Any) -> str:
    chain = chain_of(icc)
    default = type(chain)()
    parts = []
    for f in dataclasses.fields(chain):
        value = getattr(chain, f.name)
        mark = "" if value == getattr(default, f.name) else " (changed)"
        parts.append(f"{f.name} {value}{mark}")
    return ", ".join(parts)


def perturbation_icc_text(study: Any, reader_text: list[str]) -> list[str]:
    """The methods sentences of the ICC filter for ``icc.source`` perturbation or both."""
    cfg = study.config
    icc = cfg.icc
    filt = getattr(study, "perturbation_filter_", None)
    if filt is None:
        return reader_text
    n_total = len(filt.feature_names_in_)
    n_kept = len(filt.selected_features_)
    per = ", ".join(
        f"{r}: {len(roi_columns(filt.selected_features_, r))}/{len(roi_columns(filt.feature_names_in_, r))}"
        for r in analysis_rois(cfg)
    )
    n_cases = len(study.perturbation_cases_)
    n_train = int((study.data_["cohort"] == cfg.train_cohort).sum())
    how = ("whose perturbation readings were given" if study._perturbation_readings is not None
           else f"drawn with random_state {cfg.random_state}")  # fmt: skip
    drawn = (f"all {n_cases} training cases" if n_cases == n_train
             else f"{n_cases} of the {n_train} training cases, {how},")
    form = icc.perturbation_form
    words = _FORM_WORDS.get(form, form)
    value = "ICC" if icc.perturbation_compare == "estimate" else "lower 95% bound of the ICC"
    text = [
        f"ICC filter without a second reader (icc.source {icc.source!r}): {drawn} were each "
        f"perturbed {len(study.perturbation_readings_)} times (Zwanenburg et al. "
        "2019: image rotation, sub-pixel translation and noise, contour growth/shrinkage and "
        f"randomisation; chain: {_chain_text(icc)}), the features re-extracted from every "
        f"perturbation, and a feature was kept when its {form} ({words}) across the "
        f"perturbations had its {value} >= {icc.perturbation_threshold:g}. No test-cohort "
        "case was perturbed.",
        f"Kept {n_kept} of {n_total} features across perturbations ({per}).",
    ]
    if icc.source == "both":
        text.append("A feature had to pass both filters: the readers' filter below and this one.")
        text.extend(reader_text)
    return text
