"""Configuration errors stop a command at its start (issue 9, item 6; gknb.config, gknb.settings).

For each file under schemas/, a broken copy (GKNB_SCHEMAS_DIR points gknb at it) makes
`gknb extract`, `gknb ingest`, `gknb check` and `gknb nightly` exit 2 with one line naming the
file, and records nothing: no warehouse is created, an existing one is byte-for-byte unchanged,
the nightly stops before Prefect starts. Before this, an alias entry `[]` made `gknb ingest` exit
0 with every document rejected, and a bad value_type was a traceback.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gknb.config import check_for, configuration_files
from gknb.errors import ConfigError
from gknb.paths import SCHEMAS_DIR

from conftest import SAMPLES

GKNB = str(Path(sys.executable).with_name("gknb"))
REPORT = SAMPLES / "markdown" / "shanghai_office_2025.md"


# --- one structural break per configuration file ------------------------------------------------

def _yaml_edit(edit):
    def apply(text: str) -> str:
        raw = yaml.safe_load(text)
        edit(raw)
        return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
    return apply


def _first(mapping):
    return next(iter(mapping))


def _label_alias_empty(raw):  # the issue's own example: one alias entry set to []
    section = _first(raw["rows"])
    raw["rows"][section][_first(raw["rows"][section])] = []


def _agency_misspelt(raw):  # `pattern` for `patterns`
    raw["kinds"][0]["pattern"] = raw["kinds"][0].pop("patterns")


def _region_misspelt(raw):
    place = raw[_first(raw)]
    place["provnce"] = place.pop("province")


def _structure_unknown_key(raw):
    group = raw["groups"][_first(raw["groups"])]
    keys = group["keys"]
    if isinstance(keys, dict):
        keys = keys[_first(keys)]
    keys.append("no_such_row")


def _csv_edit(edit):
    def apply(text: str) -> str:
        rows = list(csv.DictReader(io.StringIO(text)))
        edit(rows[0])
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    return apply


BREAKS = {
    "template_cells.csv": ("a bad value_type", _csv_edit(lambda r: r.update(value_type="cuont"))),
    "cell_crosswalk.csv": ("a row the catalog lacks", _csv_edit(lambda r: r.update(row_key="no_such_row"))),
    "label_aliases.yaml": ("an alias entry []", _yaml_edit(_label_alias_empty)),
    "agency_kinds.yaml": ("a misspelt key", _yaml_edit(_agency_misspelt)),
    "region_aliases.yaml": ("a misspelt key", _yaml_edit(_region_misspelt)),
    "limits.yaml": ("a negative limit", _yaml_edit(lambda raw: raw.update(max_pages=-1))),
    "sites.yaml": ("a misspelt default", _yaml_edit(lambda raw: raw["defaults"].update(timeout_secs=5))),
    "template_structure.yaml": ("a row key the catalog lacks", _yaml_edit(_structure_unknown_key)),
    "value_words.yaml": ("no digits", _yaml_edit(lambda raw: raw.pop("digits"))),
    "checks.yaml": ("not YAML", lambda text: text + "\n: : [unclosed\n"),
    "division_changes.yaml": ("a malformed adcode", _yaml_edit(lambda raw: raw["changes"][0].update(adcode="12"))),
    "tables/*.yaml": ("a misspelt column key", _yaml_edit(lambda raw: raw["columns"][0].update(nulable=False))),
    "views/_columns.yaml": ("a shared column without a description", _yaml_edit(lambda raw: raw.update({_first(raw): ""}))),
    "views/*.yaml": ("a misspelt key", _yaml_edit(lambda raw: raw.update(materialized=True))),
    "division_changes.yaml": ("a misspelt key", _yaml_edit(lambda raw: raw["changes"][0].update(valid_form=2019))),
}


def _break_for(rel: str):
    for pattern, entry in BREAKS.items():
        if Path(rel).match(pattern) and ("/" in pattern) == ("/" in rel):
            return entry
    return None


FILES = [p.relative_to(SCHEMAS_DIR).as_posix() for p in configuration_files(SCHEMAS_DIR)]


def test_every_file_under_schemas_is_checked_and_has_a_break_here():
    """A new data file must join gknb.config.FILE_CHECKS and get a broken copy in this test."""
    assert len(FILES) >= 10
    assert [f for f in FILES if check_for(f) is None] == []
    assert [f for f in FILES if _break_for(f) is None] == []


# --- running the commands on a broken copy --------------------------------------------------------

def _env(tmp: Path, schemas: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GKNB_", "PREFECT_"))}
    env.update(GKNB_HOME=str(tmp / "data"), XDG_CACHE_HOME=str(tmp / "cache"),
               PREFECT_HOME=str(tmp / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    if schemas is not None:
        env["GKNB_SCHEMAS_DIR"] = str(schemas)
    return env


def _gknb(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([GKNB, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory) -> Path:
    """A warehouse for `gknb check` to (not) touch: a DuckDB file with a loaded document (built
    directly, so this test does not depend on the whole ingest path)."""
    import duckdb

    db = tmp_path_factory.mktemp("good") / "wh.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE documents (sha256 VARCHAR, path VARCHAR, status VARCHAR)")
    con.execute("INSERT INTO documents VALUES ('00', 'r.md', 'loaded')")
    con.close()
    return db


@pytest.mark.parametrize("rel", FILES)
def test_a_broken_file_stops_every_command_with_one_line_and_records_nothing(rel, tmp_path, good_warehouse):
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas, ignore=shutil.ignore_patterns("__pycache__"))
    what, breaker = _break_for(rel)
    target = schemas / rel
    target.write_text(breaker(target.read_text(encoding="utf-8")), encoding="utf-8")
    env = _env(tmp_path, schemas)
    before = _sha(good_warehouse)
    new_db = tmp_path / "new.duckdb"
    runs = {
        "extract": ["extract", str(REPORT)],
        "ingest": ["ingest", "--no-progress", "--workers", "1", "--db", str(new_db), str(REPORT)],
        "check": ["check", "--no-progress", "--no-docs", "--db", str(good_warehouse)],
        "nightly": ["nightly", "--db", str(new_db), "--out", str(tmp_path / "out"),
                    "http://127.0.0.1:9/"],
    }
    # the four commands at once (each only validates and stops): the suite stays quick
    started = {command: subprocess.Popen([GKNB, *args], env=env, cwd=tmp_path, text=True,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for command, args in runs.items()}
    for command, process in started.items():
        out, err = process.communicate(timeout=300)
        done = subprocess.CompletedProcess(process.args, process.returncode, out, err)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, (rel, what, command, done.stderr[-2000:])
        assert len(lines) == 1, (rel, command, done.stderr[-2000:])
        assert lines[0].startswith(f"gknb {command}: {target}:"), (rel, command, lines[0])
        assert done.stdout == "", (rel, command)  # extract printed no cell
    assert not new_db.exists()  # ingest and nightly created no warehouse
    assert not list(tmp_path.glob(".new.duckdb*")) and not (tmp_path / "out").exists()
    assert _sha(good_warehouse) == before  # check recorded no run
    assert not (tmp_path / "prefect").exists()  # the nightly stopped before Prefect started
    assert not (tmp_path / "data").exists()


def test_a_broken_sites_list_given_to_nightly_is_named(tmp_path):
    """`--sites FILE` is configuration too; a disabled entry with a misspelt key is an error now,
    not on the night someone enables it."""
    sites = tmp_path / "my_sites.yaml"
    sites.write_text("sites:\n  - name: x\n    enabled: false\n    start_urls: ['http://127.0.0.1:9/']\n"
                     "    requests_per_secnd: 2\n", encoding="utf-8")
    done = _gknb(["nightly", "--sites", str(sites), "--db", str(tmp_path / "w.duckdb"),
                  "--out", str(tmp_path / "out")], _env(tmp_path, None), tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"gknb nightly: {sites}: sites[0]: unknown key(s) requests_per_secnd")
    assert not (tmp_path / "w.duckdb").exists() and not (tmp_path / "prefect").exists()


def test_validation_is_cheap_on_the_extract_path(tmp_path):
    """No DuckDB, pandas, Arrow or Prefect for validation; a second command reuses the stamp and
    runs no loader at all (not even YAML)."""
    code = ("import sys; from gknb.config import validate_configuration; validate_configuration(); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'duckdb', 'pandas', 'pyarrow', 'prefect', 'great_expectations', 'yaml', 'httpx'}))")
    env = _env(tmp_path, None)
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.strip() == "['httpx', 'yaml']"  # the loaders ran: YAML, and the site list's module
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert again.stdout.strip() == "[]"
    assert len(list((tmp_path / "cache" / "gknb" / "config-ok").iterdir())) == 1


# --- limits ---------------------------------------------------------------------------------------

def test_limits_defaults_are_documented_in_the_file():
    from gknb.settings import Limits, limits, limits_file

    current = limits()
    text = limits_file().read_text(encoding="utf-8")
    for name in Limits.__dataclass_fields__:
        # each key is in the file with a comment saying what it bounds
        line = next(line for line in text.splitlines() if line.startswith(f"{name}:"))
        assert "#" in line and float(line.split(":")[1].split("#")[0]) == getattr(current, name)
    assert current.max_pages == 200 and current.extract_timeout_seconds == 300


def test_the_readme_states_the_limits_defaults():
    """README "Limits and guarantees" quotes each limit with its default from schemas/limits.yaml."""
    from gknb.settings import Limits, limits

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Limits and guarantees", 1)[1].split("\n## ", 1)[0]
    current = limits()
    for name in Limits.__dataclass_fields__:
        value = getattr(current, name)
        shown = str(int(value)) if float(value).is_integer() else str(value)
        assert f"| `{name}` | {shown} |" in section, name


@pytest.mark.parametrize("body, message", [
    ("max_pagess: 5\n", "unknown limit 'max_pagess'"),
    ("max_pages: many\n", "max_pages must be a whole number, got 'many'"),
    ("max_pages: 2.5\n", "max_pages must be a whole number"),
    ("max_pages: true\n", "max_pages must be a whole number"),
    ("extract_timeout_seconds: -1\n", "extract_timeout_seconds must be positive"),
    ("html_max_span: 0\n", "html_max_span must be positive"),
    ("- 1\n", "expected a mapping"),
    ("max_pages: [\n", "not valid YAML"),
])
def test_a_bad_limits_overlay_is_a_config_error_naming_the_file_and_key(tmp_path, monkeypatch, body, message):
    from gknb.settings import LIMITS_ENV, limits

    overlay = tmp_path / "limits.yaml"
    overlay.write_text(body, encoding="utf-8")
    monkeypatch.setenv(LIMITS_ENV, str(overlay))
    with pytest.raises(ConfigError) as caught:
        limits()
    assert str(caught.value).startswith(f"{overlay}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_overlay_changes_only_its_keys(tmp_path, monkeypatch):
    from gknb.settings import LIMITS_ENV, limits

    base = limits()
    overlay = tmp_path / "limits.yaml"
    overlay.write_text("max_pages: 5\nextract_timeout_seconds: 2\n", encoding="utf-8")
    monkeypatch.setenv(LIMITS_ENV, str(overlay))
    over = limits()
    assert (over.max_pages, over.extract_timeout_seconds) == (5, 2.0)
    assert over.max_text_bytes == base.max_text_bytes and over.max_count == base.max_count
    monkeypatch.delenv(LIMITS_ENV)
    assert limits() == base


def test_a_limits_file_missing_a_key_is_named(tmp_path, monkeypatch):
    import gknb.settings as settings

    partial = tmp_path / "limits.yaml"
    partial.write_text("max_pages: 5\n", encoding="utf-8")
    monkeypatch.setattr(settings, "limits_file", lambda: partial)
    with pytest.raises(ConfigError, match=rf"^{partial}: missing limit 'max_image_pixels'$"):
        settings.limits()
