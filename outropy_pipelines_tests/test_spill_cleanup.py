"""Spill folders left by killed processes are removed by the next spill; a live run's never are.

Real processes: one spills and is killed with SIGKILL, another spills and keeps running (a
concurrent run); then this process opens a spill, as the next run's first stage does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from outropy_pipelines.processes import current
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.spill import SPILL_PREFIX, UNOWNED_MAX_AGE_SECONDS, spill_owner

SPILLER = """
import sys, time
from outropy_pipelines.store import DuckDBStore
spill = DuckDBStore(sys.argv[1]).spill()
spill.write([{"n": i} for i in range(10)])
print(spill.directory, flush=True)
time.sleep(600)
"""


def _spilling_process(db: Path) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SPILLER, str(db)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    folder = Path(proc.stdout.readline().strip())
    assert folder.is_dir() and list(folder.glob("*.parquet")), folder
    return proc, folder


def test_next_spill_removes_folders_of_dead_processes_only(tmp_path):
    db = tmp_path / "outropy.duckdb"
    killed, killed_folder = _spilling_process(db)
    live, live_folder = _spilling_process(db)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        area = killed_folder.parent
        assert area == db.with_name("outropy.duckdb.spill")
        assert spill_owner(killed_folder).pid == killed.pid and spill_owner(live_folder).pid == live.pid
        # folders from before spills named their owner: removed only once surely abandoned
        old_unowned, new_unowned = area / f"{SPILL_PREFIX}k3j_x9q0", area / f"{SPILL_PREFIX}z81mm2a_"
        for folder in (old_unowned, new_unowned):
            folder.mkdir()
            (folder / "part-00000.parquet").write_bytes(b"x")
        long_ago = time.time() - UNOWNED_MAX_AGE_SECONDS - 60
        os.utime(old_unowned, (long_ago, long_ago))
        unrelated = area / "notes"
        unrelated.mkdir()

        with DuckDBStore(db).spill() as mine:  # the next run
            owner = spill_owner(mine.directory)
            assert (owner.pid, owner.host) == (os.getpid(), current().host) and not owner.is_gone()
            assert not killed_folder.exists() and not old_unowned.exists()
            assert live_folder.is_dir() and new_unowned.is_dir() and unrelated.is_dir()
            # the live run's files are intact, and its spill still works
            assert pq.read_table(next(live_folder.glob("*.parquet"))).num_rows == 10
        assert not mine.directory.exists()  # closed: its own folder is gone too
    finally:
        for proc in (killed, live):
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
    # once the concurrent run has ended (killed too), the next spill removes its folder as well
    with DuckDBStore(db).spill():
        assert not live_folder.exists()
