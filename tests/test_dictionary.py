"""The data dictionary page is generated from the registry and the committed copy is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_the_committed_dictionary_is_current():
    from gknb.warehouse.dictionary import render_dictionary

    committed = (REPO / "docs" / "dictionary.md").read_text(encoding="utf-8")
    assert committed == render_dictionary(), "docs/dictionary.md is stale: run `gknb dictionary --out docs/dictionary.md`"


def test_the_dictionary_covers_tables_views_units_and_the_crosswalk():
    from gknb.warehouse.registry import load_registry, load_views

    text = (REPO / "docs" / "dictionary.md").read_text(encoding="utf-8")
    for name in [*load_registry(), *load_views()]:
        assert f"### `{name}`" in text, name
    assert "| `disclosure_ratio` | DOUBLE | ratio |" in text
    assert "| `value` | DECIMAL(18,6) | yes |  | The number when status is value" in text
    assert "| 2021 | `admin_fees` | 行政事业性收费 | `amount` | 本年收费金额（单位：万元） | `fee_amount_10k_yuan` | no | 10k_yuan |" in text
    assert "| 2021 | 3 | `other_no_correction` |" in text  # a 2021-only section-3 sub-row


def test_the_dictionary_command_writes_the_file(tmp_path):
    gknb = Path(sys.executable).parent / "gknb"
    out = tmp_path / "d" / "dictionary.md"
    run = subprocess.run([str(gknb), "dictionary", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert out.read_text(encoding="utf-8") == (REPO / "docs" / "dictionary.md").read_text(encoding="utf-8")
