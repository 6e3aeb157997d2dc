"""Harder scans of the corpus PDFs (issue 13.8): does OCR read every number or leave it missing?

`python -m bench.hard_scans [--variants a,b] [--out DIR]` makes each variant of
`gknb.testing.scan.HARD_VARIANTS` (100-110 dpi, 1-2° skew, uneven lighting, speckle, heavy JPEG,
a phone photo with perspective) of `data/samples/pdf/*.pdf`, extracts it and compares every cell
with `tests/fixtures/truth/`: printed numbers read exactly, wrong (a different number), invented
(a number where the truth has none), missing. Writes bench/results/hard_scans.{md,json}; the
README's Scores table quotes it. Not a test: OCR costs ~3.5 s a page, the suite keeps two slow
tests of these (tests/test_extract_ocr.py).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples" / "pdf"
TRUTH = REPO / "tests" / "fixtures" / "truth"
RESULTS = Path(__file__).resolve().parent / "results"


def score(extraction, truth_path: Path) -> dict:
    """Printed numbers: exact, wrong, missing; invented (a number where the truth has none)."""
    truth = {}
    for line in truth_path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if "section" in rec:
            truth[(rec["section"], rec["row_key"], rec["col_key"])] = rec
    got = {c.key: c for c in extraction.cells}
    out = dict(numbers=0, exact=0, wrong=0, missing=0, invented=0)
    for key, want in truth.items():
        cell = got.get(key)
        if want["status"] == "value":
            out["numbers"] += 1
            if cell is None or cell.status != "value":
                out["missing"] += 1
            elif abs(float(cell.value) - float(want["value"])) < 1e-6:
                out["exact"] += 1
            else:
                out["wrong"] += 1
        elif cell is not None and cell.status == "value":
            out["invented"] += 1
    return out


def main(argv: list[str] | None = None) -> int:
    from gknb.extractors import extract_file
    from gknb.testing.scan import HARD_VARIANTS, make_hard_scan

    parser = argparse.ArgumentParser(prog="python -m bench.hard_scans")
    parser.add_argument("--variants", default=",".join(HARD_VARIANTS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gknb-hard-scans-") as tmp:
        for variant in args.variants.split(","):
            for pdf in sorted(SAMPLES.glob("*.pdf")):
                scan = make_hard_scan(pdf, Path(tmp) / f"{pdf.stem}_{variant}.pdf", variant)
                started = time.perf_counter()
                extraction = extract_file(scan)
                seconds = time.perf_counter() - started
                row = dict(variant=variant, report=pdf.stem, pages=extraction.meta.pages, seconds=round(seconds, 1),
                           **score(extraction, TRUTH / f"{pdf.stem}.jsonl"))
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "hard_scans.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    lines = ["# Harder scans of the corpus PDFs (`python -m bench.hard_scans`)", "",
             f"Measured {time.strftime('%Y-%m-%d')} on the 2-core build machine (shared).", "",
             "| variant | dpi, skew, degradations | report | numbers exact | missing | wrong | invented | s |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        dpi, angle, steps = HARD_VARIANTS[r["variant"]]
        lines.append(f"| {r['variant']} | {dpi} dpi, {angle}°, {' + '.join(steps) or '—'} | {r['report']} | "
                     f"{r['exact']}/{r['numbers']} | {r['missing']} | {r['wrong']} | {r['invented']} | {r['seconds']} |")
    total = {k: sum(r[k] for r in rows) for k in ("numbers", "exact", "missing", "wrong", "invented")}
    lines += ["", f"Total: {total['exact']}/{total['numbers']} exact, {total['missing']} missing, "
              f"{total['wrong']} wrong, {total['invented']} invented."]
    (args.out / "hard_scans.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 1 if total["wrong"] or total["invented"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
