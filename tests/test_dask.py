"""Extraction on a Dask cluster through prefect-dask's DaskTaskRunner (one task per group of
documents) loads the same rows as the local run (a distributed.LocalCluster stands in for the cluster)."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "site"))
from fixture_site import isolate_prefect  # noqa: E402

isolate_prefect()

from gknb.flows.ingest import ingest  # noqa: E402

CELLS = ("SELECT r.report_id, r.agency, r.year, c.section, c.row_key, c.col_key, c.status, c.value "
         "FROM reports r JOIN cells c USING (report_id) ORDER BY ALL")


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    # Threads, not processes: the workers share this process's temporary Prefect server.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as local:
        yield local


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_ingest_on_dask_loads_the_same_rows_as_locally(cluster, samples, tmp_path, monkeypatch):
    files = [str(p) for p in sorted((samples / "seeds").glob("*.txt"))[:3]] + [str(samples / "markdown")]
    local_db, dask_db = tmp_path / "local.duckdb", tmp_path / "dask.duckdb"

    local = ingest(files, str(local_db), workers=1)
    # The address comes from the environment, as on a real deployment. Groups of 2 documents: two
    # extract-group tasks for the cluster (a real run's groups hold a few hundred).
    monkeypatch.setenv("GKNB_DASK_ADDRESS", cluster.scheduler_address)
    on_dask = ingest(files, str(dask_db), group_size=2)

    assert local.loaded == on_dask.loaded == 4
    local_rows, dask_rows = _rows(local_db, CELLS), _rows(dask_db, CELLS)
    assert len(local_rows) > 400 and dask_rows == local_rows
    # The extract-group tasks (one per group of documents) really ran on the cluster's workers.
    assert _executed_on_workers(cluster) >= 2


def _executed_on_workers(cluster) -> int:
    from distributed import Client

    with Client(cluster) as client:
        counts = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return sum(counts.values())


def test_worker_processes_that_are_daemonic_extract_in_process(samples, tmp_path):
    """`dask worker` and LocalCluster(processes=True) start daemonic processes, which may not have
    children: the group is extracted in the worker itself, with the same cells as locally."""
    from distributed import LocalCluster

    files = [str(p) for p in sorted((samples / "seeds").glob("*.txt"))[:2]]
    local_db, dask_db = tmp_path / "local.duckdb", tmp_path / "dask.duckdb"
    local = ingest(files, str(local_db), workers=1)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as procs:
        on_dask = ingest(files, str(dask_db), dask_address=procs.scheduler_address)
    assert on_dask.rejected == 0 and local.loaded == on_dask.loaded == 2
    assert _rows(dask_db, CELLS) == _rows(local_db, CELLS)
