"""The GX Data Docs of one warehouse: a site per warehouse, the last N check runs, offline.

Layout (docs_dir = gknb.paths.data_docs_dir(db), i.e. data/data_docs/<warehouse stem>/):

    index.html             gknb's index: the latest run's checks (links into its GX pages) and
                           the runs kept, newest first
    assets/                the vendored CSS/JS GX's pages load from CDNs (gknb/quality/assets)
    runs/<run_id>/         one GX site per run: index.html, validations/, expectations/, static/
    runs/<run_id>/gknb_run.json   the run's summary, for the index

GX writes each run's site into a staging folder (`.staging-<run_id>`), whose pages are then
rewritten to load the local assets by relative paths and renamed into runs/; the index is
replaced atomically; runs beyond the N kept are deleted; a staging folder a killed run left
behind is deleted by the next run (which holds the warehouse's writer lock).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from datetime import datetime
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
# CDN URL (as GX 1.24's templates print it) -> file under assets/
CDN_ASSETS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark/bootstrap-prefers-dark.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery-3.7.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper/popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega/vega-embed.min.js",
}
# GX's logos come from S3 (an <img> and a CSS background); the site's own static/ has them.
GX_IMAGE_HOST = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
SITE_IMAGE = "static/images/logo-long.png"
_URL_ATTR = re.compile(r'''(?P<attr>\b(?:src|href)=|url\()(?P<q>["'])(?P<url>https?://[^"']+)(?P=q)''')
RUN_SUMMARY = "gknb_run.json"


class RunSite:
    """The Data Docs of one run: GX renders into `staging`; `publish` makes it one of the site's runs."""

    def __init__(self, docs_dir: Path, run_id: str):
        self.docs_dir = Path(docs_dir)
        self.run_id = run_id
        self.docs_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.docs_dir.glob(".staging-*"):  # a killed run's; we hold the writer lock
            shutil.rmtree(stale, ignore_errors=True)
        self.staging = self.docs_dir / f".staging-{run_id}"
        self.staging.mkdir()

    @property
    def runs_dir(self) -> Path:
        return self.docs_dir / "runs"

    def publish(self, *, keep_runs: int, summary: dict, checks: list[dict]) -> Path:
        """Moves the run's site into runs/, rewrites the index, keeps the last `keep_runs` runs;
        returns the index.html path."""
        install_assets(self.docs_dir)
        final = self.runs_dir / self.run_id
        localise_site(self.staging, final_root=final, assets=self.docs_dir / "assets")
        pages = {}
        for check in checks:
            page = next(iter(sorted((self.staging / "validations").rglob(f"*-{check['check_id']}.html"))), None)
            pages[check["check_id"]] = page.relative_to(self.staging).as_posix() if page else None
        record = {**summary, "checks": [{**c, "page": pages.get(c["check_id"])} for c in checks]}
        (self.staging / RUN_SUMMARY).write_text(json.dumps(record, ensure_ascii=False, default=str, indent=1),
                                                encoding="utf-8")
        self.runs_dir.mkdir(exist_ok=True)
        self.staging.chmod(0o755)
        self.staging.rename(final)
        kept = sorted(p for p in self.runs_dir.iterdir() if p.is_dir())
        for old in kept[:-keep_runs] if keep_runs else []:
            shutil.rmtree(old, ignore_errors=True)
        for leftover in ("validations", "expectations", "static"):  # the one-site layout of before
            if (self.docs_dir / leftover).is_dir():
                shutil.rmtree(self.docs_dir / leftover, ignore_errors=True)
        index = self.docs_dir / "index.html"
        tmp = self.docs_dir / f".index.html.{self.run_id}.tmp"
        tmp.write_text(render_index(self.docs_dir), encoding="utf-8")
        os.replace(tmp, index)
        return index

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def install_assets(docs_dir: Path) -> Path:
    """Copies the vendored assets into the site (idempotent)."""
    target = docs_dir / "assets"
    shutil.copytree(ASSETS_DIR, target, dirs_exist_ok=True)
    return target


def localise_site(site: Path, *, final_root: Path, assets: Path) -> int:
    """Rewrites every page of a GX site (now at `site`, later at `final_root`) to load CSS/JS from
    `assets` and GX's logo from the site's static/, by relative paths; returns the URLs rewritten."""
    count = 0
    for page in site.rglob("*.html"):
        where = final_root / page.relative_to(site).parent
        text = page.read_text(encoding="utf-8")

        def local(m: re.Match) -> str:
            nonlocal count
            url = m.group("url")
            if url in CDN_ASSETS:
                target = assets / CDN_ASSETS[url]
            elif url.startswith(GX_IMAGE_HOST):
                target = final_root / SITE_IMAGE
            else:
                return m.group(0)
            count += 1
            return f'{m.group("attr")}{m.group("q")}{os.path.relpath(target, where)}{m.group("q")}'

        page.write_text(_URL_ATTR.sub(local, text), encoding="utf-8")
    return count


def _runs(docs_dir: Path) -> list[dict]:
    out = []
    runs = docs_dir / "runs"
    for folder in sorted(runs.iterdir(), reverse=True) if runs.is_dir() else []:
        path = folder / RUN_SUMMARY
        if path.exists():
            try:
                out.append({**json.loads(path.read_text(encoding="utf-8")), "_folder": folder.name})
            except (OSError, ValueError):
                continue
    return out


def render_index(docs_dir: Path) -> str:
    """gknb's index of the site: the latest run's checks and the runs kept (all local links)."""
    e = html.escape
    runs = _runs(docs_dir)
    latest = runs[0] if runs else None
    rows = []
    if latest:
        for c in latest.get("checks", []):
            href = f"runs/{latest['_folder']}/{c['page']}" if c.get("page") else None
            name = f'<a href="{e(href)}">{e(c["check_id"])}</a>' if href else e(c["check_id"])
            state = ('<span class="text-success">passed</span>' if not c.get("findings")
                     else f'<span class="text-danger">{int(c["findings"])} finding(s)</span>')
            rows.append(f"<tr><td>{name}</td><td>{e(c.get('title') or '')}</td><td>{e(c.get('severity') or '')}</td>"
                        f"<td>{e(c.get('cause') or '')}</td><td>{state}</td></tr>")
    run_rows = []
    for r in runs:
        run_rows.append(
            f'<tr><td><a href="runs/{e(r["_folder"])}/index.html">{e(r.get("run_id", r["_folder"]))}</a></td>'
            f"<td>{e(str(r.get('started', ''))[:19])}</td><td>{e(str(r.get('scope', '')))}</td>"
            f"<td>{e(str(r.get('reports', '')))}</td><td>{e(str(r.get('checked', '')))}</td>"
            f"<td>{e(str(r.get('errors', '')))}</td><td>{e(str(r.get('warnings', '')))}</td></tr>")
    title = f"gknb Data Docs: {e(str(latest.get('warehouse', ''))) if latest else ''}"
    head = (f"<h1>{title}</h1><p>Latest check run <strong>{e(latest['run_id'])}</strong> "
            f"({e(str(latest.get('scope', '')))}): {e(str(latest.get('reports', '')))} current reports, "
            f"{e(str(latest.get('checked', '')))} checked, {e(str(latest.get('errors', '')))} errors, "
            f"{e(str(latest.get('warnings', '')))} warnings. Each check's GX page lists its failing rows "
            "with agency, year, section, row, column and page.</p>") if latest else "<h1>gknb Data Docs</h1><p>No run yet.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gknb Data Docs</title>
<link rel="stylesheet" href="assets/bootstrap/bootstrap.min.css">
</head><body><main class="container my-4">
{head}
<h2 class="h4 mt-4">Checks of the latest run</h2>
<table class="table table-sm table-striped"><thead><tr><th>check</th><th>what</th><th>severity</th><th>cause</th><th>result</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
<h2 class="h4 mt-4">Runs kept (newest first)</h2>
<table class="table table-sm"><thead><tr><th>run</th><th>started (UTC)</th><th>scope</th><th>reports</th><th>checked</th><th>errors</th><th>warnings</th></tr></thead>
<tbody>{''.join(run_rows)}</tbody></table>
<p class="text-muted small">Generated {e(datetime.now().strftime('%Y-%m-%d %H:%M'))} by gknb check. What each check means: docs/quality.md (schemas/checks.yaml).</p>
</main></body></html>
"""
