-- The quality stage's tables (gknb check; declared in schemas/tables/dq_runs.yaml and
-- dq_findings.yaml, owned by gknb.quality).
CREATE TABLE IF NOT EXISTS dq_runs (
    run_id    VARCHAR NOT NULL PRIMARY KEY,
    started   TIMESTAMP NOT NULL,
    finished  TIMESTAMP NOT NULL,
    checks    INTEGER NOT NULL,
    reports   INTEGER NOT NULL,
    errors    INTEGER NOT NULL,
    warnings  INTEGER NOT NULL,
    data_docs VARCHAR
);
CREATE TABLE IF NOT EXISTS dq_findings (
    run_id    VARCHAR NOT NULL,
    report_id VARCHAR NOT NULL,
    check_id  VARCHAR NOT NULL,
    severity  VARCHAR NOT NULL,
    row_key   VARCHAR,
    col_key   VARCHAR,
    expected  VARCHAR,
    observed  VARCHAR,
    page      INTEGER,
    message   VARCHAR NOT NULL
);
