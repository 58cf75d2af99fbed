"""The production profile's run queue, for real: a dagster-daemon on deploy/dagster.yaml (runs in
PostgreSQL) launches queued runs of the day's pipeline, never more LLM-heavy runs at once than the
tag limit (outropy/workload=llm: 2; three runs, so one waits), and every run succeeds.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from outropy_pipelines_tests.conftest import REPO
from outropy_pipelines_tests.scale_support import (
    BIN,
    max_overlap,
    process_env,
    production_home,
    run_daemon_until_done,
)

pytestmark = pytest.mark.scale

DAYS = ["2026-11-02", "2026-11-03", "2026-11-04"]
LLM_RUN_LIMIT = 2  # deploy/dagster.yaml, tag_concurrency_limits of outropy/workload=llm


def test_daemon_holds_llm_runs_to_the_tag_limit(tmp_path, monkeypatch, postgres_server):
    db = postgres_server.create_database("run_queue")
    for key, value in postgres_server.env(db).items():
        monkeypatch.setenv(key, value)
    home = production_home(tmp_path)
    env = process_env(home, postgres_server, db, tmp_path)
    workspace = str(REPO / "workspace.yaml")
    # queue the runs first (the queued run coordinator only stores them), then start the daemon
    launch = [str(BIN / "dagster"), "job", "launch", "-w", workspace, "-j", "daily_pipeline", "--tags"]
    launches = [
        subprocess.Popen(
            [*launch, json.dumps({"dagster/partition": day})],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for day in DAYS
    ]
    for proc in launches:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out[-3000:]
    with DagsterInstance.from_config(str(home)) as instance:
        assert {r.status for r in instance.get_runs()} == {DagsterRunStatus.QUEUED}
        # the pools' limits, as a deployment sets them once (`dagster instance concurrency set`)
        instance.event_log_storage.set_concurrency_slots("store", 4)
        instance.event_log_storage.set_concurrency_slots("llm", 2)
        peak_in_progress = run_daemon_until_done(
            instance, "daily_pipeline", workspace, env, tmp_path / "daemon.log", timeout=400, poll=0.5
        )
        # when a day succeeds, the sensor requests its briefings (user_briefings_job): not waited for
        records = instance.get_run_records(RunsFilter(job_name="daily_pipeline"))
        assert [r.dagster_run.status for r in records] == [DagsterRunStatus.SUCCESS] * len(DAYS), (
            tmp_path / "daemon.log"
        ).read_text()[-3000:]
        assert {r.dagster_run.tags["outropy/workload"] for r in records} == {"llm"}
        intervals = [(r.start_time, r.end_time) for r in records]
        overlap = max_overlap(intervals)
        print(
            f"scale figures: {len(DAYS)} daily_pipeline runs, limit {LLM_RUN_LIMIT}: at most {overlap} at once "
            f"(polled: {peak_in_progress}); wall {max(e for _, e in intervals) - min(s for s, _ in intervals):.1f}s"
        )
        assert overlap == LLM_RUN_LIMIT
        assert peak_in_progress <= LLM_RUN_LIMIT
