"""HTML front end: rowspan/colspan grids, charsets (UTF-8, GBK, GB2312 declared with GBK text),
nested layout tables, and a page that is no annual report — each through `extract_file`."""

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, read_jsonl
from gknb.extractors import NotAnnualReport, extract_file
from gknb.extractors import html as html_front
from gknb.extractors.document import TableRow

FIXTURES = Path(__file__).parent / "fixtures" / "html"
EXPECTED = FIXTURES / "city_2025_rowspan.expected.jsonl"


def _cells(extraction, with_page=True):
    keys = ("section", "row_key", "col_key", "status", "value", "raw") + (("page",) if with_page else ())
    return {(c.section, c.row_key, c.col_key): {k: c.record()[k] for k in keys} for c in extraction.cells}


def _expected(with_page=True):
    meta, cells = read_jsonl(EXPECTED)
    keys = ("section", "row_key", "col_key", "status", "value", "raw") + (("page",) if with_page else ())
    return meta, {k: {f: c[f] for f in keys} for k, c in cells.items()}


def test_city_rowspan_report_extracts_every_printed_number(samples):
    result = extract_file(samples / "html" / "city_2025_rowspan.html")
    meta, expected = _expected()
    got = _cells(result)
    assert len(expected) == 200
    assert got == expected  # every cell, its value, raw text and source line
    assert (result.meta.agency, result.meta.year, result.meta.template) == (meta["agency"], meta["year"], meta["template"])
    assert result.meta.format == "html"


def test_rowspanned_labels_are_repeated_in_every_row_they_cover(samples):
    doc = html_front.read((samples / "html" / "city_2025_rowspan.html").read_bytes(), "city.html")
    assert doc.title == "测试市2025年政府信息公开工作年度报告"
    rows = [b for b in doc.blocks if isinstance(b, TableRow)]
    assert all(r.grid for r in rows)
    secret = next(r for r in rows if any(s.text == "1.属于国家秘密" for s in r.cells))
    query = next(r for r in rows if any(s.text == "8.属于行政查询事项" for s in r.cells))
    for row in (secret, query):
        assert [(s.col, s.colspan, s.text) for s in row.cells[:2]] == [(0, 1, "三、本年度办理结果"), (1, 1, "（三）不予公开")]
        assert [s.col for s in row.cells] == list(range(10))
    licensing = next(r for r in rows if r.cells[0].text == "行政许可")
    assert [(s.col, s.colspan, s.text) for s in licensing.cells] == [(0, 1, "行政许可"), (1, 3, "11398889")]


@pytest.mark.parametrize("name", ["city_2025_gbk.html", "city_2025_gb2312_declared.html"])
def test_gbk_and_gb2312_declared_pages_decode_and_extract_the_same(name):
    data = (FIXTURES / name).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really is in a Chinese legacy encoding
    doc = html_front.read(data, name)
    assert any("朱镕喆" in p.text for p in doc.paragraphs)  # GBK-only characters survive a GB2312 label
    result = extract_file(FIXTURES / name)
    assert _cells(result) == _expected()[1]
    assert result.meta.year == 2025


def test_declared_charset_reads_both_meta_forms():
    assert html_front.declared_charset(b'<meta charset="GB2312">') == "gb18030"
    assert html_front.declared_charset(
        b'<meta http-equiv="Content-Type" content="text/html; charset=gbk" />') == "gb18030"
    assert html_front.declared_charset(b"<meta charset=utf-8>") == "utf-8"
    assert html_front.declared_charset(b"<html><body>no declaration</body></html>") is None


def test_nested_layout_tables_yield_the_inner_tables_once(samples):
    plain = html_front.read((samples / "html" / "city_2025_rowspan.html").read_bytes(), "a")
    nested = html_front.read((FIXTURES / "city_2025_nested_layout.html").read_bytes(), "b")
    texts = lambda d: [tuple(r.texts) for r in d.table_rows]  # noqa: E731
    # the breadcrumb table is data-less navigation: it is the only extra table row
    extra = [t for t in texts(nested) if t not in texts(plain)]
    assert extra == [("首页", "政务公开", "政府信息公开年报")]
    assert [t for t in texts(nested) if t in texts(plain)] == texts(plain)
    assert any(p.text == "政府信息公开年报" for p in nested.paragraphs)  # the menu is text, not a table row
    result = extract_file(FIXTURES / "city_2025_nested_layout.html")
    assert _cells(result, with_page=False) == _expected(with_page=False)[1]


def test_a_page_that_is_no_annual_report_is_refused():
    with pytest.raises(NotAnnualReport):
        extract_file(FIXTURES / "not_a_report.html")
    proc = subprocess.run([sys.executable, "-m", "gknb.cli", "extract", str(FIXTURES / "not_a_report.html")],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "not_a_report.html" in proc.stderr


def test_a_number_spanning_rows_is_not_copied_into_the_rows_below():
    page = ("<html><body><table>"
            "<tr><td rowspan='2'>（三）不予公开</td><td>1.属于国家秘密</td><td rowspan='2'>7</td></tr>"
            "<tr><td>2.其他法律行政法规禁止公开</td></tr></table></body></html>")
    rows = html_front.read_text(page, "t.html").table_rows
    assert [(s.col, s.text) for s in rows[0].cells] == [(0, "（三）不予公开"), (1, "1.属于国家秘密"), (2, "7")]
    assert [(s.col, s.text) for s in rows[1].cells] == [(0, "（三）不予公开"), (1, "2.其他法律行政法规禁止公开")]


def test_undeclared_gbk_and_xhtml_declared_pages_decode(samples):
    src = (samples / "html" / "city_2025_rowspan.html").read_text(encoding="utf-8")
    bare = src.replace('<meta charset="utf-8">', "").encode("gbk")  # no declaration at all
    assert html_front.read(bare, "bare.html").title == "测试市2025年政府信息公开工作年度报告"
    xhtml = ('<?xml version="1.0" encoding="gb2312"?>\n' + src.replace('<meta charset="utf-8">', "")).encode("gb18030")
    doc = html_front.read(xhtml, "x.html")
    assert doc.title == "测试市2025年政府信息公开工作年度报告"
    assert len(doc.table_rows) == len(html_front.read(src.encode(), "u.html").table_rows)


def test_deeply_nested_unclosed_tags_lose_nothing():
    page = ("<html><head><title>测试区民政局2023年政府信息公开工作年度报告</title></head><body>" + "<font>" * 1500
            + "<p>二、主动公开政府信息情况</p><table><tr><td>规章</td><td>3</td></tr></table></body></html>")
    doc = html_front.read_text(page, "deep.html")
    assert [p.text for p in doc.paragraphs] == ["二、主动公开政府信息情况"]
    assert [r.texts for r in doc.table_rows] == [["规章", "3"]]


def test_word_exported_html_extracts_exactly():
    """A report saved from Word as HTML (LibreOffice here): <font> soup, styled <p> in every cell,
    the 2021 single （六）其他处理 row and 无 cells; expected cells from gknb.testing.synth."""
    page = FIXTURES / "word_export_2021_single_other.html"
    assert b"<font" in page.read_bytes()
    meta, want = read_jsonl(FIXTURES / "word_export_2021_single_other.expected.jsonl")
    result = extract_file(page)
    got = {c.key: (c.status, c.value) for c in result.cells}
    assert got == {k: (c["status"], c["value"]) for k, c in want.items()}
    assert result.cell(3, "other", "total").status == "value"
    assert result.cell(3, "other_no_correction", "total").status == "missing"
    assert (result.meta.year, result.meta.template, result.meta.agency) == (meta["year"], "2021", meta["agency"])
