"""Per-message facts of a channel's top-level messages, for the pair features of conversation reconstruction.

`prepare` makes one sequential pass over the messages computing what each pair feature needs of a
single message (author, time, addressing targets and mentions, turn taking, cue flags, the distinct
words), then the sparse tf-idf overlaps of each message with the earlier ones in the window
(`lexical_overlaps`). `conversation_features` turns a `Prepared` into the features of the pairs.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from outropy_pipelines.domain.conversation_messages import (
    _ANGLE,
    _ANSWER,
    _CONTINUE,
    _GREETING,
    _LEAD_MENTION,
    _LEAD_NAME,
    _LINK,
    _MENTION,
    _NAME_TOKEN,
    _NEG_ACK,
    _THANKS,
    _WORD,
    SYSTEM_SUBTYPES,
    TopLevelMessage,
)

if TYPE_CHECKING:
    from outropy_pipelines.domain.conversation_model import _Model


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
    # per-message values in typed arrays, not lists of Python numbers (a busy channel-day has
    # millions): the same C casts to float32 / float64 / int64 as numpy's conversion of a list
    minutes = array("d")
    system: list[bool] = []
    forced: list[bool] = []
    prev_same: list[int] = []
    last_targeting: list[int] = []
    partner_of: list[int] = []
    flags = array("f")  # len(_MSG_FLAGS) per message
    addressed: list[tuple[int, int, int]] = []  # (i, k, author) of targets[i, k]
    mentioned: list[tuple[int, int, int]] = []  # (i, k, author) of mentions[i, k]

    last_by_author: dict[int, int] = {}
    last_target_msg: dict[int, int] = {}
    partner: dict[int, int] = {}
    seen_authors: set[str] = set()

    vocabulary = _Vocabulary()
    word_ids = array("q")  # the distinct words of each message, in set order, message after message
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

    A busy channel-day has millions of overlapping entry pairs: entry indices are kept as int32
    when they fit, and each pair-sized array is let go as soon as the next step has what it needs.
    """
    n = len(norms)
    # entries grouped by word, each group in message order: an entry's overlapping partners with the
    # same word follow it directly, so for k = 1, 2, ... pair entry e with e + k while any still match
    index_type = np.int32 if len(word) < 2**31 else np.int64
    by_word = np.argsort(word, kind="stable").astype(index_type)
    w_sorted, m_sorted = word[by_word], msg[by_word]
    none = np.zeros(0, dtype=np.int64)
    later_parts, earlier_parts = [np.zeros(0, dtype=index_type)], [np.zeros(0, dtype=index_type)]
    earlier = np.arange(len(by_word) - 1, dtype=index_type)
    k = 1
    while earlier.size:
        later = earlier + k
        hit = (w_sorted[later] == w_sorted[earlier]) & (m_sorted[later] - m_sorted[earlier] <= window)
        earlier = earlier[hit]
        later_parts.append(by_word[later[hit]])
        earlier_parts.append(by_word[earlier])
        k += 1
        earlier = earlier[earlier + k < len(by_word)]
    del w_sorted, m_sorted, earlier
    ent_i = np.concatenate(later_parts)
    del later_parts
    ent_j = np.concatenate(earlier_parts)
    del earlier_parts, by_word
    if not len(ent_i):
        empty = np.zeros(0, dtype=np.float32)
        return np.zeros(n + 1, dtype=np.int64), none, empty, empty, empty
    # one key per pair, ascending with i then d; within a pair keep message i's entry order, so the
    # dot product adds the same terms in the same order as a loop over message i's words would
    msg_i = msg[ent_i]
    key = msg_i * (window + 1) + (msg_i - msg[ent_j])
    del msg_i, ent_j
    order = np.argsort(key * len(msg) + ent_i)
    key = key[order]
    v = val[ent_i[order]]
    del order, ent_i
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
