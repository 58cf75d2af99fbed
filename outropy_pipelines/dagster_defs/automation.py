"""Jobs, the daily schedule and the sensors.

Daily flow: the schedule runs `daily_pipeline` (directory + the five daily assets) for yesterday in
the workspace time zone, one run. When it succeeds, `briefings_after_daily_pipeline` requests the
day's briefings for every subscribed user, in runs of OUTROPY_BRIEFING_USERS_PER_RUN users each
(one run per rectangle of the date x user partitions, never one run per user: a daemon-launched run
costs seconds). `sync_subscribed_users` keeps the user partitions in step with `subscriptions`;
partitions are only ever added (an unsubscribed user simply stops getting runs).
"""

from collections.abc import Sequence

from dagster import (
    AssetSelection,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    JobDefinition,
    RunRequest,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    build_schedule_from_partitioned_job,
    define_asset_job,
    run_status_sensor,
    sensor,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.dagster_defs.partitions import SUBSCRIBED_USERS, Partitions, briefing_key

DAILY_ASSETS = (
    "slack_directory",
    "raw_slack_messages",
    "slack_threads",
    "classified_items",
    "entity_summaries",
)


def briefing_range_tags(first_day: str, last_day: str, users: Sequence[str]) -> dict[str, str]:
    """Run tags selecting the rectangle [first_day..last_day] x [users[0]..users[-1]]."""
    return {
        ASSET_PARTITION_RANGE_START_TAG: str(briefing_key(first_day, users[0])),
        ASSET_PARTITION_RANGE_END_TAG: str(briefing_key(last_day, users[-1])),
    }


def user_chunks(users: Sequence[str], per_run: int) -> list[list[str]]:
    """Contiguous runs of users in partition order (a range over a dynamic dimension is contiguous)."""
    per_run = max(1, per_run)
    return [list(users[i : i + per_run]) for i in range(0, len(users), per_run)]


def subscribed_user_ids(store: DuckDBStore) -> list[str]:
    if not store.path.exists():
        return []
    return [
        r["user_id"] for r in store.query("SELECT user_id FROM subscriptions WHERE active ORDER BY user_id")
    ]


def build_automation(parts: Partitions, duckdb_path: str, users_per_run: int, cron_hour: int = 6):
    daily_pipeline = define_asset_job(
        "daily_pipeline",
        selection=AssetSelection.assets(*DAILY_ASSETS),
        partitions_def=parts.daily,
        description="Directory, messages, threads, items and entity memory for one day (or a range).",
    )
    briefings_job = define_asset_job(
        "user_briefings_job",
        selection=AssetSelection.assets("user_briefings"),
        partitions_def=parts.daily_by_user,
        description="Briefings for a rectangle of days x subscribed users, in one run.",
    )
    daily_schedule = build_schedule_from_partitioned_job(
        daily_pipeline,
        hour_of_day=cron_hour,
        name="daily_briefing_schedule",
        default_status=DefaultScheduleStatus.RUNNING,
        description="Every morning: yesterday (workspace time zone) for the daily assets; briefings follow.",
    )

    @sensor(
        name="sync_subscribed_users",
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Adds a user partition for every active subscription (never deletes).",
    )
    def sync_subscribed_users(context: SensorEvaluationContext):
        wanted = subscribed_user_ids(DuckDBStore(duckdb_path))
        existing = set(context.instance.get_dynamic_partitions(SUBSCRIBED_USERS))
        new = [u for u in wanted if u not in existing]
        if not new:
            return SkipReason(f"{len(existing)} user partitions, all subscriptions present")
        return SensorResult(dynamic_partitions_requests=[parts.users.build_add_request(new)])

    @run_status_sensor(
        name="briefings_after_daily_pipeline",
        run_status=DagsterRunStatus.SUCCESS,
        monitored_jobs=[daily_pipeline],
        request_job=briefings_job,
        default_status=DefaultSensorStatus.RUNNING,
        description="After a day's pipeline succeeds, requests that day's briefings for every "
        "subscribed user, a few runs of many users each.",
    )
    def briefings_after_daily_pipeline(context: RunStatusSensorContext):
        tags = context.dagster_run.tags
        first = tags.get(ASSET_PARTITION_RANGE_START_TAG) or tags.get(PARTITION_NAME_TAG)
        last = tags.get(ASSET_PARTITION_RANGE_END_TAG) or tags.get(PARTITION_NAME_TAG)
        if not first or not last:
            return SkipReason("the finished run was not partitioned by day")
        active = set(subscribed_user_ids(DuckDBStore(duckdb_path)))
        users = [u for u in context.instance.get_dynamic_partitions(SUBSCRIBED_USERS) if u in active]
        if not users:
            return SkipReason("no subscribed users yet")
        requests = []
        # ranges follow the partitions' order; inactive users inside a range are skipped by the asset
        ordered = list(context.instance.get_dynamic_partitions(SUBSCRIBED_USERS))
        for n, chunk in enumerate(user_chunks(ordered, users_per_run)):
            if not any(u in active for u in chunk):
                continue
            requests.append(
                RunRequest(
                    run_key=f"{context.dagster_run.run_id}:{n}",
                    tags=briefing_range_tags(first, last, chunk),
                )
            )
        return requests

    jobs: list[JobDefinition] = [daily_pipeline, briefings_job]
    return jobs, [daily_schedule], [sync_subscribed_users, briefings_after_daily_pipeline]
