"""Reconstruct conversations among the top-level messages of one Slack channel.

People often hold several discussions at once in a channel without using Slack threads. This module
decides, for each top-level message, which earlier message it replies to (or that it starts a new
conversation), the way Kummerfeld et al. (ACL 2019, "A Large-Scale Corpus for Conversation
Disentanglement") do for IRC: a scorer ranks every candidate antecedent in a window of previous
messages plus the message itself ("new conversation"), and the best one wins. Conversations are the
connected components of those links.

Features of a (message, candidate) pair, computed from the two messages and the messages between:
time gap and distance in messages (log and binned); same author; whether either addresses (leading
`<@U..>` or "name:"/"name," prefix) or mentions the other's author; whether the candidate is its
author's latest message, the latest message addressed to our author, or by our author's most recent
interlocutor (turn taking A->B, B->A); whether our author spoke in between; tf-idf cosine and counts of
shared rarer words; question/greeting/thanks/answer cues; lengths and links; how long since the
author last spoke. The scorer is a small feed-forward network (one tanh hidden layer) trained with a
softmax over candidates on the train split of the Ubuntu IRC disentanglement corpus by
`scripts/train_conversation_model.py` (any earlier message of the gold conversation counts as a
correct antecedent); its weights and an idf table ship in `conversation_model.json`. Runtime depends
on the standard library and numpy only; pairs are scored in numpy batches (~10k messages/s on one
core). Measured with `scripts/eval_threads.py`.

Addressing: a leading `<@U..>` (or several) is a target; with `user_names`, a leading "name:" or
"name," is a target too (if the name is also a common word, only when that person spoke earlier in
the sequence), and a known speaker's name elsewhere in the text is a mention.

Rules applied around the model:

- Online and causal: the link of message i depends only on messages 0..i, so results for a prefix
  never change when later messages arrive.
- System messages (`channel_join`, `channel_leave`, topic/purpose/name changes, ...) always start
  their own conversation and are never chosen as antecedents.
- A Slack-native thread root is its own conversation: it always links to itself (its Slack thread is
  an explicit conversation whose id must stay `channel:root_ts`). Later top-level messages may still
  link to it; the model decides exactly as for any other candidate (addressing the root's author
  shortly after, turn taking, or lexical overlap are what make it win), so a top-level message that
  clearly answers a thread root joins that thread's conversation.
- Candidates are the previous `window` (100) messages, and none more than `max_gap_seconds`
  older (1 h): the IRC training data has few long silences, Slack channels have many, and a top-level
  message hours after the last one starts a new conversation (a late answer belongs in a thread).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_MODEL_PATH = Path(__file__).with_name("conversation_model.json")
# Longest silence a top-level reply may follow its antecedent by (see ConversationReconstructor.link).
DEFAULT_MAX_GAP_SECONDS = 3600.0

SYSTEM_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "group_join",
        "group_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "pinned_item",
        "unpinned_item",
        "channel_convert_to_private",
        "channel_convert_to_public",
    }
)


@dataclass(frozen=True)
class TopLevelMessage:
    ts: str  # Slack ts "1700000000.000100"; messages are given sorted by ts
    user_id: str | None
    text: str  # raw Slack text: mentions appear as "<@U0000012>", links "<https://..|x>", etc.
    subtype: str | None = None  # e.g. "channel_join", "channel_leave", "me_message", "bot_message", None
    is_thread_root: bool = False  # true if this message is the root of a Slack-native thread


# --------------------------------------------------------------------------------------------------
# Text analysis

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_LEAD_MENTION = re.compile(r"\s*<@([A-Z0-9]+)(?:\|[^>]*)?>[\s:,;.\-]*")
_LEAD_NAME = re.compile(r"\s*@?([^\s:,]{1,40})\s*[:,]")
_LINK = re.compile(r"<(?:https?|mailto|ftp)[^>]*>|\bhttps?://\S+|\bwww\.\S+")
_ANGLE = re.compile(r"<[^<>]*>")
_WORD = re.compile(r"[a-z0-9][a-z0-9_\-+.]*")
_NAME_TOKEN = re.compile(r"[A-Za-z0-9_\-\[\]\\`^{}|]+")

_GREETING = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "hiya",
        "howdy",
        "yo",
        "anyone",
        "anybody",
        "someone",
        "somebody",
        "help",
        "guys",
        "all",
        "everyone",
        "everybody",
        "morning",
        "evening",
        "greetings",
    ]
)
_THANKS = frozenset(["thanks", "thank", "thx", "ty", "thanx", "tnx", "cheers", "thankyou"])
_ANSWER = frozenset(
    [
        "yes",
        "yeah",
        "yep",
        "yup",
        "no",
        "nope",
        "nah",
        "ok",
        "okay",
        "sure",
        "right",
        "correct",
        "exactly",
        "indeed",
    ]
)
_CONTINUE = frozenset(["and", "but", "so", "also", "or", "then", "because", "plus"])
_NEG_ACK = frozenset(["sorry", "np", "welcome", "lol", "hehe", "haha", "heh"])


def plain_text(text: str) -> str:
    """Slack text without links, mentions and other <...> markup."""
    return _ANGLE.sub(" ", _LINK.sub(" ", text))


def words_of(plain: str) -> list[str]:
    """Lower-cased word tokens of plain text, in order."""
    out = []
    for w in _WORD.findall(plain.lower()):
        w = w.rstrip(".-")
        if w:
            out.append(w)
    return out


def _ts_minutes(ts: str) -> float:
    try:
        return float(ts) / 60.0
    except (TypeError, ValueError):
        return 0.0


_MSG_FLAGS = (
    "question",
    "greeting",
    "thanks",
    "answer_start",
    "continue_start",
    "ack",
    "has_link",
    "len_log",
    "short",
    "long",
    "me_message",
    "bot",
)


# --------------------------------------------------------------------------------------------------
# The model


class _Model:
    def __init__(self, data: dict):
        self.window = int(data["window"])
        self.features = list(data["features"])
        if self.features != FEATURE_NAMES:
            raise ValueError("conversation model was trained with a different feature set")
        self.idf: dict[str, float] = {k: float(v) for k, v in data["idf"].items()}
        self.idf_default = float(data["idf_default"])
        self.idf_min = float(data["idf_min"])
        self.activation = data.get("activation", "tanh")
        if self.activation not in ("tanh", "relu"):
            raise ValueError(f"unknown activation {self.activation!r}")
        mean = np.asarray(data["mean"], dtype=np.float64)
        std = np.asarray(data["std"], dtype=np.float64)
        layers = data["layers"]
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        for k, layer in enumerate(layers):
            w = np.asarray(layer["W"], dtype=np.float64)
            b = np.asarray(layer["b"], dtype=np.float64)
            if k == 0:  # fold the standardisation into the first layer
                w = w / std[:, None]
                b = b - mean @ w
            self.layers.append((w.astype(np.float32), b.astype(np.float32)))

    def score(self, x: np.ndarray) -> np.ndarray:
        """x: (..., F) -> scores (...)."""
        shape = x.shape[:-1]
        h = x.reshape(-1, x.shape[-1])
        last = len(self.layers) - 1
        for k, (w, b) in enumerate(self.layers):
            h = h @ w
            h += b
            if k < last:
                if self.activation == "tanh":
                    np.tanh(h, out=h)
                else:
                    np.maximum(h, 0.0, out=h)
        return h.reshape(shape)


_model_cache: dict[Path, _Model] = {}


def load_model(path: Path | None = None) -> _Model:
    path = Path(path or DEFAULT_MODEL_PATH).resolve()
    model = _model_cache.get(path)
    if model is None:
        model = _Model(json.loads(path.read_text(encoding="utf-8")))
        _model_cache[path] = model
    return model


# --------------------------------------------------------------------------------------------------
# Preparation: one sequential pass computing per-message facts and sparse lexical overlaps


@dataclass
class Prepared:
    n: int
    window: int
    author: np.ndarray  # (n,) int64
    minutes: np.ndarray  # (n,) float64
    system: np.ndarray  # (n,) bool: never an antecedent, always its own conversation
    forced_self: np.ndarray  # (n,) bool: links to itself whatever the model says
    targets: np.ndarray  # (n, K) int64, -1 padded
    mentions: np.ndarray  # (n, K) int64, -1 padded
    flags: np.ndarray  # (n, len(_MSG_FLAGS)) float32
    prev_same: np.ndarray  # (n,) previous message index by the same author, -1 if none
    next_same: np.ndarray  # (n,) next message index by the same author, n + window if none
    last_targeting: np.ndarray  # (n,) latest earlier message addressing this author, -1
    partner: np.ndarray  # (n,) author this author last interacted with (addressed / was addressed by)
    since_author: np.ndarray  # (n,) minutes since the author's previous message (capped)
    since_any: np.ndarray  # (n,) minutes since the previous message (capped)
    lex_offsets: np.ndarray  # (n + 1,) CSR offsets into the lexical arrays
    lex_d: np.ndarray  # distance i - j of each overlapping pair
    lex_cos: np.ndarray
    lex_count: np.ndarray
    lex_max: np.ndarray


_K = 3
_CAP_MINUTES = 24 * 60.0


def prepare(
    messages: Sequence[TopLevelMessage], model: _Model, user_names: Mapping[str, str] | None = None
) -> Prepared:
    """One pass over the messages. `model` supplies window, idf, idf_default and idf_min."""
    n = len(messages)
    window = model.window
    idf, idf_default, idf_min = model.idf, model.idf_default, model.idf_min

    # names -> user ids, for "alice: ..." addressing and plain-text mentions
    name_to_uid: dict[str, str] = {}
    for uid, name in (user_names or {}).items():
        if not name:
            continue
        low = name.strip().lower().lstrip("@")
        if low:
            name_to_uid.setdefault(low, uid)
            first = low.split()[0]
            if first != low and len(first) >= 3:
                name_to_uid.setdefault(first, uid)

    uid_index: dict[str, int] = {}

    def author_id(uid: str | None, k: int) -> int:
        if uid is None:
            return -(k + 10)  # unknown authors never equal anyone
        a = uid_index.get(uid)
        if a is None:
            a = uid_index[uid] = len(uid_index)
        return a

    author = np.empty(n, dtype=np.int64)
    minutes = np.empty(n, dtype=np.float64)
    system = np.zeros(n, dtype=bool)
    forced = np.zeros(n, dtype=bool)
    targets = np.full((n, _K), -1, dtype=np.int64)
    mentions = np.full((n, _K), -1, dtype=np.int64)
    flags = np.zeros((n, len(_MSG_FLAGS)), dtype=np.float32)
    prev_same = np.full(n, -1, dtype=np.int64)
    next_same = np.full(n, n + window, dtype=np.int64)
    last_targeting = np.full(n, -1, dtype=np.int64)
    partner_arr = np.full(n, -(10**9), dtype=np.int64)
    since_author = np.full(n, _CAP_MINUTES, dtype=np.float64)
    since_any = np.full(n, _CAP_MINUTES, dtype=np.float64)

    last_by_author: dict[int, int] = {}
    last_target_msg: dict[int, int] = {}
    partner: dict[int, int] = {}
    seen_authors: set[str] = set()

    postings: dict[str, list[int]] = {}
    norms: list[float] = []
    lex_offsets = [0]
    lex_d: list[int] = []
    lex_cos: list[float] = []
    lex_count: list[float] = []
    lex_max: list[float] = []

    prev_minutes = None
    for i, m in enumerate(messages):
        a = author_id(m.user_id, i)
        author[i] = a
        t = _ts_minutes(m.ts)
        minutes[i] = t
        if prev_minutes is not None:
            since_any[i] = min(max(t - prev_minutes, 0.0), _CAP_MINUTES)
        prev_minutes = t
        subtype = m.subtype or ""
        is_sys = subtype in SYSTEM_SUBTYPES
        system[i] = is_sys
        forced[i] = is_sys or m.is_thread_root
        if m.user_id:
            seen_authors.add(m.user_id)
        p = last_by_author.get(a)
        if p is not None:
            prev_same[i] = p
            next_same[p] = i
            since_author[i] = min(max(t - minutes[p], 0.0), _CAP_MINUTES)
        last_by_author[a] = i
        lt = last_target_msg.get(a)
        if lt is not None:
            last_targeting[i] = lt
        pa = partner.get(a)
        if pa is not None:
            partner_arr[i] = pa

        if is_sys:
            norms.append(0.0)
            lex_offsets.append(len(lex_d))
            continue

        text = m.text or ""
        # who is addressed at the start: "<@U1> <@U2>: ..." or "alice: ..." / "alice, ..."
        tgt: list[str] = []
        pos = 0
        while True:
            lm = _LEAD_MENTION.match(text, pos)
            if not lm:
                break
            tgt.append(lm.group(1))
            pos = lm.end()
        if not tgt and name_to_uid:
            ln = _LEAD_NAME.match(text)
            if ln:
                low_name = ln.group(1).lower()
                uid = name_to_uid.get(low_name)
                # a name that is also a common word ("so, ...") counts only for people seen here
                if uid is not None and (uid in seen_authors or low_name not in idf):
                    tgt.append(uid)
        men = list(tgt)
        for mm in _MENTION.finditer(text, pos):
            men.append(mm.group(1))
        plain = plain_text(text)
        if name_to_uid:
            for tok in _NAME_TOKEN.findall(plain):
                if len(tok) < 3:
                    continue
                low_tok = tok.lower()
                uid = name_to_uid.get(low_tok)
                # plain-text names: only people who spoke here before, and not common words
                if uid is not None and uid in seen_authors and low_tok not in idf:
                    men.append(uid)
        tgt_ids = []
        for uid in tgt:
            if uid != m.user_id:
                b = author_id(uid, i)
                if b not in tgt_ids:
                    tgt_ids.append(b)
        men_ids = []
        for uid in men:
            if uid != m.user_id:
                b = author_id(uid, i)
                if b not in men_ids:
                    men_ids.append(b)
        for k, b in enumerate(tgt_ids[:_K]):
            targets[i, k] = b
        for k, b in enumerate(men_ids[:_K]):
            mentions[i, k] = b
        for b in tgt_ids:
            last_target_msg[b] = i
            partner[a] = b
            partner[b] = a

        toks = words_of(plain)
        first = toks[0] if toks else ""
        tokset = set(toks)
        ntok = len(toks)
        flags[i] = (
            1.0 if "?" in plain else 0.0,
            1.0 if tokset & _GREETING else 0.0,
            1.0 if tokset & _THANKS else 0.0,
            1.0 if first in _ANSWER else 0.0,
            1.0 if first in _CONTINUE else 0.0,
            1.0 if tokset & _NEG_ACK else 0.0,
            1.0 if _LINK.search(text) else 0.0,
            math.log1p(ntok),
            1.0 if ntok <= 3 else 0.0,
            1.0 if ntok >= 20 else 0.0,
            1.0 if subtype == "me_message" else 0.0,
            1.0 if subtype == "bot_message" else 0.0,
        )

        # lexical overlap with the candidates in the window (sparse, via postings)
        words: dict[str, float] = {}
        for w in tokset:
            if len(w) < 2 and not w.isdigit():
                continue
            v = idf.get(w, idf_default)
            if v >= idf_min:
                words[w] = v
        norm = math.sqrt(sum(v * v for v in words.values()))
        norms.append(norm)
        if words:
            lo = i - window
            dot: dict[int, float] = {}
            cnt: dict[int, int] = {}
            mx: dict[int, float] = {}
            for w, v in words.items():
                plist = postings.get(w)
                if plist is None:
                    postings[w] = [i]
                    continue
                v2 = v * v
                for j in reversed(plist):
                    if j < lo:
                        break
                    dot[j] = dot.get(j, 0.0) + v2
                    cnt[j] = cnt.get(j, 0) + 1
                    if v > mx.get(j, 0.0):
                        mx[j] = v
                if len(plist) > 2 * window:
                    del plist[:-window]  # only the latest `window` entries can be in range
                plist.append(i)
            for j, dv in dot.items():
                lex_d.append(i - j)
                lex_cos.append(dv / (norm * norms[j]))
                lex_count.append(cnt[j])
                lex_max.append(mx[j])
        lex_offsets.append(len(lex_d))

    return Prepared(
        n=n,
        window=window,
        author=author,
        minutes=minutes,
        system=system,
        forced_self=forced,
        targets=targets,
        mentions=mentions,
        flags=flags,
        prev_same=prev_same,
        next_same=next_same,
        last_targeting=last_targeting,
        partner=partner_arr,
        since_author=since_author,
        since_any=since_any,
        lex_offsets=np.asarray(lex_offsets, dtype=np.int64),
        lex_d=np.asarray(lex_d, dtype=np.int64),
        lex_cos=np.asarray(lex_cos, dtype=np.float32),
        lex_count=np.asarray(lex_count, dtype=np.float32),
        lex_max=np.asarray(lex_max, dtype=np.float32),
    )


# --------------------------------------------------------------------------------------------------
# Features of (message i, candidate j) pairs; j == i is the "new conversation" candidate

_D_BINS = (1, 2, 3, 5, 9, 17, 33, 65)  # d in [1], [2], [3,4], [5,8], ...
_GAP_BINS = (0.5, 1.5, 3.5, 7.5, 15.5, 30.5, 60.5)  # minutes
_COUNT_BINS = (1, 2, 3, 4)

FEATURE_NAMES: list[str] = [
    "is_self",
    "dist_log",
    *[f"dist_bin{k}" for k in range(len(_D_BINS))],
    "gap_log",
    *[f"gap_bin{k}" for k in range(len(_GAP_BINS) + 1)],
    "same_author",
    "i_targets_j",
    "i_mentions_j",
    "j_targets_i",
    "j_mentions_i",
    "i_targets_other",
    "j_targets_other",
    "shared_target",
    "j_latest_of_author",
    "i_targets_j_latest",
    "j_latest_targeting_i",
    "i_spoke_between",
    "j_prev_of_i",
    "j_by_partner",
    "j_by_partner_latest",
    "j_author_first",
    "lex_cos",
    "lex_max",
    *[f"lex_count{k}" for k in _COUNT_BINS],
    "j_question_i_not",
    "j_question_i_answer",
    "j_greet_untargeted",
    *[f"i_{f}" for f in _MSG_FLAGS],
    "i_has_target",
    "i_has_mention",
    "i_author_first",
    "i_since_author_log",
    "i_since_any_log",
    *[f"self_{f}" for f in _MSG_FLAGS],
    "self_has_target",
    "self_has_mention",
    "self_author_first",
    "self_since_author_log",
    "self_since_any_log",
    *[f"j_{f}" for f in _MSG_FLAGS],
    "j_has_target",
    "j_has_mention",
]


def featurize(
    prep: Prepared, start: int, end: int, max_back: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Features for rows start..end-1: X (R, C, F) float32 and a validity mask (R, C), C <= window + 1.

    Column d is the candidate j = i - d; d == 0 is the message itself (a new conversation).
    `max_back` narrows the candidates to the d <= max_back nearest (the caller knows none further
    back can win).
    """
    w = min(prep.window, end - 1)  # no candidate is further back than message 0
    if max_back is not None:
        w = min(w, max(0, max_back))
    i_idx = np.arange(start, end, dtype=np.int64)[:, None]
    d = np.arange(w + 1, dtype=np.int64)[None, :]
    j_raw = i_idx - d
    valid = j_raw >= 0
    j = np.where(valid, j_raw, 0)
    valid &= ~prep.system[j] | (d == 0)
    is_self = np.broadcast_to(d == 0, j.shape)
    other = ~is_self
    rows, cols = j.shape
    f32 = np.float32

    a_i = prep.author[i_idx]
    a_j = prep.author[j]
    t_i = prep.targets[i_idx[:, 0]]  # (R, K)
    t_j = prep.targets[j]  # (R, C, K)
    m_i = prep.mentions[i_idx[:, 0]]
    m_j = prep.mentions[j]

    i_targets_j = (t_i[:, None, :] == a_j[:, :, None]).any(-1) & other
    i_mentions_j = (m_i[:, None, :] == a_j[:, :, None]).any(-1) & other & ~i_targets_j
    j_targets_i = (t_j == a_i[:, :, None]).any(-1) & other
    j_mentions_i = (m_j == a_i[:, :, None]).any(-1) & other & ~j_targets_i
    i_has_target = t_i[:, 0] >= 0
    j_has_target = t_j[:, :, 0] >= 0
    i_targets_other = i_has_target[:, None] & ~i_targets_j & other
    j_targets_other = j_has_target & ~j_targets_i & other
    shared_target = ((t_i[:, None, :, None] == t_j[:, :, None, :]) & (t_i[:, None, :, None] >= 0)).any(
        (-1, -2)
    ) & other
    same_author = (a_i == a_j) & other
    j_latest = (prep.next_same[j] >= i_idx) & other
    i_spoke_between = (prep.prev_same[i_idx] > j) & other
    j_prev_of_i = same_author & (prep.prev_same[i_idx] == j)
    j_latest_targeting_i = (prep.last_targeting[i_idx] == j) & other
    j_by_partner = (prep.partner[i_idx] == a_j) & other
    j_author_first = (prep.prev_same[j] < 0) & other

    dist = d.astype(f32)
    gap = np.maximum(prep.minutes[i_idx] - prep.minutes[j], 0.0).astype(f32)
    gap = np.minimum(gap, _CAP_MINUTES)
    other_f = other.astype(f32)

    # lexical overlaps from the sparse lists
    lex_cos = np.zeros((rows, cols), dtype=f32)
    lex_max = np.zeros((rows, cols), dtype=f32)
    lex_cnt = np.zeros((rows, cols), dtype=f32)
    lo, hi = prep.lex_offsets[start], prep.lex_offsets[end]
    if hi > lo:
        counts = np.diff(prep.lex_offsets[start : end + 1])
        r = np.repeat(np.arange(rows), counts)
        c = prep.lex_d[lo:hi]
        keep = c <= w
        r, c = r[keep], c[keep]
        lex_cos[r, c] = prep.lex_cos[lo:hi][keep]
        lex_max[r, c] = prep.lex_max[lo:hi][keep]
        lex_cnt[r, c] = prep.lex_count[lo:hi][keep]

    fl_i = prep.flags[i_idx[:, 0]]  # (R, M)
    fl_j = prep.flags[j]  # (R, C, M)
    q_i = fl_i[:, 0:1]
    q_j = fl_j[:, :, 0]
    ans_i = fl_i[:, 3:4]
    greet_j = fl_j[:, :, 1]

    i_first = (prep.prev_same[i_idx[:, 0]] < 0).astype(f32)
    i_since_author = np.log1p(prep.since_author[i_idx[:, 0]]).astype(f32)
    i_since_any = np.log1p(prep.since_any[i_idx[:, 0]]).astype(f32)
    i_msg = np.concatenate(
        [
            fl_i,
            i_has_target[:, None].astype(f32),
            (m_i[:, 0:1] >= 0).astype(f32),
            i_first[:, None],
            i_since_author[:, None],
            i_since_any[:, None],
        ],
        axis=1,
    )  # (R, M + 5)
    self_f = is_self.astype(f32)[:, :, None]

    pair = [
        self_f[:, :, 0],
        np.log1p(dist) * other_f,
        *[((dist >= lo_) & (dist < hi_)).astype(f32) for lo_, hi_ in _bins(_D_BINS, 101.0)],
        np.log1p(gap) * other_f,
        *[((gap >= lo_) & (gap < hi_)).astype(f32) * other_f for lo_, hi_ in _bins((0.0, *_GAP_BINS), 1e9)],
        same_author,
        i_targets_j,
        i_mentions_j,
        j_targets_i,
        j_mentions_i,
        i_targets_other,
        j_targets_other,
        shared_target,
        j_latest,
        i_targets_j & j_latest,
        j_latest_targeting_i,
        i_spoke_between,
        j_prev_of_i,
        j_by_partner,
        j_by_partner & j_latest,
        j_author_first,
        lex_cos,
        lex_max,
        *[(lex_cnt >= k).astype(f32) for k in _COUNT_BINS],
        q_j * (1.0 - q_i) * other_f,
        q_j * ans_i * other_f,
        greet_j * (~j_has_target) * other_f,
    ]
    x = np.empty((rows, cols, len(FEATURE_NAMES)), dtype=f32)
    k = 0
    for arr in pair:
        x[:, :, k] = arr
        k += 1
    nm = i_msg.shape[1]
    x[:, :, k : k + nm] = i_msg[:, None, :]
    k += nm
    x[:, :, k : k + nm] = i_msg[:, None, :] * self_f
    k += nm
    nf = fl_j.shape[2]
    x[:, :, k : k + nf] = fl_j * other_f[:, :, None]
    k += nf
    x[:, :, k] = j_has_target * other_f
    x[:, :, k + 1] = (m_j[:, :, 0] >= 0) * other_f
    k += 2
    assert k == len(FEATURE_NAMES)
    return x, valid


def _bins(edges: Sequence[float], top: float) -> list[tuple[float, float]]:
    return [(edges[k], edges[k + 1] if k + 1 < len(edges) else top) for k in range(len(edges))]


# --------------------------------------------------------------------------------------------------


class ConversationReconstructor:
    """Links each top-level message of one channel to the earlier message it replies to."""

    chunk_rows = 256

    def __init__(
        self,
        model_path: Path | None = None,
        user_names: Mapping[str, str] | None = None,
        max_gap_seconds: float | None = DEFAULT_MAX_GAP_SECONDS,
    ):
        self.model = load_model(model_path)
        self.user_names = dict(user_names or {})
        self.max_gap_seconds = max_gap_seconds

    def link(self, messages: Sequence[TopLevelMessage]) -> list[int]:
        """For each message i, the index of the earlier message it replies to, or i itself if it starts a new conversation."""
        n = len(messages)
        if n == 0:
            return []
        prep = prepare(messages, self.model, self.user_names)
        links = list(range(n))
        times = np.array([float(m.ts) for m in messages]) if self.max_gap_seconds is not None else None
        # how many earlier messages lie within the gap: candidates further back are never scored
        within = (
            np.arange(n) - np.searchsorted(times, times - self.max_gap_seconds, side="left")
            if times is not None
            else None
        )
        for start in range(0, n, self.chunk_rows):
            end = min(n, start + self.chunk_rows)
            max_back = int(within[start:end].max()) if within is not None else None
            x, valid = featurize(prep, start, end, max_back)
            scores = self.model.score(x)
            scores[~valid] = -np.inf
            if times is not None:
                # Slack channels go quiet for hours; IRC (the training data) rarely does. A message
                # never answers one older than the gap; column d is the candidate d messages back.
                rows = np.arange(start, end)[:, None]
                cand = np.clip(rows - np.arange(scores.shape[1])[None, :], 0, None)
                scores[(times[rows] - times[cand]) > self.max_gap_seconds] = -np.inf
            best = np.argmax(scores, axis=1)
            for r, dd in enumerate(best.tolist()):
                i = start + r
                if not prep.forced_self[i]:
                    links[i] = i - dd
        return links

    def assign(self, messages: Sequence[TopLevelMessage]) -> list[str]:
        """For each message, the ts of its conversation's root (first message), following links transitively."""
        links = self.link(messages)
        roots: list[int] = []
        for i, j in enumerate(links):
            roots.append(i if j == i else roots[j])
        return [messages[r].ts for r in roots]
