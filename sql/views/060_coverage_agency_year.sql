-- Which agencies have a report for which years, and why not. Each agency (agency_key: its
-- division and name) gets one row per year from its first report to the latest year in the
-- warehouse, with a status:
--   published       a current report (published on time, or with no printed date);
--   published_late  a current report printed as published after 31 January of the next year;
--   not_published   no report, although the agency's column (the list page its reports were
--                   found on, documents.agency_column_url) was crawled successfully after the
--                   report was due: the column holds no report for that year;
--   not_collected   no report and no crawl of the agency's column after the report was due (the
--                   files came from elsewhere, or the column was never read): nothing is known.
-- has_report = status LIKE 'published%', for readers of the earlier version of this view.
CREATE OR REPLACE VIEW coverage_agency_year AS
WITH agencies AS (
    SELECT agency_key,
           arg_max(agency, year) AS agency, arg_max(agency_kind, year) AS agency_kind,
           any_value(province) AS province, any_value(city) AS city, any_value(district) AS district,
           min(year) AS first_year
    FROM v_reports
    WHERE agency_key IS NOT NULL AND year IS NOT NULL
    GROUP BY agency_key
),
span AS (SELECT max(year) AS last_year FROM v_reports),
agency_columns AS (  -- every column any version of an agency's reports was found on
    SELECT r.agency_key, d.agency_column_url AS column_url
    FROM reports r
    JOIN documents d ON d.report_id = r.report_id
    WHERE r.agency_key IS NOT NULL AND d.agency_column_url IS NOT NULL
    GROUP BY ALL
),
column_crawls AS (  -- the latest successful fetch of a page of each column
    SELECT ac.agency_key, max(f.fetched_at) AS crawled_at, min(ac.column_url) AS column_url
    FROM agency_columns ac
    JOIN crawl_fetches f ON coalesce(f.agency_column_url, f.url) = ac.column_url
    WHERE f.kind = 'list' AND f.error_kind IS NULL AND f.http_status BETWEEN 200 AND 399
    GROUP BY ac.agency_key
)
SELECT a.agency_key, a.agency, a.agency_kind, a.province, a.city, a.district, y.year,
       CASE WHEN r.report_id IS NOT NULL AND coalesce(r.published_late, false) THEN 'published_late'
            WHEN r.report_id IS NOT NULL THEN 'published'
            WHEN cc.crawled_at >= make_date(y.year + 1, 1, 31) THEN 'not_published'
            ELSE 'not_collected' END AS status,
       r.report_id IS NOT NULL AS has_report,
       r.report_id, r.published, make_date(y.year + 1, 1, 31) AS deadline,
       cc.column_url, cc.crawled_at AS column_crawled_at
FROM agencies a
CROSS JOIN span
CROSS JOIN LATERAL (SELECT CAST(unnest(range(a.first_year, span.last_year + 1)) AS INTEGER) AS year) y
LEFT JOIN v_reports r ON r.agency_key = a.agency_key AND r.year = y.year
LEFT JOIN column_crawls cc ON cc.agency_key = a.agency_key;
