"""`outropy eval items`: the classifier measured against hand labels of an export.

The export is classified exactly as `outropy items` does (`export_tools.classify_export`, with the
provider settings of the environment, `--provider` choosing local or openai), then scored by
`domain.item_eval`: recall and precision per kind, overall, owner accuracy, and the first misses
and false positives. The label format and the metric definitions are in data/labels/LABELLING.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from outropy_pipelines.cli.common import (
    EXPORT_HELP,
    RUN_FAILED,
    CliError,
    err,
    existing_file,
    load_settings,
    output_file,
)
from outropy_pipelines.cli.export_tools import classify_export


def _read_labels(path: Path):
    from outropy_pipelines.domain.item_eval import LabelError, parse_labels

    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (some Windows editors) is not a label
    except UnicodeDecodeError:
        raise CliError(f"cannot read the labels file {path}: not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"cannot read the labels file {path}: {exc.strerror or exc}") from None
    try:
        return parse_labels(text.splitlines())
    except LabelError as exc:
        raise CliError(f"{path}: {exc}") from None


def cmd_eval_items(args: argparse.Namespace) -> int:
    from outropy_pipelines.domain.item_eval import evaluate, normalise_ts, render_report

    labels = _read_labels(Path(args.labels))
    settings = load_settings()
    seen: set[tuple[str, str]] = set()
    found = classify_export(Path(args.export_dir), settings, provider=args.provider, seen=seen)
    if found.failures:
        thread_id, error = found.failures[0]
        if len(found.failures) >= found.conversations:
            raise CliError(
                f"no conversation could be classified ({len(found.failures)} failed; first, {thread_id}: {error})",
                RUN_FAILED,
            )
        err(
            f"warning: {len(found.failures)} of {found.conversations} conversations could not be "
            f"classified and count as predicting nothing (first, {thread_id}: {error})"
        )
    known = {(c, normalise_ts(ts)) for c, ts in seen}
    absent = [lb for lb in labels.labels if lb.key not in known]
    if absent:
        first = absent[0]
        err(
            f"warning: {len(absent)} of {len(labels.labels)} labels name messages that are not in the "
            f"export and count as misses (first: line {first.line}, {first.channel_id} {first.ts})"
        )
    report = evaluate(found.items, labels, settings.timezone)
    names = {c.channel_id: c.name for c in found.directory.channels}
    provider = args.provider or settings.llm.provider
    print(f"outropy eval items: {args.export_dir} against {args.labels} (provider {provider})")
    print(render_report(report, limit=args.limit, channel_names=names), end="", flush=True)
    if args.json:
        data = {"export": str(args.export_dir), "labels": str(args.labels), "provider": provider}
        data.update(report.to_dict())
        Path(args.json).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


def _count(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return n


def register(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser(
        "eval",
        help="measure a stage against hand labels (`eval items`)",
        description="Measure a stage of the pipeline on an export against hand labels.",
    )
    ev_sub = ev.add_subparsers(
        dest="eval_command", required=True, metavar="{items}", help="the item classification"
    )
    it = ev_sub.add_parser(
        "items",
        help="recall and precision of the classifier per kind, and owner accuracy",
        description="Classify every conversation of EXPORT as `outropy items` does and compare the "
        "items with hand labels: recall and precision per kind and overall (blocker and incident "
        "match each other), owner accuracy of action items, and the first misses and false "
        "positives. Labels: one JSON object per line, "
        '{"channel_id", "ts", "kind", "owner" (action items), "note"}, plus optional scope lines '
        '{"scope": {"channel_id", "day"}} naming the channel-days labelled exhaustively (without '
        "them, every channel-day holding a label). See data/labels/LABELLING.md.",
    )
    it.add_argument(
        "export_dir",
        metavar="EXPORT",
        help=EXPORT_HELP,
    )
    it.add_argument("labels", metavar="LABELS.jsonl", type=existing_file, help="the hand labels (JSON lines)")
    it.add_argument(
        "--provider",
        choices=("local", "openai"),
        help="the classifier: the offline rules, or any OpenAI-compatible endpoint (OPENAI_API_KEY, "
        "OPENAI_BASE_URL, OUTROPY_LLM_MODEL); default OUTROPY_LLM_PROVIDER",
    )
    it.add_argument(
        "--json", type=output_file, metavar="OUT", help="also write the whole report as JSON here"
    )
    it.add_argument(
        "--limit",
        type=_count,
        default=20,
        metavar="N",
        help="how many misses and false positives to list (default 20)",
    )
    it.set_defaults(func=cmd_eval_items)
