"""Geometry of a PDF page: characters and ruling lines → grids of cells → table rows.

The PDF front end (`extractors/pdf.py`) hands this module the deduplicated characters of a page
that holds tables, with the cells of pdfplumber's ruled-table finder, and gets back:

- `Grid`: one table as row bands × column bands, each cell with its text and its extent
  (rowspans and colspans included), so a label printed over two or three lines stays one cell and a
  vertical group label (三、本年度办理结果 printed one character per line) is one cell spanning
  many rows; boundaries snapped onto the ruling lines (`snap_to_rules`);
- `continue_grid`: a table cut by a page break joined to its first part (one column grid, labels
  the break cut mended);
- `borderless_grids`: tables printed without ruling lines, rebuilt from where the words sit;
- `chars_to_lines`: the page's text outside the tables, as lines (for paragraphs).

Nothing here knows the national templates; it only knows tables.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from gknb.extractors.values import is_value_token as _is_value_token

# An enumerator opening a label: 一、 （三） (三) 1. 1、 ３．
ENUMERATOR_RE = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+\s*[.．、])")
_SPACE_NEAR_WIDE_RE = re.compile(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+")

SNAP = 2.0  # points: cell edges closer than this are the same grid line


# What a number, a nil word and a page number are: the one vocabulary of every front end
# (schemas/value_words.yaml through gknb.extractors.values).
def is_number(text: str) -> bool:
    from gknb.extractors.values import is_number as _is_number

    return _is_number(text)


def is_value(text: str) -> bool:
    """A cell that holds a value (a number or a word printed instead of one), not a label."""
    return _is_value_token(text)


def is_page_number(text: str) -> bool:
    from gknb.extractors.values import is_page_number as _is_page_number

    return _is_page_number(text)


def normalize_label(text: str) -> str:
    """Lines of a cell joined; spaces inside Chinese text dropped (`总 计`, `商 业 企\\n业`)."""
    joined = "".join(line.strip() for line in text.split("\n"))
    return _SPACE_NEAR_WIDE_RE.sub("", joined).strip()


# --------------------------------------------------------------------------------------------
# characters → lines


def dedupe_chars(chars: list[dict], tolerance: float = 1.0) -> list[dict]:
    """Visible characters with fake-bold doubles removed: the same glyph, same font size, drawn
    again within `tolerance` points (pdfplumber's `dedupe_chars` rule)."""
    kept: list[dict] = []
    buckets: dict[tuple, list[dict]] = {}
    for ch in chars:
        text = ch["text"]
        if not text.strip():
            continue
        key = (text, round(ch.get("size") or 0, 1))
        near = buckets.get(key)
        if near is None:  # the first of its glyph and size: nothing to compare with
            buckets[key] = [(ch["x0"], ch["top"])]
            kept.append(ch)
            continue
        x, y = ch["x0"], ch["top"]
        for ox, oy in near:  # a loop, not any(): this runs for every character of the page
            if abs(ox - x) <= tolerance and abs(oy - y) <= tolerance:
                break
        else:
            near.append((x, y))
            kept.append(ch)
    return kept


@dataclass
class Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


def line_groups(chars: list[dict]) -> list[list[dict]]:
    """Characters grouped into lines, top to bottom, each left to right.

    A character joins the line above it when its vertical centre is within half its height of
    that line's mean centre; comparing with the line's whole extent instead would let a tall
    number merge the two lines of a small-print label beside it.
    """
    rows: list[list[dict]] = []
    mids: list[float] = []
    for ch in sorted(chars, key=lambda c: (c["top"], c["x0"])):
        if not ch["text"].strip():
            continue
        mid = (ch["top"] + ch["bottom"]) / 2
        height = max(ch["bottom"] - ch["top"], 1.0)
        if rows and abs(mid - mids[-1]) <= 0.45 * height:
            rows[-1].append(ch)
            n = len(rows[-1])
            mids[-1] += (mid - mids[-1]) / n
            continue
        rows.append([ch])
        mids.append(mid)
    for row in rows:
        row.sort(key=lambda c: c["x0"])
    return rows


def chars_to_lines(chars: list[dict]) -> list[Line]:
    """Characters as lines of text (see `line_groups`).

    A gap wider than a third of the character size becomes a space, so `2023 年` keeps its space
    and `10 1 0` stays three numbers in borderless tables.
    """
    rows = line_groups(chars)
    lines = []
    for row in rows:
        parts = [row[0]["text"]]
        for prev, ch in zip(row, row[1:]):
            size = max(ch.get("size") or 0, ch["x1"] - ch["x0"], 1.0)
            if ch["x0"] - prev["x1"] > size / 3:
                parts.append(" ")
            parts.append(ch["text"])
        lines.append(Line(
            text="".join(parts),
            x0=min(c["x0"] for c in row), x1=max(c["x1"] for c in row),
            top=min(c["top"] for c in row), bottom=max(c["bottom"] for c in row),
        ))
    return lines


# --------------------------------------------------------------------------------------------
# ruled tables → grids


@dataclass(eq=False)
class GridCell:
    r0: int
    r1: int  # exclusive
    c0: int
    c1: int  # exclusive
    x0: float
    top: float
    x1: float
    bottom: float
    chars: list[dict] = field(default_factory=list)
    text: str = ""
    lines: int = 0

    @property
    def is_label(self) -> bool:
        return bool(self.text) and not is_value(self.text)


@dataclass(eq=False)
class Grid:
    page: int
    xs: list[float]  # column boundaries, left to right (len = columns + 1)
    ys: list[float]  # row boundaries, top to bottom (len = rows + 1)
    cells: list[GridCell]
    ruled: bool = True
    table: int = 0  # document-wide table number, set by the caller
    slots: dict[tuple[int, int], GridCell] = field(default_factory=dict)
    # A table continued over pages: its grids share one column grid (`xs` of the family, in the
    # first page's coordinates); `scale`/`shift` map this page's x to those coordinates.
    family: list["Grid"] = field(default_factory=list)
    scale: float = 1.0
    shift: float = 0.0
    skip_rows: set[int] = field(default_factory=set)  # rows merged into the previous page's last row
    value_cols: int = 0  # borderless grids: how many value columns the rows have

    def canon(self, x: float) -> float:
        return x * self.scale + self.shift

    def reindex(self, xs: list[float]) -> None:
        """Re-place every cell on the column boundaries `xs` (the family's shared grid)."""
        self.xs = xs
        self.slots = {}
        for cell in self.cells:
            cell.c0 = _index(xs, self.canon(cell.x0))
            cell.c1 = max(_index(xs, self.canon(cell.x1)), cell.c0 + 1)
            for r in range(cell.r0, cell.r1):
                for c in range(cell.c0, cell.c1):
                    self.slots.setdefault((r, c), cell)

    @property
    def ncols(self) -> int:
        return len(self.xs) - 1

    @property
    def nrows(self) -> int:
        return len(self.ys) - 1

    @property
    def top(self) -> float:
        return self.ys[0]

    @property
    def bottom(self) -> float:
        return self.ys[-1]

    def contains(self, x: float, y: float) -> bool:
        return self.xs[0] - 1 <= x <= self.xs[-1] + 1 and self.ys[0] - 1 <= y <= self.ys[-1] + 1

    def row_cells(self, r: int) -> list[GridCell]:
        """The distinct cells covering row band r, left to right."""
        seen: list[GridCell] = []
        for c in range(self.ncols):
            cell = self.slots.get((r, c))
            if cell is not None and (not seen or seen[-1] is not cell):
                seen.append(cell)
        return seen

    def cell_at(self, r: int, c: int) -> GridCell | None:
        return self.slots.get((r, c))


def _cluster(values: list[float], tol: float = SNAP) -> list[float]:
    """Sorted representatives of values closer than `tol` to each other."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) / len(g) for g in out]


def _index(bounds: list[float], v: float) -> int:
    """Index of the boundary nearest v (bounds sorted)."""
    i = bisect_right(bounds, v)
    if i == 0:
        return 0
    if i == len(bounds):
        return len(bounds) - 1
    return i if bounds[i] - v < v - bounds[i - 1] else i - 1


def grid_from_cells(page: int, bboxes: list[tuple[float, float, float, float]]) -> Grid | None:
    """A grid from a ruled table's cell boxes (x0, top, x1, bottom), rowspans and colspans kept."""
    if not bboxes:
        return None
    xs = _cluster([b[0] for b in bboxes] + [b[2] for b in bboxes])
    ys = _cluster([b[1] for b in bboxes] + [b[3] for b in bboxes])
    if len(xs) < 2 or len(ys) < 2:
        return None
    grid = Grid(page=page, xs=xs, ys=ys, cells=[])
    for x0, top, x1, bottom in bboxes:
        c0, c1 = _index(xs, x0), _index(xs, x1)
        r0, r1 = _index(ys, top), _index(ys, bottom)
        if c1 <= c0 or r1 <= r0:
            continue
        cell = GridCell(r0, r1, c0, c1, x0, top, x1, bottom)
        grid.cells.append(cell)
        for r in range(r0, r1):
            for c in range(c0, c1):
                grid.slots.setdefault((r, c), cell)
    return grid


def _snapped(bounds: list[float], rules: list[float]) -> list[float] | None:
    """`bounds` moved onto the centres of the chained clusters of `rules` near them (less than
    8 pt and less than 0.4 of the narrowest band away), or None when that would reorder them."""
    if not rules or len(bounds) < 2:
        return None
    clusters: list[list[float]] = []
    for x in sorted(rules):
        if clusters and x - clusters[-1][-1] <= 3.0:
            clusters[-1].append(x)
        else:
            clusters.append([x])
    centres = [(min(c) + max(c)) / 2 for c in clusters]
    reach = min(8.0, 0.4 * min(b - a for a, b in zip(bounds, bounds[1:])))
    out = []
    for x in bounds:
        nearest = min(centres, key=lambda c: abs(c - x))
        out.append(nearest if abs(nearest - x) <= reach else x)
    if out != sorted(out) or len(set(out)) != len(out):
        return None
    return out


def snap_to_rules(grid: Grid, vertical_rules: list[float], horizontal_rules: list[float]) -> None:
    """Move each column and row boundary onto the ruling line it stands for.

    Browsers print `border=1` tables with double rules (each cell its own box, a gap between):
    four edges a boundary, which the table finder may average into a boundary a few points off,
    into the next cell's text. The centre of the chained cluster of rules is the boundary.
    Cells keep their indices; only the boundaries (and the cells' extents) move.
    """
    xs = _snapped(grid.xs, vertical_rules)
    if xs is not None:
        grid.xs = xs
        for cell in grid.cells:
            cell.x0, cell.x1 = xs[cell.c0], xs[cell.c1]
    ys = _snapped(grid.ys, horizontal_rules)
    if ys is not None:
        grid.ys = ys
        for cell in grid.cells:
            cell.top, cell.bottom = ys[cell.r0], ys[cell.r1]


def fill_grid(grid: Grid, chars: list[dict]) -> list[dict]:
    """Put each character into the cell under its centre; return the characters outside the grid.

    A character inside the table's frame where the ruling has no cell (a missing edge) gets a
    one-slot cell of its own, so no printed text is lost.
    """
    outside = []
    # The grid's bounds hoisted out of the loop (`grid.contains`, `ncols`, `nrows`): this runs
    # for every character of the page.
    xs, ys, slots = grid.xs, grid.ys, grid.slots
    left, right, top, bottom = xs[0] - 1, xs[-1] + 1, ys[0] - 1, ys[-1] + 1
    last_col, last_row = grid.ncols - 1, grid.nrows - 1
    for ch in chars:
        cx = (ch["x0"] + ch["x1"]) / 2
        cy = (ch["top"] + ch["bottom"]) / 2
        if not (left <= cx <= right and top <= cy <= bottom):
            outside.append(ch)
            continue
        c = min(max(bisect_right(xs, cx) - 1, 0), last_col)
        r = min(max(bisect_right(ys, cy) - 1, 0), last_row)
        cell = slots.get((r, c))
        if cell is None:
            cell = GridCell(r, r + 1, c, c + 1, xs[c], ys[r], xs[c + 1], ys[r + 1])
            grid.cells.append(cell)
            slots[(r, c)] = cell
        cell.chars.append(ch)
    texts = []
    for cell in grid.cells:
        lines = chars_to_lines(cell.chars)
        if len(lines) > 1 and all(is_value(line.text) for line in lines):
            # Numbers stacked in one cell: the ruling lacks the rules between rows (only the
            # column rules are drawn), so these cells are not cells. Leave the page's words to
            # the borderless reading rather than join 21 and 0 into "210".
            grid.cells, grid.slots = [], {}
            return chars
        texts.append((cell, len(lines), normalize_label("\n".join(line.text for line in lines))))
    for cell, n, text in texts:
        cell.lines, cell.text = n, text
        cell.chars = []  # the text is all we keep: memory stays flat over long documents
    return outside


def is_narrative(grid: Grid) -> bool:
    """A 'table' that is only ruled running text (some word processors rule every text line):
    one column, or rows whose one cell spans the whole width. A real table whose value cells are
    all empty keeps its columns and is not narrative."""
    if grid.ncols < 2:
        return True
    for r in range(grid.nrows):
        cells = grid.row_cells(r)
        if len(cells) > 1 or (cells and (cells[0].c0 > 0 or cells[0].c1 < grid.ncols)):
            return False
    return True


def full_width_text(grid: Grid, r: int) -> str | None:
    """The text of row r when one cell spanning the whole table holds all of it (a heading or a
    ruled line of running text inside the table's frame)."""
    cells = [c for c in grid.row_cells(r) if c.text]
    if len(cells) == 1 and cells[0].c0 == 0 and cells[0].c1 == grid.ncols and cells[0].r0 == r:
        return cells[0].text
    return None


# --------------------------------------------------------------------------------------------
# one page's layout: the step text PDFs and OCR'd pages share


@dataclass
class PageState:
    """What a page's layout needs to know about the page before it."""

    next_table: int = 1
    last_grid: Grid | None = None  # the previous page's last table, if nothing followed it


def lay_out_page(number: int, grids: list[Grid], table_grids: list[Grid], text_lines: list[Line],
                 state: PageState, borderless: list[Grid] = ()) -> list[tuple[float, object]]:
    """A page's blocks in reading order, before table rows are made: `(top, Paragraph)` and
    `(top, (grid, r))` for row band r of a table.

    `grids` are the page's ruled grids, filled; `table_grids` those that are tables (not ruled
    running text) plus the borderless ones, top to bottom; `text_lines` the page's text outside
    every table. Ruled running text becomes paragraphs (not where a borderless table lies over
    it); a full-width row of a table (a heading inside its frame) is a paragraph; the first table
    continues the previous page's last one when nothing is printed above it and its columns fit
    (`continue_grid`), and keeps its table number then. The text PDF reader and the OCR reader both
    lay out their pages here, so a table reads the same whether it was printed or scanned.
    """
    from gknb.extractors.document import Paragraph

    items: list[tuple[float, object]] = []
    for grid in grids:
        if grid in table_grids:
            continue
        for r in range(grid.nrows):  # ruled running text: its lines are paragraphs
            text = " ".join(c.text for c in grid.row_cells(r) if c.text and c.r0 == r)
            mid = ((grid.xs[0] + grid.xs[-1]) / 2, (grid.ys[r] + grid.ys[r + 1]) / 2)
            if text and not any(b.contains(*mid) for b in borderless):
                items.append((grid.ys[r], Paragraph(text=text, page=number)))
    for line in text_lines:
        items.append((line.top, Paragraph(text=line.text, page=number)))
    for i, grid in enumerate(table_grids):
        nothing_above = not any(ln.bottom <= grid.top for ln in text_lines)
        if not (i == 0 and nothing_above and state.last_grid is not None and continue_grid(state.last_grid, grid)):
            grid.table = state.next_table
            state.next_table += 1
        for r in range(grid.nrows):
            heading = full_width_text(grid, r)
            if heading is not None:
                items.append((grid.ys[r], Paragraph(text=heading, page=number)))
            else:
                items.append((grid.ys[r], (grid, r)))
    if table_grids:
        last = table_grids[-1]
        state.last_grid = last if not any(ln.top >= last.bottom for ln in text_lines) else None
    else:
        state.last_grid = None
    items.sort(key=lambda item: item[0])
    return items


# --------------------------------------------------------------------------------------------
# a table continued on the next page


def _group_cells_open_at_end(grid: Grid) -> dict[int, GridCell]:
    """Label cells covering the table's last row, left of its values, with another label to their
    right: the group labels (三、本年度办理结果, （四）无法提供) a continuation on the next page
    still belongs to. A last row without values (a header) has no groups."""
    cells = [c for c in grid.row_cells(grid.nrows - 1) if c.text]
    values = [c.c0 for c in cells if not c.is_label]
    if not values:
        return {}
    labels = [c for c in cells if c.is_label and c.c1 <= min(values)]
    return {c.c0: c for c in labels[:-1]}


# Column boundaries of two pages' grids closer than this (points, after aligning the table's
# outer edges) are the same boundary.
COLUMN_MATCH = 3.0


def continue_grid(prev: Grid, grid: Grid) -> bool:
    """Join `grid` (top of a page) to `prev` (bottom of the previous page) when its columns match.

    The two pages may draw the table a little shifted or scaled, and each page only has the column
    boundaries its own rows need (a page without the (三) sub-rows lacks the sub-label column): the
    outer edges are aligned, the boundaries must mostly agree, and the family's grid becomes the
    union of both. Then labels cut by the page break are mended:
    - a group label still open at the foot of `prev` carries over: an empty group cell at the top
      of `grid` takes the label, and a group label cut in two (`（四）无` / `法提供`) is joined;
    - a row label cut in two (its values on the first page, `纳费用、…` on the next) is joined and
      the second part's row dropped.
    Returns False (and changes nothing) when the columns do not match.

    Borderless grids have no outer edges to align: they continue when they have as many value
    columns, keeping their own columns (the matcher places values by x, which a page keeps).
    """
    if not (prev.ruled and grid.ruled):
        if prev.ruled or grid.ruled or prev.value_cols != grid.value_cols:
            return False
        grid.table = prev.table
        return True
    width_prev = prev.xs[-1] - prev.xs[0]  # prev.xs are the family's (first page's) coordinates
    left_prev = prev.xs[0]
    width = grid.xs[-1] - grid.xs[0]
    if width <= 0 or not 0.9 < width_prev / width < 1.1:
        return False
    scale = width_prev / width
    shift = left_prev - grid.xs[0] * scale
    mapped = [x * scale + shift for x in grid.xs]
    small, large = sorted((prev.xs, mapped), key=len)
    matched = sum(1 for x in small if any(abs(x - y) <= COLUMN_MATCH for y in large))
    if matched < 0.7 * len(small):
        return False

    family = prev.family or [prev]
    for member in family:
        member.family = family
    family.append(grid)
    grid.family = family
    grid.scale, grid.shift = scale, shift
    union = _cluster(prev.xs + mapped, COLUMN_MATCH)
    for member in family:
        member.reindex(union)
    grid.table = prev.table
    _mend_labels(prev, grid)
    return True


def _mend_labels(prev: Grid, grid: Grid) -> None:
    last_r = prev.nrows - 1
    groups = _group_cells_open_at_end(prev)
    for c0, group in groups.items():
        cell = grid.cell_at(0, c0)
        if cell is None or cell.c0 != c0:
            continue
        if not cell.text:
            cell.text = group.text
        elif cell.is_label and not ENUMERATOR_RE.match(cell.text):
            _join(group, cell)
    # A row the page break cut in two (word processors let a row break across pages): each label
    # cell of the top row continues the label cell over the same columns in the last row, and the
    # values are all on one side. The half without values is then dropped (unless it holds labels
    # of its own, as a header row does).
    first = [c for c in grid.row_cells(0) if c.text and c.r0 == 0 and c.c0 not in groups]
    last = [c for c in prev.row_cells(last_r) if c.text and c.c0 not in groups]
    first_has_values = any(not c.is_label for c in first)
    last_has_values = any(not c.is_label for c in last)
    if first_has_values and last_has_values:
        return
    by_span = {(c.c0, c.c1): c for c in last if c.is_label}
    joined = 0
    for cell in first:
        above = by_span.get((cell.c0, cell.c1))
        if cell.is_label and above is not None and not ENUMERATOR_RE.match(cell.text):
            _join(above, cell)
            joined += 1
    if not joined:
        return
    first_labels = {(c.c0, c.c1, c.text) for c in first if c.is_label}
    last_labels = {(c.c0, c.c1, c.text) for c in last if c.is_label}
    if last_has_values and first_labels <= last_labels:
        grid.skip_rows.add(0)
    elif first_has_values and last_labels <= first_labels:
        prev.skip_rows.add(last_r)


def _join(above: GridCell, below: GridCell) -> None:
    """One label printed in two parts: both cells now read the whole."""
    whole = above.text + below.text
    above.text = whole
    below.text = whole


# --------------------------------------------------------------------------------------------
# borderless tables


# Lines above a borderless table's first value row that may be its header rows.
MAX_HEADER_LINES = 8
_HEADING_RE = re.compile(r"^(?:[一二三四五六七八九十]+、|第[一二三四五六七八九十]+条)")


@dataclass
class _TLine:
    tokens: list[tuple[str, float, float]]  # (text, x0, x1), left to right
    top: float
    bottom: float
    k: int = 0  # trailing value tokens

    @property
    def mid(self) -> float:
        return (self.top + self.bottom) / 2


def borderless_grids(page: int, chars: list[dict]) -> list[Grid]:
    """Grids for tables printed without ruling lines, rebuilt from where the words sit.

    A value row is a line ending in value tokens (numbers or nil words standing apart from the
    label). Consecutive value rows with the same number of values form a table (a section's rows
    all have as many values as the table has columns); each value's column is its position in the
    row, its extent the union of the tokens in that place. Label-only lines in between are wrapped
    labels and join the value row nearest them; label-only lines just above the first row are the
    header, their one-column words stacked into one header row (`商业` over `企业` → `商业企业`).
    """
    lines = []
    for group in line_groups(chars):
        tokens = _tokens(group)
        if not tokens:
            continue
        k = 0
        for text, _, _ in reversed(tokens):
            if not is_value(text):
                break
            k += 1
        if k == len(tokens) and k < 3:
            k = 0  # a lone number (a page number, a year) is not a table row
        lines.append(_TLine(tokens, min(c["top"] for c in group), max(c["bottom"] for c in group), k))
    lines = _merge_split_value_lines(lines)
    grids = []
    i = 0
    while i < len(lines):
        if not lines[i].k:
            i += 1
            continue
        k = lines[i].k
        run = [i]
        j = i + 1
        value_left = min(t[1] for t in lines[i].tokens[-k:])
        while j < len(lines):
            line = lines[j]
            gap = line.top - lines[j - 1].bottom
            if gap > 2.5 * max(line.bottom - line.top, 1.0):
                break  # a paragraph break: the table has ended
            if line.k == k:
                run.append(j)
                value_left = min(value_left, min(t[1] for t in line.tokens[-k:]))
            elif line.k or any(t[2] > value_left + 1 for t in line.tokens) or _is_heading(line):
                break
            j += 1
        # Label lines after the last value row still belong to it (a wrapped label's tail).
        end = run[-1]
        while end + 1 < j and not lines[end + 1].k and not _is_heading(lines[end + 1]):
            end += 1
        grid = _grid_from_run(page, lines, run, k, end)
        if grid is not None:
            grids.append(grid)
        i = end + 1
    return grids


def _merge_split_value_lines(lines: list[_TLine]) -> list[_TLine]:
    """One row's values printed a little apart vertically (cells aligned differently) come out as
    two lines, each with part of the values: join lines less than a line apart whose values sit in
    different columns."""
    counts: dict[int, int] = {}
    for line in lines:
        if line.k:
            counts[line.k] = counts.get(line.k, 0) + 1
    usual = max(counts, key=lambda k: counts[k]) if counts else 0
    out: list[_TLine] = []
    for line in lines:
        prev = out[-1] if out else None
        height = line.bottom - line.top
        # Less than a line apart: one row. Up to 1.6 lines apart: one row only when the two parts
        # make up exactly the page's usual number of values (a top-aligned cell beside centred ones).
        near = prev is not None and prev.k and line.k and (
            abs(line.mid - prev.mid) < 0.9 * height
            or (abs(line.mid - prev.mid) < 1.6 * height and prev.k + line.k == usual and usual not in (prev.k, line.k)))
        if near:
            a = prev.tokens[len(prev.tokens) - prev.k:]
            b = line.tokens[len(line.tokens) - line.k:]
            if not any(min(x[2], y[2]) > max(x[1], y[1]) for x in a for y in b):
                tokens = sorted(prev.tokens + line.tokens, key=lambda t: t[1])
                k = 0
                for text, _, _ in reversed(tokens):
                    if not is_value(text):
                        break
                    k += 1
                if k == prev.k + line.k:
                    out[-1] = _TLine(tokens, min(prev.top, line.top), max(prev.bottom, line.bottom), k)
                    continue
        out.append(line)
    return out


def _is_heading(line: _TLine) -> bool:
    """A heading line (二、主动公开政府信息情况, 第二十条第（五）项) ends a borderless table."""
    text = "".join(t[0] for t in line.tokens)
    return bool(re.match(r"^第[一二三四五六七八九十]+条", text)) or (
        len(text) >= 6 and bool(re.match(r"^[一二三四五六七八九十]+、", text)))


def _grid_from_run(page: int, lines: list[_TLine], run: list[int], k: int, end: int) -> Grid | None:
    first, last = run[0], end
    if len(run) < 2 and k < 2:
        # One row with one value: a table only under a header naming its column.
        if first == 0 or lines[first - 1].k or len(lines[first - 1].tokens) < 2:
            return None
    value_cols = []
    for c in range(k):
        xs0 = [lines[r].tokens[len(lines[r].tokens) - k + c][1] for r in run]
        xs1 = [lines[r].tokens[len(lines[r].tokens) - k + c][2] for r in run]
        value_cols.append((min(xs0), max(xs1)))
    value_left = value_cols[0][0]
    # Header lines: just above, no values, not a section heading or running text.
    header = []
    h = first - 1
    while h >= 0 and first - h <= MAX_HEADER_LINES and not lines[h].k:
        text = "".join(t[0] for t in lines[h].tokens)
        widest = max(t[2] - t[1] for t in lines[h].tokens)
        over_values = any((t[1] + t[2]) / 2 > value_left for t in lines[h].tokens)
        if _HEADING_RE.match(text) or text.endswith("。") or is_page_number(text) or widest > 0.6 * (
                value_cols[-1][1] - min(t[1] for t in lines[first].tokens)) or not over_values:
            break  # a heading, running text, or a label's tail: not a header naming columns
        header.insert(0, h)
        h -= 1
    # Labels: the words left of the values, stacked into blocks (a label wrapped over lines, a
    # vertical group label), each block given to one value row.
    label_words = [t + (lines[li].top, lines[li].bottom, li) for li in range(first, last + 1)
                   for t in lines[li].tokens[: len(lines[li].tokens) - lines[li].k]]
    blocks = _stack_labels(label_words, set(run))
    members: dict[int, list[tuple]] = {r: [] for r in run}
    for block in blocks:
        members[_owner(block, lines, run)].append(block)
    label_starts = _cluster([b[1] for b in blocks], 6.0) if blocks else []
    left = min([t[1] for li in header + list(range(first, last + 1)) for t in lines[li].tokens] + [value_left]) - 1
    right = max([t[2] for li in header + list(range(first, last + 1)) for t in lines[li].tokens] + [value_cols[-1][1]]) + 1
    xs = [left] + [x for x in label_starts[1:] if x < value_left - 2] + [value_left - 1]
    for a, b in zip(value_cols, value_cols[1:]):
        xs.append((a[1] + b[0]) / 2)
    xs.append(right)
    grid = Grid(page=page, xs=xs, ys=[], cells=[], ruled=False, value_cols=k)
    rows: list[list[tuple[str, float, float, float]]] = []  # per grid row: (text, x0, x1, top)
    bounds: list[float] = []
    if header:
        spanning = [t + (lines[li].top,) for li in header for t in lines[li].tokens if _columns_under(xs, t) > 1]
        single = [t + (lines[li].top,) for li in header for t in lines[li].tokens if _columns_under(xs, t) <= 1]
        for part in (spanning, single):
            if part:
                rows.append(part)
                bounds.append(min(t[3] for t in part))
    for r in run:
        line = lines[r]
        tokens = [(b[0], b[1], b[2], b[3]) for b in members[r]]
        tokens += [t + (line.top,) for t in line.tokens[len(line.tokens) - k:]]
        rows.append(tokens)
        bounds.append(min([line.top] + [b[3] for b in members[r]]))
    grid.ys = bounds + [max(lines[li].bottom for li in range(first, last + 1)) + 1]
    for ri, tokens in enumerate(rows):
        by_slot: dict[int, list[tuple[str, float, float, float]]] = {}
        for t in tokens:
            if t[2] <= value_left:  # a label: its column is where it starts
                c = min(max(bisect_right(xs, t[1] + 0.5) - 1, 0), len(xs) - 2)
            else:
                c = min(max(bisect_right(xs, (t[1] + t[2]) / 2) - 1, 0), len(xs) - 2)
            by_slot.setdefault(c, []).append(t)
        for c, ts in sorted(by_slot.items()):
            ts.sort(key=lambda t: (t[3], t[1]))
            c1 = c + 1
            if len(ts) == 1 and _columns_under(xs, ts[0]) > 1:
                c = _index(xs, ts[0][1])
                c1 = max(_index(xs, ts[0][2]), c + 1)
            cell = GridCell(ri, ri + 1, c, c1, min(t[1] for t in ts), grid.ys[ri], max(t[2] for t in ts), grid.ys[ri + 1])
            cell.text = normalize_label("\n".join(t[0] for t in ts))
            grid.cells.append(cell)
            for cc in range(c, c1):
                grid.slots.setdefault((ri, cc), cell)
    return grid


def _stack_labels(words: list[tuple], value_lines: set[int]) -> list[tuple]:
    """Label words stacked into blocks: a word continues the block above it when it overlaps it
    horizontally, follows it closely, and does not open a new item (1. （三） 四、). A wrapped
    line may start further left, at the cell's edge. One block holds the label of one value row
    at most, except a vertical label (a character or two a line) spanning rows.
    Blocks: (text, x0, x1, top, bottom, first_line).
    """
    blocks: list[list] = []
    for text, x0, x1, top, bottom, li in sorted(words, key=lambda w: (w[3], w[1])):
        height = max(bottom - top, 1.0)
        on_value_line = li in value_lines
        above = None
        if not ENUMERATOR_RE.match(text):
            for b in reversed(blocks):
                if not (b[3] < top and min(b[2], x1) > max(b[1], x0) and top - b[4] <= 1.5 * height):
                    continue
                vertical = len(text) <= 2 and b[2] - b[1] <= 2.5 * height
                if vertical or not (on_value_line and b[6]):
                    above = b
                break
        if above is not None:
            above[0] += text
            above[1], above[2], above[4] = min(above[1], x0), max(above[2], x1), bottom
            above[6] = above[6] or on_value_line
        else:
            blocks.append([text, x0, x1, top, bottom, li, on_value_line])
    return [tuple(b[:6]) for b in blocks]


def _owner(block: tuple, lines: list[_TLine], run: list[int]) -> int:
    """The value row a label block belongs to: the row on its first line; a label opening an item
    above its values (centred values) belongs to the next row; a stray tail to the row above."""
    first_line = block[5]
    if first_line in run:
        return first_line
    top = block[3]
    if ENUMERATOR_RE.match(block[0]):
        return next((r for r in run if lines[r].mid >= top), run[-1])
    return next((r for r in reversed(run) if lines[r].mid <= top), run[0])


def _columns_under(xs: list[float], token: tuple) -> int:
    """How many columns a word covers (a spanning header such as 法人或其他组织 covers several)."""
    x0, x1 = token[1], token[2]
    return sum(1 for a, b in zip(xs, xs[1:]) if min(x1, b) - max(x0, a) > 0.3 * (b - a) or (a <= x0 and x1 <= b))


def _numeric_char(text: str) -> bool:
    return text.isdigit() or text in ".．,，-−－+"


def _tokens(chars: list[dict]) -> list[tuple[str, float, float]]:
    """A line's characters split at gaps wider than 0.6 character (wider than any space inside a
    label or a sentence, narrower than the gap between two table columns): (text, x0, x1)."""
    chars = sorted((c for c in chars if c["text"].strip()), key=lambda c: c["x0"])
    out: list[list[dict]] = []
    for ch in chars:
        size = max(ch.get("size") or 0, ch["x1"] - ch["x0"], 1.0)
        gap = ch["x0"] - out[-1][-1]["x1"] if out else 0.0
        # A number right after words with any visible gap starts a cell of its own: a label
        # wrapped to its cell's edge leaves the next column's value only a hair away.
        number_starts = bool(out) and ch["text"].isdigit() and not _numeric_char(out[-1][-1]["text"])
        if out and gap <= size * 0.6 and not (number_starts and gap > size * 0.15):
            out[-1].append(ch)
        else:
            out.append([ch])
    return [("".join(c["text"] for c in group), group[0]["x0"], group[-1]["x1"]) for group in out]


# --------------------------------------------------------------------------------------------
# pdfplumber's table finder, same results, less work


def find_tables(page) -> list:
    """`page.find_tables()` with pdfplumber's default settings, computed faster.

    pdfplumber's `TableFinder` pairs every vertical with every horizontal edge, re-sorting the
    horizontal ones for each vertical, and looks for each intersection's cell among all later
    points, rebuilding the sets of its edges at every comparison: quadratic work that costs more
    than the rest of the page's geometry on a page full of ruled cells. The same steps are done
    here with the sorts and the edge sets computed once and the points indexed by their x and y;
    the intersections, the cells, their order and the tables are the same.
    """
    from pdfplumber.table import Table, TableFinder, TableSettings, cells_to_tables

    finder = TableFinder.__new__(TableFinder)
    finder.page = page
    finder.settings = TableSettings.resolve(None)
    finder.edges = finder.get_edges()
    finder.intersections = edges_to_intersections(
        finder.edges, finder.settings.intersection_x_tolerance, finder.settings.intersection_y_tolerance)
    finder.cells = intersections_to_cells(finder.intersections)
    finder.tables = [Table(page, group) for group in cells_to_tables(finder.cells)]
    return finder.tables


def edges_to_intersections(edges: list[dict], x_tolerance: float = 1, y_tolerance: float = 1) -> dict:
    """pdfplumber's `edges_to_intersections`, with the horizontal edges sorted once."""
    from operator import itemgetter

    intersections: dict = {}
    v_edges = sorted((e for e in edges if e["orientation"] == "v"), key=itemgetter("x0", "top"))
    h_edges = sorted((e for e in edges if e["orientation"] == "h"), key=itemgetter("top", "x0"))
    for v in v_edges:
        v_top, v_bottom, v_x = v["top"], v["bottom"], v["x0"]
        for h in h_edges:
            h_top = h["top"]
            if (v_top <= h_top + y_tolerance and v_bottom >= h_top - y_tolerance
                    and v_x >= h["x0"] - x_tolerance and v_x <= h["x1"] + x_tolerance):
                vertex = (v_x, h_top)
                if vertex not in intersections:
                    intersections[vertex] = {"v": [], "h": []}
                intersections[vertex]["v"].append(v)
                intersections[vertex]["h"].append(h)
    return intersections


def intersections_to_cells(intersections: dict) -> list[tuple]:
    """pdfplumber's `intersections_to_cells`: for each point (in sorted order), the smallest cell
    with that point as its top-left corner; each point's edge sets built once, and the points
    below and to the right of it looked up by their x and y instead of scanned."""
    from pdfplumber.utils import obj_to_bbox

    v_sets = {p: set(map(obj_to_bbox, e["v"])) for p, e in intersections.items()}
    h_sets = {p: set(map(obj_to_bbox, e["h"])) for p, e in intersections.items()}

    def edge_connects(p1, p2) -> bool:
        if p1[0] == p2[0] and not v_sets[p1].isdisjoint(v_sets[p2]):
            return True
        if p1[1] == p2[1] and not h_sets[p1].isdisjoint(h_sets[p2]):
            return True
        return False

    points = sorted(intersections.keys())
    same_x: dict = {}  # x -> the points with that x, in sorted order (so by y)
    same_y: dict = {}  # y -> the points with that y, in sorted order (so by x)
    place = []  # each point's position in its two lists
    for p in points:
        column, row = same_x.setdefault(p[0], []), same_y.setdefault(p[1], [])
        place.append((len(column), len(row)))
        column.append(p)
        row.append(p)
    cells = []
    for i, pt in enumerate(points):
        in_column, in_row = place[i]
        below = same_x[pt[0]][in_column + 1:]  # the later points directly below
        right = same_y[pt[1]][in_row + 1:]  # and directly to the right
        cell = None
        for below_pt in below:
            if not edge_connects(pt, below_pt):
                continue
            for right_pt in right:
                if not edge_connects(pt, right_pt):
                    continue
                bottom_right = (right_pt[0], below_pt[1])
                if (bottom_right in intersections and edge_connects(bottom_right, right_pt)
                        and edge_connects(bottom_right, below_pt)):
                    cell = (pt[0], pt[1], bottom_right[0], bottom_right[1])
                    break
            if cell is not None:
                break
        if cell is not None:
            cells.append(cell)
    return cells
