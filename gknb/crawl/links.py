"""Reading a fetched page: its text (GBK/GB2312/GB18030 or UTF-8) and its links, sorted by meaning."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin

from gknb.crawl.types import LinkPatterns

# TRS/WCM column pages write their pager in JavaScript: createPageHTML(pages, current, "index", "html")
# → index.html, index_1.html … index_{pages-1}.html.
_TRS_PAGER = re.compile(r"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["']([\w\-]+)["']\s*,\s*["'](\w+)["']""")


@dataclass
class PageLinks:
    """A page's links that matter to the crawl, as absolute URLs without fragments."""

    next_pages: list[str] = field(default_factory=list)
    report_pages: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    has_report_table: bool = False
    # Discovery (issue 12.2): report columns (政府信息公开年报), pages listing agencies (部门), and
    # on such a page the agencies' own pages.
    column_links: list[str] = field(default_factory=list)
    hub_links: list[str] = field(default_factory=list)
    agency_links: list[str] = field(default_factory=list)


def declared_charset(content_type: str | None, body: bytes) -> str | None:
    """The charset of the Content-Type header, else of the page's <meta> tag."""
    if content_type:
        match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", content_type, re.IGNORECASE)
        if match:
            return match.group(1)
    from gknb.extractors.encoding import charset_in_markup

    return charset_in_markup(body)


def decode_page(body: bytes, content_type: str | None) -> str:
    from gknb.extractors.encoding import decode_text

    return decode_text(body, declared_charset(content_type, body))


_YEAR = re.compile(r"(19|20)\d{2}")


def read_links(html: str, base_url: str, patterns: LinkPatterns, *, list_page: bool) -> PageLinks:
    """The next list pages, report pages and attachments a page links to (in page order, once each).

    On a list page a link is a report page when both its text and its URL look like one; on a report
    page only attachments count (its other links are navigation). `has_report_table`: the page holds
    a table with the report's words (an HTML report, not a layout table).
    """
    root = _parse(html)
    if root is None:
        return PageLinks()
    base = next((b.get("href") for b in root.iter("base") if b.get("href")), None)
    base_url = urljoin(base_url, base) if base else base_url
    found = PageLinks(has_report_table=any(
        patterns.matches("report_table_text", _text(table)) for table in root.iter("table")))
    seen: set[str] = set()
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or patterns.matches("exclude_url", href):
            continue
        url = urldefrag(urljoin(base_url, href)).url
        if url in seen or url == urldefrag(base_url).url:
            continue
        text = _text(anchor)
        # List pages often cut long titles ("…2023年政府信息公开…") and keep the whole in title="".
        title = " ".join(str(anchor.get("title") or "").split())
        if patterns.matches("navigation_text", text):
            continue
        # Download links often hide the file name in the anchor text (download.jsp?id=… "年报.pdf").
        if patterns.matches("attachment_url", url) or patterns.matches("attachment_url", text):
            found.attachments.append(url)
        elif list_page and (patterns.matches("pagination_text", text) or patterns.matches("pagination_url", url)):
            found.next_pages.append(url)
        elif list_page and patterns.matches("report_url", url) and (
                patterns.matches("report_link_text", text) or patterns.matches("report_link_text", title)):
            found.report_pages.append(url)
        elif list_page and not _YEAR.search(text) and patterns.matches("column_link_text", text):
            found.column_links.append(url)
        elif list_page and not _YEAR.search(text) and patterns.matches("hub_link_text", text):
            found.hub_links.append(url)
        elif list_page and patterns.matches("agency_link_text", text):
            found.agency_links.append(url)
        else:
            continue
        seen.add(url)
    return found


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _parse(html: str):
    """The page's element tree (lxml: a list page's thousand links and a report page's tables are
    read about ten times faster than through BeautifulSoup), or None for an empty page."""
    import lxml.html
    from lxml.etree import ParserError

    try:
        # lxml refuses a str that still declares its bytes' encoding
        return lxml.html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))
    except (ParserError, ValueError):
        return None


def _text(element) -> str:
    """An element's text (scripts, styles and comments left out), pieces joined by single spaces."""
    pieces = [element.text or ""]
    for node in element.iterdescendants():
        if isinstance(node.tag, str) and node.tag not in ("script", "style"):
            pieces.append(node.text or "")
        pieces.append(node.tail or "")  # a tail is its parent's text, inside `element`
    return " ".join(" ".join(pieces).split())


def trs_pager(html: str) -> tuple[int, str, str] | None:
    """(pages, stem, extension) of a TRS/WCM `createPageHTML(pages, current, "index", "htm")` pager."""
    match = _TRS_PAGER.search(html)
    if not match:
        return None
    return int(match.group(1)), match.group(3), match.group(4)
