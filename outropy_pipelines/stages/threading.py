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
import operator
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from outropy_pipelines.domain.days import day_window
from outropy_pipelines.domain.thread_builder import ThreadBuilder
from outropy_pipelines.gc_pause import paused_gc
from outropy_pipelines.stages.memory import release_freed_memory
from outropy_pipelines.stages.parallel import balanced_shares, run_shares, worker_count
from outropy_pipelines.store import DuckDBStore, ParquetSpill, SpilledFiles
from outropy_pipelines.store import threads as threads_store


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


SPILL_BATCH_ROWS = 50_000
READ_BATCH_ROWS = 20_000
# Below this many rows a day is built in this process: starting a worker (~1 s) would cost more.
PARALLEL_MIN_ROWS = 50_000


def _handed_over(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The rows in order, each dropped from `rows` as it is handed on."""
    rows.reverse()
    while rows:
        yield rows.pop()


def _channel_groups(path: str, channels: frozenset[str] | None = None) -> Iterator[Iterator[dict[str, Any]]]:
    """Rows of a Parquet file ordered by channel, one channel's rows at a time (only `channels`).

    A channel's rows are read as they are consumed, a batch at a time, and each is let go once
    handed on: a busy channel's raw rows are never all held at once. Consume each channel's rows
    before asking for the next channel."""
    wanted = pa.array(sorted(channels), pa.string()) if channels is not None else None

    def rows() -> Iterator[dict[str, Any]]:
        # without pre-buffering, a row group's column data is read as its batches need it
        for batch in pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=READ_BATCH_ROWS):
            if wanted is not None:
                batch = batch.filter(pc.is_in(batch.column("channel_id"), value_set=wanted))
            yield from _handed_over(batch.to_pylist())
            release_freed_memory()

    for _, channel_rows in itertools.groupby(rows(), key=operator.itemgetter("channel_id")):
        yield channel_rows


def channel_shares(path: str, workers: int) -> list[frozenset[str] | None]:
    """The channels of a day's rows (a Parquet file) in up to `workers` shares of about equal rows."""
    if workers <= 1:
        return [None]
    counts = pc.value_counts(pq.read_table(path, columns=["channel_id"]).column("channel_id"))
    sizes = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
    return balanced_shares(sizes, workers)


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
            result = builder.build(rows, day=day, window=window, record_assignments=False)
            report.noise += result.noise
            # each thread is let go once its rows are made (a busy channel's are not held twice)
            threads = result.threads
            del result
            threads.reverse()
            while threads:
                t = threads.pop()
                row, messages = threads_store.thread_rows(day, t)
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
        total = threads_store.export_day_rows(store, day, source)
        wanted = worker_count(workers) if total >= parallel_min_rows else 1
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
        threads_store.replace_day(store, day, threads_spill, messages_spill)
    return report
