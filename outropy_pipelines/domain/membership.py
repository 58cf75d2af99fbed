"""Who was a member of each conversation on a given day, and who may see a message shared elsewhere.

The directory's member lists are a snapshot taken when the export was made (or when the live
directory was read). People join and leave in between: Slack records it in the conversation as
`channel_join` / `channel_leave` (public) and `group_join` / `group_leave` (private) messages. A
reader's access follows those events from the day they happen:

- a (conversation, person) with events on or before the day: a member when the last of them is a
  join;
- with events only after the day: a member when the first of them is a leave (they were there
  before leaving), not when it is a join (they had not arrived yet);
- with no events at all: the snapshot.

`ConversationAudiences` answers whether content of one conversation may be shown in another: a
message shared or unfurled from conversation A into B shows its text only when everyone who can
see B can see A (A is public, A is B, or B's members are all members of A); otherwise
`without_unshareable` keeps only a link to it (`shared_message_origin` finds where an attachment
comes from).

Pure Python: no database.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from outropy_pipelines.domain.models import Channel

JOIN_SUBTYPES: frozenset[str] = frozenset({"channel_join", "group_join"})
LEAVE_SUBTYPES: frozenset[str] = frozenset({"channel_leave", "group_leave"})
MEMBERSHIP_SUBTYPES: frozenset[str] = JOIN_SUBTYPES | LEAVE_SUBTYPES


@dataclass(frozen=True)
class MembershipEvent:
    """Someone joined or left a conversation on `day` (ISO, the workspace's), at `ts`."""

    channel_id: str
    user_id: str
    day: str
    ts: str
    subtype: str

    @property
    def joins(self) -> bool:
        return self.subtype in JOIN_SUBTYPES


def _ts_key(ts: str) -> tuple[int, int]:
    whole, _, frac = ts.partition(".")
    try:
        return int(whole), int((frac + "000000")[:6])
    except ValueError:
        return (0, 0)


def members_on_day(
    day: str, channels: Mapping[str, Channel], events: Iterable[MembershipEvent]
) -> dict[str, Channel]:
    """`channels` with each conversation's members as they were on `day` (see the module doc).
    Conversations without events are returned as they are (the same objects)."""
    by_pair: dict[tuple[str, str], list[MembershipEvent]] = defaultdict(list)
    for event in events:
        if event.channel_id in channels and event.user_id and event.subtype in MEMBERSHIP_SUBTYPES:
            by_pair[(event.channel_id, event.user_id)].append(event)
    if not by_pair:
        return dict(channels)
    member_on_day: dict[str, dict[str, bool]] = defaultdict(dict)
    for (channel_id, user_id), pair_events in by_pair.items():
        pair_events.sort(key=lambda e: (e.day, _ts_key(e.ts)))
        until = [e for e in pair_events if e.day <= day]
        member = until[-1].joins if until else not pair_events[0].joins
        member_on_day[channel_id][user_id] = member
    out = dict(channels)
    for channel_id, verdicts in member_on_day.items():
        channel = channels[channel_id]
        members = [u for u in channel.members if verdicts.get(u, True)]
        members += sorted(u for u, member in verdicts.items() if member and u not in channel.members)
        if members != channel.members:
            out[channel_id] = channel.model_copy(update={"members": members})
    return out


class ConversationAudiences:
    """Who can see each conversation of the directory: everyone for a public channel, its members
    for the others; a conversation the directory does not know is seen by nobody we know."""

    def __init__(self, channels: Iterable[Channel]) -> None:
        self._public: set[str] = set()
        self._members: dict[str, frozenset[str]] = {}
        for c in channels:
            if c.kind == "public":
                self._public.add(c.channel_id)
            self._members[c.channel_id] = frozenset(c.members)

    def may_show_in(self, origin: str, destination: str) -> bool:
        """May content of `origin` be shown to everyone who sees `destination`?"""
        if origin == destination or origin in self._public:
            return True
        if destination in self._public:
            return False
        origin_members = self._members.get(origin)
        destination_members = self._members.get(destination)
        if origin_members is None or destination_members is None:
            return False
        return destination_members <= origin_members


_ARCHIVE_URL_RE = re.compile(r"/archives/([CGD][A-Z0-9]*)/p\d{16}")


def shared_message_origin(attachment: Any) -> str | None:
    """The conversation a Slack message attachment comes from when it is a shared or unfurled
    message (`is_share`, `is_msg_unfurl`, or a `channel_id` with the message's `ts`, or a link to a
    message in the archives); "" when it is one but its conversation is not named; None for any
    other attachment (a bot's alert, a link preview)."""
    if not isinstance(attachment, dict):
        return None
    channel = attachment.get("channel_id")
    channel = channel if isinstance(channel, str) and channel else None
    url = attachment.get("from_url") or attachment.get("original_url")
    linked = _ARCHIVE_URL_RE.search(url) if isinstance(url, str) else None
    flagged = any(attachment.get(k) for k in ("is_share", "is_msg_unfurl", "is_reply_unfurl"))
    if not (flagged or linked or (channel and attachment.get("ts"))):
        return None
    return channel or (linked.group(1) if linked else "")


def without_unshareable(
    record: dict[str, Any], channel_id: str, audiences: ConversationAudiences
) -> dict[str, Any]:
    """`record` with every message shared or unfurled from a conversation that not everyone in
    `channel_id` may see reduced to a link ("[shared message: <url>]"); the same object when
    nothing had to go."""
    attachments = record.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return record
    kept: list[Any] = []
    changed = False
    for attachment in attachments:
        origin = shared_message_origin(attachment)
        if origin is None or (origin and audiences.may_show_in(origin, channel_id)):
            kept.append(attachment)
            continue
        changed = True
        url = attachment.get("from_url") or attachment.get("original_url")
        link = url if isinstance(url, str) and _ARCHIVE_URL_RE.search(url) else ""
        kept.append({"fallback": f"[shared message: {link}]" if link else "[shared message]"})
    return {**record, "attachments": kept} if changed else record
