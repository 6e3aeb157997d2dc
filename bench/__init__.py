"""Benchmarks: figures written to bench/results/, not timed tests. `python -m bench` runs them all."""

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, res: dict, markdown: str) -> None:
    """bench/results/<name>.json (the figures) and <name>.md (their tables)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (RESULTS / f"{name}.md").write_text(markdown, encoding="utf-8")
