-- One row per ingest run: counts and where the time went.
CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id          VARCHAR NOT NULL PRIMARY KEY,
    started         TIMESTAMP NOT NULL,
    finished        TIMESTAMP,
    trigger         VARCHAR,
    workers         INTEGER,
    documents       INTEGER NOT NULL,
    loaded          INTEGER NOT NULL,
    rejected        INTEGER NOT NULL,
    unchanged       INTEGER NOT NULL,
    duplicates      INTEGER NOT NULL,
    superseded      INTEGER NOT NULL,
    extract_seconds DOUBLE NOT NULL,
    load_seconds    DOUBLE NOT NULL,
    wall_seconds    DOUBLE,
    urls            INTEGER,
    requests        INTEGER,
    fetch_failures  INTEGER,
    bytes_downloaded BIGINT,
    flow_run_id     VARCHAR
);
