"""The LLM interface the pipeline talks to, independent of any vendor.

`LLMProvider` turns one typed input into one typed output for a prompt. `LLMClient` wraps a
provider with what every caller needs: redaction of credentials (for providers that send data off
the machine), a content-addressed cache, bounded concurrency, a per-run token budget and per-call
accounting (tokens, requests, estimated cost). It implements the domain's contract
(`domain.contracts.ThreadClassifier` and `EntitySummariser`): each task is one prompt of
`llm.prompts` run through `run_many`.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel

from outropy_pipelines.domain.contracts import (
    ClassifyThreadInput,
    ClassifyThreadOutput,
    OutT,
    SummarizeEntityInput,
    SummarizeEntityOutput,
    TaskOutcome,
)
from outropy_pipelines.domain.redaction import redact, redact_model
from outropy_pipelines.llm.prompts import CLASSIFY_THREAD, SUMMARIZE_ENTITY, Prompt

if TYPE_CHECKING:
    from outropy_pipelines.llm.pricing import ModelPrice


@dataclass(frozen=True)
class LLMUsage:
    """What one call cost: tokens (from the API's usage, else counted), model answers received
    (`requests`: 2 when an invalid answer was retried) and HTTP attempts (SDK retries included)."""

    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 1
    http_attempts: int = 0

    def __add__(self, other: LLMUsage) -> LLMUsage:
        return LLMUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.requests + other.requests,
            self.http_attempts + other.http_attempts,
        )


class LLMError(RuntimeError):
    """A call that failed for good (after retries); the caller records it and goes on.

    `usage` is what the failed call still cost (answers that were paid but invalid)."""

    def __init__(self, message: str, usage: LLMUsage | None = None) -> None:
        super().__init__(message)
        self.usage = usage or LLMUsage(requests=0)


class LLMFatalError(RuntimeError):
    """A failure no other call can avoid (bad key, unknown model, unreachable server): stops the
    run with a clear message instead of recording every input as failed."""


class LLMBudgetExceeded(RuntimeError):
    """The per-run token budget is spent; raised to stop the run with a clear message."""


class LLMProvider(ABC):
    """One way of answering prompts: `local` rules or a real model."""

    name: str = "abstract"
    model: str = "none"
    #: whether results are worth caching (false for free, deterministic providers)
    cacheable: bool = True
    #: whether payloads leave the machine: if so, the client redacts credentials before sending
    sends_data_off_machine: bool = True
    #: whether calls cost money: only billable tokens count against the run's token budget
    billable: bool = True
    #: whether calls gain from running in parallel (they wait on a server); false for CPU-bound
    #: local work, which threads only slow down (the GIL): the client then calls it in order
    parallel: bool = True

    @property
    def cache_namespace(self) -> str:
        """The provider part of the cache key (e.g. the provider plus its endpoint)."""
        return self.name

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


@runtime_checkable
class LLMLedger(Protocol):
    """Where billable usage is recorded per Dagster run (DuckDB's `llm_run_usage`), so that the
    token budget holds for a whole run, across its steps and processes."""

    def llm_tokens_spent_in_run(self, run_id: str) -> int: ...

    def record_llm_usage(self, rows: Sequence[dict]) -> None: ...


def canonical_json(model: BaseModel) -> str:
    return json.dumps(
        model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def cache_key(provider: str, model: str, prompt_version: str, payload_json: str) -> str:
    h = hashlib.sha256()
    for part in (provider, model, prompt_version, payload_json):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


@dataclass
class LLMOutcome(TaskOutcome[OutT]):
    """The result of one call: `output` on success, `error` on failure, and what it cost."""

    usage: LLMUsage = field(default_factory=LLMUsage)


@dataclass
class LLMStats:
    """Accounting for one asset materialization, reported as Dagster metadata."""

    requests: int = 0
    cache_hits: int = 0
    failures: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    http_attempts: int = 0
    cost_usd: float | None = None  # None: no price known for the model

    def add(self, other: LLMStats) -> None:
        """Add the accounting of another client of the same provider (a worker process's)."""
        self.requests += other.requests
        self.cache_hits += other.cache_hits
        self.failures += other.failures
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.http_attempts += other.http_attempts
        if self.cost_usd is not None and other.cost_usd is not None:
            self.cost_usd += other.cost_usd

    def as_metadata(self) -> dict[str, int | float]:
        metadata: dict[str, int | float] = {
            "llm_requests": self.requests,
            "llm_cache_hits": self.cache_hits,
            "llm_failures": self.failures,
            "llm_input_tokens": self.input_tokens,
            "llm_output_tokens": self.output_tokens,
            "llm_http_attempts": self.http_attempts,
        }
        if self.cost_usd is not None:
            metadata["llm_estimated_cost_usd"] = round(self.cost_usd, 6)
        return metadata


@contextlib.contextmanager
def _fewer_young_collections(threshold: int = 10_000) -> Iterator[None]:
    """Collect the youngest generation every `threshold` allocations instead of every 700 while
    rules run in a loop: they make many short-lived objects next to a large heap of long-lived ones
    (a day's threads), and each collection that reaches the old generations walks that whole heap.
    Nothing is left uncollected; collections only come less often (scripts/bench_local_classifier.py
    measures the difference)."""
    before = gc.get_threshold()
    gc.set_threshold(max(threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


class LLMClient:
    """Provider + redaction + cache + concurrency + budget + accounting.

    - Payloads for a provider that `sends_data_off_machine` are redacted (credentials replaced)
      before anything else: the cache key and the request are computed from the redacted text.
    - Cache: key = sha256(provider namespace, model, prompt version, canonical JSON input). Cached
      inputs cost no request; a changed prompt version or model re-pays only its own calls.
    - Budget: `max_tokens_per_run` counts billable tokens of this client plus `tokens_spent_before`
      (what earlier steps of the same run spent, from the ledger). Once crossed, no new call starts,
      calls already answered are cached, and `run_many` raises LLMBudgetExceeded.
    - A provider's LLMFatalError stops the same way; an LLMError is one failed outcome.
    """

    def __init__(
        self,
        provider: LLMProvider,
        cache: LLMCache | None = None,
        concurrency: int = 4,
        max_tokens_per_run: int | None = None,
        *,
        price: ModelPrice | None = None,
        run_id: str | None = None,
        ledger: LLMLedger | None = None,
        tokens_spent_before: int | None = None,
    ) -> None:
        self.provider = provider
        self.cache = cache
        self.concurrency = max(1, concurrency)
        self.max_tokens_per_run = max_tokens_per_run
        self.price = price
        self.run_id = run_id
        self.ledger = ledger if (ledger is not None and run_id and provider.billable) else None
        if tokens_spent_before is None:
            tokens_spent_before = self.ledger.llm_tokens_spent_in_run(run_id) if self.ledger and run_id else 0
        self.tokens_spent_before = tokens_spent_before
        self.stats = LLMStats(cost_usd=0.0 if price is not None or not provider.billable else None)
        self._lock = threading.Lock()

    @property
    def provider_name(self) -> str:
        return self.provider.name

    # -- the domain's contract ------------------------------------------------------------------
    @property
    def classify_prompt_version(self) -> str:
        return CLASSIFY_THREAD.version

    def classify_threads(
        self, inputs: Sequence[ClassifyThreadInput]
    ) -> list[LLMOutcome[ClassifyThreadOutput]]:
        """`domain.contracts.ThreadClassifier`: one CLASSIFY_THREAD call per input."""
        return self.run_many(CLASSIFY_THREAD, inputs, ClassifyThreadOutput)

    def summarize_entities(
        self, inputs: Sequence[SummarizeEntityInput]
    ) -> list[LLMOutcome[SummarizeEntityOutput]]:
        """`domain.contracts.EntitySummariser`: one SUMMARIZE_ENTITY call per input."""
        return self.run_many(SUMMARIZE_ENTITY, inputs, SummarizeEntityOutput)

    def metadata(self) -> dict[str, str | int | float]:
        """Dagster metadata of this client's work: provider, model, price and the stats."""
        meta: dict[str, str | int | float] = {
            "llm_provider": self.provider.name,
            "llm_model": self.provider.model,
        }
        meta.update(self.stats.as_metadata())
        if self.provider.billable:
            meta["llm_price"] = self.price.describe() if self.price else "unknown: set OUTROPY_LLM_PRICES"
            if self.max_tokens_per_run is not None:
                meta["llm_run_budget_tokens"] = self.max_tokens_per_run
                meta["llm_run_tokens_spent"] = self.tokens_spent_in_run
        return meta

    @property
    def tokens_spent_in_run(self) -> int:
        """Billable tokens of the run so far: earlier steps (ledger) plus this client."""
        mine = self.stats.input_tokens + self.stats.output_tokens if self.provider.billable else 0
        return self.tokens_spent_before + mine

    def _over_budget(self) -> bool:
        return self.max_tokens_per_run is not None and self.tokens_spent_in_run >= self.max_tokens_per_run

    def _budget_error(self) -> LLMBudgetExceeded:
        run = f" of run {self.run_id}" if self.run_id else ""
        return LLMBudgetExceeded(
            f"LLM token budget exceeded: {self.tokens_spent_in_run} tokens used{run}, budget is "
            f"{self.max_tokens_per_run} (OUTROPY_LLM_MAX_TOKENS_PER_RUN). Results obtained so far are "
            "cached; raise the budget and re-run to continue (cached calls cost nothing)."
        )

    def _charge(self, usage: LLMUsage, failed: bool = False) -> None:
        with self._lock:
            self.stats.requests += usage.requests
            self.stats.http_attempts += usage.http_attempts
            self.stats.input_tokens += usage.input_tokens
            self.stats.output_tokens += usage.output_tokens
            if failed:
                self.stats.failures += 1
            if self.price is not None and self.stats.cost_usd is not None:
                self.stats.cost_usd += self.price.cost(usage.input_tokens, usage.output_tokens)

    def run_many(
        self, prompt: Prompt, payloads: Sequence[BaseModel], output_model: type[OutT]
    ) -> list[LLMOutcome[OutT]]:
        """Answer many inputs of one prompt, in input order. Failures are outcomes, not exceptions;
        an exhausted budget or a fatal provider error raises, after what was obtained is cached."""
        if not payloads:
            return []
        provider = self.provider
        if provider.sends_data_off_machine:
            payloads = [redact_model(p) for p in payloads]
        outcomes: list[LLMOutcome[OutT] | None] = [None] * len(payloads)
        keys: list[str] = []
        if provider.cacheable and self.cache is not None:
            keys = [
                cache_key(provider.cache_namespace, provider.model, prompt.version, canonical_json(p))
                for p in payloads
            ]
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
        stop = threading.Event()
        stopped_by: list[BaseException] = []
        before = (self.stats.requests, self.stats.failures, self.stats.input_tokens, self.stats.output_tokens)
        cost_before = self.stats.cost_usd or 0.0
        hits = len(payloads) - len(todo)

        def halt(exc: BaseException) -> None:
            with self._lock:
                if not stopped_by:
                    stopped_by.append(exc)
            stop.set()

        def call(i: int) -> tuple[int, LLMOutcome[OutT]]:
            if stop.is_set():
                return i, LLMOutcome(None, error="not run: the run was stopped")
            if self._over_budget():
                halt(self._budget_error())
                return i, LLMOutcome(None, error="not run: token budget exceeded")
            try:
                output, usage = provider.complete(prompt, payloads[i], output_model)
            except LLMError as exc:
                self._charge(exc.usage, failed=True)
                if self._over_budget():
                    halt(self._budget_error())
                return i, LLMOutcome(None, error=redact(str(exc)), usage=exc.usage)
            except LLMFatalError as exc:
                halt(exc)
                return i, LLMOutcome(None, error=redact(str(exc)))
            if keys:  # cache first: what was paid is kept even if this call crosses the budget
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
            self._charge(usage)
            if self._over_budget():
                halt(self._budget_error())
            return i, LLMOutcome(output, usage=usage)

        try:
            if not provider.parallel:  # CPU-bound rules in this thread
                with _fewer_young_collections():
                    for i in todo:
                        _, outcomes[i] = call(i)
            elif self.concurrency == 1 or len(todo) <= 1:
                for i in todo:
                    _, outcomes[i] = call(i)
            else:
                with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                    for i, outcome in pool.map(call, todo):
                        outcomes[i] = outcome
        finally:
            if new_rows and self.cache is not None:
                self.cache.put_llm_calls(new_rows)
            if self.ledger is not None and self.run_id and (todo or hits):
                self.ledger.record_llm_usage(
                    [
                        {
                            "run_id": self.run_id,
                            "prompt_version": prompt.version,
                            "provider": provider.name,
                            "model": provider.model,
                            "requests": self.stats.requests - before[0],
                            "cache_hits": hits,
                            "failures": self.stats.failures - before[1],
                            "input_tokens": self.stats.input_tokens - before[2],
                            "output_tokens": self.stats.output_tokens - before[3],
                            "cost_usd": (self.stats.cost_usd - cost_before)
                            if self.stats.cost_usd is not None
                            else None,
                        }
                    ]
                )
        if stopped_by:
            raise stopped_by[0]
        return [o if o is not None else LLMOutcome(None, error="not run") for o in outcomes]
