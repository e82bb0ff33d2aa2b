"""Result objects, fitted models and a Study display as tidy HTML in Jupyter (issue 15).

Each ``_repr_html_`` is a small self-contained fragment: a heading, the object's ``summary``
table (numbers to 4 significant digits), escaped text, no script.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiomics_aln._display import html_block
from radiomics_aln.calibration import (
    calibration_curve,
    hosmer_lemeshow,
    le_cessie_van_houwelingen,
)
from radiomics_aln.extraction import ExtractionResult
from radiomics_aln.icc_filter import ICCFilter
from radiomics_aln.metrics import youden_threshold
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.score import RadScore


@pytest.fixture(scope="module")
def yp():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 200)
    return (rng.random(200) < p).astype(int), p


def _features(n=60, seed=0):
    rng = np.random.default_rng(seed)
    cols = [f"tumor__original_firstorder_F{i}" for i in range(4)]
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=cols,
                     index=pd.Index([f"c{i:02d}" for i in range(n)], name="case_id"))  # fmt: skip
    y = (X.iloc[:, 0] - X.iloc[:, 1] + rng.normal(size=n) > 0).astype(int)
    return X, y


def _objects(yp):
    y, p = yp
    X, yy = _features()
    rng = np.random.default_rng(1)
    repeats = {r: X.iloc[:20] + rng.normal(scale=0.1, size=(20, 4)) for r in ("reader2", "repeat")}
    data = X.assign(y=yy)
    failures = pd.DataFrame([{"case_id": "c01", "roi": "tumor", "reader": "reader1",
                              "file": "a<b>.png", "error": "empty mask"}])  # fmt: skip
    return {
        "HosmerLemeshowResult": hosmer_lemeshow(y, p),
        "LeCessieResult": le_cessie_van_houwelingen(y, p),
        "CalibrationCurve": calibration_curve(y, p),
        "YoudenThreshold": youden_threshold(y, p),
        "ICCFilter": ICCFilter().fit(X, repeats=repeats),
        "RadScore": RadScore(name="tumor_score", random_state=0, cv=3).fit(X, yy),
        "LogisticNomogram": LogisticNomogram(selection=None).fit(data, "y", list(X.columns[:2])),
        "ExtractionResult": ExtractionResult(X, pd.DataFrame(index=X.index), failures),
    }


def test_each_result_object_shows_its_summary_as_html(yp):
    for name, obj in _objects(yp).items():
        text = obj._repr_html_()
        assert text.startswith('<div class="radiomics-aln"'), name
        assert f">{name}</h4>" in text, name
        assert "<script" not in text.lower(), name
        summary = obj.summary
        # the summary's columns, its first row's label and values are in the table
        for col in summary.columns[:5]:
            assert f"<th>{col}</th>" in text, (name, col)
        first = summary.index[0]
        label = first[-1] if isinstance(first, tuple) else first
        assert f"<th>{label}</th>" in text, (name, label)
        for value in summary.iloc[0, :5]:
            if isinstance(value, float) and np.isfinite(value):
                assert f"<td>{value:.4g}</td>" in text, (name, value)


def test_summary_values_appear_rounded_not_hidden(yp):
    res = hosmer_lemeshow(*yp)
    text = res._repr_html_()
    assert f"{res.statistic:.4g}" in text and f"{res.p_value:.4g}" in text


def test_long_summaries_are_cut_and_unfitted_estimators_say_so():
    rng = np.random.default_rng(0)
    cols = [f"tumor__original_firstorder_F{i:03d}" for i in range(50)]
    X = pd.DataFrame(rng.normal(size=(20, 50)), columns=cols)
    reps = {"reader2": X + rng.normal(scale=0.05, size=X.shape)}
    text = ICCFilter().fit(X, repeats=reps)._repr_html_()
    assert text.count("<tr") < 30 and "..." in text  # 50 rows shown as head and tail
    text = RadScore(name="tumor_score")._repr_html_()
    assert ">RadScore</h4>" in text and "No summary:" in text and "not fitted" in text


def test_text_is_escaped():
    table = pd.DataFrame({"x<script>": [1.23456789]}, index=["<b>case</b>"])
    text = html_block("A & B", subtitle="<i>", facts={"k<": "v>"}, tables=[("t<", table)],
                      note="n&")  # fmt: skip
    assert "<script>" not in text and "<b>case</b>" not in text
    for escaped in ("A &amp; B", "&lt;i&gt;", "k&lt;", "v&gt;", "t&lt;", "n&amp;", "1.235"):
        assert escaped in text, escaped


def test_extraction_result_summary(yp):
    res = _objects(yp)["ExtractionResult"]
    row = res.summary.loc[("reader1", "tumor")]
    assert row.to_dict() == {"n_cases": 60, "n_features": 4, "n_failed": 1, "n_nonfinite": 0}
    assert "a<b>.png" not in res._repr_html_()
