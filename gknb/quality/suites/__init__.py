"""The quality suites: every check as data, kept beside the table it checks.

A check is a SQL query in `sql/checks/<sql>` that turns the warehouse into one row per thing tested
(an equation of one report, a report's publication date, ...) with the columns of
`OBSERVATION_COLUMNS`, and a list of GX expectations over those rows. The query runs in DuckDB;
each expectation is also compiled to the SQL predicate of a row it rejects (`gknb.quality.engine`),
so the failing rows become findings with one INSERT … SELECT, and GX validates those rows (bounded
batches) and renders them in the Data Docs. What a check is called, its severity, cause and why
live in schemas/checks.yaml (`gknb.quality.catalog`); the checks themselves are in `cells.py`
(checks over the cells of one report) and `reports.py` (report metadata and across reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]

# What every observation row carries, so that any rejected row can be written as a finding.
# Further columns (labels, agency, value_type...) feed the messages and row conditions.
OBSERVATION_COLUMNS = ("report_id", "section", "row_key", "col_key", "expected", "observed", "page")

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
    # What a finding's `expected` column says when the row has no `expected` value (a domain).
    expected_text: str | None = None
    # The rows the expectation applies to, as (column, operator, value) with operator one of
    # == != < <= > >=; becomes a GX row condition (Column(column) <op> value) and a SQL predicate.
    where: tuple[str, str, object] | None = None


@dataclass(frozen=True)
class Check:
    check_id: str
    table: str  # the warehouse table the check is about: cells or reports
    sql: str  # file in sql/checks/
    specs: tuple[Spec, ...] = field(default_factory=tuple)
    # Named parameters of that query ($name in the SQL), where one query serves several checks;
    # the check's `params` in schemas/checks.yaml are added to them.
    sql_params: tuple[tuple[str, object], ...] = ()

    @property
    def info(self):
        from gknb.quality.catalog import load_checks

        return load_checks().get(self.check_id)

    @property
    def severity(self) -> Severity:
        return self.info.severity

    @property
    def cause(self) -> str:
        return self.info.cause

    @property
    def why(self) -> str:
        return self.info.explanation

    def params(self) -> dict:
        return {**self.info.params, **dict(self.sql_params)}


def all_checks() -> list[Check]:
    from gknb.quality.catalog import load_checks
    from gknb.quality.suites import cells, reports

    checks = [*cells.CHECKS, *reports.CHECKS]
    ids = [c.check_id for c in checks]
    if len(ids) != len(set(ids)):
        raise ValueError(f"check ids named twice: {ids}")
    declared = [c.check_id for c in load_checks().checks]
    if sorted(declared) != sorted(ids):
        from gknb.errors import ConfigError
        from gknb.quality.catalog import checks_path

        raise ConfigError(f"{checks_path()}: declares {sorted(set(declared) ^ set(ids))} "
                          "differently from gknb's suites (one entry per check, no other)")
    order = {cid: i for i, cid in enumerate(declared)}
    return sorted(checks, key=lambda c: order[c.check_id])
