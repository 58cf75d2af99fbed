"""The typed, semantic records every stage reads and writes.

Pure pydantic: nothing here knows about Dagster, DuckDB or any LLM vendor. Timestamps are Slack `ts`
strings ("1700000000.000100"), which are unique per channel and sort correctly as decimals; days
are ISO dates ("2026-11-02") in the workspace time zone.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from outropy_pipelines.domain.delivery_plan import WEEKEND_RULES, parse_quiet_hours

ChannelKind = Literal["public", "private", "im", "mpim"]
ThreadKind = Literal["slack_thread", "reconstructed"]
ItemKind = Literal[
    "decision",
    "action_item",
    "question",
    "blocker",
    "incident",
    "announcement",
    "status_update",
]
ITEM_KINDS: tuple[str, ...] = (
    "decision",
    "action_item",
    "question",
    "blocker",
    "incident",
    "announcement",
    "status_update",
)
# Kinds that stay open in entity memory until a later message closes them.
OPEN_ENDED_KINDS: frozenset[str] = frozenset({"action_item", "question", "blocker", "incident"})
ItemStatus = Literal["open", "resolved", "info"]
EntityKind = Literal["channel", "project", "person"]
#: the visibility scope of what public channels hold (`EntitySummary.scope`)
PUBLIC_SCOPE = "public"
BriefingSection = Literal[
    "waiting_on_you", "waiting_on_others", "needs_you", "decisions", "blockers_incidents", "updates"
]
#: the ranked sections (briefing_ranking places the day's items in these)
BRIEFING_SECTIONS: tuple[str, ...] = ("needs_you", "decisions", "blockers_incidents", "updates")
#: the sections of open items carried across days, at the top of a briefing (briefing_waiting)
WAITING_SECTIONS: tuple[str, ...] = ("waiting_on_you", "waiting_on_others")
#: every section in page order
PAGE_SECTIONS: tuple[str, ...] = WAITING_SECTIONS + BRIEFING_SECTIONS
SECTION_TITLES: dict[str, str] = {
    "waiting_on_you": "Waiting on you",
    "waiting_on_others": "You're waiting on",
    "needs_you": "Needs you",
    "decisions": "Decisions",
    "blockers_incidents": "Blockers and incidents",
    "updates": "Updates in your channels",
}


class _Record(BaseModel):
    model_config = ConfigDict(frozen=False, extra="forbid")


class User(_Record):
    user_id: str
    name: str
    real_name: str = ""
    email: str | None = None
    tz: str | None = None
    is_bot: bool = False
    deleted: bool = False

    @property
    def display_name(self) -> str:
        return self.real_name or self.name or self.user_id


class Channel(_Record):
    channel_id: str
    name: str
    kind: ChannelKind
    is_archived: bool = False
    topic: str = ""
    purpose: str = ""
    members: list[str] = Field(default_factory=list)


class Directory(_Record):
    """Who and where: the workspace's people and conversations (a snapshot)."""

    users: list[User]
    channels: list[Channel]

    def user_by_id(self) -> dict[str, User]:
        return {u.user_id: u for u in self.users}

    def channel_by_id(self) -> dict[str, Channel]:
        return {c.channel_id: c for c in self.channels}


class ReaderPreferences(_Record):
    """A reader's own choices of what their briefing shows, resolved against the directory (the
    rules: domain/reader_preferences.py). Empty: the briefing as everyone gets it."""

    mute_channels: list[str] = Field(default_factory=list)  # conversation ids
    watch_people: list[str] = Field(default_factory=list)  # user ids
    watch_keywords: list[str] = Field(default_factory=list)  # whole words or phrases, any case
    sections: dict[str, bool] = Field(default_factory=dict)  # section -> shown (unnamed: shown)
    max_lines: int | None = Field(None, ge=1)  # None: no limit of the reader's own


class Subscription(_Record):
    """A person who opted in to briefings and where they want them delivered."""

    user_id: str
    slack: bool = True
    email: bool = False
    email_address: str | None = None
    active: bool = True
    #: when it is delivered, in the reader's own time zone; None: the OUTROPY_* default
    delivery_hour: int | None = Field(None, ge=0, le=23)
    quiet_hours: str | None = None  # "21-07"; "off": none
    weekend: str | None = None  # deliver | monday | skip
    #: what the briefing shows (mute, watch, sections, length)
    preferences: ReaderPreferences = Field(default_factory=ReaderPreferences)

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet_hours(cls, value: object) -> str | None:
        if value is None:
            return None
        text = "off" if value is False else str(value).strip()  # YAML reads a bare `off` as false
        parse_quiet_hours(text)  # raises ValueError on a malformed range
        return text

    @field_validator("weekend", mode="before")
    @classmethod
    def _weekend(cls, value: object) -> str | None:
        if value is None:
            return None
        rule = str(value).strip().lower()
        if rule not in WEEKEND_RULES:
            raise ValueError(f"weekend must be one of {list(WEEKEND_RULES)}")
        return rule


class RawMessage(_Record):
    """One Slack message record exactly as received (`json`), plus typed fields for querying.

    `target_ts` is the ts of the message an edit (`message_changed`) or deletion
    (`message_deleted`) refers to; `thread_ts` of such an event is the target's thread.
    """

    day: str
    channel_id: str
    ts: str
    thread_ts: str | None = None
    user_id: str | None = None
    subtype: str | None = None
    text: str = ""
    target_ts: str | None = None
    raw_json: str = Field(alias="json", description="the record exactly as Slack gave it")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class QuarantineRecord(_Record):
    """A record that could not be read; kept with the reason so nothing is dropped silently."""

    source: str
    location: str
    reason: str
    raw: str = ""


class SourceRef(_Record):
    """A pointer to one Slack message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel_id: str
    ts: str


class ThreadMessage(_Record):
    """A cleaned message inside a thread, ready for classification."""

    thread_id: str
    channel_id: str
    ts: str
    user_id: str | None
    user_name: str
    clean_text: str
    is_new: bool = True
    mentions: list[str] = Field(default_factory=list)
    is_bot: bool = False


class Thread(_Record):
    """A conversation: a Slack-native thread, or top-level messages grouped by reconstruction.

    `thread_id` is `channel_id:root_ts` and stays stable across days. A thread's day-D record
    carries every message up to the end of D; `is_new` marks the ones posted (or edited) on D.
    """

    day: str
    thread_id: str
    channel_id: str
    root_ts: str
    kind: ThreadKind
    participants: list[str]
    first_ts: str
    last_ts: str
    messages: list[ThreadMessage]


class Item(_Record):
    """A typed unit of meaning found in a thread: a decision, an ask, a blocker...

    `item_id` = hash(thread_id, kind, normalised title), so it is stable across re-runs and days.
    `status` is `open` for asks and problems not yet closed, `resolved` once a later message closes
    them, `info` for kinds that never need closing (decisions, announcements, status updates).
    `is_new` is true when one of its sources (or its resolution) was posted on the item's day.
    """

    day: str
    item_id: str
    thread_id: str
    channel_id: str
    kind: ItemKind
    title: str
    detail: str = ""
    owners: list[str] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    due: str | None = None
    entities: list[str] = Field(default_factory=list)
    confidence: float = 0.5
    status: ItemStatus = "info"
    is_new: bool = True
    provider: str
    prompt_version: str
    sources: list[SourceRef] = Field(default_factory=list)


class OpenItem(_Record):
    """An item carried forward in an entity's memory until it is closed."""

    item_id: str
    kind: ItemKind
    title: str
    channel_id: str
    owners: list[str] = Field(default_factory=list)
    since_day: str
    last_seen_day: str
    sources: list[SourceRef] = Field(default_factory=list)


class EntitySummary(_Record):
    """What is known about a channel, project or person as of the end of `day`, from the items of
    one visibility scope: `public` (public channels, seen by everyone) or the id of the one private
    channel, DM or group DM whose members alone may see it."""

    day: str
    entity_id: str
    scope: str = PUBLIC_SCOPE
    entity_kind: EntityKind
    name: str
    summary: str
    open_items: list[OpenItem] = Field(default_factory=list)
    item_ids_today: list[str] = Field(default_factory=list)
    as_of: str
    provider: str = "local"


class BriefingLine(_Record):
    position: int
    section: BriefingSection
    item_id: str
    kind: ItemKind
    text: str
    reason: str
    score: float
    channel_id: str
    channel_name: str
    sources: list[SourceRef]
    permalinks: list[str]


class Briefing(_Record):
    day: str
    user_id: str
    user_name: str
    intro: str = ""
    #: one line when the day's data is incomplete (briefing_waiting.partial_note), else ""
    partial: str = ""
    lines: list[BriefingLine] = Field(default_factory=list)
    #: per section, lines left out by its cap ("+N more")
    more: dict[str, int] = Field(default_factory=dict)
    #: what the reader's preferences did (reader_preferences.applied_counts); empty without any
    preferences: dict[str, int] = Field(default_factory=dict)
    markdown: str = ""
    blocks_json: str = "[]"
    html: str = ""
    llm_tokens: int = 0

    @property
    def item_count(self) -> int:
        return len(self.lines)
