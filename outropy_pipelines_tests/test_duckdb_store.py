"""DuckDBStore connections: DuckDB's memory is capped per connection."""

from __future__ import annotations

import pytest

from outropy_pipelines.store import DuckDBStore


def _limit_bytes(store: DuckDBStore) -> float:
    with store.connect() as con:
        text = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    number, unit = text.split()
    return float(number) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[unit]


def test_connections_cap_duckdb_memory(tmp_path, monkeypatch):
    store = DuckDBStore(tmp_path / "x.duckdb")
    monkeypatch.delenv("OUTROPY_DUCKDB_MEMORY_LIMIT", raising=False)
    assert _limit_bytes(store) == pytest.approx(512e6, rel=0.01)
    monkeypatch.setenv("OUTROPY_DUCKDB_MEMORY_LIMIT", "1GB")
    assert _limit_bytes(store) == pytest.approx(1e9, rel=0.01)
