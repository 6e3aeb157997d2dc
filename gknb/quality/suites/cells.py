"""Checks over the `cells` table: the identities of CONTRACT.md inside one report, the value
domains, and completeness.

How statuses count (see docs/quality.md): `blank` and `nil` mean nothing was printed or the word
无 / － was, and both count as 0; a `missing` cell (the document lacks that part, or the reading
was unsure) makes every identity instance it belongs to unknowable, so that instance is skipped —
the `completeness` check reports the gap instead.
"""

from __future__ import annotations

from gknb.quality.suites import EXPECTED_VS_OBSERVED, PAIR_EQUAL, Check, Spec

CHECKS: tuple[Check, ...] = (
    Check(
        check_id="S3.balance",
        table="cells",
        severity="error",
        sql="s3_balance.sql",
        why=(
            "The request table prints its own rule (第一项加第二项之和，等于第三项加第四项之和): "
            "requests received plus carried over must equal those processed plus carried forward, "
            "so a column that breaks it holds at least one wrong number."
        ),
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "{col_label}: 新收 + 上年结转 = {expected}, but 办理结果总计 + 结转下年度 = {observed}",
        ),),
    ),
    Check(
        check_id="S3.outcomes",
        table="cells",
        severity="error",
        sql="s3_outcomes.sql",
        why=(
            "（七）总计 is the sum of the outcome rows (一)–(六); a total that differs from its rows "
            "means a misprinted outcome or total, and rollups of outcomes would not match totals."
        ),
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "{col_label}: the outcome rows add up to {expected}, but （七）总计 is {observed}",
        ),),
    ),
    Check(
        check_id="S3.row_total",
        table="cells",
        severity="error",
        sql="row_total.sql",
        sql_params=(("section", 3),),
        why=(
            "Each request row's 总计 is the sum of its six applicant columns; a mismatch means one "
            "of the seven printed numbers is wrong."
        ),
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "{row_label}: the applicant columns add up to {expected}, but 总计 is {observed}",
        ),),
    ),
    Check(
        check_id="S4.row_total",
        table="cells",
        severity="error",
        sql="row_total.sql",
        sql_params=(("section", 4),),
        why=(
            "A review or lawsuit row's 总计 is 维持 + 纠正 + 其他结果 + 尚未审结; a mismatch means the "
            "report's count of cases or of their outcomes is wrong."
        ),
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "{row_label}: 维持 + 纠正 + 其他 + 尚未审结 = {expected}, but 总计 is {observed}",
        ),),
    ),
    Check(
        check_id="domain",
        table="cells",
        severity="error",
        sql="domain.sql",
        why=(
            "Counts of documents, requests and cases are whole numbers that cannot be negative and "
            "万元 amounts cannot be negative (only 本年增/减 may); anything else is a misprint or a "
            "misreading that would distort every sum it enters."
        ),
        specs=(
            Spec(
                "ExpectColumnValuesToBeBetween",
                {"column": "observed", "min_value": 0},
                "{row_label} / {col_label}: {observed} is negative; only 本年增/减 may be",
                expected_text=">= 0",
                where=("must_be_non_negative", "==", True),
            ),
            Spec(
                "ExpectColumnValuesToBeInSet",
                {"column": "whole", "value_set": [True]},
                "{row_label} / {col_label}: {observed} is not a whole number; a count is",
                expected_text="a whole number",
                where=("must_be_whole", "==", True),
            ),
        ),
    ),
    Check(
        check_id="completeness",
        table="cells",
        severity="error",
        sql="completeness.sql",
        why=(
            "Every report must print the whole national table; a truncated table or a lost section "
            "leaves rollups silently short, so the gap is reported per report and section."
        ),
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "section {section}: {missing} of {expected} cells missing ({missing_rows})",
        ),),
    ),
)
