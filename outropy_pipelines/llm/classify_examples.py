"""The few-shot examples of the classification prompt (`classify_examples.json`).

Each example is an invented conversation, written in the exact shape the provider sends
(`ClassifyThreadInput`), with the answer expected for it (`ClassifyThreadOutput`). They are
modelled on typical cases of the development set (a failure asked about in the channel, a request
and a commitment, a decision, a welcome, an outage) but hold none of its text: that export may not
be shipped. The examples are validated against the real models when they are loaded, so they cannot
drift from the schema; the tests also check that every cited id and owner is in its conversation.
Change an example -> bump `CLASSIFY_THREAD.version`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from outropy_pipelines.domain.contracts import ClassifyThreadInput, ClassifyThreadOutput

EXAMPLES_FILE = "classify_examples.json"


@dataclass(frozen=True)
class ClassifyExample:
    shows: str  # what the example teaches, one line
    conversation: ClassifyThreadInput
    answer: ClassifyThreadOutput


@cache
def classify_examples() -> tuple[ClassifyExample, ...]:
    """The examples, validated (a pydantic ValidationError names the first one that is not valid)."""
    raw = json.loads(resources.files(__package__).joinpath(EXAMPLES_FILE).read_text(encoding="utf-8"))
    return tuple(
        ClassifyExample(
            shows=str(entry["shows"]),
            conversation=ClassifyThreadInput.model_validate(entry["conversation"]),
            answer=ClassifyThreadOutput.model_validate(entry["answer"]),
        )
        for entry in raw
    )
