"""Redaction of credentials in text, before anything is stored, sent or shown.

Pure Python. `redact(text)` replaces every credential it recognises with `[REDACTED:<kind>]`. It runs
where message text is first cleaned (`thread_builder`), before any clipping, so no stage after it
(classification inputs, item titles, entity summaries, briefing lines, emails) ever holds a
credential, whichever provider writes them; the LLM client redacts every payload again
(`redact_model`, applied to every string of a pydantic model) before it is hashed for the cache and
sent to a remote provider, and the classification redacts what a model answers.

Slack markup around a credential does not hide it: `_italic_`, `*bold*`, `~strike~`, code spans and
blocks, and `<url|label>` links are all delimiters here (a token's own characters never include `_`
at its edges, so `_xoxb-..._` is found).

Recognised: OpenAI-style keys (`sk-...`, `sk-proj-...`), Stripe secret keys, Slack tokens
(`xoxa-/xoxb-/xoxp-/xoxo-/xoxs-/xoxr-`, `xapp-`) and webhook URLs, GitHub tokens (`ghp_`, `gho_`,
`ghu_`, `ghs_`, `ghr_`, `github_pat_`), AWS access key ids (`AKIA...`, `ASIA...`) and secret access
keys (40 characters of mixed case, digits and `/+`), Google API keys, JWTs, `Bearer` tokens, PEM
private-key blocks, passwords in URLs (`scheme://user:pass@host`), generic assignments such as
`password: hunter2`, `api_key=...`, `client_secret "..."`, and passwords in prose ("the password is
hunter2!", when the value holds a digit or a symbol).

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

#: the value of an assignment: quoted, or up to a space, comma or semicolon
_VALUE = r"(\"[^\"\n]*\"|'[^'\n]*'|`[^`\n]*`|[^\s,;]+)"

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
        re.compile(r"(?:https?://)?hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[\w/+-]+"),
        0,
    ),
    # a token's edges: not a letter, digit or "-" (so Slack's `_italic_` markup is an edge)
    ("slack_token", re.compile(r"(?<![A-Za-z0-9-])xox[abposre]-[A-Za-z0-9-]{8,}"), 0),
    ("slack_app_token", re.compile(r"(?<![A-Za-z0-9-])xapp-\d-[A-Za-z0-9-]{8,}"), 0),
    (
        "github_token",
        re.compile(
            r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+)"
        ),
        0,
    ),
    ("stripe_key", re.compile(r"(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"), 0),
    ("api_key", re.compile(r"(?<![A-Za-z0-9-])sk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9-]{20,}(?:_[A-Za-z0-9-]+)*"), 0),
    (
        "aws_access_key",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}(?![A-Z0-9])"),
        0,
    ),
    ("google_api_key", re.compile(r"(?<![A-Za-z0-9-])AIza[0-9A-Za-z_-]{35}"), 0),
    ("jwt", re.compile(r"(?<![A-Za-z0-9-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), 0),
    ("bearer_token", re.compile(r"(?i)(\bbearer\s+)" + _NOT_REDACTED + r"[A-Za-z0-9._~+/-]{16,}=*"), 1),
    # scheme://user:password@host -> keep the user and host
    (
        "url_password",
        re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@<>\"']+:)" + _NOT_REDACTED + r"[^\s@/<>\"']+(?=@)"),
        1,
    ),
    # password: x / pwd=x (the name is kept, the value goes, whatever it looks like)
    (
        "secret",
        re.compile(
            r"(?i)(\b(?:[a-z0-9]+[_-])*(?:password|passwd|passphrase|pwd|pw)\b[\"']?\s*(?::|=|:=|=>)\s*)"
            + _NOT_REDACTED
            + _VALUE
        ),
        1,
    ),
    # api_key = "x" / client-secret 'x' / token: x: quoted values always, bare ones when they look
    # like a credential (a digit, a symbol inside, mixed case, or 20+ characters): "Secret: the
    # acquisition closes" is prose
    (
        "secret",
        re.compile(
            r"(?i)(\b(?:[a-z0-9]+[_-])*(?:secret|api[_-]?key|apikey|"
            r"access[_-]?key|secret[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|token|"
            r"private[_-]?key|client[_-]?secret|credentials?)\b[\"']?\s*(?::|=|:=|=>)\s*)"
            + _NOT_REDACTED
            + r"(\"[^\"\n]*\"|'[^'\n]*'|`[^`\n]*`|"
            + r"(?-i:(?=[^\s,;]*?(?:\d|[!@#$%^&*+=/_~|-][^\s,;]|[a-z][A-Z]))[^\s,;]+)|[^\s,;]{20,})"
        ),
        1,
    ),
    # prose: "the password is hunter2!" (the value must hold a digit or a symbol: "is expired" stays)
    (
        "secret",
        re.compile(
            r"(?i)(\b(?:password|passwd|passphrase|pwd|pw)\s+(?:is|was|=|:)\s+)"
            + _NOT_REDACTED
            + r"(?=[^\s]*[\d!@#$%^&*?+=])[^\s,;]{4,}"
        ),
        1,
    ),
    # an AWS secret access key on its own: 40 characters of [A-Za-z0-9/+] with upper case, lower
    # case and a digit (a git SHA is lower-case hex and stays)
    (
        "aws_secret_key",
        re.compile(
            r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])"
            r"(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        0,
    ),
)

# Cheap gates (every message passes here): a text whose lowercase holds none of these substrings,
# and no 40-character run of an AWS secret key's alphabet, has nothing to redact. One lower() and
# a case-sensitive alternation factored by first letter cost a quarter of an IGNORECASE search.
_GATE = re.compile(
    r"p(?:ass|wd|rivate key)|\bpw\b|hooks\.slack|x(?:ox|app-)|gh[pousr]_|github_pat_|_(?:live|test)_|sk-|"
    r"a(?:kia|sia|gpa|ida|roa|npa|iza)|eyj|bearer|://|secret|key|token|credential"
)
_LONG_RUN = re.compile(r"[A-Za-z0-9/+]{40}")


def _replacer(kind: str, keep_group: int) -> Callable[[re.Match[str]], str]:
    mark = MARK.format(kind=kind)
    if keep_group:
        return lambda m: m.group(keep_group) + mark
    return lambda m: mark


_COMPILED = tuple((pattern, _replacer(kind, keep)) for kind, pattern, keep in _PATTERNS)


def redact(text: str) -> str:
    """`text` with every recognised credential replaced by `[REDACTED:<kind>]`."""
    if not text or not (_GATE.search(text.lower()) or _LONG_RUN.search(text)):
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
