"""A fake Slack Web API on 127.0.0.1, serving a workspace export through the real endpoints.

Started by tests (`with FakeSlackServer(export_dir, token) as slack: ...`); point slack-sdk at it with
`WebClient(token=..., base_url=slack.base_url)` (or SLACK_API_BASE_URL=slack.base_url). It speaks
the Web API's shapes: `{"ok": true, ...}` / `{"ok": false, "error": "..."}` envelopes, cursor
pagination (`response_metadata.next_cursor`, page size capped by `page_size`, 5 by default, so
every listing paginates), `Authorization: Bearer <token>` checked on every call.

Endpoints:
- `auth.test` (with `url`), `users.list`, `conversations.list` (`types`), `conversations.members`;
- `conversations.history`: top-level messages and thread broadcasts only, newest first, bounded by
  `oldest`/`latest` (exclusive unless `inclusive`); thread parents carry the export's
  `reply_count`/`latest_reply`;
- `conversations.replies`: the parent, then its replies (bounded by `oldest`/`latest`), oldest first;
- `conversations.open` and `chat.postMessage`, for delivery: opened DMs and posted messages are
  recorded in `opened` and `posted`; posted messages (with their `metadata`, shown when
  `include_all_metadata`) are readable with `conversations.history` of the DM, and replies posted
  with `thread_ts` with `conversations.replies`; Block Kit limits are enforced (50 blocks, 3,000
  characters per section/context text, 150 per header: `invalid_blocks`).
- Reactions: `react(channel, ts, name, user)` / `unreact(...)` stand for a person clicking an emoji
  (as `reactions.add` with their user token would); messages carry them as Slack does
  (`reactions: [{"name", "users", "count"}]`) in history and replies.

Scriptable faults (`add_fault`): an HTTP status once or N times (429 with `Retry-After`, 500, 503,
...), an `ok: false` error, or a dropped connection, for one method (and optionally one channel),
after skipping the first `skip` matching requests; with `after=True` the call is carried out first
(a message is posted) and only its answer is replaced (the response lost on the way back).
`deny(channel)` makes history and replies of a
channel answer `not_in_channel`. Every request is recorded in `requests` (method, params without
the token, HTTP status served).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

from .local_http_server import LocalHTTPServer

_DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
_LISTS = (("channels.json", "public"), ("groups.json", "private"), ("dms.json", "im"), ("mpims.json", "mpim"))
_TYPES = {"public": "public_channel", "private": "private_channel", "im": "im", "mpim": "mpim"}


@dataclass
class Fault:
    """One scripted failure. `times=-1` fires forever."""

    method: str  # "conversations.history", or "*" for any
    status: int = 200  # HTTP status to answer with
    error: str | None = None  # Slack error code for the body ({"ok": false, "error": ...})
    retry_after: int | None = None  # Retry-After header (seconds), for 429
    channel: str | None = None  # only requests for this channel
    skip: int = 0  # let this many matching requests through first
    times: int = 1
    disconnect: bool = False  # close the connection without answering
    after: bool = False  # carry the call out, then fail its answer (e.g. a post stored, then a 503)
    fired: int = 0


@dataclass
class Request:
    method: str
    params: dict[str, Any]
    status: int = 200
    fault: str | None = None


@dataclass
class Workspace:
    """The export loaded in memory: users, conversations with members, messages per conversation."""

    users: list[dict[str, Any]] = field(default_factory=list)
    conversations: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (record, kind)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel id -> by ts

    @classmethod
    def from_export(cls, root: str | Path) -> Workspace:
        root = Path(root)
        ws = cls()
        users_path = root / "users.json"
        ws.users = json.loads(users_path.read_text(encoding="utf-8")) if users_path.exists() else []
        folders: dict[str, str] = {}
        for name, kind in _LISTS:
            path = root / name
            if not path.exists():
                continue
            for rec in json.loads(path.read_text(encoding="utf-8")):
                ws.conversations.append((rec, kind))
                folders[rec["id"]] = rec["id"]
                if rec.get("name"):
                    folders[rec["name"]] = rec["id"]
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
            cid = folders.get(folder.name)
            if cid is None:
                continue
            records = ws.messages.setdefault(cid, [])
            for path in sorted(folder.iterdir()):
                if _DAY_FILE.match(path.name):
                    records.extend(
                        r
                        for r in json.loads(path.read_text(encoding="utf-8"))
                        if isinstance(r, dict) and r.get("ts")
                    )
        for records in ws.messages.values():
            records.sort(key=lambda r: Decimal(str(r["ts"])))
        return ws

    def conversation(self, cid: str) -> tuple[dict[str, Any], str] | None:
        return next(((rec, kind) for rec, kind in self.conversations if rec["id"] == cid), None)


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        text = base64.b64decode(cursor.encode()).decode()
        return int(text.removeprefix("offset:")) if text.startswith("offset:") else None
    except (ValueError, UnicodeDecodeError):
        return None


def _flag(value: Any) -> bool:
    return str(value).lower() in ("1", "true")


def _in_bounds(ts: Decimal, params: dict[str, Any]) -> bool:
    inclusive = _flag(params.get("inclusive", "0"))
    oldest = Decimal(str(params.get("oldest") or "0"))
    latest = params.get("latest")
    if ts < oldest or (ts == oldest and not inclusive):
        return False
    if latest:
        bound = Decimal(str(latest))
        if ts > bound or (ts == bound and not inclusive):
            return False
    return True


def _slack_limit_error(text: Any, blocks: Any) -> str | None:
    """chat.postMessage's limits: 50 blocks, 3,000 chars per section/context text, 150 per header,
    40,000 for the message text."""
    if text and len(str(text)) > 40000:
        return "msg_too_long"
    if not blocks:
        return None
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        texts = [block.get("text"), *(block.get("elements") or [])]
        cap = 150 if block.get("type") == "header" else 3000
        if any(isinstance(t, dict) and len(str(t.get("text", ""))) > cap for t in texts):
            return "invalid_blocks"
    return None


class FakeSlackServer(LocalHTTPServer):
    """The Slack Web API of one workspace; use as a context manager."""

    def __init__(
        self,
        export_dir: str | Path,
        token: str,
        page_size: int = 5,
        workspace_url: str = "https://acme.slack.com/",
        team: str = "Acme",
        team_id: str = "T0SAMPLE",
        bot_user_id: str = "UBOTOUTROPY",
    ) -> None:
        super().__init__()
        self.workspace = Workspace.from_export(export_dir)
        self.token = token
        self.page_size = page_size
        self.workspace_url = workspace_url
        self.team, self.team_id, self.bot_user_id = team, team_id, bot_user_id
        self.faults: list[Fault] = []
        self.denied: dict[str, str] = {}  # channel -> error for history/replies
        self.requests: list[Request] = []
        self.opened: dict[str, list[str]] = {}  # DM id -> users, by conversations.open
        self.posted: list[dict[str, Any]] = []  # chat.postMessage calls that succeeded
        self._lock = threading.Lock()
        self._post_seq = 0

    @property
    def base_url(self) -> str:
        """The API root for slack-sdk's `base_url` (with the trailing slash)."""
        return f"{self.origin}/api/"

    # -- scripting -----------------------------------------------------------------------------
    def add_fault(self, method: str, **kwargs: Any) -> Fault:
        fault = Fault(method=method, **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def deny(self, channel: str, error: str = "not_in_channel") -> None:
        with self._lock:
            self.denied[channel] = error

    def react(self, channel: str, ts: str, name: str, user: str) -> None:
        """`user` adds reaction `name` to message `ts` of `channel`."""
        with self._lock:
            message = self._message(channel, ts)
            reactions = message.setdefault("reactions", [])
            found = next((r for r in reactions if r["name"] == name), None)
            if found is None:
                found = {"name": name, "users": [], "count": 0}
                reactions.append(found)
            if user not in found["users"]:
                found["users"].append(user)
                found["count"] = len(found["users"])

    def unreact(self, channel: str, ts: str, name: str, user: str) -> None:
        """`user` removes their reaction `name` from message `ts` of `channel`."""
        with self._lock:
            message = self._message(channel, ts)
            reactions = message.get("reactions") or []
            for r in reactions:
                if r["name"] == name and user in r["users"]:
                    r["users"].remove(user)
                    r["count"] = len(r["users"])
            message["reactions"] = [r for r in reactions if r["users"]]
            if not message["reactions"]:
                del message["reactions"]

    def _message(self, channel: str, ts: str) -> dict[str, Any]:
        found = next((m for m in self.workspace.messages.get(channel, []) if str(m["ts"]) == ts), None)
        if found is None:
            raise KeyError(f"no message {ts} in {channel}")
        return found

    def replies_posted(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The messages posted as replies in the thread `thread_ts` of `channel`, oldest first."""
        with self._lock:
            return [p for p in self.posted if p["channel"] == channel and p.get("thread_ts") == thread_ts]

    def calls(self, method: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == method]

    # -- HTTP ----------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlparse(h.path)
        method = url.path.removeprefix("/api/").strip("/")
        params: dict[str, Any] = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        ctype = (h.headers.get("Content-Type") or "").lower()
        if body:
            if "json" in ctype:
                try:
                    params.update(json.loads(body.decode("utf-8")))
                except ValueError:
                    return self._send(h, method, params, 200, {"ok": False, "error": "invalid_json"})
            else:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        token = params.pop("token", None)
        auth = h.headers.get("Authorization") or ""
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ").strip()
        if not token:
            return self._send(h, method, params, 200, {"ok": False, "error": "not_authed"})
        if token != self.token:
            return self._send(h, method, params, 200, {"ok": False, "error": "invalid_auth"})
        fault = self._fault_for(method, params)
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if fault is not None and fault.after and handler is not None:
            with self._lock:
                handler(params)  # done; the answer is lost below
        if fault is not None:
            if fault.disconnect:
                with self._lock:
                    self.requests.append(Request(method, params, 0, "disconnect"))
                h.close_connection = True
                return None
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            payload = {
                "ok": False,
                "error": fault.error or ("ratelimited" if fault.status == 429 else "fatal_error"),
            }
            return self._send(h, method, params, fault.status, payload, headers, fault=f"{fault.status}")
        if handler is None:
            return self._send(h, method, params, 200, {"ok": False, "error": "unknown_method"})
        with self._lock:
            payload = handler(params)
        return self._send(h, method, params, 200, payload)

    def _fault_for(self, method: str, params: dict[str, Any]) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method not in ("*", method):
                    continue
                if fault.channel is not None and params.get("channel") != fault.channel:
                    continue
                if fault.times != -1 and fault.fired >= fault.times:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.fired += 1
                return fault
        return None

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        method: str,
        params: dict[str, Any],
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
        fault: str | None = None,
    ) -> None:
        with self._lock:
            self.requests.append(Request(method, params, status, fault))
        try:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, as Slack sends it: a \ud800 escape
            data = json.dumps(payload).encode("ascii")
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    # -- pagination ----------------------------------------------------------------------------
    def _page(
        self, items: list[Any], params: dict[str, Any], key: str, default_limit: int = 100
    ) -> dict[str, Any]:
        offset = _offset(params.get("cursor"))
        if offset is None:
            return {"ok": False, "error": "invalid_cursor"}
        try:
            limit = int(params.get("limit") or default_limit)
        except ValueError:
            return {"ok": False, "error": "invalid_limit"}
        limit = max(1, min(limit, self.page_size))
        chunk = items[offset : offset + limit]
        more = offset + limit < len(items)
        return {key: chunk, "response_metadata": {"next_cursor": _cursor(offset + limit) if more else ""}}

    # -- API methods (called under the lock) ---------------------------------------------------
    def _api_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": self.workspace_url,
            "team": self.team,
            "user": "outropy",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "BOUTROPY",
            "is_enterprise_install": False,
        }

    def _api_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        page = self._page(self.workspace.users, params, "members", default_limit=100)
        return page if page.get("ok") is False else {"ok": True, "cache_ts": 0, **page}

    def _list_record(self, rec: dict[str, Any], kind: str) -> dict[str, Any]:
        out = {k: v for k, v in rec.items() if k != "members"}
        members = list(rec.get("members") or [])
        out.update(
            is_channel=kind == "public",
            is_group=kind == "private",
            is_im=kind == "im",
            is_mpim=kind == "mpim",
            is_private=kind != "public",
            is_member=True,
        )
        if kind == "im":
            out.pop("name", None)
            out["user"] = members[-1] if members else None
        else:
            out["num_members"] = len(members)
        return out

    def _api_conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = set(str(params.get("types") or "public_channel").split(","))
        exclude_archived = _flag(params.get("exclude_archived", "0"))
        items = [
            self._list_record(rec, kind)
            for rec, kind in self.workspace.conversations
            if _TYPES[kind] in wanted and not (exclude_archived and rec.get("is_archived"))
        ]
        page = self._page(items, params, "channels")
        return page if page.get("ok") is False else {"ok": True, **page}

    def _api_conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        found = self.workspace.conversation(str(params.get("channel") or ""))
        if found is None:
            return {"ok": False, "error": "channel_not_found"}
        page = self._page(list(found[0].get("members") or []), params, "members")
        return page if page.get("ok") is False else {"ok": True, **page}

    def _readable(self, params: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        cid = str(params.get("channel") or "")
        if cid in self.denied:
            return cid, {"ok": False, "error": self.denied[cid]}
        if cid not in self.opened and self.workspace.conversation(cid) is None:  # bot DMs are readable
            return cid, {"ok": False, "error": "channel_not_found"}
        return cid, None

    def _api_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        cid, error = self._readable(params)
        if error:
            return error
        top = [
            m
            for m in self.workspace.messages.get(cid, [])
            if (
                not m.get("thread_ts")
                or m.get("thread_ts") == m["ts"]
                or m.get("subtype") == "thread_broadcast"
            )
            and _in_bounds(Decimal(str(m["ts"])), params)
        ]
        top.reverse()  # newest first
        if not _flag(params.get("include_all_metadata", "0")):
            top = [{k: v for k, v in m.items() if k != "metadata"} for m in top]
        page = self._page(top, params, "messages")
        if page.get("ok") is False:
            return page
        return {
            "ok": True,
            "has_more": bool(page["response_metadata"]["next_cursor"]),
            "pin_count": 0,
            **page,
        }

    def _api_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        cid, error = self._readable(params)
        if error:
            return error
        ts = str(params.get("ts") or "")
        messages = self.workspace.messages.get(cid, [])
        parent = next((m for m in messages if str(m["ts"]) == ts), None)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        replies = [
            m
            for m in messages
            if m.get("thread_ts") == ts and str(m["ts"]) != ts and _in_bounds(Decimal(str(m["ts"])), params)
        ]
        thread = [parent, *replies]
        if not _flag(params.get("include_all_metadata", "0")):
            thread = [{k: v for k, v in m.items() if k != "metadata"} for m in thread]
        page = self._page(thread, params, "messages")
        if page.get("ok") is False:
            return page
        return {"ok": True, "has_more": bool(page["response_metadata"]["next_cursor"]), **page}

    def _api_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            cid = str(params["channel"])
            if cid not in self.opened and self.workspace.conversation(cid) is None:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": cid}}
        users = sorted(u for u in str(params.get("users") or "").split(",") if u)
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        known = {u["id"] for u in self.workspace.users}
        if any(u not in known for u in users):
            return {"ok": False, "error": "user_not_found"}
        cid = "D" + hashlib.sha1(",".join(users).encode()).hexdigest()[:9].upper()
        already = cid in self.opened
        self.opened[cid] = users
        return {"ok": True, "no_op": already, "already_open": already, "channel": {"id": cid}}

    def _api_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = str(params.get("channel") or "")
        if not cid or (cid not in self.opened and self.workspace.conversation(cid) is None):
            return {"ok": False, "error": "channel_not_found"}
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                return {"ok": False, "error": "invalid_blocks"}
        text = params.get("text")
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        limit_error = _slack_limit_error(text, blocks)
        if limit_error:
            return {"ok": False, "error": limit_error}
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                return {"ok": False, "error": "invalid_metadata_format"}
        self._post_seq += 1
        ts = f"1800000000.{self._post_seq:06d}"
        message = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": "BOUTROPY",
            "text": text or "",
            "ts": ts,
        }
        if blocks:
            message["blocks"] = blocks
        if metadata:
            message["metadata"] = metadata
        thread_ts = params.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
        self.posted.append(
            {
                "channel": cid,
                "ts": ts,
                "text": text,
                "blocks": blocks,
                "params": dict(params),
                "thread_ts": str(thread_ts) if thread_ts else None,
            }
        )
        self.workspace.messages.setdefault(cid, []).append(message)  # readable with conversations.history
        return {"ok": True, "channel": cid, "ts": ts, "message": message}
