"""Tests of radiomics_aln.study_figures: figure numbers and cross-references in captions."""

from __future__ import annotations

from radiomics_aln.study_figures import PAGE_WIDTH_IN, numbered


def test_numbers_follow_the_given_order_and_resolve_references():
    out = numbered(
        [
            ("roc_train", "ROC curves. Every threshold: {fig:decision_full}."),
            ("calibration", "Calibration. ROC in {fig:roc_train}."),
            ("decision_full", "Decision curves at every threshold."),
        ]
    )
    assert list(out) == ["roc_train", "calibration", "decision_full"]
    assert out["roc_train"] == "Figure 1. ROC curves. Every threshold: Figure 3."
    assert out["calibration"] == "Figure 2. Calibration. ROC in Figure 1."


def test_a_reference_to_a_figure_not_in_the_report_names_the_appendix():
    out = numbered([("a", "See {fig:missing}.")])
    assert out["a"] == "Figure 1. See the appendix."
    assert numbered([]) == {}
    assert 8 <= PAGE_WIDTH_IN <= 12  # legible at page width (1100 px at 110 dpi)
