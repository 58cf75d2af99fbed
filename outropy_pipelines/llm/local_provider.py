"""`local`: a deterministic, offline provider (no network, no key).

Each prompt is answered by the English rules of `domain/item_rules/`: `classify_thread` by the
thread classifier (typed items from cue patterns, owners, due dates and titles), `summarize_entity`
by an extractive summary of today's items and what is still open, `briefing_intro` by one counting
sentence. This module only dispatches: it coerces the payload to the prompt's input model, checks
the output model, and reports a usage estimate (characters / 4) as a model's would be.
"""

from __future__ import annotations

from pydantic import BaseModel

from outropy_pipelines.domain.contracts import (
    BriefingIntroInput,
    BriefingIntroOutput,
    ClassifyThreadInput,
    SummarizeEntityInput,
    SummarizeEntityOutput,
)
from outropy_pipelines.domain.item_rules.summaries import briefing_intro, summarize_entity
from outropy_pipelines.domain.item_rules.thread_classifier import classify_thread
from outropy_pipelines.domain.trusted import trusted
from outropy_pipelines.llm.base import LLMError, LLMProvider, LLMUsage, OutT
from outropy_pipelines.llm.prompts import Prompt


def _as(model: type[BaseModel], payload: BaseModel) -> BaseModel:
    if isinstance(payload, model):
        return payload
    try:
        return model.model_validate(payload.model_dump() if isinstance(payload, BaseModel) else payload)
    except ValueError as exc:
        raise LLMError(f"local provider: payload is not a {model.__name__}: {exc}") from exc


class LocalProvider(LLMProvider):
    """Deterministic, offline and free: rules for classification, extractive summaries."""

    name = "local"
    model = "rules-v1"
    cacheable = False
    sends_data_off_machine = False
    billable = False
    parallel = False  # CPU-bound rules: threads would only contend for the GIL

    def complete(self, prompt: Prompt, payload: BaseModel, output_model: type[OutT]) -> tuple[OutT, LLMUsage]:
        task = prompt.name
        out: BaseModel
        if task == "classify_thread":
            cinp = _as(ClassifyThreadInput, payload)
            assert isinstance(cinp, ClassifyThreadInput)
            out = classify_thread(cinp)
            in_chars = (
                len(prompt.system) + sum(len(m.text) + 48 for m in cinp.messages) + 32 * len(cinp.people)
            )
            out_chars = 14 + sum(len(i.title) + 120 for i in out.items)  # type: ignore[attr-defined]
        elif task == "summarize_entity":
            sinp = _as(SummarizeEntityInput, payload)
            assert isinstance(sinp, SummarizeEntityInput)
            summary = summarize_entity(sinp)
            out = trusted(SummarizeEntityOutput, {"summary": summary})
            in_chars = (
                len(prompt.system)
                + len(sinp.previous_summary)
                + sum(len(i.title) + 80 for i in (*sinp.items_today, *sinp.open_items))
            )
            out_chars = len(summary) + 16
        elif task == "briefing_intro":
            binp = _as(BriefingIntroInput, payload)
            assert isinstance(binp, BriefingIntroInput)
            intro = briefing_intro(binp)
            out = BriefingIntroOutput(intro=intro)
            in_chars = len(prompt.system) + sum(len(x) + 4 for x in binp.lines)
            out_chars = len(intro) + 12
        else:
            raise LLMError(f"local provider has no rules for prompt {task!r}")
        if not isinstance(out, output_model):
            try:
                out = output_model.model_validate(out.model_dump())
            except ValueError as exc:
                raise LLMError(f"local provider: {task} cannot produce {output_model.__name__}") from exc
        return out, LLMUsage(input_tokens=in_chars // 4, output_tokens=out_chars // 4)  # type: ignore[return-value]
