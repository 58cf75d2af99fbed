"""A backfill as the UI launches it, run by the real daemon (`dagster dev`): it must batch.

Every asset has BackfillPolicy.single_run(); user_briefings is partitioned by date x user. Dagster
has known rough edges with single-run backfills of multi-partitioned assets, so this checks what we
rely on: a backfill of D days for U users makes a handful of runs (not D x U), every run succeeds,
and every (day, user) briefing is written.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from dagster import DagsterInstance, DagsterRunStatus, MultiPartitionKey, RunsFilter

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.defs.partitions import SUBSCRIBED_USERS
from outropy_pipelines.stages.directory import write_directory
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.directory import subscribed_user_ids
from outropy_pipelines_tests.conftest import REPO, SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.local_http_server import free_port

DAYS = ["2026-11-03", "2026-11-04"]

# what the UI sends when you pick partition ranges in the backfill dialog
LAUNCH = """mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
STATUS = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  __typename ... on PartitionBackfill { status } } }"""


def _graphql(port: int, query: str, variables: dict) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())["data"]


def _ranges(asset: str, start: str, end: str) -> dict:
    return {"assetKey": {"path": [asset]}, "partitions": {"ranges": [{"start": start, "end": end}]}}


def test_ui_backfill_of_days_and_users_is_batched(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nrun_queue:\n  max_concurrent_runs: 4\n")
    settings = make_settings(tmp_path)
    # the directory and the user partitions exist before the backfill, as after a first run
    store = DuckDBStore(settings.duckdb_path)
    directory, quarantine = SlackExportReader(SAMPLE_EXPORT).read_directory()
    write_directory(store, directory, quarantine)
    users = subscribed_user_ids(store)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "OUTROPY_DUCKDB_PATH": str(settings.duckdb_path),
        "OUTROPY_SLACK_EXPORT": str(SAMPLE_EXPORT),
        "OUTROPY_BRIEFINGS_DIR": str(settings.briefings_dir),
        "OUTROPY_SLACK_WORKSPACE_URL": settings.workspace_url,
    }
    # this process's view of the same instance, made (its storage created and migrated) before the
    # webserver starts: two processes migrating a fresh instance at once can both write alembic's
    # version table ("more than one head present")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = DagsterInstance.get()
    instance.add_dynamic_partitions(SUBSCRIBED_USERS, users)
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    port = free_port()
    log = (tmp_path / "dagster-dev.log").open("w")
    proc = subprocess.Popen(
        [dagster, "dev", "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        start = str(MultiPartitionKey({"date": DAYS[0], "user": users[0]}))
        end = str(MultiPartitionKey({"date": DAYS[-1], "user": users[-1]}))
        params = {
            "partitionsByAssets": [
                *(
                    _ranges(k, DAYS[0], DAYS[-1])
                    for k in ("raw_slack_messages", "slack_threads", "classified_items", "entity_summaries")
                ),
                _ranges("user_briefings", start, end),
            ]
        }
        deadline = time.monotonic() + 120
        while True:  # the webserver answers a few seconds after it starts
            try:
                launched = _graphql(port, LAUNCH, {"params": params})["launchPartitionBackfill"]
                break
            except OSError as exc:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError((tmp_path / "dagster-dev.log").read_text()[-3000:]) from exc
                time.sleep(1)
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]
        deadline = time.monotonic() + 420
        status = "REQUESTED"
        while time.monotonic() < deadline:
            status = _graphql(port, STATUS, {"id": backfill_id})["partitionBackfillOrError"]["status"]
            if status != "REQUESTED":
                break
            time.sleep(2)
        runs = instance.get_runs(RunsFilter(tags={"dagster/backfill": backfill_id}))
        assert status == "COMPLETED_SUCCESS", [(r.status, r.tags) for r in runs]
        assert all(r.status == DagsterRunStatus.SUCCESS for r in runs)
        # 2 days x 30 users = 60 briefing partitions + 8 daily partitions, in a handful of runs
        assert len(runs) <= 2 + len(DAYS), [
            (sorted(k.to_user_string() for k in r.asset_selection), r.tags) for r in runs
        ]
        written = store.query(
            "SELECT CAST(day AS VARCHAR) AS day, count(*) AS n FROM briefings GROUP BY 1 ORDER BY 1"
        )
        assert written == [{"day": d, "n": len(users)} for d in DAYS]
        instance.dispose()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
