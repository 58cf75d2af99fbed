"""`openai`: a real model through the openai SDK, against any OpenAI-compatible endpoint.

OpenAI, Azure OpenAI (its `/openai/v1/` endpoint), vLLM, Ollama and llama.cpp's server all speak
`POST {base_url}/chat/completions` with a JSON-schema `response_format`. One call per input:

- messages: the prompt's instructions as the system message, the payload as delimited JSON data in
  the user message (`prompts.render_messages`); payloads are redacted again here (idempotent) even
  though `LLMClient` already did, so no caller can send a credential by going around the client;
- `response_format` = the output model's strict JSON schema (what `chat.completions.parse` sends);
  the answer is validated with pydantic here, so an invalid answer keeps its usage and raw text;
- transport faults (429 honouring Retry-After, 408/409/5xx, timeouts, dropped connections) are
  retried by the SDK with exponential backoff, `max_retries` times, each attempt bounded by
  `timeout` seconds;
- malformed JSON or an answer that violates the schema is retried once, with the validation error
  in the conversation; a second bad answer is an LLMError (the caller records the input as failed);
- 401/403/404 (bad key, no access, unknown model) and an unreachable server are LLMFatalError:
  every other call would fail the same way, so the run stops with a clear message.

The API key (OPENAI_API_KEY, which the Dagster resource takes as an `EnvVar`) is given only to the
SDK client; it never appears in an error message, a log line, DuckDB or Dagster metadata.
"""

from __future__ import annotations

import threading
from typing import Any

import openai
from pydantic import BaseModel, ValidationError

from outropy_pipelines.domain.redaction import redact, redact_model
from outropy_pipelines.llm.base import LLMError, LLMFatalError, LLMProvider, LLMUsage, OutT
from outropy_pipelines.llm.prompts import Prompt, render_messages
from outropy_pipelines.llm.response_schema import response_format_for
from outropy_pipelines.llm.token_count import count_chat_tokens, count_tokens

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_MAX_RETRIES = 3
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: a placeholder key for local servers (vLLM, Ollama, llama.cpp) that do not check keys
NO_KEY = "no-key-needed"


def _validation_summary(exc: ValidationError, limit: int = 5) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    more = f" (+{exc.error_count() - limit} more)" if exc.error_count() > limit else ""
    return "; ".join(parts) + more


class OpenAIProvider(LLMProvider):
    """Structured outputs from any OpenAI-compatible chat-completions endpoint."""

    name = "openai"
    cacheable = True
    sends_data_off_machine = True
    billable = True

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_retries: int = DEFAULT_MAX_RETRIES,
        temperature: float | None = None,
    ) -> None:
        self.model = model or DEFAULT_MODEL
        self.base_url = base_url.rstrip("/") if base_url else None
        key = (api_key or "").strip()
        if not key:
            if self.base_url is None:
                raise ValueError(
                    "OUTROPY_LLM_PROVIDER=openai needs an API key: set OPENAI_API_KEY "
                    "(or OPENAI_BASE_URL for a local server that does not check keys)"
                )
            key = NO_KEY
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.temperature = temperature
        self._attempts = threading.local()
        http_client = openai.DefaultHttpxClient(event_hooks={"request": [self._on_request]})
        self._client = openai.OpenAI(
            api_key=key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            http_client=http_client,
        )

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIProvider(model={self.model!r}, base_url={self.base_url!r})"

    @property
    def endpoint(self) -> str:
        return self.base_url or OPENAI_DEFAULT_BASE_URL

    @property
    def cache_namespace(self) -> str:
        # the same model name on two servers (e.g. two vLLM deployments) may be two models
        if self.base_url is None or self.base_url == OPENAI_DEFAULT_BASE_URL:
            return self.name
        return f"{self.name}@{self.base_url}"

    def _on_request(self, request: Any) -> None:
        self._attempts.n = getattr(self._attempts, "n", 0) + 1

    def _create(self, messages: list[dict[str, str]], output_model: type[BaseModel]) -> Any:
        options: dict[str, Any] = {}
        if self.temperature is not None:
            options["temperature"] = self.temperature
        try:
            return self._client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                response_format=response_format_for(output_model),  # type: ignore[arg-type]
                **options,
            )
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise LLMFatalError(
                f"{self.endpoint} refused the credentials (HTTP {exc.status_code}): check OPENAI_API_KEY"
            ) from None
        except openai.NotFoundError:
            raise LLMFatalError(
                f"{self.endpoint} has no chat-completions endpoint or no model {self.model!r} (HTTP 404): "
                "check OPENAI_BASE_URL and OUTROPY_LLM_MODEL"
            ) from None
        except openai.APITimeoutError:
            raise LLMError(
                f"timed out after {self.max_retries + 1} attempt(s) of {self.timeout:g}s each"
            ) from None
        except openai.APIConnectionError:
            raise LLMFatalError(
                f"cannot reach {self.endpoint} after {self.max_retries + 1} attempt(s): check OPENAI_BASE_URL"
            ) from None
        except openai.RateLimitError:
            raise LLMError(f"rate limited (HTTP 429) after {self.max_retries + 1} attempt(s)") from None
        except openai.APIStatusError as exc:
            raise LLMError(f"HTTP {exc.status_code} from {self.endpoint} after retries") from None

    def _usage(self, response: Any, messages: list[dict[str, str]], content: str) -> tuple[int, int]:
        usage = getattr(response, "usage", None)
        prompt_tokens = getattr(usage, "prompt_tokens", None) if usage is not None else None
        completion_tokens = getattr(usage, "completion_tokens", None) if usage is not None else None
        if prompt_tokens is not None and completion_tokens is not None:
            return int(prompt_tokens), int(completion_tokens)
        return count_chat_tokens(messages, self.model), count_tokens(content, self.model)

    def complete(self, prompt: Prompt, payload: BaseModel, output_model: type[OutT]) -> tuple[OutT, LLMUsage]:
        messages = render_messages(prompt, redact_model(payload))
        self._attempts.n = 0
        total = LLMUsage(requests=0)
        error = ""
        for attempt in (1, 2):
            try:
                response = self._create(messages, output_model)
            except LLMError as exc:
                exc.usage = total + LLMUsage(requests=0, http_attempts=self._attempts.n)
                raise
            choice = response.choices[0] if response.choices else None
            message = choice.message if choice is not None else None
            content = (message.content or "") if message is not None else ""
            refusal = getattr(message, "refusal", None) if message is not None else None
            input_tokens, output_tokens = self._usage(response, messages, content)
            total = total + LLMUsage(input_tokens, output_tokens, requests=1)
            try:
                if refusal:
                    raise ValueError(f"the model refused: {refusal[:200]}")
                output = output_model.model_validate_json(content)
            except ValidationError as exc:
                error = _validation_summary(exc)
            except ValueError as exc:
                error = str(exc)
            else:
                return output, total + LLMUsage(requests=0, http_attempts=self._attempts.n)
            if attempt == 1:
                messages = [
                    *messages,
                    {"role": "assistant", "content": content},
                    {
                        "role": "user",
                        "content": "Your answer is not valid JSON for the required schema: "
                        f"{error}. Answer again with only the JSON object, following the schema exactly.",
                    },
                ]
        raise LLMError(
            redact(f"invalid output from {self.model} after one retry: {error}"),
            usage=total + LLMUsage(requests=0, http_attempts=self._attempts.n),
        )
