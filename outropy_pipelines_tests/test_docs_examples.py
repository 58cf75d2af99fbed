"""The README's examples (docs/examples/, written by scripts/render_examples.py) stay true.

No pipeline run (that is the script's job, seconds of Dagster): the committed briefing
(`briefing.json`, the model the pipeline built) is rendered again by today's code and sent through
the same delivery functions the script used (the Slack messenger's payloads, the mailer's
composer); the result must equal the committed files. A change of rendering or delivery format
therefore fails here until `.venv/bin/python scripts/render_examples.py` is run again. Also: every
docs/examples file the README names exists (and every file there is named), the README's excerpts
are lines of the files they quote, the Slack payloads have Block Kit's shape and limits, and the
MCP transcript's briefing is the committed Markdown. The same for the preferences and feedback
examples of `scripts/render_examples_readers.py`: Diego's briefing (`preferences-briefing.json`)
rendered again, its Slack line replies posted again through `SlackFeedback` on a recording client,
its email composed again with the signed links.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from outropy_pipelines.domain.briefing_rendering import render_into, render_plain_text
from outropy_pipelines.domain.models import Briefing

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "docs" / "examples"
README = (REPO / "README.md").read_text(encoding="utf-8")


def _script(name: str = "render_examples"):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _script()
readers = _script("render_examples_readers")


def _text(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def briefing() -> Briefing:
    """The committed briefing model, rendered by the current code."""
    b = render_into(Briefing.model_validate_json(_text("briefing.json")))
    assert (b.day, b.user_id) == (script.DAY, script.READER)
    return b


def test_every_example_the_readme_names_exists_and_every_example_is_named():
    named = set(re.findall(r"docs/examples/([\w.-]+\w)", README))
    assert {"briefing-email.png", "briefing-slack.json", "briefing.md", "mcp-session.json"} <= named
    missing = sorted(n for n in named if not (EXAMPLES / n).is_file())
    assert missing == [], f"the README names docs/examples files that do not exist: {missing}"
    unnamed = sorted(p.name for p in EXAMPLES.iterdir() if p.name not in named)
    assert unnamed == [], f"docs/examples files the README does not mention: {unnamed}"
    assert "scripts/render_examples.py" in README
    png = (EXAMPLES / "briefing-email.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_the_committed_markdown_and_slack_dm_are_what_the_code_renders(briefing):
    assert briefing.markdown == _text("briefing.md")
    assert "\n_Partial: " in briefing.markdown and "\n## Waiting on you\n" in briefing.markdown
    sent = script.slack_json(script.outgoing_of(briefing, "slack"))
    assert sent == _text("briefing-slack.json"), (
        "the Slack blocks the code renders changed: run .venv/bin/python scripts/render_examples.py"
    )


def test_the_committed_email_is_what_the_mailer_composes(briefing):
    headers = _text("briefing-email-headers.txt")
    address = re.search(r"^To: .*<([^>]+)>$", headers, re.M)
    assert address is not None
    outgoing = script.outgoing_of(briefing, "email", address.group(1), render_plain_text(briefing))
    msg = script.email_message(outgoing)
    assert script.email_html(msg) == _text("briefing-email.html"), (
        "the email's HTML changed: run .venv/bin/python scripts/render_examples.py"
    )
    assert script.email_headers(msg) == headers


def test_the_slack_payloads_have_block_kit_shape_and_limits():
    payloads = json.loads(_text("briefing-slack.json"))
    assert isinstance(payloads, list) and payloads
    for payload in payloads:
        assert set(payload) == {"text", "blocks"} and payload["text"].strip()
        blocks = payload["blocks"]
        assert 0 < len(blocks) <= 50
        ids = [b["block_id"] for b in blocks]
        assert len(ids) == len(set(ids)) and all(0 < len(i) <= 255 for i in ids)
        for b in blocks:
            assert b["type"] in {"header", "section", "context", "divider"}, b
            if b["type"] == "header":
                assert b["text"]["type"] == "plain_text" and 0 < len(b["text"]["text"]) <= 150
            elif b["type"] == "section":
                assert b["text"]["type"] == "mrkdwn" and 0 < len(b["text"]["text"]) <= 3000
            elif b["type"] == "context":
                assert 0 < len(b["elements"]) <= 10
                assert all(e["type"] == "mrkdwn" and 0 < len(e["text"]) <= 3000 for e in b["elements"])
    first = [b["block_id"] for b in payloads[0]["blocks"]]
    assert first[:3] == ["briefing-header", "briefing-partial", "briefing-intro"]


def test_the_mcp_transcript_lists_the_tools_and_serves_the_committed_briefing():
    session = json.loads(_text("mcp-session.json"))
    exchanges = session["exchanges"]
    listed = exchanges[0]
    assert listed["request"]["method"] == "tools/list"
    assert {t["name"] for t in listed["result"]["tools"]} == {
        "my_briefing",
        "open_for_me",
        "channel_decisions",
        "search_items",
    }
    calls = [(e["request"]["params"]["name"], e["request"]["params"]["arguments"]) for e in exchanges[1:]]
    assert calls == [(name, args) for name, args in script.MCP_CALLS]
    briefing = exchanges[1]["result"]
    assert not briefing.get("isError") and briefing["structuredContent"]["result"] == _text("briefing.md")


def _excerpts() -> list[tuple[str, str]]:
    """README blocks marked `<!-- excerpt of docs/examples/NAME -->` just above a fenced block."""
    pattern = re.compile(r"<!-- excerpt of docs/examples/([\w.-]+) -->\n```[\w-]*\n(.*?)\n```", re.S)
    return pattern.findall(README)


def test_the_readmes_excerpts_are_lines_of_the_files_they_quote():
    excerpts = _excerpts()
    assert {name for name, _ in excerpts} >= {"briefing.md", "briefing-slack.json", "delivery-schedule.txt"}
    for name, block in excerpts:
        lines = {line.strip() for line in _text(name).splitlines()}
        for line in block.splitlines():
            line = line.strip()
            if line and line not in ("...", "…"):
                assert line in lines, (
                    f"README's excerpt of docs/examples/{name} has a line that is not there: {line}"
                )


# -- the preferences and feedback examples (Diego) ------------------------------------------------


@pytest.fixture(scope="module")
def diego() -> Briefing:
    b = render_into(Briefing.model_validate_json(_text("preferences-briefing.json")))
    assert (b.day, b.user_id) == (script.DAY, readers.PREFS_READER)
    return b


def test_the_preferences_example_is_what_the_code_renders(diego):
    assert diego.markdown == _text("preferences-briefing.md")
    assert "you watch Kemi Adeyemi" in diego.markdown and 'you watch "helm"' in diego.markdown
    assert "more items not shown (your limit: 8 lines)." in diego.intro
    assert "#general" not in diego.markdown  # muted
    assert "max_lines: 8" in _text("subscriptions.yaml")


def test_the_slack_line_replies_are_what_slack_feedback_posts(diego):
    from outropy_pipelines.adapters.slack_feedback import HINT, HINT_POSITION, SlackFeedback, line_text

    committed = json.loads(_text("feedback-slack-lines.json"))
    parent = committed[0]["thread_ts"]
    client = readers.RecordingSlack()
    slack = SlackFeedback(client)
    where = (readers.DM_CHANNEL, parent, diego.day, diego.user_id)
    slack.post(*where, HINT_POSITION, HINT)
    for ln in diego.lines:
        slack.post(*where, ln.position, line_text(ln.position + 1, ln.text, ln.reason), ln.item_id)
    assert readers.line_replies_json(client.posts) == _text("feedback-slack-lines.json"), (
        "the Slack line replies changed: run .venv/bin/python scripts/render_examples.py"
    )
    assert len(committed) == len(diego.lines) + 1 and all(len(r["text"]) <= 3000 for r in committed)


def test_the_feedback_email_is_what_the_mailer_composes_with_the_links(diego):
    from dataclasses import replace
    from urllib.parse import quote

    from outropy_pipelines.domain.reader_feedback import NOT_USEFUL, USEFUL, feedback_token, read_token

    def url(ln, value: str) -> str:
        token = feedback_token(
            readers.FEEDBACK_SECRET, diego.user_id, diego.day, ln.position, value, ln.item_id
        )
        return f"{readers.FEEDBACK_URL}/feedback?t={quote(token)}"

    links = tuple((ln.position + 1, ln.text, url(ln, USEFUL), url(ln, NOT_USEFUL)) for ln in diego.lines)
    outgoing = replace(script.outgoing_of(diego, "email", "diego@example.org"), feedback_links=links)
    html = script.email_html(script.email_message(outgoing))
    assert html == _text("feedback-email.html"), (
        "the email with feedback links changed: run .venv/bin/python scripts/render_examples.py"
    )
    assert "Was it useful?" in html and readers.FEEDBACK_SECRET not in html
    token = links[0][3].split("?t=")[1].replace("%3D", "=")
    assert read_token(readers.FEEDBACK_SECRET, token) is not None
    assert (EXAMPLES / "feedback-page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_next_day_example_names_the_events_and_the_metadata():
    text = _text("feedback-next-day.txt")
    assert f"$ outropy feedback --user {readers.PREFS_READER} --date {script.DAY} --line" in text
    assert "not_useful  email" in text and "useful  cli" in text
    assert '"feedback_events": 2' in text and '"feedback_demoted_lines"' in text
