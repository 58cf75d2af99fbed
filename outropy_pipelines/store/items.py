"""`items`, `item_sources` and `llm_failures`: a day's typed items, the messages each cites, and
the threads that could not be classified."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from outropy_pipelines.domain.models import Item, SourceRef
from outropy_pipelines.domain.trusted import trusted
from outropy_pipelines.store.duckdb_store import DuckDBStore, list_param, unnested
from outropy_pipelines.store.shared_strings import SharedStrings
from outropy_pipelines.store.spill import ParquetSpill


def item_rows(items: list[Item]) -> tuple[list[dict], list[dict]]:
    rows, sources = [], []
    for it in items:
        rows.append(it.model_dump(exclude={"sources"}))
        for s in it.sources:
            sources.append({"day": it.day, "item_id": it.item_id, "channel_id": s.channel_id, "ts": s.ts})
    return rows, sources


def replace_day(
    store: DuckDBStore,
    day: str,
    items: ParquetSpill,
    sources: ParquetSpill,
    failures: Sequence[dict],
    stage: str = "classified_items",
) -> None:
    """The day's items, their sources and the classification failures, replaced in one transaction."""
    store.replace_partitions(
        [
            ("items", {"day": day}, items),
            ("item_sources", {"day": day}, sources),
            ("llm_failures", {"day": day, "stage": stage}, failures),
        ]
    )


def load_items(store: DuckDBStore, day: str, new_only: bool = False) -> list[Item]:
    """The day's items with their sources, as written by `replace_day`."""
    with store.connect() as con:
        return items_from(con, day, new_only)


_ITEM_COLUMNS = (
    "day, item_id, thread_id, channel_id, kind, title, detail, owners, mentions, due, entities, "
    "confidence, status, is_new, provider, prompt_version"
)


def items_from(con: duckdb.DuckDBPyConnection, day: str, new_only: bool = False) -> list[Item]:
    """`load_items` on an open connection (both queries on it: one connection instead of two).

    The rows were written by `replace_day` from validated items: they are turned back into models
    without validating them again (`trusted`).

    DuckDB returns a new `str` per value of every row: the columns of few distinct values (day,
    kind, status, provider, prompt version, due, channel and user ids) are kept as one object per
    value (`SharedStrings`), ~500 bytes an item, 40 MB of a million-message day's 80,000 items."""
    one = SharedStrings()
    sources: dict[str, list[SourceRef]] = {}
    for item_id, channel_id, ts in con.execute(
        "SELECT item_id, channel_id, ts FROM item_sources WHERE day = ? ORDER BY item_id, ts", [day]
    ).fetchall():
        sources.setdefault(item_id, []).append(trusted(SourceRef, {"channel_id": one(channel_id), "ts": ts}))
    where = "AND is_new" if new_only else ""
    rows = con.execute(
        f"SELECT {_ITEM_COLUMNS} FROM items WHERE day = ? {where} ORDER BY item_id", [day]
    ).fetchall()
    return [
        trusted(
            Item,
            {
                "day": one(str(d)),
                "item_id": item_id,
                "thread_id": thread_id,
                "channel_id": one(channel_id),
                "kind": one(kind),
                "title": title,
                "detail": detail,
                "owners": one.each(owners),
                "mentions": one.each(mentions),
                "due": one(due),
                "entities": entities or [],
                "confidence": confidence,
                "status": one(status),
                "is_new": is_new,
                "provider": one(provider),
                "prompt_version": one(prompt_version),
                "sources": sources.get(item_id, []),
            },
        )
        for (
            d, item_id, thread_id, channel_id, kind, title, detail, owners, mentions, due, entities,
            confidence, status, is_new, provider, prompt_version,
        ) in rows
    ]  # fmt: skip


def find_items(
    store: DuckDBStore,
    *,
    channel_ids: Sequence[str],
    words: Sequence[str] = (),
    kinds: Sequence[str] = (),
    start: str | None = None,
    end: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Item]:
    """Items of `channel_ids` whose title holds every one of `words` (any case), of `kinds` (all
    when empty), on days `start` .. `end` (both included, open when None), with their sources;
    newest day first, then item_id; `limit` rows from `offset` (one row per item and day)."""
    clauses = [f"i.channel_id IN (SELECT {unnested()})"]
    params: list = [list_param(channel_ids)]
    for word in words:
        clauses.append("contains(lower(i.title), lower(?))")
        params.append(word)
    if kinds:
        clauses.append(f"i.kind IN (SELECT {unnested()})")
        params.append(list_param(kinds))
    if start is not None:
        clauses.append("i.day >= CAST(? AS DATE)")
        params.append(start)
    if end is not None:
        clauses.append("i.day <= CAST(? AS DATE)")
        params.append(end)
    sql = (
        f"SELECT {', '.join('i.' + c.strip() for c in _ITEM_COLUMNS.split(','))} FROM items i "
        f"WHERE {' AND '.join(clauses)} ORDER BY i.day DESC, i.item_id LIMIT ? OFFSET ?"
    )
    with store.connect() as con:
        rows = con.execute(sql, [*params, limit, offset]).fetchall()
        keys = sorted({(str(r[0]), r[1]) for r in rows})
        sources: dict[tuple[str, str], list[SourceRef]] = {}
        if keys:
            for d, item_id, channel_id, ts in con.execute(
                f"""SELECT CAST(s.day AS VARCHAR), s.item_id, s.channel_id, s.ts FROM item_sources s
                   JOIN (SELECT {unnested()} AS day, {unnested()} AS item_id) k
                   ON CAST(s.day AS VARCHAR) = k.day AND s.item_id = k.item_id ORDER BY s.item_id, s.ts""",
                [list_param(d for d, _ in keys), list_param(i for _, i in keys)],
            ).fetchall():
                sources.setdefault((d, item_id), []).append(
                    trusted(SourceRef, {"channel_id": channel_id, "ts": ts})
                )
    names = [c.strip() for c in _ITEM_COLUMNS.split(",")]
    out = []
    for row in rows:
        values = dict(zip(names, row, strict=True))
        values["day"] = str(values["day"])
        for column in ("owners", "mentions", "entities"):
            values[column] = values[column] or []
        values["sources"] = sources.get((values["day"], values["item_id"]), [])
        out.append(trusted(Item, values))
    return out


def item_day_range(store: DuckDBStore) -> tuple[str, str] | None:
    """The first and last day with items, or None before the first classified day."""
    rows = store.query("SELECT CAST(min(day) AS VARCHAR) AS a, CAST(max(day) AS VARCHAR) AS b FROM items")
    return (rows[0]["a"], rows[0]["b"]) if rows and rows[0]["a"] else None
