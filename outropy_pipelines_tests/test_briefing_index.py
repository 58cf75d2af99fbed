"""`BriefingIndex` gives exactly the reference's briefings (the tests' oracle) on a realistic random day."""

from __future__ import annotations

import random

import pytest

from outropy_pipelines.domain.briefing_index import BriefingIndex
from outropy_pipelines.domain.briefing_ranking import DEFAULT_SECTION_CAPS, ReaderContext, reader_context
from outropy_pipelines.domain.briefing_render_cache import RenderCache
from outropy_pipelines.domain.briefing_rendering import render_into, render_plain_text, render_slack_blocks
from outropy_pipelines.domain.membership import members_on_day
from outropy_pipelines.domain.models import (
    BRIEFING_SECTIONS,
    Briefing,
    BriefingLine,
    Channel,
    Item,
    OpenItem,
    SourceRef,
    User,
)
from outropy_pipelines.store.raw_messages import membership_events
from outropy_pipelines_tests.reference_ranking import build_briefing, rank_items_for_reader

DAY = "2026-11-03"
WS = "https://acme.slack.com"


def _random_day(seed: int):
    """A day with every kind of conversation, item, owner/mention pattern and carried open item."""
    rng = random.Random(seed)
    kinds = ["decision", "action_item", "question", "blocker", "incident", "announcement", "status_update"]
    users = {
        f"U{n:03d}": User(user_id=f"U{n:03d}", name=f"user{n}", real_name=rng.choice(["", f"Person {n}"]))
        for n in range(40)
    }
    uids = sorted(users)
    names = {u.user_id: u.display_name for u in users.values()}
    channels: dict[str, Channel] = {}

    def add(cid: str, kind: str, members: list[str]) -> None:
        channels[cid] = Channel(channel_id=cid, name=cid.lower(), kind=kind, members=members)

    for n in range(14):
        add(f"C{n:02d}", "public", rng.sample(uids, rng.randint(0, 25)))
    for n in range(8):
        add(f"G{n:02d}", "private", rng.sample(uids, rng.randint(1, 8)))
    for n in range(20):
        add(f"D{n:02d}", "im", rng.sample(uids, 2))
    for n in range(8):
        add(f"M{n:02d}", "mpim", rng.sample(uids, rng.randint(3, 7)))
    conversations = [*sorted(channels), "CUNKNOWN"]  # an item may sit in a channel missing from the snapshot
    projects = ["Atlas", "atlas ", "Borealis", "Cygnus", "", "  "]
    items: list[Item] = []
    authors: dict[tuple[str, str], str | None] = {}
    thread_ts_of: dict[tuple[str, str], str | None] = {}
    ts = 0
    for n in range(900):
        cid = rng.choice(conversations)
        kind = rng.choice(kinds)
        people = channels[cid].members if cid in channels and rng.random() < 0.7 else uids
        sources = []
        if items and rng.random() < 0.05:  # the same messages as another item (another kind or title)
            sources = list(rng.choice(items).sources)
        for _ in range(0 if sources else rng.choice([0, 1, 1, 1, 2, 3])):
            ts += 1
            src_channel = cid if rng.random() < 0.85 else rng.choice(conversations)
            sources.append(SourceRef(channel_id=src_channel, ts=f"1762128000.{ts:06d}"))
            author = rng.choice([*people[:4], None]) if people else None
            authors[(src_channel, sources[-1].ts)] = author
            thread_ts_of[(src_channel, sources[-1].ts)] = rng.choice([None, sources[0].ts])
        if sources and rng.random() < 0.15:  # all sources by one person (drops resolved items for them)
            solo = rng.choice(people) if people else uids[0]
            for s in sources:
                authors[(s.channel_id, s.ts)] = solo
        item_id = f"it-{rng.randint(0, 10**6):07d}" if rng.random() > 0.01 else "it-dup"
        items.append(
            Item(
                day=DAY,
                item_id=item_id,
                thread_id=f"{cid}:{n}",
                channel_id=cid,
                kind=kind,
                title=rng.choice([f"Title {n} <b>&", f"Plan *{n}*", "Same title"]),
                owners=rng.sample(people, min(len(people), rng.choice([0, 0, 1, 1, 2]))),
                mentions=rng.sample(people, min(len(people), rng.choice([0, 0, 0, 1, 3]))),
                due=rng.choice([None, None, "2026-11-07"]),
                entities=rng.sample(projects, rng.choice([0, 0, 1, 2])),
                confidence=rng.choice([0.0, 0.5, 0.5, 0.8, 0.8, 1.0, 1.3, -0.2, 0.61234567]),
                status=rng.choice(["open", "open", "resolved", "info"]),
                is_new=rng.random() < 0.95,
                provider="local",
                prompt_version="test/v1",
                sources=sources,
            )
        )
    open_items: dict[str, list[OpenItem]] = {}
    for uid in uids:
        carried = []
        for k in range(rng.randint(0, 4)):
            cid = rng.choice(conversations)
            old = rng.choice(items) if rng.random() < 0.2 else None  # same id as an item of the day
            # the messages of an item of the day (a question asked again, titled otherwise), mostly one
            # that reaches the reader
            theirs = [i for i in items if uid in i.owners or uid in i.mentions] or items
            cites = rng.choice(theirs if rng.random() < 0.8 else items) if rng.random() < 0.3 else None
            if cites is not None:
                cid, sources = cites.channel_id, list(cites.sources)
            elif rng.random() < 0.9:
                sources = [SourceRef(channel_id=cid, ts=f"1761800000.{k:06d}")]
            else:
                sources = []
            carried.append(
                OpenItem(
                    item_id=old.item_id if old else f"old-{uid}-{k}",
                    kind=rng.choice(kinds),
                    title=f"Carried {k}",
                    channel_id=cid,
                    owners=[uid] if rng.random() < 0.9 else [rng.choice(uids)],
                    since_day="2026-10-30",
                    last_seen_day="2026-11-02",
                    sources=sources,
                )
            )
        open_items[uid] = carried
    return users, names, channels, items, authors, thread_ts_of, open_items


@pytest.mark.parametrize("seed", [1, 2])
def test_index_equals_reference_on_a_random_day(seed):
    users, names, channels, items, authors, thread_ts_of, open_items = _random_day(seed)
    rng = random.Random(seed)
    index = BriefingIndex(DAY, items, channels, names, WS, thread_ts_of, authors_of=authors)
    settings = [
        {},
        {"max_lines": 6},
        {"max_lines": 40, "section_caps": {"needs_you": 2, "decisions": 1, "updates": 30}},
        {"max_lines": 0},
    ]
    full_sections: set[str] = set()
    line_count = 0
    for uid, user in users.items():
        follows = rng.sample(["atlas", "Atlas", "borealis", " cygnus", "dune", ""], rng.randint(0, 3))
        contexts = [
            reader_context(uid, channels.values(), follows),
            # Contexts not derived from the snapshot: access comes from the context alone.
            ReaderContext(
                uid, frozenset(rng.sample(sorted(channels), 12)), frozenset(rng.sample(sorted(channels), 6))
            ),
            ReaderContext(uid, frozenset([*channels, "CUNKNOWN"]), frozenset(), frozenset(["atlas", ""])),
        ]
        assert index.reader_context(uid, follows) == contexts[0]
        for reader in contexts:
            for kw in settings:
                expected = rank_items_for_reader(
                    reader,
                    items,
                    open_items=open_items[uid],
                    channels=channels,
                    user_names=names,
                    authors_of=authors,
                    **kw,
                )
                assert index.rank_for(reader, open_items=open_items[uid], **kw) == expected, (uid, reader, kw)
                line_count += len(expected)
                if not kw:
                    full_sections |= {
                        s
                        for s in BRIEFING_SECTIONS
                        if sum(x.section == s for x in expected) == DEFAULT_SECTION_CAPS[s]
                    }
        reference = build_briefing(
            DAY,
            user,
            items,
            channels,
            names,
            open_items[uid],
            WS,
            thread_ts_of,
            authors_of=authors,
            projects=follows,
        )
        fast = index.build_briefing(user, open_items[uid], projects=follows)
        assert fast.model_dump() == reference.model_dump()
        assert render_plain_text(fast, renderer=index.renderer) == render_plain_text(reference)
    # The day is rich enough to exercise caps, ties and every route.
    assert line_count > 1000
    assert full_sections >= {"needs_you", "blockers_incidents", "updates"}


def _line(position: int, section: str, text: str, reason: str, label: str, links: list[str]) -> BriefingLine:
    return BriefingLine(
        position=position,
        section=section,
        item_id=f"i{position}",
        kind="action_item",
        text=text,
        reason=reason,
        score=1.0,
        channel_id="C1",
        channel_name=label,
        sources=[],
        permalinks=links,
    )


def test_render_cache_renders_exactly_like_briefing_rendering():
    long_title = "Migrate <everything> & *all* the [things] " * 120  # longer than a Slack text block
    lines = [
        _line(0, "needs_you", long_title, "assigned to you in #eng", "#eng", [f"{WS}/a", f"{WS}/b"]),
        _line(1, "needs_you", "Plain", "Bob asked you in your DM with Bob", "DM with Bob", []),
        _line(2, "updates", "Evil link", "status update in #x", "#y", ["javascript:alert(1)", f"{WS}/c d"]),
        _line(3, "decisions", "  spaced\n title ", "", "#eng", [f"{WS}/d"]),
        _line(4, "blockers_incidents", "Same as first", "incident in #eng-ops", "#eng", [f"{WS}/e"]),
    ]
    # The same line content at another position and in another section reuses the cached fragments.
    moved = [ln.model_copy(update={"position": 9 - ln.position, "section": "updates"}) for ln in lines]
    # ... but a line that differs in any of text, reason, label or links gets its own.
    variants = [
        ln.model_copy(update={"position": n, **change})
        for n, (ln, change) in enumerate(
            zip(
                lines[:4],
                [{"channel_name": "#ops"}, {"reason": "other reason"}, {"text": "Evil"}, {"permalinks": []}],
                strict=True,
            )
        )
    ]
    briefings = [
        Briefing(day=DAY, user_id="U1", user_name="Ann", intro="Your day: <b>busy</b>", lines=lines),
        Briefing(day=DAY, user_id="U2", user_name="Bob", intro="", lines=moved),
        Briefing(day=DAY, user_id="U3", user_name="Cat", intro="   ", lines=[]),
        Briefing(day=DAY, user_id="U4", user_name="Dan", intro="x", lines=variants),
    ]
    cache = RenderCache()
    for b in briefings:
        expected = render_into(b)
        got = render_into(b, renderer=cache)
        assert got.model_dump() == expected.model_dump()
        assert render_plain_text(b, renderer=cache) == render_plain_text(b)
    assert len(cache) == len(lines) + len(variants)  # one set of fragments per distinct line
    # A moved line is served the very fragments rendered for the original.
    assert all(cache(m) is cache(ln) for m, ln in zip(moved, lines, strict=True))
    assert "…" in render_into(briefings[0], renderer=cache).blocks_json  # the long title was fitted


def test_render_cache_with_a_smaller_slack_budget():
    long_title = "Ship <it> & tell *everyone* " * 40
    lines = [_line(n, "updates", long_title + str(n % 2), "r", "#eng", [f"{WS}/a{n % 2}"]) for n in range(4)]
    b = Briefing(day=DAY, user_id="U1", user_name="Ann", intro="hi " * 200, lines=lines)
    cache = RenderCache(max_text=400)
    assert render_slack_blocks(b, 400, renderer=cache) == render_slack_blocks(b, 400)
    assert any("…" in blk.get("text", {}).get("text", "") for blk in render_slack_blocks(b, 400))
    assert len(cache) == 2
    # Its fragments are fitted to 400 chars: it cannot render the 3,000-char pages.
    with pytest.raises(ValueError):
        render_into(b, renderer=cache)
    with pytest.raises(ValueError):
        render_slack_blocks(b, renderer=cache)


def test_pipeline_stores_the_reference_briefings(sample_run):
    """Every briefing the pipeline stored (through `brief_day` and the index) equals the reference's."""
    from outropy_pipelines.domain.briefing_waiting import partial_note
    from outropy_pipelines.store import to_json
    from outropy_pipelines.store.briefings import day_gaps
    from outropy_pipelines.store.directory import read_directory
    from outropy_pipelines.store.entity_summaries import load_entity_summaries
    from outropy_pipelines.store.items import load_items

    store = sample_run.store
    directory = read_directory(store)
    users, snapshot = directory.user_by_id(), directory.channel_by_id()
    names = {u.user_id: u.display_name for u in directory.users}
    events = membership_events(store)
    assert events, "the sample has joins: membership on a day differs from the snapshot"
    compared = lines = 0
    for day in sample_run.days:
        channels = members_on_day(day, snapshot, events)
        stored = store.query(
            "SELECT user_id, markdown, html, blocks_json, plain_text FROM briefings WHERE day = ? ORDER BY user_id",
            [day],
        )
        stored_lines = store.query(
            "SELECT user_id, position, section, item_id, reason, score, sources, permalinks FROM briefing_lines "
            "WHERE day = ? ORDER BY user_id, position",
            [day],
        )
        items = load_items(store, day)
        # the thread and author of every message, whichever day's item (or carried item) cites it
        rows = store.query("SELECT DISTINCT channel_id, ts, thread_ts, user_id FROM raw_messages")
        thread_ts_of = {(r["channel_id"], r["ts"]): r["thread_ts"] for r in rows}
        authors_of = {(r["channel_id"], r["ts"]): r["user_id"] for r in rows}
        uids = [r["user_id"] for r in stored]
        memory: dict[str, list] = {}
        for s in load_entity_summaries(store, day, [f"person:{u}" for u in uids]):
            memory.setdefault(s.entity_id, []).extend(s.open_items)
        # every conversation's open items: the readers' "You're waiting on" are among them
        asked = [
            o for s in load_entity_summaries(store, day) if s.entity_kind == "channel" for o in s.open_items
        ]
        partial = partial_note(*day_gaps(store, day))
        expected_lines = []
        for row in stored:
            uid = row["user_id"]
            open_items = [o for o in memory.get(f"person:{uid}", []) if uid in o.owners and o.since_day < day]
            expected = build_briefing(
                day,
                users[uid],
                items,
                channels,
                names,
                open_items,
                sample_run.settings.workspace_url,
                thread_ts_of,
                authors_of=authors_of,
                waiting_items=[*open_items, *asked],
                partial=partial,
            )
            assert row["markdown"] == expected.markdown
            assert row["html"] == expected.html
            assert row["blocks_json"] == expected.blocks_json
            assert row["plain_text"] == render_plain_text(expected)
            expected_lines += [
                {
                    "user_id": uid,
                    "position": ln.position,
                    "section": ln.section,
                    "item_id": ln.item_id,
                    "reason": ln.reason,
                    "score": ln.score,
                    "sources": to_json([s.model_dump() for s in ln.sources]),
                    "permalinks": ln.permalinks,
                }
                for ln in expected.lines
            ]
            compared += 1
        assert stored_lines == expected_lines
        lines += len(expected_lines)
    assert compared >= 100 and lines >= 100
