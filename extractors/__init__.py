"""Document → cells. `extract_file` is the plain API under `gknb extract` and `gknb ingest`.

Extraction is assembled in one place, `extract_bytes`:

    sniff → limits → read (front end → Document) → reporting year (a report on a year before 2019
    is `Pre2019Format`) → [HTML without tables: its text] → template → match → identities

Each front end (text, html, docx, pdf, ocr, webtext) reads one form into the intermediate
`Document`; `matcher.match` finds the reporting year and the template, matches the rows and fills
what the identities settle, for any Document. Front ends are imported lazily so that
`gknb extract` on a text file never loads pdfplumber or the OCR models.

Bounded work per document: a text form larger than `limits().max_text_bytes`, a PDF of more than
`max_pages` pages and an image of more than `max_image_pixels` pixels are rejected as `too_large`
before they are parsed. An exception a third-party parser raises on damaged bytes (pdfminer,
PDFium, Pillow, lxml, python-docx) is a one-line `UnreadableDocument`, never a traceback.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from gknb.contract import Extraction
from gknb.extractors.errors import (
    ExtractError,
    NotAnnualReport,
    Pre2019Format,
    SpecialFile,
    TooLarge,
    UnreadableDocument,
    UnsupportedFormat,
)

__all__ = [
    "extract_file", "extract_bytes", "sniff_format",
    "ExtractError", "NotAnnualReport", "Pre2019Format", "SpecialFile", "TooLarge",
    "UnreadableDocument", "UnsupportedFormat",
]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc / .wps / .xls (compound file)
_TEXT_FORMS = ("text", "markdown", "html")
# The first year of the national tables (the 2019 template, reports on 2019 published in 2020).
FIRST_TEMPLATE_YEAR = 2019
# Parsers whose exceptions on damaged input mean "unreadable", not "a bug in gknb".
_PARSER_MODULES = ("pdfminer", "pdfplumber", "pypdfium2", "PIL", "lxml", "docx", "zipfile", "zlib",
                   "struct", "cv2", "rapidocr", "onnxruntime", "xml", "numpy")


def sniff_format(data: bytes, name: str = "") -> str:
    """The document's form from its bytes first, its name second (sites mislabel files)."""
    head = data[:2048].lstrip()
    lower_name = name.lower()
    if head.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(_OLE_MAGIC):
        return "ole"
    if data.startswith(b"PK\x03\x04"):
        return "docx" if b"word/" in data[:65536] or lower_name.endswith(".docx") else "zip"
    if data[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb") or data[:3] == b"\xff\xd8\xff":
        return "image"
    low = head[:1024].lower()
    if low.startswith((b"<!doctype html", b"<html")) or b"<table" in data[:200000].lower() or lower_name.endswith((".html", ".htm", ".shtml")):
        return "html"
    if lower_name.endswith(".md"):
        return "markdown"
    return "text"


def extract_file(path: str | Path) -> Extraction:
    path = Path(path)
    try:
        st = os.stat(path)  # follows a symlink: a link to /dev/zero is a device
    except OSError as exc:
        raise UnreadableDocument(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a FIFO, device or socket)"
        raise SpecialFile(f"{path}: {what}; not read")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return extract_bytes(data, source=str(path))


def extract_bytes(data: bytes, source: str) -> Extraction:
    """Extract a document held in memory; `source` names it in errors and in the metadata."""
    if not data.strip():
        raise UnreadableDocument(f"{source}: empty file")
    fmt = sniff_format(data, source)
    _check_size(fmt, data, source)
    try:
        return _extract(fmt, data, source)
    except ExtractError:
        raise
    except RecursionError as exc:
        raise UnreadableDocument(f"{source}: nested too deeply to parse ({fmt})") from exc
    except Exception as exc:
        if _from_parser(exc):
            raise UnreadableDocument(f"{source}: damaged {fmt} file ({type(exc).__name__}: "
                                     f"{_one_line(exc)})") from exc
        raise


def _extract(fmt: str, data: bytes, source: str) -> Extraction:
    return _flag_implausible(_extract_cells(fmt, data, source))


def _extract_cells(fmt: str, data: bytes, source: str) -> Extraction:
    from gknb.extractors.matcher import match

    if fmt == "text":
        from gknb.extractors import webtext

        if webtext.looks_like(data):  # crawled page text, cells run together: solved by the identities
            _raise_if_pre_2019(webtext.read(data, source), source)
            return webtext.extract(data, source)
    document = _read(fmt, data, source)
    # metadata first: a report on a year before the national tables has none of the cells
    _raise_if_pre_2019(document, source)
    if fmt != "html":
        return match(document)
    try:
        extraction = match(document)
    except NotAnnualReport:
        extraction = None
    if extraction is None or all(c.status == "missing" for c in extraction.cells):
        # A page whose CMS flattened the report's tables into paragraphs (its only <table> may be
        # the site's navigation): the page's text, read as text or as run-together web text.
        flattened = _flattened_html(document, source)
        if flattened is not None:
            return flattened
    return extraction if extraction is not None else match(document)


def _read(fmt: str, data: bytes, source: str):
    if fmt == "ole":
        raise UnsupportedFormat(
            f"{source}: a .doc/.wps (OLE) file; convert it to .docx or PDF first "
            "(libreoffice --headless --convert-to docx)"
        )
    if fmt == "zip":
        raise UnsupportedFormat(f"{source}: a zip archive that is not a Word .docx file")
    if fmt == "pdf":
        from gknb.extractors import pdf

        return pdf.read(data, source)
    if fmt == "image":
        from gknb.extractors import ocr

        return ocr.read_image(data, source)
    if fmt == "docx":
        from gknb.extractors import docx

        return docx.read(data, source)
    if fmt == "html":
        from gknb.extractors import html

        return html.read(data, source)
    from gknb.extractors import text

    return text.read(data, source, markdown=(fmt == "markdown"))


def _check_size(fmt: str, data: bytes, source: str) -> None:
    from gknb.settings import limits

    cap = limits().max_text_bytes
    if fmt in _TEXT_FORMS and len(data) > cap:
        raise TooLarge(f"{source}: {len(data):,} bytes of {fmt}, over the limit of {cap:,} (limits max_text_bytes)")


def _raise_if_pre_2019(document, source: str) -> None:
    """A report on a year before 2019 has none of the national tables: say so, with its year."""
    from gknb.extractors import meta

    if not meta.has_report_title(document):
        return
    year = meta.reporting_year(document)
    if year is not None and year < FIRST_TEMPLATE_YEAR:
        raise Pre2019Format(
            f"{source}: an annual report on {year}, before the national tables of the 2019 template; "
            "no cells to read", year=year)


def _flattened_html(document, source: str) -> Extraction | None:
    """HTML without a single table row: read the page's visible text the way a text file or
    crawled web text is read (labels and numbers on lines, or run together). None when that
    finds no row of the template either."""
    from gknb.extractors import text as text_front
    from gknb.extractors import webtext
    from gknb.extractors.matcher import match

    page_text = "\n".join(p.text for p in document.paragraphs)
    data = page_text.encode("utf-8")
    note = "the page's tables were flattened into paragraphs (no <table>); read from its text"
    if webtext.looks_like(page_text):
        try:
            extraction = webtext.extract(data, source)
        except NotAnnualReport:
            return None
        extraction.meta.format = "html"
        extraction.meta.warnings.insert(0, note)
        _fill_meta(extraction, document)
        return extraction
    as_text = text_front.read(data, source)
    if not as_text.table_rows:
        return None
    as_text.format = "html"
    as_text.title = document.title
    as_text.notes = [note, *document.notes]
    try:
        extraction = match(as_text)
    except NotAnnualReport:
        return None
    if all(c.status == "missing" for c in extraction.cells):
        return None
    return extraction


def _fill_meta(extraction: Extraction, document) -> None:
    """What the web-text solver could not read of the report itself (the page's <title>, its
    declared date), from the page as HTML."""
    from gknb.extractors import meta as meta_mod

    fields = ("agency", "year", "published", "province", "city", "district", "adcode")
    if all(getattr(extraction.meta, f) is not None for f in fields):
        return
    page_meta = meta_mod.extract_meta(document, extraction.meta.template)
    for f in fields:
        if getattr(extraction.meta, f) is None and getattr(page_meta, f) is not None:
            setattr(extraction.meta, f, getattr(page_meta, f))
    extraction.meta.warnings = [w for w in extraction.meta.warnings
                                if not (w.startswith("agency:") and extraction.meta.agency)]


_KEPT_RAW = re.compile(r"^(?:unsettled|unplaced):\s*'?(?P<printed>[^']*)'?$")


def _flag_implausible(extraction: Extraction) -> Extraction:
    """Every front end alike: a `missing` cell whose printed text is an implausible number (a
    `domain:` or `unit:` reason of `values.parse_value`) has that reason in the warnings, which
    is what the quality checks raise their findings from (the web-text solver keeps such a run
    in `raw` as `unsettled: '…'` without saying why)."""
    from gknb.catalog import load_catalog
    from gknb.extractors.values import DOMAIN, UNIT, keyed_warning, parse_value

    template = extraction.meta.template
    if template is None:
        return extraction
    types = {cc.key: cc.value_type for cc in load_catalog().template_cells(template, variants=True)}
    warnings = extraction.meta.warnings
    for cell in extraction.cells:
        if cell.status != "missing" or not cell.raw or cell.key not in types:
            continue
        m = _KEPT_RAW.match(cell.raw)
        printed = m.group("printed") if m else cell.raw
        status, reason = parse_value(printed, types[cell.key])
        if status == "missing" and str(reason).startswith((DOMAIN, UNIT)):
            warning = keyed_warning(f"{cell.section}/{cell.row_key}/{cell.col_key}", reason)
            if warning not in warnings:
                warnings.append(warning)
    return extraction


def _from_parser(exc: BaseException) -> bool:
    """Whether an exception comes from a third-party parser (its type's module, or the innermost
    frame of its traceback, lies in one)."""
    def third_party(module: str) -> bool:
        return module.split(".")[0] in _PARSER_MODULES

    if third_party(type(exc).__module__ or ""):
        return True
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    module = last.tb_frame.f_globals.get("__name__", "")
    return third_party(module)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("…" if len(text) > 200 else "")
