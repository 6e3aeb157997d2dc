-- One row per current report with its place and its timeliness: the dimensions every per-report
-- view and rollup joins. place_level says how far the report's place was resolved for its
-- reporting year: district, city or province; `unresolved` when the extractor could not resolve
-- the place to the level its agency name implies (a `place:` warning, e.g. a district that did
-- not exist that year) or not at all. Rollups group by it, so an unresolved district is never
-- added into its city's totals. deadline: 31 January of the following year (条例 第五十条).
CREATE OR REPLACE VIEW v_reports AS
SELECT
    r.report_id, r.agency, r.agency_kind, r.agency_key, r.year, r.template,
    r.province, r.city, r.district, r.adcode,
    CASE WHEN len(list_filter(coalesce(r.warnings, []::VARCHAR[]), w -> starts_with(w, 'place:'))) > 0
              OR r.province IS NULL THEN 'unresolved'
         WHEN r.district IS NOT NULL THEN 'district'
         WHEN r.city IS NOT NULL THEN 'city'
         ELSE 'province' END AS place_level,
    r.published,
    make_date(r.year + 1, 1, 31) AS deadline,
    r.published > make_date(r.year + 1, 1, 31) AS published_late,
    r.format, r.pages, r.cells_missing, r.narrative_requests, r.warnings,
    r.document_id, d.source_path, d.url, d.agency_column_url
FROM reports r
LEFT JOIN documents d ON d.document_id = r.document_id
WHERE r.is_current;
