"""Stage: readers' feedback on briefing lines, from Slack reactions, email links and the CLI.

- `sync_slack` (the `deliver_briefings` job after sending, and `user_briefings` before ranking):
  for each briefing delivered by DM, one `conversations.replies` call reads its thread; lines not
  posted yet are posted as replies (delivery run only, `post_lines`), and the reader's own
  reactions on line replies become events (`reader_feedback.reaction_value`); a reaction that is
  gone retracts its event. Reactions by anyone else are ignored. Re-reading is idempotent.
- `record_line` (`outropy feedback`, the email links' endpoint): one event for one line.
- `email_links`: the signed "useful" / "not useful" links of each line of an email.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from outropy_pipelines.adapters.slack_feedback import (
    ERRORS,
    HINT,
    HINT_POSITION,
    SlackFeedback,
    line_text,
    posted_positions,
)
from outropy_pipelines.domain.delivery_plan import Outgoing
from outropy_pipelines.domain.reader_feedback import (
    NOT_USEFUL,
    USEFUL,
    FeedbackEvent,
    FeedbackPolicy,
    feedback_token,
    reaction_value,
)
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store import feedback as fb_store


@dataclass(frozen=True)
class FeedbackConfig:
    """How feedback is gathered: Slack line replies on or off, the reactions that count, how many
    days of briefings are read back, the email links' endpoint and secret."""

    slack_lines: bool = False
    useful_reactions: tuple[str, ...] = ("+1", "thumbsup")
    not_useful_reactions: tuple[str, ...] = ("-1", "thumbsdown")
    read_days: int = 3
    url: str | None = None
    secret: str | None = None  # never logged or stored
    policy: FeedbackPolicy = field(default_factory=FeedbackPolicy)


@dataclass
class SyncReport:
    threads: int = 0
    lines_posted: int = 0
    events_recorded: int = 0
    events_retracted: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.threads} briefing threads read, {self.lines_posted} lines posted, "
            f"{self.events_recorded} feedback events recorded, {self.events_retracted} retracted"
        )
        return text + (f", {len(self.errors)} threads unreadable" if self.errors else "")


def _day_minus(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=days)).isoformat()


def event_of(reader_id: str, day: str, line: fb_store.LineFacts, value: str, source: str) -> FeedbackEvent:
    return FeedbackEvent(
        reader_id, day, line.position, value, source, line.item_id, line.kind, line.channel_id, line.people
    )


def sync_slack(
    store: DuckDBStore,
    slack: SlackFeedback,
    config: FeedbackConfig,
    *,
    day: str | None = None,
    sent_since: dt.datetime | None = None,
    users: Sequence[str] | None = None,
    post_lines: bool = False,
    log: Callable[[str], None] | None = None,
) -> SyncReport:
    """Read (and with `post_lines`, complete) the line threads of the briefings delivered by DM:
    those of `day` and the `config.read_days` days before it (before ranking `day`), and/or those
    sent since `sent_since` (naive UTC; the delivery run: what it and the runs just before sent)."""
    report = SyncReport()
    first_day = _day_minus(day, config.read_days) if day is not None else None
    threads = fb_store.delivered_threads(store, first_day, users, sent_since)
    lines_of = fb_store.briefing_lines(store, [(t.day, t.user_id) for t in threads])
    events: list[FeedbackEvent] = []
    read: list[tuple[str, str]] = []
    try:
        for t in threads:
            lines = {ln.position: ln for ln in lines_of.get((t.day, t.user_id), [])}
            try:
                replies = slack.replies(t.channel_id, t.thread_ts, t.day, t.user_id)
            except ERRORS as exc:
                report.errors.append(f"{t.day} {t.user_id}: {type(exc).__name__}")
                continue
            report.threads += 1
            read.append((t.day, t.user_id))
            by_ts = {**t.posted, **{ts: p for p, ts in posted_positions(replies).items()}}
            for r in replies:
                position = by_ts.get(r.ts)
                line = lines.get(position) if position is not None else None
                if line is None or (r.item_id and r.item_id != line.item_id):
                    continue  # not a line, or the briefing was rebuilt since with another line there
                for name, who in r.reactions.items():
                    value = reaction_value(name, config.useful_reactions, config.not_useful_reactions)
                    if value is not None and t.user_id in who:  # only the reader's own reactions
                        events.append(event_of(t.user_id, t.day, line, value, "slack"))
            if post_lines and lines:
                report.lines_posted += _post_missing(store, slack, t, lines, set(by_ts.values()), report)
    finally:
        slack.close()
    report.events_recorded = fb_store.record_events(store, events)
    report.events_retracted = fb_store.retract_missing(store, read, [e.key for e in events])
    if log is not None and report.errors:
        log(f"feedback: {len(report.errors)} briefing threads could not be read: {report.errors[:5]}")
    return report


def _post_missing(
    store: DuckDBStore,
    slack: SlackFeedback,
    thread: fb_store.SlackThread,
    lines: Mapping[int, fb_store.LineFacts],
    posted: set[int],
    report: SyncReport,
) -> int:
    """Post the hint (first) and every line not in `posted`; the replies that went out are recorded
    (also when one fails: the rest goes out with the next run; after a crash the thread's metadata
    says what arrived). Returns the lines posted."""
    todo = [p for p in sorted(lines) if p not in posted]
    if not todo:
        return 0
    where = (thread.channel_id, thread.thread_ts, thread.day, thread.user_id)
    done: list[tuple[int, str]] = []
    try:
        if HINT_POSITION not in posted:
            done.append((HINT_POSITION, slack.post(*where, HINT_POSITION, HINT)))
        for p in todo:
            line = lines[p]
            done.append((p, slack.post(*where, p, line_text(p + 1, line.text, line.reason), line.item_id)))
    except ERRORS as exc:
        report.errors.append(f"{thread.day} {thread.user_id}: posting lines: {type(exc).__name__}")
    finally:
        fb_store.record_slack_lines(store, thread, done)
    return sum(1 for p, _ in done if p != HINT_POSITION)


class UnknownLine(ValueError):
    """The briefing or its line does not exist."""


def record_line(
    store: DuckDBStore,
    reader_id: str,
    day: str,
    position: int,
    value: str,
    source: str,
    item_id: str | None = None,
) -> bool:
    """Record one reader's mark of line `position` (0-based) of their briefing of `day`; returns
    whether it was new. Raises UnknownLine when there is no such line (or, with `item_id`, when the
    briefing was rebuilt since with another item on that line)."""
    if value not in (USEFUL, NOT_USEFUL):
        raise ValueError(f"feedback is {USEFUL} or {NOT_USEFUL}, not {value!r}")
    lines = fb_store.briefing_lines(store, [(day, reader_id)]).get((day, reader_id), [])
    line = next((ln for ln in lines if ln.position == position), None)
    if line is None or (item_id and line.item_id != item_id):
        what = f"line {position + 1}" if lines else "briefing"
        raise UnknownLine(f"{reader_id} has no {what} on {day} ({len(lines)} lines)")
    return fb_store.record_events(store, [event_of(reader_id, day, line, value, source)]) > 0


def email_links(
    store: DuckDBStore, bodies: Mapping[tuple[str, str, str], Outgoing], config: FeedbackConfig
) -> dict[tuple[str, str, str], Outgoing]:
    """The email bodies with each line's signed feedback links (when an endpoint and a secret are set)."""
    if not config.url or not config.secret:
        return dict(bodies)
    emails = [(d, u) for d, u, ch in bodies if ch == "email"]
    lines_of = fb_store.briefing_lines(store, emails)
    base = config.url.rstrip("/")
    out = dict(bodies)
    for (d, u, ch), body in bodies.items():
        if ch != "email":
            continue
        links = []
        for ln in lines_of.get((d, u), []):
            urls = [
                f"{base}/feedback?t={quote(feedback_token(config.secret, u, d, ln.position, v, ln.item_id))}"
                for v in (USEFUL, NOT_USEFUL)
            ]
            links.append((ln.position + 1, ln.text, urls[0], urls[1]))
        out[(d, u, ch)] = replace(body, feedback_links=tuple(links))
    return out
