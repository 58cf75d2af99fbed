"""Token counting with tiktoken, offline.

tiktoken downloads its BPE files from the internet on first use; this module never does. It loads
the official `o200k_base` (GPT-4o, GPT-4.1, o-series) and `cl100k_base` (GPT-4, GPT-3.5) files that
the `bpe-openai` wheel ships (a dependency in pyproject.toml), after checking their SHA-256 against
the hashes tiktoken itself expects, and builds the encodings through tiktoken's own constructors.
When neither a bundled file nor tiktoken's cache has them, counts fall back to an estimate (UTF-8
bytes / 4) and `encoding_label()` says so.

API (the openai provider counts a call when the server reports no usage; the benchmarks count
what the pipeline sends):
- `count_tokens(text, model=None) -> int`
- `count_chat_tokens(messages, model=None) -> int`: a chat request, with OpenAI's per-message overhead
- `request_input_tokens(prompt, payload, output_model, model=None) -> int`: what one call sends
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
from typing import Any

from pydantic import BaseModel

from outropy_pipelines.llm.prompts import Prompt, render_messages
from outropy_pipelines.llm.response_schema import strict_json_schema

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
    return count_tokens(json.dumps(strict_json_schema(output_model), separators=(",", ":")), model)


def request_input_tokens(
    prompt: Prompt, payload: BaseModel, output_model: type[BaseModel] | None = None, model: str | None = None
) -> int:
    """Input tokens of one structured call: system prompt + delimited data (+ the output schema)."""
    total = count_chat_tokens(render_messages(prompt, payload), model)
    if output_model is not None:
        total += schema_tokens(output_model, model)
    return total
