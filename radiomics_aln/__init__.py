"""radiomics_aln: classical ultrasound radiomics for axillary lymph-node metastasis.

The top-level namespace holds the names a user calls in a notebook, in pipeline order (listed on
one page in ``docs/api.md``). Everything else public lives in its stage's module, e.g. ``from
radiomics_aln.ring import ring_rois`` or ``from radiomics_aln.metrics import youden_threshold``;
``docs/api.md`` lists every module's names too. Exception and warning classes live in
``radiomics_aln.exceptions`` (also reachable as ``ra.exceptions``), as scikit-learn's do.

Public names are loaded on first use (PEP 562): ``import radiomics_aln`` is quick, and a process
that needs one stage -- such as an extraction worker -- does not import the statistics stack
(scikit-learn, scipy.stats, matplotlib). ``ra.extract_features`` and ``from radiomics_aln import
Study`` work as usual; the first access imports the stage's module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# ``ra.exceptions.InputError`` works without a second import (like sklearn.exceptions)
from radiomics_aln import exceptions as exceptions
from radiomics_aln._version import __version__

# The module radiomics_aln.report shares its name with the function ``report``: imported lazily,
# the module would replace the function as this package's attribute. Importing it here (it needs
# only numpy and pandas) keeps ``ra.report`` the function.
from radiomics_aln.report import report

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, ``_LAZY`` below
    from radiomics_aln.calibration import (
        calibration_curve,
        hosmer_lemeshow,
        plot_calibration,
        val_prob,
    )
    from radiomics_aln.cases import Case, load_case_rois
    from radiomics_aln.config import StudyConfig, demo_config
    from radiomics_aln.datasets import make_demo_cohort
    from radiomics_aln.decision import clinical_impact, decision_curve, plot_decision_curve
    from radiomics_aln.extraction import extract_features
    from radiomics_aln.features import read_features, write_features
    from radiomics_aln.folder_dataset import manifest_from_folder
    from radiomics_aln.icc_filter import ICCFilter
    from radiomics_aln.images import load_image
    from radiomics_aln.manifest import Manifest, read_manifest
    from radiomics_aln.masks import load_mask, plot_rois
    from radiomics_aln.metrics import delong_test, plot_roc, roc_auc
    from radiomics_aln.model import StudyModel
    from radiomics_aln.nomogram import LogisticNomogram
    from radiomics_aln.params import load_params
    from radiomics_aln.performance import diagnostic_metrics, performance_table
    from radiomics_aln.pipeline_validation import validate_pipeline
    from radiomics_aln.reclassification import idi, nri
    from radiomics_aln.reliability import icc, icc_table
    from radiomics_aln.ring import peritumoral_ring
    from radiomics_aln.score import RadScore
    from radiomics_aln.splits import split_cohort
    from radiomics_aln.study import Study
    from radiomics_aln.tables import baseline_table
    from radiomics_aln.univariate import univariate_logistic
    from radiomics_aln.validation import bootstrap_calibrate, bootstrap_validate

__all__ = [
    "__version__",
    # cohort and ROIs
    "Manifest",
    "read_manifest",
    "manifest_from_folder",
    "split_cohort",
    "Case",
    "load_case_rois",
    "load_image",
    "load_mask",
    "plot_rois",
    "peritumoral_ring",
    "make_demo_cohort",
    # features
    "load_params",
    "extract_features",
    "read_features",
    "write_features",
    # reproducibility
    "icc",
    "icc_table",
    "ICCFilter",
    # scores
    "RadScore",
    # nomogram, calibration and validation
    "univariate_logistic",
    "LogisticNomogram",
    "calibration_curve",
    "hosmer_lemeshow",
    "plot_calibration",
    "val_prob",
    "bootstrap_calibrate",
    "bootstrap_validate",
    "validate_pipeline",
    # evaluation
    "delong_test",
    "plot_roc",
    "roc_auc",
    "diagnostic_metrics",
    "performance_table",
    "idi",
    "nri",
    "clinical_impact",
    "decision_curve",
    "plot_decision_curve",
    # tables and the whole study
    "baseline_table",
    "Study",
    "StudyConfig",
    "StudyModel",
    "demo_config",
    "report",
]

# public name -> module of radiomics_aln that defines it, for every public name not imported above
# (tests/test_package.py checks this against the TYPE_CHECKING imports and __all__)
_LAZY: dict[str, str] = {
    "Manifest": "manifest",
    "read_manifest": "manifest",
    "manifest_from_folder": "folder_dataset",
    "split_cohort": "splits",
    "Case": "cases",
    "load_case_rois": "cases",
    "load_image": "images",
    "load_mask": "masks",
    "plot_rois": "masks",
    "peritumoral_ring": "ring",
    "make_demo_cohort": "datasets",
    "load_params": "params",
    "extract_features": "extraction",
    "read_features": "features",
    "write_features": "features",
    "icc": "reliability",
    "icc_table": "reliability",
    "ICCFilter": "icc_filter",
    "RadScore": "score",
    "univariate_logistic": "univariate",
    "LogisticNomogram": "nomogram",
    "calibration_curve": "calibration",
    "hosmer_lemeshow": "calibration",
    "plot_calibration": "calibration",
    "val_prob": "calibration",
    "bootstrap_calibrate": "validation",
    "bootstrap_validate": "validation",
    "validate_pipeline": "pipeline_validation",
    "delong_test": "metrics",
    "plot_roc": "metrics",
    "roc_auc": "metrics",
    "diagnostic_metrics": "performance",
    "performance_table": "performance",
    "idi": "reclassification",
    "nri": "reclassification",
    "clinical_impact": "decision",
    "decision_curve": "decision",
    "plot_decision_curve": "decision",
    "baseline_table": "tables",
    "Study": "study",
    "StudyConfig": "config",
    "StudyModel": "model",
    "demo_config": "config",
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
