"""Reports gknb must tell apart (issue 12.4, 12.5) and amounts in the wrong unit (issue 13.7).

- A report on a year before 2019 (no national tables yet) is rejected `pre_2019_format` with its
  year, in every form, instead of "no cell of the template was found".
- An HTML page whose CMS flattened the tables into paragraphs is read from its text: as a text
  table when each row is a paragraph, by the web-text solver when the cells run together.
- An amount printed in 元 under a 万元 column is converted; one printed without a unit and
  implausibly large is `missing` with a `unit:` warning, never loaded silently.

Fixtures are made here from the sample report (data/samples/html/city_2025_rowspan.html), whose
expected cells are tests/fixtures/html/city_2025_rowspan.expected.jsonl.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, read_jsonl
from gknb.extractors import NotAnnualReport, Pre2019Format, extract_bytes

SAMPLE_HTML = REPO / "data" / "samples" / "html" / "city_2025_rowspan.html"
EXPECTED = REPO / "tests" / "fixtures" / "html" / "city_2025_rowspan.expected.jsonl"
GKNB = str(Path(sys.executable).parent / "gknb")

PRE_2019_TEXT = """测试县民政局2018年政府信息公开工作年度报告

本报告根据《中华人民共和国政府信息公开条例》要求编制。本报告中所列数据的统计期限自2018年1月1日起至2018年12月31日止。

一、概述
2018年，我局认真贯彻落实政府信息公开工作要求。

二、主动公开政府信息情况
全年主动公开政府信息126条，其中通过网站公开98条。

三、依申请公开政府信息情况
全年共收到政府信息公开申请3件，均已按时答复。

四、因政府信息公开申请行政复议、提起行政诉讼的情况
全年未发生因政府信息公开申请行政复议、提起行政诉讼的情况。

测试县民政局
2019年3月20日
"""


def _values(extraction) -> dict:
    return {c.key: (c.status, c.value) for c in extraction.cells}


def _expected_values() -> dict:
    _, cells = read_jsonl(EXPECTED)
    return {k: (c["status"], c["value"]) for k, c in cells.items()}


# ---------------------------------------------------------------- 12.4 reports before 2019


@pytest.mark.parametrize("form", ["text", "html", "webtext"])
def test_report_before_2019_is_pre_2019_format_with_its_year(form):
    if form == "text":
        data, name = PRE_2019_TEXT.encode("utf-8"), "old.txt"
    elif form == "html":
        body = "".join(f"<p>{line}</p>" for line in PRE_2019_TEXT.splitlines() if line.strip())
        data = f"<html><head><title>测试县民政局2018年政府信息公开工作年度报告</title></head><body>{body}</body></html>"
        data, name = data.encode("utf-8"), "old.html"
    else:  # crawled page text whose numbers run together (the web-text solver's form)
        data = ("标题:测试县民政局2018年政府信息公开工作年度报告\n正文\n" + PRE_2019_TEXT
                + "属于国家秘密0000000保护第三方合法权益0000000\n").encode("utf-8")
        name = "old_webtext.txt"
    with pytest.raises(Pre2019Format) as info:
        extract_bytes(data, name)
    err = info.value
    assert err.kind == "pre_2019_format" and err.year == 2018
    assert "an annual report on 2018" in str(err)
    assert isinstance(err, NotAnnualReport)  # callers that only know "not a report" still skip it


def test_pre_2019_is_one_line_exit_2_on_the_command_line(tmp_path):
    old = tmp_path / "old.txt"
    old.write_text(PRE_2019_TEXT, encoding="utf-8")
    proc = subprocess.run([GKNB, "extract", str(old)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"gknb extract: {old}: an annual report on 2018, before the national tables of the 2019 template; no cells to read"]


def test_a_2019_report_is_not_pre_2019(samples):
    # the 2019 seed report prints the national tables: read as before
    data = (samples / "seeds" / "003_8faff2b7f5fbbbed.txt").read_bytes()
    result = extract_bytes(data, "003.txt")
    assert result.meta.year == 2019 and any(c.status == "value" for c in result.cells)


def test_a_page_that_is_no_report_is_still_not_a_report():
    page = "<html><body><p>2017年度工作总结</p><p>本单位全年完成各项任务。</p></body></html>".encode("utf-8")
    with pytest.raises(NotAnnualReport) as info:
        extract_bytes(page, "summary.html")
    assert info.value.kind == "not_a_report"


# ---------------------------------------------------------------- 12.5 flattened HTML tables


def _flatten_rows_to_paragraphs(html: str) -> str:
    """What some CMS templates publish: <table>/<td> stripped, each row a paragraph of its cells."""
    html = re.sub(r"</?(?:table|tbody|thead)[^>]*>", "", html)
    html = re.sub(r"<tr[^>]*>", "<p>", html).replace("</tr>", "</p>")
    html = re.sub(r"<t[dh][^>]*>", "", html)
    return re.sub(r"</t[dh]>", " ", html)


def _flatten_run_together(html: str) -> str:
    """Every table tag stripped: the cells of a row run together (`规章3574`)."""
    return re.sub(r"</?(?:table|tbody|thead|tr|td|th)(?:\s[^>]*)?>", "", html)


def test_flattened_rows_are_read_as_a_text_table():
    page = _flatten_rows_to_paragraphs(SAMPLE_HTML.read_text(encoding="utf-8"))
    assert "<table" not in page and "<td" not in page
    result = extract_bytes(page.encode("utf-8"), "flat.html")
    assert _values(result) == _expected_values()  # every cell as the tables print it
    assert result.meta.format == "html" and result.meta.agency == "测试市" and result.meta.year == 2025
    assert "flattened into paragraphs" in result.meta.warnings[0]


def test_flattened_cells_run_together_go_to_the_web_text_solver():
    page = _flatten_run_together(SAMPLE_HTML.read_text(encoding="utf-8"))
    result = extract_bytes(page.encode("utf-8"), "run.html")
    expected = _expected_values()
    got = _values(result)
    assert "flattened into paragraphs" in result.meta.warnings[0]
    assert result.meta.agency == "测试市" and result.meta.year == 2025  # from the page's <title>
    # what the identities settle is read, nothing is guessed: every value is the printed one
    read = {k: v for k, v in got.items() if v[0] == "value"}
    assert len(read) >= 180
    assert all(expected[k] == v for k, v in read.items())


def test_a_site_navigation_table_does_not_hide_the_flattened_report():
    html = SAMPLE_HTML.read_text(encoding="utf-8")
    page = _flatten_rows_to_paragraphs(html).replace(
        "<body>", '<body><table><tr><td><a href="/">首页</a></td><td><a href="/gk">政府信息公开</a></td></tr></table>', 1)
    assert page.count("<table") == 1
    assert _values(extract_bytes(page.encode("utf-8"), "nav.html")) == _expected_values()


# ---------------------------------------------------------------- 13.7 units of amounts


def _with_fees(printed: str) -> bytes:
    html = SAMPLE_HTML.read_text(encoding="utf-8")
    m = re.search(r"<tr><td>行政事业性收费</td><td[^>]*>([^<]*)</td></tr>", html)
    assert m, "the sample prints a 行政事业性收费 row"
    return html.replace(m.group(0), f"<tr><td>行政事业性收费</td><td colspan=\"3\">{printed}</td></tr>", 1).encode("utf-8")


@pytest.mark.parametrize("printed, value", [
    ("251000元", 25.1),          # 元 printed in the 万元 column: converted
    ("1.5亿元", 15000),
    ("4253.52", 4253.52),         # no unit, plausible: taken in the column's 万元
    ("4253.52万元", 4253.52),
])
def test_amount_with_a_printed_unit_is_converted(printed, value):
    cell = extract_bytes(_with_fees(printed), "fees.html").cell(2, "admin_fees", "amount")
    assert (cell.status, cell.value, cell.raw) == ("value", value, printed)


def test_amount_without_unit_and_implausible_is_missing_with_a_unit_warning():
    result = extract_bytes(_with_fees("4253521.20"), "fees.html")  # 425 亿元 of fees, if 万元
    cell = result.cell(2, "admin_fees", "amount")
    assert (cell.status, cell.value, cell.raw) == ("missing", None, "4253521.20")
    assert any(w.startswith("unit: 2/admin_fees/amount:") for w in result.meta.warnings)


def test_web_text_amount_without_unit_and_implausible_is_flagged_too(samples):
    """The issue's case: `4253521.20` printed in a 万元 column of crawled web text."""
    page = (samples / "webtext" / "pingtan_2022.txt").read_text(encoding="utf-8")
    assert "行政事业性收费9116.36" in page
    result = extract_bytes(page.replace("行政事业性收费9116.36", "行政事业性收费4253521.20").encode("utf-8"),
                           "pingtan_2022.txt")
    cell = result.cell(2, "admin_fees", "amount")
    assert (cell.status, cell.value) == ("missing", None) and "4253521.20" in cell.raw
    assert any(w.startswith("unit: 2/admin_fees/amount: '4253521.20'") for w in result.meta.warnings)
    # as printed, the same page's amount is read
    assert extract_bytes(page.encode("utf-8"), "pingtan_2022.txt").cell(2, "admin_fees", "amount").value == 9116.36
