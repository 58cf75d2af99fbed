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
