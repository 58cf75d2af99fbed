"""Assembles the Dagster `Definitions` from settings: the one place everything is wired."""

from __future__ import annotations

import os

from dagster import Definitions

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.config import DeliverySettings, Settings, load_delivery_settings
from outropy_pipelines.dagster_defs.assets import build_assets
from outropy_pipelines.dagster_defs.automation import build_automation
from outropy_pipelines.dagster_defs.delivery_sensor import build_delivery_sensor
from outropy_pipelines.dagster_defs.partitions import build_partitions
from outropy_pipelines.dagster_defs.resources import (
    DuckDBStoreResource,
    LLMResource,
    SlackSourceResource,
    WorkspaceResource,
)
from outropy_pipelines.llm.pricing import parse_prices

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


def _float_env(name: str, default: float | None) -> float | None:
    value = os.environ.get(name)
    return float(value) if value and value.strip() else default


def _checked_prices(text: str | None) -> str | None:
    """OUTROPY_LLM_PRICES, validated when the definitions load (a typo fails early and clearly)."""
    parse_prices(text)
    return text.strip() if text and text.strip() else None


def build_definitions(settings: Settings, delivery: DeliverySettings | None = None) -> Definitions:
    """Everything Dagster loads. `delivery` defaults to the environment (SLACK_*, SMTP_*, OUTROPY_DELIVERY_*)."""
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
        sensors=[
            *sensors,
            build_delivery_sensor(str(settings.duckdb_path), delivery or load_delivery_settings()),
        ],
        resources={
            "store": DuckDBStoreResource(duckdb_path=str(settings.duckdb_path)),
            "slack": SlackSourceResource(
                export_dir=str(settings.slack_export),
                mode=settings.slack_source,
                api_base_url=settings.slack_api_base_url,
                thread_lookback_days=settings.slack_thread_lookback_days,
            ),
            "workspace": WorkspaceResource(
                timezone=settings.timezone,
                workspace_url=settings.workspace_url,
                workspace_url_from_slack=not settings.workspace_url_is_set,
            ),
            "llm": LLMResource(
                provider=settings.llm_provider,
                model=settings.llm_model,
                base_url=settings.openai_base_url,
                concurrency=_int_env("OUTROPY_LLM_CONCURRENCY", 4) or 4,
                max_tokens_per_run=_int_env("OUTROPY_LLM_MAX_TOKENS_PER_RUN", None),
                timeout_seconds=_float_env("OUTROPY_LLM_TIMEOUT_SECONDS", 60.0) or 60.0,
                max_retries=_int_env("OUTROPY_LLM_MAX_RETRIES", 3) or 0,
                temperature=_float_env("OUTROPY_LLM_TEMPERATURE", None),
                prices_json=_checked_prices(os.environ.get("OUTROPY_LLM_PRICES")),
            ),
        },
    )
