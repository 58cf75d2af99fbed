"""Features of (message i, candidate j) pairs for conversation reconstruction; j == i is "new conversation".

`chunk_features` computes, from a `Prepared`, the features of every pair of a block of rows, by what
they depend on (`ChunkFeatures`: pair, message, candidate), in the layout `FEATURE_NAMES` the scorer
(`conversation_model`) was trained on; `featurize` gives the same features as one dense array (for
training).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from outropy_pipelines.domain.conversation_preparation import _CAP_MINUTES, _K, _MSG_FLAGS, Prepared

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
