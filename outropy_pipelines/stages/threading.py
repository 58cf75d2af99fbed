"""Stage: one day of conversations (`threads`, `thread_messages`) from `raw_messages`.

Streams: the rows the day needs are exported from DuckDB to a Parquet file ordered by channel
(the lock is held only for that export), conversations are built one channel at a time, and their
rows are spilled and written in one transaction at the end.

Channels are independent, so a big day is split into shares of about equal rows, one per worker
process (OUTROPY_WORKERS, default: the CPUs available): this process builds the first share while
spawned processes build the others, each reading its channels from the Parquet file and spilling
its own Parquet files. Output is identical whatever the number of workers.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from outropy_pipelines.adapters.duckdb_store import DuckDBStore, ParquetSpill, SpilledFiles
from outropy_pipelines.domain.days import day_window, shift_day
from outropy_pipelines.domain.models import Directory, Thread, ThreadMessage
from outropy_pipelines.domain.thread_builder import ThreadBuilder
from outropy_pipelines.domain.trusted import trusted
from outropy_pipelines.perf import balanced_shares, paused_gc, run_shares, worker_count

# Raw rows a day's threads need: all of the day, the top-level messages of the day before (context
# for reconstructing conversations across midnight), plus every earlier message of a Slack thread,
# or target of an edit, that has activity on the day. Written as a union of equality joins on row
# ids: a single WHERE with an OR'ed EXISTS is not decorrelated by DuckDB and was 20x slower.
_DAY_ROWS_SQL = """
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


@dataclass
class ThreadingReport:
    day: str
    threads: int
    slack_threads: int
    reconstructed: int
    messages: int
    new_messages: int
    noise: int

    def add(self, other: ThreadingReport) -> None:
        for f in fields(self):
            if f.name != "day":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def builder_for(directory: Directory) -> ThreadBuilder:
    return ThreadBuilder(
        user_names={u.user_id: u.display_name for u in directory.users},
        channel_names={c.channel_id: c.name for c in directory.channels},
        bot_user_ids=[u.user_id for u in directory.users if u.is_bot],
    )


SPILL_BATCH_ROWS = 50_000
READ_BATCH_ROWS = 20_000
# Below this many rows a day is built in this process: starting a worker (~1 s) would cost more.
PARALLEL_MIN_ROWS = 50_000


def _day_rows_params(day: str) -> dict[str, str]:
    return {"day": day, "previous_day": shift_day(day, -1)}


def _channel_groups(path: str, channels: frozenset[str] | None = None) -> Iterator[list[dict[str, Any]]]:
    """Rows of a Parquet file ordered by channel, one channel's rows at a time (only `channels`)."""
    pending: list[dict[str, Any]] = []
    wanted = pa.array(sorted(channels), pa.string()) if channels is not None else None
    for batch in pq.ParquetFile(path).iter_batches(batch_size=READ_BATCH_ROWS):
        if wanted is not None:
            batch = batch.filter(pc.is_in(batch.column("channel_id"), value_set=wanted))
        for channel_id, rows in itertools.groupby(batch.to_pylist(), key=lambda r: r["channel_id"]):
            if pending and pending[0]["channel_id"] != channel_id:
                yield pending
                pending = []
            pending.extend(rows)
    if pending:
        yield pending


def channel_shares(path: str, workers: int) -> list[frozenset[str] | None]:
    """The channels of a day's rows (a Parquet file) in up to `workers` shares of about equal rows."""
    if workers <= 1:
        return [None]
    counts = pc.value_counts(pq.read_table(path, columns=["channel_id"]).column("channel_id"))
    sizes = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
    return balanced_shares(sizes, workers)


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


@dataclass
class _ShareOutput:
    report: ThreadingReport
    threads: SpilledFiles
    messages: SpilledFiles


def _build_share(
    builder: ThreadBuilder,
    source: str,
    channels: frozenset[str] | None,
    day: str,
    window: tuple[float, float],
    threads_directory: str,
    messages_directory: str,
) -> _ShareOutput:
    """Build the threads of `channels` (None = all) from the day's rows in `source` and spill their
    rows to Parquet files under the two directories. Runs in this process or in a worker."""
    report = ThreadingReport(
        day=day, threads=0, slack_threads=0, reconstructed=0, messages=0, new_messages=0, noise=0
    )
    threads_spill, messages_spill = ParquetSpill(threads_directory), ParquetSpill(messages_directory)
    with paused_gc():
        thread_batch: list[dict[str, Any]] = []
        message_batch: list[dict[str, Any]] = []
        for rows in _channel_groups(source, channels):
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
    return _ShareOutput(
        report=report,
        threads=threads_spill.handoff(),
        messages=messages_spill.handoff(),
    )


def thread_day(
    store: DuckDBStore,
    builder: ThreadBuilder,
    day: str,
    timezone: str,
    workers: int | None = None,
    parallel_min_rows: int = PARALLEL_MIN_ROWS,
) -> ThreadingReport:
    """Build and write the day's threads: in `workers` processes (default `worker_count()`) when
    the day has at least `parallel_min_rows` rows, else in this one."""
    window = day_window(day, timezone)
    report = ThreadingReport(
        day=day, threads=0, slack_threads=0, reconstructed=0, messages=0, new_messages=0, noise=0
    )
    with store.spill() as rows_area, store.spill() as threads_spill, store.spill() as messages_spill:
        source = rows_area.directory / "day_rows.parquet"
        total = store.query_to_parquet(
            _DAY_ROWS_SQL + " ORDER BY r.channel_id", _day_rows_params(day), source
        )
        wanted = (workers or worker_count()) if total >= parallel_min_rows else 1
        shares = channel_shares(str(source), wanted)
        outputs = run_shares(
            _build_share,
            [
                (
                    builder,
                    str(source),
                    share,
                    day,
                    window,
                    str(threads_spill.directory),
                    str(messages_spill.directory),
                )
                for share in shares
            ],
        )
        for out in outputs:
            report.add(out.report)
            threads_spill.adopt(out.threads)
            messages_spill.adopt(out.messages)
        store.replace_partitions(
            [("threads", {"day": day}, threads_spill), ("thread_messages", {"day": day}, messages_spill)]
        )
    return report


_MESSAGE_FIELDS = list(ThreadMessage.model_fields)
_THREAD_FIELDS = [f for f in Thread.model_fields if f not in ("day", "messages")]


def load_threads(store: DuckDBStore, day: str, channels: frozenset[str] | None = None) -> list[Thread]:
    """The day's threads as written by `thread_day` (of `channels` only, if given), messages in time order.

    The rows come from our own table, written from validated models, so they are rebuilt with
    `trusted` (no second validation: it cost more than the read itself at 200,000 messages).
    """
    where, params = "day = ?", [day]
    if channels is not None:
        where, params = "day = ? AND channel_id IN (SELECT unnest(?))", [day, sorted(channels)]
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
    with paused_gc():
        columns = [messages.column(f).to_pylist() for f in _MESSAGE_FIELDS]
        for values in zip(*columns, strict=True):
            record = dict(zip(_MESSAGE_FIELDS, values, strict=True))
            by_thread[values[0]].append(trusted(ThreadMessage, record))
        for values in zip(*(threads.column(f).to_pylist() for f in _THREAD_FIELDS), strict=True):
            record = {"day": day, **dict(zip(_THREAD_FIELDS, values, strict=True))}
            record["messages"] = by_thread.get(record["thread_id"], [])
            out.append(trusted(Thread, record))
    return out
