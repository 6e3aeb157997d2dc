"""The template matcher on hand-built Documents: placement, context, variants, template, refusals.

Each Document here is what a front end could hand over (grid rows with Span.col, PDF/OCR spans
with x0/x1, plain-text rows); the matcher must not care which.
"""

from __future__ import annotations

import pytest

from gknb.extractors.document import Document, Paragraph, Span, TableRow
from gknb.extractors.errors import NotAnnualReport
from gknb.extractors.identities import fill_unique, violations
from gknb.extractors.matcher import match
from gknb.catalog import load_catalog
from gknb.contract import Cell

APPLICANTS = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
COLS = ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")


def grid_row(texts, page=1, table=1, start=0):
    return TableRow([Span(t, col=start + i) for i, t in enumerate(texts)], page=page, table=table, grid=True)


def s3_header_grid():
    # label occupies grid columns 0-1; applicants at 2..8
    return grid_row(["", ""] + APPLICANTS)


def doc(*blocks, title="测试区民政局2022年政府信息公开工作年度报告", fmt="html"):
    return Document(source="test", format=fmt, blocks=[Paragraph(title, 1), *blocks])


def cell(extraction, section, row, col):
    c = extraction.cell(section, row, col)
    assert c is not None, (section, row, col)
    return c


def test_every_cell_exactly_once_in_catalog_order():
    d = doc(Paragraph("三、收到和处理政府信息公开申请情况", 2), s3_header_grid(),
            grid_row(["一、本年新收政府信息公开申请数量", ""] + ["1", "0", "0", "0", "0", "0", "1"]))
    ex = match(d)
    keys = [c.key for c in ex.cells]
    assert len(keys) == len(set(keys))
    expected = [c.key for c in load_catalog().template_cells(ex.meta.template)]
    assert keys == expected
    assert cell(ex, 3, "new_requests", "total").value == 1
    assert cell(ex, 3, "carried_over", "total").status == "missing"


def test_grid_places_fewer_values_by_column_and_keeps_empty_cells_blank():
    d = doc(Paragraph("三、收到和处理政府信息公开申请情况", 2), s3_header_grid(),
            grid_row(["一、本年新收政府信息公开申请数量", "", "5", "", "0", "0", "0", "0", "5"]))
    ex = match(d)
    assert cell(ex, 3, "new_requests", "natural_person").value == 5
    assert cell(ex, 3, "new_requests", "commercial").status == "blank"
    assert cell(ex, 3, "new_requests", "total").value == 5


def test_x_positions_place_values_under_their_headers():
    xs = [(100, 130), (140, 170), (180, 210), (220, 250), (260, 290), (300, 330), (340, 370)]
    header = TableRow([Span(t, x0=a, x1=b) for t, (a, b) in zip(APPLICANTS, xs)], page=3, table=1)
    # three values: under 自然人, 法律服务机构, 总计 (centres inside those headers)
    row = TableRow([Span("一、本年新收政府信息公开申请数量", x0=10, x1=90),
                    Span("7", x0=112, x1=118), Span("2", x0=272, x1=278), Span("9", x0=352, x1=358)],
                   page=3, table=1)
    ex = match(doc(Paragraph("三、收到和处理政府信息公开申请情况", 2), header, row, fmt="pdf"))
    assert cell(ex, 3, "new_requests", "natural_person").value == 7
    assert cell(ex, 3, "new_requests", "legal_service").value == 2
    assert cell(ex, 3, "new_requests", "total").value == 9
    # a text layer printed nothing under the other columns: blank, never 0
    assert cell(ex, 3, "new_requests", "commercial").status == "blank"
    # OCR may have dropped a word: the same row read by OCR leaves those columns unknown
    ocr_row = TableRow([Span(s.text, x0=s.x0, x1=s.x1, confidence=0.99) for s in row.cells], page=3, table=1)
    ex = match(doc(Paragraph("三、收到和处理政府信息公开申请情况", 2), header, ocr_row, fmt="ocr"))
    assert cell(ex, 3, "new_requests", "commercial").status == "missing"
    assert cell(ex, 3, "new_requests", "natural_person").status == "missing"


def test_uncertain_placement_is_missing_with_a_warning_never_a_guess():
    # plain text: 3 values for 7 columns, no positions to trust
    row = TableRow([Span("一、本年新收政府信息公开申请数量"), Span("3"), Span("1"), Span("4")], page=9, table=1)
    ex = match(doc(Paragraph("三、收到和处理政府信息公开申请情况", 2), row, fmt="text"))
    for col in COLS:
        assert cell(ex, 3, "new_requests", col).status == "missing"
    assert any("3 values for 7 columns" in w for w in ex.meta.warnings)


def test_text_row_one_value_short_of_all_zero_row_is_filled_by_row_total():
    row = TableRow([Span("1.属于国家秘密")] + [Span("0") for _ in range(6)], page=4, table=1)
    ex = match(doc(Paragraph("三、收到和处理政府信息公开申请情况", 2), row, fmt="text"))
    for col in COLS:
        c = cell(ex, 3, "denied_state_secret", col)
        assert (c.status, c.value) == ("value", 0)
        assert c.raw.startswith("filled: S3.row_total")


def test_text_row_one_value_short_with_two_readings_stays_missing():
    # 5 0 0 0 0 5: the lost value could be the total (10) or a part (0) → not unique
    row = TableRow([Span("1.属于国家秘密")] + [Span(v) for v in ["5", "0", "0", "0", "0", "5"]], page=4, table=1)
    ex = match(doc(Paragraph("三、收到和处理政府信息公开申请情况", 2), row, fmt="text"))
    assert all(cell(ex, 3, "denied_state_secret", col).status == "missing" for col in COLS)


def _s3_rows_2021(other_rows):
    rows = [s3_header_grid()]
    labels = ["一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "（一）予以公开",
              "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"]
    for lab in labels:
        rows.append(grid_row([lab, ""] + ["1", "0", "0", "0", "0", "0", "1"]))
    rows += [grid_row(["（六）其他处理", lab] + vals) for lab, vals in other_rows]
    return rows


def test_2021_single_other_row_is_the_variant_and_subrows_are_missing():
    d = doc(Paragraph("三、收到和处理政府信息公开申请情况", 2),
            grid_row(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], table=0),
            *_s3_rows_2021([("", ["2", "0", "0", "0", "0", "1", "3"])]))
    ex = match(d)
    assert ex.meta.template == "2021"
    assert cell(ex, 3, "other", "total").value == 3
    for sub in ("other_no_correction", "other_unpaid_fee", "other_other"):
        assert cell(ex, 3, sub, "total").status == "missing"


def test_2021_printed_subrows_leave_the_variant_out():
    subs = [("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", ["1", "0", "0", "0", "0", "0", "1"]),
            ("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", ["0", "0", "0", "0", "0", "0", "0"]),
            ("3.其他", ["4", "0", "0", "0", "0", "0", "4"])]
    ex = match(doc(Paragraph("三、收到和处理政府信息公开申请情况", 2), *_s3_rows_2021(subs)))
    assert ex.meta.template == "2021"
    assert ex.cell(3, "other", "total") is None
    assert cell(ex, 3, "other_other", "total").value == 4
    assert cell(ex, 3, "other_no_correction", "natural_person").value == 1


def test_template_comes_from_what_is_printed_not_the_year():
    # titled 2020 but printing the 2021 section 2 headers
    d = doc(Paragraph("二、主动公开政府信息情况", 2),
            grid_row(["第二十条第（一）项"]),
            grid_row(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]),
            grid_row(["规章", "1", "2", "3"]),
            title="测试区民政局2020年政府信息公开工作年度报告")
    ex = match(d)
    assert ex.meta.year == 2020
    assert ex.meta.template == "2021"
    assert [cell(ex, 2, "regulations", c).value for c in ("issued", "repealed", "in_force")] == [1, 2, 3]


def test_unlabelled_row_between_two_known_rows_takes_the_one_free_slot():
    d = doc(Paragraph("三、收到和处理政府信息公开申请情况", 2), s3_header_grid(),
            grid_row(["（一）予以公开", ""] + ["1", "0", "0", "0", "0", "0", "1"]),
            grid_row(["", ""] + ["2", "0", "0", "0", "0", "0", "2"]),  # label lost (page break)
            grid_row(["1.属于国家秘密", ""] + ["3", "0", "0", "0", "0", "0", "3"]))
    ex = match(d)
    assert cell(ex, 3, "partially_granted", "total").value == 2


def test_unlabelled_rows_that_do_not_fit_the_gap_stay_missing():
    d = doc(Paragraph("三、收到和处理政府信息公开申请情况", 2), s3_header_grid(),
            grid_row(["（一）予以公开", ""] + ["1", "0", "0", "0", "0", "0", "1"]),
            grid_row(["", ""] + ["2", "0", "0", "0", "0", "0", "2"]),
            grid_row(["", ""] + ["5", "0", "0", "0", "0", "0", "5"]),
            grid_row(["1.属于国家秘密", ""] + ["3", "0", "0", "0", "0", "0", "3"]))
    ex = match(d)
    assert cell(ex, 3, "partially_granted", "total").status == "missing"
    assert any("could not be matched" in w for w in ex.meta.warnings)


def test_section4_fifteen_values_and_transposed_rows():
    one = doc(Paragraph("四、政府信息公开行政复议、行政诉讼情况", 2),
              grid_row([str(v) for v in [1, 2, 0, 0, 3, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]]))
    ex = match(one)
    assert [cell(ex, 4, "admin_review", c).value for c in ("upheld", "corrected", "other", "pending", "total")] == [1, 2, 0, 0, 3]
    assert cell(ex, 4, "lawsuit_direct", "total").value == 1
    rows = doc(Paragraph("四、政府信息公开行政复议、行政诉讼情况", 2),
               grid_row(["", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]),
               grid_row(["行政复议", "4", "0", "0", "1", "5"]),
               grid_row(["未经复议直接起诉", "0", "0", "0", "0", "0"]),
               grid_row(["复议后起诉", "1", "0", "0", "0", "1"]))
    ex = match(rows)
    assert cell(ex, 4, "admin_review", "total").value == 5
    assert cell(ex, 4, "lawsuit_after_review", "upheld").value == 1


def test_labels_with_spaces_typos_and_full_width_forms():
    d = doc(Paragraph("三、收到和处理政府信息公开申请情况", 2),
            TableRow([Span(t) for t in ["", "自 然 人", "商 业 企 业", "科 研 机 构", "社 会 组 织", "法 律 服 务 机 构", "其 他", "总 计"]], 2, 1),
            TableRow([Span("2.其他法律行政止公开")] + [Span("０") for _ in range(6)] + [Span("１")], 3, 1),
            TableRow([Span("（七）总 计")] + [Span("1") for _ in range(7)], 4, 1), fmt="text")
    ex = match(d)
    assert cell(ex, 3, "denied_prohibited_by_law", "total").value == 1
    assert cell(ex, 3, "total_processed", "natural_person").value == 1


def test_not_an_annual_report_is_refused():
    article = Document("a.txt", "text", [Paragraph("今天天气很好，我们去公园散步。", 1),
                                          Paragraph("公园里有很多人。", 2)])
    with pytest.raises(NotAnnualReport):
        match(article)
    empty_table = Document("b.txt", "text", [TableRow([Span("a"), Span("b")], 1, 1)])
    with pytest.raises(NotAnnualReport):
        match(empty_table)


def test_identities_violations_and_unique_fill():
    cells = [Cell(4, "admin_review", c, "value", v) for c, v in
             zip(("upheld", "corrected", "other", "pending", "total"), (10, 1, 0, 0, 0))]
    found = violations(cells, "2021")
    assert [(v.identity, v.row_key, v.observed, v.expected) for v in found] == [("S4.row_total", "admin_review", 0, 11)]
    lost = [Cell(4, "lawsuit_direct", c, "value", v) for c, v in zip(("upheld", "corrected", "other", "pending"), (2, 1, 0, 0))]
    lost.append(Cell(4, "lawsuit_direct", "total", "missing"))
    filled = fill_unique(lost, "2021")
    total = [c for c in filled if c.col_key == "total"][0]
    assert (total.status, total.value, total.raw) == ("value", 3, "filled: S4.row_total")
    # a blank is never filled
    blank = lost[:-1] + [Cell(4, "lawsuit_direct", "total", "blank")]
    assert [c for c in fill_unique(blank, "2021") if c.col_key == "total"][0].status == "blank"


def test_no_filling_in_a_section_that_breaks_its_own_identities():
    review = ("upheld", "corrected", "other", "pending", "total")
    broken = [Cell(4, "admin_review", c, "value", v) for c, v in zip(review, (10, 1, 0, 0, 0))]
    lost = [Cell(4, "lawsuit_direct", c, "value", v) for c, v in zip(review[:4], (2, 1, 0, 0))]
    lost.append(Cell(4, "lawsuit_direct", "total", "missing"))
    filled = fill_unique(broken + lost, "2021")
    assert [c for c in filled if c.row_key == "lawsuit_direct" and c.col_key == "total"][0].status == "missing"


# --- the words of label_aliases.yaml are checked when loaded --------------------------------------

def _breaks():
    def telltale(raw):
        raw["webtext"]["telltale_rows"].append("no_such_row")

    def unit(raw):
        raw["header_units"]["units"] = ["元", "克"]

    def title_slot(raw):
        raw["report"]["titles"][0] = raw["report"]["titles"][0].replace("{year}", "{yaer}")

    def header_words(raw):
        raw["header_words"][3] = "申请人情况"  # a bare string would match by its characters

    def markers(raw):
        raw["template_markers"]["2021"]["txet"] = raw["template_markers"]["2021"].pop("text")

    return {
        "webtext.telltale_rows: no_such_row is no row of section 3": telltale,
        "header_units.units: 克 is no amount unit": unit,
        "report.titles": title_slot,
        "header_words.3 must be a non-empty list of strings": header_words,
        "template_markers.2021 must be a mapping": markers,
    }


def test_a_broken_word_list_stops_extract_naming_the_file(tmp_path):
    """The header words, page-text words and report words moved out of the extractors into
    label_aliases.yaml: a broken entry is a ConfigError naming the file (one line, exit 2), not a
    silently dead rule."""
    import os
    import shutil
    import subprocess
    import sys

    from pathlib import Path

    import yaml

    from gknb.paths import SCHEMAS_DIR

    report = Path(__file__).parent / "fixtures" / "real" / "czj_2023.txt"
    gknb = os.path.join(os.path.dirname(sys.executable), "gknb")
    running = {}
    for expected, breaker in _breaks().items():
        schemas = tmp_path / expected.split(":")[0].split(" ")[0] / "schemas"
        shutil.copytree(SCHEMAS_DIR, schemas, ignore=shutil.ignore_patterns("__pycache__"))
        target = schemas / "label_aliases.yaml"
        raw = yaml.safe_load(target.read_text(encoding="utf-8"))
        breaker(raw)
        target.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GKNB_")}
        env.update(GKNB_SCHEMAS_DIR=str(schemas), XDG_CACHE_HOME=str(schemas.parent / "cache"))
        running[expected] = (target, subprocess.Popen([gknb, "extract", str(report)], env=env, text=True,
                                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for expected, (target, process) in running.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 2, (expected, err[-2000:])
        assert out == ""
        assert err.strip().splitlines() == [err.strip()], err
        assert err.startswith(f"gknb extract: {target}: "), err
        assert expected in err, err
