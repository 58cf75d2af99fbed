"""Content digests of every table of a pipeline DuckDB file (and of a folder of briefing files).

A restructuring or an optimisation must leave the data as it was: run the pipeline before and
after, then compare the digests.

    python scripts/table_digest.py data/outropy.duckdb [--files data/briefings] > after.txt
    diff before.txt after.txt

Each table's digest is the md5 of its rows (as text, sorted), so row order does not matter.
Columns that hold the wall-clock time of a write or the id of a Dagster run (`created_at`,
`updated_at`, `recorded_at`, `sent_at`, `run_id`) differ from run to run and are left out.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import duckdb

VOLATILE_COLUMNS = frozenset({"created_at", "updated_at", "recorded_at", "sent_at", "run_id"})


def table_digests(db_path: str) -> dict[str, tuple[int, str]]:
    """{table: (rows, md5 of the sorted rows)} for every table of the file."""
    con = duckdb.connect(db_path, read_only=True)
    try:
        out: dict[str, tuple[int, str]] = {}
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        for table in tables:
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
                    [table],
                ).fetchall()
                if r[0] not in VOLATILE_COLUMNS
            ]
            packed = ", ".join(f'"{c}" := "{c}"' for c in columns)
            rows, digest = con.execute(
                f"""SELECT count(*), coalesce(md5(string_agg(r, chr(10) ORDER BY r)), '-')
                    FROM (SELECT CAST(struct_pack({packed}) AS VARCHAR) AS r FROM "{table}")"""
            ).fetchone()
            out[table] = (int(rows), str(digest))
        return out
    finally:
        con.close()


def files_digest(folder: Path) -> tuple[int, str]:
    """(files, md5 over every file's relative path and bytes) of a folder, in path order."""
    h = hashlib.md5()
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in paths:
        h.update(str(path.relative_to(folder)).encode("utf-8") + b"\0")
        h.update(path.read_bytes() + b"\0")
    return len(paths), h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", help="the DuckDB file")
    parser.add_argument("--files", type=Path, help="also digest the files under this folder")
    args = parser.parse_args(argv)
    for table, (rows, digest) in table_digests(args.db).items():
        print(f"{table:<20} {rows:>10} {digest}")
    if args.files is not None:
        count, digest = files_digest(args.files)
        print(f"{'files:' + args.files.name:<20} {count:>10} {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
