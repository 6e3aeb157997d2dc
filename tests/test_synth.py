"""Synthetic reports: consistent values, deterministic batches, and every form (Word, HTML, text,
PDF via LibreOffice) extracting back to exactly the values drawn."""

import pytest

from conftest import read_jsonl
from gknb.extractors import extract_file
from gknb.extractors.identities import violations
from gknb.catalog import load_catalog
from gknb.testing import synth


@pytest.mark.parametrize("template", ["2021", "2019"])
def test_drawn_reports_satisfy_every_identity(template):
    cat = load_catalog()
    for seed in range(40):
        rep = synth.draw_report(seed, template)
        cells = rep.cells()
        assert [c.key for c in cells] == [c.key for c in cat.template_cells(template)]
        assert violations(cells, template) == []
        v = rep.values
        for col in (*synth.APPLICANTS, "total"):  # S3.balance, checked here independently
            assert v[(3, "new_requests", col)] + v[(3, "carried_over", col)] == \
                v[(3, "total_processed", col)] + v[(3, "carried_forward", col)]
            assert v[(3, "new_requests", col)] >= 0
        assert rep.title == f"{rep.agency}{rep.year}年政府信息公开工作年度报告"
        assert rep.agency.startswith(rep.district)
        assert (2021 <= rep.year <= 2024) if template == "2021" else (2019 <= rep.year <= 2020)


def test_districts_resolve_with_cpca_as_recorded():
    import cpca

    df = cpca.transform([d + "民政局" for _, _, d in synth.DISTRICTS])
    got = list(zip(df["省"], df["市"], df["区"]))
    assert got == list(synth.DISTRICTS)


def test_generate_is_deterministic_and_writes_expected_cells(tmp_path):
    a = synth.generate(tmp_path / "a", 3, seed=5, forms=("html", "txt"), templates=("2021", "2019"))
    b = synth.generate(tmp_path / "b", 3, seed=5, forms=("html", "txt"), templates=("2021", "2019"))
    c = synth.generate(tmp_path / "c", 3, seed=6, forms=("html", "txt"), templates=("2021", "2019"))
    for x, y in zip(a, b):
        for form in ("html", "txt"):
            assert x.files[form].read_bytes() == y.files[form].read_bytes()
        assert x.expected.read_bytes() == y.expected.read_bytes()
    assert [g.expected.read_bytes() for g in a] != [g.expected.read_bytes() for g in c]
    assert [g.report.template for g in a] == ["2021", "2019", "2021"]
    meta, cells = read_jsonl(a[1].expected)
    assert (meta["year"], meta["template"], meta["agency"]) == (a[1].report.year, "2019", a[1].report.agency)
    assert {k: c["value"] for k, c in cells.items()} == {k: v for k, v in a[1].report.values.items()}
    with pytest.raises(ValueError, match="unknown forms"):
        synth.generate(tmp_path / "d", 1, forms=("xls",))


@pytest.mark.parametrize("form", ["html", "txt"])
@pytest.mark.parametrize("template", ["2021", "2019"])
def test_generated_html_and_text_extract_exactly(tmp_path, form, template):
    for g in synth.generate(tmp_path, 2, seed=31, forms=(form,), templates=(template,)):
        result = extract_file(g.files[form])
        _, want = read_jsonl(g.expected)
        got = {c.key: (c.status, c.value) for c in result.cells}
        assert got == {k: (c["status"], c["value"]) for k, c in want.items()}
        assert (result.meta.year, result.meta.template) == (g.report.year, template)


@pytest.mark.parametrize("form", ["docx", "html", "txt"])
def test_quirky_reports_extract_exactly(tmp_path, form):
    """无 cells (nil), fees printed in 元 (→ 万元), the 2021 single （六）其他处理 row (sub-rows missing)."""
    made = synth.generate(tmp_path, 4, seed=3, forms=(form,), templates=("2021", "2019"), quirks=True)
    reports = [g.report for g in made]
    assert any(r.single_other for r in reports)
    assert any("无" in r.printed_as.values() for r in reports)
    assert any(t.endswith("元") for r in reports for t in r.printed_as.values())
    for g in made:
        result = extract_file(g.files[form])
        _, want = read_jsonl(g.expected)
        got = {c.key: (c.status, c.value) for c in result.cells}
        assert got == {k: (c["status"], c["value"]) for k, c in want.items()}
        if g.report.single_other:
            assert result.cell(3, "other", "total").value == sum(
                g.report.values[(3, r, "total")] for r in ("other_no_correction", "other_unpaid_fee", "other_other"))
            assert result.cell(3, "other_other", "total").status == "missing"


def test_generated_pdf_extracts_exactly(tmp_path):
    """Word → PDF with LibreOffice, then the PDF front end (issue 3) reads it back."""
    made = synth.generate(tmp_path, 2, seed=1, forms=("pdf",), templates=("2021", "2019"), quirks=True)
    assert made[0].report.single_other and made[1].report.printed_as
    for g in made:
        assert "docx" not in g.files and g.files["pdf"].read_bytes().startswith(b"%PDF")
        result = extract_file(g.files["pdf"])
        _, want = read_jsonl(g.expected)
        got = {c.key: (c.status, c.value) for c in result.cells}
        assert got == {k: (c["status"], c["value"]) for k, c in want.items()}
        assert (result.meta.year, result.meta.template) == (g.report.year, g.report.template)


def test_docx_to_pdf_without_soffice_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(synth.shutil, "which", lambda name: None)
    with pytest.raises(synth.SofficeMissing, match="libreoffice-writer-nogui"):
        synth.docx_to_pdf(tmp_path / "x.docx", tmp_path)
