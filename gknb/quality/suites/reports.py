"""Checks over the `reports` table and across reports: the template, timeliness, duplicates, the
narrative count, the carry-over between years and the district hierarchy."""

from __future__ import annotations

from gknb.quality.suites import EXPECTED_VS_OBSERVED, PAIR_EQUAL, Check, Spec

CHECKS: tuple[Check, ...] = (
    Check(
        check_id="metadata",
        table="reports",
        sql="metadata.sql",
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
        sql="metadata.sql",
        specs=(Spec("ExpectColumnValuesToNotBeNull", {"column": "province"},
                    "the agency {agency} could not be placed in a province", expected_text="a province"),
               Spec("ExpectColumnValuesToBeNull", {"column": "place_warning"}, "{agency}: {place_warning}",
                    expected_text="a place resolved to the level the agency's name implies, for its year")),
    ),
    Check(
        check_id="S3.carry",
        table="reports",
        sql="s3_carry.sql",
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "{col_label}: {prev_year} carried forward {expected}, {year} carried over {observed}",
        ),),
    ),
    Check(
        check_id="template",
        table="reports",
        sql="template.sql",
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "a {year} report should use the {expected} table but prints the {observed} table",
        ),),
    ),
    Check(
        check_id="timeliness",
        table="reports",
        sql="timeliness.sql",
        specs=(Spec(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": "deadline", "column_B": "published", "or_equal": True},
            "published {observed}, after the deadline {expected}",
        ),),
    ),
    Check(
        check_id="duplicate",
        table="reports",
        sql="duplicate.sql",
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "{observed} different current reports for {agency} {year}",
        ),),
    ),
    Check(
        check_id="narrative",
        table="reports",
        sql="narrative.sql",
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "the text says {expected} requests, the table's 本年新收 总计 is {observed}",
        ),),
    ),
    Check(
        check_id="hierarchy",
        table="reports",
        sql="hierarchy.sql",
        specs=(Spec(
            PAIR_EQUAL, EXPECTED_VS_OBSERVED,
            "{row_label} 总计: the district's {agencies} agencies add up to {expected}, "
            "the district government reports {observed}",
        ),),
    ),
)
