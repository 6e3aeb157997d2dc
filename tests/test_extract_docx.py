"""Word front end: body order, merged cells (gridSpan, vMerge) as grid columns, a corrupt .docx,
and the "convert first" refusal of .doc/.wps (OLE) files."""

import io
import zipfile
from pathlib import Path

import pytest

from gknb.extractors import UnreadableDocument, UnsupportedFormat, extract_file
from gknb.extractors import docx as docx_front
from gknb.extractors.document import Paragraph, TableRow
from gknb.testing.synth import TEMPLATE_DOCX, draw_report, write_docx

TEMPLATE = TEMPLATE_DOCX  # the official blank 2021 template, shipped as package data


def test_blank_template_keeps_body_order_and_merged_cells():
    doc = docx_front.read(TEMPLATE.read_bytes(), "template.docx")
    kinds = [("P", b.text) if isinstance(b, Paragraph) else ("T", b.table) for b in doc.blocks]
    # paragraphs and tables interleave as printed: each section heading right before its table
    for heading, table in (("二、主动公开政府信息情况", 1), ("三、收到和处理政府信息公开申请情况", 2),
                           ("四、政府信息公开行政复议、行政诉讼情况", 3)):
        at = kinds.index(("P", heading))
        assert kinds[at + 1] == ("T", table)
    assert kinds[-1] == ("P", "（文字描述，收取信息处理费情况在此处报告。）")
    rows = [b for b in doc.blocks if isinstance(b, TableRow)]
    assert all(r.grid for r in rows)
    # gridSpan: 行政许可's value cell covers grid columns 1..3
    licensing = next(r for r in rows if r.cells[0].text == "行政许可")
    assert [(s.col, s.colspan) for s in licensing.cells] == [(0, 1), (1, 3)]
    # vMerge: 三、本年度办理结果 and （三）不予公开 are repeated in the rows they span, same column
    query = next(r for r in rows if any(s.text == "8.属于行政查询事项" for s in r.cells))
    assert [(s.col, s.text) for s in query.cells[:3]] == [
        (0, "三、本年度办理结果"), (1, "（三）不予公开"), (2, "8.属于行政查询事项")]
    assert [s.col for s in query.cells] == list(range(10))
    assert all(s.text == "" for s in query.cells[3:])  # the blank template's value cells stay empty


@pytest.mark.parametrize("template", ["2021", "2019"])
def test_a_filled_word_report_extracts_every_cell(tmp_path, template):
    rep = draw_report(11, template)
    path = write_docx(rep, tmp_path / f"report_{template}.docx")
    result = extract_file(path)
    got = {c.key: (c.status, c.value) for c in result.cells}
    want = {c.key: (c.status, c.value) for c in rep.cells()}
    assert got == want
    assert (result.meta.year, result.meta.template, result.meta.agency) == (rep.year, template, rep.agency)
    assert result.meta.format == "docx"


def test_a_corrupt_docx_is_unreadable(tmp_path):
    data = TEMPLATE.read_bytes()
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableDocument, match="truncated.docx"):
        extract_file(truncated)
    # a valid zip whose document.xml is not XML
    broken = tmp_path / "broken.docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            body = b"<w:document>not closed" if item.filename == "word/document.xml" else src.read(item)
            dst.writestr(item, body)
    broken.write_bytes(buf.getvalue())
    with pytest.raises(UnreadableDocument, match="broken.docx"):
        extract_file(broken)


@pytest.mark.parametrize("name", ["report.doc", "report.wps"])
def test_doc_and_wps_files_are_refused_with_convert_first(tmp_path, name):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "政府信息公开工作年度报告".encode("utf-16-le")
    path = tmp_path / name
    path.write_bytes(ole)
    with pytest.raises(UnsupportedFormat, match="convert it to .docx or PDF first"):
        extract_file(path)


def test_a_table_nested_in_a_layout_table_is_read_once(tmp_path):
    import docx

    word = docx.Document()
    word.add_paragraph("测试区民政局2023年政府信息公开工作年度报告")
    outer = word.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "导航"
    inner = outer.cell(0, 1).add_table(rows=2, cols=3)
    for c, t in enumerate(("信息内容", "本年制发件数", "本年废止件数")):
        inner.cell(0, c).text = t
    for c, t in enumerate(("规章", "3", "0")):
        inner.cell(1, c).text = t
    path = tmp_path / "layout.docx"
    word.save(str(path))
    doc = docx_front.read(path.read_bytes(), "layout.docx")
    assert [r.texts for r in doc.table_rows] == [["信息内容", "本年制发件数", "本年废止件数"], ["规章", "3", "0"]]
    assert [p.text for p in doc.paragraphs] == ["测试区民政局2023年政府信息公开工作年度报告", "导航"]


def test_a_vertically_merged_number_stays_in_its_first_row(tmp_path):
    import docx

    word = docx.Document()
    t = word.add_table(rows=2, cols=3)
    t.cell(0, 0).merge(t.cell(1, 0)).text = "（三）不予公开"
    t.cell(0, 1).text = "1.属于国家秘密"
    t.cell(1, 1).text = "2.其他法律行政法规禁止公开"
    t.cell(0, 2).merge(t.cell(1, 2)).text = "5"
    path = tmp_path / "merged.docx"
    word.save(str(path))
    rows = docx_front.read(path.read_bytes(), "merged.docx").table_rows
    assert [(s.col, s.text) for s in rows[0].cells] == [(0, "（三）不予公开"), (1, "1.属于国家秘密"), (2, "5")]
    assert [(s.col, s.text) for s in rows[1].cells] == [(0, "（三）不予公开"), (1, "2.其他法律行政法规禁止公开")]
