-- Which agencies have a report for which years. Each agency (agency_key: its division and name)
-- gets one row per year from its first report to the latest year in the warehouse; has_report is
-- false for a year it did not publish (or that was not collected) - the 未公开 list auditors ask for.
CREATE OR REPLACE VIEW coverage_agency_year AS
WITH agencies AS (
    SELECT agency_key,
           arg_max(agency, year) AS agency, arg_max(agency_kind, year) AS agency_kind,
           any_value(province) AS province, any_value(city) AS city, any_value(district) AS district,
           min(year) AS first_year
    FROM reports
    WHERE is_current AND agency_key IS NOT NULL AND year IS NOT NULL
    GROUP BY agency_key
),
span AS (SELECT max(year) AS last_year FROM reports WHERE is_current)
SELECT a.agency_key, a.agency, a.agency_kind, a.province, a.city, a.district, y.year,
       r.report_id IS NOT NULL AS has_report, r.report_id, r.published
FROM agencies a
CROSS JOIN span
CROSS JOIN LATERAL (SELECT unnest(range(a.first_year, span.last_year + 1)) AS year) y
LEFT JOIN reports r ON r.agency_key = a.agency_key AND r.year = y.year AND r.is_current;
