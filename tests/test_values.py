"""Values: one printed cell → (status, value); bytes → text (decode_text)."""

from __future__ import annotations

import codecs

import pytest

from gknb.extractors.encoding import decode_text
from gknb.extractors.values import looks_like_value, parse_value


@pytest.mark.parametrize("text, value_type, expected", [
    ("0", "count", ("value", 0)),
    ("9126", "count", ("value", 9126)),
    ("１２３", "count", ("value", 123)),            # full-width digits
    ("1,234", "count", ("value", 1234)),           # thousands separator
    ("1，234", "count", ("value", 1234)),          # full-width comma
    (" 21 ", "count", ("value", 21)),
    ("12件", "count", ("value", 12)),
    ("22（其中修订16件）", "count", ("value", 22)),  # a note on the printed figure
    ("-18", "signed_count", ("value", -18)),       # 本年增/减
    ("－18", "signed_count", ("value", -18)),      # full-width minus
    ("−18", "signed_count", ("value", -18)),       # Unicode minus
    ("减18", "signed_count", ("value", -18)),
    ("增5", "signed_count", ("value", 5)),
    ("+5", "signed_count", ("value", 5)),
    ("7730.28", "amount_10k_yuan", ("value", 7730.28)),
    ("24252.311082", "amount_10k_yuan", ("value", 24252.311082)),
    ("7730.28万元", "amount_10k_yuan", ("value", 7730.28)),
    ("75394432.52元", "amount_10k_yuan", ("value", 7539.443252)),  # 元 → 万元, precision kept
    ("无", "count", ("nil", None)),
    ("/", "count", ("nil", None)),
    ("－", "count", ("nil", None)),
    ("—", "count", ("nil", None)),
    ("-", "signed_count", ("nil", None)),
    ("", "count", ("blank", None)),
    ("  ", "count", ("blank", None)),
    (None, "count", ("blank", None)),
])
def test_parse_value(text, value_type, expected):
    assert parse_value(text, value_type) == expected


@pytest.mark.parametrize("text, value_type, reason", [
    ("1.5", "count", "decimal"),        # a decimal is not a count
    ("-3", "count", "negative"),        # counts are non-negative
    ("abc", "count", "not a number"),
    ("12元", "count", "amount"),
    ("1 2", "count", "two numbers"),   # cells run together are never read as 12
    ("-5.5", "amount_10k_yuan", "negative"),
])
def test_unparseable_is_missing_with_reason(text, value_type, reason):
    status, why = parse_value(text, value_type)
    assert status == "missing"
    assert reason in why


def test_value_cells_are_told_from_labels():
    assert looks_like_value("0") and looks_like_value("无") and looks_like_value("1,234")
    assert not looks_like_value("1.属于国家秘密")
    assert not looks_like_value("(四)无法提供")
    assert not looks_like_value("一、")
    assert not looks_like_value("")


@pytest.mark.parametrize("codec", ["gbk", "gb2312", "gb18030", "utf-8"])
def test_decode_chinese_charsets(codec):
    text = "兴庆区民政局2019年政府信息公开工作年度报告"
    assert decode_text(text.encode(codec)) == text


def test_decode_bom_and_declared_charset():
    text = "政府信息公开"
    assert decode_text(codecs.BOM_UTF8 + text.encode("utf-8")) == text
    assert decode_text(text.encode("utf-16"), declared=None) == text  # BOM written by the codec
    assert decode_text(text.encode("gbk"), declared="GB2312") == text
    # a wrong declaration falls back to what decodes
    assert decode_text(text.encode("utf-8"), declared="bogus-charset") == text


def test_declared_hz_is_decoded_as_hz_not_read_as_ascii():
    # HZ-GB-2312 is 7-bit (~{...~}): decoded as GB18030 it "succeeds" as ASCII punctuation.
    text = "政府信息公开"
    assert decode_text(text.encode("hz"), declared="HZ-GB-2312") == text


def test_the_html_front_end_and_the_crawler_read_a_declaration_alike():
    from gknb.extractors.encoding import charset_in_markup
    from gknb.extractors.html import declared_charset
    from gknb.crawl.links import decode_page

    text = "兴庆区民政局政府信息公开工作年度报告"
    for name in ("GB2312", "GB_2312-80", "gbk", "HZ-GB-2312", "utf-8"):
        page = f'<html><head><meta charset="{name}"></head><body>{text}</body></html>'
        data = page.encode("hz" if name.startswith("HZ") else "gb18030" if name != "utf-8" else "utf-8")
        assert declared_charset(data) == charset_in_markup(data)
        assert text in decode_page(data, None), name
