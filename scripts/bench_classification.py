"""Classification and entity summaries: the reference implementation against the current one.

The reference is the code of a fixed commit (`--ref`, default: the commit before the speed work),
loaded from git into private modules (`_outropy_ref_*`): `llm/base.py`, `domain/classification.py`,
`llm/local_provider.py`, `domain/entity_memory.py`, `stages/classification.py` and
`stages/entity_memory.py`, with the modules of `domain/item_rules/` they import (the local provider's
rules, at refs after they left `llm/local_provider.py`) and any module they import that the current
package no longer has. Both run on the same threads, in the same process, with the local provider:

- classification: `classify_threads` (prefilter, inputs, provider, outputs -> items) on every day's
  threads; the items (every field, in order, compared as JSON), failures, rejections, skips, stats
  and the client's accounting must be identical;
- entity summaries: the stages `classify_day` + `summarize_day` day after day, each on its own
  copy of the DuckDB file; the tables `items`, `item_sources`, `llm_failures` and
  `entity_summaries` must be identical row for row; `fold_entity_summaries` is also timed on its
  own on the same inputs.

Datasets: `sample` (data/sample_export, all days), `synthetic` (generate_scaled_workspace, seed 11,
200 users, 50 channels, 2 days x 20,000 messages), `irc` (the IRC disentanglement dev split through
the shared converter, when present). Exports are ingested and threaded once into `--work` (the
threads are the same input for both sides; rebuilt with --rebuild).

Prints seconds and messages per second for both, and the ratio reference / current, per dataset.
Timings are the best of `--repeat` runs (alternating reference and current): CPU seconds of the
process for the functions (less disturbed by other work on the machine), wall seconds for the stage
`summarize_day` (it waits on DuckDB).
Exits non-zero when an output differs.

    python scripts/bench_classification.py [--datasets sample,synthetic,irc] [--repeat 3]
        [--concurrency 1,4] [--ref COMMIT] [--work DIR] [--rebuild]
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib.util
import inspect
import json
import re
import shutil
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: the last commit before the speed work on classification and entity summaries (issue 7)
DEFAULT_REF = "55a27df"
IRC_DIR = ROOT.parent / "shared" / "data" / "irc-disentanglement"
IRC_TOOL = ROOT.parent / "shared" / "tools" / "irc_to_slack_export.py"

# reference modules, in dependency order: (module under outropy_pipelines, file)
REF_MODULES = (
    ("llm.base", "outropy_pipelines/llm/base.py"),
    ("domain.classification", "outropy_pipelines/domain/classification.py"),
    ("llm.local_provider", "outropy_pipelines/llm/local_provider.py"),
    ("domain.entity_memory", "outropy_pipelines/domain/entity_memory.py"),
    ("stages.classification", "outropy_pipelines/stages/classification.py"),
    ("stages.entity_memory", "outropy_pipelines/stages/entity_memory.py"),
)
#: packages whose modules are taken from the reference whenever a reference module imports them:
#: the rules the local provider runs (`domain/item_rules/`, since the rules left llm/local_provider.py)
REF_PACKAGES = ("domain.item_rules.",)


# ---------------------------------------------------------------------------------------------
# the reference, loaded from git
# ---------------------------------------------------------------------------------------------


def load_reference(ref: str) -> dict[str, types.ModuleType]:
    """Each module of REF_MODULES at `ref`, as a private module whose imports of the other
    reference modules point at their private copies (everything else is shared). A module of the
    package that a reference module imports is loaded from `ref` the same way, before the module
    that imports it, when it is in one of REF_PACKAGES or the current package no longer has it
    (`llm/tasks.py`, `adapters/duckdb_store.py` at the default ref, `llm/regex_literals.py` before
    the rules moved to `domain/item_rules/`)."""
    loaded: dict[str, types.ModuleType] = {}
    for dotted, path in REF_MODULES:
        _load_reference_module(ref, dotted, path, loaded)
    return loaded


def _load_reference_module(ref: str, dotted: str, path: str, loaded: dict[str, types.ModuleType]) -> None:
    source = subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    for dep in re.findall(r"^\s*from outropy_pipelines\.([\w.]+) import\b", source, re.MULTILINE):
        if dep not in loaded and (dep.startswith(REF_PACKAGES) or not _exists_now(dep)):
            _load_reference_module(ref, dep, "outropy_pipelines/" + dep.replace(".", "/") + ".py", loaded)
    for other in loaded:
        source = re.sub(
            rf"\bfrom outropy_pipelines\.{re.escape(other)} import\b",
            f"from {_ref_name(other)} import",
            source,
        )
    name = _ref_name(dotted)
    module = types.ModuleType(name)
    module.__file__ = f"<{ref}:{path}>"
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    loaded[dotted] = module


def _exists_now(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(f"outropy_pipelines.{dotted}") is not None
    except ModuleNotFoundError:  # its package is gone too
        return False


def _ref_name(dotted: str) -> str:
    return "_outropy_ref_" + dotted.replace(".", "_")


# ---------------------------------------------------------------------------------------------
# datasets: export -> DuckDB with raw messages and threads (built once)
# ---------------------------------------------------------------------------------------------


def export_for(name: str, work: Path) -> Path | None:
    if name == "sample":
        return ROOT / "data" / "sample_export"
    if name == "synthetic":
        export = work / "synthetic_export"
        if not (export / "users.json").exists():
            from outropy_pipelines.sample import generate_scaled_workspace

            shutil.rmtree(export, ignore_errors=True)
            generate_scaled_workspace(export, seed=11, users=200, channels=50, days=2, messages_per_day=20000)
        return export
    if name == "irc":
        if not (IRC_DIR / "dev").is_dir() or not IRC_TOOL.exists():
            return None
        export = work / "irc_dev_export"
        if not (export / "_index.jsonl").exists():
            shutil.rmtree(export, ignore_errors=True)
            subprocess.run([sys.executable, str(IRC_TOOL), str(IRC_DIR / "dev"), str(export)], check=True)
        return export
    raise SystemExit(f"unknown dataset {name!r}")


def threads_db(name: str, work: Path, rebuild: bool) -> Path | None:
    """A DuckDB file with the directory, raw messages and threads of every day of the export."""
    db = work / f"{name}.threads.duckdb"
    done = work / f"{name}.threads.done"
    if done.exists() and db.exists() and not rebuild:
        return db
    export = export_for(name, work)
    if export is None:
        return None
    from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
    from outropy_pipelines.domain.thread_builder import ThreadBuilder
    from outropy_pipelines.stages.directory import write_directory
    from outropy_pipelines.stages.ingest import ingest_day
    from outropy_pipelines.stages.threading import thread_day
    from outropy_pipelines.store import DuckDBStore
    from outropy_pipelines.store.directory import read_directory

    print(f"[{name}] ingesting and threading {export} ...", flush=True)
    done.unlink(missing_ok=True)
    db.unlink(missing_ok=True)
    store = DuckDBStore(db)
    reader = SlackExportReader(export)
    directory, quarantine = reader.read_directory()
    write_directory(store, directory, quarantine)
    days = sorted({p.stem for p in export.glob("*/*.json") if re.fullmatch(r"\d{4}-\d\d-\d\d", p.stem)})
    builder = ThreadBuilder.for_directory(read_directory(store))
    for day in days:
        ingest_day(store, reader, day, "UTC")
        thread_day(store, builder, day, "UTC")
    done.write_text("ok\n")
    return db


# ---------------------------------------------------------------------------------------------
# comparison helpers
# ---------------------------------------------------------------------------------------------


class Mismatch(AssertionError):
    pass


def same(what: str, ref: Any, new: Any) -> None:
    if ref == new:
        return
    if isinstance(ref, list) and isinstance(new, list):
        for n, (a, b) in enumerate(zip(ref, new, strict=False)):
            if a != b:
                raise Mismatch(f"{what}: first difference at #{n}:\n  ref: {a!r}\n  new: {b!r}")
        raise Mismatch(f"{what}: {len(ref)} rows in the reference, {len(new)} now")
    raise Mismatch(f"{what}:\n  ref: {ref!r}\n  new: {new!r}")


def as_json(models: list) -> list[str]:
    return [json.dumps(m.model_dump(mode="json"), ensure_ascii=False) for m in models]


def table_rows(store, table: str) -> list[str]:
    rows = store.query(f"SELECT * FROM {table} ORDER BY ALL")
    return [json.dumps(r, default=str, ensure_ascii=False) for r in rows]


def best_of(
    repeat: int, runs: dict[str, Callable[[], Any]], clock: Callable[[], float] = time.process_time
) -> dict[str, float]:
    """Best time of each run over `repeat` rounds, the runs alternating within a round. By default
    CPU time of the process (all threads): other work on the machine inflates it much less than
    wall time. The stages, which also wait on DuckDB, are timed on the wall clock."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for key, run in runs.items():
            gc.collect()
            started = clock()
            run()
            best[key] = min(best[key], clock() - started)
    return best


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f}/s" if seconds > 0 else "         -"


# ---------------------------------------------------------------------------------------------
# the bench
# ---------------------------------------------------------------------------------------------


def bench_dataset(
    name: str, db: Path, ref: dict[str, types.ModuleType], work: Path, repeat: int, concurrency: list[int]
) -> dict[str, Any]:
    from outropy_pipelines.domain import classification as new_cls
    from outropy_pipelines.domain import entity_memory as new_mem
    from outropy_pipelines.llm import base as new_base
    from outropy_pipelines.llm import local_provider as new_lp
    from outropy_pipelines.stages import classification as new_stage_cls
    from outropy_pipelines.stages import entity_memory as new_stage_mem
    from outropy_pipelines.store import DuckDBStore
    from outropy_pipelines.store.directory import read_directory
    from outropy_pipelines.store.entity_summaries import load_entity_summaries
    from outropy_pipelines.store.items import load_items
    from outropy_pipelines.store.threads import load_threads

    # side -> (llm.base, domain.classification, llm.local_provider, domain.entity_memory,
    #          stages.classification, stages.entity_memory)
    sides = {
        "ref": tuple(
            ref[m]
            for m in (
                "llm.base",
                "domain.classification",
                "llm.local_provider",
                "domain.entity_memory",
                "stages.classification",
                "stages.entity_memory",
            )
        ),
        "new": (new_base, new_cls, new_lp, new_mem, new_stage_cls, new_stage_mem),
    }
    store = DuckDBStore(db)
    directory = read_directory(store)
    channels = {c.channel_id: (c.name, c.kind) for c in directory.channels}
    channel_names = {c.channel_id: c.name for c in directory.channels}
    user_names = {u.user_id: u.display_name for u in directory.users}
    public_channels = {c.channel_id for c in directory.channels if c.kind == "public"}
    days = [str(r["day"]) for r in store.query("SELECT DISTINCT day FROM threads ORDER BY day")]

    def client(side: str, conc: int = 1) -> Any:
        base, _, lp, *_ = sides[side]
        return base.LLMClient(lp.LocalProvider(), concurrency=conc)

    def classify(side: str, conc: int, threads: list, day: str) -> tuple[Any, Any]:
        c = client(side, conc)
        return sides[side][1].classify_threads(threads, c, channels, user_names, day), c

    def summarize(side: str, day: str) -> None:
        sides[side][5].summarize_day(stores[side], client(side), directory, day)

    def fold(side: str, day: str, previous: list, items: list) -> list:
        fold_fn = sides[side][3].fold_entity_summaries
        # since summaries are kept per visibility scope, the fold is told which channels are public
        scoped = "public_channels" in inspect.signature(fold_fn).parameters
        extra = {"public_channels": public_channels} if scoped else {}
        return fold_fn(day, previous, items, channel_names, user_names, client(side), **extra)

    # the stages write to their own copy of the database
    stores = {}
    for side in sides:
        copy = work / f"{name}.{side}.duckdb"
        copy.unlink(missing_ok=True)
        shutil.copyfile(db, copy)
        stores[side] = DuckDBStore(copy)

    classify_keys = [f"classify_threads, concurrency {c}" for c in concurrency]
    timings: dict[str, dict[str, float]] = {
        key: dict.fromkeys(sides, 0.0)
        for key in (*classify_keys, "summarize_day (stage, wall)", "fold_entity_summaries")
    }
    load_seconds = 0.0
    n_threads = n_messages = n_items = 0
    for day in days:
        # classification, with only this day's threads in memory (as the asset runs)
        started = time.perf_counter()
        threads = load_threads(store, day)
        load_seconds += time.perf_counter() - started
        n_threads += len(threads)
        n_messages += sum(len(t.messages) for t in threads)
        for conc, key in zip(concurrency, classify_keys, strict=True):
            (a, ref_client), (b, new_client) = (
                classify("ref", conc, threads, day),
                classify("new", conc, threads, day),
            )
            same(f"{name} {day} items", as_json(a.items), as_json(b.items))
            same(f"{name} {day} failures", a.failures, b.failures)
            same(f"{name} {day} rejections", a.rejections, b.rejections)
            same(f"{name} {day} skipped", a.skipped, b.skipped)
            same(f"{name} {day} stats", a.stats, b.stats)
            same(
                f"{name} {day} client metadata (concurrency {conc})",
                ref_client.metadata(),
                new_client.metadata(),
            )
            if conc == concurrency[0]:
                n_items += len(b.items)
            del a, b, ref_client, new_client
            best = best_of(
                repeat, {side: functools.partial(classify, side, conc, threads, day) for side in sides}
            )
            for side, seconds in best.items():
                timings[key][side] += seconds
        # the stages: classify_day, then summarize_day (timed), each side on its own database
        for side in sides:
            sides[side][4].classify_day(stores[side], client(side), directory, day, threads)
        del threads
        best = best_of(
            repeat, {side: functools.partial(summarize, side, day) for side in sides}, time.perf_counter
        )
        for side, seconds in best.items():
            timings["summarize_day (stage, wall)"][side] += seconds
        # the fold alone, on what summarize_day reads
        previous = load_entity_summaries(stores["new"], _shift(day, -1))
        items = load_items(stores["new"], day)
        same(
            f"{name} {day} fold_entity_summaries",
            as_json(fold("ref", day, previous, items)),
            as_json(fold("new", day, previous, items)),
        )
        best = best_of(repeat, {side: functools.partial(fold, side, day, previous, items) for side in sides})
        for side, seconds in best.items():
            timings["fold_entity_summaries"][side] += seconds
    for table in ("items", "item_sources", "llm_failures", "entity_summaries"):
        same(f"{name} table {table}", table_rows(stores["ref"], table), table_rows(stores["new"], table))
    n_entities = stores["new"].scalar("SELECT count(*) FROM entity_summaries")
    for side in sides:
        (work / f"{name}.{side}.duckdb").unlink(missing_ok=True)

    print(f"[{name}] {len(days)} day(s), {n_threads:,} threads, {n_messages:,} messages")
    print(
        f"[{name}] identical: items ({n_items:,}), failures, rejections, stats, LLM accounting, "
        f"tables items/item_sources/llm_failures/entity_summaries ({n_entities:,} summaries)"
    )
    print(
        f"[{name}] load_threads (shared input, not compared): {load_seconds:.3f}s "
        f"{rate(n_messages, load_seconds)} messages"
    )
    print(f"  {'':<36} {'reference':>22} {'current':>22} {'ratio':>7}")
    for what, t in timings.items():
        print(
            f"  {what:<36} {t['ref']:>8.3f}s {rate(n_messages, t['ref'])} {t['new']:>8.3f}s "
            f"{rate(n_messages, t['new'])} {t['ref'] / t['new']:>6.2f}x"
        )
    return {"dataset": name, "messages": n_messages, "threads": n_threads, "timings": timings}


def _shift(day: str, n: int) -> str:
    from outropy_pipelines.domain.days import shift_day

    return shift_day(day, n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="sample,synthetic,irc")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--concurrency", default="1,4", help="LLM client concurrency (4: the Dagster default)")
    ap.add_argument("--ref", default=DEFAULT_REF, help="git commit of the reference implementation")
    ap.add_argument("--work", type=Path, default=Path("/tmp/outropy_bench_classification"))
    ap.add_argument("--rebuild", action="store_true", help="ingest and thread the exports again")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    ref = load_reference(args.ref)
    concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    failed = False
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        db = threads_db(name, args.work, args.rebuild)
        if db is None:
            print(f"[{name}] not available, skipped")
            continue
        try:
            bench_dataset(name, db, ref, args.work, args.repeat, concurrency)
        except Mismatch as exc:
            print(f"[{name}] OUTPUT DIFFERS: {exc}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
