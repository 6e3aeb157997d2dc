"""`gknb extract FILE`: one document's cells as the JSON lines of CONTRACT.md."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from gknb.config import validate_configuration


def extract(
    file: Path = typer.Argument(..., help="A report: PDF, scanned PDF or image, HTML, .docx, text or Markdown."),
) -> None:
    """Print the report's metadata, then every cell of its template once, as JSON lines."""
    validate_configuration()  # configuration errors stop the run before anything is recorded
    from gknb.extractors import ExtractError, extract_file

    try:
        result = extract_file(file)
    except ExtractError as exc:
        typer.echo(f"gknb extract: {exc}", err=True)
        raise typer.Exit(2)
    out = sys.stdout
    for line in result.jsonl():
        out.write(line + "\n")


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)
