"""Ingest benchmark: 1,000 generated reports on 2 cores; documents/s and loading vs extraction.

    .venv/bin/python -m bench.ingest [--n 1000] [--workers 2] [--forms html,txt]

Generates reports with known values (gknb.testing.synth: HTML and plain text, the cheapest forms
to extract, so the loading share is measured against the fastest extraction we have), ingests
them into a fresh warehouse with `ingest_paths`, ingests them again (every file unchanged), and
checks the loaded numbers against the generator's. Figures go to bench/results/ingest.json and
ingest.md. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from bench import write_results



def generate_reports(folder: Path, n: int, forms: tuple[str, ...]) -> list:
    from gknb.testing.synth import draw_report, write_html, write_text

    writers = {"html": write_html, "txt": write_text}
    made = []
    for i in range(n):
        template = ("2019", "2021")[i % 2]
        rep = draw_report(10_000 + i, template)
        form = forms[i % len(forms)]
        path = writers[form](rep, folder / f"synth_{i:05d}.{form}")
        made.append((rep, path))
    return made


def check_values(db: Path, made: list) -> dict:
    """How many current reports carry exactly the generator's new_requests and total_processed."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    got = {Path(p).name: (n, t) for p, n, t in con.execute(
        "SELECT d.source_path, q.new_requests, q.total_processed FROM documents d "
        "JOIN v_report_requests q ON q.report_id = d.report_id WHERE d.status = 'loaded'"
    ).fetchall()}
    con.close()
    right = sum(1 for rep, path in made if got.get(path.name) == (
        rep.new_requests, int(rep.values[(3, "total_processed", "total")])))
    return {"current_reports_checked": len(got), "current_reports_exact": right}


def separate_phases(paths: list[Path], db: Path) -> dict:
    """Extraction and loading of the same documents one after the other in this process, so the
    share of loading is measured without the extraction workers competing for the same 2 cores."""
    from gknb.warehouse.ingest import GROUP_SIZE, extract_document
    from gknb.warehouse.load import load_documents
    from gknb.warehouse.publish import building

    t, c = time.perf_counter(), time.process_time()
    extracted = [extract_document(p) for p in paths]
    extract_wall, extract_cpu = time.perf_counter() - t, time.process_time() - c
    with building(db) as con:
        load_documents(con, [(e, None) for e in extracted[:8]])  # warm-up: imports, first group
        rest = extracted[8:]
        t, c = time.perf_counter(), time.process_time()
        for i in range(0, len(rest), GROUP_SIZE):
            load_documents(con, [(e, None) for e in rest[i:i + GROUP_SIZE]])
        load_wall, load_cpu = time.perf_counter() - t, time.process_time() - c
    n, m = len(extracted), max(1, len(rest))
    return {
        "documents": n,
        "extract_ms_per_document": round(1000 * extract_wall / n, 2),
        "extract_cpu_ms_per_document": round(1000 * extract_cpu / n, 2),
        "load_ms_per_document": round(1000 * load_wall / m, 3),
        "load_cpu_ms_per_document": round(1000 * load_cpu / m, 3),
        "load_share_of_extraction": round((load_wall / m) / (extract_wall / n), 4),
    }


def run(n: int, workers: int, forms: tuple[str, ...], phase_n: int = 300) -> dict:
    from gknb.warehouse.ingest import ingest_paths

    with tempfile.TemporaryDirectory(prefix="gknb-bench-") as tmp:
        folder = Path(tmp) / "reports"
        folder.mkdir()
        t = time.perf_counter()
        made = generate_reports(folder, n, forms)
        generate_s = time.perf_counter() - t
        db = Path(tmp) / "warehouse.duckdb"
        first = ingest_paths([folder], db, workers=workers, progress=False, trigger="bench")
        second = ingest_paths([folder], db, workers=workers, progress=False, trigger="bench")
        values = check_values(db, made)
        phases = separate_phases([p for _, p in made[:phase_n]], Path(tmp) / "phases.duckdb")
        size = db.stat().st_size
    return {
        "reports": n,
        "forms": list(forms),
        "workers": workers,
        "cores": os.cpu_count(),
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
        "python": platform.python_version(),
        "generate_seconds": round(generate_s, 2),
        "first_run": _figures(first),
        "second_run_unchanged": _figures(second),
        "warehouse_bytes": size,
        **values,
        "separate_phases": phases,
    }


def _figures(r) -> dict:
    return {
        "documents": r.documents, "loaded": r.loaded, "rejected": r.rejected, "unchanged": r.unchanged,
        "superseded": r.superseded,
        "wall_seconds": round(r.wall_seconds, 2),
        "documents_per_second": round(r.documents / r.wall_seconds, 1),
        "extract_seconds_total": round(r.extract_seconds, 2),
        "extract_ms_per_document": round(1000 * r.extract_seconds / max(1, r.loaded + r.rejected), 2),
        "load_seconds_total": round(r.load_seconds, 3),
        "load_ms_per_document": round(1000 * r.load_seconds / max(1, r.documents), 3),
        "load_share_of_extraction": round(r.load_seconds / r.extract_seconds, 4) if r.extract_seconds else None,
    }


def _write(res: dict) -> None:
    f, s, p = res["first_run"], res["second_run_unchanged"], res["separate_phases"]
    md = f"""# Ingest benchmark

`.venv/bin/python -m bench.ingest --n {res['reports']} --workers {res['workers']}` on {res['cores']} cores
(Python {res['python']}): {res['reports']} generated reports (gknb.testing.synth, forms {', '.join(res['forms'])},
2019 and 2021 templates alternating) ingested into a fresh warehouse, then ingested again.

| run | documents | loaded | rejected | unchanged | superseded | wall s | documents/s | extraction s (sum over workers) | loading s | loading / extraction |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| first | {f['documents']} | {f['loaded']} | {f['rejected']} | {f['unchanged']} | {f['superseded']} | {f['wall_seconds']} | {f['documents_per_second']} | {f['extract_seconds_total']} | {f['load_seconds_total']} | {f['load_share_of_extraction']:.1%} |
| again (unchanged) | {s['documents']} | {s['loaded']} | {s['rejected']} | {s['unchanged']} | {s['superseded']} | {s['wall_seconds']} | {s['documents_per_second']} | {s['extract_seconds_total']} | {s['load_seconds_total']} | - |

Extraction {f['extract_ms_per_document']} ms per document, loading {f['load_ms_per_document']} ms per document
(goal: loading under 10% of extraction). Values check: {res['current_reports_exact']} of
{res['current_reports_checked']} current reports carry exactly the generated new_requests and total_processed
(reports of the same generated agency and year supersede one another, so fewer than {res['reports']} are current).
Warehouse size {res['warehouse_bytes'] / 1e6:.1f} MB. Load average of the machine after the run:
{', '.join(map(str, res['load_average_after']))} (other jobs share the 2 cores; compare CPU times).

In the run above extraction (2 worker processes) and loading (the parent) overlap on the same 2
cores, so both are slowed by contention. Measured one after the other in one process on the first
{p['documents']} reports: extraction {p['extract_ms_per_document']} ms per document
({p['extract_cpu_ms_per_document']} ms CPU), loading {p['load_ms_per_document']} ms per document
({p['load_cpu_ms_per_document']} ms CPU) - loading is {p['load_share_of_extraction']:.1%} of extraction.
"""
    write_results("ingest", res, md)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--forms", default="html,txt")
    args = ap.parse_args(argv)
    res = run(args.n, args.workers, tuple(args.forms.split(",")))
    _write(res)
    print(json.dumps(res, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
