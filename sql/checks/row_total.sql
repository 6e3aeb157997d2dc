-- S3.row_total and S4.row_total, per report and row of one section ($section): the 总计 column
-- (observed) = the sum of the row's other columns (expected) — the six applicant columns of a
-- request row (section 3), 维持 + 纠正 + 其他结果 + 尚未审结 of a review/lawsuit row (section 4).
-- Rows with any missing cell are skipped.
SELECT report_id, row_key, 'total' AS col_key,
       sum(num) FILTER (WHERE col_key <> 'total') AS expected,
       max(num) FILTER (WHERE col_key = 'total') AS observed,
       max(page) FILTER (WHERE col_key = 'total') AS page,
       any_value(row_label) AS row_label
FROM q_grid
WHERE section = $section
GROUP BY report_id, row_key
HAVING count(*) FILTER (WHERE status = 'missing') = 0
   AND count(*) FILTER (WHERE col_key = 'total') = 1
ORDER BY report_id, row_key;
