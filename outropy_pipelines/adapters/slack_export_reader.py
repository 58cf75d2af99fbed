"""SlackExportReader: a standard Slack workspace export (a directory or a .zip) as typed rows.

Layout understood: `users.json`, `channels.json` (public), `groups.json` (private), `dms.json`,
`mpims.json`, and one folder per conversation holding `YYYY-MM-DD.json` day files (see
`export_files.py` for zips and wrapping folders). Files beginning with `_` are not part of an export
and are ignored. A folder is matched to its conversation by the conversation's name, its id, or one
of its `previous_names`. A folder no list names is still read, as a conversation of its own (named
and identified by the folder) whose members are the people who posted in it; it is private to them
unless `unlisted_visibility` is "public", and the directory warns about it.

Messages stream: `iter_day` yields a day one conversation folder at a time (of all folders, or of a
subset, so that worker processes can each read a share of them), a day file at a time, and a big
file a piece at a time (provisional chunks, see `DayRead`), so memory is bounded by a piece of the
largest conversation-day's file, never by the day.

Nothing unreadable is dropped silently: an invalid JSON file, a file whose name is no date, a record
that does not fit the boundary model (`domain/slack_message.py`), a duplicate `ts`, a message filed
more than a day away from its true day: each becomes a quarantine record with the reason and the raw
content, and everything else goes on. When `users.json` is missing or unreadable, people are known
from the `user_profile` objects of their messages, and the directory says so in `warnings`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from outropy_pipelines.adapters.export_day_file import DayFileRead, DayFiles, near_span, ts_seconds
from outropy_pipelines.adapters.export_files import (
    EXPORT_LISTS,
    ExportFiles,
    ExportFormatError,
    parse_json_bytes,
)
from outropy_pipelines.adapters.slack_records import (
    DayRead,
    accept_message,
    channel_from_record,
    quarantine_raw,
    quarantine_text,
    raw_row,
    settled,
    user_from_record,
    users_from_profiles,
)
from outropy_pipelines.domain.days import day_of_ts, day_window
from outropy_pipelines.domain.models import Channel, Directory, QuarantineRecord, User
from outropy_pipelines.domain.slack_message import conversation_problem, user_problem

__all__ = ["DayRead", "ExportFormatError", "SlackExportReader", "accept_message"]

log = logging.getLogger(__name__)

_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json$")
_CONVERSATION_LISTS = tuple(zip(EXPORT_LISTS, ("public", "private", "im", "mpim"), strict=True))
#: files real exports keep in conversation folders besides the day files (not messages)
_FOLDER_EXTRAS = frozenset({"canvas_in_the_conversation.json"})
UnlistedVisibility = Literal["posters", "public"]


def _day_name(name: str) -> str | None:
    """The date of a day file's name (`2026-11-02.json`), or None when it names no real date."""
    m = _DAY_FILE.match(name)
    if not m:
        return None
    try:
        dt.date.fromisoformat(m.group(1))
    except ValueError:
        return None
    return m.group(1)


class SlackExportReader:
    """Reads one export (directory or .zip). Cheap to construct; reads files on demand.

    One of the two `SlackSource`s (see `adapters/slack_source.py`); the other is the Web API.
    """

    name = "export"

    def __init__(self, root: str | Path, unlisted_visibility: UnlistedVisibility = "posters") -> None:
        if unlisted_visibility not in ("posters", "public"):
            raise ValueError(
                f"unlisted folder visibility must be posters or public, not {unlisted_visibility!r}"
            )
        self.root = Path(root)
        self.files = ExportFiles(self.root)
        self.unlisted_visibility = unlisted_visibility
        #: what the directory could only guess (missing users.json, unlisted folders)
        self.warnings: list[str] = []
        self._directory: Directory | None = None
        self._directory_quarantine: list[QuarantineRecord] = []
        self._folders: dict[str, str] | None = None
        #: whether day files are named by UTC date: None until a first day's files say (see `iter_day`)
        self._files_by_utc_date: bool | None = None
        #: days read by their UTC-date files only (replaced, never changed in place: see ingest)
        self._utc_only_days: frozenset[str] = frozenset()

    # -- directory ---------------------------------------------------------------------------
    def _load_list(self, name: str) -> tuple[list[Any] | None, str | None]:
        """A root list file's records, or (None, why not)."""
        if not self.files.has_root_file(name):
            return None, "missing"
        data = self.files.read_root_file(name)
        try:
            records = parse_json_bytes(data)
        except ValueError as exc:
            reason = f"invalid JSON: {exc}"
            self._directory_quarantine.append(
                QuarantineRecord(source="export", location=name, reason=reason, raw=quarantine_text(data))
            )
            return None, reason
        if not isinstance(records, list):
            reason = "expected a JSON list"
            self._directory_quarantine.append(
                QuarantineRecord(source="export", location=name, reason=reason, raw=quarantine_raw(records))
            )
            return None, reason
        return records, None

    def read_directory(self) -> tuple[Directory, list[QuarantineRecord]]:
        """Users and conversations of the export, and what could not be read."""
        if self._directory is not None:
            return self._directory, list(self._directory_quarantine)
        if not any(self.files.has_root_file(name) for name in EXPORT_LISTS):
            raise ExportFormatError(
                f"{self.files.location} is not a Slack export: none of channels.json, groups.json, "
                "dms.json, mpims.json is there"
            )
        users: dict[str, User] = {}
        user_records, users_unreadable = self._load_list("users.json")
        for n, rec in enumerate(user_records or []):
            problem = user_problem(rec)
            if problem:
                self._quarantine_directory_record("users.json", n, rec, problem)
                continue
            user = user_from_record(rec)
            users[user.user_id] = user
        conversations: list[tuple[dict[str, Any], str]] = []
        for list_name, kind in _CONVERSATION_LISTS:
            records, _ = self._load_list(list_name)
            for n, rec in enumerate(records or []):
                problem = conversation_problem(rec)
                if problem:
                    self._quarantine_directory_record(list_name, n, rec, problem)
                    continue
                conversations.append((rec, kind))
        folders = self._match_folders(conversations)
        if not users:
            why = users_unreadable or "without a valid user record"
            users = users_from_profiles(
                r for folder in self.files.folders() for r in self._folder_records(folder)
            )
            self._warn(
                f"users.json is {why}: {len(users)} people are known from the user_profile of their "
                "messages (names only: no emails, time zones or bot flags)"
            )
        channels: dict[str, Channel] = {}
        for rec, kind in conversations:
            members = [m for m in rec.get("members") or [] if m]
            channels[str(rec["id"])] = channel_from_record(rec, kind, members, users)
        unlisted = [folder for folder in self.files.folders() if folder not in folders]
        for folder in unlisted:
            # a folder named by a conversation's id keeps it; any other is identified by its name
            cid = folder
            posters = sorted({str(r["user"]) for r in self._folder_records(folder) if r.get("user")})
            kind = "public" if self.unlisted_visibility == "public" else "private"
            channels[cid] = Channel(channel_id=cid, name=folder, kind=kind, members=posters)
            folders[folder] = cid
        if unlisted:
            self._warn(
                f"{len(unlisted)} conversation folder(s) not listed in channels.json, groups.json, dms.json "
                f"or mpims.json, read as conversations of their own, visible to "
                f"{'everyone' if self.unlisted_visibility == 'public' else 'the people who posted in them'} "
                f"(OUTROPY_UNLISTED_FOLDER_VISIBILITY={self.unlisted_visibility}): {', '.join(unlisted)}"
            )
        self._quarantine_odd_files()
        self._directory = Directory(users=list(users.values()), channels=list(channels.values()))
        self._folders = folders
        return self._directory, list(self._directory_quarantine)

    def _match_folders(self, conversations: Sequence[tuple[dict[str, Any], str]]) -> dict[str, str]:
        """Folder name -> channel id: by name or id first (exports name channel folders by name and
        DM folders by id), then by a former name a folder may still carry."""
        folders: dict[str, str] = {}
        for rec, _ in conversations:
            cid = str(rec["id"])
            folders.setdefault(cid, cid)
            if rec.get("name"):
                folders[str(rec["name"])] = cid
        for rec, _ in conversations:
            for former in rec.get("previous_names") or []:
                folders.setdefault(str(former), str(rec["id"]))
        return folders

    def _folder_records(self, folder: str) -> Iterator[dict[str, Any]]:
        """The message records of a folder's day files that pass the boundary (unreadable files and
        records are quarantined when their day is read)."""
        for rec, _ in self._accepted(folder):
            yield rec

    def _accepted(self, folder: str) -> Iterator[tuple[dict[str, Any], Any]]:
        """(record, its raw form from `accept_message`) of every record of a folder's day files
        that passes the boundary."""
        for name in self.files.folder_files(folder):
            if _day_name(name) is None:
                continue
            try:
                records = parse_json_bytes(self.files.read(folder, name))
            except ValueError:
                continue
            for rec in records if isinstance(records, list) else ():
                raw, problem = accept_message(rec)
                if problem is None:
                    yield rec, raw

    def _quarantine_odd_files(self) -> None:
        """Files in conversation folders that are no day file (e.g. `2026-13-45.json`): not read as
        messages, so quarantined here, once, with their content."""
        for folder in self.files.folders():
            for name in self.files.folder_files(folder):
                if name.startswith(("_", ".")) or name in _FOLDER_EXTRAS or not name.endswith(".json"):
                    continue
                if _day_name(name) is None:
                    self._directory_quarantine.append(
                        QuarantineRecord(
                            source="export",
                            location=f"{folder}/{name}",
                            reason="file name is not a day (YYYY-MM-DD.json): its messages are not read",
                            raw=quarantine_text(self.files.read(folder, name)),
                        )
                    )

    def _quarantine_directory_record(self, list_name: str, n: int, rec: Any, reason: str) -> None:
        self._directory_quarantine.append(
            QuarantineRecord(
                source="export", location=f"{list_name}#{n}", reason=reason, raw=quarantine_raw(rec)
            )
        )

    def _warn(self, message: str) -> None:
        """Kept for whoever shows them (`slack_directory` logs them as run warnings and lists them
        in its metadata; `outropy threads`/`items` print them), once each."""
        log.info("Slack export %s: %s", self.files.location, message)
        self.warnings.append(message)

    def workspace_url(self) -> str | None:
        """An export does not say where the workspace lives: permalinks use the configured URL."""
        return None

    def folder_map(self) -> dict[str, str]:
        """Folder name -> channel id (of every folder: unlisted ones included)."""
        if self._folders is None:
            self.read_directory()
        assert self._folders is not None
        return self._folders

    def conversation_folders(self) -> list[str]:
        """The names of the conversation folders, sorted."""
        return self.files.folders()

    def available_days(self, timezone: str = "UTC") -> list[str]:
        """Every day with a day file in some conversation folder, and every day (in `timezone`) of
        a message filed within a day of it, sorted: an export named by local dates, or read in
        another time zone, has messages on days that have no file of their own. Reads every file."""
        days: set[str] = set()
        for folder in self.files.folders():
            for name in self.files.folder_files(folder):
                file_day = _day_name(name)
                if file_day is None:
                    continue
                days.add(file_day)
                try:
                    records = parse_json_bytes(self.files.read(folder, name))
                except ValueError:
                    continue
                days.update(_days_near(records, file_day, timezone))
        return sorted(days)

    # -- messages ----------------------------------------------------------------------------
    def read_day(self, day: str | dt.date, timezone: str = "UTC") -> DayRead:
        """Every message whose ts falls in `day` (workspace time zone), from every conversation.

        See `iter_day`; this gathers its chunks (as `settled`) and drops duplicate ts across them."""
        out = DayRead()
        for chunk in settled(self.iter_day(day, timezone)):
            out.messages.extend(chunk.messages)
            out.quarantine.extend(chunk.quarantine)
            out.files_read += chunk.files_read
            out.duplicates += chunk.duplicates
        self._drop_duplicates(out)
        return out

    @property
    def files_by_utc_date(self) -> bool | None:
        """Whether day files are taken to be named by UTC date (see `iter_day`); None before the
        first day is read."""
        return self._files_by_utc_date

    def found_local_date_names(self) -> None:
        """A day file holds a record of another UTC date than its name, within a day of it: the
        export's day files are named by local dates (see `iter_day`)."""
        self._files_by_utc_date = False

    def restore_naming(self, files_by_utc_date: bool | None) -> None:
        """Undo what a read that was given up found about the naming (`files_by_utc_date` as it
        was before it)."""
        self._files_by_utc_date = files_by_utc_date

    def read_by_utc_names_only(self, day: str) -> bool:
        """Whether `day` was read from its UTC-date files only, before the export showed that its
        day files are named by local dates (its records in other files were then not read)."""
        return day in self._utc_only_days

    def learn_naming(self, files_by_utc_date: Iterable[bool | None]) -> None:
        """Take what worker processes found out about the naming of day files."""
        found = list(files_by_utc_date)
        if False in found:
            self._files_by_utc_date = False
        elif self._files_by_utc_date is None and True in found:
            self._files_by_utc_date = True

    def day_file_sizes(self, day: str | dt.date, timezone: str = "UTC") -> dict[str, int]:
        """Bytes of the files `iter_day` reads first for `day`, per conversation folder (every
        folder, 0 when it has none): what splitting a day into equal shares goes by."""
        window = DayFiles.of(day, timezone)
        names = window.utc_names if self._files_by_utc_date else window.all_names
        return {
            folder: sum(self.files.size(folder, f"{name}.json") for name in names)
            for folder in self.files.folders()
        }

    def iter_day(
        self, day: str | dt.date, timezone: str = "UTC", folders: Collection[str] | None = None
    ) -> Iterator[DayRead]:
        """The day's messages one conversation folder at a time (only the folders named in
        `folders`, if given), a day file at a time, and a big file a piece at a time in
        provisional chunks (see `DayRead` and `export_day_file.py`), so memory stays bounded by a
        piece of the largest conversation-day's file. Duplicate ts are not dropped here (`read_day`
        and the ingest stage do).

        Records are kept by their ts. Slack exports may name day files by UTC date or by a local
        date. The first day a reader reads, it reads the files of the day before and after too,
        and learns the naming from them: a record of another UTC date than its file's name means
        local dates. Named by UTC date, only the files whose UTC date overlaps the day's window are
        read afterwards; if a file then turns out to hold records of another UTC date, the reader
        switches for good to also reading the files of the day before and after: once every
        folder's own files are read, it reads those neighbouring files of every folder
        (`iter_neighbour_files`). Within a conversation, records of the day's own files therefore
        always come before those of its neighbours.

        Problems in a file are quarantined on the partition of the file's own date, so each is
        reported once; so is a record more than a day away from its file's date (no day reads that
        file), and a record of a day this reader read by UTC-date files only before it learnt that
        the files are named by local dates. Limitation: a record filed one day away from its own
        day, in an export named by UTC date, is missed when a run reads its day (not first) and
        another run its file.
        """
        window = DayFiles.of(day, timezone)
        probing = self._files_by_utc_date is None
        for folder in self._named_folders(folders):
            yield from self._read_folder(folder, window, window.utc_names)
        if probing or not self._files_by_utc_date:
            yield from self._neighbour_files(window, folders)
        if probing and self._files_by_utc_date is None:
            self._files_by_utc_date = True
        elif not probing and self._files_by_utc_date:
            self._utc_only_days = self._utc_only_days | {window.day}

    def iter_neighbour_files(
        self, day: str | dt.date, timezone: str = "UTC", folders: Collection[str] | None = None
    ) -> Iterator[DayRead]:
        """The day's messages in the files of the neighbouring dates that are not UTC dates of the
        day, one conversation folder at a time (only `folders`, if given): the rest of a day of an
        export named by local dates. From this call on the reader takes the export to be named so.
        """
        self._files_by_utc_date = False
        return self._neighbour_files(DayFiles.of(day, timezone), folders)

    def _neighbour_files(self, window: DayFiles, folders: Collection[str] | None) -> Iterator[DayRead]:
        self._utc_only_days = self._utc_only_days - {window.day}
        return (
            chunk
            for folder in self._named_folders(folders)
            for chunk in self._read_folder(folder, window, window.neighbour_names)
        )

    def _named_folders(self, names: Collection[str] | None) -> Iterator[str]:
        if names is None:
            return iter(self.files.folders())
        wanted = set(names)
        return (folder for folder in self.files.folders() if folder in wanted)

    def _read_folder(self, folder: str, window: DayFiles, names: Sequence[str]) -> Iterator[DayRead]:
        """The chunks of a folder's files of `names` (see `DayFileRead`), in that order."""
        channel_id = self.folder_map().get(folder)
        for file_day in names:
            name, report = f"{file_day}.json", file_day == window.day
            location = f"{folder}/{name}"
            try:
                stream = self.files.open(folder, name)
            except FileNotFoundError:
                continue
            with stream:
                if channel_id is not None:
                    read = DayFileRead(
                        self,
                        stream,
                        self.files.size(folder, name),
                        location,
                        channel_id,
                        file_day,
                        window,
                        report,
                    )
                    yield from read.chunks()
                elif report:  # a folder that appeared after the directory was read
                    reason = "unknown channel folder: not there when the directory was read"
                    raw = quarantine_text(stream.read())
                    yield DayRead(
                        quarantine=[
                            QuarantineRecord(source="export", location=location, reason=reason, raw=raw)
                        ]
                    )

    @staticmethod
    def _drop_duplicates(out: DayRead) -> None:
        seen: dict[tuple[str, str], int] = {}
        keep: list[dict[str, Any]] = []
        for row in out.messages:
            key = (row["channel_id"], row["ts"])
            if key in seen:
                out.duplicates += 1
                out.quarantine.append(
                    QuarantineRecord(
                        source="export",
                        location=f"{row['channel_id']}/{row['ts']}",
                        reason="duplicate message ts in one conversation (the first record was kept)",
                        raw=row["json"],
                    )
                )
                continue
            seen[key] = len(keep)
            keep.append(row)
        out.messages = keep

    def iter_all_messages(self, timezone: str = "UTC") -> Iterable[dict[str, Any]]:
        """Every message of every conversation, as raw rows (for the `threads`/`items` tools)."""
        folders = self.folder_map()
        for folder in self.files.folders():
            channel_id = folders[folder]
            for rec, raw in self._accepted(folder):
                yield raw_row(rec, channel_id, day_of_ts(rec["ts"], timezone), raw)


def _days_near(records: Any, file_day: str, timezone: str) -> set[str]:
    """The days (in `timezone`) of the records of a day file that are not of the file's own day,
    within a day of it (see `DayFileRead._stray` for the others)."""
    if not isinstance(records, list):
        return set()
    start, end = day_window(file_day, timezone)
    near_lo, near_hi = near_span(file_day, timezone)
    days: set[str] = set()
    for rec in records:
        value = ts_seconds(rec)
        if value is not None and not start <= value < end and near_lo <= value < near_hi:
            days.add(day_of_ts(value, timezone))
    return days
