"""`outropy bench`: the pipeline at scale, against baselines measured in the same run.

1. Generates a synthetic workspace with the sample generator (streamed to disk).
2. Runs every stage with the offline `local` provider, day by day, timing each and sampling the
   process's resident memory (peak RSS per stage).
3. Baselines in the same run: DuckDB's own `read_json` scan of the same export files (what ingest
   is compared with), and the naive LLM design's input tokens (every subscribed user's visible
   messages sent whole) at several user counts.
4. Dagster at scale: the day's briefings for N subscribed users through the real job on a real
   (SQLite) instance, batched as the sensor batches them, and a multi-day backfill; the UI's
   partition-status GraphQL query time on a local webserver.

Writes a JSON report and prints a table. Figures are also quoted as ratios against the baselines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
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

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.domain.days import days_between, shift_day
from outropy_pipelines.perf import worker_count


@dataclass
class ScaleBenchConfig:
    users: int = 1000
    channels: int = 300
    messages_per_day: int = 200_000
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


STAGES = ("directory", "ingest", "threads", "classification", "entity_summaries", "briefings")


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


def run_stages(
    cfg: ScaleBenchConfig, export: Path, db_path: Path, days: Sequence[str], say: Callable[[str], None]
) -> dict[str, Any]:
    from outropy_pipelines.llm.base import LLMClient
    from outropy_pipelines.llm.local_provider import LocalProvider
    from outropy_pipelines.stages.briefings import brief_day
    from outropy_pipelines.stages.classification import classify_day
    from outropy_pipelines.stages.directory import read_directory, read_subscriptions, write_directory
    from outropy_pipelines.stages.entity_memory import summarize_day
    from outropy_pipelines.stages.ingest import ingest_day
    from outropy_pipelines.stages.threading import builder_for, thread_day

    rss = PeakRSS()
    timer = StageTimer(rss)
    store = DuckDBStore(db_path)
    reader = SlackExportReader(export)
    with timer.stage("directory"):
        directory, quarantine = reader.read_directory()
        write_directory(store, directory, quarantine)
    subscribed = [s.user_id for s in read_subscriptions(store)]
    readers = subscribed[: cfg.users]
    client = LLMClient(LocalProvider(), concurrency=1)
    messages = 0
    scan_seconds = scan_rows = 0.0
    per_day = []
    for day in days:
        say(f"  {day}: ingest ...")
        with timer.stage("ingest"):
            report = ingest_day(store, reader, day, "UTC")
        messages += report.messages
        s, n = duckdb_scan_seconds(_day_files(export, day))
        scan_seconds += s
        scan_rows += n
        say(f"  {day}: {report.messages:,} messages; threads ...")
        with timer.stage("threads"):
            builder = builder_for(read_directory(store))
            threading_report = thread_day(store, builder, day, "UTC")
        with timer.stage("classification"):
            directory = read_directory(store)
            classification = classify_day(store, client, directory, day)
        with timer.stage("entity_summaries"):
            summarize_day(store, client, directory, day)
        say(f"  {day}: briefings for {len(readers):,} users ...")
        with timer.stage("briefings"):
            briefings = brief_day(store, directory, day, readers, "https://bench.slack.com", None)
        per_day.append(
            {
                "day": day,
                "messages": report.messages,
                "threads": threading_report.threads,
                "items": classification.items,
                "briefings": len(briefings.briefings),
                "briefing_lines": briefings.lines,
            }
        )
    rss.stop()
    stages = [
        {
            "name": name,
            "seconds": round(timer.seconds.get(name, 0.0), 3),
            "messages_per_second": round(messages / timer.seconds[name]) if timer.seconds.get(name) else None,
            "peak_rss_mb": round(timer.peak_mb.get(name, 0.0), 1),
        }
        for name in STAGES
    ]
    total = sum(timer.seconds.values())
    return {
        "messages": messages,
        "subscribed_users": len(subscribed),
        "briefing_users": len(readers),
        "per_day": per_day,
        "stages": stages,
        "end_to_end_seconds": round(total, 3),
        "end_to_end_messages_per_second": round(messages / total) if total else None,
        "peak_rss_mb": round(rss.overall_mb, 1),
        "duckdb_file_mb": round(db_path.stat().st_size / 2**20, 1),
        "ingest_vs_duckdb_scan": {
            "ingest_seconds": round(timer.seconds["ingest"], 3),
            "duckdb_read_json_seconds": round(scan_seconds, 3),
            "duckdb_rows": int(scan_rows),
            "ratio": round(timer.seconds["ingest"] / scan_seconds, 2) if scan_seconds else None,
        },
    }


def token_comparison(db_path: Path, day: str, user_counts: Sequence[int]) -> dict[str, Any]:
    """LLM input tokens of `day`: ours (counted once: it does not depend on readers) against the
    naive design at each user count."""
    from outropy_pipelines.llm.tokens import encoding_label, naive_input_tokens, pipeline_input_tokens
    from outropy_pipelines.stages.directory import read_subscriptions

    store = DuckDBStore(db_path)
    users = [s.user_id for s in read_subscriptions(store)]
    ours = pipeline_input_tokens(store, day)
    out: dict[str, Any] = {}
    for n in user_counts:
        if n > len(users):
            out[str(n)] = {"skipped": f"workspace has {len(users)} subscribed users"}
            continue
        naive = naive_input_tokens(store, day, users[:n])
        out[str(n)] = {
            "ours": ours["ours_input_tokens"],
            "naive": naive["naive_input_tokens"],
            "ratio": round(naive["naive_input_tokens"] / ours["ours_input_tokens"], 1)
            if ours["ours_input_tokens"]
            else None,
            "ours_calls": ours["ours_calls"],
            "naive_calls": naive["naive_calls"],
            "encoding": encoding_label(None),
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
    cfg: ScaleBenchConfig, export: Path, work: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    """Briefing runs through the real job on a SQLite instance, batched as the sensor batches."""
    from outropy_pipelines.config import Settings
    from outropy_pipelines.dagster_defs.automation import briefing_range_tags, user_chunks
    from outropy_pipelines.pipeline_runner import PipelineRunner, RunSummary

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
        settings = Settings(
            duckdb_path=db,
            slack_export=export,
            timezone="UTC",
            start_date=cfg.start_date,
            briefings_dir=home / "briefings",
            workspace_url="https://bench.slack.com",
        )
        store = DuckDBStore(db)
        users = [
            r["user_id"] for r in store.query("SELECT user_id FROM subscriptions WHERE active ORDER BY 1")
        ]
        if users_n > len(users):
            results[label] = {"skipped": f"workspace has {len(users)} subscribed users"}
            continue
        # keep exactly the first N subscribed
        store.execute("UPDATE subscriptions SET active = user_id IN (SELECT unnest(?))", [users[:users_n]])
        with _sqlite_instance(home) as instance:
            runner = PipelineRunner(
                settings, instance=instance, users_per_run=cfg.users_per_run, days_per_run=ndays
            )
            chosen = runner.sync_user_partitions()
            days = list(days_between(cfg.start_date, shift_day(cfg.start_date, ndays - 1)))
            say(f"  dagster: {ndays} day(s) x {len(chosen):,} users ...")
            summary = RunSummary()
            start = time.perf_counter()
            ok = True
            for group in user_chunks(chosen, cfg.users_per_run):
                ok &= runner.execute(
                    "user_briefings_job", briefing_range_tags(days[0], days[-1], group), summary
                )
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
                {
                    "OUTROPY_DUCKDB_PATH": str(db),
                    "OUTROPY_SLACK_EXPORT": str(export),
                    "OUTROPY_START_DATE": cfg.start_date,
                },
                Path(__file__).resolve().parents[2],
            )
    return results


@contextmanager
def _sqlite_instance(home: Path):
    """A persistent SQLite-backed instance in `home` (what `dagster dev` uses by default)."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        yield instance
    finally:
        instance.dispose()


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "workers": worker_count(),  # processes of the threads and local classification stages
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run_scale_bench(cfg: ScaleBenchConfig, say: Callable[[str], None] = print) -> dict[str, Any]:
    work = Path(cfg.workdir) if cfg.workdir else Path(tempfile.mkdtemp(prefix="outropy-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    export = work / "export"
    if export.exists():
        shutil.rmtree(export)
    from outropy_pipelines.sample import generate_scaled_workspace

    people = max([cfg.users, *cfg.token_user_counts, *cfg.dagster_user_counts, cfg.backfill_users])
    say(
        f"generating {cfg.days} day(s) x {cfg.messages_per_day:,} messages, {people:,} people, "
        f"{cfg.channels} channels into {export} ..."
    )
    start = time.perf_counter()
    generate_scaled_workspace(
        export,
        seed=cfg.seed,
        users=people,
        channels=cfg.channels,
        days=cfg.days,
        messages_per_day=cfg.messages_per_day,
        start_date=cfg.start_date,
    )
    generation = time.perf_counter() - start
    days = list(days_between(cfg.start_date, shift_day(cfg.start_date, cfg.days - 1)))
    db_path = work / "bench.duckdb"
    if db_path.exists():
        db_path.unlink()
    say("running the stages (local provider) ...")
    report: dict[str, Any] = {
        "config": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items() if k != "workdir"
        },
        "machine": machine(),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "generation_seconds": round(generation, 2),
    }
    report.update(run_stages(cfg, export, db_path, days, say))
    say("counting tokens (ours vs naive) ...")
    report["tokens"] = token_comparison(db_path, days[-1], cfg.token_user_counts)
    report["dagster"] = dagster_at_scale(cfg, export, work, say) if cfg.dagster_user_counts else {}
    if not cfg.keep and not cfg.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return report


def format_report(r: dict[str, Any]) -> str:
    lines = [
        f"messages: {r['messages']:,} over {len(r['per_day'])} day(s); briefings for {r['briefing_users']:,} users",
        f"machine: {r['machine']['cpus']} CPUs, {r['machine']['memory_gb']} GB; "
        f"{r['machine']['workers']} worker process(es) for threads and local classification",
        "",
        f"{'stage':<18}{'seconds':>10}{'msgs/s':>12}{'peak RSS MB':>14}",
    ]
    for s in r["stages"]:
        mps = f"{s['messages_per_second']:,}" if s["messages_per_second"] else "-"
        lines.append(f"{s['name']:<18}{s['seconds']:>10.2f}{mps:>12}{s['peak_rss_mb']:>14.0f}")
    lines.append(
        f"{'end to end':<18}{r['end_to_end_seconds']:>10.2f}{r['end_to_end_messages_per_second']:>12,}{r['peak_rss_mb']:>14.0f}"
    )
    ing = r["ingest_vs_duckdb_scan"]
    lines += [
        "",
        f"ingest vs DuckDB read_json of the same files: {ing['ingest_seconds']:.2f}s vs "
        f"{ing['duckdb_read_json_seconds']:.2f}s = {ing['ratio']}x",
        f"DuckDB file: {r['duckdb_file_mb']} MB",
        "",
        f"{'users':>8}{'ours tokens':>14}{'naive tokens':>15}{'naive/ours':>12}",
    ]
    for n, t in r["tokens"].items():
        if "skipped" in t:
            lines.append(f"{n:>8}  skipped: {t['skipped']}")
        else:
            lines.append(f"{n:>8}{t['ours']:>14,}{t['naive']:>15,}{t['ratio']:>12}")
    if r.get("dagster"):
        lines += ["", f"{'dagster':<34}{'runs':>6}{'partitions':>12}{'wall s':>9}{'ms/partition':>14}"]
        for label, d in r["dagster"].items():
            if "skipped" in d:
                lines.append(f"{label:<34} skipped: {d['skipped']}")
                continue
            lines.append(
                f"{label:<34}{d['runs']:>6}{d['partitions']:>12,}{d['wall_seconds']:>9.1f}{d['seconds_per_partition_ms']:>14.1f}"
            )
            ui = d.get("ui_partition_status_query")
            if ui and "seconds_median" in ui:
                lines.append(f"{'  UI partition-status query (s)':<34}{ui['seconds_median']:>41.2f}")
    return "\n".join(lines)
