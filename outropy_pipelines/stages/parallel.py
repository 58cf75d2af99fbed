"""Worker processes for the CPU-bound stages: shares of channels, run side by side."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def worker_count(configured: int | None = None) -> int:
    """Processes a CPU-bound stage may use: `configured` (OUTROPY_WORKERS), else the CPUs this
    process may run on."""
    if configured is not None:
        if configured < 1:
            raise ValueError(f"OUTROPY_WORKERS must be at least 1, not {configured!r}")
        return configured
    return max(1, len(os.sched_getaffinity(0)))


def balanced_shares(sizes: Mapping[str, int], workers: int) -> list[frozenset[str] | None]:
    """Split keys (channels) into up to `workers` shares of about equal total size: largest first,
    each to the lightest share. One share of everything is `[None]`."""
    if workers <= 1 or len(sizes) <= 1:
        return [None]
    shares: list[list[str]] = [[] for _ in range(min(workers, len(sizes)))]
    loads = [0] * len(shares)
    for key, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        k = loads.index(min(loads))
        shares[k].append(key)
        loads[k] += size
    return [frozenset(share) for share in shares]


def run_shares(work: Callable[..., T], jobs: Sequence[tuple[Any, ...]]) -> list[T]:
    """`work(*job)` for each job, in job order: the first in this process, the others in spawned
    worker processes at the same time (spawn, not fork: the parent holds DuckDB and Dagster
    threads). `work` and the jobs must be picklable; a worker's exception is raised here."""
    if len(jobs) == 1:
        return [work(*jobs[0])]
    pool = ProcessPoolExecutor(max_workers=len(jobs) - 1, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = [pool.submit(work, *job) for job in jobs[1:]]
        first = work(*jobs[0])
        return [first, *(f.result() for f in futures)]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
