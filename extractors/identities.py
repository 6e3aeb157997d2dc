"""The identities of CONTRACT.md: checking them, and filling a lost value they fix uniquely.

- S3.balance (each column): new_requests + carried_over = total_processed + carried_forward
- S3.outcomes (each column): total_processed = sum of the outcome rows (granted … 其他处理)
- S3.row_total (each row): total = sum of the six applicant columns
- S4.row_total (each row): total = upheld + corrected + other + pending

`violations` reports where values that are all printed disagree (the quality checks use it).
`fill_unique` only ever turns a `missing` cell into a value, never a blank or nil one, and only
when an identity leaves exactly one possibility; the cell's `raw` says which identity filled it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gknb.contract import Cell

PARTS = ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org")
COLUMNS = PARTS + ("total",)
OUTCOMES_2019 = (
    "granted", "partially_granted",
    "denied_state_secret", "denied_prohibited_by_law", "denied_security_stability", "denied_third_party",
    "denied_internal_affairs", "denied_process_info", "denied_enforcement_file", "denied_query_matter",
    "unavailable_not_held", "unavailable_needs_creation", "unavailable_unclear",
    "rejected_petition", "rejected_duplicate", "rejected_publication", "rejected_excessive",
    "rejected_confirmation", "other",
)
OUTCOMES_2021_SPLIT = OUTCOMES_2019[:-1] + ("other_no_correction", "other_unpaid_fee", "other_other")
REVIEW_ROWS = ("admin_review", "lawsuit_direct", "lawsuit_after_review")
REVIEW_PARTS = ("upheld", "corrected", "other", "pending")


@dataclass(frozen=True)
class Violation:
    identity: str  # S3.balance, S3.outcomes, S3.row_total, S4.row_total
    section: int
    row_key: str | None  # the row (row_total) or None (column identities)
    col_key: str | None  # the column (balance, outcomes) or None
    expected: float  # what the identity asks for
    observed: float  # what is printed
    message: str


def _values(cells: list[Cell]) -> dict[tuple[int, str, str], float]:
    return {c.key: c.value for c in cells if c.status == "value"}


def _outcome_rows(cells: list[Cell], template: str) -> tuple[str, ...]:
    keys = {c.row_key for c in cells if c.section == 3}
    if template == "2021" and "other" in keys:
        return OUTCOMES_2019
    return OUTCOMES_2021_SPLIT if template == "2021" else OUTCOMES_2019


def _equations(cells: list[Cell], template: str):
    """Every identity as (name, row_key, col_key, lhs keys, rhs keys): sum(lhs) == sum(rhs)."""
    for col in COLUMNS:
        yield ("S3.balance", None, col,
               [(3, "new_requests", col), (3, "carried_over", col)],
               [(3, "total_processed", col), (3, "carried_forward", col)])
        yield ("S3.outcomes", None, col,
               [(3, "total_processed", col)],
               [(3, r, col) for r in _outcome_rows(cells, template)])
    for row in sorted({c.row_key for c in cells if c.section == 3}):
        yield ("S3.row_total", row, None, [(3, row, "total")], [(3, row, p) for p in PARTS])
    for row in REVIEW_ROWS:
        yield ("S4.row_total", row, None, [(4, row, "total")], [(4, row, p) for p in REVIEW_PARTS])


def violations(cells: list[Cell], template: str) -> list[Violation]:
    """Identities broken by printed values (an identity with any non-value term is not judged)."""
    vals = _values(cells)
    present = {c.key for c in cells}
    out: list[Violation] = []
    for name, row, col, lhs, rhs in _equations(cells, template):
        terms = [k for k in lhs + rhs if k in present]
        if len(terms) != len(lhs) + len(rhs) or any(k not in vals for k in terms):
            continue
        left = sum(vals[k] for k in lhs)
        right = sum(vals[k] for k in rhs)
        if abs(left - right) > 1e-9:
            where = row if row else col
            out.append(Violation(name, lhs[0][0], row, col, right, left,
                                 f"{name} {where}: printed {left:g}, the parts add up to {right:g}"))
    return out


def fill_unique(cells: list[Cell], template: str) -> list[Cell]:
    """Fill `missing` cells that the identities determine uniquely; returns a new list."""
    cells = [Cell(**c.__dict__) for c in cells]
    by_key = {c.key: c for c in cells}
    _fill_unplaced_rows(cells, by_key)
    # A report that breaks an identity where everything is printed cannot be trusted to keep
    # it where a value is lost: no filling in that section.
    broken_sections = {v.section for v in violations(cells, template)}
    changed = True
    while changed:
        changed = False
        vals = _values(cells)
        for name, row, col, lhs, rhs in _equations(cells, template):
            if lhs[0][0] in broken_sections:
                continue
            terms = lhs + rhs
            if any(k not in by_key for k in terms):
                continue
            unknown = [k for k in terms if by_key[k].status == "missing"]
            if len(unknown) != 1 or any(by_key[k].status != "value" for k in terms if k not in unknown):
                continue
            k = unknown[0]
            known_l = sum(vals[t] for t in lhs if t != k)
            known_r = sum(vals[t] for t in rhs if t != k)
            value = known_r - known_l if k in lhs else known_l - known_r
            if value < 0 or value != int(value):
                continue
            cell = by_key[k]
            cell.status, cell.value = "value", int(value)
            cell.raw = f"filled: {name}"
            changed = True
            vals[k] = int(value)
    return cells


def _fill_unplaced_rows(cells: list[Cell], by_key: dict) -> None:
    """A section 3 row printed with one value fewer than its 7 columns (the matcher keeps the
    printed values in `raw` as "unplaced: …"): try every position of the lost value; where the
    row total fixes it and every position gives the same row, that row is certain."""
    rows: dict[str, list[Cell]] = {}
    for c in cells:
        if c.section == 3 and c.status == "missing" and c.raw and c.raw.startswith("unplaced:"):
            rows.setdefault(c.row_key, []).append(c)
    for row, row_cells in rows.items():
        if len(row_cells) != len(COLUMNS):
            continue
        texts = row_cells[0].raw[len("unplaced:"):].split()
        try:
            printed = [int(t) for t in texts]
        except ValueError:
            continue
        if len(printed) != len(COLUMNS) - 1 or any(v < 0 for v in printed):
            continue
        outcomes = set()
        for lost in range(len(COLUMNS)):
            full = printed[:lost] + [None] + printed[lost:]
            if lost == len(COLUMNS) - 1:
                full[lost] = sum(full[:-1])
            else:
                full[lost] = full[-1] - sum(v for v in full[:-1] if v is not None)
            if full[lost] < 0:
                continue
            outcomes.add(tuple(full))
        if len(outcomes) != 1:
            continue
        (full,) = outcomes
        for col, value in zip(COLUMNS, full):
            cell = by_key[(3, row, col)]
            cell.status, cell.value = "value", value
            cell.raw = f"filled: S3.row_total (row printed {len(printed)} values for {len(COLUMNS)} columns)"
