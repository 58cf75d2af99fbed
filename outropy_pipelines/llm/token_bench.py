"""`outropy bench tokens`: LLM input tokens per day, our pipeline against the naive design.

Builds the deterministic stages of a Slack export into a DuckDB file without Dagster (directory,
messages, threads, items and entity summaries with the offline `local` provider, which decides what
gets sent: which threads pass the prefilter, which entities need a summary), then counts, per day,
with tiktoken (`llm/tokens.py`):

- ours: every classification and entity-summary request of the day, as sent to a remote model
  (system prompt, delimited JSON data, output schema, chat framing);
- naive: for every subscribed user, one prompt with all the messages of the day they can see.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.llm.tokens import pipeline_vs_naive_tokens


def build_store_from_export(
    export: Path, db_path: Path, timezone: str = "UTC", progress: Callable[[str], None] | None = None
) -> tuple[DuckDBStore, list[str]]:
    """Run ingest, threading, classification and entity memory (local provider) for every day of
    `export` into a new DuckDB file; returns the store and the days."""
    from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
    from outropy_pipelines.llm.base import LLMClient
    from outropy_pipelines.llm.local_provider import LocalProvider
    from outropy_pipelines.stages.classification import classify_day
    from outropy_pipelines.stages.directory import write_directory
    from outropy_pipelines.stages.entity_memory import summarize_day
    from outropy_pipelines.stages.ingest import ingest_day
    from outropy_pipelines.stages.threading import builder_for, thread_day

    say = progress or (lambda _m: None)
    store = DuckDBStore(db_path)
    reader = SlackExportReader(export)
    directory, quarantine = reader.read_directory()
    write_directory(store, directory, quarantine)
    days = reader.available_days()
    for day in days:
        ingest_day(store, reader, day, timezone)
    builder = builder_for(directory)
    client = LLMClient(LocalProvider(), concurrency=1)
    for day in days:
        say(f"  preparing {day} ...")
        thread_day(store, builder, day, timezone)
        classify_day(store, client, directory, day)
        summarize_day(store, client, directory, day)
    return store, days


def subscribed_users(store: DuckDBStore) -> list[str]:
    from outropy_pipelines.stages.directory import read_subscriptions

    return [s.user_id for s in read_subscriptions(store)]


def compare_days(
    store: DuckDBStore, days: Sequence[str], user_ids: Sequence[str], model: str | None = None
) -> list[dict[str, Any]]:
    return [pipeline_vs_naive_tokens(store, day, user_ids, model=model) for day in days]


def totals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    keys = ("ours_calls", "ours_classify_tokens", "ours_summary_tokens", "ours_input_tokens", "naive_calls")
    out: dict[str, Any] = {k: sum(r[k] for r in rows) for k in keys}
    out["naive_input_tokens"] = sum(r["naive_input_tokens"] for r in rows)
    out["ratio"] = out["naive_input_tokens"] / out["ours_input_tokens"] if out["ours_input_tokens"] else None
    return out


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    header = (
        "day",
        "ours calls",
        "classify tok",
        "summary tok",
        "ours tok",
        "naive calls",
        "naive tok",
        "naive/ours",
    )

    def line(label: str, r: dict[str, Any]) -> tuple[str, ...]:
        ratio = f"{r['ratio']:.1f}x" if r.get("ratio") else "-"
        return (
            label,
            f"{r['ours_calls']:,}",
            f"{r['ours_classify_tokens']:,}",
            f"{r['ours_summary_tokens']:,}",
            f"{r['ours_input_tokens']:,}",
            f"{r['naive_calls']:,}",
            f"{r['naive_input_tokens']:,}",
            ratio,
        )

    body = [line(r["day"], r) for r in rows]
    body.append(line("total", totals(rows)))
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), sep, *(fmt(b) for b in body[:-1]), sep, fmt(body[-1])])


def run_bench(
    export: str | None = None,
    db: str | None = None,
    date: str | None = None,
    model: str | None = None,
    json_path: str | None = None,
) -> int:
    """`outropy bench tokens`: print the per-day table and the ratio; 0 on success."""
    from outropy_pipelines.config import load_settings
    from outropy_pipelines.llm.tokens import encoding_label, is_exact

    settings = load_settings()
    model = model or settings.llm_model or "gpt-4o-mini"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="outropy-bench-") as tmp:
        if db:
            store = DuckDBStore(Path(db))
            days = [str(r["day"]) for r in store.query("SELECT DISTINCT day FROM threads ORDER BY day")]
        else:
            source = Path(export).resolve() if export else settings.slack_export
            print(
                f"outropy: preparing {source} (ingest, threads, items, summaries; local provider) ...",
                file=sys.stderr,
            )
            try:
                store, days = build_store_from_export(source, Path(tmp) / "bench.duckdb", settings.timezone)
            except (OSError, ValueError) as exc:
                print(f"outropy: cannot read the export: {exc}", file=sys.stderr)
                return 2
        if date:
            days = [d for d in days if d == date]
        if not days:
            print("outropy: no days with threads to measure", file=sys.stderr)
            return 2
        users = subscribed_users(store)
        rows = compare_days(store, days, users, model=model)
    total = totals(rows)
    print(f"LLM input tokens per day: our pipeline vs the naive design ({len(users)} subscribed users)")
    print(
        f"tokenizer: {encoding_label(model)} (model {model})" + ("" if is_exact(model) else "  <- ESTIMATE")
    )
    print()
    print(format_table(rows))
    print()
    if total["ratio"]:
        print(
            f"naive / ours = {total['ratio']:.1f}x: {total['naive_input_tokens']:,} vs "
            f"{total['ours_input_tokens']:,} input tokens over {len(rows)} day(s) "
            f"({time.monotonic() - started:.1f}s)"
        )
    if json_path:
        Path(json_path).write_text(
            json.dumps({"days": rows, "total": total}, indent=2) + "\n", encoding="utf-8"
        )
        print(f"wrote {json_path}")
    return 0
