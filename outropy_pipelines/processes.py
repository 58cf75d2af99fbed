"""Who owns something left on disk or in a table (a spill folder, a delivery claim, a Dagster run),
and whether that process is gone.

A process is named by its pid, its start time and its host: a pid alone is reused by the
operating system, so a process found under the pid but started later is a different one. Only
processes of this host can be looked at; for another host the answer is "cannot tell" (treated
as alive by every caller, so nothing of a live process is ever taken away).
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
from dataclasses import dataclass

import psutil

# create_time is derived from the boot time and clock ticks: allow for rounding
_START_TOLERANCE_SECONDS = 1.0


@functools.cache
def host_id() -> str:
    """A short, file-name-safe name of this host (8 hex digits of its hostname's SHA-1)."""
    return hashlib.sha1(socket.gethostname().encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class Owner:
    """A process: pid, start time (epoch seconds, as psutil reports it) and host id."""

    pid: int
    started: float
    host: str

    def token(self) -> str:
        """`<pid>-<start ms>-<host id>`, safe in file names and table cells; `Owner.parse` reads it back."""
        return f"{self.pid}-{int(self.started * 1000)}-{self.host}"

    @staticmethod
    def parse(token: str | None) -> Owner | None:
        parts = (token or "").split("-")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        return Owner(pid=int(parts[0]), started=int(parts[1]) / 1000, host=parts[2])

    def is_gone(self) -> bool:
        """True when this process has certainly ended; False when it runs or cannot be checked."""
        if self.host != host_id():
            return False
        return pid_is_gone(self.pid, started_by=self.started)


@functools.cache
def _current(pid: int) -> Owner:
    return Owner(pid=pid, started=psutil.Process(pid).create_time(), host=host_id())


def current() -> Owner:
    """This process (looked up once per pid, so a forked child gets its own)."""
    return _current(os.getpid())


def pid_is_gone(pid: int, started_by: float) -> bool:
    """Whether the process `pid`, which existed at `started_by` (epoch seconds), has ended on this
    host: no such pid, a zombie, or a newer process that reuses the pid. Access problems count as
    alive."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return True
        return proc.create_time() > started_by + _START_TOLERANCE_SECONDS
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False
