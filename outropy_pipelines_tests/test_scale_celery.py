"""The daily pipeline end to end on the Celery executor: steps on Celery workers, broker and
result backend on a real Redis, the run in the production instance (real PostgreSQL).

Two workers (as on two hosts) are started with dagster-celery's own CLI; the run is executed with
`dagster job execute` and OUTROPY_EXECUTOR=celery, so every step is a Celery task. The rows are
compared with the same day run by Dagster's default executor: identical.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest
from dagster import DagsterInstance, DagsterRunStatus

from outropy_pipelines.store import DuckDBStore
from outropy_pipelines_tests.conftest import REPO
from outropy_pipelines_tests.scale_support import BIN, day_rows, process_env, production_home

pytestmark = pytest.mark.scale

DAY = "2026-11-02"
STEPS = {"slack_directory", "raw_slack_messages", "slack_threads", "classified_items", "entity_summaries"}


def _execute(env: dict[str, str], cwd) -> None:
    tags = json.dumps({"dagster/partition": DAY})
    cmd = [
        str(BIN / "dagster"),
        "job",
        "execute",
        "-m",
        "outropy_pipelines.definitions",
        "-j",
        "daily_pipeline",
    ]
    out = subprocess.run(
        [*cmd, "--tags", tags], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_daily_pipeline_on_celery_workers_matches_the_default_executor(
    tmp_path, monkeypatch, postgres_server, redis_server
):
    db = postgres_server.create_database("celery_e2e")
    for key, value in postgres_server.env(db).items():
        monkeypatch.setenv(key, value)
    home = production_home(tmp_path)
    celery_dir, default_dir = tmp_path / "celery", tmp_path / "default"
    celery_dir.mkdir()
    default_dir.mkdir()
    env = process_env(
        home, postgres_server, db, celery_dir,
        OUTROPY_EXECUTOR="celery",
        DAGSTER_CELERY_BROKER_URL=f"{redis_server.url}/0",
        DAGSTER_CELERY_BACKEND_URL=f"{redis_server.url}/1",
    )  # fmt: skip
    workers, logs = [], []
    try:
        for name in ("host-a", "host-b"):
            log_path = tmp_path / f"celery-{name}.log"
            logs.append(log_path)
            cmd = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
                   "-y", str(REPO / "deploy" / "celery.yaml"), "-n", name, "--", "--concurrency=1"]  # fmt: skip
            out = log_path.open("w")
            workers.append(
                subprocess.Popen(
                    cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        _execute(env, REPO)
    finally:
        for proc in workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    worker_logs = "".join(p.read_text() for p in logs)
    assert worker_logs.count("succeeded in") == len(STEPS), worker_logs[-3000:]
    with DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        assert run.status == DagsterRunStatus.SUCCESS
        assert run.tags["outropy/workload"] == "llm"
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        done = {
            e.step_key
            for e in instance.all_logs(run.run_id)
            if e.dagster_event and e.dagster_event.is_step_success
        }
        assert done == STEPS

    # the same day on Dagster's default executor: the same rows, nothing lost or duplicated
    _execute(process_env(home, postgres_server, db, default_dir), REPO)
    celery_rows = day_rows(DuckDBStore(celery_dir / "outropy.duckdb"), DAY)
    default_rows = day_rows(DuckDBStore(default_dir / "outropy.duckdb"), DAY)
    assert sum(len(r) for r in celery_rows.values()) > 1000
    for table, rows in default_rows.items():
        assert celery_rows[table] == rows, table
