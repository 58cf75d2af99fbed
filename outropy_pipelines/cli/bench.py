"""`outropy bench` (the scale benchmark) and `outropy bench tokens` (LLM tokens: ours vs naive)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from outropy_pipelines.cli.common import day, existing_file, load_settings, open_export, output_file


def _counts(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def _sizes(text: str) -> int | tuple[int, ...]:
    """`--messages-per-day`: one size (today's report) or a comma-separated list of them."""
    try:
        sizes = _counts(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or a list of numbers: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"messages per day must be positive: {text!r}")
    return sizes[0] if len(sizes) == 1 else sizes


def cmd_bench_scale(args: argparse.Namespace) -> int:
    from outropy_pipelines.bench.bench_report import format_report, write_report_files
    from outropy_pipelines.bench.scale_bench import ScaleBenchConfig, run_scale_bench

    cfg = ScaleBenchConfig(
        users=args.users,
        channels=args.channels,
        messages_per_day=args.messages_per_day,
        days=args.days,
        seed=args.seed,
        token_user_counts=_counts(args.token_users),
        dagster_user_counts=_counts(args.dagster_users),
        backfill_days=args.backfill_days,
        backfill_users=args.backfill_users,
        graphql=not args.no_graphql,
        workdir=Path(args.workdir) if args.workdir else None,
    )
    report = run_scale_bench(cfg, say=lambda m: print(m, file=sys.stderr, flush=True))
    print(format_report(report))
    if args.out:
        print()
        for line in write_report_files(report, Path(args.out)):
            print(line)
    return 0


def cmd_bench_tokens(args: argparse.Namespace) -> int:
    from outropy_pipelines.bench.token_bench import run_bench

    if not args.db:
        open_export(Path(args.export).expanduser() if args.export else load_settings().slack_export)
    return run_bench(export=args.export, db=args.db, date=args.date, model=args.model, json_path=args.json)


def register(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser(
        "bench",
        help="benchmark at scale (default), or `bench tokens`",
        description="Generate a synthetic workspace, run every stage with the local provider, and "
        "report per-stage time, messages/s and peak RSS (at each size, against the issue's targets), "
        "DuckDB size, ingest vs DuckDB's read_json, "
        "LLM tokens vs the naive design, and Dagster runs and wall time at scale.",
    )
    bench.add_argument(
        "--users", type=int, metavar="N", default=1000, help="people reading briefings (default 1000)"
    )
    bench.add_argument(
        "--channels", type=int, metavar="N", default=300, help="channels in the workspace (default 300)"
    )
    bench.add_argument(
        "--messages-per-day",
        type=_sizes,
        metavar="N[,N,...]",
        default=200_000,
        help="messages a day (default 200000); several sizes, e.g. 10000,100000,1000000, are each "
        "measured (stages and ingest baseline; tokens and Dagster once, at the largest)",
    )
    bench.add_argument("--days", type=int, metavar="N", default=3, help="days of messages (default 3)")
    bench.add_argument(
        "--seed", type=int, metavar="N", default=11, help="seed of the generated workspace (default 11)"
    )
    bench.add_argument(
        "--token-users",
        default="100,1000,5000",
        metavar="N,N,...",
        help="user counts for the token comparison",
    )
    bench.add_argument(
        "--dagster-users",
        default="1000,5000",
        metavar="N,N,...",
        help="user counts for briefing runs ('' to skip)",
    )
    bench.add_argument(
        "--backfill-days",
        type=int,
        metavar="N",
        default=7,
        help="days of the measured briefing backfill (default 7)",
    )
    bench.add_argument(
        "--backfill-users",
        type=int,
        metavar="N",
        default=1000,
        help="users of the measured briefing backfill (default 1000)",
    )
    bench.add_argument("--no-graphql", action="store_true", help="skip the UI partition-status query timing")
    bench.add_argument(
        "--workdir",
        metavar="DIR",
        help="keep the workspace, DuckDB files and instances here (the largest size's)",
    )
    bench.add_argument(
        "--out",
        type=output_file,
        metavar="FILE",
        help="write the JSON report here, the tables next to it (FILE.md) and the chart (FILE.png)",
    )
    bench.set_defaults(func=cmd_bench_scale)
    bench_sub = bench.add_subparsers(
        dest="bench_command", metavar="{tokens}", help="the token comparison only"
    )
    bt = bench_sub.add_parser(
        "tokens",
        help="LLM input tokens per day: our pipeline vs the naive design",
        description="Count the LLM input tokens the pipeline sends per day against one prompt per "
        "reader holding every message they can see (the naive design).",
    )
    bt.add_argument(
        "--export", metavar="DIR", help="Slack export (default: OUTROPY_SLACK_EXPORT or data/sample_export)"
    )
    bt.add_argument(
        "--db",
        type=existing_file,
        metavar="FILE",
        help="measure an existing DuckDB file instead of preparing the export",
    )
    bt.add_argument("--date", type=day, metavar="D", help="only this day (YYYY-MM-DD, today or yesterday)")
    bt.add_argument("--model", help="tokenizer of this model (default: OUTROPY_LLM_MODEL or gpt-4o-mini)")
    bt.add_argument(
        "--json", type=output_file, metavar="FILE", help="also write the figures to this JSON file"
    )
    bt.set_defaults(func=cmd_bench_tokens)
