"""The warehouse's own errors; each is one clear line for the CLI."""

from gknb.errors import ConfigError, GknbError, TerminalError



class WarehouseError(GknbError):
    """Something about the warehouse itself went wrong (not one bad document)."""


class SchemaError(WarehouseError, ConfigError):
    """The table registry (schemas/tables) or the DDL (sql/) is inconsistent."""


class PublishError(WarehouseError, TerminalError):
    """A build could not be swapped in; the old warehouse is untouched."""


class IngestError(WarehouseError):
    """An ingest run could not proceed (no inputs, unreadable path list)."""


class LoadError(WarehouseError):
    """One document's extraction cannot be loaded (e.g. a cell outside its template); it is rejected."""

    kind = "invalid"

    def __init__(self, message: str, *, kind: str | None = None):
        super().__init__(message)
        if kind is not None:
            self.kind = kind
