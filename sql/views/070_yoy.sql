-- Year-over-year change for the three sections, per agency (current reports, same agency_key)
-- and per district (the rollups, same province/city/district/place_level), this year against the
-- previous one. Names: X_prev the previous year's value, X_change = X - X_prev,
-- X_change_ratio = X_change / X_prev (a ratio: 0.5 is +50 %; NULL when the previous year is
-- missing or zero). *_ratio columns are ratios (0..1 for shares), never percentages.
-- Section 3 lines up across the 2019 and 2021 templates; section 2 through cell_crosswalk's
-- measures (a measure one template lacks has no previous year across the switch); section 4 is
-- identical in both. Where the year before comes from a per-report view, that view is
-- materialised once (WITH ... AS MATERIALIZED) instead of evaluated for each side of the join:
-- half the time at 150,000 reports (bench/results/national.md).

CREATE OR REPLACE VIEW yoy_requests_agency_year AS
WITH year_rows AS MATERIALIZED (SELECT * FROM v_report_requests)
SELECT cur.agency_key, cur.agency, cur.province, cur.city, cur.district, cur.place_level, cur.year,
       cur.template, prev.template AS template_prev,
       cur.new_requests, prev.new_requests AS new_requests_prev,
       cur.new_requests - prev.new_requests AS new_requests_change,
       CASE WHEN prev.new_requests > 0
            THEN round((cur.new_requests - prev.new_requests) / prev.new_requests, 4) END AS new_requests_change_ratio,
       cur.total_processed, prev.total_processed AS total_processed_prev,
       cur.total_processed - prev.total_processed AS total_processed_change,
       CASE WHEN prev.total_processed > 0
            THEN round((cur.total_processed - prev.total_processed) / prev.total_processed, 4) END AS total_processed_change_ratio,
       cur.disclosure_ratio, prev.disclosure_ratio AS disclosure_ratio_prev,
       cur.carried_over, prev.carried_forward AS carried_forward_prev
FROM year_rows cur
LEFT JOIN year_rows prev ON prev.agency_key = cur.agency_key AND prev.year = cur.year - 1
WHERE cur.agency_key IS NOT NULL;

CREATE OR REPLACE VIEW yoy_requests_district_year AS
WITH year_rows AS MATERIALIZED (SELECT * FROM rollup_requests_district_year)
SELECT cur.province, cur.city, cur.district, cur.place_level, cur.year,
       cur.reports, prev.reports AS reports_prev,
       cur.new_requests, prev.new_requests AS new_requests_prev,
       cur.new_requests - prev.new_requests AS new_requests_change,
       CASE WHEN prev.new_requests > 0
            THEN round((cur.new_requests - prev.new_requests) / prev.new_requests, 4) END AS new_requests_change_ratio,
       cur.total_processed, prev.total_processed AS total_processed_prev,
       cur.total_processed - prev.total_processed AS total_processed_change,
       CASE WHEN prev.total_processed > 0
            THEN round((cur.total_processed - prev.total_processed) / prev.total_processed, 4) END AS total_processed_change_ratio,
       cur.disclosure_ratio, prev.disclosure_ratio AS disclosure_ratio_prev
FROM year_rows cur
LEFT JOIN year_rows prev
       ON prev.province IS NOT DISTINCT FROM cur.province AND prev.city IS NOT DISTINCT FROM cur.city
      AND prev.district IS NOT DISTINCT FROM cur.district AND prev.place_level = cur.place_level
      AND prev.year = cur.year - 1;

CREATE OR REPLACE VIEW yoy_disclosure_agency_year AS
SELECT cur.agency_key, cur.agency, cur.province, cur.city, cur.district, cur.place_level, cur.year,
       cur.row_key, cur.measure, cur.unit, cur.template, prev.template AS template_prev,
       cur.value, prev.value AS value_prev,
       cur.value - prev.value AS value_change,
       CASE WHEN prev.value > 0 THEN round((cur.value - prev.value) / prev.value, 4) END AS value_change_ratio
FROM v_report_disclosure cur
LEFT JOIN v_report_disclosure prev
       ON prev.agency_key = cur.agency_key AND prev.year = cur.year - 1
      AND prev.row_key = cur.row_key AND prev.measure = cur.measure
WHERE cur.agency_key IS NOT NULL;

CREATE OR REPLACE VIEW yoy_disclosure_district_year AS
SELECT cur.province, cur.city, cur.district, cur.place_level, cur.year, cur.row_key, cur.measure, cur.unit,
       cur.reports, prev.reports AS reports_prev,
       cur.value, prev.value AS value_prev,
       cur.value - prev.value AS value_change,
       CASE WHEN prev.value > 0 THEN round((cur.value - prev.value) / prev.value, 4) END AS value_change_ratio
FROM rollup_disclosure_district_year cur
LEFT JOIN rollup_disclosure_district_year prev
       ON prev.province IS NOT DISTINCT FROM cur.province AND prev.city IS NOT DISTINCT FROM cur.city
      AND prev.district IS NOT DISTINCT FROM cur.district AND prev.place_level = cur.place_level
      AND prev.year = cur.year - 1 AND prev.row_key = cur.row_key AND prev.measure = cur.measure;

CREATE OR REPLACE VIEW yoy_review_litigation_agency_year AS
WITH year_rows AS MATERIALIZED (SELECT * FROM v_report_review_litigation)
SELECT cur.agency_key, cur.agency, cur.province, cur.city, cur.district, cur.place_level, cur.year,
       cur.case_kind,
       cur.total, prev.total AS total_prev,
       cur.total - prev.total AS total_change,
       CASE WHEN prev.total > 0 THEN round((cur.total - prev.total) / prev.total, 4) END AS total_change_ratio,
       cur.corrected, prev.corrected AS corrected_prev,
       CASE WHEN cur.total > 0 THEN round(cur.corrected / cur.total, 4) END AS corrected_ratio,
       CASE WHEN prev.total > 0 THEN round(prev.corrected / prev.total, 4) END AS corrected_ratio_prev
FROM year_rows cur
LEFT JOIN year_rows prev
       ON prev.agency_key = cur.agency_key AND prev.year = cur.year - 1 AND prev.case_kind = cur.case_kind
WHERE cur.agency_key IS NOT NULL;

CREATE OR REPLACE VIEW yoy_review_litigation_district_year AS
SELECT cur.province, cur.city, cur.district, cur.place_level, cur.year, cur.case_kind,
       cur.reports, prev.reports AS reports_prev,
       cur.total, prev.total AS total_prev,
       cur.total - prev.total AS total_change,
       CASE WHEN prev.total > 0 THEN round((cur.total - prev.total) / prev.total, 4) END AS total_change_ratio,
       cur.corrected, prev.corrected AS corrected_prev,
       CASE WHEN cur.total > 0 THEN round(cur.corrected / cur.total, 4) END AS corrected_ratio,
       CASE WHEN prev.total > 0 THEN round(prev.corrected / prev.total, 4) END AS corrected_ratio_prev
FROM rollup_review_litigation_district_year cur
LEFT JOIN rollup_review_litigation_district_year prev
       ON prev.province IS NOT DISTINCT FROM cur.province AND prev.city IS NOT DISTINCT FROM cur.city
      AND prev.district IS NOT DISTINCT FROM cur.district AND prev.place_level = cur.place_level
      AND prev.year = cur.year - 1 AND prev.case_kind = cur.case_kind;
