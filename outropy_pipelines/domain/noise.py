"""Noise: messages with no content (greetings, thanks, acknowledgements, emoji, joins) and threads
of nothing else, left out of classification. Shared with the local provider's rules.

Pure Python (no Dagster, no DuckDB); re-exported by `domain.classification`.
"""

from __future__ import annotations

import re

from outropy_pipelines.domain.models import Thread


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


NOISE_WORDS: frozenset[str] = _word_set(
    """
    hi hello hey heya hiya hallo yo sup howdy morning mornin gm good afternoon evening night gn
    all everyone everybody team folks guys yall y'all there
    thanks thank thx thnx tx ty tysm tyvm cheers appreciated appreciate appreciation much so very lot
    a you u ya again for too as always
    ok okay k kk okk okey alright aight cool nice great awesome perfect sweet neat amazing excellent
    lovely brilliant fantastic wonderful
    yes yep yeah yup ya yea sure np no nope problem worries welcome
    lol lmao haha hahaha hehe heh rofl xd
    congrats congratulations grats wow omg woo woohoo yay hooray
    +1 ++ ack noted roger gotcha got it lgtm sgtm
    """
)
_EMOJI_CODE_RE = re.compile(r":[a-z0-9_+\-']+:", re.IGNORECASE)
_MENTION_MARKUP_RE = re.compile(r"<[@!#][^>]*>|@[\w.\-]+(?:\s+[A-Z][\w.\-]*)?")
_LINK_RE = re.compile(r"<?https?://\S+")
_TOKEN_RE = re.compile(r"[\w+']+")
_JOIN_RE = re.compile(
    r"^\s*(?:<@[^>]+>|\S+(?: \S+)?) (?:has )?(?:joined|left) (?:the )?(?:channel|group|conversation)\b"
    r"|^\s*(?:<@[^>]+>|\S+) (?:set the channel (?:topic|purpose)|renamed the channel|"
    r"archived the channel|unarchived the channel)"
    r"|^\s*(?:<@[^>]+>\s*)?(?:added|removed|disabled|enabled) an integration\b",
    re.IGNORECASE,
)
# Bot messages are noise unless they look like an alert or a failure.
ALERT_RE = re.compile(
    r"\b(?:firing|critical|alert|alarm|incident|outage|down|sev[\s-]?\d|p[01]|error|errors|failed|"
    r"failing|failure|degraded|unhealthy|panic|exception|timeout|resolved|recovered)\b"
    r"|\[bug\s+\d+\]|\bsummary of the\b",  # a bug tracker's feed post, a bot's activity summary
    re.IGNORECASE,
)


#: the only non-ASCII characters re.IGNORECASE matches to ASCII letters that they do not lowercase
#: to (İ ı -> i, ſ -> s, K -> k); found by trying every code point (see the tests)
CASEFOLD_EXOTIC = ("\u0130", "\u0131", "\u017f", "\u212a")


def has_casefold_exotic(text: str) -> bool:
    """Does `text` hold a character that re.IGNORECASE matches to an ASCII letter it does not lower
    to? Without one, an IGNORECASE match of an ASCII literal implies that literal in `text.lower()`."""
    if text.isascii():
        return False
    return "\u0130" in text or "\u0131" in text or "\u017f" in text or "\u212a" in text  # CASEFOLD_EXOTIC


def is_noise_text(text: str) -> bool:
    """True for a message with no content: empty, greetings, thanks, acks, emoji, joins."""
    if not text or text.isspace():
        return True
    low = text.lower()
    # every match of _JOIN_RE holds one of these words: the pattern only runs when one is there
    if (
        "joined" in low
        or "left" in low
        or "channel" in low
        or "integration" in low
        or has_casefold_exotic(text)
    ) and _JOIN_RE.search(text):
        return True
    stripped = text
    if "<" in text or "@" in text:
        stripped = _MENTION_MARKUP_RE.sub(" ", stripped)
    if ":" in stripped:
        stripped = _EMOJI_CODE_RE.sub(" ", stripped)
    if "http" in stripped and _LINK_RE.search(stripped):
        return False  # a shared link is content
    if stripped is not text:
        low = stripped.lower()
    # all tokens noise words, and at most 12 of them; the first token often settles it
    first = _TOKEN_RE.search(low)
    if first is None:
        return True  # emoji-only, punctuation-only
    if first.group().strip("'") not in NOISE_WORDS:
        return False
    rest = _TOKEN_RE.findall(low, first.end())
    if len(rest) > 11:
        return False
    for t in rest:  # noqa: SIM110 (a loop: no generator on this hot path)
        if t.strip("'") not in NOISE_WORDS:
            return False
    return True


def _is_noise_message(text: str, is_bot: bool) -> bool:
    if is_noise_text(text):
        return True
    return is_bot and not ALERT_RE.search(text)


def is_contentless(thread: Thread) -> bool:
    """Cheap prefilter: the thread holds only greetings, thanks, emoji, joins or bot noise, so it
    is not worth an LLM call."""
    return all(_is_noise_message(m.clean_text, m.is_bot) for m in thread.messages)
