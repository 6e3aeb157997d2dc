"""`ingest_paths`: the warehouse's name for the one pipeline (gknb.pipeline), kept for callers
that give local paths with an optional {path: SourceInfo} map. Everything - walking, hashing, the
extraction pool, loading, rollups, the run record - is gknb.pipeline's; nothing is done here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

from gknb.pipeline import (  # noqa: F401  (re-exported)
    GROUP_SIZE, SKIP_SUFFIXES, SourceDoc, default_workers, extract_document, ingest, iter_documents,
    new_run_id, rich_progress, sha256_file,
)
from gknb.warehouse.types import DocumentOutcome, ExtractedDocument, IngestRun, SourceInfo

__all__ = [
    "ingest_paths", "extract_document", "iter_documents", "ExtractedDocument", "SourceInfo",
    "IngestRun", "DocumentOutcome",
]


def ingest_paths(paths: Iterable[str | Path], db: str | Path, *, workers: int | None = None,
                 progress: bool = True, sources: Mapping[str | Path, SourceInfo] | None = None,
                 trigger: str = "cli", fresh: bool = False, group_size: int = GROUP_SIZE,
                 retry_rejected: bool = False) -> IngestRun:
    """gknb.pipeline.ingest over local paths; `sources` maps a file to its crawl metadata."""
    src = {Path(k).resolve(): v for k, v in (sources or {}).items()}
    inputs = [SourceDoc(p, src[Path(p).resolve()]) if Path(p).resolve() in src else p for p in paths]
    with rich_progress(progress) as bar:
        return ingest(inputs, db, workers=workers, progress=bar, trigger=trigger, fresh=fresh,
                      group_size=group_size, retry_rejected=retry_rejected)
