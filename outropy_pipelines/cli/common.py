"""What every command shares: errors, settings, the Dagster instance, the DuckDB file, and how to
name this program in a hint."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from dagster import DagsterInstance

    from outropy_pipelines.settings import Settings
    from outropy_pipelines.store import DuckDBStore


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


def day_arg(value: str | None) -> str | None:
    from outropy_pipelines.domain.days import parse_day

    if value is None:
        return None
    try:
        return parse_day(value).isoformat()
    except ValueError:
        raise ValueError(f"not a day: {value!r} (expected YYYY-MM-DD)") from None


def existing_store(settings: Settings) -> DuckDBStore:
    from outropy_pipelines.store import DuckDBStore

    if not settings.duckdb_path.exists():
        raise FileNotFoundError(f"no DuckDB file at {settings.duckdb_path}: run `{command('run')}` first")
    return DuckDBStore(settings.duckdb_path, memory_limit=settings.duckdb_memory_limit)
