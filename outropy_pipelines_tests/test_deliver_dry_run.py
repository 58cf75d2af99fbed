"""`outropy deliver --dry-run` says what would fail and why, one line per problem with the
deliveries it affects, and the real run then fails exactly there (issue 16).

Real components: the sample run's DuckDB (one day of briefings), the CLI in a subprocess, the
fake Slack Web API and a real aiosmtpd server for the real run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.stages.directory import write_directory
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.deliveries import read_ledger
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.fake_slack_server import FakeSlackServer
from outropy_pipelines_tests.test_delivery import smtp_server

DAY = "2026-11-03"
TOKEN = "xoxb-test-dry-run-token"
ALICE, BOB, ERIN = "U001ALICE", "U002BOB", "U005ERIN"
SUBSCRIPTIONS = """
defaults: {delivery: slack}
users:
  U001ALICE: {delivery: both}                       # the directory's address
  U002BOB: {delivery: email, email_address: ""}      # none
  U005ERIN: {delivery: email, email_address: "erin at example dot com"}
"""
SETTINGS_VARS = (
    "SLACK_BOT_TOKEN",
    "SLACK_API_BASE_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_FROM",
    "SMTP_STARTTLS",
)


@pytest.fixture
def store(sample_run, tmp_path) -> DuckDBStore:
    path = make_settings(tmp_path).duckdb_path
    shutil.copy(sample_run.settings.duckdb_path, path)
    db = DuckDBStore(path)
    db.execute("DELETE FROM briefings WHERE day <> CAST(? AS DATE)", [DAY])
    subscriptions = tmp_path / "subscriptions.yaml"
    subscriptions.write_text(SUBSCRIPTIONS)
    directory, _ = SlackExportReader(SAMPLE_EXPORT).read_directory()
    write_directory(db, directory, [], subscriptions)
    return db


def deliver(store: DuckDBStore, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    return subprocess.run(
        [sys.executable, "-m", "outropy_pipelines.cli", "deliver", *args],
        env={**base, "OUTROPY_DUCKDB_PATH": str(store.path), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def subscribed(store: DuckDBStore, channel: str) -> int:
    return store.scalar(
        f"SELECT count(*) FROM briefings b JOIN subscriptions s USING (user_id) WHERE s.active AND s.{channel}"
    )


def problem_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("would fail:")]


def test_nothing_configured_names_each_channel_and_its_variable(store, tmp_path):
    slack_due = subscribed(store, "slack")
    assert slack_due > 20 and subscribed(store, "email") == 3
    dry = deliver(store, tmp_path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"{slack_due + 3} deliveries due (slack {slack_due}, email 3)" in dry.stdout
    assert problem_lines(dry.stdout) == [
        f"would fail: {slack_due} slack deliveries: no Slack bot token is configured (set SLACK_BOT_TOKEN)",
        "would fail: 3 email deliveries: no SMTP server is configured (set SMTP_HOST)",
    ]
    # the real run refuses, for the same reasons
    real = deliver(store, tmp_path)
    assert real.returncode == 2
    assert f"slack: {slack_due} deliveries waiting: no Slack bot token is configured" in real.stderr
    assert "no delivery channel configured" in real.stderr


def test_a_bad_sender_is_one_line_and_the_real_run_refuses_it(store, tmp_path):
    env = {"SLACK_BOT_TOKEN": TOKEN, "SMTP_HOST": "127.0.0.1", "SMTP_FROM": "briefings"}
    dry = deliver(store, tmp_path, "--dry-run", "--channel", "email", **env)
    assert problem_lines(dry.stdout) == [
        "would fail: 3 email deliveries: SMTP_FROM is not an email address: 'briefings'"
    ]
    real = deliver(store, tmp_path, "--channel", "email", **env)
    assert real.returncode == 2 and "outropy: email: SMTP_FROM is not an email address" in real.stderr
    assert read_ledger(store) == []  # nothing was attempted


def test_readers_without_an_address_are_counted_and_the_real_run_fails_exactly_them(store, tmp_path):
    with FakeSlackServer(SAMPLE_EXPORT, TOKEN) as slack, smtp_server() as (inbox, port):
        env = {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_API_BASE_URL": slack.base_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_STARTTLS": "false",
            "SMTP_FROM": "briefings@example.com",
        }
        dry = deliver(store, tmp_path, "--dry-run", **env)
        assert dry.returncode == 0, dry.stderr
        assert problem_lines(dry.stdout) == [
            "would fail: 2 email deliveries: 2 readers have no email address "
            f"({BOB}, {ERIN}; set email_address in the subscriptions file)"
        ]
        real = deliver(store, tmp_path, **env)
        assert real.returncode == 1, real.stdout + real.stderr  # some deliveries failed
    failed = {(r.user_id, r.channel) for r in read_ledger(store) if r.status == "failed"}
    assert failed == {(BOB, "email"), (ERIN, "email")}
    assert [str(m["To"].addresses[0].addr_spec) for m in inbox.messages] == ["alice@example.com"]
    # once they have failed, nothing is due and the dry run has nothing to warn about
    again = deliver(store, tmp_path, "--dry-run", **env)
    assert "0 deliveries due" in again.stdout and problem_lines(again.stdout) == []
