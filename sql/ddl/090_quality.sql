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
    data_docs VARCHAR,
    flow_run_id VARCHAR
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
-- Columns added with issue 10 (an existing warehouse gains them at its next build).
ALTER TABLE dq_findings ADD COLUMN IF NOT EXISTS cause VARCHAR;
ALTER TABLE dq_findings ADD COLUMN IF NOT EXISTS section INTEGER;
ALTER TABLE dq_runs ADD COLUMN IF NOT EXISTS scope VARCHAR;
ALTER TABLE dq_runs ADD COLUMN IF NOT EXISTS checked INTEGER;
ALTER TABLE dq_runs ADD COLUMN IF NOT EXISTS checks_version VARCHAR;
ALTER TABLE dq_runs ADD COLUMN IF NOT EXISTS reports_with_errors INTEGER;
-- What each current report looked like when it was last checked (one row per report): the
-- incremental run re-checks a report whose row changed, and its neighbours.
CREATE TABLE IF NOT EXISTS dq_checked (
    report_id   VARCHAR NOT NULL PRIMARY KEY,
    run_id      VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    agency_key  VARCHAR,
    agency_kind VARCHAR,
    year        INTEGER,
    province    VARCHAR,
    city        VARCHAR,
    district    VARCHAR
);
-- Per run, check, severity and cause: how many findings and reports (the quality trend).
CREATE TABLE IF NOT EXISTS dq_run_totals (
    run_id   VARCHAR NOT NULL,
    check_id VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    cause    VARCHAR NOT NULL,
    findings INTEGER NOT NULL,
    reports  INTEGER NOT NULL
);
