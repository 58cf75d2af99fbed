"""The README's configuration tables list exactly the environment variables the settings read."""

from __future__ import annotations

import re

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from outropy_pipelines.settings import Settings
from outropy_pipelines_tests.conftest import REPO

#: variables the configuration tables may list although `Settings` does not read them, because
#: they are part of a deployment recipe rather than read by us (none today)
DOCUMENTED_NOT_READ: set[str] = set()


def env_names(cls: type[BaseSettings]) -> set[str]:
    """Every environment variable a settings class reads: `env_prefix` + field name, or the
    field's alias(es), which pydantic-settings uses as they are; nested settings by their own."""
    prefix = cls.model_config.get("env_prefix", "")
    names: set[str] = set()
    for name, field in cls.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings):
            names |= env_names(field.annotation)
            continue
        alias = field.validation_alias or field.alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def documented_names() -> set[str]:
    """The variables in the first column of the tables of the README's Configuration section."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, flags=re.MULTILINE))


def test_the_derived_names_are_the_ones_the_settings_read(monkeypatch):
    names = env_names(Settings)
    assert "OUTROPY_LLM" not in names and "OUTROPY_SLACK_BOT_TOKEN" not in names
    # a prefix, an alias, a nested prefix, a nested alias: each derived name reaches its field
    for name, value, read in (
        ("OUTROPY_DAYS_PER_RUN", "3", lambda s: s.days_per_run == 3),
        ("DAGSTER_HOME", "/tmp/dh", lambda s: str(s.dagster_home) == "/tmp/dh"),
        ("OUTROPY_LLM_MODEL", "m1", lambda s: s.llm.model == "m1"),
        ("SMTP_FROM", "a@b.c", lambda s: s.smtp.sender == "a@b.c"),
        ("OUTROPY_DELIVERY_SLACK_TIMEOUT_SECONDS", "3", lambda s: s.delivery.slack_timeout_seconds == 3),
        ("OUTROPY_RESEND_ON_CHANGE", "true", lambda s: s.delivery.resend_on_change is True),
    ):
        assert name in names
        assert not read(Settings()), name
        monkeypatch.setenv(name, value)
        assert read(Settings()), name


def test_every_setting_read_is_documented_and_every_documented_one_is_read():
    read, documented = env_names(Settings), documented_names()
    assert len(documented) > 30, "the README's configuration tables were not found"
    assert not read - documented, (
        f"read but not in the README's configuration tables: {sorted(read - documented)}"
    )
    stale = documented - read - DOCUMENTED_NOT_READ
    assert not stale, f"in the README's configuration tables but read by nothing: {sorted(stale)}"
