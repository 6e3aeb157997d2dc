-- Shared by every quality check (run first, in the same connection): temporary views only, so
-- nothing here is ever published into the warehouse.
-- q_catalog is registered by gknb.quality.observe from schemas/template_cells.csv.

-- The reports under audit: the current version of each; superseded ones are history.
CREATE OR REPLACE TEMP VIEW q_reports AS
SELECT *, CAST(template AS VARCHAR) AS template_key
FROM reports
WHERE coalesce(is_current, TRUE);

-- Every catalog cell of every current report's template (variants included), whether or not the
-- report has a row for it: an absent cell counts as `missing`. `num` is the number an identity
-- uses: the value, or 0 for blank and nil (nothing, or 无, printed); NULL for missing.
CREATE OR REPLACE TEMP VIEW q_grid AS
SELECT r.report_id, r.template_key AS template, r.year,
       k.section, k.item, k.row_key, k.col_key, k.role, k.value_type, k.row_label, k.col_label,
       coalesce(c.status, 'missing') AS status,
       CASE WHEN c.status = 'value' THEN CAST(c.value AS DOUBLE)
            WHEN c.status IN ('blank', 'nil') THEN 0.0 END AS num,
       CAST(c.value AS DOUBLE) AS value, c.raw, c.page
FROM q_reports r
JOIN q_catalog k ON k.template = r.template_key
LEFT JOIN cells c
  ON c.report_id = r.report_id AND c.section = k.section
 AND c.row_key = k.row_key AND c.col_key = k.col_key;

-- An agency across years: the warehouse's agency_key (province|city|district|name without the
-- leading region names), so 淮安市洪泽区人民政府 and 洪泽区人民政府 are one agency.
CREATE OR REPLACE TEMP VIEW q_agency_years AS
SELECT report_id, agency, agency_key, agency_kind, province, city, district, year
FROM q_reports;
