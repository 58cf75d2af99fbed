"""Small performance helpers shared by the stages."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a stage builds millions of short-lived, acyclic
    objects (parsed JSON, row dicts): its generation scans grow with the live heap and cost a third
    of ingest time on a million-message day. Reference counting still frees everything; a
    collection runs when the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def worker_count() -> int:
    """Processes a CPU-bound stage may use: OUTROPY_WORKERS, else the CPUs this process may run on."""
    value = os.environ.get("OUTROPY_WORKERS", "").strip()
    if value:
        count = int(value)
        if count < 1:
            raise ValueError(f"OUTROPY_WORKERS must be at least 1, not {value!r}")
        return count
    return max(1, len(os.sched_getaffinity(0)))
