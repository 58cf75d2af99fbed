"""Stage: one day of conversations (`threads`, `thread_messages`) from `raw_messages`.

Streams: the rows the day needs are exported from DuckDB to a Parquet file ordered by channel
(the lock is held only for that export), conversations are built one channel at a time, and their
rows are spilled and written in one transaction at the end.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.domain.days import day_window, shift_day
from outropy_pipelines.domain.models import Directory, Thread, ThreadMessage
from outropy_pipelines.domain.thread_builder import ThreadBuilder
from outropy_pipelines.perf import paused_gc

# Raw rows a day's threads need: all of the day, the top-level messages of the day before (context
# for reconstructing conversations across midnight), plus every earlier message of a Slack thread,
# or target of an edit, that has activity on the day.
_DAY_ROWS_SQL = """
WITH today AS (SELECT channel_id, ts, thread_ts, target_ts FROM raw_messages WHERE day = ?),
active AS (
    SELECT DISTINCT channel_id, thread_ts AS key FROM today WHERE thread_ts IS NOT NULL
    UNION SELECT DISTINCT channel_id, target_ts FROM today WHERE target_ts IS NOT NULL
)
SELECT r.channel_id, r.ts, r.thread_ts, r.user_id, r.subtype, r.target_ts, r.json
FROM raw_messages r
WHERE r.day <= ? AND (
    r.day = ?
    OR (r.day = ? AND (r.thread_ts IS NULL OR r.thread_ts = r.ts))
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


SPILL_BATCH_ROWS = 50_000
READ_BATCH_ROWS = 20_000


def _day_rows_params(day: str) -> list[str]:
    return [day, day, day, shift_day(day, -1)]


def _channel_groups(path: str) -> Iterator[list[dict[str, Any]]]:
    """Rows of a Parquet file ordered by channel, one channel's rows at a time."""
    pending: list[dict[str, Any]] = []
    for batch in pq.ParquetFile(path).iter_batches(batch_size=READ_BATCH_ROWS):
        for channel_id, rows in itertools.groupby(batch.to_pylist(), key=lambda r: r["channel_id"]):
            if pending and pending[0]["channel_id"] != channel_id:
                yield pending
                pending = []
            pending.extend(rows)
    if pending:
        yield pending


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
    return row, [{"day": day, **m.model_dump()} for m in t.messages]


def thread_day(store: DuckDBStore, builder: ThreadBuilder, day: str, timezone: str) -> ThreadingReport:
    window = day_window(day, timezone)
    report = ThreadingReport(
        day=day, threads=0, slack_threads=0, reconstructed=0, messages=0, new_messages=0, noise=0
    )
    with (
        store.spill() as rows_area,
        store.spill() as threads_spill,
        store.spill() as messages_spill,
        paused_gc(),
    ):
        source = rows_area.directory / "day_rows.parquet"
        store.query_to_parquet(_DAY_ROWS_SQL + " ORDER BY r.channel_id", _day_rows_params(day), source)
        thread_batch: list[dict[str, Any]] = []
        message_batch: list[dict[str, Any]] = []
        for rows in _channel_groups(str(source)):
            result = builder.build(rows, day=day, window=window)
            report.noise += result.noise
            for t in result.threads:
                row, messages = thread_rows(day, t)
                thread_batch.append(row)
                message_batch.extend(messages)
                report.threads += 1
                report.slack_threads += t.kind == "slack_thread"
                report.reconstructed += t.kind == "reconstructed"
                report.messages += len(messages)
                report.new_messages += row["new_message_count"]
            if len(message_batch) >= SPILL_BATCH_ROWS:
                threads_spill.write(thread_batch)
                messages_spill.write(message_batch)
                thread_batch, message_batch = [], []
        threads_spill.write(thread_batch)
        messages_spill.write(message_batch)
        store.replace_partitions(
            [("threads", {"day": day}, threads_spill), ("thread_messages", {"day": day}, messages_spill)]
        )
    return report


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
