"""Pausing the cyclic garbage collector while millions of short-lived objects are built."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a stage builds millions of short-lived, acyclic
    objects (parsed JSON, row dicts, models read back): its generation scans grow with the live
    heap and cost a third of ingest time on a million-message day. Reference counting still frees
    everything; collections resume when the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
