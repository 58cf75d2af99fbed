"""Token counting with tiktoken, offline, and the pipeline-vs-naive comparison (`outropy bench tokens`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from outropy_pipelines.cli import main
from outropy_pipelines.domain.classification import is_contentless
from outropy_pipelines.llm import tokens
from outropy_pipelines.llm.prompts import render_naive_messages
from outropy_pipelines.stages.directory import read_subscriptions
from outropy_pipelines.stages.threading import load_threads


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
    code = "from outropy_pipelines.llm import tokens; print(tokens.encoding_label(), tokens.count_tokens('naive vs ours'))"
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


def test_pipeline_vs_naive_on_the_sample(sample_run) -> None:
    store, day = sample_run.store, sample_run.days[1]
    users = [s.user_id for s in read_subscriptions(store)]
    full = tokens.pipeline_vs_naive_tokens(store, day, users)

    threads = load_threads(store, day)
    assert full["ours_classify_calls"] == sum(1 for t in threads if t.messages and not is_contentless(t))
    assert full["ours_summary_calls"] > 0
    assert full["ours_input_tokens"] == full["ours_classify_tokens"] + full["ours_summary_tokens"] > 0
    assert full["exact"] is True and full["encoding"] == "tiktoken o200k_base"
    assert full["naive_calls"] == len(users)
    assert full["naive_input_tokens"] > full["ours_input_tokens"]
    assert full["ratio"] == full["naive_input_tokens"] / full["ours_input_tokens"]

    # ours does not depend on the number of readers; the naive design grows with them
    few = tokens.pipeline_vs_naive_tokens(store, day, users[:3])
    assert few["ours_input_tokens"] == full["ours_input_tokens"]
    assert few["naive_calls"] == 3 and few["naive_input_tokens"] < full["naive_input_tokens"]

    # summing per-message lines matches counting one user's whole prompt
    one = tokens.pipeline_vs_naive_tokens(store, day, users[:1])
    kinds = {r["channel_id"]: r["kind"] for r in store.query("SELECT channel_id, kind FROM channels")}
    mine = {
        r["channel_id"]
        for r in store.query("SELECT channel_id FROM channel_members WHERE user_id = ?", [users[0]])
    }
    text = "".join(
        line
        for ch, line in tokens.naive_message_lines(store, day)
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
    assert data["total"]["ratio"] == data["days"][0]["ratio"] > 1
