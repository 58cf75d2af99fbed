"""A small smoke run of `outropy bench`: the report is complete (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_smoke_report_is_complete(tmp_path):
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable, "-m", "outropy_pipelines.cli", "bench",
            "--users", "40", "--channels", "8", "--messages-per-day", "1500", "--days", "2",
            "--token-users", "10,40", "--dagster-users", "40", "--backfill-days", "2",
            "--backfill-users", "40", "--workdir", str(tmp_path / "work"), "--out", str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["messages"] == 3000
    # one stage per asset of the definitions, in dependency order
    assert [s["name"] for s in r["stages"]] == [
        "slack_directory", "raw_slack_messages", "slack_threads", "classified_items", "entity_summaries",
        "user_briefings",
    ]  # fmt: skip
    for s in r["stages"]:
        assert s["seconds"] > 0 and s["messages_per_second"] > 0 and s["peak_rss_mb"] > 0
    assert r["end_to_end_messages_per_second"] > 0 and r["peak_rss_mb"] > 0 and r["duckdb_file_mb"] > 0
    scan = r["ingest_vs_duckdb_scan"]
    assert scan["duckdb_rows"] == 3000 and scan["ratio"] > 0
    assert set(r["tokens"]) == {"10", "40"}
    for t in r["tokens"].values():
        assert t["ours"] > 0 and t["naive"] > 0 and t["ratio"] == round(t["naive"] / t["ours"], 1)
    # ours does not grow with readers; the naive design does
    assert r["tokens"]["10"]["ours"] == r["tokens"]["40"]["ours"]
    assert r["tokens"]["40"]["naive"] > r["tokens"]["10"]["naive"]
    one_day, backfill = r["dagster"]["40"], r["dagster"]["backfill_2_days_40_users"]
    assert (
        one_day["ok"] and one_day["runs"] == 1 and one_day["partitions"] == 40 and one_day["wall_seconds"] > 0
    )
    assert backfill["ok"] and backfill["runs"] == 1 and backfill["partitions"] == 80
    for run, partitions in ((one_day, 40), (backfill, 80)):
        ui = run["ui_partition_status_query"]
        assert ui["seconds_median"] > 0 and ui["materialized_user_partitions_in_answer"] == partitions
    assert "end to end" in proc.stdout and "naive/ours" in proc.stdout
