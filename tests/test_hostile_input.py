"""Hostile input (issue 15): bounded work per document, numbers that are what is printed or
nothing, one line for a document gknb cannot read.

Every fixture is generated here, small: the sample HTML report with one cell changed, a PDF of
2,000 pages drawing one image (hand-written, ~200 KB), a PNG header declaring 30000 x 30000
pixels (~100 KB compressed), a text file of one 50 MB line, a FIFO. The probes that could hang or
eat the machine on the old code run `gknb extract` in a subprocess with a memory cap and a
timeout, so a regression fails the test instead of the CI machine.
"""

from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from conftest import REPO
from gknb.extractors import (
    Pre2019Format,
    SpecialFile,
    TooLarge,
    UnreadableDocument,
    extract_bytes,
    extract_file,
)

GKNB = str(Path(sys.executable).parent / "gknb")
SAMPLE_HTML = REPO / "data" / "samples" / "html" / "city_2025_rowspan.html"
# The sample's 规章 row (section 2): 3 made, 5 published, 74 in force.
REGULATIONS_ROW = "<tr><td>规章</td><td>3</td><td>5</td><td>74</td></tr>"


def _html(old: str, new: str) -> bytes:
    page = SAMPLE_HTML.read_text(encoding="utf-8")
    assert old in page
    return page.replace(old, new, 1).encode("utf-8")


def _cell(extraction, section, row, col):
    cell = extraction.cell(section, row, col)
    assert cell is not None
    return cell


def _run_capped(args: list[str], *, mem_bytes: int = 1_500_000_000, timeout: float = 120,
                env: dict | None = None) -> subprocess.CompletedProcess:
    """`gknb …` with its address space capped: a run that would take gigabytes fails here."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))

    return subprocess.run([GKNB, *args], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=cap, env={**os.environ, **(env or {})})


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and "RapidOCR" not in ln]
    assert len(lines) == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    return lines[0]


# ---------------------------------------------------------------- 15.3 span bombs


def test_colspan_bomb_is_clamped_and_the_report_still_reads(tmp_path):
    bomb = tmp_path / "colspan_bomb.html"
    bomb.write_bytes(_html(REGULATIONS_ROW, REGULATIONS_ROW
                           + '<tr><td colspan="100000000" rowspan="100000000">注：单位为件</td></tr>'))
    # the old grid filled 10^16 slots: gigabytes within seconds; capped at 1.5 GB it dies
    proc = _run_capped(["extract", str(bomb)], timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = extract_file(bomb)
    assert [_cell(result, 2, "regulations", c).value for c in ("issued", "repealed", "in_force")] == [3, 5, 74]
    assert _cell(result, 3, "new_requests", "total").value == 14069
    assert any("clamped to 1000 (limits html_max_span)" in w for w in result.meta.warnings)


def test_span_cap_comes_from_the_limits_file(tmp_path, monkeypatch):
    overlay = tmp_path / "limits.yaml"
    overlay.write_text("html_max_span: 2\n", encoding="utf-8")
    monkeypatch.setenv("GKNB_LIMITS", str(overlay))
    from gknb.extractors import html

    doc = html.read_text('<table><tr><td colspan="9">a</td><td>1</td></tr></table>', "t.html")
    assert [(s.col, s.colspan, s.text) for s in doc.table_rows[0].cells] == [(0, 2, "a"), (2, 1, "1")]


# ---------------------------------------------------------------- 15.5 numbers are what is printed


def test_footnote_marks_are_stripped_and_flagged():
    data = _html(REGULATIONS_ROW, "<tr><td>规章</td><td>3<sup>1</sup></td><td>5²</td><td>74<sup>3</sup></td></tr>")
    result = extract_bytes(data, "footnotes.html")
    cells = [_cell(result, 2, "regulations", c) for c in ("issued", "repealed", "in_force")]
    assert [c.value for c in cells] == [3, 5, 74]  # never 31, 52, 743
    assert [c.raw for c in cells] == ["3¹", "5²", "74³"]  # raw keeps what is printed
    flagged = [w for w in result.meta.warnings if w.startswith("footnote:")]
    assert len(flagged) == 3 and "2/regulations/in_force" in flagged[2]


def test_footnote_marks_in_text_are_stripped_too():
    from gknb.extractors.values import footnote_note, parse_value

    assert parse_value("74³", "count") == ("value", 74)
    assert "'³'" in footnote_note("74³")
    assert parse_value("³", "count")[0] == "missing"  # a mark alone is no number


@pytest.mark.parametrize("cell", [
    '3<span style="display:none">00</span>',
    '3<span style="color:red; visibility: hidden">00</span>',
    '3<span hidden>00</span>',
    '3<span class="x">00</span><style>.x { display:none }</style>',
])
def test_text_hidden_by_css_is_not_read(cell):
    result = extract_bytes(_html(REGULATIONS_ROW, f"<tr><td>规章</td><td>{cell}</td><td>5</td><td>74</td></tr>"),
                           "hidden.html")
    assert _cell(result, 2, "regulations", "issued").value == 3  # was 300
    assert any(w.startswith("hidden text not read") for w in result.meta.warnings)


@pytest.mark.parametrize("printed", ["⑦④", "٧٤", "७४", "⑺"])
def test_digits_of_other_scripts_are_missing_never_a_number(printed):
    result = extract_bytes(_html(REGULATIONS_ROW, f"<tr><td>规章</td><td>3</td><td>5</td><td>{printed}</td></tr>"),
                           "digits.html")
    cell = _cell(result, 2, "regulations", "in_force")
    assert (cell.status, cell.value, cell.raw) == ("missing", None, printed)  # ⑦④ was 74
    assert _cell(result, 2, "regulations", "issued").value == 3  # the rest of the row in place
    assert any(w.startswith("digits: 2/regulations/in_force") for w in result.meta.warnings)


# ---------------------------------------------------------------- 15.6 implausible numbers


@pytest.mark.parametrize("printed", ["10000000000000", "-3"])
def test_implausible_count_is_missing_with_a_domain_warning_and_costs_nothing_else(printed):
    result = extract_bytes(_html(REGULATIONS_ROW, f"<tr><td>规章</td><td>3</td><td>5</td><td>{printed}</td></tr>"),
                           "absurd.html")
    cell = _cell(result, 2, "regulations", "in_force")
    assert (cell.status, cell.value, cell.raw) == ("missing", None, printed)
    assert any(w.startswith("domain: 2/regulations/in_force:") for w in result.meta.warnings)
    # every other cell of the report is read as before
    others = [c for c in result.cells if c.key != cell.key]
    assert sum(c.status == "value" for c in others) == 199 and all(c.status != "missing" for c in others)


def test_ceiling_of_a_count_comes_from_the_limits(tmp_path, monkeypatch):
    from gknb.extractors.values import parse_value

    assert parse_value("11398889", "count") == ("value", 11398889)  # a real city's 行政许可 count
    overlay = tmp_path / "limits.yaml"
    overlay.write_text("max_count: 1000\n", encoding="utf-8")
    monkeypatch.setenv("GKNB_LIMITS", str(overlay))
    status, why = parse_value("1001", "count")
    assert status == "missing" and why.startswith("domain:")
    assert parse_value("-1001", "signed_count")[0] == "missing"
    assert parse_value("-999", "signed_count") == ("value", -999)


def test_every_number_returned_fits_the_warehouse_type():
    """cells.value is DECIMAL(18,6): below 10^12 with 6 decimals. Nothing the parser returns is larger."""
    from gknb.extractors.values import parse_value

    for printed in ("999999999999", "1000000000000", "99999999999999.5元", "9" * 40):
        for value_type in ("count", "signed_count", "amount_10k_yuan"):
            status, value = parse_value(printed, value_type)
            assert status != "value" or abs(value) < 10 ** 12, (printed, value_type, value)


# ---------------------------------------------------------------- 15.2 limits per document


def _image_pdf(pages: int) -> bytes:
    """A PDF of `pages` pages that all draw one 200 x 280 grey image (one XObject shared)."""
    img = zlib.compress(bytes([200]) * (200 * 280))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None,
            b"<< /Type /XObject /Subtype /Image /Width 200 /Height 280 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % len(img) + img + b"\nendstream",
            b"<< /Length 35 >>\nstream\nq 595 0 0 842 0 0 cm /Im0 Do Q\nendstream"]
    kids = []
    for _ in range(pages):
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                    b"/Resources << /XObject << /Im0 3 0 R >> >> /Contents 4 0 R >>")
        kids.append(b"%d 0 R" % len(objs))
    objs[1] = b"<< /Type /Pages /Count %d /Kids [%s] >>" % (pages, b" ".join(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_pdf_over_max_pages_is_rejected_too_large_before_any_ocr(tmp_path):
    bomb = tmp_path / "scan_bomb.pdf"
    bomb.write_bytes(_image_pdf(2000))
    # the old code OCR'd all 2,000 pages (hours); now one line, at once
    line = _one_line_error(_run_capped(["extract", str(bomb)], timeout=60))
    assert "2,000 pages, over the limit of 200 (limits max_pages)" in line
    with pytest.raises(TooLarge) as info:
        extract_file(bomb)
    assert info.value.kind == "too_large"


def _png_header_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height white pixels: tiny on disk, huge decoded."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    idat = bytearray()
    for _ in range(height):
        idat += comp.compress(row)
    idat += comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", bytes(idat)) + chunk(b"IEND", b""))


def test_huge_png_is_one_line_too_large_not_a_decompression_bomb_traceback(tmp_path):
    png = tmp_path / "huge.png"
    png.write_bytes(_png_header_bomb(30000, 30000))
    assert png.stat().st_size < 1_000_000
    line = _one_line_error(_run_capped(["extract", str(png)], timeout=60))
    assert "huge.png: image" in line and "limit" in line
    with pytest.raises(TooLarge):
        extract_file(png)


def test_image_under_pillows_bomb_limit_but_over_ours_is_too_large(tmp_path, monkeypatch):
    overlay = tmp_path / "limits.yaml"
    overlay.write_text("max_image_pixels: 1000000\n", encoding="utf-8")
    monkeypatch.setenv("GKNB_LIMITS", str(overlay))
    with pytest.raises(TooLarge, match="2000 x 1000 pixels, over the limit of 1,000,000"):
        extract_bytes(_png_header_bomb(2000, 1000), "wide.png")


# ---------------------------------------------------------------- 15.7 memory bounded


def test_fifty_megabyte_one_line_text_is_rejected_without_taking_gigabytes(tmp_path):
    big = tmp_path / "one_line.txt"
    with big.open("wb") as fh:
        chunk = ("规章" + "0" * 98).encode("utf-8") * 10_000  # ~1 MB, no newline
        for _ in range(50):
            fh.write(chunk)
    # the old reader took ~2.9 GB on this file; capped at 1.2 GB it fails
    line = _one_line_error(_run_capped(["extract", str(big)], mem_bytes=1_200_000_000, timeout=90))
    assert "over the limit of 20,971,520 (limits max_text_bytes)" in line


def test_text_just_under_the_limit_stays_within_memory(tmp_path, monkeypatch):
    overlay = tmp_path / "limits.yaml"
    overlay.write_text("max_text_bytes: 100000\n", encoding="utf-8")
    monkeypatch.setenv("GKNB_LIMITS", str(overlay))
    with pytest.raises(TooLarge) as info:
        extract_bytes(b"a" * 100_001, "t.txt")
    assert info.value.kind == "too_large"


def test_fifo_is_a_special_file_not_a_hang(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(SpecialFile) as info:
        extract_file(fifo)  # the old code blocked here forever, reading a pipe nobody writes
    assert info.value.kind == "special_file"
    link = tmp_path / "zero.txt"
    link.symlink_to("/dev/zero")
    with pytest.raises(SpecialFile):
        extract_file(link)


def test_text_pdf_pages_are_parsed_only_where_the_tables_are(samples, monkeypatch):
    """pdfplumber makes a page only for the table pages (its `pdf.pages` and `close()` make all)."""
    import pdfplumber.page

    from gknb.extractors import pdf

    made = []
    original = pdfplumber.page.Page.__init__

    def counting(self, pdf_, page_obj, page_number, *a, **k):
        made.append(page_number)
        original(self, pdf_, page_obj, page_number, *a, **k)

    monkeypatch.setattr(pdfplumber.page.Page, "__init__", counting)
    doc = pdf.read((samples / "pdf" / "huaian_2024.pdf").read_bytes(), "huaian_2024.pdf")
    assert doc.pages == 6
    assert sorted(made) == sorted(set(made)) and 1 not in made  # page 1 is narrative only


# ---------------------------------------------------------------- 15.12 one line, exit 2


def _flipped(data: bytes, seed: int, n: int) -> bytes:
    import random

    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(n):
        i = rng.randrange(len(out) // 10, len(out))
        out[i] ^= 0xFF
    return bytes(out)


def test_byte_flipped_pdf_is_read_as_far_as_it_goes_or_one_line(samples, tmp_path):
    # seed 3 breaks an object pdfminer needs (PSSyntaxError: 89 lines of traceback before)
    bad = tmp_path / "flipped.pdf"
    bad.write_bytes(_flipped((samples / "pdf" / "hongze_2023.pdf").read_bytes(), seed=3, n=200))
    proc = _run_capped(["extract", str(bad)], mem_bytes=16_000_000_000, timeout=300)  # OCR needs room
    assert "Traceback" not in proc.stderr
    if proc.returncode != 0:
        _one_line_error(proc)


def test_parser_exception_becomes_unreadable_document(monkeypatch):
    """Any exception a third-party parser raises on damaged bytes is an UnreadableDocument."""
    from pdfminer.psexceptions import PSSyntaxError

    from gknb.extractors import pdf

    def broken(data, source):
        raise PSSyntaxError("Invalid dictionary construct")

    monkeypatch.setattr(pdf, "read", broken)
    with pytest.raises(UnreadableDocument, match=r"x\.pdf: damaged pdf file \(PSSyntaxError: Invalid dictionary"):
        extract_bytes(b"%PDF-1.4 junk", "x.pdf")


def test_a_bug_in_gknb_is_not_hidden_as_a_bad_document(monkeypatch):
    from gknb.extractors import pdf

    def buggy(data, source):
        raise KeyError("a bug")

    monkeypatch.setattr(pdf, "read", buggy)
    with pytest.raises(KeyError):
        extract_bytes(b"%PDF-1.4 junk", "x.pdf")


def test_word_superscript_is_a_footnote_mark_and_hidden_runs_are_not_read():
    import io

    import docx

    from gknb.extractors import docx as docx_front
    from gknb.extractors.values import parse_value

    word = docx.Document()
    table = word.add_table(rows=1, cols=3)
    label, marked, hidden = table.rows[0].cells
    label.text = "规章"
    para = marked.paragraphs[0]
    para.add_run("74")
    para.add_run("3").font.superscript = True
    para = hidden.paragraphs[0]
    para.add_run("3")
    para.add_run("00").font.hidden = True
    buf = io.BytesIO()
    word.save(buf)
    row = docx_front.read(buf.getvalue(), "t.docx").table_rows[0]
    assert row.texts == ["规章", "74³", "3"]  # was 743 and 300
    assert parse_value(row.texts[1], "count") == ("value", 74)


def test_word_zip_bomb_is_too_large_before_it_is_inflated(tmp_path, monkeypatch):
    import io
    import zipfile

    overlay = tmp_path / "limits.yaml"
    overlay.write_text("max_text_bytes: 100000\n", encoding="utf-8")
    monkeypatch.setenv("GKNB_LIMITS", str(overlay))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document>" + " " * 2_000_000 + "</w:document>")
    assert len(buf.getvalue()) < 50_000  # two megabytes of markup in a few kilobytes
    with pytest.raises(TooLarge, match="bytes of Word XML, over the limit of 1,000,000"):
        extract_bytes(buf.getvalue(), "bomb.docx")
