"""Export reading, quarantine, cleaning and threading on small exports built in the test."""

from __future__ import annotations

import json

import pytest

from outropy_pipelines.adapters.slack_export_reader import ExportFormatError, SlackExportReader
from outropy_pipelines.domain.days import day_window
from outropy_pipelines.domain.slack_text import SlackTextCleaner, mentioned_user_ids, message_text
from outropy_pipelines.domain.thread_builder import ThreadBuilder
from outropy_pipelines_tests.export_builder import ExportBuilder, ts_at

D1, D2, D3 = "2026-11-02", "2026-11-03", "2026-11-04"


@pytest.fixture()
def export(tmp_path):
    b = ExportBuilder()
    ana, bob, cy = b.user("U01", "ana"), b.user("U02", "bob"), b.user("U03", "cy")
    b.user("U09", "deploybot", is_bot=True)
    gen = b.channel("C01", "general", [ana, bob, cy])
    sec = b.channel("G01", "leadership", [ana, bob], kind="private")
    dm = b.dm("D01", [ana, cy])
    root = ts_at(D1, 9)
    b.post(gen, root, ana, "<@U02> can you update the runbook?", thread_ts=root, reply_count=2)
    b.post(gen, ts_at(D1, 9, 5), bob, "sure, on it", thread_ts=root, parent_user_id=ana)
    # a reply arriving two days later, stored in the later day file
    b.post(
        gen, ts_at(D3, 10), bob, "done ✅ <https://wiki/runbook|runbook>", thread_ts=root, parent_user_id=ana
    )
    b.post(gen, ts_at(D1, 11), cy, "<@U03> has joined the channel", subtype="channel_join")
    b.post(
        gen,
        ts_at(D1, 12),
        None,
        "",
        subtype="bot_message",
        bot_id="B1",
        username="deploybot",
        attachments=[{"fallback": "deploy ok", "title": "Deploy 42", "text": "api deployed to prod"}],
    )
    edited = ts_at(D2, 9)
    b.post(gen, edited, cy, "lunch at noon?")
    b.post(
        gen,
        ts_at(D2, 9, 30),
        cy,
        "",
        subtype="message_changed",
        hidden=True,
        message={
            "type": "message",
            "user": cy,
            "text": "lunch at 1pm?",
            "ts": edited,
            "edited": {"user": cy, "ts": ts_at(D2, 9, 30)},
        },
    )
    gone = ts_at(D2, 10)
    b.post(gen, gone, bob, "oops wrong channel")
    b.post(gen, ts_at(D2, 10, 1), None, "", subtype="message_deleted", hidden=True, deleted_ts=gone)
    b.post(sec, ts_at(D2, 14), ana, "Decision: we acquire Zephyr")
    b.post(dm, ts_at(D2, 15), cy, "<@U01> got a minute?")
    b.post(gen, ts_at(D2, 16), ana, "no ts below")
    b.append_raw(gen, D2, {"type": "message", "user": ana, "text": "I have no ts"})
    b.raw_files[f"general/{D3}.json"] = "{not json"  # overwritten below only if general has no D3 file
    b.raw_files[f"mystery/{D2}.json"] = json.dumps([{"type": "message", "ts": ts_at(D2, 8), "text": "hi"}])
    return b


def test_directory_reads_all_conversation_kinds(export, tmp_path):
    del export.raw_files[f"general/{D3}.json"]
    root = export.write(tmp_path / "exp")
    directory, quarantine = SlackExportReader(root).read_directory()
    kinds = {c.channel_id: c.kind for c in directory.channels}
    # `mystery` is in no conversation list: a private conversation of its posters (it has none)
    assert kinds == {"C01": "public", "G01": "private", "D01": "im", "mystery": "private"}
    assert {u.user_id for u in directory.users if u.is_bot} == {"U09"}
    assert quarantine == []
    assert SlackExportReader(root).available_days() == [D1, D2, D3]


def test_not_an_export_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportFormatError, match="not a Slack export"):
        SlackExportReader(tmp_path / "empty").read_directory()


def test_day_read_quarantines_and_keeps_the_rest(export, tmp_path):
    # a broken day file for general on D3 replaces the valid one: D3's general messages are lost
    # to the quarantine (with the raw text) while the other conversations still land
    root = export.write(tmp_path / "exp")
    reader = SlackExportReader(root)
    d2 = reader.read_day(D2, "UTC")
    reasons = sorted(q.reason.split(":")[0] for q in d2.quarantine)
    assert reasons == ["message without ts"]
    # the folder no conversation list names is read too
    assert {m["channel_id"] for m in d2.messages} == {"C01", "G01", "D01", "mystery"}
    d3 = reader.read_day(D3, "UTC")
    bad = [q for q in d3.quarantine if q.reason.startswith("invalid JSON")]
    assert len(bad) == 1 and bad[0].raw == "{not json" and bad[0].location == f"general/{D3}.json"


def test_day_window_follows_timezone(export, tmp_path):
    del export.raw_files[f"general/{D3}.json"]
    root = export.write(tmp_path / "exp")
    reader = SlackExportReader(root)
    # 2026-11-02 09:00 UTC is still 2026-11-02 in Los Angeles; 2026-11-03 09:00 UTC is 01:00 LA time
    la = {m["ts"] for m in reader.read_day(D2, "America/Los_Angeles").messages}
    utc = {m["ts"] for m in reader.read_day(D2, "UTC").messages}
    assert ts_at(D2, 9) in la and ts_at(D2, 9) in utc
    assert ts_at(D2, 16) in utc
    start, end = day_window(D2, "America/Los_Angeles")
    assert all(start <= float(ts) < end for ts in la)


def test_cleaner_resolves_markup():
    c = SlackTextCleaner({"U01": "Ana"}, {"C01": "general"})
    text = "<@U01> see <#C01> and <https://x.io/a|the doc> &amp; <!here> :tada: <mailto:a@b.c|a@b.c>"
    assert c.clean(text) == "@Ana see #general and the doc (https://x.io/a) & @here 🎉 a@b.c"
    assert mentioned_user_ids("<@U01> <@U02|bob> <@U01>") == ["U01", "U02"]
    assert "api deployed" in message_text(
        {"text": "", "attachments": [{"title": "Deploy", "text": "api deployed"}]}
    )


def _rows(reader, days):
    rows = []
    for d in days:
        rows += reader.read_day(d, "UTC").messages
    return rows


def _builder(reader):
    directory, _ = reader.read_directory()
    return ThreadBuilder(
        {u.user_id: u.display_name for u in directory.users},
        {c.channel_id: c.name for c in directory.channels},
        [u.user_id for u in directory.users if u.is_bot],
    )


def test_late_reply_joins_parent_thread_and_edits_apply(export, tmp_path):
    del export.raw_files[f"general/{D3}.json"]
    root = export.write(tmp_path / "exp")
    reader = SlackExportReader(root)
    builder = _builder(reader)
    result = builder.build(_rows(reader, [D1, D2, D3]), day=D3, window=day_window(D3, "UTC"))
    tid = f"C01:{ts_at(D1, 9)}"
    thread = next(t for t in result.threads if t.thread_id == tid)
    assert thread.kind == "slack_thread"
    assert [m.is_new for m in thread.messages] == [False, False, True]
    assert "runbook (https://wiki/runbook)" in thread.messages[-1].clean_text
    # only threads with activity on D3 are emitted
    assert {t.thread_id for t in result.threads} == {tid}

    d2 = builder.build(_rows(reader, [D1, D2]), day=D2, window=day_window(D2, "UTC"))
    texts = [m.clean_text for t in d2.threads for m in t.messages]
    assert "lunch at 1pm?" in texts and "lunch at noon?" not in texts
    assert "oops wrong channel" not in texts
    assert d2.edits_applied == 1 and d2.deletions_applied == 1


def test_noise_dropped_but_assigned_and_bots_keep_attachment_text(export, tmp_path):
    del export.raw_files[f"general/{D3}.json"]
    root = export.write(tmp_path / "exp")
    reader = SlackExportReader(root)
    rows = _rows(reader, [D1])
    result = _builder(reader).build(rows, day=D1, window=day_window(D1, "UTC"))
    join_ts = ts_at(D1, 11)
    assert result.assignments[("C01", join_ts)] == f"C01:{join_ts}"
    assert all(m.ts != join_ts for t in result.threads for m in t.messages)
    bot = [m for t in result.threads for m in t.messages if m.is_bot]
    assert len(bot) == 1 and "api deployed to prod" in bot[0].clean_text
    assert set(result.assignments) == {(r["channel_id"], r["ts"]) for r in rows}


def test_our_own_briefing_dms_are_never_read_back_as_content(tmp_path):
    b = ExportBuilder()
    ana, bot = b.user("U01", "ana"), b.user("UBOT", "outropy", is_bot=True)
    dm = b.dm("D01", [ana, bot])
    b.post(
        dm,
        ts_at(D1, 7),
        bot,
        "Your briefing: incident in #incidents, 2 decisions",
        metadata={"event_type": "outropy_briefing", "event_payload": {"day": D1}},
    )
    b.post(dm, ts_at(D1, 8), ana, "<@UBOT> thanks, can you also watch #deploys?")
    root = b.write(tmp_path / "exp")
    reader = SlackExportReader(root)
    result = _builder(reader).build(_rows(reader, [D1]), day=D1, window=day_window(D1, "UTC"))
    texts = [m.clean_text for t in result.threads for m in t.messages]
    assert texts == ["@Outropy thanks, can you also watch #deploys?"]
    assert result.noise == 1


def test_export_named_by_local_dates_is_detected_and_nothing_is_lost(tmp_path):
    """Day files named by local (UTC-8) dates: a message at 02:00 UTC on Nov 3 sits in the Nov 2
    file. Reading Nov 3 (UTC) finds records of another UTC date in a Nov 3 file, then reads the
    neighbouring files too, also of the conversations it had already read."""
    b = ExportBuilder()
    ana = b.user("U01", "ana")
    b.channel("C01", "alpha", [ana])
    b.channel("C02", "zeta", [ana])
    early = ts_at(D2, 2)  # Nov 2, 18:00 local: in the Nov 2 file
    mid = ts_at(D2, 12)  # Nov 3, 04:00 local
    late = ts_at(D3, 5)  # Nov 3, 21:00 local: in the Nov 3 file, but Nov 4 in UTC
    msg = lambda ts: {"type": "message", "user": ana, "text": "x", "ts": ts}  # noqa: E731
    b.raw_files[f"alpha/{D1}.json"] = json.dumps([msg(early)])
    b.raw_files[f"alpha/{D2}.json"] = json.dumps([msg(mid)])  # consistent with UTC dates
    b.raw_files[f"zeta/{D2}.json"] = json.dumps([msg(mid), msg(late)])  # gives the naming away
    root = b.write(tmp_path / "exp")
    reader = SlackExportReader(root)
    got = sorted((m["channel_id"], m["ts"]) for m in reader.read_day(D2, "UTC").messages)
    assert got == sorted([("C01", early), ("C01", mid), ("C02", mid)])
    assert reader._files_by_utc_date is False
    # a UTC-named export: the first day read also reads the day before and after, which say
    # nothing of local dates; from then on only the day's own files are read
    utc = SlackExportReader(export_of_utc_days(tmp_path / "utc"))
    assert utc.files_by_utc_date is None
    assert utc.read_day(D2, "UTC").files_read == 3 and utc.files_by_utc_date
    assert utc.read_day(D3, "UTC").files_read == 1 and utc.files_by_utc_date


def export_of_utc_days(root):
    b = ExportBuilder()
    ana = b.user("U01", "ana")
    b.channel("C01", "alpha", [ana])
    for day in (D1, D2, D3):
        b.post("C01", ts_at(day, 12), ana, "hello")
    return b.write(root)
