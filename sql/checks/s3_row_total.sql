-- S3.row_total, per report and request-table row: the 总计 column (observed) = the sum of the six
-- applicant columns (expected); rows with any missing cell are skipped.
SELECT report_id, row_key, 'total' AS col_key,
       sum(num) FILTER (WHERE col_key <> 'total') AS expected,
       max(num) FILTER (WHERE col_key = 'total') AS observed,
       max(page) FILTER (WHERE col_key = 'total') AS page,
       any_value(row_label) AS row_label
FROM q_grid
WHERE section = 3
GROUP BY report_id, row_key
HAVING count(*) FILTER (WHERE status = 'missing') = 0
   AND count(*) FILTER (WHERE col_key = 'total') = 1
ORDER BY report_id, row_key;
