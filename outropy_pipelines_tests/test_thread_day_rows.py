"""The threads stage's export of a day's rows: records cut to what building reads, built the same."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.domain.days import day_window, shift_day
from outropy_pipelines.domain.thread_builder import ThreadBuilder
from outropy_pipelines.stages.ingest import ingest_day
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store import threads as threads_store
from outropy_pipelines.store.directory import read_directory, replace_snapshot
from outropy_pipelines_tests.export_builder import ExportBuilder, ts_at

D1, D2 = "2026-11-02", "2026-11-03"
SAMPLE_EXPORT = Path(__file__).resolve().parents[1] / "data" / "sample_export"
PROFILE = {"real_name": "Ana Lima", "display_name": "ana", "image_72": "https://avatars/ana.png"}


def _odd_export(root: Path) -> Path:
    """Records of every shape the builder reads: blocks without text, attachments, files, metadata
    with nulls inside, null fields, bots, edits and deletions (kept whole), a reply count."""
    b = ExportBuilder()
    ana, bob = b.user("U01", "ana"), b.user("U02", "bob")
    gen = b.channel("C01", "general", [ana, bob])
    blocks = [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "blocks only: "},
                        {"type": "user", "user_id": "U02"},
                    ],
                }
            ],
        }
    ]
    root_ts = ts_at(D2, 9)
    b.post(gen, ts_at(D1, 22), ana, "yesterday's question, context for today?", user_profile=PROFILE)
    b.post(
        gen,
        root_ts,
        ana,
        "deploy plan?",
        thread_ts=root_ts,
        reply_count=2,
        user_profile=PROFILE,
        reactions=[{"name": "eyes", "users": ["U02"], "count": 1}],
        blocks=blocks,
    )
    b.post(gen, ts_at(D2, 9, 1), bob, "", thread_ts=root_ts, blocks=blocks, client_msg_id="x-1")
    b.post(
        gen,
        ts_at(D2, 9, 2),
        bob,
        'café ✅ "quoted"\nnew line',
        thread_ts=root_ts,
        hidden=None,
        files=[{"id": "F1", "name": "plan.pdf", "title": "Plan", "size": 1.5e3}],
    )
    b.post(
        gen,
        ts_at(D2, 10),
        None,
        "",
        subtype="bot_message",
        bot_id="B1",
        username="ci",
        attachments=[
            {
                "fallback": "build ok",
                "title": "Build 7",
                "text": None,
                "fields": [{"title": "branch", "value": "main"}],
            }
        ],
    )
    b.post(gen, ts_at(D2, 11), ana, "status", metadata={"event_type": "status", "event_payload": {"a": None}})
    edited = ts_at(D2, 12)
    b.post(gen, edited, bob, "lunch at noon?", user_profile=PROFILE)
    b.post(
        gen,
        ts_at(D2, 12, 5),
        bob,
        "",
        subtype="message_changed",
        hidden=True,
        user_profile=PROFILE,
        message={"type": "message", "user": bob, "text": "lunch at 1pm?", "ts": edited},
    )
    gone = ts_at(D2, 13)
    b.post(gen, gone, ana, "wrong channel")
    b.post(gen, ts_at(D2, 13, 1), None, "", subtype="message_deleted", hidden=True, deleted_ts=gone)
    return b.write(root)


def _ingested(export: Path, tmp_path: Path) -> tuple[DuckDBStore, ThreadBuilder, list[str]]:
    store = DuckDBStore(tmp_path / "db.duckdb")
    reader = SlackExportReader(export)
    directory, _ = reader.read_directory()
    replace_snapshot(store, directory, [], [])
    days = reader.available_days("UTC")
    for day in days:
        ingest_day(store, reader, day, "UTC", workers=1)
    return store, ThreadBuilder.for_directory(read_directory(store)), days


def _built(builder: ThreadBuilder, rows: list[dict], day: str) -> list[dict]:
    rows = sorted(rows, key=lambda r: r["channel_id"])  # the export's order: by channel
    result = builder.build(rows, day=day, window=day_window(day, "UTC"))
    return [t.model_dump() for t in result.threads]


def _compare_day(store: DuckDBStore, builder: ThreadBuilder, day: str, tmp_path: Path) -> list[dict]:
    path = tmp_path / f"{day}.parquet"
    n = threads_store.export_day_rows(store, day, path)
    cut = pq.read_table(path).to_pylist()
    whole = store.query(threads_store.DAY_ROWS_SQL, {"day": day, "previous_day": shift_day(day, -1)})
    assert n == len(cut) == len(whole)
    assert _built(builder, cut, day) == _built(builder, whole, day)
    return cut


@pytest.mark.parametrize("source", ["odd", "sample"])
def test_threads_from_cut_records_equal_threads_from_whole_records(source, tmp_path):
    export = _odd_export(tmp_path / "exp") if source == "odd" else SAMPLE_EXPORT
    store, builder, days = _ingested(export, tmp_path)
    built = 0
    for day in days:
        cut = _compare_day(store, builder, day, tmp_path)
        built += len(cut)
    assert built > 0


def test_cut_records_keep_what_building_reads_and_events_whole(tmp_path):
    store, builder, _ = _ingested(_odd_export(tmp_path / "exp"), tmp_path)
    cut = {r["ts"]: r for r in _compare_day(store, builder, D2, tmp_path)}
    records = {ts: orjson.loads(r["json"]) for ts, r in cut.items()}
    root = records[ts_at(D2, 9)]
    # what building reads stays, the rest (profiles, reactions, ids) goes
    assert root["text"] == "deploy plan?" and root["reply_count"] == 2 and "blocks" in root
    assert "user_profile" not in root and "reactions" not in root and "ts" not in root
    assert records[ts_at(D2, 9, 1)]["blocks"][0]["type"] == "rich_text"
    assert records[ts_at(D2, 9, 2)] == {
        "text": 'café ✅ "quoted"\nnew line',
        "files": [{"id": "F1", "name": "plan.pdf", "title": "Plan", "size": 1.5e3}],
    }
    assert records[ts_at(D2, 10)]["attachments"][0]["fields"] == [{"title": "branch", "value": "main"}]
    # an edit keeps its whole record, profile included
    edit = records[ts_at(D2, 12, 5)]
    assert edit["message"]["text"] == "lunch at 1pm?" and edit["user_profile"] == PROFILE
    whole = store.query("SELECT ts, json FROM raw_messages WHERE day = ?", [D2])
    assert sum(len(r["json"]) for r in cut.values()) < sum(len(r["json"]) for r in whole)


def test_a_record_duckdb_cannot_parse_goes_whole(tmp_path):
    """A stored record that is not JSON (never written by ingest, but the export must not fail on it)."""
    store, builder, _ = _ingested(_odd_export(tmp_path / "exp"), tmp_path)
    bad = "{not json"
    with store.connect() as con:
        con.execute("UPDATE raw_messages SET json = ? WHERE ts = ?", [bad, ts_at(D2, 11)])
    cut = {r["ts"]: r for r in _compare_day(store, builder, D2, tmp_path)}
    assert cut[ts_at(D2, 11)]["json"] == bad
    assert json.loads(cut[ts_at(D2, 9)]["json"])["text"] == "deploy plan?"
