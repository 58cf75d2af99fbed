"""`threads` and `thread_messages`: a day's conversations, and the raw rows they are built from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from outropy_pipelines.domain.days import shift_day
from outropy_pipelines.domain.models import Thread, ThreadMessage
from outropy_pipelines.domain.thread_builder import EVENT_SUBTYPES, RECORD_KEYS
from outropy_pipelines.domain.trusted import trusted
from outropy_pipelines.gc_pause import paused_gc
from outropy_pipelines.store.duckdb_store import DuckDBStore, list_param, unnested
from outropy_pipelines.store.shared_strings import SharedStrings
from outropy_pipelines.store.spill import ParquetSpill

# Raw rows a day's threads need: all of the day, the top-level messages of the day before (context
# for reconstructing conversations across midnight), plus every earlier message of a Slack thread,
# or target of an edit, that has activity on the day. Written as a union of equality joins on row
# ids: a single WHERE with an OR'ed EXISTS is not decorrelated by DuckDB and was 20x slower.
DAY_ROWS_SQL = """
WITH today AS (SELECT channel_id, ts, thread_ts, target_ts FROM raw_messages WHERE day = $day),
active AS (
    SELECT DISTINCT channel_id, thread_ts AS key FROM today WHERE thread_ts IS NOT NULL
    UNION SELECT DISTINCT channel_id, target_ts FROM today WHERE target_ts IS NOT NULL
),
picked AS (
    SELECT rowid AS rid FROM raw_messages WHERE day = $day
    UNION SELECT rowid FROM raw_messages
          WHERE day = $previous_day AND (thread_ts IS NULL OR thread_ts = ts)
    UNION SELECT r.rowid FROM raw_messages r
          JOIN active a ON a.channel_id = r.channel_id AND a.key = r.thread_ts WHERE r.day < $day
    UNION SELECT r.rowid FROM raw_messages r
          JOIN active a ON a.channel_id = r.channel_id AND a.key = r.ts WHERE r.day < $day
)
SELECT r.channel_id, r.ts, r.thread_ts, r.user_id, r.subtype, r.target_ts, r.json
FROM raw_messages r SEMI JOIN picked p ON r.rowid = p.rid
"""

# The building reads only some fields of a message record (`thread_builder.RECORD_KEYS`, and
# `blocks` when the text is empty), and the whole record of an edit or deletion: the export
# carries each record cut to those fields, cut by DuckDB in one parse of it. A real record is
# mostly `blocks`, `user_profile` and `reactions`: the cut records are what the export sorts,
# what the Parquet file holds and what a worker parses, a fraction of the whole. A record DuckDB
# cannot parse goes whole, for the builder to deal with as before. Keys whose value is null are
# left out (`json_merge_patch`), which the builder cannot tell from absent ones: it reads with `get`.
_KEPT_KEYS = (*RECORD_KEYS, "blocks")
_KEPT_PATHS = ", ".join(f"'$.{key}'" for key in _KEPT_KEYS)
_KEPT_OBJECT = ", ".join(f"'{key}', kept[{i}]" for i, key in enumerate(_KEPT_KEYS, start=1))
_EVENTS = ", ".join(f"'{subtype}'" for subtype in sorted(EVENT_SUBTYPES))
_CUT_RECORDS_SQL = f"""
WITH picked_rows AS ({DAY_ROWS_SQL}),
parsed AS (SELECT *, TRY(json_extract(json, [{_KEPT_PATHS}])) AS kept FROM picked_rows)
SELECT channel_id, ts, thread_ts, user_id, subtype, target_ts,
    CASE WHEN subtype IN ({_EVENTS}) OR kept IS NULL THEN json
         ELSE CAST(json_merge_patch('{{}}', json_object({_KEPT_OBJECT})) AS VARCHAR) END AS json
FROM parsed
"""


# Rows per row group of that file: its readers (one per worker) hold a row group's data while they
# read it, ~100 MB at DuckDB's default (~123k rows) for a million-message day, ~16 MB at this size.
DAY_ROWS_ROW_GROUP = 20_000


def export_day_rows(store: DuckDBStore, day: str, path: str | Path) -> int:
    """The raw rows the day's threads need (`DAY_ROWS_SQL`), their records cut to what building
    reads, ordered by channel, into a Parquet file (the database lock is held only for the
    export); returns how many."""
    params = {"day": day, "previous_day": shift_day(day, -1)}
    return store.query_to_parquet(
        _CUT_RECORDS_SQL + " ORDER BY channel_id", params, path, row_group_size=DAY_ROWS_ROW_GROUP
    )


def thread_rows(day: str, t: Thread) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    row = {
        "day": day,
        "thread_id": t.thread_id,
        "channel_id": t.channel_id,
        "root_ts": t.root_ts,
        "kind": t.kind,
        "participants": t.participants,
        "first_ts": t.first_ts,
        "last_ts": t.last_ts,
        "message_count": len(t.messages),
        "new_message_count": sum(1 for m in t.messages if m.is_new),
    }
    # ThreadMessage is flat: its __dict__ is its model_dump(), without the per-message call
    return row, [{"day": day, **m.__dict__} for m in t.messages]


def replace_day(store: DuckDBStore, day: str, threads: ParquetSpill, messages: ParquetSpill) -> None:
    """The day's threads and their messages, replaced in one transaction."""
    store.replace_partitions(
        [("threads", {"day": day}, threads), ("thread_messages", {"day": day}, messages)]
    )


def messages_by_channel(store: DuckDBStore, day: str) -> Mapping[str, int]:
    """{channel_id: thread messages} of the day."""
    sql = "SELECT channel_id, count(*) AS n FROM thread_messages WHERE day = ? GROUP BY channel_id"
    return {r["channel_id"]: int(r["n"]) for r in store.query(sql, [day])}


def thread_count(store: DuckDBStore, day: str) -> int:
    return int(store.scalar("SELECT count(*) FROM threads WHERE day = ?", [day]))


_MESSAGE_FIELDS = list(ThreadMessage.model_fields)
_THREAD_FIELDS = [f for f in Thread.model_fields if f not in ("day", "messages")]


# Columns whose values repeat from row to row (a thread's id on each of its messages, a channel's on
# each of its rows, an author's): read as one string object per distinct value. A million-message
# day held ~60 bytes per repeat of each (~50 MB for the 211k messages of its biggest channel).
_REPEATED_MESSAGE_FIELDS = frozenset({"thread_id", "channel_id", "user_id", "user_name"})
_REPEATED_THREAD_FIELDS = frozenset({"thread_id", "channel_id", "kind", "participants"})


def thread_ranges(store: DuckDBStore, day: str, channel_id: str, limit: int) -> list[tuple[str, str]]:
    """The day's threads of `channel_id` in ranges of thread ids (first, last, both included), in
    order, of at most `limit` messages each (a bigger thread is a range of its own)."""
    rows = store.query(
        "SELECT thread_id, count(*) AS n FROM thread_messages WHERE day = ? AND channel_id = ? "
        "GROUP BY thread_id ORDER BY thread_id",
        [day, channel_id],
    )
    ranges: list[tuple[str, str]] = []
    first = last = None
    total = 0
    for row in rows:
        n = int(row["n"])
        if first is not None and total + n > limit:
            ranges.append((first, last))
            first, total = None, 0
        if first is None:
            first = row["thread_id"]
        last, total = row["thread_id"], total + n
    if first is not None:
        ranges.append((first, last))
    return ranges


def load_threads(
    store: DuckDBStore,
    day: str,
    channels: frozenset[str] | None = None,
    thread_range: tuple[str, str] | None = None,
) -> list[Thread]:
    """The day's threads as written by `replace_day` (of `channels` only, if given, and with ids in
    `thread_range` (first, last) only, if given), messages in time order.

    The rows come from our own table, written from validated models, so they are rebuilt with
    `trusted` (no second validation: it cost more than the read itself at 200,000 messages).
    """
    where, params = "day = ?", [day]
    if channels is not None:
        where, params = (
            f"day = ? AND channel_id IN (SELECT {unnested()})",
            [day, list_param(sorted(channels))],
        )
    if thread_range is not None:
        where += " AND thread_id BETWEEN ? AND ?"
        params = [*params, *thread_range]
    with store.connect() as con:
        messages = con.sql(
            f"SELECT {', '.join(_MESSAGE_FIELDS)} FROM thread_messages WHERE {where} "
            "ORDER BY thread_id, CAST(ts AS DECIMAL(18,6))",
            params=params,
        ).to_arrow_table()
        threads = con.sql(
            f"SELECT {', '.join(_THREAD_FIELDS)} FROM threads WHERE {where} ORDER BY thread_id",
            params=params,
        ).to_arrow_table()
    by_thread: dict[str, list[ThreadMessage]] = defaultdict(list)
    out = []
    shared = SharedStrings()  # one str object per distinct id or name, not one per row
    with paused_gc():
        columns = [
            shared.column(messages.column(f).to_pylist())
            if f in _REPEATED_MESSAGE_FIELDS
            else messages.column(f).to_pylist()
            for f in _MESSAGE_FIELDS
        ]
        for values in zip(*columns, strict=True):
            record = dict(zip(_MESSAGE_FIELDS, values, strict=True))
            by_thread[values[0]].append(trusted(ThreadMessage, record))
        del columns, messages
        thread_columns = [
            shared.column(threads.column(f).to_pylist())
            if f in _REPEATED_THREAD_FIELDS
            else threads.column(f).to_pylist()
            for f in _THREAD_FIELDS
        ]
        del threads
        for values in zip(*thread_columns, strict=True):
            record = {"day": day, **dict(zip(_THREAD_FIELDS, values, strict=True))}
            record["messages"] = by_thread.get(record["thread_id"], [])
            out.append(trusted(Thread, record))
    return out


def new_messages_with_channel(store: DuckDBStore, day: str) -> list[dict[str, Any]]:
    """Every message posted on `day` (cleaned), in time order, with its channel's name."""
    return store.query(
        """SELECT t.channel_id, t.ts, t.user_name, t.clean_text, coalesce(c.name, t.channel_id) AS channel
           FROM thread_messages t LEFT JOIN channels c ON c.channel_id = t.channel_id
           WHERE t.day = ? AND t.is_new ORDER BY CAST(t.ts AS DECIMAL(18, 6)), t.channel_id""",
        [day],
    )


def days_with_threads(store: DuckDBStore) -> list[str]:
    return [str(r["day"]) for r in store.query("SELECT DISTINCT day FROM threads ORDER BY day")]
