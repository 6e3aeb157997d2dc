"""Bytes → text for the text-like front ends (plain text, Markdown, HTML, crawled web text).

Chinese government sites still serve GBK/GB2312 pages, often mislabelled, so the order is:
a byte-order mark, then the charset the source declares, then strict UTF-8, then GB18030 (a
superset of GBK and GB2312), and only then charset-normalizer's guess.
"""

from __future__ import annotations

import codecs
import re

from gknb.extractors.errors import UnreadableDocument

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Declared names that mean "some Chinese legacy charset": GB18030 decodes all of them (pages
# labelled GB2312 often hold GBK characters). Not HZ-GB-2312: a 7-bit encoding (~{...~}) that
# GB18030 would read as ASCII punctuation; Python's `hz` codec decodes it.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "ms936", "euc-cn", "gb_2312-80"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-]+)""", re.I)


def normalise_charset(name: str | None) -> str | None:
    """A declared charset name as the codec to try first: lower case; the GB family → gb18030."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    return "gb18030" if name in _GB_FAMILY else name or None


def charset_in_markup(data: bytes) -> str | None:
    """The charset a page declares in its own bytes (meta tag, else XML declaration), normalised."""
    m = _META_CHARSET.search(data[:4096]) or _XML_ENCODING.search(data[:200])
    return normalise_charset(m.group(1).decode("ascii", "replace")) if m else None


def decode_text(data: bytes, declared: str | None = None, source: str | None = None) -> str:
    """Decode `data`; `declared` is a charset named by the source (HTTP header or <meta>);
    `source` names the document in the error, which is all a user sees of a batch."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                break
    for codec in _candidates(declared):
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    guessed = _guess(data)
    if guessed is not None:
        return guessed
    where = f"{source}: " if source else ""
    raise UnreadableDocument(f"{where}cannot decode the text (not UTF-8, GB18030 or a detectable charset)")


def _candidates(declared: str | None) -> list[str]:
    out: list[str] = []
    name = normalise_charset(declared)
    if name:
        out.append(name)
    for codec in ("utf-8", "gb18030"):
        if codec not in out:
            out.append(codec)
    return out


def _guess(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - it is a pinned dependency
        return None
    best = from_bytes(data).best()
    return str(best) if best is not None else None
