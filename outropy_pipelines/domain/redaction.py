"""Redaction of credentials in text, before any of it leaves the machine.

Pure Python. `redact(text)` replaces every credential it recognises with `[REDACTED:<kind>]`;
`redact_model(model)` applies it to every string (keys and values) of a pydantic model, which is how
the LLM client cleans a payload before it is hashed for the cache and sent to a remote provider.

Recognised: OpenAI-style keys (`sk-...`, `sk-proj-...`), Stripe secret keys, Slack tokens
(`xoxa-/xoxb-/xoxp-/xoxo-/xoxs-/xoxr-`, `xapp-`) and webhook URLs, GitHub tokens (`ghp_`, `gho_`,
`ghu_`, `ghs_`, `ghr_`, `github_pat_`), AWS access key ids (`AKIA...`, `ASIA...`), Google API keys,
JWTs, `Bearer` tokens, PEM private-key blocks, passwords in URLs (`scheme://user:pass@host`), and
generic assignments such as `password: hunter2`, `api_key=...`, `client_secret "..."`.

Redaction is deterministic and idempotent (redacting twice gives the same text), so a redacted
payload always has the same cache key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

MARK = "[REDACTED:{kind}]"
_NOT_REDACTED = r"(?!\[REDACTED)"

# (kind, pattern, replacement builder). Order matters: specific shapes before generic assignments.
_PATTERNS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    # PEM private keys, terminated or cut off (a paste that lost its END line)
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
            re.DOTALL,
        ),
        0,
    ),
    (
        "slack_webhook",
        re.compile(r"https://hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[\w/+-]+"),
        0,
    ),
    ("slack_token", re.compile(r"(?<![\w-])xox[abposre]-[A-Za-z0-9-]{8,}"), 0),
    ("slack_app_token", re.compile(r"(?<![\w-])xapp-\d-[A-Za-z0-9-]{8,}"), 0),
    ("github_token", re.compile(r"(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), 0),
    ("stripe_key", re.compile(r"(?<!\w)(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"), 0),
    ("api_key", re.compile(r"(?<![\w-])sk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{20,}"), 0),
    (
        "aws_access_key",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}(?![A-Z0-9])"),
        0,
    ),
    ("google_api_key", re.compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}"), 0),
    ("jwt", re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), 0),
    ("bearer_token", re.compile(r"(?i)(\bbearer\s+)" + _NOT_REDACTED + r"[A-Za-z0-9._~+/-]{16,}=*"), 1),
    # scheme://user:password@host -> keep the user and host
    (
        "url_password",
        re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@<>\"']+:)" + _NOT_REDACTED + r"[^\s@/<>\"']+(?=@)"),
        1,
    ),
    # password: x / api_key = "x" / client-secret 'x' (the name is kept, the value goes)
    (
        "secret",
        re.compile(
            r"(?i)(\b(?:[a-z0-9]+[_-])*(?:password|passwd|passphrase|pwd|secret|api[_-]?key|apikey|"
            r"access[_-]?key|secret[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|token|"
            r"private[_-]?key|client[_-]?secret|credentials?)\b[\"']?\s*(?::|=|:=|=>)\s*)"
            + _NOT_REDACTED
            + r"(\"[^\"\n]*\"|'[^'\n]*'|`[^`\n]*`|[^\s,;]+)"
        ),
        1,
    ),
)

# cheap gate: a text that contains none of these substrings has nothing to redact
_GATE = re.compile(
    r"(?i)private key|hooks\.slack|xox|xapp-|gh[pousr]_|github_pat_|_live_|_test_|sk-|akia|asia|agpa|aida|"
    r"aroa|anpa|aiza|eyj|bearer|://|pass|pwd|secret|key|token|credential"
)


def _replacer(kind: str, keep_group: int) -> Callable[[re.Match[str]], str]:
    mark = MARK.format(kind=kind)
    if keep_group:
        return lambda m: m.group(keep_group) + mark
    return lambda m: mark


_COMPILED = tuple((pattern, _replacer(kind, keep)) for kind, pattern, keep in _PATTERNS)


def redact(text: str) -> str:
    """`text` with every recognised credential replaced by `[REDACTED:<kind>]`."""
    if not text or not _GATE.search(text):
        return text
    for pattern, repl in _COMPILED:
        text = pattern.sub(repl, text)
    return text


def contains_secret(text: str) -> bool:
    """True when `redact` would change `text`."""
    return redact(text) != text


def redact_value(value: Any) -> Any:
    """Redact every string inside nested dicts, lists and tuples (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def redact_model(model: M) -> M:
    """A copy of `model` with every string redacted (the same object when nothing changed)."""
    data = model.model_dump(mode="python")
    cleaned = redact_value(data)
    if cleaned == data:
        return model
    return type(model).model_validate(cleaned)
