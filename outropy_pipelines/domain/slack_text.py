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


# rich_text elements as the Slack markup the cleaner reads
_BROADCAST_RANGES = {"here": "<!here>", "channel": "<!channel>", "everyone": "<!everyone>"}
#: how deep `blocks_markup` follows `elements` (Slack's own blocks nest a few levels)
_MAX_BLOCK_DEPTH = 12


def _element_markup(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "text":
        text = element.get("text")
        return text if isinstance(text, str) else ""
    if kind == "user" and isinstance(element.get("user_id"), str):
        return f"<@{element['user_id']}>"
    if kind == "channel" and isinstance(element.get("channel_id"), str):
        return f"<#{element['channel_id']}>"
    if kind == "usergroup" and isinstance(element.get("usergroup_id"), str):
        return f"<!subteam^{element['usergroup_id']}>"
    if kind == "broadcast":
        return _BROADCAST_RANGES.get(str(element.get("range")), "")
    if kind == "emoji" and isinstance(element.get("name"), str):
        return f":{element['name']}:"
    if kind == "link" and isinstance(element.get("url"), str):
        label = element.get("text")
        return f"<{element['url']}|{label}>" if isinstance(label, str) and label else f"<{element['url']}>"
    return ""


def _rich_text_lines(elements: Any, depth: int, lines: list[str]) -> None:
    """Lines of a rich_text block's `elements`: sections, lists (one line per item), quotes and
    preformatted text; inline elements of a section are joined on one line."""
    if not isinstance(elements, list) or depth > _MAX_BLOCK_DEPTH:
        return
    inline: list[str] = []
    for element in elements:
        if not isinstance(element, dict):
            continue
        if isinstance(element.get("elements"), list):
            if inline:
                lines.append("".join(inline))
                inline = []
            _rich_text_lines(element["elements"], depth + 1, lines)
        else:
            inline.append(_element_markup(element))
    if inline:
        lines.append("".join(inline))


def _text_object(value: Any) -> str:
    """A composition text object (`{"type": "mrkdwn", "text": ...}`) as its text."""
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"]
    return ""


def blocks_markup(blocks: Any) -> str:
    """The text of Block Kit `blocks` (rich_text, section, header, context) as Slack markup: what a
    message whose `text` is empty (some bots and apps post blocks only) says."""
    if not isinstance(blocks, list):
        return ""
    lines: list[str] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "rich_text":
            _rich_text_lines(block.get("elements"), 0, lines)
        elif kind in ("section", "header"):
            lines.append(_text_object(block.get("text")))
            fields = block.get("fields")
            if isinstance(fields, list):
                lines.extend(_text_object(f) for f in fields)
        elif kind == "context" and isinstance(block.get("elements"), list):
            lines.append(" ".join(t for t in map(_text_object, block["elements"]) if t))
    return "\n".join(line for line in (line.strip() for line in lines) if line)


def message_markup(record: Mapping[str, Any]) -> str:
    """A message's own text in Slack markup: `text`, or the text of its blocks when `text` is empty."""
    text = record.get("text")
    if isinstance(text, str) and text.strip():
        return text
    return blocks_markup(record.get("blocks"))


def message_text(record: Mapping[str, Any]) -> str:
    """The readable content of a message record: its text (the text of its blocks when it has none),
    and (for bots and file shares, which often have empty text) the text of its attachments and the
    names of its files."""
    parts: list[str] = []
    text = message_markup(record)
    if text.strip():
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
