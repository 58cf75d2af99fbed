"""What keeps the briefings stage's memory down at a million messages a day: the day's index is gone
before the write, and the loaded rows keep one `str` per value of their columns of few values."""

from __future__ import annotations

import gc
import weakref

import pytest

import outropy_pipelines.stages.briefings as briefings_stage
from outropy_pipelines.store import briefings as briefings_store
from outropy_pipelines.store.directory import read_directory, read_subscriptions
from outropy_pipelines.store.entity_summaries import load_entity_summaries
from outropy_pipelines.store.items import load_items


class _Stop(Exception):
    pass


def test_the_days_index_is_freed_before_the_briefings_are_written(sample_run, monkeypatch):
    indexes: list[weakref.ref] = []

    class Recorded(briefings_stage.BriefingIndex):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            indexes.append(weakref.ref(self))

    written: list[int] = []

    def replace_day_users(store, day, user_ids, briefings, plain_texts):
        written.append(len(briefings))
        # freed by reference counting alone (no cycle holds it): gone without a collection
        assert indexes and all(ref() is None for ref in indexes)
        assert len(plain_texts) == len(briefings)
        raise _Stop  # nothing written to the session's store

    monkeypatch.setattr(briefings_stage, "BriefingIndex", Recorded)
    monkeypatch.setattr(briefings_stage.briefings_store, "replace_day_users", replace_day_users)
    store = sample_run.store
    users = [s.user_id for s in read_subscriptions(store)][:5]
    gc.disable()
    try:
        with pytest.raises(_Stop):
            briefings_stage.brief_day(store, read_directory(store), sample_run.days[-1], users, "https://x")
    finally:
        gc.enable()
    assert written and written[0] > 0


def _shared(values: list[str | None]) -> bool:
    """Equal values are the same object."""
    first: dict[str | None, str | None] = {}
    return all(first.setdefault(v, v) is v for v in values)


def test_loaded_items_keep_one_str_per_value_of_their_columns_of_few_values(sample_run):
    day = sample_run.days[-1]
    items = load_items(sample_run.store, day)
    assert len(items) > 10
    for column in ("day", "channel_id", "kind", "status", "provider", "prompt_version", "due"):
        assert _shared([getattr(i, column) for i in items]), column
    assert _shared([u for i in items for u in (*i.owners, *i.mentions)])
    assert _shared([s.channel_id for i in items for s in i.sources])
    owners = [i.owners for i in items if i.owners]
    assert len({id(o) for o in owners}) == len(owners)  # each item its own list


def test_loaded_open_items_keep_one_str_per_value_of_their_columns_of_few_values(sample_run):
    summaries = load_entity_summaries(sample_run.store, sample_run.days[-1])
    open_items = [o for s in summaries for o in s.open_items]
    assert len(open_items) > 10
    for column in ("kind", "channel_id", "since_day", "last_seen_day"):
        assert _shared([getattr(o, column) for o in open_items]), column
    assert _shared([u for o in open_items for u in o.owners])
    assert _shared([s.channel_id for o in open_items for s in o.sources])


def test_source_messages_maps_share_their_keys_and_match_the_messages(sample_run):
    store, day = sample_run.store, sample_run.days[-1]
    thread_ts_of, authors_of = briefings_store.source_messages(store, day)
    assert thread_ts_of and thread_ts_of.keys() == authors_of.keys()
    keys_of_authors = {k: k for k in authors_of}
    assert all(keys_of_authors[k] is k for k in thread_ts_of)
    rows = store.query(
        """SELECT DISTINCT r.channel_id, r.ts, r.thread_ts, r.user_id FROM raw_messages r
           JOIN item_sources s ON s.channel_id = r.channel_id AND s.ts = r.ts WHERE s.day = ?""",
        [day],
    )
    assert thread_ts_of == {(r["channel_id"], r["ts"]): r["thread_ts"] for r in rows}
    assert authors_of == {(r["channel_id"], r["ts"]): r["user_id"] for r in rows}
    assert _shared(list(authors_of.values()))


def test_briefings_written_through_parquet_batches_are_the_pipelines(sample_run, tmp_path, monkeypatch):
    """`replace_day_users` in batches of 2 briefings writes the rows the pipeline wrote (copy of
    the sample run's store; the briefings built again by `brief_day`)."""
    import shutil

    from outropy_pipelines.store import DuckDBStore

    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_run.store.path, copy)
    store = DuckDBStore(copy)
    day = sample_run.days[-1]
    columns = {
        "briefings": "user_id, user_name, markdown, blocks_json, html, plain_text, item_count, "
        "llm_tokens, content_hash",
        "briefing_lines": "user_id, position, section, item_id, kind, text, reason, score, channel_id, "
        "sources, permalinks",
    }

    def rows(table: str) -> list[dict]:
        return store.query(f"SELECT {columns[table]} FROM {table} WHERE day = ? ORDER BY ALL", [day])

    before = {table: rows(table) for table in columns}
    users = sorted({r["user_id"] for r in before["briefings"]})
    assert len(users) > 4 and len(before["briefing_lines"]) > 10
    store.execute("DELETE FROM briefings WHERE day = ?", [day])
    store.execute("DELETE FROM briefing_lines WHERE day = ?", [day])
    monkeypatch.setattr(briefings_store, "SPILL_BRIEFINGS", 2)
    report = briefings_stage.brief_day(
        store, read_directory(store), day, users, sample_run.settings.slack_workspace_url
    )
    assert report.lines == len(before["briefing_lines"])
    assert {table: rows(table) for table in columns} == before
    assert not list((copy.parent / "copy.duckdb.spill").glob("outropy-spill-*"))  # spills removed
