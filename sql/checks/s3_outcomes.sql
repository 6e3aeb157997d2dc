-- S3.outcomes, per report and request-table column: total_processed (observed) = the sum of the
-- outcome rows (expected). The 其他处理 part is the three 2021 sub-rows where all are present,
-- else the single `other` row (2019, or the 2021 variant row); instances with a missing outcome
-- are skipped.
WITH outcome_rows AS (
    SELECT *,
           row_key LIKE 'other\_%' ESCAPE '\' AS is_other_sub,
           row_key = 'other' AS is_other
    FROM q_grid
    WHERE section = 3
      AND row_key NOT IN ('new_requests', 'carried_over', 'carried_forward')
),
per_column AS (
    SELECT report_id, col_key, any_value(col_label) AS col_label,
           sum(num) FILTER (WHERE NOT is_other AND NOT is_other_sub AND row_key <> 'total_processed') AS main_sum,
           count(*) FILTER (WHERE NOT is_other AND NOT is_other_sub AND row_key <> 'total_processed'
                              AND status = 'missing') AS main_missing,
           count(*) FILTER (WHERE is_other_sub) AS sub_rows,
           count(*) FILTER (WHERE is_other_sub AND status <> 'missing') AS sub_present,
           sum(num) FILTER (WHERE is_other_sub) AS sub_sum,
           max(num) FILTER (WHERE is_other) AS other_value,
           max(num) FILTER (WHERE row_key = 'total_processed') AS observed,
           max(page) FILTER (WHERE row_key = 'total_processed') AS page
    FROM outcome_rows
    GROUP BY report_id, col_key
),
with_other AS (
    SELECT *,
           CASE WHEN sub_rows > 0 AND sub_present = sub_rows THEN sub_sum
                ELSE other_value END AS other_part
    FROM per_column
)
SELECT report_id, 'total_processed' AS row_key, col_key,
       main_sum + other_part AS expected, observed, page, col_label
FROM with_other
WHERE main_missing = 0 AND other_part IS NOT NULL AND observed IS NOT NULL
ORDER BY report_id, col_key;
