"""The crawl state a second run reads: table `crawl_fetches` (one row per URL, its latest fetch),
kept in the warehouse beside `documents` (schemas/tables/crawl_fetches.yaml, sql/ddl/070_crawl_fetches.sql)."""

from __future__ import annotations

from pathlib import Path

from gknb.crawl.types import Fetch, PriorFetch

TABLE = "crawl_fetches"
COLUMNS = ("url", "kind", "site", "fetched_at", "http_status", "final_url", "etag", "last_modified",
           "content_type", "sha256", "raw_path", "size", "error_kind", "error", "attempts", "seconds",
           "agency_column_url")

def _tables(con) -> set[str]:
    return {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def read_prior(db: Path | None) -> tuple[dict[str, PriorFetch], set[str]]:
    """({url: its last successful fetch}, the sha256 of every document the warehouse already holds)."""
    if db is None or not Path(db).exists():
        return {}, set()
    from gknb.warehouse.publish import connect_readonly

    # The warehouse as published now, not a copy this process opened before the last swap.
    con = connect_readonly(db)
    try:
        tables = _tables(con)
        prior: dict[str, PriorFetch] = {}
        if TABLE in tables:
            rows = con.execute(
                f"SELECT url, etag, last_modified, sha256, raw_path FROM {TABLE} WHERE sha256 IS NOT NULL"
            ).fetchall()
            prior = {r[0]: PriorFetch(*r) for r in rows}
        known: set[str] = set()
        if "documents" in tables:
            known = {r[0] for r in con.execute("SELECT sha256 FROM documents WHERE sha256 IS NOT NULL").fetchall()}
        return prior, known
    finally:
        con.close()


# What a failed fetch updates on a URL already recorded.
ERROR_COLUMNS = ("fetched_at", "http_status", "error_kind", "error", "attempts")


def record_fetches(con, fetches: list[Fetch]) -> int:
    """Upserts this crawl's fetches into `crawl_fetches` on an open (build) connection.

    A failed fetch keeps the URL's last good validators and file, so the next run can still send a
    conditional request; it only records the error. Two bulk statements (good, then failed): one
    INSERT per fetch cost ~14 ms, minutes of a night at 10,000 URLs.
    """
    good = [f for f in fetches if f.error_kind is None and f.sha256]
    failed = [f for f in fetches if not (f.error_kind is None and f.sha256)]
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "url")
    error_updates = ", ".join(f"{c} = excluded.{c}" for c in ERROR_COLUMNS)
    _upsert(con, good, updates)
    _upsert(con, failed, error_updates)
    return len(fetches)


def _upsert(con, fetches: list[Fetch], updates: str) -> None:
    """One INSERT ... ON CONFLICT for `fetches` through Arrow. A URL fetched twice keeps its last
    fetch (one statement may not update a row twice)."""
    if not fetches:
        return
    import pyarrow as pa

    from gknb.warehouse.registry import arrow_schema

    last = {f.url: f for f in fetches}.values()
    columns = zip(*(_row(f) for f in last))
    incoming = pa.table({field.name: pa.array(column, field.type)
                         for field, column in zip(arrow_schema(TABLE, COLUMNS), columns)})
    con.register("_incoming_fetches", incoming)
    try:
        con.execute(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM _incoming_fetches "
                    f"ON CONFLICT (url) DO UPDATE SET {updates}")
    finally:
        con.unregister("_incoming_fetches")


def _row(fetch: Fetch) -> tuple:
    return tuple(fetch.column_url if c == "agency_column_url" else getattr(fetch, c) for c in COLUMNS)
