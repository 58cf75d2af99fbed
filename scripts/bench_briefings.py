"""Per-reader cost of briefings: the reference path against the day index, on a synthetic day.

Builds one synthetic day (default 20,000 items, 300 channels plus DMs and group DMs, 1,000 readers
with heavy-tailed channel sizes), checks that both paths give identical briefings on a sample of
readers, then times each phase per reader in the same run, as `brief_day` runs them:

- reader context: `reader_context` (scans every channel's member list) vs the index's membership map;
- ranking: `rank_items_for_reader` (the tests' reference, on the sample: it is slow) vs `BriefingIndex.rank_for`
  (every reader, one pass from a freshly built index, so its shared caches start cold);
- lines: `build_briefing`'s own assembly (sources, permalinks, labels, intro) vs `assemble`;
- rendering: `render_into` and `render_plain_text` vs the same with the index's `RenderCache`.

Prints CPU ms per reader and ratios (reference / index), and the index build (once per day).

With `--baseline REV` it then times rendering against the `briefing_rendering` and
`briefing_render_cache` of git revision REV (loaded into temporary modules), on the same briefings
in the same run, after checking that both give byte-identical output for every reader.

    python scripts/bench_briefings.py [--items 20000] [--channels 300] [--readers 1000] [--sample 40]
                                      [--baseline HEAD]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from outropy_pipelines.domain import briefing_rendering
from outropy_pipelines.domain.briefing_index import BriefingIndex
from outropy_pipelines.domain.briefing_rendering import render_into, render_plain_text
from outropy_pipelines.domain.models import Channel, Item, OpenItem, SourceRef, User

# the slow reference lives with the tests, as their oracle
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from outropy_pipelines_tests import reference_ranking
from outropy_pipelines_tests.reference_ranking import (
    build_briefing,
    rank_items_for_reader,
    reader_context,
)

DAY = "2026-11-03"
WS = "https://bench.slack.com"
KINDS = ["status_update", "action_item", "question", "announcement", "decision", "blocker", "incident"]
KIND_WEIGHTS = [30, 25, 20, 8, 8, 6, 3]
PROJECTS = [f"Project{n}" for n in range(60)]


def synthetic_day(n_items: int, n_channels: int, n_users: int, seed: int):
    """Users, channels (public/private + DMs and group DMs), items, authors, threads, open items."""
    rng = random.Random(seed)
    uids = [f"U{n:05d}" for n in range(n_users)]
    users = {u: User(user_id=u, name=f"user{n}", real_name=f"Person {n}") for n, u in enumerate(uids)}
    names = {u.user_id: u.display_name for u in users.values()}
    channels: dict[str, Channel] = {}
    # Channel sizes are heavy-tailed: #general has everyone, a few big channels, most are small teams.
    for n in range(n_channels):
        private = rng.random() < 0.25
        size = n_users if n == 0 else min(n_users, max(2, int(rng.paretovariate(1.2) * 6)))
        cid = f"{'G' if private else 'C'}{n:05d}"
        channels[cid] = Channel(
            channel_id=cid,
            name=f"chan-{n}",
            kind="private" if private else "public",
            members=rng.sample(uids, size),
        )
    for n in range(n_users * 3):  # DMs
        cid = f"D{n:06d}"
        channels[cid] = Channel(channel_id=cid, name=cid, kind="im", members=rng.sample(uids, 2))
    for n in range(n_users // 2):  # group DMs
        cid = f"M{n:06d}"
        channels[cid] = Channel(
            channel_id=cid, name=cid, kind="mpim", members=rng.sample(uids, rng.randint(3, 8))
        )
    conversations = sorted(channels)
    # Activity: busy channels produce more items; DMs a little each.
    weights = [(5.0 if c.startswith(("C", "G")) else 0.3) * rng.paretovariate(1.5) for c in conversations]
    items: list[Item] = []
    authors: dict[tuple[str, str], str | None] = {}
    thread_ts_of: dict[tuple[str, str], str | None] = {}
    chosen = rng.choices(conversations, weights=weights, k=n_items)
    ts = 0
    for n, cid in enumerate(chosen):
        members = channels[cid].members
        kind = rng.choices(KINDS, weights=KIND_WEIGHTS)[0]
        sources = []
        root = None
        for _ in range(rng.choice([1, 1, 2, 3, 5])):
            ts += 1
            t = f"{1762128000 + ts // 1000}.{ts % 1000:06d}"
            root = root or t
            sources.append(SourceRef(channel_id=cid, ts=t))
            authors[(cid, t)] = rng.choice(members)
            thread_ts_of[(cid, t)] = root if len(sources) > 1 else None
        status = rng.choice(["open", "open", "resolved", "info"])
        if kind in ("announcement", "status_update", "decision"):
            status = rng.choice(["info", "info", "resolved"])
        items.append(
            Item(
                day=DAY,
                item_id=f"{n:08x}{rng.getrandbits(32):08x}",
                thread_id=f"{cid}:{sources[0].ts}",
                channel_id=cid,
                kind=kind,
                title=f"Item {n}: ship the <new> thing & tell *everyone*",
                owners=rng.sample(members, min(len(members), rng.choice([0, 1, 1, 2]))),
                mentions=rng.sample(members, min(len(members), rng.choice([0, 0, 1, 2]))),
                due=rng.choice([None, None, None, "2026-11-07"]),
                entities=rng.sample(PROJECTS, rng.choice([0, 0, 1, 2])),
                confidence=round(rng.uniform(0.3, 1.0), 2),
                status=status,
                is_new=rng.random() < 0.97,
                provider="local",
                prompt_version="bench",
                sources=sources,
            )
        )
    open_items: dict[str, list[OpenItem]] = {}
    for u in uids:
        carried = []
        for k in range(rng.randint(0, 5)):
            cid = rng.choice(conversations[:n_channels])
            carried.append(
                OpenItem(
                    item_id=f"old-{u}-{k}",
                    kind="action_item",
                    title=f"Carried ask {k}",
                    channel_id=cid,
                    owners=[u],
                    since_day="2026-10-30",
                    last_seen_day="2026-11-02",
                    sources=[SourceRef(channel_id=cid, ts=f"1761800000.{k:06d}")],
                )
            )
        open_items[u] = carried
    follows = {u: rng.sample(PROJECTS, rng.choice([0, 0, 1, 2, 3])) for u in uids}
    return users, names, channels, items, authors, thread_ts_of, open_items, follows


def clock() -> float:
    """CPU seconds of this process: steadier than wall time on a busy machine (the work is single-threaded)."""
    return time.process_time()


class Phases:
    """CPU milliseconds per phase, accumulated over readers."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self.readers = 0
        self._t = 0.0

    def start(self) -> None:
        self._t = clock()

    def lap(self, phase: str) -> None:
        now = clock()
        self.ms[phase] = self.ms.get(phase, 0.0) + (now - self._t) * 1000
        self._t = now

    def per_reader(self, phase: str) -> float:
        return self.ms.get(phase, 0.0) / self.readers


PHASES = [
    ("reader context", "context"),
    ("ranking", "ranking"),
    ("lines (sources, links, labels)", "lines"),
    ("render_into (md, blocks, html)", "render"),
    ("render_plain_text (brief_day)", "plain"),
]


def reference_pass(
    readers, users, names, channels, items, authors, thread_ts_of, open_items, follows
) -> Phases:
    """The reference path per reader, phase by phase (what `brief_day` did before the index)."""
    ph = Phases()
    for u in readers:
        ph.start()
        reader = reader_context(u, channels.values(), follows[u])
        ph.lap("context")
        ranked = rank_items_for_reader(
            reader, items, open_items=open_items[u], channels=channels, user_names=names, authors_of=authors
        )
        ph.lap("ranking")
        # build_briefing's own assembly, with its reader context, ranking and rendering replaced by
        # the results above / no-ops (each timed apart).
        reference_ranking.reader_context = lambda *a, _r=reader, **k: _r
        reference_ranking.rank_items_for_reader = lambda *a, _r=ranked, **k: _r
        reference_ranking.render_into = lambda b: b
        try:
            ph.start()
            b = build_briefing(
                DAY,
                users[u],
                items,
                channels,
                names,
                open_items[u],
                WS,
                thread_ts_of,
                authors_of=authors,
                projects=follows[u],
            )
            ph.lap("lines")
        finally:
            reference_ranking.reader_context = reader_context
            reference_ranking.rank_items_for_reader = rank_items_for_reader
            reference_ranking.render_into = render_into
        ph.start()
        render_into(b)
        ph.lap("render")
        render_plain_text(b)
        ph.lap("plain")
        ph.readers += 1
    return ph


def index_pass(index: BriefingIndex, readers, users, open_items, follows) -> Phases:
    """The index path per reader, phase by phase, as `brief_day` runs it (one pass, caches cold at first)."""
    ph = Phases()
    for u in readers:
        ph.start()
        reader = index.reader_context(u, follows[u])
        ph.lap("context")
        ranked = index.rank_for(reader, open_items=open_items[u])
        ph.lap("ranking")
        b = index.assemble(users[u], ranked)
        ph.lap("lines")
        render_into(b, renderer=index.renderer)
        ph.lap("render")
        render_plain_text(b, renderer=index.renderer)
        ph.lap("plain")
        ph.readers += 1
    return ph


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--channels", type=int, default=300)
    parser.add_argument("--readers", type=int, default=1_000)
    parser.add_argument("--sample", type=int, default=40, help="readers timed on the (slow) reference path")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--baseline", metavar="REV", help="also time rendering against git revision REV")
    parser.add_argument("--repeat", type=int, default=3, help="rendering passes per side (best is kept)")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    day = synthetic_day(args.items, args.channels, args.readers, args.seed)
    users, names, channels, items, authors, thread_ts_of, open_items, follows = day
    readers = sorted(users)
    sample = random.Random(args.seed).sample(readers, min(args.sample, len(readers)))
    sizes = [len(c.members) for c in channels.values() if c.kind in ("public", "private")]
    memberships = [sum(1 for c in channels.values() if u in c.members) for u in sample]
    print(
        f"synthetic day: {len(items):,} items, {args.channels} channels + {len(channels) - args.channels:,} "
        f"DMs/group DMs, {len(readers):,} readers (generated in {time.perf_counter() - t0:.1f}s)"
    )
    print(
        f"  channel size median {statistics.median(sizes):.0f} (max {max(sizes):,}), "
        f"conversations per reader median {statistics.median(memberships):.0f}"
    )

    # Identical output first (the unit tests prove it more thoroughly), on a throw-away index.
    check = BriefingIndex(DAY, items, channels, names, WS, thread_ts_of, authors_of=authors)
    for u in sample:
        ref = build_briefing(
            DAY,
            users[u],
            items,
            channels,
            names,
            open_items[u],
            WS,
            thread_ts_of,
            authors_of=authors,
            projects=follows[u],
        )
        fast = check.build_briefing(users[u], open_items[u], projects=follows[u])
        plain = render_plain_text(fast, renderer=check.renderer)
        if ref.model_dump() != fast.model_dump() or plain != render_plain_text(ref):
            print(f"MISMATCH for {u}", file=sys.stderr)
            return 1

    ref = reference_pass(sample, users, names, channels, items, authors, thread_ts_of, open_items, follows)
    t0 = clock()
    index = BriefingIndex(DAY, items, channels, names, WS, thread_ts_of, authors_of=authors)
    index_ms = (clock() - t0) * 1000
    fast = index_pass(index, readers, users, open_items, follows)
    lines = sum(
        len(index.rank_for(index.reader_context(u, follows[u]), open_items=open_items[u])) for u in sample
    )

    print(
        f"\nidentical briefings for the {len(sample)} sampled readers; "
        f"{lines / len(sample):.1f} lines per briefing"
    )
    print(f"index build, once per day: {index_ms:.0f} ms")
    print(f"\nCPU ms per reader (reference on {len(sample)} sampled readers, index on all {len(readers):,})")
    print(f"  {'':<34}{'reference':>10} {'index':>9} {'ratio':>8}")
    total_ref = total_fast = 0.0
    for label, phase in PHASES:
        r, f = ref.per_reader(phase), fast.per_reader(phase)
        total_ref, total_fast = total_ref + r, total_fast + f
        print(f"  {label:<34}{r:10.3f} {f:9.3f} {r / f:7.1f}x")
    print(f"  {'total per briefing':<34}{total_ref:10.3f} {total_fast:9.3f} {total_ref / total_fast:7.1f}x")
    day_fast = (index_ms + total_fast * len(readers)) / 1000
    day_ref = total_ref * len(readers) / 1000
    print(
        f"\none day, {len(readers):,} briefings (ranking + rendering, no I/O): index {day_fast:.1f}s "
        f"(incl. the index build) vs reference ~{day_ref:.0f}s extrapolated, {day_ref / day_fast:.0f}x"
    )
    if args.baseline:
        briefings = [
            index.assemble(
                users[u], index.rank_for(index.reader_context(u, follows[u]), open_items=open_items[u])
            )
            for u in readers
        ]
        return compare_rendering(args.baseline, briefings, args.repeat)
    return 0


# ---------------------------------------------------------------------------------------------------
# Rendering against a git revision

RENDERING = "outropy_pipelines/domain/briefing_rendering.py"
RENDER_CACHE = "outropy_pipelines/domain/briefing_render_cache.py"


def load_revision(rev: str):
    """`briefing_rendering` and `briefing_render_cache` of `rev` as modules (the cache bound to that rendering)."""
    repo = Path(__file__).resolve().parents[1]
    folder = Path(tempfile.mkdtemp(prefix="bench_render_"))
    modules = []
    for path, name in (
        (RENDERING, "baseline_briefing_rendering"),
        (RENDER_CACHE, "baseline_briefing_render_cache"),
    ):
        source = subprocess.run(
            ["git", "show", f"{rev}:{path}"], cwd=repo, check=True, capture_output=True, text=True
        ).stdout
        source = source.replace("outropy_pipelines.domain.briefing_rendering", "baseline_briefing_rendering")
        file = folder / f"{name}.py"
        file.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(name, file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        modules.append(module)
    return modules


def rendering_paths(rendering, render_cache) -> dict[str, object]:
    """The ways to render a day's briefings with these modules, as factories of (render_into, plain_text).

    "plain" renders every briefing afresh; "cached" shares one new `RenderCache` across the day (as
    `brief_day` does), whether the cache has its own methods or is passed as a fragment provider.
    """

    def plain():
        return rendering.render_into, rendering.render_plain_text

    def cached():
        cache = render_cache.RenderCache()
        if hasattr(cache, "render_into"):
            return cache.render_into, cache.plain_text
        return (
            lambda b: rendering.render_into(b, renderer=cache),
            lambda b: rendering.render_plain_text(b, renderer=cache),
        )

    return {"plain (fresh per briefing)": plain, "cached (RenderCache per day)": cached}


def compare_rendering(rev: str, briefings, repeat: int) -> int:
    """CPU ms per briefing of rendering at `rev` and now, plain and cached, on the same briefings."""
    from outropy_pipelines.domain import briefing_render_cache

    then = rendering_paths(*load_revision(rev))
    now = rendering_paths(briefing_rendering, briefing_render_cache)

    # Identical output first: every briefing, every format, every path.
    expected = None
    for who, paths in ((rev, then), ("now", now)):
        for path, make in paths.items():
            into, plain = make()
            out = [(into(b).model_dump(), plain(b)) for b in briefings]
            expected = out if expected is None else expected
            if out != expected:
                bad = next(n for n, (x, y) in enumerate(zip(out, expected, strict=True)) if x != y)
                print(f"MISMATCH: {who} {path} differs from {rev} for briefing {bad}", file=sys.stderr)
                return 1

    def per_briefing(make) -> float:
        """Best of `repeat` passes over every briefing (a fresh cache per pass: it starts cold)."""
        best = float("inf")
        for _ in range(repeat):
            into, plain = make()
            t0 = clock()
            for b in briefings:
                into(b)
                plain(b)
            best = min(best, (clock() - t0) * 1000 / len(briefings))
        return best

    lines = sum(len(b.lines) for b in briefings) / len(briefings)
    print(
        f"\nrendering vs {rev} (render_into + render_plain_text), {len(briefings):,} briefings of "
        f"{lines:.1f} lines, identical output; CPU ms per briefing, best of {repeat}"
    )
    print(f"  {'':<34}{rev:>10} {'now':>9} {'ratio':>8}")
    for path in then:
        t, n = per_briefing(then[path]), per_briefing(now[path])
        print(f"  {path:<34}{t:10.3f} {n:9.3f} {t / n:7.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
