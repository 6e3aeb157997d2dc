-- Report metadata: one row per current report with what the report says about itself. The suites
-- `metadata` and `place` expect the agency, the reporting year and the province to be known.
SELECT report_id, NULL::INTEGER AS section, NULL::VARCHAR AS row_key, NULL::VARCHAR AS col_key,
       NULL::VARCHAR AS expected, NULL::VARCHAR AS observed, NULL::INTEGER AS page,
       agency, year, province, city, district
FROM q_reports
