"""One printed table cell → (status, value) of the cell contract.

Statuses: `value` (a number), `blank` (nothing printed), `nil` (a word standing for "none":
无, /, －, —), `missing` (something printed that is not a number we can trust; the reason is
returned in place of the value so the caller can warn).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from decimal import Decimal, InvalidOperation

NIL_WORDS = {"无", "/", "／", "-", "－", "—", "——", "–", "−", "\\", "＼", "空", "暂无", "没有", "不适用", "null", "n/a"}
# Minus signs as printed: ASCII, full-width (NFKC maps it), the Unicode minus, en dash.
_MINUS = "-−–"
_NUMBER = re.compile(r"^([+-]?)(\d+(?:,\d{3})*|\d+)(\.\d+)?$")
_DECREASE_WORDS = ("减少", "减")
# What a front end puts in a value cell it saw but cannot read with confidence (OCR: a weak digit,
# ink where nothing was recognised), followed by what it did read: the cell keeps its place in the
# row and parses as `missing`, never as a number.
UNREADABLE = "[unreadable"
_INCREASE_WORDS = ("增加", "增", "新增")


def clean(text: str) -> str:
    """NFKC (full-width digits, brackets, commas → ASCII), no spaces, no Markdown emphasis."""
    s = unicodedata.normalize("NFKC", text or "")
    s = s.replace("*", "").replace("\u3000", " ")
    s = re.sub(r"\s+", "", s)
    return s


def is_nil_word(text: str) -> bool:
    s = clean(text)
    return bool(s) and (s.lower() in NIL_WORDS or set(s) <= set("/-—–－−\\"))


# Two numbers in one cell ("1 2"): cells run together; never read as 12.
_TWO_NUMBERS = re.compile(r"\d\s+[-−–]?\d")


@lru_cache(maxsize=65536)  # pure; a table repeats the same few cell texts ("0", "无") hundreds of times
def parse_value(text: str | None, value_type: str) -> tuple[str, object]:
    """(status, value): value is the number for `value`, None for blank/nil, the reason for missing."""
    s = clean(text or "")
    if not s:
        return "blank", None
    if s.startswith(UNREADABLE):
        return "missing", f"printed but not read with confidence: {text.strip()!r}"
    if _TWO_NUMBERS.search(unicodedata.normalize("NFKC", text)):
        return "missing", f"two numbers in one cell: {text.strip()!r}"
    if is_nil_word(s):
        return "nil", None
    number, unit = _number(s)
    if number is None:
        return "missing", f"not a number: {text.strip()!r}"
    if value_type == "amount_10k_yuan":
        if unit == "元":
            number = number / Decimal(10000)
        if number < 0:
            return "missing", f"a negative amount: {text.strip()!r}"
        return "value", _plain(number)
    if unit == "元":
        return "missing", f"an amount where a count belongs: {text.strip()!r}"
    if number != number.to_integral_value():
        return "missing", f"a decimal where a count belongs: {text.strip()!r}"
    if value_type == "count" and number < 0:
        return "missing", f"a negative count: {text.strip()!r}"
    return "value", int(number)


@lru_cache(maxsize=65536)
def looks_like_value(text: str | None) -> bool:
    """True for a cell that holds a number or a nil word (the value part of a row)."""
    s = clean(text or "")
    if not s:
        return False
    if is_nil_word(s) or s.startswith(UNREADABLE):
        return True
    number, _ = _number(s)
    return number is not None


def _number(s: str) -> tuple[Decimal | None, str | None]:
    # `22(其中修订16件)`: the printed figure and a note on it; the note is not the value
    s = re.sub(r"^([-−–+]?[\d,.]+(?:万元|元|件|个|项)?)\([^()]*\)$", r"\1", s)
    unit = None
    for suffix in ("万元", "元", "件", "个", "项", "条", "笔", "份", "宗", "家", "人次", "次", "人"):
        if s.endswith(suffix) and len(s) > len(suffix):
            unit = suffix
            s = s[: -len(suffix)]
            break
    sign = ""
    for word in _DECREASE_WORDS:
        if s.startswith(word) and len(s) > len(word):
            sign, s = "-", s[len(word):]
            break
    else:
        for word in _INCREASE_WORDS:
            if s.startswith(word) and len(s) > len(word):
                s = s[len(word):]
                break
    if s and s[0] in _MINUS:
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
