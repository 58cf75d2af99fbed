"""SlackExportReader: a standard Slack workspace export directory as typed rows.

Layout understood: `users.json`, `channels.json` (public), `groups.json` (private), `dms.json`,
`mpims.json`, and one folder per conversation (named by channel name, or by id for DMs) holding
`YYYY-MM-DD.json` day files. Files beginning with `_` are not part of an export and are ignored.

Messages stream: `iter_day` yields a day one conversation folder at a time (of all folders, or of a
subset, so that worker processes can each read a share of them), so memory is bounded by the largest
conversation-day, never by the day.

Nothing unreadable is dropped silently: an invalid JSON file, a record that is not a message object
or has no valid `ts`, a duplicate `ts`, a folder that no conversation list names: each becomes a
quarantine record with the reason and the raw content, and everything else goes on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from outropy_pipelines.domain.days import day_of_ts, day_window, parse_day
from outropy_pipelines.domain.models import Channel, Directory, QuarantineRecord, User

_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json$")
_TS = re.compile(r"^\d{9,11}(\.\d{1,6})?$")
_CONVERSATION_LISTS = (
    ("channels.json", "public"),
    ("groups.json", "private"),
    ("dms.json", "im"),
    ("mpims.json", "mpim"),
)


class ExportFormatError(ValueError):
    """The directory is not a Slack export at all."""


@dataclass(frozen=True)
class _DayFiles:
    """A day's ts window and the names (dates) of the day files that may hold its records."""

    day: str  # ISO date
    start: float
    end: float
    utc_names: tuple[str, ...]  # the UTC dates the window overlaps
    neighbour_names: tuple[str, ...]  # the day before and after, when not among those

    @property
    def all_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.utc_names + self.neighbour_names))

    @classmethod
    def of(cls, day: str | dt.date, timezone: str) -> _DayFiles:
        d = parse_day(day)
        start, end = day_window(d, timezone)
        first = dt.datetime.fromtimestamp(start, dt.UTC).date()
        last = dt.datetime.fromtimestamp(end - 1e-6, dt.UTC).date()
        utc = tuple((first + dt.timedelta(days=k)).isoformat() for k in range((last - first).days + 1))
        around = sorted({(d + dt.timedelta(days=k)).isoformat() for k in (-1, 1)} - set(utc))
        return cls(d.isoformat(), start, end, utc, tuple(around))


@dataclass
class DayRead:
    """The rows of one day: raw message rows (dicts with RawMessage's fields) and quarantine."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    files_read: int = 0  # day files (export) or conversations (Web API) read
    duplicates: int = 0
    failed_conversations: list[str] = field(default_factory=list)  # ids that could not be read
    not_joined: list[str] = field(default_factory=list)  # conversations the bot is not a member of


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("value") or "")
    return str(value or "")


def user_from_record(rec: dict[str, Any]) -> User:
    """A `users.json` record, or a `users.list` member (same shape), as a User."""
    profile = rec.get("profile") if isinstance(rec.get("profile"), dict) else {}
    uid = str(rec["id"])
    return User(
        user_id=uid,
        name=str(rec.get("name") or profile.get("display_name") or uid),
        real_name=str(rec.get("real_name") or profile.get("real_name") or ""),
        email=profile.get("email") or rec.get("email") or None,
        tz=rec.get("tz") or None,
        is_bot=bool(rec.get("is_bot") or rec.get("is_app_user") or uid == "USLACKBOT"),
        deleted=bool(rec.get("deleted")),
    )


def channel_from_record(
    rec: dict[str, Any], kind: str, members: list[str], users: dict[str, User]
) -> Channel:
    """A conversation record (export list or `conversations.list`) with its members, as a Channel.

    DMs have no name: they are named `dm-<member names>` from the directory's users.
    """
    cid = str(rec["id"])
    if kind == "im" and rec.get("user") and not members:
        members = [str(rec["user"])]
    name = str(rec.get("name") or "")
    if not name:
        if kind == "im":
            names = sorted(users[m].name if m in users else m for m in members)
            name = "dm-" + "-".join(names) if names else cid
        else:
            name = cid
    return Channel(
        channel_id=cid,
        name=name,
        kind=kind,  # type: ignore[arg-type]
        is_archived=bool(rec.get("is_archived")),
        topic=_text(rec.get("topic")),
        purpose=_text(rec.get("purpose")),
        members=sorted(set(members)),
    )


def record_problem(rec: Any) -> str | None:
    """Why a message record cannot be ingested, or None when it can."""
    if not isinstance(rec, dict):
        return "record is not a JSON object"
    ts = rec.get("ts")
    if ts is None:
        return "message without ts"
    if not isinstance(ts, str | int | float) or not _TS.match(str(ts)):
        return f"message ts is not a Slack timestamp: {ts!r}"
    if rec.get("type", "message") != "message":
        return f"record type {rec.get('type')!r} is not a message"
    return None


def record_json(record: Any) -> str:
    """The record as compact JSON text (what `raw_messages.json` keeps)."""
    try:
        return orjson.dumps(record).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers beyond 64 bits
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def parse_json_bytes(data: bytes) -> Any:
    """Parse a JSON document fast; fall back to the standard library (lenient about NaN and invalid
    UTF-8, and with its clearer error messages) when orjson refuses it. Raises ValueError."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data.decode("utf-8", errors="replace"))


def raw_row(record: dict[str, Any], channel_id: str, day: str, raw_json: str | None = None) -> dict[str, Any]:
    """Typed columns of one message record (the record itself is kept in `json`)."""
    get = record.get
    subtype = get("subtype")
    target_ts = None
    thread_ts = get("thread_ts")
    user = get("user")
    text = get("text")
    if subtype == "message_changed":
        inner = get("message")
        if isinstance(inner, dict):
            target_ts = inner.get("ts")
            thread_ts = inner.get("thread_ts") or thread_ts
            user = inner.get("user") or user
            text = inner.get("text")
    elif subtype == "message_deleted":
        previous = get("previous_message")
        if not isinstance(previous, dict):
            previous = {}
        target_ts = get("deleted_ts") or previous.get("ts")
        thread_ts = previous.get("thread_ts") or thread_ts
        user = previous.get("user") or user
    if not user:
        user = record.get("bot_id") or record.get("username")
    return {
        "day": day,
        "channel_id": channel_id,
        "ts": str(record["ts"]),
        "thread_ts": str(thread_ts) if thread_ts else None,
        "user_id": str(user) if user else None,
        "subtype": str(subtype) if subtype else None,
        "text": text if isinstance(text, str) else "",
        "target_ts": str(target_ts) if target_ts else None,
        "json": raw_json if raw_json is not None else record_json(record),
    }


class SlackExportReader:
    """Reads one export directory. Cheap to construct; reads files on demand.

    One of the two `SlackSource`s (see `adapters/slack_source.py`); the other is the Web API.
    """

    name = "export"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ExportFormatError(f"Slack export directory not found: {self.root}")
        self._directory: Directory | None = None
        self._directory_quarantine: list[QuarantineRecord] = []
        self._folders: dict[str, str] | None = None
        #: day files named by UTC date (true for Slack's exports) until a file shows otherwise
        self._files_by_utc_date = True

    # -- directory ---------------------------------------------------------------------------
    def _load_list(self, name: str) -> list[Any]:
        path = self.root / name
        if not path.exists():
            return []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            self._directory_quarantine.append(
                QuarantineRecord(
                    source="export",
                    location=name,
                    reason=f"invalid JSON: {exc}",
                    raw=path.read_text(encoding="utf-8", errors="replace"),
                )
            )
            return []
        if not isinstance(data, list):
            self._directory_quarantine.append(
                QuarantineRecord(
                    source="export",
                    location=name,
                    reason="expected a JSON list",
                    raw=json.dumps(data)[:100000],
                )
            )
            return []
        return data

    def read_directory(self) -> tuple[Directory, list[QuarantineRecord]]:
        """Users and conversations of the export, and what could not be read."""
        if self._directory is not None:
            return self._directory, list(self._directory_quarantine)
        if not any((self.root / name).exists() for name, _ in _CONVERSATION_LISTS):
            raise ExportFormatError(
                f"{self.root} is not a Slack export: none of channels.json, groups.json, dms.json, "
                "mpims.json is there"
            )
        users: dict[str, User] = {}
        for n, rec in enumerate(self._load_list("users.json")):
            if not isinstance(rec, dict) or not rec.get("id"):
                self._quarantine_directory_record("users.json", n, rec, "user record without an id")
                continue
            user = user_from_record(rec)
            users[user.user_id] = user
        channels: dict[str, Channel] = {}
        folders: dict[str, str] = {}
        for list_name, kind in _CONVERSATION_LISTS:
            for n, rec in enumerate(self._load_list(list_name)):
                if not isinstance(rec, dict) or not rec.get("id"):
                    self._quarantine_directory_record(list_name, n, rec, "conversation record without an id")
                    continue
                cid = str(rec["id"])
                members = [str(m) for m in rec.get("members") or [] if m]
                channels[cid] = channel_from_record(rec, kind, members, users)
                # exports name channel folders by name and DM folders by id; accept either
                folders.setdefault(cid, cid)
                if rec.get("name"):
                    folders[str(rec["name"])] = cid
        self._directory = Directory(users=list(users.values()), channels=list(channels.values()))
        self._folders = folders
        return self._directory, list(self._directory_quarantine)

    def _quarantine_directory_record(self, list_name: str, n: int, rec: Any, reason: str) -> None:
        self._directory_quarantine.append(
            QuarantineRecord(source="export", location=f"{list_name}#{n}", reason=reason, raw=json.dumps(rec))
        )

    def workspace_url(self) -> str | None:
        """An export does not say where the workspace lives: permalinks use the configured URL."""
        return None

    def folder_map(self) -> dict[str, str]:
        """Folder name -> channel id."""
        if self._folders is None:
            self.read_directory()
        assert self._folders is not None
        return self._folders

    def conversation_folders(self) -> Iterator[Path]:
        for path in sorted(self.root.iterdir()):
            if path.is_dir() and not path.name.startswith(("_", ".")):
                yield path

    def available_days(self) -> list[str]:
        """Every day that has a day file in some conversation folder, sorted."""
        days: set[str] = set()
        for folder in self.conversation_folders():
            for f in folder.iterdir():
                m = _DAY_FILE.match(f.name)
                if m:
                    days.add(m.group(1))
        return sorted(days)

    # -- messages ----------------------------------------------------------------------------
    def read_day(self, day: str | dt.date, timezone: str = "UTC") -> DayRead:
        """Every message whose ts falls in `day` (workspace time zone), from every conversation.

        See `iter_day`; this gathers its chunks and drops duplicate ts across them."""
        out = DayRead()
        for chunk in self.iter_day(day, timezone):
            out.messages.extend(chunk.messages)
            out.quarantine.extend(chunk.quarantine)
            out.files_read += chunk.files_read
            out.duplicates += chunk.duplicates
        self._drop_duplicates(out)
        return out

    @property
    def files_by_utc_date(self) -> bool:
        """Whether day files are taken to be named by UTC date (see `iter_day`)."""
        return self._files_by_utc_date

    def day_file_sizes(self, day: str | dt.date, timezone: str = "UTC") -> dict[str, int]:
        """Bytes of the files `iter_day` reads first for `day`, per conversation folder (every
        folder, 0 when it has none): what splitting a day into equal shares goes by."""
        window = _DayFiles.of(day, timezone)
        names = window.utc_names if self._files_by_utc_date else window.all_names
        sizes: dict[str, int] = {}
        for folder in self.conversation_folders():
            sizes[folder.name] = 0
            for name in names:
                with contextlib.suppress(FileNotFoundError):
                    sizes[folder.name] += (folder / f"{name}.json").stat().st_size
        return sizes

    def iter_day(
        self, day: str | dt.date, timezone: str = "UTC", folders: Collection[str] | None = None
    ) -> Iterator[DayRead]:
        """The day's messages one conversation folder at a time (only the folders named in
        `folders`, if given), so memory stays bounded by the largest conversation-day. Duplicate ts
        are not dropped here (`read_day` and the ingest stage do).

        Records are kept by their ts. Slack exports name day files by UTC date, so only the files
        whose UTC date overlaps the day's window are read; if a file turns out to hold records of
        another UTC date (an export named by local dates), the reader switches for good to also
        reading the files of the day before and after: once every folder's own files are read, it
        reads those neighbouring files of every folder (`iter_neighbour_files`). Within a
        conversation, records of the day's own files therefore always come before those of its
        neighbours, wherever the switch happened. Problems in a file are quarantined on the
        partition of the file's own date, so each is reported once.
        """
        window = _DayFiles.of(day, timezone)
        for folder in self._named_folders(folders):
            checking = self._files_by_utc_date
            chunk = self._read_folder(folder, window, window.utc_names, check_utc=checking)
            if checking and not self._files_by_utc_date:
                # this folder gave the naming away in the middle of a file: read its files again
                chunk = self._read_folder(folder, window, window.utc_names, check_utc=False)
            yield chunk
        if not self._files_by_utc_date:
            yield from self.iter_neighbour_files(day, timezone, folders)

    def iter_neighbour_files(
        self, day: str | dt.date, timezone: str = "UTC", folders: Collection[str] | None = None
    ) -> Iterator[DayRead]:
        """The day's messages in the files of the neighbouring dates that are not UTC dates of the
        day, one conversation folder at a time (only `folders`, if given): the rest of a day of an
        export named by local dates. From this call on the reader takes the export to be named so.
        """
        self._files_by_utc_date = False
        window = _DayFiles.of(day, timezone)
        return (
            self._read_folder(folder, window, window.neighbour_names, check_utc=False)
            for folder in self._named_folders(folders)
        )

    def _named_folders(self, names: Collection[str] | None) -> Iterator[Path]:
        if names is None:
            return self.conversation_folders()
        wanted = set(names)
        return (folder for folder in self.conversation_folders() if folder.name in wanted)

    def _read_folder(self, folder: Path, window: _DayFiles, names: Sequence[str], check_utc: bool) -> DayRead:
        day_iso, start, end = window.day, window.start, window.end
        channel_id = self.folder_map().get(folder.name)
        out = DayRead()
        for file_day in names:
            path = folder / f"{file_day}.json"
            if not path.exists():
                continue
            report = file_day == day_iso
            location = f"{folder.name}/{path.name}"
            if channel_id is None:
                if report:
                    out.quarantine.append(
                        QuarantineRecord(
                            source="export",
                            location=location,
                            reason="unknown channel folder: not listed in channels.json, groups.json, "
                            "dms.json or mpims.json",
                            raw=path.read_text(encoding="utf-8", errors="replace"),
                        )
                    )
                continue
            out.files_read += 1
            self._read_file(
                path, location, channel_id, day_iso, file_day if check_utc else None, start, end, report, out
            )
            if check_utc and not self._files_by_utc_date:
                return out  # the caller reads this folder again, without the check
        return out

    def _read_file(
        self,
        path: Path,
        location: str,
        channel_id: str,
        day_iso: str,
        utc_date: str | None,
        start: float,
        end: float,
        report: bool,
        out: DayRead,
    ) -> None:
        data = path.read_bytes()
        try:
            records = parse_json_bytes(data)
        except ValueError as exc:
            if report:
                raw_text = data.decode("utf-8", errors="replace")
                out.quarantine.append(
                    QuarantineRecord(
                        source="export", location=location, reason=f"invalid JSON: {exc}", raw=raw_text
                    )
                )
            return
        if not isinstance(records, list):
            if report:
                raw_text = data.decode("utf-8", errors="replace")
                out.quarantine.append(
                    QuarantineRecord(
                        source="export", location=location, reason="day file is not a JSON list", raw=raw_text
                    )
                )
            return
        lo, hi = day_window(utc_date, "UTC") if utc_date is not None else (float("-inf"), float("inf"))
        kept: list[dict[str, Any]] = []
        append = kept.append
        ts_match = _TS.match
        for n, rec in enumerate(records):
            raw_ts = rec.get("ts") if type(rec) is dict else None
            # the common case is checked here, anything else by `record_problem`
            if not (type(raw_ts) is str and ts_match(raw_ts) and rec.get("type", "message") == "message"):
                problem = record_problem(rec)
                if problem:
                    if report:
                        out.quarantine.append(
                            QuarantineRecord(
                                source="export",
                                location=f"{location}#{n}",
                                reason=problem,
                                raw=json.dumps(rec, ensure_ascii=False),
                            )
                        )
                    continue
            ts = float(rec["ts"])
            if not lo <= ts < hi:
                # a record of another UTC date: this export names its day files otherwise
                self._files_by_utc_date = False
                return
            if start <= ts < end:
                append(raw_row(rec, channel_id, day_iso))
        out.messages.extend(kept)

    @staticmethod
    def _record_problem(rec: Any) -> str | None:
        return record_problem(rec)

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
        for folder in self.conversation_folders():
            channel_id = folders.get(folder.name)
            if channel_id is None:
                continue
            for path in sorted(folder.iterdir()):
                if not _DAY_FILE.match(path.name):
                    continue
                try:
                    records = json.loads(path.read_text(encoding="utf-8", errors="replace"))
                except ValueError:
                    continue
                if not isinstance(records, list):
                    continue
                for rec in records:
                    if self._record_problem(rec):
                        continue
                    yield raw_row(rec, channel_id, day_of_ts(rec["ts"], timezone))
