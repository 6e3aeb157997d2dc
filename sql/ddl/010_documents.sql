-- Every file seen (raw → core). See schemas/tables/documents.yaml for what each column means.
CREATE TABLE IF NOT EXISTS documents (
    document_id   VARCHAR NOT NULL PRIMARY KEY,
    source_path   VARCHAR,
    url           VARCHAR,
    sha256        VARCHAR NOT NULL,
    size          BIGINT NOT NULL,
    format        VARCHAR,
    status        VARCHAR NOT NULL,
    reason        VARCHAR,
    reason_kind   VARCHAR,
    fetched_at    TIMESTAMP,
    http_status   INTEGER,
    etag          VARCHAR,
    last_modified VARCHAR,
    first_seen    TIMESTAMP NOT NULL,
    report_id     VARCHAR,
    run_id        VARCHAR,
    agency_column_url VARCHAR
);
