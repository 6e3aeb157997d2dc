"""Shared helpers of the warehouse tests: one warehouse built from data/samples per test session,
and Extractions read from CONTRACT.md JSON lines (the truth files) for loading without extractors."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from gknb.contract import Cell, Extraction, ReportMeta
from gknb.warehouse.types import ExtractedDocument

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"
TRUTH = Path(__file__).resolve().parent / "fixtures" / "truth"


def extraction_from_jsonl(text: str) -> Extraction:
    meta, cells = ReportMeta(), []
    for line in text.splitlines():
        rec = json.loads(line)
        if "meta" in rec:
            meta = ReportMeta(**{k: v for k, v in rec["meta"].items() if k in ReportMeta.__dataclass_fields__})
        else:
            cells.append(Cell(**{k: v for k, v in rec.items() if k in Cell.__dataclass_fields__}))
    return Extraction(meta, cells)


def extracted_from_truth(name: str, *, path: str | None = None, edit=None) -> ExtractedDocument:
    """An ExtractedDocument whose cells are a truth file's; `edit(extraction)` changes it (a correction)."""
    text = (TRUTH / f"{name}.jsonl").read_text(encoding="utf-8")
    extraction = extraction_from_jsonl(text)
    if edit is not None:
        edit(extraction)
    body = "\n".join(extraction.jsonl()).encode("utf-8")
    return ExtractedDocument(path or str(TRUTH / f"{name}.jsonl"), hashlib.sha256(body).hexdigest(),
                             len(body), "pdf", extraction)


@functools.lru_cache(maxsize=1)
def samples_warehouse() -> Path:
    """data/samples plus a broken PDF, ingested once with two worker processes (read-only for tests)."""
    from gknb.warehouse.ingest import ingest_paths

    folder = Path(tempfile.mkdtemp(prefix="gknb-wh-"))
    inputs = folder / "inputs"
    shutil.copytree(SAMPLES, inputs / "samples")
    (inputs / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\n% truncated, no xref, no pages\n")
    db = folder / "warehouse.duckdb"
    ingest_paths([inputs], db, workers=2, progress=False, trigger="test")
    return db


def extract_or_crash(path):
    """An extractor whose native code dies on one file: the worker process exits at once."""
    import os

    from gknb.warehouse.ingest import extract_document

    if "crash" in str(path):
        os._exit(3)
    return extract_document(path)


def extract_or_sleep(path):
    """An extractor that never finishes one file (a stand-in for hours of OCR on a hostile PDF)."""
    import time

    from gknb.pipeline import extract_document

    if "slow" in str(path):
        time.sleep(600)
    return extract_document(path)


def extract_reporting_niceness(path):
    """An extractor that reports the niceness of the worker process it runs in."""
    import os

    from gknb.warehouse.types import ExtractedDocument

    return ExtractedDocument(str(path), "", 0, error=f"niceness {os.nice(0)}", error_kind="internal")
