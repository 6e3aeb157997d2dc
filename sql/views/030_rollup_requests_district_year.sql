-- Section-3 totals summed over the current reports of each district (or city, province) and year.
-- Reports above district level (a city government) have district NULL and form their own group.
-- A measure is NULL when any report of the group lacks it (reports_incomplete counts those):
-- a partial sum would look like a real total.
-- disclosure_rate = (granted + partially_granted) / total_processed.
CREATE OR REPLACE VIEW rollup_requests_district_year AS
SELECT
    province, city, district, year,
    count(*) AS reports,
    count(*) FILTER (WHERE new_requests IS NULL OR total_processed IS NULL OR granted IS NULL
                        OR partially_granted IS NULL OR denied IS NULL OR unavailable IS NULL
                        OR rejected IS NULL OR other IS NULL OR carried_over IS NULL
                        OR carried_forward IS NULL) AS reports_incomplete,
    CASE WHEN count(new_requests) = count(*) THEN CAST(sum(new_requests) AS BIGINT) END           AS new_requests,
    CASE WHEN count(carried_over) = count(*) THEN CAST(sum(carried_over) AS BIGINT) END           AS carried_over,
    CASE WHEN count(granted) = count(*) THEN CAST(sum(granted) AS BIGINT) END                     AS granted,
    CASE WHEN count(partially_granted) = count(*) THEN CAST(sum(partially_granted) AS BIGINT) END AS partially_granted,
    CASE WHEN count(denied) = count(*) THEN CAST(sum(denied) AS BIGINT) END                       AS denied,
    CASE WHEN count(unavailable) = count(*) THEN CAST(sum(unavailable) AS BIGINT) END             AS unavailable,
    CASE WHEN count(rejected) = count(*) THEN CAST(sum(rejected) AS BIGINT) END                   AS rejected,
    CASE WHEN count(other) = count(*) THEN CAST(sum(other) AS BIGINT) END                         AS other,
    CASE WHEN count(total_processed) = count(*) THEN CAST(sum(total_processed) AS BIGINT) END     AS total_processed,
    CASE WHEN count(carried_forward) = count(*) THEN CAST(sum(carried_forward) AS BIGINT) END     AS carried_forward,
    CASE WHEN count(total_processed) = count(*) AND count(granted) = count(*)
              AND count(partially_granted) = count(*) AND sum(total_processed) > 0
         THEN round((sum(granted) + sum(partially_granted)) / sum(total_processed), 4) END AS disclosure_rate
FROM v_report_requests
GROUP BY province, city, district, year;
