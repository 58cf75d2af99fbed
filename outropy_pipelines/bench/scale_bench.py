"""`outropy bench`: the pipeline at scale, against baselines measured in the same run.

1. Generates a synthetic workspace with the sample generator (streamed to disk).
2. Runs the definitions' assets with the offline `local` provider, in dependency order, each as
   one Dagster run over all the days (on an ephemeral instance), timing each and sampling the
   resident memory of the process and its workers (peak RSS per asset).
3. Baselines in the same run: DuckDB's own `read_json` scan of the same export files (what ingest
   is compared with), the floors (`floors.py`: Dagster's own cost of each stage's runs, DuckDB's
   typed insert of the same files into a DuckDB file), and the naive LLM design's input tokens
   (every subscribed user's visible messages sent whole) at several user counts.
4. Dagster at scale: the day's briefings for N subscribed users through the real job on a real
   (SQLite) instance, batched as the sensor batches them, and a multi-day backfill; the UI's
   partition-status GraphQL query time on a local webserver.

`--messages-per-day` may list several sizes: steps 1, 2 and the ingest baseline run at each
(smallest first, in this one process), the token comparison and step 4 once, on the largest. The report, its per-stage table at each size
against the issue's targets, the Markdown table and the chart are `bench_report`'s.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import graphlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
from dagster import AssetsDefinition, DagsterInstance

from outropy_pipelines.bench.bench_report import judge_targets
from outropy_pipelines.bench.floors import DagsterFloor, duckdb_typed_insert_seconds
from outropy_pipelines.bench.token_bench import compare_days, measure_pipeline_requests
from outropy_pipelines.defs.assets import pipeline_assets, raw_slack_messages, user_briefings
from outropy_pipelines.defs.partitions import briefing_range_tags, day_range_tags, user_chunks
from outropy_pipelines.domain.days import days_between, shift_day
from outropy_pipelines.pipeline_runner import PipelineRunner, RunSummary
from outropy_pipelines.sample import generate_scaled_workspace
from outropy_pipelines.settings import LLMSettings, Settings
from outropy_pipelines.stages.parallel import worker_count
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.directory import keep_only_subscribers, subscribed_user_ids
from outropy_pipelines.store.pipeline_summary import day_counts


@dataclass
class ScaleBenchConfig:
    users: int = 1000
    channels: int = 300
    messages_per_day: int | Sequence[int] = 200_000  # one size, or several (bench_sizes)
    days: int = 3
    seed: int = 11
    token_user_counts: Sequence[int] = (100, 1000, 5000)
    dagster_user_counts: Sequence[int] = (1000, 5000)
    backfill_days: int = 7
    backfill_users: int = 1000
    users_per_run: int = 1000
    graphql: bool = True
    workdir: Path | None = None
    keep: bool = False
    start_date: str = "2026-10-05"


class PeakRSS:
    """Samples the RSS of this process plus its worker processes in a background thread;
    `peak_mb` since the last `reset`."""

    def __init__(self, interval: float = 0.02) -> None:
        self._proc = psutil.Process()
        self._interval = interval
        self._peak = 0
        self._overall = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _rss(self) -> int:
        total = self._proc.memory_info().rss
        for child in self._proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # a worker that just ended
                total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self._rss()
            self._peak = max(self._peak, rss)
            self._overall = max(self._overall, rss)
            time.sleep(self._interval)

    def reset(self) -> None:
        self._peak = self._rss()

    @property
    def peak_mb(self) -> float:
        return max(self._peak, self._rss()) / 2**20

    @property
    def overall_mb(self) -> float:
        return max(self._overall, self._rss()) / 2**20

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class StageTimer:
    rss: PeakRSS
    seconds: dict[str, float] = field(default_factory=dict)
    peak_mb: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str):
        self.rss.reset()
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), self.rss.peak_mb)


def duckdb_scan_seconds(files: Sequence[Path]) -> tuple[float, int]:
    """The ingest baseline: DuckDB's own `read_json` of the same day files into a table, one row
    per message with the record as JSON (what ingest keeps verbatim). Letting DuckDB infer a
    struct schema instead (`union_by_name`) needs more than 18 GB at a million messages here."""
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(
        "CREATE TABLE scan AS SELECT json FROM read_json(?, format='array', records=false, "
        "maximum_object_size=268435456)",
        [[str(f) for f in files]],
    )
    n = con.execute("SELECT count(*) FROM scan").fetchone()[0]
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed, int(n)


def _day_files(export: Path, day: str) -> list[Path]:
    return sorted(export.glob(f"*/{day}.json"))


def stage_order(assets: Sequence[AssetsDefinition]) -> list[AssetsDefinition]:
    """The assets in dependency order, from the definitions' own deps (ties by name)."""
    by_key = {a.key: a for a in assets}
    graph = {a.key: {k for k in a.dependency_keys if k in by_key and k != a.key} for a in assets}
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    order: list[AssetsDefinition] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda k: k.to_user_string())
        order += [by_key[k] for k in ready]
        sorter.done(*ready)
    return order


def run_stages(
    cfg: ScaleBenchConfig, settings: Settings, export: Path, days: Sequence[str], say: Callable[[str], None]
) -> dict[str, Any]:
    """Every asset of the definitions in dependency order, each as one run over all `days` (the
    briefings as the sensor batches them, for the first `cfg.users` subscribed readers), on an
    ephemeral instance: one stage's time and peak memory is one run's."""
    rss = PeakRSS()
    timer = StageTimer(rss)
    runner = PipelineRunner(settings, instance=DagsterInstance.ephemeral(), users_per_run=cfg.users_per_run)
    daily = runner.defs.resolve_job_def("daily_pipeline")
    summary = RunSummary()
    readers: list[str] = []
    runs_tags: dict[str, list[dict[str, str]]] = {}  # stage -> the tags of each of its runs
    for asset_def in stage_order(pipeline_assets):
        name = asset_def.key.to_user_string()
        say(f"  {name} ...")
        with timer.stage(name):
            if asset_def.key == user_briefings.key:
                readers = runner.sync_user_partitions()[: cfg.users]
                runs_tags[name] = [
                    briefing_range_tags(days[0], days[-1], group)
                    for group in user_chunks(readers, cfg.users_per_run)
                ]
                for tags in runs_tags[name]:
                    runner.execute("user_briefings_job", tags, summary)
            else:
                runs_tags[name] = [day_range_tags(days[0], days[-1])]
                result = daily.execute_in_process(
                    instance=runner.instance,
                    tags=runs_tags[name][0],
                    asset_selection=[asset_def.key],
                    raise_on_error=False,
                )
                summary.runs.append(result.run_id)
                summary.ok &= result.success
        if not summary.ok:
            raise RuntimeError(f"the {name} run failed")
    rss.stop()
    say("  floors: Dagster's (the same runs, assets that do nothing) and DuckDB's typed insert ...")
    floor = DagsterFloor(pipeline_assets, runner.instance)
    floors = {name: floor.seconds(name, tags) for name, tags in runs_tags.items()}
    store = runner.store
    per_day = day_counts(store, days)
    messages = sum(int(r["messages"]) for r in per_day)
    day_files = [f for day in days for f in _day_files(export, day)]
    scan_seconds, scan_rows = duckdb_scan_seconds(day_files)
    typed_insert = duckdb_typed_insert_seconds(day_files, settings.duckdb_path.parent)
    stages = [
        {
            "name": name,
            "seconds": round(seconds, 3),
            "messages_per_second": round(messages / seconds) if seconds else None,
            "peak_rss_mb": round(timer.peak_mb.get(name, 0.0), 1),
            "dagster_floor_seconds": round(floors[name], 3),
        }
        for name, seconds in timer.seconds.items()
    ]
    total = sum(timer.seconds.values())
    ingest = timer.seconds[raw_slack_messages.key.to_user_string()]
    return {
        "messages": messages,
        "subscribed_users": len(subscribed_user_ids(store)),
        "briefing_users": len(readers),
        "per_day": per_day,
        "stages": stages,
        "end_to_end_seconds": round(total, 3),
        "end_to_end_messages_per_second": round(messages / total) if total else None,
        "dagster_floor_seconds": round(sum(floors.values()), 3),
        # one planned event per run with Dagster's DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS
        "dagster_planned_events": "per run"
        if runner.instance.event_log_storage.supports_partition_subset_in_asset_materialization_planned_events
        else "per partition",
        "peak_rss_mb": round(rss.overall_mb, 1),
        "duckdb_file_mb": round(settings.duckdb_path.stat().st_size / 2**20, 1),
        "ingest_vs_duckdb_scan": {
            "ingest_seconds": round(ingest, 3),
            "duckdb_read_json_seconds": round(scan_seconds, 3),
            "duckdb_rows": int(scan_rows),
            "ratio": round(ingest / scan_seconds, 2) if scan_seconds else None,
            "duckdb_typed_insert_seconds": round(typed_insert, 3),
            "typed_insert_vs_read_json": round(typed_insert / scan_seconds, 2) if scan_seconds else None,
        },
    }


def token_comparison(
    settings: Settings, work: Path, day: str, user_counts: Sequence[int], model: str = "gpt-4o-mini"
) -> dict[str, Any]:
    """LLM input tokens of `day`: ours (counted once: it does not depend on readers), recorded by
    running the job's two LLM assets again with the recording `llm` resource, against the naive
    design at each user count."""
    requests_file = work / "requests.jsonl"
    requests_file.unlink(missing_ok=True)
    measure_pipeline_requests(settings, [day], requests_file, model, llm_assets_only=True)
    store = DuckDBStore(settings.duckdb_path)
    users = subscribed_user_ids(store)
    out: dict[str, Any] = {}
    for n in user_counts:
        if n > len(users):
            out[str(n)] = {"skipped": f"workspace has {len(users)} subscribed users"}
            continue
        [row] = compare_days(store, [day], users[:n], requests_file, model)
        out[str(n)] = {
            "ours": row["ours_input_tokens"],
            "naive": row["naive_input_tokens"],
            "ratio": round(row["ratio"], 1) if row["ratio"] else None,
            "ours_calls": row["ours_calls"],
            "naive_calls": row["naive_calls"],
            "encoding": row["encoding"],
        }
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def partition_status_query_seconds(
    dagster_home: Path, env: dict[str, str], repo_root: Path
) -> dict[str, Any]:
    """Start a local webserver on the bench instance and time the UI's partition-status query."""
    port = _free_port()
    webserver = Path(sys.executable).with_name("dagster-webserver")
    proc = subprocess.Popen(
        [str(webserver), "-m", "outropy_pipelines.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=repo_root,
        env={**os.environ, **env, "DAGSTER_HOME": str(dagster_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    query = """{ assetNodes(assetKeys: [{path: ["user_briefings"]}]) {
        assetPartitionStatuses { __typename
          ... on MultiPartitionStatuses { primaryDimensionName ranges { primaryDimStartKey primaryDimEndKey
              secondaryDim { __typename ... on DefaultPartitionStatuses { materializedPartitions } } } } } } }"""

    def ask() -> dict:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql",
            data=json.dumps({"query": query}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=300) as resp:
            return json.loads(resp.read())

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                ask()
                break
            except OSError:
                if time.monotonic() > deadline:
                    return {"error": "webserver did not answer"}
                time.sleep(0.5)
        timings = []
        materialized = 0
        for _ in range(3):
            start = time.perf_counter()
            data = ask()
            timings.append(time.perf_counter() - start)
        for node in data.get("data", {}).get("assetNodes", []):
            for r in node["assetPartitionStatuses"].get("ranges", []):
                # a range of primary (date) keys sharing one set of materialized users
                ndays = len(list(days_between(r["primaryDimStartKey"], r["primaryDimEndKey"])))
                materialized += ndays * len(r["secondaryDim"].get("materializedPartitions", []))
        return {
            "seconds_first": round(timings[0], 3),
            "seconds_median": round(sorted(timings)[1], 3),
            "materialized_user_partitions_in_answer": materialized,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def dagster_at_scale(
    cfg: ScaleBenchConfig, base: Settings, export: Path, work: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    """Briefing runs through the real job on a SQLite instance, batched as the sensor batches."""
    results: dict[str, Any] = {}
    for n in [*cfg.dagster_user_counts, "backfill"]:
        users_n = cfg.backfill_users if n == "backfill" else int(n)
        ndays = cfg.backfill_days if n == "backfill" else 1
        label = f"backfill_{ndays}_days_{users_n}_users" if n == "backfill" else str(users_n)
        home = work / f"dagster_{label}"
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        db = home / "bench.duckdb"
        shutil.copy(work / "bench.duckdb", db)
        settings = base.model_copy(update={"duckdb_path": db, "briefings_dir": home / "briefings"})
        store = DuckDBStore(db)
        users = subscribed_user_ids(store)
        if users_n > len(users):
            results[label] = {"skipped": f"workspace has {len(users)} subscribed users"}
            continue
        # keep exactly the first N subscribed
        keep_only_subscribers(store, users[:users_n])
        with _sqlite_instance(home) as instance:
            runner = PipelineRunner(
                settings, instance=instance, users_per_run=cfg.users_per_run, days_per_run=ndays
            )
            chosen = runner.sync_user_partitions()
            days = list(days_between(cfg.start_date, shift_day(cfg.start_date, ndays - 1)))
            say(f"  dagster: {ndays} day(s) x {len(chosen):,} users ...")
            summary = RunSummary()
            start = time.perf_counter()
            for group in user_chunks(chosen, cfg.users_per_run):
                runner.execute("user_briefings_job", briefing_range_tags(days[0], days[-1], group), summary)
            ok = summary.ok
            wall = time.perf_counter() - start
            results[label] = {
                "users": len(chosen),
                "days": ndays,
                "partitions": len(chosen) * ndays,
                "runs": len(summary.runs),
                "wall_seconds": round(wall, 2),
                "seconds_per_partition_ms": round(1000 * wall / (len(chosen) * ndays), 2),
                "ok": bool(ok),
            }
        if cfg.graphql:
            say("  dagster: UI partition-status query ...")
            results[label]["ui_partition_status_query"] = partition_status_query_seconds(
                home,
                {"OUTROPY_DUCKDB_PATH": str(db), "OUTROPY_SLACK_EXPORT": str(export)},
                Path(__file__).resolve().parents[2],
            )
    return results


@contextmanager
def _sqlite_instance(home: Path):
    """A persistent SQLite-backed instance in `home` (what `dagster dev` uses by default)."""
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = DagsterInstance.from_config(str(home))
    try:
        yield instance
    finally:
        instance.dispose()


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "workers": worker_count(Settings().workers),  # processes of the CPU-bound stages
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def bench_sizes(messages_per_day: int | Sequence[int]) -> list[int]:
    """The sizes (messages a day) to measure, smallest first, each once."""
    sizes = sorted({messages_per_day} if isinstance(messages_per_day, int) else set(messages_per_day))
    if not sizes or sizes[0] < 1:
        raise ValueError(f"messages per day must be positive, not {messages_per_day!r}")
    return sizes


def _workspace(
    cfg: ScaleBenchConfig, work: Path, messages_per_day: int, people: int, say: Callable[[str], None]
) -> tuple[Settings, Path, list[str], float]:
    """A fresh generated workspace of `messages_per_day` in `work` (replacing an earlier size's) and
    the settings of a fresh DuckDB file on it: everyone subscribed, the local rules (whatever the
    environment says). Returns the settings, the export, the days and the generation seconds."""
    export = work / "export"
    for old in (export, work / "briefings"):
        if old.exists():
            shutil.rmtree(old)
    say(
        f"generating {cfg.days} day(s) x {messages_per_day:,} messages, {people:,} people, "
        f"{cfg.channels} channels into {export} ..."
    )
    start = time.perf_counter()
    generate_scaled_workspace(
        export,
        seed=cfg.seed,
        users=people,
        channels=cfg.channels,
        days=cfg.days,
        messages_per_day=messages_per_day,
        start_date=cfg.start_date,
    )
    generation = time.perf_counter() - start
    days = list(days_between(cfg.start_date, shift_day(cfg.start_date, cfg.days - 1)))
    db_path = work / "bench.duckdb"
    if db_path.exists():
        db_path.unlink()
    settings = Settings().model_copy(
        update={
            "duckdb_path": db_path,
            "slack_export": export,
            "slack_source": "export",
            "briefings_dir": work / "briefings",
            "slack_workspace_url": "https://bench.slack.com",
            "subscriptions_file": None,
            "llm": LLMSettings(provider="local"),
        }
    )
    return settings, export, days, generation


def run_scale_bench(cfg: ScaleBenchConfig, say: Callable[[str], None] = print) -> dict[str, Any]:
    """The stages at each size of `cfg.messages_per_day` (smallest first, one process, each on a
    freshly generated workspace), then the token comparison and Dagster at scale once, on the
    largest size's workspace. The report's top-level figures are the largest size's; `sizes` has
    every size's, with the issue's targets judged (`bench_report.judge_targets`)."""
    work = Path(cfg.workdir) if cfg.workdir else Path(tempfile.mkdtemp(prefix="outropy-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    people = max([cfg.users, *cfg.token_user_counts, *cfg.dagster_user_counts, cfg.backfill_users])
    report: dict[str, Any] = {
        "config": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items() if k != "workdir"
        },
        "machine": machine(),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    sizes: list[dict[str, Any]] = []
    for n in bench_sizes(cfg.messages_per_day):
        settings, export, days, generation = _workspace(cfg, work, n, people, say)
        say(f"running the pipeline's assets at {n:,} messages a day (local provider) ...")
        measured = run_stages(cfg, settings, export, days, say)
        sizes.append({"messages_per_day": n, "generation_seconds": round(generation, 2), **measured})
    largest = sizes[-1]
    report.update(largest)
    del report["messages_per_day"]
    report["sizes"] = [{**size, "targets": judge_targets(size)} for size in sizes]
    report["tokens"] = {}
    if cfg.token_user_counts:  # `--token-users ''`: stages only (the token pass classifies the day again)
        say("counting tokens (ours vs naive) ...")
        report["tokens"] = token_comparison(settings, work, days[-1], cfg.token_user_counts)
    report["dagster"] = dagster_at_scale(cfg, settings, export, work, say) if cfg.dagster_user_counts else {}
    if not cfg.keep and not cfg.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return report
