"""A self-contained HTML report of a study: methods, tables and figures in one file.

The report is one HTML file with everything inside it: CSS inline, figures embedded as
base64 PNG data URIs, no JavaScript and no external resource of any kind. A Content-Security-
Policy in the page forbids network access, so it opens identically offline, in an e-mail
attachment or in a journal's submission system, and cannot leak data when opened.

:func:`report` accepts either a fitted and evaluated :class:`radiomics_aln.study.Study` (it
calls its ``report_content()``) or a plain dictionary, so a report can be built from any results::

    {
        "title": "ALN metastasis nomogram",
        "subtitle": "optional line under the title",
        "methods": {"Cohorts": ["paragraph", ...], "Features": "paragraph"},  # or str / list
        "sections": [
            {
                "title": "Table 1. Baseline characteristics",
                "text": "optional paragraph(s)",
                "tables": {"caption": DataFrame or (DataFrame, "note under it"), ...},
                "figures": {"caption": matplotlib Figure, ...},
            },
            ...,
        ],
        "tables": {"caption": DataFrame},  # shorthand: one "Tables" section
        "figures": {"caption": Figure},  # shorthand: one "Figures" section
    }
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from radiomics_aln._html_tables import (
    PRINT,
    PRINT_MARGIN_MM,
    SCREEN,
    SCREEN_MAX_WIDTH_PX,
    SCREEN_PADDING_PX,
    format_cell,
    table_html,
)
from radiomics_aln._version import __version__
from radiomics_aln.exceptions import InputError

__all__ = ["report", "render_html", "figure_to_data_uri"]

logger = logging.getLogger(__name__)

# No scripts, no network: images only from data: URIs, styles only inline.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

# Layout numbers shared with the table layout (radiomics_aln._html_tables): the screen's body
# width and padding, the printed page's margins and the tables' font sizes on each medium.
_CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --rule: #d9e2ec; --accent: #1f5f8b; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
       max-width: @BODY_MAX@px; margin: 0 auto; padding: 24px @BODY_PAD@px 64px;
       line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.1em; }
h2 { font-size: 1.3em; border-bottom: 2px solid var(--rule); padding-bottom: 4px;
     margin-top: 2.2em; color: var(--accent); }
h3 { font-size: 1.05em; margin-top: 1.4em; }
p { max-width: 62em; }
.subtitle { color: var(--muted); margin-top: 0; }
nav { background: #f5f7fa; border: 1px solid var(--rule); padding: 10px 18px; margin: 18px 0; }
nav ol { margin: 4px 0; padding-left: 20px; columns: 2; }
nav a { color: var(--accent); text-decoration: none; }
.tbl { margin: 0 0 18px; }
.caption { font-weight: 600; margin: 14px 0 4px; }
.caption .note { font-weight: normal; color: var(--muted); }
.label { font-weight: 700; }
/* Tables are laid out to fit (wrapped, split or transposed); scrolling is only a safety net. */
.tablewrap { overflow-x: auto; }
.only-print { display: none; }
table.data { border-collapse: collapse; font-size: @SCREEN_FONT@px; margin: 0; }
table.data th, table.data td { padding: 3px 7px; border-bottom: 1px solid var(--rule);
                               text-align: left; white-space: nowrap; vertical-align: top; }
table.data thead th { background: #f0f4f8; text-align: center; vertical-align: bottom;
                      white-space: normal; }
table.data thead th.group { border-bottom: 1px solid #bcccdc; }
table.data tbody th { text-align: left; background: none; font-weight: normal; }
table.data .num { text-align: right; font-variant-numeric: tabular-nums; }
table.data .wrap { white-space: normal; overflow-wrap: break-word; min-width: 10em; }
.figs { display: flex; flex-wrap: wrap; gap: 0 24px; align-items: flex-start; }
figure { margin: 14px 0 22px; max-width: 100%; }
figure.half { flex: 0 1 calc(50% - 12px); }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { font-size: 0.9em; margin-top: 6px; width: 0; min-width: 100%; }
.tablenote { color: var(--muted); font-size: 0.85em; margin: -10px 0 18px; max-width: 100ch; }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dl.kv dt { font-weight: 600; } dl.kv dd { margin: 0; }
code, .formula { font-family: "SFMono-Regular", Consolas, monospace; font-size: 0.88em;
                 background: #f5f7fa; padding: 1px 4px; }
.formula { display: block; padding: 6px 10px; white-space: pre-wrap; word-break: break-word; }
footer { margin-top: 48px; color: var(--muted); font-size: 0.85em;
         border-top: 1px solid var(--rule); padding-top: 8px; }
@page { size: portrait; margin: @PAGE_MARGIN@mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; line-height: 1.35; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  nav { display: none; }
  h1 { font-size: 16pt; }
  h2 { font-size: 13pt; margin-top: 1.4em; break-after: avoid; }
  .lead { break-inside: avoid; break-after: avoid; }
  h3 { font-size: 10.5pt; break-after: avoid; }
  p { max-width: none; orphans: 3; widows: 3; }
  .only-screen { display: none; }
  .only-print { display: block; }
  .tablewrap { overflow: visible; }
  .caption { break-after: avoid; }
  .tbl.keep { break-inside: avoid; }
  table.data { font-size: @PRINT_FONT@px; }
  table.data th, table.data td { padding: 1px 4px; }
  table.data thead { display: table-header-group; }
  table.data tr { break-inside: avoid; }
  .figs { display: block; }
  figure, figure.half { break-inside: avoid; margin: 8px 0 14px; }
  figure img { width: auto; max-width: 100%; max-height: 190mm; }
  figure.half img { max-height: 100mm; }  /* two of a series on a page */
  .formula { break-inside: avoid; }
  footer { margin-top: 18px; }
}
"""
for _token, _value in {
    "@BODY_MAX@": SCREEN_MAX_WIDTH_PX,
    "@BODY_PAD@": SCREEN_PADDING_PX,
    "@SCREEN_FONT@": SCREEN.font_px,
    "@PRINT_FONT@": PRINT.font_px,
    "@PAGE_MARGIN@": PRINT_MARGIN_MM,
}.items():
    _CSS = _CSS.replace(_token, f"{_value:g}")

# "Figure 2." / "Table 1." at the start of a caption is set in bold.
_CAPTION_LABEL = re.compile(r"^((?:Supplementary\s+)?(?:Figure|Fig\.|Table)\s+S?\d+[A-Za-z]?[.:])\s+")


def figure_to_data_uri(figure: Any, *, dpi: int = 110) -> str:
    """Encode a figure as a ``data:image/png;base64,...`` URI.

    Parameters
    ----------
    figure : matplotlib Figure, matplotlib Axes, bytes or path
        A figure (an Axes stands for its figure), PNG bytes, or the path of a PNG or SVG file.
    dpi : int, default 110
        Resolution of rendered matplotlib figures.

    Returns
    -------
    str
        The data URI, usable as the ``src`` of an ``<img>``.

    Raises
    ------
    InputError
        An object that is not a figure, or a file that is not PNG/SVG.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(2, 2))
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> figure_to_data_uri(fig)[:22]
    'data:image/png;base64,'
    """
    if hasattr(figure, "savefig"):
        buf = io.BytesIO()
        figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
        return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    if hasattr(figure, "get_figure") and hasattr(figure, "plot"):
        return figure_to_data_uri(figure.get_figure(), dpi=dpi)
    if isinstance(figure, bytes | bytearray):
        if not bytes(figure[:8]) == b"\x89PNG\r\n\x1a\n":
            raise InputError("figure bytes are not a PNG image")
        return "data:image/png;base64," + base64.b64encode(bytes(figure)).decode("ascii")
    if isinstance(figure, str | os.PathLike):
        path = Path(figure)
        if not path.is_file():
            raise InputError(f"figure file {path} does not exist")
        suffix = path.suffix.lower()
        mime = {".png": "image/png", ".svg": "image/svg+xml"}.get(suffix)
        if mime is None:
            raise InputError(f"figure file {path} must be .png or .svg, not {suffix!r}")
        return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    raise InputError(
        f"cannot embed an object of type {type(figure).__name__} as a figure; pass a matplotlib "
        "Figure/Axes, PNG bytes or a .png/.svg path"
    )


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _paragraphs(text: str | Sequence[str] | None) -> str:
    if text is None:
        return ""
    items = [text] if isinstance(text, str) else list(text)
    out = []
    for item in items:
        if isinstance(item, str) and item.startswith("formula:"):
            out.append(f'<code class="formula">{_esc(item[len("formula:") :].strip())}</code>')
        else:
            out.append(f"<p>{_esc(item)}</p>")
    return "\n".join(out)


def _caption_html(text: str) -> str:
    """Escaped caption; a leading "Figure N." / "Table N." label in bold."""
    m = _CAPTION_LABEL.match(text)
    if not m:
        return _esc(text)
    return f'<span class="label">{_esc(m.group(1))}</span> {_esc(text[m.end() :])}'


def _png_size(uri: str) -> tuple[int, int] | None:
    """Pixel width and height of a PNG data URI (from its IHDR chunk), None for other images."""
    prefix = "data:image/png;base64,"
    if not uri.startswith(prefix):
        return None
    head = base64.b64decode(uri[len(prefix) : len(prefix) + 32])
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _figures_html(figures: list[tuple[str, Any]], dpi: int) -> str:
    """Figures with their captions. On screen, two figures share a row when each is narrow
    enough to be read at half the page width; in print each takes the page width at most."""
    shown = []
    for caption, fig in figures:
        uri = figure_to_data_uri(fig, dpi=dpi)
        shown.append((caption, uri, _png_size(uri)))
    half_width = (SCREEN.budget_px - 24) / 2
    pair = len(shown) > 1 and all(
        size is not None and size[0] <= 1.5 * half_width for _, _, size in shown
    )
    out = ['<div class="figs">']
    for caption, uri, size in shown:
        cls = ' class="half"' if pair else ""
        dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
        out.append(
            f'<figure{cls}><img src="{uri}" alt="{_esc(caption)}"{dims}>'
            f"<figcaption>{_caption_html(caption)}</figcaption></figure>"
        )
    out.append("</div>")
    return "".join(out)


def _items(obj: Any, what: str) -> list[tuple[str, Any]]:
    if obj is None:
        return []
    if isinstance(obj, Mapping):
        return [(str(k), v) for k, v in obj.items()]
    if isinstance(obj, Sequence) and not isinstance(obj, str):
        out = []
        for item in obj:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise InputError(f"each of the {what} must be a (caption, object) pair")
            out.append((str(item[0]), item[1]))
        return out
    raise InputError(f"{what} must be a mapping caption -> object")


def _slug(text: str, used: set[str]) -> str:
    base = "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-") or "section"
    base = "-".join(filter(None, base.split("-")))[:48]
    slug, k = base, 2
    while slug in used:
        slug, k = f"{base}-{k}", k + 1
    used.add(slug)
    return slug


def _normalise(content: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(content, Mapping):
        raise InputError(
            f"report content must be a Study or a mapping, got {type(content).__name__}"
        )
    unknown = set(content) - {"title", "subtitle", "methods", "sections", "tables", "figures"}
    if unknown:
        raise InputError(f"unknown report key(s): {sorted(unknown)}")
    sections = list(content.get("sections") or [])
    if content.get("tables"):
        sections.append({"title": "Tables", "tables": content["tables"]})
    if content.get("figures"):
        sections.append({"title": "Figures", "figures": content["figures"]})
    for i, sec in enumerate(sections):
        if not isinstance(sec, Mapping) or "title" not in sec:
            raise InputError(f"report section {i} must be a mapping with a 'title'")
        extra = set(sec) - {"title", "text", "tables", "figures", "items"}
        if extra:
            raise InputError(f"report section {sec['title']!r} has unknown key(s) {sorted(extra)}")
    return {
        "title": str(content.get("title") or "Radiomics study report"),
        "subtitle": content.get("subtitle"),
        "methods": content.get("methods"),
        "sections": sections,
    }


def render_html(content: Mapping[str, Any], *, dpi: int = 110) -> str:
    """Render report content (see the module docstring) to one self-contained HTML string.

    Parameters
    ----------
    content : mapping
        ``title``, ``subtitle``, ``methods``, ``sections``, ``tables``, ``figures`` as described
        in the module docstring. A section may also hold ``items``: a mapping shown as a
        two-column definition list (settings, counts).
    dpi : int, default 110
        Resolution of embedded matplotlib figures.

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    InputError
        Unknown keys, a table that is not a DataFrame, or a figure that cannot be embedded.

    Examples
    --------
    >>> import pandas as pd
    >>> page = render_html({"title": "Demo", "tables": {"T": pd.DataFrame({"a": [1.5]})}})
    >>> "<table" in page and "<script" not in page
    True
    """
    doc = _normalise(content)
    used: set[str] = set()
    toc: list[tuple[str, str]] = []
    parts: list[str] = []

    methods = doc["methods"]
    if methods:
        slug = _slug("Methods", used)
        toc.append((slug, "Methods"))
        parts.append(f'<section id="{slug}"><h2>Methods</h2>')
        if isinstance(methods, Mapping):
            for heading, text in methods.items():
                parts.append(f"<h3>{_esc(heading)}</h3>{_paragraphs(text)}")
        else:
            parts.append(_paragraphs(methods))
        parts.append("</section>")

    for sec in doc["sections"]:
        slug = _slug(str(sec["title"]), used)
        toc.append((slug, str(sec["title"])))
        # the heading, text and items stay together and with what follows on paper
        parts.append(f'<section id="{slug}"><div class="lead"><h2>{_esc(sec["title"])}</h2>')
        parts.append(_paragraphs(sec.get("text")))
        items = sec.get("items")
        if items:
            rows = "".join(
                f"<dt>{_esc(k)}</dt><dd>{_esc(format_cell(v))}</dd>" for k, v in items.items()
            )
            parts.append(f'<dl class="kv">{rows}</dl>')
        parts.append("</div>")
        for caption, table in _items(sec.get("tables"), "tables"):
            note = None
            if isinstance(table, tuple) and len(table) == 2 and isinstance(table[1], str | None):
                table, note = table  # (DataFrame, note): the note is printed under the table
            parts.append(table_html(table, _caption_html(caption)))
            if note:
                parts.append(f'<p class="tablenote">{_esc(note)}</p>')
        figures = _items(sec.get("figures"), "figures")
        if figures:
            parts.append(_figures_html(figures, dpi))
        parts.append("</section>")

    nav = "".join(f'<li><a href="#{s}">{_esc(t)}</a></li>' for s, t in toc)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f'<p class="subtitle">{_esc(doc["subtitle"])}</p>' if doc["subtitle"] else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(doc['title'])}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_esc(doc['title'])}</h1>{subtitle}</header>"
        f"<nav><strong>Contents</strong><ol>{nav}</ol></nav>"
        + "\n".join(parts)
        + f"<footer>Generated by radiomics_aln {_esc(__version__)} on {created}. "
        "Self-contained: no script, no network access.</footer></body></html>\n"
    )


def report(
    study_or_results: Any,
    path: str | os.PathLike[str],
    *,
    dpi: int = 110,
) -> Path:
    """Write a self-contained HTML report of a study or of a results mapping.

    Parameters
    ----------
    study_or_results : Study or mapping
        An evaluated :class:`radiomics_aln.study.Study` (anything with a ``report_content()``
        method), or a mapping as described in the module docstring.
    path : path-like
        The HTML file to write (parent folders are created). Written atomically.
    dpi : int, default 110
        Resolution of embedded figures.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    InputError
        Malformed content (see :func:`render_html`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> out = report(
    ...     {"title": "Demo", "figures": {"Identity": fig}},
    ...     pathlib.Path(tempfile.mkdtemp()) / "r.html",
    ... )
    >>> out.read_text().count("data:image/png;base64,")
    1
    """
    content = (
        study_or_results.report_content()
        if hasattr(study_or_results, "report_content")
        else study_or_results
    )
    text = render_html(content, dpi=dpi)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    logger.info("report written to %s (%.1f kB)", path, len(text) / 1024)
    return path
