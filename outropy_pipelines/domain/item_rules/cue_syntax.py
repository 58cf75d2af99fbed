"""The pieces the cue patterns are built from, and what a gate is.

Cue patterns run on normalised text (`message_text.normalise`): a mention is a `<@U..>` token.
`LEAD` is what may open a sentence before the cue ("@bob, hey so ..."), `REST` the rest of the
clause up to the end of its sentence, `VERB` a verb and that rest (named groups `verb` and `rest`,
read by the matchers).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_I = re.IGNORECASE

M = r"<@\w+>"  # a mention token after normalisation
SENT_START = r"(?:^|(?<=[.!?;] )|(?<=[.!?;]\n))"
LEAD = rf"(?:(?:{M}|@\w+)[\s,:]*)*(?:(?:hey|hi|ok|okay|so|also|and|btw|fyi|quick one|quick q)[\s,:!-]+)?"
# the rest of the clause: up to the end of the sentence (a "." inside "2.4" or "v2.3" does not end it)
REST = r"(?P<rest>(?:[^.!?\n]|[.!?](?=[^\s.!?]))*)"
VERB = r"(?P<verb>[a-z][a-z'-]*)" + REST
NEG_RE = re.compile(r"\bnot\b|n't\b|\bnever\b|\bno\b(?! longer| worries| problem)|\bnobody\b", _I)

# A gate is a space-separated spec: plain words must occur as tokens of the message, anything with
# other characters (":", "<@", "@here", emoji) as a substring. None: the pattern always runs.
Gate = str | None


def negated(text: str, start: int, end: int) -> bool:
    return NEG_RE.search(text, start, end) is not None


_ESCAPE_RE = re.compile(r"\\.")


class PositionPattern:
    """A case-insensitive cue pattern read only for where it matches (`start`, `end`, spans; a
    match's text may be lowercase). When its letters are all lowercase, it runs on ASCII text
    case-sensitively on the lowercase text: the same positions, about 1.5x faster, as folding the
    case of every comparison is what costs. Other text, and patterns with capitals or `(?-i:`, get
    the pattern itself (Unicode case folding is more than `str.lower`)."""

    __slots__ = ("_low", "pattern")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        bare = _ESCAPE_RE.sub("", pattern.pattern)
        lowercase = pattern.flags & re.IGNORECASE and "(?-i" not in bare and bare == bare.lower()
        self._low = re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE) if lowercase else None

    def finditer(self, text: str, low: str) -> Iterator[re.Match[str]]:
        """Matches in `text`, whose lowercase is `low`."""
        if self._low is not None and text.isascii():
            return self._low.finditer(low)
        return self.pattern.finditer(text)

    def search(self, text: str, low: str) -> re.Match[str] | None:
        """The first match in `text`, whose lowercase is `low`."""
        if self._low is not None and text.isascii():
            return self._low.search(low)
        return self.pattern.search(text)
