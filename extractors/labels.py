"""The label variants of schemas/label_aliases.yaml, loaded once, and label normalisation.

Kept apart from the matcher so that front ends and the metadata reader can ask "is this a
section heading / a row label / a column header?" with the same rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
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
class AliasSet:
    contains: tuple[str, ...]
    equals: tuple[str, ...]
    group: bool = False
    unless: tuple[str, ...] = ()

    def matches(self, label: str) -> bool:
        """`label` is one normalised cell (or several joined); exact aliases test each form."""
        if any(u in label for u in self.unless):
            return False
        if any(a in label for a in self.contains):
            return True
        if self.equals:
            bare = strip_numbering(label)
            return label in self.equals or bare in self.equals
        return False


@dataclass(frozen=True)
class Aliases:
    sections: dict[int, tuple[str, ...]]
    items: dict[str, tuple[str, ...]]
    rows: dict[int, dict[str, AliasSet]]
    columns: dict[int, dict[str, AliasSet]]
    template_markers: dict[str, tuple[str, ...]]


def _alias_set(spec) -> AliasSet:
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
    contains = tuple(norm_label(a) for a in spec if not a.startswith("="))
    equals = tuple(norm_label(a[1:]) for a in spec if a.startswith("="))
    return AliasSet(contains, equals, group, unless)


@lru_cache(maxsize=1)
def load_aliases() -> Aliases:
    import yaml

    with (SCHEMAS_DIR / "label_aliases.yaml").open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    for part in ("sections", "items", "template_markers"):  # plain lists: a string would match by its characters
        for key, value in ((raw or {}).get(part) or {}).items():
            if not isinstance(value, list) or not value or not all(isinstance(a, str) and a for a in value):
                raise ValueError(f"{part}.{key} must be a non-empty list of strings, got {value!r}")
    return Aliases(
        sections={int(k): tuple(norm_label(a) for a in v) for k, v in raw["sections"].items()},
        items={k: tuple(norm_label(a) for a in v) for k, v in raw["items"].items()},
        rows={int(s): {k: _alias_set(v) for k, v in rows.items()} for s, rows in raw["rows"].items()},
        columns={int(s): {k: _alias_set(v) for k, v in cols.items()} for s, cols in raw["columns"].items()},
        template_markers={str(k): tuple(norm_label(a) for a in v) for k, v in raw["template_markers"].items()},
    )


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
