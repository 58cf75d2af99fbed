"""Stage: one day of typed items (`items`, `item_sources`, `llm_failures`) from its threads.

A provider that answers on this machine's CPU and keeps no cache (the `local` one) classifies a big
day in worker processes (OUTROPY_WORKERS), one share of the channels each, as the threads stage
builds them: threads are classified independently, so the items are the same whatever the number
of workers. A provider that waits on a server runs here, with the client's thread concurrency,
cache and token budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from outropy_pipelines.adapters.duckdb_store import DuckDBStore, ParquetSpill
from outropy_pipelines.domain.classification import classify_threads
from outropy_pipelines.domain.models import Directory, Item, SourceRef, Thread
from outropy_pipelines.domain.trusted import trusted
from outropy_pipelines.llm.base import LLMClient, LLMProvider, LLMStats
from outropy_pipelines.perf import balanced_shares, run_shares, worker_count
from outropy_pipelines.stages.threading import load_threads

# Below this many threads a day is classified in this process: a worker costs ~1 s to start.
PARALLEL_MIN_THREADS = 20_000


@dataclass
class ClassificationReport:
    day: str
    threads: int
    skipped: int
    items: int
    new_items: int
    failures: int
    by_kind: dict[str, int] = field(default_factory=dict)


def item_rows(items: list[Item]) -> tuple[list[dict], list[dict]]:
    rows, sources = [], []
    for it in items:
        rows.append(it.model_dump(exclude={"sources"}))
        for s in it.sources:
            sources.append({"day": it.day, "item_id": it.item_id, "channel_id": s.channel_id, "ts": s.ts})
    return rows, sources


def _classify(
    store: DuckDBStore, client: LLMClient, directory: Directory, day: str, threads: list[Thread]
) -> tuple[list[dict], list[dict], list[dict], ClassificationReport]:
    channels = {c.channel_id: (c.name, c.kind) for c in directory.channels}
    user_names = {u.user_id: u.display_name for u in directory.users}
    result = classify_threads(threads, client, channels, user_names, day)
    rows, sources = item_rows(result.items)
    failures = [
        {"day": day, "stage": "classified_items", "subject_id": tid, "error": err}
        for tid, err in result.failures
    ]
    by_kind: dict[str, int] = {}
    for it in result.items:
        by_kind[it.kind] = by_kind.get(it.kind, 0) + 1
    report = ClassificationReport(
        day=day,
        threads=len(threads),
        skipped=result.skipped,
        items=len(result.items),
        new_items=sum(1 for it in result.items if it.is_new),
        failures=len(result.failures),
        by_kind=by_kind,
    )
    return rows, sources, failures, report


@dataclass
class _ShareOutput:
    report: ClassificationReport
    stats: LLMStats
    failures: list[dict]
    item_files: list[str]
    item_rows: int
    source_files: list[str]
    source_rows: int


def _classify_share(
    db_path: str,
    provider: LLMProvider,
    directory: Directory,
    day: str,
    channels: frozenset[str] | None,
    items_directory: str,
    sources_directory: str,
) -> _ShareOutput:
    """Classify the day's threads of `channels` with a cache-less client of `provider`, spilling
    the item rows under the two directories. Runs in this process or in a worker."""
    store = DuckDBStore(db_path)
    client = LLMClient(provider, concurrency=1)
    rows, sources, failures, report = _classify(
        store, client, directory, day, load_threads(store, day, channels)
    )
    items_spill, sources_spill = ParquetSpill(items_directory), ParquetSpill(sources_directory)
    items_spill.write(rows)
    sources_spill.write(sources)
    return _ShareOutput(
        report=report,
        stats=client.stats,
        failures=failures,
        item_files=[str(p) for p in items_spill.paths],
        item_rows=items_spill.num_rows,
        source_files=[str(p) for p in sources_spill.paths],
        source_rows=sources_spill.num_rows,
    )


def _write(store: DuckDBStore, day: str, items: Any, sources: Any, failures: list[dict]) -> None:
    store.replace_partitions(
        [
            ("items", {"day": day}, items),
            ("item_sources", {"day": day}, sources),
            ("llm_failures", {"day": day, "stage": "classified_items"}, failures),
        ]
    )


def classify_day(
    store: DuckDBStore,
    client: LLMClient,
    directory: Directory,
    day: str,
    threads: list[Thread] | None = None,
    workers: int | None = None,
    parallel_min_threads: int = PARALLEL_MIN_THREADS,
) -> ClassificationReport:
    """Classify and write the day's items. `threads` default to the day's threads in the store;
    those are classified in `workers` processes (default `worker_count()`) when the provider is
    CPU-bound and uncached and the day has at least `parallel_min_threads` threads."""
    provider = client.provider
    # only work done on this machine's CPU, with nothing to look up in the cache, gains from processes
    local_work = not provider.parallel and not (provider.cacheable and client.cache is not None)
    wanted = workers or worker_count()
    shares: list[frozenset[str] | None] = [None]
    if (
        threads is None
        and local_work
        and wanted > 1
        and store.scalar("SELECT count(*) FROM threads WHERE day = ?", [day]) >= parallel_min_threads
    ):
        sql = "SELECT channel_id, count(*) AS n FROM thread_messages WHERE day = ? GROUP BY channel_id"
        shares = balanced_shares({r["channel_id"]: int(r["n"]) for r in store.query(sql, [day])}, wanted)
    if shares == [None]:
        if threads is None:
            threads = load_threads(store, day)
        rows, sources, failures, report = _classify(store, client, directory, day, threads)
        _write(store, day, rows, sources, failures)
        return report
    report = ClassificationReport(day=day, threads=0, skipped=0, items=0, new_items=0, failures=0)
    with store.spill() as items_spill, store.spill() as sources_spill:
        outputs = run_shares(
            _classify_share,
            [
                (
                    str(store.path),
                    provider,
                    directory,
                    day,
                    share,
                    str(items_spill.directory),
                    str(sources_spill.directory),
                )
                for share in shares
            ],
        )
        failures: list[dict] = []
        for out in outputs:
            client.stats.add(out.stats)
            failures.extend(out.failures)
            items_spill.adopt(out.item_files, out.item_rows)
            sources_spill.adopt(out.source_files, out.source_rows)
            for name in ("threads", "skipped", "items", "new_items", "failures"):
                setattr(report, name, getattr(report, name) + getattr(out.report, name))
            for kind, n in out.report.by_kind.items():
                report.by_kind[kind] = report.by_kind.get(kind, 0) + n
        _write(store, day, items_spill, sources_spill, failures)
    return report


def load_items(store: DuckDBStore, day: str, new_only: bool = False) -> list[Item]:
    """The day's items with their sources, as written by `classify_day`."""
    with store.connect() as con:
        return items_from(con, day, new_only)


_ITEM_COLUMNS = (
    "day, item_id, thread_id, channel_id, kind, title, detail, owners, mentions, due, entities, "
    "confidence, status, is_new, provider, prompt_version"
)


def items_from(con: duckdb.DuckDBPyConnection, day: str, new_only: bool = False) -> list[Item]:
    """`load_items` on an open connection (both queries on it: one connection instead of two).

    The rows were written by `classify_day` from validated items: they are turned back into models
    without validating them again (`trusted`)."""
    sources: dict[str, list[SourceRef]] = {}
    for item_id, channel_id, ts in con.execute(
        "SELECT item_id, channel_id, ts FROM item_sources WHERE day = ? ORDER BY item_id, ts", [day]
    ).fetchall():
        sources.setdefault(item_id, []).append(trusted(SourceRef, {"channel_id": channel_id, "ts": ts}))
    where = "AND is_new" if new_only else ""
    rows = con.execute(
        f"SELECT {_ITEM_COLUMNS} FROM items WHERE day = ? {where} ORDER BY item_id", [day]
    ).fetchall()
    return [
        trusted(
            Item,
            {
                "day": str(d),
                "item_id": item_id,
                "thread_id": thread_id,
                "channel_id": channel_id,
                "kind": kind,
                "title": title,
                "detail": detail,
                "owners": owners or [],
                "mentions": mentions or [],
                "due": due,
                "entities": entities or [],
                "confidence": confidence,
                "status": status,
                "is_new": is_new,
                "provider": provider,
                "prompt_version": prompt_version,
                "sources": sources.get(item_id, []),
            },
        )
        for (
            d, item_id, thread_id, channel_id, kind, title, detail, owners, mentions, due, entities,
            confidence, status, is_new, provider, prompt_version,
        ) in rows
    ]  # fmt: skip
