"""Stage: one day of raw Slack messages into DuckDB (`raw_messages`, `quarantine`).

Streams: the source's chunks (for an export, a day file at a time, a big file a piece at a time
in provisional chunks that the writer undoes when they are retracted) are de-duplicated on
(channel, ts), the first record kept, and spilled to Parquet in batches, then written in one
transaction; a day of a million messages never sits in memory as Python objects, nor a big file's
rows, and the database lock is held only for the final write.

An export's big day is split into shares of conversation folders of about equal bytes, one per
worker process (OUTROPY_WORKERS, default: the CPUs available): this process reads the first share
while spawned processes read the others, each spilling its own Parquet files. The folders of one
channel always go to the same share, so de-duplicating each share de-duplicates the day. When a
worker finds the export named by local dates (see `SlackExportReader.iter_day`) while another read
its share by UTC-date names only, this process reads the neighbouring-date files of the latter.
The first day a reader reads, every share reads the neighbouring files too (the naming is not known
yet), and this process's reader learns what the workers found (`SlackExportReader.learn_naming`).
Output is identical whatever the number of workers. The Web API source is read in this process.

Every record has passed the boundary (`domain/slack_message.py`) in the reader, in whichever
process read it: the rows written here are of records every later stage can handle.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.adapters.slack_records import DayRead
from outropy_pipelines.adapters.slack_source import SlackSource
from outropy_pipelines.domain.models import QuarantineRecord, RawMessage
from outropy_pipelines.gc_pause import paused_gc
from outropy_pipelines.stages.memory import release_freed_memory
from outropy_pipelines.stages.parallel import balanced_shares, run_shares, worker_count
from outropy_pipelines.store import DuckDBStore, ParquetSpill, SpilledFiles
from outropy_pipelines.store import raw_messages as raw_messages_store

# rows are turned into Arrow columns every SPILL_BATCH_ROWS (as dicts, ~1.3 KB a row, they are much
# of what a share's reader holds: 10,000 rows a batch rather than 50,000 took 50-80 MB off a share
# of 500,000 rows, and no CPU time), and written to Parquet files of DuckDB's row group size:
# DuckDB inserts whole row groups in parallel (a million rows in half the time it takes from files
# of 50,000 rows); the files are the same whatever the batches (a row group is a slice of the rows)
SPILL_BATCH_ROWS = 10_000
DUCKDB_ROW_GROUP_ROWS = 122_880
# Below this many bytes of day files (~100,000 messages of ~450 bytes) a day is read in this
# process: a worker starts reading ~0.5-1 s after this process, and processes reading side by side
# each go ~30% slower, so on 2 CPUs two processes only break even at ~200,000 messages.
PARALLEL_MIN_BYTES = 45_000_000

_RAW_COLUMNS = [f.alias or name for name, f in RawMessage.model_fields.items()]
_RAW_SCHEMA = pa.schema([(name, pa.string()) for name in _RAW_COLUMNS])


@dataclass
class IngestReport:
    day: str
    messages: int
    quarantined: int
    files_read: int
    duplicates: int
    channels: int
    failed_conversations: list[str] = field(default_factory=list)
    not_joined: list[str] = field(default_factory=list)


@dataclass
class _ShareOutput:
    """What reading a share gives back to this process: counts, quarantine, and spilled files."""

    report: IngestReport  # files_read, duplicates, failed_conversations, not_joined
    quarantine: list[dict[str, Any]]
    channels: set[str]
    rows: SpilledFiles
    files_by_utc_date: bool | None  # the reader's view of the export's day-file names after the share


@dataclass
class _Mark:
    """What a `_DayWriter` had taken before a run of provisional chunks (see `DayRead`): what it
    goes back to when they are retracted. Its `tables` are held until then, even once spilled
    along with provisional rows (less than a row group of them)."""

    spilled: SpilledFiles
    tables: list[pa.Table]  # the columns of kept rows not spilled yet
    buffered: int
    report: IngestReport
    quarantined: int
    channels: set[str]
    keys: list[tuple[str, str]] = field(default_factory=list)  # (channel, ts) first seen since


class _DayWriter:
    """Rows of a day (or of a share of it) de-duplicated on (channel, ts), the first record kept,
    and spilled to Parquet; quarantine and counts gathered on the way.

    Provisional chunks (a big file's pieces, see `DayRead`) are taken like any other: their rows
    become columns and whole row groups of them are spilled as they come, so a big file's rows are
    never all held. Before the first of them the writer sets a `_Mark`; a chunk that keeps them
    drops it, one that retracts them goes back to it: the Parquet files written since are
    removed, and the columns, keys, quarantine and counts are those of the mark. The spilled
    files are the same either way: a row group is a slice of the rows in the order taken, however
    they came in batches."""

    def __init__(self, day: str, source: str, spill: ParquetSpill) -> None:
        self.day, self.source, self.spill = day, source, spill
        self.report = IngestReport(day=day, messages=0, quarantined=0, files_read=0, duplicates=0, channels=0)
        self.quarantine: list[dict[str, Any]] = []
        self.channels: set[str] = set()
        self.seen: set[tuple[str, str]] = set()
        self._rows: list[dict[str, Any]] = []
        self._tables: list[pa.Table] = []
        self._buffered = 0
        self._mark: _Mark | None = None

    def add(self, chunk: DayRead) -> None:
        if chunk.retract:
            self._retract()
        if chunk.provisional and self._mark is None:
            self._set_mark()
        report = self.report
        report.files_read += chunk.files_read
        report.duplicates += chunk.duplicates
        report.failed_conversations += chunk.failed_conversations
        report.not_joined += chunk.not_joined
        self.quarantine += [{**q.model_dump(), "day": self.day} for q in chunk.quarantine]
        # the chunk's rows are taken over and let go batch by batch as they become Arrow columns:
        # a busy conversation-day's rows are never held twice over (as dicts and as columns)
        rows, chunk.messages = chunk.messages, []
        seen, seen_add = self.seen, self.seen.add
        first_seen = self._mark.keys.append if self._mark is not None else None
        while rows:
            room = SPILL_BATCH_ROWS - len(self._rows)
            batch = rows[:room]
            del rows[:room]
            append = self._rows.append
            for row in batch:
                key = (row["channel_id"], row["ts"])
                if key in seen:
                    self._duplicate(key, row)
                    continue
                seen_add(key)
                if first_seen is not None:
                    first_seen(key)
                append(row)
            del batch, append  # (the list is let go by `_buffer`)
            if len(self._rows) >= SPILL_BATCH_ROWS:
                self._buffer()
        if not chunk.provisional:
            self._mark = None  # what the provisional chunks before gave is kept

    def _set_mark(self) -> None:
        if self._rows:
            self._buffer()  # so that the kept rows not spilled yet are all in `_tables`
        report = self.report
        self._mark = _Mark(
            spilled=self.spill.handoff(),
            tables=list(self._tables),
            buffered=self._buffered,
            report=replace(
                report,
                failed_conversations=list(report.failed_conversations),
                not_joined=list(report.not_joined),
            ),
            quarantined=len(self.quarantine),
            channels=set(self.channels),
        )

    def _retract(self) -> None:
        mark, self._mark = self._mark, None
        if mark is None:
            raise ValueError("a chunk retracts provisional chunks that were not given")
        self.spill.truncate(mark.spilled)
        self._rows, self._tables, self._buffered = [], mark.tables, mark.buffered
        self.report, self.channels = mark.report, mark.channels
        del self.quarantine[mark.quarantined :]
        self.seen.difference_update(mark.keys)
        release_freed_memory()

    def _duplicate(self, key: tuple[str, str], row: dict[str, Any]) -> None:
        self.report.duplicates += 1
        dup = QuarantineRecord(
            source=self.source,
            location=f"{key[0]}/{key[1]}",
            reason="duplicate message ts in one conversation (the first record was kept)",
            raw=row["json"],
        )
        self.quarantine.append({**dup.model_dump(), "day": self.day})

    def _buffer(self) -> None:
        """The pending rows as Arrow columns; whole DuckDB row groups of them to the spill."""
        rows, self._rows = self._rows, []
        columns = [[row[name] for row in rows] for name in _RAW_COLUMNS]
        del rows
        self.channels.update(columns[_RAW_COLUMNS.index("channel_id")])
        table = pa.Table.from_arrays([pa.array(c, pa.string()) for c in columns], schema=_RAW_SCHEMA)
        del columns
        self._tables.append(table)
        self._buffered += table.num_rows
        release_freed_memory()  # the rows' strings, now columns (before a spill's Parquet encoding)
        if self._buffered >= DUCKDB_ROW_GROUP_ROWS:
            self._spill(whole_groups_only=True)

    def _spill(self, whole_groups_only: bool) -> None:
        table = pa.concat_tables(self._tables)
        size = DUCKDB_ROW_GROUP_ROWS
        written = table.num_rows - table.num_rows % size if whole_groups_only else table.num_rows
        for offset in range(0, written, size):
            self.spill.write(table.slice(offset, size))
        rest = table.slice(written)
        self._tables, self._buffered = ([rest], rest.num_rows) if rest.num_rows else ([], 0)
        del table
        release_freed_memory()  # the written columns' pages, for the rows read next

    def finish(self) -> None:
        """Spill everything still pending. No rows come after: the keys seen are dropped (freed
        now, before the garbage collector, paused while they were made, would go through them)."""
        if self._mark is not None:
            raise ValueError("the chunks ended in a provisional one: nothing kept or retracted it")
        if self._rows:
            self._buffer()
        if self._tables:
            self._spill(whole_groups_only=False)
        self.seen = set()

    def output(self, files_by_utc_date: bool | None) -> _ShareOutput:
        return _ShareOutput(
            report=self.report,
            quarantine=self.quarantine,
            channels=self.channels,
            rows=self.spill.handoff(),
            files_by_utc_date=files_by_utc_date,
        )

    def adopt(self, share: _ShareOutput) -> None:
        """Take over a share read by `_read_share` (whose files are under this spill's directory)."""
        self.spill.adopt(share.rows)
        self.report.files_read += share.report.files_read
        self.report.duplicates += share.report.duplicates
        self.report.failed_conversations += share.report.failed_conversations
        self.report.not_joined += share.report.not_joined
        self.quarantine += share.quarantine
        self.channels |= share.channels

    def write(self, store: DuckDBStore) -> IngestReport:
        """Replace the day's rows with the spilled ones and the quarantine, in one transaction."""
        raw_messages_store.replace_day(store, self.day, self.spill, self.quarantine, sources=(self.source,))
        self.report.messages = self.spill.num_rows
        self.report.quarantined = len(self.quarantine)
        self.report.channels = len(self.channels)
        return self.report


def write_day_chunks(store: DuckDBStore, day: str, chunks: Iterable[DayRead], source: str) -> IngestReport:
    """Write a day delivered in chunks: duplicates across chunks are quarantined, rows are
    spilled in batches, and the day is replaced in one transaction at the end."""
    with store.spill() as spill, paused_gc():
        writer = _DayWriter(day, source, spill)
        for chunk in chunks:
            writer.add(chunk)
        writer.finish()
        return writer.write(store)


def folder_shares(
    folder_sizes: Mapping[str, int], folder_map: Mapping[str, str], workers: int
) -> list[tuple[str, ...] | None]:
    """Conversation folders (name -> bytes) in up to `workers` shares of about equal bytes, the
    folders of one channel always in the same share; folders without bytes go to the first share.
    One share of everything is `[None]`."""
    groups: dict[str, list[str]] = defaultdict(list)
    sizes: dict[str, int] = defaultdict(int)
    for name, size in folder_sizes.items():
        # a folder of no channel is a group of its own: its name is no channel id, as every
        # channel id names a folder of that channel
        key = folder_map.get(name, name)
        groups[key].append(name)
        sizes[key] += size
    shares = balanced_shares({key: size for key, size in sizes.items() if size}, workers)
    if shares == [None]:
        return [None]
    keys = [set(share or ()) for share in shares]
    keys[0].update(key for key, size in sizes.items() if not size)
    return [tuple(sorted(name for key in share for name in groups[key])) for share in keys]


def _read_share(
    reader: SlackExportReader, day: str, timezone: str, folders: tuple[str, ...] | None, spill_directory: str
) -> _ShareOutput:
    """Read the day's `folders` (None = all) and spill their rows to Parquet files under
    `spill_directory`. Runs in this process or in a worker."""
    with paused_gc():
        writer = _DayWriter(day, reader.name, ParquetSpill(spill_directory))
        for chunk in reader.iter_day(day, timezone, folders):
            writer.add(chunk)
        writer.finish()
    release_freed_memory()
    return writer.output(reader.files_by_utc_date)


def _spilled_keys(files: Sequence[str]) -> set[tuple[str, str]]:
    """The (channel, ts) of the rows in spilled Parquet files."""
    keys: set[tuple[str, str]] = set()
    for path in files:
        table = pq.read_table(path, columns=["channel_id", "ts"])
        keys.update(zip(table.column("channel_id").to_pylist(), table.column("ts").to_pylist(), strict=True))
    return keys


def _ingest_export_day(
    store: DuckDBStore,
    reader: SlackExportReader,
    day: str,
    timezone: str,
    workers: int | None = None,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
) -> IngestReport:
    """Read `day` from an export and replace that day's rows: in `workers` processes (default
    `worker_count()`) when the day files read first weigh at least `parallel_min_bytes`, else in
    this one."""
    sizes = reader.day_file_sizes(day, timezone)
    wanted = worker_count(workers) if sum(sizes.values()) >= parallel_min_bytes else 1
    shares = folder_shares(sizes, reader.folder_map(), wanted)
    utc_named = reader.files_by_utc_date
    with store.spill() as spill:
        # workers get a copy of the reader as it is now: the first share is read in this process
        # while the others are pickled, and reading changes what the reader knows of the naming
        readers = [reader, *(copy.copy(reader) for _ in shares[1:])]
        outputs = run_shares(
            _read_share,
            [
                (r, day, timezone, share, str(spill.directory))
                for r, share in zip(readers, shares, strict=True)
            ],
        )
        writer = _DayWriter(day, reader.name, spill)
        for out in outputs:
            writer.adopt(out)
        late = [(share, out) for share, out in zip(shares, outputs, strict=True) if out.files_by_utc_date]
        if utc_named and len(late) < len(outputs):
            # A worker found the export named by local dates, others read their shares by UTC-date
            # names only: their neighbouring-date files are read here, their rows coming after
            # those of the share's own files as in one process.
            writer.seen = _spilled_keys([f for _, out in late for f in out.rows.paths])
            folders = [name for share, _ in late for name in share or ()]
            with paused_gc():
                for chunk in reader.iter_neighbour_files(day, timezone, folders):
                    writer.add(chunk)
                writer.finish()
        reader.learn_naming(out.files_by_utc_date for out in outputs)
        return writer.write(store)


def ingest_day(
    store: DuckDBStore,
    reader: SlackSource,
    day: str,
    timezone: str,
    workers: int | None = None,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
) -> IngestReport:
    """Read `day` from the source (export or Web API) and replace that day's rows. An export's big
    day is read by `workers` processes (see `_ingest_export_day`); the Web API in this process."""
    if isinstance(reader, SlackExportReader):
        return _ingest_export_day(store, reader, day, timezone, workers, parallel_min_bytes)
    return write_day_chunks(store, day, [reader.read_day(day, timezone)], source=reader.name)
