"""The pieces the cue patterns are built from, and what a gate is.

Cue patterns run on normalised text (`message_text.normalise`): a mention is a `<@U..>` token.
`LEAD` is what may open a sentence before the cue ("@bob, hey so ..."), `REST` the rest of the
clause up to the end of its sentence, `VERB` a verb and that rest (named groups `verb` and `rest`,
read by the matchers).
"""

from __future__ import annotations

import re

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
