"""The demo report in a real browser: it fits a 1280 px screen and an A4 page (issue 15).

The acceptance test builds the demo study (:func:`radiomics_aln.make_demo_cohort`,
:func:`radiomics_aln.config.demo_config`, :class:`radiomics_aln.study.Study`) with the smallest
settings that still produce every section of its report, renders the report in headless
Chromium (``tests/browser.py``) and checks:

- at 1280 px no table is wider than its container or the body's content box, and the page does
  not scroll horizontally;
- with the print stylesheet, laid out at the printable width of an A4 page (the narrower of A4
  and Letter), no table is wider than the page, so nothing is clipped when printed;
- Chromium prints it to a PDF of several pages; every image decodes; nothing is logged as an
  error.

Screenshots of every section (on screen and in print layout) and the PDF are kept in
``$RADIOMICS_ALN_TEST_ARTIFACTS`` (default ``test-artifacts/report/`` in the repository) for a
look by eye. The checks themselves are shown to fail on a table that cannot fit.

Smaller than the real demo, to run in about a minute instead of several: 60 patients instead of
200 (with Firth's penalty, as ``radiomics-aln demo --n-cases 60 --firth``: the LASSO scores
separate so small a training cohort), PyRadiomics features of the original image only (the
shipped settings without the wavelet and LoG images), and 5 bootstrap resamples so that the
internal-validation table is in the report too.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest
from browser import (
    SCREEN_WIDTH,
    need_chromium,
    open_page,
    pdf_page_count,
    printable_width_px,
    table_overflows,
)

from radiomics_aln._html_tables import PRINT_MARGIN_MM
from radiomics_aln.report import render_html, report

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(
    os.environ.get("RADIOMICS_ALN_TEST_ARTIFACTS", ROOT / "test-artifacts" / "report")
)
A4_WIDTH_PX = printable_width_px("A4", margin_mm=PRINT_MARGIN_MM)


def _demo_study(folder: Path):
    import warnings

    from radiomics_aln.config import demo_config
    from radiomics_aln.datasets import make_demo_cohort
    from radiomics_aln.params import load_params
    from radiomics_aln.study import Study

    manifest = make_demo_cohort(folder / "data", n_cases=60, random_state=0)
    params = load_params("ultrasound_2d")
    params["imageType"] = {"Original": params["imageType"]["Original"]}
    cfg = demo_config(
        manifest_path=str(manifest.path),
        cache_dir=str(folder / "cache"),
        n_jobs=2,
        random_state=0,
        params=params,
    )
    cfg.nomogram.penalty = "firth"
    cfg.nomogram.n_boot = 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small-sample warnings of a deliberately small cohort
        return Study(cfg, progress=False).fit().evaluate()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Build the demo report, render it, measure it, keep screenshots and the PDF."""
    need_chromium()
    start = time.monotonic()
    folder = tmp_path_factory.mktemp("demo_report")
    study = _demo_study(folder)
    path = study.report(folder / "report.html")
    built = time.monotonic() - start
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in [*ARTIFACTS.glob("*.png"), *ARTIFACTS.glob("*.pdf")]:
        old.unlink()
    out = {"sections": [s["title"] for s in study.report_content()["sections"]]}
    with open_page(path, width=SCREEN_WIDTH) as page:
        out["screen_tables"] = page.table_fit()
        out["screen_page"] = page.page_width()
        out["images"] = page.images()
        out["screen_shots"] = page.screenshot_sections(ARTIFACTS, "screen_")
        page.emulate_media("print")
        page.set_viewport(A4_WIDTH_PX)
        out["print_tables"] = page.table_fit()
        out["print_page"] = page.page_width()
        out["print_shots"] = page.screenshot_sections(ARTIFACTS, "print_")
        page.emulate_media("")
        out["pdf"] = page.print_pdf("A4")
        out["errors"] = page.console_errors()
    (ARTIFACTS / "report.pdf").write_bytes(out["pdf"])
    out["seconds"] = (built, time.monotonic() - start - built)
    return out


@pytest.mark.slow
def test_demo_report_fits_1280px_screen(rendered):
    assert len(rendered["screen_tables"]) >= 10  # the report's tables were all measured
    assert table_overflows(rendered["screen_tables"]) == []
    page = rendered["screen_page"]
    assert page["viewport"] == SCREEN_WIDTH
    assert page["scroll_width"] <= SCREEN_WIDTH, "the page scrolls horizontally"


@pytest.mark.slow
def test_demo_report_fits_printed_a4_page(rendered):
    assert len(rendered["print_tables"]) >= 10
    assert table_overflows(rendered["print_tables"]) == []
    assert rendered["print_page"]["scroll_width"] <= A4_WIDTH_PX
    pdf = rendered["pdf"]
    assert pdf.startswith(b"%PDF-")
    assert pdf_page_count(pdf) >= 5
    assert (ARTIFACTS / "report.pdf").stat().st_size == len(pdf)


@pytest.mark.slow
def test_demo_report_images_and_console(rendered):
    assert len(rendered["images"]) >= 10
    for img in rendered["images"]:
        assert img["complete"] and img["w"] > 0 and img["h"] > 0, img
        assert 0 < img["shown_w"] <= SCREEN_WIDTH, img
    assert rendered["errors"] == []


@pytest.mark.slow
def test_demo_report_screenshots_of_every_section(rendered):
    # the header (with the contents), the methods and every section, on screen and in print
    n = 2 + len(rendered["sections"])
    assert len(rendered["screen_shots"]) == len(rendered["print_shots"]) == n
    for shot in rendered["screen_shots"] + rendered["print_shots"]:
        assert shot.is_file() and shot.stat().st_size > 2_000, shot


# --------------------------------------------------------------------------- the checks can fail


def _wide_frame(n_cols: int = 30) -> pd.DataFrame:
    return pd.DataFrame(
        {f"measurement {j}": [0.123456 + j, 12.5 + j] for j in range(n_cols)},
        index=pd.Index(["Clinical model", "Clinical-radiomics model"], name="model"),
    )


def _page(tmp_path: Path, html: str) -> Path:
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    return path


def test_overflow_check_catches_a_table_that_cannot_fit(tmp_path):
    """Raw HTML: a 30-column table whose cells may not wrap, in a 1176 px body."""
    need_chromium()
    cells = "".join(f"<td>value number {j:02d}</td>" for j in range(30))
    html = (
        "<!DOCTYPE html><html><head><style>body { max-width: 1240px; margin: 0 auto; "
        "padding: 0 32px; } td { white-space: nowrap; } .wrap { overflow-x: auto; }</style>"
        "</head><body><section id='s'><div class='wrap'><table><tr>"
        f"{cells}</tr></table></div></section></body></html>"
    )
    with open_page(_page(tmp_path, html)) as page:
        bad = table_overflows(page.table_fit())
        page.emulate_media("print")
        page.set_viewport(A4_WIDTH_PX)
        bad_print = table_overflows(page.table_fit())
    assert len(bad) == 1 and bad[0]["section"] == "s"
    assert any("container" in r for r in bad[0]["reasons"])
    assert len(bad_print) == 1


def test_overflow_check_catches_the_report_without_its_layout(tmp_path):
    """The report's own page with splitting and wrapping disabled overflows on screen and in
    print; the same table laid out by the report fits both."""
    need_chromium()
    content = {"title": "Wide", "tables": {"Thirty measurements": _wide_frame()}}
    good = report(content, tmp_path / "good.html")
    # the same table without layout: one table, no wrapping anywhere
    raw = "".join(f"<th>measurement {j}</th>" for j in range(30))
    row = "".join(f"<td>{0.123456 + j:.4g}</td>" for j in range(30))
    table = (
        f'<div class="tbl"><div class="tablewrap"><table class="data"><thead><tr><th>model</th>'
        f"{raw}</tr></thead><tbody><tr><th>Clinical model</th>{row}</tr></tbody></table></div></div>"
    )
    page_html = render_html({"title": "Wide", "sections": [{"title": "Tables", "text": "x"}]})
    page_html = page_html.replace("</section>", table + "</section>").replace(
        "</style>", "table.data th { white-space: nowrap !important; }</style>"
    )
    bad = _page(tmp_path, page_html)
    results = {}
    for name, path in (("good", good), ("bad", bad)):
        with open_page(path) as page:
            screen = table_overflows(page.table_fit())
            page.emulate_media("print")
            page.set_viewport(A4_WIDTH_PX)
            printed = table_overflows(page.table_fit())
            results[name] = (screen, printed, page.page_width())
    assert results["good"][0] == [] and results["good"][1] == []
    assert len(results["bad"][0]) == 1 and len(results["bad"][1]) == 1
    # in print nothing scrolls: the overflowing table widens the whole page
    assert results["bad"][2]["scroll_width"] > A4_WIDTH_PX
