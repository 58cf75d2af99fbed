"""The CPU-bound stages (threads, local classification) on the sample export: shares built in
worker processes write exactly what one process writes, and `load_threads` gives back what was
written."""

from __future__ import annotations

import itertools
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.domain.classification import classify_thread_parts, classify_threads
from outropy_pipelines.domain.models import Thread
from outropy_pipelines.domain.thread_builder import ThreadBuilder
from outropy_pipelines.llm.base import LLMClient
from outropy_pipelines.llm.local_provider import LocalProvider
from outropy_pipelines.settings import Settings
from outropy_pipelines.stages.classification import channel_chunks, classify_day
from outropy_pipelines.stages.directory import write_directory
from outropy_pipelines.stages.ingest import ingest_day
from outropy_pipelines.stages.parallel import balanced_shares, worker_count
from outropy_pipelines.stages.threading import channel_shares, thread_day
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.directory import read_directory
from outropy_pipelines.store.items import load_items
from outropy_pipelines.store.threads import load_threads, thread_ranges

from .conftest import SAMPLE_EXPORT


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("threading") / "outropy.duckdb"
    store = DuckDBStore(path)
    reader = SlackExportReader(SAMPLE_EXPORT)
    directory, quarantine = reader.read_directory()
    write_directory(store, directory, quarantine)
    days = reader.available_days()
    for day in days:
        ingest_day(store, reader, day, "UTC")
    return path, days


def _rows(store: DuckDBStore, day: str) -> tuple[list[dict], list[dict]]:
    threads = store.query("SELECT * FROM threads WHERE day = ? ORDER BY thread_id", [day])
    messages = store.query("SELECT * FROM thread_messages WHERE day = ? ORDER BY thread_id, ts", [day])
    return threads, messages


def test_parallel_shares_write_the_same_rows_as_one_process(ingested):
    path, days = ingested
    store = DuckDBStore(path)
    builder = ThreadBuilder.for_directory(read_directory(store))
    day = days[len(days) // 2]
    one = thread_day(store, builder, day, "UTC", workers=1)
    expected = _rows(store, day)
    assert expected[0] and expected[1]
    # three processes (this one and two spawned workers), forced on a small day
    three = thread_day(store, builder, day, "UTC", workers=3, parallel_min_rows=0)
    assert three == one
    assert _rows(store, day) == expected  # replaced, not duplicated, and identical


def test_channel_shares_split_every_channel_once_and_balance_rows(ingested, tmp_path):
    path, _ = ingested
    store = DuckDBStore(path)
    source = tmp_path / "rows.parquet"
    store.query_to_parquet("SELECT channel_id FROM raw_messages ORDER BY channel_id", [], source)
    counts: dict[str, int] = {}
    for c in pq.read_table(source).column("channel_id").to_pylist():
        counts[c] = counts.get(c, 0) + 1
    assert channel_shares(str(source), 1) == [None]
    shares = channel_shares(str(source), 3)
    assert len(shares) == 3
    assert sorted(c for share in shares for c in share) == sorted(counts)
    loads = [sum(counts[c] for c in share) for share in shares]
    # greedy largest-first: no share exceeds the lightest by more than the biggest channel
    assert max(loads) - min(loads) <= max(counts.values())


def test_local_classification_in_workers_writes_the_same_items(ingested):
    path, days = ingested
    store = DuckDBStore(path)
    directory = read_directory(store)
    builder = ThreadBuilder.for_directory(directory)
    for day in days[:3]:
        thread_day(store, builder, day, "UTC", workers=1)
    for day in days[:3]:
        one_client = LLMClient(LocalProvider(), concurrency=1)
        one = classify_day(store, one_client, directory, day, workers=1)
        expected = [it.model_dump() for it in load_items(store, day)]
        assert expected, day
        two_client = LLMClient(LocalProvider(), concurrency=1)
        two = classify_day(store, two_client, directory, day, workers=2, parallel_min_threads=0)
        assert two == one
        assert two_client.stats == one_client.stats  # the workers' accounting reaches the client
        assert [it.model_dump() for it in load_items(store, day)] == expected


def test_balanced_shares_give_each_key_once():
    sizes = {"a": 10, "b": 7, "c": 5, "d": 5, "e": 1}
    shares = balanced_shares(sizes, 2)
    assert sorted(k for share in shares for k in share) == sorted(sizes)
    # largest first, each to the lightest: a | b, c -> a, d | b, c, e
    assert sorted(sum(sizes[k] for k in share) for share in shares) == [13, 15]
    assert balanced_shares(sizes, 1) == [None]
    assert len(balanced_shares(sizes, 10)) == len(sizes)


def test_load_threads_gives_back_valid_models_in_time_order(ingested):
    path, days = ingested
    store = DuckDBStore(path)
    day = days[-1]
    thread_day(store, ThreadBuilder.for_directory(read_directory(store)), day, "UTC", workers=1)
    threads = load_threads(store, day)
    threads_rows, message_rows = _rows(store, day)
    assert len(threads) == len(threads_rows)
    assert sum(len(t.messages) for t in threads) == len(message_rows)
    for t in threads:
        # what validation would have built from the same values
        assert Thread.model_validate(t.model_dump()) == t
        assert [float(m.ts) for m in t.messages] == sorted(float(m.ts) for m in t.messages)
        assert t.first_ts == t.messages[0].ts and t.day == day


def test_worker_count_comes_from_the_settings(monkeypatch):
    monkeypatch.setenv("OUTROPY_WORKERS", "3")
    assert worker_count(Settings().workers) == 3
    monkeypatch.setenv("OUTROPY_WORKERS", "0")
    with pytest.raises(ValidationError, match="workers"):
        Settings()
    with pytest.raises(ValueError, match="OUTROPY_WORKERS"):
        worker_count(0)
    monkeypatch.delenv("OUTROPY_WORKERS")
    assert Settings().workers is None and worker_count(None) >= 1


def test_classification_in_small_chunks_writes_the_same_items(ingested):
    path, days = ingested
    store = DuckDBStore(path)
    directory = read_directory(store)
    day = days[1]
    thread_day(store, ThreadBuilder.for_directory(directory), day, "UTC", workers=1)
    whole = classify_day(store, LLMClient(LocalProvider()), directory, day, load_threads(store, day))
    expected = [it.model_dump() for it in load_items(store, day)]
    # a chunk per channel or two: many reads, spills and one write, the same items
    sizes = {
        r["channel_id"]: r["n"]
        for r in store.query(
            "SELECT channel_id, count(*) AS n FROM thread_messages WHERE day = ? GROUP BY 1", [day]
        )
    }
    assert len(channel_chunks(sizes, limit=50)) > 3
    chunked = classify_day(store, LLMClient(LocalProvider()), directory, day, workers=1, chunk_messages=50)
    assert chunked == whole
    assert [it.model_dump() for it in load_items(store, day)] == expected
    # at 5 messages a chunk, a channel is read a range of threads at a time: still the same items
    assert sum(len(thread_ranges(store, day, c, 5)) > 1 for c in sizes) > 3
    in_parts = classify_day(store, LLMClient(LocalProvider()), directory, day, workers=1, chunk_messages=5)
    assert in_parts == whole
    assert [it.model_dump() for it in load_items(store, day)] == expected


def test_thread_ranges_cover_every_thread_once_within_the_limit(ingested):
    path, days = ingested
    store = DuckDBStore(path)
    day = days[1]
    thread_day(store, ThreadBuilder.for_directory(read_directory(store)), day, "UTC", workers=1)
    threads = load_threads(store, day)
    channel = max({t.channel_id for t in threads}, key=lambda c: sum(t.channel_id == c for t in threads))
    whole = [t for t in threads if t.channel_id == channel]
    ranges = thread_ranges(store, day, channel, 4)
    assert len(ranges) > 1
    parts = [load_threads(store, day, frozenset({channel}), r) for r in ranges]
    assert [t for part in parts for t in part] == whole
    for part in parts:
        assert sum(len(t.messages) for t in part) <= 4 or len(part) == 1


def test_classifying_threads_in_parts_gives_the_items_of_all_at_once(ingested):
    path, days = ingested
    store = DuckDBStore(path)
    directory = read_directory(store)
    day = days[1]
    thread_day(store, ThreadBuilder.for_directory(directory), day, "UTC", workers=1)
    threads = load_threads(store, day)
    channels = {c.channel_id: (c.name, c.kind) for c in directory.channels}
    names = {u.user_id: u.display_name for u in directory.users}
    client = LLMClient(LocalProvider())
    whole = classify_threads(threads, client, channels, names, day)
    cuts = [0, 1, len(threads) // 3, len(threads) // 2, len(threads)]
    parts = (threads[a:b] for a, b in itertools.pairwise(cuts))
    in_parts = classify_thread_parts(parts, client, channels, names, day)
    assert [it.model_dump() for it in in_parts.items] == [it.model_dump() for it in whole.items]
    assert (in_parts.stats, in_parts.failures, in_parts.skipped) == (
        whole.stats,
        whole.failures,
        whole.skipped,
    )


def test_channel_chunks_keep_whole_channels_under_the_limit():
    sizes = {"c1": 40, "c2": 30, "c3": 120, "c4": 10, "c5": 60}
    chunks = channel_chunks(sizes, limit=100)
    assert chunks == [frozenset({"c1", "c2"}), frozenset({"c3"}), frozenset({"c4", "c5"})]
    assert channel_chunks(sizes, frozenset({"c2", "c4"}), limit=100) == [frozenset({"c2", "c4"})]
