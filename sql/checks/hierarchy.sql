-- Hierarchy: a district government's (agency_kind $government_kind) cells $rows × $column
-- (new_requests and total_processed 总计; observed) against the sum over the other agencies of
-- that district and year (expected), only where every agency ever seen in the district has a
-- current report that year and none of the cells involved is missing.
WITH district_gov AS (
    SELECT * FROM q_agency_years
    WHERE agency_kind = $government_kind AND district IS NOT NULL AND year IS NOT NULL
),
members AS (  -- the agencies of the district, across all loaded years
    SELECT DISTINCT a.agency_key, d.report_id AS gov_report_id, d.year
    FROM district_gov d
    JOIN q_agency_years a
      ON a.province IS NOT DISTINCT FROM d.province AND a.city IS NOT DISTINCT FROM d.city
     AND a.district = d.district AND a.agency_kind IS DISTINCT FROM $government_kind
),
member_reports AS (
    SELECT m.gov_report_id, m.agency_key, a.report_id
    FROM members m
    LEFT JOIN q_agency_years a ON a.agency_key = m.agency_key AND a.year = m.year
),
covered AS (  -- districts whose agencies all reported that year
    SELECT gov_report_id, count(DISTINCT agency_key) AS agencies
    FROM member_reports
    GROUP BY gov_report_id
    HAVING count(*) FILTER (WHERE report_id IS NULL) = 0
),
sums AS (
    SELECT c.gov_report_id, g.row_key, any_value(c.agencies) AS agencies,
           sum(g.num) AS expected, count(*) FILTER (WHERE g.num IS NULL) AS missing,
           count(DISTINCT m.report_id) AS reporting
    FROM covered c
    JOIN member_reports m ON m.gov_report_id = c.gov_report_id
    JOIN q_cells g ON g.report_id = m.report_id AND g.section = $section AND g.col_key = $column
     AND list_contains($rows, g.row_key)
    GROUP BY c.gov_report_id, g.row_key
)
SELECT s.gov_report_id AS report_id, g.section, s.row_key, g.col_key,
       s.expected, g.num AS observed, g.page, k.row_label, s.agencies
FROM sums s
JOIN q_cells g ON g.report_id = s.gov_report_id AND g.section = $section AND g.col_key = $column
 AND g.row_key = s.row_key
LEFT JOIN q_catalog k ON k.template = g.template AND k.section = g.section
 AND k.row_key = g.row_key AND k.col_key = g.col_key
WHERE s.missing = 0 AND s.reporting = s.agencies AND g.num IS NOT NULL
