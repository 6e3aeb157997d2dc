-- Units: a 万元 amount above the plausible ceiling ($max_amount_10k_yuan, checks.yaml) — the
-- signature of an amount printed in 元 without its unit — and every amount the extractor flagged
-- with a `unit:` warning (the cell named in the warning, or the report when it names none).
SELECT c.report_id, c.section, c.row_key, c.col_key,
       NULL::DOUBLE AS expected, c.value AS observed, c.page,
       c.value <= $max_amount_10k_yuan AS plausible, FALSE AS flagged, NULL::VARCHAR AS note,
       c.raw, k.row_label, k.col_label
FROM q_cells c
JOIN q_catalog k ON k.template = c.template AND k.section = c.section
 AND k.row_key = c.row_key AND k.col_key = c.col_key AND k.value_type = 'amount_10k_yuan'
ANTI JOIN q_warning_flags f ON f.kind = 'unit' AND f.report_id = c.report_id AND f.section = c.section
 AND f.row_key = c.row_key AND f.col_key = c.col_key
WHERE c.status = 'value'
UNION ALL
SELECT f.report_id, f.section, f.row_key, f.col_key,
       NULL::DOUBLE, c.value, c.page, NULL, TRUE, f.note, c.raw,
       coalesce(k.row_label, 'the report'), coalesce(k.col_label, 'an amount')
FROM q_warning_flags f
JOIN q_reports r ON r.report_id = f.report_id
LEFT JOIN q_cells c ON c.report_id = f.report_id AND c.section = f.section
 AND c.row_key = f.row_key AND c.col_key = f.col_key
LEFT JOIN q_catalog k ON k.template = r.template AND k.section = f.section
 AND k.row_key = f.row_key AND k.col_key = f.col_key
WHERE f.kind = 'unit'
