"""`outropy threads` and `outropy items`: one stage's output on an export, without Dagster.
`classify_export` is the classification path `outropy eval items` measures too."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from outropy_pipelines.cli.common import (
    EXPORT_HELP,
    RUN_FAILED,
    CliError,
    load_settings,
    open_export,
    output_file,
)

if TYPE_CHECKING:
    from outropy_pipelines.domain.models import Directory, Item
    from outropy_pipelines.settings import Settings


def _builder_for_export(export: Path):
    from outropy_pipelines.domain.thread_builder import ThreadBuilder

    reader = open_export(export)
    directory, _ = reader.read_directory()
    for warning in reader.warnings:
        print(f"outropy: warning: {warning}", file=sys.stderr)
    return reader, directory, ThreadBuilder.for_directory(directory)


def cmd_threads(args: argparse.Namespace) -> int:
    reader, _, builder = _builder_for_export(Path(args.export_dir))
    rows = list(reader.iter_all_messages())
    started = time.perf_counter()
    result = builder.build(rows, day="", window=None)
    elapsed = time.perf_counter() - started
    written = 0
    with open(args.out, "w", encoding="utf-8") as fh:
        for row in rows:
            key = (row["channel_id"], row["ts"])
            tid = result.assignments.get(key, f"{key[0]}:{key[1]}")
            fh.write(json.dumps({"channel_id": key[0], "ts": key[1], "thread_id": tid}) + "\n")
            written += 1
    rate = written / elapsed if elapsed > 0 else float("inf")
    print(
        f"{written} messages -> {len(result.threads)} conversations ({result.noise} noise) "
        f"in {elapsed:.2f}s ({rate:,.0f} msg/s); wrote {args.out}",
        file=sys.stderr,
    )
    return 0


@dataclass
class ExportItems:
    """What `classify_export` found: the items, the export's people and conversations, how many
    conversations there were and which could not be classified (thread_id, error)."""

    items: list[Item]
    directory: Directory
    conversations: int
    failures: list[tuple[str, str]] = field(default_factory=list)


def classify_export(
    export: Path,
    settings: Settings,
    provider: str | None = None,
    seen: set[tuple[str, str]] | None = None,
) -> ExportItems:
    """Every conversation of the export at `export`, classified the way `outropy items` does: the
    pipeline's threading over all messages, then each conversation once, on the day of its last
    message, by the provider of the settings (`provider` overrides OUTROPY_LLM_PROVIDER). `seen`,
    when given, collects the (channel_id, ts) of every message read."""
    from outropy_pipelines.domain.classification import classify_threads
    from outropy_pipelines.domain.days import day_of_ts
    from outropy_pipelines.llm.base import LLMBudgetExceeded, LLMClient, LLMFatalError
    from outropy_pipelines.llm.factory import build_provider

    llm = settings.llm
    reader, directory, builder = _builder_for_export(export)
    rows = reader.iter_all_messages(settings.timezone)
    if seen is not None:
        rows = _recording(rows, seen)
    result = builder.build(rows, day="", window=None)
    channels = {c.channel_id: (c.name, c.kind) for c in directory.channels}
    user_names = {u.user_id: u.display_name for u in directory.users}
    key = llm.openai_api_key.get_secret_value() if llm.openai_api_key else None
    try:
        chosen = build_provider(provider or llm.provider, llm.model, llm.openai_base_url, api_key=key)
    except ValueError as exc:  # the openai provider without a key or a server
        raise CliError(str(exc)) from None
    client = LLMClient(chosen)
    by_day: dict[str, list] = {}
    for t in result.threads:
        day = day_of_ts(t.last_ts, settings.timezone)
        by_day.setdefault(day, []).append(t.model_copy(update={"day": day}))
    out = ExportItems(items=[], directory=directory, conversations=len(result.threads))
    for day in sorted(by_day):
        try:
            classified = classify_threads(by_day[day], client, channels, user_names, day)
        except (LLMFatalError, LLMBudgetExceeded) as exc:  # refused credentials, a spent budget
            raise CliError(f"classification stopped: {exc}", RUN_FAILED) from None
        out.items.extend(classified.items)
        out.failures.extend(classified.failures)
    return out


def _recording(rows: Iterable[dict[str, Any]], seen: set[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        seen.add((row["channel_id"], row["ts"]))
        yield row


def cmd_items(args: argparse.Namespace) -> int:
    found = classify_export(Path(args.export_dir), load_settings())
    count = 0
    with open(args.out, "w", encoding="utf-8") as fh:
        for it in found.items:
            fh.write(
                json.dumps(
                    {
                        "item_id": it.item_id,
                        "kind": it.kind,
                        "title": it.title,
                        "detail": it.detail,
                        "owners": it.owners,
                        "mentions": it.mentions,
                        "status": it.status,
                        "due": it.due,
                        "entities": it.entities,
                        "confidence": it.confidence,
                        "thread_id": it.thread_id,
                        "channel_id": it.channel_id,
                        "day": it.day,
                        "sources": [s.model_dump() for s in it.sources],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            count += 1
    print(f"{count} items from {found.conversations} conversations; wrote {args.out}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    th = sub.add_parser(
        "threads",
        help="thread reconstruction only: one JSON line per message",
        description="Group every message of an export into conversations with the pipeline's own "
        'threading code, and write one line per message: {"channel_id", "ts", "thread_id"}.',
    )
    th.add_argument("export_dir", metavar="EXPORT_DIR", help=EXPORT_HELP)
    th.add_argument(
        "--out", required=True, type=output_file, metavar="FILE", help="write the JSON lines here (.jsonl)"
    )
    th.set_defaults(func=cmd_threads)

    it = sub.add_parser(
        "items",
        help="classification only: one JSON line per item",
        description="Classify every conversation of an export with the configured LLM provider "
        "(OUTROPY_LLM_PROVIDER, default the offline local rules) and write one line per item.",
    )
    it.add_argument("export_dir", metavar="EXPORT_DIR", help=EXPORT_HELP)
    it.add_argument(
        "--out", required=True, type=output_file, metavar="FILE", help="write the JSON lines here (.jsonl)"
    )
    it.set_defaults(func=cmd_items)
