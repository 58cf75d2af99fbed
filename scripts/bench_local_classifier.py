"""The local classifier's speed against an earlier version of it, measured in the same run.

Outputs may differ (the rules changed); this measures only cost per message. For each side (the
working tree, and `--ref`, a git commit unpacked with `git archive`), a subprocess reads the export,
builds its conversations with that side's own code (not timed), then classifies every conversation
with the local provider, day by day as `outropy items` does, timing CPU seconds of
`classify_threads` only. Sides alternate (`--repeat` rounds); the best time of each is kept.

Prints, per export: messages classified, items, best CPU seconds and messages per second for both
sides, and the ratio current / reference of messages per second (above 1: the current rules are faster).

    python scripts/bench_local_classifier.py EXPORT [EXPORT ...] [--ref COMMIT] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the last commit before the classifier work of issue 12 (real Slack phrasing)
DEFAULT_REF = "093f0f9"

_SIDE = r"""
import json, sys, time
from pathlib import Path
from outropy_pipelines.cli.common import load_settings
from outropy_pipelines.cli.export_tools import _builder_for_export
from outropy_pipelines.domain.classification import classify_threads
from outropy_pipelines.domain.days import day_of_ts
from outropy_pipelines.llm.base import LLMClient
from outropy_pipelines.llm.local_provider import LocalProvider

settings = load_settings()
reader, directory, builder = _builder_for_export(Path(sys.argv[1]))
result = builder.build(reader.iter_all_messages(settings.timezone), day="", window=None)
channels = {c.channel_id: (c.name, c.kind) for c in directory.channels}
names = {u.user_id: u.display_name for u in directory.users}
by_day = {}
for t in result.threads:
    day = day_of_ts(t.last_ts, settings.timezone)
    by_day.setdefault(day, []).append(t.model_copy(update={"day": day}))
client = LLMClient(LocalProvider(), concurrency=1)
messages = sum(len(t.messages) for t in result.threads)
items = 0
start = time.process_time()
for day in sorted(by_day):
    items += len(classify_threads(by_day[day], client, channels, names, day).items)
print(json.dumps({"messages": messages, "items": items, "cpu": time.process_time() - start}))
"""


def _unpack(ref: str, into: Path) -> Path:
    archive = into / "ref.tar"
    with archive.open("wb") as fh:
        subprocess.run(["git", "archive", ref, "outropy_pipelines"], cwd=ROOT, stdout=fh, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def _run(code_root: Path, export: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code_root), "OUTROPY_LLM_PROVIDER": "local"}
    out = subprocess.run(
        [sys.executable, "-c", _SIDE, str(export)],
        env=env,
        cwd=code_root,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("exports", nargs="+", type=Path)
    ap.add_argument("--ref", default=DEFAULT_REF, help="git commit of the earlier classifier")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ref_root = _unpack(args.ref, Path(tmp))
        for export in args.exports:
            best: dict[str, dict[str, float]] = {}
            for _ in range(args.repeat):
                for side, root in (("reference", ref_root), ("current", ROOT)):
                    got = _run(root, export.resolve())
                    if side not in best or got["cpu"] < best[side]["cpu"]:
                        best[side] = got
            print(f"{export}: local classifier, best of {args.repeat} (CPU seconds of classify_threads)")
            for side in ("reference", "current"):
                b = best[side]
                label = f"{side} ({args.ref})" if side == "reference" else "current (working tree)"
                print(
                    f"  {label:<26} {b['messages']:>8,} messages {b['items']:>7,} items "
                    f"{b['cpu']:>7.2f} s {b['messages'] / b['cpu']:>9,.0f} msg/s"
                )
            ratio = (best["current"]["messages"] / best["current"]["cpu"]) / (
                best["reference"]["messages"] / best["reference"]["cpu"]
            )
            print(f"  current / reference messages per second: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
