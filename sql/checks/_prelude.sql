-- Shared by every quality check (run first, in the same connection): temporary objects only, so
-- nothing here is ever published into the warehouse. gknb.quality.engine registers beforehand:
--   q_catalog          the template catalog (schemas/template_cells.csv), labels and value types
--   q_variants         the 2021 variant row and the sub-rows it stands in for (template_structure.yaml)
--   q_identity_terms   the identities, one row per term per equation (template_identity_terms)

-- The reports under audit: the current version of each; superseded ones are history.
CREATE OR REPLACE TEMP TABLE q_reports AS
SELECT report_id, agency, agency_kind, agency_key, year, CAST(template AS VARCHAR) AS template,
       province, city, district, published, narrative_requests,
       CAST(warnings AS VARCHAR[]) AS warnings
FROM reports
WHERE coalesce(is_current, TRUE);

-- An agency across years: the warehouse's agency_key (province|city|district|name without the
-- leading region names), so 淮安市洪泽区人民政府 and 洪泽区人民政府 are one agency.
CREATE OR REPLACE TEMP VIEW q_agency_years AS
SELECT report_id, agency, agency_key, agency_kind, province, city, district, year
FROM q_reports;

-- What the extractor says about a cell it did not load as a number: a warning
-- `domain: <section>/<row_key>/<col_key>: <why>` (a number outside the plausible range, kept in
-- raw) or `unit: [<section>/<row_key>/<col_key>:] <why>` (an amount whose unit is in doubt).
CREATE OR REPLACE TEMP TABLE q_warning_flags AS
WITH w AS (
    SELECT report_id, unnest(warnings) AS text FROM q_reports WHERE len(warnings) > 0
),
parsed AS (
    SELECT report_id, text,
           lower(regexp_extract(text, '^\s*(domain|unit)\s*:', 1, 'i')) AS kind,
           regexp_extract(text, '^\s*\w+\s*:\s*([0-9]+)/([A-Za-z0-9_]+)/([A-Za-z0-9_]+)', ['s', 'r', 'c']) AS cell
    FROM w
    WHERE regexp_matches(text, '^\s*(domain|unit)\s*:', 'i')
)
SELECT report_id, kind,
       TRY_CAST(nullif(cell.s, '') AS INTEGER) AS section,
       nullif(cell.r, '') AS row_key, nullif(cell.c, '') AS col_key,
       trim(regexp_replace(text, '^\s*\w+\s*:\s*([0-9]+/[A-Za-z0-9_]+/[A-Za-z0-9_]+\s*:?)?', '')) AS note
FROM parsed;

-- Integer keys, so that the checks over ~200 cells per report join and group on numbers, not
-- on strings: a template number (tix), a template-free cell key (key_id < 10000), and
-- tk = tix·100000 + section·10000 + key_id, one per catalog cell ((tk // 10000) % 10 = section).
CREATE OR REPLACE TEMP TABLE q_templates AS
SELECT template, CAST(row_number() OVER (ORDER BY template) AS INTEGER) AS tix
FROM (SELECT DISTINCT template FROM q_catalog);

CREATE OR REPLACE TEMP TABLE q_keys AS
SELECT section, row_key, col_key,
       CAST(row_number() OVER (ORDER BY section, row_key, col_key) AS INTEGER) AS key_id
FROM (SELECT DISTINCT section, row_key, col_key FROM q_catalog);

CREATE OR REPLACE TEMP TABLE q_cat AS
SELECT k.*, t.tix * 100000 + k.section * 10000 + q.key_id AS tk
FROM q_catalog k
JOIN q_templates t ON t.template = k.template
JOIN q_keys q ON q.section = k.section AND q.row_key = k.row_key AND q.col_key = k.col_key;
