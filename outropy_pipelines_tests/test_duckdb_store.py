"""DuckDBStore connections: DuckDB's memory is capped per connection."""

from __future__ import annotations

import pytest

from outropy_pipelines.defs.definitions import build_resources
from outropy_pipelines.settings import Settings
from outropy_pipelines.store import DuckDBStore


def _limit_bytes(store: DuckDBStore) -> float:
    with store.connect() as con:
        text = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    number, unit = text.split()
    return float(number) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[unit]


def test_connections_cap_duckdb_memory(tmp_path, monkeypatch):
    monkeypatch.delenv("OUTROPY_DUCKDB_MEMORY_LIMIT", raising=False)
    default = build_resources(Settings(duckdb_path=tmp_path / "x.duckdb"))["store"].store()
    assert _limit_bytes(default) == pytest.approx(512e6, rel=0.01)
    monkeypatch.setenv("OUTROPY_DUCKDB_MEMORY_LIMIT", "1GB")
    configured = build_resources(Settings(duckdb_path=tmp_path / "x.duckdb"))["store"].store()
    assert _limit_bytes(configured) == pytest.approx(1e9, rel=0.01)
