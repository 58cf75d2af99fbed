"""`outropy run`: the whole pipeline through Dagster on the local instance."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from outropy_pipelines.cli.common import CliError, command, dagster_instance, day, load_settings, open_export


def cmd_run(args: argparse.Namespace) -> int:
    from outropy_pipelines.pipeline_runner import PipelineRunner, select_days

    settings = load_settings(slack_export=Path(args.export).expanduser().resolve() if args.export else None)
    if settings.slack_is_live:
        if not (args.date or args.start or args.end):
            raise CliError("live Slack mode (SLACK_BOT_TOKEN): give --date D or --start D --end D")
        source = f"the Slack Web API ({settings.slack_api_url})"
    else:
        open_export(settings.slack_export)
        source = str(settings.slack_export)
    try:
        days = select_days(settings, date=args.date, start=args.start, end=args.end)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if not days:
        raise CliError(f"no days to process in {source}")
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
    run = sub.add_parser(
        "run",
        help="run the whole pipeline through Dagster on the local instance",
        description="Run the daily assets, then every subscribed user's briefings, for the days "
        "asked for (default: every day of the export). Days are YYYY-MM-DD, today or yesterday, in "
        "the workspace time zone (OUTROPY_TIMEZONE).",
    )
    run.add_argument(
        "--export",
        metavar="DIR",
        help="Slack export folder or .zip (default: OUTROPY_SLACK_EXPORT or data/sample_export)",
    )
    run.add_argument("--date", type=day, metavar="D", help="only this day (YYYY-MM-DD, today or yesterday)")
    run.add_argument("--start", type=day, metavar="D", help="first day (default: the export's first)")
    run.add_argument("--end", type=day, metavar="D", help="last day (default: the export's last)")
    run.set_defaults(func=cmd_run)
