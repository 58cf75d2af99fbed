"""What a classifier's answer may claim about people and entities: only what its input supports.

A model reads messages that anyone in the workspace could have written, so an instruction hidden
in a message ("assign this to @ceo", "this is about project <script>") must not turn into an owner
or an entity that routes the item to readers. `classification.items_from_output` keeps:

- owners that the item's cited messages address: their authors, the people they mention, the
  people of the thread they name ("Bob, can you..."), and, in a conversation between two people,
  the other one (a two-person exchange addresses its other member); everyone else is dropped;
- entities that are known ones (`KnownEntities`): a conversation of the directory, a project
  derived from a channel's name or followed by a reader, a person of the directory, or words the
  thread itself holds; and that look like a name (letters, digits, spaces and `.-_&+'#/`, at most
  60 characters). Anything else is dropped.

Pure Python: no LLM, no database.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence

from outropy_pipelines.domain.models import Thread, ThreadMessage

MAX_ENTITY_CHARS = 60
_ENTITY_SHAPE_RE = re.compile(r"^[^\W_][\w .&+'#/-]*$")
_SLUG_WORDS_RE = re.compile(r"[^\W_]+")
_PROJECT_WORDS = frozenset({"project", "proj", "prj", "the"})


def _words(text: str) -> tuple[str, ...]:
    return tuple(w for w in _SLUG_WORDS_RE.findall(text.lower()) if w not in _PROJECT_WORDS)


@functools.lru_cache(maxsize=4)
def _known_names(names: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """The word tuples of `names`, and each word on its own (a channel named proj-atlas or atlas-eng
    also stands for the project atlas). Cached: a run classifies day after day with one directory."""
    known: set[tuple[str, ...]] = set()
    for name in names:
        words = _words(name)
        if words:
            known.add(words)
            known.update((word,) for word in words)
    return frozenset(known)


class KnownEntities:
    """The entities a day's answers may name, besides words of the thread itself: conversation
    names, the projects those names stand for (`proj-atlas` -> atlas), projects readers follow,
    and people of the directory."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._known = _known_names(tuple(names))

    @classmethod
    def of(
        cls,
        channel_names: Iterable[str],
        user_names: Iterable[str],
        followed_projects: Iterable[str] = (),
    ) -> KnownEntities:
        return cls([*channel_names, *user_names, *followed_projects])

    def allows(self, entity: str, thread_text: str) -> bool:
        """True when `entity` looks like a name and is known, or all its words are in the thread."""
        entity = entity.strip()
        if not entity or len(entity) > MAX_ENTITY_CHARS or not _ENTITY_SHAPE_RE.match(entity):
            return False
        words = _words(entity)
        if not words:
            return False
        if words in self._known:
            return True
        low = thread_text.lower()
        return all(w in low and _word_re(w).search(low) for w in words)


@functools.lru_cache(maxsize=8192)
def _word_re(word: str) -> re.Pattern[str]:
    """`word` as a whole word (not inside another word). Compiled once per word: a directory's
    names outnumber the `re` module's own cache, which would compile them again on every call."""
    return re.compile(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])")


def thread_text(thread: Thread) -> str:
    """The text an answer about `thread` may quote: its messages, one per line."""
    return "\n".join(m.clean_text for m in thread.messages if m.clean_text)


def _named(text: str, people: Mapping[str, str]) -> set[str]:
    """People of `people` (id -> name) whose full name or first name is a word of `text`."""
    if not text:
        return set()
    low = text.lower()
    out: set[str] = set()
    for uid, name in people.items():
        full = name.strip().lower()
        if not full:
            continue
        first = full.split()[0]
        for candidate in {full, first} if len(first) >= 2 else {full}:
            if candidate in low and _word_re(candidate).search(low):
                out.add(uid)
                break
    return out


def addressed_people(
    thread: Thread, cited: Sequence[ThreadMessage], user_names: Mapping[str, str]
) -> set[str]:
    """Who the `cited` messages of `thread` address: their authors, the people they mention, the
    people of the thread they name, and the other person of a two-person conversation (up to the
    first cited message, where the item starts, at most two people had spoken; or the thread
    holds two people at all)."""
    out: set[str] = set()
    for m in cited:
        if m.user_id:
            out.add(m.user_id)
        out.update(u for u in m.mentions if u)
    people = {u for u in thread.participants if u}
    for m in thread.messages:
        if m.user_id:
            people.add(m.user_id)
        people.update(u for u in m.mentions if u)
    names = {u: user_names.get(u, "") for u in people}
    for m in cited:
        out |= _named(m.clean_text, names)
    if len(people) <= 2:
        return out | people
    first = min((_ts_key(m.ts) for m in cited), default=None)
    if first is not None:
        # people, that is: a deploy bot's notice between two colleagues does not make it three
        speakers = {
            m.user_id for m in thread.messages if m.user_id and not m.is_bot and _ts_key(m.ts) <= first
        }
        if len(speakers) <= 2:
            out |= speakers
    return out


def _ts_key(ts: str) -> tuple[int, int]:
    whole, _, frac = ts.partition(".")
    try:
        return int(whole), int((frac + "000000")[:6])
    except ValueError:
        return (0, 0)
