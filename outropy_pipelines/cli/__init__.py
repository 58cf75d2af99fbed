"""`outropy`: run the pipeline, inspect its stages, print briefings.

outropy run [--export DIR] [--date D | --start D --end D]
outropy threads EXPORT_DIR --out FILE.jsonl
outropy items EXPORT_DIR --out FILE.jsonl
outropy eval items EXPORT LABELS.jsonl [--provider local|openai] [--json OUT]
outropy briefing --date D --user U [--format md|html|blocks]
outropy deliver [--date D] [--user U] [--channel slack|email] [--any-time] [--dry-run | --ledger | --requeue S]
outropy feedback --user U --date D --line N --useful|--not-useful | outropy feedback serve [--port P]
outropy bench [...] | outropy bench tokens [...]
outropy lake import FILE.duckdb [--replace]
outropy mcp --user U

One module per command group (run, export_tools, eval, briefing, deliver, feedback, bench, lake, mcp_server), each adding its
subcommands to the parser; what they share is in `common`. A user error is one line starting with
`outropy:` (exit 2 for usage, 1 at run time); anything unexpected too, with where it happened, and
its traceback only when OUTROPY_LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from outropy_pipelines.cli import bench, briefing, deliver, export_tools, feedback, lake, mcp_server, run
from outropy_pipelines.cli import eval as eval_cmd
from outropy_pipelines.cli.common import USAGE_ERROR, CliError, err, load_settings, settings_error

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one `outropy:` line (and where to find the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"outropy: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="outropy", description="Daily Slack briefings (Dagster + DuckDB).")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (run, export_tools, eval_cmd, briefing, deliver, feedback, bench, lake, mcp_server):
        group.register(sub)
    return p


def _is_settings_error(exc: ValidationError) -> bool:
    from outropy_pipelines.settings import (
        DeliverySettings,
        FeedbackSettings,
        LLMSettings,
        Settings,
        SmtpSettings,
    )

    classes = (Settings, LLMSettings, SmtpSettings, DeliverySettings, FeedbackSettings)
    return exc.title in {cls.__name__ for cls in classes}


def _debug() -> bool:
    try:
        return load_settings().log_level == "DEBUG"
    except ValidationError:
        return False


def _unexpected(exc: BaseException) -> int:
    """The last resort: an exception no command expected, as one line saying where it happened
    (the traceback at OUTROPY_LOG_LEVEL=DEBUG)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [
        f for f in frames if Path(f.filename).resolve().is_relative_to(_PACKAGE_ROOT / "outropy_pipelines")
    ]
    where = (ours or frames)[-1:] if frames else []
    at = ""
    if where:
        path = Path(where[0].filename).resolve()
        shown = path.relative_to(_PACKAGE_ROOT) if path.is_relative_to(_PACKAGE_ROOT) else path
        at = f" (at {shown}:{where[0].lineno} in {where[0].name})"
    text = str(exc).strip().splitlines()
    err(f"unexpected error: {type(exc).__name__}: {text[0] if text else ''}{at}")
    if _debug():
        traceback.print_exception(exc, file=sys.stderr)
    else:
        err("run with OUTROPY_LOG_LEVEL=DEBUG for the traceback")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    # Dagster flags beta/preview parameters (backfill_policy, ...) on every definition load
    warnings.filterwarnings("ignore", module=r"dagster(\.|$)")
    warnings.filterwarnings("ignore", message=r".*(beta|preview|experimental).*")
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else USAGE_ERROR
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        err(str(exc))
        return exc.code
    except ValidationError as exc:
        if not _is_settings_error(exc):
            return _unexpected(exc)
        err(settings_error(exc))  # the environment holds a bad setting
        return USAGE_ERROR
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except Exception as exc:
        return _unexpected(exc)
