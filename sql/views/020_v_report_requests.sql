-- One row per current report: the section-3 总计 (col_key = 'total') column, named.
-- denied, unavailable and rejected are the sums of the template's denied_*, unavailable_* and
-- rejected_* rows (8, 3 and 5 in both templates: counted from template_cells, not written here);
-- other = the 其他处理 row: 2019 `other`; 2021 `other` where the report prints the single (variant)
-- row, else the sum of the template's other_* sub-rows.
-- A sum is NULL when any of its parts is missing: a wrong total is worse than a gap.
CREATE OR REPLACE VIEW v_report_requests AS
WITH total_column AS (
    SELECT c.report_id, r.template, c.row_key,
           regexp_extract(c.row_key, '^([a-z]+)_', 1) AS part,
           CASE c.status WHEN 'value' THEN c.value WHEN 'blank' THEN 0 WHEN 'nil' THEN 0 END AS n
    FROM cells c
    JOIN reports r USING (report_id)
    WHERE c.section = 3 AND c.col_key = 'total' AND r.is_current
),
part_rows AS (  -- how many rows make up each summed part in each template, from the catalog
    SELECT template, regexp_extract(row_key, '^([a-z]+)_', 1) AS part, count(*) AS rows
    FROM template_cells
    WHERE section = 3 AND col_key = 'total' AND role = 'cell'
      AND regexp_extract(row_key, '^([a-z]+)_', 1) IN ('denied', 'unavailable', 'rejected', 'other')
    GROUP BY ALL
),
parts AS (  -- a part's sum where every one of its rows is known
    SELECT t.report_id, t.part, CASE WHEN count(t.n) = any_value(p.rows) THEN sum(t.n) END AS n
    FROM total_column t
    JOIN part_rows p ON p.template = t.template AND p.part = t.part
    GROUP BY ALL
),
per_report AS (
    SELECT t.report_id,
        max(t.n) FILTER (WHERE t.row_key = 'new_requests')      AS new_requests,
        max(t.n) FILTER (WHERE t.row_key = 'carried_over')      AS carried_over,
        max(t.n) FILTER (WHERE t.row_key = 'granted')           AS granted,
        max(t.n) FILTER (WHERE t.row_key = 'partially_granted') AS partially_granted,
        max(t.n) FILTER (WHERE t.row_key = 'other')             AS other_printed,
        count(t.n) FILTER (WHERE t.row_key = 'other')           AS other_rows,
        max(t.n) FILTER (WHERE t.row_key = 'total_processed')   AS total_processed,
        max(t.n) FILTER (WHERE t.row_key = 'carried_forward')   AS carried_forward
    FROM total_column t
    GROUP BY t.report_id
),
summed AS (
    SELECT report_id,
        max(n) FILTER (WHERE part = 'denied')      AS denied,
        max(n) FILTER (WHERE part = 'unavailable') AS unavailable,
        max(n) FILTER (WHERE part = 'rejected')    AS rejected,
        max(n) FILTER (WHERE part = 'other')       AS other_subrows
    FROM parts
    GROUP BY report_id
)
SELECT
    r.report_id, r.agency, r.agency_kind, r.agency_key, r.year, r.template,
    r.province, r.city, r.district, r.adcode, r.place_level, r.published,
    CAST(p.new_requests AS BIGINT)      AS new_requests,
    CAST(p.carried_over AS BIGINT)      AS carried_over,
    CAST(p.granted AS BIGINT)           AS granted,
    CAST(p.partially_granted AS BIGINT) AS partially_granted,
    CAST(s.denied AS BIGINT)            AS denied,
    CAST(s.unavailable AS BIGINT)       AS unavailable,
    CAST(s.rejected AS BIGINT)          AS rejected,
    CAST(CASE WHEN p.other_rows > 0 THEN p.other_printed ELSE s.other_subrows END AS BIGINT) AS other,
    CAST(p.total_processed AS BIGINT)   AS total_processed,
    CAST(p.carried_forward AS BIGINT)   AS carried_forward,
    CASE WHEN p.total_processed > 0
         THEN round(CAST((p.granted + p.partially_granted) / p.total_processed AS DOUBLE), 4)
    END AS disclosure_ratio,
    r.cells_missing
FROM v_reports r
JOIN per_report p USING (report_id)
LEFT JOIN summed s USING (report_id);
