"""Delivery by Slack DM and email: real slack-sdk against the fake Slack Web API, real smtplib
against a real aiosmtpd server, a real DuckDB ledger, the real sensor on a real ephemeral instance.

The briefings come from the session's sample run (copied per test, reduced to two days); the
subscriptions are the committed example file: Alice both, Bob email (own address), Carol none,
Dan unsubscribed, everyone else Slack. Transports come from the same Dagster resources the
`deliver_briefings` job uses.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    EnvVar,
    RunConfig,
    RunRequest,
    build_sensor_context,
)

from outropy_pipelines.adapters.email_mailer import EmailComposer
from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.adapters.slack_messenger import slack_payloads
from outropy_pipelines.defs.definitions import build_definitions, build_resources
from outropy_pipelines.defs.delivery import DELIVER_JOB, DeliverConfig, transports
from outropy_pipelines.defs.resources import (
    DeliveryPolicyResource,
    EmailDeliveryResource,
    SlackDeliveryResource,
)
from outropy_pipelines.domain import delivery_plan as plan
from outropy_pipelines.domain.briefing_rendering import SLACK_MAX_BLOCKS, SLACK_MAX_TEXT, render_into
from outropy_pipelines.domain.delivery_plan import DeliveryError, DeliveryPolicy, LedgerRow, Outgoing
from outropy_pipelines.domain.models import Briefing, BriefingLine, SourceRef
from outropy_pipelines.domain.subscriptions import SubscriptionsFileError, load_subscriptions_file
from outropy_pipelines.settings import Settings
from outropy_pipelines.stages.delivery import deliver_all, requeue
from outropy_pipelines.stages.directory import write_directory
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store import deliveries as checks
from outropy_pipelines.store.briefings import content_hash as briefing_content_hash
from outropy_pipelines.store.deliveries import read_ledger, record, utcnow
from outropy_pipelines_tests.conftest import REPO, SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.fake_slack_server import FakeSlackServer
from outropy_pipelines_tests.local_http_server import free_port

TOKEN = "xoxb-test-delivery-token"
DAY, DAY2 = "2026-11-03", "2026-11-04"
EXAMPLE_SUBSCRIPTIONS = REPO / "data" / "subscriptions.example.yaml"
ALICE, BOB, CAROL, DAN, ERIN, FARID = "U001ALICE", "U002BOB", "U003CAROL", "U004DAN", "U005ERIN", "U006FARID"
EMAIL_TO = {ALICE: "alice@example.com", BOB: "bob.builder@example.org"}


# -- servers ------------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler keeping every accepted message."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        self.messages.append(msg)
        return "250 Message accepted for delivery"

    def to(self) -> list[str]:
        return [str(m["To"].addresses[0].addr_spec) for m in self.messages]


@contextmanager
def smtp_server(port: int | None = None, password: str | None = None) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = port or free_port()
    kwargs = {}
    if password is not None:

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == password
            if ok:
                inbox.logins.append(auth_data.login.decode())
            return AuthResult(success=ok)

        kwargs = {"authenticator": authenticator, "auth_require_tls": False, "auth_required": True}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def slack() -> Iterator[FakeSlackServer]:
    with FakeSlackServer(SAMPLE_EXPORT, TOKEN) as server:
        yield server


@pytest.fixture
def store(sample_run, tmp_path) -> DuckDBStore:
    """A copy of the sample run's DuckDB (days DAY and DAY2 only), subscriptions from the example file."""
    path = make_settings(tmp_path).duckdb_path
    shutil.copy(sample_run.settings.duckdb_path, path)
    db = DuckDBStore(path)
    db.execute("DELETE FROM briefings WHERE day NOT IN (CAST(? AS DATE), CAST(? AS DATE))", [DAY, DAY2])
    directory, _ = SlackExportReader(SAMPLE_EXPORT).read_directory()
    write_directory(db, directory, [], EXAMPLE_SUBSCRIPTIONS)
    return db


def settings_for(
    slack_server: FakeSlackServer | None = None, smtp_port: int | None = None, **overrides
) -> dict[str, object]:
    """The delivery resources: Slack when a fake Slack server is given, email when an SMTP port is."""
    policy_fields = set(DeliveryPolicyResource.model_fields)
    policy_values = {"max_age_days": None, **{k: v for k, v in overrides.items() if k in policy_fields}}
    email_values = {k: v for k, v in overrides.items() if k not in policy_fields}
    return {
        "slack_delivery": SlackDeliveryResource(
            bot_token=TOKEN if slack_server else None,
            api_base_url=slack_server.base_url if slack_server else "http://127.0.0.1:9/api/",
        ),
        "email_delivery": EmailDeliveryResource(
            **{
                "host": "127.0.0.1" if smtp_port else None,
                "port": smtp_port or 25,
                "starttls": False,
                "sender": "Outropy briefings <briefings@example.com>",
                "timeout_seconds": 5.0,
                "unsubscribe_url": "https://briefings.example.com/unsubscribe?user={user_id}",
                **email_values,
            }
        ),
        "delivery_policy": DeliveryPolicyResource(**policy_values),
    }


def build_transports(resources: dict[str, object], channels: list[str] | None = None) -> dict:
    return transports(
        resources["slack_delivery"], resources["email_delivery"], channels or list(plan.CHANNELS)
    )


def policy(**overrides) -> DeliveryPolicy:
    return DeliveryPolicy(**{"batch_size": 50, "backoff_base_seconds": 60.0, **overrides})


def posts_by_user(server: FakeSlackServer) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for post in server.posted:
        (user,) = server.opened[post["channel"]]
        out.setdefault(user, []).append(post)
    return out


def briefing_users(db: DuckDBStore, day: str) -> set[str]:
    return {r["user_id"] for r in db.query("SELECT user_id FROM briefings WHERE day = ?", [day])}


def outgoing(db: DuckDBStore, day: str, user_id: str) -> Outgoing:
    row = db.query("SELECT * FROM briefings WHERE day = ? AND user_id = ?", [day, user_id])[0]
    return Outgoing(
        day=day,
        user_id=user_id,
        user_name=row["user_name"],
        channel="slack",
        content_hash=row["content_hash"],
        markdown=row["markdown"],
        plain_text=row["plain_text"] or "",
        html=row["html"],
        blocks_json=row["blocks_json"],
    )


def parts_of(db: DuckDBStore, day: str, user_id: str) -> int:
    return len(slack_payloads(outgoing(db, day, user_id)))


def ledger(db: DuckDBStore) -> dict[tuple[str, str, str], LedgerRow]:
    return {r.key: r for r in read_ledger(db)}


# -- every subscriber, once per channel ---------------------------------------------------------


def test_every_subscriber_gets_one_message_per_channel_and_a_second_run_sends_nothing(store, slack):
    assert {ALICE, BOB, CAROL, DAN} <= briefing_users(store, DAY)  # everyone was briefed
    slack_users = briefing_users(store, DAY) - {BOB, CAROL, DAN}
    with smtp_server() as (inbox, port):
        transports = build_transports(settings_for(slack, port))
        report = deliver_all(store, transports, policy(), days=[DAY])

        assert {o.status for o in report.outcomes} == {"sent"}
        assert len(report.outcomes) == len(slack_users) + len(EMAIL_TO)
        # email: Alice (both) and Bob (email, at the address of the subscriptions file), once each
        assert sorted(inbox.to()) == sorted(EMAIL_TO.values())
        for msg in inbox.messages:
            assert msg.get_content_type() == "multipart/alternative"
            plain = msg.get_body(("plain",)).get_content()
            html = msg.get_body(("html",)).get_content()
            assert f"Your briefing for {DAY}" in plain and f"Your briefing for {DAY}" in html
            assert "https://acme.slack.com/archives/" in plain  # links to the source messages
            assert "<mailto:briefings@example.com?subject=unsubscribe" in msg["List-Unsubscribe"]
            assert "<https://briefings.example.com/unsubscribe?user=U00" in msg["List-Unsubscribe"]
            assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert "Unsubscribe" in html and "Unsubscribe" in plain
        # Slack: every Slack subscriber, all parts of their briefing once, nobody else
        by_user = posts_by_user(slack)
        assert set(by_user) == slack_users
        assert CAROL not in by_user and DAN not in by_user and BOB not in by_user
        for user, posts in by_user.items():
            parts = parts_of(store, DAY, user)
            numbers = sorted(p["params"]["metadata"]["event_payload"]["part"] for p in posts)
            assert numbers == list(range(1, parts + 1)), user
            assert all(p["text"] and p["blocks"] for p in posts)
        assert any("https://acme.slack.com/archives/" in json.dumps(p["blocks"]) for p in slack.posted)
        # the ledger: one sent row per (day, user, channel) with the message ids
        rows = ledger(store)
        assert {k for k, r in rows.items() if r.status == "sent"} == {
            (DAY, u, "slack") for u in slack_users
        } | {(DAY, u, "email") for u in EMAIL_TO}
        for user, posts in by_user.items():
            assert plan.split_ids(rows[(DAY, user, "slack")].external_id) == [p["ts"] for p in posts]
        assert rows[(DAY, BOB, "email")].address == EMAIL_TO[BOB]
        assert checks.duplicate_deliveries(store) == 0 and checks.failed_deliveries(store) == 0

        # a second tick finds nothing due and sends nothing
        again = deliver_all(store, build_transports(settings_for(slack, port)), policy(), days=[DAY])
        assert again.outcomes == []
        assert len(inbox.messages) == len(EMAIL_TO)
        assert sum(len(p) for p in posts_by_user(slack).values()) == sum(len(p) for p in by_user.values())


# -- email: server down, then up ----------------------------------------------------------------


def test_smtp_down_then_up_delivers_exactly_once_after_recovery(store):
    port = free_port()  # nothing listens yet
    now = utcnow()
    transports = build_transports(settings_for(smtp_port=port))
    assert set(transports) == {"email"}
    down = deliver_all(store, transports, policy(), now=now, days=[DAY])
    assert sorted((o.user_id, o.status, o.attempts) for o in down.outcomes) == [
        (ALICE, "retry", 1),
        (BOB, "retry", 1),
    ]
    rows = ledger(store)
    for user in EMAIL_TO:
        row = rows[(DAY, user, "email")]
        assert "unavailable" in row.last_error
        assert row.next_attempt_at == now + dt.timedelta(seconds=60)  # first backoff step
    # still down, before the backoff: nothing is tried
    assert (
        deliver_all(store, transports, policy(), now=now + dt.timedelta(seconds=30), days=[DAY]).outcomes
        == []
    )

    with smtp_server(port) as (inbox, _):
        later = now + dt.timedelta(minutes=2)
        up = deliver_all(
            store, build_transports(settings_for(smtp_port=port)), policy(), now=later, days=[DAY]
        )
        assert sorted((o.user_id, o.status, o.attempts) for o in up.outcomes) == [
            (ALICE, "sent", 2),
            (BOB, "sent", 2),
        ]
        again = deliver_all(
            store,
            build_transports(settings_for(smtp_port=port)),
            policy(),
            now=later + dt.timedelta(hours=1),
            days=[DAY],
        )
        assert again.outcomes == []
        assert sorted(inbox.to()) == sorted(EMAIL_TO.values())  # exactly once each
    assert ledger(store)[(DAY, ALICE, "email")].last_error is None


def test_gives_up_after_max_attempts_then_requeue_delivers(store):
    port = free_port()
    now = utcnow()
    pol = policy(max_attempts=2)
    transports = build_transports(settings_for(smtp_port=port))
    deliver_all(store, transports, pol, now=now, days=[DAY], users=[ALICE])
    second = deliver_all(store, transports, pol, now=now + dt.timedelta(hours=2), days=[DAY], users=[ALICE])
    assert [(o.status, o.attempts) for o in second.outcomes] == [("failed", 2)]
    row = ledger(store)[(DAY, ALICE, "email")]
    assert row.status == "failed" and row.last_error.startswith("gave up after 2 attempts")
    assert checks.failed_deliveries(store, [DAY]) == 1
    # failed is terminal: later ticks leave it alone
    assert (
        deliver_all(
            store, transports, pol, now=now + dt.timedelta(days=1), days=[DAY], users=[ALICE]
        ).outcomes
        == []
    )

    assert requeue(store, ["failed"], days=[DAY]) == 1
    with smtp_server(port) as (inbox, _):
        report = deliver_all(
            store, build_transports(settings_for(smtp_port=port)), pol, days=[DAY], users=[ALICE]
        )
        assert [(o.status, o.attempts) for o in report.outcomes] == [("sent", 1)]
        assert inbox.to() == [EMAIL_TO[ALICE]]


def test_smtp_password_comes_through_an_env_var_and_is_never_stored(store, monkeypatch, tmp_path):
    secret = "s3cret-smtp-pass-Zq9"
    with smtp_server(password=secret) as (inbox, port):
        for name, value in {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_USER": "mailer",
            "SMTP_PASSWORD": secret,
            "SMTP_STARTTLS": "false",
            "SMTP_FROM": "briefings@example.com",
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
        settings = Settings(duckdb_path=store.path, briefings_dir=tmp_path / "b", slack_export=SAMPLE_EXPORT)
        email_resource = build_resources(settings)["email_delivery"]
        assert email_resource.password == EnvVar("SMTP_PASSWORD")  # the variable's name, not its value
        assert secret not in repr(settings) + repr(email_resource)
        with DagsterInstance.ephemeral() as instance:
            result = deliver_run(build_definitions(settings), instance, days=[DAY], users=[ALICE])
            run = instance.get_run_by_id(result.run_id)
            logged = " ".join(str(e.message) for e in result.all_events)
        assert result.output_for_node("deliver_due_briefings")["sent"] == 1
        assert inbox.logins == ["mailer"] and len(inbox.messages) == 1
        assert secret not in json.dumps(run.run_config) + logged
    assert secret.encode() not in store.path.read_bytes()


# -- Slack: rate limits, server errors, long briefings -------------------------------------------


def test_slack_429_is_waited_out(store, slack):
    slack.add_fault("chat.postMessage", status=429, retry_after=1)
    report = deliver_all(
        store, build_transports(settings_for(slack), ["slack"]), policy(), days=[DAY], users=[ERIN]
    )
    assert [(o.status, o.attempts) for o in report.outcomes] == [("sent", 1)]
    statuses = [r.status for r in slack.calls("chat.postMessage")]
    assert statuses[0] == 429 and statuses[1:] == [200] * parts_of(store, DAY, ERIN)
    assert len(posts_by_user(slack)[ERIN]) == parts_of(store, DAY, ERIN)


def test_slack_long_retry_after_is_left_to_a_later_tick(store, slack):
    slack.add_fault("chat.postMessage", status=429, retry_after=120)
    now = utcnow()
    transports = build_transports(settings_for(slack), ["slack"])
    first = deliver_all(store, transports, policy(), now=now, days=[DAY], users=[ERIN])
    assert [o.status for o in first.outcomes] == ["retry"]
    row = ledger(store)[(DAY, ERIN, "slack")]
    assert "429" in row.last_error and row.next_attempt_at >= now + dt.timedelta(seconds=120)
    assert (
        deliver_all(
            store, transports, policy(), now=now + dt.timedelta(seconds=90), days=[DAY], users=[ERIN]
        ).outcomes
        == []
    )
    later = deliver_all(
        store, transports, policy(), now=now + dt.timedelta(seconds=121), days=[DAY], users=[ERIN]
    )
    assert [(o.status, o.attempts) for o in later.outcomes] == [("sent", 2)]
    assert len(posts_by_user(slack)[ERIN]) == parts_of(store, DAY, ERIN)


def test_slack_server_errors_retry_without_duplicates(store, slack):
    slack.add_fault("conversations.open", status=503)  # idempotent: retried inside the call
    slack.add_fault("chat.postMessage", status=500)  # ambiguous: retried on a later tick
    now = utcnow()
    transports = build_transports(settings_for(slack), ["slack"])
    first = deliver_all(store, transports, policy(), now=now, days=[DAY], users=[ERIN, FARID])
    assert sorted((o.user_id, o.status) for o in first.outcomes) == [(ERIN, "retry"), (FARID, "sent")]
    assert [r.status for r in slack.calls("conversations.open")][:2] == [503, 200]
    assert "HTTP 500" in ledger(store)[(DAY, ERIN, "slack")].last_error
    later = deliver_all(
        store, transports, policy(), now=now + dt.timedelta(minutes=5), days=[DAY], users=[ERIN]
    )
    assert [(o.user_id, o.status, o.attempts) for o in later.outcomes if o.user_id == ERIN] == [
        (ERIN, "sent", 2)
    ]
    for user in (ERIN, FARID):
        assert len(posts_by_user(slack)[user]) == parts_of(store, DAY, user)


def _long_briefing(user_id: str, user_name: str, lines: int = 45) -> Briefing:
    sections = ["needs_you", "decisions", "blockers_incidents", "updates"]
    b = Briefing(
        day=DAY,
        user_id=user_id,
        user_name=user_name,
        intro="A very busy day.",
        lines=[
            BriefingLine(
                position=i,
                section=sections[i * len(sections) // lines],
                item_id=f"item{i}",
                kind="decision",
                text=("An extremely long title that never ends " * 150) if i == 7 else f"Decision number {i}",
                reason="in a channel you follow",
                score=1.0,
                channel_id="C01ENG",
                channel_name="#engineering",
                sources=[SourceRef(channel_id="C01ENG", ts=f"1762128000.{i:06d}")],
                permalinks=[f"https://acme.slack.com/archives/C01ENG/p1762128000{i:06d}"],
            )
            for i in range(lines)
        ],
    )
    return render_into(b)


def _store_briefing(db: DuckDBStore, b: Briefing) -> None:
    from outropy_pipelines.domain.briefing_rendering import render_plain_text

    row = {
        "day": b.day,
        "user_id": b.user_id,
        "user_name": b.user_name,
        "markdown": b.markdown,
        "blocks_json": b.blocks_json,
        "html": b.html,
        "plain_text": render_plain_text(b),
        "item_count": b.item_count,
        "llm_tokens": 0,
        "content_hash": briefing_content_hash(b),
        "created_at": utcnow(),
    }
    db.replace_partitions([("briefings", {"day": b.day, "user_id": b.user_id}, [row])])


def test_long_briefing_arrives_complete_over_several_messages_even_after_a_failure(store, slack):
    b = _long_briefing(ERIN, "Erin")
    _store_briefing(store, b)
    assert len(json.loads(b.blocks_json)) > SLACK_MAX_BLOCKS
    slack.add_fault("chat.postMessage", status=500, skip=1)  # part 2 fails the first time
    now = utcnow()
    transports = build_transports(settings_for(slack), ["slack"])
    first = deliver_all(store, transports, policy(), now=now, days=[DAY], users=[ERIN])
    assert [o.status for o in first.outcomes] == ["retry"]
    assert len(plan.split_ids(ledger(store)[(DAY, ERIN, "slack")].external_id)) == 1  # part 1 went out
    second = deliver_all(
        store, transports, policy(), now=now + dt.timedelta(minutes=5), days=[DAY], users=[ERIN]
    )
    assert [o.status for o in second.outcomes] == ["sent"]

    posts = posts_by_user(slack)[ERIN]
    assert len(posts) == parts_of(store, DAY, ERIN) >= 2
    assert [p["params"]["metadata"]["event_payload"]["part"] for p in posts] == list(range(1, len(posts) + 1))
    line_ids: list[str] = []
    for post in posts:
        assert len(post["blocks"]) <= SLACK_MAX_BLOCKS and post["text"]
        ids = [blk.get("block_id", "") for blk in post["blocks"]]
        for blk in post["blocks"]:
            for text in [blk.get("text"), *(blk.get("elements") or [])]:
                assert not isinstance(text, dict) or len(text["text"]) <= SLACK_MAX_TEXT
        for k, block_id in enumerate(ids):  # a line's title and reason stay in the same message
            if block_id.startswith("line-") and not block_id.endswith("-why"):
                assert ids[k + 1] == f"{block_id}-why"
                line_ids.append(block_id)
    assert line_ids == [f"line-{i}" for i in range(len(b.lines))]  # complete, in order, once
    assert "https://acme.slack.com/archives/C01ENG/p1762128000000044" in json.dumps(posts[-1]["blocks"])


# -- crash safety -------------------------------------------------------------------------------


def _crashed_claim(day: str, user_id: str, channel: str, content_hash: str, at: dt.datetime) -> LedgerRow:
    """The ledger as a sender leaves it when it dies after claiming (and maybe sending)."""
    return plan.claim(None, day, user_id, channel, content_hash, at, DeliveryPolicy(lease_seconds=600))


def _hash(db: DuckDBStore, day: str, user_id: str) -> str:
    return db.scalar("SELECT content_hash FROM briefings WHERE day = ? AND user_id = ?", [day, user_id])


def test_crash_after_slack_send_is_reconciled_not_resent(store, slack):
    transports = build_transports(settings_for(slack), ["slack"])
    deliver_all(store, transports, policy(), days=[DAY], users=[ERIN])
    sent = ledger(store)[(DAY, ERIN, "slack")]
    posted = len(slack.posted)
    # the sender died after posting, before writing 'sent'; then its lease ran out
    claimed_at = utcnow() - dt.timedelta(minutes=20)
    record(store, _crashed_claim(DAY, ERIN, "slack", _hash(store, DAY, ERIN), claimed_at))
    # ...and another one died after claiming Farid, before posting anything
    record(store, _crashed_claim(DAY, FARID, "slack", _hash(store, DAY, FARID), claimed_at))
    # a send still in progress elsewhere (lease not expired) is left alone
    record(store, _crashed_claim(DAY, ALICE, "slack", _hash(store, DAY, ALICE), utcnow()))

    report = deliver_all(store, transports, policy(), days=[DAY], users=[ERIN, FARID, ALICE])
    got = {o.user_id: o for o in report.outcomes}
    assert set(got) == {ERIN, FARID}
    assert got[ERIN].status == "sent" and got[ERIN].reconciled
    assert ledger(store)[(DAY, ERIN, "slack")].external_id == sent.external_id
    assert got[FARID].status == "sent"
    assert len(slack.posted) == posted + parts_of(store, DAY, FARID)  # nothing for Erin again
    assert ledger(store)[(DAY, ALICE, "slack")].status == "sending"


def test_crash_during_email_send_is_never_resent_silently(store):
    with smtp_server() as (inbox, port):
        transports = build_transports(settings_for(smtp_port=port))
        claimed_at = utcnow() - dt.timedelta(minutes=20)
        record(store, _crashed_claim(DAY, ALICE, "email", _hash(store, DAY, ALICE), claimed_at))
        report = deliver_all(store, transports, policy(), days=[DAY], users=[ALICE])
        assert [o.status for o in report.outcomes] == ["unknown"]
        assert inbox.messages == []  # at most once: SMTP cannot tell us whether it arrived
        row = ledger(store)[(DAY, ALICE, "email")]
        assert row.status == "unknown" and "requeue" in row.last_error
        assert checks.failed_deliveries(store) == 1
        assert deliver_all(store, transports, policy(), days=[DAY], users=[ALICE]).outcomes == []
        assert requeue(store, ["unknown"], channels=["email"]) == 1
        assert [
            o.status for o in deliver_all(store, transports, policy(), days=[DAY], users=[ALICE]).outcomes
        ] == ["sent"]
        assert inbox.to() == [EMAIL_TO[ALICE]]


# -- re-materialization -------------------------------------------------------------------------


def test_rematerialized_briefing_is_resent_only_when_changed_and_allowed(store, slack):
    transports = build_transports(settings_for(slack), ["slack"])
    deliver_all(store, transports, policy(), days=[DAY], users=[ERIN])
    first = len(slack.posted)
    # re-materialize with the same content (a new created_at, same hash): never resent
    store.execute("UPDATE briefings SET created_at = now() WHERE day = ? AND user_id = ?", [DAY, ERIN])
    assert (
        deliver_all(store, transports, policy(resend_on_change=True), days=[DAY], users=[ERIN]).outcomes == []
    )
    # new content: resent only with resend_on_change
    _store_briefing(store, _long_briefing(ERIN, "Erin", lines=5))
    assert deliver_all(store, transports, policy(), days=[DAY], users=[ERIN]).outcomes == []
    report = deliver_all(store, transports, policy(resend_on_change=True), days=[DAY], users=[ERIN])
    assert [(o.status, o.attempts) for o in report.outcomes] == [("sent", 1)]
    assert len(slack.posted) == first + parts_of(store, DAY, ERIN)
    assert ledger(store)[(DAY, ERIN, "slack")].content_hash == _hash(store, DAY, ERIN)
    assert checks.duplicate_deliveries(store) == 0


# -- the job and its sensor --------------------------------------------------------------------


def deliver_run(defs, instance: DagsterInstance, run_config=None, tags=None, **config):
    """One run of the deliver_briefings job, in this process, on `instance`."""
    run_config = run_config or RunConfig(ops={"deliver_due_briefings": DeliverConfig(**config)})
    return defs.resolve_job_def(DELIVER_JOB).execute_in_process(
        instance=instance, run_config=run_config, tags=tags, raise_on_error=False
    )


def test_sensor_requests_one_run_per_due_set_and_the_run_delivers_everything_once(store, slack, tmp_path):
    store.execute("DELETE FROM briefings WHERE day <> CAST(? AS DATE)", [DAY])
    settings = make_settings(tmp_path)
    with smtp_server() as (inbox, port):
        resources = settings_for(slack, port, batch_size=12)
        defs = build_definitions(settings, resources=resources)
        sensor = defs.resolve_sensor_def("deliver_briefings_sensor")
        context_resources = {**build_resources(settings), **resources}
        expected = len(briefing_users(store, DAY) - {BOB, CAROL, DAN}) + len(EMAIL_TO)
        with DagsterInstance.ephemeral() as instance:
            tick = sensor.evaluate_tick(build_sensor_context(instance=instance, resources=context_resources))
            [request] = tick.run_requests
            assert isinstance(request, RunRequest) and request.run_key.startswith("due:")
            assert request.tags["outropy/due"] == str(expected)
            # the same due set is the same run key: the daemon launches it once
            again = sensor.evaluate_tick(build_sensor_context(instance=instance, resources=context_resources))
            assert [r.run_key for r in again.run_requests] == [request.run_key]
            # while a delivery run is going, the sensor waits for it
            busy = instance.create_run_for_job(
                defs.resolve_job_def(DELIVER_JOB), status=DagsterRunStatus.STARTED
            )
            waiting = sensor.evaluate_tick(
                build_sensor_context(instance=instance, resources=context_resources)
            )
            assert not waiting.run_requests and busy.run_id in (waiting.skip_message or "")
            instance.report_run_canceled(busy)

            result = deliver_run(defs, instance, run_config=request.run_config, tags=request.tags)
            assert result.success
            # the tag the production run queue holds to one run at a time (deploy/dagster.yaml)
            assert result.dagster_run.tags["outropy/workload"] == "delivery"
            assert result.output_for_node("deliver_due_briefings")["sent"] == expected
            assert {(e.check_name, e.passed) for e in result.get_asset_check_evaluations()} == {
                ("no_duplicate_deliveries", True),
                ("no_failed_deliveries", True),
            }
            assert len(inbox.messages) == len(EMAIL_TO)
            assert sum(1 for r in read_ledger(store) if r.status == "sent") == expected
            # nothing is due any more: no run requested, and a run anyway sends nothing
            idle = sensor.evaluate_tick(build_sensor_context(instance=instance, resources=context_resources))
            assert not idle.run_requests and "nothing due" in idle.skip_message
            assert deliver_run(defs, instance).output_for_node("deliver_due_briefings")["sent"] == 0
        assert len(inbox.messages) == len(EMAIL_TO)


def test_a_retry_that_comes_due_is_a_new_request(store, tmp_path):
    settings = make_settings(tmp_path)
    port = free_port()  # nothing listens: every email attempt fails
    resources = settings_for(smtp_port=port, backoff_seconds=0.0)
    defs = build_definitions(settings, resources=resources)
    sensor = defs.resolve_sensor_def("deliver_briefings_sensor")
    context_resources = {**build_resources(settings), **resources}
    with DagsterInstance.ephemeral() as instance:
        first = sensor.evaluate_tick(build_sensor_context(instance=instance, resources=context_resources))
        [request] = first.run_requests
        outcome = deliver_run(defs, instance, run_config=request.run_config).output_for_node(
            "deliver_due_briefings"
        )
        assert outcome["retry"] == len(EMAIL_TO) * 2  # both days, both readers
        second = sensor.evaluate_tick(build_sensor_context(instance=instance, resources=context_resources))
        [retry] = second.run_requests
        assert retry.run_key != request.run_key  # same deliveries, one attempt later


def test_sensor_skips_without_channels_and_ignores_old_briefings(store, slack, tmp_path):
    settings = make_settings(tmp_path)
    with DagsterInstance.ephemeral() as instance:
        resources = settings_for(slack, max_age_days=7)
        sensor = build_definitions(settings, resources=resources).resolve_sensor_def(
            "deliver_briefings_sensor"
        )
        # the sample's days are weeks old: the sensor's max age keeps it from sending stale briefings
        context = build_sensor_context(
            instance=instance, resources={**build_resources(settings), **resources}
        )
        old = sensor.evaluate_tick(context)
        assert not old.run_requests and "nothing due" in old.skip_message and slack.posted == []
        none = build_sensor_context(
            instance=instance, resources={**build_resources(settings), **settings_for()}
        )
        assert "no delivery channel configured" in sensor.evaluate_tick(none).skip_message


# -- the command line ---------------------------------------------------------------------------


def test_outropy_deliver_command_delivers_once_and_shows_the_ledger(store, slack, tmp_path):
    with smtp_server() as (inbox, port):
        env = {
            **os.environ,
            "OUTROPY_DUCKDB_PATH": str(store.path),
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_API_BASE_URL": slack.base_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_STARTTLS": "false",
            "SMTP_FROM": "briefings@example.com",
        }

        def outropy(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [sys.executable, "-m", "outropy_pipelines.cli", "deliver", *args],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )

        dry = outropy("--date", DAY, "--dry-run")
        assert dry.returncode == 0 and f"due: {DAY} {ALICE} email" in dry.stdout
        first = outropy("--date", DAY)
        assert first.returncode == 0, first.stdout + first.stderr
        expected_slack = len(briefing_users(store, DAY) - {BOB, CAROL, DAN})
        assert f"slack {expected_slack}" in first.stdout and "email 2" in first.stdout
        assert len(inbox.messages) == 2 and set(posts_by_user(slack)) == briefing_users(store, DAY) - {
            BOB,
            CAROL,
            DAN,
        }
        posted = len(slack.posted)
        second = outropy("--date", DAY)
        assert second.returncode == 0 and "nothing due" in second.stdout
        assert len(inbox.messages) == 2 and len(slack.posted) == posted
        shown = outropy("--ledger", "--date", DAY)
        assert f"slack  sent     {expected_slack}" in shown.stdout and "email  sent     2" in shown.stdout
        assert TOKEN not in first.stdout + first.stderr + shown.stdout
        # the other day is still due (the --date filter held)
        assert f"due: {DAY2}" in outropy("--dry-run").stdout


# -- pure parts ---------------------------------------------------------------------------------


def test_backoff_and_due_decisions():
    pol = DeliveryPolicy(
        backoff_base_seconds=60, backoff_max_seconds=600, max_attempts=3, resend_on_change=False
    )
    assert [plan.backoff_seconds(n, pol) for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 480, 600]
    assert plan.backoff_seconds(1, pol, retry_after=300) == 300
    now = dt.datetime(2026, 11, 4, 7, 0)
    row = LedgerRow(day=DAY, user_id=ERIN, channel="slack", status="sent", content_hash="a")
    assert plan.decide(None, "a", now, pol) == "send"
    assert plan.decide(row, "b", now, pol) == "done"
    assert plan.decide(row, "b", now, replace(pol, resend_on_change=True)) == "send"
    assert plan.decide(row, "a", now, replace(pol, resend_on_change=True)) == "done"
    waiting = replace(row, status="retry", next_attempt_at=now + dt.timedelta(seconds=1))
    assert plan.decide(waiting, "a", now, pol) == "wait"
    assert plan.decide(replace(waiting, next_attempt_at=now), "a", now, pol) == "send"
    assert plan.decide(replace(waiting, status="sending"), "a", now, pol) == "wait"
    assert plan.decide(replace(waiting, status="sending", next_attempt_at=now), "a", now, pol) == "reconcile"
    assert plan.decide(replace(row, status="failed"), "a", now, pol) == "gave_up"
    claimed = plan.claim(None, DAY, ERIN, "slack", "a", now, pol)
    err = DeliveryError("boom")
    assert plan.after_failure(replace(claimed, attempts=3), err, now, pol).status == "failed"
    assert (
        plan.after_failure(claimed, DeliveryError("no such user", permanent=True), now, pol).status
        == "failed"
    )
    assert plan.after_failure(claimed, err, now, pol).next_attempt_at == now + dt.timedelta(seconds=60)


def test_email_composition_and_missing_address():
    composer = EmailComposer("Outropy <briefings@example.com>", unsubscribe_url=None)
    item = Outgoing(
        day=DAY,
        user_id=ALICE,
        user_name="Alice Moreau",
        channel="email",
        content_hash="abc123",
        markdown="# md",
        plain_text="Your briefing\n\n- a line",
        html="<html><body><div>inner <b>content</b></div></body></html>",
        blocks_json="[]",
        email_address="alice@example.com",
    )
    msg = composer.compose(item)
    assert msg["Message-ID"] == f"<briefing.{DAY}.{ALICE}.abc123@example.com>"
    assert msg["List-Unsubscribe"] == f"<mailto:briefings@example.com?subject=unsubscribe%20{ALICE}>"
    assert msg["List-Unsubscribe-Post"] is None  # one-click needs an https URL
    html = msg.get_body(("html",)).get_content()
    assert "<div>inner <b>content</b></div>" in html and html.count("<body") == 1
    assert "- a line" in msg.get_body(("plain",)).get_content()
    with pytest.raises(DeliveryError) as exc:
        composer.compose(replace(item, email_address=None))
    assert exc.value.permanent


def test_email_html_part_is_autoescaped():
    # Title, unsubscribe link and the Markdown fallback are escaped (& < > "); the stored page's
    # body goes in as it is, already escaped by render_html.
    day = """2026-11-03<script>alert("x")</script>'"""
    line = BriefingLine(
        position=0,
        section="needs_you",
        item_id="i0",
        kind="action_item",
        text="""<script>alert('t')</script> "q" """,
        reason="assigned to you",
        score=1.0,
        channel_id="C1",
        channel_name="#eng",
        sources=[SourceRef(channel_id="C1", ts="1762128000.000100")],
        permalinks=["https://acme.slack.com/archives/C1/p1762128000000100"],
    )
    b = render_into(Briefing(day=day, user_id=ALICE, user_name="Alice", lines=[line]))
    composer = EmailComposer("Outropy <o'brien@example.com>", unsubscribe_url='https://x.example/u?a="<b>"')
    item = Outgoing(
        day=day,
        user_id=ALICE,
        user_name="Alice",
        channel="email",
        content_hash="h",
        markdown=b.markdown,
        plain_text="",
        html=b.html,
        blocks_json="[]",
        email_address="alice@example.com",
    )
    html = composer.compose(item).get_body(("html",)).get_content()
    title = "Your briefing for 2026-11-03&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'"
    assert "<script" not in html and f"<title>{title}</title>" in html
    # the page's own escaping (render_html's: &#x27;), the page body going in as it is
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt; &quot;q&quot;" in html
    unsubscribe = '<a href="https://x.example/u?a=&quot;&lt;b&gt;&quot;" style="color:#1264a3;">'
    assert unsubscribe in html
    plain = composer.compose(item).get_body(("plain",)).get_content()
    assert """# Your briefing for 2026-11-03\\<script\\>alert("x")""" in plain  # text part: not HTML-escaped
    fallback = composer.compose(replace(item, html="")).get_body(("html",)).get_content()
    assert "<pre># Your briefing for 2026-11-03\\&lt;script\\&gt;alert(&quot;x&quot;)" in fallback
    assert "<script" not in fallback


def test_subscriptions_file_choices_and_default_location(tmp_path, monkeypatch):
    directory, _ = SlackExportReader(SAMPLE_EXPORT).read_directory()
    path = tmp_path / "subs.yaml"
    path.write_text(
        "defaults: {delivery: none}\nusers:\n  U001ALICE: {delivery: both}\n  U002BOB: {email: true}\n"
    )
    from outropy_pipelines.domain.subscriptions import default_subscriptions

    subs = {s.user_id: s for s in load_subscriptions_file(path, directory, default_subscriptions(directory))}
    assert (subs[ALICE].slack, subs[ALICE].email, subs[ALICE].email_address) == (
        True,
        True,
        "alice@example.com",
    )
    assert (subs[BOB].slack, subs[BOB].email) == (False, True)
    assert (subs[ERIN].slack, subs[ERIN].email, subs[ERIN].active) == (False, False, True)
    path.write_text("users:\n  U001ALICE: {delivery: pigeon}\n")
    with pytest.raises(SubscriptionsFileError, match="delivery must be one of"):
        load_subscriptions_file(path, directory, default_subscriptions(directory))
    path.write_text("users:\n  U001ALICE: {emial: true}\n")
    with pytest.raises(SubscriptionsFileError, match="unknown key"):
        load_subscriptions_file(path, directory, default_subscriptions(directory))
    # data/subscriptions.yaml is picked up when OUTROPY_SUBSCRIPTIONS_FILE is unset
    monkeypatch.delenv("OUTROPY_SUBSCRIPTIONS_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Settings().subscriptions_file is None
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "subscriptions.yaml").write_text("users: {}\n")
    assert Settings().subscriptions_file == (tmp_path / "data" / "subscriptions.yaml").resolve()
