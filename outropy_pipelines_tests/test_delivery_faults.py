"""Delivery under faults: nothing lost, nothing sent twice, and what is in doubt is said so.

- a real `outropy deliver` process killed with SIGKILL while the SMTP server holds its 3rd
  message: only that message is left in flight; its run is failed by the run monitor; the next
  pass sends the rest and marks it `unknown`;
- an SMTP server that drops the connection after receiving a message's DATA (before acknowledging
  it): the message is in doubt (`unknown`), never resent unless an operator requeues it; a drop
  before DATA is an ordinary retry;
- a Slack post stored by the server but answered with a 5xx or a dropped connection: the next pass
  finds it in the DM history and does not post again; when the history cannot be read, `unknown`.

Real components: aiosmtpd on 127.0.0.1 with the real smtplib, the fake Slack Web API with the real
slack-sdk, a real DuckDB ledger, the real `outropy deliver` command in a subprocess.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.defs.delivery import DELIVER_JOB
from outropy_pipelines.defs.run_monitor import fail_dead_runs
from outropy_pipelines.domain import delivery_plan as plan
from outropy_pipelines.domain.delivery_plan import DeliveryError, DeliveryPolicy, LedgerRow
from outropy_pipelines.processes import Owner, current
from outropy_pipelines.stages.delivery import deliver_all, requeue
from outropy_pipelines.stages.directory import write_directory
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.deliveries import utcnow
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.fake_slack_server import FakeSlackServer
from outropy_pipelines_tests.local_http_server import free_port
from outropy_pipelines_tests.test_delivery import (
    DAY,
    ERIN,
    FARID,
    TOKEN,
    build_transports,
    ledger,
    parts_of,
    policy,
    posts_by_user,
    settings_for,
)

SENDER = "briefings@example.com"


# -- an SMTP server with faults ---------------------------------------------------------------------


class FaultyInbox:
    """aiosmtpd handler keeping every message it received, with scripted faults:
    - `hold_at`: the n-th message (1-based) is kept, then its reply is held until `release` is set
      (`holding` is set meanwhile), as a server that is slow to acknowledge;
    - `drop_after_data`: the connection is dropped after a message is received, before the reply;
    - `drop_at_rcpt`: the connection is dropped at RCPT TO for the first n recipients."""

    def __init__(self, hold_at: int | None = None, drop_after_data: bool = False, drop_at_rcpt: int = 0):
        self.messages: list[email.message.EmailMessage] = []
        self.hold_at = hold_at
        self.drop_after_data = drop_after_data
        self.drop_at_rcpt = drop_at_rcpt
        self.holding = threading.Event()
        self.release = threading.Event()
        self.dropped = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.drop_at_rcpt > 0:
            self.drop_at_rcpt -= 1
            self.dropped += 1
            server.transport.abort()
            return "421 closing"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        if self.hold_at is not None and len(self.messages) == self.hold_at:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        if self.drop_after_data:
            self.dropped += 1
            server.transport.abort()  # received, never acknowledged
        return "250 Message accepted for delivery"

    def copies(self) -> Counter:
        return Counter(str(m["To"].addresses[0].addr_spec) for m in self.messages)


@contextmanager
def faulty_smtp(inbox: FaultyInbox) -> Iterator[int]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        inbox.release.set()
        controller.stop()


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[FakeSlackServer]:
    with FakeSlackServer(SAMPLE_EXPORT, TOKEN) as server:
        yield server


@pytest.fixture
def store(sample_run, tmp_path) -> DuckDBStore:
    """A copy of the sample run's DuckDB with the briefings of DAY only; everyone subscribed by
    email (their directory address) and Slack."""
    path = make_settings(tmp_path).duckdb_path
    shutil.copy(sample_run.settings.duckdb_path, path)
    db = DuckDBStore(path)
    db.execute("DELETE FROM briefings WHERE day <> CAST(? AS DATE)", [DAY])
    subscriptions = tmp_path / "subscriptions.yaml"
    subscriptions.write_text("defaults: {delivery: both}\ninclude_everyone: true\n")
    directory, _ = SlackExportReader(SAMPLE_EXPORT).read_directory()
    write_directory(db, directory, [], subscriptions)
    return db


def email_recipients(db: DuckDBStore) -> dict[str, str]:
    """user id -> address of everyone who gets DAY's briefing by email."""
    rows = db.query(
        """SELECT b.user_id, s.email_address FROM briefings b JOIN subscriptions s USING (user_id)
           WHERE b.day = CAST(? AS DATE) AND s.active AND s.email ORDER BY b.user_id""",
        [DAY],
    )
    return {r["user_id"]: r["email_address"] for r in rows}


def statuses(db: DuckDBStore, channel: str) -> Counter:
    return Counter(r.status for r in ledger(db).values() if r.channel == channel)


# -- a killed `outropy deliver` -----------------------------------------------------------------------


def test_killed_deliver_strands_only_the_message_in_flight(store, tmp_path):
    recipients = email_recipients(store)
    assert len(recipients) >= 20
    inbox = FaultyInbox(hold_at=3)
    with faulty_smtp(inbox) as port:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(tmp_path / "dagster_home"),
            "OUTROPY_DUCKDB_PATH": str(store.path),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_STARTTLS": "false",
            "SMTP_FROM": SENDER,
            "SMTP_TIMEOUT_SECONDS": "120",
        }
        env.pop("SLACK_BOT_TOKEN", None)
        command = [sys.executable, "-m", "outropy_pipelines.cli", "deliver", "--channel", "email"]
        log = (tmp_path / "first-pass.log").open("w")
        first = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            assert inbox.holding.wait(120), (tmp_path / "first-pass.log").read_text()[-3000:]
            first.send_signal(signal.SIGKILL)  # while the server holds the 3rd message's reply
            assert first.wait(30) == -signal.SIGKILL
        finally:
            if first.poll() is None:
                first.kill()
        inbox.release.set()

        # the crash stranded one delivery, the one in flight; nothing else was claimed
        rows = {k: r for k, r in ledger(store).items() if k[2] == "email"}
        assert Counter(r.status for r in rows.values()) == {"sent": 2, "sending": 1}
        (in_flight,) = [r for r in rows.values() if r.status == "sending"]
        assert Owner.parse(in_flight.claimed_by).pid == first.pid
        assert recipients[in_flight.user_id] == str(inbox.messages[2]["To"].addresses[0].addr_spec)

        # its Dagster run stays STARTED (it would keep the delivery sensor waiting) until the run
        # monitor sees its process is gone
        instance = DagsterInstance.from_config(str(tmp_path / "dagster_home"))
        (killed_run,) = instance.get_runs(RunsFilter(job_name=DELIVER_JOB))
        assert killed_run.status == DagsterRunStatus.STARTED
        assert fail_dead_runs(instance) == ([killed_run.run_id], 1)
        assert instance.get_run_by_id(killed_run.run_id).status == DagsterRunStatus.FAILURE
        instance.dispose()

        second = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert second.returncode == 1, second.stdout + second.stderr  # 1: something is unknown
        assert "1 unknown" in second.stdout

    # everyone got exactly one email: the held one arrived once and was not resent
    assert inbox.copies() == Counter(recipients.values())
    after = {k: r for k, r in ledger(store).items() if k[2] == "email"}
    assert statuses(store, "email") == {"sent": len(recipients) - 1, "unknown": 1}
    stranded = after[in_flight.key]
    assert stranded.status == "unknown" and "requeue unknown" in stranded.last_error
    assert stranded.claimed_by is None


# -- SMTP: in doubt after DATA, retried before it --------------------------------------------------------


def test_smtp_drop_after_data_is_unknown_and_never_sent_twice(store):
    users = sorted(email_recipients(store))[:5]
    inbox = FaultyInbox(drop_after_data=True)
    with faulty_smtp(inbox) as port:
        transports = build_transports(settings_for(smtp_port=port), ["email"])
        now = utcnow()
        first = deliver_all(store, transports, policy(), now=now, days=[DAY], users=users)
        assert [o.status for o in first.outcomes] == ["unknown"] * 5
        assert inbox.dropped == 5 and sorted(inbox.copies().values()) == [1] * 5
        for user in users:
            row = ledger(store)[(DAY, user, "email")]
            assert row.status == "unknown" and row.in_doubt and row.attempts == 1
            assert "did not acknowledge" in row.last_error and "requeue unknown" in row.last_error
        # later passes leave them alone: at most once while in doubt
        inbox.drop_after_data = False
        later = deliver_all(
            store, build_transports(settings_for(smtp_port=port), ["email"]), policy(),
            now=now + dt.timedelta(days=1), days=[DAY], users=users,
        )  # fmt: skip
        assert later.outcomes == [] and sorted(inbox.copies().values()) == [1] * 5
        # an operator who checked asks for one of them again: it is sent, deliberately
        assert requeue(store, ["unknown"], users=[users[0]]) == 1
        again = deliver_all(
            store, build_transports(settings_for(smtp_port=port), ["email"]), policy(),
            days=[DAY], users=users,
        )  # fmt: skip
        assert [(o.user_id, o.status) for o in again.outcomes] == [(users[0], "sent")]
        assert sorted(inbox.copies().values()) == [1, 1, 1, 1, 2]


def test_smtp_drop_before_data_is_an_ordinary_retry(store):
    users = sorted(email_recipients(store))[:3]
    inbox = FaultyInbox(drop_at_rcpt=2)
    with faulty_smtp(inbox) as port:
        now = utcnow()
        first = deliver_all(
            store, build_transports(settings_for(smtp_port=port), ["email"]), policy(),
            now=now, days=[DAY], users=users,
        )  # fmt: skip
        assert [o.status for o in first.outcomes] == ["retry", "retry", "sent"]
        assert inbox.dropped == 2 and len(inbox.messages) == 1
        assert not ledger(store)[(DAY, users[0], "email")].in_doubt
        later = deliver_all(
            store, build_transports(settings_for(smtp_port=port), ["email"]), policy(),
            now=now + dt.timedelta(minutes=5), days=[DAY], users=users,
        )  # fmt: skip
        assert [(o.user_id, o.status, o.attempts) for o in later.outcomes] == [
            (users[0], "sent", 2),
            (users[1], "sent", 2),
        ]
    assert sorted(inbox.copies().values()) == [1, 1, 1]


# -- Slack: a post in doubt is looked for before it is sent again ---------------------------------------


@pytest.mark.parametrize("fault", [{"status": 503}, {"disconnect": True}], ids=["5xx", "dropped"])
def test_slack_post_in_doubt_is_found_in_the_dm_and_not_posted_again(store, slack, fault):
    slack.add_fault("chat.postMessage", after=True, **fault)  # stored, but the answer is lost
    transports = build_transports(settings_for(slack), ["slack"])
    now = utcnow()
    first = deliver_all(store, transports, policy(), now=now, days=[DAY], users=[ERIN, FARID])
    assert sorted((o.user_id, o.status) for o in first.outcomes) == [(ERIN, "retry"), (FARID, "sent")]
    row = ledger(store)[(DAY, ERIN, "slack")]
    assert row.in_doubt and row.last_error.startswith("in doubt")
    assert len(posts_by_user(slack)[ERIN]) == 1  # it did arrive
    posted = len(slack.posted)

    later = deliver_all(
        store, transports, policy(), now=now + dt.timedelta(minutes=5), days=[DAY], users=[ERIN, FARID]
    )
    assert [(o.user_id, o.status) for o in later.outcomes] == [(ERIN, "sent")]
    assert len(slack.posted) == posted + parts_of(store, DAY, ERIN) - 1  # only the parts still missing
    erins = posts_by_user(slack)[ERIN]
    assert [p["params"]["metadata"]["event_payload"]["part"] for p in erins] == list(
        range(1, parts_of(store, DAY, ERIN) + 1)
    )
    done = ledger(store)[(DAY, ERIN, "slack")]
    assert done.status == "sent" and not done.in_doubt
    assert done.external_id == ",".join(p["ts"] for p in erins)


def test_slack_post_in_doubt_with_an_unreadable_dm_is_unknown(store, slack):
    slack.add_fault("chat.postMessage", status=502, after=True)
    transports = build_transports(settings_for(slack), ["slack"])
    now = utcnow()
    first = deliver_all(store, transports, policy(), now=now, days=[DAY], users=[ERIN])
    assert [o.status for o in first.outcomes] == ["retry"]
    (dm,) = [cid for cid, users in slack.opened.items() if users == [ERIN]]
    slack.deny(dm)  # e.g. the app lacks im:history: the DM cannot be searched
    posted = len(slack.posted)
    later = deliver_all(
        store, transports, policy(), now=now + dt.timedelta(minutes=5), days=[DAY], users=[ERIN]
    )
    assert [o.status for o in later.outcomes] == ["unknown"]
    assert len(slack.posted) == posted  # not posted blindly
    assert "may have arrived" in ledger(store)[(DAY, ERIN, "slack")].last_error


# -- the rules, pure ------------------------------------------------------------------------------


def test_in_doubt_and_abandoned_claims_decide_as_documented():
    now = dt.datetime(2026, 11, 4, 7, 0)
    pol = DeliveryPolicy(max_attempts=3, lease_seconds=600)
    claimed = plan.claim(None, DAY, ERIN, "slack", "h", now, pol, claimed_by="123-1000-abcd0123")
    assert claimed.status == "sending" and claimed.claimed_by == "123-1000-abcd0123"
    # a claim is waited for while its lease runs, unless its process is known to be gone
    assert plan.decide(claimed, "h", now, pol) == "wait"
    assert plan.decide(claimed, "h", now, pol, claimer_gone=True) == "reconcile"
    assert plan.decide(claimed, "h", now + dt.timedelta(seconds=601), pol) == "reconcile"
    doubt = DeliveryError("lost reply", in_doubt=True)
    slack_row = plan.after_failure(claimed, doubt, now, pol)
    assert (slack_row.status, slack_row.in_doubt, slack_row.claimed_by) == ("retry", True, None)
    email_row = plan.after_failure(replace(claimed, channel="email"), doubt, now, pol)
    assert (email_row.status, email_row.in_doubt) == ("unknown", True)
    last = plan.after_failure(replace(claimed, attempts=3), doubt, now, pol)
    assert last.status == "unknown"  # out of attempts while in doubt: not "failed" (which may be resent)
    plain = plan.after_failure(claimed, DeliveryError("refused"), now, pol)
    assert (plain.status, plain.in_doubt) == ("retry", False)
    assert plan.requeue(email_row, now).in_doubt is False
    assert isinstance(plan.after_success(claimed, plan.SendResult("D1", ["1.1"]), now), LedgerRow)


def test_a_process_is_named_by_pid_start_and_host_and_a_dead_one_is_seen_as_gone():
    child = subprocess.run(
        [sys.executable, "-c", "from outropy_pipelines.processes import current; print(current().token())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = Owner.parse(child.stdout.strip())
    assert dead is not None and dead.is_gone()
    me = current()
    assert Owner.parse(me.token()) is not None and not Owner.parse(me.token()).is_gone()
    # a later process reusing a pid is not the owner: same pid, an earlier start time
    assert replace(me, started=me.started - 3600).is_gone()
    assert not replace(me, host="elsewhere").is_gone()  # another host: cannot tell, so alive
