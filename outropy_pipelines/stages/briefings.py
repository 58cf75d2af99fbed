"""Stage: per-user briefings for a day (`briefings`, `briefing_lines`), plus Markdown files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from outropy_pipelines.domain.briefing_index import BriefingIndex
from outropy_pipelines.domain.briefing_rendering import render_plain_text
from outropy_pipelines.domain.briefing_waiting import WAITING_KINDS, asker_of, partial_note
from outropy_pipelines.domain.membership import members_on_day
from outropy_pipelines.domain.models import Briefing, Directory, OpenItem
from outropy_pipelines.domain.reader_feedback import (
    Applied,
    FeedbackPolicy,
    ReaderAdjustments,
    adjustments_from,
    window_of,
)
from outropy_pipelines.gc_pause import paused_gc
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store import briefings as briefings_store
from outropy_pipelines.store import feedback as feedback_store
from outropy_pipelines.store.directory import read_subscriptions
from outropy_pipelines.store.entity_summaries import load_entity_summaries
from outropy_pipelines.store.items import load_items
from outropy_pipelines.store.raw_messages import membership_events


@dataclass
class BriefingsReport:
    day: str
    briefings: list[Briefing] = field(default_factory=list)
    lines: int = 0
    files: list[Path] = field(default_factory=list)
    feedback: dict[str, Applied] = field(default_factory=dict)  # readers whose feedback applied


def brief_day(
    store: DuckDBStore,
    directory: Directory,
    day: str,
    user_ids: Sequence[str],
    workspace_url: str,
    briefings_dir: Path | None = None,
    feedback: FeedbackPolicy | None = None,
) -> BriefingsReport:
    """Build and store the briefings of `user_ids` for `day`, replacing those (day, user) rows.

    The day's items are indexed once (`BriefingIndex`); each user then costs only the selection,
    ranking and rendering of their own lines, with the same result as `build_briefing`.
    With `feedback`, each reader's recent feedback events adjust their ranking (`reader_feedback`).

    The briefings are built first (`_build`) and only then written: the day's items, memory and
    index are gone by the time DuckDB takes its memory for the write (at a million messages a day
    they are ~400 MB of the process, the write ~200 MB more). The cyclic garbage collector is paused
    while they are built (`paused_gc`): what `_build` makes is acyclic, so reference counting frees
    it, and each collection of the old generation would walk the day's items and every briefing
    made so far.
    """
    report = BriefingsReport(day=day)
    with paused_gc():
        plain_texts = _build(store, directory, day, user_ids, workspace_url, feedback, report)
    report.lines = briefings_store.replace_day_users(store, day, user_ids, report.briefings, plain_texts)
    del plain_texts
    if briefings_dir is not None:
        folder = briefings_dir / day
        folder.mkdir(parents=True, exist_ok=True)
        for b in report.briefings:
            path = folder / f"{b.user_id}.md"
            path.write_text(b.markdown, encoding="utf-8")
            report.files.append(path)
    return report


def _build(
    store: DuckDBStore,
    directory: Directory,
    day: str,
    user_ids: Sequence[str],
    workspace_url: str,
    feedback: FeedbackPolicy | None,
    report: BriefingsReport,
) -> list[str]:
    """The briefings of `user_ids` (appended to `report.briefings`, their applied feedback to
    `report.feedback`); returns their plain-text renderings, in the same order."""
    users = directory.user_by_id()
    # membership (access to private conversations, "your channels") follows joins and leaves from
    # the day they happen, not only the directory's snapshot
    channels = members_on_day(day, directory.channel_by_id(), membership_events(store))
    user_names = {u.user_id: u.display_name for u in directory.users}
    items = load_items(store, day)
    # a person's open asks of every visibility scope; the index shows each only to who may see it
    person_memory: dict[str, list[OpenItem]] = {}
    for summary in load_entity_summaries(store, day, [f"person:{uid}" for uid in user_ids]):
        person_memory.setdefault(summary.entity_id, []).extend(summary.open_items)
    # open asks and questions of every conversation (channel memory, every scope): the readers'
    # "You're waiting on" are among them (briefing_waiting); the index checks who may see each
    asked: list[OpenItem] = [
        o
        for summary in load_entity_summaries(store, day, entity_kind="channel")
        for o in summary.open_items
        if o.kind in WAITING_KINDS and o.since_day < day
    ]
    # the thread and author of every message a line may cite: a carried item's sources were posted
    # on earlier days, and its reply permalinks need their thread_ts on every day it is shown
    carried_sources = [s for memory in person_memory.values() for o in memory for s in o.sources]
    carried_sources += [s for o in asked for s in o.sources]
    thread_ts_of, authors_of = briefings_store.source_messages(store, day, carried_sources)
    index = BriefingIndex(
        day, items, channels, user_names, workspace_url, thread_ts_of, authors_of=authors_of
    )
    # the open asks and questions each reader asked (the author of the first source)
    asked_by: dict[str, list[OpenItem]] = {}
    for o in asked:
        asker = asker_of(o, authors_of)
        if asker is not None:
            asked_by.setdefault(asker, []).append(o)
    partial = partial_note(*briefings_store.day_gaps(store, day))
    # each reader's own preferences (mute, watch, sections, length), stored with the subscription
    preferences = {s.user_id: s.preferences for s in read_subscriptions(store)}
    adjustments: dict[str, ReaderAdjustments] = {}
    if feedback is not None:  # each reader's standing events on their briefings of the window before `day`
        events = feedback_store.read_events(store, user_ids, *window_of(day, feedback))
        adjustments = {uid: adjustments_from(uid, evs, feedback) for uid, evs in events.items()}
    plain_texts: list[str] = []
    for uid in user_ids:
        user = users.get(uid)
        if user is None:
            continue
        open_items: list[OpenItem] = [
            o for o in person_memory.get(f"person:{uid}", []) if uid in o.owners and o.since_day < day
        ]
        applied = Applied() if uid in adjustments else None
        b = index.build_briefing(
            user,
            open_items,
            waiting_items=[*open_items, *asked_by.get(uid, [])],
            partial=partial,
            preferences=preferences.get(uid),
            feedback=adjustments.get(uid),
            applied=applied,
        )
        if applied is not None:
            report.feedback[uid] = applied
        report.briefings.append(b)
        plain_texts.append(render_plain_text(b, renderer=index.renderer))
    return plain_texts
