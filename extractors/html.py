"""HTML front end: a web page (as government sites publish reports) → Document.

Charset: the bytes' BOM, then the page's own declaration (`<meta charset>` or the http-equiv
Content-Type), decoded by `gknb.extractors.encoding.decode_text`. A page declared GB2312 or GBK is
decoded as GB18030: sites declare GB2312 and then print characters only GBK/GB18030 have.

Tables are expanded into their grid: every TableRow has `grid=True` and each Span its `col` and
`colspan`. A cell spanning several rows (`rowspan`) is repeated, with the same `col`, in every
row it covers, so the matcher sees `三、本年度办理结果` / `（三）不予公开` as the context of each of their rows
(a number spanning rows stays in its first row only). Layout tables (a page laid out in a table
that holds the report tables) are walked like a `<div>`: only the innermost tables, the ones
holding data, become table rows, and each once.

`page` is the line of the HTML source the block starts on: a web page has no pages, and the line
is what an auditor needs to find the cell again.
"""

from __future__ import annotations

import re

from gknb.extractors.document import Document, Paragraph, Span, TableRow
from gknb.extractors.errors import UnreadableDocument
from gknb.extractors.values import looks_like_value

# Elements that end a paragraph: text inside one is never run together with text outside it.
_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd section article header footer main nav aside "
    "blockquote pre center form fieldset address figure figcaption caption tr td th thead tbody "
    "tfoot table hr body html".split()
)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "head")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_WS = re.compile(r"[\s\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff]+")


def declared_charset(data: bytes) -> str | None:
    """The charset the page declares (meta tag, else XML declaration), normalised; GB2312/GBK → gb18030."""
    from gknb.extractors.encoding import charset_in_markup

    return charset_in_markup(data)


def read(data: bytes, source: str) -> Document:
    from gknb.extractors.encoding import decode_text

    text = decode_text(data, declared_charset(data), source=source)
    return read_text(text, source)


def read_text(text: str, source: str) -> Document:
    """Parse already decoded HTML (the crawler and tests may hold a str)."""
    import lxml.etree
    import lxml.html

    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        raise UnreadableDocument(f"{source}: empty HTML page")
    try:
        # huge_tree: libxml2 otherwise drops everything below 256 nested elements, and old pages
        # nest unclosed <font> tags that deep
        root = lxml.html.document_fromstring(text, parser=lxml.html.HTMLParser(huge_tree=True))
    except (lxml.etree.ParserError, ValueError) as exc:
        raise UnreadableDocument(f"{source}: not parseable as HTML: {exc}") from exc

    title_el = root.find(".//title")
    title = _clean(title_el.text_content()) if title_el is not None else None
    published = _declared_pubdate(root)
    notes: list[str] = []
    # Numbers are what a reader sees: text hidden by CSS is never read (`3<span
    # style="display:none">00</span>` is 3), and a footnote mark in <sup> stays a mark (`74<sup>3</sup>`).
    hidden = _drop_hidden(root)
    if hidden:
        notes.append(f"hidden text not read: {hidden} element(s) hidden by CSS (display:none, visibility:hidden, hidden)")
    _mark_superscripts(root)
    for el in list(root.iter(*_DROP_TAGS)):
        _drop_keep_tail(el)
    for el in list(root.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction)):
        _drop_keep_tail(el)

    doc = Document(source=source, format="html", title=title or None, pages=1, notes=notes)
    _Walker(doc).walk(root)
    if published is not None:
        # Last, so a date printed in the body (发布日期：…, the signature) is read first.
        doc.blocks.append(Paragraph(text=f"发布时间：{published[0]}", page=published[1]))
    return doc


# `<meta name="PubDate" content="2024-03-08 15:34">`: government CMSs (TRS and others) declare the
# page's publication date in the head even where the body shows it only as 时间：…
_PUBDATE_NAMES = ("pubdate", "publishdate", "firstpublishedtime")
_DATE = re.compile(r"((?:19|20)\d{2})[-./年](\d{1,2})[-./月](\d{1,2})")


def _declared_pubdate(root) -> tuple[str, int] | None:
    for meta in root.iter("meta"):
        if (meta.get("name") or "").strip().lower() in _PUBDATE_NAMES:
            m = _DATE.search(meta.get("content") or "")
            if m:
                date = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
                return date, meta.sourceline or 1
    return None


_HIDING = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse))\s*(?:!important\s*)?(?:;|$)", re.I)
# `.note{display:none}`, `span.x, #y { visibility: hidden }` in a <style> element: simple selectors only
_STYLE_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9]*)?(?:\.([\w-]+)|#([\w-]+))\s*$")


def _drop_hidden(root) -> int:
    """Remove the elements a browser would not show; return how many (their tails are kept)."""
    classes: set[str] = set()
    ids: set[str] = set()
    for style in root.iter("style"):
        for selectors, body in _STYLE_RULE.findall(style.text_content() or ""):
            if not _HIDING.search(body.strip()):
                continue
            for sel in selectors.split(","):
                m = _SIMPLE_SELECTOR.match(sel)
                if m and m.group(2):
                    classes.add(m.group(2))
                elif m and m.group(3):
                    ids.add(m.group(3))
    doomed = []
    for el in root.iter():
        if not isinstance(el.tag, str) or _tag(el) in ("html", "body", "head", "title", "meta"):
            continue
        style = el.get("style") or ""
        if (style and _HIDING.search(style)) or el.get("hidden") is not None \
                or (classes and classes & set((el.get("class") or "").split())) or (ids and el.get("id") in ids):
            doomed.append(el)
    count = 0
    doomed_ids = {id(el) for el in doomed}
    for el in doomed:
        if any(id(anc) in doomed_ids for anc in el.iterancestors()):
            continue
        _drop_keep_tail(el)
        count += 1
    return count


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _mark_superscripts(root) -> None:
    """`<sup>3</sup>` after a number is a footnote mark: written as ³, which the value parser strips
    and the report's warnings name, so 74<sup>3</sup> is never read as 743."""
    for sup in root.iter("sup"):
        text = sup.text_content()
        if text.strip().isascii() and text.strip().isdigit():
            for child in list(sup):
                _drop_keep_tail(child)
            sup.text = text.strip().translate(_SUPERSCRIPT)


def _drop_keep_tail(el) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    prev = el.getprevious()
    parent.remove(el)
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def _clean(s: str) -> str:
    return _WS.sub(" ", s).strip()


def _tag(el) -> str:
    t = el.tag
    return t.lower() if isinstance(t, str) else ""


def _has_nested_table(table) -> bool:
    return any(True for _ in table.iterdescendants("table"))


class _Walker:
    """Walks the tree in document order, cutting paragraphs at block elements and <br>."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.buf: list[str] = []
        self.buf_line: int | None = None
        self.table_no = 0

    def flush(self) -> None:
        text = _clean("".join(self.buf))
        if text:
            self.doc.blocks.append(Paragraph(text=text, page=self.buf_line or 1))
        self.buf = []
        self.buf_line = None

    def add(self, s: str | None, line: int | None) -> None:
        if not s:
            return
        if self.buf_line is None and s.strip():
            self.buf_line = line
        self.buf.append(s)

    def walk(self, root) -> None:
        # An explicit stack, not recursion: old pages nest unclosed <font>/<p> tags deeper than
        # Python's recursion limit.
        stack: list[tuple[object, bool]] = [(root, False)]
        while stack:
            el, leaving = stack.pop()
            tag = _tag(el)
            line = el.sourceline
            if leaving:
                if tag in _BLOCK_TAGS:
                    self.flush()
                self.add(el.tail, line)
                continue
            if tag == "table" and not _has_nested_table(el):
                self.flush()
                self._emit_table(el)
                self.add(el.tail, line)
                continue
            if tag == "br":
                self.flush()
                self.add(el.tail, line)
                continue
            if tag in _BLOCK_TAGS:
                self.flush()
            self.add(el.text, line)
            stack.append((el, True))
            stack.extend((child, False) for child in reversed(el))
        self.flush()

    def _emit_table(self, table) -> None:
        rows = _grid_rows(table, self.doc.notes)
        if not rows:
            return
        self.table_no += 1
        for line, spans in rows:
            if any(s.text for s in spans):
                self.doc.blocks.append(TableRow(cells=spans, page=line, table=self.table_no, grid=True))


def _cell_text(cell) -> str:
    """A cell's visible text; <br> and block children become a space (labels broken over lines)."""
    parts: list[str] = [cell.text or ""]
    stack = [(child, False) for child in reversed(cell)]
    while stack:
        el, leaving = stack.pop()
        tag = _tag(el)
        if leaving:
            if tag in _BLOCK_TAGS:
                parts.append(" ")
            parts.append(el.tail or "")
            continue
        if tag == "br" or tag in _BLOCK_TAGS:
            parts.append(" ")
        parts.append(el.text or "")
        stack.append((el, True))
        stack.extend((child, False) for child in reversed(el))
    return _clean("".join(parts))


def _span_attr(cell, name: str) -> int:
    raw = (cell.get(name) or "1").strip()
    m = re.match(r"[0-9]{1,12}", raw)  # ASCII digits only; a 10**1000 span is not parsed whole
    n = int(m.group()) if m else 1
    return max(n, 0)


def _table_trs(table):
    """The table's own rows in order (thead/tbody/tfoot included), not those of nested tables."""
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            yield child
        elif tag in ("thead", "tbody", "tfoot"):
            for tr in child:
                if _tag(tr) == "tr":
                    yield tr


def _grid_rows(table, notes: list[str] | None = None) -> list[tuple[int, list[Span]]]:
    """The table as grid rows: spans placed by column, row-spanned cells repeated in each row.

    A span above `gknb.settings.limits().html_max_span` is clamped to it (a `colspan="100000000"`
    would otherwise fill a hundred million slots), and the document notes it."""
    from gknb.settings import limits

    max_span = limits().html_max_span
    trs = list(_table_trs(table))
    n_rows = len(trs)
    # occupied[(r, c)] = the Span that covers that slot (its col is its leftmost column)
    placed: dict[int, dict[int, Span]] = {r: {} for r in range(n_rows)}
    taken: set[tuple[int, int]] = set()
    for r, tr in enumerate(trs):
        c = 0
        for cell in tr:
            if _tag(cell) not in ("td", "th"):
                continue
            while (r, c) in taken:
                c += 1
            colspan = max(_span_attr(cell, "colspan"), 1)
            rowspan = _span_attr(cell, "rowspan")
            if colspan > max_span or rowspan > max_span:
                if notes is not None:
                    notes.append(f"line {cell.sourceline}: colspan {colspan} / rowspan {rowspan} clamped to "
                                 f"{max_span} (limits html_max_span)")
                colspan, rowspan = min(colspan, max_span), min(rowspan, max_span)
            if rowspan == 0:  # HTML: rowspan="0" spans to the end of the table section
                rowspan = n_rows - r
            rowspan = max(1, min(rowspan, n_rows - r))
            text = _cell_text(cell)
            # A label is context for every row it spans; a number belongs to one row only and
            # is never copied into the others (that would invent values).
            repeat = rowspan if not looks_like_value(text) else 1
            for dr in range(rowspan):
                if dr < repeat:
                    placed[r + dr][c] = Span(text=text, col=c, colspan=colspan)
                for dc in range(colspan):
                    taken.add((r + dr, c + dc))
            c += colspan
    out = []
    for r, tr in enumerate(trs):
        spans = [placed[r][c] for c in sorted(placed[r])]
        if spans:
            out.append((tr.sourceline or 1, spans))
    return out
