"""The plain-text / Markdown front end and `gknb extract` on text files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gknb.extractors import extract_file
from gknb.extractors.document import Paragraph, TableRow
from gknb.extractors.text import read
from gknb.testing import synth

REPO = Path(__file__).resolve().parent.parent
GKNB = [sys.executable, "-m", "gknb.cli"]


def rows(doc):
    return [b for b in doc.blocks if isinstance(b, TableRow)]


def test_pipe_tables_tabs_spaces_and_label_number_lines():
    text = "\n".join([
        "# 标题",                              # 1 heading → paragraph
        "| 信息内容 | 本年制发件数 |",            # 2
        "|---|---|",                            # 3 separator: skipped
        "| 规章 | 3 |",                          # 4
        "规范性文件\t1\t2\t3",                  # 5 tabs
        "行政处罚     5     6",                  # 6 space-aligned
        "行政许可 0",                            # 7 label, single space, number
        "— 4 —",                                # 8 page number: dropped
        "全年主动公开规章 22 件、文件 34 件。",   # 9 prose with numbers stays prose
    ])
    doc = read(text.encode("utf-8"), "t.md", markdown=True)
    assert doc.format == "markdown"
    got = [(r.page, r.texts) for r in rows(doc)]
    assert got == [(2, ["信息内容", "本年制发件数"]), (4, ["规章", "3"]), (5, ["规范性文件", "1", "2", "3"]),
                   (6, ["行政处罚", "5", "6"]), (7, ["行政许可", "0"])]
    paras = [(b.page, b.text) for b in doc.blocks if isinstance(b, Paragraph)]
    assert paras == [(1, "标题"), (9, "全年主动公开规章 22 件、文件 34 件。")]
    assert all(not r.grid and [s.col for s in r.cells] == list(range(len(r.cells))) for r in rows(doc))


def test_gbk_text_is_decoded():
    doc = read("规章\t0\t0\t0".encode("gbk"), "t.txt")
    assert rows(doc)[0].texts == ["规章", "0", "0", "0"]


def _perturbed(tmp_path, rep, name, transform):
    src = synth.write_text(rep, tmp_path / f"{name}.txt").read_text(encoding="utf-8")
    out = tmp_path / f"{name}_{transform.__name__}.txt"
    out.write_text("\n".join(transform(src.split("\n"))), encoding="utf-8")
    return out


def spaces(lines):
    return [re.sub(r"\t+", "   ", line) for line in lines]


def markdown_pipes(lines):
    out, prev = [], False
    for line in lines:
        if "\t" in line:
            cells = line.split("\t")
            out.append("| " + " | ".join(cells) + " |")
            if not prev:
                out.append("|" + "---|" * len(cells))
            prev = True
        else:
            out.append(line)
            prev = False
    return out


def labels_above_values(lines):
    """The layout of PDF text: each request row's label on its own line, the numbers below."""
    out = []
    for line in lines:
        cells = line.split("\t")
        nums = [c for c in cells if re.fullmatch(r"\d+", c)]
        if "\t" in line and len(nums) == 7:
            out.append("".join(c for c in cells if c and c not in nums))
            out.append("\t".join(nums))
        else:
            out.append(line)
    return out


def broken_labels(lines):
    """A label broken over two lines: the first half above the row."""
    out = []
    for line in lines:
        cells = line.split("\t")
        if "\t" in line and sum(bool(re.fullmatch(r"\d+", c)) for c in cells) == 7:
            i = max(i for i, c in enumerate(cells) if c and not re.fullmatch(r"\d+", c))
            if len(cells[i]) >= 6:
                half = len(cells[i]) // 2
                out.append(cells[i][:half])
                cells[i] = cells[i][half:]
        out.append("\t".join(cells))
    return out


@pytest.mark.parametrize("transform", [spaces, markdown_pipes, labels_above_values, broken_labels])
@pytest.mark.parametrize("seed, template", [(11, "2021"), (12, "2019")])
def test_text_layouts_of_generated_reports(tmp_path, seed, template, transform):
    rep = synth.draw_report(seed, template)
    path = _perturbed(tmp_path, rep, f"r{seed}", transform)
    ex = extract_file(path)
    assert (ex.meta.template, ex.meta.year, ex.meta.agency) == (template, rep.year, rep.agency)
    got = {c.key: c for c in ex.cells}
    wrong = [(k, got[k].status, got[k].value, v) for k, v in rep.values.items()
             if got[k].status != "value" or abs(got[k].value - v) > 1e-9]
    assert wrong == []


def test_cli_prints_meta_then_every_cell(samples):
    out = subprocess.run(GKNB + ["extract", str(samples / "seeds" / "000_1a488c694ce6abfd.txt")],
                         capture_output=True, text=True, cwd=REPO, check=True).stdout.splitlines()
    first = json.loads(out[0])
    assert first["meta"]["agency"] == "银川市兴庆区解放西街街道办事处"
    cells = [json.loads(line) for line in out[1:]]
    assert len(cells) == 198
    assert cells[0] == {"section": 2, "row_key": "regulations", "col_key": "made", "status": "value",
                        "value": 0, "raw": "0", "page": 35}


@pytest.mark.parametrize("content", [
    "今天天气很好，我们去公园散步。\n公园里有很多人，大家都很开心。\n",
    "名称\t数量\n苹果\t3\n",
])
def test_cli_refuses_a_text_that_is_no_report(tmp_path, content):
    path = tmp_path / "article.txt"
    path.write_text(content, encoding="utf-8")
    res = subprocess.run(GKNB + ["extract", str(path)], capture_output=True, text=True, cwd=REPO)
    assert res.returncode != 0
    assert res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1
    assert "no annual-report" in res.stderr


def test_text_extraction_does_not_import_heavy_packages(samples):
    code = ("import sys; from gknb.extractors import extract_file; "
            f"extract_file({str(samples / 'seeds' / '004_f91fd63a8d753a03.txt')!r}); "
            "print(sorted(m for m in ('pandas', 'pdfplumber', 'prefect', 'great_expectations', 'duckdb') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert res.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["hongze_2023", "huaian_2024"])
def test_plain_text_of_the_corpus_pdfs_reads_like_the_pdfs(tmp_path, samples, truth, name):
    """The PDFs' text as a converter without layout gives it (pypdfium2): labels and numbers on
    one line separated by single spaces, numbers alone on the line after a wrapped label,
    vertical labels one character per line, page numbers between rows."""
    import pypdfium2 as pdfium

    from conftest import read_jsonl

    pdf = pdfium.PdfDocument(str(samples / "pdf" / f"{name}.pdf"))
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    pdf.close()
    path = tmp_path / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    meta, expected = read_jsonl(truth / f"{name}.jsonl")
    ex = extract_file(path)
    assert (ex.meta.template, ex.meta.year) == (meta["template"], meta["year"])
    got = {c.key: c for c in ex.cells}
    wrong = [(k, got.get(k)) for k, want in expected.items()
             if got.get(k) is None or (got[k].status, got[k].value) != (want["status"], want["value"])]
    assert wrong == []


def test_one_number_a_line_is_gathered_into_a_row_under_its_wrapped_label(tmp_path):
    """Narrow PDF cells converted without layout: the label one or two characters a line, then
    the row's numbers one a line (now and then two on a line)."""
    lines = ["某区民政局2022年政府信息公开工作年度报告", "三、收到和处理政府信息公开申请情况",
             "一、本年新收政府信息公开申请数量 3 0 0 0 0 0 3",
             "（三", "）不", "予公开", "1.", "属", "于国", "家秘密", "6", "0", "0", "0", "0", "0 6",
             "2.", "其", "他法", "律行", "政法", "规禁", "止公开", "0", "0", "0", "0", "0", "0", "0"]
    path = tmp_path / "narrow.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    doc = read(path.read_bytes(), str(path))
    assert [r.texts for r in rows(doc)][1:] == [["6", "0", "0", "0", "0", "0", "6"], ["0"] * 7]
    ex = extract_file(path)
    assert [ex.cell(3, "denied_state_secret", c).value for c in ("natural_person", "total")] == [6, 6]
    assert ex.cell(3, "denied_prohibited_by_law", "total").value == 0
    assert ex.cell(3, "new_requests", "total").value == 3


def test_a_bare_page_number_does_not_join_the_next_row():
    doc = read("（一）予以公开\n3\n0 0 0 0 0 0\n".encode("utf-8"), "p.txt")
    assert [r.texts for r in rows(doc)] == [["0", "0", "0", "0", "0", "0"]]


def test_undecodable_bytes_are_one_line_naming_the_file(tmp_path):
    import random

    from gknb.extractors import UnreadableDocument, extract_file

    noise = tmp_path / "noise.txt"
    noise.write_bytes(random.Random(7).randbytes(3000))
    with pytest.raises(UnreadableDocument) as err:
        extract_file(noise)
    # In `gknb extract` and a batch's rejected rows the message is all there is: it names the file.
    assert str(err.value) == f"{noise}: cannot decode the text (not UTF-8, GB18030 or a detectable charset)"
