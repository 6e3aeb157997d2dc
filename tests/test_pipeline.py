"""gknb.pipeline: the one route from files to a published warehouse.

Every route (gknb ingest, the crawl's loader, the Prefect ingest flow) loads the same rows and
leaves the same tables and views; rollups are fresh after every build; a document past its time
is killed and rejected as `timeout` while the batch goes on; at most `in_flight` documents are
between the pool and the loader; SIGTERM stops `gknb ingest` and its workers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "site"))
from fixture_site import isolate_prefect  # noqa: E402

isolate_prefect()  # before anything imports Prefect

from gknb.pipeline import Job, ProcessExtractor, SourceDoc, ingest  # noqa: E402
from gknb.warehouse.rollups import MATERIALISED_VIEWS  # noqa: E402
from gknb.warehouse.types import SourceInfo  # noqa: E402
from warehouse_helpers import SAMPLES, extract_or_sleep  # noqa: E402

GKNB = Path(sys.executable).parent / "gknb"
FILES = [SAMPLES / "pdf" / "hongze_2023.pdf", SAMPLES / "html" / "city_2025_rowspan.html",
         SAMPLES / "markdown" / "shanghai_office_2025.md", *sorted((SAMPLES / "seeds").glob("*.txt"))[:2]]


def _query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _objects(db: Path) -> list[tuple]:
    return _query(db, "SELECT table_name, table_type FROM information_schema.tables "
                      "WHERE table_schema = 'main' ORDER BY 1")


def _report_rows(db: Path) -> list[tuple]:
    # document_id is the location's (a path or a URL), so it differs between routes by design.
    return _query(db, "SELECT * EXCLUDE (document_id, loaded_at, load_seq) FROM reports ORDER BY report_id")


def _cell_rows(db: Path) -> list[tuple]:
    return _query(db, "SELECT * FROM cells ORDER BY report_id, section, row_key, col_key")


def _stale_rollups(db: Path) -> dict[str, int]:
    """Rows that differ between each out_* table and its view (both ways); 0 everywhere when fresh."""
    return {view: _query(db, f"SELECT count(*) FROM ((SELECT * FROM out_{view} EXCEPT ALL SELECT * FROM {view}) "
                             f"UNION ALL (SELECT * FROM {view} EXCEPT ALL SELECT * FROM out_{view}))")[0][0]
            for view in MATERIALISED_VIEWS}


def _crawl_result(folder: Path):
    """The files as a crawl would hand them over: stored raw copies with URLs and validators."""
    from gknb.crawl.types import CrawledDocument, CrawlResult, Fetch

    result, now = CrawlResult(), datetime(2026, 1, 20, 2, 0)
    for f in sorted(folder.iterdir()):
        url = f"http://127.0.0.1:8765/gknb/{f.name}"
        from gknb.pipeline import sha256_file

        sha, size = sha256_file(f)
        result.documents.append(CrawledDocument(path=f, url=url, fetched_at=now, http_status=200, etag='"e1"',
                                                last_modified=None, sha256=sha, changed=True))
        result.fetches.append(Fetch(url=url, kind="attachment", site="local", fetched_at=now, http_status=200,
                                    sha256=sha, raw_path=str(f), size=size, changed=True, attempts=1))
    return result


@pytest.mark.slow
def test_every_route_loads_the_same_rows_and_objects_and_rollups_stay_fresh(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for f in FILES:
        shutil.copyfile(f, folder / f.name)

    cli_db = tmp_path / "cli.duckdb"
    out = subprocess.run([str(GKNB), "ingest", str(folder), "--db", str(cli_db), "--no-progress"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert f"{len(FILES)} loaded" in out.stdout

    from gknb.crawl.load import ingest_crawl

    crawl_db = tmp_path / "crawl.duckdb"
    crawl_run = ingest_crawl(_crawl_result(folder), crawl_db)

    from gknb.flows.ingest import ingest as ingest_flow

    flow_db = tmp_path / "flow.duckdb"
    flow_run = ingest_flow([str(folder)], str(flow_db), workers=1, group_size=2)  # 3 group tasks

    assert crawl_run.loaded == flow_run.loaded == len(FILES)
    objects = _objects(cli_db)
    assert {name for name, _ in objects} >= {"documents", "reports", "cells", "v_cells",
                                              *MATERIALISED_VIEWS, *(f"out_{v}" for v in MATERIALISED_VIEWS)}
    assert _objects(crawl_db) == objects and _objects(flow_db) == objects
    reports, cells = _report_rows(cli_db), _cell_rows(cli_db)
    assert len(reports) == len(FILES) and len(cells) > 500
    assert _report_rows(crawl_db) == reports and _report_rows(flow_db) == reports
    assert _cell_rows(crawl_db) == cells and _cell_rows(flow_db) == cells
    # 洪泽区 2023 asked for 21 new disclosures, whichever route loaded it.
    for db in (cli_db, crawl_db, flow_db):
        assert _query(db, "SELECT new_requests FROM rollup_requests_district_year "
                          "WHERE district = '洪泽区' AND year = 2023") == [(21,)]
        assert _stale_rollups(db) == {v: 0 for v in MATERIALISED_VIEWS}
    # Each route's run row and its crawl state.
    assert _query(cli_db, "SELECT trigger, loaded FROM ingest_runs") == [("cli", len(FILES))]
    assert _query(flow_db, "SELECT trigger, loaded FROM ingest_runs") == [("flow", len(FILES))]
    assert _query(crawl_db, "SELECT count(*) FROM crawl_fetches")[0][0] == len(FILES)
    assert _query(crawl_db, "SELECT count(*) FROM documents WHERE url LIKE 'http://127.0.0.1:8765/gknb/%' "
                            "AND etag = '\"e1\"'")[0][0] == len(FILES)

    # A later `gknb ingest` into the crawled warehouse leaves no stale rollup.
    later = tmp_path / "later"
    later.mkdir()
    shutil.copyfile(SAMPLES / "pdf" / "huaian_2024.pdf", later / "huaian_2024.pdf")
    before = _query(crawl_db, "SELECT count(*) FROM out_rollup_requests_district_year")[0][0]
    out = subprocess.run([str(GKNB), "ingest", str(later), "--db", str(crawl_db), "--no-progress"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert _query(crawl_db, "SELECT count(*) FROM out_rollup_requests_district_year")[0][0] == before + 1
    assert _stale_rollups(crawl_db) == {v: 0 for v in MATERIALISED_VIEWS}


def test_a_document_past_its_time_is_killed_and_rejected_and_the_batch_goes_on(tmp_path):
    slow = tmp_path / "slow_report.txt"
    slow.write_text("sleep", encoding="utf-8")
    files = [SAMPLES / "html" / "city_2025_rowspan.html", slow, SAMPLES / "seeds" / "004_f91fd63a8d753a03.txt"]
    db = tmp_path / "w.duckdb"
    started = time.monotonic()
    with ProcessExtractor(1, timeout=5.0, extract=extract_or_sleep) as pool:
        run = ingest(files, db, extractor=pool)
    assert time.monotonic() - started < 60  # the sleeper would take 600 s
    assert (run.loaded, run.rejected) == (2, 1)
    rows = _query(db, "SELECT regexp_extract(source_path, '[^/]+$'), status, reason_kind, reason FROM documents "
                      "ORDER BY 1")
    assert [(name, status, kind) for name, status, kind, _ in rows] == [
        ("004_f91fd63a8d753a03.txt", "loaded", None), ("city_2025_rowspan.html", "loaded", None),
        ("slow_report.txt", "rejected", "timeout")]
    assert "longer than 5 s" in rows[2][3]


def test_the_pool_holds_a_bounded_window_and_keeps_input_order():
    """At most `in_flight` jobs are taken from the source before their result is handed on, so
    memory does not grow with the batch; results come back in input order."""
    taken, handed = [0], []
    files = sorted((SAMPLES / "seeds").glob("*.txt")) * 6  # 30 jobs

    def jobs():
        for f in files:
            taken[0] += 1
            yield Job(str(f), "", 0)

    most_ahead = 0
    with ProcessExtractor(2, in_flight=4) as pool:
        for doc, job in pool.map(jobs()):
            handed.append(job.path)
            most_ahead = max(most_ahead, taken[0] - len(handed))
            assert doc.ok and doc.path == job.path
    assert handed == [str(f) for f in files]
    assert most_ahead <= 4


def test_a_special_file_is_rejected_without_reading_it(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "pipe.txt")  # reading it would block forever
    shutil.copyfile(SAMPLES / "html" / "city_2025_rowspan.html", folder / "city.html")
    db = tmp_path / "w.duckdb"
    run = ingest([folder], db)
    assert (run.loaded, run.rejected) == (1, 1)
    assert _query(db, "SELECT reason_kind FROM documents WHERE source_path LIKE '%pipe.txt'") == [("special_file",)]


def test_the_run_keeps_a_bounded_sample_of_rejections(tmp_path, monkeypatch):
    import gknb.pipeline

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(7):
        (folder / f"junk_{i}.pdf").write_bytes(f"%PDF-1.4 junk {i}".encode())
    monkeypatch.setattr(gknb.pipeline, "REJECTED_SAMPLE", 3)
    db = tmp_path / "w.duckdb"
    run = ingest([folder], db, group_size=2)
    assert (run.rejected, len(run.rejected_sample), run.rejected_not_shown) == (7, 3, 4)
    # All seven are in the warehouse, where the CLI points for the rest.
    assert _query(db, f"SELECT count(*) FROM documents WHERE run_id = '{run.run_id}' AND status = 'rejected'") == [(7,)]


def test_sigterm_stops_gknb_ingest_and_its_workers(tmp_path):
    psutil = pytest.importorskip("psutil")
    folder = tmp_path / "in"
    folder.mkdir()
    for f in [*sorted((SAMPLES / "pdf").glob("*.pdf")), *sorted((SAMPLES / "webtext").glob("*.txt"))]:
        shutil.copyfile(f, folder / f.name)
    db = tmp_path / "w.duckdb"
    proc = subprocess.Popen([str(GKNB), "ingest", str(folder), "--db", str(db), "--workers", "2", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parent = psutil.Process(proc.pid)
    children: list = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        children = parent.children(recursive=True)
        if sum(1 for c in children if "spawn_main" in " ".join(_cmdline(c))) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the ingest ended before it could be signalled"
    time.sleep(0.5)
    children = parent.children(recursive=True)
    assert children  # the workers and multiprocessing's resource tracker
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], [(p.pid, _cmdline(p)) for p in alive]
    assert "Traceback" not in err
    assert not db.exists() and not list(tmp_path.glob(".w.duckdb.build-*"))  # the build was discarded


def _cmdline(p) -> list[str]:
    try:
        return p.cmdline()
    except Exception:  # noqa: BLE001 - exited meanwhile
        return []


def test_sourcedocs_are_identified_by_their_url(tmp_path):
    """Two URLs serving the same bytes: one report, the second document a duplicate."""
    f = tmp_path / "raw.html"
    shutil.copyfile(SAMPLES / "html" / "city_2025_rowspan.html", f)
    docs = [SourceDoc(f, SourceInfo(url=f"http://127.0.0.1:1/{n}.html", http_status=200)) for n in ("a", "b")]
    db = tmp_path / "w.duckdb"
    run = ingest(docs, db)
    again = ingest(docs, db)
    assert (run.loaded, run.duplicates, again.unchanged) == (1, 1, 2)
    assert _query(db, "SELECT url, status FROM documents ORDER BY url") == [
        ("http://127.0.0.1:1/a.html", "loaded"), ("http://127.0.0.1:1/b.html", "duplicate")]


@pytest.mark.slow
def test_sigterm_stops_gknb_nightly_its_workers_and_its_temporary_prefect_server(tmp_path):
    """After SIGTERM nothing of the run is left: no worker, no temporary Prefect server, no
    temporary PREFECT_HOME (issue 15.8)."""
    psutil = pytest.importorskip("psutil")
    from fixture_site import FixtureSite, sites_file

    site = FixtureSite().start()
    proc = parent = None
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update(TMPDIR=str(tmp_path), PREFECT_SERVER_ANALYTICS_ENABLED="false")
        proc = subprocess.Popen([str(GKNB), "nightly", "--sites", str(sites_file(tmp_path, site)),
                                 "--db", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "out")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        parent = psutil.Process(proc.pid)
        deadline, seen = time.monotonic() + 120, set()
        while time.monotonic() < deadline and proc.poll() is None:
            children = parent.children(recursive=True)
            seen.update(children)
            if any("uvicorn" in " ".join(_cmdline(c)) or "prefect" in " ".join(_cmdline(c)) for c in children):
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the nightly run ended before it could be signalled"
        time.sleep(2)  # the server up, the flow started
        seen.update(parent.children(recursive=True))
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        _, alive = psutil.wait_procs(list(seen), timeout=20)
        assert alive == [], [(p.pid, _cmdline(p)) for p in alive]
        assert not list(tmp_path.glob("gknb-prefect-*"))  # the temporary PREFECT_HOME is gone
        assert not list(tmp_path.glob(".w.duckdb.build-*"))
    finally:
        if proc is not None and proc.poll() is None:  # the test failed: leave nothing behind either
            for p in [parent, *parent.children(recursive=True)]:
                p.kill()
        site.stop()


def test_a_pool_in_a_task_thread_stops_on_sigterm_and_kills_its_worker(tmp_path):
    """The nightly's extraction runs in Prefect task threads, which a signal handler cannot
    interrupt: on SIGTERM (the handler sets the stop flag) such a pool stops within a second or
    two and kills its worker, rather than holding the exit until a slow document is done."""
    import threading

    import gknb.pipeline as pipeline

    slow = tmp_path / "slow_scan.txt"
    slow.write_text("sleep", encoding="utf-8")
    pool = ProcessExtractor(1, extract=extract_or_sleep)
    outcome, workers = {}, []

    def extract_in_thread():
        try:
            list(pool.map([Job(str(slow), "", 0)]))
        except BaseException as exc:  # noqa: BLE001
            outcome["error"] = exc

    thread = threading.Thread(target=extract_in_thread)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (pool._pool and pool._pool[0].ready):
            time.sleep(0.1)
        workers = [w.process.pid for w in pool._pool]
        assert workers
        pipeline._STOPPING.set()
        thread.join(15)
        assert not thread.is_alive()
    finally:
        pipeline._STOPPING.clear()
    assert isinstance(outcome.get("error"), pipeline.Stopped)
    assert pool._pool == []
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_worker_holds_the_next_document_while_it_extracts_one_and_runs_below_its_parent():
    """The next document waits in the worker's pipe (it goes on while this process loads or
    crawls), and the workers yield the CPU to the process that feeds them."""
    import os

    from gknb.pipeline import WORKER_DEPTH, WORKER_NICENESS
    from warehouse_helpers import extract_reporting_niceness

    files = sorted((SAMPLES / "seeds").glob("*.txt"))
    with ProcessExtractor(1) as pool:
        results = pool.map(Job(str(f), "", 0) for f in files)
        next(results)
        assert WORKER_DEPTH == 2 and len(pool._pool[0].slots) == WORKER_DEPTH
        assert all(doc.ok for doc, _ in results)
    with ProcessExtractor(1, extract=extract_reporting_niceness) as pool:
        (doc, _), = list(pool.map([Job(str(files[0]), "", 0)]))
    assert doc.error == f"niceness {min(os.nice(0) + WORKER_NICENESS, 19)}"


def test_a_worker_is_replaced_after_its_share_of_documents():
    """Over a long run each worker process is retired after `max_per_worker` documents (bounded
    caches, no native leak carried for 150,000 files); the documents come through all the same."""
    files = sorted((SAMPLES / "seeds").glob("*.txt"))
    pids = set()
    with ProcessExtractor(1, max_per_worker=2) as pool:
        for doc, job in pool.map(Job(str(f), "", 0) for f in files):
            assert doc.ok
            pids.update(w.process.pid for w in pool._pool)
    assert len(pids) == 3  # 5 documents, 2 per worker


def test_a_crawl_feeds_the_pipeline_while_it_goes_on_and_its_error_discards_the_build(tmp_path):
    """gknb.crawl.load.DocumentFeed: documents are extracted before the crawl has ended; a crawl
    that then fails raises in the consumer, and the warehouse being built is not published."""
    import threading
    from datetime import timezone

    from gknb.crawl.load import DocumentFeed
    from gknb.crawl.types import CrawledDocument, CrawlResult

    folder = tmp_path / "raw"
    folder.mkdir()
    docs = []
    for i in range(300):  # past the pipeline's hashing chunk (HASH_CHUNK), so a job can start
        path = folder / f"{i:03d}.txt"
        path.write_text(f"不是年报 {i}\n", encoding="utf-8")
        docs.append(CrawledDocument(path=path, url=f"http://127.0.0.1/{i:03d}.txt",
                                    fetched_at=datetime.now(timezone.utc), http_status=200, etag=None,
                                    last_modified=None, sha256="", changed=True))
    first_extracted = threading.Event()

    class Marking:
        def map(self, jobs):
            with ProcessExtractor(1) as pool:
                for result in pool.map(jobs):
                    first_extracted.set()
                    yield result

    def crawl(fails: bool):
        def run(key: str):
            for doc in docs[:280]:
                DocumentFeed.put_for(key, doc)
            assert first_extracted.wait(120), "the pipeline waited for the crawl to end"
            for doc in docs[280:]:
                DocumentFeed.put_for(key, doc)
            DocumentFeed.put_for(key, docs[0])  # handed again (a retried site): loaded once
            if fails:
                raise OSError("the raw store's disk is full")
            return CrawlResult(documents=docs)
        return run

    db = tmp_path / "w.duckdb"
    with DocumentFeed(crawl(fails=False)) as feed:
        run = ingest(feed.documents(), db, workers=1, fetches=feed.fetches, extractor=Marking())
    assert run.documents == 300 and run.rejected == 300
    assert _query(db, "SELECT count(*) FROM documents") == [(300,)]

    first_extracted.clear()
    before = db.read_bytes()
    for doc in docs:
        doc.path.write_text(doc.path.read_text(encoding="utf-8") + "改\n", encoding="utf-8")
    with pytest.raises(OSError, match="disk is full"):
        with DocumentFeed(crawl(fails=True)) as feed:
            ingest(feed.documents(), db, workers=1, fetches=feed.fetches, extractor=Marking())
    assert db.read_bytes() == before


def test_a_feed_has_begun_at_its_first_document_or_when_its_crawl_ended_without_one(tmp_path):
    """The nightly flow starts its ingest subflow once the crawl has begun to store documents."""
    import threading
    from datetime import timezone

    from gknb.crawl.load import DocumentFeed
    from gknb.crawl.types import CrawledDocument, CrawlResult

    doc = CrawledDocument(path=tmp_path / "a.html", url="http://127.0.0.1/a.html", fetched_at=datetime.now(timezone.utc),
                          http_status=200, etag=None, last_modified=None, sha256="", changed=True)
    stored = threading.Event()

    def crawl_one(key: str):
        stored.wait(30)
        DocumentFeed.put_for(key, doc)
        return CrawlResult(documents=[doc])

    with DocumentFeed(crawl_one) as feed:
        assert not feed.wait_begun(0.3)  # nothing stored yet
        stored.set()
        assert feed.wait_begun(30)
        assert [d.path for d in feed.documents()] == [doc.path]

    def crawl_broken(key: str):
        raise OSError("robots.txt unreachable")

    with DocumentFeed(crawl_broken) as feed:
        assert feed.wait_begun(30)  # ended without a document: the consumer is not left waiting
        with pytest.raises(OSError, match="unreachable"):
            list(feed.documents())
