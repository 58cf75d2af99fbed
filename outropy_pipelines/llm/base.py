"""The LLM interface the pipeline talks to, independent of any vendor.

`LLMProvider` turns one typed input into one typed output for a prompt. `LLMClient` wraps a
provider with what every caller needs: a content-addressed cache, bounded concurrency, a token
budget and per-call accounting. Assets only ever use `LLMClient.run_many`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

from outropy_pipelines.llm.prompts import Prompt

OutT = TypeVar("OutT", bound=BaseModel)


@dataclass(frozen=True)
class LLMUsage:
    input_tokens: int = 0
    output_tokens: int = 0


class LLMError(RuntimeError):
    """A call that failed for good (after retries); the caller records it and goes on."""


class LLMBudgetExceeded(RuntimeError):
    """The per-run token budget is spent; raised to stop the run with a clear message."""


class LLMProvider(ABC):
    """One way of answering prompts: `local` rules or a real model."""

    name: str = "abstract"
    model: str = "none"
    #: whether results are worth caching (false for free, deterministic providers)
    cacheable: bool = True

    @abstractmethod
    def complete(self, prompt: Prompt, payload: BaseModel, output_model: type[OutT]) -> tuple[OutT, LLMUsage]:
        """Answer one prompt; raise LLMError on a definitive failure."""


class LLMCache(Protocol):
    """Where finished calls are kept, keyed by content hash (DuckDB's `llm_calls`)."""

    def get_llm_calls(self, cache_keys: Sequence[str]) -> dict[str, str]:
        """Return {cache_key: response_json} for the keys that are cached."""
        ...

    def put_llm_calls(self, rows: Sequence[dict]) -> None:
        """Store finished calls: dicts with the columns of `llm_calls`."""
        ...


def canonical_json(model: BaseModel) -> str:
    return json.dumps(model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cache_key(provider: str, model: str, prompt_version: str, payload_json: str) -> str:
    h = hashlib.sha256()
    for part in (provider, model, prompt_version, payload_json):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


@dataclass
class LLMOutcome(Generic[OutT]):
    """The result of one call: `output` on success, `error` on failure."""

    output: OutT | None
    error: str | None = None
    cached: bool = False
    usage: LLMUsage = field(default_factory=LLMUsage)


@dataclass
class LLMStats:
    """Accounting for one asset materialization, reported as Dagster metadata."""

    requests: int = 0
    cache_hits: int = 0
    failures: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def as_metadata(self) -> dict[str, int]:
        return {
            "llm_requests": self.requests,
            "llm_cache_hits": self.cache_hits,
            "llm_failures": self.failures,
            "llm_input_tokens": self.input_tokens,
            "llm_output_tokens": self.output_tokens,
        }


class LLMClient:
    """Provider + cache + concurrency + budget."""

    def __init__(
        self,
        provider: LLMProvider,
        cache: LLMCache | None = None,
        concurrency: int = 4,
        max_tokens_per_run: int | None = None,
    ) -> None:
        self.provider = provider
        self.cache = cache
        self.concurrency = max(1, concurrency)
        self.max_tokens_per_run = max_tokens_per_run
        self.stats = LLMStats()
        self._lock = threading.Lock()

    @property
    def provider_name(self) -> str:
        return self.provider.name

    def _charge(self, usage: LLMUsage) -> None:
        with self._lock:
            self.stats.requests += 1
            self.stats.input_tokens += usage.input_tokens
            self.stats.output_tokens += usage.output_tokens
            spent = self.stats.input_tokens + self.stats.output_tokens
        if self.max_tokens_per_run is not None and spent > self.max_tokens_per_run:
            raise LLMBudgetExceeded(
                f"LLM token budget exceeded: {spent} tokens used, budget is {self.max_tokens_per_run} "
                "(OUTROPY_LLM_MAX_TOKENS_PER_RUN). Results obtained so far are cached; raise the budget "
                "and re-run to continue."
            )

    def run_many(
        self, prompt: Prompt, payloads: Sequence[BaseModel], output_model: type[OutT]
    ) -> list[LLMOutcome[OutT]]:
        """Answer many inputs of one prompt, in input order. Failures are outcomes, not exceptions;
        only an exhausted budget raises (after what was obtained has been cached)."""
        if not payloads:
            return []
        provider = self.provider
        outcomes: list[LLMOutcome[OutT] | None] = [None] * len(payloads)
        keys: list[str] = []
        if provider.cacheable and self.cache is not None:
            payload_jsons = [canonical_json(p) for p in payloads]
            keys = [cache_key(provider.name, provider.model, prompt.version, pj) for pj in payload_jsons]
            cached = self.cache.get_llm_calls(sorted(set(keys)))
            for i, key in enumerate(keys):
                if key in cached:
                    try:
                        outcomes[i] = LLMOutcome(output_model.model_validate_json(cached[key]), cached=True)
                    except ValueError:
                        outcomes[i] = None  # a stale or foreign cache row: pay again
            self.stats.cache_hits += sum(1 for o in outcomes if o is not None)

        todo = [i for i, o in enumerate(outcomes) if o is None]
        new_rows: list[dict] = []
        rows_lock = threading.Lock()

        def call(i: int) -> tuple[int, LLMOutcome[OutT]]:
            try:
                output, usage = provider.complete(prompt, payloads[i], output_model)
            except LLMError as exc:
                with self._lock:
                    self.stats.failures += 1
                return i, LLMOutcome(None, error=str(exc))
            self._charge(usage)
            if keys:
                with rows_lock:
                    new_rows.append(
                        {
                            "cache_key": keys[i],
                            "provider": provider.name,
                            "model": provider.model,
                            "prompt_version": prompt.version,
                            "input_tokens": usage.input_tokens,
                            "output_tokens": usage.output_tokens,
                            "response_json": output.model_dump_json(),
                        }
                    )
            return i, LLMOutcome(output, usage=usage)

        try:
            if self.concurrency == 1 or len(todo) <= 1:
                for i in todo:
                    _, outcomes[i] = call(i)
            else:
                with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                    for i, outcome in pool.map(call, todo):
                        outcomes[i] = outcome
        finally:
            if new_rows and self.cache is not None:
                self.cache.put_llm_calls(new_rows)
        return [o if o is not None else LLMOutcome(None, error="not run") for o in outcomes]
