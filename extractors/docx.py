"""Word (.docx) front end: paragraphs and tables in body order → Document.

python-docx opens the package; the body XML is walked directly so that paragraphs and tables
interleave as printed (python-docx's `Document.paragraphs` and `.tables` lose that order) and so
that merged cells keep their place in the grid: a cell's `gridSpan` is its `colspan`, and a
vertically merged cell (`vMerge` continue) repeats the text of the cell it continues, with the
same `col`, like a rowspan in the HTML front end (a merged number is kept in its first row
only). A table nested inside a table cell makes the outer one a layout table: its cells are
walked as text and only the inner tables become rows.

`page` counts the page breaks Word recorded (explicit breaks and `lastRenderedPageBreak`), so it
is the printed page where Word saved that information and 1 otherwise.
"""

from __future__ import annotations

import io
import re
import zipfile

from gknb.extractors.document import Document, Paragraph, Span, TableRow
from gknb.extractors.errors import TooLarge, UnreadableDocument
from gknb.extractors.values import looks_like_value

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_WS = re.compile(r"[\s\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff]+")


def read(data: bytes, source: str) -> Document:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    _check_xml_size(data, source)
    try:
        word = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableDocument(f"{source}: not a readable .docx file ({exc.__class__.__name__}: {exc})") from exc
    except Exception as exc:  # lxml XMLSyntaxError and friends inside a damaged package
        raise UnreadableDocument(f"{source}: damaged .docx file ({exc.__class__.__name__}: {exc})") from exc

    title = (word.core_properties.title or "").strip() or None
    walker = _BodyWalker(Document(source=source, format="docx", title=title))
    walker.walk(word.element.body)
    walker.doc.pages = walker.page
    return walker.doc


# XML is verbose: a Word file's markup is many times its text. Parts above this many times
# limits().max_text_bytes, uncompressed, are a zip bomb or no report.
XML_PER_TEXT_BYTE = 10


def _check_xml_size(data: bytes, source: str) -> None:
    """Reject a package whose XML parts would inflate beyond the text limit, before any is read
    (a few kilobytes of zip can declare gigabytes of document.xml)."""
    from gknb.settings import limits

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            size = sum(i.file_size for i in package.infolist() if i.filename.endswith((".xml", ".rels")))
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # python-docx says what is wrong with it
    cap = XML_PER_TEXT_BYTE * limits().max_text_bytes
    if size > cap:
        raise TooLarge(f"{source}: {size:,} bytes of Word XML, over the limit of {cap:,} "
                       f"({XML_PER_TEXT_BYTE} x limits max_text_bytes)")


def _clean(s: str) -> str:
    return _WS.sub(" ", s).strip()


class _BodyWalker:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.page = 1
        self.table_no = 0

    def walk(self, container) -> None:
        for el in container.iterchildren():
            tag = el.tag
            if tag == W + "p":
                self._paragraph(el)
            elif tag == W + "tbl":
                self._table(el)
            elif tag in (W + "sdt", W + "customXml", W + "sdtContent", W + "ins", W + "smartTag"):
                self.walk(el.find(W + "sdtContent") if tag == W + "sdt" else el)

    def _breaks(self, el) -> int:
        n = 0
        for br in el.iter(W + "br", W + "lastRenderedPageBreak"):
            if br.tag == W + "lastRenderedPageBreak" or br.get(W + "type") == "page":
                n += 1
        return n

    def _paragraph(self, p) -> None:
        breaks = self._breaks(p)
        text = _clean(_para_text(p))
        # A break before the text puts the paragraph on the new page; Word writes both kinds
        # at the start of the page's first run, so count them first.
        self.page += breaks
        if text:
            self.doc.blocks.append(Paragraph(text=text, page=self.page))

    def _table(self, tbl) -> None:
        if tbl.find(".//" + W + "tc//" + W + "tbl") is not None:
            # Layout table: walk every cell's content in order (inner tables become rows).
            for tr in tbl.iterchildren(W + "tr"):
                for tc in tr.iterchildren(W + "tc"):
                    self.walk(tc)
            return
        self.table_no += 1
        above: dict[int, tuple[str, int]] = {}  # grid col -> (text, colspan) of the cell a vMerge continues
        for tr in tbl.iterchildren(W + "tr"):
            self.page += self._breaks(tr)
            col = 0
            trpr = tr.find(W + "trPr")
            if trpr is not None:
                gb = trpr.find(W + "gridBefore")
                if gb is not None:
                    col = _int(gb.get(W + "val"), 0)
            spans: list[Span] = []
            for tc in tr.iterchildren(W + "tc"):
                tcpr = tc.find(W + "tcPr")
                colspan, vmerge = 1, None
                if tcpr is not None:
                    gs = tcpr.find(W + "gridSpan")
                    if gs is not None:
                        colspan = max(_int(gs.get(W + "val"), 1), 1)
                    vm = tcpr.find(W + "vMerge")
                    if vm is not None:
                        vmerge = vm.get(W + "val") or "continue"
                text = _clean(" ".join(_para_text(p) for p in tc.iter(W + "p")))
                if vmerge == "continue" and col in above:
                    # labels repeat into the rows they span; a merged number stays in its first row
                    if looks_like_value(above[col][0]):
                        col += colspan
                        continue
                    text = above[col][0]
                else:
                    above[col] = (text, colspan)
                spans.append(Span(text=text, col=col, colspan=colspan))
                col += colspan
            if any(s.text for s in spans):
                self.doc.blocks.append(TableRow(cells=spans, page=self.page, table=self.table_no, grid=True))


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_OFF = ("0", "false", "off")


def _run_style(run) -> tuple[bool, bool]:
    """(hidden, superscript) of a w:r: hidden text (w:vanish) is not printed, so not read; a
    superscript digit is a footnote mark (written as ³, which the value parser strips and names)."""
    rpr = run.find(W + "rPr") if run is not None and run.tag == W + "r" else None
    if rpr is None:
        return False, False
    vanish = rpr.find(W + "vanish")
    hidden = vanish is not None and (vanish.get(W + "val") or "true").lower() not in _OFF
    align = rpr.find(W + "vertAlign")
    return hidden, align is not None and align.get(W + "val") == "superscript"


def _para_text(p) -> str:
    parts = []
    for el in p.iter(W + "t", W + "tab", W + "br", W + "cr", W + "noBreakHyphen"):
        hidden, superscript = _run_style(el.getparent())
        if hidden:
            continue
        if el.tag == W + "t":
            text = el.text or ""
            parts.append(text.translate(_SUPERSCRIPT) if superscript and text.strip().isdigit() else text)
        elif el.tag == W + "noBreakHyphen":
            parts.append("-")
        else:
            parts.append(" ")
    return "".join(parts)


def _int(s: str | None, default: int) -> int:
    try:
        return int(s) if s is not None else default
    except ValueError:
        return default
