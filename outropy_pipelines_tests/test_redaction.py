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
    # Slack markup around a credential: italics, bold, strike, code spans and blocks, link labels
    ("_xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp_", "0987654321-AbCdEf", "slack_token"),
    (
        "see _ghp_abcdefghijklmnopqrstuvwxyz0123456789_ now",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "github_token",
    ),
    ("*xoxp-12345-67890-abcdefghijk*", "67890-abcdefghijk", "slack_token"),
    ("~xoxp-12345-67890-abcdefghijk~", "67890-abcdefghijk", "slack_token"),
    ("`sk-proj-AbCdEf1234567890abcdEFGHijkl_mnopQRST`", "AbCdEf1234567890abcdEFGH", "api_key"),
    ("```\nexport TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n```", "abcdefghijklmnop", "github_token"),
    ("<https://example.com|xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp>", "0987654321-AbCdEf", "slack_token"),
    ("_github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz_", "11ABCDEFG0123456789", "github_token"),
    # AWS secret access keys on their own, passwords in prose, webhook URLs without a scheme
    ("key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY for prod", "wJalrXUtnFEMI", "aws_secret_key"),
    ("the db password is hunter2! do not share", "hunter2", "secret"),
    ("pw: Tr0ub4dor&3", "Tr0ub4dor", "secret"),
    ("post to hooks.slack.com/services/T000/B000/XXXXXXXX", "T000/B000/XXXXXXXX", "slack_webhook"),
    ("token: AbcDefGhi ok", "AbcDefGhi", "secret"),
]

HARMLESS = [
    "the password reset flow is broken on staging",
    "I asked the key question: should we ship on Friday?",
    "we use sk-learn and task-1234567890123456789012 is done",
    "see https://example.com/docs/setup and mailto:ops@example.com",
    "the token bucket rate limiter needs tuning",
    "ghp is not a token, nor is xoxb alone",
    "commit 3e0b8c0d1f2a3b4c5d6e7f8091a2b3c4d5e6f708 fixed it",  # a git SHA: lower-case hex
    "Decision: PRIVATE-SECRET: acquisition of Zephyr Labs closes Monday",  # prose after "secret:"
    "token: see the vault for it",
    "the password is expired, reset it",
    "_italic words_ and *bold ones* in a ~struck~ `code` span",
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


def test_a_credential_straddling_the_clip_never_reaches_the_model_even_in_part() -> None:
    """Text is redacted where it is cleaned, before the classification input clips it."""
    from outropy_pipelines.domain.classification import MAX_MESSAGE_CHARS, build_classify_input
    from outropy_pipelines.domain.thread_builder import ThreadBuilder

    token = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUv"
    text = "x" * (MAX_MESSAGE_CHARS - 20) + " _" + token + "_ tail"
    row = {
        "channel_id": "C1",
        "ts": "1762128000.000100",
        "user_id": "U1",
        "subtype": None,
        "thread_ts": None,
        "json": {"text": text},
    }
    built = ThreadBuilder({"U1": "Al"}, {"C1": "ops"}).build([row], day="2025-11-03")
    message = built.threads[0].messages[0]
    assert "0987654321" not in message.clean_text and "[REDACTED:slack_token]" in message.clean_text
    payload, _ = build_classify_input(built.threads[0], "ops", "public", {"U1": "Al"})
    sent = payload.messages[0].text
    assert len(sent) <= MAX_MESSAGE_CHARS
    assert "xoxb" not in sent and "1234567890" not in sent  # not even the first part


def test_the_local_provider_never_writes_a_credential_into_a_title() -> None:
    """A pasted token becomes an item whose title, and so its briefing line and email, hold the mark."""
    from outropy_pipelines.domain.classification import classify_threads
    from outropy_pipelines.domain.thread_builder import ThreadBuilder
    from outropy_pipelines.llm.base import LLMClient
    from outropy_pipelines.llm.local_provider import LocalProvider

    rows = [
        {
            "channel_id": "C1",
            "ts": "1762128000.000100",
            "user_id": "U1",
            "subtype": None,
            "thread_ts": None,
            "json": {
                "text": "<@U2> can you rotate the bot token _xoxb-1234567890-0987654321-AbCdEfGhIjKl_ today?"
            },
        },
        {
            "channel_id": "C1",
            "ts": "1762128060.000100",
            "user_id": "U2",
            "subtype": None,
            "thread_ts": None,
            "json": {"text": "Decision: we moved prod to password: Sup3rS3cret! and AKIAIOSFODNN7EXAMPLE"},
        },
    ]
    built = ThreadBuilder({"U1": "Al", "U2": "Bo"}, {"C1": "ops"}).build(rows, day="2025-11-03")
    result = classify_threads(
        built.threads,
        LLMClient(LocalProvider()),
        {"C1": ("ops", "public")},
        {"U1": "Al", "U2": "Bo"},
        "2025-11-03",
    )
    assert result.items, "the request and the decision are items"
    written = " ".join(f"{i.title} {i.detail}" for i in result.items)
    for secret in ("0987654321", "Sup3rS3cret", "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in written
    assert "[REDACTED:" in written
