"""Settings read from environment variables, with working offline defaults.

Secrets (API keys, bot tokens, SMTP passwords) are read here but never logged or persisted: their
`repr` is masked by pydantic's SecretStr.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, SecretStr

# Used when OUTROPY_SUBSCRIPTIONS_FILE is unset and this file exists (relative to the current directory).
DEFAULT_SUBSCRIPTIONS_FILE = "data/subscriptions.yaml"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


class Settings(BaseModel):
    """Everything configurable, resolved once from the environment."""

    duckdb_path: Path
    slack_export: Path
    timezone: str = "UTC"
    start_date: str | None = None
    llm_provider: str = "local"
    llm_model: str | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    workspace_url: str = "https://slack.com"
    subscriptions_file: Path | None = None
    briefings_dir: Path
    # Slack source: "auto" = the Web API when SLACK_BOT_TOKEN is set, else the export directory.
    # The token itself is not a setting: the source reads it from the environment when it connects.
    slack_source: str = "auto"  # OUTROPY_SLACK_SOURCE: auto | export | live
    slack_api_base_url: str | None = None  # SLACK_API_BASE_URL (default https://slack.com/api/)
    slack_thread_lookback_days: int = 14  # OUTROPY_SLACK_THREAD_LOOKBACK_DAYS

    @property
    def data_dir(self) -> Path:
        return self.duckdb_path.parent

    @property
    def slack_is_live(self) -> bool:
        """Whether Slack data comes from the Web API (same rule as SlackSourceResource.is_live)."""
        return self.slack_source == "live" or (self.slack_source == "auto" and bool(_env("SLACK_BOT_TOKEN")))

    @property
    def workspace_url_is_set(self) -> bool:
        """Whether workspace_url was given (OUTROPY_SLACK_WORKSPACE_URL); when it was not, the live
        Slack source takes the workspace URL of permalinks from auth.test."""
        return "workspace_url" in self.model_fields_set


def load_settings() -> Settings:
    """Read settings from the environment. Relative paths resolve against the current directory."""
    duckdb_path = Path(_env("OUTROPY_DUCKDB_PATH", "data/outropy.duckdb")).expanduser().resolve()
    subscriptions = _env("OUTROPY_SUBSCRIPTIONS_FILE")
    if subscriptions is None and Path(DEFAULT_SUBSCRIPTIONS_FILE).is_file():
        subscriptions = DEFAULT_SUBSCRIPTIONS_FILE
    key = _env("OPENAI_API_KEY")
    workspace_url = _env("OUTROPY_SLACK_WORKSPACE_URL")
    return Settings(
        duckdb_path=duckdb_path,
        slack_export=Path(_env("OUTROPY_SLACK_EXPORT", "data/sample_export")).expanduser().resolve(),
        timezone=_env("OUTROPY_TIMEZONE", "UTC"),
        start_date=_env("OUTROPY_START_DATE"),
        llm_provider=_env("OUTROPY_LLM_PROVIDER", "local"),
        llm_model=_env("OUTROPY_LLM_MODEL"),
        openai_api_key=SecretStr(key) if key else None,
        openai_base_url=_env("OPENAI_BASE_URL"),
        **({"workspace_url": workspace_url.rstrip("/")} if workspace_url else {}),
        slack_source=_env("OUTROPY_SLACK_SOURCE", "auto").lower(),
        slack_api_base_url=_env("SLACK_API_BASE_URL"),
        slack_thread_lookback_days=int(_env("OUTROPY_SLACK_THREAD_LOOKBACK_DAYS", "14")),
        subscriptions_file=Path(subscriptions).expanduser().resolve() if subscriptions else None,
        briefings_dir=Path(_env("OUTROPY_BRIEFINGS_DIR", str(duckdb_path.parent / "briefings")))
        .expanduser()
        .resolve(),
    )


def _bool_env(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _int_or_none(name: str, default: int | None) -> int | None:
    value = _env(name)
    return int(value) if value is not None else default


class DeliverySettings(BaseModel):
    """Where and how briefings are delivered (Slack DM, email), read from the environment.

    Secrets are not fields: the Slack bot token (SLACK_BOT_TOKEN) and the SMTP password
    (SMTP_PASSWORD) are read from the environment by the adapters when they connect, so they never
    reach Dagster config, logs or DuckDB. A channel is enabled when it is configured: Slack when
    SLACK_BOT_TOKEN is set, email when SMTP_HOST is set.
    """

    slack_api_base_url: str = "https://slack.com/api/"
    slack_timeout_seconds: float = 10.0
    slack_max_retry_after_seconds: float = 10.0  # longer Retry-After: retried on a later tick
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = 10.0
    unsubscribe_url: str | None = None  # may contain {user_id}
    unsubscribe_mailto: str | None = None
    max_attempts: int = 5
    backoff_base_seconds: float = 60.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 600.0
    resend_on_change: bool = False
    sensor_max_age_days: int | None = 7
    batch_size: int = 50
    sensor_time_budget_seconds: float = 25.0
    sensor_interval_seconds: int = 60


def load_delivery_settings() -> DeliverySettings:
    base = _env("SLACK_API_BASE_URL", "https://slack.com/api/")
    max_age = _int_or_none("OUTROPY_DELIVERY_MAX_AGE_DAYS", 7)
    return DeliverySettings(
        slack_api_base_url=base.rstrip("/") + "/",
        smtp_host=_env("SMTP_HOST"),
        smtp_port=int(_env("SMTP_PORT", "587")),
        smtp_user=_env("SMTP_USER"),
        smtp_from=_env("SMTP_FROM"),
        smtp_starttls=_bool_env("SMTP_STARTTLS", True),
        smtp_ssl=_bool_env("SMTP_SSL", False),
        unsubscribe_url=_env("OUTROPY_UNSUBSCRIBE_URL"),
        unsubscribe_mailto=_env("OUTROPY_UNSUBSCRIBE_MAILTO"),
        max_attempts=int(_env("OUTROPY_DELIVERY_MAX_ATTEMPTS", "5")),
        backoff_base_seconds=float(_env("OUTROPY_DELIVERY_BACKOFF_SECONDS", "60")),
        backoff_max_seconds=float(_env("OUTROPY_DELIVERY_BACKOFF_MAX_SECONDS", "3600")),
        lease_seconds=float(_env("OUTROPY_DELIVERY_LEASE_SECONDS", "600")),
        resend_on_change=_bool_env("OUTROPY_RESEND_ON_CHANGE", False),
        sensor_max_age_days=max_age if max_age and max_age > 0 else None,
        batch_size=int(_env("OUTROPY_DELIVERY_BATCH_SIZE", "50")),
        sensor_time_budget_seconds=float(_env("OUTROPY_DELIVERY_TICK_BUDGET_SECONDS", "25")),
        sensor_interval_seconds=int(_env("OUTROPY_DELIVERY_SENSOR_INTERVAL_SECONDS", "60")),
    )
