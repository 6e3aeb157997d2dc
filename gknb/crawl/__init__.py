"""The crawler: sites as data (schemas/sites.yaml), polite fetching (robots.txt, allow-list, per-host
rate limit, bounded retries, conditional requests), a content-addressed raw layer, and the crawl
state (`crawl_fetches`) the next run reads.

    result = crawl(["https://example.gov.cn/zfxxgk/gknb/"], db, raw_dir)
    run = ingest_crawl(result, db)      # documents loaded, fetches recorded, in one build
                                        # (gknb.crawl.load; imports the warehouse)
"""

from __future__ import annotations

from gknb.crawl.crawler import crawl
from gknb.crawl.errors import CrawlError, SiteConfigError
from gknb.crawl.sites import DEFAULT_SITES_FILE, load_site_file, sites_for_urls
from gknb.crawl.types import CrawledDocument, CrawlResult, Fetch, Site

__all__ = [
    "crawl", "CrawlResult", "CrawledDocument", "Fetch", "Site", "CrawlError", "SiteConfigError",
    "load_site_file", "sites_for_urls", "DEFAULT_SITES_FILE",
]
