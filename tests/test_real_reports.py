"""Real reports nobody on the team had seen while building the extractors (issue 2/3 "unseen
reports are scored the same way"), each extracted and compared with its expected cells, read by eye
from the document (tests/fixtures/real/README.md names their sources).

Every printed number must come out exact, none may be invented, every other cell must have its
expected status (blank, nil, missing), and template, year, agency and publication date must be right.
The one tolerated difference is listed in UNDETERMINED: crawled web text that runs a row's cells
together (`行政规范性文件77132470`) where no identity fixes the cell boundaries; those cells must
be `missing`, never a guessed split.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import read_jsonl
from gknb.extractors import extract_file
from gknb.extractors.matcher import match
from gknb.extractors import text as text_front_end
from gknb.extractors import html as html_front_end

REAL = Path(__file__).resolve().parent / "fixtures" / "real"

DOCUMENTS = [
    "pingtan_2023.html",
    "pingtan_2023.txt",
    "pingtan_2024.txt",
    "pingtan_2025.txt",
    "kewei_2024.md",
    "shanghai_office_2019.html",
    "suqian_2025_excerpt.md",
    "czj_2020.txt",
    "czj_2023.txt",
    "gaj_2021.txt",
    "gaj_2024.txt",
    "gwh_2019.txt",
    "hzs_2019.txt",
    "gaj_2022.txt",
    "shanghai_office_2025.md",
    "szfgs2024_excerpt.txt",
    "gaj_2019.txt",
    "jjf_2024.txt",
    "gyz_2025.txt",
    "shuyang_2025.txt",
    "shuyang_fgj_2023.html",
    "jjf_2022.txt",
    "gyz_2019.txt",
]

# cells printed in the report that the run-together web text cannot place with certainty
_NORMATIVE = {(2, "normative_docs", c) for c in ("issued", "repealed", "in_force")}
UNDETERMINED = {
    "pingtan_2023.txt": _NORMATIVE,  # '77132470': 21 splits
    "pingtan_2024.txt": _NORMATIVE,  # '6233440': 15 splits
    "pingtan_2025.txt": _NORMATIVE,  # '5845546': 15 splits
    # '222233' (22 22 33) and '215419886元' (21, 5419886元): several splits, no identity
    "gwh_2019.txt": {(2, "normative_docs", c) for c in ("made", "published", "total_public")}
    | {(2, "gov_procurement", "items"), (2, "gov_procurement", "amount")},
    # the Markdown conversion dropped a column of both rows (`| 规章 | 22 | 235 |` under three
    # headers; 本年废止 printed above the table as `55（含自然失效 29 件）`): which column is gone
    # cannot be told from the row, so the four printed values stay missing
    # '4500' (45 0 0), '63600' (636 0 0), '4300' (43 0 0), '124' (12 4): the page's HTML table
    # prints these; the run-together text has two or more splits each
    "gaj_2019.txt": {(2, "admin_licensing", "prev_year_count"), (2, "admin_licensing", "change"),
                     (2, "admin_penalty", "prev_year_count"), (2, "admin_penalty", "change"),
                     (2, "admin_penalty", "decisions"), (2, "admin_coercion", "prev_year_count"),
                     (2, "admin_coercion", "change"), (2, "admin_fees", "prev_year_count"),
                     (2, "admin_fees", "change")},
    "shanghai_office_2025.md": {(2, r, c) for r in ("regulations", "normative_docs") for c in ("issued", "in_force")},
}


def _extracted(name: str):
    ex = extract_file(REAL / name)
    cells = {(c.section, c.row_key, c.col_key): c for c in ex.cells}
    return ex.meta, cells


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_cell_as_expected(name: str) -> None:
    tmeta, truth = read_jsonl(REAL / f"{name}.expected.jsonl")
    meta, cells = _extracted(name)
    assert set(cells) == set(truth), "every template cell exactly once"
    undetermined = UNDETERMINED.get(name, set())
    wrong = []
    for key, t in truth.items():
        got = cells[key]
        if key in undetermined:
            if got.status != "missing":
                wrong.append((key, "undetermined cell must be missing", got.status, got.value))
            continue
        if (got.status, got.value) != (t["status"], t["value"]):
            wrong.append((key, t["status"], t["value"], got.status, got.value))
    assert not wrong, wrong
    for field in ("template", "year", "agency", "province", "city", "district", "published"):
        assert getattr(meta, field) == tmeta[field], field


def test_stacked_label_lines_do_not_name_the_bare_number_row() -> None:
    """kewei_2024.md (a PDF converted to Markdown): the label lines `5.属于三类内部事务信` / `息` /
    `1.本机关不掌握相关政` / `府信息` stand above the bare row `| 1 | 0 | … | 1 |`, which is row 5
    (between rows 4 and 6). Taking the last label line made it 本机关不掌握 and shifted 无法提供 by one
    row (not_held 1, needs_creation 4, unclear 6) and then "filled" 内部事务 with 0."""
    _, cells = _extracted("kewei_2024.md")
    assert cells[(3, "denied_internal_affairs", "natural_person")].value == 1
    assert cells[(3, "denied_internal_affairs", "natural_person")].raw == "1"  # printed, not filled
    assert [cells[(3, r, "total")].value for r in
            ("unavailable_not_held", "unavailable_needs_creation", "unavailable_unclear")] == [4, 6, 0]


def test_stacked_label_lines_keep_a_single_wrapped_label() -> None:
    """One label wrapped over two lines above its numbers still names the row."""
    doc = text_front_end.read(
        "三、收到和处理政府信息公开申请情况\n"
        "| 一、本年新收政府信息公开申请数量 | 3 | 0 | 0 | 0 | 0 | 0 | 3 |\n"
        "二、上年结转政府信息公开\n申请数量\n"
        "| 2 | 0 | 0 | 0 | 0 | 0 | 2 |\n".encode(), "inline.md", markdown=True)
    cells = {(c.section, c.row_key, c.col_key): c for c in match(doc).cells}
    assert cells[(3, "carried_over", "total")].value == 2


def test_review_header_cells_spanning_two_rows_place_blank_cells() -> None:
    """shanghai_office_2019.html: section 4 prints blank cells (&nbsp;) under a header whose
    行政复议 columns span two header rows; the grid repeats those header cells, which counted 20
    columns instead of 15 and left all of section 4 missing."""
    _, cells = _extracted("shanghai_office_2019.html")
    review = [cells[(4, "admin_review", c)] for c in ("upheld", "corrected", "other", "pending", "total")]
    assert [(c.status, c.value) for c in review] == [
        ("value", 5), ("blank", None), ("blank", None), ("value", 2), ("value", 7)]
    assert all(cells[(4, "lawsuit_after_review", c)].status == "blank"
               for c in ("upheld", "corrected", "other", "pending", "total"))


def test_html_publication_date_from_the_pubdate_meta_tag() -> None:
    """pingtan_2023.html shows its date only as `时间：2024-03-08 15:34`; the head declares
    `<meta name="PubDate" content="2024-03-08 15:34"/>`."""
    meta, _ = _extracted("pingtan_2023.html")
    assert meta.published == "2024-03-08"


def test_a_date_printed_in_the_body_wins_over_the_pubdate_meta_tag() -> None:
    page = ('<html><head><meta name="PubDate" content="2020-02-03 09:00"></head><body>'
            '<p>某区2019年政府信息公开工作年度报告</p><p>发布日期：2020-01-31</p></body></html>')
    doc = html_front_end.read(page.encode(), "inline.html")
    from gknb.extractors.meta import extract_meta
    assert extract_meta(doc, "2019").published == "2020-01-31"


def test_web_text_with_spaces_between_some_cells_is_solved() -> None:
    """czj_2023.txt (平潭 财政金融局): the crawled page prints `…申请数量0 0 0 0 0 00二、上年结转…`,
    spaces between some cells and the next row on the same line. It was not recognised as run-
    together web text (the telltale wanted six digits straight after a label), went to the text
    front end as one long line, and every cell came out missing. czj_2020.txt prints every cell
    space-separated, the whole table on one line: the same."""
    from gknb.extractors import webtext

    for name in ("czj_2023.txt", "czj_2020.txt"):
        assert webtext.looks_like((REAL / name).read_bytes()), name
        meta, cells = _extracted(name)
        assert meta.format == "webtext"
        assert sum(c.status == "value" for c in cells.values()) >= 196, name
    _, cells = _extracted("czj_2023.txt")
    assert [cells[(2, "normative_docs", c)].value for c in ("issued", "repealed", "in_force")] == [0, 0, 8]


def test_a_line_based_table_with_single_spaces_is_not_web_text() -> None:
    """Rows on their own lines (`一、本年新收政府信息公开申请数量 0 0 0 0 0 0 0` + line break) stay with
    the text front end."""
    from gknb.extractors import webtext

    rows = ["一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "1.属于国家秘密",
            "4.保护第三方合法权益", "2.重复申请"]
    page = "".join(f"{r} 0 0 0 0 0 0 0\n" for r in rows)
    assert not webtext.looks_like(page)
    assert not webtext.looks_like(page.replace(" 0", "\t0"))
    assert not webtext.looks_like("".join(f"| {r} | 0 | 0 | 0 | 0 | 0 | 0 | 0 |\n" for r in rows))


def test_the_last_row_of_a_table_ends_where_the_next_part_begins() -> None:
    """czj_2023.txt: `行政事业性收费5949.09(二)主动公开政府信息的主要类别2023年，在主动公开的107条…`:
    the digits of the prose after the table were read as part of the row, which was then missing."""
    _, cells = _extracted("czj_2023.txt")
    assert cells[(2, "admin_fees", "amount")].value == 5949.09


def test_a_plus_sign_starts_the_change_cell_in_web_text() -> None:
    """gwh_2019.txt prints 行政许可 `0+11`: 上一年项目数量 0, 本年增/减 +1, 处理决定数量 1 (the page's
    table shows `+1`). The `+` broke the row's digits in two and the row was missing."""
    _, cells = _extracted("gwh_2019.txt")
    row = [cells[(2, "admin_licensing", c)] for c in ("prev_year_count", "change", "decisions")]
    assert [(c.value, c.raw) for c in row] == [(0, "0"), (1, "+1"), (1, "1")]


def test_a_unit_between_two_cells_is_a_boundary_in_web_text() -> None:
    """czj_2020.txt: `政府集中采购 2笔 984361元` is 2 items and 98.4361 万元; the unit 笔 split the row
    into two runs of digits and the row was missing."""
    _, cells = _extracted("czj_2020.txt")
    assert cells[(2, "gov_procurement", "items")].value == 2
    assert cells[(2, "gov_procurement", "amount")].value == 98.4361


def test_web_text_rows_with_two_readings_stay_missing() -> None:
    """jtj_2020.txt (平潭 交通与建设局) prints 行政许可 `88-720` (88 -7 20 or 88 -72 0), 行政处罚 `26-260`
    and 政府集中采购 `263042532`: several readings and no identity, so those cells are missing; the
    rows with one reading are read (规范性文件 `335`, 行政事业性收费 `15-15`, the request table)."""
    meta, cells = _extracted("jtj_2020.txt")
    assert (meta.template, meta.year) == ("2019", 2020)
    assert [cells[(2, "normative_docs", c)].value for c in ("made", "published", "total_public")] == [3, 3, 5]
    assert [cells[(2, "admin_fees", c)].value for c in ("prev_year_count", "change")] == [15, -15]
    assert cells[(2, "admin_licensing", "prev_year_count")].value == 88
    for key in [(2, "admin_licensing", "change"), (2, "admin_licensing", "decisions"),
                (2, "admin_penalty", "change"), (2, "admin_penalty", "decisions"),
                (2, "gov_procurement", "items"), (2, "gov_procurement", "amount")]:
        assert cells[key].status == "missing", key
    assert cells[(3, "unavailable_not_held", "total")].value == 2
    assert cells[(3, "total_processed", "total")].value == 2


def test_amounts_under_a_yuan_header_are_converted(tmp_path) -> None:
    """jtj_2020.txt's header reads `采购总金额（元）`: a bare amount under it is in 元. Where a page
    separates the cells (`政府集中采购2 63042532`, the same page with the boundary printed), the
    amount is 6304.2532 万元, not 63042532 万元. The same for HTML and text tables: the 2019 上海
    report's procurement row with the header `采购总金额（元）` and `251000` printed bare is 25.1."""
    page = (REAL / "jtj_2020.txt").read_text(encoding="utf-8").replace("政府集中采购263042532", "政府集中采购2 63042532")
    (tmp_path / "jtj.txt").write_text(page, encoding="utf-8")
    cells = {(c.section, c.row_key, c.col_key): c for c in extract_file(tmp_path / "jtj.txt").cells}
    assert cells[(2, "gov_procurement", "items")].value == 2
    assert cells[(2, "gov_procurement", "amount")].value == 6304.2532

    html = (REAL / "shanghai_office_2019.html").read_text(encoding="utf-8")
    html = html.replace("采购总金额<", "采购总金额（元）<").replace("251000元", "251000")
    (tmp_path / "sh.html").write_text(html, encoding="utf-8")
    cells = {(c.section, c.row_key, c.col_key): c for c in extract_file(tmp_path / "sh.html").cells}
    assert cells[(2, "gov_procurement", "amount")].value == 25.1
    assert cells[(2, "gov_procurement", "amount")].raw == "251000"

    text = "二、主动公开政府信息情况\n第二十条第（九）项\n信息内容\t采购项目数量\t采购总金额（元）\n政府集中采购\t6\t251000\n"
    doc = text_front_end.read(text.encode(), "inline.txt")
    cells = {(c.section, c.row_key, c.col_key): c for c in match(doc).cells}
    assert cells[(2, "gov_procurement", "amount")].value == 25.1
    # a header in 万元 leaves the number as printed
    doc = text_front_end.read(text.replace("（元）", "（万元）").encode(), "inline.txt")
    cells = {(c.section, c.row_key, c.col_key): c for c in match(doc).cells}
    assert cells[(2, "gov_procurement", "amount")].value == 251000


def test_a_wrapped_label_whose_tail_holds_a_comma_keeps_its_numbers() -> None:
    """szfgs2024_excerpt.txt (PDF text without layout): the 部分公开 label wraps and its numbers
    follow the tail, `形，不计其他情形） 447 7 0 0 0 0 454`. The comma made the line prose, so the
    row was lost (7 printed numbers missing); a label followed by three or more numbers is a row
    even with a comma."""
    _, cells = _extracted("szfgs2024_excerpt.txt")
    assert [cells[(3, "partially_granted", c)].value for c in
            ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")] \
        == [447, 7, 0, 0, 0, 0, 454]
    assert cells[(3, "partially_granted", "total")].raw == "454"  # printed, not filled


def test_prose_with_a_comma_and_one_or_two_numbers_is_not_a_row() -> None:
    doc = text_front_end.read("全年共受理申请，办结 12\n其中，予以公开 3 4\n".encode(), "inline.txt")
    assert all(type(b).__name__ == "Paragraph" for b in doc.blocks)


@pytest.mark.parametrize("name, published", [
    ("jjf_2024.txt", "2025-01-27"),  # `…事项无。 平潭综合实验区经济发展局2025年1月27日`
    ("gyz_2025.txt", "2026-01-28"),  # `… 平潭综合实验区投资促进局 2026年1月28日` (archive: 2026-04-17)
    ("czj_2023.txt", "2024-01-29"),  # archive 发布时间 2024-01-31
    ("hzs_2019.txt", "2020-01-02"),  # `…无平潭综合实验区行政审批局 2020年1月2日 附件下载`
])
def test_a_signature_run_into_the_last_sentence_dates_the_report(name: str, published: str) -> None:
    """Crawled web text runs the signature into the text's last line; its date was missed and the
    archive's 发布时间 (days or months later) taken instead."""
    meta, _ = _extracted(name)
    assert meta.published == published


def test_a_date_inside_the_last_sentence_is_not_a_signature() -> None:
    from gknb.extractors.meta import extract_meta
    doc = text_front_end.read("某区2022年政府信息公开工作年度报告\n发布时间：2023-02-01\n本报告经审议于2023年1月7日\n".encode(), "inline.txt")
    assert extract_meta(doc, "2021").published == "2023-02-01"


def test_a_request_table_that_breaks_its_identities_is_taken_as_printed() -> None:
    """jjf_2024.txt prints 3 new requests, 3 本机关不掌握, and a （七）总计 row of zeros: S3.balance and
    S3.outcomes fail, so every row is taken as printed, none 'corrected'."""
    _, cells = _extracted("jjf_2024.txt")
    assert cells[(3, "unavailable_not_held", "total")].value == 3
    assert cells[(3, "total_processed", "total")].value == 0
    assert cells[(3, "new_requests", "natural_person")].value == 3


def test_section4_rows_as_three_captioned_tables() -> None:
    """shuyang_2025.txt (a PDF converted to Markdown) prints section 4 as three tables of one row,
    each under a caption line and a header `| 结果维持 | … | 总计 |`: `### 行政复议`, `### 行政诉讼（未经
    复议直接起诉）`, `### 行政诉讼（复议后起诉）`. The header row dropped the caption, the rows were
    unlabelled with 5 values for 15 columns, and all of section 4 was missing."""
    _, cells = _extracted("shuyang_2025.txt")
    got = {r: [cells[(4, r, c)].value for c in ("upheld", "corrected", "other", "pending", "total")]
           for r in ("admin_review", "lawsuit_direct", "lawsuit_after_review")}
    assert got == {"admin_review": [27, 10, 9, 15, 61], "lawsuit_direct": [3, 0, 0, 0, 3],
                   "lawsuit_after_review": [8, 0, 1, 1, 10]}


def test_an_uncaptioned_five_value_row_in_section4_stays_missing() -> None:
    doc = text_front_end.read(
        "四、政府信息公开行政复议、行政诉讼情况\n说明如下\n"
        "| 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |\n|---|---|---|---|---|\n"
        "| 27 | 10 | 9 | 15 | 61 |\n".encode(), "inline.md", markdown=True)
    cells = {(c.section, c.row_key, c.col_key): c for c in match(doc).cells}
    assert all(cells[(4, r, "total")].status == "missing"
               for r in ("admin_review", "lawsuit_direct", "lawsuit_after_review"))


def test_a_placeholder_division_is_no_region() -> None:
    """shuyang_2025.txt's OCR prints 沐阳县 for 沭阳县; the division table's placeholder `县`
    (重庆市's 500200) matched its tail and the report was placed in 重庆市."""
    from gknb.extractors.meta import resolve_region
    meta, _ = _extracted("shuyang_2025.txt")
    assert (meta.province, meta.city, meta.district) == (None, None, None)
    assert resolve_region("沭阳县人民政府")["district"] == "沭阳县"
    assert resolve_region("重庆市城口县人民政府")["district"] == "城口县"
