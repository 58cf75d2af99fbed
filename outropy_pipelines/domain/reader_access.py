"""What one reader may see on any day, by the briefings' own rule.

A reader's briefing of day D shows an item only when `briefing_ranking.is_visible_to` holds for the
reader's context on D: the item's conversation and every source's conversation are visible to them
(public channels, and the private channels, DMs and group DMs they are a member of), with membership
as it was on D (`membership.members_on_day`: joins and leaves count from the day they happen).
`ReaderAccess` applies exactly that rule to items of any day, for the tools that answer one reader
outside a briefing (the MCP server); it decides nothing of its own.

Pure Python: no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from outropy_pipelines.domain.briefing_ranking import ReaderContext, is_visible_to, reader_context
from outropy_pipelines.domain.membership import MembershipEvent, members_on_day
from outropy_pipelines.domain.models import Channel, SourceRef


class ReaderAccess:
    """The reader `user_id`'s view of the directory `channels`, day by day (cached per day)."""

    def __init__(
        self, user_id: str, channels: Mapping[str, Channel], events: Iterable[MembershipEvent]
    ) -> None:
        self.user_id = user_id
        self._channels = dict(channels)
        self._events: Sequence[MembershipEvent] = list(events)
        self._contexts: dict[str, ReaderContext] = {}

    def context(self, day: str) -> ReaderContext:
        """The reader's context on `day`, as `brief_day` builds it for that day's briefing."""
        found = self._contexts.get(day)
        if found is None:
            channels = members_on_day(day, self._channels, self._events)
            found = self._contexts[day] = reader_context(self.user_id, channels.values())
        return found

    def may_see(self, day: str, channel_id: str, sources: Iterable[SourceRef]) -> bool:
        """May the reader see an item of `day` in `channel_id` citing `sources`?"""
        return is_visible_to(self.context(day), channel_id, sources)

    def may_see_channel(self, channel_id: str, days: Iterable[str]) -> bool:
        """Could the reader see `channel_id` on any of `days`? (False for a conversation the
        directory does not know, as for one they are not in.)"""
        return any(channel_id in self.context(d).visible_channels for d in days)

    def ever_visible(self) -> frozenset[str]:
        """Every conversation the reader can see on some day: the public channels, those the
        snapshot lists them in, and those they joined or left (a superset to query with; each item
        is still checked on its own day with `may_see`)."""
        uid = self.user_id
        out = {c.channel_id for c in self._channels.values() if c.kind == "public" or uid in c.members}
        out |= {e.channel_id for e in self._events if e.user_id == uid and e.channel_id in self._channels}
        return frozenset(out)
