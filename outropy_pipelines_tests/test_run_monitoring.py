"""Killed runs do not hold the run queue: the real daemon fails them and starts the next run.

`dagster-daemon run` on a temporary instance configured by the repository's dagster.yaml (storage
moved into the test's folder, monitoring intervals shortened, one run at a time so a dead run
visibly blocks the queue). The code location is a small job whose op sleeps, with our
`fail_runs_whose_process_died` sensor, served by a code server the test runs (and restarts after
killing it, as a supervisor would). Runs are queued with `dagster job launch`, in priority order:

- E: executed in-process by another process (as `outropy run` and `outropy deliver` do), killed
  with SIGKILL before the daemon starts: STARTED for ever, holding the only run slot; our sensor
  fails it;
- A: its run worker is killed, with the code server that launched it, while the run is STARTING:
  Dagster's run monitoring (`start_timeout_seconds`) fails it;
- B: killed the same way once STARTED: nothing in Dagster notices with the default run launcher
  (the code server that would have is gone); our sensor fails it;
- C: only its run worker is killed: the code server that launched it reports it failed;
- D: an ordinary run, which starts and succeeds once the dead ones stopped holding the queue.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import yaml
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from outropy_pipelines.defs.run_monitor import HOST_TAG, fail_dead_runs
from outropy_pipelines_tests.conftest import REPO
from outropy_pipelines_tests.local_http_server import free_port

CODE = """
import multiprocessing, os, time
from pathlib import Path
from dagster import Config, Definitions, in_process_executor, job, op
from outropy_pipelines.defs.run_monitor import fail_runs_whose_process_died

HOLD, STARTING = Path({hold!r}), Path({starting!r})
if HOLD.exists() and multiprocessing.parent_process() is not None:  # a run worker starting up
    STARTING.write_text(str(os.getpid()))
    while HOLD.exists():
        time.sleep(0.1)


class Nap(Config):
    seconds: float
    pid_file: str


@op
def nap(config: Nap) -> None:
    Path(config.pid_file).write_text(str(os.getpid()))
    time.sleep(config.seconds)


@job(executor_def=in_process_executor)
def sleepy():
    nap()


defs = Definitions(jobs=[sleepy], sensors=[fail_runs_whose_process_died])
"""


def _instance_yaml(home: Path) -> str:
    """The repository's dagster.yaml, its storage in `home`, monitoring every second."""
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    config["storage"]["sqlite"]["base_dir"] = str(home / "storage")
    config["local_artifact_storage"]["config"]["base_dir"] = str(home)
    config["compute_logs"]["config"]["base_dir"] = str(home / "logs")
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_monitoring"]["max_resume_run_attempts"] == 0
    config["run_monitoring"].update(poll_interval_seconds=1, start_timeout_seconds=8)
    config["run_queue"]["max_concurrent_runs"] = 1
    return yaml.safe_dump(config)


def _wait(what: str, condition, timeout: float, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    shown = log.read_text()[-4000:] if log.exists() else "(none)"
    raise AssertionError(f"timed out waiting for {what}; {log.name}:\n{shown}")


def _pid(path: Path) -> int | None:
    """The pid a process wrote to `path`, once it has."""
    return int(path.read_text()) if path.exists() and path.read_text() else None


IN_PROCESS = """
import importlib.util, json, sys
from dagster import DagsterInstance
from outropy_pipelines.defs.run_monitor import in_process_tags
spec = importlib.util.spec_from_file_location("monitored", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.sleepy.execute_in_process(
    instance=DagsterInstance.get(),
    run_config={"ops": {"nap": {"config": {"seconds": 300, "pid_file": sys.argv[2]}}}},
    tags={**in_process_tags(), **json.loads(sys.argv[3])},
)
"""


def _in_process_run(code: Path, pid_file: Path, tags: dict, env: dict, kill: bool = True) -> subprocess.Popen:
    """Run `sleepy` in-process in another process (as `outropy run` does); once it is running,
    kill it with SIGKILL unless `kill` is false."""
    proc = subprocess.Popen(
        [sys.executable, "-c", IN_PROCESS, str(code), str(pid_file), json.dumps(tags)],
        cwd=code.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait(f"{pid_file.stem} running", lambda: _pid(pid_file), 120, pid_file)
    finally:
        if kill or proc.poll() is not None:
            proc.kill()
            proc.wait(10)
    return proc


class CodeServer:
    """`dagster api grpc` serving the test's code location on a fixed port; restartable."""

    def __init__(self, code: Path, port: int, env: dict, log: Path) -> None:
        self.args = [str(BIN / "dagster"), "api", "grpc", "-h", "127.0.0.1", "-p", str(port), "-f", str(code)]
        self.port, self.env, self.log, self.proc = port, env, log, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.args,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        health = [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(self.port)]
        _wait(
            "the code server",
            lambda: subprocess.run(health, env=self.env, capture_output=True).returncode == 0,
            60,
            self.log,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


BIN = Path(sys.executable).parent


def test_killed_runs_are_failed_and_the_queue_moves_on(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(_instance_yaml(home))
    hold, starting = tmp_path / "hold", tmp_path / "starting.pid"
    code = tmp_path / "monitored.py"
    code.write_text(CODE.format(hold=str(hold), starting=str(starting)))
    port = free_port()
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {"grpc_server": {"host": "127.0.0.1", "port": port, "location_name": "monitored"}}
                ]
            }
        )
    )
    env = {**os.environ, "DAGSTER_HOME": str(home), "OUTROPY_RUN_MONITOR_INTERVAL_SECONDS": "1"}
    log = tmp_path / "daemon.log"
    server = CodeServer(code, port, env, tmp_path / "code-server.log")
    started = time.monotonic()
    server.start()
    daemon = None
    pids: list[int] = []
    try:
        # E: a run executed in-process by a process that is then killed, like a killed `outropy run`
        _in_process_run(code, tmp_path / "E.pid", {"scenario": "E"}, env)

        # A, B, C, D queued before the daemon starts; their priorities fix the order
        hold.touch()
        plan = (("A", 300, 3), ("B", 300, 2), ("C", 300, 1), ("D", 0.1, 0))
        launches = [
            subprocess.Popen(
                [
                    str(BIN / "dagster"), "job", "launch", "-w", str(workspace), "-j", "sleepy",
                    "--tags", json.dumps({"scenario": name, "dagster/priority": str(priority)}),
                    "--config-json", json.dumps(
                        {"ops": {"nap": {"config": {"seconds": seconds, "pid_file": str(tmp_path / f"{name}.pid")}}}}
                    ),
                ],
                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            )
            for name, seconds, priority in plan
        ]  # fmt: skip
        for launch in launches:
            assert launch.wait(120) == 0
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        instance = DagsterInstance.get()
        runs = {r.tags["scenario"]: r.run_id for r in instance.get_runs()}
        assert sorted(runs) == ["A", "B", "C", "D", "E"]

        def status(name: str) -> DagsterRunStatus:
            return instance.get_run_by_id(runs[name]).status

        def failure_message(name: str) -> str:
            (event,) = instance.all_logs(runs[name], of_type=DagsterEventType.RUN_FAILURE)
            return event.message or ""

        assert status("E") == DagsterRunStatus.STARTED  # dead, but nothing says so yet
        assert {status(n) for n in "ABCD"} == {DagsterRunStatus.QUEUED}

        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)],
            cwd=tmp_path, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        # E holds the only slot until the sensor sees its process is gone
        _wait("E failed", lambda: status("E") == DagsterRunStatus.FAILURE, 60, log)
        assert "fail_runs_whose_process_died" in failure_message("E")

        # A: killed while starting (held at import), with its code server: run monitoring fails it
        worker = _wait("A's run worker", lambda: _pid(starting), 60, log)
        pids.append(worker)
        assert status("A") == DagsterRunStatus.STARTING and status("B") == DagsterRunStatus.QUEUED
        assert psutil.Process(worker).ppid() == server.proc.pid
        os.kill(worker, signal.SIGKILL)
        server.stop()
        hold.unlink()
        server.start()  # a supervisor brings the code server back; the run it launched stays dead
        _wait("A failed", lambda: status("A") == DagsterRunStatus.FAILURE, 60, log)
        assert "to start" in failure_message("A")  # run monitoring's start timeout

        # B: killed once started, with its code server: only our sensor notices
        worker = _wait("B's run worker", lambda: _pid(tmp_path / "B.pid"), 90, log)
        pids.append(worker)
        _wait("B started", lambda: status("B") == DagsterRunStatus.STARTED, 30, log)
        os.kill(worker, signal.SIGKILL)
        server.stop()
        server.start()
        _wait("B failed", lambda: status("B") == DagsterRunStatus.FAILURE, 60, log)
        assert "fail_runs_whose_process_died" in failure_message("B")

        # C: only the run worker is killed: the code server that launched it reports it failed
        worker = _wait("C's run worker", lambda: _pid(tmp_path / "C.pid"), 90, log)
        pids.append(worker)
        _wait("C started", lambda: status("C") == DagsterRunStatus.STARTED, 30, log)
        os.kill(worker, signal.SIGKILL)
        _wait("C failed", lambda: status("C") == DagsterRunStatus.FAILURE, 30, log)

        # D: the queue moved on
        _wait("D succeeded", lambda: status("D") == DagsterRunStatus.SUCCESS, 90, log)
        assert {status(n) for n in "ABCE"} == {DagsterRunStatus.FAILURE}
        print(f"whole test {time.monotonic() - started:.1f}s")
        instance.dispose()
    finally:
        hold.unlink(missing_ok=True)
        if daemon is not None:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait(timeout=10)
        server.stop()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_only_runs_of_this_host_whose_process_died_are_failed(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(_instance_yaml(home))
    code = tmp_path / "monitored.py"
    code.write_text(CODE.format(hold=str(tmp_path / "hold"), starting=str(tmp_path / "starting.pid")))
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    live = _in_process_run(code, tmp_path / "live.pid", {"scenario": "live"}, env, kill=False)
    try:
        _in_process_run(code, tmp_path / "here.pid", {"scenario": "here"}, env)
        _in_process_run(code, tmp_path / "there.pid", {"scenario": "there", HOST_TAG: "elsewhere"}, env)
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        instance = DagsterInstance.get()
        runs = {r.tags["scenario"]: r.run_id for r in instance.get_runs()}
        assert {instance.get_run_by_id(r).status for r in runs.values()} == {DagsterRunStatus.STARTED}
        assert fail_dead_runs(instance) == ([runs["here"]], 3)
        assert instance.get_run_by_id(runs["here"]).status == DagsterRunStatus.FAILURE
        # a run another machine (or container) executes cannot be judged from here: left alone;
        # a live run is left alone
        assert instance.get_run_by_id(runs["there"]).status == DagsterRunStatus.STARTED
        assert instance.get_run_by_id(runs["live"]).status == DagsterRunStatus.STARTED
        assert fail_dead_runs(instance) == ([], 2)
        live.kill()
        live.wait(10)
        assert fail_dead_runs(instance) == ([runs["live"]], 2)
        instance.dispose()
    finally:
        if live.poll() is None:
            live.kill()
            live.wait(10)
