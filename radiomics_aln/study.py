"""The end-to-end study: one manifest (or feature table) to the whole published workflow.

:class:`StudyConfig` holds every setting (a dataclass, loadable from YAML or a dict);
:class:`Study` runs the workflow with no information from a test cohort reaching any fitted step:

``fit()`` -- on the training cohort only, in this order:

1. feature extraction of every case (PyRadiomics, cached; it never looks at outcomes);
2. ICC reproducibility filter fitted on the re-segmented **training** cases (inter-observer:
   ``reader2``; intra-observer: ``repeat``): a feature is kept when ICC >= threshold in both;
3. one LASSO radiomics score per ROI (tumor score, peritumoral score, LN score) on the kept
   features of that ROI (:class:`radiomics_aln.score.RadScore`);
4. univariate logistic screen (Wald p < 0.05 per predictor) of the clinical-ultrasound
   candidates and of the scores;
5. a clinical model (screened clinical factors) and a clinical-radiomics model (screened clinical
   factors + screened scores), each by backward stepwise elimination
   (:class:`radiomics_aln.nomogram.LogisticNomogram`);
6. the nomogram of the clinical-radiomics model, its Nomo-score (total points) and the Youden
   cutoff on the training cohort.

``evaluate()`` -- on every cohort: Table 1 (baseline characteristics), Table 2 (univariate and
multivariable odds ratios), Table 3 (AUC with CI, ACC/SEN/SPE/PPV/NPV at the training cutoffs),
DeLong comparisons, Hosmer-Lemeshow per cohort, calibration, decision and clinical impact curves,
NRI/IDI of the clinical-radiomics vs the clinical model, and risk groups.

``save(dir)`` writes every table as CSV, every figure as PNG and SVG, the fitted model as JSON
(:class:`StudyModel`, which predicts new patients) and the HTML report.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import os
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._validation import SPACING_RANGE_MM, format_items
from radiomics_aln._version import __version__
from radiomics_aln.exceptions import (
    ConvergenceError,
    DataWarning,
    EliminationError,
    InputError,
    SeparationError,
    SingleLevelError,
    StatisticalWarning,
)
from radiomics_aln.features import ROI_NAMES, roi_columns
from radiomics_aln.io import (
    ANY,
    NUM,
    NUM_OR_INF,
    NUM_OR_NULL,
    SCALAR,
    STR,
    ListOf,
    MapOf,
    Record,
    Union,
    dump_model,
    load_model,
    number,
    rebuilding,
    to_jsonable,
)

__all__ = [
    "ICCSettings",
    "ScoreSettings",
    "NomogramSettings",
    "StudyConfig",
    "StudyModel",
    "Study",
    "ROI_VARIANTS",
    "DEMO_N_CASES",
    "demo_config",
]

logger = logging.getLogger(__name__)

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
_ROI_LABELS = {
    "tumor": "Tumor score",
    "peritumoral": "Peritumoral score",
    "tumor_peritumoral": "Tumor+peritumoral score",
    "ln": "LN score",
}
CLINICAL_MODEL = "Clinical model"
COMBINED_MODEL = "Clinical-radiomics model"


def _score_name(roi: str) -> str:
    return f"{roi}_score"


# --------------------------------------------------------------------------- configuration


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
    """

    enabled: bool = True
    threshold: float = 0.80
    form: str = "ICC2"
    compare: str = "estimate"


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
    ci : {"delong", "bootstrap"}
        AUC confidence interval.
    """

    screen_p: float = 0.05
    selection: str | None = "backward"
    p_remove: float = 0.05
    criterion: str = "p"
    penalty: str | None = None
    hl_groups: int = 10
    n_boot: int = 0
    dca_thresholds: list[float] = field(default_factory=lambda: [0.01, 0.99, 0.01])
    ci: str = "delong"


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
        nested = {"icc": ICCSettings, "score": ScoreSettings, "nomogram": NomogramSettings}
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
        if base_dir is not None and _is_settings_path(cfg.params):
            path = Path(cfg.params)
            if not path.is_absolute():  # like the manifest: relative to the config file
                cfg.params = str(Path(base_dir) / path)
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
        need(isinstance(self.cohort_labels, Mapping), "cohort_labels",
             "a mapping of cohort to display name", self.cohort_labels)  # fmt: skip
        need(isinstance(self.rois, str) or str_list(self.rois), "rois",
             "a list of ROI names or a variant name", self.rois)  # fmt: skip
        # width_mm (type, NaN and limits) is checked by check_ring_width in validate
        need(isinstance(self.params, str | Mapping), "params",
             "a settings name, a YAML path or a mapping", self.params)  # fmt: skip
        need(is_int(self.random_state), "random_state", "a whole number", self.random_state)
        need(is_int(self.n_jobs), "n_jobs", "a non-zero whole number", self.n_jobs)
        icc, nomo = self.icc, self.nomogram
        need(isinstance(icc.enabled, bool), "icc.enabled", "true or false", icc.enabled)
        need(is_num(icc.threshold), "icc.threshold", "a number in (0, 1]", icc.threshold)
        need(isinstance(icc.form, str), "icc.form", "an ICC form such as ICC2", icc.form)
        for name in ("screen_p", "p_remove"):
            value = getattr(nomo, name)
            need(is_num(value), f"nomogram.{name}", "a number in (0, 1]", value)
        need(is_int(nomo.hl_groups) and nomo.hl_groups >= 2, "nomogram.hl_groups",
             "a whole number >= 2", nomo.hl_groups)  # fmt: skip
        t = nomo.dca_thresholds
        need(isinstance(t, list | tuple) and len(t) == 3 and all(is_num(v) for v in t),
             "nomogram.dca_thresholds", "[start, stop, step] with 0 < start < stop < 1", t)  # fmt: skip

    def validate(self) -> StudyConfig:
        """Check every setting; raise :class:`InputError` naming the first bad one."""
        self._check_types()
        rois = self.roi_list()
        bad = [r for r in rois if r not in ROI_NAMES]
        if bad or not rois:
            raise InputError(
                f"rois: unknown ROI(s) {bad or rois}; use {list(ROI_NAMES)} or a variant "
                f"{list(ROI_VARIANTS)}"
            )
        if len(set(rois)) != len(rois):
            raise InputError(f"rois lists a ROI twice: {rois}")
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
        if not (0 < float(self.icc.threshold) <= 1):
            raise InputError(f"icc.threshold must be in (0, 1], got {self.icc.threshold!r}")
        if self.icc.compare not in ("estimate", "ci_low"):
            raise InputError(
                f"icc.compare must be 'estimate' or 'ci_low', got {self.icc.compare!r}"
            )
        nomo = self.nomogram
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
        t = list(nomo.dca_thresholds)
        if len(t) != 3 or not (0 < t[0] < t[1] < 1 and t[2] > 0):
            raise InputError(
                "nomogram.dca_thresholds must be [start, stop, step] with 0 < start < stop < 1"
            )
        if not isinstance(self.score.params, Mapping):
            raise InputError("score.params must be a mapping of RadScore keyword arguments")
        clash = {"name", "random_state"} & set(self.score.params)
        if clash:
            raise InputError(f"score.params must not set {sorted(clash)}: the study sets them")
        if not isinstance(self.n_jobs, int) or self.n_jobs == 0:
            raise InputError(f"n_jobs must be a non-zero integer, got {self.n_jobs!r}")
        return self

    def label(self, cohort: str) -> str:
        """Display name of a cohort."""
        return str(self.cohort_labels.get(cohort, cohort))

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
    cases, and ten clinical-ultrasound variables, all offered to the univariate screen.

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
    }
    return StudyConfig.from_dict(base | overrides)


# --------------------------------------------------------------------------- fitted model


class StudyModel:
    """The fitted prediction model of a study: scores, clinical model and nomogram.

    Persisted as one JSON file (:meth:`to_json` / :meth:`from_json`) holding the extraction
    settings, each RadScore, both logistic models and the cutoffs, so new patients are
    predicted from images (:meth:`predict` with a manifest) or from already-extracted features.

    Attributes
    ----------
    rois : list of str
        ROIs with a score.
    scores : dict
        ``{roi: RadScore}``.
    clinical_model, combined_model : LogisticNomogram
        The clinical and the clinical-radiomics (nomogram) models.
    settings : dict
        ``outcome``, ``params`` (PyRadiomics settings as used), ``width_mm``, ``cutoff``
        (Youden cutoff on the training probability), ``points_cutoff`` (same in Nomo-score),
        ``clinical_cutoff``.
    """

    def __init__(
        self,
        rois: Sequence[str],
        scores: Mapping[str, Any],
        clinical_model: Any,
        combined_model: Any,
        settings: Mapping[str, Any],
    ) -> None:
        self.rois = list(rois)
        self.scores = dict(scores)
        self.clinical_model = clinical_model
        self.combined_model = combined_model
        self.settings = dict(settings)

    def __repr__(self) -> str:
        preds = ", ".join(self.combined_model.predictors_)
        return f"StudyModel(rois={self.rois}, nomogram predictors: {preds})"

    # ------------------------------------------------------------------ prediction
    def score_frame(self, features: pd.DataFrame) -> pd.DataFrame:
        """Radiomics scores of each case (columns ``tumor_score``, ...)."""
        cols = {}
        for roi, sc in self.scores.items():
            names = list(sc.feature_names_in_)
            missing = [c for c in names if c not in features.columns]
            if missing:
                raise InputError(
                    f"features lack {len(missing)} column(s) used by the {roi} score: "
                    f"{format_items(missing)}"
                )
            out = sc.transform(features[names])
            cols[_score_name(roi)] = np.asarray(out, dtype=float).ravel()
        return pd.DataFrame(cols, index=features.index)

    def predict(
        self,
        data: Any,
        clinical: pd.DataFrame | None = None,
        *,
        n_jobs: int = 1,
        cache_dir: str | os.PathLike | None = None,
    ) -> pd.DataFrame:
        """Predict new patients.

        Parameters
        ----------
        data : Manifest, path or DataFrame
            A cohort manifest (path or :class:`~radiomics_aln.manifest.Manifest`): features are
            extracted with the stored settings and the clinical columns read from it. Or a
            DataFrame indexed by case id with the feature columns the scores use (and the
            clinical columns unless ``clinical`` is given).
        clinical : DataFrame, optional
            Clinical columns, indexed by case id, when ``data`` holds features only.
        n_jobs, cache_dir
            Extraction settings when ``data`` is a manifest.

        Returns
        -------
        DataFrame
            Indexed by case id: one column per score, ``clinical_probability``,
            ``probability`` (clinical-radiomics model), ``nomo_score`` (total points),
            ``risk_group`` (``"high"`` when ``probability >= cutoff``, else ``"low"``).

        Raises
        ------
        InputError
            Missing feature or clinical columns (listed), or cases whose extraction failed.
        """
        features, table = self._inputs(data, clinical, n_jobs=n_jobs, cache_dir=cache_dir)
        levels = {
            k: v for k, v in self.settings.get("categorical", {}).items() if k in table.columns
        }
        table = _apply_levels(table, levels)
        scores = self.score_frame(features)
        frame = table.join(scores)
        need = set(self.clinical_model.predictors_) | set(self.combined_model.predictors_)
        missing = sorted(c for c in need if c not in frame.columns)
        if missing:
            raise InputError(f"prediction data lack predictor column(s): {format_items(missing)}")
        out = scores.copy()
        out["clinical_probability"] = self.clinical_model.predict_proba(frame)[:, 1]
        out["probability"] = self.combined_model.predict_proba(frame)[:, 1]
        out["nomo_score"] = np.asarray(self.combined_model.points(frame), dtype=float)
        cut = float(self.settings["cutoff"])
        out["risk_group"] = np.where(out["probability"] >= cut, "high", "low")
        return out

    def _inputs(self, data, clinical, *, n_jobs, cache_dir):
        if isinstance(data, pd.DataFrame):
            features = data
            table = clinical if clinical is not None else data
            return features, table.loc[features.index]
        # models saved before spacing_range existed apply the default range
        spacing_range = self.settings.get("spacing_range", list(SPACING_RANGE_MM))
        manifest = _read_manifest(
            data,
            self.settings.get("outcome", "outcome"),
            require_outcome=False,
            spacing_range=spacing_range,
        )
        result = _extract(
            manifest,
            self.rois,
            self.settings["params"],
            width_mm=float(self.settings["width_mm"]),
            n_jobs=n_jobs,
            cache_dir=cache_dir,
            repeats=False,
            # models saved before these settings existed were fitted on unioned masks
            mask_combine=self.settings.get("mask_combine", "union"),
            min_area_mm2=self.settings.get("min_area_mm2"),
            spacing_range=spacing_range,
        )
        failed = result.failures
        if len(failed):
            ids = list(dict.fromkeys(failed["case_id"]))
            raise InputError(
                f"feature extraction failed for case(s) {format_items(ids)}: "
                f"{failed['error'].iloc[0]}"
            )
        return result.features, manifest.table

    # ------------------------------------------------------------------ persistence
    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """JSON text of the model (also written to ``path``); never a pickle."""
        state = {
            "rois": self.rois,
            "scores": {roi: json.loads(sc.to_json()) for roi, sc in self.scores.items()},
            "clinical_model": json.loads(self.clinical_model.to_json()),
            "combined_model": json.loads(self.combined_model.to_json()),
        }
        return dump_model("StudyModel", self.settings, state, path)

    @classmethod
    def from_json(cls, source: str | os.PathLike) -> StudyModel:
        """Load a model written by :meth:`to_json` (path or JSON text).

        Every key and value of the file and of the models inside it is checked first; a
        missing or unknown key, a wrong type, or NaN/null where a number is needed raises
        :class:`InputError` naming the file and the key path (``state.scores.tumor.state.coef``).
        The cutoffs may be infinite (stored as ``"inf"``/``"-inf"``): a model without
        discrimination puts every patient in one risk group.
        """
        from radiomics_aln.nomogram import LogisticNomogram
        from radiomics_aln.score import RadScore

        doc = load_model(source, "StudyModel", params=_SETTINGS_SCHEMA, state=_STATE_SCHEMA)
        state, where = doc["state"], doc["origin"]
        with rebuilding(doc):
            rois = list(state["rois"])
            if sorted(rois) != sorted(state["scores"]):
                raise ValueError("state.rois and the keys of state.scores differ")
            scores = {
                roi: RadScore._from_doc(d, where, f"state.scores.{roi}")
                for roi, d in state["scores"].items()
            }
            clin = LogisticNomogram._from_doc(
                state["clinical_model"], where, "state.clinical_model"
            )
            comb = LogisticNomogram._from_doc(
                state["combined_model"], where, "state.combined_model"
            )
            settings = dict(doc["params"])
            # files written before the ring width was called width_mm (issue 14) hold ring_mm
            if "ring_mm" in settings:
                if "width_mm" in settings:
                    raise ValueError("params holds both width_mm and its old name ring_mm")
                settings["width_mm"] = settings.pop("ring_mm")
            if "width_mm" not in settings:
                raise InputError(f"{where}: `params.width_mm` (the ring width in mm) is missing")
            for key in ("cutoff", "points_cutoff", "clinical_cutoff"):
                settings[key] = number(settings[key])
            return cls(rois, scores, clin, comb, settings)


# What a StudyModel file holds (see radiomics_aln.io): the cutoffs may be "inf"/"-inf" (a model
# without discrimination), never null; the models inside are checked by their own classes.
_SETTINGS_SCHEMA = Record(
    {
        "outcome": STR,
        "params": Union(STR, MapOf(ANY)),
        "?width_mm": NUM,
        "?ring_mm": NUM,  # the name of width_mm in files written before issue 14
        "cutoff": NUM_OR_INF,
        "points_cutoff": NUM_OR_INF,
        "clinical_cutoff": NUM_OR_INF,
        "?train_cohort": STR,
        "?categorical": MapOf(ListOf(SCALAR)),
        "?mask_combine": STR,
        "?min_area_mm2": NUM_OR_NULL,
        "?spacing_range": ListOf(NUM, length=2, nullable=True),
    }
)
_STATE_SCHEMA = Record(
    {
        "rois": ListOf(STR),
        "scores": MapOf(MapOf(ANY)),
        "clinical_model": MapOf(ANY),
        "combined_model": MapOf(ANY),
    }
)


# --------------------------------------------------------------------------- helpers


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


def _read_manifest(
    source: Any, outcome: str, require_outcome: bool = True, spacing_range=SPACING_RANGE_MM
):
    from radiomics_aln.manifest import read_manifest

    if hasattr(source, "cases") and hasattr(source, "table"):
        return source
    return read_manifest(
        source, outcome=outcome if require_outcome else None, spacing_range=spacing_range
    )


def _extract(
    manifest,
    rois,
    params,
    *,
    width_mm,
    n_jobs,
    cache_dir,
    repeats,
    progress=None,
    mask_combine="union",
    min_area_mm2=None,
    spacing_range=SPACING_RANGE_MM,
):
    from radiomics_aln.extraction import extract_features

    return extract_features(
        manifest,
        rois=tuple(rois),
        params=params,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
        errors="collect",
        repeats=repeats,
        width_mm=width_mm,
        mask_combine=mask_combine,
        min_area_mm2=min_area_mm2,
        progress=progress,
        spacing_range=spacing_range,
    )


def _apply_levels(table: pd.DataFrame, categorical: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Make the configured categorical columns pandas Categoricals with the configured levels."""
    table = table.copy()
    for col, levels in categorical.items():
        if col not in table.columns:
            raise InputError(f"categorical column {col!r} is not in the cohort table")
        values = table[col].dropna()
        # YAML may give levels as numbers while the CSV holds text (or vice versa); "2.0" and
        # "2" are the same level
        as_text = values.map(_level_text)
        wanted = [_level_text(v) for v in levels]
        unknown = sorted(set(as_text) - set(wanted))
        if unknown:
            rows = values.index[as_text.isin(unknown)]
            raise InputError(
                f"column {col!r} has value(s) {format_items(unknown)} not among its configured "
                f"levels {list(levels)} (cases {format_items(rows, 5)})"
            )
        table[col] = pd.Categorical(
            table[col].map(lambda v: v if pd.isna(v) else _level_text(v)), categories=wanted
        )
    return table


def _level_text(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _fig_ax(figsize=(5.5, 4.5)):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _p_fmt(p: float) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "NA"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


# --------------------------------------------------------------------------- the study


class Study:
    """Run the whole workflow from a configuration.

    Parameters
    ----------
    config : StudyConfig, mapping, path or Manifest
        A configuration object, a mapping (see :class:`StudyConfig`), a YAML file, or a manifest
        (path to its CSV, or a :class:`~radiomics_aln.manifest.Manifest`) with default settings.
    table : DataFrame, optional
        Instead of a manifest: one row per patient indexed by case id with ``cohort``, the
        outcome and the clinical columns. Use with ``features``.
    features : DataFrame, optional
        Precomputed features (case id index, ``"{roi}__{feature}"`` columns): extraction is
        skipped.
    repeats : dict, optional
        With ``features``: ``{"reader2": DataFrame, "repeat": DataFrame}`` of re-segmented cases.
    progress : callable, bool or None, optional
        ``progress(message)`` is called at the start of each step (the CLI prints it). Feature
        extraction shows a progress bar only in a terminal or notebook; ``progress=False``
        silences the bar too.
    **overrides
        Fields of :class:`StudyConfig` replacing those of ``config``.

    Attributes
    ----------
    data_ : DataFrame
        Patients (case id index): cohort, outcome, clinical columns and, after ``fit``, scores.
    features_, repeats_ : feature tables used (after ``fit``).
    icc_filter_ : ICCFilter or None
    model_ : StudyModel
        The fitted model.
    univariate_ : DataFrame
        Univariate logistic screen on the training cohort.
    excluded_ : DataFrame
        Cases left out (after ``fit``): ``case_id``, ``cohort``, ``reason`` (a failed
        test-cohort ROI, or an image shared with a case of a different outcome); also
        ``results_["tables"]["excluded_cases"]``, ``tables/excluded_cases.csv`` and the report.
    results_ : dict
        After ``evaluate``: ``tables`` (name -> DataFrame) and ``figures`` (name -> Figure).

    Examples
    --------
    See ``examples/full_study.py``: ``Study("study.yaml").fit().evaluate().save("out")``.
    """

    def __init__(
        self,
        config: Any = None,
        *,
        table: pd.DataFrame | None = None,
        features: pd.DataFrame | None = None,
        repeats: Mapping[str, pd.DataFrame] | None = None,
        progress: Callable[[str], None] | bool | None = None,
        **overrides: Any,
    ) -> None:
        manifest = None
        if config is None:
            cfg = StudyConfig()
        elif isinstance(config, StudyConfig):
            cfg = copy.deepcopy(config)
        elif isinstance(config, Mapping):
            cfg = StudyConfig.from_dict(config)
        elif hasattr(config, "cases") and hasattr(config, "table"):
            manifest, cfg = config, StudyConfig()
        elif isinstance(config, str | os.PathLike):
            path = Path(config)
            if path.suffix.lower() in (".yaml", ".yml"):
                cfg = StudyConfig.from_yaml(path)
            elif path.suffix.lower() == ".csv":
                cfg = StudyConfig(manifest=str(path))
            else:
                raise InputError(f"{path}: expected a .yaml/.yml configuration or a .csv manifest")
        else:
            raise InputError(
                f"Study needs a StudyConfig, a mapping, a YAML path or a manifest, got "
                f"{type(config).__name__}"
            )
        if overrides:
            cfg = StudyConfig.from_dict(
                {**dataclasses.asdict(cfg), **overrides}
                | {
                    "icc": overrides.get("icc", cfg.icc),
                    "score": overrides.get("score", cfg.score),
                    "nomogram": overrides.get("nomogram", cfg.nomogram),
                }
            )
        self.config = cfg.validate()
        self._manifest = manifest
        self._table = table
        self._features = features
        self._repeats = dict(repeats) if repeats is not None else None
        self._progress = progress
        self.results_: dict[str, Any] = {}
        if features is None and table is not None:
            raise InputError("`table` needs `features` too (a table alone has no images)")

    def __repr__(self) -> str:
        state = (
            "evaluated"
            if self.results_
            else ("fitted" if hasattr(self, "model_") else "not fitted")
        )
        return f"Study(rois={self.config.roi_list()}, outcome={self.config.outcome!r}, {state})"

    def _say(self, message: str) -> None:
        logger.info(message)
        if callable(self._progress):
            self._progress(message)

    # ------------------------------------------------------------------ data
    def _load_table(self) -> pd.DataFrame:
        cfg = self.config
        if self._table is not None:
            table = self._table.copy()
        else:
            if self._manifest is None:
                if cfg.manifest is None:
                    raise InputError(
                        "no data: set `manifest` in the configuration, or pass table= and features="
                    )
                self._manifest = _read_manifest(
                    cfg.manifest, cfg.outcome, spacing_range=cfg.spacing_range
                )
            table = self._manifest.table.copy()
        table.index = table.index.astype(str)
        table.index.name = "case_id"
        need = ["cohort", cfg.outcome, *cfg.clinical, *cfg.nonnormal]
        missing = [c for c in dict.fromkeys(need) if c not in table.columns]
        if missing:
            raise InputError(
                f"the cohort table lacks column(s) {format_items(missing)} named in the "
                f"configuration; it has {format_items(table.columns, 30)}"
            )
        table["cohort"] = table["cohort"].astype(str)
        cohorts = list(pd.unique(table["cohort"]))
        if cfg.train_cohort not in cohorts:
            raise InputError(
                f"training cohort {cfg.train_cohort!r} is not in the data; cohorts found: "
                f"{format_items(cohorts)}"
            )
        tests = cfg.test_cohorts
        if tests is None:
            tests = [c for c in cohorts if c != cfg.train_cohort]
        absent = [c for c in tests if c not in cohorts]
        if absent:
            raise InputError(f"test cohort(s) {format_items(absent)} are not in the data")
        if cfg.train_cohort in tests:
            raise InputError(f"the training cohort {cfg.train_cohort!r} is also a test cohort")
        self.cohorts_ = [cfg.train_cohort, *tests]
        table = table[table["cohort"].isin(self.cohorts_)]
        table = _apply_levels(table, cfg.categorical)
        return table

    def _load_features(self) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        cfg = self.config
        if self._features is not None:
            feats = self._features.copy()
            feats.index = feats.index.astype(str)
            reps = {k: v.rename(index=str) for k, v in (self._repeats or {}).items()}
            self.extraction_ = None
            return feats, reps
        manifest = self._manifest
        if len(set(manifest.table["cohort"].astype(str)) - set(self.cohorts_)) and hasattr(
            manifest, "subset"
        ):
            manifest = manifest.subset(self.cohorts_)  # cohorts not studied are not extracted
        self._say(
            f"Extracting features ({', '.join(cfg.roi_list())}) for {len(manifest.cases)} "
            "cases (and their repeat segmentations, if any)"
        )
        result = _extract(
            manifest,
            cfg.roi_list(),
            cfg.params,
            width_mm=cfg.width_mm,
            n_jobs=cfg.n_jobs,
            cache_dir=cfg.cache_dir,
            repeats=True,
            # None lets extraction show its bar only in a terminal or notebook.
            progress=False if self._progress is False else None,
            mask_combine=cfg.mask_combine,
            min_area_mm2=cfg.min_area_mm2,
            spacing_range=cfg.spacing_range,
        )
        self.extraction_ = result
        if len(result.failures):
            logger.warning("%d ROI extraction(s) failed", len(result.failures))
        return result.features, dict(result.repeats)

    # ------------------------------------------------------------------ fit
    def fit(self) -> Study:
        """Fit every step on the training cohort (see the module docstring for the order).

        Returns
        -------
        Study
            ``self``, with ``model_``, ``icc_filter_``, ``univariate_``, ``screened_`` and
            ``data_`` set.

        Raises
        ------
        InputError
            Configuration/data problems (missing columns, unknown cohorts, failed extraction of
            a training case, no predictor passing the screen).
        """
        cfg = self.config
        if not cfg.clinical:
            raise InputError(
                "no clinical candidate predictors configured (`clinical`): the clinical model "
                "cannot be built"
            )
        table = self._load_table()
        features, repeats = self._load_features()
        from radiomics_aln.icc_filter import ICCFilter
        from radiomics_aln.nomogram import LogisticNomogram
        from radiomics_aln.score import RadScore
        from radiomics_aln.univariate import univariate_logistic

        features = features.reindex(table.index)
        train_ids = table.index[table["cohort"] == cfg.train_cohort]
        rois = cfg.roi_list()

        roi_cols = {r: roi_columns(features.columns, r) for r in rois}
        empty = [r for r, cols in roi_cols.items() if not cols]
        if empty:
            raise InputError(f"no feature columns for ROI(s) {empty} (expected '<roi>__<name>')")
        used = [c for r in rois for c in roi_cols[r]]
        self.excluded_ = self._exclusions(table, features, used)
        if len(self.excluded_):
            table = table.drop(index=self.excluded_["case_id"])
            train_ids = table.index[table["cohort"] == cfg.train_cohort]
            emptied = [c for c in self.cohorts_ if not (table["cohort"] == c).any()]
            if emptied:
                raise InputError(
                    f"every case of cohort(s) {format_items(emptied)} is excluded (see "
                    "excluded_): " + "; ".join(self.excluded_["reason"].head(3))
                )
        Xtr = features.loc[train_ids, used]
        bad_rows = Xtr.index[~np.isfinite(Xtr.to_numpy(dtype=float)).all(axis=1)]
        if len(bad_rows):
            raise InputError(
                f"training case(s) {format_items(bad_rows)} have missing or non-finite features "
                "(failed extraction?); fix or remove them from the manifest"
            )
        ytr = table.loc[train_ids, cfg.outcome].astype(int)

        # ---- ICC filter: repeat segmentations of TRAINING cases only
        train_repeats = {
            k: v.loc[v.index.intersection(train_ids), used]
            for k, v in repeats.items()
            if len(v.index.intersection(train_ids)) > 0
        }
        self.icc_filter_ = None
        kept = used
        if cfg.icc.enabled and train_repeats:
            self._say(
                "ICC reproducibility filter on the re-segmented training cases ("
                + ", ".join(f"{k}: {len(v)}" for k, v in train_repeats.items())
                + ")"
            )
            filt = ICCFilter(threshold=cfg.icc.threshold, form=cfg.icc.form, on=cfg.icc.compare)
            filt.fit(Xtr, repeats=train_repeats)
            self.icc_filter_ = filt
            kept = [str(c) for c in filt.selected_features_]
        elif cfg.icc.enabled:
            warnings.warn(
                "no training case has repeat segmentations: the ICC filter is skipped",
                StatisticalWarning,
                stacklevel=2,
            )
        self.icc_repeat_cases_ = {k: len(v) for k, v in train_repeats.items()}

        # ---- one LASSO score per ROI
        scores = {}
        score_values = {}
        for roi in rois:
            cols = roi_columns(kept, roi)
            if not cols:
                raise InputError(
                    f"no {roi} feature passed the ICC filter (threshold {cfg.icc.threshold}); "
                    "lower icc.threshold or check the repeat segmentations"
                )
            kind = "reproducible features" if self.icc_filter_ is not None else "features"
            self._say(f"LASSO score for {roi} ({len(cols)} {kind})")
            sc = RadScore(name=_score_name(roi), random_state=cfg.random_state, **cfg.score.params)
            sc.fit(Xtr[cols], ytr)
            scores[roi] = sc
            score_values[_score_name(roi)] = np.asarray(
                sc.transform(features[cols].loc[table.index]), dtype=float
            ).ravel()
        data = table.copy()
        for name, values in score_values.items():
            data[name] = values
        self.data_ = data
        self.features_ = features
        self.repeats_ = repeats
        # a score whose LASSO kept no feature is a constant: it cannot enter a model
        constant = [r for r, sc in scores.items() if len(sc.selected_features_) == 0]
        notes = [
            f"The {_ROI_LABELS[r].lower()} is constant (the LASSO kept no feature at the chosen "
            "lambda); it is reported but not offered to the models."
            for r in constant
        ]
        self.constant_scores_ = constant
        score_names = [_score_name(r) for r in rois if r not in constant]
        if not score_names:
            raise InputError(
                "every radiomics score is constant (the LASSO kept no feature for any ROI); "
                "try score rule '1se' -> 'min', more training cases, or check the outcome"
            )
        train = data.loc[train_ids]

        # ---- univariate screen
        self._say("Univariate screen and backward stepwise logistic models")
        ref_levels = {c: str(levels[0]) for c, levels in cfg.categorical.items()}
        candidates = list(cfg.clinical) + score_names
        parts = []
        for c in candidates:
            try:
                parts.append(
                    univariate_logistic(
                        train,
                        cfg.outcome,
                        [c],
                        reference_levels=ref_levels,
                        penalty=cfg.nomogram.penalty,
                    )
                )
            except (SeparationError, ConvergenceError, SingleLevelError) as exc:
                notes.append(f"{c} was not screened: {exc}")
        uni = pd.concat(parts, ignore_index=True)
        self.univariate_ = uni
        p_by = uni.groupby("predictor", sort=False)["p_overall"].first().reindex(candidates)
        p_by = p_by.fillna(np.inf)  # not estimable: never passes the screen
        screened = [c for c in candidates if p_by[c] < cfg.nomogram.screen_p]
        clin_screened = [c for c in cfg.clinical if c in screened]
        score_screened = [c for c in score_names if c in screened]
        if not clin_screened and cfg.clinical:
            best = min(cfg.clinical, key=lambda c: p_by[c])
            clin_screened = [best]
            notes.append(
                f"No clinical factor had univariate p < {cfg.nomogram.screen_p}; the clinical "
                f"model uses the strongest one ({best}, p = {_p_fmt(p_by[best])})."
            )
        if not score_screened:
            best = min(score_names, key=lambda c: p_by[c])
            score_screened = [best]
            notes.append(
                f"No radiomics score had univariate p < {cfg.nomogram.screen_p}; the "
                f"clinical-radiomics model offers the strongest one ({best})."
            )
        self.screened_ = {"clinical": clin_screened, "scores": score_screened}
        self.notes_ = notes

        def fit_backward(predictors):
            refs = {k: v for k, v in ref_levels.items() if k in predictors}
            model = LogisticNomogram(
                selection=cfg.nomogram.selection,
                p_remove=cfg.nomogram.p_remove,
                criterion=cfg.nomogram.criterion,
                reference_levels=refs or None,
                penalty=cfg.nomogram.penalty,
            )
            return model.fit(train, cfg.outcome, predictors)

        def stepwise(predictors):
            predictors = list(predictors)
            while True:
                try:
                    return fit_backward(predictors)
                except SeparationError as exc:
                    # drop the predictor(s) the error names and refit; a model with separation
                    # has no finite maximum-likelihood estimate
                    culprits = [p for p in predictors if p in exc.predictors]
                    if not culprits or len(culprits) == len(predictors):
                        raise
                    notes.append(
                        f"{', '.join(culprits)} removed from the multivariable model: {exc}"
                    )
                    predictors = [p for p in predictors if p not in culprits]
                except EliminationError:
                    break
            # backward elimination removed everything: keep the strongest candidate
            best = min(predictors, key=lambda c: p_by[c])
            notes.append(
                f"Backward elimination removed every candidate of {predictors}; the model "
                f"keeps {best}."
            )
            refs = {k: v for k, v in ref_levels.items() if k == best}
            return LogisticNomogram(selection=None, reference_levels=refs or None).fit(
                train, cfg.outcome, [best]
            )

        clinical_model = stepwise(clin_screened)
        combined_model = stepwise(clin_screened + score_screened)
        params = self.extraction_.params if getattr(self, "extraction_", None) else cfg.params
        self.model_ = StudyModel(
            rois,
            scores,
            clinical_model,
            combined_model,
            {
                "outcome": cfg.outcome,
                "params": params,
                "width_mm": cfg.width_mm,
                "mask_combine": cfg.mask_combine,
                "min_area_mm2": cfg.min_area_mm2,
                "spacing_range": cfg.spacing_range,
                "cutoff": combined_model.youden_cutoff_,
                "points_cutoff": combined_model.youden_points_cutoff_,
                "clinical_cutoff": clinical_model.youden_cutoff_,
                "train_cohort": cfg.train_cohort,
                "categorical": {k: [str(v) for v in lv] for k, lv in cfg.categorical.items()},
            },
        )
        data["clinical_probability"] = clinical_model.predict_proba(data)[:, 1]
        data["probability"] = combined_model.predict_proba(data)[:, 1]
        data["nomo_score"] = np.asarray(combined_model.points(data), dtype=float)
        self.results_ = {}
        return self

    def _exclusions(
        self, table: pd.DataFrame, features: pd.DataFrame, used: list[str]
    ) -> pd.DataFrame:
        """Cases left out of the analysis, with their reason (``excluded_cases`` table).

        Both cases of a pair with byte-identical images and different outcomes (unless
        ``exclude_conflicting_duplicates`` is false), and test-cohort cases whose features are
        missing or non-finite (a failed ROI; ``errors="raise"`` stops instead).
        """
        cfg = self.config
        reasons: dict[str, list[str]] = {}
        result = getattr(self, "extraction_", None)
        dups = getattr(result, "duplicates", None)
        if dups is not None and len(dups):
            y = table[cfg.outcome]
            conflicting = [
                (str(r.case_id_1), str(r.case_id_2), r.image)
                for r in dups.itertuples(index=False)
                if str(r.case_id_1) in y.index
                and str(r.case_id_2) in y.index
                and y[str(r.case_id_1)] != y[str(r.case_id_2)]
            ]
            if conflicting and cfg.exclude_conflicting_duplicates:
                for a, b, kind in conflicting:
                    for me, other in ((a, b), (b, a)):
                        reasons.setdefault(me, []).append(
                            f"same {kind} image (identical bytes) as case {other}, with a "
                            f"different outcome ({cfg.outcome} {y[me]} vs {y[other]})"
                        )
            elif conflicting:
                pairs = ", ".join(f"{a} and {b}" for a, b, _ in conflicting[:10])
                warnings.warn(
                    f"{len(conflicting)} pair(s) of cases with the same image and different "
                    f"outcomes are kept (exclude_conflicting_duplicates: false): {pairs}",
                    DataWarning,
                    stacklevel=3,
                )
        tests = table.index[(table["cohort"] != cfg.train_cohort)]
        X = features.reindex(index=tests, columns=used).to_numpy(dtype=float)
        bad = [c for c, ok in zip(tests, np.isfinite(X).all(axis=1), strict=True) if not ok]
        failures = getattr(result, "failures", None)
        failed: dict[str, list[str]] = {}
        if failures is not None and len(failures):
            for r in failures.itertuples(index=False):
                if r.reader == "reader1":
                    failed.setdefault(str(r.case_id), []).append(f"roi {r.roi}: {r.error}")
        cols = pd.Index(used)
        for c in bad:
            why = failed.get(c)
            if why is None:  # a feature table given by the user: name the columns
                row = features.loc[c, used] if c in features.index else pd.Series(dtype=float)
                missing = cols[~np.isfinite(row.reindex(used).to_numpy(dtype=float))]
                why = [f"missing or non-finite feature(s) {format_items(missing, 5)}"]
            if cfg.errors == "raise":
                raise InputError(
                    f"test-cohort case {c} ({table.at[c, 'cohort']}) has no usable features: "
                    f"{'; '.join(why)}. Fix the case, or set errors: collect to exclude it "
                    "(it is then listed in the excluded_cases table)"
                )
            reasons.setdefault(c, []).append("failed extraction: " + "; ".join(why))
        rows = [
            {"case_id": c, "cohort": table.at[c, "cohort"], "reason": "; ".join(why)}
            for c, why in ((c, reasons[c]) for c in table.index if c in reasons)
        ]
        out = pd.DataFrame(rows, columns=["case_id", "cohort", "reason"])
        if len(out):
            items = "; ".join(
                f"{r.case_id} ({r.cohort}): {r.reason}" for r in out.head(5).itertuples()
            )
            more = f" and {len(out) - 5} more" if len(out) > 5 else ""
            warnings.warn(
                f"{len(out)} case(s) are excluded from the analysis: {items}{more}; see the "
                "excluded_cases table",
                DataWarning,
                stacklevel=3,
            )
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this Study is not fitted yet; call fit() first")

    def fitted_state(self) -> dict[str, Any]:
        """Everything ``fit`` learned, as plain values (used by the leakage test)."""
        self._check_fitted()
        m = self.model_
        state = {
            "icc_selected": (
                None if self.icc_filter_ is None else list(self.icc_filter_.selected_features_)
            ),
            "scores": {roi: json.loads(sc.to_json())["state"] for roi, sc in m.scores.items()},
            "clinical": json.loads(m.clinical_model.to_json())["state"],
            "combined": json.loads(m.combined_model.to_json())["state"],
            "screened": self.screened_,
            "univariate": self.univariate_.to_dict("list"),
            "settings": {k: v for k, v in m.settings.items() if k != "params"},
        }
        # plain JSON values (NaN -> None) so two states compare with ==
        return json.loads(json.dumps(to_jsonable(state)))

    def predict(self, data: Any, clinical: pd.DataFrame | None = None) -> pd.DataFrame:
        """Predict new patients with the fitted model (see :meth:`StudyModel.predict`)."""
        self._check_fitted()
        return self.model_.predict(
            data, clinical, n_jobs=self.config.n_jobs, cache_dir=self.config.cache_dir
        )

    # ------------------------------------------------------------------ evaluate
    def _cohort_arrays(self) -> dict[str, dict[str, Any]]:
        cfg = self.config
        out = {}
        for c in self.cohorts_:
            d = self.data_[self.data_["cohort"] == c]
            y = d[cfg.outcome].astype(int).to_numpy()
            models = {CLINICAL_MODEL: d["clinical_probability"].to_numpy()}
            for roi in self.model_.rois:
                if roi not in self.constant_scores_:
                    models[_ROI_LABELS[roi]] = d[_score_name(roi)].to_numpy()
            models[COMBINED_MODEL] = d["probability"].to_numpy()
            out[c] = {"y": y, "models": models, "frame": d}
        return out

    def evaluate(self) -> Study:
        """Evaluate the fitted models on every cohort; fills ``results_``.

        Returns
        -------
        Study
            ``self``; ``results_["tables"]`` holds ``table1``, ``table1_by_outcome``,
            ``table2``, ``table3``, ``table3_full``, ``delong``, ``hosmer_lemeshow``,
            ``calibration``, ``decision_curves``, ``clinical_impact``, ``nri_idi``,
            ``risk_groups``, ``icc``, ``score_coefficients``, ``elimination_steps``, and
            ``results_["figures"]`` the matplotlib figures.
        """
        self._check_fitted()
        from radiomics_aln import calibration, decision, metrics, performance, reclassification
        from radiomics_aln.validation import bootstrap_calibrate, bootstrap_validate

        cfg = self.config
        arrays = self._cohort_arrays()
        labels = {c: cfg.label(c) for c in self.cohorts_}
        tables: dict[str, pd.DataFrame] = {}
        figures: dict[str, Any] = {}
        summary: dict[str, Any] = {}

        self._say("Evaluation: Table 1")
        tables.update(self._table1())
        tables["table2"] = self._table2()

        self._say("Evaluation: Table 3, DeLong, Hosmer-Lemeshow, calibration")
        perf = performance.performance_table(
            {labels[c]: (a["y"], a["models"]) for c, a in arrays.items()},
            training=labels[cfg.train_cohort],
            ci=cfg.nomogram.ci,
            random_state=cfg.random_state,
        )
        tables["table3"] = perf.formatted()
        tables["table3_full"] = perf.performance
        tables["delong"] = perf.comparisons
        summary["thresholds"] = perf.thresholds

        # One calibration curve per cohort for the combined model: its Hosmer-Lemeshow test and
        # val.prob statistics fill the tables and the same object draws the figure, so nothing
        # is computed (or warned about) twice.
        groups = cfg.nomogram.hl_groups
        curves: dict[str, Any] = {}
        hl_rows, cal_rows = [], []
        for c, a in arrays.items():
            p = _clip(a["models"][COMBINED_MODEL])
            try:
                curves[c] = calibration.calibration_curve(a["y"], p, n_groups=groups)
            except InputError as exc:
                curves[c] = exc
            cc = curves[c]
            hl_rows.append(
                {"cohort": labels[c], "model": CLINICAL_MODEL}
                | _hl_row(calibration, a["y"], a["models"][CLINICAL_MODEL], groups)
            )
            if isinstance(cc, calibration.CalibrationCurve) and cc.hosmer_lemeshow is not None:
                hl = _hl_fields(cc.hosmer_lemeshow)
            else:  # the test's own message says why it cannot be computed
                hl = _hl_row(calibration, a["y"], p, groups)
            hl_rows.append({"cohort": labels[c], "model": COMBINED_MODEL} | hl)
            raw = np.asarray(a["models"][COMBINED_MODEL], dtype=float)
            exact = bool(np.any((raw == 0) | (raw == 1)))
            if isinstance(cc, calibration.CalibrationCurve) and not cc.stats.empty and not exact:
                cal = _calibration_fields(cc.stats)
            else:  # val.prob drops predictions of exactly 0 or 1 (with a warning); never clip
                cal = _calibration_row(calibration, a["y"], raw)
            cal_rows.append({"cohort": labels[c], "model": COMBINED_MODEL} | cal)
        tables["hosmer_lemeshow"] = pd.DataFrame(hl_rows)
        tables["calibration"] = pd.DataFrame(cal_rows)
        n_boot = int(cfg.nomogram.n_boot)
        if n_boot > 0:
            self._say(
                f"Bootstrap internal validation of the clinical-radiomics model ({n_boot} resamples "
                "of the training cohort)"
            )
            train = self.data_[self.data_["cohort"] == cfg.train_cohort]
            comb = self.model_.combined_model
            boot = {"n_boot": n_boot, "random_state": cfg.random_state, "n_jobs": cfg.n_jobs}
            validation = bootstrap_validate(comb, train, cfg.outcome, **boot)
            tables["bootstrap_validation"] = validation.reset_index()
            tables["bootstrap_calibration"] = bootstrap_calibrate(comb, train, cfg.outcome, **boot)
            summary["optimism_corrected_auc"] = float(validation.at["auc", "corrected"])
            summary["optimism_corrected_slope"] = float(validation.at["slope", "corrected"])

        self._say("Evaluation: decision curves, clinical impact, NRI/IDI, risk groups")
        grid = cfg.dca_grid()
        dca_parts, cic_parts, nri_rows = [], [], []
        for c, a in arrays.items():
            probs = {m: a["models"][m] for m in (CLINICAL_MODEL, COMBINED_MODEL)}
            d = decision.decision_curve(a["y"], probs, thresholds=grid)
            dca_parts.append(d.assign(cohort=labels[c]))
            ci_tab = decision.clinical_impact(a["y"], probs[COMBINED_MODEL], thresholds=grid)
            cic_parts.append(ci_tab.assign(cohort=labels[c]))
            nri_rows.extend(_nri_idi_rows(reclassification, labels[c], a["y"], probs))
        tables["decision_curves"] = pd.concat(dca_parts, ignore_index=True)
        tables["clinical_impact"] = pd.concat(cic_parts, ignore_index=True)
        tables["nri_idi"] = pd.DataFrame(nri_rows)
        tables["risk_groups"] = reclassification.risk_group_table(
            {labels[c]: (a["y"], a["models"][COMBINED_MODEL]) for c, a in arrays.items()},
            self.model_.settings["cutoff"],
        )
        if self.icc_filter_ is not None:
            tables["icc"] = self.icc_filter_.icc_
        tables["score_coefficients"] = self._score_coefficients()
        tables["excluded_cases"] = self.excluded_.copy()
        steps = []
        for name, m in (("Clinical model", self.model_.clinical_model),
                        (COMBINED_MODEL, self.model_.combined_model)):  # fmt: skip
            if len(m.elimination_steps_):
                steps.append(m.elimination_steps_.assign(model=name))
        tables["elimination_steps"] = (
            pd.concat(steps, ignore_index=True) if steps else pd.DataFrame()
        )
        tables["predictions"] = self.data_[
            ["cohort", cfg.outcome]
            + [_score_name(r) for r in self.model_.rois]
            + ["clinical_probability", "probability", "nomo_score"]
        ].assign(
            risk_group=lambda d: np.where(
                d["probability"] >= self.model_.settings["cutoff"], "high", "low"
            )
        )

        self._say("Evaluation: figures")
        figures.update(
            self._figures(arrays, labels, tables, curves, metrics, calibration, decision)
        )
        self.results_ = {"tables": tables, "figures": figures, "summary": summary}
        return self

    def _table1(self) -> dict[str, pd.DataFrame]:
        from radiomics_aln.tables import baseline_table, format_baseline_table

        cfg = self.config
        d = self.data_.copy()
        d["cohort"] = pd.Categorical(d["cohort"].map(cfg.label),
                                     categories=[cfg.label(c) for c in self.cohorts_])  # fmt: skip
        variables = [cfg.outcome, *cfg.clinical]
        categorical = [cfg.outcome] + [
            c
            for c in cfg.clinical
            if c in cfg.categorical or not pd.api.types.is_numeric_dtype(d[c])
        ]
        nonnormal = [c for c in cfg.nonnormal if c not in categorical]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            t1 = baseline_table(
                d, "cohort", variables, categorical=categorical, nonnormal=nonnormal
            )
            parts = []
            for c in self.cohorts_:
                sub = d[d["cohort"] == cfg.label(c)]
                if sub[cfg.outcome].nunique() < 2:
                    continue
                tb = baseline_table(
                    sub,
                    cfg.outcome,
                    list(cfg.clinical),
                    categorical=categorical[1:],
                    nonnormal=nonnormal,
                )
                f = format_baseline_table(tb)
                f.columns = [f"{cfg.label(c)}: {col}" for col in f.columns]
                parts.append(f)
        by_outcome = pd.concat(parts, axis=1) if parts else pd.DataFrame()
        self._table1_tidy = t1
        return {
            "table1": format_baseline_table(t1),
            "table1_tidy": t1,
            "table1_by_outcome": by_outcome,
        }

    def _table2(self) -> pd.DataFrame:
        """Univariate ORs of every candidate and the ORs of both multivariable models.

        Tidy columns ``univariate_*``, ``clinical_*`` and ``multivariable_*`` (the
        clinical-radiomics model): ``or``, ``ci_low``, ``ci_high``, ``p``; formatted columns for
        the paper. The reference level of a categorical predictor in a model reads "1.00 (ref)".
        """
        cols = ["predictor", "level", "odds_ratio", "or_ci_low", "or_ci_high", "p_value"]

        def renamed(df, prefix):
            df = df[cols].rename(
                columns={
                    "odds_ratio": f"{prefix}_or",
                    "or_ci_low": f"{prefix}_ci_low",
                    "or_ci_high": f"{prefix}_ci_high",
                    "p_value": f"{prefix}_p",
                }
            )
            return df.assign(level=df["level"].astype(object).where(df["level"].notna(), ""))

        out = renamed(self.univariate_, "univariate")
        is_ref = self.univariate_["is_reference"].astype(bool).to_numpy()
        for prefix, model in (
            ("clinical", self.model_.clinical_model),
            ("multivariable", self.model_.combined_model),
        ):
            out = out.merge(renamed(model.summary, prefix), on=["predictor", "level"], how="left")
            in_model = out["predictor"].isin(model.predictors_).to_numpy()
            out.loc[is_ref & in_model, f"{prefix}_or"] = 1.0

        def ci(o, lo, hi):
            return [
                ""
                if pd.isna(a)
                else (f"{a:.2f} (ref)" if pd.isna(b) else f"{a:.2f} ({b:.2f}-{c:.2f})")
                for a, b, c in zip(o, lo, hi, strict=True)
            ]

        for prefix, label in (
            ("univariate", "Univariate"),
            ("clinical", "Clinical model"),
            ("multivariable", "Multivariable"),
        ):
            out[f"{label} OR (95% CI)"] = ci(
                out[f"{prefix}_or"], out[f"{prefix}_ci_low"], out[f"{prefix}_ci_high"]
            )
            out[f"{label} p"] = ["" if pd.isna(p) else _p_fmt(p) for p in out[f"{prefix}_p"]]
        return out

    def _score_coefficients(self) -> pd.DataFrame:
        """Non-zero coefficients of each score: z-scale, original units, training mean and sd."""
        rows = []
        for roi, sc in self.model_.scores.items():
            name = _score_name(roi)
            rows.append(
                {
                    "score": name,
                    "feature": "(Intercept)",
                    "coefficient": sc.intercept_,
                    "coefficient_original": getattr(sc, "intercept_original_", np.nan),
                    "mean": np.nan,
                    "sd": np.nan,
                }
            )
            orig = getattr(sc, "coef_original_", None)
            for feat, value in sc.coef_[sc.coef_ != 0].items():
                rows.append(
                    {
                        "score": name,
                        "feature": feat,
                        "coefficient": value,
                        "coefficient_original": np.nan if orig is None else orig[feat],
                        "mean": sc.mean_[feat] if hasattr(sc, "mean_") else np.nan,
                        "sd": sc.scale_[feat] if hasattr(sc, "scale_") else np.nan,
                    }
                )
        return pd.DataFrame(rows)

    def _figures(
        self, arrays, labels, tables, curves, metrics, calibration, decision
    ) -> dict[str, Any]:
        import matplotlib.pyplot as plt

        from radiomics_aln import reclassification

        figs: dict[str, Any] = {}
        for c, a in arrays.items():
            fig, ax = _fig_ax((5.5, 5))
            _draw(lambda ax=ax, a=a: metrics.plot_roc(a["y"], a["models"], ax=ax), ax, "ROC")
            ax.set_title(f"ROC curves - {labels[c]}")
            figs[f"roc_{c}"] = fig
        n = len(arrays)
        fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.4), squeeze=False)
        # the training panel adds the bootstrap bias-corrected curve when it was computed
        corrected = {self.config.train_cohort: tables.get("bootstrap_calibration")}
        for ax, c in zip(axes[0], arrays, strict=True):
            _draw(lambda ax=ax, c=c: _plot_curve(curves[c], ax, labels[c], corrected.get(c)), ax,
                  f"calibration ({labels[c]})")  # fmt: skip
            ax.set_title(labels[c])
        fig.suptitle("Calibration of the clinical-radiomics model")
        fig.tight_layout()
        figs["calibration"] = fig
        fig, ax = _fig_ax((9, 5.5))
        _draw(lambda: self.model_.combined_model.plot_nomogram(ax=ax), ax, "nomogram")
        figs["nomogram"] = fig
        curve_figures = (
            ("decision", "decision_curves", decision.plot_decision_curve, "DCA", "Decision curves"),
            ("clinical_impact", "clinical_impact", decision.plot_clinical_impact, "CIC",
             "Clinical impact"),
        )  # fmt: skip
        for key, table, plot, what, title in curve_figures:
            for c in arrays:
                fig, ax = _fig_ax((6, 4.5))
                sub = tables[table][tables[table].cohort == labels[c]]
                _draw(lambda ax=ax, sub=sub, plot=plot: plot(sub, ax=ax), ax, what)
                ax.set_title(f"{title} - {labels[c]}")
                figs[f"{key}_{c}"] = fig
        fig, ax = _fig_ax((6, 4.5))
        rg = tables["risk_groups"]
        _draw(lambda: reclassification.plot_risk_groups(rg, ax=ax), ax, "risk groups")
        figs["risk_groups"] = fig
        if self.icc_filter_ is not None:
            fig, ax = _fig_ax((7, 4.5))
            _draw(lambda: self.icc_filter_.plot(ax=ax), ax, "ICC distribution")
            figs["icc"] = fig
        for roi, sc in self.model_.scores.items():
            fig, (ax1, ax2) = _subplots_pair()
            _draw(lambda sc=sc, ax1=ax1: sc.plot(ax1, kind="path"), ax1, "LASSO path")
            _draw(lambda sc=sc, ax2=ax2: sc.plot(ax2, kind="cv"), ax2, "LASSO CV")
            fig.suptitle(f"LASSO - {_ROI_LABELS[roi]}")
            fig.tight_layout()
            figs[f"lasso_{roi}"] = fig
        return figs

    # ------------------------------------------------------------------ output
    def methods_text(self) -> dict[str, list[str]]:
        """Methods summary generated from the actual settings and results (TRIPOD items)."""
        self._check_fitted()
        cfg = self.config
        d = self.data_
        out: dict[str, list[str]] = {}
        sizes = []
        for c in self.cohorts_:
            sub = d[d["cohort"] == c]
            ev = int(sub[cfg.outcome].sum())
            sizes.append(
                f"{cfg.label(c)}: n = {len(sub)}, {ev} with the outcome ({100 * ev / len(sub):.1f}%)"
            )
        out["Participants and outcome (TRIPOD 4-6, 13)"] = [
            f"Endpoint: `{cfg.outcome}` (binary). Model development on the "
            f"{cfg.label(cfg.train_cohort)} cohort only; every other cohort is used for "
            "validation without refitting anything.",
            "; ".join(sizes) + ".",
        ]
        excluded = getattr(self, "excluded_", None)
        if excluded is not None and len(excluded):
            counts = excluded["cohort"].map(cfg.label).value_counts(sort=False)
            out["Participants and outcome (TRIPOD 4-6, 13)"].append(
                f"{len(excluded)} case(s) were excluded before any analysis ("
                + ", ".join(f"{k}: {v}" for k, v in counts.items())
                + "); the excluded-cases table gives each reason."
            )
        rois = cfg.roi_list()
        roi_desc = {
            "tumor": "the tumour mask (intratumoral)",
            "peritumoral": f"a {cfg.width_mm:g} mm peritumoral ring (distance map in mm, clipped "
            "to the image/field of view)",
            "tumor_peritumoral": f"tumour plus its {cfg.width_mm:g} mm ring",
            "ln": "the axillary lymph node on its own image",
        }
        n_feats = len(self.features_.columns)
        per_roi = {r: len(roi_columns(self.features_.columns, r)) for r in rois}
        params_name = cfg.params if isinstance(cfg.params, str) else "a custom settings dict"
        out["Regions of interest and features (TRIPOD 7a)"] = [
            "ROIs: " + "; ".join(roi_desc[r] for r in rois) + ".",
            f"PyRadiomics features with the `{params_name}` settings: {n_feats} features in total ("
            + ", ".join(f"{r}: {n}" for r, n in per_roi.items())
            + ").",
        ]
        if self.icc_filter_ is not None:
            icc = self.icc_filter_.icc_
            n_total = len(self.icc_filter_.feature_names_in_)
            n_kept = len(self.icc_filter_.selected_features_)
            reps = ", ".join(f"{k}: {v} cases" for k, v in self.icc_repeat_cases_.items())
            per = []
            for r in rois:
                kept_r = len(roi_columns(self.icc_filter_.selected_features_, r))
                per.append(f"{r}: {kept_r}/{per_roi[r]}")
            out["Reproducibility (ICC)"] = [
                f"{cfg.icc.form} (two-way random, absolute agreement, single rater) on the "
                f"re-segmented training cases ({reps}); a feature was kept when its "
                f"{'ICC' if cfg.icc.compare == 'estimate' else 'lower 95% bound of the ICC'} was >= "
                f"{cfg.icc.threshold:g} in every comparison "
                f"({', '.join(self.icc_filter_.comparisons_)}).",
                f"Kept {n_kept} of {n_total} features, dropped {n_total - n_kept} ("
                + ", ".join(per)
                + f"). {int(icc['passed'].sum())} of {len(icc)} feature x comparison ICCs passed.",
            ]
        else:
            out["Reproducibility (ICC)"] = ["No ICC filter was applied (no repeat segmentations)."]
        formulas = []
        for roi, sc in self.model_.scores.items():
            formula = getattr(sc, "formula_", None)
            nz = int((sc.coef_ != 0).sum())
            lam = getattr(sc, "lambda_", float("nan"))
            formulas.append(
                f"{_ROI_LABELS[roi]}: {nz} features with non-zero LASSO coefficients "
                f"(lambda = {lam:.4g})."
            )
            if formula:
                # the z-score form; means, sds and original-unit coefficients are in the
                # score coefficient table
                formulas.append(f"formula: {formula.splitlines()[0]}")
        out["Radiomics scores (TRIPOD 10a-b)"] = [
            "One LASSO logistic score per ROI fitted on the training cohort: z-scores with "
            "training means and SDs, redundancy removal, L1-penalised logistic regression with "
            "lambda chosen by cross-validation (settings: "
            + (json.dumps(cfg.score.params) if cfg.score.params else "RadScore defaults")
            + f", seed {cfg.random_state}).",
            *formulas,
            "z(x) = (x - training mean) / training SD; the means, SDs and the coefficients in "
            "original feature units are listed in the score coefficient table.",
        ]
        comb = self.model_.combined_model
        clin = self.model_.clinical_model
        out["Clinical and clinical-radiomics models (TRIPOD 10b, 15a)"] = [
            f"Univariate logistic screen of {len(cfg.clinical)} clinical-ultrasound candidates "
            f"({', '.join(cfg.clinical)}) and the scores; predictors with p < "
            f"{cfg.nomogram.screen_p:g} entered the multivariable models "
            f"(clinical: {', '.join(self.screened_['clinical'])}; scores: "
            f"{', '.join(self.screened_['scores'])}).",
            (
                "Logistic models were fitted by Firth's penalised likelihood (Firth 1993; "
                "Heinze & Schemper 2002), with penalised likelihood-ratio tests and profile "
                "penalised-likelihood intervals, as logistf reports them."
                if cfg.nomogram.penalty == "firth"
                else "Logistic models were fitted by maximum likelihood."
            ),
            "Both models were reduced by backward stepwise elimination "
            + (
                f"(Wald p > {cfg.nomogram.p_remove:g} removed, refitting after each removal)."
                if cfg.nomogram.criterion == "p"
                else "(AIC)."
            ),
            f"formula: clinical model logit(p) = {_equation(clin)}",
            f"formula: clinical-radiomics model logit(p) = {_equation(comb)}",
            f"Youden cutoff of the clinical-radiomics model on the training cohort: "
            f"p >= {comb.youden_cutoff_:.4f} (Nomo-score >= {comb.youden_points_cutoff_:.1f} "
            f"points; sensitivity {comb.youden_sensitivity_:.3f}, specificity "
            f"{comb.youden_specificity_:.3f}). The same cutoff is applied to every cohort.",
            *self.notes_,
        ]
        out["Statistics"] = [
            "Table 1: t-test/ANOVA, Mann-Whitney/Kruskal-Wallis, chi-square or Fisher's exact "
            "test (as R t.test(var.equal=TRUE), oneway.test, wilcox.test, kruskal.test, "
            "chisq.test(correct=FALSE), fisher.test). AUC with "
            + ("DeLong" if cfg.nomogram.ci == "delong" else "stratified bootstrap")
            + " 95% CI and DeLong tests (pROC); threshold metrics with Wilson CIs; "
            f"Hosmer-Lemeshow with {cfg.nomogram.hl_groups} requested groups "
            "(ResourceSelection::hoslem.test grouping and df = groups requested - 2; fewer groups "
            "form when predictions tie, as the table's note says); decision curves (Vickers & "
            "Elkin 2006) and clinical impact curves; NRI and IDI (Pencina 2008; "
            "Hmisc::improveProb).",
            *self._bootstrap_methods(),
            f"radiomics_aln {__version__}.",
        ]
        return out

    def _bootstrap_methods(self) -> list[str]:
        n_boot = int(self.config.nomogram.n_boot)
        if n_boot <= 0:
            return []
        text = (
            f"Internal validation of the clinical-radiomics model: Harrell's bootstrap with {n_boot} "
            "resamples of the training cohort (rms validate/calibrate), repeating the backward "
            "elimination in every resample; the radiomics scores were held fixed, so the "
            "optimism of the LASSO step is not included."
        )
        summary = (self.results_ or {}).get("summary", {})
        if "optimism_corrected_auc" in summary:
            text += (
                f" Optimism-corrected C-index {summary['optimism_corrected_auc']:.3f}, "
                f"calibration slope {summary['optimism_corrected_slope']:.3f}."
            )
        return [text]

    def report_content(self) -> dict[str, Any]:
        """Content for :func:`radiomics_aln.report.report` (title, methods, sections)."""
        if not self.results_:
            raise InputError("the study is not evaluated yet; call fit() and evaluate() first")
        cfg = self.config
        t = self.results_["tables"]
        f = self.results_["figures"]
        labels = [cfg.label(c) for c in self.cohorts_]

        def fig_items(prefix):
            return {_caption(k, cfg): v for k, v in f.items() if k.startswith(prefix)}

        delong = t["delong"]
        dl = delong[[c for c in delong.columns if c in (
            "cohort", "model_1", "model_2", "auc_1", "auc_2", "estimate", "z", "p_value",
        )]].rename(columns={"estimate": "difference"})  # fmt: skip
        sections = [
            {"title": "Table 1. Baseline characteristics",
             "tables": {"By cohort": t["table1"],
                        "By outcome within each cohort": t["table1_by_outcome"]}},
            {"title": "Excluded cases",
             "text": "Cases left out of every analysis (failed feature extraction of a test "
                     "case, or the same image as another case with a different outcome).",
             "tables": {"Excluded cases and why": t["excluded_cases"]}
             if len(t.get("excluded_cases", ())) else {}},
            {"title": "Table 2. Univariate and multivariable logistic regression (training)",
             "text": "Multivariable = the clinical-radiomics model (the nomogram).",
             "tables": {"Odds ratios": t["table2"][["predictor", "level", "Univariate OR (95% CI)",
                                                     "Univariate p", "Clinical model OR (95% CI)",
                                                     "Clinical model p", "Multivariable OR (95% CI)",
                                                     "Multivariable p"]]}},
            {"title": "Table 3. Performance (cutoffs from the training cohort)",
             "tables": {"AUC, ACC, SEN, SPE, PPV, NPV": t["table3"],
                        "DeLong comparisons": dl}},
            {"title": "ROC curves", "figures": fig_items("roc_")},
            {"title": "Calibration",
             "tables": {"Hosmer-Lemeshow": t["hosmer_lemeshow"],
                        "Calibration intercept, slope, Brier": t["calibration"]}
             | ({"Bootstrap internal validation (training cohort)": t["bootstrap_validation"]}
                if "bootstrap_validation" in t else {}),
             "figures": fig_items("calibration")},
            {"title": "Nomogram", "figures": fig_items("nomogram"),
             "tables": {"Clinical-radiomics model (nomogram)": self.model_.combined_model.summary,
                        "Clinical model": self.model_.clinical_model.summary,
                        "Backward elimination steps": t["elimination_steps"]}},
            {"title": "Decision and clinical impact curves",
             "figures": fig_items("decision_") | fig_items("clinical_impact_")},
            {"title": "NRI and IDI (clinical-radiomics vs clinical model)",
             "tables": {"Reclassification": t["nri_idi"]}},
            {"title": "Risk groups", "tables": {"Outcome by risk group": t["risk_groups"]},
             "figures": fig_items("risk_groups")},
            {"title": "Feature reproducibility (ICC)", "figures": fig_items("icc")},
            {"title": "Radiomics scores: LASSO path and cross-validation",
             "figures": fig_items("lasso_"),
             "tables": {"Non-zero coefficients": t["score_coefficients"]}},
        ]  # fmt: skip
        sections = [s for s in sections if s.get("figures") or s.get("tables")]
        return {
            "title": cfg.title,
            "subtitle": f"Cohorts: {', '.join(labels)}; endpoint `{cfg.outcome}`",
            "methods": self.methods_text(),
            "sections": sections,
        }

    def report(self, path: str | os.PathLike) -> Path:
        """Write the self-contained HTML report (see :mod:`radiomics_aln.report`)."""
        from radiomics_aln.report import report

        return report(self, path)

    def save(self, directory: str | os.PathLike, *, report: bool = True) -> Path:
        """Write tables (CSV), figures (PNG + SVG), the model (JSON), config and report.

        Layout: ``tables/<name>.csv``, ``figures/<name>.png|.svg``, ``model.json``,
        ``config.yaml``, ``report.html``. Returns the directory.
        """
        self._check_fitted()
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.model_.to_json(out / "model.json")
        self.config.to_yaml(out / "config.yaml")
        if self.results_:
            (out / "tables").mkdir(exist_ok=True)
            (out / "figures").mkdir(exist_ok=True)
            for name, table in self.results_["tables"].items():
                if isinstance(table, pd.DataFrame) and len(table.columns):
                    keep_index = not isinstance(table.index, pd.RangeIndex)
                    table.to_csv(out / "tables" / f"{name}.csv", index=keep_index)
            for name, fig in self.results_["figures"].items():
                fig.savefig(out / "figures" / f"{name}.png", dpi=150, bbox_inches="tight")
                fig.savefig(out / "figures" / f"{name}.svg", bbox_inches="tight")
            if report:
                self.report(out / "report.html")
        return out


def _plot_curve(curve: Any, ax: Any, label: str, bias_corrected: Any = None) -> Any:
    if isinstance(curve, Exception):  # computed in evaluate(); _draw reports it on the panel
        raise curve
    return curve.plot(ax=ax, label=label, bias_corrected=bias_corrected)


def _draw(fn: Callable[[], Any], ax: Any, what: str) -> None:
    """Draw one panel; a panel that cannot be drawn says why instead of stopping the report."""
    try:
        fn()
    except (InputError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        warnings.warn(f"{what} plot not drawn: {message}", StatisticalWarning, stacklevel=3)
        ax.text(0.5, 0.5, f"{what}: not drawn\n{message}", ha="center", va="center",
                wrap=True, fontsize=8, transform=ax.transAxes)  # fmt: skip


def _subplots_pair():
    import matplotlib.pyplot as plt

    return plt.subplots(1, 2, figsize=(10, 4))


def _caption(key: str, cfg: StudyConfig) -> str:
    for prefix, what in (
        ("roc_", "ROC curves"),
        ("decision_", "Decision curves"),
        ("clinical_impact_", "Clinical impact curve of the clinical-radiomics model"),
    ):
        if key.startswith(prefix):
            return f"{what} - {cfg.label(key[len(prefix) :])}"
    if key.startswith("lasso_"):
        roi = key[len("lasso_") :]
        return f"{_ROI_LABELS.get(roi, roi)}: coefficient path (left) and CV deviance (right)"
    return {
        "calibration": "Calibration curves of the clinical-radiomics model (HL p in legend)",
        "nomogram": "Nomogram of the clinical-radiomics model",
        "risk_groups": "Outcome proportion in the low- and high-risk groups",
        "icc": "ICC distribution by ROI and feature class",
    }.get(key, key)


def _equation(model: Any) -> str:
    terms = [f"{model.intercept_:.4f}"]
    for name, b in model.coef_.items():
        terms.append(f"{'+' if b >= 0 else '-'} {abs(b):.4f} x {name}")
    return " ".join(terms)


def _clip(p: Any) -> np.ndarray:
    """Probabilities of exactly 0 or 1 (separated models) kept inside the open interval."""
    eps = 1e-12
    return np.clip(np.asarray(p, dtype=float), eps, 1 - eps)


def _hl_fields(res: Any) -> dict[str, Any]:
    return {
        "statistic": float(res.statistic),
        "df": float(res.df),
        "p_value": float(res.p_value),
        "groups": int(res.n_groups),
        "note": res.note,
    }


def _hl_row(calibration, y, p, groups) -> dict[str, Any]:
    try:
        res = calibration.hosmer_lemeshow(y, _clip(p), n_groups=groups)
    except InputError as exc:  # e.g. a model with two distinct predictions in a small cohort
        return {
            "statistic": np.nan,
            "df": np.nan,
            "p_value": np.nan,
            "groups": np.nan,
            "note": str(exc),
        }
    return _hl_fields(res)


def _calibration_fields(stats: pd.Series) -> dict[str, Any]:
    keep = ("intercept", "slope", "brier", "c_index", "dxy", "r2")
    return {k: float(stats[k]) for k in keep if k in stats.index}


def _calibration_row(calibration, y, p) -> dict[str, Any]:
    try:
        res = calibration.val_prob(y, p)
    except InputError as exc:
        return {"note": str(exc)}
    return _calibration_fields(res)


def _nri_idi_rows(reclassification, cohort, y, probs) -> list[dict[str, Any]]:
    rows = []
    old, new = probs[CLINICAL_MODEL], probs[COMBINED_MODEL]
    n = reclassification.nri(y, old, new)
    for _, r in n.iterrows():
        rows.append({"cohort": cohort} | {k: r[k] for k in n.columns})
    i = reclassification.idi(y, old, new)
    for _, r in i.iterrows():
        rows.append({"cohort": cohort} | {k: r[k] for k in i.columns})
    return rows
