"""Shared fixtures: the whole pipeline materialized once on the sample workspace.

Real components only: the committed sample export, a temporary DuckDB file, a temporary Dagster
instance, real assets run through the real jobs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance

from outropy_pipelines.pipeline_runner import PipelineRunner, RunSummary, select_days
from outropy_pipelines.settings import Settings
from outropy_pipelines.store import DuckDBStore

REPO = Path(__file__).resolve().parents[1]
SAMPLE_EXPORT = REPO / "data" / "sample_export"


def make_settings(tmp: Path, export: Path = SAMPLE_EXPORT, **overrides) -> Settings:
    values = {
        "duckdb_path": tmp / "outropy.duckdb",
        "slack_export": export,
        "briefings_dir": tmp / "briefings",
        "slack_workspace_url": "https://acme.slack.com",
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class PipelineRun:
    settings: Settings
    instance: DagsterInstance
    runner: PipelineRunner
    store: DuckDBStore
    days: list[str]
    summary: RunSummary
    answer_key: dict


@pytest.fixture(scope="session")
def answer_key() -> dict:
    return json.loads((SAMPLE_EXPORT / "_answer_key.json").read_text())


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, answer_key) -> PipelineRun:
    tmp = tmp_path_factory.mktemp("sample_run")
    settings = make_settings(tmp)
    instance = DagsterInstance.ephemeral()
    runner = PipelineRunner(settings, instance=instance, days_per_run=4, users_per_run=12)
    days = select_days(settings)
    summary = runner.run(days)
    return PipelineRun(
        settings, instance, runner, DuckDBStore(settings.duckdb_path), days, summary, answer_key
    )


# -- real servers for the `scale` tests (outropy_pipelines_tests/servers.py) -------------------------
@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of this session (Debian's postgresql package), stopped at the end."""
    from outropy_pipelines_tests.servers import PostgresServer, find_postgres_bin

    bin_dir = find_postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries (initdb, postgres) not found: apt-get install postgresql")
    server = PostgresServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server():
    """A Redis server of this session (Debian's redis-server package), stopped at the end."""
    from outropy_pipelines_tests.servers import RedisServer, find_redis_server

    binary = find_redis_server()
    if binary is None:
        pytest.skip("redis-server not found: apt-get install redis-server")
    server = RedisServer(binary).start()
    try:
        yield server
    finally:
        server.stop()
