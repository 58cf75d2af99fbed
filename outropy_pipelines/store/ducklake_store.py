"""DuckLakeStore: the store's interface over a DuckLake, for several hosts writing at once.

Opt-in (`OUTROPY_STORE_BACKEND=ducklake`, README "Running at scale"). The catalog lives in
PostgreSQL, the data in Parquet files under a folder or object storage path; every process opens
an in-memory DuckDB, attaches the lake and works in it with the same SQL as `DuckDBStore`, so
stages and store modules do not know which backend they write.

- Extensions: `ducklake` and `postgres_scanner` are loaded from their Python packages (the `lake`
  extra: duckdb-extension-ducklake, duckdb-extension-postgres-scanner, built for the DuckDB version
  the project pins), never downloaded.
- Writes: every write is one lake transaction (one snapshot) through `in_transaction`: a partition
  write (`replace_partitions`), the LLM cache, each write of the delivery ledger. A write-write
  conflict with another host (DuckLake's optimistic concurrency) rolls it back and it is run again
  with jittered backoff, so partition writes from many runs at once neither lose nor duplicate rows.
- No file lock: the catalog serialises commits. DuckLake has no primary keys (the schema's are
  dropped here, `_lake_statement`); the LLM cache's ON CONFLICT is an anti-join.
- The delivery ledger (`deliveries`) keeps one row per (day, user, channel) by having one writer:
  concurrent INSERTs into one lake table do not conflict, so two claimers could both claim a
  delivery. Every `deliver_briefings` run carries the run tag `outropy/workload=delivery` and the
  production run queue (deploy/dagster.yaml) lets one such run go at a time; inside it claims are
  made one at a time, each a lake transaction that reads the row before writing it. Tested on a
  real PostgreSQL catalog (test_scale_lake_delivery.py): each DM sent once, a second run sends
  nothing, two runs queued at once run one after the other.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import importlib.util
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from outropy_pipelines.store.duckdb_store import DEFAULT_MEMORY_LIMIT, DuckDBStore, T
from outropy_pipelines.store.schema import schema_statements, schema_tables
from outropy_pipelines.store.spill import rows_to_arrow

LAKE = "lake"
EXTENSION_PACKAGES = ("duckdb_extension_postgres_scanner", "duckdb_extension_ducklake")
_CONFLICT_RETRIES = 8


class LakeUnavailableError(RuntimeError):
    """The lake extensions are not installed, or the catalog cannot be attached."""


class SourceFileError(ValueError):
    """`import_duckdb_file` cannot open the file it is given as a DuckDB database."""


@functools.cache
def extension_files() -> tuple[str, ...]:
    """The extension binaries of the installed packages, for this DuckDB version."""
    files = []
    for package in EXTENSION_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise LakeUnavailableError(
                f"the lake backend needs the Python package {package.replace('_', '-')} "
                "(pip install -e '.[lake]')"
            )
        root = spec.submodule_search_locations[0]
        found = glob.glob(f"{root}/extensions/v{duckdb.__version__}/*.duckdb_extension")
        if not found:
            raise LakeUnavailableError(
                f"{package.replace('_', '-')} has no extension for DuckDB {duckdb.__version__}"
            )
        files.append(found[0])
    return tuple(files)


def _lake_statement(stmt: str) -> str:
    """A schema statement as DuckLake takes it: no primary keys."""
    stmt = re.sub(r",\s*PRIMARY KEY\s*\([^)]*\)", "", stmt)
    return re.sub(r"\s+PRIMARY KEY\b", "", stmt)


def _is_conflict(exc: Exception) -> bool:
    text = str(exc).lower()
    return "conflict" in text or "concurrent" in text or "could not serialize" in text


def _quote(value: str) -> str:
    return value.replace("'", "''")


class DuckLakeStore(DuckDBStore):
    """The same reads and writes as `DuckDBStore`, on a DuckLake (PostgreSQL catalog, Parquet data)."""

    def __init__(
        self,
        catalog: str,
        data_path: str,
        scratch_dir: str | Path,
        password: str | None = None,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        # `path` only places the local spill area; the data is in the lake
        super().__init__(Path(scratch_dir) / "lake-scratch.duckdb", memory_limit=memory_limit)
        self.catalog = catalog
        self.data_path = data_path if data_path.endswith("/") else data_path + "/"
        self._password = password
        #: partition writes rolled back by a conflict with another writer and retried (this process)
        self.conflict_retries = 0

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect(":memory:", config={"memory_limit": self.memory_limit})
        try:
            for path in extension_files():
                con.execute(f"LOAD '{_quote(path)}'")
            dsn = self.catalog + (f" password={self._password}" if self._password else "")
            try:
                con.execute(
                    f"ATTACH 'ducklake:postgres:{_quote(dsn)}' AS {LAKE} (DATA_PATH '{_quote(self.data_path)}')"
                )
            except duckdb.Error as exc:
                message = str(exc).replace(self._password, "***") if self._password else str(exc)
                raise LakeUnavailableError(f"cannot attach the lake catalog: {message}") from None
            con.execute(f"USE {LAKE}")
            if not self._schema_ready:
                self._create_schema(con)
            yield con
        finally:
            con.close()

    def _create_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        for attempt in range(_CONFLICT_RETRIES):
            try:
                con.execute("BEGIN TRANSACTION")
                for stmt in schema_statements():
                    con.execute(_lake_statement(stmt))
                con.execute("COMMIT")
                self._schema_ready = True
                return
            except duckdb.Error as exc:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                if not _is_conflict(exc) and "already exists" not in str(exc).lower():
                    raise
                _backoff(attempt)
        raise LakeUnavailableError("could not create the lake schema: conflicting writers")

    def exists(self) -> bool:
        """A lake is always there to read: attaching the catalog creates it (and the schema)."""
        return True

    def in_transaction(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """One lake transaction (one snapshot); a write-write conflict with another writer rolls it
        back and `work` runs again, on a new connection, after a jittered backoff (up to
        `_CONFLICT_RETRIES` times). Every write of this store goes through here: partition writes,
        the LLM cache, the delivery ledger."""
        for attempt in range(_CONFLICT_RETRIES):
            try:
                return super().in_transaction(work)
            except duckdb.Error as exc:
                if not _is_conflict(exc) or attempt == _CONFLICT_RETRIES - 1:
                    raise
                self.conflict_retries += 1
                _backoff(attempt)
        raise AssertionError("unreachable")

    def put_llm_calls(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        arrow = rows_to_arrow(rows)

        def insert_new(con: duckdb.DuckDBPyConnection) -> None:
            con.register("_new_calls", arrow)
            con.execute(
                "INSERT INTO llm_calls BY NAME SELECT * FROM (SELECT * FROM _new_calls "
                "QUALIFY row_number() OVER (PARTITION BY cache_key) = 1) AS n "
                "WHERE n.cache_key NOT IN (SELECT cache_key FROM llm_calls)"
            )
            con.unregister("_new_calls")

        self.in_transaction(insert_new)

    def import_duckdb_file(self, source: str | Path) -> dict[str, int]:
        """Move an existing DuckDB file's tables into this lake (README, "Running at scale"): in one
        lake transaction, each table of the store's schema is replaced by the file's rows. The file
        is only read. Returns rows copied per table."""
        counts: dict[str, int] = {}
        with self.connect() as con:
            try:
                con.execute(f"ATTACH '{_quote(str(source))}' AS source_file (READ_ONLY)")
            except duckdb.Error as exc:
                raise SourceFileError(f"cannot open {source} as a DuckDB file: {exc}") from None
            present = {
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = 'source_file'"
                ).fetchall()
            }
            con.execute("BEGIN TRANSACTION")
            try:
                for table in schema_tables():
                    con.execute(f"DELETE FROM {LAKE}.{table}")
                    if table in present:
                        con.execute(f"INSERT INTO {LAKE}.{table} BY NAME SELECT * FROM source_file.{table}")
                    counts[table] = con.execute(f"SELECT count(*) FROM {LAKE}.{table}").fetchone()[0]
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise
        return counts


def _backoff(attempt: int) -> None:
    delay = min(0.05 * 2**attempt, 2.0)
    time.sleep(delay + random.uniform(0, delay))
