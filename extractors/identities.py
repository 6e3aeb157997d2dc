"""The identities of CONTRACT.md: checking them, and filling a lost value they fix uniquely.

The identities themselves (S3.balance, S3.outcomes, S3.row_total, S4.row_total: which rows and
columns add up to what) are data in schemas/template_structure.yaml, read through gknb.structure;
this module only applies them to one report's cells, under the contract's rule:

- a `blank` or `nil` term counts as 0; an equation with a `missing` term is not judged;
- `violations` reports where the values that are there disagree (the quality checks use it);
- `fill_unique` only ever turns a `missing` cell into a value, never a blank or nil one, and only
  when it is the one missing term of an equation; the cell's `raw` says which identity filled it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gknb.contract import Cell
from gknb.structure import Equation, evaluate, load_structure, term_value


@dataclass(frozen=True)
class Violation:
    identity: str  # S3.balance, S3.outcomes, S3.row_total, S4.row_total
    section: int
    row_key: str | None  # the row (row_total) or None (column identities)
    col_key: str | None  # the column (balance, outcomes) or None
    expected: float  # what the identity asks for
    observed: float  # what is printed
    message: str


def equations(cells: list[Cell], template: str) -> list[Equation]:
    """The template's equations in the form the report prints (the 2021 variant row or its sub-rows)."""
    return list(load_structure().identity_equations(template, {c.key for c in cells}))


def violations(cells: list[Cell], template: str) -> list[Violation]:
    """Identities broken by the values there (blank and nil as 0; an equation with a missing term
    is not judged)."""
    by_key = {c.key: c for c in cells}
    out: list[Violation] = []
    for eq in equations(cells, template):
        verdict = evaluate(eq, by_key)
        if verdict is None or verdict.holds:
            continue
        left, right = verdict.left, verdict.right
        where = eq.row_key if eq.row_key else eq.col_key
        out.append(Violation(eq.identity, eq.section, eq.row_key, eq.col_key, right, left,
                             f"{eq.identity} {where}: printed {left:g}, the parts add up to {right:g}"))
    return out


def fill_unique(cells: list[Cell], template: str) -> list[Cell]:
    """Fill `missing` cells that the identities determine uniquely; returns a new list."""
    cells = [Cell(**c.__dict__) for c in cells]
    by_key = {c.key: c for c in cells}
    _fill_unplaced_rows(cells, by_key, template)
    # A report that breaks an identity where everything is printed cannot be trusted to keep
    # it where a value is lost: no filling in that section.
    broken_sections = {v.section for v in violations(cells, template)}
    eqs = equations(cells, template)
    changed = True
    while changed:
        changed = False
        for eq in eqs:
            if eq.section in broken_sections:
                continue
            terms = eq.terms
            if any(k not in by_key for k in terms):
                continue
            unknown = [k for k in terms if by_key[k].status == "missing"]
            if len(unknown) != 1:
                continue
            k = unknown[0]
            known_l = sum(term_value(by_key[t].status, by_key[t].value) for t in eq.lhs if t != k)
            known_r = sum(term_value(by_key[t].status, by_key[t].value) for t in eq.rhs if t != k)
            value = known_r - known_l if k in eq.lhs else known_l - known_r
            if value < 0 or value != int(value):
                continue
            cell = by_key[k]
            cell.status, cell.value = "value", int(value)
            cell.raw = f"filled: {eq.identity}"
            changed = True
    return cells


def _fill_unplaced_rows(cells: list[Cell], by_key: dict, template: str) -> None:
    """A section 3 row printed with one value fewer than its 7 columns (the matcher keeps the
    printed values in `raw` as "unplaced: …"): try every position of the lost value; where the
    row total fixes it and every position gives the same row, that row is certain."""
    structure = load_structure()
    columns = structure.columns(template, 3, group="request_columns")
    parts = structure.columns(template, 3, group="applicants")
    if [c for c in columns if c not in parts] != columns[-1:]:
        return  # the reasoning below needs the row's 总计 printed last
    rows: dict[str, list[Cell]] = {}
    for c in cells:
        if c.section == 3 and c.status == "missing" and c.raw and c.raw.startswith("unplaced:"):
            rows.setdefault(c.row_key, []).append(c)
    for row, row_cells in rows.items():
        if len(row_cells) != len(columns):
            continue
        texts = row_cells[0].raw[len("unplaced:"):].split()
        try:
            printed = [int(t) for t in texts]
        except ValueError:
            continue
        if len(printed) != len(columns) - 1 or any(v < 0 for v in printed):
            continue
        outcomes = set()
        for lost in range(len(columns)):
            full = printed[:lost] + [None] + printed[lost:]
            if lost == len(columns) - 1:
                full[lost] = sum(full[:-1])
            else:
                full[lost] = full[-1] - sum(v for v in full[:-1] if v is not None)
            if full[lost] < 0:
                continue
            outcomes.add(tuple(full))
        if len(outcomes) != 1:
            continue
        (full,) = outcomes
        for col, value in zip(columns, full):
            cell = by_key[(3, row, col)]
            cell.status, cell.value = "value", value
            cell.raw = f"filled: S3.row_total (row printed {len(printed)} values for {len(columns)} columns)"
