"""Tables of the HTML report: formatting, width estimates, wrapping, splitting and transposing.

Private to :mod:`radiomics_aln.report`. A table is first turned into a :class:`Grid` of
formatted cells; :func:`layout` then decides, for one :class:`Medium` (the screen at 1280 px, or
a printed A4/Letter page), how the grid is shown so that it fits the medium's width:

1. as it is, when the sum of the columns' estimated natural widths fits;
2. as it is, with headers wrapped at spaces and long text cells wrapped, when the sum of the
   columns' *minimum* widths fits (the browser's automatic table layout does the wrapping);
3. transposed, when it has few rows and many columns and the transposed table fits;
4. otherwise split into stacked parts of whole column groups, each repeating the identifying
   leading columns (the index, or the leading label columns such as cohort / model /
   predictor), labelled "part i of n".

Widths are estimated from the characters' advance widths in Helvetica/Arial (Liberation Sans
and Nimbus Sans, the fonts Linux substitutes, have the same metrics), with a safety margin.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln.exceptions import InputError
from radiomics_aln.formatting import format_general, format_p_value

__all__ = [
    "Cell",
    "Grid",
    "Medium",
    "SCREEN",
    "PRINT",
    "format_cell",
    "is_p_column",
    "grid_from_frame",
    "column_widths",
    "layout",
    "table_html",
    "text_width",
]

# ----------------------------------------------------------------------------- the two media

#: Screen: the body is at most this wide (CSS px) with this padding on each side.
SCREEN_MAX_WIDTH_PX = 1240
SCREEN_PADDING_PX = 32
#: Print: the narrower of A4 (210 mm) and US Letter (215.9 mm) portrait, less the @page margins.
PRINT_PAGE_WIDTH_MM = 210.0
PRINT_MARGIN_MM = 15.0
_PX_PER_MM = 96 / 25.4


@dataclass(frozen=True)
class Medium:
    """Where a table is shown: the width it must fit and its font.

    ``budget_px`` is the width available to a table (CSS px), ``font_px`` the table's font size
    and ``pad_px`` the horizontal padding of one cell (both sides together).
    """

    name: str
    budget_px: float
    font_px: float
    pad_px: float


SCREEN = Medium(
    "screen", budget_px=SCREEN_MAX_WIDTH_PX - 2 * SCREEN_PADDING_PX, font_px=13.5, pad_px=14.0
)
PRINT = Medium(
    "print",
    budget_px=math.floor((PRINT_PAGE_WIDTH_MM - 2 * PRINT_MARGIN_MM) * _PX_PER_MM),
    font_px=10.5,  # 7.9 pt
    pad_px=8.0,
)

# ----------------------------------------------------------------------------- text widths

# Advance widths of Helvetica (= Arial, Liberation Sans, Nimbus Sans) in 1/1000 em, ASCII 32-126.
_HELVETICA = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  # ' '-'/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,  # 0-?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  # @-O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,  # P-_
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,  # `-o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,  # p-~
]  # fmt: skip
_OTHER = {"\u00a0": 278, "\u2013": 556, "\u2014": 1000, "\u2264": 549, "\u2265": 549,
          "\u00b1": 584, "\u00d7": 584, "\u2212": 584, "\u00b2": 333, "\u00b5": 556}  # fmt: skip
_WIDE = 1000  # CJK and anything else unknown: assume a full em
_BOLD = 1.09  # bold Helvetica is ~6-9% wider
_SAFETY = 1.06  # other sans-serif fonts (San Francisco, Segoe UI, DejaVu) run a little wider


def text_width(text: str, font_px: float, *, bold: bool = False) -> float:
    """Estimated width in CSS px of ``text`` on one line.

    Examples
    --------
    >>> round(text_width("0.5", 10.0))
    15
    """
    units = 0
    for ch in text:
        code = ord(ch)
        if 32 <= code <= 126:
            units += _HELVETICA[code - 32]
        else:
            units += _OTHER.get(ch, 600 if code < 0x2E80 else _WIDE)
    return units / 1000 * font_px * (_BOLD if bold else 1.0) * _SAFETY


# Break opportunities inside long words: after "_" and "/" (feature names, paths).
_BREAK_AFTER = re.compile(r"(?<=[_/])(?=[^_/])")


def _words(text: str, *, breakable: bool) -> list[str]:
    parts = text.split()
    if breakable:
        parts = [p for w in parts for p in _BREAK_AFTER.split(w)]
    return parts or [""]


# ----------------------------------------------------------------------------- the grid

_NUMLIKE = re.compile(
    r"^\s*(?:[<>\u2264\u2265]=?\s*)?[-+\u2212]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?\s*%?"
    r"(?:\s*[(\[][^()\[\]]*[)\]])?\s*$",
    re.IGNORECASE,
)


_INTEGER = re.compile(r"^\d{1,4}$")


def format_cell(value: Any, *, p_value: bool = False) -> str:
    """A cell's text: empty for missing, numbers in the package's format, else ``str``.

    Floats: four significant digits, never an exponent
    (:func:`radiomics_aln.formatting.format_general`); in a p-value column (``p_value=True``)
    a float in [0, 1] reads as journals print p-values (``< 0.001``, ``0.0421``:
    :func:`radiomics_aln.formatting.format_p_value`).

    Examples
    --------
    >>> format_cell(0.812345), format_cell(float("nan")), format_cell("a")
    ('0.8123', '', 'a')
    >>> format_cell(12345.678), format_cell(0.00012), format_cell(0.00012, p_value=True)
    ('12346', '0.00012', '< 0.001')
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        if p_value and 0 <= value <= 1:
            return format_p_value(value)
        return format_general(value)
    return str(value)


#: Column names (lower case, last header level) whose numbers are p-values.
_P_COLUMN = re.compile(r"^(p|p[-_ ]?val(ue)?s?|p_adj(usted)?|p[ _]\(.*\)|p[ _-]adj.*)$")


def is_p_column(name: Any) -> bool:
    """Whether a column (its last header level) holds p-values: ``p``, ``p_value``,
    ``p-value``, ``p_adjusted``, ``p (adj., Holm)``...

    Examples
    --------
    >>> [is_p_column(c) for c in ("p", "P value", "p_adjusted", ("Test", "p"), "ppv", "n")]
    [True, True, True, True, False, False]
    """
    if isinstance(name, tuple):
        name = name[-1] if name else ""
    return bool(_P_COLUMN.match(str(name).strip().lower()))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


@dataclass(frozen=True)
class Cell:
    """One body cell: its text, and whether it reads as a number (right-aligned)."""

    text: str
    numeric: bool = False


@dataclass(frozen=True)
class Grid:
    """A table as formatted cells.

    ``header[j]`` is ``(group, label)`` of column ``j``: ``group`` is None for a column with a
    single header cell, or the label of a spanning cell shared by adjacent columns. The first
    ``n_keys`` columns identify a row (shown as row headers and repeated in every part); a
    column in ``wrap`` holds long text that may wrap.
    """

    header: tuple[tuple[str | None, str], ...]
    body: tuple[tuple[Cell, ...], ...]
    n_keys: int = 0
    wrap: frozenset[int] = frozenset()

    @property
    def n_cols(self) -> int:
        return len(self.header)

    def take(self, columns: Sequence[int]) -> Grid:
        """The grid of these columns (in this order); key and wrap flags follow the columns."""
        cols = list(columns)
        return Grid(
            header=tuple(self.header[j] for j in cols),
            body=tuple(tuple(row[j] for j in cols) for row in self.body),
            n_keys=sum(1 for j in cols if j < self.n_keys),
            wrap=frozenset(i for i, j in enumerate(cols) if j in self.wrap),
        )


def _label_like(values: Sequence[Any]) -> bool:
    """A column of labels: no numbers, and no text that reads as a measurement -- a bare
    integer is a label (a ``level`` column with "no", "yes", "2", "3"); "0.71 (0.60-0.80)",
    "0.04" or "<0.001" are not."""
    if any(_is_number(v) for v in values):
        return False
    texts = [t.strip() for t in (format_cell(v) for v in values) if t.strip()]
    return bool(texts) and not any(_NUMLIKE.match(t) and not _INTEGER.match(t) for t in texts)


def _header_pairs(columns: pd.Index) -> list[tuple[str | None, str]]:
    """(group, label) per column: a two-level MultiIndex, or "Group: label" column names."""
    if isinstance(columns, pd.MultiIndex):
        out: list[tuple[str | None, str]] = []
        for tup in columns:
            top, rest = str(tup[0]), [str(t) for t in tup[1:] if str(t) != ""]
            out.append((top, " ".join(rest)) if rest else (None, top))
        return out
    names = [format_cell(c) for c in columns]
    prefixes = [n.split(": ", 1)[0] if ": " in n else None for n in names]
    out = []
    for j, (name, pre) in enumerate(zip(names, prefixes, strict=True)):
        shared = pre is not None and (
            (j > 0 and prefixes[j - 1] == pre) or (j + 1 < len(names) and prefixes[j + 1] == pre)
        )
        out.append((pre, name.split(": ", 1)[1]) if shared else (None, name))
    return out


def grid_from_frame(df: pd.DataFrame | pd.Series, *, max_keys: int = 3) -> Grid:
    """Format a DataFrame as a :class:`Grid`.

    A non-default index becomes the key columns (one per level); otherwise the leading label
    columns (text that mostly does not read as numbers, such as cohort, model, predictor),
    at most ``max_keys`` and never every column, are the keys.

    Examples
    --------
    >>> g = grid_from_frame(pd.DataFrame({"cohort": ["a", "b"], "auc": [0.71, 0.8]}))
    >>> g.n_keys, g.header, g.body[0]
    (1, ((None, 'cohort'), (None, 'auc')), (Cell(text='a', numeric=False), Cell(text='0.71', numeric=True)))
    """
    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"a table must be a pandas DataFrame, got {type(df).__name__}")
    header = _header_pairs(df.columns)
    cols = [_column_cells(df.iloc[:, j]) for j in range(df.shape[1])]
    if not isinstance(df.index, pd.RangeIndex):
        names = list(df.index.names)
        levels = (
            [df.index.get_level_values(k) for k in range(df.index.nlevels)]
            if isinstance(df.index, pd.MultiIndex)
            else [df.index]
        )
        keys = [[Cell(_indent(format_cell(v))) for v in lev] for lev in levels]
        header = [(None, format_cell(n) if n is not None else "") for n in names] + header
        cols = keys + cols
        n_keys = len(keys)
    else:
        n_keys = 0
        while n_keys < min(max_keys, len(cols) - 1) and _label_like(list(df.iloc[:, n_keys])):
            n_keys += 1
        for j in range(n_keys):
            cols[j] = [Cell(c.text) for c in cols[j]]
    body = tuple(zip(*cols, strict=True)) if cols else ()
    return Grid(header=tuple(header), body=tuple(tuple(r) for r in body), n_keys=n_keys)


def _column_cells(values: pd.Series) -> list[Cell]:
    """Formatted cells of a column, right-aligned when every value is or reads as a number."""
    p_value = is_p_column(values.name)
    texts = [format_cell(v, p_value=p_value) for v in values]
    numeric = all(
        _is_number(v) or not t.strip() or t == "NA" or bool(_NUMLIKE.match(t))
        for v, t in zip(values, texts, strict=True)
    ) and any(t.strip() for t in texts)
    return [Cell(t, numeric) for t in texts]


def _indent(text: str) -> str:
    """Leading spaces (Table 1's levels under their variable) as non-breaking spaces."""
    stripped = text.lstrip(" ")
    return "\u00a0" * (len(text) - len(stripped)) + stripped


# ----------------------------------------------------------------------------- widths


def _long_text(grid: Grid, j: int, medium: Medium) -> bool:
    """A label column whose longest cell is wider than 20 em: it wraps."""
    cells = [row[j] for row in grid.body]
    if not cells or any(c.numeric for c in cells):
        return False
    return max(text_width(c.text, medium.font_px) for c in cells) > 20 * medium.font_px


def _wrapping(grid: Grid, medium: Medium) -> frozenset[int]:
    return frozenset(j for j in range(grid.n_cols) if _long_text(grid, j, medium))


def column_widths(grid: Grid, medium: Medium) -> list[tuple[float, float]]:
    """``(minimum, natural)`` width in CSS px of each column, padding included.

    Natural: every header and cell on one line. Minimum: headers wrapped at spaces; cells of a
    ``wrap`` column wrapped at spaces (and after ``_`` or ``/``) but not narrower than 10 em
    (or than their longest word); all other cells on one line.
    """
    font = medium.font_px
    out = []
    for j, (_group, label) in enumerate(grid.header):
        head_nat = text_width(label, font, bold=True)
        head_min = max(text_width(w, font, bold=True) for w in _words(label, breakable=False))
        cell_nat = cell_min = 0.0
        wraps = j in grid.wrap
        for row in grid.body:
            text = row[j].text
            nat = text_width(text, font)
            cell_nat = max(cell_nat, nat)
            if wraps:
                word = max(text_width(w, font) for w in _words(text, breakable=True))
                cell_min = max(cell_min, word, min(nat, 10 * font))
            else:
                cell_min = max(cell_min, nat)
        out.append(
            (max(head_min, cell_min) + medium.pad_px, max(head_nat, cell_nat) + medium.pad_px)
        )
    return out


def _group_key(header: tuple[str | None, str]) -> str:
    """Columns are kept together when they share a spanning label or their label's first word."""
    group, label = header
    if group is not None:
        return "g:" + group
    first = re.split(r"[\s_:]+", label.strip(), maxsplit=1)[0]
    return "w:" + first.lower().strip("()[],.;")


def _groups(grid: Grid) -> list[list[int]]:
    """Runs of adjacent non-key columns with the same group key."""
    runs: list[list[int]] = []
    last = None
    for j in range(grid.n_keys, grid.n_cols):
        key = _group_key(grid.header[j])
        if runs and key == last and key not in ("w:", "g:"):
            runs[-1].append(j)
        else:
            runs.append([j])
        last = key
    return runs


def _pack(units: list[tuple[list[int], float]], capacity: float) -> list[list[int]]:
    """Greedy: consecutive units into parts no wider than ``capacity`` (a unit wider than it
    gets a part of its own)."""
    parts: list[list[int]] = []
    used = math.inf
    for cols, width in units:
        if used + width > capacity:
            parts.append([])
            used = 0.0
        parts[-1].extend(cols)
        used += width
    return parts


def _split(grid: Grid, widths: list[tuple[float, float]], budget: float) -> list[list[int]]:
    """Column indices of each part (keys first), balanced: the smallest capacity that needs no
    more parts than the budget does."""
    keys = list(range(grid.n_keys))
    key_width = sum(widths[j][0] for j in keys)
    if key_width > 0.45 * budget:  # too wide to repeat: keep only as many keys as fit
        keep, used = [], 0.0
        for j in keys:
            if keep and used + widths[j][0] > 0.45 * budget:
                break
            keep.append(j)
            used += widths[j][0]
        keys, key_width = keep, used
    avail = max(budget - key_width, 1.0)
    units: list[tuple[list[int], float]] = []
    dropped = list(range(len(keys), grid.n_keys))  # keys too wide to repeat: ordinary columns
    if dropped:
        units.append((dropped, sum(widths[j][0] for j in dropped)))
    for run in _groups(grid):
        w = sum(widths[j][0] for j in run)
        if w <= avail:
            units.append((run, w))
        else:
            units.extend(([j], widths[j][0]) for j in run)
    n_parts = len(_pack(units, avail))
    lo, hi = min(max(w for _, w in units), avail), avail
    for _ in range(40):  # bisection on the capacity
        mid = (lo + hi) / 2
        if len(_pack(units, mid)) <= n_parts:
            hi = mid
        else:
            lo = mid
    return [keys + part for part in _pack(units, hi)]


def _transpose(grid: Grid) -> Grid:
    """Rows become columns: one column per original row, headed by its key cells."""
    keys = grid.n_keys
    if keys:
        heads = [" / ".join(c.text.strip() for c in row[:keys]) for row in grid.body]
        corner = " / ".join(label for _, label in grid.header[:keys])
    else:
        heads = [str(i + 1) for i in range(len(grid.body))]
        corner = ""
    header = ((None, corner),) + tuple((None, h) for h in heads)
    body = []
    for j in range(keys, grid.n_cols):
        group, label = grid.header[j]
        name = f"{group}: {label}" if group else label
        body.append((Cell(name),) + tuple(row[j] for row in grid.body))
    return Grid(header=header, body=tuple(body), n_keys=1)


@dataclass(frozen=True)
class Piece:
    """One table to show: its grid and the note added to its caption."""

    grid: Grid
    note: str = ""


def layout(grid: Grid, medium: Medium) -> list[Piece]:
    """How ``grid`` is shown on ``medium``: itself, transposed, or split into parts.

    Examples
    --------
    >>> values = np.linspace(0.1, 0.9, 300).reshape(10, 30)
    >>> wide = pd.DataFrame(values[:2], index=pd.Index(["a", "b"], name="model"))
    >>> [p.note for p in layout(grid_from_frame(wide), SCREEN)]
    ['transposed']
    >>> [p.note for p in layout(grid_from_frame(pd.DataFrame(values)), SCREEN)]
    ['part 1 of 2', 'part 2 of 2']
    """
    grid = replace(grid, wrap=_wrapping(grid, medium))
    widths = column_widths(grid, medium)
    budget = medium.budget_px
    if sum(w for w, _ in widths) <= budget or grid.n_cols - grid.n_keys <= 1:
        return [Piece(grid)]
    if grid.n_keys == 0:  # number the rows so that the parts can be read together
        grid = Grid(
            header=((None, "#"),) + grid.header,
            body=tuple((Cell(str(i + 1)),) + row for i, row in enumerate(grid.body)),
            n_keys=1,
            wrap=frozenset(j + 1 for j in grid.wrap),
        )
        widths = column_widths(grid, medium)
    if len(grid.body) <= 3 and grid.n_cols - grid.n_keys >= 2 * len(grid.body):
        flipped = _transpose(grid)
        flipped = replace(flipped, wrap=_wrapping(flipped, medium))
        if sum(w for w, _ in column_widths(flipped, medium)) <= budget:
            return [Piece(flipped, "transposed")]
    parts = _split(grid, widths, budget)
    n = len(parts)
    return [Piece(grid.take(cols), f"part {i + 1} of {n}") for i, cols in enumerate(parts)]


# ----------------------------------------------------------------------------- HTML


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _cell_text(text: str, wraps: bool) -> str:
    """Escaped text; in a wrapping column, long words may also break after ``_`` and ``/``."""
    if not wraps:
        return _esc(text)
    return "<wbr>".join(_esc(p) for p in _BREAK_AFTER.split(text))


def _thead(grid: Grid) -> str:
    two = any(g is not None for g, _ in grid.header)
    top, bottom = [], []
    j = 0
    while j < grid.n_cols:
        group, label = grid.header[j]
        if group is None:
            span = ' rowspan="2"' if two else ""
            top.append(f'<th scope="col"{span}>{_esc(label)}</th>')
            j += 1
            continue
        k = j
        while k < grid.n_cols and grid.header[k][0] == group:
            bottom.append(f'<th scope="col">{_esc(grid.header[k][1])}</th>')
            k += 1
        top.append(f'<th scope="colgroup" colspan="{k - j}" class="group">{_esc(group)}</th>')
        j = k
    rows = "<tr>" + "".join(top) + "</tr>"
    if two:
        rows += "<tr>" + "".join(bottom) + "</tr>"
    return f"<thead>{rows}</thead>"


def _tbody(grid: Grid) -> str:
    out = []
    for row in grid.body:
        cells = []
        for j, cell in enumerate(row):
            wraps = j in grid.wrap
            cls = " ".join(c for c in ("num" if cell.numeric else "", "wrap" if wraps else "") if c)
            attr = f' class="{cls}"' if cls else ""
            text = _cell_text(cell.text, wraps)
            if j < grid.n_keys:
                cells.append(f'<th scope="row"{attr}>{text}</th>')
            else:
                cells.append(f"<td{attr}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "<tbody>" + "".join(out) + "</tbody>"


def _grid_html(grid: Grid) -> str:
    return f'<table class="data">{_thead(grid)}{_tbody(grid)}</table>'


#: Tables of at most this many body rows are kept on one printed page.
KEEP_ROWS = 30


def _pieces_html(caption_html: str, pieces: list[Piece], extra_class: str = "") -> str:
    out = []
    for piece in pieces:
        note = f' <span class="note">({_esc(piece.note)})</span>' if piece.note else ""
        keep = " keep" if len(piece.grid.body) <= KEEP_ROWS else ""
        cls = f"tbl{keep}{extra_class}"
        cap = f'<div class="caption">{caption_html}{note}</div>' if caption_html or note else ""
        out.append(
            f'<div class="{cls}">{cap}<div class="tablewrap">{_grid_html(piece.grid)}</div></div>'
        )
    return "".join(out)


def table_html(df: pd.DataFrame | pd.Series, caption_html: str = "") -> str:
    """HTML of a report table with its caption, laid out for the screen and for print.

    When the screen layout and the print layout differ, both are written; the print
    stylesheet shows the one for paper (classes ``only-screen`` / ``only-print``).

    Examples
    --------
    >>> out = table_html(pd.DataFrame({"a": [1.5]}), "Caption")
    >>> out.count("<table"), "only-print" in out
    (1, False)
    """
    grid = grid_from_frame(df)
    screen, paper = layout(grid, SCREEN), layout(grid, PRINT)
    if [(p.grid.header, p.note, p.grid.wrap) for p in screen] == [
        (p.grid.header, p.note, p.grid.wrap) for p in paper
    ]:
        return _pieces_html(caption_html, screen)
    return (
        _pieces_html(caption_html, screen, " only-screen")
        + _pieces_html(caption_html, paper, " only-print")
    )
