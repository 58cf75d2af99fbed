"""Required literals of a pattern: never a false "cannot match" (the skipped pattern would have matched).

Checked against every pattern of the local provider and the noise filter, on texts generated from
each pattern's own syntax tree (with random case, and the characters IGNORECASE folds to ASCII) and
on every message of the sample workspace.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path
from re import _constants as sre
from re import _parser as sre_parse

import pytest

from outropy_pipelines.domain import classification
from outropy_pipelines.llm import local_provider
from outropy_pipelines.llm.regex_literals import (
    CASEFOLD_EXOTIC,
    Prefiltered,
    RequiredLiterals,
    _trie_pattern,
    has_casefold_exotic,
    prefilter_text,
)

SAMPLE_EXPORT = Path(__file__).resolve().parents[1] / "data" / "sample_export"


def literals(pattern: str, flags: int = 0) -> frozenset[str] | None:
    return RequiredLiterals.of(re.compile(pattern, flags)).strings


def all_patterns() -> dict[str, re.Pattern[str]]:
    found = {}
    for module in (local_provider, classification):
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found[f"{module.__name__.rsplit('.', 1)[-1]}.{name}"] = value
    for table in ("REQUEST_TABLE", "DECISION_TABLE", "BLOCKER_TABLE", "ANNOUNCE_TABLE", "STATUS_TABLE"):
        for entry in getattr(local_provider, table):
            found[f"{table}:{entry[0]}"] = entry[1]
    return found


# --- the derivation on small patterns ---------------------------------------------------------


def test_literals_of_alternations_sequences_and_repeats():
    assert literals(r"\b(?:done|all set)\b", re.I) == {"done", "all set"}
    assert literals(r"(?:is|are) (?:up|in)\b", re.I) == {"is up", "is in", "are up", "are in"}
    assert literals(r"x{2}y") == {"xxy"}
    assert literals(r"(?-i:FIRING)|alert", re.I) == {"firing", "alert"}  # compared in lowercase
    assert literals(r"blocked\s+(?:on|by)") == {"blocked"}  # the most selective part
    assert literals(r"[:\-]") == {":", "-"}
    assert literals(r"✅|:done:") == {"✅", ":done:"}


def test_no_literals_when_some_match_needs_none():
    assert literals(r"done|.") is None  # "." matches without any literal
    assert literals(r"(?:done)?x*") is None  # optional parts give nothing
    assert literals(r"[a-z]+") is None
    assert literals(r"É", re.I) is None  # cased non-ASCII: IGNORECASE has its own equivalences
    assert RequiredLiterals.of(re.compile(r"\w+")).may_match("anything")


def test_casefold_exotic_is_every_non_ascii_character_ignorecase_matches_to_an_ascii_letter():
    letter = re.compile("[a-z]", re.IGNORECASE)
    found = tuple(chr(cp) for cp in range(128, sys.maxunicode + 1) if letter.fullmatch(chr(cp)))
    assert found == CASEFOLD_EXOTIC
    assert all(has_casefold_exotic(f"é{c}x") for c in CASEFOLD_EXOTIC)
    assert not has_casefold_exotic("é x") and not has_casefold_exotic("plain")


def test_exotic_characters_make_every_pattern_run():
    fixed = RequiredLiterals.of(re.compile(r"\bfixed\b", re.I))
    assert re.search(r"\bfixed\b", "FıXED", re.I)  # dotless i matches i under IGNORECASE
    assert prefilter_text("FıXED") is None and has_casefold_exotic("FıXED")
    assert fixed.may_match(prefilter_text("FıXED"))
    assert not fixed.may_match(prefilter_text("nothing to see"))
    assert Prefiltered(re.compile(r"\bfixed\b", re.I)).search("nothing to see", "nothing to see") is None


@pytest.mark.parametrize("seed", range(20))
def test_trie_pattern_finds_exactly_the_texts_holding_one_of_the_strings(seed):
    rng = random.Random(seed)
    alphabet = "ab c"
    strings = frozenset("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(6))
    scan = re.compile(_trie_pattern(strings))
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert (scan.search(text) is not None) == any(s in text for s in strings), (strings, text)


# --- every pattern of the classifier: no false negatives -------------------------------------


_POOL = "aZq9_ .,!?-:;'()<>@#/\n\tÉé✅"
_CATEGORIES = {
    "CATEGORY_DIGIT": str.isdigit,
    "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_SPACE": str.isspace,
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


def _in_class(c: str, members) -> bool:
    negate = False
    hit = False
    for member_op, member in members:
        if member_op is sre.NEGATE:
            negate = True
        elif member_op is sre.LITERAL:
            hit = hit or c == chr(member)
        elif member_op is sre.RANGE:
            hit = hit or member[0] <= ord(c) <= member[1]
        elif member_op is sre.CATEGORY:
            hit = hit or _CATEGORIES.get(str(member), lambda _: False)(c)
    return hit != negate


def _generate(items, rng: random.Random) -> str:
    """A string the node sequence could match (lookarounds and anchors are not honoured: the caller
    keeps the strings the pattern really matches)."""
    out = []
    for op, av in items:
        if op is sre.LITERAL:
            out.append(chr(av))
        elif op is sre.NOT_LITERAL:
            out.append(rng.choice([c for c in _POOL if c != chr(av)]))
        elif op is sre.ANY:
            out.append(rng.choice(_POOL.replace("\n", "")))
        elif op is sre.IN:
            literal = [chr(m) for o, m in av if o is sre.LITERAL and _in_class(chr(m), av)]
            pool = [c for c in _POOL if _in_class(c, av)]
            out.append(rng.choice(literal + pool or ["x"]))
        elif op is sre.BRANCH:
            out.append(_generate(rng.choice(av[1]), rng))
        elif op is sre.SUBPATTERN:
            out.append(_generate(av[3], rng))
        elif op is sre.ATOMIC_GROUP:
            out.append(_generate(av, rng))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, high, sub = av
            count = rng.randint(low, min(high, low + 2))
            out.extend(_generate(sub, rng) for _ in range(count))
    return "".join(out)


def _vary(text: str, rng: random.Random) -> str:
    """Random case, and now and then a character IGNORECASE folds to an ASCII letter."""
    chars = [c.upper() if rng.random() < 0.3 else c for c in text]
    if rng.random() < 0.2:
        swap = {"i": "ı", "I": "İ", "s": "ſ", "k": "K"}
        chars = [swap.get(c, c) if rng.random() < 0.5 else c for c in chars]
    return "".join(chars)


def _contexts(rng: random.Random) -> tuple[str, str]:
    words = ["", "hey ", "so, ", "the plan. ", "<@U1ALICE> ", "ok\n", "🎉 "]
    return rng.choice(words), rng.choice(["", ".", " thanks", "?", " 👍", "\nmore"])


@pytest.mark.parametrize("name", sorted(all_patterns()))
def test_required_literals_never_rule_out_a_match_on_generated_texts(name):
    pattern = all_patterns()[name]
    lits = RequiredLiterals.of(pattern)
    tree = list(sre_parse.parse(pattern.pattern, pattern.flags))
    rng = random.Random(name)
    matched = 0
    for _ in range(300):
        before, after = _contexts(rng)
        text = before + _generate(tree, rng) + after
        if pattern.flags & re.I:
            text = _vary(text, rng)
        if pattern.search(text):
            matched += 1
            assert lits.may_match(prefilter_text(text)), (name, text, sorted(lits.strings or ()))
    assert matched > 0, f"no generated text matched {name}"


def _sample_texts() -> list[str]:
    texts = []
    for path in sorted(SAMPLE_EXPORT.glob("*/*.json")):
        texts.extend(m.get("text") or "" for m in json.loads(path.read_text()))
    return texts


def test_required_literals_never_rule_out_a_match_on_the_sample_workspace():
    texts = _sample_texts()
    context = local_provider._Context(
        local_provider.ClassifyThreadInput(
            thread_id="t", channel_id="C", channel_name="general", channel_kind="public", day="2026-11-04",
            people={"U1": "Alice Moreau"}, messages=[],
        )
    )  # fmt: skip
    normalised = [
        context.prep(local_provider.ThreadMessageInput(id="m1", author_id="U1", author_name="A", text=t, is_new=True), 0).text
        for t in texts
    ]  # fmt: skip
    assert len(texts) > 2000
    for name, pattern in all_patterns().items():
        lits = RequiredLiterals.of(pattern)
        for text in (*texts, *normalised):
            if pattern.search(text):
                assert lits.may_match(prefilter_text(text)), (name, text)
