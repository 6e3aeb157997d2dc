"""Benchmarks: figures written to bench/results/, not timed tests. `python -m bench` runs them all."""
