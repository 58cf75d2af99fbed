"""Readers' feedback on briefing lines, end to end: the real deliver job posts each DM line as a
thread reply to the fake Slack Web API (real slack-sdk), the reader reacts, the real user_briefings
job of the next day reads the reactions back and ranks with them (real DuckDB, ephemeral Dagster
instance); the email's signed links against the real endpoint (stdlib HTTP server) and aiosmtpd;
`outropy feedback` in process. The ranking rule is also checked against the reference ranking."""

from __future__ import annotations

import functools
import random
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from dagster import DagsterInstance

from outropy_pipelines.cli import main
from outropy_pipelines.cli.feedback_server import make_server
from outropy_pipelines.defs.definitions import build_definitions
from outropy_pipelines.defs.partitions import SUBSCRIBED_USERS, briefing_range_tags
from outropy_pipelines.defs.resources import FeedbackResource
from outropy_pipelines.domain.briefing_index import BriefingIndex
from outropy_pipelines.domain.briefing_ranking import reader_context
from outropy_pipelines.domain.reader_feedback import (
    NOT_USEFUL,
    USEFUL,
    FeedbackEvent,
    FeedbackPolicy,
    adjustments_from,
    feedback_token,
    people_of,
    rank_with_feedback,
    reaction_value,
    read_token,
)
from outropy_pipelines.stages.feedback import sync_slack
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.fake_slack_server import FakeSlackServer
from outropy_pipelines_tests.reference_ranking import rank_items_for_reader
from outropy_pipelines_tests.test_briefing_index import _random_day
from outropy_pipelines_tests.test_delivery import (
    ALICE,
    DAY,
    DAY2,
    ERIN,
    TOKEN,
    deliver_run,
    settings_for,
    smtp_server,
)
from outropy_pipelines_tests.test_delivery import store as delivery_store

SECRET = "test-feedback-secret"
store = delivery_store  # the sample run's DuckDB (days DAY, DAY2), subscriptions of the example file


@pytest.fixture
def slack() -> Iterator[FakeSlackServer]:
    with FakeSlackServer(SAMPLE_EXPORT, TOKEN) as server:
        yield server


ENGINEERING = "C02ENGINRG"
PROTECTED = {"needs_you", "waiting_on_you", "waiting_on_others"}


# -- the rule, pure ----------------------------------------------------------------------------------


def _event(value: str, kind: str = "question", channel: str = "C1", people=("U9",), reader="U1", pos=0):
    return FeedbackEvent(reader, "2026-11-03", pos, value, "slack", f"i{pos}", kind, channel, tuple(people))


def test_leanings_are_smoothed_per_reader_and_bounded():
    one = adjustments_from("U1", [_event(NOT_USEFUL)])
    assert one.kinds == {"question": pytest.approx(-1 / 3, abs=1e-3)}
    assert one.delta("question", "C1", ["U9"]) == pytest.approx(-(1 / 3 + 1 / 3 + 0.5 / 3), abs=1e-3)
    habit = adjustments_from("U1", [_event(NOT_USEFUL, pos=p) for p in range(3)])
    assert habit.channels["C1"] == pytest.approx(-0.6)  # 3 of 3 marked down: more, but not buried
    assert habit.delta("question", "C1", ["U9"]) >= -FeedbackPolicy().max_penalty
    many = adjustments_from("U1", [_event(NOT_USEFUL, pos=p) for p in range(50)])
    assert many.delta("question", "C1", ["U9"]) == -FeedbackPolicy().max_penalty
    mixed = adjustments_from("U1", [_event(NOT_USEFUL), _event(USEFUL, pos=1)])
    assert mixed.empty  # one up, one down: no leaning
    assert adjustments_from("U2", [_event(NOT_USEFUL)]).empty  # only the reader's own events count
    up = adjustments_from("U1", [_event(USEFUL, pos=p) for p in range(9)])
    assert up.delta("question", "C1", ["U9"]) == FeedbackPolicy().max_boost


def test_reactions_and_signed_tokens():
    useful, not_useful = ("+1", "thumbsup"), ("-1", "thumbsdown")
    assert reaction_value("+1::skin-tone-3", useful, not_useful) == USEFUL
    assert reaction_value("thumbsdown", useful, not_useful) == NOT_USEFUL
    assert reaction_value("tada", useful, not_useful) is None
    token = feedback_token(SECRET, "U1", "2026-11-03", 4, NOT_USEFUL)
    claim = read_token(SECRET, token)
    assert (claim.reader_id, claim.day, claim.position, claim.value) == ("U1", "2026-11-03", 4, NOT_USEFUL)
    assert read_token("another-secret", token) is None
    payload, signature = token.split(".")
    other = feedback_token(SECRET, "U2", "2026-11-03", 4, NOT_USEFUL).split(".")[0]
    assert read_token(SECRET, f"{other}.{signature}") is None  # another reader's line, same signature
    altered = signature[:-1] + ("1" if signature.endswith("0") else "0")
    assert read_token(SECRET, f"{payload}.{altered}") is None
    assert read_token(SECRET, "garbage") is None and read_token(SECRET, "a.b") is None


@pytest.mark.parametrize("seed", [1, 2])
def test_feedback_ranking_equals_the_reference(seed):
    """rank_with_feedback over the index equals the reference ranking with the same adjustment, and
    without adjustments it is exactly rank_for."""
    users, names, channels, items, authors, _, open_items = _random_day(seed)
    rng = random.Random(seed)
    index = BriefingIndex(DAY, items, channels, names, "https://acme.slack.com", authors_of=authors)
    kinds = sorted({i.kind for i in items})
    checked = moved = 0
    for uid in users:
        reader = reader_context(uid, channels.values())
        events = [
            FeedbackEvent(
                uid,
                DAY,
                k,
                rng.choice([USEFUL, NOT_USEFUL, NOT_USEFUL]),
                "slack",
                None,
                rng.choice(kinds),
                rng.choice(sorted(channels)),
                tuple(rng.sample(sorted(users), 2)),
            )
            for k in range(rng.randint(0, 8))
        ]
        adj = adjustments_from(uid, events)

        rank = functools.partial(index.rank_for, reader, open_items=open_items[uid])

        def adjust(s, adj=adj, uid=uid):
            return adj.delta(s.item.kind, s.item.channel_id, people_of(s.item, uid, authors))

        for kw in ({}, {"max_lines": 6}, {"max_lines": 40, "section_caps": {"needs_you": 2, "updates": 30}}):
            expected = rank_items_for_reader(
                reader,
                items,
                open_items=open_items[uid],
                channels=channels,
                user_names=names,
                authors_of=authors,
                adjust=adjust,
                **kw,
            )
            got = rank_with_feedback(rank, adj, authors, **kw)
            assert [(s.item.item_id, s.section, s.score) for s in got] == [
                (s.item.item_id, s.section, s.score) for s in expected
            ], (uid, kw)
            plain = rank(**kw)
            assert rank_with_feedback(rank, None, authors, **kw) == plain
            checked += 1
            moved += [s.item.item_id for s in got] != [s.item.item_id for s in plain]
    assert checked > 50 and moved > 5


# -- Slack: reactions on the DM's line replies, read back by the next day's run ------------------------


def _lines(db, day: str, user: str) -> list[dict]:
    return db.query(
        "SELECT position, section, item_id, kind, channel_id, score FROM briefing_lines "
        "WHERE day = ? AND user_id = ? ORDER BY position",
        [day, user],
    )


def _section_order(lines: list[dict], section: str) -> list[str]:
    return [ln["item_id"] for ln in lines if ln["section"] == section]


def test_reactions_on_dm_lines_rank_those_lines_lower_for_that_reader_only(store, slack, tmp_path):
    settings = make_settings(tmp_path, duckdb_path=store.path)
    resources = {
        **settings_for(slack),
        "feedback": FeedbackResource(slack_lines=True, secret=SECRET, url="https://fb.example.com"),
    }
    defs = build_definitions(settings, resources=resources)
    baseline = {u: _lines(store, DAY2, u) for u in (ALICE, ERIN)}
    day_lines = _lines(store, DAY, ERIN)
    with DagsterInstance.ephemeral() as instance:
        # 1. the deliver job sends DAY's DMs and posts every line as a reply in the DM's thread
        result = deliver_run(
            defs, instance, days=[DAY], users=[ALICE, ERIN], channels=["slack"], any_time=True
        )
        assert result.success
        metadata = result.output_for_node("deliver_due_briefings")
        assert metadata["sent"] == 2
        row = store.query(
            "SELECT address, external_id FROM deliveries WHERE day = ? AND user_id = ? AND channel = 'slack'",
            [DAY, ERIN],
        )[0]
        dm, parent = row["address"], row["external_id"].split(",")[0]
        replies = slack.replies_posted(dm, parent)
        by_position = {
            r["params"]["metadata"]["event_payload"]["position"]: r["ts"]
            for r in replies
            if isinstance(r["params"].get("metadata"), dict)
        }
        assert set(by_position) == {-1, *(ln["position"] for ln in day_lines)}  # the hint, then each line
        # 2. Erin marks down the questions of #engineering and her "Needs you" line, likes an
        # incident; Alice's 👎 on one of Erin's lines must not count
        down = [
            ln["position"]
            for ln in day_lines
            if (ln["channel_id"] == ENGINEERING and ln["kind"] == "question") or ln["section"] == "needs_you"
        ]
        up = next(ln["position"] for ln in day_lines if ln["kind"] == "incident")
        other = next(ln["position"] for ln in day_lines if ln["channel_id"] == "C06RANDOM0")
        assert len(down) >= 3
        for p in down:
            slack.react(dm, by_position[p], "-1", ERIN)
        slack.react(dm, by_position[up], "+1::skin-tone-2", ERIN)
        slack.react(dm, by_position[other], "-1", ALICE)
        slack.react(dm, by_position[other], "eyes", ERIN)  # not a feedback reaction

        # 3. the next day's briefings: the run reads the reactions, then ranks
        instance.add_dynamic_partitions(SUBSCRIBED_USERS, [ALICE, ERIN])
        run = defs.resolve_job_def("user_briefings_job").execute_in_process(
            instance=instance, tags=briefing_range_tags(DAY2, DAY2, [ALICE, ERIN]), raise_on_error=False
        )
        assert run.success
        shown = [e.materialization.metadata for e in run.get_asset_materialization_events()]
    events = store.query("SELECT reader_id, position, value, source FROM feedback_events ORDER BY position")
    assert {(e["reader_id"], e["position"], e["value"]) for e in events} == {
        *((ERIN, p, NOT_USEFUL) for p in down),
        (ERIN, up, USEFUL),
    }
    after = {u: _lines(store, DAY2, u) for u in (ALICE, ERIN)}
    # Alice's briefing is untouched: feedback is per reader
    assert after[ALICE] == baseline[ALICE]
    # Erin's lines that need her are all there, in place, with their scores
    for section in PROTECTED:
        assert [(ln["item_id"], ln["score"]) for ln in after[ERIN] if ln["section"] == section] == [
            (ln["item_id"], ln["score"]) for ln in baseline[ERIN] if ln["section"] == section
        ]
    assert any(ln["section"] == "needs_you" for ln in after[ERIN])
    # #engineering lines score lower and come later in their section
    before_score = {ln["item_id"]: ln["score"] for ln in baseline[ERIN]}
    eng = [ln for ln in after[ERIN] if ln["channel_id"] == ENGINEERING and ln["section"] not in PROTECTED]
    assert eng and all(ln["score"] < before_score.get(ln["item_id"], 99) for ln in eng)
    updates_before, updates_after = (_section_order(x[ERIN], "updates") for x in (baseline, after))
    eng_ids = {ln["item_id"] for ln in baseline[ERIN] + after[ERIN] if ln["channel_id"] == ENGINEERING}
    first_eng = [
        next(i for i, x in enumerate(order) if x in eng_ids) for order in (updates_before, updates_after)
    ]
    assert first_eng[1] > first_eng[0], (updates_before, updates_after)
    # the materialization says what feedback did
    [erin_meta] = [m for m in shown if "feedback_events" in m]  # Alice's has none
    assert ERIN in erin_meta["reader"].value and len(shown) == 2
    assert erin_meta["feedback_events"].value == len(down) + 1
    assert erin_meta["feedback_demoted_lines"].value > 0
    assert erin_meta["feedback_leanings"].value["channel"][ENGINEERING] < 0


def test_rereading_reactions_is_idempotent_and_a_removed_reaction_retracts(store, slack, tmp_path):
    settings = make_settings(tmp_path, duckdb_path=store.path)
    feedback = FeedbackResource(slack_lines=True)
    resources = {**settings_for(slack), "feedback": feedback}
    defs = build_definitions(settings, resources=resources)
    with DagsterInstance.ephemeral() as instance:
        assert deliver_run(
            defs, instance, days=[DAY], users=[ERIN], channels=["slack"], any_time=True
        ).success
    row = store.query(
        "SELECT address, external_id FROM deliveries WHERE user_id = ? AND channel = 'slack'", [ERIN]
    )[0]
    dm, parent = row["address"], row["external_id"].split(",")[0]
    replies = slack.replies_posted(dm, parent)
    line_ts = [r["ts"] for r in replies if r["params"]["metadata"]["event_payload"]["position"] >= 0]
    slack.react(dm, line_ts[0], "thumbsdown", ERIN)
    slack.react(dm, line_ts[1], "-1", ERIN)

    def sync():
        return sync_slack(store, feedback.slack(resources["slack_delivery"]), feedback.config(), day=DAY2)

    assert sync().events_recorded == 2
    again = sync()
    assert (again.events_recorded, again.events_retracted, again.lines_posted) == (0, 0, 0)
    assert store.scalar("SELECT count(*) FROM feedback_events") == 2
    slack.unreact(dm, line_ts[1], "-1", ERIN)
    assert sync().events_retracted == 1
    assert store.scalar("SELECT count(*) FROM feedback_events WHERE retracted_at IS NULL") == 1
    slack.react(dm, line_ts[1], "-1", ERIN)
    assert sync().events_recorded == 1  # restored, not duplicated
    assert store.scalar("SELECT count(*) FROM feedback_events") == 2
    # a second delivery run posts no line twice
    with DagsterInstance.ephemeral() as instance:
        assert deliver_run(
            defs, instance, days=[DAY], users=[ERIN], channels=["slack"], any_time=True
        ).success
    assert len(slack.replies_posted(dm, parent)) == len(replies)


# -- email links, the endpoint, the CLI ----------------------------------------------------------------


def _http(url: str, data: dict | None = None) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_email_links_record_feedback_and_forged_ones_are_refused(store, tmp_path, monkeypatch):
    settings = make_settings(tmp_path, duckdb_path=store.path)
    server = make_server(store, SECRET, port=0)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with smtp_server() as (inbox, port):
            resources = {**settings_for(None, port), "feedback": FeedbackResource(url=base, secret=SECRET)}
            defs = build_definitions(settings, resources=resources)
            with DagsterInstance.ephemeral() as instance:
                ok = deliver_run(defs, instance, days=[DAY], users=[ALICE], channels=["email"], any_time=True)
                assert ok.success
        [message] = inbox.messages
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        lines = _lines(store, DAY, ALICE)
        links = re.findall(r'href="(http://127\.0\.0\.1:\d+/feedback\?t=[^"]+)"', html)
        assert len(links) == 2 * len(lines)  # "useful" and "not useful" per line
        assert SECRET not in html and SECRET not in text
        assert links[1].replace("&amp;", "&") in text
        not_useful = links[2 * 3 + 1].replace("&amp;", "&")  # line 4, "not useful"
        token = urllib.parse.parse_qs(urllib.parse.urlparse(not_useful).query)["t"][0]

        status, page = _http(not_useful)  # opening the link only asks (mail scanners open links too)
        assert status == 200 and "Mark it not useful" in page
        assert store.scalar("SELECT count(*) FROM feedback_events") == 0
        for _ in range(2):  # the button; twice is one event
            status, page = _http(f"{base}/feedback", {"t": token})
            assert status == 200 and "Recorded" in page
        rows = store.query("SELECT reader_id, position, value, source, kind FROM feedback_events")
        assert rows == [
            {
                "reader_id": ALICE,
                "position": 3,
                "value": NOT_USEFUL,
                "source": "email",
                "kind": lines[3]["kind"],
            }
        ]
        forged = [
            feedback_token("not-the-secret", ALICE, DAY, 4, NOT_USEFUL),
            token.split(".")[0].replace("A", "B", 1) + "." + token.split(".")[1],
            feedback_token(SECRET, ALICE, DAY, 4, NOT_USEFUL).split(".")[0] + "." + token.split(".")[1],
        ]
        for bad in forged:
            assert _http(f"{base}/feedback?t={urllib.parse.quote(bad)}")[0] == 403
            assert _http(f"{base}/feedback", {"t": bad})[0] == 403
        assert _http(f"{base}/feedback", {"t": feedback_token(SECRET, ALICE, DAY, 999, USEFUL)})[0] == 404
        # a link to a line that the briefing, rebuilt since, holds another item on
        rebuilt = feedback_token(SECRET, ALICE, DAY, 3, USEFUL, "another-item")
        assert (
            _http(f"{base}/feedback?t={rebuilt}")[0] == 404
            and _http(f"{base}/feedback", {"t": rebuilt})[0] == 404
        )
        assert store.scalar("SELECT count(*) FROM feedback_events") == 1
    finally:
        server.shutdown()
        server.server_close()

    # the CLI records the same event
    monkeypatch.setenv("OUTROPY_DUCKDB_PATH", str(store.path))
    assert main(["feedback", "--user", ALICE, "--date", DAY, "--line", "2", "--useful"]) == 0
    assert main(["feedback", "--user", ALICE, "--date", DAY, "--line", "2", "--useful"]) == 0
    assert main(["feedback", "--user", ALICE, "--date", DAY, "--line", "999", "--not-useful"]) == 1
    rows = store.query("SELECT position, value, source FROM feedback_events ORDER BY position")
    assert rows == [
        {"position": 1, "value": USEFUL, "source": "cli"},
        {"position": 3, "value": NOT_USEFUL, "source": "email"},
    ]
