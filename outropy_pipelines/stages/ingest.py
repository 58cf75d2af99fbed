"""Stage: one day of raw Slack messages into DuckDB (`raw_messages`, `quarantine`)."""

from __future__ import annotations

from dataclasses import dataclass

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.adapters.slack_export_reader import DayRead, SlackExportReader


@dataclass
class IngestReport:
    day: str
    messages: int
    quarantined: int
    files_read: int
    duplicates: int
    channels: int


def write_day(store: DuckDBStore, day: str, read: DayRead, source: str = "export") -> IngestReport:
    quarantine = [{**q.model_dump(), "day": day} for q in read.quarantine]
    store.replace_partitions(
        [
            ("raw_messages", {"day": day}, read.messages),
            ("quarantine", {"day": day, "source": source}, quarantine),
        ]
    )
    return IngestReport(
        day=day,
        messages=len(read.messages),
        quarantined=len(read.quarantine),
        files_read=read.files_read,
        duplicates=read.duplicates,
        channels=len({m["channel_id"] for m in read.messages}),
    )


def ingest_day(store: DuckDBStore, reader: SlackExportReader, day: str, timezone: str) -> IngestReport:
    """Read `day` from the export and replace that day's rows."""
    return write_day(store, day, reader.read_day(day, timezone))
