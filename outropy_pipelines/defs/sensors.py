"""Sensors: user partitions kept in step with subscriptions, and each day's briefings requested
once its pipeline has succeeded. Both only request work; the runs do it.

After `daily_pipeline` succeeds for a day (or a range), `briefings_after_daily_pipeline` requests
those days' briefings for every subscribed user in runs of OUTROPY_BRIEFING_USERS_PER_RUN users
(one run per rectangle of the date x user partitions, never one run per user: a daemon-launched
run costs seconds). `sync_subscribed_users` adds a user partition for every new subscription;
partitions are only ever added (an unsubscribed user simply stops getting runs).
"""

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_status_sensor,
    sensor,
)

from outropy_pipelines.defs.jobs import daily_pipeline, user_briefings_job
from outropy_pipelines.defs.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
    SUBSCRIBED_USERS,
    briefing_range_tags,
    subscribed_user_partitions,
    user_chunks,
)
from outropy_pipelines.defs.resources import PipelineResource, StoreResource
from outropy_pipelines.store.directory import subscribed_user_ids


@sensor(
    name="sync_subscribed_users",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Adds a user partition for every active subscription (never deletes).",
)
def sync_subscribed_users(context: SensorEvaluationContext, store: StoreResource):
    wanted = subscribed_user_ids(store.store())
    existing = set(context.instance.get_dynamic_partitions(SUBSCRIBED_USERS))
    new = [u for u in wanted if u not in existing]
    if not new:
        return SkipReason(f"{len(existing)} user partitions, all subscriptions present")
    return SensorResult(dynamic_partitions_requests=[subscribed_user_partitions.build_add_request(new)])


@run_status_sensor(
    name="briefings_after_daily_pipeline",
    run_status=DagsterRunStatus.SUCCESS,
    monitored_jobs=[daily_pipeline],
    request_job=user_briefings_job,
    default_status=DefaultSensorStatus.RUNNING,
    description="After a day's pipeline succeeds, requests that day's briefings for every "
    "subscribed user, a few runs of many users each.",
)
def briefings_after_daily_pipeline(
    context: RunStatusSensorContext, store: StoreResource, pipeline: PipelineResource
):
    tags = context.dagster_run.tags
    first = tags.get(PARTITION_RANGE_START_TAG) or tags.get(PARTITION_TAG)
    last = tags.get(PARTITION_RANGE_END_TAG) or tags.get(PARTITION_TAG)
    if not first or not last:
        return SkipReason("the finished run was not partitioned by day")
    active = set(subscribed_user_ids(store.store()))
    # ranges follow the partitions' order; inactive users inside a range are skipped by the asset
    ordered = list(context.instance.get_dynamic_partitions(SUBSCRIBED_USERS))
    requests = [
        RunRequest(run_key=f"{context.dagster_run.run_id}:{n}", tags=briefing_range_tags(first, last, chunk))
        for n, chunk in enumerate(user_chunks(ordered, pipeline.users_per_run))
        if any(u in active for u in chunk)
    ]
    return requests or SkipReason("no subscribed users yet")
