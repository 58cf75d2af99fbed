"""The top-level messages conversations are reconstructed from, and how their Slack text is read.

`TopLevelMessage` is what `ConversationReconstructor` links; `SYSTEM_SUBTYPES` are the subtypes that
always start their own conversation. The patterns and cue words here are what
`conversation_preparation.prepare` reads each message's text with; `plain_text` and `words_of` are
the plain forms of that reading (the training script builds its idf table with them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SYSTEM_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "group_join",
        "group_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "pinned_item",
        "unpinned_item",
        "channel_convert_to_private",
        "channel_convert_to_public",
    }
)


@dataclass(frozen=True, slots=True)
class TopLevelMessage:
    ts: str  # Slack ts "1700000000.000100"; messages are given sorted by ts
    user_id: str | None
    text: str  # raw Slack text: mentions appear as "<@U0000012>", links "<https://..|x>", etc.
    subtype: str | None = None  # e.g. "channel_join", "channel_leave", "me_message", "bot_message", None
    is_thread_root: bool = False  # true if this message is the root of a Slack-native thread


# --------------------------------------------------------------------------------------------------
# Text analysis

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_LEAD_MENTION = re.compile(r"\s*<@([A-Z0-9]+)(?:\|[^>]*)?>[\s:,;.\-]*")
_LEAD_NAME = re.compile(r"\s*@?([^\s:,]{1,40})\s*[:,]")
_LINK = re.compile(r"<(?:https?|mailto|ftp)[^>]*>|\bhttps?://\S+|\bwww\.\S+")
_ANGLE = re.compile(r"<[^<>]*>")
_WORD = re.compile(r"[a-z0-9](?:[a-z0-9_\-+.]*[a-z0-9_+])?")  # no trailing "." or "-"
_NAME_TOKEN = re.compile(r"[A-Za-z0-9_\-\[\]\\`^{}|]+")

_GREETING = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "hiya",
        "howdy",
        "yo",
        "anyone",
        "anybody",
        "someone",
        "somebody",
        "help",
        "guys",
        "all",
        "everyone",
        "everybody",
        "morning",
        "evening",
        "greetings",
    ]
)
_THANKS = frozenset(["thanks", "thank", "thx", "ty", "thanx", "tnx", "cheers", "thankyou"])
_ANSWER = frozenset(
    [
        "yes",
        "yeah",
        "yep",
        "yup",
        "no",
        "nope",
        "nah",
        "ok",
        "okay",
        "sure",
        "right",
        "correct",
        "exactly",
        "indeed",
    ]
)
_CONTINUE = frozenset(["and", "but", "so", "also", "or", "then", "because", "plus"])
_NEG_ACK = frozenset(["sorry", "np", "welcome", "lol", "hehe", "haha", "heh"])


def plain_text(text: str) -> str:
    """Slack text without links, mentions and other <...> markup."""
    return _ANGLE.sub(" ", _LINK.sub(" ", text))


def words_of(plain: str) -> list[str]:
    """Lower-cased word tokens of plain text, in order."""
    return _WORD.findall(plain.lower())
