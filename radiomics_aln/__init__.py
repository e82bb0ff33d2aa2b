"""radiomics_aln: classical ultrasound radiomics for axillary lymph-node metastasis.

The public API is re-exported here by pipeline stage (see ``docs/api.md``); each stage's module
can also be imported on its own, e.g. ``from radiomics_aln.metrics import roc_auc``.
"""

from radiomics_aln._version import __version__
from radiomics_aln.decision import (
    DEFAULT_THRESHOLDS,
    clinical_impact,
    decision_curve,
    plot_clinical_impact,
    plot_decision_curve,
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

__all__ = [
    "__version__",
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
]
