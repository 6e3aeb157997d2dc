-- Cells with their report's dimensions and the catalog's Chinese labels.
-- v_cells_history: every version of every report (is_current tells which one counts).
-- v_cells: current versions only - what analysts count.
-- `number` is what rollups add up: the value; 0 for a printed empty cell (blank) or a word such
-- as 无 (nil); NULL for a part the document lacks (missing) - unknown is not zero. Both are DOUBLE
-- for reading (cells.value keeps the exact DECIMAL); `position` is the cell's order in the
-- official table, for printing tables as published.
CREATE OR REPLACE VIEW v_cells_history AS
SELECT
    r.report_id, r.agency, r.agency_kind, r.agency_key, r.year, r.template,
    r.province, r.city, r.district, r.adcode, r.published, r.is_current, r.superseded_by,
    c.section, c.item, c.row_key, c.col_key, t.row_label, t.col_label, t.value_type, t.position,
    c.status, CAST(c.value AS DOUBLE) AS value, c.raw, c.page, c.confidence,
    CAST(CASE c.status WHEN 'value' THEN c.value WHEN 'blank' THEN 0 WHEN 'nil' THEN 0 END AS DOUBLE) AS number,
    d.source_path, d.url
FROM cells c
JOIN reports r USING (report_id)
LEFT JOIN template_cells t
       ON t.template = r.template AND t.section = c.section AND t.row_key = c.row_key AND t.col_key = c.col_key
LEFT JOIN documents d ON d.document_id = r.document_id;

CREATE OR REPLACE VIEW v_cells AS
SELECT * EXCLUDE (is_current, superseded_by) FROM v_cells_history WHERE is_current;
