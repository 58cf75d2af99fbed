"""`outropy`: run the pipeline, inspect its stages, print briefings.

outropy run [--export DIR] [--date D | --start D --end D]
outropy threads EXPORT_DIR --out FILE.jsonl
outropy items EXPORT_DIR --out FILE.jsonl
outropy briefing --date D --user U [--format md|html|blocks|text]
outropy deliver [--date D] [--user U] [--channel slack|email] [--dry-run | --ledger | --requeue S]

One module per command group (run, export_tools, briefing, deliver, bench), each adding its
subcommands to the parser; what they share is in `common`.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence

from pydantic import ValidationError

from outropy_pipelines.cli import bench, briefing, deliver, export_tools, run
from outropy_pipelines.cli.common import err, settings_error


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="outropy", description="Daily Slack briefings (Dagster + DuckDB).")
    sub = p.add_subparsers(dest="command", required=True)
    for group in (run, export_tools, briefing, deliver, bench):
        group.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    # Dagster flags beta/preview parameters (backfill_policy, ...) on every definition load
    warnings.filterwarnings("ignore", module=r"dagster(\.|$)")
    warnings.filterwarnings("ignore", message=r".*(beta|preview|experimental).*")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValidationError as exc:  # the environment holds a bad setting
        err(settings_error(exc))
        return 2
