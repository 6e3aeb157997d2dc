-- Section 4 (行政复议、行政诉讼) by district and year: one row per district, year and kind of case
-- (admin_review 行政复议, lawsuit_direct 未经复议直接起诉, lawsuit_after_review 复议后起诉) with the
-- outcomes upheld 结果维持, corrected 结果纠正, other 其他结果, pending 尚未审结, total 总计.
-- Identical in both templates. NULL where any report of the group lacks the cell.
CREATE OR REPLACE VIEW rollup_review_litigation_district_year AS
SELECT
    province, city, district, year, row_key AS case_kind,
    count(DISTINCT report_id) AS reports,
    CAST(CASE WHEN count(number) FILTER (WHERE col_key = 'upheld') = count(*) FILTER (WHERE col_key = 'upheld')
         THEN sum(number) FILTER (WHERE col_key = 'upheld') END AS BIGINT) AS upheld,
    CAST(CASE WHEN count(number) FILTER (WHERE col_key = 'corrected') = count(*) FILTER (WHERE col_key = 'corrected')
         THEN sum(number) FILTER (WHERE col_key = 'corrected') END AS BIGINT) AS corrected,
    CAST(CASE WHEN count(number) FILTER (WHERE col_key = 'other') = count(*) FILTER (WHERE col_key = 'other')
         THEN sum(number) FILTER (WHERE col_key = 'other') END AS BIGINT) AS other,
    CAST(CASE WHEN count(number) FILTER (WHERE col_key = 'pending') = count(*) FILTER (WHERE col_key = 'pending')
         THEN sum(number) FILTER (WHERE col_key = 'pending') END AS BIGINT) AS pending,
    CAST(CASE WHEN count(number) FILTER (WHERE col_key = 'total') = count(*) FILTER (WHERE col_key = 'total')
         THEN sum(number) FILTER (WHERE col_key = 'total') END AS BIGINT) AS total
FROM v_cells
WHERE section = 4
GROUP BY province, city, district, year, row_key;
