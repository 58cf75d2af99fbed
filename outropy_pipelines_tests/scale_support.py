"""Helpers of the `scale` tests: a Dagster home on the production profile, the environment its
processes get, and the rows of a store to compare two runs by."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from outropy_pipelines.store import DuckDBStore
from outropy_pipelines_tests.conftest import REPO, SAMPLE_EXPORT
from outropy_pipelines_tests.servers import PostgresServer

BIN = Path(sys.executable).parent
#: the tables a day of the daily pipeline writes (by its `day`), and the directory (whole)
DAY_TABLES = [
    "raw_messages", "quarantine", "threads", "thread_messages", "items", "item_sources",
    "llm_failures", "entity_summaries",
]  # fmt: skip
DIRECTORY_TABLES = ["users", "channels", "channel_members", "subscriptions"]


def production_home(tmp: Path, name: str = "dagster_home") -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml (so the instance's local files stay in `tmp`)."""
    home = tmp / name
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    return home


def process_env(home: Path, pg: PostgresServer, db: str, tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a webserver, daemon, run worker or Celery worker of that deployment."""
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DAGSTER_HOME": str(home),
        "OUTROPY_DUCKDB_PATH": str(tmp / "outropy.duckdb"),
        "OUTROPY_SLACK_EXPORT": str(SAMPLE_EXPORT),
        "OUTROPY_BRIEFINGS_DIR": str(tmp / "briefings"),
        "OUTROPY_SLACK_WORKSPACE_URL": "https://acme.slack.com",
        "OUTROPY_WORKERS": "1",
        **pg.env(db),
    }
    env.update(extra)
    return env


def day_rows(store: DuckDBStore, day: str) -> dict[str, list[dict]]:
    """Every row a day of the daily pipeline wrote, sorted, per table."""
    rows = {t: store.query(f"SELECT * FROM {t} WHERE day = ? ORDER BY ALL", [day]) for t in DAY_TABLES}
    rows.update({t: store.query(f"SELECT * FROM {t} ORDER BY ALL") for t in DIRECTORY_TABLES})
    return rows


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most (start, end) intervals in progress at one instant."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in edges:  # an end sorts before a start at the same instant
        running += step
        peak = max(peak, running)
    return peak


def lake_or_skip() -> None:
    """Skip when the lake extensions (the `lake` extra) are not installed."""
    import pytest

    from outropy_pipelines.store.ducklake_store import LakeUnavailableError, extension_files

    try:
        extension_files()
    except LakeUnavailableError as exc:
        pytest.skip(str(exc))


def lake_catalog(pg: PostgresServer, db: str) -> str:
    """OUTROPY_DUCKLAKE_CATALOG of a lake whose catalog is the database `db` (password apart)."""
    return f"dbname={db} host={pg.host} port={pg.port} user={pg.user}"


def run_daemon_until_done(
    instance: DagsterInstance,
    job_name: str,
    workspace: str,
    env: dict[str, str],
    log: Path,
    timeout: float,
    poll: float,
) -> int:
    """Run a real dagster-daemon (the run queue, sensors, monitoring) until every run of `job_name`
    has finished or `timeout` seconds pass, then stop it; its output goes to `log`. Returns the most
    runs of the job seen starting or started at once (polled every `poll` seconds)."""
    with log.open("w") as out:
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", workspace],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        peak_in_progress = 0
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                runs = instance.get_runs(RunsFilter(job_name=job_name))
                busy = [r for r in runs if r.status in (DagsterRunStatus.STARTING, DagsterRunStatus.STARTED)]
                peak_in_progress = max(peak_in_progress, len(busy))
                if all(r.is_finished for r in runs):
                    break
                time.sleep(poll)
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait()
    return peak_in_progress
