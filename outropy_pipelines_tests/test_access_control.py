"""Nothing of a conversation reaches a reader who is not in it, whichever way its content moves.

One small workspace, run end to end through Dagster: a private channel, a DM and a group DM, a
private message unfurled in #general, a DM message shared into #general, a member who left a
private channel (but is still listed in groups.json), a person who joined a channel later; and the
entity summaries those items fold into. Every private message carries a marker; the tests read
every rendering of every briefing (Markdown, HTML, plain text, Slack blocks) and every summary.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import DagsterInstance

from outropy_pipelines.domain.entity_memory import visible_summaries
from outropy_pipelines.domain.membership import (
    ConversationAudiences,
    MembershipEvent,
    members_on_day,
    shared_message_origin,
    without_unshareable,
)
from outropy_pipelines.domain.models import Channel
from outropy_pipelines.pipeline_runner import PipelineRunner
from outropy_pipelines.store.entity_summaries import load_entity_summaries
from outropy_pipelines_tests.conftest import make_settings
from outropy_pipelines_tests.export_builder import ExportBuilder, ts_at

DAY1, DAY2 = "2026-11-03", "2026-11-04"
WS = "https://acme.slack.com"
ANN, BOB, CAT, DAN, EVE = "U1ANN", "U2BOB", "U3CAT", "U4DAN", "U5EVE"
EVERYONE = [ANN, BOB, CAT, DAN, EVE]
GENERAL, LEAD, OPS, DESIGN, DM, GDM = "C1GENERAL", "G1LEAD", "G2OPS", "C2DESIGN", "D1ANNCAT", "G3MPDM"

# marker -> who may see it (the members of the conversation it was written in, on that day)
LEAD_MARK, DM_MARK, GDM_MARK = "LEAKLEAD", "LEAKDM", "LEAKGDM"
OPS1_MARK, OPS2_MARK = "LEAKOPSONE", "LEAKOPSTWO"
ALLOWED = {
    LEAD_MARK: {ANN, BOB},
    DM_MARK: {ANN, CAT},
    GDM_MARK: {ANN, BOB, CAT},
    OPS1_MARK: {ANN, DAN},  # Dan is a member on day 1
    OPS2_MARK: {ANN},  # Dan left on day 2 (groups.json still lists him)
}


def _archive_url(channel: str, ts: str) -> str:
    return f"{WS}/archives/{channel}/p{ts.replace('.', '')}"


def build_workspace(root: Path) -> Path:
    b = ExportBuilder()
    for uid, name in [(ANN, "ann"), (BOB, "bob"), (CAT, "cat"), (DAN, "dan"), (EVE, "eve")]:
        b.user(uid, name)
    b.channel(GENERAL, "general", EVERYONE)
    b.channel(DESIGN, "design", [ANN, BOB, EVE])  # Eve is listed, but joins only on day 2
    b.channel(LEAD, "leadership", [ANN, BOB], kind="private")
    b.channel(OPS, "ops", [ANN, DAN], kind="private")  # stale snapshot: Dan left on day 2
    b.channel(GDM, "mpdm-ann--bob--cat-1", [ANN, BOB, CAT], kind="mpim")
    b.dm(DM, [ANN, CAT])

    lead_ts = ts_at(DAY1, 9)
    b.post(LEAD, lead_ts, ANN, f"Decision: {LEAD_MARK} we acquire Zephyr Labs at the agreed price.")
    dm_ts = ts_at(DAY1, 9, 5)
    b.post(DM, dm_ts, ANN, f"<@{CAT}> can you send me the {DM_MARK} salary bands by Friday?")
    b.post(GDM, ts_at(DAY1, 9, 10), ANN, f"<@{BOB}> can you book the {GDM_MARK} offsite venue for December?")
    b.post(OPS, ts_at(DAY1, 9, 15), ANN, f"<@{DAN}> can you rotate the {OPS1_MARK} certificates today?")
    # a private message unfurled in a public channel, and a DM message shared into it
    b.post(
        GENERAL,
        ts_at(DAY1, 10),
        BOB,
        f"Decision: we announce it at the all-hands <{_archive_url(LEAD, lead_ts)}>",
        attachments=[
            {
                "is_msg_unfurl": True,
                "channel_id": LEAD,
                "ts": lead_ts,
                "from_url": _archive_url(LEAD, lead_ts),
                "author_id": ANN,
                "text": f"Decision: {LEAD_MARK} we acquire Zephyr Labs at the agreed price.",
                "fallback": f"[Nov 3] Ann: Decision: {LEAD_MARK} we acquire Zephyr Labs",
            }
        ],
    )
    b.post(
        GENERAL,
        ts_at(DAY1, 11),
        CAT,
        "",
        attachments=[
            {
                "is_share": True,
                "channel_id": DM,
                "ts": dm_ts,
                "author_id": ANN,
                "text": f"<@{CAT}> can you send me the {DM_MARK} salary bands by Friday?",
                "fallback": f"Ann: can you send me the {DM_MARK} salary bands",
            }
        ],
    )
    b.post(GENERAL, ts_at(DAY1, 12), EVE, "Status: the new onboarding doc is live for everyone")
    b.post(DESIGN, ts_at(DAY1, 13), BOB, "Decision: the design review moves to Thursdays")
    # day 2: Dan leaves #ops, then something is decided there; Eve joins #design
    b.post(OPS, ts_at(DAY2, 8), DAN, f"<@{DAN}> has left the channel", subtype="group_leave")
    b.post(OPS, ts_at(DAY2, 9), ANN, f"Decision: {OPS2_MARK} we move the primary database tonight.")
    b.post(DESIGN, ts_at(DAY2, 8), EVE, f"<@{EVE}> has joined the channel", subtype="channel_join")
    b.post(DESIGN, ts_at(DAY2, 10), BOB, "Decision: the icon set freezes on Friday")
    return b.write(root)


@pytest.fixture(scope="module")
def workspace_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("access")
    export = build_workspace(tmp / "export")
    settings = make_settings(tmp, export=export, slack_workspace_url=WS)
    runner = PipelineRunner(settings, instance=DagsterInstance.ephemeral())
    summary = runner.run([DAY1, DAY2])
    assert summary.ok
    return runner.store


def _renderings(store) -> list[dict]:
    return store.query("SELECT day, user_id, markdown, html, plain_text, blocks_json FROM briefings")


def test_no_marker_reaches_a_reader_outside_its_conversation(workspace_run):
    rows = _renderings(workspace_run)
    assert {r["user_id"] for r in rows} == set(EVERYONE)
    seen: dict[str, set[str]] = {mark: set() for mark in ALLOWED}
    for r in rows:
        text = "\n".join(r[c] or "" for c in ("markdown", "html", "plain_text", "blocks_json"))
        for mark in ALLOWED:
            if mark in text:
                seen[mark].add(r["user_id"])
    for mark, allowed in ALLOWED.items():
        assert seen[mark] <= allowed, f"{mark} reached {seen[mark] - allowed}"
    # the test proves something: the members do get these items
    assert seen[DM_MARK] and seen[GDM_MARK] and seen[OPS1_MARK] and seen[OPS2_MARK]


def test_an_unfurled_or_shared_private_message_keeps_only_its_link_in_public(workspace_run):
    rows = workspace_run.query(
        "SELECT ts, clean_text FROM thread_messages WHERE channel_id = ? ORDER BY ts", [GENERAL]
    )
    texts = [r["clean_text"] for r in rows]
    assert not any(LEAD_MARK in t or DM_MARK in t for t in texts)
    assert any("[shared message: " + _archive_url(LEAD, ts_at(DAY1, 9)) + "]" in t for t in texts)
    assert any(t == "[shared message]" for t in texts)  # a share without a link: only that it was one
    # the public part of the message is still there for everyone
    assert any(t.startswith("Decision: we announce it at the all-hands") for t in texts)


def test_a_member_who_left_gets_nothing_from_the_day_they_left(workspace_run):
    dan = {
        r["day"].isoformat() if hasattr(r["day"], "isoformat") else str(r["day"]): r["markdown"]
        for r in workspace_run.query("SELECT day, markdown FROM briefings WHERE user_id = ?", [DAN])
    }
    assert OPS1_MARK in dan[DAY1]  # still a member (and asked) on day 1
    assert OPS2_MARK not in dan[DAY2]
    ann = workspace_run.query("SELECT markdown FROM briefings WHERE user_id = ? AND day = ?", [ANN, DAY2])
    assert OPS2_MARK in ann[0]["markdown"]


def test_a_member_who_joined_later_gets_the_channel_from_that_day(workspace_run):
    lines = workspace_run.query(
        "SELECT CAST(day AS VARCHAR) AS day, text FROM briefing_lines WHERE user_id = ? AND channel_id = ?",
        [EVE, DESIGN],
    )
    by_day = {r["day"]: r["text"] for r in lines}
    assert DAY1 not in by_day  # listed in channels.json, but not there yet on day 1
    assert "icon set" in by_day[DAY2]


def test_summaries_are_kept_per_visibility_scope(workspace_run):
    for day in (DAY1, DAY2):
        summaries = load_entity_summaries(workspace_run, day)
        assert summaries
        for s in summaries:
            held = s.summary + " ".join(o.title for o in s.open_items)
            for mark in ALLOWED:
                if mark in held:
                    assert s.scope != "public", f"{mark} in the public summary of {s.entity_id}"
            assert all(o.channel_id == s.scope for o in s.open_items if s.scope != "public")
        # the people asked in the DM and the group DM hold those asks apart from their public items
        if day == DAY1:
            assert DM in {s.scope for s in summaries if s.entity_id == f"person:{CAT}"}
            assert GDM in {s.scope for s in summaries if s.entity_id == f"person:{BOB}"}
        # a reader is shown only the scopes they can see
        eve_visible = {GENERAL, DESIGN}
        shown = visible_summaries(summaries, eve_visible)
        assert all(s.scope in ("public", *eve_visible) for s in shown)
        assert not any(mark in s.summary for s in shown for mark in ALLOWED)


# --- the rules on their own ---------------------------------------------------------------------


def test_members_on_day_follows_joins_and_leaves():
    channels = {
        "G1": Channel(channel_id="G1", name="ops", kind="private", members=["A", "B"]),
        "C1": Channel(channel_id="C1", name="gen", kind="public", members=["A"]),
    }
    events = [
        MembershipEvent("G1", "B", "2026-11-04", "1762214400.000100", "group_leave"),
        MembershipEvent("G1", "C", "2026-11-03", "1762128000.000100", "group_join"),
        MembershipEvent("G1", "C", "2026-11-05", "1762300800.000100", "group_leave"),
        MembershipEvent("G1", "C", "2026-11-05", "1762300900.000100", "group_join"),
        MembershipEvent("C1", "D", "2026-11-06", "1762387200.000100", "channel_leave"),
        MembershipEvent("C1", "E", "2026-11-06", "1762387200.000100", "channel_join"),
    ]
    on = {day: members_on_day(day, channels, events) for day in ("2026-11-02", "2026-11-04", "2026-11-06")}
    assert on["2026-11-02"]["G1"].members == ["A", "B"]  # C not there yet; B still there
    assert on["2026-11-04"]["G1"].members == ["A", "C"]  # B left that day; C joined the day before
    assert on["2026-11-06"]["G1"].members == ["A", "C"]  # left and came back on the 5th
    assert on["2026-11-02"]["C1"].members == ["A", "D"]  # D left later, so was there before
    assert on["2026-11-06"]["C1"].members == ["A", "E"]
    assert members_on_day("2026-11-02", channels, [])["G1"] is channels["G1"]


def test_shared_content_is_shown_only_where_its_audience_can_see_it():
    audiences = ConversationAudiences(
        [
            Channel(channel_id="C1", name="gen", kind="public", members=["A", "B", "C"]),
            Channel(channel_id="G1", name="lead", kind="private", members=["A", "B"]),
            Channel(channel_id="G2", name="lead-core", kind="private", members=["A"]),
            Channel(channel_id="D1", name="D1", kind="im", members=["A", "C"]),
        ]
    )
    assert audiences.may_show_in("C1", "G1")  # public anywhere
    assert audiences.may_show_in("G1", "G1")
    assert audiences.may_show_in("G1", "G2")  # everyone in G2 is in G1
    assert not audiences.may_show_in("G1", "C1") and not audiences.may_show_in("G2", "G1")
    assert not audiences.may_show_in("D1", "G1") and not audiences.may_show_in("GUNKNOWN", "G2")

    unfurl = {"is_msg_unfurl": True, "channel_id": "G1", "ts": "1.2", "text": "secret", "from_url": "x"}
    preview = {"title": "Example Domain", "original_url": "https://example.com", "text": "preview"}
    linked = {"from_url": f"{WS}/archives/G1/p1762128000000100", "text": "secret too"}
    assert shared_message_origin(unfurl) == "G1" and shared_message_origin(linked) == "G1"
    assert shared_message_origin(preview) is None and shared_message_origin("junk") is None
    record = {"text": "fyi", "attachments": [unfurl, preview, linked]}
    shown = without_unshareable(record, "C1", audiences)
    assert shown["attachments"][0] == {"fallback": "[shared message]"}
    assert shown["attachments"][1] is preview
    assert shown["attachments"][2] == {"fallback": f"[shared message: {linked['from_url']}]"}
    assert record["attachments"][0] is unfurl  # the stored record is not changed
    assert without_unshareable(record, "G1", audiences) is record  # members see it whole
