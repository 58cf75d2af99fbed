"""`outropy run`: the whole pipeline through Dagster on the local instance."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from outropy_pipelines.cli.common import command, dagster_instance, err, load_settings


def cmd_run(args: argparse.Namespace) -> int:
    from outropy_pipelines.pipeline_runner import PipelineRunner, select_days

    settings = load_settings(slack_export=Path(args.export).resolve() if args.export else None)
    if settings.slack_is_live and not (args.date or args.start or args.end):
        err("live Slack mode (SLACK_BOT_TOKEN): give --date D or --start D --end D")
        return 2
    source = (
        f"the Slack Web API ({settings.slack_api_url})"
        if settings.slack_is_live
        else str(settings.slack_export)
    )
    try:
        days = select_days(settings, date=args.date, start=args.start, end=args.end)
    except ValueError as exc:
        err(str(exc))
        return 2
    if not days:
        err(f"no days to process in {settings.slack_export}")
        return 2
    instance, home = dagster_instance(settings)
    runner = PipelineRunner(settings, instance=instance, progress=print)
    print(
        f"outropy: {len(days)} day(s) {days[0]} .. {days[-1]} from {source}\n"
        f"         DuckDB {settings.duckdb_path}, Dagster instance {home}, LLM provider {settings.llm.provider}"
    )
    started = time.monotonic()
    summary = runner.run(days)
    print(
        f"\nDone in {time.monotonic() - started:.1f}s: {summary.briefings} briefings for {summary.users} people."
    )
    print(f"  Markdown files : {settings.briefings_dir}/<day>/<user_id>.md")
    print(f"  DuckDB tables  : briefings, briefing_lines in {settings.duckdb_path}")
    if summary.example:
        day, uid = summary.example
        print(f"  Print one      : {command(f'briefing --date {day} --user {uid}')}")
    return 0 if summary.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run the whole pipeline through Dagster on the local instance")
    run.add_argument(
        "--export", help="Slack export directory (default: OUTROPY_SLACK_EXPORT or data/sample_export)"
    )
    run.add_argument("--date", help="one day, YYYY-MM-DD")
    run.add_argument("--start", help="first day, YYYY-MM-DD")
    run.add_argument("--end", help="last day, YYYY-MM-DD")
    run.set_defaults(func=cmd_run)
