"""A reader's own preferences in the subscriptions file: muted channels, watched people and
keywords, sections on or off, a maximum length.

The loader's checks on the sample directory; then each preference on real briefings of the sample
workspace, built by the briefings stage from a copy of the sample run's DuckDB after
`slack_directory`'s stage stored the subscriptions file; then one small workspace run end to end
through Dagster (access control of watched items, needs-you lines under mute and max_lines, the
materialization's metadata).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, MultiPartitionKey

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.defs.metadata import briefing_metadata
from outropy_pipelines.domain.briefing_index import BriefingIndex
from outropy_pipelines.domain.models import Briefing, Directory, Item, ReaderPreferences, User
from outropy_pipelines.domain.reader_preferences import Watch, keyword_pattern
from outropy_pipelines.domain.subscriptions import (
    SubscriptionsFileError,
    default_subscriptions,
    load_subscriptions_file,
)
from outropy_pipelines.pipeline_runner import PipelineRunner
from outropy_pipelines.stages.briefings import brief_day
from outropy_pipelines.stages.directory import write_directory
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.directory import read_directory, read_subscriptions
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.export_builder import ExportBuilder, ts_at
from outropy_pipelines_tests.reference_ranking import build_briefing
from outropy_pipelines_tests.test_briefing_index import DAY as RANDOM_DAY
from outropy_pipelines_tests.test_briefing_index import _random_day

WS = "https://acme.slack.com"
ALICE, BOB, GRACE, OLIVIA = "U001ALICE", "U002BOB", "U007GRACE", "U015OLIVIA"
ENGINEERING, INCIDENTS, LEADERSHIP, GROUP_DM = "C02ENGINRG", "C03INCIDNT", "G01LEADERS", "G02MPDMABC"


@pytest.fixture(scope="module")
def directory() -> Directory:
    return SlackExportReader(SAMPLE_EXPORT).read_directory()[0]


def _load(tmp_path: Path, directory: Directory, text: str) -> dict:
    path = tmp_path / "subscriptions.yaml"
    path.write_text(text, encoding="utf-8")
    subs = load_subscriptions_file(path, directory, default_subscriptions(directory))
    return {s.user_id: s.preferences for s in subs}


# -- the file ------------------------------------------------------------------------------------


def test_names_resolve_against_the_directory_and_a_person_overrides_the_defaults(tmp_path, directory):
    prefs = _load(
        tmp_path,
        directory,
        "defaults:\n"
        "  mute_channels: ['#random', deploys]\n"
        "  sections: {updates: off, decisions: off}\n"
        "  max_lines: 20\n"
        "users:\n"
        "  U001ALICE:\n"
        "    mute_channels: [C08DEPLOYS]\n"
        "    watch_people: [Grace Liu, '@dan', U003CAROL, grace]\n"
        "    watch_keywords: [postgres, '  on call ']\n"
        "    sections: {decisions: on, waiting_on_others: off}\n"
        "  U002BOB: {max_lines: off}\n",
    )
    alice, bob, carol = prefs[ALICE], prefs[BOB], prefs["U003CAROL"]
    assert alice == ReaderPreferences(
        mute_channels=["C08DEPLOYS"],  # a person's list replaces the default's
        watch_people=[GRACE, "U004DAN", "U003CAROL"],  # names, handles and ids, once each
        watch_keywords=["postgres", "on call"],
        sections={"updates": False, "decisions": True, "waiting_on_others": False},  # merged
        max_lines=20,
    )
    assert bob.max_lines is None and bob.mute_channels == ["C06RANDOM0", "C08DEPLOYS"]
    assert carol.sections == {"updates": False, "decisions": False} and carol.watch_people == []


def test_the_example_file_loads(directory):
    path = Path(__file__).resolve().parents[1] / "data" / "subscriptions.example.yaml"
    subs = {s.user_id: s for s in load_subscriptions_file(path, directory, default_subscriptions(directory))}
    assert subs[GRACE].preferences == ReaderPreferences(
        mute_channels=["C06RANDOM0"],
        watch_people=["U004DAN"],
        watch_keywords=["postgres"],
        sections={"updates": False},
        max_lines=15,
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{watch_people: [Nobody Here]}", "'Nobody Here' matches no one"),
        ("{watch_people: {alice: yes}}", "watch_people must be a list"),
        ("{mute_channels: ['#no-such-channel']}", "'#no-such-channel' matches no conversation"),
        ("{sections: {needs_you: off}}", "needs_you cannot be switched off"),
        ("{sections: {waiting_on_you: off}}", "waiting_on_you cannot be switched off"),
        ("{sections: {blockers: off}}", "unknown section 'blockers'"),
        ("{sections: {updates: sometimes}}", "updates must be on or off"),
        ("{max_lines: 0}", "max_lines must be a whole number"),
        ("{max_lines: ten}", "max_lines must be a whole number"),
        ("{watch_keywords: ['']}", "watch_keywords: empty entry"),
        ("{mute_channel: ['#random']}", "unknown key(s) ['mute_channel']"),
    ],
)
def test_a_bad_preference_is_an_error_naming_the_entry(tmp_path, directory, entry, message):
    with pytest.raises(SubscriptionsFileError) as err:
        _load(tmp_path, directory, f"users:\n  U001ALICE: {entry}\n")
    assert message in str(err.value) and "U001ALICE" in str(err.value)
    with pytest.raises(SubscriptionsFileError, match="defaults"):
        _load(tmp_path, directory, f"defaults: {entry}\n")


def test_a_name_two_people_share_is_ambiguous(tmp_path, directory):
    twins = directory.model_copy(
        update={
            "users": [*directory.users, User(user_id="U099ALICE", name="alice2", real_name="Alice Moreau")]
        }
    )
    with pytest.raises(SubscriptionsFileError, match=r"'Alice Moreau' is ambiguous \(U001ALICE .*U099ALICE"):
        _load(tmp_path, twins, "users:\n  U002BOB: {watch_people: [Alice Moreau]}\n")
    assert _load(tmp_path, twins, "users:\n  U002BOB: {watch_people: [U099ALICE]}\n")[BOB].watch_people == [
        "U099ALICE"
    ]


def test_keywords_match_whole_words_in_any_case():
    pattern = keyword_pattern("on call")
    assert pattern.search("Who is ON  CALL tonight?") and not pattern.search("the oncall rota")
    postgres = keyword_pattern("postgres")
    assert postgres.search("Postgres 16 is out") and postgres.search("(postgres)")
    assert not postgres.search("postgresql") and not postgres.search("mypostgres")
    watch = Watch.of(ReaderPreferences(watch_people=[ALICE, GRACE], watch_keywords=["postgres"]), ALICE, {})
    item = Item(
        day="2026-11-05",
        item_id="i",
        thread_id="C:1",
        channel_id="C",
        kind="decision",
        title="we move to PostgreSQL",
        detail="the Postgres team agreed",
        provider="t",
        prompt_version="t",
    )
    assert watch.why(item, {}) == 'you watch "postgres"'  # the reader never watches themselves
    item.mentions = [ALICE, GRACE]
    assert watch.why(item, {}) == f"you watch {GRACE}"  # no name known: the id


def test_preferences_are_stored_with_the_subscription(sample_run, tmp_path):
    db = _copy_store(sample_run, tmp_path)
    _store_subscriptions(
        db,
        tmp_path,
        "users:\n  U001ALICE: {mute_channels: ['#random'], watch_keywords: [postgres], max_lines: 12}\n",
    )
    subs = {s.user_id: s for s in read_subscriptions(db)}
    assert subs[ALICE].preferences == ReaderPreferences(
        mute_channels=["C06RANDOM0"], watch_keywords=["postgres"], max_lines=12
    )
    assert subs[BOB].preferences == ReaderPreferences()
    assert db.scalar("SELECT preferences FROM subscriptions WHERE user_id = ?", [BOB]) is None


# -- the index against the reference ------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_index_equals_the_reference_with_preferences_on_a_random_day(seed):
    """Every reader of a random day (test_briefing_index) with random preferences: the index's
    briefing equals the reference's brute-force restatement of the rules, lines, intro and counts."""
    users, names, channels, items, authors, thread_ts_of, open_items = _random_day(seed)
    index = BriefingIndex(RANDOM_DAY, items, channels, names, WS, thread_ts_of, authors_of=authors)
    rng = random.Random(seed)
    conversations = sorted(channels)
    switchable = ["waiting_on_others", "decisions", "blockers_incidents", "updates"]
    effects: dict[str, int] = {}
    for uid, user in users.items():
        prefs = ReaderPreferences(
            mute_channels=rng.sample(conversations, rng.choice([0, 2, 6])),
            watch_people=rng.sample(sorted(users), rng.choice([0, 0, 1, 3])),
            watch_keywords=rng.sample(
                ["same title", "PLAN", "title 1", "nothing here"], rng.choice([0, 1, 2])
            ),
            sections={s: rng.random() < 0.5 for s in rng.sample(switchable, rng.randint(0, 2))},
            max_lines=rng.choice([None, None, 1, 6, 14]),
        )
        waiting = [o.model_copy(update={"kind": "question"}) for o in open_items[uid]]
        kw = {"section_caps": {"updates": 4}} if rng.random() < 0.3 else {}
        fast = index.build_briefing(user, open_items[uid], waiting_items=waiting, preferences=prefs, **kw)
        reference = build_briefing(
            RANDOM_DAY,
            user,
            items,
            channels,
            names,
            open_items[uid],
            WS,
            thread_ts_of,
            authors_of=authors,
            waiting_items=waiting,
            preferences=prefs,
            **kw,
        )
        assert fast.model_dump() == reference.model_dump(), (uid, prefs, kw)
        for key, n in fast.preferences.items():
            effects[key] = effects.get(key, 0) + n
    # the day exercises every rule
    assert all(
        effects[k] > 0 for k in ("lines_watched", "items_muted", "items_switched_off", "lines_left_out")
    )


# -- briefings of the sample, built by the stage -------------------------------------------------

DAY = "2026-11-05"


def _copy_store(sample_run, tmp_path: Path) -> DuckDBStore:
    path = tmp_path / "outropy.duckdb"
    shutil.copy(sample_run.settings.duckdb_path, path)
    return DuckDBStore(path)


def _store_subscriptions(db: DuckDBStore, tmp_path: Path, text: str) -> None:
    path = tmp_path / "subscriptions.yaml"
    path.write_text(text, encoding="utf-8")
    write_directory(db, SlackExportReader(SAMPLE_EXPORT).read_directory()[0], [], path)


@pytest.fixture
def brief(sample_run, tmp_path):
    """brief(subscriptions_yaml, user, day) -> that reader's briefing, built by the stage from the
    subscriptions stored by the directory stage (on a copy of the sample run's DuckDB)."""
    db = _copy_store(sample_run, tmp_path)

    def build(text: str, user: str, day: str = DAY) -> Briefing:
        _store_subscriptions(db, tmp_path, text)
        (b,) = brief_day(db, read_directory(db), day, [user], WS).briefings
        return b

    return build


def _lines(b: Briefing) -> list[tuple[str, str, str]]:
    return [(ln.section, ln.channel_id, ln.item_id) for ln in b.lines]


def test_muted_channels_leave_the_briefing_but_not_what_needs_you(brief):
    before = brief("{}", ALICE)
    assert before.preferences == {}
    sections = {(ln.section, ln.channel_id) for ln in before.lines}
    # Alice's sample day: a question waiting on her in #engineering, a new ask in the group DM
    assert ("waiting_on_you", ENGINEERING) in sections and ("needs_you", GROUP_DM) in sections
    assert ("decisions", ENGINEERING) in sections and ("updates", ENGINEERING) in sections
    after = brief(f"users:\n  {ALICE}: {{mute_channels: ['#engineering', {GROUP_DM}]}}\n", ALICE)
    muted = {ENGINEERING, GROUP_DM}
    ranked = ("decisions", "blockers_incidents", "updates")
    # what needs her, and her own asks (You're waiting on), stay as they were
    assert [x for x in _lines(after) if x[0] not in ranked] == [
        x for x in _lines(before) if x[0] not in ranked
    ]
    # the news of muted conversations leave; the others stay, and fill the places freed
    assert not [ln for ln in after.lines if ln.section in ranked and ln.channel_id in muted]
    stayed = [x for x in _lines(before) if x[0] in ranked and x[1] not in muted]
    assert set(stayed) < set(_lines(after))
    updates = [ln for ln in after.lines if ln.section == "updates"]
    assert len(updates) == sum(1 for ln in before.lines if ln.section == "updates") == 10
    assert after.preferences["muted_channels"] == 2
    assert after.preferences["items_muted"] >= sum(
        1 for x in _lines(before) if x[0] in ranked and x[1] in muted
    )


def test_sections_switched_off_leave_the_briefing(brief):
    before = brief("{}", ALICE)
    off = ("updates", "waiting_on_others", "blockers_incidents")
    after = brief(
        f"users:\n  {ALICE}: {{sections: {{updates: off, waiting_on_others: off, blockers_incidents: off}}}}\n",
        ALICE,
    )
    assert _lines(after) == [x for x in _lines(before) if x[0] not in off]
    assert after.preferences["items_switched_off"] >= sum(1 for ln in before.lines if ln.section in off)
    assert (
        "## Updates in your channels" not in after.markdown and "## You're waiting on" not in after.markdown
    )


def test_max_lines_keeps_what_needs_you_and_says_how_many_were_left_out(brief):
    before = brief("{}", ALICE)
    needs = [x for x in _lines(before) if x[0] in ("waiting_on_you", "needs_you")]
    assert len(needs) == 3 and len(before.lines) > 10
    after = brief(f"users:\n  {ALICE}: {{max_lines: 6}}\n", ALICE)
    # what needs her, then the others in page order while there is room
    others = [x for x in _lines(before) if x[0] not in ("waiting_on_you", "needs_you")]
    assert _lines(after) == [x for x in _lines(before) if x in needs or x in others[:3]]
    left_out = len(before.lines) - 6
    assert after.preferences["lines_left_out"] == left_out
    assert after.intro.endswith(f"{left_out} more items not shown (your limit: 6 lines).")
    assert (
        f"{left_out} more items not shown" in after.markdown
        and f"{left_out} more items not shown" in after.html
    )
    # a limit below what needs her still shows all of it
    tiny = brief(f"users:\n  {ALICE}: {{max_lines: 1}}\n", ALICE)
    assert _lines(tiny) == needs and tiny.preferences["lines_left_out"] == len(before.lines) - 3
    # a limit above the briefing's length changes nothing
    assert _lines(brief(f"users:\n  {ALICE}: {{max_lines: 200}}\n", ALICE)) == _lines(before)


def test_a_watched_person_is_always_shown_with_the_reason(brief):
    """Bob is not in #leadership; on 2026-11-05 Olivia asked Erin in #incidents (a resolved ask past
    Bob's cap of updates) and decided in #engineering."""
    before = brief("{}", BOB)
    after = brief(f"users:\n  {BOB}: {{watch_people: [Olivia Brown], max_lines: 3}}\n", BOB)
    watched = [ln for ln in after.lines if ln.reason.endswith("you watch Olivia Brown")]
    assert len(watched) == 2 and after.preferences["lines_watched"] == 2
    added = [ln for ln in watched if ln.item_id not in {x.item_id for x in before.lines}]
    assert [(ln.section, ln.channel_id) for ln in added] == [("updates", INCIDENTS)]
    assert added[0].reason == "resolved action item in #incidents · you watch Olivia Brown"
    # watch beats max_lines: her lines stay however short the briefing is
    assert {ln.item_id for ln in watched} <= {ln.item_id for ln in after.lines}
    assert all(ln.channel_id != LEADERSHIP for ln in after.lines)


def test_a_watched_item_in_a_private_channel_reaches_only_its_members(brief):
    """Olivia's leadership posts of 2026-11-02 (a private channel of Ben, Olivia, Anna, Chloe and
    Alice): Alice, a member, gets them with the watch's reason; Bob never does."""
    day = "2026-11-02"
    watch = "{watch_people: [olivia], watch_keywords: [revenue dashboard]}"
    bob = brief(f"users:\n  {BOB}: {watch}\n", BOB, day)
    assert all(ln.channel_id != LEADERSHIP for ln in bob.lines)
    assert "revenue dashboard" not in bob.markdown and "lines_watched" in bob.preferences
    assert bob.preferences["lines_watched"] == 0
    alice = brief(f"users:\n  {ALICE}: {watch}\n", ALICE, day)
    leadership = [ln for ln in alice.lines if ln.channel_id == LEADERSHIP]
    assert leadership and all("you watch Olivia Brown" in ln.reason for ln in leadership)


def test_watch_beats_mute_and_sections_off(brief):
    before = brief("{}", ALICE)
    grace = [ln for ln in before.lines if ln.text.startswith("Grace Liu:") and ln.channel_id == ENGINEERING]
    assert grace
    after = brief(
        f"users:\n  {ALICE}: {{mute_channels: ['#engineering'], sections: {{blockers_incidents: off}}, "
        "watch_people: [grace]}\n",
        ALICE,
    )
    shown = {ln.item_id: ln for ln in after.lines}
    for ln in grace:
        assert shown[ln.item_id].reason == f"{ln.reason} · you watch Grace Liu"
    keyword = brief(
        f"users:\n  {ALICE}: {{mute_channels: ['#engineering'], watch_keywords: [billing-web]}}\n", ALICE
    )
    assert [ln.reason for ln in keyword.lines if "billing-web" in ln.text] == [
        'open blocker in #engineering · you watch "billing-web"'
    ]


def test_the_metadata_shows_what_the_preferences_did(brief):
    plain = briefing_metadata(brief("{}", ALICE))
    assert "preferences" not in plain and "lines_left_out" not in plain
    meta = briefing_metadata(
        brief(f"users:\n  {ALICE}: {{mute_channels: ['#engineering'], max_lines: 5}}\n", ALICE)
    )
    counts = {r.data["preference"]: r.data["count"] for r in meta["preferences"].value.records}
    assert counts["muted_channels"] == 1 and counts["max_lines"] == 5 and counts["items_muted"] > 0
    assert meta["lines_left_out"] == counts["lines_left_out"] > 0


# -- end to end through Dagster ----------------------------------------------------------------

D1 = "2026-11-03"
ANN, BEA, CY, DEV = "U1ANN", "U2BEA", "U3CY", "U4DEV"
GENERAL, OPS, SECRET, RANDOM = "C1GENERAL", "C2OPS", "G1SECRET", "C3RANDOM"
MARK = "SECRETMARK"


def _workspace(root: Path) -> Path:
    b = ExportBuilder()
    for uid, name in [(ANN, "ann"), (BEA, "bea"), (CY, "cy"), (DEV, "dev")]:
        b.user(uid, name)
    b.channel(GENERAL, "general", [ANN, BEA, CY, DEV])
    b.channel(OPS, "ops", [BEA, CY, DEV])  # public, Ann is not a member
    b.channel(RANDOM, "random", [ANN, BEA, CY])
    b.channel(SECRET, "secret", [BEA, CY], kind="private")  # Ann may not see it
    b.post(SECRET, ts_at(D1, 9), CY, f"Decision: {MARK} we move the postgres cluster to the new region.")
    b.post(OPS, ts_at(D1, 9, 30), CY, "Decision: the staging cluster is rebuilt every Monday.")
    b.post(OPS, ts_at(D1, 9, 40), DEV, "Decision: we use Postgres 16 for the billing service.")
    b.post(RANDOM, ts_at(D1, 10), BEA, "Decision: the team lunch moves to Fridays.")
    b.post(RANDOM, ts_at(D1, 10, 5), BEA, f"<@{ANN}> can you book the lunch venue for Friday?")
    for n, what in enumerate(["design review", "release train", "hiring loop", "retro"]):
        b.post(GENERAL, ts_at(D1, 11, n), DEV, f"Decision: the {what} moves to Thursdays.")
    return b.write(root)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prefs")
    subs = tmp / "subscriptions.yaml"
    subs.write_text(
        f"users:\n  {ANN}:\n    mute_channels: ['#random']\n    watch_people: [cy]\n"
        "    watch_keywords: [postgres]\n    max_lines: 3\n",
        encoding="utf-8",
    )
    settings = make_settings(
        tmp, export=_workspace(tmp / "export"), slack_workspace_url=WS, subscriptions_file=subs
    )
    instance = DagsterInstance.ephemeral()
    runner = PipelineRunner(settings, instance=instance)
    assert runner.run([D1]).ok
    return runner.store, instance


def test_end_to_end_watch_mute_and_max_lines(workspace):
    store, instance = workspace
    lines = store.query(
        "SELECT section, channel_id, text, reason FROM briefing_lines WHERE user_id = ? ORDER BY position",
        [ANN],
    )
    by_text = {r["text"]: r for r in lines}
    # the private channel's decision (Cy, "postgres") never reaches Ann; every other rendering agrees
    assert all(r["channel_id"] != SECRET for r in lines)
    (row,) = store.query(
        "SELECT markdown, html, plain_text, blocks_json FROM briefings WHERE user_id = ?", [ANN]
    )
    assert not any(MARK in text for text in row.values())
    # watched in a public channel she is not in: by Cy, and about postgres
    ops = {r["text"]: r["reason"] for r in lines if r["channel_id"] == OPS}
    assert sorted(ops.values()) == [
        'you watch "postgres" · decision in #ops',
        "you watch Cy · decision in #ops",
    ]
    # the ask in muted #random needs her: kept; the lunch decision there is muted
    ask = [r for r in lines if r["channel_id"] == RANDOM]
    assert [(r["section"]) for r in ask] == ["needs_you"]
    assert not any("lunch moves" in t for t in by_text)
    # max_lines 3: the needs-you line and the two watched ones; #general's four decisions left out
    assert len(lines) == 3 and all(r["channel_id"] != GENERAL for r in lines)
    assert "4 more items not shown (your limit: 3 lines)." in row["markdown"]
    # the materialization's metadata
    key = str(MultiPartitionKey({"date": D1, "user": ANN}))
    (record,) = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey("user_briefings"), asset_partitions=[key]), limit=1
    ).records
    meta = record.asset_materialization.metadata
    counts = {r.data["preference"]: r.data["count"] for r in meta["preferences"].value.records}
    assert counts == {
        "muted_channels": 1,
        "watched_people": 1,
        "watched_keywords": 1,
        "sections_off": 0,
        "max_lines": 3,
        "lines_watched": 2,
        "items_muted": 1,
        "items_switched_off": 0,
        "lines_left_out": 4,
    }
    assert meta["lines_left_out"].value == 4
    # Bea, without preferences, gets the secret decision (she is a member) and no preference metadata
    bea = store.query("SELECT channel_id FROM briefing_lines WHERE user_id = ?", [BEA])
    assert {"channel_id": SECRET} in bea
