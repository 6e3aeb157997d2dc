-- Value domains: every printed number. The suite checks that counts and amounts are >= 0 (not
-- 本年增/减, a signed count), that counts, signed or not, are whole (not 万元 amounts) and at most
-- the ceiling ($ceiling, limits.yaml max_count), and raises every number the extractor kept in
-- raw with a `domain:` warning (outside the plausible range, so not loaded as a value). Only
-- numbers that can fail any of these (negative, fractional or above the ceiling) leave the scan.
WITH candidates AS (
    SELECT c.rn, c.tk, c.num AS value, c.page
    FROM q_cellnum c
    WHERE c.sc AND c.st = 0 AND (c.num < 0 OR c.num <> round(c.num) OR abs(c.num) > $ceiling)
)
SELECT g.report_id, k.section, k.row_key, k.col_key,
       NULL::DOUBLE AS expected, d.value AS observed, d.page,
       k.value_type <> 'signed_count' AS must_be_non_negative,
       k.value_type <> 'amount_10k_yuan' AS must_be_whole,
       d.value = round(d.value) AS whole,
       CASE WHEN k.value_type <> 'amount_10k_yuan' THEN abs(d.value) <= $ceiling END AS within_ceiling,
       FALSE AS flagged, NULL::VARCHAR AS note, NULL::VARCHAR AS raw, $ceiling AS ceiling,
       k.row_label, k.col_label
FROM candidates d
JOIN q_cat k ON k.tk = d.tk
JOIN q_grid_reports g ON g.rn = d.rn
UNION ALL
SELECT f.report_id, f.section, f.row_key, f.col_key,
       NULL::DOUBLE, TRY_CAST(regexp_replace(c.raw, '[^0-9.\-]', '', 'g') AS DOUBLE), c.page,
       NULL, NULL, NULL, NULL, TRUE, f.note, c.raw, $ceiling, k.row_label, k.col_label
FROM q_warning_flags f
JOIN q_grid_reports g ON g.report_id = f.report_id
LEFT JOIN q_cat k ON k.template = g.template AND k.section = f.section
 AND k.row_key = f.row_key AND k.col_key = f.col_key
LEFT JOIN q_cellnum c ON c.rn = g.rn AND c.tk = k.tk
WHERE f.kind = 'domain'
