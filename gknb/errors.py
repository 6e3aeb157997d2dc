"""One error model for every stage (dlt's shape): one root, kinds under it.

- `GknbError` is the root: anything gknb raises on purpose. The CLI prints its message as one
  line and exits 2; any other exception is a bug and keeps its traceback.
- `TerminalError` can never succeed by retrying (a bad configuration file, a corrupt or foreign
  warehouse, a full or read-only disk); `TransientError` may (a timeout, a 5xx, a lock held by
  another writer). Flows retry only transient errors.
- `ConfigError` is a terminal error in a file under schemas/, a site list or a setting. It is
  raised when a command starts (`gknb.config.validate_configuration`), before anything is
  recorded, and names the file.
- `EnvironmentFailure` is a terminal error of the machine: disk full, read-only folder,
  permission, a path that is a folder. It names the path.
- Document errors (`gknb.extractors.errors.ExtractError`) are not raised out of a batch: they
  become rejected documents with their kind.

Each stage keeps its own errors (`gknb.extractors.errors`, `gknb.warehouse.errors`,
`gknb.quality.errors`, `gknb.crawl.errors`) as subclasses of these.
"""

from __future__ import annotations

import errno
from pathlib import Path


class GknbError(Exception):
    """Anything gknb raises on purpose; its message is one line for the user."""


class TerminalError(GknbError):
    """Retrying cannot help: fail the run at once."""


class TransientError(GknbError):
    """May succeed when tried again (network timeouts, 5xx, a busy lock)."""


class ConfigError(TerminalError):
    """A configuration file (schemas/, a site list, settings) is broken; the message starts with its path."""


class EnvironmentFailure(TerminalError):
    """The machine refused: disk full, read-only, permission, a folder where a file belongs."""


def environment_failure(exc: OSError, path: Path | str | None = None, doing: str = "write") -> EnvironmentFailure:
    """One line for an OSError: what failed and where ("cannot write data/x.duckdb: No space left on device")."""
    where = path if path is not None else (exc.filename or "a file (name unknown)")
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason = "No space left on device"
    return EnvironmentFailure(f"cannot {doing} {where}: {reason}".replace("  ", " "))


# The machine's refusals (not bugs): the CLI prints them as one line wherever they surface.
ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "No space left on device", errno.EDQUOT: "Disk quota exceeded",
    errno.EROFS: "Read-only file system", errno.EACCES: "Permission denied",
    errno.EPERM: "Operation not permitted", errno.EISDIR: "Is a directory",
    errno.ENOTDIR: "Not a directory",
}


def as_environment_failure(exc: BaseException, path: Path | str | None = None) -> EnvironmentFailure | None:
    """The EnvironmentFailure an exception is, or hides (DuckDB's `cannot rollback` after a full
    disk keeps the disk error in its context; DuckDB's IO errors carry it as text); else None."""
    import re

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, EnvironmentFailure):
            return exc
        if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:
            return environment_failure(exc, path if path is not None else exc.filename)
        text = str(exc)
        for reason in ENVIRONMENT_ERRNOS.values():
            if reason.lower() in text.lower():
                named = re.search(r'"([^"]+)"', text)
                where = path if path is not None else (named.group(1) if named else "")
                return EnvironmentFailure(f"cannot write {where}: {reason}".replace("  ", " "))
        exc = exc.__cause__ or exc.__context__
    return None
