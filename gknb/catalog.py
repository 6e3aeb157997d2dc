"""The template catalog: every cell of both national templates, loaded from schemas/ and validated.

`schemas/template_cells.csv` is the contract's own file, copied verbatim; this module checks it on
load so that a broken edit fails at once rather than as wrong cells in the warehouse.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gknb.paths import SCHEMAS_DIR

TEMPLATES = ("2019", "2021")
VALUE_TYPES = ("count", "signed_count", "amount_10k_yuan")
ROLES = ("cell", "variant")
# The contract fixes these sizes; a catalog that disagrees is corrupt.
EXPECTED_CELLS = {"2019": 198, "2021": 200}


class CatalogError(ValueError):
    """The template catalog in schemas/ is inconsistent."""


@dataclass(frozen=True)
class CatalogCell:
    template: str
    section: int
    item: str
    row_key: str
    col_key: str
    row_label: str
    col_label: str
    value_type: str
    role: str

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.section, self.row_key, self.col_key)


@dataclass(frozen=True)
class Catalog:
    cells: tuple[CatalogCell, ...]

    def template_cells(self, template: str, *, variants: bool = False) -> list[CatalogCell]:
        """The cells of one template in catalog order; `variants` adds rows such as 2021 `other`."""
        return [
            c for c in self.cells
            if c.template == template and (variants or c.role == "cell")
        ]

    def rows(self, template: str, section: int) -> list[str]:
        """Row keys of a section in printed order (variants included)."""
        seen: dict[str, None] = {}
        for c in self.cells:
            if c.template == template and c.section == section:
                seen.setdefault(c.row_key, None)
        return list(seen)

    def columns(self, template: str, section: int, item: str) -> list[str]:
        seen: dict[str, None] = {}
        for c in self.cells:
            if c.template == template and c.section == section and c.item == item:
                seen.setdefault(c.col_key, None)
        return list(seen)

    def get(self, template: str, section: int, row_key: str, col_key: str) -> CatalogCell | None:
        for c in self.cells:
            if c.template == template and c.key == (section, row_key, col_key):
                return c
        return None


def read_catalog(path: Path) -> Catalog:
    with path.open(encoding="utf-8", newline="") as fh:
        cells = tuple(
            CatalogCell(
                template=r["template"], section=int(r["section"]), item=r["item"],
                row_key=r["row_key"], col_key=r["col_key"], row_label=r["row_label"],
                col_label=r["col_label"], value_type=r["value_type"], role=r["role"],
            )
            for r in csv.DictReader(fh)
        )
    validate(cells)
    return Catalog(cells)


def validate(cells: tuple[CatalogCell, ...]) -> None:
    seen: set[tuple] = set()
    for c in cells:
        if c.template not in TEMPLATES:
            raise CatalogError(f"{c.row_key}/{c.col_key}: unknown template {c.template!r}")
        if c.section not in (2, 3, 4):
            raise CatalogError(f"{c.row_key}/{c.col_key}: unknown section {c.section}")
        if c.value_type not in VALUE_TYPES:
            raise CatalogError(f"{c.row_key}/{c.col_key}: unknown value_type {c.value_type!r}")
        if c.role not in ROLES:
            raise CatalogError(f"{c.row_key}/{c.col_key}: unknown role {c.role!r}")
        ident = (c.template, *c.key)
        if ident in seen:
            raise CatalogError(f"cell named twice: {ident}")
        seen.add(ident)
    for template, n in EXPECTED_CELLS.items():
        got = sum(1 for c in cells if c.template == template and c.role == "cell")
        if got != n:
            raise CatalogError(f"template {template} has {got} cells, the contract says {n}")


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    return read_catalog(SCHEMAS_DIR / "template_cells.csv")
