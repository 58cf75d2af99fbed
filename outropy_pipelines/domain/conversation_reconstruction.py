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
on the standard library and numpy only: one Python pass reads each message's text, then the lexical
overlaps, the pair features and the scores are computed in numpy batches, the network's first layer
block by block (~25k messages/s on one core on the IRC dev split). Measured with
`scripts/eval_threads.py`.

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
from collections.abc import Iterable, Mapping, Sequence
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
_WORD = re.compile(r"[a-z0-9](?:[a-z0-9_\-+.]*[a-z0-9_+])?")  # no trailing "." or "-"
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
    return _WORD.findall(plain.lower())


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
        # the first layer's rows by feature block (see ChunkFeatures): pair, own, self, candidate
        self.first_blocks = np.split(self.layers[0][0], np.cumsum([_N_PAIR, _N_OWN, _N_OWN]))

    def score(self, f: ChunkFeatures) -> np.ndarray:
        """Scores (R, C) of a chunk's pairs: the network applied to f.dense(), up to float32 rounding.

        The first layer's product is taken block by block, so that the blocks that depend on the
        message or on the candidate alone are multiplied once per message instead of once per pair.
        """
        w_pair, w_own, w_self, w_cand = self.first_blocks
        n_pair, rows, cols = f.pair.shape
        h = (f.pair.reshape(n_pair, rows * cols).T @ w_pair).reshape(rows, cols, -1)
        h += (f.own @ w_own + self.layers[0][1])[:, None, :]
        h[:, 0] += f.own @ w_self
        h[:, 1:] += f.by_candidate(f.cand @ w_cand)[:, 1:]
        for w, b in self.layers[1:]:
            if self.activation == "tanh":
                np.tanh(h, out=h)
            else:
                np.maximum(h, 0.0, out=h)
            h = h @ w
            h += b
        return h[:, :, 0]


_model_cache: dict[Path, _Model] = {}


def load_model(path: Path | None = None) -> _Model:
    path = Path(path or DEFAULT_MODEL_PATH).resolve()
    model = _model_cache.get(path)
    if model is None:
        model = _Model(json.loads(path.read_text(encoding="utf-8")))
        _model_cache[path] = model
    return model


# --------------------------------------------------------------------------------------------------
# Preparation: one sequential pass computing per-message facts, then the sparse lexical overlaps


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
    lex_d: np.ndarray  # distance i - j of each overlapping pair (1..window, ascending within a row)
    lex_cos: np.ndarray
    lex_count: np.ndarray
    lex_max: np.ndarray


_K = 3
_CAP_MINUTES = 24 * 60.0
_NO_PARTNER = -(10**9)
_NO_FLAGS = (0.0,) * len(_MSG_FLAGS)


@dataclass(frozen=True)
class NameIndex:
    """Known people by lower-cased display name (and its first word, if 3+ letters); the first user wins."""

    uid_of: dict[str, str]  # for "alice: ..." addressing
    mentionable: dict[str, str]  # the names that count as a plain-text mention: 3+ chars, not common words

    @classmethod
    def build(cls, user_names: Mapping[str, str] | None, model: _Model) -> NameIndex:
        uid_of: dict[str, str] = {}
        for uid, name in (user_names or {}).items():
            if not name:
                continue
            low = name.strip().lower().lstrip("@")
            if low:
                uid_of.setdefault(low, uid)
                first = low.split()[0]
                if first != low and len(first) >= 3:
                    uid_of.setdefault(first, uid)
        mentionable = {k: uid for k, uid in uid_of.items() if len(k) >= 3 and k not in model.idf}
        return cls(uid_of, mentionable)


class _Vocabulary(dict[str, int]):
    """Word -> id, numbering words in order of first use."""

    def __missing__(self, word: str) -> int:
        self[word] = wid = len(self)
        return wid


def prepare(
    messages: Sequence[TopLevelMessage],
    model: _Model,
    user_names: Mapping[str, str] | None = None,
    names: NameIndex | None = None,
) -> Prepared:
    """Per-message facts and lexical overlaps. `model` supplies window, idf, idf_default and idf_min;
    `names` is `NameIndex.build(user_names, model)` when the caller has it already (it then wins)."""
    n = len(messages)
    window = model.window
    idf = model.idf
    if names is None:
        names = NameIndex.build(user_names, model)
    uid_of, mentionable = names.uid_of, names.mentionable
    lead_mention = _LEAD_MENTION.match
    lead_name = _LEAD_NAME.match
    find_mentions = _MENTION.finditer
    name_tokens = _NAME_TOKEN.findall
    word_tokens = _WORD.findall

    uid_index: dict[str, int] = {}

    def author_id(uid: str | None, k: int) -> int:
        if uid is None:
            return -(k + 10)  # unknown authors never equal anyone
        a = uid_index.get(uid)
        if a is None:
            a = uid_index[uid] = len(uid_index)
        return a

    def others(uids: list[str], user_id: str | None, k: int) -> list[int]:
        """Author ids of `uids` other than `user_id`, each once, in order."""
        ids: list[int] = []
        for uid in uids:
            if uid != user_id:
                b = author_id(uid, k)
                if b not in ids:
                    ids.append(b)
        return ids

    author: list[int] = []
    minutes: list[float] = []
    system: list[bool] = []
    forced: list[bool] = []
    prev_same: list[int] = []
    last_targeting: list[int] = []
    partner_of: list[int] = []
    flags: list[float] = []  # len(_MSG_FLAGS) per message
    addressed: list[tuple[int, int, int]] = []  # (i, k, author) of targets[i, k]
    mentioned: list[tuple[int, int, int]] = []  # (i, k, author) of mentions[i, k]

    last_by_author: dict[int, int] = {}
    last_target_msg: dict[int, int] = {}
    partner: dict[int, int] = {}
    seen_authors: set[str] = set()

    vocabulary = _Vocabulary()
    word_ids: list[int] = []  # the distinct words of each message, in set order, message after message
    n_words: list[int] = []  # how many words each message has there

    for i, m in enumerate(messages):
        user_id = m.user_id
        a = author_id(user_id, i)
        author.append(a)
        minutes.append(_ts_minutes(m.ts))
        subtype = m.subtype or ""
        is_sys = subtype in SYSTEM_SUBTYPES
        system.append(is_sys)
        forced.append(is_sys or m.is_thread_root)
        if user_id:
            seen_authors.add(user_id)
        prev_same.append(last_by_author.get(a, -1))
        last_by_author[a] = i
        last_targeting.append(last_target_msg.get(a, -1))
        partner_of.append(partner.get(a, _NO_PARTNER))

        if is_sys:
            flags.extend(_NO_FLAGS)
            n_words.append(0)
            continue

        text = m.text or ""
        # who is addressed at the start: "<@U1> <@U2>: ..." or "alice: ..." / "alice, ..."
        tgt: list[str] = []
        pos = 0
        while lm := lead_mention(text, pos):
            tgt.append(lm.group(1))
            pos = lm.end()
        if not tgt and uid_of and (ln := lead_name(text)):
            low_name = ln.group(1).lower()
            uid = uid_of.get(low_name)
            # a name that is also a common word ("so, ...") counts only for people seen here
            if uid is not None and (uid in seen_authors or low_name not in idf):
                tgt.append(uid)
        men = list(tgt)
        if "<@" in text:
            men.extend(mm.group(1) for mm in find_mentions(text, pos))
        # plain_text(text), without running its regexes over text that has no link or markup
        if "<" in text or "://" in text or "www." in text:
            no_links, n_links = _LINK.subn(" ", text)
            plain = _ANGLE.sub(" ", no_links)
        else:
            plain, n_links = text, 0
        low = plain.lower()
        if mentionable:
            # plain-text names: only people who spoke here before. Name tokens are ASCII, so tokens of
            # the lower-cased text are the lower-cased tokens unless lower() turned non-ASCII into ASCII
            here = name_tokens(low) if plain.isascii() else [t.lower() for t in name_tokens(plain)]
            if not mentionable.keys().isdisjoint(here):
                for tok in here:
                    uid = mentionable.get(tok)
                    if uid is not None and uid in seen_authors:
                        men.append(uid)
        if tgt:
            tgt_ids = others(tgt, user_id, i)
            addressed.extend((i, k, b) for k, b in enumerate(tgt_ids[:_K]))
            for b in tgt_ids:
                last_target_msg[b] = i
                partner[a] = b
                partner[b] = a
        if men:
            men_ids = others(men, user_id, i)
            mentioned.extend((i, k, b) for k, b in enumerate(men_ids[:_K]))

        toks = word_tokens(low)  # words_of(plain)
        first = toks[0] if toks else ""
        tokset = set(toks)
        ntok = len(toks)
        flags.extend(
            (
                1.0 if "?" in plain else 0.0,
                0.0 if tokset.isdisjoint(_GREETING) else 1.0,
                0.0 if tokset.isdisjoint(_THANKS) else 1.0,
                1.0 if first in _ANSWER else 0.0,
                1.0 if first in _CONTINUE else 0.0,
                0.0 if tokset.isdisjoint(_NEG_ACK) else 1.0,
                1.0 if n_links else 0.0,
                math.log1p(ntok),
                1.0 if ntok <= 3 else 0.0,
                1.0 if ntok >= 20 else 0.0,
                1.0 if subtype == "me_message" else 0.0,
                1.0 if subtype == "bot_message" else 0.0,
            )
        )
        word_ids.extend(map(vocabulary.__getitem__, tokset))
        n_words.append(len(tokset))

    # weighted words: rarer ones (idf >= idf_min) of 2+ characters or digits, each with its idf
    weight = np.array([idf.get(w, model.idf_default) for w in vocabulary], dtype=np.float64)
    usable = (weight >= model.idf_min) & np.array(
        [len(w) >= 2 or w.isdigit() for w in vocabulary], dtype=bool
    )
    ent_word = np.asarray(word_ids, dtype=np.int64)
    ent_msg = np.repeat(np.arange(n, dtype=np.int64), n_words)
    keep = usable[ent_word]
    ent_word, ent_msg = ent_word[keep], ent_msg[keep]
    ent_val = weight[ent_word]
    norms = np.sqrt(np.bincount(ent_msg, weights=ent_val * ent_val, minlength=n))  # adds in word order

    minutes_a = np.asarray(minutes, dtype=np.float64)
    prev_a = np.asarray(prev_same, dtype=np.int64)
    has_prev = np.flatnonzero(prev_a >= 0)
    next_same = np.full(n, n + window, dtype=np.int64)
    next_same[prev_a[has_prev]] = has_prev
    since_author = np.full(n, _CAP_MINUTES, dtype=np.float64)
    since_author[has_prev] = np.minimum(
        np.maximum(minutes_a[has_prev] - minutes_a[prev_a[has_prev]], 0.0), _CAP_MINUTES
    )
    since_any = np.full(n, _CAP_MINUTES, dtype=np.float64)
    since_any[1:] = np.minimum(np.maximum(np.diff(minutes_a), 0.0), _CAP_MINUTES)
    targets = np.full((n, _K), -1, dtype=np.int64)
    mentions = np.full((n, _K), -1, dtype=np.int64)
    for arr, cells in ((targets, addressed), (mentions, mentioned)):
        if cells:
            rows, cols, ids = np.asarray(cells, dtype=np.int64).T
            arr[rows, cols] = ids
    lex_offsets, lex_d, lex_cos, lex_count, lex_max = lexical_overlaps(
        ent_msg, ent_word, ent_val, norms, window
    )
    return Prepared(
        n=n,
        window=window,
        author=np.asarray(author, dtype=np.int64),
        minutes=minutes_a,
        system=np.asarray(system, dtype=bool),
        forced_self=np.asarray(forced, dtype=bool),
        targets=targets,
        mentions=mentions,
        flags=np.asarray(flags, dtype=np.float32).reshape(n, len(_MSG_FLAGS)),
        prev_same=prev_a,
        next_same=next_same,
        last_targeting=np.asarray(last_targeting, dtype=np.int64),
        partner=np.asarray(partner_of, dtype=np.int64),
        since_author=since_author,
        since_any=since_any,
        lex_offsets=lex_offsets,
        lex_d=lex_d,
        lex_cos=lex_cos,
        lex_count=lex_count,
        lex_max=lex_max,
    )


def lexical_overlaps(
    msg: np.ndarray, word: np.ndarray, val: np.ndarray, norms: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tf-idf overlaps of every message i with each earlier message j, i - window <= j < i, sharing a word.

    Entries (msg[e], word[e], val[e]) are the weighted distinct words of each message (val[e] is the
    word's idf), ordered by message; norms[i] is the length of message i's vector. Returns CSR arrays
    over the n = len(norms) messages: offsets (n + 1,), and per overlapping pair, sorted by i then d:
    d = i - j (int64), cosine, count of shared words and largest shared idf (float32). The cosine's
    dot product adds the shared words' squared idfs in message i's entry order.
    """
    n = len(norms)
    # entries grouped by word, each group in message order: an entry's overlapping partners with the
    # same word follow it directly, so for k = 1, 2, ... pair entry e with e + k while any still match
    by_word = np.argsort(word, kind="stable")
    w_sorted, m_sorted = word[by_word], msg[by_word]
    none = np.zeros(0, dtype=np.int64)
    later_parts, earlier_parts = [none], [none]
    earlier = np.arange(len(by_word) - 1)
    k = 1
    while earlier.size:
        later = earlier + k
        hit = (w_sorted[later] == w_sorted[earlier]) & (m_sorted[later] - m_sorted[earlier] <= window)
        earlier = earlier[hit]
        later_parts.append(by_word[later[hit]])
        earlier_parts.append(by_word[earlier])
        k += 1
        earlier = earlier[earlier + k < len(by_word)]
    ent_i, ent_j = np.concatenate(later_parts), np.concatenate(earlier_parts)
    if not len(ent_i):
        empty = np.zeros(0, dtype=np.float32)
        return np.zeros(n + 1, dtype=np.int64), none, empty, empty, empty
    # one key per pair, ascending with i then d; within a pair keep message i's entry order, so the
    # dot product adds the same terms in the same order as a loop over message i's words would
    key = msg[ent_i] * (window + 1) + (msg[ent_i] - msg[ent_j])
    order = np.argsort(key * len(msg) + ent_i)
    key, v = key[order], val[ent_i[order]]
    new_pair = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(new_pair)
    dot = np.bincount(np.cumsum(new_pair) - 1, weights=v * v)  # sums each pair's terms in order
    pair_i, pair_d = np.divmod(key[starts], window + 1)
    cos = dot / (norms[pair_i] * norms[pair_i - pair_d])
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair_i, minlength=n), out=offsets[1:])
    return (
        offsets,
        pair_d,
        cos.astype(np.float32),
        np.diff(np.r_[starts, len(key)]).astype(np.float32),
        np.maximum.reduceat(v, starts).astype(np.float32),
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


_N_OWN = len(_MSG_FLAGS) + 5  # the i_* features (and the self_* copy of them)
_N_CAND = len(_MSG_FLAGS) + 2  # the j_* features
_N_PAIR = len(FEATURE_NAMES) - 2 * _N_OWN - _N_CAND


@dataclass
class ChunkFeatures:
    """Features of the pairs (message i, candidate j = i - d) of rows i = start..end-1 (R rows) and
    columns d = 0..C-1, by what they depend on; `dense()` lays them out in FEATURE_NAMES order.

    pair: (P, R, C) the first P features, which depend on both i and d.
    own: (R, N_OWN) the i_* features (the self_* ones are a copy of them on column d = 0, else 0).
    cand: (R + C - 1, N_CAND) the j_* features of j = start - (C - 1)..end-1 (zeros for j < 0); they
        are 0 on column d = 0 (the message itself is no candidate).
    """

    start: int
    pair: np.ndarray
    own: np.ndarray
    cand: np.ndarray
    valid: np.ndarray  # (R, C): j exists and can be an antecedent, or d == 0

    def by_candidate(self, table: np.ndarray) -> np.ndarray:
        """(R, C, ...) view of a table with one row per row of `cand`: [r, d] is the row of j = i - d."""
        cols = self.valid.shape[1]
        windows = np.lib.stride_tricks.sliding_window_view(table, cols, axis=0)  # [r, ..., t]: row r + t
        return np.moveaxis(windows[..., ::-1], -1, 1)  # row r + (C - 1) - d is j = i - d

    def dense(self) -> np.ndarray:
        """X (R, C, F) float32, a view of a feature-major (F, R, C) array."""
        n_pair, rows, cols = self.pair.shape
        x = np.empty((len(FEATURE_NAMES), rows, cols), dtype=np.float32)
        x[:n_pair] = self.pair
        own = self.own.T
        x[n_pair : n_pair + _N_OWN] = own[:, :, None]
        k = n_pair + _N_OWN
        x[k : k + _N_OWN] = 0.0
        x[k : k + _N_OWN, :, 0] = own
        k += _N_OWN
        # candidates before message 0 (invalid) get message 0's features
        j = np.maximum(np.arange(self.start, self.start + rows)[:, None] - np.arange(cols), 0)
        np.take(self.cand.T, j - (self.start - cols + 1), axis=1, out=x[k:], mode="clip")
        x[k:, :, 0] = 0.0
        return x.transpose(1, 2, 0)


def featurize(
    prep: Prepared, start: int, end: int, max_back: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Features for rows start..end-1: X (R, C, F) float32 and a validity mask (R, C), C <= window + 1.

    Column d is the candidate j = i - d; d == 0 is the message itself (a new conversation).
    `max_back` narrows the candidates to the d <= max_back nearest (the caller knows none further
    back can win).
    """
    f = chunk_features(prep, start, end, max_back)
    return f.dense(), f.valid


def chunk_features(prep: Prepared, start: int, end: int, max_back: int | None = None) -> ChunkFeatures:
    """The features `featurize` returns, in the parts `_Model.score` takes."""
    w = min(prep.window, end - 1)  # no candidate is further back than message 0
    if max_back is not None:
        w = min(w, max(0, max_back))
    rows, cols = end - start, w + 1
    f32 = np.float32
    i = np.arange(start, end, dtype=np.int64)
    i_col = i[:, None]
    d = np.arange(cols, dtype=np.int64)
    j_raw = i_col - d
    valid = j_raw >= 0
    j = np.where(valid, j_raw, 0)
    valid &= ~prep.system[j]
    valid[:, 0] = True  # the message itself: a new conversation
    j_lo = max(start - w, 0)  # every j lies in j_lo..end-1

    def any_of(masks: Iterable[np.ndarray]) -> np.ndarray:
        out = np.zeros((rows, cols), dtype=bool)
        for mask in masks:
            out |= mask
        return out

    # targets / mentions: -1 padded slots; skip the slots no message here fills (authors are never -1)
    tgt_slots = [k for k in range(_K) if (prep.targets[j_lo:end, k] >= 0).any()]
    men_slots = [k for k in range(_K) if (prep.mentions[j_lo:end, k] >= 0).any()]
    t_i = {k: prep.targets[i, k][:, None] for k in tgt_slots}
    t_j = {k: prep.targets[j, k] for k in tgt_slots}
    m_i = {k: prep.mentions[i, k][:, None] for k in men_slots}
    m_j = {k: prep.mentions[j, k] for k in men_slots}
    a_i = prep.author[i_col]
    a_j = prep.author[j]

    i_targets_j = any_of(t_i[k] == a_j for k in tgt_slots)
    i_mentions_j = any_of(m_i[k] == a_j for k in men_slots) & ~i_targets_j
    j_targets_i = any_of(t_j[k] == a_i for k in tgt_slots)
    j_mentions_i = any_of(m_j[k] == a_i for k in men_slots) & ~j_targets_i
    i_has_target = prep.targets[i, 0] >= 0
    j_has_target = prep.targets[j, 0] >= 0
    shared_target = any_of((t_i[a] >= 0) & (t_i[a] == t_j[b]) for a in tgt_slots for b in tgt_slots)
    same_author = a_i == a_j
    j_latest = prep.next_same[j] >= i_col
    prev_i = prep.prev_same[i_col]
    j_by_partner = prep.partner[i_col] == a_j

    dist = d.astype(f32)
    gap = np.maximum(prep.minutes[i_col] - prep.minutes[j], 0.0).astype(f32)
    gap = np.minimum(gap, _CAP_MINUTES)

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

    fl_i = prep.flags[i]  # (R, M)
    q_i = fl_i[:, 0:1]
    q_j = prep.flags[j, 0]
    ans_i = fl_i[:, 3:4]
    greet_j = prep.flags[j, 1]

    pair = [
        d == 0,  # is_self
        np.log1p(dist),
        *[(dist >= lo_) & (dist < hi_) for lo_, hi_ in _bins(_D_BINS, 101.0)],
        np.log1p(gap),
        *[(gap >= lo_) & (gap < hi_) for lo_, hi_ in _bins((0.0, *_GAP_BINS), 1e9)],
        same_author,
        i_targets_j,
        i_mentions_j,
        j_targets_i,
        j_mentions_i,
        i_has_target[:, None] & ~i_targets_j,  # i_targets_other
        j_has_target & ~j_targets_i,  # j_targets_other
        shared_target,
        j_latest,
        i_targets_j & j_latest,
        prep.last_targeting[i_col] == j,  # j_latest_targeting_i
        prev_i > j,  # i_spoke_between
        same_author & (prev_i == j),  # j_prev_of_i
        j_by_partner,
        j_by_partner & j_latest,
        prep.prev_same[j] < 0,  # j_author_first
        lex_cos,
        lex_max,
        *[lex_cnt >= k for k in _COUNT_BINS],
        q_j * (1.0 - q_i),
        q_j * ans_i,
        greet_j * ~j_has_target,
    ]
    assert len(pair) == _N_PAIR
    pair_x = np.empty((_N_PAIR, rows, cols), dtype=f32)
    for k, arr in enumerate(pair):
        pair_x[k] = arr
    pair_x[1:, :, 0] = 0.0  # all but is_self are 0 for the message itself

    own = np.concatenate(
        [
            fl_i,
            i_has_target[:, None],
            prep.mentions[i, 0:1] >= 0,
            prev_i < 0,
            np.log1p(prep.since_author[i_col]).astype(f32),
            np.log1p(prep.since_any[i_col]).astype(f32),
        ],
        axis=1,
        dtype=f32,
    )
    cand = np.zeros((rows + cols - 1, _N_CAND), dtype=f32)
    k = j_lo - (start - cols + 1)  # candidates before message 0 stay zero
    cand[k:, : len(_MSG_FLAGS)] = prep.flags[j_lo:end]
    cand[k:, -2] = prep.targets[j_lo:end, 0] >= 0
    cand[k:, -1] = prep.mentions[j_lo:end, 0] >= 0
    return ChunkFeatures(start=start, pair=pair_x, own=own, cand=cand, valid=valid)


def _bins(edges: Sequence[float], top: float) -> list[tuple[float, float]]:
    return [(edges[k], edges[k + 1] if k + 1 < len(edges) else top) for k in range(len(edges))]


# --------------------------------------------------------------------------------------------------


class ConversationReconstructor:
    """Links each top-level message of one channel to the earlier message it replies to."""

    chunk_rows = 128

    def __init__(
        self,
        model_path: Path | None = None,
        user_names: Mapping[str, str] | None = None,
        max_gap_seconds: float | None = DEFAULT_MAX_GAP_SECONDS,
    ):
        self.model = load_model(model_path)
        self.user_names = dict(user_names or {})
        self.names = NameIndex.build(self.user_names, self.model)
        self.max_gap_seconds = max_gap_seconds

    def link(self, messages: Sequence[TopLevelMessage]) -> list[int]:
        """For each message i, the index of the earlier message it replies to, or i itself if it starts a new conversation."""
        n = len(messages)
        if n == 0:
            return []
        prep = prepare(messages, self.model, names=self.names)
        links = np.arange(n)
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
            f = chunk_features(prep, start, end, max_back)
            scores = self.model.score(f)
            scores[~f.valid] = -np.inf
            if times is not None:
                # Slack channels go quiet for hours; IRC (the training data) rarely does. A message
                # never answers one older than the gap; column d is the candidate d messages back.
                rows = np.arange(start, end)[:, None]
                cand = np.clip(rows - np.arange(scores.shape[1])[None, :], 0, None)
                scores[(times[rows] - times[cand]) > self.max_gap_seconds] = -np.inf
            links[start:end] -= np.where(prep.forced_self[start:end], 0, np.argmax(scores, axis=1))
        return links.tolist()

    def assign(self, messages: Sequence[TopLevelMessage]) -> list[str]:
        """For each message, the ts of its conversation's root (first message), following links transitively."""
        links = self.link(messages)
        roots: list[int] = []
        for i, j in enumerate(links):
            roots.append(i if j == i else roots[j])
        return [messages[r].ts for r in roots]
