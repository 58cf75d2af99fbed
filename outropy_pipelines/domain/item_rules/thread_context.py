"""The context of one thread for the rules: its people and their names, its day and channel, and
its messages prepared (normalised, cue gates found, noise marked).

`render` turns a text back into something readable for a title: mentions as names, links as their
labels, emoji dropped, first person as the author's name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TypeVar

from outropy_pipelines.domain.contracts import ClassifyThreadInput, ThreadMessageInput
from outropy_pipelines.domain.item_rules.cue_gates import active_gates
from outropy_pipelines.domain.item_rules.due_dates import find_due
from outropy_pipelines.domain.item_rules.event_cues import INCIDENT_CHANNEL_RE
from outropy_pipelines.domain.item_rules.message_text import (
    AT_WORD_RE,
    CC_RE,
    MENTION_TOKEN_RE,
    TOKEN_RE,
    PreparedMessage,
    normalise,
)
from outropy_pipelines.domain.item_rules.project_names import (
    NOT_PROJECTS,
    PROJECT_TEXT_RES,
    channel_project,
    project_display,
)
from outropy_pipelines.domain.noise import is_noise_text

_I = re.IGNORECASE

# `render`: links, emoji and the first person, in titles
_URL_RE = re.compile(r"<?(?:https?|mailto|tel):[^\s>|]+(?:\|([^>]*))?>?")
# "label (https://...)" as the cleaner writes a labelled link: the label is enough in a title
_LABELLED_URL_RE = re.compile(r"\s*\((?:https?|mailto|tel):[^\s)]+\)")
_EMOJI_RE = re.compile(r":[a-z0-9_+\-']+:", _I)
_FIRST_PERSON = (
    (re.compile(r"\bI'm\b|\bI am\b", _I), "{a} is"),
    (re.compile(r"\bI've\b|\bI have\b", _I), "{a} has"),
    (re.compile(r"\bI'll\b|\bI will\b", _I), "{a} will"),
    (re.compile(r"\bI'd\b", _I), "{a} would"),
    (re.compile(r"\bI\b"), "{a}"),
    (re.compile(r"\bmy\b", _I), "{a}'s"),
    (re.compile(r"\bme\b", _I), "{a}"),
)
_FIRST_PERSON_GATE_RE = re.compile(r"\b(?:i|me|my)\b|\bi'", _I)
_NO_CC: frozenset[str] = frozenset()
_NO_GATES: frozenset[int] = frozenset()
V = TypeVar("V")

# Pure functions of a string, memoised: a day's threads share a handful of days and channels.
_MEMO_LIMIT = 4096
_CHANNEL_FACTS: dict[str, tuple[str | None, bool]] = {}
_DAYS: dict[str, dt.date | None] = {}
# What a message's text alone decides (normalised text, lowercase, gates, noise), per text without
# "@" (the rest depends on the thread's people): bots, alerts and short replies repeat their texts.
_TEXT_MEMO_LIMIT = 16_384  # about 10 MB at most
_TEXT_FACTS: dict[str, tuple[str, str, frozenset[int], bool]] = {}


def _parse_day(day: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(day)
    except ValueError:
        return None


def _remember(memo: dict[str, V], key: str, value: V, limit: int = _MEMO_LIMIT) -> V:
    """`memo[key] = value`, the memo emptied first when it holds `limit` entries; returns `value`."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value


def _channel_facts(channel_name: str) -> tuple[str | None, bool]:
    """(project named by the channel, incident-like channel), per channel name (memoised)."""
    facts = _CHANNEL_FACTS.get(channel_name)
    if facts is None:
        facts = (channel_project(channel_name), bool(INCIDENT_CHANNEL_RE.search(channel_name)))
        _remember(_CHANNEL_FACTS, channel_name, facts)
    return facts


def _day_of(day: str) -> dt.date | None:
    if day in _DAYS:
        return _DAYS[day]
    return _remember(_DAYS, day, _parse_day(day))


class ThreadContext:
    """Per-thread lookups: people, names, day, channel.

    The name tables (`name_to_id`, `first_names`) are built on first use: most messages never need
    them (they serve "@Name" mentions, "Bob, ..." addresses and project names)."""

    __slots__ = (
        "_first_names",
        "_name_to_id",
        "_names_longest_first",
        "channel_project",
        "day",
        "incident_channel",
        "is_dm",
        "people",
    )

    def __init__(self, inp: ClassifyThreadInput) -> None:
        people: dict[str, str] = dict(inp.people)
        for m in inp.messages:
            if m.author_id and m.author_id not in people:
                people[m.author_id] = m.author_name
        for name in people.values():
            if name and name[0].isspace() and name.isspace():
                name.split()[0]  # raises IndexError, as building the name tables always did
        self.people = people
        self._name_to_id: dict[str, str] | None = None
        self._first_names: dict[str, str] | None = None
        self._names_longest_first: list[tuple[str, str]] | None = None
        self.is_dm = inp.channel_kind in ("im", "mpim")
        self.day: dt.date | None = _day_of(inp.day)
        self.channel_project, self.incident_channel = _channel_facts(inp.channel_name)

    def _build_names(self) -> None:
        name_to_id: dict[str, str] = {}
        first_names: dict[str, str] = {}
        for uid, name in self.people.items():
            if not name:
                continue
            name_to_id.setdefault(name, uid)
            first = name.split()[0].lower()
            if len(first) >= 2:
                first_names.setdefault(first, uid)
        self._name_to_id = name_to_id
        self._first_names = first_names

    @property
    def name_to_id(self) -> dict[str, str]:
        if self._name_to_id is None:
            self._build_names()
        return self._name_to_id  # type: ignore[return-value]

    @property
    def first_names(self) -> dict[str, str]:
        if self._first_names is None:
            self._build_names()
        return self._first_names  # type: ignore[return-value]

    def name(self, uid: str) -> str:
        return self.people.get(uid) or "someone"

    def names(self, uids: Sequence[str]) -> str:
        names = [self.name(u) for u in uids]
        if not names:
            return "someone"
        if len(names) == 1:
            return names[0]
        return ", ".join(names[:-1]) + " and " + names[-1]

    def prep(self, m: ThreadMessageInput, idx: int) -> PreparedMessage:
        raw = m.text or ""
        text, low, active, noise = _TEXT_FACTS.get(raw) or self._text_facts(raw)
        mentions = list(dict.fromkeys(m.mentions)) if m.mentions else []
        if "<@" in text:
            for uid in MENTION_TOKEN_RE.findall(text):
                if uid not in mentions:
                    mentions.append(uid)
        if mentions:
            mentions = [u for u in mentions if u and u != m.author_id]
        cc: frozenset[str] | set[str] = _NO_CC
        if mentions and "cc" in low:
            cut = CC_RE.search(text)
            if cut:
                cc = set(MENTION_TOKEN_RE.findall(text, cut.end()))
        return PreparedMessage(idx, m.id, m.author_id, text, low, active, mentions, cc, noise)

    def _text_facts(self, raw: str) -> tuple[str, str, frozenset[int], bool]:
        """What a message's text alone decides: its normalised text, lowercase, cue gates and noise;
        remembered for a text without "@" (with one, normalising depends on the thread's people)."""
        text = normalise(raw, self._mentions_from_names) if raw else raw
        low = text.lower()
        tokens = TOKEN_RE.findall(low)
        # more than 12 distinct words and no mention or emoji markup: is_noise_text would say no
        noise = (
            False
            if len(tokens) > 12 and len(set(tokens)) > 12 and "@" not in text and ":" not in text
            else is_noise_text(text)
        )
        active = _NO_GATES if noise else frozenset(active_gates(tokens, low))
        facts = (text, low, active, noise)
        if "@" not in raw and "@" not in text:
            _remember(_TEXT_FACTS, raw, facts, _TEXT_MEMO_LIMIT)
        return facts

    def _mentions_from_names(self, text: str) -> str:
        """'@Bob Smith' / '@bob' (mentions the cleaner already resolved) -> <@U..>."""
        if self._names_longest_first is None:  # "@Bob Diaz" before "@Bob"
            self._names_longest_first = sorted(self.name_to_id.items(), key=lambda kv: -len(kv[0]))
        for name, uid in self._names_longest_first:
            token = "@" + name
            if token in text:
                text = text.replace(token, f"<@{uid}>")
        if "@" in text:
            first = self.first_names
            text = AT_WORD_RE.sub(
                lambda x: f"<@{first[x.group(1).lower()]}>" if x.group(1).lower() in first else x.group(0),
                text,
            )
        return text

    def render(self, text: str, author: str | None = None) -> str:
        """Markup -> readable text; first person -> the author's name."""
        if "<@" in text:
            text = MENTION_TOKEN_RE.sub(lambda x: self.name(x.group(1)), text)
        if "http" in text or "mailto:" in text:
            text = _LABELLED_URL_RE.sub("", text)
            text = _URL_RE.sub(lambda x: x.group(1) or "(link)", text)
        if ":" in text:
            text = _EMOJI_RE.sub("", text)
        if author is not None and _FIRST_PERSON_GATE_RE.search(text):
            a = self.name(author)
            for rx, repl in _FIRST_PERSON:
                text = rx.sub(repl.replace("{a}", a), text)
        return text

    def due(self, sentence: str) -> str | None:
        if self.day is None:
            return None
        return find_due(sentence, self.day)

    def entities(self, text: str) -> list[str]:
        found: list[str] = []
        if self.channel_project:
            found.append(self.channel_project)
        for rx, from_slug, gate in PROJECT_TEXT_RES:
            if gate not in text:
                continue
            for m in rx.finditer(text):
                name = m.group("name").strip()
                if from_slug:
                    name = project_display(name)
                if (
                    not name
                    or name in NOT_PROJECTS
                    or name in self.name_to_id
                    or name.lower() in self.first_names
                ):
                    continue
                found.append(name)
        return list(dict.fromkeys(found))
