#!/usr/bin/env python3
"""Score conversation reconstruction of top-level messages on the IRC disentanglement corpus.

Converts a split of the Kummerfeld et al. (2019) Ubuntu IRC corpus into a Slack export (with the shared
tool irc_to_slack_export.py, into a temporary directory unless --export is given), runs
ConversationReconstructor over every channel, writes one prediction per message
({"channel_id", "ts", "thread_id"}), scores them with the shared score_threads.py and prints the
figures next to the paper's Table 4 baselines, plus the reconstruction speed on one core.

    python scripts/eval_threads.py [--split dev|train] [--irc-dir DIR] [--export DIR] [--out FILE]
"""

from __future__ import annotations

import os

# one core: keep numpy's BLAS single-threaded (must happen before numpy is imported)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

from outropy_pipelines.domain.conversation_messages import TopLevelMessage  # noqa: E402
from outropy_pipelines.domain.conversation_reconstruction import ConversationReconstructor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IRC_DIR = ROOT.parent / "shared" / "data" / "irc-disentanglement"

PAPER = [  # Kummerfeld et al. 2019, Table 4 (Ubuntu test)
    ("Previous message", 66.1, 27.6, None, None, 0.0),
    ("Lowe et al. 2017 heuristic", 80.6, 53.7, None, None, 8.9),
    ("Elsner & Charniak 2008", 82.1, 51.4, None, None, 15.5),
    ("Linear model (trained)", 88.9, 69.5, None, None, 21.8),
    ("Feed-forward model (trained)", 91.3, 75.6, None, None, 36.2),
    ("10-model vote", 91.5, 76.0, None, None, 38.0),
]


def load_export(export: Path) -> tuple[dict[str, str], list[tuple[str, list[dict]]]]:
    """(user_id -> name, [(channel_id, top-level and other messages sorted by ts)]) of a Slack export."""
    users = json.loads((export / "users.json").read_text()) if (export / "users.json").exists() else []
    names = {u["id"]: u.get("name") or u.get("real_name") or u["id"] for u in users}
    channels = []
    for listing in ("channels.json", "groups.json"):
        path = export / listing
        if not path.exists():
            continue
        for ch in json.loads(path.read_text()):
            folder = export / ch["name"]
            msgs: list[dict] = []
            for day in sorted(folder.glob("*.json")):
                msgs.extend(m for m in json.loads(day.read_text()) if "ts" in m)
            msgs.sort(key=lambda m: Decimal(m["ts"]))
            channels.append((ch["id"], msgs))
    return names, channels


def top_level(msgs: list[dict]) -> list[TopLevelMessage]:
    out = []
    for m in msgs:
        thread_ts = m.get("thread_ts")
        if thread_ts and thread_ts != m["ts"]:
            continue  # a Slack thread reply: grouped by thread_ts, not reconstructed
        out.append(
            TopLevelMessage(
                ts=m["ts"],
                user_id=m.get("user") or m.get("bot_id"),
                text=m.get("text") or "",
                subtype=m.get("subtype"),
                is_thread_root=bool(thread_ts) and bool(m.get("reply_count") or m.get("replies")),
            )
        )
    return out


def gold_compatible_index(index: Path, gold: Path, tmp_index: Path) -> Path:
    """The train gold names samples "2004-12-25" where the files are "2004-12-25.train-c": rename."""
    names = {line.split(":", 1)[0] for line in gold.open() if line.strip()}
    rows = [json.loads(line) for line in index.open()]
    if all(r["file"] in names for r in rows):
        return index
    with tmp_index.open("w") as f:
        for r in rows:
            base = r["file"].split(".")[0]
            f.write(json.dumps({**r, "file": base if base in names else r["file"]}) + "\n")
    return tmp_index


def convert(irc_dir: Path, split: str, export: Path, tools: Path) -> None:
    if (export / "_index.jsonl").exists():
        return
    subprocess.run(
        [sys.executable, str(tools / "irc_to_slack_export.py"), str(irc_dir / split), str(export)], check=True
    )


def predict(export: Path, model: Path | None) -> tuple[list[dict], int, float]:
    names, channels = load_export(export)
    inputs = [(cid, msgs, top_level(msgs)) for cid, msgs in channels]
    recon = ConversationReconstructor(model_path=model, user_names=names)
    recon.link(inputs[0][2][:50] if inputs and inputs[0][2] else [])  # warm-up (model load)
    started = time.perf_counter()
    roots = [recon.assign(top) for _, _, top in inputs]
    elapsed = time.perf_counter() - started
    rows = []
    total = 0
    for (cid, msgs, top), root_ts in zip(inputs, roots, strict=True):
        total += len(top)
        root_of = {m.ts: r for m, r in zip(top, root_ts, strict=True)}
        for m in msgs:
            root = root_of.get(m["ts"]) or m.get("thread_ts") or m["ts"]
            rows.append({"channel_id": cid, "ts": m["ts"], "thread_id": f"{cid}:{root}"})
    return rows, total, elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["dev", "train"], default="dev")
    ap.add_argument("--irc-dir", type=Path, default=DEFAULT_IRC_DIR, help="the irc-disentanglement folder")
    ap.add_argument(
        "--tools-dir", type=Path, default=None, help="shared tools (default: IRC_DIR/../../tools)"
    )
    ap.add_argument("--export", type=Path, default=None, help="reuse or create the converted export here")
    ap.add_argument("--model", type=Path, default=None, help="model JSON (default: the shipped one)")
    ap.add_argument("--out", type=Path, default=None, help="write predictions here")
    args = ap.parse_args(argv)

    irc_dir = args.irc_dir.resolve()
    tools = (args.tools_dir or irc_dir.parents[1] / "tools").resolve()
    gold = irc_dir / f"gold.{args.split}.clusters.txt"
    with tempfile.TemporaryDirectory(prefix="eval-threads-") as tmp:
        export = args.export or Path(tmp) / f"irc-{args.split}"
        convert(irc_dir, args.split, export, tools)
        rows, total, elapsed = predict(export, args.model)
        out = args.out or Path(tmp) / "predictions.jsonl"
        with out.open("w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
        index = gold_compatible_index(export / "_index.jsonl", gold, Path(tmp) / "_index.jsonl")
        res = subprocess.run(
            [sys.executable, str(tools / "score_threads.py"), str(index), str(gold), str(out), "--json"],
            check=True,
            capture_output=True,
            text=True,
        )
    score = json.loads(res.stdout)

    def fmt(v: float | None) -> str:
        return "" if v is None else f"{v:.1f}"

    print(f"Conversation reconstruction, {args.split} split ({score['messages']} scored messages)\n")
    print(f"| {'system':<44} | {'VI':>5} | {'1-1':>5} | {'P':>5} | {'R':>5} | {'F':>5} |")
    print(f"| {'-' * 44} | {'-' * 5} | {'-' * 5} | {'-' * 5} | {'-' * 5} | {'-' * 5} |")
    for name, vi, one, p, r, f in PAPER:
        print(
            f"| {name + ' (paper, test)':<44} | {fmt(vi):>5} | {fmt(one):>5} | {fmt(p):>5} | {fmt(r):>5} | {fmt(f):>5} |"
        )
    ours = f"ours ({args.split})"
    print(
        f"| {ours:<44} | {score['VI']:>5.1f} | {score['1-1']:>5.1f} | {score['P']:>5.1f} "
        f"| {score['R']:>5.1f} | {score['F']:>5.1f} |"
    )
    rate = total / elapsed if elapsed > 0 else float("inf")
    print(f"\nspeed: {total} messages in {elapsed:.2f} s on one core = {rate:,.0f} messages/s")
    print("json: " + json.dumps({**score, "messages_per_second": round(rate)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
