"""Dagster resources: typed configuration around the store, the Slack source, the LLM provider and
the delivery channels.

Values come from `Settings` when the definitions are built (`defs/definitions.py`). Secrets are
never values here: the bot token, the API key and the SMTP password are `EnvVar`s, so the UI and
the run config show the variable's name, and Dagster reads its value when a run starts.
"""

from pathlib import Path

from dagster import ConfigurableResource

from outropy_pipelines.adapters.email_mailer import SmtpConfig, SmtpMailer, sender_problem
from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.adapters.slack_feedback import SlackFeedback
from outropy_pipelines.adapters.slack_messenger import SlackMessenger, build_web_client
from outropy_pipelines.adapters.slack_source import SlackSource
from outropy_pipelines.adapters.slack_web_api_reader import SlackWebAPIReader
from outropy_pipelines.domain.delivery_plan import DeliveryPolicy, ReaderSchedule, parse_quiet_hours
from outropy_pipelines.domain.reader_feedback import (
    DEFAULT_NOT_USEFUL_REACTIONS,
    DEFAULT_USEFUL_REACTIONS,
    FeedbackPolicy,
    parse_names,
)
from outropy_pipelines.llm.base import LLMClient
from outropy_pipelines.llm.factory import build_provider
from outropy_pipelines.llm.pricing import parse_prices, price_for
from outropy_pipelines.stages.delivery import Transport
from outropy_pipelines.stages.feedback import FeedbackConfig
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.ducklake_store import DuckLakeStore


class StoreResource(ConfigurableResource):
    """The pipeline's DuckDB file (OUTROPY_DUCKDB_PATH), DuckDB's memory per connection capped; or,
    with `backend` "ducklake", a DuckLake (catalog in PostgreSQL, Parquet data files) several hosts
    write, the DuckDB file's folder then only holding local scratch files."""

    path: str
    memory_limit: str = "512MB"
    backend: str = "duckdb"  # duckdb | ducklake
    lake_catalog: str | None = None
    lake_data_path: str | None = None
    lake_password: str | None = None  # EnvVar("OUTROPY_DUCKLAKE_PASSWORD")

    def store(self) -> DuckDBStore:
        if self.backend == "duckdb":
            return DuckDBStore(self.path, memory_limit=self.memory_limit)
        if self.backend != "ducklake":
            raise ValueError(f"store backend must be duckdb or ducklake, not {self.backend!r}")
        if not self.lake_catalog or not self.lake_data_path:
            raise ValueError(
                "the ducklake store needs OUTROPY_DUCKLAKE_CATALOG and OUTROPY_DUCKLAKE_DATA_PATH"
            )
        return DuckLakeStore(
            self.lake_catalog,
            self.lake_data_path,
            scratch_dir=Path(self.path).parent,
            password=self.lake_password,
            memory_limit=self.memory_limit,
        )


class SlackSourceResource(ConfigurableResource):
    """Where Slack data comes from: an export directory (the default) or the live Web API
    (`mode` "auto": live when a bot token is configured; "export"/"live" force one)."""

    export_dir: str
    mode: str = "auto"  # auto | export | live
    bot_token: str | None = None  # EnvVar("SLACK_BOT_TOKEN")
    api_base_url: str = "https://slack.com/api/"
    thread_lookback_days: int = 14
    page_size: int = 200
    max_retries: int = 6
    #: who may see an export folder no conversation list names: "posters" (who posted in it) | "public"
    unlisted_folder_visibility: str = "posters"

    def is_live(self) -> bool:
        if self.mode not in ("auto", "export", "live"):
            raise ValueError(f"Slack source mode must be auto, export or live, not {self.mode!r}")
        return self.mode == "live" or (self.mode == "auto" and bool(self.bot_token))

    def source(self) -> SlackSource:
        """The configured source; both give the same rows for the same workspace."""
        if not self.is_live():
            return SlackExportReader(
                self.export_dir,
                unlisted_visibility="public" if self.unlisted_folder_visibility == "public" else "posters",
            )
        if not self.bot_token:
            raise ValueError("the live Slack source needs a bot token: set SLACK_BOT_TOKEN")
        return SlackWebAPIReader(
            self.bot_token,
            base_url=self.api_base_url,
            thread_lookback_days=self.thread_lookback_days,
            page_size=self.page_size,
            max_retries=self.max_retries,
        )

    def workspace_url(self) -> str | None:
        """The workspace URL as the source knows it (auth.test's `url` when live, else None)."""
        return self.source().workspace_url() if self.is_live() else None


class PipelineResource(ConfigurableResource):
    """How this deployment runs the stages: permalink base, where Markdown copies go, who is
    subscribed, how many worker processes a CPU-bound stage may use, and how many readers a
    briefing run covers."""

    #: None: the live workspace's URL (auth.test), else https://slack.com
    workspace_url: str | None = None
    briefings_dir: str | None = None
    subscriptions_file: str | None = None
    workers: int | None = None
    users_per_run: int = 1000

    def permalink_base(self, slack: SlackSourceResource) -> str:
        if self.workspace_url:
            return self.workspace_url.rstrip("/")
        return (slack.workspace_url() or "https://slack.com").rstrip("/")


class LLMResource(ConfigurableResource):
    """The LLM provider (`local` | `openai`) and its limits."""

    provider: str = "local"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None  # EnvVar("OPENAI_API_KEY")
    concurrency: int = 4
    max_tokens_per_run: int | None = None
    timeout_seconds: float = 60.0
    max_retries: int = 3
    temperature: float | None = None
    prices_json: str | None = None  # OUTROPY_LLM_PRICES (USD per 1M tokens), over the defaults

    def client(self, store: DuckDBStore | None, run_id: str | None = None) -> LLMClient:
        """A client for one day of one asset. With `run_id`, the token budget covers the whole run
        (earlier steps included, from the store's usage ledger) and its usage is recorded."""
        provider = build_provider(
            self.provider,
            model=self.model,
            base_url=self.base_url,
            api_key=self.api_key,
            timeout=self.timeout_seconds,
            max_retries=self.max_retries,
            temperature=self.temperature,
        )
        return LLMClient(
            provider,
            cache=store,
            concurrency=self.concurrency,
            max_tokens_per_run=self.max_tokens_per_run,
            price=price_for(provider.model, parse_prices(self.prices_json)),
            run_id=run_id,
            ledger=store,
        )


class SlackDeliveryResource(ConfigurableResource):
    """Delivery by Slack DM; on when a bot token is configured."""

    bot_token: str | None = None  # EnvVar("SLACK_BOT_TOKEN")
    api_base_url: str = "https://slack.com/api/"
    timeout_seconds: float = 10.0
    max_retry_after_seconds: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token)

    def problem(self) -> str | None:
        """Why no Slack delivery can be sent with this configuration, or None."""
        return None if self.bot_token else "no Slack bot token is configured (set SLACK_BOT_TOKEN)"

    def transport(self) -> Transport:
        if not self.bot_token:
            raise ValueError("Slack delivery needs a bot token: set SLACK_BOT_TOKEN")
        return SlackMessenger(
            build_web_client(
                self.bot_token, self.api_base_url, self.timeout_seconds, self.max_retry_after_seconds
            )
        )


class FeedbackResource(ConfigurableResource):
    """Readers' feedback on briefing lines (OUTROPY_FEEDBACK_*): Slack line replies and reactions,
    signed email links, and how far back feedback ranks a briefing."""

    slack_lines: bool = False
    useful_reactions: str = ",".join(DEFAULT_USEFUL_REACTIONS)
    not_useful_reactions: str = ",".join(DEFAULT_NOT_USEFUL_REACTIONS)
    read_days: int = 3
    window_days: int = 28
    url: str | None = None
    secret: str | None = None  # EnvVar("OUTROPY_FEEDBACK_SECRET")

    def policy(self) -> FeedbackPolicy:
        return FeedbackPolicy(window_days=self.window_days)

    def config(self) -> FeedbackConfig:
        return FeedbackConfig(
            slack_lines=self.slack_lines,
            useful_reactions=parse_names(self.useful_reactions, DEFAULT_USEFUL_REACTIONS),
            not_useful_reactions=parse_names(self.not_useful_reactions, DEFAULT_NOT_USEFUL_REACTIONS),
            read_days=self.read_days,
            url=self.url,
            secret=self.secret,
            policy=self.policy(),
        )

    def slack(self, delivery: "SlackDeliveryResource") -> SlackFeedback | None:
        """The Slack side of feedback when line replies are on and a bot token is configured."""
        if not (self.slack_lines and delivery.bot_token):
            return None
        return SlackFeedback(
            build_web_client(
                delivery.bot_token,
                delivery.api_base_url,
                delivery.timeout_seconds,
                delivery.max_retry_after_seconds,
            )
        )


class EmailDeliveryResource(ConfigurableResource):
    """Delivery by email over SMTP; on when an SMTP host is configured."""

    host: str | None = None
    port: int = 587
    user: str | None = None
    password: str | None = None  # EnvVar("SMTP_PASSWORD")
    sender: str | None = None
    starttls: bool = True
    ssl: bool = False
    timeout_seconds: float = 10.0
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def problem(self) -> str | None:
        """Why no email can be sent with this configuration, or None."""
        if not self.host:
            return "no SMTP server is configured (set SMTP_HOST)"
        return sender_problem(self.sender)

    def transport(self) -> Transport:
        if not self.host:
            raise ValueError("email delivery needs an SMTP server: set SMTP_HOST")
        return SmtpMailer(
            SmtpConfig(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password,
                sender=self.sender,
                starttls=self.starttls,
                ssl=self.ssl,
                timeout_seconds=self.timeout_seconds,
                unsubscribe_url=self.unsubscribe_url,
                unsubscribe_mailto=self.unsubscribe_mailto,
            )
        )


class DeliveryPolicyResource(ConfigurableResource):
    """Retries, crash recovery, batching and the age limit of delivery (OUTROPY_DELIVERY_*)."""

    max_attempts: int = 5
    backoff_seconds: float = 60.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 600.0
    resend_on_change: bool = False
    batch_size: int = 50
    #: the sensor's runs skip briefings older than this (so backfills do not flood inboxes); None: no limit
    max_age_days: int | None = 7
    #: each reader's morning (OUTROPY_DELIVERY_LOCAL_HOUR, OUTROPY_QUIET_HOURS,
    #: OUTROPY_WEEKEND_DELIVERY), in `timezone` for readers whose own zone is unknown
    local_hour: int = 8
    quiet_hours: str | None = None
    weekend: str = "deliver"
    timezone: str = "UTC"

    def schedule(self) -> ReaderSchedule:
        return ReaderSchedule(
            tz=self.timezone,
            hour=self.local_hour,
            quiet=parse_quiet_hours(self.quiet_hours),
            weekend=self.weekend,  # type: ignore[arg-type]
        )

    def policy(self, max_age_days: int | None, scheduled: bool = True) -> DeliveryPolicy:
        """The policy; `scheduled=False`: due whenever stored, ignoring readers' mornings (`outropy
        deliver --any-time`)."""
        return DeliveryPolicy(
            max_attempts=self.max_attempts,
            backoff_base_seconds=self.backoff_seconds,
            backoff_max_seconds=self.backoff_max_seconds,
            lease_seconds=self.lease_seconds,
            resend_on_change=self.resend_on_change,
            max_age_days=max_age_days,
            batch_size=self.batch_size,
            schedule=self.schedule() if scheduled else None,
        )
