-- The cells the checks read (run after the engine has filled q_scope, the reports to check):
-- those of the reports in scope and of the reports they are compared with (last year's report of
-- the same agency for S3.carry; the district's other agencies for hierarchy). On a full run that
-- is every current report. rn numbers them; in_scope says which are checked.
CREATE OR REPLACE TEMP TABLE q_grid_reports AS
WITH neighbours AS (
    SELECT s.report_id FROM q_scope s
    UNION
    SELECT prev.report_id
    FROM q_scope s JOIN q_reports r USING (report_id)
    JOIN q_reports prev ON prev.agency_key = r.agency_key AND prev.year = r.year - 1
    UNION
    SELECT m.report_id
    FROM q_scope s JOIN q_reports r USING (report_id)
    JOIN q_reports m ON m.district = r.district AND m.province IS NOT DISTINCT FROM r.province
     AND m.city IS NOT DISTINCT FROM r.city
    WHERE r.agency_kind = $government_kind AND r.district IS NOT NULL
),
variant_reports AS (  -- reports printing the 2021 variant row (any cell of it: the
                      -- extractor writes the row only where it is printed)
    SELECT DISTINCT c.report_id
    FROM cells c
    JOIN (SELECT DISTINCT template, section, row_key FROM q_variants) v
      ON v.section = c.section AND v.row_key = c.row_key
    JOIN q_reports r ON r.report_id = c.report_id AND r.template = v.template
)
SELECT r.report_id, r.template, t.tix,
       CAST(row_number() OVER (ORDER BY r.report_id) AS INTEGER) AS rn,
       r.report_id IN (SELECT report_id FROM q_scope) AS in_scope,
       r.report_id IN (SELECT report_id FROM variant_reports) AS vp
FROM q_reports r
SEMI JOIN neighbours n ON n.report_id = r.report_id
JOIN q_templates t ON t.template = r.template;

-- One narrow row per cell: rn, tk (the catalog cell), st the status (0 value, 1 blank, 2 nil,
-- 3 missing and nothing printed, 4 missing with printed text in raw, 5 a status the contract
-- does not know), num the number an equation uses (the value; 0 for blank and nil; NULL for
-- missing), page, sc whether its report is in scope, cell false for the 2021 variant row, raw
-- the printed text of a cell that is not a value (NULL otherwise: the table stays narrow). Built
-- once per run: every check reads it.
CREATE OR REPLACE TEMP TABLE q_cellnum AS
WITH coded AS (
SELECT g.rn, g.tix * 100000 + c.section * 10000 + k.key_id AS tk,
       CAST(CASE c.status WHEN 'value' THEN 0 WHEN 'blank' THEN 1 WHEN 'nil' THEN 2
                 WHEN 'missing' THEN CASE WHEN coalesce(trim(c.raw), '') <> '' THEN 4 ELSE 3 END
                 ELSE 5 END AS UTINYINT) AS st,
       CASE WHEN c.status = 'value' THEN CAST(c.value AS DOUBLE)
            WHEN c.status IN ('blank', 'nil') THEN 0.0 END AS num,
       CAST(c.page AS INTEGER) AS page, g.in_scope AS sc, g.vp,
       CASE WHEN c.status <> 'value' AND coalesce(trim(c.raw), '') <> '' THEN trim(c.raw) END AS raw
FROM cells c
JOIN q_grid_reports g ON g.report_id = c.report_id
JOIN q_keys k ON k.section = c.section AND k.row_key = c.row_key AND k.col_key = c.col_key
)
SELECT coded.*, t.role = 'cell' AS cell  -- false for the 2021 variant row
FROM coded JOIN q_cat t ON t.tk = coded.tk;

-- The cells as the report-level checks read them (few rows each, by row and column).
CREATE OR REPLACE TEMP VIEW q_cells AS
SELECT g.report_id, k.template, k.section, k.row_key, k.col_key, c.st, c.num, c.page, c.rn, c.sc
FROM q_cellnum c
JOIN q_cat k ON k.tk = c.tk
JOIN q_grid_reports g ON g.rn = c.rn;

-- The identities' equations as judged on every report in scope, in one pass over the cells for
-- all four identities: only the equations evaluated (no missing or absent term) whose two sides
-- differ are kept. identity.sql reads it per identity. The equations come from the template's
-- structure as data: q_identity_terms (the warehouse table template_identity_terms, from
-- schemas/template_structure.yaml), so no row or column of the template is named here.
-- A report's equations are those of form `any`, plus `variant` where it prints the 2021 variant
-- row, else plus `split`. Blank and nil terms count as 0.
-- expected = the side printed first (the parts), observed = the side printed after it (the
-- total, or what the table carries forward); page = where the observed side is printed.
CREATE OR REPLACE TEMP TABLE q_equations AS
WITH terms AS (
    SELECT t.identity, t.template, t.section, t.scope, coalesce(t.row_key, '') AS eq_row,
           coalesce(t.col_key, '') AS eq_col, t.form, t.side, t.term_row_key, t.term_col_key,
           k.position, k.tk
    FROM q_identity_terms t
    JOIN q_cat k ON k.template = t.template AND k.section = t.section
     AND k.row_key = t.term_row_key AND k.col_key = t.term_col_key
),
equations AS (
    SELECT identity, template, section, eq_row, eq_col, form, any_value(scope) AS scope,
           count(*) AS terms, arg_min(side, position) AS expected_side
    FROM terms
    GROUP BY identity, template, section, eq_row, eq_col, form
)
SELECT e.*, CAST(row_number() OVER (ORDER BY identity, template, section, eq_row, eq_col, form) AS INTEGER) AS eq_id,
       (SELECT string_agg(t.term_row_key, '+' ORDER BY t.position) FROM terms t
         WHERE t.identity = e.identity AND t.template = e.template AND t.section = e.section
           AND t.eq_row = e.eq_row AND t.eq_col = e.eq_col AND t.form = e.form
           AND t.side <> e.expected_side) AS obs_rows,
       (SELECT string_agg(t.term_col_key, '+' ORDER BY t.position) FROM terms t
         WHERE t.identity = e.identity AND t.template = e.template AND t.section = e.section
           AND t.eq_row = e.eq_row AND t.eq_col = e.eq_col AND t.form = e.form
           AND t.side <> e.expected_side) AS obs_cols
FROM equations e;

CREATE OR REPLACE TEMP TABLE q_equation_terms AS
SELECT k.tk, e.eq_id, t.side = e.expected_side AS is_expected, e.form
FROM q_identity_terms t
JOIN q_cat k ON k.template = t.template AND k.section = t.section
 AND k.row_key = t.term_row_key AND k.col_key = t.term_col_key
JOIN q_equations e ON e.identity = t.identity AND e.template = t.template AND e.section = t.section
 AND e.eq_row = coalesce(t.row_key, '') AND e.eq_col = coalesce(t.col_key, '') AND e.form = t.form;

CREATE OR REPLACE TEMP TABLE q_identity_fail AS
WITH judged AS (  -- one number per report and equation: how far the two sides are apart
    SELECT c.rn::BIGINT * 100000 + ti.eq_id AS k,
           count(*) AS present, count(*) FILTER (WHERE c.num IS NULL) AS unknown,
           sum(CASE WHEN ti.is_expected THEN c.num ELSE -c.num END) AS diff
    FROM q_cellnum c
    JOIN q_equation_terms ti ON ti.tk = c.tk
    WHERE c.sc AND (ti.form = 'any' OR (ti.form = 'variant') = c.vp)
    GROUP BY 1
),
broken AS (
    SELECT j.k, CAST(j.k // 100000 AS INTEGER) AS rn, CAST(j.k % 100000 AS INTEGER) AS eq_id
    FROM judged j JOIN q_equations e ON e.eq_id = CAST(j.k % 100000 AS INTEGER)
    WHERE j.present = e.terms AND j.unknown = 0 AND j.diff <> 0
)
SELECT b.rn, b.eq_id,  -- the two sides of the broken ones only
       sum(c.num) FILTER (WHERE ti.is_expected) AS expected,
       sum(c.num) FILTER (WHERE NOT ti.is_expected) AS observed,
       max(c.page) FILTER (WHERE NOT ti.is_expected) AS page
FROM broken b
JOIN q_cellnum c ON c.rn = b.rn
JOIN q_equation_terms ti ON ti.tk = c.tk AND ti.eq_id = b.eq_id
GROUP BY b.rn, b.eq_id
HAVING sum(c.num) FILTER (WHERE ti.is_expected) IS DISTINCT FROM sum(c.num) FILTER (WHERE NOT ti.is_expected);
