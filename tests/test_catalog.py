"""The template catalog loads, validates, and rejects a corrupt edit."""

import dataclasses

import pytest

from gknb.catalog import CatalogError, load_catalog, validate


def test_catalog_sizes_match_the_contract():
    cat = load_catalog()
    assert len(cat.template_cells("2019")) == 198
    assert len(cat.template_cells("2021")) == 200
    variants = [c for c in cat.cells if c.role == "variant"]
    assert [(c.template, c.row_key) for c in variants] == [("2021", "other")] * 7


def test_catalog_rejects_a_cell_named_twice():
    cells = load_catalog().cells
    with pytest.raises(CatalogError, match="named twice"):
        validate(cells + (cells[0],))


def test_catalog_rejects_an_unknown_value_type():
    cells = list(load_catalog().cells)
    cells[0] = dataclasses.replace(cells[0], value_type="percent")
    with pytest.raises(CatalogError, match="value_type"):
        validate(tuple(cells))
