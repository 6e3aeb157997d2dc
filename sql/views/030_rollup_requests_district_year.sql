-- Section-3 totals summed over the current reports of each district (or city, province) and year.
-- Reports above district level (a city government) have district NULL and form their own group;
-- place_level keeps reports whose place is unresolved (a district name unknown for that year) in
-- a group of their own, never inside their city's totals.
-- Honest sums: each measure M comes with M_reports, the reports of the group that have M. M is
-- NULL unless every report has it (M_reports = reports): a partial sum would look like a total.
-- reports_incomplete counts the reports lacking any of the measures.
-- disclosure_ratio = (granted + partially_granted) / total_processed, a ratio (0..1).
CREATE OR REPLACE VIEW rollup_requests_district_year AS
SELECT
    province, city, district, place_level, year,
    count(*) AS reports,
    count(*) FILTER (WHERE new_requests IS NULL OR total_processed IS NULL OR granted IS NULL
                        OR partially_granted IS NULL OR denied IS NULL OR unavailable IS NULL
                        OR rejected IS NULL OR other IS NULL OR carried_over IS NULL
                        OR carried_forward IS NULL) AS reports_incomplete,
    CASE WHEN count(new_requests) = count(*) THEN CAST(sum(new_requests) AS BIGINT) END           AS new_requests,
    count(new_requests)                                                                            AS new_requests_reports,
    CASE WHEN count(carried_over) = count(*) THEN CAST(sum(carried_over) AS BIGINT) END           AS carried_over,
    count(carried_over)                                                                            AS carried_over_reports,
    CASE WHEN count(granted) = count(*) THEN CAST(sum(granted) AS BIGINT) END                     AS granted,
    count(granted)                                                                                 AS granted_reports,
    CASE WHEN count(partially_granted) = count(*) THEN CAST(sum(partially_granted) AS BIGINT) END AS partially_granted,
    count(partially_granted)                                                                       AS partially_granted_reports,
    CASE WHEN count(denied) = count(*) THEN CAST(sum(denied) AS BIGINT) END                       AS denied,
    count(denied)                                                                                  AS denied_reports,
    CASE WHEN count(unavailable) = count(*) THEN CAST(sum(unavailable) AS BIGINT) END             AS unavailable,
    count(unavailable)                                                                             AS unavailable_reports,
    CASE WHEN count(rejected) = count(*) THEN CAST(sum(rejected) AS BIGINT) END                   AS rejected,
    count(rejected)                                                                                AS rejected_reports,
    CASE WHEN count(other) = count(*) THEN CAST(sum(other) AS BIGINT) END                         AS other,
    count(other)                                                                                   AS other_reports,
    CASE WHEN count(total_processed) = count(*) THEN CAST(sum(total_processed) AS BIGINT) END     AS total_processed,
    count(total_processed)                                                                         AS total_processed_reports,
    CASE WHEN count(carried_forward) = count(*) THEN CAST(sum(carried_forward) AS BIGINT) END     AS carried_forward,
    count(carried_forward)                                                                         AS carried_forward_reports,
    CASE WHEN count(total_processed) = count(*) AND count(granted) = count(*)
              AND count(partially_granted) = count(*) AND sum(total_processed) > 0
         THEN round(CAST((sum(granted) + sum(partially_granted)) / sum(total_processed) AS DOUBLE), 4) END AS disclosure_ratio
FROM v_report_requests
GROUP BY province, city, district, place_level, year;
