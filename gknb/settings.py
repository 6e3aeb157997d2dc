"""The limits of schemas/limits.yaml: bounded work per document and per crawl (issue 15).

    from gknb.settings import limits
    if pages > limits().max_pages: ...

The file holds every key with its documented default; `limits()` reads it once (cached per
override path), validates it and returns a frozen `Limits`. A broken file is a `ConfigError`
whose one line names the file and the key: an unknown key (a misspelling must not silently
leave the default in force), a missing key, a wrong type (bool is not a number) or a value that
is not positive.

Operators and tests override single keys with an overlay file named by the GKNB_LIMITS
environment variable (only the keys to change; the same checks apply and name that file). The
environment reaches worker processes, so the pool sees the same limits as the parent.

Imports only yaml: `gknb extract` reads limits on its text path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from gknb.errors import ConfigError
from gknb.paths import SCHEMAS_DIR

LIMITS_FILE_NAME = "limits.yaml"
# An overlay YAML file: its keys replace the packaged defaults key by key.
LIMITS_ENV = "GKNB_LIMITS"


@dataclass(frozen=True)
class Limits:
    """One value per key of schemas/limits.yaml (see the file for what each bounds)."""

    # per document
    max_pages: int
    max_image_pixels: int
    max_text_bytes: int
    extract_timeout_seconds: float
    html_max_span: int
    max_count: int
    # crawler
    request_deadline_seconds: float
    robots_max_bytes: int
    robots_timeout_seconds: float
    max_crawl_delay_seconds: float
    site_time_budget_seconds: float


# The type each key's value must have: whole numbers for counts and sizes, any number for seconds.
_TYPES: dict[str, type] = {f.name: (int if f.type in ("int", int) else float) for f in fields(Limits)}


def limits_file() -> Path:
    """The packaged defaults (under SCHEMAS_DIR, so GKNB_SCHEMAS_DIR redirects it too)."""
    return SCHEMAS_DIR / LIMITS_FILE_NAME


def _read(path: Path) -> dict[str, Any]:
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such limits file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of limit: value, got {type(raw).__name__}")
    return raw


def _check(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _TYPES:
            known = ", ".join(_TYPES)
            raise ConfigError(f"{path}: unknown limit {key!r} (known: {known})")
        want = _TYPES[key]
        ok = isinstance(value, int) if want is int else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            kind = "a whole number" if want is int else "a number"
            raise ConfigError(f"{path}: {key} must be {kind}, got {value!r}")
        if value != value or value in (float("inf"), float("-inf")):  # nan / inf
            raise ConfigError(f"{path}: {key} must be a finite number, got {value!r}")
        if value <= 0:
            raise ConfigError(f"{path}: {key} must be positive, got {value!r}")
        values[key] = want(value)
    return values


@lru_cache(maxsize=8)
def _load(defaults: str, overlay: str | None) -> Limits:
    path = Path(defaults)
    values = _check(path, _read(path))
    missing = [k for k in _TYPES if k not in values]
    if missing:
        raise ConfigError(f"{path}: missing limit {missing[0]!r}")
    if overlay:
        over = Path(overlay)
        values.update(_check(over, _read(over)))
    return Limits(**values)


def limits() -> Limits:
    """The limits in force: schemas/limits.yaml, overlaid by the GKNB_LIMITS file if set. Cached."""
    return _load(str(limits_file()), os.environ.get(LIMITS_ENV) or None)


def clear_cache() -> None:
    """Forget loaded limits (tests that rewrite a limits file in place)."""
    _load.cache_clear()
