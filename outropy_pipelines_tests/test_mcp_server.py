"""`outropy mcp`: the read-only MCP server, driven by the official SDK's own client over stdio.

The store is the access-control workspace of `test_access_control` (a private channel, a DM, a
group DM, a member who left #ops on day 2, a member who joined #design on day 2; every private
message carries a marker), run end to end through Dagster. The server is the real command,
`python -m outropy_pipelines.cli mcp --user U`, spawned by `mcp.Client`; every tool is called for
several readers and every answer is checked against the stored rows and the markers' audiences.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance
from mcp import Client, StdioServerParameters

from outropy_pipelines.pipeline_runner import PipelineRunner
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines_tests.conftest import make_settings
from outropy_pipelines_tests.test_access_control import (
    ALLOWED,
    ANN,
    BOB,
    CAT,
    DAN,
    DAY1,
    DAY2,
    DM,
    DM_MARK,
    EVE,
    LEAD,
    LEAD_MARK,
    OPS1_MARK,
    OPS2_MARK,
    WS,
    build_workspace,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("mcp")
    settings = make_settings(tmp, export=build_workspace(tmp / "export"), slack_workspace_url=WS)
    summary = PipelineRunner(settings, instance=DagsterInstance.ephemeral()).run([DAY1, DAY2])
    assert summary.ok
    return settings.duckdb_path


def _params(db: Path, user: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "outropy_pipelines.cli", "mcp", "--user", user],
        env={"OUTROPY_DUCKDB_PATH": str(db), "OUTROPY_SLACK_WORKSPACE_URL": WS, "OUTROPY_TIMEZONE": "UTC"},
        cwd=str(REPO),
    )


def _answer(result: Any) -> Any:
    """A tool result as the model reads it: its text (JSON decoded when it is JSON), or the error."""
    text = "".join(getattr(c, "text", "") for c in result.content)
    if result.is_error:
        return {"error": text}
    if result.structured_content is not None:
        content = result.structured_content
        return content.get("result", content) if set(content) == {"result"} else content
    return text


def session(db: Path, user: str, calls: list[tuple[str, dict]], between=None) -> list[Any]:
    """Start the server for `user`, make `calls` in order through the SDK's client (running
    `between(i)` before call i when given), and return their answers."""

    async def run() -> list[Any]:
        out = []
        async with Client(_params(db, user), read_timeout_seconds=60) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == {"my_briefing", "open_for_me", "channel_decisions", "search_items"}
            for i, (name, args) in enumerate(calls):
                if between is not None:
                    between(i)
                out.append(_answer(await client.call_tool(name, args)))
        return out

    return asyncio.run(run())


def _stored_markdown(db: Path, day: str, user: str) -> str:
    rows = DuckDBStore(db, read_only=True).query(
        "SELECT markdown FROM briefings WHERE day = ? AND user_id = ?", [day, user]
    )
    return rows[0]["markdown"]


def _every_call() -> list[tuple[str, dict]]:
    return [
        ("my_briefing", {"day": DAY1}),
        ("my_briefing", {"day": DAY2}),
        ("open_for_me", {}),
        ("open_for_me", {"as_of": DAY1}),
        ("channel_decisions", {"channel": "general", "start": DAY1, "end": DAY2}),
        ("channel_decisions", {"channel": "#design", "start": DAY1, "end": DAY2}),
        ("channel_decisions", {"channel": "leadership", "start": DAY1, "end": DAY2}),
        ("channel_decisions", {"channel": LEAD, "start": DAY1, "end": DAY2}),
        ("channel_decisions", {"channel": "ops", "start": DAY1, "end": DAY2}),
        ("channel_decisions", {"channel": DM}),
        ("search_items", {"query": "leak"}),
        ("search_items", {"query": "decision"}),
        ("search_items", {"query": "a", "limit": 50}),
        ("search_items", {"query": "e", "kind": "decision", "start": DAY1, "end": DAY2}),
    ]


def test_the_reader_gets_their_briefing_and_the_channels_decisions(db):
    briefing1, briefing2, latest, design, general, nowhere = session(
        db,
        ANN,
        [
            ("my_briefing", {"day": DAY1}),
            ("my_briefing", {"day": DAY2}),
            ("my_briefing", {}),
            ("channel_decisions", {"channel": "#design", "start": DAY1, "end": DAY2}),
            ("channel_decisions", {"channel": "general", "start": DAY1, "end": DAY1}),
            ("my_briefing", {"day": "2026-10-01"}),
        ],
    )
    assert briefing1 == _stored_markdown(db, DAY1, ANN)
    assert briefing2 == _stored_markdown(db, DAY2, ANN) == latest
    assert briefing1 != briefing2
    assert design["channel"] == "#design" and (design["start"], design["end"]) == (DAY1, DAY2)
    titles = [d["title"] for d in design["decisions"]]
    assert any("icon set freezes" in t for t in titles) and any("design review moves" in t for t in titles)
    assert design["decisions"][0]["day"] == DAY2  # newest first
    for d in design["decisions"]:
        assert d["kind"] == "decision"
        assert d["permalinks"] and all(p.startswith(f"{WS}/archives/C2DESIGN/p") for p in d["permalinks"])
    assert any("all-hands" in d["title"] for d in general["decisions"])
    assert all(d["day"] == DAY1 for d in general["decisions"])
    assert "error" in nowhere and f"{DAY1} .. {DAY2}" in nowhere["error"]


def test_what_is_open_for_me_has_the_owner_and_the_asker_with_age_and_links(db):
    [cat] = session(db, CAT, [("open_for_me", {})])
    [ann] = session(db, ANN, [("open_for_me", {"as_of": DAY2})])
    bands = [o for o in cat["items"] if DM_MARK in o["title"]]
    assert cat["as_of"] == DAY2 and len(bands) == 1
    item = bands[0]
    assert item["your_role"] == ["owner"] and item["asked_by"] == "Ann"
    assert item["open_since"] == DAY1 and item["age_days"] == 1
    assert item["permalinks"] and item["permalinks"][0].startswith(f"{WS}/archives/{DM}/p")
    assert item["channel"] == "DM with Ann"
    # Ann asked it: it is open for her too, as the asker
    asked = [o for o in ann["items"] if o["item_id"] == item["item_id"]]
    assert asked and asked[0]["your_role"] == ["asked"]
    assert all(o["your_role"] for o in ann["items"] + cat["items"])


def test_search_finds_a_known_title_within_what_the_reader_may_see(db):
    ann, capped, bob, typed = session(
        db,
        ANN,
        [
            ("search_items", {"query": "ZEPHYR labs"}),
            ("search_items", {"query": "e", "limit": 2}),
            ("search_items", {"query": "icon SET", "kind": "decision", "start": DAY2, "end": DAY2}),
            ("search_items", {"query": "icon set", "kind": "decision", "start": DAY1, "end": DAY1}),
        ],
    )
    assert ann["count"] == 1 and LEAD_MARK in ann["items"][0]["title"]
    assert ann["items"][0]["channel"] == "#leadership"
    assert ann["items"][0]["permalinks"][0].startswith(f"{WS}/archives/{LEAD}/p")
    assert capped["count"] == 2 and capped["truncated"] is True
    assert bob["count"] == 1 and bob["items"][0]["day"] == DAY2
    assert typed["count"] == 0  # not on day 1
    # Bob is in #leadership too; Cat is not, and finds nothing of it
    [bob_search] = session(db, BOB, [("search_items", {"query": "zephyr"})])
    [cat_search] = session(db, CAT, [("search_items", {"query": "zephyr"})])
    assert bob_search["count"] == 1 and cat_search["count"] == 0


def test_a_channel_the_reader_may_not_see_is_answered_as_an_unknown_one(db):
    by_id, by_name, unknown, unknown_id, ops = session(
        db,
        EVE,
        [
            ("channel_decisions", {"channel": LEAD}),
            ("channel_decisions", {"channel": "leadership", "start": DAY1, "end": DAY2}),
            ("channel_decisions", {"channel": "nosuchchannel", "start": DAY1, "end": DAY2}),
            ("channel_decisions", {"channel": "G9NOPE"}),
            ("channel_decisions", {"channel": "ops", "start": DAY1, "end": DAY2}),
        ],
    )
    assert by_id["error"].replace(LEAD, "X") == unknown_id["error"].replace("G9NOPE", "X")
    assert by_name["error"].replace("leadership", "X") == unknown["error"].replace("nosuchchannel", "X")
    assert ops["error"].replace("ops", "X") == unknown["error"].replace("nosuchchannel", "X")
    # Dan was in #ops on day 1 and left on day 2: he sees its day-1 items only
    [dan_ops] = session(db, DAN, [("search_items", {"query": "leak"})])
    titles = " ".join(i["title"] for i in dan_ops["items"])
    assert OPS1_MARK in titles and OPS2_MARK not in titles


@pytest.mark.parametrize("reader", [ANN, BOB, CAT, DAN, EVE])
def test_no_tool_returns_anything_of_a_conversation_the_reader_is_not_in(db, reader):
    answers = session(db, reader, _every_call())
    text = json.dumps(answers)
    for mark, allowed in ALLOWED.items():
        if reader not in allowed:
            assert mark not in text, f"{mark} reached {reader}"
    # and the tools do answer this reader: a briefing, public decisions, search results
    assert answers[1] == _stored_markdown(db, DAY2, reader)
    assert answers[4]["decisions"] and answers[12]["items"]
    if reader == ANN:  # a member of everything sees every marker somewhere
        assert all(mark in text for mark in ALLOWED)


def test_an_unknown_reader_is_refused_at_start(db):
    proc = subprocess.run(
        [sys.executable, "-m", "outropy_pipelines.cli", "mcp", "--user", "U999NOBODY"],
        env={**os.environ, "OUTROPY_DUCKDB_PATH": str(db)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("outropy: unknown user 'U999NOBODY': no user id, name or real name")
    missing = subprocess.run(
        [sys.executable, "-m", "outropy_pipelines.cli", "mcp", "--user", ANN],
        env={**os.environ, "OUTROPY_DUCKDB_PATH": str(db.with_name("absent.duckdb"))},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "no DuckDB file at" in missing.stderr
    assert not db.with_name("absent.duckdb").exists()


def test_the_pipeline_writes_while_the_server_runs(db, tmp_path):
    """The server holds no connection between calls: a writer gets the file, and the next call
    sees what it committed."""
    copy = tmp_path / "outropy.duckdb"
    shutil.copy(db, copy)
    writer = DuckDBStore(copy)
    changed = _stored_markdown(copy, DAY2, BOB) + "\n\nrewritten while the server ran\n"
    written: list[float] = []

    def between(i: int) -> None:
        if i == 1:  # after the first call, with the server up: write as the pipeline does
            started = time.monotonic()
            writer.execute(
                "UPDATE briefings SET markdown = ? WHERE day = ? AND user_id = ?", [changed, DAY2, BOB]
            )
            written.append(time.monotonic() - started)

    before, after = session(
        copy, BOB, [("my_briefing", {"day": DAY2}), ("my_briefing", {"day": DAY2})], between
    )
    assert before != changed and after == changed
    assert written and written[0] < 10  # not held up by the server


def test_on_the_sample_a_planted_decision_is_found_and_the_private_secret_reaches_only_members(sample_run):
    """The shared sample store: a planted public decision with its permalink, and the private
    #leadership secret only for its members, through every tool."""
    key = sample_run.answer_key
    db = sample_run.settings.duckdb_path
    planted = next(p for p in key["planted_items"] if p["kind"] == "decision" and p["id"] == "P002")
    secret = key["private_secret"]
    first, last = sample_run.days[0], sample_run.days[-1]
    calls = [
        ("channel_decisions", {"channel": "#engineering", "start": planted["day"], "end": planted["day"]}),
        ("channel_decisions", {"channel": "leadership", "start": first, "end": last}),
        ("channel_decisions", {"channel": secret["channel_id"], "start": first, "end": last}),
        ("channel_decisions", {"channel": "no-such-channel", "start": first, "end": last}),
        ("search_items", {"query": "zephyr labs"}),
        ("search_items", {"query": "per-icon imports", "kind": "decision"}),
        ("my_briefing", {"day": last}),
        ("open_for_me", {}),
        ("search_items", {"query": "e", "limit": 50}),
    ]
    outsider = next(u for u in ("U002BOB", "U003CAROL", "U004DAN") if u not in secret["members"])
    for reader in (secret["members"][0], outsider):
        answers = session(db, reader, calls)
        engineering, by_name, by_id, unknown, zephyr, icons, briefing, _, _ = answers
        source = planted["sources"][0]
        link = f"{WS}/archives/{source['channel_id']}/p{source['ts'].replace('.', '')}"
        assert any(link in d["permalinks"] for d in engineering["decisions"]), engineering
        assert icons["count"] >= 1 and any("per-icon imports" in i["title"] for i in icons["items"])
        assert briefing == _stored_markdown(db, last, reader)
        text = json.dumps(answers)
        if reader in secret["members"]:
            assert zephyr["count"] == 1 and by_name["count"] == 1 and by_id["count"] == 1
            assert secret["phrase"] in zephyr["items"][0]["title"]
        else:
            assert "PRIVATE-SECRET" not in text and "Zephyr" not in text
            assert zephyr["count"] == 0
            unknown_answer = unknown["error"].replace("no-such-channel", "X")
            assert by_name["error"].replace("leadership", "X") == unknown_answer
            assert by_id["error"].replace(secret["channel_id"], "X") == unknown_answer
