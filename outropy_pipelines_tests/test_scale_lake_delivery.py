"""Delivery on the DuckLake store (catalog in a real PostgreSQL, Parquet files in a folder), by Slack
DM to the fake Slack Web API: every (day, user, channel) sent exactly once.

DuckLake has no primary keys, so the ledger's one-row-per-key rests on one writer: one
`deliver_briefings` run at a time in the deployment (run tag `outropy/workload=delivery`, limit 1
in deploy/dagster.yaml). The first test runs the job as the sensor requests it, twice in this
process (the second sends nothing); the second queues two runs at once on the production profile
and lets a real dagster-daemon launch them: one after the other, the second sending nothing.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter, build_sensor_context

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.adapters.slack_messenger import slack_payloads
from outropy_pipelines.defs.definitions import build_definitions, build_resources
from outropy_pipelines.defs.delivery import DELIVER_JOB, DELIVERY_WORKLOAD
from outropy_pipelines.defs.jobs import WORKLOAD_TAG
from outropy_pipelines.defs.resources import (
    DeliveryPolicyResource,
    EmailDeliveryResource,
    SlackDeliveryResource,
)
from outropy_pipelines.domain import delivery_plan as plan
from outropy_pipelines.stages.directory import write_directory
from outropy_pipelines.store import deliveries
from outropy_pipelines.store.ducklake_store import DuckLakeStore
from outropy_pipelines_tests.conftest import REPO, SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.fake_slack_server import FakeSlackServer
from outropy_pipelines_tests.scale_support import (
    BIN,
    lake_catalog,
    lake_or_skip,
    max_overlap,
    process_env,
    production_home,
    run_daemon_until_done,
)

pytestmark = pytest.mark.scale

TOKEN = "xoxb-test-lake-delivery"
DAY = "2026-11-03"
EXAMPLE_SUBSCRIPTIONS = REPO / "data" / "subscriptions.example.yaml"
# data/subscriptions.example.yaml: Bob by email only, Carol nothing, Dan unsubscribed
NOT_ON_SLACK = {"U002BOB", "U003CAROL", "U004DAN"}
READERS = 10


def _lake_with_briefings(tmp_path: Path, pg, sample_run, name: str) -> tuple[DuckLakeStore, dict[str, str]]:
    """A new lake holding the sample run's briefings of DAY, subscriptions from the example file;
    and the OUTROPY_* variables that select it."""
    lake_or_skip()
    catalog = lake_catalog(pg, pg.create_database(name))
    data = tmp_path / "lake_data"
    data.mkdir()
    lake = DuckLakeStore(catalog, str(data), scratch_dir=tmp_path, password=pg.password)
    lake.import_duckdb_file(sample_run.settings.duckdb_path)
    # one day, the first READERS people (delivery on the lake costs about a second a message: every
    # claim and every record attaches the catalog)
    lake.execute(
        "DELETE FROM briefings WHERE day <> CAST(? AS DATE) OR user_id NOT IN "
        "(SELECT user_id FROM briefings WHERE day = CAST(? AS DATE) ORDER BY user_id LIMIT ?)",
        [DAY, DAY, READERS],
    )
    directory, _ = SlackExportReader(SAMPLE_EXPORT).read_directory()
    write_directory(lake, directory, [], EXAMPLE_SUBSCRIPTIONS)
    env = {
        "OUTROPY_STORE_BACKEND": "ducklake",
        "OUTROPY_DUCKLAKE_CATALOG": catalog,
        "OUTROPY_DUCKLAKE_DATA_PATH": str(data),
        "OUTROPY_DUCKLAKE_PASSWORD": pg.password,
    }
    return lake, env


def _slack_readers(lake: DuckLakeStore) -> set[str]:
    briefed = {r["user_id"] for r in lake.query("SELECT user_id FROM briefings WHERE day = ?", [DAY])}
    return briefed - NOT_ON_SLACK


def _assert_each_sent_once(lake: DuckLakeStore, slack: FakeSlackServer, readers: set[str]) -> None:
    """Every reader's briefing arrived once, complete (each part once), and the ledger holds one
    `sent` row per (day, user, channel) and no other row."""
    posts: dict[str, list[int]] = {}
    for post in slack.posted:
        (user,) = slack.opened[post["channel"]]
        posts.setdefault(user, []).append(post["params"]["metadata"]["event_payload"]["part"])
    assert set(posts) == readers
    bodies = deliveries.outgoing(lake, [(DAY, u, "slack") for u in readers])
    for user, parts in posts.items():
        assert sorted(parts) == list(range(1, len(slack_payloads(bodies[(DAY, user, "slack")])) + 1)), user
    rows = lake.query("SELECT CAST(day AS VARCHAR) AS day, user_id, channel, status FROM deliveries")
    assert sorted((r["day"], r["user_id"], r["channel"], r["status"]) for r in rows) == sorted(
        (DAY, u, "slack", plan.SENT) for u in readers
    )
    assert deliveries.duplicate_deliveries(lake) == 0
    assert deliveries.failed_deliveries(lake) == 0


def test_the_deliver_job_on_the_lake_sends_each_briefing_once(
    tmp_path, monkeypatch, postgres_server, sample_run
):
    started = time.monotonic()
    lake, env = _lake_with_briefings(tmp_path, postgres_server, sample_run, "lake_delivery")
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the password reaches the store resource as an EnvVar
    settings = make_settings(
        tmp_path,
        store_backend="ducklake",
        ducklake_catalog=env["OUTROPY_DUCKLAKE_CATALOG"],
        ducklake_data_path=env["OUTROPY_DUCKLAKE_DATA_PATH"],
        ducklake_password=postgres_server.password,
    )
    readers = _slack_readers(lake)
    assert len(readers) == READERS - len(NOT_ON_SLACK)
    with FakeSlackServer(SAMPLE_EXPORT, TOKEN) as slack, DagsterInstance.ephemeral() as instance:
        delivery = {
            "slack_delivery": SlackDeliveryResource(bot_token=TOKEN, api_base_url=slack.base_url),
            "email_delivery": EmailDeliveryResource(),
            "delivery_policy": DeliveryPolicyResource(max_age_days=None),
        }
        defs = build_definitions(settings, resources=delivery)
        sensor = defs.resolve_sensor_def("deliver_briefings_sensor")

        def tick():
            context = build_sensor_context(
                instance=instance, resources={**build_resources(settings), **delivery}
            )
            return sensor.evaluate_tick(context)

        # the sensor reads the lake (there is no DuckDB file to wait for) and asks for one run
        [request] = tick().run_requests
        assert request.tags["outropy/due"] == str(len(readers))
        job = defs.resolve_job_def(DELIVER_JOB)
        outcomes = []
        for _ in range(2):
            result = job.execute_in_process(
                instance=instance, run_config=request.run_config, tags=request.tags, raise_on_error=False
            )
            assert result.success
            assert result.dagster_run.tags[WORKLOAD_TAG] == DELIVERY_WORKLOAD
            outcomes.append(result.output_for_node("deliver_due_briefings"))
        assert [o["sent"] for o in outcomes] == [len(readers), 0]  # the second run finds nothing due
        assert all(o["retry"] == o["failed"] == o["unknown"] == 0 for o in outcomes)
        assert "nothing due" in (tick().skip_message or "")
        _assert_each_sent_once(lake, slack, readers)
    # the deliveries table is the lake's (no primary key there), its rows Parquet files
    assert "deliveries" in postgres_server.execute(
        "SELECT table_name FROM ducklake_table", db="lake_delivery"
    )
    print(
        f"scale figures: lake delivery, 2 runs in process, {len(readers)} DMs: {time.monotonic() - started:.1f}s"
    )


def test_two_deliver_runs_queued_at_once_run_one_after_the_other(
    tmp_path, monkeypatch, postgres_server, sample_run
):
    started = time.monotonic()
    lake, lake_env = _lake_with_briefings(tmp_path, postgres_server, sample_run, "lake_delivery_queue")
    readers = _slack_readers(lake)
    db = postgres_server.create_database("deliver_queue")
    for key, value in postgres_server.env(db).items():
        monkeypatch.setenv(key, value)
    home = production_home(tmp_path)
    workspace = str(REPO / "workspace.yaml")
    with FakeSlackServer(SAMPLE_EXPORT, TOKEN) as slack:
        env = process_env(
            home,
            postgres_server,
            db,
            tmp_path,
            **lake_env,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_API_BASE_URL=slack.base_url,
            OUTROPY_SLACK_SOURCE="export",
        )
        # both runs queued before the daemon starts: it could launch both in its first pass
        launch = [str(BIN / "dagster"), "job", "launch", "-w", workspace, "-j", DELIVER_JOB]
        launches = [
            subprocess.Popen(
                launch, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            for _ in range(2)
        ]
        for proc in launches:
            out, _ = proc.communicate(timeout=300)
            assert proc.returncode == 0, out[-3000:]
        with DagsterInstance.from_config(str(home)) as instance:
            queued = instance.get_runs(RunsFilter(job_name=DELIVER_JOB))
            assert [r.status for r in queued] == [DagsterRunStatus.QUEUED] * 2
            assert {r.tags[WORKLOAD_TAG] for r in queued} == {DELIVERY_WORKLOAD}
            peak_in_progress = run_daemon_until_done(
                instance, DELIVER_JOB, workspace, env, tmp_path / "daemon.log", timeout=300, poll=0.25
            )
            records = instance.get_run_records(RunsFilter(job_name=DELIVER_JOB))
            # the sensor may add a run of its own (nothing is due within its age limit): all succeed
            assert len(records) >= 2
            assert {r.dagster_run.status for r in records} == {DagsterRunStatus.SUCCESS}, (
                tmp_path / "daemon.log"
            ).read_text()[-3000:]
            intervals = [(r.start_time, r.end_time) for r in records]
            assert max_overlap(intervals) == 1 and peak_in_progress <= 1
            sent = []
            for r in sorted(records, key=lambda r: r.start_time):
                [output] = [
                    e.dagster_event.step_output_data
                    for e in instance.all_logs(r.dagster_run.run_id)
                    if e.dagster_event and e.dagster_event.is_successful_output
                ]
                sent.append(output.metadata["sent"].value)
        assert sent[:2] == [len(readers), 0] and sum(sent) == len(readers)
        _assert_each_sent_once(lake, slack, readers)
    wall = max(e for _, e in intervals) - min(s for s, _ in intervals)
    print(
        f"scale figures: {len(records)} deliver_briefings runs queued at once, limit 1: at most "
        f"{max_overlap(intervals)} at once (polled: {peak_in_progress}); runs' wall {wall:.1f}s, "
        f"test {time.monotonic() - started:.1f}s"
    )
