"""DuckDB SQL shipped as package data: ddl/ (tables), views/ (analysts' views and rollups),
checks/ (the quality checks)."""
