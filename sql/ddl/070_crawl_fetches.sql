-- The crawl state (gknb.crawl), one row per URL. See schemas/tables/crawl_fetches.yaml.
CREATE TABLE IF NOT EXISTS crawl_fetches (
    url           VARCHAR NOT NULL PRIMARY KEY,
    kind          VARCHAR NOT NULL,
    site          VARCHAR,
    fetched_at    TIMESTAMP NOT NULL,
    http_status   INTEGER,
    final_url     VARCHAR,
    etag          VARCHAR,
    last_modified VARCHAR,
    content_type  VARCHAR,
    sha256        VARCHAR,
    raw_path      VARCHAR,
    size          BIGINT,
    error_kind    VARCHAR,
    error         VARCHAR,
    attempts      INTEGER,
    seconds       DOUBLE,
    agency_column_url VARCHAR
);
