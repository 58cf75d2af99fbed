"""Necessary literals of a regular expression: a cheap test that a text cannot match it.

The local provider's patterns are long IGNORECASE alternations ("done|all done|merged|shipped|...")
behind word boundaries: Python's engine tries every alternative at every position, a few microseconds
per message even when nothing matches, which is almost always. `RequiredLiterals.of(pattern)` reads
the pattern's syntax tree once and finds a set of strings such that every match contains one of them;
`may_match(low)` is then one scan of the lowercased text for those strings (a case-sensitive
pattern of plain literals shaped as a trie, which the engine searches quickly). When it says no, the pattern
cannot match and need not run; when it says yes, the pattern runs as before. Results are unchanged.

Why lowercase text: every literal is compared in lowercase, which is sound for case-sensitive and
IGNORECASE patterns alike, provided the text holds none of the four non-ASCII characters that
IGNORECASE matches to ASCII letters they do not lowercase to (`CASEFOLD_EXOTIC`: the caller passes
None instead of the lowercase text then, and every pattern runs). Literal characters that are cased
and not ASCII are not used (IGNORECASE has its own equivalences for them).

How the set is found, bottom up over the tree: a node is `exact` when it matches one of a few known
strings (a literal, a class of literal characters, an alternation or fixed repeat of exact nodes,
and zero-width assertions, which match ""), and `required` when every match of it contains one of
a set of strings. A sequence joins adjacent exact nodes (their cross product, up to 64 strings) and
keeps the most selective candidate (longest shortest string, then fewest strings); an alternation
needs one from every branch; an optional part gives nothing. Anything else (any character,
classes with ranges or categories, back references) gives nothing either, so a pattern may get no
set at all: it then always runs.

Checked in outropy_pipelines_tests/test_regex_literals.py against texts generated from each pattern's
own syntax tree and against every message of the sample workspace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from re import _constants as sre  # the syntax tree of `re` (Python 3.11)
from re import _parser as sre_parse

#: the only non-ASCII characters re.IGNORECASE matches to ASCII letters that they do not lowercase
#: to (İ ı -> i, ſ -> s, K -> k); found by trying every code point (see the tests)
CASEFOLD_EXOTIC = ("\u0130", "\u0131", "\u017f", "\u212a")

_MAX_STRINGS = 64
_Strings = frozenset[str]


def has_casefold_exotic(text: str) -> bool:
    """Does `text` hold a character that re.IGNORECASE matches to an ASCII letter it does not lower
    to? Without one, an IGNORECASE match of an ASCII literal implies that literal in `text.lower()`."""
    if text.isascii():
        return False
    return "\u0130" in text or "\u0131" in text or "\u017f" in text or "\u212a" in text  # CASEFOLD_EXOTIC


def prefilter_text(text: str, low: str | None = None) -> str | None:
    """What `RequiredLiterals.may_match` is given for `text` (`low`: `text.lower()` if known): its
    lowercase, or None (every pattern may match) when it holds a CASEFOLD_EXOTIC character."""
    if has_casefold_exotic(text):
        return None
    return text.lower() if low is None else low


class RequiredLiterals:
    """Strings of which every match of a pattern contains one (lowercase); None: none found."""

    __slots__ = ("_scan", "strings")

    def __init__(self, strings: _Strings | None) -> None:
        self.strings = strings
        self._scan = re.compile(_trie_pattern(strings)) if strings else None

    @classmethod
    def of(cls, pattern: re.Pattern[str]) -> RequiredLiterals:
        tree = sre_parse.parse(pattern.pattern, pattern.flags)
        return cls(_sequence(list(tree))[1])

    def may_match(self, low: str | None) -> bool:
        """False only when the pattern cannot match the text whose `prefilter_text` is `low`."""
        if low is None or self._scan is None:
            return True
        return self._scan.search(low) is not None


def _trie_pattern(strings: _Strings) -> str:
    """A pattern that finds any of `strings`, shaped as a trie ("a(?:dded|ll (?:done|set))|..."):
    the engine then tests one character per branch instead of every string at every position. Only
    whether one occurs matters, so a string that is a prefix of others makes them unnecessary."""
    trie: dict = {}
    for s in strings:
        node = trie
        for ch in s:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        if "" in node:
            return ""
        alternatives = [re.escape(ch) + emit(node[ch]) for ch in sorted(node)]
        return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"

    return emit(trie)


def _usable(c: str) -> bool:
    return c.isascii() or (c.lower() == c and c.upper() == c)


def _product(a: _Strings, b: _Strings) -> _Strings | None:
    if len(a) * len(b) > _MAX_STRINGS:
        return None
    return frozenset(x + y for x in a for y in b)


def _best(candidates: list[_Strings]) -> _Strings | None:
    usable = [c for c in candidates if c and "" not in c]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(len(s) for s in c), -len(c)))


def _sequence(items: list) -> tuple[_Strings | None, _Strings | None]:
    """(exact, required) of a sequence of nodes."""
    candidates: list[_Strings] = []
    run: _Strings = frozenset({""})
    all_exact = True
    for op, av in items:
        exact, required = _node(op, av)
        if exact is None:
            all_exact = False
            candidates.append(run)
            run = frozenset({""})
            if required is not None:
                candidates.append(required)
            continue
        joined = _product(run, exact)
        if joined is None:
            all_exact = False
            candidates.append(run)
            run = exact
        else:
            run = joined
    candidates.append(run)
    return (run if all_exact else None), _best(candidates)


def _node(op: object, av: object) -> tuple[_Strings | None, _Strings | None]:
    """(exact, required) of one node of the syntax tree."""
    if op is sre.LITERAL:
        c = chr(av)  # type: ignore[arg-type]
        if not _usable(c):
            return None, None
        one = frozenset({c.lower()})
        return one, one
    if op is sre.IN:
        chars = []
        for member_op, member in av:  # type: ignore[attr-defined]
            if member_op is not sre.LITERAL or not _usable(chr(member)):
                return None, None
            chars.append(chr(member).lower())
        exact = frozenset(chars)
        return exact, exact
    if op is sre.BRANCH:
        exacts: list[_Strings] = []
        requireds: list[_Strings] = []
        all_exact = all_required = True
        for alternative in av[1]:  # type: ignore[index]
            exact, required = _sequence(list(alternative))
            if exact is None:
                all_exact = False
            else:
                exacts.append(exact)
            if required is None:
                all_required = False
            else:
                requireds.append(required)
        union_exact = frozenset().union(*exacts) if all_exact else None
        if union_exact is not None and len(union_exact) > _MAX_STRINGS:
            union_exact = None
        return union_exact, (frozenset().union(*requireds) if all_required else None)
    if op is sre.SUBPATTERN:
        return _sequence(list(av[3]))  # type: ignore[index]
    if op is sre.ATOMIC_GROUP:
        return _sequence(list(av))  # type: ignore[arg-type]
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, high, sub = av  # type: ignore[misc]
        if low == 0:
            return None, None
        exact, required = _sequence(list(sub))
        if exact is not None and low == high:
            power: _Strings | None = exact
            for _ in range(low - 1):
                power = _product(power, exact) if power is not None else None
            exact = power
        else:
            exact = None
        return exact, required
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return frozenset({""}), None  # zero-width: matches the empty string
    return None, None


class Prefiltered:
    """A pattern with its required literals: `search`/`finditer` run it only when it may match.

    `low` is `prefilter_text(text)` of the whole text (or of a text that contains it: a match
    inside a part is a match inside the whole)."""

    __slots__ = ("literals", "pattern")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.literals = RequiredLiterals.of(pattern)

    def search(self, text: str, low: str | None) -> re.Match[str] | None:
        return self.pattern.search(text) if self.literals.may_match(low) else None

    def finditer(self, text: str, low: str | None) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text) if self.literals.may_match(low) else iter(())
