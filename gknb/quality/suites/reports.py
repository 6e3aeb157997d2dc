"""Checks over the `reports` table and across reports: the template, timeliness, duplicates, the
narrative count, the carry-over between years and the district hierarchy."""

from __future__ import annotations

from gknb.quality.suites import EXPECTED_VS_OBSERVED, PAIR_EQUAL, Check, Spec

CHECKS: tuple[Check, ...] = (
    Check(
        check_id="metadata",
        table="reports",
        severity="error",
        sql="metadata.sql",
        why=(
            "A report whose agency or reporting year could not be read cannot be put in any "
            "rollup, history or coverage count; it is loaded, and must be read by a person."
        ),
        specs=(
            Spec("ExpectColumnValuesToNotBeNull", {"column": "agency"},
                 "the agency could not be read from the report", expected_text="the agency"),
            Spec("ExpectColumnValuesToNotBeNull", {"column": "year"},
                 "the reporting year could not be read from the report", expected_text="the reporting year"),
        ),
    ),
    Check(
        check_id="place",
        table="reports",
        severity="warning",
        sql="metadata.sql",
        why=(
            "A report whose province could not be resolved from its agency's name is in no "
            "district or city rollup; a warning, since the numbers may be right and an "
            "anonymised or unusual name is not the report's fault."
        ),
        specs=(Spec("ExpectColumnValuesToNotBeNull", {"column": "province"},
                    "the agency {agency} could not be placed in a province", expected_text="a province"),),
    ),
    Check(
        check_id="S3.carry",
        table="reports",
        severity="warning",
        sql="s3_carry.sql",
        why=(
            "What an agency carried forward at the end of last year is what it carried over into "
            "this one; a mismatch means one of the two years is wrong — a warning, not an error, "
            "because agencies merge, re-scope or correct last year's count in this year's report."
        ),
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "{col_label}: {prev_year} carried forward {expected}, {year} carried over {observed}",
        ),),
    ),
    Check(
        check_id="template",
        table="reports",
        severity="error",
        sql="template.sql",
        why=(
            "Reports from the 2021 reporting year on must use the revised table (国办公开办函〔2021〕30号) "
            "and earlier ones cannot; the wrong table means a non-compliant report or a wrong year."
        ),
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "a {year} report should use the {expected} table but prints the {observed} table",
        ),),
    ),
    Check(
        check_id="timeliness",
        table="reports",
        severity="warning",
        sql="timeliness.sql",
        why=(
            "The regulations (条例第五十条) require the report by 31 January of the following year; "
            "a later date is a compliance failure, though the numbers may be right."
        ),
        specs=(Spec(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": "deadline", "column_B": "published", "or_equal": True},
            "published {observed}, after the deadline {expected}",
        ),),
    ),
    Check(
        check_id="duplicate",
        table="reports",
        severity="error",
        sql="duplicate.sql",
        why=(
            "One agency publishes one current report a year; two different current reports for "
            "the same agency and year are counted twice in every rollup."
        ),
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "{observed} different current reports for {agency} {year}",
        ),),
    ),
    Check(
        check_id="narrative",
        table="reports",
        severity="warning",
        sql="narrative.sql",
        why=(
            "The text often states the requests received (全年共收到…申请N件); when it disagrees with "
            "the table one of them is wrong — a warning, since texts often count a different scope."
        ),
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "the text says {expected} requests, the table's 本年新收 总计 is {observed}",
        ),),
    ),
    Check(
        check_id="hierarchy",
        table="reports",
        severity="warning",
        sql="hierarchy.sql",
        why=(
            "Where a district government's report and all of its agencies' reports are loaded, "
            "the district's figures should match the sum of its agencies'; a warning, since "
            "district reports differ in what they cover."
        ),
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "{row_label} 总计: the district's {agencies} agencies add up to {expected}, "
            "the district government reports {observed}",
        ),),
    ),
)
