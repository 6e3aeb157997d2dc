"""Loading extracted documents into the warehouse; each document is all-or-nothing.

For every document `load_documents` decides what it is to the warehouse - unchanged (same bytes
at the same location), a duplicate (same bytes elsewhere), rejected (no cells, with the reason),
or a new report - and writes its rows. A new report for an agency and year that already has one
supersedes it (a correction); the old version stays, `is_current` false, as history.

Speed: a DuckDB commit on a file costs a WAL fsync (~7 ms here), more than extracting a text
report. So documents are written in groups (group commit): a group's rows go in as three bulk
Arrow inserts in one transaction. A document is never split across transactions; when a group
fails, it is rolled back and replayed one document per transaction, so only the document that
fails is rejected and nothing is half-loaded. `load_document` is a group of one.
"""

from __future__ import annotations

from functools import lru_cache

import hashlib
import time
from datetime import date, datetime, timezone

from gknb.catalog import load_catalog
from gknb.contract import Extraction
from gknb.warehouse.agency import agency_key, agency_kind
from gknb.warehouse.errors import LoadError
from gknb.warehouse.registry import arrow_schema, insert_columns, table
from gknb.warehouse.types import DocumentOutcome, ExtractedDocument, IngestRun, SourceInfo

# The column lists and Arrow types come from the table registry (schemas/tables/*.yaml), the one
# place they are spelled. `_document_row` yields the documents columns in this order.
DOCUMENT_COLUMNS = insert_columns("documents")
REPORT_COLUMNS = insert_columns("reports")
CELL_COLUMNS = insert_columns("cells")


def utcnow() -> datetime:
    """Now in UTC as a naive timestamp (the warehouse stores UTC without a zone)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def document_id(sha256: str, location: str) -> str:
    """The same bytes at the same place are the same document; elsewhere they are a duplicate."""
    return hashlib.sha256(f"{sha256}\n{location}".encode("utf-8")).hexdigest()[:16]


def report_id_for(sha256: str) -> str:
    return "r" + sha256[:16]


def location_of(extracted: ExtractedDocument, source: SourceInfo | None) -> str:
    return source.url if source is not None and source.url else extracted.path


def load_document(con, extracted: ExtractedDocument, source: SourceInfo | None = None,
                  *, run_id: str | None = None) -> DocumentOutcome:
    """Record one document (and its report and cells) in one transaction; never raises for a bad document."""
    return load_documents(con, [(extracted, source)], run_id=run_id)[0]


def load_documents(con, items: list[tuple[ExtractedDocument, SourceInfo | None]],
                   *, run_id: str | None = None, retry_rejected: bool = False) -> list[DocumentOutcome]:
    """Load documents in input order in one transaction; on a DuckDB error, one transaction each.

    `con` must not be inside a transaction. Returns one outcome per item; `seconds` is this
    document's share of the group's time. With `retry_rejected`, a document recorded as rejected
    at the same location is recorded again from this extraction (after an extractor fix).
    """
    if not items:
        return []
    started = time.perf_counter()
    try:
        con.execute("BEGIN TRANSACTION")
        outcomes = _load_group(con, items, run_id, retry_rejected)
        con.execute("COMMIT")
    except Exception as exc:  # noqa: BLE001 - any DuckDB failure: undo the group, isolate the document
        con.execute("ROLLBACK")
        if len(items) > 1:
            return [o for item in items
                    for o in load_documents(con, [item], run_id=run_id, retry_rejected=retry_rejected)]
        extracted, source = items[0]
        reason = f"could not be loaded: {type(exc).__name__}: {exc}".splitlines()[0][:500]
        failed = ExtractedDocument(extracted.path, extracted.sha256, extracted.size, extracted.format,
                                   error=reason, error_kind="internal")
        con.execute("BEGIN TRANSACTION")
        outcomes = _load_group(con, [(failed, source)], run_id, retry_rejected)
        con.execute("COMMIT")
    share = (time.perf_counter() - started) / len(items)
    for o, (extracted, _) in zip(outcomes, items):
        o.seconds, o.path = share, extracted.path
    return outcomes


class _Group:
    """The rows of one group, collected in Python and written as three bulk inserts."""

    def __init__(self):
        self.documents: list[tuple] = []
        self.reports: list[dict] = []
        self.cells: dict[str, list] = {name: [] for name in CELL_COLUMNS}  # columns
        self.superseded: list[tuple[str, str]] = []  # (old report_id, new report_id)


def _load_group(con, items, run_id, retry_rejected: bool = False) -> list[DocumentOutcome]:
    now = utcnow()
    ids = [document_id(e.sha256, location_of(e, s)) for e, s in items]
    if retry_rejected:
        con.execute("DELETE FROM documents WHERE status = 'rejected' AND document_id IN (SELECT unnest(?))", [ids])
    existing = {r[0] for r in con.execute(
        "SELECT document_id FROM documents WHERE document_id IN (SELECT unnest(?))", [ids]).fetchall()}
    loaded_sha = dict(con.execute(
        "SELECT sha256, any_value(report_id) FROM documents WHERE status = 'loaded' "
        "AND sha256 IN (SELECT unnest(?)) GROUP BY sha256", [[e.sha256 for e, _ in items]]).fetchall())
    group, outcomes, seen_ids = _Group(), [], set()
    for (extracted, source), doc_id in zip(items, ids):
        if doc_id in existing or doc_id in seen_ids:
            outcomes.append(DocumentOutcome(doc_id, "unchanged"))
            continue
        seen_ids.add(doc_id)
        if extracted.sha256 in loaded_sha:  # the same bytes were loaded from elsewhere: no second report
            rid = loaded_sha[extracted.sha256]
            group.documents.append(_document_row(doc_id, extracted, source, "duplicate", rid, run_id, now))
            outcomes.append(DocumentOutcome(doc_id, "duplicate", report_id=rid))
            continue
        reason, kind, rows = None, None, None
        if not extracted.ok:
            reason, kind = extracted.error or "extraction returned nothing", extracted.error_kind or "internal"
        else:
            try:
                rows = _report_rows(extracted.extraction, extracted.sha256, doc_id)
            except LoadError as exc:
                reason, kind = str(exc), exc.kind
        if rows is None:
            group.documents.append(_document_row(doc_id, extracted, source, "rejected", None, run_id, now,
                                                 reason=reason, reason_kind=kind))
            outcomes.append(DocumentOutcome(doc_id, "rejected", reason=reason))
            continue
        report, cells = rows
        group.documents.append(_document_row(doc_id, extracted, source, "loaded", report["report_id"], run_id, now))
        group.reports.append(report)
        for name, column in cells.items():
            group.cells[name].extend(column)
        loaded_sha[extracted.sha256] = report["report_id"]
        outcomes.append(DocumentOutcome(doc_id, "loaded", report_id=report["report_id"]))
    if group.reports:
        superseded = _settle_versions(con, group.reports, now)
        for o in outcomes:
            o.superseded = superseded.get(o.report_id, []) if o.status == "loaded" else []
    _write(con, group)
    return outcomes


def _settle_versions(con, reports: list[dict], now: datetime) -> dict[str, list[str]]:
    """Decide which version of each agency-year is current; mark replaced reports in the warehouse.

    The later-loaded version wins, except that a version whose printed publication date is
    earlier than the current one's (an old version found late) does not replace it.
    """
    keys = [(r["agency_key"], r["year"]) for r in reports if r["agency_key"] and r["year"] is not None]
    current: dict[tuple, tuple[str, date | None, bool]] = {}  # key -> (report_id, published, in_group)
    if keys:
        for key, year, rid, published in con.execute(
            "SELECT r.agency_key, r.year, r.report_id, r.published FROM reports r "
            "JOIN (SELECT unnest(?) AS k, unnest(?) AS y) q ON r.agency_key = q.k AND r.year = q.y "
            "WHERE r.is_current", [[k for k, _ in keys], [y for _, y in keys]]).fetchall():
            current[(key, year)] = (rid, published, False)
    seq = con.execute("SELECT coalesce(max(load_seq), 0) FROM reports").fetchone()[0]
    by_id = {r["report_id"]: r for r in reports}
    replaced_in_db: dict[str, str] = {}
    superseded: dict[str, list[str]] = {}
    for r in reports:
        seq += 1
        r.update(load_seq=seq, loaded_at=now, is_current=True, superseded_by=None)
        key = (r["agency_key"], r["year"])
        if r["agency_key"] is None or r["year"] is None:
            continue
        old = current.get(key)
        if old is not None:
            old_id, old_published, in_group = old
            if r["published"] and old_published and r["published"] < old_published:
                r.update(is_current=False, superseded_by=old_id)
                continue
            if in_group:
                by_id[old_id].update(is_current=False, superseded_by=r["report_id"])
            else:
                replaced_in_db[old_id] = r["report_id"]
            superseded.setdefault(r["report_id"], []).append(old_id)
        current[key] = (r["report_id"], r["published"], True)
    if replaced_in_db:  # one statement for the group, not one per replaced report
        con.execute(
            "UPDATE reports SET is_current = false, superseded_by = q.new_id "
            "FROM (SELECT unnest(?) AS old_id, unnest(?) AS new_id) q WHERE reports.report_id = q.old_id",
            [list(replaced_in_db), list(replaced_in_db.values())])
    return superseded


def _timestamp(value) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _document_row(doc_id, extracted, source, status, report_id, run_id, now, *, reason=None, reason_kind=None) -> tuple:
    src = source or SourceInfo()
    fmt = extracted.format
    if extracted.extraction is not None and extracted.extraction.meta.format:
        fmt = extracted.extraction.meta.format
    return (doc_id, extracted.path, src.url, extracted.sha256, extracted.size, fmt, status, reason,
            reason_kind, _timestamp(src.fetched_at), src.http_status, src.etag, src.last_modified,
            now, report_id, run_id, src.agency_column_url)


def _published(value, warnings: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        warnings.append(f"publication date {value!r} is not an ISO date; not stored")
        return None


_ITEMS: dict[str, dict[tuple[int, str, str], str]] = {}


def _template_items(template: str) -> dict[tuple[int, str, str], str]:
    """(section, row_key, col_key) -> item for every cell of a template (variants included)."""
    if not _ITEMS:
        for c in load_catalog().cells:
            _ITEMS.setdefault(c.template, {})[c.key] = c.item
    return _ITEMS.get(template, {})


@lru_cache(maxsize=1)
def _variant_rows() -> frozenset[str]:
    return frozenset(c.row_key for c in load_catalog().cells if c.role == "variant")


def _stood_in_for(cells) -> int:
    """Missing cells that a printed variant row stands in for. The contract: a 2021 report that
    prints the single （六）其他处理 row `other` has its sub-rows `other_*` missing; a complete
    table is not counted as lacking them (the `completeness` check counts the same way)."""
    variants = _variant_rows()
    printed = {(c.section, c.row_key, c.col_key) for c in cells
               if c.row_key in variants and c.status != "missing"}
    return sum(
        1 for c in cells
        if c.status == "missing"
        and any((c.section, v, c.col_key) in printed for v in variants if c.row_key.startswith(v + "_"))
    )


def _report_rows(extraction: Extraction, sha256: str, doc_id: str) -> tuple[dict, dict[str, list]]:
    """The report row and its cells as columns (CELL_COLUMNS → values), checked against the
    catalog (raises LoadError)."""
    meta = extraction.meta
    if meta.template not in ("2019", "2021"):
        raise LoadError(f"no template detected (got {meta.template!r})")
    rid = report_id_for(sha256)
    items = _template_items(meta.template)
    cells = extraction.cells
    keys = [(c.section, c.row_key, c.col_key) for c in cells]
    item_column = [items.get(key) for key in keys]
    if None in item_column or len(set(keys)) != len(keys):
        _reject_cell(keys, items, meta.template)
    if not cells:
        raise LoadError("the extraction holds no cells")
    statuses = [c.status for c in cells]
    missing = statuses.count("missing")
    if missing == len(statuses):
        # Nothing of the tables was read: a page that mentions annual reports, not a report.
        raise LoadError("no cell of the template was found in the document (every cell missing)",
                        kind="not_a_report")
    columns = {
        "report_id": [rid] * len(cells),
        "section": [k[0] for k in keys],
        "item": item_column,
        "row_key": [k[1] for k in keys],
        "col_key": [k[2] for k in keys],
        "status": statuses,
        # Exact decimal text for DuckDB's DECIMAL cast (repr keeps every digit of a float).
        "value": [None if v is None else repr(v) if isinstance(v, float) else str(v)
                  for v in (c.value for c in cells)],
        "raw": [c.raw for c in cells],
        "page": [c.page for c in cells],
        "confidence": [c.confidence for c in cells],
    }
    warnings = list(meta.warnings or [])
    report = {
        "report_id": rid,
        "agency": meta.agency,
        "agency_kind": agency_kind(meta.agency, meta.province, meta.city, meta.district),
        "agency_key": agency_key(meta.agency, meta.province, meta.city, meta.district),
        "year": meta.year,
        "template": meta.template,
        "province": meta.province,
        "city": meta.city,
        "district": meta.district,
        "adcode": meta.adcode,
        "published": _published(meta.published, warnings),
        "format": meta.format,
        "pages": meta.pages,
        "document_id": doc_id,
        "narrative_requests": meta.narrative_requests,
        "warnings": warnings,
        "cells_missing": missing - _stood_in_for(cells),
    }
    return report, columns


def _reject_cell(keys: list[tuple[int, str, str]], items: dict, template: str) -> None:
    """Raise LoadError for the first cell (in report order) outside the template or given twice."""
    seen: set[tuple[int, str, str]] = set()
    for key in keys:
        section, row_key, col_key = key
        if key not in items:
            raise LoadError(f"cell {section}/{row_key}/{col_key} is not a cell of the {template} template")
        if key in seen:
            raise LoadError(f"cell {section}/{row_key}/{col_key} reported twice")
        seen.add(key)


def _write(con, group: _Group) -> None:
    """Three bulk inserts through Arrow (per-row INSERTs cost ~1.5 ms each)."""
    import pyarrow as pa

    if group.documents:
        cols = list(zip(*group.documents))
        schema = arrow_schema("documents", DOCUMENT_COLUMNS)
        _insert(con, "documents", DOCUMENT_COLUMNS,
                pa.table({f.name: pa.array(c, f.type) for f, c in zip(schema, cols)}))
    if group.reports:
        schema = arrow_schema("reports", REPORT_COLUMNS)
        _insert(con, "reports", REPORT_COLUMNS, pa.table({
            f.name: pa.array([r.get(f.name) for r in group.reports], f.type) for f in schema}))
    if group.cells["report_id"]:
        # value goes in as exact decimal text and is cast to the registry's DECIMAL in SQL
        schema = arrow_schema("cells", CELL_COLUMNS, overrides={"value": pa.string()})
        _insert(con, "cells", CELL_COLUMNS,
                pa.table({f.name: pa.array(group.cells[f.name], f.type) for f in schema}),
                casts={"value": f"CAST(value AS {table('cells').column('value').type})"})


def _insert(con, table: str, columns, arrow_table, casts: dict[str, str] | None = None) -> None:
    casts = casts or {}
    select = ", ".join(casts.get(c, c) for c in columns)
    name = f"_incoming_{table}"
    con.register(name, arrow_table)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {name}")
    finally:
        con.unregister(name)


def record_run(con, run: IngestRun) -> None:
    """Write (or update) the run's row in `ingest_runs`."""
    con.execute("DELETE FROM ingest_runs WHERE run_id = ?", [run.run_id])
    columns = insert_columns("ingest_runs")  # the IngestRun fields of the same names
    con.execute(f"INSERT INTO ingest_runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [getattr(run, c) for c in columns])
