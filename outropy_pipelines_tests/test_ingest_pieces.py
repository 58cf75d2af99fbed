"""A big day file reaches the ingest writer a piece at a time, in provisional chunks (see `DayRead`)
that its last piece keeps or its whole parse retracts: whatever a later piece holds, `raw_messages`,
`quarantine`, the report and what the reader learns of the naming of day files are those of
reading every file whole, with workers or without."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from outropy_pipelines.adapters import export_day_file
from outropy_pipelines.adapters.export_files import array_pieces
from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.stages import ingest
from outropy_pipelines.stages.ingest import ingest_day
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines_tests.export_builder import ExportBuilder, ts_at

D1, D2, D3 = "2026-11-02", "2026-11-03", "2026-11-04"
#: a later piece of the busy file, by kind of defect: orjson refuses it but the standard library
#: reads the whole file (NaN), or no parser reads it (the file is quarantined whole)
DEFECTS = {"none": None, "NaN": b'{"type": "message", "ts": NaN},\n', "invalid": b'{"ts": "1"},,\n'}


def _msg(ts: str, text: str, user: str = "U01") -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": ts}


def _lines(records: list[Any]) -> bytes:
    return b"[\n" + b",\n".join(json.dumps(r).encode() for r in records) + b"\n]\n"


def busy_export(root: Path, defect: bytes | None) -> Path:
    """`busy` (C01) has a big day file: duplicates within it (in different pieces), a record that
    does not fit, one of the next UTC date (which says that day files are named by local dates),
    one far away; `busy-old`, a former name of C01, repeats one of its ts; `alpha` (C02) is read
    before it."""
    b = ExportBuilder()
    b.user("U01", "ana")
    b.channel("C01", "busy", ["U01"])
    b.lists["channels.json"][-1]["previous_names"] = ["busy-old"]
    b.channel("C02", "alpha", ["U01"])
    b.raw_files[f"alpha/{D2}.json"] = json.dumps([_msg(ts_at(D2, 9, s), f"alpha {s}") for s in range(5)])
    busy: list[Any] = [_msg(ts_at(D2, 10, m, s), f"busy {m}:{s}") for m in range(4) for s in range(30)]
    busy[3:3] = [42, _msg(ts_at(D3, 1), "of the next UTC date"), {"type": "message", "ts": "1.0"}]
    busy[50:50] = [_msg(ts_at(D2, 10, 0, 1), "a duplicate in a later piece")]
    data = _lines(busy)
    if defect is not None:
        cut = data.index(b"\n", len(data) * 3 // 4) + 1
        data = data[:cut] + defect + data[cut:]
    b.raw_files[f"busy/{D2}.json"] = data.decode()
    b.raw_files[f"busy-old/{D2}.json"] = json.dumps(
        [_msg(ts_at(D2, 10, 3, 29), "repeated in the former name's folder"), _msg(ts_at(D2, 23), "old")]
    )
    b.raw_files[f"busy/{D3}.json"] = json.dumps([_msg(ts_at(D3, 2), "the next day in busy")])
    return b.write(root)


def _ingest(root: Path, db: Path, **kwargs: Any) -> tuple[list[Any], list[dict], list[dict], bool | None]:
    store = DuckDBStore(db)
    reader = SlackExportReader(root)
    reports = [ingest_day(store, reader, day, "UTC", **kwargs) for day in (D2, D3)]
    rows = store.query("SELECT * FROM raw_messages ORDER BY day, channel_id, ts, json")
    quarantine = store.query("SELECT * FROM quarantine ORDER BY day, source, location, reason, raw")
    return reports, rows, quarantine, reader.files_by_utc_date


def _pieces(monkeypatch: pytest.MonkeyPatch, piece_bytes: int | None) -> None:
    """Big files cut into pieces of `piece_bytes`, a file parsed whole after all handed on a few
    records at a time (None: every file read whole, in one chunk); the writer's batches and row
    groups small, so that provisional rows are spilled before they are retracted."""
    if piece_bytes is None:
        split = functools.partial(array_pieces, min_bytes=10**12)
    else:
        split = functools.partial(array_pieces, piece_bytes=piece_bytes, min_bytes=0)
        monkeypatch.setattr(export_day_file, "WHOLE_CHUNK_RECORDS", 7)
    monkeypatch.setattr(export_day_file, "array_pieces", split)
    monkeypatch.setattr(ingest, "SPILL_BATCH_ROWS", 7)
    monkeypatch.setattr(ingest, "DUCKDB_ROW_GROUP_ROWS", 10)


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_a_big_file_read_in_pieces_ingests_as_read_whole(tmp_path, monkeypatch, defect):
    root = busy_export(tmp_path / "export", DEFECTS[defect])
    _pieces(monkeypatch, None)
    whole = _ingest(root, tmp_path / "whole.duckdb", workers=1)
    _pieces(monkeypatch, 200)
    chunks = list(SlackExportReader(root).iter_day(D2, "UTC", folders=["busy"]))
    assert sum(c.provisional for c in chunks) > 5
    assert [c.retract for c in chunks].count(True) == (defect != "none")
    assert _ingest(root, tmp_path / "pieces.duckdb", workers=1) == whole
    zipped = shutil.make_archive(str(tmp_path / "export"), "zip", root)  # read back from the archive
    assert _ingest(Path(zipped), tmp_path / "zip.duckdb", workers=1) == whole
    # the busy file (the biggest) is read in this process, the others in workers
    assert _ingest(root, tmp_path / "workers.duckdb", workers=3, parallel_min_bytes=0) == whole

    reports, rows, quarantine, files_by_utc_date = whole
    texts = [r["text"] for r in rows]
    reasons = {(q["location"], q["reason"].split(":")[0]) for q in quarantine}
    if defect == "invalid":
        assert (f"busy/{D2}.json", "invalid JSON") in reasons
        assert not [t for t in texts if t.startswith("busy ")]
        assert "repeated in the former name's folder" in texts  # its first record now
        assert files_by_utc_date  # what the pieces read said of the naming is undone
    else:
        assert len([t for t in texts if t.startswith("busy ")]) == 120
        assert "repeated in the former name's folder" not in texts
        assert "a duplicate in a later piece" not in texts
        assert reports[0].duplicates == 2
        assert {f"busy/{D2}.json#3", f"busy/{D2}.json#5"} <= {loc for loc, _ in reasons}  # 42, far away
        assert files_by_utc_date is False  # a record of the next UTC date in the busy file


def test_a_retracted_file_leaves_no_spilled_rows(tmp_path, monkeypatch):
    """Provisional rows already spilled to Parquet when the file turns out invalid: the files are
    removed, the rows spilled before the file kept."""
    root = busy_export(tmp_path / "export", DEFECTS["invalid"])
    _pieces(monkeypatch, 200)
    reader = SlackExportReader(root)
    store = DuckDBStore(tmp_path / "db.duckdb")
    with store.spill() as spill:
        writer = ingest._DayWriter(D2, "export", spill)
        most = 0
        for chunk in reader.iter_day(D2, "UTC", folders=["alpha", "busy"]):
            writer.add(chunk)
            most = max(most, len(spill.paths))
        assert most >= 2 and spill.paths == []  # alpha's 5 rows are pending until `finish`
        writer.finish()
        assert spill.num_rows == 5 and len(list(spill.directory.glob("*.parquet"))) == 1
