"""`PositionPattern`: a case-insensitive cue pattern run case-sensitively on the lowercase text
finds the same positions as the pattern itself, for every pattern read that way, on every message
of the sample export and on text where lowercasing is not enough."""

from __future__ import annotations

import json
import re

import pytest

from outropy_pipelines.domain.item_rules import event_cues, field_cues
from outropy_pipelines.domain.item_rules.cue_gates import (
    ANNOUNCE_TABLE,
    BLOCKER_TABLE,
    DECISION_TABLE,
    STATUS_TABLE,
)
from outropy_pipelines.domain.item_rules.cue_syntax import PositionPattern
from outropy_pipelines.domain.item_rules.message_text import normalise
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT

# every pattern of the cue modules read by position, and the detector tables' patterns
_PATTERNS = [
    *(
        p
        for module in (event_cues, field_cues)
        for p in vars(module).values()
        if isinstance(p, PositionPattern)
    ),
    *(row[1] for table in (DECISION_TABLE, BLOCKER_TABLE, ANNOUNCE_TABLE, STATUS_TABLE) for row in table),
]

_INVENTED = [
    "I'm getting a Permission Denied error when I run it. Fixed now!",
    "WE DECIDED to ship on Friday; The build WORKS NOW",
    "Straße ſtuck: the İnstaller HANGS and I'm stuck",  # not ASCII: the pattern itself runs
    "<@U01ABCDEF> can you check? The deploy is Broken again",
    "We'll postpone the Release; It Would Be Great if someone could update the docs",
    "Fargate is Not Officially Supported and we currently don't have any plan to support it",
]


def _sample_texts() -> list[str]:
    texts = []
    for day_file in sorted(SAMPLE_EXPORT.glob("*/*.json")):
        records = json.loads(day_file.read_text())
        if isinstance(records, list):
            texts += [r["text"] for r in records if isinstance(r, dict) and isinstance(r.get("text"), str)]
    return [normalise(t, lambda t: t) for t in texts if t]  # as the rules read them


def test_every_pattern_read_by_position_runs_on_the_lowercase_text():
    assert len(_PATTERNS) >= 26
    assert all(p._low is not None for p in _PATTERNS)


@pytest.mark.parametrize("pattern", _PATTERNS, ids=lambda p: p.pattern.pattern[:30])
def test_positions_equal_the_case_insensitive_patterns(pattern: PositionPattern):
    texts = [*_sample_texts(), *_INVENTED]
    assert len(texts) > 1000
    matched = 0
    for text in texts:
        want = [m.span() for m in pattern.pattern.finditer(text)]
        assert [m.span() for m in pattern.finditer(text, text.lower())] == want, text
        first = pattern.search(text, text.lower())
        assert (first.span() if first else None) == (want[0] if want else None), text
        matched += bool(want)
    assert matched > 0  # the comparison saw matches, not only misses


def test_non_ascii_text_gets_the_pattern_itself():
    p = PositionPattern(re.compile(r"\bstuck\b", re.IGNORECASE))
    # "ſ" (long s) folds to "s" for the pattern, not for str.lower
    assert [m.span() for m in p.finditer("ſtuck", "ſtuck")] == [(0, 5)]
    assert p.search("ſtuck", "ſtuck") is not None


def test_patterns_with_capitals_or_case_sensitive_parts_are_not_lowercased():
    for rx in (
        re.compile(r"\bFIRING\b", re.IGNORECASE),
        re.compile(r"(?-i:I am) new", re.IGNORECASE),
        re.compile(r"[A-Z]\w+ here", re.IGNORECASE),
        re.compile(r"firing"),  # case-sensitive already
    ):
        p = PositionPattern(rx)
        assert p._low is None
        assert [m.span() for m in p.finditer("x FIRING Bob here I am new", "x firing bob here i am new")] == [
            m.span() for m in rx.finditer("x FIRING Bob here I am new")
        ]
