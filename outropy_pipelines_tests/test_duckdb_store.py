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


def test_a_read_only_store_reads_and_never_writes(tmp_path):
    import duckdb

    writer = DuckDBStore(tmp_path / "x.duckdb")
    writer.execute("INSERT INTO users (user_id, name) VALUES ('U1', 'ann')")
    reader = DuckDBStore(tmp_path / "x.duckdb", read_only=True)
    assert reader.query("SELECT user_id, name FROM users") == [{"user_id": "U1", "name": "ann"}]
    with pytest.raises(duckdb.Error, match="read-only"):
        reader.execute("DELETE FROM users")
    # two readers at once (the shared lock), and the writer again once they are done
    with reader.connect() as a, DuckDBStore(tmp_path / "x.duckdb", read_only=True).connect() as b:
        assert (
            a.execute("SELECT count(*) FROM users").fetchone()
            == b.execute("SELECT count(*) FROM users").fetchone()
        )
    writer.execute("DELETE FROM users")
    assert reader.scalar("SELECT count(*) FROM users") == 0
    # a read-only store creates no schema: on a file without our tables, it finds none
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    empty = DuckDBStore(tmp_path / "empty.duckdb", read_only=True)
    assert empty.scalar("SELECT count(*) FROM information_schema.tables") == 0
