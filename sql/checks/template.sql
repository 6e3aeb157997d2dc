-- Template: the table a report prints (observed) against the one its reporting year requires
-- (expected): the table with the latest first year ($first_year, checks.yaml) not after the
-- report's year.
WITH tables AS (
    SELECT t.key AS template, t.value AS first_year FROM (SELECT unnest($first_year) AS t)
)
SELECT r.report_id, NULL::INTEGER AS section, NULL::VARCHAR AS row_key, NULL::VARCHAR AS col_key,
       arg_max(t.template, t.first_year) AS expected,
       any_value(r.template) AS observed, NULL::INTEGER AS page, any_value(r.year) AS year
FROM q_reports r
JOIN tables t ON t.first_year <= r.year
WHERE r.year IS NOT NULL AND r.template IS NOT NULL
GROUP BY r.report_id
