"""Settings read from environment variables, with working offline defaults.

Secrets (API keys, bot tokens, SMTP passwords) are read here but never logged or persisted: their
`repr` is masked by pydantic's SecretStr.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, SecretStr


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

    @property
    def data_dir(self) -> Path:
        return self.duckdb_path.parent


def load_settings() -> Settings:
    """Read settings from the environment. Relative paths resolve against the current directory."""
    duckdb_path = Path(_env("OUTROPY_DUCKDB_PATH", "data/outropy.duckdb")).expanduser().resolve()
    subscriptions = _env("OUTROPY_SUBSCRIPTIONS_FILE")
    key = _env("OPENAI_API_KEY")
    return Settings(
        duckdb_path=duckdb_path,
        slack_export=Path(_env("OUTROPY_SLACK_EXPORT", "data/sample_export")).expanduser().resolve(),
        timezone=_env("OUTROPY_TIMEZONE", "UTC"),
        start_date=_env("OUTROPY_START_DATE"),
        llm_provider=_env("OUTROPY_LLM_PROVIDER", "local"),
        llm_model=_env("OUTROPY_LLM_MODEL"),
        openai_api_key=SecretStr(key) if key else None,
        openai_base_url=_env("OPENAI_BASE_URL"),
        workspace_url=_env("OUTROPY_SLACK_WORKSPACE_URL", "https://slack.com").rstrip("/"),
        subscriptions_file=Path(subscriptions).expanduser().resolve() if subscriptions else None,
        briefings_dir=Path(_env("OUTROPY_BRIEFINGS_DIR", str(duckdb_path.parent / "briefings")))
        .expanduser()
        .resolve(),
    )
