-- Report metadata: one row per current report with what the report says about itself. The suites
-- `metadata` and `place` expect the agency, the reporting year and the province to be known, and
-- no `place:` warning: the extractor (gknb.places) could not resolve the place to the level the
-- agency's name implies for the reporting year (a district created later or abolished before).
SELECT report_id, NULL::INTEGER AS section, NULL::VARCHAR AS row_key, NULL::VARCHAR AS col_key,
       NULL::VARCHAR AS expected, NULL::VARCHAR AS observed, NULL::INTEGER AS page,
       agency, year, province, city, district,
       list_filter(coalesce(warnings, []::VARCHAR[]), w -> starts_with(w, 'place:'))[1] AS place_warning
FROM q_reports
