"""Data quality: GX suites over the warehouse, findings traced to the page, Data Docs, and the
auditors' dashboard. `run_checks(db)` and `dashboard.build_dashboard(db, out)` are the API;
`gknb check` and `gknb dashboard` are thin commands over them.

Heavy imports (GX, pandas, DuckDB) happen inside the functions, so importing this package is cheap.
"""

from __future__ import annotations

from gknb.quality.errors import QualityError, SuiteError, WarehouseIncomplete, WarehouseNotFound
from gknb.quality.findings import CheckRun
from gknb.quality.runner import run_checks

__all__ = ["CheckRun", "QualityError", "SuiteError", "WarehouseIncomplete", "WarehouseNotFound",
           "run_checks"]
