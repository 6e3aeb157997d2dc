"""The cell contract (../shared/spec/CONTRACT.md) as types: what every extractor returns.

An extractor returns an `Extraction`: the report's metadata and one `Cell` per catalog cell of
the report's template. `Extraction.jsonl()` is the exact output of `gknb extract`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Iterator, Literal

Status = Literal["value", "blank", "nil", "missing"]
STATUSES: tuple[Status, ...] = ("value", "blank", "nil", "missing")

Number = int | float


@dataclass
class Cell:
    """One cell of a national template, as found in one report."""

    section: int
    row_key: str
    col_key: str
    status: Status
    value: Number | None = None
    raw: str | None = None  # the text as printed; notes such as "filled by S3.row_total" go here too
    page: int | None = None  # 1-based page, or line for plain text
    # How sure the reading is, 0..1; None for text layers (certain). OCR sets it.
    confidence: float | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown cell status {self.status!r}")
        if (self.status == "value") != (self.value is not None):
            raise ValueError(f"{self.row_key}/{self.col_key}: status {self.status} with value {self.value!r}")

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.section, self.row_key, self.col_key)

    def record(self) -> dict:
        rec = {
            "section": self.section,
            "row_key": self.row_key,
            "col_key": self.col_key,
            "status": self.status,
            "value": self.value,
            "raw": self.raw,
            "page": self.page,
        }
        if self.confidence is not None:
            rec["confidence"] = round(self.confidence, 4)
        return rec


@dataclass
class ReportMeta:
    """What the report says about itself. Unknown stays None, never guessed."""

    agency: str | None = None
    year: int | None = None
    template: str | None = None  # "2019" or "2021"
    province: str | None = None
    city: str | None = None
    district: str | None = None
    adcode: str | None = None
    published: str | None = None  # ISO date where the report prints one
    format: str | None = None  # text, markdown, html, docx, pdf, ocr, webtext
    pages: int | None = None
    # Why cells are missing, and anything an auditor should look at (OCR doubts, filled cells).
    warnings: list[str] = field(default_factory=list)
    # The request count the narrative states (全年共收到…申请N件), for the `narrative` check.
    narrative_requests: int | None = None

    def record(self) -> dict:
        return asdict(self)


@dataclass
class Extraction:
    meta: ReportMeta
    cells: list[Cell]

    def jsonl(self) -> Iterator[str]:
        """The JSON lines of CONTRACT.md: meta first, then every cell once."""
        yield json.dumps({"meta": self.meta.record()}, ensure_ascii=False, default=_json_default)
        for cell in self.cells:
            yield json.dumps(cell.record(), ensure_ascii=False, default=_json_default)

    def cell(self, section: int, row_key: str, col_key: str) -> Cell | None:
        for c in self.cells:
            if c.key == (section, row_key, col_key):
                return c
        return None


def _json_default(obj):
    if isinstance(obj, Decimal):
        return float(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
