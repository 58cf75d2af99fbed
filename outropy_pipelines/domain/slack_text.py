"""Slack markup to readable text.

Slack stores mentions as `<@U123>`, channel links as `<#C123|name>`, broadcasts as `<!here>`, links
as `<https://x|label>`, and HTML-escapes `&`, `<` and `>`. The cleaner resolves these with the
workspace directory so that a reader (or a model) sees "@Alice" and "#general".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_ANGLE = re.compile(r"<([^<>\n]{1,2000})>")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_EMOJI = re.compile(r":([a-z0-9_+\-']{1,40}):")
_SPACES = re.compile(r"[ \t]+")

# A small table of the emoji people actually use at work; unknown ones stay as :name:.
EMOJI: dict[str, str] = {
    "+1": "👍",
    "thumbsup": "👍",
    "-1": "👎",
    "tada": "🎉",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "warning": "⚠️",
    "rotating_light": "🚨",
    "fire": "🔥",
    "eyes": "👀",
    "pray": "🙏",
    "rocket": "🚀",
    "smile": "😄",
    "slightly_smiling_face": "🙂",
    "joy": "😂",
    "thinking_face": "🤔",
    "raised_hands": "🙌",
    "clap": "👏",
    "heart": "❤️",
    "wave": "👋",
    "coffee": "☕",
    "bug": "🐛",
    "sweat_smile": "😅",
    "ok_hand": "👌",
    "100": "💯",
}

BROADCASTS = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


def mentioned_user_ids(text: str) -> list[str]:
    """User ids mentioned in raw Slack text, in order of first appearance."""
    seen: dict[str, None] = {}
    for m in _MENTION.finditer(text or ""):
        seen.setdefault(m.group(1), None)
    return list(seen)


class SlackTextCleaner:
    """Resolves Slack markup using the directory (user id -> name, channel id -> name)."""

    def __init__(self, user_names: Mapping[str, str], channel_names: Mapping[str, str]) -> None:
        self.user_names = user_names
        self.channel_names = channel_names

    def _replace(self, match: re.Match[str]) -> str:
        body = match.group(1)
        target, _, label = body.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            return "@" + (self.user_names.get(uid) or label or uid)
        if target.startswith("#"):
            cid = target[1:]
            return "#" + (label or self.channel_names.get(cid) or cid)
        if target.startswith("!"):
            keyword = target[1:]
            if keyword in BROADCASTS:
                return BROADCASTS[keyword]
            if keyword.startswith("subteam^"):
                return label or "@team"
            if keyword.startswith("date^"):
                return label or ""
            return label or "@" + keyword
        if target.startswith("mailto:"):
            return label or target[len("mailto:") :]
        if "://" in target or target.startswith("tel:"):
            if label and label != target:
                return f"{label} ({target})"
            return target
        return match.group(0)

    def clean(self, text: str) -> str:
        if not text:
            return ""
        out = _ANGLE.sub(self._replace, text)
        out = out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        out = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), out)
        lines = [_SPACES.sub(" ", line).strip() for line in out.splitlines()]
        return "\n".join(line for line in lines if line)


def message_text(record: Mapping[str, Any]) -> str:
    """The readable content of a message record: its text, or (for bots and file shares, which
    often have empty text) the text of its attachments and the names of its files."""
    parts: list[str] = []
    text = record.get("text")
    if isinstance(text, str) and text.strip():
        parts.append(text.strip())
    for att in record.get("attachments") or []:
        if not isinstance(att, dict):
            continue
        chunk = [
            str(att[k]).strip()
            for k in ("pretext", "title", "text")
            if isinstance(att.get(k), str) and att[k].strip()
        ]
        if not chunk and isinstance(att.get("fallback"), str):
            chunk = [att["fallback"].strip()]
        for field in att.get("fields") or []:
            if isinstance(field, dict) and field.get("title") and field.get("value"):
                chunk.append(f"{field['title']}: {field['value']}")
        if chunk:
            parts.append(" — ".join(chunk))
    for f in record.get("files") or []:
        if isinstance(f, dict):
            name = f.get("title") or f.get("name")
            if name:
                parts.append(f"[file: {name}]")
    return "\n".join(parts)


def dumps_record(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))
