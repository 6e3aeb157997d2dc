-- S4.row_total, per report and review/lawsuit row: 总计 (observed) = 维持 + 纠正 + 其他结果 +
-- 尚未审结 (expected); rows with any missing cell are skipped.
SELECT report_id, row_key, 'total' AS col_key,
       sum(num) FILTER (WHERE col_key <> 'total') AS expected,
       max(num) FILTER (WHERE col_key = 'total') AS observed,
       max(page) FILTER (WHERE col_key = 'total') AS page,
       any_value(row_label) AS row_label
FROM q_grid
WHERE section = 4
GROUP BY report_id, row_key
HAVING count(*) FILTER (WHERE status = 'missing') = 0
   AND count(*) FILTER (WHERE col_key = 'total') = 1
ORDER BY report_id, row_key;
