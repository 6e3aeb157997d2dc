"""The Prefect flows, run without a Prefect server (a temporary one per test process):
`gknb nightly` against the fixture site ends loaded, checked and published; the next night
downloads only what changed and the corrected report supersedes the old; a bad document is
rejected without failing the flow."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "site"))
from fixture_site import FixtureSite, city_report_gbk, isolate_prefect, sites_file  # noqa: E402

isolate_prefect()  # before anything imports Prefect

import gknb.flows.nightly  # noqa: E402,F401  (Prefect's log handlers bind to the session's stderr, not a CliRunner's)
from gknb.cli import app  # noqa: E402

CITY = "/gknb/2026/t20260115_city.html"


@pytest.fixture(scope="module")
def site():
    server = FixtureSite().start()
    yield server
    server.stop()


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_nightly_crawls_loads_checks_and_publishes_then_fetches_only_what_changed(site, tmp_path):
    db, raw, out = tmp_path / "w.duckdb", tmp_path / "raw", tmp_path / "out"
    sites = sites_file(tmp_path, site)
    args = ["nightly", "--sites", str(sites), "--db", str(db), "--raw", str(raw), "--out", str(out), "--workers", "2"]

    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert not [r for r in site.requests if r.path.startswith("/private/")] and site.foreign_requests() == []

    reports = _rows(db, "SELECT r.year, d.url FROM reports r JOIN documents d USING (document_id) ORDER BY r.year")
    assert [(year, url.rsplit("/", 1)[-1]) for year, url in reports] == [
        (2023, "hongze_2023.pdf"), (2024, "huaian_2024.pdf"), (2025, "t20260115_city.html")]
    assert _rows(db, "SELECT count(*) FROM cells")[0][0] > 100
    # Crawl metadata reached `documents`; the state table holds every URL met.
    meta = _rows(db, "SELECT http_status, etag IS NOT NULL, last_modified IS NOT NULL, fetched_at IS NOT NULL FROM documents")
    assert meta and all(row == (200, True, True, True) for row in meta)
    assert _rows(db, "SELECT count(*) FROM crawl_fetches WHERE error_kind = 'robots'")[0][0] == 1
    # Checked: the 洪泽 report's own tables break an identity, so findings exist.
    assert _rows(db, "SELECT DISTINCT r.agency, f.check_id, f.row_key FROM dq_findings f JOIN reports r "
                     "USING (report_id) WHERE f.check_id = 'S4.row_total' AND f.row_key = 'admin_review'") == [
        ("洪泽区人民政府", "S4.row_total", "admin_review")]
    assert (out / "dashboard" / "index.html").exists()
    # Published as a dated release (gknb.warehouse.release), `latest` pointing at it.
    latest = out / "releases" / "latest"
    assert (latest / "warehouse.duckdb").exists() and (latest / "manifest.json").exists()
    run = _rows(db, "SELECT trigger, documents, loaded, rejected FROM ingest_runs")
    assert run == [("nightly", 3, 3, 0)]
    summary = json.loads((latest / "manifest.json").read_text(encoding="utf-8"))["summary"]
    (run_id, flow_run_id), = _rows(db, "SELECT run_id, flow_run_id FROM ingest_runs")
    assert summary["run_id"] == run_id and summary["flow_run_id"] == flow_run_id
    # The ingest run, the check run and the flow run are tied together in the warehouse.
    assert _rows(db, "SELECT run_id FROM dq_runs WHERE flow_run_id = ?".replace("?", f"'{flow_run_id}'")) == [
        (summary["check_run_id"],)]
    assert summary["ingest"]["loaded"] == 3 and summary["checks"]["errors"] > 0
    # Only stages that had run when it was written, each with its real time (no 0.0 placeholder).
    assert set(summary["seconds"]) == {"crawl", "extract (wall)", "load + rollups", "checks", "dashboard"}
    assert all(v > 0 for v in summary["seconds"].values())
    # What the Prefect UI shows: the run's counts as a Markdown artifact.
    artifact = _nightly_artifacts()[-1]
    assert "| reports loaded | 3 |" in artifact and "| documents rejected | 0 |" in artifact
    # One set of counters: the artifact's are the ingest_runs row's.
    (urls, requests, failures, documents, unchanged), = _rows(
        db, "SELECT urls, requests, fetch_failures, documents, unchanged FROM ingest_runs")
    for label, value in (("URLs crawled", urls), ("HTTP requests", requests), ("fetch failures", failures),
                         ("documents", documents), ("documents unchanged", unchanged)):
        assert f"| {label} | {value} |" in artifact, label

    # The next night: the city publishes a corrected report; nothing else changed.
    corrected = city_report_gbk().replace("<td>规章</td><td>3</td>".encode("gbk"), "<td>规章</td><td>4</td>".encode("gbk"))
    site.replace(CITY, corrected)
    site.requests.clear()
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    downloaded = [r.path for r in site.requests if r.status == 200 and r.path != "/robots.txt"]
    assert downloaded == [CITY]
    runs = _rows(db, "SELECT documents, loaded, unchanged, superseded FROM ingest_runs ORDER BY started")
    assert runs[-1] == (3, 1, 2, 1)  # the two unchanged reports counted as such, as the crawl saw them
    from gknb.warehouse.release import release_names

    assert len(release_names(out / "releases")) == 2
    current = _rows(db, "SELECT r.is_current, c.value FROM reports r JOIN cells c USING (report_id) "
                        "WHERE r.year = 2025 AND c.section = 2 AND c.status = 'value' AND c.value IN (3, 4) "
                        "AND c.row_key = (SELECT row_key FROM template_cells WHERE template = '2021' AND section = 2 "
                        "AND row_label LIKE '%规章%' LIMIT 1) ORDER BY r.is_current")
    assert (True, 4) in [(bool(a), int(b)) for a, b in current] and (False, 3) in [(bool(a), int(b)) for a, b in current]


def _nightly_artifacts() -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["gknb-nightly"])),
                                      sort=ArtifactSort.CREATED_DESC)
    return [a.data for a in reversed(found)]


def test_ingest_flow_rejects_a_bad_document_and_completes(samples, tmp_path):
    from gknb.flows.ingest import ingest

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n this is not a PDF body")
    seed = samples / "seeds" / "002_33e9445466d7bd01.txt"
    (folder / seed.name).write_bytes(seed.read_bytes())
    db = tmp_path / "w.duckdb"

    run = ingest([str(folder)], str(db), workers=1)

    assert (run.loaded, run.rejected) == (1, 1)
    rejected = _rows(db, "SELECT source_path, reason FROM documents WHERE status = 'rejected'")
    assert len(rejected) == 1 and rejected[0][0].endswith("broken.pdf") and rejected[0][1]
    assert _rows(db, "SELECT trigger, loaded, rejected FROM ingest_runs") == [("flow", 1, 1)]


def test_a_document_that_kills_its_worker_does_not_reject_the_documents_after_it(samples, tmp_path, monkeypatch):
    import gknb.flows.ingest as flow_ingest
    from warehouse_helpers import extract_or_crash

    crash = tmp_path / "crash.pdf"
    crash.write_bytes(b"%PDF-1.4 whatever")
    files = [samples / "html" / "city_2025_rowspan.html", crash, samples / "seeds" / "004_f91fd63a8d753a03.txt"]
    monkeypatch.setattr(flow_ingest, "_extractor", lambda: extract_or_crash)
    from gknb.pipeline import Job

    try:
        # The extract-group task's body: one group through the shared process pool.
        got = flow_ingest.extract_group.fn([Job(str(f), "", 0) for f in files], pool_workers=2)
    finally:
        flow_ingest.shutdown_pools()
    assert got[1].error == "extraction crashed its worker process"
    assert got[0].ok and got[2].ok  # the pool the crash broke was replaced


class _Receiver:
    """A webhook receiver on 127.0.0.1: keeps the JSON bodies POSTed to it."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_an_unreachable_site_fails_the_nightly_run_loudly_after_loading_the_others(site, tmp_path):
    import socket

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId, LogFilterLevel
    from prefect.client.schemas.sorting import FlowRunSort

    with socket.socket() as s:  # a port nothing listens on: the site is down
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        "defaults:\n  requests_per_second: 200\n  timeout_seconds: 1.0\n  backoff_seconds: 0.05\n  retries: 1\n"
        f"sites:\n  - name: fixture\n    start_urls: ['{site.base}/gknb/index_1.html']\n    allowed_hosts: ['127.0.0.1']\n"
        f"  - name: 已关闭的站点\n    start_urls: ['http://127.0.0.1:{dead}/gknb/']\n", encoding="utf-8")
    receiver = _Receiver()
    db, out = tmp_path / "w.duckdb", tmp_path / "out"
    try:
        done = CliRunner().invoke(app, ["nightly", "--sites", str(sites), "--db", str(db), "--out", str(out),
                                        "--workers", "1", "--notify", receiver.url])
    finally:
        receiver.stop()
    assert done.exit_code == 1, done.output
    assert "已关闭的站点" in done.output and "robots.txt unreachable" in done.output
    # What the healthy site had was loaded anyway; nothing was published.
    assert _rows(db, "SELECT r.year FROM reports r") == [(2024,)]
    assert not (out / "snapshot").exists() and not (out / "releases").exists()
    # The flow run is Failed, with an ERROR line naming the site, and its id is in ingest_runs.
    import time

    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # logs reach the server in batches
    with get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1,
                                       flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[
                                           _rows(db, "SELECT flow_run_id FROM ingest_runs")[0][0]])))
        assert run.state.is_failed() and run.name.startswith("nightly-")
        for _ in range(20):
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id]),
                                                         level=LogFilterLevel(ge_=40)))
            if any("已关闭的站点" in log.message for log in logs):
                break
            time.sleep(0.5)
    assert any("site 已关闭的站点 failed: robots.txt unreachable" in log.message for log in logs)
    # Each site's crawl wrote its table artifact (the URLs and why they failed) as it finished.
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from gknb.flows.crawl import artifact_key

    with get_client(sync_client=True) as client:
        (table,) = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[artifact_key("crawl", "已关闭的站点")])), limit=1)
    assert table.type == "table" and "FAILED: robots.txt unreachable" in table.description
    assert f"127.0.0.1:{dead}/gknb/" in str(table.data)
    # The notification reached the receiver, naming the run and the site.
    (payload,) = receiver.received
    assert payload["flow_run_id"] == str(run.id) and "已关闭的站点" in payload["failed_sites"]
    assert payload["summary"]["counters"]["loaded"] == 1


def test_only_transient_errors_are_retried():
    """A corrupt warehouse, a bad site list or a full disk (TerminalError) fails the crawl task at
    once; a timeout or a 5xx (TransientError, or an unknown error) may be retried."""
    from gknb.errors import ConfigError, EnvironmentFailure, TransientError
    from gknb.flows.crawl import transient_only
    from gknb.warehouse.errors import PublishError

    class State:
        def __init__(self, error):
            self.error = error

        def result(self):
            raise self.error

    assert not transient_only(None, None, State(PublishError("w.duckdb: not a warehouse")))
    assert not transient_only(None, None, State(ConfigError("sites.yaml: bad")))
    assert not transient_only(None, None, State(EnvironmentFailure("cannot write raw: No space left on device")))
    assert transient_only(None, None, State(TransientError("timed out")))
    assert transient_only(None, None, State(OSError("connection reset")))


def test_a_fresh_prefect_home_gets_a_migrated_database_made_once_per_prefect_version(tmp_path, monkeypatch):
    import sqlite3

    from gknb.flows.settings import seed_prefect_database

    monkeypatch.setenv("GKNB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PREFECT_API_DATABASE_CONNECTION_URL", raising=False)
    monkeypatch.delenv("PREFECT_SERVER_DATABASE_CONNECTION_URL", raising=False)
    assert seed_prefect_database(tmp_path / "night1")
    (made,) = (tmp_path / "cache").glob("prefect-*.db")
    con = sqlite3.connect(tmp_path / "night1" / "prefect.db")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
    con.close()
    assert {"flow_run", "task_run", "log"} <= tables and revision
    stamp = made.stat().st_mtime_ns
    assert seed_prefect_database(tmp_path / "night2")  # copied from the cache, not made again
    assert made.stat().st_mtime_ns == stamp
    assert not seed_prefect_database(tmp_path / "night2")  # a database there already: left alone
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://prefect@127.0.0.1/prefect")
    assert not seed_prefect_database(tmp_path / "elsewhere")  # another database configured
    assert not (tmp_path / "elsewhere").exists()


def test_gknb_nightly_in_its_own_process_runs_on_its_own_temporary_server_and_leaves_nothing(site, tmp_path):
    """A fresh `gknb nightly` starts its temporary Prefect server before it loads Prefect (gknb's
    own, not the one Prefect starts on the flow's first call), runs the night on it, and stops it."""
    import subprocess

    psutil = pytest.importorskip("psutil")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(TMPDIR=str(tmp_path), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_LEVEL="INFO")
    db = tmp_path / "w.duckdb"
    done = subprocess.run([str(Path(sys.executable).with_name("gknb")), "nightly", "--sites", str(sites_file(tmp_path, site)),
                           "--db", str(db), "--out", str(tmp_path / "out"), "--workers", "1"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "3 reports loaded" in done.stdout
    assert "Starting temporary server" not in done.stdout + done.stderr  # Prefect did not start one of its own
    assert _rows(db, "SELECT count(*) FROM reports")[0][0] == 3
    assert (tmp_path / "out" / "releases" / "latest" / "manifest.json").exists()
    assert not list(tmp_path.glob("gknb-prefect-*"))  # its PREFECT_HOME is gone
    left = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "uvicorn" in " ".join(proc.info["cmdline"] or []) and \
                    str(tmp_path) in proc.environ().get("PREFECT_HOME", ""):
                left.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    assert left == []  # and its server is stopped


def test_a_temporary_server_that_dies_at_start_is_one_error_and_none_is_started_under_a_loaded_prefect(monkeypatch):
    import subprocess

    from gknb.errors import TransientError
    from gknb.flows.settings import TemporaryPrefectServer, start_temporary_server

    server = TemporaryPrefectServer()
    server.api_url = "http://127.0.0.1:9/api"
    server.process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(TransientError, match="temporary Prefect server exited with code 3"):
        server.wait_ready(timeout=30)
    # Prefect is loaded in this process (its settings read already): it starts its own server.
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert "prefect" in sys.modules and start_temporary_server() is None
