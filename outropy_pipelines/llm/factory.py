"""Builds the configured LLM provider by name. Keys come from the environment only."""

from __future__ import annotations

from outropy_pipelines.llm.base import LLMProvider

PROVIDERS = ("local", "openai")


def build_provider(name: str, model: str | None = None, base_url: str | None = None) -> LLMProvider:
    name = (name or "local").strip().lower()
    if name == "local":
        from outropy_pipelines.llm.local_provider import LocalProvider

        return LocalProvider()
    if name == "openai":
        raise ValueError(
            "OUTROPY_LLM_PROVIDER=openai is not available yet in this version; use 'local' (the default)"
        )
    raise ValueError(f"unknown LLM provider {name!r}: expected one of {', '.join(PROVIDERS)}")
