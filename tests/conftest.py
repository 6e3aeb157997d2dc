"""Shared test fixtures: the bundled samples and the expected cells of the reference corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"
TRUTH = Path(__file__).resolve().parent / "fixtures" / "truth"


def read_jsonl(path: Path) -> tuple[dict, dict[tuple[int, str, str], dict]]:
    """(meta, {(section,row_key,col_key): cell}) of a CONTRACT.md JSON-lines file."""
    meta, cells = {}, {}
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if "meta" in rec:
            meta = rec["meta"]
        else:
            cells[(rec["section"], rec["row_key"], rec["col_key"])] = rec
    return meta, cells


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def truth() -> Path:
    return TRUTH
