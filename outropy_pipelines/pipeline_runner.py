"""Runs the whole pipeline through Dagster for a set of days, batching as the schedule does.

Used by `outropy run` (on the local instance, DAGSTER_HOME) and by tests (on a temporary one).
Batching: the daily assets of up to `days_per_run` days go in one run (a partition range); then the
briefings of those days for all subscribed users, `users_per_run` users per run. Runs are recorded
on the instance, so they show in the Dagster UI like any other.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from dagster import DagsterInstance, Definitions
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.config import Settings
from outropy_pipelines.dagster_defs.automation import briefing_range_tags, subscribed_user_ids, user_chunks
from outropy_pipelines.dagster_defs.definitions import build_definitions
from outropy_pipelines.dagster_defs.partitions import SUBSCRIBED_USERS
from outropy_pipelines.domain.days import days_between, parse_day


@dataclass
class RunSummary:
    ok: bool = True
    runs: list[str] = field(default_factory=list)
    briefings: int = 0
    users: int = 0
    example: tuple[str, str] | None = None
    check_failures: list[str] = field(default_factory=list)


class PipelineRunner:
    def __init__(
        self,
        settings: Settings,
        instance: DagsterInstance | None = None,
        defs: Definitions | None = None,
        progress: Callable[[str], None] | None = None,
        days_per_run: int | None = None,
        users_per_run: int | None = None,
    ) -> None:
        self.settings = settings
        self.instance = instance or DagsterInstance.get()
        self.defs = defs or build_definitions(settings)
        self.progress = progress or (lambda _msg: None)
        self.days_per_run = days_per_run or int(os.environ.get("OUTROPY_DAYS_PER_RUN", "7"))
        self.users_per_run = users_per_run or int(os.environ.get("OUTROPY_BRIEFING_USERS_PER_RUN", "1000"))
        self.store = DuckDBStore(settings.duckdb_path)
        self.log_level = os.environ.get("OUTROPY_LOG_LEVEL", "WARNING").upper()

    def select_days(
        self, date: str | None = None, start: str | None = None, end: str | None = None
    ) -> list[str]:
        if date and (start or end):
            raise ValueError("use either --date or --start/--end")
        if date:
            return [parse_day(date).isoformat()]
        available = SlackExportReader(self.settings.slack_export).available_days()
        if start or end:
            first = parse_day(start).isoformat() if start else (available[0] if available else None)
            last = parse_day(end).isoformat() if end else (available[-1] if available else None)
            if not first or not last:
                raise ValueError("give both --start and --end (the export has no day files)")
            if first > last:
                raise ValueError(f"--start {first} is after --end {last}")
            return list(days_between(first, last))
        return available

    def sync_user_partitions(self) -> list[str]:
        """Add a user partition for each active subscription; returns subscribed users in partition order."""
        wanted = subscribed_user_ids(self.store)
        existing = list(self.instance.get_dynamic_partitions(SUBSCRIBED_USERS))
        new = [u for u in wanted if u not in set(existing)]
        if new:
            self.instance.add_dynamic_partitions(SUBSCRIBED_USERS, new)
        ordered = list(self.instance.get_dynamic_partitions(SUBSCRIBED_USERS))
        return [u for u in ordered if u in set(wanted)]

    def execute(self, job_name: str, tags: dict[str, str], summary: RunSummary) -> bool:
        job = self.defs.resolve_job_def(job_name)
        run_config = {"loggers": {"console": {"config": {"log_level": self.log_level}}}}
        result = job.execute_in_process(
            instance=self.instance, tags=tags, run_config=run_config, raise_on_error=False
        )
        summary.runs.append(result.run_id)
        for evaluation in result.get_asset_check_evaluations():
            if not evaluation.passed:
                name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                summary.check_failures.append(name)
                self.progress(f"      check failed: {name} {dict(evaluation.metadata)}")
        return result.success

    def run(self, days: list[str]) -> RunSummary:
        summary = RunSummary()
        chunks = [days[i : i + self.days_per_run] for i in range(0, len(days), self.days_per_run)]
        for chunk in chunks:
            self.progress(f"[1/2] daily assets for {chunk[0]} .. {chunk[-1]} ...")
            tags = {ASSET_PARTITION_RANGE_START_TAG: chunk[0], ASSET_PARTITION_RANGE_END_TAG: chunk[-1]}
            if not self.execute("daily_pipeline", tags, summary):
                self.progress("      FAILED: see the run in the Dagster UI (dagster dev) for the error")
                summary.ok = False
                return summary
            for row in self.store.query(
                """SELECT CAST(d.day AS VARCHAR) AS day,
                          (SELECT count(*) FROM raw_messages r WHERE r.day = d.day) AS messages,
                          (SELECT count(*) FROM threads t WHERE t.day = d.day) AS threads,
                          (SELECT count(*) FROM items i WHERE i.day = d.day AND i.is_new) AS items
                   FROM (SELECT CAST(unnest(?) AS DATE) AS day) d ORDER BY day""",
                [chunk],
            ):
                self.progress(
                    f"      {row['day']}: {row['messages']} messages, {row['threads']} conversations, "
                    f"{row['items']} new items"
                )
        users = self.sync_user_partitions()
        summary.users = len(users)
        if not users:
            self.progress("no subscribed users: nothing to brief")
            return summary
        for chunk in chunks:
            for group in user_chunks(users, self.users_per_run):
                self.progress(f"[2/2] briefings for {chunk[0]} .. {chunk[-1]} x {len(group)} users ...")
                if not self.execute(
                    "user_briefings_job", briefing_range_tags(chunk[0], chunk[-1], group), summary
                ):
                    self.progress("      FAILED: see the run in the Dagster UI (dagster dev) for the error")
                    summary.ok = False
                    return summary
        stats = self.store.query(
            """SELECT CAST(day AS VARCHAR) AS day, count(*) AS n, sum(item_count) AS lines,
                      arg_max(user_id, item_count) AS busiest
               FROM briefings WHERE day IN (SELECT CAST(unnest(?) AS DATE)) GROUP BY day ORDER BY day""",
            [days],
        )
        for row in stats:
            self.progress(f"      {row['day']}: {row['n']} briefings, {row['lines']} lines")
            summary.briefings += int(row["n"])
        if stats:
            summary.example = (stats[-1]["day"], stats[-1]["busiest"])
        return summary
