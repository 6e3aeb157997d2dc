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

from extractors import NotAnnualReport, UnreadableDocument, extract_bytes
from extractors.pdf import read, text_is_readable

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
    from extractors import ocr
    from extractors.document import Paragraph

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
