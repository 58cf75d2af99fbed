"""`outropy briefing`: print one stored briefing."""

from __future__ import annotations

import argparse
import json

from outropy_pipelines.cli.common import day_arg, err, existing_store, load_settings


def cmd_briefing(args: argparse.Namespace) -> int:
    from outropy_pipelines.store.briefings import find_briefing

    try:
        day = day_arg(args.date)
        store = existing_store(load_settings())
    except (ValueError, FileNotFoundError) as exc:
        err(str(exc))
        return 2
    row = find_briefing(store, day, args.user)
    if row is None:
        err(f"no briefing for user {args.user!r} on {day}")
        return 1
    if args.format == "html":
        print(row["html"])
    elif args.format == "blocks":
        print(json.dumps(json.loads(row["blocks_json"]), indent=2, ensure_ascii=False))
    else:
        print(row["markdown"])
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    br = sub.add_parser("briefing", help="print one stored briefing")
    br.add_argument("--date", required=True)
    br.add_argument("--user", required=True, help="user id or name")
    br.add_argument("--format", choices=["md", "html", "blocks"], default="md")
    br.set_defaults(func=cmd_briefing)
