"""The DuckDB warehouse: the model (schemas/tables + sql/), ingest, safe publishing, rollups, export.

Layers: `documents`, `reports`, `cells` are the core tables (one row per file, report, cell);
the views in sql/views and the `out_*` tables are what analysts and the dashboard read.
Importing this package imports nothing heavy; DuckDB is imported by the modules that use it.
"""

from gknb.warehouse.errors import IngestError, PublishError, SchemaError, WarehouseError

__all__ = ["WarehouseError", "SchemaError", "PublishError", "IngestError"]
