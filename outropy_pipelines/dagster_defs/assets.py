"""The six assets of the pipeline, thin wrappers over `outropy_pipelines.stages`.

Every daily asset takes a range of days in one run (BackfillPolicy.single_run) and writes each day
in its own transaction; `user_briefings` takes a rectangle of (days x users) in one run. Checks run
inside the step that wrote the data, on exactly the partitions it wrote.
"""

from collections.abc import Sequence

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    TimeWindowPartitionMapping,
    asset,
)

from outropy_pipelines.dagster_defs.partitions import Partitions, split_briefing_keys
from outropy_pipelines.dagster_defs.resources import (
    DuckDBStoreResource,
    LLMResource,
    SlackSourceResource,
    WorkspaceResource,
)
from outropy_pipelines.stages import checks
from outropy_pipelines.stages.briefings import brief_day
from outropy_pipelines.stages.classification import classify_day
from outropy_pipelines.stages.directory import read_directory, read_subscriptions, write_directory
from outropy_pipelines.stages.entity_memory import summarize_day
from outropy_pipelines.stages.ingest import ingest_day
from outropy_pipelines.stages.threading import builder_for, thread_day

GROUP = "briefing_pipeline"
PREVIEW_CHARS = 6000
#: Dagster concurrency pool of the LLM steps: `dagster instance concurrency set llm N` caps them
#: across all runs (see README, "Real LLM provider")
LLM_POOL = "llm"


def _days(context: AssetExecutionContext) -> list[str]:
    return sorted(context.partition_keys)


def _zero_check(name: str, label: str, violations: int, warn: bool = False) -> AssetCheckResult:
    """A check that passes when its count of violations is zero; `warn` for WARN severity."""
    return AssetCheckResult(
        check_name=name,
        passed=violations == 0,
        severity=AssetCheckSeverity.WARN if warn else AssetCheckSeverity.ERROR,
        metadata={label: violations},
    )


def _md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> MetadataValue:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return MetadataValue.md("\n".join(lines))


def build_assets(parts: Partitions, subscriptions_file: str | None, briefings_dir: str | None) -> list:
    @asset(
        group_name=GROUP,
        kinds={"slack", "duckdb"},
        description="Users, conversations, membership snapshot and subscriptions of the workspace.",
    )
    def slack_directory(store: DuckDBStoreResource, slack: SlackSourceResource) -> MaterializeResult:
        from pathlib import Path

        source = slack.source()
        directory, quarantine = source.read_directory()
        report = write_directory(
            store.store(), directory, quarantine, Path(subscriptions_file) if subscriptions_file else None
        )
        return MaterializeResult(
            metadata={
                "users": report.users,
                "humans": report.humans,
                "conversations": report.channels,
                "memberships": report.memberships,
                "subscribed_users": report.subscriptions,
                "quarantined": report.quarantined,
                "source": source.name,
            }
        )

    @asset(
        group_name=GROUP,
        kinds={"slack", "duckdb"},
        partitions_def=parts.daily,
        backfill_policy=BackfillPolicy.single_run(),
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
        store: DuckDBStoreResource,
        slack: SlackSourceResource,
        workspace: WorkspaceResource,
    ) -> MaterializeResult:
        db, reader = store.store(), slack.source()
        reports = [ingest_day(db, reader, day, workspace.timezone) for day in _days(context)]
        for r in reports:
            context.log.info(
                f"{r.day}: {r.messages} messages from {r.channels} conversations, {r.quarantined} quarantined"
            )
            if r.failed_conversations:
                context.log.warning(
                    f"{r.day}: conversations not readable (see quarantine): {', '.join(r.failed_conversations)}"
                )
        quarantined = sum(r.quarantined for r in reports)
        failed = sorted({c for r in reports for c in r.failed_conversations})
        not_joined = sorted({c for r in reports for c in r.not_joined})
        return MaterializeResult(
            metadata={
                "messages": sum(r.messages for r in reports),
                "quarantined": quarantined,
                "duplicates": sum(r.duplicates for r in reports),
                "files_read": sum(r.files_read for r in reports),
                "source": reader.name,
                "conversations_failed": len(failed),
                "conversations_failed_ids": ", ".join(failed) or "-",
                "conversations_not_joined": len(not_joined),
                "days": _md_table(
                    ["day", "messages", "conversations", "quarantined"],
                    [(r.day, r.messages, r.channels, r.quarantined) for r in reports],
                ),
            },
            check_results=[_zero_check("no_quarantined_records", "quarantined", quarantined, warn=True)],
        )

    @asset(
        group_name=GROUP,
        kinds={"python", "duckdb"},
        partitions_def=parts.daily,
        backfill_policy=BackfillPolicy.single_run(),
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
        context: AssetExecutionContext, store: DuckDBStoreResource, workspace: WorkspaceResource
    ) -> MaterializeResult:
        db = store.store()
        builder = builder_for(read_directory(db))
        days = _days(context)
        reports = [thread_day(db, builder, day, workspace.timezone) for day in days]
        missing = checks.thread_messages_missing_from_raw(db, days)
        return MaterializeResult(
            metadata={
                "threads": sum(r.threads for r in reports),
                "slack_threads": sum(r.slack_threads for r in reports),
                "reconstructed_conversations": sum(r.reconstructed for r in reports),
                "thread_messages": sum(r.messages for r in reports),
                "new_messages": sum(r.new_messages for r in reports),
                "noise_dropped": sum(r.noise for r in reports),
                "days": _md_table(
                    ["day", "threads", "slack threads", "reconstructed", "new messages", "noise"],
                    [
                        (r.day, r.threads, r.slack_threads, r.reconstructed, r.new_messages, r.noise)
                        for r in reports
                    ],
                ),
            },
            check_results=[_zero_check("thread_messages_exist_in_raw", "missing", missing)],
        )

    @asset(
        group_name=GROUP,
        kinds={"openai", "duckdb"},
        pool=LLM_POOL,
        partitions_def=parts.daily,
        backfill_policy=BackfillPolicy.single_run(),
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
        context: AssetExecutionContext, store: DuckDBStoreResource, llm: LLMResource
    ) -> MaterializeResult:
        db = store.store()
        directory = read_directory(db)
        client = llm.client(cache=db, run_id=context.run_id)
        days = _days(context)
        reports = [classify_day(db, client, directory, day) for day in days]
        sourceless = checks.items_without_sources(db, days)
        failures = sum(r.failures for r in reports)
        kinds: dict[str, int] = {}
        for r in reports:
            for k, n in r.by_kind.items():
                kinds[k] = kinds.get(k, 0) + n
        return MaterializeResult(
            metadata={
                "items": sum(r.items for r in reports),
                "new_items": sum(r.new_items for r in reports),
                "threads": sum(r.threads for r in reports),
                "threads_skipped_by_prefilter": sum(r.skipped for r in reports),
                **client.metadata(),
                "items_by_kind": _md_table(["kind", "items"], sorted(kinds.items())),
            },
            check_results=[
                _zero_check("items_have_sources", "items_without_sources", sourceless),
                _zero_check("no_failed_classifications", "failed_threads", failures, warn=True),
            ],
        )

    @asset(
        group_name=GROUP,
        kinds={"openai", "duckdb"},
        pool=LLM_POOL,
        partitions_def=parts.daily,
        backfill_policy=BackfillPolicy.single_run(),
        deps=[
            classified_items,
            AssetDep(
                "entity_summaries",
                partition_mapping=TimeWindowPartitionMapping(start_offset=-1, end_offset=-1),
            ),
        ],
        description="Event-sourced memory per channel, project and person: yesterday's summary folded "
        "with today's items; open action items, questions and blockers carry over until closed.",
    )
    def entity_summaries(
        context: AssetExecutionContext, store: DuckDBStoreResource, llm: LLMResource
    ) -> MaterializeResult:
        db = store.store()
        directory = read_directory(db)
        client = llm.client(cache=db, run_id=context.run_id)
        reports = [summarize_day(db, client, directory, day) for day in _days(context)]  # in day order
        return MaterializeResult(
            metadata={
                "entities": sum(r.entities for r in reports),
                "updated_today": sum(r.updated_today for r in reports),
                "open_items": reports[-1].open_items if reports else 0,
                **client.metadata(),
                "days": _md_table(
                    ["day", "entities", "updated", "open items"],
                    [(r.day, r.entities, r.updated_today, r.open_items) for r in reports],
                ),
            }
        )

    @asset(
        group_name=GROUP,
        kinds={"markdown", "duckdb"},
        partitions_def=parts.daily_by_user,
        backfill_policy=BackfillPolicy.single_run(),
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
                "evaluated by the deliver_briefings sensor after each tick that sent something.",
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
        store: DuckDBStoreResource,
        workspace: WorkspaceResource,
        slack: SlackSourceResource,
    ) -> MaterializeResult:
        from pathlib import Path

        db = store.store()
        directory = read_directory(db)
        active = {s.user_id for s in read_subscriptions(db)}
        requested = split_briefing_keys(parts.daily_by_user, context.partition_keys)
        by_day = {day: [u for u in users if u in active] for day, users in requested.items()}
        skipped = sum(len(users) for users in requested.values()) - sum(
            len(users) for users in by_day.values()
        )
        if skipped:
            context.log.info(f"{skipped} (day, user) partitions skipped: user not subscribed")
        out_dir = Path(briefings_dir) if briefings_dir else None
        workspace_url = workspace.permalink_base(slack)
        reports = [
            brief_day(db, directory, day, users, workspace_url, out_dir) for day, users in by_day.items()
        ]
        briefings = [b for r in reports for b in r.briefings]
        leaks = checks.briefing_lines_not_visible(db, list(by_day))
        duplicate_deliveries = checks.duplicate_deliveries(db)
        failed_deliveries = checks.failed_deliveries(db, list(by_day))
        preview = next((b for b in briefings if b.lines), briefings[0] if briefings else None)
        metadata: dict = {
            "briefings": len(briefings),
            "lines": sum(r.lines for r in reports),
            "users": len({b.user_id for b in briefings}),
            "days": len(by_day),
            "empty_briefings": sum(1 for b in briefings if not b.lines),
            "skipped_unsubscribed": skipped,
        }
        if preview is not None:
            text = preview.markdown
            if len(text) > PREVIEW_CHARS:
                text = text[:PREVIEW_CHARS] + "\n\n…(truncated)"
            metadata["preview"] = MetadataValue.md(text)
            metadata["preview_of"] = f"{preview.day} / {preview.user_name} ({preview.user_id})"
        if len(briefings) > 1:
            metadata["per_user"] = _md_table(
                ["day", "user", "lines"], [(b.day, b.user_name, b.item_count) for b in briefings[:200]]
            )
        if out_dir is not None:
            metadata["markdown_files"] = MetadataValue.path(str(out_dir))
        return MaterializeResult(
            metadata=metadata,
            check_results=[
                _zero_check("briefing_sources_visible_to_reader", "lines_with_invisible_sources", leaks),
                _zero_check("no_duplicate_deliveries", "duplicate_keys", duplicate_deliveries),
                _zero_check(
                    "no_failed_deliveries", "failed_or_unknown_of_these_days", failed_deliveries, warn=True
                ),
            ],
        )

    return [
        slack_directory,
        raw_slack_messages,
        slack_threads,
        classified_items,
        entity_summaries,
        user_briefings,
    ]
