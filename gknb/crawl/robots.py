"""robots.txt, once per host and crawl, read with urllib.robotparser."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser


class RobotsRules:
    """The rules of every host seen in this crawl. `fetch_text(url, site)` returns (status, text)."""

    def __init__(self, fetch_text: Callable[[str, Any], tuple[int | None, str]], user_agent: str):
        self._fetch_text = fetch_text
        self._user_agent = user_agent
        self._parsers: dict[str, RobotFileParser] = {}
        # Origins whose robots.txt could not be read: everything there is refused, and the
        # operator must be told the site was down, not that it forbids crawling.
        self._unreachable: dict[str, str] = {}
        self._lock = threading.Lock()  # one robots.txt request per host, even with several threads

    def _parser(self, url: str, site: Any) -> RobotFileParser:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            if origin in self._parsers:
                return self._parsers[origin]
            parser = RobotFileParser(origin + "/robots.txt")
            status, text = self._fetch_text(origin + "/robots.txt", site)
            if status is not None and 200 <= status < 300:
                parser.parse(text.splitlines())
            elif status is not None and 400 <= status < 500:
                parser.allow_all = True  # no robots.txt: everything may be crawled (RFC 9309 §2.3.1.3)
            else:
                parser.disallow_all = True  # unreachable robots.txt: assume full disallow (RFC 9309 §2.3.1.4)
                self._unreachable[origin] = f"HTTP {status}" if status is not None else "no answer"
            self._parsers[origin] = parser
            return parser

    def allowed(self, url: str, site: Any) -> bool:
        return self._parser(url, site).can_fetch(self._user_agent, url)

    def unreachable(self, url: str) -> str | None:
        """Why the host's robots.txt could not be read ("HTTP 503", "no answer"), or None."""
        parts = urlsplit(url)
        return self._unreachable.get(f"{parts.scheme}://{parts.netloc}")

    def crawl_delay(self, url: str, site: Any) -> float | None:
        delay = self._parser(url, site).crawl_delay(self._user_agent)
        return float(delay) if delay is not None else None
