"""Gates: which cue patterns may apply to a message, found once per message.

Each pattern of the cue tables (`action_cues`, `event_cues`) has a gate: a space-separated spec of
plain words, which must occur as tokens of the lowercased message, and other strings (":", "<@",
"@here", emoji), which must occur in it as substrings. The specs are indexed once here (word ->
gate ids, literal -> gate ids); per message, `active_gates` finds the gates it passes with one set
intersection and a few substring tests, and a detector whose every gate is off is not called.

The `*_TABLE`s are the cue tables with each gate spec replaced by its gate id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from outropy_pipelines.domain.item_rules.action_cues import INFO_GATE_SPEC, REQUEST_RES
from outropy_pipelines.domain.item_rules.cue_syntax import Gate, PositionPattern
from outropy_pipelines.domain.item_rules.event_cues import (
    ANNOUNCE_RES,
    BLOCKER_RES,
    DECISION_RES,
    INCIDENT_GATE_SPEC,
    STATUS_RES,
)
from outropy_pipelines.domain.item_rules.field_cues import (
    ASK_GATE_SPEC,
    BROADCAST_GATE_SPEC,
    COMMIT_GATE_SPEC,
    FAILURE_GATE_SPEC,
    PROGRESS_GATE_SPEC,
    SETTLE_GATE_SPEC,
    UNMARKED_QUESTION_GATE_SPEC,
)
from outropy_pipelines.domain.item_rules.message_text import PreparedMessage

_PLAIN_WORD_RE = re.compile(r"^[\w']+$")


# Gates are indexed once: word -> gate ids, literal -> gate ids. Per message, the gates that pass
# are found with one set intersection and a few substring tests (`active_gates`).
_WORD_TRIGGERS: dict[str, list[int]] = {}
_LITERAL_TRIGGERS: dict[str, list[int]] = {}
_N_GATES = 0


def _gate(spec: Gate) -> int | None:
    """Register a gate spec; returns its id (None: always run)."""
    global _N_GATES
    if spec is None:
        return None
    gid = _N_GATES
    _N_GATES += 1
    for item in spec.split():
        target = _WORD_TRIGGERS if _PLAIN_WORD_RE.match(item) else _LITERAL_TRIGGERS
        target.setdefault(item, []).append(gid)
    return gid


def _gated(table: Sequence[tuple]) -> tuple:
    """Replace each entry's gate spec (last element) by its gate id: (..., gate id)."""
    return tuple((*entry[:-1], _gate(entry[-1])) for entry in table)


def _detector_table(table: Sequence[tuple[str | int, re.Pattern[str], float, Gate]]) -> tuple:
    """A detector's cue table for `table_hits`: gate ids, and patterns read by position."""
    return tuple((kind, PositionPattern(rx), conf, gid) for kind, rx, conf, gid in _gated(table))


REQUEST_TABLE = _gated(REQUEST_RES)
DECISION_TABLE = _detector_table(DECISION_RES)
BLOCKER_TABLE = _detector_table(BLOCKER_RES)
ANNOUNCE_TABLE = _detector_table(ANNOUNCE_RES)
STATUS_TABLE = _detector_table(STATUS_RES)
INFO_GATE = _gate(INFO_GATE_SPEC)
INCIDENT_GATE = _gate(INCIDENT_GATE_SPEC)
FAILURE_GATE = _gate(FAILURE_GATE_SPEC)
PROGRESS_GATE = _gate(PROGRESS_GATE_SPEC)
SETTLE_GATE = _gate(SETTLE_GATE_SPEC)
UNMARKED_QUESTION_GATE = _gate(UNMARKED_QUESTION_GATE_SPEC)
BROADCAST_GATE = _gate(BROADCAST_GATE_SPEC)
ASK_FIELD_GATE = _gate(ASK_GATE_SPEC)
COMMIT_FIELD_GATE = _gate(COMMIT_GATE_SPEC)
COMMIT_GATE = _gate("i i'll i'm i'd i've will going plan we'll")
COMMIT_FIXED_GATE = _gate(
    "on got leave will consider taking let looking investigating digging checking handling picking grabbing "
    "owning take grab own handle mine"
)
REQUEST_BY_GATE = {entry[3]: entry[:3] for entry in REQUEST_TABLE}
REQUEST_GATES = frozenset(REQUEST_BY_GATE)
assert None not in REQUEST_GATES, "every request pattern needs a gate"
_TRIGGER_WORDS = frozenset(_WORD_TRIGGERS)
# the gates of each detector (every pattern of these tables has one)
DECISION_GATES = frozenset(entry[3] for entry in DECISION_TABLE)
BLOCKER_GATES = frozenset(entry[3] for entry in BLOCKER_TABLE)
ANNOUNCE_GATES = frozenset(entry[3] for entry in ANNOUNCE_TABLE)
STATUS_GATES = frozenset(entry[3] for entry in STATUS_TABLE)
ACTION_GATES = REQUEST_GATES | {COMMIT_GATE, COMMIT_FIXED_GATE}
assert None not in DECISION_GATES | BLOCKER_GATES | ANNOUNCE_GATES | STATUS_GATES | ACTION_GATES
_LITERALS = tuple(_LITERAL_TRIGGERS.items())


def _literal_groups(
    literals: Sequence[tuple[str, list[int]]],
) -> tuple[tuple[str | None, tuple[tuple[str, list[int]], ...]], ...]:
    """Literals grouped under a character each of them contains (None: the non-ASCII ones), so a
    message is searched for the few group characters and only then for the literals of a group."""
    groups: dict[str | None, list[tuple[str, list[int]]]] = {}
    for lit, ids in literals:
        if not lit.isascii():
            key: str | None = None
        else:
            key = next((c for c in ":-@%" if c in lit), lit)
        groups.setdefault(key, []).append((lit, ids))
    return tuple((key, tuple(members)) for key, members in groups.items())


_LITERAL_GROUPS = _literal_groups(_LITERALS)


def active_gates(words: Iterable[str], low: str) -> set[int]:
    """The gates a message passes: `words` are its tokens (any iterable), `low` its lowercase text."""
    active: set[int] = set()
    for w in _TRIGGER_WORDS.intersection(words):
        active.update(_WORD_TRIGGERS[w])
    ascii_only = low.isascii()
    for key, members in _LITERAL_GROUPS:
        if key is None:
            if ascii_only:
                continue
        elif key not in low:
            continue
        for lit, ids in members:
            if lit in low:
                active.update(ids)
    return active


def table_hits(
    msg: PreparedMessage, table: Sequence[tuple]
) -> Iterator[tuple[str, float, re.Match[str], int, int]]:
    """(kind, confidence, match, sentence start, sentence end) for each row of a detector table
    whose gate is active and whose pattern matches the message (a match is read for its positions:
    see `PositionPattern`)."""
    text, low, active = msg.text, msg.low, msg.active
    for kind, rx, conf, gate in table:
        if gate is not None and gate not in active:
            continue
        m = rx.search(text, low)
        if m is None:
            continue
        s, e = msg.sentence_at(m.start())
        yield kind, conf, m, s, e
