"""Commands of this area; see the issue that owns it."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds this area's commands to `gknb`."""
