"""Stage: one day of raw Slack messages into DuckDB (`raw_messages`, `quarantine`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.adapters.slack_export_reader import DayRead
from outropy_pipelines.adapters.slack_source import SlackSource

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


def ingest_day(store: DuckDBStore, reader: SlackSource, day: str, timezone: str) -> IngestReport:
    """Read `day` from the source (export or Web API) and replace that day's rows."""
    return write_day(store, day, reader.read_day(day, timezone), source=reader.name)
