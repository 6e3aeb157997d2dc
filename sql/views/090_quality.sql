-- The quality stage's views (owner: gknb.quality; described in schemas/views/v_findings_current.yaml
-- and v_quality_trend.yaml).
--
-- v_findings_current: the findings of the latest check run, i.e. the current findings of every
-- current report (each run's findings are complete: an incremental run carries the unchanged
-- reports' findings forward), with the report's dimensions and the cells' Chinese labels.
CREATE OR REPLACE VIEW v_findings_current AS
WITH latest AS (
    SELECT run_id, finished FROM dq_runs ORDER BY finished DESC, run_id DESC LIMIT 1
),
row_labels AS (
    SELECT template, section, row_key, any_value(row_label) AS row_label
    FROM template_cells GROUP BY template, section, row_key
),
col_labels AS (
    SELECT template, section, col_key, any_value(col_label) AS col_label
    FROM template_cells GROUP BY template, section, col_key
)
SELECT f.run_id, latest.finished AS checked_at, f.report_id, f.check_id, f.severity,
       coalesce(f.cause, 'source') AS cause, f.section, f.row_key, f.col_key,
       coalesce(tc.row_label, rl.row_label) AS row_label,
       coalesce(tc.col_label, cl.col_label) AS col_label,
       f.expected, f.observed, f.page, f.message,
       r.agency, r.agency_kind, r.agency_key, r.year, r.template, r.province, r.city, r.district,
       r.published, r.format, r.document_id, d.source_path, d.url, d.sha256
FROM dq_findings f
JOIN latest ON latest.run_id = f.run_id
JOIN reports r ON r.report_id = f.report_id AND r.is_current
LEFT JOIN documents d ON d.document_id = r.document_id
LEFT JOIN template_cells tc ON tc.template = r.template AND tc.section = f.section
 AND tc.row_key = f.row_key AND tc.col_key = f.col_key
LEFT JOIN row_labels rl ON rl.template = r.template AND rl.section = f.section AND rl.row_key = f.row_key
LEFT JOIN col_labels cl ON cl.template = r.template AND cl.section = f.section AND cl.col_key = f.col_key;

-- v_quality_trend: one row per check run, oldest first: reports in the warehouse and checked,
-- errors and warnings by cause, reports with an error and the pass rate.
CREATE OR REPLACE VIEW v_quality_trend AS
SELECT r.run_id, r.started, r.finished, coalesce(r.scope, 'full') AS scope, r.reports,
       coalesce(r.checked, r.reports) AS checked, r.errors, r.warnings,
       coalesce(sum(t.findings) FILTER (WHERE t.severity = 'error' AND t.cause = 'source'), 0) AS errors_source,
       coalesce(sum(t.findings) FILTER (WHERE t.severity = 'error' AND t.cause = 'extraction'), 0) AS errors_extraction,
       coalesce(sum(t.findings) FILTER (WHERE t.severity = 'warning' AND t.cause = 'source'), 0) AS warnings_source,
       coalesce(sum(t.findings) FILTER (WHERE t.severity = 'warning' AND t.cause = 'extraction'), 0) AS warnings_extraction,
       r.reports_with_errors,
       CASE WHEN r.reports > 0 AND r.reports_with_errors IS NOT NULL
            THEN 1 - r.reports_with_errors / r.reports END AS pass_ratio
FROM dq_runs r
LEFT JOIN dq_run_totals t ON t.run_id = r.run_id
GROUP BY ALL
ORDER BY r.finished, r.run_id;
