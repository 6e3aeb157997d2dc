"""One polite HTTP GET: allow-list (scheme + host + port), robots.txt, per-host rate limit,
conditional request, redirects checked hop by hop, bounded retries with backoff, size limit, and a
whole-request deadline (issue 15.4: a per-read timeout never trips on a server that trickles one
byte a second, so a watchdog closes the connection when the deadline passes)."""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from gknb.crawl.errors import DeadlineExceeded, FetchFailed, OutsideAllowList, RobotsDisallowed, TooLarge, TooManyRedirects
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
        # No keep-alive: every request opens its own connection, so the deadline watchdog always
        # holds the socket it must close (a reused connection gives no connect event).
        self._client = client or httpx.Client(follow_redirects=False, headers={"User-Agent": user_agent},
                                              limits=httpx.Limits(max_keepalive_connections=0))
        self._owns_client = client is None
        self._limiter = limiter or HostRateLimiter()
        self._deadlines = _DeadlineClock()
        self._sleep = sleep
        self.robots = RobotsRules(self._fetch_robots_text, user_agent)

    def close(self) -> None:
        self._deadlines.stop()
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def check_allowed(self, url: str, site: Site) -> None:
        """Raises unless `url` may be requested at all: an allowed host, and robots.txt agrees."""
        parts = urlsplit(url)
        if not site.allows_url(url):
            try:
                where = f"{parts.scheme}://{parts.hostname}:{parts.port}" if parts.port else f"{parts.scheme}://{parts.hostname}"
            except ValueError:
                where = url
            raise OutsideAllowList(f"{url}: {where} is not in the allow-list of {site.name} (scheme, host and port)")
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
        return self._with_retries(lambda target: self._get_once(target, site, headers), url, site)

    def _with_retries(self, once, url: str, site: Site) -> tuple[Response, int]:
        """`once(url)` again on 5xx, 429 and timeouts with exponential backoff, at most `site.retries`
        times; returns the response and the attempts it took."""
        last_error: Exception | None = None
        for attempt in range(site.retries + 1):
            if attempt:
                self._sleep(self._backoff(site, attempt, last_error))
            try:
                response = once(url)
            except DeadlineExceeded:
                raise  # a server that trickles is not retried: it would cost the deadline again
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

    def _get_once(self, url: str, site: Site, headers: dict[str, str], *, deadline: float | None = None,
                  max_bytes: int | None = None, truncate: bool = False) -> Response:
        """One GET, whole request (connect, headers, body) bounded by `deadline` seconds. Over
        `max_bytes`: TooLarge, or (truncate) the first max_bytes."""
        host = urlsplit(url).hostname or ""
        delay = self.robots.crawl_delay(url, site) if site.obey_robots and not url.endswith("/robots.txt") else None
        if delay is not None:
            delay = min(delay, site.max_crawl_delay_seconds)  # Crawl-delay: 100000 must not stall the night
        self._limiter.wait(host, site.requests_per_second, delay)
        deadline = site.request_deadline_seconds if deadline is None else deadline
        max_bytes = site.max_bytes if max_bytes is None else max_bytes
        timeout = httpx.Timeout(min(site.timeout_seconds, deadline))
        watchdog = self._deadlines.watch(deadline)
        try:
            with self._client.stream("GET", url, headers=headers, timeout=timeout,
                                     extensions={"trace": watchdog.trace}) as raw:
                declared = raw.headers.get("content-length")
                if not truncate and declared and declared.isdigit() and int(declared) > max_bytes:
                    raise TooLarge(f"{url}: {declared} bytes, over the limit of {max_bytes}")
                chunks, size = [], 0
                if raw.status_code not in REDIRECT_STATUSES and raw.status_code != 304:
                    for chunk in raw.iter_bytes():
                        watchdog.check(url)
                        size += len(chunk)
                        if size > max_bytes:
                            if truncate:
                                chunks.append(chunk[:max_bytes - (size - len(chunk))])
                                break
                            raise TooLarge(f"{url}: over the limit of {max_bytes} bytes")
                        chunks.append(chunk)
                watchdog.check(url)
                return Response(url=url, final_url=url, status=raw.status_code, headers=raw.headers,
                                body=b"".join(chunks))
        except (httpx.HTTPError, OSError) as exc:
            if watchdog.expired:
                raise DeadlineExceeded(f"{url}: no complete answer within the deadline of {deadline:g}s") from exc
            raise
        finally:
            watchdog.cancel()

    def _backoff(self, site: Site, attempt: int, error: Exception | None) -> float:
        wait = site.backoff_seconds * 2 ** (attempt - 1)
        if isinstance(error, _StatusError):
            retry_after = error.response.headers.get("retry-after", "")
            if retry_after.isdigit():
                wait = max(wait, min(float(retry_after), MAX_RETRY_AFTER_SECONDS))
        return wait

    def _fetch_robots_text(self, url: str, site: Site) -> tuple[int | None, str]:
        """robots.txt itself: its own deadline (robots_timeout_seconds, for the whole file) and size
        (robots_max_bytes: the rest is ignored, RFC 9309 §2.5), no robots check; any failure reads
        as 'unreachable'."""
        started = time.monotonic()

        def once(target: str) -> Response:
            remaining = site.robots_timeout_seconds - (time.monotonic() - started)
            if remaining <= 0:
                raise DeadlineExceeded(f"{url}: robots.txt not read within {site.robots_timeout_seconds:g}s")
            return self._get_once(target, site, {}, deadline=remaining, max_bytes=site.robots_max_bytes, truncate=True)

        try:
            response = self._with_retries(once, url, site)[0]
            hops = 0
            while response.status in REDIRECT_STATUSES and hops < site.max_redirects:
                target = urljoin(url, response.headers.get("location", ""))
                if not site.allows_url(target):
                    return None, ""
                response = self._with_retries(once, target, site)[0]
                hops += 1
        except FetchFailed as exc:
            return exc.status, ""
        except DeadlineExceeded:
            return None, ""
        except (TooLarge, httpx.HTTPError, OSError):
            return None, ""
        return response.status, response.body.decode("utf-8", errors="replace")


class _StatusError(Exception):
    def __init__(self, response: Response):
        super().__init__(f"HTTP {response.status}")
        self.response = response


class _Watchdog:
    """Closes the request's socket when its deadline passes: a read blocked on a server that sends
    one byte a second then fails at once instead of after hours."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + max(0.0, seconds)
        self.expired = False
        self.cancelled = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()

    def trace(self, event: str, info: dict) -> None:
        """httpx/httpcore trace hook: remember the socket of the connection just opened."""
        if event == "connection.connect_tcp.complete":
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            with self._lock:
                self._socket = sock
                if self.expired:
                    self._close()

    def expire(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.expired = True
            self._close()

    def _close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def check(self, url: str) -> None:
        if self.expired or time.monotonic() > self.deadline:
            self.expired = True
            raise DeadlineExceeded(f"{url}: no complete answer within the deadline of {self.seconds:g}s")

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            self._socket = None


class _DeadlineClock:
    """One thread that expires every request's watchdog when its deadline passes. (A timer thread
    per request cost a thread start, and a wait for it, on every GET.)"""

    def __init__(self):
        self._due: list[tuple[float, int, _Watchdog]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def watch(self, seconds: float) -> _Watchdog:
        watchdog = _Watchdog(seconds)
        with self._wake:
            heapq.heappush(self._due, (watchdog.deadline, next(self._order), watchdog))
            if self._thread is None:
                self._stopped = False
                self._thread = threading.Thread(target=self._run, name="gknb-fetch-deadlines", daemon=True)
                self._thread.start()
            elif self._due[0][2] is watchdog:
                self._wake.notify()  # an earlier deadline than the one the thread sleeps towards
        return watchdog

    def _run(self) -> None:
        with self._wake:
            while not self._stopped:
                now = time.monotonic()
                while self._due and (self._due[0][0] <= now or self._due[0][2].cancelled):
                    heapq.heappop(self._due)[2].expire()
                self._wake.wait(self._due[0][0] - now if self._due else None)

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._due.clear()
            self._wake.notify()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
