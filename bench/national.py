"""National-scale ingest benchmark (issue 14.1, 14.4): fresh ingest of N generated reports in
bounded memory, the second night with 1% changed, and the Prefect ingest flow against
`gknb ingest` on the same files.

    .venv/bin/python -m bench.national --sizes 1000,10000,50000 [--forms txt,html,docx]
        [--workers 1] [--flow-files 2000] [--compare-workers 1000] [--work /tmp/gknb-national]

Reports: gknb.testing.synth draws a few dozen base reports per form and template (consistent
values, every identity holds); the N files are templated variants of them - each base's agency
replaced by a distinct street office of the same district (洪泽区东湖街道办事处), so every file has
its own bytes and its own agency-year and the loader sees N distinct reports. Generating 50,000
files takes about a minute. Word files are rewritten inside their zip, HTML and text as text. No
PDFs: their extraction (0.3-1 s a page) would measure pdfplumber, not the pipeline.

Each run is `gknb ingest` in a subprocess (the default `gknb`: its worker count, limits and DuckDB cap); its process tree (the parent, the extraction workers,
multiprocessing's resource tracker) is sampled every 0.1 s for resident memory (the sum over the
tree, and the parent alone) and written bytes (/proc/<pid>/io). Figures go to
bench/results/national.json and national.md. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import bench

GKNB = Path(sys.executable).parent / "gknb"
# Two-character place words for street offices (街道办事处), combined into names (`_street`).
_WORDS = ("东湖 西湖 南湖 北湖 中山 解放 人民 建设 新华 和平 胜利 朝阳 光明 长江 黄河 青山 绿水 金山 银河 "
          "花园 桃园 李园 杏林 松林 柳林 枫林 竹林 梅园 兰亭 菊园 清河 白河 红河 黑河 沙河 石桥 木桥 铁桥 "
          "新城 老城 东城 西城 南城 北城 城关 城南 城北 城东 城西 开发 高新 滨江 滨河 临江 临河 沿江 "
          "安居 乐业 富民 兴业").split()


def _street(i: int) -> str:
    """The i-th street office name of a district: two place words, then a third and more in front
    as i grows (bijective base 60, so every i has its own name; no digits, which no agency name
    carries and the title parser would cut at)."""
    n, words = i, []
    for _ in range(2):
        n, k = divmod(n, len(_WORDS))
        words.append(_WORDS[k])
    while n:
        n, k = divmod(n - 1, len(_WORDS))
        words.append(_WORDS[k])
    return "".join(reversed(words)) + "街道办事处"


class _Base:
    """One drawn report in one form: its bytes and the agency name to replace."""

    def __init__(self, rep, form: str, folder: Path):
        from gknb.testing.synth import write_docx, write_html, write_text

        writer = {"txt": write_text, "html": write_html, "docx": write_docx}[form]
        path = writer(rep, folder / f"base_{rep.seed}_{rep.template}.{form}")
        self.rep, self.form, self.data = rep, form, path.read_bytes()
        if form == "docx":
            with zipfile.ZipFile(io.BytesIO(self.data)) as z:
                self.members = [(info, z.read(info)) for info in z.infolist()]
        else:
            self.text = self.data.decode("utf-8")

    def variant(self, agency: str) -> bytes:
        old = self.rep.agency
        if self.form != "docx":
            return self.text.replace(old, agency).encode("utf-8")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for info, body in self.members:
                if info.filename.endswith(".xml"):
                    body = body.decode("utf-8").replace(old, agency).encode("utf-8")
                z.writestr(info, body)
        return out.getvalue()


def generate(folder: Path, n: int, forms: tuple[str, ...], bases_per_form: int = 24,
             pdf_every: int = 0, write: bool = True) -> list[dict]:
    """n files in `folder` (sub-folders of 1,000); returns what each one holds. With `pdf_every`
    k, every k-th file is a PDF: a Word variant converted by LibreOffice (100 a run). Without
    `write`, only what they hold: for a folder an earlier run generated (the same draws)."""
    from gknb.testing.synth import docx_to_pdf, draw_report

    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder.parent / (folder.name + ".bases")
    scratch.mkdir(exist_ok=True)
    base_forms = set(forms) | ({"docx"} if pdf_every else set())
    bases = {form: [_Base(draw_report(100 + k, ("2019", "2021")[k % 2]), form, scratch)
                    for k in range(bases_per_form)] for form in base_forms}
    shutil.rmtree(scratch)
    made, per_district, to_pdf = [], {}, []
    for i in range(n):
        form = "pdf" if pdf_every and i % pdf_every == pdf_every - 1 else forms[i % len(forms)]
        base = bases["docx" if form == "pdf" else form][(i // len(forms)) % bases_per_form]
        district = base.rep.district
        k = per_district.get(district, 0)
        per_district[district] = k + 1
        agency = district + _street(k)
        sub = folder / f"{i // 1000:04d}"
        if i % 1000 == 0 and write:
            sub.mkdir(exist_ok=True)
        path = sub / f"r{i:06d}.{form}"
        if write and form == "pdf":
            source = path.with_suffix(".docx")
            source.write_bytes(base.variant(agency))
            to_pdf.append(source)
        elif write:
            path.write_bytes(base.variant(agency))
        made.append({"path": str(path), "form": form, "agency": agency, "year": base.rep.year,
                     "new_requests": base.rep.new_requests})
    for at in range(0, len(to_pdf), 100):
        chunk = to_pdf[at:at + 100]
        by_folder: dict[Path, list[Path]] = {}
        for source in chunk:
            by_folder.setdefault(source.parent, []).append(source)
        for sub, sources in by_folder.items():
            docx_to_pdf(sources, sub)
        for source in chunk:
            source.unlink()
    return made


def change_some(made: list[dict], share: float) -> int:
    """The second night: `share` of all the files republished with one more line (a correction of
    the same report: new bytes, same agency and year, so it supersedes), taken evenly from the
    text and HTML files (Word and PDF files are not rewritten)."""
    target = max(1, round(share * len(made)))
    eligible = [e for e in made if e["form"] in ("txt", "html")]
    picked = eligible[::max(1, len(eligible) // target)][:target]
    for entry in picked:
        with Path(entry["path"]).open("ab") as fh:
            fh.write("\n（本报告于次日更正。）\n".encode("utf-8"))
    return len(picked)


def made_from_folder(folder: Path) -> list[dict]:
    """What `generate` made, read back from its folder (for --again)."""
    return [{"path": str(p), "form": p.suffix.lstrip(".")} for p in sorted(folder.glob("*/r*.*"))]


def second_night(folder: Path, db: Path, work: Path, n: int, share: float, workers: int | None) -> dict:
    """Another night on a kept folder and warehouse: `share` changed, then ingest, check,
    dashboard, release."""
    made = made_from_folder(folder)
    entry: dict = {"reports": n, "changed_files": change_some(made, share)}
    entry["one_percent_changed"] = {**_ingest(folder, db, workers), **_run_row(db)}
    entry["night2"] = _night_after_ingest(db, work, n)
    entry["night2_total_seconds"] = round(entry["one_percent_changed"]["wall_seconds"] + sum(
        m["wall_seconds"] for m in entry["night2"].values()), 1)
    return entry


class _TreeSampler(threading.Thread):
    """Peak resident memory of a process tree (sum and parent alone) and bytes it wrote."""

    def __init__(self, pid: int, every: float = 0.1):
        super().__init__(daemon=True)
        import psutil

        self.root = psutil.Process(pid)
        self.every, self.peak_tree, self.peak_parent, self.peak_procs = every, 0, 0, 0
        self.written: dict[int, int] = {}
        self.timeline: list[tuple[float, int]] = []  # (seconds since start, tree RSS)
        self.started = time.perf_counter()
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.stop.is_set():
            try:
                procs = [self.root] + self.root.children(recursive=True)
            except psutil.Error:
                break
            total = 0
            for p in procs:
                try:
                    rss = p.memory_info().rss
                    self.written[p.pid] = p.io_counters().write_bytes
                except psutil.Error:
                    continue
                total += rss
                if p.pid == self.root.pid:
                    self.peak_parent = max(self.peak_parent, rss)
            self.peak_tree = max(self.peak_tree, total)
            self.timeline.append((time.perf_counter() - self.started, total))
            self.peak_procs = max(self.peak_procs, len(procs))
            self.stop.wait(self.every)


def measure(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run a command, sampling its process tree; wall seconds, peaks, bytes written, CPU seconds."""
    started = time.perf_counter()
    before = os.times()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, cwd=cwd)
    sampler = _TreeSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    sampler.stop.set()
    sampler.join()
    after = os.times()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}\n{err[-3000:]}")
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round((after.children_user - before.children_user)
                             + (after.children_system - before.children_system), 2),
        "peak_rss_mb": round(sampler.peak_tree / 2**20, 1),
        "peak_rss_parent_mb": round(sampler.peak_parent / 2**20, 1),
        "processes": sampler.peak_procs,
        "written_mb": round(sum(sampler.written.values()) / 2**20, 1),
        "peak_rss_mb_by_tenth": _by_tenth(sampler.timeline, wall),
        "stdout": out.strip().splitlines()[-1] if out.strip() else "",
    }


def _by_tenth(timeline: list[tuple[float, int]], wall: float) -> list[float]:
    """Peak tree RSS (MB) in each tenth of the run's wall time: flat when nothing accumulates."""
    peaks = [0] * 10
    for t, rss in timeline:
        k = min(9, int(10 * t / max(wall, 1e-9)))
        peaks[k] = max(peaks[k], rss)
    return [round(p / 2**20) for p in peaks]


def _ingest(folder: Path, db: Path, workers: int | None, fresh: bool = False) -> dict:
    cmd = [str(GKNB), "ingest", str(folder), "--db", str(db), "--no-progress"]
    if workers:
        cmd += ["--workers", str(workers)]
    if fresh:
        cmd += ["--fresh"]
    return measure(cmd)


def _run_row(db: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT documents, loaded, rejected, unchanged, duplicates, superseded, extract_seconds, "
                          "load_seconds FROM ingest_runs ORDER BY started DESC LIMIT 1").fetchone()
        reports = con.execute("SELECT count(*) FILTER (WHERE is_current), count(*) FROM reports").fetchone()
        cells = con.execute("SELECT count(*) FROM cells").fetchone()[0]
    finally:
        con.close()
    keys = ("documents", "loaded", "rejected", "unchanged", "duplicates", "superseded", "extract_seconds", "load_seconds")
    return {**dict(zip(keys, [round(v, 2) if isinstance(v, float) else v for v in row])),
            "current_reports": reports[0], "reports": reports[1], "cells": cells}


def _night_after_ingest(db: Path, work: Path, n: int) -> dict:
    """What `gknb nightly` runs after loading, each step its own `gknb` process: the checks (with
    Data Docs), the static dashboard, a release (a copy of the warehouse, its Parquet export and
    dictionary). Previous outputs are removed first so each night writes them whole."""
    out = work / f"out_{n}"
    shutil.rmtree(out / "dashboard", ignore_errors=True)
    steps = {
        "check": measure([str(GKNB), "check", "--db", str(db), "--no-progress", "--keep-docs", "2"]),
        "dashboard": measure([str(GKNB), "dashboard", "--db", str(db), "--out", str(out / "dashboard")]),
        "release": measure([str(GKNB), "release", "--db", str(db), "--releases", str(out / "releases"), "--keep", "2"]),
    }
    return steps


def snapshot_copy(db: Path) -> dict:
    """The cost every build pays before writing: copying the published warehouse to a new file
    and fsyncing it (bench.snapshot.copy_seconds); the page cache is warm."""
    from bench.snapshot import copy_seconds

    return {"mb": round(db.stat().st_size / 2**20, 1), "copy_seconds": copy_seconds(db)}


def values_check(db: Path, made: list[dict], sample: int = 500) -> dict:
    """Of a sample of files, how many current reports carry exactly the generated new_requests."""
    import duckdb

    picked = made[:: max(1, len(made) // sample)]
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = dict(con.execute(
            "SELECT d.source_path, q.new_requests FROM documents d JOIN v_report_requests q ON q.report_id = d.report_id "
            "WHERE d.source_path IN (SELECT unnest(?))", [[m["path"] for m in picked]]).fetchall())
    finally:
        con.close()
    return {"checked": len(picked), "exact": sum(1 for m in picked if got.get(m["path"]) == m["new_requests"])}


def flow_vs_ingest(folder: Path, work: Path, workers: int | None) -> dict:
    """The Prefect ingest flow (extract-group tasks) and `gknb ingest` on the same files."""
    script = (
        "import sys; from gknb.flows.settings import prepare_prefect_environment; prepare_prefect_environment(); "
        "from gknb.flows.ingest import ingest; "
        f"run = ingest([{str(folder)!r}], {str(work / 'flow.duckdb')!r}, workers={workers!r}); print(run.summary())"
    )
    flow = measure([sys.executable, "-c", script], env={"PREFECT_LOGGING_LEVEL": "WARNING"})
    cli = _ingest(folder, work / "cli.duckdb", workers)
    return {"flow": flow, "ingest": cli, "flow_over_ingest": round(flow["wall_seconds"] / cli["wall_seconds"], 2)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--forms", default="txt,html,docx")
    ap.add_argument("--pdf-every", type=int, default=1000, help="every k-th file a PDF (0: none)")
    ap.add_argument("--nights", action="store_true",
                    help="after each ingest also run check, dashboard, export and release (the nightly's steps)")
    ap.add_argument("--workers", type=int, default=None, help="default: gknb's default")
    ap.add_argument("--changed", type=float, default=0.01)
    ap.add_argument("--flow-files", type=int, default=0, help="files for the flow-vs-ingest comparison (0: skip)")
    ap.add_argument("--compare-workers", type=int, default=0, help="files for the 1-vs-2-workers comparison (0: skip)")
    ap.add_argument("--work", default="/tmp/gknb-national")
    ap.add_argument("--keep", action="store_true", help="keep the generated files and warehouses")
    ap.add_argument("--again", action="store_true", help="on the folders and warehouses a --keep run left: "
                    "another night with --changed of the files changed (ingest, check, dashboard, release)")
    ap.add_argument("--reuse", action="store_true", help="take a size's folder of reports as a --keep run "
                    "left it instead of generating it again (the 150,000 files take 13 minutes)")
    ap.add_argument("--merge", default="", help="write bench/results from these runs' national.json files "
                    "(comma-separated; sizes combined) instead of running")
    args = ap.parse_args(argv)
    if args.merge:
        runs = [json.loads(Path(f).read_text(encoding="utf-8")) for f in args.merge.split(",")]
        merged = {**runs[-1], "sizes": sorted((e for r in runs for e in r["sizes"]), key=lambda e: e["reports"])}
        write_results(merged)
        return
    forms = tuple(args.forms.split(","))
    work = Path(args.work)
    if args.again:
        nights = [second_night(work / f"reports_{n}", work / f"warehouse_{n}.duckdb", work, n, args.changed, args.workers)
                  for n in (int(x) for x in args.sizes.split(",") if x)]
        out = work / "again.json"
        out.write_text(json.dumps({"nights": nights, "load_average_after": [round(x, 1) for x in os.getloadavg()]},
                                  indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(out.read_text(encoding="utf-8"))
        return
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"forms": list(forms), "workers": args.workers, "cores": os.cpu_count(), "pdf_every": args.pdf_every,
                 "python": platform.python_version(), "sizes": []}
    out_json = work / "national.json"

    def save() -> None:
        res["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
        out_json.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    if args.compare_workers:
        folder = work / f"workers_{args.compare_workers}"
        generate(folder, args.compare_workers, forms)
        res["workers_compare"] = {}
        for rnd in range(2):
            for w in (1, 2):
                m = _ingest(folder, work / f"workers_{w}_{rnd}.duckdb", w)
                res["workers_compare"].setdefault(str(w), []).append(m)
        save()
        if not args.keep:
            shutil.rmtree(folder)
    for n in (int(s) for s in args.sizes.split(",") if s):
        folder, db = work / f"reports_{n}", work / f"warehouse_{n}.duckdb"
        t = time.perf_counter()
        reuse = args.reuse and folder.is_dir()
        made = generate(folder, n, forms, pdf_every=args.pdf_every, write=not reuse)
        entry: dict = {"reports": n, "generate_seconds": None if reuse else round(time.perf_counter() - t, 1),
                       "pdfs": sum(m["form"] == "pdf" for m in made),
                       "input_mb": round(sum(Path(m["path"]).stat().st_size for m in made) / 2**20, 1)}
        entry["fresh"] = {**_ingest(folder, db, args.workers, fresh=True), **_run_row(db)}
        entry["fresh"]["documents_per_second"] = round(n / entry["fresh"]["wall_seconds"], 1)
        entry["values"] = values_check(db, made)
        save_partial(res, entry, save)
        if args.nights:
            entry["night1"] = _night_after_ingest(db, work, n)
            entry["export"] = measure([str(GKNB), "export", "--db", str(db), "--out", str(work / f"export_{n}")])
            shutil.rmtree(work / f"export_{n}", ignore_errors=True)
            save_partial(res, entry, save)
        entry["unchanged"] = {**_ingest(folder, db, args.workers), **_run_row(db)}
        entry["changed_files"] = change_some(made, args.changed)
        entry["one_percent_changed"] = {**_ingest(folder, db, args.workers), **_run_row(db)}
        if args.nights:
            entry["night2"] = _night_after_ingest(db, work, n)
            entry["night2_total_seconds"] = round(entry["one_percent_changed"]["wall_seconds"] + sum(
                m["wall_seconds"] for m in entry["night2"].values()), 1)
        entry["warehouse_mb"] = round(db.stat().st_size / 2**20, 1)
        entry["snapshot"] = snapshot_copy(db)
        if not args.keep:
            shutil.rmtree(work / f"out_{n}", ignore_errors=True)
        res["sizes"].append(entry)
        save()
        if not args.keep:
            shutil.rmtree(folder)
            for p in work.glob(f"warehouse_{n}.duckdb*"):
                p.unlink()
    if args.flow_files:
        folder = work / f"flow_{args.flow_files}"
        generate(folder, args.flow_files, forms)
        res["flow_vs_ingest"] = {"files": args.flow_files, **flow_vs_ingest(folder, work, args.workers)}
        save()
        if not args.keep:
            shutil.rmtree(folder)
    write_results(res)
    print(json.dumps(res, indent=2, ensure_ascii=False))


def save_partial(res: dict, entry: dict, save) -> None:
    """Keep what a long size has measured so far in the work folder's JSON."""
    res["partial"] = entry
    save()
    res.pop("partial")


def write_results(res: dict) -> None:
    """bench/results/national.json and national.md from a run's JSON."""
    bench.write_results("national", res, markdown(res))


def _steps(e: dict) -> list[tuple[str, dict]]:
    """A size's measured steps in the order they ran, labelled."""
    rows = [("fresh ingest", e["fresh"])]
    night1 = e.get("night1", {})
    rows += [(f"`gknb {k}`" + (" (full: first run)" if k == "check" else ""), m) for k, m in night1.items()]
    if "export" in e:
        rows.append(("`gknb export` (Parquet)", e["export"]))
    rows.append(("ingest again, nothing changed", e["unchanged"]))
    rows.append((f"second night: ingest, {e['changed_files']} files changed", e["one_percent_changed"]))
    rows += [(f"second night: `gknb {k}`" + (" (incremental)" if k == "check" else ""), m)
             for k, m in e.get("night2", {}).items()]
    return rows


def scaling_table(res: dict) -> list[str]:
    """One row per size: what grows and what must not (the README quotes it)."""
    rows = ["| reports | fresh ingest s | its peak RSS MB | CPU ms / report | `gknb check` full s | its peak RSS MB | "
            "second night (1% changed) end to end s | its check s | its peak RSS MB (any step) | warehouse MB |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for e in sorted(res["sizes"], key=lambda e: e["reports"]):
        f, n1, n2 = e["fresh"], e.get("night1", {}), e.get("night2", {})
        check1, check2 = n1.get("check", {}), n2.get("check", {})
        night_peak = max([e["one_percent_changed"]["peak_rss_mb"]] + [m["peak_rss_mb"] for m in n2.values()])
        rows.append(f"| {e['reports']:,} | {f['wall_seconds']} | {f['peak_rss_mb']} | {1000 * f['cpu_seconds'] / e['reports']:.1f} | "
                    f"{check1.get('wall_seconds', '-')} | {check1.get('peak_rss_mb', '-')} | {e.get('night2_total_seconds', '-')} | "
                    f"{check2.get('wall_seconds', '-')} | {night_peak} | {e['warehouse_mb']} |")
    return rows


def markdown(res: dict) -> str:
    forms = ", ".join(res["forms"])
    lines = ["# National-scale benchmark: the nightly run's steps from 1,000 to 150,000 reports", "",
             f"`.venv/bin/python -m bench.national` on {res['cores']} cores (Python {res['python']}). Generated reports, "
             f"forms {forms} in turn, every {res.get('pdf_every') or '-'}th file a PDF (LibreOffice from a Word variant); "
             f"extraction workers: {res['workers'] or 'the default (one per core)'}. Each step is its own `gknb` "
             "process; peak RSS is the sum over its process tree (parent, extraction workers, resource tracker), "
             "written MB what the tree wrote to disk.", ""]
    lines += scaling_table(res) + [""]
    for e in res["sizes"]:
        lines += [f"## {e['reports']:,} reports ({e.get('pdfs', 0)} PDFs, {e['input_mb']} MB of files)", "",
                  "| step | wall s | CPU s | CPU ms / report | peak RSS MB | written MB |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for label, m in _steps(e):
            lines.append(f"| {label} | {m['wall_seconds']} | {m['cpu_seconds']} | "
                         f"{1000 * m['cpu_seconds'] / e['reports']:.1f} | {m['peak_rss_mb']} | {m['written_mb']} |")
        if "night2_total_seconds" in e:
            lines.append(f"| **second night, end to end** (ingest, check, dashboard, release) | "
                         f"**{e['night2_total_seconds']}** | | | | |")
        tenths = e["fresh"].get("peak_rss_mb_by_tenth")
        lines += ["", f"Fresh ingest: {e['fresh']['loaded']:,} loaded, {e['fresh']['rejected']} rejected; "
                  f"{e['values']['exact']} of {e['values']['checked']} sampled reports carry exactly the generated "
                  f"new_requests; warehouse {e['warehouse_mb']} MB."]
        if tenths:
            lines.append("Peak RSS (MB) of the fresh ingest in each tenth of its run: " + ", ".join(map(str, tenths)) + ".")
        if "snapshot" in e:
            lines.append(f"Copying the warehouse ({e['snapshot']['mb']} MB, what every build does first): "
                         f"{e['snapshot']['copy_seconds']} s.")
        lines.append("")
    for note in res.get("notes", []):
        lines += [note, ""]
    if res.get("workers_compare"):
        lines += ["## Worker processes", "",
                  "| workers | wall s (runs) | CPU s | peak RSS MB |", "| ---: | --- | ---: | ---: |"]
        for w, runs in res["workers_compare"].items():
            lines.append(f"| {w} | {', '.join(str(r['wall_seconds']) for r in runs)} | "
                         f"{', '.join(str(r['cpu_seconds']) for r in runs)} | {max(r['peak_rss_mb'] for r in runs)} |")
        lines.append("")
    lines.append(f"Load average after the run: {', '.join(map(str, res.get('load_average_after', [])))}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
