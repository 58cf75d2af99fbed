"""User errors at the `outropy` command line: one line starting with `outropy:` holding the facts
to fix it, exit 2 for a usage error and 1 at run time, never a traceback.

Run as a user runs them: in-process through `cli.main([...])` (the real parser, settings from the
environment, real files) and, for some, through the installed `outropy` console script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from outropy_pipelines.cli import build_parser, main
from outropy_pipelines.store import DuckDBStore, ducklake_store
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT
from outropy_pipelines_tests.local_http_server import free_port

#: the console script `pip install` made (the entry point outropy_pipelines.cli:main)
OUTROPY = Path(sys.executable).with_name("outropy")
EXPORT_DAYS = "2026-11-02 .. 2026-11-08"
DAY_FORMS = "YYYY-MM-DD, today or yesterday"


def assert_user_error(code: int, stderr: str, expected_code: int, *facts: str) -> None:
    """`code` is `expected_code`, stderr is one or two `outropy:` lines holding `facts`, and no traceback."""
    assert code == expected_code, stderr
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2 and all(line.startswith("outropy: ") for line in lines), stderr
    for fact in facts:
        assert fact in stderr, (fact, stderr)


def outropy(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """The installed console script, in a fresh process."""
    assert OUTROPY.exists(), f"the console script is not installed at {OUTROPY}"
    return subprocess.run(
        [str(OUTROPY), *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a fresh workspace on the sample export, in this process and for children."""
    env = {
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "OUTROPY_DUCKDB_PATH": str(tmp_path / "outropy.duckdb"),
        "OUTROPY_SLACK_EXPORT": str(SAMPLE_EXPORT),
        "OUTROPY_BRIEFINGS_DIR": str(tmp_path / "briefings"),
        "OUTROPY_TIMEZONE": "UTC",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return env


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def yesterday(timezone: str = "UTC") -> str:
    return (dt.datetime.now(ZoneInfo(timezone)).date() - dt.timedelta(days=1)).isoformat()


# -- days ----------------------------------------------------------------------------------------
def test_run_on_a_day_before_the_data_names_the_export_days(workspace, tmp_path):
    proc = outropy("run", "--date", "2025-01-01", env=workspace, cwd=tmp_path)
    assert_user_error(proc.returncode, proc.stderr, 2, "no messages in the export on 2025-01-01", EXPORT_DAYS)
    assert not (tmp_path / "outropy.duckdb").exists(), "nothing runs for a day without data"


def test_run_on_a_day_after_the_data_names_the_export_days(workspace, tmp_path, capsys):
    day = yesterday()
    code, _, stderr = run_main(capsys, "run", "--date", "yesterday")
    assert_user_error(code, stderr, 2, f"no messages in the export on {day}", EXPORT_DAYS)
    assert not (tmp_path / "outropy.duckdb").exists()


def test_run_on_a_range_past_the_data_names_the_missing_days(workspace, capsys):
    code, _, stderr = run_main(capsys, "run", "--start", "2026-11-05", "--end", "2026-11-12")
    assert_user_error(code, stderr, 2, "no messages in the export on 2026-11-09 .. 2026-11-12", EXPORT_DAYS)
    code, _, stderr = run_main(capsys, "run", "--start", "2026-11-20")
    assert_user_error(code, stderr, 2, "on or after 2026-11-20", EXPORT_DAYS)


def test_run_on_a_day_before_the_partitions_names_the_valid_range(workspace, capsys):
    code, _, stderr = run_main(capsys, "run", "--date", "2019-05-01")
    assert_user_error(
        code, stderr, 2, "2019-05-01 is before the first daily partition 2020-01-01", "OUTROPY_START_DATE"
    )
    assert f"2020-01-01 .. {yesterday()}" in stderr


def test_run_today_is_refused_until_the_day_is_over(workspace, capsys):
    code, _, stderr = run_main(capsys, "run", "--date", "today")
    today = dt.datetime.now(ZoneInfo("UTC")).date().isoformat()
    assert_user_error(code, stderr, 2, f"{today} has not ended yet", f"2020-01-01 .. {yesterday()}")


DATE_OPTIONS = [
    ("run", "--date"),
    ("run", "--start"),
    ("run", "--end"),
    ("briefing", "--user", "alice", "--date"),
    ("deliver", "--date"),
    ("bench", "tokens", "--date"),
]


@pytest.mark.parametrize("option", DATE_OPTIONS, ids=lambda o: " ".join(o))
@pytest.mark.parametrize("value", ["2026/11/03", "2026-13-01", "2026-11-3", "tomorrow"])
def test_every_date_option_refuses_what_is_not_a_day(option, value, workspace, capsys):
    code, _, stderr = run_main(capsys, *option, value)
    assert_user_error(code, stderr, 2, f"argument {option[-1]}:", repr(value), DAY_FORMS)


@pytest.mark.parametrize("option", DATE_OPTIONS, ids=lambda o: " ".join(o))
def test_every_date_option_takes_the_same_forms(option, monkeypatch):
    # a time zone far from UTC: today and yesterday are the workspace's, not the machine's
    zone = "Pacific/Kiritimati"
    monkeypatch.setenv("OUTROPY_TIMEZONE", zone)
    dest = option[-1].lstrip("-")
    today = dt.datetime.now(ZoneInfo(zone)).date()
    for value, expected in (
        ("2026-11-03", "2026-11-03"),
        ("today", today.isoformat()),
        (" Yesterday ", (today - dt.timedelta(days=1)).isoformat()),
    ):
        args = build_parser().parse_args([*option, value])
        assert getattr(args, dest) == expected, (option, value)


# -- paths ---------------------------------------------------------------------------------------
def test_threads_on_a_missing_export_folder(workspace, tmp_path):
    proc = outropy(
        "threads", "/does/not/exist", "--out", str(tmp_path / "t.jsonl"), env=workspace, cwd=tmp_path
    )
    assert_user_error(proc.returncode, proc.stderr, 2, "Slack export not found: /does/not/exist")
    assert not (tmp_path / "t.jsonl").exists()


def test_items_on_an_empty_folder(workspace, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, stderr = run_main(capsys, "items", str(empty), "--out", str(tmp_path / "i.jsonl"))
    assert_user_error(code, stderr, 2, f"{empty} is not a Slack export", "channels.json")


def test_items_on_an_export_without_messages(workspace, tmp_path, capsys):
    export = tmp_path / "no_messages"
    (export / "general").mkdir(parents=True)
    (export / "channels.json").write_text('[{"id": "C1", "name": "general"}]')
    (export / "users.json").write_text('[{"id": "U1", "name": "ann"}]')
    code, _, stderr = run_main(capsys, "items", str(export), "--out", str(tmp_path / "i.jsonl"))
    assert_user_error(code, stderr, 2, f"the Slack export {export} holds no messages", "day files")


def test_threads_out_in_a_missing_folder_is_refused_before_the_work(workspace, tmp_path):
    out = tmp_path / "missing" / "dir" / "x.jsonl"
    proc = outropy("threads", str(SAMPLE_EXPORT), "--out", str(out), env=workspace, cwd=tmp_path)
    assert_user_error(
        proc.returncode, proc.stderr, 2, "argument --out:", f"the folder {out.parent} does not exist"
    )
    assert not proc.stdout and "messages ->" not in proc.stderr  # refused before reading the export


def test_items_out_that_is_a_folder(workspace, tmp_path, capsys):
    code, _, stderr = run_main(capsys, "items", str(SAMPLE_EXPORT), "--out", str(tmp_path))
    assert_user_error(code, stderr, 2, "argument --out:", f"{tmp_path} is a folder")


def test_an_export_that_is_a_file_is_refused_in_one_line(workspace, tmp_path, capsys):
    archive = tmp_path / "export.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # not an export folder, nor one we can read
    for argv in (["run", "--export", str(archive)], ["threads", str(archive), "--out", "t.jsonl"]):
        code, _, stderr = run_main(capsys, *argv)
        assert_user_error(code, stderr, 2, f"{archive} is not a Slack export")
    assert not (tmp_path / "outropy.duckdb").exists() and not (tmp_path / "t.jsonl").exists()


def test_run_on_a_missing_export(workspace, tmp_path, capsys):
    missing = tmp_path / "nowhere"
    code, _, stderr = run_main(capsys, "run", "--export", str(missing), "--date", "2026-11-03")
    assert_user_error(code, stderr, 2, f"Slack export not found: {missing}")


def test_run_on_a_folder_that_is_not_an_export(workspace, tmp_path, capsys):
    folder = tmp_path / "photos"
    (folder / "2026").mkdir(parents=True)
    code, _, stderr = run_main(capsys, "run", "--export", str(folder))
    assert_user_error(code, stderr, 2, f"{folder} is not a Slack export", "channels.json")


def test_briefing_without_a_duckdb_file(workspace, tmp_path, capsys):
    code, _, stderr = run_main(capsys, "briefing", "--date", "2026-11-03", "--user", "alice")
    assert_user_error(code, stderr, 2, f"no DuckDB file at {tmp_path / 'outropy.duckdb'}", "run")


def test_bench_tokens_db_that_does_not_exist(workspace, tmp_path, capsys):
    code, _, stderr = run_main(capsys, "bench", "tokens", "--db", str(tmp_path / "nope.duckdb"))
    assert_user_error(code, stderr, 2, "argument --db:", "nope.duckdb does not exist")


# -- lake import: the file, the lake's settings, the lake extra, the catalog -------------------------
LAKE_SETTINGS = ("OUTROPY_DUCKLAKE_CATALOG", "OUTROPY_DUCKLAKE_DATA_PATH", "OUTROPY_DUCKLAKE_PASSWORD")


@pytest.fixture
def lake_workspace(workspace, tmp_path, monkeypatch) -> Path:
    """A workspace whose lake settings point at a catalog nobody serves; returns a real DuckDB file."""
    monkeypatch.setenv("OUTROPY_DUCKLAKE_CATALOG", f"dbname=lake host=127.0.0.1 port={free_port()} user=u")
    monkeypatch.setenv("OUTROPY_DUCKLAKE_DATA_PATH", str(tmp_path / "lake_data"))
    monkeypatch.setenv("OUTROPY_DUCKLAKE_PASSWORD", "not-this-secret")
    source = tmp_path / "outropy.duckdb"
    DuckDBStore(source).ensure_schema()
    return source


def test_lake_import_of_a_missing_file(workspace, tmp_path, capsys):
    code, _, stderr = run_main(capsys, "lake", "import", str(tmp_path / "nope.duckdb"))
    assert_user_error(code, stderr, 2, "argument FILE.duckdb:", "nope.duckdb does not exist")


def test_lake_import_without_a_lake_names_the_settings(workspace, tmp_path, monkeypatch, capsys):
    for name in LAKE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    source = tmp_path / "outropy.duckdb"
    DuckDBStore(source).ensure_schema()
    code, _, stderr = run_main(capsys, "lake", "import", str(source))
    assert_user_error(
        code,
        stderr,
        2,
        "the lake is not configured: set OUTROPY_DUCKLAKE_CATALOG and OUTROPY_DUCKLAKE_DATA_PATH",
    )


def test_lake_import_without_the_lake_extra(lake_workspace, monkeypatch, capsys):
    def not_installed():
        raise ducklake_store.LakeUnavailableError(
            "the lake backend needs the Python package duckdb-extension-ducklake (pip install -e '.[lake]')"
        )

    monkeypatch.setattr(ducklake_store, "extension_files", not_installed)
    code, _, stderr = run_main(capsys, "lake", "import", str(lake_workspace))
    assert_user_error(code, stderr, 2, "duckdb-extension-ducklake", "pip install -e '.[lake]'")


def test_lake_import_of_a_file_that_is_not_duckdb(lake_workspace, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ducklake_store, "extension_files", lambda: ())  # checked before any lake
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n")
    code, _, stderr = run_main(capsys, "lake", "import", str(text))
    assert_user_error(code, stderr, 2, f"{text} is not a DuckDB file this DuckDB can open")


def test_lake_import_when_the_catalog_cannot_be_reached(lake_workspace, capsys):
    try:
        ducklake_store.extension_files()
    except ducklake_store.LakeUnavailableError as exc:
        pytest.skip(str(exc))
    code, _, stderr = run_main(capsys, "lake", "import", str(lake_workspace))
    assert_user_error(code, stderr, 1, "cannot attach the lake catalog", "Unable to connect to Postgres")
    assert "not-this-secret" not in stderr


# -- briefings: unknown user, a day without briefings, a user without one that day -----------------
@pytest.fixture(scope="module")
def briefed(tmp_path_factory) -> tuple[dict[str, str], Path]:
    """Two days run through the console script: everyone briefed on 2026-11-03; on 2026-11-04 bob
    has unsubscribed."""
    tmp = tmp_path_factory.mktemp("briefed")
    env = {
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "OUTROPY_DUCKDB_PATH": str(tmp / "outropy.duckdb"),
        "OUTROPY_SLACK_EXPORT": str(SAMPLE_EXPORT),
        "OUTROPY_BRIEFINGS_DIR": str(tmp / "briefings"),
        "OUTROPY_TIMEZONE": "UTC",
    }
    first = outropy("run", "--date", "2026-11-03", env=env, cwd=tmp)
    assert first.returncode == 0, first.stdout + first.stderr
    subscriptions = tmp / "subscriptions.yaml"
    subscriptions.write_text("users:\n  U002BOB: {active: false}\n")
    second = outropy(
        "run", "--date", "2026-11-04", env={**env, "OUTROPY_SUBSCRIPTIONS_FILE": str(subscriptions)}, cwd=tmp
    )
    assert second.returncode == 0, second.stdout + second.stderr
    return env, tmp


def test_briefing_of_an_unknown_user(briefed):
    env, tmp = briefed
    proc = outropy("briefing", "--date", "2026-11-03", "--user", "U999NOBODY", env=env, cwd=tmp)
    assert_user_error(proc.returncode, proc.stderr, 1, "unknown user 'U999NOBODY'")


def test_briefing_of_a_known_user_without_one_that_day_lists_their_days(briefed, monkeypatch, capsys):
    env, _ = briefed
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, _, stderr = run_main(capsys, "briefing", "--date", "2026-11-04", "--user", "bob")
    assert_user_error(
        code, stderr, 1, "bob (U002BOB) has no briefing on 2026-11-04", "their briefings: 2026-11-03"
    )
    assert "unknown user" not in stderr
    code, _, stderr = run_main(capsys, "briefing", "--date", "2026-11-04", "--user", "deploybot")
    assert_user_error(code, stderr, 1, "has no briefing on 2026-11-04, nor on any other day")
    code, out, _ = run_main(capsys, "briefing", "--date", "2026-11-03", "--user", "Bob Okafor")
    assert code == 0 and out.startswith("# ")  # a real name finds the same user


def test_briefing_on_a_day_without_briefings_lists_the_days_with_them(briefed, monkeypatch, capsys):
    env, _ = briefed
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for given, day in (("2026-11-05", "2026-11-05"), ("yesterday", yesterday())):
        code, _, stderr = run_main(capsys, "briefing", "--date", given, "--user", "alice")
        assert_user_error(
            code, stderr, 1, f"no briefings at all on {day}", "days with briefings: 2026-11-03 .. 2026-11-04"
        )


# -- the last resort -----------------------------------------------------------------------------
def test_an_unexpected_error_is_one_line_saying_where_and_the_traceback_is_at_debug(workspace, tmp_path):
    broken = tmp_path / "outropy.duckdb"
    broken.write_text("not a DuckDB file")
    proc = outropy("briefing", "--date", "2026-11-03", "--user", "alice", env=workspace, cwd=tmp_path)
    assert_user_error(
        proc.returncode,
        proc.stderr,
        1,
        "outropy: unexpected error: IOException",
        "(at outropy_pipelines/store/duckdb_store.py:",
        "run with OUTROPY_LOG_LEVEL=DEBUG for the traceback",
    )
    debug = outropy(
        "briefing",
        "--date",
        "2026-11-03",
        "--user",
        "alice",
        env={**workspace, "OUTROPY_LOG_LEVEL": "debug"},
        cwd=tmp_path,
    )
    assert debug.returncode == 1
    assert debug.stderr.startswith("outropy: unexpected error: IOException")
    assert "Traceback (most recent call last)" in debug.stderr and "duckdb_store.py" in debug.stderr


def test_a_bad_setting_is_one_line_naming_it(workspace, monkeypatch, capsys):
    monkeypatch.setenv("OUTROPY_DAYS_PER_RUN", "zero")
    code, _, stderr = run_main(capsys, "run", "--date", "2026-11-03")
    assert_user_error(code, stderr, 2, "invalid settings: days_per_run")


# -- help ----------------------------------------------------------------------------------------
def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield sub
                yield from _subparsers(sub)


def test_every_argument_of_every_command_has_help():
    parsers = list(_subparsers(build_parser()))
    assert {p.prog for p in parsers} >= {
        "outropy run",
        "outropy threads",
        "outropy items",
        "outropy eval",
        "outropy eval items",
        "outropy briefing",
        "outropy deliver",
        "outropy bench",
        "outropy bench tokens",
        "outropy lake",
        "outropy lake import",
        "outropy mcp",
    }
    missing = [
        f"{p.prog} {'/'.join(a.option_strings) or a.dest}"
        for p in parsers
        for a in p._actions
        if not isinstance(a, argparse._HelpAction) and (not a.help or a.help == argparse.SUPPRESS)
    ]
    assert not missing, missing


def test_threads_help_explains_its_arguments(tmp_path):
    proc = outropy("threads", "--help", env={}, cwd=tmp_path)
    assert proc.returncode == 0
    assert (
        "EXPORT_DIR  the Slack export folder" in proc.stdout
        and "--out FILE  write the JSON lines" in proc.stdout
    )
