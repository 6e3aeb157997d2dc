"""The errors of the quality stage. Findings are data, never exceptions: these mean the checks
could not run at all (no warehouse, a warehouse without the core tables, a broken suite)."""

from __future__ import annotations

from gknb.errors import GknbError


class QualityError(GknbError):
    """The checks or the dashboard could not run; the message is one line for the user."""


class WarehouseNotFound(QualityError):
    """The warehouse file does not exist (run `gknb ingest` first)."""


class WarehouseIncomplete(QualityError):
    """The warehouse lacks a table the checks read (`reports`, `cells`)."""


class SuiteError(QualityError):
    """A check's SQL or its GX suite failed: a defect in gknb, not in the reports."""
