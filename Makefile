# The two commands of the README: `make demo` (set up, run the main job on data/samples) and
# `make test` (the test suite; .ci/run calls it).
VENV ?= .venv
PY := $(VENV)/bin/python
GKNB := $(VENV)/bin/gknb
DB ?= data/warehouse.duckdb

.PHONY: setup demo test bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(GKNB) ingest data/samples --db $(DB)
	$(GKNB) check --db $(DB)
	$(GKNB) dashboard --db $(DB) --out data/out/dashboard
	@echo "warehouse: $(DB)   dashboard: data/out/dashboard/index.html"

test: setup
	$(VENV)/bin/pytest -q

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) data/out data/raw data/*.duckdb*
