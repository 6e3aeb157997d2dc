"""Loading one extracted document into the warehouse: one document, one transaction.

`load_document` decides what the document is to the warehouse - unchanged (same bytes at the same
location), a duplicate (same bytes elsewhere), rejected (no cells, with the reason), or a new
report - and writes it in one transaction. A new report for an agency and year that already has
one supersedes it (a correction); the old version stays, `is_current` false, as history.
"""

from __future__ import annotations

import hashlib
import time
from datetime import date, datetime, timezone

from gknb.catalog import load_catalog
from gknb.contract import Extraction
from gknb.warehouse.agency import agency_key, agency_kind
from gknb.warehouse.errors import LoadError
from gknb.warehouse.types import DocumentOutcome, ExtractedDocument, IngestRun, SourceInfo

_DOCUMENT_COLUMNS = (
    "document_id", "source_path", "url", "sha256", "size", "format", "status", "reason",
    "reason_kind", "fetched_at", "http_status", "etag", "last_modified", "first_seen",
    "report_id", "run_id",
)


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
    started = time.perf_counter()
    outcome = _load(con, extracted, source, run_id)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _load(con, extracted: ExtractedDocument, source: SourceInfo | None, run_id: str | None) -> DocumentOutcome:
    doc_id = document_id(extracted.sha256, location_of(extracted, source))
    if con.execute("SELECT 1 FROM documents WHERE document_id = ?", [doc_id]).fetchone():
        return DocumentOutcome(doc_id, "unchanged")
    known = con.execute(
        "SELECT report_id FROM documents WHERE sha256 = ? AND status = 'loaded' LIMIT 1",
        [extracted.sha256]).fetchone()
    if known:  # the same bytes were loaded from elsewhere: no second report
        _insert_document(con, doc_id, extracted, source, "duplicate", known[0], run_id)
        return DocumentOutcome(doc_id, "duplicate", report_id=known[0])
    if not extracted.ok:
        reason = extracted.error or "extraction returned nothing"
        _insert_document(con, doc_id, extracted, source, "rejected", None, run_id,
                         reason=reason, reason_kind=extracted.error_kind or "internal")
        return DocumentOutcome(doc_id, "rejected", reason=reason)
    try:
        report, cells = _report_rows(extracted.extraction, extracted.sha256, doc_id)
    except LoadError as exc:
        _insert_document(con, doc_id, extracted, source, "rejected", None, run_id,
                         reason=str(exc), reason_kind=LoadError.kind)
        return DocumentOutcome(doc_id, "rejected", reason=str(exc))
    con.execute("BEGIN TRANSACTION")
    try:
        _insert_document(con, doc_id, extracted, source, "loaded", report["report_id"], run_id)
        superseded = _insert_report(con, report)
        _insert_cells(con, cells)
        con.execute("COMMIT")
    except Exception as exc:  # a DuckDB failure on one document: undo it, record it, go on
        con.execute("ROLLBACK")
        reason = f"could not be loaded: {type(exc).__name__}: {exc}".splitlines()[0]
        _insert_document(con, doc_id, extracted, source, "rejected", None, run_id,
                         reason=reason, reason_kind="internal")
        return DocumentOutcome(doc_id, "rejected", reason=reason)
    return DocumentOutcome(doc_id, "loaded", report_id=report["report_id"], superseded=superseded)


def _timestamp(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    try:
        return _timestamp(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def _insert_document(con, doc_id, extracted, source, status, report_id, run_id, *, reason=None, reason_kind=None):
    src = source or SourceInfo()
    fmt = extracted.format
    if extracted.extraction is not None and extracted.extraction.meta.format:
        fmt = extracted.extraction.meta.format
    row = (
        doc_id, extracted.path, src.url, extracted.sha256, extracted.size, fmt, status, reason,
        reason_kind, _timestamp(src.fetched_at), src.http_status, src.etag, src.last_modified,
        utcnow(), report_id, run_id,
    )
    con.execute(f"INSERT INTO documents ({', '.join(_DOCUMENT_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(_DOCUMENT_COLUMNS))})", row)


def _published(value, warnings: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        warnings.append(f"publication date {value!r} is not an ISO date; not stored")
        return None


def _report_rows(extraction: Extraction, sha256: str, doc_id: str) -> tuple[dict, list[tuple]]:
    """The report row and its cell rows, checked against the catalog (raises LoadError)."""
    meta = extraction.meta
    if meta.template not in ("2019", "2021"):
        raise LoadError(f"no template detected (got {meta.template!r})")
    catalog = load_catalog()
    rid = report_id_for(sha256)
    seen: set[tuple] = set()
    cells = []
    for c in extraction.cells:
        entry = catalog.get(meta.template, c.section, c.row_key, c.col_key)
        if entry is None:
            raise LoadError(f"cell {c.section}/{c.row_key}/{c.col_key} is not a cell of the {meta.template} template")
        if c.key in seen:
            raise LoadError(f"cell {c.section}/{c.row_key}/{c.col_key} reported twice")
        seen.add(c.key)
        value = None if c.value is None else repr(c.value) if isinstance(c.value, float) else str(c.value)
        cells.append((rid, c.section, entry.item, c.row_key, c.col_key, c.status, value, c.raw,
                      c.page, c.confidence))
    if not cells:
        raise LoadError("the extraction holds no cells")
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
        "cells_missing": sum(1 for c in extraction.cells if c.status == "missing"),
    }
    return report, cells


def _insert_report(con, report: dict) -> list[str]:
    """Insert the report and settle which version is current; returns the reports it superseded."""
    current = None
    if report["agency_key"] and report["year"] is not None:
        current = con.execute(
            "SELECT report_id, published FROM reports WHERE agency_key = ? AND year = ? AND is_current",
            [report["agency_key"], report["year"]]).fetchone()
    is_current, superseded_by, superseded = True, None, []
    if current:
        old_id, old_published = current
        if report["published"] and old_published and report["published"] < old_published:
            # An older version found late does not replace the newer correction already loaded.
            is_current, superseded_by = False, old_id
        else:
            con.execute("UPDATE reports SET is_current = false, superseded_by = ? WHERE report_id = ?",
                        [report["report_id"], old_id])
            superseded = [old_id]
    cols = [*report, "superseded_by", "is_current", "load_seq", "loaded_at"]
    values = [*report.values(), superseded_by, is_current]
    con.execute(
        f"INSERT INTO reports ({', '.join(cols)}) VALUES ({', '.join('?' * len(values))}, "
        "nextval('report_load_seq'), ?)", [*values, utcnow()])
    return superseded


def _insert_cells(con, cells: list[tuple]) -> None:
    import pyarrow as pa

    names = ["report_id", "section", "item", "row_key", "col_key", "status", "value", "raw", "page", "confidence"]
    columns = list(zip(*cells))
    table = pa.table({
        "report_id": pa.array(columns[0], pa.string()),
        "section": pa.array(columns[1], pa.int32()),
        "item": pa.array(columns[2], pa.string()),
        "row_key": pa.array(columns[3], pa.string()),
        "col_key": pa.array(columns[4], pa.string()),
        "status": pa.array(columns[5], pa.string()),
        "value": pa.array(columns[6], pa.string()),
        "raw": pa.array(columns[7], pa.string()),
        "page": pa.array(columns[8], pa.int32()),
        "confidence": pa.array(columns[9], pa.float64()),
    })
    con.register("_incoming_cells", table)
    try:
        con.execute(
            f"INSERT INTO cells ({', '.join(names)}) SELECT report_id, section, item, row_key, col_key, "
            "status, CAST(value AS DECIMAL(18,6)), raw, page, confidence FROM _incoming_cells")
    finally:
        con.unregister("_incoming_cells")


def record_run(con, run: IngestRun) -> None:
    """Write (or update) the run's row in `ingest_runs`."""
    con.execute("DELETE FROM ingest_runs WHERE run_id = ?", [run.run_id])
    con.execute(
        "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run.run_id, run.started, run.finished, run.trigger, run.workers, run.documents, run.loaded,
         run.rejected, run.unchanged, run.duplicates, run.superseded, run.extract_seconds,
         run.load_seconds, run.wall_seconds])
