"""The tiny HTTP endpoint behind the email's "useful" / "not useful" links (`outropy feedback serve`).

`GET /feedback?t=TOKEN` checks the token's signature (HMAC under OUTROPY_FEEDBACK_SECRET, see
`domain/reader_feedback.py`) and answers a small page naming the line, with one button; the
button's `POST /feedback` (form field `t`) records the event. Recording on POST only keeps the
link scanners of mail servers, which fetch every link of a message, from marking lines for the
reader. A token that is malformed or signed with another secret is refused with 403, so nobody
can record feedback for another reader's lines; a line that does not exist is 404.

Standard library only (`http.server`), one thread per request; each write is one short DuckDB
transaction under the store's file lock. Tokens are not logged (the access log leaves out the query).
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from outropy_pipelines.domain.reader_feedback import USEFUL, read_token
from outropy_pipelines.stages.feedback import UnknownLine, record_line
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store import feedback as fb_store

_MAX_BODY = 4096


def _page(title: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
        '</head><body style="font-family:sans-serif;max-width:560px;margin:40px auto;padding:0 16px;">'
        f'<h1 style="font-size:20px;">{html.escape(title)}</h1>{body}</body></html>'
    ).encode()


class FeedbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: DuckDBStore, secret: str) -> None:
        if not secret:
            raise ValueError("the feedback endpoint needs OUTROPY_FEEDBACK_SECRET")
        super().__init__(address, _Handler)
        self.store = store
        self.secret = secret
        self.lock = threading.Lock()  # one DuckDB writer of this process at a time


class _Handler(BaseHTTPRequestHandler):
    server: FeedbackServer
    server_version = "outropy-feedback"

    def log_message(self, format: str, *args: object) -> None:
        return None  # the query holds the token: nothing is logged

    def _answer(self, status: int, title: str, body: str = "") -> None:
        data = _page(title, body)
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(data)

    def _token(self, params: dict[str, list[str]]) -> str:
        return (params.get("t") or [""])[0]

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path.rstrip("/") != "/feedback":
            return self._answer(404, "Not found")
        token = self._token(parse_qs(url.query))
        claim = read_token(self.server.secret, token)
        if claim is None:
            return self._answer(403, "This link is not valid")
        lines = fb_store.briefing_lines(self.server.store, [(claim.day, claim.reader_id)])
        line = next(
            (ln for ln in lines.get((claim.day, claim.reader_id), []) if ln.position == claim.position), None
        )
        if line is None or (claim.item_id and line.item_id != claim.item_id):
            return self._answer(404, "This line is no longer in your briefing")
        word = "useful" if claim.value == USEFUL else "not useful"
        body = (
            f"<p>Line {claim.position + 1} of your briefing for {html.escape(claim.day)}:</p>"
            f"<blockquote>{html.escape(line.text)}</blockquote>"
            f'<form method="post" action="/feedback"><input type="hidden" name="t" value="{html.escape(token)}">'
            f'<button type="submit">Mark it {word}</button></form>'
        )
        return self._answer(200, f"Was this {word}?", body)

    def do_POST(self) -> None:
        url = urlparse(self.path)
        if url.path.rstrip("/") != "/feedback":
            return self._answer(404, "Not found")
        length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace")) if length else {}
        claim = read_token(self.server.secret, self._token(form) or self._token(parse_qs(url.query)))
        if claim is None:
            return self._answer(403, "This link is not valid")
        try:
            with self.server.lock:
                record_line(
                    self.server.store,
                    claim.reader_id,
                    claim.day,
                    claim.position,
                    claim.value,
                    "email",
                    claim.item_id or None,
                )
        except UnknownLine:
            return self._answer(404, "This line is no longer in your briefing")
        word = "useful" if claim.value == USEFUL else "not useful"
        return self._answer(
            200,
            "Thanks",
            f"<p>Recorded: line {claim.position + 1} was {word}. "
            "Your next briefings take it into account.</p>",
        )


def make_server(store: DuckDBStore, secret: str, host: str = "127.0.0.1", port: int = 8080) -> FeedbackServer:
    """The endpoint, bound (port 0: any free port); `serve_forever()` runs it."""
    return FeedbackServer((host, port), store, secret)
