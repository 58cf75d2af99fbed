"""The `outropy` console commands, run as a user runs them (subprocesses, real files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.domain.models import ITEM_KINDS
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT


def _outropy(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "outropy_pipelines.cli", *args],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_threads_covers_every_message_exactly_once(tmp_path, answer_key):
    out = tmp_path / "threads.jsonl"
    proc = _outropy("threads", str(SAMPLE_EXPORT), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    keys = [(r["channel_id"], r["ts"]) for r in rows]
    expected = {(m["channel_id"], m["ts"]) for m in SlackExportReader(SAMPLE_EXPORT).iter_all_messages()}
    assert len(keys) == len(set(keys)) == len(expected)
    assert set(keys) == expected
    thread_of = {(r["channel_id"], r["ts"]): r["thread_id"] for r in rows}
    # Slack threads untouched: every late reply sits in its parent's thread
    for lr in answer_key["late_replies"]:
        assert thread_of[(lr["channel_id"], lr["reply_ts"])] == f"{lr['channel_id']}:{lr['parent_ts']}"
    # the planted interleaving of two top-level conversations is separated
    inter = answer_key["interleaving"]
    conv_a, conv_b = (
        [thread_of[(inter["channel_id"], ts)] for ts in conv] for conv in inter["conversations"]
    )
    assert not set(conv_a) & set(conv_b), "a reconstructed conversation mixes the two discussions"
    assert len(set(conv_b)) == 1, conv_b  # replies addressed by @mention: one conversation
    # the unaddressed discussion: every reply after the opener lands in one conversation (the
    # model does not always tie the opener to its first unaddressed reply)
    assert len(set(conv_a[1:])) == 1, conv_a


def test_items_lists_typed_items_with_sources(tmp_path):
    out = tmp_path / "items.jsonl"
    proc = _outropy("items", str(SAMPLE_EXPORT), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    items = [json.loads(line) for line in out.read_text().splitlines()]
    assert {i["kind"] for i in items} == set(ITEM_KINDS)
    for i in items:
        assert i["title"] and isinstance(i["owners"], list)
        assert i["sources"] and all(set(s) == {"channel_id", "ts"} for s in i["sources"])


def test_run_then_briefing(tmp_path):
    env = {
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "OUTROPY_DUCKDB_PATH": str(tmp_path / "o.duckdb"),
        "OUTROPY_SLACK_EXPORT": str(SAMPLE_EXPORT),
        "OUTROPY_BRIEFINGS_DIR": str(tmp_path / "briefings"),
    }
    proc = _outropy("run", "--date", "2026-11-03", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2026-11-03:" in proc.stdout and "briefings for" in proc.stdout
    files = list((tmp_path / "briefings" / "2026-11-03").glob("*.md"))
    assert len(files) >= 25
    # the runs are recorded on the local Dagster instance
    assert any((tmp_path / "dagster_home").rglob("*.db"))
    example = next(line for line in proc.stdout.splitlines() if "Print one" in line)
    command = example.split(":", 1)[1].strip()
    user = command.split("--user")[1].strip()
    # the printed command works as printed, in a fresh shell (no venv on the PATH)
    shell_env = {**os.environ, **env, "PATH": "/usr/bin:/bin"}
    md = subprocess.run(command, shell=True, env=shell_env, cwd=tmp_path, capture_output=True, text=True)
    assert md.returncode == 0 and md.stdout.startswith("# "), (command, md.stderr)
    assert md.stdout.strip() == (tmp_path / "briefings" / "2026-11-03" / f"{user}.md").read_text().strip()
    html = _outropy(
        "briefing", "--date", "2026-11-03", "--user", user, "--format", "html", env=env, cwd=tmp_path
    )
    assert "<html" in html.stdout.lower()
    blocks = _outropy(
        "briefing", "--date", "2026-11-03", "--user", user, "--format", "blocks", env=env, cwd=tmp_path
    )
    assert isinstance(json.loads(blocks.stdout), list)
    missing = _outropy("briefing", "--date", "2026-11-03", "--user", "nobody", env=env, cwd=tmp_path)
    assert missing.returncode == 1 and "unknown user 'nobody'" in missing.stderr


def test_threads_and_items_read_a_zip_export_in_place(tmp_path):
    """Slack hands out exports as a .zip, often wrapped in one folder: read in place, the same output."""
    archive = tmp_path / "acme-export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(SAMPLE_EXPORT.rglob("*.json")):
            zf.write(path, f"Acme Slack export/{path.relative_to(SAMPLE_EXPORT).as_posix()}")
    for command in ("threads", "items"):
        outputs = []
        for export in (SAMPLE_EXPORT, archive):
            out = tmp_path / f"{command}-{export.suffix or 'dir'}.jsonl"
            proc = _outropy(command, str(export), "--out", str(out))
            assert proc.returncode == 0, proc.stderr
            outputs.append(out.read_text())
        assert outputs[0] == outputs[1] and outputs[0].count("\n") > 100, command
    assert not any(p.is_dir() for p in tmp_path.iterdir())  # nothing unpacked
