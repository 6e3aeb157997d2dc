-- How 2019 and 2021 cells line up; reloaded from schemas/cell_crosswalk.csv on every build.
CREATE TABLE IF NOT EXISTS cell_crosswalk (
    template   VARCHAR NOT NULL,
    section    INTEGER NOT NULL,
    row_key    VARCHAR NOT NULL,
    col_key    VARCHAR NOT NULL,
    measure    VARCHAR NOT NULL,
    comparable BOOLEAN NOT NULL,
    note       VARCHAR,
    PRIMARY KEY (template, section, row_key, col_key)
);
