"""Stage: one day of conversations (`threads`, `thread_messages`) from `raw_messages`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.domain.days import day_window, shift_day
from outropy_pipelines.domain.models import Directory, Thread, ThreadMessage
from outropy_pipelines.domain.thread_builder import ThreadBuilder

# Raw rows a day's threads need: all of the day and the day before (context for reconstructing
# top-level conversations across midnight), plus every earlier message of a Slack thread, or target
# of an edit, that has activity on the day.
_DAY_ROWS_SQL = """
WITH today AS (SELECT channel_id, ts, thread_ts, target_ts FROM raw_messages WHERE day = ?),
active AS (
    SELECT DISTINCT channel_id, thread_ts AS key FROM today WHERE thread_ts IS NOT NULL
    UNION SELECT DISTINCT channel_id, target_ts FROM today WHERE target_ts IS NOT NULL
)
SELECT r.channel_id, r.ts, r.thread_ts, r.user_id, r.subtype, r.target_ts, r.json
FROM raw_messages r
WHERE r.day <= ? AND (
    r.day >= ?
    OR EXISTS (SELECT 1 FROM active a WHERE a.channel_id = r.channel_id
               AND (a.key = r.thread_ts OR a.key = r.ts))
)
"""


@dataclass
class ThreadingReport:
    day: str
    threads: int
    slack_threads: int
    reconstructed: int
    messages: int
    new_messages: int
    noise: int


def builder_for(directory: Directory) -> ThreadBuilder:
    return ThreadBuilder(
        user_names={u.user_id: u.display_name for u in directory.users},
        channel_names={c.channel_id: c.name for c in directory.channels},
        bot_user_ids=[u.user_id for u in directory.users if u.is_bot],
    )


def build_day_threads(
    store: DuckDBStore, builder: ThreadBuilder, day: str, timezone: str
) -> tuple[list[Thread], int]:
    rows = store.query(_DAY_ROWS_SQL, [day, day, shift_day(day, -1)])
    result = builder.build(rows, day=day, window=day_window(day, timezone))
    return result.threads, result.noise


def thread_day(store: DuckDBStore, builder: ThreadBuilder, day: str, timezone: str) -> ThreadingReport:
    threads, noise = build_day_threads(store, builder, day, timezone)
    thread_rows, message_rows = [], []
    for t in threads:
        thread_rows.append(
            {
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
        )
        for m in t.messages:
            message_rows.append({"day": day, **m.model_dump()})
    store.replace_partitions(
        [("threads", {"day": day}, thread_rows), ("thread_messages", {"day": day}, message_rows)]
    )
    return ThreadingReport(
        day=day,
        threads=len(threads),
        slack_threads=sum(1 for t in threads if t.kind == "slack_thread"),
        reconstructed=sum(1 for t in threads if t.kind == "reconstructed"),
        messages=len(message_rows),
        new_messages=sum(1 for m in message_rows if m["is_new"]),
        noise=noise,
    )


def load_threads(store: DuckDBStore, day: str) -> list[Thread]:
    """The day's threads as written by `thread_day`."""
    messages: dict[str, list[ThreadMessage]] = defaultdict(list)
    for r in store.query(
        "SELECT * EXCLUDE (day) FROM thread_messages WHERE day = ? ORDER BY thread_id, CAST(ts AS DECIMAL(18,6))",
        [day],
    ):
        messages[r["thread_id"]].append(ThreadMessage(**r))
    threads = []
    for r in store.query(
        "SELECT * EXCLUDE (message_count, new_message_count) FROM threads WHERE day = ? ORDER BY thread_id",
        [day],
    ):
        r["day"] = str(r["day"])
        threads.append(Thread(**r, messages=messages.get(r["thread_id"], [])))
    return threads
