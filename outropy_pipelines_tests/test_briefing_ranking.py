"""Per-reader selection, access control, sections and ordering of briefing lines."""

from __future__ import annotations

import json
import random
import typing

import pytest

from outropy_pipelines.domain.briefing_index import BriefingIndex
from outropy_pipelines.domain.briefing_ranking import (
    DEFAULT_SECTION_CAPS,
    ReaderContext,
    placement,
    reaches_non_members,
    reader_context,
    visible_channel_ids,
)
from outropy_pipelines.domain.briefing_rendering import render_plain_text, split_slack_messages
from outropy_pipelines.domain.models import (
    BRIEFING_SECTIONS,
    Channel,
    Item,
    ItemKind,
    ItemStatus,
    OpenItem,
    SourceRef,
    User,
)
from outropy_pipelines_tests.reference_ranking import build_briefing, rank_items_for_reader

DAY = "2026-11-03"
WS = "https://acme.slack.com"

USERS = {
    "UANN": User(user_id="UANN", name="ann", real_name="Ann"),
    "UBOB": User(user_id="UBOB", name="bob", real_name="Bob"),
    "UCAT": User(user_id="UCAT", name="cat", real_name="Cat"),
    "UDAN": User(user_id="UDAN", name="dan", real_name="Dan"),
}
NAMES = {u.user_id: u.display_name for u in USERS.values()}
CHANNELS = {
    c.channel_id: c
    for c in [
        Channel(channel_id="CENG", name="eng", kind="public", members=["UANN", "UBOB"]),
        Channel(channel_id="CGEN", name="general", kind="public", members=["UBOB", "UCAT"]),
        Channel(channel_id="CINC", name="incidents", kind="public", members=["UBOB"]),
        Channel(channel_id="GSECRET", name="secret-hr", kind="private", members=["UBOB", "UCAT"]),
        Channel(channel_id="GATLAS", name="proj-atlas", kind="private", members=["UANN", "UBOB"]),
        Channel(channel_id="DANNBOB", name="UBOB", kind="im", members=["UANN", "UBOB"]),
        Channel(channel_id="DBOBCAT", name="UCAT", kind="im", members=["UBOB", "UCAT"]),
        Channel(
            channel_id="MGRP", name="mpdm-ann--bob--cat-1", kind="mpim", members=["UANN", "UBOB", "UCAT"]
        ),
        Channel(
            channel_id="MOTHER", name="mpdm-bob--cat--dan-1", kind="mpim", members=["UBOB", "UCAT", "UDAN"]
        ),
    ]
}

_ts_counter = iter(range(1, 10_000))


def make_item(
    item_id: str,
    channel_id: str,
    kind: str,
    title: str | None = None,
    *,
    owners: tuple[str, ...] = (),
    mentions: tuple[str, ...] = (),
    status: str | None = None,
    is_new: bool = True,
    confidence: float = 0.8,
    sources: list[SourceRef] | None = None,
    entities: tuple[str, ...] = (),
) -> Item:
    if status is None:
        status = "open" if kind in ("action_item", "question", "blocker", "incident") else "info"
    if sources is None:
        sources = [SourceRef(channel_id=channel_id, ts=f"1762128000.{next(_ts_counter):06d}")]
    return Item(
        day=DAY,
        item_id=item_id,
        thread_id=f"{channel_id}:{sources[0].ts if sources else '0'}",
        channel_id=channel_id,
        kind=kind,
        title=title or f"title of {item_id}",
        owners=list(owners),
        mentions=list(mentions),
        status=status,
        is_new=is_new,
        confidence=confidence,
        entities=list(entities),
        provider="local",
        prompt_version="test/v1",
        sources=sources,
    )


# Every test runs on both: the product's day index (`BriefingIndex`) and the tests' slow reference
# (`reference_ranking`), so each rule is checked on two independent statements of it.
_PATH = {"name": "reference"}


@pytest.fixture(autouse=True, params=["reference", "index"])
def ranking_path(request):
    _PATH["name"] = request.param
    yield request.param
    _PATH["name"] = "reference"


def briefing_for(user_id: str, items, open_items=(), *, thread_ts_of=None, authors_of=None, **kw):
    if _PATH["name"] == "index":
        index = BriefingIndex(DAY, items, CHANNELS, NAMES, WS, thread_ts_of, authors_of=authors_of)
        return index.build_briefing(USERS[user_id], open_items, **kw)
    return build_briefing(
        DAY, USERS[user_id], items, CHANNELS, NAMES, open_items, WS, thread_ts_of, authors_of=authors_of, **kw
    )


def rank(reader: ReaderContext, items, *, channels=None, open_items=(), **kw):
    if _PATH["name"] == "index":
        index = BriefingIndex(DAY, items, channels, None)
        return index.rank_for(reader, open_items=open_items, **kw)
    return rank_items_for_reader(reader, items, channels=channels, open_items=open_items, **kw)


def all_output(b) -> str:
    """Every rendering of a briefing, concatenated, for leak checks."""
    messages = split_slack_messages(b)
    return "\n".join(
        [
            b.intro,
            b.markdown,
            b.html,
            b.blocks_json,
            render_plain_text(b),
            json.dumps(messages, ensure_ascii=False),
            json.dumps([ln.model_dump() for ln in b.lines], ensure_ascii=False),
        ]
    )


# --- visibility --------------------------------------------------------------------------------------


def test_visible_channels_public_plus_memberships_only():
    visible = visible_channel_ids("UANN", CHANNELS.values())
    assert visible == frozenset({"CENG", "CGEN", "CINC", "GATLAS", "DANNBOB", "MGRP"})
    ctx = reader_context("UANN", CHANNELS.values())
    assert ctx.member_channels == frozenset({"CENG", "GATLAS", "DANNBOB", "MGRP"})
    assert visible_channel_ids("UCAT", CHANNELS.values()) >= {"GSECRET", "DBOBCAT", "MOTHER"}


PLANTED = [
    # Each is assigned to and mentions Ann, so only access control keeps it out of her briefing.
    make_item(
        "secret-private",
        "GSECRET",
        "action_item",
        "SECRET-PRIVATE-7781 fire Dan",
        owners=("UANN", "UCAT"),
        mentions=("UANN", "UCAT"),
    ),
    make_item(
        "secret-dm",
        "DBOBCAT",
        "question",
        "SECRET-DM-4412 salary of Ann",
        owners=("UANN", "UCAT"),
        mentions=("UANN", "UCAT"),
    ),
    make_item(
        "secret-mpim",
        "MOTHER",
        "incident",
        "SECRET-MPIM-9930 outage cover-up",
        owners=("UANN", "UCAT"),
        mentions=("UANN", "UCAT"),
    ),
]
PUBLIC = [
    make_item("pub-assigned", "CENG", "action_item", "Ship the release notes", owners=("UANN",)),
    make_item("pub-announce", "CENG", "announcement", "Office closed Friday"),
]


@pytest.mark.parametrize("planted", PLANTED, ids=lambda i: i.item_id)
def test_planted_item_is_invisible_to_non_member_and_leaves_no_trace(planted):
    with_secret = briefing_for("UANN", [*PUBLIC, planted])
    without = briefing_for("UANN", PUBLIC)
    assert planted.item_id not in {ln.item_id for ln in with_secret.lines}
    secret_word = planted.title.split()[0]
    assert secret_word not in all_output(with_secret)
    assert planted.channel_id not in all_output(with_secret)
    # Not even a count or the intro changes.
    assert with_secret.intro == without.intro
    assert with_secret.markdown == without.markdown
    assert with_secret.html == without.html
    assert with_secret.blocks_json == without.blocks_json
    assert with_secret.item_count == without.item_count == 2


@pytest.mark.parametrize("planted", PLANTED, ids=lambda i: i.item_id)
def test_planted_item_is_visible_to_member(planted):
    b = briefing_for("UCAT", [*PUBLIC, planted])
    lines = [ln for ln in b.lines if ln.item_id == planted.item_id]
    assert len(lines) == 1 and lines[0].section == "needs_you"
    secret_word = planted.title.split()[0]
    for text in (b.markdown, b.html, b.blocks_json, render_plain_text(b)):
        assert secret_word in text


def test_item_with_one_source_in_an_invisible_channel_is_excluded():
    mixed = make_item(
        "mixed",
        "CENG",
        "action_item",
        "Cross-posted from secret",
        owners=("UANN", "UCAT"),
        sources=[
            SourceRef(channel_id="CENG", ts="1762128000.000001"),
            SourceRef(channel_id="GSECRET", ts="1762128000.000002"),
        ],
    )
    assert briefing_for("UANN", [mixed]).lines == []
    # Cat can see both channels (CENG is public, she is in GSECRET).
    assert [ln.item_id for ln in briefing_for("UCAT", [mixed]).lines] == ["mixed"]
    # The item's own channel counts too, even when its sources look harmless (or are missing).
    odd = make_item(
        "odd",
        "GSECRET",
        "action_item",
        "SECRET-ODD",
        owners=("UANN", "UCAT"),
        sources=[SourceRef(channel_id="CENG", ts="1762128000.000003")],
    )
    sourceless = make_item(
        "none", "GSECRET", "action_item", "SECRET-NONE", owners=("UANN", "UCAT"), sources=[]
    )
    assert briefing_for("UANN", [odd, sourceless]).lines == []
    assert {ln.item_id for ln in briefing_for("UCAT", [odd, sourceless]).lines} == {"odd", "none"}


def test_rank_items_applies_visibility_from_reader_context():
    item = make_item("x", "GATLAS", "action_item", owners=("UANN",))
    member = ReaderContext("UANN", frozenset({"GATLAS"}), frozenset({"GATLAS"}))
    outsider = ReaderContext("UANN", frozenset({"CENG"}), frozenset({"CENG"}))
    assert [s.item.item_id for s in rank(member, [item])] == ["x"]
    assert rank(outsider, [item]) == []


def test_dm_and_group_dm_visible_to_members_with_readable_labels():
    items = [
        make_item("dm", "DANNBOB", "question", "Can you review my PR?", owners=("UANN",)),
        make_item("grp", "MGRP", "action_item", "Book the offsite", owners=("UANN",)),
    ]
    b = briefing_for(
        "UANN", items, authors_of={(i.sources[0].channel_id, i.sources[0].ts): "UBOB" for i in items}
    )
    by_id = {ln.item_id: ln for ln in b.lines}
    assert by_id["dm"].channel_name == "DM with Bob"
    assert by_id["dm"].reason == "Bob asked you in your DM with Bob"
    assert by_id["grp"].channel_name == "group DM with Bob, Cat"
    # Dan is not in either conversation, so neither reaches him.
    assert briefing_for("UDAN", items).lines == []


def test_open_items_from_memory_are_access_checked_and_owned_by_reader():
    open_items = [
        OpenItem(
            item_id="old-ok",
            kind="action_item",
            title="Rotate the API keys",
            channel_id="CENG",
            owners=["UANN"],
            since_day="2026-10-30",
            last_seen_day="2026-11-02",
            sources=[SourceRef(channel_id="CENG", ts="1761800000.000100")],
        ),
        OpenItem(
            item_id="old-secret",
            kind="action_item",
            title="SECRET-OPEN-5150",
            channel_id="GSECRET",
            owners=["UANN"],
            since_day="2026-10-30",
            last_seen_day="2026-11-02",
            sources=[SourceRef(channel_id="GSECRET", ts="1761800000.000200")],
        ),
        OpenItem(
            item_id="old-bob",
            kind="action_item",
            title="Bob's own task",
            channel_id="CENG",
            owners=["UBOB"],
            since_day="2026-10-30",
            last_seen_day="2026-11-02",
            sources=[SourceRef(channel_id="CENG", ts="1761800000.000300")],
        ),
    ]
    b = briefing_for("UANN", [], open_items)
    assert [(ln.item_id, ln.section) for ln in b.lines] == [("old-ok", "needs_you")]
    assert b.lines[0].reason == "assigned to you in #eng, open since 2026-10-30"
    assert "SECRET-OPEN-5150" not in all_output(b)
    assert b.lines[0].permalinks == [f"{WS}/archives/CENG/p1761800000000100"]


def test_open_item_already_in_todays_news_appears_once():
    today = make_item("same", "CENG", "action_item", "Rotate the API keys", owners=("UANN",))
    carried = OpenItem(
        item_id="same",
        kind="action_item",
        title="Rotate the API keys",
        channel_id="CENG",
        owners=["UANN"],
        since_day="2026-10-30",
        last_seen_day="2026-11-02",
    )
    b = briefing_for("UANN", [today], [carried])
    assert [ln.item_id for ln in b.lines] == ["same"]
    assert "open since" not in b.lines[0].reason


def test_two_items_citing_the_same_message_make_one_line():
    """As in the sample: one message read as an announcement and, in the same words, as an action
    item for Cat. Each reader gets one line for it, the better placed."""
    message = [SourceRef(channel_id="CGEN", ts="1762128000.009001")]
    news = make_item("n-news", "CGEN", "announcement", "Bob: enrolment closes on Nov 30", sources=message)
    ask = make_item(
        "a-ask",
        "CGEN",
        "action_item",
        "Bob asked Cat: enrolment closes on Nov 30",
        owners=("UCAT",),
        sources=list(message),
    )
    b = briefing_for("UBOB", [ask, news])
    assert [(ln.item_id, ln.section) for ln in b.lines] == [("n-news", "updates")]
    c = briefing_for("UCAT", [news, ask])
    assert [(ln.item_id, ln.section) for ln in c.lines] == [("a-ask", "needs_you")]
    # an item citing more messages than that one is another line
    more = make_item(
        "m-more",
        "CGEN",
        "status_update",
        sources=[*message, SourceRef(channel_id="CGEN", ts="1762128000.009002")],
    )
    b = briefing_for("UBOB", [ask, news, more])
    assert [ln.item_id for ln in b.lines] == ["n-news", "m-more"]


def test_a_carried_item_and_a_new_one_citing_the_same_messages_make_one_line():
    message = [SourceRef(channel_id="CENG", ts="1761800000.000700")]
    carried = OpenItem(
        item_id="old-q",
        kind="question",
        title="Dan asked Ann: which region?",
        channel_id="CENG",
        owners=["UANN"],
        since_day="2026-10-30",
        last_seen_day="2026-11-02",
        sources=message,
    )
    today = make_item(
        "new-q",
        "CENG",
        "question",
        "Dan asked Ann: which region for the cluster?",
        owners=("UANN",),
        sources=list(message),
    )
    b = briefing_for("UANN", [today], [carried])
    assert [(ln.item_id, ln.reason) for ln in b.lines] == [
        ("old-q", "question for you in #eng, open since 2026-10-30")
    ]
    # Bob, not an owner, gets today's item (the carried one is Ann's alone)
    assert [ln.item_id for ln in briefing_for("UBOB", [today], [carried]).lines] == ["new-q"]


def test_a_dropped_duplicate_leaves_no_hole_under_the_cap():
    shared = [SourceRef(channel_id="CENG", ts="1762128000.009100")]
    items = [
        make_item("u-0", "CENG", "announcement", sources=shared, confidence=0.9),
        make_item("u-1", "CENG", "announcement", sources=list(shared), confidence=0.8),
        *[make_item(f"u-{n}", "CENG", "announcement", confidence=0.5) for n in range(2, 6)],
    ]
    reader = reader_context("UANN", CHANNELS.values())
    ranked = rank(reader, items, channels=CHANNELS, section_caps={"updates": 3})
    assert [s.item.item_id for s in ranked] == ["u-0", "u-2", "u-3"]


# --- sections and ordering ---------------------------------------------------------------------------


def _scenario():
    items = [
        make_item("a-assigned", "CENG", "action_item", "Write the migration plan", owners=("UANN",)),
        make_item("b-asked", "CENG", "question", "Which region for the new cluster?", owners=("UANN",)),
        make_item("c-mention", "CGEN", "status_update", "Ann's dashboard shipped", mentions=("UANN",)),
        make_item("d-decision-member", "GATLAS", "decision", "Atlas moves to Postgres"),
        make_item("e-decision-other", "CGEN", "decision", "General channel gets a bot"),
        make_item("f-incident", "CINC", "incident", "API latency spike"),
        make_item("g-blocker-member", "CENG", "blocker", "CI is red on main", owners=("UBOB",)),
        make_item("h-blocker-other", "CGEN", "blocker", "Printer jammed"),
        make_item("i-announce", "CENG", "announcement", "Hack week next month"),
        make_item("j-status-other", "CGEN", "status_update", "Cat's status"),
        make_item("k-old", "CENG", "announcement", "Yesterday's news", is_new=False),
        make_item("l-decision-mention", "CENG", "decision", "Ann owns the on-call rota", mentions=("UANN",)),
        make_item("m-status-member", "CENG", "status_update", "Build times down 20%"),
        make_item("n-unblock", "CENG", "blocker", "Waiting on Ann's review", owners=("UANN",)),
    ]
    authors = {(i.sources[0].channel_id, i.sources[0].ts): "UBOB" for i in items}
    return items, authors


def test_sections_reasons_and_order():
    items, authors = _scenario()
    b = briefing_for("UANN", items, authors_of=authors)
    got = [(ln.section, ln.item_id, ln.reason) for ln in b.lines]
    assert got == [
        ("needs_you", "a-assigned", "assigned to you by Bob in #eng"),
        ("needs_you", "n-unblock", "blocker you can unblock in #eng"),
        ("needs_you", "b-asked", "Bob asked you in #eng"),
        ("needs_you", "l-decision-mention", "Bob mentioned you in #eng"),
        ("needs_you", "c-mention", "Bob mentioned you in #general"),
        ("decisions", "d-decision-member", "decision in #proj-atlas you follow"),
        ("blockers_incidents", "f-incident", "incident in #incidents"),
        ("blockers_incidents", "g-blocker-member", "open blocker in #eng"),
        ("updates", "i-announce", "announcement in #eng"),
        ("updates", "m-status-member", "status update in #eng"),
    ]
    assert [ln.position for ln in b.lines] == list(range(len(b.lines)))
    assert len({ln.item_id for ln in b.lines}) == len(b.lines)
    # Sections come in BRIEFING_SECTIONS order and scores descend within a section.
    order = [BRIEFING_SECTIONS.index(ln.section) for ln in b.lines]
    assert order == sorted(order)
    for section in BRIEFING_SECTIONS:
        scores = [ln.score for ln in b.lines if ln.section == section]
        assert scores == sorted(scores, reverse=True)
    assert b.intro == (
        f"Your day on {DAY}: 5 items need you, 1 decision, 2 blockers or incidents, 2 updates."
    )


def test_output_is_deterministic_regardless_of_input_order():
    items, authors = _scenario()
    first = briefing_for("UANN", items, authors_of=authors)
    shuffled = list(items)
    random.Random(7).shuffle(shuffled)
    second = briefing_for("UANN", shuffled, authors_of=authors)
    assert first.model_dump() == second.model_dump()


def test_score_boosts_open_confidence_and_membership_and_ties_by_item_id():
    reader = reader_context("UANN", CHANNELS.values())
    items = [
        make_item("z-open", "CINC", "incident", status="open", confidence=0.5),
        make_item("y-resolved", "CINC", "incident", status="resolved", confidence=0.5),
        make_item("x-confident", "CINC", "incident", status="resolved", confidence=1.0),
        make_item("b-tie", "CENG", "announcement", confidence=0.7),
        make_item("a-tie", "CENG", "announcement", confidence=0.7),
        make_item("c-low", "CENG", "announcement", confidence=0.1),
    ]
    ranked = rank(reader, items, channels=CHANNELS)
    assert [s.item.item_id for s in ranked] == [
        "z-open",
        "x-confident",
        "y-resolved",
        "a-tie",
        "b-tie",
        "c-low",
    ]
    assert ranked[3].score == ranked[4].score
    # Membership boosts within a tier: the same incident scores higher in a channel Ann is in.
    in_member = make_item("m", "CENG", "incident", confidence=0.5)
    (member_scored,) = rank(reader, [in_member])
    assert member_scored.score > ranked[0].score
    # Tiers are strict: a low-confidence assignment outside her channels still beats a confident
    # mention in her own channel (both land in "needs_you").
    weak_assignment = make_item("w", "CGEN", "action_item", owners=("UANN",), confidence=0.0)
    strong_mention = make_item("a-s", "CENG", "announcement", mentions=("UANN",), confidence=1.0)
    ranked2 = rank(reader, [strong_mention, weak_assignment])
    assert [(s.item.item_id, s.section) for s in ranked2] == [("w", "needs_you"), ("a-s", "needs_you")]


def test_resolved_items_authored_by_reader_are_dropped():
    mine = make_item("mine", "CENG", "action_item", owners=("UANN",), status="resolved")
    theirs = make_item("theirs", "CENG", "action_item", owners=("UANN",), status="resolved")
    authors = {
        (mine.sources[0].channel_id, mine.sources[0].ts): "UANN",
        (theirs.sources[0].channel_id, theirs.sources[0].ts): "UBOB",
    }
    b = briefing_for("UANN", [mine, theirs], authors_of=authors)
    assert [(ln.item_id, ln.section, ln.reason) for ln in b.lines] == [
        ("theirs", "updates", "resolved, was assigned to you in #eng")
    ]


def test_section_and_total_caps():
    many = [make_item(f"ann-{i:03d}", "CENG", "announcement") for i in range(40)]
    asks = [make_item(f"ask-{i:03d}", "CENG", "action_item", owners=("UANN",)) for i in range(30)]
    reader = reader_context("UANN", CHANNELS.values())
    ranked = rank(reader, many, max_lines=100)
    assert len(ranked) == DEFAULT_SECTION_CAPS["updates"]
    ranked = rank(reader, [*many, *asks], max_lines=20)
    assert len(ranked) == 20
    assert [s.section for s in ranked] == ["needs_you"] * DEFAULT_SECTION_CAPS["needs_you"] + ["updates"] * 5
    ranked = rank(reader, many, max_lines=100, section_caps={"updates": 3})
    assert [s.item.item_id for s in ranked] == ["ann-000", "ann-001", "ann-002"]


def test_project_decisions_reach_followers_outside_the_channel():
    d = make_item("proj", "CGEN", "decision", "Atlas ships in Q1", entities=("Atlas",))
    assert briefing_for("UANN", [d]).lines == []
    b = briefing_for("UANN", [d], projects=["atlas"])
    assert [(ln.section, ln.reason) for ln in b.lines] == [("decisions", "decision about Atlas in #general")]


def test_reaches_non_members_holds_every_item_placement_gives_a_stranger():
    """The rare items' index (`BriefingIndex._rare_for`) offers a reader who is neither a member,
    an owner nor mentioned only the items `reaches_non_members` names."""
    for kind in typing.get_args(ItemKind):
        for status in typing.get_args(ItemStatus):
            for entities in ((), ("Atlas",)):
                item = make_item("i", "CGEN", kind, status=status, entities=entities)
                for project in (None, "Atlas" if entities else None):
                    placed = placement(item, member=False, mine=False, mentioned=False, project=project)
                    if placed is not None:
                        assert reaches_non_members(item), (kind, status, entities)


# --- permalinks on lines -----------------------------------------------------------------------------


def test_each_line_has_a_permalink_per_source_including_thread_replies():
    sources = [
        SourceRef(channel_id="CENG", ts="1762128000.000500"),  # a reply
        SourceRef(channel_id="CENG", ts="1762128000.000100"),  # the thread root
    ]
    item = make_item("t", "CENG", "action_item", owners=("UANN",), sources=sources)
    thread_ts_of = {
        ("CENG", "1762128000.000100"): "1762128000.000100",
        ("CENG", "1762128000.000500"): "1762128000.000100",
    }
    b = briefing_for("UANN", [item], thread_ts_of=thread_ts_of)
    (line,) = b.lines
    assert [s.ts for s in line.sources] == ["1762128000.000100", "1762128000.000500"]
    assert line.permalinks == [
        f"{WS}/archives/CENG/p1762128000000100",
        f"{WS}/archives/CENG/p1762128000000500?thread_ts=1762128000.000100&cid=CENG",
    ]
    for url in line.permalinks:
        assert url in b.markdown
        assert url.replace("&", "&amp;") in b.html
        assert url in b.blocks_json


def test_empty_briefing():
    b = briefing_for("UDAN", [make_item("x", "CENG", "announcement")])
    assert b.lines == [] and b.item_count == 0
    assert "Nothing needed you yesterday." in b.markdown
    assert "Nothing needed you yesterday." in b.html
    assert "Nothing needed you yesterday." in b.blocks_json
