"""The production instance profiles (deploy/), loaded and validated for real.

deploy/dagster.yaml is loaded as a real instance on a real PostgreSQL server (runs, event logs and
schedules there). The Kubernetes and Docker profiles and their run config cannot run here (no
cluster, no Docker daemon): their instance config and run config are validated against the
schemas of dagster-k8s and dagster-docker and our jobs.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.system_config.objects import ResolvedRunConfig

from outropy_pipelines.defs.definitions import build_definitions
from outropy_pipelines_tests.conftest import REPO, make_settings

pytestmark = pytest.mark.scale

DEPLOY = REPO / "deploy"


def _home(tmp_path: Path, profile: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(profile, home / "dagster.yaml")
    return home


def test_production_profile_is_a_postgres_instance_with_queue_limits(tmp_path, monkeypatch, postgres_server):
    text = (DEPLOY / "dagster.yaml").read_text()
    assert postgres_server.password not in text and "password: {env: DAGSTER_PG_PASSWORD}" in text
    db = postgres_server.create_database("profile_check")
    for key, value in postgres_server.env(db).items():
        monkeypatch.setenv(key, value)
    home = _home(tmp_path, DEPLOY / "dagster.yaml")
    with DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert "postgresql+psycopg2://" in instance.run_storage.postgres_url
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 8
        limits = {(lim["key"], lim.get("value")): lim["limit"] for lim in queue.tag_concurrency_limits}
        assert limits == {
            ("outropy/workload", "llm"): 2,
            ("outropy/workload", "briefings"): 6,
            ("outropy/workload", "delivery"): 1,
        }
        # no default pool limit (dagster-io/dagster#33552): the deployment sets each pool once
        assert instance.get_concurrency_config().pool_config.default_pool_limit is None
        instance.event_log_storage.set_concurrency_slots("llm", 2)
        assert instance.event_log_storage.get_concurrency_info("llm").slot_count == 2
        assert instance.run_monitoring_enabled
        assert instance.run_retries_enabled
        # the storage works: tables created in PostgreSQL, a run stored and read back
        assert instance.get_runs_count() == 0
    tables = postgres_server.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", db=db)
    assert {"runs", "event_logs", "jobs", "concurrency_limits"} <= set(tables.split())


@pytest.mark.parametrize(
    ("profile", "launcher_module", "launcher_class", "executor"),
    [
        ("k8s", "dagster_k8s", "K8sRunLauncher", "k8s"),
        ("docker", "dagster_docker", "DockerRunLauncher", "docker"),
    ],
)
def test_cluster_profiles_and_run_config_validate(
    tmp_path, profile, launcher_module, launcher_class, executor
):
    home = _home(tmp_path, DEPLOY / profile / "dagster.yaml")
    config, _ = dagster_instance_config(str(home))  # the instance schema (raises when invalid)
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == (launcher_module, launcher_class)
    cls = getattr(importlib.import_module(launcher_module), launcher_class)
    result = process_config(cls.config_type(), launcher["config"])
    assert result.success, result.errors
    assert config["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    # the same run queue as deploy/dagster.yaml: one delivery run at a time (the ledger's one writer)
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {(lim["key"], lim["value"]): lim["limit"] for lim in limits} == {
        ("outropy/workload", "llm"): 2,
        ("outropy/workload", "briefings"): 6,
        ("outropy/workload", "delivery"): 1,
    }

    # every job of the code location accepts the run config with the executor it would run on
    defs = build_definitions(make_settings(tmp_path, executor=executor))
    run_config = yaml.safe_load((DEPLOY / profile / "run_config.yaml").read_text())
    for name in ("daily_pipeline", "user_briefings_job", "deliver_briefings"):
        job = defs.resolve_job_def(name)
        assert job.executor_def.name == executor
        ResolvedRunConfig.build(job, run_config)  # raises DagsterInvalidConfigError when invalid


def test_celery_worker_config_validates(monkeypatch):
    from dagster_celery.cli import get_validated_config

    monkeypatch.setenv("DAGSTER_CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("DAGSTER_CELERY_BACKEND_URL", "redis://127.0.0.1:6379/1")
    config = get_validated_config(str(DEPLOY / "celery.yaml"))
    assert config["broker"].startswith("redis://")
