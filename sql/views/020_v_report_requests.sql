-- One row per current report: the section-3 总计 (col_key = 'total') column, named.
-- denied = the 8 denied_* rows, unavailable = the 3 unavailable_* rows, rejected = the 5
-- rejected_* rows. other = the 其他处理 row: 2019 `other`; 2021 `other` where the report prints the
-- single row, else the sum of other_no_correction + other_unpaid_fee + other_other.
-- A sum is NULL when any of its parts is missing: a wrong total is worse than a gap.
CREATE OR REPLACE VIEW v_report_requests AS
WITH total_column AS (
    SELECT c.report_id, c.row_key,
           CASE c.status WHEN 'value' THEN c.value WHEN 'blank' THEN 0 WHEN 'nil' THEN 0 END AS n
    FROM cells c
    WHERE c.section = 3 AND c.col_key = 'total'
),
per_report AS (
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
    FROM total_column
    GROUP BY report_id
)
SELECT
    r.report_id, r.agency, r.agency_kind, r.agency_key, r.year, r.template,
    r.province, r.city, r.district, r.adcode, r.place_level, r.published,
    CAST(per_report.new_requests AS BIGINT)      AS new_requests,
    CAST(per_report.carried_over AS BIGINT)      AS carried_over,
    CAST(per_report.granted AS BIGINT)           AS granted,
    CAST(per_report.partially_granted AS BIGINT) AS partially_granted,
    CAST(per_report.denied AS BIGINT)            AS denied,
    CAST(per_report.unavailable AS BIGINT)       AS unavailable,
    CAST(per_report.rejected AS BIGINT)          AS rejected,
    CAST(CASE WHEN per_report.other_rows > 0 THEN per_report.other_printed ELSE per_report.other_subrows END AS BIGINT) AS other,
    CAST(per_report.total_processed AS BIGINT)   AS total_processed,
    CAST(per_report.carried_forward AS BIGINT)   AS carried_forward,
    CASE WHEN per_report.total_processed > 0
         THEN round(CAST((per_report.granted + per_report.partially_granted) / per_report.total_processed AS DOUBLE), 4)
    END AS disclosure_ratio,
    r.cells_missing
FROM v_reports r
JOIN per_report USING (report_id);
