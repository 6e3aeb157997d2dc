-- S3.balance, per report and request-table column:
-- new_requests + carried_over (expected) = total_processed + carried_forward (observed).
-- Only where none of the four cells is missing.
SELECT report_id,
       'total_processed+carried_forward' AS row_key,
       col_key,
       sum(num) FILTER (WHERE row_key IN ('new_requests', 'carried_over')) AS expected,
       sum(num) FILTER (WHERE row_key IN ('total_processed', 'carried_forward')) AS observed,
       max(page) FILTER (WHERE row_key = 'carried_forward') AS page,
       any_value(col_label) AS col_label
FROM q_grid
WHERE section = 3 AND row_key IN ('new_requests', 'carried_over', 'total_processed', 'carried_forward')
GROUP BY report_id, col_key
HAVING count(*) = 4 AND count(*) FILTER (WHERE status = 'missing') = 0
ORDER BY report_id, col_key;
