"""Ingest of an export in worker processes: whatever the number of workers, the same
`raw_messages` and `quarantine` rows and the same report, including duplicate ts (the first record
kept) and exports whose day files turn out to be named by local dates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.stages import ingest
from outropy_pipelines.stages.ingest import IngestReport, folder_shares, ingest_day
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines_tests.export_builder import ExportBuilder, ts_at

from .conftest import SAMPLE_EXPORT

D1, D2, D3 = "2026-11-02", "2026-11-03", "2026-11-04"


def _msg(ts: str, text: str = "x", user: str = "U01") -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": ts}


def _ingest(
    root: Path, db: Path, days: list[str], utc_named: bool = False, **kwargs: Any
) -> tuple[list[IngestReport], list[dict], list[dict], bool | None]:
    store = DuckDBStore(db)
    reader = utc_named_reader(root) if utc_named else SlackExportReader(root)
    reports = [ingest_day(store, reader, day, "UTC", **kwargs) for day in days]
    rows = store.query("SELECT * FROM raw_messages ORDER BY day, channel_id, ts, json")
    quarantine = store.query("SELECT * FROM quarantine ORDER BY day, source, location, reason, raw")
    return reports, rows, quarantine, reader.files_by_utc_date


def _same_with_workers(
    root: Path, tmp_path: Path, days: list[str], utc_named: bool = False
) -> tuple[list[IngestReport], list[dict]]:
    """`utc_named`: readers past their first day, which take day files to be named by UTC date."""
    one = _ingest(root, tmp_path / "one.duckdb", days, utc_named, workers=1)
    three = _ingest(root, tmp_path / "three.duckdb", days, utc_named, workers=3, parallel_min_bytes=0)
    assert three == one
    return one[0], one[1]


def local_dated_export(root: Path) -> Path:
    """Day files named by local (UTC-8) dates. `big` is the largest conversation, so it is the
    share read in this process, and it does not give the naming away: `zeta` does, in a worker."""
    b = ExportBuilder()
    b.user("U01", "ana")
    for cid, name in (("C01", "big"), ("C02", "zeta"), ("C03", "alpha"), ("C04", "gamma"), ("C05", "delta")):
        b.channel(cid, name, ["U01"])
    twice = ts_at(D2, 3)  # Nov 2, 19:00 local: in the Nov 2 file, and wrongly also in the Nov 3 one
    big_d2 = [_msg(ts_at(D2, 12, m, s), f"big {m}:{s}") for m in range(10) for s in range(20)]
    b.raw_files[f"big/{D2}.json"] = json.dumps([_msg(twice, "kept: the day's own file"), *big_d2])
    b.raw_files[f"big/{D1}.json"] = json.dumps([_msg(ts_at(D2, 1), "big early"), _msg(twice, "dropped")])
    b.raw_files[f"zeta/{D2}.json"] = json.dumps([_msg(ts_at(D2, 12)), _msg(ts_at(D3, 5), "Nov 4 in UTC")])
    b.raw_files[f"zeta/{D3}.json"] = json.dumps([_msg(ts_at(D3, 12))])
    b.raw_files[f"alpha/{D1}.json"] = json.dumps([_msg(ts_at(D2, 2), "alpha early")])
    b.raw_files[f"alpha/{D2}.json"] = json.dumps([_msg(ts_at(D2, 12)), {"type": "message", "text": "no ts"}])
    b.raw_files[f"gamma/{D2}.json"] = json.dumps([_msg(ts_at(D2, 13))])
    b.raw_files[f"delta/{D1}.json"] = json.dumps([_msg(ts_at(D2, 4), "delta early, no file of its own")])
    b.raw_files[f"mystery/{D2}.json"] = json.dumps([_msg(ts_at(D2, 8))])
    return b.write(root)


def utc_named_reader(root: Path) -> SlackExportReader:
    """A reader past its first day (one without files, which says nothing of local dates): it
    takes the day files to be named by UTC date until a file shows otherwise."""
    reader = SlackExportReader(root)
    assert reader.read_day("2026-10-01").files_read == 0 and reader.files_by_utc_date
    return reader


@pytest.mark.parametrize("utc_named", [False, True], ids=["first-day", "utc-named-until-shown"])
def test_local_dated_export_gives_the_same_rows_in_workers(tmp_path, utc_named):
    """Read first, D2 reads its neighbouring files at once; read by a reader that takes the files
    to be named by UTC date, D2 finds out in `zeta`, read by a worker: the same rows either way."""
    root = local_dated_export(tmp_path / "exp")
    reports, rows = _same_with_workers(root, tmp_path, [D2, D3], utc_named)
    d2 = {(r["channel_id"], r["text"]) for r in rows if str(r["day"]) == D2}
    assert {("C01", "big early"), ("C03", "alpha early"), ("C05", "delta early, no file of its own")} <= d2
    assert ("C01", "kept: the day's own file") in d2 and ("C01", "dropped") not in d2
    # `mystery`, in no conversation list, is read too (its one message)
    assert reports[0].duplicates == 1 and reports[0].messages == 200 + 2 + 1 + 2 + 1 + 1 + 1
    # the next day reads every neighbouring file straight away, in one process as with workers
    assert reports[1].messages == 2


def test_neighbours_of_a_share_read_before_a_worker_found_out_are_read_here(tmp_path, monkeypatch):
    root = local_dated_export(tmp_path / "exp")
    neighbour_reads: list[list[str] | None] = []
    read_neighbours = SlackExportReader.iter_neighbour_files

    def spy(self, day, timezone="UTC", folders=None):
        neighbour_reads.append(None if folders is None else sorted(folders))
        return read_neighbours(self, day, timezone, folders)

    monkeypatch.setattr(SlackExportReader, "iter_neighbour_files", spy)
    reader = utc_named_reader(root)
    ingest_day(DuckDBStore(tmp_path / "x.duckdb"), reader, D2, "UTC", workers=3, parallel_min_bytes=0)
    # `big`, read in this process, does not give the naming away: the worker reading `zeta` does,
    # so this process reads the neighbouring files of the shares read by UTC-date names only
    assert (
        len(neighbour_reads) == 1 and "big" in (neighbour_reads[0] or []) and "zeta" not in neighbour_reads[0]
    )
    assert not reader.files_by_utc_date  # and remembers it for the next days


def test_duplicates_across_folders_of_one_channel_are_found_in_workers(tmp_path):
    b = ExportBuilder()
    b.user("U01", "ana")
    b.channel("C01", "general", ["U01"])
    b.channel("C02", "random", ["U01"])
    b.dm("D01", ["U01"])
    same = ts_at(D2, 9)
    # a channel's folder by name and by id: both read, the first (by folder name order) kept
    b.raw_files[f"C01/{D2}.json"] = json.dumps([_msg(same, "in the folder named by id")])
    b.raw_files[f"general/{D2}.json"] = json.dumps([_msg(same, "in the folder named by name")])
    b.raw_files[f"random/{D2}.json"] = json.dumps([_msg(same, "one"), _msg(same, "two"), "not a message"])
    b.raw_files[f"D01/{D2}.json"] = json.dumps([_msg(ts_at(D2, 10), "dm")])
    root = b.write(tmp_path / "exp")
    reports, rows = _same_with_workers(root, tmp_path, [D2])
    assert reports[0].duplicates == 2 and reports[0].quarantined == 3 and reports[0].channels == 3
    assert {(r["channel_id"], r["text"]) for r in rows} == {
        ("C01", "in the folder named by id"),
        ("C02", "one"),
        ("D01", "dm"),
    }


def test_sample_export_day_is_the_same_in_workers(tmp_path):
    days = SlackExportReader(SAMPLE_EXPORT).available_days()
    reports, rows = _same_with_workers(SAMPLE_EXPORT, tmp_path, [days[len(days) // 2]])
    assert reports[0].messages == len(rows) > 0 and reports[0].channels > 3


def test_small_day_is_read_in_this_process(tmp_path, monkeypatch):
    root = local_dated_export(tmp_path / "exp")
    jobs: list[int] = []
    run_shares = ingest.run_shares

    def spy(work, share_jobs):
        jobs.append(len(share_jobs))
        return run_shares(work, share_jobs)

    monkeypatch.setattr(ingest, "run_shares", spy)
    ingest_day(DuckDBStore(tmp_path / "x.duckdb"), SlackExportReader(root), D2, "UTC", workers=3)
    assert jobs == [1]


def test_folder_shares_keep_a_channels_folders_together():
    sizes = {"general": 50, "C01": 40, "random": 60, "dev": 30, "empty": 0, "mystery": 5}
    folder_map = {"general": "C01", "C01": "C01", "random": "C02", "dev": "C03", "empty": "C04"}
    shares = folder_shares(sizes, folder_map, 2)
    assert len(shares) == 2
    assert sorted(name for share in shares for name in share or ()) == sorted(sizes)
    assert any({"general", "C01"} <= set(share or ()) for share in shares)
    assert "empty" in (shares[0] or ())
    assert folder_shares(sizes, folder_map, 1) == [None]
    assert folder_shares({"general": 10, "empty": 0}, folder_map, 4) == [None]


def test_reader_reads_a_subset_of_folders_and_its_neighbours_once_it_knows(tmp_path):
    root = local_dated_export(tmp_path / "exp")
    reader = utc_named_reader(root)
    alpha = [m["text"] for c in reader.iter_day(D2, "UTC", folders=["alpha"]) for m in c.messages]
    assert alpha == ["x"] and reader.files_by_utc_date  # its own file does not give the naming away
    zeta = [m["text"] for c in reader.iter_day(D2, "UTC", folders=["zeta"]) for m in c.messages]
    assert zeta == ["x"] and not reader.files_by_utc_date
    # what a worker that did not find out leaves to be read: the neighbouring files only
    late = [m["text"] for c in reader.iter_neighbour_files(D2, "UTC", ["alpha", "big"]) for m in c.messages]
    assert sorted(late) == ["alpha early", "big early", "dropped"]
