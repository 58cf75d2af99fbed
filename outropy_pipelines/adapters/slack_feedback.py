"""Slack side of readers' feedback: one reply per briefing line in the DM's thread, and their reactions.

A reaction applies to a whole Slack message, so a line a reader can rate on its own is a message of
its own: under the briefing's first DM message, the bot posts a short hint and then each line as a
reply (`chat.postMessage` with `thread_ts`), each carrying message metadata
(`outropy_briefing_line`: day, user, position, item). One `conversations.replies` call per briefing
(with `include_all_metadata`) then answers both questions of a later run: which lines are posted
already (so a crash never posts one twice) and which reactions each carries (`reactions`: name,
users, count). Scopes: `chat:write`, `im:history` (already needed for delivery's reconciliation).

The bot token is handed to WebClient (built by `slack_messenger.build_web_client`); never logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

LINE_EVENT = "outropy_briefing_line"
HINT_POSITION = -1
HINT = "React :+1: or :-1: on a line below to tune your briefing: more or less of its kind, conversation and people."
_MAX_PAGES = 20
ERRORS = (SlackClientError, OSError, HTTPException)


@dataclass(frozen=True)
class Reply:
    """A reply in a briefing's thread: its ts, the line it carries (None: not one of ours; with the
    line's item id) and its reactions as {name: user ids}."""

    ts: str
    position: int | None
    reactions: dict[str, tuple[str, ...]]
    item_id: str | None = None


class SlackFeedback:
    """Posts a briefing's lines as thread replies and reads them back with their reactions."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def replies(self, channel_id: str, thread_ts: str, day: str, user_id: str) -> list[Reply]:
        """The replies under `thread_ts` (the parent left out); raises slack-sdk / network errors."""
        out: list[Reply] = []
        pages = self.client.conversations_replies(
            channel=channel_id, ts=thread_ts, include_all_metadata=True, limit=200
        )
        for n, page in enumerate(pages):
            for message in page.get("messages") or []:
                ts = str(message.get("ts") or "")
                if not ts or ts == thread_ts:
                    continue
                position, item_id = _line_of(message, day, user_id)
                out.append(Reply(ts, position, _reactions(message), item_id))
            if n >= _MAX_PAGES:
                break
        return out

    def post(
        self,
        channel_id: str,
        thread_ts: str,
        day: str,
        user_id: str,
        position: int,
        text: str,
        item_id: str | None = None,
    ) -> str:
        """Post one reply (a line, or the hint at HINT_POSITION); returns its ts."""
        response = self.client.chat_postMessage(
            channel=channel_id,
            thread_ts=thread_ts,
            text=text,
            unfurl_links=False,
            unfurl_media=False,
            metadata={
                "event_type": LINE_EVENT,
                "event_payload": {
                    "day": day,
                    "user_id": user_id,
                    "position": position,
                    "item_id": item_id or "",
                },
            },
        )
        return str(response["ts"])

    def close(self) -> None:
        return None


def _line_of(message: dict[str, Any], day: str, user_id: str) -> tuple[int | None, str | None]:
    """(position, item id) of the line a reply of ours carries, from its metadata; (None, None)."""
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    if meta.get("event_type") != LINE_EVENT or payload.get("day") != day or payload.get("user_id") != user_id:
        return None, None
    try:
        return int(payload.get("position")), (str(payload.get("item_id") or "") or None)
    except (TypeError, ValueError):
        return None, None


def _reactions(message: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for r in message.get("reactions") or []:
        if isinstance(r, dict) and r.get("name"):
            out[str(r["name"])] = tuple(str(u) for u in r.get("users") or [])
    return out


def line_text(number: int, text: str, reason: str) -> str:
    """How a line reads as a reply: its number in the briefing, its words, why it is there."""
    words = " ".join(text.split())
    why = " ".join(reason.split())
    body = f"{number}. {words}" + (f" ({why})" if why else "")
    return body[:3000]


def posted_positions(replies: Sequence[Reply]) -> dict[int, str]:
    """{position: ts} of the line replies already in the thread (the first of each)."""
    out: dict[int, str] = {}
    for r in replies:
        if r.position is not None:
            out.setdefault(r.position, r.ts)
    return out
