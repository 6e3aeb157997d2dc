"""The template matcher: any Document's table rows → every cell of the report's template.

The matcher never knows which front end produced a row. It reads:
- the context: section (二/三/四 headings, in paragraphs or rows), the section 2 sub-table
  (第二十条第（N）项), the header rows that name the columns;
- each row's label (its non-number cells, normalised and compared with schemas/label_aliases.yaml)
  and its value cells (numbers and nil words);
- positions, where a row has fewer or more values than columns: `Span.col` when the row is a
  real grid (`grid=True`), the x extent (`x0`/`x1`) of PDF and OCR spans, or, for plain text, the
  tab position when the row spans exactly the header's cells and ends with a printed cell.

Placement is never guessed. A row whose values cannot be placed with certainty gives `missing`
cells and a warning; `identities.fill_unique` may then fill a value the identities fix uniquely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gknb.extractors.document import Document, Paragraph, Span, TableRow
from gknb.extractors.errors import NotAnnualReport
from gknb.extractors.labels import (
    column_of, header_unit, item_heading, load_aliases, names_header, norm_label, row_candidates, section_heading,
    similar_row, strip_numbering,
)
from gknb.extractors.values import footnote_note, is_nil_word, keyed_warning, looks_like_value, parse_value
from gknb.catalog import load_catalog
from gknb.contract import Cell, Extraction, ReportMeta
from gknb.structure import load_structure

# A paragraph this short, right before a row of bare numbers, may be that row's label (PDFs
# converted to text put a wrapped label on its own lines).
_LABEL_LINE_MAX = 40
# ... and a label wrapped one or two characters a line (narrow PDF cells) takes this many lines.
_LABEL_LINES_MAX = 12
# `采购总金额（元）`, `本年收费金额（单位：元）`: a header that puts its amounts in 元
_BARE_NUMBER = re.compile(r"[\d,，.]+")
# a sub-row number inside label text: `5.属于…`, `（四）无2.没有…` (not a decimal)
_ROW_NUMBER = re.compile(r"(?<![\d.])\d{1,2}\.(?!\d)")


@dataclass
class Placed:
    """One cell as read: the printed text (None = the table has no such cell here) and its source."""

    text: str | None
    page: int
    confidence: float | None = None
    note: str | None = None  # e.g. "filled: S3.row_total"
    unit: str | None = None  # the unit the column's header gives (`采购总金额（元）`) for a bare number


@dataclass
class Header:
    """Column positions named by the header rows of one table (and section/sub-table)."""

    cols: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)
    leaves: list[tuple[tuple[str, float, float], str]] = field(default_factory=list)  # section 4
    units: dict[str, str] = field(default_factory=dict)  # column -> the unit its header gives (not 万元)
    width: int = 0  # cells in the widest header row (text rows: tab positions)
    table: int | None = None  # the table the header rows belong to


@dataclass
class Obs:
    """One observed table row with its context."""

    section: int | None
    item: str | None
    labels: list[str]
    values: list[Span]
    row: TableRow
    header: Header | None
    pending_label: list[str] = field(default_factory=list)
    key: str | None = None
    candidates: set[str] = field(default_factory=set)
    # the row's label matched no alias but is close to one template row's label: (printed, ratio)
    similar: tuple[str, float] | None = None

    @property
    def page(self) -> int:
        return self.row.page

    @property
    def has_cells_after_label(self) -> bool:
        return len([s for s in self.row.cells if s.text.strip()]) < len(self.row.cells)

    def describe(self) -> str:
        label = "".join(self.labels) or "(no label)"
        return f"{label[:30]} (page/line {self.page})"


def match(document: Document) -> Extraction:
    from gknb.extractors import meta as meta_mod
    from gknb.extractors import identities

    year = meta_mod.reporting_year(document)
    template, why = detect_template(document, year)
    warnings: list[str] = list(document.notes)
    if why:
        warnings.append(why)
    observations = _observe(document)
    catalog = load_catalog()
    placed: dict[tuple[int, str, str], Placed] = {}
    recognised = 0
    recognised += _match_section2(observations, template, placed, warnings)
    n3, other_variant = _match_section3(observations, template, placed, warnings)
    recognised += n3
    recognised += _match_section4(observations, template, placed, warnings)

    meta = meta_mod.extract_meta(document, template)
    if recognised == 0 and not meta_mod.has_report_title(document):
        raise NotAnnualReport(f"{document.source}: no annual-report tables and no annual-report title")
    if recognised == 0:
        warnings.append("no table rows of the national template were recognised")

    cells = _cells(catalog, template, placed, other_variant, warnings)
    cells = identities.fill_unique(cells, template)
    filled: dict[tuple[int, str, str], list[str]] = {}
    for c in cells:
        if c.raw and c.raw.startswith("filled:"):
            filled.setdefault((c.section, c.row_key, c.raw), []).append(c.col_key)
    for (section, row_key, raw), cols in filled.items():
        warnings.append(f"{section}/{row_key}/{','.join(cols)}: {raw}")
    meta.template = template
    meta.warnings = _dedupe(warnings + meta.warnings)
    return Extraction(meta=meta, cells=cells)


# ---------------------------------------------------------------- template


def detect_template(document: Document, year: int | None) -> tuple[str, str | None]:
    """2019 or 2021 from the headers and rows printed; the year only breaks a tie.

    The request table decides first: a row that only one format's request table has (the 2021
    sub-rows of （六）其他处理) makes the report that format, however its section 2 is printed (a
    2021 report printing 2019-style section-2 tables is a 2021 report; those tables are read as
    printed, see `_printed_template`). Otherwise the format-specific headers and rows are counted."""
    markers = load_aliases().template_markers
    score = {t: 0 for t in markers}
    decisive = _request_rows_of_one_template()
    own = {t: 0 for t in decisive}
    for block in document.blocks:
        texts = [block.text] if isinstance(block, Paragraph) else block.texts
        for text in texts:
            s = norm_label(text)
            if not s or (isinstance(block, Paragraph) and len(s) > 60):
                continue
            for t, words in markers.items():
                score[t] += sum(1 for w in words if w in s)
            for t, rows in decisive.items():
                if rows and row_candidates(3, [s]) & rows:
                    own[t] += 1
    only = [t for t, n in own.items() if n]
    if len(only) == 1:
        return only[0], None
    if score.get("2021", 0) > score.get("2019", 0):
        return "2021", None
    if score.get("2019", 0) > score.get("2021", 0):
        return "2019", None
    fallback = "2021" if (year or 0) >= 2021 else "2019"
    return fallback, f"template {fallback} chosen from the year: no format-specific header or row printed"


def _request_rows_of_one_template() -> dict[str, set[str]]:
    """template -> the section-3 rows only its catalog has, variants included (2021: the three
    其他处理 sub-rows; 2019: none, its 其他处理 row is the 2021 variant)."""
    catalog = load_catalog()
    templates = sorted({c.template for c in catalog.cells})
    rows = {t: set(load_structure().rows(t, 3, variants=True)) for t in templates}
    return {t: rows[t] - set().union(*(rows[o] for o in templates if o != t)) for t in templates}


# ---------------------------------------------------------------- observing rows


def _position(span: Span) -> tuple[str, float, float] | None:
    if span.x0 is not None and span.x1 is not None:
        return ("x", float(span.x0), float(span.x1))
    if span.col is not None:
        return ("col", float(span.col), float(span.col + max(span.colspan, 1) - 1))
    return None


def _observe(document: Document) -> list[Obs]:
    section: int | None = None
    item: str | None = None
    pending: list[str] = []
    headers: dict[tuple[int, int | None, str | None], Header] = {}
    out: list[Obs] = []
    for block in document.blocks:
        if isinstance(block, Paragraph):
            sec = section_heading(block.text)
            if sec is not None:
                section, item, pending = sec, None, []
                continue
            it = item_heading(block.text)
            if it is not None:
                section = 2 if section in (None, 2) else section
                item, pending = it, []
                continue
            s = norm_label(block.text)
            if s and len(s) <= _LABEL_LINE_MAX and not looks_like_value(block.text):
                pending.append(s)
            elif s:
                pending = []
            continue
        row: TableRow = block
        nonempty = [s for s in row.cells if s.text.strip()]
        if not nonempty:
            continue
        # Values are the number cells after the row's last label cell; a number before a label
        # (`1` | `属于国家秘密`) is part of the label.
        last_label = max((i for i, s in enumerate(row.cells)
                          if s.text.strip() and not looks_like_value(s.text)), default=-1)
        values = [s for s in row.cells[last_label + 1:] if looks_like_value(s.text)]
        label_spans = [s for s in row.cells[:last_label + 1] if s.text.strip()]
        labels = [norm_label(s.text) for s in label_spans]
        labels = [lab for lab in labels if lab]
        if not values and labels:
            joined = "".join(labels)
            sec = section_heading(joined) if len(labels) == 1 else None
            if sec is not None:
                section, item, pending = sec, None, []
                continue
            it = item_heading(joined)
            if it is not None:
                section = 2 if section in (None, 2) else section
                item, pending = it, []
                continue
        # Header rows name columns; they are context, not data.
        header_section = _record_header(row, label_spans, section, item, headers) if not values else None
        if header_section is not None:
            # a header row also tells the section where a heading is missing; in section 4 the
            # line above a one-row table (`行政诉讼（复议后起诉）` over `结果维持 … 总计` over five
            # numbers) still names the row below the header
            section, pending = header_section, (pending if header_section == 4 else [])
            continue
        section = _infer_section(section, labels, values)
        header = headers.get((row.table, section, item if section == 2 else None))
        if header is None and section != 2:
            # A table split in two (page break) keeps the columns of its first half.
            header = _latest_header(headers, section)
        # Label lines that name several numbered rows (`5.属于三类内部事务信` … `1.本机关不掌握相关政`,
        # a PDF converter stacking the labels of rows whose numbers follow) do not say which of
        # them this bare-number row is: it stays unlabelled and is placed by its neighbours.
        stacked = not labels and len(_ROW_NUMBER.findall("".join(pending))) > 1
        ob = Obs(section=section, item=item, labels=labels, values=values, row=row, header=header,
                 pending_label=[] if stacked else pending[-_LABEL_LINES_MAX:])
        out.append(ob)
        pending = []
    return out


def _latest_header(headers: dict, section: int | None) -> Header | None:
    found = None
    for (table, sec, it), h in headers.items():
        if sec == section:
            found = h
    return found


def _record_header(row: TableRow, label_spans: list[Span], section: int | None, item: str | None,
                   headers: dict) -> int | None:
    """Record the columns a header row names; the header's section, or None for a data row."""
    labels = [norm_label(s.text) for s in label_spans]
    header2 = names_header(2, labels)
    if section == 2 or header2 or section is None:
        named = [(s, column_of(2, lab)) for s, lab in zip(label_spans, labels)]
        named = [(s, k) for s, k in named if k]
        if named or header2:
            h = headers.setdefault((row.table, 2, item), Header(table=row.table))
            for s, k in named:
                pos = _position(s)
                if pos is not None:
                    h.cols.setdefault(k, []).append(pos)
                unit = header_unit(s.text)
                if unit is not None:
                    h.units[k] = unit
            h.width = max(h.width, len(row.cells))
            return 2
    named3 = [(s, column_of(3, norm_label(s.text))) for s in label_spans]
    named3 = [(s, k) for s, k in named3 if k]
    named4 = [(s, column_of(4, norm_label(s.text))) for s in label_spans]
    named4 = [(s, k) for s, k in named4 if k]
    header4 = names_header(4, labels)
    # under its heading, section 4's header also names the proceedings (未经复议直接起诉 / 复议后起诉)
    if header4 or (section == 4 and (named4 or row_candidates(4, labels))):
        h = headers.setdefault((row.table, 4, None), Header(table=row.table))
        for s, k in named4:
            pos = _position(s)
            # a header cell spanning two header rows is repeated in both (HTML/Word grids): once
            if pos is not None and (pos, k) not in h.leaves:
                h.leaves.append((pos, k))
        h.width = max(h.width, len(row.cells))
        return 4
    if len(named3) >= 2 or names_header(3, labels) \
            or (section == 3 and named3):
        h = headers.setdefault((row.table, 3, None), Header(table=row.table))
        for s, k in named3:
            pos = _position(s)
            if pos is not None:
                h.cols.setdefault(k, []).append(pos)
        h.width = max(h.width, len(row.cells))
        return 3
    return None


def _infer_section(section: int | None, labels: list[str], values: list[Span]) -> int | None:
    """A row label that belongs to one section only tells the section a missing heading did not."""
    if not labels:
        return section
    c2 = row_candidates(2, labels)
    c3 = row_candidates(3, labels)
    if c3 and not c2 and section in (None, 2, 5):
        return 3
    if c2 and not c3 and section in (None, 5):
        return 2
    return section


# ---------------------------------------------------------------- placement


def _place(ob: Obs, columns: list[str], header: Header | None) -> tuple[dict[str, Placed] | None, str | None]:
    """Map the row's cells to `columns`: exactly as many values as columns go in order;
    otherwise only by positions that are certain. (None, reason) when they are not."""
    vals = ob.values
    page = ob.page
    if len(vals) == len(columns):
        return {c: Placed(v.text, page, v.confidence) for c, v in zip(columns, vals)}, None
    if not vals:
        if ob.has_cells_after_label:
            return {c: Placed("", page) for c in columns}, None
        return None, "no cells"
    where = f"row {ob.describe()}: {len(vals)} values for {len(columns)} columns"
    if header is None or not header.cols:
        return None, where
    if any(c not in header.cols for c in columns):
        return None, where + " (the header does not name every column)"
    if header.table != ob.row.table:
        # positions are only comparable within one table (a continuation may shift its columns)
        return None, where + " (no header in the same table)"
    if not ob.row.grid and not any(s.x0 is not None for s in vals):
        # Plain text: tabs are positions only when the row spans the header exactly and ends
        # with a printed cell (converters pad or trim empty cells at a row's end). A row of nil
        # words only (`无`) risks no number, so its tab positions are taken as they stand.
        only_words = all(is_nil_word(v.text) for v in vals)
        if len(ob.row.cells) != header.width or not (ob.row.cells[-1].text.strip() or only_words):
            return None, where + " (text row not aligned with its header)"
    out: dict[str, Placed] = {}
    for v in vals:
        pos = _position(v)
        hits = [c for c in columns if pos is not None and any(_overlaps(pos, p) for p in header.cols[c])]
        if len(hits) != 1 or hits[0] in out:
            return None, where + " (a value does not sit under exactly one column)"
        out[hits[0]] = Placed(v.text, page, v.confidence)
    for c in columns:
        if c in out:
            continue
        # The column's own cell is present and empty → blank; absent → unknown.
        if _has_empty_cell_under(ob.row, header.cols[c]) or _printed_nothing(ob.row):
            out[c] = Placed("", page)
        else:
            return None, where + f" (no cell under {c})"
    return out, None


def _printed_nothing(row: TableRow) -> bool:
    """A text-layer row placed by x extents: a column with no word under it printed nothing.
    OCR rows (spans with a confidence) may have dropped a word, so there it stays unknown."""
    spans = [s for s in row.cells if s.text.strip()]
    return bool(spans) and all(s.x0 is not None and s.confidence is None for s in spans)


def _overlaps(a: tuple[str, float, float], b: tuple[str, float, float]) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "col":
        return a[1] <= b[2] and b[1] <= a[2]
    # x extents: the value's centre must fall inside the header cell's extent (with 2pt slack)
    centre = (a[1] + a[2]) / 2
    return b[1] - 2 <= centre <= b[2] + 2


def _has_empty_cell_under(row: TableRow, positions: list[tuple[str, float, float]]) -> bool:
    for s in row.cells:
        if s.text.strip():
            continue
        pos = _position(s)
        if pos is not None and any(_overlaps(pos, p) for p in positions):
            return True
    return False


# ---------------------------------------------------------------- section 2


def _match_section2(obs: list[Obs], template: str, placed: dict, warnings: list[str]) -> int:
    catalog = load_catalog()
    structure = load_structure()
    items = {c.row_key: c.item for c in catalog.template_cells(template) if c.section == 2}
    done: set[str] = set()
    failed: dict[str, str] = {}
    n = 0
    for ob in obs:
        if ob.section != 2 or not (ob.labels or ob.pending_label):
            continue
        cands = _candidates_with_lines_above(2, ob, template)
        if len(cands) != 1:
            continue
        key = next(iter(cands))
        if key not in items:
            warnings.append(f"section 2: row {ob.describe()} is not in the {template} template; ignored")
            continue
        if key in done:
            continue
        item = items[key]
        columns = structure.columns(template, 2, item)
        printed_in = _printed_template(ob, key, template, columns)
        if printed_in != template:
            # the sub-table is printed in the other format (a 2021 report with 2019-style rows):
            # read as printed, and keep only the columns this template has (same key, same meaning)
            other = structure.columns(printed_in, 2, _item_of(printed_in, key))
            result, reason = _place(ob, other, ob.header)
            kept = [c for c in other if c in columns]
            warnings.append(f"template: section 2/{item} is printed in the {printed_in} form in a {template} "
                            f"report; row {ob.describe()} read as printed"
                            + (f", only {', '.join(kept)} is a {template} column" if kept else
                               f", none of its columns is a {template} column"))
            if result is not None:
                result = {c: p for c, p in result.items() if c in columns}
            if not result:
                done.add(key)
                n += 1
                continue
        else:
            result, reason = _place(ob, columns, ob.header)
        if result is not None and ob.similar:
            _note_similar(result, ob, key, catalog, template, 2, warnings)
        if result is None:
            # a later row with the same label may place (a line of prose that merely names the
            # row can come first), so a failure only counts when no row places
            if reason != "no cells":
                failed.setdefault(key, f"section 2/{item}: {reason}; its cells are missing")
            continue
        for col, p in result.items():
            if ob.header is not None and col in ob.header.units:
                p.unit = ob.header.units[col]
            placed[(2, key, col)] = p
        done.add(key)
        n += 1
    for key, why in failed.items():
        if key not in done:
            warnings.append(why)
            n += 1
    return n


# ---------------------------------------------------------------- section 3


def _match_section3(obs: list[Obs], template: str, placed: dict, warnings: list[str]) -> tuple[int, bool]:
    structure = load_structure()
    order = structure.rows(template, 3, variants=True)
    request_columns = structure.columns(template, 3, group="request_columns")
    variant = structure.variant(template)
    rows3 = [ob for ob in obs if ob.section == 3]
    # 1. each row's candidates: its own label, else the short label lines just above it
    for ob in rows3:
        ob.candidates = _candidates_with_lines_above(3, ob, template) & set(order)
        ob.key = next(iter(ob.candidates)) if len(ob.candidates) == 1 else None
    # 2. drop label continuations (`“一稳定”` under `3.危及“三安全`) and fold a label-only row
    #    into the bare-number row that follows it
    seq: list[Obs] = []
    for ob in rows3:
        if not ob.values and ob.key and seq and seq[-1].key == ob.key:
            continue
        if not ob.values and not ob.key:
            continue  # an unrecognised row without numbers: layout debris
        if ob.values and not ob.labels and not ob.key and seq and not seq[-1].values and seq[-1].key:
            prev = seq.pop()
            ob.key, ob.candidates = prev.key, {prev.key}
        seq.append(ob)
    # 3. anchors: rows whose label names one template row, first with values wins
    taken: dict[str, Obs] = {}

    def fullness(o: Obs) -> int:
        return 2 if len(o.values) == len(request_columns) else (1 if o.values else 0)

    for ob in seq:
        if ob.key is None:
            continue
        prev = taken.get(ob.key)
        if prev is None or fullness(ob) > fullness(prev):
            taken[ob.key] = ob
        elif ob.values and prev is not ob:
            warnings.append(f"section 3: row {ob.describe()} repeats {ob.key}; the first is kept")
            ob.key = None
            ob.candidates = set()
    for ob in seq:
        if ob.key is not None and taken.get(ob.key) is not ob:
            ob.key = None
    # the variant row (2021 （六）其他处理 printed as one row) counts only where no sub-row is printed
    other_variant = variant is not None and variant.row in taken and not any(k in taken for k in variant.replaces)
    slots = structure.rows(template, 3, variant_printed=other_variant)
    # a row named by similarity must sit where the table's order puts it: after the row named
    # above it and before the row named below it (position confirms, it never names a row)
    for i, ob in enumerate(seq):
        if ob.key is None or ob.similar is None:
            continue
        before = next((seq[k].key for k in range(i - 1, -1, -1) if seq[k].key and not seq[k].similar), None)
        after = next((seq[k].key for k in range(i + 1, len(seq)) if seq[k].key and not seq[k].similar), None)
        at = slots.index(ob.key) if ob.key in slots else -1
        if at < 0 or (before in slots and slots.index(before) >= at) or (after in slots and slots.index(after) <= at):
            warnings.append(f"section 3: row {ob.describe()} resembles {ob.key} but is out of the table's order; "
                            f"not matched")
            taken.pop(ob.key, None)
            ob.key, ob.candidates, ob.similar = None, set(), None
    # 4. rows without a certain label: between two anchors, as many rows as free template rows
    #    fill them in order (reading order is the table's order); otherwise they stay unplaced
    i = 0
    while i < len(seq):
        if seq[i].key is not None or not seq[i].values:
            i += 1
            continue
        j = i
        while j < len(seq) and seq[j].key is None and seq[j].values:
            j += 1
        run = seq[i:j]
        before = next((seq[k].key for k in range(i - 1, -1, -1) if seq[k].key), None)
        after = next((seq[k].key for k in range(j, len(seq)) if seq[k].key), None)
        lo = slots.index(before) + 1 if before in slots else 0
        hi = slots.index(after) if after in slots else len(slots)
        free = [k for k in slots[lo:hi] if k not in taken]
        if len(free) == len(run) and before is not None and all(
                not ob.candidates or k in ob.candidates for ob, k in zip(run, free)):
            for ob, k in zip(run, free):
                ob.key = k
                taken[k] = ob
        else:
            for ob in run:
                warnings.append(f"section 3: row {ob.describe()} could not be matched to a template row")
        i = j
    # 5. place each row's values under the applicant columns
    n = 0
    for key, ob in taken.items():
        if key not in slots:
            continue
        result, reason = _place(ob, request_columns, ob.header)
        n += 1
        if result is None:
            warnings.append(f"section 3/{key}: {reason}; its cells are missing")
            _remember_unplaced(placed, 3, key, ob)
            continue
        if ob.similar:
            _note_similar(result, ob, key, load_catalog(), template, 3, warnings)
        for col, p in result.items():
            placed[(3, key, col)] = p
    if rows3 and not any(k in taken for k in structure.rows(template, 3, group="closing")):
        warnings.append("section 3: the table ends early (no （七）总计 / 四、结转下年度 row); the rest is missing")
    return n, other_variant


def _candidates_with_lines_above(section: int, ob: Obs, template: str | None = None) -> set[str]:
    """The row's own label; for a row of bare numbers, the short lines just above it (all of
    them joined, else the last two, else the last one); for a label broken over lines, the
    lines above joined with the row's own part. A label no alias matches may name a row by
    similarity (see `_similar`)."""
    if ob.labels:
        found = row_candidates(section, ob.labels)
        if not found and ob.pending_label:
            found = row_candidates(section, ["".join(ob.pending_label[-2:] + ob.labels)])
        if not found and template is not None:
            found = _similar(section, ob, template)
        return found
    for tail in (ob.pending_label, ob.pending_label[-2:], ob.pending_label[-1:]):
        if tail:
            found = row_candidates(section, ["".join(tail)])
            if len(found) == 1:
                return found
    return set()


# a printed label longer than this is prose, not a row label
_SIMILAR_MAX_LEN = 40


def _similar(section: int, ob: Obs, template: str) -> set[str]:
    """The template row a label no alias matches is close to, when it is close to that row only
    and the row's printed shape fits it (as many values as the row has columns, or none but empty
    cells). Sets `ob.similar`; the caller notes it in raw and warnings."""
    label = "".join(ob.labels)
    if not label or len(label) > _SIMILAR_MAX_LEN or "。" in label:
        return set()
    catalog = load_catalog()
    labels: dict[str, str] = {}
    for c in catalog.template_cells(template, variants=True):
        if c.section == section:
            labels.setdefault(c.row_key, c.row_label)
    hit = similar_row(label, labels)
    if hit is None:
        return set()
    key, ratio = hit
    item = next(c.item for c in catalog.template_cells(template, variants=True)
                if c.section == section and c.row_key == key)
    n_cols = len(load_structure().columns(template, section, item))
    if len(ob.values) != n_cols and not (not ob.values and ob.has_cells_after_label):
        return set()  # the row's printed shape does not fit: a label alone never names a row
    ob.similar = (label, ratio)
    return {key}


def _note_similar(result: dict, ob: Obs, key: str, catalog, template: str, section: int,
                  warnings: list[str]) -> None:
    printed, ratio = ob.similar
    cat_label = next(c.row_label for c in catalog.template_cells(template, variants=True)
                     if c.section == section and c.row_key == key)
    note = f"row label by similarity: '{printed}' read as '{cat_label}' ({ratio:.2f})"
    for p in result.values():
        p.note = note
    warnings.append(f"section {section}/{key}: {note}")


def _item_of(template: str, row_key: str) -> str:
    return next(c.item for c in load_catalog().template_cells(template) if c.section == 2 and c.row_key == row_key)


def _printed_template(ob: Obs, key: str, template: str, columns: list[str]) -> str:
    """The template a section-2 row is printed in: its header's columns, else its shape.

    A header naming columns only the other template has for this row (上一年项目数量, 本年增/减 in a
    2021 report), or a row with as many values as the other template's columns and not as this
    one's, is printed in the other template."""
    catalog = load_catalog()
    others = [t for t in sorted({c.template for c in catalog.cells}) if t != template
              and key in load_structure().rows(t, 2)]
    if not others:
        return template
    other = others[0]
    other_cols = load_structure().columns(other, 2, _item_of(other, key))
    h = ob.header
    if h is not None and h.cols:
        named = set(h.cols)
        if named - set(columns) and named <= set(other_cols):
            return other
        if named <= set(columns):
            return template
    if ob.values and len(ob.values) != len(columns) and len(ob.values) == len(other_cols):
        return other
    return template


def _remember_unplaced(placed: dict, section: int, key: str, ob: Obs) -> None:
    """Keep the printed values of an unplaceable row for `fill_unique` (stored under col None)."""
    placed[(section, key, None)] = Placed("\t".join(v.text for v in ob.values), ob.page)


# ---------------------------------------------------------------- section 4


def _match_section4(obs: list[Obs], template: str, placed: dict, warnings: list[str]) -> int:
    structure = load_structure()
    review_rows = structure.rows(template, 4, group="proceedings")
    review_columns = structure.columns(template, 4, group="review_columns")
    rows4 = [ob for ob in obs if ob.section == 4 and ob.values]
    full = [(r, c) for r in review_rows for c in review_columns]
    n = 0
    for ob in rows4:
        cands = row_candidates(4, ob.labels) if ob.labels else set()
        if ob.labels and not cands:
            cands = _similar(4, ob, template)
        if not ob.labels and ob.pending_label and len(ob.values) == len(review_columns):
            cands = row_candidates(4, ob.pending_label[-1:])  # a caption line: see _observe
        if len(cands) == 1:
            key = next(iter(cands))
            if any((4, key, c) in placed for c in review_columns):
                continue
            result, reason = _place(ob, review_columns, None)
            if result is None:
                warnings.append(f"section 4/{key}: {reason}; its cells are missing")
                continue
            if ob.similar:
                _note_similar(result, ob, key, load_catalog(), template, 4, warnings)
            for col, p in result.items():
                placed[(4, key, col)] = p
            n += 1
            continue
        if any((4, r, c) in placed for r, c in full):
            continue
        if len(ob.values) == len(full):
            for (r, c), v in zip(full, ob.values):
                placed[(4, r, c)] = Placed(v.text, ob.page, v.confidence)
            n += 1
            continue
        result, reason = _place4_by_position(ob, review_rows, review_columns)
        if result is None:
            warnings.append(f"section 4: {reason}; its cells are missing")
            n += 1
            continue
        placed.update(result)
        n += 1
    return n


def _place4_by_position(ob: Obs, review_rows: list[str], review_columns: list[str]) -> tuple[dict | None, str]:
    n = len(review_rows) * len(review_columns)
    where = f"row {ob.describe()}: {len(ob.values)} values for {n} columns"
    h = ob.header
    if h is None or len(h.leaves) != n or h.table != ob.row.table:
        return None, where
    leaves = sorted(h.leaves, key=lambda lv: (lv[0][0], lv[0][1]))
    if [k for _, k in leaves] != list(review_columns) * len(review_rows):
        return None, where + " (the header's columns are not the template's)"
    if not ob.row.grid and not any(s.x0 is not None for s in ob.values):
        if len(ob.row.cells) != h.width or not ob.row.cells[-1].text.strip():
            return None, where + " (text row not aligned with its header)"
    keys = [(r, c) for r in review_rows for c in review_columns]
    out: dict = {}
    for v in ob.values:
        pos = _position(v)
        hits = [i for i, (p, _) in enumerate(leaves) if pos is not None and _overlaps(pos, p)]
        if len(hits) != 1 or (4, *keys[hits[0]]) in out:
            return None, where + " (a value does not sit under exactly one column)"
        out[(4, *keys[hits[0]])] = Placed(v.text, ob.page, v.confidence)
    for i, (p, _) in enumerate(leaves):
        k = (4, *keys[i])
        if k in out:
            continue
        if _has_empty_cell_under(ob.row, [p]):
            out[k] = Placed("", ob.page)
        else:
            return None, where + f" (no cell under {keys[i]})"
    return out, ""


# ---------------------------------------------------------------- cells


def _cells(catalog, template: str, placed: dict, other_variant: bool, warnings: list[str]) -> list[Cell]:
    cells: list[Cell] = []
    missing_sections: set[int] = set()
    for cc in catalog.template_cells(template, variants=True):
        if cc.role == "variant" and not other_variant:
            continue
        p = placed.get(cc.key)
        if p is None:
            unplaced = placed.get((cc.section, cc.row_key, None))
            raw = f"unplaced: {unplaced.text}" if unplaced else None
            cells.append(Cell(cc.section, cc.row_key, cc.col_key, "missing", None, raw,
                              unplaced.page if unplaced else None))
            if not any(k[0] == cc.section for k in placed):
                missing_sections.add(cc.section)
            continue
        text = p.text
        if p.unit and text is not None and _BARE_NUMBER.fullmatch(text.strip()):
            text = text.strip() + p.unit  # 251000 under 采购总金额（元） is 25.1 万元
        status, value = parse_value(text, cc.value_type)
        if status == "missing":
            warnings.append(keyed_warning(f"{cc.section}/{cc.row_key}/{cc.col_key}", value))
            value = None
        elif footnote_note(text):  # `74³`: the mark is stripped, and the report says so
            warnings.append(keyed_warning(f"{cc.section}/{cc.row_key}/{cc.col_key}", footnote_note(text)))
        raw = p.text.strip() if p.text is not None else None
        if p.note:
            raw = f"{raw or ''} ({p.note})".strip()
        cells.append(Cell(cc.section, cc.row_key, cc.col_key, status, value, raw or None, p.page, p.confidence))
    for s in sorted(missing_sections):
        warnings.append(f"section {s}: not found in the document; its cells are missing")
    return cells


def _dedupe(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for it in items:
        seen.setdefault(it, None)
    return list(seen)


__all__ = ["match", "detect_template", "strip_numbering"]
