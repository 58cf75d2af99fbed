"""One `str` object per distinct value of the rows a store function loads back into models.

DuckDB's results, and JSON decoding, make a new `str` for every value of every row. For the
columns of few distinct values (ids, kinds, days, names) that thousands of loaded models hold, one
object per value is most of what they take: equal strings are interchangeable, so nothing else
changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

S = TypeVar("S", str, None)


class SharedStrings:
    """`strings(value)` is the first `str` equal to `value` that these strings were given."""

    def __init__(self) -> None:
        self._first: dict[str, str] = {}

    def __call__(self, value: S) -> S:
        return value if value is None else self._first.setdefault(value, value)

    def each(self, values: Iterable[str | None] | None) -> list[str | None]:
        """A list of strings (empty for None), each shared."""
        return [self(v) for v in values] if values else []

    def column(self, values: list[Any]) -> list[Any]:
        """A column of strings, or of lists of strings, each shared (None stays None)."""
        if any(isinstance(v, list) for v in values):
            return [v if v is None else self.each(v) for v in values]
        return [self(v) for v in values]
