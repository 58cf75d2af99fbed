"""Token counting with tiktoken, offline, and the pipeline-vs-naive comparison (`outropy bench tokens`),
measured by running the definitions' LLM assets with the recording `llm` resource."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from outropy_pipelines.bench.naive_design import naive_message_lines, render_naive_messages
from outropy_pipelines.bench.token_bench import compare_days, measure_pipeline_requests
from outropy_pipelines.cli import main
from outropy_pipelines.domain.noise import is_contentless
from outropy_pipelines.llm import token_count as tokens
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.directory import read_directory, subscribed_user_ids
from outropy_pipelines.store.threads import load_threads
from outropy_pipelines_tests.conftest import make_settings


def test_tiktoken_counts_offline_from_the_bundled_bpe_files(tmp_path: Path) -> None:
    enc = tokens.get_encoding("o200k_base")
    assert enc is not None and enc.name == "o200k_base" and enc.n_vocab == 200019
    assert tokens.count_tokens("hello world") == 2
    assert (
        tokens.count_tokens("hello world", "gpt-4") == 2
        and tokens.encoding_for_model("gpt-4") == "cl100k_base"
    )
    assert tokens.encoding_for_model("gpt-4o-mini") == "o200k_base"
    assert tokens.encoding_label("gpt-4o-mini") == "tiktoken o200k_base"
    # a fresh process with an empty temp dir and no tiktoken cache still counts exactly (no download)
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")}
    env["TMPDIR"] = str(tmp_path)
    code = "from outropy_pipelines.llm import token_count as t; print(t.encoding_label(), t.count_tokens('naive vs ours'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["tiktoken", "o200k_base", str(tokens.count_tokens("naive vs ours"))]


def test_chat_tokens_add_the_message_framing() -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello world"}]
    content = sum(tokens.count_tokens(m["role"]) + tokens.count_tokens(m["content"]) for m in messages)
    assert (
        tokens.count_chat_tokens(messages)
        == content + 2 * tokens.TOKENS_PER_MESSAGE + tokens.TOKENS_PER_REPLY
    )


def test_pipeline_vs_naive_on_the_sample(sample_run, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    shutil.copy(sample_run.settings.duckdb_path, settings.duckdb_path)
    store, day = DuckDBStore(settings.duckdb_path), sample_run.days[1]
    requests = tmp_path / "requests.jsonl"
    measure_pipeline_requests(settings, [day], requests, "gpt-4o-mini", llm_assets_only=True)
    users = subscribed_user_ids(store)
    [full] = compare_days(store, [day], users, requests)

    threads = load_threads(store, day)
    assert full["ours_classify_calls"] == sum(1 for t in threads if t.messages and not is_contentless(t))
    assert full["ours_summary_calls"] > 0
    assert full["ours_input_tokens"] == full["ours_classify_tokens"] + full["ours_summary_tokens"] > 0
    assert full["exact"] is True and full["encoding"] == "tiktoken o200k_base"
    assert full["naive_calls"] == len(users)
    assert full["ratio"] == full["naive_input_tokens"] / full["ours_input_tokens"]
    # the naive design passes ours within a modest number of readers (README: about 40 on the
    # sample); a guard against instructions growing unnoticed, since ours is mostly per-call prompt
    naive_per_reader = full["naive_input_tokens"] / len(users)
    assert full["ours_input_tokens"] < 100 * naive_per_reader

    # ours does not depend on the number of readers; the naive design grows with them
    [few] = compare_days(store, [day], users[:3], requests)
    assert few["ours_input_tokens"] == full["ours_input_tokens"]
    assert few["naive_calls"] == 3 and few["naive_input_tokens"] < full["naive_input_tokens"]

    # summing per-message lines matches counting one user's whole prompt
    [one] = compare_days(store, [day], users[:1], requests)
    directory = read_directory(store)
    kinds = {c.channel_id: c.kind for c in directory.channels}
    mine = {c.channel_id for c in directory.channels if users[0] in c.members}
    text = "".join(
        line
        for ch, line in naive_message_lines(store, day)
        if kinds.get(ch, "public") == "public" or ch in mine
    )
    whole = tokens.count_chat_tokens(render_naive_messages(text))
    assert abs(one["naive_input_tokens"] - whole) <= max(5, whole // 200)


def test_bench_tokens_cli_prints_a_table_and_writes_json(sample_run, tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench.json"
    day = sample_run.days[0]
    code = main(
        ["bench", "tokens", "--db", str(sample_run.settings.duckdb_path), "--date", day, "--json", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "tiktoken o200k_base" in printed and day in printed and "naive / ours" in printed
    data = json.loads(out.read_text())
    assert [r["day"] for r in data["days"]] == [day]
    assert data["total"]["ratio"] == data["days"][0]["ratio"] > 0
