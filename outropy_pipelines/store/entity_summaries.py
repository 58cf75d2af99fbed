"""`entity_summaries`: a day's event-sourced memory per channel, project and person, per visibility scope."""

from __future__ import annotations

import json
from collections.abc import Sequence

import duckdb

from outropy_pipelines.domain.models import EntitySummary, OpenItem, SourceRef
from outropy_pipelines.domain.trusted import trusted
from outropy_pipelines.store.duckdb_store import DuckDBStore, list_param, to_json, unnested
from outropy_pipelines.store.shared_strings import SharedStrings


def replace_day(store: DuckDBStore, day: str, summaries: Sequence[EntitySummary]) -> None:
    """The day's summaries replaced in one transaction (open items as JSON)."""
    rows = []
    for s in summaries:
        row = s.model_dump(exclude={"open_items"})
        row["open_items"] = to_json([o.model_dump(mode="json") for o in s.open_items])
        rows.append(row)
    store.replace_partitions([("entity_summaries", {"day": day}, rows)])


def load_entity_summaries(
    store: DuckDBStore, day: str, entity_ids: list[str] | None = None, *, entity_kind: str | None = None
) -> list[EntitySummary]:
    with store.connect() as con:
        return entity_summaries_from(con, day, entity_ids, entity_kind=entity_kind)


def entity_summaries_from(
    con: duckdb.DuckDBPyConnection,
    day: str,
    entity_ids: list[str] | None = None,
    *,
    entity_kind: str | None = None,
) -> list[EntitySummary]:
    """`load_entity_summaries` on an open connection. The rows were written by `replace_day` from
    validated summaries: they are turned back into models without validating them again.

    The open items' values of few distinct values (kind, channel, owners, days) are kept as one
    `str` per value (`SharedStrings`): JSON decoding makes a new one per occurrence."""
    sql = (
        "SELECT day, entity_id, scope, entity_kind, name, summary, open_items, item_ids_today, as_of, "
        "provider FROM entity_summaries WHERE day = ?"
    )
    params: list = [day]
    if entity_ids is not None:
        sql += f" AND entity_id IN (SELECT {unnested()})"
        params.append(list_param(entity_ids))
    if entity_kind is not None:
        sql += " AND entity_kind = ?"
        params.append(entity_kind)
    one = SharedStrings()
    return [
        trusted(
            EntitySummary,
            {
                "day": str(d),
                "entity_id": entity_id,
                "scope": scope,
                "entity_kind": entity_kind,
                "name": name,
                "summary": summary,
                "open_items": [_open_item(o, one) for o in json.loads(open_items or "[]")],
                "item_ids_today": item_ids_today or [],
                "as_of": as_of,
                "provider": provider,
            },
        )
        for (
            d,
            entity_id,
            scope,
            entity_kind,
            name,
            summary,
            open_items,
            item_ids_today,
            as_of,
            provider,
        ) in con.execute(sql + " ORDER BY entity_id, scope", params).fetchall()
    ]


def _open_item(o: dict, one: SharedStrings) -> OpenItem:
    """An open item from its JSON (`replace_day` writes `model_dump(mode="json")`), its values of
    few distinct values shared by the rows through `one`."""
    return trusted(
        OpenItem,
        {
            "item_id": o["item_id"],
            "kind": one(o["kind"]),
            "title": o["title"],
            "channel_id": one(o["channel_id"]),
            "owners": one.each(o["owners"]),
            "since_day": one(o["since_day"]),
            "last_seen_day": one(o["last_seen_day"]),
            "sources": [
                trusted(SourceRef, {"channel_id": one(s["channel_id"]), "ts": s["ts"]}) for s in o["sources"]
            ],
        },
    )


def latest_summary_day(store: DuckDBStore, on_or_before: str | None = None) -> str | None:
    """The last day with entity summaries (on or before `on_or_before`), or None."""
    if on_or_before is None:
        day = store.scalar("SELECT max(day) FROM entity_summaries")
    else:
        day = store.scalar(
            "SELECT max(day) FROM entity_summaries WHERE day <= CAST(? AS DATE)", [on_or_before]
        )
    return None if day is None else str(day)


def channel_open_items(store: DuckDBStore, day: str, channel_ids: Sequence[str]) -> list[OpenItem]:
    """The open items the memory of `channel_ids` carries at the end of `day` (every item folds
    into its own conversation's `channel:` entity, so these are all of them), once each."""
    entity_ids = [f"channel:{c}" for c in channel_ids]
    seen: dict[str, OpenItem] = {}
    with store.connect() as con:
        for summary in entity_summaries_from(con, day, entity_ids):
            for o in summary.open_items:
                seen.setdefault(o.item_id, o)
    return sorted(seen.values(), key=lambda o: (o.since_day, o.item_id))
