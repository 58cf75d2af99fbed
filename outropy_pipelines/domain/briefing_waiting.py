"""The top of a briefing: what is waiting on the reader and on others, and whether the day is partial.

"Waiting on you" and "You're waiting on" come from entity memory's open items (asks and questions
carried across days until a later message closes them), not from the day's ranking:

- *Waiting on you*: an open action item or question whose owners include the reader (asked of
  them, or committed by them).
- *You're waiting on*: an open action item or question the reader asked (the author of its first
  source message) that is owned by someone else or by nobody.

Only items first seen before the briefing's day count (a day's new asks are in "Needs you"); the
age is the days from the day the item was first seen (`OpenItem.since_day`) to the briefing day.
Every item passes the access-control rule (`is_visible_to`). Each section lists the oldest first
(then by item_id), at most `WAITING_CAP` lines; the rest are counted ("+N more"). One line per
item_id, set of sources, and (conversation, title): an ask posted again in the same words is the
same ask, shown once with the age of the first. These sections come first: the ranked sections
then drop every item they hold by the same three keys, so a briefing never shows one item twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from outropy_pipelines.domain.briefing_ranking import (
    ReaderContext,
    is_visible_to,
    line_of,
    sorted_sources,
    source_key,
)
from outropy_pipelines.domain.models import BriefingLine, OpenItem, SourceRef

WAITING_CAP = 5
#: the open kinds a person waits on an answer or a result for
WAITING_KINDS = frozenset({"action_item", "question"})


@dataclass(frozen=True)
class WaitingItem:
    section: str  # "waiting_on_you" or "waiting_on_others"
    item: OpenItem
    age_days: int
    reason: str


@dataclass(frozen=True)
class Waiting:
    """A reader's waiting sections: the lines shown, and per section how many more there are."""

    lines: list[WaitingItem]
    more: dict[str, int]
    #: the item ids and source sets of every waiting item (shown or counted in "+N more"), which
    #: the ranked sections leave out
    ids: frozenset[str] = frozenset()
    keys: frozenset[frozenset] = frozenset()
    #: their (channel_id, title): the same ask posted again is the same ask
    titles: frozenset[tuple[str, str]] = frozenset()


def age_days(since_day: str, day: str) -> int:
    """Whole days from `since_day` to `day` (0 when the same day or later)."""
    return max(0, (dt.date.fromisoformat(day) - dt.date.fromisoformat(since_day)).days)


def age_text(days: int) -> str:
    return f"open {days} day" if days == 1 else f"open {days} days"


def _name(user_id: str, user_names: Mapping[str, str] | None) -> str:
    return (user_names or {}).get(user_id) or "someone"


def asker_of(item: OpenItem, authors_of: Mapping[tuple[str, str], str | None] | None) -> str | None:
    """The author of the item's first source message (who asked), if known."""
    first = sorted_sources(item.sources)
    if not first or not authors_of:
        return None
    return authors_of.get((first[0].channel_id, first[0].ts))


def waiting_for(
    day: str,
    reader: ReaderContext,
    open_items: Iterable[OpenItem],
    authors_of: Mapping[tuple[str, str], str | None] | None = None,
    user_names: Mapping[str, str] | None = None,
    *,
    cap: int = WAITING_CAP,
) -> Waiting:
    """The reader's waiting sections of `day` from `open_items` (any entity's memory: repeats of
    one item, by item_id or by set of sources, count once)."""
    uid = reader.user_id
    by_section: dict[str, list[WaitingItem]] = {"waiting_on_you": [], "waiting_on_others": []}
    ids: set[str] = set()
    keys: set[frozenset] = set()
    titles: set[tuple[str, str]] = set()
    for o in sorted(open_items, key=lambda o: (o.since_day, o.item_id)):
        if o.kind not in WAITING_KINDS or o.since_day >= day:
            continue
        key = source_key(o.sources)
        if o.item_id in ids or (key is not None and key in keys) or (o.channel_id, o.title) in titles:
            continue
        if not is_visible_to(reader, o.channel_id, o.sources):
            continue
        asker = asker_of(o, authors_of)
        age = age_days(o.since_day, day)
        if uid in o.owners:
            section = "waiting_on_you"
            who = f" · asked by {_name(asker, user_names)}" if asker and asker != uid else ""
            reason = age_text(age) + who
        elif asker == uid:
            section = "waiting_on_others"
            owners = [_name(u, user_names) for u in o.owners]
            reason = age_text(age) + (
                " · waiting on " + ", ".join(owners) if owners else " · nobody assigned"
            )
        else:
            continue
        ids.add(o.item_id)
        titles.add((o.channel_id, o.title))
        if key is not None:
            keys.add(key)
        by_section[section].append(WaitingItem(section, o, age, reason))
    lines: list[WaitingItem] = []
    more: dict[str, int] = {}
    for section, found in by_section.items():
        lines += found[:cap]
        if len(found) > cap:
            more[section] = len(found) - cap
    return Waiting(lines=lines, more=more, ids=frozenset(ids), keys=frozenset(keys), titles=frozenset(titles))


def partial_note(unreadable_conversations: int, unclassified_threads: int, quarantined_records: int) -> str:
    """One line saying what a day's briefing could not include, or "" when the day is complete.

    Only counts: never the names of the conversations (a reader may not see them)."""
    parts: list[str] = []
    if unreadable_conversations:
        n = unreadable_conversations
        parts.append(f"{n} conversation{'s' if n != 1 else ''} could not be read")
    if unclassified_threads:
        n = unclassified_threads
        parts.append(f"{n} thread{'s' if n != 1 else ''} could not be classified (LLM errors)")
    if quarantined_records:
        n = quarantined_records
        parts.append(f"{n} record{'s' if n != 1 else ''} quarantined on ingest")
    return ("Partial: " + ", ".join(parts) + ".") if parts else ""


def waiting_line(
    position: int, w: WaitingItem, sources: Sequence[SourceRef], links: Sequence[str], label: str
) -> BriefingLine:
    """A waiting item's briefing line (its score is its age in days)."""
    return line_of(position, w.section, w.item, w.reason, float(w.age_days), sources, links, label)
