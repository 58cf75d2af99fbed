"""Delivery planning: what is due, how long to wait before a retry, what a ledger row becomes.

Pure: no DuckDB, no network, no clock (callers pass `now`, a naive UTC datetime as stored in
DuckDB). `stages/delivery.py` runs it against the `deliveries` ledger; the adapters
(`adapters/slack_messenger.py`, `adapters/email_mailer.py`) do the sending.

The ledger has one row per (day, user_id, channel). Its status moves like this:

    (no row) ──claim──► sending ──ok──────────────► sent
                          │  ├──transient error──► retry ──(next_attempt_at reached)──► sending ...
                          │  ├──permanent error, or attempts = max_attempts ──► failed
                          │  └──in doubt (it may have arrived: the reply was lost)
                          │        ├─ Slack ──► retry, in_doubt: the DM is checked before resending
                          │        └─ email ──► unknown
                          └──the claimer died (its process is gone) or its lease expired
                               ──reconcile──► sent (found at the destination)
                                          ├─► sending again (provably not sent)
                                          └─► unknown (cannot tell: never resent automatically)

One delivery is claimed at a time, just before it is sent, so `sending` always means "in flight"
(or stranded by a crash of the process named in `claimed_by`): a crash strands at most one.

`decide` is the one rule of what is due: the ledger query only narrows the candidates to the
briefings in scope. With a `ReaderSchedule` it also decides *when* a reader's briefing may go out
(each reader's own morning): the briefing for day D is due once the reader's local clock reaches
their delivery hour on D + 1 (the weekend rule may move that to Monday, or skip it), and never
inside their quiet hours; a retry or a resend waits for the same window. Reconciling a crashed
send is not held back (it finishes what already began). `failed` and `unknown` are terminal until an operator requeues them (`outropy deliver --requeue`).
A `sent` row is sent again only when the briefing's content changed and `resend_on_change` is set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Channel = Literal["slack", "email"]
CHANNELS: tuple[str, ...] = ("slack", "email")

SENDING = "sending"
SENT = "sent"
RETRY = "retry"
FAILED = "failed"
UNKNOWN = "unknown"
STATUSES: tuple[str, ...] = (SENDING, SENT, RETRY, FAILED, UNKNOWN)
TERMINAL_PROBLEMS: tuple[str, ...] = (FAILED, UNKNOWN)
# channels whose destination can be asked what arrived (Slack: the DM history); email cannot
RECONCILABLE: tuple[str, ...] = ("slack",)

Decision = Literal["send", "reconcile", "wait", "done", "gave_up", "skipped"]

Weekend = Literal["deliver", "monday", "skip"]
#: what happens to a briefing whose delivery morning falls on the reader's Saturday or Sunday:
#: `deliver` it then, hold it until `monday` (at the delivery hour), or `skip` it (never sent)
WEEKEND_RULES: tuple[str, ...] = ("deliver", "monday", "skip")


def parse_quiet_hours(text: str | None) -> tuple[int, int] | None:
    """`"21-07"` -> (21, 7): no delivery from 21:00 until 07:00 local time. Empty/None/"off": none."""
    if text is None or str(text).strip().lower() in ("", "off", "none"):
        return None
    parts = str(text).replace(" ", "").split("-")
    try:
        start, end = (int(p.split(":")[0]) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        start = end = None
    if start is None or end is None or not (0 <= start <= 23 and 0 <= end <= 24) or start == end:
        raise ValueError(f"quiet hours must look like '21-07' (start-end, whole hours), not {text!r}")
    return (start, end % 24)


def known_timezone(name: str | None) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class ReaderSchedule:
    """When one reader's briefings may be delivered, in their own time zone `tz` (IANA name).

    `hour`: the local hour of the morning after the briefing's day from which it is due.
    `quiet`: (start, end) local hours with no delivery at all (wrapping midnight when start > end).
    `weekend`: see WEEKEND_RULES (Saturday and Sunday in the reader's zone).
    """

    tz: str = "UTC"
    hour: int = 8
    quiet: tuple[int, int] | None = None
    weekend: Weekend = "deliver"

    def __post_init__(self) -> None:
        if not 0 <= self.hour <= 23:
            raise ValueError("the delivery hour must be 0..23")
        if self.weekend not in WEEKEND_RULES:
            raise ValueError(f"weekend must be one of {WEEKEND_RULES}")
        ZoneInfo(self.tz)

    def for_reader(
        self,
        tz: str | None = None,
        hour: int | None = None,
        quiet_hours: str | None = None,
        weekend: str | None = None,
    ) -> ReaderSchedule:
        """This schedule (the defaults) with one reader's own values where they have them; a time
        zone Python does not know is ignored (the default zone is used)."""
        return ReaderSchedule(
            tz=tz if known_timezone(tz) else self.tz,
            hour=self.hour if hour is None else int(hour),
            quiet=self.quiet if quiet_hours is None else parse_quiet_hours(quiet_hours),
            weekend=self.weekend if weekend is None else weekend,  # type: ignore[arg-type]
        )

    def due_at(self, day: str) -> dt.datetime | None:
        """The instant (naive UTC) from which the briefing of `day` is due; None: skipped."""
        morning = dt.date.fromisoformat(day) + dt.timedelta(days=1)
        if morning.weekday() >= 5:
            if self.weekend == "skip":
                return None
            if self.weekend == "monday":
                morning += dt.timedelta(days=7 - morning.weekday())
        local = dt.datetime.combine(morning, dt.time(self.hour), tzinfo=ZoneInfo(self.tz))
        return local.astimezone(dt.UTC).replace(tzinfo=None)

    def is_quiet(self, now: dt.datetime) -> bool:
        """Whether `now` (naive UTC) falls inside the reader's quiet hours."""
        if self.quiet is None:
            return False
        hour = now.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(self.tz)).hour
        start, end = self.quiet
        return start <= hour < end if start < end else hour >= start or hour < end

    def timing(self, day: str, now: dt.datetime) -> Literal["send", "wait", "skipped"]:
        """Whether the briefing of `day` may be sent at `now` (naive UTC)."""
        at = self.due_at(day)
        if at is None:
            return "skipped"
        return "send" if now >= at and not self.is_quiet(now) else "wait"


@dataclass(frozen=True)
class DeliveryPolicy:
    """Retry, crash-recovery and batching rules (OUTROPY_DELIVERY_* variables)."""

    max_attempts: int = 5
    backoff_base_seconds: float = 60.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 600.0  # a 'sending' row older than this is presumed crashed
    resend_on_change: bool = False
    max_age_days: int | None = None  # briefings older than this (by day) are not delivered
    batch_size: int = 50  # briefings read per query (each delivery is claimed on its own)
    # the default delivery window (each reader's own zone and subscription override it); None:
    # a briefing is due as soon as it is stored (`outropy deliver`, tests)
    schedule: ReaderSchedule | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.backoff_base_seconds < 0 or self.backoff_max_seconds < 0 or self.lease_seconds <= 0:
            raise ValueError("backoff must be >= 0 and the lease > 0")


@dataclass(frozen=True)
class LedgerRow:
    """One row of the `deliveries` table."""

    day: str
    user_id: str
    channel: str
    status: str
    attempts: int = 0
    last_error: str | None = None
    sent_at: dt.datetime | None = None
    external_id: str | None = None
    content_hash: str | None = None
    next_attempt_at: dt.datetime | None = None
    address: str | None = None
    updated_at: dt.datetime | None = None
    claimed_by: str | None = None  # the process sending it (`processes.Owner.token`) while `sending`
    in_doubt: bool = False  # the last attempt may have arrived (its reply was lost)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.day, self.user_id, self.channel)


class DeliveryError(Exception):
    """A send that did not (completely) happen.

    `permanent`: retrying cannot help (unknown recipient, rejected content). `retry_after`: the
    server asked us to wait at least this many seconds. `sent_ids`: parts that did go out before
    the error, including those of earlier attempts (a long Slack briefing is several messages), so a
    retry resumes after them. `in_doubt`: the message (the next part after `sent_ids`) went out
    but its acknowledgement did not come back (an email whose DATA was sent, a Slack post answered
    with a 5xx or a dropped connection): it may have arrived.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        sent_ids: Sequence[str] = (),
        address: str | None = None,
        in_doubt: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.sent_ids = list(sent_ids)
        self.address = address
        self.in_doubt = in_doubt


@dataclass(frozen=True)
class SendResult:
    """Where a delivery went (`address`: DM channel id or email address) and its message ids."""

    address: str
    ids: list[str]


@dataclass(frozen=True)
class Outgoing:
    """One briefing on its way to one channel, with everything the adapter needs to send it.

    `resume_ids`: message ids of parts already delivered by an earlier attempt (Slack), skipped.
    """

    day: str
    user_id: str
    user_name: str
    channel: str
    content_hash: str | None
    markdown: str
    plain_text: str
    html: str
    blocks_json: str
    email_address: str | None = None
    resume_ids: tuple[str, ...] = ()
    #: email: (line number, line text, "useful" URL, "not useful" URL) per line (reader_feedback)
    feedback_links: tuple[tuple[int, str, str, str], ...] = ()

    @property
    def key(self) -> str:
        return delivery_key(self.day, self.user_id, self.channel)


@dataclass(frozen=True)
class Found:
    """What a destination says was already delivered (reconciliation): the ids, and whether all are there."""

    address: str
    ids: list[str]
    complete: bool


def is_email_address(address: str | None) -> bool:
    """Whether an email can be sent to `address` at all (the mailer refuses anything else, for good)."""
    return bool(address) and "@" in str(address)


def delivery_key(day: str, user_id: str, channel: str) -> str:
    """The ordering and cursor key of a (day, user, channel): `2026-11-03|U123|slack`."""
    return f"{day}|{user_id}|{channel}"


def join_ids(ids: Sequence[str]) -> str | None:
    return ",".join(ids) if ids else None


def split_ids(external_id: str | None) -> list[str]:
    return [p for p in (external_id or "").split(",") if p]


def first_deliverable_day(now: dt.datetime, policy: DeliveryPolicy) -> str | None:
    """The oldest day whose briefings are still delivered (None: no age limit)."""
    if policy.max_age_days is None:
        return None
    return (now.date() - dt.timedelta(days=policy.max_age_days)).isoformat()


def decide(
    row: LedgerRow | None,
    content_hash: str | None,
    now: dt.datetime,
    policy: DeliveryPolicy,
    claimer_gone: bool = False,
    day: str | None = None,
    schedule: ReaderSchedule | None = None,
) -> Decision:
    """What to do about one (day, user, channel) whose briefing has `content_hash`, given its ledger
    row. `claimer_gone`: the process that claimed a `sending` row has ended (checked by the caller),
    so the row is reconciled now rather than when its lease expires. `schedule`: the reader's
    delivery window (see `ReaderSchedule`); a send outside it waits (or is skipped for good)."""
    decision = _decide(row, content_hash, now, policy, claimer_gone)
    if decision == "send" and schedule is not None and day is not None:
        return schedule.timing(day, now)
    return decision


def _decide(
    row: LedgerRow | None,
    content_hash: str | None,
    now: dt.datetime,
    policy: DeliveryPolicy,
    claimer_gone: bool,
) -> Decision:
    if row is None:
        return "send"
    if row.status == SENT:
        changed = content_hash is not None and row.content_hash != content_hash
        return "send" if policy.resend_on_change and changed else "done"
    if row.status == RETRY:
        return "send" if row.next_attempt_at is None or row.next_attempt_at <= now else "wait"
    if row.status == SENDING:
        expired = row.next_attempt_at is None or row.next_attempt_at <= now
        return "reconcile" if expired or claimer_gone else "wait"
    return "gave_up"  # failed, unknown (or anything unexpected): never automatically


def backoff_seconds(attempts: int, policy: DeliveryPolicy, retry_after: float | None = None) -> float:
    """Delay before the next attempt after `attempts` failed ones: base * 2^(attempts-1), capped,
    but never shorter than the server's Retry-After."""
    delay = min(policy.backoff_base_seconds * (2 ** max(attempts - 1, 0)), policy.backoff_max_seconds)
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return delay


def claim(
    row: LedgerRow | None,
    day: str,
    user_id: str,
    channel: str,
    content_hash: str | None,
    now: dt.datetime,
    policy: DeliveryPolicy,
    claimed_by: str | None = None,
) -> LedgerRow:
    """The row to write before sending: `sending`, one more attempt, leased until now + lease, held
    by the process `claimed_by`.

    Parts already sent of the same content (a partial Slack delivery) are kept in `external_id` so
    the send resumes after them; new content (resend on change) starts over with a fresh count.
    """
    same_content = row is not None and row.content_hash == content_hash
    fresh = row is None or row.status == SENT or not same_content
    return LedgerRow(
        day=day,
        user_id=user_id,
        channel=channel,
        status=SENDING,
        attempts=1 if fresh else row.attempts + 1,
        last_error=None if fresh else row.last_error,
        sent_at=None,
        external_id=None if fresh else row.external_id,
        content_hash=content_hash,
        next_attempt_at=now + dt.timedelta(seconds=policy.lease_seconds),
        address=None if fresh else row.address,
        updated_at=now,
        claimed_by=claimed_by,
        in_doubt=False,
    )


def after_success(claimed: LedgerRow, result: SendResult, now: dt.datetime) -> LedgerRow:
    return replace(
        claimed,
        status=SENT,
        sent_at=now,
        external_id=join_ids(result.ids),
        address=result.address,
        last_error=None,
        next_attempt_at=None,
        updated_at=now,
        claimed_by=None,
        in_doubt=False,
    )


def after_failure(
    claimed: LedgerRow, error: DeliveryError, now: dt.datetime, policy: DeliveryPolicy
) -> LedgerRow:
    """`retry` at now + backoff, or `failed` when permanent or out of attempts; a send in doubt
    becomes `unknown` unless the destination can be asked before the retry (Slack)."""
    message = str(error)[:500] or type(error).__name__
    ids = error.sent_ids or split_ids(claimed.external_id)
    give_up = error.permanent or claimed.attempts >= policy.max_attempts
    if error.in_doubt and (give_up or claimed.channel not in RECONCILABLE):
        return after_unknown(
            replace(claimed, external_id=join_ids(ids), address=error.address or claimed.address),
            now,
            f"in doubt: {message} (it may have arrived; not resent automatically: "
            "outropy deliver --requeue unknown)",
        )
    if give_up and not error.permanent:
        message = f"gave up after {claimed.attempts} attempts: {message}"
    if error.in_doubt:
        message = f"in doubt: {message} (the DM is checked before resending)"
    return replace(
        claimed,
        status=FAILED if give_up else RETRY,
        last_error=message,
        external_id=join_ids(ids),
        address=error.address or claimed.address,
        next_attempt_at=None
        if give_up
        else now + dt.timedelta(seconds=backoff_seconds(claimed.attempts, policy, error.retry_after)),
        updated_at=now,
        claimed_by=None,
        in_doubt=error.in_doubt,
    )


def after_unknown(row: LedgerRow, now: dt.datetime, reason: str) -> LedgerRow:
    """A send whose outcome cannot be established (in doubt, or crashed): never resent automatically."""
    return replace(
        row,
        status=UNKNOWN,
        last_error=reason[:500],
        next_attempt_at=None,
        updated_at=now,
        claimed_by=None,
        in_doubt=True,
    )


def requeue(row: LedgerRow, now: dt.datetime) -> LedgerRow:
    """An operator's decision to try a `failed` or `unknown` delivery again, with a fresh count:
    the operator has checked, so it is sent without asking the destination first."""
    return replace(
        row, status=RETRY, attempts=0, next_attempt_at=now, updated_at=now, claimed_by=None, in_doubt=False
    )
