"""Crawled web text (cells run together): only what the identities fix is extracted, never a guess.

The expected cells of the four 平潭 pages were checked by eye against the page text: a value only
where the digit string admits one reading, `missing` elsewhere."""

from pathlib import Path

import pytest

from conftest import read_jsonl
from gknb.extractors import extract_file
from gknb.extractors import webtext
from gknb.testing import synth

FIXTURES = Path(__file__).parent / "fixtures" / "webtext"
# cells with a value, of the template's cells: the table in docs/html_word_webtext.md
DETERMINED = {"2019": (179, 198), "2020": (182, 198), "2021": (197, 200), "2022": (197, 200)}


@pytest.mark.parametrize("year", sorted(DETERMINED))
def test_pingtan_pages_give_exactly_the_determined_cells(samples, year):
    result = extract_file(samples / "webtext" / f"pingtan_{year}.txt")
    meta, expected = read_jsonl(FIXTURES / f"pingtan_{year}.jsonl")
    got = {c.key: {"status": c.status, "value": c.value} for c in result.cells}
    assert got == {k: {"status": c["status"], "value": c["value"]} for k, c in expected.items()}
    values = sum(c.status == "value" for c in result.cells)
    assert (values, len(result.cells)) == DETERMINED[year]
    m = result.meta
    assert (m.agency, m.year, m.template, m.published, m.format) == (
        meta["agency"], meta["year"], meta["template"], meta["published"], "webtext")
    # every gap is explained
    assert all(c.status in ("value", "missing") for c in result.cells)
    if values < len(result.cells):
        assert any("missing" in w for w in m.warnings)


def test_the_identities_split_the_2021_review_and_request_rows(samples):
    result = extract_file(samples / "webtext" / "pingtan_2021.txt")
    row = lambda s, r: [result.cell(s, r, c).value for c in  # noqa: E731
                        (("natural_person", "commercial", "research", "social_welfare", "legal_service",
                          "other_org", "total") if s == 3 else ("upheld", "corrected", "other", "pending", "total"))]
    assert row(3, "new_requests") == [64, 0, 0, 2, 0, 4, 70]  # printed 640020470
    assert row(3, "granted") == [27, 0, 0, 2, 0, 1, 30]  # printed 270020130
    assert row(4, "admin_review") == [1, 0, 2, 0, 3]  # printed 10203120001200000
    assert row(4, "lawsuit_direct") == [12, 0, 0, 0, 12]
    assert "every split consistent with the identities agrees" in result.cell(3, "granted", "total").raw
    # 行政规范性文件693665: three columns, no identity, ten readings — nothing is guessed
    assert [result.cell(2, "normative_docs", c).status for c in ("issued", "repealed", "in_force")] == ["missing"] * 3
    assert result.cell(2, "admin_fees", "amount").value == pytest.approx(24252.311082)


def test_a_report_that_breaks_its_own_identities_keeps_the_row_totals(samples):
    # 2020: the outcome rows of 自然人 add up to 26, its (七)总计 says 20
    result = extract_file(samples / "webtext" / "pingtan_2020.txt")
    assert any("no split satisfying S3.outcomes; it was not used" in w for w in result.meta.warnings)
    assert result.cell(3, "other", "natural_person").value == 4  # printed with spaces: 4 0 0 0 0 0 4
    assert result.cell(2, "admin_fees", "change").value == -15  # 35-15: the minus starts a cell
    assert result.cell(2, "admin_penalty", "prev_year_count").value == 2648  # 2648-18538
    assert result.cell(2, "admin_penalty", "change").status == "missing"
    assert result.cell(2, "gov_procurement", "amount").status == "missing"  # 39573802895.90元


def test_splits_follow_how_tables_print_numbers():
    run = webtext.Run.parse
    assert webtext.splits(run("2648-18538"), ["count", "signed_count", "count"]) == [
        ("2648", "-1", "8538"), ("2648", "-18", "538"), ("2648", "-185", "38"), ("2648", "-1853", "8")]
    assert webtext.splits(run("35-15"), ["count", "signed_count"]) == [("35", "-15")]
    assert webtext.splits(run("0 0 00"), ["count"] * 4) == [("0", "0", "0", "0")]  # no leading zeros
    assert webtext.splits(run("1005"), ["count", "count"]) == [("100", "5")]
    assert webtext.splits(run("135753.5元"), ["count", "amount_10k_yuan"])[0] == ("1", "35753.5元")
    assert ("13575", "3.5元") in webtext.splits(run("135753.5元"), ["count", "amount_10k_yuan"])
    assert webtext.splits(run("12"), ["count"] * 3) == []


def test_only_run_together_text_is_taken_for_web_text(samples):
    for path in sorted((samples / "seeds").glob("*.txt")) + [samples / "markdown" / "shanghai_office_2025.md"]:
        assert not webtext.looks_like(path.read_bytes()), path.name
    for path in sorted((samples / "webtext").glob("*.txt")):
        assert webtext.looks_like(path.read_bytes()), path.name


@pytest.mark.parametrize("template", ["2021", "2019"])
def test_synthetic_run_together_pages_never_give_a_wrong_value(tmp_path, template):
    """Unseen pages: known values run together as the archive prints them; whatever is determined
    must be right, and most cells are."""
    values = total = 0
    for seed in range(12):
        # odd seeds with the quirks real pages have: 无 rows, amounts in 元, and (2021) the single
        # （六）其他处理 row printed instead of its sub-rows
        rep = synth.draw_report(seed, template, quirks=seed % 2 == 1)
        result = extract_file(synth.write_webtext(rep, tmp_path / f"page_{seed}.txt"))
        assert (result.meta.year, result.meta.template) == (rep.year, template)
        for cell in result.cells:
            total += 1
            if cell.status == "value":
                values += 1
                assert cell.value == pytest.approx(rep.values[cell.key]), (seed, cell.key, cell.raw)
            else:
                assert cell.status in ("missing", "nil")
    assert values / total > 0.85


def test_large_numbers_are_split_by_their_totals(tmp_path):
    """A big city's rows run to 30+ digits; the search goes by the row total, so it stays small."""
    rep = synth.draw_report(3, "2021")
    for key in rep.values:
        if key[0] >= 3:
            rep.values[key] *= 1373  # the identities are linear: still a consistent report
    result = extract_file(synth.write_webtext(rep, tmp_path / "big.txt"))
    assert len(result.cell(3, "new_requests", "total").raw) > 10
    values = [c for c in result.cells if c.status == "value"]
    assert all(c.value == pytest.approx(rep.values[c.key]) for c in values)
    assert all(c.status == "value" for c in result.cells if c.section in (3, 4))
    assert webtext.total_splits(webtext.Run.parse("6400204 70"), 6) == [("64", "0", "0", "2", "0", "4", "70")]
