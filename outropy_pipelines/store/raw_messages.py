"""`raw_messages` and `quarantine`: every message of a day as received, and what could not be read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from outropy_pipelines.domain.membership import MEMBERSHIP_SUBTYPES, MembershipEvent
from outropy_pipelines.store.duckdb_store import DuckDBStore, list_param, unnested
from outropy_pipelines.store.spill import ParquetSpill

# quarantine sources written per day: one day's rows are replaced whichever source wrote them last
DAY_SOURCES = ("export", "slack_api")


def replace_day(
    store: DuckDBStore,
    day: str,
    rows: ParquetSpill,
    quarantine: Sequence[Mapping[str, Any]],
    sources: Sequence[str] = (),
) -> None:
    """The day's messages and its quarantine (of every day source, and `sources`), replaced in one
    transaction."""
    store.replace_partitions(
        [
            ("raw_messages", {"day": day}, rows),
            ("quarantine", {"day": day, "source": sorted({*DAY_SOURCES, *sources})}, quarantine),
        ]
    )


def membership_events(store: DuckDBStore, channel_ids: Sequence[str] | None = None) -> list[MembershipEvent]:
    """Every join and leave recorded in the stored days (of `channel_ids`, all if None)."""
    sql = (
        "SELECT channel_id, user_id, CAST(day AS VARCHAR) AS day, ts, subtype FROM raw_messages "
        f"WHERE subtype IN (SELECT {unnested()}) AND user_id IS NOT NULL"
    )
    params: list[Any] = [list_param(sorted(MEMBERSHIP_SUBTYPES))]
    if channel_ids is not None:
        sql += f" AND channel_id IN (SELECT {unnested()})"
        params.append(list_param(channel_ids))
    return [MembershipEvent(**row) for row in store.query(sql, params)]


def cited_messages(
    store: DuckDBStore, messages: Sequence[tuple[str, str]]
) -> tuple[dict[tuple[str, str], str | None], dict[tuple[str, str], str | None]]:
    """For each (channel_id, ts) of `messages`: its thread_ts (for reply permalinks) and its author."""
    keys = sorted(set(messages))
    if not keys:
        return {}, {}
    rows = store.query(
        f"""WITH cited AS (SELECT {unnested()} AS channel_id, {unnested()} AS ts)
           SELECT DISTINCT r.channel_id, r.ts, r.thread_ts, r.user_id FROM raw_messages r
           JOIN cited c ON c.channel_id = r.channel_id AND c.ts = r.ts""",
        [list_param(c for c, _ in keys), list_param(t for _, t in keys)],
    )
    thread_ts_of = {(r["channel_id"], r["ts"]): r["thread_ts"] for r in rows}
    authors_of = {(r["channel_id"], r["ts"]): r["user_id"] for r in rows}
    return thread_ts_of, authors_of
