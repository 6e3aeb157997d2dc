"""Extraction benchmark: text PDFs against the bare-library floor, scanned pages by OCR.

    .venv/bin/python -m bench.extract [--synth 20] [--reports 300] [--no-twins] [--ocr-threads 1]

In one run, on the same files:

- **text PDFs**: the corpus PDFs (data/samples/pdf) and `--reports` generated reports (the
  `--synth` distinct PDFs of `gknb.testing.synth`, filled Word templates turned into PDF by
  LibreOffice, reused in turn). For each document: `gknb.extractors.extract_file` (what `gknb extract`
  does), a bare pdfplumber pass over every page's words (`extract_words`, pages closed as it goes)
  and pypdfium2's plain text of every page (the floor). The ratio gknb / bare pdfplumber is the
  issue's goal (≤ 1.0×).
- **scanned PDFs**: the scanned twins of the corpus PDFs (`gknb.testing.scan`), read end to end
  with onnxruntime capped at `--ocr-threads` (1 = one core); seconds per scanned page (goal < 5 s).

Each part runs in its own child process, so its peak memory (ru_maxrss) is its own. Every
document's cells are also scored against its expected cells (truth files, the generator's),
so a fast wrong answer shows. Figures go to bench/results/extract.json and extract.md. Not a
test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
SAMPLES = REPO / "data" / "samples" / "pdf"
TRUTH = REPO / "tests" / "fixtures" / "truth"


# ------------------------------------------------------------------------------ measuring


def bare_pdfplumber(path: Path) -> int:
    """Every page's words, as a geometry-reading extractor would need at least; returns words."""
    import pdfplumber

    words = 0
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            words += len(page.extract_words())
            page.close()
    return words


def pdfium_text(path: Path) -> int:
    """Every page's plain text with pypdfium2 (the floor: no geometry at all); returns chars."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        chars = 0
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            chars += len(textpage.get_text_range())
            textpage.close()
            page.close()
        return chars
    finally:
        pdf.close()


def page_count(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def score(extraction, expected: Path | None) -> dict:
    """Numbers exact / wrong / invented against a CONTRACT JSON-lines file."""
    if expected is None or not expected.exists():
        return {}
    want = {}
    for line in expected.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if "section" in rec:
            want[(rec["section"], rec["row_key"], rec["col_key"])] = rec
    got = {c.key: c for c in extraction.cells}
    out = {"numbers": 0, "exact": 0, "wrong": 0, "invented": 0}
    for key, w in want.items():
        c = got.get(key)
        if w["status"] == "value":
            out["numbers"] += 1
            if c is not None and c.status == "value" and abs(float(c.value) - float(w["value"])) < 1e-6:
                out["exact"] += 1
            elif c is not None and c.status == "value":
                out["wrong"] += 1
        elif c is not None and c.status == "value":
            out["invented"] += 1
    return out


def _timed(fn, *args):
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def _add(total: dict, part: dict) -> None:
    for k, v in part.items():
        total[k] = total.get(k, 0) + v


def run_text(paths: list[tuple[Path, Path | None]], label: str) -> dict:
    """gknb vs bare pdfplumber vs pypdfium2 text on each document, interleaved so that load
    changes on the machine hit all three alike."""
    from gknb.extractors import extract_file

    # Warm-up (imports, template catalog, label aliases): a one-off cost, not per report.
    t_warm, _ = _timed(extract_file, paths[0][0])
    gknb, plumber, pdfium_t, pages = [], [], [], 0
    accuracy: dict = {}
    for path, expected in paths:
        n = page_count(path)
        pages += n
        t, extraction = _timed(extract_file, path)
        gknb.append(t)
        _add(accuracy, score(extraction, expected))
        plumber.append(_timed(bare_pdfplumber, path)[0])
        pdfium_t.append(_timed(pdfium_text, path)[0])
    total_g, total_p, total_f = sum(gknb), sum(plumber), sum(pdfium_t)
    return {
        "set": label,
        "reports": len(paths),
        "pages": pages,
        "warmup_s": round(t_warm, 3),
        "gknb_s_per_report": round(total_g / len(paths), 4),
        "gknb_s_per_page": round(total_g / pages, 4),
        "gknb_median_s_per_report": round(statistics.median(gknb), 4),
        "pdfplumber_words_s_per_report": round(total_p / len(paths), 4),
        "pdfium_text_s_per_report": round(total_f / len(paths), 5),
        "ratio_gknb_to_pdfplumber": round(total_g / total_p, 3),
        "ratio_gknb_to_pdfium": round(total_g / total_f, 1),
        "accuracy": accuracy,
    }


def run_ocr(paths: list[tuple[Path, Path | None]], label: str) -> dict:
    from gknb.extractors import extract_file
    from gknb.extractors.ocr import engine

    t_load, _ = _timed(engine)
    per_doc, pages, accuracy, cpu = [], 0, {}, 0.0
    for path, expected in paths:
        n = page_count(path)
        pages += n
        c0 = time.process_time()
        t, extraction = _timed(extract_file, path)
        cpu += time.process_time() - c0
        per_doc.append((path.name, n, round(t, 2)))
        _add(accuracy, score(extraction, expected))
    total = sum(t for _, _, t in per_doc)
    return {
        "set": label,
        "reports": len(paths),
        "pages": pages,
        "ocr_threads": int(os.environ.get("GKNB_OCR_THREADS", "0") or 0) or "all",
        "engine_load_s": round(t_load, 2),
        "gknb_s_per_report": round(total / len(paths), 2),
        "gknb_s_per_page": round(total / pages, 2),
        # CPU seconds of this process: with one onnxruntime thread, the cost on one core even
        # when other work shares the machine (wall time then stretches).
        "gknb_cpu_s_per_page": round(cpu / pages, 2),
        "documents": per_doc,
        "accuracy": accuracy,
    }


# ------------------------------------------------------------------------------ child processes


def _child(args: argparse.Namespace) -> None:
    """One part of the benchmark in this process; prints its JSON result on the last line."""
    spec = json.loads(Path(args.child).read_text())
    paths = [(Path(p), Path(e) if e else None) for p, e in spec["paths"]]
    result = run_ocr(paths, spec["label"]) if spec["kind"] == "ocr" else run_text(paths, spec["label"])
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result, ensure_ascii=False))


def _run_part(kind: str, label: str, paths: list[tuple[Path, Path | None]], workdir: Path, env: dict | None = None) -> dict:
    spec = workdir / f"{label}.json"
    spec.write_text(json.dumps({"kind": kind, "label": label,
                                "paths": [[str(p), str(e) if e else None] for p, e in paths]}))
    proc = subprocess.run([sys.executable, "-m", "bench.extract", "--child", str(spec)],
                          cwd=REPO, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"bench part {label} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _truth_for(pdf: Path) -> Path | None:
    t = TRUTH / f"{pdf.stem}.jsonl"
    return t if t.exists() else None


# ------------------------------------------------------------------------------ report


def _markdown(result: dict) -> str:
    lines = [
        "# Extraction benchmark",
        "",
        f"{result['when']} · {result['machine']} · `python -m bench.extract {result['args']}`",
        "",
        "| set | reports | pages | gknb s/report | gknb s/page | bare pdfplumber words s/report | pypdfium2 text s/report | gknb ÷ pdfplumber | peak RSS MiB | numbers exact / wrong / invented |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for part in result["parts"]:
        acc = part.get("accuracy") or {}
        acc_s = f"{acc.get('exact', 0)}/{acc.get('numbers', 0)} · {acc.get('wrong', 0)} · {acc.get('invented', 0)}" if acc else "—"
        lines.append(
            f"| {part['set']} | {part['reports']} | {part['pages']} | {part['gknb_s_per_report']} | {part['gknb_s_per_page']} "
            f"| {part.get('pdfplumber_words_s_per_report', '—')} | {part.get('pdfium_text_s_per_report', '—')} "
            f"| {str(part['ratio_gknb_to_pdfplumber']) + '×' if 'ratio_gknb_to_pdfplumber' in part else '—'} "
            f"| {part['peak_rss_mib']} | {acc_s} |"
        )
    ocr = [p for p in result["parts"] if "ocr_threads" in p]
    lines += ["", "Goals: gknb ÷ bare pdfplumber ≤ 1.0× on text PDFs; a scanned page < 5 s on one core."]
    for p in ocr:
        lines.append(f"Scanned pages: {p['gknb_cpu_s_per_page']} CPU s a page ({p['gknb_s_per_page']} s wall) with onnxruntime threads = {p['ocr_threads']} "
                     f"(engine load {p['engine_load_s']} s, once per process): "
                     + ", ".join(f"{n} {pg} pages {t} s" for n, pg, t in p["documents"]) + ".")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Extraction benchmark (text PDFs vs pdfplumber; scanned pages by OCR).")
    ap.add_argument("--synth", type=int, default=20, help="distinct generated PDFs (LibreOffice; ~2 s each)")
    ap.add_argument("--reports", type=int, default=300, help="generated reports measured (the distinct PDFs reused in turn)")
    ap.add_argument("--corpus", type=Path, default=SAMPLES, help="folder of text PDFs with truth in tests/fixtures/truth")
    ap.add_argument("--no-twins", action="store_true", help="skip the scanned twins (OCR)")
    ap.add_argument("--ocr-threads", type=int, default=1, help="onnxruntime threads for the OCR part (1 = one core)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args)
        return

    from gknb.testing.scan import make_scanned_twin

    corpus = sorted(args.corpus.glob("*.pdf"))
    parts = []
    with tempfile.TemporaryDirectory(prefix="gknb-bench-") as tmp:
        work = Path(tmp)
        if corpus:
            print(f"corpus: {len(corpus)} text PDFs", file=sys.stderr)
            parts.append(_run_part("text", "corpus text PDFs", [(p, _truth_for(p)) for p in corpus], work))
        if args.synth > 0 and args.reports > 0:
            from gknb.testing.synth import generate

            print(f"generating {args.synth} PDFs with LibreOffice …", file=sys.stderr)
            t0 = time.perf_counter()
            made = generate(work / "synth", args.synth, seed=7, forms=("pdf",), templates=("2021", "2019"))
            t_gen = time.perf_counter() - t0
            distinct = [(g.files["pdf"], g.expected) for g in made]
            paths = [distinct[i % len(distinct)] for i in range(args.reports)]
            print(f"generated in {t_gen:.0f} s; measuring {len(paths)} reports", file=sys.stderr)
            part = _run_part("text", f"generated PDFs ({len(distinct)} distinct)", paths, work)
            part["generation_s"] = round(t_gen, 1)
            parts.append(part)
        if corpus and not args.no_twins:
            twins = [(make_scanned_twin(p, work / "twins" / f"{p.stem}_scan.pdf"), _truth_for(p)) for p in corpus]
            print(f"OCR: {len(twins)} scanned twins, onnxruntime threads {args.ocr_threads}", file=sys.stderr)
            parts.append(_run_part("ocr", "scanned twins (150 dpi, 0.6°)", twins, work,
                                   env={"GKNB_OCR_THREADS": str(args.ocr_threads)}))
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "args": " ".join(argv if argv is not None else sys.argv[1:]),
        "parts": parts,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "extract.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (args.out / "extract.md").write_text(_markdown(result), encoding="utf-8")
    print(_markdown(result))


if __name__ == "__main__":
    main()
