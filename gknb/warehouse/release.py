"""Versioned releases (as PUDL publishes its nightly builds): dated, immutable, the last N kept.

`publish_release(db)` writes

    releases/<UTC date-time>/        e.g. releases/2026-12-06T201500Z/
        warehouse.duckdb             a copy of the published warehouse (read-only file)
        export/                      its Parquet export with datapackage.json (gknb export)
        dictionary.md                the data dictionary (gknb dictionary)
        manifest.json                release name, time, gknb version, the run's summary, row
                                     counts of every table and view, sha256 and size of every file
    releases/latest -> <UTC date-time>   symlink to the newest release
    releases/LATEST                  its name as text (for systems without symlinks)

Everything is built in a hidden staging folder and renamed into place in one step, then `latest`
is repointed (atomic replace of a symlink and of the text file), then releases beyond the newest
`keep` are deleted. A failure at any step before the rename leaves no folder and `latest`
unchanged: a failed run publishes nothing. Released files are made read-only; a release is never
rewritten (a second release in the same second gets a suffix).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from datetime import datetime, timezone
from pathlib import Path

from gknb.warehouse.errors import WarehouseError

LATEST_LINK = "latest"
LATEST_FILE = "LATEST"
MANIFEST = "manifest.json"
NAME_FORMAT = "%Y-%m-%dT%H%M%SZ"


def release_names(releases_dir: Path) -> list[str]:
    """The dated release folders, oldest first (names sort by time)."""
    if not releases_dir.exists():
        return []
    return sorted(p.name for p in releases_dir.iterdir()
                  if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and p.name[:1].isdigit())


def publish_release(db: Path | str, releases_dir: Path | str | None = None, keep: int = 7,
                    summary: dict | None = None, now: datetime | None = None) -> Path:
    """Publish the warehouse `db` as a new dated release; returns its folder."""
    from gknb.paths import default_releases_dir
    from gknb.warehouse.publish import connect_readonly

    if keep < 1:
        raise WarehouseError(f"keep={keep}: a release folder keeps at least the newest release")
    db = Path(db)
    releases_dir = Path(releases_dir) if releases_dir is not None else default_releases_dir()
    connect_readonly(db).close()  # a missing or unreadable warehouse: its one-line error, nothing written
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    try:
        releases_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"{releases_dir}: cannot create the releases folder: {exc.strerror or exc}") from exc
    name = _free_name(releases_dir, now.strftime(NAME_FORMAT))
    from gknb.warehouse.publish import remove_stale, unique_temp

    for tag in ("part", "tmp"):
        remove_stale(releases_dir, None, tag)  # staging folders and links of killed runs
    staging = unique_temp(releases_dir / name)
    try:
        staging.mkdir()
        _build(db, staging, name, now, summary or {})
        _read_only(staging)
        target = releases_dir / name
        staging.rename(target)
    except BaseException as exc:
        _remove(staging)
        if isinstance(exc, OSError):
            raise WarehouseError(f"{releases_dir}: release failed: {exc.strerror or exc}") from exc
        raise
    _point_latest(releases_dir, name)
    _prune(releases_dir, keep)
    return target


def _free_name(releases_dir: Path, base: str) -> str:
    name, n = base, 1
    while (releases_dir / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _build(db: Path, staging: Path, name: str, now: datetime, summary: dict) -> None:
    import duckdb

    from gknb import __version__
    from gknb.warehouse.dictionary import render_dictionary
    from gknb.warehouse.export import export

    copy = staging / "warehouse.duckdb"
    # The published file is only ever replaced whole (gknb.warehouse.publish), never written in
    # place, so copying the file we opened gives one consistent version.
    with db.open("rb") as src, copy.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    exported = export(copy, staging / "export", "parquet", release=True)
    (staging / "dictionary.md").write_text(render_dictionary(), encoding="utf-8")
    con = duckdb.connect(str(copy), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
        # Tables counted; views as exported (counting a view evaluates it: v_cells joins every cell)
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()
    counts = dict(sorted({**counts, **exported}.items()))
    files = {}
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        files[str(path.relative_to(staging))] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
    manifest = {
        "release": name,
        "created": now.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "gknb_version": __version__,
        "source": str(db.absolute()),
        "summary": summary,
        "row_counts": counts,
        "files": files,
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n",
                                    encoding="utf-8")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def _point_latest(releases_dir: Path, name: str) -> None:
    """Repoint `latest` (a relative symlink) and write LATEST, each replaced atomically."""
    link, tmp_link = releases_dir / LATEST_LINK, releases_dir / f".{LATEST_LINK}.tmp-{os.getpid()}"
    try:
        if tmp_link.is_symlink() or tmp_link.exists():
            tmp_link.unlink()
        os.symlink(name, tmp_link, target_is_directory=True)
        os.replace(tmp_link, link)
    except OSError:  # a file system without symlinks: LATEST still says which release is newest
        if tmp_link.is_symlink():
            tmp_link.unlink()
    text, tmp_text = releases_dir / LATEST_FILE, releases_dir / f".{LATEST_FILE}.tmp-{os.getpid()}"
    tmp_text.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp_text, text)


def _prune(releases_dir: Path, keep: int) -> list[str]:
    names = release_names(releases_dir)
    removed = names[:-keep] if len(names) > keep else []
    for name in removed:
        _remove(releases_dir / name)
    return removed


def _remove(folder: Path) -> None:
    """Delete a (read-only) release folder."""
    if not folder.exists():
        return
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    shutil.rmtree(folder, ignore_errors=True)
