"""The label variants of schemas/label_aliases.yaml, loaded once, and label normalisation.

Kept apart from the matcher so that front ends and the metadata reader can ask "is this a
section heading / a row label / a column header?" with the same rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from gknb.paths import SCHEMAS_DIR

_QUOTES = "“”\"'‘’「」『』《》"
_LEADING_NUMBERING = re.compile(
    r"^(?:[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\)|\d+\.(?!\d)|[一二三四五六七八九十]+\.)"
)


@lru_cache(maxsize=65536)
def norm_label(text: str | None) -> str:
    """Normalise a printed label: NFKC, no whitespace/emphasis/quotes, `1、`→`1.`, `（一）`→`(一)`."""
    s = unicodedata.normalize("NFKC", text or "")
    s = re.sub(r"\s+", "", s)
    s = s.replace("*", "").replace("#", "")
    for q in _QUOTES:
        s = s.replace(q, "")
    s = re.sub(r"^(\d+)[、,，.．]", r"\1.", s)
    s = s.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    return s


@lru_cache(maxsize=65536)
def strip_numbering(label: str) -> str:
    """`三、(一)予以公开` → `予以公开`: a normalised label without its leading numbering."""
    prev = None
    s = label
    while s != prev:
        prev = s
        s = _LEADING_NUMBERING.sub("", s, count=1)
    return s


@dataclass(frozen=True)
class Fold:
    """How printed wordings of one label are made one form (label_aliases.yaml `fold`)."""

    equivalents: tuple[tuple[str, str], ...] = ()  # (printed, canonical)
    ignore: tuple[str, ...] = ()

    def __call__(self, label: str) -> str:
        s = label
        for printed, canonical in self.equivalents:
            s = s.replace(printed, canonical)
        for ch in self.ignore:
            s = s.replace(ch, "")
        return s


@dataclass(frozen=True)
class AliasSet:
    contains: tuple[str, ...]  # folded
    equals: tuple[str, ...]  # folded
    group: bool = False
    unless: tuple[str, ...] = ()  # folded
    fold: Fold = Fold()

    def matches(self, label: str) -> bool:
        """`label` is one normalised cell (or several joined); exact aliases test each form.
        Both sides are folded (和/及/与 and punctuation dropped, 受理→处理, 案件→案卷)."""
        folded = self.fold(label)
        if any(u in folded for u in self.unless):
            return False
        if any(a in folded for a in self.contains):
            return True
        if self.equals:
            bare = self.fold(strip_numbering(label))
            return folded in self.equals or bare in self.equals
        return False


@dataclass(frozen=True)
class Similarity:
    min_ratio: float = 0.8
    min_margin: float = 0.15


@dataclass(frozen=True)
class PageHeader:
    """The crawler's page header words (`标题: …`, `发布时间: …`, the `正文` rule)."""

    title: str = ""
    published: str = ""
    body: str = ""


@dataclass(frozen=True)
class WebText:
    """label_aliases.yaml `webtext`: the words crawled page text is read by (extractors/webtext.py)."""

    page_header: PageHeader = PageHeader()
    telltale_rows: tuple[str, ...] = ()  # section-3 row keys
    section_starts: dict[int, tuple[str, ...]] = field(default_factory=dict)  # section -> regexes
    section4_header_end: str = ""  # a regex: any of section 4's last column headings
    variant_sub_rows: str = ""  # the words a page printing the 2021 sub-rows prints


@dataclass(frozen=True)
class ReportWords:
    """label_aliases.yaml `report`, compiled: how a report names itself (extractors/meta.py)."""

    name: re.Pattern  # any of the report's names
    titles: tuple[re.Pattern, ...]  # groups `agency` and `year`
    title_end: re.Pattern
    subject: re.Pattern
    noise_prefix: re.Pattern
    period: re.Pattern  # group `year`
    published: re.Pattern  # groups 1-3: year, month, day
    narrative_requests: re.Pattern  # group `count`
    agency_suffix: str  # a regex group of the suffixes (unanchored)
    signature_trailer: str  # a regex alternation


@dataclass(frozen=True)
class Aliases:
    sections: dict[int, tuple[str, ...]]
    items: dict[str, tuple[str, ...]]
    rows: dict[int, dict[str, AliasSet]]
    columns: dict[int, dict[str, AliasSet]]
    template_markers: dict[str, tuple[str, ...]]  # every marker, normalised (table cells, short lines)
    fold: Fold = Fold()
    similarity: Similarity = Similarity()
    run_together: dict[int, dict[str, str]] = field(default_factory=dict)  # section -> row -> label core
    text_markers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # as printed in page text
    header_words: dict[int, AliasSet] = field(default_factory=dict)
    header_unit: re.Pattern | None = None  # group 1: the unit a column header declares
    webtext: WebText = WebText()
    report: ReportWords | None = None


def _alias_set(spec, fold: Fold = Fold()) -> AliasSet:
    group = False
    unless: tuple[str, ...] = ()
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - {"aliases", "group", "unless"})
        if unknown:  # a misspelt `unless` would silently stop vetoing
            raise ValueError(f"label alias entry has unknown key(s) {', '.join(map(str, unknown))}: {spec!r}")
        group = bool(spec.get("group", False))
        unless = tuple(norm_label(u) for u in spec.get("unless", []))
        spec = spec["aliases"]
    if not isinstance(spec, list) or not spec or not all(isinstance(a, str) and a for a in spec):
        raise ValueError(f"label alias entry must be a non-empty list of strings: {spec!r}")
    contains = tuple(fold(norm_label(a)) for a in spec if not a.startswith("="))
    equals = tuple(fold(norm_label(a[1:])) for a in spec if a.startswith("="))
    return AliasSet(contains, equals, group, tuple(fold(u) for u in unless), fold)


def _fold(raw) -> Fold:
    if raw is None:
        return Fold()
    if not isinstance(raw, dict) or set(raw) - {"equivalents", "ignore"}:
        raise ValueError(f"fold must be a mapping with equivalents and ignore: {raw!r}")
    eq = raw.get("equivalents") or {}
    ignore = raw.get("ignore") or []
    if not isinstance(eq, dict) or not all(isinstance(k, str) and k and isinstance(v, str) for k, v in eq.items()):
        raise ValueError(f"fold.equivalents must map printed words to their canonical form: {eq!r}")
    if not isinstance(ignore, list) or not all(isinstance(c, str) and c for c in ignore):
        raise ValueError(f"fold.ignore must be a list of strings: {ignore!r}")
    # equivalents first (longest printed form first), then the ignored characters
    pairs = tuple(sorted(((norm_label(k), norm_label(v)) for k, v in eq.items()), key=lambda kv: -len(kv[0])))
    return Fold(pairs, tuple(unicodedata.normalize("NFKC", c) for c in ignore))


def _similarity(raw) -> Similarity:
    if raw is None:
        return Similarity()
    if not isinstance(raw, dict) or set(raw) - {"min_ratio", "min_margin"}:
        raise ValueError(f"similarity must be a mapping with min_ratio and min_margin: {raw!r}")
    sim = Similarity(float(raw.get("min_ratio", 0.8)), float(raw.get("min_margin", 0.15)))
    if not (0.5 <= sim.min_ratio <= 1 and 0 < sim.min_margin < 1):
        raise ValueError(f"similarity: min_ratio must be in 0.5..1 and min_margin in 0..1: {raw!r}")
    return sim


def _run_together(raw) -> dict[int, dict[str, str]]:
    if raw is None:
        return {}
    out: dict[int, dict[str, str]] = {}
    for section, rows in raw.items():
        if not isinstance(rows, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                                 for k, v in rows.items()):
            raise ValueError(f"run_together.{section} must map row keys to label cores: {rows!r}")
        from gknb.catalog import load_catalog

        known = {c.row_key for c in load_catalog().cells if c.section == int(section)}
        unknown = sorted(set(rows) - known)
        if unknown:
            raise ValueError(f"run_together.{section}: {', '.join(unknown)} is no row of section {section}")
        out[int(section)] = dict(rows)
    return out


def _words(value, where: str) -> list[str]:
    """A non-empty list of non-empty strings (a bare string would match by its characters)."""
    if not isinstance(value, list) or not value or not all(isinstance(a, str) and a for a in value):
        raise ValueError(f"{where} must be a non-empty list of strings, got {value!r}")
    return value


def _markers(raw) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """template_markers → (every marker normalised, for cells; the `text` markers as printed)."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"template_markers must map each template to its markers: {raw!r}")
    cells: dict[str, tuple[str, ...]] = {}
    text: dict[str, tuple[str, ...]] = {}
    for template, spec in raw.items():
        if not isinstance(spec, dict) or set(spec) - {"text", "cells"} or "text" not in spec:
            raise ValueError(f"template_markers.{template} must be a mapping with `text` (and `cells`) lists: {spec!r}")
        text[str(template)] = tuple(_words(spec["text"], f"template_markers.{template}.text"))
        rest = _words(spec["cells"], f"template_markers.{template}.cells") if "cells" in spec else []
        cells[str(template)] = tuple(norm_label(a) for a in [*text[str(template)], *rest])
    return cells, text


def _header_words(raw, fold: Fold) -> dict[int, AliasSet]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"header_words must map sections to alias lists: {raw!r}")
    return {int(s): _alias_set(_words(v, f"header_words.{s}"), fold) for s, v in raw.items()}


def _header_unit(raw) -> re.Pattern | None:
    """`采购总金额（元）`, `（单位：元）`: a bracketed unit, optionally after the unit word and a colon."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"word", "units"} or not isinstance(raw["word"], str) \
            or not raw["word"]:
        raise ValueError(f"header_units must be a mapping with `word` and `units`: {raw!r}")
    from gknb.errors import ConfigError
    from gknb.extractors.values import vocabulary

    units = _words(raw["units"], "header_units.units")
    try:
        known = vocabulary().amount_units
    except ConfigError:  # value_words.yaml's own check names that file
        known = units
    unknown = [u for u in units if u not in known]
    if unknown:
        raise ValueError(f"header_units.units: {', '.join(unknown)} is no amount unit of value_words.yaml")
    alternatives = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    return re.compile(r"[（(]\s*(?:" + re.escape(raw["word"]) + r"\s*[:：]\s*)?(" + alternatives + r")\s*[）)]")


def _page_pattern(entry, where: str) -> str:
    """A string is searched as printed; a list is words in sequence with any spaces between."""
    if isinstance(entry, str) and entry:
        return re.escape(entry)
    if isinstance(entry, list) and entry and all(isinstance(w, str) and w for w in entry):
        return r"\s*".join(re.escape(w) for w in entry)
    raise ValueError(f"{where}: expected a string or a list of strings, got {entry!r}")


def _webtext(raw) -> WebText:
    if raw is None:
        return WebText()
    known = {"page_header", "telltale_rows", "section_starts", "section4_header_ends", "variant_sub_rows"}
    if not isinstance(raw, dict) or set(raw) != known:
        raise ValueError(f"webtext must be a mapping with exactly {', '.join(sorted(known))}: {raw!r}")
    from gknb.catalog import load_catalog

    rows3 = {c.row_key for c in load_catalog().cells if c.section == 3}
    telltale = _words(raw["telltale_rows"], "webtext.telltale_rows")
    unknown = sorted(set(telltale) - rows3)
    if unknown:
        raise ValueError(f"webtext.telltale_rows: {', '.join(unknown)} is no row of section 3")
    starts = raw["section_starts"]
    if not isinstance(starts, dict) or not starts:
        raise ValueError(f"webtext.section_starts must map sections to lists: {starts!r}")
    section_starts = {}
    for section, entries in starts.items():
        if not isinstance(entries, list) or not entries:
            raise ValueError(f"webtext.section_starts.{section} must be a non-empty list: {entries!r}")
        section_starts[int(section)] = tuple(_page_pattern(e, f"webtext.section_starts.{section}") for e in entries)
    ends = _words(raw["section4_header_ends"], "webtext.section4_header_ends")
    sub_rows = raw["variant_sub_rows"]
    if not isinstance(sub_rows, str) or not sub_rows:
        raise ValueError(f"webtext.variant_sub_rows must be a string: {sub_rows!r}")
    header = raw["page_header"]
    if not isinstance(header, dict) or set(header) != {"title", "published", "body"} \
            or not all(isinstance(v, str) and v for v in header.values()):
        raise ValueError(f"webtext.page_header must give the words `title`, `published` and `body`: {header!r}")
    return WebText(
        page_header=PageHeader(**header),
        telltale_rows=tuple(telltale),
        section_starts=section_starts,
        section4_header_end="|".join(_page_pattern(list(w), "webtext.section4_header_ends") for w in ends),
        variant_sub_rows=sub_rows,
    )


_REPORT_KEYS = {"names", "regarding", "titles", "title_ends", "sending_verbs", "noise_prefixes", "period",
                "published_keys", "narrative_requests", "agency_suffixes", "signature_trailers"}
# the parts of a `report` pattern the code fills in (a title's agency part stops at digits and
# punctuation, so a title's sentence never becomes an agency)
_REPORT_SLOTS = {
    "agency": r"(?P<agency>[^\d，。；:：]{2,40}?)",
    "year": r"(?P<year>(?:19|20)\d{2})",
    "any_year": r"(?:19|20)\d{2}",
    "count": r"(?P<count>\d+)",
}


def _report(raw) -> ReportWords | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != _REPORT_KEYS:
        missing, extra = sorted(_REPORT_KEYS - set(raw or {})), sorted(set(raw or {}) - _REPORT_KEYS)
        raise ValueError(f"report: missing key(s) {missing}, unknown key(s) {extra}")
    lists = {k: _words(raw[k], f"report.{k}") for k in _REPORT_KEYS
             if k not in ("regarding", "period", "narrative_requests")}
    for k in ("regarding", "period", "narrative_requests"):
        if not isinstance(raw[k], str) or not raw[k]:
            raise ValueError(f"report.{k} must be a non-empty string, got {raw[k]!r}")
    slots = dict(_REPORT_SLOTS, name="|".join(lists["names"]), regarding=re.escape(raw["regarding"]))

    def compiled(key: str, pattern: str) -> re.Pattern:
        # `{name}` slots, not str.format: a regex's own `{0,24}` stays as written
        filled = re.sub(r"\{([a-z_]+)\}", lambda m: slots.get(m.group(1), m.group(0)), pattern)
        unknown = re.findall(r"\{([a-z_]+)\}", filled)
        if unknown:
            raise ValueError(f"report.{key}: {pattern!r}: no slot {', '.join(unknown)}")
        try:
            return re.compile(filled)
        except re.error as exc:
            raise ValueError(f"report.{key}: {pattern!r}: {exc}") from None

    def alternation(words: list[str]) -> str:
        return "|".join(re.escape(w) for w in words)

    return ReportWords(
        name=compiled("names", "{name}"),
        titles=tuple(compiled("titles", t) for t in lists["titles"]),
        title_end=re.compile(alternation(lists["title_ends"])),
        subject=re.compile(re.escape(raw["regarding"]) + "(?:" + alternation(lists["sending_verbs"]) + ")?"),
        noise_prefix=compiled("noise_prefixes", "^(?:" + "|".join(lists["noise_prefixes"]) + ")[:：]?"),
        period=compiled("period", raw["period"]),
        published=re.compile("(?:" + alternation(lists["published_keys"])
                             + r")[:：]?((?:19|20)\d{2})[-./年](\d{1,2})[-./月](\d{1,2})"),
        narrative_requests=compiled("narrative_requests", raw["narrative_requests"]),
        agency_suffix="(" + alternation(lists["agency_suffixes"]) + ")",
        signature_trailer=alternation(lists["signature_trailers"]),
    )


@lru_cache(maxsize=1)
def load_aliases() -> Aliases:
    import yaml

    with (SCHEMAS_DIR / "label_aliases.yaml").open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    for part in ("sections", "items"):
        for key, value in ((raw or {}).get(part) or {}).items():
            _words(value, f"{part}.{key}")
    unknown = sorted(set(raw or {}) - {"sections", "items", "rows", "columns", "template_markers",
                                       "fold", "similarity", "run_together", "header_words", "header_units",
                                       "webtext", "report"})
    if unknown:
        raise ValueError(f"unknown top-level key(s): {', '.join(map(str, unknown))}")
    fold = _fold(raw.get("fold"))
    markers, text_markers = _markers(raw.get("template_markers"))
    return Aliases(
        sections={int(k): tuple(norm_label(a) for a in v) for k, v in raw["sections"].items()},
        items={k: tuple(norm_label(a) for a in v) for k, v in raw["items"].items()},
        rows={int(s): {k: _alias_set(v, fold) for k, v in rows.items()} for s, rows in raw["rows"].items()},
        columns={int(s): {k: _alias_set(v, fold) for k, v in cols.items()} for s, cols in raw["columns"].items()},
        template_markers=markers,
        fold=fold,
        similarity=_similarity(raw.get("similarity")),
        run_together=_run_together(raw.get("run_together")),
        text_markers=text_markers,
        header_words=_header_words(raw.get("header_words"), fold),
        header_unit=_header_unit(raw.get("header_units")),
        webtext=_webtext(raw.get("webtext")),
        report=_report(raw.get("report")),
    )


def report_words() -> ReportWords:
    words = load_aliases().report
    if words is None:
        raise ValueError("label_aliases.yaml has no `report` words")
    return words


def header_unit(text: str) -> str | None:
    """The unit a column header declares for its amounts (`采购总金额（元）` → 元), or None."""
    pattern = load_aliases().header_unit
    m = pattern.search(text) if pattern is not None else None
    return m.group(1) if m else None


def names_header(section: int, labels: list[str]) -> bool:
    """One of the normalised `labels` is a header word of `section` (label_aliases.yaml header_words)."""
    words = load_aliases().header_words.get(section)
    return words is not None and any(words.matches(lab) for lab in labels)


@lru_cache(maxsize=65536)
def section_heading(text: str) -> int | None:
    """The section a heading line opens, or None. Narrative sentences that merely mention a
    section's name are not headings: a heading starts with its numbering or is short."""
    s = norm_label(text)
    if not s or len(s) > 40 or "。" in s or "，" in s:
        return None
    bare = strip_numbering(s)
    numbered = bare != s
    found = None
    for section, aliases in load_aliases().sections.items():
        for a in aliases:
            if a in bare and (numbered or len(bare) <= len(a) + 8):
                if found is not None and found != section:
                    return None
                found = section
    return found


@lru_cache(maxsize=65536)
def item_heading(text: str) -> str | None:
    s = norm_label(text)
    for item, aliases in load_aliases().items.items():
        if any(a in s for a in aliases):
            return item
    return None


def row_candidates(section: int, labels: list[str]) -> set[str]:
    """Row keys of `section` whose aliases match the row's label cells (most specific kept)."""
    return set(_row_candidates(section, tuple(labels)))


@lru_cache(maxsize=65536)
def _row_candidates(section: int, labels: tuple[str, ...]) -> frozenset[str]:
    rows = load_aliases().rows.get(section, {})
    joined = "".join(labels)
    found: set[str] = set()
    for key, aliases in rows.items():
        if aliases.matches(joined) or any(aliases.matches(lab) for lab in labels):
            found.add(key)
    specific = {k for k in found if not rows[k].group}
    return frozenset(specific or found)


@lru_cache(maxsize=65536)
def column_of(section: int, label: str) -> str | None:
    """The column key a header cell names, or None (ambiguous counts as None)."""
    cols = load_aliases().columns.get(section, {})
    hits = [k for k, a in cols.items() if a.matches(label)]
    return hits[0] if len(hits) == 1 else None


# ---------------------------------------------------------------- similarity


def fold_label(text: str) -> str:
    """A printed label normalised and folded (the form aliases are compared in)."""
    return load_aliases().fold(norm_label(text))

_INNER_NUMBER = re.compile(r"(?:^|(?<=[^\d.]))\d{1,2}\.(?!\d)")


def _label_forms(label: str) -> set[str]:
    """A normalised label's folded forms for comparison: whole, without its numbering, and the
    part after its last sub-row number (`(三)不予公开7.属于…` → `属于…`)."""
    fold = load_aliases().fold
    s = norm_label(label)
    forms = {fold(strip_numbering(s))}  # numbering is no evidence: every group has a 1.
    parts = _INNER_NUMBER.split(s)
    if len(parts) > 1 and parts[-1]:
        forms.add(fold(parts[-1]))
    return {f for f in forms if f}


def label_ratio(a: str, b: str) -> float:
    """How close two printed labels are, 0..1, over their folded forms."""
    from difflib import SequenceMatcher

    best = 0.0
    for x in _label_forms(a):
        for y in _label_forms(b):
            best = max(best, SequenceMatcher(None, x, y, autojunk=False).ratio())
    return best


def similar_row(label: str, rows: dict[str, str]) -> tuple[str, float] | None:
    """The one row of `rows` (row_key → its printed catalog label) that `label` is close to, with
    the ratio; None when no row is close enough or two are (ambiguous)."""
    sim = load_aliases().similarity
    scored = sorted(((label_ratio(label, printed), key) for key, printed in rows.items()), reverse=True)
    if not scored or scored[0][0] < sim.min_ratio:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < sim.min_margin:
        return None
    return scored[0][1], scored[0][0]


# ---------------------------------------------------------------- labels in run-together text


def flex_pattern(core: str) -> str:
    """A regex finding a label core in page text as reports print it: spaces, the folded
    connectives and punctuation (和/及/与, 、，…) and quotes between its characters, either width of
    brackets, and each equivalent wording (受理 for 处理, 案件 for 案卷)."""
    fold = load_aliases().fold
    sep = "[\\s“”\"'‘’" + re.escape("".join(fold.ignore)) + "]*"
    canonical = fold(norm_label(core))
    printed_forms: dict[str, list[str]] = {}
    for printed, canon in fold.equivalents:
        printed_forms.setdefault(canon, [canon]).append(printed)
    tokens: list[str] = []
    i = 0
    while i < len(canonical):
        word = next((c for c in sorted(printed_forms, key=len, reverse=True) if canonical.startswith(c, i)), None)
        if word is not None:
            alts = sorted(set(printed_forms[word]), key=len, reverse=True)
            tokens.append("(?:" + "|".join(sep.join(re.escape(ch) for ch in a) for a in alts) + ")")
            i += len(word)
            continue
        ch = canonical[i]
        if ch in "(（":
            tokens.append("[（(]")
        elif ch in ")）":
            tokens.append("[）)]")
        else:
            tokens.append(re.escape(ch))
        i += 1
    return sep.join(tokens)
