"""`outropy deliver`: the ledger, and one run of the `deliver_briefings` job."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from outropy_pipelines.cli.common import (
    RUN_FAILED,
    CliError,
    dagster_instance,
    day,
    existing_store,
    load_settings,
)

if TYPE_CHECKING:
    from outropy_pipelines.domain.delivery_plan import DeliveryPolicy
    from outropy_pipelines.store import DuckDBStore


def dry_run_lines(
    store: DuckDBStore,
    channels: Sequence[str],
    policy: DeliveryPolicy,
    problems: Mapping[str, str | None],
    days: Sequence[str] | None = None,
    users: Sequence[str] | None = None,
    now: dt.datetime | None = None,
) -> list[str]:
    """What `outropy deliver --dry-run` prints: a `due: DAY USER CHANNEL` line per delivery due at
    `now` (naive UTC; default: now), the count per channel, then what would keep them from going
    out (`problems`: why a channel cannot send, by channel). Also `scripts/render_examples.py`'s."""
    from outropy_pipelines.domain.delivery_plan import CHANNELS
    from outropy_pipelines.stages import delivery as dl

    due = dl.due_deliveries(store, channels, policy, now=now, days=days, users=users)
    lines = [f"due: {d.day} {d.user_id} {d.channel}" for d in due]
    per_channel = [f"{ch} {n}" for ch in CHANNELS if (n := sum(d.channel == ch for d in due))]
    lines.append(f"{len(due)} deliveries due" + (f" ({', '.join(per_channel)})" if per_channel else ""))
    lines += [problem.line() for problem in dl.preflight(store, due, problems)]
    return lines


def cmd_deliver(args: argparse.Namespace) -> int:
    """Ledger inspection (--ledger, --dry-run, --requeue) directly; sending through the
    `deliver_briefings` job on the local instance, as the sensor's runs do."""
    from dagster import RunConfig

    from outropy_pipelines.defs.definitions import build_definitions, build_resources
    from outropy_pipelines.defs.delivery import DELIVER_JOB, DeliverConfig
    from outropy_pipelines.defs.run_monitor import in_process_tags
    from outropy_pipelines.domain.delivery_plan import CHANNELS
    from outropy_pipelines.stages import delivery as dl

    settings = load_settings()
    days = [args.date] if args.date else None
    store = existing_store(settings)
    users = [args.user] if args.user else None
    channels = [args.channel] if args.channel else list(CHANNELS)
    resources = build_resources(settings)
    policy = resources["delivery_policy"].policy(args.max_age_days, scheduled=not args.any_time)

    def show_ledger() -> None:
        counts = dl.ledger_counts(store, days)
        print(f"ledger (table deliveries in {settings.duckdb_path}):")
        for (channel, status), n in sorted(counts.items()):
            print(f"  {channel:<6} {status:<8} {n}")
        if not counts:
            print("  (empty)")

    if args.requeue:
        n = dl.requeue(store, [args.requeue], days, users, channels)
        print(f"requeued {n} {args.requeue} deliveries")
    if args.ledger:
        show_ledger()
        return 0
    problems = {
        "slack": resources["slack_delivery"].problem(),
        "email": resources["email_delivery"].problem(),
    }
    if args.dry_run:
        print("\n".join(dry_run_lines(store, channels, policy, problems, days=days, users=users)))
        return 0
    configured = {"slack": resources["slack_delivery"].enabled, "email": resources["email_delivery"].enabled}
    for ch in channels:
        if not configured[ch]:
            waiting = len(dl.due_deliveries(store, [ch], policy, days=days, users=users))
            if waiting:
                print(f"{ch}: {waiting} deliveries waiting: {problems[ch]}", file=sys.stderr)
    if not any(configured[ch] for ch in channels):
        raise CliError("no delivery channel configured: set SLACK_BOT_TOKEN (Slack) and/or SMTP_HOST (email)")
    broken = [f"{ch}: {problems[ch]}" for ch in channels if configured[ch] and problems[ch]]
    if broken:
        raise CliError("; ".join(broken))
    instance, _ = dagster_instance(settings)
    config = DeliverConfig(
        days=days or [],
        users=users or [],
        channels=channels,
        max_age_days=args.max_age_days,
        any_time=args.any_time,
    )
    started = time.monotonic()
    result = (
        build_definitions(settings)
        .resolve_job_def(DELIVER_JOB)
        .execute_in_process(
            instance=instance,
            run_config=RunConfig(ops={"deliver_due_briefings": config}),
            tags=in_process_tags(),
            raise_on_error=False,
        )
    )
    if not result.success:
        raise CliError(f"the {DELIVER_JOB} run {result.run_id} failed: see it in the Dagster UI", RUN_FAILED)
    outcome = result.output_for_node("deliver_due_briefings")
    sent = ", ".join(f"{ch} {n}" for ch, n in sorted(outcome["sent_by_channel"].items()))
    print(
        f"Delivered in {time.monotonic() - started:.1f}s: {outcome['summary']} ({sent}); "
        f"run {result.run_id} in the Dagster UI."
    )
    show_ledger()
    return 0 if all(outcome[status] == 0 for status in ("retry", "failed", "unknown")) else 1


def register(sub: argparse._SubParsersAction) -> None:
    de = sub.add_parser(
        "deliver",
        help="send due briefings by Slack DM / email (what the deliver_briefings sensor does), once each",
        description="Send the due briefings through the deliver_briefings job on the local Dagster "
        "instance, or inspect the delivery ledger (--dry-run, --ledger, --requeue).",
    )
    de.add_argument(
        "--date",
        type=day,
        metavar="D",
        help="only this day (YYYY-MM-DD, today or yesterday; default: every day with due deliveries)",
    )
    de.add_argument("--user", help="only this user id")
    de.add_argument("--channel", choices=["slack", "email"], help="only this channel")
    de.add_argument("--max-age-days", type=int, metavar="N", help="skip briefings older than this many days")
    de.add_argument(
        "--any-time",
        action="store_true",
        help="ignore each reader's delivery hour, quiet hours and weekend rule (send now what is stored)",
    )
    de.add_argument("--dry-run", action="store_true", help="list what is due, send nothing")
    de.add_argument("--ledger", action="store_true", help="print the ledger's counts, send nothing")
    de.add_argument(
        "--requeue", choices=["failed", "unknown"], help="make these deliveries due again (then deliver)"
    )
    de.set_defaults(func=cmd_deliver)
