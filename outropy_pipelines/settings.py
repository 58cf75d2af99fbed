"""Every setting of outropy-pipelines in one typed object, read from the environment.

This is the only code that reads our settings from the environment. `Settings()` reads it once;
the Dagster definitions, the CLI and the benchmarks hand the values on to resources and stages as
arguments. (Elsewhere the package reads only library variables: the BLAS thread counts it defaults
in `outropy_pipelines/__init__.py`, tiktoken's cache folders in `llm/token_count.py`; the README
documents them, and `test_settings_documented.py` finds every variable read by name.)
Environment variables keep their documented names: `OUTROPY_*` for our own settings, and the
names the ecosystem uses for the rest (`SLACK_BOT_TOKEN`, `SLACK_API_BASE_URL`, `OPENAI_API_KEY`,
`OPENAI_BASE_URL`, `SMTP_*`, `DAGSTER_HOME`). An empty variable counts as unset.

Secrets (`SLACK_BOT_TOKEN`, `OPENAI_API_KEY`, `SMTP_PASSWORD`, `OUTROPY_FEEDBACK_SECRET`) are `SecretStr`: their repr is
masked, and they are never handed to Dagster as values. The definitions only look at whether a
secret is set, and give the resource an `EnvVar` naming the variable, so the UI shows the
variable's name and Dagster reads the value when the run starts.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from outropy_pipelines.domain.delivery_plan import parse_quiet_hours
from outropy_pipelines.llm.pricing import parse_prices

#: the first daily partition unless OUTROPY_START_DATE says otherwise: early enough for the exports
#: and live workspaces we meet (the oldest real export we develop on starts in November 2020), late
#: enough that the partition range stays small for the UI; an export that starts earlier needs
#: OUTROPY_START_DATE, and `outropy run` says so
DEFAULT_START_DATE = dt.date(2020, 1, 1)
#: used when OUTROPY_SUBSCRIPTIONS_FILE is unset and this file exists (relative to the current directory)
DEFAULT_SUBSCRIPTIONS_FILE = Path("data/subscriptions.yaml")
DEFAULT_SLACK_API_BASE_URL = "https://slack.com/api/"
DEFAULT_WORKSPACE_URL = "https://slack.com"


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix, env_ignore_empty=True, populate_by_name=True, extra="ignore", frozen=True
    )


def _resolved(path: Path | None) -> Path | None:
    return path.expanduser().resolve() if path is not None else None


class LLMSettings(BaseSettings):
    """The LLM provider and its limits (OUTROPY_LLM_*, OPENAI_API_KEY, OPENAI_BASE_URL)."""

    model_config = _config("OUTROPY_LLM_")

    provider: Literal["local", "openai"] = "local"
    model: str | None = None
    timeout_seconds: float = Field(60.0, gt=0)
    max_retries: int = Field(3, ge=0)
    temperature: float | None = None
    #: JSON price table in USD per 1M tokens, over the defaults (validated here, parsed by llm.pricing)
    prices: str | None = None
    concurrency: int = Field(4, ge=1)
    max_tokens_per_run: int | None = Field(None, ge=1)
    openai_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=AliasChoices("OPENAI_BASE_URL"))

    @field_validator("provider", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("prices")
    @classmethod
    def _valid_prices(cls, value: str | None) -> str | None:
        parse_prices(value)  # a typo fails when the settings load, with the expected format
        return value.strip() if value and value.strip() else None


class SmtpSettings(BaseSettings):
    """The SMTP server for email delivery (SMTP_*); email is on when SMTP_HOST is set."""

    model_config = _config("SMTP_")

    host: str | None = None
    port: int = Field(587, gt=0, lt=65536)
    user: str | None = None
    password: SecretStr | None = None
    sender: str | None = Field(None, validation_alias=AliasChoices("SMTP_FROM"))
    starttls: bool = True
    ssl: bool = False
    timeout_seconds: float = Field(10.0, gt=0)


class DeliverySettings(BaseSettings):
    """How briefings are delivered (OUTROPY_DELIVERY_*, OUTROPY_RESEND_ON_CHANGE, OUTROPY_UNSUBSCRIBE_*)."""

    model_config = _config("OUTROPY_DELIVERY_")

    max_attempts: int = Field(5, ge=1)
    backoff_seconds: float = Field(60.0, ge=0)
    backoff_max_seconds: float = Field(3600.0, ge=0)
    lease_seconds: float = Field(600.0, gt=0)
    #: the sensor skips briefings older than this many days (so backfills do not flood inboxes); 0: no limit
    max_age_days: int = Field(7, ge=0)
    batch_size: int = Field(50, ge=1)
    sensor_interval_seconds: int = Field(60, ge=1)
    slack_timeout_seconds: float = Field(10.0, gt=0)
    #: a longer Retry-After is not waited out: the delivery is retried later
    slack_max_retry_after_seconds: float = Field(10.0, ge=0)
    resend_on_change: bool = Field(False, validation_alias=AliasChoices("OUTROPY_RESEND_ON_CHANGE"))
    unsubscribe_url: str | None = Field(None, validation_alias=AliasChoices("OUTROPY_UNSUBSCRIBE_URL"))
    unsubscribe_mailto: str | None = Field(None, validation_alias=AliasChoices("OUTROPY_UNSUBSCRIBE_MAILTO"))
    #: each reader's morning: the briefing of day D is due from this hour (0-23) on D + 1, in the
    #: reader's own time zone (the directory's `tz`; without one, OUTROPY_TIMEZONE)
    local_hour: int = Field(8, ge=0, le=23)
    #: local hours with no delivery at all, "start-end" (e.g. "21-07"); unset or "off": none
    quiet_hours: str | None = Field(None, validation_alias=AliasChoices("OUTROPY_QUIET_HOURS"))
    #: a briefing whose morning is the reader's Saturday or Sunday: deliver | monday | skip
    weekend: Literal["deliver", "monday", "skip"] = Field(
        "deliver", validation_alias=AliasChoices("OUTROPY_WEEKEND_DELIVERY")
    )

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str | None) -> str | None:
        return None if parse_quiet_hours(value) is None else str(value).strip()

    @field_validator("weekend", mode="before")
    @classmethod
    def _weekend(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class FeedbackSettings(BaseSettings):
    """Readers' feedback on briefing lines (OUTROPY_FEEDBACK_*): Slack reactions, email links, ranking."""

    model_config = _config("OUTROPY_FEEDBACK_")

    #: post each line of a DM briefing as a reply in its thread, so a reader can react to one line
    slack_lines: bool = False
    #: reaction names that mean "useful" / "not useful" (comma-separated; skin tones ignored)
    useful_reactions: str = "+1,thumbsup"
    not_useful_reactions: str = "-1,thumbsdown"
    #: reactions are read back on the briefings of this many days before the run's day
    read_days: int = Field(3, ge=0)
    #: the feedback of this many days before a briefing's day ranks it
    window_days: int = Field(28, ge=1)
    #: the public base URL of `outropy feedback serve` (e.g. https://briefings.example.com); unset: no email links
    url: str | None = None
    #: signs the email links (HMAC); secret, environment only
    secret: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.strip().lower().startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, not {value!r}")
        return value.strip().rstrip("/") if value else None


class Settings(BaseSettings):
    """Everything configurable (OUTROPY_* and the ecosystem's own variable names)."""

    model_config = _config("OUTROPY_")

    duckdb_path: Path = Path("data/outropy.duckdb")
    #: DuckDB's memory per connection; bigger sorts, joins and inserts spill to disk
    duckdb_memory_limit: str = "512MB"
    slack_export: Path = Path("data/sample_export")
    #: the workspace time zone: what a "day" is
    timezone: str = "UTC"
    start_date: dt.date = DEFAULT_START_DATE
    slack_workspace_url: str | None = None
    slack_source: Literal["auto", "export", "live"] = "auto"
    slack_thread_lookback_days: int = Field(14, ge=1)
    #: who may see the messages of an export folder no conversation list names: the people who
    #: posted in it (a private conversation of theirs), or everyone (a public channel)
    unlisted_folder_visibility: Literal["posters", "public"] = "posters"
    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    slack_api_base_url: str = Field(
        DEFAULT_SLACK_API_BASE_URL, validation_alias=AliasChoices("SLACK_API_BASE_URL")
    )
    subscriptions_file: Path | None = Field(None, validate_default=True)
    briefings_dir: Path | None = Field(None, validate_default=True)
    briefing_users_per_run: int = Field(1000, ge=1)
    days_per_run: int = Field(7, ge=1)
    #: processes a CPU-bound stage may use; unset: the CPUs this process may run on
    workers: int | None = Field(None, ge=1)
    log_level: str = "WARNING"
    #: minimum time between ticks of the sensor that fails runs whose process died
    run_monitor_interval_seconds: int = Field(60, ge=1)
    dagster_home: Path | None = Field(None, validation_alias=AliasChoices("DAGSTER_HOME"))
    #: where a run's steps execute: processes of the run worker (default), Celery workers on other
    #: hosts, Kubernetes jobs or Docker containers (README, "Running at scale")
    executor: Literal["multiprocess", "celery", "k8s", "docker"] = "multiprocess"
    #: where the tables live: the DuckDB file (default) or a DuckLake several hosts write
    store_backend: Literal["duckdb", "ducklake"] = "duckdb"
    #: DuckLake catalog: a libpq connection string without the password, e.g.
    #: "dbname=outropy_lake host=pg.internal port=5432 user=outropy"
    ducklake_catalog: str | None = None
    #: DuckLake data files: a folder every host mounts, or an object storage path (s3://...)
    ducklake_data_path: str | None = None
    ducklake_password: SecretStr | None = None

    llm: LLMSettings = Field(default_factory=LLMSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)

    @field_validator("slack_source", "unlisted_folder_visibility", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Berlin)") from None
        return value

    @field_validator("slack_workspace_url", "slack_api_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return value.strip() if value else None

    @field_validator("duckdb_path", "slack_export", "dagster_home")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        """Relative paths resolve against the current directory."""
        return _resolved(value)

    @field_validator("briefings_dir")
    @classmethod
    def _briefings_dir(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """Default: `briefings/` beside the DuckDB file."""
        if value is None and "duckdb_path" in info.data:
            value = info.data["duckdb_path"].parent / "briefings"
        return _resolved(value)

    @field_validator("subscriptions_file")
    @classmethod
    def _subscriptions_file(cls, value: Path | None) -> Path | None:
        """Default: data/subscriptions.yaml when that file exists, else none (everyone human by Slack)."""
        if value is None and DEFAULT_SUBSCRIPTIONS_FILE.is_file():
            value = DEFAULT_SUBSCRIPTIONS_FILE
        return _resolved(value)

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    # -- derived -------------------------------------------------------------------------------
    @property
    def slack_is_live(self) -> bool:
        """Slack data comes from the Web API: `live`, or `auto` with a bot token set."""
        return self.slack_source == "live" or (
            self.slack_source == "auto" and self.slack_bot_token is not None
        )

    @property
    def workspace_url(self) -> str:
        """Base of permalinks: OUTROPY_SLACK_WORKSPACE_URL, else https://slack.com (a live source
        uses auth.test's URL instead when the variable is not set)."""
        return (self.slack_workspace_url or DEFAULT_WORKSPACE_URL).rstrip("/")

    @property
    def slack_api_url(self) -> str:
        """The Web API root with the trailing slash slack-sdk needs."""
        return self.slack_api_base_url.rstrip("/") + "/"


@functools.cache
def get_settings() -> Settings:
    """The settings as this process's environment gave them when first asked (what the Dagster
    definitions load with). Code that needs other values builds its own `Settings(...)`."""
    return Settings()
