"""An analysis on the export, as an analyst would write it: pandas and polars read the Parquet files
`gknb export` wrote, without options, and one chart is drawn (plain SVG, no plotting library).

    gknb export --out data/export
    .venv/bin/python docs/analysis_example.py data/export docs/

tests/test_analysis_example.py runs this file on the samples' export, so it cannot rot. It writes
OUT/analysis_example.svg (new requests and the disclosure ratio of one district by year) and, when
altair is installed, the same chart as a Vega-Lite spec OUT/analysis_example.vl.json.
"""

from __future__ import annotations

import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import polars as pl


def requests_by_year_pandas(export: Path) -> pd.DataFrame:
    """New requests per year over every district, with the reports behind them - pandas."""
    rollup = pd.read_parquet(export / "rollup_requests_district_year")
    per_year = rollup.groupby("year").agg(
        groups=("reports", "size"),
        reports=("reports", "sum"),
        reports_with_value=("new_requests_reports", "sum"),
        # an honest total: only where every report of every group states the number
        new_requests=("new_requests", lambda s: s.sum() if s.notna().all() else pd.NA),
    )
    per_year["new_requests"] = per_year["new_requests"].astype("Int64")
    return per_year.reset_index()


def requests_by_year_polars(export: Path) -> pl.DataFrame:
    """The same with polars."""
    rollup = pl.read_parquet(export / "rollup_requests_district_year")
    return (
        rollup.group_by("year")
        .agg(
            pl.len().alias("groups"),
            pl.col("reports").sum(),
            pl.col("new_requests_reports").sum().alias("reports_with_value"),
            pl.when(pl.col("new_requests").null_count() == 0).then(pl.col("new_requests").sum()).alias("new_requests"),
        )
        .sort("year")
    )


def district_series(export: Path, district: str) -> pd.DataFrame:
    """One district's requests and disclosure ratio by year, from the year-over-year view."""
    yoy = pd.read_parquet(export / "yoy_requests_district_year")
    rows = yoy[(yoy["district"] == district) & (yoy["place_level"] == "district")]
    return rows[["year", "new_requests", "new_requests_change_ratio", "disclosure_ratio"]].sort_values("year")


def bar_chart_svg(series: pd.DataFrame, title: str) -> str:
    """A bar per year (new requests), its disclosure ratio written above it."""
    width, height, left, bottom, top = 420, 280, 50, 40, 60
    bars = series.dropna(subset=["new_requests"])
    peak = max(int(bars["new_requests"].max()), 1)
    step = (width - left - 20) / max(len(bars), 1)
    plot_h = height - bottom - top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             f'<title>{escape(title)}</title>',
             f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#333"/>']
    for i, row in enumerate(bars.itertuples(index=False)):
        h = plot_h * int(row.new_requests) / peak
        x = left + i * step + step * 0.15
        y = height - bottom - h
        ratio = "" if pd.isna(row.disclosure_ratio) else f"{row.disclosure_ratio:.0%} disclosed"
        parts += [
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="#4a7ab5" '
            f'data-year="{int(row.year)}" data-new-requests="{int(row.new_requests)}"/>',
            f'<text x="{x + step * 0.35:.1f}" y="{y - 18:.1f}" text-anchor="middle">{int(row.new_requests)}</text>',
            f'<text x="{x + step * 0.35:.1f}" y="{y - 5:.1f}" text-anchor="middle" font-size="10" fill="#555">{ratio}</text>',
            f'<text x="{x + step * 0.35:.1f}" y="{height - bottom + 16}" text-anchor="middle">{int(row.year)}</text>',
        ]
    parts.append(f'<text x="12" y="{top + plot_h / 2}" transform="rotate(-90 12 {top + plot_h / 2})" '
                 f'text-anchor="middle">new requests (件)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def vega_lite_spec(series: pd.DataFrame, title: str) -> str | None:
    """The same chart as a Vega-Lite JSON spec through altair (None when altair is missing)."""
    try:
        import altair as alt
    except ImportError:
        return None
    data = series.dropna(subset=["new_requests"]).astype({"year": "int64", "new_requests": "int64"})
    chart = alt.Chart(data, title=title).mark_bar().encode(
        x=alt.X("year:O", title="reporting year"), y=alt.Y("new_requests:Q", title="new requests (件)"),
        tooltip=["year", "new_requests", "disclosure_ratio"])
    return chart.to_json()


def main(export: Path, out: Path, district: str = "平潭县") -> dict:
    by_pandas = requests_by_year_pandas(export)
    by_polars = requests_by_year_polars(export)
    print("New requests per year (pandas):")
    print(by_pandas.to_string(index=False))
    print("\nThe same with polars:")
    print(by_polars)
    series = district_series(export, district)
    title = f"{district}: new information-disclosure requests by year"
    out.mkdir(parents=True, exist_ok=True)
    svg = out / "analysis_example.svg"
    svg.write_text(bar_chart_svg(series, title), encoding="utf-8")
    spec = vega_lite_spec(series, title)
    if spec is not None:
        (out / "analysis_example.vl.json").write_text(spec, encoding="utf-8")
    print(f"\n{svg}: {len(series)} years of {district}")
    return {"pandas": by_pandas, "polars": by_polars, "series": series, "svg": svg}


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: analysis_example.py EXPORT_DIR OUT_DIR [DISTRICT]")
    main(Path(sys.argv[1]), Path(sys.argv[2]), *sys.argv[3:4])
