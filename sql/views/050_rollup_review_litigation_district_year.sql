-- Section 4 (行政复议、行政诉讼) per report and by district and year: one row per report (district,
-- year) and kind of case (admin_review 行政复议, lawsuit_direct 未经复议直接起诉,
-- lawsuit_after_review 复议后起诉) with the outcomes upheld 结果维持, corrected 结果纠正, other 其他结果,
-- pending 尚未审结, total 总计. Identical in both templates. An outcome is NULL where the cell is
-- missing; in the rollup, where any report of the group lacks it (O_reports < reports).
CREATE OR REPLACE VIEW v_report_review_litigation AS
WITH numbers AS (
    SELECT report_id, row_key, col_key,
           CASE status WHEN 'value' THEN value WHEN 'blank' THEN 0 WHEN 'nil' THEN 0 END AS n
    FROM cells
    WHERE section = 4
)
SELECT
    r.report_id, r.agency, r.agency_kind, r.agency_key, r.year, r.template,
    r.province, r.city, r.district, r.place_level,
    numbers.row_key AS case_kind,
    CAST(max(n) FILTER (WHERE col_key = 'upheld') AS BIGINT)    AS upheld,
    CAST(max(n) FILTER (WHERE col_key = 'corrected') AS BIGINT) AS corrected,
    CAST(max(n) FILTER (WHERE col_key = 'other') AS BIGINT)     AS other,
    CAST(max(n) FILTER (WHERE col_key = 'pending') AS BIGINT)   AS pending,
    CAST(max(n) FILTER (WHERE col_key = 'total') AS BIGINT)     AS total
FROM numbers
JOIN v_reports r USING (report_id)
GROUP BY ALL;

CREATE OR REPLACE VIEW rollup_review_litigation_district_year AS
SELECT
    province, city, district, place_level, year, case_kind,
    count(*) AS reports,
    CASE WHEN count(upheld) = count(*) THEN CAST(sum(upheld) AS BIGINT) END       AS upheld,
    count(upheld)                                                                 AS upheld_reports,
    CASE WHEN count(corrected) = count(*) THEN CAST(sum(corrected) AS BIGINT) END AS corrected,
    count(corrected)                                                              AS corrected_reports,
    CASE WHEN count(other) = count(*) THEN CAST(sum(other) AS BIGINT) END         AS other,
    count(other)                                                                  AS other_reports,
    CASE WHEN count(pending) = count(*) THEN CAST(sum(pending) AS BIGINT) END     AS pending,
    count(pending)                                                                AS pending_reports,
    CASE WHEN count(total) = count(*) THEN CAST(sum(total) AS BIGINT) END         AS total,
    count(total)                                                                  AS total_reports
FROM v_report_review_litigation
GROUP BY province, city, district, place_level, year, case_kind;
