"""Patterns real reports use that the readers once got wrong (issue 13), each on a small report
written for the pattern (tests/fixtures/patterns/, README there): label variants, a missing row,
tables running into the prose, one template's rows under the other's year, a cell printed empty,
agency names from letters. Every test states the cells the pattern must give, and that nothing
else is invented."""

from __future__ import annotations

from pathlib import Path

import pytest

from gknb.extractors import extract_file
from gknb.extractors import webtext
from gknb.extractors.document import Document, Paragraph, Span, TableRow
from gknb.extractors.identities import violations
from gknb.extractors.labels import row_candidates, similar_row
from gknb.extractors.matcher import match

PATTERNS = Path(__file__).resolve().parent / "fixtures" / "patterns"
APPLICANTS = ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")
REVIEW = ("upheld", "corrected", "other", "pending", "total")


def row(ex, section, row_key, cols=APPLICANTS):
    return [(ex.cell(section, row_key, c).status, ex.cell(section, row_key, c).value) for c in cols]


def values(*vs):
    return [("value", v) for v in vs]


@pytest.mark.parametrize("name", ["label_variants.txt", "label_variants_webtext.txt"])
def test_label_variants_read_their_rows(name):
    ex = extract_file(PATTERNS / name)
    # 2.其他法律和行政法规禁止公开 (和), …不再受理… (受理), 7.属于行政执法案件 (案件): folded to the catalog's
    assert row(ex, 3, "denied_prohibited_by_law") == values(1, 0, 0, 0, 0, 0, 1)
    assert row(ex, 3, "other_no_correction") == values(2, 0, 0, 0, 0, 0, 2)
    assert row(ex, 3, "denied_enforcement_file") == values(1, 0, 0, 0, 0, 0, 1)
    # 6.属于四类过程信息 matches no alias: read by similarity, and it says so
    assert row(ex, 3, "denied_process_info") == values(3, 0, 0, 0, 0, 0, 3)
    assert "row label by similarity" in ex.cell(3, "denied_process_info", "total").raw
    assert any("denied_process_info" in w and "similarity" in w for w in ex.meta.warnings)
    assert "similarity" not in (ex.cell(3, "denied_enforcement_file", "total").raw or "")
    # the whole request and review tables are read, and they keep their identities
    assert all(c.status == "value" for c in ex.cells if c.section in (3, 4))
    assert violations(ex.cells, "2021") == []


def test_similarity_accepts_one_row_only():
    rows = {"denied_internal_affairs": "5.属于三类内部事务信息", "denied_process_info": "6.属于四类过程性信息"}
    assert similar_row("6.属于四类过程信息", rows)[0] == "denied_process_info"
    # as close to two rows as to one: not matched
    assert similar_row("属于类信息", rows) is None
    # far from every row
    assert similar_row("本机关主动公开政府信息", rows) is None
    # folding, not similarity, for the printed variants the alias file lists
    assert row_candidates(3, ["1.申请人无正当理由逾期不补正、行政机关不再受理其政府信息公开申请"]) == {"other_no_correction"}


def grid_row(texts, page=1):
    return TableRow([Span(t, col=i) for i, t in enumerate(texts)], page=page, table=1, grid=True)


def test_a_similar_label_out_of_the_tables_order_is_not_matched():
    """Position confirms a similarity match, never replaces it: a row that resembles 6.属于四类过程
    性信息 but stands after 8.属于行政查询事项 is left unmatched."""
    head = grid_row(["", "", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"])
    nums = ["1", "0", "0", "0", "0", "0", "1"]
    doc = Document("t", "html", [
        Paragraph("测试区民政局2022年政府信息公开工作年度报告", 1),
        Paragraph("三、收到和处理政府信息公开申请情况", 2), head,
        grid_row(["", "5.属于三类内部事务信息"] + nums),
        grid_row(["", "8.属于行政查询事项"] + nums),
        grid_row(["", "6.属于四类过程信息"] + ["3", "0", "0", "0", "0", "0", "3"]),
    ])
    ex = match(doc)
    assert ex.cell(3, "denied_process_info", "total").status == "missing"
    assert any("out of the table's order" in w for w in ex.meta.warnings)
    # in its place it is matched
    doc.blocks[4], doc.blocks[5] = doc.blocks[5], doc.blocks[4]
    assert match(doc).cell(3, "denied_process_info", "total").value == 3


@pytest.mark.parametrize("name", ["missing_row.txt", "missing_row_webtext.txt"])
def test_a_missing_row_loses_no_other_row(name):
    """No 规章 row in section 2, and the prose after the table names 规章: only 规章 is missing."""
    ex = extract_file(PATTERNS / name)
    assert row(ex, 2, "regulations", ("issued", "repealed", "in_force")) == [("missing", None)] * 3
    assert row(ex, 2, "normative_docs", ("issued", "repealed", "in_force")) == values(7, 0, 7)
    assert ex.cell(2, "admin_licensing", "decisions").value == 3619
    assert ex.cell(2, "admin_penalty", "decisions").value == 5879
    assert ex.cell(2, "admin_fees", "amount").value == pytest.approx(7494.55)
    missing = [c.key for c in ex.cells if c.status != "value"]
    assert missing == [(2, "regulations", c) for c in ("issued", "repealed", "in_force")]


def test_digits_before_the_narrative_belong_to_the_last_row():
    """`…四、结转下年度继续办理20000022025年，我委…` and section 4 as `…总计10000100000000000我委…`."""
    ex = extract_file(PATTERNS / "table_end_webtext.txt")
    assert row(ex, 3, "carried_forward") == values(2, 0, 0, 0, 0, 0, 2)
    assert row(ex, 4, "admin_review", REVIEW) == values(10, 0, 0, 0, 10)
    assert row(ex, 4, "lawsuit_direct", REVIEW) == values(0, 0, 0, 0, 0)
    assert row(ex, 4, "lawsuit_after_review", REVIEW) == values(0, 0, 0, 0, 0)
    assert "settled by S4.row_total" in ex.cell(4, "admin_review", "upheld").raw
    # prose never becomes a cell: the narrative's 2025, 100 and 3 are nowhere
    assert all(c.status == "value" for c in ex.cells)
    assert not {2025, 100, 3} & {c.value for c in ex.cells if c.section in (3, 4)}
    assert violations(ex.cells, "2021") == []


def test_a_2019_style_section_2_in_a_2021_report_puts_no_number_in_the_2021_columns():
    ex = extract_file(PATTERNS / "mixed_template_webtext.txt")
    assert ex.meta.template == "2021"
    # 行政许可89741888 under 上一年项目数量/本年增/减/处理决定数量: 21 readings, no number settled
    lic = ex.cell(2, "admin_licensing", "decisions")
    assert (lic.status, lic.value) == ("missing", None) and "89741888" in lic.raw
    # 行政处罚7400: every 2019 reading (7|40|0, 74|0|0) gives 处理决定数量 0; never 7400
    assert ex.cell(2, "admin_penalty", "decisions").value == 0
    assert ex.cell(2, "admin_coercion", "decisions").value == 0
    assert sum("template: section 2/art20_" in w and "2019 form" in w for w in ex.meta.warnings) >= 2
    assert {89741888, 7400} .isdisjoint(c.value for c in ex.cells)
    # the rest of the report is read as usual
    assert ex.cell(2, "admin_fees", "amount").value == pytest.approx(7494.55)
    assert all(c.status == "value" for c in ex.cells if c.section in (3, 4))


def test_a_2019_style_section_2_table_is_read_as_printed():
    ex = extract_file(PATTERNS / "mixed_template.txt")
    # the header names the 2019 columns: each row is read in them; 处理决定数量 is the 2021 column
    assert ex.cell(2, "admin_licensing", "decisions").value == 88
    assert ex.cell(2, "admin_penalty", "decisions").value == 0
    assert any("2019 form in a 2021 report" in w for w in ex.meta.warnings)
    assert {8974, 18, 74} .isdisjoint(c.value for c in ex.cells if c.section == 2)


def test_a_cell_printed_empty_is_never_guessed():
    """`2 | (empty) | 15` is `行政许可215` in web text: 2/1/5, 2/-/15, 21/-/5 … all fit; none is taken."""
    ex = extract_file(PATTERNS / "empty_cell_webtext.txt")
    cells = [ex.cell(2, "admin_licensing", c) for c in ("prev_year_count", "change", "decisions")]
    assert [c.status for c in cells] == ["missing"] * 3
    assert all(c.raw == "unsettled: '215'" for c in cells)
    assert any("'215'" in w for w in ex.meta.warnings)
    readings = webtext.splits(webtext.Run.parse("215"), ["count", "signed_count", "count"], empty=True)
    assert ("2", "", "15") in readings and ("2", "1", "5") in readings
    # the request table prints full rows of zeros: there a cell is not empty, and the rows are read
    assert all(c.status == "value" for c in ex.cells if c.section in (3, 4))


def test_a_split_settled_by_an_identity_says_which(samples):
    ex = extract_file(samples / "webtext" / "pingtan_2021.txt")
    assert "settled by S3.row_total" in ex.cell(3, "granted", "total").raw  # printed 270020130
    assert "settled by S4.row_total" in ex.cell(4, "lawsuit_direct", "total").raw
    assert "settled" not in ex.cell(3, "carried_over", "total").raw  # 0000000: one reading


def test_agency_is_cut_at_the_titles_end():
    m = extract_file(PATTERNS / "agency_title_webtext.txt").meta
    assert (m.agency, m.year, m.published) == ("平潭综合实验区苏平片区管理局", 2023, "2024-01-14")


def test_agency_is_the_issuer_not_the_addressee():
    """`关于报送…的函` names no agency; `新乡市红旗区人民政府办公室：` is the addressee; the signature issues it."""
    m = extract_file(PATTERNS / "agency_letter.txt").meta
    assert (m.agency, m.year, m.published) == ("红旗区卫生健康委员会", 2023, "2024-01-14")
    assert (m.city, m.district) == ("新乡市", "红旗区")


@pytest.mark.parametrize("part, spec, says", [
    ("fold", {"equivalents": ["受理"]}, "fold.equivalents"),
    ("fold", {"ignore": "和及与"}, "fold.ignore"),
    ("fold", {"equivalent": {"受理": "处理"}}, "fold must be a mapping"),
    ("similarity", {"min_ratio": 0.2}, "min_ratio must be in 0.5..1"),
    ("run_together", {3: {"granted_typo": "予以公开"}}, "granted_typo is no row of section 3"),
])
def test_a_broken_folding_entry_is_refused(part, spec, says):
    from gknb.extractors import labels

    loader = {"fold": labels._fold, "similarity": labels._similarity, "run_together": labels._run_together}[part]
    with pytest.raises(ValueError, match=says):
        loader(spec)


def test_a_2021_report_with_its_whole_section_2_in_the_2019_form_stays_a_2021_report():
    """Its request table prints the 2021 其他处理 sub-rows: the report is 2021, though section 2
    carries more 2019 headers than the rest carries 2021 ones; section 2 is read as printed."""
    ex = extract_file(PATTERNS / "mixed_template_section2.txt")
    assert ex.meta.template == "2021"
    assert [ex.cell(2, r, "decisions").value for r in ("admin_licensing", "admin_penalty", "admin_coercion")] \
        == [633, 2963, 142]
    # 本年新制作/新公开/对外公开总数量 and 上一年项目数量/本年增/减 are no 2021 columns: nothing is put there
    assert all(c.status == "missing" for c in ex.cells
               if c.section == 2 and c.row_key in ("regulations", "normative_docs", "admin_fees"))
    assert {164, 171, 34, 23, -8} .isdisjoint(c.value for c in ex.cells if c.section == 2)
    assert row(ex, 3, "other_no_correction")[0][0] == "value"
    assert all(c.status == "value" for c in ex.cells if c.section in (3, 4))
