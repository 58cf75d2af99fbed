"""Per-reader selection and ranking of items, and assembly of a `Briefing`.

Pure domain code: no Dagster, no DuckDB, no LLM. Deterministic: the same inputs give the same lines
in the same order, whatever order the inputs came in.

Access control is the one hard rule here: an item reaches a reader only if its channel and the
channel of every one of its sources are visible to that reader (public channels, and private
channels, DMs and group DMs the reader is a member of). Everything that ends up in a briefing
(lines, reasons, counts, intro) is derived from eligible items only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from outropy_pipelines.domain.models import (
    BRIEFING_SECTIONS,
    Briefing,
    BriefingLine,
    Channel,
    Item,
    OpenItem,
    SourceRef,
    User,
)
from outropy_pipelines.domain.permalinks import permalink

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

_SECTION_ORDER = {s: i for i, s in enumerate(BRIEFING_SECTIONS)}


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


def _sorted_sources(sources: Iterable[SourceRef]) -> list[SourceRef]:
    unique = {(s.channel_id, s.ts): s for s in sources}
    return [unique[k] for k in sorted(unique, key=lambda k: (_ts_key(k[1]), k[0]))]


def _asker(item: Item, reader_id: str, authors_of: Mapping[tuple[str, str], str | None] | None) -> str | None:
    """The author of the earliest source that is not the reader (who asked / mentioned them)."""
    if not authors_of:
        return None
    for s in _sorted_sources(item.sources):
        author = authors_of.get((s.channel_id, s.ts))
        if author and author != reader_id:
            return author
    return None


def _authored_by_reader(
    item: Item, reader_id: str, authors_of: Mapping[tuple[str, str], str | None] | None
) -> bool:
    if not authors_of or not item.sources:
        return False
    authors = [authors_of.get((s.channel_id, s.ts)) for s in item.sources]
    return all(a == reader_id for a in authors)


# ---------------------------------------------------------------------------------------------------
# Ranking


def _score(tier: float, item: Item, member: bool) -> float:
    confidence = min(max(item.confidence, 0.0), 1.0)
    boost = (
        BOOST_STATUS.get(item.status, 0.0) + BOOST_CONFIDENCE * confidence + (BOOST_MEMBER if member else 0.0)
    )
    return round(tier + boost, 4)


def _due(item: Item) -> str:
    return f", due {item.due}" if item.due else ""


def _classify(
    reader: ReaderContext,
    item: Item,
    *,
    label: str,
    user_names: Mapping[str, str] | None,
    authors_of: Mapping[tuple[str, str], str | None] | None,
    open_since: str | None = None,
) -> ScoredItem | None:
    """Section, score and reason of one eligible item for this reader, or None if it is not for them."""
    me = reader.user_id
    where = _in_phrase(label)
    member = item.channel_id in reader.member_channels
    mine = me in item.owners
    mentioned = me in item.mentions
    is_open = item.status == "open"
    asker_id = _asker(item, me, authors_of)
    by = f" by {_name(asker_id, user_names)}" if asker_id else ""
    since = f", open since {open_since}" if open_since else ""

    def scored(section: str, tier: float, reason: str) -> ScoredItem:
        return ScoredItem(item, section, _score(tier, item, member), reason, open_since)

    # needs_you
    if is_open and mine:
        if item.kind == "question":
            asked = f"{_name(asker_id, user_names)} asked you" if asker_id else "question for you"
            return scored("needs_you", TIER_ASKED, f"{asked} {where}{_due(item)}{since}")
        if item.kind == "blocker":
            return scored("needs_you", TIER_ASSIGNED, f"blocker you can unblock {where}{_due(item)}{since}")
        return scored("needs_you", TIER_ASSIGNED, f"assigned to you{by} {where}{_due(item)}{since}")
    if open_since is not None:
        return None  # carried items only ever appear as the reader's own open asks
    if mentioned and item.status != "resolved":
        who = f"{_name(asker_id, user_names)} mentioned you" if asker_id else "you were mentioned"
        return scored("needs_you", TIER_MENTIONED, f"{who} {where}")

    tier = TIER_KIND.get(item.kind, 1.0)
    # decisions
    if item.kind == "decision":
        project = next((e for e in sorted(item.entities) if e.strip().lower() in reader.projects), None)
        if member:
            return scored("decisions", tier, f"decision {where} you follow")
        if mentioned:
            return scored("decisions", tier, f"decision mentioning you {where}")
        if project:
            return scored("decisions", tier, f"decision about {project} {where}")
        return None
    # blockers and incidents
    if item.kind == "incident":
        state = "resolved incident" if item.status == "resolved" else "incident"
        return scored("blockers_incidents", tier, f"{state} {where}")
    if item.kind == "blocker" and is_open and member:
        return scored("blockers_incidents", tier, f"open blocker {where}")
    # updates
    if not (member or mentioned or mine):
        return None
    if item.kind == "announcement":
        reason = f"announcement {where}"
    elif item.kind == "status_update":
        reason = f"status update {where}"
    elif mine:
        reason = f"resolved, was assigned to you {where}"
    elif item.status == "resolved":
        reason = f"resolved {item.kind.replace('_', ' ')} {where}"
    elif item.owners:
        owners = ", ".join(sorted({_name(o, user_names) for o in item.owners}))
        noun = "question for" if item.kind == "question" else f"{item.kind.replace('_', ' ')} for"
        reason = f"{noun} {owners} {where}"
    else:
        reason = f"open {item.kind.replace('_', ' ')} {where}"
    if mentioned:
        reason += ", mentions you"
    return scored("updates", tier, reason)


def open_item_as_item(open_item: OpenItem) -> Item:
    """An item carried in entity memory, as an `Item` dated the day it was first seen."""
    first = _sorted_sources(open_item.sources)
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


def _sort_key(s: ScoredItem) -> tuple[int, float, str]:
    return (_SECTION_ORDER[s.section], -s.score, s.item.item_id)


def rank_items_for_reader(
    reader: ReaderContext,
    items: Sequence[Item],
    *,
    max_lines: int = 25,
    open_items: Sequence[OpenItem] = (),
    channels: Mapping[str, Channel] | None = None,
    user_names: Mapping[str, str] | None = None,
    authors_of: Mapping[tuple[str, str], str | None] | None = None,
    section_caps: Mapping[str, int] | None = None,
) -> list[ScoredItem]:
    """The reader's lines, in briefing order (section, then score, then item_id).

    - Only items with `is_new` (that day's news) are considered, plus `open_items` (older asks carried
      in memory) that are still open and owned by the reader, which go to "needs_you" only.
    - Every candidate passes the visibility check first, whatever its origin.
    - Each item appears once, in its highest-priority section; resolved items the reader authored are
      dropped (`authors_of` maps (channel_id, ts) to the author's user id).
    - `section_caps` (default DEFAULT_SECTION_CAPS) caps each section, `max_lines` the total.
    """
    caps = dict(DEFAULT_SECTION_CAPS if section_caps is None else section_caps)
    best: dict[str, ScoredItem] = {}

    def consider(item: Item, open_since: str | None) -> None:
        if not is_visible_to(reader, item.channel_id, item.sources):
            return
        if item.status == "resolved" and _authored_by_reader(item, reader.user_id, authors_of):
            return
        label = channel_label(item.channel_id, channels, reader.user_id, user_names)
        scored = _classify(
            reader, item, label=label, user_names=user_names, authors_of=authors_of, open_since=open_since
        )
        if scored is None:
            return
        current = best.get(item.item_id)
        if current is None or _sort_key(scored) < _sort_key(current):
            best[item.item_id] = scored

    new_items = [i for i in items if i.is_new]
    new_ids = {i.item_id for i in new_items}
    for item in new_items:
        consider(item, None)
    for oi in open_items:
        if oi.item_id in new_ids or reader.user_id not in oi.owners:
            continue
        consider(open_item_as_item(oi), oi.since_day)

    ranked = sorted(best.values(), key=_sort_key)
    out: list[ScoredItem] = []
    per_section: dict[str, int] = {}
    for s in ranked:
        if len(out) >= max_lines:
            break
        if per_section.get(s.section, 0) >= caps.get(s.section, max_lines):
            continue
        per_section[s.section] = per_section.get(s.section, 0) + 1
        out.append(s)
    return out


# ---------------------------------------------------------------------------------------------------
# Briefing assembly

_SECTION_COUNT_WORDS: dict[str, tuple[str, str]] = {
    "needs_you": ("item needs you", "items need you"),
    "decisions": ("decision", "decisions"),
    "blockers_incidents": ("blocker or incident", "blockers or incidents"),
    "updates": ("update", "updates"),
}


def default_intro(day: str, lines: Sequence[BriefingLine]) -> str:
    """A deterministic one-line opening built only from the reader's own lines."""
    if not lines:
        return ""
    counts = {s: sum(1 for ln in lines if ln.section == s) for s in BRIEFING_SECTIONS}
    parts = []
    for section in BRIEFING_SECTIONS:
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
    return BriefingLine(
        position=position,
        section=s.section,  # type: ignore[arg-type]
        item_id=s.item.item_id,
        kind=s.item.kind,
        text=s.item.title,
        reason=s.reason,
        score=s.score,
        channel_id=s.item.channel_id,
        channel_name=label,
        sources=list(sources),
        permalinks=list(links),
    )


def build_briefing(
    day: str,
    user: User,
    items: Sequence[Item],
    channels: Mapping[str, Channel],
    user_names: Mapping[str, str],
    open_items: Sequence[OpenItem],
    workspace_url: str,
    thread_ts_of: Mapping[tuple[str, str], str | None] | None = None,
    *,
    authors_of: Mapping[tuple[str, str], str | None] | None = None,
    projects: Iterable[str] = (),
    max_lines: int = 25,
    section_caps: Mapping[str, int] | None = None,
) -> Briefing:
    """The user's briefing for `day`, rendered (markdown, Slack blocks, HTML).

    Visibility comes from `channels` (the membership snapshot). `thread_ts_of[(channel_id, ts)]` is a
    message's thread root, used for reply permalinks. To replace the intro, set `intro` and call
    `briefing_rendering.render_into` again.
    """
    from outropy_pipelines.domain.briefing_rendering import render_into

    reader = reader_context(user.user_id, channels.values(), projects)
    ranked = rank_items_for_reader(
        reader,
        items,
        max_lines=max_lines,
        open_items=open_items,
        channels=channels,
        user_names=user_names,
        authors_of=authors_of,
        section_caps=section_caps,
    )
    lines: list[BriefingLine] = []
    for position, s in enumerate(ranked):
        sources = _sorted_sources(s.item.sources)
        links = [
            permalink(
                workspace_url, src.channel_id, src.ts, (thread_ts_of or {}).get((src.channel_id, src.ts))
            )
            for src in sources
        ]
        label = channel_label(s.item.channel_id, channels, user.user_id, user_names)
        lines.append(briefing_line(position, s, sources, links, label))
    briefing = Briefing(
        day=day,
        user_id=user.user_id,
        user_name=user.display_name,
        intro=default_intro(day, lines),
        lines=lines,
    )
    return render_into(briefing)
