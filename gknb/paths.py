"""Where gknb reads its package data and writes its files.

Package data (schemas/, sql/, templates) ships inside the installed `gknb` package and is read
through importlib.resources, so an installed wheel and a development checkout behave alike.

Every file gknb writes lives under ONE data directory: `--data-dir`, else the GKNB_HOME
environment variable, else `./data` in the current directory (relative paths are relative to the
current directory). Inside it:

    warehouse.duckdb        the warehouse (`--db` names another file)
    raw/                    fetched bytes by sha256 (the raw layer)
    dashboard/              the static dashboard
    data_docs/<warehouse>/  the GX Data Docs of one warehouse
    export/                 `gknb export` (Parquet, CSV)
    releases/<date>/, releases/latest   the dated releases of the nightly run
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path


def _package_dir(package: str) -> Path:
    return Path(str(files(package)))


# GKNB_SCHEMAS_DIR points at a copy of schemas/ (tests, operators trying an edit) without
# touching the installed package; read once at import, so set it before gknb starts.
SCHEMAS_ENV = "GKNB_SCHEMAS_DIR"
SCHEMAS_DIR = Path(os.environ[SCHEMAS_ENV]).absolute() if os.environ.get(SCHEMAS_ENV) else _package_dir("gknb.schemas")
SQL_DIR = _package_dir("gknb.sql")
PACKAGE_DIR = Path(__file__).resolve().parent

# The data directory's environment variable; the CLI's --data-dir sets it for worker processes too.
HOME_ENV = "GKNB_HOME"


def data_dir() -> Path:
    """The data directory: GKNB_HOME (or --data-dir, which sets it), else ./data."""
    return Path(os.environ.get(HOME_ENV) or "data").absolute()


def default_warehouse() -> Path:
    """The warehouse file analysts open."""
    return data_dir() / "warehouse.duckdb"


def default_raw_dir() -> Path:
    return data_dir() / "raw"


def default_dashboard_dir() -> Path:
    return data_dir() / "dashboard"


def default_export_dir() -> Path:
    return data_dir() / "export"


def default_releases_dir() -> Path:
    return data_dir() / "releases"


def data_docs_dir(db: Path | str) -> Path:
    """One Data Docs site per warehouse, in the warehouse's own folder: data/data_docs/warehouse/."""
    db = Path(db).absolute()
    return db.parent / "data_docs" / db.stem
