"""SlackWebAPIReader: the live Slack Web API (slack-sdk) as the same rows the export path produces.

- Directory: `users.list`, `conversations.list` (public_channel, private_channel, im, mpim: whatever
  the token can see) and `conversations.members` for each conversation.
- A day: for each conversation, `conversations.history` over the day window in the workspace time
  zone, and `conversations.replies` for every thread with a reply on that day. History only returns
  top-level messages (and thread broadcasts), so threads whose parent was posted earlier are found
  through the parents' `latest_reply`: the history request reaches back `thread_lookback_days` before
  the day, and every parent whose `latest_reply` falls on or after the day's start is read.
  Limitation: a reply to a parent older than the lookback (or to a parent deleted without a
  tombstone) is not seen; the export path has no such limit.
- Every record passes the same boundary as the export's (`slack_records.accept_message`, the model
  of `domain/slack_message.py`): one that does not fit is quarantined with the reason. Rows are built
  by `slack_records.raw_row` from the message objects exactly as Slack returned them, so for the
  same workspace the rows equal the export's.
- Cursor pagination everywhere (iterating a SlackResponse follows `response_metadata.next_cursor`).
- Faults: HTTP 429 waits out `Retry-After` and retries; 5xx and connection errors retry with
  exponential backoff; a conversation the bot may not read (`not_in_channel`, `channel_not_found`,
  `missing_scope`, ...) becomes a quarantine row with the reason while the other conversations land;
  any other failure raises `SlackSourceError`. The token is never logged, stored or put in an error.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import re
from decimal import Decimal
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    RetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from outropy_pipelines.adapters.slack_records import (
    DayRead,
    accept_message,
    channel_from_record,
    quarantine_raw,
    raw_row,
    user_from_record,
)
from outropy_pipelines.domain.days import day_window, parse_day
from outropy_pipelines.domain.models import Channel, Directory, QuarantineRecord, User
from outropy_pipelines.domain.slack_message import conversation_problem, user_problem

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://slack.com/api/"
CONVERSATION_TYPES = "public_channel,private_channel,im,mpim"
SOURCE_NAME = "slack_api"

# Errors that concern one conversation (or thread): quarantined, the others still land.
CONVERSATION_ERRORS = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "missing_scope",
        "thread_not_found",
        "access_denied",
        "is_archived",
        "method_not_supported_for_channel_type",
    }
)
_EXPLAIN = {
    "not_in_channel": "the bot is not a member of this conversation: invite it (/invite @app)",
    "channel_not_found": "the conversation does not exist or the token cannot see it",
    "missing_scope": "the app lacks the scope to read this kind of conversation",
    "thread_not_found": "the thread's parent message is gone",
}
_TOKEN_LIKE = re.compile(r"xox[a-z]-[A-Za-z0-9-]+")


class SlackSourceError(RuntimeError):
    """A Slack Web API call failed. The message never contains the token."""

    def __init__(self, method: str, detail: str, error: str | None = None, data: dict | None = None) -> None:
        super().__init__(f"Slack API {method} failed: {detail}")
        self.method = method
        self.error = error  # Slack's error code for ok:false answers (not_in_channel, invalid_auth ...)
        self.data = data or {}


def _retry_handlers(max_retries: int, backoff_factor: float) -> list[RetryHandler]:
    backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_factor)

    class _ServerErrors(ServerErrorRetryHandler):
        """500 and 503 (slack-sdk's) plus 502 and 504, which proxies in front of Slack answer."""

        def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[override]
            return response is not None and response.status_code in (500, 502, 503, 504)

    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),  # sleeps Retry-After (+ <1 s jitter)
        _ServerErrors(max_retry_count=max_retries, interval_calculator=backoff),
        ConnectionErrorRetryHandler(
            max_retry_count=max_retries,
            interval_calculator=backoff,
            error_types=[URLError, ConnectionError, TimeoutError, http.client.HTTPException],
        ),
    ]


def _ts_param(value: float) -> str:
    return f"{value:.6f}"


class SlackWebAPIReader:
    """Reads one workspace through the Web API with a bot token."""

    name = SOURCE_NAME

    def __init__(
        self,
        token: str,
        base_url: str | None = None,
        thread_lookback_days: int = 14,
        page_size: int = 200,
        max_retries: int = 6,
        backoff_factor: float = 0.5,
        timeout: int = 30,
    ) -> None:
        if not token or not token.strip():
            raise ValueError("a Slack bot token is required for the Web API source")
        self._token = token.strip()
        base = (base_url or DEFAULT_API_BASE_URL).strip()
        self.base_url = base if base.endswith("/") else base + "/"
        self.thread_lookback_days = thread_lookback_days
        self.page_size = page_size
        self._client = WebClient(
            token=self._token,
            base_url=self.base_url,
            timeout=timeout,
            retry_handlers=_retry_handlers(max_retries, backoff_factor),
        )
        self._conversations: list[dict[str, Any]] | None = None
        self._invalid_conversations: list[QuarantineRecord] = []
        #: nothing is guessed in live mode (the export reader warns about what it must guess)
        self.warnings: list[str] = []
        self._workspace_url: str | None = None
        self.calls = 0  # API requests made (pages included)

    def __repr__(self) -> str:  # never the token
        return f"SlackWebAPIReader(base_url={self.base_url!r})"

    # -- calls -------------------------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        return _TOKEN_LIKE.sub("xox?-…", text.replace(self._token, "…"))

    def _pages(self, method: str, **params: Any) -> list[dict[str, Any]]:
        """Every page of `method` (cursor pagination followed). Raises a sanitized SlackSourceError.

        The error is raised outside the `except` block so that no slack-sdk exception (holding the
        request and response objects) is chained to it.
        """
        pages: list[dict[str, Any]] = []
        failure: SlackSourceError | None = None
        try:
            for page in getattr(self._client, method.replace(".", "_"))(**params):
                self.calls += 1
                pages.append(dict(page.data))
        except SlackApiError as exc:
            failure = self._api_failure(method, exc)
        except Exception as exc:  # connection errors after retries, invalid JSON, ...
            failure = SlackSourceError(method, self._scrub(f"{type(exc).__name__}: {exc}"))
        if failure is not None:
            raise failure
        return pages

    def _api_failure(self, method: str, exc: SlackApiError) -> SlackSourceError:
        response = exc.response
        status = getattr(response, "status_code", None)
        data = getattr(response, "data", None)
        if isinstance(data, dict) and data.get("error"):
            error = str(data["error"])
            safe = {k: v for k, v in data.items() if k in ("ok", "error", "needed", "provided", "warning")}
            safe = json.loads(self._scrub(json.dumps(safe)))
            return SlackSourceError(method, f"{error} (HTTP {status})", error=error, data=safe)
        return SlackSourceError(method, f"HTTP {status}")

    # -- workspace ---------------------------------------------------------------------------
    def workspace_url(self) -> str | None:
        """`auth.test`'s `url` (https://acme.slack.com), without the trailing slash."""
        if self._workspace_url is None:
            (data,) = self._pages("auth.test")
            url = str(data.get("url") or "").strip().rstrip("/")
            self._workspace_url = url
        return self._workspace_url or None

    # -- directory ---------------------------------------------------------------------------
    def conversations(self) -> list[dict[str, Any]]:
        """`conversations.list` records of every type the token can see (archived included)."""
        if self._conversations is None:
            records: list[dict[str, Any]] = []
            seen: set[str] = set()
            for page in self._pages(
                "conversations.list", types=CONVERSATION_TYPES, exclude_archived=False, limit=self.page_size
            ):
                for n, rec in enumerate(page.get("channels") or []):
                    problem = conversation_problem(rec)
                    if problem:
                        self._invalid_conversations.append(
                            QuarantineRecord(
                                source=SOURCE_NAME,
                                location=f"conversations.list#{n}",
                                reason=problem,
                                raw=quarantine_raw(rec),
                            )
                        )
                    elif rec["id"] not in seen:
                        seen.add(rec["id"])
                        records.append(rec)
            self._conversations = records
        return self._conversations

    @staticmethod
    def kind_of(rec: dict[str, Any]) -> str:
        if rec.get("is_im"):
            return "im"
        if rec.get("is_mpim"):
            return "mpim"
        if rec.get("is_private") or rec.get("is_group"):
            return "private"
        return "public"

    def read_directory(self) -> tuple[Directory, list[QuarantineRecord]]:
        quarantine: list[QuarantineRecord] = []
        users: dict[str, User] = {}
        for page in self._pages("users.list", limit=self.page_size):
            for n, rec in enumerate(page.get("members") or []):
                problem = user_problem(rec)
                if problem:
                    quarantine.append(
                        QuarantineRecord(
                            source=SOURCE_NAME,
                            location=f"users.list#{n}",
                            reason=problem,
                            raw=quarantine_raw(rec),
                        )
                    )
                    continue
                user = user_from_record(rec)
                users[user.user_id] = user
        channels: list[Channel] = []
        for rec in self.conversations():
            cid = str(rec["id"])
            members: list[str] = []
            try:
                for page in self._pages("conversations.members", channel=cid, limit=self.page_size):
                    members.extend(str(m) for m in page.get("members") or [] if m)
            except SlackSourceError as exc:
                if exc.error not in CONVERSATION_ERRORS:
                    raise
                quarantine.append(self._conversation_quarantine(rec, exc, "its membership is unknown"))
            channels.append(channel_from_record(rec, self.kind_of(rec), members, users))
        quarantine += self._invalid_conversations
        return Directory(users=list(users.values()), channels=channels), quarantine

    # -- messages ----------------------------------------------------------------------------
    def read_day(self, day: str | dt.date, timezone: str = "UTC") -> DayRead:
        d = parse_day(day)
        day_iso = d.isoformat()
        start, end = day_window(d, timezone)
        out = DayRead()
        for rec in self.conversations():
            cid = str(rec["id"])
            if rec.get("is_member") is False:
                # a public channel the bot has not joined: history would answer not_in_channel
                out.not_joined.append(cid)
                continue
            try:
                rows = self._read_conversation_day(cid, day_iso, start, end, out)
            except SlackSourceError as exc:
                if exc.error not in CONVERSATION_ERRORS:
                    raise
                log.warning(
                    "conversation %s (%s) not read for %s: %s", cid, rec.get("name") or "", day_iso, exc.error
                )
                out.failed_conversations.append(cid)
                out.quarantine.append(
                    self._conversation_quarantine(rec, exc, f"its messages of {day_iso} are missing")
                )
                continue
            out.files_read += 1
            out.messages.extend(rows)
        if out.not_joined:
            log.info("%d conversation(s) skipped: the bot is not a member", len(out.not_joined))
        return out

    def _read_conversation_day(
        self, cid: str, day_iso: str, start: float, end: float, out: DayRead
    ) -> list[dict[str, Any]]:
        """All messages of one conversation in [start, end): top-level ones and thread replies."""
        found: dict[str, dict[str, Any]] = {}
        threads: list[str] = []
        history = self._pages(
            "conversations.history",
            channel=cid,
            oldest=_ts_param(start - self.thread_lookback_days * 86400),
            latest=_ts_param(end),
            inclusive=True,
            limit=self.page_size,
        )
        for page in history:
            for n, rec in enumerate(page.get("messages") or []):
                if not self._keep(rec, f"{cid}/conversations.history#{n}", start, end, found, out):
                    continue
                if self._has_replies_since(rec, start, end):
                    threads.append(str(rec.get("thread_ts") or rec["ts"]))
        for thread_ts in dict.fromkeys(threads):
            try:
                pages = self._pages(
                    "conversations.replies",
                    channel=cid,
                    ts=thread_ts,
                    oldest=_ts_param(start),
                    latest=_ts_param(end),
                    inclusive=True,
                    limit=self.page_size,
                )
            except SlackSourceError as exc:
                if exc.error != "thread_not_found":
                    raise
                out.quarantine.append(
                    QuarantineRecord(
                        source=SOURCE_NAME,
                        location=f"{cid}/{thread_ts}",
                        reason=f"thread_not_found: {_EXPLAIN['thread_not_found']}; replies of {day_iso} are missing",
                        raw=json.dumps({"channel": cid, "thread_ts": thread_ts, **exc.data}),
                    )
                )
                continue
            for page in pages:
                for n, rec in enumerate(page.get("messages") or []):
                    self._keep(rec, f"{cid}/{thread_ts}/conversations.replies#{n}", start, end, found, out)
        return [
            raw_row(rec, cid, day_iso) for ts, rec in sorted(found.items(), key=lambda kv: Decimal(kv[0]))
        ]

    @staticmethod
    def _keep(
        rec: Any, location: str, start: float, end: float, found: dict[str, dict[str, Any]], out: DayRead
    ) -> bool:
        """Record `rec` if it is a message of the day; True when it is a valid message at all.

        The same message can come twice (a thread broadcast is in history and in its thread; a
        parent heads its replies): the first copy is kept, the same object Slack returned.
        """
        _, problem = accept_message(rec)  # the boundary: what the export path takes, and only that
        if problem:
            out.quarantine.append(
                QuarantineRecord(
                    source=SOURCE_NAME, location=location, reason=problem, raw=quarantine_raw(rec)
                )
            )
            return False
        if start <= float(rec["ts"]) < end:
            found.setdefault(str(rec["ts"]), rec)
        return True

    @staticmethod
    def _has_replies_since(rec: dict[str, Any], start: float, end: float) -> bool:
        """A thread parent (posted before `end`) whose latest reply is at or after `start`."""
        ts = str(rec["ts"])
        is_parent = rec.get("thread_ts") == ts or bool(rec.get("reply_count"))
        if not is_parent or float(ts) >= end:
            return False
        latest = rec.get("latest_reply")
        if latest is None:
            return True  # no hint: read the thread
        try:
            return float(latest) >= start
        except (TypeError, ValueError):
            return True

    def _conversation_quarantine(
        self, rec: dict[str, Any], exc: SlackSourceError, what: str
    ) -> QuarantineRecord:
        cid = str(rec["id"])
        name = rec.get("name") or cid
        explain = _EXPLAIN.get(exc.error or "", "Slack refused the request")
        return QuarantineRecord(
            source=SOURCE_NAME,
            location=f"{cid} ({name})",
            reason=f"{exc.method}: {exc.error}: {explain}; {what}",
            raw=json.dumps({"channel": cid, "name": name, "method": exc.method, **exc.data}),
        )
