"""The vectorised parts of conversation reconstruction against straightforward reference computations."""

from __future__ import annotations

import itertools
import math
import random
import re

import numpy as np
import pytest

from outropy_pipelines.domain.conversation_features import FEATURE_NAMES, chunk_features
from outropy_pipelines.domain.conversation_messages import (
    _ANSWER,
    _CONTINUE,
    _GREETING,
    _LINK,
    _MENTION,
    _NAME_TOKEN,
    _NEG_ACK,
    _THANKS,
    TopLevelMessage,
    plain_text,
    words_of,
)
from outropy_pipelines.domain.conversation_model import _Model, load_model
from outropy_pipelines.domain.conversation_preparation import NameIndex, lexical_overlaps, prepare


def reference_overlaps(
    words: list[dict[int, float]], window: int
) -> list[dict[int, tuple[float, int, float]]]:
    """Per message i: {d: (cosine, shared words, largest shared idf)} by walking postings lists."""
    postings: dict[int, list[int]] = {}
    norms = [math.sqrt(sum(v * v for v in ws.values())) for ws in words]
    out = []
    for i, ws in enumerate(words):
        dot: dict[int, float] = {}
        cnt: dict[int, int] = {}
        mx: dict[int, float] = {}
        for w, v in ws.items():
            for j in reversed(postings.get(w, [])):
                if j < i - window:
                    break
                dot[j] = dot.get(j, 0.0) + v * v
                cnt[j] = cnt.get(j, 0) + 1
                mx[j] = max(mx.get(j, 0.0), v)
            postings.setdefault(w, []).append(i)
        out.append({i - j: (dv / (norms[i] * norms[j]), cnt[j], mx[j]) for j, dv in dot.items()})
    return out


@pytest.mark.parametrize("seed", range(6))
def test_lexical_overlaps_match_postings_walk(seed):
    rng = random.Random(seed)
    vocab = rng.randint(1, 60)
    idf = [rng.uniform(2.5, 9.0) for _ in range(vocab)]
    n = rng.randint(0, 400)
    window = rng.choice([1, 3, 10, 100])
    words = []
    for _ in range(n):
        ws = rng.sample(range(vocab), k=rng.randint(0, min(vocab, 8)))
        words.append({w: idf[w] for w in ws})
    msg = np.array([i for i, ws in enumerate(words) for _ in ws], dtype=np.int64)
    word = np.array([w for ws in words for w in ws], dtype=np.int64)
    val = np.array([v for ws in words for v in ws.values()], dtype=np.float64)
    norms = np.array([math.sqrt(sum(v * v for v in ws.values())) for ws in words], dtype=np.float64)

    offsets, d, cos, count, vmax = lexical_overlaps(msg, word, val, norms, window)

    ref = reference_overlaps(words, window)
    assert offsets.shape == (n + 1,) and offsets[0] == 0 and offsets[-1] == len(d)
    for i in range(n):
        lo, hi = offsets[i], offsets[i + 1]
        assert list(d[lo:hi]) == sorted(ref[i])
        for k in range(lo, hi):
            r_cos, r_cnt, r_max = ref[i][int(d[k])]
            # same terms added in the same order: equal after rounding to float32
            assert (cos[k], count[k], vmax[k]) == (np.float32(r_cos), np.float32(r_cnt), np.float32(r_max))


def reference_flags(text: str) -> list[float]:
    """The first eight message flags, from plain_text and words_of as they read."""
    plain = plain_text(text)
    toks = words_of(plain)
    first = toks[0] if toks else ""
    return [
        "?" in plain,
        bool(set(toks) & _GREETING),
        bool(set(toks) & _THANKS),
        first in _ANSWER,
        first in _CONTINUE,
        bool(set(toks) & _NEG_ACK),
        bool(_LINK.search(text)),
        math.log1p(len(toks)),
    ]


def test_prepare_reads_text_as_plain_text_and_words_of_do():
    model = load_model()
    people = ["U0", "U1", "U2", "U3"]
    names = NameIndex.build({"U0": "Ana Lima", "U1": "bob", "U2": "Carol", "U3": "KEVIN"}, model)
    pieces = (  # noqa: SIM905 - one string reads better than 32 literals
        "hi thanks ok and lol deploy Ana ana lima bob carol, kevin KEVIN. <@U1> <@U2|carol> "
        "<https://x.io/a|link> http://y.org/b www.z.com w.w.w a://b < > ? foo- bar. x+y v1.2. -- 42 "
        "\u0130stanbul \u212aevin caf\u00e9"  # lower() turns the first two partly into ASCII
    ).split()
    rng = random.Random(7)
    # everyone speaks first (author ids 0..3), then texts that address no one at their start
    msgs = [TopLevelMessage(f"{1_700_000_000 + k}.000000", uid, "hello") for k, uid in enumerate(people)]
    for k in range(600):
        text = " ".join(["so", *(rng.choice(pieces) for _ in range(rng.randint(0, 9)))])
        msgs.append(TopLevelMessage(f"{1_700_001_000 + 10 * k}.000000", rng.choice(people), text))

    prep = prepare(msgs, model, names=names)

    for i, m in enumerate(msgs):
        assert list(prep.flags[i, :8]) == [np.float32(v) for v in reference_flags(m.text)], m.text
        mentioned = [mm.group(1) for mm in _MENTION.finditer(m.text)]
        for tok in _NAME_TOKEN.findall(plain_text(m.text)):
            uid = names.uid_of.get(tok.lower())
            if len(tok) >= 3 and uid is not None and tok.lower() not in model.idf:
                mentioned.append(uid)
        expected = [people.index(u) for u in dict.fromkeys(mentioned) if u != m.user_id][:3]
        assert [int(b) for b in prep.mentions[i] if b >= 0] == expected, m.text
        assert (prep.targets[i] == -1).all()


def test_words_of_strips_trailing_dots_and_dashes():
    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choice("aZ9_-+. .-?,:\u0130\u212a\u00e9x") for _ in range(rng.randint(0, 15)))
        expected = [w.rstrip(".-") for w in re.findall(r"[a-z0-9][a-z0-9_\-+.]*", text.lower())]
        assert words_of(text) == [w for w in expected if w], text


def random_model(activation: str, hidden: list[int], seed: int) -> _Model:
    rng = np.random.default_rng(seed)
    sizes = [len(FEATURE_NAMES), *hidden, 1]
    shipped = load_model()
    return _Model(
        {
            "window": shipped.window,
            "features": FEATURE_NAMES,
            "idf": shipped.idf,
            "idf_default": shipped.idf_default,
            "idf_min": shipped.idf_min,
            "activation": activation,
            "mean": rng.normal(size=sizes[0]).tolist(),
            "std": rng.uniform(0.5, 2.0, size=sizes[0]).tolist(),
            "layers": [
                {"W": rng.normal(size=(a, b)).tolist(), "b": rng.normal(size=b).tolist()}
                for a, b in itertools.pairwise(sizes)
            ],
        }
    )


def dense_forward(model: _Model, x: np.ndarray) -> np.ndarray:
    h = x.reshape(-1, x.shape[-1]).astype(np.float64)
    for k, (w, b) in enumerate(model.layers):
        h = h @ w + b
        if k < len(model.layers) - 1:
            h = np.tanh(h) if model.activation == "tanh" else np.maximum(h, 0.0)
    return h.reshape(x.shape[:-1])


@pytest.mark.parametrize(
    "model",
    [load_model(), random_model("relu", [16, 8], 1), random_model("tanh", [], 2)],
    ids=["shipped", "relu-2-hidden", "linear"],
)
def test_blockwise_score_matches_network_on_dense_features(model):
    rng = random.Random(3)
    users = [f"U{k}" for k in range(6)]
    msgs = [
        TopLevelMessage(
            f"{1_700_000_000 + 30 * k}.000000",
            rng.choice(users),
            " ".join(
                rng.choice(["<@U1>", "<@U2>", "deploy", "build?", "thanks", "lunch", "ok"]) for _ in range(4)
            ),
            rng.choice([None, None, None, "channel_join"]),
        )
        for k in range(300)
    ]
    prep = prepare(msgs, model, {u: u.lower() for u in users})
    for start, end, max_back in [(0, 1, None), (0, 128, None), (128, 300, 7), (250, 300, 0)]:
        f = chunk_features(prep, start, end, max_back)
        expected = dense_forward(model, f.dense())
        got = model.score(f)
        assert got.shape == f.valid.shape
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3 * (1 + np.abs(expected).max()))
