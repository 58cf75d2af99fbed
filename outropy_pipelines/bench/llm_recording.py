"""What the pipeline sends to a model, recorded while the real definitions run.

`RecordingLLMResource` stands in for the `llm` resource: its client answers with the offline
local rules, but announces itself as a provider that sends data off the machine, so the client
redacts every input exactly as it would for a remote model, and each request is counted as a
remote model would receive it (system prompt, delimited JSON data, output schema, chat framing)
and appended to a JSON-lines file: `{"day", "prompt", "tokens"}`. Worker processes append to the
same file (one short line per write).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel

from outropy_pipelines.defs.resources import LLMResource
from outropy_pipelines.domain.contracts import OutT
from outropy_pipelines.llm.base import LLMClient, LLMProvider, LLMUsage
from outropy_pipelines.llm.local_provider import LocalProvider
from outropy_pipelines.llm.prompts import CLASSIFY_THREAD, Prompt
from outropy_pipelines.llm.token_count import request_input_tokens
from outropy_pipelines.store import DuckDBStore


class RecordingProvider(LLMProvider):
    """Answers with the local rules; records the input tokens a remote model would be sent."""

    name = "recording"
    cacheable = False
    sends_data_off_machine = True  # so the client redacts exactly as for a remote model
    billable = False
    parallel = False

    def __init__(self, requests_file: str, tokenizer_model: str) -> None:
        self.requests_file = requests_file
        self.tokenizer_model = tokenizer_model
        self.model = tokenizer_model
        self._local = LocalProvider()

    def complete(self, prompt: Prompt, payload: BaseModel, output_model: type[OutT]) -> tuple[OutT, LLMUsage]:
        tokens = request_input_tokens(prompt, payload, output_model, self.tokenizer_model)
        line = json.dumps({"day": getattr(payload, "day", ""), "prompt": prompt.name, "tokens": tokens})
        with open(self.requests_file, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return self._local.complete(prompt, payload, output_model)


class RecordingLLMResource(LLMResource):
    """The `llm` resource of a measured run: see the module docstring."""

    requests_file: str
    tokenizer_model: str = "gpt-4o-mini"

    def client(self, store: DuckDBStore | None, run_id: str | None = None) -> LLMClient:
        return LLMClient(RecordingProvider(self.requests_file, self.tokenizer_model), concurrency=1)


def recorded_tokens(requests_file: str | Path) -> dict[str, dict[str, int]]:
    """Per day: calls and input tokens of classification and of entity summaries."""
    out: dict[str, dict[str, int]] = defaultdict(
        lambda: {"classify_calls": 0, "classify_tokens": 0, "summary_calls": 0, "summary_tokens": 0}
    )
    path = Path(requests_file)
    if not path.exists():
        return {}
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        kind = "classify" if r["prompt"] == CLASSIFY_THREAD.name else "summary"
        out[r["day"]][f"{kind}_calls"] += 1
        out[r["day"]][f"{kind}_tokens"] += int(r["tokens"])
    return dict(out)
