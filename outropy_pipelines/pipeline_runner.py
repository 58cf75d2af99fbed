"""Runs the whole pipeline through Dagster for a set of days, batching as the schedule does.

Used by `outropy run` (on the local instance) and by the benchmarks and tests (on a temporary
one). It executes the definitions' jobs, never the stages themselves: the daily assets of up to
`days_per_run` days in one run (a partition range), then the briefings of those days for all
subscribed users, `users_per_run` users per run. Runs are recorded on the instance, so they show
in the Dagster UI like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dagster import DagsterInstance, Definitions, ExecuteInProcessResult

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.defs.definitions import build_definitions, build_store
from outropy_pipelines.defs.partitions import (
    SUBSCRIBED_USERS,
    briefing_range_tags,
    check_days,
    day_range_tags,
    user_chunks,
)
from outropy_pipelines.defs.run_monitor import in_process_tags
from outropy_pipelines.domain.days import days_between, days_of_utc_dates, format_days, parse_day
from outropy_pipelines.settings import Settings
from outropy_pipelines.store.directory import subscribed_user_ids
from outropy_pipelines.store.pipeline_summary import briefings_per_day, day_counts


@dataclass
class RunSummary:
    ok: bool = True
    runs: list[str] = field(default_factory=list)
    briefings: int = 0
    users: int = 0
    example: tuple[str, str] | None = None
    check_failures: list[str] = field(default_factory=list)


class NoDataOnDays(ValueError):
    """A day to run on which the Slack export holds no messages."""


def select_days(
    settings: Settings, date: str | None = None, start: str | None = None, end: str | None = None
) -> list[str]:
    """The days to run: `date`, or `start`..`end` (each defaulting to the export's first or last
    day), or every day of the export. Raises ValueError: `DayOutOfRange`, naming the valid range,
    when a day is not a daily partition; `NoDataOnDays`, naming the export's days, when the export
    holds no messages at all, none on the days asked for, or a range reaches before or after the
    export's own days (quiet days inside it are fine)."""
    if date and (start or end):
        raise ValueError("use either --date or --start/--end")
    available = (
        []
        if settings.slack_is_live
        else SlackExportReader(settings.slack_export).available_days(settings.timezone)
    )
    if date:
        days = [parse_day(date).isoformat()]
    elif start and end:
        days = _between(start, end)
    elif start or end:
        if not available:
            live = settings.slack_is_live
            raise ValueError(
                f"give both --start and --end ({'live Slack mode' if live else 'the export has no day files'})"
            )
        first = parse_day(start).isoformat() if start else available[0]
        last = parse_day(end).isoformat() if end else available[-1]
        if first > last:  # the one bound given is beyond the export's other end
            given, side = (first, "after") if start else (last, "before")
            check_days([given])
            raise NoDataOnDays(
                f"no messages in the export on or {side} {given}; the export holds "
                f"{_held(settings, available)}"
            )
        days = _between(first, last)
    else:
        days = available
    check_days(days)
    if not settings.slack_is_live:
        _check_export_days(settings, days, available)
    return days


def _check_export_days(settings: Settings, days: list[str], available: list[str]) -> None:
    """Raise `NoDataOnDays` unless the export holds messages on some of `days` and `days` lie
    within the export's first and last day (a range may have quiet days inside)."""
    if not available:
        raise NoDataOnDays(
            f"the Slack export {settings.slack_export} holds no messages: no YYYY-MM-DD.json day "
            "files in its conversation folders"
        )
    if not days:
        return
    held = days_of_utc_dates(available, settings.timezone)
    outside = [d for d in days if d < held[0] or d > held[-1]]
    if outside or not set(days) & set(held):
        raise NoDataOnDays(
            f"no messages in the export on {format_days(outside or days)}; the export holds "
            f"{format_days(held)}"
        )


def _held(settings: Settings, available: list[str]) -> str:
    """The days (workspace time zone) the export's day files can hold messages of, as text."""
    return format_days(days_of_utc_dates(available, settings.timezone))


def _between(start: str, end: str) -> list[str]:
    first, last = parse_day(start).isoformat(), parse_day(end).isoformat()
    if first > last:
        raise ValueError(f"--start {first} is after --end {last}")
    return list(days_between(first, last))


class PipelineRunner:
    def __init__(
        self,
        settings: Settings,
        instance: DagsterInstance,
        defs: Definitions | None = None,
        progress: Callable[[str], None] | None = None,
        days_per_run: int | None = None,
        users_per_run: int | None = None,
    ) -> None:
        self.settings = settings
        self.instance = instance
        self.defs = defs or build_definitions(settings)
        self.progress = progress or (lambda _msg: None)
        self.days_per_run = days_per_run or settings.days_per_run
        self.users_per_run = users_per_run or settings.briefing_users_per_run
        self.store = build_store(settings)

    def sync_user_partitions(self) -> list[str]:
        """Add a user partition for each active subscription; returns subscribed users in partition order."""
        wanted = subscribed_user_ids(self.store)
        existing = set(self.instance.get_dynamic_partitions(SUBSCRIBED_USERS))
        new = [u for u in wanted if u not in existing]
        if new:
            self.instance.add_dynamic_partitions(SUBSCRIBED_USERS, new)
        wanted_set = set(wanted)
        return [u for u in self.instance.get_dynamic_partitions(SUBSCRIBED_USERS) if u in wanted_set]

    def execute(self, job_name: str, tags: dict[str, str], summary: RunSummary) -> ExecuteInProcessResult:
        job = self.defs.resolve_job_def(job_name)
        run_config = {"loggers": {"console": {"config": {"log_level": self.settings.log_level}}}}
        result = job.execute_in_process(
            instance=self.instance,
            tags={**in_process_tags(), **tags},
            run_config=run_config,
            raise_on_error=False,
        )
        summary.runs.append(result.run_id)
        for evaluation in result.get_asset_check_evaluations():
            if not evaluation.passed:
                name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                summary.check_failures.append(name)
                self.progress(f"      check failed: {name} {dict(evaluation.metadata)}")
        if not result.success:
            self.progress("      FAILED: see the run in the Dagster UI (dagster dev) for the error")
            summary.ok = False
        return result

    def run(self, days: list[str], briefings: bool = True) -> RunSummary:
        """The daily assets of `days`, then (with `briefings`) every subscribed user's briefings."""
        summary = RunSummary()
        chunks = [days[i : i + self.days_per_run] for i in range(0, len(days), self.days_per_run)]
        for chunk in chunks:
            self.progress(f"[1/2] daily assets for {chunk[0]} .. {chunk[-1]} ...")
            if not self.execute("daily_pipeline", day_range_tags(chunk[0], chunk[-1]), summary).success:
                return summary
            for row in day_counts(self.store, chunk):
                self.progress(
                    f"      {row['day']}: {row['messages']} messages, {row['threads']} conversations, "
                    f"{row['items']} new items"
                )
        if not briefings:
            return summary
        users = self.sync_user_partitions()
        summary.users = len(users)
        if not users:
            self.progress("no subscribed users: nothing to brief")
            return summary
        for chunk in chunks:
            for group in user_chunks(users, self.users_per_run):
                self.progress(f"[2/2] briefings for {chunk[0]} .. {chunk[-1]} x {len(group)} users ...")
                tags = briefing_range_tags(chunk[0], chunk[-1], group)
                if not self.execute("user_briefings_job", tags, summary).success:
                    return summary
        stats = briefings_per_day(self.store, days)
        for row in stats:
            self.progress(f"      {row['day']}: {row['n']} briefings, {row['lines']} lines")
            summary.briefings += int(row["n"])
        if stats:
            summary.example = (stats[-1]["day"], stats[-1]["busiest"])
        return summary
