"""The Dagster definitions as a whole: a snapshot of what they declare, and every asset materialized
on its own into a temporary DuckDB file and Dagster instance, each partition with its own metadata.

The snapshot (`snapshots/definitions.json`) is what a reviewer reads to see a change to the asset
graph, partitions, checks, jobs, schedules or sensors. After an intended change, regenerate it:
`OUTROPY_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest outropy_pipelines_tests/test_definitions.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    Definitions,
    DynamicPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    materialize,
)

from outropy_pipelines.defs.assets import pipeline_assets
from outropy_pipelines.defs.definitions import build_definitions, build_resources
from outropy_pipelines.defs.partitions import SUBSCRIBED_USERS
from outropy_pipelines.settings import LLMSettings
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT, make_settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
DAY = "2026-11-03"
READER = "U004DAN"


def _partitions(partitions_def) -> str | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, MultiPartitionsDefinition):
        return " x ".join(
            f"{d.name}: {_partitions(d.partitions_def)}" for d in partitions_def.partitions_defs
        )
    if isinstance(partitions_def, DynamicPartitionsDefinition):
        return f"dynamic {partitions_def.name}"
    return f"{type(partitions_def).__name__}({partitions_def.timezone}, from {partitions_def.start.date()})"


def describe(defs: Definitions) -> dict:
    """What the definitions declare, in a stable, readable form."""
    specs = sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string())
    checks = {}
    for a in pipeline_assets:
        for check in a.check_specs:
            checks.setdefault(check.asset_key.to_user_string(), []).append(check.name)
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        jobs[job.name] = {
            "nodes": sorted(n.name for n in job.nodes),
            "partitions": _partitions(job.partitions_def),
            # the run tags the production run queue limits on (deploy/dagster.yaml)
            "tags": {k: v for k, v in sorted(job.tags.items()) if k.startswith("outropy/")},
        }
    schedules = {
        s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "job": s.job_name}
        for s in (defs.resolve_schedule_def(name) for name in ["daily_briefing_schedule"])
    }
    sensors = {}
    for name in (
        "sync_subscribed_users",
        "briefings_after_daily_pipeline",
        "deliver_briefings_sensor",
        "fail_runs_whose_process_died",
    ):
        sensor = defs.resolve_sensor_def(name)
        sensors[name] = {
            "jobs": sorted(t.job_name for t in sensor.targets),
            "interval_seconds": sensor.minimum_interval_seconds,
            "default_status": sensor.default_status.value,
        }
    return {
        "assets": {
            s.key.to_user_string(): {
                "group": s.group_name,
                "kinds": sorted(s.kinds),
                "deps": sorted(d.asset_key.to_user_string() for d in s.deps),
                "partitions": _partitions(s.partitions_def),
                "checks": sorted(checks.get(s.key.to_user_string(), [])),
            }
            for s in specs
        },
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
        "resources": sorted(defs.resources or {}),
    }


def test_definitions_match_the_snapshot(tmp_path):
    current = describe(build_definitions(make_settings(tmp_path)))
    if os.environ.get("OUTROPY_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


@pytest.mark.parametrize("provider, kind", [("local", "python"), ("openai", "openai")])
def test_the_llm_assets_carry_the_kind_of_the_provider_in_use(tmp_path, provider, kind):
    """The UI tags classified_items and entity_summaries with the provider the settings chose, and
    never with the other one."""
    defs = build_definitions(make_settings(tmp_path, llm=LLMSettings(provider=provider)))
    kinds = {s.key.to_user_string(): s.kinds for s in defs.resolve_all_asset_specs()}
    assert kinds["classified_items"] == kinds["entity_summaries"] == {kind, "duckdb"}
    if provider == "local":
        assert not any("openai" in k for k in kinds.values())
    assert kinds["slack_threads"] == {"python", "duckdb"}  # no LLM: the same whatever the provider


def test_the_code_location_tags_the_provider_of_its_environment():
    """What `dagster dev` loads (outropy_pipelines.definitions, settings from the environment)."""
    script = (
        "from outropy_pipelines.definitions import defs; "
        "print(sorted(next(s for s in defs.resolve_all_asset_specs() "
        "if s.key.to_user_string() == 'classified_items').kinds))"
    )
    for provider, kinds in (("openai", "['duckdb', 'openai']"), ("local", "['duckdb', 'python']")):
        env = {**os.environ, "OUTROPY_LLM_PROVIDER": provider}
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.strip().splitlines()[-1] == kinds, provider


def test_definitions_load_as_dagster_loads_them():
    """`dagster definitions validate` on the code location, in a fresh process."""
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "outropy_pipelines.definitions"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


# -- every asset, materialized on its own ----------------------------------------------------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """One temporary DuckDB file and Dagster instance the assets are materialized into, in order."""
    tmp = tmp_path_factory.mktemp("assets")
    settings = make_settings(tmp)
    with DagsterInstance.ephemeral() as instance:
        yield {"settings": settings, "instance": instance, "store": DuckDBStore(settings.duckdb_path)}


def _materialize(workspace, key: str, partition_key: str | None):
    return materialize(
        pipeline_assets,
        selection=[AssetKey(key)],
        partition_key=partition_key,
        instance=workspace["instance"],
        resources=build_resources(workspace["settings"]),
        raise_on_error=False,
    )


def _metadata(instance: DagsterInstance, key: str, partition: str | None) -> dict:
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(key), asset_partitions=[partition] if partition else None),
        limit=1,
    ).records
    assert records, (key, partition)
    return {k: getattr(v, "value", v) for k, v in records[0].asset_materialization.metadata.items()}


# (asset, its partition, a query for what it wrote, the metadata entry that counts the same rows)
CASES = [
    ("slack_directory", None, "SELECT count(*) FROM users", "users"),
    ("raw_slack_messages", DAY, f"SELECT count(*) FROM raw_messages WHERE day = '{DAY}'", "messages"),
    ("slack_threads", DAY, f"SELECT count(*) FROM threads WHERE day = '{DAY}'", "threads"),
    ("classified_items", DAY, f"SELECT count(*) FROM items WHERE day = '{DAY}'", "items"),
    ("entity_summaries", DAY, f"SELECT count(*) FROM entity_summaries WHERE day = '{DAY}'", "entities"),
    (
        "user_briefings",
        str(MultiPartitionKey({"date": DAY, "user": READER})),
        f"SELECT count(*) FROM briefing_lines WHERE day = '{DAY}' AND user_id = '{READER}'",
        "lines",
    ),
]


@pytest.mark.parametrize(("key", "partition", "count_sql", "counted"), CASES, ids=[c[0] for c in CASES])
def test_each_asset_materializes_on_its_own_with_its_partitions_metadata(
    workspace, key, partition, count_sql, counted
):
    instance = workspace["instance"]
    if key == "user_briefings":
        instance.add_dynamic_partitions(SUBSCRIBED_USERS, [READER])
    result = _materialize(workspace, key, partition)
    assert result.success
    [event] = result.asset_materializations_for_node(key)
    assert event.partition == partition
    written = workspace["store"].scalar(count_sql)
    assert written > 0
    assert _metadata(instance, key, partition)[counted] == written


def test_a_range_run_records_each_days_own_counts(tmp_path):
    """One run over three days: each day's materialization carries that day's counts, not the run's."""
    settings = make_settings(tmp_path)
    days = ["2026-11-02", "2026-11-03", "2026-11-04"]
    defs = build_definitions(settings)
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("daily_pipeline").execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": days[0],
                "dagster/asset_partition_range_end": days[-1],
            },
        )
        assert result.success
        store = DuckDBStore(settings.duckdb_path)
        per_day = {
            str(r["day"]): r["n"]
            for r in store.query("SELECT day, count(*) AS n FROM raw_messages GROUP BY day")
        }
        assert len(set(per_day.values())) > 1  # the days differ, so a run total would show
        for day in days:
            assert _metadata(instance, "raw_slack_messages", day)["messages"] == per_day[day]
            threads = store.scalar("SELECT count(*) FROM threads WHERE day = ?", [day])
            assert _metadata(instance, "slack_threads", day)["threads"] == threads


def test_a_day_before_the_partitions_is_a_one_line_error(tmp_path):
    env = dict(
        os.environ,
        OUTROPY_DUCKDB_PATH=str(tmp_path / "x.duckdb"),
        OUTROPY_SLACK_EXPORT=str(SAMPLE_EXPORT),
        OUTROPY_START_DATE="2026-11-01",
        DAGSTER_HOME=str(tmp_path),
    )
    for day, words in (
        ("2026-10-31", "before the first daily partition 2026-11-01"),
        ("2999-01-01", "not ended"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "outropy_pipelines.cli", "run", "--date", day],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("outropy: ") and words in lines[0], proc.stderr
        assert "OUTROPY_START_DATE" in lines[0] or "2026-11-01 .." in lines[0]
        assert "Traceback" not in proc.stderr
