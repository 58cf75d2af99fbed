"""`outropy lake import FILE.duckdb`: move a DuckDB file's tables into the DuckLake store.

The lake is the one the settings name (OUTROPY_DUCKLAKE_CATALOG, OUTROPY_DUCKLAKE_DATA_PATH,
OUTROPY_DUCKLAKE_PASSWORD), whatever OUTROPY_STORE_BACKEND says, so a file can be moved before the
deployment switches to the lake. The move is `DuckLakeStore.import_duckdb_file`: one lake
transaction in which every table of the schema is replaced by the file's rows; the file is only
read. A lake that already holds rows is replaced only with --replace (its delivery ledger too:
what it says was sent would otherwise be forgotten, and sent again).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from outropy_pipelines.cli.common import RUN_FAILED, CliError, existing_file, load_settings

if TYPE_CHECKING:
    from outropy_pipelines.settings import Settings
    from outropy_pipelines.store.ducklake_store import DuckLakeStore

_NOT_CONFIGURED = (
    "the lake is not configured: set {missing} (and OUTROPY_DUCKLAKE_PASSWORD when the catalog needs "
    "one; README, 'Running at scale')"
)


def lake_store(settings: Settings) -> DuckLakeStore:
    """The lake of `settings`, its extensions checked; a `CliError` when it is not configured or
    the `lake` extra is not installed (usage errors: fix the settings or the install)."""
    from outropy_pipelines.store import ducklake_store

    missing = [
        name
        for name, value in (
            ("OUTROPY_DUCKLAKE_CATALOG", settings.ducklake_catalog),
            ("OUTROPY_DUCKLAKE_DATA_PATH", settings.ducklake_data_path),
        )
        if not value
    ]
    if missing:
        raise CliError(_NOT_CONFIGURED.format(missing=" and ".join(missing)))
    try:
        ducklake_store.extension_files()
    except ducklake_store.LakeUnavailableError as exc:
        raise CliError(str(exc)) from None
    password = settings.ducklake_password
    return ducklake_store.DuckLakeStore(
        settings.ducklake_catalog or "",
        settings.ducklake_data_path or "",
        scratch_dir=settings.duckdb_path.parent,
        password=password.get_secret_value() if password else None,
        memory_limit=settings.duckdb_memory_limit,
    )


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _check_source(path: Path) -> None:
    """The file opens as a DuckDB database (read only), before the lake is touched."""
    import duckdb

    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = ""
        if "version number" in first:
            hint = (
                f" (written by another DuckDB than {duckdb.__version__}: EXPORT DATABASE with that one, "
                "IMPORT DATABASE into a new file, import that; README, 'DuckDB version')"
            )
        raise CliError(f"{path} is not a DuckDB file this DuckDB can open: {first}{hint}") from None


def cmd_lake_import(args: argparse.Namespace) -> int:
    from outropy_pipelines.store.ducklake_store import LakeUnavailableError, SourceFileError

    settings = load_settings()
    source = Path(args.file)
    lake = lake_store(settings)
    _check_source(source)
    try:
        before = lake.table_counts()
        held = {t: n for t, n in before.items() if n}
        if held and not args.replace:
            raise CliError(
                f"the lake already holds {sum(held.values()):,} rows in {len(held)} tables "
                f"({', '.join(sorted(held))}): add --replace to replace every table with the file's, "
                "the delivery ledger (deliveries) too"
            )
        counts = lake.import_duckdb_file(source)
    except LakeUnavailableError as exc:  # the catalog cannot be reached (DuckDB's message spans lines)
        raise CliError(_one_line(exc), RUN_FAILED) from None
    except SourceFileError as exc:
        raise CliError(_one_line(exc)) from None
    width = max(len(t) for t in counts)
    print(
        f"Moved {source} into the lake ({settings.ducklake_catalog}; data {lake.data_path}), one transaction:"
    )
    for table, n in counts.items():
        print(f"  {table:<{width}}  {n:>12,}")
    print(f"{len(counts)} tables, {sum(counts.values()):,} rows.")
    if settings.store_backend != "ducklake":
        print("The pipeline still uses the DuckDB file: set OUTROPY_STORE_BACKEND=ducklake to use the lake.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    lk = sub.add_parser(
        "lake",
        help="the DuckLake store: move a DuckDB file into it (`lake import`)",
        description="The DuckLake store of OUTROPY_DUCKLAKE_CATALOG and OUTROPY_DUCKLAKE_DATA_PATH "
        "(README, 'Running at scale').",
    )
    lk_sub = lk.add_subparsers(
        dest="lake_command", required=True, metavar="{import}", help="move a DuckDB file into the lake"
    )
    im = lk_sub.add_parser(
        "import",
        help="move a DuckDB file's tables into the lake, in one transaction",
        description="Replace every table of the lake (OUTROPY_DUCKLAKE_CATALOG, "
        "OUTROPY_DUCKLAKE_DATA_PATH, OUTROPY_DUCKLAKE_PASSWORD) with the rows of a DuckDB file the "
        "pipeline wrote, in one lake transaction, and print the rows per table. The file is only "
        "read. A lake that already holds rows is replaced only with --replace.",
    )
    im.add_argument(
        "file", metavar="FILE.duckdb", type=existing_file, help="the DuckDB file (e.g. data/outropy.duckdb)"
    )
    im.add_argument(
        "--replace",
        action="store_true",
        help="replace a lake that already holds rows (its delivery ledger too)",
    )
    im.set_defaults(func=cmd_lake_import)
