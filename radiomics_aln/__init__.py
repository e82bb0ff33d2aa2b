"""radiomics_aln: classical ultrasound radiomics for axillary lymph-node metastasis.

The public API is re-exported here by pipeline stage (see ``docs/api.md``); each stage's module
can also be imported on its own, e.g. ``from radiomics_aln.metrics import roc_auc``.

Public names are loaded on first use (PEP 562): ``import radiomics_aln`` is quick, and a process
that needs one stage -- such as an extraction worker -- does not import the statistics stack
(scikit-learn, statsmodels, pingouin, matplotlib). ``ra.extract_features`` and ``from
radiomics_aln import Study`` work as usual; the first access imports the stage's module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from radiomics_aln._version import __version__

# The module radiomics_aln.report shares its name with the function ``report``: imported lazily,
# the module would replace the function as this package's attribute. Importing it here (it needs
# only numpy and pandas) keeps ``ra.report`` the function.
from radiomics_aln.report import figure_to_data_uri, render_html, report

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, ``_LAZY`` below
    from radiomics_aln.calibration import (
        CalibrationCurve,
        HosmerLemeshowResult,
        LeCessieResult,
        calibration_curve,
        hosmer_lemeshow,
        le_cessie_van_houwelingen,
        plot_calibration,
        val_prob,
    )
    from radiomics_aln.cases import READERS, REPEAT_READERS, Case, CaseROIs, load_case_rois
    from radiomics_aln.config import (
        DEMO_N_CASES,
        ROI_VARIANTS,
        ICCSettings,
        NomogramSettings,
        ScoreSettings,
        StudyConfig,
        demo_config,
    )
    from radiomics_aln.datasets import DEMO_OUTCOME, demo_generating_model, make_demo_cohort
    from radiomics_aln.decision import (
        DEFAULT_THRESHOLDS,
        clinical_impact,
        decision_curve,
        plot_clinical_impact,
        plot_decision_curve,
    )
    from radiomics_aln.extraction import ExtractionResult, extract_features
    from radiomics_aln.features import ROI_NAMES, read_features, write_features
    from radiomics_aln.icc_filter import ICCFilter
    from radiomics_aln.images import load_image, load_image_with_fov, spacing_source
    from radiomics_aln.manifest import Manifest, read_manifest
    from radiomics_aln.masks import load_mask, plot_rois
    from radiomics_aln.metrics import (
        YoudenThreshold,
        delong_test,
        delong_test_unpaired,
        plot_roc,
        roc_auc,
        roc_curve_table,
        youden_threshold,
    )
    from radiomics_aln.model import StudyModel
    from radiomics_aln.nomogram import LogisticNomogram
    from radiomics_aln.params import available_params, load_params, params_path
    from radiomics_aln.performance import (
        PerformanceTable,
        binomial_ci,
        diagnostic_metrics,
        performance_table,
    )
    from radiomics_aln.reclassification import idi, nri, plot_risk_groups, risk_group_table
    from radiomics_aln.reliability import (
        agreement_class,
        icc,
        icc_comparisons,
        icc_table,
        plot_icc,
    )
    from radiomics_aln.ring import (
        RingCoverage,
        peritumoral_ring,
        ring_coverage,
        ring_rois,
        tumor_peritumoral_region,
    )
    from radiomics_aln.roi_features import extract_roi_features
    from radiomics_aln.score import RadScore
    from radiomics_aln.selection import RedundancyFilter, UnivariateFilter, mutual_information
    from radiomics_aln.study import Study
    from radiomics_aln.tables import baseline_table, format_baseline_table, format_p_value
    from radiomics_aln.univariate import univariate_logistic
    from radiomics_aln.validation import bootstrap_calibrate, bootstrap_validate

__all__ = [
    "__version__",
    # cohort and ROIs
    "Case",
    "Manifest",
    "read_manifest",
    "READERS",
    "REPEAT_READERS",
    "load_image",
    "load_image_with_fov",
    "load_mask",
    "peritumoral_ring",
    "tumor_peritumoral_region",
    "ring_coverage",
    "ring_rois",
    "RingCoverage",
    "spacing_source",
    "load_case_rois",
    "CaseROIs",
    "plot_rois",
    # demo cohort
    "make_demo_cohort",
    "demo_generating_model",
    "DEMO_OUTCOME",
    # features
    "extract_features",
    "extract_roi_features",
    "ExtractionResult",
    "load_params",
    "available_params",
    "params_path",
    "write_features",
    "read_features",
    "ROI_NAMES",
    # reproducibility
    "icc",
    "icc_table",
    "icc_comparisons",
    "ICCFilter",
    "agreement_class",
    "plot_icc",
    # scores
    "RadScore",
    "RedundancyFilter",
    "UnivariateFilter",
    "mutual_information",
    # nomogram and calibration
    "univariate_logistic",
    "LogisticNomogram",
    "hosmer_lemeshow",
    "HosmerLemeshowResult",
    "le_cessie_van_houwelingen",
    "LeCessieResult",
    "val_prob",
    "calibration_curve",
    "CalibrationCurve",
    "plot_calibration",
    "bootstrap_validate",
    "bootstrap_calibrate",
    # evaluation: metrics
    "roc_auc",
    "delong_test",
    "delong_test_unpaired",
    "roc_curve_table",
    "youden_threshold",
    "YoudenThreshold",
    "diagnostic_metrics",
    "binomial_ci",
    "nri",
    "idi",
    "performance_table",
    "PerformanceTable",
    "risk_group_table",
    "plot_roc",
    "plot_risk_groups",
    # evaluation: decision curves
    "decision_curve",
    "clinical_impact",
    "plot_decision_curve",
    "plot_clinical_impact",
    "DEFAULT_THRESHOLDS",
    # the whole study
    "Study",
    "StudyConfig",
    "StudyModel",
    "ICCSettings",
    "ScoreSettings",
    "NomogramSettings",
    "demo_config",
    "DEMO_N_CASES",
    "ROI_VARIANTS",
    "baseline_table",
    "format_baseline_table",
    "format_p_value",
    "report",
    "render_html",
    "figure_to_data_uri",
]

# public name -> module of radiomics_aln that defines it, for every public name not imported above
# (tests/test_package.py checks this against the TYPE_CHECKING imports and __all__)
_LAZY: dict[str, str] = {
    "CalibrationCurve": "calibration",
    "HosmerLemeshowResult": "calibration",
    "LeCessieResult": "calibration",
    "calibration_curve": "calibration",
    "hosmer_lemeshow": "calibration",
    "le_cessie_van_houwelingen": "calibration",
    "plot_calibration": "calibration",
    "val_prob": "calibration",
    "READERS": "cases",
    "REPEAT_READERS": "cases",
    "Case": "cases",
    "Manifest": "manifest",
    "read_manifest": "manifest",
    "DEMO_OUTCOME": "datasets",
    "demo_generating_model": "datasets",
    "make_demo_cohort": "datasets",
    "DEFAULT_THRESHOLDS": "decision",
    "clinical_impact": "decision",
    "decision_curve": "decision",
    "plot_clinical_impact": "decision",
    "plot_decision_curve": "decision",
    "ROI_NAMES": "features",
    "ExtractionResult": "extraction",
    "available_params": "params",
    "extract_features": "extraction",
    "extract_roi_features": "roi_features",
    "load_params": "params",
    "params_path": "params",
    "read_features": "features",
    "write_features": "features",
    "PerformanceTable": "performance",
    "YoudenThreshold": "metrics",
    "binomial_ci": "performance",
    "delong_test": "metrics",
    "delong_test_unpaired": "metrics",
    "diagnostic_metrics": "performance",
    "idi": "reclassification",
    "nri": "reclassification",
    "performance_table": "performance",
    "plot_risk_groups": "reclassification",
    "plot_roc": "metrics",
    "risk_group_table": "reclassification",
    "roc_auc": "metrics",
    "roc_curve_table": "metrics",
    "youden_threshold": "metrics",
    "LogisticNomogram": "nomogram",
    "ICCFilter": "icc_filter",
    "agreement_class": "reliability",
    "icc": "reliability",
    "icc_comparisons": "reliability",
    "icc_table": "reliability",
    "plot_icc": "reliability",
    "CaseROIs": "cases",
    "RingCoverage": "ring",
    "load_case_rois": "cases",
    "load_image": "images",
    "load_image_with_fov": "images",
    "load_mask": "masks",
    "peritumoral_ring": "ring",
    "plot_rois": "masks",
    "ring_coverage": "ring",
    "ring_rois": "ring",
    "spacing_source": "images",
    "tumor_peritumoral_region": "ring",
    "RadScore": "score",
    "RedundancyFilter": "selection",
    "UnivariateFilter": "selection",
    "mutual_information": "selection",
    "DEMO_N_CASES": "config",
    "ROI_VARIANTS": "config",
    "ICCSettings": "config",
    "NomogramSettings": "config",
    "ScoreSettings": "config",
    "Study": "study",
    "StudyConfig": "config",
    "StudyModel": "model",
    "demo_config": "config",
    "baseline_table": "tables",
    "format_baseline_table": "tables",
    "format_p_value": "tables",
    "univariate_logistic": "univariate",
    "bootstrap_calibrate": "validation",
    "bootstrap_validate": "validation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'radiomics_aln' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"radiomics_aln.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
