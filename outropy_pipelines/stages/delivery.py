"""Stage: deliver stored briefings by Slack DM and email, once per (day, user, channel).

Used by the `deliver_briefings` sensor (one bounded page per tick, resumed from a JSON cursor) and
by `outropy deliver` (pages until nothing is due). The work list is a ledger query, not Dagster
events: every briefing of a subscribed user whose (day, user, channel) has no `sent` row in
`deliveries` (or a retry that is due, or a crashed send to reconcile).

Protocol per delivery (see `domain/delivery_plan.py` for the states):
1. claim: in one short transaction, re-read the ledger row, confirm it is due, write `sending`
   (attempts + 1, leased for `lease_seconds`). The store's file lock serialises claimers, so two
   processes (sensor and CLI) never claim the same row.
2. send, with no DuckDB connection held.
3. record `sent` (message ids, address) or `retry`/`failed` (error, next attempt) at once.

Crash between 2 and 3: the row stays `sending` until its lease expires, then it is reconciled:
Slack looks in the DM history for this briefing's parts (message metadata) and records them, or
sends the missing ones; email cannot be asked, so the row becomes `unknown` and is never resent
automatically (at most once; `outropy deliver --requeue unknown` sends it again).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.config import DeliverySettings
from outropy_pipelines.domain import delivery_plan as plan
from outropy_pipelines.domain.delivery_plan import (
    DeliveryError,
    DeliveryPolicy,
    Found,
    LedgerRow,
    Outgoing,
    SendResult,
)

LEDGER_COLUMNS = (
    "day",
    "user_id",
    "channel",
    "status",
    "attempts",
    "last_error",
    "sent_at",
    "external_id",
    "content_hash",
    "next_attempt_at",
    "address",
    "updated_at",
)
# how far back before the previous attempt the Slack history is searched when reconciling
RECONCILE_MARGIN_SECONDS = 300


class Transport(Protocol):
    channel: str

    def send(self, item: Outgoing) -> SendResult: ...

    def find_sent(self, item: Outgoing, since: dt.datetime) -> Found | None: ...

    def close(self) -> None: ...


def utcnow() -> dt.datetime:
    """Naive UTC, as stored in DuckDB TIMESTAMP columns."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def policy_from_settings(settings: DeliverySettings, for_sensor: bool) -> DeliveryPolicy:
    return DeliveryPolicy(
        max_attempts=settings.max_attempts,
        backoff_base_seconds=settings.backoff_base_seconds,
        backoff_max_seconds=settings.backoff_max_seconds,
        lease_seconds=settings.lease_seconds,
        resend_on_change=settings.resend_on_change,
        max_age_days=settings.sensor_max_age_days if for_sensor else None,
        batch_size=settings.batch_size,
        time_budget_seconds=settings.sensor_time_budget_seconds if for_sensor else None,
    )


def build_transports(
    settings: DeliverySettings, channels: Sequence[str] | None = None
) -> dict[str, Transport]:
    """The configured channels' transports: Slack when SLACK_BOT_TOKEN is set, email when SMTP_HOST is."""
    from outropy_pipelines.adapters.email_mailer import SmtpMailer
    from outropy_pipelines.adapters.slack_messenger import SlackMessenger

    wanted = set(channels or plan.CHANNELS)
    out: dict[str, Transport] = {}
    token = (os.environ.get("SLACK_BOT_TOKEN") or "").strip()
    if "slack" in wanted and token:
        out["slack"] = SlackMessenger.from_settings(settings, token)
    if "email" in wanted and settings.smtp_host:
        out["email"] = SmtpMailer(settings)
    return out


@dataclass
class Outcome:
    day: str
    user_id: str
    channel: str
    status: str
    attempts: int
    error: str | None = None
    messages: int = 0
    reconciled: bool = False

    @property
    def key(self) -> str:
        return plan.delivery_key(self.day, self.user_id, self.channel)


@dataclass
class DeliveryReport:
    outcomes: list[Outcome] = field(default_factory=list)
    cursor: str | None = None  # key of the last delivery looked at
    exhausted: bool = True  # nothing more is due after `cursor` (the next page starts over)
    stopped_early: bool = False  # the time budget ran out; claimed work was released
    not_configured: dict[str, int] = field(default_factory=dict)  # channel -> due deliveries waiting

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def merge(self, other: DeliveryReport) -> None:
        self.outcomes += other.outcomes
        self.cursor, self.exhausted = other.cursor, other.exhausted
        self.stopped_early = self.stopped_early or other.stopped_early
        self.not_configured = other.not_configured

    def summary(self) -> str:
        parts = [
            f"{self.count(s)} {s}"
            for s in (plan.SENT, plan.RETRY, plan.FAILED, plan.UNKNOWN)
            if self.count(s)
        ]
        reconciled = sum(1 for o in self.outcomes if o.reconciled)
        if reconciled:
            parts.append(f"{reconciled} reconciled after a crash")
        waiting = [f"{n} {ch} (not configured)" for ch, n in sorted(self.not_configured.items()) if n]
        text = ", ".join(parts) if parts else "nothing due"
        if waiting:
            text += "; waiting: " + ", ".join(waiting)
        if self.stopped_early:
            text += "; stopped at the time budget, more next time"
        return text


# -- the ledger --------------------------------------------------------------------------------


def _row(r: Mapping[str, Any]) -> LedgerRow:
    return LedgerRow(
        day=str(r["day"]),
        user_id=r["user_id"],
        channel=r["channel"],
        status=r["status"],
        attempts=int(r["attempts"] or 0),
        last_error=r["last_error"],
        sent_at=r["sent_at"],
        external_id=r["external_id"],
        content_hash=r["content_hash"],
        next_attempt_at=r["next_attempt_at"],
        address=r["address"],
        updated_at=r["updated_at"],
    )


def _read_row(con, day: str, user_id: str, channel: str) -> LedgerRow | None:
    cur = con.execute(
        f"SELECT {', '.join(LEDGER_COLUMNS)} FROM deliveries WHERE day = CAST(? AS DATE) AND user_id = ? "
        "AND channel = ?",
        [day, user_id, channel],
    )
    found = cur.fetchone()
    return _row(dict(zip(LEDGER_COLUMNS, found, strict=True))) if found else None


def _write_row(con, row: LedgerRow, exists: bool) -> None:
    values = [getattr(row, c) for c in LEDGER_COLUMNS]
    if exists:
        sets = ", ".join(f"{c} = ?" for c in LEDGER_COLUMNS[3:])
        con.execute(
            f"UPDATE deliveries SET {sets} WHERE day = CAST(? AS DATE) AND user_id = ? AND channel = ?",
            values[3:] + values[:3],
        )
    else:
        marks = ", ".join("?" for _ in LEDGER_COLUMNS)
        con.execute(f"INSERT INTO deliveries ({', '.join(LEDGER_COLUMNS)}) VALUES ({marks})", values)


def _delete_row(con, row: LedgerRow) -> None:
    con.execute(
        "DELETE FROM deliveries WHERE day = CAST(? AS DATE) AND user_id = ? AND channel = ?",
        [row.day, row.user_id, row.channel],
    )


def record(store: DuckDBStore, row: LedgerRow) -> None:
    """Write one ledger row now (its own short transaction)."""
    with store.connect() as con:
        exists = _read_row(con, row.day, row.user_id, row.channel) is not None
        _write_row(con, row, exists)


def read_ledger(store: DuckDBStore, days: Sequence[str] | None = None) -> list[LedgerRow]:
    where, params = "", []
    if days:
        where, params = "WHERE day IN (SELECT CAST(unnest(?) AS DATE))", [list(days)]
    rows = store.query(
        f"SELECT {', '.join(LEDGER_COLUMNS)} FROM deliveries {where} ORDER BY day, user_id, channel", params
    )
    return [_row(r) for r in rows]


def ledger_counts(store: DuckDBStore, days: Sequence[str] | None = None) -> dict[tuple[str, str], int]:
    """{(channel, status): rows} of the ledger."""
    out: dict[tuple[str, str], int] = {}
    for row in read_ledger(store, days):
        out[(row.channel, row.status)] = out.get((row.channel, row.status), 0) + 1
    return out


def requeue(
    store: DuckDBStore,
    statuses: Sequence[str],
    days: Sequence[str] | None = None,
    users: Sequence[str] | None = None,
    channels: Sequence[str] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Make `failed`/`unknown` deliveries due again with a fresh attempt count; returns how many."""
    bad = set(statuses) - set(plan.TERMINAL_PROBLEMS)
    if bad:
        raise ValueError(f"only {plan.TERMINAL_PROBLEMS} can be requeued, not {sorted(bad)}")
    now = now or utcnow()
    rows = [
        r
        for r in read_ledger(store, days)
        if r.status in statuses
        and (not users or r.user_id in users)
        and (not channels or r.channel in channels)
    ]
    if rows:
        with store.connect() as con:
            con.execute("BEGIN TRANSACTION")
            for r in rows:
                _write_row(con, plan.requeue(r, now), exists=True)
            con.execute("COMMIT")
    return len(rows)


# -- what is due -------------------------------------------------------------------------------

_KEY_SQL = "(CAST(b.day AS VARCHAR) || '|' || b.user_id || '|' || w.channel)"


def _due_query(
    channels: Sequence[str],
    now: dt.datetime,
    policy: DeliveryPolicy,
    days: Sequence[str] | None,
    users: Sequence[str] | None,
    after: str | None,
    limit: int | None,
    count_only: bool = False,
) -> tuple[str, list[Any]]:
    """Briefings x chosen channels whose ledger row says they are due (the SQL form of `plan.decide`)."""
    params: list[Any] = [list(channels)]
    clauses = ["w.channel IN (SELECT unnest(?))"]
    if policy.max_age_days is not None:
        clauses.append("b.day >= CAST(? AS DATE)")
        params.append((now.date() - dt.timedelta(days=policy.max_age_days)).isoformat())
    if days:
        clauses.append("b.day IN (SELECT CAST(unnest(?) AS DATE))")
        params.append(list(days))
    if users:
        clauses.append("b.user_id IN (SELECT unnest(?))")
        params.append(list(users))
    due = [
        "d.status IS NULL",
        "(d.status IN ('retry', 'sending') AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?))",
    ]
    params.append(now)
    if policy.resend_on_change:
        due.append("(d.status = 'sent' AND d.content_hash IS DISTINCT FROM b.content_hash)")
    clauses.append("(" + " OR ".join(due) + ")")
    if after:
        clauses.append(f"{_KEY_SQL} > ?")
        params.append(after)
    select = (
        "count(*) AS n"
        if count_only
        else f"""CAST(b.day AS VARCHAR) AS day, b.user_id, w.channel, w.email_address, b.user_name,
               b.content_hash, b.markdown, b.plain_text, b.html, b.blocks_json, {_KEY_SQL} AS key"""
    )
    sql = f"""
        WITH wanted AS (
            SELECT user_id, 'slack' AS channel, CAST(NULL AS VARCHAR) AS email_address
            FROM subscriptions WHERE active AND slack
            UNION ALL
            SELECT user_id, 'email' AS channel, email_address FROM subscriptions WHERE active AND email)
        SELECT {select}
        FROM briefings b
        JOIN wanted w ON w.user_id = b.user_id
        LEFT JOIN deliveries d ON d.day = b.day AND d.user_id = b.user_id AND d.channel = w.channel
        WHERE {" AND ".join(clauses)}"""
    if not count_only:
        sql += " ORDER BY key"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
    return sql, params


def due_deliveries(
    store: DuckDBStore,
    channels: Sequence[str],
    policy: DeliveryPolicy,
    now: dt.datetime | None = None,
    days: Sequence[str] | None = None,
    users: Sequence[str] | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    if not channels:
        return []
    sql, params = _due_query(channels, now or utcnow(), policy, days, users, after, limit)
    return store.query(sql, params)


def count_due(
    store: DuckDBStore,
    channels: Sequence[str],
    policy: DeliveryPolicy,
    now: dt.datetime | None = None,
    days: Sequence[str] | None = None,
    users: Sequence[str] | None = None,
) -> int:
    if not channels:
        return 0
    sql, params = _due_query(channels, now or utcnow(), policy, days, users, None, None, count_only=True)
    return int(store.scalar(sql, params) or 0)


# -- delivering --------------------------------------------------------------------------------


@dataclass
class _Claim:
    candidate: dict[str, Any]
    previous: LedgerRow | None
    row: LedgerRow  # as written (sending)
    decision: str  # "send" or "reconcile"


def _claim_page(
    store: DuckDBStore, candidates: Sequence[dict[str, Any]], now: dt.datetime, policy: DeliveryPolicy
) -> list[_Claim]:
    """In one transaction: re-check each candidate against its ledger row and mark it `sending`."""
    claims: list[_Claim] = []
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            for c in candidates:
                previous = _read_row(con, c["day"], c["user_id"], c["channel"])
                decision = plan.decide(previous, c["content_hash"], now, policy)
                if decision == "send":
                    row = plan.claim(
                        previous, c["day"], c["user_id"], c["channel"], c["content_hash"], now, policy
                    )
                elif decision == "reconcile" and previous is not None:
                    # keep the crashed attempt's state; just take the lease while we look
                    lease = now + dt.timedelta(seconds=policy.lease_seconds)
                    row = replace(previous, next_attempt_at=lease, updated_at=now)
                else:
                    continue  # someone else got there first
                _write_row(con, row, exists=previous is not None)
                claims.append(_Claim(c, previous, row, decision))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return claims


def _release(store: DuckDBStore, claims: Sequence[_Claim]) -> None:
    """Undo claims that were not acted on (time budget): restore each row as it was."""
    if not claims:
        return
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        for cl in claims:
            if cl.previous is None:
                _delete_row(con, cl.row)
            else:
                _write_row(con, cl.previous, exists=True)
        con.execute("COMMIT")


def _outgoing(c: Mapping[str, Any], resume_ids: Sequence[str] = ()) -> Outgoing:
    return Outgoing(
        day=c["day"],
        user_id=c["user_id"],
        user_name=c["user_name"] or c["user_id"],
        channel=c["channel"],
        content_hash=c["content_hash"],
        markdown=c["markdown"] or "",
        plain_text=c["plain_text"] or "",
        html=c["html"] or "",
        blocks_json=c["blocks_json"] or "[]",
        email_address=c.get("email_address"),
        resume_ids=tuple(resume_ids),
    )


def _since(previous: LedgerRow | None, now: dt.datetime, policy: DeliveryPolicy) -> dt.datetime:
    anchor = (previous.updated_at if previous and previous.updated_at else None) or now
    return anchor - dt.timedelta(seconds=policy.lease_seconds + RECONCILE_MARGIN_SECONDS)


def _deliver_one(
    store: DuckDBStore, transport: Transport, cl: _Claim, now: dt.datetime, policy: DeliveryPolicy
) -> Outcome:
    c, row = cl.candidate, cl.row
    same_content = cl.previous is not None and cl.previous.content_hash == c["content_hash"]
    reconciled = False
    resume = plan.split_ids(row.external_id)
    # Before sending again (a crashed or failed earlier attempt of the same content), ask the
    # destination what arrived, so nothing is posted twice.
    if cl.decision == "reconcile" or (
        same_content and cl.previous is not None and cl.previous.status != plan.SENT
    ):
        found = transport.find_sent(_outgoing(c), _since(cl.previous, now, policy))
        if found is None and cl.decision == "reconcile":
            final = plan.after_unknown(
                row,
                now,
                f"the sender stopped during attempt {row.attempts} (lease expired) and the {c['channel']} "
                "server cannot tell whether it arrived: not resent automatically (outropy deliver --requeue unknown)",
            )
            record(store, final)
            return Outcome(
                c["day"], c["user_id"], c["channel"], final.status, final.attempts, final.last_error
            )
        if found is not None and found.complete:
            final = plan.after_success(row, SendResult(found.address, found.ids), now)
            record(store, final)
            return Outcome(
                c["day"], c["user_id"], c["channel"], final.status, final.attempts, None, len(found.ids), True
            )
        if found is not None:
            resume = found.ids
        if cl.decision == "reconcile":  # provably not (completely) sent: this is a new attempt
            reconciled = True
            row = plan.claim(row, c["day"], c["user_id"], c["channel"], c["content_hash"], now, policy)
            record(store, row)
    try:
        try:
            result = transport.send(_outgoing(c, resume))
        except DeliveryError:
            raise
        except Exception as exc:  # an adapter bug or an unforeseen error: recorded, retried, never lost
            raise DeliveryError(f"unexpected {type(exc).__name__}: {exc}") from exc
    except DeliveryError as exc:
        if not exc.sent_ids and resume:
            exc.sent_ids = list(resume)
        final = plan.after_failure(row, exc, now, policy)
        record(store, final)
        return Outcome(
            c["day"],
            c["user_id"],
            c["channel"],
            final.status,
            final.attempts,
            final.last_error,
            reconciled=reconciled,
        )
    final = plan.after_success(row, result, now)
    record(store, final)
    return Outcome(
        c["day"], c["user_id"], c["channel"], final.status, final.attempts, None, len(result.ids), reconciled
    )


def deliver_page(
    store: DuckDBStore,
    transports: Mapping[str, Transport],
    policy: DeliveryPolicy,
    now: dt.datetime | None = None,
    after: str | None = None,
    days: Sequence[str] | None = None,
    users: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
    wrap: bool = True,
) -> DeliveryReport:
    """Deliver at most `policy.batch_size` due deliveries after the cursor key `after` (with `wrap`,
    starting over when nothing is due after it), within `policy.time_budget_seconds`."""
    started = time.monotonic()
    now = now or utcnow()
    log = log or (lambda _msg: None)
    report = DeliveryReport(cursor=after)
    disabled = [ch for ch in plan.CHANNELS if ch not in transports]
    report.not_configured = {ch: count_due(store, [ch], policy, now, days, users) for ch in disabled}
    channels = [ch for ch in plan.CHANNELS if ch in transports]
    if not channels:
        return report
    page = due_deliveries(store, channels, policy, now, days, users, after, policy.batch_size)
    if not page and after and wrap:
        page = due_deliveries(store, channels, policy, now, days, users, None, policy.batch_size)
    report.exhausted = len(page) < policy.batch_size
    if not page:
        report.cursor = None
        return report
    claims = _claim_page(store, page, now, policy)
    n = 0
    try:
        for n, cl in enumerate(claims):
            budget = policy.time_budget_seconds
            if budget is not None and time.monotonic() - started > budget:
                _release(store, claims[n:])
                report.stopped_early, report.exhausted = True, False
                break
            outcome = _deliver_one(store, transports[cl.row.channel], cl, now, policy)
            report.outcomes.append(outcome)
            report.cursor = outcome.key
            if outcome.status != plan.SENT:
                log(f"delivery {outcome.key}: {outcome.status} (attempt {outcome.attempts}): {outcome.error}")
        else:
            report.cursor = page[-1]["key"]
    except BaseException:
        # interrupted (shutdown, a bug): give back the claims not started; the one in flight stays
        # `sending` and is reconciled once its lease expires
        _release(store, claims[n + 1 :])
        raise
    if report.exhausted and not report.stopped_early:
        report.cursor = None
    return report


def deliver_all(
    store: DuckDBStore,
    transports: Mapping[str, Transport],
    policy: DeliveryPolicy,
    now: dt.datetime | None = None,
    days: Sequence[str] | None = None,
    users: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
    max_pages: int = 100_000,
) -> DeliveryReport:
    """Page through everything due now (for `outropy deliver`): every due delivery gets one attempt."""
    now = now or utcnow()
    total = DeliveryReport()
    after: str | None = None
    for _ in range(max_pages):
        report = deliver_page(store, transports, policy, now, after, days, users, log, wrap=False)
        total.merge(report)
        if report.exhausted or report.cursor is None:
            break
        after = report.cursor
    for t in transports.values():
        t.close()
    return total
