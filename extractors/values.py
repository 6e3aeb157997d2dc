"""One printed table cell → (status, value) of the cell contract, and the one vocabulary of values.

Statuses: `value` (a number), `blank` (nothing printed), `nil` (a word standing for "none":
无, /, －, —), `missing` (something printed that is not a number we can trust; the reason is
returned in place of the value so the caller can warn).

The vocabulary (nil words, digits, footnote marks, signs, units, page-number forms) is data:
`schemas/value_words.yaml`, loaded once. Every front end asks this module what "a number", "a nil
word" and "a page number" are (`is_number`, `is_value_token`, `is_nil_word`, `is_page_number`),
so a form read by one front end is read by all.

Numbers are what is printed, or nothing: only ASCII and full-width digits are digits (circled
numbers, other scripts: `missing`); footnote marks after a number are stripped and named by
`footnote_note`; an implausible number (a negative count, a count above
`gknb.settings.limits().max_count`) is `missing` with a reason starting `domain:`, an amount with
no printed unit above the plausible magnitude is `missing` with a reason starting `unit:`. Those
prefixes are what the quality checks raise their `domain` and `unit` findings from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# What a front end puts in a value cell it saw but cannot read with confidence (OCR: a weak digit,
# ink where nothing was recognised), followed by what it did read: the cell keeps its place in the
# row and parses as `missing`, never as a number.
UNREADABLE = "[unreadable"
# Reasons that name a kind of finding start with it (`domain: a negative count: '-3'`).
DOMAIN = "domain:"
UNIT = "unit:"
FOOTNOTE = "footnote:"
SCRIPT = "digits:"


@dataclass(frozen=True)
class Vocabulary:
    nil_words: frozenset[str]
    nil_marks: frozenset[str]
    digits: str
    footnote_marks: str
    minus_signs: str
    increase_words: tuple[str, ...]
    decrease_words: tuple[str, ...]
    count_units: tuple[str, ...]
    amount_units: dict[str, Decimal]
    amount_ceiling: Decimal
    page_number: re.Pattern
    number: re.Pattern  # a number as a table prints it (layout: is this cell a value?)
    foreign_digit: re.Pattern  # a digit-like character that is not one of `digits`


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """schemas/value_words.yaml, checked (a broken file is a ConfigError naming it)."""
    import yaml

    from gknb.errors import ConfigError
    from gknb.paths import SCHEMAS_DIR

    path = SCHEMAS_DIR / "value_words.yaml"
    try:
        with path.open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
        digits = str(raw["digits"])
        marks = str(raw["footnote_marks"])
        minus = str(raw["minus_signs"])
        ascii_digits = "".join(d for d in digits if d.isascii())
        fw = "".join(d for d in digits if not d.isascii())
        if ascii_digits != "0123456789":
            raise ValueError("digits must hold 0-9")
        d = f"[{re.escape(digits)}]"
        amount_units = {str(k): Decimal(str(v)) for k, v in raw["amount_units"].items()}
        units = "|".join(sorted(map(re.escape, amount_units), key=len, reverse=True))
        number = re.compile(
            rf"^[{re.escape(minus)}+]?{d}[{re.escape(digits)},，]*(?:[.．]{d}+)?(?:{units})?[{re.escape(marks)}]*$")
        page = re.compile(r"^\s*(?:" + "|".join(f"(?:{p})" for p in raw["page_number_patterns"]) + r")\s*$")
        vocab = Vocabulary(
            nil_words=frozenset(str(w).lower() for w in raw["nil_words"]),
            nil_marks=frozenset(str(raw["nil_marks"])),
            digits=digits,
            footnote_marks=marks,
            minus_signs=minus,
            increase_words=tuple(str(w) for w in raw["increase_words"]),
            decrease_words=tuple(str(w) for w in raw["decrease_words"]),
            count_units=tuple(sorted((str(u) for u in raw["count_units"]), key=len, reverse=True)),
            amount_units=amount_units,
            amount_ceiling=Decimal(str(raw["amount_10k_yuan_ceiling"])),
            page_number=page,
            number=number,
            foreign_digit=re.compile(
                "[^" + re.escape(ascii_digits + fw + marks) + "]"),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError, re.error) as exc:
        raise ConfigError(f"{path}: {type(exc).__name__}: {exc}") from exc
    return vocab


def _is_foreign_digit(ch: str) -> bool:
    """A character that stands for a number but is not an ASCII/full-width digit or a footnote mark."""
    v = vocabulary()
    if ch in v.digits or ch in v.footnote_marks:
        return False
    return unicodedata.category(ch) in ("Nd", "No", "Nl") and not ("\u4e00" <= ch <= "\u9fff")


def clean(text: str) -> str:
    """NFKC (full-width digits, brackets, commas → ASCII), no spaces, no Markdown emphasis."""
    s = unicodedata.normalize("NFKC", text or "")
    s = s.replace("*", "").replace("\u3000", " ")
    s = re.sub(r"\s+", "", s)
    return s


def is_nil_word(text: str) -> bool:
    s = clean(text)
    v = vocabulary()
    return bool(s) and (s.lower() in v.nil_words or set(s) <= v.nil_marks)


def is_page_number(text: str) -> bool:
    """A line that is a printed page number (`— 4 —`, `第 3 页`, `3/6`)."""
    return bool(vocabulary().page_number.match(text))


def is_number(text: str) -> bool:
    """A number as a table prints it (sign, digits, thousands commas, decimals, an amount unit,
    footnote marks), spaces ignored: the layout test of "is this cell a value"."""
    return bool(vocabulary().number.match(text.replace(" ", "")))


def is_value_token(text: str) -> bool:
    """A number or a nil word: what fills a value cell."""
    t = text.strip()
    return is_number(t) or is_nil_word(t)


def split_footnotes(text: str) -> tuple[str, str]:
    """(the text without footnote marks after its digits, the marks removed)."""
    marks = vocabulary().footnote_marks
    if not text or not any(ch in marks for ch in text):
        return text, ""
    removed = "".join(ch for ch in text if ch in marks)
    return "".join(ch for ch in text if ch not in marks), removed


def footnote_note(text: str | None) -> str | None:
    """`footnote: mark '³' stripped from '74³'` for a value printed with footnote marks, else None."""
    if not text:
        return None
    rest, removed = split_footnotes(text)
    if removed and clean(rest) and looks_like_value(rest):
        return f"{FOOTNOTE} mark {removed!r} stripped from {text.strip()!r}; the number is {clean(rest)!r}"
    return None


def _foreign_digits(text: str) -> str:
    return "".join(ch for ch in text if _is_foreign_digit(ch))


# Two numbers in one cell ("1 2"): cells run together; never read as 12.
_TWO_NUMBERS = re.compile(r"\d\s+[-−–]?\d")


def parse_value(text: str | None, value_type: str) -> tuple[str, object]:
    """(status, value): value is the number for `value`, None for blank/nil, the reason for missing."""
    from gknb.settings import limits

    return _parse(text, value_type, limits().max_count)


@lru_cache(maxsize=65536)  # pure; a table repeats the same few cell texts ("0", "无") hundreds of times
def _parse(text: str | None, value_type: str, max_count: int) -> tuple[str, object]:
    printed = (text or "").strip()
    if printed.startswith(UNREADABLE):
        return "missing", f"printed but not read with confidence: {printed!r}"
    foreign = _foreign_digits(printed)
    if foreign:
        return "missing", f"{SCRIPT} {foreign!r} is not an ASCII or full-width digit: {printed!r}"
    text, _marks = split_footnotes(printed)
    s = clean(text)
    if not s:
        return ("missing", f"only a footnote mark: {printed!r}") if _marks else ("blank", None)
    if _TWO_NUMBERS.search(unicodedata.normalize("NFKC", text)):
        return "missing", f"two numbers in one cell: {printed!r}"
    if is_nil_word(s):
        return "nil", None
    number, unit = _number(s)
    if number is None:
        return "missing", f"not a number: {printed!r}"
    v = vocabulary()
    if value_type == "amount_10k_yuan":
        if unit in v.amount_units:
            number = number * v.amount_units[unit]
        elif unit is not None:
            return "missing", f"a count where an amount belongs: {printed!r}"
        if number < 0:
            return "missing", f"{DOMAIN} a negative amount: {printed!r}"
        if unit is None and number > v.amount_ceiling:
            return "missing", (f"{UNIT} {printed!r} printed without a unit is over {v.amount_ceiling} 万元; "
                               "a figure in 元 under a 万元 header? not loaded")
        if number >= Decimal(10) ** 12:
            return "missing", f"{DOMAIN} an amount beyond any report: {printed!r}"
        return "value", _plain(number)
    if unit in v.amount_units:
        return "missing", f"an amount where a count belongs: {printed!r}"
    if number != number.to_integral_value():
        return "missing", f"a decimal where a count belongs: {printed!r}"
    if value_type == "count" and number < 0:
        return "missing", f"{DOMAIN} a negative count: {printed!r}"
    if abs(number) > max_count:
        return "missing", f"{DOMAIN} {printed!r} is above the ceiling of a count ({max_count}, limits max_count)"
    return "value", int(number)


@lru_cache(maxsize=65536)
def looks_like_value(text: str | None) -> bool:
    """True for a cell that holds a number or a nil word (the value part of a row); a cell of
    digits of another script counts too, so it keeps its place among the values (and parses as
    `missing`)."""
    s = clean(split_footnotes(text or "")[0])
    if not s:
        return False
    if is_nil_word(s) or s.startswith(UNREADABLE):
        return True
    number, _ = _number(s)
    if number is not None:
        return True
    raw = (text or "").strip()
    return bool(raw) and all(_is_foreign_digit(ch) or ch in ", .，" for ch in raw) and bool(_foreign_digits(raw))


_NUMBER = re.compile(r"^([+-]?)([0-9]+(?:,[0-9]{3})*|[0-9]+)(\.[0-9]+)?$")


def _number(s: str) -> tuple[Decimal | None, str | None]:
    v = vocabulary()
    units = tuple(sorted((*v.amount_units, *v.count_units), key=len, reverse=True))
    # `22(其中修订16件)`: the printed figure and a note on it; the note is not the value
    unit_alt = "|".join(map(re.escape, units))
    s = re.sub(rf"^([{re.escape(v.minus_signs)}+]?[\d,.]+(?:{unit_alt})?)\([^()]*\)$", r"\1", s)
    unit = None
    for suffix in units:
        if s.endswith(suffix) and len(s) > len(suffix):
            unit = suffix
            s = s[: -len(suffix)]
            break
    sign = ""
    for word in v.decrease_words:
        if s.startswith(word) and len(s) > len(word):
            sign, s = "-", s[len(word):]
            break
    else:
        for word in v.increase_words:
            if s.startswith(word) and len(s) > len(word):
                s = s[len(word):]
                break
    if s and s[0] in v.minus_signs:
        sign, s = ("" if sign == "-" else "-"), s[1:]
    elif s.startswith("+"):
        s = s[1:]
    s = s.replace("，", ",")
    m = _NUMBER.match(s)
    if not m:
        return None, None
    try:
        number = Decimal(m.group(2).replace(",", "") + (m.group(3) or ""))
    except InvalidOperation:
        return None, None
    return (-number if sign == "-" else number), unit


def _plain(number: Decimal) -> int | float:
    """An amount as JSON: an int when whole, else a float that prints as the decimal did."""
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def keyed_warning(where: str, reason: str) -> str:
    """A cell's warning: `domain: 3/new/total: …` for a reason naming a finding kind (the checks
    read the prefix), `3/new/total: …` otherwise."""
    for prefix in (DOMAIN, UNIT, FOOTNOTE, SCRIPT):
        if reason.startswith(prefix):
            return f"{prefix} {where}: {reason[len(prefix):].strip()}"
    return f"{where}: {reason}"
