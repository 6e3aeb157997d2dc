"""The schedule on a real Prefect server: `gknb serve` registers the nightly deployment with its
cron and time zone, and a run triggered on the server is picked up by the serving process and
completes against the fixture site. Everything runs on 127.0.0.1 and is stopped at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "site"))
from fixture_site import FixtureSite, sites_file  # noqa: E402

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 120
RUN_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group (the server's uvicorn, the runner's flow subprocesses), then SIGKILL."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait(what: str, check, seconds: float, *logs: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists())
    pytest.fail(f"timed out after {seconds}s waiting for {what}\n{tails}")


@pytest.fixture()
def prefect_server(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GKNB_TEST_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_UI_ENABLED="false")
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"

    def healthy():
        try:
            return httpx.get(f"{api}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return server.poll() is not None and pytest.fail(f"prefect server exited:\n{log.read_text()[-3000:]}")

    try:
        _wait("the Prefect server's health", healthy, STARTUP_SECONDS, log)
        yield api, {**env, "PREFECT_API_URL": api}
    finally:
        _stop(server)


def test_serve_registers_the_nightly_cron_and_runs_a_triggered_run(prefect_server, tmp_path):
    api, env = prefect_server
    site = FixtureSite().start()
    db, out = tmp_path / "w.duckdb", tmp_path / "out"
    # Page 2 of the list only: one report, so the served run stays short.
    sites = sites_file(tmp_path, site, start="/gknb/index_1.html")
    env = {**env, "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        serve = subprocess.Popen(
            [str(BIN / "gknb"), "serve", "--cron", "0 2 * * *", "--timezone", "Asia/Shanghai",
             "--sites", str(sites), "--db", str(db), "--out", str(out)],
            env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path)
    try:
        def deployment():
            if serve.poll() is not None:
                pytest.fail(f"gknb serve exited:\n{log.read_text()[-3000:]}")
            r = httpx.get(f"{api}/deployments/name/gknb-nightly/gknb-nightly", timeout=5)
            return r.json() if r.status_code == 200 else None

        found = _wait("the deployment", deployment, STARTUP_SECONDS, log)
        (schedule,) = [s["schedule"] for s in found["schedules"]]
        assert (schedule["cron"], schedule["timezone"]) == ("0 2 * * *", "Asia/Shanghai")
        assert found["parameters"]["sites_file"] == str(sites)

        def create_run():
            # A busy server's SQLite answers 503 (database locked) for a moment: ask again.
            r = httpx.post(f"{api}/deployments/{found['id']}/create_flow_run", json={}, timeout=30)
            if r.status_code == 503:
                return None
            assert r.status_code in (200, 201), f"{r.status_code} {r.text[:500]}"
            return r.json()

        run = _wait("the server to create the flow run", create_run, 60, log)

        def finished():
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=5).json()["state"]
            return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        state = _wait("the triggered run", finished, RUN_SECONDS, log)
        assert state["type"] == "COMPLETED", f"{state}\n{log.read_text()[-3000:]}"
    finally:
        _stop(serve)
        site.stop()

    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT year FROM reports").fetchall() == [(2024,)]
    assert con.execute("SELECT trigger FROM ingest_runs").fetchall() == [("nightly",)]
    con.close()
    assert (out / "dashboard" / "index.html").exists()
    assert "/gknb/files/huaian_2024.pdf" in site.paths(200)


@pytest.mark.parametrize("args, message", [
    # The bundled site list enables no site: a deployment of it would fail every night.
    ([], "no enabled site; give start URLs or enable a site"),
    (["--url", "ftp://127.0.0.1/gknb/"], "not an http(s) URL"),
    # A schedule Prefect cannot use: one line, not a 47-line ValueError or a pydantic ValidationError.
    (["--cron", "0 25 * * *", "--url", "http://127.0.0.1/gknb/"], "--cron '0 25 * * *': not a valid cron expression"),
    (["--timezone", "Asia/Shanghia", "--url", "http://127.0.0.1/gknb/"], "--timezone 'Asia/Shanghia': not a time zone name"),
])
def test_serve_refuses_what_its_nightly_runs_could_not_crawl(tmp_path, args, message):
    # Refused before Prefect is asked anything: nothing listens on this API URL.
    env = {**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{_free_port()}/api",
           "PREFECT_HOME": str(tmp_path / "prefect")}
    done = subprocess.run([str(BIN / "gknb"), "serve", "--db", str(tmp_path / "w.duckdb"), *args],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
