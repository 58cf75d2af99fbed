"""Delivery as a Dagster job: `deliver_briefings` sends what is due; a sensor requests it.

The sensor only looks: when the ledger says something is due (`stages.delivery.due_deliveries`,
which asks `delivery_plan.decide`) and no delivery run is queued or in progress, it requests a run.
Its run key names what is due (keys and attempt counts), so the same due set is requested once,
and a retry whose time has come is a new request. The run sends, records each outcome in the
ledger at once, logs failures, retries itself on a crash (`RetryPolicy`; a claimed delivery is
reconciled, never sent twice), and reports the ledger's health as the `user_briefings` checks
`no_duplicate_deliveries` and `no_failed_deliveries`. `outropy deliver` executes the same job.

Every run of the job carries the tag `outropy/workload=delivery`; the production profiles
(deploy/*dagster.yaml) let one such run go at a time in the whole deployment, so the ledger has one
writer on either store (the DuckLake store has no primary key to stop a second claimer).
"""

import datetime as dt
import hashlib

from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    AssetKey,
    Backoff,
    Config,
    DagsterRunStatus,
    DefaultSensorStatus,
    MetadataValue,
    OpExecutionContext,
    Output,
    RetryPolicy,
    RunConfig,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    job,
    op,
    sensor,
)

from outropy_pipelines.defs.jobs import WORKLOAD_TAG
from outropy_pipelines.defs.metadata import counts_table
from outropy_pipelines.defs.resources import (
    DeliveryPolicyResource,
    EmailDeliveryResource,
    FeedbackResource,
    SlackDeliveryResource,
    StoreResource,
)
from outropy_pipelines.domain import delivery_plan as plan
from outropy_pipelines.settings import get_settings
from outropy_pipelines.stages.delivery import (
    DeliveryReport,
    Transport,
    deliver_all,
    due_deliveries,
    ledger_counts,
)
from outropy_pipelines.stages.feedback import email_links, sync_slack
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store import deliveries as ledger
from outropy_pipelines.store.deliveries import utcnow

DELIVER_JOB = "deliver_briefings"
#: the value of WORKLOAD_TAG on every deliver run: the run queue allows one at a time (deploy/dagster.yaml)
DELIVERY_WORKLOAD = "delivery"
BRIEFINGS_ASSET = AssetKey("user_briefings")


class DeliverConfig(Config):
    """Which deliveries a run makes: everything due, or only these days, users and channels."""

    days: list[str] = []
    users: list[str] = []
    channels: list[str] = list(plan.CHANNELS)
    #: briefings older than this many days are skipped; None: no limit (the sensor sets the policy's)
    max_age_days: int | None = None
    #: ignore each reader's delivery hour, quiet hours and weekend rule (`outropy deliver --any-time`)
    any_time: bool = False


def transports(
    slack: SlackDeliveryResource, email: EmailDeliveryResource, channels: list[str]
) -> dict[str, Transport]:
    """The configured channels among `channels`: Slack when a bot token is set, email when an SMTP host is."""
    out: dict[str, Transport] = {}
    if "slack" in channels and slack.enabled:
        out["slack"] = slack.transport()
    if "email" in channels and email.enabled:
        out["email"] = email.transport()
    return out


def ledger_check_evaluations(store: DuckDBStore) -> list[AssetCheckEvaluation]:
    """The ledger's health as evaluations of the `user_briefings` delivery checks."""
    counts = {f"{ch} {st}": n for (ch, st), n in ledger_counts(store).items()}
    table = counts_table("channel status", "deliveries", counts)
    duplicates = ledger.duplicate_deliveries(store)
    failed = ledger.failed_deliveries(store)
    return [
        AssetCheckEvaluation(
            asset_key=BRIEFINGS_ASSET,
            check_name="no_duplicate_deliveries",
            passed=duplicates == 0,
            metadata={"duplicate_keys": duplicates, "ledger": table},
        ),
        AssetCheckEvaluation(
            asset_key=BRIEFINGS_ASSET,
            check_name="no_failed_deliveries",
            passed=failed == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={"failed_or_unknown": failed, "ledger": table},
        ),
    ]


@op(
    retry_policy=RetryPolicy(max_retries=3, delay=30, backoff=Backoff.EXPONENTIAL),
    description="Sends every due briefing by Slack DM and email, once per (day, user, channel).",
)
def deliver_due_briefings(
    context: OpExecutionContext,
    config: DeliverConfig,
    store: StoreResource,
    slack_delivery: SlackDeliveryResource,
    email_delivery: EmailDeliveryResource,
    delivery_policy: DeliveryPolicyResource,
    feedback: FeedbackResource,
) -> Output[dict]:
    """Returns (and shows as metadata) the counts per outcome and a one-line summary. Then, with
    OUTROPY_FEEDBACK_SLACK_LINES, posts each DM briefing's lines as replies and reads reactions."""
    db = store.store()
    feedback_config = feedback.config()
    report: DeliveryReport = deliver_all(
        db,
        transports(slack_delivery, email_delivery, config.channels),
        delivery_policy.policy(config.max_age_days, scheduled=not config.any_time),
        days=config.days or None,
        users=config.users or None,
        log=context.log.warning,
        prepare=lambda bodies: email_links(db, bodies, feedback_config),
    )
    context.log.info(f"deliveries: {report.summary()}")
    slack_feedback = feedback.slack(slack_delivery) if "slack" in config.channels else None
    feedback_summary = "off"
    if slack_feedback is not None:
        synced = sync_slack(
            db,
            slack_feedback,
            feedback_config,
            sent_since=utcnow() - dt.timedelta(days=feedback_config.read_days),
            users=config.users or None,
            post_lines=True,
            log=context.log.warning,
        )
        feedback_summary = synced.summary()
        context.log.info(f"feedback: {feedback_summary}")
    if report.outcomes:
        for evaluation in ledger_check_evaluations(db):
            context.log_event(evaluation)
    outcome = {
        **{status: report.count(status) for status in (plan.SENT, plan.RETRY, plan.FAILED, plan.UNKNOWN)},
        "reconciled": sum(1 for o in report.outcomes if o.reconciled),
        "sent_by_channel": {
            ch: sum(1 for o in report.outcomes if o.channel == ch and o.status == plan.SENT)
            for ch in config.channels
        },
        "summary": report.summary(),
    }
    metadata = {k: v for k, v in outcome.items() if k != "sent_by_channel"}
    metadata["sent_by_channel"] = MetadataValue.json(outcome["sent_by_channel"])
    metadata["waiting_not_configured"] = MetadataValue.json(report.not_configured)
    metadata["feedback"] = feedback_summary
    return Output(outcome, metadata=metadata)


@job(
    name=DELIVER_JOB,
    description="Delivers the due briefings by Slack DM and email (see the ledger).",
    tags={WORKLOAD_TAG: DELIVERY_WORKLOAD},
)
def deliver_briefings() -> None:
    deliver_due_briefings()


def _due_run_key(due: list) -> str:
    h = hashlib.sha256()
    for d in due:
        h.update(f"{d.key}:{d.attempts}:{d.previous.status if d.previous else '-'}\n".encode())
    return f"due:{h.hexdigest()[:24]}"


@sensor(
    name="deliver_briefings_sensor",
    job=deliver_briefings,
    minimum_interval_seconds=get_settings().delivery.sensor_interval_seconds,
    default_status=DefaultSensorStatus.RUNNING,
    description="Requests a deliver_briefings run when briefings are due (and none is running).",
)
def deliver_briefings_sensor(
    context: SensorEvaluationContext,
    store: StoreResource,
    slack_delivery: SlackDeliveryResource,
    email_delivery: EmailDeliveryResource,
    delivery_policy: DeliveryPolicyResource,
):
    db = store.store()
    if not db.exists():
        return SkipReason(f"no DuckDB file at {db.path} yet")
    channels = [ch for ch, r in (("slack", slack_delivery), ("email", email_delivery)) if r.enabled]
    if not channels:
        return SkipReason("no delivery channel configured: set SLACK_BOT_TOKEN and/or SMTP_HOST")
    busy = context.instance.get_runs(
        filters=RunsFilter(
            job_name=DELIVER_JOB,
            statuses=[DagsterRunStatus.QUEUED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED],
        ),
        limit=1,
    )
    if busy:
        return SkipReason(f"delivery run {busy[0].run_id} is still going")
    # what is due at this tick: each reader's own morning (delivery_plan.ReaderSchedule)
    due = due_deliveries(db, channels, delivery_policy.policy(delivery_policy.max_age_days), utcnow())
    if not due:
        return SkipReason("nothing due (yet: each reader's briefing waits for their delivery hour)")
    config = DeliverConfig(channels=channels, max_age_days=delivery_policy.max_age_days)
    return RunRequest(
        run_key=_due_run_key(due),
        run_config=RunConfig(ops={"deliver_due_briefings": config}),
        tags={"outropy/due": str(len(due))},
    )
