"""Stage: one day of raw Slack messages into DuckDB (`raw_messages`, `quarantine`).

Streams: the source's chunks (one conversation at a time for an export) are de-duplicated on
(channel, ts) across the whole day and spilled to Parquet in batches, then written in one
transaction; a day of a million messages never sits in memory as Python objects, and the
database lock is held only for the final write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.adapters.slack_export_reader import DayRead
from outropy_pipelines.adapters.slack_source import SlackSource
from outropy_pipelines.domain.models import QuarantineRecord
from outropy_pipelines.perf import paused_gc

SPILL_BATCH_ROWS = 50_000

# quarantine sources written per day: one day's rows are replaced whichever source wrote them last
DAY_SOURCES = ("export", "slack_api")


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


def write_day(store: DuckDBStore, day: str, read: DayRead, source: str = "export") -> IngestReport:
    quarantine = [{**q.model_dump(), "day": day} for q in read.quarantine]
    sources = sorted({*DAY_SOURCES, source})
    store.replace_partitions(
        [
            ("raw_messages", {"day": day}, read.messages),
            ("quarantine", {"day": day, "source": sources}, quarantine),
        ]
    )
    return IngestReport(
        day=day,
        messages=len(read.messages),
        quarantined=len(read.quarantine),
        files_read=read.files_read,
        duplicates=read.duplicates,
        channels=len({m["channel_id"] for m in read.messages}),
        failed_conversations=list(read.failed_conversations),
        not_joined=list(read.not_joined),
    )


def write_day_chunks(store: DuckDBStore, day: str, chunks: Iterable[DayRead], source: str) -> IngestReport:
    """Write a day delivered in chunks: duplicates across chunks are quarantined, rows are
    spilled in batches, and the day is replaced in one transaction at the end."""
    seen: set[tuple[str, str]] = set()
    channels: set[str] = set()
    quarantine: list[dict] = []
    batch: list[dict] = []
    report = IngestReport(day=day, messages=0, quarantined=0, files_read=0, duplicates=0, channels=0)
    with store.spill() as spill, paused_gc():
        for chunk in chunks:
            report.files_read += chunk.files_read
            report.duplicates += chunk.duplicates
            report.failed_conversations += list(chunk.failed_conversations)
            report.not_joined += list(chunk.not_joined)
            quarantine += [{**q.model_dump(), "day": day} for q in chunk.quarantine]
            for row in chunk.messages:
                key = (row["channel_id"], row["ts"])
                if key in seen:
                    report.duplicates += 1
                    dup = QuarantineRecord(
                        source=source,
                        location=f"{key[0]}/{key[1]}",
                        reason="duplicate message ts in one conversation (the first record was kept)",
                        raw=row["json"],
                    )
                    quarantine.append({**dup.model_dump(), "day": day})
                    continue
                seen.add(key)
                channels.add(key[0])
                batch.append(row)
            if len(batch) >= SPILL_BATCH_ROWS:
                spill.write(batch)
                batch = []
        spill.write(batch)
        sources = sorted({*DAY_SOURCES, source})
        store.replace_partitions(
            [
                ("raw_messages", {"day": day}, spill),
                ("quarantine", {"day": day, "source": sources}, quarantine),
            ]
        )
        report.messages = spill.num_rows
    report.quarantined = len(quarantine)
    report.channels = len(channels)
    return report


def ingest_day(store: DuckDBStore, reader: SlackSource, day: str, timezone: str) -> IngestReport:
    """Read `day` from the source (export or Web API) and replace that day's rows."""
    iter_day = getattr(reader, "iter_day", None)
    chunks = iter_day(day, timezone) if iter_day is not None else [reader.read_day(day, timezone)]
    return write_day_chunks(store, day, chunks, source=reader.name)
