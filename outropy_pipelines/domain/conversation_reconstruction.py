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

The parts: `conversation_messages` (the messages and the reading of their text),
`conversation_preparation` (per-message facts and lexical overlaps), `conversation_features` (the
pair features), `conversation_model` (the trained scorer); this module links and assigns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from outropy_pipelines.domain.conversation_features import chunk_features
from outropy_pipelines.domain.conversation_messages import TopLevelMessage
from outropy_pipelines.domain.conversation_model import load_model
from outropy_pipelines.domain.conversation_preparation import NameIndex, prepare

# Longest silence a top-level reply may follow its antecedent by (see ConversationReconstructor.link).
DEFAULT_MAX_GAP_SECONDS = 3600.0


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
