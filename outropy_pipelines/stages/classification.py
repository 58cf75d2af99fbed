"""Stage: one day of typed items (`items`, `item_sources`, `llm_failures`) from its threads."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.domain.classification import classify_threads
from outropy_pipelines.domain.models import Directory, Item, SourceRef
from outropy_pipelines.domain.trusted import trusted
from outropy_pipelines.llm.base import LLMClient


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


def classify_day(
    store: DuckDBStore, client: LLMClient, directory: Directory, day: str, threads: list
) -> ClassificationReport:
    channels = {c.channel_id: (c.name, c.kind) for c in directory.channels}
    user_names = {u.user_id: u.display_name for u in directory.users}
    result = classify_threads(threads, client, channels, user_names, day)
    rows, sources = item_rows(result.items)
    failures = [
        {"day": day, "stage": "classified_items", "subject_id": tid, "error": err}
        for tid, err in result.failures
    ]
    store.replace_partitions(
        [
            ("items", {"day": day}, rows),
            ("item_sources", {"day": day}, sources),
            ("llm_failures", {"day": day, "stage": "classified_items"}, failures),
        ]
    )
    by_kind: dict[str, int] = {}
    for it in result.items:
        by_kind[it.kind] = by_kind.get(it.kind, 0) + 1
    return ClassificationReport(
        day=day,
        threads=len(threads),
        skipped=result.skipped,
        items=len(result.items),
        new_items=sum(1 for it in result.items if it.is_new),
        failures=len(result.failures),
        by_kind=by_kind,
    )


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
