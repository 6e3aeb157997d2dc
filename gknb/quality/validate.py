"""The GX side: each check is an ExpectationSuite; GX validates the check's failing rows (those the
SQL in DuckDB found, `q_fail`) in bounded batches, and renders the first batch in the Data Docs.

Why not GX's SQL datasource over DuckDB: with GX 1.24.1, duckdb-engine 0.17.0 and DuckDB 1.5.6
(checked December 2026) every metric fails (`table.row_count`: IndexError in
SqlAlchemyExecutionEngine.resolve_metric_bundle), for table and query assets alike. So DuckDB
computes, and GX validates DataFrames of the failing rows only: the memory is bounded by the
batch size whatever the size of the warehouse. Every batch is also a cross-check: GX must reject
exactly the rows the compiled SQL predicate rejected, or the run stops as a defect (SuiteError).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gknb.quality.errors import SuiteError
from gknb.quality.suites import Check

DOCS_SITE = "gknb_local"
DATASOURCE = "gknb_warehouse"


def _gx():
    # No usage analytics: the pipeline never talks to the network.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


def _condition(column: str, op: str, value):
    from great_expectations.expectations.row_conditions import Column

    col = Column(column)
    ops = {"==": col.__eq__, "!=": col.__ne__, "<": col.__lt__, "<=": col.__le__,
           ">": col.__gt__, ">=": col.__ge__}
    if op not in ops:
        raise SuiteError(f"unknown operator {op!r} in a row condition on {column}")
    return ops[op](value)


def build_suite(gx, gxe, check: Check, note: str = ""):
    """The check as a GX ExpectationSuite; each expectation carries its check's why and message."""
    info = check.info
    suite = gx.ExpectationSuite(
        name=check.check_id,
        meta={"title": info.title, "why": info.explanation, "severity": info.severity,
              "cause": info.cause, "table": check.table, "sql": f"sql/checks/{check.sql}"},
    )
    for i, spec in enumerate(check.specs):
        cls = getattr(gxe, spec.expectation)
        kwargs = dict(spec.kwargs)
        if spec.where is not None:
            kwargs["row_condition"] = _condition(*spec.where)
        suite.add_expectation(cls(
            **kwargs,
            description=f"{check.check_id} ({info.severity}, cause {info.cause}): {info.explanation}{note}",
            meta={"check_id": check.check_id, "message": spec.message, "spec": i},
        ))
    return suite


@dataclass
class Validator:
    """One ephemeral GX context for a run: suites, one pandas asset per check, Data Docs."""

    docs_dir: Path | None
    index_columns: tuple[str, ...]
    batch_rows: int = 20000
    # Failing rows of a check listed in its Data Docs page (all are validated; the page stays small).
    render_rows: int = 200
    validated: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.gx, self.gxe = _gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.ctx = self.gx.get_context(mode="ephemeral")
        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        if self.docs_dir is not None:
            self.ctx.add_data_docs_site(site_name=DOCS_SITE, site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(self.docs_dir)},
            })
        self.source = self.ctx.data_sources.add_pandas(DATASOURCE)

    def validate(self, check: Check, batches, counts: list[int], note: str = "") -> None:
        """Validates the check's failing rows, batch by batch (DataFrames with the columns of the
        check's query, agency, year and one `_f<i>` flag per expectation). The first batch (also
        when empty) is stored for the Data Docs; every batch must be rejected by GX exactly where
        the SQL flags say."""
        gx = self.gx
        suite = self.ctx.suites.add(build_suite(gx, self.gxe, check, note))
        asset = self.source.add_dataframe_asset(name=check.check_id)
        definition = asset.add_batch_definition_whole_dataframe("failing_rows")
        validation = self.ctx.validation_definitions.add(
            gx.ValidationDefinition(name=check.check_id, data=definition, suite=suite))
        checkpoint = self.ctx.checkpoints.add(gx.Checkpoint(
            name=check.check_id, validation_definitions=[validation],
            result_format=self._format(check, "COMPLETE")))
        seen = [0] * len(check.specs)
        rows = 0
        for n, whole in enumerate(batches):
            parts = [whole] if n else [whole.iloc[:self.render_rows], whole.iloc[self.render_rows:]]
            for k, frame in enumerate(parts):
                if n == 0 and k == 0:  # the rows the Data Docs list, each with its agency and page
                    result = checkpoint.run(batch_parameters={"dataframe": frame})
                    results = [r for v in result.run_results.values() for r in v.results]
                elif len(frame):
                    batch = definition.get_batch(batch_parameters={"dataframe": frame})
                    results = batch.validate(suite, result_format=self._format(check, "BASIC")).results
                else:
                    continue
                rows += len(frame)
                self._tally(check, frame, results, seen)
        if seen != list(counts):
            raise SuiteError(f"{check.check_id}: GX saw {seen} failing rows, the SQL {counts}")
        self.validated[check.check_id] = rows

    def _tally(self, check: Check, frame, results, seen: list[int]) -> None:
        for r in results:
            info = r.exception_info or {}
            if info.get("raised_exception"):
                raise SuiteError(f"{check.check_id}: GX failed: {info.get('exception_message')}")
            i = int((r.expectation_config.meta or {}).get("spec", -1))
            if not 0 <= i < len(seen):
                raise SuiteError(f"{check.check_id}: a GX result matches none of its expectations")
            got = int((r.result or {}).get("unexpected_count") or 0)
            want = int(frame[f"_f{i}"].fillna(False).astype(bool).sum()) if len(frame) else 0
            if got != want:
                raise SuiteError(
                    f"{check.check_id}: GX rejects {got} rows where the SQL found {want} "
                    f"({check.specs[i].expectation}): the check's SQL predicate and its GX "
                    "expectation disagree")
            seen[i] += got

    def _format(self, check: Check, kind: str) -> dict:
        return {"result_format": kind, "partial_unexpected_count": 20,
                "unexpected_index_column_names": list(self.index_columns)}

    def build_docs(self) -> None:
        if self.docs_dir is not None:
            self.ctx.build_data_docs(site_names=[DOCS_SITE])


def frames(con, sql: str, batch_rows: int):
    """The query's rows as DataFrames of at most about `batch_rows` rows (DuckDB streams them);
    always at least one frame, empty when there are no rows, so every check has a result."""
    result = con.execute(sql)
    vectors = max(1, batch_rows // 2048)
    first = True
    while True:
        frame = result.fetch_df_chunk(vectors)
        if len(frame) == 0:
            if first:
                yield frame
            return
        first = False
        yield frame
