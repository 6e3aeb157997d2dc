-- Value domains: every printed number. The suite checks that counts and amounts are >= 0 (not
-- 本年增/减, a signed count), that counts, signed or not, are whole (not 万元 amounts) and at most
-- the ceiling ($ceiling, limits.yaml max_count), and raises every number the extractor kept in
-- raw with a `domain:` warning (outside the plausible range, so not loaded as a value). The
-- failing rows only ever leave DuckDB.
SELECT c.report_id, c.section, c.row_key, c.col_key,
       NULL::DOUBLE AS expected, c.value AS observed, c.page,
       k.value_type <> 'signed_count' AS must_be_non_negative,
       k.value_type <> 'amount_10k_yuan' AS must_be_whole,
       c.value = round(c.value) AS whole,
       CASE WHEN k.value_type <> 'amount_10k_yuan' THEN abs(c.value) <= $ceiling END AS within_ceiling,
       FALSE AS flagged, NULL::VARCHAR AS note, c.raw, $ceiling AS ceiling,
       k.row_label, k.col_label
FROM q_cells c
JOIN q_catalog k ON k.template = c.template AND k.section = c.section
 AND k.row_key = c.row_key AND k.col_key = c.col_key
WHERE c.status = 'value'
UNION ALL
SELECT f.report_id, f.section, f.row_key, f.col_key,
       NULL::DOUBLE, TRY_CAST(regexp_replace(c.raw, '[^0-9.\-]', '', 'g') AS DOUBLE), c.page,
       NULL, NULL, NULL, NULL, TRUE, f.note, c.raw, $ceiling, k.row_label, k.col_label
FROM q_warning_flags f
JOIN q_reports r ON r.report_id = f.report_id
LEFT JOIN q_cells c ON c.report_id = f.report_id AND c.section = f.section
 AND c.row_key = f.row_key AND c.col_key = f.col_key
LEFT JOIN q_catalog k ON k.template = r.template AND k.section = f.section
 AND k.row_key = f.row_key AND k.col_key = f.col_key
WHERE f.kind = 'domain'
