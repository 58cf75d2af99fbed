"""Regenerate the committed sample export, or write a scaled one for benchmarks.

    python -m outropy_pipelines.sample --out data/sample_export
    python -m outropy_pipelines.sample --out data/bench/ws --scaled --users 2000 --channels 200 \\
        --days 2 --messages-per-day 1000000
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from outropy_pipelines.sample import (
    ANSWER_KEY_FILE,
    generate_sample_workspace,
    generate_scaled_workspace,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m outropy_pipelines.sample", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=Path("data/sample_export"), help="output directory")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--clean",
        action="store_true",
        help="first delete the output directory, if it holds a previously generated export",
    )
    parser.add_argument("--scaled", action="store_true", help="write a scaled benchmark workspace instead")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--messages-per-day", type=int, default=100_000)
    parser.add_argument("--start-date", default="2026-10-05")
    args = parser.parse_args(argv)

    out: Path = args.out
    if args.clean and out.exists():
        if not ((out / "users.json").exists() or (out / ANSWER_KEY_FILE).exists()):
            print(f"refusing to delete {out}: it does not look like a Slack export", file=sys.stderr)
            return 2
        shutil.rmtree(out)

    started = time.perf_counter()
    if args.scaled:
        summary = generate_scaled_workspace(
            out,
            seed=args.seed,
            users=args.users,
            channels=args.channels,
            days=args.days,
            messages_per_day=args.messages_per_day,
            start_date=args.start_date,
        )
    else:
        key = generate_sample_workspace(out, seed=args.seed)
        summary = {**key["counts"], "days": key["days"]}
    elapsed = time.perf_counter() - started
    summary["seconds"] = round(elapsed, 3)
    if summary.get("messages"):
        summary["messages_per_second"] = round(summary["messages"] / elapsed) if elapsed else None
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
