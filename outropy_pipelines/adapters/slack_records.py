"""Slack records (from an export or the Web API) as typed rows: what both `SlackSource`s share.

Records reach these functions only after the boundary (`domain/slack_message.py`) accepted them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from outropy_pipelines.domain.models import Channel, QuarantineRecord, User
from outropy_pipelines.domain.slack_message import looks_plain, message_problem
from outropy_pipelines.domain.slack_text import message_markup

#: a quarantined record's `raw` is cut to this many characters
MAX_RAW_CHARS = 1_000_000
#: how deep `quarantine_raw` copies a record that cannot be serialised as it is
_CLIP_DEPTH = 32


@dataclass
class DayRead:
    """The rows of one day, or of a chunk of it: raw message rows (dicts with RawMessage's fields)
    and quarantine.

    A chunk may be `provisional`: the rows of a big file still being read a piece at a time (see
    `export_day_file.py`), handed on early so that they need not all be held at once. What
    provisional chunks give stands only once a chunk that is not provisional comes: that one keeps
    it, unless it `retract`s it (everything since the last chunk that was not provisional is then
    void, and this chunk holds what replaces it). `settled` gives the chunks that stand; the
    ingest stage's writer takes chunks as they come and undoes retracted ones."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    files_read: int = 0  # day files (export) or conversations (Web API) read
    duplicates: int = 0
    failed_conversations: list[str] = field(default_factory=list)  # ids that could not be read
    not_joined: list[str] = field(default_factory=list)  # conversations the bot is not a member of
    provisional: bool = False
    retract: bool = False


def settled(chunks: Iterable[DayRead]) -> Iterator[DayRead]:
    """The chunks that are kept, each once the chunk that keeps it has come (see `DayRead`):
    provisional chunks are held here, so this is for readers of a day that hold it whole anyway
    (`SlackExportReader.read_day`), not for the ingest stage's writer."""
    pending: list[DayRead] = []
    for chunk in chunks:
        if chunk.retract:
            pending.clear()
        pending.append(chunk)
        if not chunk.provisional:
            yield from pending
            pending.clear()
    if pending:
        raise ValueError("day read ended in a provisional chunk: nothing kept or retracted it")


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("value") or "")
    return str(value or "")


def user_from_record(rec: Mapping[str, Any]) -> User:
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


def users_from_profiles(records: Iterable[Mapping[str, Any]]) -> dict[str, User]:
    """People as the `user_profile` objects real exports embed in messages name them (the first
    profile seen of each user): who posted, when `users.json` is missing."""
    users: dict[str, User] = {}
    for rec in records:
        uid, profile = rec.get("user"), rec.get("user_profile")
        if not isinstance(uid, str) or not uid or uid in users or not isinstance(profile, dict):
            continue
        names = {k: v for k, v in profile.items() if isinstance(v, str) and v}
        name = names.get("name") or names.get("display_name") or uid
        real_name = names.get("real_name") or names.get("display_name") or ""
        users[uid] = User(user_id=uid, name=name, real_name=real_name, is_bot=uid == "USLACKBOT")
    return users


def channel_from_record(
    rec: Mapping[str, Any], kind: str, members: list[str], users: Mapping[str, User]
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


def record_json(record: Any) -> str:
    """The record as compact JSON text (what `raw_messages.json` keeps)."""
    try:
        return orjson.dumps(record).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers beyond 64 bits
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _clip(value: Any, depth: int) -> Any:
    """`value` with containers below `depth` levels replaced by a marker (bounded recursion)."""
    if isinstance(value, dict | list) and depth <= 0:
        return "…(nested deeper)"
    if isinstance(value, dict):
        return {str(k): _clip(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clip(v, depth - 1) for v in value]
    return value


def quarantine_raw(record: Any) -> str:
    """A record that could not be ingested, as text the quarantine table can always store: JSON as
    it came, with `\\u` escapes when its strings are not valid Unicode, and cut short when it is
    too deep to serialise."""
    try:
        text = json.dumps(record, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(record)  # ASCII: lone surrogates as \ud800 escapes
    except (RecursionError, ValueError, TypeError):
        text = json.dumps(_clip(record, _CLIP_DEPTH))
    return text[:MAX_RAW_CHARS]


def quarantine_text(data: bytes) -> str:
    """The bytes of an unreadable file as text the quarantine table can store."""
    return data[: MAX_RAW_CHARS * 2].decode("utf-8", errors="replace")[:MAX_RAW_CHARS]


def accept_message(record: Any) -> tuple[str | None, str | None]:
    """`(json, None)` for a message record ingest takes (its JSON text, as `raw_messages` keeps
    it), or `(None, reason)` for one it quarantines. The boundary, cheap for ordinary records: the
    structural check and orjson's serialisation (which refuses surrogates and deep nesting) prove
    them; anything else goes through the model."""
    if type(record) is dict and looks_plain(record):
        try:
            return orjson.dumps(record).decode("utf-8"), None
        except orjson.JSONEncodeError:
            pass
    problem = message_problem(record)
    if problem:
        return None, problem
    return record_json(record), None


def raw_row(record: dict[str, Any], channel_id: str, day: str, raw_json: str | None = None) -> dict[str, Any]:
    """Typed columns of one message record (the record itself is kept in `json`).

    `text` is the message's `text`, or the text of its blocks when that is empty."""
    get = record.get
    subtype = get("subtype")
    target_ts = None
    thread_ts = get("thread_ts")
    user = get("user")
    text = get("text")
    if not text and "blocks" in record:
        text = message_markup(record)
    if subtype == "message_changed":
        inner = get("message")
        if isinstance(inner, dict):
            target_ts = inner.get("ts")
            thread_ts = inner.get("thread_ts") or thread_ts
            user = inner.get("user") or user
            text = inner.get("text")
            if not text and "blocks" in inner:
                text = message_markup(inner)
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
