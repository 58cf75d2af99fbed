"""Real servers for the `scale` tests: PostgreSQL and Redis from the Debian packages.

Each starts on a free port of 127.0.0.1 with its data in a temporary folder, and is stopped (and
its folder removed) at the end. Nothing here is a fake: `initdb` + `postgres`, `redis-server`.
When a binary is absent the tests that need it skip, naming the package to install (`.ci/run`
installs both).

PostgreSQL refuses to run as root; under root the server runs as the `postgres` user the Debian
package creates (or `nobody`), in a folder that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from outropy_pipelines_tests.local_http_server import free_port

PG_USER = "outropy"
PG_PASSWORD = "outropy-test-password"


def find_postgres_bin() -> Path | None:
    """The folder holding `initdb` and `postgres` (PATH first, then Debian's versioned folders)."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return Path(initdb).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def find_redis_server() -> str | None:
    return shutil.which("redis-server")


def _wait_for_port(port: int, proc: subprocess.Popen, what: str, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def _stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class PostgresServer:
    """A PostgreSQL server of its own: `initdb` into a temporary folder, password login."""

    bin_dir: Path
    port: int = 0
    root: Path | None = None
    proc: subprocess.Popen | None = None

    host = "127.0.0.1"
    user = PG_USER
    password = PG_PASSWORD

    def _run_as(self) -> dict:
        if os.geteuid() != 0:
            return {}
        for name in ("postgres", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return {"user": entry.pw_uid, "group": entry.pw_gid}
        raise RuntimeError("PostgreSQL cannot run as root and there is no postgres or nobody user")

    def start(self) -> PostgresServer:
        as_user = self._run_as()
        self.root = Path(tempfile.mkdtemp(prefix="outropy-pg-"))
        data, pwfile, log = self.root / "data", self.root / "pw", self.root / "postgres.log"
        pwfile.write_text(self.password + "\n")
        if as_user:
            os.chown(self.root, as_user["user"], as_user["group"])
            os.chown(pwfile, as_user["user"], as_user["group"])
        subprocess.run(
            [str(self.bin_dir / "initdb"), "-D", str(data), "-U", self.user, f"--pwfile={pwfile}",
             "--auth=scram-sha-256", "--encoding=UTF8", "--no-sync"],
            check=True, capture_output=True, **as_user,
        )  # fmt: skip
        self.port = free_port()
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(data), "-h", self.host, "-p", str(self.port),
                 "-k", str(self.root), "-c", "max_connections=200", "-c", "fsync=off",
                 "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **as_user,
            )  # fmt: skip
        _wait_for_port(self.port, self.proc, "postgres", log)
        # accepting TCP is not yet accepting logins: wait until a query answers
        deadline = time.monotonic() + 30
        while True:
            try:
                self.execute("SELECT 1", db="postgres")
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return self

    def execute(self, sql: str, db: str = "postgres") -> str:
        """Run `sql` with the psql client of the same installation."""
        psql = self.bin_dir / "psql"
        out = subprocess.run(
            [str(psql if psql.exists() else "psql"), "-h", self.host, "-p", str(self.port), "-U", self.user,
             "-d", db, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
            check=True, capture_output=True, text=True, env={**os.environ, "PGPASSWORD": self.password},
        )  # fmt: skip
        return out.stdout

    def create_database(self, name: str) -> str:
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def env(self, db: str) -> dict[str, str]:
        """The variables the production profile (deploy/dagster.yaml) reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": db,
        }

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)  # SIGTERM: PostgreSQL's "smart" shutdown
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class RedisServer:
    """A Redis server of its own, no persistence, on a free port."""

    binary: str
    port: int = 0
    root: Path | None = None
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> RedisServer:
        self.root = Path(tempfile.mkdtemp(prefix="outropy-redis-"))
        self.port = free_port()
        log = self.root / "redis.log"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.root)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        _wait_for_port(self.port, self.proc, "redis-server", log)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
