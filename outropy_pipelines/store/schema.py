"""The schema of the pipeline's DuckDB file: the SQL files under `schema/`, run in name order.

Every statement is idempotent (`CREATE TABLE IF NOT EXISTS`, `ADD COLUMN IF NOT EXISTS`), so the
schema is applied on the first connection of each process and upgrades an older file in place.
"""

from __future__ import annotations

import functools
import re
from importlib import resources


@functools.cache
def schema_statements() -> tuple[str, ...]:
    """Every statement of every schema file, in file order."""
    folder = resources.files("outropy_pipelines.store").joinpath("schema")
    statements: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        lines = [ln for ln in entry.read_text("utf-8").splitlines() if not ln.lstrip().startswith("--")]
        statements += [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
    return tuple(statements)


@functools.cache
def schema_tables() -> tuple[str, ...]:
    """The tables the schema creates, in file order."""
    return tuple(
        m.group(1) for s in schema_statements() if (m := re.match(r"CREATE TABLE IF NOT EXISTS (\w+)", s))
    )
