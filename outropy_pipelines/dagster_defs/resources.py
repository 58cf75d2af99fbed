"""Dagster resources: thin configuration wrappers around the adapters.

Defaults come from the environment (see `outropy_pipelines.config`); secrets are never resource
config: providers read them from the environment when they are built, so they never reach the
run config, the event log or DuckDB.
"""

from __future__ import annotations

import os

from dagster import ConfigurableResource

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.adapters.slack_source import SlackSource
from outropy_pipelines.adapters.slack_web_api_reader import SlackWebAPIReader
from outropy_pipelines.llm.base import LLMCache, LLMClient, LLMLedger
from outropy_pipelines.llm.factory import build_provider
from outropy_pipelines.llm.pricing import parse_prices, price_for


class DuckDBStoreResource(ConfigurableResource):
    """The pipeline's DuckDB file (OUTROPY_DUCKDB_PATH)."""

    duckdb_path: str

    def store(self) -> DuckDBStore:
        return DuckDBStore(self.duckdb_path)


class SlackSourceResource(ConfigurableResource):
    """Where Slack data comes from: an export directory (OUTROPY_SLACK_EXPORT, the default) or the
    live Web API when SLACK_BOT_TOKEN is set (`mode` "auto"; "export"/"live" force one).

    The bot token is read from the environment variable `token_env_var` when the source is built,
    never stored in this resource's config (so never in the run config or the event log).
    """

    export_dir: str
    mode: str = "auto"  # auto | export | live
    api_base_url: str | None = None  # SLACK_API_BASE_URL: the Web API root, e.g. http://127.0.0.1:8080/api/
    thread_lookback_days: int = 14
    page_size: int = 200
    max_retries: int = 6
    token_env_var: str = "SLACK_BOT_TOKEN"

    def _token(self) -> str | None:
        value = os.environ.get(self.token_env_var)
        return value.strip() if value and value.strip() else None

    def is_live(self) -> bool:
        if self.mode not in ("auto", "export", "live"):
            raise ValueError(f"Slack source mode must be auto, export or live, not {self.mode!r}")
        return self.mode == "live" or (self.mode == "auto" and self._token() is not None)

    def source(self) -> SlackSource:
        """The configured source; both give the same rows for the same workspace."""
        if not self.is_live():
            return SlackExportReader(self.export_dir)
        token = self._token()
        if token is None:
            raise ValueError(f"the live Slack source needs a bot token in {self.token_env_var}")
        return SlackWebAPIReader(
            token,
            base_url=self.api_base_url,
            thread_lookback_days=self.thread_lookback_days,
            page_size=self.page_size,
            max_retries=self.max_retries,
        )

    def export_reader(self) -> SlackExportReader:
        return SlackExportReader(self.export_dir)

    def workspace_url(self) -> str | None:
        """The workspace URL as the source knows it (auth.test's `url` when live, else None)."""
        return self.source().workspace_url() if self.is_live() else None


class WorkspaceResource(ConfigurableResource):
    """Workspace-wide settings: time zone of the days and the base URL of permalinks."""

    timezone: str = "UTC"
    workspace_url: str = "https://slack.com"
    # True when OUTROPY_SLACK_WORKSPACE_URL is not set: a live source's auth.test URL is used instead
    workspace_url_from_slack: bool = False

    def permalink_base(self, slack: SlackSourceResource) -> str:
        """Base URL of permalinks: the configured one, or the live workspace's when not configured."""
        if self.workspace_url_from_slack:
            found = slack.workspace_url()
            if found:
                return found.rstrip("/")
        return self.workspace_url


class LLMResource(ConfigurableResource):
    """The LLM provider (OUTROPY_LLM_PROVIDER: local | openai) and its limits.

    The API key is not a field: the openai provider reads OPENAI_API_KEY from the environment."""

    provider: str = "local"
    model: str | None = None
    base_url: str | None = None
    concurrency: int = 4
    max_tokens_per_run: int | None = None
    timeout_seconds: float = 60.0
    max_retries: int = 3
    temperature: float | None = None
    prices_json: str | None = None  # OUTROPY_LLM_PRICES (USD per 1M tokens), over the defaults

    def client(self, cache: LLMCache | None, run_id: str | None = None) -> LLMClient:
        """A client for one asset materialization. With `run_id` and a cache that is also a ledger
        (DuckDBStore), the token budget covers the whole run and its usage is recorded."""
        provider = build_provider(
            self.provider,
            model=self.model,
            base_url=self.base_url,
            timeout=self.timeout_seconds,
            max_retries=self.max_retries,
            temperature=self.temperature,
        )
        return LLMClient(
            provider,
            cache=cache,
            concurrency=self.concurrency,
            max_tokens_per_run=self.max_tokens_per_run,
            price=price_for(provider.model, parse_prices(self.prices_json)),
            run_id=run_id,
            ledger=cache if isinstance(cache, LLMLedger) else None,
        )
