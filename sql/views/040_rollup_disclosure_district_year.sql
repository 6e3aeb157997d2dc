-- Section 2 (主动公开) per report and by district and year, across both templates through
-- cell_crosswalk: one row per report (district, year), row (regulations, admin_penalty, ...) and
-- harmonised measure (2019 本年新制作数量 and 2021 本年制发件数 are both `new_this_year`; see
-- docs/warehouse.md). `comparable` says whether the measure means the same in both templates;
-- `unit` is count (件, 个) or 10k_yuan (万元, the fee amount) - so value is DOUBLE.
CREATE OR REPLACE VIEW v_report_disclosure AS
SELECT
    r.report_id, r.agency, r.agency_kind, r.agency_key, r.year, r.template,
    r.province, r.city, r.district, r.place_level,
    c.row_key, x.measure, x.comparable,
    CASE t.value_type WHEN 'amount_10k_yuan' THEN '10k_yuan' ELSE 'count' END AS unit,
    CAST(CASE c.status WHEN 'value' THEN c.value WHEN 'blank' THEN 0 WHEN 'nil' THEN 0 END AS DOUBLE) AS value
FROM cells c
JOIN v_reports r USING (report_id)
JOIN cell_crosswalk x
  ON x.template = r.template AND x.section = c.section AND x.row_key = c.row_key AND x.col_key = c.col_key
LEFT JOIN template_cells t
  ON t.template = r.template AND t.section = c.section AND t.row_key = c.row_key AND t.col_key = c.col_key
WHERE c.section = 2;

-- value is NULL unless every report of the group has it (value_reports = reports).
CREATE OR REPLACE VIEW rollup_disclosure_district_year AS
SELECT
    province, city, district, place_level, year, row_key, measure, comparable, unit,
    count(*) AS reports,
    count(value) AS value_reports,
    CASE WHEN count(value) = count(*) THEN sum(value) END AS value
FROM v_report_disclosure
GROUP BY province, city, district, place_level, year, row_key, measure, comparable, unit;
