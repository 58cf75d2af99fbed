"""One day file of a Slack export read for one day (see `SlackExportReader.iter_day`): its records
of the day as rows, its problems quarantined, what it says about the naming of day files.

A big file (see `export_files.array_pieces`) is read from disk a piece at a time, and each
piece's rows are handed on as soon as they are made, as a *provisional* chunk: a later piece may
turn out to be no JSON (the file is invalid, or a cut fell inside a record), and then the file is
parsed whole again and its rows are those of that parse. So the chunks of one file are zero or
more provisional ones (one a piece), then either an empty chunk that keeps them, once every piece
parsed, or one that `retract`s them (see `DayRead`) followed by the chunks of the whole parse. A
file's `files_read` is counted on its last chunk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from outropy_pipelines.adapters.export_files import array_pieces, parse_array_piece, parse_json_bytes
from outropy_pipelines.adapters.slack_records import (
    DayRead,
    accept_message,
    quarantine_raw,
    quarantine_text,
    raw_row,
)
from outropy_pipelines.domain.days import day_of_ts, day_window, parse_day, shift_day
from outropy_pipelines.domain.models import QuarantineRecord
from outropy_pipelines.domain.slack_message import TS_PATTERN

if TYPE_CHECKING:
    from outropy_pipelines.adapters.slack_export_reader import SlackExportReader

#: a file parsed whole is handed on this many records' rows at a time
WHOLE_CHUNK_RECORDS = 10_000
_ts_match = TS_PATTERN.match


@dataclass(frozen=True)
class DayFiles:
    """A day's ts window and the names (dates) of the day files that may hold its records."""

    day: str  # ISO date
    timezone: str
    start: float
    end: float
    utc_names: tuple[str, ...]  # the UTC dates the window overlaps
    neighbour_names: tuple[str, ...]  # the day before and after, when not among those

    @property
    def all_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.utc_names + self.neighbour_names))

    @classmethod
    def of(cls, day: str | dt.date, timezone: str) -> DayFiles:
        d = parse_day(day)
        start, end = day_window(d, timezone)
        first = dt.datetime.fromtimestamp(start, dt.UTC).date()
        last = dt.datetime.fromtimestamp(end - 1e-6, dt.UTC).date()
        utc = tuple((first + dt.timedelta(days=k)).isoformat() for k in range((last - first).days + 1))
        around = sorted({(d + dt.timedelta(days=k)).isoformat() for k in (-1, 1)} - set(utc))
        return cls(d.isoformat(), timezone, start, end, utc, tuple(around))


def near_span(file_day: str, timezone: str) -> tuple[float, float]:
    """[start, end) of the records of a day file that some day reads: from the day before the
    file's date to the day after it, in `timezone` (a record outside is read by no day)."""
    return day_window(shift_day(file_day, -1), timezone)[0], day_window(shift_day(file_day, 1), timezone)[1]


def ts_seconds(record: Any) -> float | None:
    """A day file's record's ts as Unix seconds, when it is a string of the Slack pattern (as
    exports write it), else None."""
    ts = record.get("ts") if type(record) is dict else None
    return float(ts) if type(ts) is str and _ts_match(ts) else None


def _of_file_date_only(record: Any, lo: float, hi: float, start: float, end: float) -> bool:
    """Whether `record`'s ts (see `ts_seconds`) is in its file's UTC date [lo, hi) but not in the
    day's window [start, end): read for a day that is not its file's own, such a record neither is
    of the day nor says anything of the naming of day files, so it need not pass the boundary or be
    serialised."""
    seconds = ts_seconds(record)
    return seconds is not None and lo <= seconds < hi and not start <= seconds < end


class DayFileRead:
    """One day file read for one day: `chunks` yields its records of the day as rows, its problems
    quarantined (when the file is the day's own), and tells the reader about the naming of day
    files (`SlackExportReader.files_by_utc_date`)."""

    def __init__(
        self,
        reader: SlackExportReader,
        stream: BinaryIO,
        size: int,
        location: str,
        channel_id: str,
        file_day: str,
        window: DayFiles,
        report: bool,
    ) -> None:
        self.reader, self.stream, self.size = reader, stream, size
        self.location, self.channel_id = location, channel_id
        self.file_day, self.window, self.report = file_day, window, report

    def chunks(self) -> Iterator[DayRead]:
        """The file's chunks (see the module's docstring). A big file is read from the stream a
        piece at a time, each piece let go once parsed, each record once made a row: it is never
        held whole, as bytes or as Python objects; a smaller one (or a big one that must be parsed
        whole after all) is read whole, its bytes let go once parsed."""
        pieces = array_pieces(self.stream, self.size)
        if pieces is None:
            yield from self._whole()
            return
        naming = self.reader.files_by_utc_date
        n = 0
        for piece in pieces:
            records = None if piece is None else parse_array_piece(piece)
            del piece
            if records is None:
                # what the pieces read said about the naming is undone, the chunks they gave are
                # retracted (before the whole parse, so that whoever took them lets them go first)
                self.reader.restore_naming(naming)
                if n:
                    yield DayRead(provisional=True, retract=True)
                yield from self._whole()
                return
            chunk = DayRead(provisional=True)
            self._take(records, n, chunk)
            n += len(records)
            del records
            yield chunk
            del chunk
        yield DayRead(files_read=1)  # keeps the pieces' chunks

    def _whole(self) -> Iterator[DayRead]:
        """The file parsed whole: its rows, WHOLE_CHUNK_RECORDS records' at a time, each chunk
        handed on as soon as it is made; or the file quarantined when it is no JSON list."""
        self.stream.seek(0)
        data = self.stream.read()
        try:
            records = parse_json_bytes(data)
        except ValueError as exc:
            yield self._unreadable(f"invalid JSON: {exc}", data)
            return
        if not isinstance(records, list):
            yield self._unreadable("day file is not a JSON list", data)
            return
        del data
        n = 0
        while True:
            batch = records[:WHOLE_CHUNK_RECORDS]
            del records[:WHOLE_CHUNK_RECORDS]
            chunk = DayRead(files_read=int(not records))
            self._take(batch, n, chunk)
            n += len(batch)
            del batch
            yield chunk
            del chunk
            if not records:
                return

    def _unreadable(self, reason: str, data: bytes) -> DayRead:
        out = DayRead(files_read=1)
        self._quarantine(out, self.location, reason, quarantine_text(data))
        return out

    def _quarantine(self, out: DayRead, location: str, reason: str, raw: str) -> None:
        if self.report:
            out.quarantine.append(
                QuarantineRecord(source="export", location=location, reason=reason, raw=raw)
            )

    def _take(self, records: list[Any], first: int, out: DayRead) -> None:
        """The rows of the day among `records` (numbered from `first` in the file) into `out`;
        each record is let go once read."""
        reader, window, report = self.reader, self.window, self.report
        day_iso, start, end, tz = window.day, window.start, window.end, window.timezone
        # a record of another UTC date than the file's name: day files are named by local dates
        lo, hi = day_window(self.file_day, "UTC")
        near_lo, near_hi = near_span(self.file_day, tz)
        append = out.messages.append
        for k, rec in enumerate(records):
            records[k] = None
            if not report and _of_file_date_only(rec, lo, hi, start, end):
                continue
            n = first + k
            raw, problem = accept_message(rec)
            if raw is None:
                self._quarantine(out, f"{self.location}#{n}", problem or "", quarantine_raw(rec))
                continue
            ts = float(rec["ts"])
            near = near_lo <= ts < near_hi
            if not lo <= ts < hi and near and reader.files_by_utc_date is not False:
                reader.found_local_date_names()
            if start <= ts < end:
                append(raw_row(rec, self.channel_id, day_iso, raw))
            elif report:
                self._stray(out, n, rec, raw, near)

    def _stray(self, out: DayRead, n: int, rec: dict[str, Any], raw: str, near: bool) -> None:
        """A record of the file's own day's file that is not of that day: quarantined when no read
        of its own day finds it (see `SlackExportReader.iter_day`), else left to that day."""
        reader, tz = self.reader, self.window.timezone
        true_day = day_of_ts(rec["ts"], tz)
        where = f"{self.location}#{n}"
        if not near:
            self._quarantine(
                out,
                where,
                f"message of {true_day} ({tz}) filed in {self.file_day}.json, more than a day away: "
                "no day reads it",
                raw,
            )
        elif (
            reader.read_by_utc_names_only(true_day)
            and self.file_day not in DayFiles.of(true_day, tz).utc_names
        ):
            self._quarantine(
                out,
                where,
                f"message of {true_day} ({tz}) filed in {self.file_day}.json: {true_day} was read before "
                f"this export showed that its day files are named by local dates; run {true_day} again "
                "to ingest it",
                raw,
            )
