"""Rows spilled to Parquet batch by batch, so a big partition never sits in memory before its write.

Each spill is a folder `outropy-spill-<pid>-<start ms>-<host id>-<random>` in the spill area next
to the DuckDB file: the name says which process owns it. A spill removes its folder when it
closes; a process killed meanwhile (kill -9, OOM) leaves it behind, so whoever opens a new spill
first removes the folders whose owner is gone (`remove_leftover_spills`), never those of a live
process (a concurrent run). Worker processes spill into their parent's folder, which goes with it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from outropy_pipelines.processes import Owner, current

SPILL_PREFIX = "outropy-spill-"
# folders named before spills carried their owner: removed once this old (no process runs that long)
UNOWNED_MAX_AGE_SECONDS = 24 * 3600


def rows_to_arrow(rows: Sequence[Mapping[str, Any]] | pa.Table) -> pa.Table:
    """Rows (dicts) to an Arrow table; nested values that are not lists of scalars go in as JSON."""
    if isinstance(rows, pa.Table):
        return rows
    if not rows:
        return pa.table({})
    keys = list(rows[0].keys())
    if all(len(r) == len(keys) for r in rows) and all(
        r.keys() == rows[0].keys() for r in rows[:: max(1, len(rows) // 64)]
    ):
        try:
            return pa.table({k: [r[k] for r in rows] for k in keys})
        except KeyError:
            pass  # rows with differing keys: let Arrow work out the union
    return pa.Table.from_pylist([dict(r) for r in rows])


@dataclass(frozen=True)
class SpilledFiles:
    """Parquet files a spill wrote, handed from a worker process to the one that writes the day."""

    paths: tuple[str, ...]
    num_rows: int


class ParquetSpill:
    """Rows written batch by batch to temporary Parquet files, so that a large partition never sits
    in memory; `DuckDBStore.replace_partitions` inserts them with one scan inside its transaction.
    Use as a context manager: the files are removed on exit."""

    def __init__(self, directory: str | Path | None = None) -> None:
        if directory is not None:
            Path(directory).mkdir(parents=True, exist_ok=True)
        prefix = f"{SPILL_PREFIX}{current().token()}-"
        self.directory = Path(tempfile.mkdtemp(prefix=prefix, dir=directory))
        self.paths: list[Path] = []
        self.num_rows = 0

    def write(self, rows: Sequence[Mapping[str, Any]] | pa.Table) -> None:
        arrow = rows_to_arrow(rows)
        if not arrow.num_rows:
            return
        path = self.directory / f"part-{len(self.paths):05d}.parquet"
        pq.write_table(arrow, path, compression="zstd")
        self.paths.append(path)
        self.num_rows += arrow.num_rows

    def handoff(self) -> SpilledFiles:
        """What a worker process hands back: the files it wrote, for the writer to `adopt`."""
        return SpilledFiles(paths=tuple(str(p) for p in self.paths), num_rows=self.num_rows)

    def truncate(self, files: SpilledFiles) -> None:
        """Go back to what `handoff` gave as `files`: the files written since are removed."""
        kept = len(files.paths)
        for path in self.paths[kept:]:
            path.unlink()
        del self.paths[kept:]
        self.num_rows = files.num_rows

    def adopt(self, files: SpilledFiles) -> None:
        """Take over Parquet files another process wrote under this spill's directory (so they are
        removed with it), as if written by `write`."""
        self.paths.extend(Path(p) for p in files.paths)
        self.num_rows += files.num_rows

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> ParquetSpill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def spill_owner(folder: Path) -> Owner | None:
    """The process named in a spill folder's name; None for a folder without one."""
    if not folder.name.startswith(SPILL_PREFIX):
        return None
    return Owner.parse("-".join(folder.name[len(SPILL_PREFIX) :].split("-")[:3]))


def remove_leftover_spills(area: str | Path, now: float | None = None) -> list[Path]:
    """Remove the spill folders directly under `area` whose owning process has ended (on this
    host), and unowned ones older than a day; returns what was removed."""
    area = Path(area)
    if not area.is_dir():
        return []
    now = time.time() if now is None else now
    removed: list[Path] = []
    for folder in area.iterdir():
        if not folder.name.startswith(SPILL_PREFIX) or not folder.is_dir():
            continue
        owner = spill_owner(folder)
        try:
            stale = (
                owner.is_gone()
                if owner is not None
                else now - os.stat(folder).st_mtime > UNOWNED_MAX_AGE_SECONDS
            )
        except FileNotFoundError:
            continue  # its owner closed it meanwhile
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
