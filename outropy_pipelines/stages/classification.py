"""Stage: one day of typed items (`items`, `item_sources`, `llm_failures`) from its threads.

Threads are read from the store and classified a chunk of whole channels at a time (about
`CHUNK_MESSAGES` messages), item rows spilled to Parquet and written in one transaction at the end:
a day of a million messages never sits in memory as Python objects. A provider that answers on this machine's CPU and keeps no cache (the `local` one) classifies a big
day in worker processes (OUTROPY_WORKERS), one share of the channels each, as the threads stage
builds them: threads are classified independently, so the items are the same whatever the number
of workers. A provider that waits on a server runs here, with the client's thread concurrency,
cache and token budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from outropy_pipelines.domain.classification import classify_thread_parts
from outropy_pipelines.domain.models import Directory, Thread
from outropy_pipelines.llm.base import LLMClient, LLMProvider, LLMStats
from outropy_pipelines.stages.parallel import balanced_shares, run_shares, worker_count
from outropy_pipelines.store import DuckDBStore, ParquetSpill, SpilledFiles
from outropy_pipelines.store import items as items_store
from outropy_pipelines.store import threads as threads_store

# Below this many threads a day is classified in this process: a worker costs ~1 s to start.
PARALLEL_MIN_THREADS = 20_000
# The day's threads are read and classified this many messages at a time (whole channels, or a range
# of threads of a bigger channel). What a process holds grows with it: on a generated million-message
# day with 2 workers the stage peaked at ~745 MB (this process + worker) at 100k, ~585 MB at 50k.
CHUNK_MESSAGES = 50_000


@dataclass
class ClassificationReport:
    day: str
    threads: int
    skipped: int
    items: int
    new_items: int
    failures: int
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, part: ClassificationReport) -> None:
        """Add the counts of a part of the day (a chunk, a worker's share)."""
        for name in ("threads", "skipped", "items", "new_items", "failures"):
            setattr(self, name, getattr(self, name) + getattr(part, name))
        for kind, n in part.by_kind.items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + n


def _empty_report(day: str) -> ClassificationReport:
    return ClassificationReport(day=day, threads=0, skipped=0, items=0, new_items=0, failures=0)


@dataclass
class _Output:
    """Where classified threads go: item rows spilled to Parquet, failures and counts kept."""

    items: ParquetSpill
    sources: ParquetSpill
    report: ClassificationReport
    failures: list[dict] = field(default_factory=list)


def _classify_into(
    client: LLMClient, directory: Directory, day: str, parts: Iterable[list[Thread]], out: _Output
) -> None:
    """Classify the threads of `parts` (one part at a time: see `classify_thread_parts`)."""
    channels = {c.channel_id: (c.name, c.kind) for c in directory.channels}
    user_names = {u.user_id: u.display_name for u in directory.users}
    result = classify_thread_parts(parts, client, channels, user_names, day)
    rows, sources = items_store.item_rows(result.items)
    out.items.write(rows)
    out.sources.write(sources)
    out.failures.extend(
        {"day": day, "stage": "classified_items", "subject_id": tid, "error": err}
        for tid, err in result.failures
    )
    by_kind: dict[str, int] = {}
    for it in result.items:
        by_kind[it.kind] = by_kind.get(it.kind, 0) + 1
    part = ClassificationReport(
        day=day,
        threads=result.stats["threads"],
        skipped=result.skipped,
        items=len(result.items),
        new_items=sum(1 for it in result.items if it.is_new),
        failures=len(result.failures),
        by_kind=by_kind,
    )
    out.report.add(part)


def channel_chunks(
    sizes: Mapping[str, int], channels: frozenset[str] | None = None, limit: int = CHUNK_MESSAGES
) -> list[frozenset[str]]:
    """The channels (of `channels`, all if None) in chunks of whole channels of at most `limit`
    messages (a bigger channel is a chunk of its own), in channel order."""
    chunks: list[frozenset[str]] = []
    current: list[str] = []
    total = 0
    for channel_id in sorted(c for c in sizes if channels is None or c in channels):
        if current and total + sizes[channel_id] > limit:
            chunks.append(frozenset(current))
            current, total = [], 0
        current.append(channel_id)
        total += sizes[channel_id]
    if current:
        chunks.append(frozenset(current))
    return chunks


def _classify_chunks(
    store: DuckDBStore,
    client: LLMClient,
    directory: Directory,
    day: str,
    chunks: Sequence[frozenset[str]],
    out: _Output,
    chunk_messages: int = CHUNK_MESSAGES,
) -> None:
    for chunk in chunks:
        _classify_into(client, directory, day, _chunk_parts(store, day, chunk, chunk_messages), out)


def _chunk_parts(store: DuckDBStore, day: str, chunk: frozenset[str], limit: int) -> Iterator[list[Thread]]:
    """The threads of a chunk, read when asked for: a channel of more than `limit` messages a range
    of threads at a time (its items are still grouped over the whole channel: `classify_thread_parts`),
    the others all at once (the 211k-message channel of a generated million-message day took ~420 MB
    read and classified whole)."""
    if len(chunk) == 1:
        [channel_id] = chunk
        ranges = threads_store.thread_ranges(store, day, channel_id, limit)
        if len(ranges) > 1:
            for thread_range in ranges:
                yield threads_store.load_threads(store, day, chunk, thread_range)
            return
    yield threads_store.load_threads(store, day, chunk)


@dataclass
class _ShareOutput:
    report: ClassificationReport
    stats: LLMStats
    failures: list[dict]
    items: SpilledFiles
    sources: SpilledFiles


def _classify_share(
    store: DuckDBStore,
    provider: LLMProvider,
    directory: Directory,
    day: str,
    chunks: list[frozenset[str]],
    items_directory: str,
    sources_directory: str,
    chunk_messages: int = CHUNK_MESSAGES,
) -> _ShareOutput:
    """In a worker: classify the day's threads of `chunks` with a cache-less client of
    `provider`, spilling the item rows under the two directories."""
    client = LLMClient(provider, concurrency=1)
    out = _Output(ParquetSpill(items_directory), ParquetSpill(sources_directory), _empty_report(day))
    _classify_chunks(store, client, directory, day, chunks, out, chunk_messages)
    return _ShareOutput(
        report=out.report,
        stats=client.stats,
        failures=out.failures,
        items=out.items.handoff(),
        sources=out.sources.handoff(),
    )


def classify_day(
    store: DuckDBStore,
    client: LLMClient,
    directory: Directory,
    day: str,
    threads: list[Thread] | None = None,
    workers: int | None = None,
    parallel_min_threads: int = PARALLEL_MIN_THREADS,
    chunk_messages: int = CHUNK_MESSAGES,
) -> ClassificationReport:
    """Classify and write the day's items.

    `threads` default to the day's threads in the store, read and classified a chunk of channels
    at a time (`chunk_messages`), so a big day never sits in memory; in `workers` processes
    (default `worker_count()`) when the provider is CPU-bound and uncached and the day has at least
    `parallel_min_threads` threads."""
    provider = client.provider
    with store.spill() as items_spill, store.spill() as sources_spill:
        out = _Output(items_spill, sources_spill, _empty_report(day))
        if threads is not None:
            _classify_into(client, directory, day, [threads], out)
        else:
            sizes = threads_store.messages_by_channel(store, day)
            # only work done on this machine's CPU, with nothing to look up in a cache, gains from processes
            local_work = not provider.parallel and not (provider.cacheable and client.cache is not None)
            wanted = 1
            if local_work and threads_store.thread_count(store, day) >= parallel_min_threads:
                wanted = worker_count(workers)
            shares = balanced_shares(sizes, wanted)
            if len(shares) == 1:
                chunks = channel_chunks(sizes, limit=chunk_messages)
                _classify_chunks(store, client, directory, day, chunks, out, chunk_messages)
            else:
                jobs = [
                    (
                        store,
                        provider,
                        directory,
                        day,
                        channel_chunks(sizes, share, chunk_messages),
                        str(items_spill.directory),
                        str(sources_spill.directory),
                        chunk_messages,
                    )
                    for share in shares
                ]
                for part in run_shares(_classify_share, jobs):
                    client.stats.add(part.stats)
                    out.failures.extend(part.failures)
                    items_spill.adopt(part.items)
                    sources_spill.adopt(part.sources)
                    out.report.add(part.report)
        items_store.replace_day(store, day, items_spill, sources_spill, out.failures)
    return out.report
