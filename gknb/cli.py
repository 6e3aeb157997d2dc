"""The `gknb` command: a thin Typer front over the plain Python API.

Each area keeps its commands in gknb/commands/<area>.py; those modules import nothing heavy at
load time, so `gknb extract` starts without Prefect, GX or DuckDB.
"""

from __future__ import annotations

import typer

from gknb.commands import crawl, extract, quality, warehouse

app = typer.Typer(
    help="gknb (公开年报): government information-disclosure annual reports into a DuckDB warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def main() -> None:
    """gknb (公开年报): government information-disclosure annual reports into a DuckDB warehouse."""


for module in (extract, warehouse, quality, crawl):
    module.register(app)


if __name__ == "__main__":
    app()
