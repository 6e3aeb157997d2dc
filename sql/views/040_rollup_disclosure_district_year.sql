-- Section 2 (主动公开) by district and year, across both templates through cell_crosswalk:
-- one row per district, year, row (regulations, admin_penalty, ...) and harmonised measure
-- (2019 本年新制作数量 and 2021 本年制发件数 are both `new_this_year`; see docs/warehouse.md).
-- `comparable` says whether the measure means the same in both templates.
CREATE OR REPLACE VIEW rollup_disclosure_district_year AS
SELECT
    v.province, v.city, v.district, v.year, v.row_key, x.measure, x.comparable,
    count(*) AS reports,
    count(*) FILTER (WHERE v.number IS NULL) AS reports_missing,
    CASE WHEN count(v.number) = count(*) THEN sum(v.number) END AS value
FROM v_cells v
JOIN cell_crosswalk x
  ON x.template = v.template AND x.section = v.section AND x.row_key = v.row_key AND x.col_key = v.col_key
WHERE v.section = 2
GROUP BY v.province, v.city, v.district, v.year, v.row_key, x.measure, x.comparable;
