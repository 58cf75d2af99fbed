"""Builds the configured LLM provider by name."""

from __future__ import annotations

from outropy_pipelines.llm.base import LLMProvider

PROVIDERS = ("local", "openai")


def build_provider(
    name: str,
    model: str | None = None,
    base_url: str | None = None,
    *,
    api_key: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    temperature: float | None = None,
) -> LLMProvider:
    """`local` (offline rules, the default) or `openai` (any OpenAI-compatible endpoint, with
    `api_key`: OPENAI_API_KEY through the Dagster resource)."""
    name = (name or "local").strip().lower()
    if name == "local":
        from outropy_pipelines.llm.local_provider import LocalProvider

        return LocalProvider()
    if name == "openai":
        from outropy_pipelines.llm.openai_provider import (
            DEFAULT_MAX_RETRIES,
            DEFAULT_TIMEOUT_SECONDS,
            OpenAIProvider,
        )

        return OpenAIProvider(
            model=model,
            base_url=base_url,
            api_key=api_key,
            timeout=DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout,
            max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
            temperature=temperature,
        )
    raise ValueError(f"unknown LLM provider {name!r}: expected one of {', '.join(PROVIDERS)}")
