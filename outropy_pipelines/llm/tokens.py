"""Token counting with tiktoken, offline, and the pipeline-vs-naive token comparison.

tiktoken downloads its BPE files from the internet on first use; this module never does. It loads
the official `o200k_base` (GPT-4o, GPT-4.1, o-series) and `cl100k_base` (GPT-4, GPT-3.5) files that
the `bpe-openai` wheel ships (a dependency in pyproject.toml), after checking their SHA-256 against
the hashes tiktoken itself expects, and builds the encodings through tiktoken's own constructors.
When neither a bundled file nor tiktoken's cache has them, counts fall back to an estimate (UTF-8
bytes / 4) and `encoding_label()` says so.

API (reused by the scale benchmark):
- `count_tokens(text, model=None) -> int`
- `count_chat_tokens(messages, model=None) -> int`: a chat request, with OpenAI's per-message overhead
- `request_input_tokens(prompt, payload, output_model, model=None) -> int`: what one call sends
- `pipeline_vs_naive_tokens(store, day, user_ids, model=None) -> dict`: ours vs the naive design
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.util
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from outropy_pipelines.llm.prompts import NAIVE_BRIEFING, Prompt, render_messages, render_naive_messages

if TYPE_CHECKING:
    from outropy_pipelines.adapters.duckdb_store import DuckDBStore

DEFAULT_ENCODING = "o200k_base"

# what tiktoken downloads, and the SHA-256 it checks (tiktoken_ext/openai_public.py)
_OFFICIAL = {
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}
# per message: <|start|>role<|message|>...<|end|> (OpenAI cookbook), and the reply's priming
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3

_lock = threading.Lock()
_encodings: dict[str, Any] = {}  # name -> tiktoken.Encoding, or None when unavailable


def encoding_for_model(model: str | None) -> str:
    """tiktoken's encoding name for a model name; o200k_base for unknown (and local) models."""
    m = (model or "").lower()
    if m.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5")):
        return "o200k_base"
    if m.startswith(("gpt-4", "gpt-3.5", "text-embedding")):
        return "cl100k_base"
    return DEFAULT_ENCODING


def _bundled_file(name: str) -> Path | None:
    """The BPE file shipped in the bpe-openai wheel, located without importing its extension."""
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for candidate in (
            Path(folder) / "data" / f"{name}.tiktoken.gz",
            Path(folder) / "data" / f"{name}.tiktoken",
        ):
            if candidate.is_file():
                return candidate
    return None


@contextlib.contextmanager
def _tiktoken_cache_dir(path: str) -> Iterator[None]:
    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = path
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = old


def _tiktoken_cache_has(name: str) -> bool:
    url, _ = _OFFICIAL[name]
    key = hashlib.sha1(url.encode()).hexdigest()
    dirs = [os.environ.get("TIKTOKEN_CACHE_DIR"), os.environ.get("DATA_GYM_CACHE_DIR")]
    dirs.append(os.path.join(tempfile.gettempdir(), "data-gym-cache"))
    return any(d and os.path.exists(os.path.join(d, key)) for d in dirs)


def _load(name: str) -> Any:
    """A tiktoken Encoding, built offline; None when no verified BPE file is available."""
    import tiktoken

    if name not in _OFFICIAL:
        return None
    url, expected = _OFFICIAL[name]
    bundled = _bundled_file(name)
    if bundled is not None:
        raw = bundled.read_bytes()
        data = gzip.decompress(raw) if bundled.suffix == ".gz" else raw
        if hashlib.sha256(data).hexdigest() == expected:
            # tiktoken reads TIKTOKEN_CACHE_DIR/sha1(url) instead of downloading, after checking the hash
            cache = Path(tempfile.gettempdir()) / "outropy-tiktoken"
            cache.mkdir(parents=True, exist_ok=True)
            target = cache / hashlib.sha1(url.encode()).hexdigest()
            if not target.exists() or hashlib.sha256(target.read_bytes()).hexdigest() != expected:
                tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
                tmp.write_bytes(data)
                tmp.replace(target)
            with _tiktoken_cache_dir(str(cache)):
                return tiktoken.get_encoding(name)
    if _tiktoken_cache_has(name):  # a machine that has used tiktoken online before
        try:
            return tiktoken.get_encoding(name)
        except Exception:  # a broken cache: fall back to the estimate
            return None
    return None


def get_encoding(name: str = DEFAULT_ENCODING) -> Any:
    """The tiktoken Encoding `name`, or None when it cannot be had offline."""
    with _lock:
        if name not in _encodings:
            _encodings[name] = _load(name)
        return _encodings[name]


def is_exact(model: str | None = None) -> bool:
    """Whether counts for `model` come from tiktoken (True) or from the estimate (False)."""
    return get_encoding(encoding_for_model(model)) is not None


def encoding_label(model: str | None = None) -> str:
    name = encoding_for_model(model)
    if get_encoding(name) is not None:
        return f"tiktoken {name}"
    return "ESTIMATE (UTF-8 bytes / 4): no tiktoken BPE file available offline"


def count_tokens(text: str, model: str | None = None) -> int:
    """Tokens of `text` for `model`'s tokenizer (special-token text counted as plain text)."""
    if not text:
        return 0
    enc = get_encoding(encoding_for_model(model))
    if enc is None:
        return (len(text.encode("utf-8")) + 3) // 4
    return len(enc.encode_ordinary(text))


def count_chat_tokens(messages: Sequence[Mapping[str, str]], model: str | None = None) -> int:
    """Input tokens of a chat request: every message's content and role, plus the framing."""
    total = TOKENS_PER_REPLY
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key in ("role", "content", "name"):
            value = message.get(key)
            if value:
                total += count_tokens(str(value), model)
    return total


def schema_tokens(output_model: type[BaseModel], model: str | None = None) -> int:
    """Tokens of a structured-output JSON schema (providers bill the schema as input)."""
    from outropy_pipelines.llm.openai_provider import strict_json_schema

    return count_tokens(json.dumps(strict_json_schema(output_model), separators=(",", ":")), model)


def request_input_tokens(
    prompt: Prompt, payload: BaseModel, output_model: type[BaseModel] | None = None, model: str | None = None
) -> int:
    """Input tokens of one structured call: system prompt + delimited data (+ the output schema)."""
    total = count_chat_tokens(render_messages(prompt, payload), model)
    if output_model is not None:
        total += schema_tokens(output_model, model)
    return total


# ---------------------------------------------------------------------------------------------
# Ours vs naive
# ---------------------------------------------------------------------------------------------


def _capture_pipeline_calls(store: DuckDBStore, day: str) -> list[tuple[Prompt, BaseModel, type[BaseModel]]]:
    """Every (prompt, payload) the pipeline sends for `day`, as a remote provider would get them
    (prefiltered, redacted), from the day's stored threads, items and previous summaries."""
    from outropy_pipelines.domain.classification import classify_threads
    from outropy_pipelines.domain.days import shift_day
    from outropy_pipelines.domain.entity_memory import fold_entity_summaries
    from outropy_pipelines.llm.base import LLMClient, LLMProvider, LLMUsage, OutT
    from outropy_pipelines.llm.local_provider import LocalProvider
    from outropy_pipelines.stages.classification import load_items
    from outropy_pipelines.stages.directory import read_directory
    from outropy_pipelines.stages.entity_memory import load_entity_summaries
    from outropy_pipelines.stages.threading import load_threads

    captured: list[tuple[Prompt, BaseModel, type[BaseModel]]] = []
    local = LocalProvider()

    class _Recording(LLMProvider):
        """Answers with the local rules and records what a remote provider would have been sent."""

        name = "recording"
        model = "none"
        cacheable = False
        sends_data_off_machine = True  # so the client redacts exactly as for a real remote model
        billable = False

        def complete(
            self, prompt: Prompt, payload: BaseModel, output_model: type[OutT]
        ) -> tuple[OutT, LLMUsage]:
            captured.append((prompt, payload, output_model))
            return local.complete(prompt, payload, output_model)

    client = LLMClient(_Recording(), concurrency=1)
    directory = read_directory(store)
    channels = {c.channel_id: (c.name, c.kind) for c in directory.channels}
    user_names = {u.user_id: u.display_name for u in directory.users}
    classify_threads(load_threads(store, day), client, channels, user_names, day)
    fold_entity_summaries(
        day,
        load_entity_summaries(store, shift_day(day, -1)),
        load_items(store, day),
        {c.channel_id: c.name for c in directory.channels},
        user_names,
        client,
    )
    return captured


def naive_message_lines(store: DuckDBStore, day: str) -> list[tuple[str, str]]:
    """(channel_id, line) for every message posted on `day`, as the naive design would send them:
    `[#channel HH:MM] Name: text`, cleaned (markup resolved, edits applied, noise dropped)."""
    rows = store.query(
        """SELECT t.channel_id, t.ts, t.user_name, t.clean_text, coalesce(c.name, t.channel_id) AS channel
           FROM thread_messages t LEFT JOIN channels c ON c.channel_id = t.channel_id
           WHERE t.day = ? AND t.is_new ORDER BY CAST(t.ts AS DECIMAL(18, 6)), t.channel_id""",
        [day],
    )
    import datetime as dt

    lines = []
    for r in rows:
        when = dt.datetime.fromtimestamp(float(r["ts"]), dt.UTC).strftime("%H:%M")
        text = " ".join((r["clean_text"] or "").split())
        lines.append((r["channel_id"], f"[#{r['channel']} {when}] {r['user_name']}: {text}\n"))
    return lines


def pipeline_input_tokens(store: DuckDBStore, day: str, model: str | None = None) -> dict[str, Any]:
    """Ours: every classification call (one per thread that passes the prefilter) and every
    entity-summary call of `day`, each with its system prompt, delimited JSON data and output
    schema, exactly as sent to a remote model. It does not depend on the number of users."""
    calls = _capture_pipeline_calls(store, day)
    classify_tokens = summary_tokens = 0
    classify_calls = summary_calls = 0
    schema_cache: dict[type[BaseModel], int] = {}
    for prompt, payload, output_model in calls:
        if output_model not in schema_cache:
            schema_cache[output_model] = schema_tokens(output_model, model)
        n = count_chat_tokens(render_messages(prompt, payload), model) + schema_cache[output_model]
        if prompt.name == "classify_thread":
            classify_tokens += n
            classify_calls += 1
        else:
            summary_tokens += n
            summary_calls += 1
    return {
        "ours_calls": classify_calls + summary_calls,
        "ours_classify_calls": classify_calls,
        "ours_classify_tokens": classify_tokens,
        "ours_summary_calls": summary_calls,
        "ours_summary_tokens": summary_tokens,
        "ours_input_tokens": classify_tokens + summary_tokens,
    }


def naive_input_tokens(
    store: DuckDBStore, day: str, user_ids: Sequence[str], model: str | None = None
) -> dict[str, Any]:
    """Naive: for each of `user_ids`, one prompt holding all the messages of `day` the user can
    see (public channels, and the private channels, DMs and group DMs they are a member of), whole.
    A message line is counted once and summed per user: tiktoken splits text at line ends, so this
    equals counting each user's prompt as a whole to within rounding at line boundaries."""
    per_channel: dict[str, int] = {}
    for channel_id, line in naive_message_lines(store, day):
        per_channel[channel_id] = per_channel.get(channel_id, 0) + count_tokens(line, model)
    kinds = {r["channel_id"]: r["kind"] for r in store.query("SELECT channel_id, kind FROM channels")}
    members: dict[str, set[str]] = {}
    for r in store.query("SELECT channel_id, user_id FROM channel_members"):
        members.setdefault(r["user_id"], set()).add(r["channel_id"])
    framing = count_chat_tokens(render_naive_messages(""), model)
    public = [c for c in per_channel if kinds.get(c, "public") == "public"]
    public_tokens = sum(per_channel[c] for c in public)
    naive = naive_calls = 0
    for uid in user_ids:
        mine = members.get(uid, set())
        visible = public_tokens + sum(n for c, n in per_channel.items() if c in mine and c not in public)
        if visible:
            naive += framing + visible
            naive_calls += 1
    return {"naive_calls": naive_calls, "naive_input_tokens": naive}


def pipeline_vs_naive_tokens(
    store: DuckDBStore, day: str, user_ids: Sequence[str], model: str | None = None
) -> dict[str, Any]:
    """LLM input tokens of `day`: our pipeline against the naive design.

    Ours: every classification call (one per thread that passes the prefilter) and every
    entity-summary call of the day, each with its system prompt, delimited JSON data and output
    schema, exactly as sent to a remote model; it does not depend on the number of users.
    Naive: for each of `user_ids`, one prompt holding all the messages of the day the user can see
    (public channels, and the private channels, DMs and group DMs they are a member of), whole.
    A message line is counted once and summed per user: tiktoken splits text at line ends, so this
    equals counting each user's prompt as a whole to within rounding at line boundaries."""
    ours = pipeline_input_tokens(store, day, model)
    naive = naive_input_tokens(store, day, user_ids, model)
    return {
        "day": day,
        "encoding": encoding_label(model),
        "exact": is_exact(model),
        "users": len(user_ids),
        **ours,
        **naive,
        "naive_prompt_version": NAIVE_BRIEFING.version,
        "ratio": (naive["naive_input_tokens"] / ours["ours_input_tokens"])
        if ours["ours_input_tokens"]
        else None,
    }
