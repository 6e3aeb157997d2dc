"""The loader alone: memory of `load_documents` over a long batch, by DuckDB memory cap.

    .venv/bin/python -m bench.loader [--reports 60000] [--caps 512MB,64MB]

Extraction is left out (it runs in other processes): a few hundred generated reports are
extracted once, then loaded again and again as distinct reports (each copy its own bytes, agency
and document id), 1,024 to a commit as `gknb.pipeline` loads them, into a fresh warehouse through
`publish.building`, one process per cap. Every 10 groups it records the process's RSS and what
DuckDB says it holds (`duckdb_memory()`). Figures: bench/results/loader.json and loader.md.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import write_results
GROUP = 1024
# Suffixes that make each copy's agency its own (digits would be cut by the title parser).
_SUFFIX = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"


def _rss_mb() -> int:
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
    return 0


def _name(i: int) -> str:
    s = ""
    while True:
        s += _SUFFIX[i % len(_SUFFIX)]
        i //= len(_SUFFIX)
        if not i:
            return s


def measure(cap: str, reports: int, sources: Path) -> dict:
    """In this process: load `reports` copies of the extracted `sources` under `cap`."""
    from gknb.pipeline import extract_document
    from gknb.warehouse.load import load_documents
    from gknb.warehouse.publish import building

    base = [d for d in (extract_document(p) for p in sorted(sources.rglob("*.*"))) if d.ok]
    samples, started = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, building(Path(tmp) / "w.duckdb", fresh=True) as con:
        con.execute(f"SET memory_limit = '{cap}'")
        con.execute("SET threads = 1")
        for g in range(reports // GROUP):
            items = []
            for k in range(GROUP):
                i = g * GROUP + k
                doc = copy.copy(base[i % len(base)])
                doc.sha256 = hashlib.sha256(str(i).encode()).hexdigest()
                doc.path = f"/bench/{i}.txt"
                doc.extraction = copy.copy(doc.extraction)
                doc.extraction.meta = copy.copy(doc.extraction.meta)
                doc.extraction.meta.agency += _name(i) + "街道办事处"
                items.append((doc, None))
            load_documents(con, items, run_id="bench")
            if g % 10 == 9:
                duck = con.execute("SELECT sum(memory_usage_bytes) // 1048576 FROM duckdb_memory()").fetchone()[0]
                samples.append({"reports": (g + 1) * GROUP, "rss_mb": _rss_mb(), "duckdb_mb": int(duck),
                                "seconds": round(time.perf_counter() - started, 1)})
                print(cap, samples[-1], flush=True)
    return {"cap": cap, "base_reports": len(base), "samples": samples}


def markdown(res: dict) -> str:
    lines = ["# The loader's memory by DuckDB cap", "",
             f"`python -m bench.loader --reports {res['reports']}` on {res['cores']} cores, {res['when']}. "
             "Extracted reports loaded again as distinct reports, 1,024 a commit, one process per cap; "
             "RSS of that process and DuckDB's own count of its memory, every 10,240 reports.", ""]
    for run in res["runs"]:
        lines += [f"## memory_limit {run['cap']}", "", "| reports | RSS MB | DuckDB MB | seconds |",
                  "| ---: | ---: | ---: | ---: |"]
        lines += [f"| {s['reports']:,} | {s['rss_mb']} | {s['duckdb_mb']} | {s['seconds']} |" for s in run["samples"]]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=60000)
    ap.add_argument("--caps", default="512MB,64MB")
    ap.add_argument("--one", nargs=2, metavar=("CAP", "SOURCES"), help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(measure(args.one[0], args.reports, Path(args.one[1]))))
        return
    from bench.national import generate

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp) / "sources", 300, ("txt", "html"))
        runs = []
        for cap in args.caps.split(","):
            out = subprocess.run([sys.executable, "-m", "bench.loader", "--reports", str(args.reports),
                                  "--one", cap, str(Path(tmp) / "sources")],
                                 capture_output=True, text=True, check=True).stdout
            runs.append(json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:]))
    res = {"reports": args.reports, "cores": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "runs": runs}
    write_results("loader", res, markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
