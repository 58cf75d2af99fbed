"""Runs whose process died are marked failed, so they stop holding the run queue.

Dagster's run monitoring (`run_monitoring:` in dagster.yaml, run by the daemon) fails runs stuck
STARTING or CANCELING and frees the concurrency slots of finished runs; with launchers that can
look at a run worker (Kubernetes, Docker, ECS) it also fails runs whose worker died. The default
run launcher cannot: the code server that launched a run worker reports it failed when the
worker dies, but nobody does when the code server died with it (a killed `dagster dev`, a
reboot) or when the run was executed by another process (`outropy run`, `outropy deliver`)
that was killed. Such a run stays STARTED for ever, counts against `max_concurrent_runs`, and
keeps `deliver_briefings_sensor` waiting for it.

`fail_runs_whose_process_died` closes that gap: each tick it looks at the STARTED runs, takes the
process that started each one (the pid of its RUN_START event: the run worker, or the process
that executed the run in-process) and, when that process has ended on this host (pid gone or
reused, see `outropy_pipelines.processes`), reports the run failed. It acts only with the
default run launcher, whose run workers execute next to their code server (this machine); runs
that our commands execute in-process carry the tag `outropy/host` (`in_process_tags`), and runs
of another host (or container) are left alone: their process cannot be looked at from here.
"""

from __future__ import annotations

from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    DefaultRunLauncher,
    DefaultSensorStatus,
    RunRecord,
    RunsFilter,
    RunStatusChangeRecordsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from outropy_pipelines.processes import host_id, pid_is_gone
from outropy_pipelines.settings import get_settings

MONITOR_SENSOR = "fail_runs_whose_process_died"
HOST_TAG = "outropy/host"


def in_process_tags() -> dict[str, str]:
    """Tags of a run this process executes in-process: where it runs, for the run monitor."""
    return {HOST_TAG: host_id()}


def run_process(instance: DagsterInstance, record: RunRecord) -> tuple[int, float] | None:
    """(pid, time) of the RUN_START event of a started run: the process that runs it."""
    if record.start_time is None:
        return None
    found = instance.fetch_run_status_changes(
        RunStatusChangeRecordsFilter(
            DagsterEventType.RUN_START,
            after_timestamp=record.start_time - 1,
            before_timestamp=record.start_time + 1,
            job_names=[record.dagster_run.job_name],
        ),
        limit=100,
    )
    for event in found.records:
        entry = event.event_log_entry
        if entry.run_id == record.dagster_run.run_id and entry.dagster_event is not None:
            pid = entry.dagster_event.pid
            return (pid, entry.timestamp) if pid else None
    return None


def fail_dead_runs(instance: DagsterInstance) -> tuple[list[str], int]:
    """Report failed every STARTED run whose process has ended on this host; returns (the run ids
    failed, the started runs looked at)."""
    records = instance.get_run_records(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED]))
    failed: list[str] = []
    for record in records:
        if record.dagster_run.tags.get(HOST_TAG, host_id()) != host_id():
            continue
        process = run_process(instance, record)
        if process is None or not pid_is_gone(process[0], started_by=process[1]):
            continue
        run = instance.get_run_by_id(record.dagster_run.run_id)  # it may have finished meanwhile
        if run is None or run.status != DagsterRunStatus.STARTED:
            continue
        instance.report_run_failed(
            run,
            f"The process that ran this run (pid {process[0]}) ended without finishing it (killed?); "
            f"marked failed by the sensor {MONITOR_SENSOR}.",
        )
        failed.append(run.run_id)
    return failed, len(records)


@sensor(
    name=MONITOR_SENSOR,
    minimum_interval_seconds=get_settings().run_monitor_interval_seconds,
    default_status=DefaultSensorStatus.RUNNING,
    description="Marks failed the started runs whose process died (killed run worker, killed "
    "`outropy run`), so they stop holding the run queue.",
)
def fail_runs_whose_process_died(context: SensorEvaluationContext) -> SkipReason:
    if not isinstance(context.instance.run_launcher, DefaultRunLauncher):
        return SkipReason("runs are launched elsewhere (not the default run launcher): not checked")
    failed, looked_at = fail_dead_runs(context.instance)
    if failed:
        context.log.warning(f"marked failed, their process is gone: {', '.join(failed)}")
        return SkipReason(f"marked {len(failed)} run(s) failed: {', '.join(failed)}")
    return SkipReason(f"{looked_at} started run(s), all with a live process")
