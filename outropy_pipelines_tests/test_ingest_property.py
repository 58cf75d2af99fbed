"""Property: on an export with random defects, ingest completes, every valid record is ingested,
every invalid one is in quarantine with a reason, and the counts add up; threading then reads every
ingested record. Exports are generated (a directory or a .zip, with or without byte order marks,
with conversations listed or not), ingested and threaded for real (real DuckDB)."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.domain.days import day_window
from outropy_pipelines.domain.thread_builder import ThreadBuilder
from outropy_pipelines.stages.directory import write_directory
from outropy_pipelines.stages.ingest import ingest_day
from outropy_pipelines.stages.threading import thread_day
from outropy_pipelines.store import DuckDBStore, invariants

DAY = "2026-11-04"
START = int(day_window(DAY, "UTC")[0])
USERS = ["U01", "U02", "U03"]


def _ts(second: int) -> str:
    return f"{START + second}.{second % 997:06d}"


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


_texts = st.text(st.characters(codec="utf-8"), max_size=30)
_blocks = _texts.map(
    lambda t: [
        {
            "type": "rich_text",
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": t}]}],
        }
    ]
)


@st.composite
def valid_record(draw, ts: str, earlier: list[str]) -> dict[str, Any]:
    """A message the boundary takes: plain, a reply, a bot post, an edit, a deletion, a join..."""
    rec: dict[str, Any] = {"type": "message", "ts": ts, "text": draw(_texts)}
    kind = draw(st.sampled_from(["plain", "reply", "bot", "blocks", "edit", "delete", "join", "file"]))
    if kind != "bot":
        rec["user"] = draw(st.sampled_from(USERS))
    if kind == "reply" and earlier:
        rec["thread_ts"] = draw(st.sampled_from(earlier))
    elif kind == "bot":
        rec.update(subtype="bot_message", bot_id="B1", attachments=[{"title": draw(_texts), "fields": []}])
    elif kind == "blocks":
        rec.update(text="", blocks=draw(_blocks))
    elif kind == "edit" and earlier:
        target = draw(st.sampled_from(earlier))
        rec.update(subtype="message_changed", hidden=True, message={"ts": target, "text": draw(_texts)})
    elif kind == "delete" and earlier:
        target = draw(st.sampled_from(earlier))
        rec.update(subtype="message_deleted", hidden=True, deleted_ts=target, previous_message={"ts": target})
    elif kind == "join":
        rec.update(subtype="channel_join")
    elif kind == "file":
        rec.update(subtype="file_share", files=[{"name": draw(_texts)}])
    if draw(st.booleans()):
        rec["user_profile"] = {"real_name": draw(_texts), "name": "n"}
    return rec


DEFECTS = {
    "lone surrogate": lambda r: {**r, "text": r["text"] + "\ud800"},
    "surrogate deep inside": lambda r: {**r, "attachments": [{"title": "\udfff"}]},
    "nested 300 levels": lambda r: {**r, "attachments": [{"fields": _deep(300)}]},
    "bad thread_ts": lambda r: {**r, "thread_ts": "not-a-ts"},
    "attachments not a list": lambda r: {**r, "attachments": 7},
    "attachment not an object": lambda r: {**r, "attachments": ["x"]},
    "files not a list": lambda r: {**r, "files": 3},
    "previous_message a string": lambda r: {**r, "subtype": "message_deleted", "previous_message": "x"},
    "edit without an object": lambda r: {**r, "subtype": "message_changed", "message": "new text"},
    "text not a string": lambda r: {**r, "text": ["a"]},
    "user an object": lambda r: {**r, "user": {"id": "U01"}},
    "blocks a string": lambda r: {**r, "blocks": "rich"},
    "no ts": lambda r: {k: v for k, v in r.items() if k != "ts"},
    "ts garbage": lambda r: {**r, "ts": "12:30"},
    "not a message": lambda r: {**r, "type": "file"},
    "far from its day": lambda r: {**r, "ts": _ts(10 * 86400)},
    "not an object": lambda r: "hello",
}


@st.composite
def exports(draw) -> tuple[dict[str, list[Any]], set[tuple[str, str]], int]:
    """Conversations' records of DAY, the (channel, ts) of the valid ones, and how many are not
    ingested (defects and duplicate ts; the first record of a ts is kept)."""
    channels: dict[str, list[Any]] = {}
    valid: set[tuple[str, str]] = set()
    rejected = 0
    for c in range(draw(st.integers(1, 3))):
        cid = f"C0{c}"
        records: list[Any] = []
        seconds = draw(st.lists(st.integers(0, 86399), min_size=0, max_size=8, unique=True))
        earlier: list[str] = []
        for second in seconds:
            ts = _ts(second)
            rec = draw(valid_record(ts, earlier))
            defect = draw(st.none() | st.sampled_from(sorted(DEFECTS)))
            if defect is None:
                valid.add((cid, ts))
                earlier.append(ts)
                records.append(rec)
            else:
                rejected += 1
                records.append(DEFECTS[defect](rec))
            if earlier and draw(st.integers(0, 9)) == 0:  # a second record of a ts already kept
                rejected += 1
                records.append(
                    {"type": "message", "user": "U01", "text": "again", "ts": draw(st.sampled_from(earlier))}
                )
        channels[cid] = records
    return channels, valid, rejected


def _write(root: Path, channels: dict[str, list[Any]], listed: set[str], bom: bool, as_zip: bool) -> Path:
    files: dict[str, bytes] = {
        "users.json": json.dumps([{"id": u, "name": u.lower()} for u in USERS]).encode(),
        "channels.json": json.dumps(
            [{"id": cid, "name": f"chan-{cid}", "members": USERS} for cid in sorted(listed)]
            or [{"id": "C99", "name": "x"}]
        ).encode(),
    }
    for cid, records in channels.items():
        folder = f"chan-{cid}" if cid in listed else cid
        files[f"{folder}/{DAY}.json"] = (b"\xef\xbb\xbf" if bom else b"") + json.dumps(records).encode()
    if as_zip:
        with zipfile.ZipFile(root.with_suffix(".zip"), "w") as zf:
            for rel, data in files.items():
                zf.writestr(f"export/{rel}", data)
        return root.with_suffix(".zip")
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(exports(), st.data())
def test_ingest_takes_every_valid_record_and_quarantines_every_invalid_one(export, data):
    channels, valid, rejected = export
    listed = data.draw(st.sets(st.sampled_from(sorted(channels))), label="listed")
    bom, as_zip = data.draw(st.booleans(), label="bom"), data.draw(st.booleans(), label="zip")
    with tempfile.TemporaryDirectory() as tmp:
        root = _write(Path(tmp) / "export", channels, listed, bom, as_zip)
        store = DuckDBStore(Path(tmp) / "x.duckdb")
        reader = SlackExportReader(root)
        directory, directory_quarantine = reader.read_directory()
        write_directory(store, directory, directory_quarantine)
        report = ingest_day(store, reader, DAY, "UTC", workers=1)
        threads = thread_day(store, ThreadBuilder.for_directory(directory), DAY, "UTC", workers=1)
        rows = store.query("SELECT channel_id, ts FROM raw_messages")
        quarantine = store.query("SELECT location, reason FROM quarantine WHERE day = ?", [DAY])
        missing = invariants.thread_messages_missing_from_raw(store, [DAY])
        threaded = store.query("SELECT count(*) AS n FROM thread_messages")[0]["n"]
    ingested = {(r["channel_id"], r["ts"]) for r in rows}  # unlisted folders are named by the id here
    assert directory_quarantine == []
    assert ingested == valid and report.messages == len(rows) == len(valid)
    assert len(quarantine) == report.quarantined == rejected
    assert all(q["reason"] for q in quarantine)
    assert report.messages + report.quarantined == sum(len(r) for r in channels.values())
    # threading read every ingested record: each is in a conversation, or noise, or an edit
    assert missing == 0 and threaded + threads.noise <= len(valid) and threads.day == DAY
