"""An agency's kind and its identity across years, from its name (rules in schemas/agency_kinds.yaml)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import yaml

from gknb.paths import SCHEMAS_DIR
from gknb.warehouse.errors import SchemaError

KINDS_FILE = SCHEMAS_DIR / "agency_kinds.yaml"
LEVELS = ("district", "city", "province")


@dataclass(frozen=True)
class KindRule:
    kind: str
    patterns: tuple[re.Pattern, ...]
    level: str | None = None


@lru_cache(maxsize=1)
def kind_rules() -> tuple[KindRule, ...]:
    spec = yaml.safe_load(KINDS_FILE.read_text(encoding="utf-8"))
    # a misspelt key must fail here, not silently drop a rule's level or every rule
    if not isinstance(spec, dict) or set(spec) != {"kinds"} or not isinstance(spec["kinds"], list) or not spec["kinds"]:
        raise SchemaError("agency_kinds.yaml: expected one key `kinds` holding a non-empty list of rules")
    rules = []
    for r in spec.get("kinds") or []:
        unknown = sorted(set(r) - {"kind", "why", "level", "patterns"}) if isinstance(r, dict) else ["(not a mapping)"]
        if unknown:
            raise SchemaError(f"agency_kinds.yaml: unknown key(s) {', '.join(map(str, unknown))} in rule {(r.get('kind') if isinstance(r, dict) else r)!r}")
        if not isinstance(r.get("patterns"), list) or not all(isinstance(p, str) and p for p in r["patterns"]):
            raise SchemaError(f"agency_kinds.yaml: patterns of {r.get('kind')!r} must be a list of regular expressions")
        if not r.get("kind") or not r.get("patterns") or not (r.get("why") or "").strip():
            raise SchemaError(f"agency_kinds.yaml: a rule needs kind, patterns and why: {r!r}")
        if r.get("level") not in (None, *LEVELS):
            raise SchemaError(f"agency_kinds.yaml: unknown level {r.get('level')!r}")
        try:
            pats = tuple(re.compile(p) for p in r["patterns"])
        except re.error as exc:
            raise SchemaError(f"agency_kinds.yaml: bad pattern in {r['kind']}: {exc}") from exc
        rules.append(KindRule(r["kind"], pats, r.get("level")))
    return tuple(rules)


def normalise_name(name: str) -> str:
    """NFKC (full-width → half-width), no whitespace: how names are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def division_level(province: str | None, city: str | None, district: str | None) -> str | None:
    if district:
        return "district"
    if city:
        return "city"
    if province:
        return "province"
    return None


def agency_kind(name: str | None, province: str | None = None, city: str | None = None,
                district: str | None = None) -> str | None:
    """The first rule whose pattern matches the name (and whose level, if any, fits); None without a name."""
    if not name:
        return None
    norm = normalise_name(name)
    level = division_level(province, city, district)
    for rule in kind_rules():
        if rule.level and rule.level != level:
            continue
        if any(p.search(norm) for p in rule.patterns):
            return rule.kind
    return None


def agency_key(name: str | None, province: str | None, city: str | None, district: str | None) -> str | None:
    """province|city|district|name without its leading region names: one agency across years.

    淮安市洪泽区人民政府 and 洪泽区人民政府 (both resolved to 江苏省/淮安市/洪泽区) get the same key.
    """
    if not name:
        return None
    rest = normalise_name(name)
    for region in (province, city, district):
        if not region:
            continue
        for form in _region_forms(region):
            if rest.startswith(form) and len(rest) > len(form):
                rest = rest[len(form):]
                break
    return "|".join([province or "", city or "", district or "", rest])


def _region_forms(region: str) -> list[str]:
    """The full name first, then the name without its level suffix (淮安市 → 淮安)."""
    region = normalise_name(region)
    forms = [region]
    short = re.sub(r"(省|市|区|县|自治区|自治州|自治县|特别行政区|回族自治区|壮族自治区|维吾尔自治区)$", "", region)
    if short and short != region and len(short) >= 2:
        forms.append(short)
    return forms
