"""`gknb nightly` against `gknb ingest` on the same files (issue 14.3), and the Dask speed-up from
1 to N local workers with the loading still single-writer (issue 14.5).

    .venv/bin/python -m bench.nightly --files 10000 [--dask-files 2000 --dask-workers 1,2]
        [--work /tmp/gknb-nightly]

The files are bench.national's generated reports in the forms a site publishes (HTML report pages,
Word and PDF attachments; no plain text, which no site links). They are served by a loopback
HTTP server in this process (127.0.0.1, no other target): `/list/NNNN.html`, one column page per
1,000 files, each linking its files as `<agency>2023年政府信息公开工作年度报告`. The site list
allows 1,000 requests a second (the politeness delay of a real site would measure the sleep, not
the pipeline).

Runs, each a `gknb` process measured like bench.national (process tree: wall, CPU, peak RSS,
bytes written), each on a fresh warehouse:
- `gknb ingest FOLDER` - the files already on disk;
- `gknb nightly --sites` - the whole night on its temporary Prefect server: crawl, extract, load,
  rollups, checks, dashboard, release;
- the same night's steps as plain commands: `gknb crawl --sites`, `gknb check`, `gknb dashboard`,
  `gknb release` (the night without Prefect);
- with --dask-files: the ingest flow (gknb.flows.ingest) on a `distributed.LocalCluster` of 1..N
  single-threaded worker processes, the parent loading alone.
Figures go to bench/results/nightly.json and nightly.md. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench import RESULTS, write_results
from bench.national import GKNB, generate, measure

FILES_PER_LIST = 1000


class _Site(SimpleHTTPRequestHandler):
    """The generated folder's files under /files/, a column page per sub-folder under /list/."""

    made_by_folder: dict[str, list[dict]] = {}
    # Keep-alive, as the web servers of real sites: with HTTP/1.0 every request cost a connection
    # and a server thread, CPU this benchmark's own server took from the night it measures.
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/robots.txt":
            return self._send(b"User-agent: *\nAllow: /\n", "text/plain")
        if self.path.startswith("/list/"):
            sub = self.path[len("/list/"):].removesuffix(".html")
            made = self.made_by_folder.get(sub)
            if made is None:
                return self.send_error(404)
            links = "\n".join(
                f'<li><a href="/files/{sub}/{Path(m["path"]).name}">{html.escape(m["agency"])}{m["year"]}'
                f'年政府信息公开工作年度报告</a></li>' for m in made)
            body = f"<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head><body><ul>{links}</ul></body></html>"
            return self._send(body.encode("utf-8"), "text/html; charset=utf-8")
        if self.path.startswith("/files/"):
            self.path = self.path[len("/files"):]
            return super().do_GET()
        self.send_error(404)

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(folder: Path, made: list[dict]) -> tuple[ThreadingHTTPServer, str]:
    by_folder: dict[str, list[dict]] = {}
    for m in made:
        by_folder.setdefault(Path(m["path"]).parent.name, []).append(m)
    handler = type("Site", (_Site,), {"made_by_folder": by_folder})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def sites_yaml(work: Path, base: str, columns: list[str]) -> Path:
    path = work / "sites.yaml"
    starts = ", ".join(f"'{base}/list/{c}.html'" for c in columns)
    path.write_text(
        "defaults:\n  requests_per_second: 1000\n  discovery_depth: 0\n"
        f"sites:\n  - name: bench\n    start_urls: [{starts}]\n    allowed_hosts: ['127.0.0.1']\n",
        encoding="utf-8")
    return path


def prefect_env(work: Path) -> dict:
    home = work / "prefect-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    return {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "60",
            "PREFECT_LOGGING_LEVEL": "WARNING"}


@contextmanager
def prefect_server(work: Path):
    """A `prefect server start` on a free loopback port, as a deployment runs the nightly under
    `gknb serve`; yields the environment that points gknb at it. Its start is not measured."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(work / "prefect-server-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_UI_ENABLED="false")
    shutil.rmtree(env["PREFECT_HOME"], ignore_errors=True)
    api = f"http://127.0.0.1:{port}/api"
    with (work / "prefect-server.log").open("wb") as log:
        server = subprocess.Popen([str(GKNB.parent / "prefect"), "server", "start", "--host", "127.0.0.1",
                                   "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not start; see {work / 'prefect-server.log'}")
            time.sleep(1)
        yield {"PREFECT_API_URL": api, "PREFECT_HOME": env["PREFECT_HOME"], "PREFECT_LOGGING_LEVEL": "WARNING"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def _fresh(work: Path, name: str) -> tuple[Path, Path, Path]:
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder / "warehouse.duckdb", folder / "raw", folder / "out"


def _loaded(db: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM reports WHERE is_current").fetchone()[0]
    finally:
        con.close()


def nightly_vs_ingest(work: Path, n: int, pdf_every: int, with_commands: bool = True) -> dict:
    folder = work / f"site_{n}"
    shutil.rmtree(folder, ignore_errors=True)
    made = generate(folder, n, ("html", "docx"), pdf_every=pdf_every)
    server, base = serve(folder, made)
    try:
        sites = sites_yaml(work, base, sorted({Path(m["path"]).parent.name for m in made}))
        res: dict = {"files": n, "pdfs": sum(m["form"] == "pdf" for m in made)}

        def ingest() -> dict:
            db, _, _ = _fresh(work, "ingest")
            m = measure([str(GKNB), "ingest", str(folder), "--db", str(db), "--no-progress"])
            m["current_reports"] = _loaded(db)
            return m

        res["ingest"] = ingest()

        def nightly(name: str, env: dict) -> dict:
            db, raw, out = _fresh(work, name)
            m = measure([str(GKNB), "nightly", "--sites", str(sites), "--db", str(db), "--raw", str(raw),
                         "--out", str(out)], env=env)
            m["current_reports"] = _loaded(db)
            manifest = json.loads((out / "releases" / "latest" / "manifest.json").read_text(encoding="utf-8"))
            m["stages"] = {k: round(v, 1) for k, v in manifest["summary"]["seconds"].items()}
            return m

        res["nightly"] = nightly("nightly", prefect_env(work))
        with prefect_server(work) as env:
            res["nightly_on_server"] = nightly("nightly-server", env)
        # Again after the nights: this machine's speed drifts by 20% over minutes (the same
        # ingest took 144 s and 179 s), so the ratios are taken against both runs' mean.
        res["ingest_again"] = ingest()

        if not with_commands:
            return _ratios(res, folder)
        db, raw, out = _fresh(work, "commands")
        steps = {
            "crawl": [str(GKNB), "crawl", "--sites", str(sites), "--db", str(db), "--raw", str(raw), "--no-progress"],
            "check": [str(GKNB), "check", "--db", str(db), "--no-progress"],
            "dashboard": [str(GKNB), "dashboard", "--db", str(db), "--out", str(out / "dashboard")],
            "release": [str(GKNB), "release", "--db", str(db), "--releases", str(out / "releases")],
        }
        res["commands"] = {step: measure(cmd) for step, cmd in steps.items()}
        res["commands_current_reports"] = _loaded(db)
    finally:
        server.shutdown()
    total = {k: round(sum(m[k] for m in res["commands"].values()), 1) for k in ("wall_seconds", "cpu_seconds")}
    res["commands_total"] = total
    res["nightly_over_commands"] = round(res["nightly"]["wall_seconds"] / total["wall_seconds"], 2)
    return _ratios(res, folder)


def _ratios(res: dict, folder: Path) -> dict:
    walls = [res[k]["wall_seconds"] for k in ("ingest", "ingest_again") if k in res]
    ingest = res["ingest_mean_wall_seconds"] = round(sum(walls) / len(walls), 2)
    res["nightly_over_ingest"] = round(res["nightly"]["wall_seconds"] / ingest, 2)
    res["nightly_on_server_over_ingest"] = round(res["nightly_on_server"]["wall_seconds"] / ingest, 2)
    stages = res["nightly"]["stages"]
    res["nightly_ingest_stage_over_ingest"] = round(
        (stages["extract (wall)"] + stages["load + rollups"]) / ingest, 2)
    shutil.rmtree(folder, ignore_errors=True)
    return res


def dask_scaling(work: Path, n: int, worker_counts: list[int], pdf_every: int) -> dict:
    """The ingest flow on a LocalCluster of k single-threaded worker processes, k in worker_counts."""
    folder = work / f"dask_{n}"
    shutil.rmtree(folder, ignore_errors=True)
    generate(folder, n, ("txt", "html", "docx"), pdf_every=pdf_every)
    runs = {}
    for k in worker_counts:
        db, _, _ = _fresh(work, f"dask{k}")
        script = (
            "from gknb.flows.settings import prepare_prefect_environment; prepare_prefect_environment(); "
            "from distributed import LocalCluster; from gknb.flows.ingest import ingest; "
            f"cluster = LocalCluster(n_workers={k}, threads_per_worker=1, processes=True, dashboard_address=None); "
            f"run = ingest([{str(folder)!r}], {str(db)!r}, dask_address=cluster.scheduler_address); "
            "print(run.summary()); cluster.close()"
        )
        m = measure([sys.executable, "-c", script], env=prefect_env(work))
        m["current_reports"] = _loaded(db)
        runs[str(k)] = m
    first = runs[str(worker_counts[0])]["wall_seconds"]
    for m in runs.values():
        m["speed_up"] = round(first / m["wall_seconds"], 2)
    shutil.rmtree(folder, ignore_errors=True)
    return {"files": n, "runs": runs}


def markdown(res: dict) -> str:
    lines = ["# `gknb nightly` against `gknb ingest`, and Dask workers", "",
             f"`.venv/bin/python -m bench.nightly` on {res['cores']} cores (Python {res['python']}), "
             f"{res['when']}; load average before {res['load_before']}, after {res['load_after']}. Each run a fresh "
             "warehouse, the default worker count; wall and CPU seconds and peak RSS of the `gknb` process tree.", ""]
    if "nightly" in res:
        r = res["nightly"]
        lines += [f"## {r['files']:,} files ({r['pdfs']} PDFs, the rest HTML pages and Word files in turn), served on 127.0.0.1", "",
                  "| run | wall s | CPU s | peak RSS MB | written MB | current reports |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
        runs = (("`gknb ingest FOLDER`", r["ingest"]),
                ("`gknb nightly --sites` (crawl → release), its temporary Prefect server", r["nightly"]),
                ("`gknb nightly --sites` on a running Prefect server (as under `gknb serve`)", r["nightly_on_server"]),
                ("`gknb ingest FOLDER` again, after the nights", r.get("ingest_again")))
        for label, m in (run for run in runs if run[1]):
            lines.append(f"| {label} | {m['wall_seconds']} | {m['cpu_seconds']} | {m['peak_rss_mb']} | {m['written_mb']} | "
                         f"{m['current_reports']:,} |")
        for step, m in r.get("commands", {}).items():
            lines.append(f"| `gknb {step}` | {m['wall_seconds']} | {m['cpu_seconds']} | {m['peak_rss_mb']} | {m['written_mb']} | |")
        if "commands" in r:
            lines.append(f"| the four commands | {r['commands_total']['wall_seconds']} | {r['commands_total']['cpu_seconds']} | | | "
                         f"{r['commands_current_reports']:,} |")
        stages = ", ".join(f"{k} {v} s" for k, v in r["nightly"]["stages"].items())
        lines += ["", f"- `gknb nightly` / `gknb ingest` (the mean of its runs, {r.get('ingest_mean_wall_seconds', r['ingest']['wall_seconds'])} s): "
                  f"**{r['nightly_over_ingest']}×** the wall time with its temporary "
                  f"Prefect server, **{r['nightly_on_server_over_ingest']}×** on a running server (the night also "
                  "crawls, checks, builds the dashboard and publishes a release).",
                  f"- its ingest stage (extract + load + rollups, inside the flow) / `gknb ingest`: "
                  f"**{r['nightly_ingest_stage_over_ingest']}×**.",
                  *([f"- `gknb nightly` / the same steps as four plain commands: **{r['nightly_over_commands']}×** "
                     "(what Prefect costs: its temporary server, task and artifact bookkeeping)."] if "commands" in r else []),
                  f"- the night's stages as the flow timed them: {stages}."]
    if "dask" in res:
        d = res["dask"]
        lines += ["", f"## Dask: the ingest flow on a LocalCluster, {d['files']:,} files (text, HTML, Word)", "",
                  "Extraction tasks (groups of 200 documents) run on the cluster's worker processes (one thread "
                  "each); the flow's process loads every group into DuckDB alone (single writer)."
                  + (f" Measured {d['when']}, in an earlier invocation." if d.get("when") else ""), "",
                  "| Dask workers | wall s | CPU s | peak RSS MB | speed-up | current reports |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: |"]
        for k, m in d["runs"].items():
            lines.append(f"| {k} | {m['wall_seconds']} | {m['cpu_seconds']} | {m['peak_rss_mb']} | {m['speed_up']}× | "
                         f"{m['current_reports']:,} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10000, help="files for nightly vs ingest (0: skip)")
    ap.add_argument("--pdf-every", type=int, default=1000)
    ap.add_argument("--no-commands", action="store_true", help="skip the night's steps as plain commands")
    ap.add_argument("--dask-files", type=int, default=0, help="files for the Dask scaling (0: skip)")
    ap.add_argument("--dask-workers", default="1,2")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "gknb-nightly"))
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"cores": os.cpu_count(), "python": platform.python_version(),
                 "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "load_before": [round(x, 1) for x in os.getloadavg()]}
    if args.files:
        res["nightly"] = nightly_vs_ingest(work, args.files, args.pdf_every, not args.no_commands)
        (work / "nightly.json").write_text(json.dumps(res, indent=2, ensure_ascii=False), encoding="utf-8")
    if args.dask_files:
        res["dask"] = dask_scaling(work, args.dask_files, [int(k) for k in args.dask_workers.split(",")],
                                   args.pdf_every)
    elif (RESULTS / "nightly.json").exists():  # keep the last Dask figures, dated
        before = json.loads((RESULTS / "nightly.json").read_text(encoding="utf-8"))
        if "dask" in before:
            res["dask"] = {"when": before.get("when"), **before["dask"]}
    res["load_after"] = [round(x, 1) for x in os.getloadavg()]
    write_results("nightly", res, markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
