"""Stage: deliver stored briefings by Slack DM and email, once per (day, user, channel).

Run by the `deliver_briefings` job (which the `deliver_briefings_sensor` requests when something
is due, and `outropy deliver` executes). The work list comes from the ledger, not from Dagster
events: every stored briefing x channel its reader subscribed to, kept when
`delivery_plan.decide` says it is due (no row yet, a retry whose time has come, a crashed send to
reconcile, or changed content with resend-on-change). That rule lives only there.

Protocol per delivery, one delivery at a time (see `domain/delivery_plan.py` for the states):
1. claim, just before sending: in one short transaction, re-read the ledger row, confirm it is
   still due, write `sending` (attempts + 1, leased for `lease_seconds`, `claimed_by` this
   process). Claims are made one at a time, so no row is claimed before its turn: a crash strands
   only the delivery in flight. Two processes never claim the same row: on the DuckDB file the
   store's file lock serialises claimers; the DuckLake store has no lock and no primary key, so
   there the run queue keeps one claimer (one `deliver_briefings` run at a time: the tag
   `outropy/workload=delivery`, limit 1 in deploy/dagster.yaml), and each ledger write is one lake
   transaction, retried on a write conflict.
2. send, with no DuckDB connection held.
3. record `sent` (message ids, address), `retry`/`failed` (error, next attempt), or `unknown`
   for an email in doubt (its DATA went out, the reply did not come back) at once.

Crash between 1 and 3: the row stays `sending`; it is reconciled by the next pass as soon as the
process in `claimed_by` is gone (or, from another host, when the lease expires): Slack looks in
the DM history for this briefing's parts (message metadata) and records them, or sends the
missing ones; email cannot be asked, so the row becomes `unknown` and is never resent
automatically (at most once; `outropy deliver --requeue unknown` sends it again). A Slack post in
doubt (5xx, connection lost) is retried the same way: history first, and `unknown` when the
history cannot be read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from outropy_pipelines.domain import delivery_plan as plan
from outropy_pipelines.domain.delivery_plan import (
    DeliveryError,
    DeliveryPolicy,
    Found,
    LedgerRow,
    Outgoing,
    SendResult,
)
from outropy_pipelines.processes import Owner, current
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store import deliveries as ledger
from outropy_pipelines.store.deliveries import utcnow

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

# how far back before the previous attempt the Slack history is searched when reconciling
RECONCILE_MARGIN_SECONDS = 300


class Transport(Protocol):
    channel: str

    def send(self, item: Outgoing) -> SendResult: ...

    def find_sent(self, item: Outgoing, since: dt.datetime) -> Found | None: ...

    def close(self) -> None: ...


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
    not_configured: dict[str, int] = field(default_factory=dict)  # channel -> due deliveries waiting

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

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
        return text


def ledger_counts(store: DuckDBStore, days: Sequence[str] | None = None) -> dict[tuple[str, str], int]:
    """{(channel, status): rows} of the ledger."""
    out: dict[tuple[str, str], int] = {}
    for row in ledger.read_ledger(store, days):
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
        plan.requeue(r, now)
        for r in ledger.read_ledger(store, days)
        if r.status in statuses
        and (not users or r.user_id in users)
        and (not channels or r.channel in channels)
    ]
    ledger.write_rows(store, rows)
    return len(rows)


# -- what is due -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """One (day, user, channel) that `delivery_plan.decide` says is due, as the ledger had it."""

    day: str
    user_id: str
    channel: str
    content_hash: str | None
    previous: LedgerRow | None
    schedule: plan.ReaderSchedule | None = None  # the reader's delivery window (None: any time)

    @property
    def key(self) -> str:
        return plan.delivery_key(self.day, self.user_id, self.channel)

    @property
    def attempts(self) -> int:
        return self.previous.attempts if self.previous else 0


def claimer_gone(row: LedgerRow | None) -> bool:
    """Whether a `sending` row was left by a process of this host that has ended (a crash)."""
    if row is None or row.status != plan.SENDING:
        return False
    owner = Owner.parse(row.claimed_by)
    return owner is not None and owner.is_gone()


def due_deliveries(
    store: DuckDBStore,
    channels: Sequence[str],
    policy: DeliveryPolicy,
    now: dt.datetime | None = None,
    days: Sequence[str] | None = None,
    users: Sequence[str] | None = None,
) -> list[Due]:
    """What is due now on `channels` (in key order), within `days`/`users` and the policy's age limit."""
    now = now or utcnow()
    out: list[Due] = []
    first_day = plan.first_deliverable_day(now, policy)
    found = ledger.candidates(store, channels, first_day=first_day, days=days, users=users)
    schedules = reader_schedules(store, {k.split("|")[1] for k, _, _ in found}, policy)
    for key, content_hash, row in found:
        day, user_id, channel = key.split("|")
        schedule = schedules.get(user_id, policy.schedule)
        decision = plan.decide(row, content_hash, now, policy, claimer_gone(row), day, schedule)
        if decision in ("send", "reconcile"):
            out.append(Due(day, user_id, channel, content_hash, row, schedule))
    return out


def reader_schedules(
    store: DuckDBStore, user_ids: Iterable[str], policy: DeliveryPolicy
) -> dict[str, plan.ReaderSchedule]:
    """Each reader's delivery window: the policy's default schedule with the reader's own time zone
    (the directory's `tz`; none or unknown: the default, the workspace zone) and subscription
    values. Empty when the policy has no schedule (due as soon as stored)."""
    if policy.schedule is None:
        return {}
    stored = ledger.reader_timing(store, sorted(user_ids))
    return {
        uid: policy.schedule.for_reader(
            t.get("tz"), t.get("delivery_hour"), t.get("quiet_hours"), t.get("weekend")
        )
        for uid, t in stored.items()
    }


@dataclass(frozen=True)
class Problem:
    """Something that keeps `deliveries` of the due ones on `channel` from going out, and why."""

    channel: str
    deliveries: int
    why: str

    def line(self) -> str:
        noun = "delivery" if self.deliveries == 1 else "deliveries"
        return f"would fail: {self.deliveries} {self.channel} {noun}: {self.why}"


def _some(user_ids: Sequence[str], shown: int = 5) -> str:
    more = f" and {len(user_ids) - shown} more" if len(user_ids) > shown else ""
    return ", ".join(user_ids[:shown]) + more


def preflight(
    store: DuckDBStore, due: Sequence[Due], channel_problems: Mapping[str, str | None]
) -> list[Problem]:
    """What would keep `due` deliveries from going out, one `Problem` per cause, without sending:
    a channel that cannot send at all (`channel_problems[channel]`: why, e.g. not configured),
    and, on a working email channel, readers without an email address (a permanent failure)."""
    by_channel: dict[str, list[Due]] = {}
    for d in due:
        by_channel.setdefault(d.channel, []).append(d)
    problems: list[Problem] = []
    for channel in plan.CHANNELS:
        dues = by_channel.get(channel, [])
        why = channel_problems.get(channel)
        if not dues:
            continue
        if why:
            problems.append(Problem(channel, len(dues), why))
            continue
        if channel == "email":
            addresses = ledger.email_addresses(store, [d.user_id for d in dues])
            unreachable = [d for d in dues if not plan.is_email_address(addresses.get(d.user_id))]
            readers = sorted({d.user_id for d in unreachable})
            if readers:
                who = f"{len(readers)} reader{'s have' if len(readers) > 1 else ' has'} no email address"
                problems.append(
                    Problem(
                        channel,
                        len(unreachable),
                        f"{who} ({_some(readers)}; set email_address in the subscriptions file)",
                    )
                )
    return problems


# -- delivering --------------------------------------------------------------------------------


@dataclass
class _Claim:
    due: Due
    outgoing: Outgoing
    previous: LedgerRow | None
    row: LedgerRow  # as written (sending)
    decision: str  # "send" or "reconcile"
    attempted: bool = False  # the transport was called: the outcome is no longer ours to undo


def _claim_one(
    store: DuckDBStore,
    d: Due,
    outgoing: Outgoing,
    now: dt.datetime,
    policy: DeliveryPolicy,
    owner: str,
) -> _Claim | None:
    """In one transaction: re-check one due delivery against its ledger row (another process may
    have got there first) and mark it `sending`, held by `owner`. None: no longer due."""

    def claim(con: DuckDBPyConnection) -> tuple[LedgerRow | None, LedgerRow | None, str]:
        previous = ledger.read_row(con, d.day, d.user_id, d.channel)
        decision = plan.decide(
            previous, outgoing.content_hash, now, policy, claimer_gone(previous), d.day, d.schedule
        )
        row: LedgerRow | None = None
        if decision == "send":
            row = plan.claim(previous, d.day, d.user_id, d.channel, outgoing.content_hash, now, policy, owner)
        elif decision == "reconcile" and previous is not None:
            # keep the crashed attempt's state; just take the lease while we look
            lease = now + dt.timedelta(seconds=policy.lease_seconds)
            row = replace(previous, next_attempt_at=lease, updated_at=now, claimed_by=owner)
        if row is not None:
            ledger.write_row(con, row, exists=previous is not None)
        return previous, row, decision

    previous, row, decision = store.in_transaction(claim)
    if row is None:
        return None
    due = replace(d, content_hash=outgoing.content_hash, previous=previous)
    return _Claim(due, outgoing, previous, row, decision)


def _release(store: DuckDBStore, cl: _Claim) -> None:
    """Undo a claim that was not acted on (interrupted before sending): the row as it was."""

    def undo(con: DuckDBPyConnection) -> None:
        if cl.previous is None:
            ledger.delete_row(con, cl.row)
        else:
            ledger.write_row(con, cl.previous, exists=True)

    store.in_transaction(undo)


def _since(previous: LedgerRow | None, now: dt.datetime, policy: DeliveryPolicy) -> dt.datetime:
    anchor = (previous.updated_at if previous and previous.updated_at else None) or now
    return anchor - dt.timedelta(seconds=policy.lease_seconds + RECONCILE_MARGIN_SECONDS)


def _deliver_one(
    store: DuckDBStore,
    transport: Transport,
    cl: _Claim,
    clock: Callable[[], dt.datetime],
    policy: DeliveryPolicy,
    owner: str,
) -> Outcome:
    c, row, now = cl.due, cl.row, clock()
    same_content = cl.previous is not None and cl.previous.content_hash == c.content_hash
    reconciled = False
    resume = plan.split_ids(row.external_id)
    # Before sending again (a crashed, failed or in-doubt earlier attempt of the same content),
    # ask the destination what arrived, so nothing is posted twice.
    if cl.decision == "reconcile" or (
        same_content and cl.previous is not None and cl.previous.status != plan.SENT
    ):
        found = transport.find_sent(cl.outgoing, _since(cl.previous, now, policy))
        in_doubt = cl.previous is not None and cl.previous.in_doubt
        if found is None and (cl.decision == "reconcile" or in_doubt):
            why = (
                f"the sender stopped during attempt {row.attempts}"
                if cl.decision == "reconcile"
                else f"attempt {row.attempts - 1} may have arrived (its reply was lost)"
            )
            final = plan.after_unknown(
                row,
                now,
                f"{why} and the {c.channel} server cannot tell whether it arrived: "
                "not resent automatically (outropy deliver --requeue unknown)",
            )
            ledger.record(store, final)
            return Outcome(c.day, c.user_id, c.channel, final.status, final.attempts, final.last_error)
        if found is not None and found.complete:
            final = plan.after_success(row, SendResult(found.address, found.ids), now)
            ledger.record(store, final)
            return Outcome(
                c.day, c.user_id, c.channel, final.status, final.attempts, None, len(found.ids), True
            )
        if found is not None:
            resume = found.ids
        if cl.decision == "reconcile":  # provably not (completely) sent: this is a new attempt
            reconciled = True
            row = plan.claim(row, c.day, c.user_id, c.channel, c.content_hash, now, policy, owner)
            ledger.record(store, row)
    try:
        cl.attempted = True
        try:
            result = transport.send(replace(cl.outgoing, resume_ids=tuple(resume)))
        except DeliveryError:
            raise
        except Exception as exc:  # an adapter bug or an unforeseen error: recorded, retried, never lost
            raise DeliveryError(f"unexpected {type(exc).__name__}: {exc}") from exc
    except DeliveryError as exc:
        if not exc.sent_ids and resume:
            exc.sent_ids = list(resume)
        final = plan.after_failure(row, exc, clock(), policy)
        ledger.record(store, final)
        return Outcome(
            c.day,
            c.user_id,
            c.channel,
            final.status,
            final.attempts,
            final.last_error,
            reconciled=reconciled,
        )
    final = plan.after_success(row, result, clock())
    ledger.record(store, final)
    return Outcome(
        c.day, c.user_id, c.channel, final.status, final.attempts, None, len(result.ids), reconciled
    )


def deliver_all(
    store: DuckDBStore,
    transports: Mapping[str, Transport],
    policy: DeliveryPolicy,
    now: dt.datetime | None = None,
    days: Sequence[str] | None = None,
    users: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
    prepare: Callable[[dict[tuple[str, str, str], Outgoing]], dict[tuple[str, str, str], Outgoing]]
    | None = None,
) -> DeliveryReport:
    """Give every delivery due now one attempt, each claimed on its own just before it is sent
    (the briefings are read `policy.batch_size` at a time); channels without a transport are
    counted as waiting. `now` fixes the clock (tests); by default it is read at each step.
    `prepare` completes each page of bodies before sending (the email's feedback links). Closes
    the transports."""
    clock: Callable[[], dt.datetime] = (lambda: now) if now is not None else utcnow
    log = log or (lambda _msg: None)
    owner = current().token()
    report = DeliveryReport()
    try:
        start_time = clock()
        for channel in plan.CHANNELS:
            if channel not in transports:
                report.not_configured[channel] = len(
                    due_deliveries(store, [channel], policy, start_time, days, users)
                )
        channels = [ch for ch in plan.CHANNELS if ch in transports]
        due = due_deliveries(store, channels, policy, start_time, days, users)
        for start in range(0, len(due), policy.batch_size):
            page = due[start : start + policy.batch_size]
            bodies = ledger.outgoing(store, [(d.day, d.user_id, d.channel) for d in page])
            if prepare is not None:
                bodies = prepare(bodies)
            for d in page:
                body = bodies.get((d.day, d.user_id, d.channel))
                if body is None:
                    continue  # the briefing was replaced meanwhile: the next run sees the new one
                cl = _claim_one(store, d, body, clock(), policy, owner)
                if cl is None:
                    continue  # no longer due (another process got there first)
                try:
                    outcome = _deliver_one(store, transports[cl.row.channel], cl, clock, policy, owner)
                except BaseException:
                    # interrupted (shutdown, a bug): a claim not yet sent is given back; one in
                    # flight stays `sending` and is reconciled once this process is gone
                    if not cl.attempted:
                        _release(store, cl)
                    raise
                report.outcomes.append(outcome)
                if outcome.status != plan.SENT:
                    log(
                        f"delivery {outcome.key}: {outcome.status} (attempt {outcome.attempts}): {outcome.error}"
                    )
    finally:
        for t in transports.values():
            t.close()
    return report
