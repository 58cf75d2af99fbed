"""Cleaning and threading: raw message rows -> conversations (`Thread`s) for a day.

Per channel, in ts order:
1. Apply edits (`message_changed`: the target takes the new text) and deletions (`message_deleted`:
   the target disappears). A message's own `edited` field already carries the final text.
2. Drop noise: joins/leaves/topic changes and other system subtypes, hidden records, and messages
   with no readable content (a bot post with empty text keeps the text of its blocks and
   attachments). The readable text is cleaned of Slack markup and of credentials
   (`redaction.redact`), and a message shared or unfurled from a conversation that not everyone
   here may see keeps only its link (`membership.without_unshareable`).
3. Slack-native threads are kept exactly as Slack has them: every reply belongs to
   `channel:thread_ts`, `thread_broadcast` replies included.
4. Top-level messages are grouped into reconstructed conversations by `ConversationReconstructor`
   (mentions, name addressing, time, turn taking, lexical overlap). A top-level message linked to
   the root of a Slack thread joins that thread; a Slack thread root always roots its own thread.

`thread_id` is `channel_id:root_ts`, stable across days. For a day window, a thread is emitted when
it has activity in the window (a message or an edit/deletion); its record carries every message up
to the window's end, with `is_new` marking the ones posted inside the window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from outropy_pipelines.domain.conversation_messages import TopLevelMessage
from outropy_pipelines.domain.conversation_reconstruction import ConversationReconstructor
from outropy_pipelines.domain.membership import ConversationAudiences, without_unshareable
from outropy_pipelines.domain.models import Directory, Thread, ThreadMessage
from outropy_pipelines.domain.redaction import redact
from outropy_pipelines.domain.slack_text import (
    SlackTextCleaner,
    mentioned_user_ids,
    message_markup,
    message_text,
)
from outropy_pipelines.domain.trusted import trusted

NOISE_SUBTYPES: frozenset[str] = frozenset(
    {
        "channel_join",
        "channel_leave",
        "group_join",
        "group_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "group_topic",
        "group_purpose",
        "group_name",
        "channel_archive",
        "channel_unarchive",
        "group_archive",
        "group_unarchive",
        "bot_add",
        "bot_remove",
        "pinned_item",
        "unpinned_item",
        "reminder_add",
        "reminder_delete",
        "ekm_access_denied",
        "tombstone",
        "joiner_notification",
        "sh_room_created",
        "huddle_thread",
    }
)
EVENT_SUBTYPES: frozenset[str] = frozenset({"message_changed", "message_deleted", "message_replied"})
# The fields of a message record that building threads reads (text and what `message_text` reads,
# noise and bot markers, thread roots); edit and deletion events keep their whole record. The
# threads stage's export of a day's rows carries only these (and `blocks`): see `store/threads.py`.
RECORD_KEYS: tuple[str, ...] = (
    "text",
    "attachments",
    "files",
    "reply_count",
    "metadata",
    "hidden",
    "bot_id",
    "username",
)
# Our own briefing DMs carry this Slack message metadata event type; reading them back (live mode
# lists the bot's IMs) must never turn yesterday's briefing into today's items.
OWN_BRIEFING_EVENT = "outropy_briefing"


@dataclass(slots=True)
class _Msg:
    ts: str
    thread_ts: str | None
    user_id: str | None
    subtype: str | None
    record: dict[str, Any]
    text: str = ""
    deleted: bool = False


def _ts_order(m: _Msg) -> Decimal:
    """Sort key of a message: its ts as a number (made when sorting, not held by every message)."""
    return Decimal(m.ts)


@dataclass
class ThreadBuildResult:
    threads: list[Thread]
    #: (channel_id, ts) -> thread_id for every message record seen, noise included (under its own id);
    #: empty when `build` was asked not to record them
    assignments: dict[tuple[str, str], str] = field(default_factory=dict)
    noise: int = 0
    edits_applied: int = 0
    deletions_applied: int = 0


def thread_id_of(channel_id: str, root_ts: str) -> str:
    return f"{channel_id}:{root_ts}"


class ThreadBuilder:
    """Builds conversations from raw message rows (dicts with RawMessage's fields)."""

    def __init__(
        self,
        user_names: Mapping[str, str],
        channel_names: Mapping[str, str],
        bot_user_ids: Iterable[str] = (),
        reconstructor: ConversationReconstructor | None = None,
        audiences: ConversationAudiences | None = None,
    ) -> None:
        self.user_names = dict(user_names)
        # who may see each conversation: messages shared from one that not everyone here may see
        # keep only their link (with no directory, only a conversation's own shares are shown)
        self.audiences = audiences or ConversationAudiences(())
        self.bot_user_ids = frozenset(bot_user_ids)
        self.cleaner = SlackTextCleaner(self.user_names, channel_names)
        self.reconstructor = reconstructor or ConversationReconstructor(user_names=self.user_names)

    @classmethod
    def for_directory(cls, directory: Directory) -> ThreadBuilder:
        """A builder that names the directory's people and channels and knows its bots."""
        return cls(
            user_names={u.user_id: u.display_name for u in directory.users},
            channel_names={c.channel_id: c.name for c in directory.channels},
            bot_user_ids=[u.user_id for u in directory.users if u.is_bot],
            audiences=ConversationAudiences(directory.channels),
        )

    def build(
        self,
        rows: Iterable[Mapping[str, Any]],
        day: str,
        window: tuple[float, float] | None = None,
        record_assignments: bool = True,
    ) -> ThreadBuildResult:
        """Threads with activity in `window` ([start, end) Unix seconds; None = everything), and
        with `record_assignments` the thread of every record (a caller that writes only the threads
        need not hold an entry per message of a busy channel).

        `rows` must include, for each thread active in the window, its earlier messages, and the
        top-level messages shortly before the window as context for reconstruction. Each row is
        parsed as it is read and not kept: a caller that streams its rows (an iterator, not a list
        it keeps) never holds a busy channel's raw rows all at once."""
        end = window[1] if window else float("inf")
        by_channel: dict[str, list[_Msg]] = defaultdict(list)
        for row in rows:
            m = _parsed(row, end)
            if m is not None:
                by_channel[row["channel_id"]].append(m)
        result = ThreadBuildResult(threads=[])
        for channel_id in sorted(by_channel):
            self._build_channel(
                channel_id, by_channel.pop(channel_id), day, window, result, record_assignments
            )
        result.threads.sort(key=lambda t: (t.channel_id, Decimal(t.root_ts)))
        return result

    # -- one channel -------------------------------------------------------------------------
    def _build_channel(
        self,
        channel_id: str,
        parsed: list[_Msg],
        day: str,
        window: tuple[float, float] | None,
        result: ThreadBuildResult,
        record_assignments: bool,
    ) -> None:
        """Add the channel's threads to `result` from its parsed rows (in row order). Lets go of
        each intermediate (the parsed messages, their order, the top-level messages) once the next
        step no longer needs it: a busy channel-day is not held several times over."""
        start, end = window if window else (float("-inf"), float("inf"))
        assign = result.assignments if record_assignments else None
        msgs: dict[str, _Msg] = {}
        events: list[_Msg] = []
        for m in parsed:
            if m.subtype in EVENT_SUBTYPES:
                events.append(m)
            else:
                msgs[m.ts] = m
        del parsed[:]
        touched: set[str] = set()
        for ev in sorted(events, key=_ts_order):
            target_ts = row_target(ev)
            if assign is not None:
                assign[(channel_id, ev.ts)] = thread_id_of(channel_id, ev.ts)
            if target_ts is None or target_ts not in msgs:
                continue
            target = msgs[target_ts]
            if ev.subtype == "message_changed":
                new = ev.record.get("message")
                if isinstance(new, dict):
                    merged = dict(target.record)
                    merged.update(new)
                    target.record = merged
                    result.edits_applied += 1
            elif ev.subtype == "message_deleted":
                target.deleted = True
                result.deletions_applied += 1
            if start <= float(ev.ts) < end:
                touched.add(target_ts)

        ordered = sorted(msgs.values(), key=_ts_order)
        del msgs
        content: list[_Msg] = []
        for m in ordered:
            if m.deleted or self._is_noise(m):
                result.noise += 1
                if assign is not None:
                    assign[(channel_id, m.ts)] = thread_id_of(channel_id, m.ts)
                continue
            # credentials go here, before anything reads, clips, stores or shows the text
            record = without_unshareable(m.record, channel_id, self.audiences)
            m.text = redact(self.cleaner.clean(message_text(record)))
            if not m.text:
                result.noise += 1
                if assign is not None:
                    assign[(channel_id, m.ts)] = thread_id_of(channel_id, m.ts)
                continue
            content.append(m)
        del ordered

        # Slack-native threads: replies by thread_ts; the rest is top level.
        thread_of: dict[str, str] = {}  # message ts -> root ts
        top_level: list[_Msg] = []
        slack_roots: set[str] = set()
        for m in content:
            if m.thread_ts and m.thread_ts != m.ts:
                thread_of[m.ts] = m.thread_ts
                slack_roots.add(m.thread_ts)
            else:
                top_level.append(m)
        for m in content:
            if m.thread_ts == m.ts or m.record.get("reply_count"):
                slack_roots.add(m.ts)

        if top_level:
            tops = [
                TopLevelMessage(
                    ts=m.ts,
                    user_id=m.user_id,
                    text=str(m.record.get("text") or m.text),
                    subtype=m.subtype,
                    is_thread_root=m.ts in slack_roots,
                )
                for m in top_level
            ]
            links = self.reconstructor.link(tops)
            del tops
            roots: list[str] = []
            for i, m in enumerate(top_level):
                j = links[i]
                if m.ts in slack_roots or j == i or not 0 <= j < i:
                    roots.append(m.ts)
                else:
                    roots.append(roots[j])
                thread_of[m.ts] = roots[i]

        # collect threads; a thread's messages are let go once its record is made
        members: dict[str, list[_Msg]] = defaultdict(list)
        for m in content:
            members[thread_of[m.ts]].append(m)
        del content, top_level, thread_of
        for root_ts in list(members):
            group = members.pop(root_ts)
            tid = thread_id_of(channel_id, root_ts)
            if assign is not None:
                for m in group:
                    assign[(channel_id, m.ts)] = tid
            new_flags = [start <= float(m.ts) < end for m in group]
            if not any(new_flags) and not any(m.ts in touched for m in group):
                continue
            group_sorted = sorted(zip(group, new_flags, strict=True), key=lambda p: _ts_order(p[0]))
            messages = [self._thread_message(tid, channel_id, m, is_new) for m, is_new in group_sorted]
            participants = sorted({m.user_id for m in group if m.user_id})
            kind = "slack_thread" if root_ts in slack_roots else "reconstructed"
            result.threads.append(
                trusted(
                    Thread,
                    {
                        "day": day,
                        "thread_id": tid,
                        "channel_id": channel_id,
                        "root_ts": root_ts,
                        "kind": kind,
                        "participants": participants,
                        "first_ts": messages[0].ts,
                        "last_ts": messages[-1].ts,
                        "messages": messages,
                    },
                )
            )

    def _is_noise(self, m: _Msg) -> bool:
        if m.subtype in NOISE_SUBTYPES:
            return True
        metadata = m.record.get("metadata")
        if isinstance(metadata, dict) and metadata.get("event_type") == OWN_BRIEFING_EVENT:
            return True
        return bool(m.record.get("hidden")) and m.subtype not in ("bot_message", "thread_broadcast")

    def _thread_message(self, tid: str, channel_id: str, m: _Msg, is_new: bool) -> ThreadMessage:
        user_id = m.user_id
        is_bot = m.subtype == "bot_message" or bool(m.record.get("bot_id")) or (user_id in self.bot_user_ids)
        name = self.user_names.get(user_id or "") or m.record.get("username") or user_id or "unknown"
        raw_text = message_markup(m.record)
        # built from our own typed fields: no re-validation (see domain/trusted.py)
        return trusted(
            ThreadMessage,
            {
                "thread_id": tid,
                "channel_id": channel_id,
                "ts": m.ts,
                "user_id": user_id,
                "user_name": str(name),
                "clean_text": m.text,
                "is_new": is_new,
                "mentions": mentioned_user_ids(raw_text),
                "is_bot": bool(is_bot),
            },
        )


def _parsed(row: Mapping[str, Any], end: float) -> _Msg | None:
    """A raw row as a message (None if posted at or after `end`), its record cut to what building
    reads unless it is an edit or deletion event."""
    ts = str(row["ts"])
    if float(ts) >= end:
        return None
    try:
        raw = row.get("json")
        record = orjson.loads(raw) if isinstance(raw, str | bytes) else dict(raw or {})
    except ValueError:
        record = {}
    subtype = row.get("subtype")
    if subtype not in EVENT_SUBTYPES:
        # keep only what building reads: a busy channel-day holds every record at once,
        # and `blocks`, `user_profile`, `reactions`... are most of a real record's size;
        # `blocks` are read only when there is no text (see `message_markup`)
        slim = {k: record[k] for k in RECORD_KEYS if k in record}
        if "blocks" in record and not str(slim.get("text") or "").strip():
            slim["blocks"] = record["blocks"]
        record = slim
    return _Msg(
        ts=ts,
        thread_ts=row.get("thread_ts"),
        user_id=row.get("user_id"),
        subtype=subtype,
        record=record,
    )


def row_target(ev: _Msg) -> str | None:
    if ev.subtype == "message_changed":
        inner = ev.record.get("message")
        return str(inner.get("ts")) if isinstance(inner, dict) and inner.get("ts") else None
    if ev.subtype == "message_deleted":
        target = ev.record.get("deleted_ts") or (ev.record.get("previous_message") or {}).get("ts")
        return str(target) if target else None
    return None
