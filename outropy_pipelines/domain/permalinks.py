"""Slack message permalinks, built offline in Slack's own format.

`https://acme.slack.com/archives/C123/p1700000000000100` points at a message; a reply inside a
thread adds `?thread_ts=1700000000.000100&cid=C123` so Slack opens the thread around it.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_TS = re.compile(r"^\d+(\.\d+)?$")


def _p_token(ts: str) -> str:
    """Slack's `p...` path token: the ts without its dot, microseconds padded to 6 digits."""
    if not _TS.match(ts):
        raise ValueError(f"not a Slack ts: {ts!r}")
    seconds, _, micros = ts.partition(".")
    return f"p{seconds}{micros.ljust(6, '0')[:6]}"


def _base_url(workspace_url: str) -> str:
    base = workspace_url.strip().rstrip("/")
    if not base:
        raise ValueError("workspace_url is empty")
    if "://" not in base:
        base = f"https://{base}"
    return base


def permalink(workspace_url: str, channel_id: str, ts: str, thread_ts: str | None = None) -> str:
    """The permalink of message `ts` in `channel_id`; `thread_ts` is its thread's root ts, if any.

    A thread root (thread_ts == ts) or a top-level message gets the plain form; only a reply gets
    the `thread_ts`/`cid` query.
    """
    if not channel_id:
        raise ValueError("channel_id is empty")
    cid = quote(channel_id, safe="")
    url = f"{_base_url(workspace_url)}/archives/{cid}/{_p_token(ts)}"
    if thread_ts and thread_ts != ts:
        _p_token(thread_ts)  # validate
        url += f"?thread_ts={thread_ts}&cid={cid}"
    return url
