"""Stage: one day of entity summaries, folded from the previous day's and the day's items."""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from outropy_pipelines.adapters.duckdb_store import DuckDBStore, to_json
from outropy_pipelines.domain.days import shift_day
from outropy_pipelines.domain.entity_memory import fold_entity_summaries
from outropy_pipelines.domain.models import Directory, EntitySummary, OpenItem, SourceRef
from outropy_pipelines.domain.trusted import trusted
from outropy_pipelines.llm.base import LLMClient
from outropy_pipelines.stages.classification import items_from


@dataclass
class EntityMemoryReport:
    day: str
    entities: int
    updated_today: int
    open_items: int
    by_kind: dict[str, int]


def load_entity_summaries(
    store: DuckDBStore, day: str, entity_ids: list[str] | None = None
) -> list[EntitySummary]:
    with store.connect() as con:
        return entity_summaries_from(con, day, entity_ids)


def entity_summaries_from(
    con: duckdb.DuckDBPyConnection, day: str, entity_ids: list[str] | None = None
) -> list[EntitySummary]:
    """`load_entity_summaries` on an open connection. The rows were written by `summarize_day` from
    validated summaries: they are turned back into models without validating them again."""
    sql = (
        "SELECT day, entity_id, entity_kind, name, summary, open_items, item_ids_today, as_of, provider "
        "FROM entity_summaries WHERE day = ?"
    )
    params: list = [day]
    if entity_ids is not None:
        sql += " AND entity_id IN (SELECT unnest(?))"
        params.append(entity_ids)
    return [
        trusted(
            EntitySummary,
            {
                "day": str(d),
                "entity_id": entity_id,
                "entity_kind": entity_kind,
                "name": name,
                "summary": summary,
                "open_items": [_open_item(o) for o in json.loads(open_items or "[]")],
                "item_ids_today": item_ids_today or [],
                "as_of": as_of,
                "provider": provider,
            },
        )
        for d, entity_id, entity_kind, name, summary, open_items, item_ids_today, as_of, provider in con.execute(
            sql + " ORDER BY entity_id", params
        ).fetchall()
    ]


def _open_item(o: dict) -> OpenItem:
    """An open item from its JSON (`summarize_day` writes `model_dump(mode="json")`)."""
    return trusted(
        OpenItem,
        {
            "item_id": o["item_id"],
            "kind": o["kind"],
            "title": o["title"],
            "channel_id": o["channel_id"],
            "owners": o["owners"],
            "since_day": o["since_day"],
            "last_seen_day": o["last_seen_day"],
            "sources": [
                trusted(SourceRef, {"channel_id": s["channel_id"], "ts": s["ts"]}) for s in o["sources"]
            ],
        },
    )


def summarize_day(
    store: DuckDBStore, client: LLMClient, directory: Directory, day: str
) -> EntityMemoryReport:
    with store.connect() as con:  # both reads on one connection (each costs an open of the file)
        previous = entity_summaries_from(con, shift_day(day, -1))
        items = items_from(con, day)
    summaries = fold_entity_summaries(
        day,
        previous,
        items,
        {c.channel_id: c.name for c in directory.channels},
        {u.user_id: u.display_name for u in directory.users},
        client,
    )
    rows = []
    for s in summaries:
        row = s.model_dump(exclude={"open_items"})
        row["open_items"] = to_json([o.model_dump(mode="json") for o in s.open_items])
        rows.append(row)
    store.replace_partitions([("entity_summaries", {"day": day}, rows)])
    by_kind: dict[str, int] = {}
    for s in summaries:
        by_kind[s.entity_kind] = by_kind.get(s.entity_kind, 0) + 1
    return EntityMemoryReport(
        day=day,
        entities=len(summaries),
        updated_today=sum(1 for s in summaries if s.item_ids_today),
        open_items=sum(len(s.open_items) for s in summaries),
        by_kind=by_kind,
    )
