"""Materialising the analysts' rollup views into `out_*` tables for the dashboard.

The views in sql/views are always correct and cheap at the sizes of a province; the dashboard and
exports read the same numbers faster from tables. `refresh_rollups(con)` replaces each `out_<view>`
table with the current contents of its view, in the caller's transaction (call it inside
`publish.building`, so readers see the refreshed rollups together with the data they summarise).
"""

from __future__ import annotations

# The views worth materialising: every rollup the dashboard reads.
MATERIALISED_VIEWS = (
    "rollup_requests_district_year",
    "rollup_disclosure_district_year",
    "rollup_review_litigation_district_year",
    "coverage_agency_year",
    "yoy_requests_district_year",
)


def refresh_rollups(con) -> dict[str, int]:
    """Rebuild out_<view> from each rollup view; returns rows per out_ table."""
    rows = {}
    for view in MATERIALISED_VIEWS:
        table = f"out_{view}"
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {view}")
        rows[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    from gknb.warehouse.registry import apply_comments

    apply_comments(con, set(rows))  # CREATE OR REPLACE dropped the descriptions; put them back
    return rows
