"""Document → cells. `extract_file` is the plain API under `gknb extract` and `gknb ingest`.

Each front end (text, html, docx, pdf, ocr, webtext) reads one form into the intermediate
`Document`; `matcher.match` turns any Document into the cells of CONTRACT.md. Front ends are
imported lazily so that `gknb extract` on a text file never loads pdfplumber or the OCR models.
"""

from __future__ import annotations

from pathlib import Path

from gknb.extractors.errors import ExtractError, NotAnnualReport, UnreadableDocument, UnsupportedFormat
from gknb.contract import Extraction

__all__ = [
    "extract_file", "extract_bytes", "sniff_format",
    "ExtractError", "NotAnnualReport", "UnreadableDocument", "UnsupportedFormat",
]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc / .wps / .xls (compound file)


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
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return extract_bytes(data, source=str(path))


def extract_bytes(data: bytes, source: str) -> Extraction:
    """Extract a document held in memory; `source` names it in errors and in the metadata."""
    if not data.strip():
        raise UnreadableDocument(f"{source}: empty file")
    fmt = sniff_format(data, source)
    if fmt == "text":
        from gknb.extractors import webtext

        if webtext.looks_like(data):  # crawled page text, cells run together: solved by the identities
            return webtext.extract(data, source)
    document = _read(fmt, data, source)
    from gknb.extractors.matcher import match

    return match(document)


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
