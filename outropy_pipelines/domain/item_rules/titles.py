"""Titles of items: the source sentence, cleaned.

`clean_title` drops leading and trailing filler ("hey", "please", "thanks", "asap"...) and cuts at
MAX_TITLE characters on a word; `lc_first` lowercases an ordinary first word so a sentence reads
inside "Bob Diaz to ..."; second person becomes third ("your" -> "their"). Titles depend only on
the source message(s) and the messages before them, so a thread classified again on a later day
yields the same titles (and item ids).
"""

from __future__ import annotations

import re

from outropy_pipelines.domain.item_rules.cue_syntax import M
from outropy_pipelines.domain.item_rules.message_text import SPACES_RE, wordset

_I = re.IGNORECASE

_SECOND_PERSON = (
    (re.compile(r"\byourself\b", _I), "themselves"),
    (re.compile(r"\byours\b", _I), "theirs"),
    (re.compile(r"\byour\b", _I), "their"),
)
_TRAILING_FILLER_RE = re.compile(
    r"(?:[\s,]+(?:please|pls|plz|thanks|thx|ty|thank you|asap|when you get a chance|when you have a (?:sec|"
    r"minute|moment)|if you can|if possible|for me|real quick|quickly|too|as well|then|\?+|!+|:\)|🙏))+\s*$",
    _I,
)
LEADING_FILLER_RE = re.compile(
    r"^(?:[\s,:;\-–—]+|(?:(?:hey|hi|hello)(?:[\s,]+(?:all|everyone|everybody|folks|team|guys|y'all|there))?|ok|"
    r"okay|so|also|and|but|btw|fyi|oh|ah|well|alright|great|cool|thanks|quick one|quick q|one more thing|one thing)"
    r"\b[\s,:!\-–—]*)+",
    _I,
)
_MENTIONS_PREFIX_RE = re.compile(rf"^\s*(?:(?:{M}|@\w+)[\s,:]*)+")
MAX_TITLE = 160
_LOWER_FIRST = wordset(
    "the a an we our this that these those it its to for on in of at by with from and or but so "
    "update fix send check look take handle write prepare schedule share add remove merge deploy file "
    "create draft ping follow set investigate run test book sign approve reach sync own pick grab "
    "finish complete submit upload post publish document rerun restart roll revert bump rotate renew "
    "review do get make put start try keep hold move go use ship freeze launch switch drop cut "
    "what when where who why how which is are does did can could would will should has have was "
    "were any there let tell confirm clarify explain remind just also please what's when's where's "
    "who's how's we'll we're we've let's there's it's that's delete call give forward email read watch "
    "going after ok final had got"
)


def clean_title(text: str) -> str:
    text = SPACES_RE.sub(" ", text.replace("\n", " ")).strip()
    text = LEADING_FILLER_RE.sub("", text)
    text = _TRAILING_FILLER_RE.sub("", text).strip(" ,;:-–—")
    if len(text) > MAX_TITLE:
        cut = text[: MAX_TITLE - 1]
        space = cut.rfind(" ")
        text = (cut[:space] if space > MAX_TITLE // 2 else cut).rstrip(" ,;:-") + "…"
    return text.rstrip(" .")


def cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text and text[0].islower() else text


def lc_first(text: str) -> str:
    """Lowercase a sentence's first word when it is an ordinary word (not a name or acronym)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        first = text.split(" ", 1)[0]
        if first.lower() in _LOWER_FIRST:
            return text[0].lower() + text[1:]
    return text


def strip_mentions_prefix(text: str) -> str:
    return _MENTIONS_PREFIX_RE.sub("", text)


def is_pronoun_object(action: str) -> bool:
    words = action.lower().rstrip(".!").split()
    return (
        bool(words)
        and len(words) <= 4
        and words[-1] in ("it", "this", "that", "them", "one", "these", "those")
    )


def render_second_person(text: str) -> str:
    if "you" in text.lower():
        for rx, repl in _SECOND_PERSON:
            text = rx.sub(repl, text)
    return text
