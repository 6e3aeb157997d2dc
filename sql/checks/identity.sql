-- The identities S3.balance, S3.outcomes, S3.row_total and S4.row_total ($identity): the
-- equations judged in _cells.sql (q_identity_fail: one pass over the cells for all four, from
-- the structure file's template_identity_terms) whose sides differ, with the report, the keys
-- and the labels. A column-scope finding names the observed rows
-- (total_processed+carried_forward), a row-scope one the observed columns (total).
SELECT g.report_id, e.section,
       CASE WHEN e.scope = 'row' THEN e.eq_row ELSE e.obs_rows END AS row_key,
       CASE WHEN e.scope = 'column' THEN e.eq_col ELSE e.obs_cols END AS col_key,
       j.expected, j.observed, j.page, rl.row_label, cl.col_label
FROM q_identity_fail j
JOIN q_equations e ON e.eq_id = j.eq_id
JOIN q_grid_reports g ON g.rn = j.rn
LEFT JOIN (SELECT template, section, row_key, any_value(row_label) AS row_label
           FROM q_cat GROUP BY ALL) rl
  ON rl.template = e.template AND rl.section = e.section AND rl.row_key = e.eq_row
LEFT JOIN (SELECT template, section, col_key, any_value(col_label) AS col_label
           FROM q_cat GROUP BY ALL) cl
  ON cl.template = e.template AND cl.section = e.section AND cl.col_key = e.eq_col
WHERE e.identity = $identity
