-- Value domains: every printed number. The suite checks that counts and amounts are >= 0 (not
-- 本年增/减, a signed count) and that counts, signed or not, are whole (not 万元 amounts). The
-- columns are kept few and boolean because this frame holds every printed number of every report;
-- labels are added to the failing rows only.
SELECT report_id, row_key, col_key,
       NULL::DOUBLE AS expected,
       value AS observed,
       page,
       value_type <> 'signed_count' AS must_be_non_negative,
       value_type <> 'amount_10k_yuan' AS must_be_whole,
       value = round(value) AS whole
FROM q_grid
WHERE status = 'value'
ORDER BY report_id, section, row_key, col_key;
