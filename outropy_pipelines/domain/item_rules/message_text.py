"""A message's text as the rules read it: Slack markup normalised, sentences, words.

`normalise` turns a message's text into what every cue pattern runs on: plain quotes, entities
unescaped, code blocks and quoted lines dropped, links unwrapped, mentions as `<@U..>` tokens,
spaces collapsed. `PreparedMessage` is one normalised message of a thread with its sentence spans
(a "." inside "2.4" or "v2.3" does not end a sentence). The word helpers compare texts (titles,
an ack and the ask it closes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_I = re.IGNORECASE


def wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# =============================================================================================
# Normalisation of message text
# =============================================================================================


_QUOTE_PAIRS = (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("\u00a0", " "))
QUOTES = str.maketrans(dict(_QUOTE_PAIRS))


def plain_quotes(text: str) -> str:
    """`text.translate(QUOTES)`, faster: no replacement is itself replaced, so the replacements can
    run one after the other, each only when its character is there (str.translate looks every
    character up in a dict)."""
    for old, new in _QUOTE_PAIRS:
        if old in text:
            text = text.replace(old, new)
    return text


_CODE_BLOCK_RE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_QUOTE_LINE_RE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_LINK_LABEL_RE = re.compile(r"<(?:https?|mailto|tel):[^|>]*\|([^>]*)>")
_LINK_BARE_RE = re.compile(r"<((?:https?|mailto|tel):[^>]*)>")
_CHANNEL_REF_RE = re.compile(r"<#(C\w+)(?:\|([^>]*))?>")
_SPECIAL_RE = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>|<!subteam\^\w+(?:\|@?([^>]*))?>")
_USER_MARKUP_RE = re.compile(r"<@([UWB]\w+)(?:\|[^>]*)?>")
AT_WORD_RE = re.compile(r"(?<![<\w])@([\w.\-]+)")
SPACES_RE = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES_RE = re.compile(r"\n\s*\n+")
MENTION_TOKEN_RE = re.compile(r"<@(\w+)>")
CC_RE = re.compile(r"\b/?cc\b:?", _I)


def _unescape(text: str) -> str:
    return text.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")


def _special(m: re.Match[str]) -> str:
    if m.group(1):
        return "@" + m.group(1).lower()
    return "@" + (m.group(2) or "team")


def normalise(text: str, mentions_from_names: Callable[[str], str]) -> str:
    """A message's (non-empty) Slack text as the rules read it. `mentions_from_names` turns the
    "@Bob Smith" / "@bob" mentions the cleaner already resolved into `<@U..>` tokens."""
    if not text.isascii():
        text = plain_quotes(text)
    if "&" in text:
        text = _unescape(text)
    if "```" in text:
        text = _CODE_BLOCK_RE.sub(" ", text)
    if ">" in text:
        text = _QUOTE_LINE_RE.sub("", text)
    if "<" in text:
        text = _LINK_LABEL_RE.sub(r"\1", text)
        text = _LINK_BARE_RE.sub(r"\1", text)
        text = _CHANNEL_REF_RE.sub(lambda x: "#" + (x.group(2) or x.group(1)), text)
        text = _SPECIAL_RE.sub(_special, text)
        text = _USER_MARKUP_RE.sub(r"<@\1>", text)
    if "@" in text:
        text = mentions_from_names(text)
    if "  " in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
        text = SPACES_RE.sub(" ", text)
    if "\n" in text:
        text = _BLANK_LINES_RE.sub("\n", text)
    return text.strip()


# =============================================================================================
# Sentences and words
# =============================================================================================

# a sentence ends at . ! ? followed by a space or the end ("v2026.11.02-2" and "e.g" do not split),
# nor does an ellipsis before a lowercase word ("running for 4 days... but it does nothing")
_SENT_SPLIT_RE = re.compile(r"(?:[^.!?\n]|[.!?]+(?=[^\s.!?])|\.{2,}[ \t]+(?=[a-z]))+[.!?]*|[.!?]+")
WORD_RE = re.compile(r"\w+")
TOKEN_RE = re.compile(r"[\w']+")


@dataclass(slots=True)
class PreparedMessage:
    idx: int
    id: str
    author: str
    text: str  # normalised: mentions as <@U..>, links unwrapped, code blocks and quotes removed
    low: str
    active: set[int] | frozenset[int]  # ids of the gates it passes (none for noise: no detector runs)
    mentions: list[str]  # user ids mentioned (not the author), in order
    cc: frozenset[str] | set[str]  # mentioned after "cc" (read only)
    noise: bool
    _spans: list[tuple[int, int]] | None = None

    def spans(self) -> list[tuple[int, int]]:
        if self._spans is None:
            self._spans = [(m.start(), m.end()) for m in _SENT_SPLIT_RE.finditer(self.text)]
        return self._spans

    def sentence_at(self, pos: int) -> tuple[int, int]:
        for start, end in self.spans():
            if start <= pos < end:
                return start, end
        return 0, len(self.text)

    def sentence(self, pos: int) -> str:
        s, e = self.sentence_at(pos)
        return self.text[s:e]


def n_words(text: str) -> int:
    return len(WORD_RE.findall(text))


def content_words(text: str) -> set[str]:
    # words of one or two characters count when they hold a digit ("v2", "q3", "7")
    return {w for w in WORD_RE.findall(text.lower()) if len(w) > 2 or w[0].isdigit() or w[-1].isdigit()}


_STEM_STOP = wordset(
    "that this with from have will would could should there their they them then than what when where "
    "which about into your yours just also done merged shipped fixed sent updated deployed finished "
    "completed closed resolved please thanks"
)


def _stems(text: str) -> set[str]:
    return {w[:5] for w in WORD_RE.findall(text.lower()) if len(w) > 3 and w not in _STEM_STOP}


def related(text: str, other: str) -> bool:
    """Do two texts share a content word (compared by their first five letters)?"""
    return not _stems(text).isdisjoint(_stems(other))
