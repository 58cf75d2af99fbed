"""What every command shares: errors, settings, the argument types (days, output files), the
Slack export, the Dagster instance, the DuckDB file, and how to name this program in a hint.

Exit codes: 2 for a usage error (a malformed argument, a day outside the partitions or the data,
a path that is not there), 1 for a failure at run time (a failed run, nothing found); a user error
is one line starting with `outropy:`, never a traceback."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from dagster import DagsterInstance

    from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
    from outropy_pipelines.settings import Settings
    from outropy_pipelines.store import DuckDBStore

USAGE_ERROR = 2
RUN_FAILED = 1


class CliError(Exception):
    """A user error: `main` prints it as one line and exits with `code`."""

    def __init__(self, message: str, code: int = USAGE_ERROR) -> None:
        super().__init__(message)
        self.code = code


def err(msg: str) -> None:
    print(f"outropy: {msg}", file=sys.stderr)


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment, with the command line's `overrides`."""
    from outropy_pipelines.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def settings_error(exc: ValidationError) -> str:
    """A settings error as one line per bad value, naming the variable to fix."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(x) for x in error["loc"]) or "settings"
        parts.append(f"{field}: {error['msg']}")
    return "invalid settings: " + "; ".join(parts)


def command(name: str) -> str:
    """How to run `outropy <name>` again from this shell: `outropy` when that is on the PATH and
    the same program, else the path this one was started by."""
    me = Path(sys.argv[0])
    found = shutil.which("outropy")
    if found and me.name == "outropy" and Path(found).resolve() == me.resolve():
        return f"outropy {name}"
    if me.name == "outropy":
        try:
            shown = me.resolve().relative_to(Path.cwd())
        except ValueError:
            shown = me.resolve()
        return f"{shown} {name}"
    return f"{sys.executable} -m outropy_pipelines.cli {name}"


def dagster_instance(settings: Settings) -> tuple[DagsterInstance, Path]:
    """The Dagster instance of DAGSTER_HOME; without it, the repository's (its dagster.yaml keeps
    storage under data/dagster/) when run from the repository root, else data/dagster_home."""
    from dagster import DagsterInstance

    home = settings.dagster_home
    if home is None:
        cwd = Path.cwd()
        home = cwd if (cwd / "dagster.yaml").exists() else cwd / "data" / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    return DagsterInstance.from_config(str(home)), home


def day(value: str) -> str:
    """argparse `type=` of every option that takes a day: YYYY-MM-DD, `today` or `yesterday` (in
    the workspace time zone, OUTROPY_TIMEZONE), as an ISO date; anything else is a usage error
    naming the accepted forms."""
    from outropy_pipelines.domain.days import is_relative_day, parse_day_text, today_in

    try:
        today = today_in(load_settings().timezone) if is_relative_day(value) else None
        return parse_day_text(value, today)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(settings_error(exc)) from None
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def output_file(value: str) -> str:
    """argparse `type=` of an output file: its folder must exist and be writable (checked before
    the work, not after it)."""
    path = Path(value).expanduser()
    folder = path.parent
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a folder: give a file name")
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"cannot write {value}: the folder {folder} {what}")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write {value}: no permission to write in {folder}")
    return str(path)


def existing_file(value: str) -> str:
    """argparse `type=` of an input file that must exist."""
    path = Path(value).expanduser()
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise argparse.ArgumentTypeError(f"{value} {what}: give an existing file")
    return str(path)


#: what an EXPORT argument takes (every reader opens a folder or a zip: `open_export`)
EXPORT_HELP = "the Slack export folder (channels.json, users.json, one folder per channel) or its .zip"


def open_export(path: Path) -> SlackExportReader:
    """A reader of the Slack export at `path` that has messages, or a `CliError` saying why not
    (missing, not an export, no day files)."""
    from outropy_pipelines.adapters.slack_export_reader import ExportFormatError, SlackExportReader

    if not path.exists():
        raise CliError(f"Slack export not found: {path} (no such file or folder)")
    try:
        reader = SlackExportReader(path)
        reader.read_directory()
        days = reader.available_days()
    except (ExportFormatError, zipfile.BadZipFile) as exc:
        if path.is_dir():
            raise CliError(str(exc)) from None
        raise CliError(
            f"{path} is not a Slack export: expected the export's folder or the .zip Slack hands out "
            "(channels.json, users.json and one folder per channel)"
        ) from None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the Slack export {path}: {exc}") from None
    if not days:
        raise CliError(
            f"the Slack export {path} holds no messages: no YYYY-MM-DD.json day files in its "
            "conversation folders"
        )
    return reader


def existing_store(settings: Settings) -> DuckDBStore:
    from outropy_pipelines.store import DuckDBStore

    if not settings.duckdb_path.exists():
        raise CliError(f"no DuckDB file at {settings.duckdb_path}: run `{command('run')}` first")
    return DuckDBStore(settings.duckdb_path, memory_limit=settings.duckdb_memory_limit)
