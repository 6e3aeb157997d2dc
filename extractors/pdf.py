"""PDF front end: a text PDF read by geometry into the intermediate `Document`.

How a PDF is read, and why in this order:

1. pypdfium2 opens it (errors here are the clear ones: corrupt, encrypted, no pages) and reads every
   page's plain text. That is ~50× faster than pdfplumber and gives the paragraphs (metadata and
   narrative) and tells which pages hold the national tables (their labels, from the template
   catalog) and which pages have no usable text layer.
2. Only the table pages are parsed with pdfplumber, by geometry: the ruling lines give the cells
   (rowspans and colspans included), the characters (fake-bold doubles removed) are put into the
   cell under their centre. Each grid row becomes a `TableRow` with `grid=True`: its label cells
   first (group labels repeated on every row they cover), then its value cells, each `Span.col` the
   column of the table's own grid, so value columns line up with the header rows above them.
   A table cut by a page break continues on the next page with the same table number. Pages without
   ruling lines fall back to columns rebuilt from the numbers' x-positions.
3. Pages whose text layer is missing or unreadable (`(cid:NN)` glyphs, no Unicode map) go to OCR
   (`gknb.extractors.ocr.ocr_pdf_pages`).

Each page is closed as soon as it is read, so memory stays flat on long documents.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from functools import lru_cache

from gknb.extractors.document import Block, Document, Paragraph, Span, TableRow
from gknb.extractors.errors import TooLarge, UnreadableDocument
from gknb.extractors.pdf_grid import (
    Grid,
    borderless_grids,
    chars_to_lines,
    dedupe_chars,
    fill_grid,
    find_tables,
    grid_from_cells,
    is_narrative,
    is_page_number,
    is_value,
    lay_out_page,
    PageState,
    snap_to_rules,
)

# A page whose text has this many distinct table labels holds (part of) the national tables.
TABLE_PAGE_MIN_LABELS = 2
# Labels shorter than this also occur in running text (行政复议, 总计) and do not mark a table page.
MIN_FRAGMENT_LEN = 5
# Fewer visible characters than this: the page has no text layer worth reading.
MIN_TEXT_CHARS = 10
# Images covering this share of a page under a table section's heading: the tables are pictures.
PICTURE_SHARE = 0.2
# More glyphs without a Unicode map than this share of a page's characters: OCR the page.
MAX_UNMAPPED_SHARE = 0.02


@dataclass
class PageText:
    number: int  # 1-based
    text: str
    has_image: bool
    has_text_objects: bool
    readable: bool = field(init=False)
    image_share: float = 0.0  # how much of the page images cover

    def __post_init__(self) -> None:
        self.readable = text_is_readable(self.text)


@dataclass
class _PageBlocks:
    """A page's blocks before the table rows are made (a later page may still finish a label)."""

    number: int
    items: list[tuple[float, object]] = field(default_factory=list)  # (top, Paragraph | (Grid, row))


def read(data: bytes, source: str) -> Document:
    """Read a PDF's bytes into a Document; raise UnreadableDocument when it cannot be read."""
    if not data or not data.strip():
        raise UnreadableDocument(f"{source}: empty file")
    pages, title = _read_pdfium(data, source)
    if not pages:
        raise UnreadableDocument(f"{source}: PDF has no pages")
    if pages[0].readable:
        # The printed title is on the first page. The file's Title field is often last year's
        # (reports are made from the previous one's file), so it stands in only for a first
        # page without text.
        title = None
    if not any(p.readable for p in pages) and not any(p.has_image or p.has_text_objects for p in pages):
        raise UnreadableDocument(f"{source}: PDF has no text and no images (blank pages only)")

    notes: list[str] = []
    ocr_pages = [p.number for p in pages if not p.readable and (p.has_image or p.has_text_objects)]
    table_pages = find_table_pages(pages)
    parsed, cid_pages = _parse_table_pages(data, source, table_pages, last_page=len(pages), notes=notes)
    ocr_pages = sorted(set(ocr_pages) | set(cid_pages) | set(_pictured_table_pages(pages, parsed)))
    parsed_numbers = {pb.number for pb in parsed}

    blocks_by_page: dict[int, list[Block]] = {}
    for p in pages:
        if p.number in parsed_numbers or p.number in ocr_pages or not p.readable:
            continue
        blocks_by_page[p.number] = _text_paragraphs(p.text, p.number)
    blocks_by_page.update({n: blocks for n, blocks in _materialise(parsed).items() if n not in ocr_pages})

    if ocr_pages:
        ocr_blocks = _ocr(data, ocr_pages, source, have_text=any(blocks_by_page.values()), notes=notes)
        _renumber_tables(ocr_blocks, start=1 + max(
            (b.table for bs in blocks_by_page.values() for b in bs if isinstance(b, TableRow)), default=0))
        for block in ocr_blocks:
            blocks_by_page.setdefault(block.page, []).append(block)

    blocks = [b for n in sorted(blocks_by_page) for b in blocks_by_page[n]]
    if not any((b.text if isinstance(b, Paragraph) else "".join(b.texts)).strip() for b in blocks):
        raise UnreadableDocument(f"{source}: no text layer, and OCR found no text")
    return Document(source=source, format="pdf", blocks=blocks, pages=len(pages), title=title, notes=notes)


# --------------------------------------------------------------------------------------------
# pypdfium2: open, plain text, what each page holds


def _read_pdfium(data: bytes, source: str) -> tuple[list[PageText], str | None]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise UnreadableDocument(f"{source}: encrypted PDF (a password is needed to open it)") from exc
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise UnreadableDocument(f"{source}: encrypted PDF (unsupported security handler)") from exc
        if _has_no_pages(data):  # PDFium refuses an empty page tree as a format error
            raise UnreadableDocument(f"{source}: PDF has no pages") from exc
        raise UnreadableDocument(f"{source}: corrupt PDF ({exc})") from exc
    try:
        from gknb.settings import limits

        max_pages = limits().max_pages
        if len(doc) > max_pages:
            # A report is a few pages to a few dozen; thousands are a compilation or a bomb
            # (2,000 pages that all draw one scanned image would be hours of OCR).
            raise TooLarge(f"{source}: {len(doc):,} pages, over the limit of {max_pages:,} (limits max_pages)")
        title = None
        try:
            raw_title = (doc.get_metadata_dict().get("Title") or "").strip()
            # Only a title that reads like a report title; "Microsoft Word - 1.docx" is noise.
            if "报告" in raw_title:
                title = raw_title
        except Exception:  # metadata is optional; a broken Info dictionary must not stop the read
            pass
        pages = []
        for i in range(len(doc)):
            page = doc[i]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
                entry = PageText(i + 1, text, False, False)
                entry.image_share = _image_share(page, pdfium_c.FPDF_PAGEOBJ_IMAGE)
                entry.has_image = entry.image_share > 0
                if not entry.readable:
                    entry.has_text_objects = _has_objects(page, pdfium_c.FPDF_PAGEOBJ_TEXT)
            finally:
                page.close()
            pages.append(entry)
        return pages, title
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument(f"{source}: corrupt PDF ({exc})") from exc
    finally:
        doc.close()


def _has_no_pages(data: bytes) -> bool:
    """Whether pdfminer reads the file as a well-formed PDF without a single page."""
    try:
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfpage import PDFPage
        from pdfminer.pdfparser import PDFParser

        document = PDFDocument(PDFParser(io.BytesIO(data)))
        return next(iter(PDFPage.create_pages(document)), None) is None
    except Exception:  # not even pdfminer can read it: it is corrupt, not empty
        return False


def _image_share(page, kind: int) -> float:
    """The share of the page that images cover (overlaps counted twice; capped at 1)."""
    from ctypes import c_float

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    width, height = page.get_width(), page.get_height()
    area = 0.0
    left, bottom, right, top = c_float(), c_float(), c_float(), c_float()
    for obj in _raw_objects(page, kind):
        if not pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            raise pdfium.PdfiumError("Failed to locate pageobject.")
        area += max(0.0, right.value - left.value) * max(0.0, top.value - bottom.value)
    return min(1.0, area / (width * height)) if width and height else 0.0


def _has_objects(page, kind: int) -> bool:
    for _ in _raw_objects(page, kind):
        return True
    return False


def _raw_objects(page, kind: int, max_depth: int = 2):
    """The page's objects of one kind, form XObjects entered up to `max_depth` levels: what
    `page.get_objects(filter=(kind,), max_depth=...)` yields, as raw handles. A page of text has
    thousands of objects; the helper builds a Python object for each, which costs more than
    reading the page's text."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    def walk(count, get, parent, level):
        n = count(parent)
        if n < 0:
            raise pdfium.PdfiumError("Failed to get number of pageobjects.")
        for i in range(n):
            obj = get(parent, i)
            if not obj:
                raise pdfium.PdfiumError("Failed to get pageobject.")
            obj_type = pdfium_c.FPDFPageObj_GetType(obj)
            if obj_type == pdfium_c.FPDF_PAGEOBJ_UNKNOWN:
                raise pdfium.PdfiumError("Failed to determine pageobject type.")
            if obj_type == kind:
                yield obj
            if obj_type == pdfium_c.FPDF_PAGEOBJ_FORM and level < max_depth - 1:
                yield from walk(pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject, obj, level + 1)

    return walk(pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject, page.raw, 0)


# Where the characters of a Chinese report's text live: ASCII, Latin-1 punctuation, Greek and
# Cyrillic letters used as symbols, general punctuation, letterlike and number forms, arrows,
# maths, enclosed numbers, box drawing, shapes, CJK symbols and punctuation, kana, CJK ideographs
# (extension A too), CJK compatibility, full-width forms. A font without a Unicode map gives its
# glyph numbers instead, which land mostly elsewhere (control codes, Hangul Jamo, Ethiopic, ...).
_PLAUSIBLE = ((0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x4FF), (0x2000, 0x2BFF), (0x3000, 0x33FF),
              (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))


def _plausible(ch: str) -> bool:
    code = ord(ch)
    if 0x4E00 <= code <= 0x9FFF or 0x20 <= code <= 0x7E:  # the usual case first
        return True
    return any(lo <= code <= hi for lo, hi in _PLAUSIBLE)


def text_is_readable(text: str) -> bool:
    """Whether a page's extracted text is real text rather than an empty or garbled layer.

    Garbled layers (fonts without a Unicode map) come out as glyph numbers: control, private-use
    or replacement characters and letters of scripts no Chinese report prints, or Latin letters
    where a Chinese report must have Chinese.
    """
    visible = [ch for ch in text if not ch.isspace()]
    if len(visible) < MIN_TEXT_CHARS:
        return False
    implausible = sum(1 for ch in visible if not _plausible(ch))
    if implausible > max(3, 0.02 * len(visible)):
        return False
    cjk = sum(1 for ch in visible if "\u4e00" <= ch <= "\u9fff")
    return not (len(visible) >= 40 and cjk / len(visible) < 0.05)


@lru_cache(maxsize=1)
def table_fragments() -> frozenset[str]:
    """Label fragments that mark a page holding the national tables, from the template catalog."""
    from gknb.catalog import load_catalog
    from gknb.extractors.pdf_grid import ENUMERATOR_RE

    out = set()
    for cell in load_catalog().cells:
        for label in (cell.row_label, cell.col_label):
            for part in re.split(r"[\s（）()]+", label):
                part = ENUMERATOR_RE.sub("", part)
                if len(part) >= MIN_FRAGMENT_LEN:
                    out.add(part)
    return frozenset(out)


def find_table_pages(pages: list[PageText]) -> list[int]:
    """Readable pages holding table labels, and every page between the first and the last of them
    (a page in the middle of a table may hold only numbers and short labels)."""
    fragments = table_fragments()
    marked = []
    for p in pages:
        if not p.readable:
            continue
        flat = re.sub(r"\s+", "", p.text)
        hits = 0
        for f in fragments:  # stop at the second label found: a table page holds dozens
            if f in flat:
                hits += 1
                if hits >= TABLE_PAGE_MIN_LABELS:
                    marked.append(p.number)
                    break
    if not marked:
        return []
    readable = {p.number for p in pages if p.readable}
    last = marked[-1]
    # The page after the last marked one, when it holds a row of numbers: the end of a table (a
    # section 4 value row under a header printed on the page before).
    if last < len(pages) and pages[last].readable and _has_value_row(pages[last].text):
        last += 1
    return [n for n in range(marked[0], last + 1) if n in readable]


def _has_value_row(text: str) -> bool:
    """A line of three or more numbers and nothing else: a table's value row."""
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 3 and all(is_value(w) for w in words) and not is_page_number(line):
            if sum(1 for w in words if w[0].isdigit()) >= 3:
                return True
    return False


def _pictured_table_pages(pages: list[PageText], parsed: list[_PageBlocks]) -> list[int]:
    """Readable pages whose tables are pictures: an image covering a good part of the page, no
    table found in the text layer, and a table section's heading (二、主动公开… 三、收到和处理…
    四、…行政复议…) on the page or the page before. They are OCR'd whole."""
    from gknb.extractors.labels import section_heading

    with_rows = {pb.number for pb in parsed if any(not isinstance(item, Paragraph) for _, item in pb.items)}
    headed = {p.number for p in pages if p.readable and any(
        section_heading(line) is not None for line in p.text.splitlines())}
    return [p.number for p in pages
            if p.readable and p.image_share >= PICTURE_SHARE and p.number not in with_rows
            and (p.number in headed or p.number - 1 in headed)]


def _text_paragraphs(text: str, page: int) -> list[Block]:
    out: list[Block] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.strip()
        if line and not is_page_number(line):
            out.append(Paragraph(text=line, page=page))
    return out


# --------------------------------------------------------------------------------------------
# pdfplumber: the table pages by geometry


def _parse_table_pages(data: bytes, source: str, numbers: list[int], last_page: int, notes: list[str]
                       ) -> tuple[list[_PageBlocks], list[int]]:
    """Parse the table pages; return their pending blocks and the pages whose glyphs are (cid:NN).

    A table still open at the foot of the last table page (its last rows may hold only numbers and
    short labels that do not mark a page) pulls in the next page too. A page pdfminer cannot
    interpret (PDFium read it) keeps its plain-text paragraphs, and the report says so.
    """
    if not numbers:
        return [], []
    import logging

    import pdfplumber

    # pdfminer logs font quirks (a missing FontBBox) as warnings on stderr; the text is still read,
    # and `gknb extract`'s stderr is for its one-line errors.
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    out: list[_PageBlocks] = []
    cid_pages: list[int] = []
    state = _TableState()
    queue = list(numbers)
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many kinds on damaged files PDFium still opens
        notes.append(f"tables not read by geometry: pdfminer cannot parse the file ({type(exc).__name__})")
        return [], []
    page_refs: list = []
    # Not `with pdf`: `PDF.close()` makes a Page for every page of the file to close it (all
    # of a 2,000-page file, and on a damaged one it raises). Pages are made and closed here one
    # by one; only the stream is left to close.
    try:
        while queue:
            number = queue.pop(0)
            try:
                page = _plumber_page(pdf, number, page_refs)
                try:
                    blocks = _parse_page(page, state)
                finally:
                    page.close()  # pdfplumber caches every object of a page until closed
            except Exception as exc:  # a damaged content stream on one page
                notes.append(f"page {number}: tables not read by geometry ({type(exc).__name__}: {exc})")
                state.last_grid = None
                continue
            if blocks is None:
                cid_pages.append(number)
                state.last_grid = None
            else:
                out.append(blocks)
            if not queue and state.last_grid is not None and number < last_page:
                queue.append(number + 1)
    finally:
        pdf.flush_cache()
        pdf.stream.close()
    return out, cid_pages


def _plumber_page(pdf, number: int, refs: list):
    """pdfplumber's page `number` (1-based), made alone: `pdf.pages` makes a Page for every page
    of the file, and only the table pages are wanted."""
    from pdfminer.pdfpage import PDFPage
    from pdfplumber.page import Page

    if not refs:
        refs.extend(PDFPage.create_pages(pdf.doc))
    return Page(pdf, refs[number - 1], page_number=number, initial_doctop=0)


def _quick_chars(page) -> None:
    """Make `page` turn pdfminer's characters and paths into pdfplumber's dicts without the
    generic path.

    pdfplumber's `Page.process_object` resolves every attribute of every object recursively
    (`resolve_all`), which costs a quarter of a text-heavy page's parse. A character's or a ruling
    line's attributes are plain numbers, strings and tuples of them, so the same dict is built
    directly (same keys, same order, same values). Anything else (images, figures, an object with
    an unusual attribute: a pattern colour, a byte-string font name) goes through pdfplumber's own
    method.
    """
    from pdfminer.layout import LTChar, LTCurve, LTLine, LTRect
    from pdfplumber.page import ALL_ATTRS, lt_pat
    from pdfplumber.utils.pdfinternals import resolve_and_decode

    original = page.process_object
    if page.pdf.unicode_norm is not None:
        return
    page_number = page.page_number
    mb_x0, mb_top = page.mediabox[:2]
    height = page.height
    doctop = page.initial_doctop
    plain = frozenset((float, int, str, bool, type(None)))
    names: dict[str, object] = {}
    layouts: dict[tuple, list[str]] = {}  # an object's attribute names -> those pdfplumber keeps
    kinds = {cls: re.sub(lt_pat, "", cls.__name__).lower() for cls in (LTRect, LTLine, LTCurve)}

    def plain_attrs(obj, points: str | None = None) -> dict | None:
        """The attributes pdfplumber keeps, when all are plain values (`points`: the name of a
        list of (x, y) tuples, checked by the caller)."""
        d = obj.__dict__
        layout = tuple(d)
        keys = layouts.get(layout)
        if keys is None:
            keys = layouts[layout] = [k for k in layout if k in ALL_ATTRS]
        attr = {k: d[k] for k in keys}
        for k, v in attr.items():
            cls = v.__class__
            if cls not in plain and k != points:
                if cls is not tuple or not plain.issuperset(map(type, v)):
                    return None
        return attr

    def place(attr: dict) -> dict:
        if "y0" in attr:
            attr["top"] = (height - attr["y1"]) + mb_top
            attr["bottom"] = (height - attr["y0"]) + mb_top
            attr["doctop"] = doctop + attr["top"]
        if "x0" in attr and mb_x0 != 0:
            attr["x0"] = attr["x0"] + mb_x0
            attr["x1"] = attr["x1"] + mb_x0
        return attr

    def point2coord(pt):
        return (mb_x0 + pt[0], mb_top + height - pt[1])

    def process_char(obj):
        attr = plain_attrs(obj)
        if attr is None or attr.get("fontname").__class__ is not str:
            return original(obj)
        attr["object_type"] = "char"
        attr["page_number"] = page_number
        for cs in ("ncs", "scs"):
            if hasattr(obj, cs):
                name = getattr(obj, cs).name
                if name.__class__ is not str:
                    return original(obj)
                if name not in names:
                    names[name] = resolve_and_decode(name)
                attr[cs] = names[name]
        attr["text"] = obj.get_text()
        gs = obj.graphicstate
        attr["stroking_color"] = gs.scolor if isinstance(gs.scolor, tuple) else (gs.scolor,)
        attr["non_stroking_color"] = gs.ncolor if isinstance(gs.ncolor, tuple) else (gs.ncolor,)
        return place(attr)

    def process_path(obj, kind: str):
        pts = obj.__dict__.get("pts")
        if pts.__class__ is not list or hasattr(obj, "ncs") or hasattr(obj, "scs"):
            return original(obj)
        for pt in pts:
            if pt.__class__ is not tuple or not plain.issuperset(map(type, pt)):
                return original(obj)
        attr = plain_attrs(obj, points="pts")
        if attr is None:
            return original(obj)
        attr["object_type"] = kind
        attr["page_number"] = page_number
        attr["pts"] = list(map(point2coord, attr["pts"]))
        attr["path"] = [(cmd, *map(point2coord, points)) for cmd, *points in obj.original_path]
        attr["dash"] = obj.dashing_style
        return place(attr)

    def process_object(obj):
        cls = obj.__class__
        if cls is LTChar:
            return process_char(obj)
        if cls in kinds:
            return process_path(obj, kinds[cls])
        return original(obj)

    page.process_object = process_object


_TableState = PageState  # what a page needs to know about the one before it


def _parse_page(page, state: _TableState) -> _PageBlocks | None:
    number = page.page_number
    _quick_chars(page)
    # Fake bold prints each character twice, a hair apart: keep one (pdfplumber's
    # `page.dedupe_chars()` does the same, ten times slower).
    chars = dedupe_chars(page.chars)
    unmapped = [c for c in chars if c["text"].startswith("(cid:")]
    grids = []
    tables = find_tables(page)
    edges = page.edges if tables else []
    for table in tables:
        grid = grid_from_cells(number, list(table.cells))
        if grid is not None:
            x0, top, x1, bottom = table.bbox
            snap_to_rules(
                grid,
                [e["x0"] for e in edges if e["orientation"] == "v" and x0 - 4 <= e["x0"] <= x1 + 4
                 and e["bottom"] > top and e["top"] < bottom],
                [e["top"] for e in edges if e["orientation"] == "h" and top - 4 <= e["top"] <= bottom + 4
                 and e["x1"] > x0 and e["x0"] < x1],
            )
            grids.append(grid)
    grids.sort(key=lambda g: g.top)
    if unmapped:
        # Glyphs without a Unicode map (`(cid:NN)`): anywhere in a table, or more than a few on
        # the page, and the page is OCR'd; a few stray symbols in running text are dropped.
        tables = [g for g in grids if not is_narrative(g)]
        in_table = any(g.contains((c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2)
                       for c in unmapped for g in tables)
        if in_table or not tables or len(unmapped) > MAX_UNMAPPED_SHARE * len(chars):
            return None
        chars = [c for c in chars if not c["text"].startswith("(cid:")]
    outside = chars
    for grid in grids:
        outside = fill_grid(grid, outside)
    grids = [g for g in grids if any(c.text for c in g.cells)]

    text_lines = [ln for ln in chars_to_lines(outside) if not is_page_number(ln.text)]
    table_grids = [g for g in grids if not is_narrative(g)]
    # Tables printed without ruling lines: rebuilt from where the numbers sit. Without a ruled
    # table on the page, ruled running text may have taken a borderless table's lines too.
    borderless = borderless_grids(number, outside if table_grids else chars)
    for grid in borderless:
        text_lines = [ln for ln in text_lines if not grid.contains((ln.x0 + ln.x1) / 2, (ln.top + ln.bottom) / 2)]
    table_grids = sorted(table_grids + borderless, key=lambda g: g.top)
    result = _PageBlocks(number)
    result.items = lay_out_page(number, grids, table_grids, text_lines, state, borderless)
    return result


def _materialise(parsed: list[_PageBlocks]) -> dict[int, list[Block]]:
    """Pending items → blocks, once every page is read (a label cut by a page break is whole now)."""
    out: dict[int, list[Block]] = {}
    for pb in parsed:
        blocks: list[Block] = []
        for _, item in pb.items:
            if isinstance(item, Paragraph):
                blocks.append(item)
                continue
            grid, r = item
            row = _table_row(grid, r)
            if row is not None:
                blocks.append(row)
        out[pb.number] = blocks
    return out


def _table_row(grid: Grid, r: int) -> TableRow | None:
    """Row band r of a grid as a TableRow: every cell covering it, left to right.

    A label cell spanning several rows (a group label: 三、本年度办理结果, （三）不予公开, or a
    stacked header) is repeated on each row it covers, so every row carries its whole label path;
    a value spanning rows is given once, on its first row. Empty cells are kept as empty spans
    (the matcher tells a blank cell from a missing one by them). x positions are in the
    coordinates of the table's first page, so a table continued over pages keeps one set of columns.
    """
    if r in grid.skip_rows:
        return None
    spans = []
    for cell in grid.row_cells(r):
        if cell.r0 != r and not cell.is_label:
            continue
        spans.append(Span(text=cell.text, col=cell.c0, colspan=cell.c1 - cell.c0,
                          x0=round(grid.canon(cell.x0), 1), x1=round(grid.canon(cell.x1), 1)))
    if not any(s.text for s in spans):
        return None
    return TableRow(cells=spans, page=grid.page, table=grid.table, grid=True)


# --------------------------------------------------------------------------------------------
# OCR of pages without a usable text layer


def _ocr(data: bytes, numbers: list[int], source: str, *, have_text: bool, notes: list[str]) -> list[Block]:
    pages = ", ".join(str(n) for n in numbers)
    try:
        from gknb.extractors.ocr import ocr_pdf_pages
    except ImportError:
        if have_text:
            notes.append(f"pages {pages}: no text layer and no OCR available; not read")
            return []
        raise UnreadableDocument(f"{source}: no text layer (pages {pages}) and OCR is not available") from None
    return list(ocr_pdf_pages(data, numbers, source, notes=notes))


def _renumber_tables(blocks: list[Block], start: int) -> None:
    """OCR numbers its tables from 1 too; move them after the text pages' tables."""
    mapping: dict[int, int] = {}
    for b in blocks:
        if isinstance(b, TableRow):
            b.table = mapping.setdefault(b.table, start + len(mapping))


__all__ = ["read", "find_table_pages", "text_is_readable"]
