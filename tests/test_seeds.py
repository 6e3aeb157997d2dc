"""The five founding seeds and the Markdown report, each quirk on the real file.

Expected cells in tests/fixtures/expected/ were read from the documents by eye (section by
section, row by row) and, for the Markdown report, checked against the identities by hand.
"""

from __future__ import annotations

import pytest

from conftest import read_jsonl
from gknb.extractors import extract_file

EXPECTED = __import__("pathlib").Path(__file__).parent / "fixtures" / "expected"
COLS = ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")
SEEDS = {
    "000_1a488c694ce6abfd": "seeds/000_1a488c694ce6abfd.txt",
    "001_b39e880f26e76352": "seeds/001_b39e880f26e76352.txt",
    "002_33e9445466d7bd01": "seeds/002_33e9445466d7bd01.txt",
    "003_8faff2b7f5fbbbed": "seeds/003_8faff2b7f5fbbbed.txt",
    "004_f91fd63a8d753a03": "seeds/004_f91fd63a8d753a03.txt",
    "shanghai_office_2025": "markdown/shanghai_office_2025.md",
}


@pytest.fixture(scope="module")
def extracted(samples):
    return {name: extract_file(samples / rel) for name, rel in SEEDS.items()}


def row(ex, section, key, cols=COLS):
    return [(c.status, c.value) for c in (ex.cell(section, key, col) for col in cols)]


@pytest.mark.parametrize("name", list(SEEDS))
def test_every_expected_cell_exactly(extracted, name):
    meta, expected = read_jsonl(EXPECTED / f"{name}.jsonl")
    ex = extracted[name]
    got = {c.key: c for c in ex.cells}
    assert len(got) == len(ex.cells)  # each cell once
    assert set(got) == set(expected)
    for key, want in expected.items():
        assert (got[key].status, got[key].value) == (want["status"], want["value"]), key
    assert (ex.meta.template, ex.meta.year) == (meta["template"], meta["year"])


def test_000_row_split_over_two_lines(extracted):
    ex = extracted["000_1a488c694ce6abfd"]
    # `3.危及“三安全` carries the values; `“一稳定”` on the next line is its label's tail, not a row
    assert row(ex, 3, "denied_security_stability") == [("value", 0)] * 7
    assert ex.cell(3, "denied_security_stability", "total").page == 64
    assert not any("一稳定" in w for w in ex.meta.warnings)


def test_000_rows_after_the_page_break_printed_one_value_short(extracted):
    ex = extracted["000_1a488c694ce6abfd"]
    for key in ("denied_third_party", "unavailable_not_held", "rejected_publication"):
        assert row(ex, 3, key) == [("value", 0)] * 7  # six zeros for seven columns: all zero
        assert ex.cell(3, key, "total").raw.startswith("filled: S3.row_total")
        assert any(f"section 3/{key}: row" in w and "6 values for 7 columns" in w for w in ex.meta.warnings)
    # the rows after them print all seven again
    assert ex.cell(3, "rejected_excessive", "total").raw == "0"


def test_000_section4_placed_by_column_positions(extracted):
    ex = extracted["000_1a488c694ce6abfd"]
    review = ("upheld", "corrected", "other", "pending", "total")
    assert row(ex, 4, "admin_review", review) == [("blank", None)] * 5  # five empty cells
    assert row(ex, 4, "lawsuit_direct", review) == [("value", 0)] * 5
    assert row(ex, 4, "lawsuit_after_review", review) == [("value", 0)] * 5


def test_001_first_result_rows_printed_empty_are_blank_not_zero(extracted):
    ex = extracted["001_b39e880f26e76352"]
    for key in ("granted", "partially_granted", "denied_state_secret", "denied_query_matter", "unavailable_not_held"):
        assert row(ex, 3, key) == [("blank", None)] * 7
    # the second half of the split request table
    assert row(ex, 3, "unavailable_needs_creation") == [("value", 0)] * 7
    assert row(ex, 3, "carried_forward") == [("value", 0)] * 7
    assert ex.cell(3, "carried_forward", "total").page == 74


def test_002_label_split_into_two_tab_cells(extracted):
    ex = extracted["002_33e9445466d7bd01"]
    assert row(ex, 3, "new_requests") == [("value", 0)] * 7
    assert ex.cell(3, "new_requests", "natural_person").page == 46
    assert all(c.status == "value" for c in ex.cells)


def test_003_nil_words(extracted):
    ex = extracted["003_8faff2b7f5fbbbed"]
    assert row(ex, 2, "admin_licensing", ("prev_year_count", "change", "decisions")) == [("nil", None)] * 3
    # `行政事业性收费\t无\t\t`: 无 under 上一年项目数量, nothing under 本年增/减
    assert row(ex, 2, "admin_fees", ("prev_year_count", "change")) == [("nil", None), ("blank", None)]
    assert row(ex, 2, "gov_procurement", ("items", "amount")) == [("nil", None), ("blank", None)]
    assert row(ex, 2, "other_admin_services", ("prev_year_count", "change", "decisions")) == [
        ("value", 9270), ("value", 144), ("value", 9126)]


def test_003_table_cut_off_after_internal_affairs(extracted):
    ex = extracted["003_8faff2b7f5fbbbed"]
    assert row(ex, 3, "denied_internal_affairs") == [("blank", None)] * 7
    for key in ("denied_process_info", "rejected_petition", "other", "total_processed", "carried_forward"):
        assert row(ex, 3, key) == [("missing", None)] * 7
    for key in ("admin_review", "lawsuit_direct", "lawsuit_after_review"):
        assert all(c.status == "missing" for c in ex.cells if c.section == 4 and c.row_key == key)
    assert any("section 4: not found" in w for w in ex.meta.warnings)
    assert any("ends early" in w for w in ex.meta.warnings)


def test_003_single_value_whose_column_is_uncertain_is_not_guessed(extracted):
    # `一、本年新收…\t\t\t\t\t\t\t0\t`: one 0 whose tab position (其他) and the trailing empty
    # cell disagree with where a lone figure usually goes (总计); the row is missing, with a reason
    ex = extracted["003_8faff2b7f5fbbbed"]
    assert row(ex, 3, "new_requests") == [("missing", None)] * 7
    assert any("section 3/new_requests" in w and "1 values for 7 columns" in w for w in ex.meta.warnings)


def test_004_is_the_2021_template(extracted):
    ex = extracted["004_f91fd63a8d753a03"]
    assert ex.meta.template == "2021" and ex.meta.year == 2023
    assert len(ex.cells) == 200
    assert ex.cell(3, "other", "total") is None  # sub-rows printed → no variant
    assert row(ex, 3, "other_other") == [("value", 0)] * 7
    assert ex.cell(2, "admin_fees", "amount").value == 0


def test_markdown_report_numbers_that_can_be_placed(extracted):
    ex = extracted["shanghai_office_2025"]
    assert (ex.meta.template, ex.meta.year) == ("2021", 2025)
    assert row(ex, 3, "new_requests") == [("value", v) for v in (1259, 36, 0, 0, 0, 0, 1295)]
    # label on two lines above a row of bare numbers
    assert row(ex, 3, "partially_granted") == [("value", v) for v in (2, 0, 0, 0, 0, 0, 2)]
    # the 2021 其他处理 sub-rows, labels spread over several lines and cells
    assert row(ex, 3, "other_no_correction") == [("value", v) for v in (40, 1, 0, 0, 2, 0, 43)]
    assert row(ex, 3, "other_unpaid_fee") == [("value", 0)] * 7
    assert row(ex, 3, "other_other") == [("value", v) for v in (264, 12, 0, 0, 0, 0, 276)]
    assert ex.cell(3, "total_processed", "total").value == 1191
    review = ("upheld", "corrected", "other", "pending", "total")
    assert [c[1] for c in row(ex, 4, "admin_review", review)] == [40, 0, 10, 5, 55]
    assert [c[1] for c in row(ex, 4, "lawsuit_after_review", review)] == [6, 0, 9, 7, 22]
    assert ex.cell(2, "admin_licensing", "decisions").value == 0
    # `| 规章 | 22 | 235 |`: two numbers for three columns → missing, not guessed
    assert row(ex, 2, "regulations", ("issued", "repealed", "in_force")) == [("missing", None)] * 3
    # what was placed satisfies the report's own identities
    from gknb.extractors.identities import violations
    assert violations(ex.cells, "2021") == []
