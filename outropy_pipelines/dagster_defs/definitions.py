"""Assembles the Dagster `Definitions` from settings: the one place everything is wired."""

from __future__ import annotations

import os

from dagster import Definitions

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.config import Settings
from outropy_pipelines.dagster_defs.assets import build_assets
from outropy_pipelines.dagster_defs.automation import build_automation
from outropy_pipelines.dagster_defs.partitions import build_partitions
from outropy_pipelines.dagster_defs.resources import (
    DuckDBStoreResource,
    LLMResource,
    SlackSourceResource,
    WorkspaceResource,
)

FALLBACK_START_DATE = "2024-01-01"


def resolve_start_date(settings: Settings) -> str:
    """OUTROPY_START_DATE, else the first day of the export, else a fixed date."""
    if settings.start_date:
        return settings.start_date
    try:
        days = SlackExportReader(settings.slack_export).available_days()
    except (OSError, ValueError):
        days = []
    return days[0] if days else FALLBACK_START_DATE


def _int_env(name: str, default: int | None) -> int | None:
    value = os.environ.get(name)
    return int(value) if value and value.strip() else default


def build_definitions(settings: Settings) -> Definitions:
    parts = build_partitions(resolve_start_date(settings), settings.timezone)
    assets = build_assets(
        parts,
        subscriptions_file=str(settings.subscriptions_file) if settings.subscriptions_file else None,
        briefings_dir=str(settings.briefings_dir),
    )
    jobs, schedules, sensors = build_automation(
        parts,
        duckdb_path=str(settings.duckdb_path),
        users_per_run=_int_env("OUTROPY_BRIEFING_USERS_PER_RUN", 1000) or 1000,
    )
    return Definitions(
        assets=assets,
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        resources={
            "store": DuckDBStoreResource(duckdb_path=str(settings.duckdb_path)),
            "slack": SlackSourceResource(export_dir=str(settings.slack_export)),
            "workspace": WorkspaceResource(timezone=settings.timezone, workspace_url=settings.workspace_url),
            "llm": LLMResource(
                provider=settings.llm_provider,
                model=settings.llm_model,
                base_url=settings.openai_base_url,
                concurrency=_int_env("OUTROPY_LLM_CONCURRENCY", 4) or 4,
                max_tokens_per_run=_int_env("OUTROPY_LLM_MAX_TOKENS_PER_RUN", None),
            ),
        },
    )
