-- Timeliness: the publication date (observed) against the deadline in the following year
-- ($deadline_month/$deadline_day: 31 January, 条例第五十条) (expected), where the date is known.
SELECT report_id, NULL::INTEGER AS section, NULL::VARCHAR AS row_key, NULL::VARCHAR AS col_key,
       CAST(make_date(year + 1, $deadline_month, $deadline_day) AS VARCHAR) AS expected,
       CAST(TRY_CAST(published AS DATE) AS VARCHAR) AS observed,
       NULL::INTEGER AS page,
       CAST(make_date(year + 1, $deadline_month, $deadline_day) AS TIMESTAMP) AS deadline,
       CAST(TRY_CAST(published AS DATE) AS TIMESTAMP) AS published
FROM q_reports
WHERE year IS NOT NULL AND TRY_CAST(published AS DATE) IS NOT NULL
