"""Readers' feedback: `feedback_events` and `feedback_slack_lines`, every read and write.

What an event means and how it changes ranking is `domain/reader_feedback.py`'s business; the
stages (`stages/feedback.py`, `stages/briefings.py`) call these. Events are few (a reader's clicks),
so the writes go row by row inside one transaction. An event's key is (reader, day, position,
value): recording it again changes nothing, which makes re-reading Slack reactions idempotent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from outropy_pipelines.domain.reader_feedback import FeedbackEvent
from outropy_pipelines.store.duckdb_store import DuckDBStore, list_param, unnested


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# -- the lines being marked ------------------------------------------------------------------------


@dataclass(frozen=True)
class LineFacts:
    """What an event remembers of the line it marks."""

    position: int
    section: str
    item_id: str
    kind: str
    channel_id: str
    text: str
    reason: str
    people: tuple[str, ...]


def briefing_lines(
    store: DuckDBStore, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[LineFacts]]:
    """The stored lines of each (day, user) briefing, in order, with the authors of the messages
    each cites (the reader left out) as its people."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    rows = store.query(
        f"""WITH wanted AS (SELECT CAST(w.day AS DATE) AS day, w.user_id
                           FROM (SELECT {unnested("STRUCT(day VARCHAR, user_id VARCHAR)", recursive=True)}) w)
           SELECT CAST(l.day AS VARCHAR) AS day, l.user_id, l.position, l.section, l.item_id, l.kind,
                  l.channel_id, l.text, l.reason, l.sources
           FROM briefing_lines l JOIN wanted w ON w.day = l.day AND w.user_id = l.user_id
           ORDER BY 1, 2, 3""",
        [list_param({"day": d, "user_id": u} for d, u in wanted)],
    )
    cited: dict[tuple[str, str], None] = {}
    parsed: list[tuple[dict[str, Any], list[tuple[str, str]]]] = []
    for r in rows:
        try:
            sources = [(s["channel_id"], s["ts"]) for s in json.loads(r["sources"] or "[]")]
        except (ValueError, KeyError, TypeError):
            sources = []
        cited.update(dict.fromkeys(sources))
        parsed.append((r, sources))
    authors: dict[tuple[str, str], str] = {}
    if cited:
        keys = list(cited)
        for a in store.query(
            f"""SELECT DISTINCT r.channel_id, r.ts, r.user_id FROM raw_messages r
               JOIN (SELECT {unnested()} AS channel_id, {unnested()} AS ts) c
               ON c.channel_id = r.channel_id AND c.ts = r.ts""",
            [list_param(c for c, _ in keys), list_param(t for _, t in keys)],
        ):
            if a["user_id"]:
                authors[(a["channel_id"], a["ts"])] = a["user_id"]
    out: dict[tuple[str, str], list[LineFacts]] = {}
    for r, sources in parsed:
        people = tuple(sorted({authors[s] for s in sources if s in authors} - {r["user_id"]}))
        out.setdefault((r["day"], r["user_id"]), []).append(
            LineFacts(
                r["position"],
                r["section"],
                r["item_id"],
                r["kind"],
                r["channel_id"],
                r["text"] or "",
                r["reason"] or "",
                people,
            )
        )
    return out


# -- events ----------------------------------------------------------------------------------------

_KEY = "reader_id = ? AND day = CAST(? AS DATE) AND position = ? AND value = ?"


def record_events(store: DuckDBStore, events: Sequence[FeedbackEvent]) -> int:
    """Record each event once (by its key); an event retracted earlier is restored. Returns how
    many were new or restored."""
    if not events:
        return 0
    now = _now()

    def write(con: duckdb.DuckDBPyConnection) -> int:
        changed = 0
        for e in {e.key: e for e in events}.values():
            found = con.execute(
                f"SELECT retracted_at FROM feedback_events WHERE {_KEY}", list(e.key)
            ).fetchone()
            if found is None:
                con.execute(
                    "INSERT INTO feedback_events VALUES (?, CAST(? AS DATE), ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                    [
                        e.reader_id,
                        e.day,
                        e.position,
                        e.value,
                        e.source,
                        e.item_id,
                        e.kind,
                        e.channel_id,
                        list(e.people),
                        now,
                    ],
                )
                changed += 1
            elif found[0] is not None:
                con.execute(f"UPDATE feedback_events SET retracted_at = NULL WHERE {_KEY}", list(e.key))
                changed += 1
        return changed

    return store.in_transaction(write)


def retract_missing(
    store: DuckDBStore, briefings: Iterable[tuple[str, str]], present: Iterable[tuple[str, str, int, str]]
) -> int:
    """Retract the Slack events of these (day, reader) briefings whose reaction is gone (not in
    `present`, keys as `FeedbackEvent.key`). Events from email links or the CLI stay."""
    pairs = sorted(set(briefings))
    if not pairs:
        return 0
    keep = set(present)
    now = _now()

    def write(con: duckdb.DuckDBPyConnection) -> int:
        n = 0
        for day, reader in pairs:
            rows = con.execute(
                """SELECT position, value FROM feedback_events WHERE reader_id = ? AND day = CAST(? AS DATE)
                   AND source = 'slack' AND retracted_at IS NULL""",
                [reader, day],
            ).fetchall()
            for position, value in rows:
                if (reader, day, position, value) not in keep:
                    con.execute(
                        f"UPDATE feedback_events SET retracted_at = ? WHERE {_KEY}",
                        [now, reader, day, position, value],
                    )
                    n += 1
        return n

    return store.in_transaction(write)


def read_events(
    store: DuckDBStore, reader_ids: Sequence[str], first_day: str, last_day: str
) -> dict[str, list[FeedbackEvent]]:
    """The readers' standing (not retracted) events on briefings of `first_day` .. `last_day`."""
    if not reader_ids:
        return {}
    rows = store.query(
        f"""SELECT reader_id, CAST(day AS VARCHAR) AS day, position, value, source, item_id, kind,
                  channel_id, people
           FROM feedback_events
           WHERE reader_id IN (SELECT {unnested()}) AND day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
             AND retracted_at IS NULL
           ORDER BY reader_id, day, position, value""",
        [list_param(sorted(set(reader_ids))), first_day, last_day],
    )
    out: dict[str, list[FeedbackEvent]] = {}
    for r in rows:
        out.setdefault(r["reader_id"], []).append(
            FeedbackEvent(
                r["reader_id"],
                r["day"],
                r["position"],
                r["value"],
                r["source"],
                r["item_id"],
                r["kind"],
                r["channel_id"],
                tuple(r["people"] or ()),
            )
        )
    return out


def event_counts(store: DuckDBStore) -> dict[tuple[str, str], int]:
    """{(source, value): standing events}."""
    rows = store.query(
        "SELECT source, value, count(*) AS n FROM feedback_events WHERE retracted_at IS NULL GROUP BY ALL"
    )
    return {(r["source"], r["value"]): int(r["n"]) for r in rows}


# -- Slack: which message carries which line --------------------------------------------------------


@dataclass(frozen=True)
class SlackThread:
    """A briefing delivered by DM: its first message (the thread's parent) and the lines posted."""

    day: str
    user_id: str
    channel_id: str
    thread_ts: str
    posted: dict[str, int]  # reply ts -> line position


def delivered_threads(
    store: DuckDBStore,
    first_day: str | None = None,
    users: Sequence[str] | None = None,
    sent_since: dt.datetime | None = None,
) -> list[SlackThread]:
    """Briefings sent by Slack DM (the ledger's `sent` rows) of `first_day` on and/or sent since
    `sent_since` (naive UTC), with the line replies already posted in their thread."""
    params: list[Any] = []
    where = ""
    if first_day is not None:
        where += " AND d.day >= CAST(? AS DATE)"
        params.append(first_day)
    if sent_since is not None:
        where += " AND d.sent_at >= ?"
        params.append(sent_since)
    if users:
        where += f" AND d.user_id IN (SELECT {unnested()})"
        params.append(list_param(sorted(set(users))))
    rows = store.query(
        f"""SELECT CAST(d.day AS VARCHAR) AS day, d.user_id, d.address, d.external_id
            FROM deliveries d WHERE d.channel = 'slack' AND d.status = 'sent' AND d.address IS NOT NULL
              AND d.external_id IS NOT NULL {where}
            ORDER BY 1, 2""",
        params,
    )
    if not rows:
        return []
    posted: dict[tuple[str, str], dict[str, int]] = {}
    for r in store.query(
        f"""SELECT CAST(l.day AS VARCHAR) AS day, l.user_id, l.thread_ts, l.ts, l.position
           FROM feedback_slack_lines l
           JOIN (SELECT DISTINCT CAST(w.day AS DATE) AS day, w.user_id
                 FROM (SELECT {unnested("STRUCT(day VARCHAR, user_id VARCHAR)", recursive=True)}) w) k ON k.day = l.day AND k.user_id = l.user_id""",
        [list_param({"day": r["day"], "user_id": r["user_id"]} for r in rows)],
    ):
        posted.setdefault((r["day"], r["user_id"], r["thread_ts"]), {})[r["ts"]] = r["position"]
    out = []
    for r in rows:
        parent = r["external_id"].split(",")[0]
        if parent:  # a briefing sent again (changed content) is a new thread: only its own replies count
            mine = posted.get((r["day"], r["user_id"], parent), {})
            out.append(SlackThread(r["day"], r["user_id"], r["address"], parent, mine))
    return out


def record_slack_lines(store: DuckDBStore, thread: SlackThread, lines: Sequence[tuple[int, str]]) -> None:
    """Remember that reply `ts` in `thread` carries line `position` ((position, ts) pairs)."""
    if not lines:
        return
    now = _now()

    def write(con: duckdb.DuckDBPyConnection) -> None:
        for position, ts in lines:
            con.execute(
                "DELETE FROM feedback_slack_lines WHERE day = CAST(? AS DATE) AND user_id = ? AND thread_ts = ? "
                "AND position = ?",
                [thread.day, thread.user_id, thread.thread_ts, position],
            )
            con.execute(
                "INSERT INTO feedback_slack_lines VALUES (CAST(? AS DATE), ?, ?, ?, ?, ?, ?)",
                [thread.day, thread.user_id, position, thread.channel_id, thread.thread_ts, ts, now],
            )

    store.in_transaction(write)
