"""The intermediate form every front end produces and the template matcher reads.

A document is a sequence of blocks in reading order: paragraphs (for the metadata and the
narrative) and table rows (for the cells). Front ends differ only in how they find these; the
matcher never looks at the source bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Span:
    """One cell of a table row as the source shows it."""

    text: str
    # Grid column where the source has real columns (HTML, docx, ruled or aligned PDF): the index
    # of the leftmost grid column the cell covers, and how many it covers.
    col: int | None = None
    colspan: int = 1
    # Horizontal extent in points for geometric sources (PDF words, OCR boxes); None otherwise.
    x0: float | None = None
    x1: float | None = None
    # OCR confidence of the text, 0..1; None where the text layer is certain.
    confidence: float | None = None


@dataclass
class TableRow:
    cells: list[Span]
    page: int  # 1-based page; for plain text, the 1-based line
    table: int  # tables numbered in reading order; rows of one table share it
    # True when `Span.col` is the source's own column grid, so empty cells keep their place.
    grid: bool = False

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.cells]


@dataclass
class Paragraph:
    text: str
    page: int


Block = Paragraph | TableRow


@dataclass
class Document:
    source: str  # path or URL
    format: str  # text, markdown, html, docx, pdf, ocr, webtext
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None
    title: str | None = None  # an HTML <title> or PDF title, where the source has one
    notes: list[str] = field(default_factory=list)  # front-end doubts, copied to the report's warnings

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [b for b in self.blocks if isinstance(b, Paragraph)]

    @property
    def table_rows(self) -> list[TableRow]:
        return [b for b in self.blocks if isinstance(b, TableRow)]

    def text(self) -> str:
        """All the text in reading order, table rows tab-joined: for metadata and narrative search."""
        lines = []
        for b in self.blocks:
            lines.append(b.text if isinstance(b, Paragraph) else "\t".join(b.texts))
        return "\n".join(lines)
