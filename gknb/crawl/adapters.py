"""List pages of the content-management systems most government sites run on (issue 12.1).

A report column's first page says which system built it; the adapter reads the page's report
links, where the rest of the list is, and how many records the list advertises:

- **TRS / WCM** (拓尔思). Static pages `index.htm`, `index_1.htm` … announced by the pager
  `createPageHTML(pages, current, "index", "htm")`. In "动静结合" mode (static + dynamic) only the
  first `maxStaticIndex` pages exist as files; the page loads `list2.trsapi` (RequireJS) and calls
  `listModel({… maxStaticIndex: 1, pagebar: {prepage: 10, recordCount: '20'} …})`, and later
  pages come only from a JSON list API named in that configuration (`url`/`apiUrl`/`dataUrl`),
  asked with the page number and page size (`api_page_param`, `api_size_param` of the site).
- **Hanweb / 大汉** (jpage). The first records are inline, in
  `<script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?
  …columnid=…&unitid=…">]]></nextgroup><recordset><record><![CDATA[<li><a href=…>…</a></li>]]>
  </record>…</recordset></datastore></script>`, and `jpage({… totalRecord: 45, perPage: 15,
  groupSize: 3 …})` says how many there are; the rest come as the same XML from
  `dataproxy.jsp?startrecord=16&endrecord=45&perpage=15&<the nextgroup's parameters>`.
- **plain**: numbered pages (`index_1.html`, 下一页), nothing dynamic.

Every adapter reads report links with the site's patterns (gknb.crawl.links.read_links), so the
decision "is this a report" is made in one place.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from gknb.crawl.links import PageLinks, read_links, trs_pager
from gknb.crawl.types import Site

HTML, TRS_JSON, HANWEB_XML = "html", "trs_json", "hanweb_xml"

_TRS_API_MARK = re.compile(r"list2\.trsapi|maxStaticIndex", re.IGNORECASE)
_HANWEB_MARK = re.compile(r"dataproxy\.jsp|<datastore>|\.jpage\(", re.IGNORECASE)
_MAX_STATIC = re.compile(r"\bmaxStaticIndex\s*:\s*['\"]?(\d+)")
_PREPAGE = re.compile(r"\bprepage\s*:\s*['\"]?(\d+)")
_RECORD_COUNT = re.compile(r"\brecordCount\s*:\s*['\"]?(\d+)")
_API_URL = re.compile(r"\b(?:apiUrl|dataUrl|url)\s*:\s*['\"]([^'\"]+)['\"]")
_DATASTORE = re.compile(r"<datastore>(.*?)</datastore>", re.IGNORECASE | re.DOTALL)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.IGNORECASE | re.DOTALL)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.IGNORECASE | re.DOTALL)
_TOTAL_RECORD = re.compile(r"\btotalRecord\s*[:=]\s*['\"]?(\d+)", re.IGNORECASE)
_TOTAL_RECORD_TAG = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.IGNORECASE)
_PER_PAGE = re.compile(r"\bperPage\s*[:=]\s*['\"]?(\d+)", re.IGNORECASE)
_GROUP_SIZE = re.compile(r"\bgroupSize\s*[:=]\s*['\"]?(\d+)", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*['"]([^'"]+)['"]""", re.IGNORECASE)
_PAGE_URL = re.compile(r"\.(s?html?|jsp|aspx?|pdf|docx?|wps)(\?|#|$)", re.IGNORECASE)
_TOTAL_KEYS = re.compile(r"^(total|totalCount|recordCount|totalRecord|count)$", re.IGNORECASE)
_URL_KEYS = ("url", "docpuburl", "link", "href", "docurl", "puburl")
_TITLE_KEYS = ("title", "doctitle", "name", "subject")

MAX_API_PAGES = 1000  # a recordCount of 10^9 must not queue 10^8 requests


@dataclass
class ListRead:
    """What one list page (HTML, or a JSON / XML answer of a list API) gave."""

    adapter: str
    links: PageLinks
    more: list[tuple[str, str]] = field(default_factory=list)  # further pages of the list: (url, format)
    advertised: int | None = None  # records the list says it holds
    records: list[str] = field(default_factory=list)  # the list's items on this page (any link, report or not)


def detect(html: str) -> str:
    """The CMS that built a list page, from the page itself."""
    if _HANWEB_MARK.search(html):
        return "hanweb"
    if _TRS_API_MARK.search(html) or trs_pager(html):
        return "trs"
    return "plain"


def read_list_page(html: str, url: str, site: Site) -> ListRead:
    """Report links, further list pages and the advertised count of an HTML list page."""
    adapter = site.adapter if site.adapter != "auto" else detect(html)
    links = read_links(html, url, site.patterns, list_page=True)
    read = ListRead(adapter=adapter, links=links, more=[(u, HTML) for u in links.next_pages])
    if adapter == "trs":
        _trs(html, url, site, read)
    elif adapter == "hanweb":
        _hanweb(html, url, site, read)
    read.records += links.report_pages + [u for u in links.attachments if u not in links.report_pages]
    return read


def read_api_page(body: str, url: str, site: Site, fmt: str) -> ListRead:
    """The records of a list API's answer (TRS JSON or Hanweb XML) as a list page's links."""
    if fmt == HANWEB_XML:
        fragments = _RECORD.findall(body)
        total = _TOTAL_RECORD_TAG.search(body)
        read = _records_as_links(fragments, url, site, "hanweb")
        read.advertised = int(total.group(1)) if total else None
        return read
    try:
        data = json.loads(body)
    except ValueError:
        return ListRead(adapter="trs", links=PageLinks())
    items = list(_json_records(data))
    html = "".join(f'<li><a href="{_attr(u)}" title="{_attr(t)}">{_text(t)}</a></li>' for u, t in items)
    read = _records_as_links([html], url, site, "trs")
    read.records = [urljoin(url, u) for u, _ in items]
    read.advertised = _json_total(data)
    return read


def _records_as_links(fragments: list[str], url: str, site: Site, adapter: str) -> ListRead:
    html = "<ul>" + "".join(fragments) + "</ul>"
    links = read_links(html, url, site.patterns, list_page=True)
    records = [urljoin(url, h) for fragment in fragments for h in _HREF.findall(fragment)]
    # An answer of the API is a page of records, not of navigation: its pager links are not followed.
    links.next_pages = []
    return ListRead(adapter=adapter, links=links, records=records)


def _trs(html: str, url: str, site: Site, read: ListRead) -> None:
    pager = trs_pager(html)
    static = _MAX_STATIC.search(html)
    max_static = int(static.group(1)) if static else None
    if pager:
        pages, stem, ext = pager
        last = min(pages, max_static) if max_static else pages
        # Only the first page announces the others: index_N itself repeats the pager.
        if not re.search(rf"{re.escape(stem)}_\d+\.{re.escape(ext)}$", urlsplit(url).path):
            for n in range(1, min(last, MAX_API_PAGES)):
                read.more.append((urljoin(url, f"{stem}_{n}.{ext}"), HTML))
    count = _RECORD_COUNT.search(html)
    if count:
        read.advertised = int(count.group(1))
    api = _API_URL.search(html)
    if not (max_static and count and api):
        return
    if re.search(r"_\d+\.s?html?$", urlsplit(url).path):
        return  # the dynamic pages are queued once, from the column's first page
    per_page = int(_PREPAGE.search(html).group(1)) if _PREPAGE.search(html) else 10
    total_pages = min(math.ceil(read.advertised / max(per_page, 1)), MAX_API_PAGES)
    base = urljoin(url, api.group(1))
    for page in range(max_static + 1, total_pages + 1):
        read.more.append((_with_params(base, {site.api_page_param: page, site.api_size_param: per_page}), TRS_JSON))


def _hanweb(html: str, url: str, site: Site, read: ListRead) -> None:
    store = _DATASTORE.search(html)
    if not store:
        return
    inline = _RECORD.findall(store.group(1))
    extra = _records_as_links(inline, url, site, "hanweb")
    for name in ("report_pages", "attachments"):
        getattr(read.links, name).extend(u for u in getattr(extra.links, name) if u not in getattr(read.links, name))
    read.records += extra.records
    total = _TOTAL_RECORD.search(html)
    if not total:
        return
    read.advertised = int(total.group(1))
    nextgroup = _NEXTGROUP.search(store.group(1))
    href = _HREF.search(nextgroup.group(1)) if nextgroup else None
    if not href:
        return
    per_page = int(_PER_PAGE.search(html).group(1)) if _PER_PAGE.search(html) else 15
    group = per_page * (int(_GROUP_SIZE.search(html).group(1)) if _GROUP_SIZE.search(html) else 3)
    proxy = urljoin(url, href.group(1))
    start = len(inline) + 1
    requests = 0
    while start <= read.advertised and requests < MAX_API_PAGES:
        end = min(start + group - 1, read.advertised)
        read.more.append((_with_params(proxy, {"startrecord": start, "endrecord": end, "perpage": per_page}), HANWEB_XML))
        start, requests = end + 1, requests + 1


def _with_params(url: str, params: dict) -> str:
    """`url` with `params` set (replacing the same names), other parameters kept in order."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _json_records(data):
    """(url, title) of every record in a JSON answer, whatever its nesting: a mapping with a URL
    of a page or file and a title."""
    if isinstance(data, dict):
        url = next((data[k] for k in data if k.lower() in _URL_KEYS and isinstance(data[k], str)
                    and _PAGE_URL.search(data[k])), None)
        title = next((data[k] for k in data if k.lower() in _TITLE_KEYS and isinstance(data[k], str)), None)
        if url and title:
            yield url, title
            return
        for value in data.values():
            yield from _json_records(value)
    elif isinstance(data, list):
        for value in data:
            yield from _json_records(value)


def _json_total(data) -> int | None:
    if isinstance(data, dict):
        for key, value in data.items():
            if _TOTAL_KEYS.match(key) and str(value).isdigit():
                return int(value)
        for value in data.values():
            found = _json_total(value)
            if found is not None:
                return found
    elif isinstance(data, list):
        return None
    return None


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;")
