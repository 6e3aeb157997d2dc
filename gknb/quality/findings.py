"""Findings and runs as rows: the columns of dq_findings and dq_runs, and the CheckRun summary."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

FINDING_COLUMNS = (
    "run_id", "report_id", "check_id", "severity", "cause", "section", "row_key", "col_key",
    "expected", "observed", "page", "message",
)


@dataclass
class CheckRun:
    """What `gknb check` did: counts for the user, paths for the dashboard."""

    run_id: str
    started: datetime
    finished: datetime
    checks: int
    reports: int
    errors: int
    warnings: int
    data_docs: Path | None
    scope: str = "full"  # full, or incremental (only changed reports and their neighbours re-checked)
    checked: int = 0  # reports (re)checked by this run; the others' findings carried forward
    timings: dict = field(default_factory=dict)  # seconds per check (SQL + GX), prepare, data_docs

    def summary(self) -> str:
        docs = f"; Data Docs: {self.data_docs}" if self.data_docs else ""
        scope = f" ({self.scope}: {self.checked} re-checked)" if self.scope != "full" else ""
        return (f"run {self.run_id}: {self.checks} checks over {self.reports} reports{scope}, "
                f"{self.errors} errors, {self.warnings} warnings{docs}")


def format_value(value) -> str | None:
    """A finding's expected/observed as text: whole numbers without '.0', dates as ISO."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
        return f"{value:.6f}".rstrip("0").rstrip(".")
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if hasattr(value, "item"):  # numpy scalars
        return format_value(value.item())
    return str(value)


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def format_message(template: str, row: dict) -> str:
    values = _Defaults({k: ("?" if format_value(v) is None else format_value(v)) for k, v in row.items()})
    return template.format_map(values)
