"""The top of a briefing: "Waiting on you", "You're waiting on" (open items carried across days, with
their age) and the "Partial:" line of a day whose data is incomplete."""

from __future__ import annotations

import json
import shutil

from dagster import DagsterInstance

from outropy_pipelines.domain.briefing_index import BriefingIndex
from outropy_pipelines.domain.briefing_ranking import reader_context
from outropy_pipelines.domain.briefing_rendering import (
    render_plain_text,
    render_slack_blocks,
    split_slack_messages,
)
from outropy_pipelines.domain.briefing_waiting import age_days, partial_note, waiting_for
from outropy_pipelines.domain.models import Channel, Item, OpenItem, SourceRef, User
from outropy_pipelines.pipeline_runner import PipelineRunner
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.reference_ranking import build_briefing

DAY = "2026-11-05"
WS = "https://acme.slack.com"
ANN = User(user_id="UANN", name="ann", real_name="Ann")
NAMES = {"UANN": "Ann", "UBOB": "Bob", "UCAT": "Cat"}
CHANNELS = {
    c.channel_id: c
    for c in [
        Channel(channel_id="CENG", name="eng", kind="public", members=["UANN", "UBOB"]),
        Channel(channel_id="GHR", name="hr", kind="private", members=["UBOB", "UCAT"]),
    ]
}


def _open(
    item_id: str,
    since: str,
    owners: list[str],
    ts: str,
    kind: str = "action_item",
    channel: str = "CENG",
) -> OpenItem:
    return OpenItem(
        item_id=item_id,
        kind=kind,
        title=f"title {item_id}",
        channel_id=channel,
        owners=owners,
        since_day=since,
        last_seen_day=since,
        sources=[SourceRef(channel_id=channel, ts=ts)],
    )


def _reader(uid: str = "UANN"):
    return reader_context(uid, CHANNELS.values())


def test_age_is_whole_days_from_first_seen_to_the_briefing_day():
    assert age_days("2026-11-02", DAY) == 3
    assert age_days(DAY, DAY) == 0
    assert age_days("2026-10-31", "2026-11-01") == 1


def test_waiting_on_you_and_you_are_waiting_on_selection():
    items = [
        _open("mine", "2026-11-02", ["UANN"], "100.1"),  # asked of Ann by Bob, 3 days ago
        _open("committed", "2026-11-04", ["UANN"], "100.2", kind="question"),  # Ann's own
        _open("asked", "2026-11-03", ["UBOB"], "100.3", kind="question"),  # Ann asked Bob
        _open("nobody", "2026-11-04", [], "100.4", kind="question"),  # Ann asked, nobody owns it
        _open("today", DAY, ["UANN"], "100.5"),  # first seen today: in "Needs you", not here
        _open("blocker", "2026-11-02", ["UANN"], "100.6", kind="blocker"),  # not an ask
        _open("others", "2026-11-02", ["UBOB"], "100.7"),  # Cat asked Bob: not Ann's business
        _open("secret", "2026-11-02", ["UANN"], "100.8", channel="GHR"),  # Ann may not see it
        _open("mine", "2026-11-02", ["UANN"], "100.1"),  # the same item in another entity's memory
        _open("twin", "2026-11-02", ["UANN"], "100.1"),  # another id, the same message
    ]
    authors = {
        ("CENG", "100.1"): "UBOB",
        ("CENG", "100.2"): "UANN",
        ("CENG", "100.3"): "UANN",
        ("CENG", "100.4"): "UANN",
        ("CENG", "100.7"): "UCAT",
    }
    w = waiting_for(DAY, _reader(), items, authors, NAMES)
    got = [(x.section, x.item.item_id, x.age_days, x.reason) for x in w.lines]
    assert got == [
        ("waiting_on_you", "mine", 3, "open 3 days · asked by Bob"),
        ("waiting_on_you", "committed", 1, "open 1 day"),
        ("waiting_on_others", "asked", 2, "open 2 days · waiting on Bob"),
        ("waiting_on_others", "nobody", 1, "open 1 day · nobody assigned"),
    ]
    assert w.more == {}
    assert w.ids == {"mine", "committed", "asked", "nobody"}
    # Bob sees the ask Ann is waiting on as waiting on him
    bob = waiting_for(DAY, _reader("UBOB"), items, authors, NAMES)
    assert [(x.section, x.item.item_id) for x in bob.lines if x.item.item_id == "asked"] == [
        ("waiting_on_you", "asked")
    ]


def test_each_section_shows_the_oldest_five_and_counts_the_rest():
    items = [_open(f"i{n}", f"2026-11-0{n}", ["UANN"], f"200.{n}") for n in range(1, 5)]
    items += [_open(f"j{n}", "2026-10-30", ["UANN"], f"300.{n}") for n in range(3)]
    w = waiting_for(DAY, _reader(), items, {}, NAMES)
    assert [x.item.item_id for x in w.lines] == ["j0", "j1", "j2", "i1", "i2"]
    assert w.lines[0].reason == "open 6 days"
    assert w.more == {"waiting_on_you": 2}
    # the two not shown are still "shown" for the ranked sections: counted under "+2 more"
    assert {"i3", "i4"} <= w.ids


def test_partial_note_says_only_what_applies():
    assert partial_note(0, 0, 0) == ""
    assert partial_note(2, 3, 5) == (
        "Partial: 2 conversations could not be read, 3 threads could not be classified (LLM errors), "
        "5 records quarantined on ingest."
    )
    assert partial_note(0, 1, 0) == "Partial: 1 thread could not be classified (LLM errors)."
    assert (
        partial_note(1, 0, 1) == "Partial: 1 conversation could not be read, 1 record quarantined on ingest."
    )


def _day_item(item_id: str, ts: str, kind: str = "action_item", owners=("UANN",)) -> Item:
    return Item(
        day=DAY,
        item_id=item_id,
        thread_id=f"CENG:{ts}",
        channel_id="CENG",
        kind=kind,
        title=f"today {item_id}",
        owners=list(owners),
        status="open",
        provider="local",
        prompt_version="t",
        sources=[SourceRef(channel_id="CENG", ts=ts)],
    )


def test_waiting_sections_come_first_and_win_over_the_ranked_sections():
    waiting = [_open(f"w{n}", "2026-11-02", ["UANN"], f"400.{n}") for n in range(7)]
    waiting.append(_open("asked", "2026-11-03", ["UBOB"], "500.1", kind="question"))
    items = [
        _day_item("w0", "400.0"),  # the same item, active again today: shown once, above
        _day_item("other-id", "400.1"),  # other id, same message as a waiting item: dropped
        _day_item("w6", "400.6"),  # counted under "+2 more": not shown again below
        _day_item("fresh", "600.1"),  # a new ask of today: in "Needs you"
    ]
    authors = {("CENG", "500.1"): "UANN"}
    authors.update({("CENG", f"400.{n}"): "UBOB" for n in range(7)})
    index = BriefingIndex(DAY, items, CHANNELS, NAMES, WS, {}, authors_of=authors)
    partial = partial_note(1, 0, 2)
    b = index.build_briefing(ANN, waiting_items=waiting, partial=partial)
    sections = [(ln.section, ln.item_id) for ln in b.lines]
    assert sections == [
        *[("waiting_on_you", f"w{n}") for n in range(5)],
        ("waiting_on_others", "asked"),
        ("needs_you", "fresh"),
    ]
    assert b.more == {"waiting_on_you": 2}
    assert [ln.position for ln in b.lines] == list(range(7))
    assert b.lines[0].permalinks == [f"{WS}/archives/CENG/p400000000"]
    # the reference states the same rules
    ref = build_briefing(
        DAY,
        ANN,
        items,
        CHANNELS,
        NAMES,
        [],
        WS,
        {},
        authors_of=authors,
        waiting_items=waiting,
        partial=partial,
    )
    assert ref.lines == b.lines and ref.markdown == b.markdown and ref.blocks_json == b.blocks_json

    md = b.markdown
    assert md.index(
        "_Partial: 1 conversation could not be read, 2 records quarantined on ingest._"
    ) < md.index("## Waiting on you")
    assert md.index("## Waiting on you") < md.index("## You're waiting on") < md.index("## Needs you")
    assert f"- [title w0]({WS}/archives/CENG/p400000000) — open 3 days · asked by Bob · #eng" in md
    assert "- +2 more\n" in md
    assert "open 2 days · waiting on Bob · #eng" in md
    assert b.intro.startswith("Your day on 2026-11-05: 5 items waiting on you, 1 item you're waiting on, ")
    text = render_plain_text(b)
    assert "Partial: 1 conversation" in text and "Waiting on you\n\n- title w0 — open 3 days" in text
    assert "- +2 more" in text
    html = b.html
    assert "Partial: 1 conversation" in html and "Waiting on you</h2>" in html and "+2 more</li>" in html
    blocks = render_slack_blocks(b)
    ids = [blk["block_id"] for blk in blocks]
    assert ids[:2] == ["briefing-header", "briefing-partial"]
    assert "section-waiting_on_you" in ids and "section-waiting_on_you-more" in ids
    more = blocks[ids.index("section-waiting_on_you-more")]
    assert more["elements"][0]["text"] == "+2 more"
    assert ids.index("section-waiting_on_you-more") < ids.index("section-waiting_on_others")
    # a small Slack message size still carries every line and the notes
    sent = json.dumps(split_slack_messages(b, max_blocks=8))
    assert "+2 more" in sent and "Partial: 1 conversation" in sent and "title w4" in sent


def test_an_ask_posted_again_in_the_same_words_is_one_line_aged_from_the_first():
    """Ann asked the same question on the 2nd and the 4th (two items, two messages) and again today."""
    first = _open("q-first", "2026-11-02", [], "700.1", kind="question")
    again = _open("q-again", "2026-11-04", [], "700.2", kind="question")
    first.title = again.title = "Ann: does anyone have a spare adapter?"
    today = _day_item("q-today", "700.3", kind="question", owners=())
    today.title = first.title
    authors = {("CENG", "700.1"): "UANN", ("CENG", "700.2"): "UANN", ("CENG", "700.3"): "UANN"}
    w = waiting_for(DAY, _reader(), [again, first], authors, NAMES)
    assert [(x.item.item_id, x.reason) for x in w.lines] == [("q-first", "open 3 days · nobody assigned")]
    index = BriefingIndex(DAY, [today], CHANNELS, NAMES, WS, {}, authors_of=authors)
    b = index.build_briefing(ANN, waiting_items=[first, again])
    assert [ln.item_id for ln in b.lines] == ["q-first"]
    ref = build_briefing(
        DAY, ANN, [today], CHANNELS, NAMES, [], WS, {}, authors_of=authors, waiting_items=[first, again]
    )
    assert ref.lines == b.lines
    # without the waiting line, today's question is in the ranked sections
    assert [ln.item_id for ln in index.build_briefing(ANN).lines] == ["q-today"]


def test_a_complete_day_has_no_partial_line_and_no_waiting_sections_without_open_items():
    index = BriefingIndex(DAY, [_day_item("fresh", "600.1")], CHANNELS, NAMES, WS, {}, authors_of={})
    b = index.build_briefing(ANN)
    assert "Partial" not in b.markdown and "Waiting on you" not in b.markdown
    assert "briefing-partial" not in b.blocks_json and "Partial" not in b.html
    assert [ln.section for ln in b.lines] == ["needs_you"]


# ---------------------------------------------------------------------------------------------------
# The pipeline


def test_an_open_request_waits_on_its_reader_and_its_asker_on_later_days(sample_run):
    """Diego asks Alice on the sample's first day whether Adyen got back to us; nobody answers. That
    day it is in Alice's "Needs you"; three days later it waits on her, 3 days old, and Diego waits
    on her."""
    store = sample_run.store
    title = "Diego Silva asked Alice Moreau: did Adyen ever get back to us"
    rows = store.query(
        "SELECT CAST(day AS VARCHAR) AS day, user_id, section, reason, permalinks FROM briefing_lines "
        "WHERE starts_with(text, ?) AND user_id IN ('U001ALICE', 'U030DIEGO') ORDER BY day, user_id",
        [title],
    )
    by = {(r["day"], r["user_id"]): r for r in rows}
    assert by[("2026-11-02", "U001ALICE")]["section"] == "needs_you"
    alice = by[("2026-11-05", "U001ALICE")]
    assert (alice["section"], alice["reason"]) == ("waiting_on_you", "open 3 days · asked by Diego Silva")
    diego = by[("2026-11-05", "U030DIEGO")]
    assert (diego["section"], diego["reason"]) == (
        "waiting_on_others",
        "open 3 days · waiting on Alice Moreau",
    )
    assert alice["permalinks"] and alice["permalinks"][0].startswith("https://acme.slack.com/archives/C")
    # one line for it on every day of every briefing
    per_briefing = store.query(
        "SELECT day, user_id, count(*) AS n FROM briefing_lines WHERE starts_with(text, ?) GROUP BY ALL "
        "HAVING count(*) > 1",
        [title],
    )
    assert per_briefing == []
    md = store.query(
        "SELECT markdown FROM briefings WHERE day = '2026-11-05' AND user_id = 'U001ALICE'",
    )[0]["markdown"]
    assert md.index("## Waiting on you") < md.index("open 3 days · asked by Diego Silva")
    assert "Partial" not in md  # the sample is complete
    # a reader never sees more than 5 lines per waiting section
    over = store.query(
        "SELECT day, user_id, section FROM briefing_lines WHERE section LIKE 'waiting%' GROUP BY ALL "
        "HAVING count(*) > 5"
    )
    assert over == []


def test_a_day_with_unreadable_data_says_it_is_partial(tmp_path):
    """One day's file of a conversation is no JSON, and another holds a malformed record: that day's
    briefings open with the Partial line, counts only (no conversation names); the day before does not."""
    export = tmp_path / "export"
    shutil.copytree(SAMPLE_EXPORT, export)
    day, clean_day = "2026-11-03", "2026-11-02"
    files = sorted(export.glob(f"*/{day}.json"))
    broken, malformed = files[0], files[1]
    broken.write_text('[{"type": "message", "ts": "17')
    records = json.loads(malformed.read_text())
    records.append(
        {"type": "message", "user": "U001ALICE", "ts": records[0]["ts"][:-1] + "9", "attachments": "x"}
    )
    malformed.write_text(json.dumps(records))
    settings = make_settings(tmp_path, export=export)
    runner = PipelineRunner(settings, instance=DagsterInstance.ephemeral())
    assert runner.run([clean_day, day]).ok
    notes = {
        (str(r["day"]), r["markdown"].split("\n")[2])
        for r in runner.store.query(
            "SELECT day, markdown FROM briefings WHERE day IN (?, ?)", [clean_day, day]
        )
    }
    expected = "_Partial: 1 conversation could not be read, 1 record quarantined on ingest._"
    assert {n for d, n in notes if d == day} == {expected}
    assert not any(n.startswith("_Partial") for d, n in notes if d == clean_day)
    row = runner.store.query(
        "SELECT markdown, plain_text, html, blocks_json FROM briefings WHERE day = ? LIMIT 1", [day]
    )[0]
    assert expected.strip("_") in row["plain_text"] and expected.strip("_") in row["html"]
    assert "briefing-partial" in row["blocks_json"]
    assert broken.parent.name not in row["markdown"].split("\n")[2]
