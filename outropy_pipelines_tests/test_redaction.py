"""Credentials in message text are redacted before anything is sent to a remote model."""

from __future__ import annotations

import pytest

from outropy_pipelines.domain.contracts import ClassifyThreadInput, ThreadMessageInput
from outropy_pipelines.domain.redaction import contains_secret, redact, redact_model

# (text, the secret part that must disappear, the kind named in the mark)
SECRETS = [
    ("my key is sk-proj-AbCdEf1234567890abcdEFGHijkl_mnopQRST ok", "AbCdEf1234567890abcdEFGH", "api_key"),
    ("old style sk-AbCdEf1234567890abcdEFGHijklmnopQRSTuvwx", "AbCdEf1234567890abcdEFGH", "api_key"),
    ("bot token xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", "0987654321-AbCdEf", "slack_token"),
    ("user token xoxp-12345-67890-abcdefghijk", "67890-abcdefghijk", "slack_token"),
    ("app token xapp-1-A0123456-abcdef0123", "A0123456-abcdef0123", "slack_app_token"),
    (
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "github_token",
    ),
    ("gho_ABCDEFGHIJKLMNOPQRSTUV0123456789abcd", "ABCDEFGHIJKLMNOPQRSTUV", "github_token"),
    ("pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "11ABCDEFG0123456789", "github_token"),
    (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACDx\n-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAA",
        "private_key",
    ),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtruncated paste", "MIIEowIBAAKCAQEA", "private_key"),
    ("db is postgres://admin:s3cr3t!pw@db.internal:5432/app", "s3cr3t!pw", "url_password"),
    ("AKIAIOSFODNN7EXAMPLE is the access key id", "AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI", "secret"),
    ("the staging password: hunter2, use it wisely", "hunter2", "secret"),
    ('PASSWORD="correct horse battery staple"', "correct horse", "secret"),
    ("client_secret=abc123def456", "abc123def456", "secret"),
    (
        "curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345'",
        "abcdefghijklmnopqrstuvwxyz012345",
        "bearer_token",
    ),
    ("hook https://hooks.slack.com/services/T000/B000/XXXXXXXX", "T000/B000/XXXXXXXX", "slack_webhook"),
    ("stripe sk_live_abcdefghijklmnop1234", "abcdefghijklmnop1234", "stripe_key"),
    ("google AIzaSyA1234567890abcdefghijklmnopqrstuv", "SyA1234567890abcdefghij", "google_api_key"),
]

HARMLESS = [
    "the password reset flow is broken on staging",
    "I asked the key question: should we ship on Friday?",
    "we use sk-learn and task-1234567890123456789012 is done",
    "see https://example.com/docs/setup and mailto:ops@example.com",
    "the token bucket rate limiter needs tuning",
    "ghp is not a token, nor is xoxb alone",
    "",
]


@pytest.mark.parametrize(("text", "secret", "kind"), SECRETS)
def test_secret_is_redacted_and_marked(text: str, secret: str, kind: str) -> None:
    out = redact(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out
    assert contains_secret(text)
    assert redact(out) == out  # idempotent: a redacted payload keeps its cache key


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text
    assert not contains_secret(text)


def test_context_around_a_secret_is_kept() -> None:
    out = redact("Deploy with password: hunter2 and then ping @alice")
    assert out == "Deploy with password: [REDACTED:secret] and then ping @alice"
    assert redact("postgres://admin:pw123@db:5432/x") == "postgres://admin:[REDACTED:url_password]@db:5432/x"


def test_redact_model_cleans_every_string_of_a_payload() -> None:
    payload = ClassifyThreadInput(
        thread_id="C1:1.0",
        channel_id="C1",
        channel_name="ops",
        channel_kind="public",
        day="2026-11-02",
        people={"U1": "Al", "U2": "password=letmein"},
        messages=[
            ThreadMessageInput(id="m1", author_id="U1", author_name="Al", text="fine", is_new=True),
            ThreadMessageInput(
                id="m2", author_id="U2", author_name="Bo", text="xoxb-1234567890-abcdefghijkl", is_new=True
            ),
        ],
    )
    cleaned = redact_model(payload)
    dumped = cleaned.model_dump_json()
    assert "letmein" not in dumped and "xoxb-1234567890" not in dumped
    assert cleaned.messages[0].text == "fine" and cleaned.messages[1].text == "[REDACTED:slack_token]"
    assert cleaned.people["U2"] == "password=[REDACTED:secret]"
    clean_payload = payload.model_copy(update={"people": {"U1": "Al"}, "messages": payload.messages[:1]})
    assert redact_model(clean_payload) is clean_payload  # nothing to redact: no copy
