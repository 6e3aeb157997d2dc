-- Value domains: every printed number with its catalog type. The suite checks counts and amounts
-- are >= 0 and counts (signed or not) are whole; `whole` is computed here because GX has no
-- "is integer" expectation for floats.
SELECT report_id, row_key, col_key,
       NULL::DOUBLE AS expected,
       value AS observed,
       page, value_type, row_label, col_label,
       value = round(value) AS whole
FROM q_grid
WHERE status = 'value'
ORDER BY report_id, section, row_key, col_key;
