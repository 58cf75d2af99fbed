"""The structured-output schema a model is asked to answer in (OpenAI's strict JSON-schema form)."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of `model` in OpenAI's strict structured-output form (as
    `chat.completions.parse` sends it): every object lists all its properties as required and
    allows no others; `default: null` and pydantic's generated `title`s are dropped."""
    schema = copy.deepcopy(model.model_json_schema())

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["required"] = list(node["properties"])
                node["additionalProperties"] = False
            if "default" in node and node["default"] is None:
                del node["default"]
            if isinstance(node.get("title"), str):  # pydantic's generated titles: tokens, no meaning
                del node["title"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def response_format_for(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": model.__name__, "schema": strict_json_schema(model), "strict": True},
    }
