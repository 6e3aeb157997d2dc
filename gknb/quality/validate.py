"""The GX side: each check becomes an ExpectationSuite validated over its observation frame, and
every row an expectation rejects becomes a finding. The results also go to GX Data Docs.

GX runs in an ephemeral context with a pandas datasource (its SQL datasource returns nothing on
DuckDB); suites and results live in memory and are rendered into a local Data Docs folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import pandas as pd

from gknb.quality.errors import SuiteError
from gknb.quality.findings import FINDING_COLUMNS, format_message, format_value
from gknb.quality.suites import Check

DOCS_SITE = "gknb_local"
_RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["obs_id"]}


def _gx():
    # No usage analytics: the pipeline never talks to the network.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


def _context(gx, docs_dir: Path | None):
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if docs_dir is not None:
        ctx.add_data_docs_site(site_name=DOCS_SITE, site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir)},
        })
    return ctx


def build_suite(gx, gxe, check: Check):
    """The check as a GX ExpectationSuite; each expectation carries its check's why and message."""
    suite = gx.ExpectationSuite(
        name=check.check_id,
        meta={"why": check.why, "severity": check.severity, "table": check.table,
              "sql": f"sql/checks/{check.sql}"},
    )
    for spec in check.specs:
        cls = getattr(gxe, spec.expectation)
        kwargs = dict(spec.kwargs)
        if spec.where is not None:
            kwargs["row_condition"] = _condition(*spec.where)
        suite.add_expectation(cls(
            **kwargs,
            description=f"{check.check_id} ({check.severity}): {check.why}",
            meta={"check_id": check.check_id, "message": spec.message},
        ))
    return suite


def _condition(column: str, op: str, value):
    from great_expectations.expectations.row_conditions import Column

    col = Column(column)
    ops = {"==": col.__eq__, "!=": col.__ne__, "<": col.__lt__, "<=": col.__le__,
           ">": col.__gt__, ">=": col.__ge__}
    if op not in ops:
        raise SuiteError(f"unknown operator {op!r} in a row condition on {column}")
    return ops[op](value)


def validate(
    checks: list[Check], observations: dict[str, pd.DataFrame], *, run_id: str,
    docs_dir: Path | None = None, on_check=None,
) -> tuple[pd.DataFrame, Path | None]:
    """Validates every check's frame; returns (findings, Data Docs index or None).
    `on_check(check_id)` is called after each check (progress bars)."""
    gx, gxe = _gx()
    staging = None
    if docs_dir is not None:
        docs_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{docs_dir.name}.", dir=docs_dir.parent))
    try:
        ctx = _context(gx, staging)
        source = ctx.data_sources.add_pandas("gknb_warehouse")
        rows: list[dict] = []
        for check in checks:
            frame = observations[check.check_id]
            rows.extend(_validate_check(gx, gxe, ctx, source, check, frame, run_id))
            if on_check is not None:
                on_check(check.check_id)
        index = None
        if staging is not None:
            ctx.build_data_docs(site_names=[DOCS_SITE])
            _swap_in(staging, docs_dir)
            staging = None
            index = docs_dir / "index.html"
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    findings = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    return findings, index


def _validate_check(gx, gxe, ctx, source, check: Check, frame: pd.DataFrame, run_id: str) -> list[dict]:
    suite = ctx.suites.add(build_suite(gx, gxe, check))
    asset = source.add_dataframe_asset(name=check.check_id)
    batch = asset.add_batch_definition_whole_dataframe("current_reports")
    definition = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=check.check_id, data=batch, suite=suite)
    )
    checkpoint = ctx.checkpoints.add(gx.Checkpoint(
        name=check.check_id, validation_definitions=[definition], result_format=_RESULT_FORMAT,
    ))
    result = checkpoint.run(batch_parameters={"dataframe": frame})
    by_id = frame.set_index("obs_id", drop=False)
    findings: list[dict] = []
    for validation in result.run_results.values():
        for expectation_result in validation.results:
            info = expectation_result.exception_info or {}
            if info.get("raised_exception"):
                raise SuiteError(f"{check.check_id}: GX failed: {info.get('exception_message')}")
            if expectation_result.success:
                continue
            spec = _spec_for(check, expectation_result.expectation_config)
            for hit in expectation_result.result.get("unexpected_index_list") or []:
                row = by_id.loc[hit["obs_id"]].to_dict()
                findings.append(_finding(run_id, check, spec, row))
    return findings


def _spec_for(check: Check, config):
    message = (config.meta or {}).get("message")
    for spec in check.specs:
        if spec.message == message:
            return spec
    raise SuiteError(f"{check.check_id}: a GX result matches none of its expectations")


@lru_cache(maxsize=1)
def _labels() -> dict[tuple[str, str], tuple[str, str]]:
    """Printed labels by (row_key, col_key), for frames too large to carry them on every row."""
    from gknb.catalog import load_catalog

    out: dict[tuple[str, str], tuple[str, str]] = {}
    for c in load_catalog().cells:
        out.setdefault((c.row_key, c.col_key), (c.row_label, c.col_label))
    return out


def _finding(run_id: str, check: Check, spec, row: dict) -> dict:
    if "row_label" not in row and "col_label" not in row:
        row_label, col_label = _labels().get((row.get("row_key"), row.get("col_key")), (None, None))
        row = {**row, "row_label": row_label or row.get("row_key"), "col_label": col_label or row.get("col_key")}
    page = row.get("page")
    page = None if page is None or pd.isna(page) else int(page)
    expected = spec.expected_text if spec.expected_text is not None else format_value(row.get("expected"))
    return {
        "run_id": run_id, "report_id": row["report_id"], "check_id": check.check_id,
        "severity": check.severity, "row_key": _text(row.get("row_key")),
        "col_key": _text(row.get("col_key")), "expected": expected,
        "observed": format_value(row.get("observed")), "page": page,
        "message": format_message(spec.message, row),
    }


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _swap_in(staging: Path, docs_dir: Path) -> None:
    """Replaces the Data Docs folder whole, so a reader never sees two runs mixed."""
    old = None
    if docs_dir.exists():
        old = docs_dir.with_name(f".{docs_dir.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        docs_dir.rename(old)
    staging.chmod(0o755)  # mkdtemp makes it private; the docs are for every reader
    staging.rename(docs_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
