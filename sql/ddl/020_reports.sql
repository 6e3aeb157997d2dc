-- One report of one agency for one year; old versions stay as history. See schemas/tables/reports.yaml.
CREATE TABLE IF NOT EXISTS reports (
    report_id          VARCHAR NOT NULL PRIMARY KEY,
    agency             VARCHAR,
    agency_kind        VARCHAR,
    agency_key         VARCHAR,
    year               INTEGER,
    template           VARCHAR NOT NULL,
    province           VARCHAR,
    city               VARCHAR,
    district           VARCHAR,
    adcode             VARCHAR,
    published          DATE,
    format             VARCHAR,
    pages              INTEGER,
    document_id        VARCHAR NOT NULL,
    superseded_by      VARCHAR,
    is_current         BOOLEAN NOT NULL,
    narrative_requests INTEGER,
    warnings           VARCHAR[],
    cells_missing      INTEGER NOT NULL,
    load_seq           BIGINT NOT NULL,
    loaded_at          TIMESTAMP NOT NULL
);
