"""The DuckLake store (OUTROPY_STORE_BACKEND=ducklake): catalog in a real PostgreSQL, Parquet data
files in a folder, written by several Dagster runs at once.

Four runs materialize four different days at the same time (`dagster asset materialize`, each its
own process, as on four hosts): first the day's messages, then its threads and items (which read
the day before as context, so they wait for the messages of every day). Every row is compared with
the single-file DuckDB store of the same days (the session's sample run): identical, nothing lost,
nothing duplicated.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time

import duckdb
import pytest

from outropy_pipelines.cli import main
from outropy_pipelines.store.ducklake_store import DuckLakeStore, _is_conflict
from outropy_pipelines_tests.conftest import REPO
from outropy_pipelines_tests.scale_support import BIN, DIRECTORY_TABLES, lake_catalog, lake_or_skip

pytestmark = pytest.mark.scale

DAYS = ["2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"]
PER_DAY = [
    "raw_messages",
    "quarantine",
    "threads",
    "thread_messages",
    "items",
    "item_sources",
    "llm_failures",
]


def _materialize(env: dict[str, str], select: str, partition: str | None) -> subprocess.Popen:
    cmd = [
        str(BIN / "dagster"),
        "asset",
        "materialize",
        "-m",
        "outropy_pipelines.definitions",
        "--select",
        select,
    ]
    if partition:
        cmd += ["--partition", partition]
    return subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _all_succeed(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out[-4000:]


def test_concurrent_runs_write_the_lake_like_the_single_file(tmp_path, postgres_server, sample_run):
    lake_or_skip()
    db = postgres_server.create_database("lake_catalog")
    catalog = lake_catalog(postgres_server, db)
    data = tmp_path / "lake_data"
    data.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "OUTROPY_STORE_BACKEND": "ducklake",
        "OUTROPY_DUCKLAKE_CATALOG": catalog,
        "OUTROPY_DUCKLAKE_DATA_PATH": str(data),
        "OUTROPY_DUCKLAKE_PASSWORD": postgres_server.password,
        "OUTROPY_DUCKDB_PATH": str(tmp_path / "scratch" / "outropy.duckdb"),
        "OUTROPY_SLACK_EXPORT": str(sample_run.settings.slack_export),
        "OUTROPY_BRIEFINGS_DIR": str(tmp_path / "briefings"),
        "OUTROPY_SLACK_WORKSPACE_URL": sample_run.settings.workspace_url,
        "OUTROPY_WORKERS": "1",
    }
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    _all_succeed([_materialize(env, "slack_directory", None)])
    # the previous day's messages are context for threads: the day before the first one, too
    _all_succeed([_materialize(env, "raw_slack_messages", day) for day in ["2026-11-02", *DAYS]])
    _all_succeed([_materialize(env, "slack_threads,classified_items", day) for day in DAYS])

    lake = DuckLakeStore(catalog, str(data), scratch_dir=tmp_path, password=postgres_server.password)
    single = sample_run.store
    for table in DIRECTORY_TABLES:
        assert lake.query(f"SELECT * FROM {table} ORDER BY ALL") == single.query(
            f"SELECT * FROM {table} ORDER BY ALL"
        )
    total = 0
    for table in PER_DAY:
        sql = f"SELECT * FROM {table} WHERE day IN (SELECT unnest(?)::DATE) ORDER BY ALL"
        lake_rows, single_rows = lake.query(sql, [DAYS]), single.query(sql, [DAYS])
        assert len(lake_rows) == len(single_rows), table
        assert lake_rows == single_rows, table
        total += len(lake_rows)
    assert total > 3000
    # the data is Parquet files in the data folder, the catalog in PostgreSQL
    assert list(data.rglob("*.parquet"))
    assert "raw_messages" in postgres_server.execute("SELECT table_name FROM ducklake_table", db=db)


def test_an_existing_duckdb_file_moves_into_the_lake(tmp_path, postgres_server, sample_run):
    lake_or_skip()
    db = postgres_server.create_database("lake_import")
    catalog = lake_catalog(postgres_server, db)
    (tmp_path / "data").mkdir()
    lake = DuckLakeStore(
        catalog, str(tmp_path / "data"), scratch_dir=tmp_path, password=postgres_server.password
    )
    counts = lake.import_duckdb_file(sample_run.settings.duckdb_path)  # read only
    assert counts["briefings"] > 100 and counts["raw_messages"] > 1000
    single = sample_run.store
    for table, n in counts.items():
        assert single.scalar(f"SELECT count(*) FROM {table}") == n, table
    for table in ("briefing_lines", "items", "entity_summaries"):
        assert lake.query(f"SELECT * FROM {table} ORDER BY ALL") == single.query(
            f"SELECT * FROM {table} ORDER BY ALL"
        )


def test_outropy_lake_import_moves_a_duckdb_file(tmp_path, monkeypatch, capsys, postgres_server, sample_run):
    lake_or_skip()
    catalog = lake_catalog(postgres_server, postgres_server.create_database("lake_cli_import"))
    data = tmp_path / "lake_data"
    data.mkdir()
    for name, value in {
        "OUTROPY_DUCKLAKE_CATALOG": catalog,
        "OUTROPY_DUCKLAKE_DATA_PATH": str(data),
        "OUTROPY_DUCKLAKE_PASSWORD": postgres_server.password,
        "OUTROPY_DUCKDB_PATH": str(tmp_path / "scratch" / "outropy.duckdb"),
    }.items():
        monkeypatch.setenv(name, value)
    source = sample_run.settings.duckdb_path
    expected = sample_run.store.table_counts()
    started = time.monotonic()
    assert main(["lake", "import", str(source)]) == 0
    took = time.monotonic() - started
    out = capsys.readouterr().out
    lake = DuckLakeStore(catalog, str(data), scratch_dir=tmp_path, password=postgres_server.password)
    assert lake.table_counts() == expected
    assert expected["briefings"] > 100 and expected["raw_messages"] > 1000
    for table, n in expected.items():  # what it moved, table by table
        assert re.search(rf"^  {table} +{n:,}$", out, re.MULTILINE), (table, out)
    assert f"{len(expected)} tables, {sum(expected.values()):,} rows." in out
    assert "set OUTROPY_STORE_BACKEND=ducklake" in out and postgres_server.password not in out
    # the lake holds rows now: a second import replaces them only when asked to
    assert main(["lake", "import", str(source)]) == 2
    assert "add --replace" in capsys.readouterr().err
    assert main(["lake", "import", "--replace", str(source)]) == 0
    assert lake.table_counts() == expected
    print(f"scale figures: outropy lake import of the sample's DuckDB file: {took:.1f}s")


def test_partition_writes_that_conflict_are_retried(tmp_path, postgres_server):
    lake_or_skip()
    db = postgres_server.create_database("lake_conflicts")
    catalog = lake_catalog(postgres_server, db)
    (tmp_path / "data").mkdir()
    lake = DuckLakeStore(
        catalog, str(tmp_path / "data"), scratch_dir=tmp_path, password=postgres_server.password
    )

    def rows(day: str, n: int, tag: str) -> list[dict]:
        return [{"day": day, "source": tag, "location": str(i), "reason": "r", "raw": tag} for i in range(n)]

    lake.replace_partitions([("quarantine", {"day": "2026-11-02"}, rows("2026-11-02", 3, "old"))])
    lake.replace_partitions([("quarantine", {"day": "2026-11-03"}, rows("2026-11-03", 3, "old"))])
    # DuckLake detects conflicts per table: two transactions replacing different days of one table
    # conflict, and the error is the one replace_partitions retries
    with lake.connect() as a, lake.connect() as b:
        a.execute("BEGIN")
        b.execute("BEGIN")
        a.execute("DELETE FROM quarantine WHERE day = '2026-11-02'")
        b.execute("DELETE FROM quarantine WHERE day = '2026-11-03'")
        a.execute("COMMIT")
        with pytest.raises(duckdb.TransactionException) as conflict:
            b.execute("COMMIT")
    assert _is_conflict(conflict.value)

    # eight writers replacing eight days at the same moment: every day exactly once, the newest rows
    days = [f"2026-11-{d:02d}" for d in range(2, 10)]
    start = threading.Barrier(len(days))
    errors: list[BaseException] = []

    def write(day: str) -> None:
        try:
            start.wait()
            lake.replace_partitions([("quarantine", {"day": day}, rows(day, 500, "new"))])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(day,)) for day in days]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    counts = lake.query(
        "SELECT day::VARCHAR AS day, raw, count(*) AS n FROM quarantine GROUP BY ALL ORDER BY ALL"
    )
    assert counts == [{"day": day, "raw": "new", "n": 500} for day in days]
    assert lake.scalar("SELECT count(DISTINCT (day, location)) FROM quarantine") == 8 * 500
    # how many collide depends on timing (1 in our runs); each one rolled back and was retried
    print(f"scale figures: lake conflicts retried by 8 concurrent partition writes: {lake.conflict_retries}")
