"""The slow reference of a reader's briefing, the oracle `BriefingIndex` is tested against.

This is the ranking the product had before the day index: every item of the day classified for
every reader (`_classify` restates the product's `placement` and `reason` in one function, branch
by branch), sorted, one line per item_id and per set of sources kept, and cut to the section caps.
It is kept here,
in the tests only, so the fast path can be checked against a second, independent statement of the
same rules.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from outropy_pipelines.domain.briefing_ranking import (
    DEFAULT_SECTION_CAPS,
    TIER_ASKED,
    TIER_ASSIGNED,
    TIER_KIND,
    TIER_MENTIONED,
    ReaderContext,
    ScoredItem,
    _asker,
    _in_phrase,
    _name,
    authored_by_reader,
    briefing_line,
    channel_label,
    default_intro,
    is_visible_to,
    open_item_as_item,
    reader_context,
    score,
    sorted_sources,
)
from outropy_pipelines.domain.briefing_rendering import render_into
from outropy_pipelines.domain.briefing_waiting import WaitingItem, age_text, waiting_line
from outropy_pipelines.domain.models import (
    BRIEFING_SECTIONS,
    Briefing,
    BriefingLine,
    Channel,
    Item,
    OpenItem,
    ReaderPreferences,
    User,
)
from outropy_pipelines.domain.permalinks import permalink

_SECTION_ORDER = {s: i for i, s in enumerate(BRIEFING_SECTIONS)}


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
        return ScoredItem(item, section, score(tier, item, member), reason, open_since)

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
    shown: Sequence[OpenItem] = (),
    adjust: Callable[[ScoredItem], float] | None = None,
) -> list[ScoredItem]:
    """The reader's lines, in briefing order (section, then score, then item_id).

    - `adjust` (the reader's feedback, `reader_feedback`): once the duplicates are dropped (by the
      order without feedback), each line outside *Needs you* gets `adjust(line)` added to its score,
      and the lines are sorted again before the caps.

    - `shown` are the items of the waiting sections above: no line has an item_id, a set of sources,
      or a conversation and title one of them has (they count as lines shown before every other).

    - Only items with `is_new` (that day's news) are considered, plus `open_items` (older asks carried
      in memory) that are still open and owned by the reader, which go to "needs_you" only.
    - Every candidate passes the visibility check first, whatever its origin.
    - Each item appears once, in its highest-priority section, and no two lines cite the same set of
      messages: in briefing order, a line whose item_id or set of sources an earlier line has is
      dropped (before the caps; on a tie, the first considered stays).
    - Resolved items the reader authored are dropped (`authors_of` maps (channel_id, ts) to the
      author's user id).
    - `section_caps` (default DEFAULT_SECTION_CAPS) caps each section, `max_lines` the total.
    """
    caps = dict(DEFAULT_SECTION_CAPS if section_caps is None else section_caps)
    candidates: list[ScoredItem] = []

    shown_titles = {(o.channel_id, o.title) for o in shown}

    def consider(item: Item, open_since: str | None) -> None:
        if (item.channel_id, item.title) in shown_titles:
            return
        if not is_visible_to(reader, item.channel_id, item.sources):
            return
        if item.status == "resolved" and authored_by_reader(item, reader.user_id, authors_of):
            return
        label = channel_label(item.channel_id, channels, reader.user_id, user_names)
        scored = _classify(
            reader, item, label=label, user_names=user_names, authors_of=authors_of, open_since=open_since
        )
        if scored is not None:
            candidates.append(scored)

    new_items = [i for i in items if i.is_new]
    new_ids = {i.item_id for i in new_items}
    for item in new_items:
        consider(item, None)
    for oi in open_items:
        if oi.item_id in new_ids or reader.user_id not in oi.owners:
            continue
        consider(open_item_as_item(oi), oi.since_day)

    ranked: list[ScoredItem] = []
    shown_ids: set[str] = {o.item_id for o in shown}
    shown_sources: set[frozenset[tuple[str, str]]] = {
        frozenset((src.channel_id, src.ts) for src in o.sources) for o in shown if o.sources
    }
    for s in sorted(candidates, key=_sort_key):  # a stable sort: the first considered wins a tie
        sources = frozenset((src.channel_id, src.ts) for src in s.item.sources)
        if s.item.item_id in shown_ids or (sources and sources in shown_sources):
            continue
        shown_ids.add(s.item.item_id)
        if sources:
            shown_sources.add(sources)
        ranked.append(s)
    if adjust is not None:
        ranked = sorted(
            (
                s
                if s.section == "needs_you" or not adjust(s)
                else replace(s, score=round(s.score + adjust(s), 4))
                for s in ranked
            ),
            key=_sort_key,
        )
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


_WAITING = ("waiting_on_you", "waiting_on_others")


def waiting_sections(
    day: str,
    reader: ReaderContext,
    open_items: Sequence[OpenItem],
    authors_of: Mapping[tuple[str, str], str | None] | None,
    user_names: Mapping[str, str] | None,
    cap: int = 5,
) -> tuple[list[WaitingItem], dict[str, int], list[OpenItem]]:
    """The waiting sections, restated: open action items and questions first seen before `day` that
    the reader may see; owned by the reader -> "waiting_on_you" (reason: age, who asked unless the
    reader); else asked by the reader (author of the earliest source) -> "waiting_on_others" (age,
    the owners or "nobody assigned"). One per item_id, set of sources and (conversation, title),
    oldest first (then
    item_id); each section's first `cap` shown, the rest counted. Also returns every waiting item."""
    found: dict[str, list[WaitingItem]] = {s: [] for s in _WAITING}
    everyone: list[OpenItem] = []
    for o in sorted(open_items, key=lambda o: (o.since_day, o.item_id)):
        if o.kind not in ("action_item", "question") or not o.since_day < day:
            continue
        if not is_visible_to(reader, o.channel_id, o.sources):
            continue
        sources = frozenset((x.channel_id, x.ts) for x in o.sources)
        if any(
            e.item_id == o.item_id
            or (sources and sources == frozenset((x.channel_id, x.ts) for x in e.sources))
            or (e.channel_id, e.title) == (o.channel_id, o.title)
            for e in everyone
        ):
            continue
        first = sorted_sources(o.sources)
        asker = (authors_of or {}).get((first[0].channel_id, first[0].ts)) if first else None
        age = (dt.date.fromisoformat(day) - dt.date.fromisoformat(o.since_day)).days
        if reader.user_id in o.owners:
            section = "waiting_on_you"
            why = age_text(age) + (
                f" · asked by {_name(asker, user_names)}" if asker and asker != reader.user_id else ""
            )
        elif asker is not None and asker == reader.user_id:
            section = "waiting_on_others"
            owners = ", ".join(_name(u, user_names) for u in o.owners)
            why = age_text(age) + (f" · waiting on {owners}" if owners else " · nobody assigned")
        else:
            continue
        everyone.append(o)
        found[section].append(WaitingItem(section, o, age, why))
    lines = [w for s in _WAITING for w in found[s][:cap]]
    more = {s: len(found[s]) - cap for s in _WAITING if len(found[s]) > cap}
    return lines, more, everyone


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
    waiting_items: Sequence[OpenItem] = (),
    partial: str = "",
    preferences: ReaderPreferences | None = None,
) -> Briefing:
    """The user's briefing for `day`, rendered (markdown, Slack blocks, HTML): the waiting sections
    of `waiting_items`, then the ranked lines without the items shown there.

    Visibility comes from `channels` (the membership snapshot). `thread_ts_of[(channel_id, ts)]` is a
    message's thread root, used for reply permalinks. To replace the intro, set `intro` and call
    `briefing_rendering.render_into` again.
    """
    reader = reader_context(user.user_id, channels.values(), projects)
    waiting, more, shown = waiting_sections(day, reader, waiting_items, authors_of, user_names)
    counts: dict[str, int] = {}
    p = preferences
    if p is not None and (
        p.mute_channels or p.watch_people or p.watch_keywords or p.max_lines or not all(p.sections.values())
    ):
        waiting, more, ranked, counts = preferred_lines(
            p,
            reader,
            items,
            waiting,
            more,
            shown,
            open_items=open_items,
            channels=channels,
            user_names=user_names,
            authors_of=authors_of,
            max_lines=max_lines,
            section_caps=section_caps,
        )
    else:
        ranked = rank_items_for_reader(
            reader,
            items,
            max_lines=max_lines,
            open_items=open_items,
            channels=channels,
            user_names=user_names,
            authors_of=authors_of,
            section_caps=section_caps,
            shown=shown,
        )

    def links_of(sources):
        return [
            permalink(workspace_url, x.channel_id, x.ts, (thread_ts_of or {}).get((x.channel_id, x.ts)))
            for x in sources
        ]

    lines: list[BriefingLine] = []
    for w in waiting:
        sources = sorted_sources(w.item.sources)
        label = channel_label(w.item.channel_id, channels, user.user_id, user_names)
        lines.append(waiting_line(len(lines), w, sources, links_of(sources), label))
    for s in ranked:
        position = len(lines)
        sources = sorted_sources(s.item.sources)
        links = [
            permalink(
                workspace_url, src.channel_id, src.ts, (thread_ts_of or {}).get((src.channel_id, src.ts))
            )
            for src in sources
        ]
        label = channel_label(s.item.channel_id, channels, user.user_id, user_names)
        lines.append(briefing_line(position, s, sources, links, label))
    intro = default_intro(day, lines)
    if counts.get("lines_left_out"):
        n = counts["lines_left_out"]
        intro += f" {n} more item{'s' if n != 1 else ''} not shown (your limit: {counts['max_lines']} lines)."
    briefing = Briefing(
        day=day,
        user_id=user.user_id,
        user_name=user.display_name,
        intro=intro,
        partial=partial,
        lines=lines,
        more=more,
        preferences=counts,
    )
    return render_into(briefing)


# ---------------------------------------------------------------------------------------------------
# A reader's own preferences (domain/reader_preferences.py), restated by brute force

_SWITCHABLE = ("waiting_on_others", "decisions", "blockers_incidents", "updates")


def _watched_because(
    prefs: ReaderPreferences,
    reader_id: str,
    item: Item,
    authors_of: Mapping[tuple[str, str], str | None] | None,
    user_names: Mapping[str, str] | None,
) -> str | None:
    """The first watched person (in the reader's order) who wrote, owns or is named in `item`, else
    the first keyword found as a whole word (any case, any spaces) in its title or detail."""
    authors = {(authors_of or {}).get((s.channel_id, s.ts)) for s in item.sources}
    for uid in prefs.watch_people:
        if uid != reader_id and (uid in item.owners or uid in item.mentions or uid in authors):
            return f"you watch {(user_names or {}).get(uid) or uid}"
    for keyword in prefs.watch_keywords:
        words = r"\s+".join(re.escape(w) for w in keyword.split())
        if re.search(rf"(?<!\w){words}(?!\w)", f"{item.title}\n{item.detail}", re.IGNORECASE):
            return f'you watch "{keyword}"'
    return None


def _as_member(item: Item) -> str:
    """The section a member of an item's conversation finds it in, when no one named the reader."""
    if item.kind == "decision":
        return "decisions"
    if item.kind == "incident" or (item.kind == "blocker" and item.status == "open"):
        return "blockers_incidents"
    return "updates"


def _what(item: Item) -> str:
    kind = item.kind.replace("_", " ")
    if item.status == "resolved":
        return f"resolved {kind}"
    return (
        f"open {kind}"
        if item.status == "open" and item.kind in ("action_item", "question", "blocker")
        else kind
    )


def preferred_lines(
    prefs: ReaderPreferences,
    reader: ReaderContext,
    items: Sequence[Item],
    waiting: list[WaitingItem],
    more: dict[str, int],
    shown: Sequence[OpenItem],
    *,
    open_items: Sequence[OpenItem] = (),
    channels: Mapping[str, Channel] | None = None,
    user_names: Mapping[str, str] | None = None,
    authors_of: Mapping[tuple[str, str], str | None] | None = None,
    max_lines: int = 25,
    section_caps: Mapping[str, int] | None = None,
) -> tuple[list[WaitingItem], dict[str, int], list[ScoredItem], dict[str, int]]:
    """The waiting lines, "+N more", ranked lines and counts of a reader with preferences: every
    candidate line (no caps), watched ones and every other watched item of the day the reader may
    see added, muted and switched-off lines taken out (never a watched line, never what needs the
    reader), then the caps (a watched line counts, but stays), then `max_lines` of the reader's."""
    me = reader.user_id
    off = {s for s, on in prefs.sections.items() if not on and s in _SWITCHABLE}
    reshaped = bool(prefs.mute_channels or prefs.watch_people or prefs.watch_keywords or off)
    lines = rank_items_for_reader(
        reader,
        items,
        max_lines=10**9 if reshaped else max_lines,
        open_items=open_items,
        channels=channels,
        user_names=user_names,
        authors_of=authors_of,
        section_caps=dict.fromkeys(BRIEFING_SECTIONS, 10**9) if reshaped else section_caps,
        shown=shown,
    )
    watched: list[ScoredItem] = []
    out: list[ScoredItem] = []
    for s in lines:
        why = _watched_because(prefs, me, s.item, authors_of, user_names)
        if why is not None:
            s = ScoredItem(s.item, s.section, s.score, f"{s.reason} · {why}", s.open_since)
            watched.append(s)
        out.append(s)
    taken = [*shown, *(s.item for s in out)]
    extra: list[ScoredItem] = []
    for item in items:
        if not item.is_new or not is_visible_to(reader, item.channel_id, item.sources):
            continue
        if item.status == "resolved" and authored_by_reader(item, me, authors_of):
            continue
        why = _watched_because(prefs, me, item, authors_of, user_names)
        if why is None:
            continue
        label = channel_label(item.channel_id, channels, me, user_names)
        scored = _classify(reader, item, label=label, user_names=user_names, authors_of=authors_of)
        if scored is not None:
            extra.append(ScoredItem(item, scored.section, scored.score, f"{scored.reason} · {why}"))
        else:
            member = item.channel_id in reader.member_channels
            tier = TIER_KIND.get(item.kind, 1.0)
            text = f"{why} · {_what(item)} {_in_phrase(label)}"
            extra.append(ScoredItem(item, _as_member(item), score(tier, item, member), text))
    for s in sorted(extra, key=_sort_key):
        keys = {frozenset((x.channel_id, x.ts) for x in t.sources) for t in taken if t.sources}
        if s.item.item_id in {t.item_id for t in taken} or (s.item.sources and _key(s.item) in keys):
            continue
        if any((t.channel_id, t.title) == (s.item.channel_id, s.item.title) for t in shown):
            continue
        taken.append(s.item)
        watched.append(s)
        out.append(s)
    out.sort(key=_sort_key)
    counts = {
        "muted_channels": len(prefs.mute_channels),
        "watched_people": len(prefs.watch_people),
        "watched_keywords": len(prefs.watch_keywords),
        "sections_off": sum(1 for on in prefs.sections.values() if not on),
        "lines_watched": len(watched),
        "items_muted": 0,
        "items_switched_off": 0,
        "lines_left_out": 0,
    }
    if prefs.max_lines is not None:
        counts["max_lines"] = prefs.max_lines

    def kept(s: ScoredItem) -> bool:
        return any(s is w for w in watched) or s.section == "needs_you"

    left = []
    for s in out:
        if kept(s):
            left.append(s)
        elif s.section in off:
            counts["items_switched_off"] += 1
        elif s.item.channel_id in prefs.mute_channels:
            counts["items_muted"] += 1
        else:
            left.append(s)
    if reshaped:
        caps = DEFAULT_SECTION_CAPS if section_caps is None else section_caps
        capped: list[ScoredItem] = []
        for s in left:
            n = sum(1 for x in capped if x.section == s.section)
            if any(s is w for w in watched) or (
                n < caps.get(s.section, max_lines) and len(capped) < max_lines
            ):
                capped.append(s)
        left = capped
    counts["items_switched_off"] += sum(1 for w in waiting if w.section in off)
    waiting = [w for w in waiting if w.section not in off]
    more = {k: v for k, v in more.items() if k not in off}
    if prefs.max_lines is not None:
        room = prefs.max_lines - sum(w.section == "waiting_on_you" for w in waiting) - sum(map(kept, left))
        short_waiting = []
        for w in waiting:
            if w.section == "waiting_on_you" or room > 0:
                room -= w.section != "waiting_on_you"
                short_waiting.append(w)
        short = []
        for s in left:
            if kept(s) or room > 0:
                room -= not kept(s)
                short.append(s)
        counts["lines_left_out"] = len(waiting) + len(left) - len(short_waiting) - len(short)
        waiting, left = short_waiting, short
    return waiting, more, left, counts


def _key(item: Item) -> frozenset[tuple[str, str]]:
    return frozenset((x.channel_id, x.ts) for x in item.sources)
