"""`outropy briefing`: print one stored briefing."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from outropy_pipelines.cli.common import RUN_FAILED, CliError, command, day, existing_store, load_settings

if TYPE_CHECKING:
    from outropy_pipelines.store import DuckDBStore


def cmd_briefing(args: argparse.Namespace) -> int:
    from outropy_pipelines.store.briefings import find_briefing

    store = existing_store(load_settings())
    row = find_briefing(store, args.date, args.user)
    if row is None:
        raise CliError(_why_no_briefing(store, args.date, args.user), code=RUN_FAILED)
    if args.format == "html":
        print(row["html"])
    elif args.format == "blocks":
        print(json.dumps(json.loads(row["blocks_json"]), indent=2, ensure_ascii=False))
    else:
        print(row["markdown"])
    return 0


def _why_no_briefing(store: DuckDBStore, day: str, user: str) -> str:
    """Why `user` has no briefing on `day`: an unknown user, a day without any briefings, or a
    known user without one that day; each with what there is instead."""
    from outropy_pipelines.domain.days import format_days
    from outropy_pipelines.store.briefings import briefing_days, find_user

    everyone = briefing_days(store)
    if not everyone:
        return f"no briefings in {store.path} yet: run `{command('run')}` first"
    found = find_user(store, user)
    if found is None and not briefing_days(store, user):
        return (
            f"unknown user {user!r}: no user id, name or real name like it in the directory in {store.path}"
        )
    if day not in everyone:
        return f"no briefings at all on {day}; days with briefings: {format_days(everyone)}"
    user_id = found["user_id"] if found else user
    who = user_id if user_id == user else f"{user} ({user_id})"
    theirs = briefing_days(store, user_id)
    if not theirs:
        return f"{who} has no briefing on {day}, nor on any other day (not subscribed?)"
    return f"{who} has no briefing on {day}; their briefings: {format_days(theirs)}"


def register(sub: argparse._SubParsersAction) -> None:
    br = sub.add_parser(
        "briefing",
        help="print one stored briefing",
        description="Print a briefing from the DuckDB file (OUTROPY_DUCKDB_PATH) that `outropy run` wrote.",
    )
    br.add_argument(
        "--date", required=True, type=day, metavar="D", help="the day (YYYY-MM-DD, today or yesterday)"
    )
    br.add_argument("--user", required=True, help="whose briefing: a user id, or a name or real name")
    br.add_argument(
        "--format",
        choices=["md", "html", "blocks"],
        default="md",
        help="Markdown (default), the HTML page, or the Slack Block Kit JSON",
    )
    br.set_defaults(func=cmd_briefing)
