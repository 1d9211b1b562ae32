"""The database file: its schema and codes, the one module that talks to DuckDB, the audit log."""
