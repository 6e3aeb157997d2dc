"""Plain text and Markdown → Document: text as PDFs are usually converted.

Table rows are lines that are
- Markdown pipe rows (`| a | b |`; the `|---|` separator lines are skipped),
- tab-separated (`规章\t0\t0\t0`),
- space-aligned (fields separated by two or more spaces, at least one a number), or
- a short label followed by numbers separated by single spaces (`行政许可 0`).
Every other non-empty line is a Paragraph (headings lose their `#`). A cell's `col` is its
position in the line (tab or pipe index) and rows are `grid=False`: the matcher trusts those
positions only under its own rules. `page` is the 1-based line number. Page-number lines
(`— 4 —`, `-3-`) are dropped so that a table broken by a page keeps its rows together; a prose
line between rows starts a new table.
"""

from __future__ import annotations

import re

from gknb.extractors.document import Document, Paragraph, Span, TableRow
from gknb.extractors.encoding import decode_text
from gknb.extractors.values import is_page_number, is_value_token, looks_like_value

_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_SPACED = re.compile(r"\s{2,}|\u3000+")


def read(data: bytes, source: str, markdown: bool = False) -> Document:
    text = decode_text(data, source=source)
    doc = Document(source=source, format="markdown" if markdown else "text")
    table = 0
    in_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if is_page_number(stripped):
            continue
        tokens = stripped.split()
        # (a line of several numbers only continues a run already two long: after a lone number
        # that may be a bare page number, it starts its own row)
        if all(_is_number_token(t) for t in tokens) and doc.blocks and _number_run(doc.blocks[-1]) \
                and (len(tokens) == 1 or isinstance(doc.blocks[-1], TableRow)):
            # one number a line (narrow PDF cells, now and then two): the numbers of one row
            for token in tokens:
                doc.blocks[-1] = _append_number(doc.blocks[-1], token)
            continue
        cells = _table_cells(line)
        if cells is None and stripped.startswith("|"):
            continue  # a |---| separator
        if cells is not None:
            if not in_table:
                table += 1
                in_table = True
            doc.blocks.append(TableRow(
                cells=[Span(text=c, col=i) for i, c in enumerate(cells)], page=number, table=table, grid=False))
            continue
        in_table = False
        heading = stripped.lstrip("#").strip()
        if heading:
            doc.blocks.append(Paragraph(text=heading, page=number))
    return doc


def _number_run(block) -> bool:
    """A paragraph holding one number, or a row gathered from such lines."""
    if isinstance(block, Paragraph):
        return _is_number_token(block.text.strip())
    return isinstance(block, TableRow) and getattr(block, "_run", False)


def _append_number(block, text: str) -> TableRow:
    if isinstance(block, Paragraph):
        row = TableRow(cells=[Span(text=block.text.strip(), col=0)], page=block.page, table=0, grid=False)
    else:
        row = block
    row.cells.append(Span(text=text, col=len(row.cells)))
    row._run = True  # noqa: SLF001 - marks a row gathered from one-number lines
    return row


def _table_cells(line: str) -> list[str] | None:
    stripped = line.strip()
    if stripped.startswith("|"):
        if _SEPARATOR.match(stripped):
            return None
        inner = stripped[1:-1] if stripped.endswith("|") and len(stripped) > 1 else stripped[1:]
        return [c.strip() for c in inner.split("|")]
    if "\t" in line:
        cells = [c.strip() for c in line.rstrip("\r\n").split("\t")]
        return cells if sum(1 for c in cells if c) >= 1 and len(cells) >= 2 else None
    fields = [f for f in _SPACED.split(stripped) if f]
    if len(fields) >= 2 and not stripped.endswith(("。", "；", "，")):
        if any(looks_like_value(f) for f in fields):
            return fields
        if len(fields) >= 3 and all(len(f) <= 20 and not re.search(r"[，。；]", f) for f in fields):
            return fields  # a header line of short column names
    return _label_and_numbers(stripped)


def _label_and_numbers(line: str) -> list[str] | None:
    """`1.属于国家秘密 1 0 0 0 0 0 1` (pdftotext without layout): a short label, then numbers
    separated by single spaces; or a line of numbers only (`4 0 0 0 0 0 4`)."""
    tokens = line.split()
    n = len(tokens)
    while n > 0 and _is_number_token(tokens[n - 1]):
        n -= 1
    numbers = tokens[n:]
    if not numbers:
        return None
    label = " ".join(tokens[:n])
    if not label:
        return numbers if len(numbers) >= 2 else None
    # (a comma is prose unless a template row's numbers follow: the wrapped tail of a long label,
    # `形，不计其他情形） 447 7 0 0 0 0 454`)
    punctuation = r"[。；;：:]" if len(numbers) >= 3 else r"[，。；;：:]"
    if len(label) > 40 or re.search(punctuation, label) or not re.search(r"[\u4e00-\u9fff]", label):
        return None
    if re.search(r"\d$", label):
        return None  # `2020 年 12 月 31` and the like: prose, not a row
    return [label, *numbers]


def _is_number_token(token: str) -> bool:
    return is_value_token(token)
