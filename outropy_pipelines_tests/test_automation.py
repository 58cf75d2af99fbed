"""Schedule, sensors and the code location, evaluated against real instances and a real webserver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    EventRecordsFilter,
    RunsFilter,
    SensorResult,
    SkipReason,
    build_run_status_sensor_context,
    build_sensor_context,
)

from outropy_pipelines.defs.definitions import build_definitions, build_resources
from outropy_pipelines.defs.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    SUBSCRIBED_USERS,
)
from outropy_pipelines_tests.conftest import REPO, SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.local_http_server import free_port


def test_definitions_have_six_assets_schedule_and_sensors(tmp_path):
    defs = build_definitions(make_settings(tmp_path))
    keys = {spec.key.to_user_string() for spec in defs.resolve_all_asset_specs()}
    assert keys == {
        "slack_directory",
        "raw_slack_messages",
        "slack_threads",
        "classified_items",
        "entity_summaries",
        "user_briefings",
    }
    assert defs.resolve_schedule_def("daily_briefing_schedule") is not None
    assert defs.resolve_sensor_def("sync_subscribed_users") is not None
    assert defs.resolve_sensor_def("briefings_after_daily_pipeline") is not None
    assert defs.resolve_sensor_def("deliver_briefings_sensor") is not None
    assert defs.resolve_job_def("deliver_briefings") is not None


_SCHEDULE_TICK = """
import datetime as dt, sys
from dagster import DagsterInstance, build_schedule_context
from outropy_pipelines.definitions import defs
when = dt.datetime.fromisoformat(sys.argv[1])
with DagsterInstance.ephemeral() as instance:
    result = defs.resolve_schedule_def("daily_briefing_schedule").evaluate_tick(
        build_schedule_context(instance=instance, scheduled_execution_time=when))
print(",".join(r.partition_key for r in result.run_requests or []))
"""


@pytest.mark.parametrize(
    ("tz", "tick", "expected"),
    [
        ("UTC", "2026-11-05T06:00:00+00:00", "2026-11-04"),
        # 06:00 on Nov 5 in UTC is Nov 5, 19:00 in Auckland (UTC+13): the schedule's own tick there
        # is at 06:00 local time on Nov 6, for Nov 5
        ("Pacific/Auckland", "2026-11-06T06:00:00+13:00", "2026-11-05"),
    ],
)
def test_schedule_runs_yesterday_in_the_workspace_timezone(tmp_path, tz, tick, expected):
    """The time zone is the partitions', declared when the definitions load (OUTROPY_TIMEZONE)."""
    env = dict(os.environ, OUTROPY_TIMEZONE=tz, OUTROPY_DUCKDB_PATH=str(tmp_path / "o.duckdb"))
    proc = subprocess.run(
        [sys.executable, "-c", _SCHEDULE_TICK, tick], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected


def test_definitions_refuse_settings_that_disagree_with_the_partitions(tmp_path):
    with pytest.raises(ValueError, match="OUTROPY_TIMEZONE"):
        build_definitions(make_settings(tmp_path, timezone="Pacific/Auckland"))


def test_sync_sensor_adds_user_partitions_once(sample_run, tmp_path):
    defs = build_definitions(sample_run.settings)
    sensor = defs.resolve_sensor_def("sync_subscribed_users")
    subscribed = [
        r["user_id"]
        for r in sample_run.store.query("SELECT user_id FROM subscriptions WHERE active ORDER BY 1")
    ]
    with DagsterInstance.ephemeral() as instance:
        first = sensor(
            build_sensor_context(instance=instance, resources=build_resources(sample_run.settings))
        )
        assert isinstance(first, SensorResult)
        (request,) = first.dynamic_partitions_requests
        assert list(request.partition_keys) == subscribed
        instance.add_dynamic_partitions(SUBSCRIBED_USERS, list(request.partition_keys))
        second = sensor(
            build_sensor_context(instance=instance, resources=build_resources(sample_run.settings))
        )
        assert isinstance(second, SkipReason)


def test_successful_daily_run_requests_batched_briefing_runs(sample_run):
    defs = build_definitions(sample_run.settings)
    sensor = defs.resolve_sensor_def("briefings_after_daily_pipeline")
    instance = sample_run.instance
    run = instance.get_runs(
        RunsFilter(job_name="daily_pipeline", statuses=[DagsterRunStatus.SUCCESS]), limit=1
    )[0]
    event = instance.get_event_records(EventRecordsFilter(event_type=DagsterEventType.RUN_SUCCESS), limit=50)
    success = next(e.event_log_entry.dagster_event for e in event if e.event_log_entry.run_id == run.run_id)
    ctx = build_run_status_sensor_context(
        sensor_name="briefings_after_daily_pipeline",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=success,
        resources=build_resources(sample_run.settings),
    )
    result = sensor(ctx)
    requests = list(result) if not isinstance(result, SkipReason) else []
    users = instance.get_dynamic_partitions(SUBSCRIBED_USERS)
    assert len(requests) == 1  # 30 users, 1,000 per run: one run, not one per user
    tags = requests[0].tags
    first_day = run.tags[PARTITION_RANGE_START_TAG]
    last_day = run.tags[PARTITION_RANGE_END_TAG]
    assert tags[PARTITION_RANGE_START_TAG] == f"{first_day}|{users[0]}"
    assert tags[PARTITION_RANGE_END_TAG] == f"{last_day}|{users[-1]}"


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def test_dagster_webserver_shows_assets_lineage_schedule_and_sensors(tmp_path):
    port = free_port()
    env = dict(os.environ)
    env.update(
        DAGSTER_HOME=str(tmp_path),
        OUTROPY_DUCKDB_PATH=str(tmp_path / "o.duckdb"),
        OUTROPY_SLACK_EXPORT=str(SAMPLE_EXPORT),
    )
    webserver = os.path.join(os.path.dirname(sys.executable), "dagster-webserver")
    proc = subprocess.Popen(
        [webserver, "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        data = None
        while time.monotonic() < deadline:
            try:
                data = _graphql(
                    port,
                    """{ assetNodes { assetKey { path } dependencyKeys { path } isPartitioned
                           partitionDefinition { type } }
                         repositoriesOrError { ... on RepositoryConnection { nodes {
                           schedules { name } sensors { name } } } } }""",
                )
                if data.get("data", {}).get("assetNodes"):
                    break
            except OSError:
                pass
            time.sleep(1)
        assert data and data.get("data"), data
        nodes = {"/".join(n["assetKey"]["path"]): n for n in data["data"]["assetNodes"]}
        assert set(nodes) == {
            "slack_directory",
            "raw_slack_messages",
            "slack_threads",
            "classified_items",
            "entity_summaries",
            "user_briefings",
        }
        deps = {k: {"/".join(d["path"]) for d in n["dependencyKeys"]} for k, n in nodes.items()}
        assert deps["slack_threads"] == {"raw_slack_messages", "slack_directory"}
        assert deps["user_briefings"] == {"entity_summaries", "classified_items"}
        assert "entity_summaries" in deps["entity_summaries"]  # its own previous day
        assert nodes["user_briefings"]["partitionDefinition"]["type"] == "MULTIPARTITIONED"
        repo = data["data"]["repositoriesOrError"]["nodes"][0]
        assert {s["name"] for s in repo["schedules"]} == {"daily_briefing_schedule"}
        assert {s["name"] for s in repo["sensors"]} == {
            "sync_subscribed_users",
            "briefings_after_daily_pipeline",
            "deliver_briefings_sensor",
            "fail_runs_whose_process_died",
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--date", "2026-11-03", "--start", "2026-11-02"],
        ["run", "--start", "2026-11-05", "--end", "2026-11-02"],
    ],
)
def test_cli_run_rejects_bad_day_arguments(args, tmp_path):
    env = dict(
        os.environ,
        DAGSTER_HOME=str(tmp_path),
        OUTROPY_DUCKDB_PATH=str(tmp_path / "x.duckdb"),
        OUTROPY_SLACK_EXPORT=str(SAMPLE_EXPORT),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "outropy_pipelines.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "outropy:" in proc.stderr and ("--date" in proc.stderr or "after --end" in proc.stderr)
