"""How the flows run: a Prefect server or a temporary local one, and where extraction runs.

Nothing here imports Prefect; `prepare_prefect_environment` must run before Prefect is imported.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gknb.errors import TransientError

DASK_ADDRESS_ENV = "GKNB_DASK_ADDRESS"
WORKERS_ENV = "GKNB_EXTRACT_WORKERS"
CRAWL_CONCURRENCY_ENV = "GKNB_CRAWL_CONCURRENCY"
EXTRACT_TAG = "gknb-extract"   # `prefect concurrency-limit create gknb-extract N` caps extraction across runs
NETWORK_TAG = "gknb-network"
CACHE_DIR_ENV = "GKNB_CACHE_DIR"  # where the migrated Prefect database is kept (default ~/.cache/gknb)


def prepare_prefect_environment() -> str | None:
    """With no PREFECT_API_URL, flows start a temporary Prefect server: give it its own PREFECT_HOME
    (a fresh temporary folder unless the user set one), no analytics, no block registration, and
    time enough to start on a busy machine. Returns the PREFECT_HOME used, or None when a server is configured."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    if not os.environ.get("PREFECT_HOME"):
        home = tempfile.mkdtemp(prefix="gknb-prefect-")
        os.environ["PREFECT_HOME"] = home
        # Registered before Prefect's own exit hook, so it runs after the temporary server stopped.
        atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "60")
    # gknb's flows use no Prefect blocks: registering every block type in a fresh database is a
    # few CPU seconds of each night's temporary server start (bench/results/prefect_start.md).
    os.environ.setdefault("PREFECT_API_BLOCKS_REGISTER_ON_START", "false")
    seed_prefect_database(Path(os.environ["PREFECT_HOME"]))
    return os.environ["PREFECT_HOME"]


class PrefectServerFailed(TransientError):
    """The run's temporary Prefect server did not come up (a busy machine, a port taken)."""


# What Prefect gives its own temporary server (prefect.server.api.server.SubprocessASGIServer):
# no UI, only the services a temporary server runs.
TEMPORARY_SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


class TemporaryPrefectServer:
    """Prefect's temporary server on 127.0.0.1, started by gknb before it imports Prefect and the
    flows instead of on the flow's first API call: the server's start (its own process) and the
    run's imports then go on at once. `PREFECT_API_URL` points at it; stopped at exit."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.api_url = ""

    def start(self) -> TemporaryPrefectServer:
        import socket

        with socket.socket() as probe:  # a free port; uvicorn binds it a moment later
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.api_url = f"http://127.0.0.1:{port}/api"
        from importlib.util import find_spec  # where Prefect is, without importing it

        packages = Path(find_spec("prefect").origin).parent.parent
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(packages), "--factory", "prefect.server.api.server:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, **TEMPORARY_SERVER_ENV})
        atexit.register(self.stop)  # after the run, before PREFECT_HOME is removed (registered earlier)
        os.environ["PREFECT_API_URL"] = self.api_url
        return self

    def wait_ready(self, timeout: float | None = None) -> None:
        """Returns once the server answers /health; PrefectServerFailed if it exits or takes longer
        than PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS."""
        import time
        import urllib.error
        import urllib.request

        timeout = timeout or float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS") or 60)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise PrefectServerFailed(f"the temporary Prefect server exited with code {code} before it answered")
            try:
                with opener.open(f"{self.api_url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise PrefectServerFailed(f"the temporary Prefect server did not answer at {self.api_url} within {timeout:g} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def start_temporary_server() -> TemporaryPrefectServer | None:
    """In a process that has not imported Prefect and has no PREFECT_API_URL: its temporary Prefect
    server, started now (call `wait_ready()` before the flow). None otherwise: a configured server
    is used, or Prefect, already loaded, starts its own on the flow's first call."""
    if os.environ.get("PREFECT_API_URL") or "prefect" in sys.modules:
        return None
    return TemporaryPrefectServer().start()


def seed_prefect_database(home: Path) -> bool:
    """Give a PREFECT_HOME without a database an empty one already migrated to this Prefect
    version, so its temporary server does not run every migration at each start (half of the
    start, bench/results/prefect_start.md). The migrated database is made once per Prefect version
    (`prefect server database upgrade`) and kept in the cache folder. False when nothing was
    copied: a database there already, another database configured, or no migrated copy."""
    if any(os.environ.get(f"PREFECT_{part}_DATABASE_CONNECTION_URL") for part in ("API", "SERVER")):
        return False
    target = home / "prefect.db"
    if target.exists():
        return False
    template = migrated_prefect_database()
    if template is None:
        return False
    return _copy_whole(template, target)  # else the server migrates a database of its own


def migrated_prefect_database() -> Path | None:
    """The cached empty Prefect database of the installed Prefect version, made if missing; None
    if it cannot be made (the server then migrates its own database, as without the cache)."""
    from importlib.metadata import version

    root = os.environ.get(CACHE_DIR_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "gknb")
    path = Path(root) / f"prefect-{version('prefect')}.db"
    if path.exists():
        return path
    prefect = Path(sys.executable).parent / "prefect"
    with tempfile.TemporaryDirectory(prefix="gknb-prefect-db-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update(PREFECT_HOME=scratch, PREFECT_SERVER_ANALYTICS_ENABLED="false")
        try:
            done = subprocess.run([str(prefect), "server", "database", "upgrade", "-y"], env=env,
                                  capture_output=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired):
            return None
        made = Path(scratch) / "prefect.db"
        if done.returncode != 0 or not made.exists():
            return None
        # two runs making it at once: the last one's copy, both whole
        return path if _copy_whole(made, path) else None


def _copy_whole(source: Path, target: Path) -> bool:
    """Copies `source` to `target` through a temporary name beside it, so `target` is never seen
    half written; False (and no temporary file left) if the machine refused."""
    from gknb.warehouse.publish import unique_temp

    part = unique_temp(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, part)
        os.replace(part, target)
    except OSError:
        part.unlink(missing_ok=True)
        return False
    return True


def current_flow_run_id() -> str | None:
    """The Prefect flow run this code runs in (the root run: gknb-nightly, not its ingest subflow),
    or None: without importing Prefect when it is not loaded already (gknb ingest and gknb crawl
    never load it)."""
    import sys

    if "prefect" not in sys.modules:
        return None
    try:
        from prefect.runtime import flow_run

        run_id = flow_run.root_flow_run_id or flow_run.id
    except Exception:  # noqa: BLE001 - outside a run, or a Prefect without the runtime module
        return None
    return str(run_id) if run_id else None


@dataclass(frozen=True)
class ExtractionPlacement:
    """Where the extract tasks run: a Dask cluster (address), or threads of this process that each
    hand one document to a pool of `workers` local processes."""

    dask_address: str | None
    workers: int

    @property
    def on_dask(self) -> bool:
        return bool(self.dask_address)


def extraction_placement(workers: int | None = None, dask_address: str | None = None) -> ExtractionPlacement:
    address = dask_address or os.environ.get(DASK_ADDRESS_ENV) or None
    if workers is None:
        from gknb.pipeline import default_workers  # GKNB_EXTRACT_WORKERS, else the measured default

        workers = default_workers()
    return ExtractionPlacement(address, max(1, workers))


def extract_task_runner(placement: ExtractionPlacement):
    """The task runner of the extract subflow: prefect-dask's DaskTaskRunner on a configured
    scheduler, else a thread pool as wide as the process pool (so `workers` documents at a time)."""
    if placement.on_dask:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=placement.dask_address)
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=placement.workers)


def crawl_task_runner():
    """Sites crawled side by side: GKNB_CRAWL_CONCURRENCY threads (default 8). Each host keeps its
    own rate limit, so more threads mean more hosts at once, never more load on one host."""
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=max(1, int(os.environ.get(CRAWL_CONCURRENCY_ENV) or 8)))
