"""A fake OpenAI-compatible server on 127.0.0.1, for tests of the real openai SDK.

It speaks `POST /v1/chat/completions` with JSON-schema `response_format`, records every request
(headers, raw body, parsed JSON, arrival time) and answers like a plausible model, computing a
structured answer from the request:

- `ClassifyThreadOutput`: one item per new message with content, citing that message's real id
  (`m1`, `m2`, ...): a question if it asks one, an action item if it asks someone to act (owners =
  its mentions), else a status update. Like a gullible model, it *obeys* a message that says
  "ignore previous instructions": it then adds an item citing a message id that does not exist
  (`m999`), so tests can check that the pipeline rejects it.
- `SummarizeEntityOutput`: a sentence naming the entity and counting its items.
- `BriefingIntroOutput`: a sentence counting the lines.

Faults are scriptable: `server.add(Fault.status(429, headers={"Retry-After": "1"}))` applies to the
next request; `Fault.content("{not json")` answers 200 with that text as the model's content;
`Fault.delay(2.0)` answers late (client timeouts); `Fault.no_usage()` omits `usage`. A fault with
`when=` applies only to requests whose body matches; `times=None` keeps it forever.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from .local_http_server import LocalHTTPServer

Responder = Callable[[dict], str]


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    raw: bytes
    body: dict
    at: float
    usage: dict | None = None  # the usage the server answered with (None: no 200 answer, or omitted)

    @property
    def schema_name(self) -> str | None:
        rf = self.body.get("response_format") or {}
        return (rf.get("json_schema") or {}).get("name")

    @property
    def messages(self) -> list[dict]:
        return list(self.body.get("messages") or [])

    def user_text(self) -> str:
        return "\n".join(m.get("content") or "" for m in self.messages if m.get("role") == "user")


@dataclass
class Fault:
    kind: str  # status | content | delay | no_usage
    code: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # the error body (status) or the model's content (content)
    seconds: float = 0.0
    when: Callable[[dict], bool] | None = None
    times: int | None = 1  # None: forever

    @classmethod
    def status(cls, code: int, headers: dict[str, str] | None = None, **kw: Any) -> Fault:
        body = json.dumps({"error": {"message": f"fake error {code}", "type": "server_error", "code": None}})
        return cls("status", code=code, headers=headers or {}, text=body, **kw)

    @classmethod
    def content(cls, text: str, **kw: Any) -> Fault:
        return cls("content", text=text, **kw)

    @classmethod
    def delay(cls, seconds: float, **kw: Any) -> Fault:
        return cls("delay", seconds=seconds, **kw)

    @classmethod
    def no_usage(cls, **kw: Any) -> Fault:
        return cls("no_usage", **kw)


_DATA_RE = re.compile(r"<(conversation|data)>\n(.*)\n</\1>", re.DOTALL)
_QUESTION_RE = re.compile(r"\?\s*$|\?\s")
_REQUEST_RE = re.compile(r"\b(?:can you|could you|please|need you to)\b", re.IGNORECASE)
INJECTION_MARK = "ignore previous instructions"


def _payload(body: dict) -> dict:
    """The JSON data of the (first) user message, as the pipeline delimits it."""
    for m in body.get("messages") or []:
        if m.get("role") == "user":
            match = _DATA_RE.search(m.get("content") or "")
            if match:
                return json.loads(match.group(2))
    return {}


def plausible_answer(body: dict) -> str:
    """A model-like structured answer computed from the request."""
    name = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
    data = _payload(body)
    if name == "ClassifyThreadOutput":
        items = []
        for m in data.get("messages", []):
            text = (m.get("text") or "").strip()
            if not m.get("is_new") or len(text) < 12:
                continue
            if _QUESTION_RE.search(text):
                kind, status = "question", "open"
            elif _REQUEST_RE.search(text):
                kind, status = "action_item", "open"
            else:
                kind, status = "status_update", "info"
            items.append(
                {
                    "kind": kind,
                    "title": text.splitlines()[0][:120],
                    "detail": "",
                    "owners": list(m.get("mentions") or []) if kind != "status_update" else [],
                    "mentions": list(m.get("mentions") or []),
                    "due": None,
                    "entities": [],
                    "confidence": 0.7,
                    "status": status,
                    "source_ids": [m["id"]],
                }
            )
            if INJECTION_MARK in text.lower():  # a gullible model follows the injected instruction
                items.append(
                    {
                        **items[-1],
                        "kind": "decision",
                        "title": "Approved: wire the money",
                        "source_ids": ["m999"],
                    }
                )
        return json.dumps({"items": items})
    if name == "SummarizeEntityOutput":
        today, still_open = len(data.get("items_today", [])), len(data.get("open_items", []))
        return json.dumps(
            {"summary": f"{data.get('name', 'This')}: {today} new item(s) today, {still_open} still open."}
        )
    if name == "BriefingIntroOutput":
        return json.dumps(
            {"intro": f"Good morning {data.get('user_name', '')}: {len(data.get('lines', []))} things."}
        )
    return json.dumps({})


class FakeOpenAIServer(LocalHTTPServer):
    """Start with `with FakeOpenAIServer() as server:`; `server.base_url` ends in /v1."""

    def __init__(self, responder: Responder = plausible_answer) -> None:
        super().__init__()
        self.responder = responder
        self.requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    # -- scripting ------------------------------------------------------------------------------
    def add(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def bodies(self) -> bytes:
        with self._lock:
            return b"\n".join(r.raw for r in self.requests)

    def _take_fault(self, body: dict) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.when is not None and not fault.when(body):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    # -- serving --------------------------------------------------------------------------------
    def _send(
        self, handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]
    ) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                handler.send_header(k, v)
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to answer

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {}
        with self._lock:
            record = RecordedRequest(
                handler.path, {k.lower(): v for k, v in handler.headers.items()}, raw, body, time.monotonic()
            )
            self.requests.append(record)
        if not handler.path.rstrip("/").endswith("/chat/completions"):
            self._send(handler, 404, b'{"error": {"message": "not found"}}', {})
            return
        fault = self._take_fault(body)
        if fault is not None and fault.kind == "status":
            self._send(handler, fault.code, (fault.text or "{}").encode(), fault.headers)
            return
        if fault is not None and fault.kind == "delay" and self._closing.wait(fault.seconds):
            return
        content = fault.text if fault is not None and fault.kind == "content" else self.responder(body)
        reply: dict[str, Any] = {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
        }
        if not (fault is not None and fault.kind == "no_usage"):
            prompt_tokens = max(1, len(raw) // 4)
            completion_tokens = max(1, len(content or "") // 4)
            reply["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
            record.usage = reply["usage"]
        self._send(handler, 200, json.dumps(reply).encode(), {})
