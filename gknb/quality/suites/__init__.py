"""The quality suites: every check as data, kept beside the table it checks.

A check is a SQL query in `sql/checks/<sql>` that turns the warehouse into one row per thing tested
(an identity in one column of one report, a report's publication date, ...) with the columns of
`OBSERVATION_COLUMNS`, and a list of GX expectations over that frame. Each row a GX expectation
rejects becomes one finding. The checks themselves live in `cells.py` (checks over the cells of one
report) and `reports.py` (checks over report metadata and across reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]

# What every observation frame carries, so that any rejected row can be written as a finding.
# Further columns (labels, agency, value_type...) feed the messages and row conditions.
OBSERVATION_COLUMNS = ("report_id", "row_key", "col_key", "expected", "observed", "page")

# The comparison most checks make: the observation's expected against its observed value.
PAIR_EQUAL = "ExpectColumnPairValuesToBeEqual"
EXPECTED_VS_OBSERVED = {"column_A": "expected", "column_B": "observed"}


@dataclass(frozen=True)
class Spec:
    """One GX expectation: its class name in `great_expectations.expectations`, its arguments, and
    the message of a finding for a row it rejects (`str.format` over the row's columns)."""

    expectation: str
    kwargs: dict
    message: str
    # What a finding's `expected` column says when the frame has no `expected` value (a domain).
    expected_text: str | None = None
    # The rows the expectation applies to, as (column, operator, value) with operator one of
    # == != < <= > >=; becomes a GX row condition (Column(column) <op> value).
    where: tuple[str, str, object] | None = None


@dataclass(frozen=True)
class Check:
    check_id: str
    table: str  # the warehouse table the check is about: cells or reports
    severity: Severity
    sql: str  # file in sql/checks/
    why: str  # one sentence: what goes wrong in the world when this check is absent
    specs: tuple[Spec, ...] = field(default_factory=tuple)
    # Named parameters of that query ($name in the SQL), where one query serves several checks.
    sql_params: tuple[tuple[str, object], ...] = ()


def all_checks() -> list[Check]:
    from gknb.quality.suites import cells, reports

    checks = [*cells.CHECKS, *reports.CHECKS]
    ids = [c.check_id for c in checks]
    if len(ids) != len(set(ids)):
        raise ValueError(f"check ids named twice: {ids}")
    return checks
