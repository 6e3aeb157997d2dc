"""The rollups' refresh on a warehouse copy: wall, CPU and peak RSS per out_* table.

    python -m bench.rollups WAREHOUSE [LABEL]     (MEMLIM=512MB to change DuckDB's memory_limit)

Runs what `gknb.pipeline.ingest` runs at the end of a build (one thread, no insertion order, the
DuckDB memory cap) view by view in one transaction, on a copy you can spare: it replaces the
out_* tables. Peak RSS is VmHWM, reset before each view (/proc/self/clear_refs), so a view's peak
includes the blocks earlier views left cached. Figures: bench/results/rollups.md. A 150,000-report
warehouse: gknb.testing.synth_warehouse.build_synthetic_warehouse(db, 150000, seed=0) (~1 min).
"""
import json, os, sys, time, resource
import duckdb
from gknb.warehouse import rollups



def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024


def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024


def reset():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")



def main(argv: list[str]) -> None:
    if not argv:  # `python -m bench` runs every benchmark with defaults; this one needs a warehouse
        print("bench.rollups: skipped (needs a warehouse copy: python -m bench.rollups DB)", file=sys.stderr)
        return
    db = argv[0]
    mode = argv[1] if len(argv) > 1 else "current"
    con = duckdb.connect(db)
    con.execute(f"SET memory_limit = '{os.environ.get('MEMLIM','1GB')}'")
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = false")
    con.execute("BEGIN")
    base = rss()
    out = {"mode": mode, "baseline_rss_mb": round(base), "views": {}}
    reports = con.execute("SELECT count(*) FROM reports WHERE is_current").fetchone()[0]
    cells = con.execute("SELECT count(*) FROM cells").fetchone()[0]
    out["reports"], out["cells"] = reports, cells
    t0, c0 = time.perf_counter(), time.process_time()
    reset()
    for view in rollups.MATERIALISED_VIEWS:
        reset()
        t, c = time.perf_counter(), time.process_time()
        try:
            # the statement refresh_rollups runs for each view
            con.execute(f"CREATE OR REPLACE TABLE out_{view} AS SELECT * FROM {view}")
            n = con.execute(f"SELECT count(*) FROM out_{view}").fetchone()[0]
            err = None
        except Exception as e:
            n, err = None, str(e).splitlines()[0][:200]
        out["views"][view] = {"rows": n, "wall_s": round(time.perf_counter() - t, 1),
                              "cpu_s": round(time.process_time() - c, 1), "peak_rss_mb": round(hwm()),
                              "error": err}
        print(view, out["views"][view], flush=True)
    con.execute("COMMIT")
    out["total_wall_s"] = round(time.perf_counter() - t0, 1)
    out["total_cpu_s"] = round(time.process_time() - c0, 1)
    out["process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
