"""Synthetic annual reports with known values, for tests and benchmarks.

`draw_report(seed)` draws one report: an agency in a real district (names cpca resolves), a
reporting year, and a value for every cell of the 2021 (or 2019) template such that every
identity of CONTRACT.md holds (S3.balance, S3.outcomes, S3.row_total, S4.row_total). The report
can be written as a filled Word file (the official blank template `data/templates/
blank_2021_template.docx` for 2021; built table by table for 2019), as an HTML page with
rowspan/colspan tables, or as tab-separated text; `docx_to_pdf` turns Word files into PDFs with
LibreOffice. `expected_jsonl(report)` is what `gknb extract` must print for it (CONTRACT JSON
lines; `page` is left null because it depends on the form).

`generate(out_dir, n, seed=...)` writes n reports and their expected cells into a folder,
deterministically: the same seed gives the same files. See docs/html_word_webtext.md.
"""

from __future__ import annotations

import html as html_escape
import json
import os
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from gknb.catalog import load_catalog
from gknb.structure import load_structure
from gknb.contract import Cell, ReportMeta
from gknb.paths import PACKAGE_DIR

TEMPLATE_DOCX = PACKAGE_DIR / "testing" / "assets" / "blank_2021_template.docx"

# (province, city, district) as cpca resolves `<district><agency>`; municipalities left out
# because cpca names their city 市辖区.
DISTRICTS: tuple[tuple[str, str, str], ...] = (
    ("宁夏回族自治区", "银川市", "兴庆区"),
    ("江苏省", "淮安市", "洪泽区"),
    ("江苏省", "淮安市", "清江浦区"),
    ("河南省", "洛阳市", "西工区"),
    ("河南省", "郑州市", "金水区"),
    ("河南省", "新乡市", "红旗区"),
    ("江苏省", "南京市", "雨花台区"),
    ("广东省", "广州市", "越秀区"),
    ("四川省", "成都市", "武侯区"),
    ("湖北省", "武汉市", "江汉区"),
    ("陕西省", "西安市", "碑林区"),
    ("山东省", "济南市", "历下区"),
    ("黑龙江省", "哈尔滨市", "南岗区"),
    ("江苏省", "苏州市", "姑苏区"),
    ("安徽省", "合肥市", "庐阳区"),
    ("湖南省", "长沙市", "岳麓区"),
)
AGENCIES = (
    "民政局", "财政局", "教育局", "司法局", "交通运输局", "人力资源和社会保障局",
    "住房和城乡建设局", "市场监督管理局", "卫生健康委员会", "人民政府",
)
_STRUCTURE = load_structure()
# The groups of schemas/template_structure.yaml (the same in both templates)
APPLICANTS = tuple(_STRUCTURE.columns("2021", 3, group="applicants"))
REQUEST_TOTAL = next(c for c in _STRUCTURE.columns("2021", 3, group="request_columns") if c not in APPLICANTS)
REVIEW_PARTS = tuple(_STRUCTURE.columns("2021", 4, group="review_results"))
REVIEW_TOTAL = next(c for c in _STRUCTURE.columns("2021", 4, group="review_columns") if c not in REVIEW_PARTS)
REVIEW_ROWS = tuple(_STRUCTURE.rows("2021", 4, group="proceedings"))
# S3.balance's rows: what came in (new, carried over) = what was processed + carried forward
(_NEW, _OVER), (_PROCESSED, _FORWARD) = (
    [k[1] for k in side] for side in next(
        (e.lhs, e.rhs) for e in _STRUCTURE.identity_equations("2021") if e.identity == "S3.balance"))
# Rough size of each applicant column, in the group's order: most requests come from natural persons.
_APPLICANT_SCALE = dict(zip(APPLICANTS, (60, 8, 1, 1, 3, 2)))


@dataclass
class SynthReport:
    seed: int
    template: str  # "2019" or "2021"
    year: int
    province: str
    city: str
    district: str
    agency: str  # as printed: 兴庆区民政局
    published: date  # the signature date
    values: dict[tuple[int, str, str], int | float] = field(default_factory=dict)
    # Quirks real reports have (draw_report(quirks=True)): cells printed otherwise than as their
    # number — 无 (status nil) or an amount in 元 — and, for 2021, the single （六）其他处理 row
    # printed instead of its three sub-rows.
    printed_as: dict[tuple[int, str, str], str] = field(default_factory=dict)
    single_other: bool = False

    @property
    def title(self) -> str:
        return f"{self.agency}{self.year}年政府信息公开工作年度报告"

    @property
    def new_requests(self) -> int:
        return int(self.values[(3, _NEW, REQUEST_TOTAL)])

    def meta(self) -> ReportMeta:
        return ReportMeta(
            agency=self.agency, year=self.year, template=self.template, province=self.province,
            city=self.city, district=self.district, published=self.published.isoformat(),
            narrative_requests=self.new_requests,
        )

    def cells(self) -> list[Cell]:
        """The expected cells, in catalog order: every cell of the template once (plus the printed
        variant `other` row, its sub-rows then `missing`, as CONTRACT.md says)."""
        out = []
        variant = _STRUCTURE.variant(self.template)
        for c in load_catalog().template_cells(self.template, variants=self.single_other):
            if self.single_other and c.section == variant.section and c.row_key in variant.replaces:
                out.append(Cell(c.section, c.row_key, c.col_key, "missing"))
                continue
            text = self.text_of(c.key, c.value_type)
            if text == "无":
                out.append(Cell(c.section, c.row_key, c.col_key, "nil", raw=text))
            else:
                out.append(Cell(section=c.section, row_key=c.row_key, col_key=c.col_key,
                                status="value", value=self.values[c.key], raw=text))
        return out

    def text_of(self, key: tuple[int, str, str], value_type: str) -> str:
        """The cell as the documents print it."""
        if key in self.printed_as:
            return self.printed_as[key]
        return printed(self.values[key], value_type)


def printed(value: int | float, value_type: str) -> str:
    """How the generated documents print a value: amounts with two decimals, counts as integers."""
    if value_type == "amount_10k_yuan":
        return f"{value:.2f}"
    return str(int(value))


def expected_jsonl(report: SynthReport) -> list[str]:
    """The JSON lines `gknb extract` must print for the report (page left null)."""
    from gknb.contract import Extraction

    return list(Extraction(meta=report.meta(), cells=report.cells()).jsonl())


# ---------------------------------------------------------------- drawing values

def draw_report(seed: int, template: str = "2021", year: int | None = None, *,
                quirks: bool = False) -> SynthReport:
    """One report with consistent values; the same seed and arguments give the same report.

    `quirks=True` prints some cells as real reports do: 无 for section-2 rows an agency has
    nothing in, the fee amount in 元, and (2021) the single （六）其他处理 row.
    """
    rng = random.Random(f"gknb-synth-{seed}-{template}")
    if year is None:
        year = rng.randint(2021, 2024) if template == "2021" else rng.randint(2019, 2020)
    province, city, district = rng.choice(DISTRICTS)
    agency = district + rng.choice(AGENCIES)
    published = date(year + 1, 1, rng.randint(10, 31))
    rep = SynthReport(seed=seed, template=template, year=year, province=province, city=city,
                      district=district, agency=agency, published=published)
    _draw_section2(rng, rep)
    _draw_section3(rng, rep)
    _draw_section4(rng, rep)
    if quirks:
        _draw_quirks(random.Random(f"gknb-quirks-{seed}-{template}"), rep)
    return rep


def _draw_quirks(rng: random.Random, rep: SynthReport) -> None:
    cat = load_catalog()
    s2 = [c for c in cat.template_cells(rep.template) if c.section == 2]
    # an agency that makes no regulations prints 无 across the row
    if rng.random() < 0.5:
        for c in s2:
            if c.row_key == "regulations":
                rep.values[c.key] = 0
                rep.printed_as[c.key] = "无"
    fee = next(c for c in s2 if c.value_type == "amount_10k_yuan")
    if rng.random() < 0.5 and rep.values[fee.key]:
        yuan = round(rep.values[fee.key] * 10000)
        rep.values[fee.key] = yuan / 10000
        rep.printed_as[fee.key] = f"{yuan}元"
    if rep.template == "2021" and rng.random() < 0.5:
        rep.single_other = True
        variant = _STRUCTURE.variant(rep.template)
        for col in (*APPLICANTS, REQUEST_TOTAL):
            rep.values[(3, variant.row, col)] = sum(rep.values[(3, r, col)] for r in variant.replaces)


def _small(rng: random.Random, scale: float, p_zero: float = 0.5) -> int:
    if scale <= 0 or rng.random() < p_zero:
        return 0
    return max(0, int(rng.expovariate(1 / scale)))


def _draw_section2(rng: random.Random, rep: SynthReport) -> None:
    v = rep.values
    cat = load_catalog()
    for c in cat.template_cells(rep.template):
        if c.section != 2:
            continue
        if c.value_type == "amount_10k_yuan":
            v[c.key] = round(rng.uniform(0, 20000), 2) if rng.random() < 0.8 else 0.0
        elif c.value_type == "signed_count":
            v[c.key] = rng.randint(-40, 40)
        elif c.row_key in ("admin_licensing", "admin_penalty") and c.col_key == "decisions":
            v[c.key] = _small(rng, 3000, 0.1)
        else:
            v[c.key] = _small(rng, 40, 0.4)
    # in force / total published is never below what this year added
    for row in _STRUCTURE.rows(rep.template, 2, _STRUCTURE.items(rep.template)[0]):
        for made, total in (("issued", "in_force"), ("made", "total_public")):
            if (2, row, made) in v and (2, row, total) in v:
                v[(2, row, total)] = v[(2, row, total)] + v[(2, row, made)]


def _item_of(template: str, row_key: str) -> str:
    return next(c.item for c in load_catalog().template_cells(template) if c.section == 2 and c.row_key == row_key)


def _outcome_rows(template: str, single_other: bool = False) -> list[str]:
    """The outcome rows between 予以公开 and 总计 as printed (2021: the sub-rows or the single row)."""
    return _STRUCTURE.outcome_rows(template, variant_printed=single_other)


def _draw_section3(rng: random.Random, rep: SynthReport) -> None:
    v = rep.values
    outcome = _outcome_rows(rep.template)
    busy = rng.random()  # some agencies get many requests, most few
    for col in APPLICANTS:
        scale = _APPLICANT_SCALE[col] * (busy * 3 if busy > 0.7 else busy)
        processed = 0
        for row in outcome:
            weight = 1.0 if row in ("granted", "partially_granted", "unavailable_not_held") else 0.15
            n = _small(rng, scale * weight, 0.55)
            v[(3, row, col)] = n
            processed += n
        v[(3, _PROCESSED, col)] = processed  # S3.outcomes
        forward = _small(rng, scale * 0.2, 0.6)
        over = rng.randint(0, (processed + forward) // 2) if rng.random() < 0.4 else 0
        v[(3, _FORWARD, col)] = forward
        v[(3, _OVER, col)] = over
        v[(3, _NEW, col)] = processed + forward - over  # S3.balance
    for row in _STRUCTURE.rows(rep.template, 3, group="request_rows"):
        v[(3, row, REQUEST_TOTAL)] = sum(v[(3, row, c)] for c in APPLICANTS)  # S3.row_total


def _draw_section4(rng: random.Random, rep: SynthReport) -> None:
    for row in REVIEW_ROWS:
        parts = {p: _small(rng, 3, 0.6) for p in REVIEW_PARTS}
        for p, n in parts.items():
            rep.values[(4, row, p)] = n
        rep.values[(4, row, REVIEW_TOTAL)] = sum(parts.values())  # S4.row_total


# ---------------------------------------------------------------- layout (shared by HTML, text, 2019 docx)

@dataclass
class LCell:
    text: str
    colspan: int = 1
    rowspan: int = 1


def _v(rep: SynthReport, section: int, row: str, col: str) -> str:
    c = load_catalog().get(rep.template, section, row, col)
    return rep.text_of((section, row, col), c.value_type)


_ITEM_HEADINGS = {"art20_1": "第二十条第（一）项", "art20_5": "第二十条第（五）项", "art20_6": "第二十条第（六）项",
                  "art20_8": "第二十条第（八）项", "art20_9": "第二十条第（九）项"}


def layout_section2(rep: SynthReport) -> list[list[LCell]]:
    """Section 二 as one 4-column table, item by item, as the official templates print it."""
    cat = load_catalog()
    cells = [c for c in cat.template_cells(rep.template) if c.section == 2]
    rows: list[list[LCell]] = []
    for item in dict.fromkeys(c.item for c in cells):
        item_cells = [c for c in cells if c.item == item]
        cols = list(dict.fromkeys(c.col_key for c in item_cells))
        labels = {c.col_key: c.col_label for c in item_cells}
        rows.append([LCell(_ITEM_HEADINGS[item], colspan=4)])
        spans = _value_spans(len(cols))
        rows.append([LCell("信息内容")] + [LCell(labels[k], colspan=s) for k, s in zip(cols, spans)])
        for row_key in dict.fromkeys(c.row_key for c in item_cells):
            label = next(c.row_label for c in item_cells if c.row_key == row_key)
            rows.append([LCell(label)] + [LCell(_v(rep, 2, row_key, k), colspan=s) for k, s in zip(cols, spans)])
    return rows


def _value_spans(n: int) -> list[int]:
    return {1: [3], 2: [1, 2], 3: [1, 1, 1]}[n]


_GROUPS_2019 = {"（三）不予公开": "denied_", "（四）无法提供": "unavailable_", "（五）不予处理": "rejected_"}


def _s3_label_parts(row_label: str) -> tuple[str | None, str]:
    """('（三）不予公开', '1.属于国家秘密') from the catalog label '三、（三）不予公开 1.属于国家秘密'."""
    label = row_label.removeprefix("三、")
    if " " in label:
        group, sub = label.split(" ", 1)
        return group, sub
    return None, label


def layout_section3(rep: SynthReport) -> list[list[LCell]]:
    cat = load_catalog()
    rows_order = cat.rows(rep.template, 3)
    labels = {c.row_key: c.row_label for c in cat.template_cells(rep.template, variants=True) if c.section == 3}
    labels["other"] = "三、（六）其他处理"  # the variant's catalog label carries a note, not print
    outcome = _outcome_rows(rep.template, rep.single_other)
    out: list[list[LCell]] = [
        [LCell("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", colspan=3, rowspan=3),
         LCell("申请人情况", colspan=7)],
        [LCell("自然人", rowspan=2), LCell("法人或其他组织", colspan=5), LCell("总计", rowspan=2)],
        [LCell("商业企业"), LCell("科研机构"), LCell("社会公益组织"), LCell("法律服务机构"), LCell("其他")],
    ]

    def values(row: str) -> list[LCell]:
        return [LCell(_v(rep, 3, row, c)) for c in (*APPLICANTS, REQUEST_TOTAL)]

    group_sizes: dict[str, int] = {}
    for row in outcome:
        group, _ = _s3_label_parts(labels[row])
        if group:
            group_sizes[group] = group_sizes.get(group, 0) + 1
    first_outcome = True
    seen_groups: set[str] = set()
    intake = _STRUCTURE.rows(rep.template, 3, group="intake")
    for row in rows_order:
        if row not in outcome and row not in (*intake, _PROCESSED, _FORWARD):
            continue
        if row in (*intake, _FORWARD):
            out.append([LCell(labels[row], colspan=3)] + values(row))
            continue
        lead: list[LCell] = []
        if first_outcome:
            lead.append(LCell("三、本年度办理结果", rowspan=len(outcome) + 1))
            first_outcome = False
        group, sub = _s3_label_parts(labels[row])
        if row == _PROCESSED:
            out.append(lead + [LCell(sub, colspan=2)] + values(row))
        elif group is None:
            out.append(lead + [LCell(sub, colspan=2)] + values(row))
        else:
            if group not in seen_groups:
                seen_groups.add(group)
                lead.append(LCell(group, rowspan=group_sizes[group]))
            out.append(lead + [LCell(sub)] + values(row))
    return out


def layout_section4(rep: SynthReport) -> list[list[LCell]]:
    heads = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    vals = [LCell(_v(rep, 4, row, p))
            for row in REVIEW_ROWS for p in (*REVIEW_PARTS, REVIEW_TOTAL)]
    return [
        [LCell("行政复议", colspan=5), LCell("行政诉讼", colspan=10)],
        [LCell(h, rowspan=2) for h in heads] + [LCell("未经复议直接起诉", colspan=5), LCell("复议后起诉", colspan=5)],
        [LCell(h) for h in heads] + [LCell(h) for h in heads],
        vals,
    ]


def narrative(rep: SynthReport) -> dict[str, list[str]]:
    """The report's paragraphs, by place: before the tables, the section headings, the end."""
    y = rep.year
    return {
        "intro": [
            f"本报告根据《中华人民共和国政府信息公开条例》要求编制。本报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。",
            "一、总体情况",
            f"{y}年，{rep.agency}认真贯彻落实政务公开各项工作要求。全年共收到政府信息公开申请{rep.new_requests}件，均按时办结或依法转入下年度办理。",
        ],
        "s2": ["二、主动公开政府信息情况"],
        "s3": ["三、收到和处理政府信息公开申请情况"],
        "s4": ["四、政府信息公开行政复议、行政诉讼情况"],
        "end": [
            "五、存在的主要问题及改进情况",
            "政务公开工作仍有不足，下一步将进一步规范信息发布。",
            "六、其他需要报告的事项",
            f"{y}年度未收取信息处理费。",
            rep.agency,
            f"{rep.published.year}年{rep.published.month}月{rep.published.day}日",
        ],
    }


# ---------------------------------------------------------------- writers

def write_html(rep: SynthReport, path: Path, *, encoding: str = "utf-8") -> Path:
    esc = html_escape.escape
    text = narrative(rep)
    parts = [f'<!DOCTYPE html><html><head><meta charset="{encoding}"><title>{esc(rep.title)}</title></head><body>',
             f"<h1>{esc(rep.title)}</h1>"]

    def table(rows: list[list[LCell]]) -> None:
        parts.append('<table border="1">')
        for r in rows:
            tds = "".join(
                "<td" + (f' colspan="{c.colspan}"' if c.colspan > 1 else "")
                + (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + f">{esc(c.text)}</td>"
                for c in r)
            parts.append(f"<tr>{tds}</tr>")
        parts.append("</table>")

    for p in text["intro"] + text["s2"]:
        parts.append(f"<p>{esc(p)}</p>")
    table(layout_section2(rep))
    parts.extend(f"<p>{esc(p)}</p>" for p in text["s3"])
    table(layout_section3(rep))
    parts.extend(f"<p>{esc(p)}</p>" for p in text["s4"])
    table(layout_section4(rep))
    parts.extend(f"<p>{esc(p)}</p>" for p in text["end"])
    parts.append("</body></html>")
    path = Path(path)
    path.write_bytes("\n".join(parts).encode(encoding))
    return path


def _grid(rows: list[list[LCell]]) -> list[list[str]]:
    """Tab-separated rendering: each cell's text in its first grid slot, spanned slots empty."""
    width = sum(c.colspan for c in rows[0])
    taken: set[tuple[int, int]] = set()
    grid = [[""] * width for _ in rows]
    for r, row in enumerate(rows):
        col = 0
        for c in row:
            while (r, col) in taken:
                col += 1
            grid[r][col] = c.text
            for dr in range(c.rowspan):
                for dc in range(c.colspan):
                    taken.add((r + dr, col + dc))
            col += c.colspan
    return grid


def write_text(rep: SynthReport, path: Path) -> Path:
    text = narrative(rep)
    lines = [rep.title, ""]
    lines += text["intro"] + text["s2"]
    lines += ["\t".join(r).rstrip("\t") for r in _grid(layout_section2(rep))]
    lines += text["s3"]
    lines += ["\t".join(r).rstrip("\t") for r in _grid(layout_section3(rep))]
    lines += text["s4"]
    lines += ["\t".join(r).rstrip("\t") for r in _grid(layout_section4(rep))]
    lines += text["end"]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_webtext(rep: SynthReport, path: Path) -> Path:
    """The report as an archive of crawled page text keeps it: the cells of each table row run
    together with nothing between them (`规章3574…`), the page's header lines above."""
    text = narrative(rep)
    body = "".join(text["intro"] + text["s2"])
    for heading, layout in ((None, layout_section2), ("s3", layout_section3), ("s4", layout_section4)):
        if heading:
            body += "".join(text[heading])
        body += "".join("".join(r) for r in _grid(layout(rep)))
    body += "".join(text["end"])
    page = (f"标题: {rep.title}\n发布时间: {rep.published.isoformat()} 09:30\n"
            f"==================== 正文 ====================\n{body}\n")
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path


def write_docx(rep: SynthReport, path: Path) -> Path:
    """A filled Word file: the official blank template for 2021, tables built for 2019 (and for
    a 2021 report printing the single 其他处理 row, which the template has no place for)."""
    if rep.template == "2021" and not rep.single_other:
        word = _fill_2021_template(rep)
    else:
        word = _build_docx(rep)
    path = Path(path)
    word.save(str(path))
    return path


def _set(cell, text: str) -> None:
    """Replace a cell's text, keeping its first paragraph (and so its alignment and style)."""
    paras = cell.paragraphs
    first = paras[0]
    for extra in paras[1:]:
        extra._element.getparent().remove(extra._element)
    for run in list(first.runs):
        run._element.getparent().remove(run._element)
    first.add_run(text)


def _fill_2021_template(rep: SynthReport):
    import docx

    if not TEMPLATE_DOCX.exists():
        raise FileNotFoundError(f"{TEMPLATE_DOCX}: the blank 2021 template is missing")
    word = docx.Document(str(TEMPLATE_DOCX))
    # the template's own author and dates are not this report's
    props = word.core_properties
    props.author = props.last_modified_by = "gknb.testing.synth"
    props.title = rep.title
    # python-docx's table.cell() recomputes the whole grid on every call; take it once per table
    t2, t3, t4 = (_CellGrid(t) for t in word.tables[:3])
    v = lambda s, r, c: _v(rep, s, r, c)  # noqa: E731
    # the blank template's own grid: the 第二十条第（一）项 rows start at its row 2
    for r, row in enumerate(_STRUCTURE.rows("2021", 2, "art20_1"), 2):
        for i, col in enumerate(_STRUCTURE.columns("2021", 2, "art20_1")):
            _set(t2.cell(r, 1 + i), v(2, row, col))
    # ... the single-column rows of 第二十条第（五）、（六）项 sit at its rows 6, 9 and 10
    rows56 = _STRUCTURE.rows("2021", 2, "art20_5") + _STRUCTURE.rows("2021", 2, "art20_6")
    for r, row in zip((6, 9, 10), rows56):
        (col,) = _STRUCTURE.columns("2021", 2, _item_of("2021", row))
        _set(t2.cell(r, 1), v(2, row, col))
    _set(t2.cell(13, 1), v(2, "admin_fees", "amount"))
    s3_rows = _STRUCTURE.rows("2021", 3, group="request_rows")
    for i, row in enumerate(s3_rows):
        for j, col in enumerate((*APPLICANTS, REQUEST_TOTAL)):
            _set(t3.cell(3 + i, 3 + j), v(3, row, col))
    review_columns = (*REVIEW_PARTS, REVIEW_TOTAL)
    for i, row in enumerate(REVIEW_ROWS):
        for j, part in enumerate(review_columns):
            _set(t4.cell(3, i * len(review_columns) + j), v(4, row, part))

    text = narrative(rep)
    paras = word.paragraphs
    title = next(p for p in paras if "年度报告" in p.text)
    _replace_para(title, rep.title)
    # The template's placeholders: intro under 一、总体情况, then 五 and 六.
    placeholders = [p for p in paras if p.text.strip().startswith("（文字描述")]
    overview = next(p for p in paras if p.text.strip() == "一、总体情况")
    _insert_before(overview, text["intro"][0])
    _replace_para(placeholders[0], text["intro"][2])
    _replace_para(placeholders[1], text["end"][1])
    _replace_para(placeholders[2], text["end"][3])
    last = placeholders[2]
    for line in text["end"][4:]:
        last = _insert_after(last, line)
    return word


class _CellGrid:
    """A table's cells computed once (the table's structure is not changed meanwhile)."""

    def __init__(self, table) -> None:
        self.cells = table._cells
        self.width = len(table.columns)

    def cell(self, row: int, col: int):
        return self.cells[row * self.width + col]


def _replace_para(p, text: str) -> None:
    for run in list(p.runs)[1:]:
        run._element.getparent().remove(run._element)
    if p.runs:
        p.runs[0].text = text
    else:
        p.add_run(text)


def _insert_before(p, text: str):
    new = p.insert_paragraph_before(text)
    return new


def _insert_after(p, text: str):
    import copy

    new_el = copy.deepcopy(p._element)
    p._element.addnext(new_el)
    from docx.text.paragraph import Paragraph

    new = Paragraph(new_el, p._parent)
    _replace_para(new, text)
    return new


def _build_docx(rep: SynthReport):
    import docx

    word = docx.Document()
    word.core_properties.author = "gknb.testing.synth"
    word.core_properties.title = rep.title
    word.add_paragraph(rep.title)
    text = narrative(rep)
    for p in text["intro"] + text["s2"]:
        word.add_paragraph(p)
    _docx_table(word, layout_section2(rep))
    for p in text["s3"]:
        word.add_paragraph(p)
    _docx_table(word, layout_section3(rep))
    for p in text["s4"]:
        word.add_paragraph(p)
    _docx_table(word, layout_section4(rep))
    for p in text["end"]:
        word.add_paragraph(p)
    return word


def _docx_table(word, rows: list[list[LCell]]) -> None:
    width = sum(c.colspan for c in rows[0])
    table = word.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    taken: set[tuple[int, int]] = set()
    placed: list[tuple[int, int, str]] = []
    for r, row in enumerate(rows):
        col = 0
        for c in row:
            while (r, col) in taken:
                col += 1
            if c.colspan > 1 or c.rowspan > 1:
                table.cell(r, col).merge(table.cell(r + c.rowspan - 1, col + c.colspan - 1))
            placed.append((r, col, c.text))
            for dr in range(c.rowspan):
                for dc in range(c.colspan):
                    taken.add((r + dr, col + dc))
            col += c.colspan
    grid = _CellGrid(table)  # after the merges: the grid no longer changes
    for r, col, text in placed:
        _set(grid.cell(r, col), text)


def write_expected(rep: SynthReport, path: Path) -> Path:
    path = Path(path)
    path.write_text("\n".join(expected_jsonl(rep)) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- PDF via LibreOffice

class SofficeMissing(RuntimeError):
    """LibreOffice (soffice) is not installed: `apt-get install libreoffice-writer-nogui`."""


def docx_to_pdf(docx_path: Path | list[Path], out_dir: Path, timeout: float | None = None) -> Path | list[Path]:
    """Convert one .docx (or a list, in one LibreOffice run: much faster) to PDF in `out_dir`.

    LibreOffice gets its own throw-away profile so parallel conversions (other tests, other
    workers) never share one, which makes soffice exit at once without converting.
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SofficeMissing("soffice not found: install LibreOffice (Debian: apt-get install libreoffice-writer-nogui)")
    paths = [Path(docx_path)] if isinstance(docx_path, (str, Path)) else [Path(p) for p in docx_path]
    if timeout is None:  # LibreOffice needs about a second a report; a loaded machine more
        timeout = 120 + 10 * len(paths)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gknb-soffice-") as profile:
        cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, paths)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "HOME": profile})
    pdfs = [out_dir / (p.stem + ".pdf") for p in paths]
    missing = [p for p in pdfs if not p.exists()]
    if missing:
        raise RuntimeError(f"soffice did not write {missing[0].name}: {proc.stderr.strip()[-300:] or proc.stdout.strip()[-300:]}")
    return pdfs[0] if isinstance(docx_path, (str, Path)) else pdfs


# ---------------------------------------------------------------- batches

FORMS = ("docx", "html", "txt", "pdf")


@dataclass
class GeneratedReport:
    report: SynthReport
    files: dict[str, Path]  # form -> path
    expected: Path  # the CONTRACT JSON lines


def generate(out_dir: Path, n: int, *, seed: int = 0, forms: tuple[str, ...] = ("docx", "html", "txt"),
             templates: tuple[str, ...] = ("2021",), quirks: bool = False) -> list[GeneratedReport]:
    """Write n reports into out_dir: `synth_<seed>_<i>.<form>` and `synth_<seed>_<i>.expected.jsonl`.

    Deterministic: report i is `draw_report(seed * 1_000_003 + i, templates[i % len(templates)],
    quirks=quirks)`.
    `pdf` in forms converts the Word files with LibreOffice in one run (it needs `docx` too; the
    .docx files are written either way). Existing files are overwritten.
    """
    unknown = set(forms) - set(FORMS)
    if unknown:
        raise ValueError(f"unknown forms {sorted(unknown)}; choose from {FORMS}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    made: list[GeneratedReport] = []
    for i in range(n):
        template = templates[i % len(templates)]
        rep = draw_report(seed * 1_000_003 + i, template, quirks=quirks)
        stem = out_dir / f"synth_{seed}_{i:05d}"
        files: dict[str, Path] = {}
        if "docx" in forms or "pdf" in forms:
            files["docx"] = write_docx(rep, stem.with_suffix(".docx"))
        if "html" in forms:
            files["html"] = write_html(rep, stem.with_suffix(".html"))
        if "txt" in forms:
            files["txt"] = write_text(rep, stem.with_suffix(".txt"))
        made.append(GeneratedReport(rep, files, write_expected(rep, Path(f"{stem}.expected.jsonl"))))
    if "pdf" in forms and made:
        # one LibreOffice run per 100 files: its start-up is paid rarely, a failure costs little
        for at in range(0, len(made), 100):
            chunk = made[at:at + 100]
            for g, pdf in zip(chunk, docx_to_pdf([g.files["docx"] for g in chunk], out_dir)):
                g.files["pdf"] = pdf
        if "docx" not in forms:
            for g in made:
                g.files.pop("docx").unlink()
    return made


def main(argv: list[str] | None = None) -> None:
    """`python -m gknb.testing.synth OUT_DIR N [--seed S] [--forms docx,html,txt,pdf] [--templates 2021,2019] [--quirks]`"""
    import argparse

    ap = argparse.ArgumentParser(description="Write synthetic annual reports with known values.")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--forms", default="docx,html,txt")
    ap.add_argument("--templates", default="2021")
    ap.add_argument("--quirks", action="store_true", help="无 cells, fees in 元, the single 其他处理 row")
    args = ap.parse_args(argv)
    made = generate(args.out_dir, args.n, seed=args.seed, forms=tuple(args.forms.split(",")),
                    templates=tuple(args.templates.split(",")), quirks=args.quirks)
    print(json.dumps({"reports": len(made), "out_dir": str(args.out_dir)}))


if __name__ == "__main__":
    main()
