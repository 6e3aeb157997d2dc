-- The cells the checks read (run after the engine has filled q_scope, the reports to check):
-- those of the reports in scope and of the reports they are compared with (last year's report of
-- the same agency for S3.carry; the district's other agencies for hierarchy). On a full run that
-- is every current report.
CREATE OR REPLACE TEMP TABLE q_grid_reports AS
WITH neighbours AS (
    SELECT s.report_id FROM q_scope s
    UNION
    SELECT prev.report_id
    FROM q_scope s JOIN q_reports r USING (report_id)
    JOIN q_reports prev ON prev.agency_key = r.agency_key AND prev.year = r.year - 1
    UNION
    SELECT m.report_id
    FROM q_scope s JOIN q_reports r USING (report_id)
    JOIN q_reports m ON m.district = r.district AND m.province IS NOT DISTINCT FROM r.province
     AND m.city IS NOT DISTINCT FROM r.city
    WHERE r.agency_kind = $government_kind AND r.district IS NOT NULL
)
SELECT r.report_id, r.template
FROM q_reports r SEMI JOIN neighbours n ON n.report_id = r.report_id;

-- `num` is the number an equation uses: the value, or 0 for blank and nil (nothing, or 无,
-- printed); NULL for missing (and any status the contract does not know).
CREATE OR REPLACE TEMP VIEW q_cells AS
SELECT c.report_id, g.template, c.section, c.row_key, c.col_key, c.status,
       CASE WHEN c.status = 'value' THEN CAST(c.value AS DOUBLE)
            WHEN c.status IN ('blank', 'nil') THEN 0.0 END AS num,
       CAST(c.value AS DOUBLE) AS value, c.raw, c.page
FROM cells c
JOIN q_grid_reports g ON g.report_id = c.report_id;
