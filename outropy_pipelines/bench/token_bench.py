"""`outropy bench tokens`: LLM input tokens per day, our pipeline against the naive design.

Runs the pipeline's own `daily_pipeline` job on a Slack export into a temporary DuckDB file and
Dagster instance, with the `llm` resource replaced by a recording one (`bench/llm_recording.py`):
the offline local rules answer, and every request is counted as a remote model would receive it.
Then, per day, with tiktoken:

- ours: every classification and entity-summary request of the day (system prompt, delimited
  JSON data, output schema, chat framing), after the same prefilter and redaction;
- naive: for every subscribed user, one prompt with all the messages of the day they can see
  (`bench/naive_design.py`).

With `--db FILE`, a copy of an existing DuckDB file is measured: its classification and entity
summaries are run again (the two LLM assets of the job), nothing else.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dagster import AssetKey, DagsterInstance

from outropy_pipelines.bench.llm_recording import RecordingLLMResource, recorded_tokens
from outropy_pipelines.bench.naive_design import NAIVE_BRIEFING, naive_input_tokens
from outropy_pipelines.defs.definitions import build_definitions
from outropy_pipelines.defs.partitions import day_range_tags
from outropy_pipelines.domain.days import format_days
from outropy_pipelines.llm.token_count import encoding_label, is_exact
from outropy_pipelines.pipeline_runner import PipelineRunner, select_days
from outropy_pipelines.settings import Settings
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.directory import subscribed_user_ids
from outropy_pipelines.store.threads import days_with_threads

LLM_ASSETS = (AssetKey("classified_items"), AssetKey("entity_summaries"))


def measure_pipeline_requests(
    settings: Settings, days: Sequence[str], requests_file: Path, model: str, llm_assets_only: bool = False
) -> None:
    """Run the daily job for `days` (or only its two LLM assets) with the recording `llm` resource."""
    defs = build_definitions(
        settings,
        resources={"llm": RecordingLLMResource(requests_file=str(requests_file), tokenizer_model=model)},
    )
    runner = PipelineRunner(settings, instance=DagsterInstance.ephemeral(), defs=defs)
    if not llm_assets_only:
        summary = runner.run(list(days), briefings=False)
        if not summary.ok:
            raise RuntimeError("the daily pipeline failed")
        return
    job = defs.resolve_job_def("daily_pipeline")
    for i in range(0, len(days), runner.days_per_run):
        chunk = days[i : i + runner.days_per_run]
        result = job.execute_in_process(
            instance=runner.instance,
            tags=day_range_tags(chunk[0], chunk[-1]),
            asset_selection=list(LLM_ASSETS),
            raise_on_error=False,
        )
        if not result.success:
            raise RuntimeError(f"classification or entity summaries failed for {chunk[0]} .. {chunk[-1]}")


def compare_days(
    store: DuckDBStore,
    days: Sequence[str],
    user_ids: Sequence[str],
    requests_file: Path,
    model: str | None = None,
) -> list[dict[str, Any]]:
    """Per day: our recorded requests against the naive design for `user_ids`."""
    recorded = recorded_tokens(requests_file)
    rows = []
    for day in days:
        r = recorded.get(
            day, {"classify_calls": 0, "classify_tokens": 0, "summary_calls": 0, "summary_tokens": 0}
        )
        ours = r["classify_tokens"] + r["summary_tokens"]
        naive = naive_input_tokens(store, day, user_ids, model)
        rows.append(
            {
                "day": day,
                "encoding": encoding_label(model),
                "exact": is_exact(model),
                "users": len(user_ids),
                "ours_calls": r["classify_calls"] + r["summary_calls"],
                "ours_classify_calls": r["classify_calls"],
                "ours_classify_tokens": r["classify_tokens"],
                "ours_summary_calls": r["summary_calls"],
                "ours_summary_tokens": r["summary_tokens"],
                "ours_input_tokens": ours,
                **naive,
                "naive_prompt_version": NAIVE_BRIEFING.version,
                "ratio": naive["naive_input_tokens"] / ours if ours else None,
            }
        )
    return rows


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
    env = Settings()
    model = model or env.llm.model or "gpt-4o-mini"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="outropy-bench-") as tmp:
        work = Path(tmp)
        settings = env.model_copy(
            update={
                "duckdb_path": work / "bench.duckdb",
                "briefings_dir": work / "briefings",
                "slack_export": Path(export).resolve() if export else env.slack_export,
                "slack_source": "export",
            }
        )
        requests_file = work / "requests.jsonl"
        if db:
            shutil.copyfile(db, settings.duckdb_path)
            days = days_with_threads(DuckDBStore(settings.duckdb_path))
        else:
            print(
                f"outropy: running the daily pipeline on {settings.slack_export} (local rules) ...",
                file=sys.stderr,
            )
            try:
                days = select_days(settings)
            except (OSError, ValueError) as exc:
                print(f"outropy: cannot read the export: {exc}", file=sys.stderr)
                return 2
        if date and date not in days:
            held = f"; the days to measure are {format_days(days)}" if days else ""
            print(f"outropy: no threads on {date} to measure{held}", file=sys.stderr)
            return 2
        if date:
            days = [date]
        if not days:
            print("outropy: no days with threads to measure", file=sys.stderr)
            return 2
        measure_pipeline_requests(settings, days, requests_file, model, llm_assets_only=bool(db))
        store = DuckDBStore(settings.duckdb_path)
        users = subscribed_user_ids(store)
        rows = compare_days(store, days, users, requests_file, model=model)
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
