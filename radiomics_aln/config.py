"""The study configuration: :class:`StudyConfig` and its settings, YAML files, the demo config.

:class:`StudyConfig` holds every setting of a :class:`radiomics_aln.study.Study` (a dataclass,
loadable from YAML or a dict); paths in a YAML file are relative to that file's folder.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from radiomics_aln._config_checks import check_icc, check_nomogram, check_rings
from radiomics_aln._validation import format_items
from radiomics_aln.data_dictionary import DataDictionary
from radiomics_aln.exceptions import InputError
from radiomics_aln.features import ROI_NAMES, ring_geometry, roi_label

# default labels of the score columns (model.SCORE_LABELS names the models in legends)
_SCORE_LABELS = {
    "tumor": "Tumor radiomics score",
    "peritumoral": "Peritumoral radiomics score",
    "tumor_peritumoral": "Tumor+peritumoral radiomics score",
    "ln": "LN radiomics score",
}

__all__ = [
    "ICCSettings",
    "ScoreSettings",
    "NomogramSettings",
    "HarmonizeSettings",
    "ReadersSettings",
    "RingSettings",
    "ValidationSettings",
    "StudyConfig",
    "ROI_VARIANTS",
    "DEMO_N_CASES",
    "demo_config",
]

#: Named ROI variants of the published comparisons (``StudyConfig(rois="intratumoral+ln")``).
ROI_VARIANTS: dict[str, tuple[str, ...]] = {
    "intratumoral": ("tumor",),
    "peritumoral": ("peritumoral",),
    "intratumoral+peritumoral": ("tumor", "peritumoral"),
    "combined_region": ("tumor_peritumoral",),
    "intratumoral+ln": ("tumor", "ln"),
    "peritumoral+ln": ("peritumoral", "ln"),
    "all": ("tumor", "peritumoral", "ln"),
}


@dataclass
class ICCSettings:
    """Reproducibility filter (see :class:`radiomics_aln.reliability.ICCFilter`).

    Attributes
    ----------
    enabled : bool
        Apply the filter (it is skipped, with a warning, when no training case has repeat masks).
    threshold : float
        Keep a feature when ICC >= threshold in the inter- and in the intra-observer comparison.
    form : str
        ICC form; ``"ICC2"`` = ICC(A,1), two-way random, absolute agreement, single rater
        (Shrout & Fleiss 1979; ``psych::ICC`` row ``ICC2``).
    compare : {"estimate", "ci_low"}
        Compare the point estimate or the lower 95% bound with the threshold (``ICCFilter``'s
        ``on``; named differently because YAML reads a bare ``on`` key as ``true``).
    source : {"readers", "perturbation", "both"}
        Whose readings: the repeat segmentations (``threshold``, ``form``, ``compare``), image
        perturbations of training cases (no second reader; ``perturbation_*`` settings), or
        both (a feature must pass both). See ``docs/perturbation.md``.
    perturbations : int
        Perturbations per case (default 20).
    perturbation_cases : int or "all"
        Training cases perturbed (default 30, drawn with ``random_state``; all if fewer).
    perturbation_chain : dict
        Fields of :class:`radiomics_aln.perturbation.PerturbationChain` to override.
    perturbation_form, perturbation_threshold, perturbation_compare
        ICC form, threshold and ``compare`` across perturbations (default ICC1 >= 0.90).
    """

    enabled: bool = True
    threshold: float = 0.80
    form: str = "ICC2"
    compare: str = "estimate"
    source: str = "readers"
    perturbations: int = 20
    perturbation_cases: int | str = 30
    perturbation_chain: dict[str, Any] = field(default_factory=dict)
    perturbation_form: str = "ICC1"
    perturbation_threshold: float = 0.90
    perturbation_compare: str = "estimate"


@dataclass
class ScoreSettings:
    """LASSO radiomics scores, one per ROI (see :class:`radiomics_aln.score.RadScore`).

    Attributes
    ----------
    params : dict
        Keyword arguments passed unchanged to ``RadScore`` (for example ``cv``, ``rule``,
        ``redundancy_threshold``); ``name`` and ``random_state`` are set by the study. Unknown keys
        are an error naming them.
    """

    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class NomogramSettings:
    """Univariate screen, stepwise models and evaluation settings.

    Attributes
    ----------
    screen_p : float
        Candidates (clinical factors and scores) enter the multivariable models when their
        univariate Wald p-value (whole predictor) is below this.
    selection : {"backward", None}
        Backward elimination (refitting after each removal) or keep every screened predictor.
    p_remove : float
        Backward elimination removes a predictor while its Wald p exceeds this.
    criterion : {"p", "aic"}
        Removal rule.
    penalty : {None, "firth"}
        None: maximum likelihood. ``"firth"``: Firth's penalised likelihood for the univariate
        screen and both models (:class:`~radiomics_aln.nomogram.LogisticNomogram`), finite when a
        predictor separates the training outcome -- common when in-sample scores meet a small
        training cohort. Needs ``criterion: p``.
    hl_groups : int
        Groups of the Hosmer-Lemeshow test.
    n_boot : int
        Harrell's bootstrap internal validation of the clinical-radiomics model on the training
        cohort with this many resamples (``rms::validate`` and ``calibrate``, repeating the
        backward elimination); 0 turns it off. The radiomics scores are held fixed in the
        resamples, so the LASSO step's own optimism is not included: the test cohorts remain
        the honest check.
    dca_thresholds : list of float
        Threshold probabilities of the decision and clinical impact curves (start, stop, step).
    dca_display_range : list of two floats
        Thresholds shown in the report's decision and clinical impact figures, default
        [0.05, 0.60]: the range where the decisions an ALN model informs are taken, from
        sparing axillary surgery at a risk of a few percent to proceeding to axillary
        treatment at high risk; showing only a clinically reasonable range is recommended
        (Vickers, van Calster & Steyerberg 2019). The full range of ``dca_thresholds`` is in
        the appendix figure and the ``decision_curves`` table.
    ci : {"delong", "bootstrap"}
        AUC confidence interval.
    p_adjust : {None, "holm", "bonferroni"}
        Multiplicity adjustment of the DeLong p-values (R ``p.adjust``), within each cohort's
        family of comparisons: the clinical-radiomics model against each other model (Table 3's
        companion), and every pair (the appendix). None: unadjusted p-values only.
    """

    screen_p: float = 0.05
    selection: str | None = "backward"
    p_remove: float = 0.05
    criterion: str = "p"
    penalty: str | None = None
    hl_groups: int = 10
    n_boot: int = 0
    dca_thresholds: list[float] = field(default_factory=lambda: [0.01, 0.99, 0.01])
    dca_display_range: list[float] = field(default_factory=lambda: [0.05, 0.60])
    ci: str = "delong"
    p_adjust: str | None = None
    sample_size: dict[str, Any] = field(default_factory=dict)


@dataclass
class RingSettings:
    """Several peritumoral ring widths and shells in one study (:mod:`radiomics_aln.ring_widths`).

    Each ring and shell is a ROI of its own (``peritumoral_2mm``, ``shell_2_5mm``) with its own
    score; they take the place of ``peritumoral`` in ``rois`` (which must list it). Off (the
    single ring of ``width_mm``) while both lists are empty.

    Attributes
    ----------
    widths_mm : list of float
        Ring widths in mm, e.g. ``[1, 2, 3, 4, 5]``.
    shells_mm : list of [float, float]
        Shells ``[a, b]``: tissue farther than ``a`` mm and at most ``b`` mm from the tumour,
        e.g. ``[[0, 2], [2, 5]]``.
    choose : {"inner_cv", "all"}
        ``"inner_cv"``: the ROI whose score has the highest mean AUC in an inner stratified
        ``n_splits``-fold cross-validation on the training cohort (the whole score fit refitted
        in each fold) is chosen; its score alone enters the screen, the models and the nomogram
        as the peritumoral score. ``"all"``: every ring's and shell's score is offered to the
        screen and the models (no choice).
    n_splits : int
        Inner folds (>= 2).
    p_adjust : {"holm", "bonferroni", None}
        Multiplicity adjustment of the paired DeLong tests between the widths, within each
        cohort (R ``p.adjust``).
    """

    widths_mm: list[float] = field(default_factory=list)
    shells_mm: list[list[float]] = field(default_factory=list)
    choose: str = "inner_cv"
    n_splits: int = 5
    p_adjust: str | None = "holm"

    def rois(self) -> list[str]:
        """The ring and shell ROI names, widths first (empty: the setting is off)."""
        from radiomics_aln.ring_widths import ring_candidates

        return ring_candidates(self.widths_mm, self.shells_mm)


@dataclass
class ValidationSettings:
    """Internal validation of the whole pipeline (see
    :func:`radiomics_aln.pipeline_validation.validate_pipeline`).

    Attributes
    ----------
    method : {None, "bootstrap", "cv"}
        None (default): off. ``"bootstrap"``: Harrell's optimism bootstrap with ``n_boot``
        resamples of the training cohort; ``"cv"``: repeated stratified K-fold
        cross-validation (``n_splits`` x ``n_repeats`` folds). The refits are slow (each runs
        the whole fit), so it is off by default; results of finished resamples are cached under
        ``cache_dir`` (``pipeline_validation/``) when it is set, and a rerun resumes.
    n_boot : int
        Bootstrap resamples.
    n_splits, n_repeats : int
        Folds and repeats of the cross-validation.
    whole_pipeline : bool
        True: refit every fitted step (ICC filter, standardisation, redundancy filter, LASSO
        with its inner CV, univariate screen, stepwise models) in every resample. False: refit
        the clinical-radiomics model only, the scores held fixed (as ``nomogram.n_boot``).
    refit_icc : bool
        Refit the ICC filter on the resampled repeat readings (it reads no outcome; false keeps
        the study's selection of reproducible features).
    """

    method: str | None = None
    n_boot: int = 200
    n_splits: int = 5
    n_repeats: int = 10
    whole_pipeline: bool = True
    refit_icc: bool = True


@dataclass
class StudyConfig:
    """Settings of a :class:`Study`; every field has a documented default.

    Attributes
    ----------
    manifest : str or None
        Cohort manifest CSV (paths inside it are relative to its folder). A relative manifest
        path in a YAML file is relative to the YAML file's folder.
    outcome : str
        Column of the 0/1 endpoint (ALN metastasis, high vs low burden, non-sentinel
        involvement, ...).
    train_cohort : str
        Value of the ``cohort`` column that marks the training cohort (the only cohort any
        step is fitted on).
    test_cohorts : list of str or None
        Cohorts evaluated besides training, in this order; None: every other cohort, in order of
        first appearance in the manifest.
    cohort_labels : dict
        Display names (``{"train": "Training", "external": "External test"}``).
    rois : list of str or str
        ROIs with one score each: any of ``tumor``, ``peritumoral`` (ring of ``width_mm``),
        ``tumor_peritumoral`` (their union) and ``ln``; or a variant name from
        :data:`ROI_VARIANTS` (``"intratumoral"``, ``"peritumoral"``,
        ``"intratumoral+peritumoral"``, ``"combined_region"``, ``"intratumoral+ln"``, ``"all"``).
    width_mm : float
        Width of the peritumoral ring in mm, in (0, 50].
    mask_combine : {"union", "largest"}
        A mask with several connected components becomes their union or only the largest one
        (the manifest column ``mask_combine`` wins per case); see
        :func:`radiomics_aln.extraction.extract_features`.
    min_area_mm2 : float or None
        Mask components smaller than this (mm²) are dropped; a mask with none this large is a
        failed ROI. None keeps every component.
    spacing_range : list of two floats or None
        Plausible mm per pixel of the images, default [0.005, 2.0]
        (:data:`radiomics_aln.images.SPACING_RANGE_MM`): a spacing outside it, in the manifest or
        an image file, is refused as a probable unit error. Widen it for images that really
        have such pixels; null disables the check. Stored in the model, so ``predict`` applies
        the same range.
    params : str or dict
        PyRadiomics settings: a shipped name (``"ultrasound_2d"``), a YAML path or a dict.
    clinical : list of str
        Clinical-ultrasound candidate predictors (manifest columns).
    categorical : dict
        ``{column: [levels...]}`` for categorical candidates; the first level is the reference
        of the odds ratios. Columns with text values are categorical even when not listed
        (reference: first in sorted order).
    nonnormal : list of str
        Continuous variables described as median [IQR] in Table 1 (rank tests).
    icc, score, nomogram : settings objects
        See :class:`ICCSettings`, :class:`ScoreSettings`, :class:`NomogramSettings`.
    validation : ValidationSettings
        Internal validation of the whole pipeline (off by default); see
        :class:`ValidationSettings`.
    random_state : int
        Seed of every random step (CV folds of the LASSO).
    n_jobs : int
        Parallel workers for extraction (results are identical for any value).
    errors : {"collect", "raise"}
        ``"collect"``: a test-cohort case whose features are missing (failed ROI) is excluded
        and listed with its reason in the ``excluded_cases`` table and the report.
        ``"raise"``: stop with an error naming the case. A failed training case always stops.
    exclude_conflicting_duplicates : bool
        Exclude both cases of a pair with byte-identical images but different outcomes (found
        by the extraction; listed in ``excluded_cases``). False keeps them, with a warning.
    cache_dir : str or None
        Feature cache folder (a rerun only extracts what is missing).
    title : str
        Title of the report.
    variables : dict
        The data dictionary: what readers see instead of column names, ``{column: {label,
        unit, levels, per}}`` (see :class:`radiomics_aln.data_dictionary.DataDictionary`).
        Columns not listed get labels generated from their names (``size_mm`` -> "Size (mm)").
        ``per`` sets what a continuous predictor's odds ratio is per (e.g. 10 years).
    external_features : dict
        ``{roi: path}`` of external feature tables (e.g. a CNN's deep features; CSV or Parquet
        with ``case_id``, an optional ``reader`` column and one numeric column per feature),
        joined to that ROI's handcrafted features as ``"{roi}__{external_prefix}_{name}"`` and
        filtered and scored with them (see
        :func:`radiomics_aln.external_features.read_external_features`). Every analysed case
        needs a row; with the ICC filter on, every re-segmented training case needs its
        ``reader2``/``repeat`` rows. A relative path in a YAML file is relative to its folder.
    external_prefix : str
        The prefix of the external feature names (default ``"deep"``).
    endpoint : dict or None
        An ordinal endpoint besides the binary ``outcome`` (axillary tumour burden), used by
        :class:`radiomics_aln.burden.BurdenStudy` and ignored by :class:`Study`:
        ``{type: ordinal, column: n_positive_nodes, levels: {N0: [0, 0], "N1-2": [1, 2],
        "N>=3": [3, null]}}`` (see :func:`radiomics_aln.burden.check_endpoint`). None: binary.
    harmonize : HarmonizeSettings
        ComBat harmonization of the reproducible features across batches (scanners, centres),
        fitted on the training cohort; off by default. See :class:`HarmonizeSettings`.
    readers : ReadersSettings or None
        The optional reader study (``readers:`` section, see :class:`ReadersSettings`): its
        tables and figures are added to the outputs and the report.
    rings : RingSettings
        Several ring widths and shells compared, one chosen on training data (see
        :class:`RingSettings`); default off.
    """

    manifest: str | None = None
    outcome: str = "outcome"
    train_cohort: str = "train"
    test_cohorts: list[str] | None = None
    cohort_labels: dict[str, str] = field(default_factory=dict)
    rois: list[str] | str = field(default_factory=lambda: ["tumor", "peritumoral", "ln"])
    width_mm: float = 5.0
    mask_combine: str = "union"
    min_area_mm2: float | None = None
    spacing_range: list[float] | None = field(default_factory=lambda: [0.005, 2.0])
    params: str | dict[str, Any] = "ultrasound_2d"
    clinical: list[str] = field(default_factory=list)
    categorical: dict[str, list[Any]] = field(default_factory=dict)
    nonnormal: list[str] = field(default_factory=list)
    icc: ICCSettings = field(default_factory=ICCSettings)
    score: ScoreSettings = field(default_factory=ScoreSettings)
    nomogram: NomogramSettings = field(default_factory=NomogramSettings)
    random_state: int = 0
    n_jobs: int = 1
    errors: str = "collect"
    exclude_conflicting_duplicates: bool = True
    cache_dir: str | None = None
    title: str = "Radiomics nomogram study"
    variables: dict[str, Any] = field(default_factory=dict)
    external_features: dict[str, str] = field(default_factory=dict)
    external_prefix: str = "deep"
    endpoint: dict[str, Any] | None = None
    harmonize: HarmonizeSettings = field(default_factory=lambda: HarmonizeSettings())
    readers: ReadersSettings | None = None
    rings: RingSettings = field(default_factory=RingSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: str | os.PathLike | None = None):
        """Build from a (YAML-loaded) mapping; unknown keys are an error naming them.

        Examples
        --------
        >>> cfg = StudyConfig.from_dict({"outcome": "aln", "rois": "intratumoral+ln"})
        >>> cfg.roi_list()
        ['tumor', 'ln']
        """
        if not isinstance(data, Mapping):
            raise InputError(f"a study configuration must be a mapping, got {type(data).__name__}")
        data = dict(data)
        nested = {"icc": ICCSettings, "score": ScoreSettings, "nomogram": NomogramSettings,
                  "readers": ReadersSettings, "harmonize": HarmonizeSettings,
                  "rings": RingSettings, "validation": ValidationSettings}  # fmt: skip
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(
                f"unknown configuration key(s): {format_items(unknown)}; known keys: "
                f"{format_items(sorted(known), 50)}"
            )
        for key, kind in nested.items():
            value = data.get(key)
            if value is None:
                data.pop(key, None)
                continue
            if isinstance(value, kind):
                continue
            if not isinstance(value, Mapping):
                raise InputError(f"configuration key `{key}` must be a mapping")
            fields = {f.name for f in dataclasses.fields(kind)}
            bad = sorted(set(value) - fields)
            if bad and key == "score":
                # a flat `score:` section is the RadScore keyword arguments
                value = {"params": dict(value)}
            elif bad:
                raise InputError(
                    f"unknown key(s) in `{key}`: {format_items(bad)}; known: "
                    f"{format_items(sorted(fields))}"
                )
            data[key] = kind(**value)
        cfg = cls(**data)
        cfg._check_types()
        if base_dir is not None and cfg.manifest is not None:
            path = Path(cfg.manifest)
            if not path.is_absolute():
                cfg.manifest = str(Path(base_dir) / path)
        if base_dir is not None and cfg.cache_dir is not None:
            path = Path(cfg.cache_dir)
            if not path.is_absolute():
                cfg.cache_dir = str(Path(base_dir) / path)
        if base_dir is not None:  # external feature tables: relative to the config file
            cfg.external_features = {
                roi: p if Path(p).is_absolute() else str(Path(base_dir) / p)
                for roi, p in cfg.external_features.items()
            }
        if base_dir is not None and _is_settings_path(cfg.params):
            path = Path(cfg.params)
            if not path.is_absolute():  # like the manifest: relative to the config file
                cfg.params = str(Path(base_dir) / path)
        if base_dir is not None and cfg.readers is not None and cfg.readers.path is not None:
            cfg.readers.path = _resolve_path(cfg.readers.path, base_dir)
        cfg.validate()
        return cfg

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> StudyConfig:
        """Read a YAML configuration file (see ``docs/user_guide.md`` for a full example).

        Raises
        ------
        InputError
            Naming the file and the key: not a file, empty, not UTF-8, not valid YAML, a key
            given twice, not a mapping, an unknown key, a value of the wrong type or range.
        """
        path = Path(path)
        if path.is_dir():
            raise InputError(f"configuration file {path} is a folder, not a file")
        if not path.is_file():
            raise InputError(f"configuration file {path} does not exist")
        data = _read_yaml(path, "configuration file")
        if data is None:
            raise InputError(
                f"configuration file {path} is empty; write at least `manifest:` and `outcome:` "
                "(see `radiomics-aln init`)"
            )
        try:
            return cls.from_dict(data, base_dir=path.parent)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        except TypeError as exc:  # wrong types inside nested settings
            raise InputError(f"{path}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (JSON/YAML-ready) of every setting."""
        return json.loads(json.dumps(dataclasses.asdict(self), default=str))

    def to_yaml(self, path: str | os.PathLike | None = None) -> str:
        """YAML text of the configuration; also written to ``path`` if given.

        Written to a file, ``manifest``, ``cache_dir`` and a ``params`` YAML path are relative
        to that file's folder, as :meth:`from_yaml` reads them, so the file works from any
        working directory (and the folder can be moved with its data).

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     for sub in ("data", "out"):
        ...         os.mkdir(os.path.join(d, sub))
        ...     cfg = StudyConfig(manifest=os.path.join(d, "data", "manifest.csv"))
        ...     text = cfg.to_yaml(os.path.join(d, "out", "config.yaml"))
        ...     back = StudyConfig.from_yaml(os.path.join(d, "out", "config.yaml"))
        ...     same = os.path.samefile(os.path.dirname(back.manifest), os.path.join(d, "data"))
        >>> text.splitlines()[0], same
        ('manifest: ../data/manifest.csv', True)
        """
        import yaml

        data = self.to_dict()
        if path is not None:
            base = Path(path).parent
            for key in ("manifest", "cache_dir"):
                if data.get(key) is not None:
                    data[key] = _relative_path(data[key], base)
            if _is_settings_path(data.get("params")):
                data["params"] = _relative_path(data["params"], base)
            for roi, p in (data.get("external_features") or {}).items():
                data["external_features"][roi] = _relative_path(p, base)
            if data.get("readers") and data["readers"].get("path") is not None:
                data["readers"]["path"] = _relative_path(data["readers"]["path"], base)
        text = yaml.safe_dump(data, sort_keys=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # ---------------------------------------------------------------- validation
    def roi_list(self) -> list[str]:
        """The ROIs (one score each), with a variant name resolved."""
        rois = self.rois
        if isinstance(rois, str):
            if rois in ROI_VARIANTS:
                return list(ROI_VARIANTS[rois])
            rois = [r.strip() for r in rois.split(",") if r.strip()]
        return list(rois)

    def _check_types(self) -> None:
        """Each setting has the documented type (YAML turns typos into other types silently)."""

        def need(ok: bool, name: str, what: str, value: Any) -> None:
            if not ok:
                raise InputError(f"{name} must be {what}, got {value!r}")

        def is_num(v: Any) -> bool:
            return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

        def is_int(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        def str_list(v: Any) -> bool:
            return isinstance(v, list | tuple) and all(isinstance(x, str) for x in v)

        for name in ("manifest", "cache_dir"):
            value = getattr(self, name)
            need(value is None or isinstance(value, str | os.PathLike), name, "a path", value)
        for name in ("outcome", "train_cohort", "title"):
            need(isinstance(getattr(self, name), str), name, "a text", getattr(self, name))
        need(self.test_cohorts is None or str_list(self.test_cohorts), "test_cohorts",
             "a list of cohort names or null", self.test_cohorts)  # fmt: skip
        need(isinstance(self.variables, Mapping), "variables",
             "a mapping of column to {label, unit, levels, per}", self.variables)  # fmt: skip
        need(isinstance(self.cohort_labels, Mapping), "cohort_labels",
             "a mapping of cohort to display name", self.cohort_labels)  # fmt: skip
        need(isinstance(self.rois, str) or str_list(self.rois), "rois",
             "a list of ROI names or a variant name", self.rois)  # fmt: skip
        # width_mm (type, NaN and limits) is checked by check_ring_width in validate
        need(isinstance(self.params, str | Mapping), "params",
             "a settings name, a YAML path or a mapping", self.params)  # fmt: skip
        need(is_int(self.random_state), "random_state", "a whole number", self.random_state)
        need(is_int(self.n_jobs), "n_jobs", "a non-zero whole number", self.n_jobs)
        ext = self.external_features
        paths_ok = isinstance(ext, Mapping) and all(isinstance(p, str | os.PathLike)
                                                    for p in ext.values())  # fmt: skip
        need(paths_ok, "external_features", "a mapping of ROI to a path", ext)
        need(isinstance(self.external_prefix, str) and self.external_prefix.isidentifier()
             and "__" not in self.external_prefix, "external_prefix",
             "a word of letters, digits and single underscores", self.external_prefix)  # fmt: skip
        need(self.endpoint is None or isinstance(self.endpoint, Mapping), "endpoint",
             "a mapping {type, column, levels} or null", self.endpoint)  # fmt: skip
        nomo = self.nomogram
        check_icc(self.icc)
        for name in ("screen_p", "p_remove"):
            value = getattr(nomo, name)
            need(is_num(value), f"nomogram.{name}", "a number in (0, 1]", value)
        need(is_int(nomo.hl_groups) and nomo.hl_groups >= 2, "nomogram.hl_groups",
             "a whole number >= 2", nomo.hl_groups)  # fmt: skip
        t = nomo.dca_thresholds
        need(isinstance(t, list | tuple) and len(t) == 3 and all(is_num(v) for v in t),
             "nomogram.dca_thresholds", "[start, stop, step] with 0 < start < stop < 1", t)  # fmt: skip
        r = nomo.dca_display_range
        need(isinstance(r, list | tuple) and len(r) == 2 and all(is_num(v) for v in r),
             "nomogram.dca_display_range", "[low, high] with 0 <= low < high <= 1", r)  # fmt: skip
        _check_harmonize_types(self.harmonize, need, is_int, str_list)
        if self.readers is not None:
            self.readers.check()
        val = self.validation
        need(val.method in (None, "bootstrap", "cv"), "validation.method",
             "null, 'bootstrap' or 'cv'", val.method)  # fmt: skip
        for name, low in (("n_boot", 1), ("n_splits", 2), ("n_repeats", 1)):
            value = getattr(val, name)
            need(is_int(value) and value >= low, f"validation.{name}",
                 f"a whole number >= {low}", value)  # fmt: skip
        for name in ("whole_pipeline", "refit_icc"):
            value = getattr(val, name)
            need(isinstance(value, bool), f"validation.{name}", "true or false", value)

    def validate(self) -> StudyConfig:
        """Check every setting; raise :class:`InputError` naming the first bad one."""
        self._check_types()
        rois = self.roi_list()
        bad = [r for r in rois if r not in ROI_NAMES and ring_geometry(r) is None]
        if bad or not rois:
            raise InputError(
                f"rois: unknown ROI(s) {bad or rois}; use {list(ROI_NAMES)} or a variant "
                f"{list(ROI_VARIANTS)}"
            )
        if len(set(rois)) != len(rois):
            raise InputError(f"rois lists a ROI twice: {rois}")
        stray = [r for r in self.external_features if r not in rois]
        if stray:
            raise InputError(
                f"external_features: ROI(s) {format_items(stray)} are not among the study's "
                f"rois {rois}"
            )
        if not isinstance(self.outcome, str) or not self.outcome:
            raise InputError("outcome must be a column name")
        from radiomics_aln._validation import check_ring_width, check_spacing_limits

        check_ring_width(self.width_mm)
        check_spacing_limits(self.spacing_range)
        from radiomics_aln.masks import check_mask_options

        check_mask_options(self.mask_combine, self.min_area_mm2)
        if self.errors not in ("collect", "raise"):
            raise InputError(f"errors must be 'collect' or 'raise', got {self.errors!r}")
        if not isinstance(self.exclude_conflicting_duplicates, bool):
            raise InputError(
                "exclude_conflicting_duplicates must be true or false, got "
                f"{self.exclude_conflicting_duplicates!r}"
            )
        for name in ("clinical", "nonnormal"):
            value = getattr(self, name)
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise InputError(f"{name} must be a list of column names")
        if not isinstance(self.categorical, Mapping):
            raise InputError("categorical must map a column to its list of levels")
        for col, levels in self.categorical.items():
            if not isinstance(levels, list | tuple) or len(levels) < 2:
                raise InputError(f"categorical[{col!r}] must list at least two levels")
        if self.outcome in self.clinical:
            raise InputError(f"the outcome {self.outcome!r} is also a clinical candidate")
        check_nomogram(self.nomogram)
        if not isinstance(self.score.params, Mapping):
            raise InputError("score.params must be a mapping of RadScore keyword arguments")
        clash = {"name", "random_state"} & set(self.score.params)
        if clash:
            raise InputError(f"score.params must not set {sorted(clash)}: the study sets them")
        if not isinstance(self.n_jobs, int) or self.n_jobs == 0:
            raise InputError(f"n_jobs must be a non-zero integer, got {self.n_jobs!r}")
        try:
            DataDictionary(self.variables)
        except InputError as exc:
            raise InputError(f"variables: {exc}") from None
        _check_harmonize(self)
        self._check_rings()
        return self

    def _check_rings(self) -> None:
        check_rings(self)

    def label(self, cohort: str) -> str:
        """Display name of a cohort."""
        return str(self.cohort_labels.get(cohort, cohort))

    def data_dictionary(self) -> DataDictionary:
        """Labels and units of the study's columns: ``variables`` over the generated defaults.

        The radiomics score columns default to "<ROI> radiomics score" (odds ratios per 1 unit
        of score).

        Examples
        --------
        >>> cfg = StudyConfig(variables={"age": {"label": "Age", "unit": "years", "per": 10}})
        >>> dd = cfg.data_dictionary()
        >>> dd.axis_label("age"), dd.label("ln_score"), dd.per_text("age")
        ('Age (years)', 'LN radiomics score', 'per 10 years')
        """
        named = [r for r in (*self.roi_list(), *self.rings.rois()) if ring_geometry(r)]
        defaults = {f"{roi}_score": {"label": _SCORE_LABELS.get(roi)
                                     or f"{roi_label(roi)} radiomics score", "unit": None}
                    for roi in (*ROI_NAMES, *named)}  # fmt: skip
        return DataDictionary(self.variables).with_defaults(defaults)

    def dca_grid(self) -> np.ndarray:
        start, stop, step = (float(v) for v in self.nomogram.dca_thresholds)
        return np.round(np.arange(start, stop + step / 2, step), 10)


def _read_yaml(path: Path, what: str) -> Any:
    """Parse a UTF-8 YAML file; a key given twice in one mapping is an error (YAML keeps the last).

    Raises :class:`InputError` naming the file (and line) for every way the file can be bad.
    """
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    def mapping(loader: Any, node: Any, deep: bool = False) -> Any:
        seen: set = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # YAML's own error follows in construct_mapping
            if key in seen:
                raise InputError(
                    f"{what} {path}: line {key_node.start_mark.line + 1}: the key {key!r} is "
                    "given twice in one mapping (YAML would silently keep the last)"
                )
            seen.add(key)
        return loader.construct_mapping(node, deep=deep)

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        hint = " (it looks like UTF-16)" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise InputError(
            f"{what} {path} is not UTF-8 text{hint}: line {line} has the byte "
            f"{raw[exc.start]:#04x}; save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise InputError(f"{what} {path} is not UTF-8 text (it holds NUL bytes); save it as UTF-8")
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: builds plain data only
    except yaml.YAMLError as exc:
        raise InputError(f"{what} {path} is not valid YAML: {exc}") from None
    except RecursionError:
        raise InputError(f"{what} {path} is nested too deeply") from None


#: Patients of ``radiomics-aln demo``: large enough for stable AUCs in every test cohort, small
#: enough for the whole run to take a few minutes on 2 cores (see the README).
DEMO_N_CASES = 200


def demo_config(manifest_path: str | os.PathLike | None = None, **overrides: Any) -> StudyConfig:
    """The study configuration of the synthetic demo cohort.

    The demo cohort (:func:`radiomics_aln.datasets.make_demo_cohort`) has the endpoint
    ``aln_metastasis``, cohorts ``train``, ``internal``, ``external`` (another scanner) and
    ``prospective``, tumour and LN images with repeat segmentations of a quarter of the training
    cases, and ten clinical-ultrasound variables, all offered to the univariate screen. When the
    cohort's folder has the simulated reader study (``readers.csv``), the ``readers:`` section
    reads it for the prospective cohort (``readers=None`` leaves it out).

    Parameters
    ----------
    manifest_path : path, optional
        The demo ``manifest.csv``.
    **overrides
        Any :class:`StudyConfig` field.

    Examples
    --------
    >>> cfg = demo_config("demo/manifest.csv", n_jobs=2)
    >>> cfg.outcome, cfg.roi_list(), cfg.n_jobs
    ('aln_metastasis', ['tumor', 'peritumoral', 'ln'], 2)
    """
    base = {
        "manifest": None if manifest_path is None else str(manifest_path),
        "outcome": "aln_metastasis",
        "train_cohort": "train",
        "test_cohorts": ["internal", "external", "prospective"],
        "cohort_labels": {
            "train": "Training",
            "internal": "Internal test",
            "external": "External test",
            "prospective": "Prospective test",
        },
        "rois": ["tumor", "peritumoral", "ln"],
        "clinical": [
            "age",
            "size_mm",
            "margin",
            "calcification",
            "us_aln_status",
            "er",
            "pr",
            "her2",
            "ki67",
            "grade",
        ],
        "categorical": {
            "margin": ["circumscribed", "not_circumscribed"],
            "calcification": ["no", "yes"],
            "us_aln_status": ["not_suspicious", "suspicious"],
            "er": ["negative", "positive"],
            "pr": ["negative", "positive"],
            "her2": ["negative", "positive"],
            "grade": ["1", "2", "3"],
        },
        "nonnormal": ["size_mm", "ki67"],
        "title": "Demo: ALN metastasis radiomics nomogram (synthetic cohort)",
        "variables": {
            "aln_metastasis": {"label": "ALN metastasis"},
            "age": {"label": "Age", "unit": "years", "per": 10},
            "size_mm": {"label": "Tumour size", "unit": "mm", "per": 10},
            "margin": {"label": "Margin", "levels": {"circumscribed": "circumscribed",
                                                     "not_circumscribed": "not circumscribed"}},
            "calcification": {"label": "Calcification"},
            "us_aln_status": {"label": "ALN on ultrasound",
                              "levels": {"not_suspicious": "not suspicious",
                                         "suspicious": "suspicious"}},
            "ki67": {"label": "Ki-67", "unit": "%", "per": 10},
            "grade": {"label": "Histological grade"},
        },
    }  # fmt: skip
    readers = None if manifest_path is None else Path(manifest_path).parent / "readers.csv"
    if readers is not None and readers.is_file():  # the demo's reader study (prospective cohort)
        base["readers"] = {"path": str(readers), "cohort": "prospective"}
    return StudyConfig.from_dict(base | overrides)


# --------------------------------------------------------------------------- fitted model


# --------------------------------------------------------------------------- paths


def _is_settings_path(params: Any) -> bool:
    """A ``params`` value naming a YAML file (not a shipped settings name such as ultrasound_2d)."""
    if not isinstance(params, str | os.PathLike):
        return False
    text = os.fspath(params)
    return text.lower().endswith((".yaml", ".yml")) or "/" in text or os.sep in text


def _relative_path(path: str, base: Path) -> str:
    """``path`` (absolute, or relative to the working directory) relative to folder ``base``."""
    try:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(base))).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return os.path.abspath(path)


# --------------------------------------------------------------------------- harmonization


@dataclass
class HarmonizeSettings:
    """ComBat harmonization across batches (see :class:`radiomics_aln.harmonization.ComBat`).

    Fitted on the training cohort's reproducible features (after the ICC filter, before each
    score's standardisation and LASSO) and applied to every cohort; a batch not seen in
    training is mapped onto the training reference from its own features (``docs/harmonization.md``).

    Attributes
    ----------
    enabled : bool
        Harmonize (default False).
    batch : str or None
        Manifest column naming each case's batch (scanner, centre); required when enabled, and
        needed by ``predict`` for new patients.
    parametric : bool
        Parametric (True) or non-parametric empirical Bayes priors.
    mean_only : bool
        Adjust the location only.
    ref_batch : str or None
        A training batch kept unchanged as the reference; None: the pooled training data (the
        only batch when training has one).
    covariates : list of str
        Numeric columns whose effect is preserved (never the outcome).
    min_batch_size : int
        Cases a new batch needs in one cohort (or one ``predict`` call) to be harmonized.
    small_batch : {"error", "identity"}
        A smaller new batch is an error, or left unharmonized with a warning.
    """

    enabled: bool = False
    batch: str | None = None
    parametric: bool = True
    mean_only: bool = False
    ref_batch: str | None = None
    covariates: list[str] = field(default_factory=list)
    min_batch_size: int = 10
    small_batch: str = "error"


def _check_harmonize_types(h: Any, need: Any, is_int: Any, str_list: Any) -> None:
    for name in ("enabled", "parametric", "mean_only"):
        need(isinstance(getattr(h, name), bool), f"harmonize.{name}", "true or false",
             getattr(h, name))  # fmt: skip
    for name in ("batch", "ref_batch"):
        need(getattr(h, name) is None or isinstance(getattr(h, name), str), f"harmonize.{name}",
             "a column name or null" if name == "batch" else "a batch name or null",
             getattr(h, name))  # fmt: skip
    need(str_list(h.covariates), "harmonize.covariates", "a list of column names", h.covariates)
    need(is_int(h.min_batch_size) and h.min_batch_size >= 2, "harmonize.min_batch_size",
         "a whole number >= 2", h.min_batch_size)  # fmt: skip
    need(h.small_batch in ("error", "identity"), "harmonize.small_batch",
         "'error' or 'identity'", h.small_batch)  # fmt: skip


def _check_harmonize(cfg: StudyConfig) -> None:
    h = cfg.harmonize
    if not h.enabled:
        return
    if not h.batch:
        raise InputError(
            "harmonize.batch must name the manifest column of each case's batch (scanner or "
            "centre) when harmonize.enabled is true"
        )
    if h.batch in (cfg.outcome, "cohort"):
        raise InputError(
            f"harmonize.batch must not be {h.batch!r}: name the scanner or centre column (a "
            "batch equal to the cohort or the outcome would remove the very differences the "
            "study measures)"
        )
    if cfg.outcome in h.covariates:
        raise InputError(
            f"harmonize.covariates must not include the outcome {cfg.outcome!r}: preserving it "
            "would fit the harmonization on outcomes, which new patients do not have"
        )
    if h.batch in h.covariates:
        raise InputError("harmonize.covariates must not include the batch column itself")

# --------------------------------------------------------------------------- reader study


@dataclass
class ReadersSettings:
    """The reader study (``readers:`` section; see :mod:`radiomics_aln.readers`).

    Attributes
    ----------
    path : str
        The reader table (CSV or Parquet: ``case_id``, ``reader``, ``session``, ``call`` and/or
        ``rating``, optional ``experience``); relative to the YAML file's folder.
    cohort : str or None
        The test cohort the readers read (every case of it); default ``prospective``.
    sessions : list of str or None
        The sessions in reading order, the reference first (default ``[unaided, aided]``).
    rating_threshold : float or None
        Without a ``call`` column: a call is positive when ``rating >= rating_threshold``.
    kappa_weights : {"quadratic", "linear"} or None
        Weights of the kappa between readers' whole-number ratings (None: calls only).
    """

    path: str | None = None
    cohort: str | None = None
    sessions: list[str] | None = None
    rating_threshold: float | None = None
    kappa_weights: str | None = "quadratic"

    def check(self) -> None:
        """Each setting has its documented type."""
        if not isinstance(self.path, str | os.PathLike) or not str(self.path):
            raise InputError(f"readers.path must be the path of the reader table, got {self.path!r}")
        if self.cohort is not None and not isinstance(self.cohort, str):
            raise InputError(f"readers.cohort must be a cohort name or null, got {self.cohort!r}")
        s = self.sessions
        if s is not None and not (
            isinstance(s, list | tuple) and len(s) >= 1 and all(isinstance(v, str) for v in s)
        ):
            raise InputError(f"readers.sessions must be a list of session labels, got {s!r}")
        t = self.rating_threshold
        if t is not None and not (
            isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t)
        ):
            raise InputError(f"readers.rating_threshold must be a number or null, got {t!r}")
        if self.kappa_weights not in (None, "linear", "quadratic"):
            raise InputError(
                f"readers.kappa_weights must be 'quadratic', 'linear' or null, got "
                f"{self.kappa_weights!r}"
            )


def _resolve_path(path: Any, base_dir: Any) -> str:
    """``path`` relative to ``base_dir`` unless absolute."""
    p = Path(path)
    return str(p if p.is_absolute() else Path(base_dir) / p)
