"""Live Slack ingestion (slack-sdk WebClient) against a fake Slack Web API on 127.0.0.1.

The fake server (`fake_slack_server.py`) serves the committed sample export through the real
endpoints and response shapes with 5-item pages, so every listing paginates. The parity test runs
the real Dagster assets twice, once from the export and once from the live API, and compares the
rows; the fault tests script 429/500/dropped connections and a channel the bot may not read.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, EnvVar, serialize_value

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.adapters.slack_source import SlackSource
from outropy_pipelines.adapters.slack_web_api_reader import SlackSourceError, SlackWebAPIReader
from outropy_pipelines.defs.definitions import build_resources
from outropy_pipelines.defs.resources import PipelineResource, SlackSourceResource
from outropy_pipelines.domain.days import day_of_ts
from outropy_pipelines.pipeline_runner import PipelineRunner
from outropy_pipelines.settings import Settings
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.export_builder import ExportBuilder, ts_at
from outropy_pipelines_tests.fake_slack_server import FakeSlackServer

# 2026-11-04 has replies to parents of 2026-11-02 and 2026-11-03 (threads found via latest_reply)
DAYS = ["2026-11-03", "2026-11-04"]
LATE_DAY = "2026-11-04"
TOKEN = "xoxb-1111-2222-" + secrets.token_hex(12)
SNAPSHOTS = {
    "users": "SELECT * FROM users ORDER BY user_id",
    "channels": "SELECT * FROM channels ORDER BY channel_id",
    "channel_members": "SELECT * FROM channel_members ORDER BY channel_id, user_id",
    "raw_messages": "SELECT * FROM raw_messages ORDER BY day, channel_id, ts",
    "threads": "SELECT * FROM threads ORDER BY day, thread_id",
    "thread_messages": "SELECT * FROM thread_messages ORDER BY day, thread_id, ts",
    "items": "SELECT * FROM items ORDER BY day, item_id",
    "item_sources": "SELECT * FROM item_sources ORDER BY day, item_id, channel_id, ts",
    "briefings": "SELECT * EXCLUDE (created_at) FROM briefings ORDER BY day, user_id",
    "briefing_lines": "SELECT * FROM briefing_lines ORDER BY day, user_id, position",
}


def _key(row: dict) -> tuple[str, str]:
    return row["channel_id"], row["ts"]


def _export_rows(day: str) -> list[dict]:
    return sorted(SlackExportReader(SAMPLE_EXPORT).read_day(day).messages, key=_key)


def _live_settings(tmp: Path, server: FakeSlackServer) -> Settings:
    """Live mode, no workspace URL configured (auth.test's url is used), and no export at all."""
    return Settings(
        duckdb_path=tmp / "outropy.duckdb",
        slack_export=tmp / "no_export_here",
        briefings_dir=tmp / "briefings",
        slack_source="live",
        slack_api_base_url=server.base_url,
    )


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.text: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.text.append(record.getMessage())
        if record.exc_info:
            self.text.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    """The pipeline for DAYS from the export, then from the fake live API, on separate DuckDB files."""
    export_tmp = tmp_path_factory.mktemp("export_path")
    export_settings = make_settings(export_tmp, slack_source="export")
    export_summary = PipelineRunner(
        export_settings, instance=DagsterInstance.ephemeral(), days_per_run=2, users_per_run=40
    ).run(DAYS)

    live_tmp = tmp_path_factory.mktemp("live_path")
    capture = _Capture()
    root, sdk = logging.getLogger(), logging.getLogger("slack_sdk")
    levels = root.level, sdk.level
    with FakeSlackServer(SAMPLE_EXPORT, TOKEN) as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLACK_BOT_TOKEN", TOKEN)
        root.addHandler(capture)
        root.setLevel(logging.DEBUG)
        sdk.setLevel(logging.DEBUG)
        try:
            live_settings = _live_settings(live_tmp, server)
            live_instance = DagsterInstance.ephemeral()
            live_summary = PipelineRunner(
                live_settings, instance=live_instance, days_per_run=2, users_per_run=40
            ).run(DAYS)
        finally:
            root.removeHandler(capture)
            root.setLevel(levels[0])
            sdk.setLevel(levels[1])
    return {
        "export": (DuckDBStore(export_settings.duckdb_path), export_summary),
        "live": (DuckDBStore(live_settings.duckdb_path), live_summary),
        "live_settings": live_settings,
        "live_instance": live_instance,
        "server": server,
        "logs": capture.text,
    }


def test_export_and_live_paths_produce_identical_rows(parity):
    export_store, export_summary = parity["export"]
    live_store, live_summary = parity["live"]
    assert export_summary.ok and live_summary.ok, (export_summary, live_summary)
    for table, sql in SNAPSHOTS.items():
        exported, live = export_store.query(sql), live_store.query(sql)
        assert exported, f"{table}: the export path wrote nothing"
        assert live == exported, f"{table}: live rows differ from the export's"
    assert {str(r["day"]) for r in live_store.query("SELECT DISTINCT day FROM raw_messages")} == set(DAYS)
    assert live_store.query("SELECT * FROM quarantine") == []
    # the live path really went through the API, paginating
    server: FakeSlackServer = parity["server"]
    assert server.calls("conversations.history") and server.calls("conversations.replies")
    assert any("cursor" in r.params for r in server.calls("conversations.history"))
    assert any("cursor" in r.params for r in server.calls("users.list"))


def test_live_path_finds_replies_to_parents_of_earlier_days(parity):
    live_store, _ = parity["live"]
    rows = live_store.query(
        "SELECT channel_id, ts, thread_ts FROM raw_messages WHERE day = ? AND thread_ts IS NOT NULL AND thread_ts <> ts",
        [LATE_DAY],
    )
    late = [r for r in rows if day_of_ts(r["thread_ts"], "UTC") < LATE_DAY]
    assert len(late) >= 5, late
    # each lands in its parent's thread on the late day (thread_id = channel:root_ts), marked new
    for r in late:
        hits = live_store.query(
            "SELECT is_new FROM thread_messages WHERE day = ? AND channel_id = ? AND ts = ? AND thread_id = ?",
            [LATE_DAY, r["channel_id"], r["ts"], f"{r['channel_id']}:{r['thread_ts']}"],
        )
        assert hits == [{"is_new": True}], r
    # those threads were read with conversations.replies although their parents are not of that day
    server: FakeSlackServer = parity["server"]
    replied = {(r.params["channel"], r.params["ts"]) for r in server.calls("conversations.replies")}
    assert {(r["channel_id"], r["thread_ts"]) for r in late} <= replied


def test_live_permalinks_use_the_workspace_url_from_auth_test(parity):
    live_store, _ = parity["live"]
    assert parity["live_settings"].slack_workspace_url is None
    assert parity["server"].calls("auth.test")
    links = [p for r in live_store.query("SELECT permalinks FROM briefing_lines") for p in r["permalinks"]]
    assert len(links) > 20
    assert all(p.startswith("https://acme.slack.com/archives/") for p in links)


def test_token_never_in_logs_duckdb_or_dagster_events(parity):
    assert any("conversations.history" in line for line in parity["logs"]), (
        "slack_sdk DEBUG logs were captured"
    )
    assert not [line for line in parity["logs"] if TOKEN in line]
    live_store, live_summary = parity["live"]
    for table in [
        r["table_name"] for r in live_store.query("SELECT table_name FROM information_schema.tables")
    ]:
        for row in live_store.query(f"SELECT * FROM {table}"):
            assert TOKEN not in repr(row), table
    assert TOKEN.encode() not in Path(live_store.path).read_bytes()
    instance: DagsterInstance = parity["live_instance"]
    events = [serialize_value(e) for run_id in live_summary.runs for e in instance.all_logs(run_id)]
    assert any("conversations_failed" in e for e in events), "the run's metadata was scanned"
    assert not [e for e in events if TOKEN in e]
    # the run config shows where the API is, not the token
    for run_id in live_summary.runs:
        assert TOKEN not in serialize_value(instance.get_run_by_id(run_id))


@pytest.fixture
def server():
    with FakeSlackServer(SAMPLE_EXPORT, TOKEN) as srv:
        yield srv


def _reader(server: FakeSlackServer, token: str = TOKEN) -> SlackWebAPIReader:
    # backoff 0.1 s keeps 5xx retries short; Retry-After is honoured as given (1 s)
    return SlackWebAPIReader(token, base_url=server.base_url, backoff_factor=0.1)


def test_rate_limit_is_waited_out_and_nothing_is_lost_or_duplicated(server, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="slack_sdk")
    # the third history page of the run and the second users.list page answer 429 once
    server.add_fault("conversations.history", status=429, retry_after=1, skip=2)
    server.add_fault("users.list", status=429, retry_after=1, skip=1)
    reader = _reader(server)
    directory, quarantine = reader.read_directory()
    assert directory == SlackExportReader(SAMPLE_EXPORT).read_directory()[0]
    rows = sorted(reader.read_day(LATE_DAY).messages, key=_key)
    assert rows == _export_rows(LATE_DAY)
    assert quarantine == []
    history = server.calls("conversations.history")
    limited = [i for i, r in enumerate(history) if r.status == 429]
    assert len(limited) == 1
    i = limited[0]
    assert history[i + 1].params == history[i].params and history[i + 1].status == 200  # same page again
    assert [r.status for r in server.calls("users.list")].count(429) == 1
    assert TOKEN not in caplog.text


def test_server_errors_and_dropped_connections_are_retried(server, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="slack_sdk")
    server.add_fault("conversations.replies", status=500, skip=3)
    server.add_fault("conversations.history", status=503, skip=1)
    server.add_fault("conversations.members", disconnect=True, skip=2)
    reader = _reader(server)
    directory, _ = reader.read_directory()
    assert directory == SlackExportReader(SAMPLE_EXPORT).read_directory()[0]
    rows = sorted(reader.read_day(LATE_DAY).messages, key=_key)
    assert rows == _export_rows(LATE_DAY)
    assert [r.status for r in server.calls("conversations.replies")].count(500) == 1
    assert [r.status for r in server.calls("conversations.history")].count(503) == 1
    assert [r.fault for r in server.calls("conversations.members")].count("disconnect") == 1
    assert TOKEN not in caplog.text


def test_errors_are_sanitized_and_a_persistent_failure_raises(server, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="slack_sdk")
    wrong = "xoxb-9999-" + secrets.token_hex(12)
    with pytest.raises(SlackSourceError) as bad_token:
        _reader(server, token=wrong).read_day(LATE_DAY)
    assert bad_token.value.error == "invalid_auth"
    assert bad_token.value.__cause__ is None and bad_token.value.__context__ is None
    server.add_fault("conversations.list", status=500, times=-1)
    reader = SlackWebAPIReader(TOKEN, base_url=server.base_url, backoff_factor=0.01, max_retries=2)
    with pytest.raises(SlackSourceError, match="HTTP 500"):
        reader.read_day(LATE_DAY)
    assert [r.status for r in server.calls("conversations.list")].count(500) == 3  # first try + 2 retries
    for text in (caplog.text, str(bad_token.value), repr(reader)):
        assert TOKEN not in text and wrong not in text


def test_not_in_channel_is_quarantined_and_the_other_channels_land(server, tmp_path, monkeypatch):
    denied = "C04PATLAS0"
    server.deny(denied, "not_in_channel")
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    settings = _live_settings(tmp_path, server)
    instance = DagsterInstance.ephemeral()
    summary = PipelineRunner(settings, instance=instance, days_per_run=1, users_per_run=40).run([LATE_DAY])
    assert summary.ok
    assert "raw_slack_messages:no_quarantined_records" in summary.check_failures
    store = DuckDBStore(settings.duckdb_path)
    quarantine = store.query(
        "SELECT CAST(day AS VARCHAR) AS day, source, location, reason, raw FROM quarantine"
    )
    assert len(quarantine) == 1
    q = quarantine[0]
    assert q["day"] == LATE_DAY and q["source"] == "slack_api"
    assert denied in q["location"] and "proj-atlas" in q["location"]
    assert "not_in_channel" in q["reason"] and "invite" in q["reason"]
    # every other conversation landed in full
    expected = [r for r in _export_rows(LATE_DAY) if r["channel_id"] != denied]
    assert len({r["channel_id"] for r in expected}) >= 8
    landed = store.query("SELECT CAST(day AS VARCHAR) AS day, * EXCLUDE (day) FROM raw_messages")
    assert sorted(landed, key=_key) == expected
    event = instance.get_latest_materialization_event(AssetKey("raw_slack_messages"))
    metadata = event.asset_materialization.metadata
    assert metadata["conversations_failed"].value == 1
    assert metadata["conversations_failed_ids"].value == denied
    assert metadata["source"].value == "slack_api"
    assert store.scalar("SELECT count(*) FROM briefings WHERE day = ?", [LATE_DAY]) > 0


def test_day_window_bounds_and_thread_lookback(tmp_path):
    """Messages exactly at the day's start are in, exactly at its end are not (the next day's);
    a reply to a parent older than the lookback is only found with a longer lookback."""
    b = ExportBuilder()
    ann, bob = b.user("U1", "ann"), b.user("U2", "bob")
    c = b.channel("C1", "general", [ann, bob])
    day = "2026-11-04"
    start, last, end = (
        ts_at(day, 0, micro=0),
        ts_at("2026-11-04", 23, 59, 59, 999999),
        ts_at("2026-11-05", 0, micro=0),
    )
    recent, old = ts_at("2026-11-01", 9), ts_at("2026-10-01", 9)
    b.post(c, start, ann, "at midnight")
    b.post(c, last, bob, "just before the next midnight")
    b.post(c, end, ann, "next day")
    for parent, reply in ((recent, ts_at(day, 10)), (old, ts_at(day, 11))):
        b.post(c, parent, ann, "parent", thread_ts=parent, reply_count=1, latest_reply=reply)
        b.post(c, reply, bob, "late reply", thread_ts=parent, parent_user_id=ann)
    export = b.write(tmp_path / "export")
    expected = sorted(SlackExportReader(export).read_day(day).messages, key=_key)
    assert [r["ts"] for r in expected] == [start, ts_at(day, 10), ts_at(day, 11), last]
    with FakeSlackServer(export, TOKEN, page_size=2) as srv:
        short = SlackWebAPIReader(TOKEN, base_url=srv.base_url, thread_lookback_days=14)
        assert [r["ts"] for r in sorted(short.read_day(day).messages, key=_key)] == [
            start,
            ts_at(day, 10),
            last,
        ]
        long = SlackWebAPIReader(TOKEN, base_url=srv.base_url, thread_lookback_days=40)
        assert sorted(long.read_day(day).messages, key=_key) == expected
        # the window was asked for with inclusive bounds at the day's edges
        first = srv.calls("conversations.history")[0].params
        assert first["inclusive"] == "1" and first["latest"] == end


def test_settings_and_resource_select_the_source(tmp_path, monkeypatch, server):
    monkeypatch.setenv("SLACK_API_BASE_URL", server.base_url)
    monkeypatch.setenv("OUTROPY_SLACK_THREAD_LOOKBACK_DAYS", "3")
    monkeypatch.delenv("OUTROPY_SLACK_WORKSPACE_URL", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    settings = Settings()
    assert settings.slack_api_base_url == server.base_url
    assert settings.slack_thread_lookback_days == 3 and settings.slack_source == "auto"
    assert settings.slack_workspace_url is None and not settings.slack_is_live
    assert build_resources(settings)["slack"].bot_token is None
    resource = SlackSourceResource(export_dir=str(SAMPLE_EXPORT), api_base_url=server.base_url)
    assert isinstance(resource.source(), SlackExportReader)  # no token: the export
    pipeline = PipelineResource()  # no workspace URL configured
    assert pipeline.permalink_base(resource) == "https://slack.com"
    assert server.calls("auth.test") == []
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    live_settings = Settings()
    assert live_settings.slack_is_live and TOKEN not in repr(live_settings)
    # the resource names the variable; Dagster reads its value when a run starts
    assert build_resources(live_settings)["slack"].bot_token == EnvVar("SLACK_BOT_TOKEN")
    live_resource = resource.model_copy(update={"bot_token": TOKEN})
    live = live_resource.source()
    assert isinstance(live, SlackWebAPIReader) and isinstance(live, SlackSource)
    assert pipeline.permalink_base(live_resource) == "https://acme.slack.com"
    configured = PipelineResource(workspace_url="https://configured.example.com")
    assert configured.permalink_base(live_resource) == "https://configured.example.com"
    assert len(server.calls("auth.test")) == 1
    monkeypatch.setenv("OUTROPY_SLACK_WORKSPACE_URL", "https://acme.slack.com/")
    assert Settings().workspace_url == "https://acme.slack.com"
    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN"):
        SlackSourceResource(export_dir=str(SAMPLE_EXPORT), mode="live").source()


def test_fake_server_delivery_endpoints_record_posts(server):
    from slack_sdk import WebClient

    client = WebClient(token=TOKEN, base_url=server.base_url)
    dm = client.conversations_open(users="U001ALICE")["channel"]["id"]
    again = client.conversations_open(users="U001ALICE")
    assert again["channel"]["id"] == dm and again["already_open"] is True
    posted = client.chat_postMessage(channel=dm, text="Your briefing", blocks=[{"type": "section"}])
    assert posted["ok"] and posted["channel"] == dm
    assert server.posted == [
        {
            "channel": dm,
            "ts": posted["ts"],
            "text": "Your briefing",
            "blocks": [{"type": "section"}],
            "params": server.posted[0]["params"],
            "thread_ts": None,  # a top-level post, not a reply
        }
    ]
    from slack_sdk.errors import SlackApiError

    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="DNOPE", text="x")
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.conversations_open(users="UNOBODY")
    assert len(server.posted) == 1


def test_live_records_pass_the_same_boundary_as_the_export(tmp_path):
    """Messages the Web API returns that do not fit the model are quarantined with the reason the
    export path gives them; the others land, the same rows as from the export."""
    b = ExportBuilder()
    ann, bob = b.user("U1", "ann"), b.user("U2", "bob")
    c = b.channel("C1", "general", [ann, bob])
    day = "2026-11-04"
    good = [ts_at(day, 9), ts_at(day, 12)]
    b.post(c, good[0], ann, "fine")
    b.post(c, ts_at(day, 10), bob, "broken \ud800 text")
    b.post(c, ts_at(day, 11), bob, "odd files", files=3)
    b.post(c, ts_at(day, 11, 30), ann, "odd attachments", attachments=7)
    b.post(c, good[1], bob, "fine too")
    export = b.write(tmp_path / "export")
    from_export = SlackExportReader(export).read_day(day)
    with FakeSlackServer(export, TOKEN, page_size=2) as srv:
        live = SlackWebAPIReader(TOKEN, base_url=srv.base_url).read_day(day)
    assert [r["ts"] for r in sorted(live.messages, key=_key)] == good
    assert sorted(live.messages, key=_key) == sorted(from_export.messages, key=_key)
    reasons = sorted(q.reason for q in live.quarantine)
    assert reasons == sorted(q.reason for q in from_export.quarantine) and len(reasons) == 3
    assert any("lone surrogate" in r for r in reasons) and any("field files" in r for r in reasons)
    assert all(q.source == "slack_api" and q.location.startswith("C1/") for q in live.quarantine)
