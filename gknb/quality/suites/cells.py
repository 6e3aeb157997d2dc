"""Checks over the `cells` table: the identities of CONTRACT.md inside one report (one generic
query over `template_identity_terms`), the value domains and units, completeness, and cells
printed but not settled.

How statuses count (see docs/quality.md): `blank` and `nil` mean nothing was printed or the word
无 / － was, and both count as 0; a `missing` cell (the document lacks that part, or the reading
was unsure) makes every equation it belongs to unknowable, so that equation is skipped —
`completeness` reports a cell not printed, `unsettled` one printed but not read.
"""

from __future__ import annotations

from gknb.quality.suites import EXPECTED_VS_OBSERVED, PAIR_EQUAL, Check, Spec


def _identity(check_id: str, message: str) -> Check:
    return Check(check_id=check_id, table="cells", sql="identity.sql",
                 sql_params=(("identity", check_id),),
                 specs=(Spec(PAIR_EQUAL, EXPECTED_VS_OBSERVED, message),))


CHECKS: tuple[Check, ...] = (
    _identity("S3.balance", "{col_label}: 新收 + 上年结转 = {expected}, but 办理结果总计 + 结转下年度 = {observed}"),
    _identity("S3.outcomes", "{col_label}: the outcome rows add up to {expected}, but （七）总计 is {observed}"),
    _identity("S3.row_total", "{row_label}: the applicant columns add up to {expected}, but 总计 is {observed}"),
    _identity("S4.row_total", "{row_label}: 维持 + 纠正 + 其他 + 尚未审结 = {expected}, but 总计 is {observed}"),
    Check(
        check_id="domain",
        table="cells",
        sql="domain.sql",
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
            Spec(
                "ExpectColumnValuesToBeInSet",
                {"column": "within_ceiling", "value_set": [True]},
                "{row_label} / {col_label}: {observed} is above the ceiling for a count ({ceiling})",
                expected_text="at most the ceiling (limits.yaml max_count)",
            ),
            Spec(
                "ExpectColumnValuesToBeInSet",
                {"column": "flagged", "value_set": [False]},
                "{row_label} / {col_label}: printed {raw}; {note}",
                expected_text="a plausible value",
            ),
        ),
    ),
    Check(
        check_id="unit",
        table="cells",
        sql="unit.sql",
        specs=(
            Spec(
                "ExpectColumnValuesToBeInSet",
                {"column": "plausible", "value_set": [True]},
                "{row_label} / {col_label}: {observed} 万元 is implausibly large (an amount in 元 printed without its unit?)",
                expected_text="at most the plausible amount (checks.yaml unit.max_amount_10k_yuan)",
            ),
            Spec(
                "ExpectColumnValuesToBeInSet",
                {"column": "flagged", "value_set": [False]},
                "{row_label} / {col_label}: {note}",
                expected_text="an amount with its unit",
            ),
        ),
    ),
    Check(
        check_id="completeness",
        table="cells",
        sql="completeness.sql",
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "section {section}: {missing} of {expected} cells missing ({missing_rows})",
        ),),
    ),
    Check(
        check_id="unsettled",
        table="cells",
        sql="unsettled.sql",
        specs=(Spec(
            "ExpectColumnValuesToBeNull", {"column": "observed"},
            "{row_label}: {cells} cell(s) printed as «{observed}» could not be read as numbers",
            expected_text="a number in each cell",
        ),),
    ),
)
