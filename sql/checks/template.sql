-- Template: the table a report prints (observed) against the one its reporting year requires
-- (expected): the 2021 table from the 2021 reporting year on, the 2019 table for 2019 and 2020.
SELECT report_id, NULL::VARCHAR AS row_key, NULL::VARCHAR AS col_key,
       CASE WHEN year >= 2021 THEN '2021' ELSE '2019' END AS expected,
       template_key AS observed, NULL::INTEGER AS page, year
FROM q_reports
WHERE year IS NOT NULL AND template_key IS NOT NULL
ORDER BY report_id;
