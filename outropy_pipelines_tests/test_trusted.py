"""`trusted`: the models the stages build without validation are the models validation would build.

Equal, same JSON, same field order in `__dict__` (which serialisation follows), same fields set, same
hash for frozen models; and what the classification and memory code builds that way re-validates to
itself.
"""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from outropy_pipelines.domain.classification import build_classify_input, classify_threads
from outropy_pipelines.domain.contracts import (
    ClassifyThreadInput,
    ClassifyThreadOutput,
    EntityItemInput,
    ExtractedItem,
    SummarizeEntityInput,
    ThreadMessageInput,
)
from outropy_pipelines.domain.entity_memory import fold_entity_summaries
from outropy_pipelines.domain.item_rules.thread_classifier import classify_thread
from outropy_pipelines.domain.models import EntitySummary, Item, OpenItem, SourceRef, Thread, ThreadMessage
from outropy_pipelines.domain.trusted import trusted
from outropy_pipelines.llm.base import LLMClient
from outropy_pipelines.llm.local_provider import LocalProvider
from outropy_pipelines.llm.prompts import CLASSIFY_THREAD

SOURCE = {"channel_id": "C1", "ts": "1793800000.000100"}
ITEM = {
    "day": "2026-11-04", "item_id": "0123456789abcdef", "thread_id": "C1:1793800000.000100",
    "channel_id": "C1", "kind": "action_item", "title": "Bob to rotate the key", "detail": "",
    "owners": ["U2"], "mentions": [], "due": "2026-11-06", "entities": ["Atlas"], "confidence": 0.85,
    "status": "open", "is_new": True, "provider": "local", "prompt_version": CLASSIFY_THREAD.version,
    "sources": [SourceRef(**SOURCE)],
}  # fmt: skip
OPEN = {
    "item_id": "0123456789abcdef", "kind": "action_item", "title": "Bob to rotate the key", "channel_id": "C1",
    "owners": ["U2"], "since_day": "2026-11-03", "last_seen_day": "2026-11-04", "sources": [SourceRef(**SOURCE)],
}  # fmt: skip
MESSAGE = {
    "id": "m1",
    "author_id": "U1",
    "author_name": "Alice",
    "text": "hi",
    "is_new": True,
    "mentions": [],
}
CASES: list[tuple[type[BaseModel], dict]] = [
    (SourceRef, SOURCE),
    (Item, ITEM),
    (OpenItem, OPEN),
    (
        EntitySummary,
        {
            "day": "2026-11-04",
            "entity_id": "channel:C1",
            "scope": "G1PRIVATE",
            "entity_kind": "channel",
            "name": "eng",
            "summary": "s",
            "open_items": [OpenItem(**OPEN)],
            "item_ids_today": ["0123456789abcdef"],
            "as_of": "2026-11-04",
            "provider": "local",
        },
    ),
    (ThreadMessageInput, MESSAGE),
    (
        ClassifyThreadInput,
        {
            "thread_id": "t",
            "channel_id": "C1",
            "channel_name": "eng",
            "channel_kind": "public",
            "day": "2026-11-04",
            "people": {"U1": "Alice"},
            "messages": [ThreadMessageInput(**MESSAGE)],
        },
    ),
    (
        ExtractedItem,
        {
            "kind": "question",
            "title": "q?",
            "detail": "",
            "owners": ["U2"],
            "mentions": ["U2"],
            "due": None,
            "entities": [],
            "confidence": 0.8,
            "status": "open",
            "source_ids": ["m1"],
        },
    ),
    (
        EntityItemInput,
        {
            "item_id": "i",
            "kind": "blocker",
            "title": "t",
            "status": "open",
            "channel_name": "eng",
            "owners": [],
        },
    ),
]


@pytest.mark.parametrize(("model", "values"), CASES, ids=[c[0].__name__ for c in CASES])
def test_trusted_builds_what_validation_builds(model, values):
    validated = model(**values)
    built = trusted(model, dict(values))
    assert built == validated
    assert built.model_dump_json() == validated.model_dump_json()
    assert built.model_dump() == validated.model_dump()
    assert list(built.__dict__) == list(validated.__dict__) == list(model.model_fields)
    assert built.model_fields_set == validated.model_fields_set
    assert repr(built) == repr(validated)
    if model.model_config.get("frozen"):
        assert hash(built) == hash(validated)
    first = next(iter(values))
    assert built.model_copy(update={first: validated.__dict__[first]}) == validated


def _revalidates(model: BaseModel) -> None:
    """The model is what validating its own values gives, field order included."""
    again = type(model).model_validate(model.model_dump())
    assert again == model and list(model.__dict__) == list(type(model).model_fields)


def test_classification_inputs_outputs_and_items_revalidate_to_themselves():
    day = "2026-11-04"
    texts = [
        ("U1", "Decision: we'll ship the billing page behind a flag"),
        ("U1", "<@U2> can you update the runbook by Friday?"),
        ("U2", "<@U3> what's the ETA on the search index?"),
        ("U3", "I'm blocked on the API keys, can't deploy until security approves"),
    ]
    messages = [
        ThreadMessage(
            thread_id="C1:1793800000.000100", channel_id="C1", ts=f"{1793800000 + 60 * n}.000100", user_id=u,
            user_name=u, clean_text=t, mentions=re.findall(r"<@(U\w+)>", t), is_new=n > 0,
        )
        for n, (u, t) in enumerate(texts)
    ]  # fmt: skip
    thread = Thread(
        day=day, thread_id="C1:1793800000.000100", channel_id="C1", root_ts=messages[0].ts,
        kind="slack_thread", participants=["U1", "U2", "U3"], first_ts=messages[0].ts,
        last_ts=messages[-1].ts, messages=messages,
    )  # fmt: skip
    names = {"U1": "Alice Chen", "U2": "Bob Diaz", "U3": "Carol Evans"}
    payload, id_map = build_classify_input(thread, "proj-atlas", "public", names)
    _revalidates(payload)
    for m in payload.messages:
        _revalidates(m)
    for ref in id_map.values():
        _revalidates(ref)
    output = classify_thread(payload)
    assert isinstance(output, ClassifyThreadOutput) and len(output.items) >= 4
    _revalidates(output)
    for extracted in output.items:
        _revalidates(extracted)
    result = classify_threads(
        [thread], LLMClient(LocalProvider()), {"C1": ("proj-atlas", "public")}, names, day
    )
    assert len(result.items) >= 4
    for item in result.items:
        _revalidates(item)

    summaries = fold_entity_summaries(
        day, [], result.items, {"C1": "proj-atlas"}, names, LLMClient(LocalProvider()), public_channels={"C1"}
    )
    assert summaries and any(s.open_items for s in summaries)
    for summary in summaries:
        _revalidates(summary)
        for open_item in summary.open_items:
            _revalidates(open_item)


def test_entity_inputs_revalidate_to_themselves():
    seen: list[SummarizeEntityInput] = []

    class Recording(LocalProvider):
        def complete(self, prompt, payload, output_model):
            seen.append(payload)
            return super().complete(prompt, payload, output_model)

    item = Item(**ITEM)
    fold_entity_summaries(
        "2026-11-04", [], [item], {"C1": "eng"}, {"U2": "Bob"}, LLMClient(Recording()), public_channels={"C1"}
    )
    assert seen
    for payload in seen:
        _revalidates(payload)
        for entity_item in (*payload.items_today, *payload.open_items):
            _revalidates(entity_item)


def test_items_and_summaries_loaded_from_duckdb_are_what_validation_gives(sample_run):
    from outropy_pipelines.store.entity_summaries import load_entity_summaries
    from outropy_pipelines.store.items import load_items

    loaded_items = loaded_summaries = 0
    for day in sample_run.days:
        for item in load_items(sample_run.store, day):
            _revalidates(item)
            assert item.sources and item.day == day
            for source in item.sources:
                _revalidates(source)
            loaded_items += 1
        for summary in load_entity_summaries(sample_run.store, day):
            _revalidates(summary)
            for open_item in summary.open_items:
                _revalidates(open_item)
                for source in open_item.sources:
                    _revalidates(source)
            loaded_summaries += 1
    assert loaded_items > 100 and loaded_summaries > 100
    assert load_items(sample_run.store, sample_run.days[0], new_only=True)
