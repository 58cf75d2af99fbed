"""Estimated LLM cost from a price table: USD per million input and output tokens.

Defaults cover common OpenAI models (list prices; check yours). `OUTROPY_LLM_PRICES` adds or
overrides entries, as JSON: `{"my-model": {"input": 0.2, "output": 0.8}}` or `{"my-model": [0.2, 0.8]}`.
A model matches its exact name, else the longest table entry it starts with
(`gpt-4o-mini-2024-07-18` -> `gpt-4o-mini`). No match: the cost is unknown (None), never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelPrice:
    model: str
    input_per_million: float
    output_per_million: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_million + output_tokens * self.output_per_million) / 1_000_000

    def describe(self) -> str:
        return (
            f"{self.model}: ${self.input_per_million:g} in / ${self.output_per_million:g} out per 1M tokens"
        )


DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "o4-mini": (1.10, 4.40),
    "o3-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "rules-v1": (0.0, 0.0),  # the local provider
}


def parse_prices(text: str | None) -> dict[str, tuple[float, float]]:
    """The price table: defaults, overridden by `text` (the JSON of OUTROPY_LLM_PRICES)."""
    table = dict(DEFAULT_PRICES)
    if not text or not text.strip():
        return table
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        for model, value in data.items():
            if isinstance(value, dict):
                pair = (float(value["input"]), float(value["output"]))
            elif isinstance(value, list | tuple) and len(value) == 2:
                pair = (float(value[0]), float(value[1]))
            else:
                raise ValueError(f"price of {model!r} must be {{'input': x, 'output': y}} or [x, y]")
            if pair[0] < 0 or pair[1] < 0:
                raise ValueError(f"price of {model!r} is negative")
            table[str(model)] = pair
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"OUTROPY_LLM_PRICES is not a valid price table ({exc}); expected JSON like "
            '{"gpt-4o-mini": {"input": 0.15, "output": 0.6}} in USD per million tokens'
        ) from None
    return table


def price_for(model: str, table: dict[str, tuple[float, float]] | None = None) -> ModelPrice | None:
    table = DEFAULT_PRICES if table is None else table
    if model in table:
        return ModelPrice(model, *table[model])
    matches = [name for name in table if model.startswith(name)]
    if not matches:
        return None
    best = max(matches, key=len)
    return ModelPrice(best, *table[best])
