"""What the domain asks of a language model: the typed tasks and the two interfaces that answer them.

The domain owns this contract; providers (`outropy_pipelines.llm`) implement it. A
`ThreadClassifier` turns `ClassifyThreadInput`s into `ClassifyThreadOutput`s, an `EntitySummariser`
turns `SummarizeEntityInput`s into `SummarizeEntityOutput`s; each answer comes back as a
`TaskOutcome` (the output, or the error that stopped it), in input order. Providers see only these
models.

The message text inside an input is data, never instructions: providers pass it delimited, and the
domain rejects any output that cites a message id that was not in the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from outropy_pipelines.domain.models import ItemKind, ItemStatus

OutT = TypeVar("OutT", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThreadMessageInput(_Strict):
    id: str = Field(description="short message id within this thread, e.g. m3")
    author_id: str
    author_name: str
    text: str
    is_new: bool = Field(description="posted on the day being classified")
    mentions: list[str] = Field(default_factory=list, description="user ids mentioned in the message")


class ClassifyThreadInput(_Strict):
    thread_id: str
    channel_id: str
    channel_name: str
    channel_kind: str
    day: str
    people: dict[str, str] = Field(description="user id -> display name of everyone in the thread")
    messages: list[ThreadMessageInput]


class ExtractedItem(_Strict):
    kind: ItemKind
    title: str = Field(description="one short sentence, self-contained")
    detail: str = ""
    owners: list[str] = Field(default_factory=list, description="user ids who must act or answer")
    mentions: list[str] = Field(default_factory=list, description="user ids the item concerns")
    due: str | None = Field(default=None, description="ISO date if a deadline is stated")
    entities: list[str] = Field(default_factory=list, description="project names the item is about")
    confidence: float = Field(ge=0.0, le=1.0)
    status: ItemStatus
    source_ids: list[str] = Field(min_length=1, description="ids of the messages this item comes from")


class ClassifyThreadOutput(_Strict):
    items: list[ExtractedItem]


class EntityItemInput(_Strict):
    item_id: str
    kind: ItemKind
    title: str
    status: ItemStatus
    channel_name: str
    owners: list[str] = Field(default_factory=list)


class SummarizeEntityInput(_Strict):
    entity_id: str
    entity_kind: str
    name: str
    day: str
    previous_summary: str
    items_today: list[EntityItemInput]
    open_items: list[EntityItemInput]


class SummarizeEntityOutput(_Strict):
    summary: str = Field(description="two to four sentences on what changed and what is still open")


class BriefingIntroInput(_Strict):
    user_name: str
    day: str
    lines: list[str]


class BriefingIntroOutput(_Strict):
    intro: str


# ---------------------------------------------------------------------------------------------
# The interfaces
# ---------------------------------------------------------------------------------------------


@dataclass
class TaskOutcome(Generic[OutT]):
    """The answer to one task input: `output` on success, else `error` (why there is none).
    `cached`: the answer was looked up, not computed again."""

    output: OutT | None
    error: str | None = None
    cached: bool = False


class ThreadClassifier(Protocol):
    """Extracts typed items from conversations, one answer per input."""

    @property
    def provider_name(self) -> str:
        """Who answered (recorded on every item)."""
        ...

    @property
    def classify_prompt_version(self) -> str:
        """The version of the classification instructions (recorded on every item)."""
        ...

    def classify_threads(
        self, inputs: Sequence[ClassifyThreadInput]
    ) -> Sequence[TaskOutcome[ClassifyThreadOutput]]:
        """Answers in input order; a failed input is an outcome with an error, not an exception."""
        ...


class EntitySummariser(Protocol):
    """Writes the running summary of a channel, project or person, one answer per input."""

    @property
    def provider_name(self) -> str:
        """Who answered (recorded on every summary)."""
        ...

    def summarize_entities(
        self, inputs: Sequence[SummarizeEntityInput]
    ) -> Sequence[TaskOutcome[SummarizeEntityOutput]]:
        """Answers in input order; a failed input is an outcome with an error, not an exception."""
        ...
