"""Workbench benchmark: `gknb dashboard --serve` and `--out` on a national-scale warehouse.

    .venv/bin/python -m bench.workbench [--reports 150000] [--runs 5] [--db PATH] [--keep]
                                        [--findings synthetic|checks]

Builds a synthetic warehouse of N current reports (gknb.testing.synth_warehouse: a national tree
of provinces, cities, districts and agencies, 2019-2024, ~200 cells a report), gives it check
findings, serves the workbench with uvicorn on 127.0.0.1 in this process and times, as a client
would see them (median of --runs requests, after one untimed request to the same URL, unless the
row says "cold"):

- the warehouse opened and its in-memory tables built (what the first request after a swap pays),
- the overview (first page) and each drill-down level,
- the findings page under each facet filter (province, city, district, agency, year, template,
  check, severity, cause) and with several facets at once, sorted and paged deep,
- the CSV download of one check's findings and of all findings, the Parquet download,
- a report page (its cells read from the 30 M-row cells table) and an agency page,

and then the static export (`build_dashboard`): time, files, largest page. Figures go to
bench/results/workbench.json and workbench.md.

Findings: `synthetic` (default) writes three check runs of findings straight with SQL at the rates
the checks find on the synthetic defects (~6% of reports with a finding; every finding with a real
row, column and page), so the benchmark does not depend on the checks' own speed (bench/checks.py
measures that); `checks` runs `gknb.quality.run_checks` instead (minutes and GBs at this scale).
Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

RESULTS = Path(__file__).resolve().parent / "results"

# (check_id, severity, cause, section, row_key, col_key, per-mille of reports, message)
SYNTHETIC_FINDINGS = (
    ("S4.row_total", "error", "source", 4, "admin_review", "total", 20, "行政复议: 维持 + 纠正 + 其他 + 尚未审结 ≠ 总计"),
    ("S3.balance", "error", "source", 3, "new_requests", "total", 10, "本年新收 + 上年结转 ≠ 办理结果总计 + 结转下年度"),
    ("S3.balance", "error", "source", 3, "new_requests", "natural_person", 10, "本年新收 + 上年结转 ≠ 办理结果总计 + 结转下年度"),
    ("completeness", "error", "source", 4, None, None, 10, "section 4: 15 of 15 cells missing (the whole section)"),
    ("unsettled", "warning", "extraction", 2, "admin_licensing", "decisions", 10, "printed but not settled: 行政许可51037"),
    ("timeliness", "warning", "source", None, None, None, 30, "published after the deadline"),
    ("S3.carry", "warning", "source", 3, "carried_over", "total", 10, "上年结转 ≠ last year's 结转下年度"),
)


def add_synthetic_findings(db: Path, runs: int = 3) -> dict:
    """Three check runs over the current reports (the last the current one), written with SQL."""
    from gknb.warehouse.publish import building

    with building(db) as con:
        cols = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'dq_findings'").fetchall()}
        con.execute("DELETE FROM dq_findings")
        con.execute("DELETE FROM dq_runs")
        n = con.execute("SELECT count(*) FROM reports WHERE is_current").fetchone()[0]
        for run in range(runs):
            run_id = f"bench-run-{run + 1}"
            lo = 0
            for check_id, severity, cause, section, row, col, per_mille, message in SYNTHETIC_FINDINGS:
                # Later runs find a little less: the trend improves.
                share = per_mille + (runs - 1 - run)
                hi = lo + share
                values = {"run_id": f"'{run_id}'", "report_id": "report_id", "check_id": f"'{check_id}'",
                          "severity": f"'{severity}'", "cause": f"'{cause}'",
                          "section": "NULL" if section is None else str(section),
                          "row_key": "NULL" if row is None else f"'{row}'",
                          "col_key": "NULL" if col is None else f"'{col}'",
                          "expected": "CAST(10 + hash(report_id) % 90 AS VARCHAR)",
                          "observed": "CAST(hash(report_id) % 10 AS VARCHAR)",
                          "page": "1 + CAST(hash(report_id, 'p') % 5 AS INTEGER)", "message": "'" + message.replace("'", "''") + "'"}
                use = [c for c in values if c in cols]
                con.execute(f"""INSERT INTO dq_findings ({', '.join(use)})
                                SELECT {', '.join(values[c] for c in use)} FROM reports
                                WHERE is_current AND hash(report_id, 'finding') % 1000 >= {lo}
                                  AND hash(report_id, 'finding') % 1000 < {hi}""")
                lo = hi
            errors, warnings = con.execute(
                "SELECT count(*) FILTER (WHERE severity = 'error'), count(*) FILTER (WHERE severity <> 'error') "
                "FROM dq_findings WHERE run_id = ?", [run_id]).fetchone()
            con.execute("INSERT INTO dq_runs (run_id, started, finished, checks, reports, errors, warnings) "
                        "VALUES (?, now() - INTERVAL (?) DAY, now() - INTERVAL (?) DAY, ?, ?, ?, ?)",
                        [run_id, runs - run, runs - run, 14, n, errors, warnings])
        total = con.execute("SELECT count(*) FROM dq_findings").fetchone()[0]
        current = con.execute(f"SELECT count(*) FROM dq_findings WHERE run_id = 'bench-run-{runs}'").fetchone()[0]
    return {"findings_rows_all_runs": int(total), "findings_current": int(current), "runs": runs}


class _Server:
    def __init__(self, app):
        import socket

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _url(path: str, **params) -> str:
    return path + ("?" + urlencode(params, quote_via=quote) if params else "")


def measure(client, url: str, runs: int, warm: bool = True) -> dict:
    if warm:
        client.get(url)
    times, cpu, size, status = [], [], 0, None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        r = client.get(url)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        size, status = len(r.content), r.status_code
    return {"url": url, "median_s": statistics.median(times), "max_s": max(times), "cpu_s": statistics.median(cpu),
            "bytes": size, "status": status}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None, help="warehouse to build (or reuse with --keep)")
    parser.add_argument("--keep", action="store_true", help="reuse --db if it exists")
    parser.add_argument("--findings", choices=("synthetic", "checks"), default="synthetic")
    args = parser.parse_args(argv)

    import httpx

    from gknb.quality.dashboard import build_dashboard
    from gknb.testing.synth_warehouse import build_synthetic_warehouse
    from gknb.workbench import create_app
    from gknb.workbench.query import Warehouse

    work = Path(tempfile.mkdtemp(prefix="gknb-bench-workbench-"))
    db = args.db or work / "warehouse.duckdb"
    out: dict = {"reports": args.reports, "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                      "platform": platform.platform()},
                 "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "load_before": os.getloadavg()[0]}
    if not (args.keep and db.exists()):
        t0 = time.perf_counter()
        build_synthetic_warehouse(db, args.reports, seed=0)
        out["build_warehouse_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if args.findings == "checks":
            from gknb.quality import run_checks

            run = run_checks(db, build_docs=False)
            out["findings"] = {"source": "run_checks", "errors": run.errors, "warnings": run.warnings}
        else:
            out["findings"] = {"source": "synthetic", **add_synthetic_findings(db)}
        out["findings_s"] = time.perf_counter() - t0
    out["warehouse_bytes"] = db.stat().st_size
    if "findings" not in out:  # reused warehouse: say what its findings are
        from gknb.warehouse.publish import connect_readonly

        con = connect_readonly(db)
        rows_all, runs_n, synthetic = con.execute(
            "SELECT (SELECT count(*) FROM dq_findings), (SELECT count(*) FROM dq_runs), "
            "(SELECT count(*) FROM dq_runs WHERE run_id LIKE 'bench-run-%')").fetchone()
        con.close()
        out["findings"] = {"source": "synthetic" if synthetic else "run_checks",
                           "findings_rows_all_runs": rows_all, "runs": runs_n}

    t0 = time.perf_counter()
    snap = Warehouse(db).snapshot()
    out["open_s"] = time.perf_counter() - t0
    cur = snap.cursor()
    pick = lambda sql, *params: cur.execute(sql, list(params)).fetchone()  # noqa: E731
    counts = pick("SELECT (SELECT count(*) FROM memory.main.wb_reports), (SELECT count(*) FROM memory.main.wb_findings)")
    out["current_reports"], out["current_findings"] = counts
    # The busiest district with findings, one of its agencies with errors, and that agency's report.
    province, city, district = pick("SELECT province, city, district FROM memory.main.wb_findings "
                                    "WHERE district IS NOT NULL GROUP BY ALL ORDER BY count(*) DESC LIMIT 1")
    agency_key, agency = pick("SELECT agency_key, agency FROM memory.main.wb_reports WHERE district = ? "
                              "ORDER BY errors DESC, agency_key LIMIT 1", district)
    report_id = pick("SELECT report_id FROM memory.main.wb_reports WHERE agency_key = ? ORDER BY year DESC LIMIT 1",
                     agency_key)[0]
    cur.close()
    snap.con.close()

    app = create_app(db)  # as `gknb dashboard --serve`: the warehouse is opened at start-up
    rows = []
    t0, c0 = time.perf_counter(), time.process_time()
    with _Server(app) as srv, httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=600) as client:
        first = client.get("/")
        rows.append({"what": "start-up to first page (opens the warehouse, builds the in-memory tables, serves /)",
                     "url": "/", "median_s": time.perf_counter() - t0, "max_s": None, "bytes": len(first.content),
                     "cpu_s": time.process_time() - c0, "status": first.status_code})
        # A writer publishes a new warehouse (the file swapped, as gknb.warehouse.publish does): the
        # next request notices and reads the new file.
        import shutil

        shutil.copyfile(db, db.with_name(db.name + ".swap"))
        os.replace(db.with_name(db.name + ".swap"), db)
        t0, c0 = time.perf_counter(), time.process_time()
        again = client.get("/")
        rows.append({"what": "first page after the warehouse file was swapped (reopens it)", "url": "/",
                     "median_s": time.perf_counter() - t0, "max_s": None, "bytes": len(again.content),
                     "cpu_s": time.process_time() - c0, "status": again.status_code})
        plan = [
            ("overview (first page, warm)", _url("/")),
            ("overview: province", _url("/", province=province)),
            ("overview: city", _url("/", province=province, city=city)),
            ("overview: district", _url("/", province=province, city=city, district=district)),
            ("overview: district + year", _url("/", province=province, city=city, district=district, year=2023)),
            ("findings, no filter", _url("/findings")),
            ("findings: province", _url("/findings", province=province)),
            ("findings: city", _url("/findings", city=city)),
            ("findings: district", _url("/findings", district=district)),
            ("findings: agency", _url("/findings", agency=agency)),
            ("findings: year", _url("/findings", year=2023)),
            ("findings: template", _url("/findings", template="2019")),
            ("findings: check", _url("/findings", check="S4.row_total")),
            ("findings: severity", _url("/findings", severity="warning")),
            ("findings: cause", _url("/findings", cause="extraction")),
            ("findings: agency search (q)", _url("/findings", q=agency[-6:])),
            ("findings: province + year + check + cause", _url("/findings", province=province, year=2023,
                                                                check="S4.row_total", cause="source")),
            ("findings: sorted by agency, page 200", _url("/findings", sort="agency", page=200)),
            ("findings.csv: one check", _url("/findings.csv", check="S4.row_total")),
            ("findings.csv: everything", _url("/findings.csv")),
            ("findings.parquet: everything", _url("/findings.parquet")),
            ("report page", f"/report/{quote(report_id)}"),
            ("agency page", _url("/agency", key=agency_key)),
            ("checks page", "/checks"),
        ]
        for what, url in plan:
            rows.append({"what": what, **measure(client, url, args.runs)})
            print(f"{rows[-1]['median_s']:.3f}s  {what}", flush=True)
    out["requests"] = rows

    t0 = time.perf_counter()
    index = build_dashboard(db, work / "dashboard")
    out["static_s"] = time.perf_counter() - t0
    pages = [p for p in index.parent.rglob("*.html")]
    largest = max(pages, key=lambda p: p.stat().st_size)
    out["static"] = {"files": len(pages), "bytes": sum(p.stat().st_size for p in pages),
                     "largest_bytes": largest.stat().st_size,
                     "largest": str(largest.relative_to(index.parent)),
                     "index_bytes": index.stat().st_size}
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["load_after"] = os.getloadavg()[0]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "workbench.json").write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")
    (RESULTS / "workbench.md").write_text(render(out), encoding="utf-8")
    print(render(out))
    if not args.keep and args.db is None:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def render(out: dict) -> str:
    lines = [
        "# Workbench benchmark",
        "",
        f"`python -m bench.workbench --reports {out['reports']}` on {out['date']}, "
        f"{out['machine']['cpus']} CPUs ({out['machine']['platform']}, Python {out['machine']['python']}); "
        "server: uvicorn in the benchmark's process on 127.0.0.1, client: httpx; median of the timed requests "
        "after one untimed request to the same URL. The machine is shared: 1-minute load average "
        f"{out['load_before']:.1f} before and {out['load_after']:.1f} after the run (2 cores), so these are "
        "upper bounds.",
        "",
        f"- warehouse: {out['current_reports']:,} current reports, {out['warehouse_bytes'] / 2**20:,.0f} MiB"
        + (f" (built in {out['build_warehouse_s']:.0f} s)" if "build_warehouse_s" in out else ""),
        f"- findings: {out['current_findings']:,} current"
        + (f" ({out['findings']['source']}; {out['findings'].get('findings_rows_all_runs', 0):,} rows over "
           f"{out['findings'].get('runs', 1)} runs in dq_findings)" if "findings" in out else ""),
        f"- opening the warehouse and building the in-memory tables: **{out['open_s']:.2f} s** "
        "(at start-up, and on the first request after a writer swaps the file)",
        f"- peak RSS of the process (server + client + export): {out['peak_rss_mib']:,.0f} MiB",
        "",
        "URLs of each request: bench/results/workbench.json.",
        "",
        "| request | median s | max s | CPU s (all threads) | bytes |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in out["requests"]:
        mx = "" if r["max_s"] is None else f"{r['max_s']:.3f}"
        lines.append(f"| {r['what']} | {r['median_s']:.3f} | {mx} | {r.get('cpu_s', 0):.3f} | {r['bytes']:,} |")
    s = out["static"]
    lines += [
        "",
        f"Static export (`gknb dashboard --out`): **{out['static_s']:.1f} s**, {s['files']:,} pages, "
        f"{s['bytes'] / 2**20:,.1f} MiB in all; index {s['index_bytes'] / 1024:,.0f} KB; "
        f"largest page **{s['largest_bytes'] / 1024:,.0f} KB** (`{s['largest']}`).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
