"""Tidy HTML of result objects, fitted models and a Study in Jupyter (``_repr_html_``).

One implementation: :func:`html_block` renders a heading, a few facts and tables as a small
self-contained fragment (no script, no external resource, every text escaped), and
:class:`SummaryHTML` gives a class with a ``summary`` DataFrame its ``_repr_html_`` from it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MAX_ROWS", "SummaryHTML", "html_block", "table_html"]

#: Rows of a table shown in a notebook (the first and last halves of a longer one).
MAX_ROWS = 20

_STYLE = (
    "font-family: sans-serif; font-size: 0.9em; line-height: 1.35; margin: 0.3em 0;"
)


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else f"{float(value):.4g}"
    return str(value)


def table_html(table: pd.DataFrame, *, max_rows: int = MAX_ROWS) -> str:
    """A DataFrame as an escaped HTML table, numbers to 4 significant digits."""
    return table.to_html(
        escape=True,
        max_rows=max_rows,
        float_format=_fmt,
        border=0,
        na_rep="",
        classes="radiomics-aln-table",
    )


def html_block(
    title: str,
    *,
    subtitle: str = "",
    facts: Mapping[str, Any] | None = None,
    tables: Sequence[tuple[str, pd.DataFrame]] = (),
    note: str = "",
) -> str:
    """A heading, an optional subtitle, ``facts`` (label: value), titled tables and a note.

    Every text is escaped, so names from data (case ids, columns) cannot inject markup.

    Examples
    --------
    >>> import pandas as pd
    >>> text = html_block("RadScore", facts={"fitted": "yes"},
    ...                   tables=[("", pd.DataFrame({"coef": [0.5]}, index=["a<b"]))])
    >>> "<h4" in text and "a&lt;b" in text and "<script" not in text
    True
    """
    parts = [f'<div class="radiomics-aln" style="{_STYLE}">']
    parts.append(f'<h4 style="margin: 0.2em 0">{html.escape(title)}</h4>')
    if subtitle:
        parts.append(f"<div><code>{html.escape(subtitle)}</code></div>")
    if facts:
        items = "".join(
            f"<li><b>{html.escape(str(k))}</b>: {html.escape(_fmt(v))}</li>"
            for k, v in facts.items()
        )
        parts.append(f'<ul style="margin: 0.3em 0; padding-left: 1.2em">{items}</ul>')
    for caption, table in tables:
        if caption:
            parts.append(f"<div><i>{html.escape(caption)}</i></div>")
        parts.append(table_html(table))
    if note:
        parts.append(f"<div><i>{html.escape(note)}</i></div>")
    parts.append("</div>")
    return "\n".join(parts)


class SummaryHTML:
    """Mixin: ``_repr_html_`` shows the class name, ``repr(self)`` and the ``summary`` table.

    An object whose ``summary`` cannot be computed yet (an estimator before ``fit``) shows its
    ``repr`` and why. Put it first among the bases of a scikit-learn estimator, so that it
    replaces the estimator diagram.
    """

    def _repr_html_(self) -> str:
        title = type(self).__name__
        try:
            summary = self.summary
        except Exception as exc:  # e.g. NotFittedError: show what there is, never fail
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return html_block(title, subtitle=_short_repr(self), note=f"No summary: {reason}")
        tables = [("", summary)] if isinstance(summary, pd.DataFrame) else []
        return html_block(title, subtitle=_short_repr(self), tables=tables)


def _short_repr(obj: Any, limit: int = 300) -> str:
    text = " ".join(repr(obj).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
