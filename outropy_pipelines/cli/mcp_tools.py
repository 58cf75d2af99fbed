"""What `outropy mcp` answers, for the one reader it was started for (the MCP wiring is in
`mcp_server`).

Every answer goes through the briefings' access rule (`domain.reader_access.ReaderAccess`, which
applies `briefing_ranking.is_visible_to` with membership as it was on each item's day): an item
reaches the reader only when its conversation and every conversation it cites were visible to them
on that day. A conversation the reader may not see gets the very answer an unknown one gets.

Each call reads the DuckDB file afresh through a read-only store (one short connection per query,
under the store's shared lock), so the pipeline keeps writing while the server runs and each answer
reflects what had been committed when it was asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError

from outropy_pipelines.domain.briefing_ranking import channel_label, sorted_sources
from outropy_pipelines.domain.days import days_between, format_days, parse_day, parse_day_text, today_in
from outropy_pipelines.domain.models import ITEM_KINDS, Channel, Item, SourceRef
from outropy_pipelines.domain.permalinks import permalink
from outropy_pipelines.domain.reader_access import ReaderAccess
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.briefings import briefing_days, find_briefing
from outropy_pipelines.store.directory import read_directory
from outropy_pipelines.store.entity_summaries import channel_open_items, latest_summary_day
from outropy_pipelines.store.items import find_items, item_day_range
from outropy_pipelines.store.raw_messages import cited_messages, membership_events

#: most results a search returns, whatever `limit` asks
MAX_SEARCH_RESULTS = 50
#: most decisions one channel answer lists
MAX_DECISIONS = 100
#: longest date range a channel's decisions are asked for
MAX_RANGE_DAYS = 366
_PAGE = 200


class _View:
    """The directory and the reader's access, as stored when a call starts."""

    def __init__(self, store: DuckDBStore, user_id: str) -> None:
        directory = read_directory(store)
        self.channels: dict[str, Channel] = directory.channel_by_id()
        self.user_names = {u.user_id: u.display_name for u in directory.users}
        self.access = ReaderAccess(user_id, self.channels, membership_events(store))


class ReaderTools:
    """The read-only answers of the MCP server for `user_id` (who must be in the directory)."""

    def __init__(self, store: DuckDBStore, user_id: str, workspace_url: str, timezone: str) -> None:
        self.store = store
        self.user_id = user_id
        self.workspace_url = workspace_url
        self.timezone = timezone

    # -- helpers -------------------------------------------------------------------------------
    def _day(self, text: str | None, what: str) -> str | None:
        if text is None or not text.strip():
            return None
        try:
            return parse_day_text(text, today_in(self.timezone))
        except ValueError as exc:
            raise ToolError(f"{what}: {exc}") from None

    def _links(self, sources: Iterable[SourceRef], thread_ts_of: dict) -> list[str]:
        return [
            permalink(self.workspace_url, s.channel_id, s.ts, thread_ts_of.get((s.channel_id, s.ts)))
            for s in sorted_sources(sources)
        ]

    def _item(self, view: _View, item: Item, thread_ts_of: dict) -> dict[str, Any]:
        return {
            "item_id": item.item_id,
            "day": item.day,
            "kind": item.kind,
            "status": item.status,
            "title": item.title,
            "channel": channel_label(item.channel_id, view.channels, self.user_id, view.user_names),
            "owners": [view.user_names.get(u, u) for u in item.owners],
            "permalinks": self._links(item.sources, thread_ts_of),
        }

    def _visible_items(self, view: _View, items: Iterable[Item], seen: set[str]) -> list[Item]:
        """`items` (newest first) the reader may see on their own day, each item_id once."""
        out = []
        for item in items:
            if item.item_id in seen or not view.access.may_see(item.day, item.channel_id, item.sources):
                continue
            seen.add(item.item_id)
            out.append(item)
        return out

    def _collect(self, view: _View, cap: int, **query: Any) -> tuple[list[Item], bool]:
        """Up to `cap` distinct visible items of `find_items(**query)`; and whether more exist."""
        seen: set[str] = set()
        found: list[Item] = []
        offset = 0
        while True:
            page = find_items(self.store, limit=_PAGE, offset=offset, **query)
            found += self._visible_items(view, page, seen)
            if len(found) > cap or len(page) < _PAGE:
                return found[:cap], len(found) > cap
            offset += _PAGE

    # -- tools ---------------------------------------------------------------------------------
    def my_briefing(self, day: str | None = None) -> str:
        """The reader's stored briefing (Markdown) of `day`, or of their last day with one."""
        wanted = self._day(day, "day")
        theirs = briefing_days(self.store, self.user_id)
        if not theirs:
            raise ToolError(f"{self.user_id} has no stored briefing yet (not subscribed, or no run yet)")
        wanted = wanted or theirs[-1]
        row = find_briefing(self.store, wanted, self.user_id)
        if row is None or row["user_id"] != self.user_id:
            raise ToolError(f"no briefing of yours on {wanted}; your briefings: {format_days(theirs)}")
        return row["markdown"]

    def open_for_me(self, as_of: str | None = None) -> dict[str, Any]:
        """The open items the reader owns or asked, as the entity memory carries them at the end of
        `as_of` (default: the last day processed), oldest first, with their age in days."""
        wanted = self._day(as_of, "as_of")
        day = latest_summary_day(self.store, wanted)
        if day is None:
            raise ToolError("nothing processed yet" + (f" on or before {wanted}" if wanted else ""))
        view = _View(self.store, self.user_id)
        visible = sorted(view.access.context(day).visible_channels)
        candidates = [
            o
            for o in channel_open_items(self.store, day, visible)
            if view.access.may_see(day, o.channel_id, o.sources)
        ]
        thread_ts_of, authors_of = cited_messages(
            self.store, [(s.channel_id, s.ts) for o in candidates for s in o.sources]
        )
        uid, out = self.user_id, []
        for o in candidates:
            first = sorted_sources(o.sources)[:1]
            asker = authors_of.get((first[0].channel_id, first[0].ts)) if first else None
            roles = (["owner"] if uid in o.owners else []) + (["asked"] if asker == uid else [])
            if not roles:
                continue
            out.append(
                {
                    "item_id": o.item_id,
                    "kind": o.kind,
                    "title": o.title,
                    "channel": channel_label(o.channel_id, view.channels, uid, view.user_names),
                    "your_role": roles,
                    "owners": [view.user_names.get(u, u) for u in o.owners],
                    "asked_by": view.user_names.get(asker, asker) if asker else None,
                    "open_since": o.since_day,
                    "age_days": (parse_day(day) - parse_day(o.since_day)).days,
                    "permalinks": self._links(o.sources, thread_ts_of),
                }
            )
        return {"as_of": day, "count": len(out), "items": out}

    def channel_decisions(
        self, channel: str, start: str | None = None, end: str | None = None
    ) -> dict[str, Any]:
        """The decisions of one conversation the reader may see, newest first, over `start` ..
        `end` (default: the 7 days up to the last day with items)."""
        first_last = item_day_range(self.store)
        end_day = self._day(end, "end") or (
            first_last[1] if first_last else today_in(self.timezone).isoformat()
        )
        start_day = self._day(start, "start") or (parse_day(end_day) - dt.timedelta(days=6)).isoformat()
        if start_day > end_day:
            raise ToolError(f"start {start_day} is after end {end_day}")
        if (parse_day(end_day) - parse_day(start_day)).days >= MAX_RANGE_DAYS:
            raise ToolError(f"a range of at most {MAX_RANGE_DAYS} days, please")
        view = _View(self.store, self.user_id)
        channel_id = self._channel_id(view, channel, list(days_between(start_day, end_day)))
        decisions, more = self._collect(
            view, MAX_DECISIONS, channel_ids=[channel_id], kinds=["decision"], start=start_day, end=end_day
        )
        thread_ts_of, _ = cited_messages(
            self.store, [(s.channel_id, s.ts) for d in decisions for s in d.sources]
        )
        return {
            "channel": channel_label(channel_id, view.channels, self.user_id, view.user_names),
            "start": start_day,
            "end": end_day,
            "count": len(decisions),
            "truncated": more,
            "decisions": [self._item(view, d, thread_ts_of) for d in decisions],
        }

    def _channel_id(self, view: _View, channel: str, days: list[str]) -> str:
        """The id of the conversation `channel` names (an id, or a name with or without `#`) when
        the reader could see it on one of `days`; else the unknown-channel error, word for word
        the same whether it exists or not."""
        wanted = channel.strip()
        name = wanted.lstrip("#").lower()
        found = view.channels.get(wanted)
        if found is None:
            named = [
                c
                for c in view.channels.values()
                if c.name.lower() == name and c.kind in ("public", "private")
            ]
            found = named[0] if len(named) == 1 else None
        if found is None or not view.access.may_see_channel(found.channel_id, days):
            raise ToolError(
                f"unknown channel {channel!r}: no conversation of that id or name that you can see"
            )
        return found.channel_id

    def search_items(
        self,
        query: str,
        kind: str | None = None,
        start: str | None = None,
        end: str | None = None,
        limit: int = 20,
    ) -> dict[str, Any]:
        """Items whose title holds every word of `query` (any case), newest first, each once."""
        words = [w for w in query.split() if w]
        if not words:
            raise ToolError("query: give at least one word to look for in item titles")
        if kind is not None and kind not in ITEM_KINDS:
            raise ToolError(f"kind: one of {', '.join(ITEM_KINDS)}")
        start_day, end_day = self._day(start, "start"), self._day(end, "end")
        cap = max(1, min(int(limit), MAX_SEARCH_RESULTS))
        view = _View(self.store, self.user_id)
        items, more = self._collect(
            view,
            cap,
            channel_ids=sorted(view.access.ever_visible()),
            words=words,
            kinds=[kind] if kind else [],
            start=start_day,
            end=end_day,
        )
        thread_ts_of, _ = cited_messages(self.store, [(s.channel_id, s.ts) for i in items for s in i.sources])
        return {
            "query": query,
            "count": len(items),
            "truncated": more,
            "items": [self._item(view, i, thread_ts_of) for i in items],
        }
