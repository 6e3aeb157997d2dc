-- The template catalog with its Chinese labels; gknb.warehouse.schema reloads it from gknb.catalog.
CREATE TABLE IF NOT EXISTS template_cells (
    template   VARCHAR NOT NULL,
    section    INTEGER NOT NULL,
    item       VARCHAR NOT NULL,
    row_key    VARCHAR NOT NULL,
    col_key    VARCHAR NOT NULL,
    row_label  VARCHAR NOT NULL,
    col_label  VARCHAR NOT NULL,
    value_type VARCHAR NOT NULL,
    role       VARCHAR NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (template, section, row_key, col_key)
);
