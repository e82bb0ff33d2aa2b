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

import radiomics_aln._html_tables as T
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


def test_generic_table_cells_use_the_package_number_format():
    # a table without a text view of its own: no exponent for ordinary magnitudes (".4g" gave
    # 1.235e+04 and 1.2e-05), the whole part never rounded off, p-values as journals print them
    df = pd.DataFrame({
        "feature": ["a", "b", "c"],
        "mean": [12345.678, 0.00012, 1.2e-05],
        "p_value": [4.7e-16, 0.04213, 0.99996],
        "p (adj., Holm)": [0.0004, 0.5, 1.0],
    })  # fmt: skip
    page = render_html({"title": "T", "tables": {"Features": df}})
    for text in ("12346", "0.00012", "0.000012", "&lt; 0.001", "0.0421", "&gt; 0.999", "0.500"):
        assert f">{text}</td>" in page, text
    assert "e+0" not in page and "e-0" not in page and "e-1" not in page
    grid = T.grid_from_frame(df)
    assert [c.text for c in grid.body[0]] == ["a", "12346", "< 0.001", "< 0.001"]
    assert all(c.numeric for row in grid.body for c in row[1:])  # still right-aligned


def test_a_table_may_carry_its_note():
    # (DataFrame, note): the note is printed (escaped) right under its table
    df = pd.DataFrame({"SEN (95% CI)": ["0.900 (0.800\u20130.950)"]})
    page = render_html({"title": "T", "tables": {"Table 3": (df, "SEN: sensitivity <Wilson>"),
                                                 "Plain": df}})  # fmt: skip
    assert page.count('class="tablenote"') == 1
    assert '<p class="tablenote">SEN: sensitivity &lt;Wilson&gt;</p>' in page
    assert page.index("0.900 (0.800") < page.index("tablenote\">SEN")


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


# --------------------------------------------------------------------------- table layout (no browser)


def _numeric_frame(n_rows: int = 12, n_cols: int = 30, *, keys: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.uniform(0, 1, (n_rows, n_cols)), columns=[f"m{j}" for j in range(n_cols)])
    if keys:
        df.insert(0, "cohort", [f"cohort {i % 3}" for i in range(n_rows)])
        df.insert(1, "model", [f"model {i}" for i in range(n_rows)])
    return df


def _cells(piece):
    """{(row, column label): text} of a part's non-key cells."""
    g = piece.grid
    return {
        (i, g.header[j][1]): row[j].text
        for i, row in enumerate(g.body)
        for j in range(g.n_keys, g.n_cols)
    }


@pytest.mark.parametrize("medium", [T.SCREEN, T.PRINT], ids=["screen", "print"])
def test_wide_table_is_split_into_parts_within_budget(medium):
    df = _numeric_frame()
    grid = T.grid_from_frame(df)
    assert grid.n_keys == 2  # the leading label columns identify the rows
    assert sum(w for w, _ in T.column_widths(grid, medium)) > medium.budget_px
    pieces = T.layout(grid, medium)
    n = len(pieces)
    assert n >= 2
    assert [p.note for p in pieces] == [f"part {i + 1} of {n}" for i in range(n)]
    seen: dict = {}
    for piece in pieces:
        assert sum(w for w, _ in T.column_widths(piece.grid, medium)) <= medium.budget_px
        # every part repeats the key columns, row by row
        assert piece.grid.n_keys == 2
        assert [lab for _, lab in piece.grid.header[:2]] == ["cohort", "model"]
        assert [[c.text for c in r[:2]] for r in piece.grid.body] == df[
            ["cohort", "model"]
        ].values.tolist()
        cells = _cells(piece)
        assert not set(cells) & set(seen), "a cell appears in two parts"
        seen |= cells
    expected = {
        (i, col): T.format_cell(df[col].iloc[i]) for i in range(len(df)) for col in df.columns[2:]
    }
    assert seen == expected  # every original cell exactly once, columns in their order
    order = [lab for p in pieces for _, lab in p.grid.header[2:]]
    assert order == list(df.columns[2:])
    # the parts are balanced (no part has fewer than half the columns of the widest) and
    # no more than needed: the data columns of any two neighbours would not fit in one part
    sizes = [p.grid.n_cols - 2 for p in pieces]
    assert min(sizes) >= max(sizes) / 2
    widths = [sum(w for w, _ in T.column_widths(p.grid, medium)) for p in pieces]
    keys = sum(w for w, _ in T.column_widths(pieces[0].grid, medium)[:2])
    assert all(a + b - keys > medium.budget_px for a, b in zip(widths, widths[1:], strict=False))


def test_narrow_table_is_untouched():
    df = _numeric_frame(n_cols=4)
    for medium in (T.SCREEN, T.PRINT):
        (piece,) = T.layout(T.grid_from_frame(df), medium)
        assert piece.note == "" and piece.grid.n_cols == 6
    html = T.table_html(df, "Caption")
    assert html.count("<table") == 1 and "part 1" not in html and "only-print" not in html


def test_table_without_key_columns_gets_row_numbers_when_split():
    df = _numeric_frame(keys=False)
    pieces = T.layout(T.grid_from_frame(df), T.PRINT)
    assert len(pieces) >= 2
    for piece in pieces:
        assert piece.grid.header[0] == (None, "#")
        assert [r[0].text for r in piece.grid.body] == [str(i + 1) for i in range(len(df))]


def test_few_rows_many_columns_are_transposed():
    df = _numeric_frame(n_rows=2).set_index(["cohort", "model"])
    (piece,) = T.layout(T.grid_from_frame(df), T.SCREEN)
    assert piece.note == "transposed"
    g = piece.grid
    assert [lab for _, lab in g.header] == ["cohort / model", "cohort 0 / model 0", "cohort 1 / model 1"]
    assert [r[0].text for r in g.body] == list(df.columns)
    assert g.body[3][2].text == T.format_cell(df.iloc[1, 3])


def test_long_text_wraps_instead_of_widening_or_splitting():
    reason = "the tumour mask of reader 1 has no pixel inside the image after resampling " * 3
    df = pd.DataFrame({"case_id": ["P001", "P002"], "cohort": ["internal", "external"],
                       "reason": [reason, "duplicate image"]})  # fmt: skip
    grid = T.grid_from_frame(df)
    (piece,) = T.layout(grid, T.PRINT)
    assert piece.note == "" and piece.grid.wrap == frozenset({2})
    html = T.table_html(df)
    assert html.count("<table") == 1 and '<td class="wrap">' in html
    # a long word without spaces may break after "_"
    long_name = "ln__original_glszm_LargeAreaHighGrayLevelEmphasis " * 2
    html = T.table_html(pd.DataFrame({"a": ["x", "y"], "feature": [long_name, "z"]}))
    assert "original_<wbr>glszm_<wbr>" in html


def test_label_columns_and_column_groups():
    df = pd.DataFrame({
        "predictor": ["age", "grade", "grade"], "level": ["", "2", "3"],
        "Training: OR": ["1.1 (1.0-1.2)"] * 3, "Training: p": ["0.01"] * 3,
        "Test: OR": ["1.2 (1.0-1.3)"] * 3, "Test: p": ["<0.001"] * 3,
    })  # fmt: skip
    grid = T.grid_from_frame(df)
    assert grid.n_keys == 2  # "level" holds labels even though some read as numbers
    assert grid.header[2:] == (("Training", "OR"), ("Training", "p"), ("Test", "OR"), ("Test", "p"))
    assert grid.body[0][2].numeric and not grid.body[1][1].numeric
    html = T.table_html(df)
    assert '<th scope="colgroup" colspan="2" class="group">Training</th>' in html
    # a split never separates a group that fits in one part
    narrow = T.Medium("narrow", budget_px=200, font_px=10.5, pad_px=8)
    parts = T.layout(grid, narrow)
    assert [[g for g, _ in p.grid.header[2:]] for p in parts] == [["Training"] * 2, ["Test"] * 2]


def test_table_html_writes_screen_and_print_layouts_when_they_differ():
    df = _numeric_frame(n_cols=14)
    assert len(T.layout(T.grid_from_frame(df), T.SCREEN)) == 1
    assert len(T.layout(T.grid_from_frame(df), T.PRINT)) >= 2
    html = T.table_html(df, "Wide")
    assert html.count("only-screen") == 1
    assert html.count("only-print") >= 2 and "(part 1 of" in html


def test_captions_label_and_figures_pair_up():
    fig1, _ = plt.subplots(figsize=(4, 3))
    fig2, _ = plt.subplots(figsize=(4, 3))
    page = render_html({
        "title": "x",
        "sections": [{"title": "Curves", "figures": {"Figure 2. ROC - Training": fig1,
                                                      "Figure 3. ROC - Test": fig2}},
                     {"title": "T", "tables": {"Table 4. AUC": pd.DataFrame({"a": [1]})}}],
    })  # fmt: skip
    assert '<span class="label">Figure 2.</span> ROC - Training</figcaption>' in page
    assert '<span class="label">Table 4.</span> AUC</div>' in page
    assert page.count('<figure class="half">') == 2 and 'width="' in page
    assert "@media print" in page and "@page" in page


def test_a_column_wider_than_the_page_gets_a_part_of_its_own():
    df = pd.DataFrame({"model": ["a", "b"], "x": [0.5, 0.25], "y": [1.5, 2.5],
                       "huge": [1.23456789e300, 2.0], "z": [3.5, 4.5]})  # fmt: skip
    tiny = T.Medium("tiny", budget_px=100, font_px=10.5, pad_px=8)
    parts = T.layout(T.grid_from_frame(df), tiny)
    assert [[lab for _, lab in p.grid.header] for p in parts] == [
        ["model", "x", "y"], ["model", "huge"], ["model", "z"]
    ]
