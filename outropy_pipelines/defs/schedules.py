"""The daily schedule: yesterday's pipeline every morning, workspace time; briefings follow (sensors)."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, build_schedule_from_partitioned_job

from outropy_pipelines.defs.jobs import daily_pipeline

daily_briefing_schedule = build_schedule_from_partitioned_job(
    daily_pipeline,
    hour_of_day=6,
    name="daily_briefing_schedule",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every morning: yesterday (workspace time zone) for the daily assets; briefings follow.",
)
