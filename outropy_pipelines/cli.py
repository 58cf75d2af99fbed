"""`outropy`: run the pipeline, inspect its stages, print briefings.

outropy run [--export DIR|ZIP] [--date D | --start D --end D]
outropy threads EXPORT --out FILE.jsonl      (EXPORT: a Slack export directory or .zip)
outropy items EXPORT --out FILE.jsonl
outropy briefing --date D --user U [--format md|html|blocks|text]
outropy deliver [--date D] [--user U] [--channel slack|email] [--dry-run | --ledger | --requeue S]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from outropy_pipelines.settings import Settings


def _err(msg: str) -> None:
    print(f"outropy: {msg}", file=sys.stderr)


def _settings(**overrides: Any) -> Settings:
    """The settings from the environment, with the command line's `overrides`."""
    from outropy_pipelines.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _settings_error(exc: ValidationError) -> str:
    """A settings error as one line per bad value, naming the variable to fix."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(x) for x in error["loc"]) or "settings"
        parts.append(f"{field}: {error['msg']}")
    return "invalid settings: " + "; ".join(parts)


def _command(name: str) -> str:
    """How to run `outropy <name>` again from this shell: `outropy` when that is on the PATH and
    the same program, else the path this one was started by."""
    me = Path(sys.argv[0])
    found = shutil.which("outropy")
    if found and me.name == "outropy" and Path(found).resolve() == me.resolve():
        return f"outropy {name}"
    if me.name == "outropy":
        try:
            shown = me.resolve().relative_to(Path.cwd())
        except ValueError:
            shown = me.resolve()
        return f"{shown} {name}"
    return f"{sys.executable} -m outropy_pipelines.cli {name}"


# -- run ----------------------------------------------------------------------------------------
def _instance(settings: Settings):
    """The Dagster instance of DAGSTER_HOME; without it, the repository's (its dagster.yaml keeps
    storage under data/dagster/) when run from the repository root, else data/dagster_home."""
    from dagster import DagsterInstance

    home = settings.dagster_home
    if home is None:
        cwd = Path.cwd()
        home = cwd if (cwd / "dagster.yaml").exists() else cwd / "data" / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    return DagsterInstance.from_config(str(home)), home


def cmd_run(args: argparse.Namespace) -> int:
    from outropy_pipelines.pipeline_runner import PipelineRunner, select_days

    settings = _settings(slack_export=Path(args.export).resolve() if args.export else None)
    if settings.slack_is_live and not (args.date or args.start or args.end):
        _err("live Slack mode (SLACK_BOT_TOKEN): give --date D or --start D --end D")
        return 2
    source = (
        f"the Slack Web API ({settings.slack_api_url})"
        if settings.slack_is_live
        else str(settings.slack_export)
    )
    try:
        days = select_days(settings, date=args.date, start=args.start, end=args.end)
    except ValueError as exc:
        _err(str(exc))
        return 2
    if not days:
        _err(f"no days to process in {settings.slack_export}")
        return 2
    instance, home = _instance(settings)
    runner = PipelineRunner(settings, instance=instance, progress=print)
    print(
        f"outropy: {len(days)} day(s) {days[0]} .. {days[-1]} from {source}\n"
        f"         DuckDB {settings.duckdb_path}, Dagster instance {home}, LLM provider {settings.llm.provider}"
    )
    started = time.monotonic()
    summary = runner.run(days)
    print(
        f"\nDone in {time.monotonic() - started:.1f}s: {summary.briefings} briefings for {summary.users} people."
    )
    print(f"  Markdown files : {settings.briefings_dir}/<day>/<user_id>.md")
    print(f"  DuckDB tables  : briefings, briefing_lines in {settings.duckdb_path}")
    if summary.example:
        day, uid = summary.example
        print(f"  Print one      : {_command(f'briefing --date {day} --user {uid}')}")
    return 0 if summary.ok else 1


# -- threads / items ----------------------------------------------------------------------------
def _builder_for_export(export: Path):
    from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
    from outropy_pipelines.domain.thread_builder import ThreadBuilder

    reader = SlackExportReader(export)
    directory, _ = reader.read_directory()
    for warning in reader.warnings:
        _err(f"warning: {warning}")
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


def cmd_items(args: argparse.Namespace) -> int:
    from outropy_pipelines.domain.classification import classify_threads
    from outropy_pipelines.domain.days import day_of_ts
    from outropy_pipelines.llm.base import LLMClient
    from outropy_pipelines.llm.factory import build_provider

    settings = _settings()
    llm = settings.llm
    reader, directory, builder = _builder_for_export(Path(args.export_dir))
    result = builder.build(reader.iter_all_messages(settings.timezone), day="", window=None)
    channels = {c.channel_id: (c.name, c.kind) for c in directory.channels}
    user_names = {u.user_id: u.display_name for u in directory.users}
    key = llm.openai_api_key.get_secret_value() if llm.openai_api_key else None
    client = LLMClient(build_provider(llm.provider, llm.model, llm.openai_base_url, api_key=key))
    by_day: dict[str, list] = {}
    for t in result.threads:
        day = day_of_ts(t.last_ts, settings.timezone)
        by_day.setdefault(day, []).append(t.model_copy(update={"day": day}))
    count = 0
    with open(args.out, "w", encoding="utf-8") as fh:
        for day in sorted(by_day):
            out = classify_threads(by_day[day], client, channels, user_names, day)
            for it in out.items:
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
    print(f"{count} items from {len(result.threads)} conversations; wrote {args.out}", file=sys.stderr)
    return 0


# -- briefing -----------------------------------------------------------------------------------
def _day_arg(value: str | None) -> str | None:
    from outropy_pipelines.domain.days import parse_day

    if value is None:
        return None
    try:
        return parse_day(value).isoformat()
    except ValueError:
        raise ValueError(f"not a day: {value!r} (expected YYYY-MM-DD)") from None


def _existing_store(settings: Settings):
    from outropy_pipelines.store import DuckDBStore

    if not settings.duckdb_path.exists():
        raise FileNotFoundError(f"no DuckDB file at {settings.duckdb_path}: run `{_command('run')}` first")
    return DuckDBStore(settings.duckdb_path, memory_limit=settings.duckdb_memory_limit)


def cmd_briefing(args: argparse.Namespace) -> int:
    from outropy_pipelines.store.briefings import find_briefing

    try:
        day = _day_arg(args.date)
        store = _existing_store(_settings())
    except (ValueError, FileNotFoundError) as exc:
        _err(str(exc))
        return 2
    row = find_briefing(store, day, args.user)
    if row is None:
        _err(f"no briefing for user {args.user!r} on {day}")
        return 1
    if args.format == "html":
        print(row["html"])
    elif args.format == "blocks":
        print(json.dumps(json.loads(row["blocks_json"]), indent=2, ensure_ascii=False))
    else:
        print(row["markdown"])
    return 0


# -- deliver ------------------------------------------------------------------------------------
def cmd_deliver(args: argparse.Namespace) -> int:
    """Ledger inspection (--ledger, --dry-run, --requeue) directly; sending through the
    `deliver_briefings` job on the local instance, as the sensor's runs do."""
    from dagster import RunConfig

    from outropy_pipelines.defs.definitions import build_definitions, build_resources
    from outropy_pipelines.defs.delivery import DELIVER_JOB, DeliverConfig
    from outropy_pipelines.domain.delivery_plan import CHANNELS
    from outropy_pipelines.stages import delivery as dl

    try:
        settings = _settings()
        days = [_day_arg(args.date)] if args.date else None
        store = _existing_store(settings)
    except (ValueError, FileNotFoundError) as exc:
        _err(str(exc))
        return 2
    users = [args.user] if args.user else None
    channels = [args.channel] if args.channel else list(CHANNELS)
    resources = build_resources(settings)
    policy = resources["delivery_policy"].policy(args.max_age_days)

    def show_ledger() -> None:
        counts = dl.ledger_counts(store, days)
        print(f"ledger (table deliveries in {settings.duckdb_path}):")
        for (channel, status), n in sorted(counts.items()):
            print(f"  {channel:<6} {status:<8} {n}")
        if not counts:
            print("  (empty)")

    if args.requeue:
        n = dl.requeue(store, [args.requeue], days, users, channels)
        print(f"requeued {n} {args.requeue} deliveries")
    if args.ledger:
        show_ledger()
        return 0
    if args.dry_run:
        due = dl.due_deliveries(store, channels, policy, days=days, users=users)
        for d in due:
            print(f"due: {d.day} {d.user_id} {d.channel}")
        print(f"{len(due)} deliveries due")
        return 0
    configured = {"slack": resources["slack_delivery"].enabled, "email": resources["email_delivery"].enabled}
    for ch in channels:
        if not configured[ch]:
            waiting = len(dl.due_deliveries(store, [ch], policy, days=days, users=users))
            hint = "SLACK_BOT_TOKEN" if ch == "slack" else "SMTP_HOST"
            print(f"{ch}: not configured (set {hint}); {waiting} deliveries waiting", file=sys.stderr)
    if not any(configured[ch] for ch in channels):
        _err("no delivery channel configured: set SLACK_BOT_TOKEN (Slack) and/or SMTP_HOST (email)")
        return 2
    instance, _ = _instance(settings)
    config = DeliverConfig(
        days=days or [], users=users or [], channels=channels, max_age_days=args.max_age_days
    )
    started = time.monotonic()
    result = (
        build_definitions(settings)
        .resolve_job_def(DELIVER_JOB)
        .execute_in_process(
            instance=instance,
            run_config=RunConfig(ops={"deliver_due_briefings": config}),
            raise_on_error=False,
        )
    )
    if not result.success:
        _err(f"the {DELIVER_JOB} run {result.run_id} failed: see it in the Dagster UI")
        return 1
    outcome = result.output_for_node("deliver_due_briefings")
    sent = ", ".join(f"{ch} {n}" for ch, n in sorted(outcome["sent_by_channel"].items()))
    print(
        f"Delivered in {time.monotonic() - started:.1f}s: {outcome['summary']} ({sent}); "
        f"run {result.run_id} in the Dagster UI."
    )
    show_ledger()
    return 0 if all(outcome[status] == 0 for status in ("retry", "failed", "unknown")) else 1


# -- bench (scale) ------------------------------------------------------------------------------
def _counts(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def cmd_bench_scale(args: argparse.Namespace) -> int:
    from outropy_pipelines.bench.scale_bench import ScaleBenchConfig, format_report, run_scale_bench

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
        Path(args.out).write_text(json.dumps(report, indent=1), encoding="utf-8")
        print(f"\nreport: {args.out}")
    return 0


# -- bench tokens -------------------------------------------------------------------------------
def cmd_bench_tokens(args: argparse.Namespace) -> int:
    from outropy_pipelines.bench.token_bench import run_bench

    return run_bench(export=args.export, db=args.db, date=args.date, model=args.model, json_path=args.json)


# -- main ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="outropy", description="Daily Slack briefings (Dagster + DuckDB).")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the whole pipeline through Dagster on the local instance")
    run.add_argument(
        "--export",
        help="Slack export directory or .zip (default: OUTROPY_SLACK_EXPORT or data/sample_export)",
    )
    run.add_argument("--date", help="one day, YYYY-MM-DD")
    run.add_argument("--start", help="first day, YYYY-MM-DD")
    run.add_argument("--end", help="last day, YYYY-MM-DD")
    run.set_defaults(func=cmd_run)

    th = sub.add_parser("threads", help="thread reconstruction only: one JSON line per message")
    th.add_argument("export_dir", metavar="EXPORT", help="Slack export directory or .zip")
    th.add_argument("--out", required=True)
    th.set_defaults(func=cmd_threads)

    it = sub.add_parser("items", help="classification only: one JSON line per item")
    it.add_argument("export_dir", metavar="EXPORT", help="Slack export directory or .zip")
    it.add_argument("--out", required=True)
    it.set_defaults(func=cmd_items)

    br = sub.add_parser("briefing", help="print one stored briefing")
    br.add_argument("--date", required=True)
    br.add_argument("--user", required=True, help="user id or name")
    br.add_argument("--format", choices=["md", "html", "blocks"], default="md")
    br.set_defaults(func=cmd_briefing)

    de = sub.add_parser(
        "deliver",
        help="send due briefings by Slack DM / email (what the deliver_briefings sensor does), once each",
    )
    de.add_argument("--date", help="only this day, YYYY-MM-DD (default: every day with due deliveries)")
    de.add_argument("--user", help="only this user id")
    de.add_argument("--channel", choices=["slack", "email"], help="only this channel")
    de.add_argument("--max-age-days", type=int, help="skip briefings older than this many days")
    de.add_argument("--dry-run", action="store_true", help="list what is due, send nothing")
    de.add_argument("--ledger", action="store_true", help="print the ledger's counts, send nothing")
    de.add_argument(
        "--requeue", choices=["failed", "unknown"], help="make these deliveries due again (then deliver)"
    )
    de.set_defaults(func=cmd_deliver)

    bench = sub.add_parser(
        "bench",
        help="benchmark at scale (default), or `bench tokens`",
        description="Generate a synthetic workspace, run every stage with the local provider, and "
        "report per-stage time, messages/s, peak RSS, DuckDB size, ingest vs DuckDB's read_json, "
        "LLM tokens vs the naive design, and Dagster runs and wall time at scale.",
    )
    bench.add_argument("--users", type=int, default=1000, help="people reading briefings (default 1000)")
    bench.add_argument("--channels", type=int, default=300)
    bench.add_argument("--messages-per-day", type=int, default=200_000)
    bench.add_argument("--days", type=int, default=3)
    bench.add_argument("--seed", type=int, default=11)
    bench.add_argument("--token-users", default="100,1000,5000", help="user counts for the token comparison")
    bench.add_argument(
        "--dagster-users", default="1000,5000", help="user counts for briefing runs ('' to skip)"
    )
    bench.add_argument("--backfill-days", type=int, default=7)
    bench.add_argument("--backfill-users", type=int, default=1000)
    bench.add_argument("--no-graphql", action="store_true", help="skip the UI partition-status query timing")
    bench.add_argument("--workdir", help="keep the workspace, DuckDB files and instances here")
    bench.add_argument("--out", help="write the JSON report here")
    bench.set_defaults(func=cmd_bench_scale)
    bench_sub = bench.add_subparsers(dest="bench_command")
    bt = bench_sub.add_parser("tokens", help="LLM input tokens per day: our pipeline vs the naive design")
    bt.add_argument("--export", help="Slack export (default: OUTROPY_SLACK_EXPORT or data/sample_export)")
    bt.add_argument("--db", help="measure an existing DuckDB file instead of preparing the export")
    bt.add_argument("--date", help="only this day, YYYY-MM-DD")
    bt.add_argument("--model", help="tokenizer of this model (default: OUTROPY_LLM_MODEL or gpt-4o-mini)")
    bt.add_argument("--json", help="also write the figures to this JSON file")
    bt.set_defaults(func=cmd_bench_tokens)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    # Dagster flags beta/preview parameters (backfill_policy, ...) on every definition load
    warnings.filterwarnings("ignore", module=r"dagster(\.|$)")
    warnings.filterwarnings("ignore", message=r".*(beta|preview|experimental).*")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValidationError as exc:  # the environment holds a bad setting
        _err(_settings_error(exc))
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
