"""Floors of `outropy bench`: what a stage's frame costs with none of our work in it, measured in
the same run as the stages, so that a stage's time reads against what no code of ours could save.

- **Dagster's floor** (`DagsterFloor`): the same runs over the same partitions on the same
  instance, each asset replaced by a twin that only reports its partitions materialized (no
  resources, no store). What is left is Dagster's own: creating the run, one planned and one
  materialization event per partition, step events. A day of briefings for 1,000 readers is 1,000
  (day, reader) partitions.
- **DuckDB's typed insert** (`duckdb_typed_insert_seconds`): DuckDB reading the day files and
  writing one row per message, with the typed columns `raw_messages` keeps, into a DuckDB file,
  committed and checkpointed: the cost of persisting the rows, with none of ingest's checks,
  deduplication or day windows. DuckDB's `read_json` into memory (the issue's ingest baseline,
  `scale_bench.duckdb_scan_seconds`) persists nothing.
"""

import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetMaterialization,
    AssetsDefinition,
    DagsterInstance,
    Definitions,
    JobDefinition,
    asset,
    define_asset_job,
)

from outropy_pipelines.store.schema import schema_statements


def _twin(real: AssetsDefinition) -> AssetsDefinition:
    """An asset with `real`'s partitions and backfill policy whose run only reports each of its
    partitions materialized."""
    partitioned = real.partitions_def is not None

    @asset(
        name=f"floor_{real.key.to_python_identifier()}",
        partitions_def=real.partitions_def,
        backfill_policy=real.backfill_policy,
        output_required=False,
    )
    def twin(context: AssetExecutionContext) -> Iterator[AssetMaterialization]:
        for key in context.partition_keys if partitioned else [None]:
            yield AssetMaterialization(asset_key=context.asset_key, partition=key)

    return twin


class DagsterFloor:
    """Runs the twins of `assets` (see the module docstring) on `instance`, one job per asset."""

    def __init__(self, assets: Sequence[AssetsDefinition], instance: DagsterInstance) -> None:
        self.instance = instance
        twins = {a.key.to_user_string(): _twin(a) for a in assets}
        defs = Definitions(
            assets=list(twins.values()),
            jobs=[define_asset_job(f"floor_{name}", selection=[t]) for name, t in twins.items()],
        )
        self._jobs: dict[str, JobDefinition] = {name: defs.resolve_job_def(f"floor_{name}") for name in twins}

    def seconds(self, name: str, runs_tags: Sequence[Mapping[str, str]]) -> float:
        """Wall seconds of the twin of asset `name` run once per tags of `runs_tags` (as the stage
        was run); raises if a run fails."""
        start = time.perf_counter()
        for tags in runs_tags:
            result = self._jobs[name].execute_in_process(instance=self.instance, tags=dict(tags))
            if not result.success:
                raise RuntimeError(f"the Dagster floor run of {name} failed")
        return time.perf_counter() - start


def duckdb_typed_insert_seconds(files: Sequence[Path], directory: Path) -> float:
    """Seconds DuckDB takes to read `files` (day files, one folder per conversation) and write each
    message as a `raw_messages` row (its typed columns taken with JSON paths, the conversation from
    the folder, the record as JSON) into a new DuckDB file in `directory`, committed and
    checkpointed on close."""
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        con = duckdb.connect(str(Path(tmp) / "floor.duckdb"))
        for stmt in schema_statements():
            con.execute(stmt)
        start = time.perf_counter()
        con.execute(
            """
            INSERT INTO raw_messages
            SELECT CAST(regexp_extract(filename, '(\\d{4}-\\d{2}-\\d{2})\\.json$', 1) AS DATE),
                   regexp_extract(filename, '([^/]+)/[^/]+$', 1),
                   json->>'ts', json->>'thread_ts', coalesce(json->>'user', json->>'bot_id'),
                   json->>'subtype', coalesce(json->>'text', ''), NULL, json::VARCHAR
            FROM read_json(?, format='array', records=false, maximum_object_size=268435456,
                           filename=true)
            """,
            [[str(f) for f in files]],
        )
        con.close()
        return time.perf_counter() - start
