"""radiomics_aln: classical ultrasound radiomics for axillary lymph-node metastasis.

The public API is re-exported here by pipeline stage (see ``docs/api.md``); each stage's module
can also be imported on its own, e.g. ``from radiomics_aln.metrics import roc_auc``.
"""

from radiomics_aln._version import __version__
from radiomics_aln.calibration import (
    CalibrationCurve,
    HosmerLemeshowResult,
    LeCessieResult,
    bootstrap_calibrate,
    bootstrap_validate,
    calibration_curve,
    hosmer_lemeshow,
    le_cessie_van_houwelingen,
    plot_calibration,
    val_prob,
)
from radiomics_aln.cohort import READERS, REPEAT_READERS, Case, Manifest, read_manifest
from radiomics_aln.datasets import DEMO_OUTCOME, demo_generating_model, make_demo_cohort
from radiomics_aln.decision import (
    DEFAULT_THRESHOLDS,
    clinical_impact,
    decision_curve,
    plot_clinical_impact,
    plot_decision_curve,
)
from radiomics_aln.extraction import (
    ROI_NAMES,
    ExtractionResult,
    available_params,
    extract_features,
    extract_roi_features,
    load_params,
    params_path,
    read_features,
    write_features,
)
from radiomics_aln.metrics import (
    PerformanceTable,
    YoudenThreshold,
    binomial_ci,
    delong_test,
    delong_test_unpaired,
    diagnostic_metrics,
    idi,
    nri,
    performance_table,
    plot_risk_groups,
    plot_roc,
    risk_group_table,
    roc_auc,
    roc_curve_table,
    youden_threshold,
)
from radiomics_aln.nomogram import LogisticNomogram, univariate_logistic
from radiomics_aln.reliability import (
    ICCFilter,
    agreement_class,
    icc,
    icc_comparisons,
    icc_table,
    plot_icc,
)
from radiomics_aln.report import figure_to_data_uri, render_html, report
from radiomics_aln.roi import (
    CaseROIs,
    RingCoverage,
    load_case_rois,
    load_image,
    load_mask,
    peritumoral_ring,
    plot_rois,
    ring_coverage,
    spacing_source,
    tumor_peritumoral_region,
)
from radiomics_aln.score import RadScore
from radiomics_aln.selection import RedundancyFilter, UnivariateFilter, mutual_information
from radiomics_aln.study import (
    DEMO_N_CASES,
    ROI_VARIANTS,
    ICCSettings,
    NomogramSettings,
    ScoreSettings,
    Study,
    StudyConfig,
    StudyModel,
    demo_config,
)
from radiomics_aln.tables import baseline_table, format_baseline_table, format_p_value

__all__ = [
    "__version__",
    # cohort and ROIs
    "Case",
    "Manifest",
    "read_manifest",
    "READERS",
    "REPEAT_READERS",
    "load_image",
    "load_mask",
    "peritumoral_ring",
    "tumor_peritumoral_region",
    "ring_coverage",
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
