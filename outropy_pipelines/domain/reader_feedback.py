"""A reader's feedback on briefing lines ("useful" / "not useful") and what it changes in ranking.

Pure domain code. Readers mark lines with reactions on the Slack DM's per-line thread replies, with
the links of the email, or with `outropy feedback`; every mark is a `FeedbackEvent` (stored in
DuckDB, `store/feedback.py`) that remembers the line's kind, conversation and people (the authors
of the messages it cites) at the time it was marked.

Ranking (`adjustments_from`, `rank_with_feedback`): over the last `window_days` days, per kind,
conversation and person, a smoothed share

    lean = (useful - not_useful) / (useful + not_useful + prior)

so one click moves little (with the default prior 2: -1/3) and a steady habit moves more
(3 of 3 marked down: -3/5). A line's adjustment is `weight_kind * lean(kind) + weight_channel *
lean(channel) + weight_person * mean(lean of its people)`, clipped to [-max_penalty, +max_boost],
added to its score. Only this reader's own events count, so another reader's ranking is unchanged.

Never hidden: the lines that need the reader (*Needs you*, and the waiting sections above it, which
this module never sees) keep their score and their place; sections keep their order, so a marked
down line only moves down within its own section (and may then fall below the section's cap).

Tokens (`feedback_token`, `read_token`): an email link carries (reader, day, line, value, item) signed with
HMAC-SHA256 under a server-side secret, so nobody can record feedback for another reader's lines.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter

from outropy_pipelines.domain.briefing_ranking import DEFAULT_SECTION_CAPS, ScoredItem, within_caps
from outropy_pipelines.domain.models import BRIEFING_SECTIONS, Item

USEFUL, NOT_USEFUL = "useful", "not_useful"
VALUES: tuple[str, ...] = (USEFUL, NOT_USEFUL)
SOURCES: tuple[str, ...] = ("slack", "email", "cli")
#: sections feedback never reorders or cuts: the lines that need the reader
PROTECTED_SECTIONS: frozenset[str] = frozenset({"needs_you", "waiting_on_you", "waiting_on_others"})
DEFAULT_USEFUL_REACTIONS: tuple[str, ...] = ("+1", "thumbsup")
DEFAULT_NOT_USEFUL_REACTIONS: tuple[str, ...] = ("-1", "thumbsdown")
_UNLIMITED = 1_000_000


@dataclass(frozen=True)
class FeedbackEvent:
    """One mark of one line of a reader's briefing (`position` 0-based, as in `briefing_lines`)."""

    reader_id: str
    day: str
    position: int
    value: str  # USEFUL | NOT_USEFUL
    source: str  # slack | email | cli
    item_id: str | None = None
    kind: str | None = None
    channel_id: str | None = None
    people: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, int, str]:
        """One event per (reader, line, value): marking a line twice is one mark."""
        return (self.reader_id, self.day, self.position, self.value)


@dataclass(frozen=True)
class FeedbackPolicy:
    window_days: int = 28
    prior: float = 2.0
    weight_kind: float = 1.0
    weight_channel: float = 1.0
    weight_person: float = 0.5
    max_penalty: float = 2.0
    max_boost: float = 0.5


@dataclass(frozen=True)
class ReaderAdjustments:
    """A reader's leanings (negative: marked down) by kind, conversation and person."""

    reader_id: str
    kinds: Mapping[str, float] = field(default_factory=dict)
    channels: Mapping[str, float] = field(default_factory=dict)
    people: Mapping[str, float] = field(default_factory=dict)
    events: int = 0
    policy: FeedbackPolicy = field(default_factory=FeedbackPolicy)

    @property
    def empty(self) -> bool:
        return not (self.kinds or self.channels or self.people)

    def delta(self, kind: str, channel_id: str, people: Iterable[str] = ()) -> float:
        """The score adjustment of a line of `kind` in `channel_id` citing `people`."""
        p = self.policy
        total = p.weight_kind * self.kinds.get(kind, 0.0) + p.weight_channel * self.channels.get(
            channel_id, 0.0
        )
        leans = [self.people[u] for u in dict.fromkeys(people) if u in self.people]
        if leans:
            total += p.weight_person * sum(leans) / len(leans)
        return round(min(max(total, -p.max_penalty), p.max_boost), 4)


def window_of(day: str, policy: FeedbackPolicy) -> tuple[str, str]:
    """The days whose feedback ranks the briefing of `day`: the `window_days` days before it."""
    d = dt.date.fromisoformat(day)
    return (d - dt.timedelta(days=policy.window_days)).isoformat(), (d - dt.timedelta(days=1)).isoformat()


def _lean(useful: int, not_useful: int, prior: float) -> float:
    return (useful - not_useful) / (useful + not_useful + prior)


def adjustments_from(
    reader_id: str, events: Iterable[FeedbackEvent], policy: FeedbackPolicy | None = None
) -> ReaderAdjustments:
    """The reader's adjustments from their events (the caller picks the window's events). Events of
    other readers are ignored."""
    policy = policy or FeedbackPolicy()
    counts: dict[str, dict[str, list[int]]] = {"kind": {}, "channel": {}, "person": {}}
    n = 0
    for e in events:
        if e.reader_id != reader_id or e.value not in VALUES:
            continue
        n += 1
        slot = 0 if e.value == USEFUL else 1
        keys = [("kind", e.kind), ("channel", e.channel_id)]
        keys += [("person", u) for u in dict.fromkeys(e.people) if u != reader_id]
        for dim, key in keys:
            if key:
                counts[dim].setdefault(key, [0, 0])[slot] += 1

    def leans(dim: str) -> dict[str, float]:
        return {k: round(_lean(u, d, policy.prior), 4) for k, (u, d) in sorted(counts[dim].items()) if u != d}

    return ReaderAdjustments(
        reader_id, leans("kind"), leans("channel"), leans("person"), events=n, policy=policy
    )


def people_of(
    item: Item, reader_id: str, authors_of: Mapping[tuple[str, str], str | None] | None
) -> list[str]:
    """The people a line is about: the authors of the messages it cites (the reader left out)."""
    found = ((authors_of or {}).get((s.channel_id, s.ts)) for s in item.sources)
    return sorted({a for a in found if a and a != reader_id})


@dataclass
class Applied:
    """What feedback changed in one briefing (for the materialization's metadata)."""

    events: int = 0
    adjusted_lines: int = 0  # lines shown whose score feedback changed
    demoted: int = 0
    promoted: int = 0
    leanings: dict[str, dict[str, float]] = field(default_factory=dict)  # kind / channel / person


RankFn = Callable[..., list[ScoredItem]]


def rank_with_feedback(
    rank: RankFn,
    adjustments: ReaderAdjustments | None,
    authors_of: Mapping[tuple[str, str], str | None] | None,
    *,
    max_lines: int = 25,
    section_caps: Mapping[str, int] | None = None,
    applied: Applied | None = None,
) -> list[ScoredItem]:
    """`rank(max_lines=..., section_caps=...)` (a `BriefingIndex.rank_for` bound to a reader), with
    the reader's adjustments: without any, exactly `rank`'s lines. With some, every candidate is
    ranked (no caps), the adjustment added to each score outside PROTECTED_SECTIONS, then the lines
    sorted as `rank_for` sorts them (section, score highest first, item_id) and cut to the same caps."""
    if adjustments is None or adjustments.empty:
        return rank(max_lines=max_lines, section_caps=section_caps)
    caps = dict(DEFAULT_SECTION_CAPS if section_caps is None else section_caps)
    everything = rank(max_lines=_UNLIMITED, section_caps=dict.fromkeys(BRIEFING_SECTIONS, _UNLIMITED))
    order = {s: i for i, s in enumerate(BRIEFING_SECTIONS)}
    changed: dict[int, float] = {}
    scored: list[ScoredItem] = []
    for s in everything:
        if s.section not in PROTECTED_SECTIONS:
            d = adjustments.delta(
                s.item.kind, s.item.channel_id, people_of(s.item, adjustments.reader_id, authors_of)
            )
            if d:
                s = replace(s, score=round(s.score + d, 4))
                changed[id(s)] = d
        scored.append(s)
    scored.sort(key=lambda s: (order.get(s.section, len(order)), -s.score, s.item.item_id))
    out = list(within_caps(scored, attrgetter("section"), max_lines, caps))
    if applied is not None:
        applied.events = adjustments.events
        applied.leanings = {
            "kind": dict(adjustments.kinds),
            "channel": dict(adjustments.channels),
            "person": dict(adjustments.people),
        }
        for s in out:
            d = changed.get(id(s), 0.0)
            applied.adjusted_lines += d != 0
            applied.demoted += d < 0
            applied.promoted += d > 0
    return out


# -- reactions -------------------------------------------------------------------------------------


def reaction_value(name: str, useful: Iterable[str], not_useful: Iterable[str]) -> str | None:
    """USEFUL / NOT_USEFUL for a Slack reaction name (skin tones ignored: `+1::skin-tone-3`), or None."""
    base = name.split("::", 1)[0].strip().strip(":")
    if base in set(not_useful):
        return NOT_USEFUL
    if base in set(useful):
        return USEFUL
    return None


def parse_names(text: str | None, default: Sequence[str]) -> tuple[str, ...]:
    """A comma-separated list of reaction names (`+1, thumbsup`); empty or unset: `default`."""
    names = tuple(n.strip().strip(":") for n in (text or "").split(",") if n.strip().strip(":"))
    return names or tuple(default)


# -- signed links ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackClaim:
    """What a signed link says: this reader marks this line of their briefing of this day."""

    reader_id: str
    day: str
    position: int
    value: str
    item_id: str = ""  # the line's item when the link was made ("": any)


def _sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha256).hexdigest()[:40]


def feedback_token(
    secret: str, reader_id: str, day: str, position: int, value: str, item_id: str = ""
) -> str:
    """A URL-safe token naming (reader, day, line, value, and the line's item), signed with `secret`."""
    if not secret:
        raise ValueError("feedback links need a secret")
    payload = f"{reader_id}|{day}|{position}|{value}|{item_id}"
    encoded = base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")
    return f"{encoded}.{_sign(secret, payload)}"


def read_token(secret: str, token: str) -> FeedbackClaim | None:
    """The claim of a token signed with `secret`; None when it is malformed or its signature is wrong."""
    if not secret or not token or token.count(".") != 1:
        return None
    encoded, signature = token.split(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(_sign(secret, payload), signature):
        return None
    parts = payload.split("|")
    if len(parts) != 5 or parts[3] not in VALUES or not parts[2].isdigit():
        return None
    return FeedbackClaim(parts[0], parts[1], int(parts[2]), parts[3], parts[4])
