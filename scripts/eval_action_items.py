"""Precision / recall of the local provider's action-item cue detector on the email-intent corpus.

The corpus (ParakweetLabs EmailIntentDataSet) labels single email sentences Yes (a request or a
commitment) or No. It is a rough proxy for Slack action items: its "Yes" is broad (boilerplate such
as "if you have questions, contact us" counts), and the detector is used here without the
addressee check the classifier adds in Slack (an email sentence is addressed to its reader).

    python scripts/eval_action_items.py [--data PATH] [--show 20]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from outropy_pipelines.domain.item_rules.action_matching import detect_action_cue

DEFAULT_DATA = Path("/work/shared/data/email-intent/train.tsv")


def load(path: Path) -> list[tuple[bool, str]]:
    rows: list[tuple[bool, str]] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            label, sep, text = line.rstrip("\n").partition("\t")
            if not sep or label.strip() not in ("Yes", "No"):
                continue
            rows.append((label.strip() == "Yes", text.strip()))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show", type=int, default=0, help="print this many false positives/negatives")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    rows = load(args.data)
    t0 = time.perf_counter()
    predictions = [detect_action_cue(text) for _, text in rows]
    elapsed = time.perf_counter() - t0

    tp = fp = fn = tn = 0
    by_cue: dict[str, list[int]] = {}
    false_pos: list[str] = []
    false_neg: list[str] = []
    for (gold, text), pred in zip(rows, predictions, strict=True):
        hit = pred is not None
        if hit:
            stats = by_cue.setdefault(pred[0], [0, 0])
            stats[0] += 1
            stats[1] += int(gold)
        if hit and gold:
            tp += 1
        elif hit:
            fp += 1
            false_pos.append(text)
        elif gold:
            fn += 1
            false_neg.append(text)
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"sentences: {len(rows)} (Yes {tp + fn}, No {fp + tn})")
    print(
        f"precision: {precision:.3f}  recall: {recall:.3f}  F1: {f1:.3f}  accuracy: {(tp + tn) / len(rows):.3f}"
    )
    print(f"tp={tp} fp={fp} fn={fn} tn={tn}")
    work = [(gold, pred) for (gold, _), pred in zip(rows, predictions, strict=True)]
    wtp = sum(1 for g, p in work if g and p and p[0] != "info_request")
    wfp = sum(1 for g, p in work if not g and p and p[0] != "info_request")
    print(
        f"work cues only (request + commitment): precision {wtp / max(1, wtp + wfp):.3f}  "
        f"recall {wtp / max(1, tp + fn):.3f}"
    )
    for cue, (n, good) in sorted(by_cue.items()):
        print(f"  cue {cue:<11} fired {n:5d}  precision {good / n:.3f}")
    print(f"speed: {len(rows) / elapsed:,.0f} sentences/s")
    if args.show:
        rng = random.Random(args.seed)
        print("\nfalse positives:")
        for text in rng.sample(false_pos, min(args.show, len(false_pos))):
            print("  +", text[:160])
        print("\nfalse negatives:")
        for text in rng.sample(false_neg, min(args.show, len(false_neg))):
            print("  -", text[:160])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
