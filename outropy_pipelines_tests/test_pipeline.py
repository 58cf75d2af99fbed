"""The whole pipeline through Dagster on the sample workspace (see conftest.sample_run)."""

from __future__ import annotations

import json
import shutil

from dagster import AssetKey, DagsterInstance

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.defs.partitions import SUBSCRIBED_USERS
from outropy_pipelines.domain.days import day_window
from outropy_pipelines.pipeline_runner import PipelineRunner, select_days
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT, make_settings

ASSETS = [
    "slack_directory",
    "raw_slack_messages",
    "slack_threads",
    "classified_items",
    "entity_summaries",
    "user_briefings",
]

# Rows that must be identical after re-materializing (created_at is a timestamp of the write).
SNAPSHOTS = {
    "raw_messages": "SELECT * FROM raw_messages WHERE day = ? ORDER BY channel_id, ts",
    "quarantine": "SELECT * FROM quarantine WHERE day = ? ORDER BY location",
    "threads": "SELECT * FROM threads WHERE day = ? ORDER BY thread_id",
    "thread_messages": "SELECT * FROM thread_messages WHERE day = ? ORDER BY thread_id, ts",
    "items": "SELECT * FROM items WHERE day = ? ORDER BY item_id",
    "item_sources": "SELECT * FROM item_sources WHERE day = ? ORDER BY item_id, channel_id, ts",
    "entity_summaries": "SELECT * FROM entity_summaries WHERE day = ? ORDER BY entity_id",
    "briefings": "SELECT * EXCLUDE (created_at) FROM briefings WHERE day = ? ORDER BY user_id",
    "briefing_lines": "SELECT * FROM briefing_lines WHERE day = ? ORDER BY user_id, position",
}


def test_every_asset_materialized_for_every_sample_day(sample_run):
    run = sample_run
    assert run.summary.ok, run.summary
    assert run.days == run.answer_key["days"]
    for name in ASSETS[1:5]:
        parts = run.instance.get_materialized_partitions(AssetKey(name))
        assert set(parts) == set(run.days), name
    assert run.instance.get_latest_materialization_event(AssetKey("slack_directory")) is not None
    users = run.instance.get_dynamic_partitions(SUBSCRIBED_USERS)
    assert len(users) >= 25
    briefed = run.instance.get_materialized_partitions(AssetKey("user_briefings"))
    assert len(briefed) == len(users) * len(run.days)
    assert run.summary.check_failures == []


def test_briefings_for_every_subscribed_person_and_day(sample_run):
    store = sample_run.store
    subscribed = {r["user_id"] for r in store.query("SELECT user_id FROM subscriptions WHERE active")}
    rows = store.query("SELECT CAST(day AS VARCHAR) AS day, user_id, markdown, item_count FROM briefings")
    assert {(r["day"], r["user_id"]) for r in rows} == {(d, u) for d in sample_run.days for u in subscribed}
    # nobody is left with an empty week, and the markdown files exist
    busy = store.query("SELECT user_id, sum(item_count) AS n FROM briefings GROUP BY user_id HAVING n = 0")
    assert busy == []
    some = rows[0]
    path = sample_run.settings.briefings_dir / some["day"] / f"{some['user_id']}.md"
    assert path.read_text() == some["markdown"]
    # bots and deleted users get no briefing
    bots = {r["user_id"] for r in store.query("SELECT user_id FROM users WHERE is_bot OR deleted")}
    assert bots and not bots & subscribed


def test_briefing_lines_link_to_their_sources(sample_run):
    lines = sample_run.store.query("SELECT sources, permalinks FROM briefing_lines")
    assert len(lines) > 100
    for line in lines:
        assert line["permalinks"], line
        assert all(p.startswith("https://acme.slack.com/archives/") for p in line["permalinks"])


def test_planted_items_found_with_the_right_kind(sample_run):
    store, key = sample_run.store, sample_run.answer_key
    found_sources = {}
    for r in store.query(
        "SELECT i.kind, s.channel_id, s.ts FROM items i JOIN item_sources s USING (day, item_id)"
    ):
        found_sources.setdefault((r["channel_id"], r["ts"]), set()).add(r["kind"])
    planted = key["planted_items"]
    hits = [
        p
        for p in planted
        if any(p["kind"] in found_sources.get((s["channel_id"], s["ts"]), set()) for s in p["sources"])
    ]
    missed = [(p["kind"], p["title"]) for p in planted if p not in hits]
    recall = len(hits) / len(planted)
    assert recall >= 0.95, f"recall {recall:.2f}; missed: {missed}"  # issue 12: at least 95% found


def test_late_replies_join_their_parent_thread(sample_run):
    late = sample_run.answer_key["late_replies"]
    assert late
    for lr in late:
        rows = sample_run.store.query(
            "SELECT thread_id, is_new FROM thread_messages WHERE day = ? AND channel_id = ? AND ts = ?",
            [lr["reply_day"], lr["channel_id"], lr["reply_ts"]],
        )
        assert rows == [{"thread_id": f"{lr['channel_id']}:{lr['parent_ts']}", "is_new": True}], lr
        # the parent, from an earlier day file, is in the same day-record of the thread
        parent = sample_run.store.query(
            "SELECT is_new FROM thread_messages WHERE day = ? AND channel_id = ? AND ts = ?",
            [lr["reply_day"], lr["channel_id"], lr["parent_ts"]],
        )
        assert parent == [{"is_new": False}], lr


def test_private_channel_secret_reaches_members_only(sample_run):
    secret = sample_run.answer_key["private_secret"]
    members = set(secret["members"])
    rows = sample_run.store.query("SELECT user_id, markdown, html, blocks_json FROM briefings")
    seen_by = {r["user_id"] for r in rows if secret["phrase"] in r["markdown"]}
    leaked = {
        r["user_id"]
        for r in rows
        if r["user_id"] not in members
        and any(secret["phrase"] in (r[c] or "") for c in ("markdown", "html", "blocks_json"))
    }
    assert seen_by, "no member's briefing shows the private decision: the test would prove nothing"
    assert seen_by <= members
    assert leaked == set()
    lines = sample_run.store.query(
        "SELECT user_id FROM briefing_lines WHERE channel_id = ?", [secret["channel_id"]]
    )
    assert {r["user_id"] for r in lines} <= members


def _snapshot(store, day):
    return {name: store.query(sql, [day]) for name, sql in SNAPSHOTS.items()}


def test_rematerializing_a_day_leaves_identical_rows(tmp_path):
    settings = make_settings(tmp_path)
    instance = DagsterInstance.ephemeral()
    runner = PipelineRunner(settings, instance=instance)
    days = select_days(settings)[:3]
    assert runner.run(days).ok
    before = _snapshot(runner.store, days[1])
    counts = {t: runner.store.scalar(f"SELECT count(*) FROM {t}") for t in SNAPSHOTS}
    assert runner.run([days[1]]).ok
    after = _snapshot(runner.store, days[1])
    assert all(before[t] for t in ("raw_messages", "threads", "items", "briefings"))
    assert after == before
    assert {t: runner.store.scalar(f"SELECT count(*) FROM {t}") for t in SNAPSHOTS} == counts


def _noon_ts(day: str) -> str:
    return f"{day_window(day, 'UTC')[0] + 12 * 3600:.0f}.000321"


def test_broken_day_file_is_quarantined_and_the_rest_lands(tmp_path):
    export = tmp_path / "export"
    shutil.copytree(SAMPLE_EXPORT, export)
    day = "2026-11-03"
    victim = sorted(p for p in export.glob(f"*/{day}.json"))[0]
    good_channels = {p.parent.name for p in export.glob(f"*/{day}.json")} - {victim.parent.name}
    victim.write_text('[{"type": "message", "ts": "17')
    # a folder no conversation list names: read as a conversation of its posters, not quarantined
    (export / "not-a-channel").mkdir()
    stray = {"type": "message", "user": "U001ALICE", "text": "side note", "ts": _noon_ts(day)}
    (export / "not-a-channel" / f"{day}.json").write_text(json.dumps([stray]))
    settings = make_settings(tmp_path, export=export)
    runner = PipelineRunner(settings, instance=DagsterInstance.ephemeral())
    for _ in range(2):  # a re-run neither duplicates nor loses anything
        assert runner.run([day]).ok
        quarantine = runner.store.query(
            "SELECT location, reason, raw FROM quarantine WHERE day = ? ORDER BY location", [day]
        )
        (broken,) = quarantine
        assert broken["location"] == f"{victim.parent.name}/{day}.json"
        assert (
            broken["reason"].startswith("invalid JSON") and broken["raw"] == '[{"type": "message", "ts": "17'
        )
        landed = runner.store.query("SELECT DISTINCT channel_id FROM raw_messages WHERE day = ?", [day])
        folders = SlackExportReader(export).folder_map()
        assert {r["channel_id"] for r in landed} == {
            folders[name] for name in good_channels | {"not-a-channel"}
        }
        assert len(landed) >= 3 and folders["not-a-channel"] == "not-a-channel"
    event = runner.instance.get_latest_materialization_event(AssetKey("raw_slack_messages"))
    assert event.asset_materialization.metadata["quarantined"].value == 1
