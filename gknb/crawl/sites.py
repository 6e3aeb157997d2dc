"""The site list as data: schemas/sites.yaml (or a --sites file) → Site objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from gknb.crawl.errors import SiteConfigError
from gknb.crawl.types import LinkPatterns, Site
from gknb.paths import SCHEMAS_DIR

DEFAULT_SITES_FILE = SCHEMAS_DIR / "sites.yaml"

_SCALAR_KEYS = {
    "requests_per_second": float,
    "timeout_seconds": float,
    "retries": int,
    "backoff_seconds": float,
    "max_bytes": int,
    "max_list_pages": int,
    "max_redirects": int,
    "user_agent": str,
    "obey_robots": bool,
    "adapter": str,
    "api_page_param": str,
    "api_size_param": str,
    "discovery_depth": int,
    "max_failure_share": float,
    # Crawler limits: default from gknb.settings.limits() (schemas/limits.yaml), per site if set here.
    "request_deadline_seconds": float,
    "robots_max_bytes": int,
    "robots_timeout_seconds": float,
    "max_crawl_delay_seconds": float,
    "site_time_budget_seconds": float,
}
_LIMIT_KEYS = ("request_deadline_seconds", "robots_max_bytes", "robots_timeout_seconds",
               "max_crawl_delay_seconds", "site_time_budget_seconds")
ADAPTERS = ("auto", "trs", "hanweb", "plain")
_PATTERN_KEYS = set(LinkPatterns.__dataclass_fields__)
_SITE_KEYS = set(_SCALAR_KEYS) | {"name", "enabled", "start_urls", "allowed_hosts", "patterns"}


def load_site_file(path: Path = DEFAULT_SITES_FILE) -> tuple[dict[str, Any], list[Site]]:
    """(defaults, enabled sites) of a site list file. Another file than schemas/sites.yaml takes
    its defaults from schemas/sites.yaml, overridden key by key by its own `defaults`."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise SiteConfigError(f"{path}: cannot read the site list: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise SiteConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SiteConfigError(f"{path}: expected a mapping with `defaults` and `sites`")
    defaults = raw.get("defaults") or {}
    if Path(path).resolve() != DEFAULT_SITES_FILE.resolve():
        base = load_defaults()
        patterns = {**(base.get("patterns") or {}), **(defaults.get("patterns") or {})}
        defaults = {**base, **defaults, "patterns": patterns}
    sites = []
    for index, entry in enumerate(raw.get("sites") or []):
        where = f"{path}: sites[{index}]"
        if not isinstance(entry, dict):
            raise SiteConfigError(f"{where}: expected a mapping")
        if entry.get("enabled", True):
            sites.append(build_site(entry, defaults, where))
    return defaults, sites


def load_defaults(path: Path = DEFAULT_SITES_FILE) -> dict[str, Any]:
    return load_site_file(path)[0]


def sites_for_urls(urls: list[str], defaults: dict[str, Any] | None = None, **overrides: Any) -> list[Site]:
    """One site per start URL given on the command line, allowed on that URL's host only."""
    defaults = load_defaults() if defaults is None else defaults
    sites = []
    for url in urls:
        host = urlsplit(url).hostname
        if urlsplit(url).scheme not in ("http", "https") or not host:
            raise SiteConfigError(f"{url}: not an http(s) URL")
        entry = {"name": host, "start_urls": [url], "allowed_hosts": [host], **overrides}
        sites.append(build_site(entry, defaults, url))
    return sites


class NoSites(SiteConfigError):
    """Nothing to crawl: no start URL given and no enabled site in the list."""


def resolve_sites(urls: list[str] | None, sites_file: Path | str | None = None, **overrides: Any) -> list[Site]:
    """Start URLs (crawled with the list's defaults) or else the enabled sites of the list."""
    defaults, sites = load_site_file(Path(sites_file) if sites_file else DEFAULT_SITES_FILE)
    if urls:
        return sites_for_urls(list(urls), defaults, **overrides)
    if not sites:
        raise NoSites(f"{sites_file or DEFAULT_SITES_FILE}: no enabled site; give start URLs or enable a site")
    if overrides:
        from dataclasses import replace

        sites = [replace(site, **overrides) for site in sites]
    return sites


def build_site(entry: dict[str, Any], defaults: dict[str, Any], where: str) -> Site:
    """A Site from one entry of the list, its missing keys taken from `defaults`."""
    unknown = set(entry) - _SITE_KEYS
    if unknown:
        raise SiteConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    start_urls = entry.get("start_urls") or []
    if isinstance(start_urls, str):
        start_urls = [start_urls]
    if not start_urls:
        raise SiteConfigError(f"{where}: `start_urls` is empty")
    for url in start_urls:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise SiteConfigError(f"{where}: start URL {url!r} is not an http(s) URL")
    hosts = entry.get("allowed_hosts") or [urlsplit(u).hostname for u in start_urls]
    if isinstance(hosts, str):
        hosts = [hosts]
    scalars: dict[str, Any] = {}
    crawler_limits = _crawler_limits()
    for key, cast in _SCALAR_KEYS.items():
        value = entry.get(key, defaults.get(key))
        if value is None and key in crawler_limits:
            value = crawler_limits[key]
        if value is not None:
            if cast is bool and not isinstance(value, bool):
                raise SiteConfigError(f"{where}: `{key}` must be true or false, not {value!r}")
            try:
                scalars[key] = cast(value)
            except (TypeError, ValueError) as exc:
                raise SiteConfigError(f"{where}: `{key}` must be {cast.__name__}, not {value!r}") from exc
    if scalars.get("adapter", "auto") not in ADAPTERS:
        raise SiteConfigError(f"{where}: `adapter` must be one of {', '.join(ADAPTERS)}, not {scalars['adapter']!r}")
    if not 0 <= scalars.get("max_failure_share", 0.5) <= 1:
        raise SiteConfigError(f"{where}: `max_failure_share` must be between 0 and 1")
    if scalars.get("discovery_depth", 0) < 0:
        raise SiteConfigError(f"{where}: `discovery_depth` must be 0 or more")
    from gknb.crawl.types import origin_of

    return Site(
        name=str(entry.get("name") or urlsplit(start_urls[0]).hostname),
        start_urls=tuple(start_urls),
        allowed_hosts=frozenset(str(h).lower() for h in hosts),
        start_origins=frozenset(origin_of(u) for u in start_urls),
        patterns=_patterns({**(defaults.get("patterns") or {}), **(entry.get("patterns") or {})}, where),
        **scalars,
    )


def _crawler_limits() -> dict[str, Any]:
    """The crawler's limits from gknb.settings (schemas/limits.yaml + GKNB_LIMITS)."""
    from gknb.settings import limits

    values = limits()
    return {key: getattr(values, key) for key in _LIMIT_KEYS}


def _patterns(raw: dict[str, Any], where: str) -> LinkPatterns:
    import re

    unknown = set(raw) - _PATTERN_KEYS
    if unknown:
        raise SiteConfigError(f"{where}: unknown pattern key(s) {', '.join(sorted(unknown))}")
    values = {}
    for key, patterns in raw.items():
        patterns = [patterns] if isinstance(patterns, str) else list(patterns or [])
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise SiteConfigError(f"{where}: pattern {key} {pattern!r}: {exc}") from exc
        values[key] = tuple(patterns)
    return LinkPatterns(**values)
