"""Per-host politeness: at most N requests a second to one host, whatever the number of threads."""

from __future__ import annotations

import threading
import time


class HostRateLimiter:
    """Spaces requests to the same host by 1/rate seconds (or robots.txt's Crawl-delay if longer)."""

    def __init__(self, clock=time.monotonic, sleep=time.sleep):
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def wait(self, host: str, requests_per_second: float, crawl_delay: float | None = None) -> float:
        """Blocks until this host may be requested again; returns the seconds waited."""
        interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        if crawl_delay:
            interval = max(interval, crawl_delay)
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay
