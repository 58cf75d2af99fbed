"""Near-identical items of one day become one item with a count.

A person or a bot saying the same thing again in another thread ("Reindex job on shard 3
finished", then shard 4, 5, 6) is one line of a briefing, not four: items of the same channel,
kind and author whose titles differ only in numbers, case or punctuation are grouped into the
first of them, which keeps every source and says how many times it was said ("... (4 times)").
News and progress (announcements, status updates) group across authors too: several people
posting "reindex job on shard N finished" in one channel on one day is one line "Erin Walsh and 2
others: ... (4 times)"; asks and questions stay per author (each has its own asker and owners).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from outropy_pipelines.domain.models import Item

_NUMBER_RE = re.compile(r"\d+")
_PUNCT_RE = re.compile(r"[^\w#]+")
_SPEAKER_RE = re.compile(r"^[^:\n]{1,80}: ")  # "Erin Walsh: " before what was said
_ANYONE_MAY_REPEAT = frozenset({"status_update", "announcement"})


def repeat_key(item: Item, author: str) -> tuple[str, str, str, str]:
    """Items with the same key are one item said again: channel, kind, author and the title
    lowercased with numbers as '#' and punctuation dropped."""
    title = item.title
    if item.kind in _ANYONE_MAY_REPEAT:
        title, author = _SPEAKER_RE.sub("", title), ""
    title = _PUNCT_RE.sub(" ", _NUMBER_RE.sub("#", title.lower())).strip()
    return (item.channel_id, item.kind, author, title)


def group_repeats(items: Sequence[Item], author_of: Mapping[tuple[str, str], str]) -> list[Item]:
    """Group near-identical items (see `repeat_key`); `author_of` maps (channel_id, ts) to the
    author of that message. Order is kept (a group stands where its first item stood)."""
    groups: dict[tuple[str, str, str, str], list[Item]] = {}
    authors: dict[str, str] = {}
    for item in items:
        first = item.sources[0] if item.sources else None
        author = author_of.get((first.channel_id, first.ts), "") if first else ""
        authors[item.item_id] = author
        groups.setdefault(repeat_key(item, author), []).append(item)
    if len(groups) == len(items):
        return list(items)
    out: list[Item] = []
    for members in groups.values():
        if len(members) == 1:
            out.append(members[0])
            continue
        head = members[0]
        sources = list(dict.fromkeys(s for m in members for s in m.sources))
        resolved = all(m.status == "resolved" for m in members)
        out.append(
            head.model_copy(
                update={
                    "title": _grouped_title(head.title, members, authors),
                    "sources": sources,
                    "is_new": any(m.is_new for m in members),
                    "status": "resolved" if resolved else head.status,
                    "owners": list(dict.fromkeys(o for m in members for o in m.owners)),
                }
            )
        )
    return out


def _grouped_title(title: str, members: Sequence[Item], authors: Mapping[str, str]) -> str:
    """'Erin Walsh: reindex job on shard 4 finished (3 times)'; said by several people: 'Erin Walsh
    and 2 others: reindex job on shard 4 finished (5 times)'."""
    others = len({authors.get(m.item_id, "") for m in members}) - 1
    speaker = _SPEAKER_RE.match(title)
    if others and speaker is not None:
        said = "other" if others == 1 else "others"
        title = f"{speaker.group(0)[:-2]} and {others} {said}: {title[speaker.end() :]}"
    return f"{title} ({len(members)} times)"
