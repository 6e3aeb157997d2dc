"""Checks benchmark: `gknb check` on generated warehouses of 10,000 to 150,000 reports, full and
incremental after a 1% change; wall time, CPU time and peak RSS of each run.

    .venv/bin/python -m bench.checks [--sizes 10000,50000,150000] [--work /tmp/q/bench] [--docs]

Each warehouse is written straight into DuckDB by gknb.testing.synth_warehouse (a few consistent
drawn reports, scaled, with injected defects: ~200 cells per report, 30 M cells at 150,000).
Then, each `gknb check` in its own process (measured with wait4: peak RSS of that process alone):
a full run (`--full`), 1% of the reports superseded by corrected versions
(change_synthetic_warehouse), an incremental run. Data Docs are built unless --no-docs is given
(they are part of what `gknb check` does by default). Figures go to bench/results/checks.json and
checks.md, with the machine's load average: on a shared machine the wall time depends on what
else runs; the CPU time does not. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def measure(argv: list[str]) -> dict:
    """Runs a command, returns its wall and CPU seconds, peak RSS (MB) and last output line."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{err[-2000:]}")
    return {"wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "load_before": round(load, 1),
            "load_after": round(os.getloadavg()[0], 1), "output": out.strip().splitlines()[-1:]}


def run_size(n: int, work: Path, gknb: str, docs: bool) -> dict:
    from gknb.testing.synth_warehouse import build_synthetic_warehouse, change_synthetic_warehouse

    base = work / f"synthetic_{n}.duckdb"
    if not base.exists():
        t = time.perf_counter()
        build_synthetic_warehouse(base, n, seed=0)
        built = round(time.perf_counter() - t, 1)
    else:
        built = None
    db = work / f"check_{n}.duckdb"
    shutil.copyfile(base, db)
    shutil.rmtree(work / "data_docs" / db.stem, ignore_errors=True)
    docs_args = [] if docs else ["--no-docs"]
    full = measure([gknb, "check", "--db", str(db), "--full", "--no-progress", *docs_args])
    t = time.perf_counter()
    changed = change_synthetic_warehouse(db, 0.01, seed=7)
    change_s = round(time.perf_counter() - t, 1)
    incremental = measure([gknb, "check", "--db", str(db), "--no-progress", *docs_args])
    size_mb = round(db.stat().st_size / 1e6)
    db.unlink()
    return {"reports": n, "generated_s": built, "warehouse_mb": size_mb, "full": full,
            "changed": changed, "change_s": change_s, "incremental": incremental}


def write_results(rows: list[dict], docs: bool) -> None:
    RESULTS.mkdir(exist_ok=True)
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
            "data_docs": docs, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    (RESULTS / "checks.json").write_text(json.dumps({"meta": meta, "runs": rows}, indent=1, ensure_ascii=False),
                                         encoding="utf-8")
    lines = [
        "# `gknb check` at national scale (generated warehouses)",
        "",
        f"{meta['date']}, {meta['machine']} (shared with other jobs: the load average is given; "
        f"CPU seconds do not depend on it), Python {meta['python']}, Data Docs {'built' if docs else 'skipped'}.",
        "Each run is `gknb check` in its own process; RSS is that process's peak. `bench/checks.py`.",
        "",
        "| reports | cells | run | re-checked | wall s | CPU s | peak RSS MB | load avg |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        for kind in ("full", "incremental"):
            m = r[kind]
            text = " ".join(m["output"])
            checked = r["reports"] if kind == "full" else (text.split("incremental: ")[-1].split(" ")[0]
                                                          if "incremental: " in text else "?")
            lines.append(f"| {r['reports']:,} | {r['reports'] * 200:,} | {kind}"
                         f"{' (1% = ' + str(r['changed']) + ' changed)' if kind == 'incremental' else ''} | "
                         f"{checked} | {m['wall_s']} | {m['cpu_s']} | {m['peak_rss_mb']} | "
                         f"{m['load_before']}–{m['load_after']} |")
    (RESULTS / "checks.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,150000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/gknb-bench-checks"))
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    gknb = str(Path(sys.executable).parent / "gknb")
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        rows.append(run_size(n, args.work, gknb, not args.no_docs))
        print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
        write_results(rows, not args.no_docs)


if __name__ == "__main__":
    main()
