"""The README's examples (docs/examples/, written by scripts/render_examples.py) stay true.

No pipeline run (that is the script's job, seconds of Dagster): the committed briefing
(`briefing.json`, the model the pipeline built) is rendered again by today's code and sent through
the same delivery functions the script used (the Slack messenger's payloads, the mailer's
composer); the result must equal the committed files. A change of rendering or delivery format
therefore fails here until `.venv/bin/python scripts/render_examples.py` is run again. Also: every
docs/examples file the README names exists (and every file there is named), the README's excerpts
are lines of the files they quote, the Slack payloads have Block Kit's shape and limits, and the
MCP transcript's briefing is the committed Markdown.
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


def _script():
    spec = importlib.util.spec_from_file_location("render_examples", REPO / "scripts" / "render_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _script()


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
