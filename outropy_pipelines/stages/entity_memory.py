"""Stage: one day of entity summaries, folded from the previous day's and the day's items."""

from __future__ import annotations

import json
from dataclasses import dataclass

from outropy_pipelines.adapters.duckdb_store import DuckDBStore, to_json
from outropy_pipelines.domain.days import shift_day
from outropy_pipelines.domain.entity_memory import fold_entity_summaries
from outropy_pipelines.domain.models import Directory, EntitySummary, OpenItem
from outropy_pipelines.llm.base import LLMClient
from outropy_pipelines.stages.classification import load_items


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
    sql = "SELECT * FROM entity_summaries WHERE day = ?"
    params: list = [day]
    if entity_ids is not None:
        sql += " AND entity_id IN (SELECT unnest(?))"
        params.append(entity_ids)
    out = []
    for r in store.query(sql + " ORDER BY entity_id", params):
        r["day"] = str(r["day"])
        r["open_items"] = [OpenItem(**o) for o in json.loads(r["open_items"] or "[]")]
        r["item_ids_today"] = r["item_ids_today"] or []
        out.append(EntitySummary(**r))
    return out


def summarize_day(
    store: DuckDBStore, client: LLMClient, directory: Directory, day: str
) -> EntityMemoryReport:
    previous = load_entity_summaries(store, shift_day(day, -1))
    items = load_items(store, day)
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
