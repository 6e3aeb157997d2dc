-- Units: a 万元 amount above the plausible ceiling ($max_amount_10k_yuan, checks.yaml) — the
-- signature of an amount printed in 元 without its unit — and every amount the extractor flagged
-- with a `unit:` warning (the cell named in the warning, or the report when it names none).
WITH large AS (
    SELECT g.report_id, k.template, k.section, k.row_key, k.col_key, c.num AS value, c.page,
           k.row_label, k.col_label
    FROM q_cellnum c
    JOIN q_cat k ON k.tk = c.tk AND k.value_type = 'amount_10k_yuan'
    JOIN q_grid_reports g ON g.rn = c.rn
    WHERE c.sc AND c.st = 0 AND c.num > $max_amount_10k_yuan
)
SELECT l.report_id, l.section, l.row_key, l.col_key,
       NULL::DOUBLE AS expected, l.value AS observed, l.page,
       l.value <= $max_amount_10k_yuan AS plausible, FALSE AS flagged, NULL::VARCHAR AS note,
       NULL::VARCHAR AS raw, l.row_label, l.col_label
FROM large l
ANTI JOIN q_warning_flags f ON f.kind = 'unit' AND f.report_id = l.report_id AND f.section = l.section
 AND f.row_key = l.row_key AND f.col_key = l.col_key
UNION ALL
SELECT f.report_id, f.section, f.row_key, f.col_key,
       NULL::DOUBLE, c.num, c.page, NULL, TRUE, f.note, c.raw,
       coalesce(k.row_label, 'the report'), coalesce(k.col_label, 'an amount')
FROM q_warning_flags f
JOIN q_grid_reports g ON g.report_id = f.report_id
LEFT JOIN q_cat k ON k.template = g.template AND k.section = f.section
 AND k.row_key = f.row_key AND k.col_key = f.col_key
LEFT JOIN q_cellnum c ON c.rn = g.rn AND c.tk = k.tk
WHERE f.kind = 'unit'
