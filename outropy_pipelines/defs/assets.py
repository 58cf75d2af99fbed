"""The six assets of the pipeline, thin wrappers over `outropy_pipelines.stages`.

A run may hold many partitions (`BackfillPolicy.single_run`: a backfill of N days is one run per
asset, not N). Each day is written in its own transaction, and each partition gets its own
metadata: the daily assets attach it with `context.add_asset_metadata(..., partition_key=day)`;
`user_briefings`, whose runs hold thousands of (day, user) partitions and which nothing downstream
waits on, yields one `AssetMaterialization` per partition (Dagster checks every
`add_asset_metadata` call against the run's whole key range, which at 1,000 readers would cost
12 s a run). Checks run inside the step that wrote the data, on exactly the partitions it wrote.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    AssetMaterialization,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    TimeWindowPartitionMapping,
    asset,
)

from outropy_pipelines.defs.metadata import briefing_metadata, counts_table, feedback_metadata, zero_check
from outropy_pipelines.defs.partitions import (
    TIMEZONE,
    briefing_key,
    daily_partitions,
    daily_user_partitions,
    split_briefing_keys,
)
from outropy_pipelines.defs.resources import (
    FeedbackResource,
    LLMResource,
    PipelineResource,
    SlackDeliveryResource,
    SlackSourceResource,
    StoreResource,
)
from outropy_pipelines.domain.thread_builder import ThreadBuilder
from outropy_pipelines.stages.briefings import brief_day
from outropy_pipelines.stages.classification import classify_day
from outropy_pipelines.stages.directory import write_directory
from outropy_pipelines.stages.entity_memory import summarize_day
from outropy_pipelines.stages.feedback import sync_slack
from outropy_pipelines.stages.ingest import ingest_day
from outropy_pipelines.stages.threading import thread_day
from outropy_pipelines.store import deliveries, invariants
from outropy_pipelines.store.directory import read_directory, read_subscriptions

GROUP = "briefing_pipeline"
#: Dagster concurrency pool of the LLM steps: `dagster instance concurrency set llm N` caps them
#: across all runs (see README, "Real LLM provider")
LLM_POOL = "llm"
#: Dagster concurrency pool of the other steps that write the store (directory, messages, threads,
#: briefings): unlimited by default; the production profile (deploy/dagster.yaml) caps it
STORE_POOL = "store"
_DAILY = {
    "group_name": GROUP,
    "partitions_def": daily_partitions,
    "backfill_policy": BackfillPolicy.single_run(),
}


def _days(context: AssetExecutionContext) -> list[str]:
    return sorted(context.partition_keys)


@asset(
    group_name=GROUP,
    kinds={"slack", "duckdb"},
    pool=STORE_POOL,
    description="Users, conversations, membership snapshot and subscriptions of the workspace.",
)
def slack_directory(
    context: AssetExecutionContext,
    store: StoreResource,
    slack: SlackSourceResource,
    pipeline: PipelineResource,
) -> MaterializeResult:
    source = slack.source()
    directory, quarantine = source.read_directory()
    for warning in source.warnings:
        context.log.warning(f"slack_directory: {warning}")
    subscriptions = Path(pipeline.subscriptions_file) if pipeline.subscriptions_file else None
    report = write_directory(store.store(), directory, quarantine, subscriptions)
    return MaterializeResult(
        metadata={
            "users": report.users,
            "humans": report.humans,
            "conversations": report.channels,
            "memberships": report.memberships,
            "subscribed_users": report.subscriptions,
            "quarantined": report.quarantined,
            "source": source.name,
            "warnings": MetadataValue.md("\n".join(f"- {w}" for w in source.warnings) or "none"),
        }
    )


@asset(
    **_DAILY,
    kinds={"slack", "duckdb"},
    pool=STORE_POOL,
    deps=[slack_directory],
    check_specs=[
        AssetCheckSpec(
            "no_quarantined_records",
            asset="raw_slack_messages",
            description="Warns when records of the day could not be read (see the quarantine table).",
        )
    ],
    description="Every Slack message of the day as received (JSON kept verbatim); unreadable "
    "records go to `quarantine` with the reason.",
)
def raw_slack_messages(
    context: AssetExecutionContext,
    store: StoreResource,
    slack: SlackSourceResource,
    pipeline: PipelineResource,
) -> MaterializeResult:
    db, source = store.store(), slack.source()
    quarantined = 0
    for day in _days(context):
        r = ingest_day(db, source, day, TIMEZONE, workers=pipeline.workers)
        quarantined += r.quarantined
        context.log.info(
            f"{day}: {r.messages} messages from {r.channels} conversations, {r.quarantined} quarantined"
        )
        if r.failed_conversations:
            context.log.warning(
                f"{day}: conversations not readable (see quarantine): {', '.join(r.failed_conversations)}"
            )
        context.add_asset_metadata(
            {
                "messages": r.messages,
                "conversations": r.channels,
                "quarantined": r.quarantined,
                "duplicates": r.duplicates,
                "files_read": r.files_read,
                "source": source.name,
                "conversations_failed": len(r.failed_conversations),
                "conversations_failed_ids": ", ".join(sorted(r.failed_conversations)) or "-",
                "conversations_not_joined": len(r.not_joined),
            },
            partition_key=day,
        )
    return MaterializeResult(
        check_results=[zero_check("no_quarantined_records", "quarantined", quarantined, warn=True)]
    )


@asset(
    **_DAILY,
    kinds={"python", "duckdb"},
    pool=STORE_POOL,
    deps=[raw_slack_messages, slack_directory],
    check_specs=[
        AssetCheckSpec(
            "thread_messages_exist_in_raw",
            asset="slack_threads",
            description="Every message of a thread is a message of raw_messages.",
        )
    ],
    description="Conversations with activity on the day: Slack threads as Slack has them, and "
    "top-level messages grouped by conversation reconstruction. Edits and deletions applied, "
    "noise dropped, markup resolved.",
)
def slack_threads(
    context: AssetExecutionContext, store: StoreResource, pipeline: PipelineResource
) -> MaterializeResult:
    db = store.store()
    builder = ThreadBuilder.for_directory(read_directory(db))
    days = _days(context)
    for day in days:
        r = thread_day(db, builder, day, TIMEZONE, workers=pipeline.workers)
        context.add_asset_metadata(
            {
                "threads": r.threads,
                "slack_threads": r.slack_threads,
                "reconstructed_conversations": r.reconstructed,
                "thread_messages": r.messages,
                "new_messages": r.new_messages,
                "noise_dropped": r.noise,
            },
            partition_key=day,
        )
    missing = invariants.thread_messages_missing_from_raw(db, days)
    return MaterializeResult(check_results=[zero_check("thread_messages_exist_in_raw", "missing", missing)])


@asset(
    **_DAILY,
    kinds={"duckdb"},  # + the LLM provider's kind: assets_for_provider
    pool=LLM_POOL,
    deps=[slack_threads],
    check_specs=[
        AssetCheckSpec(
            "items_have_sources", asset="classified_items", description="Every item cites messages."
        ),
        AssetCheckSpec(
            "no_failed_classifications",
            asset="classified_items",
            description="Warns when threads could not be classified (see llm_failures).",
        ),
    ],
    description="Typed items (decisions, action items, questions, blockers, incidents, "
    "announcements, status updates) found in each thread, one LLM call per thread.",
)
def classified_items(
    context: AssetExecutionContext, store: StoreResource, llm: LLMResource, pipeline: PipelineResource
) -> MaterializeResult:
    db = store.store()
    directory = read_directory(db)
    days = _days(context)
    failures = 0
    for day in days:
        client = llm.client(db, run_id=context.run_id)
        r = classify_day(db, client, directory, day, workers=pipeline.workers)
        failures += r.failures
        context.add_asset_metadata(
            {
                "items": r.items,
                "new_items": r.new_items,
                "threads": r.threads,
                "threads_skipped_by_prefilter": r.skipped,
                **client.metadata(),
                "items_by_kind": counts_table("kind", "items", r.by_kind),
            },
            partition_key=day,
        )
    sourceless = invariants.items_without_sources(db, days)
    return MaterializeResult(
        check_results=[
            zero_check("items_have_sources", "items_without_sources", sourceless),
            zero_check("no_failed_classifications", "failed_threads", failures, warn=True),
        ]
    )


@asset(
    **_DAILY,
    kinds={"duckdb"},  # + the LLM provider's kind: assets_for_provider
    pool=LLM_POOL,
    deps=[
        classified_items,
        AssetDep(
            "entity_summaries", partition_mapping=TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
        ),
    ],
    description="Event-sourced memory per channel, project and person, kept apart per visibility "
    "scope (public channels; each private conversation on its own): yesterday's summary folded with "
    "today's items; open action items, questions and blockers carry over until closed.",
)
def entity_summaries(context: AssetExecutionContext, store: StoreResource, llm: LLMResource) -> None:
    db = store.store()
    directory = read_directory(db)
    for day in _days(context):  # in day order: each day folds the one before
        client = llm.client(db, run_id=context.run_id)
        r = summarize_day(db, client, directory, day)
        context.add_asset_metadata(
            {
                "entities": r.entities,
                "private_scopes": r.private_scopes,
                "updated_today": r.updated_today,
                "open_items": r.open_items,
                **client.metadata(),
                "entities_by_kind": counts_table("kind", "entities", r.by_kind),
            },
            partition_key=day,
        )


@asset(
    group_name=GROUP,
    kinds={"markdown", "duckdb"},
    pool=STORE_POOL,
    partitions_def=daily_user_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    output_required=False,
    deps=[entity_summaries, classified_items],
    check_specs=[
        AssetCheckSpec(
            "briefing_sources_visible_to_reader",
            asset="user_briefings",
            description="No briefing line cites a message from a conversation its reader cannot see.",
        ),
        AssetCheckSpec(
            "no_duplicate_deliveries",
            asset="user_briefings",
            description="No (day, user, channel) was delivered twice (deliveries ledger). Also "
            "evaluated by each run of the deliver_briefings job.",
        ),
        AssetCheckSpec(
            "no_failed_deliveries",
            asset="user_briefings",
            description="Warns when deliveries gave up (failed) or crashed mid-send (unknown); see "
            "the deliveries table and `outropy deliver --requeue`.",
        ),
    ],
    description="Each subscribed person's briefing of the day: selected and ranked items with the "
    "reason and permalinks, rendered as Markdown, Slack blocks and HTML.",
)
def user_briefings(
    context: AssetExecutionContext,
    store: StoreResource,
    slack: SlackSourceResource,
    pipeline: PipelineResource,
    feedback: FeedbackResource,
    slack_delivery: SlackDeliveryResource,
) -> Iterator[AssetMaterialization | AssetCheckResult]:
    db = store.store()
    directory = read_directory(db)
    active = {s.user_id for s in read_subscriptions(db)}
    requested = split_briefing_keys(context.partition_keys)
    # readers' reactions on the line replies of their recent DM briefings, read before ranking
    readers = sorted({u for users in requested.values() for u in users if u in active})
    slack_feedback = feedback.slack(slack_delivery)
    if slack_feedback is not None and readers and requested:
        synced = sync_slack(
            db, slack_feedback, feedback.config(), day=max(requested), users=readers, log=context.log.warning
        )
        context.log.info(f"feedback: {synced.summary()}")
    out_dir = Path(pipeline.briefings_dir) if pipeline.briefings_dir else None
    workspace_url = pipeline.permalink_base(slack)
    skipped = 0
    for day, users in requested.items():
        subscribed = [u for u in users if u in active]
        skipped += len(users) - len(subscribed)
        report = brief_day(db, directory, day, subscribed, workspace_url, out_dir, feedback.policy())
        for b in report.briefings:
            metadata = briefing_metadata(b)
            if b.user_id in report.feedback:
                metadata.update(feedback_metadata(report.feedback[b.user_id]))
            if out_dir is not None:
                metadata["markdown_file"] = MetadataValue.path(str(out_dir / day / f"{b.user_id}.md"))
            yield AssetMaterialization(
                asset_key=context.asset_key, partition=briefing_key(day, b.user_id), metadata=metadata
            )
    if skipped:
        context.log.info(f"{skipped} (day, user) partitions skipped: user not subscribed")
    days = list(requested)
    yield zero_check(
        "briefing_sources_visible_to_reader",
        "lines_with_invisible_sources",
        invariants.briefing_lines_not_visible(db, days),
    )
    yield zero_check("no_duplicate_deliveries", "duplicate_keys", deliveries.duplicate_deliveries(db))
    yield zero_check(
        "no_failed_deliveries",
        "failed_or_unknown_of_these_days",
        deliveries.failed_deliveries(db, days),
        warn=True,
    )


pipeline_assets = [
    slack_directory,
    raw_slack_messages,
    slack_threads,
    classified_items,
    entity_summaries,
    user_briefings,
]

#: the Dagster kind (the UI's tag and icon) of the assets that call the LLM provider, by provider:
#: `openai` for any OpenAI-compatible endpoint, `python` for the offline local rules
PROVIDER_KINDS: dict[str, str] = {"openai": "openai", "local": "python"}
LLM_ASSETS = (classified_items.key, entity_summaries.key)


def assets_for_provider(provider: Literal["local", "openai"] | str) -> list[AssetsDefinition]:
    """`pipeline_assets`, the LLM assets tagged with the kind of `provider` (the one the settings
    choose when the definitions load), or with no provider kind for a provider not in PROVIDER_KINDS."""
    kind = PROVIDER_KINDS.get(provider)

    def tagged(spec: AssetSpec) -> AssetSpec:
        if spec.key not in LLM_ASSETS or kind is None:
            return spec
        return spec.replace_attributes(kinds={*spec.kinds, kind})

    return [a.map_asset_specs(tagged) if any(k in LLM_ASSETS for k in a.keys) else a for a in pipeline_assets]
