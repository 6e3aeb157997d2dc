"""The template catalog as a DataFrame (the dashboard labels its cells with it), and the in-memory
connection over frames for notebooks. The checks themselves run in gknb.quality.engine."""

from __future__ import annotations

from gknb.quality.engine import connect_frames  # noqa: F401  (kept for notebooks)


def catalog_frame():
    import pandas as pd

    from gknb.catalog import load_catalog

    return pd.DataFrame(
        [{"template": c.template, "section": c.section, "item": c.item, "row_key": c.row_key,
          "col_key": c.col_key, "row_label": c.row_label, "col_label": c.col_label,
          "value_type": c.value_type, "role": c.role} for c in load_catalog().cells]
    )
