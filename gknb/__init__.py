"""gknb (公开年报): government information-disclosure annual reports into a DuckDB warehouse."""

__version__ = "0.1.0"
