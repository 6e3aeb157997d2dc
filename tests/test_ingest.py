"""gknb ingest: real documents in, rows in DuckDB out; idempotent; corrections supersede; bad files rejected."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from gknb.warehouse.errors import IngestError
from gknb.warehouse.ingest import extract_document, ingest_paths, iter_documents
from gknb.warehouse.load import load_document
from gknb.warehouse.publish import building
from gknb.warehouse.types import SourceInfo
from warehouse_helpers import SAMPLES, extracted_from_truth, samples_warehouse

TABLES = ("documents", "reports", "cells")


def _rows(db: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        order = {"documents": "document_id", "reports": "report_id",
                 "cells": "report_id, section, row_key, col_key"}[table]
        cols = {"documents": "* EXCLUDE (first_seen, run_id)", "reports": "* EXCLUDE (loaded_at)",
                "cells": "*"}[table]
        return con.execute(f"SELECT {cols} FROM {table} ORDER BY {order}").fetchall()
    finally:
        con.close()


def test_samples_load_and_broken_file_is_rejected():
    con = duckdb.connect(str(samples_warehouse()), read_only=True)
    status = dict(con.execute(
        "SELECT regexp_extract(source_path, '[^/]+$'), status FROM documents").fetchall())
    reason = con.execute("SELECT reason, reason_kind FROM documents WHERE source_path LIKE '%broken.pdf'").fetchone()
    reports = con.execute("SELECT count(*), count(DISTINCT report_id) FROM reports").fetchone()
    hongze = con.execute(
        "SELECT c.value FROM cells c JOIN reports r USING (report_id) "
        "WHERE r.agency LIKE '%洪泽区%' AND c.section = 4 AND c.row_key = 'admin_review' AND c.col_key = 'upheld'").fetchone()
    con.close()
    assert status["broken.pdf"] == "rejected"
    assert reason[0] and reason[1] == "unreadable"
    assert status["hongze_2023.pdf"] == "loaded" and status["huaian_2024.pdf"] == "loaded"
    assert status["city_2025_rowspan.html"] == "loaded"
    assert status["000_1a488c694ce6abfd.txt"] == "loaded"
    # Every sample report loaded (README.md is a document, but no report).
    assert reports[0] == reports[1] >= 12
    assert int(hongze[0]) == 10  # 行政复议 结果维持, as printed


def test_ingest_run_is_recorded():
    con = duckdb.connect(str(samples_warehouse()), read_only=True)
    run = con.execute("SELECT documents, loaded, rejected, unchanged, duplicates, workers, "
                      "extract_seconds, load_seconds, finished IS NOT NULL FROM ingest_runs").fetchall()
    docs = con.execute("SELECT count(*), count(*) FILTER (WHERE status = 'rejected') FROM documents").fetchone()
    con.close()
    assert len(run) == 1
    documents, loaded, rejected, unchanged, duplicates, workers, ext, load, finished = run[0]
    assert (documents, loaded + rejected, rejected, unchanged, duplicates) == (docs[0], docs[0], docs[1], 0, 0)
    assert workers == 2 and ext > 0 and load > 0 and finished


def test_ingesting_twice_changes_nothing(tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(samples_warehouse(), db)
    before = {t: _rows(db, t) for t in TABLES}
    inputs = Path(samples_warehouse()).parent / "inputs"
    run = ingest_paths([inputs], db, workers=1, progress=False)
    assert run.loaded == 0 and run.rejected == 0 and run.unchanged == run.documents > 10
    assert {t: _rows(db, t) for t in TABLES} == before


def test_a_correction_supersedes_and_history_stays(tmp_path):
    db = tmp_path / "w.duckdb"
    with building(db) as con:
        first = load_document(con, extracted_from_truth("hongze_2023"))
    def corrected(extraction):
        cell = extraction.cell(4, "admin_review", "total")
        cell.value, cell.raw = 11, "11"
    with building(db) as con:
        second = load_document(con, extracted_from_truth("hongze_2023", path="/reports/hongze_2023_v2.pdf", edit=corrected))
    assert first.status == second.status == "loaded"
    assert second.superseded == [first.report_id]
    con = duckdb.connect(str(db), read_only=True)
    versions = con.execute("SELECT report_id, is_current, superseded_by FROM reports ORDER BY load_seq").fetchall()
    current = con.execute("SELECT value FROM v_cells WHERE section = 4 AND row_key = 'admin_review' AND col_key = 'total'").fetchall()
    history = con.execute("SELECT is_current, value FROM v_cells_history WHERE section = 4 AND row_key = 'admin_review' "
                          "AND col_key = 'total' ORDER BY is_current").fetchall()
    con.close()
    assert versions == [(first.report_id, False, second.report_id), (second.report_id, True, None)]
    assert [int(v) for (v,) in current] == [11]
    assert [(c, int(v)) for c, v in history] == [(False, 0), (True, 11)]


def test_same_bytes_elsewhere_is_a_duplicate_and_crawl_metadata_is_kept(tmp_path):
    db = tmp_path / "w.duckdb"
    original = extracted_from_truth("huaian_2024")
    copy = extracted_from_truth("huaian_2024", path="/mirror/huaian.pdf")
    source = SourceInfo(url="http://127.0.0.1:8000/gknb/huaian.pdf", fetched_at="2025-02-01T02:00:00+08:00",
                        http_status=200, etag='"abc"', last_modified="Sat, 01 Feb 2025 00:00:00 GMT")
    with building(db) as con:
        a = load_document(con, original)
        b = load_document(con, copy, source)
        c = load_document(con, copy, source)
    assert (a.status, b.status, c.status) == ("loaded", "duplicate", "unchanged")
    assert b.report_id == a.report_id
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute("SELECT url, fetched_at, http_status, etag, last_modified FROM documents WHERE status = 'duplicate'").fetchone()
    n_reports = con.execute("SELECT count(*) FROM reports").fetchone()[0]
    con.close()
    assert row[0] == source.url and str(row[1]) == "2025-01-31 18:00:00" and row[2:] == (200, '"abc"', source.last_modified)
    assert n_reports == 1


def test_unsupported_and_corrupt_files_are_rejected_with_reason(tmp_path):
    doc = tmp_path / "old.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    db = tmp_path / "w.duckdb"
    run = ingest_paths([doc, empty, SAMPLES / "pdf" / "hongze_2023.pdf"], db, workers=1, progress=False)
    assert (run.loaded, run.rejected) == (1, 2)
    con = duckdb.connect(str(db), read_only=True)
    kinds = dict(con.execute("SELECT regexp_extract(source_path, '[^/]+$'), reason_kind FROM documents").fetchall())
    con.close()
    assert kinds == {"old.doc": "unsupported", "empty.pdf": "unreadable", "hongze_2023.pdf": None}


def test_extract_document_is_picklable_and_never_raises(tmp_path):
    import pickle

    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    good = extract_document(SAMPLES / "html" / "city_2025_rowspan.html")
    broken = extract_document(bad)
    assert good.ok and good.extraction.meta.year == 2025 and len(good.sha256) == 64
    assert not broken.ok and broken.error and broken.error_kind == "unreadable"
    assert pickle.loads(pickle.dumps(good)).extraction.cell(3, "new_requests", "total").value == \
        good.extraction.cell(3, "new_requests", "total").value


def test_walk_skips_hidden_and_jsonl_but_keeps_markdown(tmp_path):
    (tmp_path / "a.md").write_text("# x")
    (tmp_path / ".hidden.pdf").write_bytes(b"%PDF")
    (tmp_path / "log.jsonl").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.html").write_text("<html></html>")
    assert [p.name for p in iter_documents([tmp_path])] == ["a.md", "b.html"]
    with pytest.raises(IngestError):
        iter_documents([tmp_path / "nope"])


def test_cli_ingest_writes_under_the_data_directory(tmp_path):
    """GKNB_HOME names the data directory; the warehouse defaults to warehouse.duckdb inside it."""
    db = tmp_path / "home" / "warehouse.duckdb"
    env = {**os.environ, "GKNB_HOME": str(tmp_path / "home")}
    gknb = Path(sys.executable).parent / "gknb"
    out = subprocess.run([str(gknb), "ingest", str(SAMPLES / "html"), "--workers", "1", "--no-progress"],
                         capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "1 loaded" in out.stdout
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == 1
    con.close()
    missing = subprocess.run([str(gknb), "ingest", str(tmp_path / "nope")], capture_output=True, text=True, env=env,
                             timeout=60, cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_a_document_that_fails_in_duckdb_is_rejected_alone(tmp_path):
    from gknb.warehouse.load import load_documents

    def too_big(extraction):  # beyond DECIMAL(18,6): DuckDB refuses the group's insert
        cell = extraction.cell(2, "admin_fees", "amount")
        cell.status, cell.value, cell.raw = "value", 1e15, "1e15"
    items = [(extracted_from_truth("hongze_2023"), None),
             (extracted_from_truth("huaian_2024", edit=too_big), None),
             (extracted_from_truth("huaian_2024", path="/x/ok.pdf",
                                   edit=lambda e: setattr(e.meta, "year", 2023)), None)]
    db = tmp_path / "w.duckdb"
    with building(db) as con:
        outcomes = load_documents(con, items)
    assert [o.status for o in outcomes] == ["loaded", "rejected", "loaded"]
    assert outcomes[1].reason.startswith("could not be loaded")
    con = duckdb.connect(str(db), read_only=True)
    per_report = con.execute("SELECT count(*) FROM cells GROUP BY report_id ORDER BY 1").fetchall()
    rejected = con.execute("SELECT count(*) FROM documents WHERE status = 'rejected' AND report_id IS NULL").fetchone()[0]
    con.close()
    assert len(per_report) == 2 and rejected == 1  # nothing of the failed document is left half-loaded


def test_versions_in_one_batch_and_an_old_version_found_late(tmp_path):
    from gknb.warehouse.load import load_documents

    def dated(day):
        def edit(extraction):
            extraction.meta.published = day
            extraction.meta.warnings = [f"version of {day}"]
        return edit
    v1 = extracted_from_truth("huaian_2024", path="/a/v1.pdf", edit=dated("2025-01-20"))
    v2 = extracted_from_truth("huaian_2024", path="/a/v2.pdf", edit=dated("2025-02-10"))
    v0 = extracted_from_truth("huaian_2024", path="/a/v0.pdf", edit=dated("2025-01-05"))
    db = tmp_path / "w.duckdb"
    with building(db) as con:
        first = load_documents(con, [(v1, None), (v2, None)])  # a correction within one batch
    with building(db) as con:
        late = load_document(con, v0)  # an older version found later does not become current
    assert first[1].superseded == [first[0].report_id] and late.superseded == []
    con = duckdb.connect(str(db), read_only=True)
    rows = dict(con.execute("SELECT report_id, (is_current, superseded_by) FROM reports").fetchall())
    con.close()
    assert rows[first[1].report_id] == (True, None)
    assert rows[first[0].report_id] == (False, first[1].report_id)
    assert rows[late.report_id] == (False, first[1].report_id)


def test_crawl_metadata_through_ingest_paths(tmp_path):
    local = tmp_path / "raw" / "ab12.html"
    local.parent.mkdir()
    shutil.copyfile(SAMPLES / "html" / "city_2025_rowspan.html", local)
    url = "http://127.0.0.1:8765/zfxxgk/gknb/2025.html"
    db = tmp_path / "w.duckdb"
    run = ingest_paths([local], db, workers=1, progress=False, trigger="test",
                       sources={local: SourceInfo(url=url, http_status=200, etag='W/"1"')})
    again = ingest_paths([local], db, workers=1, progress=False,
                         sources={str(local): SourceInfo(url=url, http_status=304)})
    assert (run.loaded, again.unchanged) == (1, 1)
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute("SELECT url, http_status, etag, source_path FROM documents").fetchall()
    trig = con.execute("SELECT trigger FROM ingest_runs ORDER BY started").fetchall()
    con.close()
    assert row == [(url, 200, 'W/"1"', str(local.resolve()))]
    assert trig == [("test",), ("cli",)]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_that_kills_its_worker_is_rejected_and_the_rest_load(tmp_path, workers):
    """With one worker the documents sent ahead to the one that dies are extracted by the next."""
    from gknb.pipeline import Job, ProcessExtractor
    from warehouse_helpers import extract_or_crash

    crash = tmp_path / "crash.pdf"
    crash.write_bytes(b"%PDF-1.4 whatever")
    files = [SAMPLES / "html" / "city_2025_rowspan.html", crash, SAMPLES / "seeds" / "004_f91fd63a8d753a03.txt",
             SAMPLES / "seeds" / "003_8faff2b7f5fbbbed.txt"][:3 if workers == 2 else 4]
    with ProcessExtractor(workers, extract=extract_or_crash) as pool:
        got = [doc for doc, _ in pool.map(Job(str(f), "", 0) for f in files)]
    by_name = {Path(e.path).name: e for e in got}
    assert [Path(e.path).name for e in got] == [f.name for f in files]
    assert by_name["crash.pdf"].error == "extraction crashed its worker process"
    assert all(e.ok for name, e in by_name.items() if name != "crash.pdf")


def test_a_file_that_is_not_a_warehouse_is_a_clear_error(tmp_path):
    db = tmp_path / "notes.duckdb"
    db.write_text("not a database")
    gknb = Path(sys.executable).parent / "gknb"
    out = subprocess.run([str(gknb), "ingest", str(SAMPLES / "html"), "--db", str(db), "--workers", "1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.startswith("gknb ingest:") and out.stderr.count("\n") == 1
    assert db.read_text() == "not a database"


def test_an_extraction_with_every_cell_missing_is_not_a_report(tmp_path):
    def nothing_read(extraction):
        extraction.meta.agency = extraction.meta.year = None
        for c in extraction.cells:
            c.status, c.value, c.raw = "missing", None, None
    db = tmp_path / "w.duckdb"
    with building(db) as con:
        outcome = load_document(con, extracted_from_truth("huaian_2024", edit=nothing_read))
        kind = con.execute("SELECT reason_kind FROM documents").fetchone()[0]
        reports = con.execute("SELECT count(*) FROM reports").fetchone()[0]
    assert outcome.status == "rejected" and "every cell missing" in outcome.reason
    assert kind == "not_a_report" and reports == 0


def test_retry_rejected_records_a_fixed_extraction(tmp_path):
    from gknb.warehouse.load import load_documents
    from gknb.warehouse.types import ExtractedDocument

    good = extracted_from_truth("hongze_2023")
    failed = ExtractedDocument(good.path, good.sha256, good.size, "pdf", error="table not found", error_kind="not_a_report")
    db = tmp_path / "w.duckdb"
    with building(db) as con:
        first = load_documents(con, [(failed, None)])
        plain = load_documents(con, [(good, None)])  # same bytes, same place: nothing changes
        retried = load_documents(con, [(good, None)], retry_rejected=True)
        rows = con.execute("SELECT status, report_id IS NOT NULL FROM documents").fetchall()
    assert [o.status for o in first + plain + retried] == ["rejected", "unchanged", "loaded"]
    assert rows == [("loaded", True)]
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 nothing")
    ingest_paths([broken], db, workers=1, progress=False)
    again = ingest_paths([broken], db, workers=1, progress=False, retry_rejected=True)
    assert (again.unchanged, again.rejected) == (0, 1)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM documents WHERE source_path LIKE '%broken.pdf'").fetchone()[0] == 1
    con.close()


def test_cells_outside_the_template_or_twice_are_invalid(tmp_path):
    from gknb.contract import Cell

    def foreign(extraction):  # a 2019-only cell in a 2021 report
        extraction.cells.append(Cell(2, "gov_procurement", "items", "value", 3, "3", 2))
    def twice(extraction):
        extraction.cells.append(extraction.cells[0])
    db = tmp_path / "w.duckdb"
    with building(db) as con:
        a = load_document(con, extracted_from_truth("huaian_2024", edit=foreign))
        b = load_document(con, extracted_from_truth("huaian_2024", path="/b.pdf", edit=twice))
        kinds = con.execute("SELECT reason_kind FROM documents").fetchall()
    assert a.status == b.status == "rejected"
    assert "not a cell of the 2021 template" in a.reason and "reported twice" in b.reason
    assert kinds == [("invalid",), ("invalid",)]


def test_cells_missing_does_not_count_sub_rows_a_printed_other_row_stands_in_for():
    # 洪泽区 2023 prints the single 2021 （六）其他处理 row: its 21 `other_*` sub-row cells are
    # `missing` by the contract, but the table is complete.
    con = duckdb.connect(str(samples_warehouse()), read_only=True)
    try:
        missing, = con.execute(
            "SELECT cells_missing FROM reports WHERE agency LIKE '%洪泽区%' AND year = 2023"
        ).fetchone()
        truncated, = con.execute(
            "SELECT cells_missing FROM reports WHERE agency = '兴庆区民政局' AND year = 2019"
        ).fetchone()
    finally:
        con.close()
    assert missing == 0
    assert truncated > 100
