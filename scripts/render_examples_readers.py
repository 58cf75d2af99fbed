"""The per-reader examples of scripts/render_examples.py: preferences and feedback (docs/examples/).

Imported by `render_examples.py` (and by `outropy_pipelines_tests/test_docs_examples.py`), which
calls `write_reader_examples` after its own files, on the same run of the sample. For PREFS_READER
(Diego, whose entry in the examples' subscriptions file sets `mute_channels`, `watch_people`,
`watch_keywords`, `max_lines`) it writes:

- `preferences-briefing.md` / `.json`: Diego's briefing of the day (the Markdown, and the model
  before rendering: the test renders it again and compares);
- `feedback-slack-lines.json`: the thread replies under Diego's DM, each `chat.postMessage` call as
  the real code makes it (`deliver_all` with the Slack messenger, then `sync_slack(post_lines=True)`
  as the `deliver_briefings` job runs them, on a client that records the calls instead of sending);
- `feedback-email.html` / `.png`: Diego's email with the feedback links on (`email_links`, the
  delivery job's `prepare`, then the mailer's composer), FEEDBACK_URL and FEEDBACK_SECRET below;
- `feedback-page.png`: what `outropy feedback serve` answers for a GET of one of those links, then
  `feedback-recorded.png` what its button's POST answers (the real server on 127.0.0.1);
- `feedback-next-day.txt`: a second event recorded by `outropy feedback` (the CLI, in process),
  then Diego's briefing of the next day built with and without his feedback, and the
  `user_briefings` metadata it gets (`feedback_metadata`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

PREFS_READER = "U030DIEGO"
NEXT_DAY = "2026-11-06"
# the email links' endpoint and secret of the examples: an example secret, never a real one
FEEDBACK_URL = "https://briefings.example.org"  # OUTROPY_FEEDBACK_URL: the links go to URL/feedback
FEEDBACK_SECRET = "example-secret-for-docs-only"
# the instant (UTC) of the example delivery: 09:00 in Sao Paulo on the day after DAY
DELIVERED_AT = "2026-11-06T12:00"
DM_CHANNEL = "D0DIEGO01"  # the fake DM channel's id
# Diego's marks (0-based lines): line 5 by its email link (not useful), line 3 by the CLI (useful)
EMAIL_MARK = 4
CLI_MARK = 2


class RecordingSlack:
    """A stand-in for slack-sdk's WebClient with the four calls delivery and feedback make: each
    chat.postMessage is recorded (its arguments, as the real client would send them) and gets a
    fixed ts; nothing leaves the machine."""

    def __init__(self, first_ts: int = 1794000000) -> None:
        self.posts: list[dict[str, Any]] = []
        self._next = first_ts

    def conversations_open(self, users: str) -> dict[str, Any]:
        return {"channel": {"id": DM_CHANNEL}}

    def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:
        ts = f"{self._next}.{len(self.posts) + 1:06d}"
        self._next += 1
        self.posts.append({"ts": ts, "params": kwargs})
        return {"ok": True, "ts": ts, "channel": kwargs["channel"]}

    def conversations_replies(self, **kwargs: Any) -> list[dict[str, Any]]:
        thread = kwargs["ts"]
        return [{"messages": [{"ts": p["ts"], **p["params"]} for p in self.posts if p["ts"] == thread]}]

    def conversations_history(self, **kwargs: Any) -> list[dict[str, Any]]:
        return [{"messages": []}]


def line_replies_json(posts: list[dict[str, Any]]) -> str:
    """The replies (calls with a thread_ts) as chat.postMessage arguments."""
    replies = [p["params"] for p in posts if p["params"].get("thread_ts")]
    return json.dumps(replies, indent=2, ensure_ascii=False) + "\n"


def preferences_briefing(store, day: str, workspace_url: str):
    """PREFS_READER's briefing of `day`, built again by the stage (it must equal the stored one)."""
    from outropy_pipelines.stages.briefings import brief_day
    from outropy_pipelines.store.directory import read_directory

    stored = store.query("SELECT markdown FROM briefings WHERE day = ? AND user_id = ?", [day, PREFS_READER])
    (briefing,) = brief_day(store, read_directory(store), day, [PREFS_READER], workspace_url).briefings
    if not stored or briefing.markdown != stored[0]["markdown"]:
        raise RuntimeError(f"{PREFS_READER}'s briefing of {day} built again differs from the stored one")
    for needed in ("you watch ", "not shown (your limit: "):
        if needed not in briefing.markdown:
            raise RuntimeError(
                f"{PREFS_READER}'s briefing of {day} has no {needed!r}: change its preferences"
            )
    return briefing


def deliver_with_line_replies(store, settings, day: str) -> RecordingSlack:
    """What the deliver_briefings job does for PREFS_READER's DM with OUTROPY_FEEDBACK_SLACK_LINES on:
    send it, then post the hint and each line as replies in its thread."""
    from outropy_pipelines.adapters.slack_feedback import SlackFeedback
    from outropy_pipelines.adapters.slack_messenger import SlackMessenger
    from outropy_pipelines.defs.definitions import build_resources
    from outropy_pipelines.stages.delivery import deliver_all
    from outropy_pipelines.stages.feedback import FeedbackConfig, sync_slack

    client = RecordingSlack()
    now = dt.datetime.fromisoformat(DELIVERED_AT)
    policy = build_resources(settings)["delivery_policy"].policy(None, scheduled=True)
    report = deliver_all(store, {"slack": SlackMessenger(client)}, policy, now, [day], [PREFS_READER])
    if [o.status for o in report.outcomes] != ["sent"]:
        raise RuntimeError(f"the example delivery of {PREFS_READER}'s DM failed: {report.summary()}")
    config = FeedbackConfig(slack_lines=True)
    synced = sync_slack(store, SlackFeedback(client), config, users=[PREFS_READER], post_lines=True)
    if synced.errors or not synced.lines_posted:
        raise RuntimeError(f"no line replies posted: {synced.summary()}")
    return client


def feedback_email(store, day: str, email_message: Callable):
    """PREFS_READER's email of `day` with the feedback links, as the delivery job composes it."""
    from outropy_pipelines.stages.feedback import FeedbackConfig, email_links
    from outropy_pipelines.store import deliveries as ledger

    key = (day, PREFS_READER, "email")
    bodies = email_links(
        store, ledger.outgoing(store, [key]), FeedbackConfig(url=FEEDBACK_URL, secret=FEEDBACK_SECRET)
    )
    if not bodies[key].feedback_links:
        raise RuntimeError("the email has no feedback links")
    return bodies[key], email_message(bodies[key])


def endpoint_pages(store, link: str) -> tuple[str, str]:
    """The real `outropy feedback serve` endpoint on 127.0.0.1 (any free port): its page for a GET of
    `link` (an email link, sent to this server instead of FEEDBACK_URL's host), then for the POST
    of its button, which records the event."""
    from outropy_pipelines.cli.feedback_server import make_server

    token = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["t"][0]
    server = make_server(store, FEEDBACK_SECRET, port=0)
    base = f"http://127.0.0.1:{server.server_address[1]}/feedback"
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    try:
        with urllib.request.urlopen(f"{base}?t={urllib.parse.quote(token)}", timeout=30) as resp:
            asked = resp.read().decode("utf-8")
        form = urllib.parse.urlencode({"t": token}).encode()
        with urllib.request.urlopen(urllib.request.Request(base, data=form), timeout=30) as resp:
            recorded = resp.read().decode("utf-8")
    finally:
        server.shutdown()
        server.server_close()
    return asked, recorded


def cli_feedback(settings, day: str, line: int) -> str:
    """`outropy feedback --user PREFS_READER --date DAY --line N --useful`, in process; its output."""
    from outropy_pipelines.cli import main

    argv = ["feedback", "--user", PREFS_READER, "--date", day, "--line", str(line), "--useful"]
    saved = os.environ.get("OUTROPY_DUCKDB_PATH")
    os.environ["OUTROPY_DUCKDB_PATH"] = str(settings.duckdb_path)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            code = main(argv)
    finally:
        if saved is None:
            os.environ.pop("OUTROPY_DUCKDB_PATH", None)
        else:
            os.environ["OUTROPY_DUCKDB_PATH"] = saved
    if code != 0:
        raise RuntimeError(f"outropy {' '.join(argv)} exited {code}")
    return f"$ outropy {' '.join(argv)}\n{out.getvalue()}"


def next_day_text(store, workspace_url: str, cli_output: str) -> str:
    """The events, then PREFS_READER's briefing of NEXT_DAY without and with them (the user_briefings
    asset's `brief_day` with the feedback policy), and the metadata the asset records."""
    from outropy_pipelines.defs.metadata import feedback_metadata
    from outropy_pipelines.domain.reader_feedback import FeedbackPolicy
    from outropy_pipelines.stages.briefings import brief_day
    from outropy_pipelines.store.directory import read_directory

    directory = read_directory(store)
    (before,) = brief_day(store, directory, NEXT_DAY, [PREFS_READER], workspace_url).briefings
    report = brief_day(store, directory, NEXT_DAY, [PREFS_READER], workspace_url, None, FeedbackPolicy())
    (after,) = report.briefings
    applied = report.feedback.get(PREFS_READER)
    if applied is None or not applied.events:
        raise RuntimeError(f"{PREFS_READER}'s feedback changed nothing on {NEXT_DAY}")
    events = store.query(
        """SELECT CAST(day AS VARCHAR) AS day, position + 1 AS line, value, source, kind, channel_id
           FROM feedback_events WHERE reader_id = ? ORDER BY day, position""",
        [PREFS_READER],
    )
    out = [
        f"# {PREFS_READER}'s feedback and his next briefing. Written by scripts/render_examples.py.",
        "",
        cli_output.rstrip(),
        "",
        "# feedback_events: day, line, value, source (email: the link's button; cli: the command above), kind, channel",
    ]
    out += [
        "  ".join(str(e[k]) for k in ("day", "line", "value", "source", "kind", "channel_id")) for e in events
    ]
    for title, b in (("without feedback", before), ("with his feedback", after)):
        out += ["", f"# his briefing of {NEXT_DAY} {title}: line, section, score, kind, channel, text"]
        out += [
            f"{ln.position + 1:>2}  {ln.section:<18} {ln.score:+.3f}  {ln.kind:<12} {ln.channel_id}  {ln.text}"
            for ln in b.lines
        ]
        out.append(f"intro: {b.intro}")
    meta = feedback_metadata(applied)
    shown = {k: getattr(v, "data", getattr(v, "value", v)) for k, v in meta.items()}
    out += ["", f"# user_briefings metadata of {NEXT_DAY} / {PREFS_READER} (the feedback keys)"]
    out += json.dumps(shown, indent=2, ensure_ascii=False, sort_keys=True).splitlines()
    return "\n".join(out) + "\n"


def write_reader_examples(
    out: Path,
    store,
    settings,
    day: str,
    workspace_url: str,
    email_message: Callable,
    email_html: Callable,
    write: Callable[[Path, str], None],
) -> dict[str, str]:
    """Write the preferences and feedback examples; returns the endpoint's pages to draw ({png name:
    html}; the email's PNG is drawn from feedback-email.html)."""
    briefing = preferences_briefing(store, day, workspace_url)
    write(out / "preferences-briefing.md", briefing.markdown)
    model = briefing.model_dump(mode="json", exclude={"markdown", "html", "blocks_json"})
    write(out / "preferences-briefing.json", json.dumps(model, indent=2, ensure_ascii=False) + "\n")
    client = deliver_with_line_replies(store, settings, day)
    write(out / "feedback-slack-lines.json", line_replies_json(client.posts))
    body, msg = feedback_email(store, day, email_message)
    write(out / "feedback-email.html", email_html(msg))
    _, _, _, not_useful = body.feedback_links[EMAIL_MARK]
    asked, recorded = endpoint_pages(store, not_useful)
    cli = cli_feedback(settings, day, CLI_MARK + 1)
    write(out / "feedback-next-day.txt", next_day_text(store, workspace_url, cli))
    return {"feedback-page.png": asked, "feedback-recorded.png": recorded}
