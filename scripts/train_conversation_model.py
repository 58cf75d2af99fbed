#!/usr/bin/env python3
"""Train the conversation-reconstruction scorer shipped in outropy_pipelines/domain/conversation_model.json.

Data: the train split of the Kummerfeld et al. (2019) Ubuntu IRC disentanglement corpus, converted to a
Slack export with the shared irc_to_slack_export.py (so training sees exactly what the pipeline sees:
"<@U..>" mentions, channel_join/leave system messages). Gold antecedents come from the corpus'
*.annotation.txt files ("a b -": message b replies to a; a == b starts a conversation); only lines >= 1000
of each sample are annotated, earlier lines are context.

Model: features from outropy_pipelines.domain.conversation_features.featurize for every
(message, candidate) pair in the window, scored by a feed-forward net (one tanh hidden layer, or linear
with --hidden 0), trained with a softmax over the candidates whose loss is -log P(any correct
antecedent), where every earlier message of the same gold conversation counts as correct (linking to
any of them yields the same conversations; --no-cluster-positives uses only the annotated links),
Adam with cosine decay, numpy only. --cv K reports cross-validated metrics over folds of train files
(by file), so choices are made without looking at dev.

    python scripts/train_conversation_model.py                 # fit on all of train, write the JSON
                                                               # (the shipped model: these defaults)
    python scripts/train_conversation_model.py --cv 4 --hidden 0   # cross-validate a linear model

Needs numpy and the shared scorer's scipy (for --cv metrics). Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_threads import DEFAULT_IRC_DIR, convert, load_export, top_level

from outropy_pipelines.domain.conversation_features import FEATURE_NAMES, featurize
from outropy_pipelines.domain.conversation_messages import SYSTEM_SUBTYPES, plain_text, words_of
from outropy_pipelines.domain.conversation_model import _model_cache
from outropy_pipelines.domain.conversation_preparation import prepare
from outropy_pipelines.domain.conversation_reconstruction import ConversationReconstructor

ROOT = Path(__file__).resolve().parents[1]
MODEL_OUT = ROOT / "outropy_pipelines" / "domain" / "conversation_model.json"


# ----------------------------------------------------------------------------------------------- data


def load_samples(irc_dir: Path, split: str, export: Path, tools: Path) -> tuple[list[dict], dict[str, str]]:
    convert(irc_dir, split, export, tools)
    where = {}
    for line in (export / "_index.jsonl").open():
        row = json.loads(line)
        where[(row["channel_id"], row["ts"])] = (row["file"], row["line"])
    names, channels = load_export(export)
    samples = []
    for cid, msgs in channels:
        top = top_level(msgs)
        lines = [where[(cid, m.ts)] for m in top]
        name = lines[0][0]
        assert all(f == name for f, _ in lines) and [ln for _, ln in lines] == list(range(len(top)))
        ante: dict[int, set[int]] = defaultdict(set)
        for raw in (irc_dir / split / f"{name}.annotation.txt").open():
            parts = raw.split()
            if len(parts) < 2:
                continue
            a, b = sorted((int(parts[0]), int(parts[1])))
            ante[b].add(a)
        samples.append({"name": name, "messages": top, "ante": dict(ante)})
    return samples, names


def build_idf(samples: list[dict], min_df: int, max_words: int) -> tuple[dict[str, float], float]:
    df: Counter[str] = Counter()
    n_docs = 0
    for s in samples:
        for m in s["messages"]:
            if m.subtype in SYSTEM_SUBTYPES:
                continue
            n_docs += 1
            df.update(set(words_of(plain_text(m.text))))
    common = [(w, c) for w, c in df.most_common(max_words) if c >= min_df]
    idf = {w: round(math.log((n_docs + 1) / (c + 1)), 3) for w, c in common}
    default = round(math.log((n_docs + 1) / (min_df + 1)), 3)  # rarer than anything in the table
    return idf, default


def featurize_sample(sample: dict, cfg, names: dict[str, str], all_rows: bool = False):
    prep = prepare(sample["messages"], cfg, names)
    n = prep.n
    start = 0 if all_rows else min(1000, n)
    x, valid = featurize(prep, start, n)
    return prep, start, x, valid


def components(ante: dict[int, set[int]]) -> dict[int, int]:
    """Line -> smallest line of its gold conversation (connected component of the links)."""
    parent: dict[int, int] = {}

    def find(v: int) -> int:
        parent.setdefault(v, v)
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for b, aa in ante.items():
        for a in aa:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {v: find(v) for v in list(parent)}


def training_rows(samples, cfg, names, cluster_positives: bool = False):
    """Rows of (features, valid, positives). Positives are the gold antecedents; with cluster_positives
    also every earlier message of the same gold conversation in the window (linking to any of them
    gives the same conversations)."""
    xs, vs, ps = [], [], []
    for s in samples:
        prep, start, x, valid = featurize_sample(s, cfg, names)
        members: dict[int, list[int]] = defaultdict(list)
        if cluster_positives:
            comp = components(s["ante"])
            for v in sorted(comp):
                members[comp[v]].append(v)
            earlier = {v: [u for u in members[comp[v]] if u < v] for v in comp}
        else:
            earlier = {}
        pos = np.zeros(valid.shape, dtype=bool)
        keep = np.zeros(valid.shape[0], dtype=bool)
        for r in range(valid.shape[0]):
            i = start + r
            if prep.forced_self[i] or i not in s["ante"]:
                continue
            for a in set(s["ante"][i]) | set(earlier.get(i, ())):
                d = i - a
                if d < valid.shape[1] and valid[r, d]:
                    pos[r, d] = True
            keep[r] = pos[r].any()
        xs.append(x[keep])
        vs.append(valid[keep])
        ps.append(pos[keep])
    return np.concatenate(xs), np.concatenate(vs), np.concatenate(ps)


# ---------------------------------------------------------------------------------------------- model


def init_params(n_feat: int, hidden: int, rng: np.random.Generator) -> list[np.ndarray]:
    if hidden <= 0:
        return [np.zeros((n_feat, 1), dtype=np.float32)]
    return [
        (rng.standard_normal((n_feat, hidden)) / math.sqrt(n_feat)).astype(np.float32),
        np.zeros(hidden, dtype=np.float32),
        (rng.standard_normal((hidden, 1)) / math.sqrt(hidden)).astype(np.float32),
    ]


ACTIVATION = "tanh"


def forward(params, x2):
    if len(params) == 1:
        return (x2 @ params[0])[:, 0], None
    z = x2 @ params[0] + params[1]
    h = np.tanh(z) if ACTIVATION == "tanh" else np.maximum(z, 0.0)
    return (h @ params[2])[:, 0], h


def backward(params, x2, h, g):
    """g: dLoss/dscore (N,). Returns grads like params."""
    if len(params) == 1:
        return [x2.T @ g[:, None]]
    gw2 = h.T @ g[:, None]
    dact = (1.0 - h * h) if ACTIVATION == "tanh" else (h > 0).astype(np.float32)
    gh = g[:, None] * params[2][:, 0][None, :] * dact
    return [x2.T @ gh, gh.sum(0), gw2]


def train(x, valid, pos, mean, std, hidden, epochs, lr, l2, batch, seed, log=print):
    rng = np.random.default_rng(seed)
    n, c, f = x.shape
    params = init_params(f, hidden, rng)
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    step = 0
    total_steps = epochs * math.ceil(n / batch)
    for ep in range(epochs):
        order = rng.permutation(n)
        tot = 0.0
        for b0 in range(0, n, batch):
            idx = np.sort(order[b0 : b0 + batch])
            xb = (x[idx] - mean) / std
            vb, pb = valid[idx], pos[idx]
            bn = len(idx)
            x2 = xb.reshape(bn * c, f)
            s, h = forward(params, x2)
            s = s.reshape(bn, c)
            s = np.where(vb, s, -1e30)
            smax = s.max(1, keepdims=True)
            e = np.exp(s - smax) * vb
            z = e.sum(1, keepdims=True)
            ep_ = e * pb
            zp = ep_.sum(1, keepdims=True)
            tot += float((np.log(z) - np.log(zp)).sum())
            g = (e / z - ep_ / zp) / bn
            grads = backward(params, x2, h, g.reshape(-1).astype(np.float32))
            step += 1
            rate = lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))  # cosine decay
            for k, (p, gr) in enumerate(zip(params, grads, strict=True)):
                if p.ndim == 2 and l2 > 0:
                    gr = gr + l2 * p
                m1[k] = 0.9 * m1[k] + 0.1 * gr
                m2[k] = 0.999 * m2[k] + 0.001 * gr * gr
                mh = m1[k] / (1 - 0.9**step)
                vh = m2[k] / (1 - 0.999**step)
                p -= (rate * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        log(f"  epoch {ep + 1}/{epochs} loss {tot / n:.4f}")
    return params


def merge(members: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Average of K scorers as one scorer: hidden layers side by side, output weights / K."""
    k = len(members)
    if k == 1:
        return members[0]
    if len(members[0]) == 1:
        return [sum(m[0] for m in members) / k]
    return [
        np.concatenate([m[0] for m in members], axis=1),
        np.concatenate([m[1] for m in members]),
        np.concatenate([m[2] for m in members], axis=0) / k,
    ]


def to_json(params, mean, std, cfg) -> dict:
    def r(a):
        return np.round(np.asarray(a, dtype=np.float64), 5).tolist()

    if len(params) == 1:
        layers = [{"W": r(params[0]), "b": [0.0]}]
    else:
        layers = [{"W": r(params[0]), "b": r(params[1])}, {"W": r(params[2]), "b": [0.0]}]
    return {
        "version": 1,
        "description": "Conversation reconstruction scorer, trained by scripts/train_conversation_model.py "
        "on the Ubuntu IRC disentanglement corpus train split (Kummerfeld et al. 2019, CC-BY-4.0)",
        "window": cfg.window,
        "activation": ACTIVATION,
        "features": list(FEATURE_NAMES),
        "mean": r(mean),
        "std": r(std),
        "layers": layers,
        "idf_default": cfg.idf_default,
        "idf_min": cfg.idf_min,
        "idf": cfg.idf,
    }


# ----------------------------------------------------------------------------------------- evaluation


def gold_name(sample: str) -> str:
    """gold.train.clusters.txt names samples without the ".train-x" suffix of the file names."""
    return sample.split(".")[0]


def load_scorer(tools: Path):
    spec = importlib.util.spec_from_file_location("score_threads", tools / "score_threads.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def predict_clusters(model_json: dict, samples, names, gold) -> dict[str, list[set[int]]]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(model_json, f)
        path = Path(f.name)
    try:
        _model_cache.clear()
        recon = ConversationReconstructor(model_path=path, user_names=names)
        auto = {}
        for s in samples:
            links = recon.link(s["messages"])
            roots = []
            for i, j in enumerate(links):
                roots.append(i if j == i else roots[j])
            groups: dict[int, set[int]] = defaultdict(set)
            for cluster in gold[s["name"]]:  # as score_threads.read_pred does
                for i in cluster:
                    groups[roots[i]].add(i)
            auto[s["name"]] = list(groups.values())
        return auto
    finally:
        path.unlink()
        _model_cache.clear()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--irc-dir", type=Path, default=DEFAULT_IRC_DIR)
    ap.add_argument("--export", type=Path, default=Path(tempfile.gettempdir()) / "irc-train")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--l2", type=float, default=1e-5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--idf-min", type=float, default=2.5, help="words with a lower idf are ignored")
    ap.add_argument("--idf-words", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--activation", choices=["tanh", "relu"], default="tanh")
    ap.add_argument("--ensemble", type=int, default=1, help="average this many nets (seeds), merged into one")
    ap.add_argument(
        "--cluster-positives",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="count every earlier message of the gold conversation as a correct antecedent (default)",
    )
    ap.add_argument("--cv", type=int, default=0, help="K-fold cross-validation over train files instead")
    ap.add_argument("--out", type=Path, default=MODEL_OUT)
    args = ap.parse_args(argv)

    global ACTIVATION
    ACTIVATION = args.activation
    irc_dir = args.irc_dir.resolve()
    tools = irc_dir.parents[1] / "tools"
    t0 = time.perf_counter()
    samples, names = load_samples(irc_dir, "train", args.export, tools)
    idf, idf_default = build_idf(samples, min_df=20, max_words=args.idf_words)
    cfg = SimpleNamespace(window=args.window, idf=idf, idf_default=idf_default, idf_min=args.idf_min)
    print(f"{len(samples)} train samples, {len(idf)} idf words ({time.perf_counter() - t0:.1f} s)")

    def fit(train_samples):
        x, valid, pos = training_rows(train_samples, cfg, names, args.cluster_positives)
        flat = x[valid]
        mean = flat.mean(0)
        std = flat.std(0) + 1e-3
        del flat
        print(f"  {x.shape[0]} rows x {x.shape[1]} candidates x {x.shape[2]} features")
        members = [
            train(
                x,
                valid,
                pos,
                mean,
                std,
                args.hidden,
                args.epochs,
                args.lr,
                args.l2,
                args.batch,
                args.seed + k,
            )
            for k in range(args.ensemble)
        ]
        return to_json(merge(members), mean, std, cfg)

    if args.cv:
        scorer = load_scorer(tools)
        gold_all = scorer.read_gold(irc_dir / "gold.train.clusters.txt")
        folds = [samples[k :: args.cv] for k in range(args.cv)]
        gold, auto = {}, {}
        for k, held in enumerate(folds):
            rest = [s for j, f in enumerate(folds) if j != k for s in f]
            print(f"fold {k + 1}/{args.cv}")
            model = fit(rest)
            g = {s["name"]: gold_all[gold_name(s["name"])] for s in held}
            pred = predict_clusters(model, held, names, g)
            print("  ", scorer.scores(g, pred))
            gold.update(g)
            auto.update(pred)
        print("CV", json.dumps(scorer.scores(gold, auto)), f"({time.perf_counter() - t0:.0f} s)")
        return 0

    model = fit(samples)
    args.out.write_text(json.dumps(model, separators=(",", ":")) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB, {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
