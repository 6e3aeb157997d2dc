"""Where the project's data files live: the schemas/ and sql/ folders beside the packages."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = REPO_ROOT / "schemas"
SQL_DIR = REPO_ROOT / "sql"
DATA_DIR = REPO_ROOT / "data"
SAMPLES_DIR = DATA_DIR / "samples"


def default_warehouse() -> Path:
    """The warehouse file analysts open; GKNB_DB overrides it (tests, CI)."""
    return Path(os.environ.get("GKNB_DB", DATA_DIR / "warehouse.duckdb"))
