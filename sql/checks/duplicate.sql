-- Duplicate: per current report, how many current reports its agency has for that year
-- (observed; expected 1).
SELECT report_id, NULL::INTEGER AS section, NULL::VARCHAR AS row_key, NULL::VARCHAR AS col_key,
       1 AS expected,
       count(*) OVER (PARTITION BY agency_key, year) AS observed,
       NULL::INTEGER AS page, agency, year
FROM q_agency_years
WHERE agency_key IS NOT NULL AND year IS NOT NULL
