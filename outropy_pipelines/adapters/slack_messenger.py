"""Slack delivery: a briefing as DMs from the bot (`conversations.open` + `chat.postMessage`).

The payloads come from the stored Block Kit (`briefings.blocks_json`) through
`briefing_rendering.split_slack_blocks`: at most 50 blocks and 3,000 characters per text field per
message, split between lines, each with a plain-text fallback `text`. Every part carries message
metadata (`outropy_briefing`: day, user, content hash, part n of N) so a later attempt can see,
with `conversations.history`, which parts already arrived (reconciliation, after a crash or an
ambiguous error) instead of posting them twice.

Retries inside one call (slack-sdk retry handlers):
- 429: waits the `Retry-After` seconds when at most `max_retry_after_seconds`; a longer wait
  is left to a later attempt (the ledger's backoff honours the `Retry-After`).
- 5xx and dropped connections: retried with backoff for the idempotent calls (`conversations.open`,
  `conversations.history`). A 5xx or a connection lost after the request went out on
  `chat.postMessage` is ambiguous (the message may have been posted): it is not retried blindly
  but raised as in doubt, and the ledger retries it later, after looking for it in the DM
  (`find_sent`); when the DM cannot be read, it is not resent (`unknown`). A connection that could
  not even be opened (`URLError`) sent nothing.

The bot token (SLACK_BOT_TOKEN, through the Dagster resource) is handed to WebClient; it is never
logged (slack-sdk redacts the Authorization header in its debug logs) or stored.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Sequence
from http.client import HTTPException, RemoteDisconnected
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    HttpRequest,
    HttpResponse,
    RetryHandler,
    RetryState,
)

from outropy_pipelines.domain.briefing_rendering import split_slack_blocks
from outropy_pipelines.domain.delivery_plan import DeliveryError, Found, Outgoing, SendResult
from outropy_pipelines.domain.thread_builder import OWN_BRIEFING_EVENT

METADATA_EVENT = OWN_BRIEFING_EVENT
IDEMPOTENT_METHODS = ("conversations.open", "conversations.history")
# errors about this message or this recipient: retrying cannot help
PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "users_list_not_supplied",
        "is_archived",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
    }
)


def _retry_after(response: HttpResponse | None) -> float | None:
    return None if response is None else _retry_after_header(response.headers)


def _retry_after_header(headers: Any) -> float | None:
    for key, values in (headers or {}).items():
        if key.lower() == "retry-after":
            value = values[0] if isinstance(values, list | tuple) else values
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None


class BoundedRateLimitHandler(RetryHandler):
    """429: sleep `Retry-After` (plus a little jitter) and retry, unless the wait exceeds `max_wait`."""

    def __init__(self, max_wait: float, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response=None, error=None) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after(response)
        return wait is None or wait <= self.max_wait

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest, response=None, error=None):
        state.next_attempt_requested = True
        wait = _retry_after(response)
        time.sleep((1.0 if wait is None else wait) + random.uniform(0, 0.1))
        state.increment_current_attempt()


class IdempotentServerErrorHandler(RetryHandler):
    """5xx (any) and dropped connections, with exponential backoff, for idempotent methods only."""

    def __init__(self, max_retry_count: int = 2, backoff_factor: float = 0.5) -> None:
        super().__init__(
            max_retry_count=max_retry_count,
            interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=backoff_factor),
        )

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response=None, error=None) -> bool:
        if not any(request.url.rstrip("/").endswith(m) for m in IDEMPOTENT_METHODS):
            return False
        if response is not None and 500 <= response.status_code < 600:
            return True
        if error is not None and response is None:
            return isinstance(error, URLError | ConnectionError | RemoteDisconnected | TimeoutError)
        return False


def post_in_doubt(exc: BaseException) -> bool:
    """Whether a failed chat.postMessage may have been posted: a 5xx, or the connection lost after
    the request was sent. urllib raises `URLError` only while connecting or sending the request."""
    if isinstance(exc, SlackApiError):
        return exc.response.status_code >= 500
    if isinstance(exc, URLError):
        return False
    return isinstance(exc, OSError | HTTPException)


def build_web_client(
    token: str, base_url: str, timeout_seconds: float = 10.0, max_retry_after_seconds: float = 10.0
) -> WebClient:
    """A WebClient for delivery: `base_url` the Web API root (with its trailing slash)."""
    return WebClient(
        token=token,
        base_url=base_url.rstrip("/") + "/",
        timeout=int(timeout_seconds),
        retry_handlers=[BoundedRateLimitHandler(max_retry_after_seconds), IdempotentServerErrorHandler()],
    )


def slack_payloads(item: Outgoing) -> list[dict[str, Any]]:
    """chat.postMessage payloads (`text`, `blocks`) of a briefing, within Slack's limits."""
    try:
        blocks = json.loads(item.blocks_json or "[]")
    except ValueError as exc:
        raise DeliveryError(f"stored blocks_json is not JSON: {exc}", permanent=True) from exc
    if not blocks:
        raise DeliveryError("the briefing has no Slack blocks", permanent=True)
    return split_slack_blocks(blocks)


def _metadata(item: Outgoing, part: int, parts: int) -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {
            "day": item.day,
            "user_id": item.user_id,
            "content_hash": item.content_hash or "",
            "part": part,
            "parts": parts,
        },
    }


class SlackMessenger:
    """The Slack transport: `send` a briefing as DM parts; `find_sent` reconciles with the DM history."""

    channel = "slack"

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def _error(
        self,
        exc: Exception,
        what: str,
        sent_ids: Sequence[str] = (),
        address: str | None = None,
        in_doubt: bool = False,
    ):
        if isinstance(exc, SlackApiError):
            status = exc.response.status_code
            code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            retry_after = _retry_after_header(exc.response.headers)
            if status == 429:
                message = f"{what}: rate limited (429), Retry-After {retry_after or '?'} s"
            else:
                message = f"{what}: HTTP {status}, {code or 'error'}"
            permanent = status < 500 and status != 429 and code in PERMANENT_ERRORS
            return DeliveryError(
                message,
                permanent=permanent and not in_doubt,
                retry_after=retry_after,
                sent_ids=sent_ids,
                address=address,
                in_doubt=in_doubt,
            )
        return DeliveryError(
            f"{what}: {type(exc).__name__}: {exc}", sent_ids=sent_ids, address=address, in_doubt=in_doubt
        )

    def _open(self, user_id: str) -> str:
        try:
            return str(self.client.conversations_open(users=user_id)["channel"]["id"])
        except (SlackClientError, OSError) as exc:
            raise self._error(exc, "conversations.open") from exc

    def send(self, item: Outgoing) -> SendResult:
        payloads = slack_payloads(item)
        channel_id = self._open(item.user_id)
        ids = list(item.resume_ids)
        for part in range(len(ids), len(payloads)):
            payload = payloads[part]
            try:
                response = self.client.chat_postMessage(
                    channel=channel_id,
                    text=payload["text"],
                    blocks=payload["blocks"],
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata=_metadata(item, part + 1, len(payloads)),
                )
            except (SlackClientError, OSError, HTTPException) as exc:
                raise self._error(
                    exc,
                    f"chat.postMessage part {part + 1}/{len(payloads)}",
                    sent_ids=ids,
                    address=channel_id,
                    in_doubt=post_in_doubt(exc),
                ) from exc
            ids.append(str(response["ts"]))
        return SendResult(address=channel_id, ids=ids)

    def find_sent(self, item: Outgoing, since: dt.datetime) -> Found | None:
        """The parts of this briefing (same content hash) already in the DM since `since`; None when
        the history cannot be read (e.g. no im:history scope)."""
        try:
            parts = len(slack_payloads(item))
            channel_id = str(self.client.conversations_open(users=item.user_id)["channel"]["id"])
            oldest = f"{since.replace(tzinfo=dt.UTC).timestamp():.6f}"
            found: dict[int, str] = {}
            pages = self.client.conversations_history(
                channel=channel_id, oldest=oldest, include_all_metadata=True, limit=200
            )
            for n, page in enumerate(pages):
                for message in page.get("messages") or []:
                    meta = message.get("metadata") or {}
                    payload = meta.get("event_payload") or {}
                    if (
                        meta.get("event_type") == METADATA_EVENT
                        and payload.get("day") == item.day
                        and payload.get("user_id") == item.user_id
                        and payload.get("content_hash", "") == (item.content_hash or "")
                    ):
                        found.setdefault(int(payload.get("part", 0)), str(message["ts"]))
                if n >= 20:  # a bot DM holds a few messages a day; never page for ever
                    break
        except (SlackClientError, OSError, HTTPException, DeliveryError, KeyError, TypeError, ValueError):
            return None
        ids: list[str] = []
        for part in range(1, parts + 1):  # the contiguous prefix of parts that arrived
            if part not in found:
                break
            ids.append(found[part])
        return Found(address=channel_id, ids=ids, complete=len(ids) == parts)

    def close(self) -> None:
        return None
