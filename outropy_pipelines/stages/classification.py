"""Stage: one day of typed items (`items`, `item_sources`, `llm_failures`) from its threads."""

from __future__ import annotations

from dataclasses import dataclass, field

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.domain.classification import classify_threads
from outropy_pipelines.domain.models import Directory, Item
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
    from outropy_pipelines.domain.models import SourceRef

    sources: dict[str, list[SourceRef]] = {}
    for r in store.query(
        "SELECT item_id, channel_id, ts FROM item_sources WHERE day = ? ORDER BY item_id, ts", [day]
    ):
        sources.setdefault(r["item_id"], []).append(SourceRef(channel_id=r["channel_id"], ts=r["ts"]))
    where = "AND is_new" if new_only else ""
    items = []
    for r in store.query(f"SELECT * FROM items WHERE day = ? {where} ORDER BY item_id", [day]):
        r["day"] = str(r["day"])
        for col in ("owners", "mentions", "entities"):
            r[col] = r[col] or []
        items.append(Item(**r, sources=sources.get(r["item_id"], [])))
    return items
