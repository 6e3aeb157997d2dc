"""PDFs that cannot be read give one clear line and a non-zero exit, never a traceback or cells.

Encrypted: tests/fixtures/pdf/encrypted.pdf (a blank page encrypted with qpdf, AES-256, user
password required). Not a report: tests/fixtures/pdf/not_a_report.pdf (a Chinese notice, Word →
LibreOffice). The rest are made here: truncated bytes of a real report, zero bytes, a PDF without
pages, a blank page, a page that is only a blank image.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from gknb.extractors import NotAnnualReport, UnreadableDocument, extract_bytes
from gknb.extractors.pdf import read, text_is_readable

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pdf"
GKNB = Path(sys.executable).parent / "gknb"


def _saved(doc: pdfium.PdfDocument) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _zero_pages() -> bytes:
    return _saved(pdfium.PdfDocument.new())


def _blank_page() -> bytes:
    doc = pdfium.PdfDocument.new()
    doc.new_page(595, 842)
    return _saved(doc)


def _blank_image_page() -> bytes:
    from PIL import Image

    doc = pdfium.PdfDocument.new()
    page = doc.new_page(595, 842)
    image = pdfium.PdfImage.new(doc)
    bitmap = pdfium.PdfBitmap.from_pil(Image.new("RGB", (300, 400), (255, 255, 255)))
    image.set_bitmap(bitmap)
    image.set_matrix(pdfium.PdfMatrix().scale(595, 842))
    page.insert_obj(image)
    page.gen_content()
    return _saved(doc)


def _truncated(samples: Path) -> bytes:
    data = (samples / "pdf" / "hongze_2023.pdf").read_bytes()
    return data[: len(data) // 2]


CASES = {
    "encrypted": (lambda samples: (FIXTURES / "encrypted.pdf").read_bytes(), UnreadableDocument,
                  "encrypted PDF"),
    "truncated": (_truncated, UnreadableDocument, "corrupt PDF"),
    "zero_bytes": (lambda samples: b"", UnreadableDocument, "empty file"),
    "zero_pages": (lambda samples: _zero_pages(), UnreadableDocument, "PDF has no pages"),
    "blank_page": (lambda samples: _blank_page(), UnreadableDocument, "no text and no images"),
    "image_without_text": (lambda samples: _blank_image_page(), UnreadableDocument, "no text layer"),
    "not_a_report": (lambda samples: (FIXTURES / "not_a_report.pdf").read_bytes(), NotAnnualReport,
                     "no annual-report tables"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_pdf_raises_a_clear_error(case, samples):
    make, error, words = CASES[case]
    data = make(samples)
    with pytest.raises(error) as info:
        extract_bytes(data, source=f"{case}.pdf")
    message = str(info.value)
    assert words in message
    assert message.startswith(f"{case}.pdf: ")
    assert "\n" not in message


@pytest.mark.parametrize("case", ["encrypted", "truncated", "zero_pages", "blank_page", "not_a_report"])
def test_gknb_extract_exits_non_zero_with_one_line(case, samples, tmp_path):
    make, _, words = CASES[case]
    path = tmp_path / f"{case}.pdf"
    path.write_bytes(make(samples))
    out = subprocess.run([str(GKNB), "extract", str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert words in lines[0] and "Traceback" not in out.stderr


def test_front_end_rejects_zero_bytes_itself():
    # extract_bytes stops empty input before sniffing; the front end must not rely on that.
    with pytest.raises(UnreadableDocument, match="empty file"):
        read(b"", "empty.pdf")


def test_encrypted_fixture_really_needs_a_password():
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument((FIXTURES / "encrypted.pdf").read_bytes())
    doc = pdfium.PdfDocument((FIXTURES / "encrypted.pdf").read_bytes(), password="user-secret")
    assert len(doc) == 1


@pytest.mark.parametrize("text, readable", [
    ("洪泽区人民政府2023年政府信息公开工作年度报告" * 2, True),
    ("", False),
    ("   \n  - 3 -  ", False),
    ("\ue01a\ue02b\ue03c" * 20, False),  # private-use glyph codes: a font without a Unicode map
    ("\ufffd" * 30 + "年度报告", False),
    ("Ä¸­Å½Ã¥Â\x8f¸Ã¤Â½Â" * 10, False),  # GBK bytes read as Latin-1: no Chinese at all
])
def test_text_layer_readability(text, readable):
    assert text_is_readable(text) is readable


def test_page_without_unicode_map_goes_to_ocr_not_text(monkeypatch):
    """no_unicode_map.pdf: page 3 of 洪泽区 with its fonts' ToUnicode maps removed (qpdf), so
    pypdfium2 reads glyph numbers and pdfplumber `(cid:NN)`: the page must be OCR'd, never read."""
    from gknb.extractors import ocr
    from gknb.extractors.document import Paragraph

    data = (FIXTURES / "no_unicode_map.pdf").read_bytes()
    pdf = pdfium.PdfDocument(data)
    garbled = pdf[0].get_textpage().get_text_range()
    pdf.close()
    assert not text_is_readable(garbled)
    calls = []

    def fake_ocr(pdf_bytes, page_numbers, source, notes=None):
        calls.append(list(page_numbers))
        return [Paragraph(text="（OCR 读出的文字）", page=n) for n in page_numbers]

    monkeypatch.setattr(ocr, "ocr_pdf_pages", fake_ocr)
    document = read(data, "no_unicode_map.pdf")
    assert calls == [[1]]
    assert [b.text for b in document.blocks] == ["（OCR 读出的文字）"]


@pytest.mark.parametrize("where, ocr_expected", [("table", True), ("text", False)])
def test_unmapped_glyphs_in_a_table_send_the_page_to_ocr(samples, monkeypatch, where, ocr_expected):
    """`(cid:NN)` glyphs (pdfminer's name for a glyph without a Unicode map) on page 4 of 洪泽区:
    one inside the table could be a digit, so the page is OCR'd; one stray in the running text
    below the tables is dropped and the page read as text."""
    import gknb.extractors.pdf as pdf_front
    from gknb.extractors import ocr
    from gknb.extractors.document import Paragraph

    real = pdf_front.dedupe_chars
    top = 130.0 if where == "table" else 700.0  # page 4: the request table's rows / the narrative

    def with_unmapped(chars):
        kept = real(chars)
        if kept and kept[0]["page_number"] == 4:
            kept.append(dict(kept[0], text="(cid:17)", x0=480.0, x1=486.0, top=top, bottom=top + 10))
        return kept

    calls = []

    def fake_ocr(pdf_bytes, page_numbers, source, notes=None):
        calls.append(list(page_numbers))
        return [Paragraph(text="OCR", page=n) for n in page_numbers]

    monkeypatch.setattr(pdf_front, "dedupe_chars", with_unmapped)
    monkeypatch.setattr(ocr, "ocr_pdf_pages", fake_ocr)
    doc = read((samples / "pdf" / "hongze_2023.pdf").read_bytes(), "hongze_2023.pdf")
    assert calls == ([[4]] if ocr_expected else [])
    page4 = [b for b in doc.blocks if b.page == 4]
    assert not any("(cid:" in (b.text if isinstance(b, Paragraph) else "".join(b.texts)) for b in doc.blocks)
    if ocr_expected:
        assert [b.text for b in page4] == ["OCR"]
    else:
        assert any(not isinstance(b, Paragraph) for b in page4)


def test_image_pages_without_ocr_installed_say_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "gknb.extractors.ocr", None)  # `from gknb.extractors.ocr import …` fails
    with pytest.raises(UnreadableDocument) as info:
        read(_blank_image_page(), "scan.pdf")
    assert str(info.value) == "scan.pdf: no text layer (pages 1) and OCR is not available"
