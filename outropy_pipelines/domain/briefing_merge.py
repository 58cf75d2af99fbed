"""Merging the index's sorted route lists (`briefing_index`): the first accepted entries of several
sorted lists, and their merge without repeats."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence

# A list entry: (-score, item_id, idx). Entries compare on the first two fields (item_ids are unique).
Entry = tuple[float, str, int]


def take(lists: Sequence[Sequence[Entry]], k: int, ok) -> list[Entry]:
    """The first `k` entries accepted by `ok(entry)` in the merged order of sorted `lists`."""
    out: list[Entry] = []
    if k <= 0 or not lists:
        return out
    merged: Iterable[Entry] = lists[0] if len(lists) == 1 else heapq.merge(*lists)
    for entry in merged:
        if ok(entry):
            out.append(entry)
            if len(out) >= k:
                break
    return out


def unique(lists: list[list[Entry]]) -> list[Iterator[Entry] | list[Entry]]:
    """The merged entries of `lists` without repeats (a decision can be in several project lists)."""
    if len(lists) <= 1:
        return lists

    def merged() -> Iterator[Entry]:
        last = None
        for entry in heapq.merge(*lists):
            if entry != last:
                yield entry
            last = entry

    return [merged()]
