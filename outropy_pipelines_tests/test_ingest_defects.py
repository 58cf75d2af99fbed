"""Ingest on real Slack mess: one-defect copies of a day of the sample export, each read, ingested
and threaded for real (real DuckDB); what does not fit is quarantined with the reason and the rest of
the file and the day goes on."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, DagsterInstance
from pydantic import ValidationError

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.defs.definitions import build_resources
from outropy_pipelines.domain.days import day_window, shift_day
from outropy_pipelines.domain.models import Directory
from outropy_pipelines.domain.thread_builder import ThreadBuilder
from outropy_pipelines.stages.directory import DirectoryReport, write_directory
from outropy_pipelines.stages.ingest import IngestReport, ingest_day
from outropy_pipelines.stages.threading import ThreadingReport, thread_day
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT, make_settings

DAY, BEFORE, AFTER = "2026-11-04", "2026-11-03", "2026-11-05"
LISTS = ("users.json", "channels.json", "groups.json", "dms.json", "mpims.json")
FOLDERS = sorted(p.name for p in SAMPLE_EXPORT.iterdir() if p.is_dir())


def copy_days(root: Path, days: tuple[str, ...] = (DAY,)) -> Path:
    """The sample export's lists and its day files of `days`, under `root`."""
    root.mkdir(parents=True)
    for name in LISTS:
        shutil.copy(SAMPLE_EXPORT / name, root / name)
    for folder in FOLDERS:
        (root / folder).mkdir()
        for day in days:
            shutil.copy(SAMPLE_EXPORT / folder / f"{day}.json", root / folder / f"{day}.json")
    return root


def load(root: Path, rel: str) -> Any:
    return json.loads((root / rel).read_text(encoding="utf-8"))


def dump(root: Path, rel: str, data: Any) -> None:
    (root / rel).write_text(json.dumps(data), encoding="utf-8")  # ASCII: lone surrogates as \\ud800


def plain_index(records: list[dict]) -> int:
    """A plain top-level message of a day file (no subtype, no thread)."""
    return next(
        n for n, r in enumerate(records) if not r.get("subtype") and "thread_ts" not in r and r.get("text")
    )


@dataclass
class DayRun:
    reader: SlackExportReader
    directory: Directory
    store: DuckDBStore
    directory_report: DirectoryReport
    ingest: IngestReport
    threads: ThreadingReport

    def quarantine(self, day: str | None = DAY) -> list[dict]:
        where = "day IS NULL" if day is None else f"day = DATE '{day}'"
        return self.store.query(
            f"SELECT location, reason, raw FROM quarantine WHERE {where} ORDER BY location"
        )

    def rows(self, day: str = DAY) -> list[dict]:
        return self.store.query(
            f"SELECT * FROM raw_messages WHERE day = DATE '{day}' ORDER BY channel_id, ts"
        )

    def texts(self, day: str = DAY) -> list[str]:
        return [
            r["clean_text"]
            for r in self.store.query(f"SELECT clean_text FROM thread_messages WHERE day = DATE '{day}'")
        ]


def run_days(
    root: Path, db: Path, days: tuple[str, ...] = (DAY,), reader: SlackExportReader | None = None
) -> DayRun:
    """The directory, then each day ingested and threaded, as the assets do (one reader)."""
    reader = reader or SlackExportReader(root)
    store = DuckDBStore(db)
    directory, quarantine = reader.read_directory()
    directory_report = write_directory(store, directory, quarantine)
    builder = ThreadBuilder.for_directory(directory)
    for day in days:
        ingest = ingest_day(store, reader, day, "UTC", workers=1)
        threads = thread_day(store, builder, day, "UTC", workers=1)
    return DayRun(reader, directory, store, directory_report, ingest, threads)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> DayRun:
    tmp = tmp_path_factory.mktemp("clean")
    return run_days(copy_days(tmp / "exp"), tmp / "clean.duckdb")


def _nest(levels: int) -> Any:
    value: Any = {"text": "leaf"}
    for _ in range(levels):
        value = [value]
    return value


RECORD_DEFECTS = {
    "lone surrogate": (
        lambda r: r.update(text="broken \ud800 text"),
        "not valid Unicode (lone surrogate) at text",
    ),
    "600 levels": (lambda r: r.update(attachments=[{"fields": _nest(600)}]), "nested deeper than 254 levels"),
    "bad thread_ts": (lambda r: r.update(thread_ts="not-a-ts"), "thread_ts: not a Slack timestamp"),
    "attachments 7": (lambda r: r.update(attachments=7), "message field attachments"),
    "files 3": (lambda r: r.update(files=3), "message field files"),
    "previous_message string": (
        lambda r: r.update(subtype="message_deleted", deleted_ts=r["ts"], previous_message="gone"),
        "message field previous_message",
    ),
}


@pytest.mark.parametrize("defect", list(RECORD_DEFECTS))
def test_a_record_that_does_not_fit_is_quarantined_and_the_day_goes_on(tmp_path, clean, defect):
    mutate, reason = RECORD_DEFECTS[defect]
    root = copy_days(tmp_path / "exp")
    records = load(root, f"general/{DAY}.json")
    n = plain_index(records)
    bad_ts = records[n]["ts"]
    mutate(records[n])
    dump(root, f"general/{DAY}.json", records)
    run = run_days(root, tmp_path / "x.duckdb")
    (q,) = run.quarantine()
    assert q["location"] == f"general/{DAY}.json#{n}" and reason in q["reason"], q["reason"]
    q["raw"].encode("utf-8")  # stored as valid text, whatever the record held
    # every other record of the file and the day is ingested, and threading reads them all
    assert run.ingest.messages == clean.ingest.messages - 1
    assert {r["ts"] for r in clean.rows()} - {r["ts"] for r in run.rows()} == {bad_ts}
    assert run.threads.threads >= clean.threads.threads - 1 and run.threads.messages > 0


def test_channels_json_members_not_a_list(tmp_path, clean):
    root = copy_days(tmp_path / "exp")
    channels = load(root, "channels.json")
    general = next(c for c in channels if c["name"] == "general")
    general["members"] = 5
    dump(root, "channels.json", channels)
    run = run_days(root, tmp_path / "x.duckdb")
    (q,) = run.quarantine(day=None)
    assert q["location"].startswith("channels.json#") and "members" in q["reason"]
    # its folder is still read: a conversation of its own, private to the people who posted in it
    folder = next(c for c in run.directory.channels if c.channel_id == "general")
    assert folder.kind == "private" and folder.members
    assert run.ingest.messages == clean.ingest.messages and run.quarantine() == []
    assert any("not listed in channels.json" in w and "general" in w for w in run.reader.warnings)


def test_a_day_file_whose_name_is_no_date(tmp_path, clean):
    root = copy_days(tmp_path / "exp")
    shutil.copy(root / "general" / f"{DAY}.json", root / "general" / "2026-13-45.json")
    (root / "random" / "notes.json").write_text("[]")
    reader = SlackExportReader(root)
    assert reader.available_days() == [DAY]  # what a run without --date goes by
    run = run_days(root, tmp_path / "x.duckdb", reader=reader)
    assert [(q["location"], q["reason"].split(":")[0]) for q in run.quarantine(day=None)] == [
        ("general/2026-13-45.json", "file name is not a day (YYYY-MM-DD.json)"),
        ("random/notes.json", "file name is not a day (YYYY-MM-DD.json)"),
    ]
    assert run.ingest.messages == clean.ingest.messages


def test_a_day_file_with_a_byte_order_mark(tmp_path, clean):
    root = copy_days(tmp_path / "exp")
    path = root / "general" / f"{DAY}.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    users = root / "users.json"
    users.write_bytes(b"\xef\xbb\xbf" + users.read_bytes())
    run = run_days(root, tmp_path / "x.duckdb")
    assert run.ingest.messages == clean.ingest.messages and run.quarantine() == []
    assert run.directory_report.users == clean.directory_report.users


@pytest.mark.parametrize("users_json", ["missing", "not json", "not a list"])
def test_without_users_json_people_come_from_their_messages(tmp_path, clean, users_json):
    root = copy_days(tmp_path / "exp")
    if users_json == "missing":
        (root / "users.json").unlink()
    else:
        (root / "users.json").write_text("{oops" if users_json == "not json" else '{"members": []}')
    run = run_days(root, tmp_path / "x.duckdb")
    (warning,) = run.reader.warnings
    assert warning.startswith("users.json is") and "user_profile" in warning
    posters = {r["user_id"] for r in clean.rows() if r["user_id"] and r["user_id"].startswith("U")}
    known = {u.user_id: u for u in run.directory.users}
    assert set(known) <= posters and len(known) >= 25
    assert known["U001ALICE"].real_name == "Alice Moreau"
    # so everyone gets a briefing again, and names resolve as before
    assert run.directory_report.subscriptions == len(known)
    assert sorted(run.texts()) == sorted(clean.texts())


def test_a_bot_message_with_blocks_only_is_content(tmp_path, clean):
    root = copy_days(tmp_path / "exp")
    records = load(root, f"deploys/{DAY}.json")
    blocks = [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Rollback of payments-api finished, "},
                        {"type": "user", "user_id": "U001ALICE"},
                    ],
                }
            ],
        }
    ]
    ts = f"{day_window(DAY, 'UTC')[0] + 3 * 3600:.0f}.424242"
    records.append(
        {"type": "message", "subtype": "bot_message", "bot_id": "B9", "text": "", "ts": ts, "blocks": blocks}
    )
    dump(root, f"deploys/{DAY}.json", records)
    run = run_days(root, tmp_path / "x.duckdb")
    assert run.ingest.messages == clean.ingest.messages + 1
    assert "Rollback of payments-api finished, @Alice Moreau" in run.texts()
    row = next(r for r in run.rows() if r["ts"] == ts)
    assert row["text"] == "Rollback of payments-api finished, <@U001ALICE>"
    mentions = run.store.query("SELECT mentions FROM thread_messages WHERE ts = ?", [ts])
    assert mentions[0]["mentions"] == ["U001ALICE"]


def test_a_message_far_from_its_files_day_is_quarantined(tmp_path, clean):
    root = copy_days(tmp_path / "exp")
    records = load(root, f"general/{DAY}.json")
    n = plain_index(records)
    records[n]["ts"] = f"{float(records[n]['ts']) + 10 * 86400:.6f}"
    dump(root, f"general/{DAY}.json", records)
    run = run_days(root, tmp_path / "x.duckdb")
    (q,) = run.quarantine()
    assert q["location"] == f"general/{DAY}.json#{n}" and "more than a day away" in q["reason"]
    assert run.ingest.messages == clean.ingest.messages - 1
    assert run.reader.files_by_utc_date  # a stray says nothing of how files are named


def _move(root: Path, hours: float) -> str:
    """A plain message of DAY's general file moved `hours` from its time, staying in that file."""
    records = load(root, f"general/{DAY}.json")
    n = plain_index(records)
    records[n]["ts"] = ts = f"{float(records[n]['ts']) + hours * 3600:.6f}"
    dump(root, f"general/{DAY}.json", records)
    return ts


def test_a_message_filed_under_the_day_before_its_own_lands_on_its_day(tmp_path):
    root = copy_days(tmp_path / "exp", (DAY, AFTER))
    ts = _move(root, 24)
    run = run_days(root, tmp_path / "x.duckdb", (DAY, AFTER))
    assert ts in {r["ts"] for r in run.rows(AFTER)} and ts not in {r["ts"] for r in run.rows(DAY)}
    assert run.quarantine() == run.quarantine(AFTER) == []


def test_a_message_filed_under_the_day_after_its_own(tmp_path):
    root = copy_days(tmp_path / "exp", (BEFORE, DAY))
    ts = _move(root, -24)
    # read alone, its day reads the neighbouring files first (how files are named is not known yet)
    alone = run_days(root, tmp_path / "alone.duckdb", (BEFORE,))
    assert ts in {r["ts"] for r in alone.rows(BEFORE)}
    # a reader that took the files to be named by UTC date when it read BEFORE finds the message
    # only in DAY's file: quarantined there, with what to do, never dropped silently
    reader = SlackExportReader(root)
    reader.read_day("2026-10-01")  # a first day without files: UTC dates assumed
    late = run_days(root, tmp_path / "late.duckdb", (BEFORE, DAY), reader=reader)
    assert ts not in {r["ts"] for r in late.rows(BEFORE)}
    (q,) = late.quarantine(DAY)
    assert json.loads(q["raw"])["ts"] == ts and f"run {BEFORE} again" in q["reason"]
    assert not late.reader.files_by_utc_date


def test_folders_named_by_a_former_name_or_by_id(tmp_path, clean):
    root = copy_days(tmp_path / "exp")
    channels = load(root, "channels.json")
    general = next(c for c in channels if c["name"] == "general")
    random = next(c for c in channels if c["name"] == "random")
    general["previous_names"] = ["general-old", "announcements"]
    dump(root, "channels.json", channels)
    (root / "general").rename(root / "general-old")
    (root / "random").rename(root / random["id"])
    run = run_days(root, tmp_path / "x.duckdb")
    assert run.reader.folder_map()["general-old"] == general["id"]
    assert run.reader.folder_map()[random["id"]] == random["id"]
    assert run.rows() == clean.rows() and run.reader.warnings == []


def _zip(root: Path, target: Path, wrap: str | None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                rel = path.relative_to(root).as_posix()
                zf.write(path, f"{wrap}/{rel}" if wrap else rel)
        zf.writestr("__MACOSX/general/._2026-11-04.json", "junk")
    return target


@pytest.mark.parametrize("wrap", [None, "acme Slack export Nov 4 2026"])
def test_a_zip_export_reads_as_its_directory(tmp_path, clean, wrap):
    root = copy_days(tmp_path / "exp")
    archive = _zip(root, tmp_path / "export.zip", wrap)
    shutil.rmtree(root)
    run = run_days(archive, tmp_path / "x.duckdb")
    assert run.rows() == clean.rows() and run.quarantine() == []
    assert run.directory == clean.directory and run.reader.available_days() == [DAY]
    # worker processes open the archive themselves
    workers = DuckDBStore(tmp_path / "w.duckdb")
    report = ingest_day(workers, SlackExportReader(archive), DAY, "UTC", workers=2, parallel_min_bytes=0)
    assert report.messages == clean.ingest.messages
    assert workers.query("SELECT * FROM raw_messages ORDER BY channel_id, ts") == clean.rows()


def test_a_wrapped_directory_export_is_found(tmp_path, clean):
    copy_days(tmp_path / "download" / "acme-export")
    run = run_days(tmp_path / "download", tmp_path / "x.duckdb")
    assert run.rows() == clean.rows()


def test_outropy_run_on_a_defective_zip_export_still_briefs_everyone(tmp_path):
    """End to end: `outropy run --export x.zip` (no --date) through Dagster on two sample days with
    no users.json, records that do not fit, a file named by no date, a blocks-only bot post and a
    folder no list names: the run succeeds and everyone gets briefings."""
    root = copy_days(tmp_path / "exp", (BEFORE, DAY))
    (root / "users.json").unlink()
    general = load(root, f"general/{DAY}.json")
    general[plain_index(general)]["text"] = "broken \udc00 text"
    dump(root, f"general/{DAY}.json", general)
    random = load(root, f"random/{DAY}.json")
    random[plain_index(random)]["attachments"] = 7
    dump(root, f"random/{DAY}.json", random)
    shutil.copy(root / "design" / f"{DAY}.json", root / "design" / "2026-13-45.json")
    ts = f"{day_window(DAY, 'UTC')[0] + 4 * 3600:.0f}.000777"
    section = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "Deploy 77 of billing failed: <@U001ALICE> please check"},
    }
    deploys = load(root, f"deploys/{DAY}.json")
    deploys.append(
        {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B7",
            "text": "",
            "ts": ts,
            "blocks": [section],
        }
    )
    dump(root, f"deploys/{DAY}.json", deploys)
    (root / "side-project").mkdir()
    side = [
        {
            "type": "message",
            "user": "U001ALICE",
            "text": "Decision: we ship the side project Friday",
            "ts": ts,
        }
    ]
    dump(root, f"side-project/{DAY}.json", side)
    archive = _zip(root, tmp_path / "slack-export.zip", "Acme Slack export")
    shutil.rmtree(root)

    home = tmp_path / "dagster_home"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "OUTROPY_DUCKDB_PATH": str(tmp_path / "o.duckdb"),
        "OUTROPY_BRIEFINGS_DIR": str(tmp_path / "briefings"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "outropy_pipelines.cli", "run", "--export", str(archive)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert f"2 day(s) {BEFORE} .. {DAY}" in output and "users.json is missing" in output
    people = int(re.search(r"briefings for (\d+) people", output).group(1))  # type: ignore[union-attr]
    assert people >= 25 and f"{2 * people} briefings" in output
    store = DuckDBStore(tmp_path / "o.duckdb")
    reasons = [r["reason"] for r in store.query("SELECT reason FROM quarantine ORDER BY location")]
    assert len(reasons) == 3 and "file name is not a day" in reasons[0]
    assert any("not valid Unicode" in r for r in reasons) and any("attachments" in r for r in reasons)
    assert (
        store.query("SELECT count(*) AS n FROM raw_messages WHERE channel_id = 'side-project'")[0]["n"] == 1
    )
    texts = [
        r["clean_text"] for r in store.query("SELECT clean_text FROM thread_messages WHERE ts = ?", [ts])
    ]
    assert "Deploy 77 of billing failed: @Alice Moreau please check" in texts
    event = DagsterInstance.from_config(str(home)).get_latest_materialization_event(
        AssetKey("slack_directory")
    )
    assert event is not None and event.asset_materialization is not None
    warnings = str(event.asset_materialization.metadata["warnings"].value)
    assert "users.json is missing" in warnings and "side-project" in warnings


RCWG = Path(__file__).resolve().parents[2] / "shared" / "data" / "slack-export-rcwg"


@pytest.mark.skipif(not RCWG.is_dir(), reason="the real rcwg export (../shared/data) is not here")
def test_rcwg_folders_no_list_names_are_ingested_not_quarantined():
    """A real public export: 13 of its folders are in no conversation list (1,325 messages, which
    earlier versions quarantined with a canvas file's object). Every message of theirs is read, as
    a private conversation of its posters; none is quarantined."""
    reader = SlackExportReader(RCWG)
    directory, quarantine = reader.read_directory()
    listed = {c["name"] for c in json.loads((RCWG / "channels.json").read_text())}
    unlisted = [f for f in reader.conversation_folders() if f not in listed]
    assert len(unlisted) == 13 and quarantine == []
    (warning,) = reader.warnings
    assert all(folder in warning for folder in unlisted)
    expected: set[tuple[str, str]] = set()
    posters: dict[str, set[str]] = {folder: set() for folder in unlisted}
    days: set[str] = set()
    for folder in unlisted:
        for path in (RCWG / folder).glob("????-??-??.json"):  # not canvas_in_the_conversation.json
            records = json.loads(path.read_text())
            expected |= {(folder, r["ts"]) for r in records}
            posters[folder] |= {r["user"] for r in records if r.get("user")}
            days |= {shift_day(path.stem, k) for k in (-1, 0, 1)}
    got: set[tuple[str, str]] = set()
    quarantined = []
    for day in sorted(days):
        for chunk in reader.iter_day(day, "UTC", folders=unlisted):
            got |= {(r["channel_id"], r["ts"]) for r in chunk.messages}
            quarantined += chunk.quarantine
    assert len(expected) == 1325 and got == expected and quarantined == []
    # each a private conversation of the people who posted in it
    channels = {c.channel_id: c for c in directory.channels if c.channel_id in posters}
    assert {f: (c.kind, c.name, set(c.members)) for f, c in channels.items()} == {
        f: ("private", f, people) for f, people in posters.items()
    }


def test_unlisted_folder_visibility_is_a_setting(tmp_path, monkeypatch):
    root = copy_days(tmp_path / "exp")
    (root / "general").rename(root / "side-talk")  # no list names this folder now
    monkeypatch.setenv("OUTROPY_UNLISTED_FOLDER_VISIBILITY", "Public")
    settings = make_settings(tmp_path, root)
    assert settings.unlisted_folder_visibility == "public"
    reader = build_resources(settings)["slack"].source()
    directory, _ = reader.read_directory()
    side = next(c for c in directory.channels if c.channel_id == "side-talk")
    assert side.kind == "public" and side.members and "visible to everyone" in reader.warnings[0]
    monkeypatch.setenv("OUTROPY_UNLISTED_FOLDER_VISIBILITY", "members")
    with pytest.raises(ValidationError, match="unlisted_folder_visibility"):
        make_settings(tmp_path, root)
