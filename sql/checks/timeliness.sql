-- Timeliness: the publication date (observed) against 31 January of the following year
-- (expected), for reports whose date is known.
SELECT report_id, NULL::VARCHAR AS row_key, NULL::VARCHAR AS col_key,
       CAST(make_date(year + 1, 1, 31) AS VARCHAR) AS expected,
       CAST(TRY_CAST(published AS DATE) AS VARCHAR) AS observed,
       NULL::INTEGER AS page,
       CAST(make_date(year + 1, 1, 31) AS TIMESTAMP) AS deadline,
       CAST(TRY_CAST(published AS DATE) AS TIMESTAMP) AS published
FROM q_reports
WHERE year IS NOT NULL AND TRY_CAST(published AS DATE) IS NOT NULL
ORDER BY report_id;
