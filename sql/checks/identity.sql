-- The identities S3.balance, S3.outcomes, S3.row_total and S4.row_total ($identity), from the
-- template's structure as data: q_identity_terms (the warehouse table template_identity_terms,
-- from schemas/template_structure.yaml) holds one row per term per equation, so no row or column
-- of the template is named here.
--
-- A report's equations are those of form `any`, plus `variant` where it prints the 2021 variant
-- row (any cell of that row is in the report: the extractor writes it only where printed), else
-- plus `split`. Blank and nil terms count as 0; an equation with a missing term, or a term the
-- report lacks, is not evaluated.
--
-- expected = the side printed first (the parts), observed = the side printed after it (the
-- total, or what the table carries forward); page = where the observed side is printed. A
-- column-scope finding names the observed rows (total_processed+carried_forward), a row-scope
-- one the observed columns (total).
WITH terms AS (
    SELECT t.template, t.section, t.scope, coalesce(t.row_key, '') AS eq_row,
           coalesce(t.col_key, '') AS eq_col, t.form, t.side, t.term_row_key, t.term_col_key,
           k.position
    FROM q_identity_terms t
    JOIN q_catalog k ON k.template = t.template AND k.section = t.section
     AND k.row_key = t.term_row_key AND k.col_key = t.term_col_key
    WHERE t.identity = $identity
),
equations AS (  -- per equation and form: its size, which side is printed first, the labels
    SELECT template, section, eq_row, eq_col, form, any_value(scope) AS scope, count(*) AS terms,
           arg_min(side, position) AS expected_side
    FROM terms
    GROUP BY template, section, eq_row, eq_col, form
),
observed_keys AS (
    SELECT e.template, e.eq_row, e.eq_col, e.form,
           string_agg(t.term_row_key, '+' ORDER BY t.position) AS obs_rows,  -- column scope: one per row
           string_agg(t.term_col_key, '+' ORDER BY t.position) AS obs_cols   -- row scope: one per column
    FROM equations e
    JOIN terms t USING (template, eq_row, eq_col, form)
    WHERE t.side <> e.expected_side
    GROUP BY ALL
),
variant_printed AS (
    SELECT DISTINCT c.report_id
    FROM q_cells c
    JOIN q_catalog k ON k.template = c.template AND k.section = c.section
     AND k.row_key = c.row_key AND k.col_key = c.col_key AND k.role = 'variant'
),
hits AS (
    SELECT c.report_id, c.template, t.section, t.eq_row, t.eq_col, t.form, t.side, c.num, c.page
    FROM q_cells c
    JOIN terms t ON t.template = c.template AND t.section = c.section
     AND t.term_row_key = c.row_key AND t.term_col_key = c.col_key
    LEFT JOIN variant_printed v ON v.report_id = c.report_id
    WHERE t.form = 'any' OR (t.form = 'variant') = (v.report_id IS NOT NULL)
),
judged AS (
    SELECT h.report_id, h.template, h.section, h.eq_row, h.eq_col, h.form,
           count(*) AS present, count(*) FILTER (WHERE h.num IS NULL) AS unknown,
           sum(h.num) FILTER (WHERE h.side = e.expected_side) AS expected,
           sum(h.num) FILTER (WHERE h.side <> e.expected_side) AS observed,
           max(h.page) FILTER (WHERE h.side <> e.expected_side) AS page,
           any_value(e.terms) AS terms, any_value(e.scope) AS scope
    FROM hits h
    JOIN equations e USING (template, section, eq_row, eq_col, form)
    GROUP BY h.report_id, h.template, h.section, h.eq_row, h.eq_col, h.form
)
SELECT j.report_id, j.section,
       CASE WHEN j.scope = 'row' THEN j.eq_row ELSE o.obs_rows END AS row_key,
       CASE WHEN j.scope = 'column' THEN j.eq_col ELSE o.obs_cols END AS col_key,
       j.expected, j.observed, j.page, rl.row_label, cl.col_label
FROM judged j
JOIN observed_keys o ON o.template = j.template AND o.eq_row = j.eq_row AND o.eq_col = j.eq_col
 AND o.form = j.form
LEFT JOIN (SELECT template, section, row_key, any_value(row_label) AS row_label
           FROM q_catalog GROUP BY ALL) rl
  ON rl.template = j.template AND rl.section = j.section AND rl.row_key = j.eq_row
LEFT JOIN (SELECT template, section, col_key, any_value(col_label) AS col_label
           FROM q_catalog GROUP BY ALL) cl
  ON cl.template = j.template AND cl.section = j.section AND cl.col_key = j.eq_col
WHERE j.present = j.terms AND j.unknown = 0
