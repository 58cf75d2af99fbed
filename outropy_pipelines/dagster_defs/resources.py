"""Dagster resources: thin configuration wrappers around the adapters.

Defaults come from the environment (see `outropy_pipelines.config`); secrets are never resource
config: providers read them from the environment when they are built, so they never reach the
run config, the event log or DuckDB.
"""

from __future__ import annotations

from dagster import ConfigurableResource

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.llm.base import LLMCache, LLMClient
from outropy_pipelines.llm.factory import build_provider


class DuckDBStoreResource(ConfigurableResource):
    """The pipeline's DuckDB file (OUTROPY_DUCKDB_PATH)."""

    duckdb_path: str

    def store(self) -> DuckDBStore:
        return DuckDBStore(self.duckdb_path)


class SlackSourceResource(ConfigurableResource):
    """Where Slack data comes from: an export directory (OUTROPY_SLACK_EXPORT)."""

    export_dir: str

    def export_reader(self) -> SlackExportReader:
        return SlackExportReader(self.export_dir)


class WorkspaceResource(ConfigurableResource):
    """Workspace-wide settings: time zone of the days and the base URL of permalinks."""

    timezone: str = "UTC"
    workspace_url: str = "https://slack.com"


class LLMResource(ConfigurableResource):
    """The LLM provider (OUTROPY_LLM_PROVIDER: local | openai) and its limits."""

    provider: str = "local"
    model: str | None = None
    base_url: str | None = None
    concurrency: int = 4
    max_tokens_per_run: int | None = None

    def client(self, cache: LLMCache | None) -> LLMClient:
        provider = build_provider(self.provider, model=self.model, base_url=self.base_url)
        return LLMClient(
            provider,
            cache=cache,
            concurrency=self.concurrency,
            max_tokens_per_run=self.max_tokens_per_run,
        )
