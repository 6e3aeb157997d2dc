-- Year-over-year change. Per agency (current reports, same agency_key) and per district, the
-- section-3 totals this year against the previous year: new requests and total processed, their
-- change and relative change (NULL when the previous year is missing or zero).
CREATE OR REPLACE VIEW yoy_requests_agency_year AS
SELECT cur.agency_key, cur.agency, cur.province, cur.city, cur.district, cur.year,
       cur.new_requests, prev.new_requests AS new_requests_prev,
       cur.new_requests - prev.new_requests AS new_requests_change,
       CASE WHEN prev.new_requests > 0
            THEN round((cur.new_requests - prev.new_requests) / prev.new_requests, 4) END AS new_requests_pct,
       cur.total_processed, prev.total_processed AS total_processed_prev,
       cur.total_processed - prev.total_processed AS total_processed_change,
       cur.carried_over, prev.carried_forward AS carried_forward_prev
FROM v_report_requests cur
LEFT JOIN v_report_requests prev ON prev.agency_key = cur.agency_key AND prev.year = cur.year - 1
WHERE cur.agency_key IS NOT NULL;

CREATE OR REPLACE VIEW yoy_requests_district_year AS
SELECT cur.province, cur.city, cur.district, cur.year,
       cur.reports, prev.reports AS reports_prev,
       cur.new_requests, prev.new_requests AS new_requests_prev,
       cur.new_requests - prev.new_requests AS new_requests_change,
       CASE WHEN prev.new_requests > 0
            THEN round((cur.new_requests - prev.new_requests) / prev.new_requests, 4) END AS new_requests_pct,
       cur.total_processed, prev.total_processed AS total_processed_prev,
       cur.total_processed - prev.total_processed AS total_processed_change,
       cur.disclosure_rate, prev.disclosure_rate AS disclosure_rate_prev
FROM rollup_requests_district_year cur
LEFT JOIN rollup_requests_district_year prev
       ON prev.province IS NOT DISTINCT FROM cur.province AND prev.city IS NOT DISTINCT FROM cur.city
      AND prev.district IS NOT DISTINCT FROM cur.district AND prev.year = cur.year - 1;
