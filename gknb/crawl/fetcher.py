"""One polite HTTP GET: allow-list, robots.txt, per-host rate limit, conditional request,
redirects checked hop by hop, bounded retries with backoff, size limit."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from gknb.crawl.errors import FetchFailed, OutsideAllowList, RobotsDisallowed, TooLarge, TooManyRedirects
from gknb.crawl.ratelimit import HostRateLimiter
from gknb.crawl.robots import RobotsRules
from gknb.crawl.types import PriorFetch, Site

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_RETRY_AFTER_SECONDS = 60.0


@dataclass
class Response:
    """What a fetch returned: status 304 means `body` is empty and the prior copy stands."""

    url: str
    final_url: str
    status: int
    headers: httpx.Headers
    body: bytes = b""
    attempts: int = 0
    seconds: float = 0.0
    redirects: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


class Fetcher:
    """Shares one HTTP client, one robots.txt cache and one rate limiter across a crawl."""

    def __init__(self, *, user_agent: str, client: httpx.Client | None = None,
                 limiter: HostRateLimiter | None = None, sleep=time.sleep):
        self._client = client or httpx.Client(follow_redirects=False, headers={"User-Agent": user_agent})
        self._owns_client = client is None
        self._limiter = limiter or HostRateLimiter()
        self._sleep = sleep
        self.robots = RobotsRules(self._fetch_robots_text, user_agent)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def check_allowed(self, url: str, site: Site) -> None:
        """Raises unless `url` may be requested at all: an allowed host, and robots.txt agrees."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not site.allows_host(parts.hostname):
            raise OutsideAllowList(f"{url}: host {parts.hostname!r} is not in the allow-list of {site.name}")
        if site.obey_robots:
            if not self.robots.allowed(url, site):
                why = self.robots.unreachable(url)
                if why:
                    raise RobotsDisallowed(f"{url}: robots.txt unreachable ({why}); nothing on the host is fetched (RFC 9309)")
                raise RobotsDisallowed(f"{url}: forbidden by robots.txt")

    def get(self, url: str, site: Site, prior: PriorFetch | None = None) -> Response:
        """GET `url`, following redirects inside the allow-list; conditional when `prior` has validators."""
        started = time.monotonic()
        headers = {}
        if prior is not None and prior.raw_path:
            if prior.etag:
                headers["If-None-Match"] = prior.etag
            if prior.last_modified:
                headers["If-Modified-Since"] = prior.last_modified
        current, redirects, attempts = url, [], 0
        while True:
            self.check_allowed(current, site)
            response, tries = self._get_with_retries(current, site, headers)
            attempts += tries
            if response.status in REDIRECT_STATUSES and "location" in response.headers:
                if len(redirects) >= site.max_redirects:
                    raise TooManyRedirects(f"{url}: more than {site.max_redirects} redirects")
                redirects.append(current)
                current = urljoin(current, response.headers["location"])
                continue
            response.url, response.redirects, response.attempts = url, redirects, attempts
            response.seconds = time.monotonic() - started
            if response.status >= 400:
                raise FetchFailed(f"{current}: HTTP {response.status}", status=response.status, attempts=attempts)
            return response

    def _get_with_retries(self, url: str, site: Site, headers: dict[str, str]) -> tuple[Response, int]:
        """Retries 5xx, 429 and timeouts with exponential backoff, at most `site.retries` times."""
        last_error: Exception | None = None
        for attempt in range(site.retries + 1):
            if attempt:
                self._sleep(self._backoff(site, attempt, last_error))
            try:
                response = self._get_once(url, site, headers)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last_error = exc
                continue
            if response.status in RETRY_STATUSES:
                last_error = _StatusError(response)
                continue
            return response, attempt + 1
        if isinstance(last_error, _StatusError):
            status = last_error.response.status
            raise FetchFailed(f"{url}: HTTP {status} after {site.retries + 1} attempts", status=status,
                              attempts=site.retries + 1)
        kind = "timed out" if isinstance(last_error, httpx.TimeoutException) else f"failed ({last_error})"
        raise FetchFailed(f"{url}: {kind} after {site.retries + 1} attempts", attempts=site.retries + 1)

    def _get_once(self, url: str, site: Site, headers: dict[str, str]) -> Response:
        host = urlsplit(url).hostname or ""
        delay = self.robots.crawl_delay(url, site) if site.obey_robots and not url.endswith("/robots.txt") else None
        self._limiter.wait(host, site.requests_per_second, delay)
        timeout = httpx.Timeout(site.timeout_seconds)
        with self._client.stream("GET", url, headers=headers, timeout=timeout) as raw:
            declared = raw.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > site.max_bytes:
                raise TooLarge(f"{url}: {declared} bytes, over the limit of {site.max_bytes}")
            chunks, size = [], 0
            if raw.status_code not in REDIRECT_STATUSES and raw.status_code != 304:
                for chunk in raw.iter_bytes():
                    size += len(chunk)
                    if size > site.max_bytes:
                        raise TooLarge(f"{url}: over the limit of {site.max_bytes} bytes")
                    chunks.append(chunk)
            return Response(url=url, final_url=url, status=raw.status_code, headers=raw.headers,
                            body=b"".join(chunks))

    def _backoff(self, site: Site, attempt: int, error: Exception | None) -> float:
        wait = site.backoff_seconds * 2 ** (attempt - 1)
        if isinstance(error, _StatusError):
            retry_after = error.response.headers.get("retry-after", "")
            if retry_after.isdigit():
                wait = max(wait, min(float(retry_after), MAX_RETRY_AFTER_SECONDS))
        return wait

    def _fetch_robots_text(self, url: str, site: Site) -> tuple[int | None, str]:
        """robots.txt itself: same limits, no robots check; any failure reads as 'unreachable'."""
        try:
            response, _ = self._get_with_retries(url, site, {})
            hops = 0
            while response.status in REDIRECT_STATUSES and hops < site.max_redirects:
                target = urljoin(url, response.headers.get("location", ""))
                if not site.allows_host(urlsplit(target).hostname):
                    return None, ""
                response, _ = self._get_with_retries(target, site, {})
                hops += 1
        except FetchFailed as exc:
            return exc.status, ""
        except (TooLarge, httpx.HTTPError):
            return None, ""
        return response.status, response.body.decode("utf-8", errors="replace")


class _StatusError(Exception):
    def __init__(self, response: Response):
        super().__init__(f"HTTP {response.status}")
        self.response = response
