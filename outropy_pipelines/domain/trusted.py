"""Building pydantic models from values the pipeline computed itself, without validating them again.

Validation is what a model is for at the edges (an LLM's answer, a cache row, a file). Inside a stage,
thousands of inputs, outputs and items are built from values that are already of the right type
(strings from a validated `Thread`, lists built a line above): validating them again costs more than
the work itself. `trusted(Model, values)` makes the same object the validated constructor would have
made from those values (same `__dict__`, in declaration order, same fields set), at a fraction of
the cost. It is not `model_construct`, which handles defaults and aliases and is slower than
validation in pydantic 2.

The caller guarantees: `values` holds every field of the model, in declaration order, each of its
declared type; nothing else keeps a reference to `values` or to the lists inside it. Checked against
validation in `outropy_pipelines_tests/test_trusted.py`.

Since every field is set, every object of a model shares one fields-set (all its field names): a
fresh set per object was ~700 bytes, a third of a thread message's size. Pydantic only ever adds a
field's name to it (on assignment), which changes nothing, and copies it when it copies a model.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__
# model -> the set of all its field names, shared by every object `trusted` builds (see above)
_all_fields: dict[type[BaseModel], set[str]] = {}


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """`cls(**values)` without validation; see the module docstring for the caller's guarantees."""
    obj = _new(cls)
    _set(obj, "__dict__", values)
    fields_set = _all_fields.get(cls)
    if fields_set is None:
        fields_set = _all_fields[cls] = set(cls.model_fields)
    _set(obj, "__pydantic_fields_set__", fields_set)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj
