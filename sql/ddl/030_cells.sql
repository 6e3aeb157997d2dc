-- The cells of every report, long format. No primary-key index: at national scale (30 M cells a
-- year) the index costs more than it saves; uniqueness is a registry check (cells.unique_cell)
-- and load_document writes a report's cells once, in one transaction.
CREATE TABLE IF NOT EXISTS cells (
    report_id  VARCHAR NOT NULL,
    section    INTEGER NOT NULL,
    item       VARCHAR NOT NULL,
    row_key    VARCHAR NOT NULL,
    col_key    VARCHAR NOT NULL,
    status     VARCHAR NOT NULL,
    value      DECIMAL(18,6),
    raw        VARCHAR,
    page       INTEGER,
    confidence DOUBLE
);
