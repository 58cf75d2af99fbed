"""The store: the schema of the pipeline's DuckDB file and every read and write of its tables."""

from outropy_pipelines.store.duckdb_store import DuckDBStore, to_json
from outropy_pipelines.store.spill import ParquetSpill, SpilledFiles, rows_to_arrow

__all__ = ["DuckDBStore", "ParquetSpill", "SpilledFiles", "rows_to_arrow", "to_json"]
