"""A backfill as the UI launches it, run by the real daemon (`dagster dev`): it must batch.

Every asset has BackfillPolicy.single_run(); user_briefings is partitioned by date x user. Dagster
has known rough edges with single-run backfills of multi-partitioned assets, so this checks what we
rely on: a backfill of D days for U users makes a handful of runs (not D x U), every run succeeds,
and every (day, user) briefing is written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from dagster import AssetKey, DagsterInstance, MultiPartitionKey
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.definitions.selector import (
    PartitionRangeSelector,
    PartitionsByAssetSelector,
    PartitionsSelector,
)
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.dagster_defs.definitions import build_definitions
from outropy_pipelines.dagster_defs.partitions import SUBSCRIBED_USERS
from outropy_pipelines.stages.directory import write_directory
from outropy_pipelines_tests.conftest import REPO, SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.local_http_server import free_port

DAYS = ["2026-11-03", "2026-11-04"]


def test_ui_backfill_of_days_and_users_is_batched(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nrun_queue:\n  max_concurrent_runs: 4\n")
    settings = make_settings(tmp_path)
    # the directory and the user partitions exist before the backfill, as after a first run
    store = DuckDBStore(settings.duckdb_path)
    directory, quarantine = SlackExportReader(SAMPLE_EXPORT).read_directory()
    write_directory(store, directory, quarantine)
    users = [r["user_id"] for r in store.query("SELECT user_id FROM subscriptions WHERE active ORDER BY 1")]
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "OUTROPY_DUCKDB_PATH": str(settings.duckdb_path),
        "OUTROPY_SLACK_EXPORT": str(SAMPLE_EXPORT),
        "OUTROPY_BRIEFINGS_DIR": str(settings.briefings_dir),
        "OUTROPY_SLACK_WORKSPACE_URL": settings.workspace_url,
    }
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    proc = subprocess.Popen(
        [dagster, "dev", "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(free_port())],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        monkeypatch.setenv("DAGSTER_HOME", str(home))  # this process's view of the same instance
        instance = DagsterInstance.get()
        instance.add_dynamic_partitions(SUBSCRIBED_USERS, users)
        graph = build_definitions(settings).resolve_asset_graph()
        daily = [
            PartitionsByAssetSelector(
                asset_key=AssetKey(k),
                partitions=PartitionsSelector(ranges=[PartitionRangeSelector(start=DAYS[0], end=DAYS[-1])]),
            )
            for k in ("raw_slack_messages", "slack_threads", "classified_items", "entity_summaries")
        ]
        start = str(MultiPartitionKey({"date": DAYS[0], "user": users[0]}))
        end = str(MultiPartitionKey({"date": DAYS[-1], "user": users[-1]}))
        briefings = PartitionsByAssetSelector(
            asset_key=AssetKey("user_briefings"),
            partitions=PartitionsSelector(ranges=[PartitionRangeSelector(start=start, end=end)]),
        )
        with partition_loading_context(dynamic_partitions_store=instance):
            backfill = PartitionBackfill.from_partitions_by_assets(
                backfill_id="batching",
                asset_graph=graph,
                backfill_timestamp=time.time(),
                tags={},
                dynamic_partitions_store=instance,
                partitions_by_assets=[*daily, briefings],
                title="test",
                description=None,
                run_config=None,
            )
        instance.add_backfill(backfill)
        deadline = time.monotonic() + 420
        while time.monotonic() < deadline:
            status = instance.get_backfill("batching").status
            if status != BulkActionStatus.REQUESTED:
                break
            time.sleep(2)
        runs = instance.get_runs(RunsFilter(tags={"dagster/backfill": "batching"}))
        assert instance.get_backfill("batching").status == BulkActionStatus.COMPLETED_SUCCESS, [
            (r.status, r.tags) for r in runs
        ]
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
