"""The rules of a reader's briefing: who may see an item, where it goes, its score and its reason.

Pure domain code: no Dagster, no DuckDB, no LLM. `briefing_index.BriefingIndex` applies these rules
to a day's items for every reader; nothing else decides a line's section, score or reason.

Access control is the one hard rule here: an item reaches a reader only if its channel and the
channel of every one of its sources are visible to that reader (public channels, and private
channels, DMs and group DMs the reader is a member of). Everything that ends up in a briefing
(lines, reasons, counts, intro) is derived from eligible items only.

One line per item: a briefing never shows two lines for one item_id, nor two lines citing the same
set of messages (`source_key`); of such lines, the first in briefing order is kept.

- `placement`: the section and priority tier of an item for a reader, and why (`Why`);
- `score`: the tier plus small boosts for status, confidence and membership (they add up to less
  than 1, so tiers are strict);
- `reason`: the words that say why the line is there, from the placement's `Why`;
- `within_caps`: the section caps and `max_lines`;
- `channel_label`, `default_intro`, `briefing_line`: how a line and the briefing read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal, TypeVar

from outropy_pipelines.domain.models import (
    BRIEFING_SECTIONS,
    PAGE_SECTIONS,
    BriefingLine,
    Channel,
    Item,
    OpenItem,
    SourceRef,
)

# Lines kept per section before the overall `max_lines` cap (sections fill in BRIEFING_SECTIONS order).
DEFAULT_SECTION_CAPS: dict[str, int] = {
    "needs_you": 15,
    "decisions": 8,
    "blockers_incidents": 8,
    "updates": 10,
}

# Strict priority tiers: the boosts below add up to less than 1, so they only order items within a tier.
TIER_ASSIGNED = 8.0
TIER_ASKED = 7.0
TIER_MENTIONED = 6.0
TIER_KIND: dict[str, float] = {
    "incident": 5.0,
    "blocker": 4.0,
    "decision": 3.0,
    "announcement": 2.0,
    "action_item": 1.5,
    "question": 1.5,
    "status_update": 1.0,
}
BOOST_STATUS: dict[str, float] = {"open": 0.4, "info": 0.2, "resolved": 0.0}
BOOST_CONFIDENCE = 0.35  # times confidence in [0, 1]
BOOST_MEMBER = 0.2


@dataclass(frozen=True)
class ReaderContext:
    user_id: str
    visible_channels: frozenset[str]  # channels whose content the reader may see
    member_channels: frozenset[str]  # channels the reader is a member of
    projects: frozenset[str] = field(default_factory=frozenset)  # lower-cased project names they follow


@dataclass(frozen=True)
class ScoredItem:
    item: Item
    section: str
    score: float
    reason: str
    open_since: str | None = None  # set for items carried over from entity memory


T = TypeVar("T")


def within_caps(
    lines: Iterable[T],
    section_of: Callable[[T], str],
    max_lines: int,
    caps: Mapping[str, int],
    kept_anyway: Callable[[T], bool] | None = None,
) -> Iterator[T]:
    """The `lines` (in briefing order) that the limits keep: each section up to its cap (`caps`,
    a section without one: `max_lines`), at most `max_lines` in all. A line `kept_anyway` (a
    watched one) is kept past both and counts towards them."""
    kept = 0
    per_section: dict[str, int] = {}
    for line in lines:
        section = section_of(line)
        n = per_section.get(section, 0)
        if (kept_anyway is not None and kept_anyway(line)) or (
            n < caps.get(section, max_lines) and kept < max_lines
        ):
            per_section[section] = n + 1
            kept += 1
            yield line
        elif kept >= max_lines and kept_anyway is None:
            return


def visible_channel_ids(user_id: str, channels: Iterable[Channel]) -> frozenset[str]:
    """Public channels are visible to everyone; private channels, DMs and group DMs to their members."""
    return frozenset(
        c.channel_id for c in channels if c.kind == "public" or (user_id and user_id in c.members)
    )


def member_channel_ids(user_id: str, channels: Iterable[Channel]) -> frozenset[str]:
    return frozenset(c.channel_id for c in channels if user_id and user_id in c.members)


def reader_context(user_id: str, channels: Iterable[Channel], projects: Iterable[str] = ()) -> ReaderContext:
    channels = list(channels)
    return ReaderContext(
        user_id=user_id,
        visible_channels=visible_channel_ids(user_id, channels),
        member_channels=member_channel_ids(user_id, channels),
        projects=frozenset(p.strip().lower() for p in projects if p.strip()),
    )


def is_visible_to(reader: ReaderContext, channel_id: str, sources: Iterable[SourceRef]) -> bool:
    """The access-control rule: the item's channel and every source's channel must be visible."""
    if channel_id not in reader.visible_channels:
        return False
    return all(s.channel_id in reader.visible_channels for s in sources)


# ---------------------------------------------------------------------------------------------------
# Labels and names


def channel_label(
    channel_id: str,
    channels: Mapping[str, Channel] | None,
    reader_id: str,
    user_names: Mapping[str, str] | None,
) -> str:
    """How the reader sees a conversation: `#eng`, `DM with Bob`, `group DM with Ann, Bob`.

    Only ever called for conversations the reader can see.
    """
    channel = (channels or {}).get(channel_id)
    if channel is None:
        return f"#{channel_id}"
    if channel.kind in ("public", "private"):
        return f"#{channel.name or channel.channel_id}"
    others = sorted(
        {_name(u, user_names) for u in channel.members if u != reader_id}, key=lambda n: (n.lower(), n)
    )
    if channel.kind == "im":
        return f"DM with {others[0]}" if others else "DM"
    if not others:
        return "group DM"
    shown = ", ".join(others[:3])
    more = f" and {len(others) - 3} more" if len(others) > 3 else ""
    return f"group DM with {shown}{more}"


def _in_phrase(label: str) -> str:
    return f"in {label}" if label.startswith("#") else f"in your {label}"


def _name(user_id: str, user_names: Mapping[str, str] | None) -> str:
    name = (user_names or {}).get(user_id)
    return name or "someone"


def _ts_key(ts: str) -> tuple[Decimal, str]:
    try:
        return (Decimal(ts), ts)
    except (InvalidOperation, ValueError):
        return (Decimal(0), ts)


def sorted_sources(sources: Iterable[SourceRef]) -> list[SourceRef]:
    unique = {(s.channel_id, s.ts): s for s in sources}
    return [unique[k] for k in sorted(unique, key=lambda k: (_ts_key(k[1]), k[0]))]


def source_key(sources: Iterable[SourceRef]) -> frozenset[tuple[str, str]] | None:
    """The set of messages an item cites, which no two lines of a briefing share; None for an item
    that cites none (nothing to compare)."""
    key = frozenset((s.channel_id, s.ts) for s in sources)
    return key or None


def _asker(item: Item, reader_id: str, authors_of: Mapping[tuple[str, str], str | None] | None) -> str | None:
    """The author of the earliest source that is not the reader (who asked / mentioned them)."""
    if not authors_of:
        return None
    for s in sorted_sources(item.sources):
        author = authors_of.get((s.channel_id, s.ts))
        if author and author != reader_id:
            return author
    return None


def authored_by_reader(
    item: Item, reader_id: str, authors_of: Mapping[tuple[str, str], str | None] | None
) -> bool:
    if not authors_of or not item.sources:
        return False
    authors = [authors_of.get((s.channel_id, s.ts)) for s in item.sources]
    return all(a == reader_id for a in authors)


# ---------------------------------------------------------------------------------------------------
# Ranking


def score(tier: float, item: Item, member: bool) -> float:
    """An item's score for a reader: its tier, then status, confidence and membership boosts."""
    confidence = min(max(item.confidence, 0.0), 1.0)
    boost = (
        BOOST_STATUS.get(item.status, 0.0) + BOOST_CONFIDENCE * confidence + (BOOST_MEMBER if member else 0.0)
    )
    return round(tier + boost, 4)


def _due(item: Item) -> str:
    return f", due {item.due}" if item.due else ""


# Why an item reaches a reader: the placement rule names it, the reason wording follows from it.
Why = Literal[
    "asked",  # an open question the reader owns
    "unblock",  # an open blocker the reader owns
    "assigned",  # any other open item the reader owns
    "mentioned",  # the reader is mentioned in an item that is not resolved
    "decision_followed",  # a decision in a conversation the reader is a member of
    "decision_mentions_you",
    "decision_project",  # a decision about a project the reader follows
    "incident",  # every incident the reader can see
    "open_blocker",  # an open blocker in a conversation the reader is a member of
    "update",  # anything else of the reader's conversations, or that names them
]
#: (section index in BRIEFING_SECTIONS, tier, why)
Placement = tuple[int, float, Why]
NEEDS_YOU, DECISIONS, BLOCKERS_INCIDENTS, UPDATES = range(len(BRIEFING_SECTIONS))


def placement(
    item: Item, *, member: bool, mine: bool, mentioned: bool, project: str | None, carried: bool = False
) -> Placement | None:
    """The one rule of where an item the reader may see goes in their briefing, or None if it is
    not for them.

    `member`: the reader is a member of the item's conversation; `mine`: an owner; `mentioned`:
    named in it; `project`: the project of a decision the reader follows (`followed_project`);
    `carried`: an older item carried over from entity memory, which only ever returns as the
    reader's own open ask.
    """
    is_open = item.status == "open"
    if is_open and mine:
        if item.kind == "question":
            return NEEDS_YOU, TIER_ASKED, "asked"
        if item.kind == "blocker":
            return NEEDS_YOU, TIER_ASSIGNED, "unblock"
        return NEEDS_YOU, TIER_ASSIGNED, "assigned"
    if carried:
        return None
    if mentioned and item.status != "resolved":
        return NEEDS_YOU, TIER_MENTIONED, "mentioned"
    tier = TIER_KIND.get(item.kind, 1.0)
    if item.kind == "decision":
        if member:
            return DECISIONS, tier, "decision_followed"
        if mentioned:
            return DECISIONS, tier, "decision_mentions_you"
        if project:
            return DECISIONS, tier, "decision_project"
        return None
    if item.kind == "incident":
        return BLOCKERS_INCIDENTS, tier, "incident"
    if item.kind == "blocker" and is_open and member:
        return BLOCKERS_INCIDENTS, tier, "open_blocker"
    if not (member or mentioned or mine):
        return None
    return UPDATES, tier, "update"


def reaches_non_members(item: Item) -> bool:
    """Whether `placement` can place the item for a reader who is neither a member of its
    conversation, an owner nor mentioned: an incident, or a decision with entities (one may be a
    project the reader follows)."""
    return item.kind == "incident" or (item.kind == "decision" and bool(item.entities))


def followed_project(entities: Iterable[str], projects: frozenset[str]) -> str | None:
    """The project a decision is "about" for a reader: the first of its entities, in sorted order,
    that the reader follows (`projects` are lower-cased)."""
    return next((e for e in sorted(entities) if e.strip().lower() in projects), None)


def reason(
    item: Item,
    why: Why,
    *,
    reader_id: str,
    label: str,
    mentioned: bool,
    mine: bool,
    project: str | None = None,
    open_since: str | None = None,
    user_names: Mapping[str, str] | None = None,
    authors_of: Mapping[tuple[str, str], str | None] | None = None,
) -> str:
    """Why the line is in the reader's briefing, in words ("Bob asked you in #eng, due 2026-11-04")."""
    where = _in_phrase(label)
    if why in ("asked", "unblock", "assigned", "mentioned"):
        asker_id = _asker(item, reader_id, authors_of)
        since = f", open since {open_since}" if open_since else ""
        if why == "asked":
            asked = f"{_name(asker_id, user_names)} asked you" if asker_id else "question for you"
            return f"{asked} {where}{_due(item)}{since}"
        if why == "unblock":
            return f"blocker you can unblock {where}{_due(item)}{since}"
        if why == "assigned":
            by = f" by {_name(asker_id, user_names)}" if asker_id else ""
            return f"assigned to you{by} {where}{_due(item)}{since}"
        who = f"{_name(asker_id, user_names)} mentioned you" if asker_id else "you were mentioned"
        return f"{who} {where}"
    if why == "decision_followed":
        return f"decision {where} you follow"
    if why == "decision_mentions_you":
        return f"decision mentioning you {where}"
    if why == "decision_project":
        return f"decision about {project} {where}"
    if why == "incident":
        return f"{'resolved incident' if item.status == 'resolved' else 'incident'} {where}"
    if why == "open_blocker":
        return f"open blocker {where}"
    kind = item.kind.replace("_", " ")
    if item.kind == "announcement":
        text = f"announcement {where}"
    elif item.kind == "status_update":
        text = f"status update {where}"
    elif mine:
        text = f"resolved, was assigned to you {where}"
    elif item.status == "resolved":
        text = f"resolved {kind} {where}"
    elif item.owners:
        owners = ", ".join(sorted({_name(o, user_names) for o in item.owners}))
        noun = "question for" if item.kind == "question" else f"{kind} for"
        text = f"{noun} {owners} {where}"
    else:
        text = f"open {kind} {where}"
    return text + ", mentions you" if mentioned else text


def scored_line(
    item: Item,
    reader: ReaderContext,
    label: str,
    *,
    open_since: str | None = None,
    user_names: Mapping[str, str] | None = None,
    authors_of: Mapping[tuple[str, str], str | None] | None = None,
) -> ScoredItem | None:
    """`item`'s line for `reader`, placed (`placement`), scored and explained (`reason`), or None
    when it is not for them. `open_since`: the item is carried over from entity memory. The
    caller has checked that the reader may see it."""
    uid = reader.user_id
    member = item.channel_id in reader.member_channels
    mine, mentioned = uid in item.owners, uid in item.mentions
    project = followed_project(item.entities, reader.projects) if item.kind == "decision" else None
    placed = placement(
        item, member=member, mine=mine, mentioned=mentioned, project=project, carried=open_since is not None
    )
    if placed is None:
        return None
    section, tier, why = placed
    text = reason(
        item,
        why,
        reader_id=uid,
        label=label,
        mentioned=mentioned,
        mine=mine,
        project=project,
        open_since=open_since,
        user_names=user_names,
        authors_of=authors_of,
    )
    return ScoredItem(item, BRIEFING_SECTIONS[section], score(tier, item, member), text, open_since)


def open_item_as_item(open_item: OpenItem) -> Item:
    """An item carried in entity memory, as an `Item` dated the day it was first seen."""
    first = sorted_sources(open_item.sources)
    root = first[0].ts if first else ""
    return Item(
        day=open_item.since_day,
        item_id=open_item.item_id,
        thread_id=f"{open_item.channel_id}:{root}",
        channel_id=open_item.channel_id,
        kind=open_item.kind,
        title=open_item.title,
        owners=list(open_item.owners),
        status="open",
        is_new=False,
        confidence=1.0,
        provider="memory",
        prompt_version="",
        sources=list(open_item.sources),
    )


# ---------------------------------------------------------------------------------------------------
# Briefing assembly

_SECTION_COUNT_WORDS: dict[str, tuple[str, str]] = {
    "waiting_on_you": ("item waiting on you", "items waiting on you"),
    "waiting_on_others": ("item you're waiting on", "items you're waiting on"),
    "needs_you": ("item needs you", "items need you"),
    "decisions": ("decision", "decisions"),
    "blockers_incidents": ("blocker or incident", "blockers or incidents"),
    "updates": ("update", "updates"),
}


def default_intro(day: str, lines: Sequence[BriefingLine]) -> str:
    """A deterministic one-line opening built only from the reader's own lines."""
    if not lines:
        return ""
    counts = {s: sum(1 for ln in lines if ln.section == s) for s in PAGE_SECTIONS}
    parts = []
    for section in PAGE_SECTIONS:
        n = counts[section]
        if n:
            one, many = _SECTION_COUNT_WORDS[section]
            parts.append(f"{n} {one if n == 1 else many}")
    return f"Your day on {day}: " + ", ".join(parts) + "."


def briefing_line(
    position: int, s: ScoredItem, sources: Sequence[SourceRef], links: Sequence[str], label: str
) -> BriefingLine:
    """One line of a briefing: a ranked item with its sources, their permalinks and the label of
    its conversation as the reader sees it."""
    return line_of(position, s.section, s.item, s.reason, s.score, sources, links, label)


def line_of(
    position: int,
    section: str,
    item: Item | OpenItem,
    reason: str,
    score: float,
    sources: Sequence[SourceRef],
    links: Sequence[str],
    label: str,
) -> BriefingLine:
    """A briefing line of `item` in `section` (ranked and waiting lines alike)."""
    return BriefingLine(
        position=position,
        section=section,  # type: ignore[arg-type]
        item_id=item.item_id,
        kind=item.kind,
        text=item.title,
        reason=reason,
        score=score,
        channel_id=item.channel_id,
        channel_name=label,
        sources=list(sources),
        permalinks=list(links),
    )
