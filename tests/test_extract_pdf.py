"""Text PDFs read by geometry: the two corpus PDFs cell for cell, the rows the front end builds,
a borderless twin (the same pages with every ruling line removed), and PDFs made by LibreOffice
from synthetic reports with known values."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from conftest import read_jsonl
from gknb.extractors import extract_bytes, extract_file
from gknb.extractors.document import Paragraph, TableRow
from gknb.extractors.pdf import PageText, find_table_pages, read
from gknb.extractors.pdf_grid import is_page_number

REPORTS = ["hongze_2023", "huaian_2024"]
GKNB = Path(sys.executable).parent / "gknb"


@pytest.fixture(scope="module")
def documents(samples):
    return {name: read((samples / "pdf" / f"{name}.pdf").read_bytes(), f"{name}.pdf") for name in REPORTS}


@pytest.fixture(scope="module")
def extractions(samples):
    return {name: extract_file(samples / "pdf" / f"{name}.pdf") for name in REPORTS}


def _assert_same_cells(extraction, truth_path: Path) -> None:
    meta, expected = read_jsonl(truth_path)
    got = {c.key: c for c in extraction.cells}
    assert set(got) == set(expected), (set(got) ^ set(expected))
    wrong = []
    for key, want in expected.items():
        cell = got[key]
        if cell.status != want["status"]:
            wrong.append((key, want["status"], want["value"], cell.status, cell.value))
        elif want["status"] == "value" and abs(float(cell.value) - float(want["value"])) > 1e-9:
            wrong.append((key, want["value"], cell.value))
    assert wrong == []
    for field in ("template", "year"):
        assert getattr(extraction.meta, field) == meta[field], field


# ---------------------------------------------------------------- the corpus PDFs, cell for cell


@pytest.mark.parametrize("name", REPORTS)
def test_every_cell_as_the_truth_file(extractions, truth, name):
    _assert_same_cells(extractions[name], truth / f"{name}.jsonl")


@pytest.mark.parametrize("name", REPORTS)
def test_metadata_as_the_truth_file(extractions, truth, name):
    meta, _ = read_jsonl(truth / f"{name}.jsonl")
    got = extractions[name].meta
    for field in ("agency", "year", "template", "province", "city", "district"):
        assert getattr(got, field) == meta[field], field
    assert got.format == "pdf"
    assert got.pages == {"hongze_2023": 5, "huaian_2024": 6}[name]


@pytest.mark.parametrize("name, key, page", [
    ("hongze_2023", (2, "admin_licensing", "decisions"), 2),
    ("hongze_2023", (2, "admin_fees", "amount"), 3),
    ("hongze_2023", (3, "new_requests", "total"), 3),
    ("hongze_2023", (3, "unavailable_unclear", "natural_person"), 4),  # first row after the break
    ("hongze_2023", (3, "other", "total"), 4),
    ("hongze_2023", (4, "lawsuit_after_review", "upheld"), 4),
    ("huaian_2024", (2, "admin_licensing", "decisions"), 3),
    ("huaian_2024", (2, "admin_penalty", "decisions"), 4),
    ("huaian_2024", (3, "unavailable_not_held", "total"), 4),
    ("huaian_2024", (3, "unavailable_needs_creation", "total"), 5),
    ("huaian_2024", (3, "other_other", "natural_person"), 5),
    ("huaian_2024", (4, "admin_review", "total"), 5),
])
def test_cells_keep_their_page(extractions, name, key, page):
    cell = extractions[name].cell(*key)
    assert cell.status == "value"
    assert cell.page == page


def test_printed_numbers_stay_as_printed(extractions):
    hongze, huaian = extractions["hongze_2023"], extractions["huaian_2024"]
    assert hongze.cell(2, "admin_fees", "amount").value == 7730.28
    # 洪泽区 prints 行政复议 10 1 0 0 0: loaded as printed, for the quality checks to flag.
    assert [hongze.cell(4, "admin_review", c).value for c in ("upheld", "corrected", "other", "pending", "total")] \
        == [10, 1, 0, 0, 0]
    assert huaian.cell(2, "admin_penalty", "decisions").value == 3985758
    assert huaian.cell(3, "total_processed", "total").value == 3050


def test_gknb_extract_prints_the_cells(samples):
    out = subprocess.run([str(GKNB), "extract", str(samples / "pdf" / "huaian_2024.pdf")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith('{"meta": ')
    assert len(lines) == 1 + 200
    assert '"row_key": "other_unpaid_fee", "col_key": "total", "status": "value", "value": 6, "raw": "6", "page": 5' \
        in out.stdout


# ---------------------------------------------------------------- the rows, by geometry


def _rows(document) -> list[TableRow]:
    return document.table_rows


def _row(document, leaf: str) -> TableRow:
    found = [r for r in _rows(document) if any(s.text == leaf for s in r.cells)]
    assert len(found) == 1, (leaf, [r.texts for r in found])
    return found[0]


def _values(row: TableRow) -> list[str]:
    return [s.text for s in row.cells if s.text and re.fullmatch(r"[\d.]+", s.text)]


def test_only_the_table_pages_are_parsed_with_pdfplumber(samples):
    import pypdfium2 as pdfium

    for name, expected in (("hongze_2023", [2, 3, 4]), ("huaian_2024", [3, 4, 5])):
        pdf = pdfium.PdfDocument(str(samples / "pdf" / f"{name}.pdf"))
        pages = [PageText(i + 1, pdf[i].get_textpage().get_text_range(), False, True) for i in range(len(pdf))]
        pdf.close()
        assert find_table_pages(pages) == expected


@pytest.mark.parametrize("name", REPORTS)
def test_rows_are_grid_rows_with_pages(documents, name):
    rows = _rows(documents[name])
    assert rows and all(r.grid for r in rows)
    assert all(s.col is not None and s.x0 is not None and s.x1 is not None for r in rows for s in r.cells)
    assert {r.page for r in rows} == {"hongze_2023": {2, 3, 4}, "huaian_2024": {3, 4, 5}}[name]


@pytest.mark.parametrize("name", REPORTS)
def test_vertical_group_labels_lead_every_row_they_cover(documents, name):
    # 三、本年度办理结果 and （三）不予公开 are printed one character (or a few) per line, down
    # the rows they group.
    for leaf in ("1.属于国家秘密", "8.属于行政查询事项"):
        row = _row(documents[name], leaf)
        assert row.texts[:3] == ["三、本年度办理结果", "（三）不予公开", leaf]
        assert len(_values(row)) == 7


@pytest.mark.parametrize("name", REPORTS)
def test_stacked_column_headers_are_one_label_over_the_values(documents, name):
    doc = documents[name]
    header = next(r for r in _rows(doc) if any(s.text == "商业企业" for s in r.cells))
    cols = {s.text: s.col for s in header.cells}
    row = next(r for r in _rows(doc) if r.cells[0].text == "一、本年新收政府信息公开申请数量")
    value_cols = [s.col for s in row.cells if s.text and s.text.isdigit()]
    assert [cols[k] for k in ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")] \
        == value_cols


def test_table_continues_over_the_page_break(documents):
    huaian = documents["huaian_2024"]
    before = _row(huaian, "1.本机关不掌握相关政府信息")
    after = _row(huaian, "2.没有现成信息需要另行制作")
    assert (before.page, after.page) == (4, 5)
    assert before.table == after.table
    # （四）无 / 法提供: the group label the page break cut is whole on both pages.
    assert before.texts[:2] == after.texts[:2] == ["三、本年度办理结果", "（四）无法提供"]
    assert [s.col for s in before.cells] == [s.col for s in after.cells]
    hongze = documents["hongze_2023"]
    row = _row(hongze, "3.补正后申请内容仍不明确")
    assert row.page == 4
    assert row.texts[:2] == ["三、本年度办理结果", "（四）无法提供"]
    assert row.table == _row(hongze, "2.没有现成信息需要另行制作").table


def test_wrapped_labels_are_one_cell(documents):
    hongze, huaian = documents["hongze_2023"], documents["huaian_2024"]
    row = _row(hongze, "5.要求行政机关确认或重新出具已获取信息")
    assert _values(row) == ["0"] * 7
    row = _row(huaian, "1、申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请")
    assert _values(row) == ["67", "3", "0", "0", "1", "0", "71"]
    row = _row(huaian, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）")
    assert _values(row) == ["447", "7", "0", "0", "0", "0", "454"]


def test_single_other_row_of_the_2021_template(documents):
    row = next(r for r in _rows(documents["hongze_2023"]) if "（六）其他处理" in r.texts)
    assert _values(row) == ["0"] * 7
    assert not any("申请人" in t for t in row.texts)


def test_fake_bold_characters_are_not_doubled(documents):
    # 洪泽区 prints the first rows in fake bold (each glyph drawn twice).
    texts = {s.text for r in _rows(documents["hongze_2023"]) for s in r.cells}
    assert "一、本年新收政府信息公开申请数量" in texts
    assert "本年收费金额（单位：万元）" in texts


@pytest.mark.parametrize("name", REPORTS)
def test_page_numbers_are_dropped_and_the_narrative_kept(documents, name):
    paragraphs = [b for b in documents[name].blocks if isinstance(b, Paragraph)]
    assert not any(is_page_number(p.text) for p in paragraphs)
    assert not any(re.fullmatch(r"-\s*\d+\s*-", p.text) for p in paragraphs)
    heads = [p for p in paragraphs if p.text.startswith("四、政府信息公开行政复议")]
    assert len(heads) == 1 and heads[0].page in (4, 5)
    assert documents[name].pages == {"hongze_2023": 5, "huaian_2024": 6}[name]


def test_section4_values_sit_under_their_header_columns(documents):
    doc = documents["huaian_2024"]
    values = next(r for r in _rows(doc) if len(r.cells) == 15 and all(s.text.isdigit() for s in r.cells))
    header = next(r for r in _rows(doc) if len(r.cells) == 15 and r.cells[0].text == "结果维持")
    assert [s.col for s in values.cells] == [s.col for s in header.cells] == list(range(15))
    assert [s.text for s in values.cells][:5] == ["72", "64", "178", "37", "351"]


# ---------------------------------------------------------------- no ruling lines


def _without_ruling_lines(path: Path, keep: str = "none") -> bytes:
    """The same PDF with its table rules (path objects) removed: all of them (a borderless table),
    or all but the horizontal ones (`keep="horizontal"`, a three-line table) or the vertical ones."""
    pdf = pdfium.PdfDocument(str(path))
    for i in range(len(pdf)):
        page = pdf[i]
        for obj in list(page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH,), max_depth=1)):
            left, bottom, right, top = obj.get_bounds()
            horizontal = right - left > top - bottom
            if keep == "none" or (keep == "horizontal") != horizontal:
                page.remove_obj(obj)
        page.gen_content()
    buf = io.BytesIO()
    pdf.save(buf)
    pdf.close()
    return buf.getvalue()


@pytest.mark.parametrize("name", REPORTS)
def test_borderless_twin_reads_every_cell(samples, truth, name):
    import pdfplumber

    data = _without_ruling_lines(samples / "pdf" / f"{name}.pdf")
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert all(not p.rects and not p.lines for p in pdf.pages)
    _assert_same_cells(extract_bytes(data, f"{name}_borderless.pdf"), truth / f"{name}.jsonl")


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize("keep", ["horizontal", "vertical"])
def test_half_ruled_twin_reads_every_cell(samples, truth, name, keep):
    # Only the column rules: the table finder makes one tall cell per column, stacking a column's
    # numbers (21 over 0 would read "210"); such a grid is dropped for the borderless reading.
    data = _without_ruling_lines(samples / "pdf" / f"{name}.pdf", keep=keep)
    _assert_same_cells(extract_bytes(data, f"{name}_{keep}.pdf"), truth / f"{name}.jsonl")


# ---------------------------------------------------------------- reports with known values


@pytest.fixture(scope="module")
def synthetic_pdfs(tmp_path_factory):
    """Synthetic reports filled into Word and printed to PDF by LibreOffice (one soffice run):
    2021 and 2019 templates whose tables run over page breaks, cutting a row label (2021) and a
    row of the section 4 header (2019) in two; and the 2021 one again with the （一）予以公开
    row's value cells emptied (printed empty: blank, not 0)."""
    import docx

    from gknb.testing import synth

    folder = tmp_path_factory.mktemp("synthetic_pdf")
    docs, expected = [], []
    for seed, template in ((1, "2021"), (2, "2019")):
        report = synth.draw_report(seed, template=template)
        docs.append(synth.write_docx(report, folder / f"synth_{seed}.docx"))
        expected.append(read_jsonl(synth.write_expected(report, folder / f"synth_{seed}.jsonl")))
    word = docx.Document(str(docs[0]))
    emptied = 0
    for table in word.tables:
        for row in table.rows:
            if any("予以公开" in c.text for c in row.cells):
                for cell in row.cells[-7:]:
                    for paragraph in cell.paragraphs:
                        for run in paragraph.runs:
                            run.text = ""
                emptied += 1
    assert emptied == 1
    word.save(str(folder / "synth_blank.docx"))
    meta, cells = expected[0]
    blank = {k: dict(v, status="blank", value=None) if k[1] == "granted" else v for k, v in cells.items()}
    docs.append(folder / "synth_blank.docx")
    expected.append((meta, blank))
    pdfs = synth.docx_to_pdf(docs, folder)
    return list(zip(pdfs, expected))


def _assert_cells(extraction, meta: dict, expected: dict) -> None:
    got = {c.key: c for c in extraction.cells}
    assert set(got) == set(expected)
    wrong = [(k, w["status"], w["value"], got[k].status, got[k].value) for k, w in expected.items()
             if got[k].status != w["status"] or (w["status"] == "value" and got[k].value != w["value"])]
    assert wrong == []
    assert (extraction.meta.template, extraction.meta.year) == (meta["template"], meta["year"])


@pytest.mark.parametrize("index", [0, 1, 2])
def test_synthetic_pdf_reads_back_every_value(synthetic_pdfs, index):
    pdf_path, (meta, expected) = synthetic_pdfs[index]
    _assert_cells(extract_file(pdf_path), meta, expected)


@pytest.mark.parametrize("index", [0, 1])
def test_synthetic_pdf_without_ruling_lines_reads_back_every_value(synthetic_pdfs, index):
    # LibreOffice's narrow label columns: labels wrapped over up to seven lines, values top-aligned
    # beside them, one value a line above the rest, a value almost touching its row's label.
    pdf_path, (meta, expected) = synthetic_pdfs[index]
    _assert_cells(extract_bytes(_without_ruling_lines(pdf_path), pdf_path.name), meta, expected)


# LibreOffice's PDF export as another producer: PDF/A-1b with a tagged structure tree (marked
# content around every table cell, the way Word's "Save as PDF" with document structure writes it).
PDFA_TAGGED = ('pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"1"},'
               '"UseTaggedPDF":{"type":"boolean","value":"true"}}')


@pytest.mark.parametrize("seed, template", [(7, "2021"), (8, "2019")])
def test_tagged_pdfa_export_reads_back_every_value(tmp_path, seed, template):
    import os
    import shutil

    from gknb.testing import synth

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        # .ci/run installs it (scripts/system-deps.sh): in CI a missing LibreOffice is a failure.
        if os.environ.get("CI"):
            pytest.fail("LibreOffice not installed (scripts/system-deps.sh installs it)")
        pytest.skip("LibreOffice not installed")
    report = synth.draw_report(seed, template=template)
    docx_path = synth.write_docx(report, tmp_path / f"synth_{seed}.docx")
    meta, expected = read_jsonl(synth.write_expected(report, tmp_path / f"synth_{seed}.jsonl"))
    profile = tmp_path / "profile"
    subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                    "--convert-to", PDFA_TAGGED, "--outdir", str(tmp_path), str(docx_path)],
                   capture_output=True, text=True, timeout=240, env={**os.environ, "HOME": str(profile)})
    pdf_path = tmp_path / f"synth_{seed}.pdf"
    data = pdf_path.read_bytes()
    assert b"/StructTreeRoot" in data and b"pdfaid:part" in data  # really tagged PDF/A
    _assert_cells(extract_file(pdf_path), meta, expected)


def test_page_pdfminer_cannot_interpret_keeps_its_text_and_says_so(samples, monkeypatch):
    import gknb.extractors.pdf as pdf_front

    real = pdf_front._parse_page

    def broken_on_page_2(page, state):
        if page.page_number == 2:
            raise ValueError("damaged content stream")
        return real(page, state)

    monkeypatch.setattr(pdf_front, "_parse_page", broken_on_page_2)
    doc = read((samples / "pdf" / "hongze_2023.pdf").read_bytes(), "hongze_2023.pdf")
    assert doc.notes == ["page 2: tables not read by geometry (ValueError: damaged content stream)"]
    page2 = [b for b in doc.blocks if b.page == 2]
    assert page2 and all(isinstance(b, Paragraph) for b in page2)
    assert any("行政规范性文件 0 5 5" in b.text for b in page2)
    assert {r.page for r in doc.table_rows} == {3, 4}


@pytest.mark.parametrize("seed, template", [(30, "2021"), (31, "2019")])
def test_browser_printed_pdf_reads_back_every_value(tmp_path, seed, template):
    """A synthetic report's HTML page printed to PDF by headless Chromium: `border=1` tables print
    with double rules (every cell its own box), which put the table finder's column boundaries a
    few points into the next cell until they are snapped onto the rules."""
    import shutil

    from gknb.testing import synth

    report = synth.draw_report(seed, template=template)
    page = synth.write_html(report, tmp_path / "report.html")
    meta, expected = read_jsonl(synth.write_expected(report, tmp_path / "report.jsonl"))
    out = tmp_path / "report.pdf"
    subprocess.run([shutil.which("chromium") or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-pdf-header-footer", f"--print-to-pdf={out}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    done = subprocess.run([str(GKNB), "extract", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr  # pdfminer's font warnings stay quiet
    _assert_cells(extract_file(out), meta, expected)


def test_stale_title_field_does_not_override_the_printed_title(samples):
    """Reports are often made from last year's file, Title field and all: the printed title wins.
    洪泽区's Title field is patched in place (same length) to say 2022."""
    data = (samples / "pdf" / "hongze_2023.pdf").read_bytes()
    old = b"2\\0000\\0002\\0003\\000t^"  # "2023年" in the UTF-16LE Title string, escaped
    assert data.count(old) == 1
    data = data.replace(old, old.replace(b"3\\000t^", b"2\\000t^"))
    import pypdfium2 as pdfium

    assert "2022" in pdfium.PdfDocument(data).get_metadata_dict()["Title"]
    assert read(data, "hongze_2023.pdf").title is None
    assert extract_bytes(data, "hongze_2023.pdf").meta.year == 2023


def _tables_as_pictures(path: Path) -> bytes:
    """The same PDF with every ruled table replaced by a picture of it (text and rules removed,
    the table's region of a 150 dpi grey rendering, with a 4 pt margin, pasted in their place):
    the page keeps its running text and headings, the tables can only be read by OCR."""
    import pdfplumber

    regions: dict[int, list[tuple]] = {}
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for table in page.find_tables():
                if len(table.columns) >= 2:
                    regions.setdefault(page.page_number, []).append(table.bbox)
    original = pdfium.PdfDocument(str(path))
    out = pdfium.PdfDocument(str(path))
    scale = 150 / 72
    for number, boxes in regions.items():
        page = out[number - 1]
        height = page.get_height()
        picture = original[number - 1].render(scale=scale, grayscale=True).to_pil()
        for x0, top, x1, bottom in boxes:
            for obj in list(page.get_objects(max_depth=1)):
                left, low, right, high = obj.get_bounds()
                cx, cy = (left + right) / 2, height - (low + high) / 2
                if obj.type in (pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_PATH) and \
                        x0 - 1 <= cx <= x1 + 1 and top - 1 <= cy <= bottom + 1:
                    page.remove_obj(obj)
            x0, top, x1, bottom = x0 - 4, top - 4, x1 + 4, bottom + 4  # a margin round the picture
            crop = picture.crop((int(x0 * scale), int(top * scale), int(x1 * scale) + 1, int(bottom * scale) + 1))
            image = pdfium.PdfImage.new(out)
            image.set_bitmap(pdfium.PdfBitmap.from_pil(crop.convert("RGB")))
            image.set_matrix(pdfium.PdfMatrix().scale(x1 - x0, bottom - top).translate(x0, height - bottom))
            page.insert_obj(image)
        page.gen_content()
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def test_tables_printed_as_pictures_are_ocrd(samples, truth):
    """洪泽区 with its tables as pictures: page 3 still has its heading as text (三、收到和处理…),
    so it reads as a text page, but a table section's heading over a large image makes it an OCR
    page. Numbers: exact or `missing` (OCR may doubt a digit), never wrong."""
    data = _tables_as_pictures(samples / "pdf" / "hongze_2023.pdf")
    document = read(data, "hongze_pictures.pdf")
    ocr_rows = {r.page for r in document.table_rows if any(s.confidence is not None for s in r.cells)}
    assert ocr_rows == {2, 3, 4}
    extraction = extract_bytes(data, "hongze_pictures.pdf")
    meta, expected = read_jsonl(truth / "hongze_2023.jsonl")
    got = {c.key: c for c in extraction.cells}
    numbers = [k for k, w in expected.items() if w["status"] == "value"]
    exact = [k for k in numbers if got[k].status == "value" and abs(got[k].value - expected[k]["value"]) < 1e-9]
    wrong = [k for k in numbers if got[k].status == "value" and k not in exact]
    invented = [k for k, w in expected.items() if w["status"] != "value" and got[k].status == "value"]
    assert wrong == [] and invented == []
    assert len(exact) >= 0.99 * len(numbers)
    assert (extraction.meta.template, extraction.meta.year) == (meta["template"], meta["year"])
