-- One row per current report: the section-3 总计 (col_key = 'total') column, named.
-- denied = the 8 denied_* rows, unavailable = the 3 unavailable_* rows, rejected = the 5
-- rejected_* rows. other = the 其他处理 row: 2019 `other`; 2021 `other` where the report prints the
-- single row, else the sum of other_no_correction + other_unpaid_fee + other_other.
-- A sum is NULL when any of its parts is missing: a wrong total is worse than a gap.
CREATE OR REPLACE VIEW v_report_requests AS
WITH t AS (
    SELECT c.report_id, c.row_key,
           CASE c.status WHEN 'value' THEN c.value WHEN 'blank' THEN 0 WHEN 'nil' THEN 0 END AS n
    FROM cells c
    WHERE c.section = 3 AND c.col_key = 'total'
),
p AS (
    SELECT report_id,
        max(n) FILTER (WHERE row_key = 'new_requests')       AS new_requests,
        max(n) FILTER (WHERE row_key = 'carried_over')       AS carried_over,
        max(n) FILTER (WHERE row_key = 'granted')            AS granted,
        max(n) FILTER (WHERE row_key = 'partially_granted')  AS partially_granted,
        CASE WHEN count(*) FILTER (WHERE row_key LIKE 'denied\_%' ESCAPE '\') = 8
              AND count(n) FILTER (WHERE row_key LIKE 'denied\_%' ESCAPE '\') = 8
             THEN sum(n) FILTER (WHERE row_key LIKE 'denied\_%' ESCAPE '\') END AS denied,
        CASE WHEN count(*) FILTER (WHERE row_key LIKE 'unavailable\_%' ESCAPE '\') = 3
              AND count(n) FILTER (WHERE row_key LIKE 'unavailable\_%' ESCAPE '\') = 3
             THEN sum(n) FILTER (WHERE row_key LIKE 'unavailable\_%' ESCAPE '\') END AS unavailable,
        CASE WHEN count(*) FILTER (WHERE row_key LIKE 'rejected\_%' ESCAPE '\') = 5
              AND count(n) FILTER (WHERE row_key LIKE 'rejected\_%' ESCAPE '\') = 5
             THEN sum(n) FILTER (WHERE row_key LIKE 'rejected\_%' ESCAPE '\') END AS rejected,
        max(n) FILTER (WHERE row_key = 'other')              AS other_printed,
        count(*) FILTER (WHERE row_key = 'other' AND n IS NOT NULL) AS other_rows,
        CASE WHEN count(*) FILTER (WHERE row_key IN ('other_no_correction', 'other_unpaid_fee', 'other_other')) = 3
              AND count(n) FILTER (WHERE row_key IN ('other_no_correction', 'other_unpaid_fee', 'other_other')) = 3
             THEN sum(n) FILTER (WHERE row_key IN ('other_no_correction', 'other_unpaid_fee', 'other_other')) END AS other_subrows,
        max(n) FILTER (WHERE row_key = 'total_processed')    AS total_processed,
        max(n) FILTER (WHERE row_key = 'carried_forward')    AS carried_forward
    FROM t
    GROUP BY report_id
)
SELECT
    r.report_id, r.agency, r.agency_kind, r.agency_key, r.year, r.template,
    r.province, r.city, r.district, r.adcode, r.published,
    CAST(p.new_requests AS BIGINT)      AS new_requests,
    CAST(p.carried_over AS BIGINT)      AS carried_over,
    CAST(p.granted AS BIGINT)           AS granted,
    CAST(p.partially_granted AS BIGINT) AS partially_granted,
    CAST(p.denied AS BIGINT)            AS denied,
    CAST(p.unavailable AS BIGINT)       AS unavailable,
    CAST(p.rejected AS BIGINT)          AS rejected,
    CAST(CASE WHEN p.other_rows > 0 THEN p.other_printed ELSE p.other_subrows END AS BIGINT) AS other,
    CAST(p.total_processed AS BIGINT)   AS total_processed,
    CAST(p.carried_forward AS BIGINT)   AS carried_forward,
    r.cells_missing
FROM reports r
JOIN p USING (report_id)
WHERE r.is_current;
