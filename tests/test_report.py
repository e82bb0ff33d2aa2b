"""Tests of radiomics_aln.report: a self-contained HTML file that renders in a real browser.

The browser test drives headless Chromium over the DevTools protocol (``tests/browser.py``): it
loads the report from disk, then checks that every ``<img>`` decoded (``naturalWidth > 0``) and
that no console error, exception or failed/blocked resource load was logged. It skips only when
no Chromium binary exists (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from browser import need_chromium, render_in_chromium

from radiomics_aln.exceptions import InputError
from radiomics_aln.report import figure_to_data_uri, render_html, report


def _content():
    fig1, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 0.2, 1], [0, 0.7, 1], label="model")
    ax.legend()
    fig2, ax2 = plt.subplots(figsize=(4, 3))
    ax2.hist(np.random.default_rng(0).normal(size=200), bins=20)
    table = pd.DataFrame(
        {"AUC": [0.81234, 0.7], "p": ["<0.001", "0.042"]}, index=["Clinical", "Nomogram <&>"]
    )
    return {
        "title": "Test report <script>alert(1)</script>",
        "subtitle": "synthetic",
        "methods": {"Cohorts": ["Training n=100", "formula: score = 1 + 2 * x"]},
        "sections": [
            {"title": "Table 3", "tables": {"Performance": table}, "items": {"cutoff": 0.42}},
            {"title": "Curves", "figures": {"ROC": fig1, "Histogram": ax2}},
        ],
    }


def test_render_escapes_and_embeds(tmp_path):
    page = render_html(_content())
    assert "<script" not in page  # the title's <script> is escaped, and no JS is ever emitted
    assert "&lt;script&gt;" in page
    assert page.count("data:image/png;base64,") == 2
    assert "Nomogram &lt;&amp;&gt;" in page
    assert "0.8123" in page  # floats shown with 4 significant digits
    assert "http://" not in page and "https://" not in page
    assert "Content-Security-Policy" in page
    # navigation lists every section
    for anchor in ('href="#methods"', 'href="#table-3"', 'href="#curves"'):
        assert anchor in page


def test_report_writes_file_and_accepts_study_like(tmp_path):
    class StudyLike:
        def report_content(self):
            return {"title": "From a study", "tables": {"T": pd.DataFrame({"a": [1]})}}

    out = report(StudyLike(), tmp_path / "sub" / "r.html")
    assert out.is_file() and "From a study" in out.read_text()
    assert not (tmp_path / "sub" / "r.html.tmp").exists()


def test_figure_inputs(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    png = tmp_path / "f.png"
    fig.savefig(png)
    svg = tmp_path / "f.svg"
    fig.savefig(svg)
    assert figure_to_data_uri(png).startswith("data:image/png;base64,")
    assert figure_to_data_uri(svg).startswith("data:image/svg+xml;base64,")
    assert figure_to_data_uri(png.read_bytes()).startswith("data:image/png;base64,")


def test_bad_input(tmp_path):
    with pytest.raises(InputError, match="unknown report key"):
        render_html({"title": "x", "tabels": {}})
    with pytest.raises(InputError, match="must be a pandas DataFrame"):
        render_html({"tables": {"T": [1, 2]}})
    with pytest.raises(InputError, match="cannot embed an object of type int"):
        render_html({"figures": {"F": 3}})
    with pytest.raises(InputError, match="does not exist"):
        figure_to_data_uri(tmp_path / "nope.png")
    with pytest.raises(InputError, match="must be .png or .svg"):
        (tmp_path / "a.txt").write_text("x")
        figure_to_data_uri(tmp_path / "a.txt")
    with pytest.raises(InputError, match="not a PNG"):
        figure_to_data_uri(b"GIF89a")
    with pytest.raises(InputError, match="section 0 must be a mapping with a 'title'"):
        render_html({"sections": [{"text": "x"}]})
    with pytest.raises(InputError, match="must be a Study or a mapping"):
        render_html(["x"])


# --------------------------------------------------------------------------- browser test


def test_report_renders_in_chromium(tmp_path):
    need_chromium()
    out = report(_content(), tmp_path / "report.html")
    result = render_in_chromium(out, screenshot=tmp_path / "shot.png")
    assert len(result["images"]) == 2
    for img in result["images"]:
        assert img["complete"] and img["w"] > 0 and img["h"] > 0, img
    assert result["errors"] == []
    assert (tmp_path / "shot.png").stat().st_size > 10_000


def test_browser_check_detects_broken_content(tmp_path):
    """The check can fail: a broken image and an external resource are both caught."""
    need_chromium()
    page = render_html({"title": "x", "figures": {"F": plt.subplots()[0]}})
    page = page.replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1)
    page = page.replace("</body>", '<img src="http://127.0.0.1:9/x.png" alt="net"></body>')
    path = tmp_path / "broken.html"
    path.write_text(page)
    result = render_in_chromium(path)
    assert any(img["w"] == 0 for img in result["images"])
    assert result["errors"], "the CSP violation / broken image must be reported"
