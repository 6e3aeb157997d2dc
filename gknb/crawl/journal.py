"""Fetches recorded as they happen (issue 15.4): a crawl killed half-way keeps what it fetched.

Each fetch is appended to `<raw>/journal/<start>-<pid>.jsonl` (one JSON line, flushed) the moment
it completes; the bodies are already in the raw store. The warehouse records fetches only in the
build that loads the documents, so until then the journal is the only record. The next crawl
replays every journal it finds: a URL's journaled validators are sent as a conditional request,
a 304 reuses the stored body, and the document is handed on for loading because the warehouse
does not hold it yet. Journals are deleted once the crawl that replayed (or wrote) them is loaded.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

from gknb.crawl.types import Fetch, PriorFetch

FOLDER = "journal"


class Journal:
    def __init__(self, raw_root: Path):
        self.folder = Path(raw_root) / FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        self.path = self.folder / f"{stamp}-{os.getpid()}.jsonl"
        self._lock = threading.Lock()
        self._out = self.path.open("a", encoding="utf-8")
        self.replayed: list[Path] = []

    def append(self, fetch: Fetch) -> None:
        if fetch.error_kind is not None or not fetch.sha256:
            return
        line = json.dumps({"url": fetch.url, "etag": fetch.etag, "last_modified": fetch.last_modified,
                           "sha256": fetch.sha256, "raw_path": fetch.raw_path}, ensure_ascii=False)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def replay(self) -> dict[str, PriorFetch]:
        """The last journaled fetch of each URL in journals left by earlier crawls (killed ones)."""
        prior: dict[str, PriorFetch] = {}
        for path in sorted(self.folder.glob("*.jsonl")):
            if path == self.path:
                continue
            self.replayed.append(path)
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    row = json.loads(line)
                    prior[row["url"]] = PriorFetch(row["url"], row.get("etag"), row.get("last_modified"),
                                                   row.get("sha256"), row.get("raw_path"))
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut by the kill
        return prior

    def close(self) -> None:
        with self._lock:
            if not self._out.closed:
                self._out.close()

    def done(self) -> None:
        """The crawl's fetches are in the warehouse: forget this journal and the replayed ones."""
        self.close()
        for path in [self.path, *self.replayed]:
            path.unlink(missing_ok=True)
