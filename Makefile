# The two commands of the README: `make demo` (set up, run the main job on data/samples) and
# `make test` (the test suite; .ci/run calls it).
VENV ?= .venv
PY := $(VENV)/bin/python
GKNB := $(VENV)/bin/gknb
# The data directory every output goes under (gknb --data-dir): warehouse.duckdb, dashboard/, data_docs/.
DATA ?= data

.PHONY: setup demo test bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(GKNB) --data-dir $(DATA) ingest data/samples
	$(GKNB) --data-dir $(DATA) check
	$(GKNB) --data-dir $(DATA) dashboard
	@echo "warehouse: $(DATA)/warehouse.duckdb   dashboard: $(DATA)/dashboard/index.html"

test: setup
	$(VENV)/bin/pytest -q

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(DATA)/out $(DATA)/raw $(DATA)/dashboard $(DATA)/data_docs $(DATA)/export $(DATA)/releases $(DATA)/*.duckdb*
