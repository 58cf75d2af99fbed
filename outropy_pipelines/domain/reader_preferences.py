"""A reader's own preferences: muted channels, watched people and keywords, sections, a length.

Pure domain code. Set per person (or for everyone in `defaults`) in the subscriptions file
(`domain/subscriptions.py`), resolved here against the directory, stored with the subscription
(`ReaderPreferences`) and applied by `BriefingIndex.build_briefing` to the lines the ranking chose:

    mute_channels: ["#random", C08DEPLOYS]        # names (with or without #) or conversation ids
    watch_people: [Alice Moreau, "@dan", U003CAROL]  # display names, handles or user ids
    watch_keywords: [postgres, "on call"]          # whole words or phrases, in any case
    sections: {updates: off, decisions: on}        # see PAGE_SECTIONS; unnamed sections stay on
    max_lines: 20                                  # at most 20 lines, but see below

A name that matches no one (or several people / conversations) is an error of the file, like an
unknown user id: a typo never silently watches or mutes nothing.

The rules, in order (nothing ever overrides access control: every line, watched ones too, comes
from a conversation the reader may see):

1. *Watch*: every item of the day the reader may see whose source messages were written by a
   watched person, that a watched person owns or is mentioned in, or whose title or detail holds a
   watched keyword as a whole word, is shown, with "you watch Alice Moreau" / 'you watch "postgres"'
   in its reason: also when the ranking left it out (not for this reader, or past a section's cap),
   in a muted channel, in a section switched off, or past `max_lines`. Watch wins over every other
   preference. A reader's own items do not count as watched by themselves.
2. *Needs you* is never hidden: lines in "Needs you" and "Waiting on you" (asked of the reader,
   assigned to them, mentioning them, their commitments) survive mute and `max_lines`, and those two
   sections cannot be switched off (the file is refused).
3. *Sections off*: the other lines of a section switched off leave the briefing
   ("You're waiting on", "Decisions", "Blockers and incidents", "Updates in your channels").
4. *Mute*: the other lines whose conversation is muted leave the briefing ("You're waiting on",
   the reader's own asks, is not muted: it is about what the reader is owed).
   Rules 1, 3 and 4 work on the ranking before its section caps (`ranking_limits`): the caps are
   applied after them, so the places of muted lines go to the next lines of other conversations,
   and a watched line takes a place under its section's cap but is never cut by it.
5. *max_lines*: the briefing keeps every line of rules 1 and 2, then the others in page order
   while there is room; the intro then says how many were left out ("12 more items not shown").
   It only ever shortens a briefing (the section caps still apply).

What they did to a briefing is `Briefing.preferences` (`preference_counts`: what the reader set,
then the lines watched, the items muted or switched off, the lines left out for length), shown
in the `user_briefings` metadata.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any, Protocol

from outropy_pipelines.domain.briefing_ranking import (
    DEFAULT_SECTION_CAPS,
    ReaderContext,
    ScoredItem,
    authored_by_reader,
    is_visible_to,
    placement,
    score,
    scored_line,
    source_key,
    within_caps,
)
from outropy_pipelines.domain.briefing_waiting import Waiting
from outropy_pipelines.domain.models import (
    BRIEFING_SECTIONS,
    PAGE_SECTIONS,
    Briefing,
    Directory,
    Item,
    ReaderPreferences,
)

#: the keys of the subscriptions file that set preferences (in `defaults` or per person)
PREFERENCE_KEYS = frozenset({"mute_channels", "watch_people", "watch_keywords", "sections", "max_lines"})
#: sections of what needs the reader: never switched off, muted or dropped for length
NEEDS_YOU_SECTIONS = frozenset({"waiting_on_you", "needs_you"})
_ON = {"on": True, "true": True, "yes": True, "off": False, "false": False, "no": False}


# ---------------------------------------------------------------------------------------------------
# Reading the file


def _strings(key: str, value: Any) -> list[str]:
    """A list of non-empty strings (a single string is a list of one)."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str | int) for v in values):
        raise ValueError(f"{key} must be a list of strings")
    out = [str(v).strip() for v in values]
    if any(not v for v in out):
        raise ValueError(f"{key}: empty entry")
    return list(dict.fromkeys(out))


def _unique(key: str, wanted: str, found: set[str], describe: Callable[[str], str]) -> str:
    if not found:
        raise ValueError(f"{key}: {wanted!r} matches no one in the directory")
    if len(found) > 1:
        names = ", ".join(describe(f) for f in sorted(found))
        raise ValueError(f"{key}: {wanted!r} is ambiguous ({names}); use the id")
    return next(iter(found))


def resolve_people(names: Iterable[str], directory: Directory) -> list[str]:
    """User ids of `names`: a user id, a handle (`dan`, `@dan`) or a display name (`Dan Kowalski`),
    in any case. Raises ValueError for a name that matches no one or several people."""
    by_key: dict[str, set[str]] = {}
    for u in directory.users:
        for key in {u.user_id, u.name, u.real_name, u.display_name}:
            if key:
                by_key.setdefault(key.strip().casefold(), set()).add(u.user_id)
    users = directory.user_by_id()
    out: list[str] = []
    for name in names:
        key = name.strip().casefold()
        found = by_key.get(key) or by_key.get(key.removeprefix("@"), set())
        uid = _unique("watch_people", name, found, lambda u: f"{u} {users[u].display_name}")
        if uid not in out:
            out.append(uid)
    return out


def resolve_channels(names: Iterable[str], directory: Directory) -> list[str]:
    """Conversation ids of `names`: a channel name with or without `#`, or a conversation id."""
    by_key: dict[str, set[str]] = {}
    for c in directory.channels:
        for key in {c.channel_id, c.name}:
            if key:
                by_key.setdefault(key.strip().casefold(), set()).add(c.channel_id)
    out: list[str] = []
    for name in names:
        key = name.strip().casefold()
        found = by_key.get(key) or by_key.get(key.removeprefix("#"), set())
        if not found:
            raise ValueError(f"mute_channels: {name!r} matches no conversation in the directory")
        cid = _unique("mute_channels", name, found, str)
        if cid not in out:
            out.append(cid)
    return out


def _sections(value: Any) -> dict[str, bool]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("sections must be a mapping of section name to on/off")
    out: dict[str, bool] = {}
    for name, on in value.items():
        name = str(name).strip()
        if name not in PAGE_SECTIONS:
            raise ValueError(f"sections: unknown section {name!r}; sections: {list(PAGE_SECTIONS)}")
        shown = _ON.get(on.strip().lower()) if isinstance(on, str) else on
        if not isinstance(shown, bool):
            raise ValueError(f"sections: {name} must be on or off")
        if not shown and name in NEEDS_YOU_SECTIONS:
            raise ValueError(f"sections: {name} cannot be switched off: it holds what needs you")
        out[name] = shown
    return out


def _max_lines(value: Any) -> int | None:
    if value is None or value is False:  # `max_lines: off` (YAML reads `off` as false): no limit
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("max_lines must be a whole number of at least 1, or off")
    return value


def resolve_preferences(raw: Mapping[str, Any], directory: Directory) -> dict[str, Any]:
    """The preference keys of one entry of the subscriptions file, checked and resolved against the
    directory: only the keys given (a person's entry overrides the defaults' key by key)."""
    out: dict[str, Any] = {}
    if "mute_channels" in raw:
        out["mute_channels"] = resolve_channels(_strings("mute_channels", raw["mute_channels"]), directory)
    if "watch_people" in raw:
        out["watch_people"] = resolve_people(_strings("watch_people", raw["watch_people"]), directory)
    if "watch_keywords" in raw:
        out["watch_keywords"] = _strings("watch_keywords", raw["watch_keywords"])
    if "sections" in raw:
        out["sections"] = _sections(raw["sections"])
    if "max_lines" in raw:
        out["max_lines"] = _max_lines(raw["max_lines"])
    return out


def merged(current: ReaderPreferences, update: Mapping[str, Any]) -> ReaderPreferences:
    """`current` with the keys of `update` (`resolve_preferences`) replacing its own, except
    `sections`, merged section by section."""
    values = current.model_dump()
    for key, value in update.items():
        values[key] = {**values["sections"], **value} if key == "sections" else value
    return ReaderPreferences.model_validate(values)


def is_set(prefs: ReaderPreferences | None) -> bool:
    """Whether `prefs` change anything (sections named `on` change nothing)."""
    if prefs is None:
        return False
    off = any(not on for on in prefs.sections.values())
    return bool(prefs.mute_channels or prefs.watch_people or prefs.watch_keywords or off or prefs.max_lines)


# ---------------------------------------------------------------------------------------------------
# Watching


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """`keyword` as a whole word or phrase, in any case, any run of spaces between its words."""
    words = [re.escape(w) for w in keyword.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Watch:
    """What a reader watches: people by user id (with their names), keywords with their patterns."""

    people: dict[str, str] = field(default_factory=dict)
    keywords: tuple[tuple[str, re.Pattern[str]], ...] = ()

    @classmethod
    def of(cls, prefs: ReaderPreferences, reader_id: str, user_names: Mapping[str, str] | None) -> Watch:
        names = user_names or {}
        people = {u: names.get(u) or u for u in prefs.watch_people if u != reader_id}
        return cls(people, tuple((k, keyword_pattern(k)) for k in prefs.watch_keywords))

    def __bool__(self) -> bool:
        return bool(self.people or self.keywords)

    def why(self, item: Item, authors_of: Mapping[tuple[str, str], str | None] | None) -> str | None:
        """Why `item` is watched: "you watch Alice Moreau" when a watched person wrote, owns or is
        named in it, else 'you watch "postgres"' when its title or detail holds a watched keyword
        (the first in the reader's order), else None."""
        if self.people:
            involved = set(item.owners) | set(item.mentions)
            if authors_of:
                involved |= {authors_of.get((s.channel_id, s.ts)) or "" for s in item.sources}
            for uid, name in self.people.items():
                if uid in involved:
                    return f"you watch {name}"
        if self.keywords:
            text = f"{item.title}\n{item.detail}"
            for keyword, pattern in self.keywords:
                if pattern.search(text):
                    return f'you watch "{keyword}"'
        return None


# ---------------------------------------------------------------------------------------------------
# Applying


class DayLines(Protocol):
    """What the rules need of a day's `BriefingIndex`."""

    new_items: Sequence[Item]
    user_names: Mapping[str, str] | None
    authors_of: Mapping[tuple[str, str], str | None] | None

    def label(self, channel_id: str, reader_id: str) -> str: ...


_SECTION_INDEX = {s: i for i, s in enumerate(BRIEFING_SECTIONS)}
_UNLIMITED = 1_000_000  # lines: the ranking asked for everything


def _line_key(s: ScoredItem) -> tuple[float, str]:
    return -s.score, s.item.item_id


def _kind_words(item: Item) -> str:
    kind = item.kind.replace("_", " ")
    if item.status == "resolved":
        return f"resolved {kind}"
    if item.status == "open" and item.kind in ("action_item", "question", "blocker"):
        return f"open {kind}"
    return kind


def watched_line(item: Item, why: str, reader: ReaderContext, day: DayLines) -> ScoredItem:
    """A watched item's line: where the ranking places it for this reader, with its reason and
    `why`; an item that is not for the reader otherwise goes where a member of its conversation
    would find it, its reason `why` and what it is."""
    label = day.label(item.channel_id, reader.user_id)
    line = scored_line(item, reader, label, user_names=day.user_names, authors_of=day.authors_of)
    if line is not None:
        return replace(line, reason=f"{line.reason} · {why}")
    as_member = placement(item, member=True, mine=False, mentioned=False, project=None)
    assert as_member is not None  # a member gets every kind somewhere
    section, tier, _ = as_member
    where = f"in {label}" if label.startswith("#") else f"in your {label}"
    member = item.channel_id in reader.member_channels
    return ScoredItem(
        item, BRIEFING_SECTIONS[section], score(tier, item, member), f"{why} · {_kind_words(item)} {where}"
    )


@dataclass
class Applied:
    """The lines a reader's preferences leave, and what they did (`counts`)."""

    waiting: Waiting
    ranked: list[ScoredItem]
    counts: dict[str, int]

    def into(self, briefing: Briefing) -> Briefing:
        """`briefing` (assembled from `waiting` and `ranked`) with the note of the lines left out
        for length at the end of its intro, and the counts (unchanged without preferences)."""
        if not self.counts:
            return briefing
        left_out = self.counts.get("lines_left_out", 0)
        intro = briefing.intro
        if left_out:
            intro = f"{intro} {left_out_note(left_out, self.counts['max_lines'])}".strip()
        return briefing.model_copy(update={"intro": intro, "preferences": dict(self.counts)})


def left_out_note(n: int, max_lines: int) -> str:
    """The intro's last words when `max_lines` left `n` lines out."""
    return f"{n} more item{'s' if n != 1 else ''} not shown (your limit: {max_lines} lines)."


def reshapes(prefs: ReaderPreferences | None) -> bool:
    """Whether `prefs` take lines out of the ranking or add watched ones (max_lines alone does not)."""
    if prefs is None:
        return False
    off = any(not on for on in prefs.sections.values())
    return bool(prefs.mute_channels or prefs.watch_people or prefs.watch_keywords or off)


def ranking_limits(
    prefs: ReaderPreferences | None, max_lines: int, section_caps: Mapping[str, int] | None
) -> tuple[int, Mapping[str, int] | None]:
    """The limits `rank_for` is asked for: its own, or none when the preferences reshape the lines
    (`apply_preferences` then applies the limits after them, so a muted line frees its place)."""
    if not reshapes(prefs):
        return max_lines, section_caps
    return _UNLIMITED, dict.fromkeys(BRIEFING_SECTIONS, _UNLIMITED)


def apply_preferences(
    prefs: ReaderPreferences | None,
    reader: ReaderContext,
    waiting: Waiting,
    ranked: Sequence[ScoredItem],
    day: DayLines,
    *,
    max_lines: int = 25,
    section_caps: Mapping[str, int] | None = None,
) -> Applied:
    """The reader's waiting and ranked lines after their preferences (the rules in this module's
    docstring), in briefing order; the same lines when `prefs` set nothing (`is_set`).

    `ranked` is `rank_for` with the `ranking_limits` of `max_lines` and `section_caps`: when the
    preferences reshape the lines, it is uncapped and the caps are applied here, after mute and
    sections off; a watched line takes its place under its section's cap but is never cut.
    """
    if prefs is None or not is_set(prefs):
        return Applied(waiting=waiting, ranked=list(ranked), counts={})
    counts = preference_counts(prefs)
    watched: set[int] = set()  # id() of the lines shown because of a watch
    lines = _watched(prefs, reader, waiting, ranked, day, watched)
    counts["lines_watched"] = len(watched)

    # 2.-4. sections off, mute (never what needs the reader, never a watched line)
    off = {s for s, on in prefs.sections.items() if not on} - NEEDS_YOU_SECTIONS
    muted = frozenset(prefs.mute_channels)
    kept: list[ScoredItem] = []
    for s in lines:
        if id(s) in watched or s.section in NEEDS_YOU_SECTIONS:
            kept.append(s)
        elif s.section in off:
            counts["items_switched_off"] += 1
        elif s.item.channel_id in muted:
            counts["items_muted"] += 1
        else:
            kept.append(s)
    if reshapes(prefs):  # the ranking's own limits, after mute and sections off
        kept = _capped(kept, watched, max_lines, section_caps)
    waiting_lines = [w for w in waiting.lines if w.section not in off]
    counts["items_switched_off"] += len(waiting.lines) - len(waiting_lines)
    more = {s: n for s, n in waiting.more.items() if s not in off}

    # 5. max_lines: what needs the reader and what they watch, then the rest in page order
    if prefs.max_lines is not None:
        fixed = sum(1 for w in waiting_lines if w.section in NEEDS_YOU_SECTIONS)
        fixed += sum(1 for s in kept if id(s) in watched or s.section in NEEDS_YOU_SECTIONS)
        room = max(prefs.max_lines - fixed, 0)
        shown_waiting = []
        for w in waiting_lines:
            if w.section in NEEDS_YOU_SECTIONS:
                shown_waiting.append(w)
            elif room > 0:
                room -= 1
                shown_waiting.append(w)
        shown: list[ScoredItem] = []
        for s in kept:
            if id(s) in watched or s.section in NEEDS_YOU_SECTIONS:
                shown.append(s)
            elif room > 0:
                room -= 1
                shown.append(s)
        counts["lines_left_out"] = len(waiting_lines) + len(kept) - len(shown_waiting) - len(shown)
        waiting_lines, kept = shown_waiting, shown
    waiting = replace(waiting, lines=waiting_lines, more=more)
    return Applied(waiting=waiting, ranked=kept, counts=counts)


def _watched(
    prefs: ReaderPreferences,
    reader: ReaderContext,
    waiting: Waiting,
    ranked: Sequence[ScoredItem],
    day: DayLines,
    watched: set[int],
) -> list[ScoredItem]:
    """Rule 1: the ranked lines, those that match a watch with its reason, and every other item of
    the day the reader may see that matches one, in its section by score; `watched` collects the
    id() of the watched lines."""
    watch = Watch.of(prefs, reader.user_id, day.user_names)
    if not watch:
        return list(ranked)
    lines: list[ScoredItem] = []
    ids: set[str] = set(waiting.ids)
    keys: set[frozenset] = set(waiting.keys)
    for s in ranked:
        why = watch.why(s.item, day.authors_of)
        if why is not None:
            s = replace(s, reason=f"{s.reason} · {why}")
            watched.add(id(s))
        lines.append(s)
        ids.add(s.item.item_id)
        key = source_key(s.item.sources)
        if key is not None:
            keys.add(key)
    extra: list[ScoredItem] = []
    for item in day.new_items:
        if item.item_id in ids or (item.channel_id, item.title) in waiting.titles:
            continue
        if source_key(item.sources) in keys or not is_visible_to(reader, item.channel_id, item.sources):
            continue
        if item.status == "resolved" and authored_by_reader(item, reader.user_id, day.authors_of):
            continue
        why = watch.why(item, day.authors_of)
        if why is not None:
            extra.append(watched_line(item, why, reader, day))
    added: dict[str, list[ScoredItem]] = {}
    for s in sorted(extra, key=lambda s: (_SECTION_INDEX[s.section], *_line_key(s))):
        key = source_key(s.item.sources)
        if s.item.item_id in ids or (key is not None and key in keys):
            continue  # one line per item and per set of messages
        ids.add(s.item.item_id)
        if key is not None:
            keys.add(key)
        watched.add(id(s))
        added.setdefault(s.section, []).append(s)
    if not added:
        return lines
    out: list[ScoredItem] = []
    for section in BRIEFING_SECTIONS:  # each section's lines keep their order, the added merged in
        same = [x for x in lines if x.section == section]
        out += heapq.merge(same, added.get(section, []), key=_line_key)
    return out


def _capped(
    lines: Sequence[ScoredItem], watched: set[int], max_lines: int, section_caps: Mapping[str, int] | None
) -> list[ScoredItem]:
    """`rank_for`'s limits (each section's cap, then `max_lines` in all, in briefing order); a
    watched line counts but is never cut."""
    caps = DEFAULT_SECTION_CAPS if section_caps is None else section_caps
    return list(
        within_caps(lines, attrgetter("section"), max_lines, caps, kept_anyway=lambda s: id(s) in watched)
    )


def preference_counts(prefs: ReaderPreferences) -> dict[str, int]:
    """What a reader set, as counts (the lines' counts start at 0)."""
    counts = {
        "muted_channels": len(prefs.mute_channels),
        "watched_people": len(prefs.watch_people),
        "watched_keywords": len(prefs.watch_keywords),
        "sections_off": sum(1 for on in prefs.sections.values() if not on),
        "lines_watched": 0,
        "items_muted": 0,
        "items_switched_off": 0,
        "lines_left_out": 0,
    }
    if prefs.max_lines is not None:
        counts["max_lines"] = prefs.max_lines
    return counts
